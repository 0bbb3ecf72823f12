/*
 * The embedded directory over SQLite: opening (WAL, synchronous=FULL,
 * busy_timeout, foreign keys), the versioned schema and its migrations, the
 * policy serial, password hashing and the small helpers the other
 * directory_*.c files share.
 */
#include "directory/directory.h"
#include "directory/directory_int.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/limits.h"
#include "common/log.h"

/*
 * migrations[i] takes the schema from user_version i to i + 1. Never edit a
 * released entry: append a new one and bump OC_DIR_SCHEMA_VERSION.
 */
static const char *const migrations[OC_DIR_SCHEMA_VERSION] = {
	/* 0 -> 1: initial schema */
	"CREATE TABLE policy_meta ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  serial INTEGER NOT NULL,"
	"  changed INTEGER NOT NULL);"
	"INSERT INTO policy_meta (id, serial, changed) VALUES (1, 1, CAST(strftime('%s','now') AS INTEGER));"
	"CREATE TABLE templates ("
	"  id INTEGER PRIMARY KEY,"
	"  cn TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  display_name TEXT,"
	"  oid TEXT NOT NULL UNIQUE,"
	"  schema_version INTEGER NOT NULL CHECK (schema_version BETWEEN 1 AND 4),"
	"  revision INTEGER NOT NULL,"
	"  minor_revision INTEGER NOT NULL,"
	"  general_flags INTEGER NOT NULL,"          /* uint32 */
	"  enrollment_flags INTEGER NOT NULL,"
	"  private_key_flags INTEGER NOT NULL,"
	"  name_flags INTEGER NOT NULL,"
	"  min_key_size INTEGER NOT NULL,"
	"  key_spec INTEGER NOT NULL,"
	"  ra_signatures INTEGER NOT NULL,"
	"  max_issuing_depth INTEGER NOT NULL,"
	"  validity_seconds INTEGER NOT NULL,"
	"  renewal_seconds INTEGER NOT NULL,"
	"  key_usage INTEGER,"                       /* NULL: no pKIKeyUsage */
	"  eku TEXT,"                                /* lists: newline-joined */
	"  app_policies TEXT,"
	"  cert_policies TEXT,"
	"  critical_exts TEXT,"
	"  ra_app_policies TEXT,"
	"  ra_policies TEXT,"
	"  superseded TEXT,"
	"  csps TEXT,"                               /* lines \"priority,name\" */
	"  key_algorithm TEXT,"
	"  hash_algorithm TEXT,"
	"  security_descriptor BLOB,"
	"  changed INTEGER NOT NULL);"               /* policy serial of the last change */
	"CREATE TABLE cas ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  dns_host_name TEXT,"
	"  cert BLOB,"
	"  changed INTEGER NOT NULL);"
	"CREATE TABLE ca_templates ("
	"  ca INTEGER NOT NULL REFERENCES cas(id) ON DELETE CASCADE,"
	"  pos INTEGER NOT NULL,"
	"  template_cn TEXT NOT NULL COLLATE NOCASE,"
	"  PRIMARY KEY (ca, pos));"
	"CREATE TABLE ca_uris ("
	"  ca INTEGER NOT NULL REFERENCES cas(id) ON DELETE CASCADE,"
	"  pos INTEGER NOT NULL,"
	"  auth INTEGER NOT NULL,"
	"  uri TEXT NOT NULL,"
	"  priority INTEGER NOT NULL,"
	"  renewal_only INTEGER NOT NULL,"
	"  PRIMARY KEY (ca, pos));"
	"CREATE TABLE accounts ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	"  kind INTEGER NOT NULL CHECK (kind IN (0, 1)),"
	"  upn TEXT UNIQUE COLLATE NOCASE,"
	"  mail TEXT,"
	"  dns_name TEXT,"
	"  dn TEXT,"
	"  sid TEXT,"
	"  verifier TEXT);"
	"CREATE TABLE groups ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE COLLATE NOCASE);"
	"CREATE TABLE group_members ("
	"  group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
	"  member TEXT NOT NULL COLLATE NOCASE,"
	"  PRIMARY KEY (group_id, member));"
	"CREATE INDEX group_members_member ON group_members(member);"
	"CREATE TABLE rights ("
	"  template_cn TEXT NOT NULL COLLATE NOCASE,"
	"  principal TEXT NOT NULL COLLATE NOCASE,"
	"  enroll INTEGER NOT NULL DEFAULT 0,"
	"  autoenroll INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (template_cn, principal));"
	"CREATE INDEX rights_principal ON rights(principal);",
	/* 1 -> 2: group SIDs (rights for Kerberos callers whose groups are PAC SIDs) */
	"ALTER TABLE groups ADD COLUMN sid TEXT COLLATE NOCASE;"
	"CREATE UNIQUE INDEX groups_sid ON groups(sid) WHERE sid IS NOT NULL;"
	"CREATE INDEX accounts_sid ON accounts(sid) WHERE sid IS NOT NULL;",
	/*
	 * 2 -> 3: explicit certificate mappings (directory_certmap.c). A removed
	 * account leaves its rows with account NULL: the certificate is then
	 * refused instead of falling back to its names.
	 */
	"CREATE TABLE IF NOT EXISTS cert_maps ("
	"  id INTEGER PRIMARY KEY,"
	"  account INTEGER REFERENCES accounts(id) ON DELETE SET NULL,"
	"  issuer_serial TEXT UNIQUE,"
	"  sha256 TEXT UNIQUE,"
	"  CHECK (issuer_serial IS NOT NULL OR sha256 IS NOT NULL));"
	"CREATE INDEX IF NOT EXISTS cert_maps_account ON cert_maps(account);",
	/*
	 * 3 -> 4: the LDAP mirror (directory_mirror.c). source NULL = embedded
	 * row; "ldap" = mirrored, replaced as a whole by each sync. Enterprise
	 * OIDs (CN=OID) and the sync status of the mirror. The source columns
	 * of templates and cas are added by add_columns (only when missing).
	 */
	"CREATE TABLE IF NOT EXISTS oids ("
	"  oid TEXT PRIMARY KEY,"
	"  display_name TEXT,"
	"  flags INTEGER NOT NULL,"
	"  source TEXT);"
	"CREATE TABLE IF NOT EXISTS sync_status ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  source TEXT NOT NULL,"
	"  last_attempt INTEGER NOT NULL DEFAULT 0,"
	"  last_success INTEGER NOT NULL DEFAULT 0,"
	"  last_change INTEGER NOT NULL DEFAULT 0,"
	"  last_error TEXT,"
	"  failures INTEGER NOT NULL DEFAULT 0,"
	"  last_usn INTEGER NOT NULL DEFAULT 0,"
	"  stamp TEXT,"
	"  content_hash TEXT,"
	"  templates INTEGER NOT NULL DEFAULT 0,"
	"  cas INTEGER NOT NULL DEFAULT 0);",
};

