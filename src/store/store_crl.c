/*
 * CRL bookkeeping: the number sequence shared by complete and delta CRLs,
 * what was published, the entries to publish, and the on-demand flag the
 * admin CLI raises for the CA process.
 */
#include "store/store.h"
#include "store/store_local.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "common/log.h"

int
store_sqlite_crl_next_number(struct oc_store *s, uint64_t *number)
{
	sqlite3_stmt *st = NULL;
	int r;

	*number = 0;
	if (s == NULL)
		return OC_ERR_INVALID;
	if ((r = store_prepare(s, "SELECT coalesce(max(number), 0) + 1 FROM crls", &st)) != OC_OK)
		return r;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*number = (uint64_t)sqlite3_column_int64(st, 0);
		r = OC_OK;
	} else
		r = OC_ERR_STORE;
	store_release(s, st);
	return r;
}

int
store_sqlite_crl_record(struct oc_store *s, const struct oc_store_crl_info *i, const uint8_t *der,
    size_t der_len)
{
	sqlite3_stmt *st = NULL;
	uint64_t next = 0;
	int r;

	if (s == NULL || i == NULL || der == NULL || der_len == 0 || i->number == 0 ||
	    i->number > (uint64_t)INT64_MAX)
		return OC_ERR_INVALID;
	if (der_len > (size_t)INT32_MAX)
		return OC_ERR_LIMIT;
	if (s->batch && sqlite3_get_autocommit(s->db))
		return OC_ERR_STORE;
	if ((r = store_sqlite_crl_next_number(s, &next)) != OC_OK)
		return r;
	if (next != i->number)
		return OC_ERR_EXISTS;
	if ((r = store_prepare(s, "INSERT INTO crls (number, delta, base, this_update, "
	    "next_update, entries, der) VALUES (?, ?, ?, ?, ?, ?, ?)", &st)) != OC_OK)
		return r;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)i->number) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, i->delta ? 1 : 0) != SQLITE_OK ||
	    (i->delta ? sqlite3_bind_int64(st, 3, (sqlite3_int64)i->base) :
	    sqlite3_bind_null(st, 3)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)i->this_update) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, (sqlite3_int64)i->next_update) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 6, (sqlite3_int64)i->entries) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 7, der, (int)der_len, SQLITE_TRANSIENT) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_error("record CRL %llu: %s", (unsigned long long)i->number,
		    sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
		goto out;
	}
	store_release(s, st);
	st = NULL;
	/* keep the newest few (the numbers stay monotonic: max() never shrinks) */
	r = store_prepare(s, "DELETE FROM crls WHERE number <= (SELECT max(number) FROM crls) - ?",
	    &st);
	if (r == OC_OK && (sqlite3_bind_int(st, 1, OC_STORE_CRLS_KEPT) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE))
		r = OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_crl_last(struct oc_store *s, int delta, struct oc_store_crl_info *i)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	memset(i, 0, sizeof(*i));
	if (s == NULL)
		return OC_ERR_INVALID;
	if ((r = store_prepare(s, "SELECT number, delta, coalesce(base, 0), this_update, "
	    "next_update, entries FROM crls WHERE delta = ? ORDER BY number DESC LIMIT 1",
	    &st)) != OC_OK)
		return r;
	if (sqlite3_bind_int(st, 1, delta ? 1 : 0) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		i->number = (uint64_t)sqlite3_column_int64(st, 0);
		i->delta = sqlite3_column_int(st, 1);
		i->base = (uint64_t)sqlite3_column_int64(st, 2);
		i->this_update = (time_t)sqlite3_column_int64(st, 3);
		i->next_update = (time_t)sqlite3_column_int64(st, 4);
		i->entries = (size_t)sqlite3_column_int64(st, 5);
		r = OC_OK;
	} else
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_crl_entries(struct oc_store *s, time_t since, int with_removed,
    oc_store_crl_entry_cb cb, void *arg)
{
	sqlite3_stmt *st = NULL;
	struct oc_store_crl_entry e;
	int r, rc;

	if (s == NULL || cb == NULL || since < 0)
		return OC_ERR_INVALID;
	if ((r = store_prepare(s, "SELECT serial, reason, revoked_at FROM certificates "
	    "WHERE revoked = 1 AND revoked_at >= ?1 "
	    "UNION ALL SELECT serial, 8, unrevoked_at FROM certificates "
	    "WHERE ?2 AND revoked = 0 AND unrevoked_at IS NOT NULL AND unrevoked_at >= ?1 "
	    "ORDER BY 1", &st)) != OC_OK)
		return r;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)since) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, with_removed && since > 0) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		e.serial_hex = (const char *)sqlite3_column_text(st, 0);
		e.reason = sqlite3_column_int(st, 1);
		e.revoked_at = (time_t)sqlite3_column_int64(st, 2);
		if (e.serial_hex == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		if ((r = cb(&e, arg)) != OC_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? OC_OK : OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_crl_request(struct oc_store *s, const char *actor, int what)
{
	char detail[32];
	sqlite3_stmt *st = NULL;
	int r;

	if (s == NULL || what <= 0 || (what & ~(OC_STORE_CRL_ASK_FULL | OC_STORE_CRL_ASK_DELTA)))
		return OC_ERR_INVALID;
	snprintf(detail, sizeof(detail), "%s%s", what & OC_STORE_CRL_ASK_FULL ? "complete " : "",
	    what & OC_STORE_CRL_ASK_DELTA ? "delta" : "");
	if ((r = store_sql(s, "BEGIN IMMEDIATE")) != OC_OK)
		return r;
	if ((r = store_prepare(s, "INSERT INTO ca_state (name, value) VALUES ('crl_publish', ?) "
	    "ON CONFLICT (name) DO UPDATE SET value = value | excluded.value", &st)) != OC_OK)
		goto out;
	if (sqlite3_bind_int(st, 1, what) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		r = OC_ERR_STORE;
		goto out;
	}
	store_release(s, st);
	st = NULL;
	if ((r = store_sqlite_audit(s, "crl_publish_request", actor, detail)) != OC_OK)
		goto out;
	r = store_sql(s, "COMMIT");
out:
	store_release(s, st);
	if (r != OC_OK && !sqlite3_get_autocommit(s->db) && store_sql(s, "ROLLBACK") != OC_OK)
		log_error("rollback failed");
	return r;
}

int
store_sqlite_crl_take_request(struct oc_store *s, int *asked)
{
	sqlite3_stmt *st = NULL;
	int r, rc, v;

	*asked = 0;
	if (s == NULL)
		return OC_ERR_INVALID;
	if (s->batch && sqlite3_get_autocommit(s->db))
		return OC_ERR_STORE;
	/* a read first: no write lock taken every second when nothing is asked */
	if ((r = store_prepare(s, "SELECT value FROM ca_state WHERE name = 'crl_publish'",
	    &st)) != OC_OK)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE)
		goto out;
	if (rc != SQLITE_ROW) {
		r = OC_ERR_STORE;
		goto out;
	}
	v = sqlite3_column_int(st, 0);
	store_release(s, st);
	st = NULL;
	if ((r = store_prepare(s, "DELETE FROM ca_state WHERE name = 'crl_publish'", &st)) != OC_OK)
		return r;
	if (sqlite3_step(st) != SQLITE_DONE)
		r = OC_ERR_STORE;
	else
		*asked = sqlite3_changes(s->db) > 0 ? v : 0;
out:
	store_release(s, st);
	return r;
}
