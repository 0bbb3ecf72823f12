/*
 * MS-WSTEP request parsing: {wst}RequestSecurityToken (docs/protocol/wstep.md
 * sections 2, 5, 6). Namespace-aware; unknown elements are ignored.
 */
#include "wstep/wstep.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/tree.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"

#define WSTEP_TOKEN_TYPE_X509 \
	"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
#define WSTEP_REQTYPE_ISSUE   "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue"
#define WSTEP_REQTYPE_QUERY   "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/QueryTokenStatus"
#define WSTEP_REQTYPE_KET     "http://docs.oasis-open.org/ws-sx/ws-trust/200512/KET"
#define WSTEP_CTX_TEMPLATE    "CertificateTemplate"

/* The elements of one RST, first occurrence of each (section 5.1). */
struct rst_parts {
	xmlNodePtr token_type;
	xmlNodePtr request_type;
	xmlNodePtr bst;
	xmlNodePtr context;
	xmlNodePtr request_id;
	xmlNodePtr request_ket;
};

void
oc_wstep_request_clear(struct oc_wstep_request *req)
{
	if (req == NULL)
		return;
	free(req->token);
	free(req->value_type);
	free(req->template_hint);
	free(req->context);
	memset(req, 0, sizeof(*req));
}

/* Attribute unqualified or in the wsse namespace (old cepces qualifies them). */
static xmlChar *
bst_attr(xmlNodePtr n, const char *name)
{
	xmlChar *v;

	if ((v = xmlGetNoNsProp(n, (const xmlChar *)name)) != NULL)
		return v;
	return xmlGetNsProp(n, (const xmlChar *)name, (const xmlChar *)OC_NS_WSSE);
}

/* Decimal 0..4294967295, digits only (cepces's UnsignedIntegerConverter). */
static int
parse_u32(const char *s, uint32_t *v)
{
	uint64_t acc = 0;
	size_t i, digits = 0;

	if (s == NULL || *s == '\0')
		return OC_ERR_PARSE;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return OC_ERR_PARSE;
		if (acc == 0 && s[i] == '0')
			continue;               /* leading zeros */
		if (++digits > 10)
			return OC_ERR_PARSE;
		acc = acc * 10 + (uint64_t)(s[i] - '0');
	}
	if (acc > UINT32_MAX)
		return OC_ERR_PARSE;
	*v = (uint32_t)acc;
	return OC_OK;
}

/* Text of a simple element, NULL for xsi:nil. Errors only on OOM. */
static int
elem_text(xmlNodePtr n, char **out)
{
	*out = NULL;
	if (n == NULL || oc_xml_is_nil(n))
		return OC_OK;
	if ((*out = oc_xml_text(n)) == NULL)
		return OC_ERR_NOMEM;
	return OC_OK;
}

static int
collect_parts(xmlNodePtr rst, struct rst_parts *p)
{
	xmlNodePtr n;

	memset(p, 0, sizeof(*p));
	for (n = oc_xml_next_element(rst->children); n != NULL; n = oc_xml_next_element(n->next)) {
		xmlNodePtr *slot = NULL;

		if (oc_xml_is(n, OC_NS_WST, "TokenType"))
			slot = &p->token_type;
		else if (oc_xml_is(n, OC_NS_WST, "RequestType")) {
			if (p->request_type != NULL)
				return OC_ERR_SOAP_BODY;        /* ambiguous dispatch */
			slot = &p->request_type;
		} else if (oc_xml_is(n, OC_NS_WSSE, "BinarySecurityToken"))
			slot = &p->bst;
		else if (oc_xml_is(n, OC_NS_AUTH, "AdditionalContext"))
			slot = &p->context;
		else if (oc_xml_is(n, OC_NS_WSTEP, "RequestID"))
			slot = &p->request_id;
		else if (oc_xml_is(n, OC_NS_WST, "RequestKET"))
			slot = &p->request_ket;
		if (slot != NULL && *slot == NULL)
			*slot = n;
	}
	return OC_OK;
}

