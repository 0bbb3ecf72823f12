/*
 * The plan of `opencesd ad publish`: every entry the forest should hold
 * (ldap_publish.h). Pure: no LDAP here.
 */
#include "ldap/ldap_publish.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/log.h"
#include "directory/directory.h"

static const char *const es_owned[] = {
	"displayName", "flags", "dNSHostName", "cACertificate", "cACertificateDN",
	"certificateTemplates", "msPKI-Enrollment-Servers", NULL,
};

/* One CA revocation list placeholder: the schema makes both attributes
 * mandatory on certificationAuthority (templates.md 7.3); Windows writes one
 * zero byte. */
static const uint8_t empty_list[1] = { 0 };

void
oc_ldap_pub_plan_clear(struct oc_ldap_pub_plan *plan)
{
	if (plan == NULL)
		return;
	for (size_t i = 0; i < plan->n; i++) {
		oc_ldap_entry_clear(&plan->v[i].e);
		free(plan->v[i].guard_dn);
		free(plan->v[i].guard_value);
	}
	free(plan->v);
	memset(plan, 0, sizeof(*plan));
}

int
oc_ldap_pub_pks_dn(const char *config_nc, char **out)
{
	if (config_nc == NULL || *config_nc == '\0' || out == NULL)
		return OC_ERR_INVALID;
	if (asprintf(out, "CN=Public Key Services,CN=Services,%s", config_nc) < 0) {
		*out = NULL;
		return OC_ERR_NOMEM;
	}
	return OC_OK;
}

/* A new target with its DN "CN=<rdn escaped>,<parent>" (rdn NULL: parent is the DN). */
static int
target_new(struct oc_ldap_pub_plan *p, int mode, const char *what, const char *rdn,
    const char *parent, struct oc_ldap_pub_target **tp)
{
	struct oc_ldap_pub_target *nv, *t;
	char *esc = NULL, *dn = NULL;
	int r;

	if (p->n >= 16 + 2 * (size_t)OC_TEMPLATES_MAX)
		return OC_ERR_LIMIT;
	if (rdn != NULL) {
		if ((r = oc_ldap_dn_escape(rdn, &esc)) != OC_OK)
			return r;
		if (asprintf(&dn, "CN=%s,%s", esc, parent) < 0) {
			free(esc);
			return OC_ERR_NOMEM;
		}
		free(esc);
	} else if ((dn = strdup(parent)) == NULL)
		return OC_ERR_NOMEM;
	if ((nv = realloc(p->v, (p->n + 1) * sizeof(*nv))) == NULL) {
		free(dn);
		return OC_ERR_NOMEM;
	}
	p->v = nv;
	t = &p->v[p->n++];
	memset(t, 0, sizeof(*t));
	t->mode = mode;
	t->what = what;
	t->e.dn = dn;
	*tp = t;
	return OC_OK;
}

static int
container(struct oc_ldap_pub_plan *p, const char *cn, const char *parent)
{
	struct oc_ldap_pub_target *t = NULL;
	int r;

	if ((r = target_new(p, OC_LDAP_PUB_IF_MISSING, "container", cn, parent, &t)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "objectClass", "top")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "objectClass", "container")) != OC_OK)
		return r;
	return oc_ldap_entry_add_str(&t->e, "cn", cn);
}

static int
plan_template(struct oc_ldap_pub_plan *p, const struct oc_ldap_pub_input *in,
    const struct oc_ldap_pub_template *pt, const char *tmpl_dn, const char *oid_dn)
{
	struct oc_ldap_pub_target *t = NULL;
	struct oc_ldap_entry e;
	const char *tdn;
	char oidcn[OC_LDAP_OID_CN_MAX];
	uint8_t *sd = NULL;
	size_t sdlen = 0;
	int r;

	memset(&e, 0, sizeof(e));
	if ((r = target_new(p, OC_LDAP_PUB_IF_MISSING, "template", pt->t->cn, tmpl_dn, &t)) != OC_OK)
		goto out;
	if ((r = oc_ldap_enc_template(pt->t, t->e.dn, &e)) != OC_OK)
		goto out;
	oc_ldap_entry_clear(&t->e);
	t->e = e;
	memset(&e, 0, sizeof(e));
	if ((r = oc_ldap_sd_template(in->domain_sid, pt->grants, pt->ngrants, &sd, &sdlen)) != OC_OK ||
	    (r = oc_ldap_entry_add(&t->e, "nTSecurityDescriptor", sd, sdlen)) != OC_OK)
		goto out;
	/* its msPKI-Enterprise-Oid object (templates.md 8): flags 1 = template OID */
	tdn = t->e.dn;
	if ((r = oc_ldap_oid_cn(pt->t->oid, oidcn, sizeof(oidcn))) != OC_OK ||
	    (r = target_new(p, OC_LDAP_PUB_IF_MISSING, "oid", oidcn, oid_dn, &t)) != OC_OK)
		goto out;
	t->guard_attr = "msPKI-Cert-Template-OID";
	if ((t->guard_dn = strdup(tdn)) == NULL || (t->guard_value = strdup(pt->t->oid)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if ((r = oc_ldap_entry_add_str(&t->e, "objectClass", "top")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "objectClass", "msPKI-Enterprise-Oid")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "cn", oidcn)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "displayName",
	        pt->t->display_name ? pt->t->display_name : pt->t->cn)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(&t->e, "flags", 1)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "msPKI-Cert-Template-OID", pt->t->oid)) != OC_OK)
		goto out;
