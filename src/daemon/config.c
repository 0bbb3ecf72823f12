#include "daemon/config.h"

#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/gss.h"
#include "common/limits.h"
#include "common/log.h"
#include "store/store.h"
#include "front/front.h"
#include "ldap/ldap_conn.h"

#define CONF_MAX (256 * 1024)

void
oc_config_clear(struct oc_config *c)
{
	if (c == NULL)
		return;
	free(c->base_dir);
	oc_strlist_free(&c->listen);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->public_url);
	free(c->audit_log);
	free(c->keytab);
	free(c->spn);
	free(c->kerberos_realm);
	free(c->client_ca);
	free(c->ca_name);
	free(c->ca_key);
	free(c->ca_cert);
	free(c->ca_key_type);
	free(c->aia_url);
	free(c->cdp_url);
	free(c->publish_listen);
	free(c->metrics_listen);
	free(c->publish_dir);
	free(c->delta_cdp_url);
	free(c->store_path);
	free(c->dir_path);
	free(c->ldap_uri);
	free(c->ldap_ca_file);
	free(c->ldap_bind_dn);
	free(c->ldap_password_file);
	free(c->ldap_keytab);
	free(c->ldap_principal);
	free(c->ldap_base_dn);
	free(c->policy_id);
	free(c->friendly_name);
	free(c->endpoints);
	for (size_t i = 0; i < c->npublished; i++)
		free(c->published[i].uri);
	free(c->published);
	oc_strlist_free(&c->link_listen);
	oc_strlist_free(&c->link_allow);
	oc_strlist_free(&c->ca_nodes);
	free(c->link_cert);
	free(c->link_key);
	free(c->link_client_ca);
	free(c->link_client_cert);
	free(c->link_client_key);
	free(c->link_server_ca);
	memset(c, 0, sizeof(*c));
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Make a path absolute relative to the configuration's directory. */
static int
set_path(const struct oc_config *c, char **dst, const char *v)
{
	char buf[4096];

	free(*dst);
	if (v[0] == '/')
		*dst = strdup(v);
	else {
		if (snprintf(buf, sizeof(buf), "%s/%s", c->base_dir, v) >= (int)sizeof(buf))
			return OC_ERR_LIMIT;
		*dst = strdup(buf);
	}
	return *dst ? OC_OK : OC_ERR_NOMEM;
}

static int
set_str(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) ? OC_OK : OC_ERR_NOMEM;
}

static int
parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcmp(v, "0"))
		*out = 0;
	else
		return OC_ERR_CONFIG;
	return OC_OK;
}

static int
parse_u32(const char *v, uint32_t *out)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)*v))        /* no sign, no space, not empty */
		return OC_ERR_CONFIG;
	x = strtoull(v, &end, 10);
	if (*end != '\0' || x > UINT32_MAX)
		return OC_ERR_CONFIG;
	*out = (uint32_t)x;
	return OC_OK;
}

static int
parse_auth(const char *v, enum oc_auth_type *a)
{
	if (!strcasecmp(v, "password") || !strcasecmp(v, "usernamepassword"))
		*a = OC_AUTH_PASSWORD;
	else if (!strcasecmp(v, "kerberos"))
		*a = OC_AUTH_KERBEROS;
	else if (!strcasecmp(v, "certificate"))
		*a = OC_AUTH_CERTIFICATE;
	else
		return OC_ERR_CONFIG;
	return OC_OK;
}

static const char *const sections[] = {
	"server", "ca", "store", "directory", "policy", "endpoint", "publish",
	"ca_link", "ca_node",
};

/* [server] roles = front, ca (a list of role names) */
static int
parse_roles(const char *v, int *roles)
{
	char buf[64], *s, *tok, *save = NULL;

	if (snprintf(buf, sizeof(buf), "%s", v) >= (int)sizeof(buf))
		return OC_ERR_CONFIG;
	*roles = 0;
	for (s = buf; (tok = strtok_r(s, ", \t", &save)) != NULL; s = NULL) {
		if (!strcasecmp(tok, "front"))
			*roles |= OC_ROLE_FRONT;
		else if (!strcasecmp(tok, "ca"))
			*roles |= OC_ROLE_CA;
		else
			return OC_ERR_CONFIG;
	}
	return *roles ? OC_OK : OC_ERR_CONFIG;
}

