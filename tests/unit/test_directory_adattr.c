/*
 * Active Directory attribute syntaxes (src/directory/ad_attr.c), table-driven
 * over the worked examples of templates.md: signed flags (5.4, 5.7, 12),
 * validity periods (4.2, bytes and LDIF base64), pKIKeyUsage (4.4),
 * pKIDefaultCSPs (4.3), msPKI-RA-Application-Policies (4.7) and
 * msPKI-Enrollment-Servers (7.2, and the base64 value of the 14.4 LDIF).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"
#include "directory/ad_attr.h"

int main(void);

#define S(x) (const uint8_t *)(x), strlen(x)

static void
test_flags(void **state)
{
	static const struct {
		const char *text;
		uint32_t v;
	} tv[] = {
		/* 5.4 common msPKI-Certificate-Name-Flag values */
		{ "-1509949440", 0xA6000000u }, { "-2113929216", 0x82000000u },
		{ "402653184", 0x18000000u }, { "419430400", 0x19000000u },
		{ "134217728", 0x08000000u }, { "138412032", 0x08400000u },
		{ "150994944", 0x09000000u }, { "1207959552", 0x48000000u }, { "1", 1 },
		/* 12: User flags 66106, msPKI-Enrollment-Flag 41 */
		{ "66106", 66106 }, { "41", 41 }, { "0", 0 },
		/* 5.7: OpenLDAP also holds the unsigned form */
		{ "2147483648", 0x80000000u }, { "-2147483648", 0x80000000u },
		{ "4294967295", 0xFFFFFFFFu }, { "-1", 0xFFFFFFFFu },
	};
	static const char *const bad[] = {
		"", "-", "+1", " 1", "1 ", "0x10", "4294967296", "-2147483649",
		"99999999999", "12a", "--1",
	};
	uint32_t v;
	char out[12];

	(void)state;
	for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		assert_int_equal(oc_ad_attr_u32(S(tv[i].text), &v), OC_OK);
		assert_int_equal(v, tv[i].v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(oc_ad_attr_u32(S(bad[i]), &v), OC_ERR_PARSE);
	/* AD wants the signed text on write */
	oc_ad_attr_i32_text(0xA6000000u, out);
	assert_string_equal(out, "-1509949440");
	oc_ad_attr_i32_text(0x80000000u, out);
	assert_string_equal(out, "-2147483648");
	oc_ad_attr_i32_text(66106, out);
	assert_string_equal(out, "66106");
}

static void
test_periods(void **state)
{
	/* 4.2 */
	static const struct {
		const char *what;
		uint8_t b[8];
		const char *b64;
		int64_t seconds;
	} tv[] = {
		{ "1 hour", { 0x00, 0x98, 0x3b, 0x9e, 0xf7, 0xff, 0xff, 0xff }, NULL, 3600 },
		{ "1 day", { 0x00, 0x40, 0x96, 0xd5, 0x36, 0xff, 0xff, 0xff }, "AECW1Tb///8=", 86400 },
		{ "2 days", { 0x00, 0x80, 0x2c, 0xab, 0x6d, 0xfe, 0xff, 0xff }, NULL, 2 * 86400 },
		{ "1 week", { 0x00, 0xc0, 0x1b, 0xd7, 0x7f, 0xfa, 0xff, 0xff }, NULL, 7 * 86400 },
		{ "2 weeks", { 0x00, 0x80, 0x37, 0xae, 0xff, 0xf4, 0xff, 0xff }, NULL, 14 * 86400 },
		{ "6 weeks", { 0x00, 0x80, 0xa6, 0x0a, 0xff, 0xde, 0xff, 0xff }, "AICmCv/e//8=", 42 * 86400 },
		{ "1 year", { 0x00, 0x40, 0x39, 0x87, 0x2e, 0xe1, 0xfe, 0xff }, "AEA5hy7h/v8=", 31536000 },
		{ "2 years", { 0x00, 0x80, 0x72, 0x0e, 0x5d, 0xc2, 0xfd, 0xff }, "AIByDl3C/f8=", 730 * 86400 },
		{ "3 years", { 0x00, 0xc0, 0xab, 0x95, 0x8b, 0xa3, 0xfc, 0xff }, NULL, 1095 * 86400 },
		{ "5 years", { 0x00, 0x40, 0x1e, 0xa4, 0xe8, 0x65, 0xfa, 0xff }, NULL, 1825 * 86400 },
	};
	static const uint8_t zero[8], positive[8] = { 1 };
	static const uint8_t minimum[8] = { 0, 0, 0, 0, 0, 0, 0, 0x80 };
	uint8_t enc[8], *dec = NULL;
	size_t declen;
	int64_t s;

	(void)state;
	for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		print_message("%s\n", tv[i].what);
		assert_int_equal(oc_ad_attr_period(tv[i].b, 8, &s), OC_OK);
		assert_int_equal(s, tv[i].seconds);
		oc_ad_attr_period_encode(tv[i].seconds, enc);
		assert_memory_equal(enc, tv[i].b, 8);
		if (tv[i].b64 != NULL) {
			assert_int_equal(oc_b64_decode(tv[i].b64, strlen(tv[i].b64), &dec, &declen, 16), OC_OK);
			assert_int_equal(declen, 8);
			assert_memory_equal(dec, tv[i].b, 8);
			free(dec);
			dec = NULL;
		}
	}
	assert_int_equal(oc_ad_attr_period(zero, 8, &s), OC_OK);
	assert_int_equal(s, 0);
	assert_int_equal(oc_ad_attr_period(minimum, 8, &s), OC_OK);
	assert_int_equal(s, INT64_C(922337203685));
	assert_int_equal(oc_ad_attr_period(positive, 8, &s), OC_ERR_PARSE);
	for (size_t n = 0; n < 8; n++)
		assert_int_equal(oc_ad_attr_period(tv[0].b, n, &s), OC_ERR_PARSE);
	assert_int_equal(oc_ad_attr_period(minimum, 9, &s), OC_ERR_PARSE);
}

