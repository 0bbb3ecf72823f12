/*
 * Writes of the PostgreSQL store: requests, decisions, certificates,
 * revocation, audit. Each commits before it returns, or joins the open batch
 * inside a savepoint. Rows another CA node may change at the same moment are
 * read FOR UPDATE; RequestIDs and serials are unique by constraint (ON
 * CONFLICT DO NOTHING: the caller, or the loop here, draws another).
 */
#include "store/store.h"
#include "store/store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "common/log.h"
#include "model/hresult.h"

int
store_pg_request_new_fp(struct oc_store *s, const char *requester, const char *template_name,
    const uint8_t *der, size_t der_len, const uint8_t *fp, uint32_t *request_id)
{
	struct pgp p;
	long long n = 0;
	uint32_t id = 0;
	int r;

	if (der_len > OC_REQUEST_DER_MAX)
		return OC_ERR_LIMIT;
	if ((r = pg_write_ok(s)) != OC_OK)
		return r;
	for (int attempt = 0; attempt < STORE_ID_ATTEMPTS; attempt++) {
		if ((r = store_draw_request_id(&id)) != OC_OK)
			return r;
		memset(&p, 0, sizeof(p));
		pgp_int(&p, id);
		pgp_text(&p, requester);
		pgp_text(&p, template_name);
		pgp_int(&p, OC_REQ_STATUS_PENDING);
		pgp_bytea(&p, der_len ? der : NULL, der_len);
		pgp_int(&p, (long long)time(NULL));
		pgp_bytea(&p, fp, fp ? OC_STORE_FP_LEN : 0);
		if ((r = pg_write1(s, "INSERT INTO requests (request_id, requester, template, "
		    "status, hresult, request_der, submitted, fingerprint) "
		    "VALUES ($1, $2, $3, $4, 0, $5, $6, $7) ON CONFLICT (request_id) DO NOTHING",
		    &p, NULL, &n)) != OC_OK)
			return r;
		if (n == 1) {
			*request_id = id;
			return OC_OK;
		}
		/* RequestID taken (here or by another node): draw again */
	}
	log_error("no free RequestID after %d attempts", STORE_ID_ATTEMPTS);
	return OC_ERR_STORE;
}

int
store_pg_request_resolve(struct oc_store *s, uint32_t request_id, int status,
    uint32_t hresult, const char *disposition)
{
	struct pgp p = { 0 };
	long long n = 0;
	int r;

	pgp_int(&p, status);
	pgp_int(&p, hresult);
	pgp_text(&p, disposition);
	pgp_int(&p, (long long)time(NULL));
	pgp_int(&p, request_id);
	pgp_int(&p, OC_REQ_STATUS_PENDING);
	if ((r = pg_write1(s, "UPDATE requests SET status = $1, hresult = $2, disposition = $3, "
	    "resolved = $4 WHERE request_id = $5 AND status = $6", &p, NULL, &n)) != OC_OK)
		return r;
	/* only an undecided request can be resolved */
	return n == 1 ? OC_OK : OC_ERR_NOT_FOUND;
}

int
store_pg_request_set_template(struct oc_store *s, uint32_t request_id, const char *template_name)
{
	struct pgp p = { 0 };
	long long n = 0;
	int r;

	pgp_text(&p, template_name);
	pgp_int(&p, request_id);
	if ((r = pg_write1(s, "UPDATE requests SET template = $1 WHERE request_id = $2", &p, NULL,
	    &n)) != OC_OK)
		return r;
	return n == 1 ? OC_OK : OC_ERR_NOT_FOUND;
}

