/*
 * The CA key and certificate: creation of a self-signed root on first start,
 * loading and checking afterwards, and the demo HTTPS server certificate.
 */
#include "ca/ca_local.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca/ca_pkcs11.h"
#include "common/log.h"
#include "common/util.h"

#define CA_PEM_MAX           (64 * 1024)
#define CA_TLS_VALIDITY_DAYS 397

static void
ssl_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_error("%s: %s", what, buf);
	}
}

const EVP_MD *
ca_md_for(const char *h)
{
	if (h == NULL || strcasecmp(h, "SHA256") == 0 || strcasecmp(h, "SHA-256") == 0)
		return EVP_sha256();
	if (strcasecmp(h, "SHA384") == 0 || strcasecmp(h, "SHA-384") == 0)
		return EVP_sha384();
	if (strcasecmp(h, "SHA512") == 0 || strcasecmp(h, "SHA-512") == 0)
		return EVP_sha512();
	/* SHA1, MD5 and unknown names: never weaker than SHA-256 */
	return EVP_sha256();
}

int
ca_set_random_serial(X509 *x)
{
	uint8_t b[CA_SERIAL_BYTES];
	BIGNUM *bn = NULL;
	int r = OC_ERR_CRYPTO;

	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			goto out;
		b[0] &= 0x7f;                   /* positive */
	} while (b[0] == 0);                    /* keep 16 octets: >= 120 random bits */
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL ||
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		goto out;
	r = OC_OK;
out:
	BN_free(bn);
	return r;
}

int
ca_serial_hex(const ASN1_INTEGER *sn, char **hex)
{
	int n;
	char *h;

	*hex = NULL;
	if (sn == NULL || (n = ASN1_STRING_length(sn)) <= 0 || n > 20)
		return OC_ERR_INVALID;
	if ((h = malloc((size_t)n * 2 + 1)) == NULL)
		return OC_ERR_NOMEM;
	oc_hex_encode(ASN1_STRING_get0_data(sn), (size_t)n, h);
	*hex = h;
	return OC_OK;
}

int
ca_add_ext_conf(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext = NULL;
	int r = OC_ERR_CRYPTO;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1) {
		ssl_errors("extension");
		goto out;
	}
	r = OC_OK;
out:
	X509_EXTENSION_free(ext);
	return r;
}

int
ca_add_ext_der(X509 *x, const char *oid, int critical, const uint8_t *der, size_t len)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	int r = OC_ERR_CRYPTO;

	if (len > INT32_MAX)
		return OC_ERR_LIMIT;
	if ((obj = OBJ_txt2obj(oid, 1)) == NULL || (os = ASN1_OCTET_STRING_new()) == NULL ||
	    ASN1_OCTET_STRING_set(os, der, (int)len) != 1 ||
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, critical, os)) == NULL ||
	    X509_add_ext(x, ext, -1) != 1)
		goto out;
	r = OC_OK;
out:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return r;
}

