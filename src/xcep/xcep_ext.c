/*
 * attributes/extensions: the DER values of the extensions a certificate
 * issued from a template carries (xcep.md 4.2, templates.md 10). The
 * Microsoft extensions come from pkix (the CA writes the same bytes); EKU and
 * key usage are built here with OpenSSL's encoders.
 */
#include "xcep/xcep_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "common/limits.h"
#include "common/log.h"
#include "pkix/pkix.h"

/* Copy an OpenSSL i2d result into a malloc'd buffer. */
static int
xcep_der_take(unsigned char *p, int n, uint8_t **der, size_t *len)
{
	if (n <= 0 || p == NULL)
		return OC_ERR_CRYPTO;
	if ((*der = malloc((size_t)n)) == NULL) {
		OPENSSL_free(p);
		return OC_ERR_NOMEM;
	}
	memcpy(*der, p, (size_t)n);
	*len = (size_t)n;
	OPENSSL_free(p);
	return OC_OK;
}

static ASN1_OBJECT *
xcep_obj(const char *oid)
{
	if (!xcep_oid_valid(oid))
		return NULL;
	return OBJ_txt2obj(oid, 1);
}

static int
xcep_obj_stack(const struct oc_strlist *oids, STACK_OF(ASN1_OBJECT) **skp)
{
	STACK_OF(ASN1_OBJECT) *sk = NULL;
	ASN1_OBJECT *obj = NULL;

	if ((sk = sk_ASN1_OBJECT_new_null()) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < oids->n; i++) {
		if ((obj = xcep_obj(oids->v[i])) == NULL) {
			sk_ASN1_OBJECT_pop_free(sk, ASN1_OBJECT_free);
			return OC_ERR_INVALID;
		}
		if (!sk_ASN1_OBJECT_push(sk, obj)) {
			ASN1_OBJECT_free(obj);
			sk_ASN1_OBJECT_pop_free(sk, ASN1_OBJECT_free);
			return OC_ERR_NOMEM;
		}
	}
	*skp = sk;
	return OC_OK;
}

/* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
int
xcep_der_eku(const struct oc_strlist *oids, uint8_t **der, size_t *len)
{
	STACK_OF(ASN1_OBJECT) *sk = NULL;
	unsigned char *p = NULL;
	int n, r;

	*der = NULL;
	*len = 0;
	if (oids->n == 0)
		return OC_ERR_INVALID;
	if ((r = xcep_obj_stack(oids, &sk)) != OC_OK)
		return r;
	n = i2d_EXTENDED_KEY_USAGE(sk, &p);
	sk_ASN1_OBJECT_pop_free(sk, ASN1_OBJECT_free);
	return xcep_der_take(p, n, der, len);
}

/* KeyUsage BIT STRING from pKIKeyUsage bytes (a0 00 -> 03 02 05 a0). */
int
xcep_der_key_usage(uint16_t ku, uint8_t **der, size_t *len)
{
	ASN1_BIT_STRING *bs = NULL;
	unsigned char bytes[2] = { (unsigned char)(ku >> 8), (unsigned char)ku };
	unsigned char *p = NULL;
	int n, r = OC_ERR_CRYPTO;

	*der = NULL;
	*len = 0;
	if ((bs = ASN1_BIT_STRING_new()) == NULL)
		return OC_ERR_NOMEM;
	/* No BITS_LEFT flag: the encoder drops trailing zero bits (DER). */
	if (!ASN1_STRING_set(bs, bytes, bytes[1] != 0 ? 2 : 1))
		goto out;
	bs->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	if ((n = i2d_ASN1_BIT_STRING(bs, &p)) <= 0)
		goto out;
	r = xcep_der_take(p, n, der, len);
out:
	ASN1_BIT_STRING_free(bs);
	return r;
}

void
xcep_exts_clear(struct xcep_ext *exts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(exts[i].value_b64);
		exts[i].value_b64 = NULL;
	}
}

static int
xcep_ext_push(struct xcep_ext *exts, size_t *n, const struct oc_template *t,
    const char *oid, uint8_t *der, size_t len)
{
	char *b64 = NULL;
	int r;

	r = oc_b64_encode(der, len, &b64);
	free(der);
	if (r != OC_OK)
		return r;
	exts[*n].oid = oid;
	exts[*n].critical = oc_strlist_contains(&t->critical_exts, oid);
	exts[*n].value_b64 = b64;
	(*n)++;
	return OC_OK;
}

int
xcep_template_exts(const struct oc_template *t, struct xcep_ext exts[XCEP_MAX_EXTS],
    size_t *n)
{
	uint8_t *der = NULL;
	size_t len = 0;
	const char *toid;
	int r;

	*n = 0;
	if (t->schema_version >= 2) {
		toid = OC_OID_TEMPLATE_V2;
		r = pkix_template_v2_encode(t->oid, t->revision, t->minor_revision, &der, &len);
	} else {
		toid = OC_OID_TEMPLATE_V1;
		r = pkix_template_v1_encode(t->cn, &der, &len);
	}
	if (r != OC_OK || (r = xcep_ext_push(exts, n, t, toid, der, len)) != OC_OK)
		goto fail;
	if (t->eku.n > 0 &&
	    ((r = xcep_der_eku(&t->eku, &der, &len)) != OC_OK ||
	    (r = xcep_ext_push(exts, n, t, XCEP_OID_EKU, der, len)) != OC_OK))
		goto fail;
	if (t->has_key_usage &&
	    ((r = xcep_der_key_usage(t->key_usage, &der, &len)) != OC_OK ||
	    (r = xcep_ext_push(exts, n, t, XCEP_OID_KEY_USAGE, der, len)) != OC_OK))
		goto fail;
	if (t->schema_version >= 2 && t->app_policies.n > 0 &&
	    ((r = pkix_app_policies_encode(&t->app_policies, &der, &len)) != OC_OK ||
	    (r = xcep_ext_push(exts, n, t, OC_OID_APP_POLICIES, der, len)) != OC_OK))
		goto fail;
	return OC_OK;
fail:
	error_fr(r, "template %s: extension values", t->cn != NULL ? t->cn : "?");
	xcep_exts_clear(exts, *n);
	*n = 0;
	return r;
}
