/* Client side helpers: subject parsing, keys, CSR building, PEM/DER, SHA-1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/util.h"
#include "pkix/pkix.h"

int main(void);

#define WEBSERVER_OID "1.3.6.1.4.1.311.21.8.11034890.834619.12601478.16236816.7255827.176.1.16"

static char *
rfc2253(X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s;
	long len;

	assert_non_null(b);
	assert_true(X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0);
	len = BIO_get_mem_data(b, &data);
	assert_non_null(s = strndup(len > 0 ? data : "", (size_t)(len > 0 ? len : 0)));
	BIO_free(b);
	return s;
}

struct name_case {
	const char *in;
	int want;
	const char *rfc2253;        /* X509_NAME_print_ex XN_FLAG_RFC2253 */
	const char *oneline;        /* X509_NAME_oneline: ASN.1 order */
};

static const struct name_case name_cases[] = {
	{ "CN=a,O=b", OC_OK, "CN=a,O=b", "/O=b/CN=a" },
	{ "/CN=a/O=b", OC_OK, "O=b,CN=a", "/CN=a/O=b" },
	{ "CN=host.example.com, O=Example Corp , C=DE", OC_OK,
	  "CN=host.example.com,O=Example Corp,C=DE", "/C=DE/O=Example Corp/CN=host.example.com" },
	{ "CN=a\\,b,O=x", OC_OK, "CN=a\\,b,O=x", "/O=x/CN=a,b" },
	{ "CN=\\C3\\A9t\\C3\\A9", OC_OK, "CN=\\C3\\A9t\\C3\\A9", NULL },
	{ "E=alice@example.com,CN=alice", OC_OK, "emailAddress=alice@example.com,CN=alice",
	  "/CN=alice/emailAddress=alice@example.com" },
	{ "2.5.4.3=x", OC_OK, "CN=x", "/CN=x" },
	{ "/CN=a\\/b", OC_OK, "CN=a/b", NULL },
	{ "", OC_OK, "", "" },
	{ NULL, OC_OK, "", "" },
	{ "CN", OC_ERR_INVALID, NULL, NULL },
	{ "=a", OC_ERR_INVALID, NULL, NULL },
	{ "CN=a,", OC_ERR_INVALID, NULL, NULL },
	{ "CN=a\\", OC_ERR_INVALID, NULL, NULL },
	{ "/CN=a/", OC_ERR_INVALID, NULL, NULL },
	{ "NOSUCHTYPE=a", OC_ERR_INVALID, NULL, NULL },
	{ "C=DEU", OC_ERR_INVALID, NULL, NULL },      /* country must be 2 letters */
};

static void
test_name_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(name_cases) / sizeof(name_cases[0]); i++) {
		const struct name_case *c = &name_cases[i];
		X509_NAME *n = NULL;
		char *s, buf[512];

		print_message("name: %s\n", c->in != NULL ? c->in : "(null)");
		assert_int_equal(pkix_name_parse(c->in, &n), c->want);
		if (c->want != OC_OK) {
			assert_null(n);
			continue;
		}
		s = rfc2253(n);
		assert_string_equal(s, c->rfc2253);
		free(s);
		if (c->oneline != NULL) {
			assert_non_null(X509_NAME_oneline(n, buf, sizeof(buf)));
			assert_string_equal(buf, *c->oneline ? c->oneline : "");
		}
		X509_NAME_free(n);
	}
}

struct keygen_case {
	const char *alg;
	int bits;
	int want, type, want_bits;
};

static const struct keygen_case keygen_cases[] = {
	{ "RSA", 2048, OC_OK, EVP_PKEY_RSA, 2048 },
	{ "rsa", 1024, OC_OK, EVP_PKEY_RSA, 1024 },
	{ "ECDSA_P256", 0, OC_OK, EVP_PKEY_EC, 256 },
	{ "ECDSA_P384", 0, OC_OK, EVP_PKEY_EC, 384 },
	{ "ECDSA_P521", 0, OC_OK, EVP_PKEY_EC, 521 },
	{ "ECDSA", 384, OC_OK, EVP_PKEY_EC, 384 },
	{ "RSA", 512, OC_ERR_INVALID, 0, 0 },
	{ "RSA", 16385, OC_ERR_INVALID, 0, 0 },
	{ "DSA", 2048, OC_ERR_INVALID, 0, 0 },
	{ "ECDSA_P192", 0, OC_ERR_INVALID, 0, 0 },
	{ NULL, 0, OC_ERR_INVALID, 0, 0 },
};

static void
test_key_generate(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(keygen_cases) / sizeof(keygen_cases[0]); i++) {
		const struct keygen_case *c = &keygen_cases[i];
		EVP_PKEY *k = NULL;

		print_message("key: %s %d\n", c->alg != NULL ? c->alg : "(null)", c->bits);
		assert_int_equal(pkix_key_generate(c->alg, c->bits, &k), c->want);
		if (c->want != OC_OK) {
			assert_null(k);
			continue;
		}
		assert_int_equal(EVP_PKEY_get_base_id(k), c->type);
		assert_int_equal(EVP_PKEY_get_bits(k), c->want_bits);
		EVP_PKEY_free(k);
	}
}

struct csr_case {
	const char *name;
	struct pkix_csr_params p;
	int with_params;
	int want;
	const char *subject, *v2, *v1;
	uint32_t major, minor;
	int md_nid;
};

static struct oc_strlist two_dns = {
	(char *[]){ "ws01.example.com", "www.example.com", NULL }, 2 };

