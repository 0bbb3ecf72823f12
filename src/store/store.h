/*
 * The CA's durable store: requests, certificates, audit. SQLite (WAL,
 * synchronous=FULL) or PostgreSQL (oc_store_open_url, several CA nodes on
 * one database); every write commits before the function returns, except
 * inside a batch (oc_store_batch_begin): then the writes join one
 * transaction that oc_store_batch_commit makes durable (group commit).
 * Only the CA process opens it for writing.
 */
#ifndef OC_STORE_H
#define OC_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

struct oc_store;

enum oc_req_status {
	OC_REQ_STATUS_PENDING = 1,
	OC_REQ_STATUS_ISSUED = 2,
	OC_REQ_STATUS_DENIED = 3,
	OC_REQ_STATUS_FAILED = 4,
};

struct oc_store_request {
	uint32_t request_id;
	char *requester;
	char *template_name;
	int status;                 /* enum oc_req_status */
	uint32_t hresult;
	char *disposition;
	uint8_t *request_der;
	size_t request_der_len;
	time_t submitted, resolved;
	char *serial_hex;           /* certificate serial when issued */
	int approved;               /* PENDING and approved by an administrator (the CA
	                               issues it when the requester retrieves it) */
	char *actor;                /* the administrator who approved or denied, or NULL */
};

struct oc_store_cert {
	char *serial_hex;           /* lowercase hex, no leading zeros stripped */
	uint32_t request_id;
	char *requester;
	char *template_name;
	char *subject;
	time_t not_before, not_after;
	uint8_t *der;
	size_t der_len;
	int revoked;
	int revocation_reason;
	time_t revoked_at;
};

int oc_store_open(const char *path, struct oc_store **sp) OC_WUR;  /* creates schema */
/*
 * Open by location: a file path or sqlite:PATH (SQLite, as oc_store_open),
 * or a libpq connection URI postgresql://... / postgres://... (PostgreSQL:
 * several CA nodes may share one database). oc_store_open also takes such a
 * URI. The schema is created or upgraded at open in both.
 */
int oc_store_open_url(const char *url, struct oc_store **sp) OC_WUR;
/* 1 if url names a PostgreSQL store (postgresql:// or postgres://). */
int oc_store_url_is_pg(const char *url);
/*
 * url with any password replaced by "***" (user:PASSWORD@ and password=
 * in the query), for logs. Truncated to fit out; always NUL-terminated.
 */
void oc_store_url_redact(const char *url, char *out, size_t outlen);
void oc_store_close(struct oc_store *s);  /* rolls back an open batch */

/*
 * Group commit. Between oc_store_batch_begin (BEGIN IMMEDIATE; PostgreSQL:
 * BEGIN, each write in a savepoint) and oc_store_batch_commit (COMMIT,
 * synchronous=FULL; PostgreSQL: synchronous_commit on) every write function below
 * joins one transaction instead of committing on its own: nothing written in
 * the batch is durable, nor may be reported done, before the commit returns
 * OC_OK. A write that fails inside a batch undoes only its own changes; if
 * SQLite had to abort the whole transaction, every later write and the
 * commit fail (and the batch is gone). On any commit failure nothing of the
 * batch is stored (PostgreSQL: a connection lost in the batch takes it along;
 * its commit fails). oc_store_batch_rollback discards an open batch (NULL-safe,
 * no-op without one). Batches do not nest (OC_ERR_INVALID).
 */
int oc_store_batch_begin(struct oc_store *s) OC_WUR;
int oc_store_batch_commit(struct oc_store *s) OC_WUR;
void oc_store_batch_rollback(struct oc_store *s);

/*
 * Allocate a new RequestID (random 31-bit-ish decimal, unique by constraint)
 * and record the request with status PENDING (not yet decided) in one commit.
 */
int oc_store_request_new(struct oc_store *s, const char *requester, const char *template_name,
    const uint8_t *der, size_t der_len, uint32_t *request_id) OC_WUR;
#define OC_STORE_FP_LEN 32
/*
 * Idempotence: oc_store_request_new also recording the request's 32-byte
 * fingerprint (fp NULL: none, the same as oc_store_request_new), and the
 * newest request with that fingerprint submitted at or after since
 * (OC_ERR_NOT_FOUND if none).
 */
int oc_store_request_new_fp(struct oc_store *s, const char *requester,
    const char *template_name, const uint8_t *der, size_t der_len, const uint8_t fp[32],
    uint32_t *request_id) OC_WUR;
int oc_store_request_by_fp(struct oc_store *s, const uint8_t fp[32], time_t since,
    struct oc_store_request *r) OC_WUR;
