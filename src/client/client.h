/*
 * The enrollment client `opences`: GetPolicies (MS-XCEP) then an RST Issue
 * (MS-WSTEP) over HTTPS with libcurl. Internal API of src/client/.
 *
 * Parsers are pure (bytes in, structs out) so they can be unit-tested and
 * fuzzed; the network lives in transport.c only.
 */
#ifndef OC_CLIENT_H
#define OC_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/util.h"

/* Exit statuses of opences. */
#define CLIENT_EXIT_OK          0
#define CLIENT_EXIT_ERROR       1   /* usage, bad files, unparsable response */
#define CLIENT_EXIT_DENIED      2   /* SOAP fault / enroll permission false */
#define CLIENT_EXIT_NO_TEMPLATE 3   /* template not offered */
#define CLIENT_EXIT_PENDING     4   /* request taken under submission */
#define CLIENT_EXIT_UNREACHABLE 5   /* every URI failed (connect, timeout, 5xx) */

/* clientAuthentication values (xcep.md 1.5). */
#define CLIENT_AUTH_ANONYMOUS   1u
#define CLIENT_AUTH_KERBEROS    2u
#define CLIENT_AUTH_PASSWORD    4u
#define CLIENT_AUTH_CERTIFICATE 8u

#define CLIENT_OID_RSA          "1.2.840.113549.1.1.1"
#define CLIENT_OID_EC_PUBLIC    "1.2.840.10045.2.1"

#define CLIENT_UUID_URN_LEN     46  /* "urn:uuid:" + 36 + NUL */

/* ------------------------------------------------------------------ */
/* Command line (cli.c) */

enum client_cmd {
	CLIENT_CMD_NONE = 0, CLIENT_CMD_ENROLL, CLIENT_CMD_POLICY, CLIENT_CMD_RENEW,
	CLIENT_CMD_AUTOENROLL,
};

struct client_opts {
	enum client_cmd cmd;
	int help;                    /* --help given: usage printed, exit 0 */
	struct oc_strlist policy_urls;
	uint32_t auth;               /* CLIENT_AUTH_* */
	char *user;
	char *password_file;
	char *tls_cert;              /* --auth certificate */
	char *tls_key;
	char *template_name;
	char *ca_file;
	char *subject;
	struct oc_strlist dns;
	char *key_out;
	char *cert_out;
	char *cert;                  /* renew: the current certificate (PEM or DER) */
	char *key;                   /* renew: its private key (PEM) */
	int new_key;                 /* renew: generate a new key */
	long timeout;                /* seconds */
	long connect_timeout;        /* seconds */
	int verbose;
	int json;
	char *store;                 /* autoenroll: the local store directory */
	int once, daemon;            /* autoenroll: one pass (default) / loop */
	long interval;               /* autoenroll --daemon: seconds between passes */
};

/*
 * Parse argv (argv[0] is the program). On a usage error prints a message and
 * returns OC_ERR_INVALID; --help prints the usage and sets opts->help.
 */
int client_opts_parse(int argc, char **argv, struct client_opts *opts) OC_WUR;
void client_opts_clear(struct client_opts *opts);
void client_usage(enum client_cmd cmd, FILE *fp);
/* "password" / "kerberos" / "certificate" -> CLIENT_AUTH_*, 0 if unknown. */
uint32_t client_auth_from_name(const char *s);
const char *client_auth_name(uint32_t auth);

/* ------------------------------------------------------------------ */
/* Randomness for URI ordering (seedable for tests). */

struct client_rng {
	uint64_t s;
};
void client_rng_seed(struct client_rng *r, uint64_t seed);
int client_rng_init(struct client_rng *r) OC_WUR;   /* seeds from RAND_bytes */
uint32_t client_rng_below(struct client_rng *r, uint32_t n);  /* uniform in [0, n) */
/* Random "urn:uuid:xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" (RAND_bytes). */
int client_uuid_urn(char out[CLIENT_UUID_URN_LEN]) OC_WUR;

/* ------------------------------------------------------------------ */
/* SOAP faults (wstep_client.c) */

