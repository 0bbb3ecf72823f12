/*
 * The HTTPS server: cfg.loops event-loop threads, each with its own
 * event_base and one evhttp (OpenSSL bufferevents) per listener on the
 * listener's one shared socket. The loops take turns at accepting: the loop
 * whose turn it is has its listeners enabled, accepts one connection,
 * disables them and passes the turn on (round robin; nobody accepts while
 * the server-wide connection cap is reached). A connection stays on the loop
 * that accepted it. Each complete request is copied into a job for the one
 * worker pool, and the reply is sent back from the job's loop thread.
 *
 * Request lifetime (libevent 2.1): a request we have not answered yet stays
 * valid until we call evhttp_send_reply; if the peer goes away meanwhile,
 * libevent either detaches it from the connection (we must free it) or frees
 * it with the connection, which our close callback notices (job->ev = NULL).
 */
#include "http/http_int.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "common/log.h"

#define HTTP_DEFAULT_CONTENT_TYPE "application/soap+xml; charset=utf-8"
#define HTTP_WORKERS_MAX          256
#define HTTP_LISTEN_BACKLOG       128
/* Largest TLS record payload: a reply up to this size leaves in one record. */
#define HTTP_TLS_RECORD_MAX       16384

static pthread_once_t http_evthread_once = PTHREAD_ONCE_INIT;
static int http_evthread_ok;

static void
http_evthread_init(void)
{
	http_evthread_ok = evthread_use_pthreads() == 0;
}

/* ---- replies ------------------------------------------------------------ */

/* An empty reply from the loop thread (errors, 503, 405). */
static void
http_reply_simple(struct evhttp_request *ev, int status, const char *hname,
    const char *hvalue, int close_conn)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(ev);

	evhttp_add_header(out, "Content-Length", "0");
	if (hname != NULL)
		evhttp_add_header(out, hname, hvalue);
	if (close_conn)
		evhttp_add_header(out, "Connection", "close");
	evhttp_send_reply(ev, status, NULL, NULL);
}

static void
http_reply_busy(struct evhttp_request *ev, int close_conn)
{
	char ra[16];

	snprintf(ra, sizeof(ra), "%d", OC_HTTP_RETRY_AFTER_SECONDS);
	http_reply_simple(ev, 503, "Retry-After", ra, close_conn);
}

static void
http_maybe_drained(struct http_loop *loop)
{
	if (loop->stopping && loop->inflight == 0)
		event_base_loopbreak(loop->base);
}

/* The job is over (reply written, or the peer is gone). */
static void
http_job_finish(struct http_job *job)
{
	struct http_loop *loop = job->loop;

	if (job->conn != NULL)
		job->conn->job = NULL;
	http_job_free(job);
	if (loop->inflight > 0)
		loop->inflight--;
	http_maybe_drained(loop);
}

static void
http_reply_complete_cb(struct evhttp_request *ev, void *arg)
{
	struct http_job *job = arg;

	job->ev = NULL;         /* libevent frees it after this callback */
	http_job_finish(job);
}

static int
http_header_reserved(const char *name)
{
	return strcasecmp(name, "Content-Length") == 0 ||
	    strcasecmp(name, "Content-Type") == 0 ||
	    strcasecmp(name, "Transfer-Encoding") == 0 ||
	    strcasecmp(name, "Connection") == 0;
}

