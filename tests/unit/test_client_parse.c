/*
 * opences response parsers over the fact-sheet examples (tests/vectors/client):
 * the Windows GetPoliciesResponse of xcep.md 8.2 and 8.3, the WCF fault of
 * 5.1, and the RSTRC shapes of wstep.md 9.4 (issued, with a real certificate;
 * inline and Windows-wrapped with &#xD;), 9.5 (pending) and 9.6 (fault).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "client/client.h"
#include "common/limits.h"
#include "common/util.h"

int main(void);

static uint8_t *
vector(const char *name, size_t *len)
{
	char path[1024];
	const char *dir = getenv("OC_VECTORS");
	uint8_t *d = NULL;

	snprintf(path, sizeof(path), "%s/client/%s", dir ? dir : "tests/vectors", name);
	assert_int_equal(oc_file_read(path, &d, len, 1 << 20), OC_OK);
	return d;
}

/* ---------------------------------------------------------------- */
/* GetPoliciesResponse, xcep.md 8.2 */

struct want_template {
	const char *cn;
	uint32_t schema;
	int enroll, auto_enroll;
	uint32_t min_key, key_spec;
	const char *alg_oid, *hash_oid;
	uint32_t major, minor;
	uint32_t pk_flags, name_flags, enroll_flags, general_flags;
	const char *oid, *display;
	int32_t ca_ref;
	const char *key_alg;
	int key_bits;
};

static const struct want_template want_8_2[] = {
	{ "EFS", 1, 1, 0, 2048, 1, NULL, NULL, 3, 1, 0, 0, 0, 0,
	  "1.3.6.1.4.1.311.21.8.3800100.3166153.13323660.9808540.8334961.78.1.6", "Basic EFS", 0,
	  "RSA", 2048 },
	{ "ComputerCNG", 3, 1, 1, 2048, 1, "1.2.840.113549.1.1.1", "2.16.840.1.101.3.4.2.1",
	  100, 2, 50528256, 402653184, 32, 131168,
	  "1.3.6.1.4.1.311.21.8.3800100.3166153.13323660.9808540.8334961.78.9999.1",
	  "Computer (CNG)", 0, "RSA", 2048 },
};

