#include "model/identity.h"

#include <stdlib.h>
#include <string.h>

void
oc_identity_clear(struct oc_identity *id)
{
	if (id == NULL)
		return;
	free(id->name);
	free(id->upn);
	free(id->mail);
	free(id->dns_name);
	free(id->dn);
	free(id->sid);
	oc_strlist_free(&id->groups);
	memset(id, 0, sizeof(*id));
}

void
oc_identity_free(struct oc_identity *id)
{
	if (id == NULL)
		return;
	oc_identity_clear(id);
	free(id);
}

int
oc_identity_copy(struct oc_identity *d, const struct oc_identity *s)
{
	memset(d, 0, sizeof(*d));
	d->kind = s->kind;
	d->auth_type = s->auth_type;
	if ((s->name && !(d->name = strdup(s->name))) ||
	    (s->upn && !(d->upn = strdup(s->upn))) ||
	    (s->mail && !(d->mail = strdup(s->mail))) ||
	    (s->dns_name && !(d->dns_name = strdup(s->dns_name))) ||
	    (s->dn && !(d->dn = strdup(s->dn))) ||
	    (s->sid && !(d->sid = strdup(s->sid))) ||
	    oc_strlist_copy(&d->groups, &s->groups) != OC_OK) {
		oc_identity_clear(d);
		return OC_ERR_NOMEM;
	}
	return OC_OK;
}

const char *
oc_auth_type_name(enum oc_auth_type t)
{
	switch (t) {
	case OC_AUTH_ANONYMOUS: return "Anonymous";
	case OC_AUTH_KERBEROS: return "Kerberos";
	case OC_AUTH_PASSWORD: return "UsernamePassword";
	case OC_AUTH_CERTIFICATE: return "Certificate";
	}
	return "Unknown";
}
