/*
 * The CA key in a PKCS#11 token through libp11: RFC 7512 URI parsing, module
 * loading, login, key lookup by label/id, generation on first start.
 */
#include "ca/ca_pkcs11.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include "common/log.h"
#include "common/util.h"

#define P11_URI_MAX   2048
#define P11_ATTR_MAX  256
#define P11_PIN_MAX   256
#define P11_ID_MAX    64
#define P11_RSA_BITS  2048

struct p11_uri {
	char token[P11_ATTR_MAX];
	char object[P11_ATTR_MAX];
	char type[32];
	char module[P11_ATTR_MAX];
	char pin_source[P11_ATTR_MAX];
	char pin[P11_PIN_MAX];
	unsigned char id[P11_ID_MAX];
	size_t id_len;
};

/* What a token key needs alive: freed with the last reference to its EVP_PKEY. */
struct p11_holder {
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned int nslots;
};

static pthread_once_t ex_once = PTHREAD_ONCE_INIT;
static int ex_index = -1;

static void
holder_free(struct p11_holder *h)
{
	if (h == NULL)
		return;
	if (h->slots != NULL)
		PKCS11_release_all_slots(h->ctx, h->slots, h->nslots);
	if (h->ctx != NULL) {
		PKCS11_CTX_unload(h->ctx);
		PKCS11_CTX_free(h->ctx);
	}
	free(h);
}

static void
ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	holder_free(ptr);
}

static void
ex_init(void)
{
	ex_index = EVP_PKEY_get_ex_new_index(0, NULL, NULL, NULL, ex_free);
}

int
ca_pkcs11_is_uri(const char *s)
{
	return s != NULL && strncasecmp(s, "pkcs11:", 7) == 0;
}

/* Percent-decode p[0..len) into out (cap bytes); *outlen gets the length. */
static int
pct_decode(const char *p, size_t len, unsigned char *out, size_t cap, size_t *outlen)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)p[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = oc_hexval(p[i + 1])) < 0 ||
			    (lo = oc_hexval(p[i + 2])) < 0)
				return OC_ERR_CONFIG;
			c = hi << 4 | lo;
			i += 2;
		}
		if (n >= cap)
			return OC_ERR_LIMIT;
		out[n++] = (unsigned char)c;
	}
	*outlen = n;
	return OC_OK;
}

/* Decode into a NUL-terminated string field (no embedded NUL). */
static int
pct_string(const char *p, size_t len, char *out, size_t cap)
{
	size_t n;
	int r;

	if ((r = pct_decode(p, len, (unsigned char *)out, cap - 1, &n)) != OC_OK)
		return r;
	if (memchr(out, '\0', n) != NULL)
		return OC_ERR_CONFIG;
	out[n] = '\0';
	return OC_OK;
}

static int
uri_attr(struct p11_uri *u, const char *a, size_t len, int query)
{
	const char *eq = memchr(a, '=', len);
	size_t kl, vl;
	const char *v;

	if (len == 0)
		return OC_OK;
	if (eq == NULL)
		return OC_ERR_CONFIG;
	kl = (size_t)(eq - a);
	v = eq + 1;
	vl = len - kl - 1;
#define KEY(s) (kl == sizeof(s) - 1 && memcmp(a, s, kl) == 0)
	if (!query) {
		if (KEY("token"))
			return pct_string(v, vl, u->token, sizeof(u->token));
		if (KEY("object"))
			return pct_string(v, vl, u->object, sizeof(u->object));
		if (KEY("type"))
			return pct_string(v, vl, u->type, sizeof(u->type));
		if (KEY("id"))
			return pct_decode(v, vl, u->id, sizeof(u->id), &u->id_len);
		if (KEY("pin-value"))   /* tolerated in the path, as OpenSC's engine does */
			return pct_string(v, vl, u->pin, sizeof(u->pin));
		return OC_OK;           /* manufacturer, serial, model, ...: not used */
	}
	if (KEY("module-path"))
		return pct_string(v, vl, u->module, sizeof(u->module));
	if (KEY("pin-source"))
		return pct_string(v, vl, u->pin_source, sizeof(u->pin_source));
	if (KEY("pin-value"))
		return pct_string(v, vl, u->pin, sizeof(u->pin));
#undef KEY
	return OC_OK;
}

