/*
 * GetPoliciesResponse (xcep.md 3.1-3.4, 4, 5.2): every element in schema
 * order, xsi:nil="true" for absent values, booleans true/false, unsigned
 * decimal flags, single-line base64, every reference resolvable. The output
 * depends only on the view and the request (same input, same bytes).
 */
#include "xcep/xcep.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/log.h"
#include "xcep/xcep_int.h"

#define XCEP_DEFAULT_MAX_VERSION   6
#define XCEP_NIL_DEFAULT_VERSION   3
#define XCEP_DEFAULT_UPDATE_HOURS  8
#define XCEP_DEFAULT_MIN_KEY       2048

/* A writer with a sticky error: the first failure wins, later calls no-op. */
struct xw {
	struct ocbuf *b;
	int r;
};

static void
xw_raw(struct xw *w, const char *s)
{
	if (w->r == OC_OK)
		w->r = ocbuf_puts(w->b, s);
}

static void
xw_esc(struct xw *w, const char *s)
{
	if (w->r == OC_OK)
		w->r = ocbuf_put_xml(w->b, s);
}

static void
xw_text(struct xw *w, const char *tag, const char *text)
{
	if (w->r == OC_OK)
		w->r = ocbuf_printf(w->b, "<%s>", tag);
	xw_esc(w, text);
	if (w->r == OC_OK)
		w->r = ocbuf_printf(w->b, "</%s>", tag);
}

static void
xw_u64(struct xw *w, const char *tag, uint64_t v)
{
	if (w->r == OC_OK)
		w->r = ocbuf_printf(w->b, "<%s>%" PRIu64 "</%s>", tag, v, tag);
}

static void
xw_int(struct xw *w, const char *tag, int v)
{
	if (w->r == OC_OK)
		w->r = ocbuf_printf(w->b, "<%s>%d</%s>", tag, v, tag);
}

static void
xw_bool(struct xw *w, const char *tag, int v)
{
	if (w->r == OC_OK)
		w->r = ocbuf_printf(w->b, "<%s>%s</%s>", tag, v ? "true" : "false", tag);
}

static void
xw_nil(struct xw *w, const char *tag)
{
	if (w->r == OC_OK)
		w->r = ocbuf_printf(w->b, "<%s xsi:nil=\"true\"/>", tag);
}

/* Text trimmed of surrounding XML whitespace (URIs must have none). */
static void
xw_text_trim(struct xw *w, const char *tag, const char *text)
{
	size_t n;
	char *t;

	while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
		text++;
	n = strlen(text);
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t' ||
	    text[n - 1] == '\r' || text[n - 1] == '\n'))
		n--;
	if ((t = strndup(text, n)) == NULL) {
		if (w->r == OC_OK)
			w->r = OC_ERR_NOMEM;
		return;
	}
	xw_text(w, tag, t);
	free(t);
}

struct xcep_ctx {
	const struct oc_xcep_view *view;
	const struct oc_xcep_request *req;
	struct xcep_oidtab oids;
	int *ca_ok;                 /* per view->cas[i]: emitted in cAs */
	uint32_t z, y;              /* effective client / server version filter */
};

static int
xcep_uri_ok(const struct oc_ces_uri *u)
{
	return (u->auth == 1 || u->auth == 2 || u->auth == 4 || u->auth == 8) &&
	    u->uri != NULL && u->uri[strspn(u->uri, " \t\r\n")] != '\0';
}

/* Rev 18 rules (xcep.md 2.2): nil => 3, 0 => max, > max => max. */
static uint32_t
xcep_effective_version(int has_filter, int v, uint32_t max, uint32_t no_filter)
{
	if (!has_filter)
		return no_filter;
	if (v < 0)
		return XCEP_NIL_DEFAULT_VERSION;
	if (v == 0 || (uint32_t)v > max)
		return max;
	return (uint32_t)v;
}

