/*
 * Revocation records of the CA store: revoke (RFC 5280 CRLReason), take off
 * hold, read the state. Each change commits with its audit line in one
 * transaction (a savepoint inside an open batch).
 */
#include "store/store.h"
#include "store/store_local.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/log.h"

/* Revocation columns of one certificate. */
static int
read_status(struct oc_store *s, const char *serial, int *revoked, int *reason, time_t *at)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = store_prepare(s, "SELECT revoked, reason, revoked_at FROM certificates "
	    "WHERE serial = ?", &st)) != OC_OK)
		return r;
	if (sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*revoked = sqlite3_column_int(st, 0) != 0;
		*reason = *revoked ? sqlite3_column_int(st, 1) : 0;
		*at = *revoked ? (time_t)sqlite3_column_int64(st, 2) : 0;
		r = OC_OK;
	} else
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_cert_status(struct oc_store *s, const char *serial_hex, int *revoked, int *reason,
    time_t *revoked_at)
{
	char *serial = NULL;
	int r, rv = 0, rs = 0;
	time_t at = 0;

	*revoked = 0;
	if (reason)
		*reason = 0;
	if (revoked_at)
		*revoked_at = 0;
	if (s == NULL)
		return OC_ERR_INVALID;
	if ((r = oc_store_serial_normalize(serial_hex, &serial)) != OC_OK)
		return r;
	if ((r = read_status(s, serial, &rv, &rs, &at)) != OC_OK)
		goto out;
	*revoked = rv;
	if (reason)
		*reason = rs;
	if (revoked_at)
		*revoked_at = at;
out:
	free(serial);
	return r;
}

/* UPDATE the revocation columns of serial (reason < 0: clear them). */
static int
write_status(struct oc_store *s, const char *serial, int reason, time_t when)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = store_prepare(s, reason >= 0 ?
	    "UPDATE certificates SET revoked = 1, reason = ?, revoked_at = ? WHERE serial = ?" :
	    "UPDATE certificates SET revoked = 0, reason = NULL, revoked_at = NULL, "
	    "unrevoked_at = strftime('%s', 'now') WHERE serial = ?", &st)) != OC_OK)
		return r;
	if (reason >= 0 ? (sqlite3_bind_int(st, 1, reason) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)when) != SQLITE_OK ||
	    sqlite3_bind_text(st, 3, serial, -1, SQLITE_TRANSIENT) != SQLITE_OK) :
	    sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1) {
		log_error("update revocation of %s: %s", serial, sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
	}
out:
	store_release(s, st);
	return r;
}

/*
 * One revocation change in its own transaction (a savepoint in a batch):
 * check the current state, write the new one and the audit line.
 * reason < 0: take off hold.
 */
static int
change(struct oc_store *s, const char *serial_hex, int reason, time_t when)
{
	char *serial = NULL, detail[OC_SERIAL_HEX_MAX + 128];
	int r, in_tx = 0, revoked = 0, old = 0;
	time_t at = 0;

	if (s == NULL)
		return OC_ERR_INVALID;
	if ((r = oc_store_serial_normalize(serial_hex, &serial)) != OC_OK)
		return r;
	if (s->batch && sqlite3_get_autocommit(s->db)) {
		log_error("store batch was rolled back by an earlier error");
		r = OC_ERR_STORE;
		goto out;
	}
	if ((r = store_sql(s, s->batch ? "SAVEPOINT oc_revoke" : "BEGIN IMMEDIATE")) != OC_OK)
		goto out;
	in_tx = 1;
	if ((r = read_status(s, serial, &revoked, &old, &at)) != OC_OK)
		goto out;
	if (reason >= 0) {
		/* on hold, a final reason may follow; anything else stays as it is */
		if (revoked && (old != OC_CRL_CERTIFICATE_HOLD ||
		    reason == OC_CRL_CERTIFICATE_HOLD)) {
			r = OC_ERR_EXISTS;
			goto out;
		}
		snprintf(detail, sizeof(detail), "serial=%s reason=%s(%d) revoked_at=%lld%s",
		    serial, oc_crl_reason_name(reason), reason, (long long)when,
		    revoked ? " was=certificateHold" : "");
	} else {
		if (!revoked) {
			r = OC_ERR_INVALID;
			goto out;
		}
		if (old != OC_CRL_CERTIFICATE_HOLD) {
			r = OC_ERR_DENIED;
			goto out;
		}
		snprintf(detail, sizeof(detail), "serial=%s was=certificateHold", serial);
	}
	if ((r = write_status(s, serial, reason, when)) != OC_OK ||
	    (r = store_sqlite_audit(s, reason >= 0 ? "revoke" : "unrevoke", NULL, detail)) != OC_OK)
		goto out;
	if ((r = store_sql(s, s->batch ? "RELEASE oc_revoke" : "COMMIT")) != OC_OK)
		goto out;
	in_tx = 0;
out:
	if (in_tx && !sqlite3_get_autocommit(s->db) && store_sql(s, s->batch ?
	    "ROLLBACK TO oc_revoke; RELEASE oc_revoke" : "ROLLBACK") != OC_OK)
		log_error("rollback failed");
	free(serial);
	return r;
}

int
store_sqlite_cert_revoke(struct oc_store *s, const char *serial_hex, int reason, time_t when)
{
	if (!store_reason_revocable(reason) || when < 0)
		return OC_ERR_INVALID;
	return change(s, serial_hex, reason, when ? when : time(NULL));
}

int
store_sqlite_cert_unrevoke(struct oc_store *s, const char *serial_hex)
{
	return change(s, serial_hex, -1, 0);
}
