/*
 * Deciding an order (templates.md 9): record, parse, verify, identify the
 * template, check the CA publishes it and the requester may enroll, check the
 * key, build the names, then pend or issue -- durably before answering.
 */
#include "ca/ca_local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/log.h"
#include "model/hresult.h"

struct order_state {
	struct oc_req_info ri;
	struct oc_template *tmpl;
	struct oc_identity requester;   /* effective requester (directory copy when known) */
	int renewal;
	char *renewal_template;         /* template of the certificate being renewed */
	struct ca_decision d;
};

void
ca_audit(struct oc_ca *ca, const char *event, uint32_t request_id, const char *requester,
    const char *template_name, const char *detail)
{
	char id[16], line[OC_DISPOSITION_MAX + 64];

	snprintf(id, sizeof(id), "%u", request_id);
	oc_audit(event, "request_id", id, "requester", requester ? requester : "",
	    "template", template_name ? template_name : "", "detail", detail ? detail : "",
	    (char *)NULL);
	snprintf(line, sizeof(line), "request_id=%u template=%s %s", request_id,
	    template_name ? template_name : "-", detail ? detail : "");
	if (oc_store_audit(ca->store, event, requester, line) != OC_OK)
		log_error("audit record for request %u not stored", request_id);
}

static void
state_clear(struct order_state *s)
{
	oc_req_info_clear(&s->ri);
	oc_template_free(s->tmpl);
	oc_identity_clear(&s->requester);
	free(s->renewal_template);
	memset(s, 0, sizeof(*s));
}

/*
 * The requester as the directory knows it: directory accounts are re-read
 * (attributes and groups from the directory, not the front's copy); others
 * (e.g. Kerberos principals of a foreign realm) are taken as sent.
 */
static int
load_requester(struct oc_ca *ca, const struct oc_identity *sent, const char *name,
    struct oc_identity *out)
{
	int r;

	if (name == NULL)
		return oc_identity_copy(out, sent);
	/* directory (AD) callers: the auth process read the account; no local lookup */
	if (ca->accounts_from_front && sent->name != NULL && strcmp(sent->name, name) == 0)
		return oc_identity_copy(out, sent);
	r = oc_dir_account_get(ca->dir, name, out);
	if (r == OC_OK) {
		out->auth_type = sent->auth_type;
		/*
		 * A Kerberos caller also carries its ticket's PAC (user SID and
		 * group SIDs), which the front end vouches for like the rest of
		 * the identity: keep them next to the directory's groups so the
		 * CA decides rights as the policy service did.
		 */
		if (sent->auth_type == OC_AUTH_KERBEROS && sent->name != NULL &&
		    strcmp(sent->name, name) == 0) {
			if (out->sid == NULL && sent->sid != NULL &&
			    (out->sid = strdup(sent->sid)) == NULL)
				return OC_ERR_NOMEM;
			for (size_t i = 0; i < sent->groups.n; i++)
				if (strncmp(sent->groups.v[i], "S-1-", 4) == 0 &&
				    !oc_strlist_contains(&out->groups, sent->groups.v[i]) &&
				    out->groups.n < OC_GROUPS_MAX &&
				    (r = oc_strlist_add(&out->groups, sent->groups.v[i])) != OC_OK)
					return r;
		}
		return OC_OK;
	}
	oc_identity_clear(out);
	if (r != OC_ERR_NOT_FOUND)
		return r;
	if (sent->name != NULL && strcmp(sent->name, name) == 0)
		return oc_identity_copy(out, sent);
	/* a renewal for an account that left the directory: name only */
	memset(out, 0, sizeof(*out));
	out->auth_type = sent->auth_type;
	return (out->name = strdup(name)) ? OC_OK : OC_ERR_NOMEM;
}

/*
 * Does the requester of o (as the directory knows it now) still hold Enroll
 * on template_cn? An idempotent replay answers only while it does: a right
 * taken away in between makes the repeated order a new one, decided (and
 * denied) again.
 */
