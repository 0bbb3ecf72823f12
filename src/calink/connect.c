/*
 * The front host's side of the link: the other end of the front's CA
 * socketpair. Every frame of the front is kept until its answer came back
 * (pending), sent on the connection to the CA node in use, and sent again
 * on the next node when that connection breaks. When every node failed in
 * a row, the frames waiting are answered here with an error result, and so
 * is every new one until a node answers again. A connection to a preferred
 * node is tried every retry_seconds; once it is up, new frames go there and
 * the old connection is closed when its last answer is in. One poll loop.
 */
#include "calink/calink.h"
#include "calink/calink_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "common/limits.h"
#include "common/log.h"
#include "ipc/ca_proto.h"
#include "model/hresult.h"

#define CL_BACKOFF_MAX 8.0

struct nconn {
	struct cl_tls t;
	size_t node;
	int connected;               /* TCP connected */
	int proven;                  /* the node answered our PING (tag 0) */
	double deadline;             /* end of connect + handshake */
	struct cl_queue in, out;
};

struct pend {
	uint32_t type, tag;
	uint8_t *payload;
	size_t len;
	struct nconn *sent_on;       /* NULL: to be sent on the connection in use */
	double sent_at;
	unsigned sends;              /* how many connections it was sent on */
};

struct oc_calink_connector {
	SSL_CTX *ctx;
	char **nodes;
	size_t nnodes;
	int connect_timeout, retry_seconds, answer_seconds, stop_fd;
	struct nconn *cur;           /* the node in use (or being connected to) */
	struct nconn *cand;          /* a preferred node being tried */
	struct nconn *old;           /* left for a preferred node: its last answers */
	size_t next;                 /* the node to try when cur is gone */
	size_t failed;               /* nodes failed in a row */
	int all_failed;              /* every node failed; no node since */
	double backoff, backoff_until, last_retry;
	size_t cand_next;
	struct pend *pend;
	size_t npend;
	struct cl_queue fin, fout;
};

void
oc_calink_connector_free(struct oc_calink_connector *c)
{
	if (c == NULL)
		return;
	SSL_CTX_free(c->ctx);
	for (size_t i = 0; i < c->nnodes; i++)
		free(c->nodes[i]);
	free(c->nodes);
	for (size_t i = 0; i < c->npend; i++)
		free(c->pend[i].payload);
	free(c->pend);
	cl_queue_free(&c->fin);
	cl_queue_free(&c->fout);
	free(c);
}

int
oc_calink_connector_new(const struct oc_calink_connect_config *cfg,
    struct oc_calink_connector **cp)
{
	struct oc_calink_connector *c = NULL;
	char host[256], port[8];
	int r = OC_ERR_NOMEM;

	*cp = NULL;
	if (cfg == NULL || cfg->nnodes == 0 || cfg->nnodes > OC_CALINK_NODES_MAX)
		return OC_ERR_CONFIG;
	for (size_t i = 0; i < cfg->nnodes; i++)
		if (cl_addr_split(cfg->nodes[i], host, sizeof(host), port, sizeof(port)) != OC_OK) {
			log_error("calink: bad CA node address %s", cfg->nodes[i]);
			return OC_ERR_CONFIG;
		}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OC_ERR_NOMEM;
	c->stop_fd = cfg->stop_fd;
	c->connect_timeout = cfg->connect_timeout > 0 ? cfg->connect_timeout :
	    OC_CALINK_CONNECT_TIMEOUT_DEFAULT;
	c->retry_seconds = cfg->retry_seconds > 0 ? cfg->retry_seconds : OC_CALINK_RETRY_SECONDS;
	c->answer_seconds = cfg->answer_seconds > 0 ? cfg->answer_seconds :
	    OC_CALINK_ANSWER_SECONDS;
	c->backoff = 0.5;
	cl_queue_init(&c->fin, CL_HDR + OC_IPC_FRAME_MAX);
	cl_queue_init(&c->fout, (size_t)-1);       /* bounded by the pending frames' answers */
	if ((c->nodes = calloc(cfg->nnodes, sizeof(*c->nodes))) == NULL ||
	    (c->pend = calloc(OC_CALINK_PENDING_MAX, sizeof(*c->pend))) == NULL)
		goto out;
	for (size_t i = 0; i < cfg->nnodes; i++) {
		if ((c->nodes[i] = strdup(cfg->nodes[i])) == NULL)
			goto out;
		c->nnodes++;
	}
	if ((r = cl_tls_client_ctx(cfg->cert_file, cfg->key_file, cfg->server_ca_file,
	    &c->ctx)) != OC_OK)
		goto out;
	*cp = c;
	c = NULL;
	r = OC_OK;
out:
	oc_calink_connector_free(c);
	return r;
}

