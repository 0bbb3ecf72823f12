/*
 * The rendered-policy cache (src/front/policy_resp.c) and GetPolicies through
 * the front end over a real embedded directory:
 * - a cached answer is byte for byte oc_xcep_render_response's, for every
 *   MessageID form and request class (filters, versions, policiesNotChanged);
 * - keys differ whenever caller or request differ (no sharing across callers);
 * - bounded in entries and bytes, least recently used first out;
 * - two callers with different rights get different policies, the same
 *   caller twice gets the same bytes (second from the cache), and a revoked
 *   right is gone from the next answer once the serial is polled (~1 s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/limits.h"
#include "common/log.h"
#include "directory/directory.h"
#include "front/front.h"
#include "front/front_internal.h"
#include "front/policy_resp.h"
#include "xcep/xcep.h"

int main(void);

#define CEP_PATH "/ADPolicyProvider_CEP_UsernamePassword/service.svc/CEP"

static char tdir[64];
static char dbpath[128];

static const uint8_t fake_ca_cert[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };

static int
setup(void **state)
{
	struct oc_directory *d = NULL;
	struct oc_identity a = { 0 };
	struct oc_ca_entry ca = { 0 };
	struct oc_ces_uri uri = { 4, (char *)"https://ces.example.test/CA_CES_UsernamePassword/service.svc/CES", 1, 0 };
	int r;

	(void)state;
	oc_log_init("test_front_policy", OC_LOG_WARN);
	strcpy(tdir, "/tmp/oc-frontpol-XXXXXX");
	if (mkdtemp(tdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/directory.db", tdir);
	if (oc_dir_open(dbpath, 1, &d) != OC_OK || oc_dir_seed_defaults(d) != OC_OK)
		return -1;
	a.name = (char *)"alice";
	r = oc_dir_account_add(d, &a, "alice pw");
	a.name = (char *)"bob";
	if (r == OC_OK)
		r = oc_dir_account_add(d, &a, "bob pw");
	/* alice may also enroll WebServer; both may enroll User (Domain Users) */
	if (r == OC_OK)
		r = oc_dir_grant(d, "WebServer", "alice", OC_RIGHT_ENROLL);
	ca.name = (char *)"Test CA";
	ca.cert_der = (uint8_t *)fake_ca_cert;
	ca.cert_der_len = sizeof(fake_ca_cert);
	ca.uris = &uri;
	ca.nuris = 1;
	if (r == OC_OK && ((r = oc_strlist_add(&ca.templates, "User")) != OC_OK ||
	    (r = oc_strlist_add(&ca.templates, "WebServer")) != OC_OK ||
	    (r = oc_strlist_add(&ca.templates, "Machine")) != OC_OK))
		return -1;
	if (r == OC_OK)
		r = oc_dir_ca_put(d, &ca);
	oc_strlist_free(&ca.templates);
	oc_dir_close(d);
	return r == OC_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	char p[160];

	(void)state;
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	rmdir(tdir);
	return 0;
}

/* ---- the cache on its own ----------------------------------------------- */

struct view_fix {
	struct oc_template **tv;
	size_t nt;
	struct oc_ca_entry *cas;
	size_t ncas;
	struct oc_xcep_entry *e;
	struct oc_xcep_view view;
};

static void
view_load(struct view_fix *v)
{
	struct oc_directory *d = NULL;

	memset(v, 0, sizeof(*v));
	assert_int_equal(oc_dir_open_ro(dbpath, &d), OC_OK);
	assert_int_equal(oc_dir_template_list(d, &v->tv, &v->nt), OC_OK);
	assert_int_equal(oc_dir_ca_list(d, &v->cas, &v->ncas), OC_OK);
	oc_dir_close(d);
	assert_true(v->nt > 3);
	v->e = calloc(v->nt, sizeof(*v->e));
	assert_non_null(v->e);
	for (size_t i = 0; i < v->nt; i++) {
		v->e[i].t = v->tv[i];
		v->e[i].enroll = 1;
		v->e[i].autoenroll = (int)(i % 2);
	}
	v->view.policy_id = "{6A1C58E7-0E4A-4B5B-9A33-2C0F5B7D6E11}";
	v->view.friendly_name = "Test & <policy>";
	v->view.next_update_hours = 8;
	v->view.last_change = 1767225600;
	v->view.entries = v->e;
	v->view.nentries = v->nt;
	v->view.cas = v->cas;
	v->view.ncas = v->ncas;
	v->view.max_client_version = 6;
	v->view.max_server_version = 6;
}