struct client_fault {
	char *code;                  /* s:Code/s:Value, e.g. "s:Receiver" */
	char *subcode;               /* may be NULL */
	char *reason;                /* s:Reason/s:Text, may be "" */
	int has_error_code;          /* CertificateEnrollmentWSDetail/ErrorCode */
	uint32_t error_code;         /* the HRESULT */
	int invalid_request;         /* -1 absent, 0/1 */
	char *request_id;            /* may be NULL */
};
void client_fault_clear(struct client_fault *f);

/* ------------------------------------------------------------------ */
/* MS-XCEP (xcep_client.c) */

struct client_ca_uri {
	uint32_t auth;               /* clientAuthentication */
	char *uri;
	int has_priority;
	uint32_t priority;
	int renewal_only;
};

struct client_ca {
	int32_t ref_id;              /* cAReferenceID */
	struct client_ca_uri *uris;
	size_t nuris;
	uint8_t *cert_der;           /* may be NULL */
	size_t cert_len;
	int enroll_permission;
};

struct client_oid {
	char *value;
	uint32_t group;
	int32_t ref_id;
	char *default_name;          /* may be NULL */
};

struct client_template {
	char *cn;                    /* commonName */
	uint32_t schema;             /* policySchema */
	int enroll;
	int auto_enroll;
	uint32_t min_key_length;
	uint32_t key_spec;           /* 0 when nil */
	int has_alg_ref;
	int32_t alg_ref;             /* algorithmOIDReference */
	int has_hash_ref;
	int32_t hash_ref;            /* hashAlgorithmOIDReference */
	int has_policy_ref;
	int32_t policy_ref;          /* policyOIDReference */
	uint32_t major, minor;       /* revision */
	uint32_t private_key_flags, subject_name_flags, enrollment_flags, general_flags;
	int cas_nil;                 /* policy/cAs was nil or absent */
	int32_t *ca_refs;
	size_t nca_refs;
	uint64_t validity_seconds;
	uint64_t renewal_seconds;    /* certificateValidity/renewalPeriodSeconds */
	struct oc_strlist superseded; /* supersededPolicies: template commonNames */
	/* resolved through oIDs (borrowed pointers into policy->oids, may be NULL) */
	const char *oid;             /* the template OID (group 9) */
	const char *display_name;    /* its defaultName */
	const char *alg_oid;         /* group 3 */
	const char *hash_oid;        /* group 1 */
};

struct client_policy {
	int is_fault;                /* the answer was a SOAP fault (see fault) */
	struct client_fault fault;
	char *policy_id;
	char *friendly_name;
	uint32_t next_update_hours;  /* 0 when nil */
	int policies_not_changed;
	struct client_template *templates;
	size_t ntemplates;
	struct client_ca *cas;
	size_t ncas;
	struct client_oid *oids;
	size_t noids;
};

/* GetPolicies envelope for `to` (policy URL); user/password NULL => no Security header. */
int client_xcep_build_request(struct ocbuf *out, const char *to, const char *message_id,
    const char *user, const char *password, time_t now) OC_WUR;
/*
 * Parse a GetPoliciesResponse (or a SOAP fault: is_fault set, OC_OK).
 * Errors: those of oc_soap_parse, OC_ERR_SOAP_BODY (not a GetPoliciesResponse),
 * OC_ERR_PARSE (bad values), OC_ERR_LIMIT.
 */
int client_policy_parse(const uint8_t *p, size_t len, struct client_policy *pol) OC_WUR;
void client_policy_clear(struct client_policy *pol);
const struct client_oid *client_policy_oid(const struct client_policy *pol, int32_t ref);
const struct client_template *client_policy_find(const struct client_policy *pol,
    const char *cn);
const struct client_ca *client_policy_ca(const struct client_policy *pol, int32_t ref);