static void
test_policy_8_2(void **state)
{
	struct client_policy pol;
	struct client_keyspec ks;
	const struct client_ca *ca;
	const unsigned char *dp;
	X509 *x;
	char cn[64];
	uint8_t *d;
	size_t len;

	memset(&pol, 0, sizeof(pol));
	d = vector("xcep_8_2_full_policy.xml", &len);
	assert_int_equal(client_policy_parse(d, len, &pol), OC_OK);
	assert_false(pol.is_fault);
	assert_string_equal(pol.policy_id, "{083C7011-1D0A-4855-885D-AC945184658C}");
	assert_string_equal(pol.friendly_name, "Contoso Enrollment Policy");
	assert_int_equal(pol.next_update_hours, 8);
	assert_int_equal(pol.policies_not_changed, 0);     /* nil */
	assert_int_equal(pol.ntemplates, 2);
	assert_int_equal(pol.noids, 9);
	for (size_t i = 0; i < 2; i++) {
		const struct want_template *w = &want_8_2[i];
		const struct client_template *t = &pol.templates[i];
		assert_string_equal(t->cn, w->cn);
		assert_int_equal(t->schema, w->schema);
		assert_int_equal(t->enroll, w->enroll);
		assert_int_equal(t->auto_enroll, w->auto_enroll);
		assert_int_equal(t->min_key_length, w->min_key);
		assert_int_equal(t->key_spec, w->key_spec);
		if (w->alg_oid)
			assert_string_equal(t->alg_oid, w->alg_oid);
		else
			assert_null(t->alg_oid);
		if (w->hash_oid)
			assert_string_equal(t->hash_oid, w->hash_oid);
		else
			assert_null(t->hash_oid);
		assert_int_equal(t->major, w->major);
		assert_int_equal(t->minor, w->minor);
		assert_int_equal(t->private_key_flags, w->pk_flags);
		assert_int_equal(t->subject_name_flags, w->name_flags);
		assert_int_equal(t->enrollment_flags, w->enroll_flags);
		assert_int_equal(t->general_flags, w->general_flags);
		assert_string_equal(t->oid, w->oid);
		assert_string_equal(t->display_name, w->display);
		assert_int_equal(t->nca_refs, 1);
		assert_int_equal(t->ca_refs[0], w->ca_ref);
		assert_int_equal(t->validity_seconds, 31536000);
		assert_int_equal(client_template_keyspec(t, &ks), OC_OK);
		assert_string_equal(ks.alg, w->key_alg);
		assert_int_equal(ks.bits, w->key_bits);
		assert_null(ks.md);             /* sha256 is the default */
	}
	/* case-insensitive lookup by commonName */
	assert_ptr_equal(client_policy_find(&pol, "computercng"), &pol.templates[1]);
	assert_ptr_equal(client_policy_find(&pol, "EFS"), &pol.templates[0]);
	assert_null(client_policy_find(&pol, "WebServer"));
	/* the CA, its URIs and its certificate */
	assert_int_equal(pol.ncas, 1);
	ca = client_policy_ca(&pol, 0);
	assert_non_null(ca);
	assert_true(ca->enroll_permission);
	assert_int_equal(ca->nuris, 3);
	{
		static const struct { uint32_t auth; const char *uri; } wu[] = {
			{ 2, "https://ca.example.com/Example-CA_CES_Kerberos/service.svc/CES" },
			{ 4, "https://ca.example.com/Example-CA_CES_UsernamePassword/service.svc/CES" },
			{ 8, "https://ca.example.com/Example-CA_CES_Certificate/service.svc/CES" },
		};
		for (size_t i = 0; i < 3; i++) {
			assert_int_equal(ca->uris[i].auth, wu[i].auth);
			assert_string_equal(ca->uris[i].uri, wu[i].uri);
			assert_true(ca->uris[i].has_priority);
			assert_int_equal(ca->uris[i].priority, 1);
			assert_false(ca->uris[i].renewal_only);
		}
	}
	dp = ca->cert_der;
	x = d2i_X509(NULL, &dp, (long)ca->cert_len);
	assert_non_null(x);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
	assert_string_equal(cn, "Example-CA");
	X509_free(x);
	/* OID table */
	assert_string_equal(client_policy_oid(&pol, 13)->value, "1.3.6.1.4.1.311.21.7");
	assert_int_equal(client_policy_oid(&pol, 13)->group, 6);
	assert_null(client_policy_oid(&pol, 99));
	client_policy_clear(&pol);
	free(d);
}

/* xcep.md 8.3: policiesNotChanged, everything else nil */
static void
test_policy_8_3(void **state)
{
	struct client_policy pol;
	uint8_t *d;
	size_t len;

	memset(&pol, 0, sizeof(pol));
	d = vector("xcep_8_3_not_changed.xml", &len);
	assert_int_equal(client_policy_parse(d, len, &pol), OC_OK);
	assert_false(pol.is_fault);
	assert_string_equal(pol.policy_id, "{083C7011-1D0A-4855-885D-AC945184658C}");
	assert_int_equal(pol.policies_not_changed, 1);
	assert_int_equal(pol.next_update_hours, 8);
	assert_int_equal(pol.ntemplates, 0);
	assert_int_equal(pol.ncas, 0);
	assert_int_equal(pol.noids, 0);
	assert_null(client_policy_find(&pol, "EFS"));
	client_policy_clear(&pol);
	free(d);
}

/* xcep.md 5.1: a WCF fault on bad credentials is an answer, not an error */
static void
test_policy_fault_5_1(void **state)
{
	struct client_policy pol;
	uint8_t *d;
	size_t len;

	memset(&pol, 0, sizeof(pol));
	d = vector("xcep_5_1_fault.xml", &len);
	assert_int_equal(client_policy_parse(d, len, &pol), OC_OK);
	assert_true(pol.is_fault);
	assert_string_equal(pol.fault.code, "s:Sender");
	assert_string_equal(pol.fault.subcode, "a:InvalidSecurity");
	assert_string_equal(pol.fault.reason,
	    "An error occurred when verifying security for the message.");
	assert_false(pol.fault.has_error_code);
	assert_int_equal(client_is_soap_fault(d, len), 1);
	client_policy_clear(&pol);
	free(d);
}

