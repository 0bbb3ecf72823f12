#include "ipc/ca_proto.h"
#include "ipc/ipc_identity.h"
#include "ipc/frame.h"
#include "common/limits.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

void
oc_ca_order_clear(struct oc_ca_order *o)
{
	if (o == NULL)
		return;
	oc_identity_clear(&o->requester);
	free(o->template_hint);
	free(o->request_attributes);
	free(o->request);
	memset(o, 0, sizeof(*o));
}

void
oc_ca_result_clear(struct oc_ca_result *r)
{
	if (r == NULL)
		return;
	free(r->message);
	free(r->cert);
	free(r->cmc);
	memset(r, 0, sizeof(*r));
}


/* empty string on the wire => NULL */
static int
get_opt_cstring(struct ocbuf *b, char **s, size_t max)
{
	int r;

	if ((r = ocbuf_get_cstring(b, s, max)) != OC_OK)
		return r;
	if (**s == '\0') {
		free(*s);
		*s = NULL;
	}
	return OC_OK;
}


int
oc_ca_order_encode(const struct oc_ca_order *o, struct ocbuf *b)
{
	int r;

	if ((r = oc_ipc_identity_put(b, &o->requester)) ||
	    (r = ocbuf_put_cstring(b, o->template_hint)) ||
	    (r = ocbuf_put_cstring(b, o->request_attributes)) ||
	    (r = ocbuf_put_string(b, o->request, o->request ? o->request_len : 0)) ||
	    (r = ocbuf_put_u32(b, o->flags)) ||
	    (r = ocbuf_put_u32(b, o->request_id)))
		return r;
	return OC_OK;
}

int
oc_ca_order_decode(struct ocbuf *b, struct oc_ca_order *o)
{
	int r;

	memset(o, 0, sizeof(*o));
	if ((r = oc_ipc_identity_get(b, &o->requester)) ||
	    (r = get_opt_cstring(b, &o->template_hint, OC_TEMPLATE_NAME_MAX)) ||
	    (r = get_opt_cstring(b, &o->request_attributes, 8192)) ||
	    (r = ocbuf_get_blob(b, &o->request, &o->request_len, OC_REQUEST_DER_MAX)) ||
	    (r = ocbuf_get_u32(b, &o->flags)) ||
	    (r = ocbuf_get_u32(b, &o->request_id)))
		goto fail;
	if (ocbuf_avail(b) != 0) {
		r = OC_ERR_PARSE;
		goto fail;
	}
	return OC_OK;
fail:
	oc_ca_order_clear(o);
	return r;
}

int
oc_ca_result_encode(const struct oc_ca_result *res, struct ocbuf *b)
{
	int r;

	if ((r = ocbuf_put_u32(b, res->disposition)) ||
	    (r = ocbuf_put_u32(b, res->hresult)) ||
	    (r = ocbuf_put_u32(b, res->request_id)) ||
	    (r = ocbuf_put_cstring(b, res->message)) ||
	    (r = ocbuf_put_string(b, res->cert, res->cert ? res->cert_len : 0)) ||
	    (r = ocbuf_put_string(b, res->cmc, res->cmc ? res->cmc_len : 0)))
		return r;
	return OC_OK;
}

int
oc_ca_result_decode(struct ocbuf *b, struct oc_ca_result *res)
{
	int r;

	memset(res, 0, sizeof(*res));
	if ((r = ocbuf_get_u32(b, &res->disposition)) ||
	    (r = ocbuf_get_u32(b, &res->hresult)) ||
	    (r = ocbuf_get_u32(b, &res->request_id)) ||
	    (r = ocbuf_get_cstring(b, &res->message, OC_DISPOSITION_MAX)) ||
	    (r = ocbuf_get_blob(b, &res->cert, &res->cert_len, OC_CERT_DER_MAX)) ||
	    (r = ocbuf_get_blob(b, &res->cmc, &res->cmc_len, OC_CMC_DER_MAX)))
		goto fail;
	if (res->cert_len == 0) {
		free(res->cert);
		res->cert = NULL;
	}
	if (res->cmc_len == 0) {
		free(res->cmc);
		res->cmc = NULL;
	}
	if (ocbuf_avail(b) != 0) {
		r = OC_ERR_PARSE;
		goto fail;
	}
	return OC_OK;
fail:
	oc_ca_result_clear(res);
	return r;
}

int
oc_ca_status_query_encode(const char *serial_hex, struct ocbuf *b)
{
	if (serial_hex == NULL || *serial_hex == '\0' || strlen(serial_hex) > OC_SERIAL_HEX_MAX)
		return OC_ERR_INVALID;
	return ocbuf_put_cstring(b, serial_hex);
}

int
oc_ca_status_query_decode(struct ocbuf *b, char **serial_hex)
{
	char *s = NULL;
	int r;

	*serial_hex = NULL;
	if ((r = ocbuf_get_cstring(b, &s, OC_SERIAL_HEX_MAX)) != OC_OK)
		return r;
	r = *s == '\0' || ocbuf_avail(b) != 0 ? OC_ERR_PARSE : OC_OK;
	for (const char *p = s; r == OC_OK && *p; p++)
		if (!isxdigit((unsigned char)*p))
			r = OC_ERR_PARSE;
	if (r != OC_OK) {
		free(s);
		return r;
	}
	*serial_hex = s;
	return OC_OK;
}

int
oc_ca_cert_status_encode(const struct oc_ca_cert_status *st, struct ocbuf *b)
{
	int r;

	if ((r = ocbuf_put_u32(b, st->status)) ||
	    (r = ocbuf_put_u32(b, st->reason)) ||
	    (r = ocbuf_put_u64(b, (uint64_t)st->revoked_at)))
		return r;
	return OC_OK;
}

int
oc_ca_cert_status_decode(struct ocbuf *b, struct oc_ca_cert_status *st)
{
	uint64_t at = 0;
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = ocbuf_get_u32(b, &st->status)) ||
	    (r = ocbuf_get_u32(b, &st->reason)) ||
	    (r = ocbuf_get_u64(b, &at)))
		goto fail;
	st->revoked_at = (int64_t)at;
	if (ocbuf_avail(b) != 0 || st->status < OC_CERT_STATUS_GOOD ||
	    st->status > OC_CERT_STATUS_ERROR || st->reason > 10 || st->revoked_at < 0 ||
	    (st->status != OC_CERT_STATUS_REVOKED && (st->reason != 0 || st->revoked_at != 0))) {
		r = OC_ERR_PARSE;
		goto fail;
	}
	return OC_OK;
fail:
	memset(st, 0, sizeof(*st));
	return r;
}

int
oc_ca_call(int fd, uint32_t type, const struct oc_ca_order *o, struct oc_ca_result *res)
{
	struct ocbuf b;
	uint32_t rtype;
	int r;

	memset(res, 0, sizeof(*res));
	ocbuf_init(&b, OC_IPC_FRAME_MAX);
	if (o != NULL && (r = oc_ca_order_encode(o, &b)) != OC_OK)
		goto out;
	if ((r = oc_frame_send(fd, type, &b)) != OC_OK)
		goto out;
	if ((r = oc_frame_recv(fd, &rtype, &b)) != OC_OK)
		goto out;
	if (rtype != OC_CA_MSG_RESULT) {
		r = OC_ERR_IPC;
		goto out;
	}
	r = oc_ca_result_decode(&b, res);
out:
	ocbuf_free(&b);
	return r;
}
