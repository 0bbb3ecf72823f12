/* The shared metrics registry and its two renderings (see metrics.h). */
#include "metrics/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "common/limits.h"

#define HIST_MAX 12                 /* finite bucket bounds at most */

/* Bucket counts are per bucket (not cumulative): the renderer sums them. */
struct hist {
	_Atomic uint64_t b[HIST_MAX + 1];   /* b[nbounds] is +Inf */
	_Atomic uint64_t sum;               /* in millionths */
};

struct oc_metrics {
	_Atomic uint64_t requests[OC_METRICS_EP_N][OC_METRICS_AUTH_N][OC_METRICS_OUTCOME_N];
	struct hist duration[OC_METRICS_EP_N];
	_Atomic int64_t queue;
	_Atomic uint64_t busy;
	_Atomic uint64_t ca_orders[OC_METRICS_CA_RESULT_N];
	_Atomic uint64_t ca_replays;
	_Atomic uint64_t ca_signatures;
	struct hist batch;
	struct hist commit;
	_Atomic uint64_t commit_failures;
	_Atomic int64_t ca_heartbeat;
	_Atomic int ca_commit_failed;       /* the last commit failed */
	_Atomic int proc_up[OC_METRICS_PROC_N];
	_Atomic int64_t proc_start[OC_METRICS_PROC_N];
	_Atomic int role[OC_METRICS_ROLE_N];
	char ca_name[OC_NAME_MAX + 1];      /* written before fork, read-only after */
};

struct hist_def {
	size_t n;
	uint64_t bound[HIST_MAX];           /* millionths */
};

static const struct hist_def duration_def = { 11, {
	5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000 } };
static const struct hist_def batch_def = { 7, {
	1000000, 2000000, 4000000, 8000000, 16000000, 32000000, 64000000 } };
static const struct hist_def commit_def = { 11, {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000 } };

static const char *const endpoint_names[OC_METRICS_EP_N] = { "cep", "ces" };
static const char *const auth_names[OC_METRICS_AUTH_N] = {
	"password", "kerberos", "certificate" };
static const char *const outcome_names[OC_METRICS_OUTCOME_N] = {
	"ok", "fault", "denied", "pending", "unauthorized", "busy", "bad_request" };
static const char *const ca_result_names[OC_METRICS_CA_RESULT_N] = {
	"issued", "pending", "denied", "error" };
static const char *const process_names[OC_METRICS_PROC_N] = {
	"supervisor", "front", "ca", "auth", "metrics", "calink" };
static const char *const role_names[OC_METRICS_ROLE_N] = { "front", "ca" };

int
oc_metrics_new(struct oc_metrics **mp)
{
	void *p;

	*mp = NULL;
	p = mmap(NULL, sizeof(struct oc_metrics), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return OC_ERR_NOMEM;
	/* anonymous mappings are zero-filled: every counter starts at 0 */
	*mp = p;
	return OC_OK;
}

void
oc_metrics_free(struct oc_metrics *m)
{
	if (m != NULL)
		munmap(m, sizeof(*m));
}

void
oc_metrics_set_ca_name(struct oc_metrics *m, const char *name)
{
	if (m == NULL || name == NULL)
		return;
	strncpy(m->ca_name, name, sizeof(m->ca_name) - 1);
	m->ca_name[sizeof(m->ca_name) - 1] = '\0';
}

void
oc_metrics_set_role(struct oc_metrics *m, enum oc_metrics_role role, int enabled)
{
	if (m != NULL && (unsigned)role < OC_METRICS_ROLE_N)
		atomic_store(&m->role[role], enabled ? 1 : 0);
}

static void
hist_observe(struct hist *h, const struct hist_def *d, uint64_t v)
{
	size_t i = 0;

	while (i < d->n && v > d->bound[i])
		i++;
	atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

void
oc_metrics_request(struct oc_metrics *m, enum oc_metrics_endpoint ep, enum oc_metrics_auth auth,
    enum oc_metrics_outcome outcome, uint64_t duration_us)
{
	if (m == NULL || (unsigned)ep >= OC_METRICS_EP_N || (unsigned)auth >= OC_METRICS_AUTH_N ||
	    (unsigned)outcome >= OC_METRICS_OUTCOME_N)
		return;
	atomic_fetch_add_explicit(&m->requests[ep][auth][outcome], 1, memory_order_relaxed);
	hist_observe(&m->duration[ep], &duration_def, duration_us);
}

void
oc_metrics_queue_add(struct oc_metrics *m, int delta)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->queue, delta, memory_order_relaxed);
}

