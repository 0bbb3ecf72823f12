/*
 * SOAP 1.2 envelopes: safe parsing (libxml2, no DTD, no entities, no network,
 * bounded size and depth), the WS-Addressing and WS-Security headers, and
 * rendering of responses and faults. Namespace-aware: never matches prefixes.
 */
#ifndef OC_SOAP_H
#define OC_SOAP_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "common/buf.h"
#include "common/err.h"

#define OC_NS_SOAP12  "http://www.w3.org/2003/05/soap-envelope"
#define OC_NS_SOAP11  "http://schemas.xmlsoap.org/soap/envelope/"
#define OC_NS_WSA     "http://www.w3.org/2005/08/addressing"
#define OC_NS_WSSE    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
#define OC_NS_WSU     "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
#define OC_NS_XSI     "http://www.w3.org/2001/XMLSchema-instance"
#define OC_NS_XSD     "http://www.w3.org/2001/XMLSchema"
#define OC_NS_XCEP    "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy"
#define OC_NS_WST     "http://docs.oasis-open.org/ws-sx/ws-trust/200512"
#define OC_NS_WSTEP   "http://schemas.microsoft.com/windows/pki/2009/01/enrollment"
#define OC_NS_AUTH    "http://schemas.xmlsoap.org/ws/2006/12/authorization"
#define OC_PASSWORD_TEXT_TYPE "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"

/* A parsed request envelope. The document owns all nodes. */
struct oc_soap_msg {
	xmlDocPtr doc;
	xmlNodePtr header;          /* may be NULL */
	xmlNodePtr body;            /* s:Body */
	xmlNodePtr payload;         /* first element child of s:Body, may be NULL */
	char *action;               /* wsa:Action text, trimmed, may be NULL */
	char *message_id;           /* wsa:MessageID text, may be NULL */
	char *to;                   /* wsa:To, may be NULL */
	/* wsse:Security/wsse:UsernameToken */
	int has_username_token;
	char *username;             /* may be NULL */
	char *password;             /* may be NULL; wiped on clear */
	int password_digest;        /* 1 if Type was #PasswordDigest (refused) */
};

/*
 * Parse a SOAP 1.2 envelope from untrusted bytes. Errors:
 * OC_ERR_LIMIT (too large / too deep / too many nodes), OC_ERR_XML_DTD
 * (DOCTYPE, entity declarations or references), OC_ERR_XML (not well-formed),
 * OC_ERR_SOAP_VERSION (not {soap12}Envelope), OC_ERR_SOAP_BODY (no Body),
 * OC_ERR_SOAP_HEADER (a mustUnderstand header we do not understand, or a
 * malformed Security header).
 */
int oc_soap_parse(const uint8_t *p, size_t len, struct oc_soap_msg *msg) OC_WUR;
void oc_soap_msg_clear(struct oc_soap_msg *msg);

/* Element helpers (namespace URI + local name). */
xmlNodePtr oc_xml_child(xmlNodePtr parent, const char *ns, const char *name);
xmlNodePtr oc_xml_next_element(xmlNodePtr n);
int oc_xml_is(xmlNodePtr n, const char *ns, const char *name);
/* xsi:nil="true" or "1" */
int oc_xml_is_nil(xmlNodePtr n);
/* Text content trimmed of XML whitespace, malloc'd (NULL on OOM). */
char *oc_xml_text(xmlNodePtr n);

/*
 * Response rendering. oc_soap_begin writes the envelope start with
 * a:Action (mustUnderstand) and a:RelatesTo (when relates_to != NULL), and
 * opens s:Body (with xmlns:xsi and xmlns:xsd declared). oc_soap_end closes it.
 * The caller writes the payload in between.
 */
int oc_soap_begin(struct ocbuf *out, const char *action, const char *relates_to) OC_WUR;
int oc_soap_end(struct ocbuf *out) OC_WUR;

/*
 * A complete SOAP 1.2 fault envelope. code is "s:Sender" or "s:Receiver";
 * subcode may be NULL (e.g. "a:DestinationUnreachable" with its namespace
 * declared by the renderer for the known WCF / WS-Addressing / WS-Security
 * subcodes; "{uri}Local" for others; or a ready-made "<s:Value ...>" element
 * inserted verbatim; OC_ERR_INVALID otherwise). action NULL = the WS-Addressing
 * fault action. detail_xml, when not NULL, is inserted verbatim
 * inside s:Detail (it must be well-formed XML made by our own renderers).
 */
int oc_soap_fault(struct ocbuf *out, const char *action, const char *relates_to,
    const char *code, const char *subcode, const char *reason,
    const char *detail_xml) OC_WUR;

#endif