int
oc_dir_sqlerr(struct oc_directory *dir, int rc, const char *what)
{
	int prim = rc & 0xff;

	log_error("directory: %s: %s (%d)", what,
	    dir && dir->db ? sqlite3_errmsg(dir->db) : sqlite3_errstr(rc), rc);
	if (prim == SQLITE_NOMEM)
		return OC_ERR_NOMEM;
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return OC_ERR_TIMEOUT;
	return OC_ERR_STORE;
}

int
oc_dir_prepare(struct oc_directory *dir, const char *sql, sqlite3_stmt **st)
{
	int rc;

	*st = NULL;
	if ((rc = sqlite3_prepare_v2(dir->db, sql, -1, st, NULL)) != SQLITE_OK)
		return oc_dir_sqlerr(dir, rc, "prepare");
	return OC_OK;
}

int
oc_dir_stmt_get(struct oc_directory *dir, enum oc_dir_stmt_id id, const char *sql,
    sqlite3_stmt **st)
{
	unsigned int bit;
	int r;

	*st = NULL;
	if ((unsigned int)id >= OC_DIR_STMT_COUNT)
		return OC_ERR_INVALID;
	bit = 1u << id;
	if ((dir->stmt_busy & bit) != 0 ||
	    (dir->stmts[id] != NULL && dir->stmt_sql[id] != sql))
		return oc_dir_prepare(dir, sql, st);    /* nested use: a fresh one */
	if (dir->stmts[id] == NULL) {
		if ((r = oc_dir_prepare(dir, sql, &dir->stmts[id])) != OC_OK)
			return r;
		dir->stmt_sql[id] = sql;
	}
	dir->stmt_busy |= bit;
	*st = dir->stmts[id];
	return OC_OK;
}

