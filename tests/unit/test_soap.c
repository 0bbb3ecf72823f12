/*
 * oc_soap_parse over the example envelopes of xcep.md 1.4, 1.5, 6.1, 8.1 and
 * hostile inputs (tests/vectors/soap/), and the rendering of responses and
 * faults in the Windows wire shape (xcep.md 1.4, 5.1).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pthread.h>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "common/limits.h"
#include "common/util.h"
#include "soap/soap.h"

int main(void);

#define ACT_GETPOLICIES "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies"

static int loader_calls;

/* Any attempt to load an external resource is recorded (and refused). */
static xmlParserInputPtr
recording_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	loader_calls++;
	return NULL;
}

static int
read_vector(const char *name, uint8_t **p, size_t *n)
{
	char path[1024];
	const char *dir = getenv("OC_VECTORS");

	if (dir == NULL)
		dir = "tests/vectors";
	snprintf(path, sizeof(path), "%s/soap/%s", dir, name);
	return oc_file_read(path, p, n, 1024 * 1024);
}

struct vec {
	const char *file;
	int rc;
	const char *action;
	const char *message_id;
	const char *to;
	const char *username;
	const char *password;
	int password_digest;
	const char *payload;        /* local name of the first body child, NULL = none */
	int has_header;
};

static const struct vec vectors[] = {
	/* xcep.md 1.5 Windows form: Timestamp + UsernameToken, wsse-qualified Type */
	{ "ok_windows_usernametoken.xml", OC_OK, ACT_GETPOLICIES,
	  "urn:uuid:5fb5f6fd-4709-414b-8afa-0c05f6686d1c",
	  "https://cep.example.com/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP",
	  "CONTOSO\\alice", "secret", 0, "GetPolicies", 1 },
	/* xcep.md 1.5 cepces form: ns0..ns4 prefixes, Nonce, wsu:Created, no Timestamp */
	{ "ok_cepces_usernametoken.xml", OC_OK, ACT_GETPOLICIES,
	  "urn:uuid:5ba70002-d87c-4dd3-90e3-565e626a0e15",
	  "https://ca.example.com/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP",
	  "user@EXAMPLE.COM", "secret", 0, "GetPolicies", 1 },
	{ "ok_type_unqualified.xml", OC_OK, ACT_GETPOLICIES, NULL, NULL,
	  "user@EXAMPLE.COM", "secret", 0, "GetPolicies", 1 },
	{ "ok_type_absent.xml", OC_OK, ACT_GETPOLICIES, NULL, NULL,
	  "user@EXAMPLE.COM", "secret", 0, "GetPolicies", 1 },
	/* PasswordDigest parses and is flagged; the authenticator refuses it. */
	{ "ok_password_digest.xml", OC_OK, ACT_GETPOLICIES, NULL, NULL,
	  "user@EXAMPLE.COM", "secret", 1, "GetPolicies", 1 },
	/* mustUnderstand "true"/" 1 " on known headers; unknown optional headers ignored */
	{ "ok_mustunderstand_true_known.xml", OC_OK, ACT_GETPOLICIES, NULL,
	  "https://x/", NULL, NULL, 0, "p", 1 },
	{ "ok_no_header.xml", OC_OK, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0 },
	{ "ok_bom.xml", OC_OK, NULL, NULL, NULL, NULL, NULL, 0, "x", 0 },

	{ .file = "bad_malformed.xml", .rc = OC_ERR_XML },
	{ .file = "bad_truncated.xml", .rc = OC_ERR_XML },
	{ .file = "bad_not_xml.xml", .rc = OC_ERR_XML },
	{ .file = "bad_undeclared_prefix.xml", .rc = OC_ERR_XML },
	{ .file = "bad_doctype_plain.xml", .rc = OC_ERR_XML_DTD },
	{ .file = "bad_doctype_internal_entity.xml", .rc = OC_ERR_XML_DTD },
	{ .file = "bad_xxe_file.xml", .rc = OC_ERR_XML_DTD },
	{ .file = "bad_xxe_external_dtd.xml", .rc = OC_ERR_XML_DTD },
	{ .file = "bad_xxe_parameter_entity.xml", .rc = OC_ERR_XML_DTD },
	{ .file = "bad_billion_laughs.xml", .rc = OC_ERR_XML_DTD },
	{ .file = "bad_undeclared_entity.xml", .rc = OC_ERR_XML_DTD },
	{ .file = "bad_too_deep.xml", .rc = OC_ERR_LIMIT },
	{ .file = "bad_too_many_nodes.xml", .rc = OC_ERR_LIMIT },
	{ .file = "bad_soap11.xml", .rc = OC_ERR_SOAP_VERSION },
	{ .file = "bad_envelope_ns.xml", .rc = OC_ERR_SOAP_VERSION },
	{ .file = "bad_envelope_no_ns.xml", .rc = OC_ERR_SOAP_VERSION },
	{ .file = "bad_missing_body.xml", .rc = OC_ERR_SOAP_BODY },
	{ .file = "bad_body_soap11_ns.xml", .rc = OC_ERR_SOAP_BODY },
	{ .file = "bad_two_bodies.xml", .rc = OC_ERR_SOAP_BODY },
	{ .file = "bad_header_after_body.xml", .rc = OC_ERR_SOAP_BODY },
	{ .file = "bad_unknown_mustunderstand.xml", .rc = OC_ERR_SOAP_HEADER },
	{ .file = "bad_unknown_mustunderstand_true.xml", .rc = OC_ERR_SOAP_HEADER },
	{ .file = "bad_mustunderstand_value.xml", .rc = OC_ERR_SOAP_HEADER },
	{ .file = "bad_duplicate_action.xml", .rc = OC_ERR_SOAP_HEADER },
	{ .file = "bad_oversize_messageid.xml", .rc = OC_ERR_SOAP_HEADER },
	{ .file = "bad_oversize_username.xml", .rc = OC_ERR_SOAP_HEADER },
	{ .file = "bad_oversize_password.xml", .rc = OC_ERR_SOAP_HEADER },
	{ .file = "bad_password_type_unknown.xml", .rc = OC_ERR_SOAP_HEADER },
	{ .file = "bad_username_missing.xml", .rc = OC_ERR_SOAP_HEADER },
};