static int
xcep_selected(const struct xcep_ctx *c, const struct oc_xcep_entry *e)
{
	const struct oc_template *t = e->t;
	uint32_t cv, sv;

	if (t == NULL || t->cn == NULL || t->cn[0] == '\0' || !xcep_oid_valid(t->oid))
		return 0;
	cv = (t->private_key_flags & OC_CT_PK_CLIENT_VERSION_MASK) >> 24;
	sv = (t->private_key_flags & OC_CT_PK_SERVER_VERSION_MASK) >> 16;
	if (cv > c->z || sv > c->y)
		return 0;
	if (c->req->policy_oids.n > 0 && !oc_strlist_contains(&c->req->policy_oids, t->oid))
		return 0;
	return 1;
}

static int
xcep_ref(struct xcep_ctx *c, const char *oid, uint32_t group)
{
	struct xcep_oid *o = xcep_oidtab_find(&c->oids, oid, group);

	if (o == NULL)
		return -1;
	o->used = 1;
	return o->id;
}

static void
xcep_mark_list(struct xcep_ctx *c, const struct oc_strlist *l, uint32_t group)
{
	for (size_t i = 0; i < l->n; i++)
		(void)xcep_ref(c, l->v[i], group);
}

/* oIDReference list, or nil when no OID of the list is in the table. */
static void
xcep_ref_list(struct xw *w, struct xcep_ctx *c, const char *tag,
    const struct oc_strlist *l, uint32_t group)
{
	int any = 0, id;

	for (size_t i = 0; i < l->n; i++) {
		if ((id = xcep_ref(c, l->v[i], group)) < 0)
			continue;
		if (!any++ && w->r == OC_OK)
			w->r = ocbuf_printf(w->b, "<%s>", tag);
		xw_int(w, "oIDReference", id);
	}
	if (!any)
		xw_nil(w, tag);
	else if (w->r == OC_OK)
		w->r = ocbuf_printf(w->b, "</%s>", tag);
}

static void
xcep_private_key(struct xw *w, struct xcep_ctx *c, const struct oc_template *t)
{
	const char *alg = xcep_template_pubkey_oid(t);
	size_t *idx = NULL;

	xw_raw(w, "<privateKeyAttributes>");
	xw_u64(w, "minimalKeyLength", t->min_key_size > 0 ? t->min_key_size :
	    XCEP_DEFAULT_MIN_KEY);
	if (t->key_spec > 0)
		xw_u64(w, "keySpec", t->key_spec);
	else
		xw_nil(w, "keySpec");
	xw_nil(w, "keyUsageProperty");
	xw_nil(w, "permissions");
	if (alg != NULL && xcep_oidtab_find(&c->oids, alg, XCEP_GROUP_PUBKEY) != NULL)
		xw_int(w, "algorithmOIDReference", xcep_ref(c, alg, XCEP_GROUP_PUBKEY));
	else
		xw_nil(w, "algorithmOIDReference");
	/* providers by ascending priority (stable); nil, never empty */
	if (t->ncsps > 0 && (idx = calloc(t->ncsps, sizeof(*idx))) == NULL) {
		if (w->r == OC_OK)
			w->r = OC_ERR_NOMEM;
		return;
	}
	for (size_t i = 0; i < t->ncsps; i++) {
		size_t j = i;
		while (j > 0 && t->csps[idx[j - 1]].priority > t->csps[i].priority) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = i;
	}
	if (t->ncsps > 0) {
		xw_raw(w, "<cryptoProviders>");
		for (size_t i = 0; i < t->ncsps; i++)
			xw_text(w, "provider", t->csps[idx[i]].name != NULL ?
			    t->csps[idx[i]].name : "");
		xw_raw(w, "</cryptoProviders>");
	} else
		xw_nil(w, "cryptoProviders");
	free(idx);
	xw_raw(w, "</privateKeyAttributes>");
}

