/*
 * Extension values of attributes/extensions (built here or by pkix) against
 * the encodings verified in xcep.md 4.2 and 8.2 (real Windows / TameMyCerts
 * samples) and templates.md 11.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util.h"
#include "pkix/pkix.h"
#include "xcep/xcep_int.h"

int main(void);

#define CLIENT_AUTH "1.3.6.1.5.5.7.3.2"
#define SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define EMAIL       "1.3.6.1.5.5.7.3.4"
#define EFS         "1.3.6.1.4.1.311.10.3.4"

static void
assert_b64(uint8_t *der, size_t len, const char *want)
{
	char *b64 = NULL;

	assert_non_null(der);
	assert_int_equal(oc_b64_encode(der, len, &b64), OC_OK);
	assert_string_equal(b64, want);
	free(b64);
	free(der);
}

static void
list(struct oc_strlist *l, const char *a, const char *b, const char *c)
{
	memset(l, 0, sizeof(*l));
	assert_int_equal(oc_strlist_add(l, a), OC_OK);
	if (b)
		assert_int_equal(oc_strlist_add(l, b), OC_OK);
	if (c)
		assert_int_equal(oc_strlist_add(l, c), OC_OK);
}

static void
t_template_v2(void **state)
{
	static const struct {
		const char *oid;
		uint32_t major, minor;
		const char *b64;
	} v[] = {
		/* TameMyCerts "User" sample: SEQUENCE{OID, 100, 8} */
		{ "1.3.6.1.4.1.311.21.8.9623020.4515440.11159474.13925923.6045798.219.2498185.10584990",
		  100, 8, "MC8GJysGAQQBgjcVCITLq2yCk8xwhamPMobR/COC8YBmgVuBmL0JhYaHHgIBZAIBCA==" },
		/* xcep.md 8.2 ComputerCNG: SEQUENCE{OID, 100, 2} */
		{ "1.3.6.1.4.1.311.21.8.3800100.3166153.13323660.9808540.8334961.78.9999.1",
		  100, 2, "MCkGISsGAQQBgjcVCIHn+CSBwZ9Jhq2bDITW1RyD/NxxTs4PAQIBZAIBAg==" },
	};
	uint8_t *der = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(pkix_template_v2_encode(v[i].oid, v[i].major, v[i].minor,
		    &der, &len), OC_OK);
		assert_b64(der, len, v[i].b64);
	}
	assert_true(pkix_template_v2_encode("not.an.oid", 1, 0, &der, &len) != OC_OK);
	assert_null(der);
}

static void
t_template_v1(void **state)
{
	uint8_t *der = NULL;
	size_t len = 0;

	/* xcep.md 4.2: EFS -> HgYARQBGAFM= ; templates.md 11: Machine */
	assert_int_equal(pkix_template_v1_encode("EFS", &der, &len), OC_OK);
	assert_b64(der, len, "HgYARQBGAFM=");
	assert_int_equal(pkix_template_v1_encode("Machine", &der, &len), OC_OK);
	assert_b64(der, len, "Hg4ATQBhAGMAaABpAG4AZQ==");
}

