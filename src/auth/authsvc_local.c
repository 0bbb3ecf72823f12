/*
 * The authentication service in-process (authsvc.h): oc_auth for passwords
 * (with its cache), oc_gss for SPNEGO. The auth process runs this same code
 * (authsvc_serve.c).
 *
 * Unfinished SPNEGO exchanges live in a table of at most OC_AUTHSVC_CTX_MAX
 * entries, keyed by a random non-zero 64-bit handle (what the caller keeps
 * between legs), each dropped OC_AUTHSVC_CTX_TTL_SECONDS after its last leg.
 * A leg takes its entry out of the table (marked busy) while GSS works on it,
 * so two legs on one handle never run at once: the second is refused. An
 * abort of a busy entry marks it; the leg in progress then frees it.
 *
 * With a directory over LDAP (cfg->ldap), passwords are the accounts' (a
 * bind as the account, through oc_auth's cache), a Kerberos caller's names
 * come from the account of the PAC's user SID (the PAC's groups are kept),
 * and certificates map through oc_ldap_ident_cert.
 */
#include "auth/authsvc_int.h"
#include "auth/auth.h"
#include "auth/gss.h"
#include "common/limits.h"
#include "common/log.h"
#include "ldap/ldap_identity.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ctx_slot {
	uint64_t handle;            /* 0 = free slot */
	struct oc_gss_ctx *gctx;    /* NULL while busy */
	time_t expires;             /* monotonic seconds */
	int busy;                   /* a leg is running on it */
	int aborted;                /* abort arrived while busy */
};

struct oc_authsvc_local {
	struct oc_authsvc base;
	struct oc_auth *auth;
	struct oc_gss *gss;         /* NULL: no keytab configured */
	struct oc_ldap_ident *ldap; /* NULL: the embedded directory */
	pthread_mutex_t mu;         /* slots */
	struct ctx_slot *slots;     /* OC_AUTHSVC_CTX_MAX */
};

static time_t
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct oc_authsvc_local *
L(struct oc_authsvc *s)
{
	return (struct oc_authsvc_local *)s;
}

static void
local_free(struct oc_authsvc *s)
{
	struct oc_authsvc_local *l = L(s);

	if (l->slots != NULL)
		for (size_t i = 0; i < OC_AUTHSVC_CTX_MAX; i++)
			oc_gss_ctx_free(l->slots[i].gctx);
	free(l->slots);
	oc_gss_free(l->gss);
	oc_auth_free(l->auth);
	oc_ldap_ident_free(l->ldap);        /* after auth, which borrows it */
	pthread_mutex_destroy(&l->mu);
	free(l);
}

static int
local_has_kerberos(struct oc_authsvc *s)
{
	return L(s)->gss != NULL;
}

static int
local_has_directory(struct oc_authsvc *s)
{
	return L(s)->ldap != NULL;
}

static int
local_cert_map(struct oc_authsvc *s, const char *sid, const struct oc_strlist *upn,
    const struct oc_strlist *dns, struct oc_identity *id)
{
	int r;

	if (L(s)->ldap == NULL)
		return OC_ERR_NOT_SUPPORTED;
	r = oc_ldap_ident_cert(L(s)->ldap, sid, upn, dns, id);
	if (r == OC_OK)
		id->auth_type = OC_AUTH_CERTIFICATE;
	else if (r != OC_ERR_NOT_FOUND && r != OC_ERR_NOMEM)
		r = OC_ERR_UNAVAILABLE;
	return r;
}

/*
 * A Kerberos caller of the directory: the account of the PAC's user SID gives
 * the names (sAMAccountName, kind, UPN, mail, dNSHostName, DN); the PAC's
 * SID and groups stay. No PAC SID, or no such account (another domain's
 * caller), leaves the ticket's identity as it is; so does a directory that
 * cannot be asked (logged): the PAC alone still decides what the caller may
 * see, and the CA refuses names it does not have.
 */
