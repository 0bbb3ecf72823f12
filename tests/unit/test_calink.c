/*
 * The CA link (src/calink) in-process, on loopback, with certificates made
 * by the openssl CLI in a scratch directory: listeners in front of a small
 * frame echo peer (the CA's side of the socketpair: every frame answered
 * with its tag, RESULT, its payload and the peer's mark, in reverse order
 * of arrival within a batch), connectors in front of pipelined channels
 * (ipc/chan.h, as the front end uses them).
 *   - tags multiplexed: two front ends, four threads each, interleaved calls
 *   - an unknown frame type and an oversized frame drop the connection
 *   - bounds: unanswered frames per connection, connections
 *   - a certificate of another CA is refused; a trusted but unlisted one too
 *   - failover: a frame in flight on a node that goes away is re-sent on the
 *     next node, and so is one a node keeps unanswered too long; nothing
 *     reachable: error results (OC_DISP_ERROR, status ERROR)
 *   - back to the preferred node once it is there again
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "calink/calink.h"
#include "common/limits.h"
#include "common/log.h"
#include "ipc/ca_client.h"
#include "ipc/ca_proto.h"
#include "ipc/chan.h"
#include "ipc/frame.h"
#include "model/hresult.h"

int main(void);

static char tdir[64];

static void
path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tdir, name);
}

/* ---- certificates (openssl CLI) ---------------------------------------- */

static const char certs_sh[] =
    "set -e; cd '%s'\n"
    "ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1 2>/dev/null; }\n"
    "mkca() { ec $1.key; openssl req -x509 -new -key $1.key -subj \"/CN=$2\" -days 2 "
    "  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign "
    "  -out $1.pem 2>/dev/null; }\n"
    "leaf() { ec $1.key; openssl req -new -key $1.key -subj \"/CN=$2\" -out $1.csr 2>/dev/null;"
    "  printf '%%s\\n' \"$4\" >$1.ext;"
    "  openssl x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -CAcreateserial -days 2 "
    "  -extfile $1.ext -out $1.pem 2>/dev/null; }\n"
    "mkca linkca 'Link CA'\n"
    "mkca rogueca 'Rogue CA'\n"
    "leaf node 'ca-node.example.test' linkca 'subjectAltName=IP:127.0.0.1,DNS:ca-node.example.test'\n"
    "leaf front1 front1.example.test linkca 'extendedKeyUsage=clientAuth'\n"
    "leaf front2 front2.example.test linkca 'extendedKeyUsage=clientAuth'\n"
    "leaf front3 front3.example.test linkca 'extendedKeyUsage=clientAuth'\n"
    "leaf rogue front1.example.test rogueca 'extendedKeyUsage=clientAuth'\n"
    "openssl x509 -in front2.pem -outform DER | sha256sum | cut -c1-64 >front2.sha256\n";

static char front2_allow[80];

static int
setup(void **state)
{
	char cmd[4096], p[128];
	FILE *fp;

	(void)state;
	oc_log_init("test_calink", getenv("OC_TEST_DEBUG") ? OC_LOG_DEBUG : OC_LOG_ERROR);
	snprintf(tdir, sizeof(tdir), "/tmp/oc-calink.XXXXXX");
	if (mkdtemp(tdir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), certs_sh, tdir);
	if (system(cmd) != 0)
		return -1;
	path(p, sizeof(p), "front2.sha256");
	if ((fp = fopen(p, "r")) == NULL)
		return -1;
	snprintf(front2_allow, sizeof(front2_allow), "sha256:");
	if (fgets(front2_allow + 7, sizeof(front2_allow) - 7, fp) == NULL) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	front2_allow[strcspn(front2_allow, "\n")] = '\0';
	/* upper case: the match ignores case */
	for (char *s = front2_allow + 7; *s; s++)
		if (*s >= 'a' && *s <= 'f')
			*s = (char)(*s - 'a' + 'A');
	return 0;
}

