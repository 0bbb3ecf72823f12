/*
 * Callers' identities from Active Directory over LDAP (ldap_identity.h): the
 * service connection (opened on first use, reopened once after a failure),
 * the account searches, tokenGroups, and the bounded TTL cache of found
 * accounts. Lookups share one connection under a lock: a libldap handle is
 * used by one thread at a time.
 */
#define LDAP_DEPRECATED 0
#include "ldap/ldap_identity.h"

#include <ldap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/limits.h"
#include "common/log.h"

struct cache_entry {
	enum oc_ldap_ident_key key;     /* 0: free */
	char *value;                    /* as asked (compared case-insensitively) */
	time_t expires;                 /* monotonic seconds */
	time_t added;
	struct oc_identity id;
};

struct oc_ldap_ident {
	struct oc_ldap_config cfg;      /* strings owned */
	pthread_mutex_t cmu;            /* connection, netbios */
	struct oc_ldap *conn;
	char *netbios;                  /* the domain's NetBIOS name, read once */
	pthread_mutex_t mu;             /* cache, stats */
	struct cache_entry *cache;      /* OC_LDAP_IDENT_CACHE_ENTRIES */
	struct oc_ldap_ident_stats st;
};

static time_t
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int
dup_opt(const char *s, const char **out)
{
	char *d = NULL;

	*out = NULL;
	if (s != NULL && (d = strdup(s)) == NULL)
		return OC_ERR_NOMEM;
	*out = d;
	return OC_OK;
}

int
oc_ldap_ident_new(const struct oc_ldap_config *cfg, struct oc_ldap_ident **lp)
{
	struct oc_ldap_ident *li = NULL;
	int r = OC_ERR_NOMEM;

	*lp = NULL;
	if (cfg == NULL || cfg->uri == NULL)
		return OC_ERR_INVALID;
	if ((li = calloc(1, sizeof(*li))) == NULL)
		return OC_ERR_NOMEM;
	pthread_mutex_init(&li->cmu, NULL);
	pthread_mutex_init(&li->mu, NULL);
	li->cfg = *cfg;
	li->cfg.uri = li->cfg.ca_file = li->cfg.bind_dn = li->cfg.password_file = NULL;
	li->cfg.keytab = li->cfg.principal = li->cfg.base_dn = NULL;
	if (dup_opt(cfg->uri, &li->cfg.uri) != OC_OK ||
	    dup_opt(cfg->ca_file, &li->cfg.ca_file) != OC_OK ||
	    dup_opt(cfg->bind_dn, &li->cfg.bind_dn) != OC_OK ||
	    dup_opt(cfg->password_file, &li->cfg.password_file) != OC_OK ||
	    dup_opt(cfg->keytab, &li->cfg.keytab) != OC_OK ||
	    dup_opt(cfg->principal, &li->cfg.principal) != OC_OK ||
	    dup_opt(cfg->base_dn, &li->cfg.base_dn) != OC_OK)
		goto out;
	if ((li->cache = calloc(OC_LDAP_IDENT_CACHE_ENTRIES, sizeof(*li->cache))) == NULL)
		goto out;
	*lp = li;
	li = NULL;
	r = OC_OK;
out:
	oc_ldap_ident_free(li);
	return r;
}

static void
entry_clear(struct cache_entry *e)
{
	free(e->value);
	oc_identity_clear(&e->id);
	memset(e, 0, sizeof(*e));
}

void
oc_ldap_ident_free(struct oc_ldap_ident *li)
{
	if (li == NULL)
		return;
	if (li->cache != NULL)
		for (size_t i = 0; i < OC_LDAP_IDENT_CACHE_ENTRIES; i++)
			entry_clear(&li->cache[i]);
	free(li->cache);
	oc_ldap_close(li->conn);
	free(li->netbios);
	free((char *)li->cfg.uri);
	free((char *)li->cfg.ca_file);
	free((char *)li->cfg.bind_dn);
	free((char *)li->cfg.password_file);
	free((char *)li->cfg.keytab);
	free((char *)li->cfg.principal);
	free((char *)li->cfg.base_dn);
	pthread_mutex_destroy(&li->cmu);
	pthread_mutex_destroy(&li->mu);
	free(li);
}

