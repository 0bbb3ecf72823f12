/*
 * The enrollment-policy directory: templates, CA entries, accounts, groups and
 * rights. This is the interface protocol and CA code depend on; the embedded
 * SQLite implementation is directory_sqlite.c (issue: LDAP comes later as a
 * second implementation of the same interface).
 *
 * Thread safety: one struct oc_directory per thread (open one per worker), or
 * serialise calls; the SQLite handle is opened in serialized mode.
 */
#ifndef OC_DIRECTORY_H
#define OC_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/limits.h"
#include "model/identity.h"
#include "model/policy.h"
#include "model/template.h"

struct oc_directory;

/* Rights a principal holds on a template. */
#define OC_RIGHT_ENROLL     0x1u
#define OC_RIGHT_AUTOENROLL 0x2u

/*
 * The project's fixed forest base OID: default templates are
 * OC_DIR_FOREST_OID ".1.<n>" with n as in templates.md section 12; templates
 * added without an OID get OC_DIR_FOREST_OID ".<random>.<random>".
 */
#define OC_DIR_FOREST_OID "1.3.6.1.4.1.311.21.8.4811547.10262861.6392731.1513472.5764349.211"

/* Names of the groups seed_defaults creates; new accounts join the one of their kind. */
#define OC_DIR_GROUP_USERS     "Domain Users"
#define OC_DIR_GROUP_COMPUTERS "Domain Computers"

/* One grant on a template (oc_dir_template_grants). */
struct oc_dir_grant {
	char *principal;
	uint32_t rights;            /* OC_RIGHT_* */
};

/* Open (creating the schema if create != 0) the embedded directory at path. */
int oc_dir_open(const char *path, int create, struct oc_directory **dirp) OC_WUR;
/* Open read-only (front ends, the CA). */
int oc_dir_open_ro(const char *path, struct oc_directory **dirp) OC_WUR;
void oc_dir_close(struct oc_directory *dir);            /* NULL-safe */

/* Seed the default template set (User, Machine, WebServer, Workstation, ...); idempotent. */
int oc_dir_seed_defaults(struct oc_directory *dir) OC_WUR;

/* A monotonically increasing change counter for the whole policy (templates, CAs, rights). */
int oc_dir_policy_serial(struct oc_directory *dir, int64_t *serial, time_t *changed) OC_WUR;

/* Templates */
int oc_dir_template_list(struct oc_directory *dir, struct oc_template ***tv, size_t *n) OC_WUR;
void oc_dir_template_list_free(struct oc_template **tv, size_t n);
/* by cn (case-insensitive) or by OID */
int oc_dir_template_get(struct oc_directory *dir, const char *name_or_oid,
    struct oc_template **t) OC_WUR;
int oc_dir_template_put(struct oc_directory *dir, const struct oc_template *t) OC_WUR; /* add or replace */
int oc_dir_template_remove(struct oc_directory *dir, const char *cn) OC_WUR;

/* CA entries (pKIEnrollmentService) */
int oc_dir_ca_list(struct oc_directory *dir, struct oc_ca_entry **cav, size_t *n) OC_WUR;
void oc_dir_ca_list_free(struct oc_ca_entry *cav, size_t n);
int oc_dir_ca_put(struct oc_directory *dir, const struct oc_ca_entry *ca) OC_WUR;   /* add or replace */

/* Accounts and groups */
int oc_dir_account_add(struct oc_directory *dir, const struct oc_identity *attrs,
    const char *password /* may be NULL: no password login */) OC_WUR;
int oc_dir_account_set_password(struct oc_directory *dir, const char *name,
    const char *password) OC_WUR;
int oc_dir_account_remove(struct oc_directory *dir, const char *name) OC_WUR;
/* Fill id with the account's attributes and its groups (transitively: groups of groups). */
int oc_dir_account_get(struct oc_directory *dir, const char *name, struct oc_identity *id) OC_WUR;
/* Find the account for a login name: exact name, UPN, or DOMAIN\name. */
int oc_dir_account_lookup_login(struct oc_directory *dir, const char *login,
    struct oc_identity *id) OC_WUR;
/* The yescrypt verifier of an account (malloc'd), OC_ERR_NOT_FOUND when none. */
int oc_dir_account_verifier(struct oc_directory *dir, const char *name, char **verifier) OC_WUR;
/*
 * What a cached credential check needs, in one read: the canonical name of
 * the account a login designates (matched like oc_dir_account_lookup_login),
 * its verifier (malloc'd; NULL when it has no password login) and the
 * current policy serial. OC_ERR_NOT_FOUND when no account matches.
 */
int oc_dir_login_state(struct oc_directory *dir, const char *login, char **name,
    char **verifier, int64_t *serial) OC_WUR;