static void
xcep_ra(struct xw *w, struct xcep_ctx *c, const struct oc_template *t)
{
	struct oc_strlist ra = { 0 };
	int r;

	if (t->ra_signatures == 0) {
		xw_nil(w, "rARequirements");
		return;
	}
	if ((r = xcep_ra_ekus(t, &ra)) != OC_OK) {
		if (w->r == OC_OK)
			w->r = r;
		return;
	}
	xw_raw(w, "<rARequirements>");
	xw_u64(w, "rASignatures", t->ra_signatures);
	xcep_ref_list(w, c, "rAEKUs", &ra, XCEP_GROUP_EKU);
	xcep_ref_list(w, c, "rAPolicies", &t->ra_policies, XCEP_GROUP_POLICY);
	xw_raw(w, "</rARequirements>");
	oc_strlist_free(&ra);
}

static void
xcep_extensions(struct xw *w, struct xcep_ctx *c, const struct oc_template *t)
{
	struct xcep_ext exts[XCEP_MAX_EXTS];
	size_t n = 0;
	int r;

	if ((r = xcep_template_exts(t, exts, &n)) != OC_OK) {
		if (w->r == OC_OK)
			w->r = r;
		return;
	}
	if (n == 0) {
		xw_nil(w, "extensions");
		return;
	}
	xw_raw(w, "<extensions>");
	for (size_t i = 0; i < n; i++) {
		int id = xcep_ref(c, exts[i].oid, XCEP_GROUP_EXTENSION);
		if (id < 0 && w->r == OC_OK)
			w->r = OC_ERR_INTERNAL;   /* table built from the same rules */
		xw_raw(w, "<extension>");
		xw_int(w, "oIDReference", id);
		xw_bool(w, "critical", exts[i].critical);
		xw_text(w, "value", exts[i].value_b64);
		xw_raw(w, "</extension>");
	}
	xw_raw(w, "</extensions>");
	xcep_exts_clear(exts, n);
}

static void
xcep_policy(struct xw *w, struct xcep_ctx *c, const struct oc_xcep_entry *e)
{
	const struct oc_template *t = e->t;
	const struct oc_xcep_view *v = c->view;
	const char *hash = xcep_template_hash_oid(t);
	int any = 0;

	xw_raw(w, "<policy>");
	xw_int(w, "policyOIDReference", xcep_ref(c, t->oid, XCEP_GROUP_TEMPLATE));
	for (size_t i = 0; i < v->ncas; i++) {
		if (!c->ca_ok[i] || !oc_strlist_contains_ci(&v->cas[i].templates, t->cn))
			continue;
		if (!any++)
			xw_raw(w, "<cAs>");
		xw_int(w, "cAReference", (int)i);
	}
	if (any)
		xw_raw(w, "</cAs>");
	else
		xw_nil(w, "cAs");

	xw_raw(w, "<attributes>");
	xw_text(w, "commonName", t->cn);
	xw_u64(w, "policySchema", t->schema_version > 0 ? t->schema_version : 1);
	xw_raw(w, "<certificateValidity>");
	xw_u64(w, "validityPeriodSeconds", t->validity_seconds > 0 ?
	    (uint64_t)t->validity_seconds : 0);
	xw_u64(w, "renewalPeriodSeconds", t->renewal_seconds > 0 ?
	    (uint64_t)t->renewal_seconds : 0);
	xw_raw(w, "</certificateValidity>");
	xw_raw(w, "<permission>");
	xw_bool(w, "enroll", e->enroll);
	xw_bool(w, "autoEnroll", e->autoenroll);
	xw_raw(w, "</permission>");
	xcep_private_key(w, c, t);
	xw_raw(w, "<revision>");
	xw_u64(w, "majorRevision", t->revision);
	xw_u64(w, "minorRevision", t->minor_revision);
	xw_raw(w, "</revision>");
	if (t->superseded.n > 0) {
		xw_raw(w, "<supersededPolicies>");
		for (size_t i = 0; i < t->superseded.n; i++)
			xw_text(w, "commonName", t->superseded.v[i]);
		xw_raw(w, "</supersededPolicies>");
	} else
		xw_nil(w, "supersededPolicies");
	xw_u64(w, "privateKeyFlags", t->private_key_flags);
	xw_u64(w, "subjectNameFlags", t->name_flags);
	xw_u64(w, "enrollmentFlags", t->enrollment_flags);
	xw_u64(w, "generalFlags", t->general_flags);
	if (hash != NULL && xcep_oidtab_find(&c->oids, hash, XCEP_GROUP_HASH) != NULL)
		xw_int(w, "hashAlgorithmOIDReference", xcep_ref(c, hash, XCEP_GROUP_HASH));
	else
		xw_nil(w, "hashAlgorithmOIDReference");
	xcep_ra(w, c, t);
	xw_nil(w, "keyArchivalAttributes");
	xcep_extensions(w, c, t);
	xw_raw(w, "</attributes>");
	xw_raw(w, "</policy>");
	/* The EKU / application policy OIDs are listed too, as Windows does. */
	xcep_mark_list(c, &t->eku, XCEP_GROUP_EKU);
	xcep_mark_list(c, &t->app_policies, XCEP_GROUP_EKU);
}

