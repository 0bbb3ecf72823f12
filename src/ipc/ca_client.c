/*
 * Pipelined calls on one CA socket (ca_client.h): CA orders and results
 * over the shared pipelined channel (chan.h).
 */
#include "ipc/ca_client.h"
#include "ipc/chan.h"
#include "common/limits.h"

#include <stdlib.h>
#include <string.h>

struct oc_ca_client {
	struct oc_ipc_chan *chan;
};

int
oc_ca_client_new(int fd, struct oc_ca_client **cp)
{
	struct oc_ca_client *c;
	int r;

	*cp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OC_ERR_NOMEM;
	if ((r = oc_ipc_chan_new(fd, "CA", &c->chan)) != OC_OK) {
		free(c);
		return r;
	}
	*cp = c;
	return OC_OK;
}

void
oc_ca_client_free(struct oc_ca_client *c)
{
	if (c == NULL)
		return;
	oc_ipc_chan_free(c->chan);
	free(c);
}

int
oc_ca_client_call(struct oc_ca_client *c, uint32_t type, const struct oc_ca_order *o,
    struct oc_ca_result *res)
{
	struct ocbuf b, ans;
	uint32_t atype = 0;
	int r;

	memset(res, 0, sizeof(*res));
	ocbuf_init(&b, OC_IPC_FRAME_MAX);
	ocbuf_init(&ans, OC_IPC_FRAME_MAX);
	if (c == NULL || (o == NULL && type != OC_CA_MSG_PING)) {
		r = OC_ERR_INVALID;
		goto out;
	}
	if (o != NULL && (r = oc_ca_order_encode(o, &b)) != OC_OK)
		goto out;
	if ((r = oc_ipc_chan_call(c->chan, type, &b, &atype, &ans)) != OC_OK)
		goto out;
	r = atype == OC_CA_MSG_RESULT ? oc_ca_result_decode(&ans, res) : OC_ERR_IPC;
out:
	ocbuf_free(&b);
	ocbuf_free(&ans);
	if (r != OC_OK)
		oc_ca_result_clear(res);
	return r;
}

int
oc_ca_client_cert_status(struct oc_ca_client *c, const char *serial_hex,
    struct oc_ca_cert_status *st)
{
	struct ocbuf b, ans;
	uint32_t atype = 0;
	int r;

	memset(st, 0, sizeof(*st));
	ocbuf_init(&b, OC_IPC_FRAME_MAX);
	ocbuf_init(&ans, 4096);
	if (c == NULL) {
		r = OC_ERR_INVALID;
		goto out;
	}
	if ((r = oc_ca_status_query_encode(serial_hex, &b)) != OC_OK ||
	    (r = oc_ipc_chan_call(c->chan, OC_CA_MSG_CERT_STATUS, &b, &atype, &ans)) != OC_OK)
		goto out;
	/* an answer of another type (a CA without this message) fails this call only */
	r = atype == OC_CA_MSG_STATUS_RESULT ? oc_ca_cert_status_decode(&ans, st) : OC_ERR_IPC;
out:
	ocbuf_free(&b);
	ocbuf_free(&ans);
	if (r != OC_OK)
		memset(st, 0, sizeof(*st));
	return r;
}