int oc_dir_account_list(struct oc_directory *dir, struct oc_identity **idv, size_t *n) OC_WUR;
void oc_dir_account_list_free(struct oc_identity *idv, size_t n);

int oc_dir_group_add(struct oc_directory *dir, const char *name) OC_WUR;
/*
 * A group with a SID ("S-1-5-21-..-1106", e.g. an Active Directory group's
 * objectSid): rights granted to it also apply to a caller whose
 * identity.groups holds that SID (Kerberos identities carry their PAC's group
 * SIDs). sid NULL = oc_dir_group_add. OC_ERR_INVALID for a malformed SID or a
 * name that is itself a SID, OC_ERR_EXISTS when the name or the SID is taken.
 */
int oc_dir_group_add_sid(struct oc_directory *dir, const char *name, const char *sid) OC_WUR;
/* The SID of a group (malloc'd; NULL when it has none). */
int oc_dir_group_sid(struct oc_directory *dir, const char *name, char **sid) OC_WUR;
/* Is s a SID in text form: "S-1-" authority, then at most 15 "-" sub-authorities? */
int oc_dir_sid_ok(const char *s);
int oc_dir_group_remove(struct oc_directory *dir, const char *name) OC_WUR;
int oc_dir_group_add_member(struct oc_directory *dir, const char *group, const char *member) OC_WUR;
int oc_dir_group_remove_member(struct oc_directory *dir, const char *group, const char *member) OC_WUR;
int oc_dir_group_list(struct oc_directory *dir, struct oc_strlist *names) OC_WUR;
/* Direct members (account or group names) of a group, sorted. */
int oc_dir_group_members(struct oc_directory *dir, const char *group, struct oc_strlist *members) OC_WUR;

/* Rights: principal is an account or group name. */
int oc_dir_grant(struct oc_directory *dir, const char *template_cn, const char *principal,
    uint32_t rights) OC_WUR;
int oc_dir_revoke(struct oc_directory *dir, const char *template_cn, const char *principal,
    uint32_t rights) OC_WUR;
/*
 * The rights id holds on template_cn through its name or any of its groups
 * (names, transitively), through the accounts whose sid is id->sid, and
 * through the groups whose sid is one of id->groups (and their groups).
 */
int oc_dir_rights(struct oc_directory *dir, const char *template_cn,
    const struct oc_identity *id, uint32_t *rights) OC_WUR;

/* Every grant on a template, sorted by principal. */
int oc_dir_template_grants(struct oc_directory *dir, const char *template_cn,
    struct oc_dir_grant **gv, size_t *n) OC_WUR;
void oc_dir_grants_free(struct oc_dir_grant *gv, size_t n);

/*
 * Explicit certificate mappings (directory_certmap.c), Active Directory's
 * altSecurityIdentities idea in its strong forms only: an administrator binds
 * one certificate to an account, by its issuer and serial number and by the
 * SHA-256 of the whole certificate (DER). Key texts:
 *   issuer_serial  "<I>" issuer DN (RFC 2253, as openssl -nameopt RFC2253
 *                  prints it) "<SR>" serial (lowercase hex of its big-endian
 *                  magnitude, as the store keeps it; AD's <SR> is reversed)
 *   sha256         64 lowercase hex digits
 * A certificate matches a mapping when either key matches. Removing the
 * account detaches its mappings (account becomes NULL, they are no longer
 * listed under any account) but keeps the keys, so the certificate is refused
 * rather than mapped through its names; oc_dir_certmap_add to another account
 * or oc_dir_certmap_remove drops such a left-over mapping.
 */
#define OC_DIR_CERTMAP_KEY_MAX (OC_SUBJECT_MAX + OC_SERIAL_HEX_MAX + 8)

struct oc_dir_certmap {
	char *account;              /* NULL: its account was removed */
	char *issuer_serial;        /* NULL: not mapped by issuer and serial */
	char *sha256;               /* NULL: not mapped by fingerprint */
};

void oc_dir_certmap_clear(struct oc_dir_certmap *m);    /* NULL-safe */
/* Both keys of a DER certificate (m->account NULL). OC_ERR_DER when malformed. */
int oc_dir_certmap_keys(const uint8_t *der, size_t len, struct oc_dir_certmap *m) OC_WUR;
/*
 * Map the certificate of m's keys (either may be NULL, not both) to account.
 * OC_ERR_NOT_FOUND: no such account; OC_ERR_EXISTS: a key is already mapped
 * to a (live) account; left-over mappings of removed accounts are replaced.
 */
int oc_dir_certmap_add(struct oc_directory *dir, const char *account,
    const struct oc_dir_certmap *m) OC_WUR;
