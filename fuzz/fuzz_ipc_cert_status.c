/*
 * The certificate-status message of the CA channel on arbitrary bytes: the
 * CA decodes the question (serial) from the front end, the front end decodes
 * the answer. Byte 0 picks which; the rest is the frame payload. A decoded
 * value must re-encode to the same bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "ipc/ca_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oc_ca_cert_status st;
	struct ocbuf in, out;
	char *serial = NULL;
	int r;

	if (size < 1)
		return 0;
	ocbuf_init(&in, OC_IPC_FRAME_MAX);
	ocbuf_init(&out, OC_IPC_FRAME_MAX);
	if (ocbuf_put(&in, data + 1, size - 1) != OC_OK)
		goto out;
	if (data[0] & 1) {
		r = oc_ca_cert_status_decode(&in, &st);
		if (r == OC_OK && (oc_ca_cert_status_encode(&st, &out) != OC_OK ||
		    ocbuf_avail(&out) != size - 1 || memcmp(ocbuf_ptr(&out), data + 1, size - 1) != 0))
			abort();
	} else {
		r = oc_ca_status_query_decode(&in, &serial);
		if (r == OC_OK && (oc_ca_status_query_encode(serial, &out) != OC_OK ||
		    ocbuf_avail(&out) != size - 1 || memcmp(ocbuf_ptr(&out), data + 1, size - 1) != 0))
			abort();
		free(serial);
	}
out:
	ocbuf_free(&in);
	ocbuf_free(&out);
	return 0;
}
