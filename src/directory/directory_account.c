/*
 * Accounts, groups (nested, resolved transitively with a depth bound) and
 * Enroll / AutoEnroll rights in the embedded directory. Account and group
 * names share one case-insensitive namespace, so a principal name is never
 * ambiguous. Password verifiers are yescrypt strings; passwords are never
 * stored.
 */
#include "directory/directory.h"
#include "directory/directory_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/log.h"

static int
exec1(struct oc_directory *dir, const char *sql, const char *a, const char *b, int *changes)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = oc_dir_prepare(dir, sql, &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, a)) != OC_OK ||
	    (b != NULL && (r = oc_dir_bind_text(dir, st, 2, b)) != OC_OK) ||
	    (r = oc_dir_step_done(dir, st, sql)) != OC_OK)
		goto out;
	if (changes != NULL)
		*changes = sqlite3_changes(dir->db);
out:
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_principal_kind(struct oc_directory *dir, const char *name, int *kind)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*kind = 0;
	if ((r = oc_dir_prepare(dir, "SELECT 1 FROM accounts WHERE name = ?1 "
	    "UNION ALL SELECT 2 FROM groups WHERE name = ?1", &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, name)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*kind = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		r = oc_dir_sqlerr(dir, rc, "principal");
out:
	sqlite3_finalize(st);
	return r;
}

static const char SQL_GROUPS_OF[] = "SELECT g.name FROM group_members m JOIN groups g "
    "ON g.id = m.group_id WHERE m.member = ?1";

int
oc_dir_groups_of(struct oc_directory *dir, const struct oc_strlist *seeds, struct oc_strlist *out)
{
	sqlite3_stmt *st = NULL;
	struct oc_strlist frontier = { 0 }, next = { 0 };
	int r, rc;

	if ((r = oc_dir_stmt_get(dir, OC_DIR_STMT_GROUPS_OF, SQL_GROUPS_OF, &st)) != OC_OK)
		return r;
	if ((r = oc_strlist_copy(&frontier, seeds)) != OC_OK)
		goto out;
	for (int depth = 0; depth < OC_DIR_GROUP_DEPTH_MAX && frontier.n > 0; depth++) {
		for (size_t i = 0; i < frontier.n; i++) {
			if ((r = oc_dir_bind_text(dir, st, 1, frontier.v[i])) != OC_OK)
				goto out;
			while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
				const char *g = (const char *)sqlite3_column_text(st, 0);

				if (g == NULL || oc_strlist_contains_ci(out, g))
					continue;
				if (out->n >= OC_GROUPS_MAX) {
					r = OC_ERR_LIMIT;
					goto out;
				}
				if ((r = oc_strlist_add(out, g)) != OC_OK ||
				    (r = oc_strlist_add(&next, g)) != OC_OK)
					goto out;
			}
			sqlite3_reset(st);
			if (rc != SQLITE_DONE) {
				r = oc_dir_sqlerr(dir, rc, "groups");
				goto out;
			}
		}
		oc_strlist_free(&frontier);
		frontier = next;
		memset(&next, 0, sizeof(next));
	}
	r = OC_OK;
out:
	oc_dir_stmt_put(dir, st);
	oc_strlist_free(&frontier);
	oc_strlist_free(&next);
	return r;
}

/* Accounts */

#define ACCOUNT_COLS "name, kind, upn, mail, dns_name, dn, sid"

static int
account_from_row(struct oc_directory *dir, sqlite3_stmt *st, struct oc_identity *id)
{
	struct oc_strlist seed = { 0 };
	int r;

	memset(id, 0, sizeof(*id));
	id->kind = sqlite3_column_int(st, 1) == OC_ACCOUNT_COMPUTER ? OC_ACCOUNT_COMPUTER : OC_ACCOUNT_USER;
	if ((r = oc_dir_col_text(st, 0, &id->name)) != OC_OK ||
	    (r = oc_dir_col_text(st, 2, &id->upn)) != OC_OK ||
	    (r = oc_dir_col_text(st, 3, &id->mail)) != OC_OK ||
	    (r = oc_dir_col_text(st, 4, &id->dns_name)) != OC_OK ||
	    (r = oc_dir_col_text(st, 5, &id->dn)) != OC_OK ||
	    (r = oc_dir_col_text(st, 6, &id->sid)) != OC_OK ||
	    (r = oc_strlist_add(&seed, id->name)) != OC_OK ||
	    (r = oc_dir_groups_of(dir, &seed, &id->groups)) != OC_OK)
		oc_identity_clear(id);
	oc_strlist_free(&seed);
	return r;
}