static void
view_free(struct view_fix *v)
{
	oc_dir_template_list_free(v->tv, v->nt);
	oc_dir_ca_list_free(v->cas, v->ncas);
	free(v->e);
}

/* Every request class x every MessageID form: cached == direct, byte for byte. */
static void
test_splice_is_byte_identical(void **state)
{
	static const char *ids[] = {
		NULL,
		"urn:uuid:5fb5f6fd-4709-414b-8afa-0c05f6686d1c",
		"",
		"id with <markup> & \"quotes\" 'too'",
	};
	struct view_fix v;
	struct oc_xcep_request req[5];
	struct oc_policy_resp_cache *c = NULL;
	struct oc_identity who = { 0 };
	struct ocbuf key, plain, direct, cached;

	(void)state;
	view_load(&v);
	memset(req, 0, sizeof(req));
	/* 0: no filter, no lastUpdate (8.1) */
	req[0].client_version = req[0].server_version = -1;
	/* 1: filter with nil versions (defaults to 3) */
	req[1].has_filter = 1;
	req[1].client_version = req[1].server_version = -1;
	/* 2: filter with versions 2 and an OID list naming one template */
	req[2].has_filter = 1;
	req[2].client_version = 2;
	req[2].server_version = 2;
	assert_int_equal(oc_strlist_add(&req[2].policy_oids, v.tv[0]->oid), OC_OK);
	/* 3: lastUpdate older than the last change: full policy */
	req[3].has_last_update = 1;
	req[3].last_update = v.view.last_change - 1;
	req[3].client_version = req[3].server_version = -1;
	/* 4: lastUpdate at the last change: policiesNotChanged */
	req[4].has_last_update = 1;
	req[4].last_update = v.view.last_change;
	req[4].client_version = req[4].server_version = -1;

	who.name = (char *)"alice";
	who.auth_type = OC_AUTH_PASSWORD;
	assert_int_equal(oc_policy_resp_cache_new(0, 0, &c), OC_OK);
	ocbuf_init(&key, OC_POLICY_CACHE_KEY_MAX);
	ocbuf_init(&plain, OC_HTTP_RESP_BODY_MAX);
	ocbuf_init(&direct, OC_HTTP_RESP_BODY_MAX);
	ocbuf_init(&cached, OC_HTTP_RESP_BODY_MAX);
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		int nc = req[i].has_last_update && req[i].last_update >= v.view.last_change;

		assert_int_equal(oc_policy_resp_key(&key, 7, &who, &req[i], nc), OC_OK);
		/* 3 answers like 0 (an old lastUpdate is no lastUpdate): it shares 0's key */
		assert_int_equal(oc_policy_resp_get(c, &key, ids[1], &cached),
		    i == 3 ? OC_OK : OC_ERR_NOT_FOUND);
		ocbuf_reset(&plain);
		assert_int_equal(oc_xcep_render_response(&plain, &v.view, &req[i], NULL), OC_OK);
		assert_int_equal(oc_policy_resp_put(c, &key, plain.d, plain.len), OC_OK);
		for (size_t k = 0; k < sizeof(ids) / sizeof(ids[0]); k++) {
			ocbuf_reset(&direct);
			ocbuf_reset(&cached);
			assert_int_equal(oc_xcep_render_response(&direct, &v.view, &req[i], ids[k]),
			    OC_OK);
			assert_int_equal(oc_policy_resp_get(c, &key, ids[k], &cached), OC_OK);
			if (direct.len != cached.len || memcmp(direct.d, cached.d, direct.len) != 0)
				fail_msg("request %zu, MessageID %zu: cached answer differs", i, k);
		}
	}
	/* not an envelope without RelatesTo: refused */
	ocbuf_reset(&direct);
	assert_int_equal(oc_xcep_render_response(&direct, &v.view, &req[0], ids[1]), OC_OK);
	assert_int_equal(oc_policy_resp_put(c, &key, direct.d, direct.len), OC_ERR_INVALID);
	assert_int_equal(oc_policy_resp_put(c, &key, (const uint8_t *)"<x/>", 4), OC_ERR_INVALID);

	ocbuf_free(&key);
	ocbuf_free(&plain);
	ocbuf_free(&direct);
	ocbuf_free(&cached);
	oc_policy_resp_cache_free(c);
	oc_policy_resp_cache_free(NULL);
	oc_strlist_free(&req[2].policy_oids);
	view_free(&v);
}

