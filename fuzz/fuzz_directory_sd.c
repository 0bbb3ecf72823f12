/*
 * libFuzzer: Active Directory security descriptors (src/directory/ad_sd.h).
 * The input is parsed as nTSecurityDescriptor bytes; whatever parses must keep
 * its invariants (SIDs of at most 15 sub-authorities that survive text and
 * binary round trips, GUID text round trips) and the access check must answer
 * with nothing but OC_RIGHT_* bits for a token that holds every SID the SD
 * names plus Everyone and Authenticated Users.
 * Seeds: tests/vectors/directory/ad_sd_*.bin (templates.md 6.4).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directory/ad_sd.h"
#include "directory/directory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sid_roundtrip(const struct oc_ad_sid *s, struct oc_strlist *tok)
{
	char text[OC_AD_SID_TEXT_MAX];
	struct oc_ad_sid back;
	uint8_t bin[OC_AD_SID_BYTES_MAX];
	size_t n, used;

	if (s->nsub > OC_AD_SID_SUBAUTH_MAX)
		__builtin_trap();
	if (oc_ad_sid_to_text(s, text, sizeof(text)) != OC_OK)
		__builtin_trap();
	if (oc_ad_sid_from_text(text, &back) != OC_OK || !oc_ad_sid_eq(s, &back))
		__builtin_trap();
	oc_ad_sid_encode(s, bin, &n);
	if (oc_ad_sid_parse(bin, n, &back, &used) != OC_OK || used != n || !oc_ad_sid_eq(s, &back))
		__builtin_trap();
	if (tok != NULL && tok->n < 64 && oc_strlist_add(tok, text) != OC_OK)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oc_ad_sd *sd = NULL;
	struct oc_strlist tok = { 0 };
	char g[OC_AD_GUID_TEXT_LEN + 1];
	uint8_t gb[16];
	uint32_t rights = 0;

	if (oc_ad_sd_parse(data, size, &sd) != OC_OK) {
		if (sd != NULL)
			__builtin_trap();
		return 0;
	}
	if (sd->has_owner)
		sid_roundtrip(&sd->owner, NULL);
	if (sd->has_group)
		sid_roundtrip(&sd->group, NULL);
	if (oc_strlist_add(&tok, "S-1-1-0") != OC_OK || oc_strlist_add(&tok, "S-1-5-11") != OC_OK)
		__builtin_trap();
	for (size_t i = 0; i < sd->naces; i++) {
		const struct oc_ad_ace *a = &sd->aces[i];

		if (!a->known)
			continue;
		sid_roundtrip(&a->sid, &tok);
		if (a->object_flags & OC_AD_ACE_OBJECT_TYPE_PRESENT) {
			oc_ad_guid_to_text(a->object_type, g);
			if (oc_ad_guid_from_text(g, gb) != OC_OK || memcmp(gb, a->object_type, 16) != 0)
				__builtin_trap();
		}
	}
	if (oc_ad_sd_rights(sd, "S-1-5-21-1-2-3-1104", &tok, &rights) != OC_OK)
		__builtin_trap();
	if (rights & ~(OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL))
		__builtin_trap();
	if (!sd->has_dacl && rights != 0)
		__builtin_trap();
	oc_strlist_free(&tok);
	oc_ad_sd_free(sd);
	return 0;
}
