/*
 * HTTPS server: libevent evhttp with OpenSSL bufferevents on cfg.loops
 * event-loop threads (connections handed out round robin); request handlers
 * run on one bounded worker pool. When every worker is
 * busy and the queue is full the server answers 503 with Retry-After.
 * Limits (headers, body, connections, timeouts) come from common/limits.h.
 */
#ifndef OC_HTTP_H
#define OC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "common/buf.h"
#include "common/err.h"

struct oc_http_server;

struct oc_http_header {
	char *name;
	char *value;
};

/* A request as a handler sees it (read-only, valid during the handler call). */
struct oc_http_request {
	const char *method;         /* "POST", "GET", ... */
	const char *path;           /* URI path, percent-decoded, without query */
	const char *query;          /* may be NULL */
	const uint8_t *body;
	size_t body_len;
	const struct oc_http_header *headers;
	size_t nheaders;
	const char *peer;           /* "127.0.0.1:port" */
	X509 *peer_cert;            /* TLS client certificate if one was sent (borrowed) */
	/* RFC 5929 tls-server-end-point channel binding data: the hash of the
	 * listener's certificate only (GSS application data is
	 * "tls-server-end-point:" || this); NULL/0 when undefined (Ed25519). */
	const uint8_t *tls_server_end_point;
	size_t tls_server_end_point_len;
	int listener_index;         /* which configured listener accepted it */
	uint64_t conn_id;           /* the TLS connection's number (unique per server
	                             * across its loops, never 0):
	                             * state of a multi-leg HTTP authentication */
};

/* Case-insensitive header lookup; NULL when absent. */
const char *oc_http_request_header(const struct oc_http_request *req, const char *name);

struct oc_http_response {
	int status;                 /* default 200 */
	const char *content_type;   /* static string, default "application/soap+xml; charset=utf-8" */
	struct ocbuf body;          /* initialised with a maximum by the server */
	struct oc_http_header *headers;  /* extra headers (malloc'd name/value) */
	size_t nheaders;
};

int oc_http_response_add_header(struct oc_http_response *resp, const char *name,
    const char *value) OC_WUR;

/* Called on a worker thread. thread_ctx is what thread_init returned for that worker. */
typedef void (*oc_http_handler)(void *ctx, void *thread_ctx,
    const struct oc_http_request *req, struct oc_http_response *resp);
typedef void *(*oc_http_thread_init)(void *ctx);
typedef void (*oc_http_thread_fini)(void *ctx, void *thread_ctx);

struct oc_http_listener {
	const char *address;        /* "127.0.0.1:8443", "[::1]:8443" */
	const char *cert_file;      /* PEM server certificate (+ chain) */
	const char *key_file;       /* PEM key */
	const char *client_ca_file; /* when set, request a client certificate (optional) */
};

struct oc_http_config {
	const struct oc_http_listener *listeners;
	size_t nlisteners;
	int workers;                /* 0 => OC_HTTP_WORKERS_DEFAULT */
	int queue_max;              /* 0 => OC_HTTP_QUEUE_MAX */
	size_t max_body;            /* 0 => OC_HTTP_MAX_BODY_SIZE */
	size_t max_headers;         /* 0 => OC_HTTP_MAX_HEADERS_SIZE */
	int timeout_seconds;        /* 0 => OC_HTTP_TIMEOUT_SECONDS */
	int max_connections;        /* 0 => OC_HTTP_MAX_CONNECTIONS */
	oc_http_handler handler;
	oc_http_thread_init thread_init;   /* may be NULL */
	oc_http_thread_fini thread_fini;   /* may be NULL */
	void *ctx;
	/* optional observers (called with ctx, from any thread; must not block):
	 * queue_hook(+1) when a request joins the worker queue, (-1) when a
	 * worker takes it or it is dropped; busy_hook when a request is refused
	 * with 503 */
	void (*queue_hook)(void *ctx, int delta);
	void (*busy_hook)(void *ctx);
	int loops;                  /* event-loop threads; 0 => the number of CPUs */
};

int oc_http_server_new(const struct oc_http_config *cfg, struct oc_http_server **srvp) OC_WUR;
/* Run the event loops (loop 0 on the caller's thread, which also takes
 * SIGTERM/SIGINT) until a signal or oc_http_server_stop(); then every loop
 * drains its in-flight requests (graceful shutdown) and this returns. */
int oc_http_server_run(struct oc_http_server *srv) OC_WUR;
void oc_http_server_stop(struct oc_http_server *srv);     /* thread-safe */
void oc_http_server_free(struct oc_http_server *srv);     /* NULL-safe */
/* The actual bound port of listener i (useful with port 0 in tests). */
int oc_http_server_port(struct oc_http_server *srv, size_t i);

#endif