static int
enrich_ticket(struct oc_authsvc_local *l, struct oc_identity *id)
{
	struct oc_identity acct = { 0 };
	int r;

	if (l->ldap == NULL || id->sid == NULL)
		return OC_OK;
	r = oc_ldap_ident_lookup(l->ldap, OC_LDAP_KEY_SID, id->sid, &acct);
	if (r != OC_OK) {
		if (r == OC_ERR_NOMEM)
			return r;
		if (r != OC_ERR_NOT_FOUND)
			log_error("directory account of %s (%s): %s; the ticket's identity is used",
			    id->name ? id->name : "?", id->sid, oc_strerror(r));
		return OC_OK;
	}
	free(id->name);
	free(id->upn);
	free(id->mail);
	free(id->dns_name);
	free(id->dn);
	id->name = acct.name;
	id->upn = acct.upn;
	id->mail = acct.mail;
	id->dns_name = acct.dns_name;
	id->dn = acct.dn;
	id->kind = acct.kind;
	acct.name = acct.upn = acct.mail = acct.dns_name = acct.dn = NULL;
	oc_identity_clear(&acct);
	return OC_OK;
}

static int
local_password(struct oc_authsvc *s, const char *login, const char *password,
    struct oc_identity *id)
{
	int r = oc_auth_password(L(s)->auth, login, password, id);

	/* one answer for every cause of refusal */
	if (r != OC_OK && r != OC_ERR_NOMEM)
		r = OC_ERR_AUTH;
	return r;
}

/* Under mu: drop the idle entries whose time is up. */
static void
sweep(struct oc_authsvc_local *l, time_t now)
{
	for (size_t i = 0; i < OC_AUTHSVC_CTX_MAX; i++) {
		struct ctx_slot *e = &l->slots[i];

		if (e->handle != 0 && !e->busy && e->expires <= now) {
			oc_gss_ctx_free(e->gctx);
			memset(e, 0, sizeof(*e));
		}
	}
}

/* Under mu: the slot of handle h, or NULL. */
static struct ctx_slot *
find(struct oc_authsvc_local *l, uint64_t h)
{
	for (size_t i = 0; i < OC_AUTHSVC_CTX_MAX; i++)
		if (l->slots[i].handle == h)
			return &l->slots[i];
	return NULL;
}

/*
 * Keep gctx for the next leg: in its slot (handle *h, taken by the leg) or a
 * new slot with a fresh handle (*h == 0). Takes gctx in every case.
 */
static int
park(struct oc_authsvc_local *l, uint64_t *h, struct oc_gss_ctx *gctx)
{
	struct ctx_slot *e = NULL;
	time_t now = now_mono();
	int r = OC_OK;

	pthread_mutex_lock(&l->mu);
	if (*h != 0) {
		e = find(l, *h);
		if (e == NULL || e->aborted) {
			if (e != NULL)
				memset(e, 0, sizeof(*e));
			r = OC_ERR_AUTH;
			goto out;
		}
	} else {
		uint64_t nh = 0;

		sweep(l, now);
		e = find(l, 0);
		if (e == NULL) {
			log_error("%d SPNEGO exchanges in progress: refusing another",
			    OC_AUTHSVC_CTX_MAX);
			r = OC_ERR_UNAVAILABLE;
			goto out;
		}
		do {
			if (RAND_bytes((unsigned char *)&nh, sizeof(nh)) != 1) {
				r = OC_ERR_CRYPTO;
				goto out;
			}
		} while (nh == 0 || find(l, nh) != NULL);
		e->handle = nh;
		*h = nh;
	}
	e->gctx = gctx;
	gctx = NULL;
	e->busy = 0;
	e->aborted = 0;
	e->expires = now + OC_AUTHSVC_CTX_TTL_SECONDS;
out:
	pthread_mutex_unlock(&l->mu);
	oc_gss_ctx_free(gctx);
	return r;
}

/* Take the context of handle h for one leg (busy); NULL if unknown or expired. */
static int
take(struct oc_authsvc_local *l, uint64_t h, struct oc_gss_ctx **gctx)
{
	struct ctx_slot *e;
	int r = OC_ERR_AUTH;

	*gctx = NULL;
	pthread_mutex_lock(&l->mu);
	if ((e = find(l, h)) == NULL || e->busy)
		goto out;
	if (e->expires <= now_mono()) {
		oc_gss_ctx_free(e->gctx);
		memset(e, 0, sizeof(*e));
		goto out;
	}
	*gctx = e->gctx;
	e->gctx = NULL;
	e->busy = 1;
	r = OC_OK;
out:
	pthread_mutex_unlock(&l->mu);
	return r;
}

/* The leg on handle h ended without a next leg: free its slot. */
static void
release(struct oc_authsvc_local *l, uint64_t h)
{
	struct ctx_slot *e;

	pthread_mutex_lock(&l->mu);
	if ((e = find(l, h)) != NULL && e->busy)
		memset(e, 0, sizeof(*e));
	pthread_mutex_unlock(&l->mu);
}

