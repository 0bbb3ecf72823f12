/*
 * The CA key in a PKCS#11 token (SoftHSM2, tests/lib/softhsm.sh): oc_ca_init
 * generates the key in the token and certifies it, a restart loads the same
 * key, orders are signed by the token (certificate and CMC response verify),
 * the key is sensitive and never extractable, and a wrong PIN or token fails
 * cleanly. Skipped when softhsm2 is not installed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "ca/ca_local.h"
#include "ca/ca_pkcs11.h"
#include "directory/directory.h"
#include "model/hresult.h"
#include "pkix/pkix.h"

int main(void);

#define MODULE   "/usr/lib/softhsm/libsofthsm2.so"
#define CA_NAME  "OpenCES HSM CA"

static struct {
	int skip;
	char tmp[64], dir_path[128], store_path[128], cert_path[128], conf[128];
	char uri[512], bad_pin_uri[512], bad_token_uri[512];
	struct oc_ca_config cfg;
} F;

static X509 *
read_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static int
group_setup(void **state)
{
	struct oc_directory *dir = NULL;
	struct oc_ca_entry ce = { 0 };
	struct oc_identity id = { 0 };
	char cmd[512];
	const char *src = getenv("OC_SOURCE_DIR");
	int rc;

	snprintf(F.tmp, sizeof(F.tmp), "/tmp/oc-hsm-XXXXXX");
	assert_non_null(mkdtemp(F.tmp));
	snprintf(cmd, sizeof(cmd), "bash %s/tests/lib/softhsm.sh %s/hsm opences 1234",
	    src ? src : ".", F.tmp);
	rc = system(cmd);
	if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) {
		F.skip = 1;
		return 0;
	}
	assert_int_equal(rc, 0);
	snprintf(F.conf, sizeof(F.conf), "%s/hsm/softhsm2.conf", F.tmp);
	setenv("SOFTHSM2_CONF", F.conf, 1);
	snprintf(F.dir_path, sizeof(F.dir_path), "%s/directory.db", F.tmp);
	snprintf(F.store_path, sizeof(F.store_path), "%s/store.db", F.tmp);
	snprintf(F.cert_path, sizeof(F.cert_path), "%s/ca.pem", F.tmp);
	snprintf(F.uri, sizeof(F.uri), "pkcs11:token=opences;object=ca-key;type=private"
	    "?module-path=" MODULE "&pin-source=file:%s/hsm/pin", F.tmp);
	snprintf(F.bad_pin_uri, sizeof(F.bad_pin_uri), "pkcs11:token=opences;object=ca-key;"
	    "type=private?module-path=" MODULE "&pin-value=9999");
	snprintf(F.bad_token_uri, sizeof(F.bad_token_uri), "pkcs11:token=nosuch;object=ca-key"
	    "?module-path=" MODULE "&pin-source=file:%s/hsm/pin", F.tmp);

	assert_int_equal(oc_dir_open(F.dir_path, 1, &dir), OC_OK);
	assert_int_equal(oc_dir_seed_defaults(dir), OC_OK);
	id.name = (char *)"alice";
	id.kind = OC_ACCOUNT_USER;
	id.upn = (char *)"alice@example.com";
	id.mail = (char *)"alice@example.com";
	id.dn = (char *)"CN=alice,CN=Users,DC=example,DC=com";
	assert_int_equal(oc_dir_account_add(dir, &id, NULL), OC_OK);
	ce.name = (char *)CA_NAME;
	ce.dns_host_name = (char *)"ca.example.com";
	assert_int_equal(oc_strlist_add(&ce.templates, "User"), OC_OK);
	assert_int_equal(oc_dir_ca_put(dir, &ce), OC_OK);
	oc_strlist_free(&ce.templates);
	oc_dir_close(dir);

	F.cfg.dir_path = F.dir_path;
	F.cfg.store_path = F.store_path;
	F.cfg.key_file = F.uri;
	F.cfg.cert_file = F.cert_path;
	F.cfg.ca_name = CA_NAME;
	F.cfg.key_type = "RSA2048";
	(void)state;
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	if (F.tmp[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", F.tmp);
		assert_int_equal(system(cmd), 0);
	}
	(void)state;
	return 0;
}

static int
skip_setup(void **state)
{
	/* SoftHSM2 is a test dependency (scripts/extra-packages.txt): missing means failed. */
	if (F.skip)
		fail_msg("softhsm2 is not installed");
	(void)state;
	return 0;
}

