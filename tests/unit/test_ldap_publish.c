/*
 * `opencesd ad publish` without a server: the entries of the default
 * templates against templates.md section 12 and back through the ad_attr
 * decoders, the template SDs through ad_sd's parser and access check, and
 * the LDIF of a run against an empty forest (a checked-in vector), then
 * idempotence and the modify records over an in-memory entry set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/util.h"
#include "directory/ad_attr.h"
#include "directory/ad_sd.h"
#include "directory/directory.h"
#include "ldap/ldap_encode.h"
#include "ldap/ldap_publish.h"
#include "ldap/ldap_sd_build.h"

int main(void);

#define DOM   "S-1-5-21-3948352448-806306152-211583070"
#define CFGNC "CN=Configuration,DC=corp,DC=example,DC=test"
#define PKS   "CN=Public Key Services,CN=Services," CFGNC

static char dbpath[64];
static struct oc_directory *dir;

static int
setup(void **state)
{
	int fd;

	(void)state;
	snprintf(dbpath, sizeof(dbpath), "/tmp/oc-adpub-XXXXXX");
	if ((fd = mkstemp(dbpath)) < 0)
		return -1;
	close(fd);
	unlink(dbpath);
	if (oc_dir_open(dbpath, 1, &dir) != OC_OK || oc_dir_seed_defaults(dir) != OC_OK)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	oc_dir_close(dir);
	unlink(dbpath);
	return 0;
}

/* value i of attribute name as text (binary values base64), or NULL */
static char *
val_text(const struct oc_ldap_entry *e, const char *name, size_t i, int b64)
{
	const struct oc_ldap_attr *a = oc_ldap_entry_get(e, name);
	char *s = NULL;

	if (a == NULL || i >= a->n)
		return NULL;
	if (b64) {
		assert_int_equal(oc_b64_encode(a->v[i].p, a->v[i].len, &s), OC_OK);
		return s;
	}
	return strndup((const char *)a->v[i].p, a->v[i].len);
}

static void
expect_vals(const struct oc_ldap_entry *e, const char *name, const char *const *want, int b64)
{
	const struct oc_ldap_attr *a = oc_ldap_entry_get(e, name);
	size_t n = 0;

	while (want[n] != NULL)
		n++;
	if (n == 0) {
		assert_null(a);
		return;
	}
	assert_non_null(a);
	if (a->n != n)
		fail_msg("%s: %zu values, want %zu", name, a->n, n);
	for (size_t i = 0; i < n; i++) {
		char *s = val_text(e, name, i, b64);

		if (strcmp(s, want[i]) != 0)
			fail_msg("%s[%zu] = \"%s\", want \"%s\"", name, i, s, want[i]);
		free(s);
	}
}

#define V(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NONE ((const char *const[]){ NULL })

/* templates.md section 12 rows 1, 14, 16, 30: the values as LDAP holds them */
static const struct row {
	const char *cn, *display, *schema, *flags, *name_flag, *enroll_flag, *pk_flag;
	const char *min_key, *keyspec, *ku_b64, *exp_b64, *overlap_b64, *rev, *minor, *oid_arc;
	const char *const *eku, *const *app, *const *csps;
} rows[] = {
	{ "User", "User", "1", "66106", "-1509949440", "41", "16", "2048", "1", "oAA=",
	  "AEA5hy7h/v8=", "AICmCv/e//8=", "3", "1", "1",
	  V("1.3.6.1.4.1.311.10.3.4", "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.2"), NONE,
	  V("2,Microsoft Base Cryptographic Provider v1.0",
	    "1,Microsoft Enhanced Cryptographic Provider v1.0") },
	{ "Machine", "Computer", "1", "66144", "402653184", "32", "0", "2048", "1", "oAA=",
	  "AEA5hy7h/v8=", "AICmCv/e//8=", "5", "1", "14",
	  V("1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1"), NONE,
	  V("1,Microsoft RSA SChannel Cryptographic Provider") },
	{ "WebServer", "Web Server", "1", "66113", "1", "0", "0", "2048", "1", "oAA=",
	  "AIByDl3C/f8=", "AICmCv/e//8=", "4", "1", "16",
	  V("1.3.6.1.5.5.7.3.1"), NONE,
	  V("2,Microsoft DH SChannel Cryptographic Provider",
	    "1,Microsoft RSA SChannel Cryptographic Provider") },
	{ "Workstation", "Workstation Authentication", "2", "66144", "134217728", "32", "0",
	  "2048", "1", "oAA=", "AEA5hy7h/v8=", "AICmCv/e//8=", "101", "0", "30",
	  V("1.3.6.1.5.5.7.3.2"), V("1.3.6.1.5.5.7.3.2"),
	  V("1,Microsoft RSA SChannel Cryptographic Provider") },
};

