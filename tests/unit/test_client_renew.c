/*
 * opences renew (wstep.md 5.6): the renewal request is a CMS SignedData
 * (id-data content, no signed attributes, SignerInfo by issuerAndSerialNumber,
 * the old certificate in certificates) signed with the old key, around a
 * PKCS#10 for the new (or same) key carrying the old subject and
 * subjectAltName, the template extension and attribute 1.3.6.1.4.1.311.13.1
 * holding the old certificate. Checked by parsing it back with the server's
 * own parser (pkix_request_parse). Also: which policy template a certificate
 * belongs to, and loading the --cert / --key files.
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

#include <openssl/cms.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "client/client.h"
#include "pkix/pkix.h"

int main(void);

#define TPL_OID "1.3.6.1.4.1.311.21.8.1234.5678.1.42"

/* A CA and an "old" certificate it issued (the one being renewed). */
struct fixture {
	EVP_PKEY *ca_key;
	X509 *ca;
};

static void
add_ext_der(X509 *x, const char *oid, const uint8_t *der, size_t len)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	assert_non_null(o);
	assert_non_null(os);
	assert_int_equal(ASN1_OCTET_STRING_set(os, der, (int)len), 1);
	assert_non_null(e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os));
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

/* tpl_v2: add 21.7 (TPL_OID 100.3); tpl_v1: add 20.2 with that name (may both be set). */
static X509 *
make_cert(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key, const char *cn, long serial,
    const char *san, int tpl_v2, const char *tpl_v1)
{
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	X509V3_CTX ctx;
	uint8_t *der = NULL;
	size_t len = 0;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, nm), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : nm), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	if (san != NULL) {
		X509_EXTENSION *e;
		X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
		assert_non_null(e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san));
		assert_int_equal(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	if (tpl_v2) {
		assert_int_equal(pkix_template_v2_encode(TPL_OID, 100, 3, &der, &len), OC_OK);
		add_ext_der(x, OC_OID_TEMPLATE_V2, der, len);
		free(der);
		der = NULL;
	}
	if (tpl_v1 != NULL) {
		assert_int_equal(pkix_template_v1_encode(tpl_v1, &der, &len), OC_OK);
		add_ext_der(x, OC_OID_TEMPLATE_V1, der, len);
		free(der);
	}
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	X509_NAME_free(nm);
	return x;
}

