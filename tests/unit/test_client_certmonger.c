/*
 * opences-submit, the certmonger CA helper: the operations of certmonger's
 * doc/submit.txt dispatched from a fake environment with certmonger's exit
 * statuses (0 answer, 1/5 wait, 2 rejected, 3 unreachable, 4 underconfigured,
 * 6 unsupported), the cookie "RequestID,URI" of wstep.md 10.3, the RST Issue
 * with the template in AdditionalContext (wstep.md 5.3) and the
 * QueryTokenStatus (wstep.md 9.2), the FETCH-ROOTS format, the command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "client/certmonger.h"
#include "client/retrieve.h"
#include "common/limits.h"
#include "pkix/pkix.h"
#include "soap/soap.h"

int main(void);

#define URL_CES "https://ca.example.test/Example%20CA_CES_UsernamePassword/service.svc/CES"
#define MID     "urn:uuid:5ba70002-d87c-4dd3-90e3-565e626a0e15"
/* nothing listens on port 1 of the loopback: connection refused at once */
#define URL_DOWN "https://127.0.0.1:1/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP"

struct fixture {
	char dir[64];
	char pw[96], ca[96];
	char *csr_pem;              /* a CSR as certmonger hands it over */
	EVP_PKEY *key;
	X509 *cacert;               /* self-signed */
};

/* Run one operation with out captured; returns the exit status. */
static int
run(const struct client_cm_opts *o, const struct client_cm_env *e, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	int ex;

	assert_non_null(out);
	ex = client_cm_run(o, e, out);
	assert_int_equal(fclose(out), 0);
	*text = buf;
	return ex;
}

