/*
 * Internal to src/front: a bounded cache of rendered GetPoliciesResponse
 * envelopes, one per policy snapshot (so per directory policy serial).
 *
 * The key (oc_policy_resp_key) holds everything the response depends on
 * besides the snapshot: the caller's auth type, account kind, name and
 * groups (which decide its rights), and the request's policiesNotChanged
 * class, filter, client/server versions and policy OIDs. Keys are compared
 * in full, byte for byte: two callers share an entry only when every one of
 * those is equal. The stored payload is the envelope without its SOAP
 * header; a hit writes the header with the request's RelatesTo, the payload
 * and the envelope's end, which is byte for byte what
 * oc_xcep_render_response writes for that MessageID.
 */
#ifndef OC_FRONT_POLICY_RESP_H
#define OC_FRONT_POLICY_RESP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "model/identity.h"
#include "xcep/xcep.h"

struct oc_policy_resp_cache;

struct oc_policy_resp_stats {
	unsigned long hits;
	unsigned long misses;
	unsigned long stores;
	unsigned long evictions;
	size_t entries;
	size_t bytes;               /* keys + payloads held */
};

/* max_entries / max_bytes: 0 => OC_POLICY_CACHE_ENTRIES / OC_POLICY_CACHE_BYTES. */
int oc_policy_resp_cache_new(size_t max_entries, size_t max_bytes,
    struct oc_policy_resp_cache **cp) OC_WUR;
void oc_policy_resp_cache_free(struct oc_policy_resp_cache *c);   /* NULL-safe */

/*
 * Build the key of (serial, caller, request) into key (reset first).
 * OC_ERR_LIMIT when it would exceed OC_POLICY_CACHE_KEY_MAX: do not cache.
 */
int oc_policy_resp_key(struct ocbuf *key, int64_t serial, const struct oc_identity *caller,
    const struct oc_xcep_request *req, int not_changed) OC_WUR;

/*
 * On a hit, append the full response envelope for relates_to (may be NULL:
 * no RelatesTo) to out and return OC_OK; OC_ERR_NOT_FOUND on a miss.
 * Thread-safe.
 */
int oc_policy_resp_get(struct oc_policy_resp_cache *c, const struct ocbuf *key,
    const char *relates_to, struct ocbuf *out) OC_WUR;

/*
 * Store a response envelope rendered with relates_to == NULL under key.
 * OC_ERR_INVALID when body is not such an envelope, OC_ERR_LIMIT when it
 * does not fit the bounds. Evicts the least recently used entries. Thread-safe.
 */
int oc_policy_resp_put(struct oc_policy_resp_cache *c, const struct ocbuf *key,
    const uint8_t *body, size_t len) OC_WUR;

void oc_policy_resp_get_stats(struct oc_policy_resp_cache *c, struct oc_policy_resp_stats *st);

#endif
