/*
 * The CA process: open its store, directory and key, then answer frames from
 * the front end until the socket closes, in batches: every order already
 * waiting (up to CA_BATCH_MAX) is decided and signed on a small pool of
 * threads (ca_pool.c), the batch's store writes are made on the CA thread and
 * commit in one transaction, then the answers go out (group commit).
 */
#include "ca/ca_local.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "ipc/frame.h"
#include "model/hresult.h"

int
oc_ca_open(const struct oc_ca_config *cfg, struct oc_ca **cap)
{
	struct oc_ca *ca = NULL;
	int r = OC_ERR_NOMEM;

	*cap = NULL;
	if (cfg == NULL || cfg->dir_path == NULL || cfg->store_path == NULL ||
	    cfg->key_file == NULL || cfg->cert_file == NULL)
		return OC_ERR_INVALID;
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return OC_ERR_NOMEM;
	if ((ca->name = strdup(cfg->ca_name ? cfg->ca_name : OC_CA_DEFAULT_NAME)) == NULL ||
	    (cfg->aia_url && (ca->aia_url = strdup(cfg->aia_url)) == NULL) ||
	    (cfg->cdp_url && (ca->cdp_url = strdup(cfg->cdp_url)) == NULL))
		goto out;
	if ((r = ca_load_key_cert(cfg->key_file, cfg->cert_file, &ca->key, &ca->cert)) != OC_OK)
		goto out;
	r = OC_ERR_NOMEM;
	if ((ca->chain = sk_X509_new_null()) == NULL || X509_up_ref(ca->cert) != 1)
		goto out;
	if (sk_X509_push(ca->chain, ca->cert) <= 0) {
		X509_free(ca->cert);
		goto out;
	}
	ca->refuse_names = cfg->refuse_request_names != 0;
	ca->accounts_from_front = cfg->accounts_from_front != 0;
	ca->idem_window = cfg->idempotence_window_seconds > 0 ?
	    cfg->idempotence_window_seconds : 0;
	if (cfg->hooks != NULL)
		ca->hooks = *cfg->hooks;
	if ((r = oc_store_open(cfg->store_path, &ca->store)) != OC_OK) {
		char shown[512];

		oc_store_url_redact(cfg->store_path, shown, sizeof(shown));
		error_fr(r, "store %s", shown);
		goto out;
	}
	if ((r = oc_dir_open_ro(cfg->dir_path, &ca->dir)) != OC_OK) {
		error_fr(r, "directory %s", cfg->dir_path);
		goto out;
	}
	*cap = ca;
	ca = NULL;
	r = OC_OK;
out:
	oc_ca_close(ca);
	return r;
}

void
oc_ca_close(struct oc_ca *ca)
{
	if (ca == NULL)
		return;
	oc_dir_close(ca->dir);
	oc_store_close(ca->store);
	sk_X509_pop_free(ca->chain, X509_free);
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca->name);
	free(ca->aia_url);
	free(ca->cdp_url);
	free(ca);
}

X509 *
oc_ca_get0_cert(const struct oc_ca *ca)
{
	return ca ? ca->cert : NULL;
}

static int
result_text(struct oc_ca_result *res, uint32_t disp, uint32_t hr, const char *msg)
{
	res->disposition = disp;
	res->hresult = hr;
	return (res->message = strdup(msg)) ? OC_OK : OC_ERR_NOMEM;
}

/* body_part_id of a stored request, for a fresh CMC answer (1 if unknown). */
static uint32_t
stored_body_part_id(const struct oc_store_request *q)
{
	struct oc_req_info ri;
	uint32_t id = 1;

	memset(&ri, 0, sizeof(ri));
	if (q->request_der != NULL &&
	    pkix_request_parse(q->request_der, q->request_der_len, &ri) == OC_OK &&
	    ri.body_part_id != 0)
		id = ri.body_part_id;
	oc_req_info_clear(&ri);
	return id;
}

