/*
 * The authentication service (src/auth/authsvc*.c), in-process and through
 * the auth process, against a temporary embedded directory and a throwaway
 * MIT KDC on loopback (tests/lib/mit-kdc.sh; a missing KDC is a failure):
 * both give the same verdicts; the remote client carries 8 threads at once;
 * the auth process dying wakes every waiter with OC_ERR_IPC; malformed
 * frames are refused and the auth process keeps serving.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gssapi/gssapi.h>
#include <gssapi/gssapi_krb5.h>

#include "auth/authsvc.h"
#include "auth/authsvc_int.h"
#include "auth/gss.h"
#include "common/limits.h"
#include "common/log.h"
#include "directory/directory.h"
#include "ipc/frame.h"
#include "ipc/ipc_identity.h"

int main(void);

static char tdir[64];
static char dbpath[128];
static char kdc_dir[64];
static char http_keytab[128];

static gss_OID_desc oid_spnego = { 6, (void *)"\x2b\x06\x01\x05\x05\x02" };
static gss_OID_desc oid_krb5 = { 9, (void *)"\x2a\x86\x48\x86\xf7\x12\x01\x02\x02" };

static const char CB_A[] = "tls-server-end-point:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
static const char CB_B[] = "tls-server-end-point:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

/* ---- fixtures: directory, KDC ------------------------------------------ */

static int
kdc_cmd(const char *verb)
{
	char cmd[512];
	const char *src = getenv("OC_SOURCE_DIR");

	snprintf(cmd, sizeof(cmd), "bash '%s/tests/lib/mit-kdc.sh' %s '%s'",
	    src ? src : ".", verb, kdc_dir);
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
setup(void **state)
{
	struct oc_directory *dir = NULL;
	struct oc_identity alice = { 0 }, bob = { 0 };
	char buf[256];
	int r, port;

	(void)state;
	oc_log_init("test_auth_svc", getenv("OC_TEST_VERBOSE") ? OC_LOG_DEBUG : OC_LOG_WARN);
	strcpy(tdir, "/tmp/oc-svc-XXXXXX");
	if (mkdtemp(tdir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/directory.db", tdir);
	if (oc_dir_open(dbpath, 1, &dir) != OC_OK)
		return -1;
	alice.name = "alice";
	alice.upn = "alice@example.test";
	bob.name = "bob";
	r = oc_dir_account_add(dir, &alice, "correct horse");
	if (r == OC_OK)
		r = oc_dir_account_add(dir, &bob, "bob's secret");
	if (r == OC_OK)
		r = oc_dir_group_add(dir, "staff");
	if (r == OC_OK)
		r = oc_dir_group_add_member(dir, "staff", "alice");
	oc_dir_close(dir);
	if (r != OC_OK)
		return -1;

	snprintf(kdc_dir, sizeof(kdc_dir), "%s/kdc", tdir);
	if ((port = free_port()) == 0)
		return -1;
	snprintf(buf, sizeof(buf), "%d", port);
	setenv("MKDC_PORT", buf, 1);
	if (kdc_cmd("start") != 0)
		return -1;
	snprintf(buf, sizeof(buf), "%s/krb5.conf", kdc_dir);
	setenv("KRB5_CONFIG", buf, 1);
	snprintf(buf, sizeof(buf), "FILE:%s/ccache", kdc_dir);
	setenv("KRB5CCNAME", buf, 1);
	setenv("KRB5RCACHEDIR", kdc_dir, 1);
	unsetenv("KRB5_KTNAME");
	snprintf(http_keytab, sizeof(http_keytab), "%s/http.keytab", kdc_dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];
	int stopped;

	(void)state;
	stopped = kdc_cmd("stop");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tdir);
	if (system(cmd) != 0 || stopped != 0)
		return -1;
	return 0;
}

/* ---- the two implementations ------------------------------------------- */

/* The auth process runs in a thread here (so ASan sees it), on sv[1]. */
struct svc {
	struct oc_authsvc *s;
	int remote;
	int sv[2];
	pthread_t th;
	struct oc_authsvc_config cfg;
	int serve_r;
};

static void *
serve_thread(void *arg)
{
	struct svc *x = arg;

	x->serve_r = oc_authsvc_serve(&x->cfg, x->sv[1]);
	return NULL;
}

static void
svc_open(struct svc *x, int remote, const char *keytab, int cb_mode)
{
	memset(x, 0, sizeof(*x));
	x->remote = remote;
	x->cfg.dir_path = dbpath;
	x->cfg.keytab = keytab;
	x->cfg.spn = "HTTP/localhost";
	x->cfg.channel_binding = cb_mode;
	if (!remote) {
		assert_int_equal(oc_authsvc_local_new(&x->cfg, &x->s), OC_OK);
		return;
	}
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, x->sv), 0);
	assert_int_equal(pthread_create(&x->th, NULL, serve_thread, x), 0);
	assert_int_equal(oc_authsvc_remote_new(x->sv[0], &x->s), OC_OK);
}