out:
	oc_ldap_entry_clear(&e);
	free(sd);
	return r;
}

/*
 * cACertificateDN as Windows writes it: "CN=EXAMPLE-CA, DC=example, DC=com";
 * *root = 1 for a self-issued certificate.
 */
static int
ca_subject(const uint8_t *der, size_t len, char **out, int *root)
{
	const unsigned char *q = der;
	X509 *x = NULL;
	BIO *bio = NULL;
	char *data = NULL;
	long n;
	int r = OC_ERR_DER;

	if ((x = d2i_X509(NULL, &q, (long)len)) == NULL || q != der + len)
		goto out;
	r = OC_ERR_NOMEM;
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (X509_NAME_print_ex(bio, X509_get_subject_name(x), 0,
	        (XN_FLAG_RFC2253 & ~XN_FLAG_SEP_MASK) | XN_FLAG_SEP_CPLUS_SPC) < 0)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0 || n > OC_NAME_MAX * 4) {
		r = OC_ERR_LIMIT;
		goto out;
	}
	if ((*out = strndup(data, (size_t)n)) == NULL)
		goto out;
	*root = X509_check_issued(x, x) == X509_V_OK;
	r = OC_OK;
out:
	BIO_free(bio);
	X509_free(x);
	return r;
}

static int
plan_ca(struct oc_ldap_pub_plan *p, const struct oc_ldap_pub_input *in, const char *pks)
{
	const struct oc_ca_entry *ca = in->ca;
	struct oc_ldap_pub_target *t = NULL;
	struct oc_ldap_sd_grant au;
	struct ocbuf b;
	char *cn = NULL, *parent = NULL, *subject = NULL;
	uint8_t *sd = NULL;
	size_t sdlen = 0;
	int r, root = 0;

	ocbuf_init(&b, OC_AD_ATTR_VALUE_MAX);
	memset(&au, 0, sizeof(au));
	if (ca->name == NULL || ca->cert_der == NULL || ca->cert_der_len == 0) {
		r = OC_ERR_INVALID;
		goto out;
	}
	if ((r = oc_ldap_ca_cn(ca->name, &cn)) != OC_OK ||
	    (r = ca_subject(ca->cert_der, ca->cert_der_len, &subject, &root)) != OC_OK)
		goto out;
	/* the pKIEnrollmentService (templates.md 7.1): Authenticated Users may enroll */
	if (asprintf(&parent, "CN=Enrollment Services,%s", pks) < 0) {
		parent = NULL;
		r = OC_ERR_NOMEM;
		goto out;
	}
	au.rights = OC_RIGHT_ENROLL;
	if ((r = oc_ad_sid_from_text("S-1-5-11", &au.sid)) != OC_OK ||
	    (r = oc_ldap_sd_template(in->domain_sid, &au, 1, &sd, &sdlen)) != OC_OK)
		goto out;
	if ((r = target_new(p, OC_LDAP_PUB_OWN, "enrollment-service", cn, parent, &t)) != OC_OK)
		goto out;
	t->owned = es_owned;
	if ((r = oc_ldap_entry_add_str(&t->e, "objectClass", "top")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "objectClass", "pKIEnrollmentService")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "cn", cn)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "displayName", ca->name)) != OC_OK ||
	    (r = oc_ldap_entry_add_u32(&t->e, "flags", OC_LDAP_PUB_CA_FLAGS)) != OC_OK)
		goto out;
	if (ca->dns_host_name != NULL &&
	    (r = oc_ldap_entry_add_str(&t->e, "dNSHostName", ca->dns_host_name)) != OC_OK)
		goto out;
	if ((r = oc_ldap_entry_add(&t->e, "cACertificate", ca->cert_der, ca->cert_der_len)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "cACertificateDN", subject)) != OC_OK ||
	    (r = oc_ldap_entry_add_list(&t->e, "certificateTemplates", &ca->templates)) != OC_OK)
		goto out;
	for (size_t i = 0; i < ca->nuris; i++) {
		ocbuf_reset(&b);
		if ((r = oc_ldap_enc_ces(&ca->uris[i], &b)) != OC_OK ||
		    (r = oc_ldap_entry_add(&t->e, "msPKI-Enrollment-Servers", ocbuf_ptr(&b),
		        ocbuf_avail(&b))) != OC_OK)
			goto out;
	}
	if ((r = oc_ldap_entry_add(&t->e, "nTSecurityDescriptor", sd, sdlen)) != OC_OK)
		goto out;
	/*
	 * A root goes to the trusted roots, a subordinate CA to AIA (chain
	 * building), templates.md 7.3; either goes to NTAuthCertificates.
	 */
	free(parent);
	if (asprintf(&parent, "CN=%s,%s", root ? "Certification Authorities" : "AIA", pks) < 0) {
		parent = NULL;
		r = OC_ERR_NOMEM;
		goto out;
	}
	if (!root && (r = container(p, "AIA", pks)) != OC_OK)
		goto out;
	for (int k = 0; k < 2; k++) {
		if ((r = target_new(p, OC_LDAP_PUB_FILL, k ? "ntauth" : root ?
		        "certification-authority" : "aia",
		        k ? "NTAuthCertificates" : cn, k ? pks : parent, &t)) != OC_OK)
			goto out;
		t->merge_attr = "cACertificate";
		if ((r = oc_ldap_entry_add_str(&t->e, "objectClass", "top")) != OC_OK ||
		    (r = oc_ldap_entry_add_str(&t->e, "objectClass", "certificationAuthority")) != OC_OK ||
		    (r = oc_ldap_entry_add_str(&t->e, "cn", k ? "NTAuthCertificates" : cn)) != OC_OK ||
		    (r = oc_ldap_entry_add(&t->e, "cACertificate", ca->cert_der,
		        ca->cert_der_len)) != OC_OK ||
		    (r = oc_ldap_entry_add(&t->e, "authorityRevocationList", empty_list, 1)) != OC_OK ||
		    (r = oc_ldap_entry_add(&t->e, "certificateRevocationList", empty_list, 1)) != OC_OK)
			goto out;
	}
	r = OC_OK;