static void
test_key_usage(void **state)
{
	/* 4.4 */
	static const struct {
		uint8_t b[2];
		size_t len;
		uint16_t ku;
	} tv[] = {
		{ { 0xa0, 0x00 }, 2, 0xa000 }, { { 0x80, 0x00 }, 2, 0x8000 },
		{ { 0x20, 0x00 }, 2, 0x2000 }, { { 0x86, 0x00 }, 2, 0x8600 },
		{ { 0x01, 0x80 }, 2, 0x0180 }, { { 0xa0 }, 1, 0xa000 },
	};
	uint8_t *dec = NULL;
	size_t declen;
	uint16_t ku;

	(void)state;
	for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		assert_int_equal(oc_ad_attr_key_usage(tv[i].b, tv[i].len, &ku), OC_OK);
		assert_int_equal(ku, tv[i].ku);
	}
	assert_int_equal(oc_b64_decode("oAA=", 4, &dec, &declen, 8), OC_OK);
	assert_int_equal(oc_ad_attr_key_usage(dec, declen, &ku), OC_OK);
	assert_int_equal(ku, 0xa000);
	free(dec);
	assert_int_equal(oc_ad_attr_key_usage(tv[0].b, 0, &ku), OC_ERR_PARSE);
	assert_int_equal(oc_ad_attr_key_usage((const uint8_t *)"abc", 3, &ku), OC_ERR_PARSE);
}

static void
test_csps(void **state)
{
	/* 4.3 */
	static const struct {
		const char *value;
		uint32_t prio;
		const char *name;
	} tv[] = {
		{ "1,Microsoft RSA SChannel Cryptographic Provider", 1,
		  "Microsoft RSA SChannel Cryptographic Provider" },
		{ "2,Microsoft DH SChannel Cryptographic Provider", 2,
		  "Microsoft DH SChannel Cryptographic Provider" },
		{ "10,a,b", 10, "a,b" },
	};
	static const char *const bad[] = {
		"", "1", "1,", ",name", "x,name", "-1,name", "99999999999,name",
	};
	struct oc_csp c = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		assert_int_equal(oc_ad_attr_csp(S(tv[i].value), &c), OC_OK);
		assert_int_equal(c.priority, tv[i].prio);
		assert_string_equal(c.name, tv[i].name);
		free(c.name);
		c.name = NULL;
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(oc_ad_attr_csp(S(bad[i]), &c), OC_ERR_PARSE);
	assert_int_equal(oc_ad_attr_csp((const uint8_t *)"1,a\0b", 5, &c), OC_ERR_PARSE);
	assert_null(c.name);
}

