/*
 * Idempotent issuance at the CA ([ca] idempotence_window_seconds): the same
 * ISSUE order (same requester, template as requested and request DER) sent
 * again within the window is answered with the first decision -- the same
 * RequestID and certificate, the same pending answer, the same denial --
 * without a new request row or certificate; a different requester, another
 * request or an order outside the window is decided anew; two identical
 * orders in one batch of oc_ca_serve give one certificate.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "common/limits.h"
#include "directory/directory.h"
#include "ipc/frame.h"
#include "model/hresult.h"
#include "pkix/pkix.h"
#include "store/store.h"

int main(void);

#define CA_NAME "OpenCES Demo CA"
#define WINDOW 600

static struct {
	char tmp[64], dir_path[128], store_path[128], key_path[128], cert_path[128];
	struct oc_ca_config cfg;
	struct oc_store *store;       /* a second connection, to count records */
	struct oc_ca *ca;             /* window WINDOW */
	EVP_PKEY *rsa, *rsa2, *rsa1024;
	int replays;                  /* counted by the hooks */
} F;

static void
on_replay(void *arg)
{
	(void)arg;
	F.replays++;
}

static const struct oc_ca_hooks hooks = { .replay = on_replay };

static void
add_account(struct oc_directory *dir, const char *name)
{
	struct oc_identity id = { 0 };
	char dn[128], mail[128];

	snprintf(dn, sizeof(dn), "CN=%s,CN=Users,DC=example,DC=com", name);
	snprintf(mail, sizeof(mail), "%s@example.com", name);
	id.name = (char *)name;
	id.kind = OC_ACCOUNT_USER;
	id.dn = dn;
	id.upn = mail;
	id.mail = mail;
	assert_int_equal(oc_dir_account_add(dir, &id, NULL), OC_OK);
}

static int
group_setup(void **state)
{
	static const char *published[] = { "User", "OpenCESUserApproval" };
	struct oc_ca_entry ce = { 0 };
	struct oc_directory *dir = NULL;

	(void)state;
	snprintf(F.tmp, sizeof(F.tmp), "/tmp/oc-idem-XXXXXX");
	assert_non_null(mkdtemp(F.tmp));
	snprintf(F.dir_path, sizeof(F.dir_path), "%s/directory.db", F.tmp);
	snprintf(F.store_path, sizeof(F.store_path), "%s/store.db", F.tmp);
	snprintf(F.key_path, sizeof(F.key_path), "%s/ca.key", F.tmp);
	snprintf(F.cert_path, sizeof(F.cert_path), "%s/ca.pem", F.tmp);
	assert_int_equal(oc_dir_open(F.dir_path, 1, &dir), OC_OK);
	assert_int_equal(oc_dir_seed_defaults(dir), OC_OK);
	add_account(dir, "alice");
	add_account(dir, "bob");
	ce.name = (char *)CA_NAME;
	for (size_t i = 0; i < sizeof(published) / sizeof(published[0]); i++)
		assert_int_equal(oc_strlist_add(&ce.templates, published[i]), OC_OK);
	assert_int_equal(oc_dir_ca_put(dir, &ce), OC_OK);
	oc_strlist_free(&ce.templates);
	oc_dir_close(dir);

	F.cfg.dir_path = F.dir_path;
	F.cfg.store_path = F.store_path;
	F.cfg.key_file = F.key_path;
	F.cfg.cert_file = F.cert_path;
	F.cfg.key_type = "P256";
	F.cfg.sign_threads = 2;
	F.cfg.idempotence_window_seconds = WINDOW;
	F.cfg.hooks = &hooks;
	assert_int_equal(oc_ca_init(&F.cfg), OC_OK);
	assert_int_equal(oc_ca_open(&F.cfg, &F.ca), OC_OK);
	assert_int_equal(oc_store_open(F.store_path, &F.store), OC_OK);
	assert_int_equal(pkix_key_generate("RSA", 2048, &F.rsa), OC_OK);
	assert_int_equal(pkix_key_generate("RSA", 2048, &F.rsa2), OC_OK);
	assert_int_equal(pkix_key_generate("RSA", 1024, &F.rsa1024), OC_OK);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[160];

	(void)state;
	oc_ca_close(F.ca);
	oc_store_close(F.store);
	EVP_PKEY_free(F.rsa);
	EVP_PKEY_free(F.rsa2);
	EVP_PKEY_free(F.rsa1024);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", F.tmp);
	return 0;
}

