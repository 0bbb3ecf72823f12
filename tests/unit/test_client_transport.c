/*
 * opences transport against real sockets on 127.0.0.1: a closed port
 * (connection refused), a server that never answers (timeout), 503 without a
 * fault, 500 with a SOAP fault, 401/404, an oversized answer, and the failover
 * loop over them with client_exchange as the attempt. Plain HTTP is allowed
 * here only (client_http_opts.allow_http); TLS is covered end to end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/client.h"
#include "common/limits.h"

int main(void);

struct srv {
	int lfd;
	int port;
	const char *resp;       /* full HTTP response; NULL: hang until the client gives up */
	size_t resp_len;
	int contacted;
	char req[16384];
	size_t req_len;
	pthread_t th;
};

static int
listen_any(int *port, int do_listen)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*port = ntohs(sa.sin_port);
	if (do_listen)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

/* Read one request (headers + Content-Length body). */
static void
read_request(int fd, struct srv *s)
{
	char *end;
	size_t need = 0;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0)
			return;
		n = read(fd, s->req + s->req_len, sizeof(s->req) - 1 - s->req_len);
		if (n <= 0)
			return;
		s->req_len += (size_t)n;
		s->req[s->req_len] = '\0';
		if ((end = strstr(s->req, "\r\n\r\n")) != NULL) {
			char *cl = strcasestr(s->req, "Content-Length:");
			if (need == 0 && cl != NULL)
				need = (size_t)(end + 4 - s->req) + strtoul(cl + 15, NULL, 10);
			if (s->req_len >= need)
				return;
		}
		if (s->req_len >= sizeof(s->req) - 1)
			return;
	}
}

static void *
serve_one(void *arg)
{
	struct srv *s = arg;
	struct pollfd p = { s->lfd, POLLIN, 0 };
	int fd;

	if (poll(&p, 1, 8000) <= 0)
		return NULL;            /* never contacted */
	if ((fd = accept(s->lfd, NULL, NULL)) < 0)
		return NULL;
	s->contacted = 1;
	read_request(fd, s);
	if (s->resp != NULL) {
		size_t off = 0;
		while (off < s->resp_len) {
			ssize_t n = write(fd, s->resp + off, s->resp_len - off);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	} else {
		char c;
		struct pollfd q = { fd, POLLIN, 0 };
		(void)(poll(&q, 1, 5000) > 0 && read(fd, &c, 1) >= 0);   /* until the client hangs up */
	}
	close(fd);
	return NULL;
}

static void
srv_start(struct srv *s, const char *resp)
{
	memset(s, 0, sizeof(*s));
	s->lfd = listen_any(&s->port, 1);
	s->resp = resp;
	s->resp_len = resp ? strlen(resp) : 0;
	assert_int_equal(pthread_create(&s->th, NULL, serve_one, s), 0);
}

static void
srv_stop(struct srv *s)
{
	if (!s->contacted) {
		/* wake the thread up with a connection it will take and drop */
		int port = s->port, fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)port);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			shutdown(fd, SHUT_RDWR);
		close(fd);
		pthread_join(s->th, NULL);
		s->contacted = 0;
	} else
		pthread_join(s->th, NULL);
	close(s->lfd);
}

static char *
url_of(int port, char *buf, size_t n)
{
	snprintf(buf, n, "http://127.0.0.1:%d/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP",
	    port);
	return buf;
}

static char *
http_response(const char *status, const char *body)
{
	char *r = NULL;

	assert_true(asprintf(&r, "HTTP/1.1 %s\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", status, strlen(body), body) > 0);
	return r;
}

static char *
vector_str(const char *name)
{
	char path[1024];
	const char *dir = getenv("OC_VECTORS");
	uint8_t *d = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/client/%s", dir ? dir : "tests/vectors", name);
	assert_int_equal(oc_file_read(path, &d, &len, 1 << 20), OC_OK);
	return (char *)d;
}

static void
http_init(struct client_http *h, long timeout)
{
	struct client_http_opts o;

	memset(&o, 0, sizeof(o));
	o.timeout = timeout;
	o.connect_timeout = 2;
	o.auth = CLIENT_AUTH_PASSWORD;
	o.allow_http = 1;
	assert_int_equal(client_http_init(h, &o), OC_OK);
}

static const char BODY[] = "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"/>";