int
oc_ca_process_query(struct oc_ca *ca, const struct oc_ca_order *o, struct oc_ca_result *res)
{
	struct oc_store_request q;
	struct oc_store_cert c;
	X509 *x = NULL;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&q, 0, sizeof(q));
	memset(&c, 0, sizeof(c));
	if (ca == NULL || o == NULL)
		return OC_ERR_INVALID;
	r = o->request_id ? oc_store_request_get(ca->store, o->request_id, &q) : OC_ERR_NOT_FOUND;
	if (r != OC_OK && r != OC_ERR_NOT_FOUND)
		goto out;
	/* someone else's request looks exactly like an unknown one */
	if (r == OC_ERR_NOT_FOUND || q.requester == NULL || o->requester.name == NULL ||
	    strcmp(q.requester, o->requester.name) != 0) {
		r = result_text(res, OC_DISP_ERROR, OC_HR_CERTSRV_E_NO_REQUEST,
		    "No request with this RequestID was made by this requester");
		goto out;
	}
	res->request_id = q.request_id;
	switch (q.status) {
	case OC_REQ_STATUS_ISSUED:
		if ((r = oc_store_cert_by_request(ca->store, q.request_id, &c)) != OC_OK ||
		    (r = pkix_cert_from_der(c.der, c.der_len, &x)) != OC_OK)
			goto out;
		if ((r = result_text(res, OC_DISP_ISSUED, OC_HR_S_OK, "Issued")) != OC_OK ||
		    (res->cert = malloc(c.der_len)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		memcpy(res->cert, c.der, c.der_len);
		res->cert_len = c.der_len;
		r = pkix_cmc_response(ca->cert, ca->key, x, ca->chain, 0, stored_body_part_id(&q),
		    "Issued", &res->cmc, &res->cmc_len);
		break;
	case OC_REQ_STATUS_PENDING:
		if (q.approved) {
			/* approved by an administrator: decided again, issued now */
			r = ca_issue_approved(ca, o, &q, res);
			break;
		}
		if ((r = result_text(res, OC_DISP_UNDER_SUBMISSION, OC_HR_S_OK,
		    "Taken Under Submission")) != OC_OK)
			goto out;
		r = pkix_cmc_response(ca->cert, ca->key, NULL, ca->chain, 3,
		    stored_body_part_id(&q), "Taken Under Submission", &res->cmc, &res->cmc_len);
		break;
	default:
		r = result_text(res, q.status == OC_REQ_STATUS_DENIED ? OC_DISP_DENIED :
		    OC_DISP_ERROR, q.hresult ? q.hresult : OC_HR_E_FAIL,
		    q.disposition ? q.disposition : "Denied");
		break;
	}
out:
	if (r != OC_OK) {
		uint32_t id = res->request_id;
		oc_ca_result_clear(res);
		res->request_id = id;
		res->disposition = OC_DISP_ERROR;
		res->hresult = OC_HR_NTE_FAIL;
		res->message = strdup("The CA could not look up the request (internal error)");
	}
	X509_free(x);
	oc_store_request_clear(&q);
	oc_store_cert_clear(&c);
	return r;
}

/*
 * One frame of a batch: the order as received, its encoded RESULT, and what
 * is needed to take the answer back if the batch does not commit.
 */
struct ca_slot {
	uint32_t type, tag;
	uint32_t out_type;            /* the answer's frame type */
	uint32_t request_id;          /* ISSUE: the RequestID the answer names */
	struct ocbuf in, out;
	/* ISSUE: the decoded order and its job (decided and signed on the pool) */
	int decoded;
	struct oc_ca_order o;
	struct ca_job *job;
	/* idempotence: answered from the store (an earlier order, or one before it in the batch) */
	int replay;
	uint8_t fp[32];
};

static void
slot_clear(struct ca_slot *slot)
{
	ca_job_free(slot->job);
	slot->job = NULL;
	oc_ca_order_clear(&slot->o);
	memset(&slot->o, 0, sizeof(slot->o));
	slot->decoded = 0;
	slot->replay = 0;
}

void
ca_heartbeat(struct oc_ca *ca)
{
	if (ca != NULL && ca->hooks.heartbeat != NULL)
		ca->hooks.heartbeat(ca->hooks.arg);
}

/* An ISSUE order answered: tell the hooks how. */
static void
count_order(struct oc_ca *ca, const struct oc_ca_result *res)
{
	if (ca->hooks.order != NULL)
		ca->hooks.order(ca->hooks.arg, res->disposition);
}

/* A CERT_STATUS question in, a STATUS_RESULT out (a bad question: status ERROR). */
static int
dispatch_status(struct oc_ca *ca, struct ca_slot *slot)
{
	struct oc_ca_cert_status st = { .status = OC_CERT_STATUS_ERROR };
	char *serial = NULL;
	int r;

	if ((r = oc_ca_status_query_decode(&slot->in, &serial)) != OC_OK)
		error_fr(r, "malformed certificate status question");
	else if ((r = oc_ca_process_cert_status(ca, serial, &st)) != OC_OK)
		error_fr(r, "certificate status of %s", serial);
	free(serial);
	ocbuf_reset(&slot->out);
	return oc_ca_cert_status_encode(&st, &slot->out);
}

/* One frame in, one RESULT payload out (slot->out). */
static int
dispatch(struct oc_ca *ca, struct ca_slot *slot)
{
	struct oc_ca_order o;
	struct oc_ca_result res;
	uint32_t type = slot->type;
	int r, replayed;

	memset(&o, 0, sizeof(o));
	memset(&res, 0, sizeof(res));
	slot->request_id = 0;
	slot->out_type = OC_CA_MSG_RESULT;
	if (type == OC_CA_MSG_CERT_STATUS) {
		slot->out_type = OC_CA_MSG_STATUS_RESULT;
		return dispatch_status(ca, slot);
	}
	switch (type) {
	case OC_CA_MSG_PING:
		r = result_text(&res, OC_DISP_INCOMPLETE, OC_HR_S_OK, "");
		break;
	case OC_CA_MSG_ISSUE:
		if (!slot->decoded) {
			r = result_text(&res, OC_DISP_ERROR, OC_HR_E_INVALIDARG,
			    "Malformed order from the front end");
			break;
		}
		/* an earlier decision of the same order (idempotence), else this one's */
		replayed = 0;
		r = slot->replay ? ca_replay(ca, &slot->o, &res, &replayed) : OC_OK;
		if (!replayed) {
			r = slot->job != NULL ? ca_job_end(ca, slot->job, &res) :
			    oc_ca_process_order(ca, &slot->o, &res);
			count_order(ca, &res);
		}
		if (r != OC_OK)
			error_fr(r, "order failed");
		slot->request_id = res.request_id;
		r = res.message ? OC_OK : OC_ERR_NOMEM;
		break;
	case OC_CA_MSG_QUERY:
		if ((r = oc_ca_order_decode(&slot->in, &o)) != OC_OK) {
			error_fr(r, "malformed order");
			r = result_text(&res, OC_DISP_ERROR, OC_HR_E_INVALIDARG,
			    "Malformed order from the front end");
			break;
		}
		if ((r = oc_ca_process_query(ca, &o, &res)) != OC_OK)
			error_fr(r, "order failed");
		slot->request_id = res.request_id;
		/* the result says OC_DISP_ERROR; the loop goes on */
		r = res.message ? OC_OK : OC_ERR_NOMEM;
		break;
	default:
		log_error("unexpected frame type %u", type);
		r = result_text(&res, OC_DISP_ERROR, OC_HR_E_INVALIDARG, "Unknown message type");
		break;
	}
	if (r == OC_OK) {
		ocbuf_reset(&slot->out);
		r = oc_ca_result_encode(&res, &slot->out);
	}
	oc_ca_order_clear(&o);
	oc_ca_result_clear(&res);
	return r;
}

/* The batch did not commit: nothing of it is stored, no ISSUE order is decided. */
static int
take_back(struct ca_slot *slot)
{
	struct oc_ca_result res;
	char id[16];
	int r;

	if (slot->type != OC_CA_MSG_ISSUE)
		return OC_OK;
	snprintf(id, sizeof(id), "%u", slot->request_id);
	oc_audit("rollback", "request_id", id, "detail", "not stored: batch commit failed",
	    (char *)NULL);
	memset(&res, 0, sizeof(res));
	if ((r = result_text(&res, OC_DISP_ERROR, OC_HR_NTE_FAIL, "The CA could not record "
	    "the request (internal error)")) == OC_OK) {
		ocbuf_reset(&slot->out);
		r = oc_ca_result_encode(&res, &slot->out);
	}
	oc_ca_result_clear(&res);
	return r;
}

/*
 * Decide every order of the batch inside one store transaction, commit it
 * once (group commit), and only then send the answers, each with the tag of
 * its order. Without a transaction (BEGIN failed) each write commits on its
 * own, as before. Returns an error only for a broken stream or memory.
 */
/*
 * Idempotence: an order answered by an earlier decision, either one stored
 * within the window or an identical order earlier in this batch (whose
 * decision is written, in this transaction, before this one is answered).
 * A lookup that fails decides the order as new.
 */
static int
is_replay(struct oc_ca *ca, struct ca_slot *slots, size_t i)
{
	int exists = 0;

	if (ca_order_fingerprint(&slots[i].o, slots[i].fp) != OC_OK)
		return 0;
	for (size_t k = 0; k < i; k++)
		if (slots[k].type == OC_CA_MSG_ISSUE && slots[k].decoded &&
		    memcmp(slots[k].fp, slots[i].fp, sizeof(slots[i].fp)) == 0)
			return 1;
	if (ca_replay_exists(ca, &slots[i].o, slots[i].fp, &exists) != OC_OK)
		return 0;
	return exists;
}

/*
 * The ISSUE orders of a batch: RequestID rows first (CA thread), then decided,
 * built and signed on the pool; dispatch writes their decisions in order.
 */
static void
prepare_issues(struct oc_ca *ca, struct ca_pool *pool, struct ca_slot *slots, size_t n)
{
	struct ca_job *jobs[CA_BATCH_MAX];
	size_t nj = 0;
	int r;

	for (size_t i = 0; i < n && i < CA_BATCH_MAX; i++) {
		struct ca_slot *slot = &slots[i];
		if (slot->type != OC_CA_MSG_ISSUE)
			continue;
		if ((r = oc_ca_order_decode(&slot->in, &slot->o)) != OC_OK) {
			error_fr(r, "malformed order");
			continue;
		}
		slot->decoded = 1;
		if (ca->idem_window > 0 && (slot->replay = is_replay(ca, slots, i)))
			continue;
		/* without a job (no memory) dispatch decides the order on its own */
		if (ca_job_begin(ca, &slot->o, &slot->job) == OC_OK)
			jobs[nj++] = slot->job;
	}
	ca_pool_run(pool, ca, jobs, nj);
}

static int
serve_batch(struct oc_ca *ca, struct ca_pool *pool, int fd, struct ca_slot *slots, size_t n)
{
	int r = OC_OK, batched;

	batched = oc_store_batch_begin(ca->store) == OC_OK;
	if (!batched)
		log_error("store transaction not started; committing order by order");
	prepare_issues(ca, pool, slots, n);
	for (size_t i = 0; i < n; i++) {
		r = dispatch(ca, &slots[i]);
		slot_clear(&slots[i]);
		if (r != OC_OK) {
			error_fr(r, "answering a frame");
			for (size_t k = i + 1; k < n; k++)
				slot_clear(&slots[k]);
			oc_store_batch_rollback(ca->store);
			return r;
		}
	}
	if (batched) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = oc_store_batch_commit(ca->store);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (ca->hooks.batch != NULL)
			ca->hooks.batch(ca->hooks.arg, n, (uint64_t)((t1.tv_sec - t0.tv_sec) *
			    1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000), r == OC_OK);
	}
	ca_heartbeat(ca);
	if (batched && r != OC_OK) {
		error_fr(r, "committing a batch of %zu orders", n);
		for (size_t i = 0; i < n; i++)
			if ((r = take_back(&slots[i])) != OC_OK)
				return r;
	}
	for (size_t i = 0; i < n; i++)
		if ((r = oc_frame_send_tagged(fd, slots[i].out_type, slots[i].tag,
		    &slots[i].out)) != OC_OK) {
			error_fr(r, "sending a result");
			return r;
		}
	return OC_OK;
}