static int
parse_request_type(xmlNodePtr n, enum oc_wstep_type *type)
{
	char *s = NULL;
	int r;

	if (n == NULL)
		return OC_ERR_SOAP_BODY;
	if ((r = elem_text(n, &s)) != OC_OK)
		return r;
	r = OC_OK;
	if (s == NULL)
		r = OC_ERR_SOAP_BODY;
	else if (strcmp(s, WSTEP_REQTYPE_ISSUE) == 0)
		*type = OC_WSTEP_ISSUE;
	else if (strcmp(s, WSTEP_REQTYPE_QUERY) == 0)
		*type = OC_WSTEP_QUERY;
	else if (strcmp(s, WSTEP_REQTYPE_KET) == 0)
		*type = OC_WSTEP_KET;
	else
		r = OC_ERR_SOAP_BODY;
	free(s);
	return r;
}

static int
check_token_type(xmlNodePtr n)
{
	char *s = NULL;
	int r;

	if ((r = elem_text(n, &s)) != OC_OK)
		return r;
	r = (s == NULL || strcmp(s, WSTEP_TOKEN_TYPE_X509) == 0) ? OC_OK : OC_ERR_SOAP_BODY;
	free(s);
	return r;
}

/* EncodingType: absent, or any URI whose fragment is base64binary (any case). */
static int
encoding_ok(const xmlChar *enc)
{
	const char *frag;

	if (enc == NULL)
		return 1;
	if ((frag = strrchr((const char *)enc, '#')) == NULL)
		return 0;
	return strcasecmp(frag + 1, "base64binary") == 0;
}

