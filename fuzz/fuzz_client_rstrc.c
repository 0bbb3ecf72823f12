/*
 * opences: client_rstrc_parse (what a CES answers: issued, pending or a
 * fault) on arbitrary bytes. An issued answer always holds exactly one DER
 * certificate; a pending one a reference; a fault a reason.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "client/client.h"
#include "common/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_rstrc r;
	const unsigned char *p;
	X509 *x;

	memset(&r, 0, sizeof(r));
	if (client_rstrc_parse(data, size, &r) != OC_OK) {
		if (r.kind != CLIENT_RSTRC_NONE || r.cert_der != NULL)
			abort();
		return 0;
	}
	switch (r.kind) {
	case CLIENT_RSTRC_ISSUED:
		if (r.cert_der == NULL || r.cert_len == 0 || r.cert_len > OC_CERT_DER_MAX)
			abort();
		p = r.cert_der;
		if ((x = d2i_X509(NULL, &p, (long)r.cert_len)) == NULL)
			abort();
		X509_free(x);
		break;
	case CLIENT_RSTRC_PENDING:
		if (r.reference_uri == NULL)
			abort();
		break;
	case CLIENT_RSTRC_FAULT:
		if (r.fault.reason == NULL)
			abort();
		break;
	default:
		abort();
	}
	if (r.request_id != NULL && strlen(r.request_id) > OC_SOAP_MAX_ID)
		abort();
	(void)client_is_soap_fault(data, size);
	client_rstrc_clear(&r);
	return 0;
}
