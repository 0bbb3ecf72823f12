/*
 * The CA host's side of the link: accept front ends over mutual TLS, check
 * their certificates against the allow list, check every frame they send,
 * and multiplex the frames onto the one CA socketpair with fresh tags. The
 * CA answers each frame with its tag; the route table gives the connection
 * and the tag it came with. One poll loop, no threads.
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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <openssl/x509.h>

#include "common/limits.h"
#include "common/log.h"

struct lconn {
	struct cl_tls t;
	uint64_t id;
	double deadline;             /* end of the handshake */
	size_t inflight;             /* frames sent to the CA, not answered yet */
	char peer[OC_HTTP_PEER_MAX];
	char subject[OC_SUBJECT_MAX];
	struct cl_queue in, out;
};

/* A frame on its way to the CA: its tag there, and where its answer goes. */
struct route {
	uint32_t tag;
	uint32_t orig_tag;
	uint64_t conn_id;            /* 0: the connection is gone, the answer is dropped */
};

struct oc_calink_listener {
	SSL_CTX *ctx;
	int *lfds;
	size_t nl;
	char **allow;
	size_t nallow;
	size_t max_conns, inflight_max;
	int stop_fd;
	struct lconn **conns;
	size_t nconns;
	struct route *routes;
	size_t nroutes, routes_cap;
	uint32_t next_tag;
	uint64_t next_id;
	struct cl_queue ca_in, ca_out;
};

void
oc_calink_listener_free(struct oc_calink_listener *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->nconns; i++) {
		cl_tls_close(&l->conns[i]->t);
		cl_queue_free(&l->conns[i]->in);
		cl_queue_free(&l->conns[i]->out);
		free(l->conns[i]);
	}
	free(l->conns);
	for (size_t i = 0; i < l->nl; i++)
		if (l->lfds[i] >= 0)
			close(l->lfds[i]);
	free(l->lfds);
	for (size_t i = 0; i < l->nallow; i++)
		free(l->allow[i]);
	free(l->allow);
	free(l->routes);
	cl_queue_free(&l->ca_in);
	cl_queue_free(&l->ca_out);
	SSL_CTX_free(l->ctx);
	free(l);
}

int
oc_calink_listener_new(const struct oc_calink_listen_config *cfg,
    struct oc_calink_listener **lp)
{
	struct oc_calink_listener *l = NULL;
	int r = OC_ERR_NOMEM;

	*lp = NULL;
	if (cfg == NULL || cfg->nlisten == 0 || cfg->nallow > OC_CALINK_ALLOW_MAX)
		return OC_ERR_CONFIG;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return OC_ERR_NOMEM;
	l->stop_fd = cfg->stop_fd;
	l->next_tag = 1;
	l->next_id = 1;
	l->max_conns = cfg->max_conns ? cfg->max_conns : OC_CALINK_CONNS_MAX;
	l->inflight_max = cfg->inflight_max ? cfg->inflight_max : OC_CALINK_INFLIGHT_MAX;
	if (l->max_conns > OC_CALINK_CONNS_MAX)
		l->max_conns = OC_CALINK_CONNS_MAX;
	if (l->inflight_max > OC_CALINK_INFLIGHT_MAX)
		l->inflight_max = OC_CALINK_INFLIGHT_MAX;
	cl_queue_init(&l->ca_in, CL_HDR + OC_IPC_FRAME_MAX);
	cl_queue_init(&l->ca_out, OC_CALINK_QUEUE_BYTES + CL_HDR + OC_IPC_FRAME_MAX);
	l->routes_cap = l->max_conns * l->inflight_max;
	if ((l->routes = calloc(l->routes_cap, sizeof(*l->routes))) == NULL ||
	    (l->conns = calloc(l->max_conns, sizeof(*l->conns))) == NULL ||
	    (l->allow = calloc(cfg->nallow + 1, sizeof(*l->allow))) == NULL ||
	    (l->lfds = calloc(cfg->nlisten, sizeof(*l->lfds))) == NULL)
		goto out;
	for (size_t i = 0; i < cfg->nallow; i++) {
		if ((l->allow[i] = strdup(cfg->allow[i])) == NULL)
			goto out;
		l->nallow++;
	}
	if ((r = cl_tls_server_ctx(cfg->cert_file, cfg->key_file, cfg->client_ca_file,
	    &l->ctx)) != OC_OK)
		goto out;
	for (size_t i = 0; i < cfg->nlisten; i++)
		l->lfds[i] = -1;
	l->nl = cfg->nlisten;
	for (size_t i = 0; i < cfg->nlisten; i++)
		if ((r = cl_listen_socket(cfg->listen[i], &l->lfds[i])) != OC_OK)
			goto out;
	*lp = l;
	l = NULL;
	r = OC_OK;
out:
	oc_calink_listener_free(l);
	return r;
}