int
ca_may_enroll(struct oc_ca *ca, const struct oc_ca_order *o, const char *template_cn,
    int *may)
{
	struct oc_identity id;
	uint32_t rights = 0;
	int r;

	*may = 0;
	memset(&id, 0, sizeof(id));
	if (template_cn == NULL || template_cn[0] == '\0')
		return OC_OK;
	if ((r = load_requester(ca, &o->requester, o->requester.name, &id)) != OC_OK)
		goto out;
	r = oc_dir_rights(ca->dir, template_cn, &id, &rights);
	if (r == OC_ERR_NOT_FOUND)
		r = OC_OK;
	*may = r == OC_OK && (rights & OC_RIGHT_ENROLL) != 0;
out:
	oc_identity_clear(&id);
	return r;
}

/* "CertificateTemplate:<name>" from the request attributes, if any (malloc'd). */
int
ca_attr_template(const char *attrs, char **out)
{
	static const char key[] = "CertificateTemplate:";
	const char *p = attrs, *e;

	*out = NULL;
	while (p != NULL && *p != '\0') {
		e = strchr(p, '\n');
		if (strncasecmp(p, key, sizeof(key) - 1) == 0) {
			const char *v = p + sizeof(key) - 1;
			size_t n = e ? (size_t)(e - v) : strlen(v);
			while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == ' '))
				n--;
			if (n == 0 || n > OC_TEMPLATE_NAME_MAX)
				return OC_ERR_PARSE;
			return (*out = strndup(v, n)) ? OC_OK : OC_ERR_NOMEM;
		}
		p = e ? e + 1 : NULL;
	}
	return OC_OK;
}

