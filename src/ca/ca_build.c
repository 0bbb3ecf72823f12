/*
 * What goes into an issued certificate (templates.md 9 steps 6-9, 10): the
 * subject and SAN per msPKI-Certificate-Name-Flag, the template-driven
 * extensions, validity capped by the CA, the template's hash. Request
 * extensions are never copied.
 */
#include "ca/ca_local.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "common/log.h"
#include "model/hresult.h"

#define CA_DEFAULT_VALIDITY_SECONDS (365 * 86400)

int
ca_deny(struct ca_decision *d, uint32_t hresult, const char *fmt, ...)
{
	va_list ap;

	d->hresult = hresult;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return 1;
}

static int
is_ascii_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Append one IA5String-valued name (dNSName, rfc822Name, URI). */
static int
san_add_ia5(GENERAL_NAMES *san, int type, const char *v)
{
	GENERAL_NAME *g = NULL;
	ASN1_IA5STRING *s = NULL;

	if ((g = GENERAL_NAME_new()) == NULL || (s = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(s, v, (int)strlen(v)) != 1)
		goto fail;
	GENERAL_NAME_set0_value(g, type, s);
	s = NULL;
	if (sk_GENERAL_NAME_push(san, g) <= 0)
		goto fail;
	return OC_OK;
fail:
	ASN1_IA5STRING_free(s);
	GENERAL_NAME_free(g);
	return OC_ERR_NOMEM;
}

static int
san_add_ip(GENERAL_NAMES *san, const char *v)
{
	GENERAL_NAME *g = NULL;
	ASN1_OCTET_STRING *ip = NULL;

	if ((ip = a2i_IPADDRESS(v)) == NULL)
		return OC_ERR_PARSE;
	if ((g = GENERAL_NAME_new()) == NULL)
		goto fail;
	GENERAL_NAME_set0_value(g, GEN_IPADD, ip);
	ip = NULL;
	if (sk_GENERAL_NAME_push(san, g) <= 0)
		goto fail;
	return OC_OK;
fail:
	ASN1_OCTET_STRING_free(ip);
	GENERAL_NAME_free(g);
	return OC_ERR_NOMEM;
}

/* otherName 1.3.6.1.4.1.311.20.2.3 (UPN), UTF8String */
static int
san_add_upn(GENERAL_NAMES *san, const char *v)
{
	GENERAL_NAME *g = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_TYPE *val = NULL;
	ASN1_UTF8STRING *s = NULL;

	if ((g = GENERAL_NAME_new()) == NULL || (oid = OBJ_txt2obj(OC_OID_UPN, 1)) == NULL ||
	    (val = ASN1_TYPE_new()) == NULL || (s = ASN1_UTF8STRING_new()) == NULL ||
	    ASN1_STRING_set(s, v, (int)strlen(v)) != 1)
		goto fail;
	ASN1_TYPE_set(val, V_ASN1_UTF8STRING, s);
	s = NULL;
	if (GENERAL_NAME_set0_othername(g, oid, val) != 1)
		goto fail;
	oid = NULL;
	val = NULL;
	if (sk_GENERAL_NAME_push(san, g) <= 0)
		goto fail;
	return OC_OK;
fail:
	ASN1_UTF8STRING_free(s);
	ASN1_TYPE_free(val);
	ASN1_OBJECT_free(oid);
	GENERAL_NAME_free(g);
	return OC_ERR_NOMEM;
}

static int
name_add(X509_NAME *n, const char *field, const char *v)
{
	return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)v,
	    -1, -1, 0) == 1 ? OC_OK : OC_ERR_PARSE;
}

/* ENROLLEE_SUPPLIES_SUBJECT: the request's subject and SAN, as given. */
static int
names_from_request(const struct ca_issue_input *in, X509_NAME **subject, GENERAL_NAMES *san,
    struct ca_decision *d)
{
	const struct oc_req_info *ri = in->ri;
	const char *tn = in->tmpl->cn;
	const struct { const struct oc_strlist *l; int type; const char *what; } ia5[] = {
		{ &ri->san_dns, GEN_DNS, "DNS name" },
		{ &ri->san_email, GEN_EMAIL, "e-mail address" },
		{ &ri->san_uri, GEN_URI, "URI" },
	};
	size_t total = ri->san_dns.n + ri->san_email.n + ri->san_uri.n + ri->san_upn.n +
	    ri->san_ip.n;
	int r;

