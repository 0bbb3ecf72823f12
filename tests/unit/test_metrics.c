/*
 * The metrics registry: exact exposition text for a known state (format
 * 0.0.4: HELP and TYPE lines, cumulative buckets ending in +Inf, _sum and
 * _count), label escaping, health per role, and counters updated by forked
 * processes in the one shared mapping summing exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics/metrics.h"

int main(void);

static char *
render(const struct oc_metrics *m)
{
	struct ocbuf b;

	ocbuf_init(&b, 1 << 20);
	assert_int_equal(oc_metrics_render(m, &b), OC_OK);
	return (char *)ocbuf_take(&b, NULL);
}

static void
test_known_state(void **state)
{
	/* two CEP answers (3 ms, 30 ms), one CES fault after 2 s */
	static const char cep_hist[] =
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"0.005\"} 1\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"0.01\"} 1\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"0.025\"} 1\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"0.05\"} 2\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"0.1\"} 2\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"0.25\"} 2\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"0.5\"} 2\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"1\"} 2\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"2.5\"} 2\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"5\"} 2\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"10\"} 2\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"cep\",le=\"+Inf\"} 2\n"
	    "opences_request_duration_seconds_sum{endpoint=\"cep\"} 0.033\n"
	    "opences_request_duration_seconds_count{endpoint=\"cep\"} 2\n"
	    "opences_request_duration_seconds_bucket{endpoint=\"ces\",le=\"0.005\"} 0\n";
	static const char *const lines[] = {
	    "# HELP opences_requests_total Requests answered by the front end, by endpoint, "
	    "authentication and outcome.\n# TYPE opences_requests_total counter\n"
	    "opences_requests_total{endpoint=\"cep\",auth=\"password\",outcome=\"ok\"} 2\n",
	    "opences_requests_total{endpoint=\"ces\",auth=\"password\",outcome=\"fault\"} 1\n",
	    "opences_requests_total{endpoint=\"ces\",auth=\"kerberos\",outcome=\"pending\"} 0\n",
	    "opences_request_duration_seconds_sum{endpoint=\"ces\"} 2\n",
	    "# TYPE opences_request_duration_seconds histogram\n",
	    "opences_http_queue_depth 1\n",
	    "# TYPE opences_http_busy_total counter\nopences_http_busy_total 2\n",
	    "opences_ca_orders_total{result=\"issued\"} 1\n"
	    "opences_ca_orders_total{result=\"pending\"} 0\n"
	    "opences_ca_orders_total{result=\"denied\"} 1\n"
	    "opences_ca_orders_total{result=\"error\"} 0\n",
	    "opences_ca_signatures_total 1\n",
	    /* batch sizes 1 and 3 */
	    "opences_ca_batch_size_bucket{le=\"1\"} 1\n"
	    "opences_ca_batch_size_bucket{le=\"2\"} 1\n"
	    "opences_ca_batch_size_bucket{le=\"4\"} 2\n",
	    "opences_ca_batch_size_bucket{le=\"+Inf\"} 2\nopences_ca_batch_size_sum 4\n"
	    "opences_ca_batch_size_count 2\n",
	    /* commits of 0.7 ms and 12.5 ms */
	    "opences_store_commit_seconds_bucket{le=\"0.0005\"} 0\n"
	    "opences_store_commit_seconds_bucket{le=\"0.001\"} 1\n",
	    "opences_store_commit_seconds_bucket{le=\"0.025\"} 2\n",
	    "opences_store_commit_seconds_sum 0.0132\n",
	    "opences_ca_last_heartbeat_seconds 1700000100\n",
	    "opences_process_up{process=\"ca\"} 1\n",
	    "opences_process_up{process=\"front\"} 0\n",
	    "opences_process_start_time_seconds{process=\"ca\"} 1700000000\n",
	    "opences_ca_info{ca=\"OpenCES Demo CA\"} 1\n",
	};
	struct oc_metrics *m = NULL;
	char *text;

	(void)state;
	assert_int_equal(oc_metrics_new(&m), OC_OK);
	oc_metrics_set_ca_name(m, "OpenCES Demo CA");
	oc_metrics_request(m, OC_METRICS_EP_CEP, OC_METRICS_AUTH_PASSWORD, OC_METRICS_OK, 3000);
	oc_metrics_request(m, OC_METRICS_EP_CEP, OC_METRICS_AUTH_PASSWORD, OC_METRICS_OK, 30000);
	oc_metrics_request(m, OC_METRICS_EP_CES, OC_METRICS_AUTH_PASSWORD, OC_METRICS_FAULT,
	    2000000);
	oc_metrics_queue_add(m, 1);
	oc_metrics_queue_add(m, 1);
	oc_metrics_queue_add(m, -1);
	oc_metrics_http_busy(m);
	oc_metrics_http_busy(m);
	oc_metrics_ca_order(m, OC_METRICS_CA_ISSUED);
	oc_metrics_ca_order(m, OC_METRICS_CA_DENIED);
	oc_metrics_ca_signature(m);
	oc_metrics_ca_batch(m, 1, 700, 1);
	oc_metrics_ca_batch(m, 3, 12500, 1);
	oc_metrics_process(m, OC_METRICS_PROC_CA, 1, 1700000000);
	oc_metrics_ca_heartbeat(m, 1700000100);
	text = render(m);
	assert_non_null(strstr(text, cep_hist));
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		if (strstr(text, lines[i]) == NULL)
			fail_msg("missing:\n%s\nin:\n%s", lines[i], text);
	}
	/* every family has its HELP and TYPE before its samples, once */
	assert_non_null(strstr(text, "# HELP opences_ca_batch_size "));
	assert_null(strstr(strstr(text, "# TYPE opences_ca_batch_size histogram") + 1,
	    "# TYPE opences_ca_batch_size histogram"));
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	oc_metrics_free(m);
}

