/*
 * The authentication service with a directory over LDAP (authsvc.h:
 * oc_authsvc_local_new_ldap, oc_authsvc_serve_ldap, oc_authsvc_cert_map and
 * the CERTMAP frame of authsvc_int.h), without a directory server: the
 * configured one is a closed port, so every lookup is "the directory cannot
 * be asked", which must never turn into an identity or into "no such
 * account". Lookups against a real Samba AD DC: tests/e2e/test_ad_samba.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/authsvc.h"
#include "auth/authsvc_int.h"
#include "common/buf.h"
#include "common/limits.h"
#include "ipc/frame.h"
#include "ldap/ldap_conn.h"

int main(void);

static const struct oc_ldap_config closed = {
	.uri = "ldaps://127.0.0.1:9", .starttls = 1, .bind = OC_LDAP_BIND_SIMPLE,
	.bind_dn = "CN=svc", .password_file = "/nonexistent/pw", .timeout_s = 2,
};
static struct oc_authsvc_config cfg = { "/nonexistent/directory.db", NULL, NULL, 0 };

static void
check_service(struct oc_authsvc *s)
{
	struct oc_strlist upn = { 0 }, dns = { 0 };
	struct oc_identity id = { 0 };

	assert_true(oc_authsvc_has_directory(s));
	assert_false(oc_authsvc_has_kerberos(s));
	/* a password the directory cannot check: refused, like a wrong one */
	assert_int_equal(oc_authsvc_password(s, "carol", "Us3r!Passw0rd", &id), OC_ERR_AUTH);
	assert_null(id.name);
	assert_int_equal(oc_authsvc_password(s, "CORP\\carol", "x", &id), OC_ERR_AUTH);
	/* a certificate's names: unavailable, never "no account" */
	assert_int_equal(oc_authsvc_cert_map(s, "S-1-5-21-1-2-3-1103", NULL, NULL, &id),
	    OC_ERR_UNAVAILABLE);
	assert_null(id.name);
	assert_int_equal(oc_strlist_add(&upn, "bob@corp.example.test"), OC_OK);
	assert_int_equal(oc_strlist_add(&dns, "ws1.corp.example.test"), OC_OK);
	assert_int_equal(oc_authsvc_cert_map(s, NULL, &upn, &dns, &id), OC_ERR_UNAVAILABLE);
	/* nothing to map by: no account, without asking */
	assert_int_equal(oc_authsvc_cert_map(s, NULL, NULL, NULL, &id), OC_ERR_NOT_FOUND);
	/* a SID that is no SID maps to nothing (strong mapping: no fallback) */
	assert_int_equal(oc_authsvc_cert_map(s, "S-1-x", &upn, &dns, &id), OC_ERR_NOT_FOUND);
	oc_strlist_free(&upn);
	oc_strlist_free(&dns);
}

static void
test_local(void **state)
{
	struct oc_authsvc *s = NULL;
	struct oc_identity id = { 0 };

	(void)state;
	assert_int_equal(oc_authsvc_local_new_ldap(&cfg, &closed, &s), OC_OK);
	check_service(s);
	oc_authsvc_free(s);

	/* the embedded directory: no directory mapping */
	assert_int_equal(oc_authsvc_local_new_ldap(&cfg, NULL, &s), OC_OK);
	assert_false(oc_authsvc_has_directory(s));
	assert_int_equal(oc_authsvc_cert_map(s, NULL, NULL, NULL, &id), OC_ERR_NOT_SUPPORTED);
	oc_authsvc_free(s);
	assert_int_equal(oc_authsvc_cert_map(NULL, NULL, NULL, NULL, &id), OC_ERR_INVALID);
}

struct served {
	int sv[2];
	const struct oc_ldap_config *ldap;
	pthread_t th;
	int r;
};

static void *
serve_thread(void *arg)
{
	struct served *x = arg;

	x->r = oc_authsvc_serve_ldap(&cfg, x->ldap, x->sv[1]);
	return NULL;
}

