/*
 * SIDs in the embedded directory (src/directory/directory_sid.c): groups with
 * a SID, rights decided for Kerberos identities whose groups are the SIDs of
 * their PAC and whose sid matches an account, side by side with embedded
 * identities whose groups are names; the 1 -> 2 schema migration.
 *
 * The identities below have the shape oc_gss gives a Samba user's ticket
 * (tests/unit/test_auth_pac_samba.c): name "bob@CORP.EXAMPLE.TEST", sid the
 * user's SID, groups the primary group, the GroupIds and S-1-18-1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "directory/directory.h"

int main(void);

#define DOM "S-1-5-21-3948352448-806306152-211583070"

struct fixture {
	char dir[64];
	char path[128];
	struct oc_directory *d;
};

static void
rm_db(const char *path)
{
	char p[160];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/oc-dirsid-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/directory.db", f->dir);
	assert_int_equal(oc_dir_open(f->path, 1, &f->d), OC_OK);
	assert_int_equal(oc_dir_seed_defaults(f->d), OC_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	oc_dir_close(f->d);
	rm_db(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
test_sid_ok(void **state)
{
	static const struct { const char *s; int ok; } cases[] = {
		{ "S-1-5-21-3948352448-806306152-211583070-1106", 1 },
		{ "S-1-1-0", 1 },
		{ "S-1-5-11", 1 },
		{ "S-1-18-1", 1 },
		{ "S-1-0", 1 },
		{ "s-1-5-32-544", 1 },
		{ "S-1-0x0100000000FF-1", 1 },
		{ "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15", 1 },       /* 15 sub-authorities */
		{ "S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16", 0 },    /* 16 */
		{ "S-1-5-12345678901", 0 },                               /* 11 digits */
		{ "S-1-", 0 },
		{ "S-1-5-", 0 },
		{ "S-1-5--1", 0 },
		{ "S-2-5-11", 0 },
		{ "S-1-5-11 ", 0 },
		{ "S-1-0x-1", 0 },
		{ "S-1-0x1234567890ABC-1", 0 },                           /* 13 hex digits */
		{ "Domain Users", 0 },
		{ "", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (oc_dir_sid_ok(cases[i].s) != cases[i].ok)
			fail_msg("oc_dir_sid_ok(\"%s\") != %d", cases[i].s, cases[i].ok);
	assert_int_equal(oc_dir_sid_ok(NULL), 0);
}

static void
test_group_sid(void **state)
{
	struct fixture *f = *state;
	char *sid = NULL;

	assert_int_equal(oc_dir_group_add_sid(f->d, "PKI Enrollers", DOM "-1106"), OC_OK);
	assert_int_equal(oc_dir_group_sid(f->d, "pki enrollers", &sid), OC_OK);
	assert_string_equal(sid, DOM "-1106");
	free(sid);
	/* the name and the SID are each taken once */
	assert_int_equal(oc_dir_group_add_sid(f->d, "PKI Enrollers", DOM "-1107"), OC_ERR_EXISTS);
	assert_int_equal(oc_dir_group_add_sid(f->d, "Other", DOM "-1106"), OC_ERR_EXISTS);
	assert_int_equal(oc_dir_group_add_sid(f->d, "Other",
	    "s-1-5-21-3948352448-806306152-211583070-1106"), OC_ERR_EXISTS);
	/* bad SIDs; a name that is a SID */
	assert_int_equal(oc_dir_group_add_sid(f->d, "Other", "S-1-5-"), OC_ERR_INVALID);
	assert_int_equal(oc_dir_group_add_sid(f->d, "Other", "Domain Users"), OC_ERR_INVALID);
	assert_int_equal(oc_dir_group_add_sid(f->d, DOM "-1108", NULL), OC_ERR_INVALID);
	assert_int_equal(oc_dir_group_add(f->d, DOM "-1108"), OC_ERR_INVALID);
	/* a group without SID */
	assert_int_equal(oc_dir_group_add_sid(f->d, "Other", NULL), OC_OK);
	assert_int_equal(oc_dir_group_sid(f->d, "Other", &sid), OC_OK);
	assert_null(sid);
	assert_int_equal(oc_dir_group_sid(f->d, "Nope", &sid), OC_ERR_NOT_FOUND);
	/* removing the group frees its SID */
	assert_int_equal(oc_dir_group_remove(f->d, "PKI Enrollers"), OC_OK);
	assert_int_equal(oc_dir_group_add_sid(f->d, "Enrollers 2", DOM "-1106"), OC_OK);
}

