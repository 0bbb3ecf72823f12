/*
 * Request parsing (wstep.md 5.2, 5.3, 5.6; templates.md 9 step 1, 10.5):
 * bare PKCS#10, CMS-wrapped renewal, CMC PKIData, and broken DER. The
 * requests are built here with OpenSSL as the clients build them.
 *
 * OC_PKIX_WRITE_VECTORS=<dir> writes the generated DER files there (the
 * fuzzer seeds in tests/vectors/pkix); the committed vectors are replayed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/util.h"
#include "pkix/pkix.h"
#include "pkix/pkix_asn1.h"

int main(void);

#define OID_TSTINFO "1.2.840.113549.1.9.16.1.4"

/* ---- building blocks ---- */

static EVP_PKEY *
gen(const char *alg, int bits)
{
	EVP_PKEY *k = strcmp(alg, "RSA") == 0 ? EVP_RSA_gen((unsigned)bits) :
	    EVP_EC_gen(alg);

	assert_non_null(k);
	return k;
}

static EVP_PKEY *rsa2048;        /* shared: RSA key generation is slow under ASan */

static X509 *
self_signed(EVP_PKEY *k, const char *cn, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(x);
	assert_true(X509_set_version(x, 2));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
	n = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_set_issuer_name(x, n));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_true(X509_set_pubkey(x, k));
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	return x;
}

/* EnrollmentNameValuePair DER: SEQUENCE { BMPString, BMPString } (ASCII in) */
static size_t
name_value_der(const char *name, const char *value, uint8_t *out)
{
	size_t nl = strlen(name), vl = strlen(value), o = 0, i;

	assert_true(4 + 2 * (nl + vl) < 128);
	out[o++] = 0x30;
	out[o++] = (uint8_t)(4 + 2 * (nl + vl));
	out[o++] = 0x1e;
	out[o++] = (uint8_t)(2 * nl);
	for (i = 0; i < nl; i++) {
		out[o++] = 0;
		out[o++] = (uint8_t)name[i];
	}
	out[o++] = 0x1e;
	out[o++] = (uint8_t)(2 * vl);
	for (i = 0; i < vl; i++) {
		out[o++] = 0;
		out[o++] = (uint8_t)value[i];
	}
	return o;
}

struct csr_opts {
	const uint8_t *v2;          /* raw 21.7 extension value */
	size_t v2len;
	const uint8_t *v1;          /* raw 20.2 extension value */
	size_t v1len;
	const char *nv_name, *nv_value;
	X509 *renewal;
	const char *san;            /* OpenSSL subjectAltName config text */
};

static void
add_raw_ext(STACK_OF(X509_EXTENSION) *exts, const char *oid, const uint8_t *v, size_t n)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	assert_non_null(obj);
	assert_true(ASN1_OCTET_STRING_set(os, v, (int)n));
	assert_non_null(e = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os));
	assert_true(sk_X509_EXTENSION_push(exts, e));
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

static X509_REQ *
csr_new(EVP_PKEY *k, const struct csr_opts *o)
{
	static const struct csr_opts none;
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_REQ_get_subject_name(req);
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	uint8_t nv[256], *cder = NULL;
	int clen;

	if (o == NULL)
		o = &none;
	assert_true(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
	    (const unsigned char *)"Example", -1, -1, 0));
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"host.example.com", -1, -1, 0));
	assert_true(X509_REQ_set_pubkey(req, k));
	if (o->v2 != NULL)
		add_raw_ext(exts, OC_OID_TEMPLATE_V2, o->v2, o->v2len);
	if (o->v1 != NULL)
		add_raw_ext(exts, OC_OID_TEMPLATE_V1, o->v1, o->v1len);
	if (o->san != NULL) {
		X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, NULL,
		    NID_subject_alt_name, o->san);
		assert_non_null(e);
		assert_true(sk_X509_EXTENSION_push(exts, e));
	}
	if (sk_X509_EXTENSION_num(exts) > 0)
		assert_true(X509_REQ_add_extensions(req, exts));
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	if (o->nv_name != NULL)
		assert_true(X509_REQ_add1_attr_by_txt(req, OC_OID_NAME_VALUE,
		    V_ASN1_SEQUENCE, nv, (int)name_value_der(o->nv_name,
		    o->nv_value, nv)));
	if (o->renewal != NULL) {
		assert_true((clen = i2d_X509(o->renewal, &cder)) > 0);
		assert_true(X509_REQ_add1_attr_by_txt(req, OC_OID_RENEWAL_CERT,
		    V_ASN1_SEQUENCE, cder, clen));
		OPENSSL_free(cder);
	}
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	return req;
}

