/*
 * SOAP 1.2 response and fault envelopes in the Windows (WCF) wire shape
 * (xcep.md 1.4, 5.1, 8.2): prefixes s (envelope) and a (addressing), the
 * reply's a:Action with s:mustUnderstand="1", a:RelatesTo = request MessageID.
 */
#include "soap/soap.h"

#include <string.h>

#define SOAP_FAULT_ACTION "http://www.w3.org/2005/08/addressing/soap/fault"
#define SOAP_NS_WCF_DISPATCHER \
	"http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher"

/* Subcode local names and the namespace WCF puts them in. */
static const struct {
	const char *local;
	const char *ns;
} soap_subcodes[] = {
	{ "InvalidSecurity",                 OC_NS_WSSE },
	{ "InvalidSecurityToken",            OC_NS_WSSE },
	{ "FailedAuthentication",            OC_NS_WSSE },
	{ "UnsupportedSecurityToken",        OC_NS_WSSE },
	{ "UnsupportedAlgorithm",            OC_NS_WSSE },
	{ "SecurityTokenUnavailable",        OC_NS_WSSE },
	{ "MessageExpired",                  OC_NS_WSSE },
	{ "ActionNotSupported",              OC_NS_WSA },
	{ "DestinationUnreachable",          OC_NS_WSA },
	{ "InvalidAddressingHeader",         OC_NS_WSA },
	{ "MessageAddressingHeaderRequired", OC_NS_WSA },
	{ "EndpointUnavailable",             OC_NS_WSA },
	{ "InternalServiceFault",            SOAP_NS_WCF_DISPATCHER },
	{ "DeserializationFailed",           SOAP_NS_WCF_DISPATCHER },
};

static int
soap_header(struct ocbuf *out, const char *action, const char *relates_to)
{
	int r;

	if ((r = ocbuf_puts(out, "<s:Envelope xmlns:s=\"" OC_NS_SOAP12 "\" xmlns:a=\""
	    OC_NS_WSA "\"><s:Header><a:Action s:mustUnderstand=\"1\">")) != OC_OK ||
	    (r = ocbuf_put_xml(out, action)) != OC_OK ||
	    (r = ocbuf_puts(out, "</a:Action>")) != OC_OK)
		return r;
	if (relates_to != NULL &&
	    ((r = ocbuf_puts(out, "<a:RelatesTo>")) != OC_OK ||
	    (r = ocbuf_put_xml(out, relates_to)) != OC_OK ||
	    (r = ocbuf_puts(out, "</a:RelatesTo>")) != OC_OK))
		return r;
	return ocbuf_puts(out, "</s:Header>");
}

int
oc_soap_begin(struct ocbuf *out, const char *action, const char *relates_to)
{
	int r;

	if (out == NULL || action == NULL)
		return OC_ERR_INVALID;
	if ((r = soap_header(out, action, relates_to)) != OC_OK)
		return r;
	return ocbuf_puts(out, "<s:Body xmlns:xsi=\"" OC_NS_XSI "\" xmlns:xsd=\""
	    OC_NS_XSD "\">");
}

int
oc_soap_end(struct ocbuf *out)
{
	if (out == NULL)
		return OC_ERR_INVALID;
	return ocbuf_puts(out, "</s:Body></s:Envelope>");
}

/* A QName made only of NCName-ish characters (no markup, no spaces). */
static int
soap_qname_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
		    c >= 0x80))
			return 0;
	}
	return 1;
}

/*
 * s:Subcode. Accepts "p:Local" (the namespace of p is chosen from the known
 * WCF subcodes; prefix "s" is the envelope's), "{uri}Local", or a complete
 * "<s:Value ...>...</s:Value>" element made by our own code (inserted
 * verbatim, like detail_xml).
 */
