/*
 * MS-XCEP client side: the GetPolicies request as cepces >= 0.3.17 sends it
 * (docs/protocol/xcep.md 6.1) with a Windows-shaped UsernameToken (1.5), and
 * the parsing of a GetPoliciesResponse as Windows CEP writes it (8.2, 8.3).
 * Lookup is by namespace + local name among direct children, so element order
 * and prefixes do not matter; values are checked strictly.
 */
#include "client/client.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/log.h"
#include "soap/soap.h"

#define XCEP_ACTION_GETPOLICIES \
	"http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies"

#define XCEP_OIDS_MAX  (4 * OC_TEMPLATES_MAX)
#define XCEP_URI_MAX   2048

/* ------------------------------------------------------------------ */
/* Text helpers */

int
client_node_str(xmlNodePtr n, size_t max, char **s)
{
	char *t;

	*s = NULL;
	if (n == NULL)
		return OC_ERR_NOT_FOUND;
	if ((t = oc_xml_text(n)) == NULL)
		return OC_ERR_NOMEM;
	if (strlen(t) > max) {
		free(t);
		return OC_ERR_LIMIT;
	}
	*s = t;
	return OC_OK;
}

/* Plain decimal digits only (xs:unsignedInt / xs:int without sign games). */
static int
parse_dec(const char *s, int allow_minus, uint64_t max, int64_t *out)
{
	uint64_t v = 0;
	int neg = 0;

	if (allow_minus && *s == '-') {
		neg = 1;
		s++;
	} else if (*s == '+')
		s++;
	if (*s == '\0' || strlen(s) > 20)
		return OC_ERR_PARSE;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return OC_ERR_PARSE;
		if (v > (UINT64_MAX - 9) / 10)
			return OC_ERR_PARSE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (neg ? v > max + 1 : v > max)
		return OC_ERR_PARSE;
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return OC_OK;
}

static int
node_num(xmlNodePtr n, int allow_minus, uint64_t max, int64_t *v)
{
	char *t = NULL;
	int r;

	if (n == NULL)
		return OC_ERR_NOT_FOUND;
	if (oc_xml_is_nil(n))
		return OC_ERR_NOT_FOUND;
	if ((r = client_node_str(n, 32, &t)) != OC_OK)
		return r == OC_ERR_LIMIT ? OC_ERR_PARSE : r;
	r = parse_dec(t, allow_minus, max, v);
	free(t);
	return r;
}

int
client_node_u32(xmlNodePtr n, uint32_t *v)
{
	int64_t x;
	int r;

	if ((r = node_num(n, 0, UINT32_MAX, &x)) == OC_OK)
		*v = (uint32_t)x;
	return r;
}

int
client_node_i32(xmlNodePtr n, int32_t *v)
{
	int64_t x;
	int r;

	if ((r = node_num(n, 1, INT32_MAX, &x)) == OC_OK)
		*v = (int32_t)x;
	return r;
}

int
client_node_u64(xmlNodePtr n, uint64_t *v)
{
	int64_t x;
	int r;

	if ((r = node_num(n, 0, INT64_MAX, &x)) == OC_OK)
		*v = (uint64_t)x;
	return r;
}

int
client_node_bool(xmlNodePtr n, int *v)
{
	char *t = NULL;
	int r = OC_ERR_PARSE;

	if (n == NULL || oc_xml_is_nil(n))
		return OC_ERR_NOT_FOUND;
	if ((r = client_node_str(n, 8, &t)) != OC_OK)
		return r == OC_ERR_LIMIT ? OC_ERR_PARSE : r;
	r = OC_OK;
	if (strcmp(t, "true") == 0 || strcmp(t, "1") == 0)
		*v = 1;
	else if (strcmp(t, "false") == 0 || strcmp(t, "0") == 0)
		*v = 0;
	else
		r = OC_ERR_PARSE;
	free(t);
	return r;
}

/* An optional value: absent and nil are fine, garbage is not. */
static int
opt_ok(int r)
{
	return r == OC_OK || r == OC_ERR_NOT_FOUND;
}

/* ------------------------------------------------------------------ */
/* Request */

