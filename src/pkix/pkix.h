/*
 * PKIX helpers over OpenSSL shared by the front end (request inspection), the
 * CA (re-checks, certificate building, CMC responses) and the client (keys,
 * CSRs). No XML, no HTTP here.
 */
#ifndef OC_PKIX_H
#define OC_PKIX_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/util.h"
#include "ipc/ca_proto.h"      /* enum oc_req_format */

#define OC_OID_TEMPLATE_V2   "1.3.6.1.4.1.311.21.7"   /* szOID_CERTIFICATE_TEMPLATE */
#define OC_OID_TEMPLATE_V1   "1.3.6.1.4.1.311.20.2"   /* szOID_ENROLL_CERTTYPE_EXTENSION */
#define OC_OID_APP_POLICIES  "1.3.6.1.4.1.311.21.10"
#define OC_OID_SID_EXT       "1.3.6.1.4.1.311.25.2"
#define OC_OID_UPN           "1.3.6.1.4.1.311.20.2.3"
#define OC_OID_NAME_VALUE    "1.3.6.1.4.1.311.13.2.1" /* enrollment name-value pair */
#define OC_OID_RENEWAL_CERT  "1.3.6.1.4.1.311.13.1"
#define OC_OID_ISSUED_CERT_HASH "1.3.6.1.4.1.311.21.17"
#define OC_OID_CMC_ADD_ATTRIBUTES "1.3.6.1.4.1.311.10.10.1"

/* What a certificate request says, whatever its wrapping. */
struct oc_req_info {
	enum oc_req_format format;
	X509_REQ *csr;              /* the PKCS#10 (owned) */
	int csr_signature_ok;       /* 1 if the PKCS#10 self-signature verifies */
	X509 *signer;               /* CMS/CMC: the signer's certificate if present (owned) */
	int signer_signature_ok;    /* 1 if the CMS/CMC signature verifies with signer */
	uint32_t body_part_id;      /* 1 for bare PKCS#10, the tcr bodyPartID for CMC */
	/* template identification (any may be NULL/0) */
	char *template_v2_oid;      /* from 1.3.6.1.4.1.311.21.7 */
	uint32_t template_v2_major, template_v2_minor;
	char *template_v1_name;     /* from 1.3.6.1.4.1.311.20.2 */
	char *template_attr_name;   /* from the 1.3.6.1.4.1.311.13.2.1 CertificateTemplate pair */
	/* subject and names */
	char *subject;              /* RFC 2253 string, "" when empty */
	struct oc_strlist san_dns, san_email, san_upn, san_uri, san_ip;
	int san_other;              /* count of SAN entries of other kinds */
	/* key */
	int key_type;               /* EVP_PKEY_RSA, EVP_PKEY_EC, ... */
	int key_bits;
	char *key_curve;            /* "P-256" ... for EC */
	/* renewal: the certificate from attribute 1.3.6.1.4.1.311.13.1, if any (owned) */
	X509 *renewal_cert;
};

void oc_req_info_clear(struct oc_req_info *ri);

/* Detect PKCS#10, CMS SignedData (PKCS#7) or CMC from the first bytes. */
int pkix_detect_request(const uint8_t *der, size_t len, enum oc_req_format *fmt) OC_WUR;
/*
 * Parse and inspect a request (any format). Errors: OC_ERR_DER (undecodable,
 * truncated, trailing garbage), OC_ERR_PARSE (well-formed DER but not a request).
 * Signature failures are reported in the _ok fields, not as errors.
 */
int pkix_request_parse(const uint8_t *der, size_t len, struct oc_req_info *ri) OC_WUR;

/* Template extensions (templates.md 10.1, 10.2): DER of the extension *value*. */
int pkix_template_v2_encode(const char *oid, uint32_t major, uint32_t minor,
    uint8_t **der, size_t *len) OC_WUR;
int pkix_template_v2_decode(const uint8_t *der, size_t len, char **oid,
    uint32_t *major, uint32_t *minor) OC_WUR;
int pkix_template_v1_encode(const char *name, uint8_t **der, size_t *len) OC_WUR;   /* BMPString */
int pkix_template_v1_decode(const uint8_t *der, size_t len, char **name) OC_WUR;    /* BMP/UTF8/SEQ */
/* Application policies (1.3.6.1.4.1.311.21.10) value from a list of OIDs. */
int pkix_app_policies_encode(const struct oc_strlist *oids, uint8_t **der, size_t *len) OC_WUR;
/* SID extension (1.3.6.1.4.1.311.25.2) value for "S-1-5-...". */
int pkix_sid_ext_encode(const char *sid, uint8_t **der, size_t *len) OC_WUR;

/*
 * CMC full PKI response (wstep.md 7.1): SignedData v3, eContentType
 * id-cct-PKIResponse, statusInfo (cmc_status 0 success, 2 failed, 3 pending)
 * for body_part_id, the issued-cert-hash add-attributes control when issued,
 * certificates = issued (if any) + chain, signed by ca_key as ca_cert.
 */
int pkix_cmc_response(X509 *ca_cert, EVP_PKEY *ca_key, X509 *issued,
    STACK_OF(X509) *chain, int cmc_status, uint32_t body_part_id,
    const char *status_string, uint8_t **der, size_t *len) OC_WUR;

/* Client side */
/* alg: "RSA" (bits) or "ECDSA_P256" / "ECDSA_P384" / "ECDSA_P521". */
int pkix_key_generate(const char *alg, int bits, EVP_PKEY **key) OC_WUR;
struct pkix_csr_params {
	const char *subject;        /* "CN=x,O=y" (RFC 2253 or /CN=x form), may be NULL */
	const struct oc_strlist *dns;  /* SAN dNSNames, may be NULL */
	const char *template_oid;   /* v2 template: OID + versions */
	uint32_t template_major, template_minor;
	const char *template_name;  /* v1 template name (20.2) when no OID */
	const char *md;             /* digest name, NULL = sha256 */
};
int pkix_csr_build(EVP_PKEY *key, const struct pkix_csr_params *p,
    uint8_t **der, size_t *len) OC_WUR;
/* Parse "CN=a,O=b" or "/CN=a/O=b" into an X509_NAME. */
int pkix_name_parse(const char *s, X509_NAME **name) OC_WUR;

/* DER/PEM utilities */
int pkix_cert_to_pem(X509 *x, char **pem) OC_WUR;
int pkix_key_to_pem(EVP_PKEY *k, char **pem) OC_WUR;
int pkix_cert_from_der(const uint8_t *der, size_t len, X509 **x) OC_WUR;
/* SHA-1 / SHA-256 digest of DER bytes */
int pkix_sha1(const uint8_t *p, size_t n, uint8_t out[20]) OC_WUR;

#endif
