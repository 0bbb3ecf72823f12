/*
 * Active Directory attribute syntaxes of templates and CA objects
 * (templates.md 3, 4.2-4.4, 4.7, 5.7, 7.2).
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/limits.h"
#include "directory/ad_attr.h"

/* Unsigned decimal, 1..10 digits, at most max. */
static int
dec_u32(const uint8_t *p, size_t len, uint32_t max, uint32_t *v)
{
	uint64_t acc = 0;

	if (len == 0 || len > 10)
		return OC_ERR_PARSE;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return OC_ERR_PARSE;
		acc = acc * 10 + (uint64_t)(p[i] - '0');
	}
	if (acc > max)
		return OC_ERR_PARSE;
	*v = (uint32_t)acc;
	return OC_OK;
}

/* A copy of p as a C string; NUL bytes inside are OC_ERR_PARSE. */
static int
dup_text(const uint8_t *p, size_t len, size_t max, char **out)
{
	char *s;

	if (len > max || memchr(p, '\0', len) != NULL)
		return OC_ERR_PARSE;
	if ((s = malloc(len + 1)) == NULL)
		return OC_ERR_NOMEM;
	memcpy(s, p, len);
	s[len] = '\0';
	*out = s;
	return OC_OK;
}

int
oc_ad_attr_u32(const uint8_t *p, size_t len, uint32_t *v)
{
	uint64_t mag = 0;
	size_t i = 0;
	int neg = 0;

	if (p == NULL || v == NULL)
		return OC_ERR_INVALID;
	if (len > 0 && p[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (len - i == 0 || len - i > 10)
		return OC_ERR_PARSE;
	for (; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return OC_ERR_PARSE;
		mag = mag * 10 + (uint64_t)(p[i] - '0');
	}
	if (neg ? mag > UINT64_C(0x80000000) : mag > UINT32_MAX)
		return OC_ERR_PARSE;
	/* parse as 64-bit, keep the low 32 bits (templates.md 5.7) */
	*v = (uint32_t)(neg ? (UINT64_C(0) - mag) : mag);
	return OC_OK;
}

void
oc_ad_attr_i32_text(uint32_t v, char out[12])
{
	snprintf(out, 12, "%d", (int32_t)v);
}

int
oc_ad_attr_period(const uint8_t *p, size_t len, int64_t *seconds)
{
	uint64_t u = 0;
	int64_t v;

	if (p == NULL || seconds == NULL)
		return OC_ERR_INVALID;
	if (len != 8)
		return OC_ERR_PARSE;
	for (int i = 7; i >= 0; i--)
		u = (u << 8) | p[i];
	v = (int64_t)u;
	if (v > 0)
		return OC_ERR_PARSE;    /* a positive value is an absolute time, not a period */
	*seconds = -(v / 10000000); /* no overflow even for INT64_MIN */
	return OC_OK;
}

void
oc_ad_attr_period_encode(int64_t seconds, uint8_t out[8])
{
	uint64_t u;

	if (seconds < 0)
		seconds = 0;
	if (seconds > INT64_MAX / 10000000)
		seconds = INT64_MAX / 10000000;
	u = (uint64_t)(-(seconds * 10000000));
	for (int i = 0; i < 8; i++, u >>= 8)
		out[i] = (uint8_t)u;
}

int
oc_ad_attr_key_usage(const uint8_t *p, size_t len, uint16_t *ku)
{
	if (p == NULL || ku == NULL)
		return OC_ERR_INVALID;
	if (len != 1 && len != 2)
		return OC_ERR_PARSE;
	*ku = (uint16_t)(p[0] << 8 | (len == 2 ? p[1] : 0));
	return OC_OK;
}

int
oc_ad_attr_csp(const uint8_t *p, size_t len, struct oc_csp *csp)
{
	const uint8_t *comma;
	uint32_t prio;
	char *name = NULL;
	size_t plen;
	int r;

	if (p == NULL || csp == NULL)
		return OC_ERR_INVALID;
	if ((comma = memchr(p, ',', len)) == NULL)
		return OC_ERR_PARSE;
	plen = (size_t)(comma - p);
	if ((r = dec_u32(p, plen, UINT32_MAX, &prio)) != OC_OK)
		return r;
	if (len - plen - 1 == 0)
		return OC_ERR_PARSE;
	if ((r = dup_text(comma + 1, len - plen - 1, OC_NAME_MAX, &name)) != OC_OK)
		return r;
	csp->priority = prio;
	csp->name = name;
	return OC_OK;
}

/* Is p[0..len) a dotted OID (digits and single dots, 2+ arcs)? */
static int
oid_ok(const uint8_t *p, size_t len)
{
	size_t dots = 0;

	if (len == 0 || len > OC_OID_MAX || p[0] == '.' || p[len - 1] == '.')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (p[i - 1] == '.')
				return 0;
			dots++;
		} else if (p[i] < '0' || p[i] > '9')
			return 0;
	}
	return dots >= 1;
}

