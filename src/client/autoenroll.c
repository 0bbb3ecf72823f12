/*
 * `opences autoenroll`: one pass fetches the policy, plans (pure functions at
 * the top of this file), enrolls or renews with the flows of enroll.c and
 * renew.c, sets superseded templates aside and saves state.json after every
 * change. --daemon repeats passes until SIGTERM/SIGINT, waking at the
 * earliest of the next renewal point, the next back-off and --interval.
 */
#include "client/autoenroll.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "common/log.h"
#include "model/template.h"

/* ------------------------------------------------------------------ */
/* Decisions */

const char *
client_ae_action_name(enum client_ae_action a)
{
	switch (a) {
	case CLIENT_AE_NOTHING: return "nothing";
	case CLIENT_AE_ENROLL:  return "enroll";
	case CLIENT_AE_RENEW:   return "renew";
	case CLIENT_AE_WAIT:    return "wait";
	case CLIENT_AE_RETIRE:  return "retire";
	case CLIENT_AE_SKIP:    return "skip";
	default:                return "?";
	}
}

const char *
client_ae_result_name(enum client_ae_result r)
{
	switch (r) {
	case CLIENT_AE_R_ENROLLED:    return "enrolled";
	case CLIENT_AE_R_RENEWED:     return "renewed";
	case CLIENT_AE_R_PENDING:     return "pending";
	case CLIENT_AE_R_DENIED:      return "denied";
	case CLIENT_AE_R_NOT_OFFERED: return "not-offered";
	case CLIENT_AE_R_UNREACHABLE: return "unreachable";
	case CLIENT_AE_R_ERROR:       return "error";
	default:                      return "none";
	}
}

const char *
client_ae_ineligible(const struct client_template *t)
{
	if (!t->auto_enroll)
		return "no autoEnroll permission";
	if (!t->enroll)
		return "no enroll permission";
	if ((t->enrollment_flags & OC_CT_ENROLL_AUTO_ENROLLMENT) == 0)
		return "enrollmentFlags lacks AUTO_ENROLLMENT";
	if (t->subject_name_flags & OC_CT_NAME_ENROLLEE_SUPPLIES_SUBJECT)
		return "the subject must come from the request";
	return NULL;
}

int64_t
client_ae_renew_at(int64_t not_before, int64_t not_after, uint64_t renewal_seconds)
{
	int64_t life = not_after - not_before;

	if (not_before <= 0 || life <= 0)
		return renewal_seconds > 0 && renewal_seconds < (uint64_t)INT64_MAX / 2 ?
		    not_after - (int64_t)renewal_seconds : not_after;
	if (renewal_seconds > 0 && renewal_seconds < (uint64_t)life)
		return not_after - (int64_t)renewal_seconds;
	return not_before + life / 100 * CLIENT_AE_RENEW_PERCENT +
	    life % 100 * CLIENT_AE_RENEW_PERCENT / 100;
}

int64_t
client_ae_backoff(uint32_t failures)
{
	int64_t d = CLIENT_AE_BACKOFF_BASE;

	if (failures == 0)
		return 0;
	for (uint32_t i = 1; i < failures && d < CLIENT_AE_BACKOFF_MAX; i++)
		d *= 2;
	return d < CLIENT_AE_BACKOFF_MAX ? d : CLIENT_AE_BACKOFF_MAX;
}

static int
has_cert(const struct client_ae_entry *e)
{
	return e != NULL && e->cert_file != NULL && e->key_file != NULL && e->not_after > 0;
}

static int
holds_valid(const struct client_ae_entry *e, int64_t now)
{
	return has_cert(e) && now < e->not_after;
}

enum client_ae_action
client_ae_decide(const struct client_ae_entry *e, uint64_t renewal_seconds, int64_t now,
    int64_t *next)
{
	int64_t at;

	*next = INT64_MAX;
	if (e == NULL)
		return CLIENT_AE_ENROLL;
	if (e->next_attempt > now) {
		*next = e->next_attempt;
		return CLIENT_AE_WAIT;
	}
	if (!has_cert(e) || now >= e->not_after)
		return CLIENT_AE_ENROLL;
	at = client_ae_renew_at(e->not_before, e->not_after, renewal_seconds);
	if (now >= at)
		return e->failures >= CLIENT_AE_RENEW_TRIES ? CLIENT_AE_ENROLL : CLIENT_AE_RENEW;
	*next = at;
	return CLIENT_AE_NOTHING;
}