static EVP_PKEY *
gen(const char *alg)
{
	EVP_PKEY *k = NULL;

	assert_int_equal(pkix_key_generate(alg, 2048, &k), OC_OK);
	return k;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ca_key = gen("ECDSA_P256");
	f->ca = make_cert(NULL, NULL, f->ca_key, "Unit Test CA", 1, NULL, 0, NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	X509_free(f->ca);
	EVP_PKEY_free(f->ca_key);
	free(f);
	return 0;
}

static int
same_cert(X509 *a, X509 *b)
{
	return a != NULL && b != NULL && X509_cmp(a, b) == 0;
}

/* The CMS shape Windows sends (wstep.md 5.6 / spec example 4.1.5.1). */
static void
check_cms_shape(const uint8_t *der, size_t len, X509 *old)
{
	const unsigned char *p = der;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	ASN1_OCTET_STRING *keyid = NULL;
	X509_NAME *issuer = NULL;
	ASN1_INTEGER *sno = NULL;

	assert_non_null(cms);
	assert_ptr_equal(p, der + len);
	assert_int_equal(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_signed);
	assert_int_equal(OBJ_obj2nid(CMS_get0_eContentType(cms)), NID_pkcs7_data);
	assert_non_null(sis = CMS_get0_SignerInfos(cms));
	assert_int_equal(sk_CMS_SignerInfo_num(sis), 1);
	si = sk_CMS_SignerInfo_value(sis, 0);
	assert_true(CMS_signed_get_attr_count(si) <= 0);          /* no signed attributes */
	assert_int_equal(CMS_SignerInfo_get0_signer_id(si, &keyid, &issuer, &sno), 1);
	assert_null(keyid);                                        /* issuerAndSerialNumber */
	assert_int_equal(X509_NAME_cmp(issuer, X509_get_issuer_name(old)), 0);
	assert_int_equal(ASN1_INTEGER_cmp(sno, X509_get0_serialNumber(old)), 0);
	CMS_ContentInfo_free(cms);
}

static void
test_renewal_request(void **state)
{
	static const struct {
		const char *what;
		const char *old_alg;        /* key of the certificate being renewed */
		const char *new_alg;        /* NULL = same key */
		int v2;                     /* name the template by OID (else by name) */
		const char *san;            /* of the old certificate, NULL = none */
		const char *md;
		size_t ndns;
		const char *dns0;           /* first SAN dNSName expected in the new request */
	} cases[] = {
		{ "RSA same key, v1 name", "RSA", NULL, 0, "DNS:host.example.test,DNS:alt.example.test",
		  NULL, 2, "host.example.test" },
		{ "RSA new key, v2 OID", "RSA", "RSA", 1, "DNS:host.example.test", "sha384", 1, "host.example.test" },
		{ "EC same key, v2 OID", "ECDSA_P256", NULL, 1, "DNS:ec.example.test", NULL, 1, "ec.example.test" },
		{ "EC to new EC, no SAN", "ECDSA_P256", "ECDSA_P384", 0, NULL, "sha512", 0, NULL },
	};
	struct fixture *f = *state;

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct client_renewal_params rp;
		struct oc_req_info ri;
		EVP_PKEY *old_key = gen(cases[c].old_alg);
		EVP_PKEY *new_key = cases[c].new_alg ? gen(cases[c].new_alg) : old_key;
		X509 *old = make_cert(f->ca, f->ca_key, old_key, "host.example.test", 4242 + (long)c,
		    cases[c].san, cases[c].v2, cases[c].v2 ? NULL : "WebServer");
		uint8_t *der = NULL;
		size_t len = 0;

		print_message("case: %s\n", cases[c].what);
		memset(&rp, 0, sizeof(rp));
		rp.old_cert = old;
		rp.old_key = old_key;
		rp.new_key = new_key;
		rp.md = cases[c].md;
		if (cases[c].v2) {
			rp.template_oid = TPL_OID;
			rp.template_major = 100;
			rp.template_minor = 4;
		} else
			rp.template_name = "WebServer";
		assert_int_equal(client_renewal_build(&rp, &der, &len), OC_OK);
		check_cms_shape(der, len, old);

		assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
		assert_int_equal(ri.format, OC_REQ_CMS);
		assert_int_equal(ri.signer_signature_ok, 1);
		assert_int_equal(ri.csr_signature_ok, 1);
		assert_true(same_cert(ri.signer, old));
		assert_true(same_cert(ri.renewal_cert, old));
		/* the new request is for the new key, with the old names */
		assert_int_equal(EVP_PKEY_eq(X509_REQ_get0_pubkey(ri.csr), new_key), 1);
		assert_string_equal(ri.subject, "CN=host.example.test");
		assert_int_equal(ri.san_dns.n, cases[c].ndns);
		if (cases[c].ndns > 0)
			assert_string_equal(ri.san_dns.v[0], cases[c].dns0);
		if (cases[c].ndns > 1)
			assert_string_equal(ri.san_dns.v[1], "alt.example.test");
		if (cases[c].v2) {
			assert_non_null(ri.template_v2_oid);
			assert_string_equal(ri.template_v2_oid, TPL_OID);
			assert_int_equal(ri.template_v2_major, 100);
			assert_int_equal(ri.template_v2_minor, 4);
			assert_null(ri.template_v1_name);
		} else {
			assert_non_null(ri.template_v1_name);
			assert_string_equal(ri.template_v1_name, "WebServer");
			assert_null(ri.template_v2_oid);
		}
		oc_req_info_clear(&ri);

		/* a flipped bit in the CMS signature (the last bytes) is seen */
		der[len - 1] ^= 0x01;
		assert_int_equal(pkix_request_parse(der, len, &ri), OC_OK);
		assert_int_equal(ri.signer_signature_ok, 0);
		assert_int_equal(ri.csr_signature_ok, 1);
		oc_req_info_clear(&ri);

		free(der);
		X509_free(old);
		if (new_key != old_key)
			EVP_PKEY_free(new_key);
		EVP_PKEY_free(old_key);
	}
}