static void
test_ra_app_policies(void **state)
{
	/* 4.7, the illustrative v3 value */
	static const char v3[] =
	    "msPKI-RA-Application-Policies`PZPWSTR`1.3.6.1.4.1.311.20.2.1`"
	    "msPKI-Asymmetric-Algorithm`PZPWSTR`RSA`msPKI-Hash-Algorithm`PZPWSTR`SHA256`"
	    "msPKI-Key-Security-Descriptor`PZPWSTR`D:P(A;;FA;;;BA)(A;;FA;;;SY)`"
	    "msPKI-Key-Usage`DWORD`16777215`msPKI-Symmetric-Algorithm`PZPWSTR`3DES`"
	    "msPKI-Symmetric-Key-Length`DWORD`168`";
	/* 4.7, the real OCSPResponseSigning value (MS-CRTD 3) */
	static const char ocsp[] =
	    "msPKI-Asymmetric-Algorithm`PZPWSTR`RSA`msPKI-Hash-Algorithm`PZPWSTR`SHA1`"
	    "msPKI-Key-Security-Descriptor`PZPWSTR`D:(A;;FA;;;BA)(A;;FA;;;SY)"
	    "(A;;GR;;;S-1-5-80-3804348527-3718992918-2141599610-3686422417-2726379419)`"
	    "msPKI-Key-Usage`DWORD`2`";
	static const char *const bad[] = {
		"name`PZPWSTR`",                             /* two tokens */
		"a`b`c`d`",                                  /* four */
		"msPKI-Key-Usage`DWORD`x`",                  /* DWORD not decimal */
		"msPKI-Key-Usage`PZPWSTR`2`",                /* a number needs DWORD */
		"msPKI-Hash-Algorithm`BLOB`SHA1`",           /* unknown type */
		"`PZPWSTR`x`",                               /* empty name */
		"msPKI-RA-Application-Policies`PZPWSTR`1.3.6.x`",
		"not an oid", "1.", ".1", "1..2", "1",
	};
	struct oc_ad_ra_app r = { 0 };

	(void)state;
	assert_int_equal(oc_ad_attr_ra_app_add(&r, S(v3)), OC_OK);
	assert_int_equal(r.ra_app_policies.n, 1);
	assert_string_equal(r.ra_app_policies.v[0], "1.3.6.1.4.1.311.20.2.1");
	assert_string_equal(r.asymmetric_algorithm, "RSA");
	assert_string_equal(r.hash_algorithm, "SHA256");
	assert_string_equal(r.key_security_descriptor, "D:P(A;;FA;;;BA)(A;;FA;;;SY)");
	assert_string_equal(r.symmetric_algorithm, "3DES");
	assert_true(r.has_key_usage && r.has_symmetric_key_length);
	assert_int_equal(r.key_usage, 16777215);
	assert_int_equal(r.symmetric_key_length, 168);
	oc_ad_ra_app_clear(&r);

	assert_int_equal(oc_ad_attr_ra_app_add(&r, S(ocsp)), OC_OK);
	assert_int_equal(r.ra_app_policies.n, 0);
	assert_string_equal(r.asymmetric_algorithm, "RSA");
	assert_string_equal(r.hash_algorithm, "SHA1");
	assert_int_equal(r.key_usage, 2);
	assert_false(r.has_symmetric_key_length);
	oc_ad_ra_app_clear(&r);

	/* 4.3: ECDSA_P256 key algorithm; comma-separated RA OIDs; msPKI-RA-Policies */
	assert_int_equal(oc_ad_attr_ra_app_add(&r, S(
	    "msPKI-Asymmetric-Algorithm`PZPWSTR`ECDSA_P256`"
	    "msPKI-RA-Application-Policies`PZPWSTR`1.3.6.1.4.1.311.20.2.1,1.3.6.1.5.5.7.3.2`"
	    "msPKI-RA-Policies`PZPWSTR`1.3.6.1.4.1.311.21.8.1.400`msPKI-Unknown`PZPWSTR`x`")), OC_OK);
	assert_string_equal(r.asymmetric_algorithm, "ECDSA_P256");
	assert_int_equal(r.ra_app_policies.n, 2);
	assert_string_equal(r.ra_app_policies.v[1], "1.3.6.1.5.5.7.3.2");
	assert_int_equal(r.ra_policies.n, 1);
	/* plain OID values (V1/V2 form) add to the same list */
	assert_int_equal(oc_ad_attr_ra_app_add(&r, S("1.3.6.1.4.1.311.10.3.1")), OC_OK);
	assert_int_equal(r.ra_app_policies.n, 3);
	oc_ad_ra_app_clear(&r);
	/* the last triplet without its closing backquote */
	assert_int_equal(oc_ad_attr_ra_app_add(&r, S("msPKI-Hash-Algorithm`PZPWSTR`SHA384")), OC_OK);
	assert_string_equal(r.hash_algorithm, "SHA384");
	oc_ad_ra_app_clear(&r);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad: %s\n", bad[i]);
		assert_int_equal(oc_ad_attr_ra_app_add(&r, S(bad[i])), OC_ERR_PARSE);
		oc_ad_ra_app_clear(&r);
	}
	oc_ad_ra_app_clear(NULL);
}

