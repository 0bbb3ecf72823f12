/*
 * CMC full PKI response (wstep.md 7.1), decoded back with OpenSSL: outer
 * ContentInfo/SignedData shape, PKIResponse controls, certificates, and the
 * one SignerInfo (issuerAndSerialNumber, sha256, contentType+messageDigest).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pkix/pkix.h"
#include "pkix/pkix_asn1.h"

int main(void);

static EVP_PKEY *rsa_key, *ec_key, *leaf_key;
static X509 *rsa_ca, *ec_ca, *root, *issued;

static X509 *
make_cert(const char *cn, long serial, EVP_PKEY *pub, X509 *issuer, EVP_PKEY *ikey)
{
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(x);
	assert_true(X509_set_version(x, 2));
	assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), serial));
	n = X509_get_subject_name(x);
	assert_true(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0));
	assert_true(X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n));
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_true(X509_set_pubkey(x, pub));
	assert_true(X509_sign(x, ikey, EVP_sha256()) > 0);
	return x;
}

static int
setup(void **state)
{
	(void)state;
	rsa_key = EVP_RSA_gen(2048);
	ec_key = EVP_EC_gen("P-256");
	leaf_key = EVP_EC_gen("P-256");
	if (rsa_key == NULL || ec_key == NULL || leaf_key == NULL)
		return -1;
	root = make_cert("Example Root", 1, rsa_key, NULL, rsa_key);
	rsa_ca = make_cert("Example RSA CA", 2, rsa_key, root, rsa_key);
	ec_ca = make_cert("Example EC CA", 3, ec_key, NULL, ec_key);
	issued = make_cert("host.example.com", 0x1234, leaf_key, rsa_ca, rsa_key);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	X509_free(root);
	X509_free(rsa_ca);
	X509_free(ec_ca);
	X509_free(issued);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	EVP_PKEY_free(leaf_key);
	return 0;
}

static int
pkix_obj_is_text(const ASN1_OBJECT *obj, const char *dotted)
{
	char buf[128];

	assert_non_null(obj);
	assert_true(OBJ_obj2txt(buf, (int)sizeof(buf), obj, 1) > 0);
	return strcmp(buf, dotted) == 0;
}

/* Step into the next TLV; *p moves to its content. */
static size_t
tlv_in(const uint8_t **p, size_t avail, int want_tag, int want_class)
{
	long len;
	int tag, xclass, ret = ASN1_get_object(p, &len, &tag, &xclass, (long)avail);

	assert_false(ret & 0x80);
	assert_int_equal(tag, want_tag);
	assert_int_equal(xclass, want_class);
	return (size_t)len;
}

