/*
 * Jobs and the worker pool: a bounded FIFO of copied requests served by
 * cfg.workers threads; a finished job goes to the done list of the loop that
 * read its request, and that loop is woken with event_active() to send the
 * reply.
 */
#include "http/http_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <openssl/x509.h>

#include "common/log.h"

const char *
oc_http_request_header(const struct oc_http_request *req, const char *name)
{
	size_t i;

	if (req == NULL || name == NULL)
		return NULL;
	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* RFC 9110 token characters. */
static int
http_is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || strchr(extra, c) != NULL))
			return 0;
	}
	return 1;
}

/* Visible characters, space and tab: no CR/LF (no header injection). */
static int
http_is_field_value(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
	}
	return 1;
}

int
oc_http_response_add_header(struct oc_http_response *resp, const char *name,
    const char *value)
{
	struct oc_http_header *nh = NULL;
	char *n = NULL, *v = NULL;
	int r = OC_ERR_INVALID;

	if (resp == NULL || name == NULL || value == NULL ||
	    !http_is_token(name) || !http_is_field_value(value))
		goto out;
	r = OC_ERR_LIMIT;
	if (resp->nheaders >= OC_HTTP_RESP_HEADERS_MAX ||
	    strlen(name) + strlen(value) > OC_HTTP_MAX_HEADERS_SIZE)
		goto out;
	r = OC_ERR_NOMEM;
	if ((n = strdup(name)) == NULL || (v = strdup(value)) == NULL)
		goto out;
	nh = realloc(resp->headers, (resp->nheaders + 1) * sizeof(*nh));
	if (nh == NULL)
		goto out;
	resp->headers = nh;
	nh[resp->nheaders].name = n;
	nh[resp->nheaders].value = v;
	resp->nheaders++;
	n = v = NULL;
	r = OC_OK;
out:
	free(n);
	free(v);
	return r;
}

static void
http_headers_free(struct oc_http_header *h, size_t n)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

void
http_job_free(struct http_job *job)
{
	if (job == NULL)
		return;
	free(job->path);
	free(job->query);
	if (job->body != NULL) {
		/* requests may carry passwords (UsernameToken) */
		OPENSSL_cleanse(job->body, job->req.body_len);
		free(job->body);
	}
	http_headers_free(job->headers, job->nheaders);
	X509_free(job->peer_cert);
	ocbuf_free(&job->resp.body);
	http_headers_free(job->resp.headers, job->resp.nheaders);
	free(job);
}

/* Hand a finished job back to its loop; wake the loop when its list was empty. */
static void
http_job_done(struct http_job *job)
{
	struct http_loop *loop = job->loop;
	int wake;

	pthread_mutex_lock(&loop->dmu);
	wake = loop->dhead == NULL;
	if (loop->dtail != NULL)
		loop->dtail->next = job;
	else
		loop->dhead = job;
	loop->dtail = job;
	pthread_mutex_unlock(&loop->dmu);
	if (wake)
		event_active(loop->done_ev, 0, 0);
}

static void *
http_worker_main(void *arg)
{
	struct oc_http_server *srv = arg;
	struct http_job *job;
	void *tctx = NULL;

	if (srv->cfg.thread_init != NULL)
		tctx = srv->cfg.thread_init(srv->cfg.ctx);
	pthread_mutex_lock(&srv->mu);
	for (;;) {
		while (srv->qhead == NULL && !srv->quit)
			pthread_cond_wait(&srv->cv, &srv->mu);
		if (srv->quit)
			break;
		job = srv->qhead;
		srv->qhead = job->next;
		if (srv->qhead == NULL)
			srv->qtail = NULL;
		job->next = NULL;
		srv->nqueued--;
		srv->nbusy++;
		if (srv->cfg.queue_hook != NULL)
			srv->cfg.queue_hook(srv->cfg.ctx, -1);
		pthread_mutex_unlock(&srv->mu);

		srv->cfg.handler(srv->cfg.ctx, tctx, &job->req, &job->resp);

		http_job_done(job);     /* job belongs to its loop from here on */
		pthread_mutex_lock(&srv->mu);
		srv->nbusy--;
	}
	pthread_mutex_unlock(&srv->mu);
	if (srv->cfg.thread_fini != NULL)
		srv->cfg.thread_fini(srv->cfg.ctx, tctx);
	return NULL;
}

