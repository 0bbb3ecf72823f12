/*
 * Explicit certificate mappings (see directory.h): the table cert_maps binds
 * a certificate, by issuer+serial and by its SHA-256, to an account row.
 * Removing the account sets the row's account to NULL (ON DELETE SET NULL),
 * which oc_dir_certmap_find reports as a refused mapping.
 */
#include "directory/directory.h"
#include "directory/directory_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/limits.h"
#include "common/util.h"
#include "common/log.h"

#define SHA256_HEX_LEN   64
#define CERTMAPS_ALL_MAX 4096   /* rows oc_dir_certmap_list(NULL) returns at most */

static const char hexdigits[] = "0123456789abcdef";

void
oc_dir_certmap_clear(struct oc_dir_certmap *m)
{
	if (m == NULL)
		return;
	free(m->account);
	free(m->issuer_serial);
	free(m->sha256);
	memset(m, 0, sizeof(*m));
}

void
oc_dir_certmap_list_free(struct oc_dir_certmap *mv, size_t n)
{
	if (mv == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		oc_dir_certmap_clear(&mv[i]);
	free(mv);
}

/* Keys */

/* "<I>issuer<SR>serial"; *out stays NULL for a serial the store could not name (negative, > 20 bytes). */
static int
issuer_serial_key(const X509 *x, char **out)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	char serial[2 * 20 + 1];
	BIO *bio = NULL;
	char *key = NULL;
	const char *dn;
	long dnlen;
	int n, r;

	*out = NULL;
	if (sn == NULL || ASN1_STRING_type(sn) != V_ASN1_INTEGER ||
	    (n = ASN1_STRING_length(sn)) <= 0 || n > 20)
		return OC_OK;
	oc_hex_encode(ASN1_STRING_get0_data(sn), (size_t)n, serial);
	if ((bio = BIO_new(BIO_s_mem())) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	/* RFC 2253 escapes control characters and non-ASCII (ESC_CTRL, ESC_MSB) */
	if (X509_NAME_print_ex(bio, X509_get_issuer_name(x), 0, XN_FLAG_RFC2253) < 0) {
		r = OC_ERR_DER;
		goto out;
	}
	dnlen = BIO_get_mem_data(bio, &dn);
	if (dnlen < 0 || (size_t)dnlen > OC_SUBJECT_MAX) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if ((key = malloc((size_t)dnlen + strlen(serial) + 8)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	memcpy(key, "<I>", 3);
	memcpy(key + 3, dn, (size_t)dnlen);
	memcpy(key + 3 + dnlen, "<SR>", 4);
	strcpy(key + 3 + dnlen + 4, serial);
	if (!oc_dir_line_ok(key, OC_DIR_CERTMAP_KEY_MAX)) {
		r = OC_ERR_DER;
		goto out;
	}
	*out = key;
	key = NULL;
	r = OC_OK;
out:
	ERR_clear_error();
	free(key);
	BIO_free(bio);
	return r;
}

int
oc_dir_certmap_keys(const uint8_t *der, size_t len, struct oc_dir_certmap *m)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	const unsigned char *q = der;
	X509 *x = NULL;
	int r;

	if (m == NULL)
		return OC_ERR_INVALID;
	memset(m, 0, sizeof(*m));
	if (der == NULL || len == 0 || len > OC_CERT_DER_MAX)
		return OC_ERR_DER;
	if ((x = d2i_X509(NULL, &q, (long)len)) == NULL || q != der + len) {
		r = OC_ERR_DER;
		goto out;
	}
	if (EVP_Digest(der, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md)) {
		r = OC_ERR_CRYPTO;
		goto out;
	}
	if ((m->sha256 = malloc(SHA256_HEX_LEN + 1)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	oc_hex_encode(md, sizeof(md), m->sha256);
	r = issuer_serial_key(x, &m->issuer_serial);
out:
	ERR_clear_error();
	X509_free(x);
	if (r != OC_OK)
		oc_dir_certmap_clear(m);
	return r;
}

static int
sha256_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i <= SHA256_HEX_LEN; i++)
		if (strchr(hexdigits, s[i]) == NULL)
			return 0;
	return i == SHA256_HEX_LEN;
}

static int
issuer_serial_ok(const char *s)
{
	const char *sr;

	if (!oc_dir_line_ok(s, OC_DIR_CERTMAP_KEY_MAX) || strncmp(s, "<I>", 3) != 0 ||
	    (sr = strstr(s, "<SR>")) == NULL || sr[4] == '\0')
		return 0;
	/* the serial follows the last "<SR>" (a DN may contain the text too) */
	while (strstr(sr + 4, "<SR>") != NULL)
		sr = strstr(sr + 4, "<SR>");
	for (sr += 4; *sr != '\0'; sr++)
		if (strchr(hexdigits, *sr) == NULL)
			return 0;
	return 1;
}

static int
keys_ok(const struct oc_dir_certmap *m)
{
	return m != NULL && (m->issuer_serial != NULL || m->sha256 != NULL) &&
	    (m->issuer_serial == NULL || issuer_serial_ok(m->issuer_serial)) &&
	    (m->sha256 == NULL || sha256_ok(m->sha256));
}

/* Store */

static int
bind_keys(struct oc_directory *dir, sqlite3_stmt *st, const struct oc_dir_certmap *m)
{
	int r;

	if ((r = oc_dir_bind_text(dir, st, 1, m->issuer_serial)) != OC_OK)
		return r;
	return oc_dir_bind_text(dir, st, 2, m->sha256);
}

/* Run st (keys bound at 1, 2; account id at 3 when id >= 0). */
static int
run_keys(struct oc_directory *dir, const char *sql, const struct oc_dir_certmap *m,
    sqlite3_int64 id, int *changes)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = oc_dir_prepare(dir, sql, &st)) != OC_OK)
		return r;
	if ((r = bind_keys(dir, st, m)) != OC_OK)
		goto out;
	if (id >= 0 && sqlite3_bind_int64(st, 3, id) != SQLITE_OK) {
		r = oc_dir_sqlerr(dir, sqlite3_errcode(dir->db), "bind");
		goto out;
	}
	if ((r = oc_dir_step_done(dir, st, "certificate mapping")) != OC_OK)
		goto out;
	if (changes != NULL)
		*changes = sqlite3_changes(dir->db);