/* ContentInfo { signedData, [0] SignedData { version 3, { sha256 }, ... } } */
static void
check_outer(const uint8_t *der, size_t len)
{
	static const uint8_t oid_signed[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
	    0xf7, 0x0d, 0x01, 0x07, 0x02 };
	static const uint8_t version_digests[] = { 0x02, 0x01, 0x03, 0x31, 0x0d,
	    0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04,
	    0x02, 0x01 };
	const uint8_t *p = der;
	size_t n;

	n = tlv_in(&p, len, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	assert_int_equal((size_t)(p - der) + n, len);
	assert_memory_equal(p, oid_signed, sizeof(oid_signed));
	p += sizeof(oid_signed);
	n = tlv_in(&p, len - (size_t)(p - der), 0, V_ASN1_CONTEXT_SPECIFIC);
	n = tlv_in(&p, n, V_ASN1_SEQUENCE, V_ASN1_UNIVERSAL);
	assert_true(n > sizeof(version_digests));
	assert_memory_equal(p, version_digests, sizeof(version_digests));
}

static void
check_status(const OC_CMC_TAGGED_ATTR *ta, int status, uint32_t bpid,
    const char *text)
{
	const ASN1_TYPE *t;
	OC_CMC_STATUS_INFO *si = NULL;
	uint32_t v;

	assert_int_equal(ASN1_INTEGER_get(ta->body_part_id), 1);
	assert_true(pkix_obj_is_text(ta->attr_type, OC_OID_CMC_STATUSINFO));
	assert_int_equal(sk_ASN1_TYPE_num(ta->attr_values), 1);
	t = sk_ASN1_TYPE_value(ta->attr_values, 0);
	assert_int_equal(t->type, V_ASN1_SEQUENCE);
	assert_int_equal(pkix_d2i(ASN1_ITEM_rptr(OC_CMC_STATUS_INFO),
	    t->value.sequence->data, (size_t)t->value.sequence->length,
	    (void **)&si), OC_OK);
	assert_int_equal(ASN1_INTEGER_get(si->status), status);
	assert_int_equal(sk_ASN1_INTEGER_num(si->body_list), 1);
	assert_int_equal(pkix_int_to_u32(sk_ASN1_INTEGER_value(si->body_list, 0), &v),
	    OC_OK);
	assert_int_equal(v, bpid);
	if (text == NULL)
		assert_null(si->status_string);
	else {
		assert_non_null(si->status_string);
		assert_int_equal(ASN1_STRING_length(si->status_string), strlen(text));
		assert_memory_equal(ASN1_STRING_get0_data(si->status_string), text,
		    strlen(text));
	}
	assert_null(si->other_info);
	OC_CMC_STATUS_INFO_free(si);
}

static void
check_hash(const OC_CMC_TAGGED_ATTR *ta, X509 *x, uint32_t bpid)
{
	const ASN1_TYPE *t;
	OC_CMC_ADD_ATTRS *aa = NULL;
	X509_ATTRIBUTE *attr;
	const ASN1_TYPE *hv;
	uint8_t *der = NULL, h[20];
	unsigned int hl = 0;
	int n;
	uint32_t v;

	assert_int_equal(ASN1_INTEGER_get(ta->body_part_id), 2);
	assert_true(pkix_obj_is_text(ta->attr_type, OC_OID_CMC_ADD_ATTRIBUTES));
	assert_int_equal(sk_ASN1_TYPE_num(ta->attr_values), 1);
	t = sk_ASN1_TYPE_value(ta->attr_values, 0);
	assert_int_equal(t->type, V_ASN1_SEQUENCE);
	assert_int_equal(pkix_d2i(ASN1_ITEM_rptr(OC_CMC_ADD_ATTRS),
	    t->value.sequence->data, (size_t)t->value.sequence->length,
	    (void **)&aa), OC_OK);
	assert_int_equal(ASN1_INTEGER_get(aa->data_reference), 0);
	assert_int_equal(sk_ASN1_INTEGER_num(aa->cert_references), 1);
	assert_int_equal(pkix_int_to_u32(sk_ASN1_INTEGER_value(aa->cert_references, 0),
	    &v), OC_OK);
	assert_int_equal(v, bpid);
	assert_int_equal(sk_X509_ATTRIBUTE_num(aa->attributes), 1);
	attr = sk_X509_ATTRIBUTE_value(aa->attributes, 0);
	assert_true(pkix_obj_is_text(X509_ATTRIBUTE_get0_object(attr),
	    OC_OID_ISSUED_CERT_HASH));
	assert_int_equal(X509_ATTRIBUTE_count(attr), 1);
	hv = X509_ATTRIBUTE_get0_type(attr, 0);
	assert_int_equal(hv->type, V_ASN1_OCTET_STRING);
	assert_true((n = i2d_X509(x, &der)) > 0);
	assert_true(EVP_Digest(der, (size_t)n, h, &hl, EVP_sha1(), NULL));
	OPENSSL_free(der);
	assert_int_equal(ASN1_STRING_length(hv->value.octet_string), 20);
	assert_memory_equal(ASN1_STRING_get0_data(hv->value.octet_string), h, 20);
	OC_CMC_ADD_ATTRS_free(aa);
}

struct resp_case {
	const char *name;
	int ec;                 /* signed by the EC CA */
	int with_issued;
	int chain;              /* 0 none, 1 { ca }, 2 { root, ca } */
	int status;
	uint32_t bpid;
	const char *text;
};

static const struct resp_case resp_cases[] = {
	{ "RSA CA, issued, chain root+ca", 0, 1, 2, 0, 1, "Issued" },
	{ "RSA CA, issued, no chain", 0, 1, 0, 0, 1, "Issued" },
	{ "EC CA, issued, bodyPartID 7", 1, 1, 1, 0, 7, "Issued" },
	{ "pending", 0, 0, 2, 3, 1, "Taken Under Submission" },
	{ "failed, no text", 1, 0, 0, 2, 4294967295u, NULL },
	{ "UTF-8 text", 0, 1, 1, 0, 1, "D\xc3\xa9livr\xc3\xa9" },
};

static void
test_response_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(resp_cases) / sizeof(resp_cases[0]); i++) {
		const struct resp_case *c = &resp_cases[i];
		X509 *ca = c->ec ? ec_ca : rsa_ca;
		EVP_PKEY *key = c->ec ? ec_key : rsa_key;
		STACK_OF(X509) *chain = sk_X509_new_null(), *certs, *want;
		CMS_ContentInfo *cms = NULL;
		CMS_SignerInfo *si;
		OC_CMC_PKIRESPONSE *resp = NULL;
		ASN1_OCTET_STRING **content, *keyid = NULL;
		X509_NAME *iss = NULL;
		ASN1_INTEGER *sno = NULL;
		X509_ALGOR *dig = NULL;
		const unsigned char *q;
		uint8_t *der = NULL;
		size_t len = 0;
		int j, idx;

		print_message("CMC response: %s\n", c->name);
		assert_non_null(chain);
		if (c->chain == 2)
			assert_true(sk_X509_push(chain, root));
		if (c->chain >= 1)
			assert_true(sk_X509_push(chain, ca));
		assert_int_equal(pkix_cmc_response(ca, key, c->with_issued ? issued : NULL,
		    chain, c->status, c->bpid, c->text, &der, &len), OC_OK);
		if (getenv("OC_PKIX_WRITE_VECTORS") != NULL && i == 0) {
			char path[1024];
			FILE *f;
			snprintf(path, sizeof(path), "%s/cmc_response.der",
			    getenv("OC_PKIX_WRITE_VECTORS"));
			assert_non_null(f = fopen(path, "wb"));
			assert_int_equal(fwrite(der, 1, len, f), len);
			fclose(f);
		}
		check_outer(der, len);

		q = der;
		assert_non_null(cms = d2i_CMS_ContentInfo(NULL, &q, (long)len));
		assert_ptr_equal(q, der + len);
		assert_int_equal(OBJ_obj2nid(CMS_get0_type(cms)), NID_pkcs7_signed);
		assert_true(pkix_obj_is_text(CMS_get0_eContentType(cms),
		    "1.3.6.1.5.5.7.12.3"));
		/* the signature verifies with the embedded CA certificate */
		assert_int_equal(CMS_verify(cms, NULL, NULL, NULL, NULL,
		    CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY), 1);

		/* PKIResponse */
		content = CMS_get0_content(cms);
		assert_non_null(content);
		assert_int_equal(pkix_d2i(ASN1_ITEM_rptr(OC_CMC_PKIRESPONSE),
		    ASN1_STRING_get0_data(*content), (size_t)ASN1_STRING_length(*content),
		    (void **)&resp), OC_OK);
		assert_int_equal(sk_OC_CMC_TAGGED_ATTR_num(resp->controls),
		    c->with_issued ? 2 : 1);
		assert_int_equal(sk_OC_CMC_TAGGED_CI_num(resp->cms), 0);
		assert_int_equal(sk_OC_CMC_OTHER_MSG_num(resp->other), 0);
		check_status(sk_OC_CMC_TAGGED_ATTR_value(resp->controls, 0),
		    c->status, c->bpid, c->text);
		if (c->with_issued)
			check_hash(sk_OC_CMC_TAGGED_ATTR_value(resp->controls, 1),
			    issued, c->bpid);

		/*
		 * certificates: issued, the chain, the CA, each once. It is a SET
		 * OF: OpenSSL writes it in DER order, so compare as a set.
		 */
		assert_non_null(want = sk_X509_new_null());
		if (c->with_issued)
			assert_true(sk_X509_push(want, issued));
		for (j = 0; j < sk_X509_num(chain); j++)
			assert_true(sk_X509_push(want, sk_X509_value(chain, j)));
		if (c->chain == 0)
			assert_true(sk_X509_push(want, ca));
		certs = CMS_get1_certs(cms);
		assert_int_equal(sk_X509_num(certs), sk_X509_num(want));
		for (j = 0; j < sk_X509_num(want); j++) {
			int k, found = 0;
			for (k = 0; k < sk_X509_num(certs); k++)
				found += X509_cmp(sk_X509_value(certs, k),
				    sk_X509_value(want, j)) == 0;
			assert_int_equal(found, 1);
		}
		sk_X509_pop_free(certs, X509_free);
		sk_X509_free(want);

		/* one SignerInfo by issuerAndSerialNumber of the CA, sha256 */
		assert_int_equal(sk_CMS_SignerInfo_num(CMS_get0_SignerInfos(cms)), 1);
		si = sk_CMS_SignerInfo_value(CMS_get0_SignerInfos(cms), 0);
		assert_int_equal(CMS_SignerInfo_get0_signer_id(si, &keyid, &iss, &sno), 1);
		assert_null(keyid);
		assert_int_equal(X509_NAME_cmp(iss, X509_get_issuer_name(ca)), 0);
		assert_int_equal(ASN1_INTEGER_cmp(sno, X509_get0_serialNumber(ca)), 0);
		CMS_SignerInfo_get0_algs(si, NULL, NULL, &dig, NULL);
		assert_int_equal(OBJ_obj2nid(dig->algorithm), NID_sha256);
		/* signed attributes: contentType and messageDigest only */
		assert_int_equal(CMS_signed_get_attr_count(si), 2);
		assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1) >= 0);
		assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_messageDigest, -1) >= 0);
		assert_true(CMS_signed_get_attr_by_NID(si, NID_pkcs9_signingTime, -1) < 0);
		idx = CMS_signed_get_attr_by_NID(si, NID_pkcs9_contentType, -1);
		assert_true(pkix_obj_is_text(X509_ATTRIBUTE_get0_data(
		    CMS_signed_get_attr(si, idx), 0, V_ASN1_OBJECT, NULL),
		    "1.3.6.1.5.5.7.12.3"));

		OC_CMC_PKIRESPONSE_free(resp);
		CMS_ContentInfo_free(cms);
		sk_X509_free(chain);
		free(der);
	}
}

