/*
 * The publication listener's request paths: only flat file names of the
 * publication directory are served (no traversal, no hidden files), with the
 * content types clients expect for CRLs and certificates (RFC 2585).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "publish/publish.h"

int main(void);

static void
test_path_names(void **state)
{
	static const struct { const char *path, *name; } t[] = {
		{ "/OpenCES-Demo-CA.crl", "OpenCES-Demo-CA.crl" },
		{ "/OpenCES-Demo-CA-delta.crl?x=1", "OpenCES-Demo-CA-delta.crl" },
		{ "/ca_1.crt", "ca_1.crt" },
		{ "/", NULL },
		{ "", NULL },
		{ "OpenCES.crl", NULL },
		{ "/../ca.key", NULL },
		{ "/.hidden", NULL },
		{ "/a/b.crl", NULL },
		{ "/a%2fb.crl", NULL },
		{ "/a b.crl", NULL },
		{ "/a\\b", NULL },
	};
	char name[OC_PUBLISH_NAME_MAX + 1], longp[OC_PUBLISH_NAME_MAX + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int r = oc_publish_path_name(t[i].path, name, sizeof(name));
		if (t[i].name == NULL) {
			if (r == OC_OK)
				fail_msg("%s: served as %s", t[i].path, name);
		} else {
			assert_int_equal(r, OC_OK);
			assert_string_equal(name, t[i].name);
		}
	}
	longp[0] = '/';
	memset(longp + 1, 'a', sizeof(longp) - 2);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(oc_publish_path_name(longp, name, sizeof(name)), OC_ERR_NOT_FOUND);
	assert_int_equal(oc_publish_path_name(NULL, name, sizeof(name)), OC_ERR_NOT_FOUND);
}

static void
test_content_types(void **state)
{
	(void)state;
	assert_string_equal(oc_publish_content_type("x.crl"), "application/pkix-crl");
	assert_string_equal(oc_publish_content_type("x.crt"), "application/pkix-cert");
	assert_string_equal(oc_publish_content_type("x.pem"), "application/x-pem-file");
	assert_string_equal(oc_publish_content_type("x"), "application/octet-stream");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_names),
		cmocka_unit_test(test_content_types),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
