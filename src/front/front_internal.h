/* Internal to src/front. */
#ifndef OC_FRONT_INTERNAL_H
#define OC_FRONT_INTERNAL_H

#include <pthread.h>
#include <time.h>

#include "auth/authsvc.h"
#include "auth/certauth.h"
#include "directory/directory.h"
#include "front/auth_cert.h"
#include "front/front.h"
#include "front/policy_resp.h"
#include "ipc/ca_client.h"
#include "model/policy.h"
#include "model/template.h"
#include "soap/soap.h"

/* An immutable snapshot of the published policy, shared by reference count. */
struct oc_policy_snapshot {
	int refs;
	int64_t serial;
	time_t changed;
	struct oc_template **templates;
	size_t ntemplates;
	struct oc_ca_entry *cas;
	size_t ncas;
	struct oc_policy_resp_cache *resp;  /* rendered responses at this serial, or NULL */
};

struct oc_front {
	struct oc_front_config cfg;
	struct oc_endpoint *endpoints;   /* owned copies */
	char *dir_path, *ca_name, *policy_id, *friendly_name;
	char *keytab, *spn, *kerberos_realm, *client_ca_file, *ca_cert_file;
	struct oc_authsvc *authsvc;      /* passwords and SPNEGO legs */
	struct oc_front_neg *neg;        /* unfinished Negotiate exchanges per connection */
	struct oc_certauth *certauth;    /* client certificates (NULL without client_ca_file) */
	struct oc_ca_client *ca;         /* pipelined orders on the CA socket */
	pthread_mutex_t snap_mu;
	struct oc_policy_snapshot *snap;
	time_t snap_checked;
};

struct oc_front_thread {
	struct oc_directory *dir;        /* read-only handle of this worker */
};

/* policy_cache.c */
int oc_front_snapshot_get(struct oc_front *f, struct oc_front_thread *t,
    struct oc_policy_snapshot **snap) OC_WUR;
void oc_front_snapshot_put(struct oc_front *f, struct oc_policy_snapshot *snap);

/*
 * The class of the answer being built on this worker thread (enum
 * oc_metrics_outcome, -1 = not set): fault.c and ces.c set it, oc_front_handle
 * resets it before and counts it after each request.
 */
extern _Thread_local int oc_front_outcome;
/* The outcome class of an error turned into a fault. */
int oc_front_err_outcome(int err);

/* fault.c: the one place where errors become SOAP faults and HTTP statuses. */
void oc_front_fault_err(struct oc_http_response *resp, enum oc_service svc,
    const char *relates_to, int err);
void oc_front_fault_ca(struct oc_http_response *resp, const char *relates_to,
    uint32_t hresult, uint32_t request_id, const char *message,
    const uint8_t *cmc, size_t cmc_len);
void oc_front_plain(struct oc_http_response *resp, int status, const char *text);

/* negotiate.c: HTTP Negotiate on the Kerberos endpoints */
struct oc_front_neg;
int oc_front_neg_new(struct oc_front_neg **np) OC_WUR;
void oc_front_neg_free(struct oc_front_neg *n, struct oc_authsvc *svc);
/*
 * One Negotiate leg of req. OC_OK: caller filled (the mapped directory
 * account, else the ticket's identity) and *mutual the base64 token every
 * answer must carry in WWW-Authenticate (may be NULL). Otherwise resp holds
 * the answer (401 challenge, or a fault) and nothing else is to be done.
 */
int oc_front_negotiate(struct oc_front *f, struct oc_front_thread *t,
    const struct oc_endpoint *ep, const struct oc_http_request *req,
    struct oc_http_response *resp, struct oc_identity *caller, char **mutual) OC_WUR;

/* cep.c / ces.c */
void oc_front_cep(struct oc_front *f, struct oc_front_thread *t, const struct oc_endpoint *ep,
    const struct oc_soap_msg *msg, const struct oc_identity *caller,
    struct oc_http_response *resp);
void oc_front_ces(struct oc_front *f, struct oc_front_thread *t, const struct oc_endpoint *ep,
    const struct oc_soap_msg *msg, const struct oc_identity *caller,
    struct oc_http_response *resp);

#endif