static int
uri_parse(const char *s, struct p11_uri *u)
{
	size_t len;
	const char *p, *end, *q;
	int r;

	memset(u, 0, sizeof(*u));
	if (!ca_pkcs11_is_uri(s) || (len = strnlen(s, P11_URI_MAX + 1)) > P11_URI_MAX)
		return OC_ERR_CONFIG;
	p = s + 7;
	end = s + len;
	q = memchr(p, '?', (size_t)(end - p));
	for (const char *a = p, *stop = q ? q : end; a < stop;) {
		const char *sep = memchr(a, ';', (size_t)(stop - a));
		const char *ae = sep ? sep : stop;

		if ((r = uri_attr(u, a, (size_t)(ae - a), 0)) != OC_OK)
			return r;
		a = ae + 1;
	}
	for (const char *a = q ? q + 1 : end; a < end;) {
		const char *sep = memchr(a, '&', (size_t)(end - a));
		const char *ae = sep ? sep : end;

		if ((r = uri_attr(u, a, (size_t)(ae - a), 1)) != OC_OK)
			return r;
		a = ae + 1;
	}
	if (u->type[0] != '\0' && strcmp(u->type, "private") != 0)
		return OC_ERR_CONFIG;
	if (u->object[0] == '\0' && u->id_len == 0)
		return OC_ERR_CONFIG;
	if (u->module[0] == '\0')
		return OC_ERR_CONFIG;
	return OC_OK;
}

