/*
 * Templates (pKICertificateTemplate) and CA entries (pKIEnrollmentService) in
 * the embedded directory. Every change bumps the policy serial and stamps the
 * changed row with it.
 */
#include "directory/directory.h"
#include "directory/directory_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/log.h"

#define TEMPLATE_COLS \
	"cn, display_name, oid, schema_version, revision, minor_revision, general_flags, " \
	"enrollment_flags, private_key_flags, name_flags, min_key_size, key_spec, " \
	"ra_signatures, max_issuing_depth, validity_seconds, renewal_seconds, key_usage, " \
	"eku, app_policies, cert_policies, critical_exts, ra_app_policies, ra_policies, " \
	"superseded, csps, key_algorithm, hash_algorithm, security_descriptor, changed"

enum {
	C_CN, C_DISPLAY, C_OID, C_SCHEMA, C_REV, C_MINOR, C_GFLAGS, C_EFLAGS, C_PKFLAGS,
	C_NFLAGS, C_MINKEY, C_KEYSPEC, C_RASIG, C_DEPTH, C_VALIDITY, C_RENEWAL, C_KU,
	C_EKU, C_APP, C_CERTPOL, C_CRIT, C_RAAPP, C_RAPOL, C_SUPER, C_CSPS, C_KEYALG,
	C_HASHALG, C_SD, C_CHANGED, C__N
};

static int
check_list(const struct oc_strlist *l, int oids)
{
	if (l->n > OC_LIST_MAX)
		return OC_ERR_LIMIT;
	for (size_t i = 0; i < l->n; i++) {
		if (!oc_dir_name_ok(l->v[i], OC_DIR_ITEM_MAX))
			return OC_ERR_INVALID;
		if (oids && !oc_dir_oid_ok(l->v[i]))
			return OC_ERR_INVALID;
	}
	return OC_OK;
}

int
oc_dir_template_check(const struct oc_template *t, int allow_no_oid)
{
	int r;

	if (t == NULL || !oc_dir_name_ok(t->cn, 64)) {
		log_error("template: cn must be 1-64 printable characters");
		return OC_ERR_INVALID;
	}
	if (t->oid == NULL ? !allow_no_oid : !oc_dir_oid_ok(t->oid)) {
		log_error("template %s: bad or missing OID", t->cn);
		return OC_ERR_INVALID;
	}
	if (!oc_dir_line_ok(t->display_name, OC_TEMPLATE_NAME_MAX) ||
	    !oc_dir_line_ok(t->key_algorithm, 32) || !oc_dir_line_ok(t->hash_algorithm, 32)) {
		log_error("template %s: bad display name or algorithm", t->cn);
		return OC_ERR_INVALID;
	}
	if (t->schema_version < 1 || t->schema_version > 4 || t->key_spec > 2 ||
	    t->min_key_size > OC_RSA_MAX_BITS || t->validity_seconds <= 0 ||
	    t->renewal_seconds < 0 || t->max_issuing_depth < -1 || t->ra_signatures > 16) {
		log_error("template %s: value out of range", t->cn);
		return OC_ERR_INVALID;
	}
	if ((r = check_list(&t->eku, 1)) != OC_OK ||
	    (r = check_list(&t->app_policies, 1)) != OC_OK ||
	    (r = check_list(&t->cert_policies, 1)) != OC_OK ||
	    (r = check_list(&t->critical_exts, 1)) != OC_OK ||
	    (r = check_list(&t->ra_app_policies, 0)) != OC_OK ||   /* may be §4.7 triplets */
	    (r = check_list(&t->ra_policies, 1)) != OC_OK ||
	    (r = check_list(&t->superseded, 0)) != OC_OK) {
		log_error("template %s: bad list value", t->cn);
		return r;
	}
	if (t->ncsps > OC_LIST_MAX)
		return OC_ERR_LIMIT;
	for (size_t i = 0; i < t->ncsps; i++)
		if (!oc_dir_name_ok(t->csps[i].name, OC_DIR_ITEM_MAX)) {
			log_error("template %s: bad CSP name", t->cn);
			return OC_ERR_INVALID;
		}
	if (t->security_descriptor_len > OC_DIR_ITEM_MAX * 32)
		return OC_ERR_LIMIT;
	return OC_OK;
}