/* Buckets are cumulative: each le line counts everything at or below it. */
static void
test_buckets_cumulative(void **state)
{
	static const uint64_t obs[] = { 1, 5000, 5001, 99999, 100000, 9999999, 10000000,
	    10000001, 60000000 };
	struct oc_metrics *m = NULL;
	unsigned long long prev = 0, v, inf = 0, count = 0;
	char *text, *p;
	int nb = 0;

	(void)state;
	assert_int_equal(oc_metrics_new(&m), OC_OK);
	for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++)
		oc_metrics_request(m, OC_METRICS_EP_CES, OC_METRICS_AUTH_CERTIFICATE,
		    OC_METRICS_DENIED, obs[i]);
	text = render(m);
	for (p = text; (p = strstr(p, "_seconds_bucket{endpoint=\"ces\"")) != NULL; p++) {
		assert_int_equal(sscanf(strchr(p, '}') + 1, " %llu", &v), 1);
		assert_true(v >= prev);
		prev = v;
		nb++;
		if (strncmp(strstr(p, "le=\""), "le=\"+Inf\"", 9) == 0)
			inf = v;
	}
	assert_int_equal(nb, 12);
	assert_int_equal(inf, 9);
	p = strstr(text, "opences_request_duration_seconds_count{endpoint=\"ces\"} ");
	assert_non_null(p);
	assert_int_equal(sscanf(strchr(p, '}') + 1, " %llu", &count), 1);
	assert_int_equal(count, 9);
	/* 5 ms is in le="0.005" (le is inclusive), 5.001 ms is not */
	assert_non_null(strstr(text, "{endpoint=\"ces\",le=\"0.005\"} 2\n"));
	assert_non_null(strstr(text, "{endpoint=\"ces\",le=\"0.1\"} 5\n"));
	assert_non_null(strstr(text, "{endpoint=\"ces\",le=\"10\"} 7\n"));
	assert_non_null(strstr(text, "opences_request_duration_seconds_sum{endpoint=\"ces\"} "
	    "90.210001\n"));
	free(text);
	oc_metrics_free(m);
}

static void
test_label_escaping(void **state)
{
	static const struct { const char *in, *out; } t[] = {
		{ "plain", "plain" },
		{ "a \"quoted\" CA", "a \\\"quoted\\\" CA" },
		{ "back\\slash", "back\\\\slash" },
		{ "two\nlines", "two\\nlines" },
		{ "", "" },
	};
	struct oc_metrics *m = NULL;
	struct ocbuf b;
	char *text;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ocbuf_init(&b, 256);
		assert_int_equal(oc_metrics_put_label(&b, t[i].in), OC_OK);
		assert_int_equal(b.len, strlen(t[i].out));
		assert_memory_equal(b.d, t[i].out, b.len);
		ocbuf_free(&b);
	}
	assert_int_equal(oc_metrics_new(&m), OC_OK);
	oc_metrics_set_ca_name(m, "Lab \"A\"\\B\nC");
	text = render(m);
	assert_non_null(strstr(text, "opences_ca_info{ca=\"Lab \\\"A\\\"\\\\B\\nC\"} 1\n"));
	free(text);
	oc_metrics_free(m);
}