static void
nconn_free(struct nconn *n)
{
	if (n == NULL)
		return;
	cl_tls_close(&n->t);
	cl_queue_free(&n->in);
	cl_queue_free(&n->out);
	free(n);
}

/* Start a connection to node i: TCP connect, then the handshake checking the node's name. */
static int
nconn_start(struct oc_calink_connector *c, size_t i, double now, struct nconn **np)
{
	struct nconn *n = NULL;
	unsigned char ip[16];
	char host[256], port[8];
	int fd = -1, r;

	*np = NULL;
	if ((r = cl_addr_split(c->nodes[i], host, sizeof(host), port, sizeof(port))) != OC_OK)
		return r;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return OC_ERR_NOMEM;
	n->t.fd = -1;
	n->node = i;
	n->deadline = now + c->connect_timeout;
	cl_queue_init(&n->in, CL_HDR + OC_IPC_FRAME_MAX);
	cl_queue_init(&n->out, (size_t)-1);        /* bounded by the pending frames */
	if ((r = cl_connect_start(c->nodes[i], &fd)) != OC_OK)
		goto out;
	if ((r = cl_tls_new(c->ctx, fd, 0, &n->t)) != OC_OK) {
		close(fd);
		n->t.fd = -1;
		goto out;
	}
	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(n->t.ssl), host) != 1)
			r = OC_ERR_CRYPTO;
	} else if (X509_VERIFY_PARAM_set1_host(SSL_get0_param(n->t.ssl), host, 0) != 1 ||
	    SSL_set_tlsext_host_name(n->t.ssl, host) != 1)
		r = OC_ERR_CRYPTO;
	if (r != OC_OK)
		goto out;
	*np = n;
	n = NULL;
out:
	nconn_free(n);
	return r;
}

/* Answer one pending frame here: the CA is not reachable. */
static int
answer_error(struct oc_calink_connector *c, const struct pend *p)
{
	struct oc_ca_result res;
	struct oc_ca_cert_status st = { .status = OC_CERT_STATUS_ERROR };
	struct ocbuf b;
	uint32_t type = OC_CA_MSG_RESULT;
	int r;

	memset(&res, 0, sizeof(res));
	ocbuf_init(&b, OC_IPC_FRAME_MAX);
	res.disposition = OC_DISP_ERROR;
	res.hresult = OC_HR_RPC_S_SERVER_UNAVAILABLE;
	res.message = (char *)"The certification authority is not available";
	if (p->type == OC_CA_MSG_CERT_STATUS) {
		type = OC_CA_MSG_STATUS_RESULT;
		r = oc_ca_cert_status_encode(&st, &b);
	} else
		r = oc_ca_result_encode(&res, &b);
	if (r == OC_OK)
		r = cl_frame_put(&c->fout, type, p->tag, ocbuf_ptr(&b), ocbuf_avail(&b));
	ocbuf_free(&b);
	return r;
}

static void
pend_remove(struct oc_calink_connector *c, size_t i)
{
	free(c->pend[i].payload);
	memmove(&c->pend[i], &c->pend[i + 1], (c->npend - i - 1) * sizeof(c->pend[0]));
	c->npend--;
}

/* Every node failed: answer the frames no connection carries. */
static int
fail_waiting(struct oc_calink_connector *c)
{
	int r;

	for (size_t i = 0; i < c->npend; )
		if (c->pend[i].sent_on == NULL) {
			if ((r = answer_error(c, &c->pend[i])) != OC_OK)
				return r;
			pend_remove(c, i);
		} else
			i++;
	return OC_OK;
}

