/*
 * The `ad` commands of the admin CLI (issue 4):
 *
 *   ad publish [--config FILE] [--dry-run] [--templates published|all]
 *       our templates (with Windows-like ACLs built from the domain SID and
 *       the directory's grants), their OID objects, the CA's
 *       pKIEnrollmentService, its Certification Authorities entry and its
 *       NTAuthCertificates value into the forest of [directory] ldap_*;
 *       --dry-run prints the LDIF of what would change and changes nothing.
 *   ad show-sd [--config FILE] TEMPLATE
 *       the template's nTSecurityDescriptor as read back, one ACE a line.
 *
 * FILE defaults to opencesd.conf next to the directory (opencesd --dir DIR).
 */
#include "daemon/admin.h"
#include "daemon/admin_int.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"
#include "common/limits.h"
#include "common/log.h"
#include "daemon/config.h"
#include "directory/ad_sd.h"
#include "directory/directory.h"
#include "ldap/ldap_conn.h"
#include "ldap/ldap_publish.h"

struct ad_args {
	const char *config, *templates, *pos;
	int dry_run;
};

static int
ad_usage(FILE *err, const char *msg, const char *arg)
{
	fprintf(err, "opencesd: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
	fputs("usage: opencesd --dir DIR ad publish [--config FILE] [--dry-run] "
	    "[--templates published|all]\n"
	    "       opencesd --dir DIR ad show-sd [--config FILE] TEMPLATE\n", err);
	return OC_ADMIN_EXIT_USAGE;
}

static int
ad_parse(int argc, char **argv, int want_pos, struct ad_args *a, FILE *err)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0 && !want_pos)
			a->dry_run = 1;
		else if ((strcmp(argv[i], "--config") == 0 ||
		    (strcmp(argv[i], "--templates") == 0 && !want_pos)) && i + 1 < argc) {
			if (argv[i][2] == 'c')
				a->config = argv[++i];
			else
				a->templates = argv[++i];
		} else if (strncmp(argv[i], "--", 2) != 0 && want_pos && a->pos == NULL)
			a->pos = argv[i];
		else
			return ad_usage(err, "unexpected argument", argv[i]);
	}
	if (want_pos && a->pos == NULL)
		return ad_usage(err, "missing argument", NULL);
	if (a->templates != NULL && strcmp(a->templates, "all") != 0 &&
	    strcmp(a->templates, "published") != 0)
		return ad_usage(err, "--templates wants published or all, not", a->templates);
	return OC_ADMIN_EXIT_OK;
}

/* Load the configuration (a->config, else opencesd.conf next to dir_path). */
static int
ad_config(const char *dir_path, const struct ad_args *a, struct oc_config *cfg, FILE *err)
{
	char path[4096], *copy = NULL;
	const char *file = a->config;

	memset(cfg, 0, sizeof(*cfg));
	if (file == NULL) {
		if (dir_path == NULL || (copy = strdup(dir_path)) == NULL)
			return ad_usage(err, "no configuration given (--config FILE)", NULL);
		snprintf(path, sizeof(path), "%s/opencesd.conf", dirname(copy));
		free(copy);
		file = path;
	}
	if (oc_config_load(file, cfg) != OC_OK) {
		fprintf(err, "opencesd: cannot load the configuration %s\n", file);
		return OC_ADMIN_EXIT_USAGE;
	}
	if (cfg->ldap_uri == NULL) {
		fprintf(err, "opencesd: %s: [directory] ldap_uri is not set\n", file);
		oc_config_clear(cfg);
		return OC_ADMIN_EXIT_USAGE;
	}
	if (cfg->audit_log != NULL)
		(void)oc_audit_open(cfg->audit_log);
	return OC_ADMIN_EXIT_OK;
}

/* The host of "https://host[:port]/..." (malloc'd), NULL when there is none. */
static char *
url_host(const char *url)
{
	const char *p, *end;

	if (url == NULL || (p = strstr(url, "://")) == NULL)
		return NULL;
	p += 3;
	if (*p == '[') {
		if ((end = strchr(++p, ']')) == NULL)
			return NULL;
	} else
		end = p + strcspn(p, ":/?#");
	return end > p ? strndup(p, (size_t)(end - p)) : NULL;
}

static int
connect_ldap(const struct oc_config *cfg, struct oc_ldap **l, FILE *err)
{
	struct oc_ldap_config lc;
	int r;

	oc_config_ldap(cfg, &lc);
	if ((r = oc_ldap_connect(&lc, l)) != OC_OK)
		fprintf(err, "opencesd: cannot connect to %s: %s\n", cfg->ldap_uri, oc_strerror(r));
	return r;
}

