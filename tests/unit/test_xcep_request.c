/*
 * oc_xcep_parse_request over every request shape of xcep.md 2.3, 6.1 and 8.1
 * (tests/vectors/xcep/), run through oc_soap_parse first as the server does.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/util.h"
#include "soap/soap.h"
#include "xcep/xcep.h"

int main(void);

#define T0001 (-62135596800LL)   /* 0001-01-01T00:00:00Z */

struct vec {
	const char *file;
	int rc;                     /* of oc_xcep_parse_request */
	int has_last_update;
	long long last_update;
	const char *lang;
	int has_filter;
	size_t noids;
	const char *oid0, *oid1;
	int cv, sv;
	const char *username;       /* from the SOAP header, NULL = no token */
};

static const struct vec vectors[] = {
	/* 2.3 #1 / 8.1: Windows 7, year 0001 without zone, nil language and filter */
	{ "win7_kerberos.xml", OC_OK, 1, T0001, NULL, 0, 0, NULL, NULL, -1, -1, NULL },
	/* 8.1 on the username endpoint: o:Security as the last header */
	{ "win7_usernamepassword.xml", OC_OK, 1, T0001, NULL, 0, 0, NULL, NULL, -1, -1,
	  "CONTOSO\\alice" },
	/* 2.3 #1: the spec's malformed lastUpdate is treated as nil */
	{ "win7_bad_lastupdate.xml", OC_OK, 0, 0, NULL, 0, 0, NULL, NULL, -1, -1, NULL },
	/* fraction and +01:00 offset: 2030-01-01T00:00:00+01:00 = 2029-12-31T23:00:00Z */
	{ "win_lastupdate_2030.xml", OC_OK, 1, 1893452400LL, NULL, 0, 0, NULL, NULL, -1, -1, NULL },
	/* 2.3 #2: xsi bound to another prefix, language, clientVersion 6, serverVersion 0 */
	{ "windows_modern.xml", OC_OK, 0, 0, "en-US", 1, 0, NULL, NULL, 6, 0, NULL },
	/* 2.3 #3: MDM, everything nil */
	{ "mdm_all_nil.xml", OC_OK, 0, 0, NULL, 0, 0, NULL, NULL, -1, -1, NULL },
	/* 2.3 #4: cepces <= 0.3.16: filter present, all three nil */
	{ "cepces_0316.xml", OC_OK, 0, 0, NULL, 1, 0, NULL, NULL, -1, -1, NULL },
	/* 2.3 #5 / 6.1: cepces 0.3.17, versions 0/0 */
	{ "cepces_0317.xml", OC_OK, 0, 0, NULL, 1, 0, NULL, NULL, 0, 0, NULL },
	{ "bom_cepces.xml", OC_OK, 0, 0, NULL, 1, 0, NULL, NULL, 0, 0, NULL },
	{ "cepces_usernamepassword.xml", OC_OK, 0, 0, NULL, 1, 0, NULL, NULL, 0, 0,
	  "user@EXAMPLE.COM" },
	/* policyOIDs with whitespace, trailing ##any elements, serverVersion " 9 " */
	{ "policy_oid_filter.xml", OC_OK, 0, 0, "de-DE", 1, 2,
	  "1.3.6.1.4.1.311.21.8.1.2.3.1.1", "1.3.6.1.4.1.311.21.8.1.2.3.1.30", 4, 9, NULL },
	/* faults: empty body (cepces master), client missing / nil / empty, other payload */
	{ .file = "cepces_empty_body.xml", .rc = OC_ERR_SOAP_BODY },
	{ .file = "missing_client.xml", .rc = OC_ERR_SOAP_BODY },
	{ .file = "nil_client.xml", .rc = OC_ERR_SOAP_BODY },
	{ .file = "empty_client.xml", .rc = OC_ERR_SOAP_BODY },
	{ .file = "wrong_payload.xml", .rc = OC_ERR_SOAP_BODY },
};

static int
read_vector(const char *name, uint8_t **p, size_t *n)
{
	char path[1024];
	const char *dir = getenv("OC_VECTORS");

	snprintf(path, sizeof(path), "%s/xcep/%s", dir ? dir : "tests/vectors", name);
	return oc_file_read(path, p, n, 1024 * 1024);
}