static void
http_send_job_reply(struct http_job *job)
{
	struct oc_http_response *resp = &job->resp;
	struct evhttp_request *ev = job->ev;
	struct evkeyvalq *out = evhttp_request_get_output_headers(ev);
	struct bufferevent *bev;
	struct evbuffer *buf = NULL, *wire;
	char cl[32];
	size_t i, len;
	int status = resp->status;

	if (status < 200 || status > 599) {
		log_error("handler returned HTTP status %d", status);
		status = 500;
		ocbuf_reset(&resp->body);
	}
	len = ocbuf_avail(&resp->body);
	if ((buf = evbuffer_new()) == NULL ||
	    evbuffer_add(buf, ocbuf_ptr(&resp->body), len) != 0) {
		evbuffer_free(buf);
		job->ev = NULL;
		http_reply_simple(ev, 500, NULL, NULL, 1);
		http_job_finish(job);
		return;
	}
	evhttp_add_header(out, "Content-Type",
	    resp->content_type ? resp->content_type : HTTP_DEFAULT_CONTENT_TYPE);
	snprintf(cl, sizeof(cl), "%zu", len);
	evhttp_add_header(out, "Content-Length", cl);
	for (i = 0; i < resp->nheaders; i++) {
		if (http_header_reserved(resp->headers[i].name))
			continue;
		if (evhttp_add_header(out, resp->headers[i].name,
		    resp->headers[i].value) != 0)
			log_warn("response header %s dropped", resp->headers[i].name);
	}
	job->sending = 1;
	bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(ev));
	evhttp_request_set_on_complete_cb(ev, http_reply_complete_cb, job);
	evhttp_send_reply(ev, status, NULL, buf);
	evbuffer_free(buf);
	/*
	 * evhttp queued the head and the body as separate chains, and the
	 * OpenSSL bufferevent makes one SSL_write (one TLS record, one write)
	 * per chain when the socket turns writable. Made contiguous, a reply
	 * that fits in a record leaves in one.
	 */
	wire = bev != NULL ? bufferevent_get_output(bev) : NULL;
	if (wire != NULL && evbuffer_get_length(wire) <= HTTP_TLS_RECORD_MAX)
		evbuffer_pullup(wire, -1);
}

/* Loop thread: workers have finished some jobs of this loop. */
static void
http_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_loop *loop = arg;
	struct http_job *job, *next;

	for (job = http_pool_take_done(loop); job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		if (job->ev == NULL) {
			/* libevent freed the request with its connection */
			log_debug("%s: peer gone, reply dropped", job->peer);
			http_job_finish(job);
		} else if (evhttp_request_get_connection(job->ev) == NULL) {
			/* peer gone, request detached and left to us */
			log_debug("%s: peer gone (detached), reply dropped", job->peer);
			evhttp_request_free(job->ev);
			job->ev = NULL;
			http_job_finish(job);
		} else {
			http_send_job_reply(job);
		}
	}
}

/* Loop thread: libevent is freeing a connection. */
static void
http_conn_close_cb(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn *conn = arg;
	struct http_job *job = conn->job;

	if (job == NULL)
		return;
	conn->job = NULL;
	job->conn = NULL;
	if (job->ev == NULL || evhttp_request_get_connection(job->ev) != evcon)
		return;         /* detached: still ours, freed when the job is done */
	/* libevent frees the request with the connection */
	log_debug("%s: connection closed with a request in flight", job->peer);
	job->ev = NULL;
	if (job->sending)
		http_job_finish(job);   /* no completion callback will come */
}

/* ---- requests ----------------------------------------------------------- */

static const char *
http_method_name(enum evhttp_cmd_type t)
{
	switch (t) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	default: return NULL;
	}
}

static int
http_copy_headers(struct http_job *job, struct evhttp_request *ev)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(ev);
	struct evkeyval *kv;
	size_t n = 0;

	for (kv = in->tqh_first; kv != NULL; kv = kv->next.tqe_next)
		n++;
	if (n == 0)
		return OC_OK;
	if ((job->headers = calloc(n, sizeof(*job->headers))) == NULL)
		return OC_ERR_NOMEM;
	for (kv = in->tqh_first; kv != NULL && job->nheaders < n; kv = kv->next.tqe_next) {
		struct oc_http_header *h = &job->headers[job->nheaders];

		if ((h->name = strdup(kv->key)) == NULL ||
		    (h->value = strdup(kv->value)) == NULL) {
			free(h->name);
			h->name = NULL;
			return OC_ERR_NOMEM;
		}
		job->nheaders++;
	}
	return OC_OK;
}

