/*
 * libFuzzer: Active Directory attribute decoders (src/directory/ad_attr.h).
 * The first byte picks the decoder (modulo 6: 0 signed flags, 1 period,
 * 2 pKIKeyUsage, 3 pKIDefaultCSPs, 4 msPKI-RA-Application-Policies,
 * 5 msPKI-Enrollment-Servers), the rest is one LDAP value. Decoded values
 * must round-trip where an encoder exists and respect the list limits.
 * Seeds: tests/vectors/directory/ad_attr_*.bin (written by ad_gen.py).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directory/ad_attr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p;
	size_t len;

	if (size < 1)
		return 0;
	p = data + 1;
	len = size - 1;
	switch (data[0] % 6) {
	case 0: {
		uint32_t v, back;
		char text[12];

		if (oc_ad_attr_u32(p, len, &v) == OC_OK) {
			oc_ad_attr_i32_text(v, text);
			if (oc_ad_attr_u32((const uint8_t *)text, strlen(text), &back) != OC_OK || back != v)
				__builtin_trap();
		}
		break;
	}
	case 1: {
		int64_t s, back;
		uint8_t enc[8];

		if (oc_ad_attr_period(p, len, &s) == OC_OK) {
			if (s < 0)
				__builtin_trap();
			oc_ad_attr_period_encode(s, enc);
			if (oc_ad_attr_period(enc, 8, &back) != OC_OK || back != s)
				__builtin_trap();
		}
		break;
	}
	case 2: {
		uint16_t ku;

		if (oc_ad_attr_key_usage(p, len, &ku) == OC_OK && len > 2)
			__builtin_trap();
		break;
	}
	case 3: {
		struct oc_csp c = { 0 };

		if (oc_ad_attr_csp(p, len, &c) == OC_OK) {
			if (c.name == NULL || c.name[0] == '\0')
				__builtin_trap();
			free(c.name);
		}
		break;
	}
	case 4: {
		struct oc_ad_ra_app r = { 0 };

		(void)oc_ad_attr_ra_app_add(&r, p, len);
		/* a second value adds to the first */
		(void)oc_ad_attr_ra_app_add(&r, p, len);
		if (r.ra_app_policies.n > OC_LIST_MAX || r.ra_policies.n > OC_LIST_MAX)
			__builtin_trap();
		oc_ad_ra_app_clear(&r);
		break;
	}
	default: {
		struct oc_ces_uri *v = NULL;
		size_t n = 0;

		if (oc_ad_attr_ces_add(p, len, &v, &n) == OC_OK) {
			if (n == 0 || n > OC_LIST_MAX)
				__builtin_trap();
			for (size_t i = 0; i < n; i++)
				if (v[i].uri == NULL || v[i].uri[0] == '\0' || v[i].renewal_only > 1)
					__builtin_trap();
		} else if (n != 0 || v != NULL)
			__builtin_trap();
		oc_ad_ces_free(v, n);
		break;
	}
	}
	return 0;
}
