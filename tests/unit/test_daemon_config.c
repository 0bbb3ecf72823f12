/*
 * opencesd.conf (docs/man/opencesd.conf.5) through oc_config_load: files
 * written to a temporary directory. The configuration `opencesd demo`
 * writes, relative and absolute paths, repeatable keys and sections with
 * their defaults; then every kind of line the server must refuse ("the
 * server does not start on a configuration it does not fully understand"),
 * each as one defect added to a minimal configuration that loads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/gss.h"
#include "daemon/config.h"
#include "front/front.h"

int main(void);

static char tmp[64];

#define POLICY_ID "{6A1C2F9E-0D4B-4E8A-9B3C-5F7D1E2A4B6C}"

/* What src/daemon/demo.c writes for --listen 127.0.0.1:8443. */
static const char demo_conf[] =
    "# opencesd demo configuration (rewritten by `opencesd demo` on every start)\n"
    "[server]\n"
    "listen = 127.0.0.1:8443\n"
    "public_url = https://127.0.0.1:8443\n"
    "tls_cert = server.pem\n"
    "tls_key = server.key\n"
    "audit_log = audit.log\n"
    "client_ca = ca.pem\n"
    "\n[ca]\n"
    "name = OpenCES Demo CA\n"
    "key = ca.key\n"
    "cert = ca.pem\n"
    "key_type = RSA2048\n"
    "\n[store]\npath = ca.db\n"
    "\n[directory]\npath = directory.db\n"
    "\n[policy]\nid = " POLICY_ID "\nfriendly_name = OpenCES demo policy\n"
    "next_update_hours = 8\n"
    "\n[endpoint]\nservice = cep\nauth = password\n"
    "\n[endpoint]\nservice = ces\nauth = password\npriority = 1\n"
    "\n[endpoint]\nservice = cep\nauth = certificate\n"
    "\n[endpoint]\nservice = ces\nauth = certificate\npriority = 2\n";

/* Every line is required: dropping any one of them must fail (minimal_is_minimal). */
#define MINIMAL \
	"[server]\n" \
	"listen = 127.0.0.1:8443\n" \
	"public_url = https://ces.example.test\n" \
	"tls_cert = server.pem\n" \
	"tls_key = server.key\n" \
	"[ca]\n" \
	"key = ca.key\n" \
	"cert = ca.pem\n" \
	"[store]\n" \
	"path = ca.db\n" \
	"[directory]\n" \
	"path = directory.db\n" \
	"[policy]\n" \
	"id = " POLICY_ID "\n" \
	"[endpoint]\n" \
	"service = ces\n"

static const char minimal_conf[] = MINIMAL;

/* ---- helpers ---- */

static void
write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Write text as tmp/<file> (file may name a subdirectory) and load it. */
static int
load(const char *file, const char *text, size_t len, struct oc_config *c)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmp, file ? file : "opencesd.conf");
	write_file(path, text, len);
	return oc_config_load(path, c);
}

static void
assert_path(const char *got, const char *rel)
{
	char want[256];

	snprintf(want, sizeof(want), "%s/%s", tmp, rel);
	assert_non_null(got);
	assert_string_equal(got, want);
}

static void
assert_endpoint(const struct oc_conf_endpoint *e, int service, enum oc_auth_type auth,
    uint32_t priority, int renewal_only)
{
	assert_int_equal(e->service, service);
	assert_int_equal(e->auth, auth);
	assert_int_equal(e->priority, priority);
	assert_int_equal(e->renewal_only, renewal_only);
}

/* A refused configuration leaves nothing behind. */
static void
assert_cleared(const struct oc_config *c)
{
	assert_null(c->base_dir);
	assert_int_equal(c->listen.n, 0);
	assert_null(c->tls_cert);
	assert_null(c->ca_name);
	assert_null(c->endpoints);
	assert_int_equal(c->nendpoints, 0);
	assert_null(c->published);
	assert_int_equal(c->npublished, 0);
}

/* ---- configurations that load ---- */

