/*
 * The directory mirror (src/ldap/ldap_mirror.h) against a real slapd with the
 * shipped schema (tests/lib/slapd.sh), loaded with tests/vectors/ldap: the 33
 * default templates of templates.md 12 as AD stores them, the real User and
 * WebServer security descriptors of 6.4, a CA entry with two CES endpoints.
 * Every decoded field is checked against the fact sheet; the sync into the
 * embedded directory, change pick-up, an outage (mirror kept, status records
 * it) and the recovery are checked through the directory interface.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "directory/directory.h"
#include "ldap/ldap_conn.h"
#include "ldap/ldap_mirror.h"

int main(void);

#define SUFFIX "DC=corp,DC=example,DC=test"
#define BASE   "CN=Configuration," SUFFIX
#define PKS    "CN=Public Key Services,CN=Services," BASE
#define FOREST "1.3.6.1.4.1.311.21.8.4811547.10262861.6392731.1513472.5764349.211"
#define DOM    "S-1-5-21-3948352448-806306152-211583070"

struct fx {
	char dir[64];
	char uri[64], pwfile[128], cafile[128], dbpath[128];
	int port;
	struct oc_ldap_config cfg;
};
static struct fx F;

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

static int
slapd(const char *verb)
{
	char cmd[1024];
	const char *src = getenv("OC_SOURCE_DIR");

	if (src == NULL)
		return -1;
	if (strcmp(verb, "start") == 0)
		snprintf(cmd, sizeof(cmd), "bash %s/tests/lib/slapd.sh start %s %d "
		    "%s/tests/vectors/ldap/templates.ldif %s/tests/vectors/ldap/ca.ldif",
		    src, F.dir, F.port, src, src);
	else
		snprintf(cmd, sizeof(cmd), "bash %s/tests/lib/slapd.sh %s %s", src, verb, F.dir);
	return system(cmd);
}

static int
ldapmodify(const char *ldif)
{
	char path[128], cmd[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/mod.ldif", F.dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fputs(ldif, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "ldapmodify -x -H %s -D CN=admin," SUFFIX " -y %s -f %s "
	    ">/dev/null", F.uri, F.pwfile, path);
	return system(cmd);
}

static int
group_setup(void **state)
{
	(void)state;
	snprintf(F.dir, sizeof(F.dir), "/tmp/oc-ldapmirror-XXXXXX");
	if (mkdtemp(F.dir) == NULL || (F.port = free_port()) <= 0)
		return -1;
	if (slapd("start") != 0) {
		fprintf(stderr, "slapd did not start (tests/lib/slapd.sh; install slapd)\n");
		return -1;
	}
	snprintf(F.uri, sizeof(F.uri), "ldap://127.0.0.1:%d", F.port);
	snprintf(F.pwfile, sizeof(F.pwfile), "%s/password", F.dir);
	snprintf(F.cafile, sizeof(F.cafile), "%s/ca.pem", F.dir);
	snprintf(F.dbpath, sizeof(F.dbpath), "%s/directory.db", F.dir);
	F.cfg.uri = F.uri;
	F.cfg.starttls = 1;
	F.cfg.ca_file = F.cafile;
	F.cfg.bind = OC_LDAP_BIND_SIMPLE;
	F.cfg.bind_dn = "CN=admin," SUFFIX;
	F.cfg.password_file = F.pwfile;
	F.cfg.base_dn = BASE;
	F.cfg.timeout_s = 5;
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)slapd("stop");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", F.dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct oc_template *
find(const struct oc_dir_mirror *m, const char *cn)
{
	for (size_t i = 0; i < m->ntemplates; i++)
		if (strcmp(m->templates[i]->cn, cn) == 0)
			return m->templates[i];
	return NULL;
}

static void
assert_list(const struct oc_strlist *l, const char *const *want)
{
	size_t n = 0;

	while (want[n] != NULL)
		n++;
	assert_int_equal(l->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(l->v[i], want[i]);
}

#define DAY  86400LL
#define WEEK (7 * DAY)

/* templates.md 12, rows as the fact sheet gives them */
static void
test_decode_fact_sheet(void **state)
{
	static const struct {
		const char *cn, *display;
		unsigned n, schema, rev, minor;
		uint32_t flags, name_flags, enroll_flags, pk_flags, min_key, key_spec, ra_sig;
		int32_t depth;
		uint16_t ku;
		int64_t validity, overlap;
		const char *eku[5], *app[5], *crit[3], *csp[4];
	} rows[] = {
		{ "User", "User", 1, 1, 3, 1, 66106, 0xA6000000u, 41, 16, 2048, 1, 0, 0, 0xa000,
		  365 * DAY, 6 * WEEK,
		  { "1.3.6.1.4.1.311.10.3.4", "1.3.6.1.5.5.7.3.4", "1.3.6.1.5.5.7.3.2", NULL },
		  { NULL }, { "2.5.29.15", NULL },
		  { "Microsoft Base Cryptographic Provider v1.0",
		    "Microsoft Enhanced Cryptographic Provider v1.0", NULL } },
		{ "WebServer", "Web Server", 16, 1, 4, 1, 66113, 1, 0, 0, 2048, 1, 0, 0, 0xa000,
		  730 * DAY, 6 * WEEK, { "1.3.6.1.5.5.7.3.1", NULL }, { NULL }, { "2.5.29.15", NULL },
		  { "Microsoft DH SChannel Cryptographic Provider",
		    "Microsoft RSA SChannel Cryptographic Provider", NULL } },
		{ "CA", "Root Certification Authority", 17, 1, 5, 1, 65745, 1, 0, 16, 1024, 2, 0, -1,
		  0x8600, 1825 * DAY, 6 * WEEK, { NULL }, { NULL }, { "2.5.29.15", "2.5.29.19", NULL },
		  { "Microsoft Enhanced Cryptographic Provider v1.0", NULL } },
		{ "CrossCA", "Cross Certification Authority", 25, 2, 105, 0, 67600, 1, 8, 16, 1024, 2,
		  1, -1, 0x8600, 1825 * DAY, 6 * WEEK, { NULL }, { NULL },
		  { "2.5.29.15", "2.5.29.19", NULL },
		  { "Microsoft Enhanced Cryptographic Provider v1.0", NULL } },
		{ "CAExchange", "CA Exchange", 26, 2, 106, 0, 65600, 1, 1, 0, 2048, 1, 0, 0, 0x2000,
		  7 * DAY, 1 * DAY, { "1.3.6.1.4.1.311.21.5", NULL }, { "1.3.6.1.4.1.311.21.5", NULL },
		  { "2.5.29.15", NULL },
		  { "Microsoft Base Cryptographic Provider v1.0",
		    "Microsoft Enhanced Cryptographic Provider v1.0", NULL } },
		{ "OCSPResponseSigning", "OCSP Response Signing", 32, 3, 101, 0, 66112, 402653184,
		  4096, 0, 2048, 2, 0, 0, 0x8000, 14 * DAY, 2 * DAY, { "1.3.6.1.5.5.7.3.9", NULL },
		  { "1.3.6.1.5.5.7.3.9", NULL }, { "2.5.29.15", NULL }, { NULL } },
		{ "SmartcardLogon", "Smartcard Logon", 5, 1, 6, 1, 66048, 0x82000000u, 0, 0, 512, 1, 0,
		  0, 0xa000, 365 * DAY, 6 * WEEK,
		  { "1.3.6.1.5.5.7.3.2", "1.3.6.1.4.1.311.20.2.2", NULL }, { NULL },
		  { "2.5.29.15", NULL }, { NULL } },
	};
	struct oc_ldap *l = NULL;
	struct oc_ldap_snapshot s;
	char err[OC_LDAP_MIRROR_ERR_MAX] = "", oid[160];
	uint8_t *sd = NULL;
	size_t sdlen = 0;
	char path[512];

	(void)state;
	assert_int_equal(oc_ldap_connect(&F.cfg, &l), OC_OK);
	assert_int_equal(oc_ldap_mirror_read(l, &s, err), OC_OK);
	assert_int_equal(s.m.ntemplates, 33);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct oc_template *t = find(&s.m, rows[i].cn);

		assert_non_null(t);
		assert_string_equal(t->display_name, rows[i].display);
		snprintf(oid, sizeof(oid), FOREST ".1.%u", rows[i].n);
		assert_string_equal(t->oid, oid);
		assert_int_equal(t->schema_version, rows[i].schema);
		assert_int_equal(t->revision, rows[i].rev);
		assert_int_equal(t->minor_revision, rows[i].minor);
		assert_int_equal(t->general_flags, rows[i].flags);
		assert_int_equal(t->name_flags, rows[i].name_flags);
		assert_int_equal(t->enrollment_flags, rows[i].enroll_flags);
		assert_int_equal(t->private_key_flags, rows[i].pk_flags);
		assert_int_equal(t->min_key_size, rows[i].min_key);
		assert_int_equal(t->key_spec, rows[i].key_spec);
		assert_int_equal(t->ra_signatures, rows[i].ra_sig);
		assert_int_equal(t->max_issuing_depth, rows[i].depth);
		assert_true(t->has_key_usage);
		assert_int_equal(t->key_usage, rows[i].ku);
		assert_int_equal(t->validity_seconds, rows[i].validity);
		assert_int_equal(t->renewal_seconds, rows[i].overlap);
		assert_list(&t->eku, rows[i].eku);
		assert_list(&t->app_policies, rows[i].app);
		assert_list(&t->critical_exts, rows[i].crit);
		for (size_t k = 0; k < 4; k++) {
			if (rows[i].csp[k] == NULL) {
				assert_int_equal(t->ncsps, k);
				break;
			}
			assert_string_equal(t->csps[k].name, rows[i].csp[k]);
		}
	}
	/* 4.7: OCSPResponseSigning's CNG triplets: RSA (no EC key), SHA1 */
	assert_null(find(&s.m, "OCSPResponseSigning")->key_algorithm);
	assert_string_equal(find(&s.m, "OCSPResponseSigning")->hash_algorithm, "SHA1");
	assert_string_equal(find(&s.m, "CrossCA")->ra_app_policies.v[0], "1.3.6.1.4.1.311.10.3.10");
	assert_string_equal(find(&s.m, "DomainControllerAuthentication")->superseded.v[0],
	    "DomainController");
	/* 6.4: the User SD comes back byte for byte; templates without one have none */
	snprintf(path, sizeof(path), "%s/tests/vectors/directory/ad_sd_user.bin",
	    getenv("OC_SOURCE_DIR"));
	assert_int_equal(oc_file_read(path, &sd, &sdlen, 65536), OC_OK);
	assert_int_equal(find(&s.m, "User")->security_descriptor_len, sdlen);
	assert_memory_equal(find(&s.m, "User")->security_descriptor, sd, sdlen);
	assert_int_equal(find(&s.m, "Machine")->security_descriptor_len, 0);
	free(sd);
	/* 7.1 / 7.2: the CA entry (cACertificate;binary on slapd), its two endpoints */
	assert_int_equal(s.m.ncas, 1);
	assert_string_equal(s.m.cas[0].name, "OpenCES Test CA");
	assert_string_equal(s.m.cas[0].dns_host_name, "ca1.corp.example.test");
	assert_true(s.m.cas[0].cert_der_len > 100);
	assert_int_equal(s.m.cas[0].cert_der[0], 0x30);
	{
		static const char *const want[] = { "User", "WebServer", "Machine", NULL };
		assert_list(&s.m.cas[0].templates, want);
	}
	assert_int_equal(s.m.cas[0].nuris, 2);
	assert_int_equal(s.m.cas[0].uris[0].priority, 1);
	assert_int_equal(s.m.cas[0].uris[0].auth, 2);
	assert_int_equal(s.m.cas[0].uris[0].renewal_only, 0);
	assert_string_equal(s.m.cas[0].uris[0].uri,
	    "https://ca1.corp.example.test/CA_CES_Kerberos/service.svc/CES");
	assert_int_equal(s.m.cas[0].uris[1].auth, 4);
	assert_int_equal(s.m.cas[0].uris[1].renewal_only, 1);
	/* 8: the OID objects with a type; the container (forest base OID) is not one */
	assert_int_equal(s.m.noids, 3);
	assert_int_equal(s.m.usn, 0);           /* slapd has no uSNChanged */
	assert_int_equal(strlen(s.hash), 64);
	assert_int_equal(strlen(s.stamp), 64);
	oc_ldap_snapshot_clear(&s);
	oc_ldap_close(l);
}

