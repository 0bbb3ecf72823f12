/*
 * Group commit in the store: a batch is all or nothing, invisible to other
 * connections until it commits, survives a failed write of one of its
 * orders (serial collision, undecidable request), and does not nest.
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
	struct oc_store *s;       /* the writer (the CA) */
	struct oc_store *other;   /* a second connection (the admin CLI) */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/oc-storeb-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(oc_store_open(f->path, &f->s), OC_OK);
	assert_int_equal(oc_store_open(f->path, &f->other), OC_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	oc_store_close(f->s);
	oc_store_close(f->other);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const uint8_t csr[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static uint8_t cert_der[] = { 0x30, 0x02, 0x05, 0x00 };

static void
fill_cert(struct oc_store_cert *c, const char *serial)
{
	memset(c, 0, sizeof(*c));
	c->serial_hex = (char *)serial;
	c->requester = (char *)"alice";
	c->template_name = (char *)"User";
	c->subject = (char *)"CN=alice";
	c->not_before = 1700000000;
	c->not_after = 1700000000 + 365 * 86400;
	c->der = cert_der;
	c->der_len = sizeof(cert_der);
}

/* What one issuance writes: request, template, certificate, audit line. */
static uint32_t
issue_one(struct oc_store *s, const char *serial)
{
	struct oc_store_cert c;
	uint32_t id = 0;

	fill_cert(&c, serial);
	assert_int_equal(oc_store_request_new(s, "alice", NULL, csr, sizeof(csr), &id), OC_OK);
	assert_int_equal(oc_store_request_set_template(s, id, "User"), OC_OK);
	assert_int_equal(oc_store_cert_issue(s, id, &c, "Issued"), OC_OK);
	assert_int_equal(oc_store_audit(s, "issue", "alice", serial), OC_OK);
	return id;
}

static int
request_exists(struct oc_store *s, uint32_t id)
{
	struct oc_store_request q;
	int r = oc_store_request_get(s, id, &q);

	assert_true(r == OC_OK || r == OC_ERR_NOT_FOUND);
	oc_store_request_clear(&q);
	return r == OC_OK;
}

static int
serial_exists(struct oc_store *s, const char *serial)
{
	int e = -1;

	assert_int_equal(oc_store_serial_exists(s, serial, &e), OC_OK);
	return e;
}

static void
test_batch_commit(void **state)
{
	struct fixture *f = *state;
	static const char *serials[] = { "0a01", "0a02", "0a03", "0a04", "0a05" };
	uint32_t ids[5], denied;
	struct oc_store_request q;

	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	for (size_t i = 0; i < 5; i++)
		ids[i] = issue_one(f->s, serials[i]);
	assert_int_equal(oc_store_request_new(f->s, "bob", "User", csr, sizeof(csr), &denied),
	    OC_OK);
	assert_int_equal(oc_store_request_resolve(f->s, denied, OC_REQ_STATUS_DENIED,
	    0x80094012u, "no Enroll right"), OC_OK);
	/* the writer sees its own batch, nobody else does before the commit */
	for (size_t i = 0; i < 5; i++) {
		assert_true(request_exists(f->s, ids[i]));
		assert_false(request_exists(f->other, ids[i]));
		assert_false(serial_exists(f->other, serials[i]));
	}
	assert_int_equal(oc_store_batch_commit(f->s), OC_OK);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(oc_store_request_get(f->other, ids[i], &q), OC_OK);
		assert_int_equal(q.status, OC_REQ_STATUS_ISSUED);
		assert_string_equal(q.serial_hex, serials[i]);
		assert_string_equal(q.template_name, "User");
		oc_store_request_clear(&q);
	}
	assert_int_equal(oc_store_request_get(f->other, denied, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_DENIED);
	oc_store_request_clear(&q);
	assert_int_equal(oc_store_check(f->other), OC_OK);
	/* after the batch, writes commit one by one again */
	ids[0] = issue_one(f->s, "0b01");
	assert_true(request_exists(f->other, ids[0]));
}

static void
test_batch_rollback(void **state)
{
	struct fixture *f = *state;
	uint32_t ids[3];

	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	ids[0] = issue_one(f->s, "0c01");
	ids[1] = issue_one(f->s, "0c02");
	ids[2] = issue_one(f->s, "0c03");
	oc_store_batch_rollback(f->s);
	/* nothing: no request, no certificate, for the writer either */
	for (size_t i = 0; i < 3; i++) {
		assert_false(request_exists(f->s, ids[i]));
		assert_false(request_exists(f->other, ids[i]));
	}
	assert_false(serial_exists(f->s, "0c01"));
	assert_false(serial_exists(f->s, "0c03"));
	/* rollback without a batch is a no-op; the store works on */
	oc_store_batch_rollback(f->s);
	oc_store_batch_rollback(NULL);
	ids[0] = issue_one(f->s, "0c01");
	assert_true(request_exists(f->other, ids[0]));
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

/* A closed store loses an uncommitted batch (a CA that dies mid-batch). */
static void
test_batch_close_loses_it(void **state)
{
	struct fixture *f = *state;
	uint32_t id;

	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	id = issue_one(f->s, "0d01");
	oc_store_close(f->s);
	assert_int_equal(oc_store_open(f->path, &f->s), OC_OK);
	assert_false(request_exists(f->s, id));
	assert_false(serial_exists(f->other, "0d01"));
	assert_int_equal(oc_store_check(f->other), OC_OK);
}

/* One order's failed write does not take the others of its batch down. */
static void
test_batch_one_order_fails(void **state)
{
	struct fixture *f = *state;
	struct oc_store_cert c;
	struct oc_store_request q;
	uint32_t a, b;

	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	a = issue_one(f->s, "0e01");
	/* the second order draws a serial already used in this batch: EXISTS, draw again */
	assert_int_equal(oc_store_request_new(f->s, "bob", "User", csr, sizeof(csr), &b), OC_OK);
	fill_cert(&c, "0e01");
	assert_int_equal(oc_store_cert_issue(f->s, b, &c, "Issued"), OC_ERR_EXISTS);
	/* a certificate for a request already decided is refused, its rows undone */
	fill_cert(&c, "0e09");
	assert_int_equal(oc_store_cert_issue(f->s, a, &c, "Issued"), OC_ERR_INVALID);
	assert_false(serial_exists(f->s, "0e09"));
	fill_cert(&c, "0e02");
	assert_int_equal(oc_store_cert_issue(f->s, b, &c, "Issued"), OC_OK);
	assert_int_equal(oc_store_batch_commit(f->s), OC_OK);
	assert_int_equal(oc_store_request_get(f->other, b, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_ISSUED);
	assert_string_equal(q.serial_hex, "0e02");
	oc_store_request_clear(&q);
	assert_int_equal(oc_store_request_get(f->other, a, &q), OC_OK);
	assert_string_equal(q.serial_hex, "0e01");
	oc_store_request_clear(&q);
	assert_false(serial_exists(f->other, "0e09"));
	assert_int_equal(oc_store_check(f->other), OC_OK);
}

static void
test_batch_misuse(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(oc_store_batch_commit(f->s), OC_ERR_INVALID);
	assert_int_equal(oc_store_batch_begin(NULL), OC_ERR_INVALID);
	assert_int_equal(oc_store_batch_commit(NULL), OC_ERR_INVALID);
	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	assert_int_equal(oc_store_batch_begin(f->s), OC_ERR_INVALID);      /* no nesting */
	assert_int_equal(oc_store_batch_commit(f->s), OC_OK);
	assert_int_equal(oc_store_batch_commit(f->s), OC_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_close_loses_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_one_order_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_misuse, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
