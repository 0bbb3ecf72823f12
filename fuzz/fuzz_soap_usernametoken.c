/*
 * The WS-Security header: the input becomes the content of
 * wsse:Security/wsse:UsernameToken inside a fixed SOAP 1.2 envelope, so the
 * fuzzer spends its time on Username / Password / Type / Nonce handling.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "soap/soap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char head[] =
    "<s:Envelope xmlns:s=\"" OC_NS_SOAP12 "\" xmlns:a=\"" OC_NS_WSA "\" xmlns:o=\""
    OC_NS_WSSE "\" xmlns:u=\"" OC_NS_WSU "\"><s:Header><a:Action s:mustUnderstand=\"1\">"
    "urn:x</a:Action><o:Security s:mustUnderstand=\"1\"><o:UsernameToken>";
static const char tail[] =
    "</o:UsernameToken></o:Security></s:Header><s:Body/></s:Envelope>";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oc_soap_msg msg;
	uint8_t *doc;
	size_t n;

	if (size > 64 * 1024)
		return 0;
	n = sizeof(head) - 1 + size + sizeof(tail) - 1;
	if ((doc = malloc(n)) == NULL)
		return 0;
	memcpy(doc, head, sizeof(head) - 1);
	memcpy(doc + sizeof(head) - 1, data, size);
	memcpy(doc + sizeof(head) - 1 + size, tail, sizeof(tail) - 1);
	if (oc_soap_parse(doc, n, &msg) == OC_OK) {
		if (!msg.has_username_token || msg.username == NULL ||
		    msg.username[0] == '\0' || strlen(msg.username) > OC_USERNAME_MAX)
			abort();
		if (msg.password != NULL && strlen(msg.password) > OC_PASSWORD_MAX)
			abort();
		if (msg.password_digest != 0 && msg.password_digest != 1)
			abort();
		oc_soap_msg_clear(&msg);
	}
	free(doc);
	return 0;
}