static uint8_t *
csr_der(EVP_PKEY *k, const struct csr_opts *o, size_t *len)
{
	X509_REQ *req = csr_new(k, o);
	uint8_t *der = NULL;
	int n = i2d_X509_REQ(req, &der);

	assert_true(n > 0);
	X509_REQ_free(req);
	*len = (size_t)n;
	return der;                 /* OPENSSL_free */
}

static uint8_t *
cms_der(CMS_ContentInfo *cms, size_t *len)
{
	uint8_t *der = NULL;
	int n = i2d_CMS_ContentInfo(cms, &der);

	assert_true(n > 0);
	*len = (size_t)n;
	return der;
}

/* SignedData over content; eContentType oid (NULL: id-data). */
static CMS_ContentInfo *
sign_content_nv(X509 *cert, EVP_PKEY *key, const uint8_t *content, size_t clen,
    const char *oid, unsigned int flags, const char *nv_template)
{
	CMS_ContentInfo *cms;
	CMS_SignerInfo *si;
	BIO *in = BIO_new_mem_buf(content, (int)clen);
	ASN1_OBJECT *obj;
	uint8_t nv[256];

	assert_non_null(cms = CMS_sign(NULL, NULL, NULL, NULL,
	    CMS_PARTIAL | CMS_BINARY));
	if (oid != NULL) {
		assert_non_null(obj = OBJ_txt2obj(oid, 1));
		assert_true(CMS_set1_eContentType(cms, obj));
		ASN1_OBJECT_free(obj);
	}
	assert_non_null(si = CMS_add1_signer(cms, cert, key, EVP_sha256(),
	    flags | CMS_BINARY | CMS_PARTIAL));
	if (nv_template != NULL)
		assert_true(CMS_signed_add1_attr_by_txt(si, OC_OID_NAME_VALUE,
		    V_ASN1_SEQUENCE, nv, (int)name_value_der("CertificateTemplate",
		    nv_template, nv)));
	assert_true(CMS_final(cms, in, NULL, CMS_BINARY));
	BIO_free(in);
	return cms;
}

static CMS_ContentInfo *
sign_content(X509 *cert, EVP_PKEY *key, const uint8_t *content, size_t clen,
    const char *oid, unsigned int flags)
{
	return sign_content_nv(cert, key, content, clen, oid, flags, NULL);
}

static void
write_vector(const char *name, const uint8_t *p, size_t n)
{
	const char *dir = getenv("OC_PKIX_WRITE_VECTORS");
	char path[1024];
	FILE *f;

	if (dir == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	(void)state;
	rsa2048 = EVP_RSA_gen(2048);
	return rsa2048 == NULL;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa2048);
	return 0;
}

/* ---- bare PKCS#10 ---- */

struct key_case {
	const char *alg;
	int bits;
	int type, want_bits;
	const char *curve;
};

static const struct key_case key_cases[] = {
	{ "RSA", 2048, EVP_PKEY_RSA, 2048, NULL },
	{ "RSA", 1024, EVP_PKEY_RSA, 1024, NULL },
	{ "P-256", 0, EVP_PKEY_EC, 256, "P-256" },
	{ "P-384", 0, EVP_PKEY_EC, 384, "P-384" },
	{ "P-521", 0, EVP_PKEY_EC, 521, "P-521" },
};

static void
test_pkcs10_keys(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(key_cases) / sizeof(key_cases[0]); i++) {
		const struct key_case *c = &key_cases[i];
		EVP_PKEY *k = c->bits == 2048 ? rsa2048 : gen(c->alg, c->bits);
		struct oc_req_info ri;
		enum oc_req_format fmt;
		size_t len;
		uint8_t *der = csr_der(k, NULL, &len);

		print_message("PKCS#10 %s %d\n", c->alg, c->bits);
		if (i == 0)
			write_vector("csr_rsa2048.der", der, len);
		if (i == 2)
			write_vector("csr_p256.der", der, len);
		assert_int_equal(pkix_detect_request(der, len, &fmt), OC_OK);
		assert_int_equal(fmt, OC_REQ_PKCS10);
		assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
		assert_int_equal(ri.format, OC_REQ_PKCS10);
		assert_int_equal(ri.csr_signature_ok, 1);
		assert_int_equal(ri.signer_signature_ok, 0);
		assert_null(ri.signer);
		assert_int_equal(ri.body_part_id, 1);
		assert_int_equal(ri.key_type, c->type);
		assert_int_equal(ri.key_bits, c->want_bits);
		if (c->curve != NULL)
			assert_string_equal(ri.key_curve, c->curve);
		else
			assert_null(ri.key_curve);
		assert_string_equal(ri.subject, "CN=host.example.com,O=Example");
		assert_null(ri.template_v2_oid);
		assert_null(ri.template_v1_name);
		assert_null(ri.template_attr_name);
		assert_null(ri.renewal_cert);
		assert_int_equal(ri.san_dns.n, 0);
		oc_req_info_clear(&ri);
		oc_req_info_clear(&ri);         /* idempotent */
		OPENSSL_free(der);
		if (k != rsa2048)
			EVP_PKEY_free(k);
	}
}

