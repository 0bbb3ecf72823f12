/*
 * The CA's durable store: requests, certificates, audit. SQLite (WAL,
 * synchronous=FULL) today; every write commits before the function returns,
 * except inside a batch (oc_store_batch_begin): then the writes join one
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
void oc_store_close(struct oc_store *s);  /* rolls back an open batch */

/*
 * Group commit. Between oc_store_batch_begin (BEGIN IMMEDIATE) and
 * oc_store_batch_commit (COMMIT, synchronous=FULL) every write function below
 * joins one transaction instead of committing on its own: nothing written in
 * the batch is durable, nor may be reported done, before the commit returns
 * OC_OK. A write that fails inside a batch undoes only its own changes; if
 * SQLite had to abort the whole transaction, every later write and the
 * commit fail (and the batch is gone). On any commit failure nothing of the
 * batch is stored. oc_store_batch_rollback discards an open batch (NULL-safe,
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

/* Append one line to the audit table (no secrets). */
int oc_store_audit(struct oc_store *s, const char *event, const char *actor,
    const char *detail) OC_WUR;

/* Check the database (PRAGMA integrity_check + our own invariants). */
int oc_store_check(struct oc_store *s) OC_WUR;

void oc_store_request_clear(struct oc_store_request *r);
void oc_store_cert_clear(struct oc_store_cert *c);

#endif
