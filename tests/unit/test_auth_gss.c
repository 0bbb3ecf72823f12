/*
 * Kerberos acceptor (src/auth/gss.c) against a real MIT KDC on loopback
 * (tests/lib/mit-kdc.sh): the initiator is MIT GSS-API (SPNEGO, as HTTP
 * Negotiate clients send it) or, for the expired-ticket and multi-leg cases,
 * hand-built tokens around real tickets. A missing KDC is a failure, never a skip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_ext.h>
#include <gssapi/gssapi_krb5.h>
#include <krb5/krb5.h>

#include "auth/gss.h"
#include "common/err.h"
#include "model/identity.h"

int main(void);

#if defined(__SANITIZE_ADDRESS__)
#define OC_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OC_LSAN 1
#endif
#endif
#ifdef OC_LSAN
#include <sanitizer/lsan_interface.h>
static void lsan_off(void) { __lsan_disable(); }
static void lsan_on(void) { __lsan_enable(); }
#else
static void lsan_off(void) { }
static void lsan_on(void) { }
#endif

#define SKEW 3          /* clockskew of the test realm (seconds) */

static char kdc_dir[256];
static char http_keytab[300];
static char other_keytab[300];

static gss_OID_desc oid_spnego = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };
static gss_OID_desc oid_krb5 = { 9, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02" };

static const char CB_A[] = "tls-server-end-point:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static const char CB_B[] = "tls-server-end-point:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

/* ---- the KDC ---------------------------------------------------------- */

static int
kdc_cmd(const char *verb, const char *extra)
{
	char cmd[1024];
	const char *src = getenv("OC_SOURCE_DIR");

	snprintf(cmd, sizeof(cmd), "bash '%s/tests/lib/mit-kdc.sh' %s '%s' %s",
	    src ? src : ".", verb, kdc_dir, extra ? extra : "");
	return system(cmd);
}

/* A port free on 127.0.0.1 for both TCP and UDP. */
static int
free_port(void)
{
	for (int i = 0; i < 50; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET };
		socklen_t al = sizeof(a);
		int t = socket(AF_INET, SOCK_STREAM, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
		int port = 0;

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (t >= 0 && u >= 0 && bind(t, (struct sockaddr *)&a, sizeof(a)) == 0 &&
		    getsockname(t, (struct sockaddr *)&a, &al) == 0 &&
		    bind(u, (struct sockaddr *)&a, sizeof(a)) == 0)
			port = ntohs(a.sin_port);
		if (t >= 0)
			close(t);
		if (u >= 0)
			close(u);
		if (port != 0)
			return port;
	}
	return 0;
}

static int
setup_kdc(void **state)
{
	char buf[512];
	int port;

	(void)state;
	snprintf(kdc_dir, sizeof(kdc_dir), "/tmp/oc-gss-XXXXXX");
	assert_non_null(mkdtemp(kdc_dir));
	port = free_port();
	assert_true(port > 0);
	snprintf(buf, sizeof(buf), "%d", port);
	setenv("MKDC_PORT", buf, 1);
	snprintf(buf, sizeof(buf), "%d", SKEW);
	setenv("MKDC_CLOCKSKEW", buf, 1);
	assert_int_equal(kdc_cmd("start", NULL), 0);
	/* Before any GSS call: our realm, alice's cache, a private replay cache. */
	snprintf(buf, sizeof(buf), "%s/krb5.conf", kdc_dir);
	setenv("KRB5_CONFIG", buf, 1);
	snprintf(buf, sizeof(buf), "FILE:%s/ccache", kdc_dir);
	setenv("KRB5CCNAME", buf, 1);
	setenv("KRB5RCACHEDIR", kdc_dir, 1);
	unsetenv("KRB5_KTNAME");        /* the keytab comes from the config only */
	snprintf(http_keytab, sizeof(http_keytab), "%s/http.keytab", kdc_dir);
	snprintf(other_keytab, sizeof(other_keytab), "%s/other.keytab", kdc_dir);
	return 0;
}

static int
teardown_kdc(void **state)
{
	char cmd[512];

	int stopped;

	(void)state;
	stopped = kdc_cmd("stop", NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", kdc_dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(stopped, 0);
	return 0;
}

/* ---- the initiator ---------------------------------------------------- */

struct initiator {
	gss_ctx_id_t ctx;
	gss_name_t target;
	gss_OID mech;
	struct gss_channel_bindings_struct cb;
	int has_cb;
};

static void
ini_start(struct initiator *in, const char *target, gss_OID mech, const char *cb)
{
	gss_buffer_desc nb = { strlen(target), (void *)target };
	OM_uint32 min;

	memset(in, 0, sizeof(*in));
	in->ctx = GSS_C_NO_CONTEXT;
	in->mech = mech;
	assert_int_equal(gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE,
	    &in->target), GSS_S_COMPLETE);
	if (cb != NULL) {
		in->cb.application_data.length = strlen(cb);
		in->cb.application_data.value = (void *)cb;
		in->has_cb = 1;
	}
}

/* One initiator leg; returns the major status, the token in *out (caller releases). */
static OM_uint32
ini_step(struct initiator *in, const uint8_t *tok, size_t len, gss_buffer_desc *out)
{
	gss_buffer_desc ib = { len, (void *)tok };
	OM_uint32 min, flags = 0;

	out->length = 0;
	out->value = NULL;
	return gss_init_sec_context(&min, GSS_C_NO_CREDENTIAL, &in->ctx, in->target,
	    in->mech, GSS_C_MUTUAL_FLAG, 0, in->has_cb ? &in->cb : GSS_C_NO_CHANNEL_BINDINGS,
	    tok ? &ib : GSS_C_NO_BUFFER, NULL, out, &flags, NULL);
}

static void
ini_end(struct initiator *in)
{
	OM_uint32 min;

	if (in->ctx != GSS_C_NO_CONTEXT)
		gss_delete_sec_context(&min, &in->ctx, GSS_C_NO_BUFFER);
	gss_release_name(&min, &in->target);
}

/* First SPNEGO token from MIT's initiator for target "HTTP@host". */
static void
spnego_token(struct initiator *in, const char *target, const char *cb,
    gss_buffer_desc *tok)
{
	ini_start(in, target, &oid_spnego, cb);
	assert_int_equal(ini_step(in, NULL, 0, tok), GSS_S_CONTINUE_NEEDED);
	assert_true(tok->length > 0);
}

static struct oc_gss *
acceptor(const char *keytab, const char *spn, int cb_mode)
{
	struct oc_gss_config cfg = { keytab, spn, cb_mode };
	struct oc_gss *g = NULL;

	assert_int_equal(oc_gss_new(&cfg, &g), OC_OK);
	assert_non_null(g);
	return g;
}

/* One-leg accept of a fresh SPNEGO token; returns oc_gss_accept's result. */
static int
accept_one(struct oc_gss *g, const char *target, const char *ini_cb,
    const char *acc_cb, struct oc_identity *id, int check_mutual)
{
	struct initiator in;
	gss_buffer_desc tok, fin;
	struct oc_gss_ctx *ctx = NULL;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int complete = -1, r;
	OM_uint32 min;

	spnego_token(&in, target, ini_cb, &tok);
	r = oc_gss_accept(g, &ctx, tok.value, tok.length, (const uint8_t *)acc_cb,
	    acc_cb ? strlen(acc_cb) : 0, &out, &outlen, id, &complete);
	assert_null(ctx);       /* one leg: done or failed, no state left */
	if (r == OC_OK) {
		assert_int_equal(complete, 1);
		/* Mutual authentication: the acceptor's token completes the initiator. */
		assert_non_null(out);
		assert_true(outlen > 0);
		if (check_mutual) {
			assert_int_equal(ini_step(&in, out, outlen, &fin), GSS_S_COMPLETE);
			gss_release_buffer(&min, &fin);
		}
	} else {
		assert_int_equal(complete, 0);
		assert_null(out);
	}
	free(out);
	gss_release_buffer(&min, &tok);
	ini_end(&in);
	return r;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_success_mutual(void **state)
{
	struct oc_gss *g = acceptor(http_keytab, "HTTP/localhost", OC_GSS_CB_WHEN_PRESENT);
	struct oc_identity id = { 0 };

	(void)state;
	assert_int_equal(accept_one(g, "HTTP@localhost", NULL, NULL, &id, 1), OC_OK);
	assert_string_equal(id.name, "alice@EXAMPLE.TEST");
	assert_int_equal(id.auth_type, OC_AUTH_KERBEROS);
	assert_int_equal(id.kind, OC_ACCOUNT_USER);
	assert_null(id.sid);            /* MIT's KDC issues no PAC */
	assert_int_equal(id.groups.n, 0);
	/* A second login with a new token is not a replay. */
	assert_int_equal(accept_one(g, "HTTP@localhost", NULL, NULL, &id, 1), OC_OK);
	assert_string_equal(id.name, "alice@EXAMPLE.TEST");
	oc_identity_clear(&id);
	oc_gss_free(g);

	/* spn NULL: any key of the keytab (HTTP/127.0.0.1 here). */
	g = acceptor(http_keytab, NULL, OC_GSS_CB_OFF);
	assert_int_equal(accept_one(g, "HTTP@127.0.0.1", NULL, NULL, &id, 1), OC_OK);
	assert_string_equal(id.name, "alice@EXAMPLE.TEST");
	oc_identity_clear(&id);
	oc_gss_free(g);
}

/* A machine account ("name$@REALM") is an identity of kind COMPUTER. */
static void
test_machine_account(void **state)
{
	struct oc_gss *g = acceptor(http_keytab, "HTTP/localhost", OC_GSS_CB_OFF);
	struct oc_identity id = { 0 };
	char ccname[300], args[400], *saved;

	(void)state;
	snprintf(ccname, sizeof(ccname), "FILE:%s/machine", kdc_dir);
	snprintf(args, sizeof(args), "'%s'", ccname);
	assert_int_equal(kdc_cmd("kinit-machine", args), 0);
	saved = strdup(getenv("KRB5CCNAME"));
	assert_non_null(saved);
	setenv("KRB5CCNAME", ccname, 1);
	assert_int_equal(accept_one(g, "HTTP@localhost", NULL, NULL, &id, 1), OC_OK);
	setenv("KRB5CCNAME", saved, 1);
	free(saved);
	assert_string_equal(id.name, "client$@EXAMPLE.TEST");
	assert_int_equal(id.kind, OC_ACCOUNT_COMPUTER);
	assert_int_equal(id.auth_type, OC_AUTH_KERBEROS);
	oc_identity_clear(&id);
	oc_gss_free(g);
}

/* ---- minimal DER for hand-built SPNEGO tokens (RFC 4178) ---- */

struct der {
	uint8_t d[16384];
	size_t n;
};

static void
der_tlv(struct der *o, uint8_t tag, const uint8_t *v, size_t len)
{
	assert_true(o->n + len + 4 <= sizeof(o->d));
	o->d[o->n++] = tag;
	if (len < 0x80) {
		o->d[o->n++] = (uint8_t)len;
	} else if (len < 0x100) {
		o->d[o->n++] = 0x81;
		o->d[o->n++] = (uint8_t)len;
	} else {
		assert_true(len < 0x10000);
		o->d[o->n++] = 0x82;
		o->d[o->n++] = (uint8_t)(len >> 8);
		o->d[o->n++] = (uint8_t)len;
	}
	memcpy(o->d + o->n, v, len);
	o->n += len;
}

/* Wrap: out = tag(len(in)) in. */
static void
der_wrap(struct der *out, uint8_t tag, const struct der *in)
{
	out->n = 0;
	der_tlv(out, tag, in->d, in->n);
}

/* Read one TLV at p (within end); returns the content and its length. */
static const uint8_t *
der_read(const uint8_t *p, const uint8_t *end, uint8_t *tag, size_t *len)
{
	size_t l, k;

	assert_true(end - p >= 2);
	*tag = p[0];
	l = p[1];
	p += 2;
	if (l & 0x80) {
		k = l & 0x7f;
		assert_true(k >= 1 && k <= 2 && (size_t)(end - p) >= k);
		for (l = 0; k > 0; k--)
			l = (l << 8) | *p++;
	}
	assert_true((size_t)(end - p) >= l);
	*len = l;
	return p;
}

/* NegTokenResp [1] -> its [0] negState and [2] responseToken (or NULL). */
static void
negtokenresp(const uint8_t *p, size_t n, int *state, const uint8_t **resp, size_t *rlen)
{
	const uint8_t *end = p + n, *c, *f;
	uint8_t tag;
	size_t len, flen;

	*state = -1;
	*resp = NULL;
	*rlen = 0;
	c = der_read(p, end, &tag, &len);
	assert_int_equal(tag, 0xa1);
	c = der_read(c, c + len, &tag, &len);
	assert_int_equal(tag, 0x30);
	end = c + len;
	while (c < end) {
		f = der_read(c, end, &tag, &flen);
		if (tag == 0xa0) {
			const uint8_t *e = der_read(f, f + flen, &tag, &len);
			assert_int_equal(tag, 0x0a);
			*state = e[0];
		} else if (tag == 0xa2) {
			*resp = der_read(f, f + flen, &tag, rlen);
			assert_int_equal(tag, 0x04);
		}
		c = f + flen;
	}
}

/*
 * Multi-leg: a NegTokenInit that proposes krb5 without an optimistic token
 * (as an initiator does when its first choice is not the acceptor's). Leg 1
 * answers accept-incomplete; leg 2 carries the krb5 AP-REQ in a NegTokenResp;
 * the caller calls until complete and verifies the final mutual token.
 */
static void
test_multi_leg(void **state)
{
	struct oc_gss *g = acceptor(http_keytab, "HTTP/localhost", OC_GSS_CB_OFF);
	struct oc_identity id = { 0 };
	struct oc_gss_ctx *ctx = NULL;
	struct initiator in;
	struct der a, b, tok, first;
	gss_buffer_desc krb, fin;
	uint8_t *out = NULL;
	size_t outlen = 0, rlen;
	const uint8_t *resp;
	int complete = 0, neg, legs = 0;
	OM_uint32 min;

	(void)state;
	/* NegTokenInit ::= [0] SEQ { mechTypes [0] SEQ OF OID } in the GSS framing. */
	a.n = 0;
	der_tlv(&a, 0x06, oid_krb5.elements, oid_krb5.length);
	der_wrap(&b, 0x30, &a);         /* MechTypeList */
	der_wrap(&a, 0xa0, &b);         /* mechTypes [0] */
	der_wrap(&b, 0x30, &a);         /* NegTokenInit */
	der_wrap(&a, 0xa0, &b);         /* NegotiationToken negTokenInit [0] */
	tok.n = 0;
	der_tlv(&tok, 0x06, oid_spnego.elements, oid_spnego.length);
	memcpy(tok.d + tok.n, a.d, a.n);
	tok.n += a.n;
	first = tok;
	der_wrap(&a, 0x60, &tok);

	ini_start(&in, "HTTP@localhost", &oid_krb5, NULL);
	assert_int_equal(ini_step(&in, NULL, 0, &krb), GSS_S_CONTINUE_NEEDED);

	while (!complete) {
		assert_true(++legs <= 3);
		assert_int_equal(oc_gss_accept(g, &ctx, a.d, a.n, NULL, 0, &out,
		    &outlen, &id, &complete), OC_OK);
		assert_non_null(out);
		negtokenresp(out, outlen, &neg, &resp, &rlen);
		if (!complete) {
			assert_non_null(ctx);
			assert_int_equal(neg, 1);       /* accept-incomplete */
			assert_null(resp);
			/* Next leg: NegTokenResp { responseToken [2] krb5 AP-REQ } */
			b.n = 0;
			der_tlv(&b, 0x04, krb.value, krb.length);
			der_wrap(&tok, 0xa2, &b);
			der_wrap(&b, 0x30, &tok);
			der_wrap(&a, 0xa1, &b);
		} else {
			assert_null(ctx);
			assert_int_equal(neg, 0);       /* accept-completed */
			assert_non_null(resp);
			assert_int_equal(ini_step(&in, resp, rlen, &fin), GSS_S_COMPLETE);
			gss_release_buffer(&min, &fin);
		}
		free(out);
		out = NULL;
	}
	assert_int_equal(legs, 2);
	assert_string_equal(id.name, "alice@EXAMPLE.TEST");
	gss_release_buffer(&min, &krb);
	ini_end(&in);

	/* An abandoned exchange: the caller frees the state of leg 1. */
	der_wrap(&a, 0x60, &first);
	assert_int_equal(oc_gss_accept(g, &ctx, a.d, a.n, NULL, 0, &out, &outlen,
	    &id, &complete), OC_OK);
	assert_int_equal(complete, 0);
	assert_non_null(ctx);
	free(out);
	oc_gss_ctx_free(ctx);
	oc_gss_ctx_free(NULL);
	oc_identity_clear(&id);
	oc_gss_free(g);
}

static void
test_wrong_keytab(void **state)
{
	struct oc_gss_config cfg = { other_keytab, "HTTP/localhost", OC_GSS_CB_OFF };
	struct oc_gss_config missing = { "/nonexistent/http.keytab", NULL, OC_GSS_CB_OFF };
	struct oc_gss_config bad = { http_keytab, NULL, 7 };
	struct oc_gss *g = NULL;
	struct oc_identity id = { 0 };
	int r;

	(void)state;
	/*
	 * A keytab without the configured SPN, or no keytab at all: refused at
	 * start. (MIT 1.20 leaks the acceptor principal it built when the keytab
	 * lacks it -- 2 x 40 bytes inside gss_acquire_cred_from -- so LeakSanitizer
	 * looks away for that one call.)
	 */
	lsan_off();
	r = oc_gss_new(&cfg, &g);
	lsan_on();
	assert_int_equal(r, OC_ERR_CONFIG);
	assert_null(g);
	assert_int_equal(oc_gss_new(&missing, &g), OC_ERR_CONFIG);
	assert_null(g);
	assert_int_equal(oc_gss_new(&bad, &g), OC_ERR_INVALID);
	cfg.keytab = NULL;
	assert_int_equal(oc_gss_new(&cfg, &g), OC_ERR_INVALID);

	/* The keytab of another principal, any key: the ticket cannot be decrypted. */
	g = acceptor(other_keytab, NULL, OC_GSS_CB_OFF);
	assert_int_equal(accept_one(g, "HTTP@localhost", NULL, NULL, &id, 0), OC_ERR_AUTH);
	assert_null(id.name);
	oc_gss_free(g);
}

static void
test_wrong_spn(void **state)
{
	struct oc_gss *g = acceptor(http_keytab, "HTTP/localhost", OC_GSS_CB_OFF);
	struct oc_identity id = { 0 };

	(void)state;
	/* The keytab holds HTTP/127.0.0.1 too, but the acceptor is HTTP/localhost only. */
	assert_int_equal(accept_one(g, "HTTP@127.0.0.1", NULL, NULL, &id, 0), OC_ERR_AUTH);
	oc_gss_free(g);
	g = acceptor(http_keytab, "HTTP/127.0.0.1", OC_GSS_CB_OFF);
	assert_int_equal(accept_one(g, "HTTP@127.0.0.1", NULL, NULL, &id, 1), OC_OK);
	oc_identity_clear(&id);
	oc_gss_free(g);
	/* A principal name with the realm. */
	g = acceptor(http_keytab, "HTTP/localhost@EXAMPLE.TEST", OC_GSS_CB_OFF);
	assert_int_equal(accept_one(g, "HTTP@localhost", NULL, NULL, &id, 1), OC_OK);
	assert_int_equal(accept_one(g, "HTTP@127.0.0.1", NULL, NULL, &id, 0), OC_ERR_AUTH);
	oc_identity_clear(&id);
	oc_gss_free(g);
}

static void
test_replay(void **state)
{
	struct oc_gss *g = acceptor(http_keytab, "HTTP/localhost", OC_GSS_CB_OFF);
	struct oc_identity id = { 0 };
	struct oc_gss_ctx *ctx = NULL;
	struct initiator in;
	gss_buffer_desc tok;
	uint8_t *out = NULL;
	size_t outlen;
	int complete;
	OM_uint32 min;

	(void)state;
	spnego_token(&in, "HTTP@localhost", NULL, &tok);
	assert_int_equal(oc_gss_accept(g, &ctx, tok.value, tok.length, NULL, 0,
	    &out, &outlen, &id, &complete), OC_OK);
	assert_int_equal(complete, 1);
	free(out);
	oc_identity_clear(&id);
	/* The same bytes again: the replay cache refuses them. */
	assert_int_equal(oc_gss_accept(g, &ctx, tok.value, tok.length, NULL, 0,
	    &out, &outlen, &id, &complete), OC_ERR_AUTH);
	assert_int_equal(complete, 0);
	assert_null(out);
	assert_null(id.name);
	/* Also through a second acceptor of the same keytab (one replay cache per user). */
	oc_gss_free(g);
	g = acceptor(http_keytab, NULL, OC_GSS_CB_OFF);
	assert_int_equal(oc_gss_accept(g, &ctx, tok.value, tok.length, NULL, 0,
	    &out, &outlen, &id, &complete), OC_ERR_AUTH);
	gss_release_buffer(&min, &tok);
	ini_end(&in);
	oc_gss_free(g);
}

/*
 * Raw krb5 GSS token (RFC 4121 framing, TOK_ID 01 00) around an AP-REQ made
 * from the given ticket, with the GSS checksum asking for mutual auth. (Used
 * for the expired case: the token outlives the ticket; MIT's initiator would
 * not even try with an expired ticket.)
 */
static void
raw_apreq(krb5_context kc, krb5_creds *creds, struct der *o)
{
	krb5_auth_context ac = NULL;
	krb5_data d = { 0 };
	/* RFC 4121 4.1.1 checksum (type 0x8003): Lgth 16, Bnd (none), Flags = mutual */
	static char gss_cksum[24] = { 16, 0, 0, 0, [20] = GSS_C_MUTUAL_FLAG };
	krb5_data cksum = { .length = sizeof(gss_cksum), .data = gss_cksum };
	struct der t;

	assert_int_equal(krb5_auth_con_init(kc, &ac), 0);
	assert_int_equal(krb5_auth_con_set_req_cksumtype(kc, ac, 0x8003), 0);
	assert_int_equal(krb5_mk_req_extended(kc, &ac, AP_OPTS_MUTUAL_REQUIRED, &cksum,
	    creds, &d), 0);
	t.n = 0;
	der_tlv(&t, 0x06, oid_krb5.elements, oid_krb5.length);
	assert_true(t.n + 2 + d.length <= sizeof(t.d));
	t.d[t.n++] = 0x01;
	t.d[t.n++] = 0x00;
	memcpy(t.d + t.n, d.data, d.length);
	t.n += d.length;
	der_wrap(o, 0x60, &t);
	krb5_free_data_contents(kc, &d);
	krb5_auth_con_free(kc, ac);
}

static void
test_expired_ticket(void **state)
{
	struct oc_gss *g = acceptor(http_keytab, "HTTP/localhost", OC_GSS_CB_OFF);
	struct oc_identity id = { 0 };
	struct oc_gss_ctx *ctx = NULL;
	krb5_context kc = NULL;
	krb5_ccache cc = NULL;
	krb5_creds mcreds, *creds = NULL;
	struct der tok, late;
	char ccname[300];
	uint8_t *out = NULL;
	size_t outlen;
	int complete;
	time_t wait_until;

	(void)state;
	snprintf(ccname, sizeof(ccname), "FILE:%s/short", kdc_dir);
	{
		char args[400];
		snprintf(args, sizeof(args), "'%s' 2s", ccname);
		assert_int_equal(kdc_cmd("kinit", args), 0);
	}
	assert_int_equal(krb5_init_context(&kc), 0);
	assert_int_equal(krb5_cc_resolve(kc, ccname, &cc), 0);
	memset(&mcreds, 0, sizeof(mcreds));
	assert_int_equal(krb5_cc_get_principal(kc, cc, &mcreds.client), 0);
	assert_int_equal(krb5_parse_name(kc, "HTTP/localhost@EXAMPLE.TEST", &mcreds.server), 0);
	assert_int_equal(krb5_get_credentials(kc, 0, cc, &mcreds, &creds), 0);
	assert_true(creds->times.endtime - creds->times.starttime <= 2);

	/*
	 * Two tokens made now, while the ticket is valid. The first is accepted;
	 * the second, presented past the ticket's end (and the clock-skew
	 * allowance), is refused: MIT checks the ticket's times before the
	 * authenticator's ("Ticket expired" in the log).
	 */
	raw_apreq(kc, creds, &tok);
	raw_apreq(kc, creds, &late);
	assert_int_equal(oc_gss_accept(g, &ctx, tok.d, tok.n, NULL, 0, &out,
	    &outlen, &id, &complete), OC_OK);
	assert_int_equal(complete, 1);
	assert_non_null(out);   /* the AP-REP: the checksum asked for mutual auth */
	assert_string_equal(id.name, "alice@EXAMPLE.TEST");
	free(out);
	out = NULL;
	oc_identity_clear(&id);

	wait_until = (time_t)creds->times.endtime + SKEW + 1;
	while (time(NULL) <= wait_until)
		sleep(1);
	assert_int_equal(oc_gss_accept(g, &ctx, late.d, late.n, NULL, 0, &out,
	    &outlen, &id, &complete), OC_ERR_AUTH);
	assert_null(out);
	assert_int_equal(complete, 0);
	assert_null(id.name);

	krb5_free_creds(kc, creds);
	krb5_free_cred_contents(kc, &mcreds);
	krb5_cc_close(kc, cc);
	krb5_free_context(kc);
	oc_gss_free(g);
}

/* Channel binding modes: initiator's bindings x acceptor's bindings x mode. */
static void
test_channel_binding(void **state)
{
	static const struct {
		int mode;
		const char *ini, *acc;
		int want;
	} t[] = {
		{ OC_GSS_CB_WHEN_PRESENT, CB_A, CB_A, OC_OK },
		{ OC_GSS_CB_WHEN_PRESENT, CB_A, CB_B, OC_ERR_AUTH },
		{ OC_GSS_CB_WHEN_PRESENT, NULL, CB_A, OC_OK },        /* absent: accepted */
		{ OC_GSS_CB_WHEN_PRESENT, CB_A, NULL, OC_OK },        /* no TLS: nothing to check */
		{ OC_GSS_CB_REQUIRED,     CB_A, CB_A, OC_OK },
		{ OC_GSS_CB_REQUIRED,     CB_A, CB_B, OC_ERR_AUTH },
		{ OC_GSS_CB_REQUIRED,     NULL, CB_A, OC_ERR_AUTH },  /* absent: refused */
		{ OC_GSS_CB_REQUIRED,     CB_A, NULL, OC_ERR_AUTH },  /* no TLS: refused */
		{ OC_GSS_CB_OFF,          CB_A, CB_B, OC_OK },        /* not checked */
		{ OC_GSS_CB_OFF,          NULL, CB_A, OC_OK },
	};
	struct oc_identity id = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct oc_gss *g = acceptor(http_keytab, "HTTP/localhost", t[i].mode);

		print_message("case %zu: mode %d initiator %s acceptor %s\n", i, t[i].mode,
		    t[i].ini ? t[i].ini + 21 : "-", t[i].acc ? t[i].acc + 21 : "-");
		assert_int_equal(accept_one(g, "HTTP@localhost", t[i].ini, t[i].acc, &id,
		    t[i].want == OC_OK), t[i].want);
		if (t[i].want == OC_OK)
			assert_string_equal(id.name, "alice@EXAMPLE.TEST");
		else
			assert_null(id.name);
		oc_identity_clear(&id);
		oc_gss_free(g);
	}
}

/*
 * What MIT itself does (krb5 1.20), which the modes above build on: when the
 * acceptor passes bindings and the initiator sent none, MIT accepts and only
 * leaves GSS_C_CHANNEL_BOUND_FLAG unset; matching bindings set the flag;
 * different ones fail with GSS_S_BAD_BINDINGS.
 */
static void
test_mit_channel_binding_pin(void **state)
{
	static const struct {
		const char *ini;
		OM_uint32 maj;
		int bound;
	} t[] = {
		{ NULL, GSS_S_COMPLETE, 0 },
		{ CB_A, GSS_S_COMPLETE, 1 },
		{ CB_B, GSS_S_BAD_BINDINGS, 0 },
	};
	gss_key_value_element_desc kv = { "keytab", http_keytab };
	gss_key_value_set_desc store = { 1, &kv };
	gss_OID_set_desc mechs = { 1, &oid_spnego };
	gss_cred_id_t cred = GSS_C_NO_CREDENTIAL;
	struct gss_channel_bindings_struct cb;
	OM_uint32 maj, min;

	(void)state;
	memset(&cb, 0, sizeof(cb));
	cb.application_data.length = strlen(CB_A);
	cb.application_data.value = (void *)CB_A;
	assert_int_equal(gss_acquire_cred_from(&min, GSS_C_NO_NAME, GSS_C_INDEFINITE,
	    &mechs, GSS_C_ACCEPT, &store, &cred, NULL, NULL), GSS_S_COMPLETE);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct initiator in;
		gss_buffer_desc tok, out = GSS_C_EMPTY_BUFFER;
		gss_ctx_id_t ac = GSS_C_NO_CONTEXT;
		OM_uint32 flags = 0;

		spnego_token(&in, "HTTP@localhost", t[i].ini, &tok);
		maj = gss_accept_sec_context(&min, &ac, cred, &tok, &cb, NULL, NULL,
		    &out, &flags, NULL, NULL);
		assert_int_equal(GSS_ROUTINE_ERROR(maj) | (maj & GSS_S_CONTINUE_NEEDED),
		    t[i].maj);
		if (maj == GSS_S_COMPLETE)
			assert_int_equal((flags & GSS_C_CHANNEL_BOUND_FLAG) != 0, t[i].bound);
		gss_release_buffer(&min, &out);
		gss_release_buffer(&min, &tok);
		if (ac != GSS_C_NO_CONTEXT)
			gss_delete_sec_context(&min, &ac, GSS_C_NO_BUFFER);
		ini_end(&in);
	}
	gss_release_cred(&min, &cred);
}

