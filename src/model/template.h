/*
 * The certificate template model: every attribute of a pKICertificateTemplate
 * object (docs/protocol/templates.md sections 3-5), independent of where it
 * came from (embedded store or LDAP).
 */
#ifndef OC_MODEL_TEMPLATE_H
#define OC_MODEL_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* flags (general) -- [MS-CRTD] 2.4 */
#define OC_CT_GENERAL_AUTO_ENROLLMENT   0x00000020u
#define OC_CT_GENERAL_MACHINE_TYPE      0x00000040u
#define OC_CT_GENERAL_IS_CA             0x00000080u
#define OC_CT_GENERAL_ADD_TEMPLATE_NAME 0x00000200u
#define OC_CT_GENERAL_IS_CROSS_CA       0x00000800u
#define OC_CT_GENERAL_DONOTPERSISTINDB  0x00001000u
#define OC_CT_GENERAL_IS_DEFAULT        0x00010000u
#define OC_CT_GENERAL_IS_MODIFIED       0x00020000u

/* msPKI-Enrollment-Flag -- [MS-CRTD] 2.26 */
#define OC_CT_ENROLL_INCLUDE_SYMMETRIC_ALGORITHMS 0x00000001u
#define OC_CT_ENROLL_PEND_ALL_REQUESTS            0x00000002u
#define OC_CT_ENROLL_PUBLISH_TO_KRA_CONTAINER     0x00000004u
#define OC_CT_ENROLL_PUBLISH_TO_DS                0x00000008u
#define OC_CT_ENROLL_AUTO_ENROLLMENT_CHECK_USER_DS_CERTIFICATE 0x00000010u
#define OC_CT_ENROLL_AUTO_ENROLLMENT              0x00000020u
#define OC_CT_ENROLL_PREVIOUS_APPROVAL_VALIDATE_REENROLLMENT 0x00000040u
#define OC_CT_ENROLL_USER_INTERACTION_REQUIRED    0x00000100u
#define OC_CT_ENROLL_REMOVE_INVALID_CERTIFICATE_FROM_PERSONAL_STORE 0x00000400u
#define OC_CT_ENROLL_ALLOW_ENROLL_ON_BEHALF_OF    0x00000800u
#define OC_CT_ENROLL_ADD_OCSP_NOCHECK             0x00001000u
#define OC_CT_ENROLL_NOREVOCATIONINFOINISSUEDCERTS 0x00004000u
#define OC_CT_ENROLL_INCLUDE_BASIC_CONSTRAINTS_FOR_EE_CERTS 0x00008000u
#define OC_CT_ENROLL_ISSUANCE_POLICIES_FROM_REQUEST 0x00020000u
#define OC_CT_ENROLL_SKIP_AUTO_RENEWAL            0x00040000u
#define OC_CT_ENROLL_NO_SECURITY_EXTENSION        0x00080000u

/* msPKI-Private-Key-Flag -- [MS-CRTD] 2.27 */
#define OC_CT_PK_REQUIRE_PRIVATE_KEY_ARCHIVAL     0x00000001u
#define OC_CT_PK_EXPORTABLE_KEY                   0x00000010u
#define OC_CT_PK_STRONG_KEY_PROTECTION_REQUIRED   0x00000020u
#define OC_CT_PK_REQUIRE_ALTERNATE_SIGNATURE_ALGORITHM 0x00000040u
#define OC_CT_PK_REQUIRE_SAME_KEY_RENEWAL         0x00000080u
#define OC_CT_PK_USE_LEGACY_PROVIDER              0x00000100u
#define OC_CT_PK_CLIENT_VERSION_MASK              0x0F000000u
#define OC_CT_PK_SERVER_VERSION_MASK              0x000F0000u

