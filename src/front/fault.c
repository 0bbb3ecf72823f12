/*
 * The one place where an error becomes a SOAP fault (or an HTTP status).
 * Shapes follow docs/protocol/xcep.md 5.1 (WCF-style faults) and
 * docs/protocol/wstep.md 8 (CertificateEnrollmentWSDetail).
 */
#include "front/front_internal.h"

#include <string.h>

#include "common/log.h"
#include "model/hresult.h"
#include "wstep/wstep.h"

#define ACTION_ADDR_FAULT "http://www.w3.org/2005/08/addressing/soap/fault"
/* WCF subcodes; the renderer declares their namespaces (src/soap/soap_render.c). */
#define SUB_INVALID_SECURITY     "a:InvalidSecurity"
#define SUB_ACTION_NOT_SUPPORTED "a:ActionNotSupported"
#define SUB_INTERNAL             "a:InternalServiceFault"

_Thread_local int oc_front_outcome = -1;

int
oc_front_err_outcome(int err)
{
	switch (err) {
	case OC_ERR_AUTH:
	case OC_ERR_AUTH_MISSING:
		return OC_METRICS_UNAUTHORIZED;
	case OC_ERR_IPC:
	case OC_ERR_UNAVAILABLE:
		return OC_METRICS_BUSY;
	case OC_ERR_SOAP_VERSION:
	case OC_ERR_SOAP_ACTION:
	case OC_ERR_SOAP_HEADER:
	case OC_ERR_SOAP_BODY:
	case OC_ERR_XML_DTD:
	case OC_ERR_XML:
	case OC_ERR_LIMIT:
	case OC_ERR_BASE64:
		return OC_METRICS_BAD_REQUEST;
	default:
		return OC_METRICS_FAULT;
	}
}

void
oc_front_plain(struct oc_http_response *resp, int status, const char *text)
{
	resp->status = status;
	resp->content_type = "text/plain; charset=utf-8";
	ocbuf_reset(&resp->body);
	if (ocbuf_puts(&resp->body, text) != OC_OK)
		ocbuf_reset(&resp->body);
}

struct fault_row {
	int err;
	const char *code;           /* s:Sender / s:Receiver / s:VersionMismatch */
	const char *subcode;        /* rendered s:Subcode content, may be NULL */
	const char *reason;
	uint32_t hresult;           /* CES ErrorCode */
	int invalid_request;
};

/* Error -> fault table. Authentication failures are one row: same answer for all causes. */
static const struct fault_row fault_rows[] = {
	{ OC_ERR_AUTH, "s:Sender", SUB_INVALID_SECURITY,
	  "An error occurred when verifying security for the message.", OC_HR_E_ACCESSDENIED, 0 },
	{ OC_ERR_AUTH_MISSING, "s:Sender", SUB_INVALID_SECURITY,
	  "An error occurred when verifying security for the message.", OC_HR_E_ACCESSDENIED, 0 },
	{ OC_ERR_SOAP_VERSION, "s:VersionMismatch", NULL,
	  "The message is not a SOAP 1.2 envelope.", OC_HR_E_INVALIDARG, 1 },
	{ OC_ERR_SOAP_ACTION, "s:Sender", SUB_ACTION_NOT_SUPPORTED,
	  "The message action is not supported by this endpoint.", OC_HR_E_INVALIDARG, 1 },
	{ OC_ERR_SOAP_HEADER, "s:Sender", NULL,
	  "The SOAP header is malformed or has a mustUnderstand header that is not understood.",
	  OC_HR_E_INVALIDARG, 1 },
	{ OC_ERR_SOAP_BODY, "s:Sender", NULL,
	  "The SOAP body is not a valid request for this service.", OC_HR_E_INVALIDARG, 1 },
	{ OC_ERR_XML_DTD, "s:Sender", NULL,
	  "Document type declarations and entities are not allowed.", OC_HR_E_INVALIDARG, 1 },
	{ OC_ERR_XML, "s:Sender", NULL, "The message is not well-formed XML.", OC_HR_E_INVALIDARG, 1 },
	{ OC_ERR_LIMIT, "s:Sender", NULL, "The message exceeds a size limit.", OC_HR_E_INVALIDARG, 1 },
	{ OC_ERR_BASE64, "s:Sender", NULL,
	  "The BinarySecurityToken is not valid base64.", OC_HR_CRYPT_E_ASN1_BADTAG, 1 },
	{ OC_ERR_IPC, "s:Receiver", SUB_INTERNAL,
	  "The certification authority is not available.", OC_HR_RPC_S_SERVER_UNAVAILABLE, 0 },
	{ OC_ERR_UNAVAILABLE, "s:Receiver", SUB_INTERNAL,
	  "The service is temporarily unavailable.", OC_HR_RPC_S_SERVER_UNAVAILABLE, 0 },
	{ OC_ERR_NOT_SUPPORTED, "s:Receiver", NULL,
	  "Key archival is not configured on this certification authority.",
	  OC_HR_CERTSRV_E_KEY_ARCHIVAL_NOT_CONFIGURED, 0 },
};

static const struct fault_row fault_default = {
	0, "s:Receiver", SUB_INTERNAL, "The server was unable to process the request.",
	OC_HR_E_FAIL, 0
};

void
oc_front_fault_err(struct oc_http_response *resp, enum oc_service svc,
    const char *relates_to, int err)
{
	const struct fault_row *row = &fault_default;
	int r;

	oc_front_outcome = oc_front_err_outcome(err);
	for (size_t i = 0; i < sizeof(fault_rows) / sizeof(fault_rows[0]); i++)
		if (fault_rows[i].err == err) {
			row = &fault_rows[i];
			break;
		}
	resp->status = 500;
	resp->content_type = "application/soap+xml; charset=utf-8";
	ocbuf_reset(&resp->body);
	/*
	 * Security, version and addressing faults come from the SOAP stack on
	 * Windows (no CES detail); everything else on a CES endpoint carries
	 * CertificateEnrollmentWSDetail with its HRESULT.
	 */
	if (svc == OC_SERVICE_CES && row->subcode == NULL &&
	    strcmp(row->code, "s:VersionMismatch") != 0)
		r = oc_wstep_render_fault(&resp->body, relates_to, row->code, row->reason,
		    row->hresult, row->invalid_request, 0, NULL, 0);
	else
		r = oc_soap_fault(&resp->body, ACTION_ADDR_FAULT, relates_to, row->code,
		    row->subcode, row->reason, NULL);
	if (r != OC_OK) {
		error_fr(r, "fault rendering");
		oc_front_plain(resp, 500, "internal error\n");
	}
}

void
oc_front_fault_ca(struct oc_http_response *resp, const char *relates_to, uint32_t hresult,
    uint32_t request_id, const char *message, const uint8_t *cmc, size_t cmc_len)
{
	int r;

	oc_front_outcome = OC_METRICS_DENIED;
	resp->status = 500;
	resp->content_type = "application/soap+xml; charset=utf-8";
	ocbuf_reset(&resp->body);
	r = oc_wstep_render_fault(&resp->body, relates_to, "s:Receiver",
	    message && *message ? message : "Denied by policy.", hresult ? hresult : OC_HR_E_FAIL,
	    1, request_id, cmc, cmc_len);
	if (r != OC_OK) {
		error_fr(r, "fault rendering");
		oc_front_plain(resp, 500, "internal error\n");
	}
}
