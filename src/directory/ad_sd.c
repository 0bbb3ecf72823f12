/*
 * Self-relative security descriptors, SIDs and GUIDs of Active Directory
 * (templates.md 6.3, [MS-DTYP] 2.4), and the Enroll / AutoEnroll access check
 * of templates.md 6.2.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "directory/ad_sd.h"
#include "directory/directory.h"

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	    ((uint32_t)p[3] << 24);
}

int
oc_ad_sid_parse(const uint8_t *p, size_t len, struct oc_ad_sid *sid, size_t *used)
{
	size_t need;

	if (p == NULL || sid == NULL || len < 8)
		return OC_ERR_PARSE;
	if (p[0] != 1 || p[1] > OC_AD_SID_SUBAUTH_MAX)
		return OC_ERR_PARSE;
	need = 8 + 4 * (size_t)p[1];
	if (len < need)
		return OC_ERR_PARSE;
	memset(sid, 0, sizeof(*sid));
	sid->revision = p[0];
	sid->nsub = p[1];
	memcpy(sid->authority, p + 2, 6);
	for (size_t i = 0; i < sid->nsub; i++)
		sid->sub[i] = le32(p + 8 + 4 * i);
	if (used != NULL)
		*used = need;
	return OC_OK;
}

void
oc_ad_sid_encode(const struct oc_ad_sid *sid, uint8_t *out, size_t *outlen)
{
	size_t n = sid->nsub > OC_AD_SID_SUBAUTH_MAX ? OC_AD_SID_SUBAUTH_MAX : sid->nsub;

	out[0] = sid->revision;
	out[1] = (uint8_t)n;
	memcpy(out + 2, sid->authority, 6);
	for (size_t i = 0; i < n; i++) {
		out[8 + 4 * i] = (uint8_t)sid->sub[i];
		out[9 + 4 * i] = (uint8_t)(sid->sub[i] >> 8);
		out[10 + 4 * i] = (uint8_t)(sid->sub[i] >> 16);
		out[11 + 4 * i] = (uint8_t)(sid->sub[i] >> 24);
	}
	*outlen = 8 + 4 * n;
}

int
oc_ad_sid_to_text(const struct oc_ad_sid *sid, char *buf, size_t len)
{
	uint64_t auth = 0;
	size_t off;
	int n;

	if (sid == NULL || buf == NULL || sid->nsub > OC_AD_SID_SUBAUTH_MAX)
		return OC_ERR_INVALID;
	for (int i = 0; i < 6; i++)
		auth = (auth << 8) | sid->authority[i];
	if (auth < (UINT64_C(1) << 32))
		n = snprintf(buf, len, "S-%u-%" PRIu64, sid->revision, auth);
	else
		n = snprintf(buf, len, "S-%u-0x%012" PRIX64, sid->revision, auth);
	if (n < 0 || (size_t)n >= len)
		return OC_ERR_LIMIT;
	off = (size_t)n;
	for (size_t i = 0; i < sid->nsub; i++) {
		n = snprintf(buf + off, len - off, "-%" PRIu32, sid->sub[i]);
		if (n < 0 || (size_t)n >= len - off)
			return OC_ERR_LIMIT;
		off += (size_t)n;
	}
	return OC_OK;
}

/* Digits of base 10 (or 16 when hex) at *sp up to '-' or NUL, at most max. */
static int
sid_number(const char **sp, int hex, uint64_t max, uint64_t *v)
{
	const char *s = *sp;
	uint64_t acc = 0;
	size_t nd = 0;

	for (; *s != '\0' && *s != '-'; s++, nd++) {
		int d = oc_hexval((unsigned char)*s);

		if (d < 0 || (!hex && d > 9))
			return OC_ERR_PARSE;
		acc = acc * (hex ? 16 : 10) + (unsigned)d;
		if (acc > max || nd > 20)
			return OC_ERR_PARSE;
	}
	if (nd == 0)
		return OC_ERR_PARSE;
	*v = acc;
	*sp = s;
	return OC_OK;
}

