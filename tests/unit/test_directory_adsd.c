/*
 * Active Directory security descriptors (src/directory/ad_sd.c) against
 * templates.md 6: the GUIDs of 6.1, the access check of 6.2, the binary
 * layout of 6.3 and the real User / WebServer ACLs of 6.4 (also stored as
 * tests/vectors/directory/ad_sd_*.bin, written by ad_gen.py there), then
 * hostile SDs: truncations, bad sizes and counts, oversized SIDs.
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
#include "directory/ad_sd.h"
#include "directory/directory.h"

int main(void);

#define DOM "S-1-5-21-3948352448-806306152-211583070"
#define EA  DOM "-519"
#define DA  DOM "-512"
#define DU  DOM "-513"
#define DC  DOM "-516"
#define AU  "S-1-5-11"
#define WORLD "S-1-1-0"
#define ALICE DOM "-1104"

/* ---- a small SD writer (the layout of ad_gen.py: header, DACL, owner, group) ---- */

struct tace {
	uint8_t type, flags;
	uint32_t mask;
	const char *object;          /* ObjectType GUID text or NULL */
	const char *inherited;       /* InheritedObjectType GUID text or NULL */
	const char *sid;
};

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static size_t
put_sid(uint8_t *p, const char *text)
{
	struct oc_ad_sid s;
	size_t n;

	assert_int_equal(oc_ad_sid_from_text(text, &s), OC_OK);
	oc_ad_sid_encode(&s, p, &n);
	return n;
}

static size_t
build_sd(uint8_t *out, uint16_t control, const struct tace *aces, size_t naces)
{
	size_t pos = 28, aclstart = 20;

	memset(out, 0, 28);
	out[0] = 1;
	put16(out + 2, control);
	put32(out + 16, 20);
	for (size_t i = 0; i < naces; i++) {
		size_t start = pos;
		uint32_t of = 0;

		out[pos] = aces[i].type;
		out[pos + 1] = aces[i].flags;
		pos += 4;
		put32(out + pos, aces[i].mask);
		pos += 4;
		if (aces[i].type == OC_AD_ACE_ALLOWED_OBJECT || aces[i].type == OC_AD_ACE_DENIED_OBJECT) {
			size_t ofpos = pos;

			pos += 4;
			if (aces[i].object != NULL) {
				assert_int_equal(oc_ad_guid_from_text(aces[i].object, out + pos), OC_OK);
				pos += 16;
				of |= 1;
			}
			if (aces[i].inherited != NULL) {
				assert_int_equal(oc_ad_guid_from_text(aces[i].inherited, out + pos), OC_OK);
				pos += 16;
				of |= 2;
			}
			put32(out + ofpos, of);
		}
		pos += put_sid(out + pos, aces[i].sid);
		put16(out + start + 2, (uint32_t)(pos - start));
	}
	out[aclstart] = 4;
	put16(out + aclstart + 2, (uint32_t)(pos - aclstart));
	put16(out + aclstart + 4, (uint32_t)naces);
	put32(out + 4, (uint32_t)pos);
	pos += put_sid(out + pos, EA);
	put32(out + 8, (uint32_t)pos);
	pos += put_sid(out + pos, EA);
	return pos;
}

static uint8_t *
read_vector(const char *name, size_t *len)
{
	const char *dir = getenv("OC_VECTORS");
	char path[512];
	uint8_t *data = NULL;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/directory/%s", dir, name);
	assert_int_equal(oc_file_read(path, &data, len, OC_AD_SD_MAX), OC_OK);
	return data;
}

/* rights of the token "caller + groups" (NULL-terminated) */
static uint32_t
rights_of(const struct oc_ad_sd *sd, const char *caller, const char *const *groups)
{
	struct oc_strlist g = { 0 };
	uint32_t rights = 0xdead;

	for (size_t i = 0; groups != NULL && groups[i] != NULL; i++)
		assert_int_equal(oc_strlist_add(&g, groups[i]), OC_OK);
	assert_int_equal(oc_ad_sd_rights(sd, caller, &g, &rights), OC_OK);
	oc_strlist_free(&g);
	return rights;
}

