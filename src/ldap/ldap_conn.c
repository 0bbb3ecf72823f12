/*
 * One LDAP connection (ldap_conn.h): libldap set up for a directory the
 * policy comes from. TLS (ldaps:// or StartTLS) with the configured trust
 * anchors in a private TLS context, protocol 3, no referrals, bounded
 * timeouts; then a simple bind (password from a file, wiped after use) or
 * SASL GSSAPI with keys from a keytab in a private MEMORY credential cache;
 * then the RootDSE's naming contexts.
 */
#define LDAP_DEPRECATED 0
#include "ldap/ldap_conn.h"

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5.h>
#include <lber.h>
#include <ldap.h>
#include <openssl/crypto.h>
#include <sasl/sasl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/log.h"
#include "directory/ad_sd.h"

#define LDAP_DN_MAX       2048
#define LDAP_FILTER_MAX   4096

struct oc_ldap {
	LDAP *ld;
	char *config_nc;
	char *default_nc;
	int timeout_s;
};

static int
timeout_of(const struct oc_ldap_config *cfg)
{
	return cfg->timeout_s > 0 ? cfg->timeout_s : 10;
}

/* LDAP result code -> OC_ERR_*: unreachable is IO, refused credentials AUTH. */
static int
map_ldap_err(int rc)
{
	switch (rc) {
	case LDAP_SUCCESS:
		return OC_OK;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
		return OC_ERR_IO;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return OC_ERR_TIMEOUT;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_UNWILLING_TO_PERFORM:
	case LDAP_AUTH_METHOD_NOT_SUPPORTED:
	case LDAP_AUTH_UNKNOWN:
		return OC_ERR_AUTH;
	case LDAP_NO_MEMORY:
		return OC_ERR_NOMEM;
	case LDAP_NO_SUCH_OBJECT:
		return OC_ERR_NOT_FOUND;
	case LDAP_SIZELIMIT_EXCEEDED:
	case LDAP_ADMINLIMIT_EXCEEDED:
		return OC_ERR_LIMIT;
	default:
		return OC_ERR_IO;
	}
}

/* Is the URI's host a loopback address (or ldapi://, a local socket)? */
static int
uri_is_loopback(const char *uri)
{
	LDAPURLDesc *lud = NULL;
	int ok = 0;

	if (strncasecmp(uri, "ldapi://", 8) == 0)
		return 1;
	if (ldap_url_parse(uri, &lud) != LDAP_URL_SUCCESS || lud == NULL)
		return 0;
	if (lud->lud_host != NULL &&
	    (strncmp(lud->lud_host, "127.", 4) == 0 || strcmp(lud->lud_host, "::1") == 0 ||
	    strcasecmp(lud->lud_host, "localhost") == 0))
		ok = 1;
	ldap_free_urldesc(lud);
	return ok;
}

