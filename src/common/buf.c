#include "common/buf.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
ocbuf_init(struct ocbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
ocbuf_free(struct ocbuf *b)
{
	if (b == NULL)
		return;
	if (b->d != NULL && b->wipe)
		OPENSSL_cleanse(b->d, b->cap);
	free(b->d);
	b->d = NULL;
	b->len = b->off = b->cap = 0;
}

void
ocbuf_reset(struct ocbuf *b)
{
	if (b->d != NULL && b->wipe)
		OPENSSL_cleanse(b->d, b->cap);
	b->len = b->off = 0;
}

uint8_t *
ocbuf_take(struct ocbuf *b, size_t *lenp)
{
	uint8_t *p;

	if (b->d == NULL && ocbuf_put(b, "", 0) != OC_OK)
		return NULL;
	p = b->d;
	if (lenp)
		*lenp = b->len;
	b->d = NULL;
	b->len = b->off = b->cap = 0;
	return p;
}

const uint8_t *
ocbuf_ptr(const struct ocbuf *b)
{
	return b->d ? b->d + b->off : (const uint8_t *)"";
}

size_t
ocbuf_avail(const struct ocbuf *b)
{
	return b->len - b->off;
}

static int
ocbuf_reserve(struct ocbuf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *nd;

	if (n > b->max || b->len > b->max - n)
		return OC_ERR_LIMIT;
	need = b->len + n + 1;          /* keep room for a NUL */
	if (need <= b->cap)
		return OC_OK;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	if (ncap > b->max + 1)
		ncap = b->max + 1;
	if ((nd = malloc(ncap)) == NULL)
		return OC_ERR_NOMEM;
	if (b->d) {
		memcpy(nd, b->d, b->len);
		if (b->wipe)
			OPENSSL_cleanse(b->d, b->cap);
		free(b->d);
	}
	b->d = nd;
	b->cap = ncap;
	return OC_OK;
}

int
ocbuf_put(struct ocbuf *b, const void *p, size_t n)
{
	int r;

	if ((r = ocbuf_reserve(b, n)) != OC_OK)
		return r;
	if (n)
		memcpy(b->d + b->len, p, n);
	b->len += n;
	b->d[b->len] = '\0';
	return OC_OK;
}

int
ocbuf_putc(struct ocbuf *b, char c)
{
	return ocbuf_put(b, &c, 1);
}

int
ocbuf_puts(struct ocbuf *b, const char *s)
{
	return ocbuf_put(b, s, strlen(s));
}

int
ocbuf_printf(struct ocbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return OC_ERR_INTERNAL;
	if ((r = ocbuf_reserve(b, (size_t)n)) != OC_OK)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->d + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return OC_OK;
}

int
ocbuf_put_xml(struct ocbuf *b, const char *s)
{
	const char *run = s;
	int r;

	for (; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default: continue;
		}
		if ((r = ocbuf_put(b, run, (size_t)(s - run))) != OC_OK ||
		    (r = ocbuf_puts(b, rep)) != OC_OK)
			return r;
		run = s + 1;
	}
	return ocbuf_put(b, run, (size_t)(s - run));
}

int
ocbuf_put_u8(struct ocbuf *b, uint8_t v)
{
	return ocbuf_put(b, &v, 1);
}

int
ocbuf_put_u32(struct ocbuf *b, uint32_t v)
{
	uint8_t x[4] = { v >> 24, v >> 16, v >> 8, v };

	return ocbuf_put(b, x, 4);
}

int
ocbuf_put_u64(struct ocbuf *b, uint64_t v)
{
	int r;

	if ((r = ocbuf_put_u32(b, (uint32_t)(v >> 32))) != OC_OK)
		return r;
	return ocbuf_put_u32(b, (uint32_t)v);
}

int
ocbuf_put_string(struct ocbuf *b, const void *p, size_t n)
{
	int r;

	if (n > UINT32_MAX)
		return OC_ERR_LIMIT;
	if ((r = ocbuf_put_u32(b, (uint32_t)n)) != OC_OK)
		return r;
	return ocbuf_put(b, p, n);
}

int
ocbuf_put_cstring(struct ocbuf *b, const char *s)
{
	return ocbuf_put_string(b, s ? s : "", s ? strlen(s) : 0);
}

int
ocbuf_get_u8(struct ocbuf *b, uint8_t *v)
{
	if (ocbuf_avail(b) < 1)
		return OC_ERR_EOF;
	*v = b->d[b->off++];
	return OC_OK;
}

int
ocbuf_get_u32(struct ocbuf *b, uint32_t *v)
{
	const uint8_t *p;

	if (ocbuf_avail(b) < 4)
		return OC_ERR_EOF;
	p = b->d + b->off;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	b->off += 4;
	return OC_OK;
}

int
ocbuf_get_u64(struct ocbuf *b, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	if (ocbuf_avail(b) < 8)
		return OC_ERR_EOF;
	if ((r = ocbuf_get_u32(b, &hi)) != OC_OK || (r = ocbuf_get_u32(b, &lo)) != OC_OK)
		return r;
	*v = (uint64_t)hi << 32 | lo;
	return OC_OK;
}

int
ocbuf_get_string_direct(struct ocbuf *b, const uint8_t **p, size_t *n, size_t max)
{
	uint32_t len;
	size_t save = b->off;
	int r;

	if ((r = ocbuf_get_u32(b, &len)) != OC_OK)
		return r;
	if (len > max) {
		b->off = save;
		return OC_ERR_LIMIT;
	}
	if (ocbuf_avail(b) < len) {
		b->off = save;
		return OC_ERR_EOF;
	}
	*p = b->d + b->off;
	*n = len;
	b->off += len;
	return OC_OK;
}

int
ocbuf_get_cstring(struct ocbuf *b, char **s, size_t max)
{
	const uint8_t *p;
	size_t n;
	char *out;
	int r;

	*s = NULL;
	if ((r = ocbuf_get_string_direct(b, &p, &n, max)) != OC_OK)
		return r;
	if (n && memchr(p, '\0', n) != NULL)
		return OC_ERR_PARSE;
	if ((out = malloc(n + 1)) == NULL)
		return OC_ERR_NOMEM;
	memcpy(out, p, n);
	out[n] = '\0';
	*s = out;
	return OC_OK;
}

int
ocbuf_get_blob(struct ocbuf *b, uint8_t **pp, size_t *np, size_t max)
{
	const uint8_t *p;
	size_t n;
	uint8_t *out;
	int r;

	*pp = NULL;
	*np = 0;
	if ((r = ocbuf_get_string_direct(b, &p, &n, max)) != OC_OK)
		return r;
	if ((out = malloc(n ? n : 1)) == NULL)
		return OC_ERR_NOMEM;
	memcpy(out, p, n);
	*pp = out;
	*np = n;
	return OC_OK;
}
