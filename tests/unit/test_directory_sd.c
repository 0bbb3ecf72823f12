/*
 * Rights by a template's nTSecurityDescriptor through oc_dir_rights
 * (directory.h): the real User and WebServer SDs of templates.md 6.4
 * (tests/vectors/directory/ad_sd_*.bin), the ordered check of 6.2 with deny
 * before allow, the well-known SIDs every caller holds, group SIDs of the
 * embedded directory, and the grant table for templates without an SD.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "directory/ad_sd.h"
#include "directory/directory.h"

int main(void);

#define DOM   "S-1-5-21-3948352448-806306152-211583070"
#define EA    DOM "-519"
#define DA    DOM "-512"
#define DU    DOM "-513"
#define ALICE DOM "-1104"
#define BOB   DOM "-1105"
#define AU    "S-1-5-11"
#define WORLD "S-1-1-0"
#define EN    OC_RIGHT_ENROLL
#define AE    OC_RIGHT_AUTOENROLL

struct fx {
	char dir[64], path[128];
	struct oc_directory *d;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/oc-dirsd-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/directory.db", f->dir);
	if (oc_dir_open(f->path, 1, &f->d) != OC_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	oc_dir_close(f->d);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static uint8_t *
read_vector(const char *name, size_t *len)
{
	char path[512];
	uint8_t *p = NULL;

	snprintf(path, sizeof(path), "%s/directory/%s", getenv("OC_VECTORS") ?
	    getenv("OC_VECTORS") : "tests/vectors", name);
	assert_int_equal(oc_file_read(path, &p, len, 65536), OC_OK);
	return p;
}

/* One ACE of a test SD: type, mask, object GUID (object ACEs) or NULL, SID. */
struct tace {
	uint8_t type;
	uint32_t mask;
	const char *guid, *sid;
};

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A self-relative SD with owner EA, group EA and the DACL aces (dacl 0: none). */
static uint8_t *
build_sd(const struct tace *aces, size_t n, int dacl, size_t *len)
{
	uint8_t *b = calloc(1, 4096), sidb[OC_AD_SID_BYTES_MAX];
	struct oc_ad_sid sid;
	size_t off = 20, acl = 20, slen = 0;

	assert_non_null(b);
	b[0] = 1;
	b[2] = dacl ? 0x04 : 0;                         /* SE_DACL_PRESENT */
	b[3] = 0x80;                                    /* SE_SELF_RELATIVE */
	if (dacl) {
		off = acl + 8;
		for (size_t i = 0; i < n; i++) {
			size_t start = off;
			b[off] = aces[i].type;
			off += 4;
			put32(b + off, aces[i].mask);
			off += 4;
			if (aces[i].type == OC_AD_ACE_ALLOWED_OBJECT || aces[i].type == OC_AD_ACE_DENIED_OBJECT) {
				put32(b + off, aces[i].guid ? 1 : 0);
				off += 4;
				if (aces[i].guid) {
					assert_int_equal(oc_ad_guid_from_text(aces[i].guid, b + off), OC_OK);
					off += 16;
				}
			}
			assert_int_equal(oc_ad_sid_from_text(aces[i].sid, &sid), OC_OK);
			oc_ad_sid_encode(&sid, sidb, &slen);
			memcpy(b + off, sidb, slen);
			off += slen;
			b[start + 2] = (uint8_t)(off - start);
			b[start + 3] = (uint8_t)((off - start) >> 8);
		}
		b[acl] = 4;
		b[acl + 2] = (uint8_t)(off - acl);
		b[acl + 3] = (uint8_t)((off - acl) >> 8);
		b[acl + 4] = (uint8_t)n;
		put32(b + 16, (uint32_t)acl);
	}
	assert_int_equal(oc_ad_sid_from_text(EA, &sid), OC_OK);
	oc_ad_sid_encode(&sid, sidb, &slen);
	put32(b + 4, (uint32_t)off);
	memcpy(b + off, sidb, slen);
	off += slen;
	put32(b + 8, (uint32_t)off);
	memcpy(b + off, sidb, slen);
	off += slen;
	*len = off;
	return b;
}

