/*
 * The CA's durable store over SQLite: WAL, synchronous=FULL, foreign keys on.
 * Every write function commits before it returns, unless a batch is open
 * (group commit: one BEGIN IMMEDIATE .. COMMIT for many writes). Schema
 * upgrades are driven by PRAGMA user_version (store_schema.c).
 */
#include "store/store.h"
#include "store/store_local.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/limits.h"
#include "common/log.h"

#define STORE_BUSY_TIMEOUT_MS 10000

static int
store_exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_error("%s: %s", sql, err ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		return OC_ERR_STORE;
	}
	return OC_OK;
}

int
store_sql(struct oc_store *s, const char *sql)
{
	return store_exec(s->db, sql);
}

int
store_prepare(struct oc_store *s, const char *sql, sqlite3_stmt **st)
{
	struct store_stmt *free_slot = NULL;

	*st = NULL;
	for (size_t i = 0; i < STORE_STMT_CACHE; i++) {
		struct store_stmt *c = &s->cache[i];
		if (c->st == NULL) {
			if (free_slot == NULL)
				free_slot = c;
		} else if (!c->busy && strcmp(c->sql, sql) == 0) {
			c->busy = 1;
			*st = c->st;
			return OC_OK;
		}
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, free_slot ? SQLITE_PREPARE_PERSISTENT : 0, st,
	    NULL) != SQLITE_OK) {
		log_error("prepare: %s", sqlite3_errmsg(s->db));
		sqlite3_finalize(*st);
		*st = NULL;
		return OC_ERR_STORE;
	}
	/* kept when there is room (statements are few and fixed); else used once */
	if (free_slot != NULL && (free_slot->sql = strdup(sql)) != NULL) {
		free_slot->st = *st;
		free_slot->busy = 1;
	}
	return OC_OK;
}

void
store_release(struct oc_store *s, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; s != NULL && i < STORE_STMT_CACHE; i++)
		if (s->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			s->cache[i].busy = 0;
			return;
		}
	sqlite3_finalize(st);   /* used once: the cache was full */
}

static void
store_cache_clear(struct oc_store *s)
{
	for (size_t i = 0; i < STORE_STMT_CACHE; i++) {
		sqlite3_finalize(s->cache[i].st);
		free(s->cache[i].sql);
		memset(&s->cache[i], 0, sizeof(s->cache[i]));
	}
}

