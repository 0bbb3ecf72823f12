/*
 * MS-WSTEP responses: each rendering is checked three ways.
 *  1. byte-exact against the Windows wire shape of docs/protocol/wstep.md
 *     9.4-9.6 (the payload inside s:Body),
 *  2. valid against tests/schemas/wstep.xsd (the libxml2 validator of
 *     `xmllint --schema`), and the schema refuses a wrong order, a missing
 *     RequestedSecurityToken and wrapped base64,
 *  3. cepces's rules by XPath (section 7.2/7.4/10.2): RSTRC is Body's first
 *     and only child, certificate text ^[A-Za-z0-9+/=]+$, RequestID decimal,
 *     fault ErrorCode signed decimal.
 */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "common/limits.h"
#include "common/util.h"
#include "model/hresult.h"
#include "soap/soap.h"
#include "wstep/wstep.h"

int main(void);

#define NS_XML    "http://www.w3.org/XML/1998/namespace"
#define TT_X509   "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
#define VT_PKCS7  "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#PKCS7"
#define ENC_B64   "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd#base64binary"
#define RELATES   "urn:uuid:b5d1a601-5091-4a7d-b34b-5204c18b5919"
#define CES_URI   "https://ca.example.com/Example%20CA_CES_Kerberos/service.svc/CES"

#define RSTR_PATH "/s:Envelope/s:Body/wst:RequestSecurityTokenResponseCollection/wst:RequestSecurityTokenResponse"
#define DETAIL_PATH "/s:Envelope/s:Body/s:Fault/s:Detail/e:CertificateEnrollmentWSDetail"

struct fixture {
	uint8_t *cert, *cmc;
	size_t cert_len, cmc_len;
	xmlSchemaPtr schema;
};

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
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *dir = getenv("OC_SCHEMAS");
	xmlSchemaParserCtxtPtr pc;
	char path[1024];

	assert_non_null(f);
	assert_non_null(dir);
	f->cert = read_vector("cert.der", &f->cert_len);
	f->cmc = read_vector("response.p7b.der", &f->cmc_len);
	snprintf(path, sizeof(path), "%s/wstep.xsd", dir);
	assert_non_null(pc = xmlSchemaNewParserCtxt(path));
	assert_non_null(f->schema = xmlSchemaParse(pc));
	xmlSchemaFreeParserCtxt(pc);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	xmlSchemaFree(f->schema);
	free(f->cert);
	free(f->cmc);
	free(f);
	return 0;
}

static char *
b64(const uint8_t *p, size_t n)
{
	char *s = NULL;

	assert_int_equal(oc_b64_encode(p, n, &s), OC_OK);
	return s;
}

static xmlDocPtr
parse_out(const struct ocbuf *out)
{
	xmlDocPtr doc = xmlReadMemory((const char *)out->d, (int)out->len, "response.xml", NULL,
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS);

	assert_non_null(doc);
	return doc;
}

static int
schema_valid(const struct fixture *f, xmlDocPtr doc)
{
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(f->schema);
	int r;

	assert_non_null(vc);
	r = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	return r == 0;
}

/* string(expr), malloc'd */
static char *
xp(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o;
	xmlChar *s;
	char *ret;

	assert_non_null(ctx);
	xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST OC_NS_SOAP12);
	xmlXPathRegisterNs(ctx, BAD_CAST "a", BAD_CAST OC_NS_WSA);
	xmlXPathRegisterNs(ctx, BAD_CAST "wst", BAD_CAST OC_NS_WST);
	xmlXPathRegisterNs(ctx, BAD_CAST "wsse", BAD_CAST OC_NS_WSSE);
	xmlXPathRegisterNs(ctx, BAD_CAST "e", BAD_CAST OC_NS_WSTEP);
	xmlXPathRegisterNs(ctx, BAD_CAST "xsi", BAD_CAST OC_NS_XSI);
	assert_non_null(o = xmlXPathEvalExpression(BAD_CAST expr, ctx));
	s = xmlXPathCastToString(o);
	ret = strdup((const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(ctx);
	assert_non_null(ret);
	return ret;
}

static void
assert_xp(xmlDocPtr doc, const char *expr, const char *want)
{
	char *got = xp(doc, expr);

	if (strcmp(got, want) != 0)
		fail_msg("%s = \"%s\", want \"%s\"", expr, got, want);
	free(got);
}

static void
assert_xp_re(xmlDocPtr doc, const char *expr, const char *re)
{
	char *got = xp(doc, expr);
	regex_t rx;

	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&rx, got, 0, NULL, 0) != 0)
		fail_msg("%s = \"%s\" does not match %s", expr, got, re);
	regfree(&rx);
	free(got);
}

