/* Command line of opences: `opences enroll|renew|policy|autoenroll ...`, --help. */
#include "client/client.h"
#include "client/autoenroll.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "pkix/pkix.h"

enum {
	OPT_POLICY_URL = 256, OPT_AUTH, OPT_USER, OPT_PASSWORD_FILE, OPT_TEMPLATE,
	OPT_CA_FILE, OPT_SUBJECT, OPT_DNS, OPT_KEY_OUT, OPT_CERT_OUT, OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT, OPT_JSON, OPT_TLS_CERT, OPT_TLS_KEY, OPT_CERT, OPT_KEY,
	OPT_NEW_KEY, OPT_STORE, OPT_ONCE, OPT_DAEMON, OPT_INTERVAL,
};

static const struct option long_opts[] = {
	{ "policy-url",      required_argument, NULL, OPT_POLICY_URL },
	{ "auth",            required_argument, NULL, OPT_AUTH },
	{ "user",            required_argument, NULL, OPT_USER },
	{ "password-file",   required_argument, NULL, OPT_PASSWORD_FILE },
	{ "tls-cert",        required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key",         required_argument, NULL, OPT_TLS_KEY },
	{ "template",        required_argument, NULL, OPT_TEMPLATE },
	{ "ca-file",         required_argument, NULL, OPT_CA_FILE },
	{ "subject",         required_argument, NULL, OPT_SUBJECT },
	{ "dns",             required_argument, NULL, OPT_DNS },
	{ "key-out",         required_argument, NULL, OPT_KEY_OUT },
	{ "cert-out",        required_argument, NULL, OPT_CERT_OUT },
	{ "cert",            required_argument, NULL, OPT_CERT },
	{ "key",             required_argument, NULL, OPT_KEY },
	{ "new-key",         no_argument,       NULL, OPT_NEW_KEY },
	{ "timeout",         required_argument, NULL, OPT_TIMEOUT },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "json",            no_argument,       NULL, OPT_JSON },
	{ "store",           required_argument, NULL, OPT_STORE },
	{ "once",            no_argument,       NULL, OPT_ONCE },
	{ "daemon",          no_argument,       NULL, OPT_DAEMON },
	{ "interval",        required_argument, NULL, OPT_INTERVAL },
	{ "verbose",         no_argument,       NULL, 'v' },
	{ "help",            no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

uint32_t
client_auth_from_name(const char *s)
{
	if (strcasecmp(s, "password") == 0 || strcasecmp(s, "usernamepassword") == 0)
		return CLIENT_AUTH_PASSWORD;
	if (strcasecmp(s, "kerberos") == 0)
		return CLIENT_AUTH_KERBEROS;
	if (strcasecmp(s, "certificate") == 0)
		return CLIENT_AUTH_CERTIFICATE;
	return 0;
}

const char *
client_auth_name(uint32_t auth)
{
	switch (auth) {
	case CLIENT_AUTH_ANONYMOUS:   return "anonymous";
	case CLIENT_AUTH_KERBEROS:    return "kerberos";
	case CLIENT_AUTH_PASSWORD:    return "password";
	case CLIENT_AUTH_CERTIFICATE: return "certificate";
	default:                      return "unknown";
	}
}

void
client_usage(enum client_cmd cmd, FILE *fp)
{
	static const char common[] =
	    "  --policy-url URL        CEP (MS-XCEP) URL; repeat for replicas, tried in random order\n"
	    "  --auth METHOD           password | kerberos | certificate\n"
	    "  --user NAME             user name for --auth password (UPN or DOMAIN\\user)\n"
	    "  --password-file FILE    file whose first line is the password (never on the command line)\n"
	    "  --tls-cert FILE         client certificate (PEM) for --auth certificate\n"
	    "  --tls-key FILE          its private key (PEM)\n"
	    "  --ca-file CA.pem        CA bundle that signs the servers' TLS certificates\n"
	    "  --timeout SECONDS       whole exchange timeout (default 30)\n"
	    "  --connect-timeout SEC   connection timeout per URI (default 5)\n"
	    "  -v, --verbose           log progress to stderr\n"
	    "  -h, --help              this text\n";

	switch (cmd) {
	case CLIENT_CMD_ENROLL:
		fprintf(fp,
		    "usage: opences enroll --policy-url URL [--policy-url URL2 ...] --auth password\n"
		    "           --user NAME --password-file FILE --template NAME --ca-file CA.pem\n"
		    "           [--subject CN=...] [--dns NAME ...] --key-out KEY --cert-out CERT\n"
		    "           [--timeout SECONDS] [--connect-timeout SECONDS] [-v]\n\n"
		    "Fetch the enrollment policy, generate the key the template asks for, submit a\n"
		    "PKCS#10 to the template's enrollment services and store key and certificate.\n\n"
		    "%s"
		    "  --template NAME         template common name (case-insensitive)\n"
		    "  --subject DN            subject, e.g. CN=host.example.com,O=Example\n"
		    "  --dns NAME              DNS name for the subjectAltName (repeatable)\n"
		    "  --key-out FILE          private key output (PEM PKCS#8, mode 0600)\n"
		    "  --cert-out FILE         certificate output (PEM)\n\n"
		    "Exit status: 0 issued, 1 error, 2 denied, 3 template not offered,\n"
		    "4 pending (RequestID printed), 5 no service reachable.\n", common);
		break;
	case CLIENT_CMD_RENEW:
		fprintf(fp,
		    "usage: opences renew --cert CERT --key KEY [--new-key] --policy-url URL\n"
		    "           [--policy-url URL2 ...] --auth password --user NAME\n"
		    "           --password-file FILE --ca-file CA.pem --key-out KEY --cert-out CERT\n"
		    "           [--timeout SECONDS] [--connect-timeout SECONDS] [-v]\n\n"
		    "Renew a certificate as Windows does: fetch the enrollment policy, find the\n"
		    "template the certificate was issued under, request a certificate with the same\n"
		    "subject and subjectAltName, the request signed with the current key (CMS), and\n"
		    "send it to the template's renewal-only enrollment services first, then to the\n"
		    "others. Key and certificate are stored as by `opences enroll`.\n\n"
		    "%s"
		    "  --cert FILE             the certificate to renew (PEM or DER)\n"
		    "  --key FILE              its private key (PEM, unencrypted); signs the request\n"
		    "  --new-key               generate a new key as the template asks (default: keep\n"
		    "                          the current key, written again to --key-out)\n"
		    "  --key-out FILE          private key output (PEM PKCS#8, mode 0600)\n"
		    "  --cert-out FILE         certificate output (PEM)\n\n"
		    "Exit status: 0 issued, 1 error, 2 denied, 3 the certificate's template is not\n"
		    "offered, 4 pending (RequestID printed), 5 no service reachable.\n", common);
		break;
	case CLIENT_CMD_AUTOENROLL:
		fprintf(fp,
		    "usage: opences autoenroll --policy-url URL [--policy-url URL2 ...] --auth METHOD\n"
		    "           [credentials] --ca-file CA.pem --store DIR [--once | --daemon]\n"
		    "           [--interval SECONDS] [-v]\n\n"
		    "Keep a valid certificate for every template the policy marks for\n"
		    "autoenrollment (autoEnroll permission and the AUTO_ENROLLMENT flag) in DIR:\n"
		    "enroll when missing or expired, renew with a signed renewal once the\n"
		    "template's renewal period is reached, replace certificates of superseded\n"
		    "templates (the old files are kept with a .superseded suffix), retry failures\n"
		    "with exponential back-off. DIR holds TEMPLATE.key (mode 0600), TEMPLATE.pem\n"
		    "and state.json.\n\n"
		    "%s"
		    "  --store DIR             the local store (created with mode 0700)\n"
		    "  --once                  one pass, then exit (default; for a timer)\n"
		    "  --daemon                pass after pass until SIGTERM or SIGINT\n"
		    "  --interval SECONDS      longest wait between passes (default 28800)\n\n"
		    "Exit status (--once): 0 all good, 1 error, 2 some request denied,\n"
		    "4 some request pending, 5 no service reachable. --daemon exits 0 on SIGTERM.\n",
		    common);
		break;
	case CLIENT_CMD_POLICY:
		fprintf(fp,
		    "usage: opences policy --policy-url URL [--policy-url URL2 ...] --auth password\n"
		    "           --user NAME --password-file FILE --ca-file CA.pem [--json] [-v]\n\n"
		    "Print the templates the caller may enroll for and the enrollment service URIs.\n\n"
		    "%s"
		    "  --json                  machine-readable output\n", common);
		break;
	default:
		fprintf(fp,
		    "usage: opences COMMAND [OPTIONS]\n\n"
		    "Commands:\n"
		    "  enroll    request a certificate (MS-XCEP policy, then MS-WSTEP enrollment)\n"
		    "  renew     renew a certificate with a request signed by its current key\n"
		    "  policy    show the templates and enrollment services offered to the caller\n"
		    "  autoenroll  keep the certificates of autoenrollment templates in a store\n"
		    "  retrieve  collect the certificate of a pending request once approved\n\n"
		    "Run `opences COMMAND --help` for the options of a command.\n");
		break;
	}
}

void
client_opts_clear(struct client_opts *o)
{
	if (o == NULL)
		return;
	oc_strlist_free(&o->policy_urls);
	oc_strlist_free(&o->dns);
	free(o->user);
	free(o->password_file);
	free(o->tls_cert);
	free(o->tls_key);
	free(o->template_name);
	free(o->ca_file);
	free(o->subject);
	free(o->key_out);
	free(o->cert_out);
	free(o->cert);
	free(o->key);
	free(o->store);
	memset(o, 0, sizeof(*o));
}

static int
parse_long(const char *s, long lo, long hi, long *v)
{
	char *end = NULL;
	long x;

	if (*s < '0' || *s > '9')
		return OC_ERR_INVALID;
	x = strtol(s, &end, 10);
	if (*end != '\0' || x < lo || x > hi)
		return OC_ERR_INVALID;
	*v = x;
	return OC_OK;
}

static int
parse_seconds(const char *s, long *v)
{
	return parse_long(s, 1, 3600, v);
}

/* Set a single-valued string option; repeating it is a usage error. */
static int
set_once(char **dst, const char *val, const char *name)
{
	if (*dst != NULL) {
		fprintf(stderr, "opences: --%s given twice\n", name);
		return OC_ERR_INVALID;
	}
	if ((*dst = strdup(val)) == NULL)
		return OC_ERR_NOMEM;
	return OC_OK;
}

static int
check_url(const char *u)
{
	if (strncasecmp(u, "https://", 8) != 0 || u[8] == '\0' || strlen(u) > 2048) {
		fprintf(stderr, "opences: not an https:// URL: %s\n", u);
		return OC_ERR_INVALID;
	}
	return OC_OK;
}

static int
need(const void *v, const char *name)
{
	if (v == NULL) {
		fprintf(stderr, "opences: --%s is required\n", name);
		return OC_ERR_INVALID;
	}
	return OC_OK;
}

static int
validate(struct client_opts *o)
{
	int r;

	if (o->policy_urls.n == 0) {
		fprintf(stderr, "opences: at least one --policy-url is required\n");
		return OC_ERR_INVALID;
	}
	if (o->auth == 0) {
		fprintf(stderr, "opences: --auth password|kerberos|certificate is required\n");
		return OC_ERR_INVALID;
	}
	if (o->auth == CLIENT_AUTH_PASSWORD &&
	    ((r = need(o->user, "user")) != OC_OK ||
	    (r = need(o->password_file, "password-file")) != OC_OK))
		return r;
	if (o->auth == CLIENT_AUTH_CERTIFICATE && (r = need(o->tls_cert, "tls-cert")) != OC_OK)
		return r;
	if (o->user != NULL && strlen(o->user) > OC_USERNAME_MAX) {
		fprintf(stderr, "opences: --user is too long\n");
		return OC_ERR_INVALID;
	}
	if ((r = need(o->ca_file, "ca-file")) != OC_OK)
		return r;
	if (o->cmd == CLIENT_CMD_RENEW &&
	    ((r = need(o->cert, "cert")) != OC_OK || (r = need(o->key, "key")) != OC_OK))
		return r;
	if (o->cmd == CLIENT_CMD_ENROLL || o->cmd == CLIENT_CMD_RENEW) {
		if ((o->cmd == CLIENT_CMD_ENROLL &&
		    (r = need(o->template_name, "template")) != OC_OK) ||
		    (r = need(o->key_out, "key-out")) != OC_OK ||
		    (r = need(o->cert_out, "cert-out")) != OC_OK)
			return r;
		if (strcmp(o->key_out, o->cert_out) == 0) {
			fprintf(stderr, "opences: --key-out and --cert-out must differ\n");
			return OC_ERR_INVALID;
		}
		if (o->subject != NULL) {
			X509_NAME *nm = NULL;
			if (strlen(o->subject) > OC_SUBJECT_MAX ||
			    pkix_name_parse(o->subject, &nm) != OC_OK) {
				fprintf(stderr, "opences: bad --subject '%s' (want e.g. "
				    "CN=host.example.com,O=Example)\n", o->subject);
				return OC_ERR_INVALID;
			}
			X509_NAME_free(nm);
		}
	}
	if (o->cmd == CLIENT_CMD_AUTOENROLL) {
		if ((r = need(o->store, "store")) != OC_OK)
			return r;
		if (o->once && o->daemon) {
			fprintf(stderr, "opences: --once and --daemon exclude each other\n");
			return OC_ERR_INVALID;
		}
		if (!o->daemon)
			o->once = 1;
		if (o->interval == 0)
			o->interval = CLIENT_AE_INTERVAL_DEFAULT;
	}
	if (o->timeout == 0)
		o->timeout = OC_CLIENT_TIMEOUT_DEFAULT;
	if (o->connect_timeout == 0)
		o->connect_timeout = OC_CLIENT_CONNECT_TIMEOUT_DEFAULT;
	return OC_OK;
}

static const char *
cmd_name(enum client_cmd cmd)
{
	switch (cmd) {
	case CLIENT_CMD_ENROLL: return "enroll";
	case CLIENT_CMD_RENEW:  return "renew";
	case CLIENT_CMD_AUTOENROLL: return "autoenroll";
	default:                return "policy";
	}
}

/*
 * getopt_long accepts unambiguous abbreviations ("--password" would mean
 * --password-file): require every long option to be spelled out.
 */
static int
check_spelled_out(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *eq;
		size_t n;
		int found = 0;

		if (strcmp(a, "--") == 0)
			break;
		if (strncmp(a, "--", 2) != 0)
			continue;
		a += 2;
		n = (eq = strchr(a, '=')) ? (size_t)(eq - a) : strlen(a);
		for (const struct option *lo = long_opts; lo->name != NULL; lo++)
			if (strlen(lo->name) == n && strncmp(lo->name, a, n) == 0)
				found = 1;
		if (!found) {
			fprintf(stderr, "opences: unknown option '%s'\n", argv[i]);
			return OC_ERR_INVALID;
		}
	}
	return OC_OK;
}

int
client_opts_parse(int argc, char **argv, struct client_opts *o)
{
	int c, r = OC_OK;

	memset(o, 0, sizeof(*o));
	if (argc < 2) {
		client_usage(CLIENT_CMD_NONE, stderr);
		return OC_ERR_INVALID;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		client_usage(CLIENT_CMD_NONE, stdout);
		o->help = 1;
		return OC_OK;
	}
	if (strcmp(argv[1], "enroll") == 0)
		o->cmd = CLIENT_CMD_ENROLL;
	else if (strcmp(argv[1], "policy") == 0)
		o->cmd = CLIENT_CMD_POLICY;
	else if (strcmp(argv[1], "renew") == 0)
		o->cmd = CLIENT_CMD_RENEW;
	else if (strcmp(argv[1], "autoenroll") == 0)
		o->cmd = CLIENT_CMD_AUTOENROLL;
	else {
		fprintf(stderr, "opences: unknown command '%s'\n", argv[1]);
		client_usage(CLIENT_CMD_NONE, stderr);
		return OC_ERR_INVALID;
	}
	if (check_spelled_out(argc, argv) != OC_OK)
		return OC_ERR_INVALID;
	optind = 0;     /* glibc: full re-initialisation (tests parse many times) */
	opterr = 1;
	while ((c = getopt_long(argc - 1, argv + 1, "vh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_POLICY_URL:
			if ((r = check_url(optarg)) != OC_OK)
				goto out;
			if (o->policy_urls.n >= OC_LIST_MAX) {
				fprintf(stderr, "opences: too many --policy-url\n");
				r = OC_ERR_INVALID;
				goto out;
			}
			if (oc_strlist_contains(&o->policy_urls, optarg))
				break;
			if ((r = oc_strlist_add(&o->policy_urls, optarg)) != OC_OK)
				goto out;
			break;
		case OPT_AUTH:
			if ((o->auth = client_auth_from_name(optarg)) == 0) {
				fprintf(stderr, "opences: unknown --auth '%s' "
				    "(password, kerberos, certificate)\n", optarg);
				r = OC_ERR_INVALID;
				goto out;
			}
			break;
		case OPT_USER:
			r = set_once(&o->user, optarg, "user");
			break;
		case OPT_PASSWORD_FILE:
			r = set_once(&o->password_file, optarg, "password-file");
			break;
		case OPT_TLS_CERT:
			r = set_once(&o->tls_cert, optarg, "tls-cert");
			break;
		case OPT_TLS_KEY:
			r = set_once(&o->tls_key, optarg, "tls-key");
			break;
		case OPT_TEMPLATE:
			if (o->cmd != CLIENT_CMD_ENROLL)
				goto not_here;
			r = set_once(&o->template_name, optarg, "template");
			break;
		case OPT_CA_FILE:
			r = set_once(&o->ca_file, optarg, "ca-file");
			break;
		case OPT_SUBJECT:
			if (o->cmd != CLIENT_CMD_ENROLL)
				goto not_here;
			r = set_once(&o->subject, optarg, "subject");
			break;
		case OPT_DNS:
			if (o->cmd != CLIENT_CMD_ENROLL)
				goto not_here;
			if (o->dns.n >= OC_SAN_MAX_ENTRIES || optarg[0] == '\0' ||
			    strlen(optarg) > 253) {
				fprintf(stderr, "opences: bad or too many --dns\n");
				r = OC_ERR_INVALID;
				goto out;
			}
			r = oc_strlist_add(&o->dns, optarg);
			break;
		case OPT_KEY_OUT:
			if (o->cmd != CLIENT_CMD_ENROLL && o->cmd != CLIENT_CMD_RENEW)
				goto not_here;
			r = set_once(&o->key_out, optarg, "key-out");
			break;
		case OPT_CERT_OUT:
			if (o->cmd != CLIENT_CMD_ENROLL && o->cmd != CLIENT_CMD_RENEW)
				goto not_here;
			r = set_once(&o->cert_out, optarg, "cert-out");
			break;
		case OPT_CERT:
			if (o->cmd != CLIENT_CMD_RENEW)
				goto not_here;
			r = set_once(&o->cert, optarg, "cert");
			break;
		case OPT_KEY:
			if (o->cmd != CLIENT_CMD_RENEW)
				goto not_here;
			r = set_once(&o->key, optarg, "key");
			break;
		case OPT_NEW_KEY:
			if (o->cmd != CLIENT_CMD_RENEW)
				goto not_here;
			o->new_key = 1;
			break;
		case OPT_TIMEOUT:
			if ((r = parse_seconds(optarg, &o->timeout)) != OC_OK)
				fprintf(stderr, "opences: bad --timeout (1..3600)\n");
			break;
		case OPT_CONNECT_TIMEOUT:
			if ((r = parse_seconds(optarg, &o->connect_timeout)) != OC_OK)
				fprintf(stderr, "opences: bad --connect-timeout (1..3600)\n");
			break;
		case OPT_JSON:
			if (o->cmd != CLIENT_CMD_POLICY)
				goto not_here;
			o->json = 1;
			break;
		case OPT_STORE:
			if (o->cmd != CLIENT_CMD_AUTOENROLL)
				goto not_here;
			r = set_once(&o->store, optarg, "store");
			break;
		case OPT_ONCE:
		case OPT_DAEMON:
			if (o->cmd != CLIENT_CMD_AUTOENROLL)
				goto not_here;
			*(c == OPT_ONCE ? &o->once : &o->daemon) = 1;
			break;
		case OPT_INTERVAL:
			if (o->cmd != CLIENT_CMD_AUTOENROLL)
				goto not_here;
			if ((r = parse_long(optarg, 1, CLIENT_AE_INTERVAL_MAX, &o->interval)) != OC_OK)
				fprintf(stderr, "opences: bad --interval (1..%d)\n",
				    CLIENT_AE_INTERVAL_MAX);
			break;
		case 'v':
			o->verbose = 1;
			break;
		case 'h':
			client_usage(o->cmd, stdout);
			o->help = 1;
			r = OC_OK;
			goto out;
		default:
			goto bad;
		}
		if (r != OC_OK)
			goto out;
	}
	if (optind < argc - 1) {
		fprintf(stderr, "opences: unexpected argument '%s'\n", argv[optind + 1]);
		goto bad;
	}
	r = validate(o);
	goto out;
not_here:
	fprintf(stderr, "opences: that option is not valid for `opences %s`\n",
	    cmd_name(o->cmd));
bad:
	fprintf(stderr, "opences: run `opences %s --help` for usage\n", cmd_name(o->cmd));
	r = OC_ERR_INVALID;
out:
	if (r != OC_OK)
		client_opts_clear(o);
	return r;
}
