/*
 * The administrator's template file format (see directory_text.h): a bounded
 * line parser and the matching printer.
 */
#include "directory/directory_text.h"
#include "directory/directory_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/util.h"

#define LINE_MAX_LEN 4096

enum kind { K_STR, K_U32, K_FLAGS, K_I32, K_PERIOD, K_KU, K_LIST, K_CSP, K_SD };

struct key {
	const char *name;
	enum kind kind;
	size_t off;       /* offsetof in struct oc_template */
};

#define F(m) offsetof(struct oc_template, m)
static const struct key keys[] = {
	{ "cn", K_STR, F(cn) },
	{ "display_name", K_STR, F(display_name) },
	{ "oid", K_STR, F(oid) },
	{ "schema_version", K_U32, F(schema_version) },
	{ "revision", K_U32, F(revision) },
	{ "minor_revision", K_U32, F(minor_revision) },
	{ "general_flags", K_FLAGS, F(general_flags) },
	{ "enrollment_flags", K_FLAGS, F(enrollment_flags) },
	{ "private_key_flags", K_FLAGS, F(private_key_flags) },
	{ "name_flags", K_FLAGS, F(name_flags) },
	{ "min_key_size", K_U32, F(min_key_size) },
	{ "key_spec", K_U32, F(key_spec) },
	{ "ra_signatures", K_U32, F(ra_signatures) },
	{ "max_issuing_depth", K_I32, F(max_issuing_depth) },
	{ "validity", K_PERIOD, F(validity_seconds) },
	{ "renewal", K_PERIOD, F(renewal_seconds) },
	{ "key_usage", K_KU, F(key_usage) },
	{ "eku", K_LIST, F(eku) },
	{ "app_policy", K_LIST, F(app_policies) },
	{ "cert_policy", K_LIST, F(cert_policies) },
	{ "critical_ext", K_LIST, F(critical_exts) },
	{ "ra_app_policy", K_LIST, F(ra_app_policies) },
	{ "ra_policy", K_LIST, F(ra_policies) },
	{ "supersedes", K_LIST, F(superseded) },
	{ "csp", K_CSP, F(csps) },
	{ "key_algorithm", K_STR, F(key_algorithm) },
	{ "hash_algorithm", K_STR, F(hash_algorithm) },
	{ "security_descriptor", K_SD, F(security_descriptor) },
};
#undef F
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static int
parse_i64(const char *v, int64_t lo, int64_t hi, int64_t *out)
{
	char *end = NULL;
	long long x;

	errno = 0;
	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		unsigned long long u = strtoull(v + 2, &end, 16);
		if (v[2] == '\0' || u > INT64_MAX)
			return OC_ERR_PARSE;
		x = (long long)u;
	} else {
		x = strtoll(v, &end, 10);
	}
	if (errno != 0 || end == v || *end != '\0' || x < lo || x > hi)
		return OC_ERR_PARSE;
	*out = x;
	return OC_OK;
}

static int
parse_period(const char *v, int64_t *out)
{
	char num[32], *end = NULL;
	size_t n = strlen(v);
	int64_t mult = 1;
	long long x;

	if (n == 0 || n >= sizeof(num))
		return OC_ERR_PARSE;
	if (v[n - 1] < '0' || v[n - 1] > '9') {
		switch (v[n - 1]) {
		case 's': mult = 1; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 7 * 86400; break;
		case 'y': mult = 365 * 86400; break;
		default: return OC_ERR_PARSE;
		}
		n--;
	}
	memcpy(num, v, n);
	num[n] = '\0';
	errno = 0;
	x = strtoll(num, &end, 10);
	if (errno != 0 || end == num || *end != '\0' || x < 0 || x > 100LL * 365 * 86400 / mult)
		return OC_ERR_PARSE;
	*out = x * mult;
	return OC_OK;
}

void
oc_dir_period_format(int64_t s, char *buf, size_t len)
{
	static const struct { int64_t unit; char c; } units[] = {
		{ 365 * 86400, 'y' }, { 7 * 86400, 'w' }, { 86400, 'd' }, { 3600, 'h' },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (s > 0 && s % units[i].unit == 0) {
			snprintf(buf, len, "%" PRId64 "%c", s / units[i].unit, units[i].c);
			return;
		}
	snprintf(buf, len, "%" PRId64, s);
}

static int
parse_ku(const char *v, uint16_t *ku)
{
	char hex[5];
	size_t n = 0;

	if (v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
		v += 2;
	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == ':')
			continue;
		if (n >= 4 || strchr("0123456789abcdefABCDEF", *v) == NULL)
			return OC_ERR_PARSE;
		hex[n++] = *v;
	}
	if (n != 2 && n != 4)
		return OC_ERR_PARSE;
	hex[n] = '\0';
	*ku = (uint16_t)(strtoul(hex, NULL, 16) << (n == 2 ? 8 : 0));
	return OC_OK;
}