static int
csps_join(const struct oc_template *t, char **out)
{
	struct oc_strlist l = { 0 };
	char line[OC_DIR_ITEM_MAX + 16];
	int r = OC_OK;

	*out = NULL;
	for (size_t i = 0; i < t->ncsps && r == OC_OK; i++) {
		snprintf(line, sizeof(line), "%u,%s", t->csps[i].priority, t->csps[i].name);
		r = oc_strlist_add(&l, line);
	}
	if (r == OC_OK)
		r = oc_dir_list_join(&l, out);
	oc_strlist_free(&l);
	return r;
}

static int
csps_split(const char *text, struct oc_template *t)
{
	struct oc_strlist l = { 0 };
	int r;

	if ((r = oc_dir_list_split(text, &l)) != OC_OK)
		goto out;
	if (l.n > 0 && (t->csps = calloc(l.n, sizeof(*t->csps))) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < l.n; i++) {
		char *comma = strchr(l.v[i], ','), *end = NULL;
		unsigned long prio = 0;

		if (comma != NULL)
			prio = strtoul(l.v[i], &end, 10);
		if (comma == NULL || end != comma || prio > UINT32_MAX) {
			r = OC_ERR_STORE;
			goto out;
		}
		if ((t->csps[i].name = strdup(comma + 1)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		t->csps[i].priority = (uint32_t)prio;
		t->ncsps = i + 1;
	}
	r = OC_OK;
out:
	oc_strlist_free(&l);
	return r;
}

static int
template_from_row(sqlite3_stmt *st, struct oc_template **tp)
{
	struct oc_template *t = NULL;
	int r;

	*tp = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return OC_ERR_NOMEM;
	if ((r = oc_dir_col_text(st, C_CN, &t->cn)) != OC_OK ||
	    (r = oc_dir_col_text(st, C_DISPLAY, &t->display_name)) != OC_OK ||
	    (r = oc_dir_col_text(st, C_OID, &t->oid)) != OC_OK ||
	    (r = oc_dir_col_text(st, C_KEYALG, &t->key_algorithm)) != OC_OK ||
	    (r = oc_dir_col_text(st, C_HASHALG, &t->hash_algorithm)) != OC_OK)
		goto out;
	t->schema_version = (uint32_t)sqlite3_column_int64(st, C_SCHEMA);
	t->revision = (uint32_t)sqlite3_column_int64(st, C_REV);
	t->minor_revision = (uint32_t)sqlite3_column_int64(st, C_MINOR);
	t->general_flags = (uint32_t)sqlite3_column_int64(st, C_GFLAGS);
	t->enrollment_flags = (uint32_t)sqlite3_column_int64(st, C_EFLAGS);
	t->private_key_flags = (uint32_t)sqlite3_column_int64(st, C_PKFLAGS);
	t->name_flags = (uint32_t)sqlite3_column_int64(st, C_NFLAGS);
	t->min_key_size = (uint32_t)sqlite3_column_int64(st, C_MINKEY);
	t->key_spec = (uint32_t)sqlite3_column_int64(st, C_KEYSPEC);
	t->ra_signatures = (uint32_t)sqlite3_column_int64(st, C_RASIG);
	t->max_issuing_depth = (int32_t)sqlite3_column_int64(st, C_DEPTH);
	t->validity_seconds = sqlite3_column_int64(st, C_VALIDITY);
	t->renewal_seconds = sqlite3_column_int64(st, C_RENEWAL);
	if (sqlite3_column_type(st, C_KU) != SQLITE_NULL) {
		t->has_key_usage = 1;
		t->key_usage = (uint16_t)sqlite3_column_int64(st, C_KU);
	}
	if ((r = oc_dir_list_split((const char *)sqlite3_column_text(st, C_EKU), &t->eku)) != OC_OK ||
	    (r = oc_dir_list_split((const char *)sqlite3_column_text(st, C_APP), &t->app_policies)) != OC_OK ||
	    (r = oc_dir_list_split((const char *)sqlite3_column_text(st, C_CERTPOL), &t->cert_policies)) != OC_OK ||
	    (r = oc_dir_list_split((const char *)sqlite3_column_text(st, C_CRIT), &t->critical_exts)) != OC_OK ||
	    (r = oc_dir_list_split((const char *)sqlite3_column_text(st, C_RAAPP), &t->ra_app_policies)) != OC_OK ||
	    (r = oc_dir_list_split((const char *)sqlite3_column_text(st, C_RAPOL), &t->ra_policies)) != OC_OK ||
	    (r = oc_dir_list_split((const char *)sqlite3_column_text(st, C_SUPER), &t->superseded)) != OC_OK ||
	    (r = csps_split((const char *)sqlite3_column_text(st, C_CSPS), t)) != OC_OK)
		goto out;
	if (sqlite3_column_type(st, C_SD) == SQLITE_BLOB && sqlite3_column_bytes(st, C_SD) > 0) {
		size_t n = (size_t)sqlite3_column_bytes(st, C_SD);
		if ((t->security_descriptor = malloc(n)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		memcpy(t->security_descriptor, sqlite3_column_blob(st, C_SD), n);
		t->security_descriptor_len = n;
	}
	t->changed = sqlite3_column_int64(st, C_CHANGED);
	*tp = t;
	t = NULL;
	r = OC_OK;
out:
	oc_template_free(t);
	return r;
}

void
oc_dir_template_list_free(struct oc_template **tv, size_t n)
{
	if (tv == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		oc_template_free(tv[i]);
	free(tv);
}

int
oc_dir_template_list(struct oc_directory *dir, struct oc_template ***tvp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	struct oc_template **tv = NULL, **nv;
	size_t n = 0;
	int r, rc;

	*tvp = NULL;
	*np = 0;
	if ((r = oc_dir_prepare(dir, "SELECT " TEMPLATE_COLS " FROM templates ORDER BY cn", &st)) != OC_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n >= OC_TEMPLATES_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((nv = realloc(tv, (n + 1) * sizeof(*tv))) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		tv = nv;
		if ((r = template_from_row(st, &tv[n])) != OC_OK)
			goto out;
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = oc_dir_sqlerr(dir, rc, "template list");
		goto out;
	}
	*tvp = tv;
	*np = n;
	tv = NULL;
	n = 0;
	r = OC_OK;
out:
	sqlite3_finalize(st);
	oc_dir_template_list_free(tv, n);
	return r;
}

int
oc_dir_template_get(struct oc_directory *dir, const char *name_or_oid, struct oc_template **t)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	*t = NULL;
	if (name_or_oid == NULL || strnlen(name_or_oid, OC_TEMPLATE_NAME_MAX + 1) > OC_TEMPLATE_NAME_MAX)
		return OC_ERR_INVALID;
	if ((r = oc_dir_prepare(dir, "SELECT " TEMPLATE_COLS " FROM templates "
	    "WHERE cn = ?1 OR oid = ?1 ORDER BY cn = ?1 DESC LIMIT 1", &st)) != OC_OK)
		return r;
	if ((r = oc_dir_bind_text(dir, st, 1, name_or_oid)) != OC_OK)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = template_from_row(st, t);
	else
		r = rc == SQLITE_DONE ? OC_ERR_NOT_FOUND : oc_dir_sqlerr(dir, rc, "template get");
out:
	sqlite3_finalize(st);
	return r;
}

/* <forest base>.<random>.<random>, as Windows does for templates made in the console. */
static int
new_template_oid(char **oid)
{
	uint8_t rnd[6];
	char buf[OC_OID_MAX + 1];

	*oid = NULL;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return OC_ERR_CRYPTO;
	snprintf(buf, sizeof(buf), "%s.%u.%u", OC_DIR_FOREST_OID,
	    1000000u + ((unsigned)rnd[0] << 16 | (unsigned)rnd[1] << 8 | rnd[2]) % 15000000u,
	    1000000u + ((unsigned)rnd[3] << 16 | (unsigned)rnd[4] << 8 | rnd[5]) % 15000000u);
	return (*oid = strdup(buf)) == NULL ? OC_ERR_NOMEM : OC_OK;
}

static int
count_rows(struct oc_directory *dir, const char *sql, const char *arg, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = oc_dir_prepare(dir, sql, &st)) != OC_OK)
		return r;
	if (arg != NULL && (r = oc_dir_bind_text(dir, st, 1, arg)) != OC_OK)
		goto out;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = oc_dir_sqlerr(dir, rc, "count");
		goto out;
	}
	*n = sqlite3_column_int64(st, 0);
	r = OC_OK;
out:
	sqlite3_finalize(st);
	return r;
}

static int
bind_template(struct oc_directory *dir, sqlite3_stmt *st, const struct oc_template *t,
    const char *oid, int64_t serial)
{
	const struct oc_strlist *lists[] = { &t->eku, &t->app_policies, &t->cert_policies,
	    &t->critical_exts, &t->ra_app_policies, &t->ra_policies, &t->superseded };
	char *text = NULL;
	int r;

	if ((r = oc_dir_bind_text(dir, st, C_CN + 1, t->cn)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, C_DISPLAY + 1, t->display_name)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, C_OID + 1, oid)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, C_KEYALG + 1, t->key_algorithm)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, C_HASHALG + 1, t->hash_algorithm)) != OC_OK)
		return r;
	sqlite3_bind_int64(st, C_SCHEMA + 1, t->schema_version);
	sqlite3_bind_int64(st, C_REV + 1, t->revision);
	sqlite3_bind_int64(st, C_MINOR + 1, t->minor_revision);
	sqlite3_bind_int64(st, C_GFLAGS + 1, t->general_flags);
	sqlite3_bind_int64(st, C_EFLAGS + 1, t->enrollment_flags);
	sqlite3_bind_int64(st, C_PKFLAGS + 1, t->private_key_flags);
	sqlite3_bind_int64(st, C_NFLAGS + 1, t->name_flags);
	sqlite3_bind_int64(st, C_MINKEY + 1, t->min_key_size);
	sqlite3_bind_int64(st, C_KEYSPEC + 1, t->key_spec);
	sqlite3_bind_int64(st, C_RASIG + 1, t->ra_signatures);
	sqlite3_bind_int64(st, C_DEPTH + 1, t->max_issuing_depth);
	sqlite3_bind_int64(st, C_VALIDITY + 1, t->validity_seconds);
	sqlite3_bind_int64(st, C_RENEWAL + 1, t->renewal_seconds);
	if (t->has_key_usage)
		sqlite3_bind_int64(st, C_KU + 1, t->key_usage);
	else
		sqlite3_bind_null(st, C_KU + 1);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		if ((r = oc_dir_list_join(lists[i], &text)) != OC_OK)
			return r;
		r = oc_dir_bind_text(dir, st, C_EKU + 1 + (int)i, text);
		free(text);
		if (r != OC_OK)
			return r;
	}
	if ((r = csps_join(t, &text)) != OC_OK)
		return r;
	r = oc_dir_bind_text(dir, st, C_CSPS + 1, text);
	free(text);
	if (r != OC_OK)
		return r;
	if (t->security_descriptor_len > 0)
		sqlite3_bind_blob(st, C_SD + 1, t->security_descriptor,
		    (int)t->security_descriptor_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, C_SD + 1);
	sqlite3_bind_int64(st, C_CHANGED + 1, serial);
	return OC_OK;
}