static void
test_refused(void **state)
{
	struct client_http h;
	struct client_http_resp resp;
	char url[256];
	int port, fd;

	fd = listen_any(&port, 0);
	close(fd);              /* nobody listens there any more: connection refused */
	http_init(&h, 5);
	assert_int_equal(client_http_post(&h, url_of(port, url, sizeof(url)),
	    (const uint8_t *)BODY, strlen(BODY), &resp), OC_ERR_UNAVAILABLE);
	assert_true(h.errbuf[0] != '\0');
	assert_int_equal(client_exchange(&h, url, (const uint8_t *)BODY, strlen(BODY), &resp),
	    OC_ERR_UNAVAILABLE);
	client_http_free(&h);
}

static void
test_https_only_by_default(void **state)
{
	struct client_http h;
	struct client_http_opts o;
	struct client_http_resp resp;
	struct srv s;
	char url[256];

	srv_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	memset(&o, 0, sizeof(o));
	assert_int_equal(client_http_init(&h, &o), OC_OK);
	/* plain http:// is not even attempted by the real client */
	assert_int_equal(client_http_post(&h, url_of(s.port, url, sizeof(url)),
	    (const uint8_t *)BODY, strlen(BODY), &resp), OC_ERR_UNAVAILABLE);
	client_http_free(&h);
	srv_stop(&s);
	assert_false(s.contacted);
}

static void
test_timeout(void **state)
{
	struct client_http h;
	struct client_http_resp resp;
	struct srv s;
	char url[256];

	srv_start(&s, NULL);    /* accepts, reads, never answers */
	http_init(&h, 1);
	assert_int_equal(client_http_post(&h, url_of(s.port, url, sizeof(url)),
	    (const uint8_t *)BODY, strlen(BODY), &resp), OC_ERR_UNAVAILABLE);
	client_http_free(&h);
	srv_stop(&s);
	assert_true(s.contacted);
}

static void
test_request_headers(void **state)
{
	struct client_http h;
	struct client_http_resp resp;
	struct srv s;
	char url[256], *ok = http_response("200 OK", "<x/>");

	srv_start(&s, ok);
	http_init(&h, 5);
	assert_int_equal(client_http_post(&h, url_of(s.port, url, sizeof(url)),
	    (const uint8_t *)BODY, strlen(BODY), &resp), OC_OK);
	assert_int_equal(resp.status, 200);
	assert_int_equal(ocbuf_avail(&resp.body), 4);
	client_http_resp_free(&resp);
	client_http_free(&h);
	srv_stop(&s);
	assert_non_null(strstr(s.req, "POST /ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP "
	    "HTTP/1.1\r\n"));
	assert_non_null(strstr(s.req, "\r\nContent-Type: application/soap+xml; charset=utf-8\r\n"));
	assert_null(strcasestr(s.req, "\r\nExpect:"));
	assert_null(strcasestr(s.req, "\r\nAuthorization:"));
	assert_non_null(strstr(s.req, BODY));
	free(ok);
}