static void
test_template_section12(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		struct oc_template *t = NULL;
		struct oc_ldap_entry e;
		char oid[160];

		assert_int_equal(oc_dir_template_get(dir, w->cn, &t), OC_OK);
		assert_int_equal(oc_ldap_enc_template(t, "CN=x," PKS, &e), OC_OK);
		snprintf(oid, sizeof(oid), "%s.1.%s", OC_DIR_FOREST_OID, w->oid_arc);
		expect_vals(&e, "objectClass", V("top", "pKICertificateTemplate"), 0);
		expect_vals(&e, "cn", V(w->cn), 0);
		expect_vals(&e, "displayName", V(w->display), 0);
		expect_vals(&e, "msPKI-Template-Schema-Version", V(w->schema), 0);
		expect_vals(&e, "flags", V(w->flags), 0);
		expect_vals(&e, "msPKI-Certificate-Name-Flag", V(w->name_flag), 0);
		expect_vals(&e, "msPKI-Enrollment-Flag", V(w->enroll_flag), 0);
		expect_vals(&e, "msPKI-Private-Key-Flag", V(w->pk_flag), 0);
		expect_vals(&e, "msPKI-Minimal-Key-Size", V(w->min_key), 0);
		expect_vals(&e, "pKIDefaultKeySpec", V(w->keyspec), 0);
		expect_vals(&e, "pKIKeyUsage", V(w->ku_b64), 1);
		expect_vals(&e, "pKIExpirationPeriod", V(w->exp_b64), 1);
		expect_vals(&e, "pKIOverlapPeriod", V(w->overlap_b64), 1);
		expect_vals(&e, "revision", V(w->rev), 0);
		expect_vals(&e, "msPKI-Template-Minor-Revision", V(w->minor), 0);
		expect_vals(&e, "msPKI-Cert-Template-OID", V(oid), 0);
		expect_vals(&e, "pKIExtendedKeyUsage", w->eku, 0);
		expect_vals(&e, "msPKI-Certificate-Application-Policy", w->app, 0);
		expect_vals(&e, "pKIDefaultCSPs", w->csps, 0);
		expect_vals(&e, "msPKI-RA-Signature", V("0"), 0);
		expect_vals(&e, "pKIMaxIssuingDepth", V("0"), 0);
		expect_vals(&e, "pKICriticalExtensions", V("2.5.29.15"), 0);
		assert_null(oc_ldap_entry_get(&e, "nTSecurityDescriptor"));
		oc_ldap_entry_clear(&e);
		oc_template_free(t);
	}
}

static uint32_t
dec_u32(const struct oc_ldap_entry *e, const char *name)
{
	const struct oc_ldap_attr *a = oc_ldap_entry_get(e, name);
	uint32_t v = 0;

	assert_non_null(a);
	assert_int_equal(a->n, 1);
	assert_int_equal(oc_ad_attr_u32(a->v[0].p, a->v[0].len, &v), OC_OK);
	return v;
}

static void
expect_list(const struct oc_ldap_entry *e, const char *name, const struct oc_strlist *l)
{
	const struct oc_ldap_attr *a = oc_ldap_entry_get(e, name);

	assert_int_equal(a ? a->n : 0, l->n);
	for (size_t i = 0; i < l->n; i++)
		assert_string_equal((const char *)a->v[i].p, l->v[i]);
}

