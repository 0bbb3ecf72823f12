/*
 * What a PKCS#10 says: key, self-signature, subject, SAN, template naming
 * (templates.md 9 step 1, 10.1, 10.2, 10.5) and the renewal certificate.
 */
#include "pkix/pkix_req_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/limits.h"
#include "common/log.h"

#define OC_SAN_VALUE_MAX 1024

static int
inspect_key(X509_REQ *csr, struct oc_req_info *ri)
{
	EVP_PKEY *pk;
	char group[80];
	const char *nist;
	size_t glen = 0;

	if ((pk = X509_REQ_get0_pubkey(csr)) == NULL) {
		ERR_clear_error();
		return OC_ERR_PARSE;
	}
	ri->key_type = EVP_PKEY_get_base_id(pk);
	ri->key_bits = EVP_PKEY_get_bits(pk);
	if (ri->key_type == EVP_PKEY_RSA && ri->key_bits > OC_RSA_MAX_BITS)
		return OC_ERR_LIMIT;
	if (ri->key_type == EVP_PKEY_EC) {
		if (EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) != 1) {
			ERR_clear_error();
			return OC_ERR_PARSE;
		}
		nist = EC_curve_nid2nist(OBJ_sn2nid(group));
		if ((ri->key_curve = strdup(nist != NULL ? nist : group)) == NULL)
			return OC_ERR_NOMEM;
	}
	ri->csr_signature_ok = X509_REQ_verify(csr, pk) == 1;
	ERR_clear_error();
	return OC_OK;
}

