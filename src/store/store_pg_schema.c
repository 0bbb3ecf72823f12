/*
 * Schema and migrations of the PostgreSQL store, numbered like the SQLite
 * ones (store_schema.c): schema_version holds one row per step applied.
 * Openers take an advisory lock first, so two CA nodes starting together
 * migrate once; the steps and their rows commit in one transaction (DDL is
 * transactional in PostgreSQL), so a failure leaves the previous version.
 * Integers are BIGINT (times in seconds since the epoch, as in SQLite);
 * seq columns give the insertion order SQLite's rowid gives.
 */
#include "store/store_pg.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

/* pg_advisory_xact_lock key: "OCstore" */
#define STORE_PG_LOCK_KEY 0x4f4373746f7265LL

static const char *const migrations[STORE_PG_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE requests ("
	"  request_id BIGINT PRIMARY KEY CHECK (request_id BETWEEN 1 AND 2147483647),"
	"  requester TEXT NOT NULL,"
	"  template TEXT,"
	"  status INTEGER NOT NULL CHECK (status BETWEEN 1 AND 4),"
	"  hresult BIGINT NOT NULL DEFAULT 0,"
	"  disposition TEXT,"
	"  request_der BYTEA,"
	"  submitted BIGINT NOT NULL,"
	"  resolved BIGINT,"
	"  serial TEXT,"
	"  seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE);"
	"CREATE INDEX requests_submitted ON requests (submitted);"
	"CREATE TABLE certificates ("
	"  serial TEXT PRIMARY KEY,"
	"  request_id BIGINT UNIQUE REFERENCES requests (request_id),"
	"  requester TEXT,"
	"  template TEXT,"
	"  subject TEXT,"
	"  not_before BIGINT NOT NULL,"
	"  not_after BIGINT NOT NULL,"
	"  der BYTEA NOT NULL,"
	"  revoked INTEGER NOT NULL DEFAULT 0,"
	"  reason INTEGER,"
	"  revoked_at BIGINT,"
	"  seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE);"
	"CREATE TABLE audit ("
	"  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	"  time BIGINT NOT NULL,"
	"  event TEXT NOT NULL,"
	"  actor TEXT,"
	"  detail TEXT);",
	/* 1 -> 2: approval by an administrator, release from hold, CRLs */
	"ALTER TABLE requests ADD COLUMN approved INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE requests ADD COLUMN actor TEXT;"
	"CREATE INDEX requests_status ON requests (status);"
	"ALTER TABLE certificates ADD COLUMN unrevoked_at BIGINT;"
	"CREATE INDEX certificates_revoked ON certificates (revoked);"
	"CREATE TABLE crls ("
	"  number BIGINT PRIMARY KEY CHECK (number >= 1),"
	"  delta INTEGER NOT NULL CHECK (delta IN (0, 1)),"
	"  base BIGINT,"
	"  this_update BIGINT NOT NULL,"
	"  next_update BIGINT NOT NULL,"
	"  entries BIGINT NOT NULL,"
	"  der BYTEA NOT NULL);"
	"CREATE TABLE ca_state ("
	"  name TEXT PRIMARY KEY,"
	"  value BIGINT NOT NULL);",
	/* 2 -> 3: the request fingerprint (idempotent resubmission) */
	"ALTER TABLE requests ADD COLUMN fingerprint BYTEA;"
	"CREATE INDEX requests_fingerprint ON requests (fingerprint, submitted) "
	"WHERE fingerprint IS NOT NULL;",
};

/* A constant multi-statement script (no parameters: DDL only). */
static int
run_script(struct oc_store *s, const char *sql)
{
	PGresult *q = PQexec(s->pg->conn, sql);
	int r = OC_OK;

	if (PQresultStatus(q) != PGRES_COMMAND_OK) {
		log_error("store %s: migration: %s", s->pg->shown, PQresultErrorMessage(q));
		r = OC_ERR_STORE;
	}
	PQclear(q);
	return r;
}

int
store_pg_migrate(struct oc_store *s)
{
	struct pgp p = { 0 };
	PGresult *res = NULL;
	long long v = 0;
	int r;

	if ((r = pg_run(s, "BEGIN", NULL, NULL, NULL)) != OC_OK)
		return r;
	pgp_int(&p, STORE_PG_LOCK_KEY);
	if ((r = pg_run(s, "SELECT pg_advisory_xact_lock($1::bigint)", &p, NULL, NULL)) != OC_OK ||
	    (r = pg_run(s, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)", NULL, NULL, NULL)) != OC_OK ||
	    (r = pg_run(s, "SELECT coalesce(max(version), 0) FROM schema_version", NULL, &res,
	    NULL)) != OC_OK)
		goto fail;
	v = PQntuples(res) == 1 ? pg_int(res, 0, 0) : -1;
	PQclear(res);
	if (v < 0 || v > STORE_PG_SCHEMA_VERSION) {
		log_error("store schema version %lld is newer than this program (%d)", v,
		    STORE_PG_SCHEMA_VERSION);
		r = OC_ERR_STORE;
		goto fail;
	}
	for (; v < STORE_PG_SCHEMA_VERSION; v++) {
		memset(&p, 0, sizeof(p));
		pgp_int(&p, v + 1);
		pgp_int(&p, (long long)time(NULL));
		if ((r = run_script(s, migrations[v])) != OC_OK ||
		    (r = pg_run(s, "INSERT INTO schema_version (version, applied) VALUES ($1, $2)",
		    &p, NULL, NULL)) != OC_OK)
			goto fail;
		log_info("store schema upgraded to version %lld", v + 1);
	}
	return pg_run(s, "COMMIT", NULL, NULL, NULL);
fail:
	if (PQtransactionStatus(s->pg->conn) != PQTRANS_IDLE &&
	    pg_run(s, "ROLLBACK", NULL, NULL, NULL) != OC_OK)
		log_error("rollback failed");
	return r;
}
