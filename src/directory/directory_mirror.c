/*
 * The LDAP mirror inside the embedded directory (directory.h): replacing the
 * rows of a source in one transaction, the enterprise OIDs, the sync status,
 * and the access check by a template's nTSecurityDescriptor.
 */
#include "directory/directory.h"
#include "directory/directory_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "common/log.h"
#include "directory/ad_sd.h"

#define SYNC_ERROR_MAX 512
#define SYNC_STAMP_MAX 128

void
oc_dir_oids_free(struct oc_dir_oid *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].oid);
		free(v[i].display_name);
	}
	free(v);
}

void
oc_dir_sync_status_clear(struct oc_dir_sync_status *st)
{
	if (st == NULL)
		return;
	free(st->source);
	free(st->last_error);
	free(st->stamp);
	free(st->content_hash);
	memset(st, 0, sizeof(*st));
}

static int
exec_src(struct oc_directory *dir, const char *sql, const char *source)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = oc_dir_prepare(dir, sql, &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, source)) == OC_OK)
		r = oc_dir_step_done(dir, st, "mirror");
	sqlite3_finalize(st);
	return r;
}

/* Make sure the status row exists (inside a transaction). */
static int
status_row(struct oc_directory *dir, const char *source)
{
	return exec_src(dir, "INSERT INTO sync_status (id, source) VALUES (1, ?1) "
	    "ON CONFLICT (id) DO UPDATE SET source = excluded.source", source);
}

static int
stored_hash_equal(struct oc_directory *dir, const char *hash, int *equal)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*equal = 0;
	if (hash == NULL)
		return OC_OK;
	if ((r = oc_dir_prepare(dir, "SELECT 1 FROM sync_status WHERE id = 1 AND content_hash = ?1",
	    &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, hash)) == OC_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*equal = 1;
		else if (rc != SQLITE_DONE)
			r = oc_dir_sqlerr(dir, rc, "sync status");
	}
	sqlite3_finalize(st);
	return r;
}