static int
teardown(void **state)
{
	char cmd[256];

	(void)state;
	if (getenv("OC_KEEP") == NULL && tdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

/* ---- the echo peer: the CA's end of the socketpair ----------------------- */

struct echo {
	int fd;
	char mark;
	int swallow;                 /* read, never answer */
	atomic_int received;
	pthread_t th;
};

static void *
echo_main(void *arg)
{
	struct echo *e = arg;
	struct ocbuf in[16];
	uint32_t type[16], tag[16];
	size_t n;

	for (size_t i = 0; i < 16; i++)
		ocbuf_init(&in[i], OC_IPC_FRAME_MAX);
	for (;;) {
		struct pollfd p = { .fd = e->fd, .events = POLLIN };
		n = 0;
		/* one frame, then what else comes within 20 ms: a batch */
		do {
			if (oc_frame_recv_tagged(e->fd, &type[n], &tag[n], &in[n]) != OC_OK)
				goto out;
			atomic_fetch_add(&e->received, 1);
			n++;
		} while (n < 16 && poll(&p, 1, 20) == 1);
		for (size_t k = n; k-- > 0 && !e->swallow; ) {
			struct ocbuf ans;
			int r;
			ocbuf_init(&ans, OC_IPC_FRAME_MAX);
			r = ocbuf_put(&ans, ocbuf_ptr(&in[k]), ocbuf_avail(&in[k]));
			if (r == OC_OK)
				r = ocbuf_put_u8(&ans, (uint8_t)e->mark);
			if (r == OC_OK)
				r = oc_frame_send_tagged(e->fd, OC_CA_MSG_RESULT, tag[k], &ans);
			ocbuf_free(&ans);
			if (r != OC_OK)
				goto out;
		}
	}
out:
	for (size_t i = 0; i < 16; i++)
		ocbuf_free(&in[i]);
	return NULL;
}

/* ---- a listener (CA node) with its echo peer ------------------------------ */

struct node {
	struct oc_calink_listener *l;
	struct echo echo;
	int ca_fd;                   /* the listener's end */
	int stop[2];
	int port;
	pthread_t th;
	int rc;
};

static void *
node_main(void *arg)
{
	struct node *n = arg;

	n->rc = oc_calink_listener_run(n->l, n->ca_fd);
	return NULL;
}

static void
node_start_bounded(struct node *n, char mark, int swallow, int port, size_t max_conns,
    size_t inflight_max)
{
	char cert[128], key[128], ca[128], addr[32];
	const char *listen[1] = { addr };
	const char *allow[2] = { "front1.example.test", front2_allow };
	struct oc_calink_listen_config lc;
	int sp[2];

	memset(n, 0, sizeof(*n));
	path(cert, sizeof(cert), "node.pem");
	path(key, sizeof(key), "node.key");
	path(ca, sizeof(ca), "linkca.pem");
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	assert_int_equal(pipe(n->stop), 0);
	memset(&lc, 0, sizeof(lc));
	lc.listen = listen;
	lc.nlisten = 1;
	lc.cert_file = cert;
	lc.key_file = key;
	lc.client_ca_file = ca;
	lc.allow = allow;
	lc.nallow = 2;
	lc.stop_fd = n->stop[0];
	lc.max_conns = max_conns;
	lc.inflight_max = inflight_max;
	assert_int_equal(oc_calink_listener_new(&lc, &n->l), OC_OK);
	n->port = oc_calink_listener_port(n->l, 0);
	assert_true(n->port > 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	n->ca_fd = sp[0];
	n->echo.fd = sp[1];
	n->echo.mark = mark;
	n->echo.swallow = swallow;
	assert_int_equal(pthread_create(&n->echo.th, NULL, echo_main, &n->echo), 0);
	assert_int_equal(pthread_create(&n->th, NULL, node_main, n), 0);
}

static void
node_start(struct node *n, char mark, int swallow, int port)
{
	node_start_bounded(n, mark, swallow, port, 0, 0);
}

/* Stop the listener (every connection closes), then the echo peer. */
static void
node_stop(struct node *n)
{
	if (n->l == NULL)
		return;
	assert_int_equal(write(n->stop[1], "x", 1), 1);
	pthread_join(n->th, NULL);
	assert_int_equal(n->rc, OC_OK);
	oc_calink_listener_free(n->l);
	n->l = NULL;
	close(n->ca_fd);             /* the echo peer sees EOF */
	pthread_join(n->echo.th, NULL);
	close(n->echo.fd);
	close(n->stop[0]);
	close(n->stop[1]);
}

/* ---- a connector (front host) with the front's channel ------------------- */

struct front {
	struct oc_calink_connector *c;
	struct oc_ipc_chan *chan;
	int front_fd;                /* the front's end */
	int link_fd;                 /* the connector's end */
	int stop[2];
	pthread_t th;
	int rc;
};

static void *
front_main(void *arg)
{
	struct front *f = arg;

	f->rc = oc_calink_connector_run(f->c, f->link_fd);
	return NULL;
}

static void
front_start_answer(struct front *f, const char *who, const int *ports, size_t nports, int retry,
    int answer_seconds)
{
	char cert[128], key[128], ca[128], addrs[4][32], name[64];
	const char *nodes[4];
	struct oc_calink_connect_config cc;
	int sp[2];

	memset(f, 0, sizeof(*f));
	snprintf(name, sizeof(name), "%s.pem", who);
	path(cert, sizeof(cert), name);
	snprintf(name, sizeof(name), "%s.key", who);
	path(key, sizeof(key), name);
	path(ca, sizeof(ca), "linkca.pem");
	for (size_t i = 0; i < nports; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "127.0.0.1:%d", ports[i]);
		nodes[i] = addrs[i];
	}
	assert_int_equal(pipe(f->stop), 0);
	memset(&cc, 0, sizeof(cc));
	cc.nodes = nodes;
	cc.nnodes = nports;
	cc.cert_file = cert;
	cc.key_file = key;
	cc.server_ca_file = ca;
	cc.connect_timeout = 2;
	cc.retry_seconds = retry;
	cc.answer_seconds = answer_seconds;
	cc.stop_fd = f->stop[0];
	assert_int_equal(oc_calink_connector_new(&cc, &f->c), OC_OK);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	f->front_fd = sp[0];
	f->link_fd = sp[1];
	assert_int_equal(oc_ipc_chan_new(f->front_fd, "CA", &f->chan), OC_OK);
	assert_int_equal(pthread_create(&f->th, NULL, front_main, f), 0);
}

static void
front_start(struct front *f, const char *who, const int *ports, size_t nports, int retry)
{
	front_start_answer(f, who, ports, nports, retry, 0);
}

static void
front_stop(struct front *f)
{
	close(f->front_fd);          /* the connector ends on EOF */
	pthread_join(f->th, NULL);
	assert_int_equal(f->rc, OC_OK);
	oc_calink_connector_free(f->c);
	oc_ipc_chan_free(f->chan);
	close(f->link_fd);
	close(f->stop[0]);
	close(f->stop[1]);
}

/* One call: payload text; returns the answer's mark (0 on a mismatch or failure). */
static char
call(struct front *f, uint32_t type, const char *text)
{
	struct ocbuf req, ans;
	uint32_t atype = 0;
	char mark = 0;
	size_t n = strlen(text);

	ocbuf_init(&req, OC_IPC_FRAME_MAX);
	ocbuf_init(&ans, OC_IPC_FRAME_MAX);
	if (ocbuf_put(&req, text, n) == OC_OK &&
	    oc_ipc_chan_call(f->chan, type, &req, &atype, &ans) == OC_OK &&
	    atype == OC_CA_MSG_RESULT && ocbuf_avail(&ans) == n + 1 &&
	    memcmp(ocbuf_ptr(&ans), text, n) == 0)
		mark = (char)ocbuf_ptr(&ans)[n];
	ocbuf_free(&req);
	ocbuf_free(&ans);
	return mark;
}

/* ---- tags multiplexed across two front ends ------------------------------ */

struct caller {
	struct front *f;
	int id;
	int ok;
	pthread_t th;
};

static void *
caller_main(void *arg)
{
	struct caller *c = arg;
	char text[64];

	for (int i = 0; i < 25; i++) {
		/* sizes vary so that frames of several connections interleave mid-stream */
		snprintf(text, sizeof(text), "caller %d call %d %.*s", c->id, i, i,
		    "xxxxxxxxxxxxxxxxxxxxxxxxx");
		if (call(c->f, i % 2 ? OC_CA_MSG_ISSUE : OC_CA_MSG_PING, text) == 'A')
			c->ok++;
	}
	return NULL;
}

static void
test_tags_multiplexed(void **state)
{
	struct node n;
	struct front f[2];
	struct caller cs[8];

	(void)state;
	node_start(&n, 'A', 0, 0);
	front_start(&f[0], "front1", &n.port, 1, 0);    /* allowed by CN */
	front_start(&f[1], "front2", &n.port, 1, 0);    /* allowed by sha256 */
	for (int i = 0; i < 8; i++) {
		cs[i] = (struct caller){ .f = &f[i % 2], .id = i };
		assert_int_equal(pthread_create(&cs[i].th, NULL, caller_main, &cs[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(cs[i].th, NULL);
		assert_int_equal(cs[i].ok, 25);
	}
	/* both connectors' tags start at 1: only fresh tags keep them apart */
	assert_true(atomic_load(&n.echo.received) >= 200);
	front_stop(&f[0]);
	front_stop(&f[1]);
	node_stop(&n);
}

/* ---- a raw TLS client for what a connector never sends ------------------- */

static SSL *
raw_connect(const char *who, int port, SSL_CTX **ctxp, int *fdp)
{
	char cert[128], key[128], ca[128], name[64];
	struct sockaddr_in a = { .sin_family = AF_INET };
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;

	snprintf(name, sizeof(name), "%s.pem", who);
	path(cert, sizeof(cert), name);
	snprintf(name, sizeof(name), "%s.key", who);
	path(key, sizeof(key), name);
	path(ca, sizeof(ca), "linkca.pem");
	assert_non_null(ctx = SSL_CTX_new(TLS_client_method()));
	assert_int_equal(SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM), 1);
	assert_int_equal(SSL_CTX_load_verify_locations(ctx, ca, NULL), 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((fd = socket(AF_INET, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	{
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	assert_non_null(ssl = SSL_new(ctx));
	SSL_set_fd(ssl, fd);
	*ctxp = ctx;
	*fdp = fd;
	return ssl;
}

static void
raw_close(SSL *ssl, SSL_CTX *ctx, int fd)
{
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);
	ERR_clear_error();
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Send a frame header (+ payload), then: 1 if an answer came, 0 if the connection ended. */
static int
raw_exchange(SSL *ssl, uint32_t type, uint32_t len, const char *payload)
{
	uint8_t hdr[12], in[64];
	size_t got = 0;

	put32(hdr, type);
	put32(hdr + 4, 7);
	put32(hdr + 8, len);
	if (SSL_write(ssl, hdr, sizeof(hdr)) != (int)sizeof(hdr))
		return 0;
	if (payload != NULL && SSL_write(ssl, payload, (int)strlen(payload)) <= 0)
		return 0;
	while (got < 12) {
		int n = SSL_read(ssl, in + got, (int)(sizeof(in) - got));
		if (n <= 0)
			return 0;
		got += (size_t)n;
	}
	/* the answer carries our tag */
	return in[4] == 0 && in[5] == 0 && in[6] == 0 && in[7] == 7;
}

struct frame_case {
	const char *what;
	uint32_t type;
	uint32_t len;
	int answered;
};

static const struct frame_case frame_cases[] = {
	{ "PING with a payload", OC_CA_MSG_PING, 5, 1 },
	{ "CERT_STATUS", OC_CA_MSG_CERT_STATUS, 5, 1 },
	{ "unknown type 99", 99, 5, 0 },
	{ "RESULT sent by a front end", OC_CA_MSG_RESULT, 5, 0 },
	{ "length over OC_IPC_FRAME_MAX", OC_CA_MSG_ISSUE, OC_IPC_FRAME_MAX + 1, 0 },
	{ "length 0xffffffff", OC_CA_MSG_ISSUE, 0xffffffffu, 0 },
};

static void
test_bad_frames_dropped(void **state)
{
	struct node n;
	struct front f;

	(void)state;
	node_start(&n, 'A', 0, 0);
	for (size_t i = 0; i < sizeof(frame_cases) / sizeof(frame_cases[0]); i++) {
		const struct frame_case *fc = &frame_cases[i];
		SSL_CTX *ctx;
		int fd;
		SSL *ssl = raw_connect("front1", n.port, &ctx, &fd);

		assert_int_equal(SSL_connect(ssl), 1);
		/* a good frame first: the connection works */
		assert_int_equal(raw_exchange(ssl, OC_CA_MSG_PING, 5, "hello"), 1);
		if (raw_exchange(ssl, fc->type, fc->len, fc->len == 5 ? "hello" : NULL) !=
		    fc->answered)
			fail_msg("%s: answered is not %d", fc->what, fc->answered);
		if (!fc->answered && raw_exchange(ssl, OC_CA_MSG_PING, 5, "again") != 0)
			fail_msg("%s: the connection goes on", fc->what);
		raw_close(ssl, ctx, fd);
	}
	/* the listener serves on */
	front_start(&f, "front1", &n.port, 1, 0);
	assert_int_equal(call(&f, OC_CA_MSG_PING, "still there"), 'A');
	front_stop(&f);
	node_stop(&n);
}

/* ---- bounds ------------------------------------------------------------------- */

/* Write one PING frame (tag) without waiting for an answer. */
static void
raw_send(SSL *ssl, uint32_t tag)
{
	uint8_t hdr[12];

	put32(hdr, OC_CA_MSG_PING);
	put32(hdr + 4, tag);
	put32(hdr + 8, 0);
	assert_int_equal(SSL_write(ssl, hdr, sizeof(hdr)), (int)sizeof(hdr));
}

static void
test_bounds(void **state)
{
	struct node n;
	struct front f;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	char b;

	(void)state;
	/* in flight: at most 2 frames of one connection reach the CA */
	node_start_bounded(&n, 'A', 1, 0, 0, 2);
	ssl = raw_connect("front1", n.port, &ctx, &fd);
	assert_int_equal(SSL_connect(ssl), 1);
	for (uint32_t t = 1; t <= 5; t++)
		raw_send(ssl, t);
	usleep(300000);
	assert_int_equal(atomic_load(&n.echo.received), 2);
	raw_close(ssl, ctx, fd);
	node_stop(&n);

	/* connections: the second of max_conns = 1 is closed at once */
	node_start_bounded(&n, 'A', 0, 0, 1, 0);
	front_start(&f, "front1", &n.port, 1, 0);
	assert_int_equal(call(&f, OC_CA_MSG_PING, "one"), 'A');
	ssl = raw_connect("front1", n.port, &ctx, &fd);
	assert_true(SSL_connect(ssl) != 1 || SSL_read(ssl, &b, 1) <= 0);
	raw_close(ssl, ctx, fd);
	assert_int_equal(call(&f, OC_CA_MSG_PING, "still one"), 'A');
	front_stop(&f);
	node_stop(&n);
}

/* ---- refused front ends ---------------------------------------------------- */

static void
test_refused(void **state)
{
	static const char *const who[] = { "rogue", "front3" };
	struct node n;

	(void)state;
	node_start(&n, 'A', 0, 0);
	for (size_t i = 0; i < 2; i++) {
		SSL_CTX *ctx;
		int fd, answered = 0;
		SSL *ssl = raw_connect(who[i], n.port, &ctx, &fd);

		/* TLS 1.3: the refusal may come after the client's side of the handshake */
		if (SSL_connect(ssl) == 1)
			answered = raw_exchange(ssl, OC_CA_MSG_PING, 5, "hello");
		if (answered)
			fail_msg("%s: served", who[i]);
		raw_close(ssl, ctx, fd);
	}
	assert_int_equal(atomic_load(&n.echo.received), 0);
	node_stop(&n);
}

/* A connector whose certificate is refused answers with error results. */
static void
test_refused_connector_errors(void **state)
{
	struct node n;
	struct front f;
	struct oc_ca_client *cc;
	struct oc_ca_result res;

	(void)state;
	node_start(&n, 'A', 0, 0);
	front_start(&f, "front3", &n.port, 1, 0);
	assert_int_equal(oc_ca_client_new(f.front_fd, &cc), OC_OK);
	assert_int_equal(oc_ca_client_call(cc, OC_CA_MSG_PING, NULL, &res), OC_OK);
	assert_int_equal(res.disposition, OC_DISP_ERROR);
	assert_int_equal(res.hresult, OC_HR_RPC_S_SERVER_UNAVAILABLE);
	oc_ca_result_clear(&res);
	oc_ca_client_free(cc);
	assert_int_equal(atomic_load(&n.echo.received), 0);
	front_stop(&f);
	node_stop(&n);
}

/* ---- failover -------------------------------------------------------------- */

struct pending_call {
	struct front *f;
	char mark;
	pthread_t th;
};

static void *
pending_main(void *arg)
{
	struct pending_call *pc = arg;

	pc->mark = call(pc->f, OC_CA_MSG_ISSUE, "in flight");
	return NULL;
}

static void
test_failover_resends(void **state)
{
	struct node a, b;
	struct front f;
	struct pending_call pc;
	int ports[2];

	(void)state;
	node_start(&a, 'A', 1, 0);      /* takes frames, never answers */
	node_start(&b, 'B', 0, 0);
	ports[0] = a.port;
	ports[1] = b.port;
	front_start(&f, "front1", ports, 2, 0);
	pc = (struct pending_call){ .f = &f };
	assert_int_equal(pthread_create(&pc.th, NULL, pending_main, &pc), 0);
	/* the connector's PING and the order reached node A */
	for (int i = 0; i < 500 && atomic_load(&a.echo.received) < 2; i++)
		usleep(10000);
	assert_int_equal(atomic_load(&a.echo.received), 2);
	node_stop(&a);
	pthread_join(pc.th, NULL);
	assert_int_equal(pc.mark, 'B');
	assert_int_equal(call(&f, OC_CA_MSG_PING, "after"), 'B');
	front_stop(&f);
	node_stop(&b);
}

/* A node that takes frames and never answers is left after answer_seconds. */
static void
test_silent_node_left(void **state)
{
	struct node a, b;
	struct front f;
	int ports[2];
	double t0, t1;
	struct timespec ts;

	(void)state;
	node_start(&a, 'A', 1, 0);
	node_start(&b, 'B', 0, 0);
	ports[0] = a.port;
	ports[1] = b.port;
	front_start_answer(&f, "front1", ports, 2, 0, 1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	assert_int_equal(call(&f, OC_CA_MSG_ISSUE, "to a silent node"), 'B');
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t1 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	assert_true(t1 - t0 >= 1.0);
	/* node A saw the connector's PING and the order */
	assert_true(atomic_load(&a.echo.received) >= 2);
	front_stop(&f);
	node_stop(&a);
	node_stop(&b);
}

static void
test_nothing_reachable(void **state)
{
	struct node a;
	struct front f;
	struct oc_ca_client *cc;
	struct oc_ca_result res;
	struct oc_ca_cert_status st;
	struct oc_ca_order o;
	int ports[2];

	(void)state;
	node_start(&a, 'A', 0, 0);
	ports[0] = a.port;
	node_stop(&a);                  /* its port is closed now */
	node_start(&a, 'A', 0, 0);
	ports[1] = a.port;
	node_stop(&a);
	front_start(&f, "front1", ports, 2, 0);
	assert_int_equal(oc_ca_client_new(f.front_fd, &cc), OC_OK);
	memset(&o, 0, sizeof(o));
	o.request_id = 5;
	assert_int_equal(oc_ca_client_call(cc, OC_CA_MSG_QUERY, &o, &res), OC_OK);
	assert_int_equal(res.disposition, OC_DISP_ERROR);
	assert_int_equal(res.hresult, OC_HR_RPC_S_SERVER_UNAVAILABLE);
	assert_int_equal(res.request_id, 0);
	oc_ca_result_clear(&res);
	assert_int_equal(oc_ca_client_cert_status(cc, "0a1b", &st), OC_OK);
	assert_int_equal(st.status, OC_CERT_STATUS_ERROR);
	oc_ca_client_free(cc);
	front_stop(&f);
}

static void
test_back_to_preferred(void **state)
{
	struct node a, b;
	struct front f;
	int ports[2], port_a;
	char mark = 0;

	(void)state;
	node_start(&a, 'A', 0, 0);
	port_a = a.port;
	node_stop(&a);                  /* the preferred node is down at first */
	node_start(&b, 'B', 0, 0);
	ports[0] = port_a;
	ports[1] = b.port;
	front_start(&f, "front1", ports, 2, 1);
	assert_int_equal(call(&f, OC_CA_MSG_PING, "first"), 'B');
	node_start(&a, 'A', 0, port_a);
	for (int i = 0; i < 100 && mark != 'A'; i++) {
		mark = call(&f, OC_CA_MSG_PING, "which");
		assert_true(mark == 'A' || mark == 'B');
		usleep(50000);
	}
	assert_int_equal(mark, 'A');
	front_stop(&f);
	node_stop(&a);
	node_stop(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags_multiplexed),
		cmocka_unit_test(test_bad_frames_dropped),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_refused_connector_errors),
		cmocka_unit_test(test_failover_resends),
		cmocka_unit_test(test_silent_node_left),
		cmocka_unit_test(test_nothing_reachable),
		cmocka_unit_test(test_back_to_preferred),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
