/*
 * TLS contexts of the CA link (TLS 1.2+, forward secrecy, no compression or
 * renegotiation; the listener requires a client certificate), the subject
 * of the certificate that failed verification, and the allow list.
 */
#include "calink/calink_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/limits.h"
#include "common/util.h"
#include "common/log.h"

#define CL_TLS12_CIPHERS \
	"ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:" \
	"!aNULL:!eNULL:!PSK:!SRP:!DSS:!MD5:!RC4:!3DES"

static int cl_fail_idx = -1;
static pthread_once_t cl_once = PTHREAD_ONCE_INIT;

static void
fail_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	free(ptr);
}

static void
cl_once_init(void)
{
	cl_fail_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, fail_free);
}

void
cl_subject(X509 *x, char *buf, size_t len)
{
	BIO *b;
	int n;

	if (len == 0)
		return;
	buf[0] = '\0';
	if (x == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (n = BIO_read(b, buf, (int)len - 1)) > 0)
		buf[n] = '\0';
	BIO_free(b);
	/* a log line stays one line of printable text */
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* Verification of a client certificate: remember the subject of the one that failed. */
static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL *ssl;
	char *s;

	if (ok)
		return ok;
	ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL || cl_fail_idx < 0 || SSL_get_ex_data(ssl, cl_fail_idx) != NULL)
		return ok;
	if ((s = malloc(OC_SUBJECT_MAX)) == NULL)
		return ok;
	cl_subject(X509_STORE_CTX_get0_cert(xs), s, OC_SUBJECT_MAX);
	if (SSL_set_ex_data(ssl, cl_fail_idx, s) != 1)
		free(s);
	return ok;
}

const char *
cl_tls_failed_subject(const SSL *ssl)
{
	const char *s = cl_fail_idx >= 0 ? SSL_get_ex_data(ssl, cl_fail_idx) : NULL;

	return s ? s : "";
}

static int
ctx_common(SSL_CTX *ctx, const char *cert, const char *key, const char *ca)
{
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* the queue offers its whole content again after a WANT_* (it only grows) */
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_cipher_list(ctx, CL_TLS12_CIPHERS) != 1) {
		cl_tls_log_errors("cipher list");
		return OC_ERR_CRYPTO;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		log_error("calink: certificate %s not loaded", cert);
		cl_tls_log_errors(cert);
		return OC_ERR_CONFIG;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_error("calink: key %s not loaded or not the certificate's", key);
		cl_tls_log_errors("key");
		return OC_ERR_CONFIG;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		log_error("calink: trust anchors %s not loaded", ca);
		cl_tls_log_errors(ca);
		return OC_ERR_CONFIG;
	}
	SSL_CTX_set_verify_depth(ctx, OC_CERTAUTH_CHAIN_MAX);
	return OC_OK;
}

int
cl_tls_server_ctx(const char *cert, const char *key, const char *client_ca, SSL_CTX **ctxp)
{
	static const unsigned char sid_ctx[] = "opences-calink";
	STACK_OF(X509_NAME) *names = NULL;
	SSL_CTX *ctx = NULL;
	int r;

	*ctxp = NULL;
	pthread_once(&cl_once, cl_once_init);
	if (cl_fail_idx < 0)
		return OC_ERR_CRYPTO;
	if (cert == NULL || key == NULL || client_ca == NULL)
		return OC_ERR_CONFIG;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		return OC_ERR_NOMEM;
	if ((r = ctx_common(ctx, cert, key, client_ca)) != OC_OK)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	if ((names = SSL_load_client_CA_file(client_ca)) != NULL)
		SSL_CTX_set_client_CA_list(ctx, names);
	(void)SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
	SSL_CTX_set_num_tickets(ctx, 0);
	*ctxp = ctx;
	ctx = NULL;
	r = OC_OK;
out:
	SSL_CTX_free(ctx);
	return r;
}

int
cl_tls_client_ctx(const char *cert, const char *key, const char *server_ca, SSL_CTX **ctxp)
{
	SSL_CTX *ctx = NULL;
	int r;

	*ctxp = NULL;
	if (cert == NULL || key == NULL || server_ca == NULL)
		return OC_ERR_CONFIG;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return OC_ERR_NOMEM;
	if ((r = ctx_common(ctx, cert, key, server_ca)) != OC_OK)
		goto out;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	*ctxp = ctx;
	ctx = NULL;
	r = OC_OK;
out:
	SSL_CTX_free(ctx);
	return r;
}

/* The subject's (last) CN as UTF-8, or NULL. */
static char *
subject_cn(X509 *x)
{
	X509_NAME *n = X509_get_subject_name(x);
	unsigned char *u = NULL;
	char *s = NULL;
	int i = -1, last = -1, len;

	while ((i = X509_NAME_get_index_by_NID(n, NID_commonName, i)) >= 0)
		last = i;
	if (last < 0)
		return NULL;
	len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, last)));
	if (len < 0)
		return NULL;
	/* an embedded NUL would make "a\0b" match "a" */
	if (memchr(u, '\0', (size_t)len) == NULL && (s = malloc((size_t)len + 1)) != NULL) {
		memcpy(s, u, (size_t)len);
		s[len] = '\0';
	}
	OPENSSL_free(u);
	return s;
}

int
cl_allowed(X509 *x, const char *const *allow, size_t nallow)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	char *cn = NULL;
	int ok = 0;

	if (x == NULL)
		return 0;
	cn = subject_cn(x);
	if (X509_digest(x, EVP_sha256(), md, &mdlen) != 1)
		mdlen = 0;
	oc_hex_encode(md, mdlen, hex);
	for (size_t i = 0; i < nallow && !ok; i++) {
		const char *a = allow[i];
		if (strncasecmp(a, "sha256:", 7) == 0)
			ok = mdlen > 0 && strcasecmp(a + 7, hex) == 0;
		else
			ok = cn != NULL && strcmp(a, cn) == 0;
	}
	free(cn);
	return ok;
}