/* Copy what the handler needs; *status is the HTTP answer on failure. */
static int
http_job_build(struct http_binding *b, struct http_conn *conn, SSL *ssl,
    struct evhttp_request *ev, const char *method, struct http_job **jobp,
    int *status)
{
	struct http_listener *lst = b->lst;
	struct oc_http_server *srv = lst->srv;
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ev);
	struct evbuffer *in = evhttp_request_get_input_buffer(ev);
	struct http_job *job = NULL;
	const char *path, *query;
	char *addr = NULL;
	ev_uint16_t port = 0;
	size_t dlen = 0, blen;
	int r = OC_ERR_NOMEM;

	*jobp = NULL;
	*status = 500;
	if ((job = calloc(1, sizeof(*job))) == NULL)
		goto out;
	job->loop = b->loop;
	ocbuf_init(&job->resp.body, OC_HTTP_RESP_BODY_MAX);
	job->resp.status = 200;

	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (path == NULL || *path == '\0')
		path = "/";
	if ((job->path = evhttp_uridecode(path, 0, &dlen)) == NULL)
		goto out;
	if (strlen(job->path) != dlen) {        /* %00 */
		*status = 400;
		r = OC_ERR_PARSE;
		goto out;
	}
	query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (query != NULL && (job->query = strdup(query)) == NULL)
		goto out;
	if ((r = http_copy_headers(job, ev)) != OC_OK)
		goto out;

	blen = evbuffer_get_length(in);
	if (blen > (size_t)srv->cfg.max_body) {
		*status = 413;
		r = OC_ERR_LIMIT;
		goto out;
	}
	r = OC_ERR_NOMEM;
	if ((job->body = malloc(blen + 1)) == NULL)
		goto out;
	if (evbuffer_remove(in, job->body, blen) != (int)blen) {
		r = OC_ERR_INTERNAL;
		goto out;
	}
	job->body[blen] = '\0';

	evhttp_connection_get_peer(evcon, &addr, &port);
	if (addr != NULL && strchr(addr, ':') != NULL)
		snprintf(job->peer, sizeof(job->peer), "[%s]:%u", addr, (unsigned)port);
	else
		snprintf(job->peer, sizeof(job->peer), "%s:%u", addr ? addr : "?",
		    (unsigned)port);
	job->peer_cert = SSL_get1_peer_certificate(ssl);

	job->req.method = method;
	job->req.path = job->path;
	job->req.query = job->query;
	job->req.body = job->body;
	job->req.body_len = blen;
	job->req.headers = job->headers;
	job->req.nheaders = job->nheaders;
	job->req.peer = job->peer;
	job->req.peer_cert = job->peer_cert;
	job->req.tls_server_end_point = lst->cblen ? lst->cb : NULL;
	job->req.tls_server_end_point_len = lst->cblen;
	job->req.listener_index = lst->index;
	job->req.conn_id = conn->id;
	job->ev = ev;
	job->conn = conn;
	*jobp = job;
	job = NULL;
	r = OC_OK;
out:
	http_job_free(job);
	return r;
}

static void
http_request_cb(struct evhttp_request *ev, void *arg)
{
	struct http_binding *b = arg;
	struct oc_http_server *srv = b->loop->srv;
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	struct bufferevent *bev;
	struct http_conn *conn;
	struct http_job *job = NULL;
	const char *method;
	SSL *ssl;
	int status = 500;

	bev = evcon != NULL ? evhttp_connection_get_bufferevent(evcon) : NULL;
	ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;
	if ((conn = http_tls_conn_get(ssl)) == NULL) {
		/* never serve a connection that is not ours (no TLS) */
		http_reply_simple(ev, 500, NULL, NULL, 1);
		return;
	}
	if (b->loop->stopping) {
		http_reply_busy(ev, 1);
		return;
	}
	if ((method = http_method_name(evhttp_request_get_command(ev))) == NULL) {
		http_reply_simple(ev, 405, "Allow", "GET, POST", 0);
		return;
	}
	if (conn->job != NULL) {
		/* cannot happen with libevent 2.1 (one request at a time) */
		log_error("second request on a busy connection");
		http_reply_simple(ev, 500, NULL, NULL, 1);
		return;
	}
	if (http_job_build(b, conn, ssl, ev, method, &job, &status) != OC_OK) {
		http_reply_simple(ev, status, NULL, NULL, status != 400);
		return;
	}
	if (http_pool_push(srv, job) != OC_OK) {
		http_job_free(job);
		if (srv->cfg.busy_hook != NULL)
			srv->cfg.busy_hook(srv->cfg.ctx);
		http_reply_busy(ev, 0);
		return;
	}
	/* from here on, only the loop thread touches job->ev, ->conn, ->sending */
	conn->job = job;
	b->loop->inflight++;
	evhttp_connection_set_closecb(evcon, http_conn_close_cb, conn);
}

