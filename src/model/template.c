#include "model/template.h"

#include <stdlib.h>
#include <string.h>

void
oc_template_clear(struct oc_template *t)
{
	if (t == NULL)
		return;
	free(t->cn);
	free(t->display_name);
	free(t->oid);
	oc_strlist_free(&t->eku);
	oc_strlist_free(&t->app_policies);
	oc_strlist_free(&t->cert_policies);
	oc_strlist_free(&t->critical_exts);
	oc_strlist_free(&t->ra_app_policies);
	oc_strlist_free(&t->ra_policies);
	oc_strlist_free(&t->superseded);
	for (size_t i = 0; i < t->ncsps; i++)
		free(t->csps[i].name);
	free(t->csps);
	free(t->key_algorithm);
	free(t->hash_algorithm);
	free(t->security_descriptor);
	memset(t, 0, sizeof(*t));
}

void
oc_template_free(struct oc_template *t)
{
	if (t == NULL)
		return;
	oc_template_clear(t);
	free(t);
}

struct oc_template *
oc_template_dup(const struct oc_template *s)
{
	struct oc_template *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	*t = *s;
	/* reset owned members before deep copy so a failure frees only copies */
	t->cn = t->display_name = t->oid = t->key_algorithm = t->hash_algorithm = NULL;
	memset(&t->eku, 0, sizeof(t->eku));
	memset(&t->app_policies, 0, sizeof(t->app_policies));
	memset(&t->cert_policies, 0, sizeof(t->cert_policies));
	memset(&t->critical_exts, 0, sizeof(t->critical_exts));
	memset(&t->ra_app_policies, 0, sizeof(t->ra_app_policies));
	memset(&t->ra_policies, 0, sizeof(t->ra_policies));
	memset(&t->superseded, 0, sizeof(t->superseded));
	t->csps = NULL;
	t->ncsps = 0;
	t->security_descriptor = NULL;
	t->security_descriptor_len = 0;

	if ((s->cn && !(t->cn = strdup(s->cn))) ||
	    (s->display_name && !(t->display_name = strdup(s->display_name))) ||
	    (s->oid && !(t->oid = strdup(s->oid))) ||
	    (s->key_algorithm && !(t->key_algorithm = strdup(s->key_algorithm))) ||
	    (s->hash_algorithm && !(t->hash_algorithm = strdup(s->hash_algorithm))) ||
	    oc_strlist_copy(&t->eku, &s->eku) != OC_OK ||
	    oc_strlist_copy(&t->app_policies, &s->app_policies) != OC_OK ||
	    oc_strlist_copy(&t->cert_policies, &s->cert_policies) != OC_OK ||
	    oc_strlist_copy(&t->critical_exts, &s->critical_exts) != OC_OK ||
	    oc_strlist_copy(&t->ra_app_policies, &s->ra_app_policies) != OC_OK ||
	    oc_strlist_copy(&t->ra_policies, &s->ra_policies) != OC_OK ||
	    oc_strlist_copy(&t->superseded, &s->superseded) != OC_OK)
		goto fail;
	if (s->ncsps) {
		if ((t->csps = calloc(s->ncsps, sizeof(*t->csps))) == NULL)
			goto fail;
		for (size_t i = 0; i < s->ncsps; i++) {
			t->csps[i].priority = s->csps[i].priority;
			t->ncsps = i + 1;
			if ((t->csps[i].name = strdup(s->csps[i].name)) == NULL)
				goto fail;
		}
	}
	if (s->security_descriptor_len) {
		if ((t->security_descriptor = malloc(s->security_descriptor_len)) == NULL)
			goto fail;
		memcpy(t->security_descriptor, s->security_descriptor, s->security_descriptor_len);
		t->security_descriptor_len = s->security_descriptor_len;
	}
	return t;
fail:
	oc_template_free(t);
	return NULL;
}

int
oc_template_is_ec(const struct oc_template *t)
{
	return t->key_algorithm != NULL && strncmp(t->key_algorithm, "ECDSA", 5) == 0;
}
