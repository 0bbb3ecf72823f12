/*
 * libFuzzer: the template extension decoders (templates.md 10.1, 10.2). The
 * first byte picks the decoder; a decoded value must re-encode and decode
 * to the same result.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkix/pkix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
v2(const uint8_t *p, size_t n)
{
	char *oid = NULL, *oid2 = NULL;
	uint32_t ma, mi, ma2, mi2;
	uint8_t *der = NULL;
	size_t len;

	if (pkix_template_v2_decode(p, n, &oid, &ma, &mi) != OC_OK)
		return;
	if (pkix_template_v2_encode(oid, ma, mi, &der, &len) != OC_OK ||
	    pkix_template_v2_decode(der, len, &oid2, &ma2, &mi2) != OC_OK ||
	    strcmp(oid, oid2) != 0 || ma != ma2 || mi != mi2)
		__builtin_trap();
	free(oid);
	free(oid2);
	free(der);
}

static void
v1(const uint8_t *p, size_t n)
{
	char *name = NULL, *name2 = NULL;
	uint8_t *der = NULL;
	size_t len;
	int r;

	if (pkix_template_v1_decode(p, n, &name) != OC_OK)
		return;
	/* UTF8String names outside the BMP cannot be written as BMPString */
	r = pkix_template_v1_encode(name, &der, &len);
	if (r == OC_OK && (pkix_template_v1_decode(der, len, &name2) != OC_OK ||
	    strcmp(name, name2) != 0))
		__builtin_trap();
	free(name);
	free(name2);
	free(der);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		v1(data + 1, size - 1);
	else
		v2(data + 1, size - 1);
	return 0;
}