int
client_xcep_build_request(struct ocbuf *out, const char *to, const char *message_id,
    const char *user, const char *password, time_t now)
{
	int r;

	if ((r = client_soap_header(out, XCEP_ACTION_GETPOLICIES, message_id, to, user,
	    password, now)) != OC_OK)
		return r;
	return ocbuf_puts(out,
	    "<s:Body xmlns:xsi=\"" OC_NS_XSI "\">"
	    "<GetPolicies xmlns=\"" OC_NS_XCEP "\">"
	    "<client><lastUpdate xsi:nil=\"true\"/><preferredLanguage xsi:nil=\"true\"/></client>"
	    "<requestFilter><policyOIDs xsi:nil=\"true\"/><clientVersion>0</clientVersion>"
	    "<serverVersion>0</serverVersion></requestFilter>"
	    "</GetPolicies></s:Body></s:Envelope>");
}

/* ------------------------------------------------------------------ */
/* Response */

static void
template_clear(struct client_template *t)
{
	free(t->cn);
	free(t->ca_refs);
	oc_strlist_free(&t->superseded);
	memset(t, 0, sizeof(*t));
}

static void
ca_clear(struct client_ca *ca)
{
	for (size_t i = 0; i < ca->nuris; i++)
		free(ca->uris[i].uri);
	free(ca->uris);
	free(ca->cert_der);
	memset(ca, 0, sizeof(*ca));
}

void
client_policy_clear(struct client_policy *pol)
{
	if (pol == NULL)
		return;
	client_fault_clear(&pol->fault);
	free(pol->policy_id);
	free(pol->friendly_name);
	for (size_t i = 0; i < pol->ntemplates; i++)
		template_clear(&pol->templates[i]);
	free(pol->templates);
	for (size_t i = 0; i < pol->ncas; i++)
		ca_clear(&pol->cas[i]);
	free(pol->cas);
	for (size_t i = 0; i < pol->noids; i++) {
		free(pol->oids[i].value);
		free(pol->oids[i].default_name);
	}
	free(pol->oids);
	memset(pol, 0, sizeof(*pol));
	pol->fault.invalid_request = -1;
}

/* Count element children named {ns}name, failing beyond max. */
static int
count_children(xmlNodePtr parent, const char *ns, const char *name, size_t max, size_t *n)
{
	xmlNodePtr c;

	*n = 0;
	for (c = parent ? oc_xml_next_element(parent->children) : NULL; c != NULL;
	    c = oc_xml_next_element(c->next)) {
		if (!oc_xml_is(c, ns, name))
			continue;
		if (++*n > max)
			return OC_ERR_LIMIT;
	}
	return OC_OK;
}

static int
parse_key_attrs(xmlNodePtr pka, struct client_template *t)
{
	int r;

	if (pka == NULL)
		return OC_OK;
	if (!opt_ok(r = client_node_u32(oc_xml_child(pka, OC_NS_XCEP, "minimalKeyLength"),
	    &t->min_key_length)) ||
	    !opt_ok(r = client_node_u32(oc_xml_child(pka, OC_NS_XCEP, "keySpec"), &t->key_spec)))
		return r;
	r = client_node_i32(oc_xml_child(pka, OC_NS_XCEP, "algorithmOIDReference"), &t->alg_ref);
	if (!opt_ok(r))
		return r;
	t->has_alg_ref = r == OC_OK;
	return OC_OK;
}

/* supersededPolicies: nil or absent = supersedes nothing; commonName+ */
static int
parse_superseded(xmlNodePtr sp, struct client_template *t)
{
	xmlNodePtr c;
	char *cn = NULL;
	int r;

	if (sp == NULL || oc_xml_is_nil(sp))
		return OC_OK;
	for (c = oc_xml_next_element(sp->children); c != NULL;
	    c = oc_xml_next_element(c->next)) {
		if (!oc_xml_is(c, OC_NS_XCEP, "commonName"))
			continue;
		if (t->superseded.n >= OC_LIST_MAX)
			return OC_ERR_LIMIT;
		if ((r = client_node_str(c, OC_TEMPLATE_NAME_MAX, &cn)) != OC_OK)
			return r == OC_ERR_NOT_FOUND ? OC_ERR_PARSE : r;
		if (cn[0] != '\0' && !oc_strlist_contains_ci(&t->superseded, cn))
			r = oc_strlist_add(&t->superseded, cn);
		free(cn);
		cn = NULL;
		if (r != OC_OK)
			return r;
	}
	return OC_OK;
}

