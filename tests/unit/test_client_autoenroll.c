/*
 * opences autoenroll: the decisions over a fake clock (missing -> enroll,
 * valid -> nothing, renewal window -> renew, superseded -> replace, failures
 * -> back-off), the state file (round trip and refusals), store file names,
 * which policy templates are autoenrolled, and the command line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/autoenroll.h"
#include "model/template.h"

int main(void);

#define T0 1700000000LL                 /* the fake clock's origin */
#define HOUR 3600LL
#define DAY (24 * HOUR)

/* An entry holding a certificate valid [nb, na], failures, next attempt. */
static struct client_ae_entry
entry(const char *cn, int64_t nb, int64_t na, uint32_t failures, int64_t next)
{
	struct client_ae_entry e;

	memset(&e, 0, sizeof(e));
	e.template_name = (char *)(uintptr_t)cn;
	if (na > 0) {
		e.key_file = (char *)"x.key";
		e.cert_file = (char *)"x.pem";
	}
	e.not_before = nb;
	e.not_after = na;
	e.failures = failures;
	e.next_attempt = next;
	return e;
}

/* ------------------------------------------------------------------ */

static void
test_decide(void **state)
{
	static const struct {
		const char *name;
		int has_entry;
		int64_t nb, na;          /* relative to T0; na 0 = no certificate */
		uint32_t failures;
		int64_t next_attempt;    /* relative to T0, 0 = none */
		uint64_t renewal;
		int64_t now;             /* relative to T0 */
		enum client_ae_action want;
		int64_t want_next;       /* relative to T0; INT64_MAX = none */
	} tab[] = {
		{ "missing -> enroll", 0, 0, 0, 0, 0, 42 * DAY, 0, CLIENT_AE_ENROLL, INT64_MAX },
		{ "entry without certificate (pending answered) -> enroll", 1, 0, 0, 0, 0, 42 * DAY,
		  0, CLIENT_AE_ENROLL, INT64_MAX },
		{ "valid, a year, 6 weeks window -> nothing until window",
		  1, 0, 365 * DAY, 0, 0, 42 * DAY, 10 * DAY, CLIENT_AE_NOTHING, (365 - 42) * DAY },
		{ "one second before the window -> nothing",
		  1, 0, 365 * DAY, 0, 0, 42 * DAY, (365 - 42) * DAY - 1, CLIENT_AE_NOTHING,
		  (365 - 42) * DAY },
		{ "at the window -> renew", 1, 0, 365 * DAY, 0, 0, 42 * DAY, (365 - 42) * DAY,
		  CLIENT_AE_RENEW, INT64_MAX },
		{ "in the window -> renew", 1, 0, 365 * DAY, 0, 0, 42 * DAY, 360 * DAY,
		  CLIENT_AE_RENEW, INT64_MAX },
		{ "expired -> enroll (the CA refuses to renew it)", 1, 0, 365 * DAY, 0, 0, 42 * DAY,
		  365 * DAY, CLIENT_AE_ENROLL, INT64_MAX },
		{ "e2e template: 40 s (+300 s backdate), 30 s window", 1, -300, 40, 0, 0, 30, 9,
		  CLIENT_AE_NOTHING, 10 },
		{ "e2e template at +10 s -> renew", 1, -300, 40, 0, 0, 30, 10, CLIENT_AE_RENEW,
		  INT64_MAX },
		{ "no renewal period: 80% of the lifetime", 1, 0, 100 * DAY, 0, 0, 0, 79 * DAY,
		  CLIENT_AE_NOTHING, 80 * DAY },
		{ "period longer than the lifetime: 80%", 1, 0, 10 * DAY, 0, 0, 42 * DAY, 8 * DAY,
		  CLIENT_AE_RENEW, INT64_MAX },
		{ "failed renewal, back-off running -> wait", 1, 0, 365 * DAY, 2, 360 * DAY + 60,
		  42 * DAY, 360 * DAY, CLIENT_AE_WAIT, 360 * DAY + 60 },
		{ "failed renewal, back-off over -> renew again", 1, 0, 365 * DAY, 2, 360 * DAY + 60,
		  42 * DAY, 360 * DAY + 60, CLIENT_AE_RENEW, INT64_MAX },
		{ "renewals keep failing -> enroll anew", 1, 0, 365 * DAY, CLIENT_AE_RENEW_TRIES,
		  360 * DAY, 42 * DAY, 360 * DAY, CLIENT_AE_ENROLL, INT64_MAX },
		{ "failed enrollment, back-off running -> wait", 1, 0, 0, 1, 30, 0, 10,
		  CLIENT_AE_WAIT, 30 },
		{ "failed enrollment, back-off over -> enroll", 1, 0, 0, 1, 30, 0, 30,
		  CLIENT_AE_ENROLL, INT64_MAX },
		{ "pending: wait (no failure, a next attempt)", 1, 0, 0, 0, 8 * HOUR, 0, HOUR,
		  CLIENT_AE_WAIT, 8 * HOUR },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct client_ae_entry e = entry("A", T0 + tab[i].nb,
		    tab[i].na ? T0 + tab[i].na : 0, tab[i].failures,
		    tab[i].next_attempt ? T0 + tab[i].next_attempt : 0);
		int64_t next = 0;
		enum client_ae_action a = client_ae_decide(tab[i].has_entry ? &e : NULL,
		    tab[i].renewal, T0 + tab[i].now, &next);

		if (a != tab[i].want || next != (tab[i].want_next == INT64_MAX ? INT64_MAX :
		    T0 + tab[i].want_next)) {
			print_error("%s: got %s next %lld, want %s next %lld\n", tab[i].name,
			    client_ae_action_name(a), (long long)(next - T0),
			    client_ae_action_name(tab[i].want), (long long)tab[i].want_next);
			fail();
		}
	}
}