static void
t_vectors(void **state)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vec *v = &vectors[i];
		struct oc_soap_msg msg;
		struct oc_xcep_request req;
		uint8_t *p = NULL;
		size_t n = 0;
		int r;

		assert_int_equal(read_vector(v->file, &p, &n), OC_OK);
		r = oc_soap_parse(p, n, &msg);
		if (r != OC_OK)
			fail_msg("%s: soap parse %d", v->file, r);
		assert_non_null(msg.action);
		assert_string_equal(msg.action, OC_XCEP_ACTION_REQUEST);
		assert_non_null(msg.message_id);
		if (v->username) {
			assert_true(msg.has_username_token);
			assert_string_equal(msg.username, v->username);
			assert_string_equal(msg.password, "secret");
		} else
			assert_false(msg.has_username_token);

		r = oc_xcep_parse_request(&msg, &req);
		if (r != v->rc)
			fail_msg("%s: got %d, want %d", v->file, r, v->rc);
		if (r == OC_OK) {
			assert_int_equal(req.has_last_update, v->has_last_update);
			if (v->has_last_update)
				assert_true((long long)req.last_update == v->last_update);
			if (v->lang == NULL)
				assert_null(req.preferred_language);
			else
				assert_string_equal(req.preferred_language, v->lang);
			assert_int_equal(req.has_filter, v->has_filter);
			assert_int_equal(req.policy_oids.n, v->noids);
			if (v->oid0)
				assert_string_equal(req.policy_oids.v[0], v->oid0);
			if (v->oid1)
				assert_string_equal(req.policy_oids.v[1], v->oid1);
			assert_int_equal(req.client_version, v->cv);
			assert_int_equal(req.server_version, v->sv);
		} else {
			assert_int_equal(req.policy_oids.n, 0);
			assert_null(req.preferred_language);
		}
		oc_xcep_request_clear(&req);
		oc_xcep_request_clear(&req);
		oc_soap_msg_clear(&msg);
		free(p);
	}
}

/* Version values that are not xs:int are ignored (as nil), not faulted. */
static void
t_versions_lenient(void **state)
{
	static const char *const bodies[] = {
		"<clientVersion>abc</clientVersion><serverVersion>-2</serverVersion>",
		"<clientVersion>99999999999999</clientVersion><serverVersion></serverVersion>",
	};

	for (size_t i = 0; i < 2; i++) {
		char doc[2048];
		struct oc_soap_msg msg;
		struct oc_xcep_request req;

		snprintf(doc, sizeof(doc),
		    "<s:Envelope xmlns:s=\"" OC_NS_SOAP12 "\"><s:Body><GetPolicies xmlns=\""
		    OC_NS_XCEP "\"><client><lastUpdate/><preferredLanguage/></client>"
		    "<requestFilter>%s</requestFilter></GetPolicies></s:Body></s:Envelope>",
		    bodies[i]);
		assert_int_equal(oc_soap_parse((const uint8_t *)doc, strlen(doc), &msg), OC_OK);
		assert_int_equal(oc_xcep_parse_request(&msg, &req), OC_OK);
		assert_int_equal(req.has_filter, 1);
		assert_int_equal(req.client_version, -1);
		assert_int_equal(req.server_version, -1);
		assert_int_equal(req.has_last_update, 0);     /* empty lastUpdate */
		assert_null(req.preferred_language);
		oc_xcep_request_clear(&req);
		oc_soap_msg_clear(&msg);
	}
}

/* An empty requestFilter means "no filter" (2.2). */
static void
t_empty_filter(void **state)
{
	static const char doc[] =
	    "<s:Envelope xmlns:s=\"" OC_NS_SOAP12 "\"><s:Body><x:GetPolicies xmlns:x=\""
	    OC_NS_XCEP "\"><x:client><x:lastUpdate>2026-03-01T10:00:00Z</x:lastUpdate>"
	    "</x:client><x:requestFilter/></x:GetPolicies></s:Body></s:Envelope>";
	struct oc_soap_msg msg;
	struct oc_xcep_request req;

	assert_int_equal(oc_soap_parse((const uint8_t *)doc, sizeof(doc) - 1, &msg), OC_OK);
	assert_int_equal(oc_xcep_parse_request(&msg, &req), OC_OK);
	assert_int_equal(req.has_filter, 0);
	assert_int_equal(req.has_last_update, 1);
	assert_true(req.last_update == 1772359200);
	oc_xcep_request_clear(&req);
	oc_soap_msg_clear(&msg);
}

int
main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(t_vectors),
		cmocka_unit_test(t_versions_lenient),
		cmocka_unit_test(t_empty_filter),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
