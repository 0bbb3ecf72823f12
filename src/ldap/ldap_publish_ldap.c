/*
 * The LDAP side of `opencesd ad publish` (ldap_publish.h): base-scope reads
 * of the planned entries, adds and modifies with libldap.
 */
#include "ldap/ldap_publish.h"

#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "common/limits.h"
#include "common/log.h"

/* LDAP_SERVER_SD_FLAGS_OID, value OWNER|GROUP|DACL (templates.md 6.3) */
#define SD_FLAGS_OID "1.2.840.113556.1.4.801"
static const char sd_flags_value[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };

static int
ldap_err(int rc)
{
	switch (rc) {
	case LDAP_SUCCESS: return OC_OK;
	case LDAP_NO_SUCH_OBJECT: return OC_ERR_NOT_FOUND;
	case LDAP_ALREADY_EXISTS: return OC_ERR_EXISTS;
	case LDAP_INSUFFICIENT_ACCESS: case LDAP_STRONG_AUTH_REQUIRED: return OC_ERR_DENIED;
	case LDAP_SERVER_DOWN: case LDAP_CONNECT_ERROR: return OC_ERR_IO;
	case LDAP_TIMEOUT: case LDAP_TIMELIMIT_EXCEEDED: return OC_ERR_TIMEOUT;
	case LDAP_SIZELIMIT_EXCEEDED: case LDAP_ADMINLIMIT_EXCEEDED: return OC_ERR_LIMIT;
	}
	return OC_ERR_INVALID;
}

/* Base search of dn for attrs; *res NULL when there is no such entry. */
static int
base_search(struct oc_ldap *l, const char *dn, char **attrs, LDAPControl **sctrls,
    LDAPMessage **res)
{
	struct timeval tv = { oc_ldap_timeout(l) > 0 ? oc_ldap_timeout(l) : 10, 0 };
	int rc;

	*res = NULL;
	rc = ldap_search_ext_s(oc_ldap_handle(l), dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs,
	    0, sctrls, NULL, &tv, 2, res);
	if (rc == LDAP_NO_SUCH_OBJECT) {
		ldap_msgfree(*res);
		*res = NULL;
		return OC_OK;
	}
	if (rc != LDAP_SUCCESS) {
		log_error("search %s: %s", dn, ldap_err2string(rc));
		ldap_msgfree(*res);
		*res = NULL;
		return ldap_err(rc);
	}
	return OC_OK;
}

/* The entry of a base search into cur (attribute descriptions without options). */
static int
entry_from(LDAP *ld, LDAPMessage *msg, struct oc_ldap_entry *cur)
{
	BerElement *ber = NULL;
	char *a;
	int r = OC_OK;

	for (a = ldap_first_attribute(ld, msg, &ber); a != NULL && r == OC_OK;
	    a = ldap_next_attribute(ld, msg, ber)) {
		struct berval **vals = ldap_get_values_len(ld, msg, a);

		for (size_t i = 0; vals != NULL && vals[i] != NULL && r == OC_OK; i++)
			r = oc_ldap_entry_add(cur, a, vals[i]->bv_val, vals[i]->bv_len);
		ldap_value_free_len(vals);
		ldap_memfree(a);
	}
	if (a != NULL)
		ldap_memfree(a);
	ber_free(ber, 0);
	return r;
}

static int
io_read(void *ctx, const struct oc_ldap_pub_target *t, struct oc_ldap_entry *cur, int *found)
{
	struct oc_ldap *l = ctx;
	LDAPMessage *res = NULL, *msg;
	char *attrs[OC_LDAP_PUB_ATTRS_MAX + 2];
	size_t n = 0;
	int r;

	*found = 0;
	memset(cur, 0, sizeof(*cur));
	attrs[n++] = "objectClass";
	if (t->mode != OC_LDAP_PUB_IF_MISSING)
		for (size_t i = 0; i < t->e.n && n < OC_LDAP_PUB_ATTRS_MAX; i++)
			attrs[n++] = t->e.a[i].name;
	for (size_t i = 0; t->owned != NULL && t->owned[i] != NULL && n < OC_LDAP_PUB_ATTRS_MAX + 1; i++)
		attrs[n++] = (char *)t->owned[i];
	attrs[n] = NULL;
	if ((r = base_search(l, t->e.dn, attrs, NULL, &res)) != OC_OK || res == NULL)
		goto out;
	if ((msg = ldap_first_entry(oc_ldap_handle(l), res)) == NULL)
		goto out;
	if ((r = oc_ldap_entry_set_dn(cur, t->e.dn)) != OC_OK ||
	    (r = entry_from(oc_ldap_handle(l), msg, cur)) != OC_OK)
		goto out;
	*found = 1;
out:
	ldap_msgfree(res);
	if (r != OC_OK)
		oc_ldap_entry_clear(cur);
	return r;
}

static void
mods_free(LDAPMod **mods)
{
	for (size_t i = 0; mods != NULL && mods[i] != NULL; i++) {
		free(mods[i]->mod_bvalues);
		free(mods[i]);
	}
	free(mods);
}