/* Renewal (CMS/CMC signed with a certificate): the signer must be ours, valid, unrevoked. */
static int
check_renewal(struct oc_ca *ca, const struct oc_ca_order *o, struct order_state *s)
{
	struct oc_store_cert sc;
	char *hex = NULL;
	uint8_t *der = NULL;
	int len, r, ok;
	EVP_PKEY *capub = X509_get0_pubkey(ca->cert);
	X509 *signer = s->ri.signer;

	memset(&sc, 0, sizeof(sc));
	if (!s->ri.signer_signature_ok) {
		ca_deny(&s->d, OC_HR_NTE_BAD_SIGNATURE, "Renewal: the request's signature does "
		    "not verify with the certificate it was signed with");
		return 1;
	}
	/*
	 * The PKCS#10 must name the certificate being renewed (attribute
	 * 1.3.6.1.4.1.311.13.1), and it must be the one that signed: a request
	 * signed by one certificate cannot renew another. A signed request
	 * without it would be enroll-on-behalf-of, which needs an enrollment
	 * agent policy we do not offer.
	 */
	if (s->ri.renewal_cert == NULL || X509_cmp(s->ri.renewal_cert, signer) != 0) {
		ca_deny(&s->d, OC_HR_CERTSRV_E_BAD_RENEWAL_CERT_ATTRIBUTE, s->ri.renewal_cert == NULL ?
		    "Renewal: the request does not name the certificate to renew "
		    "(attribute 1.3.6.1.4.1.311.13.1); enrolling on behalf of another is not supported" :
		    "Renewal: the certificate named in the request is not the one that signed it");
		return 1;
	}
	ok = X509_NAME_cmp(X509_get_issuer_name(signer), X509_get_subject_name(ca->cert)) == 0 &&
	    X509_verify(signer, capub) == 1;
	ERR_clear_error();
	if (!ok) {
		ca_deny(&s->d, OC_HR_CERTSRV_E_BAD_RENEWAL_CERT_ATTRIBUTE, "Renewal: the signing "
		    "certificate was not issued by this CA");
		return 1;
	}
	if ((r = ca_serial_hex(X509_get0_serialNumber(signer), &hex)) != OC_OK)
		goto out;
	r = oc_store_cert_get(ca->store, hex, &sc);
	if (r == OC_ERR_NOT_FOUND) {
		r = ca_deny(&s->d, OC_HR_CERTSRV_E_BAD_RENEWAL_CERT_ATTRIBUTE, "Renewal: the "
		    "signing certificate (serial %s) is not in this CA's records", hex);
		goto out;
	}
	if (r != OC_OK)
		goto out;
	if ((len = i2d_X509(signer, &der)) <= 0) {
		r = OC_ERR_CRYPTO;
		goto out;
	}
	if ((size_t)len != sc.der_len || memcmp(der, sc.der, sc.der_len) != 0) {
		r = ca_deny(&s->d, OC_HR_CERTSRV_E_BAD_RENEWAL_CERT_ATTRIBUTE, "Renewal: the "
		    "signing certificate differs from the one issued with serial %s", hex);
		goto out;
	}
	if (sc.revoked) {
		r = ca_deny(&s->d, OC_HR_CERTSRV_E_BAD_RENEWAL_CERT_ATTRIBUTE, "Renewal: the "
		    "signing certificate (serial %s) is revoked", hex);
		goto out;
	}
	if (sc.not_after <= time(NULL) || X509_cmp_time(X509_get0_notAfter(signer), NULL) <= 0) {
		r = ca_deny(&s->d, OC_HR_CERTSRV_E_BAD_RENEWAL_CERT_ATTRIBUTE, "Renewal: the "
		    "signing certificate (serial %s) has expired", hex);
		goto out;
	}
	if (sc.template_name == NULL || sc.requester == NULL) {
		r = ca_deny(&s->d, OC_HR_CERTSRV_E_BAD_RENEWAL_CERT_ATTRIBUTE, "Renewal: the "
		    "certificate with serial %s has no template or requester on record", hex);
		goto out;
	}
	s->renewal = 1;
	if ((s->renewal_template = strdup(sc.template_name)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	/* the old requester is the requester */
	if ((r = load_requester(ca, &o->requester, sc.requester, &s->requester)) != OC_OK)
		goto out;
	r = OC_OK;
out:
	OPENSSL_free(der);
	free(hex);
	oc_store_cert_clear(&sc);
	return r;
}

/* Identify the template from every place a request may name it. */
static int
identify_template(struct oc_ca *ca, const struct oc_ca_order *o, struct order_state *s)
{
	struct { const char *what; const char *id; } cand[6];
	char *attr = NULL;
	struct oc_template *t = NULL;
	size_t n = 0;
	int r;

	if (ca_attr_template(o->request_attributes, &attr) != OC_OK) {
		r = ca_deny(&s->d, OC_HR_E_INVALIDARG, "The CertificateTemplate request attribute "
		    "is empty or too long");
		goto out;
	}
	if (s->renewal)
		cand[n++] = (typeof(cand[0])){ "renewed certificate", s->renewal_template };
	if (s->ri.template_v2_oid)
		cand[n++] = (typeof(cand[0])){ "template extension", s->ri.template_v2_oid };
	if (s->ri.template_v1_name)
		cand[n++] = (typeof(cand[0])){ "template name extension", s->ri.template_v1_name };
	if (s->ri.template_attr_name)
		cand[n++] = (typeof(cand[0])){ "CertificateTemplate pair", s->ri.template_attr_name };
	if (o->template_hint)
		cand[n++] = (typeof(cand[0])){ "request context", o->template_hint };
	if (attr)
		cand[n++] = (typeof(cand[0])){ "request attributes", attr };
	if (n == 0) {
		r = ca_deny(&s->d, OC_HR_CERTSRV_E_NO_CERT_TYPE, "The request names no "
		    "certificate template");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r = oc_dir_template_get(ca->dir, cand[i].id, &t);
		if (r == OC_ERR_NOT_FOUND) {
			r = ca_deny(&s->d, OC_HR_CERTSRV_E_UNSUPPORTED_CERT_TYPE, "Template %.256s "
			    "(from the %s) is unknown", cand[i].id, cand[i].what);
			goto out;
		}
		if (r != OC_OK)
			goto out;
		if (s->tmpl == NULL) {
			s->tmpl = t;
			t = NULL;
		} else if (strcasecmp(s->tmpl->cn, t->cn) != 0) {
			r = ca_deny(&s->d, OC_HR_CERTSRV_E_TEMPLATE_CONFLICT, "The request names "
			    "two templates: %s and %s (from the %s)", s->tmpl->cn, t->cn,
			    cand[i].what);
			goto out;
		} else {
			oc_template_free(t);
			t = NULL;
		}
	}
	r = OC_OK;
out:
	oc_template_free(t);
	free(attr);
	return r;
}

/* The CA entry named like us must publish the template. */
static int
check_published(struct oc_ca *ca, struct order_state *s)
{
	struct oc_ca_entry *cav = NULL;
	size_t n = 0;
	int r, found = 0, published = 0;

	if ((r = oc_dir_ca_list(ca->dir, &cav, &n)) != OC_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		if (cav[i].name && strcasecmp(cav[i].name, ca->name) == 0) {
			found = 1;
			published = oc_strlist_contains_ci(&cav[i].templates, s->tmpl->cn);
			break;
		}
	oc_dir_ca_list_free(cav, n);
	if (!found)
		return ca_deny(&s->d, OC_HR_CERTSRV_E_UNSUPPORTED_CERT_TYPE, "Template %s: CA "
		    "\"%s\" has no entry in the directory, so it publishes no template",
		    s->tmpl->cn, ca->name);
	if (!published)
		return ca_deny(&s->d, OC_HR_CERTSRV_E_UNSUPPORTED_CERT_TYPE, "Template %s is not "
		    "published on CA \"%s\"", s->tmpl->cn, ca->name);
	return OC_OK;
}

static int
check_enroll_right(struct oc_ca *ca, struct order_state *s)
{
	uint32_t rights = 0;
	int r;

	if ((r = oc_dir_rights(ca->dir, s->tmpl->cn, &s->requester, &rights)) != OC_OK &&
	    r != OC_ERR_NOT_FOUND)
		return r;
	if (r == OC_ERR_NOT_FOUND || !(rights & OC_RIGHT_ENROLL))
		return ca_deny(&s->d, OC_HR_CERTSRV_E_TEMPLATE_DENIED, "Template %s: %s has no "
		    "Enroll right", s->tmpl->cn, s->requester.name ? s->requester.name :
		    "the requester");
	return OC_OK;
}

/* v equals want (case-insensitive), want may be NULL */
static int
same_name(const char *v, const char *want)
{
	return want != NULL && strcasecmp(v, want) == 0;
}

/*
 * A template that builds the names from the directory (neither
 * ENROLLEE_SUPPLIES_SUBJECT nor ENROLLEE_SUPPLIES_SUBJECT_ALT_NAME) takes no
 * name from the request: the certificate carries the directory's names only,
 * and request attributes never add one (no EDITF_ATTRIBUTESUBJECTALTNAME2).
 * A name in the request that the requester's directory entry does not hold
 * is logged and dropped by default, as Windows does: certmonger puts the
 * host's name (DNS) and its host principal (as a UPN) into every request
 * (docs/PROTOCOL-NOTES.md). With [ca] refuse_request_names = true such a
 * request is refused instead (CERTSRV_E_BAD_REQUESTSUBJECT).
 */
static int
check_request_names(struct oc_ca *ca, struct order_state *s)
{
	const struct oc_req_info *ri = &s->ri;
	const struct oc_identity *id = &s->requester;
	const char *bad = NULL, *kind = NULL;

	if (s->tmpl->name_flags & (OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT |
	    OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT_ALT_NAME))
		return OC_OK;
	for (size_t i = 0; i < ri->san_dns.n && bad == NULL; i++)
		if (!same_name(ri->san_dns.v[i], id->dns_name))
			bad = ri->san_dns.v[i], kind = "DNS name";
	for (size_t i = 0; i < ri->san_email.n && bad == NULL; i++)
		if (!same_name(ri->san_email.v[i], id->mail))
			bad = ri->san_email.v[i], kind = "e-mail address";
	for (size_t i = 0; i < ri->san_upn.n && bad == NULL; i++)
		if (!same_name(ri->san_upn.v[i], id->upn))
			bad = ri->san_upn.v[i], kind = "UPN";
	if (bad == NULL && ri->san_uri.n > 0)
		bad = ri->san_uri.v[0], kind = "URI";
	if (bad == NULL && ri->san_ip.n > 0)
		bad = ri->san_ip.v[0], kind = "IP address";
	if (bad == NULL && ri->san_other > 0)
		bad = "(other name)", kind = "name";
	if (bad == NULL)
		return OC_OK;
	if (!ca->refuse_names) {
		log_info("template %s: the request asks for the %s %.256s, which %s's directory "
		    "entry does not hold; the certificate carries the directory's names only",
		    s->tmpl->cn, kind, bad, id->name ? id->name : "the requester");
		return OC_OK;
	}
	return ca_deny(&s->d, OC_HR_CERTSRV_E_BAD_REQUESTSUBJECT, "Template %s builds the "
	    "names from the directory; the request asks for the %s %.256s, which %s's "
	    "directory entry does not hold", s->tmpl->cn, kind, bad,
	    id->name ? id->name : "the requester");
}

static int
check_key(struct order_state *s)
{
	const struct oc_template *t = s->tmpl;
	const char *want = t->key_algorithm ? t->key_algorithm : "RSA";
	const char *curve = NULL;

	if (oc_template_is_ec(t)) {
		if (strcasecmp(want, "ECDSA_P256") == 0)
			curve = "P-256";
		else if (strcasecmp(want, "ECDSA_P384") == 0)
			curve = "P-384";
		else if (strcasecmp(want, "ECDSA_P521") == 0)
			curve = "P-521";
		if (s->ri.key_type != EVP_PKEY_EC || curve == NULL || s->ri.key_curve == NULL ||
		    strcmp(s->ri.key_curve, curve) != 0)
			return ca_deny(&s->d, OC_HR_CERTSRV_E_KEY_LENGTH, "Template %s: the key "
			    "must be %s (an EC key on %s), the request has %s%s%s", t->cn, want,
			    curve ? curve : "?", s->ri.key_type == EVP_PKEY_EC ? "an EC key on " :
			    s->ri.key_type == EVP_PKEY_RSA ? "an RSA key" : "another key type",
			    s->ri.key_type == EVP_PKEY_EC && s->ri.key_curve ? s->ri.key_curve : "",
			    "");
	} else if (s->ri.key_type != EVP_PKEY_RSA) {
		return ca_deny(&s->d, OC_HR_CERTSRV_E_KEY_LENGTH, "Template %s: the key must be "
		    "RSA, the request has %s", t->cn, s->ri.key_type == EVP_PKEY_EC ?
		    "an EC key" : "another key type");
	}
	if (s->ri.key_bits <= 0 || (uint32_t)s->ri.key_bits < t->min_key_size)
		return ca_deny(&s->d, OC_HR_CERTSRV_E_KEY_LENGTH, "Template %s: key size %d is "
		    "below the minimum %u", t->cn, s->ri.key_bits, t->min_key_size);
	return OC_OK;
}

/* Subject as text for the store (RFC 2253). */
static char *
name_text(X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *s = NULL;
	long len;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(b, &p)) >= 0)
		s = strndup(p ? p : "", (size_t)len);
	BIO_free(b);
	return s;
}

static int
cmc_for(struct oc_ca *ca, X509 *issued, int status, uint32_t body_part_id, const char *text,
    uint8_t **cmc, size_t *cmc_len)
{
	return pkix_cmc_response(ca->cert, ca->key, issued, ca->chain, status,
	    body_part_id ? body_part_id : 1, text, cmc, cmc_len);
}

/*
 * An ISSUE order between its three steps: ca_job_begin (RequestID row, CA
 * thread), ca_job_work (decide, build and sign, no store write: any thread,
 * with that thread's own directory and store handles), ca_job_end (store
 * writes and the answer, CA thread).
 */
struct ca_job {
	const struct oc_ca_order *o;
	uint32_t id;
	int r;                          /* < 0 failure, 0 go on, 1 denied */
	struct order_state s;
	X509_NAME *subject;
	GENERAL_NAMES *san;
	char *subj;                     /* subject text for the store */
	/* the signed certificate (issue) */
	X509 *x;
	uint8_t *der;
	size_t der_len;
	char *hex;
	time_t not_before, not_after;
	/* the CMC response (issue or pend); cmc_r its outcome */
	uint8_t *cmc;
	size_t cmc_len;
	int cmc_r;
	int approved;                   /* approved by an administrator: issue, never pend */
};

/* Manager approval (PEND_ALL_REQUESTS) or RA signatures: wait for an administrator. */
static int
job_pends(const struct ca_job *j)
{
	return !j->approved && ca_template_pends(j->s.tmpl);
}

static void
job_drop_cert(struct ca_job *j)
{
	X509_free(j->x);
	j->x = NULL;
	OPENSSL_free(j->der);
	j->der = NULL;
	j->der_len = 0;
	free(j->hex);
	j->hex = NULL;
	free(j->cmc);
	j->cmc = NULL;
	j->cmc_len = 0;
}

/* Build and sign the certificate with a fresh serial, then its CMC response. */
static int
sign_cert(struct oc_ca *ca, struct ca_job *j)
{
	struct ca_issue_input in = { j->s.tmpl, &j->s.requester, &j->s.ri };
	struct tm tb, ta;
	int r, len;

	job_drop_cert(j);
	if ((r = ca_build_cert(ca, &in, j->subject, j->san, &j->x)) != OC_OK ||
	    (r = ca_serial_hex(X509_get0_serialNumber(j->x), &j->hex)) != OC_OK)
		return r;
	if ((len = i2d_X509(j->x, &j->der)) <= 0 || (size_t)len > OC_CERT_DER_MAX)
		return len <= 0 ? OC_ERR_CRYPTO : OC_ERR_LIMIT;
	j->der_len = (size_t)len;
	if (ASN1_TIME_to_tm(X509_get0_notBefore(j->x), &tb) != 1 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(j->x), &ta) != 1)
		return OC_ERR_CRYPTO;
	j->not_before = timegm(&tb);
	j->not_after = timegm(&ta);
	j->cmc_r = cmc_for(ca, j->x, 0, j->s.ri.body_part_id, "Issued", &j->cmc, &j->cmc_len);
	return OC_OK;
}