/* Set the template a request was identified with (the CA decides it after recording). */
int oc_store_request_set_template(struct oc_store *s, uint32_t request_id,
    const char *template_name) OC_WUR;
/* Record a decision without a certificate (denied, failed, still pending). */
int oc_store_request_resolve(struct oc_store *s, uint32_t request_id, int status,
    uint32_t hresult, const char *disposition) OC_WUR;
/*
 * Record an issued certificate and mark the request ISSUED in one transaction.
 * Returns OC_ERR_EXISTS if the serial is already used (caller draws another).
 */
int oc_store_cert_issue(struct oc_store *s, uint32_t request_id, const struct oc_store_cert *c,
    const char *disposition) OC_WUR;

int oc_store_request_get(struct oc_store *s, uint32_t request_id, struct oc_store_request *r) OC_WUR;
int oc_store_cert_get(struct oc_store *s, const char *serial_hex, struct oc_store_cert *c) OC_WUR;
int oc_store_cert_by_request(struct oc_store *s, uint32_t request_id, struct oc_store_cert *c) OC_WUR;
int oc_store_serial_exists(struct oc_store *s, const char *serial_hex, int *exists) OC_WUR;

/* Listing for the admin CLI: calls cb for each row, newest first, up to limit (0 = all). */
typedef void (*oc_store_request_cb)(const struct oc_store_request *r, void *arg);
typedef void (*oc_store_cert_cb)(const struct oc_store_cert *c, void *arg);
int oc_store_request_list(struct oc_store *s, size_t limit, oc_store_request_cb cb, void *arg) OC_WUR;
int oc_store_cert_list(struct oc_store *s, size_t limit, oc_store_cert_cb cb, void *arg) OC_WUR;

/*
 * Revocation. reason is an RFC 5280 CRLReason (enum oc_crl_reason; 7 is
 * unused and removeFromCRL is no reason to revoke: both OC_ERR_INVALID).
 * when = 0 means now. serial_hex: hex digits (any case, stored lowercase).
 * A certificate on hold (certificateHold) may be revoked again with a final
 * reason; any other revoked certificate gives OC_ERR_EXISTS. Unknown serial:
 * OC_ERR_NOT_FOUND. The change and its audit line commit together (or join
 * an open batch).
 */
enum oc_crl_reason {
	OC_CRL_UNSPECIFIED = 0,
	OC_CRL_KEY_COMPROMISE = 1,
	OC_CRL_CA_COMPROMISE = 2,
	OC_CRL_AFFILIATION_CHANGED = 3,
	OC_CRL_SUPERSEDED = 4,
	OC_CRL_CESSATION_OF_OPERATION = 5,
	OC_CRL_CERTIFICATE_HOLD = 6,
	OC_CRL_REMOVE_FROM_CRL = 8,
	OC_CRL_PRIVILEGE_WITHDRAWN = 9,
	OC_CRL_AA_COMPROMISE = 10,
};
int oc_store_cert_revoke(struct oc_store *s, const char *serial_hex, int reason,
    time_t when) OC_WUR;
/*
 * Take a certificate off hold: only a certificate revoked with
 * certificateHold (else OC_ERR_DENIED; not revoked: OC_ERR_INVALID).
 */
int oc_store_cert_unrevoke(struct oc_store *s, const char *serial_hex) OC_WUR;
/*
 * The revocation state alone (no DER copied): *revoked 0/1, *reason and
 * *revoked_at set when revoked (may be NULL). OC_ERR_NOT_FOUND if unknown.
 */
int oc_store_cert_status(struct oc_store *s, const char *serial_hex, int *revoked,
    int *reason, time_t *revoked_at) OC_WUR;
/* RFC 5280 names: "keyCompromise", ... ("unknown" for others; never NULL). */
const char *oc_crl_reason_name(int reason);
/* A reason given as its RFC 5280 name (any case) or its number; a revocable one only. */
int oc_crl_reason_parse(const char *s, int *reason) OC_WUR;
/*
 * A serial as the store keeps it: hex digits only (':' separators allowed),
 * lowercased, an even number of digits, at most OC_SERIAL_HEX_MAX.
 * *out is malloc'd. OC_ERR_INVALID on anything else.
 */
int oc_store_serial_normalize(const char *in, char **out) OC_WUR;

/* Append one line to the audit table (no secrets). */
int oc_store_audit(struct oc_store *s, const char *event, const char *actor,
    const char *detail) OC_WUR;

/*
 * Check the database: our own invariants (every ISSUED request has exactly
 * one certificate with its serial, certificates belong to existing issued
 * requests, serials unique, RequestIDs in range, revocation columns agree),
 * each one violated logged; SQLite also PRAGMA integrity_check and
 * foreign_key_check. OC_ERR_STORE when anything is wrong.
 */