int
store_pg_cert_issue(struct oc_store *s, uint32_t request_id, const struct oc_store_cert *c,
    const char *disposition)
{
	struct pgp p = { 0 };
	PGresult *res = NULL;
	long long n = 0;
	int r;

	if (c->der_len > OC_CERT_DER_MAX)
		return OC_ERR_LIMIT;
	if ((r = pg_tx_begin(s)) != OC_OK)
		return r;
	/* the request row stays locked until commit: one certificate per request */
	pgp_int(&p, request_id);
	if ((r = pg_run(s, "SELECT status FROM requests WHERE request_id = $1 FOR UPDATE", &p,
	    &res, NULL)) != OC_OK)
		goto out;
	if (PQntuples(res) != 1)
		r = OC_ERR_NOT_FOUND;
	else if (pg_int(res, 0, 0) != OC_REQ_STATUS_PENDING)
		r = OC_ERR_INVALID;
	PQclear(res);
	if (r != OC_OK)
		goto out;
	memset(&p, 0, sizeof(p));
	pgp_text(&p, c->serial_hex);
	pgp_int(&p, request_id);
	pgp_text(&p, c->requester);
	pgp_text(&p, c->template_name);
	pgp_text(&p, c->subject);
	pgp_int(&p, (long long)c->not_before);
	pgp_int(&p, (long long)c->not_after);
	pgp_bytea(&p, c->der, c->der_len);
	if ((r = pg_run(s, "INSERT INTO certificates (serial, request_id, requester, template, "
	    "subject, not_before, not_after, der, revoked) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0) ON CONFLICT (serial) DO NOTHING", &p, NULL,
	    &n)) != OC_OK)
		goto out;
	if (n != 1) {
		r = OC_ERR_EXISTS;      /* the serial is taken: the caller draws another */
		goto out;
	}
	memset(&p, 0, sizeof(p));
	pgp_int(&p, OC_REQ_STATUS_ISSUED);
	pgp_text(&p, disposition);
	pgp_int(&p, (long long)time(NULL));
	pgp_text(&p, c->serial_hex);
	pgp_int(&p, request_id);
	if ((r = pg_run(s, "UPDATE requests SET status = $1, hresult = 0, disposition = $2, "
	    "resolved = $3, serial = $4 WHERE request_id = $5", &p, NULL, &n)) != OC_OK)
		goto out;
	if (n != 1) {
		log_error("mark request %u issued: no row", request_id);
		r = OC_ERR_STORE;
	}
out:
	return pg_tx_end(s, r);
}

int
store_pg_audit(struct oc_store *s, const char *event, const char *actor, const char *detail)
{
	struct pgp p = { 0 };

	pgp_int(&p, (long long)time(NULL));
	pgp_text(&p, event);
	pgp_text(&p, actor);
	pgp_text(&p, detail);
	return pg_write1(s, "INSERT INTO audit (time, event, actor, detail) "
	    "VALUES ($1, $2, $3, $4)", &p, NULL, NULL);
}

/*
 * One revocation change with its audit line (reason < 0: take off hold),
 * the certificate row locked while its state is checked and written.
 */
static int
change(struct oc_store *s, const char *serial_hex, int reason, time_t when)
{
	char *serial = NULL, detail[OC_SERIAL_HEX_MAX + 128];
	struct pgp p = { 0 };
	PGresult *res = NULL;
	int r, revoked = 0, old = 0;
	long long n = 0;

	if ((r = oc_store_serial_normalize(serial_hex, &serial)) != OC_OK)
		return r;
	if ((r = pg_tx_begin(s)) != OC_OK) {
		free(serial);
		return r;
	}
	pgp_text(&p, serial);
	if ((r = pg_run(s, "SELECT revoked, reason FROM certificates WHERE serial = $1 FOR UPDATE",
	    &p, &res, NULL)) != OC_OK)
		goto out;
	if (PQntuples(res) != 1) {
		PQclear(res);
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	revoked = pg_int(res, 0, 0) != 0;
	old = (int)pg_int(res, 0, 1);
	PQclear(res);
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
		memset(&p, 0, sizeof(p));
		pgp_int(&p, reason);
		pgp_int(&p, (long long)when);
		pgp_text(&p, serial);
		r = pg_run(s, "UPDATE certificates SET revoked = 1, reason = $1, revoked_at = $2 "
		    "WHERE serial = $3", &p, NULL, &n);
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
		memset(&p, 0, sizeof(p));
		pgp_int(&p, (long long)time(NULL));
		pgp_text(&p, serial);
		r = pg_run(s, "UPDATE certificates SET revoked = 0, reason = NULL, "
		    "revoked_at = NULL, unrevoked_at = $1 WHERE serial = $2", &p, NULL, &n);
	}
	if (r == OC_OK && n != 1)
		r = OC_ERR_STORE;
	if (r == OC_OK)
		r = store_pg_audit(s, reason >= 0 ? "revoke" : "unrevoke", NULL, detail);
out:
	free(serial);
	return pg_tx_end(s, r);
}