void
oc_ldap_ident_get_stats(struct oc_ldap_ident *li, struct oc_ldap_ident_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (li == NULL)
		return;
	pthread_mutex_lock(&li->mu);
	*st = li->st;
	pthread_mutex_unlock(&li->mu);
}

/* ---- cache ---------------------------------------------------------------- */

static int
cache_get(struct oc_ldap_ident *li, enum oc_ldap_ident_key key, const char *value,
    struct oc_identity *id)
{
	time_t now = now_mono();
	int r = OC_ERR_NOT_FOUND;

	pthread_mutex_lock(&li->mu);
	for (size_t i = 0; i < OC_LDAP_IDENT_CACHE_ENTRIES; i++) {
		struct cache_entry *e = &li->cache[i];

		if (e->key != key || strcasecmp(e->value, value) != 0)
			continue;
		if (e->expires <= now) {
			entry_clear(e);
			break;
		}
		if ((r = oc_identity_copy(id, &e->id)) == OC_OK)
			li->st.cache_hits++;
		break;
	}
	pthread_mutex_unlock(&li->mu);
	return r;
}

static void
cache_put(struct oc_ldap_ident *li, enum oc_ldap_ident_key key, const char *value,
    const struct oc_identity *id)
{
	struct cache_entry *slot = NULL;
	struct oc_identity copy = { 0 };
	char *v = NULL;
	time_t now = now_mono();

	if (oc_identity_copy(&copy, id) != OC_OK || (v = strdup(value)) == NULL) {
		oc_identity_clear(&copy);
		return;                 /* not remembered: the next lookup searches */
	}
	pthread_mutex_lock(&li->mu);
	for (size_t i = 0; i < OC_LDAP_IDENT_CACHE_ENTRIES; i++) {
		struct cache_entry *e = &li->cache[i];

		if (e->key == key && strcasecmp(e->value, value) == 0) {
			slot = e;       /* same key: refresh */
			break;
		}
		if (e->key == 0 || e->expires <= now) {
			if (slot == NULL || (slot->key != 0 && slot->expires > now))
				slot = e;
		} else if (slot == NULL || (slot->key != 0 && slot->expires > now &&
		    e->added < slot->added)) {
			slot = e;       /* oldest so far */
		}
	}
	entry_clear(slot);
	slot->key = key;
	slot->value = v;
	slot->added = now;
	slot->expires = now + OC_LDAP_IDENT_TTL_SECONDS;
	slot->id = copy;
	pthread_mutex_unlock(&li->mu);
}

/* ---- searches (under cmu) ------------------------------------------------- */

static int
is_conn_error(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_UNAVAILABLE ||
	    rc == LDAP_BUSY || rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED ||
	    rc == LDAP_OTHER || rc == LDAP_LOCAL_ERROR || rc == LDAP_UNWILLING_TO_PERFORM ||
	    rc == LDAP_OPERATIONS_ERROR;
}

static int
ensure_conn(struct oc_ldap_ident *li)
{
	int r;

	if (li->conn != NULL)
		return OC_OK;
	if ((r = oc_ldap_connect(&li->cfg, &li->conn)) != OC_OK) {
		error_fr(r, "directory %s", li->cfg.uri);
		return OC_ERR_UNAVAILABLE;
	}
	return OC_OK;
}

/*
 * ldap_search_ext_s on the service connection; a connection-level failure
 * drops the connection and tries once more on a fresh one.
 */
static int
search(struct oc_ldap_ident *li, const char *base, int scope, const char *filter,
    char **attrs, int sizelimit, LDAPMessage **res, int *rcp)
{
	struct timeval tv;
	int rc = LDAP_OTHER, r;

	*res = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((r = ensure_conn(li)) != OC_OK)
			return r;
		tv.tv_sec = oc_ldap_timeout(li->conn);
		tv.tv_usec = 0;
		rc = ldap_search_ext_s(oc_ldap_handle(li->conn), base, scope, filter, attrs, 0,
		    NULL, NULL, &tv, sizelimit, res);
		if (!is_conn_error(rc))
			break;
		log_info("ldap: %s: search failed (%s): reconnecting", li->cfg.uri,
		    ldap_err2string(rc));
		ldap_msgfree(*res);
		*res = NULL;
		oc_ldap_close(li->conn);
		li->conn = NULL;
		pthread_mutex_lock(&li->mu);
		li->st.reconnects++;
		pthread_mutex_unlock(&li->mu);
	}
	*rcp = rc;
	if (rc == LDAP_SUCCESS || rc == LDAP_SIZELIMIT_EXCEEDED || rc == LDAP_NO_SUCH_OBJECT)
		return OC_OK;
	log_error("ldap: %s: search %s: %s", li->cfg.uri, filter, ldap_err2string(rc));
	ldap_msgfree(*res);
	*res = NULL;
	return OC_ERR_UNAVAILABLE;
}

