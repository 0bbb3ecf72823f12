/*
 * The default template set (docs/protocol/templates.md section 12) plus two
 * OpenCES templates, the default groups and their Enroll grants (section 6.4).
 * Idempotent: only missing templates and groups are inserted, and grants are
 * added only together with a newly inserted template, so an administrator's
 * later edits survive a re-seed.
 */
#include "directory/directory.h"
#include "directory/directory_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/log.h"

#define DAY   86400LL
#define WEEK  (7 * DAY)
#define YEAR  (365 * DAY)

#define CSP_BASE     "2,Microsoft Base Cryptographic Provider v1.0"
#define CSP_ENH      "1,Microsoft Enhanced Cryptographic Provider v1.0"
#define CSP_SCH      "1,Microsoft RSA SChannel Cryptographic Provider"
#define CSP_DH_SCH   "2,Microsoft DH SChannel Cryptographic Provider"
#define CSP_KSP      "1,Microsoft Software Key Storage Provider"

#define EKU_SERVER   "1.3.6.1.5.5.7.3.1"
#define EKU_CLIENT   "1.3.6.1.5.5.7.3.2"
#define EKU_EMAIL    "1.3.6.1.5.5.7.3.4"
#define EKU_EFS      "1.3.6.1.4.1.311.10.3.4"

struct seed {
	unsigned n;                   /* OID arc: OC_DIR_FOREST_OID.1.<n> */
	const char *cn, *display;
	uint32_t schema, flags, name_flags, enroll_flags, pk_flags, min_key, key_spec;
	uint16_t key_usage;
	const char *eku[4];
	int app_same;                 /* msPKI-Certificate-Application-Policy = EKU */
	int64_t validity, overlap;
	uint32_t rev, minor;
	const char *csps[3];
	const char *key_alg, *hash_alg;
	const char *ra_app;           /* msPKI-RA-Application-Policies (v3/v4 triplets) */
	const char *grant_to;         /* default Enroll (templates.md 6.4), or NULL */
};

static const struct seed seeds[] = {
	/* templates.md section 12, rows 1, 14, 16, 30 */
	{ 1, "User", "User", 1, 66106, 0xA6000000u /* -1509949440 */, 41, 16, 2048, 1, 0xa000,
	  { EKU_EFS, EKU_EMAIL, EKU_CLIENT }, 0, YEAR, 6 * WEEK, 3, 1,
	  { CSP_BASE, CSP_ENH }, NULL, NULL, NULL, OC_DIR_GROUP_USERS },
	{ 14, "Machine", "Computer", 1, 66144, 402653184, 32, 0, 2048, 1, 0xa000,
	  { EKU_CLIENT, EKU_SERVER }, 0, YEAR, 6 * WEEK, 5, 1,
	  { CSP_SCH }, NULL, NULL, NULL, OC_DIR_GROUP_COMPUTERS },
	{ 16, "WebServer", "Web Server", 1, 66113, 1, 0, 0, 2048, 1, 0xa000,
	  { EKU_SERVER }, 0, 2 * YEAR, 6 * WEEK, 4, 1,
	  { CSP_DH_SCH, CSP_SCH }, NULL, NULL, NULL, NULL },
	{ 30, "Workstation", "Workstation Authentication", 2, 66144, 134217728, 32, 0, 2048, 1, 0xa000,
	  { EKU_CLIENT }, 1, YEAR, 6 * WEEK, 101, 0,
	  { CSP_SCH }, NULL, NULL, NULL, OC_DIR_GROUP_COMPUTERS },
	/*
	 * OpenCES: a schema-4 (CNG) web server template with a P-256 key; the
	 * enrollee supplies the subject. Key algorithm and hash are also written
	 * as the section 4.7 triplets, as Windows stores them.
	 */
	{ 1001, "OpenCESWebServerEC", "OpenCES Web Server (ECDSA P-256)", 4,
	  OC_CT_GENERAL_IS_MODIFIED | OC_CT_GENERAL_MACHINE_TYPE | 0x1u,
	  OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT, 0, 0, 256, OC_KEYSPEC_SIGNATURE, 0x8000,
	  { EKU_SERVER }, 1, YEAR, 6 * WEEK, 100, 0,
	  { CSP_KSP }, "ECDSA_P256", "SHA256",
	  "msPKI-Asymmetric-Algorithm`PZPWSTR`ECDSA_P256`msPKI-Hash-Algorithm`PZPWSTR`SHA256`", NULL },
	/* OpenCES: a v2 copy of User whose requests wait for a manager's approval. */
	{ 1002, "OpenCESUserApproval", "OpenCES User (manager approval)", 2,
	  OC_CT_GENERAL_IS_MODIFIED | 0x3Au, 0xA6000000u,
	  41 | OC_CT_ENROLL_PEND_ALL_REQUESTS, 16, 2048, 1, 0xa000,
	  { EKU_EFS, EKU_EMAIL, EKU_CLIENT }, 1, YEAR, 6 * WEEK, 100, 0,
	  { CSP_BASE, CSP_ENH }, NULL, NULL, NULL, OC_DIR_GROUP_USERS },
};