void
oc_dir_stmt_put(struct oc_directory *dir, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; dir != NULL && i < OC_DIR_STMT_COUNT; i++) {
		if (dir->stmts[i] == st) {
			/* ends the statement's read transaction: later reads see new data */
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			dir->stmt_busy &= ~(1u << i);
			return;
		}
	}
	sqlite3_finalize(st);
}

int
oc_dir_step_done(struct oc_directory *dir, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE || rc == SQLITE_ROW)
		return OC_OK;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return OC_ERR_EXISTS;
	return oc_dir_sqlerr(dir, rc, what);
}

int
oc_dir_bind_text(struct oc_directory *dir, sqlite3_stmt *st, int idx, const char *s)
{
	int rc;

	if (s == NULL)
		rc = sqlite3_bind_null(st, idx);
	else
		rc = sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
	return rc == SQLITE_OK ? OC_OK : oc_dir_sqlerr(dir, rc, "bind");
}

static int
exec_sql(struct oc_directory *dir, const char *sql)
{
	char *msg = NULL;
	int rc;

	if ((rc = sqlite3_exec(dir->db, sql, NULL, NULL, &msg)) != SQLITE_OK) {
		log_error("directory: %s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return (rc & 0xff) == SQLITE_BUSY ? OC_ERR_TIMEOUT : OC_ERR_STORE;
	}
	return OC_OK;
}

int
oc_dir_writable(struct oc_directory *dir)
{
	if (dir == NULL)
		return OC_ERR_INVALID;
	if (dir->readonly) {
		log_error("directory: opened read-only");
		return OC_ERR_DENIED;
	}
	return OC_OK;
}

int
oc_dir_begin(struct oc_directory *dir)
{
	int r;

	if ((r = oc_dir_writable(dir)) != OC_OK)
		return r;
	return exec_sql(dir, "BEGIN IMMEDIATE");
}

int
oc_dir_commit(struct oc_directory *dir)
{
	return exec_sql(dir, "COMMIT");
}

void
oc_dir_rollback(struct oc_directory *dir)
{
	if (dir != NULL && dir->db != NULL && !sqlite3_get_autocommit(dir->db))
		(void)sqlite3_exec(dir->db, "ROLLBACK", NULL, NULL, NULL);
}

int
oc_dir_bump_serial(struct oc_directory *dir, int64_t *serial)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = oc_dir_prepare(dir, "UPDATE policy_meta SET serial = serial + 1, changed = ?1 "
	    "WHERE id = 1 RETURNING serial", &st)) != OC_OK)
		return r;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL));
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = oc_dir_sqlerr(dir, rc, "bump serial");
		goto out;
	}
	if (serial != NULL)
		*serial = sqlite3_column_int64(st, 0);
	r = OC_OK;
out:
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_col_text(sqlite3_stmt *st, int col, char **out)
{
	const unsigned char *s;

	*out = NULL;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return OC_OK;
	if ((s = sqlite3_column_text(st, col)) == NULL)
		return OC_ERR_NOMEM;
	if ((*out = strdup((const char *)s)) == NULL)
		return OC_ERR_NOMEM;
	return OC_OK;
}

int
oc_dir_line_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return 1;
	if ((n = strnlen(s, max + 1)) > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

int
oc_dir_name_ok(const char *s, size_t max)
{
	size_t n;

	if (s == NULL || !oc_dir_line_ok(s, max) || (n = strlen(s)) == 0)
		return 0;
	return s[0] != ' ' && s[n - 1] != ' ';
}

int
oc_dir_oid_ok(const char *s)
{
	size_t n, i;
	int arcs = 0, digits = 0;

	if (s == NULL || (n = strnlen(s, OC_OID_MAX + 1)) == 0 || n > OC_OID_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			digits++;
		} else if (s[i] == '.' && digits > 0) {
			arcs++;
			digits = 0;
		} else {
			return 0;
		}
	}
	return digits > 0 && arcs >= 1;
}