static void
test_enrollment_servers(void **state)
{
	/* 7.2 */
	static const char kerb[] = "https://ca1.example.com/EXAMPLE-CA_CES_Kerberos/service.svc/CES";
	static const char b64[] = "MQoyCjAKaHR0cHM6Ly9jYTEuZXhhbXBsZS5jb20vRVhBTVBMRS1DQV9DRVNfS2Vy"
	    "YmVyb3Mvc2VydmljZS5zdmMvQ0VTCjA=";    /* 14.4 LDIF */
	static const char *const bad[] = {
		"", "\n", "1\n2\n0", "1\n2\n0\nhttps://x\n0\n9", "1\n3\n0\nhttps://x",
		"1\n16\n0\nhttps://x", "1\n2\n2\nhttps://x", "1\n2\n0\nhttps://x\n2",
		"x\n2\n0\nhttps://x", "1\n2\n0\nhttps://a b", "1\n2\n0\nhttps://x\n\n1\n2",
		"-1\n2\n0\nhttps://x",
		/* a good endpoint, then six lines in a row (fuzz_directory_attr) */
		"1\n2\n0\nhttps://x\n\n1\n2\n0\nhttps://y\n0\nhttps://z",
	};
	struct oc_ces_uri *v = NULL;
	uint8_t *dec = NULL;
	size_t n = 0, declen;

	(void)state;
	assert_int_equal(oc_ad_attr_ces_add(S("1\n2\n0\nhttps://ca1.example.com/EXAMPLE-CA_CES_Kerberos/service.svc/CES\n0"),
	    &v, &n), OC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].priority, 1);
	assert_int_equal(v[0].auth, 2);
	assert_int_equal(v[0].renewal_only, 0);
	assert_string_equal(v[0].uri, kerb);

	/* the LDIF base64 of 14.4 is the same value */
	assert_int_equal(oc_b64_decode(b64, strlen(b64), &dec, &declen, 1024), OC_OK);
	assert_int_equal(oc_ad_attr_ces_add(dec, declen, &v, &n), OC_OK);
	free(dec);
	assert_int_equal(n, 2);
	assert_string_equal(v[1].uri, kerb);

	/* old writers: 4 fields; several endpoints separated by a blank line */
	assert_int_equal(oc_ad_attr_ces_add(S(
	    "2\n4\n0\nhttps://ca1.example.com/EXAMPLE-CA_CES_UsernamePassword/service.svc/CES\n\n"
	    "3\n8\n1\nhttps://ca1.example.com/EXAMPLE-CA_CES_Certificate/service.svc/CES\n1\n"),
	    &v, &n), OC_OK);
	assert_int_equal(n, 4);
	assert_int_equal(v[2].auth, 4);
	assert_int_equal(v[2].priority, 2);
	assert_int_equal(v[3].auth, 8);
	assert_int_equal(v[3].renewal_only, 1);
	assert_string_equal(v[3].uri, "https://ca1.example.com/EXAMPLE-CA_CES_Certificate/service.svc/CES");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("bad %zu\n", i);
		assert_int_equal(oc_ad_attr_ces_add(S(bad[i]), &v, &n), OC_ERR_PARSE);
		assert_int_equal(n, 4);     /* unchanged */
	}
	/* OC_LIST_MAX endpoints in all */
	while (n < OC_LIST_MAX)
		assert_int_equal(oc_ad_attr_ces_add(S("1\n1\n0\nhttps://x/CES"), &v, &n), OC_OK);
	assert_int_equal(oc_ad_attr_ces_add(S("1\n1\n0\nhttps://x/CES"), &v, &n), OC_ERR_LIMIT);
	assert_int_equal(n, OC_LIST_MAX);
	oc_ad_ces_free(v, n);
	oc_ad_ces_free(NULL, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_key_usage),
		cmocka_unit_test(test_csps),
		cmocka_unit_test(test_ra_app_policies),
		cmocka_unit_test(test_enrollment_servers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
