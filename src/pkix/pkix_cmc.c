/*
 * CMC full PKI response as Windows builds it (wstep.md 7.1): ContentInfo
 * signedData v3, eContentType id-cct-PKIResponse, signed by the CA with
 * signed attributes contentType and messageDigest only.
 */
#include "pkix/pkix.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>

#include "common/limits.h"
#include "common/log.h"
#include "pkix/pkix_asn1.h"

/* TaggedAttribute { bodyPartID, attrType, { DER of it/val } } appended to sk. */
static int
add_control(STACK_OF(OC_CMC_TAGGED_ATTR) *sk, uint32_t bpid, const char *oid,
    const ASN1_ITEM *it, void *val)
{
	OC_CMC_TAGGED_ATTR *ta = NULL;
	ASN1_TYPE *t = NULL;
	int r;

	if ((ta = OC_CMC_TAGGED_ATTR_new()) == NULL)
		return OC_ERR_NOMEM;
	ASN1_OBJECT_free(ta->attr_type);
	ta->attr_type = NULL;
	if ((r = pkix_obj_from_text(oid, &ta->attr_type)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if (!ASN1_INTEGER_set_uint64(ta->body_part_id, bpid))
		goto out;
	if ((t = ASN1_TYPE_pack_sequence(it, val, NULL)) == NULL)
		goto out;
	if (!sk_ASN1_TYPE_push(ta->attr_values, t))
		goto out;
	t = NULL;
	if (!sk_OC_CMC_TAGGED_ATTR_push(sk, ta))
		goto out;
	ta = NULL;
	r = OC_OK;
out:
	ASN1_TYPE_free(t);
	OC_CMC_TAGGED_ATTR_free(ta);
	return r;
}

static int
push_u32(STACK_OF(ASN1_INTEGER) *sk, uint32_t v)
{
	ASN1_INTEGER *ai;

	if ((ai = ASN1_INTEGER_new()) == NULL)
		return OC_ERR_NOMEM;
	if (!ASN1_INTEGER_set_uint64(ai, v) || !sk_ASN1_INTEGER_push(sk, ai)) {
		ASN1_INTEGER_free(ai);
		return OC_ERR_NOMEM;
	}
	return OC_OK;
}

static int
status_control(OC_CMC_PKIRESPONSE *resp, int cmc_status, uint32_t bpid,
    const char *status_string)
{
	OC_CMC_STATUS_INFO *si = NULL;
	int r = OC_ERR_NOMEM;

	if ((si = OC_CMC_STATUS_INFO_new()) == NULL)
		goto out;
	if (!ASN1_INTEGER_set(si->status, cmc_status))
		goto out;
	if ((r = push_u32(si->body_list, bpid)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if (status_string != NULL) {
		if ((si->status_string = ASN1_UTF8STRING_new()) == NULL ||
		    !ASN1_STRING_set(si->status_string, status_string, -1))
			goto out;
	}
	r = add_control(resp->controls, 1, OC_OID_CMC_STATUSINFO,
	    ASN1_ITEM_rptr(OC_CMC_STATUS_INFO), si);
out:
	OC_CMC_STATUS_INFO_free(si);
	return r;
}

/* { dataReference 0, certReferences { bpid }, { issuedCertHash SHA-1 } } */
static int
hash_control(OC_CMC_PKIRESPONSE *resp, X509 *issued, uint32_t bpid)
{
	OC_CMC_ADD_ATTRS *aa = NULL;
	X509_ATTRIBUTE *attr = NULL;
	uint8_t *der = NULL, h[20];
	size_t len;
	int r;

	if ((r = pkix_i2d(ASN1_ITEM_rptr(X509), issued, &der, &len)) != OC_OK ||
	    (r = pkix_sha1(der, len, h)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if ((aa = OC_CMC_ADD_ATTRS_new()) == NULL ||
	    !ASN1_INTEGER_set(aa->data_reference, 0))
		goto out;
	if ((r = push_u32(aa->cert_references, bpid)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if (X509_ATTRIBUTE_create_by_txt(&attr, OC_OID_ISSUED_CERT_HASH,
	    V_ASN1_OCTET_STRING, h, (int)sizeof(h)) == NULL)
		goto out;
	r = OC_ERR_NOMEM;
	if (!sk_X509_ATTRIBUTE_push(aa->attributes, attr))
		goto out;
	attr = NULL;
	r = add_control(resp->controls, 2, OC_OID_CMC_ADD_ATTRIBUTES,
	    ASN1_ITEM_rptr(OC_CMC_ADD_ATTRS), aa);
out:
	free(der);
	X509_ATTRIBUTE_free(attr);
	OC_CMC_ADD_ATTRS_free(aa);
	return r;
}

/* Add x to the SignedData certificates unless an equal one is there. */
static int
add_cert_once(CMS_ContentInfo *cms, X509 *x)
{
	STACK_OF(X509) *have = NULL;
	int i, dup = 0, r = OC_OK;

	have = CMS_get1_certs(cms);
	for (i = 0; i < sk_X509_num(have) && !dup; i++)
		dup = X509_cmp(sk_X509_value(have, i), x) == 0;
	if (!dup && !CMS_add1_cert(cms, x))
		r = OC_ERR_CRYPTO;
	sk_X509_pop_free(have, X509_free);
	return r;
}

/*
 * Sign once, without OpenSSL's CMS_final: OpenSSL 3.0 always adds
 * signingTime when it signs, and these responses carry contentType and
 * messageDigest only (wstep.md 7.1). So embed the content, add the two
 * signed attributes, and sign their DER (SET OF, as the SignerInfo encodes
 * them) with the CA key, once.
 */
static int
sign_content(CMS_ContentInfo *cms, CMS_SignerInfo *si, EVP_PKEY *key,
    const ASN1_OBJECT *ctype, const uint8_t *content, size_t clen)
{
	STACK_OF(X509_ATTRIBUTE) *attrs = NULL;
	ASN1_OCTET_STRING **pos;
	BIO *chain;
	EVP_MD_CTX *ctx = NULL;
	unsigned char md[EVP_MAX_MD_SIZE], *abuf = NULL, *sig = NULL;
	unsigned int mdlen = 0;
	size_t siglen = 0;
	int alen, i, r = OC_ERR_CRYPTO;

	/* CMS_dataInit sets the SignedData version (3: eContentType is not id-data) */
	if (clen > INT32_MAX || (chain = CMS_dataInit(cms, NULL)) == NULL)
		goto out;
	BIO_free_all(chain);
	if ((pos = CMS_get0_content(cms)) == NULL)
		goto out;
	if (*pos == NULL && (*pos = ASN1_OCTET_STRING_new()) == NULL)
		goto out;
	if (!ASN1_OCTET_STRING_set(*pos, content, (int)clen))
		goto out;
	(*pos)->flags &= ~ASN1_STRING_FLAG_CONT;
	if (EVP_Digest(content, clen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_contentType, V_ASN1_OBJECT, ctype, -1) ||
	    !CMS_signed_add1_attr_by_NID(si, NID_pkcs9_messageDigest, V_ASN1_OCTET_STRING,
	    md, (int)mdlen))
		goto out;
	if ((attrs = sk_X509_ATTRIBUTE_new_null()) == NULL)
		goto out;
	for (i = 0; i < CMS_signed_get_attr_count(si); i++)
		if (!sk_X509_ATTRIBUTE_push(attrs, CMS_signed_get_attr(si, i)))
			goto out;
	if ((alen = ASN1_item_i2d((ASN1_VALUE *)attrs, &abuf,
	    ASN1_ITEM_rptr(OC_SIGNED_ATTRS))) <= 0)
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, abuf, (size_t)alen) != 1 ||
	    (sig = OPENSSL_malloc(siglen)) == NULL ||
	    EVP_DigestSign(ctx, sig, &siglen, abuf, (size_t)alen) != 1)
		goto out;
	if (!ASN1_STRING_set(CMS_SignerInfo_get0_signature(si), sig, (int)siglen))
		goto out;
	r = OC_OK;
out:
	sk_X509_ATTRIBUTE_free(attrs);      /* borrowed elements */
	OPENSSL_free(abuf);
	OPENSSL_free(sig);
	EVP_MD_CTX_free(ctx);
	return r;
}

int
pkix_cmc_response(X509 *ca_cert, EVP_PKEY *ca_key, X509 *issued,
    STACK_OF(X509) *chain, int cmc_status, uint32_t body_part_id,
    const char *status_string, uint8_t **der, size_t *len)
{
	OC_CMC_PKIRESPONSE *resp = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_OBJECT *ctype = NULL;
	uint8_t *content = NULL;
	size_t clen;
	int i, r = OC_ERR_INVALID;

	*der = NULL;
	*len = 0;
	if (ca_cert == NULL || ca_key == NULL || cmc_status < 0 ||
	    cmc_status > 7 || cmc_status == 1)
		goto out;
	if (status_string != NULL &&
	    strnlen(status_string, OC_DISPOSITION_MAX + 1) > OC_DISPOSITION_MAX) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if (!X509_check_private_key(ca_cert, ca_key)) {
		ERR_clear_error();
		goto out;
	}
	r = OC_ERR_NOMEM;
	if ((resp = OC_CMC_PKIRESPONSE_new()) == NULL)
		goto out;
	if ((r = status_control(resp, cmc_status, body_part_id, status_string)) != OC_OK)
		goto out;
	if (issued != NULL && (r = hash_control(resp, issued, body_part_id)) != OC_OK)
		goto out;
	if ((r = pkix_i2d(ASN1_ITEM_rptr(OC_CMC_PKIRESPONSE), resp, &content,
	    &clen)) != OC_OK)
		goto out;

	r = OC_ERR_CRYPTO;
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL, CMS_PARTIAL | CMS_BINARY)) == NULL)
		goto out;
	if ((r = pkix_obj_from_text(OC_OID_CCT_PKIRESPONSE, &ctype)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if (!CMS_set1_eContentType(cms, ctype))
		goto out;
	if (issued != NULL && (r = add_cert_once(cms, issued)) != OC_OK)
		goto out;
	for (i = 0; i < sk_X509_num(chain); i++)
		if ((r = add_cert_once(cms, sk_X509_value(chain, i))) != OC_OK)
			goto out;
	if ((r = add_cert_once(cms, ca_cert)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if ((si = CMS_add1_signer(cms, ca_cert, ca_key, EVP_sha256(),
	    CMS_BINARY | CMS_NOSMIMECAP | CMS_NOCERTS | CMS_PARTIAL)) == NULL)
		goto out;
	if ((r = sign_content(cms, si, ca_key, ctype, content, clen)) != OC_OK)
		goto out;
	if ((r = pkix_i2d(ASN1_ITEM_rptr(CMS_ContentInfo), cms, der, len)) != OC_OK)
		goto out;
	if (*len > OC_CMC_DER_MAX) {
		free(*der);
		*der = NULL;
		*len = 0;
		r = OC_ERR_LIMIT;
		goto out;
	}
	r = OC_OK;
out:
	if (r == OC_ERR_CRYPTO)
		log_error("CMC response: %s",
		    ERR_reason_error_string(ERR_peek_last_error()) ?
		    ERR_reason_error_string(ERR_peek_last_error()) : "OpenSSL error");
	ERR_clear_error();
	free(content);
	ASN1_OBJECT_free(ctype);
	CMS_ContentInfo_free(cms);
	OC_CMC_PKIRESPONSE_free(resp);
	return r;
}
