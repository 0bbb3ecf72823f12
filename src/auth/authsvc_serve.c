/* The auth process (authsvc.h). */
#include "auth/authsvc_int.h"

int
oc_authsvc_serve(const struct oc_authsvc_config *cfg, int fd)
{
	(void)cfg;
	(void)fd;
	return OC_ERR_NOT_SUPPORTED;
}
