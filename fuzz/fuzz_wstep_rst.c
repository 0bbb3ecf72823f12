/*
 * libFuzzer: untrusted envelope bytes -> oc_soap_parse -> oc_wstep_parse_request.
 * Seeds: the envelopes in tests/vectors/wstep/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "common/log.h"
#include "soap/soap.h"
#include "wstep/wstep.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	xmlInitParser();
	xmlSetGenericErrorFunc(NULL, quiet);
	oc_log_init("fuzz_wstep_rst", OC_LOG_ERROR);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oc_soap_msg msg;
	struct oc_wstep_request req;

	memset(&msg, 0, sizeof(msg));
	if (oc_soap_parse(data, size, &msg) != OC_OK) {
		oc_soap_msg_clear(&msg);
		return 0;
	}
	if (oc_wstep_parse_request(&msg, &req) == OC_OK) {
		/* Touch what the front end reads. */
		if (req.type == OC_WSTEP_ISSUE && (req.token == NULL || req.token_len == 0))
			abort();
		if (req.type == OC_WSTEP_QUERY && !req.has_request_id)
			abort();
		if (req.context != NULL && strlen(req.context) > OC_WSTEP_CONTEXT_MAX)
			abort();
	}
	oc_wstep_request_clear(&req);
	oc_soap_msg_clear(&msg);
	return 0;
}