int
oc_calink_listener_port(const struct oc_calink_listener *l, size_t i)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (l == NULL || i >= l->nl || getsockname(l->lfds[i], (struct sockaddr *)&ss, &sl) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

static void
conn_close(struct oc_calink_listener *l, size_t i, const char *why)
{
	struct lconn *c = l->conns[i];
	size_t dropped = 0;

	for (size_t k = 0; k < l->nroutes; k++)
		if (l->routes[k].conn_id == c->id) {
			l->routes[k].conn_id = 0;
			dropped++;
		}
	if (why != NULL)
		log_info("calink: front end %s from %s: %s%s", c->subject[0] ? c->subject : "?",
		    c->peer, why, dropped ? " (its unanswered frames are dropped)" : "");
	cl_tls_close(&c->t);
	cl_queue_free(&c->in);
	cl_queue_free(&c->out);
	free(c);
	l->conns[i] = l->conns[--l->nconns];
	l->conns[l->nconns] = NULL;
}

static void
refuse(struct lconn *c, const char *reason)
{
	log_error("calink: refused front end %s from %s: %s", c->subject[0] ? c->subject : "(none)",
	    c->peer, reason);
	oc_audit("deny", "what", "ca_link", "subject", c->subject, "peer", c->peer,
	    "reason", reason, (char *)NULL);
}

static void
accept_all(struct oc_calink_listener *l, int lfd)
{
	for (;;) {
		struct lconn *c;
		int fd, one = 1;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;       /* EAGAIN, or EMFILE: the listener waits for the next turn */
		}
		if (l->nconns >= l->max_conns) {
			char peer[OC_HTTP_PEER_MAX];
			cl_peer_addr(fd, peer, sizeof(peer));
			log_error("calink: %zu front ends connected: refusing %s", l->nconns, peer);
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			return;
		}
		cl_peer_addr(fd, c->peer, sizeof(c->peer));
		if (cl_tls_new(l->ctx, fd, 1, &c->t) != OC_OK) {
			cl_tls_close(&c->t);
			free(c);
			continue;
		}
		c->id = l->next_id++;
		c->deadline = cl_now() + OC_CALINK_HANDSHAKE_SECONDS;
		cl_queue_init(&c->in, CL_HDR + OC_IPC_FRAME_MAX);
		cl_queue_init(&c->out, (size_t)-1);     /* bounded by inflight_max answers */
		l->conns[l->nconns++] = c;
	}
}

/* The handshake is over: is this front end one we serve? */
static int
check_peer(struct oc_calink_listener *l, struct lconn *c)
{
	X509 *x = SSL_get0_peer_certificate(c->t.ssl);
	long vr = SSL_get_verify_result(c->t.ssl);

	cl_subject(x, c->subject, sizeof(c->subject));
	if (x == NULL || vr != X509_V_OK) {
		refuse(c, x == NULL ? "no certificate" : X509_verify_cert_error_string(vr));
		return 0;
	}
	if (!cl_allowed(x, (const char *const *)l->allow, l->nallow)) {
		refuse(c, "not allowed");
		return 0;
	}
	log_info("calink: front end %s connected from %s", c->subject, c->peer);
	oc_audit("auth", "method", "ca_link", "subject", c->subject, "peer", c->peer,
	    (char *)NULL);
	return 1;
}