static int add_bounded(struct oc_strlist *l, const char *v, size_t max) OC_WUR;
static int
add_bounded(struct oc_strlist *l, const char *v, size_t max)
{
	return l->n >= max ? OC_ERR_LIMIT : oc_strlist_add(l, v);
}

/* The roles and the CA link's keys; 1 when (sec, k) is not one of them. */
static int
apply_link(struct oc_config *c, const char *sec, const char *k, const char *v)
{
	uint32_t u;

	if (!strcmp(sec, "server") && !strcmp(k, "roles"))
		return parse_roles(v, &c->roles);
	if (!strcmp(sec, "ca_node"))
		return !strcmp(k, "address") ? add_bounded(&c->ca_nodes, v, OC_CALINK_NODES_MAX) :
		    OC_ERR_CONFIG;
	if (strcmp(sec, "ca_link") != 0)
		return 1;
	if (!strcmp(k, "listen"))
		return add_bounded(&c->link_listen, v, 16);
	if (!strcmp(k, "allow"))
		return add_bounded(&c->link_allow, v, OC_CALINK_ALLOW_MAX);
	if (!strcmp(k, "tls_cert"))
		return set_path(c, &c->link_cert, v);
	if (!strcmp(k, "tls_key"))
		return set_path(c, &c->link_key, v);
	if (!strcmp(k, "client_ca"))
		return set_path(c, &c->link_client_ca, v);
	if (!strcmp(k, "client_cert"))
		return set_path(c, &c->link_client_cert, v);
	if (!strcmp(k, "client_key"))
		return set_path(c, &c->link_client_key, v);
	if (!strcmp(k, "server_ca"))
		return set_path(c, &c->link_server_ca, v);
	if (!strcmp(k, "connect_timeout")) {
		if (parse_u32(v, &u) != OC_OK || u == 0 || u > 60)
			return OC_ERR_CONFIG;
		c->link_connect_timeout = u;
		return OC_OK;
	}
	if (!strcmp(k, "retry_seconds")) {
		if (parse_u32(v, &u) != OC_OK || u == 0 || u > 3600)
			return OC_ERR_CONFIG;
		c->link_retry_seconds = u;
		return OC_OK;
	}
	return OC_ERR_CONFIG;
}

/* What a host of one role alone needs (both roles: the checks below). */
static int
check_roles(const struct oc_config *c, const char *path)
{
	if (c->roles == OC_ROLE_FRONT && (c->listen.n == 0 || c->tls_cert == NULL ||
	    c->tls_key == NULL || c->public_url == NULL || c->ca_cert == NULL ||
	    c->dir_path == NULL || c->policy_id == NULL || c->nendpoints == 0 ||
	    c->ca_nodes.n == 0 || c->link_client_cert == NULL || c->link_client_key == NULL ||
	    c->link_server_ca == NULL)) {
		log_error("%s: roles = front: missing one of server.listen, server.tls_cert, "
		    "server.tls_key, server.public_url, ca.cert, directory.path, policy.id, "
		    "[endpoint], [ca_node] address, ca_link.client_cert, ca_link.client_key, "
		    "ca_link.server_ca", path);
		return OC_ERR_CONFIG;
	}
	if (c->roles == OC_ROLE_CA && (c->ca_key == NULL || c->ca_cert == NULL ||
	    c->dir_path == NULL || c->link_listen.n == 0 || c->link_cert == NULL ||
	    c->link_key == NULL || c->link_client_ca == NULL || c->link_allow.n == 0)) {
		log_error("%s: roles = ca: missing one of ca.key, ca.cert, directory.path, "
		    "ca_link.listen, ca_link.tls_cert, ca_link.tls_key, ca_link.client_ca, "
		    "ca_link.allow", path);
		return OC_ERR_CONFIG;
	}
	return OC_OK;
}

static int
known_section(const char *name)
{
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (!strcmp(name, sections[i]))
			return 1;
	return 0;
}