static void
assert_str_or_null(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void
t_vectors(void **state)
{
	xmlExternalEntityLoader saved = xmlGetExternalEntityLoader();

	xmlSetExternalEntityLoader(recording_loader);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vec *v = &vectors[i];
		struct oc_soap_msg msg;
		uint8_t *p = NULL;
		size_t n = 0;
		int r;

		assert_int_equal(read_vector(v->file, &p, &n), OC_OK);
		r = oc_soap_parse(p, n, &msg);
		if (r != v->rc)
			fail_msg("%s: got %d (%s), want %d (%s)", v->file, r,
			    oc_strerror(r), v->rc, oc_strerror(v->rc));
		if (r == OC_OK) {
			assert_non_null(msg.doc);
			assert_non_null(msg.body);
			assert_true(oc_xml_is(msg.body, OC_NS_SOAP12, "Body"));
			assert_int_equal(msg.header != NULL, v->has_header);
			assert_str_or_null(msg.action, v->action);
			if (v->message_id)
				assert_str_or_null(msg.message_id, v->message_id);
			if (v->to)
				assert_str_or_null(msg.to, v->to);
			assert_int_equal(msg.has_username_token, v->username != NULL);
			assert_str_or_null(msg.username, v->username);
			assert_str_or_null(msg.password, v->password);
			assert_int_equal(msg.password_digest, v->password_digest);
			if (v->payload == NULL)
				assert_null(msg.payload);
			else {
				assert_non_null(msg.payload);
				assert_string_equal((const char *)msg.payload->name, v->payload);
			}
		} else {
			/* nothing half-built is handed back */
			assert_null(msg.doc);
			assert_null(msg.action);
			assert_null(msg.username);
			assert_null(msg.password);
		}
		oc_soap_msg_clear(&msg);
		oc_soap_msg_clear(&msg);        /* idempotent */
		free(p);
	}
	xmlSetExternalEntityLoader(saved);
	/* No DOCTYPE, external entity or DTD was ever fetched. */
	assert_int_equal(loader_calls, 0);
}

