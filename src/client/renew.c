/*
 * `opences renew`: renew a certificate the way Windows does (wstep.md 5.6).
 * The new PKCS#10 reuses the current certificate's subject and
 * subjectAltName, names the template the certificate was issued under,
 * carries the current certificate in attribute 1.3.6.1.4.1.311.13.1 and is
 * wrapped in a CMS SignedData signed with the current key. It goes to the
 * template's renewal-only CES URIs first, then to the others (enroll's
 * ordering and failover), and the result is stored as enroll stores it.
 */
#include "client/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "pkix/pkix.h"

/* ------------------------------------------------------------------ */
/* Files */

static int
is_pem(const uint8_t *p, size_t n)
{
	static const char tag[] = "-----BEGIN";

	/* allow leading blank lines / text before the armour */
	for (size_t i = 0; i + sizeof(tag) - 1 <= n; i++)
		if (memcmp(p + i, tag, sizeof(tag) - 1) == 0)
			return 1;
	return 0;
}

int
client_load_cert(const char *path, X509 **x)
{
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *b = NULL;
	int r;

	*x = NULL;
	if ((r = oc_file_read(path, &data, &len, CLIENT_PEM_FILE_MAX)) != OC_OK)
		goto out;
	if (!is_pem(data, len)) {
		r = pkix_cert_from_der(data, len, x);
		goto out;
	}
	r = OC_ERR_NOMEM;
	if ((b = BIO_new_mem_buf(data, (int)len)) == NULL)
		goto out;
	r = OC_ERR_PARSE;
	if ((*x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		goto out;
	r = OC_OK;
out:
	ERR_clear_error();
	BIO_free(b);
	free(data);
	return r;
}

/* Encrypted keys are not supported: refuse instead of prompting. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int
client_load_key(const char *path, EVP_PKEY **k)
{
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *b = NULL;
	int r;

	*k = NULL;
	if ((r = oc_file_read(path, &data, &len, CLIENT_PEM_FILE_MAX)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if ((b = BIO_new_mem_buf(data, (int)len)) == NULL)
		goto out;
	r = OC_ERR_PARSE;
	if ((*k = PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)) == NULL)
		goto out;
	r = OC_OK;
out:
	ERR_clear_error();
	BIO_free(b);
	if (data != NULL)
		OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

/* ------------------------------------------------------------------ */
/* Template of the current certificate */

/* The value of extension oid in x (borrowed), or NULL. */
static const ASN1_OCTET_STRING *
ext_value(X509 *x, const char *oid)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
	int idx;

	if (obj == NULL) {
		ERR_clear_error();
		return NULL;
	}
	idx = X509_get_ext_by_OBJ(x, obj, -1);
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return NULL;
	return X509_EXTENSION_get_data(X509_get_ext(x, idx));
}

const struct client_template *
client_policy_find_for_cert(const struct client_policy *pol, X509 *cert)
{
	const ASN1_OCTET_STRING *v;
	const struct client_template *t = NULL;
	char *oid = NULL, *name = NULL;
	uint32_t major = 0, minor = 0;

	if (pol == NULL || cert == NULL)
		return NULL;
	if ((v = ext_value(cert, OC_OID_TEMPLATE_V2)) != NULL &&
	    pkix_template_v2_decode(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v),
	    &oid, &major, &minor) == OC_OK) {
		for (size_t i = 0; i < pol->ntemplates && t == NULL; i++)
			if (pol->templates[i].oid != NULL && strcmp(pol->templates[i].oid, oid) == 0)
				t = &pol->templates[i];
	}
	if (t == NULL && (v = ext_value(cert, OC_OID_TEMPLATE_V1)) != NULL &&
	    pkix_template_v1_decode(ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v),
	    &name) == OC_OK)
		t = client_policy_find(pol, name);
	free(oid);
	free(name);
	return t;
}

/* ------------------------------------------------------------------ */
/* The request */