static void
check_demo(const struct oc_config *c)
{
	assert_string_equal(c->base_dir, tmp);
	assert_int_equal(c->listen.n, 1);
	assert_string_equal(c->listen.v[0], "127.0.0.1:8443");
	assert_string_equal(c->public_url, "https://127.0.0.1:8443");
	assert_path(c->tls_cert, "server.pem");
	assert_path(c->tls_key, "server.key");
	assert_path(c->audit_log, "audit.log");
	assert_int_equal(c->workers, 0);          /* unset: the HTTP server's default */
	assert_int_equal(c->queue, 0);
	assert_string_equal(c->ca_name, "OpenCES Demo CA");
	assert_path(c->ca_key, "ca.key");
	assert_path(c->ca_cert, "ca.pem");
	assert_string_equal(c->ca_key_type, "RSA2048");
	assert_null(c->aia_url);
	assert_null(c->cdp_url);
	assert_path(c->store_path, "ca.db");
	assert_path(c->dir_path, "directory.db");
	assert_string_equal(c->policy_id, POLICY_ID);
	assert_string_equal(c->friendly_name, "OpenCES demo policy");
	assert_int_equal(c->next_update_hours, 8);
	assert_path(c->client_ca, "ca.pem");
	assert_null(c->keytab);
	assert_int_equal(c->nendpoints, 4);
	assert_endpoint(&c->endpoints[0], OC_SERVICE_CEP, OC_AUTH_PASSWORD, 1, 0);
	assert_endpoint(&c->endpoints[1], OC_SERVICE_CES, OC_AUTH_PASSWORD, 1, 0);
	assert_endpoint(&c->endpoints[2], OC_SERVICE_CEP, OC_AUTH_CERTIFICATE, 1, 0);
	assert_endpoint(&c->endpoints[3], OC_SERVICE_CES, OC_AUTH_CERTIFICATE, 2, 0);
	assert_int_equal(c->npublished, 0);
	assert_null(c->published);
}

static void
check_minimal_defaults(const struct oc_config *c)
{
	assert_string_equal(c->ca_name, "OpenCES Demo CA");
	assert_string_equal(c->ca_key_type, "RSA2048");
	assert_int_equal(c->next_update_hours, 8);
	assert_null(c->friendly_name);
	assert_null(c->audit_log);
	assert_int_equal(c->workers, 0);
	assert_int_equal(c->queue, 0);
	assert_int_equal(c->nendpoints, 1);
	assert_endpoint(&c->endpoints[0], OC_SERVICE_CES, OC_AUTH_PASSWORD, 1, 0);
	assert_null(c->keytab);
	assert_null(c->spn);
	assert_null(c->client_ca);
	assert_int_equal(c->channel_binding, OC_GSS_CB_WHEN_PRESENT);
}

/* Kerberos and client-certificate settings. */
static void
check_auth(const struct oc_config *c)
{
	assert_path(c->keytab, "krb/http.keytab");
	assert_string_equal(c->spn, "HTTP/ces.example.test");
	assert_int_equal(c->channel_binding, OC_GSS_CB_REQUIRED);
	assert_string_equal(c->client_ca, "/etc/opences/client-anchors.pem");
	assert_int_equal(c->nendpoints, 5);
	assert_endpoint(&c->endpoints[1], OC_SERVICE_CEP, OC_AUTH_KERBEROS, 1, 0);
	assert_endpoint(&c->endpoints[2], OC_SERVICE_CES, OC_AUTH_KERBEROS, 2, 0);
	assert_endpoint(&c->endpoints[3], OC_SERVICE_CEP, OC_AUTH_CERTIFICATE, 1, 0);
	assert_endpoint(&c->endpoints[4], OC_SERVICE_CES, OC_AUTH_CERTIFICATE, 3, 1);
}

static void
check_cb_off(const struct oc_config *c)
{
	assert_int_equal(c->channel_binding, OC_GSS_CB_OFF);
	assert_null(c->spn);
	assert_path(c->keytab, "http.keytab");
}

static void
check_cb_when_present(const struct oc_config *c)
{
	assert_int_equal(c->channel_binding, OC_GSS_CB_WHEN_PRESENT);
	assert_null(c->keytab);         /* unused without a kerberos endpoint: allowed */
	assert_path(c->client_ca, "ca.pem");
}

static const char paths_conf[] =
    "[server]\n"
    "listen = 127.0.0.1:8443\n"
    "public_url = https://ces.example.test\n"
    "tls_cert = /etc/opences/server.pem\n"
    "tls_key = tls/server.key\n"
    "audit_log = ../log/audit.log\n"
    "[ca]\nkey = /var/lib/opences/ca.key\ncert = ./ca.pem\n"
    "[store]\npath = db/ca.db\n"
    "[directory]\npath = /var/lib/opences/directory.db\n"
    "[policy]\nid = " POLICY_ID "\n"
    "[endpoint]\nservice = cep\n";