	if (total > OC_SAN_MAX_ENTRIES)
		return ca_deny(d, OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT,
		    "Template %s: the request has %zu subject alternative names, at most %d "
		    "are allowed", tn, total, OC_SAN_MAX_ENTRIES);
	if ((*subject = X509_NAME_dup(X509_REQ_get_subject_name(ri->csr))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t k = 0; k < sizeof(ia5) / sizeof(ia5[0]); k++)
		for (size_t i = 0; i < ia5[k].l->n; i++) {
			if (!is_ascii_printable(ia5[k].l->v[i]))
				return ca_deny(d, OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT,
				    "Template %s: the requested %s is not plain ASCII", tn,
				    ia5[k].what);
			if ((r = san_add_ia5(san, ia5[k].type, ia5[k].l->v[i])) != OC_OK)
				return r;
		}
	for (size_t i = 0; i < ri->san_upn.n; i++)
		if ((r = san_add_upn(san, ri->san_upn.v[i])) != OC_OK)
			return r;
	for (size_t i = 0; i < ri->san_ip.n; i++) {
		r = san_add_ip(san, ri->san_ip.v[i]);
		if (r == OC_ERR_PARSE)
			return ca_deny(d, OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT,
			    "Template %s: the requested IP address %.64s is not valid", tn,
			    ri->san_ip.v[i]);
		if (r != OC_OK)
			return r;
	}
	if (X509_NAME_entry_count(*subject) == 0 && sk_GENERAL_NAME_num(san) == 0)
		return ca_deny(d, OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT,
		    "Template %s: the enrollee supplies the subject, but the request has "
		    "neither a subject nor a subject alternative name", tn);
	return OC_OK;
}

/* Not ENROLLEE_SUPPLIES_SUBJECT: build the names from the requester's directory entry. */
static int
names_from_identity(const struct ca_issue_input *in, X509_NAME **subject, GENERAL_NAMES *san,
    struct ca_decision *d)
{
	const struct oc_identity *id = in->requester;
	const char *tn = in->tmpl->cn, *who = id->name ? id->name : "(unnamed)";
	uint32_t f = in->tmpl->name_flags;
	int r;

