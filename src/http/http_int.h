/*
 * Internals of the HTTPS server (not for other concerns): listeners with
 * their TLS context, per-connection state, jobs and the worker pool.
 *
 * Threads: the event loop owns listeners, connections and every
 * evhttp_request. Workers only see jobs (copies of the request) and fill
 * the job's response; the loop thread sends it.
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

struct http_server;

struct http_listener {
	struct oc_http_server *srv;
	int index;
	SSL_CTX *ctx;
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	int port;
	uint8_t cb[EVP_MAX_MD_SIZE];    /* tls-server-end-point hash */
	size_t cblen;
};

struct http_conn;

struct http_job {
	struct http_job *next;          /* queue or done list (under srv->mu) */
	int sending;                    /* reply handed to libevent (loop thread) */
	struct oc_http_server *srv;
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
	struct oc_http_server *srv;
	struct http_listener *lst;
	struct http_job *job;           /* the request being processed, if any */
	uint64_t id;                    /* oc_http_request.conn_id */
};

struct oc_http_server {
	struct oc_http_config cfg;      /* defaults applied; listeners not owned */
	struct event_base *base;
	struct http_listener *lst;
	size_t nlst;
	struct event *done_ev;
	struct event *stop_ev;
	struct event *drain_ev;
	struct event *sigterm_ev;
	struct event *sigint_ev;
	int stopping;
	int listening;                  /* listeners enabled */
	size_t nconns;                  /* admitted TLS connections (loop thread) */
	uint64_t last_conn_id;          /* loop thread */
	size_t inflight;                /* jobs accepted, reply not yet complete */

	/* worker pool */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int mu_init;
	struct http_job *qhead, *qtail;
	size_t nqueued;
	size_t nbusy;
	int quit;
	struct http_job *dhead, *dtail; /* done list, handed back to the loop */
	pthread_t *threads;
	size_t nthreads;
};

/* http_tls.c */
int http_tls_ctx_new(const struct oc_http_listener *l, SSL_CTX **ctxp) OC_WUR;
int http_tls_end_point(SSL_CTX *ctx, uint8_t *out, size_t *outlen) OC_WUR;
/* Wrap a new SSL of lst in a connection record; NULL on failure. */
SSL *http_tls_conn_new(struct http_listener *lst);
struct http_conn *http_tls_conn_get(SSL *ssl);
int http_tls_init(void) OC_WUR;

/* http_job.c */
void http_job_free(struct http_job *job);
int http_pool_start(struct oc_http_server *srv) OC_WUR;
/* Stop the workers (after their current job) and join them. */
void http_pool_stop(struct oc_http_server *srv);
/* 0 when queued, OC_ERR_UNAVAILABLE when the queue is full. */
int http_pool_push(struct oc_http_server *srv, struct http_job *job) OC_WUR;
/* Take the whole done list (loop thread). */
struct http_job *http_pool_take_done(struct oc_http_server *srv);
/* Take the jobs no worker started yet. */
struct http_job *http_pool_take_queued(struct oc_http_server *srv);
int http_parse_address(const char *addr, char *host, size_t hostlen, int *port) OC_WUR;

#endif
