/* Small shared helpers: base64 (OpenSSL), string lists, constant-time compare. */
#ifndef OC_UTIL_H
#define OC_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"

/*
 * Base64 decode (OpenSSL EVP). Whitespace (space, tab, CR, LF) is skipped;
 * any other non-alphabet byte, bad padding or an output over max is an error.
 * *out is malloc'd.
 */
int oc_b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen,
    size_t max) OC_WUR;
/* Base64 encode on one line, no whitespace. *out malloc'd NUL-terminated. */
int oc_b64_encode(const uint8_t *in, size_t inlen, char **out) OC_WUR;

/* Lowercase hex of p[0..n) into out (2 * n + 1 bytes, NUL-terminated). */
void oc_hex_encode(const uint8_t *p, size_t n, char *out);
/* The value of one hex digit (either case), -1 for any other character. */
int oc_hexval(int c);

/* NULL-terminated string list. */
struct oc_strlist {
	char **v;
	size_t n;
};
int oc_strlist_add(struct oc_strlist *l, const char *s) OC_WUR;
int oc_strlist_addn(struct oc_strlist *l, const char *s, size_t n) OC_WUR;
int oc_strlist_contains(const struct oc_strlist *l, const char *s);
int oc_strlist_contains_ci(const struct oc_strlist *l, const char *s);
int oc_strlist_copy(struct oc_strlist *dst, const struct oc_strlist *src) OC_WUR;
void oc_strlist_free(struct oc_strlist *l);          /* NULL-safe */

/* Constant-time equality of two buffers of equal length (0 if lengths differ). */
int oc_ct_eq(const void *a, const void *b, size_t n);

/* strdup that returns NULL for NULL. */
char *oc_strdup(const char *s);
/* Free and wipe a secret string. NULL-safe. */
void oc_free_secret(char *s);

/* Format t as xs:dateTime UTC "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
void oc_time_iso8601(time_t t, char *buf, size_t len);
/* Parse xs:dateTime: optional fraction, optional Z/+hh:mm (no zone = UTC). */
int oc_time_parse_iso8601(const char *s, time_t *t) OC_WUR;

/* Read a whole file (bounded) / write a file atomically with mode. */
int oc_file_read(const char *path, uint8_t **data, size_t *len, size_t max) OC_WUR;
int oc_file_write(const char *path, const void *data, size_t len, int mode) OC_WUR;

#endif