/* Relative paths are joined to the file's directory as written, not normalised. */
static void
check_paths(const struct oc_config *c)
{
	assert_path(c->base_dir, "sub");
	assert_string_equal(c->tls_cert, "/etc/opences/server.pem");
	assert_path(c->tls_key, "sub/tls/server.key");
	assert_path(c->audit_log, "sub/../log/audit.log");
	assert_string_equal(c->ca_key, "/var/lib/opences/ca.key");
	assert_path(c->ca_cert, "sub/./ca.pem");
	assert_path(c->store_path, "sub/db/ca.db");
	assert_string_equal(c->dir_path, "/var/lib/opences/directory.db");
}

static void
check_listen(const struct oc_config *c)
{
	assert_int_equal(c->listen.n, 3);
	assert_string_equal(c->listen.v[0], "[::1]:8443");
	assert_string_equal(c->listen.v[1], "127.0.0.1:8443");
	assert_string_equal(c->listen.v[2], "0.0.0.0:443");
}

static void
check_endpoints(const struct oc_config *c)
{
	assert_int_equal(c->nendpoints, 4);
	assert_endpoint(&c->endpoints[0], OC_SERVICE_CES, OC_AUTH_PASSWORD, 1, 0);
	assert_endpoint(&c->endpoints[1], OC_SERVICE_CEP, OC_AUTH_PASSWORD, 1, 0);
	assert_endpoint(&c->endpoints[2], OC_SERVICE_CES, OC_AUTH_KERBEROS, 5, 1);
	assert_endpoint(&c->endpoints[3], OC_SERVICE_CES, OC_AUTH_CERTIFICATE, 0, 0);
	assert_int_equal(c->npublished, 0);
}

static void
check_publish(const struct oc_config *c)
{
	assert_int_equal(c->nendpoints, 1);
	assert_int_equal(c->npublished, 3);
	assert_string_equal(c->published[0].uri,
	    "https://ces2.example.test/OpenCES%20Demo%20CA_CES_UsernamePassword/service.svc/CES");
	assert_int_equal(c->published[0].auth, OC_AUTH_PASSWORD);
	assert_int_equal(c->published[0].priority, 2);
	assert_int_equal(c->published[0].renewal_only, 0);
	assert_string_equal(c->published[1].uri, "https://ces3.example.test/ces");
	assert_int_equal(c->published[1].auth, OC_AUTH_PASSWORD);
	assert_int_equal(c->published[1].priority, 1);
	assert_int_equal(c->published[1].renewal_only, 0);
	assert_string_equal(c->published[2].uri, "https://ces4.example.test/ces?a=b");
	assert_int_equal(c->published[2].auth, OC_AUTH_KERBEROS);
	assert_int_equal(c->published[2].priority, 7);
	assert_int_equal(c->published[2].renewal_only, 1);
}

static void
check_layout(const struct oc_config *c)
{
	assert_int_equal(c->listen.n, 1);
	assert_string_equal(c->listen.v[0], "127.0.0.1:8443");
	assert_string_equal(c->public_url, "https://ces.example.test");
	assert_path(c->tls_cert, "server.pem");
	assert_string_equal(c->friendly_name, "Policy = with an equals sign");
	assert_int_equal(c->nendpoints, 2);
	assert_endpoint(&c->endpoints[0], OC_SERVICE_CEP, OC_AUTH_PASSWORD, 1, 0);
	assert_endpoint(&c->endpoints[1], OC_SERVICE_CES, OC_AUTH_PASSWORD, 3, 1);
}

static void
check_values(const struct oc_config *c)
{
	assert_string_equal(c->ca_name, "Example Issuing CA 1");
	assert_int_equal(strcasecmp(c->ca_key_type, "P256"), 0);   /* the CA reads it so */
	assert_string_equal(c->aia_url, "http://pki.example.test/ca.crt");
	assert_string_equal(c->cdp_url, "http://pki.example.test/ca.crl");
	assert_int_equal(c->workers, 1024);
	assert_int_equal(c->queue, 1);
	assert_int_equal(c->next_update_hours, 4294967295u);
}

