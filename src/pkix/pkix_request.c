/*
 * Certificate requests as WSTEP clients send them (wstep.md 5.2, 5.6): a bare
 * PKCS#10, a CMS SignedData carrying a PKCS#10 as id-data (Windows renewal),
 * or a CMC PKIData (RFC 5272). Detection is from the bytes only.
 */
#include "pkix/pkix.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "common/limits.h"
#include "common/log.h"
#include "pkix/pkix_asn1.h"
#include "pkix/pkix_req_int.h"

void
oc_req_info_clear(struct oc_req_info *ri)
{
	if (ri == NULL)
		return;
	X509_REQ_free(ri->csr);
	X509_free(ri->signer);
	X509_free(ri->renewal_cert);
	free(ri->template_v2_oid);
	free(ri->template_v1_name);
	free(ri->template_attr_name);
	free(ri->subject);
	free(ri->key_curve);
	oc_strlist_free(&ri->san_dns);
	oc_strlist_free(&ri->san_email);
	oc_strlist_free(&ri->san_upn);
	oc_strlist_free(&ri->san_uri);
	oc_strlist_free(&ri->san_ip);
	memset(ri, 0, sizeof(*ri));
}

/* OID of obj equals the dotted text? */
int
pkix_obj_is(const ASN1_OBJECT *obj, const char *dotted)
{
	char buf[OC_OID_MAX + 1];
	int n;

	if (obj == NULL)
		return 0;
	n = OBJ_obj2txt(buf, (int)sizeof(buf), obj, 1);
	if (n <= 0 || (size_t)n >= sizeof(buf))
		return 0;
	return strcmp(buf, dotted) == 0;
}

/*
 * Shape of the outer DER. PKCS#10: SEQUENCE whose first element is a
 * SEQUENCE. ContentInfo: SEQUENCE whose first element is an OID; it is
 * decoded (*cmsp) to read the eContentType.
 */
static int
request_shape(const uint8_t *der, size_t len, enum oc_req_format *fmt,
    CMS_ContentInfo **cmsp)
{
	const uint8_t *content;
	const unsigned char *q;
	const ASN1_OBJECT *ctype;
	CMS_ContentInfo *cms = NULL;
	size_t clen;
	long ilen;
	int tag, xclass, cons, itag, iclass, ret, r;

	*fmt = OC_REQ_UNKNOWN;
	if (cmsp != NULL)
		*cmsp = NULL;
	if (der == NULL || len == 0)
		return OC_ERR_DER;
	if (len > OC_REQUEST_DER_MAX)
		return OC_ERR_LIMIT;
	if ((r = pkix_der_outer(der, len, &tag, &xclass, &cons, &content,
	    &clen)) != OC_OK)
		return r;
	if (tag != V_ASN1_SEQUENCE || xclass != V_ASN1_UNIVERSAL || !cons ||
	    clen == 0)
		return OC_ERR_PARSE;
	q = content;
	ret = ASN1_get_object(&q, &ilen, &itag, &iclass, (long)clen);
	if (ret & 0x80) {
		ERR_clear_error();
		return OC_ERR_DER;
	}
	if (iclass == V_ASN1_UNIVERSAL && itag == V_ASN1_SEQUENCE &&
	    (ret & V_ASN1_CONSTRUCTED)) {
		*fmt = OC_REQ_PKCS10;
		return OC_OK;
	}
	if (iclass != V_ASN1_UNIVERSAL || itag != V_ASN1_OBJECT)
		return OC_ERR_PARSE;
	if ((r = pkix_d2i(ASN1_ITEM_rptr(CMS_ContentInfo), der, len,
	    (void **)&cms)) != OC_OK)
		goto out;
	r = OC_ERR_PARSE;
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed)
		goto out;
	if ((ctype = CMS_get0_eContentType(cms)) == NULL)
		goto out;
	if (pkix_obj_is(ctype, OC_OID_PKCS7_DATA))
		*fmt = OC_REQ_CMS;
	else if (pkix_obj_is(ctype, OC_OID_CCT_PKIDATA))
		*fmt = OC_REQ_CMC;
	else
		goto out;
	if (cmsp != NULL) {
		*cmsp = cms;
		cms = NULL;
	}
	r = OC_OK;
out:
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	return r;
}

int
pkix_detect_request(const uint8_t *der, size_t len, enum oc_req_format *fmt)
{
	if (fmt == NULL)
		return OC_ERR_INVALID;
	return request_shape(der, len, fmt, NULL);
}

/*
 * Verify the SignedData with the certificate it carries for its signer (no
 * chain check: the CA checks the signer certificate itself). Sets ri->signer
 * to the first signer's certificate when present.
 */
