/*
 * Pipelined orders on the one CA socket (ipc/ca_client.h) against a real
 * CA (oc_ca_serve in a forked child, real directory and store): several
 * threads issue at once, every answer reaches its own caller, every
 * certificate is in the store exactly once; a CA that dies mid-batch wakes
 * every waiter with an error, and nothing answered "issued" is missing from
 * the store afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "common/limits.h"
#include "directory/directory.h"
#include "ipc/ca_client.h"
#include "ipc/frame.h"
#include "model/hresult.h"
#include "pkix/pkix.h"
#include "store/store.h"

int main(void);

#define CA_NAME   "OpenCES Demo CA"
#define NTHREADS  6
#define PER_THREAD 12
#define MAX_ISSUED 4096

static struct {
	char tmp[64], dir_path[128], store_path[128], key_path[128], cert_path[128];
	struct oc_ca_config cfg;
	EVP_PKEY *keys[NTHREADS];
	uint8_t *csr[NTHREADS];
	size_t csr_len[NTHREADS];
} F;

struct worker {
	struct oc_ca_client *client;
	int idx;
	int issue_until_error;            /* the kill test: go on until the CA is gone */
	volatile int *stop;
	/* results */
	int errors, calls;
	size_t nissued;
	char *serial[MAX_ISSUED];
	uint32_t request_id[MAX_ISSUED];
	int last_err;
};

static int
group_setup(void **state)
{
	struct oc_directory *dir = NULL;
	struct oc_ca_entry ce = { 0 };

	snprintf(F.tmp, sizeof(F.tmp), "/tmp/oc-capipe-XXXXXX");
	assert_non_null(mkdtemp(F.tmp));
	snprintf(F.dir_path, sizeof(F.dir_path), "%s/directory.db", F.tmp);
	snprintf(F.store_path, sizeof(F.store_path), "%s/store.db", F.tmp);
	snprintf(F.key_path, sizeof(F.key_path), "%s/ca.key", F.tmp);
	snprintf(F.cert_path, sizeof(F.cert_path), "%s/ca.pem", F.tmp);
	assert_int_equal(oc_dir_open(F.dir_path, 1, &dir), OC_OK);
	assert_int_equal(oc_dir_seed_defaults(dir), OC_OK);
	for (int i = 0; i < NTHREADS; i++) {
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
	F.cfg.key_type = "P256";          /* fast signatures: the test is about the channel */
	assert_int_equal(oc_ca_init(&F.cfg), OC_OK);
	for (int i = 0; i < NTHREADS; i++) {
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
	char cmd[160];

	for (int i = 0; i < NTHREADS; i++) {
		EVP_PKEY_free(F.keys[i]);
		free(F.csr[i]);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", F.tmp);
	assert_int_equal(system(cmd), 0);
	(void)state;
	return 0;
}

/* A fresh store for each test; the CA in a forked child on sv[1]. */
static pid_t
start_ca(int sv[2])
{
	pid_t pid;

	unlink(F.store_path);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(oc_ca_serve(&F.cfg, sv[1]) == OC_OK ? 0 : 1);
	}
	close(sv[1]);
	return pid;
}

static void
order_for(struct oc_ca_order *o, int idx)
{
	char name[16];

	memset(o, 0, sizeof(*o));
	snprintf(name, sizeof(name), "user%d", idx);
	o->requester.name = strdup(name);
	o->requester.kind = OC_ACCOUNT_USER;
	o->requester.auth_type = OC_AUTH_PASSWORD;
	o->template_hint = strdup("User");
	o->request = malloc(F.csr_len[idx]);
	memcpy(o->request, F.csr[idx], F.csr_len[idx]);
	o->request_len = F.csr_len[idx];
}

/* An issued answer belongs to this worker: its key, its account. */
static void
check_mine(struct worker *w, const struct oc_ca_result *res)
{
	const uint8_t *p = res->cert;
	X509 *x;
	char want[32], *hex = NULL;
	const ASN1_INTEGER *sn;
	BIGNUM *bn;

	assert_int_equal(res->disposition, OC_DISP_ISSUED);
	assert_non_null(res->cmc);
	assert_non_null(x = d2i_X509(NULL, &p, (long)res->cert_len));
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), F.keys[w->idx]), 1);
	snprintf(want, sizeof(want), "user%d@example.com", w->idx);
	assert_int_equal(X509_check_email(x, want, 0, 0), 1);
	sn = X509_get0_serialNumber(x);
	assert_non_null(bn = ASN1_INTEGER_to_BN(sn, NULL));
	assert_non_null(hex = BN_bn2hex(bn));
	assert_true(w->nissued < MAX_ISSUED);
	w->serial[w->nissued] = strdup(hex);
	w->request_id[w->nissued] = res->request_id;
	__atomic_store_n(&w->nissued, w->nissued + 1, __ATOMIC_RELAXED);  /* read by the main thread */
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct oc_ca_order o;
	struct oc_ca_result res;
	int r;

	order_for(&o, w->idx);
	for (int k = 0; w->issue_until_error ? !*w->stop : k < PER_THREAD; k++) {
		uint32_t type = OC_CA_MSG_ISSUE;
		if (!w->issue_until_error && k % 4 == 3 && w->nissued > 0) {
			type = OC_CA_MSG_QUERY;
			o.request_id = w->request_id[w->nissued - 1];
		} else if (!w->issue_until_error && k % 5 == 4) {
			type = OC_CA_MSG_PING;
		}
		w->calls++;
		r = oc_ca_client_call(w->client, type, type == OC_CA_MSG_PING ? NULL : &o, &res);
		if (r != OC_OK) {
			w->errors++;
			w->last_err = r;
			if (w->issue_until_error)
				break;
			continue;
		}
		if (type == OC_CA_MSG_ISSUE) {
			check_mine(w, &res);
		} else if (type == OC_CA_MSG_QUERY) {
			/* the answer to my query names my request */
			assert_int_equal(res.request_id, o.request_id);
			assert_int_equal(res.disposition, OC_DISP_ISSUED);
		} else {
			assert_int_equal(res.disposition, OC_DISP_INCOMPLETE);
			assert_null(res.cert);
		}
		oc_ca_result_clear(&res);
	}
	oc_ca_order_clear(&o);
	return NULL;
}

