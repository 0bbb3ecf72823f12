/*
 * libFuzzer: the pure parts of src/ldap/ldap_identity.h. Even first byte: a
 * login / SID / UPN / DNS name from the network (key = (byte / 2) % 4 + 1)
 * becomes a search filter, whose parentheses must balance whatever the value
 * holds (escaping). Odd first byte: an account entry as an LDAP answer
 * (u8-length-prefixed fields: dn, sAMAccountName, userPrincipalName, mail,
 * dNSHostName, objectSid, then u8 count + objectClass values, u8 count +
 * tokenGroups values) becomes an identity; a success must have a name, a
 * "S-1-" SID and at least Everyone and Authenticated Users.
 * Seeds: tests/vectors/ldap/ldap_identity_*.bin.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "ldap/ldap_identity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FIELDS_MAX 300

struct rd {
	const uint8_t *p;
	size_t n;
};

static int
field(struct rd *r, struct oc_ldap_ident_val *v)
{
	size_t l;

	if (r->n < 1)
		return 0;
	l = r->p[0];
	if (r->n - 1 < l)
		return 0;
	v->p = r->p + 1;
	v->len = l;
	r->p += 1 + l;
	r->n -= 1 + l;
	return 1;
}

static void
fuzz_filter(const uint8_t *p, size_t n, enum oc_ldap_ident_key key)
{
	char *s = NULL, *f = NULL, *d = NULL;
	long depth = 0;

	if ((s = malloc(n + 1)) == NULL)
		return;
	memcpy(s, p, n);
	s[n] = '\0';
	if (oc_ldap_ident_filter(key, s, &f, &d) == OC_OK) {
		for (const char *c = f; *c; c++) {
			depth += *c == '(' ? 1 : *c == ')' ? -1 : 0;
			if (depth < 0)
				__builtin_trap();
		}
		if (depth != 0)
			__builtin_trap();
	} else if (f != NULL || d != NULL)
		__builtin_trap();
	free(s);
	free(f);
	free(d);
}

static void
fuzz_entry(const uint8_t *p, size_t n)
{
	static struct oc_ldap_ident_val v[6], cls[FIELDS_MAX], tg[FIELDS_MAX];
	struct oc_ldap_ident_entry e;
	struct oc_identity id;
	struct rd r = { p, n };
	char dn[257];
	size_t k;

	memset(&e, 0, sizeof(e));
	for (k = 0; k < 6; k++)
		if (!field(&r, &v[k]))
			return;
	memcpy(dn, v[0].p, v[0].len);
	dn[v[0].len] = '\0';
	e.dn = dn;
	e.sam = v[1].len ? &v[1] : NULL;
	e.upn = v[2].len ? &v[2] : NULL;
	e.mail = v[3].len ? &v[3] : NULL;
	e.dns = v[4].len ? &v[4] : NULL;
	e.sid = v[5].len ? &v[5] : NULL;
	if (r.n >= 1) {
		e.nclasses = r.p[0];
		r.p++, r.n--;
		for (k = 0; k < e.nclasses; k++)
			if (!field(&r, &cls[k]))
				return;
		e.classes = cls;
	}
	if (r.n >= 1) {
		e.ngroups = r.p[0];
		r.p++, r.n--;
		for (k = 0; k < e.ngroups; k++)
			if (!field(&r, &tg[k]))
				return;
		e.token_groups = tg;
	}
	if (oc_ldap_ident_from_entry(&e, &id) == OC_OK) {
		if (id.name == NULL || id.sid == NULL || strncmp(id.sid, "S-1-", 4) != 0 ||
		    id.groups.n < 2 || id.groups.n > OC_GROUPS_MAX || id.dn == NULL)
			__builtin_trap();
		oc_identity_clear(&id);
	} else if (id.name != NULL || id.sid != NULL || id.groups.n != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_entry(data + 1, size - 1);
	else
		fuzz_filter(data + 1, size - 1, (enum oc_ldap_ident_key)((data[0] / 2) % 4 + 1));
	return 0;
}
