/*
 * The certmonger CA helper (see certmonger.h): operation dispatch, SUBMIT
 * and POLL over the client's policy, transport and RSTRC code, and the
 * answers in certmonger's formats.
 */
#include "client/certmonger.h"
#include "client/retrieve.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/limits.h"
#include "common/log.h"
#include "pkix/pkix.h"
#include "soap/soap.h"

#define CM_REQUEST_MAX     (OC_HTTP_MAX_BODY_SIZE)
#define CM_CSR_PEM_MAX     (2 * OC_REQUEST_DER_MAX)
#define CM_RST_TAIL        "</wst:RequestSecurityToken></s:Body></s:Envelope>"

static const struct {
	const char *name;
	enum client_cm_op op;
} cm_ops[] = {
	{ "SUBMIT",                          CLIENT_CM_OP_SUBMIT },
	{ "POLL",                            CLIENT_CM_OP_POLL },
	{ "IDENTIFY",                        CLIENT_CM_OP_IDENTIFY },
	{ "FETCH-ROOTS",                     CLIENT_CM_OP_FETCH_ROOTS },
	{ "GET-SUPPORTED-TEMPLATES",         CLIENT_CM_OP_GET_SUPPORTED_TEMPLATES },
	{ "GET-DEFAULT-TEMPLATE",            CLIENT_CM_OP_GET_DEFAULT_TEMPLATE },
	{ "GET-NEW-REQUEST-REQUIREMENTS",    CLIENT_CM_OP_GET_NEW_REQUEST_REQUIREMENTS },
	{ "GET-RENEW-REQUEST-REQUIREMENTS",  CLIENT_CM_OP_GET_RENEW_REQUEST_REQUIREMENTS },
};

static const char *
nonempty(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

void
client_cm_env_load(struct client_cm_env *e)
{
	memset(e, 0, sizeof(*e));
	e->operation = nonempty(getenv("CERTMONGER_OPERATION"));
	e->csr = nonempty(getenv("CERTMONGER_CSR"));
	e->profile = nonempty(getenv("CERTMONGER_CA_PROFILE"));
	e->cookie = nonempty(getenv("CERTMONGER_CA_COOKIE"));
	e->certificate = nonempty(getenv("CERTMONGER_CERTIFICATE"));
}

enum client_cm_op
client_cm_op_from_name(const char *s)
{
	if (s == NULL || *s == '\0')
		return CLIENT_CM_OP_NONE;
	for (size_t i = 0; i < sizeof(cm_ops) / sizeof(cm_ops[0]); i++)
		if (strcmp(s, cm_ops[i].name) == 0)
			return cm_ops[i].op;
	return CLIENT_CM_OP_OTHER;
}

/* ------------------------------------------------------------------ */
/* Command line */

void
client_cm_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: opences-submit [--poll-interval SECONDS] [--default-template NAME]\n"
	    "           --policy-url URL [--policy-url URL2 ...] --auth METHOD\n"
	    "           [--user NAME --password-file FILE | --tls-cert FILE --tls-key FILE]\n"
	    "           --ca-file CA.pem [--timeout SECONDS] [--connect-timeout SECONDS] [-v]\n\n"
	    "A certmonger CA helper: register it with\n"
	    "  getcert add-ca -c OpenCES -e '/path/opences-submit --policy-url URL ...'\n"
	    "then `getcert request -c OpenCES -T TEMPLATE ...`. The operation comes from\n"
	    "CERTMONGER_OPERATION (SUBMIT, POLL, IDENTIFY, FETCH-ROOTS,\n"
	    "GET-SUPPORTED-TEMPLATES, GET-DEFAULT-TEMPLATE, GET-NEW-REQUEST-REQUIREMENTS,\n"
	    "GET-RENEW-REQUEST-REQUIREMENTS).\n\n"
	    "  --policy-url URL        CEP (MS-XCEP) URL; repeat for replicas\n"
	    "  --auth METHOD           password | kerberos | certificate\n"
	    "  --user NAME             user name for --auth password\n"
	    "  --password-file FILE    file whose first line is the password\n"
	    "  --tls-cert FILE         client certificate (PEM) for --auth certificate\n"
	    "  --tls-key FILE          its private key (PEM)\n"
	    "  --ca-file CA.pem        CA bundle that signs the servers' TLS certificates\n"
	    "  --poll-interval SECONDS when a request is pending, ask certmonger to poll\n"
	    "                          after this long (default: certmonger's own delay)\n"
	    "  --default-template NAME template for requests made without -T\n"
	    "  --timeout SECONDS       whole exchange timeout (default 30)\n"
	    "  --connect-timeout SEC   connection timeout per URI (default 5)\n"
	    "  -v, --verbose           log progress to stderr\n\n"
	    "Exit status (certmonger's): 0 issued, 1 pending (cookie), 2 rejected,\n"
	    "3 unreachable, 4 underconfigured, 5 pending (delay and cookie),\n"
	    "6 operation not supported.\n");
}