static int
inspect_subject(X509_REQ *csr, struct oc_req_info *ri)
{
	BIO *b = NULL;
	char *data;
	long n;
	int r = OC_ERR_NOMEM;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (X509_NAME_print_ex(b, X509_REQ_get_subject_name(csr), 0,
	    XN_FLAG_RFC2253) < 0) {
		r = OC_ERR_PARSE;
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	if (n < 0 || n > OC_SUBJECT_MAX) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if (n > 0 && memchr(data, '\0', (size_t)n) != NULL) {
		r = OC_ERR_PARSE;
		goto out;
	}
	if ((ri->subject = strndup(n > 0 ? data : "", (size_t)n)) == NULL)
		goto out;
	r = OC_OK;
out:
	BIO_free(b);
	ERR_clear_error();
	return r;
}

static int
add_string(struct oc_strlist *l, const ASN1_STRING *s)
{
	char *txt = NULL;
	int r;

	if ((r = pkix_string_to_utf8(s, OC_SAN_VALUE_MAX, &txt)) != OC_OK)
		return r;
	r = oc_strlist_add(l, txt);
	free(txt);
	return r;
}

static int
add_ip(struct oc_strlist *l, const ASN1_OCTET_STRING *os)
{
	char buf[INET6_ADDRSTRLEN];
	const void *p = ASN1_STRING_get0_data(os);
	int n = ASN1_STRING_length(os);

	if (n == 4) {
		if (inet_ntop(AF_INET, p, buf, sizeof(buf)) == NULL)
			return OC_ERR_PARSE;
	} else if (n == 16) {
		if (inet_ntop(AF_INET6, p, buf, sizeof(buf)) == NULL)
			return OC_ERR_PARSE;
	} else
		return OC_ERR_PARSE;
	return oc_strlist_add(l, buf);
}

static int
inspect_san(const X509_EXTENSION *ext, struct oc_req_info *ri)
{
	GENERAL_NAMES *gns = NULL;
	const GENERAL_NAME *gn;
	const ASN1_TYPE *v;
	int r = OC_OK, i, n;

	if ((gns = X509V3_EXT_d2i((X509_EXTENSION *)ext)) == NULL) {
		ERR_clear_error();
		return OC_ERR_DER;
	}
	n = sk_GENERAL_NAME_num(gns);
	if (n > OC_SAN_MAX_ENTRIES) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	for (i = 0; i < n && r == OC_OK; i++) {
		gn = sk_GENERAL_NAME_value(gns, i);
		switch (gn->type) {
		case GEN_DNS:
			r = add_string(&ri->san_dns, gn->d.dNSName);
			break;
		case GEN_EMAIL:
			r = add_string(&ri->san_email, gn->d.rfc822Name);
			break;
		case GEN_URI:
			r = add_string(&ri->san_uri, gn->d.uniformResourceIdentifier);
			break;
		case GEN_IPADD:
			r = add_ip(&ri->san_ip, gn->d.iPAddress);
			break;
		case GEN_OTHERNAME:
			v = gn->d.otherName->value;
			if (pkix_obj_is(gn->d.otherName->type_id, OC_OID_UPN) &&
			    v != NULL && v->type == V_ASN1_UTF8STRING)
				r = add_string(&ri->san_upn, v->value.utf8string);
			else
				ri->san_other++;
			break;
		default:
			ri->san_other++;
			break;
		}
	}
out:
	GENERAL_NAMES_free(gns);
	return r;
}

/* The one extension with this OID (NULL if absent); duplicates are an error. */
static int
find_ext(const STACK_OF(X509_EXTENSION) *exts, const char *oid,
    const X509_EXTENSION **ext)
{
	const X509_EXTENSION *e, *found = NULL;

	*ext = NULL;
	for (int i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		e = sk_X509_EXTENSION_value(exts, i);
		if (!pkix_obj_is(X509_EXTENSION_get_object((X509_EXTENSION *)e), oid))
			continue;
		if (found != NULL)
			return OC_ERR_PARSE;
		found = e;
	}
	*ext = found;
	return OC_OK;
}

static int
ext_value(const X509_EXTENSION *e, const uint8_t **p, size_t *n)
{
	const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data((X509_EXTENSION *)e);

	*p = ASN1_STRING_get0_data(os);
	*n = (size_t)ASN1_STRING_length(os);
	return *n > 0 ? OC_OK : OC_ERR_DER;
}

static int
inspect_extensions(X509_REQ *csr, struct oc_req_info *ri)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const X509_EXTENSION *e;
	const uint8_t *p;
	size_t n;
	int r;

	if ((exts = X509_REQ_get_extensions(csr)) == NULL) {
		ERR_clear_error();
		return OC_ERR_DER;
	}
	if ((r = find_ext(exts, OC_OID_TEMPLATE_V2, &e)) != OC_OK)
		goto out;
	if (e != NULL && ((r = ext_value(e, &p, &n)) != OC_OK ||
	    (r = pkix_template_v2_decode(p, n, &ri->template_v2_oid,
	    &ri->template_v2_major, &ri->template_v2_minor)) != OC_OK))
		goto out;
	if ((r = find_ext(exts, OC_OID_TEMPLATE_V1, &e)) != OC_OK)
		goto out;
	if (e != NULL && ((r = ext_value(e, &p, &n)) != OC_OK ||
	    (r = pkix_template_v1_decode(p, n, &ri->template_v1_name)) != OC_OK))
		goto out;
	if ((r = find_ext(exts, "2.5.29.17", &e)) != OC_OK)
		goto out;
	if (e != NULL)
		r = inspect_san(e, ri);
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return r;
}

