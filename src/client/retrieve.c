/*
 * `opences retrieve --request-id N`: ask a CES (QueryTokenStatus, wstep.md
 * 9.2) for the certificate of a request that was pending. The CES URIs come
 * from the policy (every CES of the policy's CAs with our authentication,
 * by priority, with failover) or from --ces-url. Issued: the certificate
 * must be for --key (the key `opences enroll` wrote when the request
 * pended), then it is written to --cert-out. Exit 4 while pending, 2 when
 * denied (the fault's HRESULT is printed), as for enroll.
 */
#include "client/retrieve.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "client/client.h"
#include "common/log.h"
#include "pkix/pkix.h"
#include "soap/soap.h"

#define RT_ACTION_RST "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep"
#define RT_TOKEN_TYPE "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
#define RT_REQ_QUERY  "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/QueryTokenStatus"
#define RT_NS_ENROLL  "http://schemas.microsoft.com/windows/pki/2009/01/enrollment"
#define RT_REQUEST_MAX (64u * 1024)

int
client_wstep_build_query(struct ocbuf *out, const char *to, const char *message_id,
    const char *user, const char *password, unsigned long request_id, long now)
{
	int r;

	if (request_id == 0 || request_id > 2147483647UL)
		return OC_ERR_INVALID;
	if ((r = client_soap_header(out, RT_ACTION_RST, message_id, to, user, password,
	    (time_t)now)) != OC_OK)
		return r;
	return ocbuf_printf(out, "<s:Body><wst:RequestSecurityToken xmlns:wst=\"" OC_NS_WST "\">"
	    "<wst:TokenType>" RT_TOKEN_TYPE "</wst:TokenType>"
	    "<wst:RequestType>" RT_REQ_QUERY "</wst:RequestType>"
	    "<RequestID xmlns=\"" RT_NS_ENROLL "\">%lu</RequestID>"
	    "</wst:RequestSecurityToken></s:Body></s:Envelope>", request_id);
}

struct rt {
	struct client_opts o;          /* the options the shared flow reads */
	struct client_flow f;
	unsigned long request_id;
	const char *ces_url, *key_path, *template_name;
};

static void
rt_usage(FILE *fp)
{
	fputs("usage: opences retrieve --request-id N (--policy-url URL ... | --ces-url URL)\n"
	    "         --auth password --user U --password-file F | --auth kerberos |\n"
	    "         --auth certificate --tls-cert C --tls-key K\n"
	    "         --key KEY --cert-out CERT [--template NAME] [--ca-file CA]\n"
	    "         [--timeout S] [--connect-timeout S] [-v]\n"
	    "  KEY: the key written by `opences enroll` when the request pended.\n"
	    "  exit: 0 issued, 1 error, 2 denied, 4 still pending, 5 unreachable\n", fp);
}

static void
put_safe(const char *s)
{
	for (; s && *s; s++)
		putchar((unsigned char)*s >= 0x20 && *s != 0x7f ? *s : '?');
}

static int
query_attempt(void *ctx, const char *url)
{
	struct rt *t = ctx;
	struct client_http_resp resp;
	struct ocbuf req;
	char mid[CLIENT_UUID_URN_LEN];
	int r;

	memset(&resp, 0, sizeof(resp));
	ocbuf_init(&req, RT_REQUEST_MAX);
	req.wipe = 1;           /* holds the password */
	client_rstrc_clear(&t->f.rstrc);
	if ((r = client_uuid_urn(mid)) != OC_OK ||
	    (r = client_wstep_build_query(&req, url, mid, t->o.auth == CLIENT_AUTH_PASSWORD ?
	    t->o.user : NULL, t->f.password, t->request_id, (long)time(NULL))) != OC_OK)
		goto out;
	if ((r = client_exchange(&t->f.http, url, ocbuf_ptr(&req), ocbuf_avail(&req), &resp)) != OC_OK)
		goto out;
	if ((r = client_rstrc_parse(ocbuf_ptr(&resp.body), ocbuf_avail(&resp.body), &t->f.rstrc)) != OC_OK)
		fprintf(stderr, "opences: %s: unexpected answer (%s)\n", url, oc_strerror(r));
out:
	client_http_resp_free(&resp);
	ocbuf_free(&req);
	return r;
}

