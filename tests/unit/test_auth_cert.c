/*
 * Client-certificate authentication (src/auth/certauth.c): certificates made
 * here with OpenSSL (our CA, an intermediate under it, an expired
 * intermediate, another trusted CA, and a rogue CA with our CA's name but
 * another key), verified against a temporary embedded directory.
 * The SID extension comes from the CA's own encoder (pkix_sid_ext_encode)
 * and from the bytes of docs/protocol/templates.md 10.4.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "auth/certauth.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "pkix/pkix.h"

int main(void);

#define SID_ALICE "S-1-5-21-1-2-3-1104"
#define SID_BOB   "S-1-5-21-1-2-3-1105"
#define SID_ADMIN "S-1-5-21-1111111111-2222222222-3333333333-500"   /* the vector's SID */
/* the SAN URL form: make_cert writes "URI:sidurl:X" as tag:microsoft.com,2022-09-14:sid:X */
#define SID_URL   "sidurl:"

static char tdir[64];
static char dbpath[128], anchors[128], ourca[128];

/* Certification authorities of the tests */
enum issuer { ROOT, INTER, INTER_EXPIRED, OTHER, ROGUE, N_ISSUERS };
struct ca {
	EVP_PKEY *key;
	X509 *cert;
};
static struct ca cas[N_ISSUERS];

/* The revocation callback: our CA's records */
struct records {
	const char *revoked;        /* the one revoked serial, or NULL */
	int fail;                   /* answer with an error */
	int calls;
	char last[64];
};

static int
records_revoked(void *arg, const char *serial_hex, int *is_revoked)
{
	struct records *rec = arg;

	rec->calls++;
	snprintf(rec->last, sizeof(rec->last), "%s", serial_hex);
	if (rec->fail)
		return OC_ERR_STORE;
	*is_revoked = rec->revoked != NULL && strcmp(rec->revoked, serial_hex) == 0;
	return OC_OK;
}

/* Certificate building */

enum eku { EKU_CLIENT, EKU_SERVER, EKU_BOTH, EKU_NONE };

struct spec {
	const char *cn;
	uint64_t serial;
	long nb, na;                /* validity, seconds from now */
	int is_ca;
	enum eku eku;
	const char *sid;            /* SID extension (pkix_sid_ext_encode) */
	const uint8_t *sid_raw;     /* or this extension value */
	size_t sid_raw_len;
	const char *san;            /* OpenSSL config form, may be NULL */
	int no_akid;                /* set by the F_NO_AKID flag */
};

static void
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);

	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
}

static void
add_raw_ext(X509 *x, const char *oid, const uint8_t *der, size_t len)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext;

	assert_non_null(obj);
	assert_non_null(os);
	assert_int_equal(ASN1_OCTET_STRING_set(os, der, (int)len), 1);
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os);
	assert_non_null(ext);
	assert_int_equal(X509_add_ext(x, ext, -1), 1);
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
}

/*
 * SAN from OpenSSL's config form; "URI:sidurl:X" becomes the SAN URL form of
 * a SID (its comma cannot be written in the config form).
 */
static void
add_san(X509 *x, X509V3_CTX *ctx, const char *conf)
{
	static const char tag[] = "tag:microsoft.com,2022-09-14:sid:";
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, NID_subject_alt_name, conf);
	GENERAL_NAMES *gns;
	char buf[256];

	assert_non_null(ext);
	assert_non_null(gns = X509V3_EXT_d2i(ext));
	for (int i = 0; i < sk_GENERAL_NAME_num(gns); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(gns, i);
		const ASN1_STRING *u;

		if (gn->type != GEN_URI)
			continue;
		u = gn->d.uniformResourceIdentifier;
		if (ASN1_STRING_length(u) < 7 || memcmp(ASN1_STRING_get0_data(u), "sidurl:", 7) != 0)
			continue;
		snprintf(buf, sizeof(buf), "%s%.*s", tag, ASN1_STRING_length(u) - 7,
		    (const char *)ASN1_STRING_get0_data(u) + 7);
		assert_int_equal(ASN1_STRING_set(gn->d.uniformResourceIdentifier, buf, -1), 1);
	}
	assert_int_equal(X509_add1_ext_i2d(x, NID_subject_alt_name, gns, 0, X509V3_ADD_DEFAULT), 1);
	GENERAL_NAMES_free(gns);
	X509_EXTENSION_free(ext);
}

