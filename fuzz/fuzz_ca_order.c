/*
 * opences: the CA's checks of an order (oc_ca_process_order) on arbitrary
 * request bytes, against a real CA: a P-256 CA key and certificate, an
 * embedded directory with the default templates, all published on the CA's
 * entry, and an account with Enroll on every template, all in a temporary
 * directory (under /dev/shm when it exists) removed at exit.
 *
 * Input: byte 0 = n, the length of the template hint (the RST context's
 * CertificateTemplate; 0 = none), then n bytes of hint, then the request DER.
 * Every input gets a RequestID and a decision (issued, pending, denied); the
 * CA failing on bytes a client sent is a bug. An issued certificate is DER
 * the CA signed.
 *
 * FUZZ_CA_ORDER_VERBOSE=1 in the environment prints each decision (to see
 * what the seeds reach: ./fuzz_ca_order FILE...).
 *
 * The CA key and certificate are fixed (below, made with openssl for this
 * fuzzer only, valid until 2100) so that seeds can carry what this CA
 * issued: every store the fuzzer opens records FUZZ_EE_PEM (serial
 * 4f43455346555a5a, account "fuzz", template User) as issued, and the seed
 * cms_renewal_ours.bin is a renewal signed with it, which the CA accepts;
 * mutations of it reach the renewal checks past "not issued by this CA".
 *
 * The store grows by one request per input; it is replaced by a fresh one
 * every FUZZ_STORE_ROUNDS inputs so long runs stay bounded in size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ca/ca.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "directory/directory.h"
#include "model/hresult.h"
#include "store/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ACCOUNT      "fuzz"
#define FUZZ_STORE_ROUNDS 20000

/* A test-only CA (P-256, CN=OpenCES Demo CA): not a secret. */
static const char FUZZ_CA_KEY_PEM[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXBYUq0+R4tCvz2HK\n"
    "eXMBhI/p/UIFA9C7LSOTBztwiFyhRANCAARXcytloUEJVI46WEO1zX4fJaUCIv1F\n"
    "sSE5ogC2rOUUBNjjNjG1mpteAL0sgfVCPUuTOzz5G1g3080wxcrx5L3Q\n"
    "-----END PRIVATE KEY-----\n";
static const char FUZZ_CA_CERT_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBbTCCARKgAwIBAgIGT0NFU0ZBMAoGCCqGSM49BAMCMBoxGDAWBgNVBAMMD09w\n"
    "ZW5DRVMgRGVtbyBDQTAgFw0yNjExMjUxMzU4NDNaGA8yMTAwMTAyODEzNTg0M1ow\n"
    "GjEYMBYGA1UEAwwPT3BlbkNFUyBEZW1vIENBMFkwEwYHKoZIzj0CAQYIKoZIzj0D\n"
    "AQcDQgAEV3MrZaFBCVSOOlhDtc1+HyWlAiL9RbEhOaIAtqzlFATY4zYxtZqbXgC9\n"
    "LIH1Qj1Lkzs8+RtYN9PNMMXK8eS90KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNV\n"
    "HQ8BAf8EBAMCAQYwHQYDVR0OBBYEFH8DtA7CEE7a7fXR25SLqZinXorvMAoGCCqG\n"
    "SM49BAMCA0kAMEYCIQDYFT9U6SZjKhS1r/jdcVbvahJIXVWL33Vy+IDZH54fKgIh\n"
    "AM9Oelt0JdLV87Gmyyi4YMS8y1rSLsVn6q64Eu6U4uD8\n"
    "-----END CERTIFICATE-----\n";
/* Issued by it to CN=fuzz: the certificate renewal seeds are signed with. */
static const char FUZZ_EE_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBlTCCATygAwIBAgIIT0NFU0ZVWlowCgYIKoZIzj0EAwIwGjEYMBYGA1UEAwwP\n"
    "T3BlbkNFUyBEZW1vIENBMCAXDTI2MTEyNTEzNTg0M1oYDzIxMDAxMDI4MTM1ODQz\n"
    "WjAPMQ0wCwYDVQQDDARmdXp6MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFr+b\n"
    "1r2uYoPUuQJ7OgXYrTOGndCY7tsO2h2AnGCkNDWpo2dsDzmT9glfU1ogSvXY1Yvo\n"
    "jUemLGWcZtQJWega4qN1MHMwDAYDVR0TAQH/BAIwADAOBgNVHQ8BAf8EBAMCB4Aw\n"
    "HwYDVR0jBBgwFoAUfwO0DsIQTtrt9dHblIupmKdeiu8wEwYDVR0lBAwwCgYIKwYB\n"
    "BQUHAwIwHQYDVR0OBBYEFJiPj6jGfI6fCskGRRRe+aHkdl5JMAoGCCqGSM49BAMC\n"
    "A0cAMEQCIBT48cjep/iWwvVfBdjMuVy5Y5HjPI7lH2OmjcTTw517AiAXMhseirFs\n"
    "Y4b/0FST5LSg9aeOsh3runGDaWPbaNLVwA==\n"
    "-----END CERTIFICATE-----\n";
#define FUZZ_EE_SERIAL_HEX "4f43455346555a5a"
#define FUZZ_EE_TEMPLATE   "User"

static struct {
	char tmp[64], dir_path[96], store_path[96], key_path[96], cert_path[96];
	struct oc_ca_config cfg;
	struct oc_ca *ca;
	struct oc_identity requester;
	EVP_PKEY *ca_pub;
	unsigned long rounds;
	int verbose;                  /* FUZZ_CA_ORDER_VERBOSE set: print each decision */
} F;


static void
remove_store(void)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	char p[128];

	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", F.store_path, suffix[i]);
		(void)unlink(p);
	}
}

