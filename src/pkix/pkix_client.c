/* Client side: keys, subject names, CSRs; DER/PEM utilities. */
#include "pkix/pkix.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "pkix/pkix_asn1.h"

#define OC_NAME_MAX_RDNS 64
#define OC_DNS_NAME_MAX  253

int
pkix_key_generate(const char *alg, int bits, EVP_PKEY **key)
{
	const char *curve = NULL;

	*key = NULL;
	if (alg == NULL)
		return OC_ERR_INVALID;
	if (strcasecmp(alg, "RSA") == 0) {
		if (bits == 0)
			bits = 2048;
		if (bits < 1024 || bits > OC_RSA_MAX_BITS)
			return OC_ERR_INVALID;
		*key = EVP_RSA_gen((unsigned int)bits);
	} else {
		if (strcasecmp(alg, "ECDSA_P256") == 0 ||
		    (strcasecmp(alg, "ECDSA") == 0 && (bits == 256 || bits == 0)))
			curve = "P-256";
		else if (strcasecmp(alg, "ECDSA_P384") == 0 ||
		    (strcasecmp(alg, "ECDSA") == 0 && bits == 384))
			curve = "P-384";
		else if (strcasecmp(alg, "ECDSA_P521") == 0 ||
		    (strcasecmp(alg, "ECDSA") == 0 && bits == 521))
			curve = "P-521";
		else
			return OC_ERR_INVALID;
		*key = EVP_EC_gen(curve);
	}
	if (*key == NULL) {
		ERR_clear_error();
		return OC_ERR_CRYPTO;
	}
	return OC_OK;
}

static const char *
attr_type_name(const char *t)
{
	if (strcasecmp(t, "E") == 0 || strcasecmp(t, "EMAIL") == 0)
		return "emailAddress";
	if (strcasecmp(t, "S") == 0)
		return "ST";
	return t;
}

/*
 * Copy one component (up to an unescaped sep) into *w, unescaping "\c" and
 * "\XX"; trims blanks around it. Returns the next read position or NULL.
 */
static const char *
component(const char *p, char sep, int stop_at_eq, char **w)
{
	char *start = *w, *end = *w;
	int h, l;

	while (*p == ' ')
		p++;
	while (*p != '\0' && *p != sep && !(stop_at_eq && *p == '=')) {
		if (*p == '\\') {
			if (p[1] == '\0')
				return NULL;
			if ((h = oc_hexval(p[1])) >= 0 && (l = oc_hexval(p[2])) >= 0) {
				**w = (char)(h << 4 | l);
				p += 3;
			} else {
				**w = p[1];
				p += 2;
			}
			(*w)++;
			end = *w;           /* escaped chars are never trimmed */
			continue;
		}
		*(*w)++ = *p;
		if (*p != ' ')
			end = *w;
		p++;
	}
	*w = end;
	*(*w)++ = '\0';
	if (*start == '\0' && stop_at_eq)
		return NULL;            /* empty attribute type */
	return p;
}

