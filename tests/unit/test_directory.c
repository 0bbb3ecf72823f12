/*
 * The embedded directory: the seeded templates against templates.md section 12,
 * template / CA round trips, accounts, passwords, nested groups, rights, the
 * policy serial and a read-only handle beside a writer.
 */
#include <crypt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "directory/directory.h"
#include "directory/directory_text.h"

int main(void);

struct fixture {
	char dir[64];
	char path[128];
	struct oc_directory *d;
};

static void
rm_db(const char *path)
{
	char p[160];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/oc-dir-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/directory.db", f->dir);
	assert_int_equal(oc_dir_open(f->path, 1, &f->d), OC_OK);
	assert_int_equal(oc_dir_seed_defaults(f->d), OC_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	oc_dir_close(f->d);
	rm_db(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* templates.md section 12, rows 1, 14, 16 and 30, as printed there. */
struct expect {
	unsigned n;
	const char *cn, *display;
	uint32_t schema;
	int64_t flags, name_flag, enroll_flag, pk_flag;
	uint32_t min_key, keyspec;
	uint16_t ku;
	const char *eku[4];
	int app_same;
	int64_t validity_days;
	uint32_t rev, minor;
	const char *csps[3];   /* "priority,name" */
};

static const struct expect section12[] = {
	{ 1, "User", "User", 1, 66106, -1509949440, 41, 16, 2048, 1, 0xa000,
	  { "1.3.6.1.4.1.311.10.3.4", "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.2" }, 0, 365, 3, 1,
	  { "2,Microsoft Base Cryptographic Provider v1.0", "1,Microsoft Enhanced Cryptographic Provider v1.0" } },
	{ 14, "Machine", "Computer", 1, 66144, 402653184, 32, 0, 2048, 1, 0xa000,
	  { "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1" }, 0, 365, 5, 1,
	  { "1,Microsoft RSA SChannel Cryptographic Provider" } },
	{ 16, "WebServer", "Web Server", 1, 66113, 1, 0, 0, 2048, 1, 0xa000,
	  { "1.3.6.1.5.5.7.3.1" }, 0, 730, 4, 1,
	  { "2,Microsoft DH SChannel Cryptographic Provider", "1,Microsoft RSA SChannel Cryptographic Provider" } },
	{ 30, "Workstation", "Workstation Authentication", 2, 66144, 134217728, 32, 0, 2048, 1, 0xa000,
	  { "1.3.6.1.5.5.7.3.2" }, 1, 365, 101, 0,
	  { "1,Microsoft RSA SChannel Cryptographic Provider" } },
};

static void
test_seed_section12(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(section12) / sizeof(section12[0]); i++) {
		const struct expect *e = &section12[i];
		struct oc_template *t = NULL, *byoid = NULL;
		char oid[160], csp[160];
		size_t neku = 0, ncsp = 0;

		assert_int_equal(oc_dir_template_get(f->d, e->cn, &t), OC_OK);
		snprintf(oid, sizeof(oid), "%s.1.%u", OC_DIR_FOREST_OID, e->n);
		assert_string_equal(t->cn, e->cn);
		assert_string_equal(t->display_name, e->display);
		assert_string_equal(t->oid, oid);
		assert_int_equal(t->schema_version, e->schema);
		assert_int_equal(t->general_flags, (uint32_t)e->flags);
		assert_int_equal(t->name_flags, (uint32_t)(int32_t)e->name_flag);
		assert_int_equal(t->enrollment_flags, (uint32_t)e->enroll_flag);
		assert_int_equal(t->private_key_flags, (uint32_t)e->pk_flag);
		assert_int_equal(t->min_key_size, e->min_key);
		assert_int_equal(t->key_spec, e->keyspec);
		assert_true(t->has_key_usage);
		assert_int_equal(t->key_usage, e->ku);
		while (neku < 4 && e->eku[neku] != NULL)
			neku++;
		assert_int_equal(t->eku.n, neku);
		for (size_t k = 0; k < neku; k++)
			assert_string_equal(t->eku.v[k], e->eku[k]);
		assert_int_equal(t->app_policies.n, e->app_same ? neku : 0);
		for (size_t k = 0; k < t->app_policies.n; k++)
			assert_string_equal(t->app_policies.v[k], e->eku[k]);
		assert_int_equal(t->validity_seconds, e->validity_days * 86400);
		assert_int_equal(t->renewal_seconds, 42 * 86400);     /* 6 weeks */
		assert_int_equal(t->revision, e->rev);
		assert_int_equal(t->minor_revision, e->minor);
		while (ncsp < 3 && e->csps[ncsp] != NULL)
			ncsp++;
		assert_int_equal(t->ncsps, ncsp);
		for (size_t k = 0; k < ncsp; k++) {
			snprintf(csp, sizeof(csp), "%u,%s", t->csps[k].priority, t->csps[k].name);
			assert_string_equal(csp, e->csps[k]);
		}
		assert_int_equal(t->critical_exts.n, 1);
		assert_string_equal(t->critical_exts.v[0], "2.5.29.15");
		assert_int_equal(t->ra_signatures, 0);
		assert_int_equal(t->max_issuing_depth, 0);
		assert_int_equal(t->cert_policies.n, 0);
		assert_int_equal(t->superseded.n, 0);
		assert_null(t->key_algorithm);
		assert_true(t->changed > 0);
		/* the OID finds the same template */
		assert_int_equal(oc_dir_template_get(f->d, oid, &byoid), OC_OK);
		assert_string_equal(byoid->cn, e->cn);
		oc_template_free(byoid);
		oc_template_free(t);
	}
}

static void
test_seed_extras_and_idempotence(void **state)
{
	struct fixture *f = *state;
	struct oc_template *t = NULL, **tv = NULL;
	int64_t s1 = 0, s2 = 0;
	size_t n = 0;

	assert_int_equal(oc_dir_template_get(f->d, "OpenCESWebServerEC", &t), OC_OK);
	assert_int_equal(t->schema_version, 4);
	assert_string_equal(t->key_algorithm, "ECDSA_P256");
	assert_string_equal(t->hash_algorithm, "SHA256");
	assert_int_equal(t->min_key_size, 256);
	assert_true(t->name_flags & OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT);
	assert_int_equal(t->eku.n, 1);
	assert_string_equal(t->eku.v[0], "1.3.6.1.5.5.7.3.1");
	assert_int_equal(t->validity_seconds, 365 * 86400);
	assert_true(oc_template_is_ec(t));
	oc_template_free(t);
	t = NULL;
	assert_int_equal(oc_dir_template_get(f->d, "opencesuserapproval", &t), OC_OK);
	assert_int_equal(t->schema_version, 2);
	assert_true(t->enrollment_flags & OC_CT_ENROLL_PEND_ALL_REQUESTS);
	assert_false(t->general_flags & OC_CT_GENERAL_MACHINE_TYPE);
	oc_template_free(t);

	assert_int_equal(oc_dir_policy_serial(f->d, &s1, NULL), OC_OK);
	assert_int_equal(oc_dir_seed_defaults(f->d), OC_OK);
	assert_int_equal(oc_dir_policy_serial(f->d, &s2, NULL), OC_OK);
	assert_int_equal(s1, s2);           /* nothing missing, nothing written */
	assert_int_equal(oc_dir_template_list(f->d, &tv, &n), OC_OK);
	assert_int_equal(n, 6);
	oc_dir_template_list_free(tv, n);
}

static void
fill_custom(struct oc_template *t)
{
	static uint8_t sd[] = { 1, 0, 4, 0x80, 0, 0, 0, 0 };

	memset(t, 0, sizeof(*t));
	t->cn = strdup("MyTemplate");
	t->display_name = strdup("My Template");
	t->oid = strdup("1.3.6.1.4.1.99999.1.2");
	t->schema_version = 3;
	t->revision = 100;
	t->minor_revision = 7;
	t->general_flags = 0x20240;
	t->enrollment_flags = 0x8029;
	t->private_key_flags = 0x01010010;
	t->name_flags = 0x82000000;
	t->min_key_size = 3072;
	t->key_spec = 2;
	t->ra_signatures = 1;
	t->max_issuing_depth = -1;
	t->validity_seconds = 90 * 86400;
	t->renewal_seconds = 14 * 86400;
	t->key_usage = 0x8600;
	t->has_key_usage = 1;
	assert_int_equal(oc_strlist_add(&t->eku, "1.3.6.1.5.5.7.3.2"), OC_OK);
	assert_int_equal(oc_strlist_add(&t->eku, "1.3.6.1.5.5.7.3.1"), OC_OK);
	assert_int_equal(oc_strlist_add(&t->app_policies, "1.3.6.1.5.5.7.3.2"), OC_OK);
	assert_int_equal(oc_strlist_add(&t->cert_policies, "1.3.6.1.4.1.99999.5"), OC_OK);
	assert_int_equal(oc_strlist_add(&t->critical_exts, "2.5.29.15"), OC_OK);
	assert_int_equal(oc_strlist_add(&t->critical_exts, "2.5.29.19"), OC_OK);
	assert_int_equal(oc_strlist_add(&t->ra_app_policies,
	    "msPKI-Asymmetric-Algorithm`PZPWSTR`RSA`msPKI-Hash-Algorithm`PZPWSTR`SHA384`"), OC_OK);
	assert_int_equal(oc_strlist_add(&t->ra_policies, "1.3.6.1.4.1.99999.6"), OC_OK);
	assert_int_equal(oc_strlist_add(&t->superseded, "User"), OC_OK);
	t->csps = calloc(2, sizeof(*t->csps));
	t->csps[0].priority = 1;
	t->csps[0].name = strdup("Microsoft Software Key Storage Provider");
	t->csps[1].priority = 2;
	t->csps[1].name = strdup("Microsoft Platform Crypto Provider");
	t->ncsps = 2;
	t->key_algorithm = strdup("RSA");
	t->hash_algorithm = strdup("SHA384");
	t->security_descriptor = malloc(sizeof(sd));
	memcpy(t->security_descriptor, sd, sizeof(sd));
	t->security_descriptor_len = sizeof(sd);
}

static void
assert_str_eq_null(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void
assert_template_equal(const struct oc_template *a, const struct oc_template *b)
{
	assert_string_equal(a->cn, b->cn);
	assert_str_eq_null(a->display_name, b->display_name);
	assert_string_equal(a->oid, b->oid);
	assert_int_equal(a->schema_version, b->schema_version);
	assert_int_equal(a->revision, b->revision);
	assert_int_equal(a->minor_revision, b->minor_revision);
	assert_int_equal(a->general_flags, b->general_flags);
	assert_int_equal(a->enrollment_flags, b->enrollment_flags);
	assert_int_equal(a->private_key_flags, b->private_key_flags);
	assert_int_equal(a->name_flags, b->name_flags);
	assert_int_equal(a->min_key_size, b->min_key_size);
	assert_int_equal(a->key_spec, b->key_spec);
	assert_int_equal(a->ra_signatures, b->ra_signatures);
	assert_int_equal(a->max_issuing_depth, b->max_issuing_depth);
	assert_int_equal(a->validity_seconds, b->validity_seconds);
	assert_int_equal(a->renewal_seconds, b->renewal_seconds);
	assert_int_equal(a->has_key_usage, b->has_key_usage);
	assert_int_equal(a->key_usage, b->key_usage);
	const struct oc_strlist *la[] = { &a->eku, &a->app_policies, &a->cert_policies,
	    &a->critical_exts, &a->ra_app_policies, &a->ra_policies, &a->superseded };
	const struct oc_strlist *lb[] = { &b->eku, &b->app_policies, &b->cert_policies,
	    &b->critical_exts, &b->ra_app_policies, &b->ra_policies, &b->superseded };
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(la[i]->n, lb[i]->n);
		for (size_t k = 0; k < la[i]->n; k++)
			assert_string_equal(la[i]->v[k], lb[i]->v[k]);
	}
	assert_int_equal(a->ncsps, b->ncsps);
	for (size_t k = 0; k < a->ncsps; k++) {
		assert_int_equal(a->csps[k].priority, b->csps[k].priority);
		assert_string_equal(a->csps[k].name, b->csps[k].name);
	}
	assert_str_eq_null(a->key_algorithm, b->key_algorithm);
	assert_str_eq_null(a->hash_algorithm, b->hash_algorithm);
	assert_int_equal(a->security_descriptor_len, b->security_descriptor_len);
	assert_memory_equal(a->security_descriptor, b->security_descriptor, a->security_descriptor_len);
}

static void
test_template_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct oc_template t, *got = NULL;
	int64_t s0 = 0, s1 = 0;

	fill_custom(&t);
	assert_int_equal(oc_dir_policy_serial(f->d, &s0, NULL), OC_OK);
	assert_int_equal(oc_dir_template_put(f->d, &t), OC_OK);
	assert_int_equal(oc_dir_policy_serial(f->d, &s1, NULL), OC_OK);
	assert_true(s1 > s0);
	assert_int_equal(oc_dir_template_get(f->d, "mytemplate", &got), OC_OK);
	assert_template_equal(&t, got);
	assert_int_equal(got->changed, s1);
	oc_template_free(got);
	assert_int_equal(oc_dir_template_get(f->d, "1.3.6.1.4.1.99999.1.2", &got), OC_OK);
	assert_string_equal(got->cn, "MyTemplate");
	oc_template_free(got);

	/* replace: a template without an OID keeps the stored one */
	free(t.oid);
	t.oid = NULL;
	t.minor_revision = 8;
	assert_int_equal(oc_dir_template_put(f->d, &t), OC_OK);
	assert_int_equal(oc_dir_template_get(f->d, "MyTemplate", &got), OC_OK);
	assert_string_equal(got->oid, "1.3.6.1.4.1.99999.1.2");
	assert_int_equal(got->minor_revision, 8);
	oc_template_free(got);

	/* a new template without an OID gets one under the forest base */
	free(t.cn);
	t.cn = strdup("Other");
	assert_int_equal(oc_dir_template_put(f->d, &t), OC_OK);
	assert_int_equal(oc_dir_template_get(f->d, "Other", &got), OC_OK);
	assert_int_equal(strncmp(got->oid, OC_DIR_FOREST_OID ".", strlen(OC_DIR_FOREST_OID) + 1), 0);
	oc_template_free(got);

	/* another template's OID is refused */
	t.oid = strdup("1.3.6.1.4.1.99999.1.2");
	assert_int_equal(oc_dir_template_put(f->d, &t), OC_ERR_EXISTS);
	/* invalid values are refused */
	t.schema_version = 5;
	assert_int_equal(oc_dir_template_put(f->d, &t), OC_ERR_INVALID);
	oc_template_clear(&t);

	assert_int_equal(oc_dir_template_remove(f->d, "MYTEMPLATE"), OC_OK);
	assert_int_equal(oc_dir_template_get(f->d, "MyTemplate", &got), OC_ERR_NOT_FOUND);
	assert_null(got);
	assert_int_equal(oc_dir_template_remove(f->d, "MyTemplate"), OC_ERR_NOT_FOUND);
}

static void
test_ca_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct oc_ca_entry ca, *cav = NULL;
	struct oc_ces_uri uris[2] = {
		{ 2, (char *)"https://ca1.example.com/EXAMPLE-CA_CES_Kerberos/service.svc/CES", 1, 0 },
		{ 4, (char *)"https://ca1.example.com/EXAMPLE-CA_CES_UsernamePassword/service.svc/CES", 2, 1 },
	};
	uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	size_t n = 0;
	int64_t s0 = 0, s1 = 0;

	memset(&ca, 0, sizeof(ca));
	ca.name = (char *)"EXAMPLE-CA";
	ca.dns_host_name = (char *)"ca1.example.com";
	ca.cert_der = der;
	ca.cert_der_len = sizeof(der);
	assert_int_equal(oc_strlist_add(&ca.templates, "User"), OC_OK);
	assert_int_equal(oc_strlist_add(&ca.templates, "Machine"), OC_OK);
	ca.uris = uris;
	ca.nuris = 2;
	assert_int_equal(oc_dir_policy_serial(f->d, &s0, NULL), OC_OK);
	assert_int_equal(oc_dir_ca_put(f->d, &ca), OC_OK);
	assert_int_equal(oc_dir_ca_put(f->d, &ca), OC_OK);    /* replace, not duplicate */
	assert_int_equal(oc_dir_policy_serial(f->d, &s1, NULL), OC_OK);
	assert_true(s1 > s0);
	oc_strlist_free(&ca.templates);

	assert_int_equal(oc_dir_ca_list(f->d, &cav, &n), OC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(cav[0].name, "EXAMPLE-CA");
	assert_string_equal(cav[0].dns_host_name, "ca1.example.com");
	assert_int_equal(cav[0].cert_der_len, sizeof(der));
	assert_memory_equal(cav[0].cert_der, der, sizeof(der));
	assert_int_equal(cav[0].templates.n, 2);
	assert_string_equal(cav[0].templates.v[0], "User");
	assert_string_equal(cav[0].templates.v[1], "Machine");
	assert_int_equal(cav[0].nuris, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(cav[0].uris[i].auth, uris[i].auth);
		assert_string_equal(cav[0].uris[i].uri, uris[i].uri);
		assert_int_equal(cav[0].uris[i].priority, uris[i].priority);
		assert_int_equal(cav[0].uris[i].renewal_only, uris[i].renewal_only);
	}
	oc_dir_ca_list_free(cav, n);
}

static void
add_account(struct oc_directory *d, const char *name, enum oc_account_kind kind, const char *upn,
    const char *password)
{
	struct oc_identity a;

	memset(&a, 0, sizeof(a));
	a.name = (char *)name;
	a.kind = kind;
	a.upn = (char *)upn;
	assert_int_equal(oc_dir_account_add(d, &a, password), OC_OK);
}

static void
test_accounts_lookup(void **state)
{
	struct fixture *f = *state;
	struct oc_identity id, a;
	static const struct { const char *login; const char *name; int r; } logins[] = {
		{ "alice", "alice", OC_OK },
		{ "ALICE", "alice", OC_OK },
		{ "alice@example.com", "alice", OC_OK },
		{ "Alice@EXAMPLE.COM", "alice", OC_OK },
		{ "EXAMPLE\\alice", "alice", OC_OK },
		{ "OTHER\\Alice", "alice", OC_OK },
		{ "host1$", "HOST1$", OC_OK },
		{ "EXAMPLE\\HOST1$", "HOST1$", OC_OK },
		{ "bob", NULL, OC_ERR_NOT_FOUND },
		{ "EXAMPLE\\", NULL, OC_ERR_NOT_FOUND },
		{ "alice@other.com", NULL, OC_ERR_NOT_FOUND },
	};

	add_account(f->d, "alice", OC_ACCOUNT_USER, "alice@example.com", NULL);
	memset(&a, 0, sizeof(a));
	a.name = (char *)"HOST1$";
	a.kind = OC_ACCOUNT_COMPUTER;
	a.dns_name = (char *)"host1.example.com";
	a.sid = (char *)"S-1-5-21-1-2-3-1105";
	assert_int_equal(oc_dir_account_add(f->d, &a, NULL), OC_OK);
	assert_int_equal(oc_dir_account_add(f->d, &a, NULL), OC_ERR_EXISTS);
	a.name = (char *)"Domain Users";          /* a group's name */
	assert_int_equal(oc_dir_account_add(f->d, &a, NULL), OC_ERR_EXISTS);

	for (size_t i = 0; i < sizeof(logins) / sizeof(logins[0]); i++) {
		assert_int_equal(oc_dir_account_lookup_login(f->d, logins[i].login, &id), logins[i].r);
		if (logins[i].r == OC_OK)
			assert_string_equal(id.name, logins[i].name);
		oc_identity_clear(&id);
	}
	assert_int_equal(oc_dir_account_get(f->d, "host1$", &id), OC_OK);
	assert_int_equal(id.kind, OC_ACCOUNT_COMPUTER);
	assert_string_equal(id.dns_name, "host1.example.com");
	assert_string_equal(id.sid, "S-1-5-21-1-2-3-1105");
	assert_null(id.upn);
	/* a new computer joins Domain Computers, as its primary group */
	assert_int_equal(id.groups.n, 1);
	assert_string_equal(id.groups.v[0], OC_DIR_GROUP_COMPUTERS);
	oc_identity_clear(&id);

	assert_int_equal(oc_dir_account_remove(f->d, "HOST1$"), OC_OK);
	assert_int_equal(oc_dir_account_get(f->d, "HOST1$", &id), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_account_remove(f->d, "HOST1$"), OC_ERR_NOT_FOUND);
}

static void
test_passwords(void **state)
{
	struct fixture *f = *state;
	struct crypt_data cd;
	char *v = NULL, *stored = NULL;

	/* three yescrypt hashes in all: they cost ~80 ms each */
	assert_int_equal(oc_dir_hash_password("correct horse", &v), OC_OK);
	assert_int_equal(strncmp(v, "$y$", 3), 0);
	memset(&cd, 0, sizeof(cd));
	assert_string_equal(crypt_r("correct horse", v, &cd), v);
	memset(&cd, 0, sizeof(cd));
	assert_string_not_equal(crypt_r("correct horsE", v, &cd), v);
	free(v);
	assert_int_equal(oc_dir_hash_password("", &v), OC_ERR_INVALID);

	add_account(f->d, "carol", OC_ACCOUNT_USER, NULL, "s3cret");
	assert_int_equal(oc_dir_account_verifier(f->d, "CAROL", &stored), OC_OK);
	memset(&cd, 0, sizeof(cd));
	assert_string_equal(crypt_r("s3cret", stored, &cd), stored);
	memset(&cd, 0, sizeof(cd));
	assert_string_not_equal(crypt_r("wrong", stored, &cd), stored);
	free(stored);
	stored = NULL;
	assert_int_equal(oc_dir_account_set_password(f->d, "carol", "n3w"), OC_OK);
	assert_int_equal(oc_dir_account_verifier(f->d, "carol", &stored), OC_OK);
	memset(&cd, 0, sizeof(cd));
	assert_string_equal(crypt_r("n3w", stored, &cd), stored);
	free(stored);
	stored = NULL;
	assert_int_equal(oc_dir_account_set_password(f->d, "carol", NULL), OC_OK);
	assert_int_equal(oc_dir_account_verifier(f->d, "carol", &stored), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_account_verifier(f->d, "nobody", &stored), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_account_set_password(f->d, "nobody", NULL), OC_ERR_NOT_FOUND);
	assert_null(stored);
}

static void
test_groups_and_rights(void **state)
{
	struct fixture *f = *state;
	struct oc_identity id;
	struct oc_strlist names = { 0 };
	struct oc_dir_grant *gv = NULL;
	size_t n = 0;
	uint32_t rights = 0;
	int64_t s0 = 0, s1 = 0;

	add_account(f->d, "alice", OC_ACCOUNT_USER, NULL, NULL);
	add_account(f->d, "bob", OC_ACCOUNT_USER, NULL, NULL);
	assert_int_equal(oc_dir_group_add(f->d, "Web Admins"), OC_OK);
	assert_int_equal(oc_dir_group_add(f->d, "IT"), OC_OK);
	assert_int_equal(oc_dir_group_add(f->d, "it"), OC_ERR_EXISTS);
	assert_int_equal(oc_dir_group_add(f->d, "alice"), OC_ERR_EXISTS);
	/* alice in Web Admins, Web Admins in IT: two levels */
	assert_int_equal(oc_dir_group_add_member(f->d, "Web Admins", "alice"), OC_OK);
	assert_int_equal(oc_dir_group_add_member(f->d, "IT", "Web Admins"), OC_OK);
	assert_int_equal(oc_dir_group_add_member(f->d, "IT", "web admins"), OC_ERR_EXISTS);
	assert_int_equal(oc_dir_group_add_member(f->d, "IT", "nobody"), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_group_add_member(f->d, "nogroup", "alice"), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_group_add_member(f->d, "alice", "bob"), OC_ERR_NOT_FOUND);
	/* a cycle is stored but resolution stays bounded */
	assert_int_equal(oc_dir_group_add_member(f->d, "Web Admins", "IT"), OC_OK);

	assert_int_equal(oc_dir_account_get(f->d, "alice", &id), OC_OK);
	assert_int_equal(id.groups.n, 3);
	assert_true(oc_strlist_contains(&id.groups, OC_DIR_GROUP_USERS));
	assert_true(oc_strlist_contains(&id.groups, "Web Admins"));
	assert_true(oc_strlist_contains(&id.groups, "IT"));

	/* rights through the outer group only */
	assert_int_equal(oc_dir_policy_serial(f->d, &s0, NULL), OC_OK);
	assert_int_equal(oc_dir_grant(f->d, "WebServer", "IT", OC_RIGHT_ENROLL), OC_OK);
	assert_int_equal(oc_dir_policy_serial(f->d, &s1, NULL), OC_OK);
	assert_true(s1 > s0);
	assert_int_equal(oc_dir_rights(f->d, "webserver", &id, &rights), OC_OK);
	assert_int_equal(rights, OC_RIGHT_ENROLL);
	assert_int_equal(oc_dir_grant(f->d, "WebServer", "alice", OC_RIGHT_AUTOENROLL), OC_OK);
	assert_int_equal(oc_dir_rights(f->d, "WebServer", &id, &rights), OC_OK);
	assert_int_equal(rights, OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL);
	oc_identity_clear(&id);

	/* an identity with only a name: groups are resolved from the directory */
	memset(&id, 0, sizeof(id));
	id.name = strdup("alice");
	assert_int_equal(oc_dir_rights(f->d, "WebServer", &id, &rights), OC_OK);
	assert_int_equal(rights, OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL);
	/* User is granted to Domain Users by the seed */
	assert_int_equal(oc_dir_rights(f->d, "User", &id, &rights), OC_OK);
	assert_int_equal(rights, OC_RIGHT_ENROLL);
	assert_int_equal(oc_dir_rights(f->d, "Machine", &id, &rights), OC_OK);
	assert_int_equal(rights, 0);
	oc_identity_clear(&id);
	id.name = strdup("bob");
	assert_int_equal(oc_dir_rights(f->d, "WebServer", &id, &rights), OC_OK);
	assert_int_equal(rights, 0);
	oc_identity_clear(&id);

	assert_int_equal(oc_dir_template_grants(f->d, "WebServer", &gv, &n), OC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(gv[0].principal, "alice");
	assert_int_equal(gv[0].rights, OC_RIGHT_AUTOENROLL);
	assert_string_equal(gv[1].principal, "IT");
	assert_int_equal(gv[1].rights, OC_RIGHT_ENROLL);
	oc_dir_grants_free(gv, n);

	assert_int_equal(oc_dir_grant(f->d, "NoSuch", "IT", OC_RIGHT_ENROLL), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_grant(f->d, "WebServer", "nobody", OC_RIGHT_ENROLL), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_grant(f->d, "WebServer", "IT", 0x4), OC_ERR_INVALID);
	assert_int_equal(oc_dir_revoke(f->d, "WebServer", "bob", OC_RIGHT_ENROLL), OC_ERR_NOT_FOUND);

	/* removing the middle group cuts alice off from IT's grant */
	assert_int_equal(oc_dir_group_remove_member(f->d, "IT", "Web Admins"), OC_OK);
	assert_int_equal(oc_dir_group_remove_member(f->d, "IT", "Web Admins"), OC_ERR_NOT_FOUND);
	id.name = strdup("alice");
	assert_int_equal(oc_dir_rights(f->d, "WebServer", &id, &rights), OC_OK);
	assert_int_equal(rights, OC_RIGHT_AUTOENROLL);
	assert_int_equal(oc_dir_revoke(f->d, "WebServer", "alice", OC_RIGHT_AUTOENROLL), OC_OK);
	assert_int_equal(oc_dir_rights(f->d, "WebServer", &id, &rights), OC_OK);
	assert_int_equal(rights, 0);
	oc_identity_clear(&id);

	assert_int_equal(oc_dir_group_members(f->d, "web admins", &names), OC_OK);
	assert_int_equal(names.n, 2);
	assert_string_equal(names.v[0], "alice");     /* sorted case-insensitively */
	assert_string_equal(names.v[1], "IT");
	oc_strlist_free(&names);
	assert_int_equal(oc_dir_group_remove(f->d, "IT"), OC_OK);
	assert_int_equal(oc_dir_group_remove(f->d, "IT"), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_group_members(f->d, "Web Admins", &names), OC_OK);
	assert_int_equal(names.n, 1);     /* IT's membership went with it */
	oc_strlist_free(&names);
	assert_int_equal(oc_dir_group_list(f->d, &names), OC_OK);
	assert_int_equal(names.n, 3);
	assert_string_equal(names.v[0], OC_DIR_GROUP_COMPUTERS);
	assert_string_equal(names.v[1], OC_DIR_GROUP_USERS);
	assert_string_equal(names.v[2], "Web Admins");
	oc_strlist_free(&names);
}

static void
test_readonly_sees_writer(void **state)
{
	struct fixture *f = *state;
	struct oc_directory *ro = NULL;
	struct oc_template t, *got = NULL;
	int64_t s0 = 0, s1 = 0;

	assert_int_equal(oc_dir_open_ro(f->path, &ro), OC_OK);
	assert_int_equal(oc_dir_policy_serial(ro, &s0, NULL), OC_OK);
	assert_int_equal(oc_dir_template_get(ro, "Later", &got), OC_ERR_NOT_FOUND);

	fill_custom(&t);
	free(t.cn);
	t.cn = strdup("Later");
	assert_int_equal(oc_dir_template_put(f->d, &t), OC_OK);

	assert_int_equal(oc_dir_template_get(ro, "Later", &got), OC_OK);
	assert_template_equal(&t, got);
	assert_int_equal(oc_dir_policy_serial(ro, &s1, NULL), OC_OK);
	assert_true(s1 > s0);
	oc_template_free(got);
	/* the read-only handle refuses writes */
	assert_int_equal(oc_dir_template_remove(ro, "Later"), OC_ERR_DENIED);
	assert_int_equal(oc_dir_group_add(ro, "g"), OC_ERR_DENIED);
	oc_template_clear(&t);
	oc_dir_close(ro);

	/* a missing file is not created by a read-only or create=0 open */
	assert_int_equal(oc_dir_open_ro("/tmp/oc-dir-does-not-exist.db", &ro), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_dir_open("/tmp/oc-dir-does-not-exist.db", 0, &ro), OC_ERR_NOT_FOUND);
	assert_null(ro);
}

/*
 * oc_dir_login_state matches logins like oc_dir_account_lookup_login, and a
 * read-only handle whose reused statements ran before a change sees the
 * change at once (a reused statement must not keep its read transaction).
 */
static void
test_login_state_and_reuse(void **state)
{
	struct fixture *f = *state;
	struct oc_directory *ro = NULL;
	struct oc_identity id;
	char *name = NULL, *v = NULL;
	int64_t serial = 0, s0 = 0, s1 = 0;
	uint32_t rights = 0;
	static const struct { const char *login; const char *name; int has_verifier; int r; } logins[] = {
		{ "alice", "alice", 1, OC_OK },
		{ "ALICE", "alice", 1, OC_OK },
		{ "Alice@EXAMPLE.COM", "alice", 1, OC_OK },
		{ "EXAMPLE\\alice", "alice", 1, OC_OK },
		{ "carol", "carol", 0, OC_OK },             /* no password login */
		{ "bob", NULL, 0, OC_ERR_NOT_FOUND },
		{ "EXAMPLE\\", NULL, 0, OC_ERR_NOT_FOUND },
		{ "alice@other.com", NULL, 0, OC_ERR_NOT_FOUND },
		{ " alice", NULL, 0, OC_ERR_NOT_FOUND },
	};

	add_account(f->d, "alice", OC_ACCOUNT_USER, "alice@example.com", "pw-alice");
	add_account(f->d, "carol", OC_ACCOUNT_USER, NULL, NULL);
	assert_int_equal(oc_dir_open_ro(f->path, &ro), OC_OK);
	assert_int_equal(oc_dir_policy_serial(ro, &s0, NULL), OC_OK);
	for (int round = 0; round < 2; round++) {   /* the second round reuses statements */
		for (size_t i = 0; i < sizeof(logins) / sizeof(logins[0]); i++) {
			assert_int_equal(oc_dir_login_state(ro, logins[i].login, &name, &v, &serial),
			    logins[i].r);
			if (logins[i].r == OC_OK) {
				assert_string_equal(name, logins[i].name);
				assert_int_equal(v != NULL, logins[i].has_verifier);
				assert_true(serial == s0);
			} else {
				assert_null(name);
				assert_null(v);
			}
			free(name);
			free(v);
		}
	}
	/* a reader that used every reused statement ... */
	assert_int_equal(oc_dir_account_get(ro, "alice", &id), OC_OK);
	assert_int_equal(oc_dir_rights(ro, "WebServer", &id, &rights), OC_OK);
	assert_int_equal(rights, 0);
	/* ... sees a grant made through another handle right away */
	assert_int_equal(oc_dir_grant(f->d, "WebServer", "alice", OC_RIGHT_ENROLL), OC_OK);
	assert_int_equal(oc_dir_rights(ro, "WebServer", &id, &rights), OC_OK);
	assert_int_equal(rights, OC_RIGHT_ENROLL);
	assert_int_equal(oc_dir_policy_serial(ro, &s1, NULL), OC_OK);
	assert_true(s1 > s0);
	assert_int_equal(oc_dir_login_state(ro, "alice", &name, &v, &serial), OC_OK);
	assert_true(serial == s1);
	free(name);
	free(v);
	/* and a revocation */
	assert_int_equal(oc_dir_revoke(f->d, "WebServer", "alice", OC_RIGHT_ENROLL), OC_OK);
	assert_int_equal(oc_dir_rights(ro, "WebServer", &id, &rights), OC_OK);
	assert_int_equal(rights, 0);
	oc_identity_clear(&id);
	/* a password change is visible to the next login check */
	assert_int_equal(oc_dir_login_state(ro, "alice", &name, &v, &serial), OC_OK);
	assert_int_equal(oc_dir_account_set_password(f->d, "alice", NULL), OC_OK);
	free(name);
	free(v);
	assert_int_equal(oc_dir_login_state(ro, "alice", &name, &v, &serial), OC_OK);
	assert_null(v);
	free(name);
	oc_dir_close(ro);
}

static void
test_reopen_keeps_schema(void **state)
{
	struct fixture *f = *state;
	struct oc_directory *d2 = NULL;
	struct oc_template **tv = NULL;
	size_t n = 0;

	/* a second writer on the same file migrates nothing and sees the seed */
	assert_int_equal(oc_dir_open(f->path, 0, &d2), OC_OK);
	assert_int_equal(oc_dir_template_list(d2, &tv, &n), OC_OK);
	assert_int_equal(n, 6);
	assert_string_equal(tv[0]->cn, "Machine");
	oc_dir_template_list_free(tv, n);
	oc_dir_close(d2);
}

/* The administrator's template file: the seeded rows survive format -> parse. */
static void
test_text_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct oc_template **tv = NULL, t, custom;
	struct ocbuf b;
	size_t n = 0, line = 0;

	assert_int_equal(oc_dir_template_list(f->d, &tv, &n), OC_OK);
	fill_custom(&custom);
	for (size_t i = 0; i <= n; i++) {
		const struct oc_template *src = i < n ? tv[i] : &custom;

		ocbuf_init(&b, OC_DIR_TEXT_MAX);
		assert_int_equal(oc_dir_template_format(src, &b), OC_OK);
		assert_int_equal(oc_dir_template_parse(ocbuf_ptr(&b), ocbuf_avail(&b), &t, &line), OC_OK);
		assert_template_equal(src, &t);
		oc_template_clear(&t);
		ocbuf_free(&b);
	}
	oc_template_clear(&custom);
	oc_dir_template_list_free(tv, n);
}

static void
test_text_parse_table(void **state)
{
	static const struct {
		const char *text;
		int r;
		size_t line;
	} cases[] = {
		{ "cn = A\n", OC_OK, 0 },
		{ "# comment\n\ncn=A\r\nname_flags = -1509949440\n", OC_OK, 0 },
		{ "cn = A\nvalidity = 90d\nrenewal = 2w\nkey_usage = a0 00\n", OC_OK, 0 },
		{ "display_name = no cn\n", OC_ERR_PARSE, 0 },
		{ "cn = A\ncn = B\n", OC_ERR_PARSE, 2 },
		{ "cn = A\nbogus = 1\n", OC_ERR_PARSE, 2 },
		{ "cn = A\nschema_version\n", OC_ERR_PARSE, 2 },
		{ "cn = A\nschema_version = 5\n", OC_ERR_INVALID, 0 },
		{ "cn = A\nmin_key_size = -1\n", OC_ERR_PARSE, 2 },
		{ "cn = A\nvalidity = 1x\n", OC_ERR_PARSE, 2 },
		{ "cn = A\nvalidity = 0\n", OC_ERR_INVALID, 0 },
		{ "cn = A\nkey_usage = a0a0a0\n", OC_ERR_PARSE, 2 },
		{ "cn = A\neku = not-an-oid\n", OC_ERR_INVALID, 0 },
		{ "cn = A\ncsp = Microsoft\n", OC_ERR_PARSE, 2 },
		{ "cn = A\ngeneral_flags = 0x1ffffffff\n", OC_ERR_PARSE, 2 },
		{ "cn = A\nmax_issuing_depth = -2\n", OC_ERR_PARSE, 2 },
	};
	struct oc_template t;
	size_t line = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = oc_dir_template_parse((const uint8_t *)cases[i].text, strlen(cases[i].text), &t, &line);
		if (r != cases[i].r)
			fail_msg("case %zu: got %d want %d", i, r, cases[i].r);
		if (r != OC_OK)
			assert_int_equal(line, cases[i].line);
		oc_template_clear(&t);
	}
	/* values: AD-style signed flags, periods, key usage */
	const char *text = "cn = A\nname_flags = -1509949440\nvalidity = 90d\nrenewal = 2w\n"
	    "key_usage = a0\nmax_issuing_depth = -1\n";
	assert_int_equal(oc_dir_template_parse((const uint8_t *)text, strlen(text), &t, NULL), OC_OK);
	assert_int_equal(t.name_flags, 0xA6000000u);
	assert_int_equal(t.validity_seconds, 90 * 86400);
	assert_int_equal(t.renewal_seconds, 14 * 86400);
	assert_int_equal(t.key_usage, 0xa000);
	assert_int_equal(t.max_issuing_depth, -1);
	assert_int_equal(t.schema_version, 1);
	assert_null(t.oid);
	oc_template_clear(&t);
	/* an embedded NUL is refused */
	assert_int_equal(oc_dir_template_parse((const uint8_t *)"cn = A\0B\n", 9, &t, NULL), OC_ERR_PARSE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_seed_section12, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seed_extras_and_idempotence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passwords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups_and_rights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_sees_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_state_and_reuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_roundtrip, setup, teardown),
		cmocka_unit_test(test_text_parse_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