static void
cms_check_signer(CMS_ContentInfo *cms, struct oc_req_info *ri)
{
	STACK_OF(CMS_SignerInfo) *sis;
	CMS_SignerInfo *si;
	X509 *x = NULL;

	ri->signer_signature_ok = 0;
	if ((sis = CMS_get0_SignerInfos(cms)) == NULL ||
	    sk_CMS_SignerInfo_num(sis) < 1)
		goto out;
	if (CMS_set1_signers_certs(cms, NULL, 0) < 0)
		goto out;
	si = sk_CMS_SignerInfo_value(sis, 0);
	CMS_SignerInfo_get0_algs(si, NULL, &x, NULL, NULL);
	if (x == NULL)
		goto out;
	if (!X509_up_ref(x))
		goto out;
	ri->signer = x;
	/* every SignerInfo must verify, each with its embedded certificate */
	if (CMS_verify(cms, NULL, NULL, NULL, NULL,
	    CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1)
		ri->signer_signature_ok = 1;
out:
	ERR_clear_error();
}

/*
 * Name-value pairs in the signers' signed attributes (PKCS#7 requests from
 * Windows, enroll-on-behalf-of); they come after the PKCS#10's own.
 */
static int
cms_signed_attrs(CMS_ContentInfo *cms, struct oc_req_info *ri)
{
	STACK_OF(CMS_SignerInfo) *sis = CMS_get0_SignerInfos(cms);
	CMS_SignerInfo *si;
	int i, j, r = OC_OK;

	for (i = 0; i < sk_CMS_SignerInfo_num(sis) && r == OC_OK; i++) {
		si = sk_CMS_SignerInfo_value(sis, i);
		for (j = 0; j < CMS_signed_get_attr_count(si) && r == OC_OK; j++) {
			X509_ATTRIBUTE *a = CMS_signed_get_attr(si, j);
			if (pkix_obj_is(X509_ATTRIBUTE_get0_object(a), OC_OID_NAME_VALUE))
				r = pkix_req_attribute(a, ri);
		}
	}
	return r;
}

/* The encapsulated content bytes (must be present, not detached). */
static int
cms_content(CMS_ContentInfo *cms, const uint8_t **p, size_t *n)
{
	ASN1_OCTET_STRING **pos;

	if ((pos = CMS_get0_content(cms)) == NULL || *pos == NULL ||
	    ASN1_STRING_length(*pos) <= 0)
		return OC_ERR_PARSE;
	*p = ASN1_STRING_get0_data(*pos);
	*n = (size_t)ASN1_STRING_length(*pos);
	return OC_OK;
}

static int
parse_cmc(CMS_ContentInfo *cms, struct oc_req_info *ri)
{
	OC_CMC_PKIDATA *pd = NULL;
	OC_CMC_TAGGED_REQ *tr;
	const uint8_t *p;
	size_t n;
	int r, i;

	if ((r = cms_content(cms, &p, &n)) != OC_OK)
		goto out;
	if ((r = pkix_d2i(ASN1_ITEM_rptr(OC_CMC_PKIDATA), p, n,
	    (void **)&pd)) != OC_OK)
		goto out;
	r = OC_ERR_PARSE;
	for (i = 0; i < sk_OC_CMC_TAGGED_REQ_num(pd->reqs); i++) {
		tr = sk_OC_CMC_TAGGED_REQ_value(pd->reqs, i);
		if (tr->type != OC_CMC_REQ_TCR)
			continue;
		if ((r = pkix_int_to_u32(tr->d.tcr->body_part_id,
		    &ri->body_part_id)) != OC_OK)
			goto out;
		ri->csr = tr->d.tcr->req;       /* take it */
		tr->d.tcr->req = NULL;
		break;
	}
	if (ri->csr == NULL) {
		log_info("CMC PKIData without a PKCS#10 (tcr) request");
		r = OC_ERR_PARSE;
		goto out;
	}
	if ((r = pkix_req_inspect(ri->csr, ri)) != OC_OK)
		goto out;
	/* CMC controls may carry name-value pairs (after the PKCS#10's own) */
	r = pkix_req_cmc_controls(pd->controls, ri);
out:
	OC_CMC_PKIDATA_free(pd);
	return r;
}

int
pkix_request_parse(const uint8_t *der, size_t len, struct oc_req_info *ri)
{
	CMS_ContentInfo *cms = NULL;
	enum oc_req_format fmt;
	const uint8_t *p;
	size_t n;
	int r;

	if (ri == NULL)
		return OC_ERR_INVALID;
	memset(ri, 0, sizeof(*ri));
	if ((r = request_shape(der, len, &fmt, &cms)) != OC_OK)
		goto out;
	ri->format = fmt;
	ri->body_part_id = 1;
	switch (fmt) {
	case OC_REQ_PKCS10:
		if ((r = pkix_d2i(ASN1_ITEM_rptr(X509_REQ), der, len,
		    (void **)&ri->csr)) != OC_OK)
			goto out;
		r = pkix_req_inspect(ri->csr, ri);
		break;
	case OC_REQ_CMS:
		if ((r = cms_content(cms, &p, &n)) != OC_OK)
			goto out;
		if ((r = pkix_d2i(ASN1_ITEM_rptr(X509_REQ), p, n,
		    (void **)&ri->csr)) != OC_OK)
			goto out;
		if ((r = pkix_req_inspect(ri->csr, ri)) != OC_OK ||
		    (r = cms_signed_attrs(cms, ri)) != OC_OK)
			goto out;
		cms_check_signer(cms, ri);
		break;
	case OC_REQ_CMC:
		if ((r = parse_cmc(cms, ri)) != OC_OK ||
		    (r = cms_signed_attrs(cms, ri)) != OC_OK)
			goto out;
		cms_check_signer(cms, ri);
		break;
	default:
		r = OC_ERR_PARSE;
		break;
	}
out:
	CMS_ContentInfo_free(cms);
	ERR_clear_error();
	if (r != OC_OK)
		oc_req_info_clear(ri);
	return r;
}
