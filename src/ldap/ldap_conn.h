/*
 * One LDAP connection to an Active Directory (or Samba AD, or slapd with the
 * shipped schema) for the directory mirror, the identity lookups and
 * `opencesd ad publish`. OpenLDAP's libldap does the protocol; this file only
 * sets it up: LDAPS or StartTLS (never a simple bind in clear), SASL/GSSAPI
 * from a service keytab or a simple bind, bounded timeouts, no referrals.
 *
 * A connection is used by one thread at a time.
 */
#ifndef OC_LDAP_CONN_H
#define OC_LDAP_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"

enum oc_ldap_bind {
	OC_LDAP_BIND_SIMPLE = 1,    /* bind_dn + the password in password_file */
	OC_LDAP_BIND_GSSAPI = 2,    /* SASL GSSAPI as principal, keys from keytab */
};

/* [directory] keys of opencesd.conf (see docs/man/opencesd.conf.5). */
struct oc_ldap_config {
	const char *uri;            /* "ldaps://dc1.corp.example.test" or "ldap://..." */
	int starttls;               /* ldap:// URIs: 1 = StartTLS required (default) */
	const char *ca_file;        /* trust anchors for the server certificate (PEM);
	                               NULL = system default */
	int bind;                   /* enum oc_ldap_bind */
	const char *bind_dn;        /* simple: the DN (or UPN, AD accepts both) */
	const char *password_file;  /* simple: file holding the password (first line) */
	const char *keytab;         /* gssapi: client keytab */
	const char *principal;      /* gssapi: e.g. "websvc@CORP.EXAMPLE.TEST" (NULL: first
	                               entry of the keytab) */
	const char *base_dn;        /* optional: override the configuration naming context
	                               read from the RootDSE (slapd has none) */
	int timeout_s;              /* connect and operation timeout, 0 = 10 s */
};

struct oc_ldap;

/*
 * Connect, start TLS (unless ldaps://), bind, read the RootDSE
 * (configurationNamingContext, defaultNamingContext; for slapd base_dn is
 * used for both when the RootDSE has none). OC_ERR_IO when the server cannot
 * be reached, OC_ERR_AUTH when the bind is refused; a TLS
 * failure is OC_ERR_IO too (logged as such).
 */
int oc_ldap_connect(const struct oc_ldap_config *cfg, struct oc_ldap **lp) OC_WUR;
void oc_ldap_close(struct oc_ldap *l);                  /* NULL-safe */

/* The libldap handle (borrowed; use it with <ldap.h> for searches and writes). */
void *oc_ldap_handle(struct oc_ldap *l);
/* "CN=Configuration,DC=corp,DC=example,DC=test" (or base_dn). */
const char *oc_ldap_config_nc(const struct oc_ldap *l);
/* "DC=corp,DC=example,DC=test" (or base_dn). */
const char *oc_ldap_default_nc(const struct oc_ldap *l);
/* The timeout for single operations, as the configuration says. */
int oc_ldap_timeout(const struct oc_ldap *l);

/*
 * Check a user's password by a simple bind as that user on a fresh TLS
 * connection to cfg->uri (nothing else of cfg's bind is used). who is a DN,
 * a UPN or DOMAIN\name. OC_OK: accepted; OC_ERR_AUTH: refused (wrong
 * password, unknown user, disabled); OC_ERR_IO: server unreachable. The
 * password is never logged.
 */
int oc_ldap_check_password(const struct oc_ldap_config *cfg, const char *who,
    const char *password) OC_WUR;

/*
 * Escape a value for use in a search filter (RFC 4515) / render binary as
 * \xx escapes (objectSid filters). *out malloc'd.
 */
int oc_ldap_filter_escape(const char *in, char **out) OC_WUR;
int oc_ldap_filter_escape_bin(const uint8_t *p, size_t len, char **out) OC_WUR;

/* Text SID "S-1-5-21-..." <-> binary objectSid. */
int oc_ldap_sid_to_text(const uint8_t *p, size_t len, char **out) OC_WUR;
int oc_ldap_sid_from_text(const char *s, uint8_t **out, size_t *len) OC_WUR;

#endif
