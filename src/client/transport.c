/*
 * HTTPS for the client: one libcurl easy handle per run (connections are
 * reused between GetPolicies and the RST when the host is the same), the CA
 * bundle from --ca-file only, bounded responses, no redirects, timeouts; and
 * the failover order: random among policy URLs, by priority then random among
 * CES URIs. The failover loop takes an "attempt" callback so it can be tested
 * without a server.
 */
#include "client/client.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "common/limits.h"
#include "common/log.h"

/* ------------------------------------------------------------------ */
/* Randomness */

void
client_rng_seed(struct client_rng *r, uint64_t seed)
{
	r->s = seed;
}

int
client_rng_init(struct client_rng *r)
{
	uint64_t seed;

	if (RAND_bytes((unsigned char *)&seed, sizeof(seed)) != 1)
		return OC_ERR_CRYPTO;
	r->s = seed;
	return OC_OK;
}

/* splitmix64: fine for shuffling a handful of URLs, seedable for tests. */
static uint64_t
rng_next(struct client_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t
client_rng_below(struct client_rng *r, uint32_t n)
{
	uint32_t x, threshold;

	if (n <= 1)
		return 0;
	threshold = (uint32_t)(-n) % n;        /* reject the biased low values */
	do
		x = (uint32_t)(rng_next(r) >> 32);
	while (x < threshold);
	return x % n;
}

void
client_shuffle(const char **v, size_t n, struct client_rng *rng)
{
	for (size_t k = n; k > 1; k--) {
		size_t m = client_rng_below(rng, (uint32_t)k);
		const char *t = v[k - 1];
		v[k - 1] = v[m];
		v[m] = t;
	}
}

int
client_uuid_urn(char out[CLIENT_UUID_URN_LEN])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return OC_ERR_CRYPTO;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
	snprintf(out, CLIENT_UUID_URN_LEN,
	    "urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
	    b[12], b[13], b[14], b[15]);
	return OC_OK;
}

/* ------------------------------------------------------------------ */
/* libcurl */

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct ocbuf *b = userdata;
	size_t n = size * nmemb;

	if (ocbuf_put(b, ptr, n) != OC_OK)
		return 0;       /* over OC_CLIENT_RESPONSE_MAX: abort the transfer */
	return n;
}

#define SETOPT(h, opt, val) do {                                        \
	if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) {           \
		log_error("curl_easy_setopt(%s) failed", #opt);          \
		r = OC_ERR_CONFIG;                                       \
		goto out;                                                \
	}                                                                \
} while (0)

