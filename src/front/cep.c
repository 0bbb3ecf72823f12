/* The policy service endpoint: GetPolicies for one authenticated caller. */
#include "front/front_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "xcep/xcep.h"

/* Is the template published by at least one CA? */
static int
published(const struct oc_policy_snapshot *s, const struct oc_template *t)
{
	for (size_t i = 0; i < s->ncas; i++)
		if (oc_strlist_contains_ci(&s->cas[i].templates, t->cn))
			return 1;
	return 0;
}

void
oc_front_cep(struct oc_front *f, struct oc_front_thread *t, const struct oc_endpoint *ep,
    const struct oc_soap_msg *msg, const struct oc_identity *caller,
    struct oc_http_response *resp)
{
	struct oc_policy_snapshot *snap = NULL;
	struct oc_xcep_request req;
	struct oc_xcep_entry *entries = NULL;
	struct oc_xcep_view view;
	size_t n = 0;
	int r;

	memset(&req, 0, sizeof(req));
	if (msg->action != NULL && strcmp(msg->action, OC_XCEP_ACTION_REQUEST) != 0) {
		oc_front_fault_err(resp, OC_SERVICE_CEP, msg->message_id, OC_ERR_SOAP_ACTION);
		return;
	}
	if ((r = oc_xcep_parse_request(msg, &req)) != OC_OK) {
		oc_front_fault_err(resp, OC_SERVICE_CEP, msg->message_id, r);
		return;
	}
	if ((r = oc_front_snapshot_get(f, t, &snap)) != OC_OK) {
		oc_front_fault_err(resp, OC_SERVICE_CEP, msg->message_id, OC_ERR_UNAVAILABLE);
		goto out;
	}
	if (snap->ntemplates && (entries = calloc(snap->ntemplates, sizeof(*entries))) == NULL) {
		oc_front_fault_err(resp, OC_SERVICE_CEP, msg->message_id, OC_ERR_NOMEM);
		goto out;
	}
	/* Only what the caller may enroll or auto-enroll, and that a CA publishes. */
	for (size_t i = 0; i < snap->ntemplates; i++) {
		uint32_t rights = 0;

		if (!published(snap, snap->templates[i]))
			continue;
		if ((r = oc_dir_rights(t->dir, snap->templates[i]->cn, caller, &rights)) != OC_OK) {
			error_fr(r, "rights of %s on %s", caller->name, snap->templates[i]->cn);
			continue;
		}
		if ((rights & (OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL)) == 0)
			continue;
		entries[n].t = snap->templates[i];
		entries[n].enroll = (rights & OC_RIGHT_ENROLL) != 0;
		entries[n].autoenroll = (rights & OC_RIGHT_AUTOENROLL) != 0;
		n++;
	}
	memset(&view, 0, sizeof(view));
	view.policy_id = f->cfg.policy_id;
	view.friendly_name = f->cfg.policy_friendly_name;
	view.next_update_hours = f->cfg.next_update_hours ? f->cfg.next_update_hours : 8;
	view.last_change = snap->changed;
	view.entries = entries;
	view.nentries = n;
	view.cas = snap->cas;
	view.ncas = snap->ncas;
	view.max_client_version = 6;
	view.max_server_version = 6;
	ocbuf_reset(&resp->body);
	if ((r = oc_xcep_render_response(&resp->body, &view, &req, msg->message_id)) != OC_OK) {
		error_fr(r, "GetPoliciesResponse");
		oc_front_fault_err(resp, OC_SERVICE_CEP, msg->message_id, r);
		goto out;
	}
	resp->status = 200;
	resp->content_type = "application/soap+xml; charset=utf-8";
	log_debug("%s: policy for %s: %zu templates", ep->path, caller->name, n);
out:
	free(entries);
	oc_front_snapshot_put(f, snap);
	oc_xcep_request_clear(&req);
}