/* The payload: what follows the s:Body start tag up to </s:Body>. */
static char *
body_payload(const struct ocbuf *out)
{
	const char *s = (const char *)out->d, *b, *e;

	assert_non_null(b = strstr(s, "<s:Body"));
	assert_non_null(b = strchr(b, '>'));
	b++;
	assert_non_null(e = strstr(b, "</s:Body>"));
	return strndup(b, (size_t)(e - b));
}

/* cepces: Body's first and only element is the RSTRC, one RSTR, in Windows order */
static void
assert_cepces_rstrc(xmlDocPtr doc, const char *request_id)
{
	assert_xp(doc, "count(/s:Envelope/s:Body/*)", "1");
	assert_xp(doc, "namespace-uri(/s:Envelope/s:Body/*[1])", OC_NS_WST);
	assert_xp(doc, "local-name(/s:Envelope/s:Body/*[1])", "RequestSecurityTokenResponseCollection");
	assert_xp(doc, "count(/s:Envelope/s:Body/*[1]/*)", "1");
	assert_xp(doc, "count(" RSTR_PATH "/wst:RequestedSecurityToken)", "1");
	assert_xp(doc, RSTR_PATH "/e:RequestID", request_id);
	assert_xp_re(doc, RSTR_PATH "/e:RequestID", "^[0-9]+$");
	assert_xp(doc, RSTR_PATH "/e:DispositionMessage/@xml:lang", "en-US");
	assert_xp(doc, RSTR_PATH "/wst:TokenType", TT_X509);
	/* response headers (section 3) */
	assert_xp(doc, "/s:Envelope/s:Header/a:Action", OC_WSTEP_ACTION_RSTRC);
	assert_xp(doc, "/s:Envelope/s:Header/a:Action/@s:mustUnderstand", "1");
	assert_xp(doc, "/s:Envelope/s:Header/a:RelatesTo", RELATES);
}

static void
test_issued(void **state)
{
	struct fixture *f = *state;
	struct ocbuf out;
	xmlDocPtr doc;
	char *cert64 = b64(f->cert, f->cert_len), *cmc64 = b64(f->cmc, f->cmc_len);
	char *want = NULL, *got;
	size_t n;

	ocbuf_init(&out, OC_HTTP_MAX_BODY_SIZE);
	assert_int_equal(oc_wstep_render_issued(&out, RELATES, 27, f->cert, f->cert_len,
	    f->cmc, f->cmc_len, "Issued"), OC_OK);

	/* 1. section 9.4, byte for byte */
	n = (size_t)snprintf(NULL, 0, "x%sx%sx", cert64, cmc64) + 4096;
	assert_non_null(want = malloc(n));
	snprintf(want, n,
	    "<RequestSecurityTokenResponseCollection xmlns=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">"
	    "<RequestSecurityTokenResponse>"
	    "<TokenType>" TT_X509 "</TokenType>"
	    "<DispositionMessage xml:lang=\"en-US\" xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\">Issued</DispositionMessage>"
	    "<BinarySecurityToken ValueType=\"" VT_PKCS7 "\" EncodingType=\"" ENC_B64 "\" xmlns=\"" OC_NS_WSSE "\">%s</BinarySecurityToken>"
	    "<RequestedSecurityToken>"
	    "<BinarySecurityToken ValueType=\"" TT_X509 "\" EncodingType=\"" ENC_B64 "\" xmlns=\"" OC_NS_WSSE "\">%s</BinarySecurityToken>"
	    "</RequestedSecurityToken>"
	    "<RequestID xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\">27</RequestID>"
	    "</RequestSecurityTokenResponse>"
	    "</RequestSecurityTokenResponseCollection>", cmc64, cert64);
	got = body_payload(&out);
	assert_string_equal(got, want);
	free(got);

	/* 2. schema */
	doc = parse_out(&out);
	assert_true(schema_valid(f, doc));

	/* 3. cepces */
	assert_cepces_rstrc(doc, "27");
	assert_xp(doc, RSTR_PATH "/e:DispositionMessage", "Issued");
	assert_xp(doc, RSTR_PATH "/wsse:BinarySecurityToken/@ValueType", VT_PKCS7);
	assert_xp(doc, RSTR_PATH "/wsse:BinarySecurityToken", cmc64);
	assert_xp(doc, RSTR_PATH "/wst:RequestedSecurityToken/wsse:BinarySecurityToken/@ValueType", TT_X509);
	assert_xp_re(doc, RSTR_PATH "/wst:RequestedSecurityToken/wsse:BinarySecurityToken",
	    "^[A-Za-z0-9+/=]+$");
	assert_xp(doc, RSTR_PATH "/wst:RequestedSecurityToken/wsse:BinarySecurityToken", cert64);
	xmlFreeDoc(doc);
	ocbuf_free(&out);
	free(want);
	free(cert64);
	free(cmc64);
}

