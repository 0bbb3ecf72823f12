/* libFuzzer: pkix_request_parse / pkix_detect_request on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "pkix/pkix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oc_req_info ri;
	enum oc_req_format fmt;

	if (pkix_detect_request(data, size, &fmt) == OC_OK &&
	    (fmt < OC_REQ_PKCS10 || fmt > OC_REQ_CMC))
		__builtin_trap();
	if (pkix_request_parse(data, size, &ri) == OC_OK) {
		if (ri.csr == NULL || ri.subject == NULL || ri.format != fmt)
			__builtin_trap();
		oc_req_info_clear(&ri);
	} else if (ri.csr != NULL || ri.subject != NULL)
		__builtin_trap();               /* no half-built result */
	return 0;
}