	if (f & OC_CT_NAME_SUBJECT_REQUIRE_DIRECTORY_PATH) {
		if (id->dn == NULL || *id->dn == '\0')
			return ca_deny(d, OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT,
			    "Template %s: the subject is the requester's distinguished name, "
			    "but account %s has none in the directory", tn, who);
		if ((r = pkix_name_parse(id->dn, subject)) != OC_OK)
			return ca_deny(d, OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT,
			    "Template %s: the distinguished name of account %s cannot be "
			    "parsed", tn, who);
	} else {
		if ((*subject = X509_NAME_new()) == NULL)
			return OC_ERR_NOMEM;
		if (f & OC_CT_NAME_SUBJECT_REQUIRE_COMMON_NAME) {
			if (id->name == NULL)
				return ca_deny(d, OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT,
				    "Template %s: the subject is the requester's name, but the "
				    "requester has none", tn);
			if ((r = name_add(*subject, "CN", id->name)) != OC_OK)
				return r;
		} else if (f & OC_CT_NAME_SUBJECT_REQUIRE_DNS_AS_CN) {
			if (id->dns_name == NULL || *id->dns_name == '\0')
				return ca_deny(d, OC_HR_CERTSRV_E_SUBJECT_DNS_REQUIRED,
				    "Template %s: the subject is the requester's DNS host name, "
				    "but account %s has none in the directory", tn, who);
			if ((r = name_add(*subject, "CN", id->dns_name)) != OC_OK)
				return r;
		}
	}
	if (f & OC_CT_NAME_SUBJECT_REQUIRE_EMAIL) {
		if (id->mail == NULL || *id->mail == '\0')
			return ca_deny(d, OC_HR_CERTSRV_E_SUBJECT_EMAIL_REQUIRED,
			    "Template %s: the subject needs the requester's e-mail address, but "
			    "account %s has none in the directory", tn, who);
		if ((r = name_add(*subject, "emailAddress", id->mail)) != OC_OK)
			return r;
	}
	if (f & OC_CT_NAME_SUBJECT_ALT_REQUIRE_UPN) {
		if (id->upn == NULL || *id->upn == '\0')
			return ca_deny(d, OC_HR_CERTSRV_E_SUBJECT_UPN_REQUIRED,
			    "Template %s: the certificate needs the requester's user principal "
			    "name, but account %s has none in the directory", tn, who);
		if ((r = san_add_upn(san, id->upn)) != OC_OK)
			return r;
	}
	if (f & OC_CT_NAME_SUBJECT_ALT_REQUIRE_EMAIL) {
		if (id->mail == NULL || *id->mail == '\0')
			return ca_deny(d, OC_HR_CERTSRV_E_SUBJECT_EMAIL_REQUIRED,
			    "Template %s: the certificate needs the requester's e-mail address, "
			    "but account %s has none in the directory", tn, who);
		if (!is_ascii_printable(id->mail))
			return ca_deny(d, OC_HR_CERTSRV_E_SUBJECT_EMAIL_REQUIRED,
			    "Template %s: the e-mail address of account %s is not plain ASCII",
			    tn, who);
		if ((r = san_add_ia5(san, GEN_EMAIL, id->mail)) != OC_OK)
			return r;
	}
	if (f & (OC_CT_NAME_SUBJECT_ALT_REQUIRE_DNS | OC_CT_NAME_SUBJECT_ALT_REQUIRE_DOMAIN_DNS)) {
		if (id->dns_name == NULL || *id->dns_name == '\0' || !is_ascii_printable(id->dns_name))
			return ca_deny(d, OC_HR_CERTSRV_E_SUBJECT_DNS_REQUIRED,
			    "Template %s: the certificate needs the requester's DNS host name, "
			    "but account %s has none in the directory", tn, who);
		if ((f & OC_CT_NAME_SUBJECT_ALT_REQUIRE_DNS) &&
		    (r = san_add_ia5(san, GEN_DNS, id->dns_name)) != OC_OK)
			return r;
		if (f & OC_CT_NAME_SUBJECT_ALT_REQUIRE_DOMAIN_DNS) {
			/* the domain of the host: its DNS name without the first label */
			const char *dot = strchr(id->dns_name, '.');
			if (dot == NULL || dot[1] == '\0')
				return ca_deny(d, OC_HR_CERTSRV_E_SUBJECT_DNS_REQUIRED,
				    "Template %s: the certificate needs the requester's domain DNS "
				    "name, but %s has no domain part", tn, id->dns_name);
			if ((r = san_add_ia5(san, GEN_DNS, dot + 1)) != OC_OK)
				return r;
		}
	}
	if (f & OC_CT_NAME_SUBJECT_ALT_REQUIRE_DIRECTORY_GUID)
		return ca_deny(d, OC_HR_CERTSRV_E_SUBJECT_DIRECTORY_GUID_REQUIRED,
		    "Template %s: the certificate needs the requester's directory GUID, which "
		    "this directory does not keep", tn);
	if (f & OC_CT_NAME_SUBJECT_ALT_REQUIRE_SPN)
		return ca_deny(d, OC_HR_CERTSRV_E_SUBJECT_ALT_NAME_REQUIRED,
		    "Template %s: the certificate needs the requester's service principal "
		    "name, which this directory does not keep", tn);
	if (X509_NAME_entry_count(*subject) == 0 && sk_GENERAL_NAME_num(san) == 0)
		return ca_deny(d, OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT,
		    "Template %s: its name flags give neither a subject nor a subject "
		    "alternative name for account %s", tn, who);
	return OC_OK;
}

int
ca_build_names(const struct ca_issue_input *in, X509_NAME **subject, GENERAL_NAMES **sanp,
    struct ca_decision *d)
{
	GENERAL_NAMES *san = NULL;
	int r;

