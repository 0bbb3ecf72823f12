/*
 * Internals shared by the store's backends (SQLite, PostgreSQL): the handle,
 * the table of operations a backend implements, and backend-neutral helpers.
 * store.c checks the arguments every backend would check and dispatches.
 */
#ifndef OC_STORE_BACKEND_H
#define OC_STORE_BACKEND_H

#include "store/store.h"

#define STORE_STMT_CACHE 24     /* prepared statements kept per SQLite handle */
#define STORE_ID_ATTEMPTS 32    /* RequestID draws before giving up */

struct sqlite3;
struct sqlite3_stmt;
struct store_pg;

/* A prepared SQLite statement kept for reuse, keyed by its SQL text. */
struct store_stmt {
	char *sql;
	struct sqlite3_stmt *st;
	int busy;                   /* handed out by store_prepare, not yet released */
};

/* Each public function of store.h but the neutral ones, per backend. */
struct store_ops {
	const char *name;
	void (*close)(struct oc_store *s);
	int (*batch_begin)(struct oc_store *s);
	int (*batch_commit)(struct oc_store *s);
	void (*batch_rollback)(struct oc_store *s);
	int (*request_new_fp)(struct oc_store *s, const char *requester,
	    const char *template_name, const uint8_t *der, size_t der_len, const uint8_t *fp,
	    uint32_t *request_id);
	int (*request_by_fp)(struct oc_store *s, const uint8_t *fp, time_t since,
	    struct oc_store_request *r);
	int (*request_set_template)(struct oc_store *s, uint32_t request_id,
	    const char *template_name);
	int (*request_resolve)(struct oc_store *s, uint32_t request_id, int status,
	    uint32_t hresult, const char *disposition);
	int (*cert_issue)(struct oc_store *s, uint32_t request_id, const struct oc_store_cert *c,
	    const char *disposition);
	int (*request_get)(struct oc_store *s, uint32_t request_id, struct oc_store_request *r);
	int (*cert_get)(struct oc_store *s, const char *serial_hex, struct oc_store_cert *c);
	int (*cert_by_request)(struct oc_store *s, uint32_t request_id, struct oc_store_cert *c);
	int (*serial_exists)(struct oc_store *s, const char *serial_hex, int *exists);
	int (*request_find)(struct oc_store *s, const struct oc_store_request_filter *f,
	    size_t limit, oc_store_request_cb cb, void *arg);
	int (*cert_find)(struct oc_store *s, const struct oc_store_cert_filter *f, size_t limit,
	    oc_store_cert_cb cb, void *arg);
	int (*cert_revoke)(struct oc_store *s, const char *serial_hex, int reason, time_t when);
	int (*cert_unrevoke)(struct oc_store *s, const char *serial_hex);
	int (*cert_status)(struct oc_store *s, const char *serial_hex, int *revoked, int *reason,
	    time_t *revoked_at);
	int (*audit)(struct oc_store *s, const char *event, const char *actor,
	    const char *detail);
	int (*check)(struct oc_store *s);
	int (*request_approve)(struct oc_store *s, uint32_t request_id, const char *actor);
	int (*request_deny)(struct oc_store *s, uint32_t request_id, const char *actor,
	    const char *reason);
	int (*crl_next_number)(struct oc_store *s, uint64_t *number);
	int (*crl_record)(struct oc_store *s, const struct oc_store_crl_info *info,
	    const uint8_t *der, size_t der_len);
	int (*crl_last)(struct oc_store *s, int delta, struct oc_store_crl_info *info);
	int (*crl_entries)(struct oc_store *s, time_t since, int with_removed,
	    oc_store_crl_entry_cb cb, void *arg);
	int (*crl_request)(struct oc_store *s, const char *actor, int what);
	int (*crl_take_request)(struct oc_store *s, int *asked);
};

/* One handle is used by one thread at a time (no lock inside). */
struct oc_store {
	const struct store_ops *ops;
	int batch;                  /* inside oc_store_batch_begin .. commit/rollback */
	struct sqlite3 *db;                         /* SQLite */
	struct store_stmt cache[STORE_STMT_CACHE];  /* SQLite */
	struct store_pg *pg;                        /* PostgreSQL */
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

/* Open a backend (store.c picks which from the location). */
int store_sqlite_open(const char *path, struct oc_store **sp) OC_WUR;
int store_pg_open(const char *url, struct oc_store **sp) OC_WUR;

/* store_util.c */
/* A reason a certificate may be revoked with (7 is unused, 8 only for delta CRLs). */
int store_reason_revocable(int reason);
/* A new random RequestID in 1..2^31-1. */
int store_draw_request_id(uint32_t *id) OC_WUR;

#endif