/* ---- 6.1: the GUIDs and their ACE bytes ---- */

static void
test_guids(void **state)
{
	static const struct {
		const char *text;
		uint8_t bytes[16];
	} tv[] = {
		{ OC_AD_GUID_ENROLL, { 0x68, 0xc9, 0x10, 0x0e, 0xfb, 0x78, 0xd2, 0x11,
		    0x90, 0xd4, 0x00, 0xc0, 0x4f, 0x79, 0xdc, 0x55 } },
		{ OC_AD_GUID_AUTOENROLL, { 0xc2, 0x8c, 0x5b, 0xa0, 0xbc, 0x17, 0x02, 0x48,
		    0xa7, 0x10, 0xe7, 0xc1, 0x5a, 0xb8, 0x66, 0xa2 } },
	};
	static const char *const bad[] = {
		"", "0e10c968-78fb-11d2-90d4-00c04f79dc5", "0e10c968-78fb-11d2-90d4-00c04f79dc555",
		"0e10c968x78fb-11d2-90d4-00c04f79dc55", "0e10c968-78fb-11d2-90d4-00c04f79dcg5",
		"{0e10c968-78fb-11d2-90d4-00c04f79dc}",
	};
	uint8_t g[16];
	char text[OC_AD_GUID_TEXT_LEN + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		assert_int_equal(oc_ad_guid_from_text(tv[i].text, g), OC_OK);
		assert_memory_equal(g, tv[i].bytes, 16);
		oc_ad_guid_to_text(tv[i].bytes, text);
		assert_string_equal(text, tv[i].text);
	}
	assert_int_equal(oc_ad_guid_from_text("0E10C968-78FB-11D2-90D4-00C04F79DC55", g), OC_OK);
	assert_memory_equal(g, tv[0].bytes, 16);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(oc_ad_guid_from_text(bad[i], g), OC_ERR_PARSE);
}

/* ---- SIDs: text <-> binary ---- */

static void
test_sids(void **state)
{
	static const char *const good[] = {
		WORLD, AU, "S-1-5-9", DU, EA, "S-1-5-32-544", "S-1-18-1", "S-1-0x123456789ABC-7",
		"S-1-5-80-3804348527-3718992918-2141599610-3686422417-2726379419",
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-4294967295",    /* 15 sub-authorities */
	};
	static const char *const bad[] = {
		"", "S", "S-1", "S-1-", "S-1-5-", "S-2-5-11", "X-1-5-11", "S-1-5--11", "S-1-5-11 ",
		"S-1-5-4294967296", "S-1-281474976710656", "S-1-0x1000000000000",
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", /* 16 sub-authorities */
	};
	/* S-1-5-32-544 (BUILTIN\Administrators), [MS-DTYP] 2.4.2.2 layout */
	static const uint8_t ba[] = { 0x01, 0x02, 0, 0, 0, 0, 0, 0x05,
	    0x20, 0, 0, 0, 0x20, 0x02, 0, 0 };
	struct oc_ad_sid s, s2;
	uint8_t bin[OC_AD_SID_BYTES_MAX];
	char text[OC_AD_SID_TEXT_MAX];
	size_t n, used;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(oc_ad_sid_from_text(good[i], &s), OC_OK);
		assert_int_equal(oc_ad_sid_to_text(&s, text, sizeof(text)), OC_OK);
		assert_string_equal(text, good[i]);
		oc_ad_sid_encode(&s, bin, &n);
		assert_int_equal(oc_ad_sid_parse(bin, n, &s2, &used), OC_OK);
		assert_int_equal(used, n);
		assert_true(oc_ad_sid_eq(&s, &s2));
		/* every shorter prefix is truncated */
		for (size_t k = 0; k < n; k++)
			assert_int_equal(oc_ad_sid_parse(bin, k, &s2, &used), OC_ERR_PARSE);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(oc_ad_sid_from_text(bad[i], &s), OC_ERR_PARSE);

	assert_int_equal(oc_ad_sid_from_text("S-1-5-32-544", &s), OC_OK);
	oc_ad_sid_encode(&s, bin, &n);
	assert_int_equal(n, sizeof(ba));
	assert_memory_equal(bin, ba, sizeof(ba));

	/* binary: revision other than 1, sub-authority count 16 and 255 */
	memcpy(bin, ba, sizeof(ba));
	bin[0] = 2;
	assert_int_equal(oc_ad_sid_parse(bin, sizeof(ba), &s, &used), OC_ERR_PARSE);
	{
		uint8_t big[8 + 4 * 255] = { 1, 16, 0, 0, 0, 0, 0, 5 };

		assert_int_equal(oc_ad_sid_parse(big, 8 + 4 * 16, &s, &used), OC_ERR_PARSE);
		big[1] = 255;
		assert_int_equal(oc_ad_sid_parse(big, sizeof(big), &s, &used), OC_ERR_PARSE);
		big[1] = 15;
		assert_int_equal(oc_ad_sid_parse(big, 8 + 4 * 15, &s, &used), OC_OK);
		assert_int_equal(used, 8 + 4 * 15);
	}
	/* too small a text buffer */
	assert_int_equal(oc_ad_sid_from_text(EA, &s), OC_OK);
	assert_int_equal(oc_ad_sid_to_text(&s, text, 10), OC_ERR_LIMIT);
}