static void
count_cert(const struct oc_store_cert *c, void *arg)
{
	(void)c;
	(*(size_t *)arg)++;
}

/* hex of BN_bn2hex (upper case, no leading zero octets) vs the store's lower-case hex */
static int
serial_in_store(struct oc_store *s, const char *bnhex, uint32_t request_id)
{
	struct oc_store_cert c;
	char lower[2 * 20 + 4];
	size_t n = strlen(bnhex), off = 0;
	int found = 0;

	assert_true(n + 2 < sizeof(lower));
	if (n % 2)
		lower[off++] = '0';
	for (size_t i = 0; i < n; i++)
		lower[off++] = (char)(bnhex[i] >= 'A' && bnhex[i] <= 'F' ? bnhex[i] + 32 : bnhex[i]);
	lower[off] = '\0';
	if (oc_store_cert_get(s, lower, &c) == OC_OK) {
		found = c.request_id == request_id;
		oc_store_cert_clear(&c);
	}
	return found;
}

static void
run_workers(struct worker *w, struct oc_ca_client *client, int until_error, volatile int *stop,
    pthread_t *th)
{
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].client = client;
		w[i].idx = i;
		w[i].issue_until_error = until_error;
		w[i].stop = stop;
		assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
	}
}

static void
free_workers(struct worker *w)
{
	for (int i = 0; i < NTHREADS; i++)
		for (size_t k = 0; k < w[i].nissued; k++)
			free(w[i].serial[k]);
}

static void
test_pipelined_issue(void **state)
{
	static struct worker w[NTHREADS];
	struct oc_ca_client *client = NULL;
	struct oc_store *s = NULL;
	pthread_t th[NTHREADS];
	volatile int stop = 0;
	size_t total = 0, stored = 0;
	int sv[2], status = 0;
	pid_t pid = start_ca(sv);

	assert_int_equal(oc_ca_client_new(sv[0], &client), OC_OK);
	run_workers(w, client, 0, &stop, th);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_int_equal(oc_store_open(F.store_path, &s), OC_OK);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(w[i].errors, 0);
		assert_true(w[i].nissued >= PER_THREAD / 2);
		for (size_t k = 0; k < w[i].nissued; k++) {
			assert_true(serial_in_store(s, w[i].serial[k], w[i].request_id[k]));
			/* and no other caller got the same certificate */
			for (int j = 0; j <= i; j++)
				for (size_t m = 0; m < (j == i ? k : w[j].nissued); m++) {
					assert_string_not_equal(w[j].serial[m], w[i].serial[k]);
					assert_int_not_equal(w[j].request_id[m], w[i].request_id[k]);
				}
		}
		total += w[i].nissued;
	}
	assert_int_equal(oc_store_cert_list(s, 0, count_cert, &stored), OC_OK);
	assert_int_equal(stored, total);
	assert_int_equal(oc_store_check(s), OC_OK);
	oc_store_close(s);
	oc_ca_client_free(client);
	free_workers(w);
	(void)state;
}