void
client_cm_opts_clear(struct client_cm_opts *o)
{
	if (o == NULL)
		return;
	client_opts_clear(&o->c);
	free(o->default_template);
	memset(o, 0, sizeof(*o));
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]: the value, *i advanced. */
static const char *
own_opt(int argc, char **argv, int *i, const char *name, int *bad)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		fprintf(stderr, "opences-submit: %s needs a value\n", name);
		*bad = 1;
		return NULL;
	}
	return argv[++*i];
}

int
client_cm_opts_parse(int argc, char **argv, struct client_cm_opts *o)
{
	char **av = NULL;
	const char *v;
	char *end = NULL;
	int ac = 0, bad = 0, r = OC_ERR_INVALID;

	memset(o, 0, sizeof(*o));
	if ((av = calloc((size_t)argc + 2, sizeof(*av))) == NULL)
		return OC_ERR_NOMEM;
	av[ac++] = argc > 0 ? argv[0] : (char *)"opences-submit";
	av[ac++] = (char *)"policy";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			client_cm_usage(stdout);
			o->help = 1;
			r = OC_OK;
			goto out;
		}
		if ((v = own_opt(argc, argv, &i, "--poll-interval", &bad)) != NULL) {
			long x = (*v >= '0' && *v <= '9') ? strtol(v, &end, 10) : -1;
			if (x < 1 || x > CLIENT_CM_POLL_MAX || *end != '\0') {
				fprintf(stderr, "opences-submit: bad --poll-interval (1..%ld)\n",
				    CLIENT_CM_POLL_MAX);
				goto out;
			}
			o->poll_interval = x;
			continue;
		}
		if (!bad && (v = own_opt(argc, argv, &i, "--default-template", &bad)) != NULL) {
			if (o->default_template != NULL || *v == '\0' ||
			    strlen(v) > OC_TEMPLATE_NAME_MAX) {
				fprintf(stderr, "opences-submit: bad or repeated --default-template\n");
				goto out;
			}
			if ((o->default_template = strdup(v)) == NULL) {
				r = OC_ERR_NOMEM;
				goto out;
			}
			continue;
		}
		if (bad)
			goto out;
		av[ac++] = argv[i];
	}
	av[ac] = NULL;
	if ((r = client_opts_parse(ac, av, &o->c)) != OC_OK)
		goto out;
	if (o->c.help) {        /* not reached: --help is taken above */
		o->help = 1;
		goto out;
	}
	if (o->c.json) {
		fprintf(stderr, "opences-submit: --json is not an option of the helper\n");
		r = OC_ERR_INVALID;
	}
out:
	free(av);
	if (r != OC_OK)
		client_cm_opts_clear(o);
	return r;
}

/* ------------------------------------------------------------------ */
/* Wire pieces */

int
client_cm_csr_from_pem(const char *pem, uint8_t **der, size_t *der_len, EVP_PKEY **pub)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *dp;
	X509_REQ *req = NULL;
	long len = 0;
	size_t n;
	int r = OC_ERR_PARSE;

	*der = NULL;
	*der_len = 0;
	*pub = NULL;
	if ((n = strnlen(pem, CM_CSR_PEM_MAX + 1)) > CM_CSR_PEM_MAX)
		return OC_ERR_LIMIT;
	if ((bio = BIO_new_mem_buf(pem, (int)n)) == NULL)
		return OC_ERR_NOMEM;
	if (PEM_read_bio(bio, &name, &header, &data, &len) != 1 || len <= 0)
		goto out;
	if (strcmp(name, "CERTIFICATE REQUEST") != 0 &&
	    strcmp(name, "NEW CERTIFICATE REQUEST") != 0)
		goto out;
	if ((size_t)len > OC_REQUEST_DER_MAX) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	dp = data;
	if ((req = d2i_X509_REQ(NULL, &dp, len)) == NULL || dp != data + len)
		goto out;
	if (X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1) {
		r = OC_ERR_CRYPTO;
		goto out;
	}
	if ((*pub = X509_REQ_get_pubkey(req)) == NULL)
		goto out;
	if ((*der = malloc((size_t)len)) == NULL) {
		EVP_PKEY_free(*pub);
		*pub = NULL;
		r = OC_ERR_NOMEM;
		goto out;
	}
	memcpy(*der, data, (size_t)len);
	*der_len = (size_t)len;
	r = OC_OK;
