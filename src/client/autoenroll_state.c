/*
 * The autoenrollment store's state.json: entries, a bounded JSON reader for
 * exactly what the writer produces (objects, arrays, strings, integers, true,
 * false, null; unknown keys skipped) and the writer.
 */
#include "client/autoenroll.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

#define AE_JSON_DEPTH_MAX 8
#define AE_STRING_MAX     2048

/* ------------------------------------------------------------------ */
/* Entries */

void
client_ae_entry_clear(struct client_ae_entry *e)
{
	if (e == NULL)
		return;
	free(e->template_name);
	free(e->key_file);
	free(e->cert_file);
	free(e->serial);
	free(e->last_result);
	free(e->request_id);
	memset(e, 0, sizeof(*e));
}

void
client_ae_state_clear(struct client_ae_state *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; i < st->n; i++)
		client_ae_entry_clear(&st->v[i]);
	free(st->v);
	st->v = NULL;
	st->n = 0;
}

struct client_ae_entry *
client_ae_state_find(const struct client_ae_state *st, const char *cn)
{
	if (st == NULL || cn == NULL)
		return NULL;
	for (size_t i = 0; i < st->n; i++)
		if (st->v[i].template_name != NULL && strcasecmp(st->v[i].template_name, cn) == 0)
			return &st->v[i];
	return NULL;
}

int
client_ae_state_get(struct client_ae_state *st, const char *cn, struct client_ae_entry **e)
{
	struct client_ae_entry *v;

	*e = client_ae_state_find(st, cn);
	if (*e != NULL)
		return OC_OK;
	if (st->n >= CLIENT_AE_ENTRIES_MAX)
		return OC_ERR_LIMIT;
	if ((v = realloc(st->v, (st->n + 1) * sizeof(*v))) == NULL)
		return OC_ERR_NOMEM;
	st->v = v;
	memset(&v[st->n], 0, sizeof(v[st->n]));
	if ((v[st->n].template_name = strdup(cn)) == NULL)
		return OC_ERR_NOMEM;
	*e = &v[st->n++];
	return OC_OK;
}

void
client_ae_state_remove(struct client_ae_state *st, size_t i)
{
	if (st == NULL || i >= st->n)
		return;
	client_ae_entry_clear(&st->v[i]);
	memmove(&st->v[i], &st->v[i + 1], (st->n - i - 1) * sizeof(st->v[0]));
	st->n--;
}

int
client_ae_file_name_ok(const char *name)
{
	size_t n;

	if (name == NULL || (n = strlen(name)) == 0 || n > CLIENT_AE_FILE_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '/' || c < 0x20 || c == 0x7f)
			return 0;
	}
	return 1;
}

