#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int
b64_char_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

int
oc_b64_decode(const char *in, size_t inlen, uint8_t **out, size_t *outlen, size_t max)
{
	char *clean = NULL;
	uint8_t *buf = NULL;
	size_t n = 0, i, pad = 0;
	int r = OC_ERR_BASE64, dl;

	*out = NULL;
	*outlen = 0;
	if ((clean = malloc(inlen + 1)) == NULL)
		return OC_ERR_NOMEM;
	for (i = 0; i < inlen; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (!b64_char_ok(c))
			goto out;
		if (pad && c != '=')
			goto out;       /* data after padding */
		if (c == '=')
			pad++;
		clean[n++] = (char)c;
	}
	if (n == 0 || n % 4 != 0 || pad > 2)
		goto out;
	if (n / 4 * 3 - pad > max) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if ((buf = malloc(n / 4 * 3 + 1)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	dl = EVP_DecodeBlock(buf, (const unsigned char *)clean, (int)n);
	if (dl < 0)
		goto out;
	dl -= (int)pad;
	if ((size_t)dl > max) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	*out = buf;
	*outlen = (size_t)dl;
	buf = NULL;
	r = OC_OK;
out:
	free(clean);
	free(buf);
	return r;
}

int
oc_b64_encode(const uint8_t *in, size_t inlen, char **out)
{
	char *buf;

	*out = NULL;
	if (inlen > (size_t)INT32_MAX / 2)
		return OC_ERR_LIMIT;
	if ((buf = malloc((inlen + 2) / 3 * 4 + 1)) == NULL)
		return OC_ERR_NOMEM;
	EVP_EncodeBlock((unsigned char *)buf, in, (int)inlen);
	*out = buf;
	return OC_OK;
}

int
oc_strlist_addn(struct oc_strlist *l, const char *s, size_t n)
{
	char **nv, *c;

	if ((c = strndup(s, n)) == NULL)
		return OC_ERR_NOMEM;
	if ((nv = realloc(l->v, (l->n + 2) * sizeof(*nv))) == NULL) {
		free(c);
		return OC_ERR_NOMEM;
	}
	l->v = nv;
	l->v[l->n++] = c;
	l->v[l->n] = NULL;
	return OC_OK;
}

int
oc_strlist_add(struct oc_strlist *l, const char *s)
{
	return oc_strlist_addn(l, s, strlen(s));
}

int
oc_strlist_contains(const struct oc_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

int
oc_strlist_contains_ci(const struct oc_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

int
oc_strlist_copy(struct oc_strlist *dst, const struct oc_strlist *src)
{
	int r;

	for (size_t i = 0; i < src->n; i++)
		if ((r = oc_strlist_add(dst, src->v[i])) != OC_OK)
			return r;
	return OC_OK;
}

void
oc_strlist_free(struct oc_strlist *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int
oc_ct_eq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
oc_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int
oc_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *
oc_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void
oc_free_secret(char *s)
{
	if (s == NULL)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void
oc_time_iso8601(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int
oc_time_parse_iso8601(const char *s, time_t *t)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0;
	long off = 0;
	const char *p;

	memset(&tm, 0, sizeof(tm));
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19)
		return OC_ERR_PARSE;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1)
		return OC_ERR_PARSE;
	p = s + n;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return OC_ERR_PARSE;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-') {
		int oh, om, m2 = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m2) != 2 || m2 != 5 || oh > 14 || om > 59)
			return OC_ERR_PARSE;
		off = (oh * 3600L + om * 60L) * (*p == '+' ? 1 : -1);
		p += 6;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p != '\0')
		return OC_ERR_PARSE;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*t = timegm(&tm) - off;
	return OC_OK;
}

int
oc_file_read(const char *path, uint8_t **data, size_t *len, size_t max)
{
	int fd, r = OC_ERR_IO;
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;

	*data = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? OC_ERR_NOT_FOUND : OC_ERR_IO;
	if (fstat(fd, &st) < 0)
		goto out;
	if ((size_t)st.st_size > max) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	buf = NULL;
	r = OC_OK;
out:
	free(buf);
	close(fd);
	return r;
}

int
oc_file_write(const char *path, const void *data, size_t len, int mode)
{
	char tmp[4096];
	int fd, r = OC_ERR_IO;
	size_t done = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return OC_ERR_LIMIT;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) < 0)
		return OC_ERR_IO;
	if (fchmod(fd, (mode_t)mode) < 0)
		goto fail;
	while (done < len) {
		ssize_t n = write(fd, (const char *)data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	close(fd);
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		return OC_ERR_IO;
	}
	return OC_OK;
fail:
	close(fd);
	unlink(tmp);
	return r;
}
