/*
 * SOAP 1.2 envelope parsing of untrusted bytes with libxml2: no network, no
 * DTD (a DOCTYPE stops the parser before its internal subset is read), no
 * entity substitution, bounded depth and element count (checked while
 * parsing), parser errors never printed. Then the envelope structure and the
 * WS-Addressing / WS-Security headers.
 */
#include "soap/soap.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <libxml/SAX2.h>
#include <libxml/dict.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"

#define SOAP_PASSWORD_DIGEST_SUFFIX "#PasswordDigest"

/* Per-parse state reachable from the SAX callbacks via ctxt->_private. */
struct soap_sax_state {
	int dtd;            /* DOCTYPE, entity declaration or reference seen */
	int limit;          /* depth or node count exceeded */
	int depth;
	size_t nodes;
	int first_error;    /* first libxml2 error code */
};

static int
soap_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static pthread_once_t soap_once = PTHREAD_ONCE_INIT;

static void
soap_init_once(void)
{
	xmlInitParser();
}

static struct soap_sax_state *
soap_state(void *ctx)
{
	xmlParserCtxtPtr ctxt = ctx;

	return ctxt != NULL ? ctxt->_private : NULL;
}

static void
soap_refuse(void *ctx)
{
	struct soap_sax_state *st = soap_state(ctx);

	if (st != NULL)
		st->dtd = 1;
	xmlStopParser((xmlParserCtxtPtr)ctx);
}

/* A DOCTYPE: stop before any declaration of the internal subset is read. */
static void
soap_sax_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	soap_refuse(ctx);
}

static void
soap_sax_external_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
    const xmlChar *sid)
{
	soap_refuse(ctx);
}

static void
soap_sax_entity_decl(void *ctx, const xmlChar *name, int type,
    const xmlChar *pid, const xmlChar *sid, xmlChar *content)
{
	soap_refuse(ctx);
}

static void
soap_sax_reference(void *ctx, const xmlChar *name)
{
	soap_refuse(ctx);
}

static xmlParserInputPtr
soap_sax_resolve_entity(void *ctx, const xmlChar *pid, const xmlChar *sid)
{
	soap_refuse(ctx);
	return NULL;
}

static xmlEntityPtr
soap_sax_get_entity(void *ctx, const xmlChar *name)
{
	/* Predefined entities are resolved by the parser before this hook. */
	soap_refuse(ctx);
	return NULL;
}

static void
soap_sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
    int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	struct soap_sax_state *st = soap_state(ctx);

	if (st != NULL) {
		st->depth++;
		st->nodes += 1 + (size_t)(nb_attributes > 0 ? nb_attributes : 0);
		if (st->depth > OC_XML_MAX_DEPTH || st->nodes > OC_XML_MAX_NODES) {
			st->limit = 1;
			xmlStopParser((xmlParserCtxtPtr)ctx);
			return;
		}
	}
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces,
	    namespaces, nb_attributes, nb_defaulted, attributes);
}

static void
soap_sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
    const xmlChar *uri)
{
	struct soap_sax_state *st = soap_state(ctx);

	if (st != NULL)
		st->depth--;
	xmlSAX2EndElementNs(ctx, localname, prefix, uri);
}

/* Never print parser errors (they quote the request); keep the first code. */
static void
soap_sax_serror(void *ctx, xmlErrorPtr err)
{
	struct soap_sax_state *st = soap_state(ctx);

	if (st != NULL && st->first_error == 0 && err != NULL &&
	    err->level >= XML_ERR_ERROR)
		st->first_error = err->code;
}

/* Anything libxml2 reports outside the parser context is dropped as well. */
static void
soap_generic_error(void *ctx, const char *msg, ...)
{
}

static void
soap_structured_error(void *ctx, xmlErrorPtr err)
{
}