/* [directory] keys of the LDAP source (ldap/ldap_conn.h, ldap/ldap_mirror.h). */
static int
apply_directory(struct oc_config *c, const char *k, const char *v)
{
	uint32_t u;

	if (!strcmp(k, "source")) {
		if (!strcasecmp(v, "embedded"))
			c->dir_source = OC_DIR_SOURCE_EMBEDDED;
		else if (!strcasecmp(v, "ldap"))
			c->dir_source = OC_DIR_SOURCE_LDAP;
		else
			return OC_ERR_CONFIG;
		return OC_OK;
	}
	if (!strcmp(k, "accounts")) {
		if (!strcasecmp(v, "embedded"))
			c->dir_accounts_embedded = 1;
		else if (!strcasecmp(v, "ldap"))
			c->dir_accounts_embedded = 0;
		else
			return OC_ERR_CONFIG;
		return OC_OK;
	}
	if (!strcmp(k, "ldap_uri"))
		return set_str(&c->ldap_uri, v);
	if (!strcmp(k, "ldap_starttls"))
		return parse_bool(v, &c->ldap_starttls);
	if (!strcmp(k, "ldap_ca_file"))
		return set_path(c, &c->ldap_ca_file, v);
	if (!strcmp(k, "ldap_bind")) {
		if (!strcasecmp(v, "simple"))
			c->ldap_bind = OC_LDAP_BIND_SIMPLE;
		else if (!strcasecmp(v, "gssapi"))
			c->ldap_bind = OC_LDAP_BIND_GSSAPI;
		else
			return OC_ERR_CONFIG;
		return OC_OK;
	}
	if (!strcmp(k, "ldap_bind_dn"))
		return set_str(&c->ldap_bind_dn, v);
	if (!strcmp(k, "ldap_password_file"))
		return set_path(c, &c->ldap_password_file, v);
	if (!strcmp(k, "ldap_keytab"))
		return set_path(c, &c->ldap_keytab, v);
	if (!strcmp(k, "ldap_principal"))
		return set_str(&c->ldap_principal, v);
	if (!strcmp(k, "ldap_base_dn"))
		return set_str(&c->ldap_base_dn, v);
	if (!strcmp(k, "refresh_seconds") || !strcmp(k, "ldap_timeout")) {
		if (parse_u32(v, &u) != OC_OK || u == 0 || u > 86400)
			return OC_ERR_CONFIG;
		*(k[0] == 'r' ? &c->refresh_seconds : &c->ldap_timeout) = u;
		return OC_OK;
	}
	return OC_ERR_CONFIG;
}

void
oc_config_ldap(const struct oc_config *c, struct oc_ldap_config *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->uri = c->ldap_uri;
	lc->starttls = c->ldap_starttls;
	lc->ca_file = c->ldap_ca_file;
	lc->bind = c->ldap_bind;
	lc->bind_dn = c->ldap_bind_dn;
	lc->password_file = c->ldap_password_file;
	lc->keytab = c->ldap_keytab;
	lc->principal = c->ldap_principal;
	lc->base_dn = c->ldap_base_dn;
	lc->timeout_s = (int)c->ldap_timeout;
}

