/*
 * opences: which CES URIs are tried, in which order (priority groups, random
 * within a group, renewal-only and other-auth URIs excluded; renewals try the
 * renewal-only URIs first), the seeded RNG,
 * and the failover loop (callback-driven).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client.h"

int main(void);

/*
 * CA 0: A(4,p1) B(4,p1) C(4,p2) D(2,p1: Kerberos) E(4,p0, renewal only)
 * CA 1: F(4,p2) G(4,nil priority) B again (duplicate) H(8,p0: certificate)
 * CA 2 (not referenced by template 0): Z(4,p0)
 */
static struct client_ca_uri ca0_uris[] = {
	{ 4, "https://a/CES", 1, 1, 0 },
	{ 4, "https://b/CES", 1, 1, 0 },
	{ 4, "https://c/CES", 1, 2, 0 },
	{ 2, "https://d/CES", 1, 1, 0 },
	{ 4, "https://e/CES", 1, 0, 1 },
};
static struct client_ca_uri ca1_uris[] = {
	{ 4, "https://f/CES", 1, 2, 0 },
	{ 4, "https://g/CES", 0, 0, 0 },
	{ 4, "https://b/CES", 1, 1, 0 },
	{ 8, "https://h/CES", 1, 0, 0 },
};
static struct client_ca_uri ca2_uris[] = {
	{ 4, "https://z/CES", 1, 0, 0 },
};

static void
make_policy(struct client_policy *pol, struct client_ca cas[3], struct client_template t[2],
    int32_t refs0[2], int32_t refs1[1])
{
	memset(pol, 0, sizeof(*pol));
	memset(cas, 0, 3 * sizeof(cas[0]));
	memset(t, 0, 2 * sizeof(t[0]));
	cas[0].ref_id = 0;
	cas[0].uris = ca0_uris;
	cas[0].nuris = 5;
	cas[1].ref_id = 1;
	cas[1].uris = ca1_uris;
	cas[1].nuris = 4;
	cas[2].ref_id = 2;
	cas[2].uris = ca2_uris;
	cas[2].nuris = 1;
	pol->cas = cas;
	pol->ncas = 3;
	refs0[0] = 0;
	refs0[1] = 1;
	refs1[0] = 1;
	t[0].cn = "T0";
	t[0].ca_refs = refs0;
	t[0].nca_refs = 2;
	t[1].cn = "T1";
	t[1].ca_refs = refs1;
	t[1].nca_refs = 1;
	pol->templates = t;
	pol->ntemplates = 2;
}

static int
in(const char *u, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(u, *set) == 0)
			return 1;
	return 0;
}

static void
test_order_priorities_200_runs(void **state)
{
	struct client_policy pol;
	struct client_ca cas[3];
	struct client_template t[2];
	int32_t refs0[2], refs1[1];
	struct client_rng rng;
	int ab = 0, ba = 0, cf = 0, fc = 0;
	static const char *const p1[] = { "https://a/CES", "https://b/CES", NULL };
	static const char *const p2[] = { "https://c/CES", "https://f/CES", NULL };

	make_policy(&pol, cas, t, refs0, refs1);
	client_rng_seed(&rng, 20261125);
	for (int run = 0; run < 200; run++) {
		struct client_endpoint *e = NULL;
		size_t n = 0;

		assert_int_equal(client_order_endpoints(&pol, &t[0], CLIENT_AUTH_PASSWORD, &rng,
		    &e, &n), OC_OK);
		/* D (Kerberos), E (renewal only), H (certificate), Z (other CA) are out; B once */
		assert_int_equal(n, 5);
		assert_true(in(e[0].uri, p1));
		assert_true(in(e[1].uri, p1));
		assert_string_not_equal(e[0].uri, e[1].uri);
		assert_true(in(e[2].uri, p2));
		assert_true(in(e[3].uri, p2));
		assert_string_not_equal(e[2].uri, e[3].uri);
		assert_string_equal(e[4].uri, "https://g/CES");     /* nil priority last */
		for (size_t i = 1; i < n; i++)
			assert_true(e[i - 1].priority <= e[i].priority);
		if (strcmp(e[0].uri, "https://a/CES") == 0)
			ab++;
		else
			ba++;
		if (strcmp(e[2].uri, "https://c/CES") == 0)
			cf++;
		else
			fc++;
		free(e);
	}
	/* both orders of each equal-priority pair occur, roughly evenly */
	assert_true(ab > 50 && ba > 50);
	assert_true(cf > 50 && fc > 50);
}