static int
parse_bst(xmlNodePtr n, struct oc_wstep_request *req)
{
	xmlChar *vt = NULL, *enc = NULL;
	char *text = NULL, *clean = NULL;
	size_t i, len, clen = 0;
	int r;

	vt = bst_attr(n, "ValueType");
	enc = bst_attr(n, "EncodingType");
	if (!encoding_ok(enc)) {
		r = OC_ERR_SOAP_BODY;
		goto out;
	}
	if (vt != NULL) {
		if (strlen((const char *)vt) > OC_WSTEP_VALUE_TYPE_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((req->value_type = strdup((const char *)vt)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
	}
	if ((text = oc_xml_text(n)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	/*
	 * Drop every whitespace byte first (64-column lines, "&#13;\n" from
	 * Windows) so the size check below counts base64 characters only.
	 */
	len = strlen(text);
	if ((clean = malloc(len + 1)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < len; i++) {
		char c = text[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		clean[clen++] = c;
	}
	clean[clen] = '\0';
	if (clen == 0) {
		r = OC_ERR_SOAP_BODY;           /* Issue with an empty token */
		goto out;
	}
	if (clen / 4 * 3 > (size_t)OC_REQUEST_DER_MAX + 3) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	r = oc_b64_decode(clean, clen, &req->token, &req->token_len, OC_REQUEST_DER_MAX);
out:
	xmlFree(vt);
	xmlFree(enc);
	free(text);
	free(clean);
	return r;
}

/* A context name or value must not be able to forge another "name:value" line. */
static int
ctx_text_ok(const char *s, int is_name)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || (is_name && c == ':'))
			return 0;
	}
	return 1;
}

static int
parse_context(xmlNodePtr ctx, struct oc_wstep_request *req)
{
	struct ocbuf b;
	xmlNodePtr n;
	xmlChar *name = NULL;
	char *value = NULL;
	size_t items = 0;
	int r = OC_OK;

	ocbuf_init(&b, OC_WSTEP_CONTEXT_MAX);
	for (n = oc_xml_next_element(ctx->children); n != NULL; n = oc_xml_next_element(n->next)) {
		if (!oc_xml_is(n, OC_NS_AUTH, "ContextItem"))
			continue;
		xmlFree(name);
		free(value);
		value = NULL;
		if ((name = xmlGetNoNsProp(n, (const xmlChar *)"Name")) == NULL)
			continue;
		if ((r = elem_text(oc_xml_child(n, OC_NS_AUTH, "Value"), &value)) != OC_OK)
			goto out;
		if (strcasecmp((const char *)name, WSTEP_CTX_TEMPLATE) == 0) {
			if (req->template_hint != NULL || value == NULL || *value == '\0')
				continue;
			if (strlen(value) > OC_TEMPLATE_NAME_MAX) {
				r = OC_ERR_LIMIT;
				goto out;
			}
			req->template_hint = value;
			value = NULL;
			continue;
		}
		if (!ctx_text_ok((const char *)name, 1) || (value && !ctx_text_ok(value, 0))) {
			log_info("ignoring a malformed AdditionalContext item");
			continue;
		}
		if (++items > OC_WSTEP_CONTEXT_ITEMS_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((r = ocbuf_printf(&b, "%s:%s\n", (const char *)name,
		    value ? value : "")) != OC_OK)
			goto out;
	}
	if (b.len > 0 && (req->context = (char *)ocbuf_take(&b, NULL)) == NULL)
		r = OC_ERR_NOMEM;
out:
	xmlFree(name);
	free(value);
	ocbuf_free(&b);
	return r;
}

static int
parse_request_id(xmlNodePtr n, struct oc_wstep_request *req)
{
	char *s = NULL;
	int r;

	if ((r = elem_text(n, &s)) != OC_OK)
		return r;
	if (s != NULL && parse_u32(s, &req->request_id) == OC_OK)
		req->has_request_id = 1;
	free(s);
	return OC_OK;
}

int
oc_wstep_parse_request(const struct oc_soap_msg *msg, struct oc_wstep_request *req)
{
	struct rst_parts p;
	enum oc_wstep_type type = 0;
	int is_ket_action, r;

	memset(&p, 0, sizeof(p));
	memset(req, 0, sizeof(*req));
	if (msg == NULL || msg->action == NULL) {
		r = OC_ERR_SOAP_ACTION;
		goto out;
	}
	if (strcmp(msg->action, OC_WSTEP_ACTION_RST) == 0)
		is_ket_action = 0;
	else if (strcmp(msg->action, OC_WSTEP_ACTION_KET) == 0)
		is_ket_action = 1;
	else {
		r = OC_ERR_SOAP_ACTION;
		goto out;
	}
	if (!oc_xml_is(msg->payload, OC_NS_WST, "RequestSecurityToken")) {
		r = OC_ERR_SOAP_BODY;
		goto out;
	}
	if ((r = collect_parts(msg->payload, &p)) != OC_OK ||
	    (r = parse_request_type(p.request_type, &type)) != OC_OK ||
	    (r = check_token_type(p.token_type)) != OC_OK)
		goto out;
	/* The KET action carries the KET RequestType and nothing else does. */
	if (is_ket_action != (type == OC_WSTEP_KET)) {
		r = OC_ERR_SOAP_BODY;
		goto out;
	}
	req->type = type;
	switch (type) {
	case OC_WSTEP_ISSUE:
		if (p.bst == NULL) {
			r = OC_ERR_SOAP_BODY;
			goto out;
		}
		if ((r = parse_bst(p.bst, req)) != OC_OK)
			goto out;
		if (p.context != NULL && (r = parse_context(p.context, req)) != OC_OK)
			goto out;
		/* RequestID on Issue: ignored (spec 3.1.4.2.1.1). */
		break;
	case OC_WSTEP_QUERY:
		/* The BST (empty from cepces) is ignored. */
		if ((r = parse_request_id(p.request_id, req)) != OC_OK)
			goto out;
		if (!req->has_request_id) {
			r = OC_ERR_SOAP_BODY;
			goto out;
		}
		break;
	case OC_WSTEP_KET:
		if (p.request_ket == NULL) {
			r = OC_ERR_SOAP_BODY;
			goto out;
		}
		break;
	}
	r = OC_OK;
out:
	if (r != OC_OK)
		oc_wstep_request_clear(req);
	return r;
}
