/* MS-XCEP GetPolicies: request parsing and response rendering (docs/protocol/xcep.md). */
#ifndef OC_XCEP_H
#define OC_XCEP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"
#include "common/err.h"
#include "model/policy.h"
#include "model/template.h"
#include "soap/soap.h"

#define OC_XCEP_ACTION_REQUEST  "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPolicies"
#define OC_XCEP_ACTION_RESPONSE "http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy/IPolicy/GetPoliciesResponse"

struct oc_xcep_request {
	int has_last_update;        /* 0: absent, nil or unparsable => full policy */
	time_t last_update;
	char *preferred_language;   /* may be NULL */
	int has_filter;             /* requestFilter present and not nil */
	struct oc_strlist policy_oids;  /* empty => no OID filter */
	int client_version;         /* -1 when missing or nil */
	int server_version;         /* -1 when missing or nil */
};

/*
 * Parse {xcep}GetPolicies from msg->payload. OC_ERR_SOAP_BODY when the payload
 * is not GetPolicies or client is absent/nil (the spec requires a fault).
 */
int oc_xcep_parse_request(const struct oc_soap_msg *msg, struct oc_xcep_request *req) OC_WUR;
void oc_xcep_request_clear(struct oc_xcep_request *req);

/* One template as the caller sees it. */
struct oc_xcep_entry {
	const struct oc_template *t;
	int enroll;                 /* caller holds Enroll */
	int autoenroll;             /* caller holds AutoEnroll */
};

/* What the policy service publishes to one caller. */
struct oc_xcep_view {
	const char *policy_id;      /* stable, e.g. "{GUID}" */
	const char *friendly_name;  /* may be NULL => empty element */
	uint32_t next_update_hours; /* > 0 */
	time_t last_change;         /* when the policy last changed */
	const struct oc_xcep_entry *entries;
	size_t nentries;
	const struct oc_ca_entry *cas;  /* a template references the CAs whose
	                                   templates list contains its cn */
	size_t ncas;
	uint32_t max_client_version;    /* server's supported max (default 6) */
	uint32_t max_server_version;    /* default 6 */
};

/*
 * Render the full GetPoliciesResponse envelope (200 body), applying
 * policiesNotChanged (req->last_update >= view->last_change), the OID filter
 * and the client/server version filters; relates_to is the request MessageID.
 */
int oc_xcep_render_response(struct ocbuf *out, const struct oc_xcep_view *view,
    const struct oc_xcep_request *req, const char *relates_to) OC_WUR;

#endif
