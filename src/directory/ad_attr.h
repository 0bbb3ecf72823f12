/*
 * Decoders for the Active Directory attribute syntaxes of certificate
 * templates and CA objects (templates.md 3, 4.2, 4.3, 4.4, 4.7, 5.7, 7.2).
 * Every decoder takes one LDAP value as (p, len), not NUL-terminated, and
 * returns OC_ERR_PARSE for anything malformed.
 */
#ifndef OC_AD_ATTR_H
#define OC_AD_ATTR_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/util.h"
#include "model/policy.h"
#include "model/template.h"


/*
 * A 2.5.5.9 integer as LDAP gives it ("-1509949440" -> 0xA6000000): decimal,
 * optional '-', read as 64-bit and kept as its low 32 bits; values outside
 * [-2^31, 2^32 - 1] are OC_ERR_PARSE.
 */
int oc_ad_attr_u32(const uint8_t *p, size_t len, uint32_t *v) OC_WUR;
/* The signed text AD wants on write (out: at least 12 bytes). */
void oc_ad_attr_i32_text(uint32_t v, char out[12]);

/*
 * pKIExpirationPeriod / pKIOverlapPeriod: 8 bytes, little-endian signed,
 * a negative count of 100 ns units -> whole seconds (truncated). A positive
 * value is OC_ERR_PARSE.
 */
int oc_ad_attr_period(const uint8_t *p, size_t len, int64_t *seconds) OC_WUR;
/* The 8 stored bytes of a period of seconds (>= 0). */
void oc_ad_attr_period_encode(int64_t seconds, uint8_t out[8]);

/* pKIKeyUsage: 1 or 2 bytes -> (byte0 << 8) | byte1 (model/template.h). */
int oc_ad_attr_key_usage(const uint8_t *p, size_t len, uint16_t *ku) OC_WUR;

/* pKIDefaultCSPs "<priority>,<name>" -> csp (name malloc'd; free it). */
int oc_ad_attr_csp(const uint8_t *p, size_t len, struct oc_csp *csp) OC_WUR;

/*
 * msPKI-RA-Application-Policies (templates.md 4.7). A value with a backquote
 * is a list of name`type`value` triplets (types PZPWSTR and DWORD); otherwise
 * it is one OID. Unknown names are skipped.
 */
struct oc_ad_ra_app {
	struct oc_strlist ra_app_policies;  /* plain OIDs, and the comma-separated
	                                       msPKI-RA-Application-Policies triplet */
	struct oc_strlist ra_policies;      /* msPKI-RA-Policies triplet */
	char *asymmetric_algorithm;         /* msPKI-Asymmetric-Algorithm, e.g. "ECDSA_P256" */
	char *hash_algorithm;               /* msPKI-Hash-Algorithm */
	char *key_security_descriptor;      /* msPKI-Key-Security-Descriptor (SDDL) */
	char *symmetric_algorithm;          /* msPKI-Symmetric-Algorithm */
	uint32_t symmetric_key_length;      /* msPKI-Symmetric-Key-Length */
	uint32_t key_usage;                 /* msPKI-Key-Usage */
	int has_symmetric_key_length, has_key_usage;
};
/*
 * Decode one value into r (add to what earlier values put there). On error r
 * may hold part of the value: clear it and drop the attribute.
 */
int oc_ad_attr_ra_app_add(struct oc_ad_ra_app *r, const uint8_t *p, size_t len) OC_WUR;
void oc_ad_ra_app_clear(struct oc_ad_ra_app *r);        /* NULL-safe */

/*
 * msPKI-Enrollment-Servers (templates.md 7.2): one value holds one or more
 * "<priority>\n<auth>\n<renewalOnly>\n<URI>[\n<keyBasedRenewal>]" endpoints,
 * several separated by a blank line. Appends to *v / *n (at most OC_LIST_MAX
 * endpoints in all, else OC_ERR_LIMIT); on error *v / *n are unchanged.
 */
int oc_ad_attr_ces_add(const uint8_t *p, size_t len, struct oc_ces_uri **v, size_t *n) OC_WUR;
void oc_ad_ces_free(struct oc_ces_uri *v, size_t n);    /* NULL-safe */

#endif