/* Replace the rows with t's cn or oid by t (inside a transaction). */
static int
template_write(struct oc_directory *dir, const struct oc_template *t, const char *oid,
    const char *source, int64_t serial)
{
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = oc_dir_prepare(dir, "DELETE FROM templates WHERE cn = ?1 OR oid = ?2", &st)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, t->cn)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 2, oid)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "template delete")) != OC_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = oc_dir_prepare(dir, "INSERT INTO templates (" TEMPLATE_COLS ", source) VALUES "
	    "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,"
	    "?21,?22,?23,?24,?25,?26,?27,?28,?29,?30)", &st)) != OC_OK ||
	    (r = bind_template(dir, st, t, oid, serial)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, C__N + 1, source)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "template insert")) != OC_OK)
		goto out;
	r = OC_OK;
out:
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_template_put(struct oc_directory *dir, const struct oc_template *t)
{
	sqlite3_stmt *st = NULL;
	struct oc_template *old = NULL;
	char *oid = NULL;
	int64_t serial = 0, n = 0;
	int r;

	if ((r = oc_dir_template_check(t, 1)) != OC_OK)
		return r;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	r = oc_dir_template_get(dir, t->cn, &old);
	if (r == OC_OK && old != NULL && strcasecmp(old->cn, t->cn) != 0) {
		/* t->cn matched another template's OID: refuse, it would be ambiguous */
		r = OC_ERR_EXISTS;
		goto out;
	}
	if (r != OC_OK && r != OC_ERR_NOT_FOUND)
		goto out;
	/* keep the OID of a replaced template unless a new one is given */
	if (t->oid != NULL)
		oid = strdup(t->oid);
	else if (old != NULL)
		oid = strdup(old->oid);
	else if ((r = new_template_oid(&oid)) != OC_OK)
		goto out;
	if (oid == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if ((r = oc_dir_prepare(dir, "SELECT 1 FROM templates WHERE oid = ?1 AND cn <> ?2", &st)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, oid)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 2, t->cn)) != OC_OK)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW) {
		log_error("template %s: OID %s belongs to another template", t->cn, oid);
		r = OC_ERR_EXISTS;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (old == NULL) {
		if ((r = count_rows(dir, "SELECT count(*) FROM templates", NULL, &n)) != OC_OK)
			goto out;
		if (n >= OC_TEMPLATES_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
	}
	if ((r = oc_dir_bump_serial(dir, &serial)) != OC_OK)
		goto out;
	if ((r = template_write(dir, t, oid, NULL, serial)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	sqlite3_finalize(st);
	oc_template_free(old);
	free(oid);
	return r;
}

int
oc_dir_template_insert(struct oc_directory *dir, const struct oc_template *t,
    const char *source, int64_t serial)
{
	int r;

	if ((r = oc_dir_template_check(t, 0)) != OC_OK)
		return r;
	return template_write(dir, t, t->oid, source, serial);
}

int
oc_dir_template_remove(struct oc_directory *dir, const char *cn)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (!oc_dir_name_ok(cn, OC_TEMPLATE_NAME_MAX))
		return OC_ERR_INVALID;
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = oc_dir_prepare(dir, "DELETE FROM templates WHERE cn = ?1", &st)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, cn)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "template remove")) != OC_OK)
		goto out;
	if (sqlite3_changes(dir->db) == 0) {
		r = OC_ERR_NOT_FOUND;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	/* its grants go with it; CA entries keep the name (AD ignores unknown names) */
	if ((r = oc_dir_prepare(dir, "DELETE FROM rights WHERE template_cn = ?1", &st)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, cn)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "rights remove")) != OC_OK ||
	    (r = oc_dir_bump_serial(dir, NULL)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	sqlite3_finalize(st);
	return r;
}