static int
soap_subcode(struct ocbuf *out, const char *subcode)
{
	const char *colon, *local, *ns = NULL;
	size_t plen;
	int r;

	if (subcode[0] == '<') {
		if (strncmp(subcode, "<s:Value", 8) != 0)
			return OC_ERR_INVALID;
		if ((r = ocbuf_puts(out, "<s:Subcode>")) != OC_OK ||
		    (r = ocbuf_puts(out, subcode)) != OC_OK)
			return r;
		return ocbuf_puts(out, "</s:Subcode>");
	}
	if ((r = ocbuf_puts(out, "<s:Subcode><s:Value")) != OC_OK)
		return r;
	if (subcode[0] == '{') {
		const char *close = strchr(subcode, '}');
		if (close == NULL || close == subcode + 1 ||
		    !soap_qname_ok(close + 1, strlen(close + 1)))
			return OC_ERR_INVALID;
		if ((r = ocbuf_puts(out, " xmlns:a=\"")) != OC_OK ||
		    (r = ocbuf_put(out, subcode + 1, (size_t)(close - subcode - 1))) != OC_OK ||
		    (r = ocbuf_puts(out, "\">a:")) != OC_OK ||
		    (r = ocbuf_puts(out, close + 1)) != OC_OK)
			return r;
		return ocbuf_puts(out, "</s:Value></s:Subcode>");
	}
	if ((colon = strchr(subcode, ':')) == NULL)
		return OC_ERR_INVALID;
	plen = (size_t)(colon - subcode);
	local = colon + 1;
	if (!soap_qname_ok(subcode, plen) || !soap_qname_ok(local, strlen(local)))
		return OC_ERR_INVALID;
	if (!(plen == 1 && subcode[0] == 's')) {
		for (size_t i = 0; i < sizeof(soap_subcodes) / sizeof(soap_subcodes[0]); i++)
			if (strcmp(soap_subcodes[i].local, local) == 0)
				ns = soap_subcodes[i].ns;
		if (ns == NULL)
			return OC_ERR_INVALID;
		if ((r = ocbuf_puts(out, " xmlns:")) != OC_OK ||
		    (r = ocbuf_put(out, subcode, plen)) != OC_OK ||
		    (r = ocbuf_puts(out, "=\"")) != OC_OK ||
		    (r = ocbuf_puts(out, ns)) != OC_OK ||
		    (r = ocbuf_puts(out, "\"")) != OC_OK)
			return r;
	}
	if ((r = ocbuf_puts(out, ">")) != OC_OK ||
	    (r = ocbuf_puts(out, subcode)) != OC_OK)
		return r;
	return ocbuf_puts(out, "</s:Value></s:Subcode>");
}

int
oc_soap_fault(struct ocbuf *out, const char *action, const char *relates_to,
    const char *code, const char *subcode, const char *reason,
    const char *detail_xml)
{
	int r;

	if (out == NULL || code == NULL)
		return OC_ERR_INVALID;
	/* The code is one of the SOAP 1.2 envelope's own QNames. */
	if (strncmp(code, "s:", 2) != 0 || !soap_qname_ok(code + 2, strlen(code + 2)))
		return OC_ERR_INVALID;
	if (action == NULL)
		action = SOAP_FAULT_ACTION;
	if ((r = soap_header(out, action, relates_to)) != OC_OK ||
	    (r = ocbuf_puts(out, "<s:Body><s:Fault><s:Code><s:Value>")) != OC_OK ||
	    (r = ocbuf_puts(out, code)) != OC_OK ||
	    (r = ocbuf_puts(out, "</s:Value>")) != OC_OK)
		return r;
	if (subcode != NULL && (r = soap_subcode(out, subcode)) != OC_OK)
		return r;
	if ((r = ocbuf_puts(out, "</s:Code><s:Reason><s:Text xml:lang=\"en-US\">")) != OC_OK ||
	    (r = ocbuf_put_xml(out, reason != NULL ? reason : "")) != OC_OK ||
	    (r = ocbuf_puts(out, "</s:Text></s:Reason>")) != OC_OK)
		return r;
	if (detail_xml != NULL &&
	    ((r = ocbuf_puts(out, "<s:Detail>")) != OC_OK ||
	    (r = ocbuf_puts(out, detail_xml)) != OC_OK ||
	    (r = ocbuf_puts(out, "</s:Detail>")) != OC_OK))
		return r;
	return ocbuf_puts(out, "</s:Fault></s:Body></s:Envelope>");
}