static void
test_issued_variants(void **state)
{
	struct fixture *f = *state;
	struct ocbuf out;
	xmlDocPtr doc;

	/* no CMC response, default disposition, the largest RequestID, no RelatesTo */
	ocbuf_init(&out, OC_HTTP_MAX_BODY_SIZE);
	assert_int_equal(oc_wstep_render_issued(&out, NULL, 4294967295u, f->cert, f->cert_len,
	    NULL, 0, NULL), OC_OK);
	doc = parse_out(&out);
	assert_true(schema_valid(f, doc));
	assert_xp(doc, "count(" RSTR_PATH "/wsse:BinarySecurityToken)", "0");
	assert_xp(doc, RSTR_PATH "/e:DispositionMessage", "Issued");
	assert_xp(doc, RSTR_PATH "/e:RequestID", "4294967295");
	assert_xp(doc, "count(/s:Envelope/s:Header/a:RelatesTo)", "0");
	xmlFreeDoc(doc);

	/* disposition text is escaped, cleaned of controls and cut at OC_DISPOSITION_MAX */
	ocbuf_reset(&out);
	{
		char longtext[OC_DISPOSITION_MAX + 100];
		memset(longtext, 'x', sizeof(longtext) - 1);
		longtext[sizeof(longtext) - 1] = '\0';
		memcpy(longtext, "<&\x01>", 4);
		assert_int_equal(oc_wstep_render_issued(&out, RELATES, 1, f->cert, f->cert_len,
		    NULL, 0, longtext), OC_OK);
		doc = parse_out(&out);
		assert_true(schema_valid(f, doc));
		assert_xp_re(doc, RSTR_PATH "/e:DispositionMessage", "^<&\\?>x+$");
		assert_xp(doc, "string-length(" RSTR_PATH "/e:DispositionMessage)", "512");
		xmlFreeDoc(doc);
	}
	ocbuf_free(&out);
}

static void
test_pending(void **state)
{
	struct fixture *f = *state;
	struct ocbuf out;
	xmlDocPtr doc;
	char *got;

	ocbuf_init(&out, OC_HTTP_MAX_BODY_SIZE);
	assert_int_equal(oc_wstep_render_pending(&out, RELATES, 43, NULL, 0, CES_URI, NULL), OC_OK);

	/* 1. section 9.5 / 7.3 */
	got = body_payload(&out);
	assert_string_equal(got,
	    "<RequestSecurityTokenResponseCollection xmlns=\"http://docs.oasis-open.org/ws-sx/ws-trust/200512\">"
	    "<RequestSecurityTokenResponse>"
	    "<TokenType>" TT_X509 "</TokenType>"
	    "<DispositionMessage xml:lang=\"en-US\" xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\">Taken Under Submission</DispositionMessage>"
	    "<RequestedSecurityToken>"
	    "<SecurityTokenReference xmlns=\"" OC_NS_WSSE "\"><Reference URI=\"" CES_URI "\"/></SecurityTokenReference>"
	    "</RequestedSecurityToken>"
	    "<RequestID xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\">43</RequestID>"
	    "</RequestSecurityTokenResponse>"
	    "</RequestSecurityTokenResponseCollection>");
	free(got);

	/* 2, 3 */
	doc = parse_out(&out);
	assert_true(schema_valid(f, doc));
	assert_cepces_rstrc(doc, "43");
	assert_xp(doc, RSTR_PATH "/wst:RequestedSecurityToken/wsse:SecurityTokenReference/wsse:Reference/@URI",
	    CES_URI);
	assert_xp(doc, "count(" RSTR_PATH "/wst:RequestedSecurityToken/wsse:BinarySecurityToken)", "0");
	xmlFreeDoc(doc);

	/* with a CMC (pending status) response and an URI that needs escaping */
	ocbuf_reset(&out);
	assert_int_equal(oc_wstep_render_pending(&out, RELATES, 44, f->cmc, f->cmc_len,
	    "https://ca.example.com/CES?a=1&b=2", "Pending"), OC_OK);
	doc = parse_out(&out);
	assert_true(schema_valid(f, doc));
	assert_cepces_rstrc(doc, "44");
	assert_xp(doc, "count(" RSTR_PATH "/wsse:BinarySecurityToken)", "1");
	assert_xp(doc, RSTR_PATH "/wst:RequestedSecurityToken/wsse:SecurityTokenReference/wsse:Reference/@URI",
	    "https://ca.example.com/CES?a=1&b=2");
	xmlFreeDoc(doc);
	ocbuf_free(&out);
}

