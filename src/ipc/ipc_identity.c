#include "ipc/ipc_identity.h"
#include "common/limits.h"

#include <stdlib.h>

int
oc_ipc_identity_put(struct ocbuf *b, const struct oc_identity *id)
{
	int r;

	if ((r = ocbuf_put_cstring(b, id->name)) ||
	    (r = ocbuf_put_u32(b, (uint32_t)id->kind)) ||
	    (r = ocbuf_put_u32(b, (uint32_t)id->auth_type)) ||
	    (r = ocbuf_put_cstring(b, id->upn)) ||
	    (r = ocbuf_put_cstring(b, id->mail)) ||
	    (r = ocbuf_put_cstring(b, id->dns_name)) ||
	    (r = ocbuf_put_cstring(b, id->dn)) ||
	    (r = ocbuf_put_cstring(b, id->sid)) ||
	    (r = ocbuf_put_u32(b, (uint32_t)id->groups.n)))
		return r;
	for (size_t i = 0; i < id->groups.n; i++)
		if ((r = ocbuf_put_cstring(b, id->groups.v[i])))
			return r;
	return OC_OK;
}

/* empty string on the wire => NULL */
static int
get_opt_cstring(struct ocbuf *b, char **s, size_t max)
{
	int r;

	if ((r = ocbuf_get_cstring(b, s, max)) != OC_OK)
		return r;
	if (**s == '\0') {
		free(*s);
		*s = NULL;
	}
	return OC_OK;
}

static int
get_fields(struct ocbuf *b, struct oc_identity *id)
{
	uint32_t kind, auth, ngroups;
	int r;

	if ((r = get_opt_cstring(b, &id->name, OC_NAME_MAX)) ||
	    (r = ocbuf_get_u32(b, &kind)) ||
	    (r = ocbuf_get_u32(b, &auth)) ||
	    (r = get_opt_cstring(b, &id->upn, OC_NAME_MAX)) ||
	    (r = get_opt_cstring(b, &id->mail, OC_NAME_MAX)) ||
	    (r = get_opt_cstring(b, &id->dns_name, OC_NAME_MAX)) ||
	    (r = get_opt_cstring(b, &id->dn, OC_SUBJECT_MAX)) ||
	    (r = get_opt_cstring(b, &id->sid, OC_NAME_MAX)) ||
	    (r = ocbuf_get_u32(b, &ngroups)))
		return r;
	if (kind > OC_ACCOUNT_COMPUTER || ngroups > OC_GROUPS_MAX)
		return OC_ERR_PARSE;
	if (auth != OC_AUTH_ANONYMOUS && auth != OC_AUTH_KERBEROS &&
	    auth != OC_AUTH_PASSWORD && auth != OC_AUTH_CERTIFICATE)
		return OC_ERR_PARSE;
	id->kind = (enum oc_account_kind)kind;
	id->auth_type = (enum oc_auth_type)auth;
	for (uint32_t i = 0; i < ngroups; i++) {
		char *g = NULL;

		if ((r = ocbuf_get_cstring(b, &g, OC_NAME_MAX)) != OC_OK)
			return r;
		r = oc_strlist_add(&id->groups, g);
		free(g);
		if (r != OC_OK)
			return r;
	}
	return OC_OK;
}

int
oc_ipc_identity_get(struct ocbuf *b, struct oc_identity *id)
{
	int r;

	oc_identity_clear(id);
	if ((r = get_fields(b, id)) != OC_OK)
		oc_identity_clear(id);
	return r;
}
