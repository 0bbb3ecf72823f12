/*
 * MS-WSTEP client side: the RST Issue request (docs/protocol/wstep.md 9.1,
 * with the WS-Security UsernameToken of 4.2 / xcep.md 1.5) and the parsing of
 * what a CES answers: an RSTRC carrying the issued certificate (9.4), a
 * pending RSTRC (9.5) or a SOAP fault (9.6).
 */
#include "client/client.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "common/limits.h"
#include "common/log.h"
#include "soap/soap.h"

#define WSTEP_ACTION_RST   "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/RST/wstep"
#define WSTEP_TOKEN_TYPE   "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
#define WSTEP_REQ_ISSUE    "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue"
#define WSTEP_VT_PKCS10    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10"
#define WSTEP_ENC_BASE64   "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary"
#define WSTEP_TS_SECONDS   300

void
client_fault_clear(struct client_fault *f)
{
	if (f == NULL)
		return;
	free(f->code);
	free(f->subcode);
	free(f->reason);
	free(f->request_id);
	memset(f, 0, sizeof(*f));
	f->invalid_request = -1;
}

void
client_rstrc_clear(struct client_rstrc *r)
{
	if (r == NULL)
		return;
	free(r->cert_der);
	free(r->request_id);
	free(r->reference_uri);
	free(r->disposition);
	client_fault_clear(&r->fault);
	memset(r, 0, sizeof(*r));
	r->fault.invalid_request = -1;
}

/*
 * The envelope start and the whole header: Action (mustUnderstand), MessageID,
 * To (mustUnderstand) as cepces sends them, and when user != NULL the
 * Windows-shaped wsse:Security (Timestamp + UsernameToken, PasswordText).
 * The caller continues with <s:Body>.
 */
int
client_soap_header(struct ocbuf *out, const char *action, const char *message_id,
    const char *to, const char *user, const char *password, time_t now)
{
	char created[32], expires[32], tokid[CLIENT_UUID_URN_LEN];
	int r;

	if ((r = ocbuf_puts(out,
	    "<s:Envelope xmlns:s=\"" OC_NS_SOAP12 "\" xmlns:a=\"" OC_NS_WSA "\""
	    " xmlns:o=\"" OC_NS_WSSE "\" xmlns:u=\"" OC_NS_WSU "\">"
	    "<s:Header><a:Action s:mustUnderstand=\"1\">")) != OC_OK ||
	    (r = ocbuf_put_xml(out, action)) != OC_OK ||
	    (r = ocbuf_puts(out, "</a:Action><a:MessageID>")) != OC_OK ||
	    (r = ocbuf_put_xml(out, message_id)) != OC_OK ||
	    (r = ocbuf_puts(out, "</a:MessageID><a:To s:mustUnderstand=\"1\">")) != OC_OK ||
	    (r = ocbuf_put_xml(out, to)) != OC_OK ||
	    (r = ocbuf_puts(out, "</a:To>")) != OC_OK)
		return r;
	if (user != NULL) {
		if ((r = client_uuid_urn(tokid)) != OC_OK)
			return r;
		oc_time_iso8601(now, created, sizeof(created));
		oc_time_iso8601(now + WSTEP_TS_SECONDS, expires, sizeof(expires));
		if ((r = ocbuf_printf(out,
		    "<o:Security s:mustUnderstand=\"1\"><u:Timestamp u:Id=\"_0\">"
		    "<u:Created>%s</u:Created><u:Expires>%s</u:Expires></u:Timestamp>"
		    "<o:UsernameToken u:Id=\"uuid-%s-1\"><o:Username>",
		    created, expires, tokid + strlen("urn:uuid:"))) != OC_OK ||
		    (r = ocbuf_put_xml(out, user)) != OC_OK ||
		    (r = ocbuf_puts(out, "</o:Username><o:Password o:Type=\""
		    OC_PASSWORD_TEXT_TYPE "\">")) != OC_OK ||
		    (r = ocbuf_put_xml(out, password ? password : "")) != OC_OK ||
		    (r = ocbuf_puts(out, "</o:Password></o:UsernameToken></o:Security>")) != OC_OK)
			return r;
	}
	return ocbuf_puts(out, "</s:Header>");
}

