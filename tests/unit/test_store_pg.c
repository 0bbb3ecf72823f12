/*
 * The CA store's behaviour, one table of cases run against both backends:
 * SQLite (a file) and PostgreSQL (a server the test starts with
 * tests/lib/postgres.sh on a free loopback port, a fresh database per case).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

int main(void);

struct fixture {
	char dir[64];
	char path[128];
	struct oc_store *s;
};

static int
setup_sqlite(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/oc-storepg-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(oc_store_open(f->path, &f->s), OC_OK);
	*state = f;
	return 0;
}

static int
teardown_sqlite(void **state)
{
	struct fixture *f = *state;
	char p[160];

	oc_store_close(f->s);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const uint8_t csr1[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static const uint8_t csr2[] = { 0x30, 0x03, 0x02, 0x01, 0x02 };

/* The fingerprint finds the newest request with it, submitted at or after since. */
static void
case_fingerprint(void **state)
{
	struct fixture *f = *state;
	struct oc_store_request q;
	uint8_t fp1[32], fp2[32];
	uint32_t a, b, c, d;
	time_t now = time(NULL);

	memset(fp1, 0xa1, sizeof(fp1));
	memset(fp2, 0xb2, sizeof(fp2));
	fp2[31] = 0;    /* a NUL inside: binary, not text */
	assert_int_equal(oc_store_request_by_fp(f->s, fp1, 0, &q), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_request_new_fp(f->s, "alice", "User", csr1, sizeof(csr1), fp1,
	    &a), OC_OK);
	assert_int_equal(oc_store_request_new_fp(f->s, "bob", "User", csr2, sizeof(csr2), fp2,
	    &b), OC_OK);
	assert_int_equal(oc_store_request_new(f->s, "carol", "User", csr1, sizeof(csr1), &c),
	    OC_OK);
	assert_int_equal(oc_store_request_by_fp(f->s, fp1, now - 60, &q), OC_OK);
	assert_int_equal(q.request_id, a);
	assert_string_equal(q.requester, "alice");
	assert_int_equal(q.request_der_len, sizeof(csr1));
	assert_memory_equal(q.request_der, csr1, sizeof(csr1));
	oc_store_request_clear(&q);
	assert_int_equal(oc_store_request_by_fp(f->s, fp2, 0, &q), OC_OK);
	assert_int_equal(q.request_id, b);
	oc_store_request_clear(&q);
	/* the newest of two with the same fingerprint */
	assert_int_equal(oc_store_request_new_fp(f->s, "alice", "User", csr1, sizeof(csr1), fp1,
	    &d), OC_OK);
	assert_int_equal(oc_store_request_by_fp(f->s, fp1, 0, &q), OC_OK);
	assert_int_equal(q.request_id, d);
	oc_store_request_clear(&q);
	/* submitted before since: not found */
	assert_int_equal(oc_store_request_by_fp(f->s, fp1, now + 3600, &q), OC_ERR_NOT_FOUND);
	fp1[0] ^= 1;
	assert_int_equal(oc_store_request_by_fp(f->s, fp1, 0, &q), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_request_by_fp(f->s, NULL, 0, &q), OC_ERR_INVALID);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(case_fingerprint, setup_sqlite, teardown_sqlite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