static void
svc_close(struct svc *x)
{
	oc_authsvc_free(x->s);
	if (x->remote) {
		close(x->sv[0]);        /* EOF: the auth process returns */
		assert_int_equal(pthread_join(x->th, NULL), 0);
		assert_int_equal(x->serve_r, OC_OK);
		close(x->sv[1]);
	}
}

/* ---- passwords ---------------------------------------------------------- */

static char long_login[OC_USERNAME_MAX + 2];
static char long_password[OC_PASSWORD_MAX + 2];

static void
test_password_verdicts(void **state)
{
	static const struct {
		const char *login, *password;
		int want;
		const char *name;
	} tv[] = {
		{ "alice", "correct horse", OC_OK, "alice" },
		{ "alice@example.test", "correct horse", OC_OK, "alice" },
		{ "bob", "bob's secret", OC_OK, "bob" },
		{ "alice", "Correct horse", OC_ERR_AUTH, NULL },        /* wrong */
		{ "alice", "bob's secret", OC_ERR_AUTH, NULL },
		{ "carol", "correct horse", OC_ERR_AUTH, NULL },        /* unknown */
		{ "alice", "", OC_ERR_AUTH, NULL },
		{ "", "correct horse", OC_ERR_AUTH, NULL },
		{ NULL, "correct horse", OC_ERR_AUTH, NULL },
		{ "alice", NULL, OC_ERR_AUTH, NULL },
		{ long_login, "correct horse", OC_ERR_AUTH, NULL },
		{ "alice", long_password, OC_ERR_AUTH, NULL },
	};

	(void)state;
	memset(long_login, 'a', sizeof(long_login) - 1);
	memset(long_password, 'p', sizeof(long_password) - 1);
	for (int remote = 0; remote <= 1; remote++) {
		struct svc x;

		svc_open(&x, remote, NULL, OC_GSS_CB_OFF);
		assert_int_equal(oc_authsvc_has_kerberos(x.s), 0);
		for (size_t i = 0; i < sizeof(tv) / sizeof(tv[0]); i++) {
			struct oc_identity id = { 0 };
			int r = oc_authsvc_password(x.s, tv[i].login, tv[i].password, &id);

			if (r != tv[i].want)
				fail_msg("%s case %zu: %s, want %s", remote ? "remote" : "local",
				    i, oc_strerror(r), oc_strerror(tv[i].want));
			if (r == OC_OK) {
				assert_string_equal(id.name, tv[i].name);
				assert_int_equal(id.auth_type, OC_AUTH_PASSWORD);
				assert_int_equal(id.kind, OC_ACCOUNT_USER);
				assert_int_equal(oc_strlist_contains(&id.groups, "staff"),
				    strcmp(tv[i].name, "alice") == 0);
				if (strcmp(tv[i].name, "alice") == 0)
					assert_string_equal(id.upn, "alice@example.test");
			} else {
				assert_null(id.name);
				assert_int_equal(id.groups.n, 0);
			}
			oc_identity_clear(&id);
		}
		svc_close(&x);
	}
}

/* ---- SPNEGO -------------------------------------------------------------- */

struct initiator {
	gss_ctx_id_t ctx;
	gss_name_t target;
	gss_OID mech;
	struct gss_channel_bindings_struct cb;
	int has_cb;
};

