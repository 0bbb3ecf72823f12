/*
 * The enrollment policy snapshot the policy service (CEP) renders: the CA
 * entries (pKIEnrollmentService) with their CES URIs, and the templates.
 */
#ifndef OC_MODEL_POLICY_H
#define OC_MODEL_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "model/template.h"

struct oc_ces_uri {
	uint32_t auth;            /* clientAuthentication 1/2/4/8 */
	char *uri;
	uint32_t priority;        /* lower is preferred */
	int renewal_only;
};

struct oc_ca_entry {
	char *name;               /* CA common name (cn of pKIEnrollmentService) */
	char *dns_host_name;
	uint8_t *cert_der;        /* cACertificate */
	size_t cert_der_len;
	struct oc_strlist templates;  /* certificateTemplates: template cn values */
	struct oc_ces_uri *uris;
	size_t nuris;
};

void oc_ca_entry_clear(struct oc_ca_entry *ca);

#endif
