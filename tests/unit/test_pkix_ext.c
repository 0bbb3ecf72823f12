/*
 * Template, application-policy and SID extension values against the bytes
 * of docs/protocol/templates.md 10.1 - 10.4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "pkix/pkix.h"

int main(void);

#define WEBSERVER_OID "1.3.6.1.4.1.311.21.8.11034890.834619.12601478.16236816.7255827.176.1.16"

/* templates.md 10.1: WebServer, major 4, minor 1 */
static const uint8_t v2_webserver[] = {
	0x30, 0x28, 0x06, 0x20, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x15,
	0x08, 0x85, 0xa1, 0xc2, 0x0a, 0xb2, 0xf8, 0x3b, 0x86, 0x81, 0x91, 0x06,
	0x87, 0xdf, 0x82, 0x10, 0x83, 0xba, 0xee, 0x13, 0x81, 0x30, 0x01, 0x10,
	0x02, 0x01, 0x04, 0x02, 0x01, 0x01,
};

static void
test_v2_fact_sheet_roundtrip(void **state)
{
	uint8_t *der = NULL;
	size_t len = 0;
	char *oid = NULL;
	uint32_t major = 99, minor = 99;

	(void)state;
	assert_int_equal(pkix_template_v2_decode(v2_webserver,
	    sizeof(v2_webserver), &oid, &major, &minor), OC_OK);
	assert_string_equal(oid, WEBSERVER_OID);
	assert_int_equal(major, 4);
	assert_int_equal(minor, 1);
	assert_int_equal(pkix_template_v2_encode(oid, major, minor, &der, &len), OC_OK);
	assert_int_equal(len, sizeof(v2_webserver));
	assert_memory_equal(der, v2_webserver, len);
	free(der);
	free(oid);
}

struct v2_case {
	const char *name;
	const uint8_t *der;
	size_t len;
	int want;
	const char *oid;
	uint32_t major, minor;
};

static const uint8_t v2_oid_only[] = { 0x30, 0x05, 0x06, 0x03, 0x2b, 0x06, 0x01 };
static const uint8_t v2_major_only[] = {
	0x30, 0x08, 0x06, 0x03, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x64 };
static const uint8_t v2_max[] = {
	0x30, 0x12, 0x06, 0x03, 0x2b, 0x06, 0x01,
	0x02, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 0x02, 0x04, 0x7f, 0xff, 0xff, 0xff };
static const uint8_t v2_negative[] = {
	0x30, 0x08, 0x06, 0x03, 0x2b, 0x06, 0x01, 0x02, 0x01, 0xff };
static const uint8_t v2_too_big[] = {
	0x30, 0x0c, 0x06, 0x03, 0x2b, 0x06, 0x01,
	0x02, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00 };
static const uint8_t v2_trailing[] = {
	0x30, 0x05, 0x06, 0x03, 0x2b, 0x06, 0x01, 0x00 };
static const uint8_t v2_no_oid[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static const uint8_t v2_truncated[] = { 0x30, 0x05, 0x06, 0x03, 0x2b, 0x06 };

static const struct v2_case v2_cases[] = {
	{ "oid only", v2_oid_only, sizeof(v2_oid_only), OC_OK, "1.3.6.1", 0, 0 },
	{ "major only", v2_major_only, sizeof(v2_major_only), OC_OK, "1.3.6.1", 100, 0 },
	{ "uint32 max", v2_max, sizeof(v2_max), OC_OK, "1.3.6.1", 4294967295u, 2147483647u },
	{ "negative", v2_negative, sizeof(v2_negative), OC_ERR_PARSE, NULL, 0, 0 },
	{ "2^32", v2_too_big, sizeof(v2_too_big), OC_ERR_PARSE, NULL, 0, 0 },
	{ "trailing", v2_trailing, sizeof(v2_trailing), OC_ERR_DER, NULL, 0, 0 },
	{ "no oid", v2_no_oid, sizeof(v2_no_oid), OC_ERR_DER, NULL, 0, 0 },
	{ "truncated", v2_truncated, sizeof(v2_truncated), OC_ERR_DER, NULL, 0, 0 },
	{ "empty", v2_oid_only, 0, OC_ERR_DER, NULL, 0, 0 },
};

static void
test_v2_decode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(v2_cases) / sizeof(v2_cases[0]); i++) {
		const struct v2_case *c = &v2_cases[i];
		char *oid = NULL;
		uint32_t ma = 7, mi = 7;
		int r = pkix_template_v2_decode(c->der, c->len, &oid, &ma, &mi);

		print_message("v2 decode: %s\n", c->name);
		assert_int_equal(r, c->want);
		if (c->want != OC_OK) {
			assert_null(oid);
			continue;
		}
		assert_string_equal(oid, c->oid);
		assert_int_equal(ma, c->major);
		assert_int_equal(mi, c->minor);
		free(oid);
	}
}

