/*
 * opences requests: the GetPolicies and RST Issue envelopes are accepted by
 * our SOAP parser, carry the headers real clients send (Action, MessageID,
 * To, UsernameToken with the user and the PasswordText) and the payload of
 * xcep.md 6.1 / wstep.md 9.1. Also the command line and the output files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "client/client.h"
#include "common/limits.h"
#include "pkix/pkix.h"
#include "soap/soap.h"

int main(void);

#define URL_CEP "https://cep.example.test/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP"
#define URL_CES "https://ca.example.test/Example%20CA_CES_UsernamePassword/service.svc/CES"
#define MID     "urn:uuid:5ba70002-d87c-4dd3-90e3-565e626a0e15"

static char *
child_text(xmlNodePtr n, const char *ns, const char *name)
{
	xmlNodePtr c = oc_xml_child(n, ns, name);

	assert_non_null(c);
	return oc_xml_text(c);
}

static void
expect_text(xmlNodePtr n, const char *ns, const char *name, const char *want)
{
	char *s = child_text(n, ns, name);

	assert_string_equal(s, want);
	free(s);
}

static void
test_getpolicies_request(void **state)
{
	static const struct {
		const char *user, *password;
	} cases[] = {
		{ "alice@EXAMPLE.TEST", "correct horse" },
		{ "EXAMPLE\\bob", "p<&>\"'w" },     /* escaped on the way out, intact after parsing */
		{ NULL, NULL },                      /* Kerberos / certificate: no Security header */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ocbuf b;
		struct oc_soap_msg msg;
		xmlNodePtr cl, rf, n;

		ocbuf_init(&b, 65536);
		memset(&msg, 0, sizeof(msg));
		assert_int_equal(client_xcep_build_request(&b, URL_CEP, MID, cases[i].user,
		    cases[i].password, 1764072000), OC_OK);
		assert_int_equal(oc_soap_parse(ocbuf_ptr(&b), ocbuf_avail(&b), &msg), OC_OK);
		assert_string_equal(msg.action,
		    "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies");
		assert_string_equal(msg.message_id, MID);
		assert_string_equal(msg.to, URL_CEP);
		if (cases[i].user) {
			assert_true(msg.has_username_token);
			assert_string_equal(msg.username, cases[i].user);
			assert_string_equal(msg.password, cases[i].password);
			assert_false(msg.password_digest);
			/* Windows shape: a Timestamp 5 minutes wide */
			assert_non_null(strstr((const char *)ocbuf_ptr(&b),
			    "<u:Created>2025-11-25T12:00:00Z</u:Created>"
			    "<u:Expires>2025-11-25T12:05:00Z</u:Expires>"));
		} else {
			assert_false(msg.has_username_token);
			assert_null(strstr((const char *)ocbuf_ptr(&b), "Security"));
		}
		/* body as cepces >= 0.3.17 sends it */
		assert_true(oc_xml_is(msg.payload, OC_NS_XCEP, "GetPolicies"));
		cl = oc_xml_child(msg.payload, OC_NS_XCEP, "client");
		assert_non_null(cl);
		assert_true(oc_xml_is_nil(oc_xml_child(cl, OC_NS_XCEP, "lastUpdate")));
		assert_true(oc_xml_is_nil(oc_xml_child(cl, OC_NS_XCEP, "preferredLanguage")));
		rf = oc_xml_child(msg.payload, OC_NS_XCEP, "requestFilter");
		assert_non_null(rf);
		assert_false(oc_xml_is_nil(rf));
		n = oc_xml_child(rf, OC_NS_XCEP, "policyOIDs");
		assert_non_null(n);
		assert_true(oc_xml_is_nil(n));
		expect_text(rf, OC_NS_XCEP, "clientVersion", "0");
		expect_text(rf, OC_NS_XCEP, "serverVersion", "0");
		oc_soap_msg_clear(&msg);
		ocbuf_free(&b);
	}
}

