/* The plain-HTTP publication listener (see publish.h). */
#include "publish/publish.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "common/log.h"
#include "common/util.h"

struct oc_publish {
	struct event_base *base;
	struct evhttp *http;
	char *dir;
	oc_publish_handler handler;     /* computed answers instead of files */
	void *arg;
	pthread_t thread;
	int running;
};

int
oc_publish_path_name(const char *path, char *name, size_t namelen)
{
	size_t n = 0;

	if (path == NULL || path[0] != '/')
		return OC_ERR_NOT_FOUND;
	for (const char *p = path + 1; *p != '\0' && *p != '?'; p++) {
		char ch = *p;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return OC_ERR_NOT_FOUND;
		if (n + 1 >= namelen || n >= OC_PUBLISH_NAME_MAX)
			return OC_ERR_NOT_FOUND;
		name[n++] = ch;
	}
	if (n == 0 || name[0] == '.')
		return OC_ERR_NOT_FOUND;
	name[n] = '\0';
	return OC_OK;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

const char *
oc_publish_content_type(const char *name)
{
	if (ends_with(name, ".crl"))
		return "application/pkix-crl";
	if (ends_with(name, ".crt") || ends_with(name, ".cer"))
		return "application/pkix-cert";
	if (ends_with(name, ".pem"))
		return "application/x-pem-file";
	return "application/octet-stream";
}

static void
reply_error(struct evhttp_request *req, int code, const char *reason)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	evhttp_send_reply(req, code, reason, NULL);
}

/* A computed answer for the request path. */
static void
handle_computed(struct oc_publish *p, struct evhttp_request *req, enum evhttp_cmd_type cmd)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct oc_publish_reply rep = { 500, "text/plain; charset=utf-8", NULL, 0 };
	struct evbuffer *body = NULL;
	const char *uri = evhttp_request_get_uri(req);
	char path[256], len[24];
	size_t n = strcspn(uri, "?");

	if (n >= sizeof(path)) {
		reply_error(req, 404, "Not Found");
		return;
	}
	memcpy(path, uri, n);
	path[n] = '\0';
	p->handler(p->arg, path, &rep);
	evhttp_add_header(h, "Content-Type", rep.content_type ? rep.content_type :
	    "text/plain; charset=utf-8");
	evhttp_add_header(h, "Cache-Control", "no-store");
	if (cmd == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", rep.len);
		evhttp_add_header(h, "Content-Length", len);
	} else if ((body = evbuffer_new()) == NULL ||
	    (rep.len > 0 && evbuffer_add(body, rep.body, rep.len) != 0)) {
		if (body != NULL)
			evbuffer_free(body);
		free(rep.body);
		reply_error(req, 500, "Internal Server Error");
		return;
	}
	free(rep.body);
	evhttp_send_reply(req, rep.status, rep.status == 200 ? "OK" : rep.status == 404 ?
	    "Not Found" : rep.status == 503 ? "Service Unavailable" : "Error", body);
	if (body != NULL)
		evbuffer_free(body);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	struct oc_publish *p = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *uri = evhttp_request_get_uri(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body = NULL;
	char name[OC_PUBLISH_NAME_MAX + 1], path[4096], len[24];
	uint8_t *data = NULL;
	size_t n = 0;
	int r;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(h, "Allow", "GET, HEAD");
		reply_error(req, 405, "Method Not Allowed");
		return;
	}
	if (p->handler != NULL) {
		handle_computed(p, req, cmd);
		return;
	}
	if (oc_publish_path_name(uri, name, sizeof(name)) != OC_OK ||
	    (size_t)snprintf(path, sizeof(path), "%s/%s", p->dir, name) >= sizeof(path)) {
		reply_error(req, 404, "Not Found");
		return;
	}
	if ((r = oc_file_read(path, &data, &n, OC_PUBLISH_FILE_MAX)) != OC_OK) {
		reply_error(req, r == OC_ERR_LIMIT || r == OC_ERR_NOMEM ? 500 : 404,
		    r == OC_ERR_LIMIT || r == OC_ERR_NOMEM ? "Internal Server Error" : "Not Found");
		return;
	}
	evhttp_add_header(h, "Content-Type", oc_publish_content_type(name));
	evhttp_add_header(h, "Cache-Control", "max-age=60");
	if (cmd == EVHTTP_REQ_HEAD) {
		snprintf(len, sizeof(len), "%zu", n);
		evhttp_add_header(h, "Content-Length", len);
	} else if ((body = evbuffer_new()) == NULL || evbuffer_add(body, data, n) != 0) {
		if (body != NULL)       /* libevent's evbuffer_free does not take NULL */
			evbuffer_free(body);
		free(data);
		reply_error(req, 500, "Internal Server Error");
		return;
	}
	free(data);
	evhttp_send_reply(req, 200, "OK", body);
	if (body != NULL)
		evbuffer_free(body);
}

