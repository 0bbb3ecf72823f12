/* Internals of the CA, shared by the .c files of src/ca only. */
#ifndef OC_CA_LOCAL_H
#define OC_CA_LOCAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "common/limits.h"
#include "directory/directory.h"
#include "model/identity.h"
#include "model/template.h"
#include "pkix/pkix.h"
#include "store/store.h"

#define CA_BACKDATE_SECONDS 300       /* notBefore = now - 5 min */
#define CA_SERIAL_BYTES     16
#define CA_SERIAL_ATTEMPTS  8
#define CA_BATCH_MAX        64        /* orders per store transaction */
#define CA_POOL_MAX         64        /* signing threads, the CA thread included */

struct oc_ca {
	char *name;                   /* CA entry name in the directory (= CN) */
	char *aia_url, *cdp_url;
	struct oc_store *store;
	struct oc_directory *dir;
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *chain;        /* the CA certificate, for CMC responses */
	int idem_window;              /* seconds, 0 = no idempotent replay */
	int refuse_names;             /* [ca] refuse_request_names */
	int accounts_from_front;      /* oc_ca_config.accounts_from_front */
	struct oc_ca_hooks hooks;     /* all NULL without hooks */
};

/* A decision under construction: denial HRESULT and its admin-readable message. */
struct ca_decision {
	uint32_t hresult;
	char msg[OC_DISPOSITION_MAX];
};

/* ca_decision helper: record a denial, returns 1 so callers can `return deny(...)`. */
int ca_deny(struct ca_decision *d, uint32_t hresult, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ca_keys.c */
int ca_load_key_cert(const char *key_file, const char *cert_file, EVP_PKEY **key,
    X509 **cert) OC_WUR;
/* 16 random bytes, top bit cleared, into x's serialNumber. */
int ca_set_random_serial(X509 *x) OC_WUR;
/* Lowercase hex of the serialNumber's content octets (malloc'd). */
int ca_serial_hex(const ASN1_INTEGER *sn, char **hex) OC_WUR;
/* Add an extension from an X509V3 config string with issuer/subject context. */
int ca_add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value) OC_WUR;
/* Add an extension from DER of its value under a dotted OID. */
int ca_add_ext_der(X509 *x, const char *oid, int critical, const uint8_t *der,
    size_t len) OC_WUR;
/* Message digest for a template hash name ("SHA256", NULL = SHA-256). */
const EVP_MD *ca_md_for(const char *hash_name);

/* ca_build.c: everything that goes into an issued certificate */
struct ca_issue_input {
	const struct oc_template *tmpl;
	const struct oc_identity *requester;  /* effective requester (directory copy) */
	const struct oc_req_info *ri;
};
/*
 * Build the subject and SAN per the template's name flags; returns 0 and fills
 * subject and san (san may be NULL when empty), or 1 with d set (denied), or an
 * error (< 0).
 */
int ca_build_names(const struct ca_issue_input *in, X509_NAME **subject,
    GENERAL_NAMES **san, struct ca_decision *d) OC_WUR;
/* Build and sign the certificate (without a serial retry: caller stores it). */
int ca_build_cert(struct oc_ca *ca, const struct ca_issue_input *in, X509_NAME *subject,
    GENERAL_NAMES *san, X509 **out) OC_WUR;

/* ca_order.c */
/*
 * An ISSUE order in three steps (oc_ca_process_order runs them in a row;
 * oc_ca_serve runs the middle one of a batch's orders on its pool):
 * ca_job_begin records the RequestID (store write, CA thread; OC_OK with a
 * job whenever memory allows, a store failure is kept in the job);
 * ca_job_work decides, builds and signs without writing to the store, with
 * the handles of the oc_ca it is given (any thread, one job per thread at a
 * time, o must outlive the job); ca_job_end writes the decision and fills res
 * (CA thread, returns like oc_ca_process_order).
 */
struct ca_job;
int ca_job_begin(struct oc_ca *ca, const struct oc_ca_order *o, struct ca_job **jp) OC_WUR;
void ca_job_work(struct oc_ca *ca, struct ca_job *j);
int ca_job_end(struct oc_ca *ca, struct ca_job *j, struct oc_ca_result *res) OC_WUR;
void ca_job_free(struct ca_job *j);                   /* NULL-safe */

/* ca_pool.c: the threads that run ca_job_work for a batch */
struct ca_pool;
/*
 * Start nthreads - 1 threads (0 = one per CPU, capped at CA_POOL_MAX), each
 * with its own directory and store connections opened from cfg and the key
 * and certificates of ca shared read-only. *pp stays NULL for one thread.
 */
int ca_pool_start(const struct oc_ca_config *cfg, struct oc_ca *ca, int nthreads,
    struct ca_pool **pp) OC_WUR;
/* Run ca_job_work on every job (the caller works too, with ca); returns when all are done. */
void ca_pool_run(struct ca_pool *p, struct oc_ca *ca, struct ca_job **jobs, size_t n);
void ca_pool_stop(struct ca_pool *p);                 /* NULL-safe, joins the threads */

/* ca_crl.c: scheduled and requested CRLs in the CA process */
struct ca_crl;
int ca_crl_start(struct oc_ca *ca, const struct oc_ca_config *cfg, struct ca_crl **cp) OC_WUR;
void ca_crl_stop(struct ca_crl *c);                   /* NULL-safe */
/*
 * Wait until fd is readable (or hung up); meanwhile, once a second, publish
 * the CRLs that are due or that the admin CLI asked for. c may be NULL.
 */
void ca_crl_wait(struct ca_crl *c, struct oc_ca *ca, int fd);

/* ca_approve.c: an approved request, issued when its requester retrieves it */
int ca_issue_approved(struct oc_ca *ca, const struct oc_ca_order *query,
    const struct oc_store_request *q, struct oc_ca_result *res) OC_WUR;
/* A template whose requests wait for an administrator (PEND_ALL_REQUESTS or RA signatures). */
int ca_template_pends(const struct oc_template *t);
/* ca_order.c: a job for a request already recorded (approved): decided again, never pended */
int ca_job_begin_approved(struct oc_ca *ca, const struct oc_ca_order *o, uint32_t request_id,
    struct ca_job **jp) OC_WUR;

/*
 * ca_idem.c: idempotent issuance. The fingerprint of an ISSUE order;
 * whether the store holds a request with it inside the window that a
 * replay answers (not FAILED); and the replay itself: *replayed 1 when res
 * holds the earlier decision (audit "issue-replayed"), 0 when there is
 * none and the order must be decided.
 */
int ca_order_fingerprint(const struct oc_ca_order *o, uint8_t fp[32]) OC_WUR;
/* ca_order.c: "CertificateTemplate:<name>" of request attributes, NULL if none (malloc'd). */
int ca_attr_template(const char *attrs, char **out) OC_WUR;
int ca_replay_exists(struct oc_ca *ca, const struct oc_ca_order *o, const uint8_t fp[32],
    int *exists) OC_WUR;
int ca_may_enroll(struct oc_ca *ca, const struct oc_ca_order *o, const char *template_cn,
    int *may) OC_WUR;
int ca_replay(struct oc_ca *ca, const struct oc_ca_order *o, struct oc_ca_result *res,
    int *replayed) OC_WUR;
/* ca_serve.c: tell the hooks the CA is alive (CA thread). */
void ca_heartbeat(struct oc_ca *ca);

void ca_audit(struct oc_ca *ca, const char *event, uint32_t request_id,
    const char *requester, const char *template_name, const char *detail);

#endif
