/*
 * The CA store over PostgreSQL (libpq): several CA nodes may share one
 * database. Every statement is parameterised (PQexecParams), DER travels
 * as binary bytea, synchronous_commit is left at the server's default (on).
 * A write commits before it returns (its own transaction), or joins the open
 * batch inside a savepoint. A lost connection gets one reconnect.
 */
#include "store/store.h"
#include "store/store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"

void
pgp_int(struct pgp *p, long long v)
{
	if (p->n >= PGP_MAX)
		abort();
	snprintf(p->num[p->n], sizeof(p->num[p->n]), "%lld", v);
	p->v[p->n] = p->num[p->n];
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void
pgp_text(struct pgp *p, const char *v)
{
	if (p->n >= PGP_MAX)
		abort();
	p->v[p->n] = v;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void
pgp_bytea(struct pgp *p, const uint8_t *b, size_t n)
{
	if (p->n >= PGP_MAX || n > (size_t)INT32_MAX)
		abort();
	p->v[p->n] = (const char *)b;
	p->len[p->n] = (int)n;
	p->fmt[p->n] = 1;
	p->n++;
}

/* Only a read or the start of a transaction may be sent twice. */
static int
retryable(const char *sql)
{
	return strncmp(sql, "SELECT", 6) == 0 || strcmp(sql, "BEGIN") == 0;
}

/* libpq's message on one line (it may span several). */
static const char *
pg_msg(const char *m, char *buf, size_t len)
{
	size_t n = 0;

	for (; m != NULL && *m != '\0' && n + 1 < len; m++)
		buf[n++] = *m == '\n' || *m == '\t' ? ' ' : *m;
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
	return buf;
}

static int
reconnect(struct store_pg *pg)
{
	char msg[512];

	PQreset(pg->conn);
	if (PQstatus(pg->conn) != CONNECTION_OK) {
		log_error("store %s: reconnect failed: %s", pg->shown,
		    pg_msg(PQerrorMessage(pg->conn), msg, sizeof(msg)));
		return OC_ERR_STORE;
	}
	log_info("store %s: reconnected", pg->shown);
	return OC_OK;
}

int
pg_run(struct oc_store *s, const char *sql, const struct pgp *p, PGresult **res,
    long long *affected)
{
	struct store_pg *pg = s->pg;
	PGresult *q = NULL;
	ExecStatusType st;
	const char *state, *n;
	char msg[512];
	int r = OC_ERR_STORE, idle;

	if (res)
		*res = NULL;
	if (affected)
		*affected = 0;
	/* lost earlier and not back yet: one attempt now (a transaction went with it) */
	if (PQstatus(pg->conn) != CONNECTION_OK &&
	    (reconnect(pg) != OC_OK || pg->depth > 0 || s->batch))
		return OC_ERR_STORE;
	for (int attempt = 0; attempt < 2; attempt++) {
		idle = PQtransactionStatus(pg->conn) == PQTRANS_IDLE;
		q = PQexecParams(pg->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL,
		    p ? p->len : NULL, p ? p->fmt : NULL, 0);
		st = PQresultStatus(q);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			break;
		if (PQstatus(pg->conn) == CONNECTION_BAD) {
			log_error("store %s: connection lost: %s", pg->shown,
			    pg_msg(PQerrorMessage(pg->conn), msg, sizeof(msg)));
			PQclear(q);
			q = NULL;
			if (reconnect(pg) != OC_OK || !idle || !retryable(sql) || attempt > 0)
				return OC_ERR_STORE;
			continue;
		}
		state = PQresultErrorField(q, PG_DIAG_SQLSTATE);
		if (state != NULL && strcmp(state, "23505") == 0)
			r = OC_ERR_EXISTS;     /* unique_violation */
		else
			log_error("store: %.60s: %s", sql,
			    pg_msg(PQresultErrorMessage(q), msg, sizeof(msg)));
		PQclear(q);
		return r;
	}
	if (q == NULL)
		return OC_ERR_STORE;
	if (affected) {
		n = PQcmdTuples(q);
		*affected = PQresultStatus(q) == PGRES_TUPLES_OK ? PQntuples(q) :
		    (n && *n ? strtoll(n, NULL, 10) : 0);
	}
	if (res && PQresultStatus(q) == PGRES_TUPLES_OK)
		*res = q;
	else
		PQclear(q);
	return OC_OK;
}

int
pg_each(struct oc_store *s, const char *sql, const struct pgp *p,
    int (*row)(const PGresult *res, void *arg), void *arg)
{
	struct store_pg *pg = s->pg;
	PGresult *q;
	char msg[512];
	size_t rows;
	int r, idle;

	if (PQstatus(pg->conn) != CONNECTION_OK &&
	    (reconnect(pg) != OC_OK || pg->depth > 0 || s->batch))
		return OC_ERR_STORE;
	for (int attempt = 0; attempt < 2; attempt++) {
		idle = PQtransactionStatus(pg->conn) == PQTRANS_IDLE;
		r = OC_OK;
		rows = 0;
		if (!PQsendQueryParams(pg->conn, sql, p ? p->n : 0, NULL, p ? p->v : NULL,
		    p ? p->len : NULL, p ? p->fmt : NULL, 0) || !PQsetSingleRowMode(pg->conn))
			r = OC_ERR_STORE;
		/* every result is read, also after an error, so the connection is free again */
		while ((q = PQgetResult(pg->conn)) != NULL) {
			if (PQresultStatus(q) == PGRES_SINGLE_TUPLE) {
				rows++;
				if (r == OC_OK)
					r = row(q, arg);
			} else if (PQresultStatus(q) != PGRES_TUPLES_OK && r == OC_OK) {
				log_error("store: %.60s: %s", sql,
				    pg_msg(PQresultErrorMessage(q), msg, sizeof(msg)));
				r = OC_ERR_STORE;
			}
			PQclear(q);
		}
		if (PQstatus(pg->conn) != CONNECTION_BAD)
			return r;
		log_error("store %s: connection lost: %s", pg->shown,
		    pg_msg(PQerrorMessage(pg->conn), msg, sizeof(msg)));
		/* sent again only when nothing was handed out yet, outside a transaction */
		if (reconnect(pg) != OC_OK || !idle || rows > 0 || attempt > 0)
			return OC_ERR_STORE;
	}
	return OC_ERR_STORE;
}

int
pg_write_ok(struct oc_store *s)
{
	if (s->batch && PQtransactionStatus(s->pg->conn) != PQTRANS_INTRANS) {
		log_error("store batch was rolled back by an earlier error");
		return OC_ERR_STORE;
	}
	return OC_OK;
}

int
pg_tx_begin(struct oc_store *s)
{
	int r;

	if (s->pg->depth > 0) {
		s->pg->depth++;
		return OC_OK;
	}
	if ((r = pg_write_ok(s)) != OC_OK ||
	    (r = pg_run(s, s->batch ? "SAVEPOINT oc_write" : "BEGIN", NULL, NULL, NULL)) != OC_OK)
		return r;
	s->pg->depth = 1;
	return OC_OK;
}

int
pg_tx_end(struct oc_store *s, int r)
{
	PGTransactionStatusType ts;

	if (s->pg->depth == 0)
		return r == OC_OK ? OC_ERR_INTERNAL : r;
	if (--s->pg->depth > 0)
		return r;
	if (r == OC_OK) {
		if (PQtransactionStatus(s->pg->conn) != PQTRANS_INTRANS)
			r = OC_ERR_STORE;
		else if ((r = pg_run(s, s->batch ? "RELEASE SAVEPOINT oc_write" : "COMMIT", NULL,
		    NULL, NULL)) == OC_OK)
			return OC_OK;
	}
	ts = PQtransactionStatus(s->pg->conn);
	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
		if (s->batch ? (pg_run(s, "ROLLBACK TO SAVEPOINT oc_write", NULL, NULL, NULL) !=
		    OC_OK || pg_run(s, "RELEASE SAVEPOINT oc_write", NULL, NULL, NULL) != OC_OK) :
		    pg_run(s, "ROLLBACK", NULL, NULL, NULL) != OC_OK)
			log_error("rollback failed");
	}
	return r;
}

int
pg_write1(struct oc_store *s, const char *sql, const struct pgp *p, PGresult **res,
    long long *affected)
{
	int r;

	if (!s->batch || s->pg->depth > 0)
		return pg_run(s, sql, p, res, affected);
	if ((r = pg_tx_begin(s)) != OC_OK)
		return r;
	r = pg_run(s, sql, p, res, affected);
	return pg_tx_end(s, r);
}

long long
pg_int(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int
pg_str(const PGresult *res, int row, int col, char **out)
{
	*out = NULL;
	if (PQgetisnull(res, row, col))
		return OC_OK;
	if ((*out = strdup(PQgetvalue(res, row, col))) == NULL)
		return OC_ERR_NOMEM;
	return OC_OK;
}

int
pg_bytea(const PGresult *res, int row, int col, uint8_t **out, size_t *len, size_t max)
{
	unsigned char *b = NULL;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	if (PQgetisnull(res, row, col))
		return OC_OK;
	/* text format: \x and two hex digits a byte */
	if ((size_t)PQgetlength(res, row, col) > 2 + 2 * max)
		return OC_ERR_LIMIT;
	if ((b = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n)) == NULL)
		return OC_ERR_NOMEM;
	if (n > max) {
		PQfreemem(b);
		return OC_ERR_LIMIT;
	}
	if (n > 0 && (*out = malloc(n)) == NULL) {
		PQfreemem(b);
		return OC_ERR_NOMEM;
	}
	if (n > 0)
		memcpy(*out, b, n);
	*len = n;
	PQfreemem(b);
	return OC_OK;
}

/* Server notices ("already exists, skipping") are not ours to print. */
static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("store notice: %s", msg);
}