struct good_case {
	const char *name;
	const char *file;           /* under tmp; NULL = opencesd.conf */
	const char *text;
	void (*check)(const struct oc_config *c);
};

static const struct good_case good_cases[] = {
	{ "the demo configuration", NULL, demo_conf, check_demo },
	{ "minimal, with defaults", NULL, minimal_conf, check_minimal_defaults },
	{ "relative and absolute paths", "sub/opencesd.conf", paths_conf, check_paths },
	{ "repeated listen", NULL,
	  "[server]\nlisten = [::1]:8443\n" MINIMAL "[server]\nlisten = 0.0.0.0:443\n",
	  check_listen },
	{ "several [endpoint] sections with defaults", NULL, MINIMAL
	  "[server]\nkeytab = http.keytab\nclient_ca = ca.pem\n"
	  "[endpoint]\nservice = cep\n"
	  "[endpoint]\nservice = ces\nauth = kerberos\npriority = 5\nrenewal_only = yes\n"
	  "[endpoint]\nauth = Certificate\nrenewal_only = false\npriority = 0\nservice = CES\n",
	  check_endpoints },
	{ "[publish] sections", NULL, MINIMAL
	  "[publish]\nuri = https://ces2.example.test/OpenCES%20Demo%20CA_CES_UsernamePassword/"
	  "service.svc/CES\nauth = password\npriority = 2\n"
	  "[publish]\nuri = https://ces3.example.test/ces\n"
	  "[publish]\nuri = https://ces4.example.test/ces?a=b\nauth = kerberos\npriority = 7\n"
	  "renewal_only = 1\n", check_publish },
	{ "comments, blank lines, spaces, CRLF, a value with '='", NULL,
	  "# comment\r\n; another comment\r\n\r\n  [ server ]  \r\n"
	  "  listen\t=\t127.0.0.1:8443  \r\n  # indented comment\r\n"
	  "public_url=https://ces.example.test\r\ntls_cert =server.pem\r\ntls_key= server.key\r\n"
	  "[ca]\r\nkey = ca.key\r\ncert = ca.pem\r\n[store]\r\npath = ca.db\r\n"
	  "[directory]\r\npath = directory.db\r\n"
	  "[policy]\r\nid = " POLICY_ID "\r\nfriendly_name = Policy = with an equals sign\r\n"
	  "[endpoint]\r\nservice = cep\r\n"
	  "[endpoint]\r\nservice = ces\r\npriority = 3\r\nrenewal_only = TRUE\r\n"
	  "# no newline at the end",
	  check_layout },
	{ "every optional value", NULL, MINIMAL
	  "[server]\nworkers = 1024\nqueue = 1\n"
	  "[ca]\nname = Example Issuing CA 1\nkey_type = p256\n"
	  "aia_url = http://pki.example.test/ca.crt\ncdp_url = http://pki.example.test/ca.crl\n"
	  "[policy]\nnext_update_hours = 4294967295\n", check_values },
	{ "kerberos and certificate endpoints", NULL, MINIMAL
	  "[server]\nkeytab = krb/http.keytab\nspn = HTTP/ces.example.test\n"
	  "channel_binding = required\nclient_ca = /etc/opences/client-anchors.pem\n"
	  "[endpoint]\nservice = cep\nauth = kerberos\n"
	  "[endpoint]\nservice = ces\nauth = kerberos\npriority = 2\n"
	  "[endpoint]\nservice = cep\nauth = certificate\n"
	  "[endpoint]\nservice = ces\nauth = certificate\npriority = 3\nrenewal_only = yes\n",
	  check_auth },
	{ "channel_binding off", NULL, MINIMAL
	  "[server]\nkeytab = http.keytab\nchannel_binding = OFF\n"
	  "[endpoint]\nservice = ces\nauth = kerberos\n", check_cb_off },
	{ "channel_binding when_present, client_ca alone", NULL, MINIMAL
	  "[server]\nchannel_binding = when_present\nclient_ca = ca.pem\n",
	  check_cb_when_present },
};

static void
test_good(void **state)
{
	char sub[128];

	(void)state;
	snprintf(sub, sizeof(sub), "%s/sub", tmp);
	assert_int_equal(mkdir(sub, 0700), 0);
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *t = &good_cases[i];
		struct oc_config c;
		int r = load(t->file, t->text, strlen(t->text), &c);

		if (r != OC_OK)
			fail_msg("\"%s\": %s, want success", t->name, oc_strerror(r));
		t->check(&c);
		oc_config_clear(&c);
		assert_cleared(&c);
	}
}

