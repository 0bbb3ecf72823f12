/*
 * Revocation records of the CA store over a real SQLite file: RFC 5280
 * CRLReason values, certificateHold and its release, the audit line of each
 * change, serial forms, durability across a reopen, batches.
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
#include "store/store.h"

int main(void);

#define SERIAL "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
#define SERIAL2 "7f00000000000000000000000000abcd"

struct fixture {
	char dir[64];
	char path[128];
	struct oc_store *s;
};

static void
issue(struct oc_store *s, const char *serial)
{
	static const uint8_t csr[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	static uint8_t der[] = { 0x30, 0x02, 0x05, 0x00 };
	struct oc_store_cert c;
	uint32_t id = 0;

	memset(&c, 0, sizeof(c));
	c.serial_hex = (char *)serial;
	c.requester = (char *)"alice";
	c.template_name = (char *)"User";
	c.subject = (char *)"CN=alice";
	c.not_before = 1700000000;
	c.not_after = 1700000000 + 365 * 86400;
	c.der = der;
	c.der_len = sizeof(der);
	assert_int_equal(oc_store_request_new(s, "alice", "User", csr, sizeof(csr), &id), OC_OK);
	assert_int_equal(oc_store_cert_issue(s, id, &c, "Issued"), OC_OK);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/oc-revoke-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	assert_int_equal(oc_store_open(f->path, &f->s), OC_OK);
	issue(f->s, SERIAL);
	issue(f->s, SERIAL2);
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

/* Audit lines of an event, as "actor|detail" joined by '\n', read with a second connection. */
static char *
audit_of(const char *path, const char *event)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	char *all = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&all, &len);

	assert_non_null(f);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT actor, detail FROM audit WHERE event = ? "
	    "ORDER BY id", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_bind_text(st, 1, event, -1, SQLITE_STATIC), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		fprintf(f, "%s|%s\n", sqlite3_column_text(st, 0) ?
		    (const char *)sqlite3_column_text(st, 0) : "", sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	sqlite3_close(db);
	fclose(f);
	return all;
}

static void
expect_state(struct oc_store *s, const char *serial, int revoked, int reason, time_t at)
{
	struct oc_store_cert c;
	int rv = -1, rs = -1;
	time_t t = -1;

	assert_int_equal(oc_store_cert_status(s, serial, &rv, &rs, &t), OC_OK);
	assert_int_equal(rv, revoked);
	assert_int_equal(rs, revoked ? reason : 0);
	assert_int_equal(t, revoked ? at : 0);
	assert_int_equal(oc_store_cert_get(s, serial, &c), OC_OK);
	assert_int_equal(c.revoked, revoked);
	if (revoked) {
		assert_int_equal(c.revocation_reason, reason);
		assert_int_equal(c.revoked_at, at);
	}
	oc_store_cert_clear(&c);
	assert_int_equal(oc_store_check(s), OC_OK);
}

/* Every RFC 5280 reason, by number: revocable ones are kept as given. */
static void
test_reasons(void **state)
{
	static const struct {
		int reason;
		int want;
		const char *name;
	} table[] = {
		{ 0, OC_OK, "unspecified" },
		{ 1, OC_OK, "keyCompromise" },
		{ 2, OC_OK, "cACompromise" },
		{ 3, OC_OK, "affiliationChanged" },
		{ 4, OC_OK, "superseded" },
		{ 5, OC_OK, "cessationOfOperation" },
		{ 6, OC_OK, "certificateHold" },
		{ 7, OC_ERR_INVALID, "unknown" },             /* value 7 is not used */
		{ 8, OC_ERR_INVALID, "removeFromCRL" },       /* delta CRLs only */
		{ 9, OC_OK, "privilegeWithdrawn" },
		{ 10, OC_OK, "aACompromise" },
		{ 11, OC_ERR_INVALID, "unknown" },
		{ -1, OC_ERR_INVALID, "unknown" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		time_t when = 1710000000 + (time_t)i;
		int parsed = -1;

		assert_string_equal(oc_crl_reason_name(table[i].reason), table[i].name);
		assert_int_equal(oc_store_cert_revoke(f->s, SERIAL, table[i].reason, when),
		    table[i].want);
		if (table[i].want != OC_OK) {
			expect_state(f->s, SERIAL, 0, 0, 0);
			assert_int_equal(oc_crl_reason_parse(table[i].name, &parsed),
			    OC_ERR_INVALID);
			continue;
		}
		expect_state(f->s, SERIAL, 1, table[i].reason, when);
		/* the name and the number both parse back to the reason */
		assert_int_equal(oc_crl_reason_parse(table[i].name, &parsed), OC_OK);
		assert_int_equal(parsed, table[i].reason);
		/* reset the row for the next reason (a test-only back door) */
		{
			sqlite3 *db = NULL;
			assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
			assert_int_equal(sqlite3_exec(db, "UPDATE certificates SET revoked = 0, "
			    "reason = NULL, revoked_at = NULL", NULL, NULL, NULL), SQLITE_OK);
			sqlite3_close(db);
		}
	}
}

static void
test_reason_parse(void **state)
{
	static const struct {
		const char *in;
		int want;                 /* reason, or -1 for refused */
	} table[] = {
		{ "keyCompromise", 1 }, { "KEYCOMPROMISE", 1 }, { "1", 1 }, { "0", 0 },
		{ "superseded", 4 }, { "certificateHold", 6 }, { "10", 10 },
		{ "7", -1 }, { "8", -1 }, { "removeFromCRL", -1 }, { "11", -1 }, { "-1", -1 },
		{ "", -1 }, { "1x", -1 }, { "key", -1 }, { "99999999999999999999", -1 },
	};
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		int got = 42;
		r = oc_crl_reason_parse(table[i].in, &got);
		if (table[i].want < 0) {
			assert_int_equal(r, OC_ERR_INVALID);
			assert_int_equal(got, -1);
		} else {
			assert_int_equal(r, OC_OK);
			assert_int_equal(got, table[i].want);
		}
	}
}