/* New tag for the CA side: non-zero, not in use. */
static uint32_t
fresh_tag(struct oc_calink_listener *l)
{
	for (;;) {
		uint32_t t = l->next_tag++;
		int used = 0;
		if (t == 0)
			continue;
		for (size_t k = 0; k < l->nroutes && !used; k++)
			used = l->routes[k].tag == t;
		if (!used)
			return t;
	}
}

/* Frames the front end sent, to the CA. Returns a reason to close, or NULL. */
static const char *
forward_frames(struct oc_calink_listener *l, struct lconn *c)
{
	uint32_t type, tag;
	const uint8_t *p;
	size_t len;
	int r;

	while (c->inflight < l->inflight_max && l->nroutes < l->routes_cap &&
	    cl_queue_len(&l->ca_out) < OC_CALINK_QUEUE_BYTES) {
		if ((r = cl_frame_peek(&c->in, &type, &tag, &p, &len)) == 0)
			return NULL;
		if (r < 0)
			return "oversized frame: connection dropped";
		if (!oc_calink_type_known(type)) {
			log_error("calink: front end %s sent frame type %u", c->subject, type);
			return "unknown frame type: connection dropped";
		}
		struct route *rt = &l->routes[l->nroutes];
		rt->tag = fresh_tag(l);
		rt->orig_tag = tag;
		rt->conn_id = c->id;
		if (cl_frame_put(&l->ca_out, type, rt->tag, p, len) != OC_OK)
			return "out of memory";
		l->nroutes++;
		c->inflight++;
		cl_queue_consume(&c->in, CL_HDR + len);
	}
	return NULL;
}

/*
 * Does connection c get read? Not while it has its fill of unanswered frames,
 * a whole frame waits in its buffer, or the CA's queue is full (then it waits,
 * and so does its peer: TCP flow control).
 */
static int
conn_reading(const struct oc_calink_listener *l, const struct lconn *c)
{
	return c->inflight < l->inflight_max && cl_queue_len(&c->in) < c->in.max &&
	    cl_queue_len(&l->ca_out) < OC_CALINK_QUEUE_BYTES && l->nroutes < l->routes_cap;
}

/* One turn for connection i; returns 0 when it was closed. */
static int
conn_step(struct oc_calink_listener *l, size_t i, double now)
{
	struct lconn *c = l->conns[i];
	const char *why = NULL;
	int r;

	if (!c->t.handshaken) {
		if ((r = cl_tls_handshake(&c->t)) < 0) {
			const char *s = cl_tls_failed_subject(c->t.ssl);
			long vr = SSL_get_verify_result(c->t.ssl);
			snprintf(c->subject, sizeof(c->subject), "%s", s);
			if (vr != X509_V_OK)
				refuse(c, X509_verify_cert_error_string(vr));
			else if (r != OC_ERR_EOF)
				refuse(c, "TLS handshake failed");
			cl_tls_log_errors("handshake");
			conn_close(l, i, NULL);
			return 0;
		}
		if (r == 0) {
			if (now > c->deadline) {
				conn_close(l, i, "handshake timed out");
				return 0;
			}
			return 1;
		}
		if (!check_peer(l, c)) {
			conn_close(l, i, NULL);
			return 0;
		}
	}
	if (conn_reading(l, c)) {
		if ((r = cl_tls_read(&c->t, &c->in)) != OC_OK)
			why = r == OC_ERR_EOF ? "disconnected" : "connection broken";
	}
	/* (a connection that has ended has no use for answers: nothing more is sent) */
	if (why == NULL)
		why = forward_frames(l, c);
	if (why == NULL && (r = cl_tls_write(&c->t, &c->out)) != OC_OK)
		why = "connection broken";
	if (why != NULL) {
		conn_close(l, i, why);
		return 0;
	}
	return 1;
}