/* Store the signed certificate; a serial already used is drawn and signed again. */
static int
issue(struct oc_ca *ca, struct ca_job *j, struct oc_ca_result *res)
{
	struct order_state *s = &j->s;
	struct oc_store_cert sc;
	uint32_t id = j->id;
	int r = OC_ERR_STORE;

	memset(&sc, 0, sizeof(sc));
	for (int attempt = 0; attempt < CA_SERIAL_ATTEMPTS; attempt++) {
		if (attempt > 0 && (r = sign_cert(ca, j)) != OC_OK)
			return r;
		sc.serial_hex = j->hex;
		sc.request_id = id;
		sc.requester = s->requester.name;
		sc.template_name = s->tmpl->cn;
		sc.subject = j->subj;
		sc.not_before = j->not_before;
		sc.not_after = j->not_after;
		sc.der = j->der;
		sc.der_len = j->der_len;
		r = oc_store_cert_issue(ca->store, id, &sc, "Issued");
		if (r != OC_ERR_EXISTS)
			break;
		log_warn("serial %s already used; drawing another", j->hex);
	}
	if (r != OC_OK)
		return r;
	/* recorded (durable once the batch commits: ca_serve.c sends nothing before) */
	res->disposition = OC_DISP_ISSUED;
	res->hresult = OC_HR_S_OK;
	if ((res->message = strdup("Issued")) == NULL)
		return OC_ERR_NOMEM;
	if ((res->cert = malloc(j->der_len)) == NULL)
		return OC_ERR_NOMEM;
	memcpy(res->cert, j->der, j->der_len);
	res->cert_len = j->der_len;
	if (j->cmc_r != OC_OK) {
		error_fr(j->cmc_r, "CMC response for request %u", id);
	} else {
		res->cmc = j->cmc;
		res->cmc_len = j->cmc_len;
		j->cmc = NULL;
		j->cmc_len = 0;
	}
	if (ca->hooks.signature != NULL)
		ca->hooks.signature(ca->hooks.arg);
	log_info("request %u: issued %s serial %s to %s", id, s->tmpl->cn, j->hex,
	    s->requester.name ? s->requester.name : "-");
	{
		char detail[160];
		snprintf(detail, sizeof(detail), "serial=%s subject=%.100s%s", j->hex, j->subj,
		    s->renewal ? " renewal" : "");
		ca_audit(ca, "issue", id, s->requester.name, s->tmpl->cn, detail);
	}
	return OC_OK;
}

