/*
 * ocbuf: a growable byte buffer created with a hard maximum, with typed
 * big-endian getters that fail instead of over-reading (sshbuf-style).
 */
#ifndef OC_BUF_H
#define OC_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct ocbuf {
	uint8_t *d;
	size_t len;     /* bytes stored */
	size_t off;     /* read offset */
	size_t cap;     /* allocated */
	size_t max;     /* hard cap on len */
	int wipe;       /* cleanse on free/reset (secrets) */
};

void ocbuf_init(struct ocbuf *b, size_t max);
void ocbuf_free(struct ocbuf *b);              /* NULL-safe; leaves b re-usable */
void ocbuf_reset(struct ocbuf *b);
/* Take the data out (caller frees); buffer is emptied. NUL-terminated (not counted). */
uint8_t *ocbuf_take(struct ocbuf *b, size_t *lenp);
/* View of unread bytes. */
const uint8_t *ocbuf_ptr(const struct ocbuf *b);
size_t ocbuf_avail(const struct ocbuf *b);

int ocbuf_put(struct ocbuf *b, const void *p, size_t n) OC_WUR;
int ocbuf_putc(struct ocbuf *b, char c) OC_WUR;
int ocbuf_puts(struct ocbuf *b, const char *s) OC_WUR;
int ocbuf_printf(struct ocbuf *b, const char *fmt, ...) OC_WUR
    __attribute__((format(printf, 2, 3)));
/* XML-escape text (&, <, >, ", ') */
int ocbuf_put_xml(struct ocbuf *b, const char *s) OC_WUR;
int ocbuf_put_u8(struct ocbuf *b, uint8_t v) OC_WUR;
int ocbuf_put_u32(struct ocbuf *b, uint32_t v) OC_WUR;
int ocbuf_put_u64(struct ocbuf *b, uint64_t v) OC_WUR;
/* u32 length + bytes */
int ocbuf_put_string(struct ocbuf *b, const void *p, size_t n) OC_WUR;
int ocbuf_put_cstring(struct ocbuf *b, const char *s) OC_WUR;  /* NULL => empty */

int ocbuf_get_u8(struct ocbuf *b, uint8_t *v) OC_WUR;
int ocbuf_get_u32(struct ocbuf *b, uint32_t *v) OC_WUR;
int ocbuf_get_u64(struct ocbuf *b, uint64_t *v) OC_WUR;
/* Borrow a u32-length-prefixed string (no copy); fails if length > max. */
int ocbuf_get_string_direct(struct ocbuf *b, const uint8_t **p, size_t *n, size_t max) OC_WUR;
/* Copy out a length-prefixed string as NUL-terminated; fails on embedded NUL or > max. */
int ocbuf_get_cstring(struct ocbuf *b, char **s, size_t max) OC_WUR;
/* Copy out a length-prefixed blob (malloc'd). */
int ocbuf_get_blob(struct ocbuf *b, uint8_t **p, size_t *n, size_t max) OC_WUR;

#endif