static uint32_t
rights_of(struct oc_directory *d, const char *cn, const char *name, const char *sid,
    const char *const *groups)
{
	struct oc_identity id = { 0 };
	uint32_t rights = 0xffffffffu;

	id.auth_type = OC_AUTH_KERBEROS;
	if (name != NULL)
		assert_non_null(id.name = strdup(name));
	if (sid != NULL)
		assert_non_null(id.sid = strdup(sid));
	for (size_t i = 0; groups != NULL && groups[i] != NULL; i++)
		assert_int_equal(oc_strlist_add(&id.groups, groups[i]), OC_OK);
	assert_int_equal(oc_dir_rights(d, cn, &id, &rights), OC_OK);
	oc_identity_clear(&id);
	return rights;
}

/* The PAC groups of bob (in the group), carol (not) and ws1$ (computer, in the group). */
static const char *const bob_groups[] = { DOM "-513", DOM "-1106", "S-1-18-1", NULL };
static const char *const carol_groups[] = { DOM "-513", "S-1-18-1", NULL };
static const char *const ws1_groups[] = { DOM "-515", DOM "-1106", "S-1-18-1", NULL };

static void
test_rights_by_group_sid(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(oc_dir_group_add_sid(f->d, "PKI Enrollers", DOM "-1106"), OC_OK);
	assert_int_equal(oc_dir_grant(f->d, "WebServer", "PKI Enrollers", OC_RIGHT_ENROLL), OC_OK);

	assert_int_equal(rights_of(f->d, "WebServer", "bob@CORP.EXAMPLE.TEST", DOM "-1103",
	    bob_groups), OC_RIGHT_ENROLL);
	assert_int_equal(rights_of(f->d, "WebServer", "ws1$@CORP.EXAMPLE.TEST", DOM "-1105",
	    ws1_groups), OC_RIGHT_ENROLL);
	assert_int_equal(rights_of(f->d, "WebServer", "carol@CORP.EXAMPLE.TEST", DOM "-1104",
	    carol_groups), 0);
	/* the SID as the user's own SID grants nothing: it is a group's */
	assert_int_equal(rights_of(f->d, "WebServer", "x@CORP.EXAMPLE.TEST", DOM "-1106",
	    carol_groups), 0);
	/* the grant is on WebServer only */
	assert_int_equal(rights_of(f->d, "User", "bob@CORP.EXAMPLE.TEST", DOM "-1103",
	    bob_groups), 0);
	/* SIDs compare without case on the "S" */
	{
		const char *const lower[] = { "s-1-5-21-3948352448-806306152-211583070-1106", NULL };

		assert_int_equal(rights_of(f->d, "WebServer", "bob@CORP.EXAMPLE.TEST", NULL, lower),
		    OC_RIGHT_ENROLL);
	}

	/* nesting: the SID group inside an embedded group that holds AutoEnroll */
	assert_int_equal(oc_dir_group_add(f->d, "Web Admins"), OC_OK);
	assert_int_equal(oc_dir_group_add_member(f->d, "Web Admins", "PKI Enrollers"), OC_OK);
	assert_int_equal(oc_dir_grant(f->d, "WebServer", "Web Admins", OC_RIGHT_AUTOENROLL), OC_OK);
	assert_int_equal(rights_of(f->d, "WebServer", "bob@CORP.EXAMPLE.TEST", DOM "-1103",
	    bob_groups), OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL);
	assert_int_equal(rights_of(f->d, "WebServer", "carol@CORP.EXAMPLE.TEST", DOM "-1104",
	    carol_groups), 0);

	/* revoking the group's grant takes it from the SID holders */
	assert_int_equal(oc_dir_revoke(f->d, "WebServer", "PKI Enrollers", OC_RIGHT_ENROLL), OC_OK);
	assert_int_equal(rights_of(f->d, "WebServer", "bob@CORP.EXAMPLE.TEST", DOM "-1103",
	    bob_groups), OC_RIGHT_AUTOENROLL);
}