/* Variations of one small GetPoliciesResponse: value checks. */
#define GPR_HEAD \
	"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body " \
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">" \
	"<p:GetPoliciesResponse xmlns:p=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy\">" \
	"<p:response><p:policyID>x</p:policyID><p:policies><p:policy>" \
	"<p:policyOIDReference>1</p:policyOIDReference><p:cAs xsi:nil=\"true\"/>" \
	"<p:attributes><p:commonName>T</p:commonName><p:policySchema>2</p:policySchema>" \
	"<p:permission><p:enroll>%s</p:enroll><p:autoEnroll>false</p:autoEnroll></p:permission>" \
	"<p:privateKeyAttributes><p:minimalKeyLength>%s</p:minimalKeyLength>" \
	"<p:algorithmOIDReference>%s</p:algorithmOIDReference></p:privateKeyAttributes>" \
	"</p:attributes></p:policy></p:policies></p:response>" \
	"<p:cAs><p:cA><p:uris><p:cAURI><p:clientAuthentication>%s</p:clientAuthentication>" \
	"<p:uri>%s</p:uri>%s<p:renewalOnly>%s</p:renewalOnly></p:cAURI></p:uris>" \
	"<p:certificate>MIIB</p:certificate><p:enrollPermission>true</p:enrollPermission>" \
	"<p:cAReferenceID>0</p:cAReferenceID></p:cA></p:cAs>" \
	"<p:oIDs><p:oID><p:value>1.2.3.4</p:value><p:group>9</p:group><p:oIDReferenceID>1</p:oIDReferenceID>" \
	"<p:defaultName>T</p:defaultName></p:oID>" \
	"<p:oID><p:value>%s</p:value><p:group>3</p:group><p:oIDReferenceID>2</p:oIDReferenceID>" \
	"<p:defaultName>alg</p:defaultName></p:oID></p:oIDs>" \
	"</p:GetPoliciesResponse></s:Body></s:Envelope>"

static const struct {
	const char *what;
	const char *enroll, *minlen, *algref, *auth, *uri, *prio, *renewal, *algoid;
	int rc;             /* client_policy_parse */
	int ks_rc;          /* client_template_keyspec when parsed */
	const char *ks_alg;
	int ks_bits;
} gpr_cases[] = {
	{ "baseline RSA", "true", "2048", "2", "4", "https://h/CES", "<p:priority>1</p:priority>",
	  "false", "1.2.840.113549.1.1.1", OC_OK, OC_OK, "RSA", 2048 },
	{ "RSA below 2048 is raised", "true", "1024", "2", "4", "https://h/CES",
	  "<p:priority>1</p:priority>", "false", "1.2.840.113549.1.1.1", OC_OK, OC_OK, "RSA", 2048 },
	{ "RSA 3072 kept", "true", "3072", "2", "4", "https://h/CES",
	  "<p:priority>1</p:priority>", "false", "1.2.840.113549.1.1.1", OC_OK, OC_OK, "RSA", 3072 },
	{ "EC 256 => P-256", "true", "256", "2", "4", "https://h/CES", "", "false",
	  "1.2.840.10045.2.1", OC_OK, OC_OK, "ECDSA_P256", 256 },
	{ "EC 384 => P-384", "true", "384", "2", "4", "https://h/CES", "", "false",
	  "1.2.840.10045.2.1", OC_OK, OC_OK, "ECDSA_P384", 384 },
	{ "EC 521 => P-521", "true", "521", "2", "4", "https://h/CES", "", "false",
	  "1.2.840.10045.2.1", OC_OK, OC_OK, "ECDSA_P521", 521 },
	{ "EC 255 refused", "true", "255", "2", "4", "https://h/CES", "", "false",
	  "1.2.840.10045.2.1", OC_OK, OC_ERR_INVALID, NULL, 0 },
	{ "unknown key algorithm", "true", "2048", "2", "4", "https://h/CES", "", "false",
	  "1.3.101.112", OC_OK, OC_ERR_INVALID, NULL, 0 },
	{ "dangling algorithm reference", "true", "2048", "7", "4", "https://h/CES", "", "false",
	  "1.2.840.113549.1.1.1", OC_OK, OC_ERR_PARSE, NULL, 0 },
	{ "RSA over the limit", "true", "20000", "2", "4", "https://h/CES", "", "false",
	  "1.2.840.113549.1.1.1", OC_OK, OC_ERR_LIMIT, NULL, 0 },
	{ "enroll 1 is a boolean", "1", "2048", "2", "4", "https://h/CES", "", "false",
	  "1.2.840.113549.1.1.1", OC_OK, OC_OK, "RSA", 2048 },
	{ "capitalised boolean refused", "true", "2048", "2", "4", "https://h/CES", "", "False",
	  "1.2.840.113549.1.1.1", OC_ERR_PARSE, 0, NULL, 0 },
	{ "whitespace inside uri refused", "true", "2048", "2", "4", "https://h/ CES", "", "false",
	  "1.2.840.113549.1.1.1", OC_ERR_PARSE, 0, NULL, 0 },
	{ "non-numeric clientAuthentication", "true", "2048", "2", "four", "https://h/CES", "",
	  "false", "1.2.840.113549.1.1.1", OC_ERR_PARSE, 0, NULL, 0 },
	{ "negative minimalKeyLength", "true", "-1", "2", "4", "https://h/CES", "", "false",
	  "1.2.840.113549.1.1.1", OC_ERR_PARSE, 0, NULL, 0 },
	{ "minimalKeyLength over 32 bits", "true", "4294967296", "2", "4", "https://h/CES", "",
	  "false", "1.2.840.113549.1.1.1", OC_ERR_PARSE, 0, NULL, 0 },
	{ "priority nil accepted", "true", "2048", "2", "4", "https://h/CES",
	  "<p:priority xsi:nil=\"true\"/>", "false", "1.2.840.113549.1.1.1", OC_OK, OC_OK, "RSA", 2048 },
	{ "garbage priority refused", "true", "2048", "2", "4", "https://h/CES",
	  "<p:priority>1x</p:priority>", "false", "1.2.840.113549.1.1.1", OC_ERR_PARSE, 0, NULL, 0 },
};