static void
store_pg_close(struct oc_store *s)
{
	if (s == NULL)
		return;
	if (s->pg != NULL) {
		if (s->batch && s->pg->conn != NULL &&
		    PQtransactionStatus(s->pg->conn) != PQTRANS_IDLE &&
		    pg_run(s, "ROLLBACK", NULL, NULL, NULL) != OC_OK)
			log_error("rollback failed");
		s->batch = 0;
		PQfinish(s->pg->conn);
		if (s->pg->url != NULL)     /* it may hold a password */
			OPENSSL_cleanse(s->pg->url, strlen(s->pg->url));
		free(s->pg->url);
		free(s->pg);
	}
	free(s);
}

int
store_pg_open(const char *url, struct oc_store **sp)
{
	static const char *const keys[] = {
		"connect_timeout", "fallback_application_name", "dbname", NULL,
	};
	const char *vals[4] = { STORE_PG_CONNECT_TIMEOUT, "opences", url, NULL };
	struct oc_store *s = NULL;
	PGresult *res = NULL;
	char msg[512];
	int r = OC_ERR_NOMEM;

	*sp = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->pg = calloc(1, sizeof(*s->pg))) == NULL ||
	    (s->pg->url = strdup(url)) == NULL)
		goto out;
	s->ops = &store_pg_ops;
	oc_store_url_redact(url, s->pg->shown, sizeof(s->pg->shown));
	/* dbname is expanded as the URI; parameters in it override the ones before */
	if ((s->pg->conn = PQconnectdbParams(keys, vals, 1)) == NULL)
		goto out;
	if (PQstatus(s->pg->conn) != CONNECTION_OK) {
		log_error("store %s: %s", s->pg->shown,
		    pg_msg(PQerrorMessage(s->pg->conn), msg, sizeof(msg)));
		r = OC_ERR_STORE;
		goto out;
	}
	PQsetNoticeProcessor(s->pg->conn, pg_notice, NULL);
	if ((r = store_pg_migrate(s)) != OC_OK)
		goto out;
	log_info("store %s (PostgreSQL %d)", s->pg->shown, PQserverVersion(s->pg->conn));
	/* a commit must be durable before a certificate is reported issued */
	if ((r = pg_run(s, "SELECT current_setting('synchronous_commit')", NULL, &res, NULL)) !=
	    OC_OK)
		goto out;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "off") == 0)
		log_warn("store %s: synchronous_commit is off: an issued certificate may be lost "
		    "in a server crash", s->pg->shown);
	PQclear(res);
	*sp = s;
	s = NULL;
	r = OC_OK;