/* ---- 6.4: the real User and WebServer ACLs ---- */

static const char *const TOK_DU[] = { DU, WORLD, AU, NULL };           /* a domain user */
static const char *const TOK_AU[] = { WORLD, AU, NULL };               /* only AU */
static const char *const TOK_DA[] = { DA, DU, WORLD, AU, NULL };       /* a domain admin */
static const char *const TOK_EA[] = { EA, DU, WORLD, AU, NULL };

static void
test_user_template(void **state)
{
	struct oc_ad_sd *sd = NULL;
	uint8_t *data;
	size_t len;
	char text[OC_AD_SID_TEXT_MAX], g[OC_AD_GUID_TEXT_LEN + 1];

	(void)state;
	data = read_vector("ad_sd_user.bin", &len);
	assert_int_equal(oc_ad_sd_parse(data, len, &sd), OC_OK);
	assert_int_equal(sd->revision, 1);
	assert_int_equal(sd->control, 0x9404);      /* SR | PD (protected) | AI | DP */
	assert_true(sd->has_owner && sd->has_group && sd->has_dacl);
	assert_int_equal(oc_ad_sid_to_text(&sd->owner, text, sizeof(text)), OC_OK);
	assert_string_equal(text, EA);
	assert_int_equal(oc_ad_sid_to_text(&sd->group, text, sizeof(text)), OC_OK);
	assert_string_equal(text, EA);
	assert_int_equal(sd->naces, 6);
	/* (A;;LCRPLORC;;;AU) */
	assert_int_equal(sd->aces[0].type, OC_AD_ACE_ALLOWED);
	assert_int_equal(sd->aces[0].mask, 0x20094);
	assert_int_equal(oc_ad_sid_to_text(&sd->aces[0].sid, text, sizeof(text)), OC_OK);
	assert_string_equal(text, AU);
	/* (A;;CCDCLCSWRPWPDTLOSDRCWDWO;;;DA) */
	assert_int_equal(sd->aces[1].mask, 0xF00FF);
	/* (OA;;RPWPCR;0e10c968-...;;DU) */
	assert_int_equal(sd->aces[4].type, OC_AD_ACE_ALLOWED_OBJECT);
	assert_int_equal(sd->aces[4].mask, 0x130);
	assert_int_equal(sd->aces[4].object_flags, OC_AD_ACE_OBJECT_TYPE_PRESENT);
	oc_ad_guid_to_text(sd->aces[4].object_type, g);
	assert_string_equal(g, OC_AD_GUID_ENROLL);
	assert_int_equal(oc_ad_sid_to_text(&sd->aces[4].sid, text, sizeof(text)), OC_OK);
	assert_string_equal(text, DU);

	/* 6.4 table: User -> Enroll for Domain Users (and DA/EA), no AutoEnroll */
	assert_int_equal(rights_of(sd, ALICE, TOK_DU), OC_RIGHT_ENROLL);
	assert_int_equal(rights_of(sd, ALICE, TOK_AU), 0);
	assert_int_equal(rights_of(sd, DOM "-500", TOK_DA), OC_RIGHT_ENROLL);
	assert_int_equal(rights_of(sd, DOM "-500", TOK_EA), OC_RIGHT_ENROLL);
	assert_int_equal(rights_of(sd, ALICE, NULL), 0);
	/* the caller's own SID counts like a group */
	assert_int_equal(rights_of(sd, DU, NULL), OC_RIGHT_ENROLL);
	oc_ad_sd_free(sd);
	free(data);
}