/* The managed template (other than self) whose supersededPolicies names cn. */
static size_t
superseder(const struct client_ae_tpl *tpls, size_t n, const char *cn, size_t self)
{
	for (size_t i = 0; i < n; i++)
		if (i != self && tpls[i].superseded != NULL &&
		    oc_strlist_contains_ci(tpls[i].superseded, cn))
			return i;
	return CLIENT_AE_NONE;
}

static size_t
entry_index(const struct client_ae_state *st, const char *cn)
{
	const struct client_ae_entry *e = client_ae_state_find(st, cn);

	return e == NULL ? CLIENT_AE_NONE : (size_t)(e - st->v);
}

int
client_ae_plan(const struct client_ae_tpl *tpls, size_t ntpls, const struct client_ae_state *st,
    int64_t now, struct client_ae_step **steps, size_t *nsteps, int64_t *next)
{
	struct client_ae_step *v = NULL;
	size_t n = 0, nst = st != NULL ? st->n : 0;

	*steps = NULL;
	*nsteps = 0;
	*next = INT64_MAX;
	if (ntpls + nst == 0)
		return OC_OK;
	if ((v = calloc(ntpls + nst, sizeof(*v))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < ntpls; i++) {
		size_t ei = entry_index(st, tpls[i].cn), by = superseder(tpls, ntpls, tpls[i].cn, i);
		const struct client_ae_entry *e = ei == CLIENT_AE_NONE ? NULL : &st->v[ei];
		int64_t when = INT64_MAX;

		v[n].tpl = i;
		v[n].entry = ei;
		v[n].by = by;
		if (by != CLIENT_AE_NONE) {
			v[n].action = e != NULL &&
			    holds_valid(client_ae_state_find(st, tpls[by].cn), now) ?
			    CLIENT_AE_RETIRE : CLIENT_AE_SKIP;
		} else {
			v[n].action = client_ae_decide(e, tpls[i].renewal_seconds, now, &when);
			if (when < *next)
				*next = when;
		}
		n++;
	}
	/* entries of templates no longer managed */
	for (size_t k = 0; k < nst; k++) {
		size_t by = CLIENT_AE_NONE, managed = 0;

		for (size_t i = 0; i < ntpls && !managed; i++)
			managed = strcasecmp(tpls[i].cn, st->v[k].template_name) == 0;
		if (managed)
			continue;
		by = superseder(tpls, ntpls, st->v[k].template_name, CLIENT_AE_NONE);
		if (by == CLIENT_AE_NONE || !holds_valid(client_ae_state_find(st, tpls[by].cn), now))
			continue;
		v[n].action = CLIENT_AE_RETIRE;
		v[n].tpl = CLIENT_AE_NONE;
		v[n].entry = k;
		v[n].by = by;
		n++;
	}
	if (n == 0) {
		free(v);
		v = NULL;
	}
	*steps = v;
	*nsteps = n;
	return OC_OK;
}

/* ------------------------------------------------------------------ */
/* The store */

struct ae_store {
	const char *dir;
	int lock_fd;
	struct client_ae_state st;
};

static int
store_path(const struct ae_store *s, const char *name, char **out)
{
	if (asprintf(out, "%s/%s", s->dir, name) < 0) {
		*out = NULL;
		return OC_ERR_NOMEM;
	}
	return OC_OK;
}

static int
store_open(struct ae_store *s, const char *dir)
{
	struct stat sb;
	char *lock = NULL;
	int r = OC_ERR_CONFIG;

	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->lock_fd = -1;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "opences: cannot create the store %s: %s\n", dir, strerror(errno));
		goto out;
	}
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "opences: the store %s is not a directory\n", dir);
		goto out;
	}
	if ((r = store_path(s, ".lock", &lock)) != OC_OK)
		goto out;
	r = OC_ERR_CONFIG;
	if ((s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		fprintf(stderr, "opences: cannot open %s: %s\n", lock, strerror(errno));
		goto out;
	}
	if (flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, "opences: another autoenroll is using the store %s\n", dir);
		goto out;
	}
	r = OC_OK;
out:
	free(lock);
	return r;
}

static void
store_close(struct ae_store *s)
{
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	s->lock_fd = -1;
	client_ae_state_clear(&s->st);
}

