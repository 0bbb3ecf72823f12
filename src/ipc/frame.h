/*
 * Typed, size-checked frames between processes: u32 type, u32 length, payload.
 * Blocking I/O on a stream socket (socketpair today, TLS later).
 */
#ifndef OC_IPC_FRAME_H
#define OC_IPC_FRAME_H

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

/* Send one frame. Retries on EINTR/partial writes. */
int oc_frame_send(int fd, uint32_t type, const struct ocbuf *payload) OC_WUR;
/*
 * Receive one frame into payload (reset first; its max bounds the length,
 * further capped at OC_IPC_FRAME_MAX). Returns OC_ERR_EOF on a clean close
 * before a header, OC_ERR_LIMIT for an oversized frame (the stream is then
 * unusable).
 */
int oc_frame_recv(int fd, uint32_t *type, struct ocbuf *payload) OC_WUR;

#endif
