/*
 * Password authentication against a temporary embedded directory: verdicts,
 * the credential cache (hits, invalidation on password change), and
 * concurrent use from several threads.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "common/limits.h"
#include "common/log.h"

int main(void);

static char tdir[64];
static char dbpath[128];

static int
setup(void **state)
{
	struct oc_directory *dir = NULL;
	struct oc_identity alice = { 0 }, bob = { 0 }, nopw = { 0 };
	int r;

	oc_log_init("test_auth", OC_LOG_WARN);
	strcpy(tdir, "/tmp/oc_auth_XXXXXX");
	if (mkdtemp(tdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/directory.db", tdir);
	if (oc_dir_open(dbpath, 1, &dir) != OC_OK)
		return -1;
	alice.name = "alice";
	alice.upn = "alice@example.test";
	alice.mail = "alice@example.test";
	bob.name = "bob";
	bob.upn = "bob@example.test";
	nopw.name = "nopw";
	r = oc_dir_account_add(dir, &alice, "correct horse");
	if (r == OC_OK)
		r = oc_dir_account_add(dir, &bob, "bob's secret");
	if (r == OC_OK)
		r = oc_dir_account_add(dir, &nopw, NULL);
	if (r == OC_OK)
		r = oc_dir_group_add(dir, "staff");
	if (r == OC_OK)
		r = oc_dir_group_add_member(dir, "staff", "alice");
	oc_dir_close(dir);
	return r == OC_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	char p[160];

	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	rmdir(tdir);
	return 0;
}

static void
set_password(const char *name, const char *pw)
{
	struct oc_directory *dir = NULL;

	assert_int_equal(oc_dir_open(dbpath, 0, &dir), OC_OK);
	assert_int_equal(oc_dir_account_set_password(dir, name, pw), OC_OK);
	oc_dir_close(dir);
}

/* The verdicts, as a table. */
static void
test_verdicts(void **state)
{
	static const struct {
		const char *login, *password;
		int want;
		const char *name;
	} tv[] = {
		{ "alice", "correct horse", OC_OK, "alice" },
		{ "alice@example.test", "correct horse", OC_OK, "alice" },      /* UPN */
		{ "EXAMPLE\\alice", "correct horse", OC_OK, "alice" },          /* down-level */
		{ "bob", "bob's secret", OC_OK, "bob" },
		{ "alice", "correct horse ", OC_ERR_AUTH, NULL },
		{ "alice", "Correct horse", OC_ERR_AUTH, NULL },
		{ "alice", "bob's secret", OC_ERR_AUTH, NULL },
		{ "bob", "correct horse", OC_ERR_AUTH, NULL },
		{ "carol", "correct horse", OC_ERR_AUTH, NULL },                /* unknown */
		{ "nopw", "", OC_ERR_AUTH, NULL },                              /* no verifier */
		{ "nopw", "anything", OC_ERR_AUTH, NULL },
		{ "alice", "", OC_ERR_AUTH, NULL },
		{ "", "correct horse", OC_ERR_AUTH, NULL },
		{ NULL, "correct horse", OC_ERR_AUTH, NULL },
		{ "alice", NULL, OC_ERR_AUTH, NULL },
	};
	struct oc_auth *a = NULL;
	struct oc_identity id;
	size_t i;

	assert_int_equal(oc_auth_new(dbpath, &a), OC_OK);
	for (i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
		int r = oc_auth_password(a, tv[i].login, tv[i].password, &id);

		if (r != tv[i].want)
			fail_msg("case %zu (%s): %s, want %s", i, tv[i].login ? tv[i].login : "NULL",
			    oc_strerror(r), oc_strerror(tv[i].want));
		if (r == OC_OK) {
			assert_string_equal(id.name, tv[i].name);
			assert_int_equal(id.auth_type, OC_AUTH_PASSWORD);
		} else {
			assert_null(id.name);
		}
		oc_identity_clear(&id);
	}
	/* attributes and groups come with the identity */
	assert_int_equal(oc_auth_password(a, "alice", "correct horse", &id), OC_OK);
	assert_string_equal(id.upn, "alice@example.test");
	assert_string_equal(id.mail, "alice@example.test");
	assert_true(oc_strlist_contains(&id.groups, "staff"));
	oc_identity_clear(&id);
	oc_auth_free(a);
	oc_auth_free(NULL);
}

/* Unknown users cost a hash like everybody (no user enumeration by timing). */
static void
test_unknown_user_costs_a_hash(void **state)
{
	struct oc_auth *a = NULL;
	struct oc_auth_stats s0, s1;
	struct oc_identity id;

	assert_int_equal(oc_auth_new(dbpath, &a), OC_OK);
	oc_auth_get_stats(a, &s0);
	assert_int_equal(oc_auth_password(a, "mallory", "x", &id), OC_ERR_AUTH);
	assert_int_equal(oc_auth_password(a, "nopw", "x", &id), OC_ERR_AUTH);
	oc_auth_get_stats(a, &s1);
	assert_int_equal(s1.hashes, s0.hashes + 2);
	assert_int_equal(s1.failures, s0.failures + 2);
	oc_auth_free(a);
}

