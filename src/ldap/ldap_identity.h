/*
 * Callers' identities from Active Directory over LDAP ([directory] source =
 * ldap): the account behind a SID (Kerberos: the PAC's user SID), a login
 * (sAMAccountName, UPN or DOMAIN\name: password callers) or a certificate's
 * names (SID extension, UPN SAN, DNS SAN: certificate callers), read with the
 * service connection (oc_ldap_connect) and turned into a struct oc_identity:
 *
 *   name      sAMAccountName          kind  computer when objectClass computer
 *   upn       userPrincipalName       mail  mail
 *   dns_name  dNSHostName             dn    the entry's DN
 *   sid       objectSid as text       groups  tokenGroups (a base search on
 *             the DN) as SIDs, plus Everyone and Authenticated Users, which an
 *             AD logon token holds and template ACLs grant to
 *
 * Disabled accounts (userAccountControl ACCOUNTDISABLE) are never found.
 * Found identities are cached for OC_LDAP_IDENT_TTL_SECONDS in a table of at
 * most OC_LDAP_IDENT_CACHE_ENTRIES; "no such account" is never cached, nor is
 * a connection failure ever taken for one: OC_ERR_NOT_FOUND comes only from a
 * search that succeeded.
 *
 * Thread-safe: one connection shared under a lock, reopened after a failure.
 */
#ifndef OC_LDAP_IDENTITY_H
#define OC_LDAP_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"
#include "ldap/ldap_conn.h"
#include "model/identity.h"

/* What a lookup goes by. */
enum oc_ldap_ident_key {
	OC_LDAP_KEY_SID = 1,        /* "S-1-5-21-..." -> objectSid */
	OC_LDAP_KEY_LOGIN,          /* "bob", "bob@corp.example.test", "CORP\bob" */
	OC_LDAP_KEY_UPN,            /* userPrincipalName only */
	OC_LDAP_KEY_DNS,            /* dNSHostName of a computer account */
};

struct oc_ldap_ident;

/* cfg is copied (strings included); nothing is connected before the first lookup. */
int oc_ldap_ident_new(const struct oc_ldap_config *cfg, struct oc_ldap_ident **lp) OC_WUR;
void oc_ldap_ident_free(struct oc_ldap_ident *li);          /* NULL-safe */

/*
 * The account behind value (cache first). OC_OK: id filled (auth_type 0:
 * the caller sets it). OC_ERR_NOT_FOUND: no enabled account, or two
 * (ambiguous). OC_ERR_UNAVAILABLE: the directory could not be asked.
 * OC_ERR_PARSE: value is not a valid key of that kind.
 */
int oc_ldap_ident_lookup(struct oc_ldap_ident *li, enum oc_ldap_ident_key key,
    const char *value, struct oc_identity *id) OC_WUR;

/*
 * A password caller: the account behind login, then a simple bind as its DN
 * with password on a fresh TLS connection (oc_ldap_check_password). An
 * unknown login is bound as given, so it costs a bind too. OC_OK with id
 * filled (auth_type PASSWORD); OC_ERR_AUTH for every refusal;
 * OC_ERR_UNAVAILABLE when the directory could not be asked.
 */
int oc_ldap_ident_password(struct oc_ldap_ident *li, const char *login, const char *password,
    struct oc_identity *id) OC_WUR;

/*
 * A certificate caller, in certauth.c's order: a SID maps by objectSid or not
 * at all (strong mapping); else the first UPN that is an account's
 * userPrincipalName; else the first DNS name that is a computer's dNSHostName.
 * OC_ERR_NOT_FOUND when nothing maps.
 */
int oc_ldap_ident_cert(struct oc_ldap_ident *li, const char *sid, const struct oc_strlist *upn,
    const struct oc_strlist *dns, struct oc_identity *id) OC_WUR;

/* Statistics for tests. */
struct oc_ldap_ident_stats {
	unsigned long searches;     /* account searches sent to the server */
	unsigned long cache_hits;
	unsigned long reconnects;
};
void oc_ldap_ident_get_stats(struct oc_ldap_ident *li, struct oc_ldap_ident_stats *st);

/* ---- pure parts, exposed for the unit tests ---------------------------- */

/*
 * The search filter for key/value (RFC 4515 escaped), enabled user or
 * computer objects only. A DOMAIN\name login keeps DOMAIN in *domain (NULL
 * otherwise) for the caller to compare with the directory's NetBIOS name.
 */
int oc_ldap_ident_filter(enum oc_ldap_ident_key key, const char *value, char **filter,
    char **domain) OC_WUR;

/* One attribute's values as libldap hands them (berval-like). */
struct oc_ldap_ident_val {
	const uint8_t *p;
	size_t len;
};

/* The attributes of one account entry. */
struct oc_ldap_ident_entry {
	const char *dn;
	const struct oc_ldap_ident_val *sam, *upn, *mail, *dns, *sid;  /* NULL: absent */
	const struct oc_ldap_ident_val *classes;    /* objectClass values */
	size_t nclasses;
	const struct oc_ldap_ident_val *token_groups;  /* binary SIDs */
	size_t ngroups;
};

/*
 * Entry -> identity. Refuses (OC_ERR_PARSE) an entry without DN,
 * sAMAccountName or a valid objectSid, values over OC_NAME_MAX / OC_DIR_ITEM_MAX
 * or with control bytes, and more than OC_GROUPS_MAX groups (OC_ERR_LIMIT).
 * A tokenGroups value that is not a SID is refused too.
 */
int oc_ldap_ident_from_entry(const struct oc_ldap_ident_entry *e, struct oc_identity *id) OC_WUR;

#endif
