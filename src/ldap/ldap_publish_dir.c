/*
 * What `opencesd ad publish` takes from the embedded directory: the
 * templates and their grants as SIDs of the domain (ldap_publish.h).
 */
#include "ldap/ldap_publish.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/limits.h"
#include "common/log.h"

static const struct {
	const char *name;
	const char *sid;        /* "-RID" under the domain, or a whole SID */
} well_known[] = {
	{ "Domain Users", "-513" },
	{ "Domain Computers", "-515" },
	{ "Domain Admins", "-512" },
	{ "Domain Controllers", "-516" },
	{ "Enterprise Admins", "-519" },
	{ "Authenticated Users", "S-1-5-11" },
	{ "Everyone", "S-1-1-0" },
};

int
oc_ldap_pub_principal_sid(struct oc_directory *dir, const struct oc_ad_sid *domain,
    const char *principal, struct oc_ad_sid *sid)
{
	char *text = NULL;
	int r;

	if (domain == NULL || principal == NULL || sid == NULL)
		return OC_ERR_INVALID;
	if (strncmp(principal, "S-1-", 4) == 0)
		return oc_ad_sid_from_text(principal, sid);
	if (dir != NULL && oc_dir_group_sid(dir, principal, &text) == OC_OK && text != NULL) {
		r = oc_ad_sid_from_text(text, sid);
		free(text);
		return r;
	}
	for (size_t i = 0; i < sizeof(well_known) / sizeof(well_known[0]); i++) {
		if (strcasecmp(principal, well_known[i].name) != 0)
			continue;
		if (well_known[i].sid[0] == 'S')
			return oc_ad_sid_from_text(well_known[i].sid, sid);
		return oc_ldap_sid_rid(domain, (uint32_t)strtoul(well_known[i].sid + 1, NULL, 10),
		    sid);
	}
	return OC_ERR_NOT_FOUND;
}

void
oc_ldap_pub_templates_free(struct oc_ldap_pub_template *tv, size_t n)
{
	for (size_t i = 0; tv != NULL && i < n; i++) {
		oc_template_free((struct oc_template *)tv[i].t);
		free((struct oc_ldap_sd_grant *)tv[i].grants);
	}
	free(tv);
}

static int
one(struct oc_directory *dir, const struct oc_ad_sid *domain, struct oc_template *t,
    struct oc_ldap_pub_template *pt)
{
	struct oc_dir_grant *gv = NULL;
	struct oc_ldap_sd_grant *sg = NULL;
	size_t ng = 0, n = 0;
	int r;

	if ((r = oc_dir_template_grants(dir, t->cn, &gv, &ng)) != OC_OK)
		goto out;
	if (ng > 0 && (sg = calloc(ng, sizeof(*sg))) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < ng; i++) {
		r = oc_ldap_pub_principal_sid(dir, domain, gv[i].principal, &sg[n].sid);
		if (r == OC_ERR_NOT_FOUND) {
			log_warn("template %s: %s has no SID in the domain; its grant is not published",
			    t->cn, gv[i].principal);
			continue;
		}
		if (r != OC_OK)
			goto out;
		sg[n++].rights = gv[i].rights;
	}
	pt->t = t;
	pt->grants = sg;
	pt->ngrants = n;
	sg = NULL;
	r = OC_OK;
out:
	free(sg);
	oc_dir_grants_free(gv, ng);
	return r;
}

int
oc_ldap_pub_templates_from_dir(struct oc_directory *dir, const struct oc_ad_sid *domain,
    const struct oc_ca_entry *ca, int all, struct oc_ldap_pub_template **tvp, size_t *np)
{
	struct oc_template **tl = NULL;
	struct oc_ldap_pub_template *tv = NULL;
	size_t nt = 0, n = 0;
	int r;

	if (dir == NULL || domain == NULL || tvp == NULL || np == NULL || (!all && ca == NULL))
		return OC_ERR_INVALID;
	if ((r = oc_dir_template_list(dir, &tl, &nt)) != OC_OK)
		return r;
	if (nt > 0 && (tv = calloc(nt, sizeof(*tv))) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		if (!all && !oc_strlist_contains_ci(&ca->templates, tl[i]->cn))
			continue;
		if ((r = one(dir, domain, tl[i], &tv[n])) != OC_OK)
			goto out;
		tl[i] = NULL;                   /* tv[n] owns it now */
		n++;
	}
	*tvp = tv;
	*np = n;
	tv = NULL;
	n = 0;
	r = OC_OK;
out:
	oc_ldap_pub_templates_free(tv, n);
	oc_dir_template_list_free(tl, nt);
	return r;
}
