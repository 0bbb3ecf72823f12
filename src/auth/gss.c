/*
 * Kerberos acceptor over MIT GSS-API (see gss.h for the contract).
 */
#include "auth/gss.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include "auth/pac.h"
#include "common/log.h"

/* An exchange that has not completed after this many legs is refused. */
#define OC_GSS_LEGS_MAX 8

struct oc_gss {
	gss_cred_id_t cred;
	int cb_mode;
};

struct oc_gss_ctx {
	gss_ctx_id_t gctx;
	unsigned legs;
};

/* 1.3.6.1.5.5.2 SPNEGO, 1.2.840.113554.1.2.2 krb5, 1.2.840.48018.1.2.2 krb5 (Microsoft) */
static gss_OID_desc oid_spnego = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };
static gss_OID_desc oid_krb5 = { 9, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02" };
static gss_OID_desc oid_krb5_ms = { 9, (void *)"\x2a\x86\x48\x82\xf7\x12\x01\x02\x02" };

/* Append the text of one status code class to buf (bounded). */
static void
status_text(OM_uint32 code, int type, char *buf, size_t size)
{
	OM_uint32 min = 0, msgctx = 0, maj;
	gss_buffer_desc s = GSS_C_EMPTY_BUFFER;
	size_t used;

	do {
		maj = gss_display_status(&min, code, type, GSS_C_NO_OID, &msgctx, &s);
		if (GSS_ERROR(maj))
			break;
		used = strlen(buf);
		if (used + 1 < size)
			snprintf(buf + used, size - used, "%s%.*s", used ? "; " : "",
			    (int)(s.length > 200 ? 200 : s.length), (const char *)s.value);
		gss_release_buffer(&min, &s);
	} while (msgctx != 0);
}

/* Log a GSS failure at info level: major and minor text, never tokens. */
static void
log_gss(const char *what, OM_uint32 maj, OM_uint32 min)
{
	char text[600];

	text[0] = '\0';
	status_text(maj, GSS_C_GSS_CODE, text, sizeof(text));
	if (min != 0)
		status_text(min, GSS_C_MECH_CODE, text, sizeof(text));
	log_info("%s: GSS major 0x%08x minor %u: %s", what, (unsigned)maj,
	    (unsigned)min, text);
}

/*
 * "HTTP/host" -> host-based name "HTTP@host" (any realm, exact host);
 * anything else ("svc/host@REALM", "name@REALM") -> a krb5 principal name.
 */
static int
import_spn(const char *spn, gss_name_t *namep)
{
	OM_uint32 maj, min = 0;
	gss_buffer_desc nb;
	gss_OID type = (gss_OID)GSS_KRB5_NT_PRINCIPAL_NAME;
	char hb[OC_GSS_PRINCIPAL_MAX + 1];
	const char *slash;
	size_t n = strlen(spn);

	if (n == 0 || n > OC_GSS_PRINCIPAL_MAX)
		return OC_ERR_CONFIG;
	slash = strchr(spn, '/');
	if (slash != NULL && slash != spn && slash[1] != '\0' &&
	    strchr(slash + 1, '/') == NULL && strchr(spn, '@') == NULL) {
		memcpy(hb, spn, n + 1);
		hb[slash - spn] = '@';
		nb.value = hb;
		type = GSS_C_NT_HOSTBASED_SERVICE;
	} else
		nb.value = (void *)spn;
	nb.length = n;
	maj = gss_import_name(&min, &nb, type, namep);
	if (GSS_ERROR(maj)) {
		log_gss("import of the service name", maj, min);
		return OC_ERR_CONFIG;
	}
	return OC_OK;
}

int
oc_gss_new(const struct oc_gss_config *cfg, struct oc_gss **gp)
{
	struct oc_gss *g = NULL;
	gss_name_t name = GSS_C_NO_NAME;
	gss_OID_desc acc_oids[2] = { oid_spnego, oid_krb5 };
	gss_OID_set_desc acc_mechs = { 2, acc_oids };
	gss_OID_desc neg_oids[2] = { oid_krb5, oid_krb5_ms };
	gss_OID_set_desc neg_mechs = { 2, neg_oids };
	gss_key_value_element_desc kv;
	gss_key_value_set_desc store = { 1, &kv };
	char *ktname = NULL;
	OM_uint32 maj, min = 0;
	int r = OC_ERR_INTERNAL;

	if (gp == NULL)
		return OC_ERR_INVALID;
	*gp = NULL;
	if (cfg == NULL || cfg->keytab == NULL || cfg->keytab[0] == '\0' ||
	    cfg->channel_binding < OC_GSS_CB_OFF ||
	    cfg->channel_binding > OC_GSS_CB_REQUIRED)
		return OC_ERR_INVALID;
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	g->cred = GSS_C_NO_CREDENTIAL;
	g->cb_mode = cfg->channel_binding;
	if (cfg->keytab[0] == '/') {
		if (asprintf(&ktname, "FILE:%s", cfg->keytab) < 0) {
			ktname = NULL;
			r = OC_ERR_NOMEM;
			goto out;
		}
	} else if ((ktname = strdup(cfg->keytab)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if (cfg->spn != NULL && (r = import_spn(cfg->spn, &name)) != OC_OK)
		goto out;
	kv.key = "keytab";
	kv.value = ktname;
	maj = gss_acquire_cred_from(&min, name, GSS_C_INDEFINITE, &acc_mechs,
	    GSS_C_ACCEPT, &store, &g->cred, NULL, NULL);
	if (GSS_ERROR(maj)) {
		log_gss("acceptor credential from the keytab", maj, min);
		log_error("no usable key in keytab %s for %s", cfg->keytab,
		    cfg->spn ? cfg->spn : "any service");
		r = OC_ERR_CONFIG;
		goto out;
	}
	/* SPNEGO negotiates Kerberos only: no NTLM or IAKERB even if installed. */
	maj = gss_set_neg_mechs(&min, g->cred, &neg_mechs);
	if (GSS_ERROR(maj)) {
		log_gss("restricting SPNEGO to Kerberos", maj, min);
		r = OC_ERR_CONFIG;
		goto out;
	}
	*gp = g;
	g = NULL;
	r = OC_OK;
 out:
	if (name != GSS_C_NO_NAME)
		gss_release_name(&min, &name);
	free(ktname);
	oc_gss_free(g);
	return r;
}

void
oc_gss_free(struct oc_gss *g)
{
	OM_uint32 min = 0;

	if (g == NULL)
		return;
	if (g->cred != GSS_C_NO_CREDENTIAL)
		gss_release_cred(&min, &g->cred);
	free(g);
}

void
oc_gss_ctx_free(struct oc_gss_ctx *c)
{
	OM_uint32 min = 0;

	if (c == NULL)
		return;
	if (c->gctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &c->gctx, GSS_C_NO_BUFFER);
	free(c);
}

/*
 * The MS-PAC of an Active Directory ticket -> id->sid and id->groups (SIDs).
 * MIT hands out only a PAC whose KDC signatures it verified; no PAC, or one
 * without logon information (an MIT KDC), leaves both empty. A PAC that does
 * not decode is refused.
 */
static int
fill_pac(gss_name_t src, struct oc_identity *id)
{
	gss_buffer_desc attr = { 10, (void *)"urn:mspac:" };
	gss_buffer_desc val = GSS_C_EMPTY_BUFFER, disp = GSS_C_EMPTY_BUFFER;
	struct oc_pac_info pac = { 0 };
	OM_uint32 maj, min = 0;
	int authenticated = 0, complete = 0, more = -1, r = OC_ERR_AUTH;

	maj = gss_get_name_attribute(&min, src, &attr, &authenticated, &complete,
	    &val, &disp, &more);
	if (GSS_ERROR(maj)) {
		r = OC_OK;              /* no (verified) PAC */
		goto out;
	}
	if (!authenticated) {
		log_info("PAC not authenticated by the KDC signatures: refused");
		goto out;
	}
	r = oc_pac_parse(val.value, val.length, &pac);
	if (r == OC_ERR_NOT_FOUND) {    /* an MIT KDC's PAC: no SIDs */
		r = OC_OK;
		goto out;
	}
	if (r != OC_OK) {
		log_info("PAC of %zu bytes does not decode: %s", (size_t)val.length,
		    oc_strerror(r));
		r = OC_ERR_AUTH;
		goto out;
	}
	id->sid = pac.user_sid;
	pac.user_sid = NULL;
	oc_strlist_free(&id->groups);
	id->groups = pac.group_sids;
	memset(&pac.group_sids, 0, sizeof(pac.group_sids));
	/*
	 * An AD logon token also holds Everyone and Authenticated Users, which
	 * template ACLs grant to (templates.md 6.2); the PAC does not list them.
	 */
	for (size_t i = 0; i < 2; i++) {
		static const char *const wellknown[] = { "S-1-1-0", "S-1-5-11" };
		if (!oc_strlist_contains(&id->groups, wellknown[i]) &&
		    id->groups.n < OC_GROUPS_MAX &&
		    (r = oc_strlist_add(&id->groups, wellknown[i])) != OC_OK)
			goto out;
	}
	r = OC_OK;
 out:
	oc_pac_info_clear(&pac);
	gss_release_buffer(&min, &val);
	gss_release_buffer(&min, &disp);
	return r;
}

/* Principal text -> identity (name, kind). Refuses control bytes. */
static int
fill_identity(gss_name_t src, struct oc_identity *id)
{
	gss_buffer_desc disp = GSS_C_EMPTY_BUFFER;
	OM_uint32 maj, min = 0;
	const unsigned char *p;
	const char *at;
	size_t i, n;
	int r = OC_ERR_AUTH;

	maj = gss_display_name(&min, src, &disp, NULL);
	if (GSS_ERROR(maj)) {
		log_gss("client name", maj, min);
		goto out;
	}
	p = disp.value;
	n = disp.length;
	if (n == 0 || n > OC_GSS_PRINCIPAL_MAX) {
		log_info("client principal of %zu bytes refused", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f) {
			log_info("client principal with a control byte refused");
			goto out;
		}
	}
	if ((id->name = strndup((const char *)p, n)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	id->auth_type = OC_AUTH_KERBEROS;
	id->kind = OC_ACCOUNT_USER;
	at = strrchr(id->name, '@');
	if ((at != NULL && at > id->name && at[-1] == '$') ||
	    strncasecmp(id->name, "host/", 5) == 0)
		id->kind = OC_ACCOUNT_COMPUTER;
	r = OC_OK;
 out:
	gss_release_buffer(&min, &disp);
	return r;
}

int
oc_gss_accept(struct oc_gss *g, struct oc_gss_ctx **ctxp,
    const uint8_t *token, size_t len, const uint8_t *cb_data, size_t cb_len,
    uint8_t **out_token, size_t *out_len, struct oc_identity *id,
    int *complete)
{
	struct oc_gss_ctx *c = NULL;
	struct gss_channel_bindings_struct cb;
	gss_channel_bindings_t cbp = GSS_C_NO_CHANNEL_BINDINGS;
	gss_buffer_desc in, out = GSS_C_EMPTY_BUFFER;
	gss_name_t src = GSS_C_NO_NAME;
	OM_uint32 maj, min = 0, flags = 0;
	uint8_t *ot = NULL;
	int r = OC_ERR_INTERNAL;

	if (g == NULL || ctxp == NULL || out_token == NULL || out_len == NULL ||
	    id == NULL || complete == NULL)
		return OC_ERR_INVALID;
	*out_token = NULL;
	*out_len = 0;
	*complete = 0;
	c = *ctxp;
	*ctxp = NULL;           /* given back only when another leg is needed */
	if (token == NULL || len == 0) {
		r = OC_ERR_AUTH_MISSING;
		goto out;
	}
	if (len > OC_GSS_TOKEN_MAX) {
		log_info("GSS token of %zu bytes refused (max %d)", len, OC_GSS_TOKEN_MAX);
		r = OC_ERR_LIMIT;
		goto out;
	}
	if ((cb_data == NULL) != (cb_len == 0) || cb_len > OC_GSS_CB_MAX) {
		r = OC_ERR_INVALID;
		goto out;
	}
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		c->gctx = GSS_C_NO_CONTEXT;
	}
	if (++c->legs > OC_GSS_LEGS_MAX) {
		log_info("GSS exchange not complete after %d legs", OC_GSS_LEGS_MAX);
		r = OC_ERR_AUTH;
		goto out;
	}

	if (g->cb_mode == OC_GSS_CB_REQUIRED && cb_data == NULL) {
		log_info("channel binding required, but this connection has none");
		r = OC_ERR_AUTH;
		goto out;
	}
	if (g->cb_mode != OC_GSS_CB_OFF && cb_data != NULL) {
		memset(&cb, 0, sizeof(cb));
		cb.initiator_addrtype = GSS_C_AF_UNSPEC;
		cb.acceptor_addrtype = GSS_C_AF_UNSPEC;
		cb.application_data.length = cb_len;
		cb.application_data.value = (void *)cb_data;
		cbp = &cb;
	}

	in.length = len;
	in.value = (void *)token;
	/* No delegated-credential handle: a forwarded TGT is dropped. */
	maj = gss_accept_sec_context(&min, &c->gctx, g->cred, &in, cbp, &src,
	    NULL, &out, &flags, NULL, NULL);
	if (GSS_ERROR(maj)) {
		log_gss("Kerberos authentication refused", maj, min);
		r = OC_ERR_AUTH;
		goto out;
	}
	if (out.length > 0) {
		if (out.length > OC_GSS_TOKEN_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((ot = malloc(out.length)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		memcpy(ot, out.value, out.length);
	}
	if (maj & GSS_S_CONTINUE_NEEDED) {
		*ctxp = c;
		c = NULL;
		*out_token = ot;
		*out_len = out.length;
		ot = NULL;
		r = OC_OK;
		goto out;
	}
	if (g->cb_mode == OC_GSS_CB_REQUIRED &&
	    (flags & GSS_C_CHANNEL_BOUND_FLAG) == 0) {
		log_info("channel binding required, but the initiator sent none");
		r = OC_ERR_AUTH;
		goto out;
	}
	oc_identity_clear(id);
	if ((r = fill_identity(src, id)) != OC_OK ||
	    (r = fill_pac(src, id)) != OC_OK) {
		oc_identity_clear(id);
		goto out;
	}
	*out_token = ot;
	*out_len = out.length;
	ot = NULL;
	*complete = 1;
	r = OC_OK;
 out:
	if (out.value != NULL)
		gss_release_buffer(&min, &out);
	if (src != GSS_C_NO_NAME)
		gss_release_name(&min, &src);
	free(ot);
	oc_gss_ctx_free(c);
	return r;
}