static void
test_cache(void **state)
{
	struct oc_auth *a = NULL;
	struct oc_auth_stats s0, s1;
	struct oc_identity id;

	assert_int_equal(oc_auth_new(dbpath, &a), OC_OK);
	oc_auth_get_stats(a, &s0);
	assert_int_equal(s0.hashes, 0);
	assert_int_equal(oc_auth_password(a, "bob", "bob's secret", &id), OC_OK);
	oc_identity_clear(&id);
	oc_auth_get_stats(a, &s1);
	assert_int_equal(s1.hashes, 1);
	assert_int_equal(s1.cache_hits, 0);

	/* second right attempt: a hit, no hash, identity filled again */
	assert_int_equal(oc_auth_password(a, "bob", "bob's secret", &id), OC_OK);
	assert_string_equal(id.name, "bob");
	assert_string_equal(id.upn, "bob@example.test");
	oc_identity_clear(&id);
	oc_auth_get_stats(a, &s1);
	assert_int_equal(s1.hashes, 1);
	assert_int_equal(s1.cache_hits, 1);

	/* the cache is per credentials: another login form is a separate entry */
	assert_int_equal(oc_auth_password(a, "bob@example.test", "bob's secret", &id), OC_OK);
	oc_identity_clear(&id);
	oc_auth_get_stats(a, &s1);
	assert_int_equal(s1.hashes, 2);

	/* a wrong password after a cached right one still fails (and is hashed) */
	assert_int_equal(oc_auth_password(a, "bob", "bob's secreT", &id), OC_ERR_AUTH);
	assert_null(id.name);
	oc_auth_get_stats(a, &s1);
	assert_int_equal(s1.hashes, 3);
	assert_int_equal(s1.cache_hits, 1);
	assert_int_equal(s1.failures, 1);

	/* password change: the cached old password is no longer good */
	set_password("bob", "new secret");
	assert_int_equal(oc_auth_password(a, "bob", "bob's secret", &id), OC_ERR_AUTH);
	assert_int_equal(oc_auth_password(a, "bob", "new secret", &id), OC_OK);
	oc_identity_clear(&id);
	assert_int_equal(oc_auth_password(a, "bob", "new secret", &id), OC_OK);
	oc_identity_clear(&id);
	oc_auth_get_stats(a, &s1);
	assert_int_equal(s1.hashes, 5);
	assert_int_equal(s1.cache_hits, 2);
	/* password removed: no login any more, even from the cache */
	set_password("bob", NULL);
	assert_int_equal(oc_auth_password(a, "bob", "new secret", &id), OC_ERR_AUTH);
	set_password("bob", "bob's secret");
	oc_auth_free(a);
}

static void
dir_change(const char *group, const char *member, int add)
{
	struct oc_directory *dir = NULL;

	assert_int_equal(oc_dir_open(dbpath, 0, &dir), OC_OK);
	if (add)
		assert_int_equal(oc_dir_group_add_member(dir, group, member), OC_OK);
	else
		assert_int_equal(oc_dir_group_remove_member(dir, group, member), OC_OK);
	oc_dir_close(dir);
}

/*
 * A hit reuses the identity read with the credentials while the directory's
 * policy serial stays; a group change (which bumps it) is seen on the next
 * check, a removed account no longer logs in from the cache.
 */
