/*
 * MS-PAC decoding (src/auth/pac.h) over real PACs captured from a Samba 4.17
 * AD DC (tests/lib/samba-dc.sh; MIT gss_get_name_attribute "urn:mspac:" and
 * "urn:mspac:logon-info" of service tickets for HTTP/localhost), and crafted
 * malformed ones derived from them: every truncation, bad offsets, huge and
 * inconsistent counts, bad SIDs and strings, SIDs that disagree.
 *
 * The captured domain (tests/vectors/auth/pac-samba-*.bin):
 *   domain         S-1-5-21-3948352448-806306152-211583070 (CORP)
 *   bob   -1103    user, member of "PKI Enrollers" (-1106), UPN bob@corp.example.test
 *   carol -1104    user, Domain Users only
 *   ws1$  -1105    computer (primary group Domain Computers -515), member of -1106
 * and S-1-18-1 (authentication authority asserted identity) in ExtraSids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/pac.h"

int main(void);

#define DOM "S-1-5-21-3948352448-806306152-211583070"

/* File offsets in pac-samba-bob-logon-info.bin (NDR stream starts at 16). */
#define LI_ENDIAN        0x01
#define LI_OBJLEN        0x08
#define LI_TOP_PTR       0x10
#define LI_NAME_LEN      0x44    /* EffectiveName.Length */
#define LI_GROUP_COUNT   0x80
#define LI_GROUPS_PTR    0x84
#define LI_USER_FLAGS    0x88
#define LI_DOMSID_PTR    0xac
#define LI_SID_COUNT     0xd8
#define LI_RES_COUNT     0xe4
#define LI_GROUP2_ATTR   0x164   /* attributes of GroupIds[1] (-1106) */
#define LI_DOMSID_REV    0x194
#define LI_DOMSID_N      0x195
#define LI_NAME_CHARS    0xf8    /* "bob" in UTF-16LE */
/* In pac-samba-bob.bin: the logon-info buffer is at 120, UPN_DNS_INFO at 592. */
#define PAC_UPN_BUF      592
#define PAC_UPN_SID_RID  (PAC_UPN_BUF + 0x76 + 24)

