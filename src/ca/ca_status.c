/*
 * Certificate status from the CA's records (OC_CA_MSG_CERT_STATUS): the
 * front end asks before it lets a client certificate of this CA
 * authenticate. Read-only; no audit here (the front audits the login).
 */
#include "ca/ca_local.h"

#include <string.h>

#include "common/log.h"

int
oc_ca_process_cert_status(struct oc_ca *ca, const char *serial_hex,
    struct oc_ca_cert_status *st)
{
	int r, revoked = 0, reason = 0;
	time_t at = 0;

	memset(st, 0, sizeof(*st));
	st->status = OC_CERT_STATUS_ERROR;
	if (ca == NULL || serial_hex == NULL)
		return OC_ERR_INVALID;
	r = oc_store_cert_status(ca->store, serial_hex, &revoked, &reason, &at);
	if (r == OC_ERR_NOT_FOUND) {
		st->status = OC_CERT_STATUS_UNKNOWN;
		return OC_OK;
	}
	if (r != OC_OK)
		return r;
	if (!revoked) {
		st->status = OC_CERT_STATUS_GOOD;
		return OC_OK;
	}
	st->status = OC_CERT_STATUS_REVOKED;
	st->reason = reason >= 0 && reason <= 10 ? (uint32_t)reason : 0;
	st->revoked_at = at > 0 ? (int64_t)at : 0;
	return OC_OK;
}
