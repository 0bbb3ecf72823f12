/*
 * `opencesd demo --dir DIR --listen ADDR`: a complete one-host installation
 * in DIR (created on first use, kept across restarts): CA, TLS certificate
 * for localhost/127.0.0.1, default templates, account "demo" with Enroll on
 * every default template; then serves CEP and CES until SIGTERM: the
 * UsernamePassword and Certificate endpoints (client certificates issued by
 * the demo CA), and the Kerberos ones with --keytab FILE [--spn HTTP/host].
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "ca/ca.h"
#include "common/log.h"
#include "directory/directory.h"
#include "front/front.h"

#define DEMO_ACCOUNT "demo"

static int
random_text(char *out, size_t n)
{
	static const char alphabet[] =
	    "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
	unsigned char rnd[64];

	if (n > sizeof(rnd) + 1 || RAND_bytes(rnd, (int)(n - 1)) != 1)
		return OC_ERR_CRYPTO;
	for (size_t i = 0; i + 1 < n; i++)
		out[i] = alphabet[rnd[i] % (sizeof(alphabet) - 1)];
	out[n - 1] = '\0';
	return OC_OK;
}

static int
new_guid(char *out, size_t n)
{
	unsigned char g[16];

	if (RAND_bytes(g, sizeof(g)) != 1)
		return OC_ERR_CRYPTO;
	g[6] = (g[6] & 0x0f) | 0x40;
	g[8] = (g[8] & 0x3f) | 0x80;
	snprintf(out, n, "{%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
	    g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12],
	    g[13], g[14], g[15]);
	return OC_OK;
}

/* The policy ID of an existing demo configuration, so it stays stable. */
static int
existing_policy_id(const char *conf, char *out, size_t n)
{
	struct oc_config old;

	if (access(conf, F_OK) != 0 || oc_config_load(conf, &old) != OC_OK)
		return OC_ERR_NOT_FOUND;
	snprintf(out, n, "%s", old.policy_id);
	oc_config_clear(&old);
	return OC_OK;
}

/* host part of "127.0.0.1:8443" or "[::1]:8443", and port */
static int
split_listen(const char *listen, char *host, size_t hn, const char **port)
{
	const char *colon = strrchr(listen, ':');

	if (colon == NULL || colon == listen || colon[1] == '\0')
		return OC_ERR_CONFIG;
	if ((size_t)(colon - listen) >= hn)
		return OC_ERR_LIMIT;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	*port = colon + 1;
	return OC_OK;
}

