/*
 * The auth process (authsvc.h): the in-process service (authsvc_local.c)
 * behind typed frames (authsvc_int.h) on one socket.
 *
 * Threads: one reader (the caller of oc_authsvc_serve) and
 * OC_AUTHSVC_WORKERS workers. An uncached password check costs a yescrypt
 * computation (~80 ms); one thread would queue every login, Kerberos ones
 * included, behind it, so the reader hands PASSWORD and NEGOTIATE requests
 * to the workers through a bounded queue (OC_AUTHSVC_QUEUE_MAX; the reader
 * stops reading while it is full) and answers go back under their tags, in
 * any order, one writer at a time. INFO and ABORT are answered by the reader
 * itself, in order. Every field is size-checked; a request that does not
 * decode is answered with an error status and serving goes on. Request
 * buffers are wiped when freed (passwords); nothing secret is logged.
 */
#include "auth/authsvc_int.h"
#include "auth/gss.h"
#include "common/limits.h"
#include "common/log.h"
#include "ipc/frame.h"
#include "ipc/ipc_identity.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct item {
	uint32_t type;
	uint32_t tag;
	struct ocbuf req;
};

struct server {
	int fd;
	struct oc_authsvc *svc;
	pthread_mutex_t wmu;            /* one writer at a time */
	pthread_mutex_t mu;             /* queue, stop */
	pthread_cond_t work;            /* an item was queued, or stop */
	pthread_cond_t space;           /* an item was taken */
	struct item q[OC_AUTHSVC_QUEUE_MAX];
	size_t head, n;
	int stop;
};

static void
answer(struct server *sv, uint32_t tag, int status, const struct ocbuf *body)
{
	struct ocbuf b;
	int r;

	ocbuf_init(&b, OC_IPC_FRAME_MAX);
	if (ocbuf_put_u32(&b, (uint32_t)(int32_t)status) != OC_OK ||
	    (status == OC_OK && body != NULL &&
	    ocbuf_put(&b, ocbuf_ptr(body), ocbuf_avail(body)) != OC_OK)) {
		ocbuf_reset(&b);
		if (ocbuf_put_u32(&b, (uint32_t)(int32_t)OC_ERR_INTERNAL) != OC_OK)
			goto out;
	}
	pthread_mutex_lock(&sv->wmu);
	r = oc_frame_send_tagged(sv->fd, OC_AUTHSVC_MSG_RESULT, tag, &b);
	pthread_mutex_unlock(&sv->wmu);
	if (r != OC_OK)
		error_fr(r, "answer not sent");
out:
	ocbuf_free(&b);
}

static void
do_password(struct server *sv, uint32_t tag, struct ocbuf *req)
{
	struct oc_identity id = { 0 };
	struct ocbuf body;
	char *login = NULL, *password = NULL;
	int r;

	ocbuf_init(&body, OC_IPC_FRAME_MAX);
	if (ocbuf_get_cstring(req, &login, OC_USERNAME_MAX) != OC_OK ||
	    ocbuf_get_cstring(req, &password, OC_PASSWORD_MAX) != OC_OK ||
	    ocbuf_avail(req) != 0) {
		log_error("malformed password request");
		r = OC_ERR_PARSE;
		goto out;
	}
	if ((r = oc_authsvc_password(sv->svc, login, password, &id)) != OC_OK)
		goto out;
	r = oc_ipc_identity_put(&body, &id);
out:
	oc_free_secret(password);
	free(login);
	answer(sv, tag, r, &body);
	oc_identity_clear(&id);
	ocbuf_free(&body);
}

