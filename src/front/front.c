#include "front/front_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/limits.h"
#include "common/log.h"

static void
endpoint_clear(struct oc_endpoint *ep)
{
	free(ep->path);
	free(ep->uri);
}

static int
authsvc_new(struct oc_front *f)
{
	struct oc_authsvc_config ac;
	int r;

	if (f->cfg.use_auth_process)
		r = oc_authsvc_remote_new(f->cfg.auth_fd, &f->authsvc);
	else {
		memset(&ac, 0, sizeof(ac));
		ac.dir_path = f->dir_path;
		ac.keytab = f->keytab;
		ac.spn = f->spn;
		ac.channel_binding = f->cfg.channel_binding;
		r = oc_authsvc_local_new(&ac, &f->authsvc);
	}
	if (r != OC_OK)
		error_fr(r, "authentication service");
	return r;
}

int
oc_front_new(const struct oc_front_config *cfg, struct oc_front **fp)
{
	struct oc_front *f = NULL;
	int r = OC_ERR_NOMEM;

	*fp = NULL;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return OC_ERR_NOMEM;
	pthread_mutex_init(&f->snap_mu, NULL);
	f->cfg = *cfg;
	if ((f->dir_path = oc_strdup(cfg->dir_path)) == NULL ||
	    (f->ca_name = oc_strdup(cfg->ca_name)) == NULL ||
	    (f->policy_id = oc_strdup(cfg->policy_id)) == NULL ||
	    (cfg->policy_friendly_name &&
	    (f->friendly_name = oc_strdup(cfg->policy_friendly_name)) == NULL))
		goto fail;
	f->cfg.dir_path = f->dir_path;
	f->cfg.ca_name = f->ca_name;
	f->cfg.policy_id = f->policy_id;
	f->cfg.policy_friendly_name = f->friendly_name;
	if (cfg->nendpoints) {
		if ((f->endpoints = calloc(cfg->nendpoints, sizeof(*f->endpoints))) == NULL)
			goto fail;
		for (size_t i = 0; i < cfg->nendpoints; i++) {
			f->endpoints[i] = cfg->endpoints[i];
			f->endpoints[i].path = oc_strdup(cfg->endpoints[i].path);
			f->endpoints[i].uri = oc_strdup(cfg->endpoints[i].uri);
			if (f->endpoints[i].path == NULL ||
			    (cfg->endpoints[i].uri && f->endpoints[i].uri == NULL))
				goto fail;
		}
	}
	f->cfg.endpoints = f->endpoints;
	if ((cfg->keytab && (f->keytab = oc_strdup(cfg->keytab)) == NULL) ||
	    (cfg->spn && (f->spn = oc_strdup(cfg->spn)) == NULL) ||
	    (cfg->kerberos_realm && (f->kerberos_realm = oc_strdup(cfg->kerberos_realm)) == NULL) ||
	    (cfg->client_ca_file && (f->client_ca_file = oc_strdup(cfg->client_ca_file)) == NULL) ||
	    (cfg->ca_cert_file && (f->ca_cert_file = oc_strdup(cfg->ca_cert_file)) == NULL))
		goto fail;
	f->cfg.keytab = f->keytab;
	f->cfg.spn = f->spn;
	f->cfg.kerberos_realm = f->kerberos_realm;
	f->cfg.client_ca_file = f->client_ca_file;
	f->cfg.ca_cert_file = f->ca_cert_file;
	if ((r = authsvc_new(f)) != OC_OK || (r = oc_front_neg_new(&f->neg)) != OC_OK ||
	    (r = oc_ca_client_new(cfg->ca_fd, &f->ca)) != OC_OK ||
	    (r = oc_front_auth_cert_init(f)) != OC_OK)
		goto fail;
	*fp = f;
	return OC_OK;
fail:
	oc_front_free(f);
	return r;
}

void
oc_front_free(struct oc_front *f)
{
	if (f == NULL)
		return;
	if (f->endpoints)
		for (size_t i = 0; i < f->cfg.nendpoints; i++)
			endpoint_clear(&f->endpoints[i]);
	free(f->endpoints);
	if (f->snap) {
		f->snap->refs = 1;
		oc_front_snapshot_put(f, f->snap);
	}
	oc_front_neg_free(f->neg, f->authsvc);
	oc_authsvc_free(f->authsvc);
	oc_front_auth_cert_fini(f);
	free(f->keytab);
	free(f->spn);
	free(f->kerberos_realm);
	free(f->client_ca_file);
	free(f->ca_cert_file);
	free(f->dir_path);
	free(f->ca_name);
	free(f->policy_id);
	free(f->friendly_name);
	oc_ca_client_free(f->ca);
	pthread_mutex_destroy(&f->snap_mu);
	free(f);
}

