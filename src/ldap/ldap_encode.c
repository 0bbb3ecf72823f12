/*
 * Encoders for the entries `opencesd ad publish` writes (see ldap_encode.h).
 */
#include "ldap/ldap_encode.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "directory/ad_attr.h"

void
oc_ldap_attr_clear(struct oc_ldap_attr *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i].p);
	free(a->v);
	free(a->name);
	memset(a, 0, sizeof(*a));
}

void
oc_ldap_entry_clear(struct oc_ldap_entry *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++)
		oc_ldap_attr_clear(&e->a[i]);
	free(e->a);
	free(e->dn);
	memset(e, 0, sizeof(*e));
}

int
oc_ldap_entry_set_dn(struct oc_ldap_entry *e, const char *dn)
{
	char *d;

	if (e == NULL || dn == NULL)
		return OC_ERR_INVALID;
	if ((d = strdup(dn)) == NULL)
		return OC_ERR_NOMEM;
	free(e->dn);
	e->dn = d;
	return OC_OK;
}

/* name without ";options" equals want (case-insensitive)? */
static int
name_eq(const char *name, const char *want)
{
	size_t n = strcspn(name, ";");

	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

const struct oc_ldap_attr *
oc_ldap_entry_get(const struct oc_ldap_entry *e, const char *name)
{
	if (e == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < e->n; i++)
		if (name_eq(e->a[i].name, name))
			return &e->a[i];
	return NULL;
}

int
oc_ldap_entry_add(struct oc_ldap_entry *e, const char *name, const void *p, size_t len)
{
	struct oc_ldap_attr *a = NULL, *na;
	struct oc_ldap_val *nv;
	uint8_t *copy = NULL;
	size_t i;

	if (e == NULL || name == NULL || (p == NULL && len > 0))
		return OC_ERR_INVALID;
	if (len > OC_AD_ATTR_VALUE_MAX)
		return OC_ERR_LIMIT;
	for (i = 0; i < e->n; i++)
		if (name_eq(e->a[i].name, name))
			a = &e->a[i];
	if (a == NULL) {
		if (e->n >= OC_LDAP_PUB_ATTRS_MAX)
			return OC_ERR_LIMIT;
		if ((na = realloc(e->a, (e->n + 1) * sizeof(*na))) == NULL)
			return OC_ERR_NOMEM;
		e->a = na;
		a = &e->a[e->n];
		memset(a, 0, sizeof(*a));
		if ((a->name = strndup(name, strcspn(name, ";"))) == NULL)
			return OC_ERR_NOMEM;
		e->n++;
	}
	if (a->n >= OC_LDAP_PUB_VALUES_MAX)
		return OC_ERR_LIMIT;
	if ((copy = malloc(len + 1)) == NULL)
		return OC_ERR_NOMEM;
	if (len > 0)
		memcpy(copy, p, len);
	copy[len] = '\0';
	if ((nv = realloc(a->v, (a->n + 1) * sizeof(*nv))) == NULL) {
		free(copy);
		return OC_ERR_NOMEM;
	}
	a->v = nv;
	a->v[a->n].p = copy;
	a->v[a->n].len = len;
	a->n++;
	return OC_OK;
}

int
oc_ldap_entry_add_str(struct oc_ldap_entry *e, const char *name, const char *s)
{
	if (s == NULL)
		return OC_ERR_INVALID;
	return oc_ldap_entry_add(e, name, s, strlen(s));
}

int
oc_ldap_entry_add_u32(struct oc_ldap_entry *e, const char *name, uint32_t v)
{
	char buf[12];

	oc_ad_attr_i32_text(v, buf);
	return oc_ldap_entry_add_str(e, name, buf);
}

int
oc_ldap_entry_add_list(struct oc_ldap_entry *e, const char *name, const struct oc_strlist *l)
{
	int r;

	for (size_t i = 0; l != NULL && i < l->n; i++)
		if ((r = oc_ldap_entry_add_str(e, name, l->v[i])) != OC_OK)
			return r;
	return OC_OK;
}

int
oc_ldap_attr_has(const struct oc_ldap_attr *a, const void *p, size_t len)
{
	for (size_t i = 0; a != NULL && i < a->n; i++)
		if (a->v[i].len == len && (len == 0 || memcmp(a->v[i].p, p, len) == 0))
			return 1;
	return 0;
}

int
oc_ldap_attr_same(const struct oc_ldap_attr *a, const struct oc_ldap_attr *b)
{
	size_t na = a ? a->n : 0, nb = b ? b->n : 0;

	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (!oc_ldap_attr_has(b, a->v[i].p, a->v[i].len) ||
		    !oc_ldap_attr_has(a, b->v[i].p, b->v[i].len))
			return 0;
	return 1;
}

int
oc_ldap_enc_template(const struct oc_template *t, const char *dn, struct oc_ldap_entry *e)
{
	uint8_t period[8], ku[2];
	char csp[16 + OC_NAME_MAX];
	int r;

	if (t == NULL || t->cn == NULL || t->oid == NULL || dn == NULL || e == NULL)
		return OC_ERR_INVALID;
	memset(e, 0, sizeof(*e));
	if ((r = oc_ldap_entry_set_dn(e, dn)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(e, "objectClass", "top")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(e, "objectClass", "pKICertificateTemplate")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(e, "cn", t->cn)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(e, "displayName",
	        t->display_name ? t->display_name : t->cn)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(e, "flags", t->general_flags)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(e, "revision", t->revision)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(e, "msPKI-Template-Schema-Version",
	        t->schema_version ? t->schema_version : 1)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(e, "msPKI-Template-Minor-Revision",
	        t->minor_revision)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(e, "msPKI-Cert-Template-OID", t->oid)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(e, "msPKI-Certificate-Name-Flag", t->name_flags)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(e, "msPKI-Enrollment-Flag", t->enrollment_flags)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(e, "msPKI-Private-Key-Flag", t->private_key_flags)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(e, "msPKI-Minimal-Key-Size", t->min_key_size)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(e, "msPKI-RA-Signature", t->ra_signatures)) != OC_OK ||
	    (r = oc_ldap_entry_add_list(e, "pKICriticalExtensions", &t->critical_exts)) != OC_OK)
		goto out;
	for (size_t i = 0; i < t->ncsps; i++) {
		int n = snprintf(csp, sizeof(csp), "%u,%s", t->csps[i].priority,
		    t->csps[i].name ? t->csps[i].name : "");

		if (n < 0 || (size_t)n >= sizeof(csp)) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((r = oc_ldap_entry_add_str(e, "pKIDefaultCSPs", csp)) != OC_OK)
			goto out;
	}
	if ((r = oc_ldap_entry_add_u32(e, "pKIDefaultKeySpec", t->key_spec)) != OC_OK)
		goto out;
	oc_ad_attr_period_encode(t->validity_seconds, period);
	if ((r = oc_ldap_entry_add(e, "pKIExpirationPeriod", period, 8)) != OC_OK)
		goto out;
	oc_ad_attr_period_encode(t->renewal_seconds, period);
	if ((r = oc_ldap_entry_add(e, "pKIOverlapPeriod", period, 8)) != OC_OK ||
	    (r = oc_ldap_entry_add_list(e, "pKIExtendedKeyUsage", &t->eku)) != OC_OK)
		goto out;
	if (t->has_key_usage) {
		ku[0] = (uint8_t)(t->key_usage >> 8);
		ku[1] = (uint8_t)(t->key_usage & 0xff);
		if ((r = oc_ldap_entry_add(e, "pKIKeyUsage", ku, 2)) != OC_OK)
			goto out;
	}
	if ((r = oc_ldap_entry_add_u32(e, "pKIMaxIssuingDepth",
	        (uint32_t)t->max_issuing_depth)) != OC_OK ||
	    (r = oc_ldap_entry_add_list(e, "msPKI-Certificate-Application-Policy",
	        &t->app_policies)) != OC_OK ||
	    (r = oc_ldap_entry_add_list(e, "msPKI-Certificate-Policy", &t->cert_policies)) != OC_OK ||
	    (r = oc_ldap_entry_add_list(e, "msPKI-RA-Application-Policies",
	        &t->ra_app_policies)) != OC_OK ||
	    (r = oc_ldap_entry_add_list(e, "msPKI-RA-Policies", &t->ra_policies)) != OC_OK ||
	    (r = oc_ldap_entry_add_list(e, "msPKI-Supersede-Templates", &t->superseded)) != OC_OK)
		goto out;
	r = OC_OK;
out:
	if (r != OC_OK)
		oc_ldap_entry_clear(e);
	return r;
}

int
oc_ldap_enc_ces(const struct oc_ces_uri *u, struct ocbuf *b)
{
	if (u == NULL || u->uri == NULL || b == NULL || strchr(u->uri, '\n') != NULL)
		return OC_ERR_INVALID;
	return ocbuf_printf(b, "%u\n%u\n%d\n%s\n0", u->priority, u->auth,
	    u->renewal_only ? 1 : 0, u->uri);
}

int
oc_ldap_oid_cn(const char *oid, char *out, size_t outlen)
{
	uint8_t u16[2 * OC_OID_MAX], md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	const char *last;
	size_t n, lastlen;

	if (oid == NULL || out == NULL || outlen < OC_LDAP_OID_CN_MAX)
		return OC_ERR_INVALID;
	n = strlen(oid);
	if (n == 0 || n > OC_OID_MAX || strspn(oid, "0123456789.") != n)
		return OC_ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		u16[2 * i] = (uint8_t)oid[i];
		u16[2 * i + 1] = 0;
	}
	if (!EVP_Digest(u16, 2 * n, md, &mdlen, EVP_md5(), NULL) || mdlen != 16)
		return OC_ERR_CRYPTO;
	last = strrchr(oid, '.');
	last = last ? last + 1 : oid;
	lastlen = strlen(last);
	if (lastlen == 0)
		return OC_ERR_INVALID;
	if (lastlen > 16)
		lastlen = 16;       /* "the last arc, at most 16 characters" */
	memcpy(out, last, lastlen);
	out[lastlen] = '.';
	for (unsigned i = 0; i < 16; i++)
		snprintf(out + lastlen + 1 + 2 * i, 3, "%02X", md[i]);
	return OC_OK;
}