/* issuer NULL: self-signed with key. */
static X509 *
make_cert(const struct spec *s, EVP_PKEY *key, const struct ca *issuer)
{
	static const char *const ekus[] = {
		[EKU_CLIENT] = "clientAuth", [EKU_SERVER] = "serverAuth",
		[EKU_BOTH] = "serverAuth,clientAuth", [EKU_NONE] = NULL,
	};
	X509 *x = X509_new();
	X509V3_CTX ctx;
	uint8_t *der = NULL;
	size_t len = 0;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), s->serial), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)s->cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer->cert) :
	    X509_get_subject_name(x)), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), s->nb));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), s->na));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	X509V3_set_ctx(&ctx, issuer ? issuer->cert : x, x, NULL, NULL, 0);
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (!s->no_akid)
		add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
	if (s->is_ca) {
		add_ext(x, &ctx, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature");
	} else {
		add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
	}
	if (ekus[s->eku] != NULL)
		add_ext(x, &ctx, NID_ext_key_usage, ekus[s->eku]);
	if (s->san != NULL)
		add_san(x, &ctx, s->san);
	if (s->sid != NULL) {
		assert_int_equal(pkix_sid_ext_encode(s->sid, &der, &len), OC_OK);
		add_raw_ext(x, OC_OID_SID_EXT, der, len);
		free(der);
	}
	if (s->sid_raw != NULL)
		add_raw_ext(x, OC_OID_SID_EXT, s->sid_raw, s->sid_raw_len);
	assert_true(X509_sign(x, issuer ? issuer->key : key, EVP_sha256()) > 0);
	return x;
}

