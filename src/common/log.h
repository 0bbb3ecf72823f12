/* Human logs (with function and line) and a separate machine-readable audit stream. */
#ifndef OC_LOG_H
#define OC_LOG_H

#include <stdarg.h>

enum oc_log_level { OC_LOG_ERROR = 0, OC_LOG_WARN, OC_LOG_INFO, OC_LOG_DEBUG };

void oc_log_init(const char *progname, enum oc_log_level level);
void oc_log_set_level(enum oc_log_level level);
void oc_log(enum oc_log_level level, const char *func, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_error(...) oc_log(OC_LOG_ERROR, __func__, __LINE__, __VA_ARGS__)
#define log_warn(...)  oc_log(OC_LOG_WARN,  __func__, __LINE__, __VA_ARGS__)
#define log_info(...)  oc_log(OC_LOG_INFO,  __func__, __LINE__, __VA_ARGS__)
#define log_debug(...) oc_log(OC_LOG_DEBUG, __func__, __LINE__, __VA_ARGS__)
/* error with an oc_err code: "func:line: msg: <strerror>" */
#define error_fr(r, ...) oc_log_err(__func__, __LINE__, (r), __VA_ARGS__)
void oc_log_err(const char *func, int line, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/*
 * Audit: one JSON object per line to the audit sink (a file descriptor, default
 * stderr-less: disabled until oc_audit_open()). Never pass secrets.
 * event: "auth", "issue", "deny", "pending", "approve", "revoke" ...
 * kv: NULL-terminated list of key, value string pairs.
 */
int oc_audit_open(const char *path);
void oc_audit(const char *event, ...) __attribute__((sentinel));

#endif
