/*
 * Lifecycle records of the CA store over a real SQLite file: an
 * administrator approves or denies a pending request (once, with the actor
 * in the audit table), filtered listings, and the CRL number sequence and
 * entries (complete: every revoked certificate; delta: changes since the
 * base, with removeFromCRL for a certificate released from hold).
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

#include <sqlite3.h>

#include "common/limits.h"
#include "model/hresult.h"
#include "store/store.h"

int main(void);

static const uint8_t csr[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

struct fixture {
	char dir[64];
	char path[128];
	struct oc_store *s;
};

static uint32_t
issue(struct oc_store *s, const char *serial, const char *requester, const char *tmpl,
    time_t not_after)
{
	static uint8_t der[] = { 0x30, 0x02, 0x05, 0x00 };
	struct oc_store_cert c;
	uint32_t id = 0;

	memset(&c, 0, sizeof(c));
	c.serial_hex = (char *)serial;
	c.requester = (char *)requester;
	c.template_name = (char *)tmpl;
	c.subject = (char *)"CN=x";
	c.not_before = 1700000000;
	c.not_after = not_after;
	c.der = der;
	c.der_len = sizeof(der);
	assert_int_equal(oc_store_request_new(s, requester, tmpl, csr, sizeof(csr), &id), OC_OK);
	assert_int_equal(oc_store_cert_issue(s, id, &c, "Issued"), OC_OK);
	return id;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/oc-lifecycle-XXXXXX");
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

static int
audit_count(const char *path, const char *event, const char *actor)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int n;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM audit WHERE event = ? "
	    "AND actor = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void
test_approve_deny(void **state)
{
	struct fixture *f = *state;
	struct oc_store_request q;
	uint32_t a = 0, d = 0;

	assert_int_equal(oc_store_request_new(f->s, "alice", "OpenCESUserApproval", csr,
	    sizeof(csr), &a), OC_OK);
	assert_int_equal(oc_store_request_new(f->s, "bob", "OpenCESUserApproval", csr,
	    sizeof(csr), &d), OC_OK);

	/* table: approve, approve again, deny after approval, unknown */
	assert_int_equal(oc_store_request_approve(f->s, a, "root (sudo: carol)"), OC_OK);
	assert_int_equal(oc_store_request_approve(f->s, a, "root"), OC_ERR_EXISTS);
	assert_int_equal(oc_store_request_approve(f->s, 12345, "root"), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_request_approve(f->s, a, NULL), OC_ERR_INVALID);
	assert_int_equal(oc_store_request_get(f->s, a, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_PENDING);
	assert_int_equal(q.approved, 1);
	assert_string_equal(q.actor, "root (sudo: carol)");
	oc_store_request_clear(&q);

	assert_int_equal(oc_store_request_deny(f->s, d, "root", "no such project"), OC_OK);
	assert_int_equal(oc_store_request_deny(f->s, d, "root", NULL), OC_ERR_EXISTS);
	assert_int_equal(oc_store_request_approve(f->s, d, "root"), OC_ERR_EXISTS);
	assert_int_equal(oc_store_request_get(f->s, d, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_DENIED);
	assert_int_equal(q.hresult, OC_HR_CERTSRV_E_ADMIN_DENIED_REQUEST);
	assert_string_equal(q.disposition, "Denied by root: no such project");
	assert_string_equal(q.actor, "root");
	oc_store_request_clear(&q);

	assert_int_equal(audit_count(f->path, "approve", "root (sudo: carol)"), 1);
	assert_int_equal(audit_count(f->path, "admin_deny", "root"), 1);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

struct seen {
	size_t n;
	char first[80];
};

static void
req_cb(const struct oc_store_request *q, void *arg)
{
	struct seen *s = arg;

	if (s->n++ == 0)
		snprintf(s->first, sizeof(s->first), "%s", q->requester);
}

static void
cert_cb(const struct oc_store_cert *c, void *arg)
{
	struct seen *s = arg;

	if (s->n++ == 0)
		snprintf(s->first, sizeof(s->first), "%s", c->serial_hex);
}

static void
test_filters(void **state)
{
	struct fixture *f = *state;
	struct oc_store_request_filter rf;
	struct oc_store_cert_filter cf;
	struct seen s;
	uint32_t id = 0;

	issue(f->s, "01", "alice", "User", 1800000000);
	issue(f->s, "02", "bob", "WebServer", 1750000000);
	issue(f->s, "03", "alice", "WebServer", 1900000000);
	assert_int_equal(oc_store_request_new(f->s, "carol", "OpenCESUserApproval", csr,
	    sizeof(csr), &id), OC_OK);

	memset(&rf, 0, sizeof(rf));
	rf.status = OC_REQ_STATUS_PENDING;
	memset(&s, 0, sizeof(s));
	assert_int_equal(oc_store_request_find(f->s, &rf, 0, req_cb, &s), OC_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.first, "carol");
	rf.status = OC_REQ_STATUS_ISSUED;
	rf.requester = "alice";
	memset(&s, 0, sizeof(s));
	assert_int_equal(oc_store_request_find(f->s, &rf, 0, req_cb, &s), OC_OK);
	assert_int_equal(s.n, 2);

	struct { const char *req, *tmpl; time_t before; int revoked; size_t n; } t[] = {
		{ NULL, NULL, 0, 0, 3 },
		{ "alice", NULL, 0, 0, 2 },
		{ NULL, "webserver", 0, 0, 2 },
		{ "alice", "WebServer", 0, 0, 1 },
		{ NULL, NULL, 1800000001, 0, 2 },
		{ NULL, NULL, 1750000000, 0, 0 },
		{ NULL, NULL, 0, 1, 1 },
		{ NULL, NULL, 0, -1, 2 },
	};
	assert_int_equal(oc_store_cert_revoke(f->s, "02", OC_CRL_KEY_COMPROMISE, 0), OC_OK);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&cf, 0, sizeof(cf));
		cf.requester = t[i].req;
		cf.template_name = t[i].tmpl;
		cf.expires_before = t[i].before;
		cf.revoked = t[i].revoked;
		memset(&s, 0, sizeof(s));
		assert_int_equal(oc_store_cert_find(f->s, &cf, 0, cert_cb, &s), OC_OK);
		if (s.n != t[i].n)
			fail_msg("filter %zu: %zu rows, want %zu", i, s.n, t[i].n);
	}
}