/* A file named without a directory: paths relative to ".". */
static void
test_relative_file_name(void **state)
{
	struct oc_config c;
	char cwd[4096], path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/rel.conf", tmp);
	write_file(path, minimal_conf, strlen(minimal_conf));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmp), 0);
	assert_int_equal(oc_config_load("rel.conf", &c), OC_OK);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(c.base_dir, ".");
	assert_string_equal(c.tls_cert, "./server.pem");
	assert_string_equal(c.store_path, "./ca.db");
	oc_config_clear(&c);
}

/* ---- configurations that must be refused ---- */

struct bad_case {
	const char *name;
	const char *text;
	size_t len;
};

/* MINIMAL followed by one defect; sizeof keeps an embedded NUL byte. */
#define BAD(name, defect) { name, MINIMAL defect, sizeof(MINIMAL defect) - 1 }

static const struct bad_case bad_cases[] = {
	BAD("unknown key", "[server]\nbogus = 1\n"),
	BAD("key of another section", "[ca]\nlisten = 127.0.0.1:9443\n"),
	BAD("key with different case", "[server]\nListen = 127.0.0.1:9443\n"),
	BAD("empty key", "[server]\n= 127.0.0.1:9443\n"),
	BAD("key in an unknown section", "[bogus]\nkey = 1\n"),
	BAD("unknown section without keys", "[sever]\n"),
	BAD("empty section name", "[]\n"),
	BAD("text after a section header", "[server] workers = 4\n"),
	BAD("unterminated section header", "[server\nworkers = 4\n"),
	BAD("section name too long",
	    "[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa]\n"),
	BAD("line without '='", "[server]\nworkers 4\n"),
	BAD("a NUL byte hides the rest of the file", "\0[server]\nbogus\n"),
	BAD("a NUL byte inside a value", "[policy]\nfriendly_name = x\0y\n"),
	BAD("empty value (path)", "[server]\ntls_cert =\n"),
	BAD("empty value (listen)", "[server]\nlisten =   \n"),
	BAD("empty value (URL)", "[ca]\naia_url =\n"),
	BAD("bad number", "[server]\nworkers = four\n"),
	BAD("number with trailing text", "[server]\nworkers = 4x\n"),
	BAD("negative number", "[server]\nqueue = -1\n"),
	BAD("number with a sign", "[server]\nworkers = +4\n"),
	BAD("hexadecimal number", "[server]\nworkers = 0x10\n"),
	BAD("workers 0", "[server]\nworkers = 0\n"),
	BAD("workers above 1024", "[server]\nworkers = 1025\n"),
	BAD("queue 0", "[server]\nqueue = 0\n"),
	BAD("number beyond 32 bits", "[policy]\nnext_update_hours = 4294967296\n"),
	BAD("number beyond 64 bits", "[server]\nworkers = 99999999999999999999999\n"),
	BAD("next_update_hours 0", "[policy]\nnext_update_hours = 0\n"),
	BAD("unknown CA key type", "[ca]\nkey_type = RSA1024\n"),
	BAD("unknown auth", "[endpoint]\nservice = ces\nauth = ntlm\n"),
	BAD("anonymous auth", "[endpoint]\nservice = cep\nauth = anonymous\n"),
	BAD("bad bool", "[endpoint]\nservice = ces\nrenewal_only = maybe\n"),
	BAD("bad endpoint priority", "[endpoint]\nservice = ces\npriority = high\n"),
	BAD("unknown service", "[endpoint]\nservice = xcep\n"),
	BAD("[endpoint] without service", "[endpoint]\nauth = password\npriority = 2\n"),
	BAD("[endpoint] without any key", "[endpoint]\n"),
	BAD("[publish] without uri", "[publish]\nauth = password\npriority = 2\n"),
	BAD("[publish] without any key", "[publish]\n"),
	BAD("[publish] with an endpoint key", "[publish]\nuri = https://x.test/ces\nservice = ces\n"),
	BAD("[publish] unknown auth", "[publish]\nuri = https://x.test/ces\nauth = ntlm\n"),
	BAD("[publish] bad bool", "[publish]\nuri = https://x.test/ces\nrenewal_only = 2\n"),
	BAD("[publish] bad priority", "[publish]\nuri = https://x.test/ces\npriority = -2\n"),
	BAD("kerberos CES endpoint without keytab", "[endpoint]\nservice = ces\nauth = kerberos\n"),
	BAD("kerberos CEP endpoint without keytab",
	    "[server]\nspn = HTTP/localhost\nclient_ca = ca.pem\n"
	    "[endpoint]\nservice = cep\nauth = kerberos\n"),
	BAD("certificate endpoint without client_ca",
	    "[server]\nkeytab = http.keytab\n[endpoint]\nservice = ces\nauth = certificate\n"),
	BAD("certificate CEP endpoint without client_ca",
	    "[endpoint]\nservice = cep\nauth = certificate\n"),
	BAD("unknown channel_binding", "[server]\nchannel_binding = maybe\n"),
	BAD("channel_binding as a bool", "[server]\nchannel_binding = yes\n"),
	BAD("empty keytab", "[server]\nkeytab =\n"),
	BAD("empty spn", "[server]\nspn = \n"),
	BAD("empty client_ca", "[server]\nclient_ca =\n"),
	BAD("keytab in [endpoint]", "[endpoint]\nservice = ces\nkeytab = http.keytab\n"),
};

