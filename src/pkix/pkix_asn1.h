/*
 * Internal to src/pkix: ASN.1 types defined with OpenSSL templates (CMC of
 * RFC 5272, Microsoft template and enrollment attributes) and small DER helpers.
 */
#ifndef OC_PKIX_ASN1_H
#define OC_PKIX_ASN1_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/x509.h>

#include "common/err.h"

#define OC_OID_PKCS7_DATA        "1.2.840.113549.1.7.1"
#define OC_OID_PKCS7_SIGNED      "1.2.840.113549.1.7.2"
#define OC_OID_CCT_PKIDATA       "1.3.6.1.5.5.7.12.2"
#define OC_OID_CCT_PKIRESPONSE   "1.3.6.1.5.5.7.12.3"
#define OC_OID_CMC_STATUSINFO    "1.3.6.1.5.5.7.7.1"
#define OC_OID_SID_OTHERNAME     "1.3.6.1.4.1.311.25.2.1"

/* CertificateTemplateOID ::= SEQUENCE { OID, INTEGER OPTIONAL, INTEGER OPTIONAL } */
typedef struct {
	ASN1_OBJECT *template_id;
	ASN1_INTEGER *major;
	ASN1_INTEGER *minor;
} OC_TEMPLATE_V2;
DECLARE_ASN1_FUNCTIONS(OC_TEMPLATE_V2)

/* SEQUENCE { string } (MS-WCCE text form of the 20.2 value) */
typedef struct {
	ASN1_TYPE *name;
} OC_TEMPLATE_V1_SEQ;
DECLARE_ASN1_FUNCTIONS(OC_TEMPLATE_V1_SEQ)

/* EnrollmentNameValuePair ::= SEQUENCE { name BMPString, value BMPString } */
typedef struct {
	ASN1_BMPSTRING *name;
	ASN1_BMPSTRING *value;
} OC_NAME_VALUE;
DECLARE_ASN1_FUNCTIONS(OC_NAME_VALUE)

/* RFC 5272 TaggedAttribute ::= SEQUENCE { bodyPartID, attrType, attrValues SET OF ANY } */
typedef struct {
	ASN1_INTEGER *body_part_id;
	ASN1_OBJECT *attr_type;
	STACK_OF(ASN1_TYPE) *attr_values;
} OC_CMC_TAGGED_ATTR;
DECLARE_ASN1_FUNCTIONS(OC_CMC_TAGGED_ATTR)
DEFINE_STACK_OF(OC_CMC_TAGGED_ATTR)

/* TaggedCertificationRequest ::= SEQUENCE { bodyPartID, CertificationRequest } */
typedef struct {
	ASN1_INTEGER *body_part_id;
	X509_REQ *req;
} OC_CMC_TCR;
DECLARE_ASN1_FUNCTIONS(OC_CMC_TCR)

/*
 * TaggedRequest ::= CHOICE { tcr [0] TaggedCertificationRequest,
 *   crm [1] CertReqMsg, orm [2] SEQUENCE {...} } (IMPLICIT tags). crm and
 * orm are kept as undecoded element lists: only tcr is supported.
 */
#define OC_CMC_REQ_TCR 0
#define OC_CMC_REQ_CRM 1
#define OC_CMC_REQ_ORM 2
typedef struct {
	int type;
	union {
		OC_CMC_TCR *tcr;
		STACK_OF(ASN1_TYPE) *crm;
		STACK_OF(ASN1_TYPE) *orm;
	} d;
} OC_CMC_TAGGED_REQ;
DECLARE_ASN1_FUNCTIONS(OC_CMC_TAGGED_REQ)
DEFINE_STACK_OF(OC_CMC_TAGGED_REQ)

/* TaggedContentInfo ::= SEQUENCE { bodyPartID, ContentInfo (kept as ANY) } */
typedef struct {
	ASN1_INTEGER *body_part_id;
	ASN1_TYPE *content_info;
} OC_CMC_TAGGED_CI;
DECLARE_ASN1_FUNCTIONS(OC_CMC_TAGGED_CI)
DEFINE_STACK_OF(OC_CMC_TAGGED_CI)

/* OtherMsg ::= SEQUENCE { bodyPartID, otherMsgType OID, otherMsgValue ANY } */
typedef struct {
	ASN1_INTEGER *body_part_id;
	ASN1_OBJECT *type;
	ASN1_TYPE *value;
} OC_CMC_OTHER_MSG;
DECLARE_ASN1_FUNCTIONS(OC_CMC_OTHER_MSG)
DEFINE_STACK_OF(OC_CMC_OTHER_MSG)