/* The PIN from pin-source=file:<path> (first line) or pin-value. */
static int
uri_pin(struct p11_uri *u)
{
	const char *path = u->pin_source;
	uint8_t *data = NULL;
	size_t len = 0, n;
	int r;

	if (u->pin_source[0] == '\0')
		return OC_OK;
	if (strncmp(path, "file:", 5) == 0)
		path += 5;
	if (path[0] != '/') {
		log_error("PKCS#11 pin-source must be an absolute file path");
		return OC_ERR_CONFIG;
	}
	if ((r = oc_file_read(path, &data, &len, P11_PIN_MAX)) != OC_OK) {
		error_fr(r, "PKCS#11 PIN file %s", path);
		return OC_ERR_CONFIG;
	}
	for (n = 0; n < len && data[n] != '\n' && data[n] != '\r' && data[n] != '\0'; n++)
		;
	r = OC_ERR_CONFIG;
	if (n < sizeof(u->pin)) {
		memcpy(u->pin, data, n);
		u->pin[n] = '\0';
		r = OC_OK;
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

static PKCS11_KEY *
find_key(PKCS11_TOKEN *tok, const struct p11_uri *u)
{
	PKCS11_KEY *keys = NULL;
	unsigned int n = 0;

	if (PKCS11_enumerate_keys(tok, &keys, &n) != 0)
		return NULL;
	for (unsigned int i = 0; i < n; i++) {
		if (u->object[0] != '\0' && (keys[i].label == NULL ||
		    strcmp(keys[i].label, u->object) != 0))
			continue;
		if (u->id_len != 0 && (keys[i].id_len != u->id_len ||
		    memcmp(keys[i].id, u->id, u->id_len) != 0))
			continue;
		return &keys[i];
	}
	return NULL;
}

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
static int
generate(PKCS11_TOKEN *tok, struct p11_uri *u, const char *key_type)
{
	unsigned char id[16];
	unsigned char *idp = u->id;
	size_t id_len = u->id_len;

	if (key_type != NULL && strcasecmp(key_type, "RSA2048") != 0) {
		/* libp11 0.4.12 generates RSA keys only */
		log_error("CA key type %s cannot be generated in a PKCS#11 token (RSA2048 can); "
		    "create the key with the token's tools and reference it", key_type);
		return OC_ERR_NOT_SUPPORTED;
	}
	if (u->object[0] == '\0') {
		log_error("a PKCS#11 key to generate needs object=<label> in its URI");
		return OC_ERR_CONFIG;
	}
	if (id_len == 0) {
		if (RAND_bytes(id, sizeof(id)) != 1)
			return OC_ERR_CRYPTO;
		idp = id;
		id_len = sizeof(id);
	}
	/* private key: CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE set; never extractable */
	if (PKCS11_generate_key(tok, 0, P11_RSA_BITS, u->object, idp, id_len) != 0)
		return OC_ERR_CRYPTO;
	return OC_OK;
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/*
 * libp11 keeps its own reference to the EVP_PKEY it returns (cached in its key object,
 * freed with the slots), so that one can never carry our clean-up: hand out a new
 * EVP_PKEY sharing its RSA/EC_KEY (and thus libp11's method), whose ex_data releases the
 * slots and the module when the caller frees it, after its own RSA/EC_KEY reference.
 */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
static EVP_PKEY *
wrap_key(EVP_PKEY *pk)
{
	EVP_PKEY *w = NULL;
	RSA *rsa = NULL;
	EC_KEY *ec = NULL;
	int ok = 0;

	if ((w = EVP_PKEY_new()) == NULL)
		return NULL;
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		ok = (rsa = EVP_PKEY_get1_RSA(pk)) != NULL && EVP_PKEY_set1_RSA(w, rsa) == 1;
		break;
	case EVP_PKEY_EC:
		ok = (ec = EVP_PKEY_get1_EC_KEY(pk)) != NULL && EVP_PKEY_set1_EC_KEY(w, ec) == 1;
		break;
	default:
		log_error("PKCS#11 CA key is neither RSA nor EC");
		break;
	}
	RSA_free(rsa);
	EC_KEY_free(ec);
	if (!ok) {
		EVP_PKEY_free(w);
		return NULL;
	}
	return w;
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

static void
p11_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_error("%s: %s", what, buf);
	}
}

int
ca_pkcs11_load_key(const char *uri, int create, const char *key_type, EVP_PKEY **key,
    int *created)
{
	struct p11_uri *u = NULL;
	struct p11_holder *h = NULL;
	PKCS11_SLOT *slot = NULL;
	PKCS11_KEY *k;
	EVP_PKEY *pk = NULL, *w = NULL;
	int r = OC_ERR_NOMEM, logged = 0;

	*key = NULL;
	if (created != NULL)
		*created = 0;
	if (pthread_once(&ex_once, ex_init) != 0 || ex_index < 0)
		return OC_ERR_INTERNAL;
	if ((u = calloc(1, sizeof(*u))) == NULL || (h = calloc(1, sizeof(*h))) == NULL)
		goto out;
	if ((r = uri_parse(uri, u)) != OC_OK) {
		log_error("bad PKCS#11 URI for the CA key (needs object= or id=, "
		    "module-path= and type=private if any)");
		goto out;
	}
	if ((r = uri_pin(u)) != OC_OK)
		goto out;
	r = OC_ERR_CONFIG;
	if ((h->ctx = PKCS11_CTX_new()) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if (PKCS11_CTX_load(h->ctx, u->module) != 0) {
		p11_errors("PKCS#11 module");
		/* a malformed query could have left a PIN in the module path: not logged then */
		log_error("cannot load PKCS#11 module %s",
		    strstr(u->module, "pin-") == NULL ? u->module : "(module-path of the URI)");
		PKCS11_CTX_free(h->ctx);
		h->ctx = NULL;
		goto out;
	}
	if (PKCS11_enumerate_slots(h->ctx, &h->slots, &h->nslots) != 0) {
		p11_errors("PKCS#11 slots");
		goto out;
	}
	for (slot = PKCS11_find_token(h->ctx, h->slots, h->nslots); slot != NULL;
	    slot = PKCS11_find_next_token(h->ctx, h->slots, h->nslots, slot)) {
		if (u->token[0] == '\0' || (slot->token->label != NULL &&
		    strcmp(slot->token->label, u->token) == 0))
			break;
	}
	if (slot == NULL) {
		log_error("no PKCS#11 token labelled \"%s\"", u->token);
		goto out;
	}
	if (PKCS11_open_session(slot, create ? 1 : 0) != 0 ||
	    PKCS11_login(slot, 0, u->pin[0] != '\0' ? u->pin : NULL) != 0) {
		ERR_clear_error();
		log_error("PKCS#11 login to token \"%s\" failed (wrong or missing PIN?)",
		    slot->token->label ? slot->token->label : "");
		goto out;
	}
	if ((k = find_key(slot->token, u)) == NULL) {
		if (!create) {
			log_error("no private key \"%s\" in PKCS#11 token \"%s\"", u->object,
			    slot->token->label ? slot->token->label : "");
			r = OC_ERR_NOT_FOUND;
			goto out;
		}
		if ((r = generate(slot->token, u, key_type)) != OC_OK) {
			p11_errors("PKCS#11 key generation");
			goto out;
		}
		r = OC_ERR_CRYPTO;
		if ((k = find_key(slot->token, u)) == NULL) {
			log_error("generated PKCS#11 key not found");
			goto out;
		}
		if (created != NULL)
			*created = 1;
		log_info("generated CA key \"%s\" in PKCS#11 token \"%s\"", u->object,
		    slot->token->label ? slot->token->label : "");
		logged = 1;
	}
	r = OC_ERR_CRYPTO;
	if ((pk = PKCS11_get_private_key(k)) == NULL) {
		p11_errors("PKCS#11 private key");
		goto out;
	}
	if ((w = wrap_key(pk)) == NULL || EVP_PKEY_set_ex_data(w, ex_index, h) != 1)
		goto out;
	h = NULL;                               /* freed with w */
	if (!logged)
		log_info("CA key \"%s\" in PKCS#11 token \"%s\"", u->object,
		    slot->token->label ? slot->token->label : "");
	*key = w;
	w = NULL;
	r = OC_OK;
out:
	EVP_PKEY_free(pk);
	EVP_PKEY_free(w);
	holder_free(h);
	if (u != NULL) {
		OPENSSL_cleanse(u, sizeof(*u));
		free(u);
	}
	return r;
}