int
oc_dir_list_join(const struct oc_strlist *l, char **out)
{
	size_t total = 0, off = 0;
	char *s;

	*out = NULL;
	if (l->n == 0)
		return OC_OK;
	if (l->n > OC_LIST_MAX)
		return OC_ERR_LIMIT;
	for (size_t i = 0; i < l->n; i++) {
		if (!oc_dir_name_ok(l->v[i], OC_DIR_ITEM_MAX))
			return OC_ERR_INVALID;
		total += strlen(l->v[i]) + 1;
	}
	if ((s = malloc(total)) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < l->n; i++) {
		size_t k = strlen(l->v[i]);
		memcpy(s + off, l->v[i], k);
		off += k;
		s[off++] = i + 1 < l->n ? '\n' : '\0';
	}
	*out = s;
	return OC_OK;
}

int
oc_dir_list_split(const char *text, struct oc_strlist *l)
{
	const char *p = text, *nl;
	int r;

	if (text == NULL)
		return OC_OK;
	while (*p != '\0') {
		if (l->n >= OC_LIST_MAX)
			return OC_ERR_LIMIT;
		nl = strchr(p, '\n');
		size_t k = nl ? (size_t)(nl - p) : strlen(p);
		if (k > 0 && (r = oc_strlist_addn(l, p, k)) != OC_OK)
			return r;
		p += k;
		if (*p == '\n')
			p++;
	}
	return OC_OK;
}

static int
configure(struct oc_directory *dir)
{
	int r, on = 1;

	sqlite3_extended_result_codes(dir->db, 1);
	sqlite3_busy_timeout(dir->db, 5000);
	(void)sqlite3_db_config(dir->db, SQLITE_DBCONFIG_DEFENSIVE, on, NULL);
	(void)sqlite3_db_config(dir->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	if ((r = exec_sql(dir, "PRAGMA foreign_keys = ON")) != OC_OK)
		return r;
	if (dir->readonly)
		return exec_sql(dir, "PRAGMA query_only = ON");
	if ((r = exec_sql(dir, "PRAGMA journal_mode = WAL")) != OC_OK ||
	    (r = exec_sql(dir, "PRAGMA synchronous = FULL")) != OC_OK)
		return r;
	return OC_OK;
}

static int
user_version(struct oc_directory *dir, int *v)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = oc_dir_prepare(dir, "PRAGMA user_version", &st)) != OC_OK)
		return r;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW)
		r = oc_dir_sqlerr(dir, rc, "user_version");
	else
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return r;
}

/* Columns later schema versions add, each only when missing (ALTER has no IF NOT EXISTS). */
static const struct {
	int version;                    /* added by the migration to this version */
	const char *table, *column, *sql;
} added_columns[] = {
	{ 4, "templates", "source", "ALTER TABLE templates ADD COLUMN source TEXT" },
	{ 4, "cas", "source", "ALTER TABLE cas ADD COLUMN source TEXT" },
};

static int
add_columns(struct oc_directory *dir, int version)
{
	sqlite3_stmt *st = NULL;
	int r = OC_OK, rc;

	for (size_t i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
		if (added_columns[i].version != version)
			continue;
		if ((r = oc_dir_prepare(dir, "SELECT count(*) FROM pragma_table_info(?1) "
		    "WHERE name = ?2", &st)) != OC_OK ||
		    (r = oc_dir_bind_text(dir, st, 1, added_columns[i].table)) != OC_OK ||
		    (r = oc_dir_bind_text(dir, st, 2, added_columns[i].column)) != OC_OK)
			break;
		if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
			r = oc_dir_sqlerr(dir, rc, "table info");
			break;
		}
		if (sqlite3_column_int(st, 0) == 0 &&
		    (r = exec_sql(dir, added_columns[i].sql)) != OC_OK)
			break;
		sqlite3_finalize(st);
		st = NULL;
	}
	sqlite3_finalize(st);
	return r;
}