/* Connection n is gone: its frames wait for the connection in use. */
static void
nconn_lost(struct oc_calink_connector *c, struct nconn *n, const char *why, double now)
{
	const char *vr = NULL;

	if (n->t.ssl != NULL && SSL_get_verify_result(n->t.ssl) != X509_V_OK)
		vr = X509_verify_cert_error_string(SSL_get_verify_result(n->t.ssl));
	log_error("calink: CA node %s: %s%s%s", c->nodes[n->node], why, vr ? ": " : "",
	    vr ? vr : "");
	cl_tls_log_errors(c->nodes[n->node]);
	for (size_t i = 0; i < c->npend; i++)
		if (c->pend[i].sent_on == n)
			c->pend[i].sent_on = NULL;
	if (n == c->cand) {
		c->cand = NULL;
		c->cand_next++;
	} else if (n == c->old) {
		c->old = NULL;
	} else if (n == c->cur) {
		c->cur = NULL;
		c->next = (n->node + 1) % c->nnodes;
		if (++c->failed >= c->nnodes) {
			log_error("calink: no CA node reachable (%zu tried); retrying in %.1f s",
			    c->nnodes, c->backoff);
			c->all_failed = 1;
			c->failed = 0;
			c->next = 0;
			c->backoff_until = now + c->backoff;
			c->backoff = c->backoff * 2 > CL_BACKOFF_MAX ? CL_BACKOFF_MAX : c->backoff * 2;
		}
	}
	nconn_free(n);
}

/* Queue the frames waiting for a connection on cur (up). */
static int
send_waiting(struct oc_calink_connector *c)
{
	struct nconn *n = c->cur;
	size_t again = 0;
	int r;

	for (size_t i = 0; i < c->npend; i++) {
		struct pend *p = &c->pend[i];
		if (p->sent_on != NULL)
			continue;
		if ((r = cl_frame_put(&n->out, p->type, p->tag, p->payload, p->len)) != OC_OK)
			return r;
		p->sent_on = n;
		p->sent_at = cl_now();
		if (p->sends++ > 0)
			again++;
	}
	if (again > 0)
		log_info("calink: %zu unanswered frame%s sent again, to CA node %s", again,
		    again == 1 ? "" : "s", c->nodes[n->node]);
	return OC_OK;
}

/*
 * The node answered: it accepted our certificate (with TLS 1.3 a refusal
 * only shows after the handshake) and its CA is there.
 */
static void
node_proven(struct oc_calink_connector *c, struct nconn *n)
{
	n->proven = 1;
	log_info("calink: connected to CA node %s", c->nodes[n->node]);
	if (n == c->cur) {
		c->failed = 0;
		c->all_failed = 0;
		c->backoff = 0.5;
	}
}

/* Answers on n, to the front (with the tag of the frame: the connector keeps tags). */
static int
take_answers(struct oc_calink_connector *c, struct nconn *n)
{
	uint32_t type, tag;
	const uint8_t *p;
	size_t len, i;
	int r;

	while ((r = cl_frame_peek(&n->in, &type, &tag, &p, &len)) == 1) {
		if (tag == 0) {              /* our PING: the node serves us */
			if (!n->proven)
				node_proven(c, n);
			cl_queue_consume(&n->in, CL_HDR + len);
			continue;
		}
		for (i = 0; i < c->npend; i++)
			if (c->pend[i].tag == tag && c->pend[i].sent_on == n)
				break;
		if (i == c->npend)
			log_error("calink: CA node %s: answer with unknown tag %u", c->nodes[n->node],
			    tag);
		else {
			if ((r = cl_frame_put(&c->fout, type, tag, p, len)) != OC_OK)
				return r;
			pend_remove(c, i);
		}
		cl_queue_consume(&n->in, CL_HDR + len);
	}
	return r < 0 ? OC_ERR_LIMIT : OC_OK;
}

static int overdue_on(const struct oc_calink_connector *c, const struct nconn *n, double now);