static int
parse_attributes(xmlNodePtr attrs, struct client_template *t)
{
	xmlNodePtr n;
	int r;

	if ((r = client_node_str(oc_xml_child(attrs, OC_NS_XCEP, "commonName"),
	    OC_TEMPLATE_NAME_MAX, &t->cn)) != OC_OK)
		return r == OC_ERR_NOT_FOUND ? OC_ERR_PARSE : r;
	if (t->cn[0] == '\0')
		return OC_ERR_PARSE;
	if (!opt_ok(r = client_node_u32(oc_xml_child(attrs, OC_NS_XCEP, "policySchema"),
	    &t->schema)))
		return r;
	if ((n = oc_xml_child(attrs, OC_NS_XCEP, "certificateValidity")) != NULL &&
	    (!opt_ok(r = client_node_u64(oc_xml_child(n, OC_NS_XCEP, "validityPeriodSeconds"),
	    &t->validity_seconds)) ||
	    !opt_ok(r = client_node_u64(oc_xml_child(n, OC_NS_XCEP, "renewalPeriodSeconds"),
	    &t->renewal_seconds))))
		return r;
	if ((r = parse_superseded(oc_xml_child(attrs, OC_NS_XCEP, "supersededPolicies"),
	    t)) != OC_OK)
		return r;
	if ((n = oc_xml_child(attrs, OC_NS_XCEP, "permission")) != NULL) {
		if (!opt_ok(r = client_node_bool(oc_xml_child(n, OC_NS_XCEP, "enroll"),
		    &t->enroll)) ||
		    !opt_ok(r = client_node_bool(oc_xml_child(n, OC_NS_XCEP, "autoEnroll"),
		    &t->auto_enroll)))
			return r;
	}
	if ((r = parse_key_attrs(oc_xml_child(attrs, OC_NS_XCEP, "privateKeyAttributes"),
	    t)) != OC_OK)
		return r;
	if ((n = oc_xml_child(attrs, OC_NS_XCEP, "revision")) != NULL) {
		if (!opt_ok(r = client_node_u32(oc_xml_child(n, OC_NS_XCEP, "majorRevision"),
		    &t->major)) ||
		    !opt_ok(r = client_node_u32(oc_xml_child(n, OC_NS_XCEP, "minorRevision"),
		    &t->minor)))
			return r;
	}
	if (!opt_ok(r = client_node_u32(oc_xml_child(attrs, OC_NS_XCEP, "privateKeyFlags"),
	    &t->private_key_flags)) ||
	    !opt_ok(r = client_node_u32(oc_xml_child(attrs, OC_NS_XCEP, "subjectNameFlags"),
	    &t->subject_name_flags)) ||
	    !opt_ok(r = client_node_u32(oc_xml_child(attrs, OC_NS_XCEP, "enrollmentFlags"),
	    &t->enrollment_flags)) ||
	    !opt_ok(r = client_node_u32(oc_xml_child(attrs, OC_NS_XCEP, "generalFlags"),
	    &t->general_flags)))
		return r;
	r = client_node_i32(oc_xml_child(attrs, OC_NS_XCEP, "hashAlgorithmOIDReference"),
	    &t->hash_ref);
	if (!opt_ok(r))
		return r;
	t->has_hash_ref = r == OC_OK;
	return OC_OK;
}