void *
oc_front_thread_init(void *ctx)
{
	struct oc_front *f = ctx;
	struct oc_front_thread *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (oc_dir_open_ro(f->dir_path, &t->dir) != OC_OK) {
		log_error("cannot open directory %s", f->dir_path);
		t->dir = NULL;
	}
	return t;
}

void
oc_front_thread_fini(void *ctx, void *thread_ctx)
{
	struct oc_front_thread *t = thread_ctx;

	if (t == NULL)
		return;
	oc_dir_close(t->dir);
	free(t);
}

/* Compare request path with an endpoint path: case-insensitive, optional trailing '/'. */
static int
path_matches(const char *req, const char *ep)
{
	size_t rl = strlen(req), el = strlen(ep);

	if (rl == el + 1 && req[el] == '/')
		rl = el;
	return rl == el && strncasecmp(req, ep, el) == 0;
}

static const struct oc_endpoint *
find_endpoint(struct oc_front *f, const char *path)
{
	for (size_t i = 0; i < f->cfg.nendpoints; i++)
		if (path_matches(path, f->endpoints[i].path))
			return &f->endpoints[i];
	return NULL;
}

/* application/soap+xml with optional parameters, any case. */
static int
content_type_ok(const char *ct)
{
	const char *want = "application/soap+xml";
	size_t n = strlen(want);

	if (ct == NULL)
		return 0;
	while (*ct == ' ')
		ct++;
	return strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int
authenticate(struct oc_front *f, struct oc_front_thread *t, const struct oc_endpoint *ep,
    const struct oc_soap_msg *msg, const struct oc_http_request *req, struct oc_identity *id)
{
	int r;

	switch (ep->auth) {
	case OC_AUTH_PASSWORD:
		if (!msg->has_username_token || msg->username == NULL || msg->password == NULL)
			return OC_ERR_AUTH_MISSING;
		if (msg->password_digest)
			return OC_ERR_AUTH;
		r = oc_authsvc_password(f->authsvc, msg->username, msg->password, id);
		oc_audit("auth", "method", "password", "login", msg->username,
		    "peer", req->peer ? req->peer : "", "result", r == OC_OK ? "ok" : "fail",
		    (char *)NULL);
		return r;
	case OC_AUTH_CERTIFICATE:
		return oc_front_auth_certificate(f, t, req, id);
	default:
		return OC_ERR_AUTH;
	}
}

static int
add_negotiate_header(struct oc_http_response *resp, const char *b64)
{
	char *v;
	int r;

	if ((v = malloc(strlen(b64) + sizeof("Negotiate "))) == NULL)
		return OC_ERR_NOMEM;
	strcpy(v, "Negotiate ");
	strcat(v, b64);
	r = oc_http_response_add_header(resp, "WWW-Authenticate", v);
	free(v);
	return r;
}

/* Count one answered request of an endpoint (metrics). */
static void
count_request(struct oc_front *f, const struct oc_endpoint *ep,
    const struct oc_http_response *resp, const struct timespec *t0)
{
	struct timespec t1;
	int outcome = oc_front_outcome;
	enum oc_metrics_auth auth;
	int64_t us;

	if (f->cfg.metrics == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
	if (outcome < 0)
		outcome = resp->status == 200 ? OC_METRICS_OK :
		    resp->status == 401 ? OC_METRICS_UNAUTHORIZED :
		    resp->status == 503 ? OC_METRICS_BUSY :
		    resp->status >= 400 && resp->status < 500 ? OC_METRICS_BAD_REQUEST :
		    OC_METRICS_FAULT;
	auth = ep->auth == OC_AUTH_KERBEROS ? OC_METRICS_AUTH_KERBEROS :
	    ep->auth == OC_AUTH_CERTIFICATE ? OC_METRICS_AUTH_CERTIFICATE :
	    OC_METRICS_AUTH_PASSWORD;
	oc_metrics_request(f->cfg.metrics, ep->service == OC_SERVICE_CEP ? OC_METRICS_EP_CEP :
	    OC_METRICS_EP_CES, auth, (enum oc_metrics_outcome)outcome, us > 0 ? (uint64_t)us : 0);
}

static void front_handle(struct oc_front *f, struct oc_front_thread *t,
    const struct oc_http_request *req, struct oc_http_response *resp,
    const struct oc_endpoint *ep);

void
oc_front_handle(void *ctx, void *thread_ctx, const struct oc_http_request *req,
    struct oc_http_response *resp)
{
	struct oc_front *f = ctx;
	const struct oc_endpoint *ep;
	struct timespec t0;

	if (strcmp(req->path, "/health") == 0) {
		oc_front_plain(resp, 200, "ok\n");
		return;
	}
	if ((ep = find_endpoint(f, req->path)) == NULL) {
		oc_front_plain(resp, 404, "not found\n");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	oc_front_outcome = -1;
	front_handle(f, thread_ctx, req, resp, ep);
	count_request(f, ep, resp, &t0);
	oc_front_outcome = -1;
}

void
oc_front_queue_hook(void *ctx, int delta)
{
	struct oc_front *f = ctx;

	oc_metrics_queue_add(f->cfg.metrics, delta);
}

void
oc_front_busy_hook(void *ctx)
{
	struct oc_front *f = ctx;

	oc_metrics_http_busy(f->cfg.metrics);
}

/* One request of endpoint ep. */
static void
front_handle(struct oc_front *f, struct oc_front_thread *t, const struct oc_http_request *req,
    struct oc_http_response *resp, const struct oc_endpoint *ep)
{
	struct oc_soap_msg msg;
	struct oc_identity caller;
	char *mutual = NULL;
	int r;

	memset(&msg, 0, sizeof(msg));
	memset(&caller, 0, sizeof(caller));
	if (strcmp(req->method, "POST") != 0) {
		oc_front_plain(resp, 405, "POST only\n");
		if (oc_http_response_add_header(resp, "Allow", "POST") != OC_OK)
			log_warn("cannot add Allow header");
		return;
	}
	if (t == NULL || t->dir == NULL) {
		oc_front_fault_err(resp, ep->service, NULL, OC_ERR_UNAVAILABLE);
		return;
	}
	/* Kerberos is transport authentication: 401 until a Negotiate leg completes. */
	if (ep->auth == OC_AUTH_KERBEROS &&
	    oc_front_negotiate(f, t, ep, req, resp, &caller, &mutual) != OC_OK)
		goto out;
	if (!content_type_ok(oc_http_request_header(req, "Content-Type"))) {
		oc_front_plain(resp, 415, "Content-Type must be application/soap+xml\n");
		goto out;
	}
	if ((r = oc_soap_parse(req->body, req->body_len, &msg)) != OC_OK) {
		log_info("%s: rejected request from %s: %s", ep->path, req->peer, oc_strerror(r));
		oc_front_fault_err(resp, ep->service, NULL, r);
		goto out;
	}
	if (ep->auth != OC_AUTH_KERBEROS &&
	    (r = authenticate(f, t, ep, &msg, req, &caller)) != OC_OK) {
		log_info("%s: authentication failed from %s", ep->path, req->peer);
		oc_front_fault_err(resp, ep->service, msg.message_id, r);
		goto out;
	}
	caller.auth_type = ep->auth;
	if (ep->service == OC_SERVICE_CEP)
		oc_front_cep(f, t, ep, &msg, &caller, resp);
	else
		oc_front_ces(f, t, ep, &msg, &caller, resp);
out:
	/* every answer to an authenticated Negotiate request carries the mutual token */
	if (mutual != NULL && add_negotiate_header(resp, mutual) != OC_OK)
		log_warn("cannot add the mutual-authentication token");
	free(mutual);
	oc_identity_clear(&caller);
	oc_soap_msg_clear(&msg);
}

int
oc_url_path_encode(const char *s, char **out)
{
	struct ocbuf b;
	int r = OC_OK;

	ocbuf_init(&b, 4096);
	for (; *s && r == OC_OK; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || c == '.' || c == '~')
			r = ocbuf_putc(&b, (char)c);
		else
			r = ocbuf_printf(&b, "%%%02X", c);
	}
	if (r != OC_OK) {
		ocbuf_free(&b);
		return r;
	}
	*out = (char *)ocbuf_take(&b, NULL);
	return *out ? OC_OK : OC_ERR_NOMEM;
}

int
oc_endpoint_path(enum oc_service svc, enum oc_auth_type auth, const char *ca_name, char **path)
{
	char buf[1024];
	int n;

	*path = NULL;
	if (svc == OC_SERVICE_CEP)
		n = snprintf(buf, sizeof(buf), "/ADPolicyProvider_CEP_%s/service.svc/CEP",
		    oc_auth_type_name(auth));
	else
		n = snprintf(buf, sizeof(buf), "/%s_CES_%s/service.svc/CES", ca_name,
		    oc_auth_type_name(auth));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return OC_ERR_LIMIT;
	return (*path = strdup(buf)) ? OC_OK : OC_ERR_NOMEM;
}