/* The domain's NetBIOS name (crossRef of the default naming context), once. */
static int
netbios_name(struct oc_ldap_ident *li, const char **out)
{
	static char *attrs[] = { "nETBIOSName", NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	char *base = NULL, *esc = NULL, *filter = NULL;
	size_t n;
	int r, rc = 0;

	*out = NULL;
	if (li->netbios != NULL) {
		*out = li->netbios;
		return OC_OK;
	}
	if ((r = ensure_conn(li)) != OC_OK)
		return r;
	r = OC_ERR_NOMEM;
	n = strlen(oc_ldap_config_nc(li->conn)) + 16;
	if ((base = malloc(n)) == NULL)
		goto out;
	snprintf(base, n, "CN=Partitions,%s", oc_ldap_config_nc(li->conn));
	if ((r = oc_ldap_filter_escape(oc_ldap_default_nc(li->conn), &esc)) != OC_OK)
		goto out;
	n = strlen(esc) + 64;
	r = OC_ERR_NOMEM;
	if ((filter = malloc(n)) == NULL)
		goto out;
	snprintf(filter, n, "(&(objectClass=crossRef)(nCName=%s))", esc);
	if ((r = search(li, base, LDAP_SCOPE_ONELEVEL, filter, attrs, 1, &res, &rc)) != OC_OK)
		goto out;
	r = OC_ERR_NOT_FOUND;
	if ((e = ldap_first_entry(oc_ldap_handle(li->conn), res)) == NULL ||
	    (v = ldap_get_values_len(oc_ldap_handle(li->conn), e, "nETBIOSName")) == NULL ||
	    v[0] == NULL || v[0]->bv_len == 0 || v[0]->bv_len > OC_NAME_MAX ||
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) != NULL)
		goto out;
	r = OC_ERR_NOMEM;
	if ((li->netbios = strndup(v[0]->bv_val, v[0]->bv_len)) == NULL)
		goto out;
	*out = li->netbios;
	r = OC_OK;
out:
	if (v != NULL)
		ldap_value_free_len(v);
	ldap_msgfree(res);
	free(base);
	free(esc);
	free(filter);
	return r;
}