static void
test_rst_issue_request(void **state)
{
	static const char *const algs[] = { "ECDSA_P256", "RSA" };

	for (size_t i = 0; i < 2; i++) {
		struct pkix_csr_params cp;
		struct oc_strlist dns = { NULL, 0 };
		struct oc_req_info ri;
		struct ocbuf b;
		struct oc_soap_msg msg;
		EVP_PKEY *key = NULL;
		uint8_t *csr = NULL, *back = NULL;
		size_t csr_len = 0, back_len = 0;
		xmlNodePtr bst;
		char *text, *line, *vt;

		assert_int_equal(pkix_key_generate(algs[i], 2048, &key), OC_OK);
		assert_int_equal(oc_strlist_add(&dns, "host.example.test"), OC_OK);
		memset(&cp, 0, sizeof(cp));
		cp.subject = "CN=host.example.test";
		cp.dns = &dns;
		cp.template_name = "WebServer";
		assert_int_equal(pkix_csr_build(key, &cp, &csr, &csr_len), OC_OK);

		ocbuf_init(&b, 65536);
		memset(&msg, 0, sizeof(msg));
		assert_int_equal(client_wstep_build_issue(&b, URL_CES, MID, "alice@EXAMPLE.TEST",
		    "pw", csr, csr_len, 1764072000), OC_OK);
		assert_int_equal(oc_soap_parse(ocbuf_ptr(&b), ocbuf_avail(&b), &msg), OC_OK);
		assert_string_equal(msg.action,
		    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep");
		assert_string_equal(msg.to, URL_CES);
		assert_true(msg.has_username_token);
		assert_string_equal(msg.username, "alice@EXAMPLE.TEST");
		assert_string_equal(msg.password, "pw");
		assert_true(oc_xml_is(msg.payload, OC_NS_WST, "RequestSecurityToken"));
		expect_text(msg.payload, OC_NS_WST, "TokenType",
		    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3");
		expect_text(msg.payload, OC_NS_WST, "RequestType",
		    "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue");
		bst = oc_xml_child(msg.payload, OC_NS_WSSE, "BinarySecurityToken");
		assert_non_null(bst);
		vt = (char *)xmlGetNoNsProp(bst, (const xmlChar *)"ValueType");
		assert_string_equal(vt,
		    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10");
		xmlFree(vt);
		vt = (char *)xmlGetNoNsProp(bst, (const xmlChar *)"EncodingType");
		assert_string_equal(vt, "http://docs.oasis-open.org/wss/2004/01/"
		    "oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary");
		xmlFree(vt);
		/* PEM-body layout: 64-column lines, no leading/trailing whitespace */
		text = oc_xml_text(bst);
		for (line = text; line != NULL; ) {
			char *nl = strchr(line, '\n');
			size_t l = nl ? (size_t)(nl - line) : strlen(line);
			assert_true(l <= 64);
			if (nl)
				assert_int_equal(l, 64);
			line = nl ? nl + 1 : NULL;
		}
		assert_int_equal(oc_b64_decode(text, strlen(text), &back, &back_len,
		    OC_REQUEST_DER_MAX), OC_OK);
		assert_int_equal(back_len, csr_len);
		assert_memory_equal(back, csr, csr_len);
		/* and what the server side will see in it */
		memset(&ri, 0, sizeof(ri));
		assert_int_equal(pkix_request_parse(back, back_len, &ri), OC_OK);
		assert_true(ri.csr_signature_ok);
		assert_string_equal(ri.template_v1_name, "WebServer");
		assert_string_equal(ri.subject, "CN=host.example.test");
		oc_req_info_clear(&ri);
		free(text);
		free(back);
		oc_soap_msg_clear(&msg);
		ocbuf_free(&b);
		free(csr);
		oc_strlist_free(&dns);
		EVP_PKEY_free(key);
	}
	/* no CSR, no request */
	{
		struct ocbuf b;
		ocbuf_init(&b, 1024);
		assert_int_equal(client_wstep_build_issue(&b, URL_CES, MID, NULL, NULL,
		    (const uint8_t *)"", 0, 0), OC_ERR_INVALID);
		ocbuf_free(&b);
	}
}

/* ---------------------------------------------------------------- */
/* Command line */

static int
parse(struct client_opts *o, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return client_opts_parse(argc, argv, o);
}

static void
test_cli(void **state)
{
	struct client_opts o;
	char *ok[] = { "opences", "enroll", "--policy-url", "https://a/CEP", "--policy-url",
	    "https://b/CEP", "--auth", "password", "--user", "u", "--password-file", "/pw",
	    "--template", "WebServer", "--ca-file", "ca.pem", "--subject", "CN=x",
	    "--dns", "x.example", "--dns", "y.example", "--key-out", "k", "--cert-out", "c",
	    "--timeout", "9", "--connect-timeout", "2", "-v", NULL };
	char *policy[] = { "opences", "policy", "--policy-url", "https://a/CEP", "--auth",
	    "kerberos", "--ca-file", "ca.pem", "--json", NULL };
	char *help[] = { "opences", "enroll", "--help", NULL };
	static char *bad[][20] = {
		{ "opences", NULL },
		{ "opences", "frobnicate", NULL },
		{ "opences", "enroll", "--policy-url", "http://a/CEP", NULL },
		/* missing --template */
		{ "opences", "enroll", "--policy-url", "https://a/CEP", "--auth", "password",
		  "--user", "u", "--password-file", "/pw", "--ca-file", "c", "--key-out", "k",
		  "--cert-out", "c2", NULL },
		/* password auth without a password file */
		{ "opences", "policy", "--policy-url", "https://a/CEP", "--auth", "password",
		  "--user", "u", "--ca-file", "c", NULL },
		/* unknown auth */
		{ "opences", "policy", "--policy-url", "https://a/CEP", "--auth", "ntlm",
		  "--ca-file", "c", NULL },
		/* --template is not a policy option */
		{ "opences", "policy", "--policy-url", "https://a/CEP", "--auth", "kerberos",
		  "--ca-file", "c", "--template", "x", NULL },
		/* bad timeout */
		{ "opences", "policy", "--policy-url", "https://a/CEP", "--auth", "kerberos",
		  "--ca-file", "c", "--timeout", "0", NULL },
		/* a password is never taken from the command line */
		{ "opences", "policy", "--policy-url", "https://a/CEP", "--auth", "password",
		  "--user", "u", "--password", "secret", "--ca-file", "c", NULL },
		/* key and cert to the same file */
		{ "opences", "enroll", "--policy-url", "https://a/CEP", "--auth", "kerberos",
		  "--ca-file", "c", "--template", "T", "--key-out", "x", "--cert-out", "x", NULL },
		/* unparsable subject */
		{ "opences", "enroll", "--policy-url", "https://a/CEP", "--auth", "kerberos",
		  "--ca-file", "c", "--template", "T", "--key-out", "k", "--cert-out", "c2",
		  "--subject", "no equals sign", NULL },
	};

	assert_int_equal(parse(&o, ok), OC_OK);
	assert_int_equal(o.cmd, CLIENT_CMD_ENROLL);
	assert_int_equal(o.policy_urls.n, 2);
	assert_int_equal(o.auth, CLIENT_AUTH_PASSWORD);
	assert_string_equal(o.user, "u");
	assert_string_equal(o.template_name, "WebServer");
	assert_int_equal(o.dns.n, 2);
	assert_string_equal(o.dns.v[1], "y.example");
	assert_int_equal(o.timeout, 9);
	assert_int_equal(o.connect_timeout, 2);
	assert_true(o.verbose);
	client_opts_clear(&o);

	assert_int_equal(parse(&o, policy), OC_OK);
	assert_int_equal(o.cmd, CLIENT_CMD_POLICY);
	assert_int_equal(o.auth, CLIENT_AUTH_KERBEROS);
	assert_true(o.json);
	assert_int_equal(o.timeout, 30);
	assert_int_equal(o.connect_timeout, 5);
	client_opts_clear(&o);

	assert_int_equal(parse(&o, help), OC_OK);
	assert_true(o.help);
	client_opts_clear(&o);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&o, bad[i]) != OC_ERR_INVALID)
			fail_msg("bad command line %zu accepted", i);
	}
}

