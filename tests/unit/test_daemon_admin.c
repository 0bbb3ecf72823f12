/*
 * The administrator's CLI, driven through oc_admin_run() over a fresh
 * directory in a temporary folder: outputs and exit codes.
 *
 * The CLI lives in src/daemon/admin.c (linked through oc_daemon); `request
 * list` / `cert list` run against a real CA store.
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

#include "store/store.h"

#include "daemon/admin.h"
#include "directory/directory.h"

int main(void);

static char tmpdir[64], dir_path[128], store_path[128], pw_path[128], vectors[512];

struct step {
	const char *argv[10];
	int exit;
	const char *out_has[4];
	const char *out_lacks;
	const char *err_has;
};

static int
run(const char *const *argv, char **out, char **err)
{
	char *argv_copy[10];
	size_t outlen = 0, errlen = 0;
	FILE *fo, *fe;
	int argc = 0, x;

	while (argc < 10 && argv[argc] != NULL) {
		argv_copy[argc] = (char *)argv[argc];
		argc++;
	}
	assert_non_null(fo = open_memstream(out, &outlen));
	assert_non_null(fe = open_memstream(err, &errlen));
	x = oc_admin_run(dir_path, store_path, argc, argv_copy, fo, fe);
	fclose(fo);
	fclose(fe);
	return x;
}

static void
run_steps(const struct step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct step *s = &steps[i];
		char *out = NULL, *err = NULL;
		int x = run(s->argv, &out, &err);

		if (x != s->exit)
			fail_msg("step %zu (%s %s): exit %d, want %d\nout: %s\nerr: %s", i, s->argv[0],
			    s->argv[1] ? s->argv[1] : "", x, s->exit, out, err);
		for (size_t k = 0; k < 4 && s->out_has[k] != NULL; k++)
			if (strstr(out, s->out_has[k]) == NULL)
				fail_msg("step %zu (%s %s): output lacks \"%s\":\n%s", i, s->argv[0],
				    s->argv[1] ? s->argv[1] : "", s->out_has[k], out);
		if (s->out_lacks != NULL && strstr(out, s->out_lacks) != NULL)
			fail_msg("step %zu: output has \"%s\":\n%s", i, s->out_lacks, out);
		if (s->err_has != NULL && strstr(err, s->err_has) == NULL)
			fail_msg("step %zu: stderr lacks \"%s\":\n%s", i, s->err_has, err);
		free(out);
		free(err);
	}
}

static int
setup(void **state)
{
	const char *v = getenv("OC_VECTORS");
	FILE *f;

	(void)state;
	strcpy(tmpdir, "/tmp/oc-admin-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(dir_path, sizeof(dir_path), "%s/directory.db", tmpdir);
	snprintf(store_path, sizeof(store_path), "%s/ca.db", tmpdir);
	snprintf(pw_path, sizeof(pw_path), "%s/pw", tmpdir);
	snprintf(vectors, sizeof(vectors), "%s/directory", v ? v : "tests/vectors");
	assert_non_null(f = fopen(pw_path, "w"));
	fputs("pa55word\n", f);
	fclose(f);
	return 0;
}

static int
teardown(void **state)
{
	static const char *const files[] = { "directory.db", "directory.db-wal", "directory.db-shm",
	    "ca.db", "ca.db-wal", "ca.db-shm", "pw", "t.tmpl" };
	char p[192];

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", tmpdir, files[i]);
		unlink(p);
	}
	rmdir(tmpdir);
	return 0;
}

static void
test_templates(void **state)
{
	char good[600], bad1[600], bad2[600];

	(void)state;
	snprintf(good, sizeof(good), "%s/webserver-rsa3072.tmpl", vectors);
	snprintf(bad1, sizeof(bad1), "%s/bad-unknown-key.tmpl", vectors);
	snprintf(bad2, sizeof(bad2), "%s/bad-no-cn.tmpl", vectors);
	const struct step steps[] = {
		{ { "template", "list" }, 0, { "NAME", "User ", "Machine", "Workstation" }, NULL, "created" },
		{ { "template", "list" }, 0, { "WebServer", "OpenCESWebServerEC", "OpenCESUserApproval",
		  OC_DIR_FOREST_OID ".1.16" }, NULL, NULL },
		{ { "template", "show", "webserver" }, 0, { "cn = WebServer\n", "name_flags = 0x00000001\n",
		  "validity = 2y\n", "csp = 2,Microsoft DH SChannel Cryptographic Provider\n" }, NULL, NULL },
		{ { "template", "show", OC_DIR_FOREST_OID ".1.1", "--json" }, 0, { "\"cn\":\"User\"",
		  "\"name_flags\":2785017856", "\"key_usage\":\"a000\"",
		  "\"grants\":[{\"principal\":\"Domain Users\",\"enroll\":true,\"autoenroll\":false}]" }, NULL, NULL },
		{ { "template", "list", "--json" }, 0, { "[{\"cn\":\"Machine\"", "\"validity_seconds\":63072000" },
		  NULL, NULL },
		{ { "template", "show", "Nope" }, 2, { NULL }, NULL, "not found" },
		{ { "template", "show" }, 1, { NULL }, NULL, "missing argument" },
		{ { "template", "add", good }, 0, { "template WebServer3072 saved (OID " OC_DIR_FOREST_OID "." },
		  NULL, NULL },
		{ { "template", "show", "WebServer3072" }, 0, { "min_key_size = 3072\n", "supersedes = WebServer\n",
		  "general_flags = 0x00020241\n", "schema_version = 2\n" }, NULL, NULL },
		{ { "template", "add", bad1 }, 1, { NULL }, NULL, "bad-unknown-key.tmpl:2:" },
		{ { "template", "add", bad2 }, 1, { NULL }, NULL, "bad-no-cn.tmpl" },
		{ { "template", "add", "/nonexistent/t.tmpl" }, 1, { NULL }, NULL, "/nonexistent/t.tmpl" },
		{ { "template", "remove", "webserver3072" }, 0, { "removed" }, NULL, NULL },
		{ { "template", "remove", "WebServer3072" }, 2, { NULL }, NULL, "not found" },
		{ { "template", "frobnicate" }, 1, { NULL }, NULL, "unknown verb" },
		{ { "template", "list", "--limit", "3" }, 1, { NULL }, NULL, "unknown option --limit" },
		{ { "bogus" }, 1, { NULL }, NULL, "unknown object" },
		{ { "help" }, 0, { "usage: opencesd --dir DIR", "template add FILE", "validity = 1y" }, NULL, NULL },
	};
	run_steps(steps, sizeof(steps) / sizeof(steps[0]));
}

static void
test_show_add_round_trip(void **state)
{
	const char *show[] = { "template", "show", "OpenCESWebServerEC", NULL };
	char *out = NULL, *err = NULL, *out2 = NULL, path[192];
	FILE *f;

	(void)state;
	/* show -> edit the cn -> add -> show prints the same attributes */
	assert_int_equal(run(show, &out, &err), 0);
	free(err);
	snprintf(path, sizeof(path), "%s/t.tmpl", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	char *oid_line = strstr(out, "oid = ");
	char *after = strchr(oid_line, '\n') + 1;
	fputs("cn = CopyEC\n", f);
	fputs(after, f);      /* everything after cn, display_name and oid */
	fclose(f);
	const char *add[] = { "template", "add", path, NULL };
	assert_int_equal(run(add, &out2, &err), 0);
	free(out2);
	free(err);
	const char *show2[] = { "template", "show", "CopyEC", NULL };
	assert_int_equal(run(show2, &out2, &err), 0);
	assert_non_null(strstr(out2, "key_algorithm = ECDSA_P256\nhash_algorithm = SHA256\n"));
	assert_non_null(strstr(out2, "schema_version = 4\n"));
	/* from schema_version on, both outputs agree except the change stamp */
	char *a = strstr(out, "schema_version"), *b = strstr(out2, "schema_version");
	char *ea = strstr(a, "# changed"), *eb = strstr(b, "# changed");
	assert_int_equal(ea - a, eb - b);
	assert_memory_equal(a, b, (size_t)(ea - a));
	free(out);
	free(out2);
	free(err);
}

