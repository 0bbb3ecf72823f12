/*
 * The CA's signing pool: a few threads that decide, build and sign the ISSUE
 * orders of one batch (ca_job_work) while the CA thread keeps every store
 * write. Each thread reads through its own directory and store connections;
 * the CA key and certificates are shared read-only (OpenSSL 3 signs with one
 * EVP_PKEY from several threads, each with its own EVP_MD_CTX).
 */
#include "ca/ca_local.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

struct ca_pool {
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	size_t nthreads;                /* started threads (the CA thread not counted) */
	pthread_t *th;
	struct oc_ca **wca;             /* per thread: own handles, shared key and certs */
	struct ca_job **jobs;           /* the batch being worked on */
	size_t njobs, next, done;
	int stop;
};

/* A worker's view of the CA: its own connections, everything else borrowed. */
static void
wca_free(struct oc_ca *w)
{
	if (w == NULL)
		return;
	oc_dir_close(w->dir);
	oc_store_close(w->store);
	free(w);
}

static int
wca_new(const struct oc_ca_config *cfg, struct oc_ca *ca, struct oc_ca **wp)
{
	struct oc_ca *w = NULL;
	int r;

	*wp = NULL;
	if ((w = malloc(sizeof(*w))) == NULL)
		return OC_ERR_NOMEM;
	*w = *ca;
	w->store = NULL;
	w->dir = NULL;
	if ((r = oc_store_open(cfg->store_path, &w->store)) != OC_OK ||
	    (r = oc_dir_open_ro(cfg->dir_path, &w->dir)) != OC_OK) {
		wca_free(w);
		return r;
	}
	*wp = w;
	return OC_OK;
}

/* Take the next job of the batch (mu held); NULL when none is left. */
static struct ca_job *
take(struct ca_pool *p)
{
	return p->next < p->njobs ? p->jobs[p->next++] : NULL;
}

struct worker_arg {
	struct ca_pool *p;
	struct oc_ca *w;
};

static void *
worker(void *arg)
{
	struct ca_pool *p = ((struct worker_arg *)arg)->p;
	struct oc_ca *w = ((struct worker_arg *)arg)->w;
	struct ca_job *j;

	free(arg);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stop && p->next >= p->njobs)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stop)
			break;
		j = take(p);
		pthread_mutex_unlock(&p->mu);
		ca_job_work(w, j);
		pthread_mutex_lock(&p->mu);
		if (++p->done == p->njobs)
			pthread_cond_signal(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
ca_pool_start(const struct oc_ca_config *cfg, struct oc_ca *ca, int nthreads,
    struct ca_pool **pp)
{
	struct ca_pool *p = NULL;
	struct worker_arg *a = NULL;
	long ncpu;
	size_t want;
	int r = OC_ERR_NOMEM;

	*pp = NULL;
	if (cfg == NULL || ca == NULL || nthreads < 0)
		return OC_ERR_INVALID;
	if (nthreads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		nthreads = ncpu > 0 ? (ncpu > CA_POOL_MAX ? CA_POOL_MAX : (int)ncpu) : 1;
	}
	if (nthreads > CA_POOL_MAX)
		nthreads = CA_POOL_MAX;
	if (nthreads <= 1)
		return OC_OK;
	want = (size_t)nthreads - 1;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return OC_ERR_NOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	if ((p->th = calloc(want, sizeof(*p->th))) == NULL ||
	    (p->wca = calloc(want, sizeof(*p->wca))) == NULL)
		goto out;
	for (size_t i = 0; i < want; i++) {
		if ((r = wca_new(cfg, ca, &p->wca[i])) != OC_OK)
			goto out;
		r = OC_ERR_NOMEM;
		if ((a = malloc(sizeof(*a))) == NULL)
			goto out;
		a->p = p;
		a->w = p->wca[i];
		if (pthread_create(&p->th[i], NULL, worker, a) != 0) {
			free(a);
			wca_free(p->wca[i]);
			p->wca[i] = NULL;
			r = OC_ERR_INTERNAL;
			goto out;
		}
		p->nthreads++;
	}
	log_info("CA signs on %zu threads", p->nthreads + 1);
	*pp = p;
	p = NULL;
	r = OC_OK;
out:
	ca_pool_stop(p);
	return r;
}

void
ca_pool_run(struct ca_pool *p, struct oc_ca *ca, struct ca_job **jobs, size_t n)
{
	struct ca_job *j;

	if (p == NULL || n <= 1) {
		for (size_t i = 0; i < n; i++)
			ca_job_work(ca, jobs[i]);
		return;
	}
	pthread_mutex_lock(&p->mu);
	p->jobs = jobs;
	p->njobs = n;
	p->next = 0;
	p->done = 0;
	pthread_cond_broadcast(&p->work_cv);
	while ((j = take(p)) != NULL) {
		pthread_mutex_unlock(&p->mu);
		ca_job_work(ca, j);
		pthread_mutex_lock(&p->mu);
		p->done++;
	}
	while (p->done < p->njobs)
		pthread_cond_wait(&p->done_cv, &p->mu);
	p->jobs = NULL;
	p->njobs = 0;
	p->next = 0;
	p->done = 0;
	pthread_mutex_unlock(&p->mu);
}

void
ca_pool_stop(struct ca_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->th[i], NULL);
	for (size_t i = 0; p->wca != NULL && i < p->nthreads; i++)
		wca_free(p->wca[i]);
	free(p->wca);
	free(p->th);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