/* A PKCS#10 for k with subject cn (DER, malloc'd). */
static void
make_csr(EVP_PKEY *k, const char *cn, uint8_t **der, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	uint8_t *p = NULL;
	int l;

	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, n), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	assert_true((l = i2d_X509_REQ(req, &p)) > 0);
	*der = malloc((size_t)l);
	assert_non_null(*der);
	memcpy(*der, p, (size_t)l);
	*len = (size_t)l;
	OPENSSL_free(p);
	X509_NAME_free(n);
	X509_REQ_free(req);
}

static void
order_init(struct oc_ca_order *o, const char *who, const char *tmpl, EVP_PKEY *k)
{
	memset(o, 0, sizeof(*o));
	o->requester.name = strdup(who);
	o->requester.kind = OC_ACCOUNT_USER;
	o->requester.auth_type = OC_AUTH_PASSWORD;
	o->template_hint = strdup(tmpl);
	make_csr(k, who, &o->request, &o->request_len);
}

static void
count_cert(const struct oc_store_cert *c, void *arg)
{
	(void)c;
	(*(size_t *)arg)++;
}

static void
count_req(const struct oc_store_request *r, void *arg)
{
	(void)r;
	(*(size_t *)arg)++;
}

static size_t
certs_of(const char *who)
{
	struct oc_store_cert_filter f = { .requester = who };
	size_t n = 0;

	assert_int_equal(oc_store_cert_find(F.store, &f, 0, count_cert, &n), OC_OK);
	return n;
}

static size_t
requests_of(const char *who)
{
	struct oc_store_request_filter f = { .requester = who };
	size_t n = 0;

	assert_int_equal(oc_store_request_find(F.store, &f, 0, count_req, &n), OC_OK);
	return n;
}

static void
process(struct oc_ca *ca, const struct oc_ca_order *o, struct oc_ca_result *res)
{
	memset(res, 0, sizeof(*res));
	assert_int_equal(oc_ca_process_order(ca, o, res), OC_OK);
}

static void
assert_same(const struct oc_ca_result *a, const struct oc_ca_result *b)
{
	assert_int_equal(a->request_id, b->request_id);
	assert_int_equal(a->disposition, b->disposition);
	assert_int_equal(a->hresult, b->hresult);
	assert_int_equal(a->cert_len, b->cert_len);
	if (a->cert_len)
		assert_memory_equal(a->cert, b->cert, a->cert_len);
}

/* Issued, pending and denied orders, each sent twice. */
static void
test_replay_dispositions(void **state)
{
	static const struct {
		const char *who, *tmpl;
		int weak_key;
		uint32_t disposition;
	} t[] = {
		{ "alice", "User", 0, OC_DISP_ISSUED },
		{ "alice", "OpenCESUserApproval", 0, OC_DISP_UNDER_SUBMISSION },
		{ "alice", "User", 1, OC_DISP_DENIED },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct oc_ca_order o;
		struct oc_ca_result first, again;
		size_t certs = certs_of(t[i].who), reqs = requests_of(t[i].who);
		int replays = F.replays;

		order_init(&o, t[i].who, t[i].tmpl, t[i].weak_key ? F.rsa1024 : F.rsa);
		process(F.ca, &o, &first);
		if (first.disposition != t[i].disposition)
			fail_msg("case %zu: disposition %u (%s)", i, first.disposition,
			    first.message);
		process(F.ca, &o, &again);
		assert_same(&first, &again);
		assert_int_equal(F.replays, replays + 1);
		if (t[i].disposition == OC_DISP_DENIED)
			assert_string_equal(again.message, first.message);
		if (t[i].disposition == OC_DISP_UNDER_SUBMISSION)
			assert_non_null(again.cmc);
		/* one request row, at most one certificate */
		assert_int_equal(requests_of(t[i].who), reqs + 1);
		assert_int_equal(certs_of(t[i].who), certs +
		    (t[i].disposition == OC_DISP_ISSUED));
		oc_ca_result_clear(&first);
		oc_ca_result_clear(&again);
		oc_ca_order_clear(&o);
	}
}