static int
xcep_enroll_permission(const struct oc_xcep_view *v, const struct oc_ca_entry *ca)
{
	for (size_t i = 0; i < v->nentries; i++) {
		const struct oc_template *t = v->entries[i].t;
		if (v->entries[i].enroll && t != NULL && t->cn != NULL &&
		    oc_strlist_contains_ci(&ca->templates, t->cn))
			return 1;
	}
	return 0;
}

static void
xcep_cas(struct xw *w, struct xcep_ctx *c)
{
	const struct oc_xcep_view *v = c->view;
	int any = 0;

	for (size_t i = 0; i < v->ncas; i++) {
		const struct oc_ca_entry *ca = &v->cas[i];
		char *b64 = NULL;
		int r;

		if (!c->ca_ok[i])
			continue;
		if ((r = oc_b64_encode(ca->cert_der, ca->cert_der_len, &b64)) != OC_OK) {
			if (w->r == OC_OK)
				w->r = r;
			return;
		}
		if (!any++)
			xw_raw(w, "<cAs>");
		xw_raw(w, "<cA><uris>");
		for (size_t k = 0; k < ca->nuris; k++) {
			const struct oc_ces_uri *u = &ca->uris[k];
			if (!xcep_uri_ok(u))
				continue;
			xw_raw(w, "<cAURI>");
			xw_u64(w, "clientAuthentication", u->auth);
			xw_text_trim(w, "uri", u->uri);
			xw_u64(w, "priority", u->priority);
			xw_bool(w, "renewalOnly", u->renewal_only);
			xw_raw(w, "</cAURI>");
		}
		xw_raw(w, "</uris>");
		xw_text(w, "certificate", b64);
		free(b64);
		xw_bool(w, "enrollPermission", xcep_enroll_permission(v, ca));
		xw_int(w, "cAReferenceID", (int)i);
		xw_raw(w, "</cA>");
	}
	if (any)
		xw_raw(w, "</cAs>");
	else
		xw_nil(w, "cAs");
}

static void
xcep_oids(struct xw *w, struct xcep_ctx *c)
{
	int any = 0;

	for (size_t i = 0; i < c->oids.n; i++) {
		const struct xcep_oid *o = &c->oids.v[i];
		if (!o->used)
			continue;
		if (!any++)
			xw_raw(w, "<oIDs>");
		xw_raw(w, "<oID>");
		xw_text(w, "value", o->value);
		xw_u64(w, "group", o->group);
		xw_int(w, "oIDReferenceID", o->id);
		xw_text(w, "defaultName", o->name);
		xw_raw(w, "</oID>");
	}
	if (any)
		xw_raw(w, "</oIDs>");
	else
		xw_nil(w, "oIDs");
}

