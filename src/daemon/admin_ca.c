/*
 * `opencesd ... ca list|show|add-template|remove-template`: the CA entries of
 * the directory (pKIEnrollmentService) and the templates each one publishes
 * (certificateTemplates). A template is offered and issued only when a CA
 * publishes it; `template add` alone does not publish it, as in AD.
 */
#include "daemon/admin_int.h"
#include "daemon/admin.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "directory/directory.h"

static void
print_ca(FILE *out, const struct oc_ca_entry *ca, int json)
{
	if (json) {
		fputs("{\"name\":", out);
		oc_admin_json_str(out, ca->name);
		fputs(",\"templates\":[", out);
		for (size_t i = 0; i < ca->templates.n; i++) {
			if (i)
				fputc(',', out);
			oc_admin_json_str(out, ca->templates.v[i]);
		}
		fputs("],\"uris\":[", out);
		for (size_t i = 0; i < ca->nuris; i++) {
			fprintf(out, "%s{\"auth\":%u,\"priority\":%u,\"renewal_only\":%s,\"uri\":",
			    i ? "," : "", ca->uris[i].auth, ca->uris[i].priority,
			    ca->uris[i].renewal_only ? "true" : "false");
			oc_admin_json_str(out, ca->uris[i].uri);
			fputc('}', out);
		}
		fputs("]}", out);
		return;
	}
	fprintf(out, "name: %s\n", ca->name);
	for (size_t i = 0; i < ca->templates.n; i++)
		fprintf(out, "template: %s\n", ca->templates.v[i]);
	for (size_t i = 0; i < ca->nuris; i++)
		fprintf(out, "ces_uri: %u %u%s %s\n", ca->uris[i].auth, ca->uris[i].priority,
		    ca->uris[i].renewal_only ? " renewal-only" : "", ca->uris[i].uri);
}

/* Add (add != 0) or remove a template from a CA entry's list. */
static int
edit_templates(struct oc_directory *dir, struct oc_ca_entry *ca, const char *tmpl, int add,
    FILE *err)
{
	struct oc_strlist kept = { 0 };
	struct oc_template *t = NULL;
	int r, found = oc_strlist_contains_ci(&ca->templates, tmpl);

	if (add) {
		if ((r = oc_dir_template_get(dir, tmpl, &t)) != OC_OK) {
			fprintf(err, "opencesd: ca: no template %s\n", tmpl);
			return r == OC_ERR_NOT_FOUND ? OC_ADMIN_EXIT_NOT_FOUND : OC_ADMIN_EXIT_USAGE;
		}
		r = found ? OC_OK : oc_strlist_add(&ca->templates, t->cn);
		oc_template_free(t);
	} else {
		if (!found) {
			fprintf(err, "opencesd: ca: %s does not publish %s\n", ca->name, tmpl);
			return OC_ADMIN_EXIT_NOT_FOUND;
		}
		r = OC_OK;
		for (size_t i = 0; i < ca->templates.n && r == OC_OK; i++)
			if (strcasecmp(ca->templates.v[i], tmpl) != 0)
				r = oc_strlist_add(&kept, ca->templates.v[i]);
		if (r == OC_OK) {
			oc_strlist_free(&ca->templates);
			ca->templates = kept;
			memset(&kept, 0, sizeof(kept));
		}
		oc_strlist_free(&kept);
	}
	if (r == OC_OK)
		r = oc_dir_ca_put(dir, ca);
	if (r != OC_OK) {
		fprintf(err, "opencesd: ca: %s\n", oc_strerror(r));
		return OC_ADMIN_EXIT_USAGE;
	}
	return OC_ADMIN_EXIT_OK;
}

int
oc_admin_ca(const char *dir_path, int argc, char **argv, FILE *out, FILE *err)
{
	struct oc_directory *dir = NULL;
	struct oc_ca_entry *cav = NULL, *ca = NULL;
	const char *verb = argc > 0 ? argv[0] : "";
	int json = argc > 0 && strcmp(argv[argc - 1], "--json") == 0;
	size_t n = 0;
	int x = OC_ADMIN_EXIT_USAGE, r;

	if (json)
		argc--;
	if (!(strcmp(verb, "list") == 0 && argc == 1) &&
	    !(strcmp(verb, "show") == 0 && argc == 2) &&
	    !((strcmp(verb, "add-template") == 0 || strcmp(verb, "remove-template") == 0) &&
	    argc == 3 && !json)) {
		fprintf(err, "usage: ca list [--json] | ca show CA [--json] | "
		    "ca add-template CA TEMPLATE | ca remove-template CA TEMPLATE\n");
		return OC_ADMIN_EXIT_USAGE;
	}
	if ((r = oc_dir_open(dir_path, 1, &dir)) != OC_OK ||
	    (r = oc_dir_ca_list(dir, &cav, &n)) != OC_OK) {
		fprintf(err, "opencesd: ca: %s: %s\n", dir_path, oc_strerror(r));
		x = OC_ADMIN_EXIT_USAGE;
		goto out;
	}
	if (strcmp(verb, "list") == 0) {
		if (json)
			fputc('[', out);
		for (size_t i = 0; i < n; i++) {
			if (json && i)
				fputc(',', out);
			if (json)
				print_ca(out, &cav[i], 1);
			else
				fprintf(out, "%s\t%zu templates\t%zu CES URIs\n", cav[i].name,
				    cav[i].templates.n, cav[i].nuris);
		}
		if (json)
			fputs("]\n", out);
		x = OC_ADMIN_EXIT_OK;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(cav[i].name, argv[1]) == 0)
			ca = &cav[i];
	if (ca == NULL) {
		fprintf(err, "opencesd: ca: no CA named %s\n", argv[1]);
		x = OC_ADMIN_EXIT_NOT_FOUND;
		goto out;
	}
	if (strcmp(verb, "show") == 0) {
		print_ca(out, ca, json);
		if (json)
			fputc('\n', out);
		x = OC_ADMIN_EXIT_OK;
	} else
		x = edit_templates(dir, ca, argv[2], verb[0] == 'a', err);
out:
	oc_dir_ca_list_free(cav, n);
	oc_dir_close(dir);
	return x;
}
