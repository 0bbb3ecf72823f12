/*
 * Idempotent issuance: a client that did not get the answer to an ISSUE
 * order (a lost connection, a timeout, a failover to another URI) sends the
 * same order again. Within [ca] idempotence_window_seconds the CA answers it
 * from the store with the first order's decision -- the same RequestID and
 * the same certificate, the same pending answer, the same denial -- instead
 * of issuing a second certificate for one request.
 *
 * The fingerprint is SHA-256 over the requester's name, a NUL, the template
 * as requested (the RequestSecurityToken's context hint, else the
 * CertificateTemplate request attribute Windows sends, else ""), a NUL and
 * the request's DER: a different requester, another template or another
 * request (a new key, a new nonce in a CMC wrapper) is a new order.
 */
#include "ca/ca_local.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/log.h"
#include "model/hresult.h"

int
ca_order_fingerprint(const struct oc_ca_order *o, uint8_t fp[32])
{
	static const uint8_t nul = 0;
	const char *who = o->requester.name ? o->requester.name : "";
	const char *tmpl = o->template_hint;
	char *attr = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned int n = 0;
	int r = OC_ERR_CRYPTO;

	/* a malformed attribute is left out here: the order is denied for it anyway */
	if (tmpl == NULL && ca_attr_template(o->request_attributes, &attr) == OC_OK)
		tmpl = attr;
	if (tmpl == NULL)
		tmpl = "";
	if ((md = EVP_MD_CTX_new()) == NULL) {
		free(attr);
		return OC_ERR_NOMEM;
	}
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, who, strlen(who)) == 1 &&
	    EVP_DigestUpdate(md, &nul, 1) == 1 &&
	    EVP_DigestUpdate(md, tmpl, strlen(tmpl)) == 1 &&
	    EVP_DigestUpdate(md, &nul, 1) == 1 &&
	    (o->request_len == 0 || EVP_DigestUpdate(md, o->request, o->request_len) == 1) &&
	    EVP_DigestFinal_ex(md, fp, &n) == 1 && n == 32)
		r = OC_OK;
	EVP_MD_CTX_free(md);
	free(attr);
	return r;
}

/* The newest request with fp inside the window that a replay may answer. */
static int
find(struct oc_ca *ca, const struct oc_ca_order *o, const uint8_t fp[32],
    struct oc_store_request *q, int *found)
{
	time_t since = time(NULL) - ca->idem_window;
	int r;

	*found = 0;
	r = oc_store_request_by_fp(ca->store, fp, since, q);
	if (r == OC_ERR_NOT_FOUND)
		return OC_OK;
	if (r != OC_OK)
		return r;
	/* a request the CA failed to process is processed again */
	*found = q->status == OC_REQ_STATUS_ISSUED || q->status == OC_REQ_STATUS_PENDING ||
	    q->status == OC_REQ_STATUS_DENIED;
	/* a certificate or a pending request is handed out again only while the right holds */
	if (*found && q->status != OC_REQ_STATUS_DENIED &&
	    (r = ca_may_enroll(ca, o, q->template_name, found)) != OC_OK)
		*found = 0;
	return r;
}

int
ca_replay_exists(struct oc_ca *ca, const struct oc_ca_order *o, const uint8_t fp[32],
    int *exists)
{
	struct oc_store_request q;
	int r;

	*exists = 0;
	if (ca == NULL || ca->idem_window <= 0)
		return OC_OK;
	memset(&q, 0, sizeof(q));
	r = find(ca, o, fp, &q, exists);
	oc_store_request_clear(&q);
	return r;
}

int
ca_replay(struct oc_ca *ca, const struct oc_ca_order *o, struct oc_ca_result *res,
    int *replayed)
{
	struct oc_store_request q;
	struct oc_ca_order qo;
	uint8_t fp[32];
	char detail[96];
	int r, found = 0;

	*replayed = 0;
	memset(&q, 0, sizeof(q));
	if (ca == NULL || o == NULL || ca->idem_window <= 0)
		return OC_OK;
	if ((r = ca_order_fingerprint(o, fp)) != OC_OK ||
	    (r = find(ca, o, fp, &q, &found)) != OC_OK || !found)
		goto out;
	/* the stored request answers like a QueryTokenStatus of its RequestID */
	qo = *o;
	qo.request_id = q.request_id;
	r = oc_ca_process_query(ca, &qo, res);
	*replayed = 1;
	snprintf(detail, sizeof(detail), "replayed %s%s%.*s",
	    q.status == OC_REQ_STATUS_ISSUED ? "issued" :
	    q.status == OC_REQ_STATUS_PENDING ? "pending" : "denied",
	    q.serial_hex ? " serial=" : "", q.serial_hex ? OC_SERIAL_HEX_MAX : 0,
	    q.serial_hex ? q.serial_hex : "");
	log_info("request %u: the same order again within %d s; %s", q.request_id,
	    ca->idem_window, detail);
	ca_audit(ca, "issue-replayed", q.request_id, q.requester, q.template_name, detail);
	if (ca->hooks.replay != NULL)
		ca->hooks.replay(ca->hooks.arg);
out:
	if (r != OC_OK && !*replayed) {
		error_fr(r, "looking up an earlier order");
		oc_ca_result_clear(res);
		memset(res, 0, sizeof(*res));
		res->disposition = OC_DISP_ERROR;
		res->hresult = OC_HR_NTE_FAIL;
		res->message = strdup("The CA could not look up the request (internal error)");
		*replayed = 1;
	}
	oc_store_request_clear(&q);
	return r;
}