static void
cleanup(void)
{
	static const char *const files[] = { "directory.db", "directory.db-wal",
	    "directory.db-shm", "directory.db-journal", "ca.key", "ca.pem" };
	char p[128];

	oc_ca_close(F.ca);
	F.ca = NULL;
	oc_identity_clear(&F.requester);
	EVP_PKEY_free(F.ca_pub);
	F.ca_pub = NULL;
	if (F.tmp[0] == '\0')
		return;
	remove_store();
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", F.tmp, files[i]);
		(void)unlink(p);
	}
	if (rmdir(F.tmp) != 0)
		fprintf(stderr, "fuzz_ca_order: could not remove %s\n", F.tmp);
	F.tmp[0] = '\0';
}

static void
die(const char *what, int r)
{
	fprintf(stderr, "fuzz_ca_order: set-up failed: %s: %s\n", what, oc_strerror(r));
	cleanup();
	abort();
}

static void
make_tmpdir(void)
{
	struct stat st;

	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(F.tmp, sizeof(F.tmp), "/dev/shm/oc-cafuzz-XXXXXX");
		if (mkdtemp(F.tmp) != NULL)
			return;
	}
	snprintf(F.tmp, sizeof(F.tmp), "/tmp/oc-cafuzz-XXXXXX");
	if (mkdtemp(F.tmp) == NULL) {
		F.tmp[0] = '\0';
		die("mkdtemp", OC_ERR_IO);
	}
}