static void
test_bad(void **state)
{
	static const char *const before[] = {
		"listen = 127.0.0.1:9443\n",         /* a key before any section */
		"workers = 4\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *t = &bad_cases[i];
		struct oc_config c;
		int r = load(NULL, t->text, t->len, &c);

		if (r != OC_ERR_CONFIG)
			fail_msg("\"%s\": %s, want %s", t->name, oc_strerror(r),
			    oc_strerror(OC_ERR_CONFIG));
		assert_cleared(&c);
	}
	for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		char text[1024];
		struct oc_config c;

		snprintf(text, sizeof(text), "%s%s", before[i], minimal_conf);
		assert_int_equal(load(NULL, text, strlen(text), &c), OC_ERR_CONFIG);
		assert_cleared(&c);
	}
}

/* Every line of MINIMAL is needed: without any one of them the file is refused. */
static void
test_minimal_is_minimal(void **state)
{
	const char *p = minimal_conf, *e;
	size_t nlines = 0;

	(void)state;
	for (; (e = strchr(p, '\n')) != NULL; p = e + 1) {
		char text[sizeof(minimal_conf)];
		size_t head = (size_t)(p - minimal_conf);
		struct oc_config c;
		int r;

		memcpy(text, minimal_conf, head);
		strcpy(text + head, e + 1);
		r = load(NULL, text, strlen(text), &c);
		if (r != OC_ERR_CONFIG)
			fail_msg("without \"%.*s\": %s, want %s", (int)(e - p), p, oc_strerror(r),
			    oc_strerror(OC_ERR_CONFIG));
		assert_cleared(&c);
		nlines++;
	}
	assert_int_equal(nlines, 16);
	/* and without the whole [endpoint] section */
	{
		struct oc_config c;
		size_t n = strlen(minimal_conf) - strlen("[endpoint]\nservice = ces\n");

		assert_int_equal(load(NULL, minimal_conf, n, &c), OC_ERR_CONFIG);
		assert_cleared(&c);
	}
}

/* The file is at most 256 KiB; a missing file is not found. */
static void
test_file_limits(void **state)
{
	const size_t max = 256 * 1024;
	char *text = malloc(max + 1);
	size_t n = strlen(minimal_conf);
	struct oc_config c;
	char path[128];

	(void)state;
	assert_non_null(text);
	memcpy(text, minimal_conf, n);
	memset(text + n, '#', max - n - 1);
	text[max - 1] = '\n';
	assert_int_equal(load(NULL, text, max, &c), OC_OK);
	oc_config_clear(&c);
	text[max - 1] = '#';
	text[max] = '\n';
	assert_int_equal(load(NULL, text, max + 1, &c), OC_ERR_LIMIT);
	assert_cleared(&c);
	free(text);
	snprintf(path, sizeof(path), "%s/no-such.conf", tmp);
	assert_int_equal(oc_config_load(path, &c), OC_ERR_NOT_FOUND);
	assert_cleared(&c);
	/* clear is NULL-safe and idempotent */
	oc_config_clear(NULL);
	oc_config_clear(&c);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/oc-config-XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_relative_file_name),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_minimal_is_minimal),
		cmocka_unit_test(test_file_limits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
