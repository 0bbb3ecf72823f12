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

int
main(int argc, char **argv)
{
	char dbuf[4096], sbuf[4096], cbuf[4096];
	struct oc_config cfg;
	int r;

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
			oc_config_clear(&cfg);
		}
		return oc_admin_main(dbuf, sbuf, argc - 3, argv + 3);
	}
	if (!strcmp(argv[1], "--config") && argc >= 4) {
		if (oc_config_load(argv[2], &cfg) != OC_OK)
			return 1;
		if (cfg.audit_log)
			(void)oc_audit_open(cfg.audit_log);
		r = oc_admin_main(cfg.dir_path, cfg.store_path, argc - 3, argv + 3);
		oc_config_clear(&cfg);
		return r;
	}
	usage(stderr);
	return 1;
}