/* Another requester, another template as requested, another DER: new orders. */
static void
test_different_orders(void **state)
{
	struct oc_ca_order a, b;
	struct oc_ca_result ra, rb;
	size_t certs_alice = certs_of("alice"), certs_bob = certs_of("bob");

	(void)state;
	order_init(&a, "alice", "User", F.rsa2);
	process(F.ca, &a, &ra);
	assert_int_equal(ra.disposition, OC_DISP_ISSUED);

	/* the same DER from bob */
	memset(&b, 0, sizeof(b));
	b.requester.name = strdup("bob");
	b.requester.kind = OC_ACCOUNT_USER;
	b.requester.auth_type = OC_AUTH_PASSWORD;
	b.template_hint = strdup("User");
	b.request = malloc(a.request_len);
	assert_non_null(b.request);
	memcpy(b.request, a.request, a.request_len);
	b.request_len = a.request_len;
	process(F.ca, &b, &rb);
	assert_int_equal(rb.disposition, OC_DISP_ISSUED);
	assert_int_not_equal(rb.request_id, ra.request_id);
	assert_int_equal(certs_of("bob"), certs_bob + 1);
	oc_ca_result_clear(&rb);
	oc_ca_order_clear(&b);

	/* alice again with another CSR (new subject, same key) */
	order_init(&b, "alice", "User", F.rsa2);
	free(b.request);
	make_csr(F.rsa2, "alice-2", &b.request, &b.request_len);
	process(F.ca, &b, &rb);
	assert_int_equal(rb.disposition, OC_DISP_ISSUED);
	assert_int_not_equal(rb.request_id, ra.request_id);
	assert_int_equal(certs_of("alice"), certs_alice + 2);
	oc_ca_result_clear(&rb);
	oc_ca_order_clear(&b);

	/* the same DER, another template as requested */
	memset(&b, 0, sizeof(b));
	b.requester.name = strdup("alice");
	b.requester.kind = OC_ACCOUNT_USER;
	b.requester.auth_type = OC_AUTH_PASSWORD;
	b.template_hint = strdup("OpenCESUserApproval");
	b.request = malloc(a.request_len);
	assert_non_null(b.request);
	memcpy(b.request, a.request, a.request_len);
	b.request_len = a.request_len;
	process(F.ca, &b, &rb);
	assert_int_equal(rb.disposition, OC_DISP_UNDER_SUBMISSION);
	assert_int_not_equal(rb.request_id, ra.request_id);
	oc_ca_result_clear(&rb);
	oc_ca_order_clear(&b);
	oc_ca_result_clear(&ra);
	oc_ca_order_clear(&a);
}

/* Windows names the template in the request attributes: that is the template as requested. */
static void
test_template_in_attributes(void **state)
{
	static const char *const attrs[] = {
		"CertificateTemplate:User", "CertificateTemplate:User",
		"CertificateTemplate:OpenCESUserApproval",
	};
	struct oc_ca_result res[3];
	uint8_t *der = NULL;
	size_t len = 0;

	(void)state;
	make_csr(F.rsa2, "alice-attr", &der, &len);
	for (int i = 0; i < 3; i++) {
		struct oc_ca_order o;
		memset(&o, 0, sizeof(o));
		o.requester.name = strdup("alice");
		o.requester.kind = OC_ACCOUNT_USER;
		o.requester.auth_type = OC_AUTH_PASSWORD;
		o.request_attributes = strdup(attrs[i]);
		o.request = malloc(len);
		assert_non_null(o.request);
		memcpy(o.request, der, len);
		o.request_len = len;
		process(F.ca, &o, &res[i]);
		oc_ca_order_clear(&o);
	}
	assert_int_equal(res[0].disposition, OC_DISP_ISSUED);
	assert_same(&res[0], &res[1]);
	assert_int_equal(res[2].disposition, OC_DISP_UNDER_SUBMISSION);
	assert_int_not_equal(res[2].request_id, res[0].request_id);
	for (int i = 0; i < 3; i++)
		oc_ca_result_clear(&res[i]);
	free(der);
}

