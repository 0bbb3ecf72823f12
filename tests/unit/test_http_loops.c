/*
 * HTTPS server with several event loops: connections are handed to the
 * loops in turn, each keeps its connections alive, the cap and the 503 are
 * server-wide, connection ids are unique across loops, and a stop drains
 * the requests in flight on every loop. The client is OpenSSL, written here,
 * so that each connection and each request is under the test's control.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/limits.h"
#include "common/log.h"
#include "http/http.h"
#include "http/http_int.h"

int main(void);

static char tdir[64], srv_cert[128], srv_key[128];

static int
group_setup(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	FILE *f;

	strcpy(tdir, "/tmp/oc_httpl_XXXXXX");
	if (k == NULL || x == NULL || mkdtemp(tdir) == NULL)
		return -1;
	snprintf(srv_cert, sizeof(srv_cert), "%s/server.pem", tdir);
	snprintf(srv_key, sizeof(srv_key), "%s/server.key", tdir);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, k);
	if (X509_sign(x, k, EVP_sha256()) <= 0)
		return -1;
	if ((f = fopen(srv_cert, "w")) == NULL)
		return -1;
	PEM_write_X509(f, x);
	fclose(f);
	if ((f = fopen(srv_key, "w")) == NULL)
		return -1;
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(k);
	oc_log_init("test_http_loops", OC_LOG_ERROR);
	return 0;
}

static int
group_teardown(void **state)
{
	unlink(srv_cert);
	unlink(srv_key);
	rmdir(tdir);
	return 0;
}

/* ---- the handler: /id answers the connection id, /slow takes 300 ms ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int slow_started;

static void
t_handler(void *ctx, void *tctx, const struct oc_http_request *req,
    struct oc_http_response *resp)
{
	int r;

	resp->content_type = "text/plain";
	if (strcmp(req->path, "/slow") == 0) {
		pthread_mutex_lock(&mu);
		slow_started++;
		pthread_mutex_unlock(&mu);
		usleep(300 * 1000);
		r = ocbuf_printf(&resp->body, "slow %llu", (unsigned long long)req->conn_id);
	} else {
		r = ocbuf_printf(&resp->body, "%llu", (unsigned long long)req->conn_id);
	}
	if (r != OC_OK)
		resp->status = 500;
}

static int
slow_wait(int n)
{
	int i, s = 0;

	for (i = 0; i < 500 && s < n; i++) {
		pthread_mutex_lock(&mu);
		s = slow_started;
		pthread_mutex_unlock(&mu);
		if (s < n)
			usleep(10 * 1000);
	}
	return s >= n;
}

/* ---- server in a thread --------------------------------------------------- */

struct tsrv {
	struct oc_http_server *srv;
	pthread_t th;
	int rc;
	int port;
};

static void *
tsrv_main(void *arg)
{
	struct tsrv *t = arg;

	t->rc = oc_http_server_run(t->srv);
	return NULL;
}

static void
tsrv_start(struct tsrv *t, struct oc_http_config *cfg)
{
	static struct oc_http_listener lst;

	memset(t, 0, sizeof(*t));
	lst = (struct oc_http_listener){ "127.0.0.1:0", srv_cert, srv_key, NULL };
	cfg->listeners = &lst;
	cfg->nlisteners = 1;
	cfg->handler = t_handler;
	assert_int_equal(oc_http_server_new(cfg, &t->srv), OC_OK);
	t->port = oc_http_server_port(t->srv, 0);
	assert_true(t->port > 0);
	pthread_mutex_lock(&mu);
	slow_started = 0;
	pthread_mutex_unlock(&mu);
	assert_int_equal(pthread_create(&t->th, NULL, tsrv_main, t), 0);
}

static void
tsrv_stop(struct tsrv *t)
{
	oc_http_server_stop(t->srv);
	assert_int_equal(pthread_join(t->th, NULL), 0);
	assert_int_equal(t->rc, OC_OK);
	oc_http_server_free(t->srv);
	t->srv = NULL;
}

/* Connections per loop, as the loops count them (0 when i is out of range). */
static size_t
loop_conns(struct tsrv *t, size_t i)
{
	if (i >= t->srv->nloops)
		return 0;
	return __atomic_load_n(&t->srv->loops[i].nconns, __ATOMIC_RELAXED);
}

/* ---- a blocking TLS client ------------------------------------------------- */

struct cli {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
};

