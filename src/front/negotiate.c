/*
 * HTTP Negotiate (RFC 4559) on the Kerberos endpoints (docs/protocol/xcep.md
 * 1.5, wstep.md 4.1): one SPNEGO leg per request through the authentication
 * service; unfinished multi-leg exchanges are remembered per TLS connection
 * (oc_http_request.conn_id) in a small bounded table; the ticket's principal
 * is mapped to a directory account when one exists.
 */
#include "front/front_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/gss.h"
#include "common/limits.h"
#include "common/log.h"

#define CB_PREFIX "tls-server-end-point:"

struct neg_slot {
	uint64_t conn_id;           /* 0: free */
	uint64_t handle;            /* authsvc exchange handle */
	time_t used;
};

struct oc_front_neg {
	pthread_mutex_t mu;
	struct neg_slot slots[OC_AUTHSVC_CTX_MAX];
};

int
oc_front_neg_new(struct oc_front_neg **np)
{
	struct oc_front_neg *n;

	if ((*np = n = calloc(1, sizeof(*n))) == NULL)
		return OC_ERR_NOMEM;
	pthread_mutex_init(&n->mu, NULL);
	return OC_OK;
}

void
oc_front_neg_free(struct oc_front_neg *n, struct oc_authsvc *svc)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < OC_AUTHSVC_CTX_MAX; i++)
		if (n->slots[i].conn_id != 0 && svc != NULL)
			oc_authsvc_negotiate_abort(svc, n->slots[i].handle);
	pthread_mutex_destroy(&n->mu);
	free(n);
}

/* Take (and forget) the unfinished exchange of a connection; 0 when none. */
static uint64_t
neg_take(struct oc_front_neg *n, uint64_t conn_id)
{
	uint64_t h = 0;

	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < OC_AUTHSVC_CTX_MAX; i++)
		if (n->slots[i].conn_id == conn_id) {
			h = n->slots[i].handle;
			memset(&n->slots[i], 0, sizeof(n->slots[i]));
			break;
		}
	pthread_mutex_unlock(&n->mu);
	return h;
}

/* Remember an exchange; the oldest (or an expired) slot makes room. */
static void
neg_put(struct oc_front_neg *n, struct oc_authsvc *svc, uint64_t conn_id, uint64_t handle)
{
	time_t now = time(NULL);
	size_t pick = 0;
	uint64_t evicted = 0;

	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < OC_AUTHSVC_CTX_MAX; i++) {
		struct neg_slot *s = &n->slots[i];

		if (s->conn_id != 0 && now - s->used > OC_AUTHSVC_CTX_TTL_SECONDS)
			memset(s, 0, sizeof(*s));       /* the service dropped it already */
		if (s->conn_id == 0) {
			pick = i;
			break;
		}
		if (s->used < n->slots[pick].used)
			pick = i;
	}
	if (n->slots[pick].conn_id != 0)
		evicted = n->slots[pick].handle;
	n->slots[pick].conn_id = conn_id;
	n->slots[pick].handle = handle;
	n->slots[pick].used = now;
	pthread_mutex_unlock(&n->mu);
	if (evicted != 0)
		oc_authsvc_negotiate_abort(svc, evicted);
}

/* "Negotiate <base64>" (scheme in any case): the base64 text, or NULL. */
static const char *
negotiate_token(const char *authz)
{
	static const char scheme[] = "Negotiate";
	size_t n = sizeof(scheme) - 1;

	if (authz == NULL)
		return NULL;
	while (*authz == ' ' || *authz == '\t')
		authz++;
	if (strncasecmp(authz, scheme, n) != 0 || (authz[n] != ' ' && authz[n] != '\t'))
		return NULL;
	authz += n;
	while (*authz == ' ' || *authz == '\t')
		authz++;
	return *authz ? authz : NULL;
}