static X509 *
self_signed(EVP_PKEY *key, const char *cn)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();

	assert_non_null(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_int_equal(X509_set_subject_name(x, nm), 1);
	assert_int_equal(X509_set_issuer_name(x, nm), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	X509_NAME_free(nm);
	return x;
}

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct pkix_csr_params cp;
	uint8_t *der = NULL;
	size_t der_len = 0;
	const unsigned char *dp;
	X509_REQ *req;
	BIO *bio;
	BUF_MEM *bm;
	FILE *fp;

	assert_non_null(fx);
	strcpy(fx->dir, "/tmp/oc-cm-unit.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->pw, sizeof(fx->pw), "%s/pw", fx->dir);
	snprintf(fx->ca, sizeof(fx->ca), "%s/ca.pem", fx->dir);
	assert_int_equal(pkix_key_generate("ECDSA_P256", 256, &fx->key), OC_OK);
	fx->cacert = self_signed(fx->key, "Example Root CA");
	assert_non_null(fp = fopen(fx->ca, "w"));
	assert_int_equal(PEM_write_X509(fp, fx->cacert), 1);
	fclose(fp);
	assert_non_null(fp = fopen(fx->pw, "w"));
	fputs("secret\n", fp);
	fclose(fp);
	/* the CSR certmonger makes: subject and the 20.2 template name */
	memset(&cp, 0, sizeof(cp));
	cp.subject = "CN=host.example.test";
	cp.template_name = "WebServer";
	assert_int_equal(pkix_csr_build(fx->key, &cp, &der, &der_len), OC_OK);
	dp = der;
	assert_non_null(req = d2i_X509_REQ(NULL, &dp, (long)der_len));
	assert_non_null(bio = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	BIO_get_mem_ptr(bio, &bm);
	assert_non_null(fx->csr_pem = strndup(bm->data, bm->length));
	BIO_free(bio);
	X509_REQ_free(req);
	free(der);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx->csr_pem);
	EVP_PKEY_free(fx->key);
	X509_free(fx->cacert);
	free(fx);
	return 0;
}

static void
test_op_names(void **state)
{
	static const struct {
		const char *name;
		enum client_cm_op op;
	} cases[] = {
		{ "SUBMIT", CLIENT_CM_OP_SUBMIT },
		{ "POLL", CLIENT_CM_OP_POLL },
		{ "IDENTIFY", CLIENT_CM_OP_IDENTIFY },
		{ "FETCH-ROOTS", CLIENT_CM_OP_FETCH_ROOTS },
		{ "GET-SUPPORTED-TEMPLATES", CLIENT_CM_OP_GET_SUPPORTED_TEMPLATES },
		{ "GET-DEFAULT-TEMPLATE", CLIENT_CM_OP_GET_DEFAULT_TEMPLATE },
		{ "GET-NEW-REQUEST-REQUIREMENTS", CLIENT_CM_OP_GET_NEW_REQUEST_REQUIREMENTS },
		{ "GET-RENEW-REQUEST-REQUIREMENTS", CLIENT_CM_OP_GET_RENEW_REQUEST_REQUIREMENTS },
		{ "FETCH-SCEP-CA-CAPS", CLIENT_CM_OP_OTHER },
		{ "FETCH-SCEP-CA-CERTS", CLIENT_CM_OP_OTHER },
		{ "submit", CLIENT_CM_OP_OTHER },
		{ "", CLIENT_CM_OP_NONE },
		{ NULL, CLIENT_CM_OP_NONE },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(client_cm_op_from_name(cases[i].name), cases[i].op);
}

/* Operations answered without a server, and the checks before any network use. */
static void
test_dispatch_local(void **state)
{
	struct fixture *fx = *state;
	static const char garbage_csr[] =
	    "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
	const struct {
		struct client_cm_env e;
		int ex;
		const char *out;        /* exact stdout, or NULL: any */
	} cases[] = {
		{ { .operation = "IDENTIFY" }, CLIENT_CM_ISSUED,
		  "OpenCES opences-submit " OC_VERSION "\n" },
		{ { .operation = "GET-NEW-REQUEST-REQUIREMENTS" }, CLIENT_CM_ISSUED,
		  "CERTMONGER_CA_PROFILE\n" },
		{ { .operation = "GET-RENEW-REQUEST-REQUIREMENTS" }, CLIENT_CM_ISSUED,
		  "CERTMONGER_CA_PROFILE\n" },
		{ { .operation = "GET-DEFAULT-TEMPLATE" }, CLIENT_CM_ISSUED, "" },
		{ { .operation = "FETCH-SCEP-CA-CAPS" }, CLIENT_CM_UNSUPPORTED, "" },
		{ { .operation = "SOMETHING-NEW" }, CLIENT_CM_UNSUPPORTED, "" },
		{ { .operation = NULL }, CLIENT_CM_UNDERCONFIGURED, NULL },
		/* SUBMIT needs a CSR and a template */
		{ { .operation = "SUBMIT", .profile = "WebServer" }, CLIENT_CM_UNDERCONFIGURED,
		  "no CERTMONGER_CSR in the environment\n" },
		{ { .operation = "SUBMIT", .csr = fx->csr_pem }, CLIENT_CM_UNDERCONFIGURED, NULL },
		{ { .operation = "SUBMIT", .csr = garbage_csr, .profile = "WebServer" },
		  CLIENT_CM_UNDERCONFIGURED, NULL },
		{ { .operation = "SUBMIT", .csr = "not PEM", .profile = "WebServer" },
		  CLIENT_CM_UNDERCONFIGURED, NULL },
		{ { .operation = "SUBMIT", .csr = fx->csr_pem, .profile = "Web\nServer" },
		  CLIENT_CM_UNDERCONFIGURED, NULL },
		/* a good request but no server configured */
		{ { .operation = "SUBMIT", .csr = fx->csr_pem, .profile = "WebServer" },
		  CLIENT_CM_UNDERCONFIGURED, NULL },
		/* POLL needs the cookie of a pending SUBMIT */
		{ { .operation = "POLL" }, CLIENT_CM_UNDERCONFIGURED, NULL },
		{ { .operation = "POLL", .cookie = "42" }, CLIENT_CM_UNDERCONFIGURED, NULL },
		{ { .operation = "POLL", .cookie = "x," URL_CES }, CLIENT_CM_UNDERCONFIGURED, NULL },
		{ { .operation = "GET-SUPPORTED-TEMPLATES" }, CLIENT_CM_UNDERCONFIGURED, NULL },
		{ { .operation = "FETCH-ROOTS" }, CLIENT_CM_UNDERCONFIGURED, NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = NULL;
		int ex = run(NULL, &cases[i].e, &text);

		if (ex != cases[i].ex)
			fail_msg("case %zu (%s): exit %d, want %d; out: %s", i,
			    cases[i].e.operation ? cases[i].e.operation : "-", ex,
			    cases[i].ex, text);
		if (cases[i].out != NULL)
			assert_string_equal(text, cases[i].out);
		else if (ex != CLIENT_CM_UNSUPPORTED)
			assert_true(strlen(text) > 0);  /* a message for getcert list */
		free(text);
	}
}

static void
parse_args(struct client_cm_opts *o, const char *const *args, int expect_ok)
{
	char *argv[32];
	int argc = 0;

	for (; args[argc] != NULL; argc++)
		argv[argc] = (char *)args[argc];
	argv[argc] = NULL;
	if (expect_ok)
		assert_int_equal(client_cm_opts_parse(argc, argv, o), OC_OK);
	else
		assert_int_equal(client_cm_opts_parse(argc, argv, o), OC_ERR_INVALID);
}

static void
test_opts(void **state)
{
	struct fixture *fx = *state;
	struct client_cm_opts o;
	const char *good[] = { "opences-submit", "--poll-interval", "30",
	    "--policy-url", URL_DOWN, "--auth", "password", "--user", "alice",
	    "--password-file", fx->pw, "--default-template=WebServer", "--ca-file", fx->ca,
	    NULL };
	const char *no_url[] = { "opences-submit", "--auth", "kerberos", "--ca-file",
	    fx->ca, NULL };
	const char *bad_poll[] = { "opences-submit", "--poll-interval", "0", "--policy-url",
	    URL_DOWN, "--auth", "kerberos", "--ca-file", fx->ca, NULL };
	const char *poll_no_value[] = { "opences-submit", "--policy-url", URL_DOWN,
	    "--auth", "kerberos", "--ca-file", fx->ca, "--poll-interval", NULL };
	const char *enroll_only[] = { "opences-submit", "--policy-url", URL_DOWN,
	    "--auth", "kerberos", "--ca-file", fx->ca, "--template", "WebServer", NULL };
	const char *json[] = { "opences-submit", "--policy-url", URL_DOWN,
	    "--auth", "kerberos", "--ca-file", fx->ca, "--json", NULL };

	parse_args(&o, good, 1);
	assert_int_equal(o.poll_interval, 30);
	assert_string_equal(o.default_template, "WebServer");
	assert_int_equal(o.c.auth, CLIENT_AUTH_PASSWORD);
	assert_int_equal(o.c.policy_urls.n, 1);
	assert_string_equal(o.c.policy_urls.v[0], URL_DOWN);
	assert_string_equal(o.c.user, "alice");
	client_cm_opts_clear(&o);
	parse_args(&o, no_url, 0);
	parse_args(&o, bad_poll, 0);
	parse_args(&o, poll_no_value, 0);
	parse_args(&o, enroll_only, 0);
	parse_args(&o, json, 0);
	client_cm_opts_clear(&o);       /* cleared already: twice is fine */
}

/* With a configured default template the profile is no longer required. */
static void
test_default_template(void **state)
{
	struct fixture *fx = *state;
	struct client_cm_opts o;
	const char *args[] = { "opences-submit", "--default-template", "WebServer",
	    "--policy-url", URL_DOWN, "--auth", "kerberos", "--ca-file", fx->ca, NULL };
	struct client_cm_env e = { .operation = "GET-DEFAULT-TEMPLATE" };
	char *text = NULL;

	parse_args(&o, args, 1);
	assert_int_equal(run(&o, &e, &text), CLIENT_CM_ISSUED);
	assert_string_equal(text, "WebServer\n");
	free(text);
	e.operation = "GET-NEW-REQUEST-REQUIREMENTS";
	assert_int_equal(run(&o, &e, &text), CLIENT_CM_ISSUED);
	assert_string_equal(text, "");
	free(text);
	client_cm_opts_clear(&o);
}

/* A configured helper whose policy service is down: 3, certmonger retries later. */
static void
test_unreachable(void **state)
{
	struct fixture *fx = *state;
	struct client_cm_opts o;
	const char *args[] = { "opences-submit", "--policy-url", URL_DOWN, "--auth",
	    "password", "--user", "alice", "--password-file", fx->pw, "--ca-file", fx->ca,
	    "--connect-timeout", "2", NULL };
	const struct client_cm_env envs[] = {
		{ .operation = "SUBMIT", .csr = fx->csr_pem, .profile = "WebServer" },
		{ .operation = "POLL", .csr = fx->csr_pem, .cookie = "42," URL_CES },
		{ .operation = "FETCH-ROOTS" },
		{ .operation = "GET-SUPPORTED-TEMPLATES" },
	};

	parse_args(&o, args, 1);
	for (size_t i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		char *text = NULL;
		assert_int_equal(run(&o, &envs[i], &text), CLIENT_CM_UNREACHABLE);
		assert_non_null(strstr(text, "could be reached"));
		free(text);
	}
	client_cm_opts_clear(&o);
}

static void
test_cookie(void **state)
{
	static const struct {
		const char *in;
		int ok;
		uint32_t id;
		const char *uri;
	} cases[] = {
		{ "42," URL_CES, 1, 42, URL_CES },
		{ "42," URL_CES "\n", 1, 42, URL_CES },         /* as printed */
		{ "2147483647,https://h/x", 1, 2147483647u, "https://h/x" },
		{ "1,https://h/x", 1, 1, "https://h/x" },
		{ "0,https://h/x", 0, 0, NULL },
		{ "2147483648,https://h/x", 0, 0, NULL },
		{ "4294967296,https://h/x", 0, 0, NULL },
		{ "99999999999,https://h/x", 0, 0, NULL },
		{ "-1,https://h/x", 0, 0, NULL },
		{ "+1,https://h/x", 0, 0, NULL },
		{ " 1,https://h/x", 0, 0, NULL },
		{ ",https://h/x", 0, 0, NULL },
		{ "42", 0, 0, NULL },
		{ "42,", 0, 0, NULL },
		{ "42,https://", 0, 0, NULL },
		{ "42,http://h/x", 0, 0, NULL },                /* never credentials over http */
		{ "42,https://h/a b", 0, 0, NULL },
		{ "42,https://h/a\nb", 0, 0, NULL },
		{ "None,https://h/x", 0, 0, NULL },             /* cepces' cookie without RequestID */
		{ "", 0, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t id = 1;
		char *uri = NULL;
		int r = client_cm_cookie_parse(cases[i].in, &id, &uri);

		if (cases[i].ok) {
			assert_int_equal(r, OC_OK);
			assert_int_equal(id, cases[i].id);
			assert_string_equal(uri, cases[i].uri);
		} else {
			if (r != OC_ERR_PARSE)
				fail_msg("case %zu '%s' accepted", i, cases[i].in);
			assert_null(uri);
		}
		free(uri);
	}
}

/* The CSR goes out byte for byte as certmonger made it. */
static void
test_csr(void **state)
{
	struct fixture *fx = *state;
	uint8_t *der = NULL;
	size_t len = 0;
	EVP_PKEY *pub = NULL;
	BIO *bio;
	X509_REQ *req;
	uint8_t *back = NULL;
	int n;
	char *tampered;

	assert_int_equal(client_cm_csr_from_pem(fx->csr_pem, &der, &len, &pub), OC_OK);
	assert_int_equal(EVP_PKEY_eq(pub, fx->key), 1);
	assert_non_null(bio = BIO_new_mem_buf(fx->csr_pem, -1));
	assert_non_null(req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL));
	assert_true((n = i2d_X509_REQ(req, &back)) > 0);
	assert_int_equal((size_t)n, len);
	assert_memory_equal(back, der, len);
	OPENSSL_free(back);
	X509_REQ_free(req);
	BIO_free(bio);
	free(der);
	EVP_PKEY_free(pub);

	/* a certificate is not a request */
	{
		BIO *b2 = BIO_new(BIO_s_mem());
		BUF_MEM *bm;
		char *pem;
		assert_int_equal(PEM_write_bio_X509(b2, fx->cacert), 1);
		BIO_get_mem_ptr(b2, &bm);
		pem = strndup(bm->data, bm->length);
		assert_int_equal(client_cm_csr_from_pem(pem, &der, &len, &pub), OC_ERR_PARSE);
		assert_null(der);
		assert_null(pub);
		free(pem);
		BIO_free(b2);
	}
	/* a request whose signature no longer matches: one byte of the body changed */
	assert_non_null(tampered = strdup(fx->csr_pem));
	{
		char *p = strstr(tampered, "\n") + 40;
		*p = (*p == 'A') ? 'B' : 'A';
	}
	assert_int_not_equal(client_cm_csr_from_pem(tampered, &der, &len, &pub), OC_OK);
	assert_null(der);
	free(tampered);
}

static xmlNodePtr
child(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr c = oc_xml_child(n, ns, name);

	assert_non_null(c);
	return c;
}

static void
expect_text(xmlNodePtr n, const char *want)
{
	char *s = oc_xml_text(n);

	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

/* wstep.md 5.3 item 4: the template named in AdditionalContext, next to the PKCS#10. */
static void
test_issue_request(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = { "WebServer", "R&D <Users>" };
	uint8_t *der = NULL, *got = NULL;
	size_t len = 0, got_len = 0;
	EVP_PKEY *pub = NULL;

	assert_int_equal(client_cm_csr_from_pem(fx->csr_pem, &der, &len, &pub), OC_OK);
	for (size_t i = 0; i < 2; i++) {
		struct ocbuf b;
		struct oc_soap_msg msg;
		xmlNodePtr ctx, item, bst;
		xmlChar *nm;
		char *text;

		ocbuf_init(&b, 1 << 20);
		memset(&msg, 0, sizeof(msg));
		assert_int_equal(client_cm_build_issue(&b, URL_CES, MID, "alice", "pw", der, len,
		    names[i], 1764072000), OC_OK);
		assert_int_equal(oc_soap_parse(ocbuf_ptr(&b), ocbuf_avail(&b), &msg), OC_OK);
		assert_string_equal(msg.action,
		    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep");
		assert_string_equal(msg.to, URL_CES);
		assert_string_equal(msg.username, "alice");
		assert_true(oc_xml_is(msg.payload, OC_NS_WST, "RequestSecurityToken"));
		expect_text(child(msg.payload, OC_NS_WST, "RequestType"),
		    "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue");
		bst = child(msg.payload, OC_NS_WSSE, "BinarySecurityToken");
		assert_non_null(text = oc_xml_text(bst));
		assert_int_equal(oc_b64_decode(text, strlen(text), &got, &got_len, 1 << 16), OC_OK);
		assert_int_equal(got_len, len);
		assert_memory_equal(got, der, len);
		free(got);
		free(text);
		ctx = child(msg.payload, OC_NS_AUTH, "AdditionalContext");
		item = child(ctx, OC_NS_AUTH, "ContextItem");
		assert_non_null(nm = xmlGetNoNsProp(item, (const xmlChar *)"Name"));
		assert_string_equal((const char *)nm, "CertificateTemplate");
		xmlFree(nm);
		expect_text(child(item, OC_NS_AUTH, "Value"), names[i]);
		oc_soap_msg_clear(&msg);
		ocbuf_free(&b);
	}
	{
		struct ocbuf b;
		ocbuf_init(&b, 1 << 20);
		assert_int_equal(client_cm_build_issue(&b, URL_CES, MID, NULL, NULL, der, len,
		    "", 1764072000), OC_ERR_INVALID);
		ocbuf_free(&b);
	}
	free(der);
	EVP_PKEY_free(pub);
}

/* wstep.md 9.2 / spec 4.1.3.1: the POLL's QueryTokenStatus carries the cookie's RequestID. */
static void
test_query_request(void **state)
{
	static const unsigned long ids[] = { 42, 1, 2147483647ul };
	static const char *const want[] = { "42", "1", "2147483647" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct ocbuf b;
		struct oc_soap_msg msg;

		ocbuf_init(&b, 1 << 16);
		memset(&msg, 0, sizeof(msg));
		assert_int_equal(client_wstep_build_query(&b, URL_CES, MID, i == 1 ? NULL : "bob",
		    "pw", ids[i], 1764072000), OC_OK);
		assert_int_equal(oc_soap_parse(ocbuf_ptr(&b), ocbuf_avail(&b), &msg), OC_OK);
		assert_string_equal(msg.action,
		    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep");
		assert_int_equal(msg.has_username_token, i != 1);
		expect_text(child(msg.payload, OC_NS_WST, "RequestType"),
		    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/QueryTokenStatus");
		expect_text(child(msg.payload, OC_NS_WST, "TokenType"),
		    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3");
		expect_text(child(msg.payload, OC_NS_WSTEP, "RequestID"), want[i]);
		oc_soap_msg_clear(&msg);
		ocbuf_free(&b);
	}
}

/* FETCH-ROOTS: nickname line, PEM, blank line; GET-SUPPORTED-TEMPLATES: enrollable names. */
static void
test_policy_outputs(void **state)
{
	struct fixture *fx = *state;
	struct client_policy pol;
	struct client_ca cas[2];
	struct client_template ts[3];
	struct client_ca_uri uris[1];
	EVP_PKEY *k2 = NULL;
	X509 *sub = NULL;
	X509_NAME *nm;
	uint8_t *d0 = NULL, *d1 = NULL;
	int n0, n1;
	char *text = NULL, *pem = NULL, *want = NULL;
	size_t len = 0;
	FILE *out;

	memset(&pol, 0, sizeof(pol));
	memset(cas, 0, sizeof(cas));
	memset(ts, 0, sizeof(ts));
	/* CA 0: self-signed; CA 1: issued by CA 0 (left out) */
	assert_int_equal(pkix_key_generate("ECDSA_P256", 256, &k2), OC_OK);
	sub = self_signed(k2, "Example Issuing CA");
	nm = X509_get_subject_name(fx->cacert);
	assert_int_equal(X509_set_issuer_name(sub, nm), 1);
	assert_true(X509_sign(sub, fx->key, EVP_sha256()) > 0);
	assert_true((n0 = i2d_X509(fx->cacert, &d0)) > 0);
	assert_true((n1 = i2d_X509(sub, &d1)) > 0);
	cas[0].cert_der = d0;
	cas[0].cert_len = (size_t)n0;
	cas[1].cert_der = d1;
	cas[1].cert_len = (size_t)n1;
	uris[0].auth = CLIENT_AUTH_PASSWORD;
	uris[0].uri = (char *)URL_CES;
	cas[1].uris = uris;
	cas[1].nuris = 1;
	pol.cas = cas;
	pol.ncas = 2;
	assert_int_equal(pkix_cert_to_pem(fx->cacert, &pem), OC_OK);
	assert_true(asprintf(&want, "Example Root CA\n%s\n", pem) > 0);
	assert_non_null(out = open_memstream(&text, &len));
	assert_int_equal(client_cm_print_roots(out, &pol), OC_OK);
	fclose(out);
	assert_string_equal(text, want);
	free(text);
	free(want);
	free(pem);

	ts[0].cn = (char *)"WebServer";
	ts[0].enroll = 1;
	ts[1].cn = (char *)"Administrator";     /* no enroll permission */
	ts[2].cn = (char *)"OpenCESUserApproval";
	ts[2].enroll = 1;
	pol.templates = ts;
	pol.ntemplates = 3;
	assert_non_null(out = open_memstream(&text, &len));
	assert_int_equal(client_cm_print_templates(out, &pol), OC_OK);
	fclose(out);
	assert_string_equal(text, "WebServer\nOpenCESUserApproval\n");
	free(text);

	/* the POLL cookie's URI must be a published one of the same auth */
	assert_true(client_cm_uri_published(&pol, CLIENT_AUTH_PASSWORD, URL_CES));
	assert_true(client_cm_uri_published(&pol, CLIENT_AUTH_PASSWORD,
	    "HTTPS://CA.EXAMPLE.TEST/Example%20CA_CES_UsernamePassword/service.svc/CES"));
	assert_false(client_cm_uri_published(&pol, CLIENT_AUTH_KERBEROS, URL_CES));
	assert_false(client_cm_uri_published(&pol, CLIENT_AUTH_PASSWORD,
	    "https://evil.example.test/Example%20CA_CES_UsernamePassword/service.svc/CES"));

	OPENSSL_free(d0);
	OPENSSL_free(d1);
	X509_free(sub);
	EVP_PKEY_free(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_op_names),
		cmocka_unit_test(test_dispatch_local),
		cmocka_unit_test(test_opts),
		cmocka_unit_test(test_default_template),
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_issue_request),
		cmocka_unit_test(test_query_request),
		cmocka_unit_test(test_policy_outputs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