/* Text helpers over namespace-aware nodes (xcep_client.c). OC_ERR_PARSE on bad text. */
int client_node_u32(xmlNodePtr n, uint32_t *v) OC_WUR;
int client_node_i32(xmlNodePtr n, int32_t *v) OC_WUR;
int client_node_u64(xmlNodePtr n, uint64_t *v) OC_WUR;
int client_node_bool(xmlNodePtr n, int *v) OC_WUR;
/* Copy the trimmed text, refusing more than max bytes (OC_ERR_LIMIT). */
int client_node_str(xmlNodePtr n, size_t max, char **s) OC_WUR;

/* What to generate for a template. */
struct client_keyspec {
	char alg[16];                /* "RSA", "ECDSA_P256", ... (pkix_key_generate) */
	int bits;
	const char *md;              /* NULL = sha256 */
};
int client_template_keyspec(const struct client_template *t, struct client_keyspec *ks) OC_WUR;

/* A CES endpoint in the order to try it. */
struct client_endpoint {
	const char *uri;             /* borrowed from the policy */
	uint32_t priority;
	int32_t ca_ref;
	int renewal_only;            /* published with renewalOnly true */
};
/*
 * The CES URIs of the template's CAs whose clientAuthentication == auth and
 * renewalOnly false, by ascending priority (nil = last), shuffled within a
 * priority; duplicates removed. *out is malloc'd (NULL when none).
 */
int client_order_endpoints(const struct client_policy *pol, const struct client_template *t,
    uint32_t auth, struct client_rng *rng, struct client_endpoint **out, size_t *n) OC_WUR;
/*
 * For a renewal (renewal != 0): first the renewalOnly URIs of the template's
 * CAs with that auth, ordered as above, then the others as
 * client_order_endpoints gives them (a URI published both ways is tried once,
 * in the renewal-only group). renewal == 0 is client_order_endpoints.
 */
int client_order_endpoints_for(const struct client_policy *pol,
    const struct client_template *t, uint32_t auth, int renewal, struct client_rng *rng,
    struct client_endpoint **out, size_t *n) OC_WUR;
/* Fisher-Yates over an array of pointers. */
void client_shuffle(const char **v, size_t n, struct client_rng *rng);

/* ------------------------------------------------------------------ */
/* MS-WSTEP (wstep_client.c) */

enum client_rstrc_kind {
	CLIENT_RSTRC_NONE = 0,
	CLIENT_RSTRC_ISSUED,
	CLIENT_RSTRC_PENDING,
	CLIENT_RSTRC_FAULT,
};

struct client_rstrc {
	enum client_rstrc_kind kind;
	uint8_t *cert_der;           /* issued: DER of the end-entity certificate */
	size_t cert_len;
	char *request_id;            /* may be NULL */
	char *reference_uri;         /* pending: where to poll */
	char *disposition;           /* DispositionMessage, may be NULL */
	struct client_fault fault;   /* kind == FAULT */
};

/* RST Issue envelope (wstep.md 9.1 + UsernameToken) for the PKCS#10 in csr_der. */
int client_wstep_build_issue(struct ocbuf *out, const char *to, const char *message_id,
    const char *user, const char *password, const uint8_t *csr_der, size_t csr_len,
    time_t now) OC_WUR;
/*
 * Parse an RSTRC (issued or pending) or a SOAP fault. Errors: those of
 * oc_soap_parse, OC_ERR_SOAP_BODY (neither), OC_ERR_PARSE (no token and no
 * reference), OC_ERR_BASE64, OC_ERR_DER (token is not a certificate).
 */
int client_rstrc_parse(const uint8_t *p, size_t len, struct client_rstrc *r) OC_WUR;
void client_rstrc_clear(struct client_rstrc *r);
/* 1 if the bytes are a SOAP 1.2 envelope whose body is s:Fault. */
int client_is_soap_fault(const uint8_t *p, size_t len);

/* Parse an s:Fault element (any status). */
int client_fault_parse(xmlNodePtr fault, struct client_fault *f) OC_WUR;
/* Shared request pieces (wstep_client.c). */
int client_soap_header(struct ocbuf *out, const char *action, const char *message_id,
    const char *to, const char *user, const char *password, time_t now) OC_WUR;