/* ldap_initialize plus every option, TLS started (StartTLS or ldaps://). */
static int
open_handle(const struct oc_ldap_config *cfg, int for_simple_bind, LDAP **ldp, int *tls)
{
	LDAP *ld = NULL;
	struct timeval tv;
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, rc, r;
	int is_ldaps, is_ldap;

	*ldp = NULL;
	*tls = 0;
	if (cfg == NULL || cfg->uri == NULL || strnlen(cfg->uri, OC_SOAP_MAX_URI + 1) > OC_SOAP_MAX_URI) {
		log_error("ldap: no or overlong URI");
		return OC_ERR_CONFIG;
	}
	is_ldaps = strncasecmp(cfg->uri, "ldaps://", 8) == 0;
	is_ldap = strncasecmp(cfg->uri, "ldap://", 7) == 0;
	if (!is_ldaps && !is_ldap && strncasecmp(cfg->uri, "ldapi://", 8) != 0) {
		log_error("ldap: %s: not an ldap://, ldaps:// or ldapi:// URI", cfg->uri);
		return OC_ERR_CONFIG;
	}
	if (is_ldap && !cfg->starttls && for_simple_bind && !uri_is_loopback(cfg->uri)) {
		log_error("ldap: %s: a simple bind in clear is refused (ldap_starttls = false is "
		    "for loopback only)", cfg->uri);
		return OC_ERR_CONFIG;
	}
	if ((rc = ldap_initialize(&ld, cfg->uri)) != LDAP_SUCCESS) {
		log_error("ldap: %s: %s", cfg->uri, ldap_err2string(rc));
		return OC_ERR_CONFIG;
	}
	tv.tv_sec = timeout_of(cfg);
	tv.tv_usec = 0;
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != LDAP_OPT_SUCCESS ||
	    (cfg->ca_file != NULL &&
	    ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->ca_file) != LDAP_OPT_SUCCESS) ||
	    ldap_set_option(ld, LDAP_OPT_X_SASL_NOCANON, LDAP_OPT_ON) != LDAP_OPT_SUCCESS ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != LDAP_OPT_SUCCESS) {
		log_error("ldap: %s: cannot set the connection options", cfg->uri);
		r = OC_ERR_CONFIG;
		goto out;
	}
	if (is_ldaps)
		*tls = 1;
	else if (is_ldap && cfg->starttls) {
		if ((rc = ldap_start_tls_s(ld, NULL, NULL)) != LDAP_SUCCESS) {
			char *diag = NULL;

			(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
			log_error("ldap: %s: StartTLS failed: %s%s%s%s", cfg->uri, ldap_err2string(rc),
			    diag && *diag ? ": " : "", diag && *diag ? diag : "",
			    rc == LDAP_CONNECT_ERROR ? " (TLS handshake or server certificate "
			    "check failed: see ldap_ca_file)" : "");
			ldap_memfree(diag);
			r = OC_ERR_IO;
			goto out;
		}
		*tls = 1;
	}
	*ldp = ld;
	ld = NULL;
	r = OC_OK;
out:
	if (ld != NULL)
		ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

static int
simple_bind(LDAP *ld, const char *uri, const char *who, const char *password)
{
	struct berval cred;
	char *diag = NULL;
	int rc, r;

	if (who == NULL || *who == '\0' || password == NULL || *password == '\0') {
		/* an empty password is an unauthenticated bind (RFC 4513 5.1.2): never */
		return OC_ERR_AUTH;
	}
	cred.bv_val = (char *)password;
	cred.bv_len = strlen(password);
	rc = ldap_sasl_bind_s(ld, who, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc == LDAP_SUCCESS)
		return OC_OK;
	r = map_ldap_err(rc);
	(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	log_info("ldap: %s: simple bind refused: %s%s%s", uri, ldap_err2string(rc),
	    diag && *diag ? ": " : "", diag ? diag : "");
	ldap_memfree(diag);
	return r;
}

/* The first line of the password file (bounded), malloc'd; wipe with oc_free_secret. */
static int
read_password(const char *path, char **pw)
{
	uint8_t *data = NULL;
	size_t len = 0, n;
	int r;

	*pw = NULL;
	if (path == NULL) {
		log_error("ldap: simple bind needs ldap_password_file");
		return OC_ERR_CONFIG;
	}
	if ((r = oc_file_read(path, &data, &len, OC_PASSWORD_MAX + 2)) != OC_OK) {
		error_fr(r, "ldap: password file %s", path);
		return OC_ERR_CONFIG;
	}
	for (n = 0; n < len && data[n] != '\n' && data[n] != '\r' && data[n] != '\0'; n++)
		;
	if (n == 0 || n > OC_PASSWORD_MAX) {
		log_error("ldap: password file %s: empty or longer than %d bytes", path, OC_PASSWORD_MAX);
		r = OC_ERR_CONFIG;
	} else if ((*pw = malloc(n + 1)) == NULL)
		r = OC_ERR_NOMEM;
	else {
		memcpy(*pw, data, n);
		(*pw)[n] = '\0';
		r = OC_OK;
	}
	OPENSSL_cleanse(data, len);
	free(data);
	return r;
}

/* SASL prompts: GSSAPI needs none; any asked for gets the empty default. */
static int
sasl_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	sasl_interact_t *it = in;

	(void)ld;
	(void)flags;
	(void)defaults;
	for (; it != NULL && it->id != SASL_CB_LIST_END; it++) {
		it->result = it->defresult ? it->defresult : "";
		it->len = (unsigned)strlen(it->result);
	}
	return LDAP_SUCCESS;
}

static atomic_uint ccache_seq;

/* Log a Kerberos error (the message is the library's, freed after use). */
static void
krb5_log(krb5_context kc, krb5_error_code kr, const char *what, const char *arg)
{
	const char *msg = krb5_get_error_message(kc, kr);

	log_error("ldap: %s %s: %s", what, arg ? arg : "", msg ? msg : "unknown error");
	krb5_free_error_message(kc, msg);
}

/*
 * Kerberos credentials for principal (NULL: the keytab's first entry) from
 * keytab into a fresh MEMORY ccache; *ccname = its name (malloc'd).
 */
static int
gss_creds(const char *keytab, const char *principal, krb5_context kc, krb5_ccache *ccp,
    char **ccname)
{
	krb5_keytab kt = NULL;
	krb5_principal me = NULL;
	krb5_creds creds;
	krb5_kt_cursor cur;
	krb5_keytab_entry ent;
	krb5_get_init_creds_opt *opt = NULL;
	char name[64];
	krb5_error_code kr;
	int r = OC_ERR_AUTH, have_creds = 0;

	*ccp = NULL;
	*ccname = NULL;
	memset(&creds, 0, sizeof(creds));
	if (keytab == NULL) {
		log_error("ldap: GSSAPI bind needs ldap_keytab");
		return OC_ERR_CONFIG;
	}
	if ((kr = krb5_kt_resolve(kc, keytab, &kt)) != 0) {
		krb5_log(kc, kr, "keytab", keytab);
		return OC_ERR_CONFIG;
	}
	if (principal != NULL)
		kr = krb5_parse_name(kc, principal, &me);
	else if ((kr = krb5_kt_start_seq_get(kc, kt, &cur)) == 0) {
		if ((kr = krb5_kt_next_entry(kc, kt, &ent, &cur)) == 0) {
			kr = krb5_copy_principal(kc, ent.principal, &me);
			krb5_free_keytab_entry_contents(kc, &ent);
		}
		krb5_kt_end_seq_get(kc, kt, &cur);
	}
	if (kr != 0) {
		krb5_log(kc, kr, "no principal in keytab", keytab);
		r = OC_ERR_CONFIG;
		goto out;
	}
	if ((kr = krb5_get_init_creds_opt_alloc(kc, &opt)) != 0) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	krb5_get_init_creds_opt_set_forwardable(opt, 0);
	krb5_get_init_creds_opt_set_proxiable(opt, 0);
	if ((kr = krb5_get_init_creds_keytab(kc, &creds, me, kt, 0, NULL, opt)) != 0) {
		krb5_log(kc, kr, "Kerberos credentials from", keytab);
		r = kr == KRB5_KDC_UNREACH ? OC_ERR_IO : OC_ERR_AUTH;
		goto out;
	}
	have_creds = 1;
	snprintf(name, sizeof(name), "MEMORY:opences-ldap-%ld-%u", (long)getpid(),
	    atomic_fetch_add(&ccache_seq, 1));
	if ((kr = krb5_cc_resolve(kc, name, ccp)) != 0 ||
	    (kr = krb5_cc_initialize(kc, *ccp, me)) != 0 ||
	    (kr = krb5_cc_store_cred(kc, *ccp, &creds)) != 0) {
		krb5_log(kc, kr, "credential cache", NULL);
		r = OC_ERR_INTERNAL;
		goto out;
	}
	if ((*ccname = strdup(name)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	r = OC_OK;
out:
	if (r != OC_OK && *ccp != NULL) {
		krb5_cc_destroy(kc, *ccp);
		*ccp = NULL;
	}
	if (have_creds)
		krb5_free_cred_contents(kc, &creds);
	krb5_get_init_creds_opt_free(kc, opt);
	krb5_free_principal(kc, me);
	krb5_kt_close(kc, kt);
	return r;
}

static int
gssapi_bind(LDAP *ld, const struct oc_ldap_config *cfg, int tls)
{
	krb5_context kc = NULL;
	krb5_ccache cc = NULL;
	char *ccname = NULL, *diag = NULL;
	const char *old = NULL;
	OM_uint32 minor;
	int rc, r;

	if (krb5_init_context(&kc) != 0)
		return OC_ERR_INTERNAL;
	if ((r = gss_creds(cfg->keytab, cfg->principal, kc, &cc, &ccname)) != OC_OK)
		goto out;
	/* AD refuses SASL sign/seal inside TLS: let TLS protect the session then */
	if (tls && ldap_set_option(ld, LDAP_OPT_X_SASL_SECPROPS, "maxssf=0") != LDAP_OPT_SUCCESS) {
		r = OC_ERR_CONFIG;
		goto out;
	}
	/*
	 * this thread's GSS calls use the private cache (MIT: per thread). Cyrus
	 * SASL 2.1.28's GSSAPI mechanism leaks the credential it acquires from it
	 * (about 16 KiB a bind): keep connections long-lived (the mirror does).
	 */
	if (gss_krb5_ccache_name(&minor, ccname, &old) != GSS_S_COMPLETE) {
		r = OC_ERR_INTERNAL;
		goto out;
	}
	rc = ldap_sasl_interactive_bind_s(ld, NULL, "GSSAPI", NULL, NULL, LDAP_SASL_QUIET,
	    sasl_interact, NULL);
	(void)gss_krb5_ccache_name(&minor, old, NULL);
	if (rc != LDAP_SUCCESS) {
		(void)ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
		log_error("ldap: %s: GSSAPI bind failed: %s%s%s", cfg->uri, ldap_err2string(rc),
		    diag && *diag ? ": " : "", diag ? diag : "");
		ldap_memfree(diag);
		r = map_ldap_err(rc);
		if (r == OC_ERR_IO && rc != LDAP_SERVER_DOWN && rc != LDAP_CONNECT_ERROR)
			r = OC_ERR_AUTH;
		goto out;
	}
	r = OC_OK;
out:
	if (cc != NULL)
		krb5_cc_destroy(kc, cc);
	free(ccname);
	krb5_free_context(kc);
	return r;
}

/* First value of attr in entry e (malloc'd), NULL when absent. */
static int
first_value(LDAP *ld, LDAPMessage *e, const char *attr, char **out)
{
	struct berval **vals;

	*out = NULL;
	if ((vals = ldap_get_values_len(ld, e, attr)) == NULL)
		return OC_OK;
	if (vals[0] != NULL && vals[0]->bv_len > 0 && vals[0]->bv_len <= LDAP_DN_MAX &&
	    memchr(vals[0]->bv_val, '\0', vals[0]->bv_len) == NULL)
		*out = strndup(vals[0]->bv_val, vals[0]->bv_len);
	ldap_value_free_len(vals);
	return OC_OK;
}

static int
read_rootdse(struct oc_ldap *l, const struct oc_ldap_config *cfg)
{
	static char *attrs[] = { "configurationNamingContext", "defaultNamingContext", NULL };
	LDAPMessage *res = NULL, *e;
	struct timeval tv = { .tv_sec = l->timeout_s, .tv_usec = 0 };
	char *cfgnc = NULL, *defnc = NULL;
	int rc, r;

	rc = ldap_search_ext_s(l->ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
	    NULL, &tv, 1, &res);
	if (rc != LDAP_SUCCESS) {
		log_error("ldap: %s: RootDSE: %s", cfg->uri, ldap_err2string(rc));
		r = map_ldap_err(rc);
		goto out;
	}
	if ((e = ldap_first_entry(l->ld, res)) != NULL) {
		(void)first_value(l->ld, e, "configurationNamingContext", &cfgnc);
		(void)first_value(l->ld, e, "defaultNamingContext", &defnc);
	}
	if (cfg->base_dn != NULL) {
		free(cfgnc);
		cfgnc = strdup(cfg->base_dn);
		if (defnc == NULL)
			defnc = strdup(cfg->base_dn);
	}
	if (cfgnc == NULL) {
		log_error("ldap: %s: the RootDSE names no configuration naming context: "
		    "set ldap_base_dn", cfg->uri);
		r = OC_ERR_CONFIG;
		goto out;
	}
	if (defnc == NULL && (defnc = strdup(cfgnc)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	l->config_nc = cfgnc;
	l->default_nc = defnc;
	cfgnc = defnc = NULL;
	r = OC_OK;
out:
	free(cfgnc);
	free(defnc);
	ldap_msgfree(res);
	return r;
}

int
oc_ldap_connect(const struct oc_ldap_config *cfg, struct oc_ldap **lp)
{
	struct oc_ldap *l = NULL;
	char *pw = NULL;
	int r, tls = 0, simple;

	*lp = NULL;
	if (cfg == NULL)
		return OC_ERR_INVALID;
	simple = cfg->bind != OC_LDAP_BIND_GSSAPI;
	if (cfg->bind != OC_LDAP_BIND_SIMPLE && cfg->bind != OC_LDAP_BIND_GSSAPI) {
		log_error("ldap: unknown bind method");
		return OC_ERR_CONFIG;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return OC_ERR_NOMEM;
	l->timeout_s = timeout_of(cfg);
	if (simple && (r = read_password(cfg->password_file, &pw)) != OC_OK)
		goto out;
	if ((r = open_handle(cfg, simple, &l->ld, &tls)) != OC_OK)
		goto out;
	if (simple)
		r = simple_bind(l->ld, cfg->uri, cfg->bind_dn, pw);
	else
		r = gssapi_bind(l->ld, cfg, tls);
	if (r != OC_OK)
		goto out;
	if ((r = read_rootdse(l, cfg)) != OC_OK)
		goto out;
	*lp = l;
	l = NULL;
out:
	oc_free_secret(pw);
	oc_ldap_close(l);
	return r;
}

void
oc_ldap_close(struct oc_ldap *l)
{
	if (l == NULL)
		return;
	if (l->ld != NULL)
		ldap_unbind_ext_s(l->ld, NULL, NULL);
	free(l->config_nc);
	free(l->default_nc);
	free(l);
}

void *
oc_ldap_handle(struct oc_ldap *l)
{
	return l ? l->ld : NULL;
}

const char *
oc_ldap_config_nc(const struct oc_ldap *l)
{
	return l ? l->config_nc : NULL;
}

const char *
oc_ldap_default_nc(const struct oc_ldap *l)
{
	return l ? l->default_nc : NULL;
}

int
oc_ldap_timeout(const struct oc_ldap *l)
{
	return l ? l->timeout_s : 10;
}

int
oc_ldap_check_password(const struct oc_ldap_config *cfg, const char *who, const char *password)
{
	LDAP *ld = NULL;
	int r, tls = 0;

	if (cfg == NULL || who == NULL || password == NULL ||
	    strnlen(who, OC_NAME_MAX + 1) > OC_NAME_MAX ||
	    strnlen(password, OC_PASSWORD_MAX + 1) > OC_PASSWORD_MAX)
		return OC_ERR_AUTH;
	if ((r = open_handle(cfg, 1, &ld, &tls)) != OC_OK)
		return r == OC_ERR_CONFIG ? OC_ERR_IO : r;
	r = simple_bind(ld, cfg->uri, who, password);
	ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

int
oc_ldap_filter_escape(const char *in, char **out)
{
	size_t n, o = 0;
	char *s;

	*out = NULL;
	if (in == NULL || (n = strnlen(in, LDAP_FILTER_MAX + 1)) > LDAP_FILTER_MAX)
		return OC_ERR_INVALID;
	if ((s = malloc(3 * n + 1)) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '*' || c == '(' || c == ')' || c == '\\') {
			snprintf(s + o, 4, "\\%02x", c);
			o += 3;
		} else
			s[o++] = (char)c;
	}
	s[o] = '\0';
	*out = s;
	return OC_OK;
}

int
oc_ldap_filter_escape_bin(const uint8_t *p, size_t len, char **out)
{
	char *s;

	*out = NULL;
	if ((p == NULL && len > 0) || len > LDAP_FILTER_MAX)
		return OC_ERR_INVALID;
	if ((s = malloc(3 * len + 1)) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < len; i++)
		snprintf(s + 3 * i, 4, "\\%02x", p[i]);
	s[3 * len] = '\0';
	*out = s;
	return OC_OK;
}

int
oc_ldap_sid_to_text(const uint8_t *p, size_t len, char **out)
{
	struct oc_ad_sid sid;
	char buf[OC_AD_SID_TEXT_MAX];
	size_t used = 0;
	int r;

	*out = NULL;
	if (p == NULL)
		return OC_ERR_INVALID;
	if ((r = oc_ad_sid_parse(p, len, &sid, &used)) != OC_OK)
		return r;
	if (used != len)
		return OC_ERR_PARSE;
	if ((r = oc_ad_sid_to_text(&sid, buf, sizeof(buf))) != OC_OK)
		return r;
	return (*out = strdup(buf)) ? OC_OK : OC_ERR_NOMEM;
}

int
oc_ldap_sid_from_text(const char *s, uint8_t **out, size_t *len)
{
	struct oc_ad_sid sid;
	uint8_t buf[OC_AD_SID_BYTES_MAX];
	size_t n = 0;
	int r;

	*out = NULL;
	*len = 0;
	if (s == NULL)
		return OC_ERR_INVALID;
	if ((r = oc_ad_sid_from_text(s, &sid)) != OC_OK)
		return r;
	oc_ad_sid_encode(&sid, buf, &n);
	if ((*out = malloc(n)) == NULL)
		return OC_ERR_NOMEM;
	memcpy(*out, buf, n);
	*len = n;
	return OC_OK;
}