static void
test_fault(void **state)
{
	static const char reason[] = "The permissions on the certificate template do not allow the "
	    "current user to enroll for this type of certificate. 0x80094012 (-2146877422 "
	    "CERTSRV_E_TEMPLATE_DENIED)";
	struct fixture *f = *state;
	struct ocbuf out;
	xmlDocPtr doc;
	char *got;

	ocbuf_init(&out, OC_HTTP_MAX_BODY_SIZE);
	assert_int_equal(oc_wstep_render_fault(&out, "urn:uuid:925fcd3d-c008-4caf-b390-3cd13b21f90f",
	    "s:Receiver", reason, OC_HR_CERTSRV_E_TEMPLATE_DENIED, 1, 368, NULL, 0), OC_OK);

	/* 1. section 9.6 */
	got = body_payload(&out);
	assert_string_equal(got,
	    "<s:Fault><s:Code><s:Value>s:Receiver</s:Value></s:Code>"
	    "<s:Reason><s:Text xml:lang=\"en-US\">The permissions on the certificate template do not allow the "
	    "current user to enroll for this type of certificate. 0x80094012 (-2146877422 "
	    "CERTSRV_E_TEMPLATE_DENIED)</s:Text></s:Reason>"
	    "<s:Detail><CertificateEnrollmentWSDetail xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollment\" "
	    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
	    "<BinaryResponse xsi:nil=\"true\"/><ErrorCode>-2146877422</ErrorCode>"
	    "<InvalidRequest>true</InvalidRequest><RequestID>368</RequestID>"
	    "</CertificateEnrollmentWSDetail></s:Detail></s:Fault>");
	free(got);

	/* 2, 3 */
	doc = parse_out(&out);
	assert_true(schema_valid(f, doc));
	assert_xp(doc, "/s:Envelope/s:Header/a:Action", OC_WSTEP_ACTION_FAULT);
	assert_xp(doc, "/s:Envelope/s:Header/a:Action/@s:mustUnderstand", "1");
	assert_xp(doc, "/s:Envelope/s:Header/a:RelatesTo", "urn:uuid:925fcd3d-c008-4caf-b390-3cd13b21f90f");
	assert_xp(doc, "count(/s:Envelope/s:Body/*)", "1");
	assert_xp(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Value", "s:Receiver");
	assert_xp(doc, "count(/s:Envelope/s:Body/s:Fault/s:Code/s:Subcode)", "0");
	assert_xp(doc, "/s:Envelope/s:Body/s:Fault/s:Reason/s:Text/@xml:lang", "en-US");
	assert_xp(doc, "/s:Envelope/s:Body/s:Fault/s:Reason/s:Text", reason);
	assert_xp(doc, DETAIL_PATH "/e:ErrorCode", "-2146877422");
	assert_xp_re(doc, DETAIL_PATH "/e:ErrorCode", "^-?[0-9]+$");
	assert_xp(doc, DETAIL_PATH "/e:InvalidRequest", "true");
	assert_xp(doc, DETAIL_PATH "/e:RequestID", "368");
	assert_xp(doc, DETAIL_PATH "/e:BinaryResponse/@xsi:nil", "true");
	xmlFreeDoc(doc);
	ocbuf_free(&out);
}

/* HRESULT -> xs:int, section 8.4 */
static void
test_fault_error_codes(void **state)
{
	static const struct {
		uint32_t hr;
		const char *dec;
	} rows[] = {
		{ OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT, "-2146877439" },
		{ OC_HR_CERTSRV_E_NO_REQUEST, "-2146877438" },
		{ OC_HR_CERTSRV_E_KEY_ARCHIVAL_NOT_CONFIGURED, "-2146877430" },
		{ OC_HR_CERTSRV_E_TEMPLATE_DENIED, "-2146877422" },
		{ OC_HR_CERTSRV_E_BAD_TEMPLATE_VERSION, "-2146875385" },
		{ OC_HR_NTE_FAIL, "-2146893792" },
		{ OC_HR_E_INVALIDARG, "-2147024809" },
		{ OC_HR_E_ACCESSDENIED, "-2147024891" },
		{ 0x80000000u, "-2147483648" },
		{ 0x00000001u, "1" },
	};
	struct fixture *f = *state;
	struct ocbuf out;

	ocbuf_init(&out, OC_HTTP_MAX_BODY_SIZE);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		xmlDocPtr doc;

		ocbuf_reset(&out);
		assert_int_equal(oc_wstep_render_fault(&out, RELATES, "s:Sender", "x", rows[i].hr, 0, 0,
		    NULL, 0), OC_OK);
		doc = parse_out(&out);
		assert_true(schema_valid(f, doc));
		assert_xp(doc, DETAIL_PATH "/e:ErrorCode", rows[i].dec);
		assert_xp(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Value", "s:Sender");
		assert_xp(doc, DETAIL_PATH "/e:InvalidRequest", "false");
		assert_xp(doc, DETAIL_PATH "/e:RequestID/@xsi:nil", "true");
		xmlFreeDoc(doc);
	}
	ocbuf_free(&out);
}

static void
test_fault_nils_and_binary(void **state)
{
	struct fixture *f = *state;
	struct ocbuf out;
	xmlDocPtr doc;
	char *cmc64 = b64(f->cmc, f->cmc_len);

	ocbuf_init(&out, OC_HTTP_MAX_BODY_SIZE);
	/* no code (s:Receiver), no reason (empty text), no error, no id */
	assert_int_equal(oc_wstep_render_fault(&out, RELATES, NULL, NULL, 0, 0, 0, NULL, 0), OC_OK);
	doc = parse_out(&out);
	assert_true(schema_valid(f, doc));
	assert_xp(doc, "/s:Envelope/s:Body/s:Fault/s:Code/s:Value", "s:Receiver");
	assert_xp(doc, "/s:Envelope/s:Body/s:Fault/s:Reason/s:Text", "");
	assert_xp(doc, DETAIL_PATH "/e:ErrorCode/@xsi:nil", "true");
	assert_xp(doc, DETAIL_PATH "/e:RequestID/@xsi:nil", "true");
	assert_xp(doc, "count(" DETAIL_PATH "/*)", "4");
	xmlFreeDoc(doc);

	ocbuf_reset(&out);
	assert_int_equal(oc_wstep_render_fault(&out, RELATES, "s:Receiver", "Denied",
	    OC_HR_CERTSRV_E_ADMIN_DENIED_REQUEST, 1, 9, f->cmc, f->cmc_len), OC_OK);
	doc = parse_out(&out);
	assert_true(schema_valid(f, doc));
	assert_xp(doc, DETAIL_PATH "/e:BinaryResponse", cmc64);
	assert_xp(doc, DETAIL_PATH "/e:ErrorCode", "-2146877420");
	xmlFreeDoc(doc);
	ocbuf_free(&out);
	free(cmc64);
}

static void
test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	static uint8_t big[OC_CERT_DER_MAX + 1];
	struct ocbuf out;

	ocbuf_init(&out, OC_HTTP_MAX_BODY_SIZE);
	assert_int_equal(ocbuf_puts(&out, "keep"), OC_OK);
	assert_int_equal(oc_wstep_render_issued(&out, RELATES, 1, NULL, 0, NULL, 0, NULL), OC_ERR_INVALID);
	assert_int_equal(oc_wstep_render_issued(&out, RELATES, 1, big, sizeof(big), NULL, 0, NULL),
	    OC_ERR_LIMIT);
	assert_int_equal(oc_wstep_render_issued(&out, RELATES, 1, f->cert, f->cert_len, NULL, 5, NULL),
	    OC_ERR_INVALID);
	assert_int_equal(oc_wstep_render_pending(&out, RELATES, 1, NULL, 0, NULL, NULL), OC_ERR_INVALID);
	assert_int_equal(oc_wstep_render_pending(&out, RELATES, 1, NULL, 0, "", NULL), OC_ERR_INVALID);
	assert_int_equal(oc_wstep_render_fault(&out, RELATES, "s:VersionMismatch", "x", 1, 0, 0, NULL, 0),
	    OC_ERR_INVALID);
	assert_int_equal(oc_wstep_render_fault(&out, RELATES, "s:Receiver", "x", 1, 0, 0, NULL, 3),
	    OC_ERR_INVALID);
	assert_int_equal(out.len, 4);
	ocbuf_free(&out);

	/* an output buffer too small: nothing half-written is left behind */
	ocbuf_init(&out, 600);
	assert_int_equal(ocbuf_puts(&out, "keep"), OC_OK);
	assert_int_equal(oc_wstep_render_issued(&out, RELATES, 1, f->cert, f->cert_len, NULL, 0, NULL),
	    OC_ERR_LIMIT);
	assert_int_equal(out.len, 4);
	assert_string_equal((const char *)out.d, "keep");
	assert_int_equal(oc_wstep_render_pending(&out, RELATES, 1, f->cmc, f->cmc_len, CES_URI, NULL),
	    OC_ERR_LIMIT);
	assert_string_equal((const char *)out.d, "keep");
	assert_int_equal(oc_wstep_render_fault(&out, RELATES, NULL, "x", 1, 0, 0, f->cmc, f->cmc_len),
	    OC_ERR_LIMIT);
	assert_string_equal((const char *)out.d, "keep");
	ocbuf_free(&out);
}

