/*
 * opences: client_policy_parse (GetPoliciesResponse or fault from a CEP) on
 * arbitrary bytes. What parses must be internally consistent: bounded counts,
 * resolved references pointing into the OID table, and the key choice and
 * endpoint order must run on every template without trouble.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "common/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
in_oids(const struct client_policy *pol, const char *p)
{
	if (p == NULL)
		return 1;
	for (size_t i = 0; i < pol->noids; i++)
		if (pol->oids[i].value == p)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct client_policy pol;
	struct client_rng rng;

	memset(&pol, 0, sizeof(pol));
	if (client_policy_parse(data, size, &pol) != OC_OK) {
		if (pol.ntemplates != 0 || pol.ncas != 0 || pol.noids != 0 || pol.is_fault)
			abort();        /* never a half-built result */
		return 0;
	}
	if (pol.ntemplates > OC_TEMPLATES_MAX || pol.ncas > OC_LIST_MAX)
		abort();
	if (pol.is_fault && (pol.fault.reason == NULL || pol.ntemplates != 0))
		abort();
	client_rng_seed(&rng, size);
	for (size_t i = 0; i < pol.ntemplates; i++) {
		const struct client_template *t = &pol.templates[i];
		struct client_keyspec ks;
		struct client_endpoint *e = NULL;
		size_t n = 0;

		if (t->cn == NULL || strlen(t->cn) > OC_TEMPLATE_NAME_MAX)
			abort();
		if (!in_oids(&pol, t->oid) || !in_oids(&pol, t->alg_oid) || !in_oids(&pol, t->hash_oid))
			abort();
		if (client_policy_find(&pol, t->cn) == NULL)
			abort();
		if (client_template_keyspec(t, &ks) == OC_OK &&
		    (ks.bits < 256 || ks.bits > OC_RSA_MAX_BITS))
			abort();
		if (client_order_endpoints(&pol, t, CLIENT_AUTH_PASSWORD, &rng, &e, &n) != OC_OK)
			abort();
		for (size_t k = 1; k < n; k++)
			if (e[k - 1].priority > e[k].priority)
				abort();
		free(e);
	}
	client_policy_clear(&pol);
	return 0;
}