static int
parse_policy(xmlNodePtr p, struct client_template *t)
{
	xmlNodePtr cas, attrs, c;
	size_t n;
	int r;

	r = client_node_i32(oc_xml_child(p, OC_NS_XCEP, "policyOIDReference"), &t->policy_ref);
	if (!opt_ok(r))
		return r;
	t->has_policy_ref = r == OC_OK;
	cas = oc_xml_child(p, OC_NS_XCEP, "cAs");
	if (cas == NULL || oc_xml_is_nil(cas))
		t->cas_nil = 1;
	else {
		if ((r = count_children(cas, OC_NS_XCEP, "cAReference", OC_LIST_MAX, &n)) != OC_OK)
			return r;
		if (n > 0 && (t->ca_refs = calloc(n, sizeof(*t->ca_refs))) == NULL)
			return OC_ERR_NOMEM;
		for (c = oc_xml_next_element(cas->children); c != NULL;
		    c = oc_xml_next_element(c->next)) {
			if (!oc_xml_is(c, OC_NS_XCEP, "cAReference"))
				continue;
			if ((r = client_node_i32(c, &t->ca_refs[t->nca_refs])) != OC_OK)
				return r == OC_ERR_NOT_FOUND ? OC_ERR_PARSE : r;
			t->nca_refs++;
		}
		if (t->nca_refs == 0)
			t->cas_nil = 1;
	}
	/* a policy without attributes is useless (and breaks cepces): refuse */
	if ((attrs = oc_xml_child(p, OC_NS_XCEP, "attributes")) == NULL || oc_xml_is_nil(attrs))
		return OC_ERR_PARSE;
	return parse_attributes(attrs, t);
}

static int
parse_ca_uri(xmlNodePtr u, struct client_ca_uri *cu)
{
	int r;

	if ((r = client_node_u32(oc_xml_child(u, OC_NS_XCEP, "clientAuthentication"),
	    &cu->auth)) != OC_OK)
		return r == OC_ERR_NOT_FOUND ? OC_ERR_PARSE : r;
	if ((r = client_node_str(oc_xml_child(u, OC_NS_XCEP, "uri"), XCEP_URI_MAX,
	    &cu->uri)) != OC_OK)
		return r == OC_ERR_NOT_FOUND ? OC_ERR_PARSE : r;
	if (cu->uri[0] == '\0')
		return OC_ERR_PARSE;
	/* no whitespace or control characters inside (cepces would use them verbatim) */
	for (const unsigned char *c = (const unsigned char *)cu->uri; *c; c++)
		if (*c <= 0x20 || *c == 0x7f)
			return OC_ERR_PARSE;
	r = client_node_u32(oc_xml_child(u, OC_NS_XCEP, "priority"), &cu->priority);
	if (!opt_ok(r))
		return r;
	cu->has_priority = r == OC_OK;
	if (!opt_ok(r = client_node_bool(oc_xml_child(u, OC_NS_XCEP, "renewalOnly"),
	    &cu->renewal_only)))
		return r;
	return OC_OK;
}

static int
parse_ca(xmlNodePtr a, struct client_ca *ca)
{
	xmlNodePtr uris, c, cert;
	char *text = NULL;
	size_t n;
	int r;

	if ((r = client_node_i32(oc_xml_child(a, OC_NS_XCEP, "cAReferenceID"),
	    &ca->ref_id)) != OC_OK)
		return r == OC_ERR_NOT_FOUND ? OC_ERR_PARSE : r;
	if (!opt_ok(r = client_node_bool(oc_xml_child(a, OC_NS_XCEP, "enrollPermission"),
	    &ca->enroll_permission)))
		return r;
	uris = oc_xml_child(a, OC_NS_XCEP, "uris");
	if ((r = count_children(uris, OC_NS_XCEP, "cAURI", OC_LIST_MAX, &n)) != OC_OK)
		return r;
	if (n > 0 && (ca->uris = calloc(n, sizeof(*ca->uris))) == NULL)
		return OC_ERR_NOMEM;
	for (c = uris ? oc_xml_next_element(uris->children) : NULL; c != NULL;
	    c = oc_xml_next_element(c->next)) {
		if (!oc_xml_is(c, OC_NS_XCEP, "cAURI"))
			continue;
		r = parse_ca_uri(c, &ca->uris[ca->nuris]);
		ca->nuris++;    /* so that clear frees a partial entry */
		if (r != OC_OK)
			return r;
	}
	r = OC_OK;
	if ((cert = oc_xml_child(a, OC_NS_XCEP, "certificate")) != NULL && !oc_xml_is_nil(cert)) {
		if ((text = oc_xml_text(cert)) == NULL)
			return OC_ERR_NOMEM;
		if (text[0] != '\0')
			r = oc_b64_decode(text, strlen(text), &ca->cert_der, &ca->cert_len,
			    OC_CERT_DER_MAX);
		free(text);
		if (r != OC_OK)
			return r;
	}
	return OC_OK;
}

