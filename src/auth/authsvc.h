/*
 * The authentication service as the front end sees it: password checks and
 * SPNEGO legs, answered either in-process (tests) or by the auth process over
 * typed frames (production: the keytab and the password verifiers never live
 * in the network-facing process). The front end codes against this header
 * only.
 */
#ifndef OC_AUTH_AUTHSVC_H
#define OC_AUTH_AUTHSVC_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/util.h"
#include "model/identity.h"

struct oc_ldap_config;

struct oc_authsvc_config {
	const char *dir_path;       /* embedded directory (accounts, verifiers) */
	const char *keytab;         /* NULL: no Kerberos */
	const char *spn;            /* "HTTP/localhost"; NULL = any key in the keytab */
	int channel_binding;        /* enum oc_gss_cb_mode (src/auth/gss.h) */
};

struct oc_authsvc;

/* In-process implementation (the same code the auth process runs). */
int oc_authsvc_local_new(const struct oc_authsvc_config *cfg, struct oc_authsvc **sp) OC_WUR;
/*
 * The same with [directory] source = ldap (ldap non-NULL, copied): callers
 * are Active Directory accounts (src/ldap/ldap_identity.h). Passwords are
 * checked by a simple bind as the account (oc_auth's cache rules); Kerberos
 * callers get their names (sAMAccountName, UPN, mail, dNSHostName, DN, kind)
 * from the account of the PAC's user SID, the PAC's groups kept; certificates
 * map through oc_authsvc_cert_map. ldap NULL: oc_authsvc_local_new.
 */
int oc_authsvc_local_new_ldap(const struct oc_authsvc_config *cfg,
    const struct oc_ldap_config *ldap, struct oc_authsvc **sp) OC_WUR;
/* Client of an auth process listening on fd (thread-safe, pipelined). */
int oc_authsvc_remote_new(int fd, struct oc_authsvc **sp) OC_WUR;
void oc_authsvc_free(struct oc_authsvc *s);            /* NULL-safe */

/* Does this service accept Kerberos (a keytab was configured)? */
int oc_authsvc_has_kerberos(struct oc_authsvc *s);
/* Are callers the accounts of a directory over LDAP (config ldap set)? */
int oc_authsvc_has_directory(struct oc_authsvc *s);

/*
 * The directory account of a verified client certificate's names (only when
 * oc_authsvc_has_directory): sid (SID extension or SAN URL, may be NULL),
 * the SAN UPNs and DNS names. A SID maps by objectSid or not at all; else
 * the first UPN, else the first DNS name of a computer (certauth.c's order).
 * OC_OK: id filled; OC_ERR_NOT_FOUND: no account; OC_ERR_UNAVAILABLE: the
 * directory could not be asked.
 */
int oc_authsvc_cert_map(struct oc_authsvc *s, const char *sid, const struct oc_strlist *upn,
    const struct oc_strlist *dns, struct oc_identity *id) OC_WUR;

/* Username/password: OC_OK and id filled, or OC_ERR_AUTH (same for every cause). */
int oc_authsvc_password(struct oc_authsvc *s, const char *login, const char *password,
    struct oc_identity *id) OC_WUR;

/*
 * One SPNEGO leg. *ctx is an opaque handle: 0 on the first leg, kept by the
 * caller between legs of one exchange (on the same connection). cb/cb_len:
 * the connection's channel-binding application data, RFC 5929
 * "tls-server-end-point:" || hash (may be NULL).
 * On OC_OK, *out (*out_len bytes) is the token to return (may be empty) and
 * *complete tells whether id is filled. OC_ERR_AUTH on refusal.
 */
int oc_authsvc_negotiate(struct oc_authsvc *s, uint64_t *ctx, const uint8_t *token,
    size_t len, const uint8_t *cb, size_t cb_len, uint8_t **out, size_t *out_len,
    struct oc_identity *id, int *complete) OC_WUR;
/* Drop an unfinished exchange. */
void oc_authsvc_negotiate_abort(struct oc_authsvc *s, uint64_t ctx);

/* The auth process: answer frames on fd until EOF. */
int oc_authsvc_serve(const struct oc_authsvc_config *cfg, int fd) OC_WUR;
/* The same over oc_authsvc_local_new_ldap (ldap may be NULL). */
int oc_authsvc_serve_ldap(const struct oc_authsvc_config *cfg, const struct oc_ldap_config *ldap,
    int fd) OC_WUR;

#endif