/* Outside the window (1 s here, 2 s later) and with the window off: new orders. */
static void
test_outside_window(void **state)
{
	struct oc_ca_config cfg = F.cfg;
	struct oc_ca *ca = NULL;
	struct oc_ca_order o;
	struct oc_ca_result r1, r2, r3;
	size_t certs;

	(void)state;
	cfg.idempotence_window_seconds = 1;
	assert_int_equal(oc_ca_open(&cfg, &ca), OC_OK);
	order_init(&o, "bob", "User", F.rsa);
	certs = certs_of("bob");
	process(ca, &o, &r1);
	assert_int_equal(r1.disposition, OC_DISP_ISSUED);
	sleep(2);
	process(ca, &o, &r2);
	assert_int_equal(r2.disposition, OC_DISP_ISSUED);
	assert_int_not_equal(r2.request_id, r1.request_id);
	assert_int_equal(certs_of("bob"), certs + 2);
	oc_ca_close(ca);

	/* window 0: every order is new, even right after the same one */
	cfg.idempotence_window_seconds = 0;
	assert_int_equal(oc_ca_open(&cfg, &ca), OC_OK);
	process(ca, &o, &r3);
	assert_int_equal(r3.disposition, OC_DISP_ISSUED);
	assert_int_not_equal(r3.request_id, r2.request_id);
	assert_int_equal(certs_of("bob"), certs + 3);
	oc_ca_close(ca);
	oc_ca_result_clear(&r1);
	oc_ca_result_clear(&r2);
	oc_ca_result_clear(&r3);
	oc_ca_order_clear(&o);
}

/* Two identical ISSUE frames in one write: one batch of oc_ca_serve, one certificate. */
static void
test_same_batch(void **state)
{
	struct oc_ca_order o;
	struct oc_ca_result res[2];
	struct ocbuf payload, wire;
	uint32_t type, tag;
	size_t certs;
	int sv[2], st;
	pid_t pid;

	(void)state;
	order_init(&o, "alice", "User", F.rsa2);
	free(o.request);
	make_csr(F.rsa2, "alice-batch", &o.request, &o.request_len);
	certs = certs_of("alice");
	ocbuf_init(&payload, OC_IPC_FRAME_MAX);
	ocbuf_init(&wire, 2 * OC_IPC_FRAME_MAX);
	assert_int_equal(oc_ca_order_encode(&o, &payload), OC_OK);
	for (uint32_t t = 1; t <= 2; t++) {
		assert_int_equal(ocbuf_put_u32(&wire, OC_CA_MSG_ISSUE), OC_OK);
		assert_int_equal(ocbuf_put_u32(&wire, t), OC_OK);
		assert_int_equal(ocbuf_put_u32(&wire, (uint32_t)payload.len), OC_OK);
		assert_int_equal(ocbuf_put(&wire, payload.d, payload.len), OC_OK);
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* both frames are waiting before the CA reads the first */
	assert_int_equal(write(sv[0], wire.d, wire.len), (ssize_t)wire.len);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(oc_ca_serve(&F.cfg, sv[1]) == OC_OK ? 0 : 1);
	}
	close(sv[1]);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(oc_frame_recv_tagged(sv[0], &type, &tag, &payload), OC_OK);
		assert_int_equal(type, OC_CA_MSG_RESULT);
		assert_int_equal(tag, (uint32_t)i + 1);
		memset(&res[i], 0, sizeof(res[i]));
		assert_int_equal(oc_ca_result_decode(&payload, &res[i]), OC_OK);
		assert_int_equal(res[i].disposition, OC_DISP_ISSUED);
	}
	close(sv[0]);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_same(&res[0], &res[1]);
	assert_int_equal(certs_of("alice"), certs + 1);
	assert_int_equal(oc_store_check(F.store), OC_OK);
	oc_ca_result_clear(&res[0]);
	oc_ca_result_clear(&res[1]);
	ocbuf_free(&payload);
	ocbuf_free(&wire);
	oc_ca_order_clear(&o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_dispositions),
		cmocka_unit_test(test_different_orders),
		cmocka_unit_test(test_template_in_attributes),
		cmocka_unit_test(test_outside_window),
		cmocka_unit_test(test_same_batch),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