/* Loop thread: a connection was accepted on b's listener. */
static struct bufferevent *
http_bev_cb(struct event_base *base, void *arg)
{
	struct http_binding *b = arg;
	struct bufferevent *bev;
	SSL *ssl;

	if ((ssl = http_tls_conn_new(b)) == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* ---- lifecycle ---------------------------------------------------------- */

/* Loop thread: enable this loop's listeners iff it is its turn to accept,
 * the server is below its connection cap and not shutting down. */
void
http_loop_accept_update(struct http_loop *loop)
{
	struct oc_http_server *srv = loop->srv;
	size_t i;
	int want;

	pthread_mutex_lock(&srv->cmu);
	want = !srv->stopping && srv->turn == (size_t)loop->index &&
	    srv->nconns < (size_t)srv->cfg.max_connections;
	pthread_mutex_unlock(&srv->cmu);
	if (loop->stopping)
		want = 0;
	if (want == loop->accepting)
		return;
	for (i = 0; i < srv->nlst; i++) {
		struct evconnlistener *l;

		if (loop->bind == NULL || loop->bind[i].bound == NULL)
			continue;
		l = evhttp_bound_socket_get_listener(loop->bind[i].bound);
		if (want)
			evconnlistener_enable(l);
		else
			evconnlistener_disable(l);
	}
	loop->accepting = want;
}

static void
http_ctl_cb(evutil_socket_t fd, short what, void *arg)
{
	http_loop_accept_update(arg);
}

static void
http_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_loop *loop = arg;
	struct http_job *job, *next;

	log_warn("shutdown: %zu requests still in flight after %d s",
	    loop->inflight, OC_HTTP_DRAIN_SECONDS);
	/* jobs of this loop no worker has started: tell their clients to come back */
	for (job = http_pool_take_queued(loop->srv, loop); job != NULL; job = next) {
		next = job->next;
		if (job->ev != NULL && evhttp_request_get_connection(job->ev) != NULL)
			http_reply_busy(job->ev, 1);
		else if (job->ev != NULL)
			evhttp_request_free(job->ev);
		job->ev = NULL;
		http_job_finish(job);
	}
	event_base_loopbreak(loop->base);
}

/* Loop thread: the server is shutting down. */
static void
http_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_loop *loop = arg;
	struct timeval tv = { OC_HTTP_DRAIN_SECONDS, 0 };

	if (loop->stopping)
		return;
	loop->stopping = 1;
	if (loop->inflight > 0)
		log_info("shutting down: loop %d has %zu requests in flight",
		    loop->index, loop->inflight);
	http_loop_accept_update(loop);
	event_add(loop->drain_ev, &tv);
	http_maybe_drained(loop);
}

/* Any thread: every loop stops accepting, drains and returns. */
static void
http_server_stop_all(struct oc_http_server *srv)
{
	size_t i;
	int first;

	pthread_mutex_lock(&srv->cmu);
	first = !srv->stopping;
	srv->stopping = 1;
	pthread_mutex_unlock(&srv->cmu);
	if (first)
		log_info("shutting down");
	for (i = 0; i < srv->nloops; i++)
		if (srv->loops[i].stop_ev != NULL)
			event_active(srv->loops[i].stop_ev, 0, 0);
}

static void
http_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	http_server_stop_all(arg);
}

/* The listening socket, shared by the loops (TCP_NODELAY inherited by
 * accepted sockets: an answer must not wait for a delayed ACK). */
static int
http_listen_socket(const char *host, int port, int *fdp)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	int fd = -1, one = 1, r = OC_ERR_IO;

	*fdp = -1;
	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':') != NULL) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return OC_ERR_CONFIG;
		sl = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return OC_ERR_CONFIG;
		sl = sizeof(*sin);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		goto out;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto out;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		log_warn("%s:%d: TCP_NODELAY not set", host, port);
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 ||
	    listen(fd, HTTP_LISTEN_BACKLOG) != 0)
		goto out;
	*fdp = fd;
	fd = -1;
	r = OC_OK;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