static void
test_rights_by_account_sid(void **state)
{
	struct fixture *f = *state;
	struct oc_identity a = { 0 };

	a.name = "websrv";
	a.kind = OC_ACCOUNT_COMPUTER;
	a.sid = DOM "-1105";
	assert_int_equal(oc_dir_account_add(f->d, &a, NULL), OC_OK);
	assert_int_equal(oc_dir_grant(f->d, "Machine", "websrv", OC_RIGHT_ENROLL), OC_OK);
	/* and through the account's own embedded group */
	assert_int_equal(oc_dir_group_add(f->d, "Servers"), OC_OK);
	assert_int_equal(oc_dir_group_add_member(f->d, "Servers", "websrv"), OC_OK);
	assert_int_equal(oc_dir_grant(f->d, "WebServer", "Servers", OC_RIGHT_ENROLL), OC_OK);

	/* a ticket whose name is no account here, but whose SID is this account's */
	assert_int_equal(rights_of(f->d, "Machine", "ws1$@CORP.EXAMPLE.TEST", DOM "-1105",
	    ws1_groups), OC_RIGHT_ENROLL);
	assert_int_equal(rights_of(f->d, "WebServer", "ws1$@CORP.EXAMPLE.TEST", DOM "-1105",
	    ws1_groups), OC_RIGHT_ENROLL);
	/* another SID, or the SID only among the groups: nothing */
	assert_int_equal(rights_of(f->d, "Machine", "bob@CORP.EXAMPLE.TEST", DOM "-1103",
	    bob_groups), 0);
	{
		const char *const g[] = { DOM "-1105", NULL };

		assert_int_equal(rights_of(f->d, "Machine", "y@CORP.EXAMPLE.TEST", NULL, g), 0);
	}
	/* a malformed SID matches nothing (and is no error) */
	assert_int_equal(rights_of(f->d, "Machine", "z@CORP.EXAMPLE.TEST", "S-1-5-21-x",
	    NULL), 0);
}

/* Embedded identities keep matching by name; their group names are not SIDs. */
static void
test_rights_by_name_unchanged(void **state)
{
	struct fixture *f = *state;
	struct oc_identity a = { 0 }, id = { 0 };
	uint32_t rights = 0;

	a.name = "alice";
	a.kind = OC_ACCOUNT_USER;
	assert_int_equal(oc_dir_account_add(f->d, &a, NULL), OC_OK);
	assert_int_equal(oc_dir_group_add_sid(f->d, "PKI Enrollers", DOM "-1106"), OC_OK);
	assert_int_equal(oc_dir_group_add_member(f->d, "PKI Enrollers", "alice"), OC_OK);
	assert_int_equal(oc_dir_grant(f->d, "WebServer", "PKI Enrollers", OC_RIGHT_ENROLL), OC_OK);
	assert_int_equal(oc_dir_account_get(f->d, "alice", &id), OC_OK);
	assert_true(oc_strlist_contains_ci(&id.groups, "PKI Enrollers"));
	assert_int_equal(oc_dir_rights(f->d, "WebServer", &id, &rights), OC_OK);
	assert_int_equal(rights, OC_RIGHT_ENROLL);
	oc_identity_clear(&id);
	/* by name alone, as a password login brings it */
	assert_int_equal(rights_of(f->d, "WebServer", "alice", NULL, NULL), OC_RIGHT_ENROLL);
}

/* A schema-1 directory (groups without sid) is migrated on a writable open. */
static void
test_migration(void **state)
{
	struct fixture *f = *state;
	struct oc_directory *ro = NULL;
	sqlite3 *db = NULL;
	char *sid = NULL;

	assert_int_equal(oc_dir_group_add(f->d, "Old Group"), OC_OK);
	oc_dir_close(f->d);
	f->d = NULL;
	/* back to schema 1 by hand */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP INDEX groups_sid; DROP INDEX accounts_sid;"
	    "ALTER TABLE groups DROP COLUMN sid; PRAGMA user_version = 1;", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	/* a read-only handle refuses the old schema; a writable one migrates it */
	assert_int_equal(oc_dir_open_ro(f->path, &ro), OC_ERR_CONFIG);
	assert_null(ro);
	assert_int_equal(oc_dir_open(f->path, 0, &f->d), OC_OK);
	assert_int_equal(oc_dir_group_sid(f->d, "Old Group", &sid), OC_OK);
	assert_null(sid);
	assert_int_equal(oc_dir_group_add_sid(f->d, "New Group", DOM "-1106"), OC_OK);
	assert_int_equal(oc_dir_open_ro(f->path, &ro), OC_OK);
	assert_int_equal(oc_dir_group_sid(ro, "New Group", &sid), OC_OK);
	assert_string_equal(sid, DOM "-1106");
	free(sid);
	/* writes through the read-only handle are refused */
	assert_int_equal(oc_dir_group_add_sid(ro, "Third", NULL), OC_ERR_DENIED);
	oc_dir_close(ro);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sid_ok),
		cmocka_unit_test_setup_teardown(test_group_sid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rights_by_group_sid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rights_by_account_sid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rights_by_name_unchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