/* PKIData ::= SEQUENCE { controlSequence, reqSequence, cmsSequence, otherMsgSequence } */
typedef struct {
	STACK_OF(OC_CMC_TAGGED_ATTR) *controls;
	STACK_OF(OC_CMC_TAGGED_REQ) *reqs;
	STACK_OF(OC_CMC_TAGGED_CI) *cms;
	STACK_OF(OC_CMC_OTHER_MSG) *other;
} OC_CMC_PKIDATA;
DECLARE_ASN1_FUNCTIONS(OC_CMC_PKIDATA)

/* PKIResponse ::= SEQUENCE { controlSequence, cmsSequence, otherMsgSequence } */
typedef struct {
	STACK_OF(OC_CMC_TAGGED_ATTR) *controls;
	STACK_OF(OC_CMC_TAGGED_CI) *cms;
	STACK_OF(OC_CMC_OTHER_MSG) *other;
} OC_CMC_PKIRESPONSE;
DECLARE_ASN1_FUNCTIONS(OC_CMC_PKIRESPONSE)

/* PendInfo ::= SEQUENCE { pendToken OCTET STRING, pendTime GeneralizedTime } */
typedef struct {
	ASN1_OCTET_STRING *token;
	ASN1_GENERALIZEDTIME *time;
} OC_CMC_PEND_INFO;
DECLARE_ASN1_FUNCTIONS(OC_CMC_PEND_INFO)

/* otherInfo CHOICE { failInfo CMCFailInfo, pendInfo PendInfo } */
#define OC_CMC_OTHER_FAIL 0
#define OC_CMC_OTHER_PEND 1
typedef struct {
	int type;
	union {
		ASN1_INTEGER *fail_info;
		OC_CMC_PEND_INFO *pend_info;
	} d;
} OC_CMC_OTHER_INFO;
DECLARE_ASN1_FUNCTIONS(OC_CMC_OTHER_INFO)

/* CMCStatusInfo ::= SEQUENCE { cMCStatus, bodyList, statusString OPTIONAL, otherInfo OPTIONAL } */
typedef struct {
	ASN1_INTEGER *status;
	STACK_OF(ASN1_INTEGER) *body_list;
	ASN1_UTF8STRING *status_string;
	OC_CMC_OTHER_INFO *other_info;
} OC_CMC_STATUS_INFO;
DECLARE_ASN1_FUNCTIONS(OC_CMC_STATUS_INFO)

/* CMCAddAttributesInfo (MS) ::= SEQUENCE { dataReference, certReferences, attributes SET OF Attribute } */
typedef struct {
	ASN1_INTEGER *data_reference;
	STACK_OF(ASN1_INTEGER) *cert_references;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} OC_CMC_ADD_ATTRS;
DECLARE_ASN1_FUNCTIONS(OC_CMC_ADD_ATTRS)

/* SET OF Attribute, in stack order: the DER that a CMS signature covers. */
DECLARE_ASN1_ITEM(OC_SIGNED_ATTRS)

/* --- helpers (pkix_asn1.c) --- */

/* i2d of an item into a malloc'd buffer (free with free()). */
int pkix_i2d(const ASN1_ITEM *it, const void *val, uint8_t **der, size_t *len) OC_WUR;
/* d2i of an item that must consume exactly len bytes: OC_ERR_DER otherwise. */
int pkix_d2i(const ASN1_ITEM *it, const uint8_t *p, size_t len, void **val) OC_WUR;
/* Dotted text of an OID into a malloc'd string (OC_ERR_LIMIT over OC_OID_MAX). */
int pkix_obj_to_text(const ASN1_OBJECT *obj, char **txt) OC_WUR;
/* Dotted OID text (numeric only) to an object; OC_ERR_INVALID if malformed. */
int pkix_obj_from_text(const char *txt, ASN1_OBJECT **obj) OC_WUR;
/* INTEGER (0..2^32-1) to uint32: OC_ERR_PARSE if negative or too large. */
int pkix_int_to_u32(const ASN1_INTEGER *ai, uint32_t *v) OC_WUR;
/* String type (BMP, UTF8, ...) to malloc'd UTF-8, max bytes, no NUL inside. */
int pkix_string_to_utf8(const ASN1_STRING *s, size_t max, char **out) OC_WUR;
/* Check the outer TLV: definite length, exactly len bytes. Tag/class out. */
int pkix_der_outer(const uint8_t *p, size_t len, int *tag, int *xclass,
    int *constructed, const uint8_t **content, size_t *clen) OC_WUR;

#endif