/* Every template of the directory decodes back to itself. */
static void
test_template_roundtrip(void **state)
{
	struct oc_template **tv = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(oc_dir_template_list(dir, &tv, &n), OC_OK);
	assert_true(n >= 6);
	for (size_t i = 0; i < n; i++) {
		const struct oc_template *t = tv[i];
		const struct oc_ldap_attr *a;
		struct oc_ldap_entry e;
		struct oc_ad_ra_app ra;
		int64_t secs;
		uint16_t ku;

		assert_int_equal(oc_ldap_enc_template(t, "CN=x," PKS, &e), OC_OK);
		assert_int_equal(dec_u32(&e, "flags"), t->general_flags);
		assert_int_equal(dec_u32(&e, "msPKI-Enrollment-Flag"), t->enrollment_flags);
		assert_int_equal(dec_u32(&e, "msPKI-Private-Key-Flag"), t->private_key_flags);
		assert_int_equal(dec_u32(&e, "msPKI-Certificate-Name-Flag"), t->name_flags);
		assert_int_equal(dec_u32(&e, "msPKI-Minimal-Key-Size"), t->min_key_size);
		assert_int_equal(dec_u32(&e, "msPKI-Template-Schema-Version"), t->schema_version);
		assert_int_equal(dec_u32(&e, "revision"), t->revision);
		assert_int_equal(dec_u32(&e, "msPKI-Template-Minor-Revision"), t->minor_revision);
		assert_int_equal(dec_u32(&e, "pKIDefaultKeySpec"), t->key_spec);
		assert_int_equal(dec_u32(&e, "msPKI-RA-Signature"), t->ra_signatures);
		assert_int_equal((int32_t)dec_u32(&e, "pKIMaxIssuingDepth"), t->max_issuing_depth);
		a = oc_ldap_entry_get(&e, "pKIExpirationPeriod");
		assert_int_equal(oc_ad_attr_period(a->v[0].p, a->v[0].len, &secs), OC_OK);
		assert_int_equal(secs, t->validity_seconds);
		a = oc_ldap_entry_get(&e, "pKIOverlapPeriod");
		assert_int_equal(oc_ad_attr_period(a->v[0].p, a->v[0].len, &secs), OC_OK);
		assert_int_equal(secs, t->renewal_seconds);
		a = oc_ldap_entry_get(&e, "pKIKeyUsage");
		assert_int_equal(oc_ad_attr_key_usage(a->v[0].p, a->v[0].len, &ku), OC_OK);
		assert_int_equal(ku, t->key_usage);
		a = oc_ldap_entry_get(&e, "pKIDefaultCSPs");
		assert_int_equal(a->n, t->ncsps);
		for (size_t k = 0; k < t->ncsps; k++) {
			struct oc_csp csp;

			assert_int_equal(oc_ad_attr_csp(a->v[k].p, a->v[k].len, &csp), OC_OK);
			assert_int_equal(csp.priority, t->csps[k].priority);
			assert_string_equal(csp.name, t->csps[k].name);
			free(csp.name);
		}
		expect_list(&e, "pKIExtendedKeyUsage", &t->eku);
		expect_list(&e, "msPKI-Certificate-Application-Policy", &t->app_policies);
		expect_list(&e, "pKICriticalExtensions", &t->critical_exts);
		expect_list(&e, "msPKI-RA-Application-Policies", &t->ra_app_policies);
		/* the CNG triplets of OpenCESWebServerEC name its key algorithm */
		memset(&ra, 0, sizeof(ra));
		a = oc_ldap_entry_get(&e, "msPKI-RA-Application-Policies");
		for (size_t k = 0; a != NULL && k < a->n; k++)
			assert_int_equal(oc_ad_attr_ra_app_add(&ra, a->v[k].p, a->v[k].len), OC_OK);
		if (t->key_algorithm != NULL && strcmp(t->key_algorithm, "RSA") != 0) {
			assert_non_null(ra.asymmetric_algorithm);
			assert_string_equal(ra.asymmetric_algorithm, t->key_algorithm);
		}
		oc_ad_ra_app_clear(&ra);
		oc_ldap_entry_clear(&e);
	}
	oc_dir_template_list_free(tv, n);
}

/* templates.md 1.2, 7.2, 8: names and the CES value */
static void
test_names_and_ces(void **state)
{
	static const char *ex = "1\n2\n0\nhttps://ca1.example.com/EXAMPLE-CA_CES_Kerberos/service.svc/CES\n0";
	struct oc_ces_uri u = { 2, "https://ca1.example.com/EXAMPLE-CA_CES_Kerberos/service.svc/CES", 1, 0 };
	struct oc_ces_uri *back = NULL;
	size_t nback = 0;
	struct ocbuf b;
	char cn[OC_LDAP_OID_CN_MAX], *s = NULL;

	(void)state;
	assert_int_equal(oc_ldap_oid_cn("1.3.6.1.4.1.311.21.8.11034890.834619.12601478.16236816."
	    "7255827.176.1.16", cn, sizeof(cn)), OC_OK);
	assert_string_equal(cn, "16.6AC1829A8B7E07C75C719E876D9B3C43");
	assert_int_equal(oc_ldap_oid_cn("1.2.x", cn, sizeof(cn)), OC_ERR_INVALID);

	assert_int_equal(oc_ldap_ca_cn("LongCAName(WithSpeci@#$%^Characters", &s), OC_OK);
	assert_string_equal(s, "LongCAName!0028WithSpeci@!0023$!0025!005eCharacters");
	free(s);
	assert_int_equal(oc_ldap_ca_cn("OpenCES Test CA", &s), OC_OK);
	assert_string_equal(s, "OpenCES Test CA");
	free(s);
	assert_int_equal(oc_ldap_ca_cn("((((((((((((((((((((", &s), OC_ERR_NOT_SUPPORTED);

	assert_int_equal(oc_ldap_dn_escape("a,b+c", &s), OC_OK);
	assert_string_equal(s, "a\\,b\\+c");
	free(s);

	ocbuf_init(&b, 4096);
	assert_int_equal(oc_ldap_enc_ces(&u, &b), OC_OK);
	assert_int_equal(ocbuf_avail(&b), strlen(ex));
	assert_memory_equal(ocbuf_ptr(&b), ex, strlen(ex));
	assert_int_equal(oc_ad_attr_ces_add(ocbuf_ptr(&b), ocbuf_avail(&b), &back, &nback), OC_OK);
	assert_int_equal(nback, 1);
	assert_int_equal(back[0].priority, 1);
	assert_int_equal(back[0].auth, 2);
	assert_int_equal(back[0].renewal_only, 0);
	assert_string_equal(back[0].uri, u.uri);
	oc_ad_ces_free(back, nback);
	ocbuf_free(&b);
}