/* Count every node of the tree (elements, attributes, text ...). */
static size_t
soap_count_nodes(xmlNodePtr n, int depth, int *too_deep)
{
	size_t count = 0;

	for (; n != NULL; n = n->next) {
		count++;
		if (n->type == XML_ELEMENT_NODE) {
			for (xmlAttrPtr a = n->properties; a != NULL; a = a->next)
				count++;
			if (depth + 1 > OC_XML_MAX_DEPTH)
				*too_deep = 1;
			else if (n->children != NULL)
				count += soap_count_nodes(n->children, depth + 1, too_deep);
		}
		if (count > OC_XML_MAX_NODES || *too_deep)
			break;
	}
	return count;
}

static int
soap_read(const uint8_t *p, size_t len, xmlDocPtr *docp)
{
	xmlParserCtxtPtr ctxt = NULL;
	xmlDocPtr doc = NULL;
	struct soap_sax_state st;
	xmlGenericErrorFunc saved_generic;
	xmlStructuredErrorFunc saved_structured;
	void *saved_generic_ctx, *saved_structured_ctx;
	int too_deep = 0, r = OC_ERR_INTERNAL;
	const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

	*docp = NULL;
	memset(&st, 0, sizeof(st));
	if (len > OC_HTTP_MAX_BODY_SIZE)
		return OC_ERR_LIMIT;
	if (len == 0)
		return OC_ERR_XML;
	(void)pthread_once(&soap_once, soap_init_once);
	if ((ctxt = xmlCreateMemoryParserCtxt((const char *)p, (int)len)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	(void)xmlCtxtUseOptions(ctxt, opts);
	/* The SAX handler belongs to this context: override what we refuse. */
	ctxt->_private = &st;
	ctxt->sax->internalSubset = soap_sax_internal_subset;
	ctxt->sax->externalSubset = soap_sax_external_subset;
	ctxt->sax->entityDecl = soap_sax_entity_decl;
	ctxt->sax->reference = soap_sax_reference;
	ctxt->sax->resolveEntity = soap_sax_resolve_entity;
	ctxt->sax->getEntity = soap_sax_get_entity;
	ctxt->sax->getParameterEntity = soap_sax_get_entity;
	ctxt->sax->startElementNs = soap_sax_start;
	ctxt->sax->endElementNs = soap_sax_end;
	ctxt->sax->serror = soap_sax_serror;
	ctxt->sax->warning = NULL;
	ctxt->sax->error = NULL;
	ctxt->sax->fatalError = NULL;

	/* These handlers are per thread (libxml2 thread-local globals). */
	saved_generic = xmlGenericError;
	saved_generic_ctx = xmlGenericErrorContext;
	saved_structured = xmlStructuredError;
	saved_structured_ctx = xmlStructuredErrorContext;
	xmlSetGenericErrorFunc(NULL, soap_generic_error);
	xmlSetStructuredErrorFunc(NULL, soap_structured_error);
	(void)xmlParseDocument(ctxt);
	xmlSetGenericErrorFunc(saved_generic_ctx, saved_generic);
	xmlSetStructuredErrorFunc(saved_structured_ctx, saved_structured);
	doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	if (st.dtd) {
		r = OC_ERR_XML_DTD;
		goto out;
	}
	if (st.limit) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if (st.first_error == XML_ERR_UNDECLARED_ENTITY ||
	    st.first_error == XML_WAR_UNDECLARED_ENTITY ||
	    st.first_error == XML_ERR_ENTITY_LOOP) {
		r = OC_ERR_XML_DTD;
		goto out;
	}
	if (doc == NULL || !ctxt->wellFormed || !ctxt->nsWellFormed) {
		log_debug("XML not well-formed (libxml2 error %d)", st.first_error);
		r = OC_ERR_XML;
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		r = OC_ERR_XML_DTD;
		goto out;
	}
	if (soap_count_nodes(doc->children, 0, &too_deep) > OC_XML_MAX_NODES ||
	    too_deep) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	*docp = doc;
	doc = NULL;
	r = OC_OK;
out:
	if (ctxt != NULL) {
		ctxt->_private = NULL;
		xmlFreeParserCtxt(ctxt);
	}
	xmlFreeDoc(doc);
	return r;
}

/* s:mustUnderstand: 0 absent/false, 1 true, -1 invalid. */
static int
soap_must_understand(xmlNodePtr n)
{
	xmlChar *v = NULL;
	char *s = NULL;
	int r = -1;
	size_t i, j;

	if ((v = xmlGetNsProp(n, (const xmlChar *)"mustUnderstand",
	    (const xmlChar *)OC_NS_SOAP12)) == NULL)
		return 0;
	s = (char *)v;
	for (i = 0; soap_space(s[i]); i++)
		;
	for (j = strlen(s); j > i && soap_space(s[j - 1]); j--)
		;
	s[j] = '\0';
	if (strcmp(s + i, "1") == 0 || strcmp(s + i, "true") == 0)
		r = 1;
	else if (strcmp(s + i, "0") == 0 || strcmp(s + i, "false") == 0)
		r = 0;
	xmlFree(v);
	return r;
}

/* Copy a header's trimmed text once, bounded. */
static int
soap_header_text(xmlNodePtr n, char **dst, size_t max)
{
	char *s = NULL;

	if (*dst != NULL)
		return OC_ERR_SOAP_HEADER;      /* duplicate header */
	if ((s = oc_xml_text(n)) == NULL)
		return OC_ERR_NOMEM;
	if (strlen(s) > max) {
		free(s);
		return OC_ERR_SOAP_HEADER;
	}
	*dst = s;
	return OC_OK;
}

/* Wipe the text of a node inside the tree (the password). */
static void
soap_wipe_text(xmlDocPtr doc, xmlNodePtr n)
{
	for (xmlNodePtr c = n->children; c != NULL; c = c->next) {
		if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) ||
		    c->content == NULL)
			continue;
		if (doc->dict != NULL && xmlDictOwns(doc->dict, c->content))
			continue;
		OPENSSL_cleanse(c->content, strlen((char *)c->content));
	}
}

