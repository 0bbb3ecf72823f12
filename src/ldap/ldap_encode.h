/*
 * Directory entries as `opencesd ad publish` writes them (templates.md 3, 4,
 * 7, 8): an in-memory entry (DN, attributes, binary-safe values), the
 * pKICertificateTemplate attributes of a template, the msPKI-Enrollment-Servers
 * value of a CES URI, the cn of an msPKI-Enterprise-Oid object and the
 * sanitized cn of a CA. Every value written here decodes back through
 * directory/ad_attr.h to what it was made from.
 */
#ifndef OC_LDAP_ENCODE_H
#define OC_LDAP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "model/policy.h"
#include "model/template.h"

struct oc_ldap_val {
	uint8_t *p;                 /* malloc'd, NUL-terminated for convenience */
	size_t len;
};

struct oc_ldap_attr {
	char *name;                 /* lDAPDisplayName, no ;options */
	struct oc_ldap_val *v;
	size_t n;
};

struct oc_ldap_entry {
	char *dn;
	struct oc_ldap_attr *a;
	size_t n;
};

void oc_ldap_attr_clear(struct oc_ldap_attr *a);            /* NULL-safe */
void oc_ldap_entry_clear(struct oc_ldap_entry *e);          /* NULL-safe */
int oc_ldap_entry_set_dn(struct oc_ldap_entry *e, const char *dn) OC_WUR;
/* Append one value to attribute name (created on first use, names compared without case). */
int oc_ldap_entry_add(struct oc_ldap_entry *e, const char *name, const void *p,
    size_t len) OC_WUR;
int oc_ldap_entry_add_str(struct oc_ldap_entry *e, const char *name, const char *s) OC_WUR;
/* A 2.5.5.9 integer as AD writes it: signed 32-bit decimal. */
int oc_ldap_entry_add_u32(struct oc_ldap_entry *e, const char *name, uint32_t v) OC_WUR;
int oc_ldap_entry_add_list(struct oc_ldap_entry *e, const char *name,
    const struct oc_strlist *l) OC_WUR;
/* The attribute of that name (";binary" and other options ignored), or NULL. */
const struct oc_ldap_attr *oc_ldap_entry_get(const struct oc_ldap_entry *e, const char *name);
/* Does attribute a hold a value equal (bytes) to p/len? */
int oc_ldap_attr_has(const struct oc_ldap_attr *a, const void *p, size_t len);
/* Same values, in any order (exact bytes). */
int oc_ldap_attr_same(const struct oc_ldap_attr *a, const struct oc_ldap_attr *b);

/*
 * The pKICertificateTemplate entry of t at dn: objectClass, cn, displayName,
 * flags, revision, every msPKI-* and pKI* attribute of templates.md 3 that t
 * has a value for (no nTSecurityDescriptor: see ldap_sd_build.h).
 * OC_ERR_INVALID when t has no cn or OID.
 */
int oc_ldap_enc_template(const struct oc_template *t, const char *dn,
    struct oc_ldap_entry *e) OC_WUR;

/* One msPKI-Enrollment-Servers value (templates.md 7.2, five lines) into b. */
int oc_ldap_enc_ces(const struct oc_ces_uri *u, struct ocbuf *b) OC_WUR;

/*
 * The cn of the msPKI-Enterprise-Oid object of oid (templates.md 1.2, 8):
 * "<last arc>.<MD5 of the OID in UTF-16LE, 32 upper-case hex>". out: at
 * least OC_LDAP_OID_CN_MAX bytes.
 */
#define OC_LDAP_OID_CN_MAX (16 + 1 + 32 + 1)
int oc_ldap_oid_cn(const char *oid, char *out, size_t outlen) OC_WUR;

/*
 * The sanitized cn of a CA name ([MS-WCCE] 3.1.1.4.1.1, templates.md 1.2):
 * each disallowed byte becomes "!" and four lower-case hex digits. Names
 * longer than 57 characters once sanitized need the spec's hash, which is not
 * implemented: OC_ERR_NOT_SUPPORTED. *out malloc'd.
 */
int oc_ldap_ca_cn(const char *name, char **out) OC_WUR;

/*
 * Escape an RDN value for a DN string (RFC 4514: , + " \ < > ; = and a
 * leading space or '#', a trailing space). *out malloc'd.
 */
int oc_ldap_dn_escape(const char *v, char **out) OC_WUR;

#endif