/* The SD of template cn as published, parsed by ad_sd. */
static struct oc_ad_sd *
template_sd(const char *cn)
{
	struct oc_ldap_pub_template *tv = NULL;
	struct oc_ad_sid dom;
	struct oc_ad_sd *sd = NULL;
	uint8_t *p = NULL;
	size_t n = 0, len = 0, k;

	assert_int_equal(oc_ad_sid_from_text(DOM, &dom), OC_OK);
	assert_int_equal(oc_ldap_pub_templates_from_dir(dir, &dom, NULL, 1, &tv, &n), OC_OK);
	for (k = 0; k < n && strcmp(tv[k].t->cn, cn) != 0; k++)
		;
	assert_true(k < n);
	assert_int_equal(oc_ldap_sd_template(&dom, tv[k].grants, tv[k].ngrants, &p, &len), OC_OK);
	assert_int_equal(oc_ad_sd_parse(p, len, &sd), OC_OK);
	free(p);
	oc_ldap_pub_templates_free(tv, n);
	return sd;
}

static uint32_t
rights(const struct oc_ad_sd *sd, const char *who, const char *const *groups)
{
	struct oc_strlist gl = { NULL, 0 };
	uint32_t r = 0;

	for (size_t i = 0; groups[i] != NULL; i++)
		assert_int_equal(oc_strlist_add(&gl, groups[i]), OC_OK);
	assert_int_equal(oc_ad_sd_rights(sd, who, &gl, &r), OC_OK);
	oc_strlist_free(&gl);
	return r;
}

#define USER   DOM "-1104"
#define HOST   DOM "-1105"
#define ADMIN  DOM "-500"
static const char *const user_groups[] = { DOM "-513", "S-1-5-11", "S-1-1-0", NULL };
static const char *const host_groups[] = { DOM "-515", "S-1-5-11", "S-1-1-0", NULL };
static const char *const admin_groups[] = { DOM "-512", DOM "-513", "S-1-5-11", NULL };

/* templates.md 6.4 as the access check of 6.2 sees it */
static void
test_template_sd(void **state)
{
	static const struct {
		const char *cn;
		uint32_t user, host, admin;
	} want[] = {
		{ "User", OC_RIGHT_ENROLL, 0, OC_RIGHT_ENROLL },
		{ "WebServer", 0, 0, OC_RIGHT_ENROLL },
		{ "Machine", 0, OC_RIGHT_ENROLL, OC_RIGHT_ENROLL },
		{ "Workstation", 0, OC_RIGHT_ENROLL, OC_RIGHT_ENROLL },
		{ "OpenCESWebServerEC", 0, 0, OC_RIGHT_ENROLL },
		{ "OpenCESUserApproval", OC_RIGHT_ENROLL, 0, OC_RIGHT_ENROLL },
	};
	struct oc_ad_sid ea;
	char txt[OC_AD_SID_TEXT_MAX];

	(void)state;
	assert_int_equal(oc_ad_sid_from_text(DOM "-519", &ea), OC_OK);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct oc_ad_sd *sd = template_sd(want[i].cn);

		assert_true(sd->has_owner && sd->has_group && sd->has_dacl);
		assert_true(oc_ad_sid_eq(&sd->owner, &ea));
		assert_true(oc_ad_sid_eq(&sd->group, &ea));
		assert_int_equal(sd->control & 0x1404, 0x1404);     /* D:PAI */
		assert_int_equal(sd->acl_revision, 4);
		/* Authenticated Users read first, like Windows */
		assert_int_equal(sd->aces[0].type, OC_AD_ACE_ALLOWED);
		assert_int_equal(sd->aces[0].mask, OC_LDAP_MASK_READ);
		assert_int_equal(oc_ad_sid_to_text(&sd->aces[0].sid, txt, sizeof(txt)), OC_OK);
		assert_string_equal(txt, "S-1-5-11");
		if (rights(sd, USER, user_groups) != want[i].user ||
		    rights(sd, HOST, host_groups) != want[i].host ||
		    rights(sd, ADMIN, admin_groups) != want[i].admin)
			fail_msg("%s: user %u host %u admin %u", want[i].cn,
			    rights(sd, USER, user_groups), rights(sd, HOST, host_groups),
			    rights(sd, ADMIN, admin_groups));
		oc_ad_sd_free(sd);
	}
	/* an AutoEnroll grant becomes the AutoEnroll object ACE */
	assert_int_equal(oc_dir_grant(dir, "Machine", "Domain Computers", OC_RIGHT_AUTOENROLL), OC_OK);
	{
		struct oc_ad_sd *sd = template_sd("Machine");

		assert_int_equal(rights(sd, HOST, host_groups), OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL);
		assert_int_equal(rights(sd, USER, user_groups), 0);
		oc_ad_sd_free(sd);
	}
	assert_int_equal(oc_dir_revoke(dir, "Machine", "Domain Computers", OC_RIGHT_AUTOENROLL), OC_OK);
}

