/*
 * MS-WSTEP responses in the Windows CES wire shape (docs/protocol/wstep.md
 * sections 3, 7, 8.2, 9.4-9.6): the RSTRC (issued, pending) and the
 * CertificateEnrollmentWSDetail fault. No whitespace between elements and
 * base64 on one line: cepces rebuilds PEM from the certificate text and
 * refuses any other layout (section 7.2).
 */
#include "wstep/wstep.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/util.h"
#include "model/hresult.h"

#define WSTEP_TOKEN_TYPE_X509 \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
#define WSTEP_VT_PKCS7 \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#PKCS7"
#define WSTEP_ENC_BASE64 \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary"

#define WSTEP_DISP_ISSUED  "Issued"
#define WSTEP_DISP_PENDING "Taken Under Submission"

/* Drop what a failed renderer appended: never leave half a message. */
static void
rewind_to(struct ocbuf *out, size_t start)
{
	out->len = start;
	if (out->d != NULL)
		out->d[start] = '\0';
}

/*
 * Free text from the CA (disposition, fault reason) made safe for XML 1.0:
 * cut at OC_DISPOSITION_MAX bytes on a UTF-8 boundary (a long CA message must
 * not turn an answer into a failure), C0 controls but TAB/LF/CR replaced.
 * Not escaped; *out is malloc'd.
 */
static int
clean_text(const char *s, char **out)
{
	size_t n, i;
	char *c;

	n = strlen(s);
	if (n > OC_DISPOSITION_MAX) {
		n = OC_DISPOSITION_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;            /* s[n] continues a sequence: cut before its lead byte */
	}
	if ((c = strndup(s, n)) == NULL)
		return OC_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)c[i];
		if ((ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') || ch == 0x7f)
			c[i] = '?';
	}
	*out = c;
	return OC_OK;
}

static int
put_text(struct ocbuf *out, const char *s)
{
	char *c = NULL;
	int r;

	if ((r = clean_text(s, &c)) != OC_OK)
		return r;
	r = ocbuf_put_xml(out, c);
	free(c);
	return r;
}

/* <BinarySecurityToken ValueType=.. EncodingType=.. xmlns=wsse>base64</..> */
static int
put_bst(struct ocbuf *out, const char *value_type, const uint8_t *der, size_t len)
{
	char *b64 = NULL;
	int r;

	if ((r = oc_b64_encode(der, len, &b64)) != OC_OK)
		return r;
	r = ocbuf_printf(out, "<BinarySecurityToken ValueType=\"%s\" EncodingType=\"%s\" "
	    "xmlns=\"%s\">%s</BinarySecurityToken>", value_type, WSTEP_ENC_BASE64,
	    OC_NS_WSSE, b64);
	free(b64);
	return r;
}

/* RSTRC start through the outer CMC BST (TokenType, DispositionMessage, BST). */
static int
put_rstr_head(struct ocbuf *out, const char *disposition, const uint8_t *cmc, size_t cmc_len)
{
	int r;

	if ((r = ocbuf_printf(out, "<RequestSecurityTokenResponseCollection xmlns=\"%s\">"
	    "<RequestSecurityTokenResponse><TokenType>%s</TokenType>"
	    "<DispositionMessage xml:lang=\"en-US\" xmlns=\"%s\">",
	    OC_NS_WST, WSTEP_TOKEN_TYPE_X509, OC_NS_WSTEP)) != OC_OK ||
	    (r = put_text(out, disposition)) != OC_OK ||
	    (r = ocbuf_puts(out, "</DispositionMessage>")) != OC_OK)
		return r;
	if (cmc != NULL && cmc_len > 0)
		r = put_bst(out, WSTEP_VT_PKCS7, cmc, cmc_len);
	return r;
}

static int
put_rstr_tail(struct ocbuf *out, uint32_t request_id)
{
	return ocbuf_printf(out, "<RequestID xmlns=\"%s\">%" PRIu32 "</RequestID>"
	    "</RequestSecurityTokenResponse></RequestSecurityTokenResponseCollection>",
	    OC_NS_WSTEP, request_id);
}

static int
check_common(struct ocbuf *out, const uint8_t *cmc, size_t cmc_len)
{
	if (out == NULL || (cmc == NULL && cmc_len > 0))
		return OC_ERR_INVALID;
	if (cmc_len > OC_CMC_DER_MAX)
		return OC_ERR_LIMIT;
	return OC_OK;
}

int
oc_wstep_render_issued(struct ocbuf *out, const char *relates_to, uint32_t request_id,
    const uint8_t *cert, size_t cert_len, const uint8_t *cmc, size_t cmc_len,
    const char *disposition)
{
	size_t start;
	int r;

	if ((r = check_common(out, cmc, cmc_len)) != OC_OK)
		return r;
	if (cert == NULL || cert_len == 0)
		return OC_ERR_INVALID;
	if (cert_len > OC_CERT_DER_MAX)
		return OC_ERR_LIMIT;
	start = out->len;
	if ((r = oc_soap_begin(out, OC_WSTEP_ACTION_RSTRC, relates_to)) != OC_OK ||
	    (r = put_rstr_head(out, disposition ? disposition : WSTEP_DISP_ISSUED,
	    cmc, cmc_len)) != OC_OK ||
	    (r = ocbuf_puts(out, "<RequestedSecurityToken>")) != OC_OK ||
	    (r = put_bst(out, WSTEP_TOKEN_TYPE_X509, cert, cert_len)) != OC_OK ||
	    (r = ocbuf_puts(out, "</RequestedSecurityToken>")) != OC_OK ||
	    (r = put_rstr_tail(out, request_id)) != OC_OK ||
	    (r = oc_soap_end(out)) != OC_OK)
		rewind_to(out, start);
	return r;
}