out:
	X509_REQ_free(req);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return r;
}

int
client_cm_cookie_parse(const char *cookie, uint32_t *request_id, char **uri)
{
	const char *comma;
	char *end = NULL, *u = NULL;
	unsigned long long id;
	size_t n, ulen;

	*request_id = 0;
	*uri = NULL;
	if (cookie == NULL || (n = strnlen(cookie, CLIENT_CM_COOKIE_MAX + 1)) > CLIENT_CM_COOKIE_MAX)
		return OC_ERR_PARSE;
	while (n > 0 && (cookie[n - 1] == '\n' || cookie[n - 1] == '\r' ||
	    cookie[n - 1] == ' ' || cookie[n - 1] == '\t'))
		n--;
	if ((comma = memchr(cookie, ',', n)) == NULL || comma == cookie ||
	    comma - cookie > 10)
		return OC_ERR_PARSE;
	for (const char *p = cookie; p < comma; p++)
		if (*p < '0' || *p > '9')
			return OC_ERR_PARSE;
	id = strtoull(cookie, &end, 10);
	if (end != comma || id == 0 || id > INT32_MAX)
		return OC_ERR_PARSE;
	ulen = n - (size_t)(comma + 1 - cookie);
	if (ulen <= 8 || strncasecmp(comma + 1, "https://", 8) != 0)
		return OC_ERR_PARSE;
	for (size_t i = 0; i < ulen; i++) {
		unsigned char c = (unsigned char)comma[1 + i];
		if (c <= 0x20 || c == 0x7f)
			return OC_ERR_PARSE;
	}
	if ((u = strndup(comma + 1, ulen)) == NULL)
		return OC_ERR_NOMEM;
	*request_id = (uint32_t)id;
	*uri = u;
	return OC_OK;
}

int
client_cm_build_issue(struct ocbuf *out, const char *to, const char *message_id,
    const char *user, const char *password, const uint8_t *csr_der, size_t csr_len,
    const char *template_name, time_t now)
{
	const size_t tail = sizeof(CM_RST_TAIL) - 1;
	int r;

	if (template_name == NULL || *template_name == '\0' ||
	    strlen(template_name) > OC_TEMPLATE_NAME_MAX)
		return OC_ERR_INVALID;
	if ((r = client_wstep_build_issue(out, to, message_id, user, password, csr_der,
	    csr_len, now)) != OC_OK)
		return r;
	/* the same request with the context before the closing tags */
	if (out->len < tail || memcmp(out->d + out->len - tail, CM_RST_TAIL, tail) != 0)
		return OC_ERR_INTERNAL;
	out->len -= tail;
	if ((r = ocbuf_puts(out, "<ac:AdditionalContext xmlns:ac=\"" OC_NS_AUTH "\">"
	    "<ac:ContextItem Name=\"CertificateTemplate\"><ac:Value>")) != OC_OK ||
	    (r = ocbuf_put_xml(out, template_name)) != OC_OK ||
	    (r = ocbuf_puts(out, "</ac:Value></ac:ContextItem></ac:AdditionalContext>"
	    CM_RST_TAIL)) != OC_OK)
		return r;
	return OC_OK;
}