static int
state_load(struct ae_store *s)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char *path = NULL;
	int r;

	client_ae_state_clear(&s->st);
	if ((r = store_path(s, CLIENT_AE_STATE_FILE, &path)) != OC_OK)
		return r;
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		free(path);
		return OC_OK;           /* a new store */
	}
	if ((r = oc_file_read(path, &data, &len, CLIENT_AE_STATE_MAX)) != OC_OK ||
	    (r = client_ae_state_parse(data, len, &s->st)) != OC_OK)
		fprintf(stderr, "opences: unusable %s: %s\n", path, oc_strerror(r));
	free(data);
	free(path);
	return r;
}

static int
state_save(const struct ae_store *s)
{
	struct ocbuf b;
	char *path = NULL;
	int r;

	ocbuf_init(&b, CLIENT_AE_STATE_MAX);
	if ((r = client_ae_state_format(&s->st, &b)) == OC_OK &&
	    (r = store_path(s, CLIENT_AE_STATE_FILE, &path)) == OC_OK)
		r = client_write_file(path, ocbuf_ptr(&b), ocbuf_avail(&b), 0600);
	if (r != OC_OK)
		fprintf(stderr, "opences: cannot save %s/%s: %s\n", s->dir, CLIENT_AE_STATE_FILE,
		    oc_strerror(r));
	free(path);
	ocbuf_free(&b);
	return r;
}

static int
set_str(char **dst, const char *v)
{
	char *c = NULL;

	if (v != NULL && (c = strdup(v)) == NULL)
		return OC_ERR_NOMEM;
	free(*dst);
	*dst = c;
	return OC_OK;
}

static int
asn1_time_epoch(const ASN1_TIME *t, int64_t *v)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(t, &tm) != 1)
		return OC_ERR_DER;
	*v = (int64_t)timegm(&tm);
	return OC_OK;
}

/* Serial and validity of the certificate now in the store into e. */
static int
entry_from_cert(const struct ae_store *s, struct client_ae_entry *e)
{
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	char *path = NULL, *hex = NULL;
	int r;

	if ((r = store_path(s, e->cert_file, &path)) != OC_OK ||
	    (r = client_load_cert(path, &x)) != OC_OK)
		goto out;
	r = OC_ERR_DER;
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	if ((r = asn1_time_epoch(X509_get0_notBefore(x), &e->not_before)) != OC_OK ||
	    (r = asn1_time_epoch(X509_get0_notAfter(x), &e->not_after)) != OC_OK)
		goto out;
	r = set_str(&e->serial, hex);
out:
	ERR_clear_error();
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	free(path);
	return r;
}

/* Move name aside to name.superseded (a missing file is fine). */
static int
set_aside(const struct ae_store *s, const char *name)
{
	char *from = NULL, *to = NULL;
	int r;

	if (name == NULL)
		return OC_OK;
	if ((r = store_path(s, name, &from)) != OC_OK)
		return r;
	if (asprintf(&to, "%s%s", from, CLIENT_AE_SUPERSEDED_SUFFIX) < 0) {
		free(from);
		return OC_ERR_NOMEM;
	}
	r = OC_OK;
	if (rename(from, to) != 0 && errno != ENOENT) {
		fprintf(stderr, "opences: cannot rename %s: %s\n", from, strerror(errno));
		r = OC_ERR_IO;
	}
	free(from);
	free(to);
	return r;
}

/* ------------------------------------------------------------------ */
/* One pass */

struct ae_pass {
	const struct client_opts *o;
	struct ae_store *store;
	struct client_flow f;
	struct client_rng rng;
	struct client_ae_tpl *tpls;
	const struct client_template **tsrc;    /* the policy template of tpls[i] */
	size_t ntpls;
	int worst;                  /* CLIENT_EXIT_* of the pass */
	int acted;
};

/* 1 error > 2 denied > 5 unreachable > 4 pending > 0. */
static int
severity(int ex)
{
	switch (ex) {
	case CLIENT_EXIT_OK:          return 0;
	case CLIENT_EXIT_PENDING:     return 1;
	case CLIENT_EXIT_UNREACHABLE: return 2;
	case CLIENT_EXIT_DENIED:      return 3;
	case CLIENT_EXIT_NO_TEMPLATE: return 3;
	default:                      return 4;
	}
}

static void
note_exit(struct ae_pass *p, int ex)
{
	if (ex == CLIENT_EXIT_NO_TEMPLATE)
		ex = CLIENT_EXIT_DENIED;
	if (severity(ex) > severity(p->worst))
		p->worst = ex;
}