static void
put_template(struct oc_directory *d, const char *cn, const char *oid, uint8_t *sd, size_t len)
{
	struct oc_template t;

	memset(&t, 0, sizeof(t));
	t.cn = (char *)cn;
	t.oid = (char *)oid;
	t.schema_version = 2;
	t.validity_seconds = 86400;
	t.security_descriptor = sd;
	t.security_descriptor_len = len;
	assert_int_equal(oc_dir_template_put(d, &t), OC_OK);
	free(sd);
}

/* The rights of a caller with sid and groups (NULL-terminated), authenticated or not. */
static uint32_t
rights_of(struct oc_directory *d, const char *cn, const char *name, const char *sid,
    const char *const *groups, enum oc_auth_type auth)
{
	struct oc_identity id;
	uint32_t r = 0xff;

	memset(&id, 0, sizeof(id));
	id.name = (char *)name;
	id.sid = (char *)sid;
	id.auth_type = auth;
	for (size_t i = 0; groups != NULL && groups[i] != NULL; i++)
		assert_int_equal(oc_strlist_add(&id.groups, groups[i]), OC_OK);
	assert_int_equal(oc_dir_rights(d, cn, &id, &r), OC_OK);
	oc_strlist_free(&id.groups);
	return r;
}

/* templates.md 6.4: the real User and WebServer ACLs, table 6.4's principals. */
static void
test_real_acls(void **state)
{
	static const char *const du[] = { DU, NULL }, *const da[] = { DA, DU, NULL },
	    *const ea[] = { EA, NULL }, *const none[] = { NULL };
	static const struct {
		const char *cn, *sid;
		const char *const *groups;
		uint32_t want;
	} rows[] = {
		{ "User", ALICE, du, EN },              /* Domain Users enroll */
		{ "User", ALICE, none, 0 },             /* AU reads, no Enroll */
		{ "User", DA, da, EN },
		{ "User", BOB, ea, EN },
		{ "WebServer", ALICE, du, 0 },          /* only DA / EA */
		{ "WebServer", BOB, da, EN },
		{ "WebServer", BOB, ea, EN },
	};
	struct fx *f = *state;
	size_t len;
	uint8_t *p;

	p = read_vector("ad_sd_user.bin", &len);
	put_template(f->d, "User", "1.2.3.1", p, len);
	p = read_vector("ad_sd_webserver.bin", &len);
	put_template(f->d, "WebServer", "1.2.3.16", p, len);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(rights_of(f->d, rows[i].cn, "x", rows[i].sid, rows[i].groups,
		    OC_AUTH_KERBEROS), rows[i].want);
}

/* 6.2: the first ACE deciding the right wins: deny before allow, allow before deny. */
static void
test_ordered_check(void **state)
{
	static const struct tace deny_first[] = {
		{ OC_AD_ACE_DENIED_OBJECT, 0x100, OC_AD_GUID_ENROLL, ALICE },
		{ OC_AD_ACE_ALLOWED_OBJECT, 0x130, OC_AD_GUID_ENROLL, DU },
		{ OC_AD_ACE_ALLOWED_OBJECT, 0x100, OC_AD_GUID_AUTOENROLL, DU },
	};
	static const struct tace allow_first[] = {
		{ OC_AD_ACE_ALLOWED_OBJECT, 0x130, OC_AD_GUID_ENROLL, DU },
		{ OC_AD_ACE_DENIED_OBJECT, 0x100, OC_AD_GUID_ENROLL, ALICE },
	};
	static const struct tace full[] = {
		{ OC_AD_ACE_ALLOWED, 0xF01FF, NULL, DA },
	};
	static const char *const du[] = { DU, NULL }, *const da[] = { DA, NULL };
	struct fx *f = *state;
	size_t len;
	uint8_t *p;

	p = build_sd(deny_first, 3, 1, &len);
	put_template(f->d, "DenyFirst", "1.2.3.100", p, len);
	p = build_sd(allow_first, 2, 1, &len);
	put_template(f->d, "AllowFirst", "1.2.3.101", p, len);
	p = build_sd(full, 1, 1, &len);
	put_template(f->d, "FullControl", "1.2.3.102", p, len);
	/* alice is denied Enroll though in Domain Users; AutoEnroll is another right */
	assert_int_equal(rights_of(f->d, "DenyFirst", "alice", ALICE, du, OC_AUTH_PASSWORD), AE);
	assert_int_equal(rights_of(f->d, "DenyFirst", "bob", BOB, du, OC_AUTH_PASSWORD), EN | AE);
	assert_int_equal(rights_of(f->d, "AllowFirst", "alice", ALICE, du, OC_AUTH_PASSWORD), EN);
	/* an ACCESS_ALLOWED_ACE with control access on everything grants both */
	assert_int_equal(rights_of(f->d, "FullControl", "bob", BOB, da, OC_AUTH_PASSWORD), EN | AE);
	assert_int_equal(rights_of(f->d, "FullControl", "bob", BOB, du, OC_AUTH_PASSWORD), 0);
}