static int
parse_oid(xmlNodePtr o, struct client_oid *oid)
{
	int r;

	if ((r = client_node_str(oc_xml_child(o, OC_NS_XCEP, "value"), OC_OID_MAX,
	    &oid->value)) != OC_OK)
		return r == OC_ERR_NOT_FOUND ? OC_ERR_PARSE : r;
	if ((r = client_node_u32(oc_xml_child(o, OC_NS_XCEP, "group"), &oid->group)) != OC_OK ||
	    (r = client_node_i32(oc_xml_child(o, OC_NS_XCEP, "oIDReferenceID"),
	    &oid->ref_id)) != OC_OK)
		return r == OC_ERR_NOT_FOUND ? OC_ERR_PARSE : r;
	if (!opt_ok(r = client_node_str(oc_xml_child(o, OC_NS_XCEP, "defaultName"),
	    OC_NAME_MAX, &oid->default_name)))
		return r;
	return OC_OK;
}

/* Parse every {xcep}child of coll into an array of elem-sized entries. */
typedef int (*parse_item_fn)(xmlNodePtr, void *);

static int
parse_list(xmlNodePtr coll, const char *name, size_t max, size_t elem, parse_item_fn fn,
    void **arr, size_t *count)
{
	xmlNodePtr c;
	size_t n;
	int r;

	*arr = NULL;
	*count = 0;
	if (coll == NULL || oc_xml_is_nil(coll))
		return OC_OK;
	if ((r = count_children(coll, OC_NS_XCEP, name, max, &n)) != OC_OK)
		return r;
	if (n == 0)
		return OC_OK;
	if ((*arr = calloc(n, elem)) == NULL)
		return OC_ERR_NOMEM;
	for (c = oc_xml_next_element(coll->children); c != NULL;
	    c = oc_xml_next_element(c->next)) {
		if (!oc_xml_is(c, OC_NS_XCEP, name))
			continue;
		r = fn(c, (char *)*arr + *count * elem);
		++*count;       /* the entry is cleared with the rest on error */
		if (r != OC_OK)
			return r;
	}
	return OC_OK;
}

static int
parse_policy_item(xmlNodePtr n, void *p)
{
	return parse_policy(n, p);
}

static int
parse_ca_item(xmlNodePtr n, void *p)
{
	return parse_ca(n, p);
}

static int
parse_oid_item(xmlNodePtr n, void *p)
{
	return parse_oid(n, p);
}

const struct client_oid *
client_policy_oid(const struct client_policy *pol, int32_t ref)
{
	for (size_t i = 0; i < pol->noids; i++)
		if (pol->oids[i].ref_id == ref)
			return &pol->oids[i];
	return NULL;
}

const struct client_ca *
client_policy_ca(const struct client_policy *pol, int32_t ref)
{
	for (size_t i = 0; i < pol->ncas; i++)
		if (pol->cas[i].ref_id == ref)
			return &pol->cas[i];
	return NULL;
}

const struct client_template *
client_policy_find(const struct client_policy *pol, const char *cn)
{
	for (size_t i = 0; i < pol->ntemplates; i++)
		if (strcasecmp(pol->templates[i].cn, cn) == 0)
			return &pol->templates[i];
	return NULL;
}

/* Resolve the OID references of every template (unresolved => NULL). */
static void
resolve_refs(struct client_policy *pol)
{
	const struct client_oid *o;

	for (size_t i = 0; i < pol->ntemplates; i++) {
		struct client_template *t = &pol->templates[i];
		if (t->has_policy_ref && (o = client_policy_oid(pol, t->policy_ref)) != NULL) {
			t->oid = o->value;
			t->display_name = o->default_name;
		}
		if (t->has_alg_ref && (o = client_policy_oid(pol, t->alg_ref)) != NULL)
			t->alg_oid = o->value;
		if (t->has_hash_ref && (o = client_policy_oid(pol, t->hash_ref)) != NULL)
			t->hash_oid = o->value;
	}
}