/* 401 with a Negotiate challenge (token may be NULL: the bare challenge). */
static void
challenge(struct oc_http_response *resp, const uint8_t *tok, size_t len)
{
	char *b64 = NULL, *hdr = NULL;

	oc_front_plain(resp, 401, "Negotiate authentication required\n");
	if (tok != NULL && len > 0 && oc_b64_encode(tok, len, &b64) == OC_OK &&
	    (hdr = malloc(strlen(b64) + sizeof("Negotiate "))) != NULL) {
		strcpy(hdr, "Negotiate ");
		strcat(hdr, b64);
	}
	if (oc_http_response_add_header(resp, "WWW-Authenticate", hdr ? hdr : "Negotiate") != OC_OK)
		log_warn("cannot add WWW-Authenticate header");
	free(b64);
	free(hdr);
}

/*
 * The directory account of a principal: its UPN equals the principal; or, for
 * principals of the configured realm only (a principal of another realm must
 * never become a local account of the same name), the account named by the
 * user part, and for machines NAME$ also the computer account NAME.
 */
static int
map_principal(struct oc_directory *dir, const char *realm, const struct oc_identity *ticket,
    struct oc_identity *id)
{
	char user[OC_GSS_PRINCIPAL_MAX + 1];
	const char *at;
	size_t ul;
	int r;

	if ((r = oc_dir_account_lookup_login(dir, ticket->name, id)) != OC_ERR_NOT_FOUND)
		return r;                           /* UPN = principal (or an error) */
	if ((at = strrchr(ticket->name, '@')) == NULL || (ul = (size_t)(at - ticket->name)) == 0 ||
	    ul >= sizeof(user) || memchr(ticket->name, '/', ul) != NULL)
		return OC_ERR_NOT_FOUND;            /* host/... services are not accounts */
	if (realm == NULL || strcmp(at + 1, realm) != 0)
		return OC_ERR_NOT_FOUND;            /* realms are case-sensitive */
	memcpy(user, ticket->name, ul);
	user[ul] = '\0';
	if ((r = oc_dir_account_get(dir, user, id)) != OC_ERR_NOT_FOUND)
		return r;                           /* account name = the user part */
	if (ticket->kind == OC_ACCOUNT_COMPUTER && user[ul - 1] == '$' && ul > 1) {
		user[ul - 1] = '\0';                /* NAME$ -> computer account NAME */
		if ((r = oc_dir_account_get(dir, user, id)) == OC_OK &&
		    id->kind != OC_ACCOUNT_COMPUTER) {
			oc_identity_clear(id);
			r = OC_ERR_NOT_FOUND;
		}
	}
	return r;
}

/* Keep what the ticket's PAC says (SID, group SIDs) next to the account's own groups. */
static int
merge_ticket(struct oc_identity *id, const struct oc_identity *ticket)
{
	int r;

	if (id->sid == NULL && ticket->sid != NULL && (id->sid = strdup(ticket->sid)) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < ticket->groups.n; i++)
		if (!oc_strlist_contains(&id->groups, ticket->groups.v[i]) &&
		    id->groups.n < OC_GROUPS_MAX &&
		    (r = oc_strlist_add(&id->groups, ticket->groups.v[i])) != OC_OK)
			return r;
	return OC_OK;
}

int
oc_front_negotiate(struct oc_front *f, struct oc_front_thread *t,
    const struct oc_endpoint *ep, const struct oc_http_request *req, struct oc_http_response *resp,
    struct oc_identity *caller, char **mutual)
{
	uint8_t cb[sizeof(CB_PREFIX) - 1 + OC_GSS_CB_MAX];
	uint8_t *tok = NULL, *out = NULL;
	size_t toklen = 0, outlen = 0, cblen = 0;
	struct oc_identity ticket, mapped;
	uint64_t h;
	const char *b64;
	int r, complete = 0;

