/*
 * The SASL GSSAPI bind of src/ldap/ldap_conn.c against a real slapd that
 * accepts Kerberos (tests/lib/slapd.sh with sasl-host) and a real MIT KDC
 * (tests/lib/mit-kdc.sh): keys from a client keytab into a private MEMORY
 * cache, over StartTLS (no SASL security layer inside TLS, as AD wants) and
 * in clear (SASL sign and seal), the keytab's first principal or a named one;
 * the mirror reads the policy over such a connection.
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

#include "ldap/ldap_conn.h"
#include "ldap/ldap_mirror.h"

int main(void);
const char *__lsan_default_suppressions(void);
const char *__asan_default_options(void);

/* Full stacks for leak reports, so the suppression below can see the library. */
const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

/*
 * Cyrus SASL 2.1.28's GSSAPI mechanism (libgssapiv2.so) never releases the
 * credential it acquires for a bind; that leak is its own, not ours.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libgssapiv2.so\n";
}

#define SUFFIX "DC=corp,DC=example,DC=test"
#define BASE   "CN=Configuration," SUFFIX

static char dir[64], kdir[96], sdir[96], uri[64], cafile[128], keytab[128];

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
	const char *src = getenv("OC_SOURCE_DIR");
	char cmd[2048], env[256];
	int kport = free_port(), lport = free_port();

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/oc-ldapgss-XXXXXX");
	if (src == NULL || mkdtemp(dir) == NULL || kport <= 0 || lport <= 0 || kport == lport)
		return -1;
	snprintf(kdir, sizeof(kdir), "%s/kdc", dir);
	snprintf(sdir, sizeof(sdir), "%s/slapd", dir);
	snprintf(cmd, sizeof(cmd), "MKDC_PORT=%d bash %s/tests/lib/mit-kdc.sh start %s >/dev/null",
	    kport, src, kdir);
	if (system(cmd) != 0) {
		fprintf(stderr, "the KDC did not start (tests/lib/mit-kdc.sh)\n");
		return -1;
	}
	snprintf(env, sizeof(env), "%s/krb5.conf", kdir);
	setenv("KRB5_CONFIG", env, 1);
	snprintf(env, sizeof(env), "%s/kdc.conf", kdir);
	setenv("KRB5_KDC_PROFILE", env, 1);
	/* nothing but the MEMORY cache of ldap_conn.c may be used */
	snprintf(env, sizeof(env), "FILE:%s/no-such-ccache", dir);
	setenv("KRB5CCNAME", env, 1);
	snprintf(cmd, sizeof(cmd), "kadmin.local -q 'addprinc -randkey ldap/127.0.0.1' >/dev/null 2>&1 && "
	    "kadmin.local -q 'ktadd -k %s/ldap.keytab ldap/127.0.0.1' >/dev/null 2>&1 && "
	    "KRB5_KTNAME=%s/ldap.keytab SLAPD_GLOBAL_CONF='sasl-host 127.0.0.1\nsasl-realm EXAMPLE.TEST' "
	    "bash %s/tests/lib/slapd.sh start %s %d %s/tests/vectors/ldap/templates.ldif",
	    kdir, kdir, src, sdir, lport, src);
	if (system(cmd) != 0) {
		fprintf(stderr, "slapd did not start (tests/lib/slapd.sh; install slapd)\n");
		return -1;
	}
	snprintf(uri, sizeof(uri), "ldap://127.0.0.1:%d", lport);
	snprintf(cafile, sizeof(cafile), "%s/ca.pem", sdir);
	snprintf(keytab, sizeof(keytab), "%s/client.keytab", kdir);
	return 0;
}

static int
group_teardown(void **state)
{
	const char *src = getenv("OC_SOURCE_DIR");
	char cmd[1024];

	(void)state;
	snprintf(cmd, sizeof(cmd), "bash %s/tests/lib/slapd.sh stop %s; "
	    "bash %s/tests/lib/mit-kdc.sh stop %s >/dev/null; rm -rf %s", src, sdir, src, kdir, dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
cfg_gss(struct oc_ldap_config *c, int starttls, const char *principal)
{
	memset(c, 0, sizeof(*c));
	c->uri = uri;
	c->starttls = starttls;
	c->ca_file = cafile;
	c->bind = OC_LDAP_BIND_GSSAPI;
	c->keytab = keytab;
	c->principal = principal;
	c->base_dn = BASE;
	c->timeout_s = 5;
}

static void
test_gssapi_binds(void **state)
{
	static const struct {
		const char *what, *principal;
		int starttls, want;
	} rows[] = {
		{ "StartTLS, the keytab's first principal", NULL, 1, OC_OK },
		{ "StartTLS, a named principal", "client$@EXAMPLE.TEST", 1, OC_OK },
		{ "clear, SASL security layer", NULL, 0, OC_OK },
		{ "a principal the keytab has no key for", "alice@EXAMPLE.TEST", 1, OC_ERR_AUTH },
	};
	struct oc_ldap_config c;
	struct oc_ldap *l = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		print_message("%s\n", rows[i].what);
		cfg_gss(&c, rows[i].starttls, rows[i].principal);
		assert_int_equal(oc_ldap_connect(&c, &l), rows[i].want);
		if (rows[i].want == OC_OK) {
			assert_string_equal(oc_ldap_config_nc(l), BASE);
			oc_ldap_close(l);
			l = NULL;
		} else
			assert_null(l);
	}
	/* the default cache was never created */
	assert_int_not_equal(access(getenv("KRB5CCNAME") + 5, F_OK), 0);
}

static void
test_mirror_over_gssapi(void **state)
{
	struct oc_ldap_config c;
	struct oc_ldap *l = NULL;
	struct oc_ldap_snapshot s;
	char err[OC_LDAP_MIRROR_ERR_MAX] = "";

	(void)state;
	cfg_gss(&c, 1, NULL);
	assert_int_equal(oc_ldap_connect(&c, &l), OC_OK);
	assert_int_equal(oc_ldap_mirror_read(l, &s, err), OC_OK);
	assert_int_equal(s.m.ntemplates, 33);
	oc_ldap_snapshot_clear(&s);
	oc_ldap_close(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gssapi_binds),
		cmocka_unit_test(test_mirror_over_gssapi),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
