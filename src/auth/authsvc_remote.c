/*
 * Client of the auth process (authsvc.h): each call is one request frame on
 * the pipelined channel (src/ipc/chan.h), so every front-end thread may have
 * a call outstanding at once. Frames: authsvc_int.h. The password travels
 * in a buffer wiped when freed; it is never logged. Inputs that cannot be
 * sent get, without a round trip, the answer the auth process would give.
 */
#include "auth/authsvc_int.h"
#include "auth/gss.h"
#include "common/limits.h"
#include "common/log.h"
#include "ipc/chan.h"
#include "ipc/ipc_identity.h"

#include <stdlib.h>
#include <string.h>

/* Largest answer: status, ctx, a token, complete, an identity. */
#define ANSWER_MAX OC_IPC_FRAME_MAX

struct oc_authsvc_remote {
	struct oc_authsvc base;
	struct oc_ipc_chan *chan;
	int kerberos;
	int directory;
};

static struct oc_authsvc_remote *
R(struct oc_authsvc *s)
{
	return (struct oc_authsvc_remote *)s;
}

/*
 * One round trip; on OC_OK ans holds what follows the status. The auth
 * process's status is returned as is when it is one of ours.
 */
static int
call(struct oc_authsvc_remote *rs, uint32_t type, const struct ocbuf *req,
    struct ocbuf *ans)
{
	uint32_t atype = 0, st = 0;
	int r;

	if ((r = oc_ipc_chan_call(rs->chan, type, req, &atype, ans)) != OC_OK)
		return r == OC_ERR_NOMEM ? r : OC_ERR_IPC;
	if (atype != OC_AUTHSVC_MSG_RESULT || ocbuf_get_u32(ans, &st) != OC_OK) {
		log_error("auth process: unexpected answer (type %u)", atype);
		return OC_ERR_IPC;
	}
	r = (int)(int32_t)st;
	if (r != OC_OK && (r <= OC_ERR__FIRST || r >= OC_ERR__LAST)) {
		log_error("auth process: unknown status %d", r);
		return OC_ERR_IPC;
	}
	return r;
}

/* call() for a request answered by exactly one identity (password, certificate mapping). */
static int
call_identity(struct oc_authsvc_remote *rs, uint32_t type, const struct ocbuf *req,
    const char *what, struct oc_identity *id)
{
	struct ocbuf ans;
	int r;

	ocbuf_init(&ans, ANSWER_MAX);
	if ((r = call(rs, type, req, &ans)) == OC_OK &&
	    ((r = oc_ipc_identity_get(&ans, id)) != OC_OK || ocbuf_avail(&ans) != 0)) {
		log_error("auth process: malformed %s answer", what);
		r = OC_ERR_IPC;
	}
	ocbuf_free(&ans);
	if (r != OC_OK)
		oc_identity_clear(id);
	return r;
}

static void
remote_free(struct oc_authsvc *s)
{
	struct oc_authsvc_remote *rs = R(s);

	oc_ipc_chan_free(rs->chan);
	free(rs);
}

static int
remote_has_kerberos(struct oc_authsvc *s)
{
	return R(s)->kerberos;
}

static int
remote_has_directory(struct oc_authsvc *s)
{
	return R(s)->directory;
}

static int
put_names(struct ocbuf *b, const struct oc_strlist *l)
{
	size_t n = l != NULL ? l->n : 0;
	int r;

	if (n > OC_SAN_MAX_ENTRIES)
		n = OC_SAN_MAX_ENTRIES;         /* certauth reads no more */
	if ((r = ocbuf_put_u32(b, (uint32_t)n)) != OC_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = ocbuf_put_cstring(b, l->v[i])) != OC_OK)
			return r;
	return OC_OK;
}

static int
remote_cert_map(struct oc_authsvc *s, const char *sid, const struct oc_strlist *upn,
    const struct oc_strlist *dns, struct oc_identity *id)
{
	struct ocbuf req;
	int r;

	ocbuf_init(&req, OC_IPC_FRAME_MAX);
	if ((r = ocbuf_put_cstring(&req, sid != NULL ? sid : "")) != OC_OK ||
	    (r = put_names(&req, upn)) != OC_OK || (r = put_names(&req, dns)) != OC_OK)
		oc_identity_clear(id);
	else
		r = call_identity(R(s), OC_AUTHSVC_MSG_CERTMAP, &req, "certificate mapping", id);
	ocbuf_free(&req);
	return r;
}

static int
remote_password(struct oc_authsvc *s, const char *login, const char *password,
    struct oc_identity *id)
{
	struct ocbuf req;
	size_t llen, plen;
	int r;

