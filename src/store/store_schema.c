/*
 * Schema and migrations of the SQLite store. PRAGMA user_version holds the
 * version; the schema_version table keeps when each step was applied. Each
 * step runs in one transaction with the version bump, so a crash leaves the
 * previous version intact.
 */
#include "store/store_local.h"

#include <stdio.h>
#include <time.h>

#include "common/log.h"

static const char *const migrations[STORE_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE schema_version ("
	"  version INTEGER PRIMARY KEY,"
	"  applied INTEGER NOT NULL);"
	"CREATE TABLE requests ("
	"  request_id INTEGER PRIMARY KEY CHECK (request_id BETWEEN 1 AND 2147483647),"
	"  requester TEXT NOT NULL,"
	"  template TEXT,"
	"  status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),"
	"  hresult INTEGER NOT NULL DEFAULT 0,"
	"  disposition TEXT,"
	"  request_der BLOB,"
	"  submitted INTEGER NOT NULL,"
	"  resolved INTEGER,"
	"  serial TEXT);"
	"CREATE INDEX requests_submitted ON requests (submitted);"
	"CREATE TABLE certificates ("
	"  serial TEXT PRIMARY KEY UNIQUE NOT NULL,"
	"  request_id INTEGER UNIQUE REFERENCES requests (request_id),"
	"  requester TEXT,"
	"  template TEXT,"
	"  subject TEXT,"
	"  not_before INTEGER NOT NULL,"
	"  not_after INTEGER NOT NULL,"
	"  der BLOB NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0,"
	"  reason INTEGER,"
	"  revoked_at INTEGER);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  time INTEGER NOT NULL,"
	"  event TEXT NOT NULL,"
	"  actor TEXT,"
	"  detail TEXT);",
	/* 1 -> 2: approval by an administrator, release from hold, CRLs */
	"ALTER TABLE requests ADD COLUMN approved INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE requests ADD COLUMN actor TEXT;"
	"CREATE INDEX requests_status ON requests (status);"
	"ALTER TABLE certificates ADD COLUMN unrevoked_at INTEGER;"
	"CREATE INDEX certificates_revoked ON certificates (revoked);"
	"CREATE TABLE crls ("
	"  number INTEGER PRIMARY KEY CHECK (number >= 1),"
	"  delta INTEGER NOT NULL CHECK (delta IN (0, 1)),"
	"  base INTEGER,"
	"  this_update INTEGER NOT NULL,"
	"  next_update INTEGER NOT NULL,"
	"  entries INTEGER NOT NULL,"
	"  der BLOB NOT NULL);"
	"CREATE TABLE ca_state ("
	"  name TEXT PRIMARY KEY,"
	"  value INTEGER NOT NULL);",
	/* 2 -> 3: the request fingerprint (idempotent resubmission) */
	"ALTER TABLE requests ADD COLUMN fingerprint BLOB;"
	"CREATE INDEX requests_fingerprint ON requests (fingerprint, submitted) "
	"WHERE fingerprint IS NOT NULL;",
};

static int
user_version(struct oc_store *s, int *v)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(s, "PRAGMA user_version", &st)) != OC_OK)
		return r;
	if (sqlite3_step(st) != SQLITE_ROW) {
		store_release(s, st);
		return OC_ERR_STORE;
	}
	*v = sqlite3_column_int(st, 0);
	store_release(s, st);
	return OC_OK;
}

int
store_schema_migrate(struct oc_store *s)
{
	char sql[160];
	int r, v = 0;

	for (;;) {
		if ((r = store_sql(s, "BEGIN IMMEDIATE")) != OC_OK)
			return r;
		/* re-read inside the write lock: another opener may have migrated */
		if ((r = user_version(s, &v)) != OC_OK)
			goto fail;
		if (v == STORE_SCHEMA_VERSION)
			break;
		if (v < 0 || v > STORE_SCHEMA_VERSION) {
			log_error("store schema version %d is newer than this program (%d)",
			    v, STORE_SCHEMA_VERSION);
			r = OC_ERR_STORE;
			goto fail;
		}
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version, applied) "
		    "VALUES (%d, %lld); PRAGMA user_version = %d", v + 1,
		    (long long)time(NULL), v + 1);
		if ((r = store_sql(s, migrations[v])) != OC_OK ||
		    (r = store_sql(s, sql)) != OC_OK ||
		    (r = store_sql(s, "COMMIT")) != OC_OK)
			goto fail;
		log_info("store schema upgraded to version %d", v + 1);
	}
	return store_sql(s, "COMMIT");
fail:
	if (store_sql(s, "ROLLBACK") != OC_OK)
		log_error("rollback failed");
	return r;
}
