/*
 * Reading the enrollment policy out of LDAP (ldap_mirror.h): the searches,
 * the change stamp, the content digest, and decoding entries into templates,
 * CA entries and enterprise OIDs with the AD attribute decoders (ad_attr.h).
 */
#define LDAP_DEPRECATED 0
#include "ldap/ldap_mirror.h"

#include <lber.h>
#include <ldap.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/util.h"
#include "common/log.h"
#include "directory/ad_attr.h"

#define PKS_RDN   "CN=Public Key Services,CN=Services,"
#define OIDS_MAX  (4 * OC_TEMPLATES_MAX)
#define DN_MAX    2048

static char *template_attrs[] = {
	"cn", "displayName", "msPKI-Cert-Template-OID", "msPKI-Template-Schema-Version",
	"revision", "msPKI-Template-Minor-Revision", "flags", "msPKI-Enrollment-Flag",
	"msPKI-Private-Key-Flag", "msPKI-Certificate-Name-Flag", "msPKI-Minimal-Key-Size",
	"pKIDefaultKeySpec", "msPKI-RA-Signature", "pKIMaxIssuingDepth", "pKIExpirationPeriod",
	"pKIOverlapPeriod", "pKIKeyUsage", "pKIExtendedKeyUsage",
	"msPKI-Certificate-Application-Policy", "msPKI-Certificate-Policy",
	"pKICriticalExtensions", "msPKI-RA-Application-Policies", "msPKI-RA-Policies",
	"msPKI-Supersede-Templates", "pKIDefaultCSPs", "nTSecurityDescriptor", NULL
};
static char *ca_attrs[] = {
	"cn", "dNSHostName", "cACertificate", "cACertificate;binary", "certificateTemplates",
	"msPKI-Enrollment-Servers", NULL
};
static char *oid_attrs[] = { "msPKI-Cert-Template-OID", "displayName", "flags", NULL };
static char *stamp_attrs[] = { "uSNChanged", "modifyTimestamp", "entryCSN", NULL };

void
oc_ldap_snapshot_clear(struct oc_ldap_snapshot *s)
{
	if (s == NULL)
		return;
	oc_dir_template_list_free(s->m.templates, s->m.ntemplates);
	oc_dir_ca_list_free(s->m.cas, s->m.ncas);
	oc_dir_oids_free(s->m.oids, s->m.noids);
	memset(s, 0, sizeof(*s));
}

/* The attribute type of a description: "cACertificate;binary" -> "cACertificate". */
static int
attr_is(const char *desc, const char *name)
{
	size_t n = strcspn(desc, ";");

	return strlen(name) == n && strncasecmp(desc, name, n) == 0;
}