int
store_sqlite_open(const char *path, struct oc_store **sp)
{
	struct oc_store *s = NULL;
	int r = OC_ERR_STORE;

	*sp = NULL;
	if (path == NULL)
		return OC_ERR_INVALID;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return OC_ERR_NOMEM;
	s->ops = &store_sqlite_ops;
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		log_error("open %s: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	if (sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK)
		goto out;
	if ((r = store_exec(s->db, "PRAGMA journal_mode=WAL")) != OC_OK ||
	    (r = store_exec(s->db, "PRAGMA synchronous=FULL")) != OC_OK ||
	    (r = store_exec(s->db, "PRAGMA foreign_keys=ON")) != OC_OK ||
	    (r = store_exec(s->db, "PRAGMA trusted_schema=OFF")) != OC_OK)
		goto out;
	if ((r = store_schema_migrate(s)) != OC_OK)
		goto out;
	*sp = s;
	s = NULL;
	r = OC_OK;
out:
	store_sqlite_close(s);
	return r;
}

void
store_sqlite_close(struct oc_store *s)
{
	if (s == NULL)
		return;
	store_sqlite_batch_rollback(s);
	store_cache_clear(s);
	if (s->db != NULL)
		sqlite3_close_v2(s->db);
	free(s);
}

int
store_sqlite_batch_begin(struct oc_store *s)
{
	int r;

	if (s == NULL || s->batch)
		return OC_ERR_INVALID;
	if ((r = store_exec(s->db, "BEGIN IMMEDIATE")) != OC_OK)
		return r;
	s->batch = 1;
	return OC_OK;
}

int
store_sqlite_batch_commit(struct oc_store *s)
{
	if (s == NULL || !s->batch)
		return OC_ERR_INVALID;
	s->batch = 0;
	if (sqlite3_get_autocommit(s->db)) {
		/* SQLite aborted the transaction after an earlier error */
		log_error("store batch was rolled back by an earlier error");
		return OC_ERR_STORE;
	}
	if (store_exec(s->db, "COMMIT") != OC_OK) {
		if (!sqlite3_get_autocommit(s->db) && store_exec(s->db, "ROLLBACK") != OC_OK)
			log_error("rollback failed");
		return OC_ERR_STORE;
	}
	return OC_OK;
}

void
store_sqlite_batch_rollback(struct oc_store *s)
{
	if (s == NULL || !s->batch)
		return;
	s->batch = 0;
	if (!sqlite3_get_autocommit(s->db) && store_exec(s->db, "ROLLBACK") != OC_OK)
		log_error("rollback failed");
}

/*
 * Before a write: inside a batch, the transaction must still be open (after
 * SQLite aborted it, a write would otherwise commit on its own).
 */
static int
store_write_ok(struct oc_store *s)
{
	if (s->batch && sqlite3_get_autocommit(s->db)) {
		log_error("store batch was rolled back by an earlier error");
		return OC_ERR_STORE;
	}
	return OC_OK;
}

static int
bind_blob(sqlite3_stmt *st, int i, const uint8_t *p, size_t n)
{
	int rc;

	if (n > (size_t)INT32_MAX)
		return OC_ERR_LIMIT;
	rc = p ? sqlite3_bind_blob(st, i, p, (int)n, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
	return rc == SQLITE_OK ? OC_OK : OC_ERR_STORE;
}



int
store_sqlite_request_new_fp(struct oc_store *s, const char *requester, const char *template_name,
    const uint8_t *der, size_t der_len, const uint8_t *fp, uint32_t *request_id)
{
	sqlite3_stmt *st = NULL;
	uint32_t id = 0;
	int r = OC_ERR_STORE, rc;

	*request_id = 0;
	if (s == NULL || requester == NULL)
		return OC_ERR_INVALID;
	if (der_len > OC_REQUEST_DER_MAX)
		return OC_ERR_LIMIT;
	if ((r = store_write_ok(s)) != OC_OK)
		return r;
	if ((r = store_prepare(s, "INSERT INTO requests (request_id, requester, template, "
	    "status, hresult, request_der, submitted, fingerprint) VALUES (?, ?, ?, ?, 0, ?, ?, ?)",
	    &st)) != OC_OK)
		goto out;
	for (int attempt = 0; attempt < STORE_ID_ATTEMPTS; attempt++) {
		if ((r = store_draw_request_id(&id)) != OC_OK)
			goto out;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		    (r = store_bind_text(st, 2, requester)) != OC_OK ||
		    (r = store_bind_text(st, 3, template_name)) != OC_OK ||
		    sqlite3_bind_int(st, 4, OC_REQ_STATUS_PENDING) != SQLITE_OK ||
		    (r = bind_blob(st, 5, der_len ? der : NULL, der_len)) != OC_OK ||
		    sqlite3_bind_int64(st, 6, (sqlite3_int64)time(NULL)) != SQLITE_OK ||
		    (r = bind_blob(st, 7, fp, OC_STORE_FP_LEN)) != OC_OK) {
			r = r ? r : OC_ERR_STORE;
			goto out;
		}
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			*request_id = id;
			r = OC_OK;
			goto out;
		}
		if (rc != SQLITE_CONSTRAINT_PRIMARYKEY) {
			log_error("insert request: %s", sqlite3_errmsg(s->db));
			r = OC_ERR_STORE;
			goto out;
		}
		/* RequestID collision: draw again */
	}
	log_error("no free RequestID after %d attempts", STORE_ID_ATTEMPTS);
	r = OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_request_resolve(struct oc_store *s, uint32_t request_id, int status,
    uint32_t hresult, const char *disposition)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (s == NULL || request_id == 0 || status == OC_REQ_STATUS_ISSUED ||
	    status < OC_REQ_STATUS_PENDING || status > OC_REQ_STATUS_FAILED)
		return OC_ERR_INVALID;
	if ((r = store_write_ok(s)) != OC_OK)
		return r;
	if ((r = store_prepare(s, "UPDATE requests SET status = ?, hresult = ?, "
	    "disposition = ?, resolved = ? WHERE request_id = ? AND status = ?", &st)) != OC_OK)
		goto out;
	if (sqlite3_bind_int(st, 1, status) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, hresult) != SQLITE_OK ||
	    (r = store_bind_text(st, 3, disposition)) != OC_OK ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, request_id) != SQLITE_OK ||
	    sqlite3_bind_int(st, 6, OC_REQ_STATUS_PENDING) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_error("resolve request %u: %s", request_id, sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
		goto out;
	}
	/* only an undecided request can be resolved */
	r = sqlite3_changes(s->db) == 1 ? OC_OK : OC_ERR_NOT_FOUND;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_request_set_template(struct oc_store *s, uint32_t request_id, const char *template_name)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (s == NULL || request_id == 0 || template_name == NULL)
		return OC_ERR_INVALID;
	if ((r = store_write_ok(s)) != OC_OK)
		return r;
	if ((r = store_prepare(s, "UPDATE requests SET template = ? WHERE request_id = ?",
	    &st)) != OC_OK)
		return r;
	if ((r = store_bind_text(st, 1, template_name)) != OC_OK ||
	    sqlite3_bind_int64(st, 2, request_id) != SQLITE_OK) {
		r = r ? r : OC_ERR_STORE;
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_error("set template of request %u: %s", request_id, sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
		goto out;
	}
	r = sqlite3_changes(s->db) == 1 ? OC_OK : OC_ERR_NOT_FOUND;
out:
	store_release(s, st);
	return r;
}