static void
ini_start(struct initiator *in, gss_OID mech, const char *cb)
{
	gss_buffer_desc nb = { 14, (void *)"HTTP@localhost" };
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

/*
 * One-leg SPNEGO login (ini_cb/acc_cb: channel bindings of each side);
 * returns the service's verdict; on success checks the mutual token and the
 * identity. *replay (if not NULL) receives a copy of the token.
 */
static int
spnego_login(struct oc_authsvc *s, const char *ini_cb, const char *acc_cb,
    gss_buffer_desc *replay)
{
	struct initiator in;
	struct oc_identity id = { 0 };
	gss_buffer_desc tok, fin;
	uint8_t *out = NULL;
	size_t outlen = 0;
	uint64_t ctx = 0;
	int complete = -1, r;
	OM_uint32 min;

	ini_start(&in, &oid_spnego, ini_cb);
	assert_int_equal(ini_step(&in, NULL, 0, &tok), GSS_S_CONTINUE_NEEDED);
	r = oc_authsvc_negotiate(s, &ctx, tok.value, tok.length, (const uint8_t *)acc_cb,
	    acc_cb ? strlen(acc_cb) : 0, &out, &outlen, &id, &complete);
	assert_int_equal(ctx, 0);       /* one leg: nothing kept */
	if (r == OC_OK) {
		assert_int_equal(complete, 1);
		assert_non_null(out);
		assert_int_equal(ini_step(&in, out, outlen, &fin), GSS_S_COMPLETE);
		gss_release_buffer(&min, &fin);
		assert_string_equal(id.name, "alice@EXAMPLE.TEST");
		assert_int_equal(id.auth_type, OC_AUTH_KERBEROS);
		assert_int_equal(id.kind, OC_ACCOUNT_USER);
	} else {
		assert_int_equal(complete, 0);
		assert_null(out);
		assert_null(id.name);
	}
	if (replay != NULL) {
		replay->length = tok.length;
		assert_non_null(replay->value = malloc(tok.length));
		memcpy(replay->value, tok.value, tok.length);
	}
	free(out);
	oc_identity_clear(&id);
	gss_release_buffer(&min, &tok);
	ini_end(&in);
	return r;
}

static int
negotiate_raw(struct oc_authsvc *s, uint64_t *ctx, const void *tok, size_t len,
    int *complete, uint8_t **out, size_t *outlen, struct oc_identity *id)
{
	return oc_authsvc_negotiate(s, ctx, tok, len, NULL, 0, out, outlen, id, complete);
}

static void
test_negotiate_one_leg(void **state)
{
	(void)state;
	for (int remote = 0; remote <= 1; remote++) {
		struct svc x, y, z;
		struct oc_identity id = { 0 };
		gss_buffer_desc replay = { 0, NULL };
		uint8_t *out = NULL;
		size_t outlen = 0;
		uint64_t ctx;
		int complete = 0;

		svc_open(&x, remote, http_keytab, OC_GSS_CB_WHEN_PRESENT);
		assert_int_equal(oc_authsvc_has_kerberos(x.s), 1);
		assert_int_equal(spnego_login(x.s, NULL, NULL, &replay), OC_OK);
		/* the same token again: MIT's replay cache refuses it */
		ctx = 0;
		assert_int_equal(negotiate_raw(x.s, &ctx, replay.value, replay.length,
		    &complete, &out, &outlen, &id), OC_ERR_AUTH);
		assert_int_equal(ctx, 0);
		assert_null(out);
		assert_null(id.name);
		free(replay.value);
		/* bindings cross the process boundary: matching, mismatched */
		assert_int_equal(spnego_login(x.s, CB_A, CB_A, NULL), OC_OK);
		assert_int_equal(spnego_login(x.s, CB_A, CB_B, NULL), OC_ERR_AUTH);
		/* garbage, empty and oversized tokens, an unknown handle */
		ctx = 0;
		assert_int_equal(negotiate_raw(x.s, &ctx, "garbage", 7, &complete, &out,
		    &outlen, &id), OC_ERR_AUTH);
		assert_int_equal(negotiate_raw(x.s, &ctx, "", 0, &complete, &out, &outlen,
		    &id), OC_ERR_AUTH);
		{
			uint8_t *big = calloc(1, OC_GSS_TOKEN_MAX + 1);

			assert_non_null(big);
			assert_int_equal(negotiate_raw(x.s, &ctx, big, OC_GSS_TOKEN_MAX + 1,
			    &complete, &out, &outlen, &id), OC_ERR_AUTH);
			free(big);
		}
		ctx = 0x1234567890abcdefULL;
		assert_int_equal(negotiate_raw(x.s, &ctx, "garbage", 7, &complete, &out,
		    &outlen, &id), OC_ERR_AUTH);
		assert_int_equal(ctx, 0);
		svc_close(&x);

		/* bindings required: a token without them is refused */
		svc_open(&y, remote, http_keytab, OC_GSS_CB_REQUIRED);
		assert_int_equal(spnego_login(y.s, NULL, CB_A, NULL), OC_ERR_AUTH);
		assert_int_equal(spnego_login(y.s, CB_A, CB_A, NULL), OC_OK);
		svc_close(&y);

		/* no keytab: no Kerberos */
		svc_open(&z, remote, NULL, OC_GSS_CB_OFF);
		assert_int_equal(oc_authsvc_has_kerberos(z.s), 0);
		ctx = 0;
		assert_int_equal(negotiate_raw(z.s, &ctx, "garbage", 7, &complete, &out,
		    &outlen, &id), OC_ERR_NOT_SUPPORTED);
		svc_close(&z);
	}
}

/* NegTokenInit proposing krb5 without an optimistic token (RFC 4178). */
static const uint8_t INIT_NO_TOKEN[] = {
	0x60, 0x1b, 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02,
	0xa0, 0x11, 0x30, 0x0f, 0xa0, 0x0d, 0x30, 0x0b,
	0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
};

/* Prefix the n bytes at o + off with tag and length; returns the new start. */
static size_t
der_wrap(uint8_t *o, size_t off, uint8_t tag, size_t n)
{
	size_t h = n < 0x80 ? 2 : 4;

	assert_true(n < 0x10000 && off >= h);
	off -= h;
	o[off] = tag;
	if (h == 2) {
		o[off + 1] = (uint8_t)n;
	} else {
		o[off + 1] = 0x82;
		o[off + 2] = (uint8_t)(n >> 8);
		o[off + 3] = (uint8_t)n;
	}
	return off;
}

/* NegTokenResp { responseToken [2] OCTET STRING krb }: built backwards in buf. */
static const uint8_t *
negtokenresp(uint8_t *buf, size_t cap, const gss_buffer_desc *krb, size_t *len)
{
	size_t off = cap - krb->length;

	assert_true(krb->length + 16 <= cap);
	memcpy(buf + off, krb->value, krb->length);
	off = der_wrap(buf, off, 0x04, cap - off);
	off = der_wrap(buf, off, 0xa2, cap - off);
	off = der_wrap(buf, off, 0x30, cap - off);
	off = der_wrap(buf, off, 0xa1, cap - off);
	*len = cap - off;
	return buf + off;
}

/* Two legs through handles; a finished or aborted handle is gone. */
static void
test_negotiate_two_legs(void **state)
{
	(void)state;
	for (int remote = 0; remote <= 1; remote++) {
		struct svc x;
		struct oc_identity id = { 0 };
		struct initiator in;
		gss_buffer_desc krb;
		uint8_t *out = NULL, buf[8192];
		const uint8_t *leg2;
		size_t outlen = 0, leg2len;
		uint64_t ctx = 0, first;
		int complete = -1;
		OM_uint32 min;

		svc_open(&x, remote, http_keytab, OC_GSS_CB_OFF);
		ini_start(&in, &oid_krb5, NULL);
		assert_int_equal(ini_step(&in, NULL, 0, &krb), GSS_S_CONTINUE_NEEDED);
		leg2 = negtokenresp(buf, sizeof(buf), &krb, &leg2len);

		assert_int_equal(negotiate_raw(x.s, &ctx, INIT_NO_TOKEN, sizeof(INIT_NO_TOKEN),
		    &complete, &out, &outlen, &id), OC_OK);
		assert_int_equal(complete, 0);
		assert_true(ctx != 0);
		assert_non_null(out);           /* accept-incomplete, krb5 */
		assert_null(id.name);
		free(out);
		first = ctx;
		assert_int_equal(negotiate_raw(x.s, &ctx, leg2, leg2len, &complete, &out,
		    &outlen, &id), OC_OK);
		assert_int_equal(complete, 1);
		assert_int_equal(ctx, 0);
		assert_non_null(out);
		assert_string_equal(id.name, "alice@EXAMPLE.TEST");
		free(out);
		oc_identity_clear(&id);
		/* the finished exchange's handle is gone */
		ctx = first;
		assert_int_equal(negotiate_raw(x.s, &ctx, leg2, leg2len, &complete, &out,
		    &outlen, &id), OC_ERR_AUTH);
		assert_int_equal(ctx, 0);

		/* abort between the legs: the next leg is refused */
		assert_int_equal(negotiate_raw(x.s, &ctx, INIT_NO_TOKEN, sizeof(INIT_NO_TOKEN),
		    &complete, &out, &outlen, &id), OC_OK);
		assert_int_equal(complete, 0);
		assert_true(ctx != 0 && ctx != first);
		free(out);
		oc_authsvc_negotiate_abort(x.s, ctx);
		oc_authsvc_negotiate_abort(x.s, ctx);   /* twice: harmless */
		assert_int_equal(negotiate_raw(x.s, &ctx, leg2, leg2len, &complete, &out,
		    &outlen, &id), OC_ERR_AUTH);
		assert_int_equal(ctx, 0);
		assert_null(out);
		/* unfinished exchanges left behind are freed with the service */
		assert_int_equal(negotiate_raw(x.s, &ctx, INIT_NO_TOKEN, sizeof(INIT_NO_TOKEN),
		    &complete, &out, &outlen, &id), OC_OK);
		free(out);
		gss_release_buffer(&min, &krb);
		ini_end(&in);
		svc_close(&x);
	}
}

/* ---- concurrency, death, malformed frames ----------------------------- */

#define NTHREADS 8

struct worker {
	struct oc_authsvc *s;
	int idx;
	int ok, refused, other;         /* verdict counts (no cmocka in threads) */
	int kerberos_ok;
	int last;
	int until_error;
};

static void
count(struct worker *w, int r, int want)
{
	if (r == want)
		w->ok++;
	else
		w->other++;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	char pw[64];

	for (int i = 0; i < 3; i++) {
		struct oc_identity id = { 0 };
		int r;

		/* right (cached after the first), wrong (a fresh hash each time) */
		r = oc_authsvc_password(w->s, "alice", "correct horse", &id);
		count(w, r, OC_OK);
		if (r == OC_OK && (id.name == NULL || strcmp(id.name, "alice") != 0))
			w->other++;
		oc_identity_clear(&id);
		snprintf(pw, sizeof(pw), "wrong %d %d", w->idx, i);
		r = oc_authsvc_password(w->s, "bob", pw, &id);
		count(w, r, OC_ERR_AUTH);
		if (id.name != NULL)
			w->other++;
	}
	{
		struct initiator in;
		struct oc_identity id = { 0 };
		gss_buffer_desc tok;
		uint8_t *out = NULL;
		size_t outlen = 0;
		uint64_t ctx = 0;
		int complete = 0;
		OM_uint32 min;

		memset(&in, 0, sizeof(in));
		in.mech = &oid_spnego;
		{
			gss_buffer_desc nb = { 14, (void *)"HTTP@localhost" };

			if (gss_import_name(&min, &nb, GSS_C_NT_HOSTBASED_SERVICE,
			    &in.target) != GSS_S_COMPLETE)
				return NULL;
		}
		if (ini_step(&in, NULL, 0, &tok) == GSS_S_CONTINUE_NEEDED &&
		    oc_authsvc_negotiate(w->s, &ctx, tok.value, tok.length, NULL, 0, &out,
		    &outlen, &id, &complete) == OC_OK && complete && id.name != NULL &&
		    strcmp(id.name, "alice@EXAMPLE.TEST") == 0)
			w->kerberos_ok = 1;
		free(out);
		oc_identity_clear(&id);
		gss_release_buffer(&min, &tok);
		ini_end(&in);
	}
	return NULL;
}

static void
test_remote_threads(void **state)
{
	struct svc x;
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];

	(void)state;
	svc_open(&x, 1, http_keytab, OC_GSS_CB_OFF);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].s = x.s;
		w[i].idx = i;
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].ok, 6);
		assert_int_equal(w[i].other, 0);
		assert_int_equal(w[i].kerberos_ok, 1);
	}
	svc_close(&x);
}

