/*
 * The CA store's behaviour, one table of cases run against both backends:
 * SQLite (a file) and PostgreSQL (a server this test starts with
 * tests/lib/postgres.sh on a free loopback port, a fresh database per
 * case; a watchdog process stops it even if the test dies). A missing
 * PostgreSQL fails the test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "model/hresult.h"
#include "store/store.h"

int main(void);

static char pg_dir[64];         /* the server's directory, "" when not started */

struct fixture {
	int pg;                     /* 1: PostgreSQL, 0: SQLite */
	char dir[64];
	char loc[256];              /* what oc_store_open_url takes */
	struct oc_store *s;
};

/* ---- the backends ---- */

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static const char *
script(void)
{
	static char path[512];
	const char *src = getenv("OC_SOURCE_DIR");

	snprintf(path, sizeof(path), "%s/tests/lib/postgres.sh", src ? src : "..");
	return path;
}

/* Stops the server when this process ends, however it ends (the pipe closes). */
static void
watchdog(void)
{
	char cmd[700], c;
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[1], F_SETFD, FD_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[1]);
		signal(SIGINT, SIG_IGN);
		while (read(fds[0], &c, 1) > 0)
			;
		snprintf(cmd, sizeof(cmd), "'%s' stop %s; rm -rf %s", script(), pg_dir, pg_dir);
		_exit(system(cmd) == 0 ? 0 : 1);
	}
	close(fds[0]);
	/* fds[1] stays open (close-on-exec) until this process exits */
}