static const struct csr_case csr_cases[] = {
	{ "v2 template, SAN", { .subject = "CN=ws01.example.com,O=Example",
	  .dns = &two_dns, .template_oid = WEBSERVER_OID, .template_major = 4,
	  .template_minor = 1 }, 1, OC_OK, "CN=ws01.example.com,O=Example",
	  WEBSERVER_OID, NULL, 4, 1, NID_sha256 },
	{ "v1 template (certmonger -T Machine)", { .subject = "/CN=ws01",
	  .template_name = "Machine" }, 1, OC_OK, "CN=ws01", NULL, "Machine", 0, 0,
	  NID_sha256 },
	{ "OID wins over name", { .template_oid = "1.2.3.4", .template_major = 100,
	  .template_name = "Machine", .md = "sha384" }, 1, OC_OK, "", "1.2.3.4", NULL,
	  100, 0, NID_sha384 },
	{ "no params", { 0 }, 0, OC_OK, "", NULL, NULL, 0, 0, NID_sha256 },
	{ "unknown digest", { .md = "nope" }, 1, OC_ERR_INVALID, NULL, NULL, NULL,
	  0, 0, 0 },
	{ "bad subject", { .subject = "CN" }, 1, OC_ERR_INVALID, NULL, NULL, NULL,
	  0, 0, 0 },
	{ "bad OID", { .template_oid = "WebServer" }, 1, OC_ERR_INVALID, NULL, NULL,
	  NULL, 0, 0, 0 },
};

static void
test_csr_build(void **state)
{
	EVP_PKEY *k = NULL;

	(void)state;
	assert_int_equal(pkix_key_generate("ECDSA_P256", 0, &k), OC_OK);
	for (size_t i = 0; i < sizeof(csr_cases) / sizeof(csr_cases[0]); i++) {
		const struct csr_case *c = &csr_cases[i];
		struct oc_req_info ri;
		uint8_t *der = NULL;
		size_t len = 0;
		int r;

		print_message("CSR: %s\n", c->name);
		r = pkix_csr_build(k, c->with_params ? &c->p : NULL, &der, &len);
		assert_int_equal(r, c->want);
		if (r != OC_OK) {
			assert_null(der);
			continue;
		}
		assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
		assert_int_equal(ri.format, OC_REQ_PKCS10);
		assert_int_equal(ri.csr_signature_ok, 1);
		assert_string_equal(ri.subject, c->subject);
		assert_int_equal(X509_REQ_get_signature_nid(ri.csr),
		    c->md_nid == NID_sha256 ? NID_ecdsa_with_SHA256 : NID_ecdsa_with_SHA384);
		if (c->v2 != NULL)
			assert_string_equal(ri.template_v2_oid, c->v2);
		else
			assert_null(ri.template_v2_oid);
		if (c->v1 != NULL)
			assert_string_equal(ri.template_v1_name, c->v1);
		else
			assert_null(ri.template_v1_name);
		assert_int_equal(ri.template_v2_major, c->major);
		assert_int_equal(ri.template_v2_minor, c->minor);
		if (c->p.dns != NULL) {
			assert_int_equal(ri.san_dns.n, c->p.dns->n);
			for (size_t j = 0; j < c->p.dns->n; j++)
				assert_string_equal(ri.san_dns.v[j], c->p.dns->v[j]);
		} else
			assert_int_equal(ri.san_dns.n, 0);
		oc_req_info_clear(&ri);
		free(der);
	}
	EVP_PKEY_free(k);
}

static void
test_pem_and_der(void **state)
{
	EVP_PKEY *k = NULL, *back;
	X509 *x = X509_new(), *y = NULL;
	char *pem = NULL;
	uint8_t *der = NULL, *big;
	int n;
	BIO *b;

	(void)state;
	assert_int_equal(pkix_key_generate("ECDSA_P256", 0, &k), OC_OK);
	assert_int_equal(pkix_key_to_pem(k, &pem), OC_OK);
	assert_true(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
	assert_non_null(b = BIO_new_mem_buf(pem, -1));
	assert_non_null(back = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL));
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	BIO_free(b);
	EVP_PKEY_free(back);
	oc_free_secret(pem);

	assert_true(X509_set_version(x, 2));
	assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"pem", -1, -1, 0));
	assert_true(X509_set_issuer_name(x, X509_get_subject_name(x)));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_true(X509_set_pubkey(x, k));
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_int_equal(pkix_cert_to_pem(x, &pem), OC_OK);
	assert_true(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
	free(pem);

	assert_true((n = i2d_X509(x, &der)) > 0);
	assert_int_equal(pkix_cert_from_der(der, (size_t)n, &y), OC_OK);
	assert_int_equal(X509_cmp(x, y), 0);
	X509_free(y);
	y = NULL;
	assert_non_null(big = malloc((size_t)n + 1));
	memcpy(big, der, (size_t)n);
	big[n] = 0;
	assert_int_equal(pkix_cert_from_der(big, (size_t)n + 1, &y), OC_ERR_DER);
	assert_int_equal(pkix_cert_from_der(big, (size_t)n - 1, &y), OC_ERR_DER);
	assert_int_equal(pkix_cert_from_der(big, 40000, &y), OC_ERR_LIMIT);
	assert_null(y);
	free(big);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(k);
	assert_int_equal(pkix_cert_to_pem(NULL, &pem), OC_ERR_INVALID);
}

static void
test_sha1(void **state)
{
	/* FIPS 180 example "abc" */
	static const uint8_t want[20] = { 0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06,
	    0x81, 0x6a, 0xba, 0x3e, 0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c,
	    0xd0, 0xd8, 0x9d };
	uint8_t h[20];

	(void)state;
	assert_int_equal(pkix_sha1((const uint8_t *)"abc", 3, h), OC_OK);
	assert_memory_equal(h, want, 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_parse),
		cmocka_unit_test(test_key_generate),
		cmocka_unit_test(test_csr_build),
		cmocka_unit_test(test_pem_and_der),
		cmocka_unit_test(test_sha1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
