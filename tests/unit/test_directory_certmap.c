/*
 * Explicit certificate mappings in the embedded directory
 * (src/directory/directory_certmap.c): the two keys of a certificate, mapping
 * and unmapping, what a removed account leaves behind, conflicting keys,
 * bounds, read-only handles and the 2 -> 3 schema migration.
 *
 * tests/vectors/directory/certmap_leaf.der was made with
 *   openssl x509 -req -CA ca.pem -set_serial 0x80ff0a ...   (issuer
 *   "/O=Example, Inc./CN=OpenCES Test CA", no names, clientAuth)
 * and its expected keys are what the openssl command prints for it:
 *   openssl x509 -inform DER -noout -issuer -serial -fingerprint -sha256 -nameopt RFC2253
 *   issuer=CN=OpenCES Test CA,O=Example\, Inc.   serial=80FF0A
 *   sha256 Fingerprint=94:F7:D2:90:...:89:64
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

#include "common/util.h"
#include "directory/directory.h"

int main(void);

#define LEAF_ISSUER_SERIAL "<I>CN=OpenCES Test CA,O=Example\\, Inc.<SR>80ff0a"
#define LEAF_SHA256 "94f7d2900797e99f8a2f00b1668f5af92b311991e6fcd6f050cf1476cb188964"
#define OTHER_SHA256 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

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
	struct oc_identity a = { .name = "alice", .upn = "alice@example.test" };
	struct oc_identity b = { .name = "bob" };

	assert_non_null(f);
	strcpy(f->dir, "/tmp/oc-dircm-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/directory.db", f->dir);
	assert_int_equal(oc_dir_open(f->path, 1, &f->d), OC_OK);
	assert_int_equal(oc_dir_account_add(f->d, &a, NULL), OC_OK);
	assert_int_equal(oc_dir_account_add(f->d, &b, NULL), OC_OK);
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

static uint8_t *
read_vector(const char *name, size_t *len)
{
	const char *dir = getenv("OC_VECTORS");
	char path[512];
	uint8_t *data = NULL;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/directory/%s", dir, name);
	assert_int_equal(oc_file_read(path, &data, len, 4096), OC_OK);
	return data;
}

/* keys as given: NULL leaves one out */
static struct oc_dir_certmap
keys(const char *issuer_serial, const char *sha256)
{
	struct oc_dir_certmap m = { NULL, (char *)issuer_serial, (char *)sha256 };

	return m;
}

static void
assert_find(struct oc_directory *d, const struct oc_dir_certmap *m, int want_r,
    const char *want_account)
{
	char *account = (char *)"unset";

	assert_int_equal(oc_dir_certmap_find(d, m, &account), want_r);
	if (want_account == NULL) {
		assert_null(account);
	} else {
		assert_non_null(account);
		assert_string_equal(account, want_account);
	}
	free(account);
}

/* The keys of a certificate are what openssl prints for it. */
static void
test_keys(void **state)
{
	struct oc_dir_certmap m;
	uint8_t *der = NULL;
	size_t len = 0;

	(void)state;
	der = read_vector("certmap_leaf.der", &len);
	assert_int_equal(oc_dir_certmap_keys(der, len, &m), OC_OK);
	assert_null(m.account);
	assert_string_equal(m.issuer_serial, LEAF_ISSUER_SERIAL);
	assert_string_equal(m.sha256, LEAF_SHA256);
	oc_dir_certmap_clear(&m);
	oc_dir_certmap_clear(&m);           /* twice: cleared */
	oc_dir_certmap_clear(NULL);
	/* truncated, one byte too many, empty: not a certificate */
	assert_int_equal(oc_dir_certmap_keys(der, len - 1, &m), OC_ERR_DER);
	assert_null(m.sha256);
	assert_int_equal(oc_dir_certmap_keys(der, 0, &m), OC_ERR_DER);
	assert_int_equal(oc_dir_certmap_keys(NULL, 10, &m), OC_ERR_DER);
	der = realloc(der, len + 1);
	assert_non_null(der);
	der[len] = 0;
	assert_int_equal(oc_dir_certmap_keys(der, len + 1, &m), OC_ERR_DER);
	free(der);
}