static int
add_ext(STACK_OF(X509_EXTENSION) *exts, const char *oid, const uint8_t *der, size_t len)
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *os = NULL;
	X509_EXTENSION *ext = NULL;
	int r = OC_ERR_NOMEM;

	if ((obj = OBJ_txt2obj(oid, 1)) == NULL ||
	    (os = ASN1_OCTET_STRING_new()) == NULL ||
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

/* Subject and subjectAltName of the old certificate, the template extension. */
static int
csr_extensions(const struct client_renewal_params *p, STACK_OF(X509_EXTENSION) *exts)
{
	X509_EXTENSION *san = NULL;
	uint8_t *v = NULL;
	size_t vlen = 0;
	int idx, r = OC_OK;

	if ((idx = X509_get_ext_by_NID(p->old_cert, NID_subject_alt_name, -1)) >= 0) {
		if ((san = X509_EXTENSION_dup(X509_get_ext(p->old_cert, idx))) == NULL ||
		    !sk_X509_EXTENSION_push(exts, san)) {
			X509_EXTENSION_free(san);
			return OC_ERR_NOMEM;
		}
	}
	if (p->template_oid != NULL) {
		if ((r = pkix_template_v2_encode(p->template_oid, p->template_major,
		    p->template_minor, &v, &vlen)) == OC_OK)
			r = add_ext(exts, OC_OID_TEMPLATE_V2, v, vlen);
	} else if (p->template_name != NULL) {
		if ((r = pkix_template_v1_encode(p->template_name, &v, &vlen)) == OC_OK)
			r = add_ext(exts, OC_OID_TEMPLATE_V1, v, vlen);
	}
	free(v);
	return r;
}

/* The inner PKCS#10, signed by the new key. */
static int
renewal_csr(const struct client_renewal_params *p, const EVP_MD *md, uint8_t **der,
    size_t *len)
{
	X509_REQ *req = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	ASN1_OBJECT *obj = NULL;
	uint8_t *old = NULL, *out = NULL;
	int olen, n, r = OC_ERR_NOMEM;

	if ((req = X509_REQ_new()) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL)
		goto out;
	r = OC_ERR_CRYPTO;
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_pubkey(req, p->new_key) ||
	    !X509_REQ_set_subject_name(req, X509_get_subject_name(p->old_cert)))
		goto out;
	if ((r = csr_extensions(p, exts)) != OC_OK)
		goto out;
	r = OC_ERR_CRYPTO;
	if (sk_X509_EXTENSION_num(exts) > 0 && !X509_REQ_add_extensions(req, exts))
		goto out;
	/* szOID_RENEWAL_CERTIFICATE: SET { Certificate } */
	if ((olen = i2d_X509(p->old_cert, &old)) <= 0)
		goto out;
	if ((size_t)olen > OC_CERT_DER_MAX) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if ((obj = OBJ_txt2obj(OC_OID_RENEWAL_CERT, 1)) == NULL ||
	    !X509_REQ_add1_attr_by_OBJ(req, obj, V_ASN1_SEQUENCE, old, olen))
		goto out;
	if (X509_REQ_sign(req, p->new_key, md) <= 0)
		goto out;
	if ((n = i2d_X509_REQ(req, &out)) <= 0)
		goto out;
	*der = out;
	*len = (size_t)n;
	out = NULL;
	r = OC_OK;
out:
	OPENSSL_free(out);
	OPENSSL_free(old);
	ASN1_OBJECT_free(obj);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	return r;
}

int
client_renewal_build(const struct client_renewal_params *p, uint8_t **der, size_t *len)
{
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL;
	const EVP_MD *md;
	uint8_t *csr = NULL, *out = NULL;
	size_t csr_len = 0;
	const unsigned int fl = CMS_BINARY | CMS_NOATTR;
	int n, r = OC_ERR_INVALID;

	*der = NULL;
	*len = 0;
	if (p == NULL || p->old_cert == NULL || p->old_key == NULL || p->new_key == NULL)
		return OC_ERR_INVALID;
	md = p->md != NULL ? EVP_get_digestbyname(p->md) : EVP_sha256();
	if (md == NULL)
		goto out;
	if (X509_check_private_key(p->old_cert, p->old_key) != 1)
		goto out;               /* CMS_add1_signer would refuse it anyway */
	if ((r = renewal_csr(p, md, &csr, &csr_len)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if ((in = BIO_new_mem_buf(csr, (int)csr_len)) == NULL)
		goto out;
	r = OC_ERR_CRYPTO;
	/* SignedData, id-data content, the old certificate in certificates */
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL, fl | CMS_PARTIAL)) == NULL ||
	    CMS_add1_signer(cms, p->old_cert, p->old_key, md, fl) == NULL ||
	    CMS_final(cms, in, NULL, fl) != 1)
		goto out;
	if ((n = i2d_CMS_ContentInfo(cms, &out)) <= 0)
		goto out;
	*der = out;
	*len = (size_t)n;
	out = NULL;
	r = OC_OK;
out:
	if (r == OC_ERR_CRYPTO)
		log_error("renewal request: %s", ERR_reason_error_string(ERR_peek_last_error()) ?
		    ERR_reason_error_string(ERR_peek_last_error()) : "OpenSSL error");
	ERR_clear_error();
	OPENSSL_free(out);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	free(csr);
	return r;
}

/* ------------------------------------------------------------------ */
/* The flow */

static int
load_inputs(const struct client_opts *o, X509 **cert, EVP_PKEY **key)
{
	int r;

	if ((r = client_load_cert(o->cert, cert)) != OC_OK) {
		fprintf(stderr, "opences: cannot read a certificate from %s: %s\n", o->cert,
		    oc_strerror(r));
		return r;
	}
	if ((r = client_load_key(o->key, key)) != OC_OK) {
		fprintf(stderr, "opences: cannot read an unencrypted private key from %s: %s\n",
		    o->key, oc_strerror(r));
		return r;
	}
	if (X509_check_private_key(*cert, *key) != 1) {
		ERR_clear_error();
		fprintf(stderr, "opences: the key in %s does not belong to the certificate "
		    "in %s\n", o->key, o->cert);
		return OC_ERR_INVALID;
	}
	if (X509_cmp_time(X509_get0_notAfter(*cert), NULL) <= 0)
		log_warn("the certificate in %s has expired: the CA will refuse to renew it",
		    o->cert);
	return OC_OK;
}

