/*
 * Kerberos identities from a real Active Directory KDC: a throwaway Samba AD
 * DC on 127.0.0.2 (tests/lib/samba-dc.sh; root, port 88). bob (a user in
 * "PKI Enrollers"), carol (a user in no extra group) and ws1$ (a computer
 * account in "PKI Enrollers") get service tickets for HTTP/localhost from
 * MIT's initiator; oc_gss (src/auth/gss.h) accepts them with the exported
 * keytab and the identity carries the PAC's user SID and group SIDs, checked
 * against the SIDs the directory itself reports (ldbsearch objectSid).
 * A missing or failing DC is a failure, never a skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>

#include "auth/gss.h"
#include "common/err.h"
#include "model/identity.h"

int main(void);

static char dc_dir[256];
static char keytab[300];
/* SIDs read from DIR/sids.env */
static char sid_domain[200], sid_bob[200], sid_carol[200], sid_ws1[200], sid_group[200];

static gss_OID_desc oid_spnego = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };

static int
dc_cmd(const char *verb, const char *extra)
{
	char cmd[1024];
	const char *src = getenv("OC_SOURCE_DIR");

	snprintf(cmd, sizeof(cmd), "bash '%s/tests/lib/samba-dc.sh' %s '%s' %s",
	    src ? src : ".", verb, dc_dir, extra ? extra : "");
	return system(cmd);
}

static void
read_sids(void)
{
	char path[400], line[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sids.env", dc_dir);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		char *eq = strchr(line, '='), *dst = NULL;

		line[strcspn(line, "\n")] = '\0';
		if (eq == NULL)
			continue;
		*eq++ = '\0';
		if (strcmp(line, "SDC_DOMAIN_SID") == 0)
			dst = sid_domain;
		else if (strcmp(line, "SDC_BOB_SID") == 0)
			dst = sid_bob;
		else if (strcmp(line, "SDC_CAROL_SID") == 0)
			dst = sid_carol;
		else if (strcmp(line, "SDC_WS1_SID") == 0)
			dst = sid_ws1;
		else if (strcmp(line, "SDC_GROUP_SID") == 0)
			dst = sid_group;
		if (dst != NULL)
			snprintf(dst, 200, "%s", eq);
	}
	fclose(f);
	assert_true(strncmp(sid_domain, "S-1-5-21-", 9) == 0);
	assert_true(strncmp(sid_bob, sid_domain, strlen(sid_domain)) == 0);
	assert_true(strncmp(sid_group, sid_domain, strlen(sid_domain)) == 0);
	assert_true(sid_carol[0] != '\0' && sid_ws1[0] != '\0');
}

static int
setup_dc(void **state)
{
	char buf[512];

	(void)state;
	snprintf(dc_dir, sizeof(dc_dir), "/tmp/oc-samba-XXXXXX");
	assert_non_null(mkdtemp(dc_dir));
	setenv("SDC_IP", "127.0.0.2", 1);
	assert_int_equal(dc_cmd("start", NULL), 0);
	snprintf(buf, sizeof(buf), "%s/krb5.conf", dc_dir);
	setenv("KRB5_CONFIG", buf, 1);
	setenv("KRB5RCACHEDIR", dc_dir, 1);
	unsetenv("KRB5_KTNAME");
	snprintf(keytab, sizeof(keytab), "%s/http.keytab", dc_dir);
	read_sids();
	return 0;
}

static int
teardown_dc(void **state)
{
	char cmd[512];
	int stopped;

	(void)state;
	stopped = dc_cmd("stop", NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dc_dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(stopped, 0);
	return 0;
}

/* kinit principal into DIR/cc.<tag>; the SPNEGO token of a ticket for HTTP@localhost. */
static void
token_for(const char *principal, const char *tag, gss_buffer_desc *tok, gss_ctx_id_t *ictx)
{
	char ccache[400], args[600];
	gss_key_value_element_desc kv;
	gss_key_value_set_desc store = { 1, &kv };
	gss_buffer_desc nb = { 14, (void *)"HTTP@localhost" };
	gss_name_t target = GSS_C_NO_NAME;
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	gss_OID_set_desc mechs = { 1, &oid_spnego };
	OM_uint32 maj, min;

	snprintf(ccache, sizeof(ccache), "%s/cc.%s", dc_dir, tag);
	snprintf(args, sizeof(args), "'%s' '%s'", principal, ccache);
	assert_int_equal(dc_cmd("kinit", args), 0);
	kv.key = "ccache";
	kv.value = ccache;
	maj = gss_acquire_cred_from(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE, &mechs,
	    GSS_C_INITIATE, &store, &cred, NULL, NULL);
	assert_int_equal(maj, GSS_S_COMPLETE);
	assert_int_equal(gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &target),
	    GSS_S_COMPLETE);
	*ictx = GSS_C_NO_CONTEXT;
	maj = gss_init_sec_context(&min, cred, ictx, target, &oid_spnego,
	    GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS, GSS_C_NO_BUFFER, NULL,
	    tok, NULL, NULL);
	assert_int_equal(maj, GSS_S_CONTINUE_NEEDED);
	gss_release_name(&min, &target);
	gss_release_cred(&min, &cred);
}

