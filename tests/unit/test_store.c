/* The CA store over real SQLite files: requests, certificates, invariants, reopen. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"

int main(void);

struct fixture {
	char dir[64];
	char path[128];
	struct oc_store *s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/oc-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(oc_store_open(f->path, &f->s), OC_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
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

static void
fill_cert(struct oc_store_cert *c, const char *serial, const char *subject)
{
	static uint8_t der[] = { 0x30, 0x02, 0x05, 0x00 };

	memset(c, 0, sizeof(*c));
	c->serial_hex = (char *)serial;
	c->requester = (char *)"alice";
	c->template_name = (char *)"User";
	c->subject = (char *)subject;
	c->not_before = 1700000000;
	c->not_after = 1700000000 + 365 * 86400;
	c->der = der;
	c->der_len = sizeof(der);
}

static void
test_request_new_ids(void **state)
{
	struct fixture *f = *state;
	uint32_t ids[64];

	for (size_t i = 0; i < 64; i++) {
		assert_int_equal(oc_store_request_new(f->s, "alice", "User", csr1, sizeof(csr1),
		    &ids[i]), OC_OK);
		/* decimal RequestID in 1..2^31-1 */
		assert_true(ids[i] >= 1 && ids[i] <= 0x7fffffffu);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
	}
	/* random, not sequential */
	assert_false(ids[1] == ids[0] + 1 && ids[2] == ids[1] + 1);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

