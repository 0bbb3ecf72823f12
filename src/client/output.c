/* What opences reads from and writes to files and stdout. */
#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "common/limits.h"
#include "common/log.h"

#define CLIENT_PATH_MAX       4096
#define CLIENT_PWFILE_MAX     4096

int
client_write_file(const char *path, const void *data, size_t len, int mode)
{
	char tmp[CLIENT_PATH_MAX + 64];
	unsigned char rnd[8];
	int fd = -1, r = OC_ERR_IO, n;
	size_t done = 0;

	if (strlen(path) > CLIENT_PATH_MAX)
		return OC_ERR_LIMIT;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return OC_ERR_CRYPTO;
	n = snprintf(tmp, sizeof(tmp), "%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp", path,
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return OC_ERR_LIMIT;
	/* a fresh file, never a pre-planted one or a symlink, with its final mode */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    (mode_t)mode)) < 0) {
		log_error("cannot create %s: %s", tmp, strerror(errno));
		return OC_ERR_IO;
	}
	if (fchmod(fd, (mode_t)mode) < 0)
		goto fail;
	while (done < len) {
		ssize_t w = write(fd, (const char *)data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		done += (size_t)w;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	return OC_OK;
fail:
	log_error("cannot write %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int
client_read_password(const char *path, char **password)
{
	uint8_t *data = NULL;
	size_t len = 0, n;
	char *pw = NULL;
	int r;

	*password = NULL;
	if ((r = oc_file_read(path, &data, &len, CLIENT_PWFILE_MAX)) != OC_OK)
		return r;
	for (n = 0; n < len && data[n] != '\n'; n++)
		;
	if (n > 0 && data[n - 1] == '\r')
		n--;
	r = OC_ERR_INVALID;
	if (n == 0 || n > OC_PASSWORD_MAX || memchr(data, '\0', n) != NULL)
		goto out;
	if ((pw = malloc(n + 1)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	memcpy(pw, data, n);
	pw[n] = '\0';
	*password = pw;
	r = OC_OK;
out:
	if (data != NULL) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	return r;
}

int
client_json_str(struct ocbuf *b, const char *s)
{
	int r;

	if (s == NULL)
		return ocbuf_puts(b, "null");
	if ((r = ocbuf_putc(b, '"')) != OC_OK)
		return r;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			r = ocbuf_printf(b, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			r = ocbuf_printf(b, "\\u%04x", c);
		else
			r = ocbuf_putc(b, (char)c);
		if (r != OC_OK)
			return r;
	}
	return ocbuf_putc(b, '"');
}

/* Printable text for the terminal: control characters become '?'. */
static int
put_text(struct ocbuf *b, const char *s)
{
	int r;

	for (; s && *s; s++)
		if ((r = ocbuf_putc(b, (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s)) != OC_OK)
			return r;
	return OC_OK;
}

static int
policy_text(struct ocbuf *b, const struct client_policy *pol, const char *from)
{
	struct client_keyspec ks;
	int r;

	if ((r = ocbuf_puts(b, "policy ")) != OC_OK ||
	    (r = put_text(b, pol->policy_id ? pol->policy_id : "-")) != OC_OK ||
	    (r = ocbuf_puts(b, " \"")) != OC_OK ||
	    (r = put_text(b, pol->friendly_name ? pol->friendly_name : "")) != OC_OK ||
	    (r = ocbuf_puts(b, "\" from ")) != OC_OK ||
	    (r = put_text(b, from)) != OC_OK ||
	    (r = ocbuf_putc(b, '\n')) != OC_OK)
		return r;
	for (size_t i = 0; i < pol->ntemplates; i++) {
		const struct client_template *t = &pol->templates[i];
		if (!t->enroll)
			continue;
		if ((r = ocbuf_puts(b, "template ")) != OC_OK ||
		    (r = put_text(b, t->cn)) != OC_OK ||
		    (r = ocbuf_printf(b, " schema=%u revision=%u.%u", t->schema, t->major,
		    t->minor)) != OC_OK ||
		    (r = ocbuf_puts(b, " oid=")) != OC_OK ||
		    (r = put_text(b, t->oid ? t->oid : "-")) != OC_OK)
			return r;
		if (client_template_keyspec(t, &ks) == OC_OK)
			r = ocbuf_printf(b, " key=%s/%d", ks.alg, ks.bits);
		else
			r = ocbuf_puts(b, " key=unsupported");
		if (r != OC_OK ||
		    (r = ocbuf_printf(b, " autoenroll=%s", t->auto_enroll ? "yes" : "no")) != OC_OK ||
		    (r = ocbuf_puts(b, " display=\"")) != OC_OK ||
		    (r = put_text(b, t->display_name ? t->display_name : "")) != OC_OK ||
		    (r = ocbuf_puts(b, "\"\n")) != OC_OK)
			return r;
	}
	for (size_t i = 0; i < pol->ncas; i++) {
		const struct client_ca *ca = &pol->cas[i];
		for (size_t j = 0; j < ca->nuris; j++) {
			const struct client_ca_uri *u = &ca->uris[j];
			if ((r = ocbuf_puts(b, "ces ")) != OC_OK ||
			    (r = put_text(b, u->uri)) != OC_OK ||
			    (r = ocbuf_printf(b, " auth=%s priority=", client_auth_name(u->auth))) != OC_OK ||
			    (r = u->has_priority ? ocbuf_printf(b, "%u", u->priority) :
			    ocbuf_puts(b, "-")) != OC_OK ||
			    (r = ocbuf_printf(b, " renewal-only=%s ca=%d\n",
			    u->renewal_only ? "yes" : "no", (int)ca->ref_id)) != OC_OK)
				return r;
		}
	}
	return OC_OK;
}

static int
policy_json(struct ocbuf *b, const struct client_policy *pol, const char *from)
{
	struct client_keyspec ks;
	int r, first = 1;

	if ((r = ocbuf_puts(b, "{\"policyID\":")) != OC_OK ||
	    (r = client_json_str(b, pol->policy_id)) != OC_OK ||
	    (r = ocbuf_puts(b, ",\"friendlyName\":")) != OC_OK ||
	    (r = client_json_str(b, pol->friendly_name)) != OC_OK ||
	    (r = ocbuf_puts(b, ",\"from\":")) != OC_OK ||
	    (r = client_json_str(b, from)) != OC_OK ||
	    (r = ocbuf_puts(b, ",\"templates\":[")) != OC_OK)
		return r;
	for (size_t i = 0; i < pol->ntemplates; i++) {
		const struct client_template *t = &pol->templates[i];
		if (!t->enroll)
			continue;
		if ((r = ocbuf_puts(b, first ? "{\"name\":" : ",{\"name\":")) != OC_OK ||
		    (r = client_json_str(b, t->cn)) != OC_OK ||
		    (r = ocbuf_puts(b, ",\"displayName\":")) != OC_OK ||
		    (r = client_json_str(b, t->display_name)) != OC_OK ||
		    (r = ocbuf_puts(b, ",\"oid\":")) != OC_OK ||
		    (r = client_json_str(b, t->oid)) != OC_OK ||
		    (r = ocbuf_printf(b, ",\"schema\":%u,\"majorRevision\":%u,\"minorRevision\":%u"
		    ",\"autoEnroll\":%s,\"subjectNameFlags\":%u,\"minimalKeyLength\":%u",
		    t->schema, t->major, t->minor, t->auto_enroll ? "true" : "false",
		    t->subject_name_flags, t->min_key_length)) != OC_OK)
			return r;
		if (client_template_keyspec(t, &ks) == OC_OK)
			r = ocbuf_printf(b, ",\"keyAlgorithm\":\"%s\",\"keyBits\":%d}", ks.alg, ks.bits);
		else
			r = ocbuf_puts(b, ",\"keyAlgorithm\":null,\"keyBits\":null}");
		if (r != OC_OK)
			return r;
		first = 0;
	}
	if ((r = ocbuf_puts(b, "],\"ces\":[")) != OC_OK)
		return r;
	first = 1;
	for (size_t i = 0; i < pol->ncas; i++) {
		const struct client_ca *ca = &pol->cas[i];
		for (size_t j = 0; j < ca->nuris; j++) {
			const struct client_ca_uri *u = &ca->uris[j];
			if ((r = ocbuf_puts(b, first ? "{\"uri\":" : ",{\"uri\":")) != OC_OK ||
			    (r = client_json_str(b, u->uri)) != OC_OK ||
			    (r = ocbuf_printf(b, ",\"clientAuthentication\":%u,\"priority\":", u->auth)) != OC_OK ||
			    (r = u->has_priority ? ocbuf_printf(b, "%u", u->priority) :
			    ocbuf_puts(b, "null")) != OC_OK ||
			    (r = ocbuf_printf(b, ",\"renewalOnly\":%s,\"ca\":%d}",
			    u->renewal_only ? "true" : "false", (int)ca->ref_id)) != OC_OK)
				return r;
			first = 0;
		}
	}
	return ocbuf_puts(b, "]}\n");
}

int
client_print_policy(FILE *fp, const struct client_policy *pol, const char *from_url, int json)
{
	struct ocbuf b;
	int r;

	ocbuf_init(&b, OC_CLIENT_RESPONSE_MAX);
	r = json ? policy_json(&b, pol, from_url) : policy_text(&b, pol, from_url);
	if (r == OC_OK && (fwrite(ocbuf_ptr(&b), 1, ocbuf_avail(&b), fp) != ocbuf_avail(&b) ||
	    fflush(fp) != 0))
		r = OC_ERR_IO;
	ocbuf_free(&b);
	return r;
}

int
client_cert_summary(X509 *x, const char *template_name, const char *uri, char **line)
{
	BIO *bio = NULL;
	BIGNUM *bn = NULL;
	char *serial = NULL, *subj = NULL, when[32] = "?";
	struct tm tm;
	struct ocbuf b;
	long n;
	int r = OC_ERR_NOMEM;

	*line = NULL;
	ocbuf_init(&b, 8192);
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
		goto out;
	if ((n = BIO_get_mem_data(bio, &subj)) < 0)
		goto out;
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL ||
	    (serial = BN_bn2hex(bn)) == NULL)
		goto out;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((r = ocbuf_puts(&b, "issued template=")) != OC_OK ||
	    (r = put_text(&b, template_name)) != OC_OK ||
	    (r = ocbuf_puts(&b, " subject=\"")) != OC_OK ||
	    (r = ocbuf_put(&b, subj, (size_t)n)) != OC_OK ||
	    (r = ocbuf_printf(&b, "\" serial=%s notAfter=%s uri=", serial, when)) != OC_OK ||
	    (r = put_text(&b, uri)) != OC_OK)
		goto out;
	*line = (char *)ocbuf_take(&b, NULL);
	r = *line ? OC_OK : OC_ERR_NOMEM;
out:
	ocbuf_free(&b);
	OPENSSL_free(serial);
	BN_free(bn);
	BIO_free(bio);
	return r;
}
