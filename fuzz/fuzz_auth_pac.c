/*
 * libFuzzer: MS-PAC decoding (src/auth/pac.h). The same bytes go to the whole
 * PAC parser and to the logon-info parser; whatever decodes must keep the
 * invariants: the user SID is the domain SID plus one RID, every group SID is
 * S-1-... text, no more than OC_PAC_SIDS_MAX of them, no duplicates.
 * Seeds: tests/vectors/auth/pac-samba-*.bin (real Samba PACs).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth/pac.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const struct oc_pac_info *info)
{
	size_t dl;

	if (info->user_sid == NULL || info->domain_sid == NULL)
		__builtin_trap();
	dl = strlen(info->domain_sid);
	if (strncmp(info->user_sid, info->domain_sid, dl) != 0 ||
	    info->user_sid[dl] != '-' || strlen(info->user_sid) > OC_PAC_SID_TEXT_MAX)
		__builtin_trap();
	if (info->group_sids.n == 0 || info->group_sids.n > OC_PAC_SIDS_MAX)
		__builtin_trap();      /* the primary group is always there */
	for (size_t i = 0; i < info->group_sids.n; i++) {
		if (strncmp(info->group_sids.v[i], "S-1-", 4) != 0)
			__builtin_trap();
		for (size_t j = 0; j < i; j++)
			if (strcmp(info->group_sids.v[i], info->group_sids.v[j]) == 0)
				__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oc_pac_info info;

	if (oc_pac_parse(data, size, &info) == OC_OK)
		check(&info);
	oc_pac_info_clear(&info);
	if (oc_pac_logon_info_parse(data, size, &info) == OC_OK)
		check(&info);
	oc_pac_info_clear(&info);
	return 0;
}