static EVP_PKEY *
make_key(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void
write_pem(const char *path, X509 *const *certs, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(PEM_write_X509(f, certs[i]), 1);
	assert_int_equal(fclose(f), 0);
}

static int
setup(void **state)
{
	struct oc_directory *dir = NULL;
	struct oc_identity a[6];
	int r = OC_OK;
#define CA_SPEC(name, sn, from, to) \
	{ .cn = (name), .serial = (sn), .nb = (from), .na = (to), .is_ca = 1, .eku = EKU_NONE }
	const struct spec root = CA_SPEC("OpenCES Test CA", 1, -86400, 86400 * 365);
	const struct spec inter = CA_SPEC("OpenCES Test Issuing CA", 0x200, -86400, 86400 * 365);
	const struct spec inter_old = CA_SPEC("OpenCES Old Issuing CA", 0x201, -86400 * 30, -86400);
	const struct spec other = CA_SPEC("Partner CA", 1, -86400, 86400 * 365);
#undef CA_SPEC

	(void)state;
	oc_log_init("test_auth_cert", OC_LOG_WARN);
	strcpy(tdir, "/tmp/oc_certauth_XXXXXX");
	if (mkdtemp(tdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/directory.db", tdir);
	snprintf(anchors, sizeof(anchors), "%s/anchors.pem", tdir);
	snprintf(ourca, sizeof(ourca), "%s/ca.pem", tdir);

	for (int i = 0; i < N_ISSUERS; i++)
		cas[i].key = make_key();
	cas[ROOT].cert = make_cert(&root, cas[ROOT].key, NULL);
	cas[INTER].cert = make_cert(&inter, cas[INTER].key, &cas[ROOT]);
	cas[INTER_EXPIRED].cert = make_cert(&inter_old, cas[INTER_EXPIRED].key, &cas[ROOT]);
	cas[OTHER].cert = make_cert(&other, cas[OTHER].key, NULL);
	cas[ROGUE].cert = make_cert(&root, cas[ROGUE].key, NULL);   /* our CA's name, not its key */
	write_pem(anchors, (X509 *const[]){ cas[ROOT].cert, cas[OTHER].cert }, 2);
	write_pem(ourca, &cas[ROOT].cert, 1);

	if (oc_dir_open(dbpath, 1, &dir) != OC_OK)
		return -1;
	memset(a, 0, sizeof(a));
	a[0].name = "alice"; a[0].upn = "alice@example.test"; a[0].sid = SID_ALICE;
	a[1].name = "bob"; a[1].upn = "bob@example.test"; a[1].sid = SID_BOB;
	a[2].name = "carol"; a[2].upn = "carol@example.test";
	a[3].name = "administrator"; a[3].sid = SID_ADMIN;
	a[4].name = "WS1$"; a[4].kind = OC_ACCOUNT_COMPUTER; a[4].dns_name = "ws1.example.test";
	a[5].name = "webuser"; a[5].dns_name = "web.example.test";    /* a user: no DNS mapping */
	for (size_t i = 0; i < 6 && r == OC_OK; i++)
		r = oc_dir_account_add(dir, &a[i], NULL);
	if (r == OC_OK)
		r = oc_dir_group_add(dir, "staff");
	if (r == OC_OK)
		r = oc_dir_group_add_member(dir, "staff", "alice");
	oc_dir_close(dir);
	return r == OC_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	char p[160];

	(void)state;
	for (int i = 0; i < N_ISSUERS; i++) {
		X509_free(cas[i].cert);
		EVP_PKEY_free(cas[i].key);
	}
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	unlink(anchors);
	unlink(ourca);
	rmdir(tdir);
	return 0;
}

static uint8_t *
read_vector(const char *name, size_t *len)
{
	const char *dir = getenv("OC_VECTORS");
	char path[512];
	uint8_t *data = NULL;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/auth/%s", dir, name);
	assert_int_equal(oc_file_read(path, &data, len, 4096), OC_OK);
	return data;
}

/* The verdicts */

struct vcase {
	const char *name;
	enum issuer issuer;
	int send_chain;             /* send the issuer's certificate with the leaf */
	struct spec leaf;
	int flags;                  /* F_* */
	const char *revoked;        /* serial our CA's records call revoked */
	int cb_fail;
	int want_r;
	enum oc_certauth_reason want_reason;
	const char *want_account;
	int want_calls;             /* revocation lookups */
	const char *want_serial;    /* the last serial looked up */
};

#define F_VECTOR_SID 1          /* put sid_ext_fact_sheet.der in the leaf */
#define F_NO_AKID    2          /* leave out authorityKeyIdentifier (not RFC 5280) */
#define DAY 86400L
#define OK_LEAF(...) { "client", 0x1010, -DAY, DAY, 0, EKU_CLIENT, __VA_ARGS__, 0 }

static const struct vcase vcases[] = {
	/* mapping order: SID, UPN, DNS */
	{ "SID maps (before the UPN of another account)", ROOT, 0,
	  OK_LEAF(SID_ALICE, NULL, 0, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:bob@example.test"),
	  0, NULL, 0, OC_OK, OC_CERTAUTH_OK, "alice", 1, "1010" },
	{ "SID in the SAN URL form maps", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, "URI:" SID_URL SID_BOB),
	  0, NULL, 0, OC_OK, OC_CERTAUTH_OK, "bob", 1, "1010" },
	{ "SID extension and SAN URL agree", ROOT, 0,
	  OK_LEAF(SID_BOB, NULL, 0, "URI:" SID_URL SID_BOB),
	  0, NULL, 0, OC_OK, OC_CERTAUTH_OK, "bob", 1, "1010" },
	{ "SID extension of the fact sheet (templates.md 10.4)", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, NULL),
	  1, NULL, 0, OC_OK, OC_CERTAUTH_OK, "administrator", 1, "1010" },
	{ "UPN maps", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:carol@example.test"),
	  0, NULL, 0, OC_OK, OC_CERTAUTH_OK, "carol", 1, "1010" },
	{ "UPN maps case-insensitively", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:Carol@EXAMPLE.test"),
	  0, NULL, 0, OC_OK, OC_CERTAUTH_OK, "carol", 1, "1010" },
	{ "second UPN maps when the first names nobody", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:nobody@example.test,"
	      "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:carol@example.test"),
	  0, NULL, 0, OC_OK, OC_CERTAUTH_OK, "carol", 1, "1010" },
	{ "UPN before DNS name", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, "DNS:ws1.example.test,"
	      "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:carol@example.test"),
	  0, NULL, 0, OC_OK, OC_CERTAUTH_OK, "carol", 1, "1010" },
	{ "DNS name maps a computer (case-insensitive, absolute form)", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, "DNS:other.example.test,DNS:WS1.Example.Test."),
	  0, NULL, 0, OC_OK, OC_CERTAUTH_OK, "WS1$", 1, "1010" },
	{ "clientAuth among other EKUs", ROOT, 0,
	  { "client", 0x1010, -DAY, DAY, 0, EKU_BOTH, NULL, NULL, 0,
	    "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:carol@example.test", 0 },
	  0, NULL, 0, OC_OK, OC_CERTAUTH_OK, "carol", 1, "1010" },
	/* unmapped */
	{ "DNS name of a user account does not map", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, "DNS:web.example.test"),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_UNMAPPED, NULL, 1, "1010" },
	{ "unknown UPN and DNS name", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:nobody@example.test,"
	      "DNS:nothing.example.test,email:alice@example.test"),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_UNMAPPED, NULL, 1, "1010" },
	{ "no names at all", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, NULL),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_UNMAPPED, NULL, 1, "1010" },
	{ "SID of nobody, UPN of alice: no weaker fallback", ROOT, 0,
	  OK_LEAF("S-1-5-21-9-9-9-1000", NULL, 0,
	      "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.test,DNS:ws1.example.test"),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_SID_MISMATCH, NULL, 1, "1010" },
	{ "SID extension and SAN URL disagree", ROOT, 0,
	  OK_LEAF(SID_ALICE, NULL, 0, "URI:" SID_URL SID_BOB),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_BAD_NAMES, NULL, 1, "1010" },
	{ "malformed SID extension, UPN of alice", ROOT, 0,
	  OK_LEAF(NULL, (const uint8_t *)"\x04\x00", 2,
	      "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.test"),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_BAD_NAMES, NULL, 1, "1010" },
	{ "malformed SID in the SAN URL form", ROOT, 0,
	  OK_LEAF(NULL, NULL, 0, "URI:" SID_URL "S-1-5-x,"
	      "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:alice@example.test"),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_BAD_NAMES, NULL, 1, "1010" },
	/* validity */
	{ "expired", ROOT, 0,
	  { "client", 0x1010, -2 * DAY, -3600, 0, EKU_CLIENT, SID_ALICE, NULL, 0, NULL, 0 },
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_EXPIRED, NULL, 0, NULL },
	{ "not yet valid", ROOT, 0,
	  { "client", 0x1010, 3600, 2 * DAY, 0, EKU_CLIENT, SID_ALICE, NULL, 0, NULL, 0 },
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_NOT_YET_VALID, NULL, 0, NULL },
	{ "issued by an expired intermediate", INTER_EXPIRED, 1,
	  OK_LEAF(SID_ALICE, NULL, 0, NULL),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_EXPIRED, NULL, 0, NULL },
	/* trust */
	{ "wrong CA (our CA's name, another key)", ROGUE, 0,
	  OK_LEAF(SID_ALICE, NULL, 0, NULL),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_UNTRUSTED, NULL, 0, NULL },
	{ "no authorityKeyIdentifier (X509_V_FLAG_X509_STRICT)", ROOT, 0,
	  OK_LEAF(SID_ALICE, NULL, 0, NULL),
	  F_NO_AKID, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_UNTRUSTED, NULL, 0, NULL },
	{ "intermediate not sent", INTER, 0,
	  OK_LEAF(SID_ALICE, NULL, 0, NULL),
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_UNTRUSTED, NULL, 0, NULL },
	{ "chain with an intermediate (our CA issued the intermediate)", INTER, 1,
	  OK_LEAF(SID_ALICE, NULL, 0, NULL),
	  0, "1010", 0, OC_OK, OC_CERTAUTH_OK, "alice", 1, "0200" },
	{ "another trusted CA: our records are not asked", OTHER, 0,
	  OK_LEAF(NULL, NULL, 0, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:carol@example.test"),
	  0, "1010", 0, OC_OK, OC_CERTAUTH_OK, "carol", 0, NULL },
	/* purpose */
	{ "serverAuth only", ROOT, 0,
	  { "client", 0x1010, -DAY, DAY, 0, EKU_SERVER, SID_ALICE, NULL, 0, NULL, 0 },
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_WRONG_PURPOSE, NULL, 0, NULL },
	{ "no extendedKeyUsage", ROOT, 0,
	  { "client", 0x1010, -DAY, DAY, 0, EKU_NONE, SID_ALICE, NULL, 0, NULL, 0 },
	  0, NULL, 0, OC_ERR_AUTH, OC_CERTAUTH_WRONG_PURPOSE, NULL, 0, NULL },
	/* revocation */
	{ "revoked", ROOT, 0,
	  OK_LEAF(SID_ALICE, NULL, 0, NULL),
	  0, "1010", 0, OC_ERR_AUTH, OC_CERTAUTH_REVOKED, NULL, 1, "1010" },
	{ "revoked intermediate", INTER, 1,
	  OK_LEAF(SID_ALICE, NULL, 0, NULL),
	  0, "0200", 0, OC_ERR_AUTH, OC_CERTAUTH_REVOKED, NULL, 1, "0200" },
	{ "serial with the high bit set", ROOT, 0,
	  { "client", 0x80ff, -DAY, DAY, 0, EKU_CLIENT, SID_ALICE, NULL, 0, NULL, 0 },
	  0, "80ff", 0, OC_ERR_AUTH, OC_CERTAUTH_REVOKED, NULL, 1, "80ff" },
	{ "records unavailable: fail closed", ROOT, 0,
	  OK_LEAF(SID_ALICE, NULL, 0, NULL),
	  0, NULL, 1, OC_ERR_AUTH, OC_CERTAUTH_REVOCATION_UNKNOWN, NULL, 1, "1010" },
};

