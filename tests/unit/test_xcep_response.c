/*
 * GetPoliciesResponse for a realistic view: the default templates User,
 * Machine, WebServer, Workstation (templates.md 12) plus an ECDSA schema-4
 * template, one CA with three CES URIs. Each response is validated against
 * tests/schemas/xcep.xsd with xmllint (the test oracle of xcep.md 3.1) and
 * checked field by field with XPath (order, nil markers, unsigned flags,
 * referential integrity).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "common/util.h"
#include "soap/soap.h"
#include "xcep/xcep.h"

int main(void);

#define BASE "1.3.6.1.4.1.311.21.8.1.2.3.1."
#define CLIENT_AUTH "1.3.6.1.5.5.7.3.2"
#define SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define YEAR  31536000
#define WEEKS6 3628800
#define RELATES "urn:uuid:5ba70002-d87c-4dd3-90e3-565e626a0e15"

/* xcep.md 8.2: throw-away self-signed EC test CA (CN=Example-CA) */
static const char ca_cert_b64[] =
    "MIIBuzCCAWGgAwIBAgIIHLPS2yhxVYUwCgYIKoZIzj0EAwIwQzETMBEGCgmSJomT8ixkARkWA2NvbTEXMBUGCgmSJomT8ixkARkWB2V4YW1wbGUxEzARBgNVBAMMCkV4YW1wbGUtQ0EwHhcNMjYwMTAxMDAwMDAwWhcNMzYwMTAxMDAwMDAwWjBDMRMwEQYKCZImiZPyLGQBGRYDY29tMRcwFQYKCZImiZPyLGQBGRYHZXhhbXBsZTETMBEGA1UEAwwKRXhhbXBsZS1DQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLAuHHEO/F8ljiDMAcix1Pvo484Pjeh4guPJxwJz33It98eMkmR0NHH9/hhgjwYRbjYAGzMerUbnTODqcLitn/GjPzA9MAsGA1UdDwQEAwIBBjAPBgNVHRMBAf8EBTADAQH/MB0GA1UdDgQWBBRuZ1hdEQxPypgee252fZ+jjxT4ETAKBggqhkjOPQQDAgNIADBFAiAtUA6FPIyKHTGKMdx862zlcZHC2P2a+CnoOKjjhpqoKgIhAMpE4ggf4ZlKkTNmEOfoFcZ1VfV8b4/f8ZX1pLCuN3oi";

enum { T_USER, T_MACHINE, T_WEBSERVER, T_WORKSTATION, T_ECDSA, T_N };

struct fixture {
	struct oc_template t[T_N];
	struct oc_xcep_entry e[T_N];
	struct oc_ca_entry ca[2];
	struct oc_xcep_view view;
};

static void
add(struct oc_strlist *l, const char *s)
{
	assert_int_equal(oc_strlist_add(l, s), OC_OK);
}

static void
csp(struct oc_template *t, uint32_t prio, const char *name)
{
	t->csps = realloc(t->csps, (t->ncsps + 1) * sizeof(*t->csps));
	assert_non_null(t->csps);
	t->csps[t->ncsps].priority = prio;
	t->csps[t->ncsps].name = strdup(name);
	t->ncsps++;
}