/* Everyone for every caller, Authenticated Users for authenticated ones only. */
static void
test_well_known(void **state)
{
	static const struct tace au[] = { { OC_AD_ACE_ALLOWED_OBJECT, 0x100, OC_AD_GUID_ENROLL, AU } };
	static const struct tace world[] = {
		{ OC_AD_ACE_ALLOWED_OBJECT, 0x100, OC_AD_GUID_ENROLL, WORLD },
	};
	struct fx *f = *state;
	size_t len;
	uint8_t *p;

	p = build_sd(au, 1, 1, &len);
	put_template(f->d, "ToAU", "1.2.3.200", p, len);
	p = build_sd(world, 1, 1, &len);
	put_template(f->d, "ToWorld", "1.2.3.201", p, len);
	/* no SID, no groups: the token is S-1-1-0 (+ S-1-5-11) */
	assert_int_equal(rights_of(f->d, "ToAU", "nobody", NULL, NULL, OC_AUTH_CERTIFICATE), EN);
	assert_int_equal(rights_of(f->d, "ToAU", "anon", NULL, NULL, OC_AUTH_ANONYMOUS), 0);
	assert_int_equal(rights_of(f->d, "ToWorld", "anon", NULL, NULL, OC_AUTH_ANONYMOUS), EN);
}

/*
 * Embedded accounts reach an SD through the SIDs of their directory groups;
 * an SD without a DACL grants nothing and the grant table is not asked; a
 * template without an SD keeps the grant table (embedded behaviour).
 */
static void
test_group_sids_and_grants(void **state)
{
	static const char *const names[] = { "Domain Users", NULL };
	struct fx *f = *state;
	size_t len;
	uint8_t *p;

	assert_int_equal(oc_dir_group_add_sid(f->d, "Domain Users", DU), OC_OK);
	p = read_vector("ad_sd_user.bin", &len);
	put_template(f->d, "User", "1.2.3.1", p, len);
	assert_int_equal(rights_of(f->d, "User", "carol", NULL, names, OC_AUTH_PASSWORD), EN);
	assert_int_equal(rights_of(f->d, "User", "carol", NULL, NULL, OC_AUTH_PASSWORD), 0);

	p = build_sd(NULL, 0, 0, &len);
	put_template(f->d, "NoDacl", "1.2.3.300", p, len);
	assert_int_equal(oc_dir_grant(f->d, "NoDacl", "Domain Users", EN), OC_OK);
	assert_int_equal(rights_of(f->d, "NoDacl", "carol", NULL, names, OC_AUTH_PASSWORD), 0);

	/* malformed SD bytes: fail closed */
	p = malloc(8);
	assert_non_null(p);
	memcpy(p, "\x01\x00\x04\x80\xff\xff\xff\xff", 8);
	put_template(f->d, "Broken", "1.2.3.301", p, 8);
	assert_int_equal(oc_dir_grant(f->d, "Broken", "Domain Users", EN), OC_OK);
	assert_int_equal(rights_of(f->d, "Broken", "carol", NULL, names, OC_AUTH_PASSWORD), 0);

	put_template(f->d, "Plain", "1.2.3.302", NULL, 0);
	assert_int_equal(rights_of(f->d, "Plain", "carol", NULL, names, OC_AUTH_PASSWORD), 0);
	assert_int_equal(oc_dir_grant(f->d, "Plain", "Domain Users", EN | AE), OC_OK);
	assert_int_equal(rights_of(f->d, "Plain", "carol", NULL, names, OC_AUTH_PASSWORD), EN | AE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_real_acls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ordered_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_well_known, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_sids_and_grants, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