	ocbuf_init(&req, 2 * 4 + OC_USERNAME_MAX + OC_PASSWORD_MAX);
	req.wipe = 1;
	llen = strnlen(login, OC_USERNAME_MAX + 1);
	plen = strnlen(password, OC_PASSWORD_MAX + 1);
	if (llen == 0 || llen > OC_USERNAME_MAX || plen == 0 || plen > OC_PASSWORD_MAX) {
		r = OC_ERR_AUTH;
		goto out;
	}
	if ((r = ocbuf_put_cstring(&req, login)) != OC_OK ||
	    (r = ocbuf_put_cstring(&req, password)) != OC_OK)
		goto out;
	r = call_identity(R(s), OC_AUTHSVC_MSG_PASSWORD, &req, "password", id);
out:
	ocbuf_free(&req);
	if (r != OC_OK)
		oc_identity_clear(id);
	return r;
}

static void
remote_abort(struct oc_authsvc *s, uint64_t ctx)
{
	struct ocbuf req;

	ocbuf_init(&req, 8);
	/* no answer: a lost abort only lets the exchange expire on its own */
	if (ocbuf_put_u64(&req, ctx) == OC_OK &&
	    oc_ipc_chan_send(R(s)->chan, OC_AUTHSVC_MSG_ABORT, &req) != OC_OK)
		log_info("auth process: abort not sent");
	ocbuf_free(&req);
}

static int
remote_negotiate(struct oc_authsvc *s, uint64_t *ctx, const uint8_t *token,
    size_t len, const uint8_t *cb, size_t cb_len, uint8_t **out, size_t *out_len,
    struct oc_identity *id, int *complete)
{
	struct oc_authsvc_remote *rs = R(s);
	struct ocbuf req, ans;
	uint64_t h = *ctx, nh = 0;
	uint32_t done = 0;
	int r;

	*ctx = 0;
	ocbuf_init(&req, 8 + 4 + OC_GSS_TOKEN_MAX + 4 + OC_GSS_CB_MAX);
	ocbuf_init(&ans, ANSWER_MAX);
	if (!rs->kerberos) {
		r = OC_ERR_NOT_SUPPORTED;
		goto out;
	}
	if (len == 0 || len > OC_GSS_TOKEN_MAX || cb_len > OC_GSS_CB_MAX) {
		if (h != 0)
			remote_abort(s, h);
		r = OC_ERR_AUTH;
		goto out;
	}
	if ((r = ocbuf_put_u64(&req, h)) != OC_OK ||
	    (r = ocbuf_put_string(&req, token, len)) != OC_OK ||
	    (r = ocbuf_put_string(&req, cb, cb_len)) != OC_OK)
		goto out;
	if ((r = call(rs, OC_AUTHSVC_MSG_NEGOTIATE, &req, &ans)) != OC_OK)
		goto out;
	if (ocbuf_get_u64(&ans, &nh) != OC_OK ||
	    ocbuf_get_blob(&ans, out, out_len, OC_GSS_TOKEN_MAX) != OC_OK ||
	    ocbuf_get_u32(&ans, &done) != OC_OK || done > 1 ||
	    (done && nh != 0) || (!done && nh == 0) ||
	    (done && oc_ipc_identity_get(&ans, id) != OC_OK) ||
	    ocbuf_avail(&ans) != 0) {
		log_error("auth process: malformed negotiate answer");
		r = OC_ERR_IPC;
		goto out;
	}
	*ctx = nh;
	*complete = (int)done;
out:
	ocbuf_free(&req);
	ocbuf_free(&ans);
	if (r != OC_OK) {
		free(*out);
		*out = NULL;
		*out_len = 0;
		*complete = 0;
		*ctx = 0;
		oc_identity_clear(id);
	}
	return r;
}

static const struct oc_authsvc_ops remote_ops = {
	.free = remote_free,
	.has_kerberos = remote_has_kerberos,
	.password = remote_password,
	.negotiate = remote_negotiate,
	.abort = remote_abort,
	.has_directory = remote_has_directory,
	.cert_map = remote_cert_map,
};

int
oc_authsvc_remote_new(int fd, struct oc_authsvc **sp)
{
	struct oc_authsvc_remote *rs = NULL;
	struct ocbuf ans;
	uint32_t flags = 0;
	int r;

	*sp = NULL;
	ocbuf_init(&ans, ANSWER_MAX);
	if (fd < 0)
		return OC_ERR_INVALID;
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		return OC_ERR_NOMEM;
	rs->base.ops = &remote_ops;
	if ((r = oc_ipc_chan_new(fd, "auth", &rs->chan)) != OC_OK)
		goto out;
	/* what the auth process offers: asked once, it does not change */
	if ((r = call(rs, OC_AUTHSVC_MSG_INFO, NULL, &ans)) != OC_OK ||
	    (r = ocbuf_get_u32(&ans, &flags)) != OC_OK) {
		error_fr(r, "auth process");
		r = OC_ERR_IPC;
		goto out;
	}
	rs->kerberos = (flags & OC_AUTHSVC_F_KERBEROS) != 0;
	rs->directory = (flags & OC_AUTHSVC_F_DIRECTORY) != 0;
	*sp = &rs->base;
	rs = NULL;
out:
	ocbuf_free(&ans);
	if (rs != NULL)
		remote_free(&rs->base);
	return r;
}
