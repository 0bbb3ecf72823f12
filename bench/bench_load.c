/*
 * bench_load: a bounded HTTP/1.1 load generator for loopback benchmarks.
 *
 *   bench_load --url https://127.0.0.1:8443/PATH --body FILE
 *              [--concurrency C] [--requests N] [--seconds S]
 *              [--content-type TYPE] [--expect STATUS] [--cafile PEM]
 *              [--server-pid PID] [--label TEXT]
 *
 * C threads, one blocking connection each (TLS with its own session when the
 * URL is https://), keep-alive, POSTing FILE again and again until N requests
 * were sent or S seconds passed. Every response is read completely
 * (Content-Length, chunked or until close) and its status compared with the
 * expected one (200). Prints requests/s, latency p50/p90/p99/max, errors, and
 * the peak RSS (VmHWM) of the server process and its descendants when
 * --server-pid is given. The last line is machine readable (key=value).
 *
 * Loopback only: the host must be a literal 127.0.0.0/8 or ::1 address
 * (or "localhost", taken as 127.0.0.1); no name is ever resolved.
 * Plain http:// is accepted for peers that have no TLS (cfssl serve).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

int main(int argc, char **argv);

#define BL_MAX_BODY        (16 * 1024 * 1024)  /* request body file */
#define BL_MAX_RESPONSE    (64 * 1024 * 1024)  /* response body, read and dropped */
#define BL_MAX_HEADERS     (64 * 1024)
#define BL_MAX_CONCURRENCY 1024
#define BL_MAX_SECONDS     3600
#define BL_MAX_STATUSES    8
#define BL_IO_TIMEOUT_S    30
#define BL_MAX_PATH        4096

/* Latency histogram in microseconds: exact below 1024 us, then 64 sub-buckets
 * per power of two (relative error under 1.6 %), up to 2^40 us. */
#define BL_SUB    64
#define BL_EXACT  1024
#define BL_HBUCKETS (BL_EXACT + (40 - 10) * BL_SUB)

struct hist {
	uint64_t n[BL_HBUCKETS];
	uint64_t count;
	uint64_t max;
	uint64_t sum;
};

struct status_count {
	int status;     /* HTTP status, or -1 for a transport error */
	uint64_t n;
};

struct target {
	int tls;
	int family;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host[128];      /* literal address, for Host: and certificate IP check */
	char hosthdr[160];   /* Host: header value */
	char path[BL_MAX_PATH];
};

struct shared {
	const struct target *t;
	SSL_CTX *ctx;
	const char *request;     /* complete HTTP request (headers + body) */
	size_t request_len;
	int expect;
	uint64_t max_requests;   /* 0 = unbounded (time bound only) */
	struct timespec deadline;
	atomic_uint_fast64_t issued;
	atomic_int stop;
};

struct worker {
	pthread_t th;
	struct shared *sh;
	struct hist h;
	struct status_count st[BL_MAX_STATUSES];
	uint64_t ok, bad_status, io_errors, connects;
	uint64_t connect_us;     /* summed TCP+TLS set-up time */
	char last_error[160];
};

struct conn {
	int fd;
	SSL *ssl;
	/* read buffer */
	char buf[16384];
	size_t off, len;
};

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int
past(const struct timespec *deadline)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec > deadline->tv_sec ||
	    (ts.tv_sec == deadline->tv_sec && ts.tv_nsec >= deadline->tv_nsec);
}

static size_t
hist_index(uint64_t v)
{
	int msb;
	size_t idx;

	if (v < BL_EXACT)
		return (size_t)v;
	msb = 63 - __builtin_clzll(v);              /* >= 10 */
	if (msb >= 40)
		return BL_HBUCKETS - 1;
	idx = BL_EXACT + (size_t)(msb - 10) * BL_SUB +
	    (size_t)((v >> (msb - 6)) & (BL_SUB - 1));
	return idx;
}

/* Lower bound of a bucket's values, in microseconds. */
static uint64_t
hist_value(size_t idx)
{
	size_t k;
	int msb;

	if (idx < BL_EXACT)
		return idx;
	k = idx - BL_EXACT;
	msb = (int)(k / BL_SUB) + 10;
	return ((uint64_t)1 << msb) + ((uint64_t)(k % BL_SUB) << (msb - 6));
}

