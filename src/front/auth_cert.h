/*
 * Client-certificate authentication of the front end with revocation from
 * our CA's records: every certificate of the verified chain that our CA
 * issued is looked up through the pipelined CA channel
 * (OC_CA_MSG_CERT_STATUS). Fail closed: a serial the CA has no record of, a
 * CA that cannot answer, or any answer but "good" refuses the certificate.
 */
#ifndef OC_FRONT_AUTH_CERT_H
#define OC_FRONT_AUTH_CERT_H

#include "common/err.h"
#include "http/http.h"
#include "model/identity.h"

struct oc_front;
struct oc_front_thread;

/*
 * Create (or replace) f->certauth from f->client_ca_file (trust anchors)
 * and f->ca_cert_file (our CA: its certificates are checked with the CA),
 * revocation answered by oc_front_cert_revoked over f->ca. A no-op without
 * client_ca_file. OC_ERR_CONFIG for unreadable files. Call once, before the
 * workers start (oc_front_new).
 */
int oc_front_auth_cert_init(struct oc_front *f) OC_WUR;
void oc_front_auth_cert_fini(struct oc_front *f);   /* NULL-safe */

/*
 * The revocation callback of struct oc_certauth_config (arg: the struct
 * oc_front): *is_revoked 0 only for a serial the CA reports good; unknown
 * serials count as revoked; OC_ERR_UNAVAILABLE when the CA cannot tell
 * (channel broken, store failure). Thread-safe.
 */
int oc_front_cert_revoked(void *arg, const char *serial_hex, int *is_revoked) OC_WUR;

/*
 * Authenticate the TLS client certificate of req (req->peer_cert) with the
 * worker's directory handle t->dir: OC_OK and id filled (auth_type
 * OC_AUTH_CERTIFICATE), OC_ERR_AUTH_MISSING without a certificate,
 * OC_ERR_AUTH when refused (including: no certificate authentication
 * configured, revocation unknown), OC_ERR_UNAVAILABLE without a directory
 * handle. Logs and audits the outcome ("auth", method certificate, subject,
 * serial, account, result, reason, peer).
 */
int oc_front_auth_certificate(struct oc_front *f, struct oc_front_thread *t,
    const struct oc_http_request *req, struct oc_identity *id) OC_WUR;

#endif