static int
apply(struct oc_config *c, const char *sec, const char *k, const char *v)
{
	struct oc_conf_endpoint *ep;
	uint32_t u;
	int r;

	if (*v == '\0')                        /* "key =": omit optional keys instead */
		return OC_ERR_CONFIG;
	if ((r = apply_link(c, sec, k, v)) != 1)
		return r;
	if (!strcmp(sec, "server")) {
		if (!strcmp(k, "listen"))
			return oc_strlist_add(&c->listen, v);
		if (!strcmp(k, "tls_cert"))
			return set_path(c, &c->tls_cert, v);
		if (!strcmp(k, "tls_key"))
			return set_path(c, &c->tls_key, v);
		if (!strcmp(k, "public_url"))
			return set_str(&c->public_url, v);
		if (!strcmp(k, "audit_log"))
			return set_path(c, &c->audit_log, v);
		if (!strcmp(k, "keytab"))
			return set_path(c, &c->keytab, v);
		if (!strcmp(k, "spn"))
			return set_str(&c->spn, v);
		if (!strcmp(k, "kerberos_realm"))
			return set_str(&c->kerberos_realm, v);
		if (!strcmp(k, "client_ca"))
			return set_path(c, &c->client_ca, v);
		if (!strcmp(k, "publish_listen"))
			return set_str(&c->publish_listen, v);
		if (!strcmp(k, "metrics_listen"))
			return set_str(&c->metrics_listen, v);
		if (!strcmp(k, "health_max_age_seconds")) {
			if (parse_u32(v, &u) != OC_OK || u == 0 || u > 3600)
				return OC_ERR_CONFIG;
			c->health_max_age = u;
			return OC_OK;
		}
		if (!strcmp(k, "channel_binding")) {
			if (!strcasecmp(v, "off"))
				c->channel_binding = OC_GSS_CB_OFF;
			else if (!strcasecmp(v, "when_present"))
				c->channel_binding = OC_GSS_CB_WHEN_PRESENT;
			else if (!strcasecmp(v, "required"))
				c->channel_binding = OC_GSS_CB_REQUIRED;
			else
				return OC_ERR_CONFIG;
			return OC_OK;
		}
		if (!strcmp(k, "workers") || !strcmp(k, "queue")) {
			if ((r = parse_u32(v, &u)) != OC_OK || u == 0 || u > 1024)
				return OC_ERR_CONFIG;
			*(!strcmp(k, "workers") ? &c->workers : &c->queue) = (int)u;
			return OC_OK;
		}
	} else if (!strcmp(sec, "ca")) {
		if (!strcmp(k, "name"))
			return set_str(&c->ca_name, v);
		if (!strcmp(k, "key"))   /* a file, or a PKCS#11 URI (ca/ca_pkcs11.h) */
			return strncasecmp(v, "pkcs11:", 7) ? set_path(c, &c->ca_key, v) :
			    set_str(&c->ca_key, v);
		if (!strcmp(k, "cert"))
			return set_path(c, &c->ca_cert, v);
		if (!strcmp(k, "key_type")) {
			if (strcasecmp(v, "RSA2048") && strcasecmp(v, "P256"))
				return OC_ERR_CONFIG;
			return set_str(&c->ca_key_type, v);
		}
		if (!strcmp(k, "aia_url"))
			return set_str(&c->aia_url, v);
		if (!strcmp(k, "cdp_url"))
			return set_str(&c->cdp_url, v);
		if (!strcmp(k, "delta_cdp_url"))
			return set_str(&c->delta_cdp_url, v);
		if (!strcmp(k, "publish_dir"))
			return set_path(c, &c->publish_dir, v);
		if (!strcmp(k, "crl_period_hours") || !strcmp(k, "crl_overlap_hours")) {
			if (parse_u32(v, &u) != OC_OK || u == 0 || u > 24 * 366)
				return OC_ERR_CONFIG;
			*(k[4] == 'p' ? &c->crl_period_hours : &c->crl_overlap_hours) = u;
			return OC_OK;
		}
		if (!strcmp(k, "refuse_request_names"))
			return parse_bool(v, &c->refuse_request_names);
		if (!strcmp(k, "idempotence_window_seconds")) {
			if (parse_u32(v, &u) != OC_OK || u > 7 * 24 * 3600)
				return OC_ERR_CONFIG;
			c->idempotence_window = u + 1;   /* + 1: set (0 = off) */
			return OC_OK;
		}
		if (!strcmp(k, "sign_threads")) {
			if (parse_u32(v, &u) != OC_OK || u > 64)
				return OC_ERR_CONFIG;
			c->sign_threads = (int)u;
			return OC_OK;
		}
		if (!strcmp(k, "delta_crl_period_hours")) {
			if (parse_u32(v, &u) != OC_OK || u > 24 * 366)
				return OC_ERR_CONFIG;
			c->delta_crl_period_hours = u + 1;   /* + 1: set (0 = none) */
			return OC_OK;
		}
	} else if (!strcmp(sec, "store")) {
		if (!strcmp(k, "path"))
			return set_path(c, &c->store_path, v);
		/* url: a PostgreSQL URI (kept as given: never logged) or sqlite:PATH */
		if (!strcmp(k, "url") && oc_store_url_is_pg(v))
			return set_str(&c->store_path, v);
		if (!strcmp(k, "url") && !strncmp(v, "sqlite:", 7) && v[7] != '\0')
			return set_path(c, &c->store_path, v + 7);
	} else if (!strcmp(sec, "directory")) {
		if (!strcmp(k, "path"))
			return set_path(c, &c->dir_path, v);
		return apply_directory(c, k, v);
	} else if (!strcmp(sec, "policy")) {
		if (!strcmp(k, "id"))
			return set_str(&c->policy_id, v);
		if (!strcmp(k, "friendly_name"))
			return set_str(&c->friendly_name, v);
		if (!strcmp(k, "next_update_hours")) {
			if (parse_u32(v, &c->next_update_hours) != OC_OK || c->next_update_hours == 0)
				return OC_ERR_CONFIG;
			return OC_OK;
		}
	} else if (!strcmp(sec, "publish") && c->npublished > 0) {
		struct oc_conf_uri *pu = &c->published[c->npublished - 1];
		if (!strcmp(k, "uri"))
			return set_str(&pu->uri, v);
		if (!strcmp(k, "auth"))
			return parse_auth(v, &pu->auth);
		if (!strcmp(k, "priority"))
			return parse_u32(v, &pu->priority);
		if (!strcmp(k, "renewal_only"))
			return parse_bool(v, &pu->renewal_only);
	} else if (!strcmp(sec, "endpoint") && c->nendpoints > 0) {
		ep = &c->endpoints[c->nendpoints - 1];
		if (!strcmp(k, "service")) {
			if (!strcasecmp(v, "cep"))
				ep->service = OC_SERVICE_CEP;
			else if (!strcasecmp(v, "ces"))
				ep->service = OC_SERVICE_CES;
			else
				return OC_ERR_CONFIG;
			return OC_OK;
		}
		if (!strcmp(k, "auth"))
			return parse_auth(v, &ep->auth);
		if (!strcmp(k, "priority"))
			return parse_u32(v, &ep->priority);
		if (!strcmp(k, "renewal_only"))
			return parse_bool(v, &ep->renewal_only);
	}
	return OC_ERR_CONFIG;
}