int
oc_ad_sid_from_text(const char *s, struct oc_ad_sid *sid)
{
	struct oc_ad_sid t;
	uint64_t v;
	int r;

	if (s == NULL || sid == NULL)
		return OC_ERR_INVALID;
	if (strnlen(s, OC_AD_SID_TEXT_MAX) >= OC_AD_SID_TEXT_MAX)
		return OC_ERR_PARSE;
	memset(&t, 0, sizeof(t));
	if ((s[0] != 'S' && s[0] != 's') || s[1] != '-')
		return OC_ERR_PARSE;
	s += 2;
	if ((r = sid_number(&s, 0, 255, &v)) != OC_OK)
		return r;
	if (v != 1 || *s != '-')
		return OC_ERR_PARSE;
	t.revision = 1;
	s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		r = sid_number(&s, 1, (UINT64_C(1) << 48) - 1, &v);
	} else
		r = sid_number(&s, 0, (UINT64_C(1) << 48) - 1, &v);
	if (r != OC_OK)
		return r;
	for (int i = 5; i >= 0; i--, v >>= 8)
		t.authority[i] = (uint8_t)v;
	while (*s == '-') {
		s++;
		if (t.nsub == OC_AD_SID_SUBAUTH_MAX)
			return OC_ERR_PARSE;
		if ((r = sid_number(&s, 0, UINT32_MAX, &v)) != OC_OK)
			return r;
		t.sub[t.nsub++] = (uint32_t)v;
	}
	if (*s != '\0')
		return OC_ERR_PARSE;
	*sid = t;
	return OC_OK;
}

int
oc_ad_sid_eq(const struct oc_ad_sid *a, const struct oc_ad_sid *b)
{
	if (a->revision != b->revision || a->nsub != b->nsub ||
	    memcmp(a->authority, b->authority, 6) != 0)
		return 0;
	return memcmp(a->sub, b->sub, sizeof(a->sub[0]) * a->nsub) == 0;
}

/*
 * Text byte i (in reading order) lands at wire position order[i]: Data1 (4
 * bytes), Data2 and Data3 (2 each) little-endian, Data4 (8) as written.
 */
static const uint8_t guid_order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };

int
oc_ad_guid_from_text(const char *s, uint8_t out[16])
{
	uint8_t g[16];
	size_t bi = 0;

	if (s == NULL || out == NULL)
		return OC_ERR_INVALID;
	if (strnlen(s, OC_AD_GUID_TEXT_LEN + 1) != OC_AD_GUID_TEXT_LEN)
		return OC_ERR_PARSE;
	for (size_t i = 0; i < OC_AD_GUID_TEXT_LEN;) {
		int hi, lo;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return OC_ERR_PARSE;
			i++;
			continue;
		}
		hi = oc_hexval(s[i]);
		lo = oc_hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return OC_ERR_PARSE;
		g[guid_order[bi++]] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	memcpy(out, g, 16);
	return OC_OK;
}

void
oc_ad_guid_to_text(const uint8_t g[16], char out[OC_AD_GUID_TEXT_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		uint8_t b = g[guid_order[i]];

		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[b >> 4];
		out[o++] = hx[b & 0xf];
	}
	out[o] = '\0';
}

void
oc_ad_sd_free(struct oc_ad_sd *sd)
{
	if (sd == NULL)
		return;
	free(sd->aces);
	free(sd);
}

/* The SID at offset off of the SD (off != 0). */
static int
sd_sid_at(const uint8_t *p, size_t len, uint32_t off, struct oc_ad_sid *sid)
{
	if (off < 20 || off >= len)
		return OC_ERR_PARSE;
	return oc_ad_sid_parse(p + off, len - off, sid, NULL);
}