static void
test_policy_variations(void **state)
{
	char buf[8192];

	for (size_t i = 0; i < sizeof(gpr_cases) / sizeof(gpr_cases[0]); i++) {
		struct client_policy pol;
		struct client_keyspec ks;
		int n, r;

		n = snprintf(buf, sizeof(buf), GPR_HEAD, gpr_cases[i].enroll, gpr_cases[i].minlen,
		    gpr_cases[i].algref, gpr_cases[i].auth, gpr_cases[i].uri, gpr_cases[i].prio,
		    gpr_cases[i].renewal, gpr_cases[i].algoid);
		assert_true(n > 0 && (size_t)n < sizeof(buf));
		memset(&pol, 0, sizeof(pol));
		r = client_policy_parse((const uint8_t *)buf, (size_t)n, &pol);
		if (r != gpr_cases[i].rc)
			fail_msg("%s: parse %d, want %d", gpr_cases[i].what, r, gpr_cases[i].rc);
		if (r == OC_OK) {
			assert_int_equal(pol.ntemplates, 1);
			assert_true(pol.templates[0].cas_nil);
			assert_string_equal(pol.templates[0].oid, "1.2.3.4");
			r = client_template_keyspec(&pol.templates[0], &ks);
			if (r != gpr_cases[i].ks_rc)
				fail_msg("%s: keyspec %d, want %d", gpr_cases[i].what, r,
				    gpr_cases[i].ks_rc);
			if (r == OC_OK) {
				assert_string_equal(ks.alg, gpr_cases[i].ks_alg);
				assert_int_equal(ks.bits, gpr_cases[i].ks_bits);
			}
		} else
			assert_int_equal(pol.ntemplates, 0);    /* nothing half-built */
		client_policy_clear(&pol);
	}
}

