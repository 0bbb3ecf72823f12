/* ASN.1 templates (RFC 5272 CMC, Microsoft enrollment types) and DER helpers. */
#include "pkix/pkix_asn1.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "common/limits.h"

ASN1_SEQUENCE(OC_TEMPLATE_V2) = {
	ASN1_SIMPLE(OC_TEMPLATE_V2, template_id, ASN1_OBJECT),
	ASN1_OPT(OC_TEMPLATE_V2, major, ASN1_INTEGER),
	ASN1_OPT(OC_TEMPLATE_V2, minor, ASN1_INTEGER),
} ASN1_SEQUENCE_END(OC_TEMPLATE_V2)
IMPLEMENT_ASN1_FUNCTIONS(OC_TEMPLATE_V2)

ASN1_SEQUENCE(OC_TEMPLATE_V1_SEQ) = {
	ASN1_SIMPLE(OC_TEMPLATE_V1_SEQ, name, ASN1_ANY),
} ASN1_SEQUENCE_END(OC_TEMPLATE_V1_SEQ)
IMPLEMENT_ASN1_FUNCTIONS(OC_TEMPLATE_V1_SEQ)

ASN1_SEQUENCE(OC_NAME_VALUE) = {
	ASN1_SIMPLE(OC_NAME_VALUE, name, ASN1_BMPSTRING),
	ASN1_SIMPLE(OC_NAME_VALUE, value, ASN1_BMPSTRING),
} ASN1_SEQUENCE_END(OC_NAME_VALUE)
IMPLEMENT_ASN1_FUNCTIONS(OC_NAME_VALUE)

ASN1_SEQUENCE(OC_CMC_TAGGED_ATTR) = {
	ASN1_SIMPLE(OC_CMC_TAGGED_ATTR, body_part_id, ASN1_INTEGER),
	ASN1_SIMPLE(OC_CMC_TAGGED_ATTR, attr_type, ASN1_OBJECT),
	ASN1_SET_OF(OC_CMC_TAGGED_ATTR, attr_values, ASN1_ANY),
} ASN1_SEQUENCE_END(OC_CMC_TAGGED_ATTR)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_TAGGED_ATTR)

ASN1_SEQUENCE(OC_CMC_TCR) = {
	ASN1_SIMPLE(OC_CMC_TCR, body_part_id, ASN1_INTEGER),
	ASN1_SIMPLE(OC_CMC_TCR, req, X509_REQ),
} ASN1_SEQUENCE_END(OC_CMC_TCR)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_TCR)

ASN1_CHOICE(OC_CMC_TAGGED_REQ) = {
	ASN1_IMP(OC_CMC_TAGGED_REQ, d.tcr, OC_CMC_TCR, 0),
	ASN1_IMP_SEQUENCE_OF(OC_CMC_TAGGED_REQ, d.crm, ASN1_ANY, 1),
	ASN1_IMP_SEQUENCE_OF(OC_CMC_TAGGED_REQ, d.orm, ASN1_ANY, 2),
} ASN1_CHOICE_END(OC_CMC_TAGGED_REQ)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_TAGGED_REQ)

ASN1_SEQUENCE(OC_CMC_TAGGED_CI) = {
	ASN1_SIMPLE(OC_CMC_TAGGED_CI, body_part_id, ASN1_INTEGER),
	ASN1_SIMPLE(OC_CMC_TAGGED_CI, content_info, ASN1_ANY),
} ASN1_SEQUENCE_END(OC_CMC_TAGGED_CI)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_TAGGED_CI)

ASN1_SEQUENCE(OC_CMC_OTHER_MSG) = {
	ASN1_SIMPLE(OC_CMC_OTHER_MSG, body_part_id, ASN1_INTEGER),
	ASN1_SIMPLE(OC_CMC_OTHER_MSG, type, ASN1_OBJECT),
	ASN1_SIMPLE(OC_CMC_OTHER_MSG, value, ASN1_ANY),
} ASN1_SEQUENCE_END(OC_CMC_OTHER_MSG)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_OTHER_MSG)