static void
test_pkcs10_bad_signature(void **state)
{
	struct oc_req_info ri;
	size_t len;
	uint8_t *der = csr_der(rsa2048, NULL, &len);

	(void)state;
	der[len - 5] ^= 0x01;           /* inside the signature BIT STRING */
	write_vector("csr_badsig.der", der, len);
	assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
	assert_int_equal(ri.csr_signature_ok, 0);
	oc_req_info_clear(&ri);
	OPENSSL_free(der);
}

static void
test_truncated_and_trailing(void **state)
{
	struct oc_req_info ri;
	enum oc_req_format fmt;
	size_t len, cut;
	uint8_t *der = csr_der(rsa2048, NULL, &len), *big;

	(void)state;
	for (cut = 0; cut < len; cut++) {
		assert_int_equal(pkix_request_parse(der, cut, &ri), OC_ERR_DER);
		assert_null(ri.csr);
		assert_int_equal(pkix_detect_request(der, cut, &fmt), OC_ERR_DER);
	}
	assert_non_null(big = malloc(len + 8));
	memcpy(big, der, len);
	memcpy(big + len, "garbage!", 8);
	write_vector("csr_trailing.der", big, len + 8);
	for (cut = len + 1; cut <= len + 8; cut++)
		assert_int_equal(pkix_request_parse(big, cut, &ri), OC_ERR_DER);
	free(big);
	OPENSSL_free(der);
}

struct bad_case {
	const char *name;
	const char *hex;
	int want;
};

static const struct bad_case bad_cases[] = {
	{ "INTEGER", "020101", OC_ERR_PARSE },
	{ "empty SEQUENCE", "3000", OC_ERR_PARSE },
	{ "SEQUENCE { NULL }", "30020500", OC_ERR_PARSE },
	{ "SET", "31020500", OC_ERR_PARSE },
	{ "SEQUENCE { SEQUENCE {} }", "30023000", OC_ERR_DER },
	{ "indefinite length", "30800500" "0000", OC_ERR_DER },
	{ "length beyond data", "3084ffffffff00", OC_ERR_DER },
	{ "bad inner length", "30033005", OC_ERR_DER },
	/* ContentInfo { id-data, [0] OCTET STRING "A" } */
	{ "CMS data", "3012" "06092a864886f70d010701" "a005" "0403414141", OC_ERR_PARSE },
	/* ContentInfo { envelopedData, [0] NULL }: not decodable as CMS */
	{ "CMS enveloped junk", "300f" "06092a864886f70d010703" "a0020500", OC_ERR_DER },
	{ "OID only", "300b06092a864886f70d010702", OC_ERR_DER },
};

static uint8_t *
unhex(const char *hex, size_t *len)
{
	long n = 0;
	uint8_t *p = OPENSSL_hexstr2buf(hex, &n);

	assert_non_null(p);
	*len = (size_t)n;
	return p;
}

static void
test_wrong_types(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct oc_req_info ri;
		size_t len;
		uint8_t *der = unhex(bad_cases[i].hex, &len);

		print_message("bad: %s\n", bad_cases[i].name);
		assert_int_equal(pkix_request_parse(der, len, &ri), bad_cases[i].want);
		assert_int_equal(ri.format, OC_REQ_UNKNOWN);
		OPENSSL_free(der);
	}
}

static void
test_certificate_is_not_a_request(void **state)
{
	struct oc_req_info ri;
	X509 *x = self_signed(rsa2048, "not a request", 1);
	uint8_t *der = NULL;
	int n = i2d_X509(x, &der);

	(void)state;
	assert_int_equal(pkix_request_parse(der, (size_t)n, &ri), OC_ERR_DER);
	OPENSSL_free(der);
	X509_free(x);
}

