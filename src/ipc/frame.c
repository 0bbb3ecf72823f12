#include "ipc/frame.h"
#include "common/limits.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Write both parts completely, in one writev when the kernel takes it all. */
static int
write_all2(int fd, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	while (alen + blen > 0) {
		struct iovec iov[2];
		int n = 0;
		ssize_t w;

		if (alen > 0)
			iov[n++] = (struct iovec){ (void *)a, alen };
		if (blen > 0)
			iov[n++] = (struct iovec){ (void *)b, blen };
		/* no SIGPIPE when the peer is gone: the caller gets OC_ERR_IPC */
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		w = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return OC_ERR_IPC;
		if ((size_t)w >= alen) {
			w -= (ssize_t)alen;
			alen = 0;
			if (w > 0) {            /* b may be NULL when there is no payload */
				b += w;
				blen -= (size_t)w;
			}
		} else {
			a += w;
			alen -= (size_t)w;
		}
	}
	return OC_OK;
}

static int
read_all(int fd, uint8_t *p, size_t n, int first)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0 && got == 0 && first)
			return OC_ERR_EOF;
		if (r <= 0)
			return OC_ERR_IPC;
		got += (size_t)r;
	}
	return OC_OK;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
oc_frame_header_put(uint8_t hdr[OC_FRAME_HEADER_LEN], uint32_t type, uint32_t tag,
    uint32_t len)
{
	put32(hdr, type);
	put32(hdr + 4, tag);
	put32(hdr + 8, len);
}

void
oc_frame_header_get(const uint8_t hdr[OC_FRAME_HEADER_LEN], uint32_t *type, uint32_t *tag,
    uint32_t *len)
{
	*type = get32(hdr);
	*tag = get32(hdr + 4);
	*len = get32(hdr + 8);
}

int
oc_frame_send_tagged(int fd, uint32_t type, uint32_t tag, const struct ocbuf *payload)
{
	size_t len = payload ? ocbuf_avail(payload) : 0;
	uint8_t hdr[OC_FRAME_HEADER_LEN];

	if (len > OC_IPC_FRAME_MAX)
		return OC_ERR_LIMIT;
	oc_frame_header_put(hdr, type, tag, (uint32_t)len);
	return write_all2(fd, hdr, sizeof(hdr), len ? ocbuf_ptr(payload) : NULL, len);
}

int
oc_frame_recv_tagged(int fd, uint32_t *type, uint32_t *tag, struct ocbuf *payload)
{
	uint8_t hdr[OC_FRAME_HEADER_LEN], chunk[16384];
	uint32_t len, t;
	int r;

	ocbuf_reset(payload);
	if ((r = read_all(fd, hdr, sizeof(hdr), 1)) != OC_OK)
		return r;
	oc_frame_header_get(hdr, type, &t, &len);
	if (tag != NULL)
		*tag = t;
	if (len > OC_IPC_FRAME_MAX || len > payload->max)
		return OC_ERR_LIMIT;
	while (len > 0) {
		size_t n = len < sizeof(chunk) ? len : sizeof(chunk);
		if ((r = read_all(fd, chunk, n, 0)) != OC_OK)
			return r;
		if ((r = ocbuf_put(payload, chunk, n)) != OC_OK)
			return r;
		len -= (uint32_t)n;
	}
	return OC_OK;
}

int
oc_frame_send(int fd, uint32_t type, const struct ocbuf *payload)
{
	return oc_frame_send_tagged(fd, type, 0, payload);
}

int
oc_frame_recv(int fd, uint32_t *type, struct ocbuf *payload)
{
	return oc_frame_recv_tagged(fd, type, NULL, payload);
}