static void
serve_start(struct served *x, const struct oc_ldap_config *ldap)
{
	memset(x, 0, sizeof(*x));
	x->ldap = ldap;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, x->sv), 0);
	assert_int_equal(pthread_create(&x->th, NULL, serve_thread, x), 0);
}

static void
serve_stop(struct served *x)
{
	shutdown(x->sv[0], SHUT_RDWR);
	assert_int_equal(pthread_join(x->th, NULL), 0);
	assert_int_equal(x->r, OC_OK);
	close(x->sv[0]);
	close(x->sv[1]);
}

/* One raw CERTMAP request; the status of its answer. */
static int
raw_certmap(int fd, uint32_t tag, struct ocbuf *req)
{
	struct ocbuf ans;
	uint32_t atype = 0, atag = 0, st = 0;

	ocbuf_init(&ans, OC_IPC_FRAME_MAX);
	assert_int_equal(oc_frame_send_tagged(fd, OC_AUTHSVC_MSG_CERTMAP, tag, req), OC_OK);
	assert_int_equal(oc_frame_recv_tagged(fd, &atype, &atag, &ans), OC_OK);
	assert_int_equal(atype, OC_AUTHSVC_MSG_RESULT);
	assert_int_equal(atag, tag);
	assert_int_equal(ocbuf_get_u32(&ans, &st), OC_OK);
	ocbuf_free(&ans);
	return (int)(int32_t)st;
}

static void
test_remote(void **state)
{
	struct oc_authsvc *s = NULL;
	struct oc_identity id = { 0 };
	struct served x;
	struct ocbuf req;

	(void)state;
	serve_start(&x, &closed);
	assert_int_equal(oc_authsvc_remote_new(x.sv[0], &s), OC_OK);
	check_service(s);
	oc_authsvc_free(s);
	close(x.sv[0]);
	assert_int_equal(pthread_join(x.th, NULL), 0);
	assert_int_equal(x.r, OC_OK);
	close(x.sv[1]);

	/* malformed CERTMAP frames: answered with OC_ERR_PARSE, serving goes on */
	serve_start(&x, &closed);
	ocbuf_init(&req, OC_IPC_FRAME_MAX);
	assert_int_equal(ocbuf_put_cstring(&req, ""), OC_OK);
	assert_int_equal(ocbuf_put_u32(&req, 0), OC_OK);
	assert_int_equal(ocbuf_put_u32(&req, 0), OC_OK);
	assert_int_equal(raw_certmap(x.sv[0], 1, &req), OC_ERR_NOT_FOUND);
	assert_int_equal(ocbuf_put_u32(&req, 7), OC_OK);         /* trailing bytes */
	assert_int_equal(raw_certmap(x.sv[0], 2, &req), OC_ERR_PARSE);
	ocbuf_reset(&req);
	assert_int_equal(ocbuf_put_cstring(&req, ""), OC_OK);
	assert_int_equal(ocbuf_put_u32(&req, OC_SAN_MAX_ENTRIES + 1), OC_OK);
	for (int i = 0; i <= OC_SAN_MAX_ENTRIES; i++)
		assert_int_equal(ocbuf_put_cstring(&req, "a@b"), OC_OK);
	assert_int_equal(ocbuf_put_u32(&req, 0), OC_OK);
	assert_int_equal(raw_certmap(x.sv[0], 3, &req), OC_ERR_PARSE);
	ocbuf_reset(&req);
	assert_int_equal(ocbuf_put_cstring(&req, ""), OC_OK);    /* truncated */
	assert_int_equal(raw_certmap(x.sv[0], 4, &req), OC_ERR_PARSE);
	ocbuf_free(&req);
	serve_stop(&x);

	/* an auth process of the embedded directory: no mapping, no round trip */
	serve_start(&x, NULL);
	assert_int_equal(oc_authsvc_remote_new(x.sv[0], &s), OC_OK);
	assert_false(oc_authsvc_has_directory(s));
	assert_int_equal(oc_authsvc_cert_map(s, NULL, NULL, NULL, &id), OC_ERR_NOT_SUPPORTED);
	oc_authsvc_free(s);
	close(x.sv[0]);
	assert_int_equal(pthread_join(x.th, NULL), 0);
	close(x.sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_remote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
