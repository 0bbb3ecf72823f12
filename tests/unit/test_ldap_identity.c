/*
 * Identities from Active Directory (src/ldap/ldap_identity.h), the parts that
 * need no server: the search filter of each lookup key, and an account entry
 * as a Samba AD DC returns it (tests/lib/samba-dc.sh's bob and ws1$: the
 * objectSid and tokenGroups values below are a real DC's, base64 as
 * ldapsearch prints them) turned into a struct oc_identity. The lookups
 * themselves run against a real Samba DC in tests/e2e/test_ad_samba.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/util.h"
#include "ldap/ldap_identity.h"

int main(void);

#define ENABLED "(!(userAccountControl:1.2.840.113556.1.4.803:=2))"

static const struct {
	enum oc_ldap_ident_key key;
	const char *value;
	int r;
	const char *filter;
	const char *domain;
} filters[] = {
	{ OC_LDAP_KEY_SID, "S-1-5-21-3510434445-3880250446-3346974331-1103", OC_OK,
	  "(&(objectClass=user)(objectSid=\\01\\05\\00\\00\\00\\00\\00\\05\\15\\00\\00\\00"
	  "\\8d\\fa\\3c\\d1\\4e\\ec\\47\\e7\\7b\\c6\\7e\\c7\\4f\\04\\00\\00)" ENABLED ")", NULL },
	{ OC_LDAP_KEY_SID, "S-1-5-21-x", OC_ERR_PARSE, NULL, NULL },
	{ OC_LDAP_KEY_SID, "bob", OC_ERR_PARSE, NULL, NULL },
	{ OC_LDAP_KEY_LOGIN, "bob", OC_OK,
	  "(&(objectClass=user)(sAMAccountName=bob)" ENABLED ")", NULL },
	{ OC_LDAP_KEY_LOGIN, "bob@corp.example.test", OC_OK,
	  "(&(objectClass=user)(userPrincipalName=bob@corp.example.test)" ENABLED ")", NULL },
	{ OC_LDAP_KEY_LOGIN, "CORP\\bob", OC_OK,
	  "(&(objectClass=user)(sAMAccountName=bob)" ENABLED ")", "CORP" },
	{ OC_LDAP_KEY_LOGIN, "\\bob", OC_ERR_PARSE, NULL, NULL },
	{ OC_LDAP_KEY_LOGIN, "CORP\\", OC_ERR_PARSE, NULL, NULL },
	{ OC_LDAP_KEY_LOGIN, "CORP\\a\\b", OC_ERR_PARSE, NULL, NULL },
	{ OC_LDAP_KEY_LOGIN, "CORP\\bob@corp", OC_ERR_PARSE, NULL, NULL },
	/* filter metacharacters are escaped, never interpreted */
	{ OC_LDAP_KEY_LOGIN, "*)(sAMAccountName=*", OC_OK,
	  "(&(objectClass=user)(sAMAccountName=\\2a\\29\\28sAMAccountName=\\2a)" ENABLED ")", NULL },
	{ OC_LDAP_KEY_LOGIN, "bob\x01", OC_ERR_PARSE, NULL, NULL },
	{ OC_LDAP_KEY_LOGIN, "", OC_ERR_PARSE, NULL, NULL },
	{ OC_LDAP_KEY_UPN, "ws1@corp.example.test", OC_OK,
	  "(&(objectClass=user)(userPrincipalName=ws1@corp.example.test)" ENABLED ")", NULL },
	{ OC_LDAP_KEY_UPN, "bob", OC_ERR_PARSE, NULL, NULL },
	{ OC_LDAP_KEY_DNS, "ws1.corp.example.test", OC_OK,
	  "(&(objectClass=computer)(dNSHostName=ws1.corp.example.test)" ENABLED ")", NULL },
	{ OC_LDAP_KEY_DNS, "ws1@corp", OC_ERR_PARSE, NULL, NULL },
};