ASN1_SEQUENCE(OC_CMC_PKIDATA) = {
	ASN1_SEQUENCE_OF(OC_CMC_PKIDATA, controls, OC_CMC_TAGGED_ATTR),
	ASN1_SEQUENCE_OF(OC_CMC_PKIDATA, reqs, OC_CMC_TAGGED_REQ),
	ASN1_SEQUENCE_OF(OC_CMC_PKIDATA, cms, OC_CMC_TAGGED_CI),
	ASN1_SEQUENCE_OF(OC_CMC_PKIDATA, other, OC_CMC_OTHER_MSG),
} ASN1_SEQUENCE_END(OC_CMC_PKIDATA)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_PKIDATA)

ASN1_SEQUENCE(OC_CMC_PKIRESPONSE) = {
	ASN1_SEQUENCE_OF(OC_CMC_PKIRESPONSE, controls, OC_CMC_TAGGED_ATTR),
	ASN1_SEQUENCE_OF(OC_CMC_PKIRESPONSE, cms, OC_CMC_TAGGED_CI),
	ASN1_SEQUENCE_OF(OC_CMC_PKIRESPONSE, other, OC_CMC_OTHER_MSG),
} ASN1_SEQUENCE_END(OC_CMC_PKIRESPONSE)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_PKIRESPONSE)

ASN1_SEQUENCE(OC_CMC_PEND_INFO) = {
	ASN1_SIMPLE(OC_CMC_PEND_INFO, token, ASN1_OCTET_STRING),
	ASN1_SIMPLE(OC_CMC_PEND_INFO, time, ASN1_GENERALIZEDTIME),
} ASN1_SEQUENCE_END(OC_CMC_PEND_INFO)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_PEND_INFO)

ASN1_CHOICE(OC_CMC_OTHER_INFO) = {
	ASN1_SIMPLE(OC_CMC_OTHER_INFO, d.fail_info, ASN1_INTEGER),
	ASN1_SIMPLE(OC_CMC_OTHER_INFO, d.pend_info, OC_CMC_PEND_INFO),
} ASN1_CHOICE_END(OC_CMC_OTHER_INFO)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_OTHER_INFO)

ASN1_SEQUENCE(OC_CMC_STATUS_INFO) = {
	ASN1_SIMPLE(OC_CMC_STATUS_INFO, status, ASN1_INTEGER),
	ASN1_SEQUENCE_OF(OC_CMC_STATUS_INFO, body_list, ASN1_INTEGER),
	ASN1_OPT(OC_CMC_STATUS_INFO, status_string, ASN1_UTF8STRING),
	ASN1_OPT(OC_CMC_STATUS_INFO, other_info, OC_CMC_OTHER_INFO),
} ASN1_SEQUENCE_END(OC_CMC_STATUS_INFO)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_STATUS_INFO)

ASN1_SEQUENCE(OC_CMC_ADD_ATTRS) = {
	ASN1_SIMPLE(OC_CMC_ADD_ATTRS, data_reference, ASN1_INTEGER),
	ASN1_SEQUENCE_OF(OC_CMC_ADD_ATTRS, cert_references, ASN1_INTEGER),
	ASN1_SET_OF(OC_CMC_ADD_ATTRS, attributes, X509_ATTRIBUTE),
} ASN1_SEQUENCE_END(OC_CMC_ADD_ATTRS)
IMPLEMENT_ASN1_FUNCTIONS(OC_CMC_ADD_ATTRS)

/* Same as OpenSSL's CMS_Attributes_Verify: SET OF Attribute in stack order. */
ASN1_ITEM_TEMPLATE(OC_SIGNED_ATTRS) =
	ASN1_EX_TEMPLATE_TYPE(ASN1_TFLG_SET_OF | ASN1_TFLG_IMPTAG | ASN1_TFLG_UNIVERSAL,
	    V_ASN1_SET, OC_SIGNED_ATTRS, X509_ATTRIBUTE)
ASN1_ITEM_TEMPLATE_END(OC_SIGNED_ATTRS)

