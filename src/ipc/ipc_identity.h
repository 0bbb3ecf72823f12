/*
 * An authenticated caller (model/identity.h) on the wire between processes:
 * name, u32 kind, u32 auth type, upn, mail, dns_name, dn, sid (strings
 * u32-length-prefixed, empty = NULL), u32 group count, groups. Every field
 * is size-checked on decode (OC_NAME_MAX, OC_SUBJECT_MAX, OC_GROUPS_MAX).
 * The same layout as the requester of a CA order (ca_proto.c).
 */
#ifndef OC_IPC_IDENTITY_H
#define OC_IPC_IDENTITY_H

#include "common/buf.h"
#include "common/err.h"
#include "model/identity.h"

int oc_ipc_identity_put(struct ocbuf *b, const struct oc_identity *id) OC_WUR;
/* id is cleared first; on failure it is left cleared. */
int oc_ipc_identity_get(struct ocbuf *b, struct oc_identity *id) OC_WUR;

#endif