/* Map, find by either key, unmap. */
static void
test_map_find_unmap(void **state)
{
	struct fixture *f = *state;
	const struct oc_dir_certmap both = keys(LEAF_ISSUER_SERIAL, LEAF_SHA256);
	const struct oc_dir_certmap by_is = keys(LEAF_ISSUER_SERIAL, NULL);
	const struct oc_dir_certmap by_sha = keys(NULL, LEAF_SHA256);
	const struct oc_dir_certmap other = keys("<I>CN=Other CA<SR>80ff0a", OTHER_SHA256);
	struct oc_dir_certmap *mv = NULL;
	size_t n = 0;

	assert_find(f->d, &both, OC_ERR_NOT_FOUND, NULL);
	assert_int_equal(oc_dir_certmap_add(f->d, "alice", &both), OC_OK);
	assert_find(f->d, &both, OC_OK, "alice");
	assert_find(f->d, &by_is, OC_OK, "alice");
	assert_find(f->d, &by_sha, OC_OK, "alice");
	/* the same serial from another issuer, another fingerprint: not mapped */
	assert_find(f->d, &other, OC_ERR_NOT_FOUND, NULL);
	/* mapping again is idempotent; to another account it is taken; to nobody: not found */
	assert_int_equal(oc_dir_certmap_add(f->d, "ALICE", &both), OC_OK);
	assert_int_equal(oc_dir_certmap_add(f->d, "bob", &both), OC_ERR_EXISTS);
	assert_int_equal(oc_dir_certmap_add(f->d, "bob", &by_sha), OC_ERR_EXISTS);
	assert_int_equal(oc_dir_certmap_add(f->d, "nobody", &other), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_certmap_add(f->d, "bob", &other), OC_OK);
	assert_int_equal(oc_dir_certmap_list(f->d, "alice", &mv, &n), OC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(mv[0].account, "alice");
	assert_string_equal(mv[0].issuer_serial, LEAF_ISSUER_SERIAL);
	assert_string_equal(mv[0].sha256, LEAF_SHA256);
	oc_dir_certmap_list_free(mv, n);
	assert_int_equal(oc_dir_certmap_list(f->d, NULL, &mv, &n), OC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(mv[0].account, "alice");
	assert_string_equal(mv[1].account, "bob");
	oc_dir_certmap_list_free(mv, n);
	/* unmapping needs the right account; either key designates the mapping */
	assert_int_equal(oc_dir_certmap_remove(f->d, "bob", &both), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_certmap_remove(f->d, "alice", &by_sha), OC_OK);
	assert_find(f->d, &both, OC_ERR_NOT_FOUND, NULL);
	assert_int_equal(oc_dir_certmap_remove(f->d, "alice", &both), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_certmap_list(f->d, "alice", &mv, &n), OC_OK);
	assert_int_equal(n, 0);
	assert_null(mv);
}

/* Malformed keys are refused when written and never match. */
static void
test_bad_keys(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *issuer_serial, *sha256;
	} bad[] = {
		{ NULL, NULL },
		{ NULL, "94F7D2900797E99F8A2F00B1668F5AF92B311991E6FCD6F050CF1476CB188964" },
		{ NULL, "94f7d2900797e99f8a2f00b1668f5af92b311991e6fcd6f050cf1476cb1889" },
		{ NULL, LEAF_SHA256 "00" },
		{ "CN=OpenCES Test CA<SR>80ff0a", NULL },       /* no <I> */
		{ "<I>CN=OpenCES Test CA", NULL },              /* no <SR> */
		{ "<I>CN=OpenCES Test CA<SR>", NULL },          /* no serial */
		{ "<I>CN=OpenCES Test CA<SR>80FF0A", NULL },    /* not the store's hex */
		{ "<I>CN=A\nCN=B<SR>01", NULL },               /* two lines */
		{ LEAF_ISSUER_SERIAL, "xyz" },                  /* one good key, one bad */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct oc_dir_certmap m = keys(bad[i].issuer_serial, bad[i].sha256);

		print_message("bad key %zu\n", i);
		assert_int_equal(oc_dir_certmap_add(f->d, "alice", &m), OC_ERR_INVALID);
		assert_int_equal(oc_dir_certmap_remove(f->d, "alice", &m), OC_ERR_INVALID);
		assert_find(f->d, &m, OC_ERR_NOT_FOUND, NULL);
	}
}

/*
 * Removing the account detaches its mappings but keeps the keys: the
 * certificate is refused (find says so), even when an account of the same
 * name comes back, until the mapping is dropped or given to another account.
 */
static void
test_removed_account(void **state)
{
	struct fixture *f = *state;
	const struct oc_dir_certmap both = keys(LEAF_ISSUER_SERIAL, LEAF_SHA256);
	struct oc_identity a = { .name = "alice" };
	struct oc_dir_certmap *mv = NULL;
	size_t n = 0;

	assert_int_equal(oc_dir_certmap_add(f->d, "alice", &both), OC_OK);
	assert_int_equal(oc_dir_account_remove(f->d, "alice"), OC_OK);
	assert_find(f->d, &both, OC_OK, NULL);
	assert_int_equal(oc_dir_certmap_list(f->d, NULL, &mv, &n), OC_OK);
	assert_int_equal(n, 1);
	assert_null(mv[0].account);
	assert_string_equal(mv[0].sha256, LEAF_SHA256);
	oc_dir_certmap_list_free(mv, n);
	/* a new alice does not inherit it */
	assert_int_equal(oc_dir_account_add(f->d, &a, NULL), OC_OK);
	assert_find(f->d, &both, OC_OK, NULL);
	assert_int_equal(oc_dir_certmap_list(f->d, "alice", &mv, &n), OC_OK);
	assert_int_equal(n, 0);
	/* mapping it to bob replaces the left-over */
	assert_int_equal(oc_dir_certmap_add(f->d, "bob", &both), OC_OK);
	assert_find(f->d, &both, OC_OK, "bob");
	assert_int_equal(oc_dir_account_remove(f->d, "bob"), OC_OK);
	assert_find(f->d, &both, OC_OK, NULL);
	/* unmapping a left-over works with any account name */
	assert_int_equal(oc_dir_certmap_remove(f->d, "alice", &both), OC_OK);
	assert_find(f->d, &both, OC_ERR_NOT_FOUND, NULL);
}

/* Two keys of one certificate mapped to two accounts: refused. */
static void
test_conflict(void **state)
{
	struct fixture *f = *state;
	const struct oc_dir_certmap by_is = keys(LEAF_ISSUER_SERIAL, NULL);
	const struct oc_dir_certmap by_sha = keys(NULL, LEAF_SHA256);
	const struct oc_dir_certmap both = keys(LEAF_ISSUER_SERIAL, LEAF_SHA256);

	assert_int_equal(oc_dir_certmap_add(f->d, "alice", &by_is), OC_OK);
	assert_int_equal(oc_dir_certmap_add(f->d, "bob", &by_sha), OC_OK);
	assert_find(f->d, &by_is, OC_OK, "alice");
	assert_find(f->d, &by_sha, OC_OK, "bob");
	assert_find(f->d, &both, OC_OK, NULL);
	/* giving alice both keys collides with bob's */
	assert_int_equal(oc_dir_certmap_add(f->d, "alice", &both), OC_ERR_EXISTS);
	assert_find(f->d, &by_is, OC_OK, "alice");     /* rolled back */
}

/* At most OC_DIR_CERTMAPS_MAX mappings per account. */
static void
test_limit(void **state)
{
	struct fixture *f = *state;
	char sha[65];
	struct oc_dir_certmap m;

	for (int i = 0; i <= OC_DIR_CERTMAPS_MAX; i++) {
		snprintf(sha, sizeof(sha), "%064x", i);
		m = keys(NULL, sha);
		assert_int_equal(oc_dir_certmap_add(f->d, "bob", &m),
		    i < OC_DIR_CERTMAPS_MAX ? OC_OK : OC_ERR_LIMIT);
	}
	/* the same key again is not one more */
	snprintf(sha, sizeof(sha), "%064x", 0);
	m = keys(NULL, sha);
	assert_int_equal(oc_dir_certmap_add(f->d, "bob", &m), OC_OK);
}

/* A schema-2 directory gets the table on a writable open; read-only handles only read. */
static void
test_migration_ro(void **state)
{
	struct fixture *f = *state;
	const struct oc_dir_certmap both = keys(LEAF_ISSUER_SERIAL, LEAF_SHA256);
	struct oc_directory *ro = NULL;
	sqlite3 *db = NULL;

	oc_dir_close(f->d);
	f->d = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE cert_maps; PRAGMA user_version = 2;",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(oc_dir_open_ro(f->path, &ro), OC_ERR_CONFIG);
	assert_int_equal(oc_dir_open(f->path, 0, &f->d), OC_OK);
	assert_int_equal(oc_dir_certmap_add(f->d, "alice", &both), OC_OK);
	assert_int_equal(oc_dir_open_ro(f->path, &ro), OC_OK);
	assert_find(ro, &both, OC_OK, "alice");
	assert_int_equal(oc_dir_certmap_add(ro, "bob", &both), OC_ERR_DENIED);
	assert_int_equal(oc_dir_certmap_remove(ro, "alice", &both), OC_ERR_DENIED);
	oc_dir_close(ro);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test_setup_teardown(test_map_find_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_ro, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