/* The schema is strict enough to catch the mistakes cepces cannot survive. */
static void
test_schema_negative(void **state)
{
	struct fixture *f = *state;
	struct ocbuf out;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr o;
	xmlNodePtr rstr, n, hold;

	ocbuf_init(&out, OC_HTTP_MAX_BODY_SIZE);
	assert_int_equal(oc_wstep_render_issued(&out, RELATES, 27, f->cert, f->cert_len,
	    f->cmc, f->cmc_len, "Issued"), OC_OK);

	for (int mut = 0; mut < 7; mut++) {
		doc = parse_out(&out);
		assert_true(schema_valid(f, doc));
		ctx = xmlXPathNewContext(doc);
		xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST OC_NS_SOAP12);
		xmlXPathRegisterNs(ctx, BAD_CAST "wst", BAD_CAST OC_NS_WST);
		o = xmlXPathEvalExpression(BAD_CAST RSTR_PATH, ctx);
		assert_int_equal(o->nodesetval->nodeNr, 1);
		rstr = o->nodesetval->nodeTab[0];
		hold = NULL;
		switch (mut) {
		case 0: /* TokenType after DispositionMessage */
			n = xmlFirstElementChild(rstr);
			xmlUnlinkNode(n);
			xmlAddNextSibling(xmlFirstElementChild(rstr), n);
			break;
		case 1: /* no RequestedSecurityToken */
			n = oc_xml_child(rstr, OC_NS_WST, "RequestedSecurityToken");
			xmlUnlinkNode(n);
			xmlFreeNode(n);
			break;
		case 2: /* RequestID before RequestedSecurityToken */
			n = oc_xml_child(rstr, OC_NS_WSTEP, "RequestID");
			xmlUnlinkNode(n);
			xmlAddPrevSibling(oc_xml_child(rstr, OC_NS_WST, "RequestedSecurityToken"), n);
			break;
		case 3: /* certificate base64 wrapped (section 7.2) */
			n = xmlFirstElementChild(oc_xml_child(rstr, OC_NS_WST, "RequestedSecurityToken"));
			xmlNodeAddContent(n, BAD_CAST "\n");
			break;
		case 4: /* RequestID not decimal */
			xmlNodeSetContent(oc_xml_child(rstr, OC_NS_WSTEP, "RequestID"), BAD_CAST "0x1b");
			break;
		case 5: /* two RSTRs in the RSTRC */
			xmlAddNextSibling(rstr, xmlCopyNode(rstr, 1));
			break;
		case 6: /* a bare RSTR in Body (the RSTRC holds its xmlns: free it last) */
			hold = rstr->parent;
			xmlUnlinkNode(rstr);
			xmlReplaceNode(hold, rstr);
			break;
		}
		print_message("mutation %d\n", mut);
		assert_false(schema_valid(f, doc));
		xmlFreeDoc(doc);
		xmlFreeNode(hold);
		xmlXPathFreeObject(o);
		xmlXPathFreeContext(ctx);
	}
	ocbuf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issued),
		cmocka_unit_test(test_issued_variants),
		cmocka_unit_test(test_pending),
		cmocka_unit_test(test_fault),
		cmocka_unit_test(test_fault_error_codes),
		cmocka_unit_test(test_fault_nils_and_binary),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_schema_negative),
	};
	int r;

	xmlInitParser();
	r = cmocka_run_group_tests(tests, setup, teardown);
	xmlCleanupParser();
	return r;
}
