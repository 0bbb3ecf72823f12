/*
 * Self-relative security descriptors for published templates (ldap_sd_build.h).
 */
#include "ldap/ldap_sd_build.h"

#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "directory/directory.h"

static void
le16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
le32(uint8_t *p, uint32_t v)
{
	le16(p, v);
	le16(p + 2, v >> 16);
}

static int
sid_ok(const struct oc_ad_sid *s)
{
	return s != NULL && s->revision == 1 && s->nsub <= OC_AD_SID_SUBAUTH_MAX;
}

int
oc_ldap_sd_build(const struct oc_ad_sid *owner, const struct oc_ad_sid *group,
    const struct oc_ldap_sd_ace *aces, size_t n, uint16_t extra_control,
    uint8_t **out, size_t *outlen)
{
	uint8_t *p = NULL, sid[OC_AD_SID_BYTES_MAX];
	size_t acl_len = 8, total, off, sidlen;
	int r = OC_ERR_INVALID;

	if (!sid_ok(owner) || !sid_ok(group) || (aces == NULL && n > 0) || out == NULL ||
	    outlen == NULL)
		return OC_ERR_INVALID;
	if (n > 0xffff)
		return OC_ERR_LIMIT;
	for (size_t i = 0; i < n; i++) {
		if (!sid_ok(&aces[i].sid))
			return OC_ERR_INVALID;
		acl_len += 8 + (aces[i].object_guid ? 4 + 16 : 0) + 8 + 4u * aces[i].sid.nsub;
	}
	if (acl_len > 0xffff)
		return OC_ERR_LIMIT;
	total = 20 + acl_len + 8 + 4u * owner->nsub + 8 + 4u * group->nsub;
	if (total > OC_AD_SD_MAX)
		return OC_ERR_LIMIT;
	if ((p = calloc(1, total)) == NULL)
		return OC_ERR_NOMEM;
	/* header: revision, sbz1, control, owner, group, sacl, dacl */
	p[0] = 1;
	le16(p + 2, OC_AD_SE_SELF_RELATIVE | OC_AD_SE_DACL_PRESENT | extra_control);
	le32(p + 16, 20);
	/* DACL */
	off = 20;
	p[off] = 4;                       /* ACL_REVISION_DS */
	le16(p + off + 2, (uint32_t)acl_len);
	le16(p + off + 4, (uint32_t)n);
	off += 8;
	for (size_t i = 0; i < n; i++) {
		size_t start = off;

		p[off] = aces[i].object_guid ? OC_AD_ACE_ALLOWED_OBJECT : OC_AD_ACE_ALLOWED;
		p[off + 1] = 0;
		le32(p + off + 4, aces[i].mask);
		off += 8;
		if (aces[i].object_guid != NULL) {
			le32(p + off, OC_AD_ACE_OBJECT_TYPE_PRESENT);
			if ((r = oc_ad_guid_from_text(aces[i].object_guid, p + off + 4)) != OC_OK)
				goto out;
			off += 20;
		}
		oc_ad_sid_encode(&aces[i].sid, sid, &sidlen);
		memcpy(p + off, sid, sidlen);
		off += sidlen;
		le16(p + start + 2, (uint32_t)(off - start));
	}
	le32(p + 4, (uint32_t)off);       /* owner */
	oc_ad_sid_encode(owner, sid, &sidlen);
	memcpy(p + off, sid, sidlen);
	off += sidlen;
	le32(p + 8, (uint32_t)off);       /* group */
	oc_ad_sid_encode(group, sid, &sidlen);
	memcpy(p + off, sid, sidlen);
	off += sidlen;
	if (off != total) {
		r = OC_ERR_INTERNAL;
		goto out;
	}
	*out = p;
	*outlen = total;
	p = NULL;
	r = OC_OK;
out:
	free(p);
	return r;
}

int
oc_ldap_sid_rid(const struct oc_ad_sid *domain, uint32_t rid, struct oc_ad_sid *out)
{
	if (!sid_ok(domain) || out == NULL || domain->nsub >= OC_AD_SID_SUBAUTH_MAX)
		return OC_ERR_INVALID;
	*out = *domain;
	out->sub[out->nsub++] = rid;
	return OC_OK;
}

int
oc_ldap_sd_template(const struct oc_ad_sid *domain, const struct oc_ldap_sd_grant *grants,
    size_t ngrants, uint8_t **out, size_t *outlen)
{
	struct oc_ldap_sd_ace *aces = NULL;
	struct oc_ad_sid ea, da;
	size_t n = 0;
	int r;

	if (!sid_ok(domain) || (grants == NULL && ngrants > 0))
		return OC_ERR_INVALID;
	if (ngrants > OC_LIST_MAX)
		return OC_ERR_LIMIT;
	if ((r = oc_ldap_sid_rid(domain, 519, &ea)) != OC_OK ||
	    (r = oc_ldap_sid_rid(domain, 512, &da)) != OC_OK)
		return r;
	if ((aces = calloc(5 + 2 * ngrants, sizeof(*aces))) == NULL)
		return OC_ERR_NOMEM;
	/* Authenticated Users S-1-5-11: read (KB 283218) */
	aces[n].mask = OC_LDAP_MASK_READ;
	if ((r = oc_ad_sid_from_text("S-1-5-11", &aces[n].sid)) != OC_OK)
		goto out;
	n++;
	aces[n].mask = OC_LDAP_MASK_FULL;
	aces[n++].sid = da;
	aces[n].mask = OC_LDAP_MASK_FULL;
	aces[n++].sid = ea;
	aces[n].mask = OC_LDAP_MASK_ENROLL;
	aces[n].object_guid = OC_AD_GUID_ENROLL;
	aces[n++].sid = da;
	aces[n].mask = OC_LDAP_MASK_ENROLL;
	aces[n].object_guid = OC_AD_GUID_ENROLL;
	aces[n++].sid = ea;
	for (size_t i = 0; i < ngrants; i++) {
		if (!sid_ok(&grants[i].sid)) {
			r = OC_ERR_INVALID;
			goto out;
		}
		if (grants[i].rights & OC_RIGHT_ENROLL) {
			aces[n].mask = OC_LDAP_MASK_ENROLL;
			aces[n].object_guid = OC_AD_GUID_ENROLL;
			aces[n++].sid = grants[i].sid;
		}
		if (grants[i].rights & OC_RIGHT_AUTOENROLL) {
			aces[n].mask = OC_LDAP_MASK_ENROLL;
			aces[n].object_guid = OC_AD_GUID_AUTOENROLL;
			aces[n++].sid = grants[i].sid;
		}
	}
	r = oc_ldap_sd_build(&ea, &ea, aces, n, OC_LDAP_SD_DACL_PAI, out, outlen);
out:
	free(aces);
	return r;
}