/* One ACE body of a known type; p/len span exactly AceSize - 4 bytes. */
static int
ace_body(const uint8_t *p, size_t len, struct oc_ad_ace *ace)
{
	size_t off = 4, used;
	int r;

	if (len < 4)
		return OC_ERR_PARSE;
	ace->mask = le32(p);
	if (ace->type == OC_AD_ACE_ALLOWED_OBJECT || ace->type == OC_AD_ACE_DENIED_OBJECT) {
		if (len - off < 4)
			return OC_ERR_PARSE;
		ace->object_flags = le32(p + off);
		off += 4;
		if (ace->object_flags & ~(OC_AD_ACE_OBJECT_TYPE_PRESENT |
		    OC_AD_ACE_INHERITED_OBJECT_TYPE_PRESENT))
			return OC_ERR_PARSE;
		if (ace->object_flags & OC_AD_ACE_OBJECT_TYPE_PRESENT) {
			if (len - off < 16)
				return OC_ERR_PARSE;
			memcpy(ace->object_type, p + off, 16);
			off += 16;
		}
		if (ace->object_flags & OC_AD_ACE_INHERITED_OBJECT_TYPE_PRESENT) {
			if (len - off < 16)
				return OC_ERR_PARSE;
			memcpy(ace->inherited_object_type, p + off, 16);
			off += 16;
		}
	}
	if ((r = oc_ad_sid_parse(p + off, len - off, &ace->sid, &used)) != OC_OK)
		return r;
	/* Trailing bytes after the SID are allowed (padding, [MS-DTYP] 2.4.4.1). */
	ace->known = 1;
	return OC_OK;
}