int
http_pool_start(struct oc_http_server *srv)
{
	size_t i, n = (size_t)srv->cfg.workers;
	int r = OC_OK;

	if ((srv->threads = calloc(n, sizeof(*srv->threads))) == NULL)
		return OC_ERR_NOMEM;
	srv->quit = 0;
	for (i = 0; i < n; i++) {
		if (pthread_create(&srv->threads[i], NULL, http_worker_main, srv) != 0) {
			log_error("cannot start worker %zu", i);
			r = OC_ERR_INTERNAL;
			break;
		}
		srv->nthreads++;
	}
	if (r != OC_OK)
		http_pool_stop(srv);
	return r;
}

void
http_pool_stop(struct oc_http_server *srv)
{
	size_t i;

	if (srv->threads == NULL)
		return;
	pthread_mutex_lock(&srv->mu);
	srv->quit = 1;
	pthread_cond_broadcast(&srv->cv);
	pthread_mutex_unlock(&srv->mu);
	for (i = 0; i < srv->nthreads; i++)
		pthread_join(srv->threads[i], NULL);
	free(srv->threads);
	srv->threads = NULL;
	srv->nthreads = 0;
}

int
http_pool_push(struct oc_http_server *srv, struct http_job *job)
{
	int r = OC_ERR_UNAVAILABLE;

	pthread_mutex_lock(&srv->mu);
	/*
	 * Every worker busy and queue_max waiting already: refuse. Jobs not yet
	 * picked up by an idle worker do not count against queue_max.
	 */
	if (srv->nqueued >= srv->nthreads - srv->nbusy + (size_t)srv->cfg.queue_max)
		goto out;
	job->next = NULL;
	if (srv->qtail != NULL)
		srv->qtail->next = job;
	else
		srv->qhead = job;
	srv->qtail = job;
	srv->nqueued++;
	if (srv->cfg.queue_hook != NULL)
		srv->cfg.queue_hook(srv->cfg.ctx, 1);
	pthread_cond_signal(&srv->cv);
	r = OC_OK;
out:
	pthread_mutex_unlock(&srv->mu);
	return r;
}

struct http_job *
http_pool_take_done(struct http_loop *loop)
{
	struct http_job *l;

	pthread_mutex_lock(&loop->dmu);
	l = loop->dhead;
	loop->dhead = loop->dtail = NULL;
	pthread_mutex_unlock(&loop->dmu);
	return l;
}

struct http_job *
http_pool_take_queued(struct oc_http_server *srv, struct http_loop *loop)
{
	struct http_job *l = NULL, **lt = &l, *job, *next, *keep = NULL, *ktail = NULL;
	size_t kept = 0;

	pthread_mutex_lock(&srv->mu);
	for (job = srv->qhead; job != NULL; job = next) {
		next = job->next;
		job->next = NULL;
		if (loop == NULL || job->loop == loop) {
			*lt = job;
			lt = &job->next;
		} else {
			if (ktail != NULL)
				ktail->next = job;
			else
				keep = job;
			ktail = job;
			kept++;
		}
	}
	srv->qhead = keep;
	srv->qtail = ktail;
	if (srv->cfg.queue_hook != NULL && srv->nqueued != kept)
		srv->cfg.queue_hook(srv->cfg.ctx, (int)kept - (int)srv->nqueued);
	srv->nqueued = kept;
	pthread_mutex_unlock(&srv->mu);
	return l;
}

/* "1.2.3.4:443", "[::1]:443": numeric addresses only (no DNS). */
int
http_parse_address(const char *addr, char *host, size_t hostlen, int *port)
{
	const char *p, *hend;
	unsigned char tmp[sizeof(struct in6_addr)];
	size_t hl;
	long v;
	char *end = NULL;
	int v6 = 0;

	if (addr == NULL)
		return OC_ERR_CONFIG;
	if (addr[0] == '[') {
		if ((hend = strchr(addr, ']')) == NULL || hend[1] != ':')
			return OC_ERR_CONFIG;
		addr++;
		p = hend + 2;
		v6 = 1;
	} else {
		if ((hend = strrchr(addr, ':')) == NULL)
			return OC_ERR_CONFIG;
		p = hend + 1;
	}
	hl = (size_t)(hend - addr);
	if (hl == 0 || hl >= hostlen)
		return OC_ERR_CONFIG;
	memcpy(host, addr, hl);
	host[hl] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, tmp) != 1)
		return OC_ERR_CONFIG;
	if (*p < '0' || *p > '9')
		return OC_ERR_CONFIG;
	v = strtol(p, &end, 10);
	if (*end != '\0' || v < 0 || v > 65535)
		return OC_ERR_CONFIG;
	*port = (int)v;
	return OC_OK;
}