static int
write_config(const char *dir, const char *conf, const char *listen, const char *policy_id,
    const char *keytab, const char *spn, const char *publish_listen)
{
	char host[256], buf[8192], krb[4096] = "", pub[1024] = "", name[160], plisten[300];
	char urls[1024] = "";
	const char *port;
	int n, r;

	if ((r = split_listen(listen, host, sizeof(host), &port)) != OC_OK)
		return r;
	/*
	 * CRLs and the CA certificate over plain HTTP, and their URIs in the
	 * certificates issued, only when asked (--publish-listen ADDR, or
	 * "port+1" for the listen port + 1): other uses of the demo expect
	 * certificates without CDP and AIA.
	 */
	if (publish_listen == NULL)
		publish_listen = "none";
	if (strcmp(publish_listen, "port+1") == 0) {
		long p = strtol(port, NULL, 10);
		if (p <= 0 || p >= 65535)
			return OC_ERR_CONFIG;
		snprintf(plisten, sizeof(plisten), "%s:%ld", host, p + 1);
	} else if (strlen(publish_listen) >= sizeof(plisten) || strchr(publish_listen, '\n'))
		return OC_ERR_CONFIG;
	else
		snprintf(plisten, sizeof(plisten), "%s", publish_listen);
	if (strcmp(plisten, "none") != 0) {
		if ((r = oc_ca_publish_name("OpenCES Demo CA", name, sizeof(name))) != OC_OK)
			return r;
		n = snprintf(pub, sizeof(pub), "publish_listen = %s\n", plisten);
		if (n < 0 || (size_t)n >= sizeof(pub))
			return OC_ERR_LIMIT;
		n = snprintf(urls, sizeof(urls), "cdp_url = http://%s/%s.crl\n"
		    "aia_url = http://%s/%s.crt\n", plisten, name, plisten, name);
		if (n < 0 || (size_t)n >= sizeof(urls))
			return OC_ERR_LIMIT;
	}
	if (keytab != NULL) {
		if (strchr(keytab, '\n') != NULL || (spn != NULL && strchr(spn, '\n') != NULL))
			return OC_ERR_CONFIG;
		n = snprintf(krb, sizeof(krb), "keytab = %s\n%s%s%s", keytab,
		    spn ? "spn = " : "", spn ? spn : "", spn ? "\n" : "");
		if (n < 0 || (size_t)n >= sizeof(krb))
			return OC_ERR_LIMIT;
	}
	n = snprintf(buf, sizeof(buf),
	    "# opencesd demo configuration (rewritten by `opencesd demo` on every start)\n"
	    "[server]\n"
	    "listen = %s\n"
	    "public_url = https://%s:%s\n"
	    "tls_cert = server.pem\n"
	    "tls_key = server.key\n"
	    "audit_log = audit.log\n"
	    "client_ca = ca.pem\n"
	    "%s%s"
	    "\n[ca]\n"
	    "name = OpenCES Demo CA\n"
	    "key = ca.key\n"
	    "cert = ca.pem\n"
	    "key_type = RSA2048\n"
	    "%s"
	    "publish_dir = pub\n"
	    "\n[store]\npath = ca.db\n"
	    "\n[directory]\npath = directory.db\n"
	    "\n[policy]\nid = %s\nfriendly_name = OpenCES demo policy\nnext_update_hours = 8\n"
	    "\n[endpoint]\nservice = cep\nauth = password\n"
	    "\n[endpoint]\nservice = ces\nauth = password\npriority = 1\n"
	    "\n[endpoint]\nservice = cep\nauth = certificate\n"
	    "\n[endpoint]\nservice = ces\nauth = certificate\npriority = 2\n"
	    "%s",
	    listen, host, port, pub, krb, urls, policy_id,
	    keytab ? "\n[endpoint]\nservice = cep\nauth = kerberos\n"
	    "\n[endpoint]\nservice = ces\nauth = kerberos\npriority = 3\n" : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return OC_ERR_LIMIT;
	(void)dir;
	return oc_file_write(conf, buf, (size_t)n, 0600);
}

/* The demo account, its password file, and Enroll on every template. */
static int
demo_account(const struct oc_config *cfg, const char *dir_path)
{
	struct oc_directory *dir = NULL;
	struct oc_identity id;
	struct oc_template **tv = NULL;
	char pwfile[4096], pw[25];
	size_t nt = 0;
	int r;

	memset(&id, 0, sizeof(id));
	snprintf(pwfile, sizeof(pwfile), "%s/demo-password", dir_path);
	if ((r = oc_dir_open(cfg->dir_path, 1, &dir)) != OC_OK)
		return r;
	if (oc_dir_account_get(dir, DEMO_ACCOUNT, &id) != OC_OK) {
		struct oc_identity attrs;

		memset(&attrs, 0, sizeof(attrs));
		attrs.name = DEMO_ACCOUNT;
		attrs.kind = OC_ACCOUNT_USER;
		attrs.upn = "demo@opences.test";
		attrs.mail = "demo@opences.test";
		attrs.dns_name = "demo.opences.test";
		attrs.dn = "CN=demo,CN=Users,DC=opences,DC=test";
		if ((r = random_text(pw, sizeof(pw))) != OC_OK ||
		    (r = oc_dir_account_add(dir, &attrs, pw)) != OC_OK ||
		    (r = oc_file_write(pwfile, pw, strlen(pw), 0600)) != OC_OK)
			goto out;
	} else if (access(pwfile, F_OK) != 0) {
		/* password file lost: set a new one */
		if ((r = random_text(pw, sizeof(pw))) != OC_OK ||
		    (r = oc_dir_account_set_password(dir, DEMO_ACCOUNT, pw)) != OC_OK ||
		    (r = oc_file_write(pwfile, pw, strlen(pw), 0600)) != OC_OK)
			goto out;
	}
	if ((r = oc_dir_template_list(dir, &tv, &nt)) != OC_OK)
		goto out;
	for (size_t i = 0; i < nt; i++)
		if ((r = oc_dir_grant(dir, tv[i]->cn, DEMO_ACCOUNT, OC_RIGHT_ENROLL)) != OC_OK)
			goto out;
out:
	explicit_bzero(pw, sizeof(pw));
	oc_dir_template_list_free(tv, nt);
	oc_identity_clear(&id);
	oc_dir_close(dir);
	return r;
}

static void
demo_usage(void)
{
	fprintf(stderr, "usage: opencesd demo --dir DIR --listen ADDRESS:PORT "
	    "[--keytab FILE [--spn HTTP/host]]\n"
	    "       [--publish-listen ADDRESS:PORT | port+1]  (CRLs and the CA certificate over\n"
	    "       plain HTTP, their URIs in issued certificates; default: none)\n");
}

int
oc_daemon_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "keytab", required_argument, NULL, 'k' },
		{ "spn", required_argument, NULL, 's' },
		{ "publish-listen", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *listen = "127.0.0.1:8443", *keytab = NULL, *spn = NULL;
	const char *publish_listen = NULL;
	char *keytab_abs = NULL;
	char conf[4096], policy_id[64], *cep_path = NULL;
	struct oc_config cfg;
	int c, r;

	memset(&cfg, 0, sizeof(cfg));
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:l:k:s:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'l': listen = optarg; break;
		case 'k': keytab = optarg; break;
		case 's': spn = optarg; break;
		case 'p': publish_listen = optarg; break;
		default: demo_usage(); return 1;
		}
	}
	if (dir == NULL || optind != argc || (spn != NULL && keytab == NULL)) {
		demo_usage();
		return 1;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_error("cannot create %s: %s", dir, strerror(errno));
		return 1;
	}
	snprintf(conf, sizeof(conf), "%s/opencesd.conf", dir);
	if (existing_policy_id(conf, policy_id, sizeof(policy_id)) != OC_OK &&
	    new_guid(policy_id, sizeof(policy_id)) != OC_OK)
		return 1;
	/* the configuration lives in DIR: a relative keytab name is the caller's */
	if (keytab != NULL && (keytab_abs = realpath(keytab, NULL)) == NULL) {
		log_error("keytab %s: %s", keytab, strerror(errno));
		return 1;
	}
	r = write_config(dir, conf, listen, policy_id, keytab_abs, spn, publish_listen);
	free(keytab_abs);
	if (r != OC_OK ||
	    (r = oc_config_load(conf, &cfg)) != OC_OK) {
		log_error("demo configuration: %s", oc_strerror(r));
		return 1;
	}
	if ((r = oc_daemon_init(&cfg)) != OC_OK || (r = demo_account(&cfg, dir)) != OC_OK) {
		log_error("demo set-up: %s", oc_strerror(r));
		oc_config_clear(&cfg);
		return 1;
	}
	if (oc_endpoint_path(OC_SERVICE_CEP, OC_AUTH_PASSWORD, cfg.ca_name, &cep_path) == OC_OK) {
		printf("OpenCES demo: CA certificate %s/ca.pem, account demo, password in %s/demo-password\n",
		    dir, dir);
		printf("CEP URL: %s%s\n", cfg.public_url, cep_path);
		printf("client certificates: issued by %s/ca.pem%s\n", dir,
		    keytab ? "; Kerberos endpoints served" : "");
		fflush(stdout);
	}
	free(cep_path);
	r = oc_daemon_serve(&cfg);
	oc_config_clear(&cfg);
	return r == OC_OK ? 0 : 1;
}
