/*
 * Backend-neutral parts of the store: CRL reason names, serial
 * normalisation, RequestID draws, clearing rows, the unfiltered listings.
 */
#include "store/store.h"
#include "store/store_backend.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "common/limits.h"

static const char *const reason_names[] = {
	[OC_CRL_UNSPECIFIED] = "unspecified",
	[OC_CRL_KEY_COMPROMISE] = "keyCompromise",
	[OC_CRL_CA_COMPROMISE] = "cACompromise",
	[OC_CRL_AFFILIATION_CHANGED] = "affiliationChanged",
	[OC_CRL_SUPERSEDED] = "superseded",
	[OC_CRL_CESSATION_OF_OPERATION] = "cessationOfOperation",
	[OC_CRL_CERTIFICATE_HOLD] = "certificateHold",
	[OC_CRL_REMOVE_FROM_CRL] = "removeFromCRL",
	[OC_CRL_PRIVILEGE_WITHDRAWN] = "privilegeWithdrawn",
	[OC_CRL_AA_COMPROMISE] = "aACompromise",
};

#define NREASONS ((int)(sizeof(reason_names) / sizeof(reason_names[0])))

int
store_reason_revocable(int reason)
{
	return reason >= 0 && reason < NREASONS && reason_names[reason] != NULL &&
	    reason != OC_CRL_REMOVE_FROM_CRL;
}

const char *
oc_crl_reason_name(int reason)
{
	if (reason < 0 || reason >= NREASONS || reason_names[reason] == NULL)
		return "unknown";
	return reason_names[reason];
}

int
oc_crl_reason_parse(const char *s, int *reason)
{
	char *end = NULL;
	long v;

	*reason = -1;
	if (s == NULL || *s == '\0')
		return OC_ERR_INVALID;
	if (isdigit((unsigned char)s[0])) {
		v = strtol(s, &end, 10);
		if (*end != '\0' || v > 100 || !store_reason_revocable((int)v))
			return OC_ERR_INVALID;
		*reason = (int)v;
		return OC_OK;
	}
	for (int i = 0; i < NREASONS; i++)
		if (store_reason_revocable(i) && strcasecmp(s, reason_names[i]) == 0) {
			*reason = i;
			return OC_OK;
		}
	return OC_ERR_INVALID;
}

int
oc_store_serial_normalize(const char *in, char **out)
{
	char digits[OC_SERIAL_HEX_MAX + 2];
	size_t n = 0;

	*out = NULL;
	if (in == NULL)
		return OC_ERR_INVALID;
	for (const char *p = in; *p != '\0'; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == ':')
			continue;
		if (!isxdigit(ch) || n >= OC_SERIAL_HEX_MAX)
			return OC_ERR_INVALID;
		digits[n++] = (char)tolower(ch);
	}
	if (n == 0)
		return OC_ERR_INVALID;
	if ((*out = malloc(n + 2)) == NULL)
		return OC_ERR_NOMEM;
	/* two digits per byte: "abc" is the serial 0x0abc */
	snprintf(*out, n + 2, "%s%.*s", n % 2 ? "0" : "", (int)n, digits);
	return OC_OK;
}

int
store_draw_request_id(uint32_t *id)
{
	uint8_t b[4];

	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return OC_ERR_CRYPTO;
		*id = ((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]) &
		    0x7fffffffu;
	} while (*id == 0);
	return OC_OK;
}

void
oc_store_request_clear(struct oc_store_request *r)
{
	if (r == NULL)
		return;
	free(r->requester);
	free(r->template_name);
	free(r->disposition);
	free(r->request_der);
	free(r->serial_hex);
	free(r->actor);
	memset(r, 0, sizeof(*r));
}

void
oc_store_cert_clear(struct oc_store_cert *c)
{
	if (c == NULL)
		return;
	free(c->serial_hex);
	free(c->requester);
	free(c->template_name);
	free(c->subject);
	free(c->der);
	memset(c, 0, sizeof(*c));
}

/* The unfiltered listings are the filtered ones with no filter (same order). */
int
oc_store_request_list(struct oc_store *s, size_t limit, oc_store_request_cb cb, void *arg)
{
	return oc_store_request_find(s, NULL, limit, cb, arg);
}

int
oc_store_cert_list(struct oc_store *s, size_t limit, oc_store_cert_cb cb, void *arg)
{
	return oc_store_cert_find(s, NULL, limit, cb, arg);
}