int
client_wstep_build_issue(struct ocbuf *out, const char *to, const char *message_id,
    const char *user, const char *password, const uint8_t *csr_der, size_t csr_len,
    time_t now)
{
	char *b64 = NULL;
	size_t n, i;
	int r;

	if (csr_len == 0 || csr_len > OC_REQUEST_DER_MAX)
		return OC_ERR_INVALID;
	if ((r = oc_b64_encode(csr_der, csr_len, &b64)) != OC_OK)
		return r;
	if ((r = client_soap_header(out, WSTEP_ACTION_RST, message_id, to, user,
	    password, now)) != OC_OK)
		goto out;
	if ((r = ocbuf_puts(out, "<s:Body><wst:RequestSecurityToken xmlns:wst=\"" OC_NS_WST "\">"
	    "<wst:TokenType>" WSTEP_TOKEN_TYPE "</wst:TokenType>"
	    "<wst:RequestType>" WSTEP_REQ_ISSUE "</wst:RequestType>"
	    "<o:BinarySecurityToken ValueType=\"" WSTEP_VT_PKCS10 "\" EncodingType=\""
	    WSTEP_ENC_BASE64 "\" u:Id=\"\">")) != OC_OK)
		goto out;
	/* the PEM body as cepces sends it: 64-column lines separated by "\n" */
	n = strlen(b64);
	for (i = 0; i < n; i += 64) {
		if (i > 0 && (r = ocbuf_putc(out, '\n')) != OC_OK)
			goto out;
		if ((r = ocbuf_put(out, b64 + i, n - i < 64 ? n - i : 64)) != OC_OK)
			goto out;
	}
	r = ocbuf_puts(out, "</o:BinarySecurityToken></wst:RequestSecurityToken>"
	    "</s:Body></s:Envelope>");
out:
	free(b64);
	return r;
}

/* Signed decimal (xs:int) or 0x-hex HRESULT. */
static int
parse_hresult(const char *s, uint32_t *hr)
{
	char *end = NULL;
	long long v;

	if (s == NULL || *s == '\0')
		return OC_ERR_PARSE;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		unsigned long long u;
		if (s[2] == '\0' || strchr(s + 2, '-') || strchr(s + 2, '+') || strchr(s + 2, ' '))
			return OC_ERR_PARSE;
		u = strtoull(s + 2, &end, 16);
		if (*end != '\0' || u > 0xffffffffULL)
			return OC_ERR_PARSE;
		*hr = (uint32_t)u;
		return OC_OK;
	}
	if (s[0] != '-' && (s[0] < '0' || s[0] > '9'))
		return OC_ERR_PARSE;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || v < INT32_MIN || v > (long long)UINT32_MAX)
		return OC_ERR_PARSE;
	*hr = (uint32_t)(int64_t)v;
	return OC_OK;
}