static int
pem_read_key(const char *path, EVP_PKEY **key)
{
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	*key = NULL;
	if ((r = oc_file_read(path, &data, &len, CA_PEM_MAX)) != OC_OK)
		return r;
	r = OC_ERR_CRYPTO;
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		goto out;
	if ((*key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
		ssl_errors(path);
		goto out;
	}
	r = OC_OK;
out:
	BIO_free(bio);
	OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

static int
pem_read_cert(const char *path, X509 **x)
{
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	int r;

	*x = NULL;
	if ((r = oc_file_read(path, &data, &len, CA_PEM_MAX)) != OC_OK)
		return r;
	r = OC_ERR_CRYPTO;
	if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL)
		goto out;
	if ((*x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		ssl_errors(path);
		goto out;
	}
	r = OC_OK;
out:
	BIO_free(bio);
	free(data);
	return r;
}

int
ca_load_key_cert(const char *key_file, const char *cert_file, EVP_PKEY **key, X509 **cert)
{
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	int r;

	*key = NULL;
	*cert = NULL;
	if (ca_pkcs11_is_uri(key_file))
		r = ca_pkcs11_load_key(key_file, 0, NULL, &k, NULL);
	else
		r = pem_read_key(key_file, &k);
	if (r != OC_OK) {
		/* a PKCS#11 URI may carry a pin-value: never log it */
		error_fr(r, "CA key %s", ca_pkcs11_is_uri(key_file) ? "(PKCS#11)" : key_file);
		goto out;
	}
	if ((r = pem_read_cert(cert_file, &x)) != OC_OK) {
		error_fr(r, "CA certificate %s", cert_file);
		goto out;
	}
	r = OC_ERR_CONFIG;
	if (X509_check_private_key(x, k) != 1) {
		ERR_clear_error();
		log_error("CA key %s does not match certificate %s",
		    ca_pkcs11_is_uri(key_file) ? "(PKCS#11)" : key_file, cert_file);
		goto out;
	}
	if (X509_check_ca(x) < 1) {
		log_error("%s is not a CA certificate", cert_file);
		goto out;
	}
	*key = k;
	*cert = x;
	k = NULL;
	x = NULL;
	r = OC_OK;
out:
	EVP_PKEY_free(k);
	X509_free(x);
	return r;
}

static int
generate_key(const char *type, EVP_PKEY **key)
{
	*key = NULL;
	if (type == NULL || strcasecmp(type, "RSA2048") == 0)
		*key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcasecmp(type, "RSA3072") == 0)
		*key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else if (strcasecmp(type, "RSA4096") == 0)
		*key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	else if (strcasecmp(type, "P256") == 0 || strcasecmp(type, "P-256") == 0)
		*key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else {
		log_error("unknown CA key type %s (RSA2048, RSA3072, RSA4096, P256)", type);
		return OC_ERR_CONFIG;
	}
	if (*key == NULL) {
		ssl_errors("key generation");
		return OC_ERR_CRYPTO;
	}
	return OC_OK;
}

static int
write_pem_key(const char *path, EVP_PKEY *k)
{
	char *pem = NULL;
	int r;

	if ((r = pkix_key_to_pem(k, &pem)) != OC_OK)
		return r;
	r = oc_file_write(path, pem, strlen(pem), 0600);
	oc_free_secret(pem);
	return r;
}

static int
self_sign(const struct oc_ca_config *cfg, EVP_PKEY *k, X509 **out)
{
	const char *name = cfg->ca_name ? cfg->ca_name : OC_CA_DEFAULT_NAME;
	int days = cfg->validity_days > 0 ? cfg->validity_days : OC_CA_DEFAULT_VALIDITY_DAYS;
	X509 *x = NULL;
	X509_NAME *n = NULL;
	int r = OC_ERR_CRYPTO;

	*out = NULL;
	if ((x = X509_new()) == NULL || (n = X509_NAME_new()) == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 || (r = ca_set_random_serial(x)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if (X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)name,
	    -1, -1, 0) != 1 ||
	    X509_set_subject_name(x, n) != 1 || X509_set_issuer_name(x, n) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -CA_BACKDATE_SECONDS) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, NULL) == NULL ||
	    X509_set_pubkey(x, k) != 1)
		goto out;
	if ((r = ca_add_ext_conf(x, x, NID_basic_constraints, "critical,CA:TRUE")) != OC_OK ||
	    (r = ca_add_ext_conf(x, x, NID_key_usage,
	    "critical,digitalSignature,keyCertSign,cRLSign")) != OC_OK ||
	    (r = ca_add_ext_conf(x, x, NID_subject_key_identifier, "hash")) != OC_OK ||
	    (r = ca_add_ext_conf(x, x, NID_authority_key_identifier, "keyid:always")) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if (X509_sign(x, k, EVP_sha256()) <= 0) {
		ssl_errors("self-sign");
		goto out;
	}
	*out = x;
	x = NULL;
	r = OC_OK;
out:
	X509_NAME_free(n);
	X509_free(x);
	return r;
}

static int
file_exists(const char *path, int *exists)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		*exists = 1;
		return OC_OK;
	}
	*exists = 0;
	return errno == ENOENT ? OC_OK : OC_ERR_IO;
}