int
pkix_i2d(const ASN1_ITEM *it, const void *val, uint8_t **der, size_t *len)
{
	uint8_t *buf = NULL, *q;
	int n, r = OC_ERR_CRYPTO;

	*der = NULL;
	*len = 0;
	if ((n = ASN1_item_i2d((const ASN1_VALUE *)val, NULL, it)) <= 0)
		goto out;
	if ((buf = malloc((size_t)n)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	q = buf;
	if (ASN1_item_i2d((const ASN1_VALUE *)val, &q, it) != n)
		goto out;
	*der = buf;
	*len = (size_t)n;
	buf = NULL;
	r = OC_OK;
out:
	free(buf);
	return r;
}

int
pkix_d2i(const ASN1_ITEM *it, const uint8_t *p, size_t len, void **val)
{
	const unsigned char *q = p;
	ASN1_VALUE *v = NULL;

	*val = NULL;
	if (p == NULL || len == 0 || len > LONG_MAX)
		return OC_ERR_DER;
	if ((v = ASN1_item_d2i(NULL, &q, (long)len, it)) == NULL) {
		ERR_clear_error();
		return OC_ERR_DER;
	}
	if (q != p + len) {
		ASN1_item_free(v, it);
		return OC_ERR_DER;
	}
	*val = v;
	return OC_OK;
}

int
pkix_obj_to_text(const ASN1_OBJECT *obj, char **txt)
{
	char buf[OC_OID_MAX + 1];
	int n;

	*txt = NULL;
	n = OBJ_obj2txt(buf, (int)sizeof(buf), obj, 1);
	if (n <= 0)
		return OC_ERR_PARSE;
	if ((size_t)n >= sizeof(buf))
		return OC_ERR_LIMIT;
	if ((*txt = strdup(buf)) == NULL)
		return OC_ERR_NOMEM;
	return OC_OK;
}

int
pkix_obj_from_text(const char *txt, ASN1_OBJECT **obj)
{
	size_t n, i;
	int dots = 0;

	*obj = NULL;
	if (txt == NULL)
		return OC_ERR_INVALID;
	n = strnlen(txt, OC_OID_MAX + 1);
	if (n == 0 || n > OC_OID_MAX)
		return OC_ERR_INVALID;
	/* digits and single dots only, at least two arcs */
	for (i = 0; i < n; i++) {
		if (txt[i] == '.') {
			if (i == 0 || txt[i - 1] == '.' || i + 1 == n)
				return OC_ERR_INVALID;
			dots++;
		} else if (txt[i] < '0' || txt[i] > '9')
			return OC_ERR_INVALID;
	}
	if (dots < 1)
		return OC_ERR_INVALID;
	if ((*obj = OBJ_txt2obj(txt, 1)) == NULL) {
		ERR_clear_error();
		return OC_ERR_INVALID;
	}
	return OC_OK;
}

int
pkix_int_to_u32(const ASN1_INTEGER *ai, uint32_t *v)
{
	uint64_t u;

	*v = 0;
	if (ai == NULL)
		return OC_OK;
	if (ASN1_INTEGER_get_uint64(&u, ai) != 1 || u > UINT32_MAX) {
		ERR_clear_error();
		return OC_ERR_PARSE;
	}
	*v = (uint32_t)u;
	return OC_OK;
}

int
pkix_string_to_utf8(const ASN1_STRING *s, size_t max, char **out)
{
	unsigned char *u = NULL;
	int n;
	int r = OC_ERR_PARSE;

	*out = NULL;
	if (s == NULL)
		return OC_ERR_PARSE;
	if ((n = ASN1_STRING_to_UTF8(&u, s)) < 0) {
		ERR_clear_error();
		goto out;
	}
	if ((size_t)n > max) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if (memchr(u, '\0', (size_t)n) != NULL)
		goto out;
	if ((*out = strndup((const char *)u, (size_t)n)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	r = OC_OK;
out:
	OPENSSL_free(u);
	return r;
}

int
pkix_der_outer(const uint8_t *p, size_t len, int *tag, int *xclass,
    int *constructed, const uint8_t **content, size_t *clen)
{
	const unsigned char *q = p;
	long plen = 0;
	int ret;

	if (p == NULL || len < 2 || len > LONG_MAX)
		return OC_ERR_DER;
	ret = ASN1_get_object(&q, &plen, tag, xclass, (long)len);
	if (ret & 0x80) {
		ERR_clear_error();
		return OC_ERR_DER;                  /* malformed or truncated */
	}
	if (ret == 0x21)
		return OC_ERR_DER;                  /* indefinite length: not DER */
	if ((size_t)(q - p) + (size_t)plen != len)
		return OC_ERR_DER;                  /* trailing bytes */
	*constructed = (ret & V_ASN1_CONSTRUCTED) != 0;
	*content = q;
	*clen = (size_t)plen;
	return OC_OK;
}