static int
pend(struct oc_ca *ca, struct ca_job *j, struct oc_ca_result *res)
{
	static const char msg[] = "Taken Under Submission";
	struct order_state *s = &j->s;
	int r;

	if ((r = oc_store_request_resolve(ca->store, j->id, OC_REQ_STATUS_PENDING, 0, msg)) != OC_OK)
		return r;
	res->disposition = OC_DISP_UNDER_SUBMISSION;
	res->hresult = OC_HR_S_OK;
	if ((res->message = strdup(msg)) == NULL)
		return OC_ERR_NOMEM;
	if (j->cmc_r != OC_OK) {
		error_fr(j->cmc_r, "CMC response for request %u", j->id);
	} else {
		res->cmc = j->cmc;
		res->cmc_len = j->cmc_len;
		j->cmc = NULL;
		j->cmc_len = 0;
	}
	log_info("request %u: %s for %s pending approval", j->id, s->tmpl->cn,
	    s->requester.name ? s->requester.name : "-");
	ca_audit(ca, "pending", j->id, s->requester.name, s->tmpl->cn, msg);
	return OC_OK;
}

static int
deny(struct oc_ca *ca, uint32_t id, const char *requester, struct order_state *s,
    struct oc_ca_result *res)
{
	const char *tn = s->tmpl ? s->tmpl->cn : NULL;
	char detail[OC_DISPOSITION_MAX + 32];
	int r;