static void
test_v2_encode_bad_oid(void **state)
{
	static const char *bad[] = { "", "1", "1..2", "1.2.", ".1.2", "1.2.a",
	    "WebServer", NULL };
	uint8_t *der = NULL;
	size_t len = 0;

	(void)state;
	for (size_t i = 0; bad[i] != NULL; i++) {
		assert_int_equal(pkix_template_v2_encode(bad[i], 1, 0, &der, &len),
		    OC_ERR_INVALID);
		assert_null(der);
	}
	assert_int_equal(pkix_template_v2_encode(NULL, 1, 0, &der, &len),
	    OC_ERR_INVALID);
}

struct v1_case {
	const char *name;
	const char *b64;        /* DER of the extension value */
	int want;
	const char *text;
};

static const struct v1_case v1_cases[] = {
	/* templates.md 10.2: the real CEP response value for Machine */
	{ "BMPString (CEP capture)", "Hg4ATQBhAGMAaABpAG4AZQ==", OC_OK, "Machine" },
	{ "UTF8String", "DAdNYWNoaW5l", OC_OK, "Machine" },
	{ "SEQUENCE { BMPString }", "MBAeDgBNAGEAYwBoAGkAbgBl", OC_OK, "Machine" },
	{ "SEQUENCE { UTF8String }", "MAkMB01hY2hpbmU=", OC_OK, "Machine" },
	{ "IA5String", "FgdNYWNoaW5l", OC_ERR_PARSE, NULL },
	{ "empty BMPString", "HgA=", OC_ERR_PARSE, NULL },
	{ "odd BMPString", "HgMATQA=", OC_ERR_DER, NULL },
	{ "trailing byte", "Hg4ATQBhAGMAaABpAG4AZQA=", OC_ERR_DER, NULL },
	{ "INTEGER", "AgEB", OC_ERR_PARSE, NULL },
	{ "SEQUENCE { IA5String }", "MAkWB01hY2hpbmU=", OC_ERR_PARSE, NULL },
	{ "bad length", "HhBNAA==", OC_ERR_DER, NULL },
	{ "embedded NUL", "DANhAGI=", OC_ERR_PARSE, NULL },
};

static void
test_v1_decode_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(v1_cases) / sizeof(v1_cases[0]); i++) {
		const struct v1_case *c = &v1_cases[i];
		uint8_t *der = NULL;
		size_t len = 0;
		char *name = NULL;
		int r;

		print_message("v1 decode: %s\n", c->name);
		assert_int_equal(oc_b64_decode(c->b64, strlen(c->b64), &der, &len,
		    1024), OC_OK);
		r = pkix_template_v1_decode(der, len, &name);
		free(der);
		assert_int_equal(r, c->want);
		if (c->want == OC_OK)
			assert_string_equal(name, c->text);
		else
			assert_null(name);
		free(name);
	}
}