/* ------------------------------------------------------------------ */
/* Transport (transport.c) */

struct client_http_opts {
	const char *ca_file;         /* NULL = system store */
	long timeout;                /* seconds, whole exchange */
	long connect_timeout;
	uint32_t auth;               /* KERBEROS => Negotiate */
	const char *tls_cert;        /* CERTIFICATE => TLS client auth */
	const char *tls_key;
	int allow_http;              /* tests only: permit http:// */
};

struct client_http {
	void *curl;                  /* CURL *, one handle per run (connection reuse) */
	void *headers;               /* struct curl_slist * */
	char errbuf[256];
};

struct client_http_resp {
	long status;
	struct ocbuf body;
};

int client_http_init(struct client_http *h, const struct client_http_opts *o) OC_WUR;
void client_http_free(struct client_http *h);
/*
 * POST a SOAP 1.2 body. OC_OK: an HTTP response arrived (any status; resp
 * filled, caller frees resp->body). OC_ERR_UNAVAILABLE: could not connect,
 * timed out, TLS failure or connection dropped (h->errbuf says why).
 * OC_ERR_LIMIT: response over OC_CLIENT_RESPONSE_MAX.
 */
int client_http_post(struct client_http *h, const char *url, const uint8_t *body,
    size_t len, struct client_http_resp *resp) OC_WUR;
void client_http_resp_free(struct client_http_resp *resp);

/* What to do with an HTTP answer. */
enum client_verdict {
	CLIENT_ANSWER = 0,           /* parse it: 2xx, or a SOAP fault with any status */
	CLIENT_NEXT,                 /* 5xx without a SOAP fault: try the next URI */
	CLIENT_HTTP_ERROR,           /* other status without a fault: final error */
};
enum client_verdict client_classify(long status, const uint8_t *body, size_t len);

/*
 * POST and decide (logs each step with the URL, never the body). OC_OK: resp
 * holds an answer to parse (caller frees). OC_ERR_UNAVAILABLE: connection
 * failure, timeout or 5xx without a SOAP fault: try the next URI.
 * OC_ERR_AUTH: 401/403 without a fault. OC_ERR_PARSE: another status without
 * a fault. Other errors: local trouble (OC_ERR_CONFIG for bad CA/cert files).
 */
int client_exchange(struct client_http *h, const char *url, const uint8_t *body,
    size_t len, struct client_http_resp *resp) OC_WUR;

/*
 * Failover: call attempt(ctx, urls[i]) in order until it returns something
 * else than OC_ERR_UNAVAILABLE. Returns that result (and *used = i), or
 * OC_ERR_UNAVAILABLE when every URL was unavailable (or n == 0).
 */
typedef int (*client_attempt_fn)(void *ctx, const char *url);
int client_failover(const char *const *urls, size_t n, client_attempt_fn attempt,
    void *ctx, size_t *used) OC_WUR;

/* ------------------------------------------------------------------ */
/* Output (output.c) */

/*
 * Write data to path atomically: a temp file in the same directory created
 * with O_CREAT|O_EXCL|O_NOFOLLOW and the final mode from the start, fsync,
 * rename over path.
 */
int client_write_file(const char *path, const void *data, size_t len, int mode) OC_WUR;
/* Password file: first line, trailing CR/LF stripped; wiped on error. */
int client_read_password(const char *path, char **password) OC_WUR;
/* Print the policy (templates the caller may enroll and CES URIs). */
int client_print_policy(FILE *fp, const struct client_policy *pol, const char *from_url,
    int json) OC_WUR;
/* Append a JSON string (with quotes). */
int client_json_str(struct ocbuf *b, const char *s) OC_WUR;
/* "template=.. subject=.. serial=.. notAfter=.. uri=.." */
int client_cert_summary(X509 *x, const char *template_name, const char *uri,
    char **line) OC_WUR;

/* ------------------------------------------------------------------ */
/* Flows (enroll.c) */

