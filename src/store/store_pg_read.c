/* Reading the PostgreSQL store: rows by key, filtered listings, the check. */
#include "store/store.h"
#include "store/store_pg.h"

#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/log.h"

/* The same columns in the same order as store_read.c. */
#define REQ_COLUMNS "request_id, requester, template, status, hresult, disposition, " \
	"request_der, submitted, resolved, serial, approved, actor"
#define CERT_COLUMNS "serial, request_id, requester, template, subject, not_before, " \
	"not_after, der, revoked, reason, revoked_at"

static int
row_request(const PGresult *res, int i, struct oc_store_request *q)
{
	int r;

	memset(q, 0, sizeof(*q));
	q->request_id = (uint32_t)pg_int(res, i, 0);
	q->status = (int)pg_int(res, i, 3);
	q->hresult = (uint32_t)pg_int(res, i, 4);
	q->submitted = (time_t)pg_int(res, i, 7);
	q->resolved = (time_t)pg_int(res, i, 8);
	q->approved = (int)pg_int(res, i, 10);
	if ((r = pg_str(res, i, 1, &q->requester)) != OC_OK ||
	    (r = pg_str(res, i, 2, &q->template_name)) != OC_OK ||
	    (r = pg_str(res, i, 5, &q->disposition)) != OC_OK ||
	    (r = pg_bytea(res, i, 6, &q->request_der, &q->request_der_len,
	    OC_REQUEST_DER_MAX)) != OC_OK ||
	    (r = pg_str(res, i, 9, &q->serial_hex)) != OC_OK ||
	    (r = pg_str(res, i, 11, &q->actor)) != OC_OK) {
		oc_store_request_clear(q);
		return r;
	}
	return OC_OK;
}

static int
row_cert(const PGresult *res, int i, struct oc_store_cert *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->request_id = (uint32_t)pg_int(res, i, 1);
	c->not_before = (time_t)pg_int(res, i, 5);
	c->not_after = (time_t)pg_int(res, i, 6);
	c->revoked = (int)pg_int(res, i, 8);
	c->revocation_reason = (int)pg_int(res, i, 9);
	c->revoked_at = (time_t)pg_int(res, i, 10);
	if ((r = pg_str(res, i, 0, &c->serial_hex)) != OC_OK ||
	    (r = pg_str(res, i, 2, &c->requester)) != OC_OK ||
	    (r = pg_str(res, i, 3, &c->template_name)) != OC_OK ||
	    (r = pg_str(res, i, 4, &c->subject)) != OC_OK ||
	    (r = pg_bytea(res, i, 7, &c->der, &c->der_len, OC_CERT_DER_MAX)) != OC_OK) {
		oc_store_cert_clear(c);
		return r;
	}
	return OC_OK;
}

/* One request row (OC_ERR_NOT_FOUND without). */
static int
request_one(struct oc_store *s, const char *sql, const struct pgp *p, struct oc_store_request *q)
{
	PGresult *res = NULL;
	int r;

	if ((r = pg_run(s, sql, p, &res, NULL)) != OC_OK)
		return r;
	r = PQntuples(res) >= 1 ? row_request(res, 0, q) : OC_ERR_NOT_FOUND;
	PQclear(res);
	return r;
}

static int
cert_one(struct oc_store *s, const char *sql, const struct pgp *p, struct oc_store_cert *c)
{
	PGresult *res = NULL;
	int r;

	if ((r = pg_run(s, sql, p, &res, NULL)) != OC_OK)
		return r;
	r = PQntuples(res) >= 1 ? row_cert(res, 0, c) : OC_ERR_NOT_FOUND;
	PQclear(res);
	return r;
}

int
store_pg_request_get(struct oc_store *s, uint32_t request_id, struct oc_store_request *q)
{
	struct pgp p = { 0 };

	pgp_int(&p, request_id);
	return request_one(s, "SELECT " REQ_COLUMNS " FROM requests WHERE request_id = $1", &p, q);
}

int
store_pg_request_by_fp(struct oc_store *s, const uint8_t *fp, time_t since,
    struct oc_store_request *q)
{
	struct pgp p = { 0 };