static void
hist_add(struct hist *h, uint64_t v)
{
	h->n[hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

static void
hist_merge(struct hist *dst, const struct hist *src)
{
	size_t i;

	for (i = 0; i < BL_HBUCKETS; i++)
		dst->n[i] += src->n[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

static double
hist_quantile_ms(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	size_t i;

	if (h->count == 0)
		return 0.0;
	rank = (uint64_t)(q * (double)h->count);
	if (rank >= h->count)
		rank = h->count - 1;
	for (i = 0; i < BL_HBUCKETS; i++) {
		seen += h->n[i];
		if (seen > rank)
			return (double)hist_value(i) / 1000.0;
	}
	return (double)h->max / 1000.0;
}

static void
count_status(struct worker *w, int status)
{
	size_t i;

	for (i = 0; i < BL_MAX_STATUSES; i++) {
		if (w->st[i].n == 0 || w->st[i].status == status) {
			w->st[i].status = status;
			w->st[i].n++;
			return;
		}
	}
	w->st[BL_MAX_STATUSES - 1].n++;     /* table full: lump into the last */
}

static void
set_error(struct worker *w, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char ebuf[120] = "";

	if (e != 0)
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
	else if (errno != 0)
		snprintf(ebuf, sizeof(ebuf), "%s", strerror(errno));
	snprintf(w->last_error, sizeof(w->last_error), "%s%s%s", what,
	    ebuf[0] ? ": " : "", ebuf);
	ERR_clear_error();
}

static void
conn_close(struct conn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->off = c->len = 0;
}

static int
conn_open(struct worker *w, struct conn *c)
{
	const struct shared *sh = w->sh;
	struct timeval tv = { .tv_sec = BL_IO_TIMEOUT_S };
	int one = 1, rc = -1;
	uint64_t t0 = now_us();

	errno = 0;
	c->off = c->len = 0;
	c->fd = socket(sh->t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		set_error(w, "socket");
		goto out;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (const struct sockaddr *)&sh->t->addr, sh->t->addrlen) != 0) {
		set_error(w, "connect");
		goto out;
	}
	if (sh->t->tls) {
		if ((c->ssl = SSL_new(sh->ctx)) == NULL ||
		    SSL_set_fd(c->ssl, c->fd) != 1) {
			set_error(w, "SSL_new");
			goto out;
		}
		if (SSL_CTX_get_verify_mode(sh->ctx) != SSL_VERIFY_NONE &&
		    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), sh->t->host) != 1) {
			set_error(w, "set1_ip");
			goto out;
		}
		if (SSL_connect(c->ssl) != 1) {
			set_error(w, "TLS handshake");
			goto out;
		}
	}
	w->connects++;
	w->connect_us += now_us() - t0;
	rc = 0;
out:
	if (rc != 0)
		conn_close(c);
	return rc;
}

static int
conn_write(struct conn *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k;

		if (c->ssl != NULL) {
			size_t wr = 0;

			if (SSL_write_ex(c->ssl, p, n, &wr) != 1)
				return -1;
			k = (ssize_t)wr;
		} else {
			k = send(c->fd, p, n, MSG_NOSIGNAL);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Refill the read buffer: 1 = data, 0 = clean EOF, -1 = error. */
static int
conn_fill(struct conn *c)
{
	if (c->off < c->len)
		return 1;
	c->off = c->len = 0;
	for (;;) {
		if (c->ssl != NULL) {
			size_t rd = 0;
			int r = SSL_read_ex(c->ssl, c->buf, sizeof(c->buf), &rd);

			if (r == 1) {
				c->len = rd;
				return 1;
			}
			r = SSL_get_error(c->ssl, r);
			if (r == SSL_ERROR_ZERO_RETURN)
				return 0;
			/* a peer that closes without close_notify: treat as EOF */
			if (r == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0)
				return 0;
			if (r == SSL_ERROR_SSL &&
			    ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
				ERR_clear_error();
				return 0;
			}
			return -1;
		} else {
			ssize_t k = recv(c->fd, c->buf, sizeof(c->buf), 0);

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return -1;
			c->len = (size_t)k;
			return k > 0 ? 1 : 0;
		}
	}
}

/* Read one line (without CRLF) into out (bounded). 0 ok, -1 error/EOF/too long. */
static int
conn_line(struct conn *c, char *out, size_t max, size_t *budget)
{
	size_t n = 0;

	for (;;) {
		char ch;

		if (conn_fill(c) != 1)
			return -1;
		ch = c->buf[c->off++];
		if (*budget == 0)
			return -1;
		(*budget)--;
		if (ch == '\n') {
			if (n > 0 && out[n - 1] == '\r')
				n--;
			out[n] = '\0';
			return 0;
		}
		if (n + 1 >= max)
			return -1;
		out[n++] = ch;
	}
}

/* Discard exactly n bytes. */
static int
conn_skip(struct conn *c, uint64_t n)
{
	while (n > 0) {
		size_t k;

		if (conn_fill(c) != 1)
			return -1;
		k = c->len - c->off;
		if (k > n)
			k = (size_t)n;
		c->off += k;
		n -= k;
	}
	return 0;
}

/* Discard until EOF (bounded). */
static int
conn_drain(struct conn *c)
{
	uint64_t total = 0;
	int r;

	while ((r = conn_fill(c)) == 1) {
		total += c->len - c->off;
		c->off = c->len;
		if (total > BL_MAX_RESPONSE)
			return -1;
	}
	return r == 0 ? 0 : -1;
}

static int
hdr_is(const char *line, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return 0;
	line += n + 1;
	while (*line == ' ' || *line == '\t')
		line++;
	*val = line;
	return 1;
}

/*
 * Read one response. Returns the status (100-599) or -1 on a transport or
 * framing error. *keep says whether the connection may be reused.
 */
static int
read_response(struct conn *c, int *keep)
{
	char line[8192];
	size_t budget = BL_MAX_HEADERS;
	int status = -1, http10 = 0, chunked = 0, closing = 0, have_len = 0;
	uint64_t clen = 0;
	const char *v;

	*keep = 0;
	do {
		if (conn_line(c, line, sizeof(line), &budget) != 0)
			return -1;
		if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
		    line[8] != ' ' || !isdigit((unsigned char)line[9]) ||
		    !isdigit((unsigned char)line[10]) || !isdigit((unsigned char)line[11]))
			return -1;
		http10 = line[7] == '0';
		status = atoi(line + 9);
		for (;;) {
			if (conn_line(c, line, sizeof(line), &budget) != 0)
				return -1;
			if (line[0] == '\0')
				break;
			if (hdr_is(line, "Content-Length", &v)) {
				char *end = NULL;

				errno = 0;
				clen = strtoull(v, &end, 10);
				if (errno != 0 || end == v || clen > BL_MAX_RESPONSE)
					return -1;
				have_len = 1;
			} else if (hdr_is(line, "Transfer-Encoding", &v)) {
				chunked = strcasestr(v, "chunked") != NULL;
			} else if (hdr_is(line, "Connection", &v)) {
				if (strcasestr(v, "close") != NULL)
					closing = 1;
				else if (strcasestr(v, "keep-alive") != NULL)
					http10 = 0;
			}
		}
	} while (status >= 100 && status < 200);   /* skip 1xx */

	if (chunked) {
		uint64_t total = 0;

		for (;;) {
			char *end = NULL;
			uint64_t sz;

			if (conn_line(c, line, sizeof(line), &budget) != 0)
				return -1;
			budget = BL_MAX_HEADERS;
			errno = 0;
			sz = strtoull(line, &end, 16);
			if (errno != 0 || end == line)
				return -1;
			total += sz;
			if (total > BL_MAX_RESPONSE)
				return -1;
			if (sz == 0)
				break;
			if (conn_skip(c, sz) != 0 ||
			    conn_line(c, line, sizeof(line), &budget) != 0 || line[0] != '\0')
				return -1;
		}
		do {    /* trailers */
			if (conn_line(c, line, sizeof(line), &budget) != 0)
				return -1;
		} while (line[0] != '\0');
	} else if (have_len) {
		if (conn_skip(c, clen) != 0)
			return -1;
	} else if (status != 204 && status != 304) {
		if (conn_drain(c) != 0)
			return -1;
		closing = 1;
	}
	*keep = !closing && !http10;
	return status;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct shared *sh = w->sh;
	struct conn c = { .fd = -1 };

	for (;;) {
		uint64_t t0, n;
		int status, keep = 0;

		if (atomic_load(&sh->stop) || past(&sh->deadline))
			break;
		n = atomic_fetch_add(&sh->issued, 1);
		if (sh->max_requests != 0 && n >= sh->max_requests)
			break;
		if (c.fd < 0 && conn_open(w, &c) != 0) {
			w->io_errors++;
			count_status(w, -1);
			usleep(10000);       /* refused: do not spin */
			continue;
		}
		t0 = now_us();
		errno = 0;
		if (conn_write(&c, sh->request, sh->request_len) != 0) {
			/* a kept-alive connection the server closed: retry once on a new one */
			conn_close(&c);
			if (conn_open(w, &c) != 0 ||
			    (t0 = now_us(), conn_write(&c, sh->request, sh->request_len)) != 0) {
				set_error(w, "write");
				w->io_errors++;
				count_status(w, -1);
				conn_close(&c);
				continue;
			}
		}
		status = read_response(&c, &keep);
		if (status >= 0)
			hist_add(&w->h, now_us() - t0);
		count_status(w, status);
		if (status < 0) {
			set_error(w, "read response");
			w->io_errors++;
		} else if (status == sh->expect) {
			w->ok++;
		} else {
			w->bad_status++;
		}
		if (status < 0 || !keep)
			conn_close(&c);
	}
	conn_close(&c);
	return NULL;
}

static int
parse_url(const char *url, struct target *t)
{
	const char *p, *slash, *portstr;
	char hostport[128];
	long port;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (strncmp(url, "https://", 8) == 0) {
		t->tls = 1;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else {
		fprintf(stderr, "bench_load: URL must start with https:// or http://\n");
		return -1;
	}
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	n = (size_t)(slash - p);
	if (n == 0 || n >= sizeof(hostport)) {
		fprintf(stderr, "bench_load: bad host in URL\n");
		return -1;
	}
	memcpy(hostport, p, n);
	hostport[n] = '\0';
	if (strlen(slash) >= sizeof(t->path)) {
		fprintf(stderr, "bench_load: path too long\n");
		return -1;
	}
	snprintf(t->path, sizeof(t->path), "%s", *slash ? slash : "/");

	portstr = NULL;
	if (hostport[0] == '[') {
		char *rb = strchr(hostport, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':')) {
			fprintf(stderr, "bench_load: bad IPv6 literal\n");
			return -1;
		}
		if (rb[1] == ':')
			portstr = rb + 2;
		*rb = '\0';
		snprintf(t->host, sizeof(t->host), "%s", hostport + 1);
	} else {
		char *colon = strrchr(hostport, ':');

		if (colon != NULL) {
			*colon = '\0';
			portstr = colon + 1;
		}
		snprintf(t->host, sizeof(t->host), "%s", hostport);
	}
	port = t->tls ? 443 : 80;
	if (portstr != NULL) {
		char *end = NULL;

		errno = 0;
		port = strtol(portstr, &end, 10);
		if (errno != 0 || end == portstr || *end != '\0' || port < 1 || port > 65535) {
			fprintf(stderr, "bench_load: bad port in URL\n");
			return -1;
		}
	}
	if (strcmp(t->host, "localhost") == 0)
		snprintf(t->host, sizeof(t->host), "127.0.0.1");

	/* Loopback only, literals only: nothing is resolved. */
	{
		struct sockaddr_in *s4 = (struct sockaddr_in *)&t->addr;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->addr;

		if (inet_pton(AF_INET, t->host, &s4->sin_addr) == 1) {
			if ((ntohl(s4->sin_addr.s_addr) >> 24) != 127) {
				fprintf(stderr, "bench_load: refusing %s: only 127.0.0.0/8 and ::1\n",
				    t->host);
				return -1;
			}
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			t->family = AF_INET;
			t->addrlen = sizeof(*s4);
			snprintf(t->hosthdr, sizeof(t->hosthdr), "%s:%ld", t->host, port);
		} else if (inet_pton(AF_INET6, t->host, &s6->sin6_addr) == 1) {
			if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr)) {
				fprintf(stderr, "bench_load: refusing %s: only 127.0.0.0/8 and ::1\n",
				    t->host);
				return -1;
			}
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			t->family = AF_INET6;
			t->addrlen = sizeof(*s6);
			snprintf(t->hosthdr, sizeof(t->hosthdr), "[%s]:%ld", t->host, port);
		} else {
			fprintf(stderr, "bench_load: refusing host '%s': give a loopback address "
			    "literal (127.x.x.x or [::1])\n", t->host);
			return -1;
		}
	}
	return 0;
}