/* The key of the new certificate: a fresh one (--new-key) or the current one. */
static int
renewal_key(const struct client_opts *o, const struct client_template *t,
    const struct client_keyspec *ks, int have_ks, EVP_PKEY *cur, EVP_PKEY **out)
{
	int r;

	*out = NULL;
	if (!o->new_key) {
		if (!EVP_PKEY_up_ref(cur))
			return OC_ERR_CRYPTO;
		*out = cur;
		return OC_OK;
	}
	if (!have_ks) {
		fprintf(stderr, "opences: template %s asks for an unsupported key "
		    "(algorithm %s, minimal length %u)\n", t->cn,
		    t->alg_oid ? t->alg_oid : "RSA", t->min_key_length);
		return OC_ERR_INVALID;
	}
	if ((r = pkix_key_generate(ks->alg, ks->bits, out)) != OC_OK)
		error_fr(r, "key generation (%s %d)", ks->alg, ks->bits);
	return r;
}

static int
renew_template(struct client_flow *f, struct client_rng *rng, X509 *cert, EVP_PKEY *cur)
{
	const struct client_opts *o = f->o;
	const struct client_template *t;
	struct client_keyspec ks;
	struct client_renewal_params rp;
	struct client_endpoint *eps = NULL;
	EVP_PKEY *key = NULL;
	uint8_t *req = NULL;
	size_t neps = 0, req_len = 0, nro = 0;
	int ex = CLIENT_EXIT_ERROR, have_ks, r;

	if ((t = client_policy_find_for_cert(&f->pol, cert)) == NULL) {
		printf("template not offered: the certificate in ");
		fputs(o->cert, stdout);
		printf(" names no template of this policy\n");
		ex = CLIENT_EXIT_NO_TEMPLATE;
		goto out;
	}
	if (!t->enroll) {
		printf("denied: no enroll permission on template %s\n", t->cn);
		ex = CLIENT_EXIT_DENIED;
		goto out;
	}
	have_ks = client_template_keyspec(t, &ks) == OC_OK;
	if ((r = client_order_endpoints_for(&f->pol, t, o->auth, 1, rng, &eps, &neps)) != OC_OK)
		goto out;
	if (neps == 0) {
		fprintf(stderr, "opences: no enrollment service for --auth %s offers "
		    "template %s\n", client_auth_name(o->auth), t->cn);
		goto out;
	}
	for (size_t i = 0; i < neps; i++) {
		nro += eps[i].renewal_only ? 1 : 0;
		log_debug("renewal URI %zu: %s%s", i + 1, eps[i].uri,
		    eps[i].renewal_only ? " (renewal only)" : "");
	}
	log_info("renewing under template %s with %s key, %zu enrollment URIs (%zu renewal "
	    "only)", t->cn, o->new_key ? "a new" : "the same", neps, nro);
	if (renewal_key(o, t, &ks, have_ks, cur, &key) != OC_OK)
		goto out;
	memset(&rp, 0, sizeof(rp));
	rp.old_cert = cert;
	rp.old_key = cur;
	rp.new_key = key;
	rp.md = have_ks ? ks.md : NULL;
	if (t->schema >= 2 && t->oid != NULL) {
		rp.template_oid = t->oid;
		rp.template_major = t->major;
		rp.template_minor = t->minor;
	} else
		rp.template_name = t->cn;
	if ((r = client_renewal_build(&rp, &req, &req_len)) != OC_OK) {
		fprintf(stderr, "opences: cannot build the renewal request: %s\n",
		    oc_strerror(r));
		goto out;
	}
	ex = client_flow_submit(f, t, key, req, req_len, eps, neps);
out:
	free(eps);
	free(req);
	EVP_PKEY_free(key);
	return ex;
}

int
client_flow_renew(struct client_flow *f, struct client_rng *rng, X509 *cert, EVP_PKEY *cur)
{
	return renew_template(f, rng, cert, cur);
}

int
client_run_renew(const struct client_opts *o)
{
	struct client_flow f;
	struct client_rng rng;
	X509 *cert = NULL;
	EVP_PKEY *cur = NULL;
	const char *from = NULL;
	int ex = CLIENT_EXIT_ERROR;

	memset(&f, 0, sizeof(f));
	if (load_inputs(o, &cert, &cur) != OC_OK)
		goto out;
	if (client_flow_init(&f, o) != OC_OK)
		goto out;
	if (client_rng_init(&rng) != OC_OK)
		goto out;
	if ((ex = client_flow_policy(&f, &rng, &from)) != CLIENT_EXIT_OK)
		goto out;
	ex = renew_template(&f, &rng, cert, cur);
out:
	client_flow_clear(&f);
	EVP_PKEY_free(cur);
	X509_free(cert);
	return ex;
}
