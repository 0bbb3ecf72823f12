#include "common/log.h"
#include "common/err.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *oc_progname = "opences";
static enum oc_log_level oc_level = OC_LOG_INFO;
static int oc_audit_fd = -1;
static pthread_mutex_t oc_audit_mu = PTHREAD_MUTEX_INITIALIZER;

void
oc_log_init(const char *progname, enum oc_log_level level)
{
	oc_progname = progname;
	oc_level = level;
}

void
oc_log_set_level(enum oc_log_level level)
{
	oc_level = level;
}

static void oc_vlog(enum oc_log_level, const char *, int, const char *, const char *, va_list)
    __attribute__((format(printf, 5, 0)));

static void
oc_vlog(enum oc_log_level level, const char *func, int line, const char *suffix,
    const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char msg[1024];

	if (level > oc_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s[%d]: %s: %s:%d: %s%s%s\n", oc_progname, (int)getpid(),
	    names[level], func, line, msg, suffix ? ": " : "", suffix ? suffix : "");
}

void
oc_log(enum oc_log_level level, const char *func, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oc_vlog(level, func, line, NULL, fmt, ap);
	va_end(ap);
}

void
oc_log_err(const char *func, int line, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oc_vlog(OC_LOG_ERROR, func, line, oc_strerror(r), fmt, ap);
	va_end(ap);
}

int
oc_audit_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return OC_ERR_IO;
	if (oc_audit_fd >= 0)
		close(oc_audit_fd);
	oc_audit_fd = fd;
	return OC_OK;
}

/* Append s as a JSON string body (without quotes) to out, bounded. */
static size_t
json_escape(char *out, size_t cap, size_t off, const char *s)
{
	for (; s && *s && off + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[off++] = '\\';
			out[off++] = (char)c;
		} else if (c < 0x20) {
			off += (size_t)snprintf(out + off, cap - off, "\\u%04x", c);
		} else
			out[off++] = (char)c;
	}
	return off;
}

void
oc_audit(const char *event, ...)
{
	char line[4096];
	size_t off = 0;
	struct timespec ts;
	struct tm tm;
	const char *k, *v;
	va_list ap;

	if (oc_audit_fd < 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	off = (size_t)snprintf(line, sizeof(line),
	    "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"pid\":%d,\"event\":\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, (int)getpid());
	off = json_escape(line, sizeof(line), off, event);
	va_start(ap, event);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		if (off + 8 >= sizeof(line))
			break;
		line[off++] = '"'; line[off++] = ','; line[off++] = '"';
		off = json_escape(line, sizeof(line), off, k);
		if (off + 4 >= sizeof(line))
			break;
		line[off++] = '"'; line[off++] = ':'; line[off++] = '"';
		off = json_escape(line, sizeof(line), off, v ? v : "");
	}
	va_end(ap);
	if (off + 3 > sizeof(line))
		off = sizeof(line) - 3;
	line[off++] = '"'; line[off++] = '}'; line[off++] = '\n';
	pthread_mutex_lock(&oc_audit_mu);
	(void)!write(oc_audit_fd, line, off);
	pthread_mutex_unlock(&oc_audit_mu);
}