static void local_abort(struct oc_authsvc *s, uint64_t ctx);

static int
local_negotiate(struct oc_authsvc *s, uint64_t *ctx, const uint8_t *token,
    size_t len, const uint8_t *cb, size_t cb_len, uint8_t **out, size_t *out_len,
    struct oc_identity *id, int *complete)
{
	struct oc_authsvc_local *l = L(s);
	struct oc_gss_ctx *gctx = NULL;
	uint64_t h = *ctx;
	int r;

	*ctx = 0;
	if (l->gss == NULL)
		return OC_ERR_NOT_SUPPORTED;
	if (len == 0 || len > OC_GSS_TOKEN_MAX || cb_len > OC_GSS_CB_MAX) {
		local_abort(s, h);      /* the exchange cannot go on */
		return OC_ERR_AUTH;
	}
	if (h != 0 && (r = take(l, h, &gctx)) != OC_OK)
		return r;               /* unknown, expired or busy handle */
	r = oc_gss_accept(l->gss, &gctx, token, len, cb, cb_len, out, out_len, id, complete);
	if (r == OC_OK && !*complete) {
		/* another leg follows: keep the context under h (or a new handle) */
		if ((r = park(l, &h, gctx)) == OC_OK) {
			*ctx = h;
			return OC_OK;
		}
		free(*out);
		*out = NULL;
		*out_len = 0;
		return r;
	}
	if (h != 0)
		release(l, h);
	if (r == OC_OK && *complete && (r = enrich_ticket(l, id)) != OC_OK) {
		oc_identity_clear(id);
		free(*out);
		*out = NULL;
		*out_len = 0;
		*complete = 0;
	}
	if (r != OC_OK && r != OC_ERR_NOMEM)
		r = OC_ERR_AUTH;
	return r;
}

static void
local_abort(struct oc_authsvc *s, uint64_t ctx)
{
	struct oc_authsvc_local *l = L(s);
	struct oc_gss_ctx *gctx = NULL;
	struct ctx_slot *e;

	pthread_mutex_lock(&l->mu);
	if ((e = find(l, ctx)) != NULL) {
		if (e->busy) {
			e->aborted = 1;
		} else {
			gctx = e->gctx;
			memset(e, 0, sizeof(*e));
		}
	}
	pthread_mutex_unlock(&l->mu);
	oc_gss_ctx_free(gctx);
}

static const struct oc_authsvc_ops local_ops = {
	.free = local_free,
	.has_kerberos = local_has_kerberos,
	.password = local_password,
	.negotiate = local_negotiate,
	.abort = local_abort,
	.has_directory = local_has_directory,
	.cert_map = local_cert_map,
};

int
oc_authsvc_local_new(const struct oc_authsvc_config *cfg, struct oc_authsvc **sp)
{
	return oc_authsvc_local_new_ldap(cfg, NULL, sp);
}

int
oc_authsvc_local_new_ldap(const struct oc_authsvc_config *cfg,
    const struct oc_ldap_config *ldap, struct oc_authsvc **sp)
{
	struct oc_authsvc_local *l = NULL;
	int r;

	*sp = NULL;
	if (cfg == NULL || cfg->dir_path == NULL)
		return OC_ERR_INVALID;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return OC_ERR_NOMEM;
	l->base.ops = &local_ops;
	if (pthread_mutex_init(&l->mu, NULL) != 0) {
		free(l);
		return OC_ERR_NOMEM;
	}
	if ((l->slots = calloc(OC_AUTHSVC_CTX_MAX, sizeof(*l->slots))) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if (ldap != NULL) {
		if ((r = oc_ldap_ident_new(ldap, &l->ldap)) != OC_OK) {
			error_fr(r, "directory identities");
			goto out;
		}
		r = oc_auth_new_ldap(l->ldap, &l->auth);
	} else
		r = oc_auth_new(cfg->dir_path, &l->auth);
	if (r != OC_OK) {
		error_fr(r, "password verifier");
		goto out;
	}
	if (cfg->keytab != NULL) {
		struct oc_gss_config gc = { cfg->keytab, cfg->spn, cfg->channel_binding };

		if ((r = oc_gss_new(&gc, &l->gss)) != OC_OK) {
			error_fr(r, "Kerberos acceptor");
			goto out;
		}
	}
	*sp = &l->base;
	l = NULL;
	r = OC_OK;
out:
	if (l != NULL)
		local_free(&l->base);
	return r;
}
