/*
 * Rendered GetPoliciesResponse envelopes, cached per policy snapshot
 * (see policy_resp.h for what the key holds and why a hit is byte for byte
 * the direct rendering). Bounded in entries and bytes; the least recently
 * used entries go first. One mutex: a lookup is a scan of at most
 * OC_POLICY_CACHE_ENTRIES 64-bit hashes and one copy of the payload.
 */
#include "front/policy_resp.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "soap/soap.h"

/* Key format version: change it when the key layout changes. */
#define POLICY_KEY_TAG 0x43455031u      /* "CEP1" */

struct resp_entry {
	uint64_t hash;                  /* of the key; 0 = free slot */
	uint8_t *key;
	size_t keylen;
	uint8_t *payload;               /* envelope without header and end */
	size_t len;
	uint64_t used;                  /* LRU stamp */
};

struct oc_policy_resp_cache {
	pthread_mutex_t mu;
	struct resp_entry *v;
	size_t max_entries, max_bytes;
	uint64_t clock;
	struct oc_policy_resp_stats st;
	uint8_t *head;                  /* oc_soap_begin(action, NULL) */
	size_t head_len;
	uint8_t *tail;                  /* oc_soap_end() */
	size_t tail_len;
};

/* FNV-1a; only picks candidates, keys are then compared in full. */
static uint64_t
key_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h ? h : 1;
}

static void
entry_clear(struct oc_policy_resp_cache *c, struct resp_entry *e)
{
	if (e->hash == 0)
		return;
	c->st.entries--;
	c->st.bytes -= e->keylen + e->len;
	free(e->key);
	free(e->payload);
	memset(e, 0, sizeof(*e));
}

