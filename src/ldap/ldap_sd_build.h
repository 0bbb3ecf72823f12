/*
 * A small builder of self-relative security descriptors ([MS-DTYP] 2.4.6) for
 * the objects `opencesd ad publish` creates: owner, group and a DACL of
 * allow ACEs (plain and object ACEs) in canonical order, ACL revision 4
 * (ACL_REVISION_DS, needed for object ACEs). What it builds parses back
 * through directory/ad_sd.h.
 */
#ifndef OC_LDAP_SD_BUILD_H
#define OC_LDAP_SD_BUILD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "directory/ad_sd.h"

/* SE_DACL_AUTO_INHERITED | SE_DACL_PROTECTED: SDDL "D:PAI" (templates.md 6.4) */
#define OC_LDAP_SD_DACL_PAI 0x1400u

/* Masks of the Windows default template ACLs (templates.md 6.4) */
#define OC_LDAP_MASK_READ   0x00020094u  /* LCRPLORC: Authenticated Users */
#define OC_LDAP_MASK_FULL   0x000F00FFu  /* CCDCLCSWRPWPDTLOSDRCWDWO: admins */
#define OC_LDAP_MASK_ENROLL 0x00000130u  /* RPWPCR on the Enroll/AutoEnroll GUID */

struct oc_ldap_sd_ace {
	uint32_t mask;
	const char *object_guid;    /* NULL: an ACCESS_ALLOWED_ACE; else an
	                               ACCESS_ALLOWED_OBJECT_ACE on that GUID */
	struct oc_ad_sid sid;
};

/*
 * Build the SD (control = SE_SELF_RELATIVE | SE_DACL_PRESENT | extra_control)
 * with the ACEs in the order given, plain ACEs expected first. *out malloc'd.
 * OC_ERR_LIMIT past OC_AD_SD_MAX or 16-bit ACL sizes.
 */
int oc_ldap_sd_build(const struct oc_ad_sid *owner, const struct oc_ad_sid *group,
    const struct oc_ldap_sd_ace *aces, size_t n, uint16_t extra_control,
    uint8_t **out, size_t *outlen) OC_WUR;

/* One grant of a template's SD: a SID and OC_RIGHT_ENROLL / OC_RIGHT_AUTOENROLL. */
struct oc_ldap_sd_grant {
	struct oc_ad_sid sid;
	uint32_t rights;
};

/*
 * The nTSecurityDescriptor of a template as a Windows CA installs it
 * (templates.md 6.4): owner and group Enterprise Admins (<domain>-519),
 * "D:PAI", Authenticated Users read (LCRPLORC), Domain Admins (-512) and
 * Enterprise Admins full control without extended rights plus Enroll
 * (RPWPCR on the Enroll GUID), then for each grant Enroll and/or AutoEnroll
 * object ACEs. domain: the domain SID (S-1-5-21-a-b-c). *out malloc'd.
 */
int oc_ldap_sd_template(const struct oc_ad_sid *domain, const struct oc_ldap_sd_grant *grants,
    size_t ngrants, uint8_t **out, size_t *outlen) OC_WUR;

/* domain SID + one RID (Domain Users 513, Domain Computers 515, ...). */
int oc_ldap_sid_rid(const struct oc_ad_sid *domain, uint32_t rid, struct oc_ad_sid *out) OC_WUR;

#endif