static int
account_query(struct oc_directory *dir, enum oc_dir_stmt_id sid, const char *sql, const char *arg,
    struct oc_identity *id)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	memset(id, 0, sizeof(*id));
	if ((r = oc_dir_stmt_get(dir, sid, sql, &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, arg)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = account_from_row(dir, st, id);
	else
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : oc_dir_sqlerr(dir, rc, "account");
out:
	oc_dir_stmt_put(dir, st);
	return r;
}

static const char SQL_ACCOUNT_BY_NAME[] = "SELECT " ACCOUNT_COLS " FROM accounts WHERE name = ?1";
/* name first, then UPN (both unique): two index lookups, no sort */
static const char SQL_ACCOUNT_BY_LOGIN[] = "SELECT " ACCOUNT_COLS " FROM accounts "
    "WHERE id = coalesce((SELECT id FROM accounts WHERE name = ?1), "
    "(SELECT id FROM accounts WHERE upn = ?1))";

int
oc_dir_account_get(struct oc_directory *dir, const char *name, struct oc_identity *id)
{
	memset(id, 0, sizeof(*id));
	if (!oc_dir_name_ok(name, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	return account_query(dir, OC_DIR_STMT_ACCOUNT_BY_NAME, SQL_ACCOUNT_BY_NAME, name, id);
}

int
oc_dir_account_lookup_login(struct oc_directory *dir, const char *login, struct oc_identity *id)
{
	const char *bs;

	memset(id, 0, sizeof(*id));
	if (login == NULL || strnlen(login, OC_USERNAME_MAX + 1) > OC_USERNAME_MAX)
		return OC_ERR_NOT_FOUND;
	/* DOMAIN\name: the domain part is not checked (one embedded domain) */
	if ((bs = strrchr(login, '\\')) != NULL)
		return oc_dir_account_get(dir, bs + 1, id);
	if (!oc_dir_name_ok(login, OC_USERNAME_MAX))
		return OC_ERR_NOT_FOUND;
	return account_query(dir, OC_DIR_STMT_ACCOUNT_BY_LOGIN, SQL_ACCOUNT_BY_LOGIN, login, id);
}

static int
account_check(const struct oc_identity *a)
{
	if (a == NULL || !oc_dir_name_ok(a->name, OC_NAME_MAX) || strchr(a->name, '\\') != NULL ||
	    (a->kind != OC_ACCOUNT_USER && a->kind != OC_ACCOUNT_COMPUTER) ||
	    (a->upn != NULL && !oc_dir_name_ok(a->upn, OC_USERNAME_MAX)) ||
	    (a->upn != NULL && strchr(a->upn, '@') == NULL) ||
	    (a->mail != NULL && !oc_dir_name_ok(a->mail, OC_NAME_MAX)) ||
	    (a->dns_name != NULL && !oc_dir_name_ok(a->dns_name, OC_NAME_MAX)) ||
	    (a->dn != NULL && !oc_dir_name_ok(a->dn, OC_SUBJECT_MAX)) ||
	    (a->sid != NULL && (!oc_dir_name_ok(a->sid, 184) || strncmp(a->sid, "S-1-", 4) != 0)))
		return OC_ERR_INVALID;
	return OC_OK;
}

int
oc_dir_account_add(struct oc_directory *dir, const struct oc_identity *a, const char *password)
{
	sqlite3_stmt *st = NULL;
	char *verifier = NULL;
	int r, kind = 0;

	if ((r = account_check(a)) != OC_OK) {
		log_error("directory: invalid account attributes");
		return r;
	}
	if ((r = oc_dir_writable(dir)) != OC_OK)
		return r;
	if (password != NULL && (r = oc_dir_hash_password(password, &verifier)) != OC_OK)
		return r;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		goto out;
	if ((r = oc_dir_principal_kind(dir, a->name, &kind)) != OC_OK)
		goto out;
	if (kind != 0) {
		r = OC_ERR_EXISTS;
		goto out;
	}
	if ((r = oc_dir_prepare(dir, "INSERT INTO accounts (" ACCOUNT_COLS ", verifier) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &st)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, a->name)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 3, a->upn)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 4, a->mail)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 5, a->dns_name)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 6, a->dn)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 7, a->sid)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 8, verifier)) != OC_OK)
		goto out;
	sqlite3_bind_int(st, 2, (int)a->kind);
	if ((r = oc_dir_step_done(dir, st, "account insert")) != OC_OK)
		goto out;   /* OC_ERR_EXISTS on a duplicate UPN */
	/* like an AD primary group: users join Domain Users, computers Domain Computers */
	if ((r = exec1(dir, "INSERT OR IGNORE INTO group_members (group_id, member) "
	    "SELECT id, ?1 FROM groups WHERE name = ?2", a->name,
	    a->kind == OC_ACCOUNT_COMPUTER ? OC_DIR_GROUP_COMPUTERS : OC_DIR_GROUP_USERS, NULL)) != OC_OK ||
	    (r = oc_dir_bump_serial(dir, NULL)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	sqlite3_finalize(st);
	oc_free_secret(verifier);
	return r;
}

int
oc_dir_account_set_password(struct oc_directory *dir, const char *name, const char *password)
{
	char *verifier = NULL;
	int r, changes = 0;

	if ((r = oc_dir_writable(dir)) != OC_OK)
		return r;
	if (!oc_dir_name_ok(name, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	/* NULL password: the account can no longer log in with a password */
	if (password != NULL && (r = oc_dir_hash_password(password, &verifier)) != OC_OK)
		return r;
	/* ?2 stays unbound (NULL) when verifier is NULL */
	if ((r = exec1(dir, "UPDATE accounts SET verifier = ?2 WHERE name = ?1", name,
	    verifier, &changes)) != OC_OK)
		goto out;
	r = changes == 0 ? OC_ERR_NOT_FOUND : OC_OK;
out:
	oc_free_secret(verifier);
	return r;
}

/* Delete a principal's memberships and grants (inside a transaction). */
static int
principal_forget(struct oc_directory *dir, const char *name)
{
	int r;

	if ((r = exec1(dir, "DELETE FROM group_members WHERE member = ?1", name, NULL, NULL)) != OC_OK ||
	    (r = exec1(dir, "DELETE FROM rights WHERE principal = ?1", name, NULL, NULL)) != OC_OK)
		return r;
	return oc_dir_bump_serial(dir, NULL);
}

/* Delete one account or group (delete_sql names it as ?1) and what refers to it. */
static int
principal_remove(struct oc_directory *dir, const char *delete_sql, const char *name)
{
	int r, changes = 0;

	if (!oc_dir_name_ok(name, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = exec1(dir, delete_sql, name, NULL, &changes)) != OC_OK)
		goto out;
	if (changes == 0) {
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = principal_forget(dir, name)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	return r;
}

int
oc_dir_account_remove(struct oc_directory *dir, const char *name)
{
	return principal_remove(dir, "DELETE FROM accounts WHERE name = ?1", name);
}

static const char SQL_VERIFIER[] = "SELECT verifier FROM accounts WHERE name = ?1";

int
oc_dir_account_verifier(struct oc_directory *dir, const char *name, char **verifier)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*verifier = NULL;
	if (!oc_dir_name_ok(name, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if ((r = oc_dir_stmt_get(dir, OC_DIR_STMT_VERIFIER, SQL_VERIFIER, &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, name)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		r = oc_dir_col_text(st, 0, verifier);
	else
		r = rc == SQLITE_ROW || rc == SQLITE_DONE ? OC_ERR_NOT_FOUND :
		    oc_dir_sqlerr(dir, rc, "verifier");
out:
	oc_dir_stmt_put(dir, st);
	return r;
}

static const char SQL_LOGIN_BY_NAME[] = "SELECT a.name, a.verifier, m.serial "
    "FROM accounts a, policy_meta m WHERE m.id = 1 AND a.name = ?1";
/* name first, then UPN (both unique): two index lookups, no sort */
static const char SQL_LOGIN_BY_LOGIN[] = "SELECT a.name, a.verifier, m.serial "
    "FROM policy_meta m JOIN accounts a ON a.id = coalesce("
    "(SELECT id FROM accounts WHERE name = ?1), (SELECT id FROM accounts WHERE upn = ?1)) "
    "WHERE m.id = 1";

int
oc_dir_login_state(struct oc_directory *dir, const char *login, char **name, char **verifier,
    int64_t *serial)
{
	sqlite3_stmt *st = NULL;
	const char *bs, *arg = login;
	int r, rc, by_name = 0;

	*name = NULL;
	*verifier = NULL;
	*serial = 0;
	if (login == NULL || strnlen(login, OC_USERNAME_MAX + 1) > OC_USERNAME_MAX)
		return OC_ERR_NOT_FOUND;
	/* the same matching as oc_dir_account_lookup_login */
	if ((bs = strrchr(login, '\\')) != NULL) {
		arg = bs + 1;
		by_name = 1;
		if (!oc_dir_name_ok(arg, OC_NAME_MAX))
			return OC_ERR_NOT_FOUND;
	} else if (!oc_dir_name_ok(login, OC_USERNAME_MAX)) {
		return OC_ERR_NOT_FOUND;
	}
	if ((r = by_name ?
	    oc_dir_stmt_get(dir, OC_DIR_STMT_LOGIN_BY_NAME, SQL_LOGIN_BY_NAME, &st) :
	    oc_dir_stmt_get(dir, OC_DIR_STMT_LOGIN_BY_LOGIN, SQL_LOGIN_BY_LOGIN, &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, arg)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : oc_dir_sqlerr(dir, rc, "login");
		goto out;
	}
	if ((r = oc_dir_col_text(st, 0, name)) != OC_OK ||
	    (r = oc_dir_col_text(st, 1, verifier)) != OC_OK)
		goto out;
	if (*name == NULL) {
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	*serial = sqlite3_column_int64(st, 2);
	r = OC_OK;
out:
	oc_dir_stmt_put(dir, st);
	if (r != OC_OK) {
		free(*name);
		*name = NULL;
		oc_free_secret(*verifier);
		*verifier = NULL;
		*serial = 0;
	}
	return r;
}

void
oc_dir_account_list_free(struct oc_identity *idv, size_t n)
{
	if (idv == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		oc_identity_clear(&idv[i]);
	free(idv);
}

int
oc_dir_account_list(struct oc_directory *dir, struct oc_identity **idvp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	struct oc_identity *idv = NULL, *nv;
	size_t n = 0;
	int r, rc;

	*idvp = NULL;
	*np = 0;
	if ((r = oc_dir_prepare(dir, "SELECT " ACCOUNT_COLS " FROM accounts ORDER BY name", &st)) != OC_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((nv = realloc(idv, (n + 1) * sizeof(*idv))) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		idv = nv;
		if ((r = account_from_row(dir, st, &idv[n])) != OC_OK)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = oc_dir_sqlerr(dir, rc, "account list");
		goto out;
	}
	*idvp = idv;
	*np = n;
	idv = NULL;
	n = 0;
	r = OC_OK;
out:
	sqlite3_finalize(st);
	oc_dir_account_list_free(idv, n);
	return r;
}

/* Groups */

int
oc_dir_group_add(struct oc_directory *dir, const char *name)
{
	return oc_dir_group_add_sid(dir, name, NULL);
}

int
oc_dir_group_remove(struct oc_directory *dir, const char *name)
{
	/* its own member rows go by ON DELETE CASCADE */
	return principal_remove(dir, "DELETE FROM groups WHERE name = ?1", name);
}

int
oc_dir_group_add_member(struct oc_directory *dir, const char *group, const char *member)
{
	int r, kind = 0;

	if (!oc_dir_name_ok(group, OC_NAME_MAX) || !oc_dir_name_ok(member, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if (strcasecmp(group, member) == 0)
		return OC_ERR_INVALID;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = oc_dir_principal_kind(dir, group, &kind)) != OC_OK)
		goto out;
	if (kind != 2) {
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = oc_dir_principal_kind(dir, member, &kind)) != OC_OK)
		goto out;
	if (kind == 0) {
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = exec1(dir, "INSERT INTO group_members (group_id, member) "
	    "SELECT id, ?2 FROM groups WHERE name = ?1", group, member, NULL)) != OC_OK ||
	    (r = oc_dir_bump_serial(dir, NULL)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	return r;
}

int
oc_dir_group_remove_member(struct oc_directory *dir, const char *group, const char *member)
{
	int r, changes = 0;

	if (!oc_dir_name_ok(group, OC_NAME_MAX) || !oc_dir_name_ok(member, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = exec1(dir, "DELETE FROM group_members WHERE member = ?2 AND "
	    "group_id = (SELECT id FROM groups WHERE name = ?1)", group, member, &changes)) != OC_OK)
		goto out;
	if (changes == 0) {
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = oc_dir_bump_serial(dir, NULL)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	return r;
}

static int
names_query(struct oc_directory *dir, const char *sql, const char *arg, size_t max,
    struct oc_strlist *names)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = oc_dir_prepare(dir, sql, &st)) != OC_OK)
		return r;
	if (arg != NULL && (r = oc_dir_bind_text(dir, st, 1, arg)) != OC_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (names->n >= max) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((r = oc_strlist_add(names, (const char *)sqlite3_column_text(st, 0))) != OC_OK)
			goto out;
	}
	r = rc == SQLITE_DONE ? OC_OK : oc_dir_sqlerr(dir, rc, "names");
out:
	sqlite3_finalize(st);
	if (r != OC_OK)
		oc_strlist_free(names);
	return r;
}

int
oc_dir_group_list(struct oc_directory *dir, struct oc_strlist *names)
{
	memset(names, 0, sizeof(*names));
	return names_query(dir, "SELECT name FROM groups ORDER BY name", NULL, SIZE_MAX, names);
}

int
oc_dir_group_members(struct oc_directory *dir, const char *group, struct oc_strlist *members)
{
	int r, kind = 0;

	memset(members, 0, sizeof(*members));
	if (!oc_dir_name_ok(group, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if ((r = oc_dir_principal_kind(dir, group, &kind)) != OC_OK)
		return r;
	if (kind != 2)
		return OC_ERR_NOT_FOUND;
	return names_query(dir, "SELECT m.member FROM group_members m JOIN groups g ON g.id = m.group_id "
	    "WHERE g.name = ?1 ORDER BY m.member", group, SIZE_MAX, members);
}

/* Rights */

static int
rights_change(struct oc_directory *dir, const char *cn, const char *principal, uint32_t rights,
    int grant)
{
	sqlite3_stmt *st = NULL;
	int64_t n = 0;
	int r, rc, kind = 0, changes;
	int e = (rights & OC_RIGHT_ENROLL) != 0, a = (rights & OC_RIGHT_AUTOENROLL) != 0;

	if (!oc_dir_name_ok(cn, OC_TEMPLATE_NAME_MAX) || !oc_dir_name_ok(principal, OC_NAME_MAX))
		return OC_ERR_NOT_FOUND;
	if (rights == 0 || (rights & ~(OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL)) != 0)
		return OC_ERR_INVALID;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if (grant) {
		if ((r = oc_dir_prepare(dir, "SELECT count(*) FROM templates WHERE cn = ?1", &st)) != OC_OK ||
		    (r = oc_dir_bind_text(dir, st, 1, cn)) != OC_OK)
			goto out;
		if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
			r = oc_dir_sqlerr(dir, rc, "template");
			goto out;
		}
		n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		st = NULL;
		if ((r = oc_dir_principal_kind(dir, principal, &kind)) != OC_OK)
			goto out;
		if (n == 0 || kind == 0) {
			r = OC_ERR_NOT_FOUND;
			goto out;
		}
		r = oc_dir_prepare(dir, "INSERT INTO rights (template_cn, principal, enroll, autoenroll) "
		    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (template_cn, principal) DO UPDATE SET "
		    "enroll = enroll | excluded.enroll, autoenroll = autoenroll | excluded.autoenroll", &st);
	} else {
		r = oc_dir_prepare(dir, "UPDATE rights SET enroll = enroll AND NOT ?3, "
		    "autoenroll = autoenroll AND NOT ?4 WHERE template_cn = ?1 AND principal = ?2", &st);
	}
	if (r != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, cn)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 2, principal)) != OC_OK)
		goto out;
	sqlite3_bind_int(st, 3, e);
	sqlite3_bind_int(st, 4, a);
	if ((r = oc_dir_step_done(dir, st, "rights")) != OC_OK)
		goto out;
	changes = sqlite3_changes(dir->db);
	if (!grant && changes == 0) {
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	if ((r = exec1(dir, "DELETE FROM rights WHERE template_cn = ?1 AND enroll = 0 AND autoenroll = 0",
	    cn, NULL, NULL)) != OC_OK ||
	    (r = oc_dir_bump_serial(dir, NULL)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_grant(struct oc_directory *dir, const char *template_cn, const char *principal, uint32_t rights)
{
	return rights_change(dir, template_cn, principal, rights, 1);
}

int
oc_dir_revoke(struct oc_directory *dir, const char *template_cn, const char *principal, uint32_t rights)
{
	return rights_change(dir, template_cn, principal, rights, 0);
}

static const char SQL_RIGHTS[] = "SELECT enroll, autoenroll FROM rights "
    "WHERE template_cn = ?1 AND principal = ?2";

int
oc_dir_rights(struct oc_directory *dir, const char *template_cn, const struct oc_identity *id,
    uint32_t *rights)
{
	sqlite3_stmt *st = NULL;
	struct oc_strlist principals = { 0 }, groups = { 0 };
	int r, rc, has_sd = 0;

	*rights = 0;
	if (!oc_dir_name_ok(template_cn, OC_TEMPLATE_NAME_MAX) || id == NULL)
		return OC_ERR_INVALID;
	if (id->name != NULL && (r = oc_strlist_add(&principals, id->name)) != OC_OK)
		goto out;
	/* accounts and groups the caller's SIDs designate (Kerberos: the PAC's) */
	if ((r = oc_dir_principals_by_sid(dir, id, &principals)) != OC_OK)
		goto out;
	/* groups the caller brought (e.g. from oc_dir_account_get), then ours */
	for (size_t i = 0; i < id->groups.n && i < OC_GROUPS_MAX; i++)
		if (!oc_strlist_contains_ci(&principals, id->groups.v[i]) &&
		    (r = oc_strlist_add(&principals, id->groups.v[i])) != OC_OK)
			goto out;
	if ((r = oc_dir_groups_of(dir, &principals, &groups)) != OC_OK)
		goto out;
	for (size_t i = 0; i < groups.n; i++)
		if (!oc_strlist_contains_ci(&principals, groups.v[i]) &&
		    (r = oc_strlist_add(&principals, groups.v[i])) != OC_OK)
			goto out;
	/* a template with an nTSecurityDescriptor: that alone decides */
	if ((r = oc_dir_sd_rights(dir, template_cn, id, &principals, &has_sd, rights)) != OC_OK ||
	    has_sd)
		goto out;
	if ((r = oc_dir_stmt_get(dir, OC_DIR_STMT_RIGHTS, SQL_RIGHTS, &st)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, template_cn)) != OC_OK)
		goto out;
	for (size_t i = 0; i < principals.n; i++) {
		if ((r = oc_dir_bind_text(dir, st, 2, principals.v[i])) != OC_OK)
			goto out;
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			if (sqlite3_column_int(st, 0))
				*rights |= OC_RIGHT_ENROLL;
			if (sqlite3_column_int(st, 1))
				*rights |= OC_RIGHT_AUTOENROLL;
		} else if (rc != SQLITE_DONE) {
			r = oc_dir_sqlerr(dir, rc, "rights");
			goto out;
		}
		sqlite3_reset(st);
	}
	r = OC_OK;
out:
	if (r != OC_OK)
		*rights = 0;
	oc_dir_stmt_put(dir, st);
	oc_strlist_free(&principals);
	oc_strlist_free(&groups);
	return r;
}

void
oc_dir_grants_free(struct oc_dir_grant *gv, size_t n)
{
	if (gv == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(gv[i].principal);
	free(gv);
}

int
oc_dir_template_grants(struct oc_directory *dir, const char *template_cn,
    struct oc_dir_grant **gvp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	struct oc_dir_grant *gv = NULL, *nv;
	size_t n = 0;
	int r, rc;

	*gvp = NULL;
	*np = 0;
	if (!oc_dir_name_ok(template_cn, OC_TEMPLATE_NAME_MAX))
		return OC_ERR_INVALID;
	if ((r = oc_dir_prepare(dir, "SELECT principal, enroll, autoenroll FROM rights "
	    "WHERE template_cn = ?1 ORDER BY principal", &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, template_cn)) != OC_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((nv = realloc(gv, (n + 1) * sizeof(*gv))) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		gv = nv;
		gv[n].rights = (sqlite3_column_int(st, 1) ? OC_RIGHT_ENROLL : 0) |
		    (sqlite3_column_int(st, 2) ? OC_RIGHT_AUTOENROLL : 0);
		if ((r = oc_dir_col_text(st, 0, &gv[n].principal)) != OC_OK)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = oc_dir_sqlerr(dir, rc, "grants");
		goto out;
	}
	*gvp = gv;
	*np = n;
	gv = NULL;
	n = 0;
	r = OC_OK;
out:
	sqlite3_finalize(st);
	oc_dir_grants_free(gv, n);
	return r;
}
