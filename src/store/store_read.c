/* Reading the store: single rows by key, listings for the admin CLI. */
#include "store/store.h"
#include "store/store_local.h"

#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/log.h"

#define REQ_COLUMNS "request_id, requester, template, status, hresult, disposition, " \
	"request_der, submitted, resolved, serial, approved, actor"
#define CERT_COLUMNS "serial, request_id, requester, template, subject, not_before, " \
	"not_after, der, revoked, reason, revoked_at"



/* Copy a text column (NULL stays NULL). */
static int
col_text(sqlite3_stmt *st, int i, char **out)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	*out = NULL;
	if (t == NULL)
		return sqlite3_column_type(st, i) == SQLITE_NULL ? OC_OK : OC_ERR_NOMEM;
	if ((*out = strdup((const char *)t)) == NULL)
		return OC_ERR_NOMEM;
	return OC_OK;
}

static int
col_blob(sqlite3_stmt *st, int i, uint8_t **out, size_t *len, size_t max)
{
	const void *p = sqlite3_column_blob(st, i);
	int n = sqlite3_column_bytes(st, i);

	*out = NULL;
	*len = 0;
	if (p == NULL || n <= 0)
		return OC_OK;
	if ((size_t)n > max)
		return OC_ERR_LIMIT;
	if ((*out = malloc((size_t)n)) == NULL)
		return OC_ERR_NOMEM;
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	return OC_OK;
}

static int
row_request(sqlite3_stmt *st, struct oc_store_request *q)
{
	int r;

	memset(q, 0, sizeof(*q));
	q->request_id = (uint32_t)sqlite3_column_int64(st, 0);
	q->status = sqlite3_column_int(st, 3);
	q->hresult = (uint32_t)sqlite3_column_int64(st, 4);
	q->submitted = (time_t)sqlite3_column_int64(st, 7);
	q->resolved = (time_t)sqlite3_column_int64(st, 8);
	q->approved = sqlite3_column_int(st, 10);
	if ((r = col_text(st, 1, &q->requester)) != OC_OK ||
	    (r = col_text(st, 2, &q->template_name)) != OC_OK ||
	    (r = col_text(st, 5, &q->disposition)) != OC_OK ||
	    (r = col_blob(st, 6, &q->request_der, &q->request_der_len,
	    OC_REQUEST_DER_MAX)) != OC_OK ||
	    (r = col_text(st, 9, &q->serial_hex)) != OC_OK ||
	    (r = col_text(st, 11, &q->actor)) != OC_OK) {
		oc_store_request_clear(q);
		return r;
	}
	return OC_OK;
}

static int
row_cert(sqlite3_stmt *st, struct oc_store_cert *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->request_id = (uint32_t)sqlite3_column_int64(st, 1);
	c->not_before = (time_t)sqlite3_column_int64(st, 5);
	c->not_after = (time_t)sqlite3_column_int64(st, 6);
	c->revoked = sqlite3_column_int(st, 8);
	c->revocation_reason = sqlite3_column_int(st, 9);
	c->revoked_at = (time_t)sqlite3_column_int64(st, 10);
	if ((r = col_text(st, 0, &c->serial_hex)) != OC_OK ||
	    (r = col_text(st, 2, &c->requester)) != OC_OK ||
	    (r = col_text(st, 3, &c->template_name)) != OC_OK ||
	    (r = col_text(st, 4, &c->subject)) != OC_OK ||
	    (r = col_blob(st, 7, &c->der, &c->der_len, OC_CERT_DER_MAX)) != OC_OK) {
		oc_store_cert_clear(c);
		return r;
	}
	return OC_OK;
}