static uint8_t *
load(const char *name, size_t *len)
{
	const char *dir = getenv("OC_VECTORS");
	char path[1024];
	uint8_t *d;
	FILE *f;
	long n;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/auth/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	d = malloc((size_t)n);
	assert_non_null(d);
	assert_int_equal(fread(d, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return d;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
assert_groups(const struct oc_pac_info *info, const char *const *want)
{
	size_t n = 0;

	for (; want[n] != NULL; n++) {
		assert_true(n < info->group_sids.n);
		assert_string_equal(info->group_sids.v[n], want[n]);
	}
	assert_int_equal(info->group_sids.n, n);
}

/* ---- real PACs ---- */

struct real_case {
	const char *file;
	int whole;                  /* PACTYPE (1) or a logon-info buffer (0) */
	const char *user_sid;
	const char *account;
	const char *upn;
	uint32_t primary_group;
	const char *groups[6];
};

static const struct real_case real_cases[] = {
	{ "pac-samba-bob.bin", 1, DOM "-1103", "bob", "bob@corp.example.test", 513,
	  { DOM "-513", DOM "-1106", "S-1-18-1", NULL } },
	{ "pac-samba-bob-logon-info.bin", 0, DOM "-1103", "bob", NULL, 513,
	  { DOM "-513", DOM "-1106", "S-1-18-1", NULL } },
	{ "pac-samba-carol.bin", 1, DOM "-1104", "carol", "carol@corp.example.test", 513,
	  { DOM "-513", "S-1-18-1", NULL } },
	{ "pac-samba-ws1.bin", 1, DOM "-1105", "ws1$", "ws1$@corp.example.test", 515,
	  { DOM "-515", DOM "-1106", "S-1-18-1", NULL } },
};

static void
test_real(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(real_cases) / sizeof(real_cases[0]); i++) {
		const struct real_case *c = &real_cases[i];
		struct oc_pac_info info;
		size_t len;
		uint8_t *d = load(c->file, &len);

		print_message("%s\n", c->file);
		if (c->whole)
			assert_int_equal(oc_pac_parse(d, len, &info), OC_OK);
		else
			assert_int_equal(oc_pac_logon_info_parse(d, len, &info), OC_OK);
		assert_string_equal(info.user_sid, c->user_sid);
		assert_string_equal(info.domain_sid, DOM);
		assert_string_equal(info.account_name, c->account);
		assert_string_equal(info.domain_name, "CORP");
		if (c->upn != NULL)
			assert_string_equal(info.upn, c->upn);
		else
			assert_null(info.upn);
		assert_int_equal(info.primary_group_id, c->primary_group);
		assert_true(info.user_flags & OC_PAC_FLAG_EXTRA_SIDS);
		assert_groups(&info, c->groups);
		oc_pac_info_clear(&info);
		oc_pac_info_clear(&info);       /* idempotent */
		free(d);
	}
	oc_pac_info_clear(NULL);
}

/* Every proper prefix of a real PAC or logon-info buffer is refused. */
static void
test_truncated(void **state)
{
	static const struct { const char *file; int whole; } files[] = {
		{ "pac-samba-bob.bin", 1 },
		{ "pac-samba-ws1.bin", 1 },
		{ "pac-samba-bob-logon-info.bin", 0 },
	};

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct oc_pac_info info;
		size_t len;
		uint8_t *d = load(files[f].file, &len);

		for (size_t n = 0; n < len; n++) {
			uint8_t *t = malloc(n ? n : 1);     /* exact size: ASan sees over-reads */
			int r;

			assert_non_null(t);
			memcpy(t, d, n);
			r = files[f].whole ? oc_pac_parse(t, n, &info) :
			    oc_pac_logon_info_parse(t, n, &info);
			if (r == OC_OK)
				fail_msg("%s: prefix of %zu bytes accepted", files[f].file, n);
			assert_null(info.user_sid);
			assert_int_equal(info.group_sids.n, 0);
			free(t);
		}
		free(d);
	}
}

/* ---- crafted logon-info buffers ---- */

struct li_case {
	const char *what;
	size_t off;
	int width;                  /* 1 or 4 bytes written at off */
	uint32_t value;
	int want;                   /* expected result */
	const char *absent;         /* OC_OK cases: a group SID that must be gone */
};

static const struct li_case li_cases[] = {
	{ "big-endian NDR", LI_ENDIAN, 1, 0x00, OC_ERR_PARSE, NULL },
	{ "object length past the end", LI_OBJLEN, 4, 0xffffffff, OC_ERR_PARSE, NULL },
	{ "null top-level pointer", LI_TOP_PTR, 4, 0, OC_ERR_PARSE, NULL },
	{ "odd string length", LI_NAME_LEN, 1, 7, OC_ERR_PARSE, NULL },
	{ "string length above its maximum", LI_NAME_LEN, 1, 0x40, OC_ERR_PARSE, NULL },
	{ "huge GroupCount", LI_GROUP_COUNT, 4, 0xffffffff, OC_ERR_LIMIT, NULL },
	{ "GroupCount over the conformance", LI_GROUP_COUNT, 4, 3, OC_ERR_PARSE, NULL },
	{ "GroupCount without GroupIds", LI_GROUPS_PTR, 4, 0, OC_ERR_PARSE, NULL },
	{ "no LogonDomainId", LI_DOMSID_PTR, 4, 0, OC_ERR_PARSE, NULL },
	{ "huge SidCount", LI_SID_COUNT, 4, 0x40000000, OC_ERR_LIMIT, NULL },
	{ "SidCount over the conformance", LI_SID_COUNT, 4, 2, OC_ERR_PARSE, NULL },
	{ "resource groups without their array", LI_RES_COUNT, 4, 1, OC_ERR_PARSE, NULL },
	{ "SID revision 2", LI_DOMSID_REV, 1, 2, OC_ERR_PARSE, NULL },
	{ "SID with 16 sub-authorities", LI_DOMSID_N, 1, 16, OC_ERR_PARSE, NULL },
	{ "SID count disagrees with conformance", LI_DOMSID_N, 1, 3, OC_ERR_PARSE, NULL },
	{ "NUL in the account name", LI_NAME_CHARS, 1, 0, OC_ERR_PARSE, NULL },
	{ "unpaired surrogate in the account name", LI_NAME_CHARS + 1, 1, 0xdc, OC_ERR_PARSE, NULL },
	{ "deny-only group left out", LI_GROUP2_ATTR, 1, 0x17, OC_OK, DOM "-1106" },
	/* LOGON_RESOURCE_GROUPS with no resource groups: nothing more, nothing less */
	{ "resource-groups flag alone", LI_USER_FLAGS, 4, 0x220, OC_OK, NULL },
};

static void
test_logon_info_crafted(void **state)
{
	size_t len;
	uint8_t *orig = load("pac-samba-bob-logon-info.bin", &len);

	(void)state;
	for (size_t i = 0; i < sizeof(li_cases) / sizeof(li_cases[0]); i++) {
		const struct li_case *c = &li_cases[i];
		struct oc_pac_info info;
		uint8_t *d = malloc(len);

		print_message("%s\n", c->what);
		assert_non_null(d);
		memcpy(d, orig, len);
		assert_true(c->off + (size_t)c->width <= len);
		if (c->width == 1)
			d[c->off] = (uint8_t)c->value;
		else
			put32(d + c->off, c->value);
		assert_int_equal(oc_pac_logon_info_parse(d, len, &info), c->want);
		if (c->want == OC_OK) {
			assert_string_equal(info.user_sid, DOM "-1103");
			assert_true(oc_strlist_contains(&info.group_sids, DOM "-513"));
			if (c->absent != NULL)
				assert_false(oc_strlist_contains(&info.group_sids, c->absent));
			else
				assert_int_equal(info.group_sids.n, 3);
		} else {
			assert_null(info.user_sid);
			assert_null(info.account_name);
		}
		oc_pac_info_clear(&info);
		free(d);
	}
	free(orig);
}

/* ---- crafted PACTYPEs ---- */

static void
test_pactype_crafted(void **state)
{
	struct oc_pac_info info;
	size_t len;
	uint8_t *orig = load("pac-samba-bob.bin", &len), *d;

	(void)state;
	assert_non_null(d = malloc(len));

	/* cBuffers huge */
	memcpy(d, orig, len);
	put32(d, 0xffffffff);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_LIMIT);
	/* cBuffers more than the bytes hold */
	memcpy(d, orig, len);
	put32(d, 60);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	/* no buffers, version 1 */
	memcpy(d, orig, len);
	put32(d, 0);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	memcpy(d, orig, len);
	put32(d + 4, 1);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	/* logon-info offset past the end, into the header, 64-bit high word set */
	memcpy(d, orig, len);
	put32(d + 8 + 8, (uint32_t)len);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	memcpy(d, orig, len);
	put32(d + 8 + 8, 16);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	memcpy(d, orig, len);
	put32(d + 8 + 12, 1);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	/* logon-info size past the end, and size + offset wrapping */
	memcpy(d, orig, len);
	put32(d + 8 + 4, (uint32_t)len);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	memcpy(d, orig, len);
	put32(d + 8 + 4, 0xfffffff0);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	/* no logon-info buffer (its type changed: an MIT KDC's PAC), and a second one */
	memcpy(d, orig, len);
	put32(d + 8, 99);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_NOT_FOUND);
	memcpy(d, orig, len);
	put32(d + 8 + 16, OC_PAC_TYPE_LOGON_INFO);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	/* UPN_DNS_INFO's SID names another account */
	memcpy(d, orig, len);
	assert_int_equal(d[PAC_UPN_SID_RID], 0x4f);
	d[PAC_UPN_SID_RID] = 0x50;
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	/* UPN offset past its buffer */
	memcpy(d, orig, len);
	d[PAC_UPN_BUF + 2] = 0xff;
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	/* a PAC_REQUESTOR that names another account: the client-info buffer retyped */
	memcpy(d, orig, len);
	put32(d + 8 + 16, OC_PAC_TYPE_REQUESTOR);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	/* the original still parses */
	memcpy(d, orig, len);
	assert_int_equal(oc_pac_parse(d, len, &info), OC_OK);
	oc_pac_info_clear(&info);
	/* over the size bound */
	assert_int_equal(oc_pac_parse(d, OC_PAC_MAX + 1, &info), OC_ERR_LIMIT);
	assert_int_equal(oc_pac_parse(NULL, 0, &info), OC_ERR_INVALID);
	assert_int_equal(oc_pac_parse(d, len, NULL), OC_ERR_INVALID);
	free(d);
	free(orig);
}