static void
test_signed_other_content_type(void **state)
{
	struct oc_req_info ri;
	enum oc_req_format fmt;
	X509 *x = self_signed(rsa2048, "signer", 2);
	CMS_ContentInfo *cms = sign_content(x, rsa2048, (const uint8_t *)"\x30\x00",
	    2, OID_TSTINFO, 0);
	size_t len;
	uint8_t *der = cms_der(cms, &len);

	(void)state;
	assert_int_equal(pkix_detect_request(der, len, &fmt), OC_ERR_PARSE);
	assert_int_equal(pkix_request_parse(der, len, &ri), OC_ERR_PARSE);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	X509_free(x);
}

static void
test_size_limit(void **state)
{
	struct oc_req_info ri;
	uint8_t *big = calloc(1, 70000);

	(void)state;
	assert_non_null(big);
	big[0] = 0x30;
	big[1] = 0x83;
	big[2] = 0x01;
	big[3] = 0x11;
	big[4] = 0x6c;                  /* 70000 - 5 */
	assert_int_equal(pkix_request_parse(big, 70000, &ri), OC_ERR_LIMIT);
	free(big);
}

/* ---- template identification (templates.md 9 step 1, wstep.md 5.3) ---- */

static const uint8_t v2_webserver[] = {
	0x30, 0x28, 0x06, 0x20, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x15,
	0x08, 0x85, 0xa1, 0xc2, 0x0a, 0xb2, 0xf8, 0x3b, 0x86, 0x81, 0x91, 0x06,
	0x87, 0xdf, 0x82, 0x10, 0x83, 0xba, 0xee, 0x13, 0x81, 0x30, 0x01, 0x10,
	0x02, 0x01, 0x04, 0x02, 0x01, 0x01,
};
/* certmonger "getcert request -T Machine" (wstep.md 5.3) */
static const uint8_t v1_machine[] = {
	0x1e, 0x0e, 0x00, 0x4d, 0x00, 0x61, 0x00, 0x63, 0x00, 0x68, 0x00, 0x69,
	0x00, 0x6e, 0x00, 0x65 };
static const uint8_t v1_garbage[] = { 0x1e, 0x0e, 0x00 };

struct tmpl_case {
	const char *name;
	struct csr_opts o;
	int want;
	const char *v2, *v1, *attr;
	uint32_t major, minor;
};

static const struct tmpl_case tmpl_cases[] = {
	{ "v2 extension", { .v2 = v2_webserver, .v2len = sizeof(v2_webserver) },
	  OC_OK, "1.3.6.1.4.1.311.21.8.11034890.834619.12601478.16236816.7255827.176.1.16",
	  NULL, NULL, 4, 1 },
	{ "v1 extension", { .v1 = v1_machine, .v1len = sizeof(v1_machine) },
	  OC_OK, NULL, "Machine", NULL, 0, 0 },
	{ "name-value pair", { .nv_name = "CertificateTemplate", .nv_value = "WebServer" },
	  OC_OK, NULL, NULL, "WebServer", 0, 0 },
	{ "name-value pair, other case", { .nv_name = "certificatetemplate",
	  .nv_value = "User" }, OC_OK, NULL, NULL, "User", 0, 0 },
	{ "name-value pair, other name", { .nv_name = "SAN",
	  .nv_value = "dns=x.example.com" }, OC_OK, NULL, NULL, NULL, 0, 0 },
	{ "all three", { .v2 = v2_webserver, .v2len = sizeof(v2_webserver),
	  .v1 = v1_machine, .v1len = sizeof(v1_machine),
	  .nv_name = "CertificateTemplate", .nv_value = "WebServer" }, OC_OK,
	  "1.3.6.1.4.1.311.21.8.11034890.834619.12601478.16236816.7255827.176.1.16",
	  "Machine", "WebServer", 4, 1 },
	{ "broken v1 extension", { .v1 = v1_garbage, .v1len = sizeof(v1_garbage) },
	  OC_ERR_DER, NULL, NULL, NULL, 0, 0 },
	{ "broken v2 extension", { .v2 = v1_machine, .v2len = sizeof(v1_machine) },
	  OC_ERR_DER, NULL, NULL, NULL, 0, 0 },
};

static void
check_str(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else
		assert_string_equal(got, want);
}

static void
test_template_sources(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tmpl_cases) / sizeof(tmpl_cases[0]); i++) {
		const struct tmpl_case *c = &tmpl_cases[i];
		struct oc_req_info ri;
		size_t len;
		uint8_t *der = csr_der(rsa2048, &c->o, &len);
		int r;

		print_message("template: %s\n", c->name);
		if (i == 5)
			write_vector("csr_templates.der", der, len);
		r = pkix_request_parse(der, len, &ri);
		OPENSSL_free(der);
		assert_int_equal(r, c->want);
		if (r != OC_OK)
			continue;
		assert_int_equal(ri.csr_signature_ok, 1);
		check_str(ri.template_v2_oid, c->v2);
		check_str(ri.template_v1_name, c->v1);
		check_str(ri.template_attr_name, c->attr);
		assert_int_equal(ri.template_v2_major, c->major);
		assert_int_equal(ri.template_v2_minor, c->minor);
		oc_req_info_clear(&ri);
	}
}