/* State of one run: credentials, HTTP handle, the policy, the last answer. */
struct client_flow {
	const struct client_opts *o;
	struct client_http http;
	char *password;                 /* secret: oc_free_secret */
	/* policy step */
	struct client_policy pol;
	/* enrollment step */
	const uint8_t *csr;             /* the request being sent (borrowed) */
	size_t csr_len;
	struct client_rstrc rstrc;
};

/* Read the password (--auth password) and set up HTTP. Always clear after. */
int client_flow_init(struct client_flow *f, const struct client_opts *o) OC_WUR;
void client_flow_clear(struct client_flow *f);
/* GetPolicies with failover over the policy URLs; returns CLIENT_EXIT_*. */
int client_flow_policy(struct client_flow *f, struct client_rng *rng, const char **from);
/*
 * Send req to eps in order with failover; on an answer: fault -> DENIED,
 * pending -> key written, PENDING; issued -> the certificate must be for key,
 * key and certificate written atomically, summary printed, OK. CLIENT_EXIT_*.
 */
int client_flow_submit(struct client_flow *f, const struct client_template *t,
    EVP_PKEY *key, const uint8_t *req, size_t req_len,
    const struct client_endpoint *eps, size_t neps);

int client_run_enroll(const struct client_opts *o);   /* returns CLIENT_EXIT_* */
/*
 * After client_flow_policy: enroll for f->o->template_name as `opences enroll`
 * does (key, PKCS#10, submit, store in f->o->key_out / cert_out). CLIENT_EXIT_*.
 */
int client_flow_enroll(struct client_flow *f, struct client_rng *rng);
int client_run_policy(const struct client_opts *o);   /* returns CLIENT_EXIT_* */

/* ------------------------------------------------------------------ */
/* Renewal (renew.c): a Windows-style signed renewal (wstep.md 5.6) */


/*
 * The template of a certificate: its 1.3.6.1.4.1.311.21.7 OID matched against
 * the policy's template OIDs, else its 1.3.6.1.4.1.311.20.2 name matched
 * against the commonNames. NULL when it names none or the policy lacks it.
 */
const struct client_template *client_policy_find_for_cert(const struct client_policy *pol,
    X509 *cert);

struct client_renewal_params {
	X509 *old_cert;              /* the certificate being renewed */
	EVP_PKEY *old_key;           /* its key: signs the CMS */
	EVP_PKEY *new_key;           /* key of the new certificate (may be old_key) */
	const char *template_oid;    /* v2 template: OID + versions, else ... */
	uint32_t template_major, template_minor;
	const char *template_name;   /* ... the v1 name (20.2) */
	const char *md;              /* digest name, NULL = sha256 */
};
/*
 * The renewal request: a PKCS#10 for new_key with the old certificate's
 * subject and subjectAltName, the template extension and attribute
 * 1.3.6.1.4.1.311.13.1 (the old certificate), signed by new_key; wrapped in a
 * CMS SignedData (id-data, no signed attributes, the old certificate in
 * certificates, SignerInfo by issuerAndSerialNumber) signed by old_key.
 * Errors: OC_ERR_INVALID (missing input, key does not match old_cert),
 * OC_ERR_CRYPTO, OC_ERR_NOMEM, OC_ERR_LIMIT.
 */
int client_renewal_build(const struct client_renewal_params *p, uint8_t **der,
    size_t *len) OC_WUR;
/* Load the current certificate (PEM or DER) and key (PEM) files. */
int client_load_cert(const char *path, X509 **x) OC_WUR;
int client_load_key(const char *path, EVP_PKEY **k) OC_WUR;

int client_run_renew(const struct client_opts *o);    /* returns CLIENT_EXIT_* */
/*
 * After client_flow_policy: a signed renewal of cert (key cur) as `opences
 * renew` does, stored in f->o->key_out / cert_out (f->o->cert names the
 * certificate in messages; f->o->new_key as --new-key). CLIENT_EXIT_*.
 */
int client_flow_renew(struct client_flow *f, struct client_rng *rng, X509 *cert,
    EVP_PKEY *cur);

#endif