static void
test_filters(void **state)
{
	char longname[OC_NAME_MAX + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		char *f = NULL, *d = NULL;
		int r = oc_ldap_ident_filter(filters[i].key, filters[i].value, &f, &d);

		if (r != filters[i].r)
			fail_msg("%s: %d, expected %d", filters[i].value, r, filters[i].r);
		if (filters[i].filter != NULL)
			assert_string_equal(f, filters[i].filter);
		else
			assert_null(f);
		if (filters[i].domain != NULL)
			assert_string_equal(d, filters[i].domain);
		else
			assert_null(d);
		free(f);
		free(d);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	{
		char *f = NULL, *d = NULL;

		assert_int_equal(oc_ldap_ident_filter(OC_LDAP_KEY_LOGIN, longname, &f, &d),
		    OC_ERR_PARSE);
		assert_null(f);
	}
}

/* base64 (as ldapsearch prints binary values) -> one value; freed by vals_free */
static struct oc_ldap_ident_val
b64(const char *s)
{
	struct oc_ldap_ident_val v = { NULL, 0 };
	uint8_t *p = NULL;
	size_t n = 0;

	assert_int_equal(oc_b64_decode(s, strlen(s), &p, &n, 1024), OC_OK);
	v.p = p;
	v.len = n;
	return v;
}

static struct oc_ldap_ident_val
txt(const char *s)
{
	struct oc_ldap_ident_val v = { (const uint8_t *)s, strlen(s) };

	return v;
}

/* the DC's values for bob (S-1-5-21-3510434445-3880250446-3346974331-1103) */
#define BOB_SID     "AQUAAAAAAAUVAAAAjfo80U7sR+d7xn7HTwQAAA=="
#define TG_ENROLLERS "AQUAAAAAAAUVAAAAjfo80U7sR+d7xn7HUgQAAA=="   /* -1106 */
#define TG_DOMUSERS  "AQUAAAAAAAUVAAAAjfo80U7sR+d7xn7HAQIAAA=="   /* -513 */
#define TG_BUILTIN   "AQIAAAAAAAUgAAAAIQIAAA=="                   /* S-1-5-32-545 */
#define DOM "S-1-5-21-3510434445-3880250446-3346974331"

static void
test_entry_user(void **state)
{
	struct oc_ldap_ident_val sam = txt("bob"), upn = txt("bob@corp.example.test");
	struct oc_ldap_ident_val mail = txt("bob@corp.example.test"), sid = b64(BOB_SID);
	struct oc_ldap_ident_val cls[] = { txt("top"), txt("person"), txt("organizationalPerson"),
		txt("user") };
	struct oc_ldap_ident_val tg[] = { b64(TG_ENROLLERS), b64(TG_DOMUSERS), b64(TG_BUILTIN),
		b64(TG_DOMUSERS) };
	struct oc_ldap_ident_entry e = {
		.dn = "CN=Bob Builder,CN=Users,DC=corp,DC=example,DC=test",
		.sam = &sam, .upn = &upn, .mail = &mail, .sid = &sid,
		.classes = cls, .nclasses = 4, .token_groups = tg, .ngroups = 4,
	};
	static const char *const groups[] = { DOM "-1106", DOM "-513", "S-1-5-32-545",
		"S-1-1-0", "S-1-5-11" };
	struct oc_identity id;

	(void)state;
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_OK);
	assert_string_equal(id.name, "bob");
	assert_int_equal(id.kind, OC_ACCOUNT_USER);
	assert_string_equal(id.upn, "bob@corp.example.test");
	assert_string_equal(id.mail, "bob@corp.example.test");
	assert_null(id.dns_name);
	assert_string_equal(id.dn, "CN=Bob Builder,CN=Users,DC=corp,DC=example,DC=test");
	assert_string_equal(id.sid, DOM "-1103");
	/* duplicates once; Everyone and Authenticated Users added, as in a logon token */
	assert_int_equal(id.groups.n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(id.groups.v[i], groups[i]);
	oc_identity_clear(&id);

	/* refusals: no objectSid, a bad SID, a group that is not a SID, control bytes */
	e.sid = NULL;
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_ERR_PARSE);
	assert_null(id.name);
	e.sid = &tg[0];
	tg[1].len = 7;
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_ERR_PARSE);
	tg[1].len = 28;
	sid.len = 5;
	e.sid = &sid;
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_ERR_PARSE);
	sid.len = 28;
	mail = txt("bob@corp\n.example.test");
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_ERR_PARSE);
	mail = txt("bob@corp.example.test");
	e.sam = NULL;
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_ERR_PARSE);
	e.sam = &sam;
	e.dn = NULL;
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_ERR_PARSE);
	e.dn = "CN=Bob Builder,CN=Users,DC=corp,DC=example,DC=test";
	e.ngroups = OC_GROUPS_MAX + 1;
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_ERR_LIMIT);
	e.ngroups = 4;
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_OK);
	oc_identity_clear(&id);

	free((void *)sid.p);
	for (size_t i = 0; i < 4; i++)
		free((void *)tg[i].p);
}