/* Bounds and malformed input, before and inside GSS. */
static void
test_bad_input(void **state)
{
	struct oc_gss *g = acceptor(http_keytab, NULL, OC_GSS_CB_WHEN_PRESENT);
	struct oc_identity id = { 0 };
	struct oc_gss_ctx *ctx = NULL;
	static uint8_t big[OC_GSS_TOKEN_MAX + 1];
	static const struct {
		const char *what;
		const uint8_t *tok;
		size_t len;
		int want;
	} t[] = {
		{ "empty", (const uint8_t *)"", 0, OC_ERR_AUTH_MISSING },
		{ "one byte", (const uint8_t *)"\x60", 1, OC_ERR_AUTH },
		{ "text", (const uint8_t *)"Negotiate", 9, OC_ERR_AUTH },
		{ "SPNEGO header only", (const uint8_t *)"\x60\x08\x06\x06\x2b\x06\x01\x05\x05\x02", 10, OC_ERR_AUTH },
		{ "length past the end", (const uint8_t *)"\x60\x7f\x06\x06\x2b\x06\x01\x05\x05\x02", 10, OC_ERR_AUTH },
		{ "unknown mech", (const uint8_t *)"\x60\x0b\x06\x09\x2b\x06\x01\x04\x01\x82\x37\x02\x02\x0a", 13, OC_ERR_AUTH },
		{ "over the limit", big, sizeof(big), OC_ERR_LIMIT },
	};
	uint8_t *out = NULL;
	size_t outlen = 1;
	int complete = 1;

	(void)state;
	memset(big, 0x60, sizeof(big));
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		print_message("case %s\n", t[i].what);
		assert_int_equal(oc_gss_accept(g, &ctx, t[i].tok, t[i].len, NULL, 0,
		    &out, &outlen, &id, &complete), t[i].want);
		assert_null(ctx);
		assert_null(out);
		assert_int_equal(outlen, 0);
		assert_int_equal(complete, 0);
	}
	/* Channel-binding data: length without data, or over the limit. */
	assert_int_equal(oc_gss_accept(g, &ctx, (const uint8_t *)"\x60", 1, NULL, 5,
	    &out, &outlen, &id, &complete), OC_ERR_INVALID);
	assert_int_equal(oc_gss_accept(g, &ctx, (const uint8_t *)"\x60", 1, big,
	    OC_GSS_CB_MAX + 1, &out, &outlen, &id, &complete), OC_ERR_INVALID);
	assert_int_equal(oc_gss_accept(NULL, &ctx, (const uint8_t *)"\x60", 1, NULL, 0,
	    &out, &outlen, &id, &complete), OC_ERR_INVALID);
	oc_gss_free(g);
	oc_gss_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success_mutual),
		cmocka_unit_test(test_machine_account),
		cmocka_unit_test(test_multi_leg),
		cmocka_unit_test(test_wrong_keytab),
		cmocka_unit_test(test_wrong_spn),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_channel_binding),
		cmocka_unit_test(test_mit_channel_binding_pin),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_expired_ticket),
	};

	return cmocka_run_group_tests(tests, setup_kdc, teardown_kdc);
}