int oc_store_check(struct oc_store *s) OC_WUR;

/*
 * Lifecycle (store_lifecycle.c). An administrator's decision on a request
 * still PENDING: approve marks it approved (it stays PENDING until the CA
 * issues it), deny makes it DENIED with CERTSRV_E_ADMIN_DENIED_REQUEST and
 * the reason as its disposition. actor names the administrator (never
 * NULL). Unknown RequestID: OC_ERR_NOT_FOUND; a request no longer pending
 * (or already approved, for approve): OC_ERR_EXISTS. The change and its
 * audit line commit together.
 */
int oc_store_request_approve(struct oc_store *s, uint32_t request_id, const char *actor) OC_WUR;
int oc_store_request_deny(struct oc_store *s, uint32_t request_id, const char *actor,
    const char *reason) OC_WUR;

/*
 * Listings with filters (NULL / 0 members: no filter), newest first. The
 * callbacks of the listings (and of oc_store_crl_entries) must not call the
 * store: PostgreSQL streams the rows over the handle's one connection.
 */
struct oc_store_request_filter {
	int status;                 /* enum oc_req_status, 0 = any */
	const char *requester, *template_name;
};
int oc_store_request_find(struct oc_store *s, const struct oc_store_request_filter *f,
    size_t limit, oc_store_request_cb cb, void *arg) OC_WUR;
struct oc_store_cert_filter {
	const char *requester, *template_name;  /* exact (template: any case) */
	time_t expires_before;                  /* not_after < this */
	int revoked;                            /* 1 revoked only, -1 unrevoked only, 0 any */
};
int oc_store_cert_find(struct oc_store *s, const struct oc_store_cert_filter *f,
    size_t limit, oc_store_cert_cb cb, void *arg) OC_WUR;

/*
 * CRLs (store_crl.c). Complete and delta CRLs share one CRL number
 * sequence (RFC 5280 5.2.3): oc_store_crl_record takes the number max+1
 * and records what was published (the newest OC_STORE_CRLS_KEPT kept).
 */
#define OC_STORE_CRLS_KEPT 32
struct oc_store_crl_info {
	uint64_t number;
	int delta;                  /* 0 complete, 1 delta */
	uint64_t base;              /* delta: the number of its base CRL */
	time_t this_update, next_update;
	size_t entries;
};
/*
 * Next CRL number (not reserved: with several CA nodes on one PostgreSQL
 * store, another may record it first).
 */
int oc_store_crl_next_number(struct oc_store *s, uint64_t *number) OC_WUR;
/*
 * Record a CRL; info->number must be the next number (else OC_ERR_EXISTS:
 * take the next number again). Never the same number twice, also when two
 * nodes record at the same moment.
 */
int oc_store_crl_record(struct oc_store *s, const struct oc_store_crl_info *info,
    const uint8_t *der, size_t der_len) OC_WUR;
/* The newest complete (delta 0) or delta (1) CRL; OC_ERR_NOT_FOUND if none. */
int oc_store_crl_last(struct oc_store *s, int delta, struct oc_store_crl_info *info) OC_WUR;
/*
 * CRL entries: every revoked certificate (since = 0) or those revoked at or
 * after since, and (removed != NULL, since > 0) those taken off hold at or
 * after since (reason OC_CRL_REMOVE_FROM_CRL, revoked_at = when released).
 * Ordered by serial.
 */
struct oc_store_crl_entry {
	const char *serial_hex;
	int reason;
	time_t revoked_at;
};
typedef int (*oc_store_crl_entry_cb)(const struct oc_store_crl_entry *e, void *arg);
int oc_store_crl_entries(struct oc_store *s, time_t since, int with_removed,
    oc_store_crl_entry_cb cb, void *arg) OC_WUR;
/*
 * On-demand publication: the admin CLI (no CA key) raises a flag, the CA
 * process takes it (reads and clears it atomically) and publishes.
 */
#define OC_STORE_CRL_ASK_FULL  1   /* a complete CRL (and a delta after it) */
#define OC_STORE_CRL_ASK_DELTA 2   /* a delta CRL against the newest complete one */
int oc_store_crl_request(struct oc_store *s, const char *actor, int what) OC_WUR;
/* *asked: the OC_STORE_CRL_ASK_* bits raised since the last take (0: none). */
int oc_store_crl_take_request(struct oc_store *s, int *asked) OC_WUR;

void oc_store_request_clear(struct oc_store_request *r);
void oc_store_cert_clear(struct oc_store_cert *c);

#endif