static void
tmpl(struct oc_template *t, const char *cn, const char *display, const char *oid,
    uint32_t schema, uint32_t flags, int32_t name_flag, uint32_t enroll_flag,
    uint32_t pk_flag, uint32_t min_key, uint32_t keyspec, uint16_t ku,
    int64_t validity, uint32_t rev, uint32_t minor)
{
	memset(t, 0, sizeof(*t));
	t->cn = strdup(cn);
	t->display_name = strdup(display);
	t->oid = strdup(oid);
	t->schema_version = schema;
	t->general_flags = flags;
	t->name_flags = (uint32_t)name_flag;    /* AD stores it signed */
	t->enrollment_flags = enroll_flag;
	t->private_key_flags = pk_flag;
	t->min_key_size = min_key;
	t->key_spec = keyspec;
	t->key_usage = ku;
	t->has_key_usage = 1;
	t->validity_seconds = validity;
	t->renewal_seconds = WEEKS6;
	t->revision = rev;
	t->minor_revision = minor;
	add(&t->critical_exts, "2.5.29.15");
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct oc_template *t;
	struct oc_ca_entry *ca;
	size_t n;

	assert_non_null(f);
	/* templates.md 12, rows 1, 14, 16, 30 */
	t = &f->t[T_USER];
	tmpl(t, "User", "User", BASE "1", 1, 66106, -1509949440, 41, 16, 2048, 1,
	    0xa000, YEAR, 3, 1);
	add(&t->eku, "1.3.6.1.4.1.311.10.3.4");
	add(&t->eku, "1.3.6.1.5.5.7.3.4");
	add(&t->eku, CLIENT_AUTH);
	csp(t, 2, "Microsoft Base Cryptographic Provider v1.0");
	csp(t, 1, "Microsoft Enhanced Cryptographic Provider v1.0");

	t = &f->t[T_MACHINE];
	tmpl(t, "Machine", "Computer", BASE "14", 1, 66144, 402653184, 32, 0, 2048, 1,
	    0xa000, YEAR, 5, 1);
	add(&t->eku, CLIENT_AUTH);
	add(&t->eku, SERVER_AUTH);
	csp(t, 1, "Microsoft RSA SChannel Cryptographic Provider");

	t = &f->t[T_WEBSERVER];
	tmpl(t, "WebServer", "Web Server", BASE "16", 1, 66113, 1, 0, 0, 2048, 1,
	    0xa000, 2 * YEAR, 4, 1);
	add(&t->eku, SERVER_AUTH);
	csp(t, 2, "Microsoft DH SChannel Cryptographic Provider");
	csp(t, 1, "Microsoft RSA SChannel Cryptographic Provider");

	t = &f->t[T_WORKSTATION];
	tmpl(t, "Workstation", "Workstation Authentication", BASE "30", 2, 66144,
	    134217728, 32, 0, 2048, 1, 0xa000, YEAR, 101, 0);
	add(&t->eku, CLIENT_AUTH);
	add(&t->app_policies, CLIENT_AUTH);
	csp(t, 1, "Microsoft RSA SChannel Cryptographic Provider");

	/* A CNG schema-4 ECDSA template (Windows 10 / 2016 compatibility) */
	t = &f->t[T_ECDSA];
	tmpl(t, "WebServerECDSA", "Web Server (ECDSA P-256)", BASE "40", 4, 66113, 1, 0,
	    0x06060000, 256, 2, 0x8000, YEAR, 100, 3);
	add(&t->eku, SERVER_AUTH);
	add(&t->app_policies, SERVER_AUTH);
	add(&t->superseded, "WebServer");
	t->key_algorithm = strdup("ECDSA_P256");
	t->hash_algorithm = strdup("SHA256");
	csp(t, 1, "Microsoft Software Key Storage Provider");

	for (size_t i = 0; i < T_N; i++)
		f->e[i].t = &f->t[i];
	f->e[T_USER].enroll = 1;
	f->e[T_MACHINE].enroll = 1;
	f->e[T_MACHINE].autoenroll = 1;
	f->e[T_WEBSERVER].enroll = 0;   /* listed, but the caller may not enroll */
	f->e[T_WORKSTATION].enroll = 1;
	f->e[T_WORKSTATION].autoenroll = 1;
	f->e[T_ECDSA].enroll = 1;

	ca = &f->ca[0];
	ca->name = strdup("Example-CA");
	assert_int_equal(oc_b64_decode(ca_cert_b64, strlen(ca_cert_b64), &ca->cert_der,
	    &ca->cert_der_len, 4096), OC_OK);
	for (size_t i = 0; i < T_N; i++)
		add(&ca->templates, f->t[i].cn);
	ca->uris = calloc(3, sizeof(*ca->uris));
	assert_non_null(ca->uris);
	ca->nuris = 3;
	ca->uris[0] = (struct oc_ces_uri){ 2,
	    strdup("https://ca.example.com/Example-CA_CES_Kerberos/service.svc/CES"), 1, 0 };
	ca->uris[1] = (struct oc_ces_uri){ 4,
	    strdup("https://ca.example.com/Example-CA_CES_UsernamePassword/service.svc/CES"), 2, 0 };
	ca->uris[2] = (struct oc_ces_uri){ 8,
	    strdup(" https://ca.example.com/Example-CA_CES_Certificate/service.svc/CES\n"), 3, 1 };
	/* A second CA without any CES URI: never published, never referenced. */
	ca = &f->ca[1];
	ca->name = strdup("Offline-CA");
	assert_int_equal(oc_b64_decode(ca_cert_b64, strlen(ca_cert_b64), &ca->cert_der,
	    &n, 4096), OC_OK);
	ca->cert_der_len = n;
	add(&ca->templates, "User");

	f->view.policy_id = "{083C7011-1D0A-4855-885D-AC945184658C}";
	f->view.friendly_name = "Contoso <Enrollment> Policy";
	f->view.next_update_hours = 8;
	f->view.last_change = 1767225600;       /* 2026-01-01T00:00:00Z */
	f->view.entries = f->e;
	f->view.nentries = T_N;
	f->view.cas = f->ca;
	f->view.ncas = 2;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < T_N; i++)
		oc_template_clear(&f->t[i]);
	for (size_t i = 0; i < 2; i++)
		oc_ca_entry_clear(&f->ca[i]);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static void
request(const char *vector, struct oc_xcep_request *req)
{
	char path[1024];
	uint8_t *p = NULL;
	size_t n = 0;
	struct oc_soap_msg msg;
	const char *dir = getenv("OC_VECTORS");

	snprintf(path, sizeof(path), "%s/xcep/%s", dir ? dir : "tests/vectors", vector);
	assert_int_equal(oc_file_read(path, &p, &n, 1 << 20), OC_OK);
	assert_int_equal(oc_soap_parse(p, n, &msg), OC_OK);
	assert_int_equal(oc_xcep_parse_request(&msg, req), OC_OK);
	oc_soap_msg_clear(&msg);
	free(p);
}

