/*
 * oc_soap_parse on arbitrary bytes; whatever parses is walked with the
 * element helpers, and a fault echoing the parsed header values must render
 * and parse back (our own output is always well-formed SOAP 1.2).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "soap/soap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
walk(xmlNodePtr n, int depth)
{
	for (n = oc_xml_next_element(n); n != NULL; n = oc_xml_next_element(n->next)) {
		char *t = oc_xml_text(n);
		(void)oc_xml_is_nil(n);
		(void)oc_xml_is(n, OC_NS_XCEP, "client");
		free(t);
		if (depth < OC_XML_MAX_DEPTH)
			walk(n->children, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oc_soap_msg msg, back;
	struct ocbuf b;

	if (oc_soap_parse(data, size, &msg) != OC_OK)
		return 0;
	if (msg.body == NULL || msg.doc == NULL)
		abort();
	if (msg.username != NULL && strlen(msg.username) > OC_USERNAME_MAX)
		abort();
	if (msg.password != NULL && strlen(msg.password) > OC_PASSWORD_MAX)
		abort();
	if (msg.message_id != NULL && strlen(msg.message_id) > OC_SOAP_MAX_ID)
		abort();
	walk(msg.payload, 0);

	ocbuf_init(&b, 1 << 20);
	if (oc_soap_fault(&b, msg.action, msg.message_id, "s:Sender", "a:InvalidSecurity",
	    msg.to != NULL ? msg.to : "reason", NULL) != OC_OK)
		abort();
	if (oc_soap_parse(b.d, b.len, &back) != OC_OK)
		abort();
	oc_soap_msg_clear(&back);
	ocbuf_free(&b);
	oc_soap_msg_clear(&msg);
	return 0;
}
