#include "ipc/frame.h"
#include "common/limits.h"

#include <errno.h>
#include <unistd.h>

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return OC_ERR_IPC;
		p += w;
		n -= (size_t)w;
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

int
oc_frame_send(int fd, uint32_t type, const struct ocbuf *payload)
{
	size_t len = payload ? ocbuf_avail(payload) : 0;
	uint8_t hdr[8];
	int r;

	if (len > OC_IPC_FRAME_MAX)
		return OC_ERR_LIMIT;
	hdr[0] = type >> 24; hdr[1] = type >> 16; hdr[2] = type >> 8; hdr[3] = type;
	hdr[4] = len >> 24; hdr[5] = len >> 16; hdr[6] = len >> 8; hdr[7] = len;
	if ((r = write_all(fd, hdr, sizeof(hdr))) != OC_OK)
		return r;
	return len ? write_all(fd, ocbuf_ptr(payload), len) : OC_OK;
}

int
oc_frame_recv(int fd, uint32_t *type, struct ocbuf *payload)
{
	uint8_t hdr[8], chunk[16384];
	uint32_t len;
	int r;

	ocbuf_reset(payload);
	if ((r = read_all(fd, hdr, sizeof(hdr), 1)) != OC_OK)
		return r;
	*type = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	len = (uint32_t)hdr[4] << 24 | (uint32_t)hdr[5] << 16 | (uint32_t)hdr[6] << 8 | hdr[7];
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
