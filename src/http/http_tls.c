/*
 * TLS side of the HTTPS server: one SSL_CTX per listener (TLS 1.2+, no
 * compression, no renegotiation, optional client certificate), the RFC 5929
 * tls-server-end-point channel binding, and the per-connection record hung
 * on each SSL object: it counts the connection against the server-wide cap
 * when the SSL is made, passes the accepting turn to the next loop, and
 * drops the count when libevent frees the connection.
 */
#include "http/http_int.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/http.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "common/log.h"

/* Forward secrecy only; TLS 1.3 suites are OpenSSL's defaults. */
#define HTTP_TLS12_CIPHERS \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:ECDHE+AES:" \
	"!aNULL:!eNULL:!PSK:!SRP:!DSS:!MD5:!RC4:!3DES:!CAMELLIA:!ARIA"

static int http_conn_idx = -1;
static pthread_once_t http_tls_once = PTHREAD_ONCE_INIT;

static void http_conn_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad,
    int idx, long argl, void *argp);

static void
http_tls_init_once(void)
{
	http_conn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, http_conn_ex_free);
}

int
http_tls_init(void)
{
	pthread_once(&http_tls_once, http_tls_init_once);
	return http_conn_idx < 0 ? OC_ERR_CRYPTO : OC_OK;
}

static void
http_tls_log_errors(const char *what, const char *file)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_error("%s %s: %s", what, file ? file : "", buf);
	}
}

/*
 * Accept any client certificate: the application checks it against its
 * trust anchors later; here we only want the peer to present one.
 */
static int
http_tls_verify_any(int preverify_ok, X509_STORE_CTX *x509_ctx)
{
	return 1;
}

int
http_tls_ctx_new(const struct oc_http_listener *l, SSL_CTX **ctxp)
{
	static const unsigned char sid_ctx[] = "opences";
	STACK_OF(X509_NAME) *cas = NULL;
	SSL_CTX *ctx = NULL;
	int r = OC_ERR_CONFIG;

	*ctxp = NULL;
	if (l->cert_file == NULL || l->key_file == NULL) {
		log_error("listener %s: certificate and key files are required",
		    l->address ? l->address : "?");
		goto out;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		r = OC_ERR_CRYPTO;
		goto out;
	}
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, HTTP_TLS12_CIPHERS) ||
	    !SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1)) {
		http_tls_log_errors("TLS settings", NULL);
		r = OC_ERR_CRYPTO;
		goto out;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_dh_auto(ctx, 1);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, l->cert_file) != 1) {
		http_tls_log_errors("server certificate", l->cert_file);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, l->key_file, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		http_tls_log_errors("server key", l->key_file);
		goto out;
	}
	if (l->client_ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, l->client_ca_file, NULL) != 1 ||
		    (cas = SSL_load_client_CA_file(l->client_ca_file)) == NULL) {
			http_tls_log_errors("client CA file", l->client_ca_file);
			goto out;
		}
		SSL_CTX_set_client_CA_list(ctx, cas);   /* takes cas */
		cas = NULL;
		/* Ask in the initial handshake; never fail without one. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, http_tls_verify_any);
	}
	*ctxp = ctx;
	ctx = NULL;
	r = OC_OK;
out:
	sk_X509_NAME_pop_free(cas, X509_NAME_free);
	SSL_CTX_free(ctx);
	return r;
}

/*
 * RFC 5929 section 4.1: the hash of the DER server certificate with the hash
 * of its signature algorithm, SHA-256 when that is MD5 or SHA-1. Undefined
 * (empty) when the signature uses no single hash (Ed25519, ...).
 */
int
http_tls_end_point(SSL_CTX *ctx, uint8_t *out, size_t *outlen)
{
	X509 *cert = NULL;
	const EVP_MD *md = NULL;
	unsigned char *der = NULL;
	unsigned int mdlen = 0;
	int mdnid = NID_undef, derlen, r = OC_ERR_CRYPTO;

	*outlen = 0;
	if ((cert = SSL_CTX_get0_certificate(ctx)) == NULL)
		goto out;
	if (!X509_get_signature_info(cert, &mdnid, NULL, NULL, NULL))
		mdnid = NID_undef;
	if (mdnid == NID_md5 || mdnid == NID_sha1)
		mdnid = NID_sha256;
	if (mdnid == NID_undef || (md = EVP_get_digestbynid(mdnid)) == NULL) {
		log_warn("server certificate signature has no single hash: "
		    "tls-server-end-point channel binding undefined");
		r = OC_OK;
		goto out;
	}
	if ((derlen = i2d_X509(cert, &der)) <= 0)
		goto out;
	if (!EVP_Digest(der, (size_t)derlen, out, &mdlen, md, NULL))
		goto out;
	*outlen = mdlen;
	r = OC_OK;
out:
	OPENSSL_free(der);
	return r;
}

static void
http_conn_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
    long argl, void *argp)
{
	struct http_conn *c = ptr;
	struct oc_http_server *srv;
	size_t turn = 0;
	int wake;

	if (c == NULL)
		return;
	srv = c->loop->srv;
	__atomic_sub_fetch(&c->loop->nconns, 1, __ATOMIC_RELAXED);
	if (c->job != NULL)
		c->job->conn = NULL;
	pthread_mutex_lock(&srv->cmu);
	if (srv->nconns > 0)
		srv->nconns--;
	/* Just below the cap again: the loop whose turn it is may accept. */
	wake = !srv->stopping && srv->nconns + 1 == (size_t)srv->cfg.max_connections;
	turn = srv->turn;
	pthread_mutex_unlock(&srv->cmu);
	if (wake)
		event_active(srv->loops[turn].ctl_ev, 0, 0);
	free(c);
}

SSL *
http_tls_conn_new(struct http_binding *b)
{
	struct http_loop *loop = b->loop;
	struct oc_http_server *srv = loop->srv;
	struct http_conn *c = NULL;
	SSL *ssl = NULL;
	size_t n, turn;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->loop = loop;
	c->lst = b->lst;
	c->id = __atomic_add_fetch(&srv->last_conn_id, 1, __ATOMIC_RELAXED);
	if ((ssl = SSL_new(b->lst->ctx)) == NULL) {
		free(c);
		return NULL;
	}
	if (!SSL_set_ex_data(ssl, http_conn_idx, c)) {
		free(c);
		SSL_free(ssl);
		return NULL;
	}
	/* Counted now, dropped again by http_conn_ex_free; the turn moves on. */
	__atomic_add_fetch(&loop->nconns, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&srv->cmu);
	n = ++srv->nconns;
	srv->turn = ((size_t)loop->index + 1) % srv->nloops;
	turn = srv->turn;
	pthread_mutex_unlock(&srv->cmu);
	/* At the cap: nobody accepts; the kernel backlog holds the rest. */
	if (n == (size_t)srv->cfg.max_connections)
		log_warn("%zu connections: not accepting more for now", n);
	http_loop_accept_update(loop);
	if (turn != (size_t)loop->index)
		event_active(srv->loops[turn].ctl_ev, 0, 0);
	return ssl;
}

struct http_conn *
http_tls_conn_get(SSL *ssl)
{
	if (ssl == NULL || http_conn_idx < 0)
		return NULL;
	return SSL_get_ex_data(ssl, http_conn_idx);
}
