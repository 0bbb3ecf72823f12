/*
 * MS-WSTEP request parsing, table-driven over the example messages of
 * docs/protocol/wstep.md sections 9.1-9.3 (tests/vectors/wstep/, real DER made
 * by gen.sh) and over one-change variants of a minimal request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/limits.h"
#include "common/util.h"
#include "soap/soap.h"
#include "wstep/wstep.h"

int main(void);

#define VT_PKCS10 "http://schemas.microsoft.com/windows/pki/2009/01/enrollment#PKCS10"
#define VT_PKCS7  "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#PKCS7"
#define ENC_B64   "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary"
#define TT_X509   "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
#define RT_ISSUE  "http://docs.oasis-open.org/ws-sx/ws-trust/200512/Issue"
#define RT_QUERY  "http://schemas.microsoft.com/windows/pki/2009/01/enrollment/QueryTokenStatus"
#define RT_KET    "http://docs.oasis-open.org/ws-sx/ws-trust/200512/KET"

static uint8_t *
read_vector(const char *name, size_t *len)
{
	const char *dir = getenv("OC_VECTORS");
	char path[1024];
	uint8_t *d = NULL;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/wstep/%s", dir, name);
	assert_int_equal(oc_file_read(path, &d, len, 1024 * 1024), OC_OK);
	return d;
}

static int
parse_bytes(const uint8_t *p, size_t len, struct oc_wstep_request *req)
{
	struct oc_soap_msg msg;
	int r;

	memset(&msg, 0, sizeof(msg));
	assert_int_equal(oc_soap_parse(p, len, &msg), OC_OK);
	r = oc_wstep_parse_request(&msg, req);
	oc_soap_msg_clear(&msg);
	return r;
}

/* ---- the fact sheet's examples ---- */

struct good_case {
	const char *file;
	enum oc_wstep_type type;
	const char *token_file;         /* expected decoded BST, NULL = none */
	const char *value_type;
	const char *template_hint;
	const char *context;
	int has_request_id;
	uint32_t request_id;
};

static const struct good_case good_cases[] = {
	/* 9.1: cepces Issue, PKCS#10 in PEM lines, template only inside the CSR */
	{ "issue-cepces.xml", OC_WSTEP_ISSUE, "cepces.csr.der", VT_PKCS10, NULL, NULL, 0, 0 },
	/* 9.2: cepces poll, empty BST ignored */
	{ "query-cepces.xml", OC_WSTEP_QUERY, NULL, NULL, NULL, NULL, 1, 42 },
	/* 9.2: Windows poll, no BST */
	{ "query-windows.xml", OC_WSTEP_QUERY, NULL, NULL, NULL, NULL, 1, 65 },
	/* 9.3: Windows Issue, CMC under #PKCS7, "&#13;" line ends, AdditionalContext, RequestID nil */
	{ "issue-windows.xml", OC_WSTEP_ISSUE, "windows.cmc.der", VT_PKCS7, "WebServer",
	  "cdc:dc1.example.com\nrmd:win10.example.com\nccm:win10.example.com\n", 0, 0 },
};

static void
test_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *c = &good_cases[i];
		struct oc_wstep_request req;
		uint8_t *env, *tok = NULL;
		size_t env_len, tok_len = 0;

		print_message("%s\n", c->file);
		env = read_vector(c->file, &env_len);
		assert_int_equal(parse_bytes(env, env_len, &req), OC_OK);
		assert_int_equal(req.type, c->type);
		if (c->token_file != NULL) {
			tok = read_vector(c->token_file, &tok_len);
			assert_int_equal(req.token_len, tok_len);
			assert_memory_equal(req.token, tok, tok_len);
			assert_non_null(req.value_type);
			assert_string_equal(req.value_type, c->value_type);
		} else
			assert_null(req.token);
		if (c->template_hint)
			assert_string_equal(req.template_hint, c->template_hint);
		else
			assert_null(req.template_hint);
		if (c->context)
			assert_string_equal(req.context, c->context);
		else
			assert_null(req.context);
		assert_int_equal(req.has_request_id, c->has_request_id);
		assert_int_equal(req.request_id, c->request_id);
		oc_wstep_request_clear(&req);
		free(env);
		free(tok);
	}
}

