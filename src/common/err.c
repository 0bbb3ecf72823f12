#include "common/err.h"

static const char *const oc_err_text[] = {
#define OC_ERR_STR(n, s) s,
	OC_ERR_LIST(OC_ERR_STR)
#undef OC_ERR_STR
};

const char *
oc_strerror(int err)
{
	if (err == OC_OK)
		return "success";
	if (err > OC_ERR__FIRST && err < OC_ERR__LAST)
		return oc_err_text[err - OC_ERR__FIRST - 1];
	return "unknown error";
}