static enum client_ae_result
result_of(int ex, int renewal)
{
	switch (ex) {
	case CLIENT_EXIT_OK:          return renewal ? CLIENT_AE_R_RENEWED : CLIENT_AE_R_ENROLLED;
	case CLIENT_EXIT_PENDING:     return CLIENT_AE_R_PENDING;
	case CLIENT_EXIT_DENIED:      return CLIENT_AE_R_DENIED;
	case CLIENT_EXIT_NO_TEMPLATE: return CLIENT_AE_R_NOT_OFFERED;
	case CLIENT_EXIT_UNREACHABLE: return CLIENT_AE_R_UNREACHABLE;
	default:                      return CLIENT_AE_R_ERROR;
	}
}

static void
print_entry(const char *what, const struct client_ae_entry *e)
{
	char when[32] = "-";

	if (e->not_after > 0)
		oc_time_iso8601((time_t)e->not_after, when, sizeof(when));
	printf("autoenroll: %s %s serial=%s notAfter=%s\n", e->template_name, what,
	    e->serial ? e->serial : "-", when);
	fflush(stdout);
}

/* The current key and certificate of e, if both load and belong together. */
static int
load_current(const struct ae_store *s, const struct client_ae_entry *e, char **cert_path,
    X509 **x, EVP_PKEY **k)
{
	char *key_path = NULL;
	int r;

	*x = NULL;
	*k = NULL;
	if ((r = store_path(s, e->cert_file, cert_path)) != OC_OK ||
	    (r = store_path(s, e->key_file, &key_path)) != OC_OK)
		goto out;
	if ((r = client_load_cert(*cert_path, x)) != OC_OK ||
	    (r = client_load_key(key_path, k)) != OC_OK)
		goto out;
	r = X509_check_private_key(*x, *k) == 1 ? OC_OK : OC_ERR_INVALID;
	ERR_clear_error();
out:
	free(key_path);
	return r;
}

/* Enroll or renew template i; updates and saves its entry. */
static int
act(struct ae_pass *p, size_t i, enum client_ae_action action)
{
	struct ae_store *s = p->store;
	const struct client_ae_tpl *t = &p->tpls[i];
	struct client_ae_entry *e = NULL;
	struct client_opts to = *p->o;      /* shallow: only pointers set below change */
	char *key_name = NULL, *cert_name = NULL, *key_path = NULL, *cert_path = NULL;
	X509 *cur_x = NULL;
	EVP_PKEY *cur_k = NULL;
	int64_t now = (int64_t)time(NULL);
	int ex = CLIENT_EXIT_ERROR, renewal = action == CLIENT_AE_RENEW;

	if (client_ae_state_get(&s->st, t->cn, &e) != OC_OK)
		goto done;
	if (renewal && load_current(s, e, &cert_path, &cur_x, &cur_k) != OC_OK) {
		log_warn("%s: the stored key and certificate do not load or do not match: "
		    "enrolling anew", t->cn);
		renewal = 0;
	}
	/* the files keep their names across renewals */
	if (e->key_file == NULL || e->cert_file == NULL) {
		if (client_ae_file_name(t->cn, ".key", &key_name) != OC_OK ||
		    client_ae_file_name(t->cn, ".pem", &cert_name) != OC_OK)
			goto done;
	} else if (set_str(&key_name, e->key_file) != OC_OK ||
	    set_str(&cert_name, e->cert_file) != OC_OK)
		goto done;
	free(cert_path);
	cert_path = NULL;
	if (store_path(s, key_name, &key_path) != OC_OK ||
	    store_path(s, cert_name, &cert_path) != OC_OK)
		goto done;
	to.template_name = (char *)(uintptr_t)t->cn;
	to.key_out = key_path;
	to.cert_out = cert_path;
	to.cert = cert_path;
	to.key = key_path;
	to.new_key = 0;
	to.subject = NULL;
	memset(&to.dns, 0, sizeof(to.dns));
	p->f.o = &to;
	client_rstrc_clear(&p->f.rstrc);
	log_info("%s: %s", t->cn, renewal ? "signed renewal" : "enrollment");
	ex = renewal ? client_flow_renew(&p->f, &p->rng, cur_x, cur_k) :
	    client_flow_enroll(&p->f, &p->rng);
	p->f.o = p->o;
done:
	e = client_ae_state_find(&s->st, t->cn);
	if (e != NULL) {
		e->last_attempt = now;
		(void)set_str(&e->last_result, client_ae_result_name(result_of(ex, renewal)));
		if (p->f.rstrc.request_id != NULL)
			(void)set_str(&e->request_id, p->f.rstrc.request_id);
		if (ex == CLIENT_EXIT_OK || ex == CLIENT_EXIT_PENDING) {
			if (set_str(&e->key_file, key_name) != OC_OK)
				ex = CLIENT_EXIT_ERROR;
		}
		if (ex == CLIENT_EXIT_OK) {
			if (set_str(&e->cert_file, cert_name) != OC_OK ||
			    entry_from_cert(s, e) != OC_OK) {
				fprintf(stderr, "opences: %s: the stored certificate does not "
				    "read back\n", t->cn);
				ex = CLIENT_EXIT_ERROR;
			}
		}
		if (ex == CLIENT_EXIT_OK) {
			e->failures = 0;
			e->next_attempt = 0;
			print_entry(renewal ? "renewed" : "enrolled", e);
		} else if (ex == CLIENT_EXIT_PENDING) {
			/* nothing to resubmit before an administrator had time to act */
			e->failures = 0;
			e->next_attempt = now + CLIENT_AE_BACKOFF_MAX;
			print_entry("pending", e);
		} else {
			if (e->failures < UINT32_MAX)
				e->failures++;
			e->next_attempt = now + client_ae_backoff(e->failures);
			printf("autoenroll: %s %s failed (%s), attempt %u, next in %llds\n",
			    t->cn, renewal ? "renewal" : "enrollment",
			    client_ae_result_name(result_of(ex, renewal)), e->failures,
			    (long long)(e->next_attempt - now));
			fflush(stdout);
		}
		if (state_save(s) != OC_OK)
			ex = CLIENT_EXIT_ERROR;
	}
	note_exit(p, ex);
	p->acted = 1;
	EVP_PKEY_free(cur_k);
	X509_free(cur_x);
	free(key_name);
	free(cert_name);
	free(key_path);
	free(cert_path);
	return ex;
}