/* Every CES URI with our authentication, by priority (the template's CAs if named). */
static int
policy_urls(struct rt *t, struct client_rng *rng, const char ***urls, size_t *n)
{
	const struct client_policy *pol = &t->f.pol;
	struct client_endpoint *eps = NULL;
	size_t neps = 0, k = 0;
	int r;

	*urls = NULL;
	*n = 0;
	if (t->template_name != NULL) {
		const struct client_template *tp = client_policy_find(pol, t->template_name);
		if (tp == NULL) {
			fprintf(stderr, "opences: template %s is not in the policy\n",
			    t->template_name);
			return OC_ERR_NOT_FOUND;
		}
		if ((r = client_order_endpoints(pol, tp, t->o.auth, rng, &eps, &neps)) != OC_OK)
			return r;
		if (neps > 0 && (*urls = calloc(neps, sizeof(**urls))) == NULL) {
			free(eps);
			return OC_ERR_NOMEM;
		}
		for (size_t i = 0; i < neps; i++)
			(*urls)[i] = eps[i].uri;
		*n = neps;
		free(eps);
		return OC_OK;
	}
	for (size_t i = 0; i < pol->ncas; i++)
		k += pol->cas[i].nuris;
	if (k == 0)
		return OC_OK;
	if ((*urls = calloc(k, sizeof(**urls))) == NULL)
		return OC_ERR_NOMEM;
	/* lowest priority value first (a nil priority last), stable */
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t prio = 0; prio <= (pass ? 0 : 64); prio++)
			for (size_t i = 0; i < pol->ncas; i++)
				for (size_t j = 0; j < pol->cas[i].nuris; j++) {
					const struct client_ca_uri *u = &pol->cas[i].uris[j];
					int dup = 0;
					if (u->auth != t->o.auth || u->renewal_only ||
					    (pass == 0 && (!u->has_priority || u->priority != prio)) ||
					    (pass == 1 && u->has_priority && u->priority <= 64))
						continue;
					for (size_t m = 0; m < *n; m++)
						dup |= strcmp((*urls)[m], u->uri) == 0;
					if (!dup)
						(*urls)[(*n)++] = u->uri;
				}
	return OC_OK;
}

static int
finish(struct rt *t, const char *url)
{
	const unsigned char *dp = t->f.rstrc.cert_der;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	char *pem = NULL, *line = NULL;
	int ex = CLIENT_EXIT_ERROR;

	if ((x = d2i_X509(NULL, &dp, (long)t->f.rstrc.cert_len)) == NULL) {
		fprintf(stderr, "opences: %s: the certificate does not decode\n", url);
		goto out;
	}
	if (client_load_key(t->key_path, &key) != OC_OK) {
		fprintf(stderr, "opences: cannot read the key %s\n", t->key_path);
		goto out;
	}
	if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1) {
		fprintf(stderr, "opences: %s: the certificate of request %lu is not for the key "
		    "in %s\n", url, t->request_id, t->key_path);
		goto out;
	}
	if (pkix_cert_to_pem(x, &pem) != OC_OK ||
	    client_write_file(t->o.cert_out, pem, strlen(pem), 0644) != OC_OK) {
		fprintf(stderr, "opences: cannot write the certificate to %s\n", t->o.cert_out);
		goto out;
	}
	if (client_cert_summary(x, t->template_name ? t->template_name : "-", url, &line) ==
	    OC_OK)
		printf("%s requestID=%lu\n", line, t->request_id);
	fflush(stdout);
	ex = CLIENT_EXIT_OK;
