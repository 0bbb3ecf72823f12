/*
 * Inside the authentication service (src/auth/authsvc*.c): the one handle
 * type with its two implementations (in-process, client of the auth
 * process), and the frames between the front end and the auth process.
 *
 * Frames (src/ipc/frame.h, tagged; fields big-endian, strings u32-length-
 * prefixed as ocbuf_put_string writes them):
 *   INFO      {}                                  -> RESULT {status, u32 flags}
 *   PASSWORD  {login, password}                   -> RESULT {status, identity}
 *   NEGOTIATE {u64 ctx, token, cb}                -> RESULT {status, u64 ctx,
 *                                                    out token, u32 complete,
 *                                                    identity when complete}
 *   ABORT     {u64 ctx}, tag 0                    -> no answer
 *   CERTMAP   {sid, u32 n, n upn, u32 m, m dns}   -> RESULT {status, identity}
 *             (directory over LDAP only; empty sid = none)
 * status is the oc_err code of the call as u32 (0 = OC_OK); after a non-zero
 * status the RESULT carries nothing else. A request the auth process cannot
 * decode is answered with status OC_ERR_PARSE (unknown type: OC_ERR_INVALID)
 * under its tag, and serving goes on.
 */
#ifndef OC_AUTH_AUTHSVC_INT_H
#define OC_AUTH_AUTHSVC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "auth/authsvc.h"
#include "common/buf.h"

enum oc_authsvc_msg {
	OC_AUTHSVC_MSG_INFO = 1,
	OC_AUTHSVC_MSG_PASSWORD = 2,
	OC_AUTHSVC_MSG_NEGOTIATE = 3,
	OC_AUTHSVC_MSG_ABORT = 4,
	OC_AUTHSVC_MSG_CERTMAP = 5,
	OC_AUTHSVC_MSG_RESULT = 100,
};

#define OC_AUTHSVC_F_KERBEROS 0x1u    /* INFO flags */
#define OC_AUTHSVC_F_DIRECTORY 0x2u   /* callers are directory (LDAP) accounts */

struct oc_authsvc_ops {
	void (*free)(struct oc_authsvc *s);
	int (*has_kerberos)(struct oc_authsvc *s);
	int (*password)(struct oc_authsvc *s, const char *login, const char *password,
	    struct oc_identity *id);
	int (*negotiate)(struct oc_authsvc *s, uint64_t *ctx, const uint8_t *token,
	    size_t len, const uint8_t *cb, size_t cb_len, uint8_t **out, size_t *out_len,
	    struct oc_identity *id, int *complete);
	void (*abort)(struct oc_authsvc *s, uint64_t ctx);
	int (*has_directory)(struct oc_authsvc *s);
	int (*cert_map)(struct oc_authsvc *s, const char *sid, const struct oc_strlist *upn,
	    const struct oc_strlist *dns, struct oc_identity *id);
};

/* The first member of each implementation's struct. */
struct oc_authsvc {
	const struct oc_authsvc_ops *ops;
};

#endif