static void
test_verdicts(void **state)
{
	struct records rec;
	struct oc_certauth_config cfg = { anchors, records_revoked, &rec, ourca };
	struct oc_certauth *ca = NULL;
	struct oc_directory *dir = NULL;
	uint8_t *vec = NULL;
	size_t veclen = 0;

	(void)state;
	vec = read_vector("sid_ext_fact_sheet.der", &veclen);
	assert_int_equal(oc_certauth_new(&cfg, &ca), OC_OK);
	assert_int_equal(oc_dir_open_ro(dbpath, &dir), OC_OK);
	for (size_t i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *t = &vcases[i];
		struct spec ls = t->leaf;
		struct oc_identity id;
		enum oc_certauth_reason reason = OC_CERTAUTH_ERROR;
		STACK_OF(X509) *chain = NULL;
		EVP_PKEY *key = make_key();
		X509 *leaf;
		int r;

		print_message("case %zu: %s\n", i, t->name);
		ls.no_akid = (t->flags & F_NO_AKID) != 0;
		if (t->flags & F_VECTOR_SID) {
			ls.sid_raw = vec;
			ls.sid_raw_len = veclen;
		}
		leaf = make_cert(&ls, key, &cas[t->issuer]);
		if (t->send_chain) {
			assert_non_null(chain = sk_X509_new_null());
			assert_true(sk_X509_push(chain, cas[t->issuer].cert) > 0);
		}
		memset(&rec, 0, sizeof(rec));
		rec.revoked = t->revoked;
		rec.fail = t->cb_fail;
		r = oc_certauth_verify_reason(ca, leaf, chain, dir, &id, &reason);
		assert_int_equal(r, t->want_r);
		assert_string_equal(oc_certauth_reason_name(reason),
		    oc_certauth_reason_name(t->want_reason));
		assert_int_equal(rec.calls, t->want_calls);
		if (t->want_serial != NULL)
			assert_string_equal(rec.last, t->want_serial);
		if (t->want_account != NULL) {
			assert_string_equal(id.name, t->want_account);
			assert_int_equal(id.auth_type, OC_AUTH_CERTIFICATE);
		} else {
			assert_null(id.name);
		}
		/* the variant without a reason gives the same answer */
		memset(&rec, 0, sizeof(rec));
		rec.revoked = t->revoked;
		rec.fail = t->cb_fail;
		oc_identity_clear(&id);
		assert_int_equal(oc_certauth_verify(ca, leaf, chain, dir, &id), t->want_r);
		oc_identity_clear(&id);
		sk_X509_free(chain);
		X509_free(leaf);
		EVP_PKEY_free(key);
	}
	oc_dir_close(dir);
	oc_certauth_free(ca);
	free(vec);
}

