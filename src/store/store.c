/*
 * The store's public entry points: open picks the backend from the location
 * (a file path or sqlite:PATH for SQLite, a postgresql:// or postgres://
 * URI for PostgreSQL); every other call goes to the handle's backend through
 * its table of operations after the checks common to both.
 */
#include "store/store.h"
#include "store/store_backend.h"

#include <string.h>
#include <strings.h>

int
oc_store_url_is_pg(const char *url)
{
	return url != NULL && (strncasecmp(url, "postgresql://", 13) == 0 ||
	    strncasecmp(url, "postgres://", 11) == 0);
}

void
oc_store_url_redact(const char *url, char *out, size_t outlen)
{
	const char *p, *at, *colon, *end, *q;
	size_t n = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (url == NULL)
		return;
#define PUT(src, len) do { \
		size_t l_ = (len); \
		if (l_ > outlen - 1 - n) \
			l_ = outlen - 1 - n; \
		memcpy(out + n, (src), l_); \
		n += l_; \
	} while (0)
	p = strstr(url, "://");
	p = p ? p + 3 : url;
	/* authority: [user[:password]@]host... up to '/', '?' or '#' */
	end = p + strcspn(p, "/?#");
	at = NULL;
	for (q = p; q < end; q++)
		if (*q == '@')
			at = q;
	colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
	if (colon != NULL) {
		PUT(url, (size_t)(colon + 1 - url));
		PUT("***", 3);
		p = at;
	} else {
		PUT(url, (size_t)(p - url));
	}
	/* the rest, with the value of any password= parameter hidden */
	while (*p != '\0') {
		q = strcasestr(p, "password=");
		if (q == NULL || (q != p && q[-1] != '?' && q[-1] != '&')) {
			if (q == NULL) {
				PUT(p, strlen(p));
				break;
			}
			PUT(p, (size_t)(q + 9 - p));
			p = q + 9;
			continue;
		}
		PUT(p, (size_t)(q + 9 - p));
		PUT("***", 3);
		p = q + 9 + strcspn(q + 9, "&#");
	}
#undef PUT
	out[n] = '\0';
}

int
oc_store_open_url(const char *url, struct oc_store **sp)
{
	*sp = NULL;
	if (url == NULL || *url == '\0')
		return OC_ERR_INVALID;
	if (oc_store_url_is_pg(url))
		return store_pg_open(url, sp);
	if (strncasecmp(url, "sqlite:", 7) == 0)
		url += 7;
	if (*url == '\0')
		return OC_ERR_INVALID;
	return store_sqlite_open(url, sp);
}

int
oc_store_open(const char *path, struct oc_store **sp)
{
	*sp = NULL;
	if (path == NULL)
		return OC_ERR_INVALID;
	if (oc_store_url_is_pg(path))
		return store_pg_open(path, sp);
	return store_sqlite_open(path, sp);
}

void
oc_store_close(struct oc_store *s)
{
	if (s != NULL)
		s->ops->close(s);
}

int
oc_store_batch_begin(struct oc_store *s)
{
	if (s == NULL || s->batch)
		return OC_ERR_INVALID;
	return s->ops->batch_begin(s);
}

int
oc_store_batch_commit(struct oc_store *s)
{
	if (s == NULL || !s->batch)
		return OC_ERR_INVALID;
	return s->ops->batch_commit(s);
}

void
oc_store_batch_rollback(struct oc_store *s)
{
	if (s != NULL && s->batch)
		s->ops->batch_rollback(s);
}

int
oc_store_request_new(struct oc_store *s, const char *requester, const char *template_name,
    const uint8_t *der, size_t der_len, uint32_t *request_id)
{
	return oc_store_request_new_fp(s, requester, template_name, der, der_len, NULL, request_id);
}

int
oc_store_request_new_fp(struct oc_store *s, const char *requester, const char *template_name,
    const uint8_t *der, size_t der_len, const uint8_t fp[32], uint32_t *request_id)
{
	*request_id = 0;
	if (s == NULL || requester == NULL)
		return OC_ERR_INVALID;
	return s->ops->request_new_fp(s, requester, template_name, der, der_len, fp, request_id);
}

int
oc_store_request_by_fp(struct oc_store *s, const uint8_t fp[32], time_t since,
    struct oc_store_request *r)
{
	memset(r, 0, sizeof(*r));
	if (s == NULL || fp == NULL)
		return OC_ERR_INVALID;
	return s->ops->request_by_fp(s, fp, since, r);
}

int
oc_store_request_set_template(struct oc_store *s, uint32_t request_id, const char *template_name)
{
	if (s == NULL || request_id == 0 || template_name == NULL)
		return OC_ERR_INVALID;
	return s->ops->request_set_template(s, request_id, template_name);
}

int
oc_store_request_resolve(struct oc_store *s, uint32_t request_id, int status,
    uint32_t hresult, const char *disposition)
{
	if (s == NULL || request_id == 0 || status == OC_REQ_STATUS_ISSUED ||
	    status < OC_REQ_STATUS_PENDING || status > OC_REQ_STATUS_FAILED)
		return OC_ERR_INVALID;
	return s->ops->request_resolve(s, request_id, status, hresult, disposition);
}

int
oc_store_cert_issue(struct oc_store *s, uint32_t request_id, const struct oc_store_cert *c,
    const char *disposition)
{
	if (s == NULL || c == NULL || c->serial_hex == NULL || c->der == NULL || c->der_len == 0 ||
	    request_id == 0)
		return OC_ERR_INVALID;
	return s->ops->cert_issue(s, request_id, c, disposition);
}