static void
test_cached_identity(void **state)
{
	struct oc_auth *a = NULL;
	struct oc_auth_stats s0, s1;
	struct oc_identity id;
	struct oc_directory *dir = NULL;
	struct oc_identity dave = { 0 };

	assert_int_equal(oc_auth_new(dbpath, &a), OC_OK);
	assert_int_equal(oc_auth_password(a, "alice", "correct horse", &id), OC_OK);
	assert_true(oc_strlist_contains(&id.groups, "staff"));
	oc_identity_clear(&id);
	oc_auth_get_stats(a, &s0);
	assert_int_equal(oc_auth_password(a, "alice", "correct horse", &id), OC_OK);
	oc_auth_get_stats(a, &s1);
	assert_int_equal(s1.identity_hits, s0.identity_hits + 1);
	assert_string_equal(id.name, "alice");
	assert_string_equal(id.upn, "alice@example.test");
	assert_int_equal(id.auth_type, OC_AUTH_PASSWORD);
	assert_true(oc_strlist_contains(&id.groups, "staff"));
	oc_identity_clear(&id);

	/* leaving a group bumps the serial: the next check re-reads the groups */
	dir_change("staff", "alice", 0);
	assert_int_equal(oc_auth_password(a, "alice", "correct horse", &id), OC_OK);
	assert_false(oc_strlist_contains(&id.groups, "staff"));
	oc_identity_clear(&id);
	oc_auth_get_stats(a, &s0);
	assert_int_equal(s0.hashes, s1.hashes);             /* credentials still cached */
	assert_int_equal(s0.identity_hits, s1.identity_hits);
	dir_change("staff", "alice", 1);
	assert_int_equal(oc_auth_password(a, "alice", "correct horse", &id), OC_OK);
	assert_true(oc_strlist_contains(&id.groups, "staff"));
	oc_identity_clear(&id);
	assert_int_equal(oc_auth_password(a, "alice", "correct horse", &id), OC_OK);
	assert_true(oc_strlist_contains(&id.groups, "staff"));
	oc_identity_clear(&id);
	oc_auth_get_stats(a, &s1);
	assert_int_equal(s1.identity_hits, s0.identity_hits + 1);

	/* a removed account is gone at once, cached or not */
	assert_int_equal(oc_dir_open(dbpath, 0, &dir), OC_OK);
	dave.name = "dave";
	assert_int_equal(oc_dir_account_add(dir, &dave, "dave's pw"), OC_OK);
	assert_int_equal(oc_auth_password(a, "dave", "dave's pw", &id), OC_OK);
	oc_identity_clear(&id);
	assert_int_equal(oc_auth_password(a, "dave", "dave's pw", &id), OC_OK);
	oc_identity_clear(&id);
	assert_int_equal(oc_dir_account_remove(dir, "dave"), OC_OK);
	oc_dir_close(dir);
	assert_int_equal(oc_auth_password(a, "dave", "dave's pw", &id), OC_ERR_AUTH);
	assert_null(id.name);
	oc_auth_free(a);
}

/* Overlong credentials are refused without touching the directory. */
static void
test_overlong(void **state)
{
	struct oc_auth *a = NULL;
	struct oc_auth_stats s;
	struct oc_identity id;
	char *big = malloc(OC_USERNAME_MAX + OC_PASSWORD_MAX + 2);

	assert_non_null(big);
	memset(big, 'a', OC_USERNAME_MAX + OC_PASSWORD_MAX + 1);
	big[OC_USERNAME_MAX + 1] = '\0';
	assert_int_equal(oc_auth_new(dbpath, &a), OC_OK);
	assert_int_equal(oc_auth_password(a, big, "correct horse", &id), OC_ERR_AUTH);
	big[OC_USERNAME_MAX + 1] = 'a';
	big[OC_PASSWORD_MAX + 1] = '\0';
	assert_int_equal(oc_auth_password(a, "alice", big, &id), OC_ERR_AUTH);
	oc_auth_get_stats(a, &s);
	assert_int_equal(s.hashes, 0);
	assert_int_equal(s.failures, 2);
	oc_auth_free(a);
	free(big);
}

struct worker_arg {
	struct oc_auth *a;
	int idx;
	int bad;        /* unexpected verdicts */
};

static void *
worker(void *p)
{
	struct worker_arg *w = p;
	struct oc_identity id;
	int i, r;

	for (i = 0; i < 20; i++) {
		int right = (i + w->idx) % 4 != 0;

		r = oc_auth_password(w->a, w->idx % 2 ? "alice" : "bob",
		    right ? (w->idx % 2 ? "correct horse" : "bob's secret") : "wrong", &id);
		if (r != (right ? OC_OK : OC_ERR_AUTH))
			w->bad++;
		if (r == OC_OK && strcmp(id.name, w->idx % 2 ? "alice" : "bob") != 0)
			w->bad++;
		oc_identity_clear(&id);
	}
	return NULL;
}

/* 8 threads x 20 checks, each thread with its own directory handle. */
static void
test_threads(void **state)
{
	struct worker_arg w[8];
	pthread_t th[8];
	struct oc_auth *a = NULL;
	struct oc_auth_stats s;
	int i;

	assert_int_equal(oc_auth_new(dbpath, &a), OC_OK);
	for (i = 0; i < 8; i++) {
		w[i] = (struct worker_arg){ a, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker, &w[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].bad, 0);
	}
	oc_auth_get_stats(a, &s);
	assert_int_equal(s.failures, 8 * 5);
	/* every wrong attempt and at least one right one per account is hashed */
	assert_true(s.hashes >= 8 * 5 + 2);
	assert_int_equal(s.hashes + s.cache_hits, 8 * 20);
	assert_true(s.cache_hits > 0);
	oc_auth_free(a);
}

static void
test_bad_directory(void **state)
{
	struct oc_auth *a = NULL;
	struct oc_identity id;
	int r;

	assert_int_equal(oc_auth_new(NULL, &a), OC_ERR_INVALID);
	assert_null(a);
	assert_int_equal(oc_auth_new("/nonexistent/dir.db", &a), OC_OK);
	/* a directory that cannot be opened is not a wrong password */
	r = oc_auth_password(a, "alice", "correct horse", &id);
	assert_int_equal(r, OC_ERR_UNAVAILABLE);
	oc_auth_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_unknown_user_costs_a_hash),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cached_identity),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_bad_directory),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