static void
test_webserver_template(void **state)
{
	static const char *const tok_da_only[] = { DA, WORLD, AU, NULL };
	struct oc_ad_sd *sd = NULL;
	uint8_t *data;
	size_t len;

	(void)state;
	data = read_vector("ad_sd_webserver.bin", &len);
	assert_int_equal(oc_ad_sd_parse(data, len, &sd), OC_OK);
	assert_int_equal(sd->naces, 5);
	/* 6.4: WebServer -> only DA / EA; the 0xf00ff full-ish masks lack CR */
	assert_int_equal(rights_of(sd, ALICE, TOK_DU), 0);
	assert_int_equal(rights_of(sd, ALICE, TOK_AU), 0);
	assert_int_equal(rights_of(sd, DOM "-500", tok_da_only), OC_RIGHT_ENROLL);
	oc_ad_sd_free(sd);
	free(data);
}

/* The writer above produces the same bytes as ad_gen.py for the User SD. */
static void
test_builder_matches_vector(void **state)
{
	static const struct tace user[] = {
		{ OC_AD_ACE_ALLOWED, 0, 0x20094, NULL, NULL, AU },
		{ OC_AD_ACE_ALLOWED, 0, 0xF00FF, NULL, NULL, DA },
		{ OC_AD_ACE_ALLOWED, 0, 0xF00FF, NULL, NULL, EA },
		{ OC_AD_ACE_ALLOWED_OBJECT, 0, 0x130, OC_AD_GUID_ENROLL, NULL, DA },
		{ OC_AD_ACE_ALLOWED_OBJECT, 0, 0x130, OC_AD_GUID_ENROLL, NULL, DU },
		{ OC_AD_ACE_ALLOWED_OBJECT, 0, 0x130, OC_AD_GUID_ENROLL, NULL, EA },
	};
	uint8_t buf[1024], *data;
	size_t len, n;

	(void)state;
	n = build_sd(buf, 0x9404, user, 6);
	data = read_vector("ad_sd_user.bin", &len);
	assert_int_equal(n, len);
	assert_memory_equal(buf, data, len);
	free(data);
}

/* ---- 6.2: the ordered check, deny over allow ---- */

