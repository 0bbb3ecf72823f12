/* Client of the auth process (authsvc.h). */
#include "auth/authsvc_int.h"

int
oc_authsvc_remote_new(int fd, struct oc_authsvc **sp)
{
	(void)fd;
	*sp = NULL;
	return OC_ERR_NOT_SUPPORTED;
}