static int
read_file(const char *path, char **out, size_t *outlen)
{
	FILE *f = NULL;
	char *buf = NULL;
	struct stat st;
	int rc = -1;

	if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "bench_load: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > BL_MAX_BODY) {
		fprintf(stderr, "bench_load: %s: not a regular file of at most %d bytes\n",
		    path, BL_MAX_BODY);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto out;
	if (fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
		fprintf(stderr, "bench_load: %s: short read\n", path);
		goto out;
	}
	buf[st.st_size] = '\0';
	*out = buf;
	*outlen = (size_t)st.st_size;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* VmHWM in kB of one pid, or -1. */
static long
vmhwm_kb(long pid)
{
	char path[64], line[256];
	FILE *f;
	long kb = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmHWM:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

static long
ppid_of(long pid)
{
	char path[64], buf[512], *rp;
	FILE *f;
	long ppid = -1;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), f) != NULL && (rp = strrchr(buf, ')')) != NULL)
		sscanf(rp + 1, " %*c %ld", &ppid);
	fclose(f);
	return ppid;
}

/* Peak RSS of pid plus all its live descendants (each process's own VmHWM). */
static void
server_rss(long pid, long *own, long *total, int *nproc)
{
	long pids[4096];
	size_t npids = 0, i, j;
	DIR *d;
	struct dirent *de;
	int changed;
	unsigned char in[4096] = { 0 };

	*own = vmhwm_kb(pid);
	*total = *own;
	*nproc = *own >= 0 ? 1 : 0;
	if (*own < 0 || (d = opendir("/proc")) == NULL)
		return;
	while ((de = readdir(d)) != NULL && npids < 4096) {
		char *end = NULL;
		long p = strtol(de->d_name, &end, 10);

		if (end != de->d_name && *end == '\0' && p != pid)
			pids[npids++] = p;
	}
	closedir(d);
	/* transitive closure over ppid */
	{
		long ppids[4096];

		for (i = 0; i < npids; i++)
			ppids[i] = ppid_of(pids[i]);
		do {
			changed = 0;
			for (i = 0; i < npids; i++) {
				if (in[i])
					continue;
				if (ppids[i] == pid) {
					in[i] = 1;
					changed = 1;
					continue;
				}
				for (j = 0; j < npids; j++) {
					if (in[j] && ppids[i] == pids[j]) {
						in[i] = 1;
						changed = 1;
						break;
					}
				}
			}
		} while (changed);
	}
	for (i = 0; i < npids; i++) {
		long kb;

		if (in[i] && (kb = vmhwm_kb(pids[i])) >= 0) {
			*total += kb;
			(*nproc)++;
		}
	}
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bench_load --url https://127.0.0.1:PORT/PATH --body FILE\n"
	    "         [--concurrency C] [--requests N] [--seconds S]\n"
	    "         [--content-type TYPE] [--expect STATUS] [--cafile PEM]\n"
	    "         [--server-pid PID] [--label TEXT]\n"
	    "  at least one of --requests / --seconds bounds the run (default --seconds 10)\n");
}