/* An in-memory entry set standing in for the forest's entries. */
struct mem {
	struct oc_ldap_entry v[64];
	size_t n;
};

static struct oc_ldap_entry *
mem_find(struct mem *m, const char *dn)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcasecmp(m->v[i].dn, dn) == 0)
			return &m->v[i];
	return NULL;
}

static void
entry_copy_attrs(struct oc_ldap_entry *dst, const struct oc_ldap_entry *src, const char *skip)
{
	for (size_t i = 0; i < src->n; i++) {
		if (skip != NULL && strcasecmp(src->a[i].name, skip) == 0)
			continue;
		for (size_t k = 0; k < src->a[i].n; k++)
			assert_int_equal(oc_ldap_entry_add(dst, src->a[i].name, src->a[i].v[k].p,
			    src->a[i].v[k].len), OC_OK);
	}
}

static int
mem_read(void *ctx, const struct oc_ldap_pub_target *t, struct oc_ldap_entry *cur, int *found)
{
	struct oc_ldap_entry *e = mem_find(ctx, t->e.dn);

	memset(cur, 0, sizeof(*cur));
	*found = e != NULL;
	if (e != NULL) {
		assert_int_equal(oc_ldap_entry_set_dn(cur, e->dn), OC_OK);
		entry_copy_attrs(cur, e, NULL);
	}
	return OC_OK;
}

/* drop attribute name of e */
static void
mem_drop(struct oc_ldap_entry *e, const char *name)
{
	struct oc_ldap_entry n;

	memset(&n, 0, sizeof(n));
	assert_int_equal(oc_ldap_entry_set_dn(&n, e->dn), OC_OK);
	entry_copy_attrs(&n, e, name);
	oc_ldap_entry_clear(e);
	*e = n;
}

static int
mem_apply(void *ctx, const struct oc_ldap_change *c)
{
	struct mem *m = ctx;
	struct oc_ldap_entry *e;

	if (c->add) {
		assert_null(mem_find(m, c->target->e.dn));
		assert_true(m->n < 64);
		e = &m->v[m->n++];
		memset(e, 0, sizeof(*e));
		assert_int_equal(oc_ldap_entry_set_dn(e, c->target->e.dn), OC_OK);
		entry_copy_attrs(e, &c->target->e, NULL);
		return OC_OK;
	}
	assert_non_null(e = mem_find(m, c->target->e.dn));
	for (size_t i = 0; i < c->nmods; i++) {
		const struct oc_ldap_mod *md = &c->mods[i];

		if (md->op != OC_LDAP_MOD_ADD)
			mem_drop(e, md->a.name);
		for (size_t k = 0; k < md->a.n; k++)
			assert_int_equal(oc_ldap_entry_add(e, md->a.name, md->a.v[k].p, md->a.v[k].len),
			    OC_OK);
	}
	return OC_OK;
}

static void
mem_clear(struct mem *m)
{
	for (size_t i = 0; i < m->n; i++)
		oc_ldap_entry_clear(&m->v[i]);
	m->n = 0;
}

static uint8_t *cadata;
static size_t calen;