static int
group_setup(void **state)
{
	char cmd[700];

	(void)state;
	snprintf(pg_dir, sizeof(pg_dir), "/tmp/oc-storepg-XXXXXX");
	assert_non_null(mkdtemp(pg_dir));
	watchdog();
	snprintf(cmd, sizeof(cmd), "'%s' start %s %d", script(), pg_dir, free_port());
	if (system(cmd) != 0)
		fail_msg("PostgreSQL did not start (%s)", cmd);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[700];

	(void)state;
	snprintf(cmd, sizeof(cmd), "'%s' stop %s && rm -rf %s", script(), pg_dir, pg_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
open_fixture(void **state, int pg)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char cmd[700];
	FILE *p;

	assert_non_null(f);
	f->pg = pg;
	if (pg) {
		snprintf(cmd, sizeof(cmd), "'%s' url %s", script(), pg_dir);
		assert_non_null(p = popen(cmd, "r"));
		assert_non_null(fgets(f->loc, sizeof(f->loc), p));
		assert_int_equal(pclose(p), 0);
		f->loc[strcspn(f->loc, "\n")] = '\0';
	} else {
		snprintf(f->dir, sizeof(f->dir), "/tmp/oc-storepg-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->loc, sizeof(f->loc), "sqlite:%s/store.db", f->dir);
	}
	assert_int_equal(oc_store_open_url(f->loc, &f->s), OC_OK);
	*state = f;
	return 0;
}

static int
setup_sqlite(void **state)
{
	return open_fixture(state, 0);
}

static int
setup_pg(void **state)
{
	return open_fixture(state, 1);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	oc_store_close(f->s);
	if (!f->pg) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		assert_int_equal(system(cmd), 0);
	}
	free(f);
	return 0;
}

/* Behind the store's back: run sql, or count with it (one integer). */
static long long
raw(struct fixture *f, const char *sql)
{
	long long v = -1;

	if (f->pg) {
		PGconn *c = PQconnectdb(f->loc);
		PGresult *q;

		assert_int_equal(PQstatus(c), CONNECTION_OK);
		q = PQexec(c, sql);
		if (PQresultStatus(q) == PGRES_TUPLES_OK && PQntuples(q) == 1)
			v = strtoll(PQgetvalue(q, 0, 0), NULL, 10);
		else if (PQresultStatus(q) == PGRES_COMMAND_OK)
			v = 0;
		else
			fail_msg("%s: %s", sql, PQresultErrorMessage(q));
		PQclear(q);
		PQfinish(c);
	} else {
		sqlite3 *db = NULL;
		sqlite3_stmt *st = NULL;
		int rc;

		assert_int_equal(sqlite3_open(f->loc + 7, &db), SQLITE_OK);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
			fail_msg("%s: %s", sql, sqlite3_errmsg(db));
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			v = sqlite3_column_int64(st, 0);
		else if (rc == SQLITE_DONE)
			v = 0;
		else
			fail_msg("%s: %s", sql, sqlite3_errmsg(db));
		sqlite3_finalize(st);
		sqlite3_close(db);
	}
	return v;
}

/* ---- helpers ---- */

static const uint8_t csr1[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static const uint8_t csr2[] = { 0x30, 0x03, 0x02, 0x01, 0x02 };
/* DER with a NUL and bytes above 0x7f: binary-safe storage */
static uint8_t cert_der[] = { 0x30, 0x06, 0x00, 0xff, 0x80, 0x5c, 0x78, 0x00 };

static void
fill_cert(struct oc_store_cert *c, const char *serial, const char *requester,
    const char *template_name, time_t not_after)
{
	memset(c, 0, sizeof(*c));
	c->serial_hex = (char *)serial;
	c->requester = (char *)requester;
	c->template_name = (char *)template_name;
	c->subject = (char *)"CN=alice";
	c->not_before = 1700000000;
	c->not_after = not_after;
	c->der = cert_der;
	c->der_len = sizeof(cert_der);
}

static uint32_t
issue(struct oc_store *s, const char *serial, const char *requester, const char *tmpl,
    time_t not_after)
{
	struct oc_store_cert c;
	uint32_t id = 0;

	fill_cert(&c, serial, requester, tmpl, not_after);
	assert_int_equal(oc_store_request_new(s, requester, tmpl, csr1, sizeof(csr1), &id), OC_OK);
	assert_int_equal(oc_store_cert_issue(s, id, &c, "Issued"), OC_OK);
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

struct seen {
	size_t n;
	char first[80];
	uint32_t ids[512];
	char serials[512][40];
};

static void
req_cb(const struct oc_store_request *q, void *arg)
{
	struct seen *s = arg;

	if (s->n == 0)
		snprintf(s->first, sizeof(s->first), "%s", q->requester);
	if (s->n < 512)
		s->ids[s->n] = q->request_id;
	s->n++;
}

static void
cert_cb(const struct oc_store_cert *c, void *arg)
{
	struct seen *s = arg;

	if (s->n == 0)
		snprintf(s->first, sizeof(s->first), "%s", c->serial_hex);
	if (s->n < 512)
		snprintf(s->serials[s->n], sizeof(s->serials[0]), "%s", c->serial_hex);
	s->n++;
}

/* ---- the cases: each runs on both backends ---- */

static void
case_request_ids(void **state)
{
	struct fixture *f = *state;
	uint32_t ids[64];

	for (size_t i = 0; i < 64; i++) {
		assert_int_equal(oc_store_request_new(f->s, "alice", "User", csr1, sizeof(csr1),
		    &ids[i]), OC_OK);
		assert_true(ids[i] >= 1 && ids[i] <= 0x7fffffffu);  /* decimal, 1..2^31-1 */
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
	}
	assert_false(ids[1] == ids[0] + 1 && ids[2] == ids[1] + 1);  /* random */
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

static void
case_request_resolve(void **state)
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
	assert_true(q.submitted > 1700000000);
	oc_store_request_clear(&q);
	assert_int_equal(oc_store_request_set_template(f->s, id, "WebServer"), OC_OK);
	assert_int_equal(oc_store_request_set_template(f->s, 99, "WebServer"), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_request_resolve(f->s, id, OC_REQ_STATUS_DENIED, 0x80094811u,
	    "Template User: key size 1024 is below the minimum 2048"), OC_OK);
	assert_int_equal(oc_store_request_get(f->s, id, &q), OC_OK);
	assert_string_equal(q.template_name, "WebServer");
	assert_int_equal(q.request_der_len, sizeof(csr1));
	assert_memory_equal(q.request_der, csr1, sizeof(csr1));
	assert_int_equal(q.status, OC_REQ_STATUS_DENIED);
	assert_int_equal(q.hresult, 0x80094811u);
	assert_string_equal(q.disposition,
	    "Template User: key size 1024 is below the minimum 2048");
	assert_true(q.resolved >= q.submitted);
	oc_store_request_clear(&q);
	/* decided once: a second decision, ISSUED without a certificate, unknown */
	assert_int_equal(oc_store_request_resolve(f->s, id, OC_REQ_STATUS_FAILED, 1, "x"),
	    OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_request_resolve(f->s, id, OC_REQ_STATUS_ISSUED, 0, "x"),
	    OC_ERR_INVALID);
	assert_int_equal(oc_store_request_get(f->s, 12345, &q), OC_ERR_NOT_FOUND);
}

static void
case_cert_issue(void **state)
{
	struct fixture *f = *state;
	struct oc_store_cert c, got;
	struct oc_store_request q;
	uint32_t id, id2, id3;

	assert_int_equal(oc_store_request_new(f->s, "alice", "User", csr1, sizeof(csr1), &id),
	    OC_OK);
	fill_cert(&c, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "alice", "User", 1800000000);
	assert_int_equal(oc_store_cert_issue(f->s, id, &c, "Issued"), OC_OK);
	assert_int_equal(oc_store_request_get(f->s, id, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_ISSUED);
	assert_string_equal(q.serial_hex, "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
	assert_string_equal(q.disposition, "Issued");
	oc_store_request_clear(&q);
	assert_int_equal(oc_store_cert_get(f->s, "0a1b2c3d4e5f60718293a4b5c6d7e8f9", &got), OC_OK);
	assert_int_equal(got.request_id, id);
	assert_string_equal(got.subject, "CN=alice");
	assert_int_equal(got.not_after, 1800000000);
	assert_int_equal(got.der_len, sizeof(cert_der));
	assert_memory_equal(got.der, cert_der, sizeof(cert_der));
	assert_int_equal(got.revoked, 0);
	oc_store_cert_clear(&got);
	assert_int_equal(oc_store_cert_by_request(f->s, id, &got), OC_OK);
	assert_string_equal(got.serial_hex, "0a1b2c3d4e5f60718293a4b5c6d7e8f9");
	oc_store_cert_clear(&got);
	assert_true(serial_exists(f->s, "0a1b2c3d4e5f60718293a4b5c6d7e8f9"));

	/* a used serial is refused (the caller draws another), the request stays pending */
	assert_int_equal(oc_store_request_new(f->s, "carol", "User", csr1, sizeof(csr1), &id2),
	    OC_OK);
	assert_int_equal(oc_store_cert_issue(f->s, id2, &c, "Issued"), OC_ERR_EXISTS);
	assert_int_equal(oc_store_request_get(f->s, id2, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_PENDING);
	assert_null(q.serial_hex);
	oc_store_request_clear(&q);
	c.serial_hex = (char *)"7f00000000000000000000000000abcd";
	assert_int_equal(oc_store_cert_issue(f->s, id2, &c, "Issued"), OC_OK);
	/* one certificate per request; none for a denied or an unknown one */
	c.serial_hex = (char *)"7f00000000000000000000000000abce";
	assert_int_equal(oc_store_cert_issue(f->s, id2, &c, "Issued"), OC_ERR_INVALID);
	assert_int_equal(oc_store_request_new(f->s, "dave", "User", NULL, 0, &id3), OC_OK);
	assert_int_equal(oc_store_request_resolve(f->s, id3, OC_REQ_STATUS_DENIED, 1, "no"), OC_OK);
	assert_int_equal(oc_store_cert_issue(f->s, id3, &c, "Issued"), OC_ERR_INVALID);
	assert_int_equal(oc_store_cert_issue(f->s, 777, &c, "Issued"), OC_ERR_NOT_FOUND);
	assert_false(serial_exists(f->s, "7f00000000000000000000000000abce"));
	assert_int_equal(oc_store_cert_get(f->s, "00", &got), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

/* Listings newest first; close and open the same location: all still there. */
static void
case_list_reopen(void **state)
{
	struct fixture *f = *state;
	struct oc_store_request q;
	struct seen *s = calloc(1, sizeof(*s));
	uint32_t ids[5];
	char serial[40];

	assert_non_null(s);
	for (int i = 0; i < 5; i++) {
		snprintf(serial, sizeof(serial), "100000000000000%d", i);
		if (i < 3)
			ids[i] = issue(f->s, serial, "alice", "User", 1800000000);
		else
			assert_int_equal(oc_store_request_new(f->s, "alice", "User", csr1,
			    sizeof(csr1), &ids[i]), OC_OK);
	}
	assert_int_equal(oc_store_request_list(f->s, 0, req_cb, s), OC_OK);
	assert_int_equal(s->n, 5);
	/* newest first (ties within one second: by insertion in PostgreSQL only) */
	if (f->pg)
		assert_int_equal(s->ids[0], ids[4]);
	memset(s, 0, sizeof(*s));
	assert_int_equal(oc_store_request_list(f->s, 2, req_cb, s), OC_OK);
	assert_int_equal(s->n, 2);
	memset(s, 0, sizeof(*s));
	assert_int_equal(oc_store_cert_list(f->s, 0, cert_cb, s), OC_OK);
	assert_int_equal(s->n, 3);
	assert_string_equal(s->first, "1000000000000002");
	assert_int_equal(oc_store_audit(f->s, "issue", "alice", "serial=1"), OC_OK);

	oc_store_close(f->s);
	f->s = NULL;
	assert_int_equal(oc_store_open_url(f->loc, &f->s), OC_OK);
	assert_int_equal(oc_store_check(f->s), OC_OK);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(oc_store_request_get(f->s, ids[i], &q), OC_OK);
		assert_int_equal(q.status, i < 3 ? OC_REQ_STATUS_ISSUED : OC_REQ_STATUS_PENDING);
		oc_store_request_clear(&q);
	}
	assert_int_equal(raw(f, "SELECT count(*) FROM audit WHERE event = 'issue'"), 1);
	free(s);
}

/* Group commit: seen by others only after the commit; a failed write undoes itself. */
static void
case_batch(void **state)
{
	struct fixture *f = *state;
	struct oc_store *other = NULL;
	struct oc_store_cert c;
	struct oc_store_request q;
	uint32_t a, b, gone;

	assert_int_equal(oc_store_open_url(f->loc, &other), OC_OK);
	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	assert_int_equal(oc_store_batch_begin(f->s), OC_ERR_INVALID);      /* no nesting */
	a = issue(f->s, "0e01", "alice", "User", 1800000000);
	assert_int_equal(oc_store_request_new(f->s, "bob", "User", csr1, sizeof(csr1), &b), OC_OK);
	fill_cert(&c, "0e01", "bob", "User", 1800000000);
	assert_int_equal(oc_store_cert_issue(f->s, b, &c, "Issued"), OC_ERR_EXISTS);
	fill_cert(&c, "0e09", "alice", "User", 1800000000);
	assert_int_equal(oc_store_cert_issue(f->s, a, &c, "Issued"), OC_ERR_INVALID);
	assert_false(serial_exists(f->s, "0e09"));
	fill_cert(&c, "0e02", "bob", "User", 1800000000);
	assert_int_equal(oc_store_cert_issue(f->s, b, &c, "Issued"), OC_OK);
	assert_int_equal(oc_store_audit(f->s, "issue", "bob", "serial=0e02"), OC_OK);
	assert_true(request_exists(f->s, a));
	assert_false(request_exists(other, a));
	assert_false(serial_exists(other, "0e02"));
	assert_int_equal(oc_store_batch_commit(f->s), OC_OK);
	assert_int_equal(oc_store_batch_commit(f->s), OC_ERR_INVALID);
	assert_int_equal(oc_store_request_get(other, b, &q), OC_OK);
	assert_int_equal(q.status, OC_REQ_STATUS_ISSUED);
	assert_string_equal(q.serial_hex, "0e02");
	oc_store_request_clear(&q);
	assert_false(serial_exists(other, "0e09"));

	/* rolled back, or lost with the handle: nothing of it stays */
	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	gone = issue(f->s, "0c01", "alice", "User", 1800000000);
	oc_store_batch_rollback(f->s);
	oc_store_batch_rollback(f->s);
	assert_false(request_exists(f->s, gone));
	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	gone = issue(f->s, "0d01", "alice", "User", 1800000000);
	oc_store_close(f->s);
	assert_int_equal(oc_store_open_url(f->loc, &f->s), OC_OK);
	assert_false(request_exists(other, gone));
	assert_false(serial_exists(other, "0d01"));
	/* after a batch, writes commit one by one again */
	a = issue(f->s, "0b01", "alice", "User", 1800000000);
	assert_true(request_exists(other, a));
	assert_int_equal(oc_store_check(other), OC_OK);
	oc_store_close(other);
}

static void
case_revoke(void **state)
{
	struct fixture *f = *state;
	int revoked = -1, reason = -1;
	time_t at = 0;

	issue(f->s, "0a", "alice", "User", 1900000000);
	issue(f->s, "0b", "alice", "User", 1900000000);
	/* serial forms: any case, colons, odd length */
	assert_int_equal(oc_store_cert_revoke(f->s, "0A", OC_CRL_SUPERSEDED, 1000), OC_OK);
	assert_int_equal(oc_store_cert_status(f->s, "a", &revoked, &reason, &at), OC_OK);
	assert_int_equal(revoked, 1);
	assert_int_equal(reason, OC_CRL_SUPERSEDED);
	assert_int_equal(at, 1000);
	assert_int_equal(oc_store_cert_revoke(f->s, "0a", OC_CRL_KEY_COMPROMISE, 0), OC_ERR_EXISTS);
	assert_int_equal(oc_store_cert_revoke(f->s, "0b", 7, 0), OC_ERR_INVALID);
	assert_int_equal(oc_store_cert_revoke(f->s, "0b", OC_CRL_REMOVE_FROM_CRL, 0),
	    OC_ERR_INVALID);
	assert_int_equal(oc_store_cert_revoke(f->s, "0c", OC_CRL_SUPERSEDED, 0), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_cert_revoke(f->s, "zz", OC_CRL_SUPERSEDED, 0), OC_ERR_INVALID);
	/* hold, released, held again, then a final reason */
	assert_int_equal(oc_store_cert_unrevoke(f->s, "0b"), OC_ERR_INVALID);
	assert_int_equal(oc_store_cert_unrevoke(f->s, "0a"), OC_ERR_DENIED);
	assert_int_equal(oc_store_cert_revoke(f->s, "0b", OC_CRL_CERTIFICATE_HOLD, 2000), OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, "0b", OC_CRL_CERTIFICATE_HOLD, 0),
	    OC_ERR_EXISTS);
	assert_int_equal(oc_store_cert_unrevoke(f->s, "0b"), OC_OK);
	assert_int_equal(oc_store_cert_status(f->s, "0b", &revoked, &reason, &at), OC_OK);
	assert_int_equal(revoked, 0);
	assert_int_equal(oc_store_cert_revoke(f->s, "0b", OC_CRL_CERTIFICATE_HOLD, 3000), OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, "0b", OC_CRL_CESSATION_OF_OPERATION, 4000),
	    OC_OK);
	assert_int_equal(oc_store_cert_status(f->s, "0b", &revoked, &reason, &at), OC_OK);
	assert_int_equal(reason, OC_CRL_CESSATION_OF_OPERATION);
	assert_int_equal(oc_store_cert_status(f->s, "0c", &revoked, NULL, NULL), OC_ERR_NOT_FOUND);
	assert_int_equal(raw(f, "SELECT count(*) FROM audit WHERE event = 'revoke'"), 4);
	assert_int_equal(raw(f, "SELECT count(*) FROM audit WHERE event = 'unrevoke'"), 1);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

static void
case_approve_deny(void **state)
{
	struct fixture *f = *state;
	struct oc_store_request q;
	uint32_t a = 0, d = 0;

	assert_int_equal(oc_store_request_new(f->s, "alice", "Approval", csr1, sizeof(csr1), &a),
	    OC_OK);
	assert_int_equal(oc_store_request_new(f->s, "bob", "Approval", csr1, sizeof(csr1), &d),
	    OC_OK);
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
	oc_store_request_clear(&q);
	assert_int_equal(raw(f, "SELECT count(*) FROM audit WHERE event = 'approve' AND "
	    "actor = 'root (sudo: carol)'"), 1);
	assert_int_equal(raw(f, "SELECT count(*) FROM audit WHERE event = 'admin_deny'"), 1);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

static void
case_filters(void **state)
{
	struct fixture *f = *state;
	struct oc_store_request_filter rf;
	struct oc_store_cert_filter cf;
	struct seen *s = calloc(1, sizeof(*s));
	uint32_t id = 0;
	static const struct {
		const char *req, *tmpl;
		time_t before;
		int revoked;
		size_t n;
	} t[] = {
		{ NULL, NULL, 0, 0, 3 },
		{ "alice", NULL, 0, 0, 2 },
		{ NULL, "webserver", 0, 0, 2 },
		{ "alice", "WebServer", 0, 0, 1 },
		{ NULL, NULL, 1800000001, 0, 2 },
		{ NULL, NULL, 1750000000, 0, 0 },
		{ NULL, NULL, 0, 1, 1 },
		{ NULL, NULL, 0, -1, 2 },
	};

	assert_non_null(s);
	issue(f->s, "01", "alice", "User", 1800000000);
	issue(f->s, "02", "bob", "WebServer", 1750000000);
	issue(f->s, "03", "alice", "WebServer", 1900000000);
	assert_int_equal(oc_store_request_new(f->s, "carol", "Approval", csr1, sizeof(csr1), &id),
	    OC_OK);
	memset(&rf, 0, sizeof(rf));
	rf.status = OC_REQ_STATUS_PENDING;
	assert_int_equal(oc_store_request_find(f->s, &rf, 0, req_cb, s), OC_OK);
	assert_int_equal(s->n, 1);
	assert_string_equal(s->first, "carol");
	rf.status = OC_REQ_STATUS_ISSUED;
	rf.requester = "alice";
	memset(s, 0, sizeof(*s));
	assert_int_equal(oc_store_request_find(f->s, &rf, 0, req_cb, s), OC_OK);
	assert_int_equal(s->n, 2);
	assert_int_equal(oc_store_cert_revoke(f->s, "02", OC_CRL_KEY_COMPROMISE, 0), OC_OK);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&cf, 0, sizeof(cf));
		cf.requester = t[i].req;
		cf.template_name = t[i].tmpl;
		cf.expires_before = t[i].before;
		cf.revoked = t[i].revoked;
		memset(s, 0, sizeof(*s));
		assert_int_equal(oc_store_cert_find(f->s, &cf, 0, cert_cb, s), OC_OK);
		if (s->n != t[i].n)
			fail_msg("filter %zu: %zu rows, want %zu", i, s->n, t[i].n);
	}
	free(s);
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

/* Stops after the first entry: the listing returns its error. */
static int
entry_stop(const struct oc_store_crl_entry *e, void *arg)
{
	(void)e;
	++*(int *)arg;
	return OC_ERR_LIMIT;
}

static void
case_crl(void **state)
{
	struct fixture *f = *state;
	struct oc_store_crl_info i, last;
	static const uint8_t der[] = { 0x30, 0x00, 0xff };
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
	/* a callback's error ends the listing; the handle works on */
	req = 0;
	assert_int_equal(oc_store_crl_entries(f->s, 0, 1, entry_stop, &req), OC_ERR_LIMIT);
	assert_int_equal(req, 1);
	req = 0;
	memset(&i, 0, sizeof(i));
	i.number = 1;
	i.this_update = time(NULL) - 5;
	i.next_update = i.this_update + 86400;
	i.entries = 2;
	assert_int_equal(oc_store_crl_record(f->s, &i, der, sizeof(der)), OC_OK);
	assert_int_equal(oc_store_crl_record(f->s, &i, der, sizeof(der)), OC_ERR_EXISTS);
	i.number = 5;
	assert_int_equal(oc_store_crl_record(f->s, &i, der, sizeof(der)), OC_ERR_EXISTS);
	/* after the base: 0b released from hold (removeFromCRL in a delta), 0c revoked */
	assert_int_equal(oc_store_cert_unrevoke(f->s, "0b"), OC_OK);
	assert_int_equal(oc_store_cert_revoke(f->s, "0c", OC_CRL_KEY_COMPROMISE, 0), OC_OK);
	memset(&e, 0, sizeof(e));
	assert_int_equal(oc_store_crl_entries(f->s, 3000, 1, entry_cb, &e), OC_OK);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.line[0], "0b 8");
	assert_string_equal(e.line[1], "0c 1");
	memset(&e, 0, sizeof(e));
	assert_int_equal(oc_store_crl_entries(f->s, 0, 1, entry_cb, &e), OC_OK);
	assert_int_equal(e.n, 2);
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
	/* the on-demand flag: raised twice, taken once */
	assert_int_equal(oc_store_crl_take_request(f->s, &req), OC_OK);
	assert_int_equal(req, 0);
	assert_int_equal(oc_store_crl_request(f->s, "root", 0), OC_ERR_INVALID);
	assert_int_equal(oc_store_crl_request(f->s, "root", OC_STORE_CRL_ASK_DELTA), OC_OK);
	assert_int_equal(oc_store_crl_request(f->s, "root", OC_STORE_CRL_ASK_FULL), OC_OK);
	assert_int_equal(oc_store_crl_take_request(f->s, &req), OC_OK);
	assert_int_equal(req, OC_STORE_CRL_ASK_FULL | OC_STORE_CRL_ASK_DELTA);
	assert_int_equal(oc_store_crl_take_request(f->s, &req), OC_OK);
	assert_int_equal(req, 0);
	assert_int_equal(raw(f, "SELECT count(*) FROM audit WHERE event = 'crl_publish_request'"),
	    2);
	/* the newest OC_STORE_CRLS_KEPT kept, the numbers go on */
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
	assert_int_equal(raw(f, "SELECT count(*) FROM crls"), OC_STORE_CRLS_KEPT);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

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
	fp2[3] = 0;     /* a NUL inside: binary, not text */
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
	/* the newest of two with the same fingerprint (a second later: times are seconds) */
	sleep(1);
	assert_int_equal(oc_store_request_new_fp(f->s, "alice", "User", csr1, sizeof(csr1), fp1,
	    &d), OC_OK);
	assert_int_equal(oc_store_request_by_fp(f->s, fp1, 0, &q), OC_OK);
	assert_int_equal(q.request_id, d);
	oc_store_request_clear(&q);
	/* all submitted before since: none */
	assert_int_equal(oc_store_request_by_fp(f->s, fp1, now + 3600, &q), OC_ERR_NOT_FOUND);
	fp1[0] ^= 1;
	assert_int_equal(oc_store_request_by_fp(f->s, fp1, 0, &q), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_store_request_by_fp(f->s, NULL, 0, &q), OC_ERR_INVALID);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

/* Break an invariant behind the store's back: oc_store_check notices. */
static void
case_check_detects(void **state)
{
	struct fixture *f = *state;
	char sql[128];
	uint32_t id;

	id = issue(f->s, "22", "alice", "User", 1800000000);
	issue(f->s, "23", "alice", "User", 1800000000);
	assert_int_equal(oc_store_check(f->s), OC_OK);
	snprintf(sql, sizeof(sql), "DELETE FROM certificates WHERE request_id = %u", id);
	assert_int_equal(raw(f, sql), 0);
	assert_int_equal(oc_store_check(f->s), OC_ERR_STORE);
	snprintf(sql, sizeof(sql), "UPDATE requests SET status = 1, serial = NULL "
	    "WHERE request_id = %u", id);
	assert_int_equal(raw(f, sql), 0);
	assert_int_equal(oc_store_check(f->s), OC_OK);
	assert_int_equal(raw(f, "UPDATE certificates SET revoked = 1 WHERE serial = '23'"), 0);
	assert_int_equal(oc_store_check(f->s), OC_ERR_STORE);
}

/* Three migration steps; a store written by a newer program is refused. */
static void
case_schema_version(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(raw(f, "SELECT count(*) FROM schema_version"), 3);
	assert_int_equal(raw(f, "SELECT max(version) FROM schema_version"), 3);
	oc_store_close(f->s);
	f->s = NULL;
	assert_int_equal(raw(f, f->pg ? "INSERT INTO schema_version VALUES (99, 0)" :
	    "PRAGMA user_version = 99"), 0);
	assert_int_equal(oc_store_open_url(f->loc, &f->s), OC_ERR_STORE);
	assert_null(f->s);
}

/*
 * Two processes, each with its own handle, issue at once: half the time in
 * batches, both trying the same serials first (the loser draws another).
 */
#define CONC_N 200

static int
conc_child(const char *loc, int k)
{
	struct oc_store *s = NULL;
	struct oc_store_cert c;
	char serial[40];
	uint32_t id;
	int r;

	if (oc_store_open_url(loc, &s) != OC_OK)
		return 1;
	for (int i = 0; i < CONC_N; i++) {
		if (i % 20 == 0 && i >= CONC_N / 2 && oc_store_batch_begin(s) != OC_OK)
			return 2;
		if (oc_store_request_new(s, k ? "bob" : "alice", "User", csr1, sizeof(csr1), &id) !=
		    OC_OK)
			return 3;
		snprintf(serial, sizeof(serial), "%04x", i);
		for (int attempt = 0;; attempt++) {
			fill_cert(&c, serial, k ? "bob" : "alice", "User", 1800000000);
			r = oc_store_cert_issue(s, id, &c, "Issued");
			if (r == OC_OK)
				break;
			if (r != OC_ERR_EXISTS || attempt > 3)
				return 4;
			snprintf(serial, sizeof(serial), "%02x%04x%06x", k + 1, i, attempt);
		}
		if (oc_store_audit(s, "issue", k ? "bob" : "alice", serial) != OC_OK)
			return 5;
		if (i % 20 == 19 && i >= CONC_N / 2 && oc_store_batch_commit(s) != OC_OK)
			return 6;
	}
	oc_store_close(s);
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void
case_concurrent(void **state)
{
	struct fixture *f = *state;
	struct seen *s = calloc(1, sizeof(*s));
	pid_t pid[2];
	int status;

	assert_non_null(s);
	for (int k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0)
			_exit(conc_child(f->loc, k));
	}
	for (int k = 0; k < 2; k++) {
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d: status %d", k, status);
	}
	assert_int_equal(oc_store_request_list(f->s, 0, req_cb, s), OC_OK);
	assert_int_equal(s->n, 2 * CONC_N);
	qsort(s->ids, s->n, sizeof(s->ids[0]), cmp_u32);
	for (size_t i = 1; i < s->n; i++)
		assert_int_not_equal(s->ids[i], s->ids[i - 1]);
	memset(s, 0, sizeof(*s));
	assert_int_equal(oc_store_cert_list(f->s, 0, cert_cb, s), OC_OK);
	assert_int_equal(s->n, 2 * CONC_N);
	qsort(s->serials, s->n, sizeof(s->serials[0]), cmp_str);
	for (size_t i = 1; i < s->n; i++)
		assert_string_not_equal(s->serials[i], s->serials[i - 1]);
	assert_int_equal(raw(f, "SELECT count(*) FROM requests WHERE status = 2"), 2 * CONC_N);
	assert_int_equal(raw(f, "SELECT count(*) FROM audit"), 2 * CONC_N);
	assert_int_equal(oc_store_check(f->s), OC_OK);
	free(s);
}

/*
 * Two CA nodes publish CRLs at the same moments: each takes the next number
 * and records; a number taken meanwhile is OC_ERR_EXISTS and the node takes
 * the next. No number is recorded twice, none is skipped.
 */
#define CRL_N 15

static int
crl_child(const char *loc)
{
	static const uint8_t der[] = { 0x30, 0x00 };
	struct oc_store_crl_info i;
	struct oc_store *s = NULL;
	int r = OC_ERR_EXISTS;

	if (oc_store_open_url(loc, &s) != OC_OK)
		return 1;
	for (int k = 0; k < CRL_N; k++) {
		for (int attempt = 0; attempt < 50; attempt++) {
			memset(&i, 0, sizeof(i));
			if (oc_store_crl_next_number(s, &i.number) != OC_OK)
				return 2;
			i.this_update = 1000 + k;
			i.next_update = 9000;
			if ((r = oc_store_crl_record(s, &i, der, sizeof(der))) != OC_ERR_EXISTS)
				break;
		}
		if (r != OC_OK)
			return 3;
	}
	oc_store_close(s);
	return 0;
}

static void
case_crl_concurrent(void **state)
{
	struct fixture *f = *state;
	uint64_t n = 0;
	pid_t pid[2];
	int status;

	for (int k = 0; k < 2; k++) {
		pid[k] = fork();
		assert_true(pid[k] >= 0);
		if (pid[k] == 0)
			_exit(crl_child(f->loc));
	}
	for (int k = 0; k < 2; k++) {
		assert_int_equal(waitpid(pid[k], &status, 0), pid[k]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("child %d: status %d", k, status);
	}
	assert_int_equal(raw(f, "SELECT count(DISTINCT number) FROM crls"), 2 * CRL_N);
	assert_int_equal(raw(f, "SELECT max(number) FROM crls"), 2 * CRL_N);
	assert_int_equal(oc_store_crl_next_number(f->s, &n), OC_OK);
	assert_int_equal(n, 2 * CRL_N + 1);
}

/* PostgreSQL: a lost connection gets one reconnect; an open batch is gone with it. */
static void
case_reconnect(void **state)
{
	struct fixture *f = *state;
	static const char *kill_others = "SELECT count(pg_terminate_backend(pid)) FROM "
	    "pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
	struct oc_store_request q;
	char cmd[700];
	uint32_t a, b, c;

	a = issue(f->s, "01", "alice", "User", 1800000000);
	assert_int_equal(raw(f, kill_others), 1);
	/* a read: sent again on the new connection */
	assert_int_equal(oc_store_request_get(f->s, a, &q), OC_OK);
	oc_store_request_clear(&q);
	/* a batch cut short: its writes fail, its commit fails, nothing of it is stored */
	assert_int_equal(oc_store_batch_begin(f->s), OC_OK);
	assert_int_equal(oc_store_request_new(f->s, "bob", "User", csr1, sizeof(csr1), &b), OC_OK);
	assert_int_equal(raw(f, kill_others), 1);
	assert_int_equal(oc_store_request_new(f->s, "bob", "User", csr1, sizeof(csr1), &c),
	    OC_ERR_STORE);
	assert_int_equal(oc_store_batch_commit(f->s), OC_ERR_STORE);
	assert_false(request_exists(f->s, b));
	/* a write outside a transaction is not sent twice: an error, then it works again */
	assert_int_equal(raw(f, kill_others), 1);
	assert_int_equal(oc_store_audit(f->s, "x", NULL, NULL), OC_ERR_STORE);
	assert_int_equal(oc_store_audit(f->s, "x", NULL, NULL), OC_OK);
	issue(f->s, "02", "alice", "User", 1800000000);
	assert_int_equal(oc_store_check(f->s), OC_OK);

	/* the server restarts: calls fail while it is down, then the store is back */
	snprintf(cmd, sizeof(cmd), "'%s' stop %s", script(), pg_dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(oc_store_request_get(f->s, a, &q), OC_ERR_STORE);
	assert_int_equal(oc_store_request_new(f->s, "bob", "User", csr1, sizeof(csr1), &c),
	    OC_ERR_STORE);
	snprintf(cmd, sizeof(cmd), "'%s' start %s $(cat %s/port)", script(), pg_dir, pg_dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(oc_store_request_get(f->s, a, &q), OC_OK);
	oc_store_request_clear(&q);
	issue(f->s, "03", "alice", "User", 1800000000);
	assert_int_equal(oc_store_check(f->s), OC_OK);
}

/* What is logged of a location: never a password. */
static void
test_url_redact(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		{ "postgresql://ca@db.example:5432/opences",
		  "postgresql://ca@db.example:5432/opences" },
		{ "postgresql://ca:s3cret@db:5432/opences?sslmode=verify-full",
		  "postgresql://ca:***@db:5432/opences?sslmode=verify-full" },
		{ "postgres://ca:p%40ss@db/x?password=other&sslmode=require",
		  "postgres://ca:***@db/x?password=***&sslmode=require" },
		{ "postgresql:///x?host=/run/pg&password=s",
		  "postgresql:///x?host=/run/pg&password=***" },
		{ "postgresql://db/x?mypassword=a", "postgresql://db/x?mypassword=a" },
		{ "/var/lib/opences/ca.db", "/var/lib/opences/ca.db" },
	};
	char out[128];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		oc_store_url_redact(t[i].in, out, sizeof(out));
		assert_string_equal(out, t[i].out);
	}
	oc_store_url_redact("postgresql://ca:s3cret@db/x", out, 20);
	assert_string_equal(out, "postgresql://ca:***");
	assert_true(oc_store_url_is_pg("POSTGRESQL://x"));
	assert_false(oc_store_url_is_pg("sqlite:/x"));
}

#define BOTH(fn) \
	{ #fn "/sqlite", fn, setup_sqlite, teardown, NULL }, \
	{ #fn "/postgresql", fn, setup_pg, teardown, NULL }

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_redact),
		BOTH(case_request_ids),
		BOTH(case_request_resolve),
		BOTH(case_cert_issue),
		BOTH(case_list_reopen),
		BOTH(case_batch),
		BOTH(case_revoke),
		BOTH(case_approve_deny),
		BOTH(case_filters),
		BOTH(case_crl),
		BOTH(case_fingerprint),
		BOTH(case_check_detects),
		BOTH(case_schema_version),
		BOTH(case_concurrent),
		BOTH(case_crl_concurrent),
		{ "case_reconnect/postgresql", case_reconnect, setup_pg, teardown, NULL },
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