static void
test_backoff(void **state)
{
	static const struct {
		uint32_t failures;
		int64_t want;
	} tab[] = {
		{ 0, 0 }, { 1, 30 }, { 2, 60 }, { 3, 120 }, { 4, 240 }, { 8, 3840 },
		{ 10, 15360 }, { 11, CLIENT_AE_BACKOFF_MAX }, { 40, CLIENT_AE_BACKOFF_MAX },
		{ UINT32_MAX, CLIENT_AE_BACKOFF_MAX },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (client_ae_backoff(tab[i].failures) != tab[i].want) {
			print_error("failures %u: %lld want %lld\n", tab[i].failures,
			    (long long)client_ae_backoff(tab[i].failures), (long long)tab[i].want);
			fail();
		}
	}
	/* monotonic and bounded */
	for (uint32_t f = 1; f < 100; f++)
		assert_true(client_ae_backoff(f) >= client_ae_backoff(f - 1) &&
		    client_ae_backoff(f) <= CLIENT_AE_BACKOFF_MAX);
}

/* ------------------------------------------------------------------ */
/* Plans: superseded templates */

static void
test_plan_superseded(void **state)
{
	struct oc_strlist sup_new = { 0 };
	struct client_ae_entry ev[3];
	struct client_ae_state st;
	struct client_ae_step *steps = NULL;
	size_t n = 0;
	int64_t next = 0, now = T0 + 100 * DAY;
	struct client_ae_tpl tpls[2];
	static const struct {
		const char *name;
		int managed_old;         /* Old still has the autoEnroll right */
		int new_entry;           /* 0 none, 1 valid, 2 expired */
		int old_in_window;
		enum client_ae_action want_old, want_new;  /* want_old NOTHING: no step */
	} tab[] = {
		{ "new missing: enroll it, Old left to lapse", 1, 0, 0, CLIENT_AE_SKIP, CLIENT_AE_ENROLL },
		{ "new missing, Old in its window: not renewed", 1, 0, 1, CLIENT_AE_SKIP,
		  CLIENT_AE_ENROLL },
		{ "new held: Old retired", 1, 1, 0, CLIENT_AE_RETIRE, CLIENT_AE_NOTHING },
		{ "new expired: re-enroll it, Old kept", 1, 2, 0, CLIENT_AE_SKIP, CLIENT_AE_ENROLL },
		{ "Old no longer managed, new held: retired", 0, 1, 0, CLIENT_AE_RETIRE,
		  CLIENT_AE_NOTHING },
		{ "Old no longer managed, new missing: left alone", 0, 0, 0, CLIENT_AE_NOTHING,
		  CLIENT_AE_ENROLL },
	};

	(void)state;
	assert_int_equal(oc_strlist_add(&sup_new, "old"), OC_OK);  /* case-insensitive */
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		enum client_ae_action got_old = CLIENT_AE_NOTHING, got_new = CLIENT_AE_NOTHING;
		size_t nt = 0;

		memset(tpls, 0, sizeof(tpls));
		tpls[nt].cn = "New";
		tpls[nt].renewal_seconds = 42 * DAY;
		tpls[nt++].superseded = &sup_new;
		if (tab[i].managed_old) {
			tpls[nt].cn = "Old";
			tpls[nt++].renewal_seconds = 42 * DAY;
		}
		st.v = ev;
		st.n = 0;
		ev[st.n++] = entry("Old", T0, T0 + (tab[i].old_in_window ? 101 : 365) * DAY, 0, 0);
		if (tab[i].new_entry)
			ev[st.n++] = entry("New", T0, T0 + (tab[i].new_entry == 1 ? 365 : 50) * DAY,
			    0, 0);
		assert_int_equal(client_ae_plan(tpls, nt, &st, now, &steps, &n, &next), OC_OK);
		for (size_t k = 0; k < n; k++) {
			const char *cn = steps[k].entry != CLIENT_AE_NONE ?
			    st.v[steps[k].entry].template_name : tpls[steps[k].tpl].cn;
			if (strcmp(cn, "Old") == 0) {
				got_old = steps[k].action;
				if (got_old == CLIENT_AE_RETIRE || got_old == CLIENT_AE_SKIP)
					assert_string_equal(tpls[steps[k].by].cn, "New");
			} else
				got_new = steps[k].action;
		}
		if (got_old != tab[i].want_old || got_new != tab[i].want_new) {
			print_error("%s: Old %s New %s\n", tab[i].name, client_ae_action_name(got_old),
			    client_ae_action_name(got_new));
			fail();
		}
		free(steps);
		steps = NULL;
	}
	oc_strlist_free(&sup_new);
}