/* Server-supplied text on one line: control characters become spaces. */
static void
put_line(FILE *out, const char *s)
{
	for (; s && *s; s++)
		fputc((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s, out);
}

static int
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* The nickname of a CA certificate: its CN, else the whole subject (malloc'd). */
static char *
cert_nickname(X509 *x)
{
	X509_NAME *nm = X509_get_subject_name(x);
	char buf[OC_SUBJECT_MAX + 1];
	int i;

	if ((i = X509_NAME_get_index_by_NID(nm, NID_commonName, -1)) >= 0) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, i));
		unsigned char *u = NULL;
		int n = ASN1_STRING_to_UTF8(&u, s);
		char *ret = NULL;

		if (n > 0 && (ret = strndup((char *)u, (size_t)n)) != NULL &&
		    (strlen(ret) != (size_t)n || has_ctl(ret))) {
			free(ret);
			ret = NULL;
		}
		OPENSSL_free(u);
		if (ret != NULL)
			return ret;
	}
	if (X509_NAME_oneline(nm, buf, sizeof(buf)) == NULL || has_ctl(buf))
		return strdup("OpenCES CA");
	return strdup(buf);
}

int
client_cm_print_roots(FILE *out, const struct client_policy *pol)
{
	X509 *x = NULL;
	char *nick = NULL, *pem = NULL;
	size_t printed = 0;
	int r = OC_OK;

	for (size_t i = 0; i < pol->ncas; i++) {
		const struct client_ca *ca = &pol->cas[i];
		if (ca->cert_der == NULL)
			continue;
		if ((r = pkix_cert_from_der(ca->cert_der, ca->cert_len, &x)) != OC_OK) {
			error_fr(r, "certificate of CA %d", ca->ref_id);
			goto out;
		}
		if (X509_check_issued(x, x) != X509_V_OK) {
			log_info("CA %d: not self-signed, left out of the roots", ca->ref_id);
		} else {
			if ((nick = cert_nickname(x)) == NULL ||
			    (r = pkix_cert_to_pem(x, &pem)) != OC_OK) {
				r = r != OC_OK ? r : OC_ERR_NOMEM;
				goto out;
			}
			fprintf(out, "%s\n%s", nick, pem);
			printed++;
			free(nick);
			free(pem);
			nick = pem = NULL;
		}
		X509_free(x);
		x = NULL;
	}
	if (printed > 0)
		fputc('\n', out);
out:
	free(nick);
	free(pem);
	X509_free(x);
	return r;
}

int
client_cm_print_templates(FILE *out, const struct client_policy *pol)
{
	for (size_t i = 0; i < pol->ntemplates; i++) {
		const struct client_template *t = &pol->templates[i];
		if (!t->enroll || t->cn == NULL || *t->cn == '\0' || has_ctl(t->cn) ||
		    strchr(t->cn, ',') != NULL)
			continue;
		fprintf(out, "%s\n", t->cn);
	}
	return OC_OK;
}