static void
test_san(void **state)
{
	struct csr_opts o = { .san = "DNS:a.example.com,DNS:b.example.com,"
	    "email:alice@example.com,URI:https://e.example/x,IP:192.0.2.1,"
	    "IP:2001:db8::1,otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@EXAMPLE.COM,"
	    "otherName:1.2.3.4;UTF8:other,RID:1.2.3.4" };
	struct oc_req_info ri;
	size_t len;
	uint8_t *der = csr_der(rsa2048, &o, &len);

	(void)state;
	write_vector("csr_san.der", der, len);
	assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
	assert_int_equal(ri.san_dns.n, 2);
	assert_string_equal(ri.san_dns.v[0], "a.example.com");
	assert_string_equal(ri.san_dns.v[1], "b.example.com");
	assert_int_equal(ri.san_email.n, 1);
	assert_string_equal(ri.san_email.v[0], "alice@example.com");
	assert_int_equal(ri.san_uri.n, 1);
	assert_string_equal(ri.san_uri.v[0], "https://e.example/x");
	assert_int_equal(ri.san_ip.n, 2);
	assert_string_equal(ri.san_ip.v[0], "192.0.2.1");
	assert_string_equal(ri.san_ip.v[1], "2001:db8::1");
	assert_int_equal(ri.san_upn.n, 1);
	assert_string_equal(ri.san_upn.v[0], "alice@EXAMPLE.COM");
	assert_int_equal(ri.san_other, 2);
	oc_req_info_clear(&ri);
	OPENSSL_free(der);
}

static void
test_san_limit(void **state)
{
	char san[2048] = "";
	struct csr_opts o = { .san = san };
	struct oc_req_info ri;
	size_t len, off = 0;
	uint8_t *der;

	(void)state;
	for (int i = 0; i < 33; i++)
		off += (size_t)snprintf(san + off, sizeof(san) - off, "%sDNS:h%d.example",
		    i ? "," : "", i);
	der = csr_der(rsa2048, &o, &len);
	assert_int_equal(pkix_request_parse(der, len, &ri), OC_ERR_LIMIT);
	OPENSSL_free(der);
}

/* ---- CMS renewal (wstep.md 5.6) ---- */

static void
test_cms_renewal(void **state)
{
	static const unsigned int flags[] = { CMS_NOATTR, 0 };
	EVP_PKEY *oldkey = gen("P-256", 0), *newkey = gen("P-256", 0);
	X509 *oldcert = self_signed(oldkey, "old", 42);
	struct csr_opts o = { .renewal = oldcert, .v1 = v1_machine,
	    .v1len = sizeof(v1_machine) };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct oc_req_info ri;
		enum oc_req_format fmt;
		size_t clen, len;
		uint8_t *csr = csr_der(newkey, &o, &clen), *der;
		CMS_ContentInfo *cms = sign_content(oldcert, oldkey, csr, clen,
		    NULL, flags[i]);

		print_message("renewal %s signed attributes\n", i ? "with" : "without");
		der = cms_der(cms, &len);
		if (i == 0)
			write_vector("cms_renewal.der", der, len);
		assert_int_equal(pkix_detect_request(der, len, &fmt), OC_OK);
		assert_int_equal(fmt, OC_REQ_CMS);
		assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
		assert_int_equal(ri.format, OC_REQ_CMS);
		assert_int_equal(ri.csr_signature_ok, 1);
		assert_int_equal(ri.signer_signature_ok, 1);
		assert_non_null(ri.signer);
		assert_int_equal(X509_cmp(ri.signer, oldcert), 0);
		assert_non_null(ri.renewal_cert);
		assert_int_equal(X509_cmp(ri.renewal_cert, oldcert), 0);
		assert_int_equal(ri.body_part_id, 1);
		assert_string_equal(ri.template_v1_name, "Machine");
		assert_string_equal(ri.key_curve, "P-256");
		oc_req_info_clear(&ri);
		/* trailing garbage after the ContentInfo */
		der = OPENSSL_realloc(der, len + 1);
		der[len] = 0;
		assert_int_equal(pkix_request_parse(der, len + 1, &ri), OC_ERR_DER);
		OPENSSL_free(der);
		OPENSSL_free(csr);
		CMS_ContentInfo_free(cms);
	}
	X509_free(oldcert);
	EVP_PKEY_free(oldkey);
	EVP_PKEY_free(newkey);
}