static void
test_order_filters(void **state)
{
	struct client_policy pol;
	struct client_ca cas[3];
	struct client_template t[2];
	int32_t refs0[2], refs1[1];
	struct client_rng rng;
	struct client_endpoint *e = NULL;
	size_t n = 0;

	make_policy(&pol, cas, t, refs0, refs1);
	client_rng_seed(&rng, 1);
	/* template 1 uses CA 1 only: B(p1), F(p2), G(nil) */
	assert_int_equal(client_order_endpoints(&pol, &t[1], CLIENT_AUTH_PASSWORD, &rng, &e, &n),
	    OC_OK);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].uri, "https://b/CES");
	assert_int_equal(e[0].ca_ref, 1);
	assert_string_equal(e[1].uri, "https://f/CES");
	assert_string_equal(e[2].uri, "https://g/CES");
	free(e);
	/* Kerberos: only D */
	assert_int_equal(client_order_endpoints(&pol, &t[0], CLIENT_AUTH_KERBEROS, &rng, &e, &n),
	    OC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].uri, "https://d/CES");
	free(e);
	/* certificate: only H, through CA 1 */
	assert_int_equal(client_order_endpoints(&pol, &t[0], CLIENT_AUTH_CERTIFICATE, &rng, &e,
	    &n), OC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(e[0].uri, "https://h/CES");
	free(e);
	/* anonymous: nothing */
	assert_int_equal(client_order_endpoints(&pol, &t[0], CLIENT_AUTH_ANONYMOUS, &rng, &e, &n),
	    OC_OK);
	assert_int_equal(n, 0);
	assert_null(e);
	/* a template with a nil cAs list may use every CA (Z, p0, comes first) */
	t[1].ca_refs = NULL;
	t[1].nca_refs = 0;
	t[1].cas_nil = 1;
	assert_int_equal(client_order_endpoints(&pol, &t[1], CLIENT_AUTH_PASSWORD, &rng, &e, &n),
	    OC_OK);
	assert_int_equal(n, 6);
	assert_string_equal(e[0].uri, "https://z/CES");
	free(e);
}

/*
 * Renewals (wstep.md 1, "RenewalOnly"): renewal-only URIs first, by their own
 * priority, then the others; a URI published both ways is tried once, as
 * renewal-only. Enrollments never see renewal-only URIs.
 */
static void
test_order_renewal(void **state)
{
	static struct client_ca_uri uris[] = {
		{ 4, "https://r2/CES", 1, 2, 1 },
		{ 4, "https://r1/CES", 1, 1, 1 },
		{ 4, "https://a/CES", 1, 0, 0 },
		{ 4, "https://b/CES", 1, 1, 0 },
		{ 2, "https://k/CES", 1, 0, 1 },
		{ 4, "https://a/CES", 1, 5, 1 },
	};
	static const struct {
		uint32_t auth;
		int renewal;
		const char *want[5];
		int ro[5];
	} cases[] = {
		{ CLIENT_AUTH_PASSWORD, 1,
		  { "https://r1/CES", "https://r2/CES", "https://a/CES", "https://b/CES", NULL },
		  { 1, 1, 1, 0 } },
		{ CLIENT_AUTH_PASSWORD, 0, { "https://a/CES", "https://b/CES", NULL }, { 0, 0 } },
		{ CLIENT_AUTH_KERBEROS, 1, { "https://k/CES", NULL }, { 1 } },
		{ CLIENT_AUTH_KERBEROS, 0, { NULL }, { 0 } },
	};
	struct client_policy pol;
	struct client_ca ca;
	struct client_template t;
	struct client_rng rng;

	(void)state;
	memset(&pol, 0, sizeof(pol));
	memset(&ca, 0, sizeof(ca));
	memset(&t, 0, sizeof(t));
	ca.uris = uris;
	ca.nuris = sizeof(uris) / sizeof(uris[0]);
	pol.cas = &ca;
	pol.ncas = 1;
	t.cn = "T";
	t.cas_nil = 1;
	client_rng_seed(&rng, 7);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct client_endpoint *e = NULL;
		size_t n = 0, want_n = 0;

		while (cases[c].want[want_n] != NULL)
			want_n++;
		assert_int_equal(client_order_endpoints_for(&pol, &t, cases[c].auth,
		    cases[c].renewal, &rng, &e, &n), OC_OK);
		assert_int_equal(n, want_n);
		for (size_t i = 0; i < n; i++) {
			assert_string_equal(e[i].uri, cases[c].want[i]);
			assert_int_equal(e[i].renewal_only, cases[c].ro[i]);
		}
		free(e);
	}
}

