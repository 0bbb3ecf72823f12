/*
 * MS-PAC decoding (see pac.h): PACTYPE, the NDR of KERB_VALIDATION_INFO,
 * UPN_DNS_INFO and PAC_REQUESTOR. Every read goes through a bounded cursor.
 */
#include "auth/pac.h"
#include "directory/ad_sd.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounded little-endian cursor; NDR alignment is relative to p (the stream start). */
struct pac_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
};

static int
rd_align(struct pac_rd *r, size_t a)
{
	size_t pad = (a - r->off % a) % a;

	if (pad > r->len - r->off)
		return OC_ERR_PARSE;
	r->off += pad;
	return OC_OK;
}

static int
rd_skip(struct pac_rd *r, size_t n)
{
	if (n > r->len - r->off)
		return OC_ERR_PARSE;
	r->off += n;
	return OC_OK;
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* NDR u32: 4-aligned. */
static int
rd_u32(struct pac_rd *r, uint32_t *v)
{
	if (rd_align(r, 4) != OC_OK || r->len - r->off < 4)
		return OC_ERR_PARSE;
	*v = le32(r->p + r->off);
	r->off += 4;
	return OC_OK;
}

static int
rd_u16(struct pac_rd *r, uint16_t *v)
{
	if (rd_align(r, 2) != OC_OK || r->len - r->off < 2)
		return OC_ERR_PARSE;
	*v = le16(r->p + r->off);
	r->off += 2;
	return OC_OK;
}

/* ---- SIDs ---- */

/* A whole binary SID (exactly len bytes) as text, by the directory's SID codec. */
int
oc_pac_sid_text(const uint8_t *p, size_t len, char *buf, size_t size)
{
	struct oc_ad_sid sid;
	size_t used = 0;

	if (p == NULL || buf == NULL || size < OC_PAC_SID_TEXT_MAX + 1)
		return OC_ERR_INVALID;
	buf[0] = '\0';
	if (oc_ad_sid_parse(p, len, &sid, &used) != OC_OK || used != len)
		return OC_ERR_PARSE;
	return oc_ad_sid_to_text(&sid, buf, size) == OC_OK ? OC_OK : OC_ERR_INTERNAL;
}

/* A binary SID plus one RID appended (domain SID + RID) as text. */
static int
sid_rid_text(const uint8_t *sid, size_t len, uint32_t rid, char *buf, size_t size)
{
	uint8_t tmp[8 + 4 * 15];

	if (len < 8 || len > sizeof(tmp) - 4 || sid[1] >= 15)
		return OC_ERR_PARSE;
	memcpy(tmp, sid, len);
	tmp[1]++;
	tmp[len] = (uint8_t)rid;
	tmp[len + 1] = (uint8_t)(rid >> 8);
	tmp[len + 2] = (uint8_t)(rid >> 16);
	tmp[len + 3] = (uint8_t)(rid >> 24);
	return oc_pac_sid_text(tmp, len + 4, buf, size);
}

/* NDR RPC_SID: conformance u32, then revision, count, authority, sub-authorities. */
static int
rd_sid(struct pac_rd *r, const uint8_t **sid, size_t *len)
{
	uint32_t max;
	size_t n;

	if (rd_u32(r, &max) != OC_OK || r->len - r->off < 8)
		return OC_ERR_PARSE;
	n = r->p[r->off + 1];
	if (r->p[r->off] != 1 || n > 15 || max != n || r->len - r->off < 8 + 4 * n)
		return OC_ERR_PARSE;
	*sid = r->p + r->off;
	*len = 8 + 4 * n;
	r->off += *len;
	return OC_OK;
}

static int
add_sid(struct oc_strlist *l, const char *s)
{
	if (oc_strlist_contains(l, s))
		return OC_OK;
	if (l->n >= OC_PAC_SIDS_MAX)
		return OC_ERR_LIMIT;
	return oc_strlist_add(l, s);
}

/* ---- strings ---- */

/*
 * UTF-16LE (nchars units) -> UTF-8, malloc'd. Refuses NUL, control
 * characters and unpaired surrogates.
 */
static int
utf16_text(const uint8_t *p, size_t nchars, char **out)
{
	char *s = NULL;
	size_t o = 0;

	*out = NULL;
	if (nchars > OC_PAC_MAX / 2)
		return OC_ERR_LIMIT;
	if ((s = malloc(nchars * 3 + 1)) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < nchars; i++) {
		uint32_t c = le16(p + 2 * i);

		if (c >= 0xd800 && c <= 0xdbff) {
			uint32_t lo;

			if (i + 1 >= nchars)
				goto bad;
			lo = le16(p + 2 * (i + 1));
			if (lo < 0xdc00 || lo > 0xdfff)
				goto bad;
			c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
			i++;
		} else if (c >= 0xdc00 && c <= 0xdfff)
			goto bad;
		if (c < 0x20 || c == 0x7f)
			goto bad;
		if (c < 0x80)
			s[o++] = (char)c;
		else if (c < 0x800) {
			s[o++] = (char)(0xc0 | c >> 6);
			s[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			s[o++] = (char)(0xe0 | c >> 12);
			s[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			s[o++] = (char)(0x80 | (c & 0x3f));
		} else {        /* 4 bytes from a surrogate pair (2 units, 6 bytes reserved) */
			s[o++] = (char)(0xf0 | c >> 18);
			s[o++] = (char)(0x80 | (c >> 12 & 0x3f));
			s[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			s[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	s[o] = '\0';
	*out = s;
	return OC_OK;
 bad:
	free(s);
	return OC_ERR_PARSE;
}

/* RPC_UNICODE_STRING header: Length, MaximumLength (bytes), pointer. */
struct ustr {
	uint16_t length;
	uint16_t maxlen;
	uint32_t ptr;
};

static int
rd_ustr_hdr(struct pac_rd *r, struct ustr *u)
{
	if (rd_u16(r, &u->length) != OC_OK || rd_u16(r, &u->maxlen) != OC_OK ||
	    rd_u32(r, &u->ptr) != OC_OK)
		return OC_ERR_PARSE;
	if (u->length % 2 != 0 || u->length > u->maxlen ||
	    (u->ptr == 0 && u->length != 0))
		return OC_ERR_PARSE;
	return OC_OK;
}

/* The deferred conformant-varying array of a string; text may be NULL (skip). */
static int
rd_ustr_body(struct pac_rd *r, const struct ustr *u, char **text)
{
	uint32_t max, first, count;
	const uint8_t *chars;
	int rc;

	if (u->ptr == 0)
		return OC_OK;
	if (rd_u32(r, &max) != OC_OK || rd_u32(r, &first) != OC_OK ||
	    rd_u32(r, &count) != OC_OK)
		return OC_ERR_PARSE;
	if (first != 0 || count > max || (size_t)count * 2 != u->length ||
	    r->len - r->off < (size_t)count * 2)
		return OC_ERR_PARSE;
	chars = r->p + r->off;
	r->off += (size_t)count * 2;
	if (text == NULL)
		return OC_OK;
	if ((rc = utf16_text(chars, count, text)) != OC_OK)
		return rc;
	return OC_OK;
}

/* ---- KERB_VALIDATION_INFO ---- */

/* GroupIds / ResourceGroupIds: conformance, then (RelativeId, Attributes) pairs. */
static int
rd_rids(struct pac_rd *r, uint32_t ptr, uint32_t count, const uint8_t *dom, size_t domlen,
    struct oc_strlist *out)
{
	char text[OC_PAC_SID_TEXT_MAX + 1];
	uint32_t max, rid, attr;
	int rc;

	if (ptr == 0)
		return count == 0 ? OC_OK : OC_ERR_PARSE;
	if (rd_u32(r, &max) != OC_OK || max != count ||
	    (r->len - r->off) / 8 < count)
		return OC_ERR_PARSE;
	for (uint32_t i = 0; i < count; i++) {
		if (rd_u32(r, &rid) != OC_OK || rd_u32(r, &attr) != OC_OK)
			return OC_ERR_PARSE;
		if (out == NULL || (attr & OC_PAC_SE_GROUP_USE_FOR_DENY_ONLY) != 0)
			continue;
		if ((rc = sid_rid_text(dom, domlen, rid, text, sizeof(text))) != OC_OK ||
		    (rc = add_sid(out, text)) != OC_OK)
			return rc;
	}
	return OC_OK;
}

/* ExtraSids: conformance, (pointer, Attributes) pairs, then the SIDs pointed to. */
static int
rd_extra_sids(struct pac_rd *r, uint32_t ptr, uint32_t count, struct oc_strlist *out)
{
	char text[OC_PAC_SID_TEXT_MAX + 1];
	uint32_t max, *ptrs = NULL, *attrs = NULL;
	const uint8_t *sid;
	size_t sidlen;
	int rc = OC_ERR_PARSE;

	if (ptr == 0)
		return count == 0 ? OC_OK : OC_ERR_PARSE;
	if (rd_u32(r, &max) != OC_OK || max != count ||
	    (r->len - r->off) / 8 < count)
		return OC_ERR_PARSE;
	if (count == 0)
		return OC_OK;
	if ((ptrs = calloc(count, sizeof(*ptrs))) == NULL ||
	    (attrs = calloc(count, sizeof(*attrs))) == NULL) {
		rc = OC_ERR_NOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < count; i++)
		if (rd_u32(r, &ptrs[i]) != OC_OK || rd_u32(r, &attrs[i]) != OC_OK)
			goto out;
	for (uint32_t i = 0; i < count; i++) {
		if (ptrs[i] == 0)
			continue;
		if (rd_sid(r, &sid, &sidlen) != OC_OK)
			goto out;
		if ((attrs[i] & OC_PAC_SE_GROUP_USE_FOR_DENY_ONLY) != 0)
			continue;
		if ((rc = oc_pac_sid_text(sid, sidlen, text, sizeof(text))) != OC_OK ||
		    (rc = add_sid(out, text)) != OC_OK)
			goto out;
	}
	rc = OC_OK;
 out:
	free(ptrs);
	free(attrs);
	return rc;
}

/* The NDR stream of PAC_LOGON_INFO (after the type serialization headers). */
static int
parse_kvi(struct pac_rd *r, struct oc_pac_info *info)
{
	struct ustr names[6], server, domain;
	uint32_t top, group_count, groups_ptr, domsid_ptr, sid_count, extra_ptr;
	uint32_t resdom_ptr, res_count, res_ptr, skip32;
	uint16_t skip16;
	const uint8_t *dom = NULL, *resdom = NULL;
	size_t domlen = 0, resdomlen = 0;
	char text[OC_PAC_SID_TEXT_MAX + 1];
	int rc;

	/* top-level unique pointer to KERB_VALIDATION_INFO */
	if (rd_u32(r, &top) != OC_OK || top == 0)
		return OC_ERR_PARSE;
	/* LogonTime .. PasswordMustChange: six FILETIMEs (two u32 each) */
	for (int i = 0; i < 12; i++)
		if (rd_u32(r, &skip32) != OC_OK)
			return OC_ERR_PARSE;
	/* EffectiveName, FullName, LogonScript, ProfilePath, HomeDirectory, HomeDirectoryDrive */
	for (int i = 0; i < 6; i++)
		if (rd_ustr_hdr(r, &names[i]) != OC_OK)
			return OC_ERR_PARSE;
	if (rd_u16(r, &skip16) != OC_OK || rd_u16(r, &skip16) != OC_OK ||   /* LogonCount, BadPasswordCount */
	    rd_u32(r, &info->user_id) != OC_OK ||
	    rd_u32(r, &info->primary_group_id) != OC_OK ||
	    rd_u32(r, &group_count) != OC_OK || rd_u32(r, &groups_ptr) != OC_OK ||
	    rd_u32(r, &info->user_flags) != OC_OK ||
	    rd_skip(r, 16) != OC_OK ||                                       /* UserSessionKey */
	    rd_ustr_hdr(r, &server) != OC_OK || rd_ustr_hdr(r, &domain) != OC_OK ||
	    rd_u32(r, &domsid_ptr) != OC_OK)
		return OC_ERR_PARSE;
	/* Reserved1[2], UserAccountControl, SubAuthStatus, two FILETIMEs, FailedILogonCount, Reserved3 */
	for (int i = 0; i < 10; i++)
		if (rd_u32(r, &skip32) != OC_OK)
			return OC_ERR_PARSE;
	if (rd_u32(r, &sid_count) != OC_OK || rd_u32(r, &extra_ptr) != OC_OK ||
	    rd_u32(r, &resdom_ptr) != OC_OK || rd_u32(r, &res_count) != OC_OK ||
	    rd_u32(r, &res_ptr) != OC_OK)
		return OC_ERR_PARSE;
	if (domsid_ptr == 0)
		return OC_ERR_PARSE;
	if (group_count > OC_PAC_SIDS_MAX || sid_count > OC_PAC_SIDS_MAX ||
	    res_count > OC_PAC_SIDS_MAX ||
	    (size_t)group_count + sid_count + res_count > OC_PAC_SIDS_MAX)
		return OC_ERR_LIMIT;

	/* Deferred referents, in the order of their pointers. */
	for (int i = 0; i < 6; i++)
		if ((rc = rd_ustr_body(r, &names[i], i == 0 ? &info->account_name : NULL)) != OC_OK)
			return rc;
	/* GroupIds come before LogonDomainId in the stream: keep the cursor, read the SID first. */
	{
		struct pac_rd groups = *r;
		uint32_t max;

		if (groups_ptr != 0) {
			if (rd_u32(r, &max) != OC_OK || max != group_count ||
			    rd_skip(r, (size_t)group_count * 8) != OC_OK)
				return OC_ERR_PARSE;
		} else if (group_count != 0)
			return OC_ERR_PARSE;
		if ((rc = rd_ustr_body(r, &server, NULL)) != OC_OK ||
		    (rc = rd_ustr_body(r, &domain, &info->domain_name)) != OC_OK)
			return rc;
		if (rd_sid(r, &dom, &domlen) != OC_OK)
			return OC_ERR_PARSE;
		if ((rc = oc_pac_sid_text(dom, domlen, text, sizeof(text))) != OC_OK ||
		    (info->domain_sid = strdup(text)) == NULL)
			return rc != OC_OK ? rc : OC_ERR_NOMEM;
		if ((rc = sid_rid_text(dom, domlen, info->user_id, text, sizeof(text))) != OC_OK ||
		    (info->user_sid = strdup(text)) == NULL)
			return rc != OC_OK ? rc : OC_ERR_NOMEM;
		if ((rc = sid_rid_text(dom, domlen, info->primary_group_id, text, sizeof(text))) != OC_OK ||
		    (rc = add_sid(&info->group_sids, text)) != OC_OK)
			return rc;
		if ((rc = rd_rids(&groups, groups_ptr, group_count, dom, domlen,
		    &info->group_sids)) != OC_OK)
			return rc;
	}
	if ((rc = rd_extra_sids(r, extra_ptr, sid_count, &info->group_sids)) != OC_OK)
		return rc;
	if (resdom_ptr != 0 && rd_sid(r, &resdom, &resdomlen) != OC_OK)
		return OC_ERR_PARSE;
	if (resdom == NULL && res_count != 0)
		return OC_ERR_PARSE;
	if ((rc = rd_rids(r, res_ptr, res_count, resdom, resdomlen,
	    (info->user_flags & OC_PAC_FLAG_RESOURCE_GROUPS) ? &info->group_sids : NULL)) != OC_OK)
		return rc;
	return OC_OK;
}

void
oc_pac_info_clear(struct oc_pac_info *info)
{
	if (info == NULL)
		return;
	free(info->user_sid);
	free(info->domain_sid);
	oc_strlist_free(&info->group_sids);
	free(info->account_name);
	free(info->domain_name);
	free(info->upn);
	memset(info, 0, sizeof(*info));
}

/* Type serialization version 1 headers ([MS-RPCE] 2.2.6), then the NDR. */
static int
logon_info(const uint8_t *p, size_t len, struct oc_pac_info *info)
{
	struct pac_rd r;
	uint32_t objlen;

	if (len > OC_PAC_MAX)
		return OC_ERR_LIMIT;
	if (len < 16 || p[0] != 1 || p[1] != 0x10 || le16(p + 2) != 8)
		return OC_ERR_PARSE;
	objlen = le32(p + 8);
	if (objlen > len - 16)
		return OC_ERR_PARSE;
	r.p = p + 16;
	r.len = objlen;
	r.off = 0;
	return parse_kvi(&r, info);
}

int
oc_pac_logon_info_parse(const uint8_t *p, size_t len, struct oc_pac_info *info)
{
	int rc;

	if (info == NULL)
		return OC_ERR_INVALID;
	memset(info, 0, sizeof(*info));
	if (p == NULL)
		return OC_ERR_INVALID;
	if ((rc = logon_info(p, len, info)) != OC_OK)
		oc_pac_info_clear(info);
	return rc;
}

/* UPN_DNS_INFO ([MS-PAC] 2.10): the UPN, and the SID of the extended form. */
static int
upn_dns_info(const uint8_t *p, size_t len, struct oc_pac_info *info)
{
	char text[OC_PAC_SID_TEXT_MAX + 1];
	size_t upnlen, upnoff, sidlen, sidoff;
	uint32_t flags;
	int rc;

	if (len < 12)
		return OC_ERR_PARSE;
	upnlen = le16(p);
	upnoff = le16(p + 2);
	flags = le32(p + 8);
	if (upnlen % 2 != 0 || upnoff > len || upnlen > len - upnoff)
		return OC_ERR_PARSE;
	if (upnlen > 0 && (rc = utf16_text(p + upnoff, upnlen / 2, &info->upn)) != OC_OK)
		return rc;
	if ((flags & 0x2) == 0)         /* S: extended with sAMAccountName and SID */
		return OC_OK;
	if (len < 20)
		return OC_ERR_PARSE;
	sidlen = le16(p + 16);
	sidoff = le16(p + 18);
	if (sidoff > len || sidlen > len - sidoff ||
	    (rc = oc_pac_sid_text(p + sidoff, sidlen, text, sizeof(text))) != OC_OK)
		return OC_ERR_PARSE;
	if (strcmp(text, info->user_sid) != 0)
		return OC_ERR_PARSE;
	return OC_OK;
}

static int
pac_parse(const uint8_t *p, size_t len, struct oc_pac_info *info)
{
	uint32_t count, version, type;
	const uint8_t *bp[OC_PAC_BUFFERS_MAX];
	size_t bl[OC_PAC_BUFFERS_MAX];
	uint32_t bt[OC_PAC_BUFFERS_MAX];
	char text[OC_PAC_SID_TEXT_MAX + 1];
	int logon = -1, upn = -1, req = -1, rc;

	if (len > OC_PAC_MAX)
		return OC_ERR_LIMIT;
	if (len < 8)
		return OC_ERR_PARSE;
	count = le32(p);
	version = le32(p + 4);
	if (version != 0 || count == 0)
		return OC_ERR_PARSE;
	if (count > OC_PAC_BUFFERS_MAX)
		return OC_ERR_LIMIT;
	if ((len - 8) / 16 < count)
		return OC_ERR_PARSE;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *e = p + 8 + 16 * (size_t)i;
		uint64_t off = (uint64_t)le32(e + 8) | (uint64_t)le32(e + 12) << 32;
		size_t size = le32(e + 4);

		type = le32(e);
		if (off < 8 + 16 * (uint64_t)count || off > len || size > len - off)
			return OC_ERR_PARSE;
		bp[i] = p + off;
		bl[i] = size;
		bt[i] = type;
		for (uint32_t j = 0; j < i; j++)
			if (bt[j] == type)
				return OC_ERR_PARSE;    /* each type at most once */
		if (type == OC_PAC_TYPE_LOGON_INFO)
			logon = (int)i;
		else if (type == OC_PAC_TYPE_UPN_DNS_INFO)
			upn = (int)i;
		else if (type == OC_PAC_TYPE_REQUESTOR)
			req = (int)i;
	}
	if (logon < 0)
		return OC_ERR_NOT_FOUND;        /* MIT KDCs (1.20+) sign a PAC without one */
	if ((rc = logon_info(bp[logon], bl[logon], info)) != OC_OK)
		return rc;
	if (upn >= 0 && (rc = upn_dns_info(bp[upn], bl[upn], info)) != OC_OK)
		return rc;
	if (req >= 0) {
		if (oc_pac_sid_text(bp[req], bl[req], text, sizeof(text)) != OC_OK ||
		    strcmp(text, info->user_sid) != 0)
			return OC_ERR_PARSE;
	}
	return OC_OK;
}

int
oc_pac_parse(const uint8_t *p, size_t len, struct oc_pac_info *info)
{
	int rc;

	if (info == NULL)
		return OC_ERR_INVALID;
	memset(info, 0, sizeof(*info));
	if (p == NULL)
		return OC_ERR_INVALID;
	if ((rc = pac_parse(p, len, info)) != OC_OK)
		oc_pac_info_clear(info);
	return rc;
}
