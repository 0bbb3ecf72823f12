/*
 * The oIDs table of a GetPoliciesResponse (xcep.md 3.2, 3.3, 4.1): each OID
 * once per group, with a stable integer id and a defaultName.
 */
#include "xcep/xcep_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "pkix/pkix.h"

static const struct {
	const char *oid;
	const char *name;
} xcep_known_names[] = {
	/* extensions (group 6) */
	{ OC_OID_TEMPLATE_V1,      "Certificate Template Name" },
	{ OC_OID_TEMPLATE_V2,      "Certificate Template Information" },
	{ XCEP_OID_EKU,            "Enhanced Key Usage" },
	{ OC_OID_APP_POLICIES,     "Application Policies" },
	{ XCEP_OID_KEY_USAGE,      "Key Usage" },
	/* EKUs / application policies (group 7), templates.md 12 */
	{ "1.3.6.1.5.5.7.3.1",     "Server Authentication" },
	{ "1.3.6.1.5.5.7.3.2",     "Client Authentication" },
	{ "1.3.6.1.5.5.7.3.3",     "Code Signing" },
	{ "1.3.6.1.5.5.7.3.4",     "Secure Email" },
	{ "1.3.6.1.5.5.7.3.9",     "OCSP Signing" },
	{ "1.3.6.1.4.1.311.10.3.1", "Microsoft Trust List Signing" },
	{ "1.3.6.1.4.1.311.10.3.4", "Encrypting File System" },
	{ "1.3.6.1.4.1.311.10.3.4.1", "File Recovery" },
	{ "1.3.6.1.4.1.311.10.3.10", "Qualified Subordination" },
	{ "1.3.6.1.4.1.311.20.2.1", "Certificate Request Agent" },
	{ "1.3.6.1.4.1.311.20.2.2", "Smart Card Logon" },
	{ "1.3.6.1.4.1.311.21.5",  "Private Key Archival" },
	{ "1.3.6.1.4.1.311.21.6",  "Key Recovery Agent" },
	{ "1.3.6.1.4.1.311.21.19", "Directory Service Email Replication" },
	{ "1.3.6.1.5.2.3.5",       "KDC Authentication" },
	{ "1.3.6.1.5.5.8.2.2",     "IP security IKE intermediate" },
	/* hash (group 1) and public key (group 3) algorithms */
	{ "1.3.14.3.2.26",         "sha1" },
	{ "2.16.840.1.101.3.4.2.1", "sha256" },
	{ "2.16.840.1.101.3.4.2.2", "sha384" },
	{ "2.16.840.1.101.3.4.2.3", "sha512" },
	{ "1.2.840.113549.1.1.1",  "RSA" },
	{ "1.2.840.10045.3.1.7",   "ECDSA_P256" },
	{ "1.3.132.0.34",          "ECDSA_P384" },
	{ "1.3.132.0.35",          "ECDSA_P521" },
};

static const struct {
	const char *name;
	const char *oid;
} xcep_hashes[] = {
	{ "SHA1",   "1.3.14.3.2.26" },
	{ "SHA256", "2.16.840.1.101.3.4.2.1" },
	{ "SHA384", "2.16.840.1.101.3.4.2.2" },
	{ "SHA512", "2.16.840.1.101.3.4.2.3" },
}, xcep_pubkeys[] = {
	{ "RSA",        "1.2.840.113549.1.1.1" },
	{ "ECDSA_P256", "1.2.840.10045.3.1.7" },
	{ "ECDSA_P384", "1.3.132.0.34" },
	{ "ECDSA_P521", "1.3.132.0.35" },
	{ "ECDH_P256",  "1.2.840.10045.3.1.7" },
	{ "ECDH_P384",  "1.3.132.0.34" },
	{ "ECDH_P521",  "1.3.132.0.35" },
};

int
xcep_oid_valid(const char *oid)
{
	size_t len, dots = 0;
	int digit = 0;

	if (oid == NULL || (len = strlen(oid)) == 0 || len > OC_OID_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (oid[i] >= '0' && oid[i] <= '9')
			digit = 1;
		else if (oid[i] == '.' && digit) {
			dots++;
			digit = 0;
		} else
			return 0;
	}
	return digit && dots >= 1;
}

