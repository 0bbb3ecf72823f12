/*
 * The diff, the LDIF and the run of `opencesd ad publish` (ldap_publish.h).
 */
#include "ldap/ldap_publish.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"

void
oc_ldap_change_clear(struct oc_ldap_change *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nmods; i++)
		oc_ldap_attr_clear(&c->mods[i].a);
	free(c->mods);
	memset(c, 0, sizeof(*c));
}

/* Append a modification of attribute name with the values of vals (may be NULL). */
static int
mod_add(struct oc_ldap_change *c, int op, const char *name, const struct oc_ldap_val *vals,
    size_t n)
{
	struct oc_ldap_mod *nm, *m;

	if ((nm = realloc(c->mods, (c->nmods + 1) * sizeof(*nm))) == NULL)
		return OC_ERR_NOMEM;
	c->mods = nm;
	m = &c->mods[c->nmods++];
	memset(m, 0, sizeof(*m));
	m->op = op;
	if ((m->a.name = strdup(name)) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct oc_ldap_val *nv = realloc(m->a.v, (m->a.n + 1) * sizeof(*nv));

		if (nv == NULL)
			return OC_ERR_NOMEM;
		m->a.v = nv;
		if ((nv[m->a.n].p = malloc(vals[i].len + 1)) == NULL)
			return OC_ERR_NOMEM;
		memcpy(nv[m->a.n].p, vals[i].p, vals[i].len);
		nv[m->a.n].p[vals[i].len] = '\0';
		nv[m->a.n].len = vals[i].len;
		m->a.n++;
	}
	return OC_OK;
}

/* Attributes set only when an entry is created. */
static int
create_only(const char *name)
{
	return strcasecmp(name, "objectClass") == 0 || strcasecmp(name, "cn") == 0 ||
	    strcasecmp(name, "nTSecurityDescriptor") == 0;
}

static int
diff_fill(const struct oc_ldap_pub_target *t, const struct oc_ldap_entry *cur,
    struct oc_ldap_change *c)
{
	int r;

	for (size_t i = 0; i < t->e.n; i++) {
		const struct oc_ldap_attr *want = &t->e.a[i];
		const struct oc_ldap_attr *have = oc_ldap_entry_get(cur, want->name);

		if (create_only(want->name))
			continue;
		if (have == NULL || have->n == 0) {
			if ((r = mod_add(c, OC_LDAP_MOD_ADD, want->name, want->v, want->n)) != OC_OK)
				return r;
			continue;
		}
		if (t->merge_attr == NULL || strcasecmp(t->merge_attr, want->name) != 0)
			continue;
		for (size_t k = 0; k < want->n; k++)
			if (!oc_ldap_attr_has(have, want->v[k].p, want->v[k].len) &&
			    (r = mod_add(c, OC_LDAP_MOD_ADD, want->name, &want->v[k], 1)) != OC_OK)
				return r;
	}
	return OC_OK;
}

static int
diff_own(const struct oc_ldap_pub_target *t, const struct oc_ldap_entry *cur,
    struct oc_ldap_change *c)
{
	int r;

	for (size_t i = 0; t->owned != NULL && t->owned[i] != NULL; i++) {
		const struct oc_ldap_attr *want = oc_ldap_entry_get(&t->e, t->owned[i]);
		const struct oc_ldap_attr *have = oc_ldap_entry_get(cur, t->owned[i]);

		if (want != NULL && want->n > 0) {
			if (!oc_ldap_attr_same(want, have) &&
			    (r = mod_add(c, OC_LDAP_MOD_REPLACE, want->name, want->v, want->n)) != OC_OK)
				return r;
		} else if (have != NULL && have->n > 0 &&
		    (r = mod_add(c, OC_LDAP_MOD_DELETE, t->owned[i], NULL, 0)) != OC_OK)
			return r;
	}
	return OC_OK;
}

int
oc_ldap_pub_diff(const struct oc_ldap_pub_target *t, const struct oc_ldap_entry *cur,
    struct oc_ldap_change *c, int *changed)
{
	int r = OC_OK;

	if (t == NULL || c == NULL || changed == NULL)
		return OC_ERR_INVALID;
	memset(c, 0, sizeof(*c));
	*changed = 0;
	c->target = t;
	if (cur == NULL) {
		c->add = 1;
		*changed = 1;
		return OC_OK;
	}
	if (t->mode == OC_LDAP_PUB_FILL)
		r = diff_fill(t, cur, c);
	else if (t->mode == OC_LDAP_PUB_OWN)
		r = diff_own(t, cur, c);
	if (r != OC_OK) {
		oc_ldap_change_clear(c);
		return r;
	}
	*changed = c->nmods > 0;
	return OC_OK;
}

/* RFC 2849 SAFE-STRING (and no trailing space, which tools strip). */
static int
ldif_safe(const uint8_t *p, size_t len)
{
	if (len == 0)
		return 1;
	if (p[0] == ' ' || p[0] == ':' || p[0] == '<' || p[len - 1] == ' ')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (p[i] == 0 || p[i] == '\n' || p[i] == '\r' || p[i] > 0x7f)
			return 0;
	return 1;
}

static int
ldif_line(struct ocbuf *b, const char *name, const uint8_t *p, size_t len)
{
	char *enc = NULL;
	int r;

	if (ldif_safe(p, len)) {
		if ((r = ocbuf_printf(b, "%s: ", name)) != OC_OK || (r = ocbuf_put(b, p, len)) != OC_OK)
			return r;
		return ocbuf_putc(b, '\n');
	}
	if ((r = oc_b64_encode(p, len, &enc)) != OC_OK)
		return r;
	r = ocbuf_printf(b, "%s:: %s\n", name, enc);
	free(enc);
	return r;
}