/*
 * The key in a PKCS#11 token: with a certificate, load and check both; without one,
 * use the token's key (generated there when absent) and certify it.
 */
static int
init_pkcs11(const struct oc_ca_config *cfg)
{
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	char *pem = NULL;
	int r, have_cert = 0, created = 0;

	if ((r = file_exists(cfg->cert_file, &have_cert)) != OC_OK)
		goto out;
	if (have_cert) {
		r = ca_load_key_cert(cfg->key_file, cfg->cert_file, &k, &x);
		goto out;
	}
	if ((r = ca_pkcs11_load_key(cfg->key_file, 1, cfg->key_type, &k, &created)) != OC_OK ||
	    (r = self_sign(cfg, k, &x)) != OC_OK || (r = pkix_cert_to_pem(x, &pem)) != OC_OK ||
	    (r = oc_file_write(cfg->cert_file, pem, strlen(pem), 0644)) != OC_OK)
		goto out;
	log_info("created CA \"%s\" (%s) with a %s key in a PKCS#11 token",
	    cfg->ca_name ? cfg->ca_name : OC_CA_DEFAULT_NAME, cfg->cert_file,
	    created ? "new" : "existing");
out:
	free(pem);
	EVP_PKEY_free(k);
	X509_free(x);
	return r;
}

int
oc_ca_init(const struct oc_ca_config *cfg)
{
	EVP_PKEY *k = NULL;
	X509 *x = NULL;
	char *pem = NULL;
	int r, have_key = 0, have_cert = 0;

	if (cfg == NULL || cfg->key_file == NULL || cfg->cert_file == NULL)
		return OC_ERR_INVALID;
	if (ca_pkcs11_is_uri(cfg->key_file))
		return init_pkcs11(cfg);
	if ((r = file_exists(cfg->key_file, &have_key)) != OC_OK ||
	    (r = file_exists(cfg->cert_file, &have_cert)) != OC_OK)
		goto out;
	if (have_key && have_cert) {
		r = ca_load_key_cert(cfg->key_file, cfg->cert_file, &k, &x);
		goto out;
	}
	if (have_cert) {
		/* never silently replace a published CA certificate */
		log_error("CA certificate %s exists but its key %s does not", cfg->cert_file,
		    cfg->key_file);
		r = OC_ERR_CONFIG;
		goto out;
	}
	if (have_key) {
		/* a start interrupted between the two writes: certify the existing key */
		if ((r = pem_read_key(cfg->key_file, &k)) != OC_OK)
			goto out;
	} else {
		if ((r = generate_key(cfg->key_type, &k)) != OC_OK ||
		    (r = write_pem_key(cfg->key_file, k)) != OC_OK)
			goto out;
	}
	if ((r = self_sign(cfg, k, &x)) != OC_OK || (r = pkix_cert_to_pem(x, &pem)) != OC_OK ||
	    (r = oc_file_write(cfg->cert_file, pem, strlen(pem), 0644)) != OC_OK)
		goto out;
	log_info("created CA \"%s\" (%s)", cfg->ca_name ? cfg->ca_name : OC_CA_DEFAULT_NAME,
	    cfg->cert_file);
out:
	free(pem);
	EVP_PKEY_free(k);
	X509_free(x);
	return r;
}

/* "DNS:a,DNS:b,IP:1.2.3.4" into a bounded buffer. */
static int
san_conf(const char *const *dns, const char *const *ips, struct ocbuf *b)
{
	int r, n = 0;

	for (size_t i = 0; dns && dns[i]; i++, n++) {
		if (strpbrk(dns[i], ",:\n") != NULL || n >= OC_SAN_MAX_ENTRIES)
			return OC_ERR_INVALID;
		if ((r = ocbuf_printf(b, "%sDNS:%s", n ? "," : "", dns[i])) != OC_OK)
			return r;
	}
	for (size_t i = 0; ips && ips[i]; i++, n++) {
		if (strpbrk(ips[i], ",\n") != NULL || n >= OC_SAN_MAX_ENTRIES)
			return OC_ERR_INVALID;
		if ((r = ocbuf_printf(b, "%sIP:%s", n ? "," : "", ips[i])) != OC_OK)
			return r;
	}
	if (n == 0)
		return OC_ERR_INVALID;
	return ocbuf_putc(b, '\0');
}

