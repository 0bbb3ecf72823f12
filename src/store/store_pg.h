/* Internals of the PostgreSQL store, shared by its .c files only. */
#ifndef OC_STORE_PG_H
#define OC_STORE_PG_H

#include <libpq-fe.h>

#include "common/err.h"
#include "store/store_backend.h"

/* The schema version this code writes (max(version) of schema_version). */
#define STORE_PG_SCHEMA_VERSION 3
#define STORE_PG_CONNECT_TIMEOUT "10"   /* seconds, unless the URI says otherwise */

struct store_pg {
	PGconn *conn;
	char *url;                  /* may hold a password: never logged */
	char shown[256];            /* the URL with any password replaced, for logs */
	int depth;                  /* pg_tx_begin nesting (inner ones join the outer) */
};

/* Parameters of one statement: numbers and text as text, bytea as binary. */
#define PGP_MAX 12
struct pgp {
	int n;
	const char *v[PGP_MAX];
	int len[PGP_MAX];
	int fmt[PGP_MAX];
	char num[PGP_MAX][24];
};
void pgp_int(struct pgp *p, long long v);
void pgp_text(struct pgp *p, const char *v);                   /* NULL: SQL NULL */
void pgp_bytea(struct pgp *p, const uint8_t *b, size_t n);     /* NULL: SQL NULL */

/*
 * Run one statement (p may be NULL); *res (may be NULL) gets the result
 * when it has rows (PQclear it). A unique violation is OC_ERR_EXISTS. On a
 * lost connection: one reconnect; the statement is sent again only when no
 * transaction was open and it is a SELECT or a BEGIN (nothing may have
 * been done twice); otherwise OC_ERR_STORE (the open transaction is gone).
 * *affected (may be NULL): rows a command changed or returned.
 */
int pg_run(struct oc_store *s, const char *sql, const struct pgp *p, PGresult **res,
    long long *affected) OC_WUR;
/*
 * Stream the rows of a SELECT one at a time (single-row mode: memory stays
 * one row whatever the table's size): row() gets a one-row result; its
 * first error stops the calls (the rest is read and dropped) and is
 * returned. row() must not use the store: the connection is busy.
 */
int pg_each(struct oc_store *s, const char *sql, const struct pgp *p,
    int (*row)(const PGresult *res, void *arg), void *arg) OC_WUR;
/*
 * A write's own transaction: BEGIN, or inside a batch a savepoint so a
 * failure undoes this write alone. pg_tx_end commits (releases) when r is
 * OC_OK, else rolls back; it returns r, or the commit's error.
 */
int pg_tx_begin(struct oc_store *s) OC_WUR;
int pg_tx_end(struct oc_store *s, int r) OC_WUR;
/* Inside a batch: the transaction must still be usable. */
int pg_write_ok(struct oc_store *s) OC_WUR;
/* One statement as a write: joins an open transaction, or its own savepoint in a batch. */
int pg_write1(struct oc_store *s, const char *sql, const struct pgp *p, PGresult **res,
    long long *affected) OC_WUR;

/* Columns of a text-format result (NULL reads as 0 / NULL / empty). */
long long pg_int(const PGresult *res, int row, int col);
int pg_str(const PGresult *res, int row, int col, char **out) OC_WUR;
int pg_bytea(const PGresult *res, int row, int col, uint8_t **out, size_t *len,
    size_t max) OC_WUR;

/* store_pg_schema.c: create or upgrade the schema (one transaction, locked). */
int store_pg_migrate(struct oc_store *s) OC_WUR;

/* The operations of store_pg_ops, by file. */
/* store_pg_write.c */
int store_pg_request_new_fp(struct oc_store *s, const char *requester,
    const char *template_name, const uint8_t *der, size_t der_len, const uint8_t *fp,
    uint32_t *request_id);
int store_pg_request_set_template(struct oc_store *s, uint32_t request_id,
    const char *template_name);
int store_pg_request_resolve(struct oc_store *s, uint32_t request_id, int status,
    uint32_t hresult, const char *disposition);
int store_pg_cert_issue(struct oc_store *s, uint32_t request_id,
    const struct oc_store_cert *c, const char *disposition);
int store_pg_audit(struct oc_store *s, const char *event, const char *actor,
    const char *detail);
int store_pg_cert_revoke(struct oc_store *s, const char *serial_hex, int reason, time_t when);
int store_pg_cert_unrevoke(struct oc_store *s, const char *serial_hex);
int store_pg_request_approve(struct oc_store *s, uint32_t request_id, const char *actor);
int store_pg_request_deny(struct oc_store *s, uint32_t request_id, const char *actor,
    const char *reason);
/* store_pg_read.c */
int store_pg_request_get(struct oc_store *s, uint32_t request_id, struct oc_store_request *r);
int store_pg_request_by_fp(struct oc_store *s, const uint8_t *fp, time_t since,
    struct oc_store_request *r);
int store_pg_cert_get(struct oc_store *s, const char *serial_hex, struct oc_store_cert *c);
int store_pg_cert_by_request(struct oc_store *s, uint32_t request_id, struct oc_store_cert *c);
int store_pg_serial_exists(struct oc_store *s, const char *serial_hex, int *exists);
int store_pg_request_find(struct oc_store *s, const struct oc_store_request_filter *f,
    size_t limit, oc_store_request_cb cb, void *arg);
int store_pg_cert_find(struct oc_store *s, const struct oc_store_cert_filter *f,
    size_t limit, oc_store_cert_cb cb, void *arg);
int store_pg_cert_status(struct oc_store *s, const char *serial_hex, int *revoked,
    int *reason, time_t *revoked_at);
int store_pg_check(struct oc_store *s);
/* store_pg_crl.c */
int store_pg_crl_next_number(struct oc_store *s, uint64_t *number);
int store_pg_crl_record(struct oc_store *s, const struct oc_store_crl_info *info,
    const uint8_t *der, size_t der_len);
int store_pg_crl_last(struct oc_store *s, int delta, struct oc_store_crl_info *info);
int store_pg_crl_entries(struct oc_store *s, time_t since, int with_removed,
    oc_store_crl_entry_cb cb, void *arg);
int store_pg_crl_request(struct oc_store *s, const char *actor, int what);
int store_pg_crl_take_request(struct oc_store *s, int *asked);

#endif