static int
search(struct oc_ldap *l, const char *base, int scope, const char *filter, char **attrs,
    int with_sd, int limit, LDAPMessage **res, char *err)
{
	LDAP *ld = oc_ldap_handle(l);
	static char sd_value[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	LDAPControl sd = { OC_LDAP_SD_FLAGS_OID, { sizeof(sd_value), sd_value }, 0 };
	LDAPControl *ctrls[] = { &sd, NULL };
	struct timeval tv = { .tv_sec = oc_ldap_timeout(l), .tv_usec = 0 };
	int rc;

	*res = NULL;
	rc = ldap_search_ext_s(ld, base, scope, filter, attrs, 0, with_sd ? ctrls : NULL, NULL,
	    &tv, limit + 1, res);
	if (rc == LDAP_SUCCESS && ldap_count_entries(ld, *res) > limit)
		rc = LDAP_SIZELIMIT_EXCEEDED;
	if (rc == LDAP_SUCCESS)
		return OC_OK;
	ldap_msgfree(*res);
	*res = NULL;
	if (rc == LDAP_NO_SUCH_OBJECT) {
		snprintf(err, OC_LDAP_MIRROR_ERR_MAX, "%s: no such object", base);
		return OC_ERR_NOT_FOUND;
	}
	snprintf(err, OC_LDAP_MIRROR_ERR_MAX, "search %s: %s", base, ldap_err2string(rc));
	if (rc == LDAP_SIZELIMIT_EXCEEDED)
		return OC_ERR_LIMIT;
	if (rc == LDAP_TIMEOUT || rc == LDAP_TIMELIMIT_EXCEEDED)
		return OC_ERR_TIMEOUT;
	if (rc == LDAP_INSUFFICIENT_ACCESS || rc == LDAP_STRONG_AUTH_REQUIRED)
		return OC_ERR_AUTH;
	return OC_ERR_IO;
}

/* Digest of one entry: DN, then every attribute description and value in order. */
static int
entry_digest(LDAP *ld, LDAPMessage *e, uint8_t out[32])
{
	EVP_MD_CTX *md = NULL;
	BerElement *ber = NULL;
	char *dn = NULL, *a;
	int r = OC_ERR_CRYPTO;

	if ((md = EVP_MD_CTX_new()) == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		goto out;
	if ((dn = ldap_get_dn(ld, e)) != NULL)
		EVP_DigestUpdate(md, dn, strlen(dn) + 1);
	for (a = ldap_first_attribute(ld, e, &ber); a != NULL; a = ldap_next_attribute(ld, e, ber)) {
		struct berval **v = ldap_get_values_len(ld, e, a);
		uint8_t len[8];

		EVP_DigestUpdate(md, a, strlen(a) + 1);
		for (size_t i = 0; v != NULL && v[i] != NULL; i++) {
			for (int k = 0; k < 8; k++)
				len[k] = (uint8_t)((uint64_t)v[i]->bv_len >> (8 * k));
			EVP_DigestUpdate(md, len, sizeof(len));
			EVP_DigestUpdate(md, v[i]->bv_val, v[i]->bv_len);
		}
		ldap_value_free_len(v);
		ldap_memfree(a);
	}
	if (EVP_DigestFinal_ex(md, out, NULL) == 1)
		r = OC_OK;
out:
	ber_free(ber, 0);
	ldap_memfree(dn);
	EVP_MD_CTX_free(md);
	return r;
}

struct digests {
	uint8_t (*v)[32];
	size_t n;
};

static int
digest_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int
digests_add(struct digests *d, LDAP *ld, LDAPMessage *res)
{
	for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL; e = ldap_next_entry(ld, e)) {
		uint8_t (*nv)[32];
		int r;

		if (d->n >= OIDS_MAX + OC_TEMPLATES_MAX + OC_LIST_MAX)
			return OC_ERR_LIMIT;
		if ((nv = realloc(d->v, (d->n + 1) * sizeof(*d->v))) == NULL)
			return OC_ERR_NOMEM;
		d->v = nv;
		if ((r = entry_digest(ld, e, d->v[d->n])) != OC_OK)
			return r;
		d->n++;
	}
	return OC_OK;
}

/* Order-independent digest of a set of entries: the sorted entry digests, hashed. */
static int
digests_final(struct digests *d, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int r = OC_ERR_CRYPTO;

	if (d->n > 0)
		qsort(d->v, d->n, sizeof(*d->v), digest_cmp);
	if (c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    (d->n == 0 || EVP_DigestUpdate(c, d->v, d->n * sizeof(*d->v)) == 1) &&
	    EVP_DigestFinal_ex(c, md, &mdlen) == 1) {
		oc_hex_encode(md, 32, out);
		r = OC_OK;
	}
	EVP_MD_CTX_free(c);
	return r;
}

static int
pks_dn(struct oc_ldap *l, const char *container, char *out, size_t n)
{
	const char *nc = oc_ldap_config_nc(l);

	if (nc == NULL || (size_t)snprintf(out, n, "%s%s%s", container, PKS_RDN, nc) >= n)
		return OC_ERR_LIMIT;
	return OC_OK;
}

int
oc_ldap_mirror_stamp(struct oc_ldap *l, char stamp[65], int64_t *usn, char *err)
{
	static const struct {
		const char *rdn, *filter;
		int scope, limit;
	} parts[] = {
		{ "CN=Certificate Templates,", "(objectClass=pKICertificateTemplate)",
		    LDAP_SCOPE_ONELEVEL, OC_TEMPLATES_MAX },
		{ "CN=Enrollment Services,", "(objectClass=pKIEnrollmentService)",
		    LDAP_SCOPE_ONELEVEL, OC_LIST_MAX },
		{ "CN=OID,", "(objectClass=msPKI-Enterprise-Oid)", LDAP_SCOPE_SUBTREE, OIDS_MAX },
	};
	LDAP *ld = oc_ldap_handle(l);
	LDAPMessage *res = NULL;
	struct digests d = { 0 };
	char base[DN_MAX];
	int r = OC_OK;

	*usn = 0;
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && r == OC_OK; i++) {
		if ((r = pks_dn(l, parts[i].rdn, base, sizeof(base))) != OC_OK)
			break;
		r = search(l, base, parts[i].scope, parts[i].filter, stamp_attrs, 0, parts[i].limit,
		    &res, err);
		if (r == OC_ERR_NOT_FOUND && i > 0) {   /* no CA or OID container: none */
			r = OC_OK;
			continue;
		}
		if (r != OC_OK)
			break;
		for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL; e = ldap_next_entry(ld, e)) {
			struct berval **v = ldap_get_values_len(ld, e, "uSNChanged");
			char num[24];

			if (v != NULL && v[0] != NULL && v[0]->bv_len > 0 && v[0]->bv_len < sizeof(num)) {
				memcpy(num, v[0]->bv_val, v[0]->bv_len);
				num[v[0]->bv_len] = '\0';
				if (strtoll(num, NULL, 10) > *usn)
					*usn = strtoll(num, NULL, 10);
			}
			ldap_value_free_len(v);
		}
		r = digests_add(&d, ld, res);
		ldap_msgfree(res);
		res = NULL;
	}
	if (r == OC_OK)
		r = digests_final(&d, stamp);
	free(d.v);
	return r;
}