int
store_pg_cert_revoke(struct oc_store *s, const char *serial_hex, int reason, time_t when)
{
	return change(s, serial_hex, reason, when);
}

int
store_pg_cert_unrevoke(struct oc_store *s, const char *serial_hex)
{
	return change(s, serial_hex, -1, 0);
}

/* An administrator's decision on a pending request, with its audit line. */
static int
decide(struct oc_store *s, uint32_t id, const char *actor, const char *reason, int approve)
{
	char disp[OC_DISPOSITION_MAX], detail[OC_DISPOSITION_MAX + 64];
	struct pgp p = { 0 };
	PGresult *res = NULL;
	long long n = 0;
	int r;

	if (reason != NULL && strlen(reason) > OC_DISPOSITION_MAX - 128)
		return OC_ERR_LIMIT;
	if ((r = pg_tx_begin(s)) != OC_OK)
		return r;
	pgp_int(&p, id);
	if ((r = pg_run(s, "SELECT status, approved FROM requests WHERE request_id = $1 "
	    "FOR UPDATE", &p, &res, NULL)) != OC_OK)
		goto out;
	if (PQntuples(res) != 1)
		r = OC_ERR_NOT_FOUND;
	else if (pg_int(res, 0, 0) != OC_REQ_STATUS_PENDING || (approve && pg_int(res, 0, 1)))
		r = OC_ERR_EXISTS;
	PQclear(res);
	if (r != OC_OK)
		goto out;
	memset(&p, 0, sizeof(p));
	pgp_text(&p, actor);
	if (approve) {
		pgp_int(&p, id);
		r = pg_run(s, "UPDATE requests SET approved = 1, actor = $1, "
		    "disposition = 'Approved, to be issued when retrieved' "
		    "WHERE request_id = $2 AND status = 1", &p, NULL, &n);
		snprintf(detail, sizeof(detail), "request_id=%u approved", id);
	} else {
		snprintf(disp, sizeof(disp), "Denied by %s%s%s", actor, reason ? ": " : "",
		    reason ? reason : "");
		pgp_int(&p, OC_HR_CERTSRV_E_ADMIN_DENIED_REQUEST);
		pgp_text(&p, disp);
		pgp_int(&p, (long long)time(NULL));
		pgp_int(&p, id);
		r = pg_run(s, "UPDATE requests SET actor = $1, status = 3, hresult = $2, "
		    "disposition = $3, resolved = $4 WHERE request_id = $5 AND status = 1",
		    &p, NULL, &n);
		snprintf(detail, sizeof(detail), "request_id=%u denied reason=%s", id,
		    reason ? reason : "");
	}
	if (r == OC_OK && n != 1)
		r = OC_ERR_STORE;
	if (r == OC_OK)
		r = store_pg_audit(s, approve ? "approve" : "admin_deny", actor, detail);
out:
	return pg_tx_end(s, r);
}

int
store_pg_request_approve(struct oc_store *s, uint32_t request_id, const char *actor)
{
	return decide(s, request_id, actor, NULL, 1);
}

int
store_pg_request_deny(struct oc_store *s, uint32_t request_id, const char *actor,
    const char *reason)
{
	return decide(s, request_id, actor, reason, 0);
}