	*mutual = NULL;
	memset(&ticket, 0, sizeof(ticket));
	memset(&mapped, 0, sizeof(mapped));
	h = neg_take(f->neg, req->conn_id);
	if ((b64 = negotiate_token(oc_http_request_header(req, "Authorization"))) == NULL) {
		if (h != 0)
			oc_authsvc_negotiate_abort(f->authsvc, h);
		challenge(resp, NULL, 0);
		r = OC_ERR_AUTH_MISSING;
		goto out;
	}
	if (oc_b64_decode(b64, strlen(b64), &tok, &toklen, OC_GSS_TOKEN_MAX) != OC_OK ||
	    toklen == 0) {
		if (h != 0)
			oc_authsvc_negotiate_abort(f->authsvc, h);
		log_info("%s: unreadable Negotiate token from %s", req->path, req->peer);
		challenge(resp, NULL, 0);
		r = OC_ERR_AUTH;
		goto out;
	}
	/* RFC 5929 application data: "tls-server-end-point:" || hash */
	if (req->tls_server_end_point != NULL && req->tls_server_end_point_len > 0 &&
	    req->tls_server_end_point_len <= OC_GSS_CB_MAX - (sizeof(CB_PREFIX) - 1)) {
		memcpy(cb, CB_PREFIX, sizeof(CB_PREFIX) - 1);
		memcpy(cb + sizeof(CB_PREFIX) - 1, req->tls_server_end_point,
		    req->tls_server_end_point_len);
		cblen = sizeof(CB_PREFIX) - 1 + req->tls_server_end_point_len;
	}
	r = oc_authsvc_negotiate(f->authsvc, &h, tok, toklen, cblen ? cb : NULL, cblen,
	    &out, &outlen, &ticket, &complete);
	if (r == OC_OK && !complete) {
		neg_put(f->neg, f->authsvc, req->conn_id, h);
		challenge(resp, out, outlen);
		r = OC_ERR_AUTH_MISSING;
		goto out;
	}
	if (r != OC_OK) {
		oc_audit("auth", "method", "kerberos", "peer", req->peer ? req->peer : "",
		    "result", "fail", (char *)NULL);
		log_info("%s: Negotiate refused from %s: %s", req->path, req->peer, oc_strerror(r));
		if (r == OC_ERR_AUTH || r == OC_ERR_AUTH_MISSING)
			challenge(resp, NULL, 0);
		else
			oc_front_fault_err(resp, ep->service, NULL, OC_ERR_UNAVAILABLE);
		r = OC_ERR_AUTH;
		goto out;
	}
	/* complete: the mutual-authentication token goes on every answer */
	if (outlen > 0 && oc_b64_encode(out, outlen, mutual) != OC_OK) {
		r = OC_ERR_NOMEM;
		oc_front_fault_err(resp, ep->service, NULL, r);
		goto out;
	}
	if (ticket.name == NULL) {
		r = OC_ERR_AUTH;
		challenge(resp, NULL, 0);
		goto out;
	}
	/* directory accounts over LDAP: the auth process already named the caller */
	r = t->dir && !oc_authsvc_has_directory(f->authsvc) ?
	    map_principal(t->dir, f->cfg.kerberos_realm, &ticket, &mapped) : OC_ERR_NOT_FOUND;
	if (r == OC_OK && (r = merge_ticket(&mapped, &ticket)) != OC_OK) {
		oc_front_fault_err(resp, ep->service, NULL, r);
		goto out;
	}
	if (r == OC_OK) {
		oc_identity_clear(caller);
		*caller = mapped;
		memset(&mapped, 0, sizeof(mapped));
	} else if (r == OC_ERR_NOT_FOUND) {
		oc_identity_clear(caller);
		*caller = ticket;                   /* the ticket's identity as it is */
		memset(&ticket, 0, sizeof(ticket));
	} else {
		error_fr(r, "directory account of %s", ticket.name);
		oc_front_fault_err(resp, ep->service, NULL, OC_ERR_UNAVAILABLE);
		goto out;
	}
	caller->auth_type = OC_AUTH_KERBEROS;
	oc_audit("auth", "method", "kerberos", "login", ticket.name ? ticket.name : caller->name,
	    "account", caller->name, "peer", req->peer ? req->peer : "", "result", "ok",
	    (char *)NULL);
	r = OC_OK;
out:
	if (r != OC_OK) {
		free(*mutual);
		*mutual = NULL;
	}
	oc_identity_clear(&ticket);
	oc_identity_clear(&mapped);
	free(tok);
	free(out);
	return r;
}