/* The CA certificate's DER, read back from the PEM oc_ca_init wrote. */
static void
read_ca_cert(uint8_t **der, size_t *len)
{
	FILE *f = fopen(F.cert_path, "r");
	X509 *x = NULL;
	int n;

	if (f == NULL || (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die("reading the CA certificate", OC_ERR_CRYPTO);
	fclose(f);
	*der = NULL;
	if ((n = i2d_X509(x, der)) <= 0)
		die("encoding the CA certificate", OC_ERR_CRYPTO);
	*len = (size_t)n;
	if ((F.ca_pub = X509_get_pubkey(x)) == NULL)
		die("CA public key", OC_ERR_CRYPTO);
	X509_free(x);
}

/* Default templates, all published on the CA entry, Enroll for the account on each. */
static void
make_directory(void)
{
	struct oc_directory *dir = NULL;
	struct oc_template **tv = NULL;
	struct oc_ca_entry ce;
	struct oc_identity attrs;
	uint8_t *der = NULL;
	size_t nt = 0, der_len = 0;
	int r;

	memset(&ce, 0, sizeof(ce));
	memset(&attrs, 0, sizeof(attrs));
	if ((r = oc_dir_open(F.dir_path, 1, &dir)) != OC_OK)
		die("oc_dir_open", r);
	if ((r = oc_dir_seed_defaults(dir)) != OC_OK)
		die("oc_dir_seed_defaults", r);
	if ((r = oc_dir_template_list(dir, &tv, &nt)) != OC_OK || nt == 0)
		die("oc_dir_template_list", r);
	read_ca_cert(&der, &der_len);
	ce.name = (char *)OC_CA_DEFAULT_NAME;
	ce.dns_host_name = (char *)"ca.fuzz.test";
	ce.cert_der = der;
	ce.cert_der_len = der_len;
	for (size_t i = 0; i < nt; i++)
		if ((r = oc_strlist_add(&ce.templates, tv[i]->cn)) != OC_OK)
			die("template list", r);
	if ((r = oc_dir_ca_put(dir, &ce)) != OC_OK)
		die("oc_dir_ca_put", r);
	/* every attribute set, so each template's name flags find what they need */
	attrs.name = (char *)FUZZ_ACCOUNT;
	attrs.kind = OC_ACCOUNT_USER;
	attrs.upn = (char *)"fuzz@fuzz.test";
	attrs.mail = (char *)"fuzz@fuzz.test";
	attrs.dns_name = (char *)"host.fuzz.test";
	attrs.dn = (char *)"CN=fuzz,CN=Users,DC=fuzz,DC=test";
	attrs.sid = (char *)"S-1-5-21-1004336348-1177238915-682003330-1104";
	if ((r = oc_dir_account_add(dir, &attrs, NULL)) != OC_OK)
		die("oc_dir_account_add", r);
	for (size_t i = 0; i < nt; i++)
		if ((r = oc_dir_grant(dir, tv[i]->cn, FUZZ_ACCOUNT, OC_RIGHT_ENROLL)) != OC_OK)
			die("oc_dir_grant", r);
	if ((r = oc_dir_account_get(dir, FUZZ_ACCOUNT, &F.requester)) != OC_OK)
		die("oc_dir_account_get", r);
	F.requester.auth_type = OC_AUTH_PASSWORD;
	oc_strlist_free(&ce.templates);
	OPENSSL_free(der);
	oc_dir_template_list_free(tv, nt);
	oc_dir_close(dir);
}

/* Record FUZZ_EE_PEM in the (new) store as issued to the account, so renewals can use it. */
static void
record_renewable(void)
{
	BIO *b = BIO_new_mem_buf(FUZZ_EE_PEM, (int)sizeof(FUZZ_EE_PEM) - 1);
	X509 *x = NULL;
	struct oc_store *st = NULL;
	struct oc_store_cert sc;
	struct tm tb, ta;
	uint8_t *der = NULL;
	uint32_t id = 0;
	int len = 0, r;

	memset(&sc, 0, sizeof(sc));
	if (b == NULL || (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    (len = i2d_X509(x, &der)) <= 0 ||
	    ASN1_TIME_to_tm(X509_get0_notBefore(x), &tb) != 1 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &ta) != 1)
		die("the renewal certificate", OC_ERR_CRYPTO);
	if ((r = oc_store_open(F.store_path, &st)) != OC_OK)
		die("oc_store_open", r);
	if ((r = oc_store_request_new(st, FUZZ_ACCOUNT, FUZZ_EE_TEMPLATE, der, (size_t)len,
	    &id)) != OC_OK)
		die("oc_store_request_new", r);
	sc.serial_hex = (char *)FUZZ_EE_SERIAL_HEX;
	sc.request_id = id;
	sc.requester = (char *)FUZZ_ACCOUNT;
	sc.template_name = (char *)FUZZ_EE_TEMPLATE;
	sc.subject = (char *)"CN=fuzz";
	sc.not_before = timegm(&tb);
	sc.not_after = timegm(&ta);
	sc.der = der;
	sc.der_len = (size_t)len;
	if ((r = oc_store_cert_issue(st, id, &sc, "Issued")) != OC_OK)
		die("oc_store_cert_issue", r);
	oc_store_close(st);
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(b);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int r;

	(void)argc;
	(void)argv;
	oc_log_init("fuzz_ca_order", OC_LOG_ERROR);
	F.verbose = getenv("FUZZ_CA_ORDER_VERBOSE") != NULL;
	make_tmpdir();
	atexit(cleanup);
	snprintf(F.dir_path, sizeof(F.dir_path), "%s/directory.db", F.tmp);
	snprintf(F.store_path, sizeof(F.store_path), "%s/store.db", F.tmp);
	snprintf(F.key_path, sizeof(F.key_path), "%s/ca.key", F.tmp);
	snprintf(F.cert_path, sizeof(F.cert_path), "%s/ca.pem", F.tmp);
	F.cfg.dir_path = F.dir_path;
	F.cfg.store_path = F.store_path;
	F.cfg.key_file = F.key_path;
	F.cfg.cert_file = F.cert_path;
	F.cfg.key_type = "P256";
	F.cfg.aia_url = "http://pki.fuzz.test/ca.crt";
	F.cfg.cdp_url = "http://pki.fuzz.test/ca.crl";
	/* oc_ca_init loads and checks existing files */
	if ((r = oc_file_write(F.key_path, FUZZ_CA_KEY_PEM, sizeof(FUZZ_CA_KEY_PEM) - 1,
	    0600)) != OC_OK ||
	    (r = oc_file_write(F.cert_path, FUZZ_CA_CERT_PEM, sizeof(FUZZ_CA_CERT_PEM) - 1,
	    0644)) != OC_OK)
		die("writing the CA files", r);
	if ((r = oc_ca_init(&F.cfg)) != OC_OK)
		die("oc_ca_init", r);
	make_directory();
	record_renewable();
	if ((r = oc_ca_open(&F.cfg, &F.ca)) != OC_OK)
		die("oc_ca_open", r);
	return 0;
}

/* A fresh store every FUZZ_STORE_ROUNDS inputs: the old one only grows. */
static void
maybe_renew_store(void)
{
	int r;

	if (++F.rounds % FUZZ_STORE_ROUNDS != 0)
		return;
	oc_ca_close(F.ca);
	F.ca = NULL;
	remove_store();
	record_renewable();
	if ((r = oc_ca_open(&F.cfg, &F.ca)) != OC_OK)
		die("oc_ca_open (fresh store)", r);
}

static void
check_issued(const struct oc_ca_result *res)
{
	const unsigned char *p = res->cert;
	X509 *x;

	if (res->cert == NULL || res->cert_len == 0 || res->cert_len > OC_CERT_DER_MAX ||
	    res->hresult != 0)
		abort();
	if ((x = d2i_X509(NULL, &p, (long)res->cert_len)) == NULL ||
	    p != res->cert + res->cert_len || X509_verify(x, F.ca_pub) != 1)
		abort();
	X509_free(x);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oc_ca_order o;
	struct oc_ca_result res;
	size_t hint_len;
	int r;

	if (size == 0)
		return 0;
	hint_len = data[0];
	if (hint_len > size - 1)
		hint_len = size - 1;
	if (size - 1 - hint_len > OC_REQUEST_DER_MAX)
		return 0;                   /* the IPC decoder refuses it before the CA */
	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	o.requester = F.requester;          /* borrowed: not cleared below */
	if (hint_len > 0 && (o.template_hint = strndup((const char *)data + 1, hint_len)) == NULL)
		abort();
	o.request = (uint8_t *)(uintptr_t)(data + 1 + hint_len);
	o.request_len = size - 1 - hint_len;

	r = oc_ca_process_order(F.ca, &o, &res);
	if (r != OC_OK) {
		/* the CA itself failed: never on a client's bytes */
		fprintf(stderr, "fuzz_ca_order: CA failure %s: %s\n", oc_strerror(r),
		    res.message ? res.message : "(no message)");
		abort();
	}
	if (res.request_id == 0 || res.message == NULL)
		abort();
	switch (res.disposition) {
	case OC_DISP_ISSUED:
		check_issued(&res);
		break;
	case OC_DISP_UNDER_SUBMISSION:
		if (res.cert != NULL || res.hresult != 0)
			abort();
		break;
	case OC_DISP_DENIED:
		if (res.cert != NULL || res.hresult == 0)
			abort();
		break;
	default:
		abort();
	}
	if (F.verbose)
		fprintf(stderr, "fuzz_ca_order: request %u disposition %u hresult 0x%08x: %s\n",
		    res.request_id, res.disposition, res.hresult, res.message);
	free(o.template_hint);
	oc_ca_result_clear(&res);
	ERR_clear_error();
	maybe_renew_store();
	return 0;
}