static void
render(const struct oc_xcep_view *v, const char *vector, struct ocbuf *out)
{
	struct oc_xcep_request req;

	request(vector, &req);
	ocbuf_init(out, 1 << 20);
	assert_int_equal(oc_xcep_render_response(out, v, &req, RELATES), OC_OK);
	oc_xcep_request_clear(&req);
}

/* Write the payload element as its own document (namespaces reconciled). */
static void
payload_file(const struct ocbuf *b, char *path, size_t pathlen, int swap_uri_priority)
{
	struct oc_soap_msg msg;
	xmlDocPtr d;
	xmlNodePtr copy;
	xmlChar *mem = NULL;
	int len = 0, fd;

	assert_int_equal(oc_soap_parse(b->d, b->len, &msg), OC_OK);
	assert_true(oc_xml_is(msg.payload, OC_NS_XCEP, "GetPoliciesResponse"));
	assert_null(oc_xml_next_element(msg.payload->next));   /* only child of Body */
	d = xmlNewDoc((const xmlChar *)"1.0");
	copy = xmlDocCopyNode(msg.payload, d, 1);
	assert_non_null(copy);
	xmlDocSetRootElement(d, copy);
	assert_true(xmlReconciliateNs(d, copy) >= 0);
	if (swap_uri_priority) {
		/* Mutation for the oracle: priority before uri must be rejected. */
		xmlXPathContextPtr x = xmlXPathNewContext(d);
		xmlXPathObjectPtr o;
		xmlXPathRegisterNs(x, (const xmlChar *)"x", (const xmlChar *)OC_NS_XCEP);
		o = xmlXPathEvalExpression((const xmlChar *)"(//x:cAURI/x:priority)[1]", x);
		assert_true(o && o->nodesetval && o->nodesetval->nodeNr == 1);
		{
			xmlNodePtr pr = o->nodesetval->nodeTab[0];
			xmlNodePtr uri = oc_xml_child(pr->parent, OC_NS_XCEP, "uri");
			xmlUnlinkNode(pr);
			xmlAddPrevSibling(uri, pr);
		}
		xmlXPathFreeObject(o);
		xmlXPathFreeContext(x);
	}
	xmlDocDumpMemory(d, &mem, &len);
	snprintf(path, pathlen, "/tmp/oc_xcep_payload_XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, mem, (size_t)len), len);
	close(fd);
	xmlFree(mem);
	xmlFreeDoc(d);
	oc_soap_msg_clear(&msg);
}

/* xmllint --schema xcep.xsd on the payload: 0 when valid. */
static int
xsd_validate(const struct ocbuf *b, int mutate)
{
	char path[64], cmd[2048];
	const char *schemas = getenv("OC_SCHEMAS");
	int rc;

	payload_file(b, path, sizeof(path), mutate);
	snprintf(cmd, sizeof(cmd), "xmllint --noout --schema '%s/xcep.xsd' '%s' %s",
	    schemas ? schemas : "tests/schemas", path, mutate ? ">/dev/null 2>&1" : "");
	rc = system(cmd);
	unlink(path);
	return rc;
}

struct xp {
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

static void
xp_open(struct xp *x, const struct ocbuf *b)
{
	x->doc = xmlReadMemory((const char *)b->d, (int)b->len, NULL, NULL, XML_PARSE_NONET);
	assert_non_null(x->doc);
	x->ctx = xmlXPathNewContext(x->doc);
	xmlXPathRegisterNs(x->ctx, (const xmlChar *)"x", (const xmlChar *)OC_NS_XCEP);
	xmlXPathRegisterNs(x->ctx, (const xmlChar *)"s", (const xmlChar *)OC_NS_SOAP12);
	xmlXPathRegisterNs(x->ctx, (const xmlChar *)"a", (const xmlChar *)OC_NS_WSA);
	xmlXPathRegisterNs(x->ctx, (const xmlChar *)"i", (const xmlChar *)OC_NS_XSI);
}

static void
xp_close(struct xp *x)
{
	xmlXPathFreeContext(x->ctx);
	xmlFreeDoc(x->doc);
}

/* string(expr) */
static char *
xp_str(struct xp *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *
xp_str(struct xp *x, const char *fmt, ...)
{
	char expr[1024], wrapped[1100];
	xmlXPathObjectPtr o;
	char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	snprintf(wrapped, sizeof(wrapped), "string(%s)", expr);
	o = xmlXPathEvalExpression((const xmlChar *)wrapped, x->ctx);
	assert_non_null(o);
	s = strdup((const char *)o->stringval);
	xmlXPathFreeObject(o);
	return s;
}

static double
xp_num(struct xp *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static double
xp_num(struct xp *x, const char *fmt, ...)
{
	char expr[1024];
	xmlXPathObjectPtr o;
	double d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(expr, sizeof(expr), fmt, ap);
	va_end(ap);
	o = xmlXPathEvalExpression((const xmlChar *)expr, x->ctx);
	if (o == NULL)
		fail_msg("bad xpath %s", expr);
	d = xmlXPathCastToNumber(o);
	xmlXPathFreeObject(o);
	return d;
}

#define XP_EQ(x, want, ...) do {                                         \
	char *_s = xp_str((x), __VA_ARGS__);                             \
	if (strcmp(_s, (want)) != 0)                                      \
		fail_msg("%s: got '%s', want '%s'", #__VA_ARGS__, _s, (want)); \
	free(_s);                                                        \
} while (0)

#define XP_COUNT(x, want, ...) do {                                      \
	double _n = xp_num((x), __VA_ARGS__);                            \
	if (_n != (double)(want))                                        \
		fail_msg("%s: count %g, want %d", #__VA_ARGS__, _n, (int)(want)); \
} while (0)

/* The element children of the node at expr, by local name, in order. */
static void
assert_children(struct xp *x, const char *expr, const char *const *names, size_t n)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, x->ctx);
	xmlNodePtr c;
	size_t i = 0;

	assert_true(o && o->nodesetval && o->nodesetval->nodeNr >= 1);
	for (int k = 0; k < o->nodesetval->nodeNr; k++) {
		i = 0;
		for (c = oc_xml_next_element(o->nodesetval->nodeTab[k]->children); c != NULL;
		    c = oc_xml_next_element(c->next), i++) {
			if (i >= n || !oc_xml_is(c, OC_NS_XCEP, names[i]))
				fail_msg("%s[%d] child %zu: %s, want %s", expr, k, i,
				    (const char *)c->name, i < n ? names[i] : "(end)");
		}
		assert_int_equal(i, n);
	}
	xmlXPathFreeObject(o);
}

#define POL "//x:policy[x:attributes/x:commonName='%s']"

/* ---- tests ---- */

static void
t_full_policy_valid(void **state)
{
	struct fixture *f = *state;
	struct ocbuf b;

	render(&f->view, "cepces_0317.xml", &b);
	assert_int_equal(xsd_validate(&b, 0), 0);
	/* the oracle can fail: priority before uri is rejected */
	assert_true(xsd_validate(&b, 1) != 0);
	ocbuf_free(&b);
}

static void
t_envelope_and_order(void **state)
{
	static const char *const resp[] = { "response", "cAs", "oIDs" };
	static const char *const response[] = { "policyID", "policyFriendlyName",
		"nextUpdateHours", "policiesNotChanged", "policies" };
	static const char *const policy[] = { "policyOIDReference", "cAs", "attributes" };
	static const char *const attrs[] = { "commonName", "policySchema",
		"certificateValidity", "permission", "privateKeyAttributes", "revision",
		"supersededPolicies", "privateKeyFlags", "subjectNameFlags",
		"enrollmentFlags", "generalFlags", "hashAlgorithmOIDReference",
		"rARequirements", "keyArchivalAttributes", "extensions" };
	static const char *const pka[] = { "minimalKeyLength", "keySpec",
		"keyUsageProperty", "permissions", "algorithmOIDReference", "cryptoProviders" };
	static const char *const ext[] = { "oIDReference", "critical", "value" };
	static const char *const ca[] = { "uris", "certificate", "enrollPermission",
		"cAReferenceID" };
	static const char *const uri[] = { "clientAuthentication", "uri", "priority",
		"renewalOnly" };
	static const char *const oid[] = { "value", "group", "oIDReferenceID", "defaultName" };
	struct fixture *f = *state;
	struct ocbuf b;
	struct xp x;

	render(&f->view, "cepces_0317.xml", &b);
	/* Windows wire shape: prefixes s/a, exact action, RelatesTo, xsi on Body */
	assert_non_null(strstr((char *)b.d, "<s:Envelope xmlns:s=\"" OC_NS_SOAP12
	    "\" xmlns:a=\"" OC_NS_WSA "\"><s:Header><a:Action s:mustUnderstand=\"1\">"
	    OC_XCEP_ACTION_RESPONSE "</a:Action><a:RelatesTo>" RELATES
	    "</a:RelatesTo></s:Header><s:Body xmlns:xsi=\"" OC_NS_XSI "\" xmlns:xsd=\""
	    OC_NS_XSD "\"><GetPoliciesResponse xmlns=\"" OC_NS_XCEP "\"><response>"));
	xp_open(&x, &b);
	assert_children(&x, "/s:Envelope/s:Body/x:GetPoliciesResponse", resp, 3);
	assert_children(&x, "//x:response", response, 5);
	assert_children(&x, "//x:policy", policy, 3);
	assert_children(&x, "//x:attributes", attrs, 15);
	assert_children(&x, "//x:privateKeyAttributes", pka, 6);
	assert_children(&x, "//x:extension", ext, 3);
	assert_children(&x, "//x:cAs/x:cA", ca, 4);
	assert_children(&x, "//x:cAURI", uri, 4);
	assert_children(&x, "//x:oID", oid, 4);
	XP_EQ(&x, "{083C7011-1D0A-4855-885D-AC945184658C}", "//x:policyID");
	XP_EQ(&x, "Contoso <Enrollment> Policy", "//x:policyFriendlyName");
	XP_EQ(&x, "8", "//x:nextUpdateHours");
	XP_EQ(&x, "true", "//x:policiesNotChanged/@i:nil");
	XP_COUNT(&x, 5, "count(//x:policies/x:policy)");
	xp_close(&x);
	ocbuf_free(&b);
}

static void
t_user_template(void **state)
{
	struct fixture *f = *state;
	struct ocbuf b;
	struct xp x;

	render(&f->view, "cepces_0317.xml", &b);
	xp_open(&x, &b);
	XP_EQ(&x, "1", POL "/x:attributes/x:policySchema", "User");
	XP_EQ(&x, "31536000", POL "//x:validityPeriodSeconds", "User");
	XP_EQ(&x, "3628800", POL "//x:renewalPeriodSeconds", "User");
	XP_EQ(&x, "true", POL "//x:permission/x:enroll", "User");
	XP_EQ(&x, "false", POL "//x:permission/x:autoEnroll", "User");
	XP_EQ(&x, "2048", POL "//x:minimalKeyLength", "User");
	XP_EQ(&x, "1", POL "//x:keySpec", "User");
	/* nil markers of a v1 template */
	XP_EQ(&x, "true", POL "//x:keyUsageProperty/@i:nil", "User");
	XP_EQ(&x, "true", POL "//x:privateKeyAttributes/x:permissions/@i:nil", "User");
	XP_EQ(&x, "true", POL "//x:algorithmOIDReference/@i:nil", "User");
	XP_EQ(&x, "true", POL "//x:supersededPolicies/@i:nil", "User");
	XP_EQ(&x, "true", POL "//x:hashAlgorithmOIDReference/@i:nil", "User");
	XP_EQ(&x, "true", POL "//x:rARequirements/@i:nil", "User");
	XP_EQ(&x, "true", POL "//x:keyArchivalAttributes/@i:nil", "User");
	/* providers ordered by the pKIDefaultCSPs priority, names only */
	XP_EQ(&x, "Microsoft Enhanced Cryptographic Provider v1.0",
	    POL "//x:cryptoProviders/x:provider[1]", "User");
	XP_EQ(&x, "Microsoft Base Cryptographic Provider v1.0",
	    POL "//x:cryptoProviders/x:provider[2]", "User");
	XP_EQ(&x, "3", POL "//x:majorRevision", "User");
	XP_EQ(&x, "1", POL "//x:minorRevision", "User");
	/* flags: unsigned decimal; AD's -1509949440 is 0xA6000000 */
	XP_EQ(&x, "16", POL "//x:privateKeyFlags", "User");
	XP_EQ(&x, "2785017856", POL "//x:subjectNameFlags", "User");
	XP_EQ(&x, "41", POL "//x:enrollmentFlags", "User");
	XP_EQ(&x, "66106", POL "//x:generalFlags", "User");
	/* extensions: v1 template name, EKU, key usage (critical) */
	XP_COUNT(&x, 3, "count(" POL "//x:extension)", "User");
	XP_EQ(&x, "1.3.6.1.4.1.311.20.2", "//x:oID[x:oIDReferenceID=string(" POL
	    "//x:extension[1]/x:oIDReference)]/x:value", "User");
	XP_EQ(&x, "HggAVQBzAGUAcg==", POL "//x:extension[1]/x:value", "User");
	XP_EQ(&x, "false", POL "//x:extension[1]/x:critical", "User");
	XP_EQ(&x, "2.5.29.37", "//x:oID[x:oIDReferenceID=string(" POL
	    "//x:extension[2]/x:oIDReference)]/x:value", "User");
	XP_EQ(&x, "MCAGCisGAQQBgjcKAwQGCCsGAQUFBwMEBggrBgEFBQcDAg==",
	    POL "//x:extension[2]/x:value", "User");
	XP_EQ(&x, "2.5.29.15", "//x:oID[x:oIDReferenceID=string(" POL
	    "//x:extension[3]/x:oIDReference)]/x:value", "User");
	XP_EQ(&x, "AwIFoA==", POL "//x:extension[3]/x:value", "User");
	XP_EQ(&x, "true", POL "//x:extension[3]/x:critical", "User");
	/* display name is the group-9 OID's defaultName */
	XP_EQ(&x, "Computer", "//x:oID[x:oIDReferenceID=string(" POL
	    "/x:policyOIDReference)]/x:defaultName", "Machine");
	XP_EQ(&x, "9", "//x:oID[x:oIDReferenceID=string(" POL
	    "/x:policyOIDReference)]/x:group", "Machine");
	XP_EQ(&x, "Hg4ATQBhAGMAaABpAG4AZQ==", POL "//x:extension[1]/x:value", "Machine");
	XP_EQ(&x, "MBQGCCsGAQUFBwMCBggrBgEFBQcDAQ==", POL "//x:extension[2]/x:value", "Machine");
	XP_EQ(&x, "true", POL "//x:autoEnroll", "Machine");
	XP_EQ(&x, "false", POL "//x:permission/x:enroll", "WebServer");
	/* EKU OIDs are listed in group 7 with their names */
	XP_EQ(&x, "Client Authentication", "//x:oID[x:value='" CLIENT_AUTH
	    "' and x:group=7]/x:defaultName");
	XP_COUNT(&x, 1, "count(//x:oID[x:value='1.3.6.1.4.1.311.10.3.4' and x:group=7])");
	xp_close(&x);
	ocbuf_free(&b);
}

static void
t_v2_and_ecdsa(void **state)
{
	struct fixture *f = *state;
	struct ocbuf b;
	struct xp x;

	render(&f->view, "cepces_0317.xml", &b);
	xp_open(&x, &b);
	/* Workstation (v2): 21.7 template info, EKU, KU, application policies */
	XP_COUNT(&x, 4, "count(" POL "//x:extension)", "Workstation");
	XP_EQ(&x, "1.3.6.1.4.1.311.21.7", "//x:oID[x:oIDReferenceID=string(" POL
	    "//x:extension[1]/x:oIDReference)]/x:value", "Workstation");
	XP_EQ(&x, "MBYGDisGAQQBgjcVCAECAwEeAgFlAgEA", POL "//x:extension[1]/x:value",
	    "Workstation");
	XP_EQ(&x, "MAoGCCsGAQUFBwMC", POL "//x:extension[2]/x:value", "Workstation");
	XP_EQ(&x, "1.3.6.1.4.1.311.21.10", "//x:oID[x:oIDReferenceID=string(" POL
	    "//x:extension[4]/x:oIDReference)]/x:value", "Workstation");
	XP_EQ(&x, "MAwwCgYIKwYBBQUHAwI=", POL "//x:extension[4]/x:value", "Workstation");
	XP_EQ(&x, "true", POL "//x:hashAlgorithmOIDReference/@i:nil", "Workstation");
	XP_EQ(&x, "true", POL "//x:algorithmOIDReference/@i:nil", "Workstation");
	XP_EQ(&x, "101", POL "//x:majorRevision", "Workstation");
	XP_EQ(&x, "0", POL "//x:minorRevision", "Workstation");
	/* ECDSA schema 4: group-3 curve OID, group-1 hash, superseded, flags */
	XP_EQ(&x, "4", POL "//x:policySchema", "WebServerECDSA");
	XP_EQ(&x, "1.2.840.10045.3.1.7", "//x:oID[x:group=3 and x:oIDReferenceID=string("
	    POL "//x:algorithmOIDReference)]/x:value", "WebServerECDSA");
	XP_EQ(&x, "2.16.840.1.101.3.4.2.1", "//x:oID[x:group=1 and x:oIDReferenceID=string("
	    POL "//x:hashAlgorithmOIDReference)]/x:value", "WebServerECDSA");
	XP_EQ(&x, "sha256", "//x:oID[x:group=1]/x:defaultName");
	XP_EQ(&x, "WebServer", POL "//x:supersededPolicies/x:commonName", "WebServerECDSA");
	XP_EQ(&x, "101056512", POL "//x:privateKeyFlags", "WebServerECDSA");
	XP_EQ(&x, "256", POL "//x:minimalKeyLength", "WebServerECDSA");
	XP_EQ(&x, "AwIHgA==", POL "//x:extension[3]/x:value", "WebServerECDSA");
	xp_close(&x);
	ocbuf_free(&b);
}

static void
t_cas(void **state)
{
	struct fixture *f = *state;
	struct ocbuf b;
	struct xp x;

	render(&f->view, "cepces_0317.xml", &b);
	xp_open(&x, &b);
	/* the URI-less CA is not published */
	XP_COUNT(&x, 1, "count(//x:GetPoliciesResponse/x:cAs/x:cA)");
	XP_EQ(&x, ca_cert_b64, "//x:cA/x:certificate");
	XP_EQ(&x, "true", "//x:cA/x:enrollPermission");
	XP_COUNT(&x, 3, "count(//x:cAURI)");
	XP_EQ(&x, "2", "//x:cAURI[1]/x:clientAuthentication");
	XP_EQ(&x, "https://ca.example.com/Example-CA_CES_Kerberos/service.svc/CES",
	    "//x:cAURI[1]/x:uri");
	XP_EQ(&x, "1", "//x:cAURI[1]/x:priority");
	XP_EQ(&x, "false", "//x:cAURI[1]/x:renewalOnly");
	XP_EQ(&x, "4", "//x:cAURI[2]/x:clientAuthentication");
	XP_EQ(&x, "2", "//x:cAURI[2]/x:priority");
	XP_EQ(&x, "8", "//x:cAURI[3]/x:clientAuthentication");
	/* no whitespace inside <uri> (cepces uses it verbatim) */
	XP_EQ(&x, "https://ca.example.com/Example-CA_CES_Certificate/service.svc/CES",
	    "//x:cAURI[3]/x:uri");
	XP_EQ(&x, "true", "//x:cAURI[3]/x:renewalOnly");
	/* every policy references exactly the published CA */
	XP_COUNT(&x, 5, "count(//x:policy/x:cAs/x:cAReference)");
	XP_COUNT(&x, 0, "count(//x:policy/x:cAs/x:cAReference[. != //x:cA/x:cAReferenceID])");
	xp_close(&x);
	ocbuf_free(&b);
}

/* Every reference resolves, in the right group; ids are unique. */
static void
check_integrity(const struct ocbuf *b)
{
	struct xp x;

	xp_open(&x, b);
	XP_COUNT(&x, 0, "count(//x:oID[x:oIDReferenceID = preceding::x:oID/x:oIDReferenceID])");
	XP_COUNT(&x, 0, "count(//x:oID[x:value = preceding::x:oID/x:value and "
	    "x:group = preceding::x:oID[x:value = current()/x:value]/x:group])");
	XP_COUNT(&x, 0, "count(//x:cA[x:cAReferenceID = preceding::x:cA/x:cAReferenceID])");
	XP_COUNT(&x, 0, "count(//x:attributes/x:commonName[. = preceding::x:attributes/x:commonName])");
	XP_COUNT(&x, 0, "count(//x:policyOIDReference[not(. = //x:oID[x:group=9]/x:oIDReferenceID)])");
	XP_COUNT(&x, 0, "count(//x:extension/x:oIDReference[not(. = //x:oID[x:group=6]/x:oIDReferenceID)])");
	XP_COUNT(&x, 0, "count(//x:algorithmOIDReference[not(@i:nil)][not(. = //x:oID[x:group=3]/x:oIDReferenceID)])");
	XP_COUNT(&x, 0, "count(//x:hashAlgorithmOIDReference[not(@i:nil)][not(. = //x:oID[x:group=1]/x:oIDReferenceID)])");
	XP_COUNT(&x, 0, "count(//x:rAEKUs/x:oIDReference[not(. = //x:oID[x:group=7]/x:oIDReferenceID)])");
	XP_COUNT(&x, 0, "count(//x:rAPolicies/x:oIDReference[not(. = //x:oID[x:group=8]/x:oIDReferenceID)])");
	XP_COUNT(&x, 0, "count(//x:cAReference[not(. = //x:cA/x:cAReferenceID)])");
	/* no empty collections; nil is literally "true" */
	XP_COUNT(&x, 0, "count(//x:cryptoProviders[not(@i:nil)][not(x:provider)])");
	XP_COUNT(&x, 0, "count(//*[@i:nil and @i:nil != 'true'])");
	XP_COUNT(&x, 0, "count(//*[@i:nil][* or normalize-space(.) != ''])");
	xp_close(&x);
}

static void
t_integrity(void **state)
{
	struct fixture *f = *state;
	struct ocbuf b;

	render(&f->view, "cepces_0317.xml", &b);
	check_integrity(&b);
	ocbuf_free(&b);
}

/* RA requirements from CNG triplets: rAEKUs reference group-7 OIDs. */
static void
t_ra_requirements(void **state)
{
	struct fixture *f = *state;
	struct oc_template *t = &f->t[T_WORKSTATION];
	struct ocbuf b;
	struct xp x;

	t->ra_signatures = 1;
	add(&t->ra_app_policies, "msPKI-Asymmetric-Algorithm`PZPWSTR`RSA`"
	    "msPKI-RA-Application-Policies`PZPWSTR`1.3.6.1.4.1.311.20.2.1`");
	add(&t->ra_policies, "1.3.6.1.4.1.311.21.8.1.2.3.2.1");
	render(&f->view, "cepces_0317.xml", &b);
	assert_int_equal(xsd_validate(&b, 0), 0);
	check_integrity(&b);
	xp_open(&x, &b);
	XP_EQ(&x, "1", POL "//x:rASignatures", "Workstation");
	XP_EQ(&x, "1.3.6.1.4.1.311.20.2.1", "//x:oID[x:group=7 and x:oIDReferenceID=string("
	    POL "//x:rAEKUs/x:oIDReference)]/x:value", "Workstation");
	XP_EQ(&x, "Certificate Request Agent", "//x:oID[x:value='1.3.6.1.4.1.311.20.2.1']/x:defaultName");
	XP_EQ(&x, "1.3.6.1.4.1.311.21.8.1.2.3.2.1", "//x:oID[x:group=8 and x:oIDReferenceID=string("
	    POL "//x:rAPolicies/x:oIDReference)]/x:value", "Workstation");
	xp_close(&x);
	ocbuf_free(&b);
	t->ra_signatures = 0;
}

/* Version filters (xcep.md 2.2 rev 18) and the OID filter. */
static void
t_filters(void **state)
{
	static const struct {
		const char *vector;
		int npolicies;
		int ecdsa;              /* client/server version 6 template visible */
	} v[] = {
		{ "cepces_0317.xml", 5, 1 },    /* 0/0 => max (6) */
		{ "cepces_0316.xml", 4, 0 },    /* nil/nil => 3/3 */
		{ "win7_kerberos.xml", 4, 0 },  /* no filter => Z = 3 */
		{ "mdm_all_nil.xml", 4, 0 },
		{ "windows_modern.xml", 5, 1 }, /* 6 / 0 */
		{ "policy_oid_filter.xml", 2, 0 },  /* User + Workstation only */
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ocbuf b;
		struct xp x;

		render(&f->view, v[i].vector, &b);
		assert_int_equal(xsd_validate(&b, 0), 0);
		check_integrity(&b);
		xp_open(&x, &b);
		XP_COUNT(&x, v[i].npolicies, "count(//x:policy)");
		XP_COUNT(&x, v[i].ecdsa, "count(" POL ")", "WebServerECDSA");
		/* OIDs of hidden templates are not listed */
		XP_COUNT(&x, v[i].npolicies, "count(//x:oID[x:group=9])");
		xp_close(&x);
		ocbuf_free(&b);
	}
	{
		struct ocbuf b;
		struct xp x;

		render(&f->view, "policy_oid_filter.xml", &b);
		xp_open(&x, &b);
		XP_EQ(&x, "User", "//x:policy[1]//x:commonName");
		XP_EQ(&x, "Workstation", "//x:policy[2]/x:attributes/x:commonName");
		xp_close(&x);
		ocbuf_free(&b);
	}
}

/* A caller that sees nothing gets nil policies, still schema-valid. */
static void
t_nothing_visible(void **state)
{
	struct fixture *f = *state;
	struct oc_xcep_view v = f->view;
	struct oc_xcep_request req;
	struct ocbuf b;
	struct xp x;

	request("cepces_0317.xml", &req);
	assert_int_equal(oc_strlist_add(&req.policy_oids, "1.2.3.4"), OC_OK);
	v.ncas = 0;
	v.friendly_name = NULL;
	v.next_update_hours = 0;
	ocbuf_init(&b, 1 << 20);
	assert_int_equal(oc_xcep_render_response(&b, &v, &req, NULL), OC_OK);
	assert_null(strstr((char *)b.d, "RelatesTo"));
	assert_int_equal(xsd_validate(&b, 0), 0);
	xp_open(&x, &b);
	XP_EQ(&x, "true", "//x:policies/@i:nil");
	XP_EQ(&x, "true", "//x:GetPoliciesResponse/x:cAs/@i:nil");
	XP_EQ(&x, "true", "//x:oIDs/@i:nil");
	XP_COUNT(&x, 1, "count(//x:policyFriendlyName[not(node())])");
	XP_EQ(&x, "8", "//x:nextUpdateHours");
	xp_close(&x);
	ocbuf_free(&b);
	oc_xcep_request_clear(&req);
}

/* xcep.md 5.2 / 8.3: lastUpdate >= last change => policiesNotChanged. */
static void
t_not_changed(void **state)
{
	struct fixture *f = *state;
	struct ocbuf b;
	struct xp x;

	render(&f->view, "win_lastupdate_2030.xml", &b);
	assert_int_equal(xsd_validate(&b, 0), 0);
	xp_open(&x, &b);
	XP_EQ(&x, "true", "//x:policiesNotChanged");
	XP_EQ(&x, "true", "//x:policies/@i:nil");
	XP_EQ(&x, "true", "//x:GetPoliciesResponse/x:cAs/@i:nil");
	XP_EQ(&x, "true", "//x:oIDs/@i:nil");
	XP_EQ(&x, "{083C7011-1D0A-4855-885D-AC945184658C}", "//x:policyID");
	xp_close(&x);
	ocbuf_free(&b);

	/* year 0001 (Windows first contact) is older: the full policy */
	render(&f->view, "win7_kerberos.xml", &b);
	xp_open(&x, &b);
	XP_EQ(&x, "true", "//x:policiesNotChanged/@i:nil");
	XP_COUNT(&x, 4, "count(//x:policy)");
	xp_close(&x);
	ocbuf_free(&b);
}

/* Same input, same bytes; OID ids do not depend on the filters. */
static void
t_deterministic(void **state)
{
	struct fixture *f = *state;
	struct ocbuf a, b;
	struct xp x;
	char *id_all, *id_filtered;

	render(&f->view, "cepces_0317.xml", &a);
	render(&f->view, "cepces_0317.xml", &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.d, b.d, a.len);
	xp_open(&x, &a);
	id_all = xp_str(&x, POL "/x:policyOIDReference", "Workstation");
	xp_close(&x);
	ocbuf_free(&b);
	render(&f->view, "policy_oid_filter.xml", &b);
	xp_open(&x, &b);
	id_filtered = xp_str(&x, POL "/x:policyOIDReference", "Workstation");
	xp_close(&x);
	assert_string_equal(id_all, id_filtered);
	free(id_all);
	free(id_filtered);
	ocbuf_free(&a);
	ocbuf_free(&b);
}

/* Output too large for the buffer: an error and nothing half-written. */
static void
t_buffer_limit(void **state)
{
	struct fixture *f = *state;
	struct oc_xcep_request req;
	struct ocbuf b;

	request("cepces_0317.xml", &req);
	ocbuf_init(&b, 2000);
	assert_int_equal(ocbuf_puts(&b, "keep"), OC_OK);
	assert_int_equal(oc_xcep_render_response(&b, &f->view, &req, RELATES), OC_ERR_LIMIT);
	assert_int_equal(b.len, 4);
	assert_string_equal((char *)b.d, "keep");
	ocbuf_free(&b);
	oc_xcep_request_clear(&req);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(t_full_policy_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(t_envelope_and_order, setup, teardown),
		cmocka_unit_test_setup_teardown(t_user_template, setup, teardown),
		cmocka_unit_test_setup_teardown(t_v2_and_ecdsa, setup, teardown),
		cmocka_unit_test_setup_teardown(t_cas, setup, teardown),
		cmocka_unit_test_setup_teardown(t_integrity, setup, teardown),
		cmocka_unit_test_setup_teardown(t_ra_requirements, setup, teardown),
		cmocka_unit_test_setup_teardown(t_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(t_nothing_visible, setup, teardown),
		cmocka_unit_test_setup_teardown(t_not_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(t_buffer_limit, setup, teardown),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
