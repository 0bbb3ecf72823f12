/*
 * The two flows of opences:
 *   policy: GetPolicies to the policy URLs (random order, failover) and print;
 *   enroll: policy, choose the template, generate the key and the PKCS#10,
 *           RST Issue to the template's CES URIs (priority order, random within
 *           a priority, failover), then store key and certificate.
 * A SOAP fault is a final answer; connection failures, timeouts and 5xx
 * without a fault move on to the next URI.
 */
#include "client/client.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/limits.h"
#include "common/log.h"
#include "model/template.h"
#include "pkix/pkix.h"

#define CLIENT_REQUEST_MAX (OC_HTTP_MAX_BODY_SIZE)

void
client_flow_clear(struct client_flow *f)
{
	client_http_free(&f->http);
	oc_free_secret(f->password);
	f->password = NULL;
	client_policy_clear(&f->pol);
	client_rstrc_clear(&f->rstrc);
}

int
client_flow_init(struct client_flow *f, const struct client_opts *o)
{
	struct client_http_opts ho;
	int r;

	memset(f, 0, sizeof(*f));
	f->o = o;
	if (o->auth == CLIENT_AUTH_PASSWORD &&
	    (r = client_read_password(o->password_file, &f->password)) != OC_OK) {
		fprintf(stderr, "opences: cannot read a password from %s: %s\n",
		    o->password_file, oc_strerror(r));
		return r;
	}
	memset(&ho, 0, sizeof(ho));
	ho.ca_file = o->ca_file;
	ho.timeout = o->timeout;
	ho.connect_timeout = o->connect_timeout;
	ho.auth = o->auth;
	ho.tls_cert = o->tls_cert;
	ho.tls_key = o->tls_key;
	if ((r = client_http_init(&f->http, &ho)) != OC_OK)
		error_fr(r, "HTTP client setup");
	return r;
}

static const char *
flow_user(const struct client_flow *f)
{
	return f->o->auth == CLIENT_AUTH_PASSWORD ? f->o->user : NULL;
}

static int
policy_attempt(void *ctx, const char *url)
{
	struct client_flow *f = ctx;
	struct client_http_resp resp;
	struct ocbuf req;
	char mid[CLIENT_UUID_URN_LEN];
	int r;

	memset(&resp, 0, sizeof(resp));
	ocbuf_init(&req, CLIENT_REQUEST_MAX);
	req.wipe = 1;           /* holds the password */
	if ((r = client_uuid_urn(mid)) != OC_OK ||
	    (r = client_xcep_build_request(&req, url, mid, flow_user(f), f->password,
	    time(NULL))) != OC_OK) {
		error_fr(r, "GetPolicies request");
		goto out;
	}
	if ((r = client_exchange(&f->http, url, ocbuf_ptr(&req), ocbuf_avail(&req), &resp)) != OC_OK)
		goto out;
	if ((r = client_policy_parse(ocbuf_ptr(&resp.body), ocbuf_avail(&resp.body),
	    &f->pol)) != OC_OK)
		fprintf(stderr, "opences: %s: unusable GetPolicies answer: %s\n", url,
		    oc_strerror(r));
out:
	client_http_resp_free(&resp);
	ocbuf_free(&req);
	return r;
}

