/*
 * The authentication service with a directory over LDAP (authsvc.h:
 * oc_authsvc_local_new_ldap, oc_authsvc_serve_ldap, oc_authsvc_cert_map and
 * the CERTMAP frame of authsvc_int.h), without a directory server: the
 * configured one is a closed port, so every lookup is "the directory cannot
 * be asked", which must never turn into an identity or into "no such
 * account". And certauth's map hook (oc_certauth_set_map): a verified
 * certificate's SID, UPNs and DNS names go to the directory's mapping instead
 * of the embedded directory, with the refusal reasons of the embedded one.
 * Lookups against a real Samba AD DC: tests/e2e/test_ad_samba.sh.
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
#include "auth/certauth.h"
#include "common/buf.h"
#include "common/limits.h"
#include "ipc/frame.h"
#include "ldap/ldap_conn.h"
#include "pkix/pkix.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

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

/* ---- certauth's map hook ------------------------------------------------ */

struct mapper {
	int answer;                 /* what map returns */
	int calls;
	char sid[64], upn[64], dns[64];
};

static int
mapper_map(void *arg, const char *sid, const struct oc_strlist *upn,
    const struct oc_strlist *dns, struct oc_identity *id)
{
	struct mapper *m = arg;

	m->calls++;
	snprintf(m->sid, sizeof(m->sid), "%s", sid ? sid : "");
	snprintf(m->upn, sizeof(m->upn), "%s", upn && upn->n ? upn->v[0] : "");
	snprintf(m->dns, sizeof(m->dns), "%s", dns && dns->n ? dns->v[0] : "");
	if (m->answer != OC_OK)
		return m->answer;
	id->name = strdup("carol");
	id->upn = strdup("carol@corp.example.test");
	return id->name && id->upn ? OC_OK : OC_ERR_NOMEM;
}

static void
ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	assert_non_null(e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value));
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* issuer NULL: a self-signed CA. sid: the SID extension, san: OpenSSL config form. */
static X509 *
cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey, const char *san,
    const char *sid)
{
	X509 *x = X509_new();
	uint8_t *der = NULL;
	size_t len = 0;

	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), issuer ? 2 : 1), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0), 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x)), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
	ext(x, issuer ? issuer : x, NID_authority_key_identifier, "keyid:always");
	if (issuer == NULL) {
		ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
		ext(x, issuer, NID_key_usage, "critical,digitalSignature");
		ext(x, issuer, NID_ext_key_usage, "clientAuth");
		if (san != NULL)
			ext(x, issuer, NID_subject_alt_name, san);
		if (sid != NULL) {
			ASN1_OBJECT *o = OBJ_txt2obj(OC_OID_SID_EXT, 1);
			ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
			X509_EXTENSION *e;

			assert_int_equal(pkix_sid_ext_encode(sid, &der, &len), OC_OK);
			assert_int_equal(ASN1_OCTET_STRING_set(os, der, (int)len), 1);
			assert_non_null(e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os));
			assert_int_equal(X509_add_ext(x, e, -1), 1);
			X509_EXTENSION_free(e);
			ASN1_OCTET_STRING_free(os);
			ASN1_OBJECT_free(o);
			free(der);
		}
	}
	assert_true(X509_sign(x, issuer ? ikey : key, EVP_sha256()) > 0);
	return x;
}

static void
test_certauth_map(void **state)
{
	char anchors[] = "/tmp/oc-authldap-XXXXXX";
	struct oc_certauth_config cc;
	struct oc_certauth *c = NULL;
	struct oc_identity id = { 0 };
	enum oc_certauth_reason why;
	struct mapper m = { 0 };
	EVP_PKEY *ck, *lk;
	X509 *ca, *upn, *sid;
	FILE *f;
	int fd;

	(void)state;
	assert_non_null(ck = EVP_EC_gen("P-256"));
	assert_non_null(lk = EVP_EC_gen("P-256"));
	ca = cert("AD test CA", ck, NULL, NULL, NULL, NULL);
	upn = cert("carol", lk, ca, ck, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:carol@corp.example.test,"
	    "DNS:ws1.corp.example.test", NULL);
	sid = cert("bob", lk, ca, ck, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:bob@corp.example.test",
	    "S-1-5-21-1-2-3-1103");
	assert_true((fd = mkstemp(anchors)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	assert_int_equal(PEM_write_X509(f, ca), 1);
	assert_int_equal(fclose(f), 0);
	memset(&cc, 0, sizeof(cc));
	cc.trust_anchors_file = anchors;
	assert_int_equal(oc_certauth_new(&cc, &c), OC_OK);
	/* without a map and without a directory: nothing to map with */
	assert_int_equal(oc_certauth_verify_reason(c, upn, NULL, NULL, &id, &why), OC_ERR_INVALID);
	oc_certauth_set_map(c, mapper_map, &m);
	oc_certauth_set_map(NULL, mapper_map, &m);      /* NULL-safe */

	/* the names go to the map; its identity is the caller */
	assert_int_equal(oc_certauth_verify_reason(c, upn, NULL, NULL, &id, &why), OC_OK);
	assert_int_equal(why, OC_CERTAUTH_OK);
	assert_string_equal(id.name, "carol");
	assert_int_equal(id.auth_type, OC_AUTH_CERTIFICATE);
	assert_string_equal(m.sid, "");
	assert_string_equal(m.upn, "carol@corp.example.test");
	assert_string_equal(m.dns, "ws1.corp.example.test");
	oc_identity_clear(&id);
	/* a SID travels with the names */
	assert_int_equal(oc_certauth_verify_reason(c, sid, NULL, NULL, &id, &why), OC_OK);
	assert_string_equal(m.sid, "S-1-5-21-1-2-3-1103");
	assert_string_equal(m.upn, "bob@corp.example.test");
	oc_identity_clear(&id);

	/* no account: "SID matches no account" with a SID, else "unmapped" */
	m.answer = OC_ERR_NOT_FOUND;
	assert_int_equal(oc_certauth_verify_reason(c, sid, NULL, NULL, &id, &why), OC_ERR_AUTH);
	assert_int_equal(why, OC_CERTAUTH_SID_MISMATCH);
	assert_null(id.name);
	assert_int_equal(oc_certauth_verify_reason(c, upn, NULL, NULL, &id, &why), OC_ERR_AUTH);
	assert_int_equal(why, OC_CERTAUTH_UNMAPPED);
	/* the directory cannot be asked: an internal failure, not a verdict */
	m.answer = OC_ERR_UNAVAILABLE;
	assert_int_equal(oc_certauth_verify_reason(c, upn, NULL, NULL, &id, &why),
	    OC_ERR_UNAVAILABLE);
	assert_int_equal(why, OC_CERTAUTH_ERROR);
	assert_null(id.name);
	assert_int_equal(m.calls, 5);

	oc_certauth_free(c);
	unlink(anchors);
	X509_free(ca);
	X509_free(upn);
	X509_free(sid);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(lk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_local),
		cmocka_unit_test(test_remote),
		cmocka_unit_test(test_certauth_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
