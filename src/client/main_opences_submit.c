/*
 * opences-submit: the certmonger CA helper (see client/certmonger.h).
 * Register it with `getcert add-ca -c NAME -e '/path/opences-submit OPTIONS'`.
 */
#include <stdio.h>

#include <curl/curl.h>

#include "client/certmonger.h"
#include "common/log.h"

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
	struct client_cm_opts o;
	struct client_cm_env e;
	int ex;

	oc_log_init("opences-submit", OC_LOG_WARN);
	client_cm_env_load(&e);
	if (client_cm_opts_parse(argc, argv, &o) != OC_OK) {
		/* certmonger reads stdout: say it there too */
		printf("opences-submit: bad options in the helper command line\n");
		return CLIENT_CM_UNDERCONFIGURED;
	}
	if (o.help) {
		client_cm_opts_clear(&o);
		return 0;
	}
	if (o.c.verbose)
		oc_log_set_level(OC_LOG_DEBUG);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		printf("opences-submit: libcurl initialisation failed\n");
		client_cm_opts_clear(&o);
		return CLIENT_CM_UNDERCONFIGURED;
	}
	ex = client_cm_run(&o, &e, stdout);
	curl_global_cleanup();
	client_cm_opts_clear(&o);
	return ex;
}