static void
test_renewal_refused(void **state)
{
	struct fixture *f = *state;
	struct client_renewal_params rp;
	EVP_PKEY *k = gen("ECDSA_P256"), *other = gen("ECDSA_P256");
	X509 *old = make_cert(f->ca, f->ca_key, k, "host.example.test", 7, NULL, 0, "WebServer");
	uint8_t *der = (uint8_t *)"x";
	size_t len = 1;

	memset(&rp, 0, sizeof(rp));
	rp.old_cert = old;
	rp.old_key = other;             /* not the certificate's key */
	rp.new_key = other;
	rp.template_name = "WebServer";
	assert_int_equal(client_renewal_build(&rp, &der, &len), OC_ERR_INVALID);
	assert_null(der);
	assert_int_equal(len, 0);
	rp.old_key = k;
	rp.new_key = NULL;
	assert_int_equal(client_renewal_build(&rp, &der, &len), OC_ERR_INVALID);
	rp.new_key = k;
	rp.md = "no-such-digest";
	assert_int_equal(client_renewal_build(&rp, &der, &len), OC_ERR_INVALID);
	assert_int_equal(client_renewal_build(NULL, &der, &len), OC_ERR_INVALID);
	X509_free(old);
	EVP_PKEY_free(other);
	EVP_PKEY_free(k);
}

/* The template of the current certificate: 21.7 OID first, then the 20.2 name. */
static void
test_find_for_cert(void **state)
{
	struct fixture *f = *state;
	struct client_template t[3];
	struct client_policy pol;
	static const struct {
		int v2;
		const char *v1;
		int want;               /* index into t, -1 = none */
	} cases[] = {
		{ 1, NULL, 1 },         /* OID of template 1 */
		{ 0, "webserver", 0 },  /* names compare case-insensitively */
		{ 1, "WebServer", 1 },  /* the OID wins */
		{ 0, "Unknown", -1 },
		{ 0, NULL, -1 },        /* no template extension at all */
	};
	EVP_PKEY *k = gen("ECDSA_P256");

	memset(t, 0, sizeof(t));
	memset(&pol, 0, sizeof(pol));
	t[0].cn = "WebServer";
	t[1].cn = "Workstation";
	t[1].oid = TPL_OID;
	t[2].cn = "Other";
	t[2].oid = "1.3.6.1.4.1.311.21.8.1.2";
	pol.templates = t;
	pol.ntemplates = 3;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		X509 *x = make_cert(f->ca, f->ca_key, k, "h", 9, NULL, cases[c].v2, cases[c].v1);
		const struct client_template *got = client_policy_find_for_cert(&pol, x);

		if (cases[c].want < 0)
			assert_null(got);
		else
			assert_ptr_equal(got, &t[cases[c].want]);
		X509_free(x);
	}
	/* the OID unknown to the policy: fall back to the name */
	t[1].oid = "1.3.6.1.4.1.311.21.8.9.9";
	{
		X509 *x = make_cert(f->ca, f->ca_key, k, "h", 9, NULL, 1, "WebServer");
		assert_ptr_equal(client_policy_find_for_cert(&pol, x), &t[0]);
		X509_free(x);
	}
	EVP_PKEY_free(k);
}

static void
write_tmp(char *path, const void *p, size_t n)
{
	int fd = mkstemp(path);
	FILE *fp;

	assert_true(fd >= 0);
	assert_non_null(fp = fdopen(fd, "wb"));
	assert_int_equal(fwrite(p, 1, n, fp), n);
	fclose(fp);
}

