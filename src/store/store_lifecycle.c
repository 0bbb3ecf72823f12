/*
 * An administrator's decision on a pending request (the admin CLI writes it;
 * the CA issues an approved request when its requester retrieves it). Each
 * decision commits with its audit line, naming the administrator.
 */
#include "store/store.h"
#include "store/store_local.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "common/log.h"
#include "model/hresult.h"

int
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	int rc = v ? sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);

	return rc == SQLITE_OK ? OC_OK : OC_ERR_STORE;
}

static int
decide(struct oc_store *s, uint32_t id, const char *actor, const char *reason, int approve)
{
	char disp[OC_DISPOSITION_MAX], detail[OC_DISPOSITION_MAX + 64];
	sqlite3_stmt *st = NULL;
	int r, in_tx = 0, status = 0, approved = 0;

	if (s == NULL || id == 0 || actor == NULL || actor[0] == '\0')
		return OC_ERR_INVALID;
	if (reason != NULL && strlen(reason) > OC_DISPOSITION_MAX - 128)
		return OC_ERR_LIMIT;
	if (s->batch && sqlite3_get_autocommit(s->db))
		return OC_ERR_STORE;
	if ((r = store_sql(s, s->batch ? "SAVEPOINT oc_decide" : "BEGIN IMMEDIATE")) != OC_OK)
		return r;
	in_tx = 1;
	if ((r = store_request_state(s, id, &status, &approved)) != OC_OK)
		goto out;
	if (status != OC_REQ_STATUS_PENDING || (approve && approved)) {
		r = OC_ERR_EXISTS;
		goto out;
	}
	if (approve) {
		r = store_prepare(s, "UPDATE requests SET approved = 1, actor = ?, "
		    "disposition = 'Approved, to be issued when retrieved' "
		    "WHERE request_id = ? AND status = 1", &st);
		snprintf(detail, sizeof(detail), "request_id=%u approved", id);
	} else {
		snprintf(disp, sizeof(disp), "Denied by %s%s%s", actor, reason ? ": " : "",
		    reason ? reason : "");
		r = store_prepare(s, "UPDATE requests SET actor = ?, status = 3, hresult = ?, "
		    "disposition = ?, resolved = ? WHERE request_id = ? AND status = 1", &st);
		snprintf(detail, sizeof(detail), "request_id=%u denied reason=%s", id,
		    reason ? reason : "");
	}
	if (r != OC_OK)
		goto out;
	if (store_bind_text(st, 1, actor) != OC_OK || (approve ?
	    sqlite3_bind_int64(st, 2, id) != SQLITE_OK :
	    (sqlite3_bind_int64(st, 2, OC_HR_CERTSRV_E_ADMIN_DENIED_REQUEST) != SQLITE_OK ||
	    store_bind_text(st, 3, disp) != OC_OK ||
	    sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL)) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, id) != SQLITE_OK))) {
		r = OC_ERR_STORE;
		goto out;
	}
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1) {
		log_error("decide request %u: %s", id, sqlite3_errmsg(s->db));
		r = OC_ERR_STORE;
		goto out;
	}
	store_release(s, st);
	st = NULL;
	if ((r = store_sqlite_audit(s, approve ? "approve" : "admin_deny", actor, detail)) != OC_OK ||
	    (r = store_sql(s, s->batch ? "RELEASE oc_decide" : "COMMIT")) != OC_OK)
		goto out;
	in_tx = 0;
out:
	store_release(s, st);
	if (in_tx && !sqlite3_get_autocommit(s->db) && store_sql(s, s->batch ?
	    "ROLLBACK TO oc_decide; RELEASE oc_decide" : "ROLLBACK") != OC_OK)
		log_error("rollback failed");
	return r;
}

int
store_sqlite_request_approve(struct oc_store *s, uint32_t request_id, const char *actor)
{
	return decide(s, request_id, actor, NULL, 1);
}

int
store_sqlite_request_deny(struct oc_store *s, uint32_t request_id, const char *actor,
    const char *reason)
{
	return decide(s, request_id, actor, reason, 0);
}
