/*
 * Callers' identities from Active Directory over LDAP (ldap_identity.h):
 * the pure parts (search filters, entry -> identity). The connection, the
 * cache and the lookups are in ldap_identity_lookup.c.
 */
#include "ldap/ldap_identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/log.h"

/* enabled accounts only: userAccountControl without ACCOUNTDISABLE (0x2) */
#define ENABLED "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"

/* Printable, bounded text without control bytes. */
static int
text_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || (n = strnlen(s, max + 1)) == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
oc_ldap_ident_filter(enum oc_ldap_ident_key key, const char *value, char **filter,
    char **domain)
{
	const char *bs, *name = value;
	char *esc = NULL, *dom = NULL, *f = NULL;
	uint8_t *bin = NULL;
	size_t binlen = 0, flen;
	int r = OC_ERR_PARSE;

	*filter = NULL;
	if (domain != NULL)
		*domain = NULL;
	if (!text_ok(value, OC_NAME_MAX))
		goto out;
	switch (key) {
	case OC_LDAP_KEY_SID:
		if ((r = oc_ldap_sid_from_text(value, &bin, &binlen)) != OC_OK) {
			r = r == OC_ERR_NOMEM ? r : OC_ERR_PARSE;
			goto out;
		}
		r = oc_ldap_filter_escape_bin(bin, binlen, &esc);
		break;
	case OC_LDAP_KEY_LOGIN:
		if ((bs = strchr(value, '\\')) != NULL) {
			/* DOMAIN\name: one backslash, both parts non-empty, no UPN */
			name = bs + 1;
			if (bs == value || *name == '\0' || strchr(name, '\\') != NULL ||
			    strchr(name, '@') != NULL)
				goto out;
			r = OC_ERR_NOMEM;
			if ((dom = strndup(value, (size_t)(bs - value))) == NULL)
				goto out;
		}
		r = oc_ldap_filter_escape(name, &esc);
		break;
	case OC_LDAP_KEY_UPN:
		if (strchr(value, '@') == NULL)
			goto out;
		r = oc_ldap_filter_escape(value, &esc);
		break;
	case OC_LDAP_KEY_DNS:
		if (strchr(value, '@') != NULL || strchr(value, '\\') != NULL)
			goto out;
		r = oc_ldap_filter_escape(value, &esc);
		break;
	default:
		r = OC_ERR_INVALID;
		goto out;
	}
	if (r != OC_OK)
		goto out;
	flen = strlen(esc) + 128;
	r = OC_ERR_NOMEM;
	if ((f = malloc(flen)) == NULL)
		goto out;
	switch (key) {
	case OC_LDAP_KEY_SID:
		snprintf(f, flen, "(&(objectClass=user)(objectSid=%s)" ENABLED ")", esc);
		break;
	case OC_LDAP_KEY_LOGIN:
		if (dom == NULL && strchr(value, '@') != NULL)
			snprintf(f, flen, "(&(objectClass=user)(userPrincipalName=%s)" ENABLED ")", esc);
		else
			snprintf(f, flen, "(&(objectClass=user)(sAMAccountName=%s)" ENABLED ")", esc);
		break;
	case OC_LDAP_KEY_UPN:
		snprintf(f, flen, "(&(objectClass=user)(userPrincipalName=%s)" ENABLED ")", esc);
		break;
	default:
		snprintf(f, flen, "(&(objectClass=computer)(dNSHostName=%s)" ENABLED ")", esc);
		break;
	}
	*filter = f;
	f = NULL;
	if (domain != NULL) {
		*domain = dom;
		dom = NULL;
	}
	r = OC_OK;
out:
	free(f);
	free(esc);
	free(dom);
	free(bin);
	return r;
}

/* One text value (NULL stays NULL), checked and copied. */
static int
val_text(const struct oc_ldap_ident_val *v, size_t max, char **out)
{
	*out = NULL;
	if (v == NULL)
		return OC_OK;
	if (v->p == NULL || v->len == 0 || v->len > max)
		return OC_ERR_PARSE;
	for (size_t i = 0; i < v->len; i++)
		if (v->p[i] < 0x20 || v->p[i] == 0x7f)
			return OC_ERR_PARSE;
	return (*out = strndup((const char *)v->p, v->len)) ? OC_OK : OC_ERR_NOMEM;
}

int
oc_ldap_ident_from_entry(const struct oc_ldap_ident_entry *e, struct oc_identity *id)
{
	static const char *const wellknown[] = { "S-1-1-0", "S-1-5-11" };
	struct oc_identity x = { 0 };
	char *g = NULL;
	int r = OC_ERR_PARSE;

	if (id != NULL)
		memset(id, 0, sizeof(*id));
	if (e == NULL || id == NULL)
		return OC_ERR_INVALID;
	if (!text_ok(e->dn, OC_DIR_ITEM_MAX) || e->sam == NULL || e->sid == NULL)
		goto out;
	if ((r = val_text(e->sam, OC_NAME_MAX, &x.name)) != OC_OK ||
	    (r = val_text(e->upn, OC_NAME_MAX, &x.upn)) != OC_OK ||
	    (r = val_text(e->mail, OC_NAME_MAX, &x.mail)) != OC_OK ||
	    (r = val_text(e->dns, OC_NAME_MAX, &x.dns_name)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if ((x.dn = strdup(e->dn)) == NULL)
		goto out;
	if ((r = oc_ldap_sid_to_text(e->sid->p, e->sid->len, &x.sid)) != OC_OK) {
		r = r == OC_ERR_NOMEM ? r : OC_ERR_PARSE;
		goto out;
	}
	x.kind = OC_ACCOUNT_USER;
	for (size_t i = 0; i < e->nclasses; i++)
		if (e->classes[i].len == 8 && strncasecmp((const char *)e->classes[i].p,
		    "computer", 8) == 0)
			x.kind = OC_ACCOUNT_COMPUTER;
	if (e->ngroups > OC_GROUPS_MAX) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	for (size_t i = 0; i < e->ngroups; i++) {
		if ((r = oc_ldap_sid_to_text(e->token_groups[i].p, e->token_groups[i].len,
		    &g)) != OC_OK) {
			r = r == OC_ERR_NOMEM ? r : OC_ERR_PARSE;
			goto out;
		}
		if (!oc_strlist_contains(&x.groups, g) && (r = oc_strlist_add(&x.groups, g)) != OC_OK)
			goto out;
		free(g);
		g = NULL;
	}
	for (size_t i = 0; i < sizeof(wellknown) / sizeof(wellknown[0]); i++) {
		if (oc_strlist_contains(&x.groups, wellknown[i]))
			continue;
		if (x.groups.n >= OC_GROUPS_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((r = oc_strlist_add(&x.groups, wellknown[i])) != OC_OK)
			goto out;
	}
	*id = x;
	memset(&x, 0, sizeof(x));
	r = OC_OK;
out:
	free(g);
	oc_identity_clear(&x);
	return r;
}