/* Decoding */

static int
val_str(const struct berval *v, size_t max, char **out)
{
	free(*out);
	*out = NULL;
	if (v->bv_len == 0 || v->bv_len > max || memchr(v->bv_val, '\0', v->bv_len) != NULL)
		return OC_ERR_PARSE;
	return (*out = strndup(v->bv_val, v->bv_len)) ? OC_OK : OC_ERR_NOMEM;
}

static int
vals_list(struct berval **v, struct oc_strlist *l)
{
	int r;

	for (size_t i = 0; v[i] != NULL; i++) {
		if (l->n >= OC_LIST_MAX)
			return OC_ERR_LIMIT;
		if (v[i]->bv_len == 0 || v[i]->bv_len > OC_DIR_ITEM_MAX ||
		    memchr(v[i]->bv_val, '\0', v[i]->bv_len) != NULL)
			return OC_ERR_PARSE;
		if ((r = oc_strlist_addn(l, v[i]->bv_val, v[i]->bv_len)) != OC_OK)
			return r;
	}
	return OC_OK;
}

static const uint8_t *
bv(const struct berval *v)
{
	return (const uint8_t *)v->bv_val;
}

/* One attribute of a template (a = the description, v = its values). */
static int
template_attr(struct oc_template *t, const char *a, struct berval **v, struct oc_ad_ra_app *ra)
{
	static const struct {
		const char *name;
		size_t off;
	} u32s[] = {
		{ "msPKI-Template-Schema-Version", offsetof(struct oc_template, schema_version) },
		{ "revision", offsetof(struct oc_template, revision) },
		{ "msPKI-Template-Minor-Revision", offsetof(struct oc_template, minor_revision) },
		{ "flags", offsetof(struct oc_template, general_flags) },
		{ "msPKI-Enrollment-Flag", offsetof(struct oc_template, enrollment_flags) },
		{ "msPKI-Private-Key-Flag", offsetof(struct oc_template, private_key_flags) },
		{ "msPKI-Certificate-Name-Flag", offsetof(struct oc_template, name_flags) },
		{ "msPKI-Minimal-Key-Size", offsetof(struct oc_template, min_key_size) },
		{ "pKIDefaultKeySpec", offsetof(struct oc_template, key_spec) },
		{ "msPKI-RA-Signature", offsetof(struct oc_template, ra_signatures) },
	};
	static const struct {
		const char *name;
		size_t off;
	} lists[] = {
		{ "pKIExtendedKeyUsage", offsetof(struct oc_template, eku) },
		{ "msPKI-Certificate-Application-Policy", offsetof(struct oc_template, app_policies) },
		{ "msPKI-Certificate-Policy", offsetof(struct oc_template, cert_policies) },
		{ "pKICriticalExtensions", offsetof(struct oc_template, critical_exts) },
		{ "msPKI-RA-Policies", offsetof(struct oc_template, ra_policies) },
		{ "msPKI-Supersede-Templates", offsetof(struct oc_template, superseded) },
	};
	uint32_t u = 0;
	int r;

	if (v == NULL || v[0] == NULL)
		return OC_OK;
	if (attr_is(a, "cn"))
		return val_str(v[0], 64, &t->cn);
	if (attr_is(a, "displayName"))
		return val_str(v[0], OC_TEMPLATE_NAME_MAX, &t->display_name);
	if (attr_is(a, "msPKI-Cert-Template-OID"))
		return val_str(v[0], OC_OID_MAX, &t->oid);
	for (size_t i = 0; i < sizeof(u32s) / sizeof(u32s[0]); i++)
		if (attr_is(a, u32s[i].name)) {
			if ((r = oc_ad_attr_u32(bv(v[0]), v[0]->bv_len, &u)) != OC_OK)
				return r;
			*(uint32_t *)(void *)((char *)t + u32s[i].off) = u;
			return OC_OK;
		}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (attr_is(a, lists[i].name))
			return vals_list(v, (struct oc_strlist *)(void *)((char *)t + lists[i].off));
	if (attr_is(a, "pKIMaxIssuingDepth")) {
		if ((r = oc_ad_attr_u32(bv(v[0]), v[0]->bv_len, &u)) != OC_OK)
			return r;
		t->max_issuing_depth = (int32_t)u;
		return OC_OK;
	}
	if (attr_is(a, "pKIExpirationPeriod"))
		return oc_ad_attr_period(bv(v[0]), v[0]->bv_len, &t->validity_seconds);
	if (attr_is(a, "pKIOverlapPeriod"))
		return oc_ad_attr_period(bv(v[0]), v[0]->bv_len, &t->renewal_seconds);
	if (attr_is(a, "pKIKeyUsage")) {
		if ((r = oc_ad_attr_key_usage(bv(v[0]), v[0]->bv_len, &t->key_usage)) != OC_OK)
			return r;
		t->has_key_usage = 1;
		return OC_OK;
	}
	if (attr_is(a, "pKIDefaultCSPs")) {
		size_t n = 0;

		while (v[n] != NULL)
			n++;
		if (n > OC_LIST_MAX)
			return OC_ERR_LIMIT;
		if ((t->csps = calloc(n, sizeof(*t->csps))) == NULL)
			return OC_ERR_NOMEM;
		for (size_t i = 0; i < n; i++) {
			if ((r = oc_ad_attr_csp(bv(v[i]), v[i]->bv_len, &t->csps[i])) != OC_OK)
				return r;
			t->ncsps = i + 1;
		}
		return OC_OK;
	}
	if (attr_is(a, "msPKI-RA-Application-Policies")) {
		for (size_t i = 0; v[i] != NULL; i++)
			if ((r = oc_ad_attr_ra_app_add(ra, bv(v[i]), v[i]->bv_len)) != OC_OK)
				return r;
		return vals_list(v, &t->ra_app_policies);
	}
	if (attr_is(a, "nTSecurityDescriptor")) {
		if (v[0]->bv_len > OC_AD_SD_MAX)
			return OC_ERR_LIMIT;
		if ((t->security_descriptor = malloc(v[0]->bv_len)) == NULL)
			return OC_ERR_NOMEM;
		memcpy(t->security_descriptor, v[0]->bv_val, v[0]->bv_len);
		t->security_descriptor_len = v[0]->bv_len;
		return OC_OK;
	}
	return OC_OK;
}