struct entries {
	size_t n;
	char line[8][96];
};

static int
entry_cb(const struct oc_store_crl_entry *e, void *arg)
{
	struct entries *x = arg;

	if (x->n < 8)
		snprintf(x->line[x->n], sizeof(x->line[0]), "%s %d", e->serial_hex, e->reason);
	x->n++;
	return OC_OK;
}

static void
test_crl_numbers_and_entries(void **state)
{
	struct fixture *f = *state;
	struct oc_store_crl_info i, last;
	static const uint8_t der[] = { 0x30, 0x00 };
	struct entries e;
	uint64_t n = 0;
	int req = 0;

	issue(f->s, "0a", "alice", "User", 1900000000);
	issue(f->s, "0b", "alice", "User", 1900000000);
	issue(f->s, "0c", "alice", "User", 1900000000);
	assert_int_equal(oc_store_crl_last(f->s, 0, &last), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_crl_next_number(f->s, &n), OC_OK);
	assert_int_equal(n, 1);

	assert_int_equal(oc_store_cert_revoke(f->s, "0a", OC_CRL_SUPERSEDED, 1000), OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, "0b", OC_CRL_CERTIFICATE_HOLD, 2000), OC_OK);
	memset(&e, 0, sizeof(e));
	assert_int_equal(oc_store_crl_entries(f->s, 0, 1, entry_cb, &e), OC_OK);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.line[0], "0a 4");
	assert_string_equal(e.line[1], "0b 6");

	memset(&i, 0, sizeof(i));
	i.number = 1;
	i.this_update = 3000;
	i.next_update = 3000 + 86400;
	i.entries = 2;
	assert_int_equal(oc_store_crl_record(f->s, &i, der, sizeof(der)), OC_OK);
	/* the same number twice, or a gap: refused */
	assert_int_equal(oc_store_crl_record(f->s, &i, der, sizeof(der)), OC_ERR_EXISTS);
	i.number = 5;
	assert_int_equal(oc_store_crl_record(f->s, &i, der, sizeof(der)), OC_ERR_EXISTS);

	/* after the base: 0b released from hold, 0c revoked */
	assert_int_equal(oc_store_cert_unrevoke(f->s, "0b"), OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, "0c", OC_CRL_KEY_COMPROMISE, 0), OC_OK);
	memset(&e, 0, sizeof(e));
	assert_int_equal(oc_store_crl_entries(f->s, 3000, 1, entry_cb, &e), OC_OK);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.line[0], "0b 8");       /* removeFromCRL */
	assert_string_equal(e.line[1], "0c 1");
	memset(&e, 0, sizeof(e));
	assert_int_equal(oc_store_crl_entries(f->s, 0, 1, entry_cb, &e), OC_OK);
	assert_int_equal(e.n, 2);                     /* the next complete CRL omits 0b */
	assert_string_equal(e.line[0], "0a 4");
	assert_string_equal(e.line[1], "0c 1");

	memset(&i, 0, sizeof(i));
	assert_int_equal(oc_store_crl_next_number(f->s, &n), OC_OK);
	i.number = n;
	i.delta = 1;
	i.base = 1;
	i.this_update = 4000;
	i.next_update = 4000 + 3600;
	assert_int_equal(oc_store_crl_record(f->s, &i, der, sizeof(der)), OC_OK);
	assert_int_equal(oc_store_crl_last(f->s, 1, &last), OC_OK);
	assert_int_equal(last.number, 2);
	assert_int_equal(last.base, 1);
	assert_int_equal(oc_store_crl_last(f->s, 0, &last), OC_OK);
	assert_int_equal(last.number, 1);
	assert_int_equal(last.entries, 2);

	/* the on-demand flag: taken once */
	assert_int_equal(oc_store_crl_take_request(f->s, &req), OC_OK);
	assert_int_equal(req, 0);
	assert_int_equal(oc_store_crl_request(f->s, "root", 0), OC_ERR_INVALID);
	assert_int_equal(oc_store_crl_request(f->s, "root", OC_STORE_CRL_ASK_DELTA), OC_OK);
	assert_int_equal(oc_store_crl_request(f->s, "root", OC_STORE_CRL_ASK_FULL), OC_OK);
	assert_int_equal(oc_store_crl_take_request(f->s, &req), OC_OK);
	assert_int_equal(req, OC_STORE_CRL_ASK_FULL | OC_STORE_CRL_ASK_DELTA);
	assert_int_equal(oc_store_crl_take_request(f->s, &req), OC_OK);
	assert_int_equal(req, 0);
	assert_int_equal(audit_count(f->path, "crl_publish_request", "root"), 2);

	/* only the newest OC_STORE_CRLS_KEPT are kept, numbers go on */
	for (int k = 0; k < OC_STORE_CRLS_KEPT + 3; k++) {
		assert_int_equal(oc_store_crl_next_number(f->s, &n), OC_OK);
		memset(&i, 0, sizeof(i));
		i.number = n;
		i.this_update = 5000 + k;
		i.next_update = 9000;
		assert_int_equal(oc_store_crl_record(f->s, &i, der, sizeof(der)), OC_OK);
	}
	assert_int_equal(oc_store_crl_next_number(f->s, &n), OC_OK);
	assert_int_equal(n, 2 + OC_STORE_CRLS_KEPT + 3 + 1);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_approve_deny, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_numbers_and_entries, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