static void
test_classify(void **state)
{
	char *fault = vector_str("xcep_5_1_fault.xml");
	char *policy = vector_str("xcep_8_3_not_changed.xml");
	const struct {
		long status;
		const char *body;
		enum client_verdict want;
	} cases[] = {
		{ 200, policy, CLIENT_ANSWER },
		{ 200, "garbage", CLIENT_ANSWER },      /* parsed later, fails there */
		{ 200, fault, CLIENT_ANSWER },
		{ 500, fault, CLIENT_ANSWER },          /* WCF: a fault is an answer */
		{ 401, fault, CLIENT_ANSWER },
		{ 500, "Internal Error", CLIENT_NEXT },
		{ 502, "", CLIENT_NEXT },
		{ 503, "<html>busy</html>", CLIENT_NEXT },
		{ 500, policy, CLIENT_NEXT },           /* SOAP but not a fault */
		{ 404, "", CLIENT_HTTP_ERROR },
		{ 401, "", CLIENT_HTTP_ERROR },
		{ 302, "", CLIENT_HTTP_ERROR },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (client_classify(cases[i].status, (const uint8_t *)cases[i].body,
		    strlen(cases[i].body)) != cases[i].want)
			fail_msg("case %zu (HTTP %ld)", i, cases[i].status);
	free(fault);
	free(policy);
}

/* The attempt used by opences policy/enroll: exchange, then parse. */
struct attempt_ctx {
	struct client_http *h;
	struct client_policy pol;
};

static int
policy_attempt(void *ctx, const char *url)
{
	struct attempt_ctx *a = ctx;
	struct client_http_resp resp;
	int r;

	if ((r = client_exchange(a->h, url, (const uint8_t *)BODY, strlen(BODY), &resp)) != OC_OK)
		return r;
	r = client_policy_parse(ocbuf_ptr(&resp.body), ocbuf_avail(&resp.body), &a->pol);
	client_http_resp_free(&resp);
	return r;
}

static void
test_failover_real_sockets(void **state)
{
	char *fault_body = vector_str("xcep_5_1_fault.xml");
	char *nc_body = vector_str("xcep_8_3_not_changed.xml");
	char *r503 = http_response("503 Service Unavailable", "busy");
	char *r500 = http_response("500 Internal Server Error", "Internal Error");
	char *rfault = http_response("500 Internal Server Error", fault_body);
	char *rok = http_response("200 OK", nc_body);
	char *r401 = http_response("401 Unauthorized", "");
	char u[5][256];
	const char *urls[5];
	struct srv s503, s500, sfault, sok;
	struct client_http h;
	struct attempt_ctx a;
	size_t used = 99;
	int refused_port, fd;

	fd = listen_any(&refused_port, 0);
	close(fd);

	/* refused, 503, 500 without fault, 500 with fault, 200: the fault answers */
	srv_start(&s503, r503);
	srv_start(&s500, r500);
	srv_start(&sfault, rfault);
	srv_start(&sok, rok);
	urls[0] = url_of(refused_port, u[0], sizeof(u[0]));
	urls[1] = url_of(s503.port, u[1], sizeof(u[1]));
	urls[2] = url_of(s500.port, u[2], sizeof(u[2]));
	urls[3] = url_of(sfault.port, u[3], sizeof(u[3]));
	urls[4] = url_of(sok.port, u[4], sizeof(u[4]));
	http_init(&h, 5);
	memset(&a, 0, sizeof(a));
	a.h = &h;
	assert_int_equal(client_failover(urls, 5, policy_attempt, &a, &used), OC_OK);
	assert_int_equal(used, 3);
	assert_true(a.pol.is_fault);
	assert_string_equal(a.pol.fault.subcode, "a:InvalidSecurity");
	client_policy_clear(&a.pol);
	srv_stop(&s503);
	srv_stop(&s500);
	srv_stop(&sfault);
	srv_stop(&sok);
	assert_true(s503.contacted && s500.contacted && sfault.contacted);
	assert_false(sok.contacted);            /* a fault is final */

	/* refused, 503, then a real answer */
	srv_start(&s503, r503);
	srv_start(&sok, rok);
	urls[1] = url_of(s503.port, u[1], sizeof(u[1]));
	urls[2] = url_of(sok.port, u[2], sizeof(u[2]));
	assert_int_equal(client_failover(urls, 3, policy_attempt, &a, &used), OC_OK);
	assert_int_equal(used, 2);
	assert_false(a.pol.is_fault);
	assert_true(a.pol.policies_not_changed);
	client_policy_clear(&a.pol);
	srv_stop(&s503);
	srv_stop(&sok);

	/* 401 without a fault: final, the next one is not tried */
	srv_start(&s503, r401);
	srv_start(&sok, rok);
	urls[0] = url_of(s503.port, u[0], sizeof(u[0]));
	urls[1] = url_of(sok.port, u[1], sizeof(u[1]));
	assert_int_equal(client_failover(urls, 2, policy_attempt, &a, &used), OC_ERR_AUTH);
	assert_int_equal(used, 0);
	srv_stop(&s503);
	srv_stop(&sok);
	assert_false(sok.contacted);

	/* nothing reachable */
	urls[0] = url_of(refused_port, u[0], sizeof(u[0]));
	assert_int_equal(client_failover(urls, 1, policy_attempt, &a, &used), OC_ERR_UNAVAILABLE);

	client_http_free(&h);
	free(fault_body);
	free(nc_body);
	free(r503);
	free(r500);
	free(rfault);
	free(rok);
	free(r401);
}

static void
test_oversized_answer(void **state)
{
	struct client_http h;
	struct client_http_resp resp;
	struct srv s;
	char url[256], big[256];

	snprintf(big, sizeof(big), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n<x>",
	    OC_CLIENT_RESPONSE_MAX + 1);
	srv_start(&s, big);
	http_init(&h, 5);
	assert_int_equal(client_http_post(&h, url_of(s.port, url, sizeof(url)),
	    (const uint8_t *)BODY, strlen(BODY), &resp), OC_ERR_LIMIT);
	client_http_free(&h);
	srv_stop(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_https_only_by_default),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_request_headers),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_failover_real_sockets),
		cmocka_unit_test(test_oversized_answer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
