/*
 * A pipelined request/answer channel on one stream socket, shared by threads:
 * several requests may be outstanding at a time. Each call sends its request
 * in a frame with a fresh non-zero tag (under a writer lock) and waits for
 * the frame with that tag. There is no reader thread: the first waiting
 * caller reads frames and hands each answer to the caller it belongs to,
 * then passes the reading on. When the stream breaks (peer gone, unknown
 * tag, oversized frame), every waiting and every later call fails with
 * OC_ERR_IPC. Used by the CA client (ca_client.h) and the auth process's
 * client (src/auth/authsvc_remote.c).
 */
#ifndef OC_IPC_CHAN_H
#define OC_IPC_CHAN_H

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct oc_ipc_chan;

/* fd stays the caller's (not closed by oc_ipc_chan_free). name: for logs. */
int oc_ipc_chan_new(int fd, const char *name, struct oc_ipc_chan **cp) OC_WUR;
/* NULL-safe; no call may be in progress. */
void oc_ipc_chan_free(struct oc_ipc_chan *c);

/*
 * One round trip: send (type, req) and wait for its answer; *atype and ans
 * (reset first) receive it; an answer over ans->max fails the call with
 * OC_ERR_LIMIT (the channel stays usable).
 * Thread-safe.
 */
int oc_ipc_chan_call(struct oc_ipc_chan *c, uint32_t type, const struct ocbuf *req,
    uint32_t *atype, struct ocbuf *ans) OC_WUR;

/* Send a frame that has no answer (tag 0). Thread-safe. */
int oc_ipc_chan_send(struct oc_ipc_chan *c, uint32_t type, const struct ocbuf *req) OC_WUR;

/* Has the stream broken? */
int oc_ipc_chan_broken(struct oc_ipc_chan *c);

#endif
