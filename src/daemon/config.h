/*
 * opencesd configuration: one INI-style file (see docs/man/opencesd.conf.5).
 *
 *   [server]      listen = 127.0.0.1:8443   (repeatable)
 *                 tls_cert = FILE, tls_key = FILE
 *                 public_url = https://host:port   (base of the published URIs)
 *                 workers = 4, queue = 64
 *                 audit_log = FILE
 *                 keytab = FILE          (Kerberos endpoints: HTTP/<host> keys)
 *                 spn = HTTP/localhost   (optional: the one key to accept with)
 *                 kerberos_realm = EXAMPLE.TEST  (optional: principals of this realm
 *                                        also map to accounts by name)
 *                 channel_binding = off | when_present | required
 *                                        (default when_present)
 *                 publish_listen = 127.0.0.1:8080  (plain HTTP, GET only: the
 *                                        files of [ca] publish_dir)
 *                 metrics_listen = 127.0.0.1:9102  (plain HTTP, GET only:
 *                                        /metrics (Prometheus) and /health, served
 *                                        by the opencesd-metrics process)
 *                 health_max_age_seconds = 10  (/health: the CA's heartbeat
 *                                        may be at most this old)
 *                 client_ca = FILE       (trust anchors for client certificates;
 *                                         when set every listener asks for an
 *                                         optional client certificate)
 *   [ca]          name = OpenCES Demo CA
 *                 key = FILE, cert = FILE, key_type = RSA2048 | P256
 *                 aia_url = URL, cdp_url = URL
 *                 publish_dir = DIR       (CRLs and the CA certificate; default
 *                                        pub next to this file)
 *                 sign_threads = 0      (threads signing a batch; 0 = one per CPU)
 *                 crl_period_hours = 24, delta_crl_period_hours = 1 (0 = none),
 *                 crl_overlap_hours = 1  (nextUpdate = period + overlap)
 *                 delta_cdp_url = URL    (freshestCRL; default: cdp_url with
 *                                        .crl made -delta.crl)
 *                 refuse_request_names = false  (true: refuse requests naming
 *                                        identities the directory does not give)
 *                 idempotence_window_seconds = 600  (the same ISSUE order again
 *                                        within it gets the first answer; 0 = off)
 *   [store]       path = FILE           (SQLite request/certificate store)
 *                 url = postgresql://USER@HOST:PORT/DB?...  (PostgreSQL instead,
 *                                        shared by CA nodes; or sqlite:FILE)
 *   [directory]   path = FILE           (embedded directory)
 *                 source = embedded | ldap   (ldap: the policy is mirrored from
 *                                        LDAP into path by opencesd-dirsync)
 *                 ldap_uri, ldap_starttls = true, ldap_ca_file,
 *                 ldap_bind = simple | gssapi, ldap_bind_dn,
 *                 ldap_password_file, ldap_keytab, ldap_principal,
 *                 ldap_base_dn, refresh_seconds = 60, ldap_timeout = 10
 *                 accounts = ldap | embedded  (source = ldap: where callers'
 *                                        accounts come from; default ldap)
 *   [policy]      id = {GUID}, friendly_name = TEXT, next_update_hours = 8
 *   [endpoint]    (repeatable section) service = cep | ces
 *                 auth = password | kerberos | certificate
 *                 (kerberos needs server.keytab, certificate server.client_ca)
 *                 priority = 1, renewal_only = false
 *   [publish]     (repeatable) a CES URI served elsewhere (another front end)
 *                 to publish for this CA: uri = URL, auth = password,
 *                 priority = 1, renewal_only = false
 *
 *   [server]      roles = front, ca      (default both: one host, a socketpair;
 *                                        ca: the CA and a link listener; front:
 *                                        auth, front and a link connector)
 *   [ca_link]     listen = 127.0.0.1:9443 (repeatable), tls_cert, tls_key,
 *                 client_ca, allow = CN | sha256:<hex> (repeatable)   (roles = ca)
 *                 client_cert, client_key, server_ca, connect_timeout = 3,
 *                 retry_seconds = 30                                  (roles = front)
 *   [ca_node]     address = host:port   (repeatable key and section; order =
 *                                        preference)
 *
 * Relative paths are relative to the configuration file's directory.
 */
#ifndef OC_DAEMON_CONFIG_H
#define OC_DAEMON_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"
#include "model/identity.h"

struct oc_conf_endpoint {
	int service;                /* enum oc_service */
	enum oc_auth_type auth;
	uint32_t priority;
	int renewal_only;
};

struct oc_conf_uri {
	char *uri;
	enum oc_auth_type auth;
	uint32_t priority;
	int renewal_only;
};

struct oc_config {
	char *base_dir;             /* directory of the configuration file */
	struct oc_strlist listen;
	char *tls_cert, *tls_key;
	char *public_url;
	int workers, queue;
	char *audit_log;
	char *keytab, *spn, *kerberos_realm;
	int channel_binding;        /* enum oc_gss_cb_mode (src/auth/gss.h) */
	char *client_ca;
	char *ca_name, *ca_key, *ca_cert, *ca_key_type, *aia_url, *cdp_url;
	char *publish_listen, *publish_dir, *delta_cdp_url;
	char *metrics_listen;       /* [server] metrics_listen, NULL = no metrics listener */
	uint32_t health_max_age;    /* [server] health_max_age_seconds, default 10 */
	int refuse_request_names;     /* [ca] refuse_request_names, default false */
	uint32_t idempotence_window;  /* [ca] idempotence_window_seconds, default 600, 0 = off */
	uint32_t crl_period_hours, delta_crl_period_hours, crl_overlap_hours;
	int sign_threads;           /* [ca] sign_threads: 0 = one per CPU, 1 = the CA thread alone */
	char *store_path;           /* [store] path, or url: what oc_store_open takes */
	char *dir_path;
	int dir_source;             /* OC_DIR_SOURCE_* */
	int dir_accounts_embedded;  /* [directory] accounts = embedded: with source = ldap,
	                               callers stay the embedded accounts (slapd) */
	char *ldap_uri, *ldap_ca_file, *ldap_bind_dn, *ldap_password_file;
	char *ldap_keytab, *ldap_principal, *ldap_base_dn;
	int ldap_starttls;          /* default 1 */
	int ldap_bind;              /* enum oc_ldap_bind; default simple */
	uint32_t ldap_timeout, refresh_seconds;
	char *policy_id, *friendly_name;
	uint32_t next_update_hours;
	struct oc_conf_endpoint *endpoints;
	size_t nendpoints;
	struct oc_conf_uri *published;
	size_t npublished;
	/* roles and the CA link (src/calink/calink.h) */
	int roles;                  /* [server] roles: OC_ROLE_* bits, default both */
	struct oc_strlist link_listen, link_allow, ca_nodes;
	char *link_cert, *link_key, *link_client_ca;           /* CA host */
	char *link_client_cert, *link_client_key, *link_server_ca;  /* front host */
	uint32_t link_connect_timeout, link_retry_seconds;
};

#define OC_ROLE_FRONT 0x1           /* auth and front processes (HTTPS) */
#define OC_ROLE_CA    0x2           /* the CA process */

/* [directory] source */
#define OC_DIR_SOURCE_EMBEDDED 0
#define OC_DIR_SOURCE_LDAP     1

struct oc_ldap_config;
/* The [directory] ldap_* keys as the LDAP code takes them (pointers into cfg). */
void oc_config_ldap(const struct oc_config *cfg, struct oc_ldap_config *lc);

int oc_config_load(const char *path, struct oc_config *cfg) OC_WUR;
void oc_config_clear(struct oc_config *cfg);

#endif