static void
test_accounts_groups_rights(void **state)
{
	struct oc_directory *d = NULL;
	struct crypt_data cd;
	char *v = NULL;

	(void)state;
	const struct step steps[] = {
		{ { "account", "add", "alice", "--upn", "alice@example.com", "--mail", "alice@example.com",
		  "--password-file", pw_path }, 0, { "account alice added" }, NULL, NULL },
		{ { "account", "add", "HOST1$", "--kind", "computer", "--dns", "host1.example.com",
		  "--sid", "S-1-5-21-1-2-3-1105" }, 0, { NULL }, NULL, NULL },
		{ { "account", "add", "ALICE" }, 1, { NULL }, NULL, "already exists" },
		{ { "account", "add", "bob", "--kind", "robot" }, 1, { NULL }, NULL, "--kind" },
		{ { "account", "add", "bob", "--password-file", "/nonexistent/pw" }, 1, { NULL }, NULL,
		  "password file" },
		{ { "account", "list" }, 0, { "alice", "alice@example.com", "set", "Domain Users" }, "$y$", NULL },
		{ { "account", "list", "--json" }, 0, { "\"name\":\"HOST1$\",\"kind\":\"computer\"",
		  "\"groups\":[\"Domain Computers\"]", "\"password\":false" }, "$y$", NULL },
		{ { "account", "show", "Alice", "--json" }, 0, { "\"password\":true", "\"upn\":\"alice@example.com\"" },
		  "$y$", NULL },
		{ { "account", "show", "alice" }, 0, { "name: alice\n", "password: set\n", "groups: Domain Users\n" },
		  "$y$", NULL },
		{ { "account", "show", "nobody" }, 2, { NULL }, NULL, "not found" },
		{ { "account", "passwd", "alice" }, 1, { NULL }, NULL, "--password-file" },
		{ { "account", "passwd", "nobody", "--password-file", pw_path }, 2, { NULL }, NULL, NULL },
		{ { "group", "add", "Web Admins" }, 0, { "group Web Admins added" }, NULL, NULL },
		{ { "group", "add", "alice" }, 1, { NULL }, NULL, "already exists" },
		{ { "group", "add-member", "Web Admins", "alice" }, 0, { NULL }, NULL, NULL },
		{ { "group", "add-member", "Web Admins", "nobody" }, 2, { NULL }, NULL, NULL },
		{ { "group", "add-member", "No Group", "alice" }, 2, { NULL }, NULL, NULL },
		{ { "group", "list" }, 0, { "Web Admins", "alice", "Domain Computers", "HOST1$" }, NULL, NULL },
		{ { "group", "list", "--json" }, 0, { "{\"name\":\"Web Admins\",\"members\":[\"alice\"]}" },
		  NULL, NULL },
		{ { "account", "show", "alice" }, 0, { "Web Admins" }, NULL, NULL },
		{ { "grant", "WebServer", "Web Admins" }, 0, { "granted enroll on WebServer: Web Admins" }, NULL, NULL },
		{ { "grant", "WebServer", "alice", "autoenroll" }, 0, { NULL }, NULL, NULL },
		{ { "grant", "WebServer", "alice", "bogus" }, 1, { NULL }, NULL, "enroll, autoenroll or all" },
		{ { "grant", "Nope", "alice" }, 2, { NULL }, NULL, "no such" },
		{ { "grant", "WebServer", "nobody" }, 2, { NULL }, NULL, NULL },
		{ { "grant", "WebServer" }, 1, { NULL }, NULL, "missing argument" },
		{ { "template", "show", "WebServer" }, 0, { "# grant: Web Admins enroll\n",
		  "# grant: alice autoenroll\n" }, NULL, NULL },
		{ { "revoke", "WebServer", "Web Admins" }, 0, { "revoked" }, NULL, NULL },
		{ { "revoke", "WebServer", "Web Admins" }, 2, { NULL }, NULL, NULL },
		{ { "template", "show", "WebServer" }, 0, { "# grant: alice autoenroll\n" }, "Web Admins", NULL },
		{ { "group", "remove-member", "Web Admins", "alice" }, 0, { NULL }, NULL, NULL },
		{ { "group", "remove-member", "Web Admins", "alice" }, 2, { NULL }, NULL, NULL },
		{ { "group", "remove", "Web Admins" }, 0, { NULL }, NULL, NULL },
		{ { "group", "remove", "Web Admins" }, 2, { NULL }, NULL, NULL },
		{ { "account", "remove", "HOST1$" }, 0, { "removed" }, NULL, NULL },
		{ { "account", "remove", "HOST1$" }, 2, { NULL }, NULL, NULL },
		{ { "account", "frob" }, 1, { NULL }, NULL, "unknown verb" },
	};
	run_steps(steps, sizeof(steps) / sizeof(steps[0]));

	/* the stored verifier checks the password from the file, without its newline */
	assert_int_equal(oc_dir_open_ro(dir_path, &d), OC_OK);
	assert_int_equal(oc_dir_account_verifier(d, "alice", &v), OC_OK);
	memset(&cd, 0, sizeof(cd));
	assert_string_equal(crypt_r("pa55word", v, &cd), v);
	free(v);
	oc_dir_close(d);
}