void
oc_metrics_http_busy(struct oc_metrics *m)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->busy, 1, memory_order_relaxed);
}

void
oc_metrics_ca_order(struct oc_metrics *m, enum oc_metrics_ca_result result)
{
	if (m != NULL && (unsigned)result < OC_METRICS_CA_RESULT_N)
		atomic_fetch_add_explicit(&m->ca_orders[result], 1, memory_order_relaxed);
}

void
oc_metrics_ca_replay(struct oc_metrics *m)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->ca_replays, 1, memory_order_relaxed);
}

void
oc_metrics_ca_signature(struct oc_metrics *m)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->ca_signatures, 1, memory_order_relaxed);
}

void
oc_metrics_ca_batch(struct oc_metrics *m, size_t orders, uint64_t commit_us, int committed)
{
	if (m == NULL)
		return;
	hist_observe(&m->batch, &batch_def, (uint64_t)orders * 1000000u);
	hist_observe(&m->commit, &commit_def, commit_us);
	if (!committed)
		atomic_fetch_add_explicit(&m->commit_failures, 1, memory_order_relaxed);
	atomic_store(&m->ca_commit_failed, committed ? 0 : 1);
}

void
oc_metrics_ca_heartbeat(struct oc_metrics *m, time_t now)
{
	if (m != NULL)
		atomic_store(&m->ca_heartbeat, (int64_t)now);
}

void
oc_metrics_process(struct oc_metrics *m, enum oc_metrics_process p, int up, time_t start)
{
	if (m == NULL || (unsigned)p >= OC_METRICS_PROC_N)
		return;
	if (up)
		atomic_store(&m->proc_start[p], (int64_t)start);
	atomic_store(&m->proc_up[p], up ? 1 : 0);
	if (p == OC_METRICS_PROC_CA && up) {
		/* a new CA process: no commit of it has failed yet */
		atomic_store(&m->ca_commit_failed, 0);
		atomic_store(&m->ca_heartbeat, (int64_t)start);
	}
}

/* ------------------------------------------------------------------ render */

/* A value kept in millionths, printed exactly: "5", "0.0125". */
static int
put_micro(struct ocbuf *out, uint64_t v)
{
	char frac[8];
	int n;

	if (v % 1000000u == 0)
		return ocbuf_printf(out, "%llu", (unsigned long long)(v / 1000000u));
	n = snprintf(frac, sizeof(frac), "%06llu", (unsigned long long)(v % 1000000u));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	return ocbuf_printf(out, "%llu.%s", (unsigned long long)(v / 1000000u), frac);
}

int
oc_metrics_put_label(struct ocbuf *out, const char *s)
{
	int r = OC_OK;

	for (; s != NULL && *s != '\0' && r == OC_OK; s++) {
		if (*s == '\\')
			r = ocbuf_puts(out, "\\\\");
		else if (*s == '"')
			r = ocbuf_puts(out, "\\\"");
		else if (*s == '\n')
			r = ocbuf_puts(out, "\\n");
		else
			r = ocbuf_putc(out, *s);
	}
	return r;
}