static void *
run(void *arg)
{
	struct oc_publish *p = arg;

	event_base_dispatch(p->base);
	return NULL;
}

/* "HOST:PORT" with a numeric host ([v6]:port allowed). */
static int
split_address(const char *address, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon = strrchr(address, ':');
	const char *h = address;
	size_t hl;
	char *end = NULL;
	unsigned long v;

	if (colon == NULL || colon == address)
		return OC_ERR_CONFIG;
	hl = (size_t)(colon - address);
	if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	v = strtoul(colon + 1, &end, 10);
	if (hl == 0 || hl >= hostlen || *end != '\0' || colon[1] == '\0' || v == 0 || v > 65535)
		return OC_ERR_CONFIG;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (uint16_t)v;
	return OC_OK;
}

static int
start(const char *address, const char *dir, oc_publish_handler handler, void *arg,
    struct oc_publish **pp)
{
	struct oc_publish *p = NULL;
	char host[128];
	uint16_t port = 0;
	int r;

	*pp = NULL;
	if (address == NULL || (dir == NULL) == (handler == NULL))
		return OC_ERR_INVALID;
	if ((r = split_address(address, host, sizeof(host), &port)) != OC_OK) {
		log_error("publish_listen %s: not HOST:PORT", address);
		return r;
	}
	if (evthread_use_pthreads() != 0)
		return OC_ERR_INTERNAL;
	if ((p = calloc(1, sizeof(*p))) == NULL || (dir && (p->dir = strdup(dir)) == NULL)) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	p->handler = handler;
	p->arg = arg;
	r = OC_ERR_IO;
	if ((p->base = event_base_new()) == NULL || (p->http = evhttp_new(p->base)) == NULL)
		goto out;
	evhttp_set_allowed_methods(p->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS);
	evhttp_set_max_headers_size(p->http, 16384);
	evhttp_set_max_body_size(p->http, 0);
	evhttp_set_timeout(p->http, 30);
	evhttp_set_gencb(p->http, handle, p);
	if (evhttp_bind_socket(p->http, host, port) != 0) {
		log_error("publication listener: cannot listen on %s", address);
		goto out;
	}
	if (pthread_create(&p->thread, NULL, run, p) != 0)
		goto out;
	p->running = 1;
	if (dir != NULL)
		log_info("publishing %s over http://%s/", dir, address);
	else
		log_info("listening on http://%s/", address);
	*pp = p;
	p = NULL;
	r = OC_OK;
out:
	oc_publish_stop(p);
	return r;
}

int
oc_publish_start(const char *address, const char *dir, struct oc_publish **pp)
{
	return start(address, dir, NULL, NULL, pp);
}

int
oc_publish_start_handler(const char *address, oc_publish_handler handler, void *arg,
    struct oc_publish **pp)
{
	return start(address, NULL, handler, arg, pp);
}

void
oc_publish_stop(struct oc_publish *p)
{
	if (p == NULL)
		return;
	if (p->running) {
		event_base_loopbreak(p->base);
		pthread_join(p->thread, NULL);
	}
	if (p->http)
		evhttp_free(p->http);
	if (p->base)
		event_base_free(p->base);
	free(p->dir);
	free(p);
}
