#include "model/policy.h"

#include <stdlib.h>
#include <string.h>

void
oc_ca_entry_clear(struct oc_ca_entry *ca)
{
	if (ca == NULL)
		return;
	free(ca->name);
	free(ca->dns_host_name);
	free(ca->cert_der);
	oc_strlist_free(&ca->templates);
	for (size_t i = 0; i < ca->nuris; i++)
		free(ca->uris[i].uri);
	free(ca->uris);
	memset(ca, 0, sizeof(*ca));
}