static void
test_access_check_table(void **state)
{
	static const char *const tok_alice_du[] = { DU, WORLD, AU, NULL };
	static const char *const tok_dc[] = { DC, "S-1-5-9", WORLD, AU, NULL };
	static const struct {
		const char *what;
		struct tace aces[4];
		size_t naces;
		const char *const *groups;
		uint32_t want;
	} tv[] = {
		{ "user allowed, group denied (canonical: deny first)",
		  { { OC_AD_ACE_DENIED_OBJECT, 0, 0x100, OC_AD_GUID_ENROLL, NULL, DU },
		    { OC_AD_ACE_ALLOWED_OBJECT, 0, 0x100, OC_AD_GUID_ENROLL, NULL, ALICE } },
		  2, tok_alice_du, 0 },
		{ "group allowed, user denied",
		  { { OC_AD_ACE_DENIED_OBJECT, 0, 0x100, OC_AD_GUID_ENROLL, NULL, ALICE },
		    { OC_AD_ACE_ALLOWED_OBJECT, 0, 0x130, OC_AD_GUID_ENROLL, NULL, DU } },
		  2, tok_alice_du, 0 },
		{ "deny Enroll, allow all extended rights: AutoEnroll only",
		  { { OC_AD_ACE_DENIED_OBJECT, 0, 0x100, OC_AD_GUID_ENROLL, NULL, DU },
		    { OC_AD_ACE_ALLOWED, 0, 0x100, NULL, NULL, DU } },
		  2, tok_alice_du, OC_RIGHT_AUTOENROLL },
		{ "allow all extended rights as an object ACE without ObjectType",
		  { { OC_AD_ACE_ALLOWED_OBJECT, 0, 0x100, NULL, NULL, AU } },
		  1, tok_alice_du, OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL },
		{ "allow all extended rights first, deny Enroll after: first decision wins",
		  { { OC_AD_ACE_ALLOWED, 0, 0x100, NULL, NULL, DU },
		    { OC_AD_ACE_DENIED_OBJECT, 0, 0x100, OC_AD_GUID_ENROLL, NULL, DU } },
		  2, tok_alice_du, OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL },
		{ "inherit-only deny ignored",
		  { { OC_AD_ACE_DENIED_OBJECT, OC_AD_ACE_INHERIT_ONLY | 0x02, 0x100,
		      OC_AD_GUID_ENROLL, NULL, DU },
		    { OC_AD_ACE_ALLOWED_OBJECT, 0, 0x100, OC_AD_GUID_ENROLL, NULL, DU } },
		  2, tok_alice_du, OC_RIGHT_ENROLL },
		{ "inherit-only allow ignored",
		  { { OC_AD_ACE_ALLOWED_OBJECT, OC_AD_ACE_INHERIT_ONLY, 0x100,
		      OC_AD_GUID_ENROLL, NULL, DU } },
		  1, tok_alice_du, 0 },
		{ "GENERIC_ALL",
		  { { OC_AD_ACE_ALLOWED, 0, OC_AD_GENERIC_ALL, NULL, NULL, DU } },
		  1, tok_alice_du, OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL },
		{ "full control 0xF01FF",
		  { { OC_AD_ACE_ALLOWED, 0, 0xF01FF, NULL, NULL, AU } },
		  1, tok_alice_du, OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL },
		{ "GENERIC_ALL deny before full control",
		  { { OC_AD_ACE_DENIED, 0, OC_AD_GENERIC_ALL, NULL, NULL, WORLD },
		    { OC_AD_ACE_ALLOWED, 0, 0xF01FF, NULL, NULL, DU } },
		  2, tok_alice_du, 0 },
		{ "Enroll without the CR bit (RP|WP) grants nothing",
		  { { OC_AD_ACE_ALLOWED_OBJECT, 0, 0x30, OC_AD_GUID_ENROLL, NULL, DU } },
		  1, tok_alice_du, 0 },
		{ "another GUID's deny does not touch Enroll",
		  { { OC_AD_ACE_DENIED_OBJECT, 0, 0x100, OC_AD_GUID_AUTOENROLL, NULL, DU },
		    { OC_AD_ACE_ALLOWED, 0, 0x100, NULL, NULL, DU } },
		  2, tok_alice_du, OC_RIGHT_ENROLL },
		{ "a deny for a SID outside the token is skipped",
		  { { OC_AD_ACE_DENIED, 0, 0x100, NULL, NULL, DC },
		    { OC_AD_ACE_ALLOWED_OBJECT, 0, 0x100, OC_AD_GUID_ENROLL, NULL, WORLD } },
		  2, tok_alice_du, OC_RIGHT_ENROLL },
		{ "InheritedObjectType does not restrict the object itself",
		  { { OC_AD_ACE_ALLOWED_OBJECT, 0, 0x100, OC_AD_GUID_ENROLL,
		      "e5209ca2-3bba-11d2-90cc-00c04fd91ab1", DU } },
		  1, tok_alice_du, OC_RIGHT_ENROLL },
		{ "6.4 DomainController: Enroll and AutoEnroll to -516 and S-1-5-9",
		  { { OC_AD_ACE_ALLOWED_OBJECT, 0, 0x130, OC_AD_GUID_ENROLL, NULL, DC },
		    { OC_AD_ACE_ALLOWED_OBJECT, 0, 0x130, OC_AD_GUID_AUTOENROLL, NULL, "S-1-5-9" },
		    { OC_AD_ACE_ALLOWED, 0, 0x20094, NULL, NULL, AU } },
		  3, tok_dc, OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL },
		{ "empty DACL", { { 0 } }, 0, tok_alice_du, 0 },
	};
	uint8_t buf[2048];

	(void)state;
	for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		struct oc_ad_sd *sd = NULL;
		size_t n = build_sd(buf, 0x8004, tv[i].aces, tv[i].naces);

		print_message("%s\n", tv[i].what);
		assert_int_equal(oc_ad_sd_parse(buf, n, &sd), OC_OK);
		assert_int_equal(rights_of(sd, ALICE, tv[i].groups), tv[i].want);
		oc_ad_sd_free(sd);
	}
}