int
pkix_name_parse(const char *s, X509_NAME **name)
{
	X509_NAME *nm = NULL;
	char *buf = NULL, *w, *types[OC_NAME_MAX_RDNS], *values[OC_NAME_MAX_RDNS];
	const char *p;
	size_t n;
	int count = 0, i, r = OC_ERR_INVALID;
	char sep = ',';

	*name = NULL;
	if ((nm = X509_NAME_new()) == NULL)
		return OC_ERR_NOMEM;
	if (s == NULL || *s == '\0')
		goto done;
	if ((n = strnlen(s, OC_SUBJECT_MAX + 1)) > OC_SUBJECT_MAX) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if ((buf = malloc(2 * n + 2)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	w = buf;
	p = s;
	if (*p == '/') {
		sep = '/';
		p++;
	}
	while (*p != '\0') {
		if (count == OC_NAME_MAX_RDNS) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		types[count] = w;
		if ((p = component(p, sep, 1, &w)) == NULL || *p != '=')
			goto out;
		values[count] = w;
		if ((p = component(p + 1, sep, 0, &w)) == NULL)
			goto out;
		count++;
		if (*p == sep) {
			p++;
			if (*p == '\0')
				goto out;       /* trailing separator */
		}
	}
	/* RFC 2253 text lists the most specific RDN first; "/" form does not */
	for (i = 0; i < count; i++) {
		int k = sep == ',' ? count - 1 - i : i;
		if (!X509_NAME_add_entry_by_txt(nm, attr_type_name(types[k]),
		    MBSTRING_UTF8, (const unsigned char *)values[k], -1, -1, 0)) {
			ERR_clear_error();
			goto out;
		}
	}
done:
	*name = nm;
	nm = NULL;
	r = OC_OK;
out:
	free(buf);
	X509_NAME_free(nm);
	return r;
}

static int
push_ext(STACK_OF(X509_EXTENSION) *exts, const char *oid, const uint8_t *der,
    size_t len)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	int r;

	if ((r = pkix_obj_from_text(oid, &obj)) != OC_OK)
		return r;
	r = OC_ERR_NOMEM;
	if ((os = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(os, der, (int)len) ||
	    (ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, os)) == NULL ||
	    !sk_X509_EXTENSION_push(exts, ext))
		goto out;
	ext = NULL;
	r = OC_OK;
out:
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(obj);
	return r;
}

static int
push_san_dns(STACK_OF(X509_EXTENSION) *exts, const struct oc_strlist *dns)
{
	GENERAL_NAMES *gns = NULL;
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	X509_EXTENSION *ext = NULL;
	size_t i, n;
	int r = OC_ERR_INVALID;

	if (dns->n > OC_SAN_MAX_ENTRIES)
		return OC_ERR_LIMIT;
	if ((gns = GENERAL_NAMES_new()) == NULL)
		return OC_ERR_NOMEM;
	for (i = 0; i < dns->n; i++) {
		n = strnlen(dns->v[i], OC_DNS_NAME_MAX + 1);
		if (n == 0 || n > OC_DNS_NAME_MAX) {
			r = OC_ERR_INVALID;
			goto out;
		}
		r = OC_ERR_NOMEM;
		if ((ia5 = ASN1_IA5STRING_new()) == NULL ||
		    !ASN1_STRING_set(ia5, dns->v[i], (int)n) ||
		    (gn = GENERAL_NAME_new()) == NULL)
			goto out;
		GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
		ia5 = NULL;
		if (!sk_GENERAL_NAME_push(gns, gn))
			goto out;
		gn = NULL;
	}
	r = OC_ERR_CRYPTO;
	if ((ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gns)) == NULL)
		goto out;
	r = OC_ERR_NOMEM;
	if (!sk_X509_EXTENSION_push(exts, ext))
		goto out;
	ext = NULL;
	r = OC_OK;
out:
	X509_EXTENSION_free(ext);
	ASN1_IA5STRING_free(ia5);
	GENERAL_NAME_free(gn);
	GENERAL_NAMES_free(gns);
	return r;
}