/* Signed by another key that claims the old certificate's issuer and serial. */
static void
test_cms_wrong_key(void **state)
{
	EVP_PKEY *oldkey = gen("P-256", 0), *otherkey = gen("P-256", 0);
	X509 *oldcert = self_signed(oldkey, "old", 42);
	X509 *forged = self_signed(otherkey, "old", 42);
	struct csr_opts o = { .renewal = oldcert };
	struct oc_req_info ri;
	size_t clen, len;
	uint8_t *csr = csr_der(otherkey, &o, &clen), *der;
	CMS_ContentInfo *cms = sign_content(forged, otherkey, csr, clen, NULL,
	    CMS_NOATTR | CMS_NOCERTS);

	(void)state;
	assert_true(CMS_add1_cert(cms, oldcert));
	der = cms_der(cms, &len);
	write_vector("cms_wrongkey.der", der, len);
	assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
	assert_int_equal(ri.format, OC_REQ_CMS);
	assert_int_equal(ri.csr_signature_ok, 1);
	assert_int_equal(ri.signer_signature_ok, 0);
	assert_non_null(ri.signer);
	assert_int_equal(X509_cmp(ri.signer, oldcert), 0);
	oc_req_info_clear(&ri);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);

	/* no certificate at all: no signer, not verified */
	cms = sign_content(forged, otherkey, csr, clen, NULL, CMS_NOCERTS);
	der = cms_der(cms, &len);
	assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
	assert_null(ri.signer);
	assert_int_equal(ri.signer_signature_ok, 0);
	oc_req_info_clear(&ri);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);

	OPENSSL_free(csr);
	X509_free(oldcert);
	X509_free(forged);
	EVP_PKEY_free(oldkey);
	EVP_PKEY_free(otherkey);
}

/* Template name only in the signer's signed attributes (templates.md 9.1). */
static void
test_cms_signed_name_value(void **state)
{
	EVP_PKEY *oldkey = gen("P-256", 0);
	X509 *oldcert = self_signed(oldkey, "old", 43);
	struct csr_opts o = { .renewal = oldcert };
	struct oc_req_info ri;
	size_t clen, len;
	uint8_t *csr = csr_der(rsa2048, &o, &clen), *der;
	CMS_ContentInfo *cms = sign_content_nv(oldcert, oldkey, csr, clen, NULL, 0,
	    "User");

	(void)state;
	der = cms_der(cms, &len);
	assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
	assert_int_equal(ri.signer_signature_ok, 1);
	assert_string_equal(ri.template_attr_name, "User");
	oc_req_info_clear(&ri);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(csr);

	/* the PKCS#10's own pair comes first */
	o.nv_name = "CertificateTemplate";
	o.nv_value = "WebServer";
	csr = csr_der(rsa2048, &o, &clen);
	cms = sign_content_nv(oldcert, oldkey, csr, clen, NULL, 0, "User");
	der = cms_der(cms, &len);
	assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
	assert_string_equal(ri.template_attr_name, "WebServer");
	oc_req_info_clear(&ri);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(csr);
	X509_free(oldcert);
	EVP_PKEY_free(oldkey);
}

static void
test_cms_content_not_a_csr(void **state)
{
	X509 *x = self_signed(rsa2048, "signer", 5);
	CMS_ContentInfo *cms = sign_content(x, rsa2048, (const uint8_t *)"hello", 5,
	    NULL, 0);
	struct oc_req_info ri;
	size_t len;
	uint8_t *der = cms_der(cms, &len);

	(void)state;
	assert_int_equal(pkix_request_parse(der, len, &ri), OC_ERR_DER);
	OPENSSL_free(der);
	CMS_ContentInfo_free(cms);
	X509_free(x);
}

/* ---- CMC (RFC 5272 PKIData) ---- */

static OC_CMC_TAGGED_ATTR *
tagged_attr(uint32_t bpid, const char *oid, const uint8_t *val, size_t n)
{
	OC_CMC_TAGGED_ATTR *ta = OC_CMC_TAGGED_ATTR_new();
	ASN1_TYPE *t = NULL;
	const unsigned char *p = val;

	assert_non_null(ta);
	assert_true(ASN1_INTEGER_set_uint64(ta->body_part_id, bpid));
	ASN1_OBJECT_free(ta->attr_type);
	assert_non_null(ta->attr_type = OBJ_txt2obj(oid, 1));
	assert_non_null(t = d2i_ASN1_TYPE(NULL, &p, (long)n));
	assert_true(sk_ASN1_TYPE_push(ta->attr_values, t));
	return ta;
}