static void
test_rights_args(void **state)
{
	static const struct tace all[] = { { OC_AD_ACE_ALLOWED, 0, 0x100, NULL, NULL, WORLD } };
	struct oc_strlist g = { 0 };
	struct oc_ad_sd *sd = NULL;
	uint8_t buf[256];
	uint32_t rights;
	size_t n;

	(void)state;
	n = build_sd(buf, 0x8004, all, 1);
	assert_int_equal(oc_ad_sd_parse(buf, n, &sd), OC_OK);
	/* Everyone is not added by the check: the caller's token must carry it */
	assert_int_equal(rights_of(sd, ALICE, NULL), 0);
	assert_int_equal(oc_ad_sd_rights(sd, "alice", NULL, &rights), OC_ERR_INVALID);
	assert_int_equal(oc_strlist_add(&g, "Domain Users"), OC_OK);
	assert_int_equal(oc_ad_sd_rights(sd, ALICE, &g, &rights), OC_ERR_INVALID);
	assert_int_equal(rights, 0);
	oc_strlist_free(&g);
	oc_ad_sd_free(sd);

	/* no DACL (SE_DACL_PRESENT clear, offset 0): fails closed */
	memset(buf, 0, 20);
	buf[0] = 1;
	put16(buf + 2, 0x8000);
	assert_int_equal(oc_ad_sd_parse(buf, 20, &sd), OC_OK);
	assert_false(sd->has_dacl || sd->has_owner || sd->has_group);
	assert_int_equal(rights_of(sd, WORLD, NULL), 0);
	oc_ad_sd_free(sd);
}

/* ---- hostile SDs ---- */

static void
expect_bad_at(int line, const uint8_t *p, size_t len)
{
	struct oc_ad_sd *sd = (struct oc_ad_sd *)1;
	int r = oc_ad_sd_parse(p, len, &sd);

	if (r != OC_ERR_PARSE) {
		oc_ad_sd_free(sd);
		fail_msg("line %d, length %zu: %d, not OC_ERR_PARSE", line, len, r);
	}
	assert_null(sd);
}
#define expect_bad(p, len) expect_bad_at(__LINE__, (p), (len))

static void
test_truncated(void **state)
{
	uint8_t *data;
	size_t len;

	(void)state;
	data = read_vector("ad_sd_user.bin", &len);
	for (size_t k = 0; k < len; k++) {
		uint8_t *cut = malloc(k + 1);

		assert_non_null(cut);
		memcpy(cut, data, k);   /* an exact-size copy so ASan sees any over-read */
		expect_bad(k ? cut : NULL, k);
		free(cut);
	}
	free(data);
}

