/*
 * The CA's signing pool (src/ca/ca_pool.c): one batch of orders, already
 * waiting on the socket when oc_ca_serve starts, is decided and signed on
 * several threads. Every answer carries the tag of its order, in the order
 * the orders came; every issued certificate holds its requester's key and
 * names and is in the store exactly once under its RequestID; an undecodable
 * request, an unknown template and a malformed frame in the same batch are
 * answered as such without touching the others. The same batch with the CA
 * thread alone gives the same answers.
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
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "common/limits.h"
#include "directory/directory.h"
#include "ipc/frame.h"
#include "model/hresult.h"
#include "pkix/pkix.h"
#include "store/store.h"

int main(void);

#define CA_NAME  "OpenCES Demo CA"
#define NUSERS   6
#define NORDERS  40             /* one batch (the CA takes up to 64 waiting frames) */

enum kind { K_ISSUE, K_GARBAGE, K_UNKNOWN_TEMPLATE, K_MALFORMED, K_PING };

static struct {
	char tmp[64], dir_path[128], store_path[128], key_path[128], cert_path[128];
	struct oc_ca_config cfg;
	EVP_PKEY *keys[NUSERS];
	uint8_t *csr[NUSERS];
	size_t csr_len[NUSERS];
} F;

/* What order i of the batch is: mostly issues, with failing orders among them. */
static enum kind
kind_of(int i)
{
	switch (i % 10) {
	case 3: return K_GARBAGE;
	case 6: return K_UNKNOWN_TEMPLATE;
	case 8: return i % 20 == 8 ? K_MALFORMED : K_PING;
	default: return K_ISSUE;
	}
}

static int
group_setup(void **state)
{
	struct oc_directory *dir = NULL;
	struct oc_ca_entry ce = { 0 };

	snprintf(F.tmp, sizeof(F.tmp), "/tmp/oc-capool-XXXXXX");
	assert_non_null(mkdtemp(F.tmp));
	snprintf(F.dir_path, sizeof(F.dir_path), "%s/directory.db", F.tmp);
	snprintf(F.store_path, sizeof(F.store_path), "%s/store.db", F.tmp);
	snprintf(F.key_path, sizeof(F.key_path), "%s/ca.key", F.tmp);
	snprintf(F.cert_path, sizeof(F.cert_path), "%s/ca.pem", F.tmp);
	assert_int_equal(oc_dir_open(F.dir_path, 1, &dir), OC_OK);
	assert_int_equal(oc_dir_seed_defaults(dir), OC_OK);
	for (int i = 0; i < NUSERS; i++) {
		struct oc_identity id = { 0 };
		char name[16], upn[64], dn[96];
		snprintf(name, sizeof(name), "user%d", i);
		snprintf(upn, sizeof(upn), "user%d@example.com", i);
		snprintf(dn, sizeof(dn), "CN=user%d,CN=Users,DC=example,DC=com", i);
		id.name = name;
		id.kind = OC_ACCOUNT_USER;
		id.upn = upn;
		id.mail = upn;
		id.dn = dn;
		assert_int_equal(oc_dir_account_add(dir, &id, NULL), OC_OK);
	}
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
	for (int i = 0; i < NUSERS; i++) {
		struct pkix_csr_params p = { 0 };
		char subj[32];
		snprintf(subj, sizeof(subj), "CN=csr%d", i);
		p.subject = subj;
		assert_int_equal(pkix_key_generate("RSA", 2048, &F.keys[i]), OC_OK);
		assert_int_equal(pkix_csr_build(F.keys[i], &p, &F.csr[i], &F.csr_len[i]), OC_OK);
	}
	(void)state;
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	for (int i = 0; i < NUSERS; i++) {
		EVP_PKEY_free(F.keys[i]);
		free(F.csr[i]);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", F.tmp);
	(void)state;
	return 0;
}

struct serve_arg {
	int fd, threads, r;
};

static void *
serve_main(void *arg)
{
	struct serve_arg *a = arg;
	struct oc_ca_config cfg = F.cfg;

	cfg.sign_threads = a->threads;
	a->r = oc_ca_serve(&cfg, a->fd);
	return NULL;
}

static void
send_order(int fd, int i)
{
	static const uint8_t garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	struct oc_ca_order o;
	struct ocbuf b;
	char name[16];
	enum kind k = kind_of(i);
	int u = i % NUSERS;

	ocbuf_init(&b, OC_IPC_FRAME_MAX);
	memset(&o, 0, sizeof(o));
	if (k == K_PING || k == K_MALFORMED) {
		if (k == K_MALFORMED)
			assert_int_equal(ocbuf_put(&b, "not an order", 12), OC_OK);
		assert_int_equal(oc_frame_send_tagged(fd, k == K_PING ? OC_CA_MSG_PING :
		    OC_CA_MSG_ISSUE, 1000u + (uint32_t)i, &b), OC_OK);
		ocbuf_free(&b);
		return;
	}
	snprintf(name, sizeof(name), "user%d", u);
	o.requester.name = name;
	o.requester.kind = OC_ACCOUNT_USER;
	o.requester.auth_type = OC_AUTH_PASSWORD;
	o.template_hint = (char *)(k == K_UNKNOWN_TEMPLATE ? "NoSuchTemplate" : "User");
	o.request = k == K_GARBAGE ? (uint8_t *)garbage : F.csr[u];
	o.request_len = k == K_GARBAGE ? sizeof(garbage) : F.csr_len[u];
	assert_int_equal(oc_ca_order_encode(&o, &b), OC_OK);
	assert_int_equal(oc_frame_send_tagged(fd, OC_CA_MSG_ISSUE, 1000u + (uint32_t)i, &b),
	    OC_OK);
	ocbuf_free(&b);
}

/* An issued certificate: the requester's own key, byte for byte its SPKI, its names. */
static void
check_issued(int i, const struct oc_ca_result *res)
{
	const uint8_t *p = res->cert, *q = F.csr[i % NUSERS];
	X509 *x = NULL;
	X509_REQ *req = NULL;
	uint8_t *a = NULL, *b = NULL;
	int alen, blen;
	char want[32];

	assert_int_equal(res->disposition, OC_DISP_ISSUED);
	assert_int_equal(res->hresult, OC_HR_S_OK);
	assert_non_null(res->cmc);
	assert_non_null(x = d2i_X509(NULL, &p, (long)res->cert_len));
	assert_non_null(req = d2i_X509_REQ(NULL, &q, (long)F.csr_len[i % NUSERS]));
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), F.keys[i % NUSERS]), 1);
	alen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &a);
	blen = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(req), &b);
	assert_true(alen > 0 && alen == blen);
	assert_memory_equal(a, b, (size_t)alen);
	snprintf(want, sizeof(want), "user%d@example.com", i % NUSERS);
	assert_int_equal(X509_check_email(x, want, 0, 0), 1);
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_REQ_free(req);
	X509_free(x);
}