static int
ad_publish(const char *dir_path, int argc, char **argv, FILE *out, FILE *err)
{
	struct oc_config cfg;
	struct oc_directory *dir = NULL;
	struct oc_ca_entry *cas = NULL, *ca = NULL;
	struct oc_ldap *l = NULL;
	struct oc_ldap_pub_template *tv = NULL;
	struct oc_ldap_pub_plan plan;
	struct oc_ldap_pub_input in;
	struct oc_ldap_pub_result res;
	struct oc_ldap_pub_io io;
	struct oc_ad_sid dom;
	struct ad_args a;
	struct ocbuf ldif;
	char *host = NULL, summary[128], actor[256];
	size_t ncas = 0, nt = 0;
	int x, r;

	memset(&plan, 0, sizeof(plan));
	memset(&res, 0, sizeof(res));
	ocbuf_init(&ldif, 16u * 1024 * 1024);
	if ((x = ad_parse(argc, argv, 0, &a, err)) != OC_ADMIN_EXIT_OK)
		return x;
	if ((x = ad_config(dir_path, &a, &cfg, err)) != OC_ADMIN_EXIT_OK)
		return x;
	x = OC_ADMIN_EXIT_USAGE;
	if ((r = oc_dir_open_ro(cfg.dir_path, &dir)) != OC_OK) {
		fprintf(err, "opencesd: directory %s: %s (run opencesd init first)\n", cfg.dir_path,
		    oc_strerror(r));
		goto out;
	}
	if ((r = oc_dir_ca_list(dir, &cas, &ncas)) != OC_OK)
		goto fail;
	for (size_t i = 0; i < ncas; i++)
		if (strcmp(cas[i].name, cfg.ca_name) == 0)
			ca = &cas[i];
	if (ca == NULL) {
		fprintf(err, "opencesd: no CA entry %s in the directory (run opencesd init first)\n",
		    cfg.ca_name);
		goto out;
	}
	/* dNSHostName: the host of the public URL (clients reach the CA there) */
	if ((host = url_host(cfg.public_url)) != NULL) {
		free(ca->dns_host_name);
		ca->dns_host_name = host;
	} else if (ca->dns_host_name == NULL) {
		fprintf(err, "opencesd: no host name in [server] public_url\n");
		goto out;
	}
	if ((r = connect_ldap(&cfg, &l, err)) != OC_OK)
		goto out;
	if ((r = oc_ldap_pub_domain_sid(l, &dom)) != OC_OK) {
		fprintf(err, "opencesd: cannot read the domain SID (objectSid of %s): %s\n",
		    oc_ldap_default_nc(l), oc_strerror(r));
		goto out;
	}
	if ((r = oc_ldap_pub_templates_from_dir(dir, &dom, ca,
	    a.templates != NULL && strcmp(a.templates, "all") == 0, &tv, &nt)) != OC_OK)
		goto fail;
	memset(&in, 0, sizeof(in));
	in.config_nc = oc_ldap_config_nc(l);
	in.domain_sid = &dom;
	in.templates = tv;
	in.ntemplates = nt;
	in.ca = ca;
	in.forest_oid = OC_DIR_FOREST_OID;
	if ((r = oc_ldap_pub_plan_build(&in, &plan)) != OC_OK)
		goto fail;
	oc_ldap_pub_io_ldap(l, a.dry_run, &io);
	r = oc_ldap_pub_run(&plan, &io, a.dry_run ? &ldif : NULL, &res);
	if (a.dry_run)
		fwrite(ocbuf_ptr(&ldif), 1, ocbuf_avail(&ldif), out);
	snprintf(summary, sizeof(summary), "%zu added, %zu modified, %zu unchanged",
	    res.added, res.modified, res.unchanged);
	if (res.skipped > 0)
		snprintf(summary + strlen(summary), sizeof(summary) - strlen(summary),
		    ", %zu left out", res.skipped);
	fprintf(a.dry_run ? err : out, "%s%s\n", a.dry_run ? "dry run, would be: " : "", summary);
	if (!a.dry_run) {
		oc_admin_actor(actor, sizeof(actor));
		oc_audit("ad-publish-run", "actor", actor, "uri", cfg.ldap_uri, "config_nc",
		    in.config_nc, "result", r == OC_OK ? summary : oc_strerror(r), (char *)NULL);
	}
	if (r != OC_OK)
		goto fail;
	x = OC_ADMIN_EXIT_OK;
	goto out;
fail:
	fprintf(err, "opencesd: ad publish: %s\n", oc_strerror(r));
out:
	oc_ldap_pub_plan_clear(&plan);
	oc_ldap_pub_templates_free(tv, nt);
	oc_ldap_close(l);
	oc_dir_ca_list_free(cas, ncas);
	oc_dir_close(dir);
	oc_config_clear(&cfg);
	ocbuf_free(&ldif);
	return x;
}

