/* The CA store over PostgreSQL (libpq): connection, open, batches. */
#include "store/store.h"
#include "store/store_backend.h"

#include "common/log.h"

int
store_pg_open(const char *url, struct oc_store **sp)
{
	char shown[256];

	*sp = NULL;
	oc_store_url_redact(url, shown, sizeof(shown));
	log_error("store %s: PostgreSQL not built in yet", shown);
	return OC_ERR_STORE;
}