out:
	sqlite3_finalize(st);
	return r;
}

/* id of account name and its number of mappings; OC_ERR_NOT_FOUND when no such account. */
static int
account_id(struct oc_directory *dir, const char *name, sqlite3_int64 *id, int *nmaps)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = oc_dir_prepare(dir, "SELECT a.id, (SELECT count(*) FROM cert_maps m "
	    "WHERE m.account = a.id) FROM accounts a WHERE a.name = ?1", &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, name)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		*nmaps = sqlite3_column_int(st, 1);
	} else {
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : oc_dir_sqlerr(dir, rc, "account");
	}
out:
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_certmap_add(struct oc_directory *dir, const char *account, const struct oc_dir_certmap *m)
{
	sqlite3_int64 id = -1;
	int r, nmaps = 0, changes = 0;

	if (dir == NULL || !keys_ok(m))
		return OC_ERR_INVALID;
	if (account == NULL || !oc_dir_name_ok(account, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if ((r = oc_dir_writable(dir)) != OC_OK)
		return r;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = account_id(dir, account, &id, &nmaps)) != OC_OK)
		goto out;
	/* left-overs of removed accounts and this account's own rows for the keys give way */
	if ((r = run_keys(dir, "DELETE FROM cert_maps WHERE (issuer_serial = ?1 OR sha256 = ?2) "
	    "AND (account IS NULL OR account = ?3)", m, id, &changes)) != OC_OK)
		goto out;
	if (nmaps - changes >= OC_DIR_CERTMAPS_MAX) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	/* a key still mapped (to another account) violates UNIQUE: OC_ERR_EXISTS */
	if ((r = run_keys(dir, "INSERT INTO cert_maps (issuer_serial, sha256, account) "
	    "VALUES (?1, ?2, ?3)", m, id, NULL)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	return r;
}

int
oc_dir_certmap_remove(struct oc_directory *dir, const char *account,
    const struct oc_dir_certmap *m)
{
	sqlite3_stmt *st = NULL;
	int r, changes = 0;

	if (dir == NULL || !keys_ok(m))
		return OC_ERR_INVALID;
	if (account == NULL || !oc_dir_name_ok(account, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if ((r = oc_dir_writable(dir)) != OC_OK)
		return r;
	if ((r = oc_dir_prepare(dir, "DELETE FROM cert_maps WHERE (issuer_serial = ?1 OR "
	    "sha256 = ?2) AND (account IS NULL OR "
	    "account = (SELECT id FROM accounts WHERE name = ?3))", &st)) != OC_OK)
		return r;
	if ((r = bind_keys(dir, st, m)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 3, account)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "certificate unmapping")) != OC_OK)
		goto out;
	changes = sqlite3_changes(dir->db);
	r = changes > 0 ? OC_OK : OC_ERR_NOT_FOUND;
out:
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_certmap_list(struct oc_directory *dir, const char *account, struct oc_dir_certmap **mv,
    size_t *n)
{
	struct oc_dir_certmap *v = NULL, *nv;
	sqlite3_stmt *st = NULL;
	size_t cnt = 0, max = account != NULL ? OC_DIR_CERTMAPS_MAX : CERTMAPS_ALL_MAX;
	int r, rc;

	*mv = NULL;
	*n = 0;
	if (dir == NULL)
		return OC_ERR_INVALID;
	if (account != NULL && !oc_dir_name_ok(account, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if ((r = oc_dir_prepare(dir, "SELECT a.name, m.issuer_serial, m.sha256 FROM cert_maps m "
	    "LEFT JOIN accounts a ON a.id = m.account WHERE ?1 IS NULL OR a.name = ?1 "
	    "ORDER BY a.name COLLATE NOCASE, m.sha256, m.issuer_serial", &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, account)) != OC_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt >= max) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((nv = realloc(v, (cnt + 1) * sizeof(*v))) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		v = nv;
		memset(&v[cnt], 0, sizeof(v[cnt]));
		cnt++;
		if ((r = oc_dir_col_text(st, 0, &v[cnt - 1].account)) != OC_OK ||
		    (r = oc_dir_col_text(st, 1, &v[cnt - 1].issuer_serial)) != OC_OK ||
		    (r = oc_dir_col_text(st, 2, &v[cnt - 1].sha256)) != OC_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = oc_dir_sqlerr(dir, rc, "certificate mappings");
		goto out;
	}
	*mv = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	r = OC_OK;
out:
	sqlite3_finalize(st);
	oc_dir_certmap_list_free(v, cnt);
	return r;
}

int
oc_dir_certmap_find(struct oc_directory *dir, const struct oc_dir_certmap *m, char **account)
{
	sqlite3_stmt *st = NULL;
	char *name = NULL;
	int r, rc, rows = 0, refused = 0;

	*account = NULL;
	if (dir == NULL || m == NULL)
		return OC_ERR_INVALID;
	if (!keys_ok(m))
		return OC_ERR_NOT_FOUND;
	if ((r = oc_dir_prepare(dir, "SELECT a.name FROM cert_maps m LEFT JOIN accounts a "
	    "ON a.id = m.account WHERE m.issuer_serial = ?1 OR m.sha256 = ?2", &st)) != OC_OK)
		return r;
	if ((r = bind_keys(dir, st, m)) != OC_OK)
		goto out;
	/* at most two rows: both key columns are UNIQUE */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);

		rows++;
		if (a == NULL) {
			refused = 1;            /* account removed (or out of memory: refuse too) */
		} else if (name == NULL) {
			if ((name = strdup(a)) == NULL) {
				r = OC_ERR_NOMEM;
				goto out;
			}
		} else if (strcmp(name, a) != 0) {
			log_info("certificate mapping: its two keys map to %s and %s", name, a);
			refused = 1;
		}
	}
	if (rc != SQLITE_DONE) {
		r = oc_dir_sqlerr(dir, rc, "certificate mapping");
		goto out;
	}
	if (rows == 0) {
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	if (!refused) {
		*account = name;
		name = NULL;
	}
	r = OC_OK;
out:
	sqlite3_finalize(st);
	free(name);
	return r;
}