/* RFC 7512 URIs: only the pkcs11: scheme is a token key, anything else a file. */
static void
test_uri_detect(void **state)
{
	static const struct { const char *s; int is; } cases[] = {
		{ "pkcs11:token=a;object=b", 1 },
		{ "PKCS11:object=b", 1 },
		{ "/etc/opences/ca.key", 0 },
		{ "pkcs11", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(ca_pkcs11_is_uri(cases[i].s), cases[i].is);
	assert_int_equal(ca_pkcs11_is_uri(NULL), 0);
	(void)state;
}

/* Malformed URIs are configuration errors, before any module is loaded. */
static void
test_uri_bad(void **state)
{
	static const char *bad[] = {
		"pkcs11:token=opences",                                   /* no object/id */
		"pkcs11:object=k;type=public?module-path=" MODULE,        /* not a private key */
		"pkcs11:object=k",                                        /* no module */
		"pkcs11:object=k%4?module-path=" MODULE,                  /* bad escape */
		"pkcs11:object=k%00x?module-path=" MODULE,                /* NUL in a label */
		"pkcs11:object?module-path=" MODULE,                      /* no '=' */
		"pkcs11:object=k?module-path=" MODULE "&pin-source=relative/pin",
	};
	EVP_PKEY *k = (EVP_PKEY *)1;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ca_pkcs11_load_key(bad[i], 0, NULL, &k, NULL), OC_ERR_CONFIG);
		assert_null(k);
	}
	(void)state;
}

/* First start: the key is generated in the token and the root certificate verifies. */
static void
test_init_generates(void **state)
{
	X509 *x;
	EVP_PKEY *pub;

	assert_int_equal(access(F.cert_path, F_OK), -1);
	assert_int_equal(oc_ca_init(&F.cfg), OC_OK);
	x = read_cert(F.cert_path);
	pub = X509_get0_pubkey(x);
	assert_non_null(pub);
	assert_int_equal(EVP_PKEY_get_base_id(pub), EVP_PKEY_RSA);
	assert_int_equal(EVP_PKEY_get_bits(pub), 2048);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_true(X509_check_ca(x) >= 1);
	X509_free(x);
	(void)state;
}

/* The generated private key: CKA_SENSITIVE true, CKA_EXTRACTABLE false (pkcs11-tool). */
static void
test_key_not_extractable(void **state)
{
	char cmd[512], line[512];
	int sensitive = 0, never_extractable = 0, privkeys = 0;
	FILE *p;

	if (system("command -v pkcs11-tool >/dev/null 2>&1") != 0)
		fail_msg("pkcs11-tool (opensc) is not installed");
	snprintf(cmd, sizeof(cmd), "pkcs11-tool --module " MODULE " --token-label opences "
	    "--login --pin 1234 --list-objects --type privkey 2>/dev/null");
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p) != NULL) {
		if (strstr(line, "Private Key Object") != NULL)
			privkeys++;
		if (strstr(line, "Access:") != NULL) {
			sensitive = strstr(line, "sensitive") != NULL;
			never_extractable = strstr(line, "never extractable") != NULL;
		}
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(privkeys, 1);
	assert_true(sensitive);
	assert_true(never_extractable);
	(void)state;
}

/* Restart: the certificate is kept and the same token key is loaded. */
static void
test_restart_same_key(void **state)
{
	struct stat st1, st2;
	struct oc_ca *ca = NULL;
	X509 *x;

	assert_int_equal(stat(F.cert_path, &st1), 0);
	assert_int_equal(oc_ca_init(&F.cfg), OC_OK);
	assert_int_equal(stat(F.cert_path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);
	x = read_cert(F.cert_path);
	assert_int_equal(oc_ca_open(&F.cfg, &ca), OC_OK);
	assert_int_equal(EVP_PKEY_eq(ca->key, X509_get0_pubkey(x)), 1);
	assert_int_equal(X509_cmp(oc_ca_get0_cert(ca), x), 0);
	oc_ca_close(ca);
	X509_free(x);
	(void)state;
}

/* An order is signed in the token: certificate and CMC response verify. */
static void
test_order_signed_by_token(void **state)
{
	struct oc_ca *ca = NULL;
	struct oc_ca_order o;
	struct oc_ca_result res;
	struct pkix_csr_params cp = { 0 };
	EVP_PKEY *k = NULL;
	X509 *cax, *x = NULL;
	X509_STORE *st;
	X509_STORE_CTX *ctx;
	CMS_ContentInfo *cms;
	const uint8_t *p;
	uint8_t *der = NULL;
	size_t len = 0;

	cax = read_cert(F.cert_path);
	assert_int_equal(oc_ca_open(&F.cfg, &ca), OC_OK);
	assert_int_equal(pkix_key_generate("RSA", 2048, &k), OC_OK);
	cp.subject = "CN=alice";
	cp.template_name = "User";
	assert_int_equal(pkix_csr_build(k, &cp, &der, &len), OC_OK);
	memset(&o, 0, sizeof(o));
	o.requester.name = strdup("alice");
	o.requester.kind = OC_ACCOUNT_USER;
	o.requester.auth_type = OC_AUTH_KERBEROS;
	o.template_hint = strdup("User");
	o.request = der;
	o.request_len = len;
	assert_int_equal(oc_ca_process_order(ca, &o, &res), OC_OK);
	if (res.disposition != OC_DISP_ISSUED)
		fail_msg("not issued: 0x%08x %s", res.hresult, res.message);
	assert_int_equal(pkix_cert_from_der(res.cert, res.cert_len, &x), OC_OK);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), k), 1);

	st = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	assert_int_equal(X509_STORE_add_cert(st, cax), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, st, x, NULL), 1);
	if (X509_verify_cert(ctx) != 1)
		fail_msg("verify: %s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);

	/* the CMC full PKI response: a SignedData by the CA key */
	p = res.cmc;
	assert_non_null(cms = d2i_CMS_ContentInfo(NULL, &p, (long)res.cmc_len));
	if (CMS_verify(cms, NULL, st, NULL, NULL, CMS_BINARY | CMS_NOINTERN) != 1) {
		STACK_OF(X509) *signers = sk_X509_new_null();

		/* no S/MIME purpose on a CA certificate: verify the signature with it */
		ERR_clear_error();
		assert_int_equal(sk_X509_push(signers, cax), 1);
		assert_int_equal(CMS_verify(cms, signers, st, NULL, NULL,
		    CMS_BINARY | CMS_NOINTERN | CMS_NO_SIGNER_CERT_VERIFY), 1);
		sk_X509_free(signers);
	}
	CMS_ContentInfo_free(cms);
	X509_STORE_free(st);
	X509_free(x);
	X509_free(cax);
	EVP_PKEY_free(k);
	oc_ca_result_clear(&res);
	oc_ca_order_clear(&o);
	oc_ca_close(ca);
	(void)state;
}

