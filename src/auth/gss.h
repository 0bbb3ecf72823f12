/*
 * Kerberos acceptor: SPNEGO (RFC 4178, as HTTP Negotiate carries it, RFC 4559)
 * and raw krb5 GSS tokens, over MIT GSS-API with a keytab. Bytes in, bytes out:
 * nothing here knows HTTP; the caller base64-decodes the Negotiate header and
 * sends back what oc_gss_accept returns.
 *
 * - Credentials: gss_acquire_cred_from with the "keytab" cred store element
 *   (no process-wide KRB5_KTNAME; several acceptors may coexist, thread-safe).
 *   Negotiation is limited to the Kerberos mechanisms (no NTLM, no IAKERB).
 * - Replays: MIT's default replay cache is on (a replayed AP-REQ fails);
 *   KRB5RCACHEDIR chooses its directory.
 * - Channel bindings (RFC 5929 tls-server-end-point, application data
 *   "tls-server-end-point:" || hash of the server certificate):
 *     OC_GSS_CB_OFF           bindings are not checked (any or none accepted);
 *     OC_GSS_CB_WHEN_PRESENT  checked when the initiator sent some; an initiator
 *                             without bindings is accepted (MIT behaviour,
 *                             pinned in tests/unit/test_auth_gss.c);
 *     OC_GSS_CB_REQUIRED      the initiator must have sent matching bindings
 *                             (GSS_C_CHANNEL_BOUND_FLAG), otherwise refused;
 *                             without cb_data (no TLS) every token is refused.
 * - Identity: name = the client principal "user@REALM" (the realm is the text
 *   after the last '@'), kind = COMPUTER for "name$@REALM" and "host/...",
 *   auth_type = KERBEROS. With an MS-PAC (an Active Directory KDC: Windows,
 *   Samba; src/auth/pac.h) sid = the user's SID and groups = its group SIDs
 *   (primary group, GroupIds, ExtraSids, resource groups); a PAC that MIT did
 *   not verify is never handed out, one that does not decode is refused
 *   (OC_ERR_AUTH). Without a PAC (an MIT KDC) sid and groups stay empty.
 * - Failures of the peer's token are OC_ERR_AUTH; the GSS major/minor text is
 *   logged at info level. Tokens are never logged.
 */
#ifndef OC_AUTH_GSS_H
#define OC_AUTH_GSS_H

#include "common/limits.h"
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "model/identity.h"


enum oc_gss_cb_mode {
	OC_GSS_CB_OFF = 0,
	OC_GSS_CB_WHEN_PRESENT = 1,
	OC_GSS_CB_REQUIRED = 2,
};

struct oc_gss_config {
	const char *keytab;     /* path of the keytab (required) */
	const char *spn;        /* "HTTP/localhost", "HTTP/host@REALM", or NULL = any key in the keytab */
	int channel_binding;    /* enum oc_gss_cb_mode */
};

struct oc_gss;              /* acceptor credential; shared by threads */
struct oc_gss_ctx;          /* state of one multi-leg exchange */

/* OC_ERR_CONFIG when the keytab is missing, empty or has no key for spn. */
int oc_gss_new(const struct oc_gss_config *cfg, struct oc_gss **gp) OC_WUR;
void oc_gss_free(struct oc_gss *g);

/*
 * One leg. *ctxp is NULL on the first leg; when the exchange needs another
 * leg (*complete == 0) *ctxp holds its state for the next call with the
 * peer's next token. On completion or on any error *ctxp is freed and set to
 * NULL. *out_token (malloc'd, may be NULL with *out_len 0) must be sent to the
 * peer whenever it is non-NULL: on completion it is the mutual-authentication
 * token. On completion id is filled (cleared first) and *complete = 1.
 * cb_data/cb_len: channel-binding application data of this TLS connection, or
 * NULL/0 when there is none. Thread-safe for distinct contexts.
 */
int oc_gss_accept(struct oc_gss *g, struct oc_gss_ctx **ctxp,
    const uint8_t *token, size_t len, const uint8_t *cb_data, size_t cb_len,
    uint8_t **out_token, size_t *out_len, struct oc_identity *id,
    int *complete) OC_WUR;

/* Abandon an unfinished exchange. NULL-safe. */
void oc_gss_ctx_free(struct oc_gss_ctx *c);

#endif