/* The parsed tree keeps no expanded entity text and the input is not echoed. */
static void
t_entity_not_expanded(void **state)
{
	static const char doc[] =
	    "<!DOCTYPE s:Envelope [<!ENTITY e \"EXPANDED\">]>"
	    "<s:Envelope xmlns:s=\"" OC_NS_SOAP12 "\"><s:Body>&e;</s:Body></s:Envelope>";
	struct oc_soap_msg msg;

	assert_int_equal(oc_soap_parse((const uint8_t *)doc, strlen(doc), &msg), OC_ERR_XML_DTD);
	assert_null(msg.doc);
	oc_soap_msg_clear(&msg);
}

/* The password text inside the document is wiped once copied out. */
static void
t_password_wiped_in_tree(void **state)
{
	uint8_t *p = NULL;
	size_t n = 0;
	struct oc_soap_msg msg;
	xmlNodePtr sec, tok, pw;
	xmlChar *c;

	assert_int_equal(read_vector("ok_windows_usernametoken.xml", &p, &n), OC_OK);
	assert_int_equal(oc_soap_parse(p, n, &msg), OC_OK);
	sec = oc_xml_child(msg.header, OC_NS_WSSE, "Security");
	tok = oc_xml_child(sec, OC_NS_WSSE, "UsernameToken");
	pw = oc_xml_child(tok, OC_NS_WSSE, "Password");
	assert_non_null(pw);
	c = xmlNodeGetContent(pw);
	assert_non_null(c);
	assert_null(strstr((const char *)c, "secret"));
	xmlFree(c);
	assert_string_equal(msg.password, "secret");
	oc_soap_msg_clear(&msg);
	free(p);
}

static void
t_size_limits(void **state)
{
	struct oc_soap_msg msg;
	uint8_t *big = NULL;
	static const char head[] = "<s:Envelope xmlns:s=\"" OC_NS_SOAP12 "\"><s:Body><x xmlns=\"urn:x\">";

	assert_int_equal(oc_soap_parse((const uint8_t *)"", 0, &msg), OC_ERR_XML);
	big = malloc(OC_HTTP_MAX_BODY_SIZE + 1);
	assert_non_null(big);
	memset(big, ' ', OC_HTTP_MAX_BODY_SIZE + 1);
	memcpy(big, head, strlen(head));
	assert_int_equal(oc_soap_parse(big, OC_HTTP_MAX_BODY_SIZE + 1, &msg), OC_ERR_LIMIT);
	free(big);
}

static void
t_xml_helpers(void **state)
{
	static const char doc[] =
	    "<s:Envelope xmlns:s=\"" OC_NS_SOAP12 "\" xmlns:i=\"" OC_NS_XSI "\"><s:Body>"
	    "<p:a xmlns:p=\"urn:a\"><p:n1 i:nil=\"true\"/><p:n2 i:nil=\" 1 \"/>"
	    "<p:n3 i:nil=\"false\"/><p:n4 nil=\"true\"/><p:t>\n  two words \t</p:t>"
	    "<q:t xmlns:q=\"urn:other\">x</q:t></p:a></s:Body></s:Envelope>";
	struct oc_soap_msg msg;
	xmlNodePtr a;
	char *s;

	assert_int_equal(oc_soap_parse((const uint8_t *)doc, sizeof(doc) - 1, &msg), OC_OK);
	a = msg.payload;
	assert_true(oc_xml_is(a, "urn:a", "a"));
	assert_false(oc_xml_is(a, "urn:b", "a"));
	assert_false(oc_xml_is(a, NULL, "a"));
	assert_true(oc_xml_is_nil(oc_xml_child(a, "urn:a", "n1")));
	assert_true(oc_xml_is_nil(oc_xml_child(a, "urn:a", "n2")));
	assert_false(oc_xml_is_nil(oc_xml_child(a, "urn:a", "n3")));
	assert_false(oc_xml_is_nil(oc_xml_child(a, "urn:a", "n4")));   /* unqualified nil */
	s = oc_xml_text(oc_xml_child(a, "urn:a", "t"));
	assert_string_equal(s, "two words");
	free(s);
	s = oc_xml_text(oc_xml_child(a, "urn:other", "t"));
	assert_string_equal(s, "x");
	free(s);
	assert_null(oc_xml_child(a, "urn:a", "missing"));
	oc_soap_msg_clear(&msg);
}