static void *
until_error(void *arg)
{
	struct worker *w = arg;
	char pw[64];
	int r;

	for (int i = 0;; i++) {
		struct oc_identity id = { 0 };

		snprintf(pw, sizeof(pw), "wrong %d %d", w->idx, i);
		r = oc_authsvc_password(w->s, "bob", pw, &id);
		oc_identity_clear(&id);
		if (r != OC_ERR_AUTH)
			break;
		w->refused++;
	}
	w->last = r;
	return NULL;
}

/* The auth process killed under load: every waiter wakes with OC_ERR_IPC. */
static void
test_remote_dies(void **state)
{
	struct oc_authsvc_config cfg = { dbpath, http_keytab, "HTTP/localhost", OC_GSS_CB_OFF };
	struct oc_authsvc *s = NULL;
	struct oc_identity id = { 0 };
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	int sv[2], status;
	uint64_t ctx = 0;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int complete = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(oc_authsvc_serve(&cfg, sv[1]) == OC_OK ? 0 : 1);
	}
	close(sv[1]);
	assert_int_equal(oc_authsvc_remote_new(sv[0], &s), OC_OK);
	for (int i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].s = s;
		w[i].idx = i;
		assert_int_equal(pthread_create(&th[i], NULL, until_error, &w[i]), 0);
	}
	usleep(500 * 1000);     /* several yescrypt rounds: calls are in flight */
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	alarm(60);              /* a waiter left asleep would hang here */
	for (int i = 0; i < NTHREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].last, OC_ERR_IPC);
	}
	alarm(0);
	/* later calls fail at once */
	assert_int_equal(oc_authsvc_password(s, "alice", "correct horse", &id), OC_ERR_IPC);
	assert_null(id.name);
	assert_int_equal(oc_authsvc_negotiate(s, &ctx, (const uint8_t *)"x", 1, NULL, 0,
	    &out, &outlen, &id, &complete), OC_ERR_IPC);
	oc_authsvc_negotiate_abort(s, 42);      /* no crash, no signal */
	oc_authsvc_free(s);
	close(sv[0]);
}

