/* Internals of the SQLite store, shared by its .c files only. */
#ifndef OC_STORE_LOCAL_H
#define OC_STORE_LOCAL_H

#include <sqlite3.h>

#include "common/err.h"

struct oc_store {
	sqlite3 *db;
	int batch;                  /* inside oc_store_batch_begin .. commit/rollback */
};

/* The schema version this code writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 1

int store_sql(struct oc_store *s, const char *sql) OC_WUR;
int store_prepare(struct oc_store *s, const char *sql, sqlite3_stmt **st) OC_WUR;
/* Create or upgrade the schema to STORE_SCHEMA_VERSION in one transaction. */
int store_schema_migrate(struct oc_store *s) OC_WUR;

#endif