/* The mirror equals the embedded seed of the same templates, field by field. */
static void
test_decode_equals_seed(void **state)
{
	static const char *const names[] = { "User", "Machine", "WebServer", "Workstation" };
	struct oc_directory *dir = NULL;
	struct oc_ldap *l = NULL;
	struct oc_ldap_snapshot s;
	char err[OC_LDAP_MIRROR_ERR_MAX] = "", path[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/seed.db", F.dir);
	assert_int_equal(oc_dir_open(path, 1, &dir), OC_OK);
	assert_int_equal(oc_dir_seed_defaults(dir), OC_OK);
	assert_int_equal(oc_ldap_connect(&F.cfg, &l), OC_OK);
	assert_int_equal(oc_ldap_mirror_read(l, &s, err), OC_OK);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct oc_template *a = find(&s.m, names[i]);
		struct oc_template *b = NULL;

		assert_non_null(a);
		assert_int_equal(oc_dir_template_get(dir, names[i], &b), OC_OK);
		assert_string_equal(a->display_name, b->display_name);
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
		assert_int_equal(a->key_usage, b->key_usage);
		assert_int_equal(a->validity_seconds, b->validity_seconds);
		assert_int_equal(a->renewal_seconds, b->renewal_seconds);
		assert_int_equal(a->eku.n, b->eku.n);
		for (size_t k = 0; k < a->eku.n; k++)
			assert_string_equal(a->eku.v[k], b->eku.v[k]);
		assert_int_equal(a->app_policies.n, b->app_policies.n);
		assert_int_equal(a->ncsps, b->ncsps);
		for (size_t k = 0; k < a->ncsps; k++) {
			assert_int_equal(a->csps[k].priority, b->csps[k].priority);
			assert_string_equal(a->csps[k].name, b->csps[k].name);
		}
		oc_template_free(b);
	}
	oc_ldap_snapshot_clear(&s);
	oc_ldap_close(l);
	oc_dir_close(dir);
}

