/*
 * MS-PAC decoding: the Privilege Attribute Certificate an Active Directory KDC
 * (Windows, Samba) puts in every service ticket, as MIT GSS-API hands it out
 * through gss_get_name_attribute ("urn:mspac:" = the whole PAC,
 * "urn:mspac:logon-info" = its KERB_VALIDATION_INFO buffer).
 *
 * What is decoded ([MS-PAC] 2.3, 2.4, 2.5, 2.10, 2.15; [MS-RPCE] 2.2.6 type
 * serialization version 1, little-endian NDR only):
 *   - user SID      = LogonDomainId + UserId;
 *   - group SIDs    = LogonDomainId + PrimaryGroupId, LogonDomainId + each
 *                     GroupIds RID, each ExtraSids SID, and, when UserFlags
 *                     has LOGON_RESOURCE_GROUPS (0x200), ResourceGroupDomainSid
 *                     + each ResourceGroupIds RID; in that order, duplicates
 *                     dropped; entries marked SE_GROUP_USE_FOR_DENY_ONLY (0x10)
 *                     are left out (they can only deny, and rights here only
 *                     allow);
 *   - EffectiveName and LogonDomainName (UTF-8);
 *   - from the whole PAC also the UPN of UPN_DNS_INFO; its SID (when present)
 *     and the PAC_REQUESTOR SID must equal the user SID.
 *
 * The PAC is signed by the KDC and MIT verifies it before giving it out, but
 * it is parsed as hostile input: every offset, count and length is checked
 * against the bytes given, counts are bounded (OC_PAC_SIDS_MAX), and any
 * inconsistency is OC_ERR_PARSE (OC_ERR_LIMIT for the bounds). Nothing is
 * logged here; the caller decides.
 */
#ifndef OC_AUTH_PAC_H
#define OC_AUTH_PAC_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/limits.h"
#include "common/util.h"

/*
 * Most group SIDs (GroupIds + ExtraSids + ResourceGroupIds together): an
 * identity's group list must fit OC_GROUPS_MAX (the IPC identity codec
 * refuses more), so a PAC with more is refused rather than cut short.
 */
#define OC_PAC_SIDS_MAX     OC_GROUPS_MAX
/* Room for the longest SID text: "S-1-0x" + 12 hex digits + 15 * "-4294967295" (183). */
#define OC_PAC_SID_TEXT_MAX 184

/* PAC_INFO_BUFFER ulType values used here ([MS-PAC] 2.4). */
#define OC_PAC_TYPE_LOGON_INFO    1
#define OC_PAC_TYPE_UPN_DNS_INFO  12
#define OC_PAC_TYPE_REQUESTOR     18

/* KERB_VALIDATION_INFO UserFlags bits ([MS-PAC] 2.5). */
#define OC_PAC_FLAG_EXTRA_SIDS       0x0020u
#define OC_PAC_FLAG_RESOURCE_GROUPS  0x0200u
/* SID attribute bit that makes a group deny-only ([MS-PAC] 2.2.1). */
#define OC_PAC_SE_GROUP_USE_FOR_DENY_ONLY 0x10u

struct oc_pac_info {
	char *user_sid;             /* "S-1-5-21-a-b-c-RID" */
	char *domain_sid;           /* LogonDomainId, "S-1-5-21-a-b-c" */
	struct oc_strlist group_sids;
	char *account_name;         /* EffectiveName, may be NULL */
	char *domain_name;          /* LogonDomainName, may be NULL */
	char *upn;                  /* UPN_DNS_INFO (whole PAC only), may be NULL */
	uint32_t user_id;           /* RID of the user */
	uint32_t primary_group_id;  /* RID of the primary group */
	uint32_t user_flags;
};

/*
 * A whole PAC (PACTYPE). info is cleared first. OC_ERR_NOT_FOUND when it is
 * well-formed but has no logon-info buffer (the minimal PAC of an MIT KDC,
 * 1.20 and later: client info and signatures only).
 */
int oc_pac_parse(const uint8_t *p, size_t len, struct oc_pac_info *info) OC_WUR;
/* One PAC_LOGON_INFO buffer (type serialization header + NDR). info is cleared first. */
int oc_pac_logon_info_parse(const uint8_t *p, size_t len, struct oc_pac_info *info) OC_WUR;
void oc_pac_info_clear(struct oc_pac_info *info);       /* NULL-safe */

/*
 * A binary SID ([MS-DTYP] 2.4.2.2: revision 1, count, 6-byte authority,
 * count little-endian sub-authorities; exactly that many bytes) as text into
 * buf (at least OC_PAC_SID_TEXT_MAX + 1 bytes).
 */
int oc_pac_sid_text(const uint8_t *p, size_t len, char *buf, size_t size) OC_WUR;

#endif