int
oc_policy_resp_cache_new(size_t max_entries, size_t max_bytes, struct oc_policy_resp_cache **cp)
{
	struct oc_policy_resp_cache *c = NULL;
	struct ocbuf b;
	int r = OC_ERR_NOMEM;

	*cp = NULL;
	ocbuf_init(&b, 4096);
	if (max_entries == 0 || max_entries > OC_POLICY_CACHE_ENTRIES)
		max_entries = OC_POLICY_CACHE_ENTRIES;
	if (max_bytes == 0 || max_bytes > OC_POLICY_CACHE_BYTES)
		max_bytes = OC_POLICY_CACHE_BYTES;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto out;
	if (pthread_mutex_init(&c->mu, NULL) != 0) {
		free(c);
		c = NULL;
		r = OC_ERR_INTERNAL;
		goto out;
	}
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	if ((c->v = calloc(max_entries, sizeof(*c->v))) == NULL)
		goto out;
	/* the envelope's fixed start (no RelatesTo) and end, as soap writes them */
	if ((r = oc_soap_begin(&b, OC_XCEP_ACTION_RESPONSE, NULL)) != OC_OK)
		goto out;
	c->head = ocbuf_take(&b, &c->head_len);
	if (c->head == NULL || (r = oc_soap_end(&b)) != OC_OK) {
		r = r != OC_OK ? r : OC_ERR_NOMEM;
		goto out;
	}
	if ((c->tail = ocbuf_take(&b, &c->tail_len)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	*cp = c;
	c = NULL;
	r = OC_OK;
out:
	ocbuf_free(&b);
	oc_policy_resp_cache_free(c);
	return r;
}

void
oc_policy_resp_cache_free(struct oc_policy_resp_cache *c)
{
	if (c == NULL)
		return;
	if (c->v != NULL)
		for (size_t i = 0; i < c->max_entries; i++)
			entry_clear(c, &c->v[i]);
	free(c->v);
	free(c->head);
	free(c->tail);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int
key_str(struct ocbuf *key, const char *s)
{
	return ocbuf_put_cstring(key, s);       /* u32 length + bytes; NULL => empty */
}

int
oc_policy_resp_key(struct ocbuf *key, int64_t serial, const struct oc_identity *caller,
    const struct oc_xcep_request *req, int not_changed)
{
	int r;

	if (key == NULL || caller == NULL || req == NULL || caller->name == NULL)
		return OC_ERR_INVALID;
	ocbuf_reset(key);
	if (key->max > OC_POLICY_CACHE_KEY_MAX)
		key->max = OC_POLICY_CACHE_KEY_MAX;
	/* u32 framing everywhere: no two different tuples give the same bytes */
	if ((r = ocbuf_put_u32(key, POLICY_KEY_TAG)) != OC_OK ||
	    (r = ocbuf_put_u64(key, (uint64_t)serial)) != OC_OK ||
	    /* the request: what oc_xcep_render_response reads from it */
	    (r = ocbuf_put_u32(key, not_changed ? 1 : 0)) != OC_OK ||
	    (r = ocbuf_put_u32(key, req->has_filter ? 1 : 0)) != OC_OK ||
	    (r = ocbuf_put_u32(key, (uint32_t)req->client_version)) != OC_OK ||
	    (r = ocbuf_put_u32(key, (uint32_t)req->server_version)) != OC_OK ||
	    (r = ocbuf_put_u32(key, (uint32_t)req->policy_oids.n)) != OC_OK)
		return r;
	for (size_t i = 0; i < req->policy_oids.n; i++)
		if ((r = key_str(key, req->policy_oids.v[i])) != OC_OK)
			return r;
	/* the caller: what its rights are computed from (name, SID, groups) */
	if ((r = ocbuf_put_u32(key, (uint32_t)caller->auth_type)) != OC_OK ||
	    (r = ocbuf_put_u32(key, (uint32_t)caller->kind)) != OC_OK ||
	    (r = key_str(key, caller->name)) != OC_OK ||
	    (r = key_str(key, caller->sid)) != OC_OK ||
	    (r = ocbuf_put_u32(key, (uint32_t)caller->groups.n)) != OC_OK)
		return r;
	for (size_t i = 0; i < caller->groups.n; i++)
		if ((r = key_str(key, caller->groups.v[i])) != OC_OK)
			return r;
	return OC_OK;
}

static struct resp_entry *
find(struct oc_policy_resp_cache *c, uint64_t h, const uint8_t *k, size_t n)
{
	for (size_t i = 0; i < c->max_entries; i++) {
		struct resp_entry *e = &c->v[i];

		if (e->hash == h && e->keylen == n && memcmp(e->key, k, n) == 0)
			return e;
	}
	return NULL;
}

int
oc_policy_resp_get(struct oc_policy_resp_cache *c, const struct ocbuf *key,
    const char *relates_to, struct ocbuf *out)
{
	struct resp_entry *e;
	size_t start;
	uint64_t h;
	int r;

	if (c == NULL || key == NULL || out == NULL || key->len == 0)
		return OC_ERR_INVALID;
	h = key_hash(key->d, key->len);
	start = out->len;
	pthread_mutex_lock(&c->mu);
	if ((e = find(c, h, key->d, key->len)) == NULL) {
		c->st.misses++;
		pthread_mutex_unlock(&c->mu);
		return OC_ERR_NOT_FOUND;
	}
	e->used = ++c->clock;
	c->st.hits++;
	/* the header exactly as oc_xcep_render_response writes it */
	if ((r = oc_soap_begin(out, OC_XCEP_ACTION_RESPONSE, relates_to)) == OC_OK &&
	    (r = ocbuf_put(out, e->payload, e->len)) == OC_OK)
		r = ocbuf_put(out, c->tail, c->tail_len);
	pthread_mutex_unlock(&c->mu);
	if (r != OC_OK) {
		out->len = start;       /* never half a response */
		if (out->d != NULL)
			out->d[start] = '\0';
	}
	return r;
}

int
oc_policy_resp_put(struct oc_policy_resp_cache *c, const struct ocbuf *key,
    const uint8_t *body, size_t len)
{
	struct resp_entry *e, *slot;
	uint8_t *k = NULL, *p = NULL;
	size_t n, plen;
	uint64_t h;
	int r = OC_ERR_NOMEM;

	if (c == NULL || key == NULL || body == NULL || key->len == 0)
		return OC_ERR_INVALID;
	/* only an envelope with no RelatesTo: head ... tail */
	if (len < c->head_len + c->tail_len || memcmp(body, c->head, c->head_len) != 0 ||
	    memcmp(body + len - c->tail_len, c->tail, c->tail_len) != 0)
		return OC_ERR_INVALID;
	n = key->len;
	plen = len - c->head_len - c->tail_len;
	if (n > OC_POLICY_CACHE_KEY_MAX || n + plen > c->max_bytes)
		return OC_ERR_LIMIT;
	if ((k = malloc(n)) == NULL || (p = malloc(plen ? plen : 1)) == NULL)
		goto out;
	memcpy(k, key->d, n);
	memcpy(p, body + c->head_len, plen);
	h = key_hash(k, n);

	pthread_mutex_lock(&c->mu);
	if ((e = find(c, h, k, n)) != NULL)
		entry_clear(c, e);      /* replaced (two workers rendered the same) */
	/* make room: a free slot and enough bytes, dropping the least recently used */
	for (;;) {
		struct resp_entry *lru = NULL;

		slot = NULL;
		for (size_t i = 0; i < c->max_entries; i++) {
			e = &c->v[i];
			if (e->hash == 0) {
				if (slot == NULL)
					slot = e;
			} else if (lru == NULL || e->used < lru->used) {
				lru = e;
			}
		}
		if (slot != NULL && c->st.bytes + n + plen <= c->max_bytes)
			break;
		if (lru == NULL)
			break;          /* cannot happen: n + plen <= max_bytes */
		entry_clear(c, lru);
		c->st.evictions++;
	}
	if (slot != NULL) {
		slot->hash = h;
		slot->key = k;
		slot->keylen = n;
		slot->payload = p;
		slot->len = plen;
		slot->used = ++c->clock;
		c->st.entries++;
		c->st.bytes += n + plen;
		c->st.stores++;
		k = p = NULL;
	}
	pthread_mutex_unlock(&c->mu);
	r = OC_OK;
out:
	free(k);
	free(p);
	return r;
}

void
oc_policy_resp_get_stats(struct oc_policy_resp_cache *c, struct oc_policy_resp_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	*st = c->st;
	pthread_mutex_unlock(&c->mu);
}