/* Set entry k aside: its files get the .superseded suffix, the entry goes. */
static int
retire(struct ae_pass *p, size_t k, size_t by)
{
	struct ae_store *s = p->store;
	struct client_ae_entry *e = &s->st.v[k];
	int r;

	if ((r = set_aside(s, e->cert_file)) != OC_OK || (r = set_aside(s, e->key_file)) != OC_OK) {
		note_exit(p, CLIENT_EXIT_ERROR);
		return r;
	}
	printf("autoenroll: %s superseded by %s: set aside (%s%s)\n", e->template_name,
	    p->tpls[by].cn, e->cert_file ? e->cert_file : "-", CLIENT_AE_SUPERSEDED_SUFFIX);
	fflush(stdout);
	client_ae_state_remove(&s->st, k);
	p->acted = 1;
	if ((r = state_save(s)) != OC_OK)
		note_exit(p, CLIENT_EXIT_ERROR);
	return r;
}

/* The managed templates of the policy (borrowed). */
static int
collect_templates(struct ae_pass *p)
{
	const struct client_policy *pol = &p->f.pol;

	if (pol->ntemplates == 0)
		return OC_OK;
	if ((p->tpls = calloc(pol->ntemplates, sizeof(*p->tpls))) == NULL ||
	    (p->tsrc = calloc(pol->ntemplates, sizeof(*p->tsrc))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < pol->ntemplates; i++) {
		const struct client_template *t = &pol->templates[i];
		const char *why = client_ae_ineligible(t);

		if (why != NULL) {
			if (t->auto_enroll)
				log_warn("template %s is not autoenrolled: %s", t->cn, why);
			continue;
		}
		p->tpls[p->ntpls].cn = t->cn;
		p->tpls[p->ntpls].renewal_seconds = t->renewal_seconds;
		p->tpls[p->ntpls].superseded = &t->superseded;
		p->tsrc[p->ntpls++] = t;
	}
	return OC_OK;
}

/*
 * Enroll and renew what the plan says, then set aside what the new state
 * makes superseded. *next: when the next pass is due (INT64_MAX: none).
 */
static void
run_plan(struct ae_pass *p, int64_t *next)
{
	struct client_ae_step *steps = NULL;
	size_t n = 0;
	int retired;

	if (client_ae_plan(p->tpls, p->ntpls, &p->store->st, (int64_t)time(NULL), &steps, &n,
	    next) != OC_OK)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (steps[i].action == CLIENT_AE_ENROLL || steps[i].action == CLIENT_AE_RENEW)
			(void)act(p, steps[i].tpl, steps[i].action);
		else if (steps[i].action == CLIENT_AE_WAIT)
			log_info("%s: waiting (back-off or pending) until %lld",
			    p->tpls[steps[i].tpl].cn, (long long)*next);
	}
	/* again after the changes: retirements, and the next point in time */
	do {
		free(steps);
		steps = NULL;
		retired = 0;
		if (client_ae_plan(p->tpls, p->ntpls, &p->store->st, (int64_t)time(NULL), &steps,
		    &n, next) != OC_OK)
			goto fail;
		for (size_t i = 0; i < n && !retired; i++)
			if (steps[i].action == CLIENT_AE_RETIRE) {
				if (retire(p, steps[i].entry, steps[i].by) != OC_OK)
					goto out;
				retired = 1;    /* entry indexes moved: plan again */
			}
	} while (retired);
	goto out;
fail:
	note_exit(p, CLIENT_EXIT_ERROR);
out:
	free(steps);
}

