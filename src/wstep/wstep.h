/* MS-WSTEP: RequestSecurityToken parsing, RSTRC and fault rendering (docs/protocol/wstep.md). */
#ifndef OC_WSTEP_H
#define OC_WSTEP_H

#include "common/limits.h"

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "soap/soap.h"

#define OC_WSTEP_ACTION_RST    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep"
#define OC_WSTEP_ACTION_RSTRC  "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RSTRC/wstep"
#define OC_WSTEP_ACTION_FAULT  "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RequestSecurityTokenCertificateEnrollmentWSDetailFault"
#define OC_WSTEP_ACTION_KET    "http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/KET"


enum oc_wstep_type {
	OC_WSTEP_ISSUE = 1,
	OC_WSTEP_QUERY = 2,         /* QueryTokenStatus */
	OC_WSTEP_KET = 3,
};

struct oc_wstep_request {
	enum oc_wstep_type type;
	uint8_t *token;             /* decoded BinarySecurityToken (Issue) */
	size_t token_len;
	char *value_type;           /* BST ValueType, may be NULL */
	char *template_hint;        /* AdditionalContext CertificateTemplate value, may be NULL */
	char *context;              /* other context items as "name:value\n", may be NULL */
	int has_request_id;
	uint32_t request_id;        /* wstep:RequestID (QueryTokenStatus) */
};

/*
 * Parse {wst}RequestSecurityToken from msg->payload (req need not be
 * initialised; on error it is left cleared). Errors:
 * OC_ERR_SOAP_ACTION (action not RST/wstep or KET), OC_ERR_SOAP_BODY (not an
 * RST, RequestType missing/nil/unknown or not matching the action, TokenType
 * not X509v3, EncodingType not base64binary, Issue without a token, Query
 * without a decimal 0..4294967295 RequestID, KET without RequestKET),
 * OC_ERR_BASE64 (token not base64), OC_ERR_LIMIT (token, template hint or
 * context too large). AdditionalContext items whose name holds ':' or whose
 * name/value hold control characters are skipped.
 */
int oc_wstep_parse_request(const struct oc_soap_msg *msg, struct oc_wstep_request *req) OC_WUR;
void oc_wstep_request_clear(struct oc_wstep_request *req);

/*
 * Renderers append one complete envelope to out, or nothing on error.
 * relates_to NULL => no a:RelatesTo. cmc may be NULL (no outer CMC BST).
 * disposition/reason NULL => default text; CA text is cut at
 * OC_DISPOSITION_MAX bytes and control characters are replaced.
 */
/* Issued: RSTRC with TokenType, DispositionMessage, CMC BST, RequestedSecurityToken, RequestID. */
int oc_wstep_render_issued(struct ocbuf *out, const char *relates_to, uint32_t request_id,
    const uint8_t *cert, size_t cert_len, const uint8_t *cmc, size_t cmc_len,
    const char *disposition) OC_WUR;
/* Pending: RSTRC with SecurityTokenReference/Reference URI = endpoint_uri. */
int oc_wstep_render_pending(struct ocbuf *out, const char *relates_to, uint32_t request_id,
    const uint8_t *cmc, size_t cmc_len, const char *endpoint_uri,
    const char *disposition) OC_WUR;
/*
 * Fault with CertificateEnrollmentWSDetail (BinaryResponse, ErrorCode as signed
 * decimal, InvalidRequest, RequestID; nil where absent). request_id 0 => nil,
 * hresult 0 => nil. code is "s:Receiver" (also when NULL) or "s:Sender".
 */
int oc_wstep_render_fault(struct ocbuf *out, const char *relates_to, const char *code,
    const char *reason, uint32_t hresult, int invalid_request, uint32_t request_id,
    const uint8_t *binary_response, size_t binary_response_len) OC_WUR;

#endif