/* LDAPMod for attribute a (values borrowed from a). */
static LDAPMod *
mod_of(int op, const struct oc_ldap_attr *a)
{
	LDAPMod *m;
	struct berval *bv;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	/* one allocation: the pointer array then the bervals */
	if ((m->mod_bvalues = calloc(1, (a->n + 1) * sizeof(struct berval *) +
	    a->n * sizeof(struct berval))) == NULL) {
		free(m);
		return NULL;
	}
	bv = (struct berval *)(m->mod_bvalues + a->n + 1);
	m->mod_op = op | LDAP_MOD_BVALUES;
	m->mod_type = a->name;
	for (size_t i = 0; i < a->n; i++) {
		bv[i].bv_val = (char *)a->v[i].p;
		bv[i].bv_len = a->v[i].len;
		m->mod_bvalues[i] = &bv[i];
	}
	if (a->n == 0) {
		free(m->mod_bvalues);
		m->mod_bvalues = NULL;
	}
	return m;
}

static int
io_apply(void *ctx, const struct oc_ldap_change *c)
{
	struct oc_ldap *l = ctx;
	const struct oc_ldap_entry *e = &c->target->e;
	LDAPMod **mods = NULL;
	size_t n = c->add ? e->n : c->nmods;
	int rc, r = OC_ERR_NOMEM;

	if ((mods = calloc(n + 1, sizeof(*mods))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		int op = LDAP_MOD_ADD;

		if (!c->add)
			op = c->mods[i].op == OC_LDAP_MOD_REPLACE ? LDAP_MOD_REPLACE :
			    c->mods[i].op == OC_LDAP_MOD_DELETE ? LDAP_MOD_DELETE : LDAP_MOD_ADD;
		if ((mods[i] = mod_of(op, c->add ? &e->a[i] : &c->mods[i].a)) == NULL)
			goto out;
	}
	if (c->add)
		rc = ldap_add_ext_s(oc_ldap_handle(l), e->dn, mods, NULL, NULL);
	else
		rc = ldap_modify_ext_s(oc_ldap_handle(l), e->dn, mods, NULL, NULL);
	if (rc != LDAP_SUCCESS) {
		char *diag = NULL;

		(void)ldap_get_option(oc_ldap_handle(l), LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		log_error("%s %s: %s%s%s", c->add ? "add" : "modify", e->dn, ldap_err2string(rc),
		    diag && *diag ? ": " : "", diag ? diag : "");
		ldap_memfree(diag);
		r = ldap_err(rc);
		goto out;
	}
	r = OC_OK;
out:
	mods_free(mods);
	return r;
}

void
oc_ldap_pub_io_ldap(struct oc_ldap *l, int dry_run, struct oc_ldap_pub_io *io)
{
	memset(io, 0, sizeof(*io));
	io->read = io_read;
	io->apply = dry_run ? NULL : io_apply;
	io->ctx = l;
}

/* The first value of attr in a base search of dn (with sctrls); *p malloc'd. */
static int
read_one(struct oc_ldap *l, const char *dn, const char *attr, LDAPControl **sctrls,
    size_t max, uint8_t **p, size_t *len)
{
	LDAPMessage *res = NULL, *msg;
	struct berval **vals = NULL;
	char *attrs[2] = { (char *)attr, NULL };
	int r;

	*p = NULL;
	*len = 0;
	if ((r = base_search(l, dn, attrs, sctrls, &res)) != OC_OK)
		return r;
	r = OC_ERR_NOT_FOUND;
	if (res == NULL || (msg = ldap_first_entry(oc_ldap_handle(l), res)) == NULL ||
	    (vals = ldap_get_values_len(oc_ldap_handle(l), msg, attr)) == NULL || vals[0] == NULL)
		goto out;
	r = OC_ERR_LIMIT;
	if (vals[0]->bv_len > max)
		goto out;
	r = OC_ERR_NOMEM;
	if ((*p = malloc(vals[0]->bv_len + 1)) == NULL)
		goto out;
	memcpy(*p, vals[0]->bv_val, vals[0]->bv_len);
	*len = vals[0]->bv_len;
	r = OC_OK;
out:
	ldap_value_free_len(vals);
	ldap_msgfree(res);
	return r;
}

int
oc_ldap_pub_domain_sid(struct oc_ldap *l, struct oc_ad_sid *sid)
{
	uint8_t *p = NULL;
	size_t len = 0, used = 0;
	int r;

	if (l == NULL || sid == NULL || oc_ldap_default_nc(l) == NULL)
		return OC_ERR_INVALID;
	if ((r = read_one(l, oc_ldap_default_nc(l), "objectSid", NULL, OC_AD_SID_BYTES_MAX,
	    &p, &len)) != OC_OK) {
		error_fr(r, "objectSid of %s", oc_ldap_default_nc(l));
		return r;
	}
	r = oc_ad_sid_parse(p, len, sid, &used);
	if (r == OC_OK && (used != len || sid->nsub < 4 || sid->sub[0] != 21))
		r = OC_ERR_PARSE;           /* a domain SID is S-1-5-21-a-b-c */
	free(p);
	return r;
}

int
oc_ldap_pub_read_sd(struct oc_ldap *l, const char *dn, uint8_t **sd, size_t *len)
{
	LDAPControl ctrl, *sctrls[2] = { &ctrl, NULL };

	if (l == NULL || dn == NULL || sd == NULL || len == NULL)
		return OC_ERR_INVALID;
	memset(&ctrl, 0, sizeof(ctrl));
	ctrl.ldctl_oid = SD_FLAGS_OID;
	ctrl.ldctl_value.bv_val = (char *)sd_flags_value;
	ctrl.ldctl_value.bv_len = sizeof(sd_flags_value);
	ctrl.ldctl_iscritical = 1;
	return read_one(l, dn, "nTSecurityDescriptor", sctrls, OC_AD_SD_MAX, sd, len);
}