	*subject = NULL;
	*sanp = NULL;
	if ((san = sk_GENERAL_NAME_new_null()) == NULL)
		return OC_ERR_NOMEM;
	if (in->tmpl->name_flags & OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT)
		r = names_from_request(in, subject, san, d);
	else
		r = names_from_identity(in, subject, san, d);
	if (r != OC_OK) {
		X509_NAME_free(*subject);
		*subject = NULL;
		GENERAL_NAMES_free(san);
		return r;
	}
	if (sk_GENERAL_NAME_num(san) == 0)
		GENERAL_NAMES_free(san);
	else
		*sanp = san;
	return OC_OK;
}

static int
is_critical(const struct oc_template *t, const char *oid)
{
	return oc_strlist_contains(&t->critical_exts, oid);
}

static int
add_key_usage(X509 *x, const struct oc_template *t)
{
	ASN1_BIT_STRING *ku = NULL;
	int r = OC_ERR_CRYPTO;

	if (!t->has_key_usage || t->key_usage == 0)
		return OC_OK;
	if ((ku = ASN1_BIT_STRING_new()) == NULL)
		return OC_ERR_NOMEM;
	/* byte 0 holds bits 0..7 (0x80 = digitalSignature), byte 1 bit 8 (decipherOnly) */
	for (int i = 0; i < 9; i++)
		if ((t->key_usage >> (15 - i)) & 1u)
			if (ASN1_BIT_STRING_set_bit(ku, i, 1) != 1)
				goto out;
	if (X509_add1_ext_i2d(x, NID_key_usage, ku, is_critical(t, "2.5.29.15"),
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = OC_OK;
out:
	ASN1_BIT_STRING_free(ku);
	return r;
}

static int
add_eku(X509 *x, const struct oc_template *t)
{
	EXTENDED_KEY_USAGE *eku = NULL;
	ASN1_OBJECT *o = NULL;
	int r = OC_ERR_CRYPTO;

	if (t->eku.n == 0)
		return OC_OK;
	if ((eku = sk_ASN1_OBJECT_new_null()) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < t->eku.n; i++) {
		if ((o = OBJ_txt2obj(t->eku.v[i], 1)) == NULL) {
			log_error("template %s: bad EKU OID %s", t->cn, t->eku.v[i]);
			goto out;
		}
		if (sk_ASN1_OBJECT_push(eku, o) <= 0)
			goto out;
		o = NULL;
	}
	if (X509_add1_ext_i2d(x, NID_ext_key_usage, eku, is_critical(t, "2.5.29.37"),
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = OC_OK;
out:
	ASN1_OBJECT_free(o);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return r;
}

static int
add_cert_policies(X509 *x, const struct oc_template *t)
{
	CERTIFICATEPOLICIES *cp = NULL;
	POLICYINFO *pi = NULL;
	int r = OC_ERR_CRYPTO;

	if (t->cert_policies.n == 0)
		return OC_OK;
	if ((cp = sk_POLICYINFO_new_null()) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < t->cert_policies.n; i++) {
		if ((pi = POLICYINFO_new()) == NULL)
			goto out;
		ASN1_OBJECT_free(pi->policyid);
		if ((pi->policyid = OBJ_txt2obj(t->cert_policies.v[i], 1)) == NULL ||
		    sk_POLICYINFO_push(cp, pi) <= 0)
			goto out;
		pi = NULL;
	}
	if (X509_add1_ext_i2d(x, NID_certificate_policies, cp, is_critical(t, "2.5.29.32"),
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = OC_OK;
out:
	POLICYINFO_free(pi);
	sk_POLICYINFO_pop_free(cp, POLICYINFO_free);
	return r;
}

static int
add_basic_constraints(X509 *x, const struct oc_template *t)
{
	BASIC_CONSTRAINTS *bc = NULL;
	int r = OC_ERR_CRYPTO, ca = (t->general_flags &
	    (OC_CT_GENERAL_IS_CA | OC_CT_GENERAL_IS_CROSS_CA)) != 0;

	if (!ca && !(t->enrollment_flags & OC_CT_ENROLL_INCLUDE_BASIC_CONSTRAINTS_FOR_EE_CERTS))
		return OC_OK;
	if ((bc = BASIC_CONSTRAINTS_new()) == NULL)
		return OC_ERR_NOMEM;
	bc->ca = ca ? 0xff : 0;
	if (ca && t->max_issuing_depth >= 0) {
		if ((bc->pathlen = ASN1_INTEGER_new()) == NULL ||
		    ASN1_INTEGER_set(bc->pathlen, t->max_issuing_depth) != 1)
			goto out;
	}
	if (X509_add1_ext_i2d(x, NID_basic_constraints, bc, ca || is_critical(t, "2.5.29.19"),
	    X509V3_ADD_DEFAULT) != 1)
		goto out;
	r = OC_OK;
out:
	BASIC_CONSTRAINTS_free(bc);
	return r;
}

/* Microsoft extensions: template (21.7 or 20.2), application policies, SID. */
static int
add_ms_extensions(X509 *x, const struct ca_issue_input *in)
{
	const struct oc_template *t = in->tmpl;
	uint8_t *der = NULL;
	size_t len = 0;
	int r = OC_OK;

	if (t->schema_version >= 2 && t->oid != NULL) {
		if ((r = pkix_template_v2_encode(t->oid, t->revision, t->minor_revision, &der,
		    &len)) != OC_OK ||
		    (r = ca_add_ext_der(x, OC_OID_TEMPLATE_V2, 0, der, len)) != OC_OK)
			goto out;
	} else if (t->schema_version < 2 && (t->general_flags & OC_CT_GENERAL_ADD_TEMPLATE_NAME)) {
		if ((r = pkix_template_v1_encode(t->cn, &der, &len)) != OC_OK ||
		    (r = ca_add_ext_der(x, OC_OID_TEMPLATE_V1, 0, der, len)) != OC_OK)
			goto out;
	}
	free(der);
	der = NULL;
	if (t->schema_version >= 2 && t->app_policies.n > 0) {
		if ((r = pkix_app_policies_encode(&t->app_policies, &der, &len)) != OC_OK ||
		    (r = ca_add_ext_der(x, OC_OID_APP_POLICIES,
		    is_critical(t, OC_OID_APP_POLICIES), der, len)) != OC_OK)
			goto out;
	}
	free(der);
	der = NULL;
	/* the requester's SID, only for names built from the directory (not offline templates) */
	if (in->requester->sid != NULL && *in->requester->sid != '\0' &&
	    !(t->enrollment_flags & OC_CT_ENROLL_NO_SECURITY_EXTENSION) &&
	    !(t->name_flags & OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT)) {
		if ((r = pkix_sid_ext_encode(in->requester->sid, &der, &len)) != OC_OK ||
		    (r = ca_add_ext_der(x, OC_OID_SID_EXT, 0, der, len)) != OC_OK)
			goto out;
	}
out:
	free(der);
	return r;
}

static int
add_revocation_info(struct oc_ca *ca, X509 *x, const struct oc_template *t)
{
	char conf[1024];
	int r;

	if (t->enrollment_flags & OC_CT_ENROLL_NOREVOCATIONINFOINISSUEDCERTS)
		return OC_OK;
	if (ca->cdp_url != NULL) {
		if (snprintf(conf, sizeof(conf), "URI:%s", ca->cdp_url) >= (int)sizeof(conf))
			return OC_ERR_LIMIT;
		if ((r = ca_add_ext_conf(x, ca->cert, NID_crl_distribution_points, conf)) != OC_OK)
			return r;
	}
	if (ca->aia_url != NULL) {
		if (snprintf(conf, sizeof(conf), "caIssuers;URI:%s", ca->aia_url) >=
		    (int)sizeof(conf))
			return OC_ERR_LIMIT;
		if ((r = ca_add_ext_conf(x, ca->cert, NID_info_access, conf)) != OC_OK)
			return r;
	}
	return OC_OK;
}

static int
set_validity(struct oc_ca *ca, X509 *x, const struct oc_template *t)
{
	time_t now = time(NULL);
	int64_t secs = t->validity_seconds > 0 ? t->validity_seconds : CA_DEFAULT_VALIDITY_SECONDS;
	time_t not_after;

	if (secs > (int64_t)100 * 365 * 86400)
		secs = (int64_t)100 * 365 * 86400;
	not_after = now + (time_t)secs;
	if (X509_gmtime_adj(X509_getm_notBefore(x), -CA_BACKDATE_SECONDS) == NULL)
		return OC_ERR_CRYPTO;
	/* never beyond the CA's own notAfter */
	if (X509_cmp_time(X509_get0_notAfter(ca->cert), &not_after) < 0)
		return X509_set1_notAfter(x, X509_get0_notAfter(ca->cert)) == 1 ? OC_OK :
		    OC_ERR_CRYPTO;
	return X509_time_adj_ex(X509_getm_notAfter(x), 0, (long)secs, &now) ? OC_OK :
	    OC_ERR_CRYPTO;
}

/*
 * The request's SubjectPublicKeyInfo, copied as it is into the certificate:
 * algorithm, parameters and key bits, without decoding the key again nor
 * re-encoding it (X509_set_pubkey would run OpenSSL 3's encoder and decoder on
 * a key pkix_request_parse already decoded and checked).
 */
static int
copy_spki(X509 *x, X509_REQ *csr)
{
	X509_PUBKEY *src = X509_REQ_get_X509_PUBKEY(csr), *dst = X509_get_X509_PUBKEY(x);
	ASN1_OBJECT *obj = NULL;
	X509_ALGOR *salg = NULL, *dalg = NULL;
	const unsigned char *pk = NULL;
	unsigned char *bits = NULL;
	int pklen = 0;

	if (src == NULL || dst == NULL ||
	    X509_PUBKEY_get0_param(&obj, &pk, &pklen, &salg, src) != 1 || salg == NULL ||
	    pk == NULL || pklen <= 0)
		return OC_ERR_CRYPTO;
	if ((bits = OPENSSL_memdup(pk, (size_t)pklen)) == NULL)
		return OC_ERR_NOMEM;
	/* with no algorithm given, set0_param cannot fail before taking bits */
	if (X509_PUBKEY_set0_param(dst, NULL, 0, NULL, bits, pklen) != 1 ||
	    X509_PUBKEY_get0_param(NULL, NULL, NULL, &dalg, dst) != 1 || dalg == NULL ||
	    X509_ALGOR_copy(dalg, salg) != 1)
		return OC_ERR_CRYPTO;
	return OC_OK;
}

int
ca_build_cert(struct oc_ca *ca, const struct ca_issue_input *in, X509_NAME *subject,
    GENERAL_NAMES *san, X509 **out)
{
	const struct oc_template *t = in->tmpl;
	X509 *x = NULL;
	int r = OC_ERR_CRYPTO, san_critical;

	*out = NULL;
	if (in->ri->csr == NULL)
		return OC_ERR_CRYPTO;
	if ((x = X509_new()) == NULL)
		return OC_ERR_NOMEM;
	if (X509_set_version(x, X509_VERSION_3) != 1 || X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1)
		goto out;
	if ((r = copy_spki(x, in->ri->csr)) != OC_OK)
		goto out;
	if ((r = ca_set_random_serial(x)) != OC_OK || (r = set_validity(ca, x, t)) != OC_OK)
		goto out;
	if ((r = add_basic_constraints(x, t)) != OC_OK || (r = add_key_usage(x, t)) != OC_OK ||
	    (r = add_eku(x, t)) != OC_OK)
		goto out;
	if (san != NULL) {
		/* an empty subject makes the SAN critical (RFC 5280 4.2.1.6) */
		san_critical = X509_NAME_entry_count(subject) == 0 || is_critical(t, "2.5.29.17");
		if (X509_add1_ext_i2d(x, NID_subject_alt_name, san, san_critical,
		    X509V3_ADD_DEFAULT) != 1) {
			r = OC_ERR_CRYPTO;
			goto out;
		}
	}
	if ((r = add_cert_policies(x, t)) != OC_OK || (r = add_ms_extensions(x, in)) != OC_OK ||
	    (r = ca_add_ext_conf(x, ca->cert, NID_subject_key_identifier, "hash")) != OC_OK ||
	    (r = ca_add_ext_conf(x, ca->cert, NID_authority_key_identifier, "keyid:always")) != OC_OK ||
	    (r = add_revocation_info(ca, x, t)) != OC_OK)
		goto out;
	if (t->enrollment_flags & OC_CT_ENROLL_ADD_OCSP_NOCHECK) {
		static const uint8_t null_der[] = { 0x05, 0x00 };
		if ((r = ca_add_ext_der(x, "1.3.6.1.5.5.7.48.1.5", 0, null_der,
		    sizeof(null_der))) != OC_OK)
			goto out;
	}
	r = OC_ERR_CRYPTO;
	if (X509_sign(x, ca->key, ca_md_for(t->hash_algorithm)) <= 0) {
		log_error("signing the certificate failed");
		goto out;
	}
	*out = x;
	x = NULL;
	r = OC_OK;
out:
	X509_free(x);
	return r;
}