static int
http_listener_setup(struct oc_http_server *srv, size_t i,
    const struct oc_http_listener *cl)
{
	struct http_listener *lst = &srv->lst[i];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64];
	int port = 0, r;

	lst->srv = srv;
	lst->index = (int)i;
	if ((r = http_parse_address(cl->address, host, sizeof(host), &port)) != OC_OK) {
		log_error("listener %zu: bad address %s (want IPv4:port or [IPv6]:port)",
		    i, cl->address ? cl->address : "(null)");
		return r;
	}
	if ((r = http_tls_ctx_new(cl, &lst->ctx)) != OC_OK)
		return r;
	if ((r = http_tls_end_point(lst->ctx, lst->cb, &lst->cblen)) != OC_OK)
		return r;
	if ((r = http_listen_socket(host, port, &lst->fd)) != OC_OK) {
		log_error("listener %zu: cannot listen on %s", i, cl->address);
		return r;
	}
	if (getsockname(lst->fd, (struct sockaddr *)&ss, &sl) != 0)
		return OC_ERR_IO;
	if (ss.ss_family == AF_INET6)
		lst->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		lst->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return OC_OK;
}

/* Listener lst as loop serves it: an evhttp on the shared socket, disabled. */
static int
http_binding_setup(struct http_loop *loop, struct http_binding *b,
    struct http_listener *lst)
{
	struct oc_http_server *srv = loop->srv;
	struct evconnlistener *l = NULL;