/* Server-supplied text on the terminal: control characters become spaces. */
static void
put_safe(const char *s)
{
	for (; s && *s; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

static void
print_fault(const char *what, const char *url, const struct client_fault *ft)
{
	printf("denied: %s at ", what);
	put_safe(url);
	printf(": ");
	put_safe(ft->reason && *ft->reason ? ft->reason : "(no reason given)");
	printf(" (code ");
	put_safe(ft->code ? ft->code : "?");
	if (ft->subcode) {
		printf(", subcode ");
		put_safe(ft->subcode);
	}
	printf(")");
	if (ft->has_error_code)
		printf(" HRESULT 0x%08X", ft->error_code);
	if (ft->request_id) {
		printf(" RequestID ");
		put_safe(ft->request_id);
	}
	printf("\n");
	fflush(stdout);
}

/* Map a failover result to an exit status (OC_OK is not handled here). */
static int
exit_for(int r, const char *what)
{
	switch (r) {
	case OC_ERR_UNAVAILABLE:
		fprintf(stderr, "opences: no %s service could be reached\n", what);
		return CLIENT_EXIT_UNREACHABLE;
	case OC_ERR_AUTH:
		fprintf(stderr, "opences: the %s service refused the credentials\n", what);
		return CLIENT_EXIT_DENIED;
	default:
		return CLIENT_EXIT_ERROR;
	}
}

/* GetPolicies with failover over the policy URLs in random order. */
int
client_flow_policy(struct client_flow *f, struct client_rng *rng, const char **from)
{
	const char **urls = NULL;
	size_t n = f->o->policy_urls.n, used = 0;
	int r;

	*from = NULL;
	if ((urls = calloc(n, sizeof(*urls))) == NULL)
		return CLIENT_EXIT_ERROR;
	for (size_t i = 0; i < n; i++)
		urls[i] = f->o->policy_urls.v[i];
	client_shuffle(urls, n, rng);
	r = client_failover(urls, n, policy_attempt, f, &used);
	if (r == OC_OK)
		*from = urls[used];
	free(urls);
	if (r != OC_OK)
		return exit_for(r, "policy");
	if (f->pol.is_fault) {
		print_fault("GetPolicies", *from, &f->pol.fault);
		return CLIENT_EXIT_DENIED;
	}
	log_info("policy %s from %s: %zu templates, %zu CAs",
	    f->pol.policy_id ? f->pol.policy_id : "-", *from, f->pol.ntemplates, f->pol.ncas);
	return CLIENT_EXIT_OK;
}

int
client_run_policy(const struct client_opts *o)
{
	struct client_flow f;
	struct client_rng rng;
	const char *from = NULL;
	int ex = CLIENT_EXIT_ERROR;

	if (client_flow_init(&f, o) != OC_OK)
		goto out;
	if (client_rng_init(&rng) != OC_OK)
		goto out;
	if ((ex = client_flow_policy(&f, &rng, &from)) != CLIENT_EXIT_OK)
		goto out;
	if (client_print_policy(stdout, &f.pol, from, o->json) != OC_OK)
		ex = CLIENT_EXIT_ERROR;
out:
	client_flow_clear(&f);
	return ex;
}

static int
rst_attempt(void *ctx, const char *url)
{
	struct client_flow *f = ctx;
	struct client_http_resp resp;
	struct ocbuf req;
	char mid[CLIENT_UUID_URN_LEN];
	int r;

	memset(&resp, 0, sizeof(resp));
	ocbuf_init(&req, CLIENT_REQUEST_MAX);
	req.wipe = 1;
	if ((r = client_uuid_urn(mid)) != OC_OK ||
	    (r = client_wstep_build_issue(&req, url, mid, flow_user(f), f->password,
	    f->csr, f->csr_len, time(NULL))) != OC_OK) {
		error_fr(r, "RST request");
		goto out;
	}
	if ((r = client_exchange(&f->http, url, ocbuf_ptr(&req), ocbuf_avail(&req), &resp)) != OC_OK)
		goto out;
	if ((r = client_rstrc_parse(ocbuf_ptr(&resp.body), ocbuf_avail(&resp.body),
	    &f->rstrc)) != OC_OK)
		fprintf(stderr, "opences: %s: unusable enrollment answer: %s\n", url,
		    oc_strerror(r));
out:
	client_http_resp_free(&resp);
	ocbuf_free(&req);
	return r;
}

/* The subject to request, or NULL to let the CA build it (malloc'd in *out). */
static int
choose_subject(const struct client_opts *o, const struct client_template *t, char **out)
{
	*out = NULL;
	if (o->subject != NULL) {
		if ((*out = strdup(o->subject)) == NULL)
			return OC_ERR_NOMEM;
		return OC_OK;
	}
	if ((t->subject_name_flags & OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT) == 0)
		return OC_OK;
	if (o->dns.n == 0) {
		fprintf(stderr, "opences: template %s wants the subject from the request: "
		    "give --subject or --dns\n", t->cn);
		return OC_ERR_INVALID;
	}
	if (asprintf(out, "CN=%s", o->dns.v[0]) < 0) {
		*out = NULL;
		return OC_ERR_NOMEM;
	}
	return OC_OK;
}

static int
write_key(const char *path, EVP_PKEY *key)
{
	char *pem = NULL;
	int r;

	if ((r = pkix_key_to_pem(key, &pem)) != OC_OK) {
		error_fr(r, "key to PEM");
		return r;
	}
	r = client_write_file(path, pem, strlen(pem), 0600);
	oc_free_secret(pem);
	if (r != OC_OK)
		fprintf(stderr, "opences: cannot write the key to %s\n", path);
	return r;
}

/* Issued: check the certificate is for our key, store both, print a summary. */
static int
finish_issued(const struct client_flow *f, const struct client_template *t, EVP_PKEY *key,
    const char *url)
{
	const unsigned char *dp = f->rstrc.cert_der;
	X509 *x = NULL;
	char *pem = NULL, *line = NULL;
	int ex = CLIENT_EXIT_ERROR, r;

	if ((x = d2i_X509(NULL, &dp, (long)f->rstrc.cert_len)) == NULL) {
		fprintf(stderr, "opences: %s: the issued certificate does not decode\n", url);
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
		fprintf(stderr, "opences: %s: the issued certificate is not for our key\n", url);
		goto out;
	}
	if ((r = pkix_cert_to_pem(x, &pem)) != OC_OK) {
		error_fr(r, "certificate to PEM");
		goto out;
	}
	if (write_key(f->o->key_out, key) != OC_OK)
		goto out;
	if (client_write_file(f->o->cert_out, pem, strlen(pem), 0644) != OC_OK) {
		fprintf(stderr, "opences: cannot write the certificate to %s\n", f->o->cert_out);
		goto out;
	}
	if (client_cert_summary(x, t->cn, url, &line) != OC_OK)
		goto out;
	printf("%s", line);
	if (f->rstrc.request_id) {
		printf(" requestID=");
		put_safe(f->rstrc.request_id);
	}
	printf("\n");
	fflush(stdout);
	ex = CLIENT_EXIT_OK;
out:
	free(line);
	free(pem);
	X509_free(x);
	return ex;
}

/*
 * Submit a request (PKCS#10 or signed CMS) to the endpoints in order with
 * failover, then act on the answer: fault -> denied, pending -> keep the key,
 * issued -> check it is for key, store key and certificate, print a summary.
 */
int
client_flow_submit(struct client_flow *f, const struct client_template *t, EVP_PKEY *key,
    const uint8_t *req, size_t req_len, const struct client_endpoint *eps, size_t neps)
{
	const struct client_opts *o = f->o;
	const char **urls = NULL;
	size_t used = 0;
	int ex = CLIENT_EXIT_ERROR, r;

	f->csr = req;
	f->csr_len = req_len;
	if ((urls = calloc(neps, sizeof(*urls))) == NULL)
		goto out;
	for (size_t i = 0; i < neps; i++)
		urls[i] = eps[i].uri;
	r = client_failover(urls, neps, rst_attempt, f, &used);
	if (r != OC_OK) {
		ex = exit_for(r, "enrollment");
		goto out;
	}
	switch (f->rstrc.kind) {
	case CLIENT_RSTRC_FAULT:
		print_fault("enrollment", urls[used], &f->rstrc.fault);
		ex = CLIENT_EXIT_DENIED;
		break;
	case CLIENT_RSTRC_PENDING:
		/* keep the key: the certificate can be fetched later with this RequestID */
		if (write_key(o->key_out, key) != OC_OK)
			break;
		printf("pending template=");
		put_safe(t->cn);
		printf(" requestID=");
		put_safe(f->rstrc.request_id ? f->rstrc.request_id : "-");
		printf(" uri=");
		put_safe(f->rstrc.reference_uri ? f->rstrc.reference_uri : urls[used]);
		printf("\n");
		fflush(stdout);
		ex = CLIENT_EXIT_PENDING;
		break;
	case CLIENT_RSTRC_ISSUED:
		ex = finish_issued(f, t, key, urls[used]);
		break;
	default:
		break;
	}
out:
	f->csr = NULL;
	f->csr_len = 0;
	free(urls);
	return ex;
}

/* Everything after the policy: template, key, CSR, RST with failover. */
static int
enroll_template(struct client_flow *f, struct client_rng *rng)
{
	const struct client_opts *o = f->o;
	const struct client_template *t;
	struct client_keyspec ks;
	struct client_endpoint *eps = NULL;
	struct pkix_csr_params cp;
	EVP_PKEY *key = NULL;
	uint8_t *csr = NULL;
	size_t neps = 0, csr_len = 0;
	char *subject = NULL;
	int ex = CLIENT_EXIT_ERROR, r;

	if ((t = client_policy_find(&f->pol, o->template_name)) == NULL) {
		printf("template not offered: ");
		put_safe(o->template_name);
		printf("\n");
		ex = CLIENT_EXIT_NO_TEMPLATE;
		goto out;
	}
	if (!t->enroll) {
		printf("denied: no enroll permission on template %s\n", t->cn);
		ex = CLIENT_EXIT_DENIED;
		goto out;
	}
	if ((r = client_template_keyspec(t, &ks)) != OC_OK) {
		fprintf(stderr, "opences: template %s asks for an unsupported key "
		    "(algorithm %s, minimal length %u)\n", t->cn,
		    t->alg_oid ? t->alg_oid : "RSA", t->min_key_length);
		goto out;
	}
	if ((r = client_order_endpoints(&f->pol, t, o->auth, rng, &eps, &neps)) != OC_OK)
		goto out;
	if (neps == 0) {
		fprintf(stderr, "opences: no enrollment service for --auth %s offers "
		    "template %s\n", client_auth_name(o->auth), t->cn);
		goto out;
	}
	if (choose_subject(o, t, &subject) != OC_OK)
		goto out;
	log_info("template %s: %s %d bits, %zu enrollment URIs", t->cn, ks.alg, ks.bits, neps);
	if ((r = pkix_key_generate(ks.alg, ks.bits, &key)) != OC_OK) {
		error_fr(r, "key generation (%s %d)", ks.alg, ks.bits);
		goto out;
	}
	memset(&cp, 0, sizeof(cp));
	cp.subject = subject;
	cp.dns = o->dns.n ? &o->dns : NULL;
	cp.md = ks.md;
	if (t->schema >= 2 && t->oid != NULL) {
		cp.template_oid = t->oid;
		cp.template_major = t->major;
		cp.template_minor = t->minor;
	} else
		cp.template_name = t->cn;
	if ((r = pkix_csr_build(key, &cp, &csr, &csr_len)) != OC_OK) {
		fprintf(stderr, "opences: cannot build the request: %s\n", oc_strerror(r));
		goto out;
	}
	ex = client_flow_submit(f, t, key, csr, csr_len, eps, neps);
out:
	free(eps);
	free(csr);
	free(subject);
	EVP_PKEY_free(key);
	return ex;
}

int
client_flow_enroll(struct client_flow *f, struct client_rng *rng)
{
	return enroll_template(f, rng);
}

int
client_run_enroll(const struct client_opts *o)
{
	struct client_flow f;
	struct client_rng rng;
	const char *from = NULL;
	int ex = CLIENT_EXIT_ERROR;

	if (client_flow_init(&f, o) != OC_OK)
		goto out;
	if (client_rng_init(&rng) != OC_OK)
		goto out;
	if ((ex = client_flow_policy(&f, &rng, &from)) != CLIENT_EXIT_OK)
		goto out;
	ex = enroll_template(&f, &rng);
out:
	client_flow_clear(&f);
	return ex;
}