	if ((r = oc_store_request_resolve(ca->store, id, OC_REQ_STATUS_DENIED, s->d.hresult,
	    s->d.msg)) != OC_OK)
		return r;
	res->disposition = OC_DISP_DENIED;
	res->hresult = s->d.hresult;
	if ((res->message = strdup(s->d.msg)) == NULL)
		return OC_ERR_NOMEM;
	log_info("request %u denied (0x%08x): %s", id, s->d.hresult, s->d.msg);
	snprintf(detail, sizeof(detail), "hresult=0x%08x %s", s->d.hresult, s->d.msg);
	ca_audit(ca, "deny", id, requester, tn, detail);
	return OC_OK;
}

/* The checks in order; 0 = go on, 1 = denied (s->d set), < 0 = CA failure. */
static int
decide(struct oc_ca *ca, const struct oc_ca_order *o, struct order_state *s)
{
	int r;

	r = pkix_request_parse(o->request, o->request_len, &s->ri);
	if (r == OC_ERR_DER || r == OC_ERR_LIMIT)
		return ca_deny(&s->d, OC_HR_CRYPT_E_ASN1_EOD, "The request cannot be decoded "
		    "(truncated or not DER)");
	if (r == OC_ERR_PARSE)
		return ca_deny(&s->d, OC_HR_CRYPT_E_ASN1_BADTAG, "The request is not a PKCS#10, "
		    "CMS or CMC certificate request");
	if (r != OC_OK)
		return r;
	if (s->ri.csr == NULL)
		return ca_deny(&s->d, OC_HR_CRYPT_E_ASN1_BADTAG, "The request carries no PKCS#10 "
		    "certificate request");
	if (!s->ri.csr_signature_ok)
		return ca_deny(&s->d, OC_HR_NTE_BAD_SIGNATURE, "The signature of the PKCS#10 "
		    "request does not verify with its public key");
	if (s->ri.format != OC_REQ_PKCS10 && s->ri.signer != NULL) {
		if ((r = check_renewal(ca, o, s)) != OC_OK)
			return r;
	} else {
		if (o->flags & OC_ORDER_F_RENEWAL_ONLY)
			return ca_deny(&s->d, OC_HR_E_ACCESSDENIED, "This enrollment endpoint "
			    "accepts renewals only (a request signed with the certificate to "
			    "renew)");
		if ((r = load_requester(ca, &o->requester, o->requester.name,
		    &s->requester)) != OC_OK)
			return r;
	}
	if ((r = identify_template(ca, o, s)) != OC_OK ||
	    (r = check_published(ca, s)) != OC_OK ||
	    (r = check_enroll_right(ca, s)) != OC_OK ||
	    (r = check_request_names(ca, s)) != OC_OK ||
	    (r = check_key(s)) != OC_OK)
		return r;
	return OC_OK;
}

