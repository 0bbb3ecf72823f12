/* Internals of the SQLite store, shared by its .c files only. */
#ifndef OC_STORE_LOCAL_H
#define OC_STORE_LOCAL_H

#include <sqlite3.h>

#include "common/err.h"

#define STORE_STMT_CACHE 24     /* prepared statements kept per handle */

/* A prepared statement kept for reuse, keyed by its SQL text. */
struct store_stmt {
	char *sql;
	sqlite3_stmt *st;
	int busy;                   /* handed out by store_prepare, not yet released */
};

/* One handle is used by one thread at a time (the cache has no lock). */
struct oc_store {
	sqlite3 *db;
	int batch;                  /* inside oc_store_batch_begin .. commit/rollback */
	struct store_stmt cache[STORE_STMT_CACHE];
};

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

/* bind a text or NULL (store_lifecycle.c, store_crl.c) */
int store_bind_text(sqlite3_stmt *st, int i, const char *v) OC_WUR;

#endif
