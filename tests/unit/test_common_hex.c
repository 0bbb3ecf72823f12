/* Hex helpers of src/common/util.c: every digit value, and encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"

int main(void);

static void
test_hexval(void **state)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		assert_int_equal(oc_hexval(digits[i]), i);
		if (i >= 10)
			assert_int_equal(oc_hexval(digits[i] - 'a' + 'A'), i);
	}
	for (int c = -1; c < 256; c++)
		if (strchr("0123456789abcdefABCDEF", c) == NULL || c == 0)
			assert_int_equal(oc_hexval(c), -1);
	(void)state;
}

static void
test_hex_encode(void **state)
{
	static const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(in) + 1];

	memset(out, 'x', sizeof(out));
	oc_hex_encode(in, sizeof(in), out);
	assert_string_equal(out, "00017f80abff");
	oc_hex_encode(in, 0, out);
	assert_string_equal(out, "");
	(void)state;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hexval),
		cmocka_unit_test(test_hex_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