static void
test_rng(void **state)
{
	struct client_rng a, b;
	unsigned counts[3] = { 0, 0, 0 };
	const char *v[5] = { "w", "x", "y", "z", NULL };
	int seen_first[4] = { 0, 0, 0, 0 };

	/* same seed, same sequence */
	client_rng_seed(&a, 42);
	client_rng_seed(&b, 42);
	for (int i = 0; i < 100; i++)
		assert_int_equal(client_rng_below(&a, 1000), client_rng_below(&b, 1000));
	assert_int_equal(client_rng_below(&a, 1), 0);
	assert_int_equal(client_rng_below(&a, 0), 0);
	for (int i = 0; i < 30000; i++) {
		uint32_t x = client_rng_below(&a, 3);
		assert_true(x < 3);
		counts[x]++;
	}
	for (int i = 0; i < 3; i++)
		assert_true(counts[i] > 9000 && counts[i] < 11000);
	/* shuffle: a permutation, and every element gets to the front */
	for (int run = 0; run < 200; run++) {
		client_shuffle(v, 4, &a);
		assert_true(in("w", v) && in("x", v));
		for (int k = 0; k < 4; k++)
			if (v[0][0] == "wxyz"[k])
				seen_first[k] = 1;
		assert_true(v[0] != v[1] && v[1] != v[2] && v[2] != v[3] && v[0] != v[3]);
	}
	for (int k = 0; k < 4; k++)
		assert_true(seen_first[k]);
}

static void
test_uuid(void **state)
{
	char u1[CLIENT_UUID_URN_LEN], u2[CLIENT_UUID_URN_LEN];

	assert_int_equal(client_uuid_urn(u1), OC_OK);
	assert_int_equal(client_uuid_urn(u2), OC_OK);
	assert_int_equal(strlen(u1), 45);
	assert_memory_equal(u1, "urn:uuid:", 9);
	assert_int_equal(u1[9 + 14], '4');                        /* version 4 */
	assert_non_null(strchr("89ab", u1[9 + 19]));              /* variant */
	assert_int_equal(u1[9 + 8], '-');
	assert_string_not_equal(u1, u2);
}

/* failover: a callback scripted per URL */
struct script {
	const char *const *urls;
	const int *results;
	int calls[8];
};

static int
scripted(void *ctx, const char *url)
{
	struct script *s = ctx;

	for (int i = 0; s->urls[i]; i++)
		if (strcmp(s->urls[i], url) == 0) {
			s->calls[i]++;
			return s->results[i];
		}
	fail_msg("unexpected url %s", url);
	return OC_ERR_INTERNAL;
}

static void
test_failover(void **state)
{
	static const char *const urls[] = { "u0", "u1", "u2", "u3", NULL };
	static const struct {
		int results[4];
		int want;
		size_t used;
		int calls[4];
	} cases[] = {
		/* first answers */
		{ { OC_OK, OC_OK, OC_OK, OC_OK }, OC_OK, 0, { 1, 0, 0, 0 } },
		/* unreachable ones are skipped */
		{ { OC_ERR_UNAVAILABLE, OC_ERR_UNAVAILABLE, OC_OK, OC_OK }, OC_OK, 2, { 1, 1, 1, 0 } },
		/* any other result is final (a fault was parsed, a bad answer, auth) */
		{ { OC_ERR_UNAVAILABLE, OC_ERR_AUTH, OC_OK, OC_OK }, OC_ERR_AUTH, 1, { 1, 1, 0, 0 } },
		{ { OC_ERR_PARSE, OC_OK, OC_OK, OC_OK }, OC_ERR_PARSE, 0, { 1, 0, 0, 0 } },
		/* nothing reachable */
		{ { OC_ERR_UNAVAILABLE, OC_ERR_UNAVAILABLE, OC_ERR_UNAVAILABLE, OC_ERR_UNAVAILABLE },
		  OC_ERR_UNAVAILABLE, 99, { 1, 1, 1, 1 } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script s;
		size_t used = 99;

		memset(&s, 0, sizeof(s));
		s.urls = urls;
		s.results = cases[i].results;
		assert_int_equal(client_failover(urls, 4, scripted, &s, &used), cases[i].want);
		assert_int_equal(used, cases[i].used);
		for (int k = 0; k < 4; k++)
			assert_int_equal(s.calls[k], cases[i].calls[k]);
	}
	assert_int_equal(client_failover(urls, 0, scripted, NULL, NULL), OC_ERR_UNAVAILABLE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_priorities_200_runs),
		cmocka_unit_test(test_order_filters),
		cmocka_unit_test(test_order_renewal),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_failover),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