/* The identity carries the account's attributes and groups. */
static void
test_identity(void **state)
{
	struct oc_certauth_config cfg = { anchors, NULL, NULL, NULL };
	const struct spec s = OK_LEAF(SID_ALICE, NULL, 0, NULL);
	struct oc_certauth *ca = NULL;
	struct oc_directory *dir = NULL;
	struct oc_identity id;
	EVP_PKEY *key = make_key();
	X509 *leaf = make_cert(&s, key, &cas[ROOT]);

	(void)state;
	/* no CA of ours configured: no revocation callback needed */
	assert_int_equal(oc_certauth_new(&cfg, &ca), OC_OK);
	assert_int_equal(oc_dir_open_ro(dbpath, &dir), OC_OK);
	assert_int_equal(oc_certauth_verify(ca, leaf, NULL, dir, &id), OC_OK);
	assert_string_equal(id.name, "alice");
	assert_int_equal(id.kind, OC_ACCOUNT_USER);
	assert_int_equal(id.auth_type, OC_AUTH_CERTIFICATE);
	assert_string_equal(id.upn, "alice@example.test");
	assert_string_equal(id.sid, SID_ALICE);
	assert_true(oc_strlist_contains(&id.groups, "staff"));
	oc_identity_clear(&id);
	oc_dir_close(dir);
	oc_certauth_free(ca);
	X509_free(leaf);
	EVP_PKEY_free(key);
}

/* One struct oc_certauth shared by threads, one directory handle each. */
#define THREADS 4
#define ROUNDS  25

struct worker {
	struct oc_certauth *ca;
	X509 *good, *revoked;
	int failures;
};

static int
thread_revoked(void *arg, const char *serial_hex, int *is_revoked)
{
	(void)arg;
	*is_revoked = strcmp(serial_hex, "0bad") == 0;
	return OC_OK;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct oc_directory *dir = NULL;
	struct oc_identity id;

	if (oc_dir_open_ro(dbpath, &dir) != OC_OK) {
		w->failures++;
		return NULL;
	}
	for (int i = 0; i < ROUNDS; i++) {
		if (oc_certauth_verify(w->ca, w->good, NULL, dir, &id) != OC_OK ||
		    id.name == NULL || strcmp(id.name, "alice") != 0)
			w->failures++;
		oc_identity_clear(&id);
		if (oc_certauth_verify(w->ca, w->revoked, NULL, dir, &id) != OC_ERR_AUTH)
			w->failures++;
		oc_identity_clear(&id);
	}
	oc_dir_close(dir);
	return NULL;
}

static void
test_threads(void **state)
{
	struct oc_certauth_config cfg = { anchors, thread_revoked, NULL, ourca };
	const struct spec good = OK_LEAF(SID_ALICE, NULL, 0, NULL);
	struct spec bad = good;
	struct worker w[THREADS];
	pthread_t th[THREADS];
	struct oc_certauth *ca = NULL;
	EVP_PKEY *key = make_key();
	X509 *gx, *bx;

	(void)state;
	bad.serial = 0xbad;
	gx = make_cert(&good, key, &cas[ROOT]);
	bx = make_cert(&bad, key, &cas[ROOT]);
	assert_int_equal(oc_certauth_new(&cfg, &ca), OC_OK);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ ca, gx, bx, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	oc_certauth_free(ca);
	X509_free(gx);
	X509_free(bx);
	EVP_PKEY_free(key);
}