/* ---------------------------------------------------------------- */
/* Files */

static void
test_write_file(void **state)
{
	char dir[] = "/tmp/oc-client-XXXXXX", path[256], victim[256], link_path[256];
	struct stat st;
	uint8_t *d = NULL;
	size_t len;
	mode_t old = umask(0);

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	assert_int_equal(client_write_file(path, "secret\n", 7, 0600), OC_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* overwriting keeps the mode of the new content */
	assert_int_equal(client_write_file(path, "again\n", 6, 0600), OC_OK);
	assert_int_equal(oc_file_read(path, &d, &len, 100), OC_OK);
	assert_int_equal(len, 6);
	free(d);
	/* a symlink at the target is replaced, its target is not written through */
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link_path, sizeof(link_path), "%s/link.pem", dir);
	assert_int_equal(client_write_file(victim, "keep", 4, 0644), OC_OK);
	assert_int_equal(symlink(victim, link_path), 0);
	assert_int_equal(client_write_file(link_path, "new-key", 7, 0600), OC_OK);
	assert_int_equal(oc_file_read(victim, &d, &len, 100), OC_OK);
	assert_int_equal(len, 4);
	assert_memory_equal(d, "keep", 4);
	free(d);
	assert_int_equal(lstat(link_path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* no directory: an error, no file */
	snprintf(path, sizeof(path), "%s/nodir/key.pem", dir);
	assert_int_not_equal(client_write_file(path, "x", 1, 0600), OC_OK);
	umask(old);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

static void
test_read_password(void **state)
{
	static const struct {
		const char *content;
		size_t len;
		int rc;
		const char *want;
	} cases[] = {
		{ "secret\n", 7, OC_OK, "secret" },
		{ "secret", 6, OC_OK, "secret" },
		{ "secret\r\nsecond line\n", 20, OC_OK, "secret" },
		{ " spaces kept \n", 14, OC_OK, " spaces kept " },
		{ "\n", 1, OC_ERR_INVALID, NULL },
		{ "", 0, OC_ERR_INVALID, NULL },
		{ "nul\0inside\n", 11, OC_ERR_INVALID, NULL },
	};
	char path[] = "/tmp/oc-client-pw-XXXXXX";
	char *pw = NULL, longpw[OC_PASSWORD_MAX + 2];
	int fd;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(path, "/tmp/oc-client-pw-XXXXXX");
		assert_true((fd = mkstemp(path)) >= 0);
		assert_int_equal(write(fd, cases[i].content, cases[i].len), (ssize_t)cases[i].len);
		close(fd);
		assert_int_equal(client_read_password(path, &pw), cases[i].rc);
		if (cases[i].want)
			assert_string_equal(pw, cases[i].want);
		else
			assert_null(pw);
		oc_free_secret(pw);
		pw = NULL;
		unlink(path);
	}
	memset(longpw, 'a', sizeof(longpw));
	strcpy(path, "/tmp/oc-client-pw-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, longpw, sizeof(longpw)), (ssize_t)sizeof(longpw));
	close(fd);
	assert_int_equal(client_read_password(path, &pw), OC_ERR_INVALID);
	unlink(path);
	assert_int_equal(client_read_password("/nonexistent/pw", &pw), OC_ERR_NOT_FOUND);
}

static void
test_summary_and_json(void **state)
{
	const char *dir = getenv("OC_VECTORS");
	char path[1024];
	uint8_t *d = NULL;
	size_t len;
	BIO *bio;
	X509 *x;
	char *line = NULL;
	struct ocbuf b;

	snprintf(path, sizeof(path), "%s/client/wstep_9_4_issued_cert.pem",
	    dir ? dir : "tests/vectors");
	assert_int_equal(oc_file_read(path, &d, &len, 1 << 16), OC_OK);
	bio = BIO_new_mem_buf(d, (int)len);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(x);
	assert_int_equal(client_cert_summary(x, "WebServer", URL_CES, &line), OC_OK);
	assert_string_equal(line, "issued template=WebServer subject=\"CN=host.example.test\" "
	    "serial=5200001B65C445BA0A6C1FE5 notAfter=2027-11-25T13:35:56Z uri=" URL_CES);
	free(line);
	X509_free(x);
	BIO_free(bio);
	free(d);

	ocbuf_init(&b, 1024);
	assert_int_equal(client_json_str(&b, "a\"b\\c\n\x01"), OC_OK);
	assert_int_equal(client_json_str(&b, NULL), OC_OK);
	assert_int_equal(ocbuf_putc(&b, '\0'), OC_OK);
	assert_string_equal((const char *)ocbuf_ptr(&b), "\"a\\\"b\\\\c\\u000a\\u0001\"null");
	ocbuf_free(&b);
}

static void
test_print_policy(void **state)
{
	const char *dir = getenv("OC_VECTORS");
	char path[1024], *out = NULL;
	uint8_t *d = NULL;
	size_t len, olen = 0;
	struct client_policy pol;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/client/xcep_8_2_full_policy.xml",
	    dir ? dir : "tests/vectors");
	assert_int_equal(oc_file_read(path, &d, &len, 1 << 20), OC_OK);
	memset(&pol, 0, sizeof(pol));
	assert_int_equal(client_policy_parse(d, len, &pol), OC_OK);
	pol.templates[0].enroll = 0;    /* EFS: not enrollable -> not listed */
	fp = open_memstream(&out, &olen);
	assert_int_equal(client_print_policy(fp, &pol, "https://cep/x", 1), OC_OK);
	fclose(fp);
	assert_non_null(strstr(out, "\"policyID\":\"{083C7011-1D0A-4855-885D-AC945184658C}\""));
	assert_non_null(strstr(out, "\"templates\":[{\"name\":\"ComputerCNG\",\"displayName\":"
	    "\"Computer (CNG)\""));
	assert_null(strstr(out, "\"EFS\""));
	assert_non_null(strstr(out, "\"keyAlgorithm\":\"RSA\",\"keyBits\":2048"));
	assert_non_null(strstr(out, "{\"uri\":\"https://ca.example.com/Example-CA_CES_UsernamePassword/"
	    "service.svc/CES\",\"clientAuthentication\":4,\"priority\":1,\"renewalOnly\":false,\"ca\":0}"));
	free(out);
	out = NULL;
	fp = open_memstream(&out, &olen);
	assert_int_equal(client_print_policy(fp, &pol, "https://cep/x", 0), OC_OK);
	fclose(fp);
	assert_non_null(strstr(out, "template ComputerCNG schema=3 revision=100.2"));
	assert_non_null(strstr(out, "ces https://ca.example.com/Example-CA_CES_Kerberos/service.svc/CES"
	    " auth=kerberos priority=1"));
	assert_null(strstr(out, "template EFS"));
	free(out);
	client_policy_clear(&pol);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getpolicies_request),
		cmocka_unit_test(test_rst_issue_request),
		cmocka_unit_test(test_cli),
		cmocka_unit_test(test_write_file),
		cmocka_unit_test(test_read_password),
		cmocka_unit_test(test_summary_and_json),
		cmocka_unit_test(test_print_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
