/*
 * Username/password authentication against the embedded directory's
 * yescrypt verifiers, with a bounded, short-lived cache of verified
 * credentials.
 *
 * The cache never holds a password: an entry is
 *   HMAC-SHA256(process key, login || 0x00 || password),
 *   the canonical account name,
 *   SHA-256 of the verifier it was checked against,
 *   an expiry,
 *   and the account's identity (attributes, transitive groups) as read at
 *   a directory policy serial.
 * Every check reads, in one query, the account behind the login, its
 * current verifier and the directory's policy serial: a changed verifier
 * (password change) or a different account behind the login is a miss; a
 * changed serial (any account, group or rights change bumps it) makes the
 * credentials still count but re-reads the identity. Unknown users and
 * accounts without a verifier cost one yescrypt computation like everybody
 * else.
 */
#include "auth/auth.h"

#include <crypt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "ldap/ldap_identity.h"

#define AUTH_MAC_LEN 32

struct auth_entry {
	uint8_t mac[AUTH_MAC_LEN];
	uint8_t vhash[AUTH_MAC_LEN];
	char name[OC_NAME_MAX + 1];
	time_t expires;         /* CLOCK_MONOTONIC seconds; 0 = free slot */
	time_t added;
	int64_t serial;         /* directory policy serial id was read at */
	int has_id;
	struct oc_identity id;  /* owned */
};

/* What the cache knows about a credential. */
enum auth_hit {
	AUTH_MISS = 0,          /* run the password check */
	AUTH_HIT_CRED,          /* credentials verified, identity to be re-read */
	AUTH_HIT_FULL,          /* credentials verified, identity copied out */
};

/* One read-only directory handle per thread. */
struct auth_dirh {
	struct oc_auth *a;
	struct oc_directory *dir;
	EVP_MAC_CTX *mac;       /* HMAC-SHA-256 keyed with a->key, this thread's */
	struct auth_dirh *next, *prev;
};

struct oc_auth {
	char *dir_path;         /* NULL with ldap */
	struct oc_ldap_ident *ldap;     /* borrowed: passwords checked by the directory */
	uint8_t key[32];
	char *dummy_verifier;
	pthread_key_t tkey;
	int tkey_ok;
	pthread_mutex_t mu;     /* cache, stats, handle list */
	struct auth_entry *cache;
	size_t ncache;
	struct auth_dirh *handles;
	struct oc_auth_stats st;
};

static time_t
auth_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* ---- per-thread directory handles --------------------------------------- */

static void
auth_dirh_destroy(void *p)
{
	struct auth_dirh *h = p;
	struct oc_auth *a;

	if (h == NULL)
		return;
	a = h->a;
	pthread_mutex_lock(&a->mu);
	if (h->prev != NULL)
		h->prev->next = h->next;
	else
		a->handles = h->next;
	if (h->next != NULL)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&a->mu);
	oc_dir_close(h->dir);
	EVP_MAC_CTX_free(h->mac);
	free(h);
}