/* Is the TCP connect of n done (1), still going (0), or failed (<0)? */
static int
tcp_done(struct nconn *n)
{
	struct pollfd p = { .fd = n->t.fd, .events = POLLOUT };
	socklen_t sl = sizeof(int);
	int err = 0;

	if (poll(&p, 1, 0) <= 0)
		return 0;
	if (getsockopt(n->t.fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err != 0)
		return OC_ERR_UNAVAILABLE;
	return 1;
}

/* One turn of connection n; returns a reason when it is lost, else NULL. */
static const char *
nconn_step(struct oc_calink_connector *c, struct nconn *n, double now)
{
	int r;

	if (!n->connected) {
		if ((r = tcp_done(n)) < 0)
			return "unreachable";
		if (r == 0)
			return now > n->deadline ? "connect timed out" : NULL;
		n->connected = 1;
	}
	if (!n->t.handshaken) {
		if ((r = cl_tls_handshake(&n->t)) < 0)
			return "TLS handshake failed";
		if (r == 0)
			return now > n->deadline ? "TLS handshake timed out" : NULL;
		/* a PING first (tag 0, never a front end's): its answer proves the node */
		if (cl_frame_put(&n->out, OC_CA_MSG_PING, 0, NULL, 0) != OC_OK)
			return "out of memory";
		if (n == c->cur) {
			c->last_retry = now;
			c->cand_next = 0;
			if (send_waiting(c) != OC_OK)
				return "out of memory";
		}
	}
	if ((r = cl_tls_read(&n->t, &n->in)) != OC_OK)
		return r == OC_ERR_EOF ? "connection closed" : "connection broken";
	if (take_answers(c, n) != OC_OK)
		return "malformed answer";
	if (cl_tls_write(&n->t, &n->out) != OC_OK)
		return "connection broken";
	if (overdue_on(c, n, now))
		return "a frame unanswered for too long";
	return NULL;
}

/* Has n kept a frame unanswered for OC_CALINK_ANSWER_SECONDS (a node that hangs)? */
static int
overdue_on(const struct oc_calink_connector *c, const struct nconn *n, double now)
{
	for (size_t i = 0; i < c->npend; i++)
		if (c->pend[i].sent_on == n && now - c->pend[i].sent_at > c->answer_seconds)
			return 1;
	return 0;
}

static int
has_pending_on(const struct oc_calink_connector *c, const struct nconn *n)
{
	for (size_t i = 0; i < c->npend; i++)
		if (c->pend[i].sent_on == n)
			return 1;
	return 0;
}

/* Connections to start: the node in use, or a preferred one now and then. */
static void
start_connections(struct oc_calink_connector *c, double now)
{
	struct nconn *n = NULL;

	while (c->cur == NULL && now >= c->backoff_until) {
		size_t i = c->next;
		if (nconn_start(c, i, now, &n) == OC_OK) {
			c->cur = n;
			break;
		}
		/* not even a socket: the next node */
		log_error("calink: CA node %s: cannot connect", c->nodes[i]);
		if ((n = calloc(1, sizeof(*n))) == NULL)
			return;
		n->t.fd = -1;
		n->node = i;
		c->cur = n;
		nconn_lost(c, n, "unreachable", now);
	}
	if (c->cur != NULL && c->cur->proven && c->cur->node > 0 && c->cand == NULL &&
	    c->old == NULL) {
		if (c->cand_next >= c->cur->node)
			c->cand_next = 0;        /* a round over every preferred node failed */
		if (c->cand_next == 0) {
			if (now - c->last_retry < c->retry_seconds)
				return;
			c->last_retry = now;
		}
		if (nconn_start(c, c->cand_next, now, &n) == OC_OK)
			c->cand = n;
		else
			c->cand_next++;
	}
}

/* The preferred node is up: new frames go there; the old one drains. */
static int
switch_to_cand(struct oc_calink_connector *c)
{
	log_info("calink: back to the preferred CA node %s", c->nodes[c->cand->node]);
	c->old = c->cur;
	c->cur = c->cand;
	c->cand = NULL;
	c->cand_next = 0;
	if (!has_pending_on(c, c->old)) {
		nconn_free(c->old);
		c->old = NULL;
	}
	return send_waiting(c);
}

/* Frames of the front: kept until answered, sent when a node is up. */
static int
take_frames(struct oc_calink_connector *c)
{
	uint32_t type, tag;
	const uint8_t *p;
	size_t len;
	int r;

	while (c->npend < OC_CALINK_PENDING_MAX &&
	    (r = cl_frame_peek(&c->fin, &type, &tag, &p, &len)) != 0) {
		struct pend *pe = &c->pend[c->npend];
		if (r < 0) {
			log_error("calink: oversized frame from the front end");
			return OC_ERR_IPC;
		}
		if (tag == 0) {              /* no answer expected: nothing to keep */
			if (c->cur != NULL && c->cur->proven &&
			    (r = cl_frame_put(&c->cur->out, type, tag, p, len)) != OC_OK)
				return r;
			cl_queue_consume(&c->fin, CL_HDR + len);
			continue;
		}
		memset(pe, 0, sizeof(*pe));
		pe->type = type;
		pe->tag = tag;
		pe->len = len;
		if (len > 0 && (pe->payload = malloc(len)) == NULL)
			return OC_ERR_NOMEM;
		if (len > 0)
			memcpy(pe->payload, p, len);
		cl_queue_consume(&c->fin, CL_HDR + len);
		c->npend++;
		if (c->cur != NULL && c->cur->t.handshaken) {
			if ((r = cl_frame_put(&c->cur->out, type, tag, pe->payload, len)) != OC_OK)
				return r;
			pe->sent_on = c->cur;
			pe->sent_at = cl_now();
			pe->sends = 1;
		} else if (c->all_failed) {
			if ((r = answer_error(c, pe)) != OC_OK)
				return r;
			pend_remove(c, c->npend - 1);
		}
	}
	return OC_OK;
}

static void
add_poll(struct pollfd *pfd, size_t *np, const struct oc_calink_connector *c,
    const struct nconn *n)
{
	short ev;

	if (n == NULL || n->t.fd < 0)
		return;
	ev = !n->connected ? POLLOUT : cl_tls_events(&n->t, 1, cl_queue_len(&n->out) > 0);
	pfd[(*np)++] = (struct pollfd){ .fd = n->t.fd, .events = ev };
	(void)c;
}

int
oc_calink_connector_run(struct oc_calink_connector *c, int front_fd)
{
	struct pollfd pfd[5];
	struct sigaction sa;
	int r = OC_OK;

	if (c == NULL || front_fd < 0)
		return OC_ERR_INVALID;
	if ((r = cl_set_nonblock(front_fd)) != OC_OK)
		return r;
	/* a peer closing early must not kill us on write (OpenSSL writes with write(2)) */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	for (;;) {
		double now = cl_now();
		struct nconn *conns[3];
		size_t np = 0;
		const char *why;

		start_connections(c, now);
		pfd[np++] = (struct pollfd){ .fd = c->stop_fd, .events = POLLIN };
		pfd[np++] = (struct pollfd){ .fd = front_fd, .events = (short)(
		    (c->npend < OC_CALINK_PENDING_MAX ? POLLIN : 0) |
		    (cl_queue_len(&c->fout) ? POLLOUT : 0)) };
		add_poll(pfd, &np, c, c->cur);
		add_poll(pfd, &np, c, c->cand);
		add_poll(pfd, &np, c, c->old);
		if (poll(pfd, np, c->cur == NULL ? 100 : 250) < 0 && errno != EINTR) {
			r = OC_ERR_IO;
			break;
		}
		if (c->stop_fd >= 0 && (pfd[0].revents & (POLLIN | POLLHUP)))
			break;
		now = cl_now();
		if (c->npend < OC_CALINK_PENDING_MAX) {
			r = cl_fd_read(front_fd, &c->fin);
			if (r == OC_ERR_EOF) {
				r = OC_OK;
				break;
			}
			if (r != OC_OK || (r = take_frames(c)) != OC_OK)
				break;
		}
		conns[0] = c->cur;
		conns[1] = c->cand;
		conns[2] = c->old;
		for (size_t i = 0; i < 3; i++) {
			struct nconn *n = conns[i];
			if (n == NULL)
				continue;
			if ((why = nconn_step(c, n, now)) != NULL)
				nconn_lost(c, n, why, now);
			else if (n == c->cand && n->proven && (r = switch_to_cand(c)) != OC_OK)
				goto out;
			else if (n == c->old && !has_pending_on(c, n)) {
				nconn_free(n);
				c->old = NULL;
			}
		}
		if (c->all_failed && (r = fail_waiting(c)) != OC_OK)
			break;
		if ((r = cl_fd_write(front_fd, &c->fout)) != OC_OK) {
			log_error("calink: front end socket broken");
			break;
		}
	}
out:
	nconn_free(c->cur);
	nconn_free(c->cand);
	nconn_free(c->old);
	c->cur = c->cand = c->old = NULL;
	return r;
}