/* CA entries */

void
oc_dir_ca_list_free(struct oc_ca_entry *cav, size_t n)
{
	if (cav == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		oc_ca_entry_clear(&cav[i]);
	free(cav);
}

static int
ca_children(struct oc_directory *dir, int64_t id, struct oc_ca_entry *ca)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = oc_dir_prepare(dir, "SELECT template_cn FROM ca_templates WHERE ca = ?1 ORDER BY pos", &st)) != OC_OK)
		return r;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (ca->templates.n >= OC_TEMPLATES_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((r = oc_strlist_add(&ca->templates, (const char *)sqlite3_column_text(st, 0))) != OC_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = oc_dir_sqlerr(dir, rc, "ca templates");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = oc_dir_prepare(dir, "SELECT auth, uri, priority, renewal_only FROM ca_uris "
	    "WHERE ca = ?1 ORDER BY pos", &st)) != OC_OK)
		return r;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct oc_ces_uri *nu;

		if (ca->nuris >= OC_LIST_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((nu = realloc(ca->uris, (ca->nuris + 1) * sizeof(*nu))) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		ca->uris = nu;
		memset(&nu[ca->nuris], 0, sizeof(*nu));
		nu[ca->nuris].auth = (uint32_t)sqlite3_column_int64(st, 0);
		nu[ca->nuris].priority = (uint32_t)sqlite3_column_int64(st, 2);
		nu[ca->nuris].renewal_only = sqlite3_column_int(st, 3) != 0;
		if ((r = oc_dir_col_text(st, 1, &nu[ca->nuris].uri)) != OC_OK)
			goto out;
		ca->nuris++;
	}
	r = rc == SQLITE_DONE ? OC_OK : oc_dir_sqlerr(dir, rc, "ca uris");
out:
	sqlite3_finalize(st);
	return r;
}