static int
decode_template(LDAP *ld, LDAPMessage *e, struct oc_template **tp)
{
	struct oc_template *t = NULL;
	struct oc_ad_ra_app ra;
	BerElement *ber = NULL;
	char *a;
	int r = OC_OK;

	*tp = NULL;
	memset(&ra, 0, sizeof(ra));
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return OC_ERR_NOMEM;
	for (a = ldap_first_attribute(ld, e, &ber); a != NULL && r == OC_OK;
	    a = ldap_next_attribute(ld, e, ber)) {
		struct berval **v = ldap_get_values_len(ld, e, a);

		r = template_attr(t, a, v, &ra);
		ldap_value_free_len(v);
		ldap_memfree(a);
	}
	if (a != NULL)
		ldap_memfree(a);
	if (r != OC_OK)
		goto out;
	if (t->cn == NULL || t->oid == NULL) {
		r = OC_ERR_PARSE;
		goto out;
	}
	if (t->schema_version == 0)
		t->schema_version = 1;          /* absent means 1 (templates.md 3) */
	/* v3/v4 (CNG) templates: key and hash algorithm from the triplets (templates.md 4.7) */
	if (ra.asymmetric_algorithm != NULL && strncasecmp(ra.asymmetric_algorithm, "ECDSA", 5) == 0 &&
	    (t->key_algorithm = strdup(ra.asymmetric_algorithm)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if (ra.hash_algorithm != NULL && (t->hash_algorithm = strdup(ra.hash_algorithm)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	*tp = t;
	t = NULL;
out:
	ber_free(ber, 0);
	oc_ad_ra_app_clear(&ra);
	oc_template_free(t);
	return r;
}

static int
decode_ca(LDAP *ld, LDAPMessage *e, struct oc_ca_entry *ca)
{
	BerElement *ber = NULL;
	char *a;
	int r = OC_OK;

	memset(ca, 0, sizeof(*ca));
	for (a = ldap_first_attribute(ld, e, &ber); a != NULL && r == OC_OK;
	    a = ldap_next_attribute(ld, e, ber)) {
		struct berval **v = ldap_get_values_len(ld, e, a);

		if (v == NULL || v[0] == NULL)
			;
		else if (attr_is(a, "cn"))
			r = val_str(v[0], 64, &ca->name);
		else if (attr_is(a, "dNSHostName"))
			r = val_str(v[0], 2048, &ca->dns_host_name);
		else if (attr_is(a, "cACertificate") && ca->cert_der == NULL) {
			if (v[0]->bv_len > OC_CERT_DER_MAX)
				r = OC_ERR_LIMIT;
			else if ((ca->cert_der = malloc(v[0]->bv_len)) == NULL)
				r = OC_ERR_NOMEM;
			else {
				memcpy(ca->cert_der, v[0]->bv_val, v[0]->bv_len);
				ca->cert_der_len = v[0]->bv_len;
			}
		} else if (attr_is(a, "certificateTemplates"))
			r = vals_list(v, &ca->templates);
		else if (attr_is(a, "msPKI-Enrollment-Servers"))
			for (size_t i = 0; v[i] != NULL && r == OC_OK; i++)
				r = oc_ad_attr_ces_add(bv(v[i]), v[i]->bv_len, &ca->uris, &ca->nuris);
		ldap_value_free_len(v);
		ldap_memfree(a);
	}
	if (a != NULL)
		ldap_memfree(a);
	ber_free(ber, 0);
	if (r == OC_OK && ca->name == NULL)
		r = OC_ERR_PARSE;
	if (r != OC_OK)
		oc_ca_entry_clear(ca);
	return r;
}

static int
decode_oid(LDAP *ld, LDAPMessage *e, struct oc_dir_oid *o)
{
	struct berval **v;
	uint32_t flags = 0;
	int r = OC_OK;

	memset(o, 0, sizeof(*o));
	if ((v = ldap_get_values_len(ld, e, "flags")) != NULL && v[0] != NULL)
		r = oc_ad_attr_u32(bv(v[0]), v[0]->bv_len, &flags);
	ldap_value_free_len(v);
	o->flags = flags;
	if (r == OC_OK && (v = ldap_get_values_len(ld, e, "msPKI-Cert-Template-OID")) != NULL) {
		if (v[0] != NULL)
			r = val_str(v[0], OC_OID_MAX, &o->oid);
		ldap_value_free_len(v);
	}
	if (r == OC_OK && (v = ldap_get_values_len(ld, e, "displayName")) != NULL) {
		if (v[0] != NULL)
			r = val_str(v[0], OC_TEMPLATE_NAME_MAX, &o->display_name);
		ldap_value_free_len(v);
	}
	if (r == OC_OK && o->oid == NULL)
		r = OC_ERR_PARSE;
	if (r != OC_OK) {
		free(o->oid);
		free(o->display_name);
		memset(o, 0, sizeof(*o));
	}
	return r;
}

static void
entry_warn(LDAP *ld, LDAPMessage *e, const char *what, int r)
{
	char *dn = ldap_get_dn(ld, e);

	log_warn("mirror: %s %s left out: %s", what, dn ? dn : "?", oc_strerror(r));
	ldap_memfree(dn);
}

/*
 * One kind of object under Public Key Services: the search, its digest, and
 * a zeroed array of count + 1 elements of size elem for the decoded entries.
 * missing_ok: a missing container is an empty list (*res NULL).
 */
static int
read_kind(struct oc_ldap *l, const char *rdn, int scope, const char *filter, char **attrs,
    int with_sd, int limit, int missing_ok, struct digests *d, LDAPMessage **res,
    size_t elem, void **arr, char *err)
{
	LDAP *ld = oc_ldap_handle(l);
	char base[DN_MAX];
	int r;

	*res = NULL;
	*arr = NULL;
	if ((r = pks_dn(l, rdn, base, sizeof(base))) != OC_OK)
		return r;
	r = search(l, base, scope, filter, attrs, with_sd, limit, res, err);
	if (r == OC_ERR_NOT_FOUND && missing_ok)
		return OC_OK;
	if (r != OC_OK)
		return r;
	if ((r = digests_add(d, ld, *res)) != OC_OK)
		return r;
	if ((*arr = calloc((size_t)ldap_count_entries(ld, *res) + 1, elem)) == NULL)
		return OC_ERR_NOMEM;
	return OC_OK;
}

static int
read_templates(struct oc_ldap *l, struct oc_ldap_snapshot *s, struct digests *d, char *err)
{
	LDAP *ld = oc_ldap_handle(l);
	LDAPMessage *res = NULL;
	void *arr = NULL;
	int r;

	r = read_kind(l, "CN=Certificate Templates,", LDAP_SCOPE_ONELEVEL,
	    "(objectClass=pKICertificateTemplate)", template_attrs, 1, OC_TEMPLATES_MAX, 0, d,
	    &res, sizeof(*s->m.templates), &arr, err);
	s->m.templates = arr;
	if (r != OC_OK || res == NULL)
		goto out;
	for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL; e = ldap_next_entry(ld, e)) {
		struct oc_template *t = NULL;

		if ((r = decode_template(ld, e, &t)) == OC_ERR_NOMEM)
			goto out;
		if (r != OC_OK) {
			entry_warn(ld, e, "template", r);
			continue;
		}
		s->m.templates[s->m.ntemplates++] = t;
	}
	r = OC_OK;
out:
	ldap_msgfree(res);
	return r;
}

static int
read_cas(struct oc_ldap *l, struct oc_ldap_snapshot *s, struct digests *d, char *err)
{
	LDAP *ld = oc_ldap_handle(l);
	LDAPMessage *res = NULL;
	void *arr = NULL;
	int r;

	r = read_kind(l, "CN=Enrollment Services,", LDAP_SCOPE_ONELEVEL,
	    "(objectClass=pKIEnrollmentService)", ca_attrs, 0, OC_LIST_MAX, 1, d, &res,
	    sizeof(*s->m.cas), &arr, err);
	s->m.cas = arr;
	if (r != OC_OK || res == NULL)
		goto out;
	for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL; e = ldap_next_entry(ld, e)) {
		if ((r = decode_ca(ld, e, &s->m.cas[s->m.ncas])) == OC_ERR_NOMEM)
			goto out;
		if (r != OC_OK) {
			entry_warn(ld, e, "CA entry", r);
			continue;
		}
		s->m.ncas++;
	}
	r = OC_OK;
out:
	ldap_msgfree(res);
	return r;
}

static int
read_oids(struct oc_ldap *l, struct oc_ldap_snapshot *s, struct digests *d, char *err)
{
	LDAP *ld = oc_ldap_handle(l);
	LDAPMessage *res = NULL;
	void *arr = NULL;
	int r;

	r = read_kind(l, "CN=OID,", LDAP_SCOPE_SUBTREE, "(objectClass=msPKI-Enterprise-Oid)",
	    oid_attrs, 0, OIDS_MAX, 1, d, &res, sizeof(*s->m.oids), &arr, err);
	s->m.oids = arr;
	if (r != OC_OK || res == NULL)
		goto out;
	for (LDAPMessage *e = ldap_first_entry(ld, res); e != NULL; e = ldap_next_entry(ld, e)) {
		if ((r = decode_oid(ld, e, &s->m.oids[s->m.noids])) == OC_ERR_NOMEM)
			goto out;
		/* the container (forest base OID) and malformed objects carry no name: skip */
		if (r != OC_OK || s->m.oids[s->m.noids].flags < 1 || s->m.oids[s->m.noids].flags > 3) {
			if (r == OC_OK) {
				free(s->m.oids[s->m.noids].oid);
				free(s->m.oids[s->m.noids].display_name);
				memset(&s->m.oids[s->m.noids], 0, sizeof(s->m.oids[0]));
			}
			continue;
		}
		s->m.noids++;
	}
	r = OC_OK;
out:
	ldap_msgfree(res);
	return r;
}

int
oc_ldap_mirror_read(struct oc_ldap *l, struct oc_ldap_snapshot *s, char *err)
{
	struct digests d = { 0 };
	int r;

	memset(s, 0, sizeof(*s));
	s->m.source = OC_LDAP_MIRROR_SOURCE;
	if ((r = oc_ldap_mirror_stamp(l, s->stamp, &s->m.usn, err)) != OC_OK ||
	    (r = read_templates(l, s, &d, err)) != OC_OK ||
	    (r = read_cas(l, s, &d, err)) != OC_OK ||
	    (r = read_oids(l, s, &d, err)) != OC_OK ||
	    (r = digests_final(&d, s->hash)) != OC_OK)
		goto out;
	s->m.stamp = s->stamp;
	s->m.content_hash = s->hash;
out:
	free(d.v);
	if (r != OC_OK) {
		oc_ldap_snapshot_clear(s);
		if (*err == '\0')
			snprintf(err, OC_LDAP_MIRROR_ERR_MAX, "%s", oc_strerror(r));
	}
	return r;
}
