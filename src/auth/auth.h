/*
 * Authentication of callers. Username/password: yescrypt verifiers from the
 * directory, with a bounded, short-lived cache of verified credentials
 * (HMAC under a per-process random key; constant-time compare; nothing in clear).
 * Wrong password and unknown user give the same answer (OC_ERR_AUTH) and cost
 * the same (a dummy hash is computed for unknown users).
 */
#ifndef OC_AUTH_H
#define OC_AUTH_H

#include "common/err.h"
#include "directory/directory.h"
#include "model/identity.h"

struct oc_auth;

/* dir_path: the embedded directory; each thread opens its own handle lazily. */
int oc_auth_new(const char *dir_path, struct oc_auth **ap) OC_WUR;
void oc_auth_free(struct oc_auth *a);

struct oc_ldap_ident;

/*
 * Passwords of Active Directory accounts instead ([directory] source = ldap):
 * a simple bind as the account (oc_ldap_ident_password, li borrowed, must
 * outlive the handle). The cache rules are the same: an entry is the HMAC of
 * login and password, kept OC_AUTH_CACHE_TTL_SECONDS; a hit still reads the
 * account (li's own short cache), so a disabled or removed account stops
 * authenticating within OC_LDAP_IDENT_TTL_SECONDS. Refusals are never
 * cached; a directory that cannot be asked is OC_ERR_UNAVAILABLE.
 */
int oc_auth_new_ldap(struct oc_ldap_ident *li, struct oc_auth **ap) OC_WUR;

/* Thread-safe. On success fills id (name, attributes, groups, auth_type=PASSWORD). */
int oc_auth_password(struct oc_auth *a, const char *login, const char *password,
    struct oc_identity *id) OC_WUR;

/* Statistics for tests and metrics. */
struct oc_auth_stats {
	unsigned long hashes;       /* full yescrypt computations */
	unsigned long cache_hits;
	unsigned long identity_hits; /* cache hits that also reused the account's identity */
	unsigned long failures;
};
void oc_auth_get_stats(struct oc_auth *a, struct oc_auth_stats *st);

#endif
