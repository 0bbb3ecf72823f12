/* Internals of the xcep concern: the OID table and the extension values. */
#ifndef OC_XCEP_INT_H
#define OC_XCEP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"
#include "model/template.h"

/* [MS-XCEP] 3.1.4.1.3.16 OID groups */
#define XCEP_GROUP_HASH        1
#define XCEP_GROUP_PUBKEY      3
#define XCEP_GROUP_EXTENSION   6
#define XCEP_GROUP_EKU         7
#define XCEP_GROUP_POLICY      8
#define XCEP_GROUP_TEMPLATE    9

#define XCEP_OID_EKU        "2.5.29.37"
#define XCEP_OID_KEY_USAGE  "2.5.29.15"

/* One oID of the response; ids are assigned in insertion order from 1. */
struct xcep_oid {
	char *value;
	uint32_t group;
	int id;
	char *name;                 /* defaultName */
	int used;                   /* referenced by an emitted policy */
};

struct xcep_oidtab {
	struct xcep_oid *v;
	size_t n, cap;
};

/* Dotted decimal OID, at least two arcs, bounded by OC_OID_MAX. */
int xcep_oid_valid(const char *oid);
/* Add (value, group) once; name NULL = a well-known name or the value. */
int xcep_oidtab_add(struct xcep_oidtab *t, const char *value, uint32_t group,
    const char *name) OC_WUR;
/* The entry for (value, group), or NULL. */
struct xcep_oid *xcep_oidtab_find(const struct xcep_oidtab *t, const char *value,
    uint32_t group);
void xcep_oidtab_free(struct xcep_oidtab *t);

/* Group-1 OID for msPKI-Hash-Algorithm ("SHA256" ...), NULL if unknown. */
const char *xcep_hash_oid(const char *name);
/* Group-3 OID for msPKI-Asymmetric-Algorithm ("RSA", "ECDSA_P256" ...), NULL if unknown. */
const char *xcep_pubkey_oid(const char *name);
/* algorithmOIDReference source of a template: NULL when it must be nil. */
const char *xcep_template_pubkey_oid(const struct oc_template *t);
/* hashAlgorithmOIDReference source of a template: NULL when it must be nil. */
const char *xcep_template_hash_oid(const struct oc_template *t);
/* RA application policy OIDs (plain values or the CNG triplet property). */
int xcep_ra_ekus(const struct oc_template *t, struct oc_strlist *out) OC_WUR;
/* Add every OID a template may reference (stable order). */
int xcep_oidtab_add_template(struct xcep_oidtab *tab, const struct oc_template *t) OC_WUR;

/* One extension of attributes/extensions. */
struct xcep_ext {
	const char *oid;            /* group-6 OID (static string) */
	int critical;
	char *value_b64;            /* base64 of the DER extension value */
};

#define XCEP_MAX_EXTS 4

/*
 * The extensions the issued certificate will carry, in the order Windows
 * lists them: template (21.7 for v2+, 20.2 for v1), EKU, key usage,
 * application policies (v2+). Free with xcep_exts_clear.
 */
int xcep_template_exts(const struct oc_template *t, struct xcep_ext exts[XCEP_MAX_EXTS],
    size_t *n) OC_WUR;
void xcep_exts_clear(struct xcep_ext *exts, size_t n);

/* DER encoders of the extension values pkix does not provide. */
int xcep_der_eku(const struct oc_strlist *oids, uint8_t **der, size_t *len) OC_WUR;
int xcep_der_key_usage(uint16_t ku, uint8_t **der, size_t *len) OC_WUR;

#endif