int
ca_job_begin(struct oc_ca *ca, const struct oc_ca_order *o, struct ca_job **jp)
{
	struct ca_job *j;

	*jp = NULL;
	if (ca == NULL || o == NULL)
		return OC_ERR_INVALID;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return OC_ERR_NOMEM;
	j->o = o;
	j->cmc_r = OC_ERR_INVALID;
	/* every order gets a RequestID, even the ones denied below */
	if (ca->idem_window > 0) {
		uint8_t fp[32];
		if ((j->r = ca_order_fingerprint(o, fp)) == OC_OK)
			j->r = oc_store_request_new_fp(ca->store, o->requester.name ?
			    o->requester.name : "", o->template_hint, o->request, o->request_len,
			    fp, &j->id);
	} else
		j->r = oc_store_request_new(ca->store, o->requester.name ? o->requester.name : "",
		    o->template_hint, o->request, o->request_len, &j->id);
	if (j->r != OC_OK)
		error_fr(j->r, "recording the request");
	*jp = j;
	return OC_OK;
}

int
ca_job_begin_approved(struct oc_ca *ca, const struct oc_ca_order *o, uint32_t request_id,
    struct ca_job **jp)
{
	struct ca_job *j;

	*jp = NULL;
	if (ca == NULL || o == NULL || request_id == 0)
		return OC_ERR_INVALID;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return OC_ERR_NOMEM;
	j->o = o;
	j->cmc_r = OC_ERR_INVALID;
	j->id = request_id;
	j->approved = 1;
	*jp = j;
	return OC_OK;
}

