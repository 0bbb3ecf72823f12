/* Internals of the SQLite store, shared by its .c files only. */
#ifndef OC_STORE_LOCAL_H
#define OC_STORE_LOCAL_H

#include <sqlite3.h>

#include "common/err.h"
#include "store/store_backend.h"

/* The schema version this code writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 3

int store_sql(struct oc_store *s, const char *sql) OC_WUR;
/*
 * A prepared statement for sql, reused from the handle's cache when one is
 * free; give it back with store_release (never sqlite3_finalize), which resets
 * it and clears its bindings so it holds no transaction. NULL-safe.
 */
int store_prepare(struct oc_store *s, const char *sql, sqlite3_stmt **st) OC_WUR;
void store_release(struct oc_store *s, sqlite3_stmt *st);
/* Create or upgrade the schema to STORE_SCHEMA_VERSION in one transaction. */
int store_schema_migrate(struct oc_store *s) OC_WUR;

/* bind a text, or NULL for a NULL v (defined in store_lifecycle.c) */
int store_bind_text(sqlite3_stmt *st, int i, const char *v) OC_WUR;
/*
 * A request's status and (approved may be NULL) its approval flag
 * (store_sqlite.c); OC_ERR_NOT_FOUND for an unknown RequestID.
 */
int store_request_state(struct oc_store *s, uint32_t request_id, int *status,
    int *approved) OC_WUR;

/* The operations of store_sqlite_ops, by file. */
/* store_sqlite.c */
void store_sqlite_close(struct oc_store *s);
int store_sqlite_batch_begin(struct oc_store *s);
int store_sqlite_batch_commit(struct oc_store *s);
void store_sqlite_batch_rollback(struct oc_store *s);
int store_sqlite_request_new_fp(struct oc_store *s, const char *requester,
    const char *template_name, const uint8_t *der, size_t der_len, const uint8_t *fp,
    uint32_t *request_id);
int store_sqlite_request_set_template(struct oc_store *s, uint32_t request_id,
    const char *template_name);
int store_sqlite_request_resolve(struct oc_store *s, uint32_t request_id, int status,
    uint32_t hresult, const char *disposition);
int store_sqlite_cert_issue(struct oc_store *s, uint32_t request_id,
    const struct oc_store_cert *c, const char *disposition);
int store_sqlite_serial_exists(struct oc_store *s, const char *serial_hex, int *exists);
int store_sqlite_audit(struct oc_store *s, const char *event, const char *actor,
    const char *detail);
int store_sqlite_check(struct oc_store *s);
/* store_read.c */
int store_sqlite_request_get(struct oc_store *s, uint32_t request_id,
    struct oc_store_request *r);
int store_sqlite_request_by_fp(struct oc_store *s, const uint8_t *fp, time_t since,
    struct oc_store_request *r);
int store_sqlite_cert_get(struct oc_store *s, const char *serial_hex, struct oc_store_cert *c);
int store_sqlite_cert_by_request(struct oc_store *s, uint32_t request_id,
    struct oc_store_cert *c);
int store_sqlite_request_find(struct oc_store *s, const struct oc_store_request_filter *f,
    size_t limit, oc_store_request_cb cb, void *arg);
int store_sqlite_cert_find(struct oc_store *s, const struct oc_store_cert_filter *f,
    size_t limit, oc_store_cert_cb cb, void *arg);
/* store_revoke.c */
int store_sqlite_cert_revoke(struct oc_store *s, const char *serial_hex, int reason,
    time_t when);
int store_sqlite_cert_unrevoke(struct oc_store *s, const char *serial_hex);
int store_sqlite_cert_status(struct oc_store *s, const char *serial_hex, int *revoked,
    int *reason, time_t *revoked_at);
/* store_lifecycle.c */
int store_sqlite_request_approve(struct oc_store *s, uint32_t request_id, const char *actor);
int store_sqlite_request_deny(struct oc_store *s, uint32_t request_id, const char *actor,
    const char *reason);
/* store_crl.c */
int store_sqlite_crl_next_number(struct oc_store *s, uint64_t *number);
int store_sqlite_crl_record(struct oc_store *s, const struct oc_store_crl_info *info,
    const uint8_t *der, size_t der_len);
int store_sqlite_crl_last(struct oc_store *s, int delta, struct oc_store_crl_info *info);
int store_sqlite_crl_entries(struct oc_store *s, time_t since, int with_removed,
    oc_store_crl_entry_cb cb, void *arg);
int store_sqlite_crl_request(struct oc_store *s, const char *actor, int what);
int store_sqlite_crl_take_request(struct oc_store *s, int *asked);

#endif
