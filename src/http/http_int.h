/*
 * Internals of the HTTPS server (not for other concerns): listeners with
 * their TLS context, per-connection state, jobs and the worker pool.
 *
 * Threads: each event loop owns its evhttps, the connections it accepted
 * and their evhttp_requests. Workers only see jobs (copies of the request)
 * and fill the job's response; the job's loop thread sends it.
 */
#ifndef OC_HTTP_INT_H
#define OC_HTTP_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>

#include "common/limits.h"
#include "http/http.h"

struct event;
struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;

/* Graceful shutdown: longest wait for in-flight requests. */
#define OC_HTTP_DRAIN_SECONDS      10
/* Event-loop threads at most (cfg.loops). */
#define HTTP_LOOPS_MAX             64

struct http_loop;

/* A configured listener: one listening socket shared by every loop. */
struct http_listener {
	struct oc_http_server *srv;
	int index;
	int fd;                         /* listening socket (ours, -1 when none) */
	SSL_CTX *ctx;
	int port;
	uint8_t cb[EVP_MAX_MD_SIZE];    /* tls-server-end-point hash */
	size_t cblen;
};

/* A listener as one loop serves it: its own evhttp on the shared socket. */
struct http_binding {
	struct http_loop *loop;
	struct http_listener *lst;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
};

struct http_conn;

struct http_job {
	struct http_job *next;          /* queue or done list (under a lock) */
	int sending;                    /* reply handed to libevent (loop thread) */
	struct http_loop *loop;         /* the loop that owns ev and conn */
	struct evhttp_request *ev;      /* NULL once libevent freed it (peer gone) */
	struct http_conn *conn;         /* NULL once the connection is gone */
	struct oc_http_request req;     /* pointers into the fields below */
	char *path;
	char *query;
	uint8_t *body;
	struct oc_http_header *headers;
	size_t nheaders;
	char peer[OC_HTTP_PEER_MAX];
	X509 *peer_cert;
	struct oc_http_response resp;
};

/* Per TLS connection, hung on the SSL object (freed with it). */
struct http_conn {
	struct http_loop *loop;
	struct http_listener *lst;
	struct http_job *job;           /* the request being processed, if any */
	uint64_t id;                    /* oc_http_request.conn_id */
};

/*
 * One event-loop thread: its event_base, one evhttp per listener, the
 * connections it accepted and the replies of their requests. Only its own
 * thread touches it, except done list (under dmu) and event_active().
 */
struct http_loop {
	struct oc_http_server *srv;
	int index;
	struct event_base *base;
	struct http_binding *bind;      /* [srv->nlst] */
	struct event *done_ev;          /* workers finished jobs of this loop */
	struct event *stop_ev;          /* graceful shutdown asked */
	struct event *drain_ev;         /* drain timeout */
	struct event *ctl_ev;           /* re-decide whether to accept */
	int stopping;
	int accepting;                  /* listeners enabled in this loop */
	size_t inflight;                /* jobs accepted, reply not yet complete */
	size_t nconns;                  /* its connections (atomic: read by tests) */
	pthread_t thread;
	int started;
	pthread_mutex_t dmu;
	int dmu_init;
	struct http_job *dhead, *dtail; /* done list, handed back to the loop */
};

struct oc_http_server {
	struct oc_http_config cfg;      /* defaults applied; listeners not owned */
	struct http_listener *lst;
	size_t nlst;
	struct http_loop *loops;
	size_t nloops;
	struct event *sigterm_ev;       /* on loops[0] */
	struct event *sigint_ev;

	/*
	 * Accepting: one loop at a time holds the turn (round robin); it
	 * accepts one connection, then passes the turn on. Under cmu.
	 */
	pthread_mutex_t cmu;
	int cmu_init;
	int stopping;
	size_t nconns;                  /* admitted TLS connections (all loops) */
	size_t turn;                    /* loop whose listeners are enabled */
	uint64_t last_conn_id;          /* atomic */

	/* worker pool */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int mu_init;
	struct http_job *qhead, *qtail;
	size_t nqueued;
	size_t nbusy;
	int quit;
	pthread_t *threads;
	size_t nthreads;
};

/* http_tls.c */
int http_tls_ctx_new(const struct oc_http_listener *l, SSL_CTX **ctxp) OC_WUR;
int http_tls_end_point(SSL_CTX *ctx, uint8_t *out, size_t *outlen) OC_WUR;
/* Wrap a new SSL of b's listener in a connection record (counted against
 * the connection cap); NULL on failure. */
SSL *http_tls_conn_new(struct http_binding *b);
struct http_conn *http_tls_conn_get(SSL *ssl);
int http_tls_init(void) OC_WUR;

/* http_server.c */
/* Enable or disable this loop's listeners as the turn and the cap say (its thread). */
void http_loop_accept_update(struct http_loop *loop);

/* http_job.c */
void http_job_free(struct http_job *job);
int http_pool_start(struct oc_http_server *srv) OC_WUR;
/* Stop the workers (after their current job) and join them. */
void http_pool_stop(struct oc_http_server *srv);
/* 0 when queued, OC_ERR_UNAVAILABLE when the queue is full. */
int http_pool_push(struct oc_http_server *srv, struct http_job *job) OC_WUR;
/* Take the whole done list of a loop (its thread). */
struct http_job *http_pool_take_done(struct http_loop *loop);
/* Take the jobs no worker started yet: of one loop, or all when loop is NULL. */
struct http_job *http_pool_take_queued(struct oc_http_server *srv,
    struct http_loop *loop);
int http_parse_address(const char *addr, char *host, size_t hostlen, int *port) OC_WUR;

#endif
