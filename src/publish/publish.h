/*
 * Revocation publication over plain HTTP: a small listener that serves the
 * files of the publication directory (CRLs and the CA certificate, written
 * there by the CA process) at /<file name>, the paths that issued
 * certificates carry in their CRL distribution point and AIA caIssuers
 * URIs. GET and HEAD only, flat names only ([A-Za-z0-9._-], no leading dot),
 * each file read whole per request (bounded by OC_PUBLISH_FILE_MAX), so an
 * atomically replaced file is served either old or new. Runs on its own
 * thread with its own event loop.
 */
#ifndef OC_PUBLISH_H
#define OC_PUBLISH_H

#include "common/limits.h"
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"


struct oc_publish;

/* Listen on address ("HOST:PORT", numeric host) and serve the files of dir. */
int oc_publish_start(const char *address, const char *dir, struct oc_publish **pp) OC_WUR;
/*
 * A listener of computed answers (the metrics process: /metrics, /health):
 * the same limits, GET and HEAD only; handler runs on the listener's thread
 * with the request path (query removed) and fills rep (body malloc'd, freed
 * by the listener; content_type a static string).
 */
struct oc_publish_reply {
	int status;
	const char *content_type;
	uint8_t *body;
	size_t len;
};
typedef void (*oc_publish_handler)(void *arg, const char *path, struct oc_publish_reply *rep);
int oc_publish_start_handler(const char *address, oc_publish_handler handler, void *arg,
    struct oc_publish **pp) OC_WUR;

/* Stop the listener and its thread (NULL-safe). */
void oc_publish_stop(struct oc_publish *p);

/* The file name a request path designates, or OC_ERR_NOT_FOUND (exposed for tests). */
int oc_publish_path_name(const char *path, char *name, size_t namelen) OC_WUR;
/* Content-Type for a published file name. */
const char *oc_publish_content_type(const char *name);

#endif