static void
test_response_tampered(void **state)
{
	uint8_t *der = NULL;
	size_t len = 0, i;
	const unsigned char *q;
	CMS_ContentInfo *cms;

	(void)state;
	assert_int_equal(pkix_cmc_response(rsa_ca, rsa_key, issued, NULL, 0, 1,
	    "Issued", &der, &len), OC_OK);
	/* flip one byte of the statusString "Issued" inside the eContent */
	for (i = 0; i + 6 <= len; i++)
		if (memcmp(der + i, "Issued", 6) == 0)
			break;
	assert_true(i + 6 <= len);
	der[i] = 'X';
	q = der;
	assert_non_null(cms = d2i_CMS_ContentInfo(NULL, &q, (long)len));
	assert_int_equal(CMS_verify(cms, NULL, NULL, NULL, NULL,
	    CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY), 0);
	ERR_clear_error();
	CMS_ContentInfo_free(cms);
	free(der);
}

static void
test_response_errors(void **state)
{
	uint8_t *der = NULL;
	size_t len = 0;

	(void)state;
	/* key does not match the CA certificate */
	assert_int_equal(pkix_cmc_response(rsa_ca, ec_key, issued, NULL, 0, 1,
	    "Issued", &der, &len), OC_ERR_INVALID);
	assert_int_equal(pkix_cmc_response(rsa_ca, rsa_key, issued, NULL, 1, 1,
	    "Issued", &der, &len), OC_ERR_INVALID);
	assert_int_equal(pkix_cmc_response(rsa_ca, rsa_key, issued, NULL, 8, 1,
	    "Issued", &der, &len), OC_ERR_INVALID);
	assert_int_equal(pkix_cmc_response(NULL, rsa_key, issued, NULL, 0, 1,
	    "Issued", &der, &len), OC_ERR_INVALID);
	assert_null(der);
	assert_int_equal(len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_table),
		cmocka_unit_test(test_response_tampered),
		cmocka_unit_test(test_response_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