static void
count_cert(const struct oc_store_cert *c, void *arg)
{
	(void)c;
	(*(size_t *)arg)++;
}

static void
run_batch(int threads)
{
	struct oc_ca_result res[NORDERS];
	struct serve_arg arg;
	struct oc_store *s = NULL;
	struct oc_store_request rq;
	struct oc_store_cert c;
	pthread_t th;
	struct ocbuf b;
	uint32_t type, tag;
	size_t issued = 0, stored = 0;
	int sv[2];

	unlink(F.store_path);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* the whole batch waits on the socket before the CA reads its first frame */
	for (int i = 0; i < NORDERS; i++)
		send_order(sv[0], i);
	arg.fd = sv[1];
	arg.threads = threads;
	arg.r = -1;
	assert_int_equal(pthread_create(&th, NULL, serve_main, &arg), 0);
	ocbuf_init(&b, OC_IPC_FRAME_MAX);
	memset(res, 0, sizeof(res));
	for (int i = 0; i < NORDERS; i++) {
		assert_int_equal(oc_frame_recv_tagged(sv[0], &type, &tag, &b), OC_OK);
		/* answers in the order of the orders, each with its order's tag */
		assert_int_equal(tag, 1000u + (uint32_t)i);
		assert_int_equal(type, OC_CA_MSG_RESULT);
		assert_int_equal(oc_ca_result_decode(&b, &res[i]), OC_OK);
	}
	ocbuf_free(&b);
	assert_int_equal(shutdown(sv[0], SHUT_WR), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(arg.r, OC_OK);
	close(sv[0]);
	close(sv[1]);

	assert_int_equal(oc_store_open(F.store_path, &s), OC_OK);
	for (int i = 0; i < NORDERS; i++) {
		enum kind k = kind_of(i);
		for (int m = 0; m < i; m++)
			if (res[i].request_id != 0)
				assert_int_not_equal(res[i].request_id, res[m].request_id);
		switch (k) {
		case K_ISSUE:
			check_issued(i, &res[i]);
			issued++;
			memset(&c, 0, sizeof(c));
			assert_int_equal(oc_store_cert_by_request(s, res[i].request_id, &c), OC_OK);
			assert_int_equal(c.der_len, res[i].cert_len);
			assert_memory_equal(c.der, res[i].cert, c.der_len);
			oc_store_cert_clear(&c);
			break;
		case K_GARBAGE:
			assert_int_equal(res[i].disposition, OC_DISP_DENIED);
			assert_true(res[i].hresult == OC_HR_CRYPT_E_ASN1_EOD ||
			    res[i].hresult == OC_HR_CRYPT_E_ASN1_BADTAG);
			assert_null(res[i].cert);
			break;
		case K_UNKNOWN_TEMPLATE:
			assert_int_equal(res[i].disposition, OC_DISP_DENIED);
			assert_int_equal(res[i].hresult, OC_HR_CERTSRV_E_UNSUPPORTED_CERT_TYPE);
			assert_null(res[i].cert);
			break;
		case K_MALFORMED:
			assert_int_equal(res[i].disposition, OC_DISP_ERROR);
			assert_int_equal(res[i].hresult, OC_HR_E_INVALIDARG);
			assert_int_equal(res[i].request_id, 0);
			break;
		case K_PING:
			assert_int_equal(res[i].disposition, OC_DISP_INCOMPLETE);
			break;
		}
		if (k == K_ISSUE || k == K_GARBAGE || k == K_UNKNOWN_TEMPLATE) {
			memset(&rq, 0, sizeof(rq));
			assert_int_not_equal(res[i].request_id, 0);
			assert_int_equal(oc_store_request_get(s, res[i].request_id, &rq), OC_OK);
			assert_int_equal(rq.status, k == K_ISSUE ? OC_REQ_STATUS_ISSUED :
			    OC_REQ_STATUS_DENIED);
			oc_store_request_clear(&rq);
		}
		oc_ca_result_clear(&res[i]);
	}
	/* every certificate once: as many rows as issued answers, each found by its request */
	assert_int_equal(oc_store_cert_list(s, 0, count_cert, &stored), OC_OK);
	assert_int_equal(stored, issued);
	assert_true(issued >= NORDERS / 2);
	oc_store_close(s);
}

static void
test_batch_on_pool(void **state)
{
	(void)state;
	run_batch(4);
}

static void
test_batch_on_ca_thread(void **state)
{
	(void)state;
	run_batch(1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_on_pool),
		cmocka_unit_test(test_batch_on_ca_thread),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