int
oc_wstep_render_pending(struct ocbuf *out, const char *relates_to, uint32_t request_id,
    const uint8_t *cmc, size_t cmc_len, const char *endpoint_uri,
    const char *disposition)
{
	size_t start;
	int r;

	if ((r = check_common(out, cmc, cmc_len)) != OC_OK)
		return r;
	if (endpoint_uri == NULL || *endpoint_uri == '\0')
		return OC_ERR_INVALID;
	start = out->len;
	if ((r = oc_soap_begin(out, OC_WSTEP_ACTION_RSTRC, relates_to)) != OC_OK ||
	    (r = put_rstr_head(out, disposition ? disposition : WSTEP_DISP_PENDING,
	    cmc, cmc_len)) != OC_OK ||
	    (r = ocbuf_printf(out, "<RequestedSecurityToken><SecurityTokenReference "
	    "xmlns=\"%s\"><Reference URI=\"", OC_NS_WSSE)) != OC_OK ||
	    (r = ocbuf_put_xml(out, endpoint_uri)) != OC_OK ||
	    (r = ocbuf_puts(out, "\"/></SecurityTokenReference></RequestedSecurityToken>")) != OC_OK ||
	    (r = put_rstr_tail(out, request_id)) != OC_OK ||
	    (r = oc_soap_end(out)) != OC_OK)
		rewind_to(out, start);
	return r;
}

/* CertificateEnrollmentWSDetail (section 8.1), children in schema order. */
static int
put_fault_detail(struct ocbuf *d, uint32_t hresult, int invalid_request, uint32_t request_id,
    const uint8_t *binary_response, size_t binary_response_len)
{
	char *b64 = NULL;
	int r;

	if ((r = ocbuf_printf(d, "<CertificateEnrollmentWSDetail xmlns=\"%s\" xmlns:xsd=\"%s\" "
	    "xmlns:xsi=\"%s\">", OC_NS_WSTEP, OC_NS_XSD, OC_NS_XSI)) != OC_OK)
		goto out;
	if (binary_response != NULL && binary_response_len > 0) {
		if ((r = oc_b64_encode(binary_response, binary_response_len, &b64)) != OC_OK ||
		    (r = ocbuf_printf(d, "<BinaryResponse>%s</BinaryResponse>", b64)) != OC_OK)
			goto out;
	} else if ((r = ocbuf_puts(d, "<BinaryResponse xsi:nil=\"true\"/>")) != OC_OK)
		goto out;
	if (hresult != OC_HR_S_OK)
		r = ocbuf_printf(d, "<ErrorCode>%" PRId32 "</ErrorCode>", oc_hresult_to_int(hresult));
	else
		r = ocbuf_puts(d, "<ErrorCode xsi:nil=\"true\"/>");
	if (r != OC_OK ||
	    (r = ocbuf_printf(d, "<InvalidRequest>%s</InvalidRequest>",
	    invalid_request ? "true" : "false")) != OC_OK)
		goto out;
	if (request_id != 0)
		r = ocbuf_printf(d, "<RequestID>%" PRIu32 "</RequestID>", request_id);
	else
		r = ocbuf_puts(d, "<RequestID xsi:nil=\"true\"/>");
	if (r != OC_OK)
		goto out;
	r = ocbuf_puts(d, "</CertificateEnrollmentWSDetail>");
out:
	free(b64);
	return r;
}

int
oc_wstep_render_fault(struct ocbuf *out, const char *relates_to, const char *code,
    const char *reason, uint32_t hresult, int invalid_request, uint32_t request_id,
    const uint8_t *binary_response, size_t binary_response_len)
{
	struct ocbuf d;
	char *text = NULL;
	size_t start;
	int r;

	if (out == NULL || (binary_response == NULL && binary_response_len > 0))
		return OC_ERR_INVALID;
	if (code == NULL)
		code = "s:Receiver";
	if (strcmp(code, "s:Receiver") != 0 && strcmp(code, "s:Sender") != 0)
		return OC_ERR_INVALID;
	if (binary_response_len > OC_CMC_DER_MAX)
		return OC_ERR_LIMIT;
	ocbuf_init(&d, OC_CMC_DER_MAX / 3 * 4 + 1024);
	start = out->len;
	if ((r = put_fault_detail(&d, hresult, invalid_request, request_id,
	    binary_response, binary_response_len)) != OC_OK)
		goto out;
	if ((r = clean_text(reason ? reason : "", &text)) != OC_OK)
		goto out;
	if ((r = oc_soap_fault(out, OC_WSTEP_ACTION_FAULT, relates_to, code, NULL,
	    text, (const char *)ocbuf_ptr(&d))) != OC_OK)
		rewind_to(out, start);
out:
	free(text);
	ocbuf_free(&d);
	return r;
}