static void
test_store_lists(void **state)
{
	(void)state;
	const struct step missing[] = {
		{ { "request", "list" }, 2, { NULL }, NULL, "no CA store" },
		{ { "cert", "list", "--json" }, 2, { NULL }, NULL, "no CA store" },
		{ { "request", "list", "--limit", "x" }, 1, { NULL }, NULL, "--limit" },
		{ { "cert", "show" }, 1, { NULL }, NULL, "missing argument" },
		{ { "cert", "burn", "01" }, 1, { NULL }, NULL, "unknown verb" },
		{ { "request", "show", "1" }, 2, { NULL }, NULL, "no CA store" },
		{ { "request", "burn", "1" }, 1, { NULL }, NULL, "unknown verb" },
		{ { "request", "approve", "0" }, 1, { NULL }, NULL, "RequestID" },
		{ { "request", "list", "--status", "odd" }, 1, { NULL }, NULL, "--status" },
		{ { "crl", "status", "--json" }, 2, { NULL }, NULL, "no CA store" },
		{ { "crl", "burn" }, 1, { NULL }, NULL, "unknown verb" },
		{ { "cert", "list", "--expires-before", "soon" }, 1, { NULL }, NULL,
		  "--expires-before" },
		{ { "cert", "show", "01" }, 2, { NULL }, NULL, "no CA store" },
		{ { "cert", "revoke", "01" }, 2, { NULL }, NULL, "no CA store" },
	};
	run_steps(missing, sizeof(missing) / sizeof(missing[0]));
	/* with oc_store linked: a real store with one pending request */
	struct oc_store *s = NULL;
	uint32_t id = 0;
	static const uint8_t der[] = { 0x30, 0x00 };
	char idtext[32];

	assert_int_equal(oc_store_open(store_path, &s), OC_OK);
	assert_int_equal(oc_store_request_new(s, "alice", "User", der, sizeof(der), &id), OC_OK);
	oc_store_close(s);
	snprintf(idtext, sizeof(idtext), "\"request_id\":%u", id);
	const struct step present[] = {
		{ { "request", "list" }, 0, { "REQUEST", "pending", "alice", "User" }, NULL, NULL },
		{ { "request", "list", "--json", "--limit", "1" }, 0, { idtext, "\"status\":\"pending\"" },
		  NULL, NULL },
		{ { "cert", "list", "--json" }, 0, { "[]" }, NULL, NULL },
	};
	run_steps(present, sizeof(present) / sizeof(present[0]));
}