int
client_fault_parse(xmlNodePtr fault, struct client_fault *f)
{
	xmlNodePtr code, sub, reason, text, detail, wsd, n;
	char *s = NULL;
	int r;

	client_fault_clear(f);
	if (!oc_xml_is(fault, OC_NS_SOAP12, "Fault"))
		return OC_ERR_SOAP_BODY;
	if ((code = oc_xml_child(fault, OC_NS_SOAP12, "Code")) != NULL) {
		if ((r = client_node_str(oc_xml_child(code, OC_NS_SOAP12, "Value"),
		    OC_DISPOSITION_MAX, &f->code)) != OC_OK && r != OC_ERR_NOT_FOUND)
			goto out;
		if ((sub = oc_xml_child(code, OC_NS_SOAP12, "Subcode")) != NULL &&
		    (r = client_node_str(oc_xml_child(sub, OC_NS_SOAP12, "Value"),
		    OC_DISPOSITION_MAX, &f->subcode)) != OC_OK && r != OC_ERR_NOT_FOUND)
			goto out;
	}
	reason = oc_xml_child(fault, OC_NS_SOAP12, "Reason");
	text = reason ? oc_xml_child(reason, OC_NS_SOAP12, "Text") : NULL;
	if (text != NULL) {
		/* a reason can be long (Windows appends the HRESULT name): cap it */
		if ((s = oc_xml_text(text)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		if (strlen(s) > 4 * OC_DISPOSITION_MAX)
			s[4 * OC_DISPOSITION_MAX] = '\0';
		f->reason = s;
		s = NULL;
	} else if ((f->reason = strdup("")) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if ((detail = oc_xml_child(fault, OC_NS_SOAP12, "Detail")) != NULL &&
	    (wsd = oc_xml_child(detail, OC_NS_WSTEP, "CertificateEnrollmentWSDetail")) != NULL) {
		if ((n = oc_xml_child(wsd, OC_NS_WSTEP, "ErrorCode")) != NULL &&
		    !oc_xml_is_nil(n)) {
			if ((s = oc_xml_text(n)) == NULL) {
				r = OC_ERR_NOMEM;
				goto out;
			}
			if (parse_hresult(s, &f->error_code) == OC_OK)
				f->has_error_code = 1;
			free(s);
			s = NULL;
		}
		if ((n = oc_xml_child(wsd, OC_NS_WSTEP, "InvalidRequest")) != NULL &&
		    !oc_xml_is_nil(n)) {
			int b;
			if (client_node_bool(n, &b) == OC_OK)
				f->invalid_request = b;
		}
		if ((n = oc_xml_child(wsd, OC_NS_WSTEP, "RequestID")) != NULL &&
		    !oc_xml_is_nil(n) &&
		    (r = client_node_str(n, OC_SOAP_MAX_ID, &f->request_id)) != OC_OK)
			goto out;
	}
	r = OC_OK;
out:
	free(s);
	if (r != OC_OK)
		client_fault_clear(f);
	return r;
}

int
client_is_soap_fault(const uint8_t *p, size_t len)
{
	struct oc_soap_msg msg;
	int yes = 0;

	memset(&msg, 0, sizeof(msg));
	if (oc_soap_parse(p, len, &msg) == OC_OK && msg.payload != NULL &&
	    oc_xml_is(msg.payload, OC_NS_SOAP12, "Fault"))
		yes = 1;
	oc_soap_msg_clear(&msg);
	return yes;
}

/* Attribute by local name, unqualified or in namespace ns. */
static char *
attr_get(xmlNodePtr n, const char *name, const char *ns)
{
	xmlChar *v;
	char *s;

	if ((v = xmlGetNoNsProp(n, (const xmlChar *)name)) == NULL && ns != NULL)
		v = xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)ns);
	if (v == NULL)
		return NULL;
	s = strdup((const char *)v);
	xmlFree(v);
	return s;
}

static int
parse_rstr(xmlNodePtr rstr, struct client_rstrc *r)
{
	xmlNodePtr rst, bst, str, ref, n;
	char *text = NULL;
	const unsigned char *dp;
	X509 *x = NULL;
	int rc;

	if ((n = oc_xml_child(rstr, OC_NS_WSTEP, "DispositionMessage")) != NULL &&
	    !oc_xml_is_nil(n) &&
	    (rc = client_node_str(n, OC_DISPOSITION_MAX, &r->disposition)) != OC_OK &&
	    rc != OC_ERR_NOT_FOUND)
		goto out;
	if ((n = oc_xml_child(rstr, OC_NS_WSTEP, "RequestID")) != NULL && !oc_xml_is_nil(n) &&
	    (rc = client_node_str(n, OC_SOAP_MAX_ID, &r->request_id)) != OC_OK &&
	    rc != OC_ERR_NOT_FOUND)
		goto out;
	rc = OC_ERR_PARSE;
	if ((rst = oc_xml_child(rstr, OC_NS_WST, "RequestedSecurityToken")) == NULL)
		goto out;
	if ((bst = oc_xml_child(rst, OC_NS_WSSE, "BinarySecurityToken")) != NULL) {
		if ((text = oc_xml_text(bst)) == NULL) {
			rc = OC_ERR_NOMEM;
			goto out;
		}
		if ((rc = oc_b64_decode(text, strlen(text), &r->cert_der, &r->cert_len,
		    OC_CERT_DER_MAX)) != OC_OK)
			goto out;
		/* it must be one DER certificate, nothing more (not a PKCS#7) */
		dp = r->cert_der;
		if ((x = d2i_X509(NULL, &dp, (long)r->cert_len)) == NULL ||
		    dp != r->cert_der + r->cert_len) {
			rc = OC_ERR_DER;
			goto out;
		}
		r->kind = CLIENT_RSTRC_ISSUED;
		rc = OC_OK;
		goto out;
	}
	if ((str = oc_xml_child(rst, OC_NS_WSSE, "SecurityTokenReference")) != NULL &&
	    (ref = oc_xml_child(str, OC_NS_WSSE, "Reference")) != NULL) {
		if ((r->reference_uri = attr_get(ref, "URI", OC_NS_WSSE)) == NULL)
			goto out;
		if (strlen(r->reference_uri) > OC_SUBJECT_MAX)
			goto out;
		r->kind = CLIENT_RSTRC_PENDING;
		rc = OC_OK;
	}
out:
	X509_free(x);
	free(text);
	return rc;
}

int
client_rstrc_parse(const uint8_t *p, size_t len, struct client_rstrc *r)
{
	struct oc_soap_msg msg;
	xmlNodePtr rstr;
	int rc;

	memset(&msg, 0, sizeof(msg));
	client_rstrc_clear(r);
	if ((rc = oc_soap_parse(p, len, &msg)) != OC_OK)
		goto out;
	rc = OC_ERR_SOAP_BODY;
	if (msg.payload == NULL)
		goto out;
	if (oc_xml_is(msg.payload, OC_NS_SOAP12, "Fault")) {
		if ((rc = client_fault_parse(msg.payload, &r->fault)) == OC_OK)
			r->kind = CLIENT_RSTRC_FAULT;
		goto out;
	}
	if (oc_xml_is(msg.payload, OC_NS_WST, "RequestSecurityTokenResponseCollection")) {
		/* exactly one RSTR per the spec; like every client use the first */
		if ((rstr = oc_xml_child(msg.payload, OC_NS_WST,
		    "RequestSecurityTokenResponse")) == NULL)
			goto out;
	} else if (oc_xml_is(msg.payload, OC_NS_WST, "RequestSecurityTokenResponse"))
		rstr = msg.payload;
	else
		goto out;
	rc = parse_rstr(rstr, r);
out:
	oc_soap_msg_clear(&msg);
	if (rc != OC_OK)
		client_rstrc_clear(r);
	return rc;
}