static int
soap_password(struct oc_soap_msg *msg, xmlNodePtr pw)
{
	xmlChar *type = NULL, *raw = NULL;
	size_t n;
	int r = OC_ERR_SOAP_HEADER;

	if (msg->password != NULL)
		goto out;                       /* two Password elements */
	type = xmlGetNsProp(pw, (const xmlChar *)"Type", NULL);
	if (type == NULL)
		type = xmlGetNsProp(pw, (const xmlChar *)"Type", (const xmlChar *)OC_NS_WSSE);
	if (type != NULL) {
		const char *ts = (const char *)type;
		size_t tl, sl = strlen(SOAP_PASSWORD_DIGEST_SUFFIX);

		while (soap_space(*ts))
			ts++;
		tl = strlen(ts);
		while (tl > 0 && soap_space(ts[tl - 1]))
			tl--;
		if (tl == strlen(OC_PASSWORD_TEXT_TYPE) &&
		    memcmp(ts, OC_PASSWORD_TEXT_TYPE, tl) == 0)
			msg->password_digest = 0;
		else if (tl >= sl && memcmp(ts + tl - sl, SOAP_PASSWORD_DIGEST_SUFFIX, sl) == 0)
			msg->password_digest = 1;
		else
			goto out;               /* unknown password type */
	}
	if ((raw = xmlNodeGetContent(pw)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	n = strlen((char *)raw);
	if (n > OC_PASSWORD_MAX)
		goto out;
	if ((msg->password = strndup((char *)raw, n)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	r = OC_OK;
out:
	if (raw != NULL) {
		OPENSSL_cleanse(raw, strlen((char *)raw));
		xmlFree(raw);
	}
	soap_wipe_text(msg->doc, pw);
	xmlFree(type);
	return r;
}

static int
soap_username_token(struct oc_soap_msg *msg, xmlNodePtr tok)
{
	xmlNodePtr c;
	int r;

	if (msg->has_username_token)
		return OC_ERR_SOAP_HEADER;      /* one token only */
	msg->has_username_token = 1;
	for (c = oc_xml_next_element(tok->children); c != NULL;
	    c = oc_xml_next_element(c->next)) {
		if (oc_xml_is(c, OC_NS_WSSE, "Username")) {
			if ((r = soap_header_text(c, &msg->username, OC_USERNAME_MAX)) != OC_OK)
				return r;
		} else if (oc_xml_is(c, OC_NS_WSSE, "Password")) {
			if ((r = soap_password(msg, c)) != OC_OK)
				return r;
		}
		/* Nonce, wsu:Created and anything else: accepted and ignored. */
	}
	if (msg->username == NULL || msg->username[0] == '\0')
		return OC_ERR_SOAP_HEADER;
	return OC_OK;
}

static int
soap_security(struct oc_soap_msg *msg, xmlNodePtr sec)
{
	xmlNodePtr c;
	int r;

	for (c = oc_xml_next_element(sec->children); c != NULL;
	    c = oc_xml_next_element(c->next)) {
		if (oc_xml_is(c, OC_NS_WSSE, "UsernameToken")) {
			if ((r = soap_username_token(msg, c)) != OC_OK)
				return r;
		}
		/* wsu:Timestamp, BinarySecurityToken ...: ignored. */
	}
	return OC_OK;
}

static int
soap_headers(struct oc_soap_msg *msg)
{
	xmlNodePtr h;
	int mu, seen_security = 0, r;

	for (h = oc_xml_next_element(msg->header->children); h != NULL;
	    h = oc_xml_next_element(h->next)) {
		if ((mu = soap_must_understand(h)) < 0)
			return OC_ERR_SOAP_HEADER;
		if (oc_xml_is(h, OC_NS_WSA, "Action"))
			r = soap_header_text(h, &msg->action, OC_SOAP_MAX_URI);
		else if (oc_xml_is(h, OC_NS_WSA, "MessageID"))
			r = soap_header_text(h, &msg->message_id, OC_SOAP_MAX_ID);
		else if (oc_xml_is(h, OC_NS_WSA, "To"))
			r = soap_header_text(h, &msg->to, OC_SOAP_MAX_URI);
		else if (oc_xml_is(h, OC_NS_WSA, "ReplyTo"))
			r = OC_OK;              /* we always answer on the HTTP response */
		else if (oc_xml_is(h, OC_NS_WSSE, "Security")) {
			if (seen_security++)
				return OC_ERR_SOAP_HEADER;
			r = soap_security(msg, h);
		} else if (mu)
			r = OC_ERR_SOAP_HEADER; /* a header we do not understand */
		else
			r = OC_OK;
		if (r != OC_OK)
			return r;
	}
	return OC_OK;
}

int
oc_soap_parse(const uint8_t *p, size_t len, struct oc_soap_msg *msg)
{
	xmlNodePtr root, c;
	int r;

	memset(msg, 0, sizeof(*msg));
	if (p == NULL)
		return OC_ERR_INVALID;
	if ((r = soap_read(p, len, &msg->doc)) != OC_OK)
		goto out;
	root = xmlDocGetRootElement(msg->doc);
	if (!oc_xml_is(root, OC_NS_SOAP12, "Envelope")) {
		r = OC_ERR_SOAP_VERSION;
		goto out;
	}
	/* [Header] Body, nothing else. */
	for (c = oc_xml_next_element(root->children); c != NULL;
	    c = oc_xml_next_element(c->next)) {
		if (oc_xml_is(c, OC_NS_SOAP12, "Header") && msg->header == NULL &&
		    msg->body == NULL)
			msg->header = c;
		else if (oc_xml_is(c, OC_NS_SOAP12, "Body") && msg->body == NULL)
			msg->body = c;
		else {
			r = OC_ERR_SOAP_BODY;
			goto out;
		}
	}
	if (msg->body == NULL) {
		r = OC_ERR_SOAP_BODY;
		goto out;
	}
	msg->payload = oc_xml_next_element(msg->body->children);
	if (msg->header != NULL && (r = soap_headers(msg)) != OC_OK)
		goto out;
	r = OC_OK;
out:
	if (r != OC_OK)
		oc_soap_msg_clear(msg);
	return r;
}

void
oc_soap_msg_clear(struct oc_soap_msg *msg)
{
	if (msg == NULL)
		return;
	xmlFreeDoc(msg->doc);
	free(msg->action);
	free(msg->message_id);
	free(msg->to);
	free(msg->username);
	oc_free_secret(msg->password);
	memset(msg, 0, sizeof(*msg));
}