/* cert show / revoke / unrevoke against a real store with two issued certificates. */
static void
test_cert_revocation(void **state)
{
	(void)state;
	struct oc_store *s = NULL;
	static const uint8_t der[] = { 0x30, 0x02, 0x05, 0x00 };
	static const char *const serials[] = { "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
	    "7f00000000000000000000000000abcd" };

	assert_int_equal(oc_store_open(store_path, &s), OC_OK);
	for (size_t i = 0; i < 2; i++) {
		struct oc_store_cert c = { 0 };
		uint32_t id = 0;

		c.serial_hex = (char *)serials[i];
		c.requester = (char *)"alice";
		c.template_name = (char *)"User";
		c.subject = (char *)"CN=alice";
		c.not_before = 1700000000;
		c.not_after = 1800000000;
		c.der = (uint8_t *)der;
		c.der_len = sizeof(der);
		assert_int_equal(oc_store_request_new(s, "alice", "User", der, sizeof(der), &id),
		    OC_OK);
		assert_int_equal(oc_store_cert_issue(s, id, &c, "Issued"), OC_OK);
	}
	oc_store_close(s);
	const struct step steps[] = {
		/* show: human and JSON, serial in any case and with ':' */
		{ { "cert", "show", "0A1B2C3D4E5F60718293A4B5C6D7E8F9" }, 0,
		  { "serial:      0a1b2c3d4e5f60718293a4b5c6d7e8f9", "CN=alice", "state:       valid" },
		  "revoked", NULL },
		{ { "cert", "show", "7f:00:00:00:00:00:00:00:00:00:00:00:00:00:ab:cd", "--json" }, 0,
		  { "{\"serial\":\"7f00000000000000000000000000abcd\"", "\"revoked\":false",
		    "\"template\":\"User\"" }, NULL, NULL },
		{ { "cert", "show", "0badc0de" }, 2, { NULL }, NULL, "not found" },
		{ { "cert", "show", "xyz" }, 1, { NULL }, NULL, "hex digits" },
		{ { "cert", "show", "01", "02" }, 1, { NULL }, NULL, "unexpected argument" },
		{ { "cert", "show", "01", "--reason", "1" }, 1, { NULL }, NULL, "unknown option" },
		/* revoke: reasons by name or number; bad ones refused */
		{ { "cert", "revoke", serials[0], "--reason", "removeFromCRL" }, 1, { NULL }, NULL,
		  "--reason" },
		{ { "cert", "revoke", serials[0], "--reason", "7" }, 1, { NULL }, NULL, "--reason" },
		{ { "cert", "revoke", serials[0], "--json" }, 1, { NULL }, NULL, "unknown option" },
		{ { "cert", "revoke", "0badc0de" }, 2, { NULL }, NULL, "not found" },
		{ { "cert", "revoke", serials[0], "--reason", "certificateHold" }, 0,
		  { "revoked 0a1b2c3d4e5f60718293a4b5c6d7e8f9 (certificateHold)" }, NULL, NULL },
		{ { "cert", "show", serials[0], "--json" }, 0, { "\"revoked\":true",
		  "\"revocation_reason\":6", "\"revocation_reason_name\":\"certificateHold\"",
		  "\"revoked_at\":\"" }, NULL, NULL },
		{ { "cert", "revoke", serials[0], "--reason", "6" }, 1, { NULL }, NULL,
		  "already revoked" },
		/* unrevoke: only from hold */
		{ { "cert", "unrevoke", serials[0] }, 0, { "released" }, NULL, NULL },
		{ { "cert", "show", serials[0] }, 0, { "state:       valid" }, NULL, NULL },
		{ { "cert", "unrevoke", serials[0] }, 1, { NULL }, NULL, "not revoked" },
		{ { "cert", "unrevoke", "0badc0de" }, 2, { NULL }, NULL, "not found" },
		{ { "cert", "revoke", serials[0], "--reason", "CERTIFICATEHOLD" }, 0, { "revoked" },
		  NULL, NULL },
		{ { "cert", "revoke", serials[0], "--reason", "keyCompromise" }, 0,
		  { "(keyCompromise)" }, NULL, NULL },
		{ { "cert", "unrevoke", serials[0] }, 1, { NULL }, NULL, "revoked for good" },
		{ { "cert", "revoke", serials[0] }, 1, { NULL }, NULL, "already revoked" },
		{ { "cert", "show", serials[0] }, 0, { "state:       revoked",
		  "reason:      keyCompromise (1)", "revoked at:  " }, NULL, NULL },
		/* default reason: unspecified (0) */
		{ { "cert", "revoke", serials[1] }, 0, { "(unspecified)" }, NULL, NULL },
		{ { "cert", "list" }, 0, { "revoked" }, "valid", NULL },
		{ { "cert", "list", "--json" }, 0, { "\"revocation_reason\":0",
		  "\"revocation_reason\":1" }, NULL, NULL },
	};
	run_steps(steps, sizeof(steps) / sizeof(steps[0]));
	/* the store is still consistent, and each change left an audit line */
	assert_int_equal(oc_store_open(store_path, &s), OC_OK);
	assert_int_equal(oc_store_check(s), OC_OK);
	oc_store_close(s);
}

