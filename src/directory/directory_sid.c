/*
 * SIDs in the embedded directory: groups may carry a SID (an Active Directory
 * group's objectSid), accounts already may. A Kerberos caller from an AD KDC
 * has no directory account but brings its user SID and its group SIDs (the
 * PAC, src/auth/pac.h); oc_dir_rights turns them back into the principals
 * that hold grants here.
 */
#include "directory/directory.h"
#include "directory/directory_int.h"

#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/log.h"

/* Longest SID text: "S-1-0x" + 12 hex digits + 15 * "-4294967295". */
#define SID_TEXT_MAX 184

static int
digits(const char **pp, int hex, size_t max)
{
	const char *p = *pp;
	size_t n = 0;

	while ((*p >= '0' && *p <= '9') ||
	    (hex && ((*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')))) {
		p++;
		n++;
	}
	if (n == 0 || n > max)
		return 0;
	*pp = p;
	return 1;
}

int
oc_dir_sid_ok(const char *s)
{
	const char *p = s;
	int subs = 0;

	if (s == NULL || strnlen(s, SID_TEXT_MAX + 1) > SID_TEXT_MAX ||
	    (strncmp(s, "S-1-", 4) != 0 && strncmp(s, "s-1-", 4) != 0))
		return 0;
	p += 4;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!digits(&p, 1, 12))
			return 0;
	} else if (!digits(&p, 0, 10))
		return 0;
	while (*p == '-') {
		p++;
		if (++subs > 15 || !digits(&p, 0, 10))
			return 0;
	}
	return *p == '\0';
}

int
oc_dir_group_add_sid(struct oc_directory *dir, const char *name, const char *sid)
{
	sqlite3_stmt *st = NULL;
	int r, kind = 0;

	if (!oc_dir_name_ok(name, OC_NAME_MAX) || strchr(name, '\\') != NULL ||
	    oc_dir_sid_ok(name) || (sid != NULL && !oc_dir_sid_ok(sid)))
		return OC_ERR_INVALID;
	if ((r = oc_dir_writable(dir)) != OC_OK)
		return r;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = oc_dir_principal_kind(dir, name, &kind)) != OC_OK)
		goto out;
	if (kind != 0) {
		r = OC_ERR_EXISTS;
		goto out;
	}
	if ((r = oc_dir_prepare(dir, "INSERT INTO groups (name, sid) VALUES (?1, ?2)", &st)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, name)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 2, sid)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "group add")) != OC_OK ||   /* a taken SID: EXISTS */
	    (r = oc_dir_bump_serial(dir, NULL)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	sqlite3_finalize(st);
	if (r != OC_OK)
		oc_dir_rollback(dir);
	return r;
}

int
oc_dir_group_sid(struct oc_directory *dir, const char *name, char **sid)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*sid = NULL;
	if (!oc_dir_name_ok(name, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if ((r = oc_dir_prepare(dir, "SELECT sid FROM groups WHERE name = ?1", &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, name)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = oc_dir_col_text(st, 0, sid);
	else if (rc == SQLITE_DONE)
		r = OC_ERR_NOT_FOUND;
	else
		r = oc_dir_sqlerr(dir, rc, "group sid");
out:
	sqlite3_finalize(st);
	return r;
}

static const char SQL_GROUPS_BY_SID[] = "SELECT name FROM groups WHERE sid = ?1";
static const char SQL_ACCOUNTS_BY_SID[] = "SELECT name FROM accounts WHERE sid = ?1";

/* Add the names a SID designates (rows of st bound to sid) to out. */
static int
names_of_sid(struct oc_directory *dir, sqlite3_stmt *st, const char *sid, size_t limit,
    struct oc_strlist *out)
{
	int r, rc;

	if ((r = oc_dir_bind_text(dir, st, 1, sid)) != OC_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(st, 0);

		if (n == NULL || oc_strlist_contains_ci(out, n))
			continue;
		if (out->n >= limit) {
			sqlite3_reset(st);
			return OC_ERR_LIMIT;
		}
		if ((r = oc_strlist_add(out, n)) != OC_OK) {
			sqlite3_reset(st);
			return r;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? OC_OK : oc_dir_sqlerr(dir, rc, "principals by SID");
}

int
oc_dir_principals_by_sid(struct oc_directory *dir, const struct oc_identity *id,
    struct oc_strlist *principals)
{
	sqlite3_stmt *st = NULL;
	size_t limit = principals->n + OC_GROUPS_MAX;
	int r = OC_OK;

	if (id->sid != NULL && oc_dir_sid_ok(id->sid)) {
		if ((r = oc_dir_stmt_get(dir, OC_DIR_STMT_ACCOUNTS_BY_SID, SQL_ACCOUNTS_BY_SID,
		    &st)) != OC_OK)
			return r;
		r = names_of_sid(dir, st, id->sid, limit, principals);
		oc_dir_stmt_put(dir, st);
		st = NULL;
		if (r != OC_OK)
			return r;
	}
	for (size_t i = 0; i < id->groups.n && i < OC_GROUPS_MAX; i++) {
		if (!oc_dir_sid_ok(id->groups.v[i]))
			continue;       /* a group name (embedded identities) */
		if (st == NULL && (r = oc_dir_stmt_get(dir, OC_DIR_STMT_GROUPS_BY_SID,
		    SQL_GROUPS_BY_SID, &st)) != OC_OK)
			return r;
		if ((r = names_of_sid(dir, st, id->groups.v[i], limit, principals)) != OC_OK)
			break;
	}
	oc_dir_stmt_put(dir, st);
	return r;
}