/* Answers from the CA, each to the connection and tag its frame came with. */
static int
route_answers(struct oc_calink_listener *l)
{
	uint32_t type, tag;
	const uint8_t *p;
	size_t len;
	int r;

	while ((r = cl_frame_peek(&l->ca_in, &type, &tag, &p, &len)) == 1) {
		size_t k;
		for (k = 0; k < l->nroutes; k++)
			if (l->routes[k].tag == tag)
				break;
		if (k == l->nroutes) {
			log_error("calink: CA answer with unknown tag %u", tag);
		} else {
			struct route rt = l->routes[k];
			l->routes[k] = l->routes[--l->nroutes];
			for (size_t i = 0; rt.conn_id != 0 && i < l->nconns; i++)
				if (l->conns[i]->id == rt.conn_id) {
					struct lconn *c = l->conns[i];
					c->inflight--;
					if (cl_frame_put(&c->out, type, rt.orig_tag, p, len) != OC_OK)
						log_error("calink: answer to %s lost", c->subject);
					break;
				}
		}
		cl_queue_consume(&l->ca_in, CL_HDR + len);
	}
	return r < 0 ? OC_ERR_IPC : OC_OK;
}

static int
poll_timeout(const struct oc_calink_listener *l, double now)
{
	double t = 1.0;

	for (size_t i = 0; i < l->nconns; i++)
		if (!l->conns[i]->t.handshaken && l->conns[i]->deadline - now < t)
			t = l->conns[i]->deadline - now;
	return t <= 0 ? 0 : (int)(t * 1000) + 1;
}

int
oc_calink_listener_run(struct oc_calink_listener *l, int ca_fd)
{
	struct pollfd *pfd = NULL;
	struct sigaction sa;
	size_t np;
	int r;

	if (l == NULL || ca_fd < 0)
		return OC_ERR_INVALID;
	if ((r = cl_set_nonblock(ca_fd)) != OC_OK)
		return r;
	/* a peer closing early must not kill us on write (OpenSSL writes with write(2)) */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if ((pfd = calloc(2 + l->nl + l->max_conns, sizeof(*pfd))) == NULL)
		return OC_ERR_NOMEM;
	log_info("calink: listening for front ends (%zu address%s)", l->nl,
	    l->nl == 1 ? "" : "es");
	for (;;) {
		double now = cl_now();

		np = 0;
		pfd[np++] = (struct pollfd){ .fd = l->stop_fd, .events = POLLIN };
		pfd[np++] = (struct pollfd){ .fd = ca_fd, .events = (short)(POLLIN |
		    (cl_queue_len(&l->ca_out) ? POLLOUT : 0)) };
		for (size_t i = 0; i < l->nl; i++)
			pfd[np++] = (struct pollfd){ .fd = l->lfds[i], .events = POLLIN };
		for (size_t i = 0; i < l->nconns; i++) {
			struct lconn *c = l->conns[i];
			pfd[np++] = (struct pollfd){ .fd = c->t.fd, .events = cl_tls_events(&c->t,
			    conn_reading(l, c), cl_queue_len(&c->out) > 0) };
		}
		if (poll(pfd, np, poll_timeout(l, now)) < 0 && errno != EINTR) {
			r = OC_ERR_IO;
			break;
		}
		if (l->stop_fd >= 0 && (pfd[0].revents & (POLLIN | POLLHUP))) {
			r = OC_OK;
			break;
		}
		/* the CA's answers */
		r = cl_fd_read(ca_fd, &l->ca_in);
		if (r == OC_ERR_EOF) {
			log_info("calink: the CA closed its socket");
			r = OC_OK;
			break;
		}
		if (r != OC_OK || (r = route_answers(l)) != OC_OK) {
			log_error("calink: CA socket broken");
			r = OC_ERR_IPC;
			break;
		}
		for (size_t i = 0; i < l->nl; i++)
			accept_all(l, l->lfds[i]);
		now = cl_now();
		for (size_t i = 0; i < l->nconns; )
			if (conn_step(l, i, now))
				i++;
		if ((r = cl_fd_write(ca_fd, &l->ca_out)) != OC_OK) {
			log_error("calink: CA socket broken");
			break;
		}
	}
	free(pfd);
	return r;
}