static void
do_negotiate(struct server *sv, uint32_t tag, struct ocbuf *req)
{
	struct oc_identity id = { 0 };
	struct ocbuf body;
	const uint8_t *tok = NULL, *cb = NULL;
	size_t len = 0, cb_len = 0, out_len = 0;
	uint8_t *out = NULL;
	uint64_t ctx = 0;
	int r, complete = 0;

	ocbuf_init(&body, OC_IPC_FRAME_MAX);
	if (ocbuf_get_u64(req, &ctx) != OC_OK ||
	    ocbuf_get_string_direct(req, &tok, &len, OC_GSS_TOKEN_MAX) != OC_OK ||
	    ocbuf_get_string_direct(req, &cb, &cb_len, OC_GSS_CB_MAX) != OC_OK ||
	    ocbuf_avail(req) != 0) {
		log_error("malformed negotiate request");
		r = OC_ERR_PARSE;
		goto out;
	}
	r = oc_authsvc_negotiate(sv->svc, &ctx, tok, len, cb_len ? cb : NULL, cb_len,
	    &out, &out_len, &id, &complete);
	if (r != OC_OK)
		goto out;
	if ((r = ocbuf_put_u64(&body, ctx)) != OC_OK ||
	    (r = ocbuf_put_string(&body, out, out_len)) != OC_OK ||
	    (r = ocbuf_put_u32(&body, complete ? 1 : 0)) != OC_OK ||
	    (complete && (r = oc_ipc_identity_put(&body, &id)) != OC_OK)) {
		if (ctx != 0)
			oc_authsvc_negotiate_abort(sv->svc, ctx);
		goto out;
	}
out:
	answer(sv, tag, r, &body);
	free(out);
	oc_identity_clear(&id);
	ocbuf_free(&body);
}

static int
get_names(struct ocbuf *req, struct oc_strlist *l)
{
	uint32_t n = 0;
	char *s = NULL;
	int r;

	if ((r = ocbuf_get_u32(req, &n)) != OC_OK)
		return r;
	if (n > OC_SAN_MAX_ENTRIES)
		return OC_ERR_LIMIT;
	for (uint32_t i = 0; i < n; i++) {
		if ((r = ocbuf_get_cstring(req, &s, OC_NAME_MAX)) != OC_OK)
			return r;
		r = oc_strlist_add(l, s);
		free(s);
		if (r != OC_OK)
			return r;
	}
	return OC_OK;
}

static void
do_certmap(struct server *sv, uint32_t tag, struct ocbuf *req)
{
	struct oc_identity id = { 0 };
	struct oc_strlist upn = { 0 }, dns = { 0 };
	struct ocbuf body;
	char *sid = NULL;
	int r;

	ocbuf_init(&body, OC_IPC_FRAME_MAX);
	if (ocbuf_get_cstring(req, &sid, OC_NAME_MAX) != OC_OK || get_names(req, &upn) != OC_OK ||
	    get_names(req, &dns) != OC_OK || ocbuf_avail(req) != 0) {
		log_error("malformed certificate mapping request");
		r = OC_ERR_PARSE;
		goto out;
	}
	if ((r = oc_authsvc_cert_map(sv->svc, *sid ? sid : NULL, &upn, &dns, &id)) != OC_OK)
		goto out;
	r = oc_ipc_identity_put(&body, &id);
out:
	answer(sv, tag, r, &body);
	oc_identity_clear(&id);
	oc_strlist_free(&upn);
	oc_strlist_free(&dns);
	free(sid);
	ocbuf_free(&body);
}

static void *
worker(void *arg)
{
	struct server *sv = arg;

	for (;;) {
		struct item it;

		pthread_mutex_lock(&sv->mu);
		while (sv->n == 0 && !sv->stop)
			pthread_cond_wait(&sv->work, &sv->mu);
		if (sv->n == 0) {
			pthread_mutex_unlock(&sv->mu);
			break;
		}
		it = sv->q[sv->head];
		sv->head = (sv->head + 1) % OC_AUTHSVC_QUEUE_MAX;
		sv->n--;
		pthread_cond_signal(&sv->space);
		pthread_mutex_unlock(&sv->mu);

		if (it.type == OC_AUTHSVC_MSG_PASSWORD)
			do_password(sv, it.tag, &it.req);
		else if (it.type == OC_AUTHSVC_MSG_CERTMAP)
			do_certmap(sv, it.tag, &it.req);
		else
			do_negotiate(sv, it.tag, &it.req);
		ocbuf_free(&it.req);
	}
	return NULL;
}