int
oc_config_load(const char *path, struct oc_config *c)
{
	uint8_t *data = NULL;
	size_t len;
	char *line, *rest, *dup = NULL, sec[64] = "";
	int r, lineno = 0;

	memset(c, 0, sizeof(*c));
	c->channel_binding = OC_GSS_CB_WHEN_PRESENT;
	c->ldap_starttls = 1;
	c->ldap_bind = OC_LDAP_BIND_SIMPLE;
	if ((r = oc_file_read(path, &data, &len, CONF_MAX)) != OC_OK) {
		log_error("cannot read %s: %s", path, oc_strerror(r));
		return r;
	}
	/* strsep below would stop at a NUL byte and ignore the rest of the file */
	if (memchr(data, '\0', len) != NULL) {
		log_error("%s: contains a NUL byte", path);
		r = OC_ERR_CONFIG;
		goto out;
	}
	if ((dup = strdup(path)) == NULL || (c->base_dir = strdup(dirname(dup))) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	rest = (char *)data;
	while ((line = strsep(&rest, "\n")) != NULL) {
		char *s = trim(line), *eq, *k, *v;

		lineno++;
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			/* "]" ends the line (s is trimmed); the name is one we know */
			if (e == NULL || e[1] != '\0' || (size_t)(e - s - 1) >= sizeof(sec)) {
				r = OC_ERR_CONFIG;
				goto bad;
			}
			*e = '\0';
			snprintf(sec, sizeof(sec), "%s", trim(s + 1));
			if (!known_section(sec)) {
				r = OC_ERR_CONFIG;
				goto bad;
			}
			if (!strcmp(sec, "endpoint")) {
				struct oc_conf_endpoint *n = realloc(c->endpoints,
				    (c->nendpoints + 1) * sizeof(*n));
				if (n == NULL) {
					r = OC_ERR_NOMEM;
					goto out;
				}
				c->endpoints = n;
				memset(&n[c->nendpoints], 0, sizeof(*n));
				n[c->nendpoints].priority = 1;
				n[c->nendpoints].auth = OC_AUTH_PASSWORD;
				c->nendpoints++;
			} else if (!strcmp(sec, "publish")) {
				struct oc_conf_uri *n = realloc(c->published,
				    (c->npublished + 1) * sizeof(*n));
				if (n == NULL) {
					r = OC_ERR_NOMEM;
					goto out;
				}
				c->published = n;
				memset(&n[c->npublished], 0, sizeof(*n));
				n[c->npublished].priority = 1;
				n[c->npublished].auth = OC_AUTH_PASSWORD;
				c->npublished++;
			}
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			r = OC_ERR_CONFIG;
			goto bad;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		if ((r = apply(c, sec, k, v)) != OC_OK)
			goto bad;
	}
	/* defaults */
	if (c->ca_name == NULL && (r = set_str(&c->ca_name, "OpenCES Demo CA")) != OC_OK)
		goto out;
	if (c->ca_key_type == NULL && (r = set_str(&c->ca_key_type, "RSA2048")) != OC_OK)
		goto out;
	if (c->next_update_hours == 0)
		c->next_update_hours = 8;
	if (c->crl_period_hours == 0)
		c->crl_period_hours = 24;
	if (c->crl_overlap_hours == 0)
		c->crl_overlap_hours = 1;
	c->delta_crl_period_hours = c->delta_crl_period_hours == 0 ? 1 :
	    c->delta_crl_period_hours - 1;
	c->idempotence_window = c->idempotence_window == 0 ? 600 : c->idempotence_window - 1;
	if (c->health_max_age == 0)
		c->health_max_age = 10;
	if (c->publish_dir == NULL && (r = set_path(c, &c->publish_dir, "pub")) != OC_OK)
		goto out;
	if (c->delta_cdp_url == NULL && c->cdp_url != NULL && strlen(c->cdp_url) > 4 &&
	    strcmp(c->cdp_url + strlen(c->cdp_url) - 4, ".crl") == 0) {
		if ((c->delta_cdp_url = malloc(strlen(c->cdp_url) + 7)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		sprintf(c->delta_cdp_url, "%.*s-delta.crl", (int)strlen(c->cdp_url) - 4, c->cdp_url);
	}
	if (c->roles == 0)
		c->roles = OC_ROLE_FRONT | OC_ROLE_CA;
	if ((r = check_roles(c, path)) != OC_OK)
		goto out;
	if (c->roles == (OC_ROLE_FRONT | OC_ROLE_CA) &&
	    (c->listen.n == 0 || c->tls_cert == NULL || c->tls_key == NULL || c->ca_key == NULL ||
	    c->ca_cert == NULL || c->store_path == NULL || c->dir_path == NULL ||
	    c->policy_id == NULL || c->public_url == NULL || c->nendpoints == 0)) {
		log_error("%s: missing one of server.listen, server.tls_cert, server.tls_key, "
		    "server.public_url, ca.key, ca.cert, store.path (or url), directory.path, "
		    "policy.id, [endpoint]", path);
		r = OC_ERR_CONFIG;
		goto out;
	}
	if (c->refresh_seconds == 0)
		c->refresh_seconds = 60;
	if (c->ldap_timeout == 0)
		c->ldap_timeout = 10;
	if (c->dir_source == OC_DIR_SOURCE_LDAP && (c->ldap_uri == NULL ||
	    (c->ldap_bind == OC_LDAP_BIND_SIMPLE && (c->ldap_bind_dn == NULL ||
	    c->ldap_password_file == NULL)) ||
	    (c->ldap_bind == OC_LDAP_BIND_GSSAPI && c->ldap_keytab == NULL))) {
		log_error("%s: [directory] source = ldap needs ldap_uri and, for ldap_bind = simple, "
		    "ldap_bind_dn and ldap_password_file, for gssapi ldap_keytab", path);
		r = OC_ERR_CONFIG;
		goto out;
	}
	for (size_t i = 0; i < c->npublished; i++)
		if (c->published[i].uri == NULL) {
			log_error("%s: a [publish] section has no uri", path);
			r = OC_ERR_CONFIG;
			goto out;
		}
	for (size_t i = 0; i < c->nendpoints; i++)
		if (c->endpoints[i].service == 0) {
			log_error("%s: an [endpoint] has no service", path);
			r = OC_ERR_CONFIG;
			goto out;
		} else if (c->endpoints[i].auth == OC_AUTH_KERBEROS && c->keytab == NULL) {
			log_error("%s: a kerberos [endpoint] needs server.keytab", path);
			r = OC_ERR_CONFIG;
			goto out;
		} else if (c->endpoints[i].auth == OC_AUTH_CERTIFICATE && c->client_ca == NULL) {
			log_error("%s: a certificate [endpoint] needs server.client_ca", path);
			r = OC_ERR_CONFIG;
			goto out;
		}
	r = OC_OK;
	goto out;
bad:
	log_error("%s:%d: invalid line (section [%s])", path, lineno, sec);
out:
	free(data);
	free(dup);
	if (r != OC_OK)
		oc_config_clear(c);
	return r;
}
