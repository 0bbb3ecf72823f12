/*
 * The authentication service handle (authsvc.h): calls go to the
 * implementation behind it, in-process (authsvc_local.c) or the auth
 * process's client (authsvc_remote.c). Arguments are checked here once.
 */
#include "auth/authsvc_int.h"

#include <stdlib.h>

void
oc_authsvc_free(struct oc_authsvc *s)
{
	if (s == NULL)
		return;
	s->ops->free(s);
}

int
oc_authsvc_has_kerberos(struct oc_authsvc *s)
{
	return s != NULL && s->ops->has_kerberos(s);
}

int
oc_authsvc_has_directory(struct oc_authsvc *s)
{
	return s != NULL && s->ops->has_directory != NULL && s->ops->has_directory(s);
}

int
oc_authsvc_cert_map(struct oc_authsvc *s, const char *sid, const struct oc_strlist *upn,
    const struct oc_strlist *dns, struct oc_identity *id)
{
	if (s == NULL || id == NULL)
		return OC_ERR_INVALID;
	oc_identity_clear(id);
	if (!oc_authsvc_has_directory(s) || s->ops->cert_map == NULL)
		return OC_ERR_NOT_SUPPORTED;
	return s->ops->cert_map(s, sid, upn, dns, id);
}

int
oc_authsvc_password(struct oc_authsvc *s, const char *login, const char *password,
    struct oc_identity *id)
{
	if (s == NULL || id == NULL)
		return OC_ERR_INVALID;
	oc_identity_clear(id);
	if (login == NULL || password == NULL)
		return OC_ERR_AUTH;
	return s->ops->password(s, login, password, id);
}

int
oc_authsvc_negotiate(struct oc_authsvc *s, uint64_t *ctx, const uint8_t *token,
    size_t len, const uint8_t *cb, size_t cb_len, uint8_t **out, size_t *out_len,
    struct oc_identity *id, int *complete)
{
	if (out != NULL)
		*out = NULL;
	if (out_len != NULL)
		*out_len = 0;
	if (complete != NULL)
		*complete = 0;
	if (s == NULL || ctx == NULL || out == NULL || out_len == NULL || id == NULL ||
	    complete == NULL || (token == NULL && len > 0) || (cb == NULL && cb_len > 0))
		return OC_ERR_INVALID;
	oc_identity_clear(id);
	return s->ops->negotiate(s, ctx, token, len, cb, cb_len, out, out_len, id, complete);
}

void
oc_authsvc_negotiate_abort(struct oc_authsvc *s, uint64_t ctx)
{
	if (s == NULL || ctx == 0)
		return;
	s->ops->abort(s, ctx);
}