int
client_ae_file_name(const char *cn, const char *suffix, char **out)
{
	static const char hex[] = "0123456789ABCDEF";
	struct ocbuf b;
	int r = OC_OK;

	*out = NULL;
	ocbuf_init(&b, CLIENT_AE_FILE_MAX + 1);
	for (size_t i = 0; cn[i] != '\0' && r == OC_OK; i++) {
		unsigned char c = (unsigned char)cn[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-' || (c == '.' && i > 0))
			r = ocbuf_putc(&b, (char)c);
		else if ((r = ocbuf_putc(&b, '%')) == OC_OK &&
		    (r = ocbuf_putc(&b, hex[c >> 4])) == OC_OK)
			r = ocbuf_putc(&b, hex[c & 15]);
	}
	if (r == OC_OK && cn[0] == '\0')
		r = OC_ERR_INVALID;
	if (r == OC_OK && (r = ocbuf_puts(&b, suffix)) == OC_OK)
		r = ocbuf_putc(&b, '\0');
	if (r == OC_OK && ocbuf_avail(&b) - 1 > CLIENT_AE_FILE_MAX)
		r = OC_ERR_LIMIT;
	if (r == OC_OK)
		*out = (char *)ocbuf_take(&b, NULL);
	ocbuf_free(&b);
	return r;
}

/* ------------------------------------------------------------------ */
/* Reader */

struct jr {
	const uint8_t *p;
	size_t len, pos;
	int depth;
};

static void
jr_ws(struct jr *j)
{
	while (j->pos < j->len && (j->p[j->pos] == ' ' || j->p[j->pos] == '\t' ||
	    j->p[j->pos] == '\n' || j->p[j->pos] == '\r'))
		j->pos++;
}

/* Skip whitespace and consume c. */
static int
jr_eat(struct jr *j, char c)
{
	jr_ws(j);
	if (j->pos >= j->len || j->p[j->pos] != (uint8_t)c)
		return OC_ERR_PARSE;
	j->pos++;
	return OC_OK;
}

/* Skip whitespace; the next byte (0 at the end). */
static int
jr_peek(struct jr *j)
{
	jr_ws(j);
	return j->pos < j->len ? j->p[j->pos] : 0;
}

/* A string (malloc'd, NUL-terminated; an embedded NUL is refused). */
static int
jr_string(struct jr *j, char **out)
{
	struct ocbuf b;
	int r;

	*out = NULL;
	if ((r = jr_eat(j, '"')) != OC_OK)
		return r;
	ocbuf_init(&b, AE_STRING_MAX + 1);
	for (;;) {
		uint8_t c;

		if (j->pos >= j->len) {
			r = OC_ERR_PARSE;
			goto out;
		}
		c = j->p[j->pos++];
		if (c == '"')
			break;
		if (c < 0x20) {
			r = OC_ERR_PARSE;
			goto out;
		}
		if (c != '\\') {
			if ((r = ocbuf_putc(&b, (char)c)) != OC_OK)
				goto out;
			continue;
		}
		if (j->pos >= j->len) {
			r = OC_ERR_PARSE;
			goto out;
		}
		c = j->p[j->pos++];
		switch (c) {
		case '"': case '\\': case '/': r = ocbuf_putc(&b, (char)c); break;
		case 'b': r = ocbuf_putc(&b, '\b'); break;
		case 'f': r = ocbuf_putc(&b, '\f'); break;
		case 'n': r = ocbuf_putc(&b, '\n'); break;
		case 'r': r = ocbuf_putc(&b, '\r'); break;
		case 't': r = ocbuf_putc(&b, '\t'); break;
		case 'u': {
			unsigned v = 0;
			if (j->len - j->pos < 4) {
				r = OC_ERR_PARSE;
				goto out;
			}
			for (int k = 0; k < 4; k++) {
				int h = oc_hexval(j->p[j->pos++]);
				if (h < 0) {
					r = OC_ERR_PARSE;
					goto out;
				}
				v = v << 4 | (unsigned)h;
			}
			/* the writer escapes control characters only */
			if (v == 0 || v >= 0x80) {
				r = OC_ERR_PARSE;
				goto out;
			}
			r = ocbuf_putc(&b, (char)v);
			break;
		}
		default:
			r = OC_ERR_PARSE;
			goto out;
		}
		if (r != OC_OK)
			goto out;
	}
	if ((r = ocbuf_putc(&b, '\0')) != OC_OK)
		goto out;
	*out = (char *)ocbuf_take(&b, NULL);
out:
	ocbuf_free(&b);
	return r;
}

/* An integer in [lo, hi] (no fraction, no exponent). */
static int
jr_int(struct jr *j, int64_t lo, int64_t hi, int64_t *v)
{
	int neg = 0, digits = 0;
	uint64_t x = 0;

	jr_ws(j);
	if (j->pos < j->len && j->p[j->pos] == '-') {
		neg = 1;
		j->pos++;
	}
	while (j->pos < j->len && j->p[j->pos] >= '0' && j->p[j->pos] <= '9') {
		if (x > ((uint64_t)INT64_MAX - 9) / 10)
			return OC_ERR_PARSE;
		x = x * 10 + (uint64_t)(j->p[j->pos++] - '0');
		digits++;
	}
	if (digits == 0 || (j->pos < j->len && (j->p[j->pos] == '.' || j->p[j->pos] == 'e' ||
	    j->p[j->pos] == 'E')))
		return OC_ERR_PARSE;
	*v = neg ? -(int64_t)x : (int64_t)x;
	if (*v < lo || *v > hi)
		return OC_ERR_PARSE;
	return OC_OK;
}

static int
jr_lit(struct jr *j, const char *lit)
{
	size_t n = strlen(lit);

	jr_ws(j);
	if (j->len - j->pos < n || memcmp(j->p + j->pos, lit, n) != 0)
		return OC_ERR_PARSE;
	j->pos += n;
	return OC_OK;
}

/* Skip any value (unknown keys), depth-bounded. */
static int
jr_skip(struct jr *j)
{
	char *s = NULL;
	int64_t v;
	int c = jr_peek(j), r;

	switch (c) {
	case '"':
		r = jr_string(j, &s);
		free(s);
		return r;
	case 't': return jr_lit(j, "true");
	case 'f': return jr_lit(j, "false");
	case 'n': return jr_lit(j, "null");
	case '{': case '[':
		if (++j->depth > AE_JSON_DEPTH_MAX)
			return OC_ERR_LIMIT;
		j->pos++;
		if (jr_peek(j) == (c == '{' ? '}' : ']')) {
			j->pos++;
			j->depth--;
			return OC_OK;
		}
		for (;;) {
			if (c == '{') {
				if ((r = jr_string(j, &s)) != OC_OK)
					return r;
				free(s);
				s = NULL;
				if ((r = jr_eat(j, ':')) != OC_OK)
					return r;
			}
			if ((r = jr_skip(j)) != OC_OK)
				return r;
			if (jr_peek(j) == ',') {
				j->pos++;
				continue;
			}
			break;
		}
		j->depth--;
		return jr_eat(j, c == '{' ? '}' : ']');
	default:
		return jr_int(j, INT64_MIN + 1, INT64_MAX, &v);
	}
}

/* A string or null. */
static int
jr_opt_string(struct jr *j, char **out)
{
	free(*out);
	*out = NULL;
	if (jr_peek(j) == 'n')
		return jr_lit(j, "null");
	return jr_string(j, out);
}

static int
entry_member(struct jr *j, const char *key, struct client_ae_entry *e)
{
	int64_t v;
	int r;

	if (!strcmp(key, "template"))
		return jr_opt_string(j, &e->template_name);
	if (!strcmp(key, "key"))
		return jr_opt_string(j, &e->key_file);
	if (!strcmp(key, "cert"))
		return jr_opt_string(j, &e->cert_file);
	if (!strcmp(key, "serial"))
		return jr_opt_string(j, &e->serial);
	if (!strcmp(key, "last_result"))
		return jr_opt_string(j, &e->last_result);
	if (!strcmp(key, "request_id"))
		return jr_opt_string(j, &e->request_id);
	if (!strcmp(key, "failures")) {
		if ((r = jr_int(j, 0, UINT32_MAX, &v)) == OC_OK)
			e->failures = (uint32_t)v;
		return r;
	}
	if (!strcmp(key, "not_before"))
		return jr_int(j, 0, INT64_MAX / 2, &e->not_before);
	if (!strcmp(key, "not_after"))
		return jr_int(j, 0, INT64_MAX / 2, &e->not_after);
	if (!strcmp(key, "last_attempt"))
		return jr_int(j, 0, INT64_MAX / 2, &e->last_attempt);
	if (!strcmp(key, "next_attempt"))
		return jr_int(j, 0, INT64_MAX / 2, &e->next_attempt);
	return jr_skip(j);
}

/* Members of an object: fn(key) for each. */
typedef int (*jr_member_fn)(struct jr *, const char *, void *);

static int
jr_object(struct jr *j, jr_member_fn fn, void *ctx)
{
	char *key = NULL;
	int r;

	if ((r = jr_eat(j, '{')) != OC_OK)
		return r;
	if (++j->depth > AE_JSON_DEPTH_MAX)
		return OC_ERR_LIMIT;
	if (jr_peek(j) == '}') {
		j->pos++;
		j->depth--;
		return OC_OK;
	}
	for (;;) {
		if ((r = jr_string(j, &key)) != OC_OK || (r = jr_eat(j, ':')) != OC_OK ||
		    (r = fn(j, key, ctx)) != OC_OK)
			goto out;
		free(key);
		key = NULL;
		if (jr_peek(j) != ',')
			break;
		j->pos++;
	}
	j->depth--;
	r = jr_eat(j, '}');
out:
	free(key);
	return r;
}

static int
entry_member_cb(struct jr *j, const char *key, void *ctx)
{
	return entry_member(j, key, ctx);
}

static int
entry_valid(const struct client_ae_entry *e, const struct client_ae_state *st)
{
	if (e->template_name == NULL || e->template_name[0] == '\0' ||
	    strlen(e->template_name) > OC_TEMPLATE_NAME_MAX)
		return 0;
	if ((e->key_file != NULL && !client_ae_file_name_ok(e->key_file)) ||
	    (e->cert_file != NULL && !client_ae_file_name_ok(e->cert_file)))
		return 0;
	if (e->serial != NULL && strlen(e->serial) > OC_SERIAL_HEX_MAX)
		return 0;
	if ((e->last_result != NULL && strlen(e->last_result) > 32) ||
	    (e->request_id != NULL && strlen(e->request_id) > OC_SOAP_MAX_ID))
		return 0;
	return client_ae_state_find(st, e->template_name) == NULL;
}

static int
templates_array(struct jr *j, struct client_ae_state *st)
{
	struct client_ae_entry e, *v;
	int r;

	if ((r = jr_eat(j, '[')) != OC_OK)
		return r;
	if (jr_peek(j) == ']') {
		j->pos++;
		return OC_OK;
	}
	for (;;) {
		memset(&e, 0, sizeof(e));
		if ((r = jr_object(j, entry_member_cb, &e)) != OC_OK)
			goto bad;
		r = OC_ERR_PARSE;
		if (!entry_valid(&e, st))
			goto bad;
		r = OC_ERR_LIMIT;
		if (st->n >= CLIENT_AE_ENTRIES_MAX)
			goto bad;
		r = OC_ERR_NOMEM;
		if ((v = realloc(st->v, (st->n + 1) * sizeof(*v))) == NULL)
			goto bad;
		st->v = v;
		v[st->n++] = e;
		if (jr_peek(j) != ',')
			break;
		j->pos++;
	}
	return jr_eat(j, ']');
bad:
	client_ae_entry_clear(&e);
	return r;
}

static int
top_member(struct jr *j, const char *key, void *ctx)
{
	int64_t v;
	int r;

	if (!strcmp(key, "version")) {
		if ((r = jr_int(j, 1, 1, &v)) != OC_OK)
			return r;
		return OC_OK;
	}
	if (!strcmp(key, "templates"))
		return templates_array(j, ctx);
	return jr_skip(j);
}

int
client_ae_state_parse(const uint8_t *p, size_t len, struct client_ae_state *st)
{
	struct jr j;
	int r;

	memset(st, 0, sizeof(*st));
	if (p == NULL || len > CLIENT_AE_STATE_MAX)
		return p == NULL ? OC_ERR_INVALID : OC_ERR_LIMIT;
	memset(&j, 0, sizeof(j));
	j.p = p;
	j.len = len;
	if ((r = jr_object(&j, top_member, st)) == OC_OK && jr_peek(&j) != 0)
		r = OC_ERR_PARSE;
	if (r != OC_OK)
		client_ae_state_clear(st);
	return r;
}

/* ------------------------------------------------------------------ */
/* Writer */

static int
put_str(struct ocbuf *b, const char *key, const char *v, int last)
{
	int r;

	if ((r = ocbuf_printf(b, "      \"%s\": ", key)) != OC_OK ||
	    (r = client_json_str(b, v)) != OC_OK)
		return r;
	return ocbuf_puts(b, last ? "\n" : ",\n");
}

static int
put_int(struct ocbuf *b, const char *key, int64_t v)
{
	return ocbuf_printf(b, "      \"%s\": %" PRId64 ",\n", key, v);
}

/* Human-readable time next to the number (ignored by the reader). */
static int
put_time(struct ocbuf *b, const char *key, int64_t v)
{
	char when[32];
	int r;

	if ((r = put_int(b, key, v)) != OC_OK || v == 0)
		return r;
	oc_time_iso8601((time_t)v, when, sizeof(when));
	return ocbuf_printf(b, "      \"%s_utc\": \"%s\",\n", key, when);
}

int
client_ae_state_format(const struct client_ae_state *st, struct ocbuf *out)
{
	int r;

	if ((r = ocbuf_puts(out, "{\n  \"version\": 1,\n  \"templates\": [")) != OC_OK)
		return r;
	for (size_t i = 0; i < st->n; i++) {
		const struct client_ae_entry *e = &st->v[i];

		if ((r = ocbuf_puts(out, i ? ",\n    {\n" : "\n    {\n")) != OC_OK ||
		    (r = put_str(out, "template", e->template_name, 0)) != OC_OK ||
		    (r = put_str(out, "key", e->key_file, 0)) != OC_OK ||
		    (r = put_str(out, "cert", e->cert_file, 0)) != OC_OK ||
		    (r = put_str(out, "serial", e->serial, 0)) != OC_OK ||
		    (r = put_time(out, "not_before", e->not_before)) != OC_OK ||
		    (r = put_time(out, "not_after", e->not_after)) != OC_OK ||
		    (r = put_time(out, "last_attempt", e->last_attempt)) != OC_OK ||
		    (r = put_str(out, "last_result", e->last_result, 0)) != OC_OK ||
		    (r = put_int(out, "failures", e->failures)) != OC_OK ||
		    (r = put_time(out, "next_attempt", e->next_attempt)) != OC_OK ||
		    (r = put_str(out, "request_id", e->request_id, 1)) != OC_OK ||
		    (r = ocbuf_puts(out, "    }")) != OC_OK)
			return r;
	}
	return ocbuf_puts(out, st->n ? "\n  ]\n}\n" : "]\n}\n");
}