static int
parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "body", required_argument, NULL, 'b' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "requests", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "content-type", required_argument, NULL, 't' },
		{ "expect", required_argument, NULL, 'e' },
		{ "cafile", required_argument, NULL, 'a' },
		{ "server-pid", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL, *body_path = NULL, *cafile = NULL, *label = "";
	const char *ctype = "application/soap+xml; charset=utf-8";
	unsigned long concurrency = 1, requests = 0, seconds = 0, expect = 200, pid = 0;
	struct target t;
	struct shared sh;
	struct worker *w = NULL;
	struct hist *all = NULL;
	struct status_count st[BL_MAX_STATUSES * 4];
	char *body = NULL, *req = NULL;
	size_t body_len = 0, req_cap, i, j, nst = 0;
	uint64_t ok = 0, bad = 0, ioerr = 0, conns = 0, conn_us = 0, t0, elapsed;
	int ch, rc = 2, started = 0, hlen;
	double secs;

	memset(&sh, 0, sizeof(sh));
	while ((ch = getopt_long(argc, argv, "u:b:c:n:s:t:e:a:p:l:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': url = optarg; break;
		case 'b': body_path = optarg; break;
		case 'a': cafile = optarg; break;
		case 't': ctype = optarg; break;
		case 'l': label = optarg; break;
		case 'c':
			if (parse_ulong(optarg, 1, BL_MAX_CONCURRENCY, &concurrency) != 0)
				goto bad_arg;
			break;
		case 'n':
			if (parse_ulong(optarg, 1, 1000000000ul, &requests) != 0)
				goto bad_arg;
			break;
		case 's':
			if (parse_ulong(optarg, 1, BL_MAX_SECONDS, &seconds) != 0)
				goto bad_arg;
			break;
		case 'e':
			if (parse_ulong(optarg, 100, 599, &expect) != 0)
				goto bad_arg;
			break;
		case 'p':
			if (parse_ulong(optarg, 1, 4194304, &pid) != 0)
				goto bad_arg;
			break;
		case 'h':
			usage();
			rc = 0;
			goto out;
		default:
		bad_arg:
			usage();
			goto out;
		}
	}
	if (url == NULL || body_path == NULL || optind != argc) {
		usage();
		goto out;
	}
	if (seconds == 0 && requests == 0)
		seconds = 10;
	if (seconds == 0)
		seconds = BL_MAX_SECONDS;
	if (strlen(ctype) > 256 || strpbrk(ctype, "\r\n") != NULL) {
		fprintf(stderr, "bench_load: bad --content-type\n");
		goto out;
	}
	if (parse_url(url, &t) != 0 || read_file(body_path, &body, &body_len) != 0)
		goto out;

	req_cap = body_len + BL_MAX_PATH + 1024;
	if ((req = malloc(req_cap)) == NULL)
		goto out;
	hlen = snprintf(req, req_cap,
	    "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nUser-Agent: opences-bench_load\r\nAccept: */*\r\n\r\n",
	    t.path, t.hosthdr, ctype, body_len);
	if (hlen < 0 || (size_t)hlen + body_len > req_cap)
		goto out;
	memcpy(req + hlen, body, body_len);

	signal(SIGPIPE, SIG_IGN);
	if (t.tls) {
		if ((sh.ctx = SSL_CTX_new(TLS_client_method())) == NULL)
			goto out;
		SSL_CTX_set_min_proto_version(sh.ctx, TLS1_2_VERSION);
		/* One full handshake per connection: no session cache, no tickets. */
		SSL_CTX_set_session_cache_mode(sh.ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(sh.ctx, SSL_OP_NO_TICKET);
		if (cafile != NULL) {
			if (SSL_CTX_load_verify_locations(sh.ctx, cafile, NULL) != 1) {
				fprintf(stderr, "bench_load: cannot load %s\n", cafile);
				goto out;
			}
			SSL_CTX_set_verify(sh.ctx, SSL_VERIFY_PEER, NULL);
		} else {
			SSL_CTX_set_verify(sh.ctx, SSL_VERIFY_NONE, NULL);
		}
	}

	sh.t = &t;
	sh.request = req;
	sh.request_len = (size_t)hlen + body_len;
	sh.expect = (int)expect;
	sh.max_requests = requests;
	atomic_init(&sh.issued, 0);
	atomic_init(&sh.stop, 0);
	clock_gettime(CLOCK_MONOTONIC, &sh.deadline);
	sh.deadline.tv_sec += (time_t)seconds;

	if ((w = calloc(concurrency, sizeof(*w))) == NULL ||
	    (all = calloc(1, sizeof(*all))) == NULL)
		goto out;
	t0 = now_us();
	for (i = 0; i < concurrency; i++) {
		w[i].sh = &sh;
		if (pthread_create(&w[i].th, NULL, worker_run, &w[i]) != 0) {
			fprintf(stderr, "bench_load: pthread_create failed\n");
			atomic_store(&sh.stop, 1);
			break;
		}
		started++;
	}
	for (i = 0; i < (size_t)started; i++)
		pthread_join(w[i].th, NULL);
	elapsed = now_us() - t0;
	if ((size_t)started != concurrency)
		goto out;

	memset(st, 0, sizeof(st));
	for (i = 0; i < concurrency; i++) {
		hist_merge(all, &w[i].h);
		ok += w[i].ok;
		bad += w[i].bad_status;
		ioerr += w[i].io_errors;
		conns += w[i].connects;
		conn_us += w[i].connect_us;
		for (j = 0; j < BL_MAX_STATUSES && w[i].st[j].n > 0; j++) {
			size_t k;

			for (k = 0; k < nst && st[k].status != w[i].st[j].status; k++)
				;
			if (k == nst) {
				if (nst == sizeof(st) / sizeof(st[0]))
					continue;
				st[nst].status = w[i].st[j].status;
				nst++;
			}
			st[k].n += w[i].st[j].n;
		}
	}
	secs = (double)elapsed / 1e6;

	printf("%s%s%s %s, concurrency %lu, %.2f s, body %zu bytes%s\n",
	    label, *label ? ": " : "", t.tls ? "https" : "http", url, concurrency, secs,
	    body_len, t.tls && cafile == NULL ? " (server certificate not verified)" : "");
	printf("  requests   %" PRIu64 " answered, %" PRIu64 " with status %lu, %" PRIu64
	    " other status, %" PRIu64 " transport errors\n",
	    all->count, ok, expect, bad, ioerr);
	printf("  rate       %.1f requests/s (%.1f with status %lu)\n",
	    secs > 0 ? (double)all->count / secs : 0.0, secs > 0 ? (double)ok / secs : 0.0, expect);
	printf("  latency    p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms, mean %.2f ms\n",
	    hist_quantile_ms(all, 0.50), hist_quantile_ms(all, 0.90),
	    hist_quantile_ms(all, 0.99), (double)all->max / 1000.0,
	    all->count ? (double)all->sum / (double)all->count / 1000.0 : 0.0);
	printf("  connects   %" PRIu64 " (mean set-up %.2f ms)\n", conns,
	    conns ? (double)conn_us / (double)conns / 1000.0 : 0.0);
	printf("  statuses  ");
	for (i = 0; i < nst; i++) {
		if (st[i].status < 0)
			printf(" error:%" PRIu64, st[i].n);
		else
			printf(" %d:%" PRIu64, st[i].status, st[i].n);
	}
	printf("\n");
	for (i = 0; i < concurrency; i++) {
		if (w[i].last_error[0]) {
			printf("  last error %s\n", w[i].last_error);
			break;
		}
	}
	{
		long own = -1, total = -1;
		int np = 0;

		if (pid != 0) {
			server_rss((long)pid, &own, &total, &np);
			if (own < 0)
				printf("  server     pid %lu: no /proc/%lu/status (exited?)\n", pid, pid);
			else
				printf("  server     pid %lu peak RSS (VmHWM) %ld kB; with %d process(es) "
				    "in its tree %ld kB\n", pid, own, np, total);
		}
		printf("RESULT label=%s concurrency=%lu seconds=%.2f requests=%" PRIu64
		    " ok=%" PRIu64 " bad_status=%" PRIu64 " io_errors=%" PRIu64
		    " rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f"
		    " server_vmhwm_kb=%ld server_tree_vmhwm_kb=%ld\n",
		    *label ? label : "-", concurrency, secs, all->count, ok, bad, ioerr,
		    secs > 0 ? (double)all->count / secs : 0.0,
		    hist_quantile_ms(all, 0.50), hist_quantile_ms(all, 0.90),
		    hist_quantile_ms(all, 0.99), (double)all->max / 1000.0, own, total);
	}
	rc = (bad == 0 && ioerr == 0 && all->count > 0) ? 0 : 1;
out:
	free(w);
	free(all);
	free(body);
	free(req);
	SSL_CTX_free(sh.ctx);
	return rc;
}