/* Inside a transaction: status of a request, OC_ERR_NOT_FOUND if absent. */
int
store_request_state(struct oc_store *s, uint32_t request_id, int *status, int *approved)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = store_prepare(s, "SELECT status, approved FROM requests WHERE request_id = ?",
	    &st)) != OC_OK)
		return r;
	if (sqlite3_bind_int64(st, 1, request_id) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*status = sqlite3_column_int(st, 0);
		if (approved != NULL)
			*approved = sqlite3_column_int(st, 1);
		r = OC_OK;
	} else
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_serial_exists(struct oc_store *s, const char *serial_hex, int *exists)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*exists = 0;
	if (s == NULL || serial_hex == NULL)
		return OC_ERR_INVALID;
	if ((r = store_prepare(s, "SELECT 1 FROM certificates WHERE serial = ?", &st)) != OC_OK)
		return r;
	if ((r = store_bind_text(st, 1, serial_hex)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*exists = 1;
	else if (rc != SQLITE_DONE)
		r = OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_cert_issue(struct oc_store *s, uint32_t request_id, const struct oc_store_cert *c,
    const char *disposition)
{
	sqlite3_stmt *st = NULL;
	int r, status = 0, exists = 0, in_tx = 0;
	time_t now = time(NULL);

	if (s == NULL || c == NULL || c->serial_hex == NULL || c->der == NULL || c->der_len == 0 ||
	    request_id == 0)
		return OC_ERR_INVALID;
	if (c->der_len > OC_CERT_DER_MAX)
		return OC_ERR_LIMIT;
	if ((r = store_write_ok(s)) != OC_OK)
		return r;
	/* in a batch, a savepoint: a failure undoes this certificate only */
	if ((r = store_exec(s->db, s->batch ? "SAVEPOINT oc_issue" : "BEGIN IMMEDIATE")) != OC_OK)
		return r;
	in_tx = 1;
	if ((r = store_request_state(s, request_id, &status, NULL)) != OC_OK)
		goto out;
	if (status != OC_REQ_STATUS_PENDING) {
		r = OC_ERR_INVALID;
		goto out;
	}
	if ((r = store_sqlite_serial_exists(s, c->serial_hex, &exists)) != OC_OK)
		goto out;
	if (exists) {
		r = OC_ERR_EXISTS;
		goto out;
	}
	if ((r = store_prepare(s, "INSERT INTO certificates (serial, request_id, requester, "
	    "template, subject, not_before, not_after, der, revoked) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)", &st)) != OC_OK)
		goto out;
	if ((r = store_bind_text(st, 1, c->serial_hex)) != OC_OK ||
	    sqlite3_bind_int64(st, 2, request_id) != SQLITE_OK ||
	    (r = store_bind_text(st, 3, c->requester)) != OC_OK ||
	    (r = store_bind_text(st, 4, c->template_name)) != OC_OK ||
	    (r = store_bind_text(st, 5, c->subject)) != OC_OK ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)c->not_before) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 7, (sqlite3_int64)c->not_after) != SQLITE_OK ||
	    (r = bind_blob(st, 8, c->der, c->der_len)) != OC_OK) {
		r = r ? r : OC_ERR_STORE;
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_error("insert certificate: %s", sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
		goto out;
	}
	store_release(s, st);
	st = NULL;
	if ((r = store_prepare(s, "UPDATE requests SET status = ?, hresult = 0, disposition = ?, "
	    "resolved = ?, serial = ? WHERE request_id = ?", &st)) != OC_OK)
		goto out;
	if (sqlite3_bind_int(st, 1, OC_REQ_STATUS_ISSUED) != SQLITE_OK ||
	    (r = store_bind_text(st, 2, disposition)) != OC_OK ||
	    sqlite3_bind_int64(st, 3, (sqlite3_int64)now) != SQLITE_OK ||
	    (r = store_bind_text(st, 4, c->serial_hex)) != OC_OK ||
	    sqlite3_bind_int64(st, 5, request_id) != SQLITE_OK) {
		r = r ? r : OC_ERR_STORE;
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1) {
		log_error("mark request %u issued: %s", request_id, sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
		goto out;
	}
	store_release(s, st);
	st = NULL;
	if ((r = store_exec(s->db, s->batch ? "RELEASE oc_issue" : "COMMIT")) != OC_OK)
		goto out;
	in_tx = 0;
	r = OC_OK;
out:
	store_release(s, st);
	if (in_tx && !sqlite3_get_autocommit(s->db) && store_exec(s->db, s->batch ?
	    "ROLLBACK TO oc_issue; RELEASE oc_issue" : "ROLLBACK") != OC_OK)
		log_error("rollback failed");
	return r;
}

int
store_sqlite_audit(struct oc_store *s, const char *event, const char *actor, const char *detail)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (s == NULL || event == NULL)
		return OC_ERR_INVALID;
	if ((r = store_write_ok(s)) != OC_OK)
		return r;
	if ((r = store_prepare(s, "INSERT INTO audit (time, event, actor, detail) "
	    "VALUES (?, ?, ?, ?)", &st)) != OC_OK)
		return r;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL)) != SQLITE_OK ||
	    (r = store_bind_text(st, 2, event)) != OC_OK ||
	    (r = store_bind_text(st, 3, actor)) != OC_OK ||
	    (r = store_bind_text(st, 4, detail)) != OC_OK) {
		r = r ? r : OC_ERR_STORE;
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_error("insert audit: %s", sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
	}
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_check(struct oc_store *s)
{
	static const char *const invariants[] = {
		/* every issued request has exactly one certificate, with its serial */
		("SELECT count(*) FROM requests r WHERE r.status = 2 AND "
		 "(SELECT count(*) FROM certificates c WHERE c.request_id = r.request_id "
		 "AND c.serial = r.serial) != 1"),
		/* no certificate belongs to a request that is not issued */
		("SELECT count(*) FROM certificates c JOIN requests r USING (request_id) "
		 "WHERE r.status != 2"),
		/* RequestIDs stay in 1..2^31-1 */
		"SELECT count(*) FROM requests WHERE request_id < 1 OR request_id > 2147483647",
		/* revocation columns agree: a revocable RFC 5280 reason and a time iff revoked */
		("SELECT count(*) FROM certificates WHERE revoked NOT IN (0, 1) OR "
		 "(revoked = 0 AND (reason IS NOT NULL OR revoked_at IS NOT NULL)) OR "
		 "(revoked = 1 AND (reason IS NULL OR reason NOT IN (0, 1, 2, 3, 4, 5, 6, 9, 10) "
		 "OR revoked_at IS NULL))"),
	};
	sqlite3_stmt *st = NULL;
	int r, rc;

	if (s == NULL)
		return OC_ERR_INVALID;
	if ((r = store_prepare(s, "PRAGMA integrity_check", &st)) != OC_OK)
		return r;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_text(st, 0) == NULL ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		log_error("integrity_check: %s", rc == SQLITE_ROW && sqlite3_column_text(st, 0) ?
		    (const char *)sqlite3_column_text(st, 0) : sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
		goto out;
	}
	store_release(s, st);
	if ((r = store_prepare(s, "PRAGMA foreign_key_check", &st)) != OC_OK)
		return r;
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		log_error("foreign_key_check: %s", rc == SQLITE_ROW ? "violation" :
		    sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
		goto out;
	}
	for (size_t i = 0; i < sizeof(invariants) / sizeof(invariants[0]); i++) {
		store_release(s, st);
		if ((r = store_prepare(s, invariants[i], &st)) != OC_OK)
			return r;
		if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int64(st, 0) != 0) {
			log_error("store invariant %zu violated", i);
			r = OC_ERR_STORE;
			goto out;
		}
	}
	r = OC_OK;
out:
	store_release(s, st);
	return r;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.close = store_sqlite_close,
	.batch_begin = store_sqlite_batch_begin,
	.batch_commit = store_sqlite_batch_commit,
	.batch_rollback = store_sqlite_batch_rollback,
	.request_new_fp = store_sqlite_request_new_fp,
	.request_by_fp = store_sqlite_request_by_fp,
	.request_set_template = store_sqlite_request_set_template,
	.request_resolve = store_sqlite_request_resolve,
	.cert_issue = store_sqlite_cert_issue,
	.request_get = store_sqlite_request_get,
	.cert_get = store_sqlite_cert_get,
	.cert_by_request = store_sqlite_cert_by_request,
	.serial_exists = store_sqlite_serial_exists,
	.request_find = store_sqlite_request_find,
	.cert_find = store_sqlite_cert_find,
	.cert_revoke = store_sqlite_cert_revoke,
	.cert_unrevoke = store_sqlite_cert_unrevoke,
	.cert_status = store_sqlite_cert_status,
	.audit = store_sqlite_audit,
	.check = store_sqlite_check,
	.request_approve = store_sqlite_request_approve,
	.request_deny = store_sqlite_request_deny,
	.crl_next_number = store_sqlite_crl_next_number,
	.crl_record = store_sqlite_crl_record,
	.crl_last = store_sqlite_crl_last,
	.crl_entries = store_sqlite_crl_entries,
	.crl_request = store_sqlite_crl_request,
	.crl_take_request = store_sqlite_crl_take_request,
};