static void
test_no_certificate(void **state)
{
	struct records rec = { 0 };
	struct oc_certauth_config cfg = { anchors, records_revoked, &rec, ourca };
	struct oc_certauth *ca = NULL;
	struct oc_directory *dir = NULL;
	struct oc_identity id;
	enum oc_certauth_reason reason = OC_CERTAUTH_OK;

	(void)state;
	assert_int_equal(oc_certauth_new(&cfg, &ca), OC_OK);
	assert_int_equal(oc_dir_open_ro(dbpath, &dir), OC_OK);
	assert_int_equal(oc_certauth_verify_reason(ca, NULL, NULL, dir, &id, &reason),
	    OC_ERR_AUTH_MISSING);
	assert_int_equal(reason, OC_CERTAUTH_NO_CERT);
	assert_null(id.name);
	assert_int_equal(oc_certauth_verify(NULL, NULL, NULL, dir, &id), OC_ERR_INVALID);
	oc_dir_close(dir);
	oc_certauth_free(ca);
	oc_certauth_free(NULL);
}

/* Configuration that must be refused. */
static void
test_config(void **state)
{
	struct records rec = { 0 };
	char empty[160], notpem[160], twoca[160];
	FILE *f;
	struct oc_certauth *ca = (struct oc_certauth *)&rec;   /* must be reset */
	const struct {
		const char *name;
		struct oc_certauth_config cfg;
		int want;
	} cases[] = {
		{ "no trust anchors", { NULL, records_revoked, &rec, ourca }, OC_ERR_INVALID },
		{ "missing trust anchors", { "/nonexistent/anchors.pem", NULL, NULL, NULL },
		  OC_ERR_CONFIG },
		{ "empty trust anchors", { empty, NULL, NULL, NULL }, OC_ERR_CONFIG },
		{ "trust anchors not PEM", { notpem, NULL, NULL, NULL }, OC_ERR_CONFIG },
		{ "our CA without a revocation check", { anchors, NULL, NULL, ourca }, OC_ERR_CONFIG },
		{ "our CA file missing", { anchors, records_revoked, &rec, "/nonexistent/ca.pem" },
		  OC_ERR_CONFIG },
		{ "our CA file with two certificates", { anchors, records_revoked, &rec, twoca },
		  OC_ERR_CONFIG },
		{ "valid", { anchors, records_revoked, &rec, ourca }, OC_OK },
	};

	(void)state;
	snprintf(empty, sizeof(empty), "%s/empty.pem", tdir);
	snprintf(notpem, sizeof(notpem), "%s/notpem.pem", tdir);
	snprintf(twoca, sizeof(twoca), "%s/twoca.pem", tdir);
	assert_non_null(f = fopen(empty, "w"));
	assert_int_equal(fclose(f), 0);
	assert_non_null(f = fopen(notpem, "w"));
	fputs("-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n", f);
	assert_int_equal(fclose(f), 0);
	write_pem(twoca, (X509 *const[]){ cas[ROOT].cert, cas[OTHER].cert }, 2);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("case %zu: %s\n", i, cases[i].name);
		assert_int_equal(oc_certauth_new(&cases[i].cfg, &ca), cases[i].want);
		if (cases[i].want != OC_OK)
			assert_null(ca);
		oc_certauth_free(ca);
		ca = NULL;
	}
	unlink(empty);
	unlink(notpem);
	unlink(twoca);
}

