/*
 * Operational metrics: one fixed-layout registry in a shared anonymous
 * mapping (MAP_SHARED | MAP_ANONYMOUS) that the supervisor creates before
 * it forks, so every child (front end, CA, auth, metrics listener) updates
 * its own counters with C11 atomics, lock-free, and any of them can render
 * all of them. Rendering is the Prometheus text exposition format 0.0.4;
 * health is a small JSON document per role.
 *
 * Every update function accepts m == NULL (no registry: nothing counted), so
 * the code that counts runs unchanged in unit tests and tools.
 */
#ifndef OC_METRICS_H
#define OC_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"

struct oc_metrics;

enum oc_metrics_endpoint {
	OC_METRICS_EP_CEP = 0,
	OC_METRICS_EP_CES,
	OC_METRICS_EP_N
};

enum oc_metrics_auth {
	OC_METRICS_AUTH_PASSWORD = 0,
	OC_METRICS_AUTH_KERBEROS,
	OC_METRICS_AUTH_CERTIFICATE,
	OC_METRICS_AUTH_N
};

/* What the front end answered. */
enum oc_metrics_outcome {
	OC_METRICS_OK = 0,          /* policy returned, certificate issued */
	OC_METRICS_FAULT,           /* a SOAP fault for any other reason */
	OC_METRICS_DENIED,          /* the CA denied the request */
	OC_METRICS_PENDING,         /* taken under submission */
	OC_METRICS_UNAUTHORIZED,    /* authentication missing or failed (401 or fault) */
	OC_METRICS_BUSY,            /* the CA or a worker was unavailable */
	OC_METRICS_BAD_REQUEST,     /* malformed message, wrong method or content type */
	OC_METRICS_OUTCOME_N
};

enum oc_metrics_ca_result {
	OC_METRICS_CA_ISSUED = 0,
	OC_METRICS_CA_PENDING,
	OC_METRICS_CA_DENIED,
	OC_METRICS_CA_ERROR,
	OC_METRICS_CA_RESULT_N
};

enum oc_metrics_process {
	OC_METRICS_PROC_SUPERVISOR = 0,
	OC_METRICS_PROC_FRONT,
	OC_METRICS_PROC_CA,
	OC_METRICS_PROC_AUTH,
	OC_METRICS_PROC_METRICS,
	OC_METRICS_PROC_CALINK,
	OC_METRICS_PROC_N
};

enum oc_metrics_role {
	OC_METRICS_ROLE_FRONT = 0,
	OC_METRICS_ROLE_CA,
	OC_METRICS_ROLE_N
};

/* Create a zeroed registry in a shared anonymous mapping (before fork). */
int oc_metrics_new(struct oc_metrics **mp) OC_WUR;
void oc_metrics_free(struct oc_metrics *m);            /* NULL-safe; munmap */

/* Set once by the supervisor before it forks: the CA name (opences_ca_info). */
void oc_metrics_set_ca_name(struct oc_metrics *m, const char *name);
/* Which roles this host runs (health looks at those only). */
void oc_metrics_set_role(struct oc_metrics *m, enum oc_metrics_role role, int enabled);

/* Front end: one answered request and the time its handler took. */
void oc_metrics_request(struct oc_metrics *m, enum oc_metrics_endpoint ep,
    enum oc_metrics_auth auth, enum oc_metrics_outcome outcome, uint64_t duration_us);
/* Requests waiting in the front end's queue for a worker (+1 queued / -1 taken). */
void oc_metrics_queue_add(struct oc_metrics *m, int delta);
/* A request the front end refused with 503 (workers busy, queue full). */
void oc_metrics_http_busy(struct oc_metrics *m);

/* CA. */
void oc_metrics_ca_order(struct oc_metrics *m, enum oc_metrics_ca_result result);
void oc_metrics_ca_replay(struct oc_metrics *m);      /* an order answered from the store */
void oc_metrics_ca_signature(struct oc_metrics *m);
/* One batch: its orders, how long its store commit took, whether it committed. */
void oc_metrics_ca_batch(struct oc_metrics *m, size_t orders, uint64_t commit_us,
    int committed);
void oc_metrics_ca_heartbeat(struct oc_metrics *m, time_t now);

/* A process of this host started (up = 1, start time) or ended (up = 0). */
void oc_metrics_process(struct oc_metrics *m, enum oc_metrics_process p, int up,
    time_t start);

/* The whole registry in the text exposition format 0.0.4. */
int oc_metrics_render(const struct oc_metrics *m, struct ocbuf *out) OC_WUR;
#define OC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Health of the roles this host runs: front up; CA up, heartbeat at most
 * max_age seconds old at now, last store commit succeeded. *healthy 1/0;
 * out gets {"status":"ok"|"unhealthy","roles":{"front":"ok",...}}.
 */
int oc_metrics_health(const struct oc_metrics *m, time_t now, int max_age, struct ocbuf *out,
    int *healthy) OC_WUR;

/* A label value escaped for the exposition format (\\, \", \n). */
int oc_metrics_put_label(struct ocbuf *out, const char *s) OC_WUR;

#endif