static void
cli_open(struct cli *c, int port)
{
	struct sockaddr_in sin;

	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(c->fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_non_null(c->ctx = SSL_CTX_new(TLS_client_method()));
	assert_non_null(c->ssl = SSL_new(c->ctx));
	SSL_set_fd(c->ssl, c->fd);
	assert_int_equal(SSL_connect(c->ssl), 1);
}

static void
cli_close(struct cli *c)
{
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
cli_send(struct cli *c, const char *path)
{
	char req[256];
	int n;

	n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	assert_int_equal(SSL_write(c->ssl, req, n), n);
}

/* Read one response: status, the Retry-After value (or ""), the body. */
static void
cli_recv(struct cli *c, int *status, char *retry, size_t retrylen, char *body,
    size_t bodylen)
{
	char buf[4096], *hend, *p;
	size_t len = 0, clen, have;
	int n;

	*retry = '\0';
	for (;;) {
		buf[len] = '\0';
		if ((hend = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		assert_true(len < sizeof(buf) - 1);
		n = SSL_read(c->ssl, buf + len, (int)(sizeof(buf) - 1 - len));
		if (n <= 0)
			fail_msg("connection closed before a response (%zu bytes)", len);
		len += (size_t)n;
	}
	assert_int_equal(sscanf(buf, "HTTP/1.1 %d", status), 1);
	assert_non_null(p = strcasestr(buf, "\r\nContent-Length: "));
	clen = strtoul(p + 18, NULL, 10);
	if ((p = strcasestr(buf, "\r\nRetry-After: ")) != NULL && p < hend)
		snprintf(retry, retrylen, "%.*s", (int)strcspn(p + 15, "\r"), p + 15);
	hend += 4;
	have = len - (size_t)(hend - buf);
	assert_true(clen < bodylen);
	memcpy(body, hend, have);
	while (have < clen) {
		n = SSL_read(c->ssl, body + have, (int)(clen - have));
		if (n <= 0)
			fail_msg("connection closed in the body");
		have += (size_t)n;
	}
	assert_int_equal(have, clen);   /* nothing beyond this response */
	body[clen] = '\0';
}

static uint64_t
cli_get_id(struct cli *c)
{
	char body[64], retry[8];
	int status;

	cli_send(c, "/id");
	cli_recv(c, &status, retry, sizeof(retry), body, sizeof(body));
	assert_int_equal(status, 200);
	return strtoull(body, NULL, 10);
}

/* ---- tests ---------------------------------------------------------------- */

/*
 * Three loops, six connections opened one after the other: two on each loop
 * (the loops take turns). Each connection keeps its id over three requests
 * (keep-alive); ids are unique and never 0, also after reconnecting.
 */
static void
test_loops_keepalive_ids(void **state)
{
	struct oc_http_config cfg = { .loops = 3 };
	struct tsrv t;
	struct cli c[6];
	uint64_t id[12];
	size_t i, j, n = 0;

	tsrv_start(&t, &cfg);
	assert_int_equal(t.srv->nloops, 3);
	for (i = 0; i < 6; i++) {
		cli_open(&c[i], t.port);
		id[n++] = cli_get_id(&c[i]);
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(loop_conns(&t, i), 2);
	for (j = 0; j < 3; j++)
		for (i = 0; i < 6; i++)
			assert_int_equal(cli_get_id(&c[i]), id[i]);
	/* reconnect half of them: fresh ids, still on every loop */
	for (i = 0; i < 6; i += 2) {
		cli_close(&c[i]);
		cli_open(&c[i], t.port);
		id[n++] = cli_get_id(&c[i]);
		assert_int_equal(cli_get_id(&c[i]), id[n - 1]);
	}
	for (i = 0; i < n; i++) {
		assert_true(id[i] != 0);
		for (j = i + 1; j < n; j++)
			if (id[i] == id[j])
				fail_msg("connections %zu and %zu share id %llu", i, j,
				    (unsigned long long)id[i]);
	}
	for (i = 0; i < 6; i++)
		cli_close(&c[i]);
	tsrv_stop(&t);
}

/* The default is one loop per CPU; a negative or huge count is refused. */
static void
test_loops_config(void **state)
{
	struct oc_http_listener l = { "127.0.0.1:0", srv_cert, srv_key, NULL };
	struct oc_http_config cfg = { .listeners = &l, .nlisteners = 1, .handler = t_handler };
	struct oc_http_server *srv = NULL;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	assert_int_equal(oc_http_server_new(&cfg, &srv), OC_OK);
	assert_true(srv->nloops >= 1);
	assert_true((long)srv->nloops <= ncpu);
	oc_http_server_free(srv);
	srv = NULL;
	cfg.loops = -1;
	assert_int_equal(oc_http_server_new(&cfg, &srv), OC_ERR_INVALID);
	assert_null(srv);
	cfg.loops = HTTP_LOOPS_MAX + 1;
	assert_int_equal(oc_http_server_new(&cfg, &srv), OC_ERR_INVALID);
	assert_null(srv);
}

/*
 * One worker, one queue slot, two loops: a slow request runs (loop 0), one
 * waits (loop 1), the next on each loop gets 503 with Retry-After and keeps
 * its connection; the first two complete.
 */
static void
test_loops_busy_503(void **state)
{
	struct oc_http_config cfg = { .loops = 2, .workers = 1, .queue_max = 1 };
	struct tsrv t;
	struct cli c[4];
	char body[64], retry[8], want[64];
	uint64_t id[4];
	int status;
	size_t i;

	tsrv_start(&t, &cfg);
	for (i = 0; i < 4; i++) {
		cli_open(&c[i], t.port);
		id[i] = cli_get_id(&c[i]);
	}
	assert_int_equal(loop_conns(&t, 0), 2);
	assert_int_equal(loop_conns(&t, 1), 2);
	cli_send(&c[0], "/slow");
	assert_true(slow_wait(1));
	cli_send(&c[1], "/slow");
	usleep(50 * 1000);      /* queued by loop 1 */
	for (i = 2; i < 4; i++) {
		cli_send(&c[i], "/slow");
		cli_recv(&c[i], &status, retry, sizeof(retry), body, sizeof(body));
		assert_int_equal(status, 503);
		assert_int_equal(atoi(retry), OC_HTTP_RETRY_AFTER_SECONDS);
	}
	for (i = 0; i < 2; i++) {
		cli_recv(&c[i], &status, retry, sizeof(retry), body, sizeof(body));
		assert_int_equal(status, 200);
		snprintf(want, sizeof(want), "slow %llu", (unsigned long long)id[i]);
		assert_string_equal(body, want);
	}
	/* the refused ones kept their connection */
	for (i = 2; i < 4; i++)
		assert_int_equal(cli_get_id(&c[i]), id[i]);
	for (i = 0; i < 4; i++)
		cli_close(&c[i]);
	tsrv_stop(&t);
}

static void *
stopper_main(void *arg)
{
	tsrv_stop(arg);
	return NULL;
}

/*
 * Stop with slow requests in flight on three loops: every one is answered
 * (200) before oc_http_server_run() returns; a request that arrives on a
 * kept-alive connection after the stop gets 503 and Connection: close.
 */
static void
test_loops_stop_drains(void **state)
{
	struct oc_http_config cfg = { .loops = 3, .workers = 6 };
	struct tsrv t;
	struct cli c[6];
	char body[64], retry[8], want[64];
	uint64_t id[6];
	pthread_t st;
	int status;
	size_t i;

	tsrv_start(&t, &cfg);
	for (i = 0; i < 6; i++) {
		cli_open(&c[i], t.port);
		id[i] = cli_get_id(&c[i]);
	}
	for (i = 0; i < 3; i++)
		assert_int_equal(loop_conns(&t, i), 2);
	for (i = 0; i < 5; i++)
		cli_send(&c[i], "/slow");
	assert_true(slow_wait(5));
	assert_int_equal(pthread_create(&st, NULL, stopper_main, &t), 0);
	usleep(100 * 1000);     /* the loops have taken the stop */
	cli_send(&c[5], "/id");
	cli_recv(&c[5], &status, retry, sizeof(retry), body, sizeof(body));
	assert_int_equal(status, 503);
	for (i = 0; i < 5; i++) {
		cli_recv(&c[i], &status, retry, sizeof(retry), body, sizeof(body));
		assert_int_equal(status, 200);
		snprintf(want, sizeof(want), "slow %llu", (unsigned long long)id[i]);
		assert_string_equal(body, want);
	}
	assert_int_equal(pthread_join(st, NULL), 0);
	for (i = 0; i < 6; i++)
		cli_close(&c[i]);
}

/*
 * The connection cap is for the whole server: with two loops and a cap of
 * three, the fourth connection waits in the backlog until one closes, then
 * the loop whose turn it is takes it.
 */
static void
test_loops_max_connections(void **state)
{
	struct oc_http_config cfg = { .loops = 2, .max_connections = 3 };
	struct tsrv t;
	struct cli c[4];
	struct timeval tv = { 0, 300 * 1000 };
	struct sockaddr_in sin;
	char b;
	size_t i;
	int fd;

	tsrv_start(&t, &cfg);
	for (i = 0; i < 3; i++) {
		cli_open(&c[i], t.port);
		(void)cli_get_id(&c[i]);
	}
	/* a fourth connects (backlog) but its handshake gets no answer */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)t.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	assert_int_equal(write(fd, "\x16\x03\x01\x00\x01\x01", 6), 6);  /* a bad ClientHello */
	assert_int_equal(read(fd, &b, 1), -1);  /* nobody reads it: timeout */
	assert_int_equal(loop_conns(&t, 0) + loop_conns(&t, 1), 3);
	close(fd);
	cli_close(&c[0]);
	cli_open(&c[3], t.port);        /* accepted again */
	assert_true(cli_get_id(&c[3]) != 0);
	for (i = 1; i < 4; i++)
		cli_close(&c[i]);
	tsrv_stop(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loops_config),
		cmocka_unit_test(test_loops_keepalive_ids),
		cmocka_unit_test(test_loops_busy_503),
		cmocka_unit_test(test_loops_stop_drains),
		cmocka_unit_test(test_loops_max_connections),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