static void
test_plan_next(void **state)
{
	struct client_ae_entry ev[2];
	struct client_ae_state st = { ev, 2 };
	struct client_ae_tpl tpls[3] = {
		{ "A", 30 * DAY, NULL }, { "B", 10 * DAY, NULL }, { "C", 0, NULL },
	};
	struct client_ae_step *steps = NULL;
	size_t n = 0;
	int64_t next = 0;

	(void)state;
	ev[0] = entry("A", T0, T0 + 100 * DAY, 0, 0);    /* renew at +70 d */
	ev[1] = entry("b", T0, T0 + 100 * DAY, 0, 0);    /* renew at +90 d */
	/* C missing: enrolled now; the next pass is due at A's window */
	assert_int_equal(client_ae_plan(tpls, 3, &st, T0 + DAY, &steps, &n, &next), OC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(steps[0].action, CLIENT_AE_NOTHING);
	assert_int_equal(steps[1].action, CLIENT_AE_NOTHING);
	assert_int_equal(steps[1].entry, 1);
	assert_int_equal(steps[2].action, CLIENT_AE_ENROLL);
	assert_int_equal(steps[2].entry, CLIENT_AE_NONE);
	assert_true(next == T0 + 70 * DAY);
	free(steps);
	/* a back-off earlier than any window wins */
	ev[1].failures = 1;
	ev[1].next_attempt = T0 + DAY + 30;
	assert_int_equal(client_ae_plan(tpls, 2, &st, T0 + DAY, &steps, &n, &next), OC_OK);
	assert_int_equal(steps[1].action, CLIENT_AE_WAIT);
	assert_true(next == T0 + DAY + 30);
	free(steps);
	/* nothing managed, nothing stored */
	assert_int_equal(client_ae_plan(NULL, 0, NULL, T0, &steps, &n, &next), OC_OK);
	assert_null(steps);
	assert_int_equal(n, 0);
	assert_true(next == INT64_MAX);
}

/* ------------------------------------------------------------------ */
/* What the planner reads from the policy (xcep.md 8.2) */

static void
test_policy_fields(void **state)
{
	static const struct {
		const char *cn;
		uint64_t renewal;
		const char *superseded;  /* NULL: none */
		int eligible;
	} tab[] = {
		{ "EFS", 3628800, NULL, 0 },              /* no autoEnroll permission */
		{ "ComputerCNG", 3628800, "Machine", 1 }, /* autoEnroll, flags 32 */
	};
	const char *dir = getenv("OC_VECTORS");
	char path[1024];
	uint8_t *data = NULL;
	size_t len = 0;
	struct client_policy pol;

	(void)state;
	memset(&pol, 0, sizeof(pol));
	snprintf(path, sizeof(path), "%s/client/xcep_8_2_full_policy.xml",
	    dir ? dir : "tests/vectors");
	assert_int_equal(oc_file_read(path, &data, &len, OC_CLIENT_RESPONSE_MAX), OC_OK);
	assert_int_equal(client_policy_parse(data, len, &pol), OC_OK);
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		const struct client_template *t = client_policy_find(&pol, tab[i].cn);

		assert_non_null(t);
		assert_true(t->renewal_seconds == tab[i].renewal);
		if (tab[i].superseded == NULL)
			assert_int_equal(t->superseded.n, 0);
		else {
			assert_int_equal(t->superseded.n, 1);
			assert_string_equal(t->superseded.v[0], tab[i].superseded);
		}
		assert_int_equal(client_ae_ineligible(t) == NULL, tab[i].eligible);
	}
	client_policy_clear(&pol);
	free(data);
}