out:
	free(line);
	free(pem);
	EVP_PKEY_free(key);
	X509_free(x);
	return ex;
}

enum { R_REQ = 256, R_POLICY, R_CES, R_AUTH, R_USER, R_PWF, R_TLSC, R_TLSK, R_KEY, R_OUT,
	R_TPL, R_CA, R_TIMEOUT, R_CTIMEOUT };

static int
parse(int argc, char **argv, struct rt *t)
{
	static const struct option opts[] = {
		{ "request-id", required_argument, NULL, R_REQ },
		{ "policy-url", required_argument, NULL, R_POLICY },
		{ "ces-url", required_argument, NULL, R_CES },
		{ "auth", required_argument, NULL, R_AUTH },
		{ "user", required_argument, NULL, R_USER },
		{ "password-file", required_argument, NULL, R_PWF },
		{ "tls-cert", required_argument, NULL, R_TLSC },
		{ "tls-key", required_argument, NULL, R_TLSK },
		{ "key", required_argument, NULL, R_KEY },
		{ "cert-out", required_argument, NULL, R_OUT },
		{ "template", required_argument, NULL, R_TPL },
		{ "ca-file", required_argument, NULL, R_CA },
		{ "timeout", required_argument, NULL, R_TIMEOUT },
		{ "connect-timeout", required_argument, NULL, R_CTIMEOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end = NULL;
	long v;
	int c;

	optind = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "vh", opts, NULL)) != -1) {
		switch (c) {
		case R_REQ:
			t->request_id = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end != '\0' ||
			    t->request_id == 0 || t->request_id > 2147483647UL) {
				fprintf(stderr, "opences: --request-id wants 1..2147483647\n");
				return OC_ERR_INVALID;
			}
			break;
		case R_POLICY:
			if (strncmp(optarg, "https://", 8) != 0 || t->o.policy_urls.n >= OC_LIST_MAX ||
			    oc_strlist_add(&t->o.policy_urls, optarg) != OC_OK) {
				fprintf(stderr, "opences: --policy-url wants an https:// URL\n");
				return OC_ERR_INVALID;
			}
			break;
		case R_CES:
			if (strncmp(optarg, "https://", 8) != 0) {
				fprintf(stderr, "opences: --ces-url wants an https:// URL\n");
				return OC_ERR_INVALID;
			}
			t->ces_url = optarg;
			break;
		case R_AUTH:
			if ((t->o.auth = client_auth_from_name(optarg)) == 0) {
				fprintf(stderr, "opences: unknown --auth '%s'\n", optarg);
				return OC_ERR_INVALID;
			}
			break;
		case R_USER: t->o.user = optarg; break;
		case R_PWF: t->o.password_file = optarg; break;
		case R_TLSC: t->o.tls_cert = optarg; break;
		case R_TLSK: t->o.tls_key = optarg; break;
		case R_KEY: t->key_path = optarg; break;
		case R_OUT: t->o.cert_out = optarg; break;
		case R_TPL: t->template_name = optarg; break;
		case R_CA: t->o.ca_file = optarg; break;
		case R_TIMEOUT:
		case R_CTIMEOUT:
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || v <= 0 || v > 3600) {
				fprintf(stderr, "opences: a timeout is 1..3600 seconds\n");
				return OC_ERR_INVALID;
			}
			*(c == R_TIMEOUT ? &t->o.timeout : &t->o.connect_timeout) = v;
			break;
		case 'v': t->o.verbose = 1; break;
		case 'h': rt_usage(stdout); t->o.help = 1; return OC_OK;
		default: rt_usage(stderr); return OC_ERR_INVALID;
		}
	}
	if (optind + 1 != argc || t->request_id == 0 || t->key_path == NULL ||
	    t->o.cert_out == NULL || t->o.auth == 0 ||
	    (t->o.policy_urls.n == 0 && t->ces_url == NULL) ||
	    (t->o.auth == CLIENT_AUTH_PASSWORD && (t->o.user == NULL ||
	    t->o.password_file == NULL)) ||
	    (t->o.auth == CLIENT_AUTH_CERTIFICATE && (t->o.tls_cert == NULL ||
	    t->o.tls_key == NULL))) {
		rt_usage(stderr);
		return OC_ERR_INVALID;
	}
	if (t->o.timeout == 0)
		t->o.timeout = OC_CLIENT_TIMEOUT_DEFAULT;
	if (t->o.connect_timeout == 0)
		t->o.connect_timeout = OC_CLIENT_CONNECT_TIMEOUT_DEFAULT;
	return OC_OK;
}