static int
insert_oids(struct oc_directory *dir, const struct oc_dir_mirror *m)
{
	sqlite3_stmt *st = NULL;
	int r = OC_OK;

	if ((r = oc_dir_prepare(dir, "INSERT INTO oids (oid, display_name, flags, source) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (oid) DO UPDATE SET display_name = "
	    "excluded.display_name, flags = excluded.flags, source = excluded.source", &st)) != OC_OK)
		return r;
	for (size_t i = 0; i < m->noids && i < OC_TEMPLATES_MAX * 4; i++) {
		const struct oc_dir_oid *o = &m->oids[i];

		if (!oc_dir_oid_ok(o->oid) || !oc_dir_line_ok(o->display_name, OC_TEMPLATE_NAME_MAX))
			continue;
		if ((r = oc_dir_bind_text(dir, st, 1, o->oid)) != OC_OK ||
		    (r = oc_dir_bind_text(dir, st, 2, o->display_name)) != OC_OK ||
		    (r = oc_dir_bind_text(dir, st, 4, m->source)) != OC_OK)
			break;
		sqlite3_bind_int64(st, 3, o->flags);
		if ((r = oc_dir_step_done(dir, st, "oid insert")) != OC_OK)
			break;
	}
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_mirror_replace(struct oc_directory *dir, const struct oc_dir_mirror *m, int *changed)
{
	sqlite3_stmt *st = NULL;
	int64_t serial = 0;
	size_t nt = 0, nc = 0;
	int r, equal = 0;

	if (changed != NULL)
		*changed = 0;
	if (m == NULL || !oc_dir_name_ok(m->source, 32) || m->ntemplates > OC_TEMPLATES_MAX ||
	    m->ncas > OC_LIST_MAX || !oc_dir_line_ok(m->stamp, SYNC_STAMP_MAX) ||
	    !oc_dir_line_ok(m->content_hash, SYNC_STAMP_MAX))
		return OC_ERR_INVALID;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((!m->force && (r = stored_hash_equal(dir, m->content_hash, &equal)) != OC_OK) ||
	    (r = status_row(dir, m->source)) != OC_OK)
		goto out;
	if (!equal) {
		if ((r = oc_dir_bump_serial(dir, &serial)) != OC_OK ||
		    (r = exec_src(dir, "DELETE FROM templates WHERE source = ?1", m->source)) != OC_OK ||
		    (r = exec_src(dir, "DELETE FROM cas WHERE source = ?1", m->source)) != OC_OK ||
		    (r = exec_src(dir, "DELETE FROM oids WHERE source = ?1", m->source)) != OC_OK)
			goto out;
		for (size_t i = 0; i < m->ntemplates; i++) {
			const struct oc_template *t = m->templates[i];

			if (oc_dir_template_check(t, 0) != OC_OK) {
				log_warn("mirror: template %s left out (invalid values)",
				    t && t->cn ? t->cn : "?");
				continue;
			}
			if ((r = oc_dir_template_insert(dir, t, m->source, serial)) != OC_OK)
				goto out;
			nt++;
		}
		for (size_t i = 0; i < m->ncas; i++) {
			if (oc_dir_ca_check(&m->cas[i]) != OC_OK) {
				log_warn("mirror: CA entry %s left out (invalid values)",
				    m->cas[i].name ? m->cas[i].name : "?");
				continue;
			}
			if ((r = oc_dir_ca_insert(dir, &m->cas[i], m->source, serial)) != OC_OK)
				goto out;
			nc++;
		}
		if ((r = insert_oids(dir, m)) != OC_OK)
			goto out;
	}
	if ((r = oc_dir_prepare(dir, "UPDATE sync_status SET last_attempt = ?1, last_success = ?1, "
	    "last_error = NULL, failures = 0, last_usn = ?2, stamp = ?3, content_hash = ?4, "
	    "last_change = CASE WHEN ?5 THEN ?1 ELSE last_change END, "
	    "templates = CASE WHEN ?5 THEN ?6 ELSE templates END, "
	    "cas = CASE WHEN ?5 THEN ?7 ELSE cas END WHERE id = 1", &st)) != OC_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 2, m->usn);
	sqlite3_bind_int(st, 5, !equal);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)nt);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)nc);
	if ((r = oc_dir_bind_text(dir, st, 3, m->stamp)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 4, m->content_hash)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "sync status")) != OC_OK)
		goto out;
	if ((r = oc_dir_commit(dir)) == OC_OK && changed != NULL)
		*changed = !equal;
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_sync_record_ok(struct oc_directory *dir, const char *source, const char *stamp, int64_t usn)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (!oc_dir_name_ok(source, 32) || !oc_dir_line_ok(stamp, SYNC_STAMP_MAX))
		return OC_ERR_INVALID;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = status_row(dir, source)) != OC_OK ||
	    (r = oc_dir_prepare(dir, "UPDATE sync_status SET last_attempt = ?1, last_success = ?1, "
	    "last_error = NULL, failures = 0, last_usn = ?2, stamp = ?3 WHERE id = 1", &st)) != OC_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	sqlite3_bind_int64(st, 2, usn);
	if ((r = oc_dir_bind_text(dir, st, 3, stamp)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "sync status")) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_sync_record_failure(struct oc_directory *dir, const char *source, const char *error)
{
	sqlite3_stmt *st = NULL;
	char line[SYNC_ERROR_MAX + 1];
	size_t n = 0;
	int r;

	if (!oc_dir_name_ok(source, 32))
		return OC_ERR_INVALID;
	/* one printable line, bounded */
	for (const char *p = error ? error : "unknown error"; *p != '\0' && n < SYNC_ERROR_MAX; p++)
		line[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p;
	line[n] = '\0';
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = status_row(dir, source)) != OC_OK ||
	    (r = oc_dir_prepare(dir, "UPDATE sync_status SET last_attempt = ?1, last_error = ?2, "
	    "failures = failures + 1 WHERE id = 1", &st)) != OC_OK)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	if ((r = oc_dir_bind_text(dir, st, 2, line)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "sync status")) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_sync_status(struct oc_directory *dir, struct oc_dir_sync_status *s)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if (s == NULL || dir == NULL)
		return OC_ERR_INVALID;
	memset(s, 0, sizeof(*s));
	if ((r = oc_dir_prepare(dir, "SELECT source, last_attempt, last_success, last_change, "
	    "last_error, failures, last_usn, stamp, content_hash, templates, cas "
	    "FROM sync_status WHERE id = 1", &st)) != OC_OK)
		return r;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = OC_OK;              /* never synchronised: all zero */
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = oc_dir_sqlerr(dir, rc, "sync status");
		goto out;
	}
	if ((r = oc_dir_col_text(st, 0, &s->source)) != OC_OK ||
	    (r = oc_dir_col_text(st, 4, &s->last_error)) != OC_OK ||
	    (r = oc_dir_col_text(st, 7, &s->stamp)) != OC_OK ||
	    (r = oc_dir_col_text(st, 8, &s->content_hash)) != OC_OK)
		goto out;
	s->last_attempt = (time_t)sqlite3_column_int64(st, 1);
	s->last_success = (time_t)sqlite3_column_int64(st, 2);
	s->last_change = (time_t)sqlite3_column_int64(st, 3);
	s->failures = (uint32_t)sqlite3_column_int64(st, 5);
	s->last_usn = sqlite3_column_int64(st, 6);
	s->templates = (size_t)sqlite3_column_int64(st, 9);
	s->cas = (size_t)sqlite3_column_int64(st, 10);
	r = OC_OK;
out:
	sqlite3_finalize(st);
	if (r != OC_OK)
		oc_dir_sync_status_clear(s);
	return r;
}