static const char *
op_name(int op)
{
	return op == OC_LDAP_MOD_ADD ? "add" : op == OC_LDAP_MOD_REPLACE ? "replace" : "delete";
}

int
oc_ldap_pub_ldif(const struct oc_ldap_change *c, struct ocbuf *b)
{
	const struct oc_ldap_entry *e;
	int r;

	if (c == NULL || c->target == NULL || b == NULL)
		return OC_ERR_INVALID;
	e = &c->target->e;
	if ((r = ldif_line(b, "dn", (const uint8_t *)e->dn, strlen(e->dn))) != OC_OK ||
	    (r = ocbuf_printf(b, "changetype: %s\n", c->add ? "add" : "modify")) != OC_OK)
		return r;
	if (c->add) {
		for (size_t i = 0; i < e->n; i++)
			for (size_t k = 0; k < e->a[i].n; k++)
				if ((r = ldif_line(b, e->a[i].name, e->a[i].v[k].p,
				        e->a[i].v[k].len)) != OC_OK)
					return r;
	} else {
		for (size_t i = 0; i < c->nmods; i++) {
			const struct oc_ldap_mod *m = &c->mods[i];

			if ((r = ocbuf_printf(b, "%s: %s\n", op_name(m->op), m->a.name)) != OC_OK)
				return r;
			for (size_t k = 0; k < m->a.n; k++)
				if ((r = ldif_line(b, m->a.name, m->a.v[k].p, m->a.v[k].len)) != OC_OK)
					return r;
			if ((r = ocbuf_puts(b, "-\n")) != OC_OK)
				return r;
		}
	}
	return ocbuf_putc(b, '\n');
}

/*
 * May t be created? Yes unless t->guard_dn exists without t->guard_value in
 * t->guard_attr (an absent guard is planned, and so created, before t).
 */
static int
guard_ok(const struct oc_ldap_pub_target *t, const struct oc_ldap_pub_io *io, int *ok)
{
	struct oc_ldap_pub_target g;
	struct oc_ldap_entry cur;
	const struct oc_ldap_attr *a;
	int r, found = 0;

	*ok = 1;
	if (t->guard_dn == NULL || t->guard_attr == NULL || t->guard_value == NULL)
		return OC_OK;
	memset(&g, 0, sizeof(g));
	memset(&cur, 0, sizeof(cur));
	g.mode = OC_LDAP_PUB_FILL;
	g.what = "guard";
	if ((r = oc_ldap_entry_set_dn(&g.e, t->guard_dn)) != OC_OK ||
	    (r = oc_ldap_entry_add_str(&g.e, t->guard_attr, t->guard_value)) != OC_OK ||
	    (r = io->read(io->ctx, &g, &cur, &found)) != OC_OK)
		goto out;
	if (found) {
		a = oc_ldap_entry_get(&cur, t->guard_attr);
		*ok = oc_ldap_attr_has(a, t->guard_value, strlen(t->guard_value));
		if (!*ok)
			log_warn("%s exists with %s %.*s, not %s: %s is not created", t->guard_dn,
			    t->guard_attr, a && a->n ? (int)a->v[0].len : 4,
			    a && a->n ? (const char *)a->v[0].p : "none", t->guard_value, t->e.dn);
	}
out:
	oc_ldap_entry_clear(&cur);
	oc_ldap_entry_clear(&g.e);
	return r;
}

int
oc_ldap_pub_run(const struct oc_ldap_pub_plan *plan, const struct oc_ldap_pub_io *io,
    struct ocbuf *ldif, struct oc_ldap_pub_result *res)
{
	struct oc_ldap_entry cur;
	struct oc_ldap_change c;
	int r = OC_OK, found, changed;

	if (plan == NULL || io == NULL || io->read == NULL || res == NULL)
		return OC_ERR_INVALID;
	memset(res, 0, sizeof(*res));
	memset(&cur, 0, sizeof(cur));
	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < plan->n; i++) {
		const struct oc_ldap_pub_target *t = &plan->v[i];

		found = 0;
		if ((r = io->read(io->ctx, t, &cur, &found)) != OC_OK) {
			error_fr(r, "reading %s", t->e.dn);
			goto out;
		}
		if ((r = oc_ldap_pub_diff(t, found ? &cur : NULL, &c, &changed)) != OC_OK)
			goto out;
		if (changed && c.add) {
			int ok;

			if ((r = guard_ok(t, io, &ok)) != OC_OK)
				goto out;
			if (!ok) {
				res->skipped++;
				oc_ldap_change_clear(&c);
				oc_ldap_entry_clear(&cur);
				continue;
			}
		}
		if (!changed) {
			res->unchanged++;
		} else {
			if (ldif != NULL && (r = oc_ldap_pub_ldif(&c, ldif)) != OC_OK)
				goto out;
			if (io->apply != NULL) {
				if ((r = io->apply(io->ctx, &c)) != OC_OK) {
					error_fr(r, "%s %s", c.add ? "adding" : "modifying", t->e.dn);
					goto out;
				}
				oc_audit("ad-publish", "op", c.add ? "add" : "modify", "object", t->what,
				    "dn", t->e.dn, (char *)NULL);
				log_info("%s %s", c.add ? "added" : "modified", t->e.dn);
			}
			if (c.add)
				res->added++;
			else
				res->modified++;
		}
		oc_ldap_change_clear(&c);
		oc_ldap_entry_clear(&cur);
	}
out:
	oc_ldap_change_clear(&c);
	oc_ldap_entry_clear(&cur);
	return r;
}