static void
plan_fixed(struct oc_ldap_pub_plan *plan, int all)
{
	struct oc_ldap_pub_template *tv = NULL;
	struct oc_ldap_pub_input in;
	struct oc_ces_uri uris[2] = {
		{ 2, "https://ca.corp.example.test/OpenCES_CES_Kerberos/service.svc/CES", 1, 0 },
		{ 4, "https://ca.corp.example.test/OpenCES_CES_UsernamePassword/service.svc/CES", 2, 1 },
	};
	struct oc_ca_entry ca;
	struct oc_ad_sid dom;
	char path[512];
	size_t n = 0;

	if (cadata == NULL) {
		const char *v = getenv("OC_VECTORS");

		snprintf(path, sizeof(path), "%s/ldap/publish/ca.der", v ? v : "tests/vectors");
		assert_int_equal(oc_file_read(path, &cadata, &calen, 65536), OC_OK);
	}
	memset(&ca, 0, sizeof(ca));
	ca.name = "OpenCES Test CA";
	ca.dns_host_name = "ca.corp.example.test";
	ca.cert_der = cadata;
	ca.cert_der_len = calen;
	assert_int_equal(oc_strlist_add(&ca.templates, "User"), OC_OK);
	assert_int_equal(oc_strlist_add(&ca.templates, "Machine"), OC_OK);
	assert_int_equal(oc_strlist_add(&ca.templates, "WebServer"), OC_OK);
	ca.uris = uris;
	ca.nuris = 2;
	assert_int_equal(oc_ad_sid_from_text(DOM, &dom), OC_OK);
	assert_int_equal(oc_ldap_pub_templates_from_dir(dir, &dom, &ca, all, &tv, &n), OC_OK);
	assert_int_equal(n, all ? 6 : 3);
	memset(&in, 0, sizeof(in));
	in.config_nc = CFGNC;
	in.domain_sid = &dom;
	in.templates = tv;
	in.ntemplates = n;
	in.ca = &ca;
	in.forest_oid = OC_DIR_FOREST_OID;
	assert_int_equal(oc_ldap_pub_plan_build(&in, plan), OC_OK);
	oc_ldap_pub_templates_free(tv, n);
	oc_strlist_free(&ca.templates);
}

/* The LDIF of a publication into an empty forest equals the checked-in vector. */
static void
test_ldif_vector(void **state)
{
	struct oc_ldap_pub_plan plan;
	struct oc_ldap_pub_result res;
	struct oc_ldap_pub_io io = { mem_read, NULL, NULL };
	struct mem *m = calloc(1, sizeof(*m));
	struct ocbuf b;
	uint8_t *want = NULL;
	size_t wantlen = 0;
	char path[512];
	const char *v = getenv("OC_VECTORS");

	(void)state;
	io.ctx = m;
	plan_fixed(&plan, 0);
	ocbuf_init(&b, 1 << 20);
	assert_int_equal(oc_ldap_pub_run(&plan, &io, &b, &res), OC_OK);
	/* 4 containers + CN=OID + 3 x (template + OID) + CA + root + NTAuth */
	assert_int_equal(res.added, 14);
	assert_int_equal(res.modified + res.unchanged, 0);
	snprintf(path, sizeof(path), "%s/ldap/publish/publish-empty.ldif", v ? v : "tests/vectors");
	if (getenv("OC_UPDATE_VECTORS") != NULL)
		assert_int_equal(oc_file_write(path, ocbuf_ptr(&b), ocbuf_avail(&b), 0644), OC_OK);
	assert_int_equal(oc_file_read(path, &want, &wantlen, 1 << 20), OC_OK);
	assert_int_equal(ocbuf_avail(&b), wantlen);
	assert_memory_equal(ocbuf_ptr(&b), want, wantlen);
	free(want);
	ocbuf_free(&b);
	oc_ldap_pub_plan_clear(&plan);
	mem_clear(m);
	free(m);
}

static char *
run_ldif(struct oc_ldap_pub_plan *plan, struct mem *m, int apply, struct oc_ldap_pub_result *res)
{
	struct oc_ldap_pub_io io = { mem_read, apply ? mem_apply : NULL, m };
	struct ocbuf b;

	ocbuf_init(&b, 1 << 20);
	assert_int_equal(oc_ldap_pub_run(plan, &io, &b, res), OC_OK);
	return (char *)ocbuf_take(&b, NULL);
}