/* berval values -> oc_ldap_ident_val array (borrowed), NULL/0 when absent. */
static int
vals_of(struct berval **bv, struct oc_ldap_ident_val **out, size_t *n, size_t max)
{
	size_t k = 0;

	*out = NULL;
	*n = 0;
	if (bv == NULL)
		return OC_OK;
	while (bv[k] != NULL)
		k++;
	if (k == 0)
		return OC_OK;
	if (k > max)
		return OC_ERR_LIMIT;
	if ((*out = calloc(k, sizeof(**out))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < k; i++) {
		(*out)[i].p = (const uint8_t *)bv[i]->bv_val;
		(*out)[i].len = bv[i]->bv_len;
	}
	*n = k;
	return OC_OK;
}

/* tokenGroups of dn: a base search (the attribute is constructed, base scope only). */
static int
token_groups(struct oc_ldap_ident *li, const char *dn, struct berval ***out)
{
	static char *attrs[] = { "tokenGroups", NULL };
	LDAPMessage *res = NULL, *e;
	int r, rc = 0;

	*out = NULL;
	if ((r = search(li, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 1, &res, &rc)) != OC_OK)
		return r;
	if ((e = ldap_first_entry(oc_ldap_handle(li->conn), res)) != NULL)
		*out = ldap_get_values_len(oc_ldap_handle(li->conn), e, "tokenGroups");
	ldap_msgfree(res);
	return OC_OK;
}

/* Search key/value on the server (under cmu). */
static int
lookup_server(struct oc_ldap_ident *li, enum oc_ldap_ident_key key, const char *value,
    struct oc_identity *id)
{
	static char *attrs[] = { "sAMAccountName", "objectClass", "userPrincipalName", "mail",
		"dNSHostName", "objectSid", NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **sam = NULL, **upn = NULL, **mail = NULL, **dns = NULL, **sid = NULL;
	struct berval **cls = NULL, **tg = NULL;
	struct oc_ldap_ident_val *vsam = NULL, *vupn = NULL, *vmail = NULL, *vdns = NULL;
	struct oc_ldap_ident_val *vsid = NULL, *vcls = NULL, *vtg = NULL;
	struct oc_ldap_ident_entry ent;
	char *filter = NULL, *domain = NULL, *dn = NULL;
	const char *nb = NULL;
	size_t n;
	int r, rc = 0;
	LDAP *ld;

	memset(&ent, 0, sizeof(ent));
	if ((r = oc_ldap_ident_filter(key, value, &filter, &domain)) != OC_OK)
		goto out;
	if ((r = ensure_conn(li)) != OC_OK)
		goto out;
	if (domain != NULL) {
		if ((r = netbios_name(li, &nb)) != OC_OK && r != OC_ERR_NOT_FOUND)
			goto out;
		if (nb == NULL || strcasecmp(nb, domain) != 0) {
			log_info("login of domain %s: not this directory's (%s)", domain,
			    nb ? nb : "no NetBIOS name");
			r = OC_ERR_NOT_FOUND;
			goto out;
		}
	}
	pthread_mutex_lock(&li->mu);
	li->st.searches++;
	pthread_mutex_unlock(&li->mu);
	if ((r = search(li, oc_ldap_default_nc(li->conn), LDAP_SCOPE_SUBTREE, filter, attrs, 2,
	    &res, &rc)) != OC_OK)
		goto out;
	ld = oc_ldap_handle(li->conn);
	r = OC_ERR_NOT_FOUND;
	if ((e = ldap_first_entry(ld, res)) == NULL)
		goto out;
	if (rc == LDAP_SIZELIMIT_EXCEEDED || ldap_next_entry(ld, e) != NULL) {
		log_info("ldap: %s: more than one account for %s: none", li->cfg.uri, filter);
		goto out;
	}
	if ((dn = ldap_get_dn(ld, e)) == NULL) {
		r = OC_ERR_UNAVAILABLE;
		goto out;
	}
	sam = ldap_get_values_len(ld, e, "sAMAccountName");
	upn = ldap_get_values_len(ld, e, "userPrincipalName");
	mail = ldap_get_values_len(ld, e, "mail");
	dns = ldap_get_values_len(ld, e, "dNSHostName");
	sid = ldap_get_values_len(ld, e, "objectSid");
	cls = ldap_get_values_len(ld, e, "objectClass");
	if ((r = token_groups(li, dn, &tg)) != OC_OK)
		goto out;
	if ((r = vals_of(sam, &vsam, &n, 1)) != OC_OK || (r = vals_of(upn, &vupn, &n, 1)) != OC_OK ||
	    (r = vals_of(mail, &vmail, &n, OC_LIST_MAX)) != OC_OK ||
	    (r = vals_of(dns, &vdns, &n, 1)) != OC_OK || (r = vals_of(sid, &vsid, &n, 1)) != OC_OK ||
	    (r = vals_of(cls, &vcls, &ent.nclasses, OC_LIST_MAX)) != OC_OK ||
	    (r = vals_of(tg, &vtg, &ent.ngroups, OC_GROUPS_MAX)) != OC_OK)
		goto bad;
	ent.dn = dn;
	ent.sam = vsam;
	ent.upn = vupn;
	ent.mail = vmail;               /* the first address */
	ent.dns = vdns;
	ent.sid = vsid;
	ent.classes = vcls;
	ent.token_groups = vtg;
	if ((r = oc_ldap_ident_from_entry(&ent, id)) != OC_OK)
		goto bad;
	r = OC_OK;
	goto out;
bad:
	if (r != OC_ERR_NOMEM) {
		log_error("ldap: %s: account %s is not usable: %s", li->cfg.uri, dn, oc_strerror(r));
		r = OC_ERR_NOT_FOUND;
	}
out:
	free(vsam);
	free(vupn);
	free(vmail);
	free(vdns);
	free(vsid);
	free(vcls);
	free(vtg);
	ldap_value_free_len(sam);
	ldap_value_free_len(upn);
	ldap_value_free_len(mail);
	ldap_value_free_len(dns);
	ldap_value_free_len(sid);
	ldap_value_free_len(cls);
	ldap_value_free_len(tg);
	ldap_memfree(dn);
	ldap_msgfree(res);
	free(filter);
	free(domain);
	return r;
}

int
oc_ldap_ident_lookup(struct oc_ldap_ident *li, enum oc_ldap_ident_key key,
    const char *value, struct oc_identity *id)
{
	int r;

	if (id != NULL)
		memset(id, 0, sizeof(*id));
	if (li == NULL || id == NULL || value == NULL)
		return OC_ERR_INVALID;
	if (cache_get(li, key, value, id) == OC_OK)
		return OC_OK;
	pthread_mutex_lock(&li->cmu);
	r = lookup_server(li, key, value, id);
	pthread_mutex_unlock(&li->cmu);
	if (r == OC_OK)
		cache_put(li, key, value, id);
	else
		oc_identity_clear(id);
	return r;
}

int
oc_ldap_ident_password(struct oc_ldap_ident *li, const char *login, const char *password,
    struct oc_identity *id)
{
	struct oc_identity found = { 0 };
	const char *who;
	int r, lr;

	if (id != NULL)
		memset(id, 0, sizeof(*id));
	if (li == NULL || id == NULL)
		return OC_ERR_INVALID;
	if (login == NULL || password == NULL || *login == '\0' || *password == '\0')
		return OC_ERR_AUTH;
	lr = oc_ldap_ident_lookup(li, OC_LDAP_KEY_LOGIN, login, &found);
	if (lr != OC_OK && lr != OC_ERR_NOT_FOUND && lr != OC_ERR_PARSE) {
		r = OC_ERR_UNAVAILABLE;
		goto out;
	}
	/* an unknown login is bound as given: it costs a bind like the others */
	who = lr == OC_OK ? found.dn : login;
	r = oc_ldap_check_password(&li->cfg, who, password);
	if (r == OC_OK && lr != OC_OK) {
		/* the server took it, yet it is no enabled account of this domain */
		r = OC_ERR_AUTH;
		goto out;
	}
	if (r != OC_OK) {
		if (r != OC_ERR_AUTH)
			r = OC_ERR_UNAVAILABLE;
		goto out;
	}
	found.auth_type = OC_AUTH_PASSWORD;
	*id = found;
	memset(&found, 0, sizeof(found));
out:
	oc_identity_clear(&found);
	return r;
}

int
oc_ldap_ident_cert(struct oc_ldap_ident *li, const char *sid, const struct oc_strlist *upn,
    const struct oc_strlist *dns, struct oc_identity *id)
{
	int r = OC_ERR_NOT_FOUND;

	if (id != NULL)
		memset(id, 0, sizeof(*id));
	if (li == NULL || id == NULL)
		return OC_ERR_INVALID;
	if (sid != NULL) {
		/* strong mapping: a SID maps by that SID or not at all */
		r = oc_ldap_ident_lookup(li, OC_LDAP_KEY_SID, sid, id);
		return r == OC_ERR_PARSE ? OC_ERR_NOT_FOUND : r;
	}
	for (size_t i = 0; upn != NULL && i < upn->n; i++) {
		r = oc_ldap_ident_lookup(li, OC_LDAP_KEY_UPN, upn->v[i], id);
		if (r != OC_ERR_NOT_FOUND && r != OC_ERR_PARSE)
			return r;
	}
	for (size_t i = 0; dns != NULL && i < dns->n; i++) {
		r = oc_ldap_ident_lookup(li, OC_LDAP_KEY_DNS, dns->v[i], id);
		if (r != OC_ERR_NOT_FOUND && r != OC_ERR_PARSE)
			return r;
	}
	return OC_ERR_NOT_FOUND;
}