static void
sd_print(FILE *out, const struct oc_ad_sd *sd)
{
	char s[OC_AD_SID_TEXT_MAX], g[OC_AD_GUID_TEXT_LEN + 1];

	if (sd->has_owner && oc_ad_sid_to_text(&sd->owner, s, sizeof(s)) == OC_OK)
		fprintf(out, "owner: %s\n", s);
	if (sd->has_group && oc_ad_sid_to_text(&sd->group, s, sizeof(s)) == OC_OK)
		fprintf(out, "group: %s\n", s);
	fprintf(out, "control: 0x%04x\n", sd->control);
	for (size_t i = 0; i < sd->naces; i++) {
		const struct oc_ad_ace *e = &sd->aces[i];
		const char *what = "";

		if (oc_ad_sid_to_text(&e->sid, s, sizeof(s)) != OC_OK)
			snprintf(s, sizeof(s), "?");
		if (e->type == OC_AD_ACE_ALLOWED_OBJECT || e->type == OC_AD_ACE_DENIED_OBJECT) {
			if (e->object_flags & OC_AD_ACE_OBJECT_TYPE_PRESENT) {
				oc_ad_guid_to_text(e->object_type, g);
				what = strcasecmp(g, OC_AD_GUID_ENROLL) == 0 ? " enroll" :
				    strcasecmp(g, OC_AD_GUID_AUTOENROLL) == 0 ? " autoenroll" : "";
				fprintf(out, "ace: %s %s 0x%08x %s%s%s\n",
				    e->type == OC_AD_ACE_ALLOWED_OBJECT ? "allow-object" : "deny-object",
				    s, e->mask, g, *what ? " " : "", *what ? what + 1 : "");
				continue;
			}
		}
		fprintf(out, "ace: %s %s 0x%08x%s\n", e->type == OC_AD_ACE_ALLOWED ? "allow" :
		    e->type == OC_AD_ACE_DENIED ? "deny" : e->type == OC_AD_ACE_ALLOWED_OBJECT ?
		    "allow-object" : e->type == OC_AD_ACE_DENIED_OBJECT ? "deny-object" : "other",
		    s, e->mask, (e->flags & OC_AD_ACE_INHERIT_ONLY) ? " inherit-only" : "");
	}
}

static int
ad_show_sd(const char *dir_path, int argc, char **argv, FILE *out, FILE *err)
{
	struct oc_config cfg;
	struct oc_ldap *l = NULL;
	struct oc_ad_sd *sd = NULL;
	struct ad_args a;
	uint8_t *p = NULL;
	char *pks = NULL, *esc = NULL, *dn = NULL;
	size_t len = 0;
	int x, r;

	if ((x = ad_parse(argc, argv, 1, &a, err)) != OC_ADMIN_EXIT_OK)
		return x;
	if ((x = ad_config(dir_path, &a, &cfg, err)) != OC_ADMIN_EXIT_OK)
		return x;
	x = OC_ADMIN_EXIT_USAGE;
	if ((r = connect_ldap(&cfg, &l, err)) != OC_OK)
		goto out;
	if ((r = oc_ldap_pub_pks_dn(oc_ldap_config_nc(l), &pks)) != OC_OK ||
	    (r = oc_ldap_dn_escape(a.pos, &esc)) != OC_OK)
		goto fail;
	if (asprintf(&dn, "CN=%s,CN=Certificate Templates,%s", esc, pks) < 0) {
		dn = NULL;
		r = OC_ERR_NOMEM;
		goto fail;
	}
	if ((r = oc_ldap_pub_read_sd(l, dn, &p, &len)) != OC_OK) {
		if (r == OC_ERR_NOT_FOUND)
			x = OC_ADMIN_EXIT_NOT_FOUND;
		goto fail;
	}
	if ((r = oc_ad_sd_parse(p, len, &sd)) != OC_OK)
		goto fail;
	fprintf(out, "dn: %s\n", dn);
	sd_print(out, sd);
	x = OC_ADMIN_EXIT_OK;
	goto out;
fail:
	fprintf(err, "opencesd: ad show-sd %s: %s\n", a.pos, oc_strerror(r));
out:
	oc_ad_sd_free(sd);
	free(p);
	free(pks);
	free(esc);
	free(dn);
	oc_ldap_close(l);
	oc_config_clear(&cfg);
	return x;
}

int
oc_admin_ad(const char *dir_path, int argc, char **argv, FILE *out, FILE *err)
{
	const char *verb = argc > 0 ? argv[0] : "";

	if (strcmp(verb, "publish") == 0)
		return ad_publish(dir_path, argc - 1, argv + 1, out, err);
	if (strcmp(verb, "show-sd") == 0)
		return ad_show_sd(dir_path, argc - 1, argv + 1, out, err);
	return ad_usage(err, "unknown verb (publish or show-sd):", verb);
}
