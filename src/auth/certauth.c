/*
 * Client-certificate authentication (see certauth.h for the steps).
 *
 * Mapping rules, in this order:
 * - A certificate that names a SID (the 1.3.6.1.4.1.311.25.2 security
 *   extension, or a SAN URL "tag:microsoft.com,2022-09-14:sid:<SID>") is
 *   strongly mapped: it authenticates as the account with that SID or not at
 *   all. We never fall back to the UPN or DNS names when the SID does not
 *   match (KB5014754: a certificate issued to one account must not
 *   authenticate as another one whose UPN or DNS name it also carries, e.g.
 *   after a rename). A malformed SID extension, or SIDs that disagree, refuse
 *   the certificate for the same reason.
 * - Otherwise the first UPN (SAN otherName 1.3.6.1.4.1.311.20.2.3) that
 *   names an account, then the first dNSName that names a computer account.
 *   Malformed UPN or DNS entries are skipped (skipping can only lose a
 *   mapping, never add one).
 * - First of all, an explicit mapping (oc_dir_certmap_*: the directory's
 *   altSecurityIdentities-like table, strong forms only: issuer+serial and
 *   the SHA-256 of the whole certificate) wins over every name the
 *   certificate carries: it is an administrator's decision. A certificate
 *   explicitly mapped to an account that was removed (or whose two keys map
 *   to different accounts) is refused, without the weaker fallbacks below.
 *
 * The directory interface has no lookup by SID or DNS name yet: those (and a
 * UPN that differs from the stored one in case only) scan the account list.
 */
#include "auth/certauth.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"

#define OID_SID_EXT       "1.3.6.1.4.1.311.25.2"
#define OID_SID_OTHERNAME "1.3.6.1.4.1.311.25.2.1"
#define OID_UPN           "1.3.6.1.4.1.311.20.2.3"
#define SID_URL_PREFIX    "tag:microsoft.com,2022-09-14:sid:"
#define SID_MAX           184     /* the directory's bound for account SIDs */
#define TRUST_ANCHORS_MAX 256     /* certificates in the trust anchors file */
#define SUBJECT_LOG_MAX   256

struct oc_certauth {
	X509_STORE *store;
	X509 *our_ca;               /* NULL: no revocation checks */
	int (*revoked)(void *arg, const char *serial_hex, int *is_revoked);
	void *revoked_arg;
	oc_certauth_map_fn map;     /* NULL: the directory handle maps */
	void *map_arg;
};

/* Why a certificate was refused (or how it was mapped), for the one log line. */
struct verdict {
	enum oc_certauth_reason reason;
	char why[160];
};

