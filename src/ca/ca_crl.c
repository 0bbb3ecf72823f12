/*
 * Revocation publication (RFC 5280 section 5): complete and delta CRLs
 * signed with the CA key, numbered from the store's one sequence, with a
 * reason code per entry, authorityKeyIdentifier, cRLNumber, and
 * deltaCRLIndicator (delta) or freshestCRL (complete, when a delta URI is
 * configured). Published on a schedule and when the admin CLI asks (a flag
 * in the store, looked at once a second), written atomically to the
 * publication directory next to the CA certificate (DER and PEM).
 */
#include "ca/ca_local.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "common/util.h"

#define CA_CRL_NAME_MAX 128
#define CA_URL_MAX      2048
#define CA_CRL_RETRY    60        /* seconds after a failed publication */

struct ca_crl {
	const struct oc_ca_config *cfg;
	time_t last_check;
	time_t retry_after;           /* scheduled publication failed: not before */
};

int
oc_ca_publish_name(const char *ca_name, char *out, size_t outlen)
{
	size_t n;

	if (ca_name == NULL || out == NULL || (n = strlen(ca_name)) == 0 || n >= outlen ||
	    n > CA_CRL_NAME_MAX)
		return OC_ERR_INVALID;
	for (size_t i = 0; i < n; i++) {
		char ch = ca_name[i];
		out[i] = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' ? ch : '-';
	}
	out[n] = '\0';
	if (out[0] == '.')
		out[0] = '-';
	return OC_OK;
}

static int
hours(int v, int dflt)
{
	return v == 0 ? dflt : v;
}

/* One CRL being built: entries are added by the store's callback. */
struct crl_build {
	X509_CRL *crl;
	size_t n;
	int r;
};

static int
add_entry(const struct oc_store_crl_entry *e, void *arg)
{
	struct crl_build *b = arg;
	X509_REVOKED *rv = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *reason = NULL;
	BIGNUM *bn = NULL;
	int r = OC_ERR_CRYPTO;

	if ((rv = X509_REVOKED_new()) == NULL || BN_hex2bn(&bn, e->serial_hex) == 0 ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    X509_REVOKED_set_serialNumber(rv, sn) != 1 ||
	    (t = ASN1_TIME_set(NULL, e->revoked_at)) == NULL ||
	    X509_REVOKED_set_revocationDate(rv, t) != 1)
		goto out;
	/* RFC 5280 5.3.1: unspecified (0) is expressed by leaving the reason out */
	if (e->reason != OC_CRL_UNSPECIFIED) {
		if ((reason = ASN1_ENUMERATED_new()) == NULL ||
		    ASN1_ENUMERATED_set(reason, e->reason) != 1 ||
		    X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, reason, 0, 0) != 1)
			goto out;
	}
	if (X509_CRL_add0_revoked(b->crl, rv) != 1)
		goto out;
	rv = NULL;
	b->n++;
	r = OC_OK;
out:
	X509_REVOKED_free(rv);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(reason);
	BN_free(bn);
	return r;
}

static int
add_number_ext(X509_CRL *crl, int nid, uint64_t v, int critical)
{
	ASN1_INTEGER *a = ASN1_INTEGER_new();
	int ok;

	ok = a != NULL && ASN1_INTEGER_set_uint64(a, v) == 1 &&
	    X509_CRL_add1_ext_i2d(crl, nid, a, critical, 0) == 1;
	ASN1_INTEGER_free(a);
	return ok ? OC_OK : OC_ERR_CRYPTO;
}

/* freshestCRL (RFC 5280 5.2.6): where the delta CRLs are. */
static int
add_freshest(X509_CRL *crl, X509 *issuer, const char *uri)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;
	char conf[CA_URL_MAX + 8];
	int r = OC_ERR_CRYPTO;

	if (strlen(uri) > CA_URL_MAX || strchr(uri, ',') != NULL)
		return OC_ERR_INVALID;
	snprintf(conf, sizeof(conf), "URI:%s", uri);
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_freshest_crl, conf)) != NULL &&
	    X509_CRL_add_ext(crl, ext, -1) == 1)
		r = OC_OK;
	X509_EXTENSION_free(ext);
	return r;
}

