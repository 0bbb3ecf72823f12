/*
 * Client-certificate authentication on the certificate endpoints
 * (docs/protocol/wstep.md 4.3): the TLS client certificate of the
 * connection (requested in the initial handshake on every listener when
 * client_ca is configured) verified against the configured trust anchors
 * and mapped to a directory account (src/auth/certauth.h).
 */
#include "front/front_internal.h"

#include <string.h>

#include "common/log.h"

int
oc_front_certauth_new(struct oc_front *f)
{
	struct oc_certauth_config cc;
	int r;

	if (f->client_ca_file == NULL)
		return OC_OK;
	memset(&cc, 0, sizeof(cc));
	cc.trust_anchors_file = f->client_ca_file;
	if ((r = oc_certauth_new(&cc, &f->certauth)) != OC_OK)
		error_fr(r, "client certificate trust anchors %s", f->client_ca_file);
	return r;
}

void
oc_front_certauth_free(struct oc_front *f)
{
	oc_certauth_free(f->certauth);
	f->certauth = NULL;
}

int
oc_front_auth_cert(struct oc_front *f, struct oc_front_thread *t,
    const struct oc_http_request *req, struct oc_identity *id)
{
	enum oc_certauth_reason why = OC_CERTAUTH_OK;
	int r;

	if (f->certauth == NULL)
		return OC_ERR_AUTH;
	if (req->peer_cert == NULL)
		r = OC_ERR_AUTH_MISSING;
	else
		r = oc_certauth_verify_reason(f->certauth, req->peer_cert, NULL, t->dir, id, &why);
	oc_audit("auth", "method", "certificate", "account", r == OC_OK ? id->name : "",
	    "reason", oc_certauth_reason_name(why), "peer", req->peer ? req->peer : "",
	    "result", r == OC_OK ? "ok" : "fail", (char *)NULL);
	return r;
}
