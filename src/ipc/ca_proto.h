/*
 * The messages between a front end and the CA process. The CA trusts the
 * front end for the caller's identity (as a CA trusts a CES allowed to
 * delegate) and re-checks everything else itself.
 */
#ifndef OC_IPC_CA_PROTO_H
#define OC_IPC_CA_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "model/identity.h"

enum oc_ca_msg_type {
	OC_CA_MSG_ISSUE = 1,        /* front -> ca: struct oc_ca_order */
	OC_CA_MSG_QUERY = 2,        /* front -> ca: struct oc_ca_order (request_id, identity) */
	OC_CA_MSG_PING = 3,         /* front -> ca: empty; answered with RESULT */
	OC_CA_MSG_CERT_STATUS = 4,  /* front -> ca: a serial (oc_ca_status_query_encode) */
	OC_CA_MSG_RESULT = 100,     /* ca -> front: struct oc_ca_result */
	OC_CA_MSG_STATUS_RESULT = 101, /* ca -> front: struct oc_ca_cert_status */
};

/* What the CA's records say of a certificate serial. */
enum oc_cert_status {
	OC_CERT_STATUS_GOOD = 1,    /* issued by this CA, not revoked */
	OC_CERT_STATUS_REVOKED = 2, /* revoked (reason, revoked_at) */
	OC_CERT_STATUS_UNKNOWN = 3, /* not in the records */
	OC_CERT_STATUS_ERROR = 4,   /* the CA could not look it up (store failure, bad query) */
};

struct oc_ca_cert_status {
	uint32_t status;            /* enum oc_cert_status */
	uint32_t reason;            /* RFC 5280 CRLReason when revoked, else 0 */
	int64_t revoked_at;         /* seconds since the epoch when revoked, else 0 */
};

/* Request formats, detected from the bytes (pkix_detect_request). */
enum oc_req_format {
	OC_REQ_UNKNOWN = 0,
	OC_REQ_PKCS10 = 1,
	OC_REQ_CMS = 2,             /* PKCS#7/CMS SignedData carrying a PKCS#10 (renewal) */
	OC_REQ_CMC = 3,             /* CMC PKIData carrying a PKCS#10 */
};

#define OC_ORDER_F_RENEWAL_ONLY 0x1u   /* endpoint accepts renewals only */

struct oc_ca_order {
	struct oc_identity requester;
	char *template_hint;        /* from the RST context (CertificateTemplate), may be NULL */
	char *request_attributes;   /* other context items "name:value\n...", may be NULL */
	uint8_t *request;           /* the BinarySecurityToken bytes (DER) */
	size_t request_len;
	uint32_t flags;             /* OC_ORDER_F_* */
	uint32_t request_id;        /* QUERY only */
};

struct oc_ca_result {
	uint32_t disposition;       /* enum oc_disposition */
	uint32_t hresult;           /* 0 when issued/pending */
	uint32_t request_id;        /* 0 = none assigned */
	char *message;              /* disposition message, never NULL after decode */
	uint8_t *cert;              /* issued certificate DER (issued only) */
	size_t cert_len;
	uint8_t *cmc;               /* CMC full PKI response DER, signed by the CA */
	size_t cmc_len;
};

void oc_ca_order_clear(struct oc_ca_order *o);
void oc_ca_result_clear(struct oc_ca_result *r);

int oc_ca_order_encode(const struct oc_ca_order *o, struct ocbuf *b) OC_WUR;
int oc_ca_order_decode(struct ocbuf *b, struct oc_ca_order *o) OC_WUR;
int oc_ca_result_encode(const struct oc_ca_result *r, struct ocbuf *b) OC_WUR;
int oc_ca_result_decode(struct ocbuf *b, struct oc_ca_result *r) OC_WUR;

/* The CERT_STATUS question: the serial in the store's form (lowercase hex). */
int oc_ca_status_query_encode(const char *serial_hex, struct ocbuf *b) OC_WUR;
/* *serial_hex malloc'd; hex digits only, at most OC_SERIAL_HEX_MAX. */
int oc_ca_status_query_decode(struct ocbuf *b, char **serial_hex) OC_WUR;
int oc_ca_cert_status_encode(const struct oc_ca_cert_status *st, struct ocbuf *b) OC_WUR;
/* Checks status (1..4), reason (0..10) and that only REVOKED carries them. */
int oc_ca_cert_status_decode(struct ocbuf *b, struct oc_ca_cert_status *st) OC_WUR;

/*
 * Client side: one round trip on fd (frame tag 0; caller serialises access to
 * fd). type is OC_CA_MSG_ISSUE, OC_CA_MSG_QUERY or OC_CA_MSG_PING. Several
 * threads sharing one socket use ipc/ca_client.h instead.
 */
int oc_ca_call(int fd, uint32_t type, const struct oc_ca_order *o,
    struct oc_ca_result *res) OC_WUR;

#endif
