/*
 * Pending requests after an administrator's decision. The admin CLI holds
 * no CA key: `opencesd request approve` only marks the request approved in
 * the store. The CA issues it when its requester retrieves it
 * (QueryTokenStatus): the stored request goes through every check again
 * (template, publication on this CA, the requester's Enroll right as the
 * directory says now, key), then is built, signed and recorded under its
 * original RequestID -- or denied if something changed meanwhile. Issuing
 * at retrieval, not on a scan, keeps the key's use tied to a request the
 * requester makes, and needs no timer in the CA.
 */
#include "ca/ca_local.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "model/hresult.h"

int
ca_template_pends(const struct oc_template *t)
{
	if (t == NULL)
		return 0;
	/*
	 * msPKI-RA-Signature > 0 asks for requests countersigned by enrollment
	 * agents; we verify no such signatures, so an administrator stands in
	 * for them: the request pends instead of being denied.
	 */
	return (t->enrollment_flags & OC_CT_ENROLL_PEND_ALL_REQUESTS) != 0 ||
	    t->ra_signatures > 0;
}

int
ca_issue_approved(struct oc_ca *ca, const struct oc_ca_order *query,
    const struct oc_store_request *q, struct oc_ca_result *res)
{
	struct oc_ca_order o;
	struct ca_job *j = NULL;
	char detail[128];
	int r;

	memset(res, 0, sizeof(*res));
	memset(&o, 0, sizeof(o));
	if (ca == NULL || query == NULL || q == NULL || q->request_der == NULL)
		return OC_ERR_INVALID;
	/* the stored request, as its requester (authenticated now) sends it again */
	o.requester = query->requester;
	o.template_hint = q->template_name;
	o.request = q->request_der;
	o.request_len = q->request_der_len;
	snprintf(detail, sizeof(detail), "approved by %.100s", q->actor ? q->actor : "-");
	ca_audit(ca, "retrieve_approved", q->request_id, q->requester, q->template_name, detail);
	if ((r = ca_job_begin_approved(ca, &o, q->request_id, &j)) != OC_OK)
		return r;
	ca_job_work(ca, j);
	r = ca_job_end(ca, j, res);
	ca_job_free(j);
	return r;
}