/* ---- one change at a time from a minimal request ---- */

#define ENV_HEAD \
	"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" " \
	"xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header>"
#define ACTION(x) "<a:Action s:mustUnderstand=\"1\">" x "</a:Action>"
#define MSGID "<a:MessageID>urn:uuid:00000000-0000-4000-8000-000000000001</a:MessageID>"
#define BODY_OPEN "</s:Header><s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
#define ENV_TAIL "</s:Body></s:Envelope>"
#define RST(x) "<RequestSecurityToken xmlns=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">" \
	x "</RequestSecurityToken>"
#define TT "<TokenType>" TT_X509 "</TokenType>"
#define RT(x) "<RequestType>" x "</RequestType>"
#define BST(x) "<BinarySecurityToken ValueType=\"" VT_PKCS10 "\" EncodingType=\"" ENC_B64 \
	"\" xmlns=\"" OC_NS_WSSE "\">" x "</BinarySecurityToken>"
#define RID(x) "<RequestID xmlns=\"" OC_NS_WSTEP "\">" x "</RequestID>"
#define ENV(act, body) ENV_HEAD ACTION(act) MSGID BODY_OPEN body ENV_TAIL
#define RSTA OC_WSTEP_ACTION_RST

/* "MIIBCg==" decodes to 30 82 01 0a */
#define TOK "MIIBCg=="

struct var_case {
	const char *name;
	const char *env;
	int want;
	enum oc_wstep_type type;        /* when want == OC_OK */
	int has_request_id;
	uint32_t request_id;
};