out:
	ocbuf_free(&b);
	free(sd);
	free(cn);
	free(parent);
	free(subject);
	return r;
}

int
oc_ldap_pub_plan_build(const struct oc_ldap_pub_input *in, struct oc_ldap_pub_plan *plan)
{
	struct oc_ldap_pub_target *t = NULL;
	char *pks = NULL, *tmpl_dn = NULL, *oid_dn = NULL;
	int r;

	if (in == NULL || plan == NULL || in->domain_sid == NULL || in->ca == NULL ||
	    (in->templates == NULL && in->ntemplates > 0))
		return OC_ERR_INVALID;
	memset(plan, 0, sizeof(*plan));
	if ((r = oc_ldap_pub_pks_dn(in->config_nc, &pks)) != OC_OK)
		goto out;
	if (asprintf(&tmpl_dn, "CN=Certificate Templates,%s", pks) < 0 ||
	    asprintf(&oid_dn, "CN=OID,%s", pks) < 0) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	/* the containers Samba and Windows provision (templates.md 1.1) */
	if ((r = target_new(plan, OC_LDAP_PUB_IF_MISSING, "container", NULL, pks, &t)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "objectClass", "top")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "objectClass", "container")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "cn", "Public Key Services")) != OC_OK ||
	    (r = container(plan, "Certificate Templates", pks)) != OC_OK ||
	    (r = container(plan, "Enrollment Services", pks)) != OC_OK ||
	    (r = container(plan, "Certification Authorities", pks)) != OC_OK)
		goto out;
	/* CN=OID holds the forest base OID (templates.md 8) */
	if ((r = target_new(plan, OC_LDAP_PUB_FILL, "oid", NULL, oid_dn, &t)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "objectClass", "top")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "objectClass", "msPKI-Enterprise-Oid")) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&t->e, "cn", "OID")) != OC_OK)
		goto out;
	if (in->forest_oid != NULL &&
	    (r = oc_ldap_entry_add_str(&t->e, "msPKI-Cert-Template-OID", in->forest_oid)) != OC_OK)
		goto out;
	for (size_t i = 0; i < in->ntemplates; i++)
		if ((r = plan_template(plan, in, &in->templates[i], tmpl_dn, oid_dn)) != OC_OK) {
			error_fr(r, "template %s", in->templates[i].t && in->templates[i].t->cn ?
			    in->templates[i].t->cn : "?");
			goto out;
		}
	r = plan_ca(plan, in, pks);
out:
	if (r != OC_OK)
		oc_ldap_pub_plan_clear(plan);
	free(pks);
	free(tmpl_dn);
	free(oid_dn);
	return r;
}
