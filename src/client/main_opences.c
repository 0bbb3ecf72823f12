/* opences: the enrollment client (MS-XCEP + MS-WSTEP). See client.h. */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "client/client.h"
#include "client/autoenroll.h"
#include "client/retrieve.h"
#include "common/log.h"

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
	struct client_opts o;
	int ex;

	oc_log_init("opences", OC_LOG_WARN);
	if (argc >= 2 && strcmp(argv[1], "retrieve") == 0) {   /* own options: retrieve.c */
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return CLIENT_EXIT_ERROR;
		ex = client_retrieve_main(argc, argv);
		curl_global_cleanup();
		return ex;
	}
	if (client_opts_parse(argc, argv, &o) != OC_OK)
		return CLIENT_EXIT_ERROR;
	if (o.help) {
		client_opts_clear(&o);
		return CLIENT_EXIT_OK;
	}
	if (o.verbose)
		oc_log_set_level(OC_LOG_DEBUG);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "opences: libcurl initialisation failed\n");
		client_opts_clear(&o);
		return CLIENT_EXIT_ERROR;
	}
	switch (o.cmd) {
	case CLIENT_CMD_ENROLL:
		ex = client_run_enroll(&o);
		break;
	case CLIENT_CMD_RENEW:
		ex = client_run_renew(&o);
		break;
	case CLIENT_CMD_AUTOENROLL:
		ex = client_run_autoenroll(&o);
		break;
	default:
		ex = client_run_policy(&o);
		break;
	}
	curl_global_cleanup();
	client_opts_clear(&o);
	return ex;
}
