/*
 * CRL bookkeeping in the PostgreSQL store. Several CA nodes may publish:
 * recording a CRL locks the crls table for the transaction, checks the
 * number is max + 1 and inserts it (the primary key is the last word), so
 * two nodes publishing at once never both record the same number: the
 * second gets OC_ERR_EXISTS and takes the next number. Taking the
 * on-demand flag is one DELETE ... RETURNING: one node gets it.
 */
#include "store/store.h"
#include "store/store_pg.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

int
store_pg_crl_next_number(struct oc_store *s, uint64_t *number)
{
	PGresult *res = NULL;
	int r;

	if ((r = pg_run(s, "SELECT coalesce(max(number), 0) + 1 FROM crls", NULL, &res, NULL)) !=
	    OC_OK)
		return r;
	if (PQntuples(res) == 1)
		*number = (uint64_t)pg_int(res, 0, 0);
	else
		r = OC_ERR_STORE;
	PQclear(res);
	return r;
}

int
store_pg_crl_record(struct oc_store *s, const struct oc_store_crl_info *i, const uint8_t *der,
    size_t der_len)
{
	struct pgp p = { 0 };
	uint64_t next = 0;
	int r;

	if ((r = pg_tx_begin(s)) != OC_OK)
		return r;
	if ((r = pg_run(s, "LOCK TABLE crls IN SHARE ROW EXCLUSIVE MODE", NULL, NULL, NULL)) !=
	    OC_OK || (r = store_pg_crl_next_number(s, &next)) != OC_OK)
		goto out;
	if (next != i->number) {
		r = OC_ERR_EXISTS;
		goto out;
	}
	pgp_int(&p, (long long)i->number);
	pgp_int(&p, i->delta ? 1 : 0);
	if (i->delta)
		pgp_int(&p, (long long)i->base);
	else
		pgp_text(&p, NULL);
	pgp_int(&p, (long long)i->this_update);
	pgp_int(&p, (long long)i->next_update);
	pgp_int(&p, (long long)i->entries);
	pgp_bytea(&p, der, der_len);
	if ((r = pg_run(s, "INSERT INTO crls (number, delta, base, this_update, next_update, "
	    "entries, der) VALUES ($1, $2, $3::bigint, $4, $5, $6, $7)", &p, NULL, NULL)) != OC_OK)
		goto out;
	/* keep the newest few (the numbers stay monotonic: max() never shrinks) */
	memset(&p, 0, sizeof(p));
	pgp_int(&p, OC_STORE_CRLS_KEPT);
	r = pg_run(s, "DELETE FROM crls WHERE number <= (SELECT max(number) FROM crls) - $1", &p,
	    NULL, NULL);
out:
	return pg_tx_end(s, r);
}

int
store_pg_crl_last(struct oc_store *s, int delta, struct oc_store_crl_info *i)
{
	struct pgp p = { 0 };
	PGresult *res = NULL;
	int r;

	pgp_int(&p, delta ? 1 : 0);
	if ((r = pg_run(s, "SELECT number, delta, coalesce(base, 0), this_update, next_update, "
	    "entries FROM crls WHERE delta = $1 ORDER BY number DESC LIMIT 1", &p, &res, NULL)) !=
	    OC_OK)
		return r;
	if (PQntuples(res) == 1) {
		i->number = (uint64_t)pg_int(res, 0, 0);
		i->delta = (int)pg_int(res, 0, 1);
		i->base = (uint64_t)pg_int(res, 0, 2);
		i->this_update = (time_t)pg_int(res, 0, 3);
		i->next_update = (time_t)pg_int(res, 0, 4);
		i->entries = (size_t)pg_int(res, 0, 5);
	} else
		r = OC_ERR_NOT_FOUND;
	PQclear(res);
	return r;
}

struct each_entry {
	oc_store_crl_entry_cb cb;
	void *arg;
};

static int
each_entry(const PGresult *res, void *arg)
{
	struct each_entry *x = arg;
	struct oc_store_crl_entry e;

	e.serial_hex = PQgetvalue(res, 0, 0);
	e.reason = (int)pg_int(res, 0, 1);
	e.revoked_at = (time_t)pg_int(res, 0, 2);
	return x->cb(&e, x->arg);
}

int
store_pg_crl_entries(struct oc_store *s, time_t since, int with_removed,
    oc_store_crl_entry_cb cb, void *arg)
{
	struct each_entry x = { cb, arg };
	struct pgp p = { 0 };

	pgp_int(&p, (long long)since);
	pgp_text(&p, with_removed && since > 0 ? "true" : "false");
	return pg_each(s, "SELECT serial, reason, at FROM ("
	    "SELECT serial, reason, revoked_at AS at FROM certificates "
	    "WHERE revoked = 1 AND revoked_at >= $1 "
	    "UNION ALL SELECT serial, 8, unrevoked_at FROM certificates "
	    "WHERE $2::boolean AND revoked = 0 AND unrevoked_at IS NOT NULL AND unrevoked_at >= $1"
	    ") e ORDER BY serial COLLATE \"C\"", &p, each_entry, &x);
}

int
store_pg_crl_request(struct oc_store *s, const char *actor, int what)
{
	char detail[32];
	struct pgp p = { 0 };
	int r;

	snprintf(detail, sizeof(detail), "%s%s", what & OC_STORE_CRL_ASK_FULL ? "complete " : "",
	    what & OC_STORE_CRL_ASK_DELTA ? "delta" : "");
	if ((r = pg_tx_begin(s)) != OC_OK)
		return r;
	pgp_int(&p, what);
	if ((r = pg_run(s, "INSERT INTO ca_state (name, value) VALUES ('crl_publish', $1) "
	    "ON CONFLICT (name) DO UPDATE SET value = ca_state.value | excluded.value", &p, NULL,
	    NULL)) == OC_OK)
		r = store_pg_audit(s, "crl_publish_request", actor, detail);
	return pg_tx_end(s, r);
}

int
store_pg_crl_take_request(struct oc_store *s, int *asked)
{
	PGresult *res = NULL;
	int r;

	if ((r = pg_write_ok(s)) != OC_OK)
		return r;
	if ((r = pg_write1(s, "DELETE FROM ca_state WHERE name = 'crl_publish' RETURNING value",
	    NULL, &res, NULL)) != OC_OK)
		return r;
	if (res != NULL && PQntuples(res) == 1)
		*asked = (int)pg_int(res, 0, 0);
	PQclear(res);
	return OC_OK;
}