/* EnrollmentNameValuePair: keep the first CertificateTemplate value. */
static int
name_value(const ASN1_TYPE *t, struct oc_req_info *ri)
{
	OC_NAME_VALUE *nv = NULL;
	char *name = NULL, *value = NULL;
	int r;

	if (t == NULL || t->type != V_ASN1_SEQUENCE)
		return OC_ERR_DER;
	if ((r = pkix_d2i(ASN1_ITEM_rptr(OC_NAME_VALUE),
	    t->value.sequence->data, (size_t)t->value.sequence->length,
	    (void **)&nv)) != OC_OK)
		goto out;
	if ((r = pkix_string_to_utf8(nv->name, OC_NAME_MAX, &name)) != OC_OK ||
	    (r = pkix_string_to_utf8(nv->value, OC_DISPOSITION_MAX, &value)) != OC_OK)
		goto out;
	if (strcasecmp(name, "CertificateTemplate") == 0 &&
	    ri->template_attr_name == NULL && *value != '\0') {
		if (strlen(value) > OC_TEMPLATE_NAME_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		ri->template_attr_name = value;
		value = NULL;
	}
out:
	free(name);
	free(value);
	OC_NAME_VALUE_free(nv);
	return r;
}

/* szOID_RENEWAL_CERTIFICATE: the old certificate (first one wins). */
static int
renewal_cert(const ASN1_TYPE *t, struct oc_req_info *ri)
{
	const ASN1_STRING *s;

	if (ri->renewal_cert != NULL)
		return OC_OK;
	if (t == NULL || (t->type != V_ASN1_SEQUENCE &&
	    t->type != V_ASN1_OCTET_STRING))
		return OC_ERR_DER;
	s = t->value.asn1_string;
	if ((size_t)s->length > OC_CERT_DER_MAX)
		return OC_ERR_LIMIT;
	return pkix_d2i(ASN1_ITEM_rptr(X509), s->data, (size_t)s->length,
	    (void **)&ri->renewal_cert);
}

int
pkix_req_attribute(const X509_ATTRIBUTE *a, struct oc_req_info *ri)
{
	const ASN1_OBJECT *obj = X509_ATTRIBUTE_get0_object((X509_ATTRIBUTE *)a);
	int i, n = X509_ATTRIBUTE_count(a), r = OC_OK;
	int (*fn)(const ASN1_TYPE *, struct oc_req_info *) = NULL;

	if (pkix_obj_is(obj, OC_OID_NAME_VALUE))
		fn = name_value;
	else if (pkix_obj_is(obj, OC_OID_RENEWAL_CERT))
		fn = renewal_cert;
	if (fn == NULL)
		return OC_OK;
	for (i = 0; i < n && r == OC_OK; i++)
		r = fn(X509_ATTRIBUTE_get0_type((X509_ATTRIBUTE *)a, i), ri);
	return r;
}

int
pkix_req_inspect(X509_REQ *csr, struct oc_req_info *ri)
{
	int r, i, n;

	if ((r = inspect_key(csr, ri)) != OC_OK ||
	    (r = inspect_subject(csr, ri)) != OC_OK ||
	    (r = inspect_extensions(csr, ri)) != OC_OK)
		return r;
	n = X509_REQ_get_attr_count(csr);
	for (i = 0; i < n; i++)
		if ((r = pkix_req_attribute(X509_REQ_get_attr(csr, i), ri)) != OC_OK)
			return r;
	return OC_OK;
}

int
pkix_req_cmc_controls(const STACK_OF(OC_CMC_TAGGED_ATTR) *controls,
    struct oc_req_info *ri)
{
	const OC_CMC_TAGGED_ATTR *ta;
	OC_CMC_ADD_ATTRS *aa = NULL;
	const ASN1_TYPE *t;
	int i, j, k, r = OC_OK;

	for (i = 0; i < sk_OC_CMC_TAGGED_ATTR_num(controls) && r == OC_OK; i++) {
		ta = sk_OC_CMC_TAGGED_ATTR_value(controls, i);
		if (pkix_obj_is(ta->attr_type, OC_OID_NAME_VALUE)) {
			for (j = 0; j < sk_ASN1_TYPE_num(ta->attr_values) &&
			    r == OC_OK; j++)
				r = name_value(sk_ASN1_TYPE_value(ta->attr_values, j), ri);
			continue;
		}
		if (!pkix_obj_is(ta->attr_type, OC_OID_CMC_ADD_ATTRIBUTES))
			continue;
		for (j = 0; j < sk_ASN1_TYPE_num(ta->attr_values) && r == OC_OK; j++) {
			t = sk_ASN1_TYPE_value(ta->attr_values, j);
			if (t->type != V_ASN1_SEQUENCE) {
				r = OC_ERR_DER;
				break;
			}
			if ((r = pkix_d2i(ASN1_ITEM_rptr(OC_CMC_ADD_ATTRS),
			    t->value.sequence->data,
			    (size_t)t->value.sequence->length,
			    (void **)&aa)) != OC_OK)
				break;
			for (k = 0; k < sk_X509_ATTRIBUTE_num(aa->attributes) &&
			    r == OC_OK; k++)
				r = pkix_req_attribute(
				    sk_X509_ATTRIBUTE_value(aa->attributes, k), ri);
			OC_CMC_ADD_ATTRS_free(aa);
			aa = NULL;
		}
	}
	OC_CMC_ADD_ATTRS_free(aa);
	return r;
}
