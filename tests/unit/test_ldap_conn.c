/*
 * The LDAP connection (src/ldap/ldap_conn.h) against a real slapd
 * (tests/lib/slapd.sh): StartTLS with the test CA, a simple bind from a
 * password file, the naming contexts, and every refusal: wrong trust anchor,
 * wrong password, an empty password, a simple bind in clear to a
 * non-loopback host, an unreachable server. Plus the filter escapes and the
 * SID conversions (RFC 4515, [MS-DTYP] 2.4.2).
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
#include <sys/socket.h>
#include <unistd.h>

#include "common/util.h"
#include "ldap/ldap_conn.h"

int main(void);

#define SUFFIX "DC=corp,DC=example,DC=test"
#define BASE   "CN=Configuration," SUFFIX

static char dir[64], uri[64], pwfile[128], cafile[128], badca[128], badpw[128];
static int port;

static int
free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), p = -1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0)
		p = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return p;
}

static int
group_setup(void **state)
{
	char cmd[1024];
	const char *src = getenv("OC_SOURCE_DIR");
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/oc-ldapconn-XXXXXX");
	if (src == NULL || mkdtemp(dir) == NULL || (port = free_port()) <= 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "bash %s/tests/lib/slapd.sh start %s %d "
	    "%s/tests/vectors/ldap/templates.ldif", src, dir, port, src);
	if (system(cmd) != 0) {
		fprintf(stderr, "slapd did not start (tests/lib/slapd.sh; install slapd)\n");
		return -1;
	}
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d", port);
	snprintf(pwfile, sizeof(pwfile), "%s/password", dir);
	snprintf(cafile, sizeof(cafile), "%s/ca.pem", dir);
	/* a trust anchor that did not sign the server certificate */
	snprintf(badca, sizeof(badca), "%s/other-ca.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	    "-nodes -days 1 -subj /CN=other -keyout %s/other.key -out %s 2>/dev/null", dir, badca);
	if (system(cmd) != 0)
		return -1;
	snprintf(badpw, sizeof(badpw), "%s/bad-password", dir);
	if ((f = fopen(badpw, "w")) == NULL)
		return -1;
	fputs("not-the-password\n", f);
	fclose(f);
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[1024];

	(void)state;
	snprintf(cmd, sizeof(cmd), "bash %s/tests/lib/slapd.sh stop %s; rm -rf %s",
	    getenv("OC_SOURCE_DIR"), dir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
base_cfg(struct oc_ldap_config *c)
{
	memset(c, 0, sizeof(*c));
	c->uri = uri;
	c->starttls = 1;
	c->ca_file = cafile;
	c->bind = OC_LDAP_BIND_SIMPLE;
	c->bind_dn = "CN=admin," SUFFIX;
	c->password_file = pwfile;
	c->base_dn = BASE;
	c->timeout_s = 3;
}

static void
test_connect(void **state)
{
	struct oc_ldap_config c;
	struct oc_ldap *l = NULL;

	(void)state;
	base_cfg(&c);
	assert_int_equal(oc_ldap_connect(&c, &l), OC_OK);
	assert_non_null(oc_ldap_handle(l));
	/* slapd has no configurationNamingContext: base_dn is used */
	assert_string_equal(oc_ldap_config_nc(l), BASE);
	assert_string_equal(oc_ldap_default_nc(l), BASE);
	assert_int_equal(oc_ldap_timeout(l), 3);
	oc_ldap_close(l);
	oc_ldap_close(NULL);
	/* no base_dn and none in the RootDSE: a configuration error */
	c.base_dn = NULL;
	assert_int_equal(oc_ldap_connect(&c, &l), OC_ERR_CONFIG);
	assert_null(l);
	/* StartTLS off is allowed on loopback */
	base_cfg(&c);
	c.starttls = 0;
	assert_int_equal(oc_ldap_connect(&c, &l), OC_OK);
	oc_ldap_close(l);
}

static void
test_refusals(void **state)
{
	static const struct {
		const char *what;
		int field;                  /* 0 ca_file, 1 password_file, 2 uri, 3 starttls+uri */
		const char *value;
		int want;
	} rows[] = {
		{ "server certificate from another CA", 0, NULL, OC_ERR_IO },
		{ "wrong password", 1, NULL, OC_ERR_AUTH },
		{ "nobody listening", 2, "ldap://127.0.0.1:1", OC_ERR_IO },
		{ "simple bind in clear to a non-loopback host", 3, "ldap://192.0.2.1:389",
		  OC_ERR_CONFIG },
		{ "not an LDAP URI", 2, "http://127.0.0.1/", OC_ERR_CONFIG },
	};
	struct oc_ldap_config c;
	struct oc_ldap *l = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		base_cfg(&c);
		if (rows[i].field == 0)
			c.ca_file = badca;
		else if (rows[i].field == 1)
			c.password_file = badpw;
		else
			c.uri = rows[i].value;
		if (rows[i].field == 3)
			c.starttls = 0;
		print_message("%s\n", rows[i].what);
		assert_int_equal(oc_ldap_connect(&c, &l), rows[i].want);
		assert_null(l);
	}
	/* a missing password file is a configuration error */
	base_cfg(&c);
	c.password_file = "/nonexistent/password";
	assert_int_equal(oc_ldap_connect(&c, &l), OC_ERR_CONFIG);
}

static void
test_check_password(void **state)
{
	struct oc_ldap_config c;
	uint8_t *pw = NULL;
	size_t len = 0;
	char *s;

	(void)state;
	base_cfg(&c);
	assert_int_equal(oc_file_read(pwfile, &pw, &len, 256), OC_OK);
	assert_non_null(s = strndup((char *)pw, len));
	assert_int_equal(oc_ldap_check_password(&c, "CN=admin," SUFFIX, s), OC_OK);
	assert_int_equal(oc_ldap_check_password(&c, "CN=admin," SUFFIX, "wrong"), OC_ERR_AUTH);
	/* an empty password would be an unauthenticated bind: refused before the wire */
	assert_int_equal(oc_ldap_check_password(&c, "CN=admin," SUFFIX, ""), OC_ERR_AUTH);
	c.uri = "ldap://127.0.0.1:1";
	assert_int_equal(oc_ldap_check_password(&c, "CN=admin," SUFFIX, s), OC_ERR_IO);
	free(s);
	free(pw);
}

static void
test_escape_and_sid(void **state)
{
	static const struct {
		const char *in, *out;
	} rows[] = {                    /* RFC 4515 section 4 examples and ours */
		{ "Parens R Us (for all your parenthetical needs)",
		  "Parens R Us \\28for all your parenthetical needs\\29" },
		{ "*", "\\2a" },
		{ "C:\\MyFile", "C:\\5cMyFile" },
		{ "alice", "alice" },
	};
	static const uint8_t bin[] = { 0x01, 0x05, 0, 0, 0, 0, 0, 0x05, 0x15, 0, 0, 0,
	    0xc0, 0x13, 0x57, 0xeb, 0x68, 0x41, 0x0f, 0x30, 0x5e, 0x80, 0x9c, 0x0c,
	    0x50, 0x04, 0, 0 };
	char *s = NULL;
	uint8_t *b = NULL;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(oc_ldap_filter_escape(rows[i].in, &s), OC_OK);
		assert_string_equal(s, rows[i].out);
		free(s);
	}
	assert_int_equal(oc_ldap_filter_escape_bin((const uint8_t *)"\x01\xff", 2, &s), OC_OK);
	assert_string_equal(s, "\\01\\ff");
	free(s);
	assert_int_equal(oc_ldap_sid_to_text(bin, sizeof(bin), &s), OC_OK);
	assert_string_equal(s, "S-1-5-21-3948352448-806306152-211583070-1104");
	assert_int_equal(oc_ldap_sid_from_text(s, &b, &n), OC_OK);
	assert_int_equal(n, sizeof(bin));
	assert_memory_equal(b, bin, n);
	free(b);
	free(s);
	assert_int_equal(oc_ldap_sid_to_text(bin, sizeof(bin) - 1, &s), OC_ERR_PARSE);
	assert_int_not_equal(oc_ldap_sid_from_text("S-1-x", &b, &n), OC_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_check_password),
		cmocka_unit_test(test_escape_and_sid),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