/* Apply, then a second run changes nothing; edits are handled by ownership. */
static void
test_idempotent(void **state)
{
	struct oc_ldap_pub_plan plan;
	struct oc_ldap_pub_result res;
	struct mem *m = calloc(1, sizeof(*m));
	struct oc_ldap_entry *es, *tmpl, *nt;
	static const uint8_t other[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	char *l;

	(void)state;
	plan_fixed(&plan, 1);
	free(run_ldif(&plan, m, 1, &res));
	assert_int_equal(res.added, 20);
	l = run_ldif(&plan, m, 1, &res);
	assert_int_equal(res.added + res.modified, 0);
	assert_int_equal(res.unchanged, 20);
	assert_string_equal(l, "");
	free(l);

	/* an administrator's edit of a template stays; our CA's attributes come back */
	tmpl = mem_find(m, "CN=User,CN=Certificate Templates," PKS);
	es = mem_find(m, "CN=OpenCES Test CA,CN=Enrollment Services," PKS);
	assert_non_null(tmpl);
	assert_non_null(es);
	mem_drop(tmpl, "displayName");
	assert_int_equal(oc_ldap_entry_add_str(tmpl, "displayName", "Edited"), OC_OK);
	mem_drop(es, "flags");
	assert_int_equal(oc_ldap_entry_add_str(es, "flags", "0"), OC_OK);
	assert_int_equal(oc_ldap_entry_add_str(es, "certificateTemplates", "Foreign"), OC_OK);
	mem_drop(es, "msPKI-Enrollment-Servers");
	assert_int_equal(oc_ldap_entry_add_str(es, "msPKI-Site-Name", "Site1"), OC_OK);
	/* NTAuth trusts another CA too: ours must be added, theirs kept */
	nt = mem_find(m, "CN=NTAuthCertificates," PKS);
	mem_drop(nt, "cACertificate");
	assert_int_equal(oc_ldap_entry_add(nt, "cACertificate", other, sizeof(other)), OC_OK);

	l = run_ldif(&plan, m, 0, &res);
	assert_int_equal(res.added, 0);
	assert_int_equal(res.modified, 2);
	assert_non_null(strstr(l, "dn: CN=OpenCES Test CA,CN=Enrollment Services," PKS "\n"
	    "changetype: modify\nreplace: flags\nflags: 10\n-\nreplace: certificateTemplates\n"
	    "certificateTemplates: User\ncertificateTemplates: Machine\n"
	    "certificateTemplates: WebServer\n-\nreplace: msPKI-Enrollment-Servers\n"
	    "msPKI-Enrollment-Servers:: "));
	assert_non_null(strstr(l, "dn: CN=NTAuthCertificates," PKS "\nchangetype: modify\n"
	    "add: cACertificate\ncACertificate:: MII"));
	assert_null(strstr(l, "CN=User,"));
	free(l);
	free(run_ldif(&plan, m, 1, &res));
	assert_int_equal(res.modified, 2);
	l = run_ldif(&plan, m, 1, &res);
	assert_int_equal(res.modified + res.added, 0);
	free(l);
	assert_int_equal(oc_ldap_entry_get(nt = mem_find(m, "CN=NTAuthCertificates," PKS),
	    "cACertificate")->n, 2);
	assert_non_null(oc_ldap_entry_get(es, "msPKI-Site-Name"));
	assert_string_equal((const char *)oc_ldap_entry_get(tmpl, "displayName")->v[0].p, "Edited");
	oc_ldap_pub_plan_clear(&plan);
	mem_clear(m);
	free(m);
}

/* A template that exists with another OID (a Windows forest's) keeps it, and
 * no OID object is made for ours. */
static void
test_foreign_template(void **state)
{
	struct oc_ldap_pub_plan plan;
	struct oc_ldap_pub_result res;
	struct mem *m = calloc(1, sizeof(*m));
	struct oc_ldap_entry *e = &m->v[0];
	char cn[OC_LDAP_OID_CN_MAX], dn[512];
	char *l;

	(void)state;
	assert_int_equal(oc_ldap_entry_set_dn(e, "CN=User,CN=Certificate Templates," PKS), OC_OK);
	assert_int_equal(oc_ldap_entry_add_str(e, "msPKI-Cert-Template-OID",
	    "1.3.6.1.4.1.311.21.8.1.2.3.4.5.6.1.1"), OC_OK);
	m->n = 1;
	plan_fixed(&plan, 1);
	l = run_ldif(&plan, m, 1, &res);
	assert_int_equal(res.added, 18);
	assert_int_equal(res.unchanged, 1);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(oc_ldap_oid_cn(OC_DIR_FOREST_OID ".1.1", cn, sizeof(cn)), OC_OK);
	snprintf(dn, sizeof(dn), "CN=%s,CN=OID," PKS, cn);
	assert_null(mem_find(m, dn));
	assert_null(strstr(l, "dn: CN=User,"));
	free(l);
	/* the other templates' OID objects are there */
	assert_int_equal(oc_ldap_oid_cn(OC_DIR_FOREST_OID ".1.16", cn, sizeof(cn)), OC_OK);
	snprintf(dn, sizeof(dn), "CN=%s,CN=OID," PKS, cn);
	assert_non_null(mem_find(m, dn));
	oc_ldap_pub_plan_clear(&plan);
	mem_clear(m);
	free(m);
}

/* A subordinate CA goes to CN=AIA, not to the trusted roots. */
static void
test_subordinate_aia(void **state)
{
	struct oc_ldap_pub_plan plan;
	struct oc_ldap_pub_input in;
	struct oc_ca_entry ca;
	struct oc_ad_sid dom;
	uint8_t *der = NULL;
	size_t len = 0;
	char path[512];
	const char *v = getenv("OC_VECTORS");
	int aia = 0, aia_container = 0, roots = 0, ntauth = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/ldap/publish/sub.der", v ? v : "tests/vectors");
	assert_int_equal(oc_file_read(path, &der, &len, 65536), OC_OK);
	memset(&ca, 0, sizeof(ca));
	ca.name = "OpenCES Issuing CA";
	ca.dns_host_name = "ca.corp.example.test";
	ca.cert_der = der;
	ca.cert_der_len = len;
	assert_int_equal(oc_ad_sid_from_text(DOM, &dom), OC_OK);
	memset(&in, 0, sizeof(in));
	in.config_nc = CFGNC;
	in.domain_sid = &dom;
	in.ca = &ca;
	assert_int_equal(oc_ldap_pub_plan_build(&in, &plan), OC_OK);
	for (size_t i = 0; i < plan.n; i++) {
		const char *dn = plan.v[i].e.dn;

		aia += strcmp(dn, "CN=OpenCES Issuing CA,CN=AIA," PKS) == 0;
		aia_container += strcmp(dn, "CN=AIA," PKS) == 0;
		roots += strstr(dn, "CN=Certification Authorities,") == dn + strcspn(dn, ",") + 1;
		ntauth += strcmp(dn, "CN=NTAuthCertificates," PKS) == 0;
	}
	assert_int_equal(aia, 1);
	assert_int_equal(aia_container, 1);
	assert_int_equal(roots, 0);
	assert_int_equal(ntauth, 1);
	oc_ldap_pub_plan_clear(&plan);
	/* a CA entry without a certificate is refused */
	ca.cert_der = NULL;
	ca.cert_der_len = 0;
	assert_int_equal(oc_ldap_pub_plan_build(&in, &plan), OC_ERR_INVALID);
	free(der);
}

/* RFC 2849: values that are not SAFE-STRINGs are base64 */
static void
test_ldif_safe(void **state)
{
	struct oc_ldap_pub_target t;
	struct oc_ldap_change c;
	struct ocbuf b;
	const char *want = "dn: CN=x\\,y," PKS "\nchangetype: add\n"
	    "a: plain value: with colon\nb:: IGxlYWRpbmcgc3BhY2U=\nc:: OmNvbG9u\nd:: PGFuZ2xl\n"
	    "e:: dHJhaWxpbmcg\nf:: w5xuaWNvZGU=\ng:: AAE=\nh: \n\n";

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(&c, 0, sizeof(c));
	assert_int_equal(oc_ldap_entry_set_dn(&t.e, "CN=x\\,y," PKS), OC_OK);
	assert_int_equal(oc_ldap_entry_add_str(&t.e, "a", "plain value: with colon"), OC_OK);
	assert_int_equal(oc_ldap_entry_add_str(&t.e, "b", " leading space"), OC_OK);
	assert_int_equal(oc_ldap_entry_add_str(&t.e, "c", ":colon"), OC_OK);
	assert_int_equal(oc_ldap_entry_add_str(&t.e, "d", "<angle"), OC_OK);
	assert_int_equal(oc_ldap_entry_add_str(&t.e, "e", "trailing "), OC_OK);
	assert_int_equal(oc_ldap_entry_add_str(&t.e, "f", "\xc3\x9cnicode"), OC_OK);
	assert_int_equal(oc_ldap_entry_add(&t.e, "g", "\x00\x01", 2), OC_OK);
	assert_int_equal(oc_ldap_entry_add(&t.e, "h", "", 0), OC_OK);
	c.add = 1;
	c.target = &t;
	ocbuf_init(&b, 4096);
	assert_int_equal(oc_ldap_pub_ldif(&c, &b), OC_OK);
	assert_int_equal(ocbuf_avail(&b), strlen(want));
	assert_memory_equal(ocbuf_ptr(&b), want, strlen(want));
	ocbuf_free(&b);
	oc_ldap_entry_clear(&t.e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_section12),
		cmocka_unit_test(test_template_roundtrip),
		cmocka_unit_test(test_names_and_ces),
		cmocka_unit_test(test_template_sd),
		cmocka_unit_test(test_ldif_vector),
		cmocka_unit_test(test_idempotent),
		cmocka_unit_test(test_foreign_template),
		cmocka_unit_test(test_subordinate_aia),
		cmocka_unit_test(test_ldif_safe),
	};
	int r = cmocka_run_group_tests(tests, setup, teardown);

	free(cadata);
	return r;
}