/* ca list/show/add-template/remove-template: which templates a CA publishes. */
static void
test_ca_templates(void **state)
{
	struct oc_directory *d = NULL;
	struct oc_ca_entry ca, *cav = NULL;
	struct oc_ces_uri uri = { 4, (char *)"https://ces.example.test/X_CES_UsernamePassword/service.svc/CES", 1, 0 };
	size_t n = 0;

	(void)state;
	const struct step prep[] = {
		{ { "template", "list" }, 0, { "WebServer" }, NULL, NULL },
	};
	run_steps(prep, 1);     /* creates and seeds the directory */
	memset(&ca, 0, sizeof(ca));
	ca.name = (char *)"Test CA";
	ca.uris = &uri;
	ca.nuris = 1;
	assert_int_equal(oc_dir_open(dir_path, 1, &d), OC_OK);
	assert_int_equal(oc_strlist_add(&ca.templates, "User"), OC_OK);
	assert_int_equal(oc_dir_ca_put(d, &ca), OC_OK);
	oc_strlist_free(&ca.templates);
	oc_dir_close(d);
	const struct step steps[] = {
		{ { "ca", "list" }, 0, { "Test CA\t1 templates\t1 CES URIs" }, NULL, NULL },
		{ { "ca", "show", "Test CA" }, 0, { "template: User\n", "ces_uri: 4 1 https://ces" }, "WebServer", NULL },
		{ { "ca", "add-template", "Test CA", "webserver" }, 0, { NULL }, NULL, NULL },
		{ { "ca", "add-template", "Test CA", "WebServer" }, 0, { NULL }, NULL, NULL },
		{ { "ca", "show", "Test CA", "--json" }, 0, { "\"templates\":[\"User\",\"WebServer\"]",
		  "\"auth\":4" }, NULL, NULL },
		{ { "ca", "add-template", "Test CA", "NoSuch" }, 2, { NULL }, NULL, "no template" },
		{ { "ca", "add-template", "Nobody CA", "User" }, 2, { NULL }, NULL, "no CA named" },
		{ { "ca", "remove-template", "Test CA", "user" }, 0, { NULL }, NULL, NULL },
		{ { "ca", "remove-template", "Test CA", "User" }, 2, { NULL }, NULL, "does not publish" },
		{ { "ca", "list", "--json" }, 0, { "[{\"name\":\"Test CA\",\"templates\":[\"WebServer\"]" }, NULL, NULL },
		{ { "ca", "frobnicate" }, 1, { NULL }, NULL, "usage: ca" },
	};
	run_steps(steps, sizeof(steps) / sizeof(steps[0]));
	/* the directory really changed */
	assert_int_equal(oc_dir_open_ro(dir_path, &d), OC_OK);
	assert_int_equal(oc_dir_ca_list(d, &cav, &n), OC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(cav[0].templates.n, 1);
	assert_string_equal(cav[0].templates.v[0], "WebServer");
	oc_dir_ca_list_free(cav, n);
	oc_dir_close(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_templates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_add_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts_groups_rights, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cert_revocation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_templates, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