static void *
worker_ping(void *arg)
{
	struct worker *w = arg;
	struct oc_ca_result res;
	int r;

	w->calls++;
	if ((r = oc_ca_client_call(w->client, OC_CA_MSG_PING, NULL, &res)) != OC_OK) {
		w->errors++;
		w->last_err = r;
	}
	oc_ca_result_clear(&res);
	return NULL;
}

/*
 * A CA that dies with a batch read and unanswered: it reads one order from
 * every caller, answers only the first, and exits. The other callers wake
 * with OC_ERR_IPC; later calls fail at once.
 */
static void
test_ca_dies_mid_batch(void **state)
{
	static struct worker w[NTHREADS];
	struct oc_ca_client *client = NULL;
	struct oc_ca_result res;
	pthread_t th[NTHREADS];
	int sv[2], status = 0, ok = 0, failed = 0;
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ocbuf in, out;
		struct oc_ca_result pong = { 0 };
		uint32_t type, tag, first = 0;
		close(sv[0]);
		ocbuf_init(&in, OC_IPC_FRAME_MAX);
		ocbuf_init(&out, OC_IPC_FRAME_MAX);
		for (int i = 0; i < NTHREADS; i++) {
			if (oc_frame_recv_tagged(sv[1], &type, &tag, &in) != OC_OK)
				_exit(2);
			if (i == 0)
				first = tag;
		}
		pong.message = (char *)"";
		if (oc_ca_result_encode(&pong, &out) != OC_OK ||
		    oc_frame_send_tagged(sv[1], OC_CA_MSG_RESULT, first, &out) != OC_OK)
			_exit(3);
		_exit(0);
	}
	close(sv[1]);
	assert_int_equal(oc_ca_client_new(sv[0], &client), OC_OK);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].client = client;
		w[i].idx = i;
	}
	/* every worker pings once */
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, worker_ping, &w[i]), 0);
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (w[i].errors == 0)
			ok++;
		else {
			assert_int_equal(w[i].last_err, OC_ERR_IPC);
			failed++;
		}
	}
	assert_int_equal(ok, 1);
	assert_int_equal(failed, NTHREADS - 1);
	assert_int_equal(oc_ca_client_call(client, OC_CA_MSG_PING, NULL, &res), OC_ERR_IPC);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	oc_ca_client_free(client);
	close(sv[0]);
	(void)state;
}

/*
 * The real CA killed (SIGKILL) while orders stream in: every caller wakes
 * (no hang), and every certificate answered as issued is in the store.
 */
static void
test_ca_killed_under_load(void **state)
{
	static struct worker w[NTHREADS];
	struct oc_ca_client *client = NULL;
	struct oc_store *s = NULL;
	pthread_t th[NTHREADS];
	volatile int stop = 0;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	size_t total = 0;
	int sv[2], status = 0;
	pid_t pid = start_ca(sv);

	assert_int_equal(oc_ca_client_new(sv[0], &client), OC_OK);
	run_workers(w, client, 1, &stop, th);
	/* let some orders through, then kill the CA in the middle of the stream */
	for (int i = 0; i < 200 && total < 20; i++) {
		nanosleep(&pause, NULL);
		total = 0;
		for (int j = 0; j < NTHREADS; j++)
			total += __atomic_load_n(&w[j].nissued, __ATOMIC_RELAXED);
	}
	assert_int_equal(kill(pid, SIGKILL), 0);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	stop = 1;

	assert_int_equal(oc_store_open(F.store_path, &s), OC_OK);
	total = 0;
	for (int i = 0; i < NTHREADS; i++) {
		/* each worker ran until the CA was gone */
		assert_int_equal(w[i].errors, 1);
		assert_int_equal(w[i].last_err, OC_ERR_IPC);
		for (size_t k = 0; k < w[i].nissued; k++)
			assert_true(serial_in_store(s, w[i].serial[k], w[i].request_id[k]));
		total += w[i].nissued;
	}
	assert_true(total >= 20);
	assert_int_equal(oc_store_check(s), OC_OK);
	oc_store_close(s);
	oc_ca_client_free(client);
	close(sv[0]);
	free_workers(w);
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_issue),
		cmocka_unit_test(test_ca_dies_mid_batch),
		cmocka_unit_test(test_ca_killed_under_load),
	};

	signal(SIGPIPE, SIG_IGN);
	alarm(240);    /* a hang (a waiter never woken) fails instead of blocking */
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