/* The reader's own requests, answered in order. */
static void
do_inline(struct server *sv, uint32_t type, uint32_t tag, struct ocbuf *req)
{
	struct ocbuf body;
	uint64_t ctx = 0;

	ocbuf_init(&body, 64);
	switch (type) {
	case OC_AUTHSVC_MSG_INFO:
		if (ocbuf_avail(req) != 0) {
			log_error("malformed info request");
			answer(sv, tag, OC_ERR_PARSE, NULL);
			break;
		}
		if (ocbuf_put_u32(&body, (oc_authsvc_has_kerberos(sv->svc) ?
		    OC_AUTHSVC_F_KERBEROS : 0) | (oc_authsvc_has_directory(sv->svc) ?
		    OC_AUTHSVC_F_DIRECTORY : 0)) != OC_OK)
			answer(sv, tag, OC_ERR_NOMEM, NULL);
		else
			answer(sv, tag, OC_OK, &body);
		break;
	case OC_AUTHSVC_MSG_ABORT:
		if (ocbuf_get_u64(req, &ctx) != OC_OK || ocbuf_avail(req) != 0)
			log_error("malformed abort request");
		else
			oc_authsvc_negotiate_abort(sv->svc, ctx);
		break;
	default:
		log_error("unknown request type %u", type);
		answer(sv, tag, OC_ERR_INVALID, NULL);
		break;
	}
	ocbuf_free(&body);
}

int
oc_authsvc_serve(const struct oc_authsvc_config *cfg, int fd)
{
	return oc_authsvc_serve_ldap(cfg, NULL, fd);
}

int
oc_authsvc_serve_ldap(const struct oc_authsvc_config *cfg, const struct oc_ldap_config *ldap,
    int fd)
{
	struct server *sv = NULL;
	pthread_t th[OC_AUTHSVC_WORKERS];
	size_t nth = 0;
	int r, locks = 0;

	if ((sv = calloc(1, sizeof(*sv))) == NULL)
		return OC_ERR_NOMEM;
	sv->fd = fd;
	if ((r = oc_authsvc_local_new_ldap(cfg, ldap, &sv->svc)) != OC_OK)
		goto out;
	if (pthread_mutex_init(&sv->wmu, NULL) != 0 || (locks++, 0) ||
	    pthread_mutex_init(&sv->mu, NULL) != 0 || (locks++, 0) ||
	    pthread_cond_init(&sv->work, NULL) != 0 || (locks++, 0) ||
	    pthread_cond_init(&sv->space, NULL) != 0 || (locks++, 0)) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	for (; nth < OC_AUTHSVC_WORKERS; nth++)
		if (pthread_create(&th[nth], NULL, worker, sv) != 0) {
			r = OC_ERR_NOMEM;
			goto out;
		}
	log_info("auth process: serving (%d workers, Kerberos %s, accounts from %s)",
	    OC_AUTHSVC_WORKERS, oc_authsvc_has_kerberos(sv->svc) ? "on" : "off",
	    oc_authsvc_has_directory(sv->svc) ? "the directory over LDAP" : "the embedded directory");
	for (;;) {
		struct item it = { 0 };

		ocbuf_init(&it.req, OC_IPC_FRAME_MAX);
		it.req.wipe = 1;
		r = oc_frame_recv_tagged(fd, &it.type, &it.tag, &it.req);
		if (r != OC_OK) {
			ocbuf_free(&it.req);
			if (r == OC_ERR_EOF)
				r = OC_OK;      /* the front end closed: done */
			else
				error_fr(r, "auth channel");
			break;
		}
		if (it.type != OC_AUTHSVC_MSG_PASSWORD && it.type != OC_AUTHSVC_MSG_NEGOTIATE &&
		    it.type != OC_AUTHSVC_MSG_CERTMAP) {
			do_inline(sv, it.type, it.tag, &it.req);
			ocbuf_free(&it.req);
			continue;
		}
		pthread_mutex_lock(&sv->mu);
		while (sv->n == OC_AUTHSVC_QUEUE_MAX)
			pthread_cond_wait(&sv->space, &sv->mu);
		sv->q[(sv->head + sv->n) % OC_AUTHSVC_QUEUE_MAX] = it;
		sv->n++;
		pthread_cond_signal(&sv->work);
		pthread_mutex_unlock(&sv->mu);
	}
out:
	if (locks == 4) {
		pthread_mutex_lock(&sv->mu);
		sv->stop = 1;
		pthread_cond_broadcast(&sv->work);
		pthread_mutex_unlock(&sv->mu);
	}
	for (size_t i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	/* the workers drained the queue before stopping */
	if (locks > 3)
		pthread_cond_destroy(&sv->space);
	if (locks > 2)
		pthread_cond_destroy(&sv->work);
	if (locks > 1)
		pthread_mutex_destroy(&sv->mu);
	if (locks > 0)
		pthread_mutex_destroy(&sv->wmu);
	oc_authsvc_free(sv->svc);
	free(sv);
	return r;
}