static void
test_v1_encode(void **state)
{
	static const uint8_t dc_prefix[] = { 0x1e, 0x20, 0x00, 0x44, 0x00, 0x6f, 0x00, 0x6d };
	uint8_t *der = NULL;
	size_t len = 0;
	char *b64 = NULL;

	(void)state;
	assert_int_equal(pkix_template_v1_encode("Machine", &der, &len), OC_OK);
	assert_int_equal(oc_b64_encode(der, len, &b64), OC_OK);
	assert_string_equal(b64, "Hg4ATQBhAGMAaABpAG4AZQ==");
	free(b64);
	free(der);
	/* "DomainController": 34 bytes, 1e 20 00 44 00 6f 00 6d ... */
	assert_int_equal(pkix_template_v1_encode("DomainController", &der, &len), OC_OK);
	assert_int_equal(len, 34);
	assert_memory_equal(der, dc_prefix, sizeof(dc_prefix));
	free(der);
	der = NULL;
	assert_int_equal(pkix_template_v1_encode("", &der, &len), OC_ERR_INVALID);
	assert_int_equal(pkix_template_v1_encode("\xf0\x9f\x98\x80", &der, &len),
	    OC_ERR_INVALID);          /* outside the BMP */
	assert_int_equal(pkix_template_v1_encode("\xc3", &der, &len),
	    OC_ERR_INVALID);          /* bad UTF-8 */
	assert_null(der);
}

static void
test_app_policies(void **state)
{
	/* templates.md 10.3: client + server auth */
	static const uint8_t want[] = {
		0x30, 0x18, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05,
		0x07, 0x03, 0x02, 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05,
		0x05, 0x07, 0x03, 0x01 };
	struct oc_strlist l = { 0 };
	uint8_t *der = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(oc_strlist_add(&l, "1.3.6.1.5.5.7.3.2"), OC_OK);
	assert_int_equal(oc_strlist_add(&l, "1.3.6.1.5.5.7.3.1"), OC_OK);
	assert_int_equal(pkix_app_policies_encode(&l, &der, &len), OC_OK);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(der, want, len);
	free(der);
	der = NULL;
	assert_int_equal(oc_strlist_add(&l, "serverAuth"), OC_OK);
	assert_int_equal(pkix_app_policies_encode(&l, &der, &len), OC_ERR_INVALID);
	assert_null(der);
	oc_strlist_free(&l);
	assert_int_equal(pkix_app_policies_encode(&l, &der, &len), OC_ERR_INVALID);
}

static void
test_sid_ext(void **state)
{
	/* templates.md 10.4: real bytes begin like this for a 45-character SID */
	static const uint8_t prefix[] = {
		0x30, 0x3f, 0xa0, 0x3d, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
		0x82, 0x37, 0x19, 0x02, 0x01, 0xa0, 0x2f, 0x04, 0x2d, 0x53, 0x2d,
		0x31, 0x2d, 0x35 };
	static const char *sid = "S-1-5-21-1004336348-1177238915-682003330-1001";
	static const char *bad[] = { "", "S-1-", "S-1-5-", "S-2-5-21", "s-1-5-21",
	    "S-1-5--21", "S-1-5-21x", "S-1-5-1234567890123456", NULL };
	uint8_t *der = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(strlen(sid), 45);
	assert_int_equal(pkix_sid_ext_encode(sid, &der, &len), OC_OK);
	assert_int_equal(len, 0x41);
	assert_memory_equal(der, prefix, sizeof(prefix));
	assert_memory_equal(der + 20, sid, 45);
	free(der);
	for (size_t i = 0; bad[i] != NULL; i++) {
		der = NULL;
		print_message("bad SID: '%s'\n", bad[i]);
		assert_int_equal(pkix_sid_ext_encode(bad[i], &der, &len), OC_ERR_INVALID);
		assert_null(der);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v2_fact_sheet_roundtrip),
		cmocka_unit_test(test_v2_decode_table),
		cmocka_unit_test(test_v2_encode_bad_oid),
		cmocka_unit_test(test_v1_decode_table),
		cmocka_unit_test(test_v1_encode),
		cmocka_unit_test(test_app_policies),
		cmocka_unit_test(test_sid_ext),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
