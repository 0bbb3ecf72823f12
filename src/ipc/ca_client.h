/*
 * The front end's side of the CA channel, shared by all its worker threads:
 * several orders may be outstanding on the one CA socket at a time
 * (pipelining). Each call sends its order in a frame with a fresh tag (under
 * a writer lock) and waits for the RESULT frame with that tag. There is no
 * reader thread: the first waiting caller reads frames and hands each result
 * to the caller it belongs to, then passes the reading on. When the stream
 * breaks (CA gone, malformed frame), every waiting and every later call
 * fails with OC_ERR_IPC.
 */
#ifndef OC_IPC_CA_CLIENT_H
#define OC_IPC_CA_CLIENT_H

#include <stdint.h>

#include "common/err.h"
#include "ipc/ca_proto.h"

struct oc_ca_client;

/* fd stays the caller's (not closed by oc_ca_client_free). */
int oc_ca_client_new(int fd, struct oc_ca_client **cp) OC_WUR;
/* NULL-safe; no call may be in progress. */
void oc_ca_client_free(struct oc_ca_client *c);

/*
 * One round trip: type is OC_CA_MSG_ISSUE, OC_CA_MSG_QUERY (o required) or
 * OC_CA_MSG_PING (o NULL). Thread-safe. res is set only on OC_OK.
 */
int oc_ca_client_call(struct oc_ca_client *c, uint32_t type, const struct oc_ca_order *o,
    struct oc_ca_result *res) OC_WUR;

/*
 * OC_CA_MSG_CERT_STATUS: what the CA's records say of serial_hex (the
 * store's form). Thread-safe, pipelined with the other calls. st is set only
 * on OC_OK; a broken stream or an answer of another type is OC_ERR_IPC.
 */
int oc_ca_client_cert_status(struct oc_ca_client *c, const char *serial_hex,
    struct oc_ca_cert_status *st) OC_WUR;

#endif