static void
test_hold_and_release(void **state)
{
	struct fixture *f = *state;
	char *audit = NULL;

	/* unknown, not revoked, bad serials */
	assert_int_equal(oc_store_cert_revoke(f->s, "00ff", 1, 0), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_cert_unrevoke(f->s, "00ff"), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_cert_unrevoke(f->s, SERIAL), OC_ERR_INVALID);
	assert_int_equal(oc_store_cert_revoke(f->s, "zz", 1, 0), OC_ERR_INVALID);
	assert_int_equal(oc_store_cert_revoke(f->s, "", 1, 0), OC_ERR_INVALID);
	assert_int_equal(oc_store_cert_revoke(f->s, NULL, 1, 0), OC_ERR_INVALID);
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL, 1, -5), OC_ERR_INVALID);

	/* hold, hold again (refused), release, release again (not revoked) */
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL, OC_CRL_CERTIFICATE_HOLD, 1710000000),
	    OC_OK);
	expect_state(f->s, SERIAL, 1, OC_CRL_CERTIFICATE_HOLD, 1710000000);
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL, OC_CRL_CERTIFICATE_HOLD, 0),
	    OC_ERR_EXISTS);
	assert_int_equal(oc_store_cert_unrevoke(f->s, SERIAL), OC_OK);
	expect_state(f->s, SERIAL, 0, 0, 0);
	assert_int_equal(oc_store_cert_unrevoke(f->s, SERIAL), OC_ERR_INVALID);

	/* hold, then a final reason: allowed, and then final */
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL, OC_CRL_CERTIFICATE_HOLD, 1710000100),
	    OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL, OC_CRL_KEY_COMPROMISE, 1710000200),
	    OC_OK);
	expect_state(f->s, SERIAL, 1, OC_CRL_KEY_COMPROMISE, 1710000200);
	assert_int_equal(oc_store_cert_unrevoke(f->s, SERIAL), OC_ERR_DENIED);
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL, OC_CRL_SUPERSEDED, 0), OC_ERR_EXISTS);
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL, OC_CRL_CERTIFICATE_HOLD, 0),
	    OC_ERR_EXISTS);
	expect_state(f->s, SERIAL, 1, OC_CRL_KEY_COMPROMISE, 1710000200);
	/* the other certificate is untouched */
	expect_state(f->s, SERIAL2, 0, 0, 0);

	/* every change left one audit line, refusals none */
	audit = audit_of(f->path, "revoke");
	assert_string_equal(audit,
	    "|serial=" SERIAL " reason=certificateHold(6) revoked_at=1710000000\n"
	    "|serial=" SERIAL " reason=certificateHold(6) revoked_at=1710000100\n"
	    "|serial=" SERIAL " reason=keyCompromise(1) revoked_at=1710000200 was=certificateHold\n");
	free(audit);
	audit = audit_of(f->path, "unrevoke");
	assert_string_equal(audit, "|serial=" SERIAL " was=certificateHold\n");
	free(audit);
}

