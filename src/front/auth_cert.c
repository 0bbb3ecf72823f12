/*
 * Client certificates on the certificate endpoints (auth_cert.h): certauth
 * verification and mapping, with our CA asked about each certificate it
 * issued, then one audit line per attempt. With a directory over LDAP the
 * auth process maps the certificate's names to an account (certauth's map).
 */
#include "front/auth_cert.h"
#include "front/front_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "ipc/ca_client.h"

#define SUBJECT_AUDIT_MAX 512

int
oc_front_cert_revoked(void *arg, const char *serial_hex, int *is_revoked)
{
	struct oc_front *f = arg;
	struct oc_ca_cert_status st;
	int r;

	*is_revoked = 1;
	if (f == NULL || f->ca == NULL)
		return OC_ERR_UNAVAILABLE;
	if ((r = oc_ca_client_cert_status(f->ca, serial_hex, &st)) != OC_OK) {
		error_fr(r, "certificate status of %s from the CA", serial_hex);
		return OC_ERR_UNAVAILABLE;
	}
	switch (st.status) {
	case OC_CERT_STATUS_GOOD:
		*is_revoked = 0;
		return OC_OK;
	case OC_CERT_STATUS_REVOKED:
		log_info("certificate %s is revoked (reason %u, at %lld)", serial_hex,
		    st.reason, (long long)st.revoked_at);
		return OC_OK;
	case OC_CERT_STATUS_UNKNOWN:
		/* our CA signed it, so it must be in its records: treat as revoked */
		log_info("certificate %s is not in the CA's records", serial_hex);
		return OC_OK;
	default:
		log_error("the CA could not tell the status of certificate %s", serial_hex);
		return OC_ERR_UNAVAILABLE;
	}
}

/* certauth's map: the directory's account, asked through the auth process */
static int
map_directory(void *arg, const char *sid, const struct oc_strlist *upn,
    const struct oc_strlist *dns, struct oc_identity *id)
{
	struct oc_front *f = arg;

	return oc_authsvc_cert_map(f->authsvc, sid, upn, dns, id);
}

int
oc_front_auth_cert_init(struct oc_front *f)
{
	struct oc_certauth_config cc;
	struct oc_certauth *ca = NULL;
	int r;

	if (f == NULL)
		return OC_ERR_INVALID;
	if (f->client_ca_file == NULL)
		return OC_OK;
	memset(&cc, 0, sizeof(cc));
	cc.trust_anchors_file = f->client_ca_file;
	cc.our_ca_cert_file = f->ca_cert_file;
	cc.revoked = oc_front_cert_revoked;
	cc.revoked_arg = f;
	if (f->ca_cert_file == NULL)
		log_warn("client certificates: no CA certificate given, no revocation checks");
	if ((r = oc_certauth_new(&cc, &ca)) != OC_OK) {
		error_fr(r, "client certificate trust anchors %s / CA certificate %s",
		    f->client_ca_file, f->ca_cert_file ? f->ca_cert_file : "-");
		return r;
	}
	if (oc_authsvc_has_directory(f->authsvc))
		oc_certauth_set_map(ca, map_directory, f);
	oc_certauth_free(f->certauth);
	f->certauth = ca;
	return OC_OK;
}

void
oc_front_auth_cert_fini(struct oc_front *f)
{
	if (f == NULL)
		return;
	oc_certauth_free(f->certauth);
	f->certauth = NULL;
}

/* Lowercase hex of the leaf's serial, for the audit (NULL on failure). */
static char *
serial_text(X509 *x)
{
	BIGNUM *bn = NULL;
	char *hex = NULL;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	for (char *p = hex; *p; p++)
		*p = (char)tolower((unsigned char)*p);
out:
	BN_free(bn);
	return hex;
}

int
oc_front_auth_certificate(struct oc_front *f, struct oc_front_thread *t,
    const struct oc_http_request *req, struct oc_identity *id)
{
	enum oc_certauth_reason why = OC_CERTAUTH_ERROR;
	char subject[SUBJECT_AUDIT_MAX] = "", *serial = NULL;
	const char *peer;
	int r;

	if (id != NULL)
		memset(id, 0, sizeof(*id));
	if (f == NULL || req == NULL || id == NULL)
		return OC_ERR_INVALID;
	peer = req->peer ? req->peer : "";
	if (req->peer_cert != NULL) {
		if (X509_NAME_oneline(X509_get_subject_name(req->peer_cert), subject,
		    sizeof(subject)) == NULL)
			subject[0] = '\0';
		serial = serial_text(req->peer_cert);
	}
	if (t == NULL || t->dir == NULL) {
		r = OC_ERR_UNAVAILABLE;
	} else if (f->certauth == NULL) {
		log_error("client certificate from %s, but no client CA is configured", peer);
		r = OC_ERR_AUTH;
	} else {
		r = oc_certauth_verify_reason(f->certauth, req->peer_cert, NULL, t->dir, id, &why);
	}
	if (r == OC_OK)
		id->auth_type = OC_AUTH_CERTIFICATE;
	log_info("certificate authentication from %s: %s (%s) subject %s serial %s%s%s", peer,
	    r == OC_OK ? "ok" : "refused", r == OC_OK ? "mapped" : oc_certauth_reason_name(why),
	    subject[0] ? subject : "-", serial ? serial : "-", r == OC_OK ? " account " : "",
	    r == OC_OK && id->name ? id->name : "");
	oc_audit("auth", "method", "certificate", "subject", subject, "serial",
	    serial ? serial : "", "account", r == OC_OK && id->name ? id->name : "",
	    "result", r == OC_OK ? "ok" : "fail",
	    "reason", r == OC_OK ? "ok" : oc_certauth_reason_name(why), "peer", peer,
	    (char *)NULL);
	OPENSSL_free(serial);
	return r;
}