out:
	store_pg_close(s);
	return r;
}

static int
store_pg_batch_begin(struct oc_store *s)
{
	int r;

	if (s->pg->depth > 0)
		return OC_ERR_INVALID;
	if ((r = pg_run(s, "BEGIN", NULL, NULL, NULL)) != OC_OK)
		return r;
	s->batch = 1;
	return OC_OK;
}

static int
store_pg_batch_commit(struct oc_store *s)
{
	PGTransactionStatusType ts = PQtransactionStatus(s->pg->conn);

	s->batch = 0;
	if (ts != PQTRANS_INTRANS) {
		/* an error aborted it, or the connection was lost (and the batch with it) */
		log_error("store batch was rolled back by an earlier error");
		if (ts == PQTRANS_INERROR && pg_run(s, "ROLLBACK", NULL, NULL, NULL) != OC_OK)
			log_error("rollback failed");
		return OC_ERR_STORE;
	}
	if (pg_run(s, "COMMIT", NULL, NULL, NULL) != OC_OK) {
		ts = PQtransactionStatus(s->pg->conn);
		if ((ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) &&
		    pg_run(s, "ROLLBACK", NULL, NULL, NULL) != OC_OK)
			log_error("rollback failed");
		return OC_ERR_STORE;
	}
	return OC_OK;
}