int
client_retrieve_main(int argc, char **argv)
{
	struct rt t;
	struct client_rng rng;
	const char **urls = NULL, *from = NULL;
	size_t n = 0, used = 0;
	int ex = CLIENT_EXIT_ERROR, r, flow = 0;

	memset(&t, 0, sizeof(t));
	if (parse(argc, argv, &t) != OC_OK)
		goto out;
	if (t.o.help) {
		ex = CLIENT_EXIT_OK;
		goto out;
	}
	if (t.o.verbose)
		oc_log_set_level(OC_LOG_DEBUG);
	t.o.cmd = CLIENT_CMD_POLICY;
	if (client_flow_init(&t.f, &t.o) != OC_OK)
		goto out;
	flow = 1;
	if (client_rng_init(&rng) != OC_OK)
		goto out;
	if (t.ces_url != NULL) {
		if ((urls = calloc(1, sizeof(*urls))) == NULL)
			goto out;
		urls[0] = t.ces_url;
		n = 1;
	} else {
		if ((ex = client_flow_policy(&t.f, &rng, &from)) != CLIENT_EXIT_OK)
			goto out;
		ex = CLIENT_EXIT_ERROR;
		if (policy_urls(&t, &rng, &urls, &n) != OC_OK)
			goto out;
		if (n == 0) {
			fprintf(stderr, "opences: the policy publishes no CES URI for --auth %s\n",
			    client_auth_name(t.o.auth));
			goto out;
		}
	}
	r = client_failover(urls, n, query_attempt, &t, &used);
	if (r != OC_OK) {
		fprintf(stderr, "opences: retrieval failed: %s\n", oc_strerror(r));
		ex = r == OC_ERR_UNAVAILABLE ? CLIENT_EXIT_UNREACHABLE : CLIENT_EXIT_ERROR;
		goto out;
	}
	switch (t.f.rstrc.kind) {
	case CLIENT_RSTRC_ISSUED:
		ex = finish(&t, urls[used]);
		break;
	case CLIENT_RSTRC_PENDING:
		printf("pending requestID=%lu uri=", t.request_id);
		put_safe(urls[used]);
		printf("\n");
		ex = CLIENT_EXIT_PENDING;
		break;
	case CLIENT_RSTRC_FAULT:
		fprintf(stderr, "opences: request %lu: %s", t.request_id,
		    t.f.rstrc.fault.reason && *t.f.rstrc.fault.reason ? "" : "refused");
		for (const char *s = t.f.rstrc.fault.reason; s && *s; s++)
			fputc((unsigned char)*s >= 0x20 ? *s : '?', stderr);
		if (t.f.rstrc.fault.has_error_code)
			fprintf(stderr, " (error 0x%08x, %d)", t.f.rstrc.fault.error_code,
			    (int32_t)t.f.rstrc.fault.error_code);
		fputc('\n', stderr);
		ex = CLIENT_EXIT_DENIED;
		break;
	default:
		break;
	}
out:
	fflush(stdout);
	free(urls);
	if (flow)
		client_flow_clear(&t.f);
	oc_strlist_free(&t.o.policy_urls);
	return ex;
}