/* A PAC_REQUESTOR with the user's SID is accepted: the client-info buffer (16 bytes) replaced. */
static void
test_requestor(void **state)
{
	/* S-1-5-21-3948352448-806306152-211583070-1103 needs 28 bytes: build a PAC around it */
	static const uint8_t sid[28] = {
		1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0,
		0xc0, 0x13, 0x57, 0xeb, 0x68, 0x41, 0x0f, 0x30, 0x5e, 0x80, 0x9c, 0x0c,
		0x4f, 0x04, 0, 0,
	};
	struct oc_pac_info info;
	size_t lilen, len;
	uint8_t *li = load("pac-samba-bob-logon-info.bin", &lilen), *d;

	(void)state;
	len = 8 + 2 * 16 + lilen + sizeof(sid);
	assert_non_null(d = calloc(1, len));
	put32(d, 2);
	put32(d + 8, OC_PAC_TYPE_LOGON_INFO);
	put32(d + 12, (uint32_t)lilen);
	put32(d + 16, 40);
	put32(d + 24, OC_PAC_TYPE_REQUESTOR);
	put32(d + 28, sizeof(sid));
	put32(d + 32, (uint32_t)(40 + lilen));
	memcpy(d + 40, li, lilen);
	memcpy(d + 40 + lilen, sid, sizeof(sid));
	assert_int_equal(oc_pac_parse(d, len, &info), OC_OK);
	assert_string_equal(info.user_sid, DOM "-1103");
	oc_pac_info_clear(&info);
	d[len - 4] = 0x50;      /* RID 1104 */
	assert_int_equal(oc_pac_parse(d, len, &info), OC_ERR_PARSE);
	free(d);
	free(li);
}

