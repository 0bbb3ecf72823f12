/*
 * The front end: routes HTTPS requests to the policy service (CEP) and the
 * enrollment service (CES) endpoints, authenticates callers, and forwards
 * enrollment orders to the CA over typed frames. It holds no CA key.
 */
#ifndef OC_FRONT_H
#define OC_FRONT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "http/http.h"
#include "metrics/metrics.h"
#include "model/identity.h"

enum oc_service {
	OC_SERVICE_CEP = 1,
	OC_SERVICE_CES = 2,
};

struct oc_endpoint {
	enum oc_service service;
	enum oc_auth_type auth;
	char *path;                 /* decoded path, e.g. "/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP" */
	char *uri;                  /* absolute URL as published (CES: used for pending references) */
	int renewal_only;
};

struct oc_front_config {
	const char *dir_path;       /* embedded directory database */
	const char *ca_name;
	const char *policy_id;
	const char *policy_friendly_name;
	uint32_t next_update_hours;
	const struct oc_endpoint *endpoints;
	size_t nendpoints;
	int ca_fd;                  /* socket to the CA process */
	/* Authentication: an auth process on auth_fd when use_auth_process, else in-process. */
	int use_auth_process;
	int auth_fd;
	const char *keytab;         /* Kerberos endpoints (NULL: none) */
	const char *spn;            /* NULL: any key of the keytab */
	const char *kerberos_realm; /* principals of this realm map to accounts by name
	                               too; NULL: by UPN only */
	int channel_binding;        /* enum oc_gss_cb_mode */
	const char *client_ca_file; /* trust anchors of client certificates (certificate endpoints) */
	const char *ca_cert_file;   /* our CA's certificate (revocation of the certificates it issued) */
	struct oc_metrics *metrics; /* shared registry (metrics/metrics.h), may be NULL */
};

struct oc_front;

int oc_front_new(const struct oc_front_config *cfg, struct oc_front **fp) OC_WUR;
void oc_front_free(struct oc_front *f);

/* oc_http handler and per-worker hooks; ctx is the struct oc_front. */
void oc_front_handle(void *ctx, void *thread_ctx, const struct oc_http_request *req,
    struct oc_http_response *resp);
/* oc_http_config.queue_hook / busy_hook: the queue-depth gauge and the 503 counter. */
void oc_front_queue_hook(void *ctx, int delta);
void oc_front_busy_hook(void *ctx);
void *oc_front_thread_init(void *ctx);
void oc_front_thread_fini(void *ctx, void *thread_ctx);

/* The conventional endpoint path for a service and auth type (CES needs the CA name). */
int oc_endpoint_path(enum oc_service svc, enum oc_auth_type auth, const char *ca_name,
    char **path) OC_WUR;
/* Percent-encode a CA name for a URL path (spaces as %20 like Windows). */
int oc_url_path_encode(const char *s, char **out) OC_WUR;

#endif
