/*
 * The certification authority: the only holder of the CA key. It runs in its
 * own single-threaded process, answers typed frames from the front end
 * (ipc/ca_proto.h), re-checks every order against the template, the CA's
 * published templates and the requester's Enroll right, builds and signs the
 * certificate, records it durably, and only then answers.
 * No XML and no HTTP here.
 */
#ifndef OC_CA_H
#define OC_CA_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common/err.h"
#include "ipc/ca_proto.h"

#define OC_CA_DEFAULT_NAME          "OpenCES Demo CA"
#define OC_CA_DEFAULT_KEY_TYPE      "RSA2048"
#define OC_CA_DEFAULT_VALIDITY_DAYS 3650

/*
 * What the CA reports while it serves (metrics): every member may be NULL.
 * Called on the CA thread only. order: the disposition (OC_DISP_*) of each
 * ISSUE order decided; replay: an ISSUE order answered with the earlier
 * decision of the same request; signature: a certificate signed and
 * stored; batch: the frames of one store transaction, how long its commit
 * took (microseconds) and whether it committed; ready: the CA opened its
 * key and store; heartbeat: at least once a second while serving.
 */
struct oc_ca_hooks {
	void *arg;
	void (*order)(void *arg, uint32_t disposition);
	void (*replay)(void *arg);
	void (*signature)(void *arg);
	void (*batch)(void *arg, size_t frames, uint64_t commit_us, int committed);
	void (*ready)(void *arg);
	void (*heartbeat)(void *arg);
};

struct oc_ca_config {
	const char *dir_path;        /* directory db */
	const char *store_path;      /* CA store db */
	const char *key_file;        /* CA private key, PEM (PKCS#8), mode 0600 */
	const char *cert_file;       /* CA certificate, PEM */
	const char *key_type;        /* "RSA2048" (default), "RSA3072", "RSA4096" or "P256" */
	const char *ca_name;         /* CN of the CA, default "OpenCES Demo CA"; also the
	                                name of its CA entry in the directory */
	const char *aia_url;         /* caIssuers URI put in issued certificates, may be NULL */
	const char *cdp_url;         /* CRL distribution point URI, may be NULL */
	int validity_days;           /* CA certificate validity, default 3650 */
	int sign_threads;            /* oc_ca_serve: threads deciding and signing a batch's
	                                orders, the CA thread included; 0 = one per CPU,
	                                1 = all on the CA thread */
	/* revocation publication (ca_crl.c); all optional */
	const char *publish_dir;     /* where <name>.crl, <name>-delta.crl, <name>.crt and
	                                <name>.pem are written; NULL = no CRLs */
	int crl_period_hours;        /* complete CRL every N hours, 0 = 24 */
	int delta_crl_period_hours;  /* delta CRL every N hours, 0 = 1, < 0 = none */
	int crl_overlap_hours;       /* nextUpdate = thisUpdate + period + overlap, 0 = 1 */
	const char *delta_cdp_url;   /* freshestCRL URI put in complete CRLs, may be NULL */
	/*
	 * Idempotent issuance (ca_idem.c): an ISSUE order whose fingerprint
	 * (SHA-256 over requester, NUL, template as requested, NUL, request
	 * DER) matches a request submitted within this many seconds is answered
	 * with that request's decision (same RequestID, same certificate). 0 = off.
	 */
	int idempotence_window_seconds;
	int accounts_from_front;     /* 1: callers are directory (AD) accounts the front end's
	                                auth process looked up; the CA takes the identity as sent
	                                and never reads embedded accounts (no shadowing by a
	                                local account of the same name) */
	int refuse_request_names;    /* 1: a request naming an identity the requester's
	                                directory entry does not hold is refused on a template
	                                that builds names from the directory (default 0: such
	                                names are dropped, as Windows does) */
	const struct oc_ca_hooks *hooks;   /* may be NULL */
};

struct oc_ca;

/*
 * Create the CA key and a self-signed root certificate if the files do not
 * exist (key written atomically with mode 0600), else load and check them
 * (key matches certificate, certificate is a CA). Idempotent.
 */
int oc_ca_init(const struct oc_ca_config *cfg) OC_WUR;

/*
 * Issue an HTTPS server certificate (serverAuth) for the given DNS names and
 * IP addresses (NULL-terminated lists, either may be NULL, not both empty),
 * with a fresh P-256 key, signed by the CA. key_out gets the key (0600),
 * cert_out the certificate followed by the CA certificate (PEM).
 */
int oc_ca_issue_tls_server_cert(const struct oc_ca_config *cfg, const char *const *dns_names,
    const char *const *ips, const char *key_out, const char *cert_out) OC_WUR;

/* Open the store (read-write) and the directory (read-only), load the key. */
int oc_ca_open(const struct oc_ca_config *cfg, struct oc_ca **cap) OC_WUR;
void oc_ca_close(struct oc_ca *ca);                   /* NULL-safe */
/* The CA certificate (borrowed). */
X509 *oc_ca_get0_cert(const struct oc_ca *ca);

/*
 * Decide one OC_CA_MSG_ISSUE order. Returns OC_OK when res holds a decision
 * (issued, pending or denied, with a RequestID); an error only when the CA
 * itself failed (store, crypto), res then says OC_DISP_ERROR. Its store
 * writes commit before it returns, unless a store batch is open (as in
 * oc_ca_serve): then res may only be sent after the batch commits.
 */
int oc_ca_process_order(struct oc_ca *ca, const struct oc_ca_order *o,
    struct oc_ca_result *res) OC_WUR;
/* Answer one OC_CA_MSG_QUERY order (o->request_id, o->requester). */
int oc_ca_process_query(struct oc_ca *ca, const struct oc_ca_order *o,
    struct oc_ca_result *res) OC_WUR;

/*
 * Answer one OC_CA_MSG_CERT_STATUS question from the store: GOOD, REVOKED
 * (with reason and time) or UNKNOWN (a serial this CA has no record of).
 * On a store failure st says OC_CERT_STATUS_ERROR and the error is returned.
 */
int oc_ca_process_cert_status(struct oc_ca *ca, const char *serial_hex,
    struct oc_ca_cert_status *st) OC_WUR;

/*
 * The base name of the CA's published files: the CA name with every byte
 * outside [A-Za-z0-9._-] made '-' ("OpenCES Demo CA" -> "OpenCES-Demo-CA").
 */
int oc_ca_publish_name(const char *ca_name, char *out, size_t outlen) OC_WUR;

/*
 * Sign and publish now (ca_crl.c): a complete CRL when full, a delta CRL
 * (against the newest complete one) when delta; the numbers and what was
 * published go to the store, the files (DER) are replaced atomically in
 * cfg->publish_dir together with the CA certificate (DER and PEM).
 */
int oc_ca_publish_crl(struct oc_ca *ca, const struct oc_ca_config *cfg, int full,
    int delta) OC_WUR;

/*
 * The CA process main loop: open, then answer frames on fd until EOF
 * (returns OC_OK) or a broken stream (returns the error). The orders of a
 * batch are decided and signed on cfg->sign_threads threads (each with its
 * own directory and store connections, the key shared read-only); the store
 * writes stay on the CA thread and commit once before any answer is sent.
 */
int oc_ca_serve(const struct oc_ca_config *cfg, int fd) OC_WUR;

#endif
