/*
 * Internals of the embedded (SQLite) directory, shared by the directory_*.c
 * files. Not for use outside src/directory/.
 */
#ifndef OC_DIRECTORY_INT_H
#define OC_DIRECTORY_INT_H

#include "common/limits.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"
#include "model/identity.h"
#include "model/policy.h"
#include "model/template.h"

/* Schema version this code writes (PRAGMA user_version). */
#define OC_DIR_SCHEMA_VERSION  4

/* Hot read statements, prepared once per handle and reused (oc_dir_stmt_get). */
enum oc_dir_stmt_id {
	OC_DIR_STMT_SERIAL,
	OC_DIR_STMT_GROUPS_OF,
	OC_DIR_STMT_RIGHTS,
	OC_DIR_STMT_ACCOUNT_BY_NAME,
	OC_DIR_STMT_ACCOUNT_BY_LOGIN,
	OC_DIR_STMT_VERIFIER,
	OC_DIR_STMT_LOGIN_BY_NAME,
	OC_DIR_STMT_LOGIN_BY_LOGIN,
	OC_DIR_STMT_GROUPS_BY_SID,
	OC_DIR_STMT_ACCOUNTS_BY_SID,
	OC_DIR_STMT_COUNT
};

struct oc_directory {
	sqlite3 *db;
	int readonly;
	sqlite3_stmt *stmts[OC_DIR_STMT_COUNT];     /* prepared on first use */
	const char *stmt_sql[OC_DIR_STMT_COUNT];    /* the SQL each was prepared from */
	unsigned int stmt_busy;                     /* bit i: stmts[i] handed out */
};

/* Log a SQLite failure and return OC_ERR_STORE (or OC_ERR_NOMEM / OC_ERR_TIMEOUT). */
int oc_dir_sqlerr(struct oc_directory *dir, int rc, const char *what);
/* Prepare a statement; logs and maps errors. */
int oc_dir_prepare(struct oc_directory *dir, const char *sql, sqlite3_stmt **st) OC_WUR;
/*
 * A reusable statement for slot id (sql must be the same literal on every
 * call): reset, bindings cleared. When the slot is already handed out (a
 * nested use), a fresh statement is prepared instead. Give it back with
 * oc_dir_stmt_put, which resets it (ending its read transaction) or
 * finalizes a fresh one. Handles are per thread, so no locking.
 */
int oc_dir_stmt_get(struct oc_directory *dir, enum oc_dir_stmt_id id, const char *sql,
    sqlite3_stmt **st) OC_WUR;
void oc_dir_stmt_put(struct oc_directory *dir, sqlite3_stmt *st);   /* NULL-safe */
/* Run a statement without rows to completion (resets it). */
int oc_dir_step_done(struct oc_directory *dir, sqlite3_stmt *st, const char *what) OC_WUR;
/* Bind a NUL-terminated string or NULL. */
int oc_dir_bind_text(struct oc_directory *dir, sqlite3_stmt *st, int idx, const char *s) OC_WUR;

/* Write transactions: BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int oc_dir_begin(struct oc_directory *dir) OC_WUR;
int oc_dir_commit(struct oc_directory *dir) OC_WUR;
void oc_dir_rollback(struct oc_directory *dir);
/* Refuse writes on a read-only handle. */
int oc_dir_writable(struct oc_directory *dir) OC_WUR;

/* Bump the policy serial (inside a transaction); returns the new serial. */
int oc_dir_bump_serial(struct oc_directory *dir, int64_t *serial) OC_WUR;

/* A column value copied out (NULL stays NULL). */
int oc_dir_col_text(sqlite3_stmt *st, int col, char **out) OC_WUR;

/* Lists <-> newline-joined text. Items must be non-empty and free of control characters. */
int oc_dir_list_join(const struct oc_strlist *l, char **out) OC_WUR;
int oc_dir_list_split(const char *text, struct oc_strlist *l) OC_WUR;

/* A printable name: 1..max bytes, no control characters, no leading/trailing space. */
int oc_dir_name_ok(const char *s, size_t max);
/* A dotted-decimal OID of at most OC_OID_MAX bytes. */
int oc_dir_oid_ok(const char *s);
/* A text value that fits in one line (may be NULL). */
int oc_dir_line_ok(const char *s, size_t max);

/*
 * Insert t (with its OID) as a row of the given source (NULL = embedded),
 * stamped with serial, replacing any row with the same cn or OID. Inside a
 * transaction; no limit or serial bookkeeping (directory_mirror.c).
 */
int oc_dir_template_insert(struct oc_directory *dir, const struct oc_template *t,
    const char *source, int64_t serial) OC_WUR;
/* The same for a CA entry (replaces the entry of the same name). */
int oc_dir_ca_insert(struct oc_directory *dir, const struct oc_ca_entry *ca,
    const char *source, int64_t serial) OC_WUR;
/* Is a CA entry acceptable for the store (names, sizes)? */
int oc_dir_ca_check(const struct oc_ca_entry *ca) OC_WUR;
/*
 * Rights by the template's nTSecurityDescriptor (directory_mirror.c):
 * *has_sd = 0 when the template has none (then the grant table decides).
 * principals: the caller's name and its groups, transitively (names).
 */
int oc_dir_sd_rights(struct oc_directory *dir, const char *template_cn,
    const struct oc_identity *id, const struct oc_strlist *principals,
    int *has_sd, uint32_t *rights) OC_WUR;

/* Validate every field of a template (oid may be NULL when allow_no_oid). */
int oc_dir_template_check(const struct oc_template *t, int allow_no_oid) OC_WUR;

/* Is name an account (1), a group (2) or neither (0)? */
int oc_dir_principal_kind(struct oc_directory *dir, const char *name, int *kind) OC_WUR;
/*
 * Groups reachable from the seed names (transitively, bounded by
 * OC_DIR_GROUP_DEPTH_MAX and OC_GROUPS_MAX); out gets the group names,
 * seeds excluded unless they are also reached as groups.
 */
int oc_dir_groups_of(struct oc_directory *dir, const struct oc_strlist *seeds,
    struct oc_strlist *out) OC_WUR;
/*
 * Principals that SIDs designate (directory_sid.c): the accounts whose sid is
 * id->sid and the groups whose sid is one of id->groups, added to
 * principals (no duplicates, bounded by OC_GROUPS_MAX more).
 */
int oc_dir_principals_by_sid(struct oc_directory *dir, const struct oc_identity *id,
    struct oc_strlist *principals) OC_WUR;

#endif