static void
t_eku_and_app_policies(void **state)
{
	struct oc_strlist l;
	uint8_t *der = NULL;
	size_t len = 0;

	list(&l, CLIENT_AUTH, NULL, NULL);
	assert_int_equal(xcep_der_eku(&l, &der, &len), OC_OK);
	assert_b64(der, len, "MAoGCCsGAQUFBwMC");
	assert_int_equal(pkix_app_policies_encode(&l, &der, &len), OC_OK);
	assert_b64(der, len, "MAwwCgYIKwYBBQUHAwI=");
	oc_strlist_free(&l);

	list(&l, CLIENT_AUTH, SERVER_AUTH, NULL);
	assert_int_equal(xcep_der_eku(&l, &der, &len), OC_OK);
	assert_b64(der, len, "MBQGCCsGAQUFBwMCBggrBgEFBQcDAQ==");
	assert_int_equal(pkix_app_policies_encode(&l, &der, &len), OC_OK);
	assert_b64(der, len, "MBgwCgYIKwYBBQUHAwIwCgYIKwYBBQUHAwE=");
	oc_strlist_free(&l);

	/* xcep.md 8.2 EFS: clientAuth, emailProtection, EFS */
	list(&l, CLIENT_AUTH, EMAIL, EFS);
	assert_int_equal(xcep_der_eku(&l, &der, &len), OC_OK);
	assert_b64(der, len, "MCAGCCsGAQUFBwMCBggrBgEFBQcDBAYKKwYBBAGCNwoDBA==");
	oc_strlist_free(&l);

	memset(&l, 0, sizeof(l));
	assert_int_equal(xcep_der_eku(&l, &der, &len), OC_ERR_INVALID);
	list(&l, "1.2.x", NULL, NULL);
	assert_int_equal(xcep_der_eku(&l, &der, &len), OC_ERR_INVALID);
	oc_strlist_free(&l);
}

static void
t_key_usage(void **state)
{
	static const struct {
		uint16_t ku;
		const char *b64;
	} v[] = {
		{ 0xa000, "AwIFoA==" },     /* digitalSignature + keyEncipherment */
		{ 0x8000, "AwIHgA==" },     /* digitalSignature */
		{ 0x2000, "AwIFIA==" },     /* keyEncipherment */
		{ 0x8600, "AwIBhg==" },     /* CA: digitalSignature, keyCertSign, cRLSign */
		{ 0x0080, "AwMHAIA=" },     /* decipherOnly (second byte) */
	};
	uint8_t *der = NULL;
	size_t len = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(xcep_der_key_usage(v[i].ku, &der, &len), OC_OK);
		assert_b64(der, len, v[i].b64);
	}
}

static void
t_ra_ekus(void **state)
{
	struct oc_template t;
	struct oc_strlist out = { 0 };

	memset(&t, 0, sizeof(t));
	/* CNG triplets (templates.md 4.7), last backtick omitted */
	assert_int_equal(oc_strlist_add(&t.ra_app_policies,
	    "msPKI-Asymmetric-Algorithm`PZPWSTR`RSA`msPKI-RA-Application-Policies`PZPWSTR`"
	    "1.3.6.1.4.1.311.20.2.1, 1.3.6.1.5.5.7.3.2`msPKI-Key-Usage`DWORD`16777215"), OC_OK);
	assert_int_equal(xcep_ra_ekus(&t, &out), OC_OK);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.v[0], "1.3.6.1.4.1.311.20.2.1");
	assert_string_equal(out.v[1], "1.3.6.1.5.5.7.3.2");
	oc_strlist_free(&out);
	oc_strlist_free(&t.ra_app_policies);

	/* syntax 1: plain OIDs */
	assert_int_equal(oc_strlist_add(&t.ra_app_policies, "1.3.6.1.4.1.311.10.3.10"), OC_OK);
	assert_int_equal(xcep_ra_ekus(&t, &out), OC_OK);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.v[0], "1.3.6.1.4.1.311.10.3.10");
	oc_strlist_free(&out);
	oc_strlist_free(&t.ra_app_policies);
}

static void
t_oid_valid(void **state)
{
	assert_true(xcep_oid_valid("1.2"));
	assert_true(xcep_oid_valid("2.5.29.37"));
	assert_false(xcep_oid_valid("1"));
	assert_false(xcep_oid_valid("1..2"));
	assert_false(xcep_oid_valid("1.2."));
	assert_false(xcep_oid_valid(".1.2"));
	assert_false(xcep_oid_valid("1.2a"));
	assert_false(xcep_oid_valid(""));
	assert_false(xcep_oid_valid(NULL));
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(t_template_v2),
		cmocka_unit_test(t_template_v1),
		cmocka_unit_test(t_eku_and_app_policies),
		cmocka_unit_test(t_key_usage),
		cmocka_unit_test(t_ra_ekus),
		cmocka_unit_test(t_oid_valid),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
