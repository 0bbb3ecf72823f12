/*
 * Client-certificate authentication of the front end (front/auth_cert.h)
 * against a real CA: oc_ca_serve in a forked child with its store and an
 * embedded directory, certificates issued by it through the pipelined CA
 * channel, and requests carrying them as the TLS layer would (peer_cert).
 * Mapped -> identity; revoked or on hold in the CA's store -> refused (and
 * accepted again once released); signed by our CA but not in its records
 * -> refused; another CA -> refused; no certificate -> missing; CA down ->
 * refused (fail closed). Every attempt leaves one audit line.
 * Also the CERT_STATUS message itself: its codec and the CA's answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "common/log.h"
#include "directory/directory.h"
#include "front/auth_cert.h"
#include "front/front_internal.h"
#include "ipc/ca_client.h"
#include "model/hresult.h"
#include "pkix/pkix.h"
#include "store/store.h"

int main(void);

#define CA_NAME "OpenCES Demo CA"

static struct {
	char tmp[64], dir_path[128], store_path[128], key_path[128], cert_path[128];
	char audit_path[128];
	struct oc_ca_config cfg;
	X509 *alice;                 /* issued by our CA to alice (template User) */
	char alice_serial[80];
	X509 *stray;                 /* signed with our CA key, never recorded */
	X509 *foreign;               /* issued by another CA to alice's UPN */
	/* per test */
	pid_t ca_pid;
	int ca_fd;
	struct oc_front front;
	struct oc_front_thread thread;
} F;

/* Certificates made here (OpenSSL directly): for the cases our CA would not issue. */
static X509 *
make_cert(const char *cn, long serial, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
    int is_ca)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	static const struct {
		int nid;
		const char *ca, *leaf;
	} exts[] = {
		{ NID_basic_constraints, "critical,CA:TRUE", "critical,CA:FALSE" },
		{ NID_key_usage, "critical,keyCertSign,cRLSign", "critical,digitalSignature" },
		{ NID_subject_key_identifier, "hash", "hash" },
		{ NID_authority_key_identifier, "keyid:always", "keyid:always" },
		{ NID_ext_key_usage, NULL, "clientAuth" },
		{ NID_subject_alt_name, NULL,
		    "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.com" },
	};

	assert_non_null(x);
	assert_non_null(n);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, n), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n), 1);
	X509_NAME_free(n);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		const char *v = is_ca ? exts[i].ca : exts[i].leaf;
		if (v == NULL)
			continue;
		assert_non_null(e = X509V3_EXT_conf_nid(NULL, &ctx, exts[i].nid, v));
		assert_int_equal(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static void
start_ca(void)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	F.ca_pid = fork();
	assert_true(F.ca_pid >= 0);
	if (F.ca_pid == 0) {
		close(sv[0]);
		_exit(oc_ca_serve(&F.cfg, sv[1]) == OC_OK ? 0 : 1);
	}
	close(sv[1]);
	F.ca_fd = sv[0];
}

static void
stop_ca(void)
{
	int status = 0;

	if (F.ca_fd >= 0)
		close(F.ca_fd);
	F.ca_fd = -1;
	if (F.ca_pid > 0) {
		assert_int_equal(waitpid(F.ca_pid, &status, 0), F.ca_pid);
		F.ca_pid = 0;
	}
}

