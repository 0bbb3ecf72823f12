/*
 * Byte queues, frames on them, non-blocking plain and TLS stream I/O, and
 * addresses: the pieces the listener and the connector share.
 */
#include "calink/calink_int.h"
#include "calink/calink.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <openssl/err.h>

#include "common/limits.h"
#include "common/log.h"
#include "ipc/ca_proto.h"

void
cl_queue_init(struct cl_queue *q, size_t max)
{
	memset(q, 0, sizeof(*q));
	q->max = max;
}

void
cl_queue_free(struct cl_queue *q)
{
	size_t max;

	if (q == NULL)
		return;
	max = q->max;
	free(q->d);
	cl_queue_init(q, max);
}

int
cl_queue_put(struct cl_queue *q, const void *p, size_t n)
{
	if (n == 0)
		return OC_OK;
	if (n > q->max - q->len)
		return OC_ERR_LIMIT;
	if (q->off + q->len + n > q->cap) {
		if (q->off > 0) {                    /* slide the unread bytes to the front */
			memmove(q->d, q->d + q->off, q->len);
			q->off = 0;
		}
		if (q->len + n > q->cap) {
			size_t cap = q->cap ? q->cap : 4096;
			uint8_t *d;
			while (cap < q->len + n)
				cap *= 2;
			if (cap > q->max)
				cap = q->max;
			if ((d = realloc(q->d, cap)) == NULL)
				return OC_ERR_NOMEM;
			q->d = d;
			q->cap = cap;
		}
	}
	memcpy(q->d + q->off + q->len, p, n);
	q->len += n;
	return OC_OK;
}

void
cl_queue_consume(struct cl_queue *q, size_t n)
{
	if (n >= q->len) {
		q->off = q->len = 0;
		return;
	}
	q->off += n;
	q->len -= n;
}

int
cl_frame_peek(const struct cl_queue *q, uint32_t *type, uint32_t *tag,
    const uint8_t **payload, size_t *len)
{
	const uint8_t *p = cl_queue_ptr(q);
	uint32_t n;

	if (q->len < CL_HDR)
		return 0;
	oc_frame_header_get(p, type, tag, &n);
	if (n > OC_IPC_FRAME_MAX)
		return OC_ERR_LIMIT;
	if (q->len - CL_HDR < n)
		return 0;
	*payload = p + CL_HDR;
	*len = n;
	return 1;
}

int
cl_frame_put(struct cl_queue *q, uint32_t type, uint32_t tag, const uint8_t *payload,
    size_t len)
{
	uint8_t hdr[CL_HDR];
	int r;

	if (len > OC_IPC_FRAME_MAX)
		return OC_ERR_LIMIT;
	if (CL_HDR + len > q->max - q->len)
		return OC_ERR_LIMIT;
	oc_frame_header_put(hdr, type, tag, (uint32_t)len);
	if ((r = cl_queue_put(q, hdr, sizeof(hdr))) != OC_OK)
		return r;
	return cl_queue_put(q, payload, len);
}

int
oc_calink_type_known(uint32_t t)
{
	return t == OC_CA_MSG_ISSUE || t == OC_CA_MSG_QUERY || t == OC_CA_MSG_PING ||
	    t == OC_CA_MSG_CERT_STATUS;
}

int
cl_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return OC_ERR_IO;
	return OC_OK;
}

int
cl_fd_read(int fd, struct cl_queue *q)
{
	uint8_t chunk[16384];

	while (q->len < q->max) {
		size_t want = q->max - q->len < sizeof(chunk) ? q->max - q->len : sizeof(chunk);
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return OC_OK;
		if (n == 0)
			return OC_ERR_EOF;
		if (n < 0)
			return OC_ERR_IPC;
		if (cl_queue_put(q, chunk, (size_t)n) != OC_OK)
			return OC_ERR_IPC;
	}
	return OC_OK;
}

int
cl_fd_write(int fd, struct cl_queue *q)
{
	while (q->len > 0) {
		ssize_t n = send(fd, cl_queue_ptr(q), q->len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, cl_queue_ptr(q), q->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return OC_OK;
		if (n <= 0)
			return OC_ERR_IPC;
		cl_queue_consume(q, (size_t)n);
	}
	return OC_OK;
}

void
cl_tls_log_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_info("calink: %s: %s", what, buf);
	}
}