static void
test_malformed(void **state)
{
	static const struct tace two[] = {
		{ OC_AD_ACE_ALLOWED_OBJECT, 0, 0x130, OC_AD_GUID_ENROLL, NULL, DU },
		{ OC_AD_ACE_ALLOWED, 0, 0x20094, NULL, NULL, AU },
	};
	uint8_t good[512], b[512];
	size_t n;
	struct oc_ad_sd *sd = NULL;
	const size_t acl = 20, ace0 = 28, ace1 = 28 + 56;

	(void)state;
	n = build_sd(good, 0x8004, two, 2);
	assert_int_equal(oc_ad_sd_parse(good, n, &sd), OC_OK);
	oc_ad_sd_free(sd);

#define MUT(stmt) do { memcpy(b, good, n); stmt; expect_bad(b, n); } while (0)
	MUT(b[0] = 2);                                  /* SD revision */
	MUT(put16(b + 2, 0x0004));                      /* not self-relative */
	MUT(put16(b + 2, 0x8000));                      /* DACL offset without DACL_PRESENT */
	MUT(put32(b + 4, 4));                           /* owner inside the header */
	MUT(put32(b + 4, (uint32_t)n));                 /* owner at the end */
	MUT(put32(b + 8, 0xFFFFFFF0u));                 /* group far away */
	MUT(put32(b + 16, (uint32_t)n - 4));            /* DACL header past the end */
	MUT(put32(b + 16, 8));                          /* DACL inside the header */
	MUT(b[acl] = 3);                                /* ACL revision */
	MUT(put16(b + acl + 2, 7));                     /* ACL smaller than its header */
	MUT(put16(b + acl + 2, (uint32_t)(n - acl + 1)));   /* ACL larger than the SD */
	MUT(put16(b + acl + 4, 3));                     /* ACE count larger than the ACL */
	MUT(put16(b + acl + 4, 0xFFFF));
	MUT(put16(b + ace0 + 2, 0));                    /* zero-length ACE */
	MUT(put16(b + ace1 + 2, 0));                    /* zero-length second ACE */
	MUT(put16(b + ace0 + 2, 2));                    /* ACE shorter than its header */
	MUT(put16(b + ace0 + 2, 54));                   /* ACE size not a multiple of 4 */
	MUT(put16(b + ace1 + 2, 0x100));                /* ACE past the end of the ACL */
	MUT(put16(b + ace0 + 2, 20));                   /* object ACE cut inside its GUID */
	MUT(put32(b + ace0 + 8, 4));                    /* unknown object flags */
	MUT(put32(b + ace0 + 8, 3));                    /* InheritedObjectType runs into the SID */
	MUT(b[ace0 + 28 + 1] = 15);                     /* ACE SID sub-authority count 15 > room */
	MUT(b[ace0 + 28 + 1] = 16);                     /* ... 16: never valid */
	MUT(b[ace0 + 28 + 1] = 255);
	MUT(b[ace0 + 28] = 0);                          /* ACE SID revision */
	MUT(b[n - 28 + 1] = 16);                        /* group SID sub-authority count */
	MUT(b[n - 28 + 1] = 6);                         /* group SID one sub-authority past the end */
#undef MUT

	/* an unknown ACE type is kept and skipped; so is padding after an ACE SID */
	memcpy(b, good, n);
	b[ace1] = 0x11;                                 /* SYSTEM_MANDATORY_LABEL */
	assert_int_equal(oc_ad_sd_parse(b, n, &sd), OC_OK);
	assert_int_equal(sd->naces, 2);
	assert_false(sd->aces[1].known);
	oc_ad_sd_free(sd);

	/* too large */
	{
		uint8_t *big = calloc(1, OC_AD_SD_MAX + 1);

		assert_non_null(big);
		memcpy(big, good, n);
		assert_int_equal(oc_ad_sd_parse(big, OC_AD_SD_MAX + 1, &sd), OC_ERR_LIMIT);
		free(big);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guids),
		cmocka_unit_test(test_sids),
		cmocka_unit_test(test_user_template),
		cmocka_unit_test(test_webserver_template),
		cmocka_unit_test(test_builder_matches_vector),
		cmocka_unit_test(test_access_check_table),
		cmocka_unit_test(test_rights_args),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
