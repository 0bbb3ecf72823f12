/*
 * The mirror's synchronisation (ldap_mirror.h): one sync into the embedded
 * directory, and the loop of the opencesd-dirsync process.
 */
#include "ldap/ldap_mirror.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

/* One round on *lp (connected first when NULL; closed and NULL again on failure). */
static int
sync_read(const struct oc_ldap_config *cfg, struct oc_directory *dir, int force, int *changed,
    char *err, struct oc_ldap **lp)
{
	struct oc_ldap *l = *lp;
	struct oc_ldap_snapshot snap;
	struct oc_dir_sync_status st;
	char stamp[65];
	int64_t usn = 0;
	int r;

	memset(&snap, 0, sizeof(snap));
	memset(&st, 0, sizeof(st));
	if (l == NULL && (r = oc_ldap_connect(cfg, &l)) != OC_OK) {
		snprintf(err, OC_LDAP_MIRROR_ERR_MAX, "%s: %s", cfg->uri ? cfg->uri : "?",
		    r == OC_ERR_AUTH ? "bind refused" : r == OC_ERR_IO ?
		    "server unreachable or TLS failed" : oc_strerror(r));
		goto out;
	}
	if (!force) {
		if ((r = oc_ldap_mirror_stamp(l, stamp, &usn, err)) != OC_OK)
			goto out;
		if ((r = oc_dir_sync_status(dir, &st)) != OC_OK) {
			snprintf(err, OC_LDAP_MIRROR_ERR_MAX, "directory database: %s", oc_strerror(r));
			goto out;
		}
		if (st.stamp != NULL && st.last_error == NULL && st.content_hash != NULL &&
		    strcmp(st.stamp, stamp) == 0) {
			if ((r = oc_dir_sync_record_ok(dir, OC_LDAP_MIRROR_SOURCE, stamp, usn)) != OC_OK)
				snprintf(err, OC_LDAP_MIRROR_ERR_MAX, "directory database: %s",
				    oc_strerror(r));
			goto out;
		}
	}
	if ((r = oc_ldap_mirror_read(l, &snap, err)) != OC_OK)
		goto out;
	snap.m.force = force;
	if ((r = oc_dir_mirror_replace(dir, &snap.m, changed)) != OC_OK)
		snprintf(err, OC_LDAP_MIRROR_ERR_MAX, "directory database: %s", oc_strerror(r));
out:
	oc_dir_sync_status_clear(&st);
	oc_ldap_snapshot_clear(&snap);
	if (r != OC_OK) {
		oc_ldap_close(l);       /* the next round connects afresh */
		l = NULL;
	}
	*lp = l;
	return r;
}

/* A round on *lp (NULL: a connection of its own, closed after). */
static int
sync_round(const struct oc_ldap_config *cfg, struct oc_directory *dir, int force, int *changed,
    char *err, struct oc_ldap **lp)
{
	struct oc_ldap *own = NULL;
	int r;

	int reused = lp != NULL && *lp != NULL;

	*changed = 0;
	*err = '\0';
	r = sync_read(cfg, dir, force, changed, err, lp != NULL ? lp : &own);
	/* a kept connection may have died since (server restarted): once more, afresh */
	if (r != OC_OK && reused) {
		*err = '\0';
		r = sync_read(cfg, dir, force, changed, err, lp);
	}
	oc_ldap_close(own);
	if (r != OC_OK) {
		if (*err == '\0')
			snprintf(err, OC_LDAP_MIRROR_ERR_MAX, "%s", oc_strerror(r));
		/* the mirror stays as it is; only the status changes */
		if (oc_dir_sync_record_failure(dir, OC_LDAP_MIRROR_SOURCE, err) != OC_OK)
			log_error("mirror: cannot record the sync status");
	}
	return r;
}

int
oc_ldap_mirror_sync(const struct oc_ldap_config *cfg, struct oc_directory *dir, int force,
    int *changed, char *err)
{
	return sync_round(cfg, dir, force, changed, err, NULL);
}

/* Sleep s seconds, waking early on *stop. */
static void
nap(unsigned s, volatile sig_atomic_t *stop)
{
	for (unsigned i = 0; i < s * 10 && !*stop; i++) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !*stop)
			;
	}
}

int
oc_ldap_mirror_run(const struct oc_ldap_config *cfg, const char *dir_path, unsigned refresh_seconds,
    volatile sig_atomic_t *stop)
{
	struct oc_directory *dir = NULL;
	struct oc_ldap *l = NULL;       /* kept between rounds while it works */
	char err[OC_LDAP_MIRROR_ERR_MAX], last_err[OC_LDAP_MIRROR_ERR_MAX] = "";
	int r, changed = 0, failing = 0, first = 1;

	/* a connection kept between rounds may be gone: EPIPE, not death by SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	if ((r = oc_dir_open(dir_path, 0, &dir)) != OC_OK) {
		error_fr(r, "mirror: directory %s", dir_path);
		return r;
	}
	if (refresh_seconds == 0)
		refresh_seconds = 60;
	log_info("mirror: %s every %u s into %s", cfg->uri, refresh_seconds, dir_path);
	while (!*stop) {
		r = sync_round(cfg, dir, first, &changed, err, &l);
		if (r != OC_OK) {
			/* once per state: a new failure, or a different reason */
			if (!failing || strcmp(err, last_err) != 0)
				log_error("mirror: sync failed, keeping the last policy: %s", err);
			failing = 1;
			snprintf(last_err, sizeof(last_err), "%s", err);
		} else {
			if (failing)
				log_info("mirror: sync works again");
			else if (first)
				log_info("mirror: first sync done");
			if (changed)
				log_info("mirror: the policy changed");
			failing = 0;
			last_err[0] = '\0';
			first = 0;
		}
		nap(refresh_seconds, stop);
	}
	oc_ldap_close(l);
	oc_dir_close(dir);
	return OC_OK;
}