int
client_http_init(struct client_http *h, const struct client_http_opts *o)
{
	CURL *c = NULL;
	struct curl_slist *hl = NULL, *t;
	int r = OC_ERR_NOMEM;

	memset(h, 0, sizeof(*h));
	if ((c = curl_easy_init()) == NULL)
		goto out;
	if ((t = curl_slist_append(hl, "Content-Type: application/soap+xml; charset=utf-8")) == NULL)
		goto out;
	hl = t;
	if ((t = curl_slist_append(hl, "Expect:")) == NULL)   /* no 100-continue round trip */
		goto out;
	hl = t;
	SETOPT(c, CURLOPT_PROTOCOLS_STR, o->allow_http ? "http,https" : "https");
	SETOPT(c, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	SETOPT(c, CURLOPT_TIMEOUT, o->timeout > 0 ? o->timeout : (long)OC_CLIENT_TIMEOUT_DEFAULT);
	SETOPT(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout > 0 ? o->connect_timeout :
	    (long)OC_CLIENT_CONNECT_TIMEOUT_DEFAULT);
	SETOPT(c, CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL) {
		SETOPT(c, CURLOPT_CAINFO, o->ca_file);
		SETOPT(c, CURLOPT_CAPATH, (char *)NULL);    /* only the given bundle */
	}
	SETOPT(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)OC_CLIENT_RESPONSE_MAX);
	SETOPT(c, CURLOPT_ERRORBUFFER, h->errbuf);
	SETOPT(c, CURLOPT_USERAGENT, "opences/" OC_VERSION);
	SETOPT(c, CURLOPT_HTTPHEADER, hl);
	SETOPT(c, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(c, CURLOPT_POST, 1L);
	if (o->auth == CLIENT_AUTH_KERBEROS) {
		/* SPNEGO with the default credential cache; no password involved */
		SETOPT(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_NEGOTIATE);
		SETOPT(c, CURLOPT_USERPWD, ":");
	}
	if (o->tls_cert != NULL)
		SETOPT(c, CURLOPT_SSLCERT, o->tls_cert);
	if (o->tls_key != NULL)
		SETOPT(c, CURLOPT_SSLKEY, o->tls_key);
	h->curl = c;
	h->headers = hl;
	c = NULL;
	hl = NULL;
	r = OC_OK;
out:
	if (c != NULL)
		curl_easy_cleanup(c);
	curl_slist_free_all(hl);
	return r;
}

void
client_http_free(struct client_http *h)
{
	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	h->curl = NULL;
	h->headers = NULL;
}

void
client_http_resp_free(struct client_http_resp *resp)
{
	if (resp == NULL)
		return;
	ocbuf_free(&resp->body);
	resp->status = 0;
}

int
client_http_post(struct client_http *h, const char *url, const uint8_t *body,
    size_t len, struct client_http_resp *resp)
{
	CURLcode cc;
	long status = 0;
	int r;

	memset(resp, 0, sizeof(*resp));
	ocbuf_init(&resp->body, OC_CLIENT_RESPONSE_MAX);
	h->errbuf[0] = '\0';
	SETOPT(h->curl, CURLOPT_URL, url);
	SETOPT(h->curl, CURLOPT_POSTFIELDS, (const char *)body);
	SETOPT(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	SETOPT(h->curl, CURLOPT_WRITEDATA, &resp->body);
	cc = curl_easy_perform(h->curl);
	/* curl keeps a pointer to the (secret-bearing) body: drop it now */
	(void)curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "");
	(void)curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	if (h->errbuf[0] == '\0')
		snprintf(h->errbuf, sizeof(h->errbuf), "%s", curl_easy_strerror(cc));
	switch (cc) {
	case CURLE_OK:
		if (curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
			r = OC_ERR_INTERNAL;
			goto out;
		}
		resp->status = status;
		r = OC_OK;
		break;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		r = OC_ERR_LIMIT;
		break;
	case CURLE_OUT_OF_MEMORY:
		r = OC_ERR_NOMEM;
		break;
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CRL_BADFILE:
		r = OC_ERR_CONFIG;        /* our own files are wrong: no point going on */
		break;
	default:
		/* could not connect, timed out, TLS failure, dropped, bad URL scheme ... */
		r = OC_ERR_UNAVAILABLE;
		break;
	}
out:
	if (r != OC_OK)
		ocbuf_free(&resp->body);
	return r;
}

enum client_verdict
client_classify(long status, const uint8_t *body, size_t len)
{
	if (status >= 200 && status < 300)
		return CLIENT_ANSWER;
	/* a SOAP fault is an answer whatever the status (WCF sends 500) */
	if (len > 0 && client_is_soap_fault(body, len))
		return CLIENT_ANSWER;
	if (status >= 500 && status < 600)
		return CLIENT_NEXT;
	return CLIENT_HTTP_ERROR;
}

int
client_exchange(struct client_http *h, const char *url, const uint8_t *body, size_t len,
    struct client_http_resp *resp)
{
	int r;

	log_info("POST %s (%zu bytes)", url, len);
	r = client_http_post(h, url, body, len, resp);
	if (r == OC_ERR_UNAVAILABLE) {
		log_warn("%s: %s; trying the next URI", url, h->errbuf);
		return r;
	}
	if (r != OC_OK) {
		log_error("%s: %s (%s)", url, oc_strerror(r), h->errbuf);
		return r;
	}
	log_info("%s: HTTP %ld, %zu bytes", url, resp->status, ocbuf_avail(&resp->body));
	switch (client_classify(resp->status, ocbuf_ptr(&resp->body), ocbuf_avail(&resp->body))) {
	case CLIENT_ANSWER:
		return OC_OK;
	case CLIENT_NEXT:
		log_warn("%s: HTTP %ld without a SOAP fault; trying the next URI", url,
		    resp->status);
		r = OC_ERR_UNAVAILABLE;
		break;
	default:
		log_error("%s: HTTP %ld without a SOAP fault", url, resp->status);
		r = resp->status == 401 || resp->status == 403 ? OC_ERR_AUTH : OC_ERR_PARSE;
		break;
	}
	client_http_resp_free(resp);
	return r;
}

int
client_failover(const char *const *urls, size_t n, client_attempt_fn attempt, void *ctx,
    size_t *used)
{
	int r;

	for (size_t i = 0; i < n; i++) {
		r = attempt(ctx, urls[i]);
		if (r != OC_ERR_UNAVAILABLE) {
			if (used != NULL)
				*used = i;
			return r;
		}
	}
	return OC_ERR_UNAVAILABLE;
}