static char *
health(const struct oc_metrics *m, time_t now, int *ok)
{
	struct ocbuf b;

	ocbuf_init(&b, 4096);
	assert_int_equal(oc_metrics_health(m, now, 10, &b, ok), OC_OK);
	return (char *)ocbuf_take(&b, NULL);
}

static void
test_health(void **state)
{
	static const time_t t0 = 1700000000;
	struct oc_metrics *m = NULL;
	char *s;
	int ok;

	(void)state;
	assert_int_equal(oc_metrics_new(&m), OC_OK);
	oc_metrics_set_role(m, OC_METRICS_ROLE_FRONT, 1);
	oc_metrics_set_role(m, OC_METRICS_ROLE_CA, 1);
	s = health(m, t0, &ok);
	assert_int_equal(ok, 0);
	assert_string_equal(s, "{\"status\":\"unhealthy\",\"roles\":{\"front\":\"down\","
	    "\"ca\":\"down\"}}\n");
	free(s);
	oc_metrics_process(m, OC_METRICS_PROC_FRONT, 1, t0);
	oc_metrics_process(m, OC_METRICS_PROC_CA, 1, t0);
	s = health(m, t0 + 10, &ok);
	assert_int_equal(ok, 1);
	assert_string_equal(s, "{\"status\":\"ok\",\"roles\":{\"front\":\"ok\",\"ca\":\"ok\"}}\n");
	free(s);
	/* heartbeat older than max_age */
	s = health(m, t0 + 11, &ok);
	assert_int_equal(ok, 0);
	assert_string_equal(s, "{\"status\":\"unhealthy\",\"roles\":{\"front\":\"ok\","
	    "\"ca\":\"stale\"}}\n");
	free(s);
	oc_metrics_ca_heartbeat(m, t0 + 11);
	oc_metrics_ca_batch(m, 2, 100, 0);
	s = health(m, t0 + 11, &ok);
	assert_int_equal(ok, 0);
	assert_non_null(strstr(s, "\"ca\":\"store_commit_failed\""));
	free(s);
	oc_metrics_ca_batch(m, 2, 100, 1);
	s = health(m, t0 + 11, &ok);
	assert_int_equal(ok, 1);
	free(s);
	/* the supervisor saw the CA die */
	oc_metrics_process(m, OC_METRICS_PROC_CA, 0, 0);
	s = health(m, t0 + 11, &ok);
	assert_int_equal(ok, 0);
	assert_non_null(strstr(s, "\"ca\":\"down\""));
	free(s);
	/* a front-only host does not look at the CA */
	oc_metrics_set_role(m, OC_METRICS_ROLE_CA, 0);
	s = health(m, t0 + 11, &ok);
	assert_int_equal(ok, 1);
	assert_string_equal(s, "{\"status\":\"ok\",\"roles\":{\"front\":\"ok\"}}\n");
	free(s);
	oc_metrics_free(m);
}

/* Processes forked after the registry was created count into the same counters. */
static void
test_forked_processes_sum(void **state)
{
	enum { NPROC = 4, NINC = 20000 };
	struct oc_metrics *m = NULL;
	pid_t pids[NPROC];
	char *text, want[160];
	int st;

	(void)state;
	assert_int_equal(oc_metrics_new(&m), OC_OK);
	for (int i = 0; i < NPROC; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			for (int k = 0; k < NINC; k++) {
				oc_metrics_request(m, OC_METRICS_EP_CES, OC_METRICS_AUTH_PASSWORD,
				    OC_METRICS_OK, 1000);
				oc_metrics_ca_signature(m);
				oc_metrics_queue_add(m, (k & 1) ? -1 : 1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < NPROC; i++) {
		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	text = render(m);
	snprintf(want, sizeof(want), "opences_requests_total{endpoint=\"ces\",auth=\"password\","
	    "outcome=\"ok\"} %d\n", NPROC * NINC);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "opences_ca_signatures_total %d\n", NPROC * NINC);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "opences_request_duration_seconds_count{endpoint=\"ces\"} "
	    "%d\n", NPROC * NINC);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "opences_request_duration_seconds_sum{endpoint=\"ces\"} "
	    "%d\n", NPROC * NINC / 1000);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "opences_http_queue_depth 0\n"));
	free(text);
	oc_metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_state),
		cmocka_unit_test(test_buckets_cumulative),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_forked_processes_sum),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
