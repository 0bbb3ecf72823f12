/* opencesd: the OpenCES server (CA, policy service, enrollment service) and its admin CLI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common/log.h"
#include "daemon/admin.h"
#include "daemon/config.h"
#include "daemon/daemon.h"
#include "store/store.h"

int main(int argc, char **argv);

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: opencesd demo --dir DIR [--listen ADDRESS:PORT] [--keytab FILE [--spn HTTP/host]]\n"
	    "                     [--publish-listen ADDRESS:PORT|port+1]\n"
	    "       opencesd serve --config FILE\n"
	    "       opencesd init --config FILE\n"
	    "       opencesd (--dir DIR | --config FILE) OBJECT VERB [ARGS]\n"
	    "         OBJECT: template, account, group, ca, grant, revoke, request, cert, crl\n"
	    "         (opencesd --dir DIR help: every command)\n"
	    "       opencesd ad publish|show-sd --config FILE [ARGS]\n"
	    "       opencesd --version\n");
}

static int
with_config(const char *path, int serve)
{
	struct oc_config cfg;
	int r;

	if (oc_config_load(path, &cfg) != OC_OK)
		return 1;
	r = oc_daemon_init(&cfg);
	if (r == OC_OK && serve)
		r = oc_daemon_serve(&cfg);
	oc_config_clear(&cfg);
	return r == OC_OK ? 0 : 1;
}

/*
 * Admin commands with a configuration file: its directory and store. The
 * 'ad' commands also get --config, for the [directory] ldap_* settings.
 */
static int
with_admin_config(const char *path, int argc, char **argv)
{
	struct oc_config cfg;
	char **av = NULL;
	int r, has = 0;

	if (oc_config_load(path, &cfg) != OC_OK)
		return 1;
	if (cfg.audit_log)
		(void)oc_audit_open(cfg.audit_log);
	for (int i = 0; i < argc; i++)
		has |= !strcmp(argv[i], "--config");
	if (argc >= 1 && !strcmp(argv[0], "ad") && !has) {
		if ((av = calloc((size_t)argc + 3, sizeof(*av))) == NULL) {
			oc_config_clear(&cfg);
			return 1;
		}
		memcpy(av, argv, (size_t)argc * sizeof(*av));
		av[argc] = (char *)"--config";
		av[argc + 1] = (char *)path;
		argv = av;
		argc += 2;
	}
	r = oc_admin_main(cfg.dir_path, cfg.store_path, argc, argv);
	free(av);
	oc_config_clear(&cfg);
	return r;
}

int
main(int argc, char **argv)
{
	char dbuf[4096], sbuf[4096], cbuf[4096];
	struct oc_config cfg;

	oc_log_init("opencesd", getenv("OPENCES_DEBUG") ? OC_LOG_DEBUG : OC_LOG_INFO);
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("opencesd %s\n", OC_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "demo"))
		return oc_daemon_demo(argc - 1, argv + 1);
	if ((!strcmp(argv[1], "serve") || !strcmp(argv[1], "init")) && argc == 4 &&
	    !strcmp(argv[2], "--config"))
		return with_config(argv[3], !strcmp(argv[1], "serve"));
	if (!strcmp(argv[1], "--dir") && argc >= 4) {
		snprintf(dbuf, sizeof(dbuf), "%s/directory.db", argv[2]);
		snprintf(sbuf, sizeof(sbuf), "%s/ca.db", argv[2]);
		/* the server's audit log, when DIR holds its configuration */
		snprintf(cbuf, sizeof(cbuf), "%s/opencesd.conf", argv[2]);
		if (access(cbuf, R_OK) == 0 && oc_config_load(cbuf, &cfg) == OC_OK) {
			if (cfg.audit_log)
				(void)oc_audit_open(cfg.audit_log);
			/* a store the configuration names by URL (PostgreSQL) */
			if (cfg.store_path != NULL && oc_store_url_is_pg(cfg.store_path))
				snprintf(sbuf, sizeof(sbuf), "%s", cfg.store_path);
			oc_config_clear(&cfg);
		}
		return oc_admin_main(dbuf, sbuf, argc - 3, argv + 3);
	}
	if (!strcmp(argv[1], "--config") && argc >= 4)
		return with_admin_config(argv[2], argc - 3, argv + 3);
	/* opencesd ad publish|show-sd --config FILE ... */
	if (!strcmp(argv[1], "ad")) {
		for (int i = 2; i + 1 < argc; i++)
			if (!strcmp(argv[i], "--config"))
				return with_admin_config(argv[i + 1], argc - 1, argv + 1);
		fprintf(stderr, "opencesd: ad %s: --config FILE is required\n",
		    argc > 2 ? argv[2] : "publish");
		return 1;
	}
	usage(stderr);
	return 1;
}