/*
 * One pass. Returns CLIENT_EXIT_*; *next as run_plan's, or the retry time
 * after a policy failure (policy_failures counts them across passes).
 */
static int
ae_pass(const struct client_opts *o, struct ae_store *s, uint32_t *policy_failures,
    int64_t *next)
{
	struct ae_pass p;
	const char *from = NULL;
	int ex;

	memset(&p, 0, sizeof(p));
	p.o = o;
	p.store = s;
	*next = INT64_MAX;
	if (state_load(s) != OC_OK) {
		p.worst = CLIENT_EXIT_ERROR;
		goto out;
	}
	if (client_flow_init(&p.f, o) != OC_OK || client_rng_init(&p.rng) != OC_OK) {
		p.worst = CLIENT_EXIT_ERROR;
		goto out;
	}
	if ((ex = client_flow_policy(&p.f, &p.rng, &from)) != CLIENT_EXIT_OK) {
		note_exit(&p, ex);
		if (*policy_failures < UINT32_MAX)
			++*policy_failures;
		*next = (int64_t)time(NULL) + client_ae_backoff(*policy_failures);
		goto out;
	}
	*policy_failures = 0;
	if (collect_templates(&p) != OC_OK) {
		p.worst = CLIENT_EXIT_ERROR;
		goto out;
	}
	if (p.ntpls == 0)
		printf("autoenroll: the policy marks no template for autoenrollment\n");
	run_plan(&p, next);
	if (!p.acted && p.ntpls > 0)
		printf("autoenroll: nothing to do\n");
	fflush(stdout);
out:
	client_flow_clear(&p.f);
	free(p.tpls);
	free(p.tsrc);
	return p.worst;
}

/* Seconds to sleep before the next pass: [1, interval]. */
static long
wait_for(int64_t next, long interval)
{
	int64_t now = (int64_t)time(NULL);

	if (next == INT64_MAX || next - now >= interval)
		return interval;
	return next - now < 1 ? 1 : (long)(next - now);
}

int
client_run_autoenroll(const struct client_opts *o)
{
	struct ae_store s;
	sigset_t set, old;
	uint32_t policy_failures = 0;
	int64_t next = INT64_MAX;
	int ex = CLIENT_EXIT_ERROR, sig;

	if (store_open(&s, o->store) != OC_OK)
		goto out;
	if (!o->daemon) {
		ex = ae_pass(o, &s, &policy_failures, &next);
		goto out;
	}
	/* SIGTERM/SIGINT are taken by sigtimedwait between passes */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, &old) != 0)
		goto out;
	for (;;) {
		struct timespec ts;
		long w;

		ex = ae_pass(o, &s, &policy_failures, &next);
		w = wait_for(next, o->interval);
		log_info("autoenroll pass done (status %d); next pass in %lds", ex, w);
		ts.tv_sec = w;
		ts.tv_nsec = 0;
		do
			sig = sigtimedwait(&set, NULL, &ts);
		while (sig < 0 && errno == EINTR);
		if (sig == SIGTERM || sig == SIGINT) {
			log_info("autoenroll: signal %d, stopping", sig);
			break;
		}
	}
	ex = CLIENT_EXIT_OK;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
out:
	store_close(&s);
	return ex;
}