static void
test_entry_computer(void **state)
{
	struct oc_ldap_ident_val sam = txt("ws1$"), dns = txt("ws1.corp.example.test");
	struct oc_ldap_ident_val sid = b64("AQUAAAAAAAUVAAAAjfo80U7sR+d7xn7HUQQAAA==");
	struct oc_ldap_ident_val cls[] = { txt("top"), txt("person"), txt("organizationalPerson"),
		txt("user"), txt("computer") };
	struct oc_ldap_ident_entry e = {
		.dn = "CN=ws1,CN=Computers,DC=corp,DC=example,DC=test",
		.sam = &sam, .dns = &dns, .sid = &sid, .classes = cls, .nclasses = 5,
	};
	struct oc_identity id;

	(void)state;
	assert_int_equal(oc_ldap_ident_from_entry(&e, &id), OC_OK);
	assert_string_equal(id.name, "ws1$");
	assert_int_equal(id.kind, OC_ACCOUNT_COMPUTER);
	assert_null(id.upn);
	assert_null(id.mail);
	assert_string_equal(id.dns_name, "ws1.corp.example.test");
	assert_string_equal(id.sid, DOM "-1105");
	/* no tokenGroups read: still Everyone and Authenticated Users */
	assert_int_equal(id.groups.n, 2);
	assert_string_equal(id.groups.v[0], "S-1-1-0");
	assert_string_equal(id.groups.v[1], "S-1-5-11");
	oc_identity_clear(&id);
	free((void *)sid.p);
}

static void
test_no_server(void **state)
{
	struct oc_ldap_config c = { 0 };
	struct oc_ldap_ident *li = NULL;
	struct oc_ldap_ident_stats st;
	struct oc_identity id;
	int i;

	(void)state;
	/* a port nothing listens on: unavailable, never "no such account", never cached */
	c.uri = "ldaps://127.0.0.1:9";
	c.bind = OC_LDAP_BIND_SIMPLE;
	c.bind_dn = "CN=x";
	c.password_file = "/nonexistent";
	c.timeout_s = 2;
	assert_int_equal(oc_ldap_ident_new(&c, &li), OC_OK);
	for (i = 0; i < 2; i++) {
		assert_int_equal(oc_ldap_ident_lookup(li, OC_LDAP_KEY_LOGIN, "bob", &id),
		    OC_ERR_UNAVAILABLE);
		assert_null(id.name);
	}
	assert_int_equal(oc_ldap_ident_password(li, "bob", "pw", &id), OC_ERR_UNAVAILABLE);
	assert_int_equal(oc_ldap_ident_password(li, "bob", "", &id), OC_ERR_AUTH);
	/* a malformed key is refused before any connection */
	assert_int_equal(oc_ldap_ident_lookup(li, OC_LDAP_KEY_SID, "S-1-x", &id), OC_ERR_PARSE);
	oc_ldap_ident_get_stats(li, &st);
	assert_int_equal(st.cache_hits, 0);
	oc_ldap_ident_free(li);
	oc_ldap_ident_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_entry_user),
		cmocka_unit_test(test_entry_computer),
		cmocka_unit_test(test_no_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