static int
add_oid(struct oc_strlist *l, const uint8_t *p, size_t len)
{
	if (!oid_ok(p, len))
		return OC_ERR_PARSE;
	if (l->n >= OC_LIST_MAX)
		return OC_ERR_LIMIT;
	return oc_strlist_addn(l, (const char *)p, len);
}

/* Comma-separated OIDs (empty items skipped). */
static int
add_oid_list(struct oc_strlist *l, const uint8_t *p, size_t len)
{
	size_t start = 0;
	int r;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != ',')
			continue;
		if (i > start && (r = add_oid(l, p + start, i - start)) != OC_OK)
			return r;
		start = i + 1;
	}
	return OC_OK;
}

static int
tok_is(const uint8_t *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

static int
set_str(char **dst, const uint8_t *p, size_t len)
{
	char *s = NULL;
	int r;

	if ((r = dup_text(p, len, OC_AD_ATTR_VALUE_MAX, &s)) != OC_OK)
		return r;
	free(*dst);
	*dst = s;
	return OC_OK;
}

/* One name`type`value triplet. */
static int
ra_triplet(struct oc_ad_ra_app *r, const uint8_t *name, size_t nlen,
    const uint8_t *type, size_t tlen, const uint8_t *val, size_t vlen)
{
	uint32_t d = 0;
	int rc;

	if (nlen == 0)
		return OC_ERR_PARSE;
	if (tok_is(type, tlen, "DWORD")) {
		if ((rc = dec_u32(val, vlen, UINT32_MAX, &d)) != OC_OK)
			return rc;
	} else if (!tok_is(type, tlen, "PZPWSTR"))
		return OC_ERR_PARSE;
	else if (memchr(val, '\0', vlen) != NULL)
		return OC_ERR_PARSE;

	if (tok_is(name, nlen, "msPKI-RA-Application-Policies"))
		return add_oid_list(&r->ra_app_policies, val, vlen);
	if (tok_is(name, nlen, "msPKI-RA-Policies"))
		return add_oid_list(&r->ra_policies, val, vlen);
	if (tok_is(name, nlen, "msPKI-Asymmetric-Algorithm"))
		return set_str(&r->asymmetric_algorithm, val, vlen);
	if (tok_is(name, nlen, "msPKI-Hash-Algorithm"))
		return set_str(&r->hash_algorithm, val, vlen);
	if (tok_is(name, nlen, "msPKI-Key-Security-Descriptor"))
		return set_str(&r->key_security_descriptor, val, vlen);
	if (tok_is(name, nlen, "msPKI-Symmetric-Algorithm"))
		return set_str(&r->symmetric_algorithm, val, vlen);
	if (tok_is(name, nlen, "msPKI-Symmetric-Key-Length")) {
		if (!tok_is(type, tlen, "DWORD"))
			return OC_ERR_PARSE;
		r->symmetric_key_length = d;
		r->has_symmetric_key_length = 1;
		return OC_OK;
	}
	if (tok_is(name, nlen, "msPKI-Key-Usage")) {
		if (!tok_is(type, tlen, "DWORD"))
			return OC_ERR_PARSE;
		r->key_usage = d;
		r->has_key_usage = 1;
		return OC_OK;
	}
	return OC_OK;                   /* unknown name: skipped */
}

int
oc_ad_attr_ra_app_add(struct oc_ad_ra_app *r, const uint8_t *p, size_t len)
{
	const uint8_t *tok[3];
	size_t tlen[3], nt = 0, start = 0;
	int rc;

	if (r == NULL || p == NULL)
		return OC_ERR_INVALID;
	if (len > OC_AD_ATTR_VALUE_MAX)
		return OC_ERR_LIMIT;
	if (memchr(p, '`', len) == NULL)
		return add_oid(&r->ra_app_policies, p, len);    /* plain OID form */
	/* name`type`value` ... : every token ends with a backquote (the last may not) */
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '`')
			continue;
		if (i == len && start == len)
			break;          /* the value ended with its backquote */
		tok[nt] = p + start;
		tlen[nt] = i - start;
		nt++;
		start = i + 1;
		if (nt == 3) {
			if ((rc = ra_triplet(r, tok[0], tlen[0], tok[1], tlen[1],
			    tok[2], tlen[2])) != OC_OK)
				return rc;
			nt = 0;
		}
	}
	return nt == 0 ? OC_OK : OC_ERR_PARSE;
}