int
client_policy_parse(const uint8_t *p, size_t len, struct client_policy *pol)
{
	struct oc_soap_msg msg;
	xmlNodePtr resp, n;
	void *arr;
	int r;

	memset(&msg, 0, sizeof(msg));
	client_policy_clear(pol);
	if ((r = oc_soap_parse(p, len, &msg)) != OC_OK)
		goto out;
	r = OC_ERR_SOAP_BODY;
	if (msg.payload == NULL)
		goto out;
	if (oc_xml_is(msg.payload, OC_NS_SOAP12, "Fault")) {
		if ((r = client_fault_parse(msg.payload, &pol->fault)) == OC_OK)
			pol->is_fault = 1;
		goto out;
	}
	if (!oc_xml_is(msg.payload, OC_NS_XCEP, "GetPoliciesResponse"))
		goto out;
	if ((resp = oc_xml_child(msg.payload, OC_NS_XCEP, "response")) != NULL &&
	    !oc_xml_is_nil(resp)) {
		if (!opt_ok(r = client_node_str(oc_xml_child(resp, OC_NS_XCEP, "policyID"),
		    OC_NAME_MAX, &pol->policy_id)) ||
		    !opt_ok(r = client_node_str(oc_xml_child(resp, OC_NS_XCEP,
		    "policyFriendlyName"), OC_NAME_MAX, &pol->friendly_name)) ||
		    !opt_ok(r = client_node_u32(oc_xml_child(resp, OC_NS_XCEP, "nextUpdateHours"),
		    &pol->next_update_hours)) ||
		    !opt_ok(r = client_node_bool(oc_xml_child(resp, OC_NS_XCEP,
		    "policiesNotChanged"), &pol->policies_not_changed)))
			goto out;
		n = oc_xml_child(resp, OC_NS_XCEP, "policies");
		r = parse_list(n, "policy", OC_TEMPLATES_MAX, sizeof(*pol->templates),
		    parse_policy_item, &arr, &pol->ntemplates);
		pol->templates = arr;
		if (r != OC_OK)
			goto out;
	}
	r = parse_list(oc_xml_child(msg.payload, OC_NS_XCEP, "cAs"), "cA", OC_LIST_MAX,
	    sizeof(*pol->cas), parse_ca_item, &arr, &pol->ncas);
	pol->cas = arr;
	if (r != OC_OK)
		goto out;
	r = parse_list(oc_xml_child(msg.payload, OC_NS_XCEP, "oIDs"), "oID", XCEP_OIDS_MAX,
	    sizeof(*pol->oids), parse_oid_item, &arr, &pol->noids);
	pol->oids = arr;
	if (r != OC_OK)
		goto out;
	resolve_refs(pol);
	r = OC_OK;
out:
	oc_soap_msg_clear(&msg);
	if (r == OC_ERR_NOT_FOUND)
		r = OC_ERR_PARSE;
	if (r != OC_OK)
		client_policy_clear(pol);
	return r;
}

/* ------------------------------------------------------------------ */
/* Key choice */

int
client_template_keyspec(const struct client_template *t, struct client_keyspec *ks)
{
	const char *a = t->alg_oid;
	uint32_t len = t->min_key_length;

	memset(ks, 0, sizeof(*ks));
	if (t->has_alg_ref && a == NULL)
		return OC_ERR_PARSE;            /* dangling algorithmOIDReference */
	if (a == NULL || strcmp(a, CLIENT_OID_RSA) == 0) {
		snprintf(ks->alg, sizeof(ks->alg), "RSA");
		if (len > OC_RSA_MAX_BITS)
			return OC_ERR_LIMIT;
		ks->bits = len < 2048 ? 2048 : (int)len;
	} else if (strcmp(a, CLIENT_OID_EC_PUBLIC) == 0 ||
	    strcmp(a, "1.2.840.10045.3.1.7") == 0 || strcmp(a, "1.3.132.0.34") == 0 ||
	    strcmp(a, "1.3.132.0.35") == 0) {
		/* the server names the curve by the minimal key length (or the curve OID) */
		if (strcmp(a, "1.2.840.10045.3.1.7") == 0)
			len = 256;
		else if (strcmp(a, "1.3.132.0.34") == 0)
			len = 384;
		else if (strcmp(a, "1.3.132.0.35") == 0)
			len = 521;
		if (len != 256 && len != 384 && len != 521)
			return OC_ERR_INVALID;
		snprintf(ks->alg, sizeof(ks->alg), "ECDSA_P%u", len);
		ks->bits = (int)len;
	} else
		return OC_ERR_INVALID;
	if (t->hash_oid != NULL) {
		if (strcmp(t->hash_oid, "2.16.840.1.101.3.4.2.2") == 0)
			ks->md = "sha384";
		else if (strcmp(t->hash_oid, "2.16.840.1.101.3.4.2.3") == 0)
			ks->md = "sha512";
	}
	return OC_OK;
}