int
cl_tls_new(SSL_CTX *ctx, int fd, int server, struct cl_tls *t)
{
	memset(t, 0, sizeof(*t));
	t->fd = fd;
	t->rd_wants = POLLIN;
	t->wr_wants = POLLOUT;
	t->hs_wants = server ? POLLIN : POLLOUT;
	if ((t->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(t->ssl, fd) != 1) {
		cl_tls_log_errors("SSL_new");
		return OC_ERR_CRYPTO;
	}
	if (server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	return OC_OK;
}

void
cl_tls_close(struct cl_tls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		if (t->handshaken)
			(void)SSL_shutdown(t->ssl);   /* best effort close_notify, non-blocking */
		SSL_free(t->ssl);
	}
	if (t->fd >= 0)
		close(t->fd);
	ERR_clear_error();
	memset(t, 0, sizeof(*t));
	t->fd = -1;
}

/* What an SSL call that returned n wants: 1 progress, 0 wait (wants set), <0 error/EOF. */
static int
ssl_result(struct cl_tls *t, int n, short *wants)
{
	int e = SSL_get_error(t->ssl, n);

	switch (e) {
	case SSL_ERROR_NONE:
		return 1;
	case SSL_ERROR_WANT_READ:
		*wants = POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		*wants = POLLOUT;
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		return OC_ERR_EOF;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno == 0 || errno == EPIPE || errno == ECONNRESET ? OC_ERR_EOF : OC_ERR_IPC;
	default:
		return OC_ERR_IPC;
	}
}

int
cl_tls_handshake(struct cl_tls *t)
{
	int n, r;

	if (t->handshaken)
		return 1;
	ERR_clear_error();
	errno = 0;
	n = SSL_do_handshake(t->ssl);
	if ((r = ssl_result(t, n, &t->hs_wants)) == 1)
		t->handshaken = 1;
	return r;
}

int
cl_tls_read(struct cl_tls *t, struct cl_queue *q)
{
	uint8_t chunk[16384];
	int r;

	while (q->len < q->max) {
		size_t want = q->max - q->len < sizeof(chunk) ? q->max - q->len : sizeof(chunk);
		size_t got = 0;
		ERR_clear_error();
		errno = 0;
		int n = SSL_read_ex(t->ssl, chunk, want, &got);
		if ((r = ssl_result(t, n, &t->rd_wants)) == 0)
			return OC_OK;
		if (r < 0)
			return r;
		t->rd_wants = POLLIN;
		if (cl_queue_put(q, chunk, got) != OC_OK)
			return OC_ERR_IPC;
	}
	return OC_OK;
}

int
cl_tls_write(struct cl_tls *t, struct cl_queue *q)
{
	int r;

	while (q->len > 0) {
		size_t done = 0;
		ERR_clear_error();
		errno = 0;
		/* the same bytes are offered again after a WANT_* (the queue does not move) */
		int n = SSL_write_ex(t->ssl, cl_queue_ptr(q), q->len, &done);
		if ((r = ssl_result(t, n, &t->wr_wants)) == 0)
			return OC_OK;
		if (r < 0)
			return r == OC_ERR_EOF ? OC_ERR_IPC : r;
		t->wr_wants = POLLOUT;
		cl_queue_consume(q, done);
	}
	return OC_OK;
}

short
cl_tls_events(const struct cl_tls *t, int reading, int writing)
{
	short ev = 0;

	if (!t->handshaken)
		return t->hs_wants;
	if (reading)
		ev |= t->rd_wants;
	if (writing)
		ev |= t->wr_wants;
	return ev;
}

int
cl_addr_split(const char *addr, char *host, size_t hlen, char *port, size_t plen)
{
	const char *colon, *h = addr;
	size_t n;

	if (addr == NULL)
		return OC_ERR_INVALID;
	if (addr[0] == '[') {
		const char *e = strchr(addr, ']');
		if (e == NULL || e[1] != ':')
			return OC_ERR_CONFIG;
		h = addr + 1;
		n = (size_t)(e - h);
		colon = e + 1;
	} else {
		if ((colon = strrchr(addr, ':')) == NULL || strchr(addr, ':') != colon)
			return OC_ERR_CONFIG;
		n = (size_t)(colon - addr);
	}
	if (n == 0 || n >= hlen || strlen(colon + 1) == 0 || strlen(colon + 1) >= plen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) || atol(colon + 1) > 65535)
		return OC_ERR_CONFIG;
	memcpy(host, h, n);
	host[n] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	return OC_OK;
}

static int
resolve(const char *addr, int passive, struct addrinfo **res)
{
	struct addrinfo hints;
	char host[256], port[8];
	int r;

	if ((r = cl_addr_split(addr, host, sizeof(host), port, sizeof(port))) != OC_OK)
		return r;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	if (getaddrinfo(host, port, &hints, res) != 0 || *res == NULL) {
		log_error("calink: cannot resolve %s", addr);
		return OC_ERR_CONFIG;
	}
	return OC_OK;
}

int
cl_listen_socket(const char *addr, int *fdp)
{
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, r;

	*fdp = -1;
	if ((r = resolve(addr, 1, &ai)) != OC_OK)
		return r;
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol)) < 0) {
		r = OC_ERR_IO;
		goto out;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0) {
		log_error("calink: cannot listen on %s: %s", addr, strerror(errno));
		r = OC_ERR_IO;
		goto out;
	}
	*fdp = fd;
	fd = -1;
	r = OC_OK;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

int
cl_connect_start(const char *addr, int *fdp)
{
	struct addrinfo *ai = NULL;
	int fd = -1, one = 1, r;

	*fdp = -1;
	if ((r = resolve(addr, 0, &ai)) != OC_OK)
		return r;
	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    ai->ai_protocol)) < 0) {
		r = OC_ERR_IO;
		goto out;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		r = OC_ERR_UNAVAILABLE;
		goto out;
	}
	*fdp = fd;
	fd = -1;
	r = OC_OK;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

void
cl_peer_addr(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET) {
			struct sockaddr_in *s = (struct sockaddr_in *)&ss;
			inet_ntop(AF_INET, &s->sin_addr, h, sizeof(h));
			port = ntohs(s->sin_port);
		} else if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
			inet_ntop(AF_INET6, &s->sin6_addr, h, sizeof(h));
			port = ntohs(s->sin6_port);
		}
	}
	snprintf(buf, len, "%s:%d", h, port);
}

double
cl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