void
oc_ad_ra_app_clear(struct oc_ad_ra_app *r)
{
	if (r == NULL)
		return;
	oc_strlist_free(&r->ra_app_policies);
	oc_strlist_free(&r->ra_policies);
	free(r->asymmetric_algorithm);
	free(r->hash_algorithm);
	free(r->key_security_descriptor);
	free(r->symmetric_algorithm);
	memset(r, 0, sizeof(*r));
}

void
oc_ad_ces_free(struct oc_ces_uri *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i].uri);
	free(v);
}

/* One endpoint from its 4 or 5 lines. */
static int
ces_one(const uint8_t *const *line, const size_t *llen, size_t nl, struct oc_ces_uri *u)
{
	uint32_t prio, auth, ren, kbr = 0;
	int r;

	if (nl != 4 && nl != 5)
		return OC_ERR_PARSE;
	if ((r = dec_u32(line[0], llen[0], UINT32_MAX, &prio)) != OC_OK ||
	    (r = dec_u32(line[1], llen[1], 8, &auth)) != OC_OK ||
	    (r = dec_u32(line[2], llen[2], 1, &ren)) != OC_OK)
		return r;
	if (auth != 0 && auth != 1 && auth != 2 && auth != 4 && auth != 8)
		return OC_ERR_PARSE;
	if (nl == 5 && (r = dec_u32(line[4], llen[4], 1, &kbr)) != OC_OK)
		return r;
	for (size_t i = 0; i < llen[3]; i++)
		if (line[3][i] < 0x21 || line[3][i] == 0x7f)
			return OC_ERR_PARSE;    /* no spaces or controls in a URI */
	if ((r = dup_text(line[3], llen[3], OC_SOAP_MAX_URI, &u->uri)) != OC_OK)
		return r;
	u->priority = prio;
	u->auth = auth;
	u->renewal_only = (int)ren;
	(void)kbr;                      /* keyBasedRenewal: no field in oc_ces_uri */
	return OC_OK;
}

int
oc_ad_attr_ces_add(const uint8_t *p, size_t len, struct oc_ces_uri **v, size_t *n)
{
	struct oc_ces_uri *out = NULL, *nv;
	const uint8_t *line[5];
	size_t llen[5], nl = 0, nout = 0, start = 0;
	int r = OC_ERR_PARSE;

	if (p == NULL || v == NULL || n == NULL)
		return OC_ERR_INVALID;
	if (len > OC_AD_ATTR_VALUE_MAX)
		return OC_ERR_LIMIT;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && p[i] != '\n')
			continue;
		if (i > start) {
			if (nl == 5) {
				r = OC_ERR_PARSE;   /* six lines without a blank one between */
				goto out;
			}
			line[nl] = p + start;
			llen[nl] = i - start;
			nl++;
		}
		start = i + 1;
		/* a blank line or the end closes an endpoint */
		if (nl > 0 && (i == len || (i + 1 < len && p[i + 1] == '\n') || i + 1 == len)) {
			if (*n + nout >= OC_LIST_MAX) {
				r = OC_ERR_LIMIT;
				goto out;
			}
			if ((nv = realloc(out, (nout + 1) * sizeof(*out))) == NULL) {
				r = OC_ERR_NOMEM;
				goto out;
			}
			out = nv;
			memset(&out[nout], 0, sizeof(out[nout]));
			if ((r = ces_one(line, llen, nl, &out[nout])) != OC_OK)
				goto out;
			nout++;
			nl = 0;
		}
	}
	if (nout == 0) {
		r = OC_ERR_PARSE;
		goto out;
	}
	if ((nv = realloc(*v, (*n + nout) * sizeof(**v))) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	memcpy(nv + *n, out, nout * sizeof(*out));
	*v = nv;
	*n += nout;
	free(out);
	out = NULL;
	nout = 0;
	r = OC_OK;
 out:
	oc_ad_ces_free(out, nout);
	return r;
}