/* ------------------------------------------------------------------ */
/* CES endpoint order */

static int
template_uses_ca(const struct client_template *t, int32_t ref)
{
	if (t->cas_nil)
		return 1;       /* no CA list: any CA (what cepces does anyway) */
	for (size_t i = 0; i < t->nca_refs; i++)
		if (t->ca_refs[i] == ref)
			return 1;
	return 0;
}

static int
endpoint_cmp(const void *a, const void *b)
{
	const struct client_endpoint *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return 0;
}

/* Append the URIs with auth and renewalOnly == want_ro not yet in v[0..*cnt). */
static void
collect_endpoints(const struct client_policy *pol, const struct client_template *t,
    uint32_t auth, int want_ro, struct client_endpoint *v, size_t *cnt)
{
	size_t i, j, k;

	for (i = 0; i < pol->ncas; i++) {
		const struct client_ca *ca = &pol->cas[i];
		if (!template_uses_ca(t, ca->ref_id))
			continue;
		for (j = 0; j < ca->nuris; j++) {
			const struct client_ca_uri *u = &ca->uris[j];
			int dup = 0;
			if (u->auth != auth || !u->renewal_only != !want_ro)
				continue;
			for (k = 0; k < *cnt; k++)
				if (strcmp(v[k].uri, u->uri) == 0)
					dup = 1;
			if (dup)
				continue;
			v[*cnt].uri = u->uri;
			v[*cnt].priority = u->has_priority ? u->priority : UINT32_MAX;
			v[*cnt].ca_ref = ca->ref_id;
			v[*cnt].renewal_only = u->renewal_only ? 1 : 0;
			(*cnt)++;
		}
	}
}

/* Sort v[0..n) by priority (nil last), then shuffle within each priority. */
static void
order_group(struct client_endpoint *v, size_t cnt, struct client_rng *rng)
{
	size_t i, j, k;

	if (cnt == 0)
		return;
	/* group by priority, then shuffle each group (Fisher-Yates) */
	qsort(v, cnt, sizeof(*v), endpoint_cmp);
	for (i = 0; i < cnt; i = j) {
		for (j = i + 1; j < cnt && v[j].priority == v[i].priority; j++)
			;
		for (k = j - 1; k > i; k--) {
			size_t m = i + client_rng_below(rng, (uint32_t)(k - i + 1));
			struct client_endpoint tmp = v[k];
			v[k] = v[m];
			v[m] = tmp;
		}
	}
}

int
client_order_endpoints_for(const struct client_policy *pol, const struct client_template *t,
    uint32_t auth, int renewal, struct client_rng *rng, struct client_endpoint **out,
    size_t *n)
{
	struct client_endpoint *v = NULL;
	size_t cap = 0, cnt = 0, nro = 0, i;

	*out = NULL;
	*n = 0;
	for (i = 0; i < pol->ncas; i++)
		cap += pol->cas[i].nuris;
	if (cap == 0)
		return OC_OK;
	if ((v = calloc(cap, sizeof(*v))) == NULL)
		return OC_ERR_NOMEM;
	if (renewal) {
		collect_endpoints(pol, t, auth, 1, v, &cnt);
		order_group(v, cnt, rng);
		nro = cnt;
	}
	collect_endpoints(pol, t, auth, 0, v, &cnt);
	order_group(v + nro, cnt - nro, rng);
	if (cnt == 0) {
		free(v);
		return OC_OK;
	}
	*out = v;
	*n = cnt;
	return OC_OK;
}

int
client_order_endpoints(const struct client_policy *pol, const struct client_template *t,
    uint32_t auth, struct client_rng *rng, struct client_endpoint **out, size_t *n)
{
	return client_order_endpoints_for(pol, t, auth, 0, rng, out, n);
}