	pgp_bytea(&p, fp, OC_STORE_FP_LEN);
	pgp_int(&p, (long long)since);
	return request_one(s, "SELECT " REQ_COLUMNS " FROM requests WHERE fingerprint = $1 "
	    "AND submitted >= $2 ORDER BY submitted DESC, seq DESC LIMIT 1", &p, q);
}

int
store_pg_cert_get(struct oc_store *s, const char *serial_hex, struct oc_store_cert *c)
{
	struct pgp p = { 0 };

	pgp_text(&p, serial_hex);
	return cert_one(s, "SELECT " CERT_COLUMNS " FROM certificates WHERE serial = $1", &p, c);
}

int
store_pg_cert_by_request(struct oc_store *s, uint32_t request_id, struct oc_store_cert *c)
{
	struct pgp p = { 0 };

	pgp_int(&p, request_id);
	return cert_one(s, "SELECT " CERT_COLUMNS " FROM certificates WHERE request_id = $1", &p,
	    c);
}

int
store_pg_serial_exists(struct oc_store *s, const char *serial_hex, int *exists)
{
	struct pgp p = { 0 };
	long long n = 0;
	int r;

	pgp_text(&p, serial_hex);
	if ((r = pg_run(s, "SELECT 1 FROM certificates WHERE serial = $1", &p, NULL, &n)) != OC_OK)
		return r;
	*exists = n > 0;
	return OC_OK;
}

/* A listing's callback and its argument, for the rows pg_each streams. */
struct each_req {
	oc_store_request_cb cb;
	void *arg;
};

static int
each_request(const PGresult *res, void *arg)
{
	struct each_req *e = arg;
	struct oc_store_request q;
	int r;

	if ((r = row_request(res, 0, &q)) != OC_OK)
		return r;
	e->cb(&q, e->arg);
	oc_store_request_clear(&q);
	return OC_OK;
}

struct each_cert {
	oc_store_cert_cb cb;
	void *arg;
};

static int
each_cert(const PGresult *res, void *arg)
{
	struct each_cert *e = arg;
	struct oc_store_cert c;
	int r;

	if ((r = row_cert(res, 0, &c)) != OC_OK)
		return r;
	e->cb(&c, e->arg);
	oc_store_cert_clear(&c);
	return OC_OK;
}

/* Filters as fixed SQL: a NULL parameter matches any row (LIMIT NULL: all). */
int
store_pg_request_find(struct oc_store *s, const struct oc_store_request_filter *f,
    size_t limit, oc_store_request_cb cb, void *arg)
{
	static const struct oc_store_request_filter none;
	struct each_req e = { cb, arg };
	struct pgp p = { 0 };

	if (f == NULL)
		f = &none;
	if (f->status)
		pgp_int(&p, f->status);
	else
		pgp_text(&p, NULL);
	pgp_text(&p, f->requester);
	pgp_text(&p, f->template_name);
	if (limit)
		pgp_int(&p, (long long)limit);
	else
		pgp_text(&p, NULL);
	return pg_each(s, "SELECT " REQ_COLUMNS " FROM requests "
	    "WHERE ($1::integer IS NULL OR status = $1) AND ($2::text IS NULL OR requester = $2) "
	    "AND ($3::text IS NULL OR lower(template) = lower($3)) "
	    "ORDER BY submitted DESC, seq DESC LIMIT $4::bigint", &p, each_request, &e);
}