static void
test_request_get_resolve(void **state)
{
	struct fixture *f = *state;
	struct oc_store_request q;
	uint32_t id;

	assert_int_equal(oc_store_request_new(f->s, "bob", NULL, csr1, sizeof(csr1), &id), OC_OK);
	assert_int_equal(oc_store_request_get(f->s, id, &q), OC_OK);
	assert_int_equal(q.request_id, id);
	assert_string_equal(q.requester, "bob");
	assert_null(q.template_name);
	assert_int_equal(q.status, OC_REQ_STATUS_PENDING);
	oc_store_request_clear(&q);
	assert_int_equal(oc_store_request_set_template(f->s, id, "WebServer"), OC_OK);
	assert_int_equal(oc_store_request_get(f->s, id, &q), OC_OK);
	assert_string_equal(q.template_name, "WebServer");
	assert_int_equal(q.request_der_len, sizeof(csr1));
	assert_memory_equal(q.request_der, csr1, sizeof(csr1));
	assert_null(q.serial_hex);
	oc_store_request_clear(&q);

	assert_int_equal(oc_store_request_resolve(f->s, id, OC_REQ_STATUS_DENIED, 0x80094811u,
	    "Template User: key size 1024 is below the minimum 2048"), OC_OK);
	assert_int_equal(oc_store_request_get(f->s, id, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_DENIED);
	assert_int_equal(q.hresult, 0x80094811u);
	assert_string_equal(q.disposition, "Template User: key size 1024 is below the minimum 2048");
	assert_true(q.resolved > 0);
	oc_store_request_clear(&q);

	/* a decided request stays decided */
	assert_int_equal(oc_store_request_resolve(f->s, id, OC_REQ_STATUS_FAILED, 1, "x"),
	    OC_ERR_NOT_FOUND);
	/* issuing is not a resolution without a certificate */
	assert_int_equal(oc_store_request_resolve(f->s, id, OC_REQ_STATUS_ISSUED, 0, "x"),
	    OC_ERR_INVALID);
	assert_int_equal(oc_store_request_get(f->s, 12345, &q), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_request_resolve(f->s, 12345, OC_REQ_STATUS_DENIED, 1, "x"),
	    OC_ERR_NOT_FOUND);
}

static void
test_cert_issue(void **state)
{
	struct fixture *f = *state;
	struct oc_store_cert c, got;
	struct oc_store_request q;
	uint32_t id, id2, id3;
	int exists = 0;

	assert_int_equal(oc_store_request_new(f->s, "alice", "User", csr1, sizeof(csr1), &id),
	    OC_OK);
	fill_cert(&c, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "CN=alice");
	assert_int_equal(oc_store_cert_issue(f->s, id, &c, "Issued"), OC_OK);

	assert_int_equal(oc_store_request_get(f->s, id, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_ISSUED);
	assert_int_equal(q.hresult, 0);
	assert_string_equal(q.serial_hex, "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
	assert_string_equal(q.disposition, "Issued");
	oc_store_request_clear(&q);

	assert_int_equal(oc_store_cert_get(f->s, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", &got), OC_OK);
	assert_int_equal(got.request_id, id);
	assert_string_equal(got.subject, "CN=alice");
	assert_string_equal(got.template_name, "User");
	assert_int_equal(got.not_before, c.not_before);
	assert_int_equal(got.not_after, c.not_after);
	assert_int_equal(got.der_len, c.der_len);
	assert_memory_equal(got.der, c.der, c.der_len);
	assert_int_equal(got.revoked, 0);
	oc_store_cert_clear(&got);
	assert_int_equal(oc_store_cert_by_request(f->s, id, &got), OC_OK);
	assert_string_equal(got.serial_hex, "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
	oc_store_cert_clear(&got);
	assert_int_equal(oc_store_serial_exists(f->s, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", &exists),
	    OC_OK);
	assert_int_equal(exists, 1);

	/* a used serial is refused, and the second request stays undecided */
	assert_int_equal(oc_store_request_new(f->s, "carol", "User", csr1, sizeof(csr1), &id2),
	    OC_OK);
	assert_int_equal(oc_store_cert_issue(f->s, id2, &c, "Issued"), OC_ERR_EXISTS);
	assert_int_equal(oc_store_request_get(f->s, id2, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_PENDING);
	assert_null(q.serial_hex);
	oc_store_request_clear(&q);
	/* ... a fresh serial goes through */
	c.serial_hex = (char *)"7f00000000000000000000000000abcd";
	assert_int_equal(oc_store_cert_issue(f->s, id2, &c, "Issued"), OC_OK);
	/* an issued request cannot get a second certificate */
	c.serial_hex = (char *)"7f00000000000000000000000000abce";
	assert_int_equal(oc_store_cert_issue(f->s, id2, &c, "Issued"), OC_ERR_INVALID);
	/* nor can a denied or an unknown one */
	assert_int_equal(oc_store_request_new(f->s, "dave", "User", NULL, 0, &id3), OC_OK);
	assert_int_equal(oc_store_request_resolve(f->s, id3, OC_REQ_STATUS_DENIED, 1, "no"), OC_OK);
	assert_int_equal(oc_store_cert_issue(f->s, id3, &c, "Issued"), OC_ERR_INVALID);
	assert_int_equal(oc_store_cert_issue(f->s, 777, &c, "Issued"), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_serial_exists(f->s, "7f00000000000000000000000000abce", &exists),
	    OC_OK);
	assert_int_equal(exists, 0);
	assert_int_equal(oc_store_cert_get(f->s, "00", &got), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

struct counter {
	size_t n;
	uint32_t first_id;
	char first_serial[64];
};

static void
count_req(const struct oc_store_request *r, void *arg)
{
	struct counter *c = arg;

	if (c->n++ == 0)
		c->first_id = r->request_id;
}

static void
count_cert(const struct oc_store_cert *x, void *arg)
{
	struct counter *c = arg;

	if (c->n++ == 0)
		snprintf(c->first_serial, sizeof(c->first_serial), "%s", x->serial_hex);
}

static void
test_list_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct oc_store_cert c;
	struct oc_store_request q;
	struct counter cnt;
	uint32_t ids[5];
	char serial[40];

	for (int i = 0; i < 5; i++) {
		assert_int_equal(oc_store_request_new(f->s, "alice", "User", csr1, sizeof(csr1),
		    &ids[i]), OC_OK);
		snprintf(serial, sizeof(serial), "1000000000000000000000000000000%d", i);
		fill_cert(&c, serial, "CN=alice");
		if (i < 3)
			assert_int_equal(oc_store_cert_issue(f->s, ids[i], &c, "Issued"), OC_OK);
	}
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(oc_store_request_list(f->s, 0, count_req, &cnt), OC_OK);
	assert_int_equal(cnt.n, 5);
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(oc_store_request_list(f->s, 2, count_req, &cnt), OC_OK);
	assert_int_equal(cnt.n, 2);
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(oc_store_cert_list(f->s, 0, count_cert, &cnt), OC_OK);
	assert_int_equal(cnt.n, 3);
	assert_string_equal(cnt.first_serial, "10000000000000000000000000000002"); /* newest first */
	assert_int_equal(oc_store_audit(f->s, "issue", "alice", "serial=1"), OC_OK);

	/* close and reopen the file: everything is still there */
	oc_store_close(f->s);
	f->s = NULL;
	assert_int_equal(oc_store_open(f->path, &f->s), OC_OK);
	assert_int_equal(oc_store_check(f->s), OC_OK);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(oc_store_request_get(f->s, ids[i], &q), OC_OK);
		assert_int_equal(q.status, i < 3 ? OC_REQ_STATUS_ISSUED : OC_REQ_STATUS_PENDING);
		oc_store_request_clear(&q);
	}
	assert_int_equal(oc_store_cert_get(f->s, "10000000000000000000000000000001", &c), OC_OK);
	assert_int_equal(c.request_id, ids[1]);
	oc_store_cert_clear(&c);
	memset(&cnt, 0, sizeof(cnt));
	assert_int_equal(oc_store_cert_list(f->s, 0, count_cert, &cnt), OC_OK);
	assert_int_equal(cnt.n, 3);
}

/* Break an invariant behind the store's back: oc_store_check must notice. */
static void
test_check_detects(void **state)
{
	struct fixture *f = *state;
	struct oc_store_cert c;
	sqlite3 *db = NULL;
	uint32_t id;
	char sql[128];

	assert_int_equal(oc_store_request_new(f->s, "alice", "User", csr1, sizeof(csr1), &id), OC_OK);
	fill_cert(&c, "22", "CN=alice");
	assert_int_equal(oc_store_cert_issue(f->s, id, &c, "Issued"), OC_OK);
	assert_int_equal(oc_store_check(f->s), OC_OK);

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "DELETE FROM certificates WHERE request_id = %u", id);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(oc_store_check(f->s), OC_ERR_STORE);
}

static void
test_schema_version(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM schema_version", -1, &st,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);   /* three migration steps */
	sqlite3_finalize(st);
	/* a store from the future is refused */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	oc_store_close(f->s);
	f->s = NULL;
	assert_int_equal(oc_store_open(f->path, &f->s), OC_ERR_STORE);
	assert_null(f->s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_request_new_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_get_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_issue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_detects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_version, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