/*
 * PKIData { controls { 311.10.10.1 { 0, { bpid }, { name-value } } },
 * reqSequence { tcr [0] { bpid, csr } }, {}, {} }
 */
static uint8_t *
pkidata_der(X509_REQ *req, uint32_t bpid, const char *tmpl, int tcr, size_t *len)
{
	OC_CMC_PKIDATA *pd = OC_CMC_PKIDATA_new();
	OC_CMC_TAGGED_REQ *tr = OC_CMC_TAGGED_REQ_new();
	OC_CMC_ADD_ATTRS *aa = OC_CMC_ADD_ATTRS_new();
	X509_ATTRIBUTE *attr = NULL;
	ASN1_INTEGER *ref = ASN1_INTEGER_new();
	uint8_t nv[256], *aader = NULL, *der = NULL;
	int n;

	assert_non_null(pd);
	assert_non_null(tr);
	assert_non_null(aa);
	if (tmpl != NULL) {
		assert_true(ASN1_INTEGER_set(ref, (long)bpid));
		assert_true(sk_ASN1_INTEGER_push(aa->cert_references, ref));
		ref = NULL;
		assert_non_null(X509_ATTRIBUTE_create_by_txt(&attr, OC_OID_NAME_VALUE,
		    V_ASN1_SEQUENCE, nv, (int)name_value_der("CertificateTemplate",
		    tmpl, nv)));
		assert_true(sk_X509_ATTRIBUTE_push(aa->attributes, attr));
		assert_true((n = i2d_OC_CMC_ADD_ATTRS(aa, &aader)) > 0);
		assert_true(sk_OC_CMC_TAGGED_ATTR_push(pd->controls,
		    tagged_attr(bpid + 1, OC_OID_CMC_ADD_ATTRIBUTES, aader, (size_t)n)));
		OPENSSL_free(aader);
	}
	ASN1_INTEGER_free(ref);
	if (tcr) {
		tr->type = OC_CMC_REQ_TCR;
		assert_non_null(tr->d.tcr = OC_CMC_TCR_new());
		assert_true(ASN1_INTEGER_set_uint64(tr->d.tcr->body_part_id, bpid));
		X509_REQ_free(tr->d.tcr->req);
		assert_non_null(tr->d.tcr->req = X509_REQ_dup(req));
	} else {
		/* orm [2] { bodyPartID, requestMessageType, value } */
		tr->type = OC_CMC_REQ_ORM;
		assert_non_null(tr->d.orm = sk_ASN1_TYPE_new_null());
	}
	assert_true(sk_OC_CMC_TAGGED_REQ_push(pd->reqs, tr));
	assert_true((n = i2d_OC_CMC_PKIDATA(pd, &der)) > 0);
	OC_CMC_PKIDATA_free(pd);
	OC_CMC_ADD_ATTRS_free(aa);
	*len = (size_t)n;
	return der;
}

struct cmc_case {
	const char *name;
	uint32_t bpid;
	const char *tmpl;
	int tcr;
	int corrupt;
	int want, sig_ok;
};

static const struct cmc_case cmc_cases[] = {
	{ "tcr 1, template pair", 1, "WebServer", 1, 0, OC_OK, 1 },
	{ "tcr 7, no controls", 7, NULL, 1, 0, OC_OK, 1 },
	{ "tcr 4294967295", 4294967295u, "User", 1, 0, OC_OK, 1 },
	{ "bad signature", 2, "WebServer", 1, 1, OC_OK, 0 },
	{ "no tcr", 1, NULL, 0, 0, OC_ERR_PARSE, 0 },
};

