/* What the listener and the connector share: byte queues, frames, non-blocking TLS. */
#ifndef OC_CALINK_INT_H
#define OC_CALINK_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/ssl.h>

#include "common/err.h"
#include "ipc/frame.h"

/* A byte FIFO with a hard maximum (bytes consumed from the front, appended at the back). */
struct cl_queue {
	uint8_t *d;
	size_t off, len, cap, max;
};

void cl_queue_init(struct cl_queue *q, size_t max);
void cl_queue_free(struct cl_queue *q);                     /* NULL-safe, re-usable */
int cl_queue_put(struct cl_queue *q, const void *p, size_t n) OC_WUR;
void cl_queue_consume(struct cl_queue *q, size_t n);
static inline const uint8_t *
cl_queue_ptr(const struct cl_queue *q)
{
	return q->d != NULL ? q->d + q->off : (const uint8_t *)"";
}
static inline size_t cl_queue_len(const struct cl_queue *q) { return q->len; }

#define CL_HDR OC_FRAME_HEADER_LEN

/*
 * The first frame of q: 1 and its parts when it is complete, 0 when more
 * bytes are needed, OC_ERR_LIMIT when its header announces more than
 * OC_IPC_FRAME_MAX (the stream is then unusable). The frame takes CL_HDR +
 * *len bytes of q.
 */
int cl_frame_peek(const struct cl_queue *q, uint32_t *type, uint32_t *tag,
    const uint8_t **payload, size_t *len) OC_WUR;
int cl_frame_put(struct cl_queue *q, uint32_t type, uint32_t tag, const uint8_t *payload,
    size_t len) OC_WUR;

/* Non-blocking plain socket I/O: read until EAGAIN or q is full; write what goes. */
int cl_fd_read(int fd, struct cl_queue *q) OC_WUR;          /* OC_OK, OC_ERR_EOF, OC_ERR_IPC */
int cl_fd_write(int fd, struct cl_queue *q) OC_WUR;         /* OC_OK, OC_ERR_IPC */
int cl_set_nonblock(int fd) OC_WUR;

/* One non-blocking TLS stream; which poll events each direction waits for. */
struct cl_tls {
	int fd;
	SSL *ssl;
	int handshaken;
	short rd_wants, wr_wants, hs_wants;
};

/* Take fd; server: accept side. */
int cl_tls_new(SSL_CTX *ctx, int fd, int server, struct cl_tls *t) OC_WUR;
void cl_tls_close(struct cl_tls *t);                        /* NULL-safe */
/* Drive the handshake: 1 done, 0 in progress, <0 failed. */
int cl_tls_handshake(struct cl_tls *t) OC_WUR;
/* Read until WANT_* or q full (OC_OK), OC_ERR_EOF on close, OC_ERR_IPC on error. */
int cl_tls_read(struct cl_tls *t, struct cl_queue *q) OC_WUR;
/* Write queued bytes until WANT_* or empty. */
int cl_tls_write(struct cl_tls *t, struct cl_queue *q) OC_WUR;
/* The poll events this stream waits for (reading: the caller wants input). */
short cl_tls_events(const struct cl_tls *t, int reading, int writing);

/* TLS 1.2+ contexts. The server requires and verifies a client certificate. */
int cl_tls_server_ctx(const char *cert, const char *key, const char *client_ca,
    SSL_CTX **ctxp) OC_WUR;
int cl_tls_client_ctx(const char *cert, const char *key, const char *server_ca,
    SSL_CTX **ctxp) OC_WUR;
/* "CN=...,O=..." of x (or of the certificate that failed verification). */
void cl_subject(X509 *x, char *buf, size_t len);
/* Does x match an allow entry (its subject CN, or sha256:<hex> of its DER)? */
int cl_allowed(X509 *x, const char *const *allow, size_t nallow);
/* The subject of the client certificate that failed verification on ssl ("" if none). */
const char *cl_tls_failed_subject(const SSL *ssl);
/* Log and clear the OpenSSL error queue. */
void cl_tls_log_errors(const char *what);

/* "host:port" / "[v6]:port": host (brackets removed) and port. */
int cl_addr_split(const char *addr, char *host, size_t hlen, char *port, size_t plen) OC_WUR;
/* A listening socket bound to addr (non-blocking, close-on-exec). */
int cl_listen_socket(const char *addr, int *fdp) OC_WUR;
/* Start a non-blocking connect to addr; *fdp is the socket. */
int cl_connect_start(const char *addr, int *fdp) OC_WUR;
/* "ip:port" of a connected peer. */
void cl_peer_addr(int fd, char *buf, size_t len);

/* Monotonic seconds. */
double cl_now(void);

#endif