static void
store_pg_batch_rollback(struct oc_store *s)
{
	s->batch = 0;
	if (PQtransactionStatus(s->pg->conn) != PQTRANS_IDLE &&
	    pg_run(s, "ROLLBACK", NULL, NULL, NULL) != OC_OK)
		log_error("rollback failed");
}

const struct store_ops store_pg_ops = {
	.name = "postgresql",
	.close = store_pg_close,
	.batch_begin = store_pg_batch_begin,
	.batch_commit = store_pg_batch_commit,
	.batch_rollback = store_pg_batch_rollback,
	.request_new_fp = store_pg_request_new_fp,
	.request_by_fp = store_pg_request_by_fp,
	.request_set_template = store_pg_request_set_template,
	.request_resolve = store_pg_request_resolve,
	.cert_issue = store_pg_cert_issue,
	.request_get = store_pg_request_get,
	.cert_get = store_pg_cert_get,
	.cert_by_request = store_pg_cert_by_request,
	.serial_exists = store_pg_serial_exists,
	.request_find = store_pg_request_find,
	.cert_find = store_pg_cert_find,
	.cert_revoke = store_pg_cert_revoke,
	.cert_unrevoke = store_pg_cert_unrevoke,
	.cert_status = store_pg_cert_status,
	.audit = store_pg_audit,
	.check = store_pg_check,
	.request_approve = store_pg_request_approve,
	.request_deny = store_pg_request_deny,
	.crl_next_number = store_pg_crl_next_number,
	.crl_record = store_pg_crl_record,
	.crl_last = store_pg_crl_last,
	.crl_entries = store_pg_crl_entries,
	.crl_request = store_pg_crl_request,
	.crl_take_request = store_pg_crl_take_request,
};