int
client_cm_uri_published(const struct client_policy *pol, uint32_t auth, const char *uri)
{
	for (size_t i = 0; i < pol->ncas; i++)
		for (size_t j = 0; j < pol->cas[i].nuris; j++) {
			const struct client_ca_uri *u = &pol->cas[i].uris[j];
			if (u->auth == auth && u->uri != NULL && strcasecmp(u->uri, uri) == 0)
				return 1;
		}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Operations */

struct cm_run {
	const struct client_cm_opts *o;
	const struct client_cm_env *e;
	FILE *out;
	struct client_flow f;
	struct client_rng rng;
	int flow_ready;
	/* SUBMIT / POLL */
	uint8_t *csr;
	size_t csr_len;
	EVP_PKEY *pub;
	const char *template_name;
};

static const char *
run_user(const struct cm_run *c)
{
	return c->o->c.auth == CLIENT_AUTH_PASSWORD ? c->o->c.user : NULL;
}

/* Credentials, HTTP and the policy. Returns CLIENT_CM_ISSUED when ready. */
static int
cm_policy(struct cm_run *c)
{
	const char *from = NULL;

	if (c->o == NULL) {
		fprintf(c->out, "opences-submit: no --policy-url given\n");
		return CLIENT_CM_UNDERCONFIGURED;
	}
	if (client_flow_init(&c->f, &c->o->c) != OC_OK) {
		c->flow_ready = 1;      /* cleared by the caller either way */
		fprintf(c->out, "opences-submit: cannot set up the client "
		    "(password file, CA file or client certificate)\n");
		return CLIENT_CM_UNDERCONFIGURED;
	}
	c->flow_ready = 1;
	if (client_rng_init(&c->rng) != OC_OK)
		return CLIENT_CM_UNDERCONFIGURED;
	switch (client_flow_policy(&c->f, &c->rng, &from)) {
	case CLIENT_EXIT_OK:
		return CLIENT_CM_ISSUED;
	case CLIENT_EXIT_UNREACHABLE:
		fprintf(c->out, "no policy service could be reached\n");
		return CLIENT_CM_UNREACHABLE;
	case CLIENT_EXIT_DENIED:
		return CLIENT_CM_REJECTED;      /* the reason is on out already */
	default:
		fprintf(c->out, "the policy service gave no usable answer\n");
		return CLIENT_CM_UNDERCONFIGURED;
	}
}

/* The RSTRC in c->f.rstrc, from url: certmonger's answer. */
static int
cm_answer(struct cm_run *c, const char *url)
{
	const struct client_rstrc *rs = &c->f.rstrc;
	X509 *x = NULL;
	char *pem = NULL;
	int ex = CLIENT_CM_UNDERCONFIGURED, r;

	switch (rs->kind) {
	case CLIENT_RSTRC_FAULT:
		put_line(c->out, rs->fault.reason && *rs->fault.reason ? rs->fault.reason :
		    "the enrollment service refused the request");
		if (rs->fault.has_error_code)
			fprintf(c->out, " (HRESULT 0x%08X)", rs->fault.error_code);
		fputc('\n', c->out);
		ex = CLIENT_CM_REJECTED;
		break;
	case CLIENT_RSTRC_PENDING:
		if (rs->request_id == NULL || has_ctl(rs->request_id) ||
		    strchr(rs->request_id, ',') != NULL) {
			fprintf(c->out, "pending without a usable RequestID: cannot poll\n");
			break;
		}
		if (c->o->poll_interval > 0) {
			fprintf(c->out, "%ld\n", c->o->poll_interval);
			ex = CLIENT_CM_WAIT_WITH_DELAY;
		} else
			ex = CLIENT_CM_WAIT;
		put_line(c->out, rs->request_id);
		fputc(',', c->out);
		put_line(c->out, rs->reference_uri ? rs->reference_uri : url);
		fputc('\n', c->out);
		log_info("request %s pending at %s", rs->request_id, url);
		break;
	case CLIENT_RSTRC_ISSUED:
		if ((r = pkix_cert_from_der(rs->cert_der, rs->cert_len, &x)) != OC_OK) {
			fprintf(c->out, "the issued certificate does not decode\n");
			break;
		}
		if (c->pub != NULL && EVP_PKEY_eq(X509_get0_pubkey(x), c->pub) != 1) {
			fprintf(c->out, "the issued certificate is not for the request's key\n");
			ex = CLIENT_CM_REJECTED;
			break;
		}
		if ((r = pkix_cert_to_pem(x, &pem)) != OC_OK)
			break;
		fputs(pem, c->out);
		ex = CLIENT_CM_ISSUED;
		break;
	default:
		fprintf(c->out, "no usable answer from %s\n", url);
		break;
	}
	free(pem);
	X509_free(x);
	return ex;
}

/* The failure of an exchange (not OC_OK) as an exit status. */
static int
cm_failure(struct cm_run *c, int r)
{
	switch (r) {
	case OC_ERR_UNAVAILABLE:
		fprintf(c->out, "no enrollment service could be reached\n");
		return CLIENT_CM_UNREACHABLE;
	case OC_ERR_AUTH:
		fprintf(c->out, "the enrollment service refused the credentials\n");
		return CLIENT_CM_UNDERCONFIGURED;
	default:
		fprintf(c->out, "enrollment failed: %s\n", oc_strerror(r));
		return CLIENT_CM_UNDERCONFIGURED;
	}
}

static int
exchange(struct cm_run *c, const char *url, struct ocbuf *req)
{
	struct client_http_resp resp;
	int r;

	memset(&resp, 0, sizeof(resp));
	client_rstrc_clear(&c->f.rstrc);
	if ((r = client_exchange(&c->f.http, url, ocbuf_ptr(req), ocbuf_avail(req),
	    &resp)) != OC_OK)
		goto out;
	if ((r = client_rstrc_parse(ocbuf_ptr(&resp.body), ocbuf_avail(&resp.body),
	    &c->f.rstrc)) != OC_OK)
		fprintf(stderr, "opences-submit: %s: unusable answer: %s\n", url, oc_strerror(r));
out:
	client_http_resp_free(&resp);
	return r;
}

static int
issue_attempt(void *ctx, const char *url)
{
	struct cm_run *c = ctx;
	struct ocbuf req;
	char mid[CLIENT_UUID_URN_LEN];
	int r;

	ocbuf_init(&req, CM_REQUEST_MAX);
	req.wipe = 1;           /* holds the password */
	if ((r = client_uuid_urn(mid)) != OC_OK ||
	    (r = client_cm_build_issue(&req, url, mid, run_user(c), c->f.password, c->csr,
	    c->csr_len, c->template_name, time(NULL))) != OC_OK) {
		error_fr(r, "RST request");
		goto out;
	}
	r = exchange(c, url, &req);
out:
	ocbuf_free(&req);
	return r;
}

/* CERTMONGER_CSR, checked before any network use. */
static int
cm_load_csr(struct cm_run *c)
{
	int r;

	if (c->e->csr == NULL) {
		fprintf(c->out, "no CERTMONGER_CSR in the environment\n");
		return CLIENT_CM_UNDERCONFIGURED;
	}
	if ((r = client_cm_csr_from_pem(c->e->csr, &c->csr, &c->csr_len, &c->pub)) != OC_OK) {
		fprintf(c->out, "CERTMONGER_CSR is not a usable certificate request: %s\n",
		    oc_strerror(r));
		return CLIENT_CM_UNDERCONFIGURED;
	}
	return CLIENT_CM_ISSUED;
}

static int
cm_submit(struct cm_run *c)
{
	const struct client_template *t;
	struct client_endpoint *eps = NULL;
	const char **urls = NULL;
	const char *name;
	size_t neps = 0, used = 0;
	int ex, r;

	name = c->e->profile ? c->e->profile : (c->o ? c->o->default_template : NULL);
	if (name == NULL) {
		fprintf(c->out, "no template: request with `getcert request -T TEMPLATE`\n");
		return CLIENT_CM_UNDERCONFIGURED;
	}
	if (strlen(name) > OC_TEMPLATE_NAME_MAX || has_ctl(name)) {
		fprintf(c->out, "bad template name in CERTMONGER_CA_PROFILE\n");
		return CLIENT_CM_UNDERCONFIGURED;
	}
	if ((ex = cm_load_csr(c)) != CLIENT_CM_ISSUED)
		return ex;
	if ((ex = cm_policy(c)) != CLIENT_CM_ISSUED)
		return ex;
	if ((t = client_policy_find(&c->f.pol, name)) == NULL || !t->enroll) {
		fprintf(c->out, "template %s is not offered to this account\n", name);
		return CLIENT_CM_REJECTED;
	}
	c->template_name = t->cn;
	/* a PKCS#10, not a signed renewal: the endpoints for new requests */
	if ((r = client_order_endpoints(&c->f.pol, t, c->o->c.auth, &c->rng, &eps,
	    &neps)) != OC_OK) {
		ex = cm_failure(c, r);
		goto out;
	}
	if (neps == 0) {
		fprintf(c->out, "no enrollment service for --auth %s offers template %s\n",
		    client_auth_name(c->o->c.auth), t->cn);
		ex = CLIENT_CM_UNDERCONFIGURED;
		goto out;
	}
	if ((urls = calloc(neps, sizeof(*urls))) == NULL) {
		ex = cm_failure(c, OC_ERR_NOMEM);
		goto out;
	}
	for (size_t i = 0; i < neps; i++)
		urls[i] = eps[i].uri;
	log_info("SUBMIT template %s%s to %zu enrollment URIs", t->cn,
	    c->e->certificate ? " (renewal)" : "", neps);
	if ((r = client_failover(urls, neps, issue_attempt, c, &used)) != OC_OK)
		ex = cm_failure(c, r);
	else
		ex = cm_answer(c, urls[used]);
out:
	free(urls);
	free(eps);
	return ex;
}

static int
cm_poll(struct cm_run *c)
{
	struct ocbuf req;
	char mid[CLIENT_UUID_URN_LEN];
	char *uri = NULL;
	uint32_t id = 0;
	int ex, r;

	ocbuf_init(&req, CM_REQUEST_MAX);
	req.wipe = 1;
	if (c->e->cookie == NULL ||
	    client_cm_cookie_parse(c->e->cookie, &id, &uri) != OC_OK) {
		fprintf(c->out, "no usable CERTMONGER_CA_COOKIE (want RequestID,URI)\n");
		ex = CLIENT_CM_UNDERCONFIGURED;
		goto out;
	}
	/* the CSR is optional here; when given, the certificate must be for its key */
	if (c->e->csr != NULL && (ex = cm_load_csr(c)) != CLIENT_CM_ISSUED)
		goto out;
	if ((ex = cm_policy(c)) != CLIENT_CM_ISSUED)
		goto out;
	/* credentials go only where the policy says enrollment services are */
	if (!client_cm_uri_published(&c->f.pol, c->o->c.auth, uri)) {
		fprintf(c->out, "the cookie's URI is not an enrollment service of the policy\n");
		ex = CLIENT_CM_REJECTED;
		goto out;
	}
	if ((r = client_uuid_urn(mid)) != OC_OK ||
	    (r = client_wstep_build_query(&req, uri, mid, run_user(c), c->f.password, id,
	    (long)time(NULL))) != OC_OK) {
		ex = cm_failure(c, r);
		goto out;
	}
	log_info("POLL request %u at %s", id, uri);
	if ((r = exchange(c, uri, &req)) != OC_OK) {
		ex = cm_failure(c, r);
		goto out;
	}
	ex = cm_answer(c, uri);
out:
	ocbuf_free(&req);
	free(uri);
	return ex;
}

int
client_cm_run(const struct client_cm_opts *o, const struct client_cm_env *e, FILE *out)
{
	struct cm_run c;
	int ex = CLIENT_CM_UNDERCONFIGURED;

	memset(&c, 0, sizeof(c));
	c.o = o;
	c.e = e;
	c.out = out;
	switch (client_cm_op_from_name(e->operation)) {
	case CLIENT_CM_OP_NONE:
		fprintf(out, "CERTMONGER_OPERATION is not set: run by certmonger "
		    "(getcert add-ca -e ...)\n");
		ex = CLIENT_CM_UNDERCONFIGURED;
		break;
	case CLIENT_CM_OP_IDENTIFY:
		fprintf(out, "OpenCES opences-submit %s\n", OC_VERSION);
		ex = CLIENT_CM_ISSUED;
		break;
	case CLIENT_CM_OP_GET_NEW_REQUEST_REQUIREMENTS:
	case CLIENT_CM_OP_GET_RENEW_REQUEST_REQUIREMENTS:
		/* the template, unless a default one is configured */
		if (o == NULL || o->default_template == NULL)
			fprintf(out, "CERTMONGER_CA_PROFILE\n");
		ex = CLIENT_CM_ISSUED;
		break;
	case CLIENT_CM_OP_GET_DEFAULT_TEMPLATE:
		if (o != NULL && o->default_template != NULL)
			fprintf(out, "%s\n", o->default_template);
		ex = CLIENT_CM_ISSUED;
		break;
	case CLIENT_CM_OP_GET_SUPPORTED_TEMPLATES:
		if ((ex = cm_policy(&c)) == CLIENT_CM_ISSUED &&
		    client_cm_print_templates(out, &c.f.pol) != OC_OK)
			ex = CLIENT_CM_UNDERCONFIGURED;
		break;
	case CLIENT_CM_OP_FETCH_ROOTS:
		if ((ex = cm_policy(&c)) == CLIENT_CM_ISSUED &&
		    client_cm_print_roots(out, &c.f.pol) != OC_OK)
			ex = CLIENT_CM_UNDERCONFIGURED;
		break;
	case CLIENT_CM_OP_SUBMIT:
		ex = cm_submit(&c);
		break;
	case CLIENT_CM_OP_POLL:
		ex = cm_poll(&c);
		break;
	case CLIENT_CM_OP_OTHER:
		ex = CLIENT_CM_UNSUPPORTED;
		break;
	}
	fflush(out);
	if (c.flow_ready)
		client_flow_clear(&c.f);
	free(c.csr);
	EVP_PKEY_free(c.pub);
	return ex;
}