int
store_pg_cert_find(struct oc_store *s, const struct oc_store_cert_filter *f, size_t limit,
    oc_store_cert_cb cb, void *arg)
{
	static const struct oc_store_cert_filter none;
	struct each_cert e = { cb, arg };
	struct pgp p = { 0 };

	if (f == NULL)
		f = &none;
	pgp_text(&p, f->requester);
	pgp_text(&p, f->template_name);
	if (f->expires_before)
		pgp_int(&p, (long long)f->expires_before);
	else
		pgp_text(&p, NULL);
	if (f->revoked)
		pgp_int(&p, f->revoked > 0);
	else
		pgp_text(&p, NULL);
	if (limit)
		pgp_int(&p, (long long)limit);
	else
		pgp_text(&p, NULL);
	return pg_each(s, "SELECT " CERT_COLUMNS " FROM certificates "
	    "WHERE ($1::text IS NULL OR requester = $1) "
	    "AND ($2::text IS NULL OR lower(template) = lower($2)) "
	    "AND ($3::bigint IS NULL OR not_after < $3) AND ($4::integer IS NULL OR revoked = $4) "
	    "ORDER BY seq DESC LIMIT $5::bigint", &p, each_cert, &e);
}

int
store_pg_cert_status(struct oc_store *s, const char *serial_hex, int *revoked, int *reason,
    time_t *revoked_at)
{
	struct pgp p = { 0 };
	PGresult *res = NULL;
	char *serial = NULL;
	int r;

	if ((r = oc_store_serial_normalize(serial_hex, &serial)) != OC_OK)
		return r;
	pgp_text(&p, serial);
	if ((r = pg_run(s, "SELECT revoked, reason, revoked_at FROM certificates WHERE serial = $1",
	    &p, &res, NULL)) != OC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	*revoked = pg_int(res, 0, 0) != 0;
	if (*revoked && reason)
		*reason = (int)pg_int(res, 0, 1);
	if (*revoked && revoked_at)
		*revoked_at = (time_t)pg_int(res, 0, 2);
out:
	PQclear(res);
	free(serial);
	return r;
}

/*
 * Our invariants as queries, each counting the rows that break it: every
 * one is checked and every one that fails is named in the log.
 */
int
store_pg_check(struct oc_store *s)
{
	static const struct {
		const char *what, *sql;
	} inv[] = {
		{ "issued requests without exactly one certificate with their serial",
		  "SELECT count(*) FROM requests r WHERE r.status = 2 AND "
		  "(SELECT count(*) FROM certificates c WHERE c.request_id = r.request_id "
		  "AND c.serial = r.serial) != 1" },
		{ "certificates of requests that are not issued",
		  "SELECT count(*) FROM certificates c JOIN requests r USING (request_id) "
		  "WHERE r.status != 2" },
		{ "certificates of no request",
		  "SELECT count(*) FROM certificates c WHERE c.request_id IS NULL OR NOT EXISTS "
		  "(SELECT 1 FROM requests r WHERE r.request_id = c.request_id)" },
		{ "serials used twice (any case) or not normalised",
		  "SELECT (SELECT count(*) - count(DISTINCT lower(serial)) FROM certificates) + "
		  "(SELECT count(*) FROM certificates WHERE serial !~ '^([0-9a-f][0-9a-f])+$')" },
		{ "RequestIDs out of 1..2^31-1",
		  "SELECT count(*) FROM requests WHERE request_id < 1 OR request_id > 2147483647" },
		{ "revocation columns that disagree",
		  "SELECT count(*) FROM certificates WHERE revoked NOT IN (0, 1) OR "
		  "(revoked = 0 AND (reason IS NOT NULL OR revoked_at IS NOT NULL)) OR "
		  "(revoked = 1 AND (reason IS NULL OR reason NOT IN (0, 1, 2, 3, 4, 5, 6, 9, 10) "
		  "OR revoked_at IS NULL))" },
		{ "delta CRLs without an earlier base",
		  "SELECT count(*) FROM crls WHERE delta = 1 AND "
		  "(base IS NULL OR base >= number)" },
	};
	PGresult *res = NULL;
	long long n;
	int r, bad = 0;

	for (size_t i = 0; i < sizeof(inv) / sizeof(inv[0]); i++) {
		if ((r = pg_run(s, inv[i].sql, NULL, &res, NULL)) != OC_OK)
			return r;
		n = PQntuples(res) == 1 ? pg_int(res, 0, 0) : -1;
		PQclear(res);
		if (n != 0) {
			log_error("store check: %s: %lld", inv[i].what, n);
			bad = 1;
		}
	}
	return bad ? OC_ERR_STORE : OC_OK;
}