/* ---- SID text ---- */

static void
test_sid_text(void **state)
{
	static const struct {
		const char *text;       /* NULL: refused */
		size_t len;
		uint8_t b[72];
	} cases[] = {
		{ "S-1-1-0", 12, { 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 } },
		{ "S-1-5-11", 12, { 1, 1, 0, 0, 0, 0, 0, 5, 11, 0, 0, 0 } },
		{ "S-1-5-32-544", 16, { 1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 2, 0, 0 } },
		{ "S-1-0", 8, { 1, 0, 0, 0, 0, 0, 0, 0 } },
		{ "S-1-4294967295-4294967295", 12,
		  { 1, 1, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "S-1-0x0100000000FF", 8, { 1, 0, 1, 0, 0, 0, 0, 0xff } },
		{ NULL, 11, { 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0 } },            /* short */
		{ NULL, 16, { 1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 } }, /* long */
		{ NULL, 12, { 2, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 } },         /* revision */
		{ NULL, 7, { 1, 0, 0, 0, 0, 0, 0 } },
		{ NULL, 72, { 1, 16 } },                                          /* 16 sub-authorities */
	};
	char buf[OC_PAC_SID_TEXT_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = oc_pac_sid_text(cases[i].b, cases[i].len, buf, sizeof(buf));

		if (cases[i].text != NULL) {
			assert_int_equal(r, OC_OK);
			assert_string_equal(buf, cases[i].text);
		} else
			assert_int_equal(r, OC_ERR_PARSE);
	}
	assert_int_equal(oc_pac_sid_text(cases[0].b, 12, buf, 10), OC_ERR_INVALID);
}

/* The longest SID text ("S-1-0x" + 12 hex digits + 15 * "-4294967295") fits the declared maximum. */
static void
test_sid_text_longest(void **state)
{
	uint8_t b[8 + 4 * 15];
	char buf[OC_PAC_SID_TEXT_MAX + 1];

	(void)state;
	memset(b, 0xff, sizeof(b));
	b[0] = 1;
	b[1] = 15;
	assert_int_equal(oc_pac_sid_text(b, sizeof(b), buf, sizeof(buf)), OC_OK);
	assert_int_equal(strlen(buf), 6 + 12 + 15 * 11);
	assert_true(strlen(buf) <= OC_PAC_SID_TEXT_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_logon_info_crafted),
		cmocka_unit_test(test_pactype_crafted),
		cmocka_unit_test(test_requestor),
		cmocka_unit_test(test_sid_text),
		cmocka_unit_test(test_sid_text_longest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