static int
migrate(struct oc_directory *dir)
{
	char sql[64];
	int r, v = 0;

	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = user_version(dir, &v)) != OC_OK)
		goto out;
	if (v > OC_DIR_SCHEMA_VERSION) {
		log_error("directory: schema version %d is newer than this program (%d)",
		    v, OC_DIR_SCHEMA_VERSION);
		r = OC_ERR_CONFIG;
		goto out;
	}
	for (; v < OC_DIR_SCHEMA_VERSION; v++) {
		log_info("directory: migrating schema %d -> %d", v, v + 1);
		if ((r = exec_sql(dir, migrations[v])) != OC_OK ||
		    (r = add_columns(dir, v + 1)) != OC_OK)
			goto out;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", OC_DIR_SCHEMA_VERSION);
	if ((r = exec_sql(dir, sql)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	return r;
}

static int
dir_open(const char *path, int flags, int readonly, struct oc_directory **dirp)
{
	struct oc_directory *dir = NULL;
	int r, rc, v = 0;

	*dirp = NULL;
	if (path == NULL)
		return OC_ERR_INVALID;
	if ((dir = calloc(1, sizeof(*dir))) == NULL)
		return OC_ERR_NOMEM;
	dir->readonly = readonly;
	rc = sqlite3_open_v2(path, &dir->db, flags | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK) {
		r = (rc & 0xff) == SQLITE_CANTOPEN ? OC_ERR_NOT_FOUND :
		    oc_dir_sqlerr(dir, rc, path);
		if (r == OC_ERR_NOT_FOUND)
			log_error("directory: cannot open %s", path);
		goto out;
	}
	if ((r = configure(dir)) != OC_OK)
		goto out;
	if (readonly) {
		if ((r = user_version(dir, &v)) != OC_OK)
			goto out;
		if (v != OC_DIR_SCHEMA_VERSION) {
			log_error("directory: %s has schema version %d, expected %d", path, v,
			    OC_DIR_SCHEMA_VERSION);
			r = v == 0 ? OC_ERR_NOT_FOUND : OC_ERR_CONFIG;
			goto out;
		}
	} else if ((r = migrate(dir)) != OC_OK) {
		goto out;
	}
	*dirp = dir;
	dir = NULL;
	r = OC_OK;
out:
	oc_dir_close(dir);
	return r;
}

int
oc_dir_open(const char *path, int create, struct oc_directory **dirp)
{
	return dir_open(path, SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0), 0, dirp);
}

int
oc_dir_open_ro(const char *path, struct oc_directory **dirp)
{
	return dir_open(path, SQLITE_OPEN_READONLY, 1, dirp);
}

void
oc_dir_close(struct oc_directory *dir)
{
	if (dir == NULL)
		return;
	for (size_t i = 0; i < OC_DIR_STMT_COUNT; i++)
		sqlite3_finalize(dir->stmts[i]);
	sqlite3_close_v2(dir->db);
	free(dir);
}

static const char SQL_SERIAL[] = "SELECT serial, changed FROM policy_meta WHERE id = 1";

int
oc_dir_policy_serial(struct oc_directory *dir, int64_t *serial, time_t *changed)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = oc_dir_stmt_get(dir, OC_DIR_STMT_SERIAL, SQL_SERIAL, &st)) != OC_OK)
		return r;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? OC_ERR_STORE : oc_dir_sqlerr(dir, rc, "policy serial");
		goto out;
	}
	if (serial != NULL)
		*serial = sqlite3_column_int64(st, 0);
	if (changed != NULL)
		*changed = (time_t)sqlite3_column_int64(st, 1);
	r = OC_OK;
out:
	oc_dir_stmt_put(dir, st);
	return r;
}

int
oc_dir_hash_password(const char *password, char **verifier)
{
	char *salt = NULL, *h;
	void *data = NULL;
	int size = 0, r = OC_ERR_CRYPTO;

	*verifier = NULL;
	if (password == NULL || password[0] == '\0')
		return OC_ERR_INVALID;
	if (strnlen(password, OC_PASSWORD_MAX + 1) > OC_PASSWORD_MAX)
		return OC_ERR_LIMIT;
	if ((salt = crypt_gensalt_ra("$y$", 0, NULL, 0)) == NULL) {
		log_error("directory: crypt_gensalt_ra failed");
		goto out;
	}
	h = crypt_ra(password, salt, &data, &size);
	if (h == NULL || h[0] == '*') {
		log_error("directory: crypt_ra failed");
		goto out;
	}
	if ((*verifier = strdup(h)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	r = OC_OK;
out:
	free(salt);
	if (data != NULL) {
		OPENSSL_cleanse(data, (size_t)size);
		free(data);
	}
	return r;
}