static uint32_t
rights(struct oc_directory *dir, const char *cn, const char *sid, const char *group)
{
	struct oc_identity id;
	uint32_t r = 0;

	memset(&id, 0, sizeof(id));
	id.name = "alice";
	id.auth_type = OC_AUTH_KERBEROS;
	id.sid = (char *)sid;
	if (group != NULL)
		assert_int_equal(oc_strlist_add(&id.groups, group), OC_OK);
	assert_int_equal(oc_dir_rights(dir, cn, &id, &r), OC_OK);
	oc_strlist_free(&id.groups);
	return r;
}

static int64_t
serial(struct oc_directory *dir)
{
	int64_t s = 0;
	time_t t;

	assert_int_equal(oc_dir_policy_serial(dir, &s, &t), OC_OK);
	return s;
}

/* Sync, rights through the mirrored SD or the grant table, change, outage, recovery. */
static void
test_sync_change_outage(void **state)
{
	struct oc_directory *dir = NULL;
	struct oc_template *t = NULL, local;
	struct oc_template **tv = NULL;
	struct oc_dir_sync_status st;
	char err[OC_LDAP_MIRROR_ERR_MAX];
	size_t n = 0;
	int64_t s1, s2;
	int changed = 0;

	(void)state;
	assert_int_equal(oc_dir_open(F.dbpath, 1, &dir), OC_OK);
	/* an embedded-only template and a group with a grant: both survive syncs */
	memset(&local, 0, sizeof(local));
	local.cn = "LocalOnly";
	local.oid = "1.2.3.4.5";
	local.schema_version = 2;
	local.validity_seconds = 3600;
	assert_int_equal(oc_dir_template_put(dir, &local), OC_OK);
	assert_int_equal(oc_dir_group_add(dir, "Domain Computers"), OC_OK);
	assert_int_equal(oc_dir_sync_status(dir, &st), OC_OK);
	assert_null(st.source);                  /* never synchronised */
	oc_dir_sync_status_clear(&st);

	assert_int_equal(oc_ldap_mirror_sync(&F.cfg, dir, 1, &changed, err), OC_OK);
	assert_true(changed);
	assert_int_equal(oc_dir_template_list(dir, &tv, &n), OC_OK);
	assert_int_equal(n, 34);
	oc_dir_template_list_free(tv, n);
	/* 6.4 through oc_dir_rights: User enrolls Domain Users; WebServer does not */
	assert_int_equal(rights(dir, "User", DOM "-1104", DOM "-513"), OC_RIGHT_ENROLL);
	assert_int_equal(rights(dir, "User", DOM "-1104", NULL), 0);
	assert_int_equal(rights(dir, "WebServer", DOM "-1104", DOM "-513"), 0);
	assert_int_equal(rights(dir, "WebServer", DOM "-1104", DOM "-512"), OC_RIGHT_ENROLL);
	/* no SD (slapd): the grant table decides */
	assert_int_equal(rights(dir, "Machine", NULL, "Domain Computers"), 0);
	assert_int_equal(oc_dir_grant(dir, "Machine", "Domain Computers", OC_RIGHT_ENROLL), OC_OK);
	assert_int_equal(rights(dir, "Machine", NULL, "Domain Computers"), OC_RIGHT_ENROLL);

	/* unchanged directory: nothing written, serial kept */
	s1 = serial(dir);
	assert_int_equal(oc_ldap_mirror_sync(&F.cfg, dir, 0, &changed, err), OC_OK);
	assert_false(changed);
	assert_int_equal(serial(dir), s1);

	/* a changed attribute is picked up */
	assert_int_equal(ldapmodify("dn: CN=WebServer,CN=Certificate Templates," PKS "\n"
	    "changetype: modify\nreplace: displayName\ndisplayName: Web Server v2\n-\n"
	    "replace: pKIExpirationPeriod\npKIExpirationPeriod:: AEA5hy7h/v8=\n-\n"), 0);
	assert_int_equal(oc_ldap_mirror_sync(&F.cfg, dir, 0, &changed, err), OC_OK);
	assert_true(changed);
	s2 = serial(dir);
	assert_true(s2 > s1);
	assert_int_equal(oc_dir_template_get(dir, "WebServer", &t), OC_OK);
	assert_string_equal(t->display_name, "Web Server v2");
	assert_int_equal(t->validity_seconds, 365 * DAY);
	oc_template_free(t);
	t = NULL;
	assert_int_equal(oc_dir_template_get(dir, "LocalOnly", &t), OC_OK);
	oc_template_free(t);
	t = NULL;
	assert_int_equal(rights(dir, "Machine", NULL, "Domain Computers"), OC_RIGHT_ENROLL);

	/* server down: the mirror stays, the status says why */
	assert_int_equal(slapd("stop"), 0);
	assert_int_equal(oc_ldap_mirror_sync(&F.cfg, dir, 0, &changed, err), OC_ERR_IO);
	assert_int_equal(oc_ldap_mirror_sync(&F.cfg, dir, 0, &changed, err), OC_ERR_IO);
	assert_int_equal(oc_dir_sync_status(dir, &st), OC_OK);
	assert_string_equal(st.source, "ldap");
	assert_int_equal(st.failures, 2);
	assert_non_null(st.last_error);
	assert_non_null(strstr(st.last_error, F.uri));
	assert_true(st.last_success > 0);
	assert_int_equal(st.templates, 33);
	oc_dir_sync_status_clear(&st);
	assert_int_equal(serial(dir), s2);
	assert_int_equal(oc_dir_template_get(dir, "WebServer", &t), OC_OK);
	assert_string_equal(t->display_name, "Web Server v2");
	oc_template_free(t);
	t = NULL;

	/* back: OK again, failures reset, nothing changed in between */
	assert_int_equal(slapd("start"), 0);
	assert_int_equal(oc_ldap_mirror_sync(&F.cfg, dir, 0, &changed, err), OC_OK);
	assert_false(changed);
	assert_int_equal(oc_dir_sync_status(dir, &st), OC_OK);
	assert_int_equal(st.failures, 0);
	assert_null(st.last_error);
	oc_dir_sync_status_clear(&st);
	assert_int_equal(serial(dir), s2);

	/* a template removed from LDAP leaves the mirror */
	assert_int_equal(ldapmodify("dn: CN=CEPEncryption,CN=Certificate Templates," PKS "\n"
	    "changetype: delete\n"), 0);
	assert_int_equal(oc_ldap_mirror_sync(&F.cfg, dir, 0, &changed, err), OC_OK);
	assert_true(changed);
	assert_int_equal(oc_dir_template_get(dir, "CEPEncryption", &t), OC_ERR_NOT_FOUND);
	oc_dir_close(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_fact_sheet),
		cmocka_unit_test(test_decode_equals_seed),
		cmocka_unit_test(test_sync_change_outage),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