int
oc_dir_oid_list(struct oc_directory *dir, struct oc_dir_oid **vp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	struct oc_dir_oid *v = NULL, *nv;
	size_t n = 0;
	int r, rc;

	*vp = NULL;
	*np = 0;
	if ((r = oc_dir_prepare(dir, "SELECT oid, display_name, flags FROM oids ORDER BY oid", &st)) != OC_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n >= OC_TEMPLATES_MAX * 4) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		v = nv;
		memset(&v[n], 0, sizeof(v[n]));
		n++;
		v[n - 1].flags = (uint32_t)sqlite3_column_int64(st, 2);
		if ((r = oc_dir_col_text(st, 0, &v[n - 1].oid)) != OC_OK ||
		    (r = oc_dir_col_text(st, 1, &v[n - 1].display_name)) != OC_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = oc_dir_sqlerr(dir, rc, "oid list");
		goto out;
	}
	*vp = v;
	*np = n;
	v = NULL;
	n = 0;
	r = OC_OK;
out:
	sqlite3_finalize(st);
	oc_dir_oids_free(v, n);
	return r;
}

/* The SID column of the row named name in table (accounts or groups), added to l. */
static int
add_sid_of(struct oc_directory *dir, const char *sql, const char *name, struct oc_strlist *l)
{
	sqlite3_stmt *st = NULL;
	const char *sid;
	int r, rc;

	if ((r = oc_dir_prepare(dir, sql, &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, name)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		sid = (const char *)sqlite3_column_text(st, 0);
		if (sid != NULL && oc_dir_sid_ok(sid) && !oc_strlist_contains_ci(l, sid))
			r = oc_strlist_add(l, sid);
	} else if (rc != SQLITE_DONE)
		r = oc_dir_sqlerr(dir, rc, "sid");
out:
	sqlite3_finalize(st);
	return r;
}

/* The SD bytes of a template (malloc'd; NULL when none). */
static int
template_sd(struct oc_directory *dir, const char *cn, uint8_t **sd, size_t *len)
{
	sqlite3_stmt *st = NULL;
	int r, rc, n;

	*sd = NULL;
	*len = 0;
	if ((r = oc_dir_prepare(dir, "SELECT security_descriptor FROM templates WHERE cn = ?1", &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, cn)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB &&
	    (n = sqlite3_column_bytes(st, 0)) > 0) {
		if ((*sd = malloc((size_t)n)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		memcpy(*sd, sqlite3_column_blob(st, 0), (size_t)n);
		*len = (size_t)n;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = oc_dir_sqlerr(dir, rc, "template SD");
out:
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_sd_rights(struct oc_directory *dir, const char *template_cn, const struct oc_identity *id,
    const struct oc_strlist *principals, int *has_sd, uint32_t *rights)
{
	struct oc_ad_sd *sd = NULL;
	struct oc_strlist sids = { 0 };
	const char *caller = "S-1-1-0";
	uint8_t *raw = NULL;
	size_t len = 0;
	int r;

	*has_sd = 0;
	*rights = 0;
	if ((r = template_sd(dir, template_cn, &raw, &len)) != OC_OK || raw == NULL)
		goto out;
	*has_sd = 1;
	if (len > OC_AD_SD_MAX || oc_ad_sd_parse(raw, len, &sd) != OC_OK) {
		log_debug("template %s: unreadable security descriptor: nothing granted", template_cn);
		r = OC_OK;
		goto out;
	}
	/* the token: caller SID, then every group SID known for the caller */
	if (id->sid != NULL && oc_dir_sid_ok(id->sid))
		caller = id->sid;
	else if (id->name != NULL && (r = add_sid_of(dir, "SELECT sid FROM accounts WHERE name = ?1",
	    id->name, &sids)) != OC_OK)
		goto out;
	for (size_t i = 0; i < id->groups.n && sids.n < OC_AD_TOKEN_SIDS_MAX - 2; i++)
		if (oc_dir_sid_ok(id->groups.v[i]) && !oc_strlist_contains_ci(&sids, id->groups.v[i]) &&
		    (r = oc_strlist_add(&sids, id->groups.v[i])) != OC_OK)
			goto out;
	for (size_t i = 0; principals != NULL && i < principals->n &&
	    sids.n < OC_AD_TOKEN_SIDS_MAX - 2; i++)
		if ((r = add_sid_of(dir, "SELECT sid FROM groups WHERE name = ?1",
		    principals->v[i], &sids)) != OC_OK)
			goto out;
	if ((r = oc_strlist_add(&sids, "S-1-1-0")) != OC_OK ||
	    (id->auth_type != OC_AUTH_ANONYMOUS && (r = oc_strlist_add(&sids, "S-1-5-11")) != OC_OK))
		goto out;
	r = oc_ad_sd_rights(sd, caller, &sids, rights);
out:
	if (r != OC_OK)
		*rights = 0;
	oc_ad_sd_free(sd);
	free(raw);
	oc_strlist_free(&sids);
	return r;
}