void
ca_job_work(struct oc_ca *ca, struct ca_job *j)
{
	struct ca_issue_input in;
	int r;

	if (j == NULL || j->r != OC_OK)
		return;
	if ((r = decide(ca, j->o, &j->s)) == 0) {
		in = (struct ca_issue_input){ j->s.tmpl, &j->s.requester, &j->s.ri };
		r = ca_build_names(&in, &j->subject, &j->san, &j->s.d);
	}
	if (r == 0 && job_pends(j))
		j->cmc_r = cmc_for(ca, NULL, 3, j->s.ri.body_part_id, "Taken Under Submission",
		    &j->cmc, &j->cmc_len);
	else if (r == 0 && ((j->subj = name_text(j->subject)) == NULL))
		r = OC_ERR_NOMEM;
	else if (r == 0)
		r = sign_cert(ca, j);
	j->r = r;
}

int
ca_job_end(struct oc_ca *ca, struct ca_job *j, struct oc_ca_result *res)
{
	const char *requester;
	uint32_t id;
	int r;

	memset(res, 0, sizeof(*res));
	if (ca == NULL || j == NULL)
		return OC_ERR_INVALID;
	id = j->id;
	requester = j->o->requester.name ? j->o->requester.name : "";
	res->request_id = id;
	if ((r = j->r) < 0)
		goto fail;
	if (j->s.tmpl != NULL && oc_store_request_set_template(ca->store, id,
	    j->s.tmpl->cn) != OC_OK)
		log_error("request %u: template not recorded", id);
	if (r == 1) {
		if ((r = deny(ca, id, requester, &j->s, res)) != OC_OK)
			goto fail;
		return OC_OK;
	}
	if (job_pends(j))
		r = pend(ca, j, res);
	else
		r = issue(ca, j, res);
	if (r == OC_OK)
		return OC_OK;
fail:
	oc_ca_result_clear(res);
	res->request_id = id;
	res->disposition = OC_DISP_ERROR;
	res->hresult = OC_HR_NTE_FAIL;
	res->message = strdup("The CA could not process the request (internal error)");
	if (id != 0 && oc_store_request_resolve(ca->store, id, OC_REQ_STATUS_FAILED,
	    OC_HR_NTE_FAIL, "internal error") != OC_OK)
		log_error("could not mark request %u failed", id);
	return r;
}

void
ca_job_free(struct ca_job *j)
{
	if (j == NULL)
		return;
	job_drop_cert(j);
	X509_NAME_free(j->subject);
	GENERAL_NAMES_free(j->san);
	free(j->subj);
	state_clear(&j->s);
	free(j);
}

int
oc_ca_process_order(struct oc_ca *ca, const struct oc_ca_order *o, struct oc_ca_result *res)
{
	struct ca_job *j = NULL;
	int r, replayed = 0;

	memset(res, 0, sizeof(*res));
	if (ca == NULL || o == NULL)
		return OC_ERR_INVALID;
	/* the same order again within the window: the first one's decision */
	if ((r = ca_replay(ca, o, res, &replayed)) != OC_OK || replayed)
		return r;
	if ((r = ca_job_begin(ca, o, &j)) != OC_OK) {
		res->disposition = OC_DISP_ERROR;
		res->hresult = OC_HR_NTE_FAIL;
		res->message = strdup("The CA could not process the request (internal error)");
		return r;
	}
	ca_job_work(ca, j);
	r = ca_job_end(ca, j, res);
	ca_job_free(j);
	return r;
}