/* A frame (or the end of the stream) is waiting to be read. */
static int
frame_ready(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;

	while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
		;
	return n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

int
oc_ca_serve(const struct oc_ca_config *cfg, int fd)
{
	struct oc_ca *ca = NULL;
	struct ca_pool *pool = NULL;
	struct ca_crl *crl = NULL;
	struct ca_slot *slots = NULL;
	size_t n;
	int r, end = 0;

	if ((slots = calloc(CA_BATCH_MAX, sizeof(*slots))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < CA_BATCH_MAX; i++) {
		ocbuf_init(&slots[i].in, OC_IPC_FRAME_MAX);
		ocbuf_init(&slots[i].out, OC_IPC_FRAME_MAX);
	}
	if ((r = oc_ca_open(cfg, &ca)) != OC_OK) {
		error_fr(r, "CA not started");
		goto out;
	}
	if ((r = ca_pool_start(cfg, ca, cfg->sign_threads, &pool)) != OC_OK)
		error_fr(r, "signing threads not started; the CA thread signs alone");
	if ((r = ca_crl_start(ca, cfg, &crl)) != OC_OK)
		goto out;
	log_info("CA \"%s\" ready", ca->name);
	if (ca->hooks.ready != NULL)
		ca->hooks.ready(ca->hooks.arg);
	while (!end) {
		/* wait for one frame, then take every frame already there */
		n = 0;
		ca_crl_wait(crl, ca, fd);   /* scheduled and requested CRLs meanwhile */
		while (n < CA_BATCH_MAX && (n == 0 || frame_ready(fd))) {
			r = oc_frame_recv_tagged(fd, &slots[n].type, &slots[n].tag, &slots[n].in);
			if (r != OC_OK) {
				if (r == OC_ERR_EOF)
					r = OC_OK;
				else
					error_fr(r, "receiving a frame");
				end = 1;
				break;
			}
			n++;
		}
		if (n > 0) {
			int rb = serve_batch(ca, pool, fd, slots, n);
			if (rb != OC_OK) {
				r = rb;
				break;
			}
		}
	}
out:
	ca_crl_stop(crl);
	ca_pool_stop(pool);
	for (size_t i = 0; i < CA_BATCH_MAX; i++) {
		ocbuf_free(&slots[i].in);
		ocbuf_free(&slots[i].out);
	}
	free(slots);
	oc_ca_close(ca);
	return r;
}