/* msPKI-Certificate-Name-Flag -- [MS-CRTD] 2.28 */
#define OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT          0x00000001u
#define OC_CT_NAME_OLD_CERT_SUPPLIES_SUBJECT_AND_ALT_NAME 0x00000008u
#define OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT_ALT_NAME 0x00010000u
#define OC_CT_NAME_SUBJECT_ALT_REQUIRE_DOMAIN_DNS     0x00400000u
#define OC_CT_NAME_SUBJECT_ALT_REQUIRE_SPN            0x00800000u
#define OC_CT_NAME_SUBJECT_ALT_REQUIRE_DIRECTORY_GUID 0x01000000u
#define OC_CT_NAME_SUBJECT_ALT_REQUIRE_UPN            0x02000000u
#define OC_CT_NAME_SUBJECT_ALT_REQUIRE_EMAIL          0x04000000u
#define OC_CT_NAME_SUBJECT_ALT_REQUIRE_DNS            0x08000000u
#define OC_CT_NAME_SUBJECT_REQUIRE_DNS_AS_CN          0x10000000u
#define OC_CT_NAME_SUBJECT_REQUIRE_EMAIL              0x20000000u
#define OC_CT_NAME_SUBJECT_REQUIRE_COMMON_NAME        0x40000000u
#define OC_CT_NAME_SUBJECT_REQUIRE_DIRECTORY_PATH     0x80000000u

/* pKIDefaultKeySpec */
#define OC_KEYSPEC_KEYEXCHANGE 1
#define OC_KEYSPEC_SIGNATURE   2

struct oc_csp {
	uint32_t priority;   /* the number before the comma in pKIDefaultCSPs */
	char *name;
};

struct oc_template {
	char *cn;                    /* cn: the template name */
	char *display_name;          /* displayName */
	char *oid;                   /* msPKI-Cert-Template-OID */
	uint32_t schema_version;     /* msPKI-Template-Schema-Version (1..4) */
	uint32_t revision;           /* revision (major) */
	uint32_t minor_revision;     /* msPKI-Template-Minor-Revision */
	uint32_t general_flags;      /* flags */
	uint32_t enrollment_flags;   /* msPKI-Enrollment-Flag */
	uint32_t private_key_flags;  /* msPKI-Private-Key-Flag */
	uint32_t name_flags;         /* msPKI-Certificate-Name-Flag */
	uint32_t min_key_size;       /* msPKI-Minimal-Key-Size (bits) */
	uint32_t key_spec;           /* pKIDefaultKeySpec */
	uint32_t ra_signatures;      /* msPKI-RA-Signature */
	int32_t max_issuing_depth;   /* pKIMaxIssuingDepth (-1 unlimited) */
	int64_t validity_seconds;    /* from pKIExpirationPeriod */
	int64_t renewal_seconds;     /* from pKIOverlapPeriod */
	uint16_t key_usage;          /* pKIKeyUsage as the 2-byte BIT STRING content:
	                                (byte0 << 8) | byte1, e.g. a0 00 = 0xa000 */
	int has_key_usage;
	struct oc_strlist eku;              /* pKIExtendedKeyUsage */
	struct oc_strlist app_policies;     /* msPKI-Certificate-Application-Policy */
	struct oc_strlist cert_policies;    /* msPKI-Certificate-Policy (issuance) */
	struct oc_strlist critical_exts;    /* pKICriticalExtensions */
	struct oc_strlist ra_app_policies;  /* msPKI-RA-Application-Policies (raw values) */
	struct oc_strlist ra_policies;      /* msPKI-RA-Policies */
	struct oc_strlist superseded;       /* msPKI-Supersede-Templates */
	struct oc_csp *csps;                /* pKIDefaultCSPs */
	size_t ncsps;
	/*
	 * Key algorithm: "RSA" (default), or "ECDSA_P256"/"ECDSA_P384"/"ECDSA_P521"
	 * for v3+ templates whose msPKI-RA-Application-Policies name
	 * msPKI-Asymmetric-Algorithm (templates.md 4.7).
	 */
	char *key_algorithm;
	char *hash_algorithm;        /* e.g. "SHA256"; NULL = CA default */
	uint8_t *security_descriptor; /* nTSecurityDescriptor (directory backends) */
	size_t security_descriptor_len;
	int64_t changed;             /* change stamp (uSNChanged or store revision) */
};

void oc_template_free(struct oc_template *t);      /* NULL-safe; frees t itself */
void oc_template_clear(struct oc_template *t);     /* frees members only */
struct oc_template *oc_template_dup(const struct oc_template *t);

/* Is the key algorithm an elliptic curve one? Returns the NID-ish name or NULL. */
int oc_template_is_ec(const struct oc_template *t);

#endif
