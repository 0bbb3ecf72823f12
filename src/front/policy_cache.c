/*
 * A shared, immutable snapshot of templates and CA entries, reloaded when the
 * directory's policy serial changes (checked at most once a second), so that
 * GetPolicies does not read every template on every request. Each snapshot
 * carries its own cache of rendered responses (policy_resp.c), so a new
 * serial starts with an empty one.
 */
#include "front/front_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static void
snapshot_free(struct oc_policy_snapshot *s)
{
	if (s == NULL)
		return;
	oc_dir_template_list_free(s->templates, s->ntemplates);
	oc_dir_ca_list_free(s->cas, s->ncas);
	oc_policy_resp_cache_free(s->resp);
	free(s);
}

static int
snapshot_load(struct oc_directory *dir, int64_t serial, time_t changed,
    struct oc_policy_snapshot **sp)
{
	struct oc_policy_snapshot *s;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return OC_ERR_NOMEM;
	s->refs = 1;
	s->serial = serial;
	s->changed = changed;
	if ((r = oc_dir_template_list(dir, &s->templates, &s->ntemplates)) != OC_OK ||
	    (r = oc_dir_ca_list(dir, &s->cas, &s->ncas)) != OC_OK) {
		snapshot_free(s);
		return r;
	}
	/* optional: without it every GetPolicies is rendered */
	if ((r = oc_policy_resp_cache_new(0, 0, &s->resp)) != OC_OK)
		error_fr(r, "policy response cache");
	*sp = s;
	return OC_OK;
}

int
oc_front_snapshot_get(struct oc_front *f, struct oc_front_thread *t,
    struct oc_policy_snapshot **snap)
{
	struct oc_policy_snapshot *fresh = NULL, *old = NULL;
	int64_t serial;
	time_t changed, now = time(NULL);
	int r;

	*snap = NULL;
	pthread_mutex_lock(&f->snap_mu);
	if (f->snap != NULL && f->snap_checked == now) {
		f->snap->refs++;
		*snap = f->snap;
		pthread_mutex_unlock(&f->snap_mu);
		return OC_OK;
	}
	pthread_mutex_unlock(&f->snap_mu);

	if ((r = oc_dir_policy_serial(t->dir, &serial, &changed)) != OC_OK)
		goto stale;
	pthread_mutex_lock(&f->snap_mu);
	if (f->snap != NULL && f->snap->serial == serial) {
		f->snap_checked = now;
		f->snap->refs++;
		*snap = f->snap;
		pthread_mutex_unlock(&f->snap_mu);
		return OC_OK;
	}
	pthread_mutex_unlock(&f->snap_mu);
	if ((r = snapshot_load(t->dir, serial, changed, &fresh)) != OC_OK)
		goto stale;
	pthread_mutex_lock(&f->snap_mu);
	old = f->snap;
	f->snap = fresh;
	f->snap_checked = now;
	fresh->refs++;
	*snap = fresh;
	if (old != NULL && --old->refs > 0)
		old = NULL;
	pthread_mutex_unlock(&f->snap_mu);
	snapshot_free(old);
	return OC_OK;
stale:
	/* The directory could not be read: keep serving the last good policy. */
	error_fr(r, "policy reload");
	pthread_mutex_lock(&f->snap_mu);
	if (f->snap != NULL) {
		f->snap->refs++;
		*snap = f->snap;
		r = OC_OK;
	}
	pthread_mutex_unlock(&f->snap_mu);
	return r;
}

void
oc_front_snapshot_put(struct oc_front *f, struct oc_policy_snapshot *snap)
{
	int last;

	if (snap == NULL)
		return;
	pthread_mutex_lock(&f->snap_mu);
	last = --snap->refs == 0;
	if (last && f->snap == snap)
		f->snap = NULL;
	pthread_mutex_unlock(&f->snap_mu);
	if (last)
		snapshot_free(snap);
}
