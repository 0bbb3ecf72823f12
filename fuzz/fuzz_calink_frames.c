/*
 * The listener's and the connector's frame reassembly (src/calink) on
 * arbitrary bytes, as they arrive from a TLS stream in pieces: byte 0 sets
 * the piece size; each piece is queued (bounded like a connection's input),
 * then every complete frame is taken. A frame must re-encode to the bytes it
 * was taken from; an announced length over OC_IPC_FRAME_MAX ends the stream.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "calink/calink.h"
#include "calink/calink_int.h"
#include "common/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cl_queue in, re;
	size_t piece, off = 1;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] + 1;
	cl_queue_init(&in, CL_HDR + OC_IPC_FRAME_MAX);
	cl_queue_init(&re, CL_HDR + OC_IPC_FRAME_MAX);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece;
		uint32_t type, tag;
		const uint8_t *p;
		size_t len;
		int r;

		if (cl_queue_put(&in, data + off, n) != OC_OK)
			break;
		off += n;
		while ((r = cl_frame_peek(&in, &type, &tag, &p, &len)) == 1) {
			(void)oc_calink_type_known(type);
			cl_queue_consume(&re, cl_queue_len(&re));
			if (cl_frame_put(&re, type, tag, p, len) != OC_OK ||
			    cl_queue_len(&re) != CL_HDR + len ||
			    memcmp(cl_queue_ptr(&re), cl_queue_ptr(&in), CL_HDR + len) != 0)
				abort();
			cl_queue_consume(&in, CL_HDR + len);
		}
		if (r < 0)
			break;                   /* oversized: the connection is dropped */
	}
	cl_queue_free(&in);
	cl_queue_free(&re);
	return 0;
}