/* Serials in any case, with ':' separators, odd length; "now" when no time is given. */
static void
test_serial_forms(void **state)
{
	static const struct {
		const char *in, *out;
	} table[] = {
		{ "0A1B2C3D4E5F60718293A4B5C6D7E8F9", SERIAL },
		{ "0a:1b:2c:3d:4e:5f:60:71:82:93:a4:b5:c6:d7:e8:f9", SERIAL },
		{ "abc", "0abc" },
		{ "7F00000000000000000000000000ABCD", SERIAL2 },
	};
	static const char *const bad[] = { "", ":", "0x12", "12 34", "g1", "-1",
	    "00000000000000000000000000000000000000000000000000000000000000001" };
	struct fixture *f = *state;
	time_t before = time(NULL), at = 0;
	int rv = 0, rs = 0;
	char *out = NULL;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		assert_int_equal(oc_store_serial_normalize(table[i].in, &out), OC_OK);
		assert_string_equal(out, table[i].out);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(oc_store_serial_normalize(bad[i], &out), OC_ERR_INVALID);
		assert_null(out);
	}
	assert_int_equal(oc_store_cert_revoke(f->s, table[1].in, OC_CRL_SUPERSEDED, 0), OC_OK);
	assert_int_equal(oc_store_cert_status(f->s, table[0].in, &rv, &rs, &at), OC_OK);
	assert_int_equal(rv, 1);
	assert_int_equal(rs, OC_CRL_SUPERSEDED);
	assert_true(at >= before && at <= time(NULL));
	assert_int_equal(oc_store_cert_status(f->s, "01", &rv, NULL, NULL), OC_ERR_NOT_FOUND);
	assert_int_equal(rv, 0);
}

/* Committed before the call returns: a reopened store (a new process) sees it. */
static void
test_durable_and_batch(void **state)
{
	struct fixture *f = *state;
	int rv = 0, rs = 0;
	time_t at = 0;

	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL, OC_CRL_CERTIFICATE_HOLD, 1710000000),
	    OC_OK);
	oc_store_close(f->s);
	assert_int_equal(oc_store_open(f->path, &f->s), OC_OK);
	expect_state(f->s, SERIAL, 1, OC_CRL_CERTIFICATE_HOLD, 1710000000);

	/* in a batch: a refusal undoes only itself; a rollback undoes the revocation */
	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL2, OC_CRL_CESSATION_OF_OPERATION,
	    1710000300), OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL2, OC_CRL_SUPERSEDED, 0),
	    OC_ERR_EXISTS);
	assert_int_equal(oc_store_cert_unrevoke(f->s, SERIAL), OC_OK);
	oc_store_batch_rollback(f->s);
	expect_state(f->s, SERIAL2, 0, 0, 0);
	expect_state(f->s, SERIAL, 1, OC_CRL_CERTIFICATE_HOLD, 1710000000);

	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL2, OC_CRL_CESSATION_OF_OPERATION,
	    1710000300), OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, SERIAL2, OC_CRL_SUPERSEDED, 0),
	    OC_ERR_EXISTS);
	assert_int_equal(oc_store_batch_commit(f->s), OC_OK);
	oc_store_close(f->s);
	assert_int_equal(oc_store_open(f->path, &f->s), OC_OK);
	assert_int_equal(oc_store_cert_status(f->s, SERIAL2, &rv, &rs, &at), OC_OK);
	assert_int_equal(rv, 1);
	assert_int_equal(rs, OC_CRL_CESSATION_OF_OPERATION);
	assert_int_equal(at, 1710000300);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

/* oc_store_check catches revocation columns that disagree. */
static void
test_check_revocation_columns(void **state)
{
	static const char *const corrupt[] = {
		"UPDATE certificates SET revoked = 1, reason = NULL, revoked_at = 1",
		"UPDATE certificates SET revoked = 1, reason = 7, revoked_at = 1",
		"UPDATE certificates SET revoked = 1, reason = 1, revoked_at = NULL",
		"UPDATE certificates SET revoked = 0, reason = 1, revoked_at = NULL",
		"UPDATE certificates SET revoked = 2, reason = 1, revoked_at = 1",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(corrupt) / sizeof(corrupt[0]); i++) {
		sqlite3 *db = NULL;

		assert_int_equal(oc_store_check(f->s), OC_OK);
		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, corrupt[i], NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		assert_int_equal(oc_store_check(f->s), OC_ERR_STORE);
		assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "UPDATE certificates SET revoked = 0, "
		    "reason = NULL, revoked_at = NULL", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reasons, setup, teardown),
		cmocka_unit_test(test_reason_parse),
		cmocka_unit_test_setup_teardown(test_hold_and_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serial_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durable_and_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_revocation_columns, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