/* The signing pool's case: several threads sign with the one token key at once. */
#define SIGN_THREADS 4
#define SIGN_ROUNDS  16

struct signer {
	EVP_PKEY *key;
	int ok;
};

static void *
sign_loop(void *arg)
{
	struct signer *s = arg;
	unsigned char msg[32], sig[512];

	s->ok = 0;
	for (int i = 0; i < SIGN_ROUNDS; i++) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		size_t siglen = sizeof(sig);
		int good;

		memset(msg, i, sizeof(msg));
		good = md != NULL &&
		    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, s->key) == 1 &&
		    EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg)) == 1 &&
		    EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, s->key) == 1 &&
		    EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) == 1;
		EVP_MD_CTX_free(md);
		if (!good)
			return NULL;
	}
	s->ok = 1;
	return NULL;
}

static void
test_concurrent_signing(void **state)
{
	struct oc_ca *ca = NULL;
	struct signer s[SIGN_THREADS];
	pthread_t th[SIGN_THREADS];

	assert_int_equal(oc_ca_open(&F.cfg, &ca), OC_OK);
	for (int i = 0; i < SIGN_THREADS; i++) {
		s[i].key = ca->key;
		assert_int_equal(pthread_create(&th[i], NULL, sign_loop, &s[i]), 0);
	}
	for (int i = 0; i < SIGN_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_true(s[i].ok);
	}
	oc_ca_close(ca);
	(void)state;
}

/* A wrong PIN or an unknown token: a configuration error, no key. */
static void
test_wrong_pin_or_token(void **state)
{
	struct oc_ca_config c = F.cfg;
	struct oc_ca *ca = NULL;
	EVP_PKEY *k = NULL;

	c.key_file = F.bad_pin_uri;
	assert_int_equal(oc_ca_open(&c, &ca), OC_ERR_CONFIG);
	assert_null(ca);
	assert_int_equal(oc_ca_init(&c), OC_ERR_CONFIG);
	c.key_file = F.bad_token_uri;
	assert_int_equal(oc_ca_open(&c, &ca), OC_ERR_CONFIG);
	assert_null(ca);
	/* a missing key is not created outside oc_ca_init */
	c.key_file = F.uri;
	assert_int_equal(ca_pkcs11_load_key("pkcs11:token=opences;object=nosuch?module-path="
	    MODULE "&pin-value=1234", 0, NULL, &k, NULL), OC_ERR_NOT_FOUND);
	assert_null(k);
	/* and the good key still works afterwards */
	assert_int_equal(oc_ca_open(&c, &ca), OC_OK);
	oc_ca_close(ca);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri_detect),
		cmocka_unit_test_setup(test_uri_bad, skip_setup),
		cmocka_unit_test_setup(test_init_generates, skip_setup),
		cmocka_unit_test_setup(test_key_not_extractable, skip_setup),
		cmocka_unit_test_setup(test_restart_same_key, skip_setup),
		cmocka_unit_test_setup(test_order_signed_by_token, skip_setup),
		cmocka_unit_test_setup(test_concurrent_signing, skip_setup),
		cmocka_unit_test_setup(test_wrong_pin_or_token, skip_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
