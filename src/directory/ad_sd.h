/*
 * Active Directory security descriptors (templates.md 6): the self-relative
 * SECURITY_DESCRIPTOR of nTSecurityDescriptor ([MS-DTYP] 2.4.6), its SIDs and
 * object GUIDs, and the Enroll / AutoEnroll access check of templates.md 6.2.
 *
 * The parser treats its input as hostile: every offset, size and count is
 * checked against the buffer; anything inconsistent is OC_ERR_PARSE.
 */
#ifndef OC_AD_SD_H
#define OC_AD_SD_H

#include "common/limits.h"
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"

#define OC_AD_SID_SUBAUTH_MAX 15          /* [MS-DTYP] 2.4.2.2 */
#define OC_AD_SID_BYTES_MAX   (8 + 4 * OC_AD_SID_SUBAUTH_MAX)
#define OC_AD_SID_TEXT_MAX    192         /* "S-1-" 0x-authority, 15 x "-4294967295", NUL */
#define OC_AD_GUID_TEXT_LEN   36          /* "0e10c968-78fb-11d2-90d4-00c04f79dc55" */

/* Control flags ([MS-DTYP] 2.4.6) */
#define OC_AD_SE_DACL_PRESENT   0x0004u
#define OC_AD_SE_SELF_RELATIVE  0x8000u

/* ACE types and flags ([MS-DTYP] 2.4.4.1) */
#define OC_AD_ACE_ALLOWED        0x00
#define OC_AD_ACE_DENIED         0x01
#define OC_AD_ACE_ALLOWED_OBJECT 0x05
#define OC_AD_ACE_DENIED_OBJECT  0x06
#define OC_AD_ACE_INHERIT_ONLY   0x08   /* AceFlags */
#define OC_AD_ACE_OBJECT_TYPE_PRESENT           0x1u  /* object ACE Flags */
#define OC_AD_ACE_INHERITED_OBJECT_TYPE_PRESENT 0x2u

/* Access mask bits (templates.md 6.1, 6.2) */
#define OC_AD_RIGHT_DS_CONTROL_ACCESS 0x00000100u
#define OC_AD_GENERIC_ALL             0x10000000u

/* The extended rights of templates.md 6.1 */
#define OC_AD_GUID_ENROLL     "0e10c968-78fb-11d2-90d4-00c04f79dc55"
#define OC_AD_GUID_AUTOENROLL "a05b8cc2-17bc-4802-a710-e7c15ab866a2"

struct oc_ad_sid {
	uint8_t revision;                       /* 1 */
	uint8_t nsub;                           /* 0..15 */
	uint8_t authority[6];                   /* big-endian 48-bit */
	uint32_t sub[OC_AD_SID_SUBAUTH_MAX];
};

struct oc_ad_ace {
	uint8_t type;                /* OC_AD_ACE_*; other types are kept, never evaluated */
	uint8_t flags;               /* AceFlags */
	int known;                   /* type is one of the four above, body parsed */
	uint32_t mask;
	uint32_t object_flags;       /* object ACEs: OC_AD_ACE_*_TYPE_PRESENT */
	uint8_t object_type[16];     /* wire (mixed-endian) form, when present */
	uint8_t inherited_object_type[16];
	struct oc_ad_sid sid;
};

struct oc_ad_sd {
	uint8_t revision;            /* 1 */
	uint16_t control;
	int has_owner, has_group, has_dacl;
	struct oc_ad_sid owner, group;
	uint8_t acl_revision;        /* 2 or 4 */
	struct oc_ad_ace *aces;      /* DACL, in order */
	size_t naces;
};

/* Parse a binary SID at p (len bytes available); *used = its size. */
int oc_ad_sid_parse(const uint8_t *p, size_t len, struct oc_ad_sid *sid, size_t *used) OC_WUR;
/* Binary form into out (OC_AD_SID_BYTES_MAX bytes); *outlen = its size. */
void oc_ad_sid_encode(const struct oc_ad_sid *sid, uint8_t *out, size_t *outlen);
/* "S-1-5-21-...": authority in decimal below 2^32, else 0x + 12 hex digits. */
int oc_ad_sid_to_text(const struct oc_ad_sid *sid, char *buf, size_t len) OC_WUR;
/* Text to SID: "S-" revision "-" authority (decimal or 0x hex) then 0..15 sub-authorities. */
int oc_ad_sid_from_text(const char *s, struct oc_ad_sid *sid) OC_WUR;
int oc_ad_sid_eq(const struct oc_ad_sid *a, const struct oc_ad_sid *b);

/* GUID text (36 chars, any case, no braces) <-> the 16-byte [MS-DTYP] 2.3.4.2 form. */
int oc_ad_guid_from_text(const char *s, uint8_t out[16]) OC_WUR;
void oc_ad_guid_to_text(const uint8_t g[16], char out[OC_AD_GUID_TEXT_LEN + 1]);

/* Parse a self-relative SD (owner, group, DACL; the SACL is not read). */
int oc_ad_sd_parse(const uint8_t *p, size_t len, struct oc_ad_sd **sdp) OC_WUR;
void oc_ad_sd_free(struct oc_ad_sd *sd);                /* NULL-safe */

/*
 * The rights (OC_RIGHT_ENROLL, OC_RIGHT_AUTOENROLL of directory.h) the caller
 * holds by sd, per templates.md 6.2. The caller's token is caller_sid plus
 * group_sids (may be NULL) and nothing else: the caller must put every SID the
 * token holds there, Everyone S-1-1-0, Authenticated Users S-1-5-11 and
 * transitive groups included; they are not added here. An SD without a DACL
 * grants nothing (Windows would grant everything to a NULL DACL; a CA fails
 * closed). OC_ERR_INVALID for a malformed caller or group SID.
 */
int oc_ad_sd_rights(const struct oc_ad_sd *sd, const char *caller_sid,
    const struct oc_strlist *group_sids, uint32_t *rights) OC_WUR;

#endif
