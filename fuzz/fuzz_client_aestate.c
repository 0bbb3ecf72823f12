/*
 * opences autoenroll: client_ae_state_parse (the store's state.json) on
 * arbitrary bytes. What parses names only plain files of the store, and
 * formats back to a text that parses to the same text again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/autoenroll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_ae_state st, back;
	struct ocbuf b, b2;

	if (client_ae_state_parse(data, size, &st) != OC_OK) {
		if (st.n != 0 || st.v != NULL)
			abort();
		return 0;
	}
	for (size_t i = 0; i < st.n; i++) {
		if (st.v[i].template_name == NULL ||
		    (st.v[i].key_file && !client_ae_file_name_ok(st.v[i].key_file)) ||
		    (st.v[i].cert_file && !client_ae_file_name_ok(st.v[i].cert_file)))
			abort();
	}
	ocbuf_init(&b, CLIENT_AE_STATE_MAX * 4);
	ocbuf_init(&b2, CLIENT_AE_STATE_MAX * 4);
	if (client_ae_state_format(&st, &b) != OC_OK)
		abort();
	/* the writer's own output may exceed the reader's cap only when the input was near it */
	if (ocbuf_avail(&b) <= CLIENT_AE_STATE_MAX) {
		if (client_ae_state_parse(ocbuf_ptr(&b), ocbuf_avail(&b), &back) != OC_OK ||
		    back.n != st.n || client_ae_state_format(&back, &b2) != OC_OK ||
		    ocbuf_avail(&b) != ocbuf_avail(&b2) ||
		    memcmp(ocbuf_ptr(&b), ocbuf_ptr(&b2), ocbuf_avail(&b)) != 0)
			abort();
		client_ae_state_clear(&back);
	}
	ocbuf_free(&b);
	ocbuf_free(&b2);
	client_ae_state_clear(&st);
	return 0;
}