int
oc_ca_issue_tls_server_cert(const struct oc_ca_config *cfg, const char *const *dns_names,
    const char *const *ips, const char *key_out, const char *cert_out)
{
	EVP_PKEY *cak = NULL, *k = NULL;
	X509 *cax = NULL, *x = NULL;
	X509_NAME *n = NULL;
	struct ocbuf san, pem;
	char *p1 = NULL, *p2 = NULL;
	const char *cn;
	time_t now = time(NULL), not_after;
	int r;

	ocbuf_init(&san, 4096);
	ocbuf_init(&pem, 2 * CA_PEM_MAX);
	if (cfg == NULL || key_out == NULL || cert_out == NULL) {
		r = OC_ERR_INVALID;
		goto out;
	}
	cn = dns_names && dns_names[0] ? dns_names[0] : ips ? ips[0] : NULL;
	if ((r = san_conf(dns_names, ips, &san)) != OC_OK || cn == NULL) {
		r = OC_ERR_INVALID;
		goto out;
	}
	if ((r = ca_load_key_cert(cfg->key_file, cfg->cert_file, &cak, &cax)) != OC_OK ||
	    (r = generate_key("P256", &k)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	not_after = now + (time_t)CA_TLS_VALIDITY_DAYS * 86400;
	if (X509_cmp_time(X509_get0_notAfter(cax), &not_after) < 0) {
		/* never outlive the CA */
		if ((x = X509_new()) == NULL ||
		    X509_set1_notAfter(x, X509_get0_notAfter(cax)) != 1)
			goto out;
	} else if ((x = X509_new()) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)(not_after - now), &now) == NULL)
		goto out;
	if (X509_set_version(x, X509_VERSION_3) != 1 || (r = ca_set_random_serial(x)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if ((n = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	    -1, 0) != 1 ||
	    X509_set_subject_name(x, n) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(cax)) != 1 ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -CA_BACKDATE_SECONDS) == NULL ||
	    X509_set_pubkey(x, k) != 1)
		goto out;
	if ((r = ca_add_ext_conf(x, cax, NID_basic_constraints, "critical,CA:FALSE")) != OC_OK ||
	    (r = ca_add_ext_conf(x, cax, NID_key_usage, "critical,digitalSignature")) != OC_OK ||
	    (r = ca_add_ext_conf(x, cax, NID_ext_key_usage, "serverAuth")) != OC_OK ||
	    (r = ca_add_ext_conf(x, cax, NID_subject_alt_name,
	    (const char *)ocbuf_ptr(&san))) != OC_OK ||
	    (r = ca_add_ext_conf(x, cax, NID_subject_key_identifier, "hash")) != OC_OK ||
	    (r = ca_add_ext_conf(x, cax, NID_authority_key_identifier, "keyid:always")) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if (X509_sign(x, cak, EVP_sha256()) <= 0) {
		ssl_errors("sign server certificate");
		goto out;
	}
	if ((r = pkix_cert_to_pem(x, &p1)) != OC_OK || (r = pkix_cert_to_pem(cax, &p2)) != OC_OK ||
	    (r = ocbuf_puts(&pem, p1)) != OC_OK || (r = ocbuf_puts(&pem, p2)) != OC_OK)
		goto out;
	if ((r = write_pem_key(key_out, k)) != OC_OK ||
	    (r = oc_file_write(cert_out, ocbuf_ptr(&pem), ocbuf_avail(&pem), 0644)) != OC_OK)
		goto out;
	log_info("issued HTTPS server certificate for %s (%s)", cn, cert_out);
out:
	ocbuf_free(&san);
	ocbuf_free(&pem);
	free(p1);
	free(p2);
	X509_NAME_free(n);
	X509_free(x);
	X509_free(cax);
	EVP_PKEY_free(k);
	EVP_PKEY_free(cak);
	return r;
}
