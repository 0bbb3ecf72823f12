/* The CA key and root certificate (oc_ca_init) and the demo HTTPS server certificate. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"

int main(void);

static char tmp[64];

static int
ext_critical(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	assert_true(i >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, i));
}

static void
subject_text(X509 *x, char *buf, size_t cap)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p;
	long n;

	X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
	n = BIO_get_mem_data(b, &p);
	snprintf(buf, cap, "%.*s", (int)n, p);
	BIO_free(b);
}

/* The default CA: RSA-2048, "OpenCES Demo CA", 3650 days; idempotent. */
static void
test_rsa_ca_defaults(void **state)
{
	struct oc_ca_config cfg = { 0 };
	char key[160], cert[160], buf[256];
	X509 *ca = NULL;
	FILE *fp;
	struct stat a, b;

	snprintf(key, sizeof(key), "%s/rsa.key", tmp);
	snprintf(cert, sizeof(cert), "%s/rsa.pem", tmp);
	cfg.key_file = key;
	cfg.cert_file = cert;
	assert_int_equal(oc_ca_init(&cfg), OC_OK);
	assert_int_equal(stat(key, &a), 0);
	assert_int_equal(a.st_mode & 0777, 0600);
	assert_int_equal(stat(cert, &a), 0);
	assert_int_equal(oc_ca_init(&cfg), OC_OK);
	assert_int_equal(stat(cert, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_non_null(fp = fopen(cert, "r"));
	assert_non_null(ca = PEM_read_X509(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(ca)), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(ca)), 2048);
	subject_text(ca, buf, sizeof(buf));
	assert_string_equal(buf, "CN=" OC_CA_DEFAULT_NAME);
	assert_int_equal(X509_check_issued(ca, ca), X509_V_OK);
	{
		int days = 0, secs = 0;
		assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(ca),
		    X509_get0_notAfter(ca)), 1);
		assert_true(days >= 3650 && days <= 3651);
	}
	/* an unknown key type is a configuration error */
	snprintf(key, sizeof(key), "%s/dsa.key", tmp);
	snprintf(cert, sizeof(cert), "%s/dsa.pem", tmp);
	cfg.key_type = "DSA1024";
	assert_int_equal(oc_ca_init(&cfg), OC_ERR_CONFIG);
	X509_free(ca);
	(void)state;
}

/* A P-256 CA and the demo HTTPS server certificate. */
static void
test_p256_ca_and_tls_cert(void **state)
{
	struct oc_ca_config cfg = { 0 };
	char key[160], cert[160], skey[160], scert[160];
	const char *dns[] = { "localhost", NULL }, *ips[] = { "127.0.0.1", "::1", NULL };
	X509 *ca = NULL, *srv = NULL;
	FILE *fp;
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	struct stat sb;
	char buf[256];

	snprintf(key, sizeof(key), "%s/ec.key", tmp);
	snprintf(cert, sizeof(cert), "%s/ec.pem", tmp);
	snprintf(skey, sizeof(skey), "%s/https.key", tmp);
	snprintf(scert, sizeof(scert), "%s/https.pem", tmp);
	cfg.key_file = key;
	cfg.cert_file = cert;
	cfg.key_type = "P256";
	cfg.ca_name = "Test EC CA";
	cfg.validity_days = 30;
	assert_int_equal(oc_ca_init(&cfg), OC_OK);
	assert_int_equal(oc_ca_init(&cfg), OC_OK);
	assert_int_equal(oc_ca_issue_tls_server_cert(&cfg, dns, ips, skey, scert), OC_OK);
	assert_int_equal(stat(skey, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	assert_non_null(fp = fopen(cert, "r"));
	assert_non_null(ca = PEM_read_X509(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_int_equal(EVP_PKEY_get_base_id(X509_get0_pubkey(ca)), EVP_PKEY_EC);
	assert_true(X509_check_ca(ca) >= 1);
	assert_int_equal(ext_critical(ca, NID_basic_constraints), 1);
	assert_int_equal(ext_critical(ca, NID_key_usage), 1);
	assert_true(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
	assert_true(X509_get_key_usage(ca) & KU_CRL_SIGN);
	assert_true(X509_get_key_usage(ca) & KU_DIGITAL_SIGNATURE);
	assert_non_null(X509_get0_subject_key_id(ca));
	assert_non_null(X509_get0_authority_key_id(ca));
	subject_text(ca, buf, sizeof(buf));
	assert_string_equal(buf, "CN=Test EC CA");

	assert_non_null(fp = fopen(scert, "r"));
	assert_non_null(srv = PEM_read_X509(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_int_equal(X509_STORE_add_cert(st, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, srv, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	assert_int_equal(X509_verify_cert(ctx), 1);
	assert_int_equal(X509_check_host(srv, "localhost", 0, 0, NULL), 1);
	assert_int_equal(X509_check_ip_asc(srv, "127.0.0.1", 0), 1);
	assert_int_equal(X509_check_ip_asc(srv, "::1", 0), 1);
	/* never outlives the CA */
	assert_true(ASN1_TIME_compare(X509_get0_notAfter(srv), X509_get0_notAfter(ca)) <= 0);

	/* a certificate whose key is gone is refused, not replaced */
	unlink(key);
	assert_int_equal(oc_ca_init(&cfg), OC_ERR_CONFIG);
	/* a key that does not match the certificate is refused */
	cfg.key_file = skey;
	assert_int_equal(oc_ca_init(&cfg), OC_ERR_CONFIG);
	/* nothing for the server certificate to name */
	cfg.key_file = skey;
	cfg.cert_file = scert;
	assert_int_equal(oc_ca_issue_tls_server_cert(&cfg, NULL, NULL, skey, scert), OC_ERR_INVALID);
	/* an end-entity certificate is no CA */
	assert_int_equal(oc_ca_init(&cfg), OC_ERR_CONFIG);

	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	X509_free(ca);
	X509_free(srv);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rsa_ca_defaults),
		cmocka_unit_test(test_p256_ca_and_tls_cert),
	};
	char cmd[128];
	int r;

	snprintf(tmp, sizeof(tmp), "/tmp/oc-ca-keys-XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
	return r;
}