/* One raw request to the auth process; returns the status of its answer. */
static int
raw_call(int fd, uint32_t type, uint32_t tag, struct ocbuf *req, struct ocbuf *ans)
{
	uint32_t atype = 0, atag = 0, st = 0;

	assert_int_equal(oc_frame_send_tagged(fd, type, tag, req), OC_OK);
	assert_int_equal(oc_frame_recv_tagged(fd, &atype, &atag, ans), OC_OK);
	assert_int_equal(atype, OC_AUTHSVC_MSG_RESULT);
	assert_int_equal(atag, tag);
	assert_int_equal(ocbuf_get_u32(ans, &st), OC_OK);
	return (int)(int32_t)st;
}

static void
test_malformed_frames(void **state)
{
	struct svc x;
	struct ocbuf b, ans;
	uint8_t zero[8] = { 0 };
	int fd;

	(void)state;
	memset(&x, 0, sizeof(x));
	x.cfg.dir_path = dbpath;
	x.cfg.keytab = http_keytab;
	x.cfg.spn = "HTTP/localhost";
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, x.sv), 0);
	assert_int_equal(pthread_create(&x.th, NULL, serve_thread, &x), 0);
	fd = x.sv[0];
	ocbuf_init(&b, OC_IPC_FRAME_MAX);
	ocbuf_init(&ans, OC_IPC_FRAME_MAX);

	/* unknown type */
	assert_int_equal(raw_call(fd, 77, 1, &b, &ans), OC_ERR_INVALID);
	/* INFO with a payload; INFO right */
	assert_int_equal(ocbuf_put_u32(&b, 1), OC_OK);
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_INFO, 2, &b, &ans), OC_ERR_PARSE);
	ocbuf_reset(&b);
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_INFO, 3, &b, &ans), OC_OK);
	/* PASSWORD: empty, login only, trailing bytes, oversized fields, NUL inside */
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_PASSWORD, 4, &b, &ans), OC_ERR_PARSE);
	assert_int_equal(ocbuf_put_cstring(&b, "alice"), OC_OK);
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_PASSWORD, 5, &b, &ans), OC_ERR_PARSE);
	ocbuf_reset(&b);
	assert_int_equal(ocbuf_put_cstring(&b, "alice"), OC_OK);
	assert_int_equal(ocbuf_put_cstring(&b, "correct horse"), OC_OK);
	assert_int_equal(ocbuf_put_u8(&b, 0), OC_OK);
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_PASSWORD, 6, &b, &ans), OC_ERR_PARSE);
	ocbuf_reset(&b);
	memset(long_login, 'a', sizeof(long_login) - 1);
	assert_int_equal(ocbuf_put_cstring(&b, long_login), OC_OK);
	assert_int_equal(ocbuf_put_cstring(&b, "correct horse"), OC_OK);
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_PASSWORD, 7, &b, &ans), OC_ERR_PARSE);
	ocbuf_reset(&b);
	assert_int_equal(ocbuf_put_string(&b, "alice\0x", 7), OC_OK);
	assert_int_equal(ocbuf_put_cstring(&b, "correct horse"), OC_OK);
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_PASSWORD, 8, &b, &ans), OC_ERR_PARSE);
	ocbuf_reset(&b);
	assert_int_equal(ocbuf_put_u32(&b, 0xffffffffu), OC_OK);   /* length past the end */
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_PASSWORD, 9, &b, &ans), OC_ERR_PARSE);
	ocbuf_reset(&b);
	/* NEGOTIATE: short, token over the limit, cb over the limit, empty token */
	assert_int_equal(ocbuf_put(&b, zero, 4), OC_OK);
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_NEGOTIATE, 10, &b, &ans), OC_ERR_PARSE);
	ocbuf_reset(&b);
	{
		uint8_t *big = calloc(1, OC_GSS_TOKEN_MAX + 1);

		assert_non_null(big);
		assert_int_equal(ocbuf_put_u64(&b, 0), OC_OK);
		assert_int_equal(ocbuf_put_string(&b, big, OC_GSS_TOKEN_MAX + 1), OC_OK);
		assert_int_equal(ocbuf_put_string(&b, NULL, 0), OC_OK);
		assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_NEGOTIATE, 11, &b, &ans),
		    OC_ERR_PARSE);
		ocbuf_reset(&b);
		assert_int_equal(ocbuf_put_u64(&b, 0), OC_OK);
		assert_int_equal(ocbuf_put_string(&b, "x", 1), OC_OK);
		assert_int_equal(ocbuf_put_string(&b, big, OC_GSS_CB_MAX + 1), OC_OK);
		assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_NEGOTIATE, 12, &b, &ans),
		    OC_ERR_PARSE);
		free(big);
	}
	ocbuf_reset(&b);
	assert_int_equal(ocbuf_put_u64(&b, 0), OC_OK);
	assert_int_equal(ocbuf_put_string(&b, NULL, 0), OC_OK);
	assert_int_equal(ocbuf_put_string(&b, NULL, 0), OC_OK);
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_NEGOTIATE, 13, &b, &ans), OC_ERR_AUTH);
	ocbuf_reset(&b);
	/* ABORT malformed (no answer), then still serving: a right password */
	assert_int_equal(ocbuf_put_u32(&b, 1), OC_OK);
	assert_int_equal(oc_frame_send_tagged(fd, OC_AUTHSVC_MSG_ABORT, 0, &b), OC_OK);
	ocbuf_reset(&b);
	assert_int_equal(ocbuf_put_cstring(&b, "alice"), OC_OK);
	assert_int_equal(ocbuf_put_cstring(&b, "correct horse"), OC_OK);
	assert_int_equal(raw_call(fd, OC_AUTHSVC_MSG_PASSWORD, 14, &b, &ans), OC_OK);
	{
		struct oc_identity id = { 0 };
		uint32_t st;

		ocbuf_reset(&ans);
		assert_int_equal(oc_frame_send_tagged(fd, OC_AUTHSVC_MSG_PASSWORD, 15, &b), OC_OK);
		assert_int_equal(oc_frame_recv_tagged(fd, &st, NULL, &ans), OC_OK);
		assert_int_equal(ocbuf_get_u32(&ans, &st), OC_OK);
		assert_int_equal(st, 0);
		assert_int_equal(oc_ipc_identity_get(&ans, &id), OC_OK);
		assert_string_equal(id.name, "alice");
		oc_identity_clear(&id);
	}
	ocbuf_free(&b);
	ocbuf_free(&ans);
	/* a frame over the size limit: the stream cannot be resynchronised, the
	 * auth process stops with OC_ERR_LIMIT */
	{
		uint8_t hdr[OC_FRAME_HEADER_LEN] = { 0, 0, 0, 2, 0, 0, 0, 16, 0x7f, 0, 0, 0 };

		assert_int_equal(write(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	}
	assert_int_equal(pthread_join(x.th, NULL), 0);
	assert_int_equal(x.serve_r, OC_ERR_LIMIT);
	close(x.sv[0]);
	close(x.sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_password_verdicts),
		cmocka_unit_test(test_negotiate_one_leg),
		cmocka_unit_test(test_negotiate_two_legs),
		cmocka_unit_test(test_remote_threads),
		cmocka_unit_test(test_remote_dies),
		cmocka_unit_test(test_malformed_frames),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
