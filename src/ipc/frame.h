/*
 * Typed, size-checked frames between processes: u32 type, u32 tag, u32
 * length, payload (big-endian). The tag lets several requests be outstanding
 * on one stream: an answer carries the tag of its request. Blocking I/O on a
 * stream socket (socketpair today, TLS later).
 */
#ifndef OC_IPC_FRAME_H
#define OC_IPC_FRAME_H

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

#define OC_FRAME_HEADER_LEN 12

/*
 * The frame header: u32 type | u32 tag | u32 payload length, big-endian.
 * For code that frames a byte stream itself (the CA link's non-blocking
 * queues); the fd functions below use the same two.
 */
void oc_frame_header_put(uint8_t hdr[OC_FRAME_HEADER_LEN], uint32_t type, uint32_t tag,
    uint32_t len);
void oc_frame_header_get(const uint8_t hdr[OC_FRAME_HEADER_LEN], uint32_t *type,
    uint32_t *tag, uint32_t *len);

/*
 * Send one frame (header and payload in one write when possible). Retries on
 * EINTR/partial writes. Concurrent senders on one fd must serialise.
 */
int oc_frame_send_tagged(int fd, uint32_t type, uint32_t tag,
    const struct ocbuf *payload) OC_WUR;
/*
 * Receive one frame into payload (reset first; its max bounds the length,
 * further capped at OC_IPC_FRAME_MAX). Returns OC_ERR_EOF on a clean close
 * before a header, OC_ERR_LIMIT for an oversized frame (the stream is then
 * unusable). tag may be NULL.
 */
int oc_frame_recv_tagged(int fd, uint32_t *type, uint32_t *tag,
    struct ocbuf *payload) OC_WUR;

/* The same with tag 0 / the tag ignored. */
int oc_frame_send(int fd, uint32_t type, const struct ocbuf *payload) OC_WUR;
int oc_frame_recv(int fd, uint32_t *type, struct ocbuf *payload) OC_WUR;

#endif