/* ------------------------------------------------------------------ */
/* Eligibility */

static void
test_ineligible(void **state)
{
	static const struct {
		int enroll, autoenroll;
		uint32_t eflags, nflags;
		int ok;
	} tab[] = {
		{ 1, 1, OC_CT_ENROLL_AUTO_ENROLLMENT, 0xa6000000u, 1 },
		{ 1, 1, OC_CT_ENROLL_AUTO_ENROLLMENT | OC_CT_ENROLL_PUBLISH_TO_DS, 0, 1 },
		{ 1, 0, OC_CT_ENROLL_AUTO_ENROLLMENT, 0, 0 },
		{ 0, 1, OC_CT_ENROLL_AUTO_ENROLLMENT, 0, 0 },
		{ 1, 1, OC_CT_ENROLL_PUBLISH_TO_DS, 0, 0 },
		{ 1, 1, OC_CT_ENROLL_AUTO_ENROLLMENT, OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct client_template t;

		memset(&t, 0, sizeof(t));
		t.cn = (char *)"T";
		t.enroll = tab[i].enroll;
		t.auto_enroll = tab[i].autoenroll;
		t.enrollment_flags = tab[i].eflags;
		t.subject_name_flags = tab[i].nflags;
		if ((client_ae_ineligible(&t) == NULL) != tab[i].ok) {
			print_error("row %zu: %s\n", i, client_ae_ineligible(&t) ?
			    client_ae_ineligible(&t) : "eligible");
			fail();
		}
	}
}

/* ------------------------------------------------------------------ */
/* State file */

static void
test_state_roundtrip(void **state)
{
	struct client_ae_state st = { 0 }, back = { 0 };
	struct client_ae_entry *e = NULL;
	struct ocbuf b, b2;

	(void)state;
	ocbuf_init(&b, CLIENT_AE_STATE_MAX);
	ocbuf_init(&b2, CLIENT_AE_STATE_MAX);
	assert_int_equal(client_ae_state_get(&st, "User", &e), OC_OK);
	e->key_file = strdup("User.key");
	e->cert_file = strdup("User.pem");
	e->serial = strdup("1DB8091C3BF07472EE07F6967E2D2F70");
	e->not_before = T0;
	e->not_after = T0 + 365 * DAY;
	e->last_attempt = T0 + 5;
	e->last_result = strdup("renewed");
	e->request_id = strdup("2021747178");
	assert_int_equal(client_ae_state_get(&st, "Odd \"name\"\\\n", &e), OC_OK);
	e->failures = 3;
	e->next_attempt = T0 + 120;
	e->last_result = strdup("unreachable");
	assert_int_equal(client_ae_state_get(&st, "user", &e), OC_OK);   /* found, not added */
	assert_int_equal(st.n, 2);

	assert_int_equal(client_ae_state_format(&st, &b), OC_OK);
	assert_int_equal(client_ae_state_parse(ocbuf_ptr(&b), ocbuf_avail(&b), &back), OC_OK);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.v[0].template_name, "User");
	assert_string_equal(back.v[0].cert_file, "User.pem");
	assert_string_equal(back.v[0].serial, "1DB8091C3BF07472EE07F6967E2D2F70");
	assert_true(back.v[0].not_after == T0 + 365 * DAY);
	assert_string_equal(back.v[0].request_id, "2021747178");
	assert_string_equal(back.v[1].template_name, "Odd \"name\"\\\n");
	assert_null(back.v[1].cert_file);
	assert_int_equal(back.v[1].failures, 3);
	assert_true(back.v[1].next_attempt == T0 + 120);
	assert_int_equal(client_ae_state_format(&back, &b2), OC_OK);
	assert_int_equal(ocbuf_avail(&b), ocbuf_avail(&b2));
	assert_memory_equal(ocbuf_ptr(&b), ocbuf_ptr(&b2), ocbuf_avail(&b));

	client_ae_state_remove(&back, 0);
	assert_int_equal(back.n, 1);
	assert_string_equal(back.v[0].template_name, "Odd \"name\"\\\n");
	assert_null(client_ae_state_find(&back, "User"));

	client_ae_state_clear(&st);
	client_ae_state_clear(&back);
	client_ae_state_clear(NULL);
	ocbuf_free(&b);
	ocbuf_free(&b2);
}