/* Parse rendered output back and check the element it names. */
static xmlDocPtr
reparse(const struct ocbuf *b)
{
	return xmlReadMemory((const char *)b->d, (int)b->len, NULL, NULL,
	    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static void
t_render_envelope(void **state)
{
	struct ocbuf b;
	struct oc_soap_msg msg;
	xmlNodePtr root, hdr, body, rel, act;
	char *s;

	ocbuf_init(&b, 65536);
	assert_int_equal(oc_soap_begin(&b, "urn:act", "urn:uuid:<&>\"'"), OC_OK);
	assert_int_equal(ocbuf_puts(&b, "<X xmlns=\"urn:x\"/>"), OC_OK);
	assert_int_equal(oc_soap_end(&b), OC_OK);
	/* The exact Windows shape of xcep.md 8.2 / 8.3 */
	assert_non_null(strstr((char *)b.d,
	    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
	    "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header>"
	    "<a:Action s:mustUnderstand=\"1\">urn:act</a:Action>"
	    "<a:RelatesTo>urn:uuid:&lt;&amp;&gt;&quot;&apos;</a:RelatesTo></s:Header>"
	    "<s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\"><X xmlns=\"urn:x\"/></s:Body></s:Envelope>"));
	/* and our own parser reads it back */
	assert_int_equal(oc_soap_parse(b.d, b.len, &msg), OC_OK);
	assert_string_equal(msg.action, "urn:act");
	root = xmlDocGetRootElement(msg.doc);
	hdr = oc_xml_child(root, OC_NS_SOAP12, "Header");
	body = oc_xml_child(root, OC_NS_SOAP12, "Body");
	assert_non_null(body);
	rel = oc_xml_child(hdr, OC_NS_WSA, "RelatesTo");
	s = oc_xml_text(rel);
	assert_string_equal(s, "urn:uuid:<&>\"'");
	free(s);
	act = oc_xml_child(hdr, OC_NS_WSA, "Action");
	assert_non_null(act);
	assert_true(oc_xml_is(msg.payload, "urn:x", "X"));
	oc_soap_msg_clear(&msg);

	/* without RelatesTo */
	ocbuf_reset(&b);
	assert_int_equal(oc_soap_begin(&b, "urn:act", NULL), OC_OK);
	assert_int_equal(oc_soap_end(&b), OC_OK);
	assert_null(strstr((char *)b.d, "RelatesTo"));
	assert_int_equal(oc_soap_parse(b.d, b.len, &msg), OC_OK);
	assert_null(msg.payload);
	oc_soap_msg_clear(&msg);
	ocbuf_free(&b);
}

struct fault_case {
	const char *code, *subcode, *reason, *detail;
	const char *sub_ns;         /* namespace the subcode QName must resolve to */
	const char *sub_local;
};

static const struct fault_case faults[] = {
	{ "s:Sender", "a:InvalidSecurity",
	  "An error occurred when verifying security for the message.", NULL,
	  OC_NS_WSSE, "InvalidSecurity" },
	{ "s:Sender", "a:ActionNotSupported", "The action <x> is not supported & never was.",
	  NULL, OC_NS_WSA, "ActionNotSupported" },
	{ "s:Sender", "a:DestinationUnreachable", "no", NULL, OC_NS_WSA, "DestinationUnreachable" },
	{ "s:Receiver", "a:InternalServiceFault", "internal error", NULL,
	  "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher",
	  "InternalServiceFault" },
	{ "s:Receiver", NULL, "The permissions on the certificate template do not allow ...",
	  "<CertificateEnrollmentWSDetail xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\">"
	  "<ErrorCode>-2146877422</ErrorCode></CertificateEnrollmentWSDetail>", NULL, NULL },
	{ "s:Sender", "{urn:example:codes}Custom", "custom", NULL, "urn:example:codes", "Custom" },
	{ "s:MustUnderstand", NULL, "", NULL, NULL, NULL },
	/* a ready-made s:Value element (as the front end passes it) */
	{ "s:Sender", "<s:Value xmlns:a=\"" OC_NS_WSSE "\">a:InvalidSecurity</s:Value>",
	  "bad credentials", NULL, OC_NS_WSSE, "InvalidSecurity" },
};

static void
t_render_fault(void **state)
{
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		const struct fault_case *f = &faults[i];
		struct ocbuf b;
		xmlDocPtr doc;
		xmlNodePtr root, body, fault, code, val, sub, reason, text, hdr;
		char *s;

		ocbuf_init(&b, 65536);
		assert_int_equal(oc_soap_fault(&b, NULL, "urn:uuid:1", f->code, f->subcode,
		    f->reason, f->detail), OC_OK);
		doc = reparse(&b);
		assert_non_null(doc);
		root = xmlDocGetRootElement(doc);
		assert_true(oc_xml_is(root, OC_NS_SOAP12, "Envelope"));
		hdr = oc_xml_child(root, OC_NS_SOAP12, "Header");
		s = oc_xml_text(oc_xml_child(hdr, OC_NS_WSA, "Action"));
		assert_string_equal(s, "http://www.w3.org/2005/08/addressing/soap/fault");
		free(s);
		s = oc_xml_text(oc_xml_child(hdr, OC_NS_WSA, "RelatesTo"));
		assert_string_equal(s, "urn:uuid:1");
		free(s);
		body = oc_xml_child(root, OC_NS_SOAP12, "Body");
		fault = oc_xml_next_element(body->children);
		assert_true(oc_xml_is(fault, OC_NS_SOAP12, "Fault"));
		assert_null(oc_xml_next_element(fault->next));  /* only child of Body */
		code = oc_xml_next_element(fault->children);
		assert_true(oc_xml_is(code, OC_NS_SOAP12, "Code"));
		val = oc_xml_child(code, OC_NS_SOAP12, "Value");
		s = oc_xml_text(val);
		assert_string_equal(s, f->code);
		free(s);
		sub = oc_xml_child(code, OC_NS_SOAP12, "Subcode");
		if (f->subcode == NULL)
			assert_null(sub);
		else {
			xmlChar *q;
			xmlNsPtr ns;
			const char *colon;

			val = oc_xml_child(sub, OC_NS_SOAP12, "Value");
			q = xmlNodeGetContent(val);
			colon = strchr((const char *)q, ':');
			assert_non_null(colon);
			assert_string_equal(colon + 1, f->sub_local);
			{
				char prefix[32];
				size_t pl = (size_t)(colon - (const char *)q);
				assert_true(pl < sizeof(prefix));
				memcpy(prefix, q, pl);
				prefix[pl] = '\0';
				ns = xmlSearchNs(doc, val, (const xmlChar *)prefix);
			}
			assert_non_null(ns);
			assert_string_equal((const char *)ns->href, f->sub_ns);
			xmlFree(q);
		}
		reason = oc_xml_next_element(code->next);
		assert_true(oc_xml_is(reason, OC_NS_SOAP12, "Reason"));
		text = oc_xml_child(reason, OC_NS_SOAP12, "Text");
		s = oc_xml_text(text);
		assert_string_equal(s, f->reason);
		free(s);
		{
			xmlChar *lang = xmlNodeGetLang(text);
			assert_string_equal((const char *)lang, "en-US");
			xmlFree(lang);
		}
		if (f->detail != NULL) {
			xmlNodePtr det = oc_xml_next_element(reason->next);
			assert_true(oc_xml_is(det, OC_NS_SOAP12, "Detail"));
			assert_true(oc_xml_is(oc_xml_next_element(det->children),
			    "http://schemas.microsoft.com/windows/pki/2009/01/enrollment",
			    "CertificateEnrollmentWSDetail"));
		} else
			assert_null(oc_xml_next_element(reason->next));
		xmlFreeDoc(doc);
		ocbuf_free(&b);
	}
}

static void
t_render_fault_refuses_bad_codes(void **state)
{
	struct ocbuf b;

	ocbuf_init(&b, 65536);
	assert_int_equal(oc_soap_fault(&b, NULL, NULL, "Sender", NULL, "x", NULL), OC_ERR_INVALID);
	ocbuf_reset(&b);
	assert_int_equal(oc_soap_fault(&b, NULL, NULL, "s:Sender", "a:<x>", "x", NULL), OC_ERR_INVALID);
	ocbuf_reset(&b);
	assert_int_equal(oc_soap_fault(&b, NULL, NULL, "s:Sender", "a:NoSuchCode", "x", NULL), OC_ERR_INVALID);
	ocbuf_reset(&b);
	assert_int_equal(oc_soap_fault(&b, NULL, NULL, "s:Sender", "<x/>", "x", NULL), OC_ERR_INVALID);
	ocbuf_reset(&b);
	/* an explicit action is used verbatim */
	assert_int_equal(oc_soap_fault(&b, "urn:my:fault", NULL, "s:Receiver", NULL, NULL, NULL), OC_OK);
	assert_non_null(strstr((char *)b.d, "<a:Action s:mustUnderstand=\"1\">urn:my:fault</a:Action></s:Header>"));
	ocbuf_free(&b);
}

/* Concurrent parses: one-time libxml2 init, per-parse state only. */
static void *
parse_loop(void *arg)
{
	const uint8_t *const *docs = arg;
	long bad = 0;

	for (int i = 0; i < 200; i++) {
		struct oc_soap_msg msg;
		size_t k = (size_t)i % 2;
		int r = oc_soap_parse(docs[k], strlen((const char *)docs[k]), &msg);
		if (r != (k == 0 ? OC_OK : OC_ERR_XML_DTD) ||
		    (k == 0 && strcmp(msg.password, "secret") != 0))
			bad++;
		oc_soap_msg_clear(&msg);
	}
	return (void *)bad;
}

static void
t_threads(void **state)
{
	uint8_t *docs[2] = { NULL, NULL };
	size_t n;
	pthread_t th[4];

	assert_int_equal(read_vector("ok_windows_usernametoken.xml", &docs[0], &n), OC_OK);
	assert_int_equal(read_vector("bad_billion_laughs.xml", &docs[1], &n), OC_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, parse_loop, docs), 0);
	for (int i = 0; i < 4; i++) {
		void *bad = NULL;
		assert_int_equal(pthread_join(th[i], &bad), 0);
		assert_null(bad);
	}
	free(docs[0]);
	free(docs[1]);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(t_vectors),
		cmocka_unit_test(t_entity_not_expanded),
		cmocka_unit_test(t_password_wiped_in_tree),
		cmocka_unit_test(t_size_limits),
		cmocka_unit_test(t_xml_helpers),
		cmocka_unit_test(t_render_envelope),
		cmocka_unit_test(t_render_fault),
		cmocka_unit_test(t_render_fault_refuses_bad_codes),
		cmocka_unit_test(t_threads),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