int
store_sqlite_request_get(struct oc_store *s, uint32_t request_id, struct oc_store_request *q)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	memset(q, 0, sizeof(*q));
	if (s == NULL)
		return OC_ERR_INVALID;
	if ((r = store_prepare(s, "SELECT " REQ_COLUMNS " FROM requests WHERE request_id = ?",
	    &st)) != OC_OK)
		return r;
	if (sqlite3_bind_int64(st, 1, request_id) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = row_request(st, q);
	else
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_request_by_fp(struct oc_store *s, const uint8_t *fp, time_t since,
    struct oc_store_request *q)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	memset(q, 0, sizeof(*q));
	if (s == NULL || fp == NULL)
		return OC_ERR_INVALID;
	if ((r = store_prepare(s, "SELECT " REQ_COLUMNS " FROM requests WHERE fingerprint = ? "
	    "AND submitted >= ? ORDER BY submitted DESC, rowid DESC LIMIT 1", &st)) != OC_OK)
		return r;
	if (sqlite3_bind_blob(st, 1, fp, OC_STORE_FP_LEN, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)since) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = row_request(st, q);
	else
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

static int
cert_get_where(struct oc_store *s, const char *sql, const char *serial, uint32_t request_id,
    struct oc_store_cert *c)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	memset(c, 0, sizeof(*c));
	if (s == NULL)
		return OC_ERR_INVALID;
	if ((r = store_prepare(s, sql, &st)) != OC_OK)
		return r;
	rc = serial ? sqlite3_bind_text(st, 1, serial, -1, SQLITE_TRANSIENT) :
	    sqlite3_bind_int64(st, 1, request_id);
	if (rc != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = row_cert(st, c);
	else
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_cert_get(struct oc_store *s, const char *serial_hex, struct oc_store_cert *c)
{
	if (serial_hex == NULL) {
		memset(c, 0, sizeof(*c));
		return OC_ERR_INVALID;
	}
	return cert_get_where(s, "SELECT " CERT_COLUMNS " FROM certificates WHERE serial = ?",
	    serial_hex, 0, c);
}

int
store_sqlite_cert_by_request(struct oc_store *s, uint32_t request_id, struct oc_store_cert *c)
{
	return cert_get_where(s, "SELECT " CERT_COLUMNS " FROM certificates WHERE request_id = ?",
	    NULL, request_id, c);
}



/* Filters as fixed SQL (one cached statement): a NULL parameter matches any row. */
int
store_sqlite_request_find(struct oc_store *s, const struct oc_store_request_filter *f,
    size_t limit, oc_store_request_cb cb, void *arg)
{
	static const struct oc_store_request_filter none;
	sqlite3_stmt *st = NULL;
	struct oc_store_request q;
	int r, rc;

	if (s == NULL || cb == NULL)
		return OC_ERR_INVALID;
	if (f == NULL)
		f = &none;
	if ((r = store_prepare(s, "SELECT " REQ_COLUMNS " FROM requests "
	    "WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR requester = ?2) AND "
	    "(?3 IS NULL OR template = ?3 COLLATE NOCASE) "
	    "ORDER BY submitted DESC, rowid DESC LIMIT ?4", &st)) != OC_OK)
		return r;
	if ((f->status ? sqlite3_bind_int(st, 1, f->status) : sqlite3_bind_null(st, 1)) !=
	    SQLITE_OK || store_bind_text(st, 2, f->requester) != OC_OK ||
	    store_bind_text(st, 3, f->template_name) != OC_OK ||
	    sqlite3_bind_int64(st, 4, limit ? (sqlite3_int64)limit : -1) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = row_request(st, &q)) != OC_OK)
			goto out;
		cb(&q, arg);
		oc_store_request_clear(&q);
	}
	r = rc == SQLITE_DONE ? OC_OK : OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}

int
store_sqlite_cert_find(struct oc_store *s, const struct oc_store_cert_filter *f, size_t limit,
    oc_store_cert_cb cb, void *arg)
{
	static const struct oc_store_cert_filter none;
	sqlite3_stmt *st = NULL;
	struct oc_store_cert c;
	int r, rc;

	if (s == NULL || cb == NULL)
		return OC_ERR_INVALID;
	if (f == NULL)
		f = &none;
	if ((r = store_prepare(s, "SELECT " CERT_COLUMNS " FROM certificates "
	    "WHERE (?1 IS NULL OR requester = ?1) AND (?2 IS NULL OR template = ?2 COLLATE NOCASE) "
	    "AND (?3 IS NULL OR not_after < ?3) AND (?4 IS NULL OR revoked = ?4) "
	    "ORDER BY rowid DESC LIMIT ?5", &st)) != OC_OK)
		return r;
	if (store_bind_text(st, 1, f->requester) != OC_OK ||
	    store_bind_text(st, 2, f->template_name) != OC_OK ||
	    (f->expires_before ? sqlite3_bind_int64(st, 3, (sqlite3_int64)f->expires_before) :
	    sqlite3_bind_null(st, 3)) != SQLITE_OK ||
	    (f->revoked ? sqlite3_bind_int(st, 4, f->revoked > 0) : sqlite3_bind_null(st, 4)) !=
	    SQLITE_OK ||
	    sqlite3_bind_int64(st, 5, limit ? (sqlite3_int64)limit : -1) != SQLITE_OK) {
		r = OC_ERR_STORE;
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = row_cert(st, &c)) != OC_OK)
			goto out;
		cb(&c, arg);
		oc_store_cert_clear(&c);
	}
	r = rc == SQLITE_DONE ? OC_OK : OC_ERR_STORE;
out:
	store_release(s, st);
	return r;
}
