/* The policy service endpoint: GetPolicies for one authenticated caller. */
#include "front/front_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
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

/*
 * The templates caller may enroll or auto-enroll, and that a CA publishes.
 * *degraded is set when a rights lookup failed (that template is left out:
 * the answer is served but not cached).
 */
static int
cep_entries(struct oc_front_thread *t, const struct oc_policy_snapshot *snap,
    const struct oc_identity *caller, struct oc_xcep_entry **ep, size_t *np, int *degraded)
{
	struct oc_xcep_entry *entries = NULL;
	size_t n = 0;
	int r;

	*ep = NULL;
	*np = 0;
	*degraded = 0;
	if (snap->ntemplates && (entries = calloc(snap->ntemplates, sizeof(*entries))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < snap->ntemplates; i++) {
		uint32_t rights = 0;

		if (!published(snap, snap->templates[i]))
			continue;
		if ((r = oc_dir_rights(t->dir, snap->templates[i]->cn, caller, &rights)) != OC_OK) {
			error_fr(r, "rights of %s on %s", caller->name, snap->templates[i]->cn);
			*degraded = 1;
			continue;
		}
		if ((rights & (OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL)) == 0)
			continue;
		entries[n].t = snap->templates[i];
		entries[n].enroll = (rights & OC_RIGHT_ENROLL) != 0;
		entries[n].autoenroll = (rights & OC_RIGHT_AUTOENROLL) != 0;
		n++;
	}
	*ep = entries;
	*np = n;
	return OC_OK;
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
	struct ocbuf key, plain;
	size_t n = 0;
	int r, cacheable = 0, degraded = 0, not_changed;

	memset(&req, 0, sizeof(req));
	ocbuf_init(&key, OC_POLICY_CACHE_KEY_MAX);
	ocbuf_init(&plain, resp->body.max);
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
	/* as oc_xcep_render_response decides it */
	not_changed = req.has_last_update && req.last_update >= snap->changed;
	/* The same caller, rights source and request class at this serial: same bytes. */
	cacheable = snap->resp != NULL &&
	    oc_policy_resp_key(&key, snap->serial, caller, &req, not_changed) == OC_OK;
	ocbuf_reset(&resp->body);
	if (cacheable &&
	    oc_policy_resp_get(snap->resp, &key, msg->message_id, &resp->body) == OC_OK) {
		log_debug("%s: policy for %s: cached", ep->path, caller->name);
		goto done;
	}
	/* policiesNotChanged answers carry no template: no rights to look up */
	if (!not_changed && (r = cep_entries(t, snap, caller, &entries, &n, &degraded)) != OC_OK) {
		oc_front_fault_err(resp, OC_SERVICE_CEP, msg->message_id, r);
		goto out;
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
	/* Cache the envelope without RelatesTo, then answer from it. */
	if (cacheable && !degraded &&
	    oc_xcep_render_response(&plain, &view, &req, NULL) == OC_OK &&
	    oc_policy_resp_put(snap->resp, &key, plain.d, plain.len) == OC_OK &&
	    oc_policy_resp_get(snap->resp, &key, msg->message_id, &resp->body) == OC_OK)
		goto rendered;
	ocbuf_reset(&resp->body);
	if ((r = oc_xcep_render_response(&resp->body, &view, &req, msg->message_id)) != OC_OK) {
		error_fr(r, "GetPoliciesResponse");
		oc_front_fault_err(resp, OC_SERVICE_CEP, msg->message_id, r);
		goto out;
	}
rendered:
	log_debug("%s: policy for %s: %zu templates", ep->path, caller->name, n);
done:
	resp->status = 200;
	resp->content_type = "application/soap+xml; charset=utf-8";
out:
	free(entries);
	ocbuf_free(&key);
	ocbuf_free(&plain);
	oc_front_snapshot_put(f, snap);
	oc_xcep_request_clear(&req);
}
