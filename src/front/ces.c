/* The enrollment service endpoint: Issue and QueryTokenStatus through the CA. */
#include "front/front_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "ipc/ca_proto.h"
#include "model/hresult.h"
#include "wstep/wstep.h"

static int
ca_call(struct oc_front *f, uint32_t type, const struct oc_ca_order *o, struct oc_ca_result *res)
{
	int r;

	r = oc_ca_client_call(f->ca, type, o, res);
	if (r != OC_OK)
		error_fr(r, "CA call");
	return r;
}

void
oc_front_ces(struct oc_front *f, struct oc_front_thread *t, const struct oc_endpoint *ep,
    const struct oc_soap_msg *msg, const struct oc_identity *caller,
    struct oc_http_response *resp)
{
	struct oc_wstep_request req;
	struct oc_ca_order order;
	struct oc_ca_result res;
	uint32_t type;
	int r;

	(void)t;
	memset(&req, 0, sizeof(req));
	memset(&order, 0, sizeof(order));
	memset(&res, 0, sizeof(res));
	if ((r = oc_wstep_parse_request(msg, &req)) != OC_OK) {
		oc_front_fault_err(resp, OC_SERVICE_CES, msg->message_id, r);
		goto out;
	}
	if (req.type == OC_WSTEP_KET) {
		oc_front_fault_err(resp, OC_SERVICE_CES, msg->message_id, OC_ERR_NOT_SUPPORTED);
		goto out;
	}
	if ((r = oc_identity_copy(&order.requester, caller)) != OC_OK) {
		oc_front_fault_err(resp, OC_SERVICE_CES, msg->message_id, r);
		goto out;
	}
	order.flags = ep->renewal_only ? OC_ORDER_F_RENEWAL_ONLY : 0;
	if (req.type == OC_WSTEP_ISSUE) {
		type = OC_CA_MSG_ISSUE;
		order.request = req.token;
		order.request_len = req.token_len;
		req.token = NULL;
		order.template_hint = req.template_hint;
		req.template_hint = NULL;
		order.request_attributes = req.context;
		req.context = NULL;
	} else {
		type = OC_CA_MSG_QUERY;
		order.request_id = req.request_id;
	}
	if ((r = ca_call(f, type, &order, &res)) != OC_OK) {
		oc_front_fault_err(resp, OC_SERVICE_CES, msg->message_id, OC_ERR_IPC);
		goto out;
	}
	ocbuf_reset(&resp->body);
	switch (res.disposition) {
	case OC_DISP_ISSUED:
		r = oc_wstep_render_issued(&resp->body, msg->message_id, res.request_id,
		    res.cert, res.cert_len, res.cmc, res.cmc_len,
		    res.message && *res.message ? res.message : "Issued");
		break;
	case OC_DISP_UNDER_SUBMISSION:
		r = oc_wstep_render_pending(&resp->body, msg->message_id, res.request_id,
		    res.cmc, res.cmc_len, ep->uri,
		    res.message && *res.message ? res.message : "Taken Under Submission");
		oc_front_outcome = OC_METRICS_PENDING;
		break;
	default:
		oc_front_fault_ca(resp, msg->message_id, res.hresult, res.request_id,
		    res.message, NULL, 0);
		/* the CA's own failure is no denial */
		if (res.disposition == OC_DISP_ERROR)
			oc_front_outcome = OC_METRICS_FAULT;
		goto out;
	}
	if (r != OC_OK) {
		error_fr(r, "RSTRC rendering");
		oc_front_fault_err(resp, OC_SERVICE_CES, msg->message_id, r);
		goto out;
	}
	resp->status = 200;
	resp->content_type = "application/soap+xml; charset=utf-8";
out:
	oc_ca_result_clear(&res);
	oc_ca_order_clear(&order);
	oc_wstep_request_clear(&req);
}