/* The SID extension's value on its own (templates.md 10.4). */
static void
test_sid_ext_decode(void **state)
{
	static const uint8_t head[] = {   /* GeneralNames, otherName 1.3.6.1.4.1.311.25.2.1 */
		0x30, 0x3f, 0xa0, 0x3d, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82,
		0x37, 0x19, 0x02, 0x01, 0xa0, 0x2f, 0x04, 0x2d,
	};
	uint8_t buf[128];
	size_t veclen = 0;
	uint8_t *vec = read_vector("sid_ext_fact_sheet.der", &veclen);
	char *sid = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	struct {
		const char *name;
		size_t off, len;        /* slice of buf */
		int want;
		const char *want_sid;
	} cases[8];
	size_t n = 0;

	(void)state;
	assert_int_equal(veclen, sizeof(head) + 45);
	assert_memory_equal(vec, head, sizeof(head));
	assert_true(veclen + 1 <= sizeof(buf));
	memcpy(buf, vec, veclen);
	buf[veclen] = 0x00;
	cases[n++] = (__typeof__(cases[0])){ "fact sheet bytes", 0, veclen, OC_OK, SID_ADMIN };
	cases[n++] = (__typeof__(cases[0])){ "truncated", 0, veclen - 1, OC_ERR_DER, NULL };
	cases[n++] = (__typeof__(cases[0])){ "trailing byte", 0, veclen + 1, OC_ERR_DER, NULL };
	cases[n++] = (__typeof__(cases[0])){ "empty", 0, 0, OC_ERR_DER, NULL };
	for (size_t i = 0; i < n; i++) {
		print_message("case %zu: %s\n", i, cases[i].name);
		assert_int_equal(oc_certauth_sid_ext_decode(buf + cases[i].off, cases[i].len, &sid),
		    cases[i].want);
		if (cases[i].want_sid != NULL)
			assert_string_equal(sid, cases[i].want_sid);
		else
			assert_null(sid);
		free(sid);
		sid = NULL;
	}

	/* altered copies of the fact-sheet bytes */
	memcpy(buf, vec, veclen);
	buf[15] = 0x02;                 /* otherName 1.3.6.1.4.1.311.25.2.2: no SID */
	assert_int_equal(oc_certauth_sid_ext_decode(buf, veclen, &sid), OC_ERR_PARSE);
	memcpy(buf, vec, veclen);
	buf[sizeof(head)] = 'X';        /* "X-1-5-..." */
	assert_int_equal(oc_certauth_sid_ext_decode(buf, veclen, &sid), OC_ERR_PARSE);
	memcpy(buf, vec, veclen);
	buf[veclen - 1] = '-';          /* ends with a dash */
	assert_int_equal(oc_certauth_sid_ext_decode(buf, veclen, &sid), OC_ERR_PARSE);
	memcpy(buf, vec, veclen);
	buf[18] = 0x0c;                 /* UTF8String instead of OCTET STRING */
	assert_int_equal(oc_certauth_sid_ext_decode(buf, veclen, &sid), OC_ERR_PARSE);
	assert_null(sid);
	/* two SIDs in one extension */
	buf[0] = 0x30;
	buf[1] = (uint8_t)(2 * (veclen - 2));
	memcpy(buf + 2, vec + 2, veclen - 2);
	memcpy(buf + veclen, vec + 2, veclen - 2);
	assert_int_equal(oc_certauth_sid_ext_decode(buf, 2 * veclen - 2, &sid), OC_ERR_PARSE);

	/* what our CA writes decodes to the same SID */
	assert_int_equal(pkix_sid_ext_encode(SID_ALICE, &der, &len), OC_OK);
	assert_int_equal(oc_certauth_sid_ext_decode(der, len, &sid), OC_OK);
	assert_string_equal(sid, SID_ALICE);
	free(sid);
	free(der);
	free(vec);
}

/*
 * Explicit mappings (oc_dir_certmap_*): an administrator's mapping wins over
 * the SID, the UPN and the DNS name; a certificate mapped to an account that
 * was removed is refused without falling back to its names.
 */
enum xkeys { XK_BOTH, XK_ISSUER_SERIAL, XK_SHA256 };

struct xcase {
	const char *name;
	const char *sid;            /* SID extension of the leaf */
	const char *san;
	enum xkeys keys;            /* which keys the mapping records */
	const char *map_to;         /* "erin" is added first and removed after mapping */
	int twin;                   /* present another certificate: same issuer, serial, names; new key */
	const char *revoked;
	int want_r;
	enum oc_certauth_reason want_reason;
	const char *want_account;
};

#define UPN_CAROL "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:carol@example.test"

static const struct xcase xcases[] = {
	{ "explicit mapping beats the UPN", NULL, UPN_CAROL, XK_BOTH, "dave", 0, NULL,
	  OC_OK, OC_CERTAUTH_OK, "dave" },
	{ "explicit mapping beats the SID extension", SID_ALICE, NULL, XK_BOTH, "dave", 0, NULL,
	  OC_OK, OC_CERTAUTH_OK, "dave" },
	{ "explicit mapping beats the DNS name of a computer", NULL, "DNS:ws1.example.test",
	  XK_BOTH, "dave", 0, NULL, OC_OK, OC_CERTAUTH_OK, "dave" },
	{ "a certificate without any name, mapped explicitly", NULL, NULL, XK_BOTH, "dave", 0,
	  NULL, OC_OK, OC_CERTAUTH_OK, "dave" },
	{ "mapped by SHA-256 only", NULL, NULL, XK_SHA256, "dave", 0, NULL,
	  OC_OK, OC_CERTAUTH_OK, "dave" },
	{ "mapped by issuer and serial only", NULL, NULL, XK_ISSUER_SERIAL, "dave", 0, NULL,
	  OC_OK, OC_CERTAUTH_OK, "dave" },
	{ "issuer and serial match another certificate with them", NULL, UPN_CAROL,
	  XK_ISSUER_SERIAL, "dave", 1, NULL, OC_OK, OC_CERTAUTH_OK, "dave" },
	{ "SHA-256 does not match another certificate: its UPN maps", NULL, UPN_CAROL,
	  XK_SHA256, "dave", 1, NULL, OC_OK, OC_CERTAUTH_OK, "carol" },
	{ "mapped to a removed account: refused, no UPN fallback", NULL, UPN_CAROL, XK_BOTH,
	  "erin", 0, NULL, OC_ERR_AUTH, OC_CERTAUTH_UNMAPPED, NULL },
	{ "mapped to a removed account: refused, no SID fallback", SID_ALICE, NULL, XK_SHA256,
	  "erin", 0, NULL, OC_ERR_AUTH, OC_CERTAUTH_UNMAPPED, NULL },
	{ "mapped, yet revoked", NULL, UPN_CAROL, XK_BOTH, "dave", 0, "4242",
	  OC_ERR_AUTH, OC_CERTAUTH_REVOKED, NULL },
};