	b->loop = loop;
	b->lst = lst;
	if ((b->http = evhttp_new(loop->base)) == NULL)
		return OC_ERR_NOMEM;
	evhttp_set_bevcb(b->http, http_bev_cb, b);
	evhttp_set_gencb(b->http, http_request_cb, b);
	evhttp_set_max_headers_size(b->http, (ev_ssize_t)srv->cfg.max_headers);
	evhttp_set_max_body_size(b->http, (ev_ssize_t)srv->cfg.max_body);
	evhttp_set_timeout(b->http, srv->cfg.timeout_seconds);
	/* let every method libevent knows reach us, to answer 405 (not 501) */
	evhttp_set_allowed_methods(b->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	/* read an oversized body away before answering 413 */
	evhttp_set_flags(b->http, EVHTTP_SERVER_LINGERING_CLOSE);
	/* backlog 0: the socket listens already; the socket stays ours */
	if ((l = evconnlistener_new(loop->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED, 0, lst->fd)) == NULL)
		return OC_ERR_NOMEM;
	if ((b->bound = evhttp_bind_listener(b->http, l)) == NULL) {
		evconnlistener_free(l);
		return OC_ERR_NOMEM;
	}
	return OC_OK;
}

static int
http_loop_setup(struct oc_http_server *srv, size_t i)
{
	struct http_loop *loop = &srv->loops[i];
	size_t j;
	int r;

	loop->srv = srv;
	loop->index = (int)i;
	if (pthread_mutex_init(&loop->dmu, NULL) != 0)
		return OC_ERR_INTERNAL;
	loop->dmu_init = 1;
	if ((loop->base = event_base_new()) == NULL ||
	    (loop->done_ev = event_new(loop->base, -1, 0, http_done_cb, loop)) == NULL ||
	    (loop->stop_ev = event_new(loop->base, -1, 0, http_stop_cb, loop)) == NULL ||
	    (loop->ctl_ev = event_new(loop->base, -1, 0, http_ctl_cb, loop)) == NULL ||
	    (loop->drain_ev = evtimer_new(loop->base, http_drain_cb, loop)) == NULL ||
	    (loop->bind = calloc(srv->nlst, sizeof(*loop->bind))) == NULL)
		return OC_ERR_NOMEM;
	for (j = 0; j < srv->nlst; j++)
		if ((r = http_binding_setup(loop, &loop->bind[j], &srv->lst[j])) != OC_OK)
			return r;
	return OC_OK;
}

/* Event-loop threads by default: the CPUs this process may run on. */
static int
http_default_loops(void)
{
	cpu_set_t set;
	long n;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	else
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	if (n > HTTP_LOOPS_MAX)
		n = HTTP_LOOPS_MAX;
	return (int)n;
}

int
oc_http_server_new(const struct oc_http_config *cfg, struct oc_http_server **srvp)
{
	struct oc_http_server *srv = NULL;
	size_t i;
	int r = OC_ERR_INVALID;

	*srvp = NULL;
	if (cfg == NULL || cfg->handler == NULL || cfg->listeners == NULL ||
	    cfg->nlisteners == 0 || cfg->workers < 0 || cfg->queue_max < 0 ||
	    cfg->timeout_seconds < 0 || cfg->max_connections < 0 ||
	    cfg->workers > HTTP_WORKERS_MAX || cfg->loops < 0 ||
	    cfg->loops > HTTP_LOOPS_MAX)
		goto out;
	r = OC_ERR_INTERNAL;
	pthread_once(&http_evthread_once, http_evthread_init);
	if (!http_evthread_ok || http_tls_init() != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		goto out;
	srv->cfg = *cfg;
	if (srv->cfg.workers == 0)
		srv->cfg.workers = OC_HTTP_WORKERS_DEFAULT;
	if (srv->cfg.queue_max == 0)
		srv->cfg.queue_max = OC_HTTP_QUEUE_MAX;
	if (srv->cfg.max_body == 0)
		srv->cfg.max_body = OC_HTTP_MAX_BODY_SIZE;
	if (srv->cfg.max_headers == 0)
		srv->cfg.max_headers = OC_HTTP_MAX_HEADERS_SIZE;
	if (srv->cfg.timeout_seconds == 0)
		srv->cfg.timeout_seconds = OC_HTTP_TIMEOUT_SECONDS;
	if (srv->cfg.max_connections == 0)
		srv->cfg.max_connections = OC_HTTP_MAX_CONNECTIONS;
	if (srv->cfg.loops == 0)
		srv->cfg.loops = http_default_loops();
	r = OC_ERR_INTERNAL;
	if (pthread_mutex_init(&srv->cmu, NULL) != 0)
		goto out;
	srv->cmu_init = 1;
	if (pthread_mutex_init(&srv->mu, NULL) != 0)
		goto out;
	if (pthread_cond_init(&srv->cv, NULL) != 0) {
		pthread_mutex_destroy(&srv->mu);
		goto out;
	}
	srv->mu_init = 1;
	r = OC_ERR_NOMEM;
	if ((srv->lst = calloc(cfg->nlisteners, sizeof(*srv->lst))) == NULL)
		goto out;
	srv->nlst = cfg->nlisteners;
	for (i = 0; i < srv->nlst; i++)
		srv->lst[i].fd = -1;
	for (i = 0; i < srv->nlst; i++)
		if ((r = http_listener_setup(srv, i, &cfg->listeners[i])) != OC_OK)
			goto out;
	r = OC_ERR_NOMEM;
	if ((srv->loops = calloc((size_t)srv->cfg.loops, sizeof(*srv->loops))) == NULL)
		goto out;
	srv->nloops = (size_t)srv->cfg.loops;
	for (i = 0; i < srv->nloops; i++)
		if ((r = http_loop_setup(srv, i)) != OC_OK)
			goto out;
	r = OC_ERR_NOMEM;
	if ((srv->sigterm_ev = evsignal_new(srv->loops[0].base, SIGTERM,
	    http_signal_cb, srv)) == NULL ||
	    (srv->sigint_ev = evsignal_new(srv->loops[0].base, SIGINT,
	    http_signal_cb, srv)) == NULL)
		goto out;
	srv->cfg.listeners = NULL;      /* not kept */
	http_loop_accept_update(&srv->loops[0]);        /* the first turn */
	*srvp = srv;
	srv = NULL;
	r = OC_OK;
out:
	oc_http_server_free(srv);
	return r;
}

static void *
http_loop_main(void *arg)
{
	struct http_loop *loop = arg;

	if (event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY) < 0)
		log_error("event loop %d failed", loop->index);
	return NULL;
}

/* After the loops: whatever the workers finished late, or never started, is dropped. */
static void
http_drop_jobs(struct http_job *job)
{
	struct http_job *next;

	for (; job != NULL; job = next) {
		next = job->next;
		if (job->ev != NULL && evhttp_request_get_connection(job->ev) == NULL)
			evhttp_request_free(job->ev);
		job->ev = NULL;
		http_job_finish(job);
	}
}

int
oc_http_server_run(struct oc_http_server *srv)
{
	struct sigaction sa;
	size_t i;
	int r;

	if (srv == NULL || srv->threads != NULL)
		return OC_ERR_INVALID;
	/* a peer closing early must not kill us on write */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (event_add(srv->sigterm_ev, NULL) != 0 || event_add(srv->sigint_ev, NULL) != 0)
		return OC_ERR_INTERNAL;
	if ((r = http_pool_start(srv)) != OC_OK)
		return r;
	/* loop 0 runs on the caller's thread (and takes the signals) */
	for (i = 1; i < srv->nloops; i++) {
		if (pthread_create(&srv->loops[i].thread, NULL, http_loop_main,
		    &srv->loops[i]) != 0) {
			log_error("cannot start event loop %zu", i);
			r = OC_ERR_INTERNAL;
			http_server_stop_all(srv);
			break;
		}
		srv->loops[i].started = 1;
	}
	if (event_base_loop(srv->loops[0].base, EVLOOP_NO_EXIT_ON_EMPTY) < 0)
		r = OC_ERR_INTERNAL;
	http_server_stop_all(srv);      /* loop 0 is done: so are the others */
	for (i = 1; i < srv->nloops; i++) {
		if (srv->loops[i].started)
			pthread_join(srv->loops[i].thread, NULL);
		srv->loops[i].started = 0;
	}
	http_pool_stop(srv);
	event_del(srv->sigterm_ev);
	event_del(srv->sigint_ev);
	for (i = 0; i < srv->nloops; i++) {
		event_del(srv->loops[i].drain_ev);
		http_drop_jobs(http_pool_take_done(&srv->loops[i]));
	}
	http_drop_jobs(http_pool_take_queued(srv, NULL));
	log_info("server stopped");
	return r;
}

void
oc_http_server_stop(struct oc_http_server *srv)
{
	if (srv != NULL && srv->loops != NULL)
		http_server_stop_all(srv);
}

int
oc_http_server_port(struct oc_http_server *srv, size_t i)
{
	if (srv == NULL || i >= srv->nlst)
		return -1;
	return srv->lst[i].port;
}

static void
http_loop_free(struct http_loop *loop)
{
	if (loop->done_ev)
		event_free(loop->done_ev);
	if (loop->stop_ev)
		event_free(loop->stop_ev);
	if (loop->ctl_ev)
		event_free(loop->ctl_ev);
	if (loop->drain_ev)
		event_free(loop->drain_ev);
	loop->done_ev = loop->stop_ev = loop->ctl_ev = loop->drain_ev = NULL;
}

void
oc_http_server_free(struct oc_http_server *srv)
{
	size_t i, j;

	if (srv == NULL)
		return;
	if (srv->cmu_init) {
		/* no accepting, no waking of loops from here on */
		pthread_mutex_lock(&srv->cmu);
		srv->stopping = 1;
		pthread_mutex_unlock(&srv->cmu);
	}
	for (i = 0; i < srv->nloops; i++) {
		struct http_loop *loop = &srv->loops[i];

		for (j = 0; loop->bind != NULL && j < srv->nlst; j++) {
			if (loop->bind[j].http != NULL)
				evhttp_free(loop->bind[j].http);  /* closes connections */
			loop->bind[j].http = NULL;
			loop->bind[j].bound = NULL;
		}
	}
	if (srv->sigterm_ev)
		event_free(srv->sigterm_ev);
	if (srv->sigint_ev)
		event_free(srv->sigint_ev);
	for (i = 0; i < srv->nloops; i++)
		http_loop_free(&srv->loops[i]);
	for (i = 0; i < srv->nloops; i++) {
		struct http_loop *loop = &srv->loops[i];

		if (loop->base != NULL)
			event_base_free(loop->base);    /* runs pending finalizers (SSL_free) */
		free(loop->bind);
		if (loop->dmu_init)
			pthread_mutex_destroy(&loop->dmu);
	}
	free(srv->loops);
	for (i = 0; i < srv->nlst; i++) {
		if (srv->lst[i].fd >= 0)
			close(srv->lst[i].fd);
		SSL_CTX_free(srv->lst[i].ctx);
	}
	free(srv->lst);
	if (srv->mu_init) {
		pthread_mutex_destroy(&srv->mu);
		pthread_cond_destroy(&srv->cv);
	}
	if (srv->cmu_init)
		pthread_mutex_destroy(&srv->cmu);
	free(srv);
}