/* --cert: PEM or DER; --key: unencrypted PEM (encrypted ones refused, no prompt). */
static void
test_load_files(void **state)
{
	struct fixture *f = *state;
	char pem_path[] = "/tmp/oc-renew-cert-XXXXXX", der_path[] = "/tmp/oc-renew-der-XXXXXX";
	char key_path[] = "/tmp/oc-renew-key-XXXXXX", enc_path[] = "/tmp/oc-renew-enc-XXXXXX";
	char junk_path[] = "/tmp/oc-renew-junk-XXXXXX";
	EVP_PKEY *k = gen("ECDSA_P256"), *back = NULL;
	X509 *x = make_cert(f->ca, f->ca_key, k, "h", 11, NULL, 0, "WebServer"), *y = NULL;
	char *pem = NULL;
	uint8_t *der = NULL;
	int dlen;
	BIO *b;
	char *data;
	long n;

	assert_int_equal(pkix_cert_to_pem(x, &pem), OC_OK);
	write_tmp(pem_path, pem, strlen(pem));
	free(pem);
	assert_true((dlen = i2d_X509(x, &der)) > 0);
	write_tmp(der_path, der, (size_t)dlen);
	OPENSSL_free(der);
	assert_int_equal(pkix_key_to_pem(k, &pem), OC_OK);
	write_tmp(key_path, pem, strlen(pem));
	oc_free_secret(pem);
	assert_non_null(b = BIO_new(BIO_s_mem()));
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(b, k, EVP_aes_128_cbc(), NULL, 0, NULL,
	    (void *)"secret"), 1);
	n = BIO_get_mem_data(b, &data);
	write_tmp(enc_path, data, (size_t)n);
	BIO_free(b);
	write_tmp(junk_path, "-----BEGIN CERTIFICATE-----\nnot base64\n", 39);

	assert_int_equal(client_load_cert(pem_path, &y), OC_OK);
	assert_true(same_cert(x, y));
	X509_free(y);
	assert_int_equal(client_load_cert(der_path, &y), OC_OK);
	assert_true(same_cert(x, y));
	X509_free(y);
	assert_int_not_equal(client_load_cert(junk_path, &y), OC_OK);
	assert_null(y);
	assert_int_not_equal(client_load_cert(key_path, &y), OC_OK);   /* a key is no cert */
	assert_null(y);
	assert_int_equal(client_load_key(key_path, &back), OC_OK);
	assert_int_equal(EVP_PKEY_eq(back, k), 1);
	EVP_PKEY_free(back);
	back = NULL;
	assert_int_not_equal(client_load_key(enc_path, &back), OC_OK);
	assert_null(back);
	assert_int_not_equal(client_load_key(pem_path, &back), OC_OK);  /* a cert is no key */
	assert_int_not_equal(client_load_key("/nonexistent/key.pem", &back), OC_OK);

	unlink(pem_path);
	unlink(der_path);
	unlink(key_path);
	unlink(enc_path);
	unlink(junk_path);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* `opences renew` options: what is required, what belongs to other commands. */
static void
test_renew_options(void **state)
{
	static const char *const base[] = { "opences", "renew", "--policy-url", "https://cep/x",
	    "--auth", "password", "--user", "u", "--password-file", "pw", "--ca-file", "ca",
	    "--key-out", "k2", "--cert-out", "c2" };
	static const struct {
		const char *extra[3];
		int ok;
		int new_key;
	} cases[] = {
		{ { "--cert", "c", NULL }, 0, 0 },                       /* --key missing */
		{ { "--key", "k", NULL }, 0, 0 },                        /* --cert missing */
		{ { "--cert=c", "--key=k", NULL }, 1, 0 },
		{ { "--cert=c", "--key=k", "--new-key" }, 1, 1 },
		{ { "--cert=c", "--key=k", "--template=WebServer" }, 0, 0 },  /* enroll only */
		{ { "--cert=c", "--key=k", "--dns=x" }, 0, 0 },
		{ { "--cert=c", "--key=k", "--json" }, 0, 0 },
	};
	struct client_opts o;

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *argv[32];
		int argc = 0;

		for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++)
			argv[argc++] = (char *)base[i];
		for (size_t i = 0; i < 3 && cases[c].extra[i]; i++)
			argv[argc++] = (char *)cases[c].extra[i];
		argv[argc] = NULL;
		if (cases[c].ok) {
			assert_int_equal(client_opts_parse(argc, argv, &o), OC_OK);
			assert_int_equal(o.cmd, CLIENT_CMD_RENEW);
			assert_string_equal(o.cert, "c");
			assert_string_equal(o.key, "k");
			assert_int_equal(o.new_key, cases[c].new_key);
			client_opts_clear(&o);
		} else
			assert_int_equal(client_opts_parse(argc, argv, &o), OC_ERR_INVALID);
	}
	/* --cert / --key / --new-key are renew options only */
	{
		char *argv[] = { "opences", "enroll", "--policy-url", "https://cep/x", "--auth",
		    "password", "--user", "u", "--password-file", "pw", "--ca-file", "ca",
		    "--template", "T", "--key-out", "k2", "--cert-out", "c2", "--new-key", NULL };
		assert_int_equal(client_opts_parse(19, argv, &o), OC_ERR_INVALID);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_renewal_request),
		cmocka_unit_test(test_renewal_refused),
		cmocka_unit_test(test_find_for_cert),
		cmocka_unit_test(test_load_files),
		cmocka_unit_test(test_renew_options),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