/* Wrong documents for each parser. */
static void
test_wrong_documents(void **state)
{
	static const char soap11[] =
	    "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body/></e:Envelope>";
	static const char empty_body[] =
	    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body/></s:Envelope>";
	static const char dtd[] =
	    "<!DOCTYPE x [<!ENTITY a \"b\">]><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">"
	    "<s:Body>&a;</s:Body></s:Envelope>";
	struct client_policy pol;
	struct client_rstrc rs;
	uint8_t *d;
	size_t len;

	memset(&pol, 0, sizeof(pol));
	memset(&rs, 0, sizeof(rs));
	assert_int_equal(client_policy_parse((const uint8_t *)soap11, strlen(soap11), &pol),
	    OC_ERR_SOAP_VERSION);
	assert_int_equal(client_policy_parse((const uint8_t *)empty_body, strlen(empty_body), &pol),
	    OC_ERR_SOAP_BODY);
	assert_int_equal(client_rstrc_parse((const uint8_t *)empty_body, strlen(empty_body), &rs),
	    OC_ERR_SOAP_BODY);
	assert_int_equal(client_policy_parse((const uint8_t *)dtd, strlen(dtd), &pol),
	    OC_ERR_XML_DTD);
	assert_int_equal(client_policy_parse((const uint8_t *)"not xml", 7, &pol), OC_ERR_XML);
	/* an RSTRC is not a policy and a policy is not an RSTRC */
	d = vector("wstep_9_4_issued.xml", &len);
	assert_int_equal(client_policy_parse(d, len, &pol), OC_ERR_SOAP_BODY);
	free(d);
	d = vector("xcep_8_2_full_policy.xml", &len);
	assert_int_equal(client_rstrc_parse(d, len, &rs), OC_ERR_SOAP_BODY);
	assert_int_equal(client_is_soap_fault(d, len), 0);
	free(d);
	client_policy_clear(&pol);
	client_rstrc_clear(&rs);
}

/* More templates than OC_TEMPLATES_MAX: refused, not truncated. */
static void
test_policy_too_many(void **state)
{
	struct ocbuf b;
	struct client_policy pol;

	ocbuf_init(&b, 1 << 20);
	assert_int_equal(ocbuf_puts(&b, "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\">"
	    "<s:Body><GetPoliciesResponse xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/"
	    "enrollmentpolicy\"><response><policyID>x</policyID><policies>"), OC_OK);
	for (int i = 0; i <= OC_TEMPLATES_MAX; i++)
		assert_int_equal(ocbuf_printf(&b, "<policy><attributes><commonName>t%d</commonName>"
		    "</attributes></policy>", i), OC_OK);
	assert_int_equal(ocbuf_puts(&b, "</policies></response></GetPoliciesResponse></s:Body>"
	    "</s:Envelope>"), OC_OK);
	memset(&pol, 0, sizeof(pol));
	assert_int_equal(client_policy_parse(ocbuf_ptr(&b), ocbuf_avail(&b), &pol), OC_ERR_LIMIT);
	assert_int_equal(pol.ntemplates, 0);
	ocbuf_free(&b);
}

/* ---------------------------------------------------------------- */
/* RSTRC, wstep.md 9.4 - 9.6 */

static void
expect_issued(const char *file)
{
	struct client_rstrc rs;
	uint8_t *d, *pemd, *der = NULL;
	size_t len, plen;
	BIO *bio;
	X509 *x;
	int dlen;

	memset(&rs, 0, sizeof(rs));
	d = vector(file, &len);
	pemd = vector("wstep_9_4_issued_cert.pem", &plen);
	bio = BIO_new_mem_buf(pemd, (int)plen);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(x);
	dlen = i2d_X509(x, &der);
	assert_true(dlen > 0);
	assert_int_equal(client_rstrc_parse(d, len, &rs), OC_OK);
	assert_int_equal(rs.kind, CLIENT_RSTRC_ISSUED);
	assert_int_equal(rs.cert_len, (size_t)dlen);
	assert_memory_equal(rs.cert_der, der, (size_t)dlen);
	assert_string_equal(rs.request_id, "27");
	assert_string_equal(rs.disposition, "Issued");
	assert_null(rs.reference_uri);
	assert_int_equal(client_is_soap_fault(d, len), 0);
	client_rstrc_clear(&rs);
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	free(pemd);
	free(d);
}

static void
test_rstrc_issued_9_4(void **state)
{
	expect_issued("wstep_9_4_issued.xml");
	/* Windows: 64-column lines with &#xD;\n */
	expect_issued("wstep_9_4_issued_wrapped_crlf.xml");
}

static void
test_rstrc_pending_9_5(void **state)
{
	struct client_rstrc rs;
	uint8_t *d;
	size_t len;

	memset(&rs, 0, sizeof(rs));
	d = vector("wstep_9_5_pending.xml", &len);
	assert_int_equal(client_rstrc_parse(d, len, &rs), OC_OK);
	assert_int_equal(rs.kind, CLIENT_RSTRC_PENDING);
	assert_string_equal(rs.request_id, "43");
	assert_string_equal(rs.reference_uri,
	    "https://ca.example.com/Example%20CA_CES_Kerberos/service.svc/CES");
	assert_string_equal(rs.disposition, "Taken Under Submission");
	assert_null(rs.cert_der);
	client_rstrc_clear(&rs);
	free(d);
}