static int
head(struct ocbuf *out, const char *name, const char *type, const char *help)
{
	return ocbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t
ld(const _Atomic uint64_t *p)
{
	return atomic_load_explicit(p, memory_order_relaxed);
}

/* name_bucket{<labels>le="..."} cumulative, then _sum and _count. labels: "" or `k="v",`. */
static int
put_hist(struct ocbuf *out, const char *name, const char *labels, const struct hist *h,
    const struct hist_def *d)
{
	uint64_t cum = 0;
	size_t ll = strlen(labels);
	int r;

	for (size_t i = 0; i <= d->n; i++) {
		cum += ld(&h->b[i]);
		if ((r = ocbuf_printf(out, "%s_bucket{%sle=\"", name, labels)) != OC_OK ||
		    (r = i < d->n ? put_micro(out, d->bound[i]) : ocbuf_puts(out, "+Inf")) != OC_OK ||
		    (r = ocbuf_printf(out, "\"} %llu\n", (unsigned long long)cum)) != OC_OK)
			return r;
	}
	/* the labels without their trailing comma */
	if ((r = ocbuf_printf(out, "%s_sum%s%.*s%s ", name, ll ? "{" : "", ll ? (int)ll - 1 : 0,
	    labels, ll ? "}" : "")) != OC_OK || (r = put_micro(out, ld(&h->sum))) != OC_OK)
		return r;
	return ocbuf_printf(out, "\n%s_count%s%.*s%s %llu\n", name, ll ? "{" : "",
	    ll ? (int)ll - 1 : 0, labels, ll ? "}" : "", (unsigned long long)cum);
}

static int
render_front(const struct oc_metrics *m, struct ocbuf *out)
{
	char labels[64];
	int r;

	if ((r = head(out, "opences_requests_total", "counter", "Requests answered by the "
	    "front end, by endpoint, authentication and outcome.")) != OC_OK)
		return r;
	for (int e = 0; e < OC_METRICS_EP_N; e++)
		for (int a = 0; a < OC_METRICS_AUTH_N; a++)
			for (int o = 0; o < OC_METRICS_OUTCOME_N; o++)
				if ((r = ocbuf_printf(out, "opences_requests_total{endpoint=\"%s\","
				    "auth=\"%s\",outcome=\"%s\"} %llu\n", endpoint_names[e],
				    auth_names[a], outcome_names[o],
				    (unsigned long long)ld(&m->requests[e][a][o]))) != OC_OK)
					return r;
	if ((r = head(out, "opences_request_duration_seconds", "histogram", "Time the front "
	    "end took to answer a request, by endpoint.")) != OC_OK)
		return r;
	for (int e = 0; e < OC_METRICS_EP_N; e++) {
		snprintf(labels, sizeof(labels), "endpoint=\"%s\",", endpoint_names[e]);
		if ((r = put_hist(out, "opences_request_duration_seconds", labels,
		    &m->duration[e], &duration_def)) != OC_OK)
			return r;
	}
	if ((r = head(out, "opences_http_queue_depth", "gauge", "Requests waiting in the "
	    "front end's queue for a worker.")) != OC_OK ||
	    (r = ocbuf_printf(out, "opences_http_queue_depth %lld\n",
	    (long long)atomic_load(&m->queue))) != OC_OK)
		return r;
	if ((r = head(out, "opences_http_busy_total", "counter", "Requests answered 503 "
	    "with Retry-After because every worker was busy and the queue full.")) != OC_OK)
		return r;
	return ocbuf_printf(out, "opences_http_busy_total %llu\n",
	    (unsigned long long)atomic_load(&m->busy));
}

static int
render_ca(const struct oc_metrics *m, struct ocbuf *out)
{
	int r;

	if ((r = head(out, "opences_ca_info", "gauge", "The certification authority this "
	    "host serves.")) != OC_OK ||
	    (r = ocbuf_puts(out, "opences_ca_info{ca=\"")) != OC_OK ||
	    (r = oc_metrics_put_label(out, m->ca_name)) != OC_OK ||
	    (r = ocbuf_puts(out, "\"} 1\n")) != OC_OK)
		return r;
	if ((r = head(out, "opences_ca_orders_total", "counter", "Enrollment orders the CA "
	    "decided, by result.")) != OC_OK)
		return r;
	for (int i = 0; i < OC_METRICS_CA_RESULT_N; i++)
		if ((r = ocbuf_printf(out, "opences_ca_orders_total{result=\"%s\"} %llu\n",
		    ca_result_names[i], (unsigned long long)ld(&m->ca_orders[i]))) != OC_OK)
			return r;
	if ((r = head(out, "opences_ca_replays_total", "counter", "Orders answered with an "
	    "earlier decision of the same request (idempotence window).")) != OC_OK ||
	    (r = ocbuf_printf(out, "opences_ca_replays_total %llu\n",
	    (unsigned long long)ld(&m->ca_replays))) != OC_OK)
		return r;
	if ((r = head(out, "opences_ca_signatures_total", "counter", "Certificates the CA "
	    "signed.")) != OC_OK ||
	    (r = ocbuf_printf(out, "opences_ca_signatures_total %llu\n",
	    (unsigned long long)ld(&m->ca_signatures))) != OC_OK)
		return r;
	if ((r = head(out, "opences_ca_batch_size", "histogram", "Frames the CA answered "
	    "per store transaction.")) != OC_OK ||
	    (r = put_hist(out, "opences_ca_batch_size", "", &m->batch, &batch_def)) != OC_OK)
		return r;
	if ((r = head(out, "opences_store_commit_seconds", "histogram", "Time a batch's "
	    "store commit took.")) != OC_OK ||
	    (r = put_hist(out, "opences_store_commit_seconds", "", &m->commit,
	    &commit_def)) != OC_OK)
		return r;
	if ((r = head(out, "opences_store_commit_failures_total", "counter", "Batches whose "
	    "store commit failed.")) != OC_OK ||
	    (r = ocbuf_printf(out, "opences_store_commit_failures_total %llu\n",
	    (unsigned long long)ld(&m->commit_failures))) != OC_OK)
		return r;
	if ((r = head(out, "opences_ca_last_heartbeat_seconds", "gauge", "When the CA "
	    "process last showed it was serving (Unix time).")) != OC_OK)
		return r;
	return ocbuf_printf(out, "opences_ca_last_heartbeat_seconds %lld\n",
	    (long long)atomic_load(&m->ca_heartbeat));
}

static int
render_processes(const struct oc_metrics *m, struct ocbuf *out)
{
	int r;

	if ((r = head(out, "opences_process_up", "gauge", "1 while the process of this "
	    "role runs.")) != OC_OK)
		return r;
	for (int i = 0; i < OC_METRICS_PROC_N; i++)
		if ((r = ocbuf_printf(out, "opences_process_up{process=\"%s\"} %d\n",
		    process_names[i], atomic_load(&m->proc_up[i]))) != OC_OK)
			return r;
	if ((r = head(out, "opences_process_start_time_seconds", "gauge", "When the process "
	    "last started (Unix time).")) != OC_OK)
		return r;
	for (int i = 0; i < OC_METRICS_PROC_N; i++)
		if ((r = ocbuf_printf(out, "opences_process_start_time_seconds{process=\"%s\"} "
		    "%lld\n", process_names[i], (long long)atomic_load(&m->proc_start[i]))) != OC_OK)
			return r;
	return OC_OK;
}

int
oc_metrics_render(const struct oc_metrics *m, struct ocbuf *out)
{
	int r;

	if (m == NULL || out == NULL)
		return OC_ERR_INVALID;
	if ((r = render_front(m, out)) != OC_OK || (r = render_ca(m, out)) != OC_OK)
		return r;
	return render_processes(m, out);
}

/* "ok" or why the role is not healthy. */
static const char *
role_state(const struct oc_metrics *m, int role, time_t now, int max_age)
{
	if (role == OC_METRICS_ROLE_FRONT)
		return atomic_load(&m->proc_up[OC_METRICS_PROC_FRONT]) ? "ok" : "down";
	if (!atomic_load(&m->proc_up[OC_METRICS_PROC_CA]))
		return "down";
	if (now - (time_t)atomic_load(&m->ca_heartbeat) > max_age)
		return "stale";
	if (atomic_load(&m->ca_commit_failed))
		return "store_commit_failed";
	return "ok";
}

int
oc_metrics_health(const struct oc_metrics *m, time_t now, int max_age, struct ocbuf *out,
    int *healthy)
{
	const char *st[OC_METRICS_ROLE_N];
	int ok = 1, first = 1, r;

	*healthy = 0;
	if (m == NULL || out == NULL)
		return OC_ERR_INVALID;
	for (int i = 0; i < OC_METRICS_ROLE_N; i++) {
		st[i] = NULL;
		if (!atomic_load(&m->role[i]))
			continue;
		st[i] = role_state(m, i, now, max_age);
		if (strcmp(st[i], "ok") != 0)
			ok = 0;
	}
	if ((r = ocbuf_printf(out, "{\"status\":\"%s\",\"roles\":{", ok ? "ok" :
	    "unhealthy")) != OC_OK)
		return r;
	for (int i = 0; i < OC_METRICS_ROLE_N; i++) {
		if (st[i] == NULL)
			continue;
		if ((r = ocbuf_printf(out, "%s\"%s\":\"%s\"", first ? "" : ",", role_names[i],
		    st[i])) != OC_OK)
			return r;
		first = 0;
	}
	if ((r = ocbuf_puts(out, "}}\n")) != OC_OK)
		return r;
	*healthy = ok;
	return OC_OK;
}
