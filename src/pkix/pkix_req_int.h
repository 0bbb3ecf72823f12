/* Internal to src/pkix: inspection of a PKCS#10 into struct oc_req_info. */
#ifndef OC_PKIX_REQ_INT_H
#define OC_PKIX_REQ_INT_H

#include "pkix/pkix.h"
#include "pkix/pkix_asn1.h"

/* OID of obj equals the dotted text? */
int pkix_obj_is(const ASN1_OBJECT *obj, const char *dotted);
/* Fill key, signature, subject, SAN, template and renewal fields from csr. */
int pkix_req_inspect(X509_REQ *csr, struct oc_req_info *ri) OC_WUR;
/* One PKCS#10 / CMC / signed attribute: name-value pair or renewal cert. */
int pkix_req_attribute(const X509_ATTRIBUTE *a, struct oc_req_info *ri) OC_WUR;
/* Name-value pairs carried in CMC controls (direct or in 311.10.10.1). */
int pkix_req_cmc_controls(const STACK_OF(OC_CMC_TAGGED_ATTR) *controls,
    struct oc_req_info *ri) OC_WUR;

#endif