static int
add_csp(struct oc_template *t, const char *v)
{
	const char *comma = strchr(v, ',');
	struct oc_csp *nc;
	int64_t prio;
	char num[16];

	if (comma == NULL || comma == v || (size_t)(comma - v) >= sizeof(num) || comma[1] == '\0')
		return OC_ERR_PARSE;
	memcpy(num, v, (size_t)(comma - v));
	num[comma - v] = '\0';
	if (parse_i64(num, 0, UINT32_MAX, &prio) != OC_OK)
		return OC_ERR_PARSE;
	if (t->ncsps >= OC_LIST_MAX)
		return OC_ERR_LIMIT;
	if ((nc = realloc(t->csps, (t->ncsps + 1) * sizeof(*nc))) == NULL)
		return OC_ERR_NOMEM;
	t->csps = nc;
	if ((nc[t->ncsps].name = strdup(comma + 1)) == NULL)
		return OC_ERR_NOMEM;
	nc[t->ncsps].priority = (uint32_t)prio;
	t->ncsps++;
	return OC_OK;
}

static int
set_value(struct oc_template *t, const struct key *k, const char *v)
{
	char *base = (char *)t + k->off;
	int64_t x;
	int r;

	switch (k->kind) {
	case K_STR:
		if (*(char **)base != NULL)
			return OC_ERR_PARSE;     /* given twice */
		return (*(char **)base = strdup(v)) == NULL ? OC_ERR_NOMEM : OC_OK;
	case K_U32:
		if ((r = parse_i64(v, 0, UINT32_MAX, &x)) != OC_OK)
			return r;
		*(uint32_t *)base = (uint32_t)x;
		return OC_OK;
	case K_FLAGS:   /* AD stores flags as signed 32-bit: accept both forms */
		if ((r = parse_i64(v, INT32_MIN, UINT32_MAX, &x)) != OC_OK)
			return r;
		*(uint32_t *)base = (uint32_t)x;
		return OC_OK;
	case K_I32:
		if ((r = parse_i64(v, -1, INT32_MAX, &x)) != OC_OK)
			return r;
		*(int32_t *)base = (int32_t)x;
		return OC_OK;
	case K_PERIOD:
		return parse_period(v, (int64_t *)base);
	case K_KU:
		if (t->has_key_usage)
			return OC_ERR_PARSE;
		t->has_key_usage = 1;
		return parse_ku(v, &t->key_usage);
	case K_LIST:
		if (((struct oc_strlist *)base)->n >= OC_LIST_MAX)
			return OC_ERR_LIMIT;
		return oc_strlist_add((struct oc_strlist *)base, v);
	case K_CSP:
		return add_csp(t, v);
	case K_SD:
		if (t->security_descriptor != NULL)
			return OC_ERR_PARSE;
		return oc_b64_decode(v, strlen(v), &t->security_descriptor,
		    &t->security_descriptor_len, OC_DIR_ITEM_MAX * 32);
	}
	return OC_ERR_INTERNAL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int
oc_dir_template_parse(const uint8_t *p, size_t len, struct oc_template *t, size_t *errline)
{
	char line[LINE_MAX_LEN + 1];
	size_t off = 0, lineno = 0;
	int r = OC_OK;

	memset(t, 0, sizeof(*t));
	if (errline != NULL)
		*errline = 0;
	if (len > OC_DIR_TEXT_MAX)
		return OC_ERR_LIMIT;
	/* defaults: a v1 RSA template, 2048 bits, 1 year, 6 weeks overlap */
	t->schema_version = 1;
	t->revision = 1;
	t->min_key_size = 2048;
	t->key_spec = OC_KEYSPEC_KEYEXCHANGE;
	t->validity_seconds = 365 * 86400;
	t->renewal_seconds = 6 * 7 * 86400;
	while (off < len) {
		const uint8_t *nl = memchr(p + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (p + off)) : len - off;
		char *s, *eq, *key, *val;
		const struct key *k = NULL;

		lineno++;
		if (n > LINE_MAX_LEN || memchr(p + off, '\0', n) != NULL) {
			r = n > LINE_MAX_LEN ? OC_ERR_LIMIT : OC_ERR_PARSE;
			goto out;
		}
		memcpy(line, p + off, n);
		line[n] = '\0';
		off += n + (nl != NULL);
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			r = OC_ERR_PARSE;
			goto out;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		for (size_t i = 0; i < NKEYS; i++)
			if (strcasecmp(keys[i].name, key) == 0)
				k = &keys[i];
		if (k == NULL || *val == '\0' || !oc_dir_line_ok(val, LINE_MAX_LEN)) {
			r = OC_ERR_PARSE;
			goto out;
		}
		if ((r = set_value(t, k, val)) != OC_OK)
			goto out;
	}
	lineno = 0;
	if (t->cn == NULL) {
		r = OC_ERR_PARSE;
		goto out;
	}
	r = oc_dir_template_check(t, 1);
out:
	if (r != OC_OK) {
		if (errline != NULL)
			*errline = lineno;
		oc_template_clear(t);
	}
	return r;
}

static int
put_list(struct ocbuf *b, const char *key, const struct oc_strlist *l)
{
	int r;

	for (size_t i = 0; i < l->n; i++)
		if ((r = ocbuf_printf(b, "%s = %s\n", key, l->v[i])) != OC_OK)
			return r;
	return OC_OK;
}

int
oc_dir_template_format(const struct oc_template *t, struct ocbuf *b)
{
	char v[32], r_[32];
	char *sd = NULL;
	int r;

	oc_dir_period_format(t->validity_seconds, v, sizeof(v));
	oc_dir_period_format(t->renewal_seconds, r_, sizeof(r_));
	if ((r = ocbuf_printf(b, "cn = %s\n", t->cn ? t->cn : "")) != OC_OK ||
	    (t->display_name && (r = ocbuf_printf(b, "display_name = %s\n", t->display_name)) != OC_OK) ||
	    (t->oid && (r = ocbuf_printf(b, "oid = %s\n", t->oid)) != OC_OK) ||
	    (r = ocbuf_printf(b, "schema_version = %u\nrevision = %u\nminor_revision = %u\n",
	    t->schema_version, t->revision, t->minor_revision)) != OC_OK ||
	    (r = ocbuf_printf(b, "general_flags = 0x%08x\nenrollment_flags = 0x%08x\n"
	    "private_key_flags = 0x%08x\nname_flags = 0x%08x\n", t->general_flags,
	    t->enrollment_flags, t->private_key_flags, t->name_flags)) != OC_OK ||
	    (r = ocbuf_printf(b, "min_key_size = %u\nkey_spec = %u\nra_signatures = %u\n"
	    "max_issuing_depth = %d\nvalidity = %s\nrenewal = %s\n", t->min_key_size, t->key_spec,
	    t->ra_signatures, (int)t->max_issuing_depth, v, r_)) != OC_OK ||
	    (t->has_key_usage && (r = ocbuf_printf(b, "key_usage = %04x\n", t->key_usage)) != OC_OK) ||
	    (r = put_list(b, "eku", &t->eku)) != OC_OK ||
	    (r = put_list(b, "app_policy", &t->app_policies)) != OC_OK ||
	    (r = put_list(b, "cert_policy", &t->cert_policies)) != OC_OK ||
	    (r = put_list(b, "critical_ext", &t->critical_exts)) != OC_OK ||
	    (r = put_list(b, "ra_app_policy", &t->ra_app_policies)) != OC_OK ||
	    (r = put_list(b, "ra_policy", &t->ra_policies)) != OC_OK ||
	    (r = put_list(b, "supersedes", &t->superseded)) != OC_OK)
		goto out;
	for (size_t i = 0; i < t->ncsps; i++)
		if ((r = ocbuf_printf(b, "csp = %u,%s\n", t->csps[i].priority, t->csps[i].name)) != OC_OK)
			goto out;
	if ((t->key_algorithm && (r = ocbuf_printf(b, "key_algorithm = %s\n", t->key_algorithm)) != OC_OK) ||
	    (t->hash_algorithm && (r = ocbuf_printf(b, "hash_algorithm = %s\n", t->hash_algorithm)) != OC_OK))
		goto out;
	if (t->security_descriptor_len > 0) {
		if ((r = oc_b64_encode(t->security_descriptor, t->security_descriptor_len, &sd)) != OC_OK ||
		    (r = ocbuf_printf(b, "security_descriptor = %s\n", sd)) != OC_OK)
			goto out;
	}
	r = OC_OK;
out:
	free(sd);
	return r;
}