static const struct var_case var_cases[] = {
	{ "minimal issue", ENV(RSTA, RST(TT RT(RT_ISSUE) BST(TOK))), OC_OK, OC_WSTEP_ISSUE, 0, 0 },
	{ "wrong action (XCEP GetPolicies)",
	  ENV("http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies",
	  RST(TT RT(RT_ISSUE) BST(TOK))), OC_ERR_SOAP_ACTION, 0, 0, 0 },
	{ "no action", ENV_HEAD MSGID BODY_OPEN RST(TT RT(RT_ISSUE) BST(TOK)) ENV_TAIL,
	  OC_ERR_SOAP_ACTION, 0, 0, 0 },
	{ "missing RequestType", ENV(RSTA, RST(TT BST(TOK))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "nil RequestType", ENV(RSTA, RST(TT "<RequestType xsi:nil=\"true\"/>" BST(TOK))),
	  OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "unknown RequestType (MS-MDE Renew)",
	  ENV(RSTA, RST(TT RT("http://docs.oasis-open.org/ws-sx/ws-trust/200512/Renew") BST(TOK))),
	  OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "two RequestTypes", ENV(RSTA, RST(TT RT(RT_ISSUE) RT(RT_QUERY) BST(TOK) RID("1"))),
	  OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "wrong TokenType", ENV(RSTA, RST("<TokenType>urn:x</TokenType>" RT(RT_ISSUE) BST(TOK))),
	  OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "no TokenType", ENV(RSTA, RST(RT(RT_ISSUE) BST(TOK))), OC_OK, OC_WSTEP_ISSUE, 0, 0 },
	{ "empty Body", ENV(RSTA, ""), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "payload is not an RST",
	  ENV(RSTA, "<RequestSecurityTokenResponse xmlns=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">"
	  RT(RT_ISSUE) BST(TOK) "</RequestSecurityTokenResponse>"), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "RST in another namespace (prefixes never match)",
	  ENV(RSTA, "<RequestSecurityToken xmlns=\"http://schemas.xmlsoap.org/ws/2005/02/trust\">"
	  TT RT(RT_ISSUE) BST(TOK) "</RequestSecurityToken>"), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Issue without BST", ENV(RSTA, RST(TT RT(RT_ISSUE))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Issue with empty BST", ENV(RSTA, RST(TT RT(RT_ISSUE) BST(""))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "BST in another namespace is not a BST",
	  ENV(RSTA, RST(TT RT(RT_ISSUE) "<BinarySecurityToken xmlns=\"urn:x\">" TOK
	  "</BinarySecurityToken>")), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "bad base64", ENV(RSTA, RST(TT RT(RT_ISSUE) BST("MII*Cg=="))), OC_ERR_BASE64, 0, 0, 0 },
	{ "base64 with data after padding", ENV(RSTA, RST(TT RT(RT_ISSUE) BST("MQ==MIIB"))),
	  OC_ERR_BASE64, 0, 0, 0 },
	{ "base64 with spaces, CR and LF", ENV(RSTA, RST(TT RT(RT_ISSUE) BST(" MII&#13;\n BCg== \n"))),
	  OC_OK, OC_WSTEP_ISSUE, 0, 0 },
	{ "EncodingType absent, wsse-qualified ValueType (cepces <= 0.3.7)",
	  ENV(RSTA, RST(TT RT(RT_ISSUE) "<w:BinarySecurityToken xmlns:w=\"" OC_NS_WSSE
	  "\" w:ValueType=\"" VT_PKCS10 "\">" TOK "</w:BinarySecurityToken>")),
	  OC_OK, OC_WSTEP_ISSUE, 0, 0 },
	{ "EncodingType not base64",
	  ENV(RSTA, RST(TT RT(RT_ISSUE) "<BinarySecurityToken EncodingType=\"urn:x#HexBinary\" xmlns=\""
	  OC_NS_WSSE "\">" TOK "</BinarySecurityToken>")), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "unknown elements ignored",
	  ENV(RSTA, RST("<Foo xmlns=\"urn:x\"><Bar/></Foo>" TT RT(RT_ISSUE) "<KeySize>2048</KeySize>"
	  BST(TOK) "<Baz xmlns=\"urn:y\">1</Baz>")), OC_OK, OC_WSTEP_ISSUE, 0, 0 },
	{ "Issue ignores a RequestID", ENV(RSTA, RST(TT RT(RT_ISSUE) BST(TOK) RID("abc"))),
	  OC_OK, OC_WSTEP_ISSUE, 0, 0 },
	{ "Query", ENV(RSTA, RST(TT RT(RT_QUERY) RID("7"))), OC_OK, OC_WSTEP_QUERY, 1, 7 },
	{ "Query with RequestID 0", ENV(RSTA, RST(TT RT(RT_QUERY) RID("0"))), OC_OK, OC_WSTEP_QUERY, 1, 0 },
	{ "Query with RequestID 4294967295", ENV(RSTA, RST(TT RT(RT_QUERY) RID(" 4294967295 "))),
	  OC_OK, OC_WSTEP_QUERY, 1, 4294967295u },
	{ "Query without RequestID", ENV(RSTA, RST(TT RT(RT_QUERY) BST(""))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Query with nil RequestID",
	  ENV(RSTA, RST(TT RT(RT_QUERY) "<RequestID xsi:nil=\"true\" xmlns=\"" OC_NS_WSTEP "\">5</RequestID>")),
	  OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Query with empty RequestID", ENV(RSTA, RST(TT RT(RT_QUERY) RID(""))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Query with RequestID abc", ENV(RSTA, RST(TT RT(RT_QUERY) RID("abc"))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Query with RequestID 4294967296", ENV(RSTA, RST(TT RT(RT_QUERY) RID("4294967296"))),
	  OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Query with RequestID 00000000042 (leading zeros)",
	  ENV(RSTA, RST(TT RT(RT_QUERY) RID("00000000042"))), OC_OK, OC_WSTEP_QUERY, 1, 42 },
	{ "Query with RequestID 10000000000", ENV(RSTA, RST(TT RT(RT_QUERY) RID("10000000000"))),
	  OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Query with RequestID 99999999999999999999999 (u64 overflow)",
	  ENV(RSTA, RST(TT RT(RT_QUERY) RID("99999999999999999999999"))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Query with RequestID -1", ENV(RSTA, RST(TT RT(RT_QUERY) RID("-1"))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Query with RequestID +1", ENV(RSTA, RST(TT RT(RT_QUERY) RID("+1"))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "Query with RequestID in the wst namespace",
	  ENV(RSTA, RST(TT RT(RT_QUERY) "<RequestID>5</RequestID>")), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "KET", ENV(OC_WSTEP_ACTION_KET, RST(TT RT(RT_KET) "<RequestKET/>")), OC_OK, OC_WSTEP_KET, 0, 0 },
	{ "KET without RequestKET", ENV(OC_WSTEP_ACTION_KET, RST(TT RT(RT_KET))), OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "KET action with Issue", ENV(OC_WSTEP_ACTION_KET, RST(TT RT(RT_ISSUE) BST(TOK))),
	  OC_ERR_SOAP_BODY, 0, 0, 0 },
	{ "RST action with KET", ENV(RSTA, RST(TT RT(RT_KET) "<RequestKET/>")), OC_ERR_SOAP_BODY, 0, 0, 0 },
};

static void
test_variants(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(var_cases) / sizeof(var_cases[0]); i++) {
		const struct var_case *c = &var_cases[i];
		struct oc_wstep_request req;
		int r;

		print_message("%s\n", c->name);
		r = parse_bytes((const uint8_t *)c->env, strlen(c->env), &req);
		assert_int_equal(r, c->want);
		if (r != OC_OK) {
			/* never a half-built request */
			assert_null(req.token);
			assert_null(req.value_type);
			assert_null(req.template_hint);
			assert_null(req.context);
			continue;
		}
		assert_int_equal(req.type, c->type);
		assert_int_equal(req.has_request_id, c->has_request_id);
		assert_int_equal(req.request_id, c->request_id);
		if (c->type == OC_WSTEP_ISSUE) {
			static const uint8_t tok[] = { 0x30, 0x82, 0x01, 0x0a };
			assert_int_equal(req.token_len, sizeof(tok));
			assert_memory_equal(req.token, tok, sizeof(tok));
		}
		oc_wstep_request_clear(&req);
	}
}

/* A token just over OC_REQUEST_DER_MAX is refused; one at the limit passes. */
static void
test_token_limit(void **state)
{
	static const char head[] = ENV_HEAD ACTION(OC_WSTEP_ACTION_RST) MSGID BODY_OPEN
	    "<RequestSecurityToken xmlns=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">"
	    TT RT(RT_ISSUE) "<BinarySecurityToken xmlns=\"" OC_NS_WSSE "\">";
	static const char tail[] = "</BinarySecurityToken></RequestSecurityToken>" ENV_TAIL;
	static const size_t sizes[] = { OC_REQUEST_DER_MAX, OC_REQUEST_DER_MAX + 1,
	    OC_REQUEST_DER_MAX + 4096 };
	(void)state;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct oc_wstep_request req;
		uint8_t *der = calloc(1, sizes[i]);
		char *b64 = NULL, *env;
		size_t n;
		int r;

		assert_non_null(der);
		assert_int_equal(oc_b64_encode(der, sizes[i], &b64), OC_OK);
		n = strlen(head) + strlen(b64) + strlen(tail);
		assert_non_null(env = malloc(n + 1));
		snprintf(env, n + 1, "%s%s%s", head, b64, tail);
		r = parse_bytes((const uint8_t *)env, n, &req);
		if (sizes[i] <= OC_REQUEST_DER_MAX) {
			assert_int_equal(r, OC_OK);
			assert_int_equal(req.token_len, sizes[i]);
		} else
			assert_int_equal(r, OC_ERR_LIMIT);
		oc_wstep_request_clear(&req);
		free(env);
		free(b64);
		free(der);
	}
}

/* AdditionalContext: untrusted hints, one "name:value" line each, bounded. */
static void
test_context(void **state)
{
#define CTX(items) ENV(RSTA, RST(TT RT(RT_ISSUE) BST(TOK) \
	"<AdditionalContext xmlns=\"" OC_NS_AUTH "\">" items "</AdditionalContext>"))
#define ITEM(n, v) "<ContextItem Name=\"" n "\"><Value>" v "</Value></ContextItem>"
	static const struct {
		const char *env;
		const char *hint;
		const char *context;
	} cases[] = {
		{ CTX(ITEM("ccm", "a") ITEM("certificatetemplate", "User") ITEM("CertificateTemplate", "Other")),
		  "User", "ccm:a\n" },
		/* a value cannot forge a second line; a name cannot hold ':' */
		{ CTX(ITEM("rmd", "x&#10;CertificateTemplate:Admin") ITEM("a:b", "c") ITEM("cdc", "dc")),
		  NULL, "cdc:dc\n" },
		{ CTX("<ContextItem Name=\"empty\"/>" "<ContextItem><Value>noname</Value></ContextItem>"),
		  NULL, "empty:\n" },
		{ CTX("<ContextItem Name=\"wrongns\"><Value xmlns=\"urn:x\">v</Value></ContextItem>"),
		  NULL, "wrongns:\n" },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct oc_wstep_request req;

		assert_int_equal(parse_bytes((const uint8_t *)cases[i].env, strlen(cases[i].env), &req),
		    OC_OK);
		if (cases[i].hint)
			assert_string_equal(req.template_hint, cases[i].hint);
		else
			assert_null(req.template_hint);
		assert_string_equal(req.context, cases[i].context);
		oc_wstep_request_clear(&req);
	}
#undef CTX
#undef ITEM
}

static void
test_context_bounded(void **state)
{
	struct oc_wstep_request req;
	struct ocbuf b;
	size_t len;
	char *env;
	(void)state;

	/* more items than OC_WSTEP_CONTEXT_ITEMS_MAX */
	ocbuf_init(&b, 1024 * 1024);
	assert_int_equal(ocbuf_puts(&b, ENV_HEAD ACTION(OC_WSTEP_ACTION_RST) MSGID BODY_OPEN
	    "<RequestSecurityToken xmlns=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">"
	    TT RT(RT_ISSUE) BST(TOK) "<AdditionalContext xmlns=\"" OC_NS_AUTH "\">"), OC_OK);
	for (int i = 0; i <= OC_WSTEP_CONTEXT_ITEMS_MAX; i++)
		assert_int_equal(ocbuf_printf(&b, "<ContextItem Name=\"n%d\"><Value>v</Value></ContextItem>",
		    i), OC_OK);
	assert_int_equal(ocbuf_puts(&b, "</AdditionalContext></RequestSecurityToken>" ENV_TAIL), OC_OK);
	env = (char *)ocbuf_take(&b, &len);
	assert_int_equal(parse_bytes((const uint8_t *)env, len, &req), OC_ERR_LIMIT);
	assert_null(req.context);
	free(env);

	/* one item longer than OC_WSTEP_CONTEXT_MAX */
	ocbuf_init(&b, 1024 * 1024);
	assert_int_equal(ocbuf_puts(&b, ENV_HEAD ACTION(OC_WSTEP_ACTION_RST) MSGID BODY_OPEN
	    "<RequestSecurityToken xmlns=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">"
	    TT RT(RT_ISSUE) BST(TOK) "<AdditionalContext xmlns=\"" OC_NS_AUTH "\">"
	    "<ContextItem Name=\"big\"><Value>"), OC_OK);
	for (int i = 0; i <= OC_WSTEP_CONTEXT_MAX; i++)
		assert_int_equal(ocbuf_putc(&b, 'x'), OC_OK);
	assert_int_equal(ocbuf_puts(&b, "</Value></ContextItem></AdditionalContext>"
	    "</RequestSecurityToken>" ENV_TAIL), OC_OK);
	env = (char *)ocbuf_take(&b, &len);
	assert_int_equal(parse_bytes((const uint8_t *)env, len, &req), OC_ERR_LIMIT);
	free(env);
}

static void
test_clear_null(void **state)
{
	struct oc_wstep_request req;
	(void)state;

	oc_wstep_request_clear(NULL);
	memset(&req, 0, sizeof(req));
	oc_wstep_request_clear(&req);
	oc_wstep_request_clear(&req);
	assert_int_equal(oc_wstep_parse_request(NULL, &req), OC_ERR_SOAP_ACTION);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_token_limit),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_context_bounded),
		cmocka_unit_test(test_clear_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