static void
accept_as(struct oc_gss *g, const char *principal, const char *tag, struct oc_identity *id)
{
	gss_buffer_desc tok = GSS_C_EMPTY_BUFFER, fin = GSS_C_EMPTY_BUFFER;
	gss_ctx_id_t ictx;
	struct oc_gss_ctx *ctx = NULL;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int complete = 0;
	OM_uint32 min;

	token_for(principal, tag, &tok, &ictx);
	assert_int_equal(oc_gss_accept(g, &ctx, tok.value, tok.length, NULL, 0,
	    &out, &outlen, id, &complete), OC_OK);
	assert_int_equal(complete, 1);
	assert_null(ctx);
	assert_non_null(out);
	/* mutual authentication completes the initiator */
	{
		gss_buffer_desc in = { outlen, out };
		gss_name_t t = GSS_C_NO_NAME;
		gss_buffer_desc nb = { 14, (void *)"HTTP@localhost" };

		assert_int_equal(gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE, &t),
		    GSS_S_COMPLETE);
		assert_int_equal(gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &ictx, t,
		    &oid_spnego, GSS_C_MUTUAL_FLAG, 0, GSS_C_NO_CHANNEL_BINDINGS, &in,
		    NULL, &fin, NULL, NULL), GSS_S_COMPLETE);
		gss_release_name(&min, &t);
	}
	gss_release_buffer(&min, &fin);
	gss_release_buffer(&min, &tok);
	gss_delete_sec_context(&min, &ictx, GSS_C_NO_BUFFER);
	free(out);
}

/* The group SIDs every account of the domain gets: its primary group first. */
static void
assert_primary(const struct oc_identity *id, const char *rid)
{
	char want[256];

	snprintf(want, sizeof(want), "%s-%s", sid_domain, rid);
	assert_true(id->groups.n >= 1);
	assert_string_equal(id->groups.v[0], want);
}

static void
test_user_in_group(void **state)
{
	struct oc_gss *g = NULL;
	struct oc_gss_config cfg = { keytab, "HTTP/localhost", OC_GSS_CB_WHEN_PRESENT };
	struct oc_identity id = { 0 };

	(void)state;
	assert_int_equal(oc_gss_new(&cfg, &g), OC_OK);
	accept_as(g, "bob", "bob", &id);
	assert_string_equal(id.name, "bob@CORP.EXAMPLE.TEST");
	assert_int_equal(id.kind, OC_ACCOUNT_USER);
	assert_int_equal(id.auth_type, OC_AUTH_KERBEROS);
	assert_non_null(id.sid);
	assert_string_equal(id.sid, sid_bob);
	assert_primary(&id, "513");                             /* Domain Users */
	assert_true(oc_strlist_contains(&id.groups, sid_group));
	assert_false(oc_strlist_contains(&id.groups, sid_bob));
	/* an AD token's well-known groups, which template ACLs grant to */
	assert_true(oc_strlist_contains(&id.groups, "S-1-1-0"));
	assert_true(oc_strlist_contains(&id.groups, "S-1-5-11"));
	oc_identity_clear(&id);
	oc_gss_free(g);
}

static void
test_user_outside_group(void **state)
{
	struct oc_gss *g = NULL;
	struct oc_gss_config cfg = { keytab, "HTTP/localhost", OC_GSS_CB_OFF };
	struct oc_identity id = { 0 };

	(void)state;
	assert_int_equal(oc_gss_new(&cfg, &g), OC_OK);
	accept_as(g, "carol", "carol", &id);
	assert_string_equal(id.name, "carol@CORP.EXAMPLE.TEST");
	assert_string_equal(id.sid, sid_carol);
	assert_primary(&id, "513");
	assert_false(oc_strlist_contains(&id.groups, sid_group));
	oc_identity_clear(&id);
	oc_gss_free(g);
}

static void
test_machine_in_group(void **state)
{
	struct oc_gss *g = NULL;
	struct oc_gss_config cfg = { keytab, "HTTP/localhost", OC_GSS_CB_OFF };
	struct oc_identity id = { 0 };

	(void)state;
	assert_int_equal(oc_gss_new(&cfg, &g), OC_OK);
	accept_as(g, "ws1$", "ws1", &id);
	assert_string_equal(id.name, "ws1$@CORP.EXAMPLE.TEST");
	assert_int_equal(id.kind, OC_ACCOUNT_COMPUTER);
	assert_string_equal(id.sid, sid_ws1);
	assert_primary(&id, "515");                             /* Domain Computers */
	assert_true(oc_strlist_contains(&id.groups, sid_group));
	oc_identity_clear(&id);
	oc_gss_free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_in_group),
		cmocka_unit_test(test_user_outside_group),
		cmocka_unit_test(test_machine_in_group),
	};

	return cmocka_run_group_tests(tests, setup_dc, teardown_dc);
}