static int
group_setup(void **state)
{
	struct oc_directory *dir = NULL;
	struct oc_ca_entry ce = { 0 };
	struct oc_identity id = { 0 };
	struct oc_ca_client *client = NULL;
	struct oc_ca_order o = { 0 };
	struct oc_ca_result res = { 0 };
	struct pkix_csr_params p = { 0 };
	EVP_PKEY *key = NULL, *ca_key = NULL, *other_key = NULL;
	X509 *ca_cert = NULL, *other = NULL;
	FILE *fp;
	BIGNUM *bn;
	char *hex;

	(void)state;
	snprintf(F.tmp, sizeof(F.tmp), "/tmp/oc-frontcert-XXXXXX");
	assert_non_null(mkdtemp(F.tmp));
	snprintf(F.dir_path, sizeof(F.dir_path), "%s/directory.db", F.tmp);
	snprintf(F.store_path, sizeof(F.store_path), "%s/store.db", F.tmp);
	snprintf(F.key_path, sizeof(F.key_path), "%s/ca.key", F.tmp);
	snprintf(F.cert_path, sizeof(F.cert_path), "%s/ca.pem", F.tmp);
	snprintf(F.audit_path, sizeof(F.audit_path), "%s/audit.log", F.tmp);
	F.ca_fd = -1;

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
	F.cfg.key_file = F.key_path;
	F.cfg.cert_file = F.cert_path;
	F.cfg.key_type = "P256";
	assert_int_equal(oc_ca_init(&F.cfg), OC_OK);

	/* alice's certificate, issued by the CA itself */
	start_ca();
	assert_int_equal(oc_ca_client_new(F.ca_fd, &client), OC_OK);
	assert_int_equal(pkix_key_generate("RSA", 2048, &key), OC_OK);   /* User wants RSA */
	p.subject = "CN=alice";
	assert_int_equal(pkix_csr_build(key, &p, &o.request, &o.request_len), OC_OK);
	assert_non_null(o.requester.name = strdup("alice"));
	o.requester.kind = OC_ACCOUNT_USER;
	o.requester.auth_type = OC_AUTH_PASSWORD;
	assert_non_null(o.template_hint = strdup("User"));
	assert_int_equal(oc_ca_client_call(client, OC_CA_MSG_ISSUE, &o, &res), OC_OK);
	if (res.disposition != OC_DISP_ISSUED)
		fail_msg("not issued: %s", res.message);
	assert_int_equal(pkix_cert_from_der(res.cert, res.cert_len, &F.alice), OC_OK);
	oc_ca_result_clear(&res);
	oc_ca_order_clear(&o);
	oc_ca_client_free(client);
	stop_ca();
	assert_non_null(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(F.alice), NULL));
	assert_non_null(hex = BN_bn2hex(bn));
	snprintf(F.alice_serial, sizeof(F.alice_serial), "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);

	/* the same names, signed with our CA's key but never recorded */
	assert_non_null(fp = fopen(F.key_path, "r"));
	assert_non_null(ca_key = PEM_read_PrivateKey(fp, NULL, NULL, NULL));
	fclose(fp);
	assert_non_null(fp = fopen(F.cert_path, "r"));
	assert_non_null(ca_cert = PEM_read_X509(fp, NULL, NULL, NULL));
	fclose(fp);
	F.stray = make_cert("alice", 0x5172a7, key, ca_cert, ca_key, 0);

	/* another CA (not among the trust anchors) and alice's names from it */
	assert_int_equal(pkix_key_generate("ECDSA_P256", 0, &other_key), OC_OK);
	other = make_cert("Other CA", 1, other_key, NULL, NULL, 1);
	F.foreign = make_cert("alice", 2, key, other, other_key, 0);

	X509_free(other);
	X509_free(ca_cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(key);
	assert_int_equal(oc_audit_open(F.audit_path), OC_OK);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[160];

	(void)state;
	X509_free(F.alice);
	X509_free(F.stray);
	X509_free(F.foreign);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.tmp);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* A front as oc_front_new builds it, reduced to what certificates need. */
static int
setup(void **state)
{
	char p[160];

	(void)state;
	unlink(F.store_path);
	snprintf(p, sizeof(p), "%s-wal", F.store_path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", F.store_path);
	unlink(p);
	start_ca();
	memset(&F.front, 0, sizeof(F.front));
	memset(&F.thread, 0, sizeof(F.thread));
	F.front.client_ca_file = F.cert_path;
	F.front.ca_cert_file = F.cert_path;
	assert_int_equal(oc_ca_client_new(F.ca_fd, &F.front.ca), OC_OK);
	assert_int_equal(oc_front_auth_cert_init(&F.front), OC_OK);
	assert_non_null(F.front.certauth);
	assert_int_equal(oc_dir_open_ro(F.dir_path, &F.thread.dir), OC_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	oc_front_auth_cert_fini(&F.front);
	oc_front_auth_cert_fini(&F.front);     /* twice: NULL-safe */
	oc_ca_client_free(F.front.ca);
	oc_dir_close(F.thread.dir);
	stop_ca();
	return 0;
}

/* The last line of the audit file. */
static char *
last_audit(void)
{
	char line[4096], *last = NULL;
	FILE *fp = fopen(F.audit_path, "r");

	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		free(last);
		assert_non_null(last = strdup(line));
	}
	fclose(fp);
	assert_non_null(last);
	return last;
}

static void
revoke_in_store(const char *serial, int reason)
{
	struct oc_store *s = NULL;

	assert_int_equal(oc_store_open(F.store_path, &s), OC_OK);
	if (reason >= 0)
		assert_int_equal(oc_store_cert_revoke(s, serial, reason, 0), OC_OK);
	else
		assert_int_equal(oc_store_cert_unrevoke(s, serial), OC_OK);
	oc_store_close(s);
}

/* Record alice's certificate in the fresh store, as its issuance did. */
static void
record_alice(void)
{
	struct oc_store *s = NULL;
	struct oc_store_cert c;
	uint8_t *der = NULL;
	uint32_t id = 0;
	int n;

	assert_true((n = i2d_X509(F.alice, &der)) > 0);
	memset(&c, 0, sizeof(c));
	assert_non_null(c.serial_hex = strdup(F.alice_serial));
	for (char *p = c.serial_hex; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
	c.requester = (char *)"alice";
	c.template_name = (char *)"User";
	c.subject = (char *)"CN=alice";
	c.not_before = time(NULL) - 60;
	c.not_after = time(NULL) + 86400;
	c.der = der;
	c.der_len = (size_t)n;
	assert_int_equal(oc_store_open(F.store_path, &s), OC_OK);
	assert_int_equal(oc_store_request_new(s, "alice", "User", NULL, 0, &id), OC_OK);
	assert_int_equal(oc_store_cert_issue(s, id, &c, "Issued"), OC_OK);
	oc_store_close(s);
	free(c.serial_hex);
	OPENSSL_free(der);
}

struct verdict_case {
	const char *what;
	X509 *const *cert;            /* NULL: no certificate */
	int want;
	const char *audit_reason;
};

static void
expect(const struct verdict_case *vc)
{
	struct oc_http_request req;
	struct oc_identity id;
	char want_reason[96], *audit;
	int r;

	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/CES";
	req.peer = "127.0.0.1:40000";
	req.peer_cert = vc->cert ? *vc->cert : NULL;
	r = oc_front_auth_certificate(&F.front, &F.thread, &req, &id);
	if (r != vc->want)
		fail_msg("%s: %s, want %s", vc->what, oc_strerror(r), oc_strerror(vc->want));
	if (r == OC_OK) {
		assert_string_equal(id.name, "alice");
		assert_string_equal(id.upn, "alice@example.com");
		assert_int_equal(id.auth_type, OC_AUTH_CERTIFICATE);
	} else
		assert_null(id.name);
	oc_identity_clear(&id);
	audit = last_audit();
	snprintf(want_reason, sizeof(want_reason), "\"reason\":\"%s\"", vc->audit_reason);
	if (strstr(audit, "\"event\":\"auth\"") == NULL ||
	    strstr(audit, "\"method\":\"certificate\"") == NULL ||
	    strstr(audit, want_reason) == NULL ||
	    strstr(audit, r == OC_OK ? "\"result\":\"ok\"" : "\"result\":\"fail\"") == NULL ||
	    strstr(audit, "\"peer\":\"127.0.0.1:40000\"") == NULL ||
	    (r == OC_OK && strstr(audit, "\"account\":\"alice\"") == NULL))
		fail_msg("%s: audit line %s", vc->what, audit);
	free(audit);
}

static void
test_verdicts(void **state)
{
	const struct verdict_case not_recorded =
	    { "issued, but not in this store", &F.alice, OC_ERR_AUTH, "revoked" };
	const struct verdict_case cases[] = {
		{ "issued and recorded", &F.alice, OC_OK, "ok" },
		{ "signed with our key, never recorded", &F.stray, OC_ERR_AUTH, "revoked" },
		{ "another CA", &F.foreign, OC_ERR_AUTH, "untrusted" },
		{ "no certificate", NULL, OC_ERR_AUTH_MISSING, "no certificate" },
	};
	const struct verdict_case good = { "good again", &F.alice, OC_OK, "ok" };
	const struct verdict_case hold = { "on hold", &F.alice, OC_ERR_AUTH, "revoked" };
	const struct verdict_case gone = { "keyCompromise", &F.alice, OC_ERR_AUTH, "revoked" };

	(void)state;
	expect(&not_recorded);
	record_alice();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect(&cases[i]);
	/* every answer comes from the CA's records as they are now: no caching */
	revoke_in_store(F.alice_serial, OC_CRL_CERTIFICATE_HOLD);
	expect(&hold);
	revoke_in_store(F.alice_serial, -1);
	expect(&good);
	revoke_in_store(F.alice_serial, OC_CRL_KEY_COMPROMISE);
	expect(&gone);
}

/* The CA gone: the certificate of our CA cannot be checked, so it is refused. */
static void
test_ca_down(void **state)
{
	const struct verdict_case up = { "CA up", &F.alice, OC_OK, "ok" };
	const struct verdict_case down =
	    { "CA down", &F.alice, OC_ERR_AUTH, "revocation status unknown" };
	const struct verdict_case foreign = { "another CA", &F.foreign, OC_ERR_AUTH, "untrusted" };
	int status = 0;

	(void)state;
	record_alice();
	expect(&up);
	assert_int_equal(kill(F.ca_pid, SIGKILL), 0);
	assert_int_equal(waitpid(F.ca_pid, &status, 0), F.ca_pid);
	F.ca_pid = 0;
	expect(&down);
	expect(&down);               /* and stays so: the channel is broken */
	expect(&foreign);
}

/* No client CA configured / no directory handle. */
static void
test_not_configured(void **state)
{
	const struct verdict_case refused = { "no client CA", &F.alice, OC_ERR_AUTH,
	    "internal error" };
	struct oc_directory *dir = F.thread.dir;
	const struct verdict_case nodir = { "no directory", &F.alice, OC_ERR_UNAVAILABLE,
	    "internal error" };

	(void)state;
	record_alice();
	F.thread.dir = NULL;
	expect(&nodir);
	F.thread.dir = dir;
	oc_front_auth_cert_fini(&F.front);
	expect(&refused);
	/* a bad anchors file is a configuration error */
	F.front.client_ca_file = F.store_path;
	assert_int_equal(oc_front_auth_cert_init(&F.front), OC_ERR_CONFIG);
	assert_null(F.front.certauth);
	F.front.client_ca_file = NULL;
	assert_int_equal(oc_front_auth_cert_init(&F.front), OC_OK);
	assert_null(F.front.certauth);
}

/* CERT_STATUS on the wire, and the CA's answers through the pipelined client. */
static void
test_status_message(void **state)
{
	static const struct {
		struct oc_ca_cert_status st;
		int ok;
	} table[] = {
		{ { OC_CERT_STATUS_GOOD, 0, 0 }, 1 },
		{ { OC_CERT_STATUS_REVOKED, 1, 1710000000 }, 1 },
		{ { OC_CERT_STATUS_REVOKED, 0, 0 }, 1 },
		{ { OC_CERT_STATUS_UNKNOWN, 0, 0 }, 1 },
		{ { OC_CERT_STATUS_ERROR, 0, 0 }, 1 },
		{ { 0, 0, 0 }, 0 },
		{ { 5, 0, 0 }, 0 },
		{ { OC_CERT_STATUS_REVOKED, 11, 0 }, 0 },
		{ { OC_CERT_STATUS_GOOD, 1, 0 }, 0 },           /* only REVOKED carries a reason */
		{ { OC_CERT_STATUS_UNKNOWN, 0, 5 }, 0 },
		{ { OC_CERT_STATUS_REVOKED, 1, -1 }, 0 },
	};
	static const char *const bad_queries[] = { "", "0x12", "zz", "12 34",
	    "00000000000000000000000000000000000000000000000000000000000000001" };
	struct oc_ca_cert_status got;
	struct ocbuf b;
	char *serial = NULL;

	(void)state;
	ocbuf_init(&b, 4096);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		ocbuf_reset(&b);
		assert_int_equal(oc_ca_cert_status_encode(&table[i].st, &b), OC_OK);
		assert_int_equal(oc_ca_cert_status_decode(&b, &got),
		    table[i].ok ? OC_OK : OC_ERR_PARSE);
		if (table[i].ok)
			assert_memory_equal(&got, &table[i].st, sizeof(got));
	}
	/* trailing bytes */
	ocbuf_reset(&b);
	assert_int_equal(oc_ca_cert_status_encode(&table[0].st, &b), OC_OK);
	assert_int_equal(ocbuf_put_u8(&b, 0), OC_OK);
	assert_int_equal(oc_ca_cert_status_decode(&b, &got), OC_ERR_PARSE);
	/* queries: hex only, bounded, nothing after */
	ocbuf_reset(&b);
	assert_int_equal(oc_ca_status_query_encode("0a1B", &b), OC_OK);
	assert_int_equal(oc_ca_status_query_decode(&b, &serial), OC_OK);
	assert_string_equal(serial, "0a1B");
	free(serial);
	for (size_t i = 0; i < sizeof(bad_queries) / sizeof(bad_queries[0]); i++) {
		ocbuf_reset(&b);
		assert_int_equal(ocbuf_put_cstring(&b, bad_queries[i]), OC_OK);
		assert_int_not_equal(oc_ca_status_query_decode(&b, &serial), OC_OK);
		assert_null(serial);
	}
	ocbuf_free(&b);

	/* the CA's answers */
	record_alice();
	assert_int_equal(oc_ca_client_cert_status(F.front.ca, F.alice_serial, &got), OC_OK);
	assert_int_equal(got.status, OC_CERT_STATUS_GOOD);
	assert_int_equal(oc_ca_client_cert_status(F.front.ca, "0badc0de", &got), OC_OK);
	assert_int_equal(got.status, OC_CERT_STATUS_UNKNOWN);
	assert_int_equal(oc_ca_client_cert_status(F.front.ca, "abc", &got), OC_OK);
	assert_int_equal(got.status, OC_CERT_STATUS_UNKNOWN);
	revoke_in_store(F.alice_serial, OC_CRL_SUPERSEDED);
	assert_int_equal(oc_ca_client_cert_status(F.front.ca, F.alice_serial, &got), OC_OK);
	assert_int_equal(got.status, OC_CERT_STATUS_REVOKED);
	assert_int_equal(got.reason, OC_CRL_SUPERSEDED);
	assert_true(got.revoked_at > 0 && got.revoked_at <= (int64_t)time(NULL));
	/* the client refuses what it cannot send */
	assert_int_equal(oc_ca_client_cert_status(F.front.ca, "", &got), OC_ERR_INVALID);
	/* and the channel still carries orders */
	{
		struct oc_ca_result res;
		assert_int_equal(oc_ca_client_call(F.front.ca, OC_CA_MSG_PING, NULL, &res), OC_OK);
		oc_ca_result_clear(&res);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verdicts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_message, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