static void verdict_set(struct verdict *v, enum oc_certauth_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
verdict_set(struct verdict *v, enum oc_certauth_reason reason, const char *fmt, ...)
{
	va_list ap;

	v->reason = reason;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

/* What the leaf says about its owner. */
struct cert_names {
	char *sid;                  /* from the extension or SAN URLs (all equal) */
	struct oc_strlist upn;
	struct oc_strlist dns;
};

static const char *const reason_names[] = {
	[OC_CERTAUTH_OK] = "ok",
	[OC_CERTAUTH_NO_CERT] = "no certificate",
	[OC_CERTAUTH_UNTRUSTED] = "untrusted",
	[OC_CERTAUTH_EXPIRED] = "expired",
	[OC_CERTAUTH_NOT_YET_VALID] = "not yet valid",
	[OC_CERTAUTH_WRONG_PURPOSE] = "not for client authentication",
	[OC_CERTAUTH_REVOKED] = "revoked",
	[OC_CERTAUTH_REVOCATION_UNKNOWN] = "revocation status unknown",
	[OC_CERTAUTH_BAD_NAMES] = "malformed SID or names",
	[OC_CERTAUTH_SID_MISMATCH] = "SID matches no account",
	[OC_CERTAUTH_UNMAPPED] = "no account for its names",
	[OC_CERTAUTH_ERROR] = "internal error",
};

const char *
oc_certauth_reason_name(enum oc_certauth_reason r)
{
	if ((unsigned)r >= sizeof(reason_names) / sizeof(reason_names[0]) ||
	    reason_names[r] == NULL)
		return "unknown";
	return reason_names[r];
}

/* Set-up */

static int
load_pem_certs(const char *path, X509_STORE *store, X509 **first, size_t max, size_t *n)
{
	BIO *bio = NULL;
	X509 *x = NULL;
	int r = OC_ERR_CONFIG;

	*n = 0;
	if (first != NULL)
		*first = NULL;
	ERR_clear_error();
	if ((bio = BIO_new_file(path, "r")) == NULL) {
		log_error("cannot open %s", path);
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (*n >= max) {
			log_error("%s: more than %zu certificates", path, max);
			goto out;
		}
		if (store != NULL && X509_STORE_add_cert(store, x) != 1) {
			log_error("%s: cannot add certificate %zu", path, *n + 1);
			goto out;
		}
		(*n)++;
		if (first != NULL && *first == NULL) {
			*first = x;
			x = NULL;
		}
		X509_free(x);
		x = NULL;
	}
	/* the loop ends at the end of the file (no start line) or at an error */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE) {
		log_error("%s: malformed PEM certificate", path);
		goto out;
	}
	if (*n == 0) {
		log_error("%s: no certificate", path);
		goto out;
	}
	r = OC_OK;
out:
	ERR_clear_error();
	X509_free(x);
	BIO_free(bio);
	if (r != OC_OK && first != NULL) {
		X509_free(*first);
		*first = NULL;
	}
	return r;
}

void
oc_certauth_free(struct oc_certauth *c)
{
	if (c == NULL)
		return;
	X509_STORE_free(c->store);
	X509_free(c->our_ca);
	free(c);
}

int
oc_certauth_new(const struct oc_certauth_config *cfg, struct oc_certauth **cp)
{
	struct oc_certauth *c = NULL;
	size_t n;
	int r;

	*cp = NULL;
	if (cfg == NULL || cfg->trust_anchors_file == NULL)
		return OC_ERR_INVALID;
	if (cfg->our_ca_cert_file != NULL && cfg->revoked == NULL) {
		log_error("our CA certificate given without a revocation check");
		return OC_ERR_CONFIG;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return OC_ERR_NOMEM;
	c->revoked = cfg->revoked;
	c->revoked_arg = cfg->revoked_arg;

	if ((c->store = X509_STORE_new()) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if ((r = load_pem_certs(cfg->trust_anchors_file, c->store, NULL, TRUST_ANCHORS_MAX,
	    &n)) != OC_OK)
		goto out;
	if (cfg->our_ca_cert_file != NULL &&
	    (r = load_pem_certs(cfg->our_ca_cert_file, NULL, &c->our_ca, 1, &n)) != OC_OK)
		goto out;
	/*
	 * Strict RFC 5280 checks, client purpose (EKU of every certificate must
	 * allow clientAuth when present), 112-bit security (no RSA < 2048, no
	 * SHA-1 signatures), bounded depth.
	 */
	if (X509_STORE_set_flags(c->store, X509_V_FLAG_X509_STRICT) != 1 ||
	    X509_STORE_set_purpose(c->store, X509_PURPOSE_SSL_CLIENT) != 1 ||
	    X509_STORE_set_trust(c->store, X509_TRUST_SSL_CLIENT) != 1 ||
	    X509_STORE_set_depth(c->store, OC_CERTAUTH_CHAIN_MAX) != 1) {
		r = OC_ERR_CRYPTO;
		goto out;
	}
	X509_VERIFY_PARAM_set_auth_level(X509_STORE_get0_param(c->store), 2);
	if (c->our_ca == NULL)
		log_info("client certificates: no CA of ours configured, no revocation checks");
	*cp = c;
	c = NULL;
	r = OC_OK;
out:
	ERR_clear_error();
	oc_certauth_free(c);
	return r;
}

/* Names */

/* "S-1-" then dash-separated runs of 1..20 digits; 's' accepted and made 'S'. */
static int
sid_canonical(const uint8_t *p, size_t len, char **out)
{
	size_t run = 0;
	char *s;

	*out = NULL;
	if (len < 5 || len > SID_MAX || (p[0] != 'S' && p[0] != 's') || memcmp(p + 1, "-1-", 3) != 0)
		return OC_ERR_PARSE;
	for (size_t i = 4; i < len; i++) {
		if (p[i] >= '0' && p[i] <= '9') {
			if (++run > 20)
				return OC_ERR_PARSE;
		} else if (p[i] == '-' && run > 0) {
			run = 0;
		} else {
			return OC_ERR_PARSE;
		}
	}
	if (run == 0)
		return OC_ERR_PARSE;
	if ((s = malloc(len + 1)) == NULL)
		return OC_ERR_NOMEM;
	memcpy(s, p, len);
	s[0] = 'S';
	s[len] = '\0';
	*out = s;
	return OC_OK;
}

static int
obj_is(const ASN1_OBJECT *obj, const char *oid)
{
	char buf[OC_OID_MAX];
	int n;

	n = OBJ_obj2txt(buf, sizeof(buf), obj, 1);
	return n > 0 && (size_t)n < sizeof(buf) && strcmp(buf, oid) == 0;
}

int
oc_certauth_sid_ext_decode(const uint8_t *p, size_t len, char **sid)
{
	GENERAL_NAMES *gns = NULL;
	const unsigned char *q = p;
	const ASN1_OCTET_STRING *os;
	char *found = NULL;
	int r;

	*sid = NULL;
	if (p == NULL || len == 0 || len > OC_CERT_DER_MAX)
		return OC_ERR_DER;
	if ((gns = d2i_GENERAL_NAMES(NULL, &q, (long)len)) == NULL || q != p + len) {
		r = OC_ERR_DER;
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, i);

		if (gn->type != GEN_OTHERNAME || !obj_is(gn->d.otherName->type_id, OID_SID_OTHERNAME))
			continue;
		if (found != NULL || gn->d.otherName->value == NULL ||
		    gn->d.otherName->value->type != V_ASN1_OCTET_STRING) {
			r = OC_ERR_PARSE;
			goto out;
		}
		os = gn->d.otherName->value->value.octet_string;
		if ((r = sid_canonical(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os),
		    &found)) != OC_OK)
			goto out;
	}
	if (found == NULL) {
		r = OC_ERR_PARSE;
		goto out;
	}
	*sid = found;
	found = NULL;
	r = OC_OK;
out:
	ERR_clear_error();
	free(found);
	GENERAL_NAMES_free(gns);
	return r;
}

static void
names_clear(struct cert_names *nm)
{
	free(nm->sid);
	oc_strlist_free(&nm->upn);
	oc_strlist_free(&nm->dns);
	memset(nm, 0, sizeof(*nm));
}

/* Record a SID; a different one than already recorded is an error. */
static int
names_set_sid(struct cert_names *nm, char *sid)
{
	if (nm->sid != NULL) {
		int same = strcasecmp(nm->sid, sid) == 0;

		free(sid);
		return same ? OC_OK : OC_ERR_PARSE;
	}
	nm->sid = sid;
	return OC_OK;
}

/* A printable, bounded name without NUL, '\\' or '*'; else 0. */
static int
name_ok(const ASN1_STRING *s, size_t max)
{
	const unsigned char *p = ASN1_STRING_get0_data(s);
	int n = ASN1_STRING_length(s);

	if (p == NULL || n <= 0 || (size_t)n > max)
		return 0;
	for (int i = 0; i < n; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '\\' || p[i] == '*')
			return 0;
	return 1;
}

static int
san_entry(const GENERAL_NAME *gn, struct cert_names *nm)
{
	const ASN1_STRING *s;
	const unsigned char *p;
	size_t n, plen = sizeof(SID_URL_PREFIX) - 1;
	char *sid = NULL;
	int r;

	switch (gn->type) {
	case GEN_OTHERNAME:
		if (!obj_is(gn->d.otherName->type_id, OID_UPN))
			return OC_OK;
		if (gn->d.otherName->value == NULL ||
		    gn->d.otherName->value->type != V_ASN1_UTF8STRING ||
		    !name_ok(s = gn->d.otherName->value->value.utf8string, OC_USERNAME_MAX)) {
			log_debug("skipping a malformed UPN");
			return OC_OK;
		}
		return oc_strlist_addn(&nm->upn, (const char *)ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
	case GEN_DNS:
		s = gn->d.dNSName;
		if (!name_ok(s, OC_NAME_MAX)) {
			log_debug("skipping a malformed dNSName");
			return OC_OK;
		}
		p = ASN1_STRING_get0_data(s);
		n = (size_t)ASN1_STRING_length(s);
		if (n > 1 && p[n - 1] == '.')
			n--;            /* absolute form */
		return oc_strlist_addn(&nm->dns, (const char *)p, n);
	case GEN_URI:
		s = gn->d.uniformResourceIdentifier;
		p = ASN1_STRING_get0_data(s);
		n = (size_t)ASN1_STRING_length(s);
		if (p == NULL || n <= plen || strncasecmp((const char *)p, SID_URL_PREFIX, plen) != 0)
			return OC_OK;
		if ((r = sid_canonical(p + plen, n - plen, &sid)) != OC_OK)
			return r;
		return names_set_sid(nm, sid);
	default:
		return OC_OK;
	}
}

/* OC_ERR_PARSE: names that must refuse the certificate (see the top comment). */
static int
names_get(X509 *leaf, struct cert_names *nm)
{
	ASN1_OBJECT *sid_oid = NULL;
	GENERAL_NAMES *san = NULL;
	const ASN1_OCTET_STRING *data;
	char *sid = NULL;
	int crit = -1, idx, r;

	memset(nm, 0, sizeof(*nm));
	if ((sid_oid = OBJ_txt2obj(OID_SID_EXT, 1)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if ((idx = X509_get_ext_by_OBJ(leaf, sid_oid, -1)) >= 0) {
		if (X509_get_ext_by_OBJ(leaf, sid_oid, idx) >= 0) {
			r = OC_ERR_PARSE;
			goto out;
		}
		data = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
		if ((r = oc_certauth_sid_ext_decode(ASN1_STRING_get0_data(data),
		    (size_t)ASN1_STRING_length(data), &sid)) != OC_OK) {
			if (r == OC_ERR_DER)
				r = OC_ERR_PARSE;
			goto out;
		}
		nm->sid = sid;
		sid = NULL;
	}
	san = X509_get_ext_d2i(leaf, NID_subject_alt_name, &crit, NULL);
	if (san == NULL && crit != -1) {
		r = OC_ERR_PARSE;       /* present but undecodable, or twice */
		goto out;
	}
	for (int i = 0; san != NULL && i < sk_GENERAL_NAME_num(san); i++)
		if ((r = san_entry(sk_GENERAL_NAME_value(san, i), nm)) != OC_OK)
			goto out;
	r = OC_OK;
out:
	ERR_clear_error();
	ASN1_OBJECT_free(sid_oid);
	GENERAL_NAMES_free(san);
	free(sid);
	if (r != OC_OK)
		names_clear(nm);
	return r;
}

/* Verification */

/* Lowercase hex of the serial's magnitude, as the store keeps it. */
static int
serial_hex(const X509 *x, char **hex)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	char *h;
	int n;

	*hex = NULL;
	if (sn == NULL || ASN1_STRING_type(sn) != V_ASN1_INTEGER ||
	    (n = ASN1_STRING_length(sn)) <= 0 || n > 20)
		return OC_ERR_INVALID;
	if ((h = malloc((size_t)n * 2 + 1)) == NULL)
		return OC_ERR_NOMEM;
	oc_hex_encode(ASN1_STRING_get0_data(sn), (size_t)n, h);
	*hex = h;
	return OC_OK;
}

static enum oc_certauth_reason
verify_error_reason(int err)
{
	switch (err) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return OC_CERTAUTH_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return OC_CERTAUTH_NOT_YET_VALID;
	case X509_V_ERR_INVALID_PURPOSE:
		return OC_CERTAUTH_WRONG_PURPOSE;
	case X509_V_ERR_OUT_OF_MEM:
		return OC_CERTAUTH_ERROR;
	default:
		return OC_CERTAUTH_UNTRUSTED;
	}
}

/* Is x our CA (same subject and key)? */
static int
is_our_ca(const struct oc_certauth *c, X509 *x)
{
	return c->our_ca != NULL &&
	    X509_NAME_cmp(X509_get_subject_name(x), X509_get_subject_name(c->our_ca)) == 0 &&
	    EVP_PKEY_eq(X509_get0_pubkey(x), X509_get0_pubkey(c->our_ca)) == 1;
}

/* Ask our CA's records about every certificate of the verified chain it issued. */
static int
check_revocation(const struct oc_certauth *c, STACK_OF(X509) *verified,
    struct verdict *v)
{
	char *hex = NULL;
	int r = OC_OK, is_revoked;

	for (int i = 0; i + 1 < sk_X509_num(verified); i++) {
		if (!is_our_ca(c, sk_X509_value(verified, i + 1)))
			continue;
		is_revoked = 1;
		if ((r = serial_hex(sk_X509_value(verified, i), &hex)) != OC_OK ||
		    (r = c->revoked(c->revoked_arg, hex, &is_revoked)) != OC_OK) {
			verdict_set(v, OC_CERTAUTH_REVOCATION_UNKNOWN, "serial %s at depth %d: %s",
			    hex ? hex : "?", i, oc_strerror(r));
			r = OC_ERR_AUTH;
			goto out;
		}
		if (is_revoked) {
			verdict_set(v, OC_CERTAUTH_REVOKED, "serial %s at depth %d", hex, i);
			r = OC_ERR_AUTH;
			goto out;
		}
		free(hex);
		hex = NULL;
	}
out:
	free(hex);
	return r;
}

/* Verify the chain; on success *verified is the chain to the anchor. */
static int
verify_chain(struct oc_certauth *c, X509 *leaf, STACK_OF(X509) *chain,
    STACK_OF(X509) **verified, struct verdict *v)
{
	X509_STORE_CTX *ctx = NULL;
	int r, err;

	*verified = NULL;
	if (chain != NULL && sk_X509_num(chain) > OC_CERTAUTH_CHAIN_MAX) {
		verdict_set(v, OC_CERTAUTH_UNTRUSTED, "%d chain certificates", sk_X509_num(chain));
		return OC_ERR_AUTH;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    X509_STORE_CTX_init(ctx, c->store, leaf, chain) != 1 ||
	    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1) {
		r = OC_ERR_CRYPTO;
		goto out;
	}
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		verdict_set(v, verify_error_reason(err), "%s at depth %d",
		    X509_verify_cert_error_string(err), X509_STORE_CTX_get_error_depth(ctx));
		r = v->reason == OC_CERTAUTH_ERROR ? OC_ERR_NOMEM : OC_ERR_AUTH;
		goto out;
	}
	if ((*verified = X509_STORE_CTX_get1_chain(ctx)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	r = OC_OK;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	return r;
}

/* Mapping */

enum map_attr { MAP_SID, MAP_UPN, MAP_DNS };

/*
 * Scan the account list (read once, lazily) for value; *name is the account
 * (malloc'd) or NULL when none. Two accounts with the value: none (ambiguous).
 */
static int
scan_accounts(struct oc_directory *dir, struct oc_identity **idv, size_t *n, int *loaded,
    enum map_attr attr, const char *value, char **name)
{
	const char *v, *hit = NULL;
	size_t hits = 0;
	int r;

	*name = NULL;
	if (!*loaded) {
		if ((r = oc_dir_account_list(dir, idv, n)) != OC_OK)
			return r;
		*loaded = 1;
	}
	for (size_t i = 0; i < *n; i++) {
		const struct oc_identity *a = &(*idv)[i];

		v = attr == MAP_SID ? a->sid : attr == MAP_UPN ? a->upn : a->dns_name;
		if (attr == MAP_DNS && a->kind != OC_ACCOUNT_COMPUTER)
			continue;
		if (v != NULL && strcasecmp(v, value) == 0) {
			hits++;
			hit = a->name;
		}
	}
	if (hits > 1) {
		log_info("client certificate: %zu accounts have the same %s",
		    hits, attr == MAP_SID ? "SID" : attr == MAP_UPN ? "UPN" : "DNS name");
		return OC_OK;
	}
	if (hit != NULL && (*name = strdup(hit)) == NULL)
		return OC_ERR_NOMEM;
	return OC_OK;
}

/* Exact UPN through the directory's login lookup, else a case-insensitive scan. */
static int
find_upn(struct oc_directory *dir, struct oc_identity **idv, size_t *n, int *loaded,
    const char *upn, char **name)
{
	struct oc_identity id = { 0 };
	int r;

	*name = NULL;
	r = oc_dir_account_lookup_login(dir, upn, &id);
	if (r == OC_OK && id.upn != NULL && strcmp(id.upn, upn) == 0) {
		*name = id.name;
		id.name = NULL;
		oc_identity_clear(&id);
		return OC_OK;
	}
	oc_identity_clear(&id);
	if (r != OC_OK && r != OC_ERR_NOT_FOUND)
		return r;
	return scan_accounts(dir, idv, n, loaded, MAP_UPN, upn, name);
}

/*
 * The explicit mapping of leaf: OC_OK with *name, OC_ERR_NOT_FOUND when it
 * has none, OC_ERR_AUTH (verdict set) when its mapping refuses it.
 */
static int
map_explicit(struct oc_directory *dir, X509 *leaf, char **name, struct verdict *v)
{
	struct oc_dir_certmap keys = { 0 };
	unsigned char *der = NULL;
	int len, r;

	*name = NULL;
	if ((len = i2d_X509(leaf, &der)) <= 0) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if ((r = oc_dir_certmap_keys(der, (size_t)len, &keys)) != OC_OK) {
		if (r == OC_ERR_DER || r == OC_ERR_LIMIT)
			r = OC_ERR_NOT_FOUND;   /* verified, yet no key we store: no mapping */
		goto out;
	}
	if ((r = oc_dir_certmap_find(dir, &keys, name)) != OC_OK)
		goto out;
	if (*name == NULL) {
		verdict_set(v, OC_CERTAUTH_UNMAPPED,
		    "explicitly mapped to a removed account, or to two accounts");
		r = OC_ERR_AUTH;
		goto out;
	}
	verdict_set(v, OC_CERTAUTH_OK, "explicit mapping (SHA-256 %.16s...)", keys.sha256);
out:
	ERR_clear_error();
	OPENSSL_free(der);
	oc_dir_certmap_clear(&keys);
	return r;
}

static int
map_account(struct oc_directory *dir, X509 *leaf, const struct cert_names *nm, char **name,
    struct verdict *v)
{
	struct oc_identity *idv = NULL;
	size_t n = 0;
	int loaded = 0, r;

	*name = NULL;
	/* an administrator's explicit mapping first: it wins over the names */
	if ((r = map_explicit(dir, leaf, name, v)) != OC_ERR_NOT_FOUND)
		goto out;
	if (nm->sid != NULL) {
		if ((r = scan_accounts(dir, &idv, &n, &loaded, MAP_SID, nm->sid, name)) != OC_OK)
			goto out;
		/* strong mapping: a SID that matches no account ends here (KB5014754) */
		if (*name == NULL) {
			verdict_set(v, OC_CERTAUTH_SID_MISMATCH, "SID %s", nm->sid);
			r = OC_ERR_AUTH;
		} else {
			verdict_set(v, OC_CERTAUTH_OK, "SID %s", nm->sid);
		}
		goto out;
	}
	for (size_t i = 0; i < nm->upn.n && *name == NULL; i++) {
		if ((r = find_upn(dir, &idv, &n, &loaded, nm->upn.v[i], name)) != OC_OK)
			goto out;
		if (*name != NULL)
			verdict_set(v, OC_CERTAUTH_OK, "UPN %s", nm->upn.v[i]);
	}
	for (size_t i = 0; i < nm->dns.n && *name == NULL; i++) {
		if ((r = scan_accounts(dir, &idv, &n, &loaded, MAP_DNS, nm->dns.v[i], name)) != OC_OK)
			goto out;
		if (*name != NULL)
			verdict_set(v, OC_CERTAUTH_OK, "DNS name %s", nm->dns.v[i]);
	}
	if (*name == NULL) {
		verdict_set(v, OC_CERTAUTH_UNMAPPED, "%zu UPN and %zu DNS names, none an account's",
		    nm->upn.n, nm->dns.n);
		r = OC_ERR_AUTH;
		goto out;
	}
	r = OC_OK;
out:
	oc_dir_account_list_free(idv, n);
	return r;
}

int
oc_certauth_verify_reason(struct oc_certauth *c, X509 *leaf, STACK_OF(X509) *chain,
    struct oc_directory *dir, struct oc_identity *id, enum oc_certauth_reason *reasonp)
{
	struct verdict v = { .reason = OC_CERTAUTH_ERROR };
	STACK_OF(X509) *verified = NULL;
	struct cert_names nm = { 0 };
	char subject[SUBJECT_LOG_MAX] = "-", *name = NULL, *hex = NULL;
	uint32_t xku;
	int r;

	if (id != NULL)
		memset(id, 0, sizeof(*id));
	if (c == NULL || (dir == NULL && c->map == NULL) || id == NULL) {
		r = OC_ERR_INVALID;
		goto out;
	}
	if (leaf == NULL) {
		v.reason = OC_CERTAUTH_NO_CERT;
		r = OC_ERR_AUTH_MISSING;
		goto out;
	}
	if (X509_NAME_oneline(X509_get_subject_name(leaf), subject, sizeof(subject)) == NULL)
		snprintf(subject, sizeof(subject), "?");
	if (serial_hex(leaf, &hex) != OC_OK)
		hex = NULL;
	log_debug("client certificate %s serial %s", subject, hex ? hex : "?");
	if ((r = verify_chain(c, leaf, chain, &verified, &v)) != OC_OK)
		goto out;
	/* an extendedKeyUsage with clientAuth is required (absent EKU: refused) */
	xku = X509_get_extended_key_usage(leaf);
	if ((X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) == 0 || (xku & XKU_SSL_CLIENT) == 0) {
		verdict_set(&v, OC_CERTAUTH_WRONG_PURPOSE, "no clientAuth extended key usage");
		r = OC_ERR_AUTH;
		goto out;
	}
	if ((r = check_revocation(c, verified, &v)) != OC_OK)
		goto out;
	if ((r = names_get(leaf, &nm)) != OC_OK) {
		if (r == OC_ERR_PARSE) {
			verdict_set(&v, OC_CERTAUTH_BAD_NAMES,
			    "malformed or conflicting SIDs, or a malformed subjectAltName");
			r = OC_ERR_AUTH;
		}
		goto out;
	}
	if (c->map != NULL) {
		/* the directory elsewhere maps the names, in the same order */
		r = c->map(c->map_arg, nm.sid, &nm.upn, &nm.dns, id);
		if (r == OC_ERR_NOT_FOUND) {
			if (nm.sid != NULL)
				verdict_set(&v, OC_CERTAUTH_SID_MISMATCH, "SID %s", nm.sid);
			else
				verdict_set(&v, OC_CERTAUTH_UNMAPPED,
				    "%zu UPN and %zu DNS names, none a directory account's",
				    nm.upn.n, nm.dns.n);
			r = OC_ERR_AUTH;
			goto out;
		}
		if (r != OC_OK)
			goto out;
		verdict_set(&v, OC_CERTAUTH_OK, "the directory (%s)", nm.sid ? "SID" :
		    id->upn != NULL && oc_strlist_contains_ci(&nm.upn, id->upn) ? "UPN" : "DNS name");
	} else if ((r = map_account(dir, leaf, &nm, &name, &v)) != OC_OK)
		goto out;
	else if ((r = oc_dir_account_get(dir, name, id)) != OC_OK) {
		if (r == OC_ERR_NOT_FOUND) {    /* removed meanwhile */
			verdict_set(&v, OC_CERTAUTH_UNMAPPED, "account %s removed", name);
			r = OC_ERR_AUTH;
		}
		goto out;
	}
	id->auth_type = OC_AUTH_CERTIFICATE;
	v.reason = OC_CERTAUTH_OK;
	log_info("client certificate %s serial %s: account %s by %s", subject, hex ? hex : "?",
	    id->name, v.why);
	r = OC_OK;
out:
	if (r != OC_OK) {
		if (v.reason == OC_CERTAUTH_OK)         /* mapped, then the directory failed */
			v.reason = OC_CERTAUTH_ERROR;
		if (v.reason == OC_CERTAUTH_ERROR && r != OC_ERR_INVALID)
			error_fr(r, "client certificate %s", subject);
		else if (v.reason != OC_CERTAUTH_ERROR)
			log_info("client certificate %s serial %s refused: %s%s%s%s", subject,
			    hex ? hex : "?", oc_certauth_reason_name(v.reason),
			    v.why[0] ? " (" : "", v.why, v.why[0] ? ")" : "");
		if (id != NULL)
			oc_identity_clear(id);
	}
	if (reasonp != NULL)
		*reasonp = v.reason;
	sk_X509_pop_free(verified, X509_free);
	names_clear(&nm);
	free(name);
	free(hex);
	return r;
}

int
oc_certauth_verify(struct oc_certauth *c, X509 *leaf, STACK_OF(X509) *chain,
    struct oc_directory *dir, struct oc_identity *id)
{
	return oc_certauth_verify_reason(c, leaf, chain, dir, id, NULL);
}

void
oc_certauth_set_map(struct oc_certauth *c, oc_certauth_map_fn map, void *arg)
{
	if (c == NULL)
		return;
	c->map = map;
	c->map_arg = arg;
}