int
oc_store_request_get(struct oc_store *s, uint32_t request_id, struct oc_store_request *r)
{
	memset(r, 0, sizeof(*r));
	if (s == NULL)
		return OC_ERR_INVALID;
	return s->ops->request_get(s, request_id, r);
}

int
oc_store_cert_get(struct oc_store *s, const char *serial_hex, struct oc_store_cert *c)
{
	memset(c, 0, sizeof(*c));
	if (s == NULL || serial_hex == NULL)
		return OC_ERR_INVALID;
	return s->ops->cert_get(s, serial_hex, c);
}

int
oc_store_cert_by_request(struct oc_store *s, uint32_t request_id, struct oc_store_cert *c)
{
	memset(c, 0, sizeof(*c));
	if (s == NULL)
		return OC_ERR_INVALID;
	return s->ops->cert_by_request(s, request_id, c);
}

int
oc_store_serial_exists(struct oc_store *s, const char *serial_hex, int *exists)
{
	*exists = 0;
	if (s == NULL || serial_hex == NULL)
		return OC_ERR_INVALID;
	return s->ops->serial_exists(s, serial_hex, exists);
}

int
oc_store_request_find(struct oc_store *s, const struct oc_store_request_filter *f,
    size_t limit, oc_store_request_cb cb, void *arg)
{
	if (s == NULL || cb == NULL)
		return OC_ERR_INVALID;
	return s->ops->request_find(s, f, limit, cb, arg);
}

int
oc_store_cert_find(struct oc_store *s, const struct oc_store_cert_filter *f, size_t limit,
    oc_store_cert_cb cb, void *arg)
{
	if (s == NULL || cb == NULL)
		return OC_ERR_INVALID;
	return s->ops->cert_find(s, f, limit, cb, arg);
}

int
oc_store_cert_revoke(struct oc_store *s, const char *serial_hex, int reason, time_t when)
{
	if (s == NULL || !store_reason_revocable(reason) || when < 0)
		return OC_ERR_INVALID;
	return s->ops->cert_revoke(s, serial_hex, reason, when ? when : time(NULL));
}

int
oc_store_cert_unrevoke(struct oc_store *s, const char *serial_hex)
{
	if (s == NULL)
		return OC_ERR_INVALID;
	return s->ops->cert_unrevoke(s, serial_hex);
}

int
oc_store_cert_status(struct oc_store *s, const char *serial_hex, int *revoked, int *reason,
    time_t *revoked_at)
{
	*revoked = 0;
	if (reason)
		*reason = 0;
	if (revoked_at)
		*revoked_at = 0;
	if (s == NULL)
		return OC_ERR_INVALID;
	return s->ops->cert_status(s, serial_hex, revoked, reason, revoked_at);
}

int
oc_store_audit(struct oc_store *s, const char *event, const char *actor, const char *detail)
{
	if (s == NULL || event == NULL)
		return OC_ERR_INVALID;
	return s->ops->audit(s, event, actor, detail);
}

int
oc_store_check(struct oc_store *s)
{
	if (s == NULL)
		return OC_ERR_INVALID;
	return s->ops->check(s);
}

int
oc_store_request_approve(struct oc_store *s, uint32_t request_id, const char *actor)
{
	if (s == NULL || request_id == 0 || actor == NULL || actor[0] == '\0')
		return OC_ERR_INVALID;
	return s->ops->request_approve(s, request_id, actor);
}

int
oc_store_request_deny(struct oc_store *s, uint32_t request_id, const char *actor,
    const char *reason)
{
	if (s == NULL || request_id == 0 || actor == NULL || actor[0] == '\0')
		return OC_ERR_INVALID;
	return s->ops->request_deny(s, request_id, actor, reason);
}

int
oc_store_crl_next_number(struct oc_store *s, uint64_t *number)
{
	*number = 0;
	if (s == NULL)
		return OC_ERR_INVALID;
	return s->ops->crl_next_number(s, number);
}

int
oc_store_crl_record(struct oc_store *s, const struct oc_store_crl_info *info,
    const uint8_t *der, size_t der_len)
{
	if (s == NULL || info == NULL || der == NULL || der_len == 0 || info->number == 0 ||
	    info->number > (uint64_t)INT64_MAX)
		return OC_ERR_INVALID;
	if (der_len > (size_t)INT32_MAX)
		return OC_ERR_LIMIT;
	return s->ops->crl_record(s, info, der, der_len);
}

int
oc_store_crl_last(struct oc_store *s, int delta, struct oc_store_crl_info *info)
{
	memset(info, 0, sizeof(*info));
	if (s == NULL)
		return OC_ERR_INVALID;
	return s->ops->crl_last(s, delta, info);
}

int
oc_store_crl_entries(struct oc_store *s, time_t since, int with_removed,
    oc_store_crl_entry_cb cb, void *arg)
{
	if (s == NULL || cb == NULL || since < 0)
		return OC_ERR_INVALID;
	return s->ops->crl_entries(s, since, with_removed, cb, arg);
}

int
oc_store_crl_request(struct oc_store *s, const char *actor, int what)
{
	if (s == NULL || what <= 0 || (what & ~(OC_STORE_CRL_ASK_FULL | OC_STORE_CRL_ASK_DELTA)))
		return OC_ERR_INVALID;
	return s->ops->crl_request(s, actor, what);
}

int
oc_store_crl_take_request(struct oc_store *s, int *asked)
{
	*asked = 0;
	if (s == NULL)
		return OC_ERR_INVALID;
	return s->ops->crl_take_request(s, asked);
}