/* Whatever differs in caller or request gives another key. */
static void
test_keys_separate_callers(void **state)
{
	struct variant {
		const char *name;
		const char *g1, *g2;
		enum oc_auth_type auth;
		enum oc_account_kind kind;
		int64_t serial;
		int not_changed, has_filter, cv, sv;
		const char *oid;
	} tv[] = {
		{ "alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 0, -1, -1, NULL },
		{ "bob", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 0, -1, -1, NULL },
		{ "Alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 0, -1, -1, NULL },
		{ "alice", "staff", NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 0, -1, -1, NULL },
		{ "alice", "staff", "admins", OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 0, -1, -1, NULL },
		/* framing: "ab"+{"c"} is not "a"+{"bc"} */
		{ "ab", "c", NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 0, -1, -1, NULL },
		{ "a", "bc", NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 0, -1, -1, NULL },
		{ "alice", NULL, NULL, OC_AUTH_KERBEROS, OC_ACCOUNT_USER, 1, 0, 0, -1, -1, NULL },
		{ "alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_COMPUTER, 1, 0, 0, -1, -1, NULL },
		{ "alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 2, 0, 0, -1, -1, NULL },
		{ "alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 1, 0, -1, -1, NULL },
		{ "alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 1, -1, -1, NULL },
		{ "alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 1, 2, -1, NULL },
		{ "alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 1, -1, 2, NULL },
		{ "alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 1, -1, -1, "1.2.3" },
		{ "alice", NULL, NULL, OC_AUTH_PASSWORD, OC_ACCOUNT_USER, 1, 0, 1, -1, -1, "1.2.4" },
	};
	enum { N = sizeof(tv) / sizeof(tv[0]) };
	struct ocbuf keys[N];

	(void)state;
	for (size_t i = 0; i < N; i++) {
		struct oc_identity id = { 0 };
		struct oc_xcep_request req;

		memset(&req, 0, sizeof(req));
		id.name = (char *)tv[i].name;
		id.auth_type = tv[i].auth;
		id.kind = tv[i].kind;
		if (tv[i].g1 != NULL)
			assert_int_equal(oc_strlist_add(&id.groups, tv[i].g1), OC_OK);
		if (tv[i].g2 != NULL)
			assert_int_equal(oc_strlist_add(&id.groups, tv[i].g2), OC_OK);
		req.has_filter = tv[i].has_filter;
		req.client_version = tv[i].cv;
		req.server_version = tv[i].sv;
		if (tv[i].oid != NULL)
			assert_int_equal(oc_strlist_add(&req.policy_oids, tv[i].oid), OC_OK);
		ocbuf_init(&keys[i], OC_POLICY_CACHE_KEY_MAX);
		assert_int_equal(oc_policy_resp_key(&keys[i], tv[i].serial, &id, &req,
		    tv[i].not_changed), OC_OK);
		oc_strlist_free(&id.groups);
		oc_strlist_free(&req.policy_oids);
	}
	for (size_t i = 0; i < N; i++)
		for (size_t k = i + 1; k < N; k++)
			if (keys[i].len == keys[k].len &&
			    memcmp(keys[i].d, keys[k].d, keys[i].len) == 0)
				fail_msg("variants %zu and %zu share a key", i, k);
	for (size_t i = 0; i < N; i++)
		ocbuf_free(&keys[i]);
}

/* A caller in too many big groups is not cached (the key would exceed its bound). */
static void
test_key_bound(void **state)
{
	struct oc_identity id = { 0 };
	struct oc_xcep_request req;
	struct ocbuf key;
	char g[OC_NAME_MAX + 1];

	(void)state;
	memset(&req, 0, sizeof(req));
	id.name = (char *)"alice";
	memset(g, 'g', OC_NAME_MAX);
	g[OC_NAME_MAX] = '\0';
	for (int i = 0; i < OC_GROUPS_MAX; i++) {
		g[0] = (char)('A' + i % 26);
		g[1] = (char)('A' + i / 26);
		assert_int_equal(oc_strlist_add(&id.groups, g), OC_OK);
	}
	ocbuf_init(&key, OC_POLICY_CACHE_KEY_MAX);
	assert_int_equal(oc_policy_resp_key(&key, 1, &id, &req, 0), OC_ERR_LIMIT);
	ocbuf_free(&key);
	oc_strlist_free(&id.groups);
}

static void
put_named(struct oc_policy_resp_cache *c, const char *name, size_t payload_len, int want)
{
	struct oc_identity id = { 0 };
	struct oc_xcep_request req;
	struct ocbuf key, body;
	char *pad;

	memset(&req, 0, sizeof(req));
	id.name = (char *)name;
	ocbuf_init(&key, OC_POLICY_CACHE_KEY_MAX);
	ocbuf_init(&body, OC_HTTP_RESP_BODY_MAX);
	assert_int_equal(oc_policy_resp_key(&key, 1, &id, &req, 0), OC_OK);
	pad = malloc(payload_len + 1);
	assert_non_null(pad);
	memset(pad, 'x', payload_len);
	pad[payload_len] = '\0';
	assert_int_equal(oc_soap_begin(&body, OC_XCEP_ACTION_RESPONSE, NULL), OC_OK);
	assert_int_equal(ocbuf_puts(&body, pad), OC_OK);
	assert_int_equal(oc_soap_end(&body), OC_OK);
	assert_int_equal(oc_policy_resp_put(c, &key, body.d, body.len), want);
	free(pad);
	ocbuf_free(&key);
	ocbuf_free(&body);
}

static int
has_named(struct oc_policy_resp_cache *c, const char *name)
{
	struct oc_identity id = { 0 };
	struct oc_xcep_request req;
	struct ocbuf key, out;
	int r;

	memset(&req, 0, sizeof(req));
	id.name = (char *)name;
	ocbuf_init(&key, OC_POLICY_CACHE_KEY_MAX);
	ocbuf_init(&out, OC_HTTP_RESP_BODY_MAX);
	assert_int_equal(oc_policy_resp_key(&key, 1, &id, &req, 0), OC_OK);
	r = oc_policy_resp_get(c, &key, "m", &out);
	ocbuf_free(&key);
	ocbuf_free(&out);
	return r == OC_OK;
}

/* At most max entries and max bytes; the least recently used go first. */
static void
test_bounds_and_lru(void **state)
{
	struct oc_policy_resp_cache *c = NULL;
	struct oc_policy_resp_stats st;

	(void)state;
	assert_int_equal(oc_policy_resp_cache_new(3, 0, &c), OC_OK);
	put_named(c, "a", 100, OC_OK);
	put_named(c, "b", 100, OC_OK);
	put_named(c, "c", 100, OC_OK);
	assert_true(has_named(c, "a"));         /* a is now the most recent */
	put_named(c, "d", 100, OC_OK);          /* evicts b */
	put_named(c, "e", 100, OC_OK);          /* evicts c */
	oc_policy_resp_get_stats(c, &st);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.evictions, 2);
	assert_true(has_named(c, "a"));
	assert_false(has_named(c, "b"));
	assert_false(has_named(c, "c"));
	assert_true(has_named(c, "d"));
	assert_true(has_named(c, "e"));
	/* the same key again replaces, not duplicates */
	put_named(c, "e", 50, OC_OK);
	oc_policy_resp_get_stats(c, &st);
	assert_int_equal(st.entries, 3);
	oc_policy_resp_cache_free(c);

	/* byte bound: 4 KiB holds three 1 KiB answers, not four; too big is refused */
	assert_int_equal(oc_policy_resp_cache_new(100, 4096, &c), OC_OK);
	for (int i = 0; i < 10; i++) {
		char n[8];

		snprintf(n, sizeof(n), "u%d", i);
		put_named(c, n, 1024, OC_OK);
		oc_policy_resp_get_stats(c, &st);
		assert_true(st.bytes <= 4096);
	}
	assert_int_equal(st.entries, 3);
	assert_true(has_named(c, "u9"));
	assert_false(has_named(c, "u0"));
	put_named(c, "huge", 8192, OC_ERR_LIMIT);
	oc_policy_resp_cache_free(c);
}

/* ---- GetPolicies through the front end ------------------------------------ */

struct front_fix {
	struct oc_front *f;
	void *t;
};

static void
front_open(struct front_fix *x)
{
	struct oc_endpoint ep = { OC_SERVICE_CEP, OC_AUTH_PASSWORD, (char *)CEP_PATH, NULL, 0 };
	struct oc_front_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.dir_path = dbpath;
	cfg.ca_name = "Test CA";
	cfg.policy_id = "{6A1C58E7-0E4A-4B5B-9A33-2C0F5B7D6E11}";
	cfg.policy_friendly_name = "Test policy";
	cfg.next_update_hours = 8;
	cfg.endpoints = &ep;
	cfg.nendpoints = 1;
	cfg.ca_fd = -1;         /* CEP never talks to the CA */
	assert_int_equal(oc_front_new(&cfg, &x->f), OC_OK);
	x->t = oc_front_thread_init(x->f);
	assert_non_null(x->t);
}

static void
front_close(struct front_fix *x)
{
	oc_front_thread_fini(x->f, x->t);
	oc_front_free(x->f);
}

/* POST a GetPolicies (xcep.md 8.1 shape) as login/password; the 200 body into out. */
static void
get_policies_since(struct front_fix *x, const char *login, const char *password,
    const char *msgid, const char *last_update, struct ocbuf *out)
{
	struct oc_http_header hdr = { (char *)"Content-Type",
	    (char *)"application/soap+xml; charset=utf-8" };
	struct oc_http_request req;
	struct oc_http_response resp;
	char *body = NULL;
	int n;

	n = asprintf(&body,
	    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
	    "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header>"
	    "<a:Action s:mustUnderstand=\"1\">" OC_XCEP_ACTION_REQUEST "</a:Action>"
	    "<a:MessageID>%s</a:MessageID>"
	    "<o:Security s:mustUnderstand=\"1\" xmlns:o=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\">"
	    "<o:UsernameToken><o:Username>%s</o:Username>"
	    "<o:Password o:Type=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText\">%s</o:Password>"
	    "</o:UsernameToken></o:Security></s:Header>"
	    "<s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
	    "<GetPolicies xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy\">"
	    "<client><lastUpdate>%s</lastUpdate><preferredLanguage xsi:nil=\"true\"/></client>"
	    "<requestFilter xsi:nil=\"true\"/></GetPolicies></s:Body></s:Envelope>",
	    msgid, login, password, last_update);
	assert_true(n > 0);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = CEP_PATH;
	req.body = (const uint8_t *)body;
	req.body_len = (size_t)n;
	req.headers = &hdr;
	req.nheaders = 1;
	req.peer = "127.0.0.1:1";
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	ocbuf_init(&resp.body, OC_HTTP_RESP_BODY_MAX);
	oc_front_handle(x->f, x->t, &req, &resp);
	if (resp.status != 200)
		fail_msg("GetPolicies as %s: HTTP %d: %.*s", login, resp.status,
		    (int)resp.body.len, resp.body.d ? (const char *)resp.body.d : "");
	ocbuf_reset(out);
	assert_int_equal(ocbuf_put(out, resp.body.d, resp.body.len), OC_OK);
	assert_int_equal(ocbuf_putc(out, '\0'), OC_OK);
	out->len--;
	ocbuf_free(&resp.body);
	for (size_t i = 0; i < resp.nheaders; i++) {
		free(resp.headers[i].name);
		free(resp.headers[i].value);
	}
	free(resp.headers);
	free(body);
}

static void
get_policies(struct front_fix *x, const char *login, const char *password, const char *msgid,
    struct ocbuf *out)
{
	get_policies_since(x, login, password, msgid, "0001-01-01T00:00:00", out);
}

static int
offers(const struct ocbuf *b, const char *cn)
{
	char needle[128];

	snprintf(needle, sizeof(needle), "<commonName>%s</commonName>", cn);
	return strstr((const char *)b->d, needle) != NULL;
}

static void
resp_stats(struct front_fix *x, struct oc_policy_resp_stats *st)
{
	pthread_mutex_lock(&x->f->snap_mu);
	assert_non_null(x->f->snap);
	oc_policy_resp_get_stats(x->f->snap->resp, st);
	pthread_mutex_unlock(&x->f->snap_mu);
}

static void
test_front_callers_and_revocation(void **state)
{
	struct front_fix x;
	struct ocbuf a1, a2, b1;
	struct oc_policy_resp_stats s0, s1;
	struct oc_directory *d = NULL;
	const char *rel;

	(void)state;
	front_open(&x);
	ocbuf_init(&a1, OC_HTTP_RESP_BODY_MAX);
	ocbuf_init(&a2, OC_HTTP_RESP_BODY_MAX);
	ocbuf_init(&b1, OC_HTTP_RESP_BODY_MAX);

	get_policies(&x, "alice", "alice pw", "urn:uuid:00000000-0000-0000-0000-00000000000a", &a1);
	get_policies(&x, "bob", "bob pw", "urn:uuid:00000000-0000-0000-0000-00000000000b", &b1);
	/* different rights, different policies: never one caller's for another */
	assert_true(offers(&a1, "User"));
	assert_true(offers(&a1, "WebServer"));
	assert_true(offers(&b1, "User"));
	assert_false(offers(&b1, "WebServer"));
	assert_false(offers(&a1, "Machine"));   /* published, but nobody's right */
	resp_stats(&x, &s0);
	assert_int_equal(s0.entries, 2);

	/* the same caller again: from the cache, same bytes but its own RelatesTo */
	get_policies(&x, "alice", "alice pw", "urn:uuid:00000000-0000-0000-0000-00000000000a", &a2);
	resp_stats(&x, &s1);
	assert_int_equal(s1.hits, s0.hits + 1);
	assert_int_equal(a1.len, a2.len);
	assert_memory_equal(a1.d, a2.d, a1.len);
	get_policies(&x, "alice", "alice pw", "urn:uuid:00000000-0000-0000-0000-0000000000ff", &a2);
	rel = strstr((const char *)a2.d, "<a:RelatesTo>urn:uuid:00000000-0000-0000-0000-0000000000ff</a:RelatesTo>");
	assert_non_null(rel);
	assert_int_equal(a1.len, a2.len);

	/* a wrong password is not answered from anybody's cached policy */
	{
		struct oc_http_header hdr = { (char *)"Content-Type", (char *)"application/soap+xml" };
		struct oc_http_request req;
		struct oc_http_response resp;
		const char *body =
		    "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
		    "xmlns:a=\"http://www.w3.org/2005/08/addressing\"><s:Header>"
		    "<a:Action s:mustUnderstand=\"1\">" OC_XCEP_ACTION_REQUEST "</a:Action>"
		    "<a:MessageID>urn:uuid:1</a:MessageID>"
		    "<o:Security xmlns:o=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\">"
		    "<o:UsernameToken><o:Username>alice</o:Username><o:Password>bob pw</o:Password>"
		    "</o:UsernameToken></o:Security></s:Header><s:Body>"
		    "<GetPolicies xmlns=\"http://schemas.microsoft.com/windows/pki/2009/01/enrollmentpolicy\">"
		    "<client><lastUpdate>0001-01-01T00:00:00</lastUpdate></client></GetPolicies>"
		    "</s:Body></s:Envelope>";

		memset(&req, 0, sizeof(req));
		req.method = "POST";
		req.path = CEP_PATH;
		req.body = (const uint8_t *)body;
		req.body_len = strlen(body);
		req.headers = &hdr;
		req.nheaders = 1;
		req.peer = "127.0.0.1:1";
		memset(&resp, 0, sizeof(resp));
		resp.status = 200;
		ocbuf_init(&resp.body, OC_HTTP_RESP_BODY_MAX);
		oc_front_handle(x.f, x.t, &req, &resp);
		assert_int_not_equal(resp.status, 200);
		ocbuf_free(&resp.body);
		for (size_t i = 0; i < resp.nheaders; i++) {
			free(resp.headers[i].name);
			free(resp.headers[i].value);
		}
		free(resp.headers);
	}

	/* revoke alice's WebServer right: gone once the serial is polled (<= ~1 s) */
	assert_int_equal(oc_dir_open(dbpath, 0, &d), OC_OK);
	assert_int_equal(oc_dir_revoke(d, "WebServer", "alice", OC_RIGHT_ENROLL), OC_OK);
	usleep(1200 * 1000);
	get_policies(&x, "alice", "alice pw", "urn:uuid:00000000-0000-0000-0000-00000000000a", &a2);
	assert_true(offers(&a2, "User"));
	assert_false(offers(&a2, "WebServer"));
	/* the new serial started with an empty cache */
	resp_stats(&x, &s1);
	assert_int_equal(s1.entries, 1);
	/* and granting it back brings it back */
	assert_int_equal(oc_dir_grant(d, "WebServer", "alice", OC_RIGHT_ENROLL), OC_OK);
	oc_dir_close(d);
	usleep(1200 * 1000);
	get_policies(&x, "alice", "alice pw", "urn:uuid:00000000-0000-0000-0000-00000000000a", &a2);
	assert_true(offers(&a2, "WebServer"));
	get_policies(&x, "bob", "bob pw", "urn:uuid:00000000-0000-0000-0000-00000000000b", &a2);
	assert_false(offers(&a2, "WebServer"));

	/* a client up to date gets policiesNotChanged, cached like the rest */
	for (int i = 0; i < 2; i++) {
		get_policies_since(&x, "alice", "alice pw", "urn:uuid:2", "2999-01-01T00:00:00", &a2);
		assert_non_null(strstr((const char *)a2.d,
		    "<policiesNotChanged>true</policiesNotChanged><policies xsi:nil=\"true\"/>"));
		assert_false(offers(&a2, "User"));
	}

	ocbuf_free(&a1);
	ocbuf_free(&a2);
	ocbuf_free(&b1);
	front_close(&x);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_splice_is_byte_identical),
		cmocka_unit_test(test_keys_separate_callers),
		cmocka_unit_test(test_key_bound),
		cmocka_unit_test(test_bounds_and_lru),
		cmocka_unit_test(test_front_callers_and_revocation),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