int
pkix_csr_build(EVP_PKEY *key, const struct pkix_csr_params *p,
    uint8_t **der, size_t *len)
{
	X509_REQ *req = NULL;
	X509_NAME *nm = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const EVP_MD *md;
	uint8_t *v = NULL;
	size_t vlen;
	int r = OC_ERR_NOMEM;

	*der = NULL;
	*len = 0;
	if (key == NULL)
		return OC_ERR_INVALID;
	if ((req = X509_REQ_new()) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL)
		goto out;
	r = OC_ERR_CRYPTO;
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_pubkey(req, key))
		goto out;
	if ((r = pkix_name_parse(p != NULL ? p->subject : NULL, &nm)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if (!X509_REQ_set_subject_name(req, nm))
		goto out;
	if (p != NULL && p->dns != NULL && p->dns->n > 0 &&
	    (r = push_san_dns(exts, p->dns)) != OC_OK)
		goto out;
	if (p != NULL && p->template_oid != NULL) {
		if ((r = pkix_template_v2_encode(p->template_oid,
		    p->template_major, p->template_minor, &v, &vlen)) != OC_OK ||
		    (r = push_ext(exts, OC_OID_TEMPLATE_V2, v, vlen)) != OC_OK)
			goto out;
	} else if (p != NULL && p->template_name != NULL) {
		if ((r = pkix_template_v1_encode(p->template_name, &v, &vlen)) != OC_OK ||
		    (r = push_ext(exts, OC_OID_TEMPLATE_V1, v, vlen)) != OC_OK)
			goto out;
	}
	r = OC_ERR_CRYPTO;
	if (sk_X509_EXTENSION_num(exts) > 0 && !X509_REQ_add_extensions(req, exts))
		goto out;
	md = (p != NULL && p->md != NULL) ? EVP_get_digestbyname(p->md) : EVP_sha256();
	if (md == NULL) {
		r = OC_ERR_INVALID;
		goto out;
	}
	if (X509_REQ_sign(req, key, md) <= 0)
		goto out;
	r = pkix_i2d(ASN1_ITEM_rptr(X509_REQ), req, der, len);
out:
	if (r == OC_ERR_CRYPTO)
		log_error("CSR: %s", ERR_reason_error_string(ERR_peek_last_error()) ?
		    ERR_reason_error_string(ERR_peek_last_error()) : "OpenSSL error");
	ERR_clear_error();
	free(v);
	X509_NAME_free(nm);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return r;
}

/* Copy a memory BIO into a malloc'd NUL-terminated string. */
static int
bio_to_string(BIO *b, char **out)
{
	char *data;
	long n = BIO_get_mem_data(b, &data);

	if (n <= 0)
		return OC_ERR_CRYPTO;
	if ((*out = malloc((size_t)n + 1)) == NULL)
		return OC_ERR_NOMEM;
	memcpy(*out, data, (size_t)n);
	(*out)[n] = '\0';
	return OC_OK;
}

int
pkix_cert_to_pem(X509 *x, char **pem)
{
	BIO *b = NULL;
	int r = OC_ERR_CRYPTO;

	*pem = NULL;
	if (x == NULL)
		return OC_ERR_INVALID;
	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return OC_ERR_NOMEM;
	if (PEM_write_bio_X509(b, x) == 1)
		r = bio_to_string(b, pem);
	ERR_clear_error();
	BIO_free(b);
	return r;
}

/* PKCS#8, unencrypted. The result is a secret: free it with oc_free_secret(). */
int
pkix_key_to_pem(EVP_PKEY *k, char **pem)
{
	BIO *b = NULL;
	int r = OC_ERR_CRYPTO;

	*pem = NULL;
	if (k == NULL)
		return OC_ERR_INVALID;
	if ((b = BIO_new(BIO_s_secmem())) == NULL)   /* cleansed on free */
		return OC_ERR_NOMEM;
	if (PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1)
		r = bio_to_string(b, pem);
	ERR_clear_error();
	BIO_free(b);
	return r;
}

int
pkix_cert_from_der(const uint8_t *der, size_t len, X509 **x)
{
	*x = NULL;
	if (len > OC_CERT_DER_MAX)
		return OC_ERR_LIMIT;
	return pkix_d2i(ASN1_ITEM_rptr(X509), der, len, (void **)x);
}

int
pkix_sha1(const uint8_t *p, size_t n, uint8_t out[20])
{
	unsigned int olen = 0;

	if (EVP_Digest(p, n, out, &olen, EVP_sha1(), NULL) != 1 || olen != 20) {
		ERR_clear_error();
		return OC_ERR_CRYPTO;
	}
	return OC_OK;
}