static void
test_rstrc_fault_9_6(void **state)
{
	struct client_rstrc rs;
	uint8_t *d;
	size_t len;

	memset(&rs, 0, sizeof(rs));
	d = vector("wstep_9_6_fault.xml", &len);
	assert_int_equal(client_rstrc_parse(d, len, &rs), OC_OK);
	assert_int_equal(rs.kind, CLIENT_RSTRC_FAULT);
	assert_string_equal(rs.fault.code, "s:Receiver");
	assert_null(rs.fault.subcode);
	assert_non_null(strstr(rs.fault.reason,
	    "The permissions on the certificate template do not allow"));
	assert_true(rs.fault.has_error_code);
	assert_int_equal(rs.fault.error_code, 0x80094012u);    /* -2146877422 */
	assert_int_equal(rs.fault.invalid_request, 1);
	assert_string_equal(rs.fault.request_id, "368");
	assert_int_equal(client_is_soap_fault(d, len), 1);
	client_rstrc_clear(&rs);
	free(d);
}

/* A PKCS#7 where the DER certificate belongs is refused (cepces crashes on it). */
static void
test_rstrc_pkcs7_token(void **state)
{
	struct client_rstrc rs;
	uint8_t *d;
	size_t len;

	memset(&rs, 0, sizeof(rs));
	d = vector("wstep_bad_pkcs7_token.xml", &len);
	assert_int_equal(client_rstrc_parse(d, len, &rs), OC_ERR_DER);
	assert_int_equal(rs.kind, CLIENT_RSTRC_NONE);
	assert_null(rs.cert_der);
	free(d);
}

/* ErrorCode forms: signed decimal (xs:int), hex, garbage ignored. */
static void
test_fault_error_codes(void **state)
{
	static const struct {
		const char *ec;
		int has;
		uint32_t hr;
	} cases[] = {
		{ "-2146877422", 1, 0x80094012u },
		{ "-2146875385", 1, 0x80094807u },
		{ "0x8009480F", 1, 0x8009480Fu },
		{ "0", 1, 0 },
		{ "12abc", 0, 0 },
		{ "-9999999999", 0, 0 },
		{ "", 0, 0 },
	};
	char buf[2048];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct client_rstrc rs;
		int n = snprintf(buf, sizeof(buf),
		    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><s:Fault>"
		    "<s:Code><s:Value>s:Receiver</s:Value></s:Code><s:Reason><s:Text xml:lang=\"en-US\">"
		    "no</s:Text></s:Reason><s:Detail><CertificateEnrollmentWSDetail xmlns="
		    "\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\"><ErrorCode>%s"
		    "</ErrorCode></CertificateEnrollmentWSDetail></s:Detail></s:Fault></s:Body></s:Envelope>",
		    cases[i].ec);
		memset(&rs, 0, sizeof(rs));
		assert_int_equal(client_rstrc_parse((const uint8_t *)buf, (size_t)n, &rs), OC_OK);
		assert_int_equal(rs.kind, CLIENT_RSTRC_FAULT);
		if (rs.fault.has_error_code != cases[i].has)
			fail_msg("ErrorCode '%s': has %d", cases[i].ec, rs.fault.has_error_code);
		if (cases[i].has)
			assert_int_equal(rs.fault.error_code, cases[i].hr);
		assert_string_equal(rs.fault.reason, "no");
		assert_int_equal(rs.fault.invalid_request, -1);
		client_rstrc_clear(&rs);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_8_2),
		cmocka_unit_test(test_policy_8_3),
		cmocka_unit_test(test_policy_fault_5_1),
		cmocka_unit_test(test_policy_variations),
		cmocka_unit_test(test_wrong_documents),
		cmocka_unit_test(test_policy_too_many),
		cmocka_unit_test(test_rstrc_issued_9_4),
		cmocka_unit_test(test_rstrc_pending_9_5),
		cmocka_unit_test(test_rstrc_fault_9_6),
		cmocka_unit_test(test_rstrc_pkcs7_token),
		cmocka_unit_test(test_fault_error_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