static int
build_crl(struct oc_ca *ca, const struct oc_ca_config *cfg, int delta,
    const struct oc_store_crl_info *base, struct oc_store_crl_info *info, X509_CRL **out)
{
	struct crl_build b = { 0 };
	X509V3_CTX ctx;
	X509_EXTENSION *aki = NULL;
	ASN1_TIME *tu = NULL, *nu = NULL;
	int r = OC_ERR_CRYPTO;
	long period = delta ? hours(cfg->delta_crl_period_hours, 1) :
	    hours(cfg->crl_period_hours, 24);
	long overlap = hours(cfg->crl_overlap_hours, 1);

	*out = NULL;
	if ((r = oc_store_crl_next_number(ca->store, &info->number)) != OC_OK)
		return r;
	r = OC_ERR_CRYPTO;
	info->delta = delta;
	info->base = delta ? base->number : 0;
	info->this_update = time(NULL);
	info->next_update = info->this_update + (period + overlap) * 3600;
	if ((b.crl = X509_CRL_new()) == NULL || X509_CRL_set_version(b.crl, 1) != 1 ||
	    X509_CRL_set_issuer_name(b.crl, X509_get_subject_name(ca->cert)) != 1 ||
	    (tu = ASN1_TIME_set(NULL, info->this_update)) == NULL ||
	    (nu = ASN1_TIME_set(NULL, info->next_update)) == NULL ||
	    X509_CRL_set1_lastUpdate(b.crl, tu) != 1 || X509_CRL_set1_nextUpdate(b.crl, nu) != 1)
		goto out;
	/* complete: every revoked certificate; delta: changes since the base */
	if ((r = oc_store_crl_entries(ca->store, delta ? base->this_update : 0, delta, add_entry,
	    &b)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	info->entries = b.n;
	X509V3_set_ctx(&ctx, ca->cert, NULL, NULL, b.crl, 0);
	if ((aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier,
	    "keyid:always")) == NULL || X509_CRL_add_ext(b.crl, aki, -1) != 1)
		goto out;
	if ((r = add_number_ext(b.crl, NID_crl_number, info->number, 0)) != OC_OK)
		goto out;
	if (delta && (r = add_number_ext(b.crl, NID_delta_crl, base->number, 1)) != OC_OK)
		goto out;
	if (!delta && cfg->delta_cdp_url != NULL && hours(cfg->delta_crl_period_hours, 1) > 0 &&
	    (r = add_freshest(b.crl, ca->cert, cfg->delta_cdp_url)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if (X509_CRL_sort(b.crl) != 1 || X509_CRL_sign(b.crl, ca->key,
	    EVP_PKEY_get_id(ca->key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) <= 0)
		goto out;
	*out = b.crl;
	b.crl = NULL;
	r = OC_OK;
out:
	if (r != OC_OK)
		ERR_clear_error();
	X509_EXTENSION_free(aki);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	X509_CRL_free(b.crl);
	return r;
}

static int
publish_file(const struct oc_ca_config *cfg, const char *name, const char *suffix,
    const void *data, size_t len)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s%s", cfg->publish_dir, name, suffix) >=
	    sizeof(path))
		return OC_ERR_LIMIT;
	return oc_file_write(path, data, len, 0644);
}

/* The CA certificate as <name>.crt (DER, what AIA caIssuers clients expect) and .pem. */
static int
publish_ca_cert(struct oc_ca *ca, const struct oc_ca_config *cfg, const char *name)
{
	uint8_t *der = NULL;
	BIO *b = NULL;
	char *pem = NULL;
	long plen;
	int len, r = OC_ERR_CRYPTO;

	if ((len = i2d_X509(ca->cert, &der)) <= 0 || (b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, ca->cert) != 1 || (plen = BIO_get_mem_data(b, &pem)) <= 0)
		goto out;
	if ((r = publish_file(cfg, name, ".crt", der, (size_t)len)) == OC_OK)
		r = publish_file(cfg, name, ".pem", pem, (size_t)plen);
out:
	OPENSSL_free(der);
	BIO_free(b);
	return r;
}

static int
publish_once(struct oc_ca *ca, const struct oc_ca_config *cfg, const char *name, int delta)
{
	struct oc_store_crl_info base, info;
	X509_CRL *crl = NULL;
	uint8_t *der = NULL;
	char detail[160];
	int len, r;

	memset(&info, 0, sizeof(info));
	memset(&base, 0, sizeof(base));
	if (delta && (r = oc_store_crl_last(ca->store, 0, &base)) != OC_OK)
		return r;   /* no complete CRL to be a delta of */
	if ((r = build_crl(ca, cfg, delta, &base, &info, &crl)) != OC_OK)
		goto out;
	if ((len = i2d_X509_CRL(crl, &der)) <= 0) {
		r = OC_ERR_CRYPTO;
		goto out;
	}
	/* the file first: a number recorded is a CRL that was published */
	if ((r = publish_file(cfg, name, delta ? "-delta.crl" : ".crl", der,
	    (size_t)len)) != OC_OK) {
		error_fr(r, "writing the CRL to %s", cfg->publish_dir);
		goto out;
	}
	if ((r = oc_store_crl_record(ca->store, &info, der, (size_t)len)) != OC_OK)
		goto out;
	log_info("%s CRL %llu published: %zu entries, next update in %lld s",
	    delta ? "delta" : "complete", (unsigned long long)info.number, info.entries,
	    (long long)(info.next_update - info.this_update));
	snprintf(detail, sizeof(detail), "number=%llu entries=%zu%s%llu",
	    (unsigned long long)info.number, info.entries, delta ? " base=" : "",
	    delta ? (unsigned long long)info.base : 0ULL);
	{
		char num[24], ent[24];
		snprintf(num, sizeof(num), "%llu", (unsigned long long)info.number);
		snprintf(ent, sizeof(ent), "%zu", info.entries);
		oc_audit(delta ? "crl_delta" : "crl", "number", num, "entries", ent, (char *)NULL);
	}
	if (oc_store_audit(ca->store, delta ? "crl_delta" : "crl", NULL, detail) != OC_OK)
		log_error("audit record of CRL %llu not stored", (unsigned long long)info.number);
out:
	OPENSSL_free(der);
	X509_CRL_free(crl);
	return r;
}


/*
 * CA nodes sharing one store (PostgreSQL) may publish at the same instant:
 * the store refuses a CRL number another node recorded first (OC_ERR_EXISTS),
 * and the CRL is built again with the next number.
 */
#define OC_CRL_NUMBER_TRIES 4

static int
publish_one(struct oc_ca *ca, const struct oc_ca_config *cfg, const char *name, int delta)
{
	int r = OC_ERR_EXISTS;

	for (int i = 0; i < OC_CRL_NUMBER_TRIES && r == OC_ERR_EXISTS; i++)
		r = publish_once(ca, cfg, name, delta);
	return r;
}

int
oc_ca_publish_crl(struct oc_ca *ca, const struct oc_ca_config *cfg, int full, int delta)
{
	char name[CA_CRL_NAME_MAX + 1];
	int r;

	if (ca == NULL || cfg == NULL || cfg->publish_dir == NULL)
		return OC_ERR_INVALID;
	if ((r = oc_ca_publish_name(ca->name, name, sizeof(name))) != OC_OK)
		return r;
	if (mkdir(cfg->publish_dir, 0755) != 0 && errno != EEXIST) {
		log_error("cannot create %s: %s", cfg->publish_dir, strerror(errno));
		return OC_ERR_IO;
	}
	if ((r = publish_ca_cert(ca, cfg, name)) != OC_OK)
		return r;
	if (full && (r = publish_one(ca, cfg, name, 0)) != OC_OK)
		return r;
	if (delta && hours(cfg->delta_crl_period_hours, 1) > 0 &&
	    (r = publish_one(ca, cfg, name, 1)) != OC_OK)
		return r;
	return OC_OK;
}

int
ca_crl_start(struct oc_ca *ca, const struct oc_ca_config *cfg, struct ca_crl **cp)
{
	struct ca_crl *c;
	int r;

	*cp = NULL;
	if (cfg->publish_dir == NULL)
		return OC_OK;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OC_ERR_NOMEM;
	c->cfg = cfg;
	/* the CA certificate and fresh CRLs at every start */
	if ((r = oc_ca_publish_crl(ca, cfg, 1, 1)) != OC_OK)
		error_fr(r, "publishing CRLs to %s", cfg->publish_dir);
	c->last_check = time(NULL);
	*cp = c;
	return OC_OK;
}

void
ca_crl_stop(struct ca_crl *c)
{
	free(c);
}

/* Due by the schedule, or asked for by the admin CLI. */
static void
tick(struct ca_crl *c, struct oc_ca *ca)
{
	struct oc_store_crl_info full, delta;
	time_t now = time(NULL);
	int r, asked = 0, want_full = 0, want_delta = 0;
	long dp = hours(c->cfg->delta_crl_period_hours, 1);

	if ((r = oc_store_crl_take_request(ca->store, &asked)) != OC_OK)
		error_fr(r, "CRL publication flag");
	if (asked & OC_STORE_CRL_ASK_FULL)
		want_full = 1;
	if (asked & OC_STORE_CRL_ASK_DELTA)
		want_delta = 1;
	r = oc_store_crl_last(ca->store, 0, &full);
	if (r == OC_ERR_NOT_FOUND ||
	    (r == OC_OK && now >= full.this_update + hours(c->cfg->crl_period_hours, 24) * 3600))
		want_full = want_delta = 1;
	if (dp > 0 && !want_delta) {
		r = oc_store_crl_last(ca->store, 1, &delta);
		if (r == OC_ERR_NOT_FOUND || (r == OC_OK && now >= delta.this_update + dp * 3600))
			want_delta = 1;
	}
	if (!asked && now < c->retry_after)
		return;
	if ((want_full || want_delta) &&
	    (r = oc_ca_publish_crl(ca, c->cfg, want_full, want_delta)) != OC_OK) {
		error_fr(r, "publishing CRLs (retry in %d s)", CA_CRL_RETRY);
		c->retry_after = now + CA_CRL_RETRY;
	}
}

void
ca_crl_wait(struct ca_crl *c, struct oc_ca *ca, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	for (;;) {
		n = poll(&p, 1, c != NULL || ca->hooks.heartbeat != NULL ? 1000 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != 0)
			return;   /* readable, hung up, or an error the read will report */
		ca_heartbeat(ca);
		if (c != NULL && time(NULL) != c->last_check) {
			c->last_check = time(NULL);
			tick(c, ca);
		}
	}
}