static void
test_cmc(void **state)
{
	EVP_PKEY *agent = gen("P-256", 0);
	X509 *agent_cert = self_signed(agent, "agent", 9);
	X509_REQ *req = csr_new(rsa2048, NULL);

	(void)state;
	for (size_t i = 0; i < sizeof(cmc_cases) / sizeof(cmc_cases[0]); i++) {
		const struct cmc_case *c = &cmc_cases[i];
		struct oc_req_info ri;
		enum oc_req_format fmt;
		size_t plen, len;
		uint8_t *pd = pkidata_der(req, c->bpid, c->tmpl, c->tcr, &plen), *der;
		CMS_ContentInfo *cms = sign_content(agent_cert, agent, pd, plen,
		    OC_OID_CCT_PKIDATA, 0);

		print_message("CMC: %s\n", c->name);
		if (c->corrupt) {
			CMS_SignerInfo *si = sk_CMS_SignerInfo_value(
			    CMS_get0_SignerInfos(cms), 0);
			ASN1_OCTET_STRING *sig = CMS_SignerInfo_get0_signature(si);
			sig->data[sig->length / 2] ^= 0x40;
		}
		der = cms_der(cms, &len);
		if (i == 0)
			write_vector("cmc_request.der", der, len);
		assert_int_equal(pkix_detect_request(der, len, &fmt), OC_OK);
		assert_int_equal(fmt, OC_REQ_CMC);
		assert_int_equal(pkix_request_parse(der, len, &ri), c->want);
		if (c->want == OC_OK) {
			assert_int_equal(ri.format, OC_REQ_CMC);
			assert_int_equal(ri.body_part_id, c->bpid);
			assert_int_equal(ri.csr_signature_ok, 1);
			assert_int_equal(ri.signer_signature_ok, c->sig_ok);
			assert_int_equal(X509_cmp(ri.signer, agent_cert), 0);
			check_str(ri.template_attr_name, c->tmpl);
			assert_string_equal(ri.subject, "CN=host.example.com,O=Example");
			oc_req_info_clear(&ri);
		}
		OPENSSL_free(der);
		OPENSSL_free(pd);
		CMS_ContentInfo_free(cms);
	}
	X509_REQ_free(req);
	X509_free(agent_cert);
	EVP_PKEY_free(agent);
}

/* ---- committed vectors (tests/vectors/pkix) ---- */

struct vec_case {
	const char *file;
	int want;
	enum oc_req_format fmt;
	int csr_ok, signer_ok;
};

static const struct vec_case vec_cases[] = {
	{ "csr_rsa2048.der", OC_OK, OC_REQ_PKCS10, 1, 0 },
	{ "csr_p256.der", OC_OK, OC_REQ_PKCS10, 1, 0 },
	{ "csr_badsig.der", OC_OK, OC_REQ_PKCS10, 0, 0 },
	{ "csr_templates.der", OC_OK, OC_REQ_PKCS10, 1, 0 },
	{ "csr_san.der", OC_OK, OC_REQ_PKCS10, 1, 0 },
	{ "csr_trailing.der", OC_ERR_DER, OC_REQ_UNKNOWN, 0, 0 },
	{ "cms_renewal.der", OC_OK, OC_REQ_CMS, 1, 1 },
	{ "cms_wrongkey.der", OC_OK, OC_REQ_CMS, 1, 0 },
	{ "cmc_request.der", OC_OK, OC_REQ_CMC, 1, 1 },
	{ "garbage.der", OC_ERR_DER, OC_REQ_UNKNOWN, 0, 0 },
};

static void
test_vectors(void **state)
{
	const char *dir = getenv("OC_VECTORS");
	char path[1024];

	(void)state;
	if (dir == NULL)
		fail_msg("OC_VECTORS is not set (run the tests under CTest)");
	if (getenv("OC_PKIX_WRITE_VECTORS") != NULL) {
		skip();         /* a developer regenerating the vectors, never CI */
		return;
	}
	for (size_t i = 0; i < sizeof(vec_cases) / sizeof(vec_cases[0]); i++) {
		const struct vec_case *c = &vec_cases[i];
		struct oc_req_info ri;
		uint8_t *der = NULL;
		size_t len = 0;

		print_message("vector %s\n", c->file);
		snprintf(path, sizeof(path), "%s/pkix/%s", dir, c->file);
		assert_int_equal(oc_file_read(path, &der, &len, 1 << 20), OC_OK);
		assert_int_equal(pkix_request_parse(der, len, &ri), c->want);
		free(der);
		if (c->want != OC_OK)
			continue;
		assert_int_equal(ri.format, c->fmt);
		assert_int_equal(ri.csr_signature_ok, c->csr_ok);
		assert_int_equal(ri.signer_signature_ok, c->signer_ok);
		oc_req_info_clear(&ri);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkcs10_keys),
		cmocka_unit_test(test_pkcs10_bad_signature),
		cmocka_unit_test(test_truncated_and_trailing),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_certificate_is_not_a_request),
		cmocka_unit_test(test_signed_other_content_type),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_template_sources),
		cmocka_unit_test(test_san),
		cmocka_unit_test(test_san_limit),
		cmocka_unit_test(test_cms_renewal),
		cmocka_unit_test(test_cms_wrong_key),
		cmocka_unit_test(test_cms_signed_name_value),
		cmocka_unit_test(test_cms_content_not_a_csr),
		cmocka_unit_test(test_cmc),
		cmocka_unit_test(test_vectors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