/* The whole policy: policies, then cAs and oIDs (which depend on what was emitted). */
static int
xcep_full(struct xw *w, struct xcep_ctx *c)
{
	const struct oc_xcep_view *v = c->view;
	uint32_t maxc = v->max_client_version ? v->max_client_version : XCEP_DEFAULT_MAX_VERSION;
	uint32_t maxs = v->max_server_version ? v->max_server_version : XCEP_DEFAULT_MAX_VERSION;
	int any = 0, r;

	c->z = xcep_effective_version(c->req->has_filter, c->req->client_version, maxc,
	    XCEP_NIL_DEFAULT_VERSION);
	c->y = xcep_effective_version(c->req->has_filter, c->req->server_version, maxs, maxs);
	/* OID ids come from the whole view, so filters do not renumber them. */
	for (size_t i = 0; i < v->nentries; i++) {
		if (v->entries[i].t == NULL)
			continue;
		if ((r = xcep_oidtab_add_template(&c->oids, v->entries[i].t)) != OC_OK) {
			error_fr(r, "template %s: OID table", v->entries[i].t->cn ?
			    v->entries[i].t->cn : "?");
			return r;
		}
	}
	if (v->ncas > 0 && (c->ca_ok = calloc(v->ncas, sizeof(*c->ca_ok))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < v->ncas; i++) {
		const struct oc_ca_entry *ca = &v->cas[i];
		for (size_t k = 0; k < ca->nuris; k++)
			if (xcep_uri_ok(&ca->uris[k]))
				c->ca_ok[i] = 1;
		if (ca->cert_der == NULL || ca->cert_der_len == 0)
			c->ca_ok[i] = 0;
		if (!c->ca_ok[i])
			log_debug("CA %s not published: no certificate or no usable CES URI",
			    ca->name != NULL ? ca->name : "?");
	}

	xw_nil(w, "policiesNotChanged");
	for (size_t i = 0; i < v->nentries && w->r == OC_OK; i++) {
		if (!xcep_selected(c, &v->entries[i]))
			continue;
		if (!any++)
			xw_raw(w, "<policies>");
		xcep_policy(w, c, &v->entries[i]);
	}
	if (any)
		xw_raw(w, "</policies>");
	else
		xw_nil(w, "policies");
	xw_raw(w, "</response>");
	xcep_cas(w, c);
	xcep_oids(w, c);
	return w->r;
}

int
oc_xcep_render_response(struct ocbuf *out, const struct oc_xcep_view *view,
    const struct oc_xcep_request *req, const char *relates_to)
{
	struct xcep_ctx c;
	struct xw w = { out, OC_OK };
	size_t start;
	int not_changed;

	if (out == NULL || view == NULL || req == NULL || view->policy_id == NULL ||
	    (view->nentries > 0 && view->entries == NULL) ||
	    (view->ncas > 0 && view->cas == NULL))
		return OC_ERR_INVALID;
	if (view->nentries > OC_TEMPLATES_MAX)
		return OC_ERR_LIMIT;
	memset(&c, 0, sizeof(c));
	c.view = view;
	c.req = req;
	start = out->len;
	not_changed = req->has_last_update && req->last_update >= view->last_change;

	w.r = oc_soap_begin(out, OC_XCEP_ACTION_RESPONSE, relates_to);
	xw_raw(&w, "<GetPoliciesResponse xmlns=\"" OC_NS_XCEP "\"><response>");
	xw_text(&w, "policyID", view->policy_id);
	xw_text(&w, "policyFriendlyName", view->friendly_name != NULL ?
	    view->friendly_name : "");
	xw_u64(&w, "nextUpdateHours", view->next_update_hours > 0 ?
	    view->next_update_hours : XCEP_DEFAULT_UPDATE_HOURS);
	if (not_changed) {
		/* xcep.md 5.2 / 8.3: nothing but the header fields */
		xw_bool(&w, "policiesNotChanged", 1);
		xw_nil(&w, "policies");
		xw_raw(&w, "</response>");
		xw_nil(&w, "cAs");
		xw_nil(&w, "oIDs");
	} else if (w.r == OC_OK)
		w.r = xcep_full(&w, &c);
	xw_raw(&w, "</GetPoliciesResponse>");
	if (w.r == OC_OK)
		w.r = oc_soap_end(out);

	xcep_oidtab_free(&c.oids);
	free(c.ca_ok);
	if (w.r != OC_OK) {
		/* never hand back half a response */
		out->len = start;
		if (out->d != NULL)
			out->d[start] = '\0';
	}
	return w.r;
}
