/*
 * Microsoft certificate extension values (templates.md 10.1 - 10.4): template
 * OID (21.7), template name (20.2), application policies (21.10), SID (25.2).
 */
#include "pkix/pkix.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/limits.h"
#include "pkix/pkix_asn1.h"

#define OC_SID_MAX 184          /* "S-1-" + 15 sub-authorities of 10 digits */

int
pkix_template_v2_encode(const char *oid, uint32_t major, uint32_t minor,
    uint8_t **der, size_t *len)
{
	OC_TEMPLATE_V2 *t = NULL;
	int r;

	*der = NULL;
	*len = 0;
	if ((t = OC_TEMPLATE_V2_new()) == NULL)
		return OC_ERR_NOMEM;
	ASN1_OBJECT_free(t->template_id);
	t->template_id = NULL;
	if ((r = pkix_obj_from_text(oid, &t->template_id)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if ((t->major = ASN1_INTEGER_new()) == NULL ||
	    (t->minor = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_uint64(t->major, major) ||
	    !ASN1_INTEGER_set_uint64(t->minor, minor))
		goto out;
	r = pkix_i2d(ASN1_ITEM_rptr(OC_TEMPLATE_V2), t, der, len);
out:
	OC_TEMPLATE_V2_free(t);
	return r;
}

int
pkix_template_v2_decode(const uint8_t *der, size_t len, char **oid,
    uint32_t *major, uint32_t *minor)
{
	OC_TEMPLATE_V2 *t = NULL;
	char *txt = NULL;
	uint32_t ma = 0, mi = 0;
	int r;

	*oid = NULL;
	*major = *minor = 0;
	if (len > OC_CERT_DER_MAX)
		return OC_ERR_LIMIT;
	if ((r = pkix_d2i(ASN1_ITEM_rptr(OC_TEMPLATE_V2), der, len,
	    (void **)&t)) != OC_OK)
		goto out;
	if ((r = pkix_int_to_u32(t->major, &ma)) != OC_OK ||
	    (r = pkix_int_to_u32(t->minor, &mi)) != OC_OK ||
	    (r = pkix_obj_to_text(t->template_id, &txt)) != OC_OK)
		goto out;
	*oid = txt;
	txt = NULL;
	*major = ma;
	*minor = mi;
out:
	free(txt);
	OC_TEMPLATE_V2_free(t);
	return r;
}

int
pkix_template_v1_encode(const char *name, uint8_t **der, size_t *len)
{
	ASN1_STRING *s = NULL;
	size_t n;
	int r = OC_ERR_INVALID;

	*der = NULL;
	*len = 0;
	if (name == NULL)
		return OC_ERR_INVALID;
	n = strnlen(name, OC_TEMPLATE_NAME_MAX + 1);
	if (n == 0)
		return OC_ERR_INVALID;
	if (n > OC_TEMPLATE_NAME_MAX)
		return OC_ERR_LIMIT;
	/* UTF-8 to BMPString; fails on invalid UTF-8 or characters beyond the BMP */
	if (ASN1_mbstring_copy(&s, (const unsigned char *)name, (int)n,
	    MBSTRING_UTF8, B_ASN1_BMPSTRING) <= 0) {
		ERR_clear_error();
		goto out;
	}
	r = pkix_i2d(ASN1_ITEM_rptr(ASN1_BMPSTRING), s, der, len);
out:
	ASN1_STRING_free(s);
	return r;
}

int
pkix_template_v1_decode(const uint8_t *der, size_t len, char **name)
{
	ASN1_TYPE *any = NULL;
	OC_TEMPLATE_V1_SEQ *seq = NULL;
	const ASN1_TYPE *t;
	char *txt = NULL;
	int r;

	*name = NULL;
	if (len > OC_CERT_DER_MAX)
		return OC_ERR_LIMIT;
	if (len > 0 && der[0] == (V_ASN1_SEQUENCE | V_ASN1_CONSTRUCTED)) {
		if ((r = pkix_d2i(ASN1_ITEM_rptr(OC_TEMPLATE_V1_SEQ), der, len,
		    (void **)&seq)) != OC_OK)
			goto out;
		t = seq->name;
	} else {
		if ((r = pkix_d2i(ASN1_ITEM_rptr(ASN1_ANY), der, len,
		    (void **)&any)) != OC_OK)
			goto out;
		t = any;
	}
	/* BMPString (what Windows writes) or UTF8String (MS-WCCE text) */
	if (t->type != V_ASN1_BMPSTRING && t->type != V_ASN1_UTF8STRING) {
		r = OC_ERR_PARSE;
		goto out;
	}
	if ((r = pkix_string_to_utf8(t->value.asn1_string, OC_TEMPLATE_NAME_MAX,
	    &txt)) != OC_OK)
		goto out;
	if (*txt == '\0') {
		r = OC_ERR_PARSE;
		goto out;
	}
	*name = txt;
	txt = NULL;
out:
	free(txt);
	ASN1_TYPE_free(any);
	OC_TEMPLATE_V1_SEQ_free(seq);
	return r;
}

int
pkix_app_policies_encode(const struct oc_strlist *oids, uint8_t **der, size_t *len)
{
	CERTIFICATEPOLICIES *cp = NULL;
	POLICYINFO *pi = NULL;
	int r = OC_ERR_NOMEM;

	*der = NULL;
	*len = 0;
	if (oids == NULL || oids->n == 0)
		return OC_ERR_INVALID;
	if (oids->n > OC_LIST_MAX)
		return OC_ERR_LIMIT;
	if ((cp = sk_POLICYINFO_new_null()) == NULL)
		goto out;
	for (size_t i = 0; i < oids->n; i++) {
		if ((pi = POLICYINFO_new()) == NULL)
			goto out;
		ASN1_OBJECT_free(pi->policyid);
		pi->policyid = NULL;
		if ((r = pkix_obj_from_text(oids->v[i], &pi->policyid)) != OC_OK)
			goto out;
		r = OC_ERR_NOMEM;
		if (!sk_POLICYINFO_push(cp, pi))
			goto out;
		pi = NULL;
	}
	r = pkix_i2d(ASN1_ITEM_rptr(CERTIFICATEPOLICIES), cp, der, len);
out:
	POLICYINFO_free(pi);
	CERTIFICATEPOLICIES_free(cp);
	return r;
}

/* "S-1-<authority>(-<subauthority>)*", decimal numbers. */
static int
sid_valid(const char *sid, size_t n)
{
	size_t i, digits = 0, parts = 0;

	if (n < 5 || strncmp(sid, "S-1-", 4) != 0)
		return 0;
	for (i = 4; i <= n; i++) {
		if (i == n || sid[i] == '-') {
			if (digits == 0 || digits > 15)
				return 0;
			parts++;
			digits = 0;
		} else if (sid[i] >= '0' && sid[i] <= '9')
			digits++;
		else
			return 0;
	}
	return parts >= 1 && parts <= 16;
}

int
pkix_sid_ext_encode(const char *sid, uint8_t **der, size_t *len)
{
	GENERAL_NAMES *gns = NULL;
	GENERAL_NAME *gn = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_TYPE *val = NULL;
	ASN1_OCTET_STRING *os = NULL;
	size_t n;
	int r = OC_ERR_INVALID;

	*der = NULL;
	*len = 0;
	if (sid == NULL)
		return OC_ERR_INVALID;
	n = strnlen(sid, OC_SID_MAX + 1);
	if (n > OC_SID_MAX)
		return OC_ERR_LIMIT;
	if (!sid_valid(sid, n))
		return OC_ERR_INVALID;
	if ((r = pkix_obj_from_text(OC_OID_SID_OTHERNAME, &oid)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, (const unsigned char *)sid, (int)n) ||
	    (val = ASN1_TYPE_new()) == NULL)
		goto out;
	ASN1_TYPE_set(val, V_ASN1_OCTET_STRING, os);
	os = NULL;
	if ((gn = GENERAL_NAME_new()) == NULL ||
	    !GENERAL_NAME_set0_othername(gn, oid, val))
		goto out;
	oid = NULL;
	val = NULL;
	if ((gns = GENERAL_NAMES_new()) == NULL || !sk_GENERAL_NAME_push(gns, gn))
		goto out;
	gn = NULL;
	r = pkix_i2d(ASN1_ITEM_rptr(GENERAL_NAMES), gns, der, len);
out:
	ASN1_OCTET_STRING_free(os);
	ASN1_TYPE_free(val);
	ASN1_OBJECT_free(oid);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gns);
	return r;
}