static const char *
xcep_known_name(const char *oid)
{
	for (size_t i = 0; i < sizeof(xcep_known_names) / sizeof(xcep_known_names[0]); i++)
		if (strcmp(xcep_known_names[i].oid, oid) == 0)
			return xcep_known_names[i].name;
	return NULL;
}

struct xcep_oid *
xcep_oidtab_find(const struct xcep_oidtab *t, const char *value, uint32_t group)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].group == group && strcmp(t->v[i].value, value) == 0)
			return &t->v[i];
	return NULL;
}

int
xcep_oidtab_add(struct xcep_oidtab *t, const char *value, uint32_t group,
    const char *name)
{
	struct xcep_oid *o;

	if (!xcep_oid_valid(value))
		return OC_ERR_INVALID;
	if (xcep_oidtab_find(t, value, group) != NULL)
		return OC_OK;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 32;
		struct xcep_oid *nv;

		if (ncap > (size_t)OC_TEMPLATES_MAX * 64)
			return OC_ERR_LIMIT;
		if ((nv = reallocarray(t->v, ncap, sizeof(*nv))) == NULL)
			return OC_ERR_NOMEM;
		t->v = nv;
		t->cap = ncap;
	}
	if (name == NULL && (name = xcep_known_name(value)) == NULL)
		name = value;
	o = &t->v[t->n];
	memset(o, 0, sizeof(*o));
	if ((o->value = strdup(value)) == NULL || (o->name = strdup(name)) == NULL) {
		free(o->value);
		return OC_ERR_NOMEM;
	}
	o->group = group;
	o->id = (int)t->n + 1;
	t->n++;
	return OC_OK;
}

void
xcep_oidtab_free(struct xcep_oidtab *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->v[i].value);
		free(t->v[i].name);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

const char *
xcep_hash_oid(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(xcep_hashes) / sizeof(xcep_hashes[0]); i++)
		if (strcasecmp(xcep_hashes[i].name, name) == 0)
			return xcep_hashes[i].oid;
	return NULL;
}

const char *
xcep_pubkey_oid(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(xcep_pubkeys) / sizeof(xcep_pubkeys[0]); i++)
		if (strcasecmp(xcep_pubkeys[i].name, name) == 0)
			return xcep_pubkeys[i].oid;
	return NULL;
}

const char *
xcep_template_pubkey_oid(const struct oc_template *t)
{
	/* v1/v2 (CSP) templates carry no algorithm: nil unless elliptic. */
	if (t->schema_version < 3 && !oc_template_is_ec(t))
		return NULL;
	return xcep_pubkey_oid(t->key_algorithm != NULL ? t->key_algorithm : "RSA");
}

const char *
xcep_template_hash_oid(const struct oc_template *t)
{
	/* "MUST be specified as nil" for policySchema 1 or 2 or no hash. */
	if (t->schema_version < 3)
		return NULL;
	return xcep_hash_oid(t->hash_algorithm);
}

static int
xcep_add_oid_list(struct oc_strlist *out, const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0)
		return OC_OK;
	if (out->n >= OC_LIST_MAX)
		return OC_ERR_LIMIT;
	return oc_strlist_addn(out, s, n);
}

/*
 * msPKI-RA-Application-Policies: plain OIDs (syntax 1) or, on CNG templates,
 * name`type`value` triplets whose msPKI-RA-Application-Policies value is a
 * comma-separated OID list (templates.md 4.7; final backtick optional).
 */
