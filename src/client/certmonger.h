/*
 * The certmonger CA helper `opences-submit` (certmonger's doc/submit.txt,
 * getcert-add-ca(1); wstep.md 10.3 for how cepces implements the same
 * interface). certmonger runs the helper with CERTMONGER_OPERATION and the
 * request data in the environment and reads the answer on stdout and in the
 * exit status:
 *
 *   SUBMIT   CERTMONGER_CSR (PEM) sent as-is in an RST Issue, the template
 *            (CERTMONGER_CA_PROFILE) also named in AdditionalContext
 *            (CertificateTemplate) as Windows does;
 *   POLL     QueryTokenStatus with the cookie "RequestID,URI" of a pending
 *            SUBMIT, to that URI (which the policy must publish);
 *   IDENTIFY, FETCH-ROOTS (self-signed CA certificates of the policy's cAs),
 *   GET-SUPPORTED-TEMPLATES (templates the caller may enroll),
 *   GET-DEFAULT-TEMPLATE, GET-NEW/RENEW-REQUEST-REQUIREMENTS.
 *
 * The network code is the client's (policy, transport, RSTRC parsing).
 */
#ifndef OC_CLIENT_CERTMONGER_H
#define OC_CLIENT_CERTMONGER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>

#include "client/client.h"
#include "common/buf.h"
#include "common/err.h"

/* Exit statuses of a certmonger helper (submit.txt). */
#define CLIENT_CM_ISSUED            0   /* certificate (PEM) or answer on stdout */
#define CLIENT_CM_WAIT              1   /* cookie on stdout */
#define CLIENT_CM_REJECTED          2   /* message on stdout */
#define CLIENT_CM_UNREACHABLE       3   /* message on stdout; certmonger retries */
#define CLIENT_CM_UNDERCONFIGURED   4   /* message on stdout */
#define CLIENT_CM_WAIT_WITH_DELAY   5   /* "SECONDS\nCOOKIE" on stdout */
#define CLIENT_CM_UNSUPPORTED       6   /* operation not supported */

#define CLIENT_CM_COOKIE_MAX        4096
#define CLIENT_CM_POLL_MAX          (7L * 24 * 3600)

enum client_cm_op {
	CLIENT_CM_OP_NONE = 0,       /* CERTMONGER_OPERATION unset or empty */
	CLIENT_CM_OP_SUBMIT,
	CLIENT_CM_OP_POLL,
	CLIENT_CM_OP_IDENTIFY,
	CLIENT_CM_OP_FETCH_ROOTS,
	CLIENT_CM_OP_GET_SUPPORTED_TEMPLATES,
	CLIENT_CM_OP_GET_DEFAULT_TEMPLATE,
	CLIENT_CM_OP_GET_NEW_REQUEST_REQUIREMENTS,
	CLIENT_CM_OP_GET_RENEW_REQUEST_REQUIREMENTS,
	CLIENT_CM_OP_OTHER,          /* anything else: exit 6 */
};

/* The environment certmonger sets (borrowed strings, NULL when unset). */
struct client_cm_env {
	const char *operation;       /* CERTMONGER_OPERATION */
	const char *csr;             /* CERTMONGER_CSR (PEM) */
	const char *profile;         /* CERTMONGER_CA_PROFILE (template) */
	const char *cookie;          /* CERTMONGER_CA_COOKIE (POLL) */
	const char *certificate;     /* CERTMONGER_CERTIFICATE (renewal) */
};

/* Fill from getenv(). */
void client_cm_env_load(struct client_cm_env *e);
/* The operation named by s (exact, as certmonger sends it). */
enum client_cm_op client_cm_op_from_name(const char *s);

struct client_cm_opts {
	struct client_opts c;        /* --policy-url, --auth, --user, ... as `opences policy` */
	long poll_interval;          /* --poll-interval: 0 = let certmonger choose (exit 1) */
	char *default_template;      /* --default-template */
	int help;
};

/*
 * argv of `opences-submit [--poll-interval S] [--default-template T]
 * --policy-url URL --auth ... --ca-file CA.pem`: the two own options are
 * taken out, the rest is parsed as `opences policy` options.
 * OC_ERR_INVALID on a usage error (message on stderr).
 */
int client_cm_opts_parse(int argc, char **argv, struct client_cm_opts *o) OC_WUR;
void client_cm_opts_clear(struct client_cm_opts *o);
void client_cm_usage(FILE *fp);

/*
 * Run one operation; the answer goes to out, diagnostics to stderr.
 * Returns a CLIENT_CM_* exit status. o may be NULL for the operations that
 * need no server (IDENTIFY, GET-*-REQUIREMENTS, GET-DEFAULT-TEMPLATE, and
 * the checks of the environment that come before any network use): a NULL
 * o where a server is needed is CLIENT_CM_UNDERCONFIGURED.
 */
int client_cm_run(const struct client_cm_opts *o, const struct client_cm_env *e, FILE *out);

/* ---- pieces, exposed for the tests ---- */

/*
 * The PKCS#10 of CERTMONGER_CSR: the DER exactly as certmonger encoded it,
 * and its public key (the signature is verified). OC_ERR_PARSE when it is
 * not one PEM certificate request, OC_ERR_LIMIT when too large.
 */
int client_cm_csr_from_pem(const char *pem, uint8_t **der, size_t *der_len,
    EVP_PKEY **pub) OC_WUR;

/*
 * "RequestID,URI" (trailing whitespace ignored): RequestID 1..2147483647, an
 * https:// URI. OC_ERR_PARSE when malformed. The POLL sends
 * client_wstep_build_query (retrieve.h) to that URI.
 */
int client_cm_cookie_parse(const char *cookie, uint32_t *request_id, char **uri) OC_WUR;

/*
 * RST Issue for the PKCS#10 (client_wstep_build_issue) with
 * <AdditionalContext><ContextItem Name="CertificateTemplate"> naming
 * template_name (wstep.md 5.3 item 4).
 */
int client_cm_build_issue(struct ocbuf *out, const char *to, const char *message_id,
    const char *user, const char *password, const uint8_t *csr_der, size_t csr_len,
    const char *template_name, time_t now) OC_WUR;
/*
 * FETCH-ROOTS output: for every self-signed CA certificate of the policy,
 * its nickname (subject CN, else the whole subject) on a line, then the PEM;
 * the list ends with a blank line. Other CA certificates are left out (the
 * format cannot carry chain certificates without other roots).
 */
int client_cm_print_roots(FILE *out, const struct client_policy *pol) OC_WUR;
/* GET-SUPPORTED-TEMPLATES output: commonNames with enroll permission, one a line. */
int client_cm_print_templates(FILE *out, const struct client_policy *pol) OC_WUR;
/* 1 if the policy publishes uri (case-insensitive) for auth at any CA. */
int client_cm_uri_published(const struct client_policy *pol, uint32_t auth, const char *uri);

#endif