/* A MAC context keyed once per thread: each check only re-initialises it. */
static EVP_MAC_CTX *
auth_mac_new(const uint8_t *key, size_t keylen)
{
	OSSL_PARAM params[2];
	EVP_MAC *m = NULL;
	EVP_MAC_CTX *ctx = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if ((m = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL ||
	    (ctx = EVP_MAC_CTX_new(m)) == NULL ||
	    !EVP_MAC_init(ctx, key, keylen, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	EVP_MAC_free(m);
	return ctx;
}

static int
auth_dir(struct oc_auth *a, struct auth_dirh **hp)
{
	struct auth_dirh *h;
	int r;

	*hp = NULL;
	if ((h = pthread_getspecific(a->tkey)) != NULL) {
		*hp = h;
		return OC_OK;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return OC_ERR_NOMEM;
	h->a = a;
	if ((h->mac = auth_mac_new(a->key, sizeof(a->key))) == NULL) {
		free(h);
		return OC_ERR_CRYPTO;
	}
	if (a->dir_path != NULL && (r = oc_dir_open_ro(a->dir_path, &h->dir)) != OC_OK) {
		error_fr(r, "cannot open the directory");
		EVP_MAC_CTX_free(h->mac);
		free(h);
		return OC_ERR_UNAVAILABLE;     /* not a verdict on the caller */
	}
	if (pthread_setspecific(a->tkey, h) != 0) {
		oc_dir_close(h->dir);
		EVP_MAC_CTX_free(h->mac);
		free(h);
		return OC_ERR_INTERNAL;
	}
	pthread_mutex_lock(&a->mu);
	h->next = a->handles;
	if (h->next != NULL)
		h->next->prev = h;
	a->handles = h;
	pthread_mutex_unlock(&a->mu);
	*hp = h;
	return OC_OK;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void
auth_entry_clear(struct auth_entry *e)
{
	oc_identity_clear(&e->id);
	OPENSSL_cleanse(e, sizeof(*e));
}

int
oc_auth_new(const char *dir_path, struct oc_auth **ap)
{
	struct oc_auth *a = NULL;
	uint8_t rnd[24];
	char *dummy_pw = NULL;
	int r = OC_ERR_INVALID;

	*ap = NULL;
	if (dir_path == NULL)
		goto out;
	r = OC_ERR_NOMEM;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		goto out;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		a = NULL;
		r = OC_ERR_INTERNAL;
		goto out;
	}
	if ((a->dir_path = strdup(dir_path)) == NULL ||
	    (a->cache = calloc(OC_AUTH_CACHE_ENTRIES, sizeof(*a->cache))) == NULL)
		goto out;
	a->ncache = OC_AUTH_CACHE_ENTRIES;
	r = OC_ERR_INTERNAL;
	if (pthread_key_create(&a->tkey, auth_dirh_destroy) != 0)
		goto out;
	a->tkey_ok = 1;
	r = OC_ERR_CRYPTO;
	if (RAND_bytes(a->key, sizeof(a->key)) != 1 || RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	/* a verifier nobody knows the password of, same cost as real ones */
	if ((r = oc_b64_encode(rnd, sizeof(rnd), &dummy_pw)) != OC_OK ||
	    (r = oc_dir_hash_password(dummy_pw, &a->dummy_verifier)) != OC_OK)
		goto out;
	*ap = a;
	a = NULL;
	r = OC_OK;
out:
	OPENSSL_cleanse(rnd, sizeof(rnd));
	oc_free_secret(dummy_pw);
	oc_auth_free(a);
	return r;
}

int
oc_auth_new_ldap(struct oc_ldap_ident *li, struct oc_auth **ap)
{
	struct oc_auth *a = NULL;
	int r = OC_ERR_INVALID;

	*ap = NULL;
	if (li == NULL)
		return r;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return OC_ERR_NOMEM;
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		return OC_ERR_INTERNAL;
	}
	a->ldap = li;
	r = OC_ERR_NOMEM;
	if ((a->cache = calloc(OC_AUTH_CACHE_ENTRIES, sizeof(*a->cache))) == NULL)
		goto out;
	a->ncache = OC_AUTH_CACHE_ENTRIES;
	r = OC_ERR_INTERNAL;
	if (pthread_key_create(&a->tkey, auth_dirh_destroy) != 0)
		goto out;
	a->tkey_ok = 1;
	r = OC_ERR_CRYPTO;
	if (RAND_bytes(a->key, sizeof(a->key)) != 1)
		goto out;
	*ap = a;
	a = NULL;
	r = OC_OK;
out:
	oc_auth_free(a);
	return r;
}

void
oc_auth_free(struct oc_auth *a)
{
	struct auth_dirh *h, *next;

	if (a == NULL)
		return;
	if (a->tkey_ok)
		pthread_key_delete(a->tkey);    /* no destructor runs from here on */
	for (h = a->handles; h != NULL; h = next) {
		next = h->next;
		oc_dir_close(h->dir);
		EVP_MAC_CTX_free(h->mac);
		free(h);
	}
	if (a->cache != NULL) {
		for (size_t i = 0; i < a->ncache; i++)
			auth_entry_clear(&a->cache[i]);
		free(a->cache);
	}
	oc_free_secret(a->dummy_verifier);
	OPENSSL_cleanse(a->key, sizeof(a->key));
	free(a->dir_path);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

void
oc_auth_get_stats(struct oc_auth *a, struct oc_auth_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	*st = a->st;
	pthread_mutex_unlock(&a->mu);
}

/* ---- cache ---------------------------------------------------------------- */

/* HMAC-SHA-256(process key, login || 0x00 || password) with this thread's context. */
static int
auth_mac(struct auth_dirh *h, const char *login, size_t llen, const char *password,
    size_t plen, uint8_t *mac)
{
	static const uint8_t zero = 0x00;
	size_t maclen = 0;
	int ok;

	/* a NULL key re-initialises with the key set when the context was made */
	ok = EVP_MAC_init(h->mac, NULL, 0, NULL) &&
	    EVP_MAC_update(h->mac, (const uint8_t *)login, llen) &&
	    EVP_MAC_update(h->mac, &zero, 1) &&
	    EVP_MAC_update(h->mac, (const uint8_t *)password, plen) &&
	    EVP_MAC_final(h->mac, mac, &maclen, AUTH_MAC_LEN) && maclen == AUTH_MAC_LEN;
	return ok ? OC_OK : OC_ERR_CRYPTO;
}

/*
 * Is mac cached, unexpired, for name, checked against vhash? With an
 * identity read at serial, that identity is copied to id (AUTH_HIT_FULL).
 */
static enum auth_hit
auth_cache_hit(struct oc_auth *a, const uint8_t *mac, const char *name,
    const uint8_t *vhash, int64_t serial, struct oc_identity *id)
{
	time_t now = auth_now();
	enum auth_hit hit = AUTH_MISS;
	size_t i;

	pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->ncache; i++) {
		struct auth_entry *e = &a->cache[i];

		if (e->expires == 0 || CRYPTO_memcmp(e->mac, mac, AUTH_MAC_LEN) != 0)
			continue;
		if (e->expires > now && strcmp(e->name, name) == 0 &&
		    CRYPTO_memcmp(e->vhash, vhash, AUTH_MAC_LEN) == 0) {
			hit = AUTH_HIT_CRED;
			a->st.cache_hits++;
			if (e->has_id && e->serial == serial &&
			    oc_identity_copy(id, &e->id) == OC_OK) {
				hit = AUTH_HIT_FULL;
				a->st.identity_hits++;
			}
		} else {
			/* expired, or the password / account changed */
			auth_entry_clear(e);
		}
		break;
	}
	pthread_mutex_unlock(&a->mu);
	return hit;
}

/* Remember verified credentials and the identity read at serial (may be NULL). */
static void
auth_cache_put(struct oc_auth *a, const uint8_t *mac, const char *name,
    const uint8_t *vhash, int64_t serial, const struct oc_identity *id)
{
	struct auth_entry *e, *slot = NULL;
	struct oc_identity copy = { 0 };
	time_t now = auth_now();
	int has_id = 0;
	size_t i;

	if (strlen(name) > OC_NAME_MAX)
		return;
	/* copied outside the lock; without memory the entry just has no identity */
	if (id != NULL && oc_identity_copy(&copy, id) == OC_OK)
		has_id = 1;
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->ncache; i++) {
		e = &a->cache[i];
		if (e->expires != 0 && CRYPTO_memcmp(e->mac, mac, AUTH_MAC_LEN) == 0) {
			slot = e;               /* same credentials: refresh */
			break;
		}
		if (e->expires <= now) {        /* free or expired */
			if (slot == NULL || slot->expires > now)
				slot = e;
		} else if (slot == NULL || (slot->expires > now && e->added < slot->added)) {
			slot = e;               /* oldest so far */
		}
	}
	if (slot == NULL) {                     /* no cache (ncache 0) */
		pthread_mutex_unlock(&a->mu);
		oc_identity_clear(&copy);
		return;
	}
	auth_entry_clear(slot);
	memcpy(slot->mac, mac, AUTH_MAC_LEN);
	memcpy(slot->vhash, vhash, AUTH_MAC_LEN);
	strcpy(slot->name, name);
	slot->added = now;
	slot->expires = now + OC_AUTH_CACHE_TTL_SECONDS;
	slot->serial = serial;
	slot->has_id = has_id;
	slot->id = copy;                        /* moved in */
	pthread_mutex_unlock(&a->mu);
}

/* ---- verification --------------------------------------------------------- */

/* Full yescrypt check; 1 when the password matches the verifier. */
static int
auth_crypt_check(struct oc_auth *a, const char *password, const char *verifier)
{
	struct crypt_data *cd = NULL;
	const char *h;
	size_t vlen = strlen(verifier);
	int ok = 0;

	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	h = crypt_rn(password, verifier, cd, (int)sizeof(*cd));
	ok = h != NULL && h[0] != '*' && strlen(h) == vlen &&
	    CRYPTO_memcmp(h, verifier, vlen) == 0;
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	pthread_mutex_lock(&a->mu);
	a->st.hashes++;
	pthread_mutex_unlock(&a->mu);
	return ok;
}

static void
auth_failed(struct oc_auth *a)
{
	pthread_mutex_lock(&a->mu);
	a->st.failures++;
	pthread_mutex_unlock(&a->mu);
}

/*
 * A directory account's password (LDAP simple bind), with the same cache:
 * the entry says "this login and password were accepted"; the account is
 * read again on every hit.
 */
static int
auth_password_ldap(struct oc_auth *a, const uint8_t *mac, const char *login,
    const char *password, struct oc_identity *id)
{
	static const uint8_t nohash[AUTH_MAC_LEN];
	struct oc_identity found = { 0 };
	enum auth_hit hit;
	int r;

	hit = auth_cache_hit(a, mac, login, nohash, 0, &found);
	if (hit != AUTH_MISS) {
		oc_identity_clear(&found);
		r = oc_ldap_ident_lookup(a->ldap, OC_LDAP_KEY_LOGIN, login, &found);
		if (r == OC_ERR_NOT_FOUND || r == OC_ERR_PARSE) {
			r = OC_ERR_AUTH;        /* disabled or removed since */
			goto fail;
		}
		if (r != OC_OK)
			goto out;
	} else {
		r = oc_ldap_ident_password(a->ldap, login, password, &found);
		pthread_mutex_lock(&a->mu);
		a->st.hashes++;         /* here: binds */
		pthread_mutex_unlock(&a->mu);
		if (r == OC_ERR_AUTH)
			goto fail;
		if (r != OC_OK)
			goto out;       /* directory trouble, not a verdict: not cached */
		auth_cache_put(a, mac, login, nohash, 0, NULL);
	}
	found.auth_type = OC_AUTH_PASSWORD;
	*id = found;
	memset(&found, 0, sizeof(found));
	r = OC_OK;
	goto out;
fail:
	auth_failed(a);
out:
	oc_identity_clear(&found);
	return r;
}

int
oc_auth_password(struct oc_auth *a, const char *login, const char *password,
    struct oc_identity *id)
{
	struct oc_identity found = { 0 };
	struct auth_dirh *h = NULL;
	struct oc_directory *dir = NULL;
	uint8_t mac[AUTH_MAC_LEN], vhash[AUTH_MAC_LEN];
	unsigned int vhlen = 0;
	char *name = NULL, *verifier = NULL;
	int64_t serial = 0;
	enum auth_hit hit;
	size_t llen, plen;
	int r;

	if (id != NULL)
		memset(id, 0, sizeof(*id));
	if (a == NULL || id == NULL)
		return OC_ERR_INVALID;
	r = OC_ERR_AUTH;
	if (login == NULL || password == NULL)
		goto fail;
	llen = strnlen(login, OC_USERNAME_MAX + 1);
	plen = strnlen(password, OC_PASSWORD_MAX + 1);
	if (llen == 0 || llen > OC_USERNAME_MAX || plen == 0 || plen > OC_PASSWORD_MAX)
		goto fail;      /* nothing to look up: no hash to hide */
	log_debug("password check for login %s", login);
	if ((r = auth_dir(a, &h)) != OC_OK)
		goto out;
	dir = h->dir;
	if ((r = auth_mac(h, login, llen, password, plen, mac)) != OC_OK)
		goto out;
	if (a->ldap != NULL) {
		r = auth_password_ldap(a, mac, login, password, id);
		goto out;
	}

	/* the account behind the login, its verifier and the serial: one read */
	r = oc_dir_login_state(dir, login, &name, &verifier, &serial);
	if (r == OC_OK && verifier == NULL)
		r = OC_ERR_NOT_FOUND;
	if (r == OC_ERR_NOT_FOUND) {
		/* unknown user or no password login: same cost, same answer */
		(void)auth_crypt_check(a, password, a->dummy_verifier);
		r = OC_ERR_AUTH;
		goto fail;
	}
	if (r != OC_OK)
		goto out;       /* directory trouble, not a verdict */
	if (!EVP_Digest(verifier, strlen(verifier), vhash, &vhlen, EVP_sha256(), NULL)) {
		r = OC_ERR_CRYPTO;
		goto out;
	}
	hit = auth_cache_hit(a, mac, name, vhash, serial, &found);
	if (hit == AUTH_MISS && !auth_crypt_check(a, password, verifier)) {
		r = OC_ERR_AUTH;
		goto fail;
	}
	if (hit != AUTH_HIT_FULL) {
		r = oc_dir_account_get(dir, name, &found);
		if (r == OC_ERR_NOT_FOUND) {
			r = OC_ERR_AUTH;        /* removed since the first read */
			goto fail;
		}
		if (r != OC_OK)
			goto out;
		/* read after the serial: at least as new as what serial names */
		auth_cache_put(a, mac, name, vhash, serial, &found);
	}
	found.auth_type = OC_AUTH_PASSWORD;
	*id = found;
	memset(&found, 0, sizeof(found));
	r = OC_OK;
	goto out;
fail:
	auth_failed(a);
out:
	oc_identity_clear(&found);
	free(name);
	oc_free_secret(verifier);
	OPENSSL_cleanse(mac, sizeof(mac));
	OPENSSL_cleanse(vhash, sizeof(vhash));
	return r;
}