/* Remove the mappings matching m's keys of account or of a removed account; OC_ERR_NOT_FOUND: none. */
int oc_dir_certmap_remove(struct oc_directory *dir, const char *account,
    const struct oc_dir_certmap *m) OC_WUR;
/* The mappings of account (NULL: every mapping, left-overs included), sorted. */
int oc_dir_certmap_list(struct oc_directory *dir, const char *account,
    struct oc_dir_certmap **mv, size_t *n) OC_WUR;
void oc_dir_certmap_list_free(struct oc_dir_certmap *mv, size_t n);
/*
 * The account a certificate with keys m is explicitly mapped to:
 * OC_ERR_NOT_FOUND when no mapping matches; OC_OK with *account NULL when
 * the mapping is refused (its account was removed, or the two keys map to
 * different accounts); else *account (malloc'd).
 */
int oc_dir_certmap_find(struct oc_directory *dir, const struct oc_dir_certmap *m,
    char **account) OC_WUR;

/*
 * The mirror of an LDAP directory (directory_mirror.c; src/ldap/ldap_mirror.h
 * reads the directory). Mirrored rows carry a source ("ldap"); a sync
 * replaces every row of its source in one transaction, so the front end and
 * the CA keep reading this database and an LDAP outage keeps the last good
 * policy. Rows without a source (embedded) and the grant table survive; a
 * mirrored template or CA entry replaces an embedded one of the same cn
 * (or OID, for templates).
 *
 * Rights: a template with an nTSecurityDescriptor is checked against it
 * alone (templates.md 6.2; the caller's token: its SID or its account's, the
 * SIDs among identity.groups, the SIDs of its directory groups, S-1-1-0 and,
 * for an authenticated caller, S-1-5-11); a template without one falls back
 * to the grant table (oc_dir_grant).
 */
struct oc_dir_oid {                 /* an msPKI-Enterprise-Oid object (CN=OID) */
	char *oid;
	char *display_name;
	uint32_t flags;                 /* 1 template, 2 issuance policy, 3 application policy */
};
void oc_dir_oids_free(struct oc_dir_oid *v, size_t n);  /* NULL-safe */

struct oc_dir_mirror {
	const char *source;             /* "ldap" */
	struct oc_template **templates; /* with OIDs */
	size_t ntemplates;
	struct oc_ca_entry *cas;
	size_t ncas;
	struct oc_dir_oid *oids;
	size_t noids;
	const char *content_hash;       /* digest of everything read (hex) */
	const char *stamp;              /* change stamp (uSNChanged / modifyTimestamp digest) */
	int64_t usn;                    /* highest uSNChanged seen (0: none, slapd) */
	int force;                      /* rewrite even when content_hash is unchanged */
};

/*
 * Replace the rows of m->source by m's in one transaction, bumping the
 * policy serial, unless m->content_hash equals the stored one (then nothing
 * is written but the status). Templates or CA entries that fail validation
 * are left out and logged. Records a success in the sync status.
 * *changed (may be NULL): 1 when the policy changed.
 */
int oc_dir_mirror_replace(struct oc_directory *dir, const struct oc_dir_mirror *m,
    int *changed) OC_WUR;
/* The mirrored enterprise OIDs, sorted by OID. */
int oc_dir_oid_list(struct oc_directory *dir, struct oc_dir_oid **v, size_t *n) OC_WUR;

/* Status of the mirror's synchronisation, as the sync process records it. */
struct oc_dir_sync_status {
	char *source;                   /* NULL: no sync ever ran */
	time_t last_attempt;
	time_t last_success;            /* 0: never */
	time_t last_change;             /* last sync that changed the policy */
	char *last_error;               /* NULL after a success */
	uint32_t failures;              /* consecutive failed attempts */
	int64_t last_usn;
	char *stamp;
	char *content_hash;
	size_t templates, cas;          /* mirrored rows */
};
int oc_dir_sync_status(struct oc_directory *dir, struct oc_dir_sync_status *st) OC_WUR;
void oc_dir_sync_status_clear(struct oc_dir_sync_status *st);      /* NULL-safe */
/* A sync that found the stamp unchanged (nothing read but the stamps). */
int oc_dir_sync_record_ok(struct oc_directory *dir, const char *source, const char *stamp,
    int64_t usn) OC_WUR;
/* A failed sync attempt: the mirror stays; failures + 1; error is one line. */
int oc_dir_sync_record_failure(struct oc_directory *dir, const char *source,
    const char *error) OC_WUR;

/* Hash a password into a yescrypt verifier (malloc'd). */
int oc_dir_hash_password(const char *password, char **verifier) OC_WUR;

#endif