int
oc_dir_ca_list(struct oc_directory *dir, struct oc_ca_entry **cavp, size_t *np)
{
	sqlite3_stmt *st = NULL;
	struct oc_ca_entry *cav = NULL, *nv;
	size_t n = 0;
	int r, rc;

	*cavp = NULL;
	*np = 0;
	if ((r = oc_dir_prepare(dir, "SELECT id, name, dns_host_name, cert FROM cas ORDER BY name", &st)) != OC_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct oc_ca_entry *ca;

		if (n >= OC_LIST_MAX) {
			r = OC_ERR_LIMIT;
			goto out;
		}
		if ((nv = realloc(cav, (n + 1) * sizeof(*cav))) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		cav = nv;
		ca = &cav[n++];
		memset(ca, 0, sizeof(*ca));
		if ((r = oc_dir_col_text(st, 1, &ca->name)) != OC_OK ||
		    (r = oc_dir_col_text(st, 2, &ca->dns_host_name)) != OC_OK)
			goto out;
		if (sqlite3_column_bytes(st, 3) > 0) {
			ca->cert_der_len = (size_t)sqlite3_column_bytes(st, 3);
			if ((ca->cert_der = malloc(ca->cert_der_len)) == NULL) {
				r = OC_ERR_NOMEM;
				goto out;
			}
			memcpy(ca->cert_der, sqlite3_column_blob(st, 3), ca->cert_der_len);
		}
		if ((r = ca_children(dir, sqlite3_column_int64(st, 0), ca)) != OC_OK)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		r = oc_dir_sqlerr(dir, rc, "ca list");
		goto out;
	}
	*cavp = cav;
	*np = n;
	cav = NULL;
	n = 0;
	r = OC_OK;
out:
	sqlite3_finalize(st);
	oc_dir_ca_list_free(cav, n);
	return r;
}

int
oc_dir_ca_check(const struct oc_ca_entry *ca)
{
	if (ca == NULL || !oc_dir_name_ok(ca->name, 64) ||
	    !oc_dir_line_ok(ca->dns_host_name, 2048) || ca->cert_der_len > OC_CERT_DER_MAX ||
	    ca->templates.n > OC_TEMPLATES_MAX || ca->nuris > OC_LIST_MAX)
		return OC_ERR_INVALID;
	for (size_t i = 0; i < ca->templates.n; i++)
		if (!oc_dir_name_ok(ca->templates.v[i], 64))
			return OC_ERR_INVALID;
	for (size_t i = 0; i < ca->nuris; i++)
		if (!oc_dir_name_ok(ca->uris[i].uri, OC_DIR_ITEM_MAX))
			return OC_ERR_INVALID;
	return OC_OK;
}

int
oc_dir_ca_put(struct oc_directory *dir, const struct oc_ca_entry *ca)
{
	int64_t serial = 0;
	int r;

	if ((r = oc_dir_ca_check(ca)) != OC_OK) {
		log_error("directory: invalid CA entry");
		return r;
	}
	if ((r = oc_dir_begin(dir)) != OC_OK)
		return r;
	if ((r = oc_dir_bump_serial(dir, &serial)) != OC_OK ||
	    (r = oc_dir_ca_insert(dir, ca, NULL, serial)) != OC_OK)
		goto out;
	r = oc_dir_commit(dir);
out:
	if (r != OC_OK)
		oc_dir_rollback(dir);
	return r;
}

int
oc_dir_ca_insert(struct oc_directory *dir, const struct oc_ca_entry *ca, const char *source,
    int64_t serial)
{
	sqlite3_stmt *st = NULL;
	int64_t id;
	int r;

	if ((r = oc_dir_ca_check(ca)) != OC_OK)
		return r;
	/* children go by ON DELETE CASCADE */
	if ((r = oc_dir_prepare(dir, "DELETE FROM cas WHERE name = ?1", &st)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, ca->name)) != OC_OK ||
	    (r = oc_dir_step_done(dir, st, "ca delete")) != OC_OK)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = oc_dir_prepare(dir, "INSERT INTO cas (name, dns_host_name, cert, changed, source) "
	    "VALUES (?1, ?2, ?3, ?4, ?5)", &st)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 1, ca->name)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 2, ca->dns_host_name)) != OC_OK ||
	    (r = oc_dir_bind_text(dir, st, 5, source)) != OC_OK)
		goto out;
	if (ca->cert_der_len > 0)
		sqlite3_bind_blob(st, 3, ca->cert_der, (int)ca->cert_der_len, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, serial);
	if ((r = oc_dir_step_done(dir, st, "ca insert")) != OC_OK)
		goto out;
	id = sqlite3_last_insert_rowid(dir->db);
	sqlite3_finalize(st);
	st = NULL;
	if ((r = oc_dir_prepare(dir, "INSERT INTO ca_templates (ca, pos, template_cn) VALUES (?1, ?2, ?3)", &st)) != OC_OK)
		goto out;
	for (size_t i = 0; i < ca->templates.n; i++) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		if ((r = oc_dir_bind_text(dir, st, 3, ca->templates.v[i])) != OC_OK ||
		    (r = oc_dir_step_done(dir, st, "ca template")) != OC_OK)
			goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = oc_dir_prepare(dir, "INSERT INTO ca_uris (ca, pos, auth, uri, priority, renewal_only) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)", &st)) != OC_OK)
		goto out;
	for (size_t i = 0; i < ca->nuris; i++) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_int64(st, 3, ca->uris[i].auth);
		sqlite3_bind_int64(st, 5, ca->uris[i].priority);
		sqlite3_bind_int(st, 6, ca->uris[i].renewal_only != 0);
		if ((r = oc_dir_bind_text(dir, st, 4, ca->uris[i].uri)) != OC_OK ||
		    (r = oc_dir_step_done(dir, st, "ca uri")) != OC_OK)
			goto out;
	}
	r = OC_OK;
out:
	sqlite3_finalize(st);
	return r;
}