static int
seed_build(const struct seed *s, struct oc_template *t)
{
	char oid[OC_OID_MAX + 1];
	int r = OC_ERR_NOMEM;

	memset(t, 0, sizeof(*t));
	snprintf(oid, sizeof(oid), "%s.1.%u", OC_DIR_FOREST_OID, s->n);
	if ((t->cn = oc_strdup(s->cn)) == NULL || (t->display_name = oc_strdup(s->display)) == NULL ||
	    (t->oid = oc_strdup(oid)) == NULL)
		goto out;
	if ((s->key_alg && (t->key_algorithm = oc_strdup(s->key_alg)) == NULL) ||
	    (s->hash_alg && (t->hash_algorithm = oc_strdup(s->hash_alg)) == NULL))
		goto out;
	t->schema_version = s->schema;
	t->revision = s->rev;
	t->minor_revision = s->minor;
	t->general_flags = s->flags;
	t->enrollment_flags = s->enroll_flags;
	t->private_key_flags = s->pk_flags;
	t->name_flags = s->name_flags;
	t->min_key_size = s->min_key;
	t->key_spec = s->key_spec;
	t->ra_signatures = 0;
	t->max_issuing_depth = 0;
	t->validity_seconds = s->validity;
	t->renewal_seconds = s->overlap;
	t->key_usage = s->key_usage;
	t->has_key_usage = 1;
	for (size_t i = 0; i < 4 && s->eku[i] != NULL; i++) {
		if ((r = oc_strlist_add(&t->eku, s->eku[i])) != OC_OK)
			goto out;
		if (s->app_same && (r = oc_strlist_add(&t->app_policies, s->eku[i])) != OC_OK)
			goto out;
	}
	if ((r = oc_strlist_add(&t->critical_exts, "2.5.29.15")) != OC_OK)
		goto out;
	if (s->ra_app != NULL && (r = oc_strlist_add(&t->ra_app_policies, s->ra_app)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	for (size_t i = 0; i < 3 && s->csps[i] != NULL; i++) {
		const char *comma = strchr(s->csps[i], ',');
		struct oc_csp *nc = realloc(t->csps, (t->ncsps + 1) * sizeof(*nc));

		if (nc == NULL)
			goto out;
		t->csps = nc;
		nc[t->ncsps].priority = (uint32_t)(s->csps[i][0] - '0');
		if ((nc[t->ncsps].name = oc_strdup(comma + 1)) == NULL)
			goto out;
		t->ncsps++;
	}
	r = OC_OK;
out:
	if (r != OC_OK)
		oc_template_clear(t);
	return r;
}

static int
ensure_group(struct oc_directory *dir, const char *name)
{
	int r, kind = 0;

	if ((r = oc_dir_principal_kind(dir, name, &kind)) != OC_OK)
		return r;
	if (kind != 0)
		return OC_OK;
	return oc_dir_group_add(dir, name);
}

int
oc_dir_seed_defaults(struct oc_directory *dir)
{
	struct oc_template t, *old = NULL;
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = oc_dir_writable(dir)) != OC_OK)
		return r;
	if ((r = ensure_group(dir, OC_DIR_GROUP_USERS)) != OC_OK ||
	    (r = ensure_group(dir, OC_DIR_GROUP_COMPUTERS)) != OC_OK)
		goto out;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		r = oc_dir_template_get(dir, seeds[i].cn, &old);
		oc_template_free(old);
		old = NULL;
		if (r == OC_OK)
			continue;
		if (r != OC_ERR_NOT_FOUND)
			goto out;
		if ((r = seed_build(&seeds[i], &t)) != OC_OK ||
		    (r = oc_dir_template_put(dir, &t)) != OC_OK)
			goto out;
		oc_template_clear(&t);
		if (seeds[i].grant_to != NULL &&
		    (r = oc_dir_grant(dir, seeds[i].cn, seeds[i].grant_to, OC_RIGHT_ENROLL)) != OC_OK)
			goto out;
		log_info("directory: added default template %s", seeds[i].cn);
	}
	r = OC_OK;
out:
	if (r != OC_OK)
		error_fr(r, "seeding the default templates");
	oc_template_clear(&t);
	return r;
}
