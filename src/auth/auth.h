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