static int
sd_dacl(const uint8_t *p, size_t len, uint32_t off, struct oc_ad_sd *sd)
{
	const uint8_t *acl;
	size_t aclsize, count, pos = 8;

	if (off < 20 || off >= len || len - off < 8)
		return OC_ERR_PARSE;
	acl = p + off;
	if (acl[0] != 2 && acl[0] != 4)
		return OC_ERR_PARSE;
	aclsize = le16(acl + 2);
	count = le16(acl + 4);
	if (aclsize < 8 || aclsize > len - off)
		return OC_ERR_PARSE;
	/* every ACE takes at least its 4-byte header plus a 4-byte mask plus an 8-byte SID */
	if (count > (aclsize - 8) / 16)
		return OC_ERR_PARSE;
	sd->acl_revision = acl[0];
	if (count > 0 && (sd->aces = calloc(count, sizeof(*sd->aces))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < count; i++) {
		struct oc_ad_ace *ace = &sd->aces[i];
		size_t acesize;
		int r;

		if (aclsize - pos < 4)
			return OC_ERR_PARSE;
		ace->type = acl[pos];
		ace->flags = acl[pos + 1];
		acesize = le16(acl + pos + 2);
		if (acesize < 4 || acesize % 4 != 0 || acesize > aclsize - pos)
			return OC_ERR_PARSE;
		switch (ace->type) {
		case OC_AD_ACE_ALLOWED:
		case OC_AD_ACE_DENIED:
		case OC_AD_ACE_ALLOWED_OBJECT:
		case OC_AD_ACE_DENIED_OBJECT:
			if ((r = ace_body(acl + pos + 4, acesize - 4, ace)) != OC_OK)
				return r;
			break;
		default:
			break;          /* kept for its type, never evaluated */
		}
		pos += acesize;
		sd->naces++;
	}
	sd->has_dacl = 1;
	return OC_OK;
}

int
oc_ad_sd_parse(const uint8_t *p, size_t len, struct oc_ad_sd **sdp)
{
	struct oc_ad_sd *sd = NULL;
	uint32_t oowner, ogroup, odacl;
	int r = OC_ERR_PARSE;

	if (sdp == NULL)
		return OC_ERR_INVALID;
	*sdp = NULL;
	if (p == NULL || len < 20)
		return OC_ERR_PARSE;
	if (len > OC_AD_SD_MAX)
		return OC_ERR_LIMIT;
	if ((sd = calloc(1, sizeof(*sd))) == NULL)
		return OC_ERR_NOMEM;
	sd->revision = p[0];
	sd->control = le16(p + 2);
	if (sd->revision != 1 || !(sd->control & OC_AD_SE_SELF_RELATIVE))
		goto out;
	oowner = le32(p + 4);
	ogroup = le32(p + 8);
	odacl = le32(p + 16);
	if (oowner != 0) {
		if ((r = sd_sid_at(p, len, oowner, &sd->owner)) != OC_OK)
			goto out;
		sd->has_owner = 1;
	}
	if (ogroup != 0) {
		if ((r = sd_sid_at(p, len, ogroup, &sd->group)) != OC_OK)
			goto out;
		sd->has_group = 1;
	}
	if ((sd->control & OC_AD_SE_DACL_PRESENT) && odacl != 0) {
		if ((r = sd_dacl(p, len, odacl, sd)) != OC_OK)
			goto out;
	} else if (odacl != 0) {
		r = OC_ERR_PARSE;       /* a DACL offset without SE_DACL_PRESENT */
		goto out;
	}
	*sdp = sd;
	sd = NULL;
	r = OC_OK;
 out:
	oc_ad_sd_free(sd);
	return r;
}

static int
token_has(const struct oc_ad_sid *tok, size_t ntok, const struct oc_ad_sid *sid)
{
	for (size_t i = 0; i < ntok; i++)
		if (oc_ad_sid_eq(&tok[i], sid))
			return 1;
	return 0;
}

/*
 * Does ace speak about the control-access right guid? Non-object ACEs and
 * object ACEs without an ObjectType cover all extended rights; GENERIC_ALL
 * covers everything. InheritedObjectType only steers inheritance: ignored.
 */
static int
ace_covers(const struct oc_ad_ace *ace, const uint8_t guid[16])
{
	if (!(ace->mask & (OC_AD_RIGHT_DS_CONTROL_ACCESS | OC_AD_GENERIC_ALL)))
		return 0;
	if (ace->type == OC_AD_ACE_ALLOWED || ace->type == OC_AD_ACE_DENIED)
		return 1;
	if (!(ace->object_flags & OC_AD_ACE_OBJECT_TYPE_PRESENT))
		return 1;
	return memcmp(ace->object_type, guid, 16) == 0;
}

/*
 * templates.md 6.2, an ordered Windows access check for one right: walk the
 * DACL in order, skip INHERIT_ONLY ACEs and ACEs whose SID is not in the
 * token, and take the first ACE that covers the 0x100 bit for the right's
 * GUID: an allow grants, a deny refuses. In a canonical DACL (explicit denies
 * before allows) a deny therefore wins over any allow; in a non-canonical one
 * the order decides, as on Windows. No deciding ACE: not granted.
 */
static int
right_granted(const struct oc_ad_sd *sd, const struct oc_ad_sid *tok, size_t ntok,
    const uint8_t guid[16])
{
	for (size_t i = 0; i < sd->naces; i++) {
		const struct oc_ad_ace *ace = &sd->aces[i];

		if (!ace->known || (ace->flags & OC_AD_ACE_INHERIT_ONLY))
			continue;
		if (!ace_covers(ace, guid) || !token_has(tok, ntok, &ace->sid))
			continue;
		return ace->type == OC_AD_ACE_ALLOWED || ace->type == OC_AD_ACE_ALLOWED_OBJECT;
	}
	return 0;
}

int
oc_ad_sd_rights(const struct oc_ad_sd *sd, const char *caller_sid,
    const struct oc_strlist *group_sids, uint32_t *rights)
{
	struct oc_ad_sid *tok = NULL;
	uint8_t genroll[16], gauto[16];
	size_t ntok = 0, ng = group_sids != NULL ? group_sids->n : 0;
	int r;

	if (sd == NULL || caller_sid == NULL || rights == NULL)
		return OC_ERR_INVALID;
	*rights = 0;
	if (ng > OC_AD_TOKEN_SIDS_MAX)
		return OC_ERR_LIMIT;
	if ((r = oc_ad_guid_from_text(OC_AD_GUID_ENROLL, genroll)) != OC_OK ||
	    (r = oc_ad_guid_from_text(OC_AD_GUID_AUTOENROLL, gauto)) != OC_OK)
		return OC_ERR_INTERNAL;
	if ((tok = calloc(ng + 1, sizeof(*tok))) == NULL)
		return OC_ERR_NOMEM;
	if (oc_ad_sid_from_text(caller_sid, &tok[ntok++]) != OC_OK) {
		r = OC_ERR_INVALID;
		goto out;
	}
	for (size_t i = 0; i < ng; i++) {
		if (oc_ad_sid_from_text(group_sids->v[i], &tok[ntok++]) != OC_OK) {
			r = OC_ERR_INVALID;
			goto out;
		}
	}
	r = OC_OK;
	if (!sd->has_dacl)
		goto out;               /* fail closed, see ad_sd.h */
	if (right_granted(sd, tok, ntok, genroll))
		*rights |= OC_RIGHT_ENROLL;
	if (right_granted(sd, tok, ntok, gauto))
		*rights |= OC_RIGHT_AUTOENROLL;
 out:
	free(tok);
	return r;
}