int
xcep_ra_ekus(const struct oc_template *t, struct oc_strlist *out)
{
	int r;

	for (size_t i = 0; i < t->ra_app_policies.n; i++) {
		const char *v = t->ra_app_policies.v[i];
		const char *f[3];
		size_t fl[3];

		if (strchr(v, '`') == NULL) {
			if ((r = xcep_add_oid_list(out, v, strlen(v))) != OC_OK)
				return r;
			continue;
		}
		for (const char *p = v; *p != '\0';) {
			for (int k = 0; k < 3; k++) {
				const char *e = strchr(p, '`');
				f[k] = p;
				fl[k] = e != NULL ? (size_t)(e - p) : strlen(p);
				p = e != NULL ? e + 1 : p + fl[k];
			}
			if (fl[0] == strlen("msPKI-RA-Application-Policies") &&
			    memcmp(f[0], "msPKI-RA-Application-Policies", fl[0]) == 0) {
				const char *s = f[2], *end = f[2] + fl[2];
				while (s < end) {
					const char *c = memchr(s, ',', (size_t)(end - s));
					size_t n = c != NULL ? (size_t)(c - s) : (size_t)(end - s);
					if ((r = xcep_add_oid_list(out, s, n)) != OC_OK)
						return r;
					s += n + (c != NULL);
				}
			}
		}
	}
	return OC_OK;
}

static int
xcep_add_valid_list(struct xcep_oidtab *tab, const struct oc_strlist *l, uint32_t group)
{
	int r;

	for (size_t i = 0; i < l->n; i++)
		if (xcep_oid_valid(l->v[i]) &&
		    (r = xcep_oidtab_add(tab, l->v[i], group, NULL)) != OC_OK)
			return r;
	return OC_OK;
}

int
xcep_oidtab_add_template(struct xcep_oidtab *tab, const struct oc_template *t)
{
	struct oc_strlist ra = { 0 };
	const char *o;
	int r;

	if (t->oid == NULL || !xcep_oid_valid(t->oid))
		return OC_OK;           /* not publishable; the renderer skips it */
	if ((r = xcep_oidtab_add(tab, t->oid, XCEP_GROUP_TEMPLATE,
	    t->display_name != NULL ? t->display_name : t->cn)) != OC_OK)
		goto out;
	if ((r = xcep_add_valid_list(tab, &t->eku, XCEP_GROUP_EKU)) != OC_OK ||
	    (r = xcep_add_valid_list(tab, &t->app_policies, XCEP_GROUP_EKU)) != OC_OK)
		goto out;
	if ((r = xcep_oidtab_add(tab, t->schema_version >= 2 ? OC_OID_TEMPLATE_V2 :
	    OC_OID_TEMPLATE_V1, XCEP_GROUP_EXTENSION, NULL)) != OC_OK)
		goto out;
	if (t->eku.n > 0 &&
	    (r = xcep_oidtab_add(tab, XCEP_OID_EKU, XCEP_GROUP_EXTENSION, NULL)) != OC_OK)
		goto out;
	if (t->has_key_usage &&
	    (r = xcep_oidtab_add(tab, XCEP_OID_KEY_USAGE, XCEP_GROUP_EXTENSION, NULL)) != OC_OK)
		goto out;
	if (t->schema_version >= 2 && t->app_policies.n > 0 &&
	    (r = xcep_oidtab_add(tab, OC_OID_APP_POLICIES, XCEP_GROUP_EXTENSION, NULL)) != OC_OK)
		goto out;
	if ((o = xcep_template_hash_oid(t)) != NULL &&
	    (r = xcep_oidtab_add(tab, o, XCEP_GROUP_HASH, NULL)) != OC_OK)
		goto out;
	if ((o = xcep_template_pubkey_oid(t)) != NULL &&
	    (r = xcep_oidtab_add(tab, o, XCEP_GROUP_PUBKEY, NULL)) != OC_OK)
		goto out;
	if (t->ra_signatures > 0) {
		if ((r = xcep_ra_ekus(t, &ra)) != OC_OK ||
		    (r = xcep_add_valid_list(tab, &ra, XCEP_GROUP_EKU)) != OC_OK ||
		    (r = xcep_add_valid_list(tab, &t->ra_policies, XCEP_GROUP_POLICY)) != OC_OK)
			goto out;
	}
	r = OC_OK;
out:
	oc_strlist_free(&ra);
	return r;
}