static void
test_explicit(void **state)
{
	struct records rec;
	struct oc_certauth_config cfg = { anchors, records_revoked, &rec, ourca };
	struct oc_certauth *ca = NULL;
	struct oc_directory *dir = NULL;
	struct oc_identity acct = { .name = "dave" };

	(void)state;
	assert_int_equal(oc_certauth_new(&cfg, &ca), OC_OK);
	assert_int_equal(oc_dir_open(dbpath, 0, &dir), OC_OK);
	assert_int_equal(oc_dir_account_add(dir, &acct, NULL), OC_OK);
	for (size_t i = 0; i < sizeof(xcases) / sizeof(xcases[0]); i++) {
		const struct xcase *t = &xcases[i];
		const struct spec ls = { "client", 0x4242, -DAY, DAY, 0, EKU_CLIENT, t->sid, NULL, 0,
		    t->san, 0 };
		struct oc_dir_certmap keys = { 0 };
		struct oc_identity id;
		enum oc_certauth_reason reason = OC_CERTAUTH_ERROR;
		EVP_PKEY *key = make_key(), *key2 = NULL;
		X509 *leaf = make_cert(&ls, key, &cas[ROOT]), *twin = NULL;
		unsigned char *der = NULL;
		int len;

		print_message("case %zu: %s\n", i, t->name);
		assert_true((len = i2d_X509(leaf, &der)) > 0);
		assert_int_equal(oc_dir_certmap_keys(der, (size_t)len, &keys), OC_OK);
		if (t->keys == XK_ISSUER_SERIAL) {
			free(keys.sha256);
			keys.sha256 = NULL;
		} else if (t->keys == XK_SHA256) {
			free(keys.issuer_serial);
			keys.issuer_serial = NULL;
		}
		if (strcmp(t->map_to, "erin") == 0) {
			struct oc_identity erin = { .name = "erin" };

			assert_int_equal(oc_dir_account_add(dir, &erin, NULL), OC_OK);
			assert_int_equal(oc_dir_certmap_add(dir, "erin", &keys), OC_OK);
			assert_int_equal(oc_dir_account_remove(dir, "erin"), OC_OK);
		} else {
			assert_int_equal(oc_dir_certmap_add(dir, t->map_to, &keys), OC_OK);
		}
		if (t->twin) {
			key2 = make_key();
			twin = make_cert(&ls, key2, &cas[ROOT]);
		}
		memset(&rec, 0, sizeof(rec));
		rec.revoked = t->revoked;
		assert_int_equal(oc_certauth_verify_reason(ca, twin ? twin : leaf, NULL, dir, &id,
		    &reason), t->want_r);
		assert_string_equal(oc_certauth_reason_name(reason),
		    oc_certauth_reason_name(t->want_reason));
		if (t->want_account != NULL)
			assert_string_equal(id.name, t->want_account);
		else
			assert_null(id.name);
		oc_identity_clear(&id);
		/* unmapped (left-overs of removed accounts too), the names map again */
		assert_int_equal(oc_dir_certmap_remove(dir, "dave", &keys), OC_OK);
		assert_int_equal(oc_dir_certmap_remove(dir, "dave", &keys), OC_ERR_NOT_FOUND);
		if (t->revoked == NULL && (t->sid != NULL || t->san != NULL)) {
			assert_int_equal(oc_certauth_verify(ca, leaf, NULL, dir, &id), OC_OK);
			assert_string_equal(id.name, t->sid != NULL ? "alice" :
			    strstr(t->san, "carol") ? "carol" : "WS1$");
			oc_identity_clear(&id);
		}
		oc_dir_certmap_clear(&keys);
		OPENSSL_free(der);
		X509_free(twin);
		X509_free(leaf);
		EVP_PKEY_free(key2);
		EVP_PKEY_free(key);
	}
	assert_int_equal(oc_dir_account_remove(dir, "dave"), OC_OK);
	oc_dir_close(dir);
	oc_certauth_free(ca);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_no_certificate),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_sid_ext_decode),
		cmocka_unit_test(test_explicit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