static void
test_state_parse(void **state)
{
	static const struct {
		const char *json;
		int want;
		size_t n;
	} tab[] = {
		{ "{}", OC_OK, 0 },
		{ "{\"version\":1,\"templates\":[]}", OC_OK, 0 },
		{ " {\"templates\":[{\"template\":\"A\",\"future\":{\"x\":[1,true,null]}}],"
		  "\"extra\":\"x\"} \n", OC_OK, 1 },
		{ "{\"templates\":[{\"template\":\"A\",\"key\":\"A.key\",\"cert\":null}]}", OC_OK, 1 },
		{ "{\"templates\":[{\"template\":\"caf\\u00e9\"}]}", OC_ERR_PARSE, 0 },
		{ "{\"version\":2}", OC_ERR_PARSE, 0 },
		{ "", OC_ERR_PARSE, 0 },
		{ "[]", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\"}]} x", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\"},{\"template\":\"a\"}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\",\"key\":\"../etc/passwd\"}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\",\"cert\":\"/etc/passwd\"}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\",\"cert\":\".lock\"}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\",\"failures\":-1}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\",\"failures\":4294967296}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\",\"not_after\":1.5}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\",\"not_after\":99999999999999999999}]}",
		  OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\"", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\\q\"}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\\u0000\"}]}", OC_ERR_PARSE, 0 },
		{ "{\"templates\":[{\"template\":\"A\tB\"}]}", OC_ERR_PARSE, 0 },
		{ "{\"x\":[[[[[[[[[[1]]]]]]]]]]}", OC_ERR_LIMIT, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct client_ae_state st;
		int r = client_ae_state_parse((const uint8_t *)tab[i].json, strlen(tab[i].json), &st);

		if (r != tab[i].want || st.n != tab[i].n) {
			print_error("%s: %d (%zu entries), want %d\n", tab[i].json, r, st.n,
			    tab[i].want);
			fail();
		}
		client_ae_state_clear(&st);
	}
}

/* ------------------------------------------------------------------ */
/* File names */

static void
test_file_names(void **state)
{
	static const struct {
		const char *cn, *suffix, *want;
	} tab[] = {
		{ "User", ".pem", "User.pem" },
		{ "OpenCES-WebServer_2.1", ".key", "OpenCES-WebServer_2.1.key" },
		{ "Web Server", ".pem", "Web%20Server.pem" },
		{ "../x", ".key", "%2E.%2Fx.key" },
		{ ".hidden", ".pem", "%2Ehidden.pem" },
		{ "caf\xc3\xa9", ".pem", "caf%C3%A9.pem" },
		{ "a%b", ".pem", "a%25b.pem" },
	};
	char *s = NULL, big[300];

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		assert_int_equal(client_ae_file_name(tab[i].cn, tab[i].suffix, &s), OC_OK);
		assert_string_equal(s, tab[i].want);
		assert_true(client_ae_file_name_ok(s));
		free(s);
	}
	assert_int_equal(client_ae_file_name("", ".pem", &s), OC_ERR_INVALID);
	assert_null(s);
	memset(big, '/', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(client_ae_file_name(big, ".pem", &s), OC_ERR_LIMIT);
	assert_null(s);
	assert_false(client_ae_file_name_ok("a/b"));
	assert_false(client_ae_file_name_ok(".."));
	assert_false(client_ae_file_name_ok(""));
	assert_false(client_ae_file_name_ok(NULL));
}

/* ------------------------------------------------------------------ */
/* Command line */

static void
test_cli(void **state)
{
	static const struct {
		const char *args;
		int want;
		int once, daemon;
		long interval;
	} tab[] = {
		{ "--store S", OC_OK, 1, 0, CLIENT_AE_INTERVAL_DEFAULT },
		{ "--store S --once", OC_OK, 1, 0, CLIENT_AE_INTERVAL_DEFAULT },
		{ "--store S --daemon --interval 2", OC_OK, 0, 1, 2 },
		{ "--store S --daemon --interval 604800", OC_OK, 0, 1, 604800 },
		{ "--store S --daemon --interval 604801", OC_ERR_INVALID, 0, 0, 0 },
		{ "--store S --daemon --interval 0", OC_ERR_INVALID, 0, 0, 0 },
		{ "--store S --once --daemon", OC_ERR_INVALID, 0, 0, 0 },
		{ "--once", OC_ERR_INVALID, 0, 0, 0 },
		{ "--store S --store T", OC_ERR_INVALID, 0, 0, 0 },
		{ "--store S --template User", OC_ERR_INVALID, 0, 0, 0 },
		{ "--store S --key-out k", OC_ERR_INVALID, 0, 0, 0 },
		{ "--store S --inter 5", OC_ERR_INVALID, 0, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		char line[512], *argv[32], *save = NULL;
		int argc = 0;
		struct client_opts o;
		int r;

		snprintf(line, sizeof(line), "opences autoenroll --policy-url https://cep.test/CEP "
		    "--auth password --user demo --password-file pw --ca-file ca.pem %s",
		    tab[i].args);
		for (char *tok = strtok_r(line, " ", &save); tok && argc < 31;
		    tok = strtok_r(NULL, " ", &save))
			argv[argc++] = tok;
		argv[argc] = NULL;
		r = client_opts_parse(argc, argv, &o);
		if (r != tab[i].want) {
			print_error("%s: %d want %d\n", tab[i].args, r, tab[i].want);
			fail();
		}
		if (r == OC_OK) {
			assert_int_equal(o.cmd, CLIENT_CMD_AUTOENROLL);
			assert_string_equal(o.store, "S");
			assert_int_equal(o.once, tab[i].once);
			assert_int_equal(o.daemon, tab[i].daemon);
			assert_int_equal(o.interval, tab[i].interval);
		}
		client_opts_clear(&o);
	}
	/* --store belongs to autoenroll only */
	{
		char *argv[] = { (char *)"opences", (char *)"policy", (char *)"--store",
		    (char *)"S", NULL };
		struct client_opts o;
		assert_int_equal(client_opts_parse(4, argv, &o), OC_ERR_INVALID);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_plan_superseded),
		cmocka_unit_test(test_plan_next),
		cmocka_unit_test(test_policy_fields),
		cmocka_unit_test(test_ineligible),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_parse),
		cmocka_unit_test(test_file_names),
		cmocka_unit_test(test_cli),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