int
oc_ldap_ca_cn(const char *name, char **out)
{
	static const char bad[] = "!\"#%&'()*+,/:;<=>?[\\]^`{|}";
	struct ocbuf b;
	size_t len;
	int r = OC_OK;

	if (name == NULL || out == NULL || (len = strlen(name)) == 0 || len > OC_NAME_MAX)
		return OC_ERR_INVALID;
	ocbuf_init(&b, 5 * OC_NAME_MAX + 1);
	for (size_t i = 0; i < len && r == OC_OK; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c >= 0x7f || strchr(bad, c) != NULL)
			r = ocbuf_printf(&b, "!%04x", c);
		else
			r = ocbuf_putc(&b, (char)c);
	}
	if (r == OC_OK && ocbuf_avail(&b) > 57)
		r = OC_ERR_NOT_SUPPORTED;
	if (r == OC_OK)
		*out = (char *)ocbuf_take(&b, NULL);
	ocbuf_free(&b);
	return r;
}

int
oc_ldap_dn_escape(const char *v, char **out)
{
	struct ocbuf b;
	size_t len;
	int r = OC_OK;

	if (v == NULL || out == NULL || (len = strlen(v)) == 0 || len > OC_NAME_MAX)
		return OC_ERR_INVALID;
	ocbuf_init(&b, 3 * OC_NAME_MAX + 1);
	for (size_t i = 0; i < len && r == OC_OK; i++) {
		char c = v[i];

		if (strchr(",+\"\\<>;=", c) != NULL || (i == 0 && (c == ' ' || c == '#')) ||
		    (i + 1 == len && c == ' '))
			r = ocbuf_putc(&b, '\\');
		if (r == OC_OK)
			r = ocbuf_putc(&b, c);
	}
	if (r == OC_OK)
		*out = (char *)ocbuf_take(&b, NULL);
	ocbuf_free(&b);
	return r;
}
