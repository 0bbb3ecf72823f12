/*
 * The administrator's command line (see admin.h and oc_admin_usage()).
 * Human-readable tables by default, --json on list/show for scripts.
 * Password verifiers are never printed; passwords are read from a file and
 * wiped after use.
 */
#include "daemon/admin.h"
#include "daemon/admin_int.h"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "directory/directory.h"
#include "directory/directory_text.h"
#include "store/store.h"

/* options a command accepts */
#define O_JSON  0x01u
#define O_KIND  0x02u
#define O_UPN   0x04u
#define O_MAIL  0x08u
#define O_DNS   0x10u
#define O_DN    0x20u
#define O_SID   0x40u
#define O_PWF   0x80u
#define O_LIMIT 0x100u
#define O_REASON 0x200u
#define O_CERT  0x400u
#define O_ACCOUNT (O_KIND | O_UPN | O_MAIL | O_DNS | O_DN | O_SID | O_PWF)

#define MAX_POS 4

struct args {
	const char *pos[MAX_POS];
	int npos;
	int json;
	const char *kind, *upn, *mail, *dns, *dn, *sid, *pwfile, *limit, *reason, *cert;
};

struct ctx {
	const char *dir_path, *store_path;
	FILE *out, *err;
	struct oc_directory *dir;
	int json;
	size_t rows;
};

static const struct {
	const char *name;
	unsigned bit;
	size_t off;
} valued_opts[] = {
	{ "--kind", O_KIND, offsetof(struct args, kind) },
	{ "--upn", O_UPN, offsetof(struct args, upn) },
	{ "--mail", O_MAIL, offsetof(struct args, mail) },
	{ "--dns", O_DNS, offsetof(struct args, dns) },
	{ "--dn", O_DN, offsetof(struct args, dn) },
	{ "--sid", O_SID, offsetof(struct args, sid) },
	{ "--password-file", O_PWF, offsetof(struct args, pwfile) },
	{ "--limit", O_LIMIT, offsetof(struct args, limit) },
	{ "--reason", O_REASON, offsetof(struct args, reason) },
	{ "--cert", O_CERT, offsetof(struct args, cert) },
};

void
oc_admin_usage(FILE *f)
{
	fputs(
"usage: opencesd --dir DIR <object> <verb> [arguments]\n"
"\n"
"  template list [--json]\n"
"  template show NAME [--json]          NAME: cn (any case) or template OID\n"
"  template add FILE                    add, or replace the template of that cn\n"
"  template remove NAME\n"
"  account list [--json]\n"
"  account show NAME [--json]\n"
"  account add NAME [--kind user|computer] [--upn U] [--mail M] [--dns D]\n"
"                   [--dn DN] [--sid S] [--password-file F]\n"
"  account passwd NAME --password-file F\n"
"  account remove NAME\n"
"  account map-cert NAME --cert FILE   the certificate (PEM or DER) authenticates as NAME,\n"
"                                       whatever names it carries (by issuer+serial and\n"
"                                       SHA-256 of the certificate)\n"
"  account unmap-cert NAME --cert FILE\n"
"  group list [--json]\n"
"  group add NAME [--sid S] | remove NAME   (S: the group's SID, e.g. an AD group's\n"
"                                       objectSid; Kerberos callers carry it in their PAC)\n"
"  group add-member GROUP MEMBER | remove-member GROUP MEMBER   (MEMBER: account or group)\n"
"  directory status [--json]            the LDAP mirror: last sync, failures, last error\n"
"  ca list [--json] | ca show CA [--json]\n"
"  ca add-template CA TEMPLATE | ca remove-template CA TEMPLATE\n"
"                                       (which templates a CA publishes and issues)\n"
"  grant TEMPLATE PRINCIPAL [enroll|autoenroll|all]    (default: enroll)\n"
"  revoke TEMPLATE PRINCIPAL [enroll|autoenroll|all]   (default: all)\n"
"  request list [--status pending|issued|denied|failed] [--requester NAME]\n"
"               [--template NAME] [--limit N] [--json]\n"
"  request show ID [--json]\n"
"  request approve ID                   the CA issues it when the requester retrieves it\n"
"  request deny ID [--reason TEXT]      the requester gets CERTSRV_E_ADMIN_DENIED_REQUEST\n"
"  cert list [--template NAME] [--requester NAME] [--expires-before DATE]\n"
"            [--limit N] [--json]       DATE: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ\n"
"  cert show SERIAL [--json]            SERIAL: hex, any case, ':' allowed\n"
"  cert revoke SERIAL [--reason R]      R: RFC 5280 name or number (default\n"
"                                       unspecified); certificateHold can be undone\n"
"  cert unrevoke SERIAL                 only a certificate on hold\n"
"  store check                          the store's integrity (SQLite or PostgreSQL:\n"
"                                       the database's own check and the invariants)\n"
"  crl status [--json]                  the newest complete and delta CRLs\n"
"  crl publish [--delta]                the CA publishes within a second (complete and\n"
"                                       delta, or a delta only)\n"
"  ad publish [--config FILE] [--dry-run] [--templates published|all]\n"
"                                       templates, OIDs and the CA into the Active\n"
"                                       Directory of [directory] ldap_* (FILE: default\n"
"                                       opencesd.conf in DIR); --dry-run prints LDIF\n"
"  ad show-sd [--config FILE] TEMPLATE  the template's ACL in the directory\n"
"\n"
"A password file holds the password on its first line (a final newline is ignored).\n"
"New accounts join \"Domain Users\" (users) or \"Domain Computers\" (computers).\n"
"\n"
"Template file (what `template show` prints): one `key = value` per line, '#'\n"
"starts a comment line, list keys are repeated:\n"
"  cn = MyWebServer                  (required)\n"
"  display_name = My Web Server\n"
"  oid = 1.2.3...                    (optional: generated under the forest base OID)\n"
"  schema_version = 2                (1-4; default 1)\n"
"  revision = 100 / minor_revision = 0\n"
"  general_flags, enrollment_flags, private_key_flags, name_flags = decimal,\n"
"                                    AD-style negative decimal, or 0x hex\n"
"  min_key_size = 2048 / key_spec = 1 / ra_signatures = 0 / max_issuing_depth = 0\n"
"  validity = 1y / renewal = 6w      (seconds or N with s, h, d, w, y; y = 365 days)\n"
"  key_usage = a000                  (pKIKeyUsage bytes in hex)\n"
"  eku, app_policy, cert_policy, critical_ext, ra_policy = OID        (repeat)\n"
"  ra_app_policy = OID or msPKI triplets / supersedes = template cn  (repeat)\n"
"  csp = 1,Microsoft RSA SChannel Cryptographic Provider             (repeat)\n"
"  key_algorithm = RSA | ECDSA_P256 | ECDSA_P384 | ECDSA_P521\n"
"  hash_algorithm = SHA256\n"
"  security_descriptor = BASE64\n", f);
}

static int usage_err(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
usage_err(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "opencesd: ");
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fprintf(c->err, "\n(see opencesd --dir DIR help)\n");
	return OC_ADMIN_EXIT_USAGE;
}

/* Report a library error; returns the exit code. */
static int
report(struct ctx *c, int r, const char *what, const char *name)
{
	if (r == OC_OK)
		return OC_ADMIN_EXIT_OK;
	fprintf(c->err, "opencesd: %s%s%s: %s\n", what, name ? " " : "", name ? name : "",
	    oc_strerror(r));
	return r == OC_ERR_NOT_FOUND ? OC_ADMIN_EXIT_NOT_FOUND : OC_ADMIN_EXIT_USAGE;
}

static int
parse_args(struct ctx *c, int argc, char **argv, unsigned allowed, int minpos, int maxpos,
    struct args *a)
{
	memset(a, 0, sizeof(*a));
	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		size_t k;

		if (strcmp(s, "--json") == 0 && (allowed & O_JSON)) {
			a->json = 1;
			continue;
		}
		if (strncmp(s, "--", 2) == 0) {
			for (k = 0; k < sizeof(valued_opts) / sizeof(valued_opts[0]); k++)
				if (strcmp(s, valued_opts[k].name) == 0)
					break;
			if (k == sizeof(valued_opts) / sizeof(valued_opts[0]) ||
			    !(allowed & valued_opts[k].bit))
				return usage_err(c, "unknown option %s", s);
			if (i + 1 >= argc)
				return usage_err(c, "%s needs a value", s);
			*(const char **)((char *)a + valued_opts[k].off) = argv[++i];
			continue;
		}
		if (a->npos >= maxpos || a->npos >= MAX_POS)
			return usage_err(c, "unexpected argument %s", s);
		a->pos[a->npos++] = s;
	}
	if (a->npos < minpos)
		return usage_err(c, "missing argument");
	c->json = a->json;
	return OC_ADMIN_EXIT_OK;
}

static int
open_dir(struct ctx *c)
{
	int r, fresh = access(c->dir_path, F_OK) != 0;

	if ((r = oc_dir_open(c->dir_path, 1, &c->dir)) != OC_OK)
		return report(c, r, "open directory", c->dir_path);
	if (fresh) {
		if ((r = oc_dir_seed_defaults(c->dir)) != OC_OK)
			return report(c, r, "seed directory", c->dir_path);
		fprintf(c->err, "opencesd: created %s with the default templates\n", c->dir_path);
	}
	return OC_ADMIN_EXIT_OK;
}

/* JSON output */

static void
json_list(FILE *f, const struct oc_strlist *l)
{
	fputc('[', f);
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			fputc(',', f);
		oc_admin_json_str(f, l->v[i]);
	}
	fputc(']', f);
}

static const char *
rights_name(uint32_t r)
{
	switch (r & (OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL)) {
	case OC_RIGHT_ENROLL: return "enroll";
	case OC_RIGHT_AUTOENROLL: return "autoenroll";
	case OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL: return "enroll,autoenroll";
	}
	return "none";
}

/* template */

static void
template_json(FILE *f, const struct oc_template *t, int with_grants,
    const struct oc_dir_grant *gv, size_t ng)
{
	fputs("{\"cn\":", f);
	oc_admin_json_str(f, t->cn);
	fputs(",\"display_name\":", f);
	oc_admin_json_str(f, t->display_name);
	fputs(",\"oid\":", f);
	oc_admin_json_str(f, t->oid);
	fprintf(f, ",\"schema_version\":%u,\"revision\":%u,\"minor_revision\":%u,"
	    "\"general_flags\":%u,\"enrollment_flags\":%u,\"private_key_flags\":%u,"
	    "\"name_flags\":%u,\"min_key_size\":%u,\"key_spec\":%u,\"ra_signatures\":%u,"
	    "\"max_issuing_depth\":%d,\"validity_seconds\":%lld,\"renewal_seconds\":%lld",
	    t->schema_version, t->revision, t->minor_revision, t->general_flags,
	    t->enrollment_flags, t->private_key_flags, t->name_flags, t->min_key_size,
	    t->key_spec, t->ra_signatures, (int)t->max_issuing_depth,
	    (long long)t->validity_seconds, (long long)t->renewal_seconds);
	if (t->has_key_usage)
		fprintf(f, ",\"key_usage\":\"%04x\"", t->key_usage);
	else
		fputs(",\"key_usage\":null", f);
	fputs(",\"eku\":", f);
	json_list(f, &t->eku);
	fputs(",\"app_policies\":", f);
	json_list(f, &t->app_policies);
	fputs(",\"cert_policies\":", f);
	json_list(f, &t->cert_policies);
	fputs(",\"critical_extensions\":", f);
	json_list(f, &t->critical_exts);
	fputs(",\"ra_app_policies\":", f);
	json_list(f, &t->ra_app_policies);
	fputs(",\"ra_policies\":", f);
	json_list(f, &t->ra_policies);
	fputs(",\"supersedes\":", f);
	json_list(f, &t->superseded);
	fputs(",\"csps\":[", f);
	for (size_t i = 0; i < t->ncsps; i++) {
		fprintf(f, "%s{\"priority\":%u,\"name\":", i ? "," : "", t->csps[i].priority);
		oc_admin_json_str(f, t->csps[i].name);
		fputc('}', f);
	}
	fputs("],\"key_algorithm\":", f);
	oc_admin_json_str(f, t->key_algorithm);
	fputs(",\"hash_algorithm\":", f);
	oc_admin_json_str(f, t->hash_algorithm);
	fprintf(f, ",\"changed\":%lld", (long long)t->changed);
	if (with_grants) {
		fputs(",\"grants\":[", f);
		for (size_t i = 0; i < ng; i++) {
			fprintf(f, "%s{\"principal\":", i ? "," : "");
			oc_admin_json_str(f, gv[i].principal);
			fprintf(f, ",\"enroll\":%s,\"autoenroll\":%s}",
			    gv[i].rights & OC_RIGHT_ENROLL ? "true" : "false",
			    gv[i].rights & OC_RIGHT_AUTOENROLL ? "true" : "false");
		}
		fputc(']', f);
	}
	fputc('}', f);
}

static int
template_list(struct ctx *c)
{
	struct oc_template **tv = NULL;
	size_t n = 0;
	char period[32];
	int r;

	if ((r = oc_dir_template_list(c->dir, &tv, &n)) != OC_OK)
		return report(c, r, "template list", NULL);
	if (c->json) {
		fputc('[', c->out);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputc(',', c->out);
			template_json(c->out, tv[i], 0, NULL, 0);
		}
		fputs("]\n", c->out);
	} else {
		fprintf(c->out, "%-24s %-6s %-8s %-8s %s\n", "NAME", "SCHEMA", "REVISION", "VALIDITY", "OID");
		for (size_t i = 0; i < n; i++) {
			char rev[32];

			snprintf(rev, sizeof(rev), "%u.%u", tv[i]->revision, tv[i]->minor_revision);
			oc_dir_period_format(tv[i]->validity_seconds, period, sizeof(period));
			fprintf(c->out, "%-24s %-6u %-8s %-8s %s\n", tv[i]->cn, tv[i]->schema_version,
			    rev, period, tv[i]->oid);
		}
	}
	oc_dir_template_list_free(tv, n);
	return OC_ADMIN_EXIT_OK;
}

static int
template_show(struct ctx *c, const char *name)
{
	struct oc_template *t = NULL;
	struct oc_dir_grant *gv = NULL;
	struct ocbuf b;
	size_t ng = 0;
	int r;

	ocbuf_init(&b, OC_DIR_TEXT_MAX);
	if ((r = oc_dir_template_get(c->dir, name, &t)) != OC_OK ||
	    (r = oc_dir_template_grants(c->dir, t->cn, &gv, &ng)) != OC_OK)
		goto out;
	if (c->json) {
		template_json(c->out, t, 1, gv, ng);
		fputc('\n', c->out);
		goto out;
	}
	if ((r = oc_dir_template_format(t, &b)) != OC_OK)
		goto out;
	fwrite(ocbuf_ptr(&b), 1, ocbuf_avail(&b), c->out);
	fprintf(c->out, "# changed at policy serial %lld\n", (long long)t->changed);
	for (size_t i = 0; i < ng; i++)
		fprintf(c->out, "# grant: %s %s\n", gv[i].principal, rights_name(gv[i].rights));
out:
	ocbuf_free(&b);
	oc_dir_grants_free(gv, ng);
	oc_template_free(t);
	return report(c, r, "template", name);
}

static int
template_add(struct ctx *c, const char *file)
{
	struct oc_template t, *saved = NULL;
	uint8_t *data = NULL;
	size_t len = 0, line = 0;
	int r;

	memset(&t, 0, sizeof(t));
	if ((r = oc_file_read(file, &data, &len, OC_DIR_TEXT_MAX)) != OC_OK) {
		report(c, r, "read", file);
		r = OC_ERR_INVALID;      /* a missing input file is a usage error */
		goto out;
	}
	if ((r = oc_dir_template_parse(data, len, &t, &line)) != OC_OK) {
		if (line > 0)
			fprintf(c->err, "opencesd: %s:%zu: %s\n", file, line, oc_strerror(r));
		else
			fprintf(c->err, "opencesd: %s: %s (is cn given, are the values in range?)\n",
			    file, oc_strerror(r));
		r = OC_ERR_INVALID;
		goto out;
	}
	if ((r = oc_dir_template_put(c->dir, &t)) != OC_OK) {
		report(c, r, "template add", t.cn);
		goto out;
	}
	if ((r = oc_dir_template_get(c->dir, t.cn, &saved)) == OC_OK)
		fprintf(c->out, "template %s saved (OID %s)\n", saved->cn, saved->oid);
out:
	oc_template_free(saved);
	oc_template_clear(&t);
	free(data);
	if (r == OC_OK)
		return OC_ADMIN_EXIT_OK;
	return r == OC_ERR_NOT_FOUND ? OC_ADMIN_EXIT_NOT_FOUND : OC_ADMIN_EXIT_USAGE;
}

static int
cmd_template(struct ctx *c, int argc, char **argv)
{
	struct args a;
	const char *verb = argc > 0 ? argv[0] : "";
	int x;

	if (strcmp(verb, "list") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, O_JSON, 0, 0, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		return template_list(c);
	}
	if (strcmp(verb, "show") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, O_JSON, 1, 1, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		return template_show(c, a.pos[0]);
	}
	if (strcmp(verb, "add") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, 0, 1, 1, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		return template_add(c, a.pos[0]);
	}
	if (strcmp(verb, "remove") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, 0, 1, 1, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		if ((x = report(c, oc_dir_template_remove(c->dir, a.pos[0]), "template remove", a.pos[0])) == 0)
			fprintf(c->out, "template %s removed\n", a.pos[0]);
		return x;
	}
	return usage_err(c, "template: unknown verb '%s'", verb);
}

/* account */

/* with_maps: add the account's certificate mappings mv (account show) */
static void
account_json(FILE *f, const struct oc_identity *id, int has_password, int with_maps,
    const struct oc_dir_certmap *mv, size_t nmaps)
{
	fputs("{\"name\":", f);
	oc_admin_json_str(f, id->name);
	fprintf(f, ",\"kind\":\"%s\",\"upn\":", id->kind == OC_ACCOUNT_COMPUTER ? "computer" : "user");
	oc_admin_json_str(f, id->upn);
	fputs(",\"mail\":", f);
	oc_admin_json_str(f, id->mail);
	fputs(",\"dns_name\":", f);
	oc_admin_json_str(f, id->dns_name);
	fputs(",\"dn\":", f);
	oc_admin_json_str(f, id->dn);
	fputs(",\"sid\":", f);
	oc_admin_json_str(f, id->sid);
	fprintf(f, ",\"password\":%s,\"groups\":", has_password ? "true" : "false");
	json_list(f, &id->groups);
	if (with_maps) {
		fputs(",\"cert_mappings\":[", f);
		for (size_t i = 0; i < nmaps; i++) {
			fputs(i ? ",{\"issuer_serial\":" : "{\"issuer_serial\":", f);
			oc_admin_json_str(f, mv[i].issuer_serial);
			fputs(",\"sha256\":", f);
			oc_admin_json_str(f, mv[i].sha256);
			fputc('}', f);
		}
		fputc(']', f);
	}
	fputc('}', f);
}

static int
has_password(struct ctx *c, const char *name)
{
	char *v = NULL;
	int r = oc_dir_account_verifier(c->dir, name, &v);

	oc_free_secret(v);
	return r == OC_OK;
}

static void
join(FILE *f, const struct oc_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		fprintf(f, "%s%s", i ? "," : "", l->v[i]);
	if (l->n == 0)
		fputc('-', f);
}

static int
account_list(struct ctx *c)
{
	struct oc_identity *idv = NULL;
	size_t n = 0;
	int r;

	if ((r = oc_dir_account_list(c->dir, &idv, &n)) != OC_OK)
		return report(c, r, "account list", NULL);
	if (c->json)
		fputc('[', c->out);
	else
		fprintf(c->out, "%-20s %-8s %-30s %-8s %s\n", "NAME", "KIND", "UPN", "PASSWORD", "GROUPS");
	for (size_t i = 0; i < n; i++) {
		int pw = has_password(c, idv[i].name);

		if (c->json) {
			if (i)
				fputc(',', c->out);
			account_json(c->out, &idv[i], pw, 0, NULL, 0);
			continue;
		}
		fprintf(c->out, "%-20s %-8s %-30s %-8s ", idv[i].name,
		    idv[i].kind == OC_ACCOUNT_COMPUTER ? "computer" : "user",
		    idv[i].upn ? idv[i].upn : "-", pw ? "set" : "none");
		join(c->out, &idv[i].groups);
		fputc('\n', c->out);
	}
	if (c->json)
		fputs("]\n", c->out);
	oc_dir_account_list_free(idv, n);
	return OC_ADMIN_EXIT_OK;
}

static int
account_show(struct ctx *c, const char *name)
{
	struct oc_dir_certmap *mv = NULL;
	struct oc_identity id;
	size_t n = 0;
	int r, pw;

	if ((r = oc_dir_account_get(c->dir, name, &id)) != OC_OK)
		return report(c, r, "account", name);
	if ((r = oc_dir_certmap_list(c->dir, id.name, &mv, &n)) != OC_OK) {
		oc_identity_clear(&id);
		return report(c, r, "account", name);
	}
	pw = has_password(c, id.name);
	if (c->json) {
		account_json(c->out, &id, pw, 1, mv, n);
		fputc('\n', c->out);
	} else {
		fprintf(c->out, "name: %s\nkind: %s\n", id.name,
		    id.kind == OC_ACCOUNT_COMPUTER ? "computer" : "user");
		fprintf(c->out, "upn: %s\nmail: %s\ndns_name: %s\ndn: %s\nsid: %s\npassword: %s\ngroups: ",
		    id.upn ? id.upn : "-", id.mail ? id.mail : "-", id.dns_name ? id.dns_name : "-",
		    id.dn ? id.dn : "-", id.sid ? id.sid : "-", pw ? "set" : "none");
		join(c->out, &id.groups);
		fputc('\n', c->out);
		for (size_t i = 0; i < n; i++)
			fprintf(c->out, "cert_mapping: sha256 %s issuer_serial %s\n",
			    mv[i].sha256 ? mv[i].sha256 : "-",
			    mv[i].issuer_serial ? mv[i].issuer_serial : "-");
	}
	oc_dir_certmap_list_free(mv, n);
	oc_identity_clear(&id);
	return OC_ADMIN_EXIT_OK;
}

/* The mapping keys of a certificate file (PEM or DER). */
static int
cert_file_keys(struct ctx *c, const char *path, struct oc_dir_certmap *m)
{
	static const char pem_start[] = "-----BEGIN ";
	uint8_t *data = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	X509 *x = NULL;
	BIO *bio = NULL;
	int r, dlen;

	memset(m, 0, sizeof(*m));
	if ((r = oc_file_read(path, &data, &len, 2 * OC_CERT_DER_MAX)) != OC_OK)
		goto out;
	/* DER, else the first PEM certificate */
	if ((r = oc_dir_certmap_keys(data, len, m)) == OC_ERR_DER &&
	    len >= sizeof(pem_start) - 1 && memchr(data, '-', len) != NULL) {
		if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
		    (dlen = i2d_X509(x, &der)) <= 0) {
			r = OC_ERR_DER;
			goto out;
		}
		r = oc_dir_certmap_keys(der, (size_t)dlen, m);
	}
out:
	if (r != OC_OK)
		fprintf(c->err, "opencesd: certificate %s: %s\n", path, oc_strerror(r));
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	free(data);
	return r;
}

/* account map-cert / unmap-cert NAME --cert FILE */
static int
account_map_cert(struct ctx *c, const struct args *a, int map)
{
	struct oc_dir_certmap m;
	const char *what = map ? "account map-cert" : "account unmap-cert";
	int x;

	if (a->cert == NULL)
		return usage_err(c, "%s needs --cert", what);
	if ((x = open_dir(c)) != 0)
		return x;
	if (cert_file_keys(c, a->cert, &m) != OC_OK)
		return OC_ADMIN_EXIT_USAGE;
	x = report(c, map ? oc_dir_certmap_add(c->dir, a->pos[0], &m) :
	    oc_dir_certmap_remove(c->dir, a->pos[0], &m), what, a->pos[0]);
	if (x == 0)
		fprintf(c->out, "certificate sha256 %s %s %s\n", m.sha256,
		    map ? "mapped to" : "unmapped from", a->pos[0]);
	oc_dir_certmap_clear(&m);
	return x;
}

/* The first line of a password file, without its newline; wiped by the caller. */
static int
read_password(struct ctx *c, const char *path, char **pw)
{
	uint8_t *data = NULL;
	size_t len = 0, n;
	int r;

	*pw = NULL;
	if ((r = oc_file_read(path, &data, &len, OC_PASSWORD_MAX + 2)) != OC_OK) {
		fprintf(c->err, "opencesd: password file %s: %s\n", path, oc_strerror(r));
		return r;
	}
	for (n = 0; n < len && data[n] != '\n' && data[n] != '\r' && data[n] != '\0'; n++)
		;
	if (n == 0 || n > OC_PASSWORD_MAX || (n < len && data[n] == '\0')) {
		fprintf(c->err, "opencesd: password file %s: empty, too long or binary\n", path);
		r = OC_ERR_INVALID;
	} else {
		OPENSSL_cleanse(data + n, len - n);     /* the rest of the file, too */
		data[n] = '\0';
		*pw = (char *)data;
		data = NULL;
	}
	if (data != NULL) {
		OPENSSL_cleanse(data, len);
		free(data);
	}
	return r;
}

static int
account_add(struct ctx *c, const struct args *a)
{
	struct oc_identity id;
	char *pw = NULL;
	int r;

	memset(&id, 0, sizeof(id));
	id.name = (char *)a->pos[0];
	id.upn = (char *)a->upn;
	id.mail = (char *)a->mail;
	id.dns_name = (char *)a->dns;
	id.dn = (char *)a->dn;
	id.sid = (char *)a->sid;
	if (a->kind == NULL || strcmp(a->kind, "user") == 0)
		id.kind = OC_ACCOUNT_USER;
	else if (strcmp(a->kind, "computer") == 0)
		id.kind = OC_ACCOUNT_COMPUTER;
	else
		return usage_err(c, "--kind must be user or computer, not %s", a->kind);
	if (a->pwfile != NULL && read_password(c, a->pwfile, &pw) != OC_OK)
		return OC_ADMIN_EXIT_USAGE;
	r = oc_dir_account_add(c->dir, &id, pw);
	oc_free_secret(pw);
	if (r == OC_ERR_NOT_FOUND)
		r = OC_ERR_INTERNAL;
	if (r == OC_OK)
		fprintf(c->out, "account %s added\n", id.name);
	return report(c, r, "account add", id.name);
}

static int
cmd_account(struct ctx *c, int argc, char **argv)
{
	struct args a;
	const char *verb = argc > 0 ? argv[0] : "";
	char *pw = NULL;
	int x;

	if (strcmp(verb, "list") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, O_JSON, 0, 0, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		return account_list(c);
	}
	if (strcmp(verb, "show") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, O_JSON, 1, 1, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		return account_show(c, a.pos[0]);
	}
	if (strcmp(verb, "add") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, O_ACCOUNT, 1, 1, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		return account_add(c, &a);
	}
	if (strcmp(verb, "passwd") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, O_PWF, 1, 1, &a)) != 0)
			return x;
		if (a.pwfile == NULL)
			return usage_err(c, "account passwd needs --password-file");
		if ((x = open_dir(c)) != 0)
			return x;
		if (read_password(c, a.pwfile, &pw) != OC_OK)
			return OC_ADMIN_EXIT_USAGE;
		x = report(c, oc_dir_account_set_password(c->dir, a.pos[0], pw), "account passwd", a.pos[0]);
		oc_free_secret(pw);
		if (x == 0)
			fprintf(c->out, "password of %s changed\n", a.pos[0]);
		return x;
	}
	if (strcmp(verb, "remove") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, 0, 1, 1, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		if ((x = report(c, oc_dir_account_remove(c->dir, a.pos[0]), "account remove", a.pos[0])) == 0)
			fprintf(c->out, "account %s removed\n", a.pos[0]);
		return x;
	}
	if (strcmp(verb, "map-cert") == 0 || strcmp(verb, "unmap-cert") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, O_CERT, 1, 1, &a)) != 0)
			return x;
		return account_map_cert(c, &a, strcmp(verb, "map-cert") == 0);
	}
	return usage_err(c, "account: unknown verb '%s'", verb);
}

/* group */

static int
group_list(struct ctx *c)
{
	struct oc_strlist names = { 0 }, members = { 0 };
	int r;

	if ((r = oc_dir_group_list(c->dir, &names)) != OC_OK)
		return report(c, r, "group list", NULL);
	if (c->json)
		fputc('[', c->out);
	else
		fprintf(c->out, "%-24s %s\n", "NAME", "MEMBERS");
	for (size_t i = 0; i < names.n; i++) {
		if ((r = oc_dir_group_members(c->dir, names.v[i], &members)) != OC_OK)
			break;
		if (c->json) {
			fprintf(c->out, "%s{\"name\":", i ? "," : "");
			oc_admin_json_str(c->out, names.v[i]);
			fputs(",\"members\":", c->out);
			json_list(c->out, &members);
			fputc('}', c->out);
		} else {
			fprintf(c->out, "%-24s ", names.v[i]);
			join(c->out, &members);
			fputc('\n', c->out);
		}
		oc_strlist_free(&members);
	}
	if (c->json && r == OC_OK)
		fputs("]\n", c->out);
	oc_strlist_free(&names);
	return report(c, r, "group list", NULL);
}

static int
cmd_group(struct ctx *c, int argc, char **argv)
{
	struct args a;
	const char *verb = argc > 0 ? argv[0] : "";
	int x, r;

	if (strcmp(verb, "list") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, O_JSON, 0, 0, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		return group_list(c);
	}
	if (strcmp(verb, "add") == 0 || strcmp(verb, "remove") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, verb[0] == 'a' ? O_SID : 0, 1, 1, &a)) != 0 ||
		    (x = open_dir(c)) != 0)
			return x;
		r = verb[0] == 'a' ? oc_dir_group_add_sid(c->dir, a.pos[0], a.sid) :
		    oc_dir_group_remove(c->dir, a.pos[0]);
		if ((x = report(c, r, verb[0] == 'a' ? "group add" : "group remove", a.pos[0])) == 0)
			fprintf(c->out, "group %s %s\n", a.pos[0], verb[0] == 'a' ? "added" : "removed");
		return x;
	}
	if (strcmp(verb, "add-member") == 0 || strcmp(verb, "remove-member") == 0) {
		if ((x = parse_args(c, argc - 1, argv + 1, 0, 2, 2, &a)) != 0 || (x = open_dir(c)) != 0)
			return x;
		r = verb[0] == 'a' ? oc_dir_group_add_member(c->dir, a.pos[0], a.pos[1]) :
		    oc_dir_group_remove_member(c->dir, a.pos[0], a.pos[1]);
		if ((x = report(c, r, verb, a.pos[1])) == 0)
			fprintf(c->out, "%s %s group %s\n", a.pos[1], verb[0] == 'a' ? "added to" : "removed from",
			    a.pos[0]);
		return x;
	}
	return usage_err(c, "group: unknown verb '%s'", verb);
}

/* grant / revoke */

static int
cmd_rights(struct ctx *c, int grant, int argc, char **argv)
{
	struct args a;
	uint32_t rights = grant ? OC_RIGHT_ENROLL : OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL;
	int x, r;

	if ((x = parse_args(c, argc, argv, 0, 2, 3, &a)) != 0)
		return x;
	if (a.npos == 3) {
		if (strcmp(a.pos[2], "enroll") == 0)
			rights = OC_RIGHT_ENROLL;
		else if (strcmp(a.pos[2], "autoenroll") == 0)
			rights = OC_RIGHT_AUTOENROLL;
		else if (strcmp(a.pos[2], "all") == 0)
			rights = OC_RIGHT_ENROLL | OC_RIGHT_AUTOENROLL;
		else
			return usage_err(c, "right must be enroll, autoenroll or all, not %s", a.pos[2]);
	}
	if ((x = open_dir(c)) != 0)
		return x;
	r = grant ? oc_dir_grant(c->dir, a.pos[0], a.pos[1], rights) :
	    oc_dir_revoke(c->dir, a.pos[0], a.pos[1], rights);
	if (r == OC_ERR_NOT_FOUND) {
		fprintf(c->err, "opencesd: %s: no such %s\n", grant ? "grant" : "revoke",
		    grant ? "template or principal" : "grant");
		return OC_ADMIN_EXIT_NOT_FOUND;
	}
	if ((x = report(c, r, grant ? "grant" : "revoke", a.pos[0])) == 0)
		fprintf(c->out, "%s %s on %s: %s\n", grant ? "granted" : "revoked", rights_name(rights),
		    a.pos[0], a.pos[1]);
	return x;
}

/* cert (the CA store) */

/* Human form of one certificate (cert show). */
static void
cert_show_text(struct ctx *c, const struct oc_store_cert *s)
{
	char nb[32], na[32], at[32];

	oc_time_iso8601(s->not_before, nb, sizeof(nb));
	oc_time_iso8601(s->not_after, na, sizeof(na));
	fprintf(c->out, "serial:      %s\nrequest:     %u\nsubject:     %s\nrequester:   %s\n"
	    "template:    %s\nnot before:  %s\nnot after:   %s\n", s->serial_hex, s->request_id,
	    s->subject ? s->subject : "-", s->requester ? s->requester : "-",
	    s->template_name ? s->template_name : "-", nb, na);
	if (s->revoked) {
		oc_time_iso8601(s->revoked_at, at, sizeof(at));
		fprintf(c->out, "state:       revoked\nreason:      %s (%d)\nrevoked at:  %s\n",
		    oc_crl_reason_name(s->revocation_reason), s->revocation_reason, at);
	} else
		fputs("state:       valid\n", c->out);
}

/* cert show / revoke / unrevoke SERIAL on an open store. */
static int
cert_one(struct ctx *c, struct oc_store *st, const char *verb, const struct args *a)
{
	struct oc_store_cert cert;
	char *serial = NULL;
	int r, reason = OC_CRL_UNSPECIFIED, x;

	memset(&cert, 0, sizeof(cert));
	if (oc_store_serial_normalize(a->pos[0], &serial) != OC_OK)
		return usage_err(c, "a serial is hex digits (':' allowed), not %s", a->pos[0]);
	if (a->reason != NULL && oc_crl_reason_parse(a->reason, &reason) != OC_OK) {
		free(serial);
		return usage_err(c, "--reason wants an RFC 5280 reason (keyCompromise, superseded, "
		    "certificateHold, ... or 0-6, 9, 10), not %s", a->reason);
	}
	if (strcmp(verb, "show") == 0) {
		if ((r = oc_store_cert_get(st, serial, &cert)) == OC_OK) {
			c->rows = 0;
			if (c->json) {
				oc_admin_cert_json(c->out, &cert);
				fputc('\n', c->out);
			} else
				cert_show_text(c, &cert);
		}
	} else if (strcmp(verb, "revoke") == 0) {
		r = oc_store_cert_revoke(st, serial, reason, 0);
		if (r == OC_OK) {
			char actor[256];

			oc_admin_actor(actor, sizeof(actor));
			oc_audit("revoke", "serial", serial, "reason", oc_crl_reason_name(reason),
			    "actor", actor, (char *)NULL);
			fprintf(c->out, "revoked %s (%s)\n", serial, oc_crl_reason_name(reason));
		}
	} else {
		r = oc_store_cert_unrevoke(st, serial);
		if (r == OC_OK) {
			char actor[256];

			oc_admin_actor(actor, sizeof(actor));
			oc_audit("unrevoke", "serial", serial, "actor", actor, (char *)NULL);
			fprintf(c->out, "released %s from hold\n", serial);
		}
	}
	if (r == OC_ERR_EXISTS || r == OC_ERR_DENIED || (r == OC_ERR_INVALID && verb[0] == 'u')) {
		fprintf(c->err, "opencesd: cert %s %s: %s\n", verb, serial, r == OC_ERR_EXISTS ?
		    "already revoked (only a certificate on hold can be revoked again)" :
		    r == OC_ERR_DENIED ? "revoked for good (only certificateHold can be undone)" :
		    "not revoked");
		x = OC_ADMIN_EXIT_USAGE;
	} else
		x = report(c, r, verb[0] == 's' ? "cert show" : verb[0] == 'r' ? "cert revoke" :
		    "cert unrevoke", serial);
	oc_store_cert_clear(&cert);
	free(serial);
	return x;
}

/* cert show|revoke|unrevoke SERIAL (lists are in admin_lifecycle.c). */
static int
cmd_cert(struct ctx *c, int argc, char **argv)
{
	struct oc_store *s = NULL;
	struct args a;
	const char *verb = argc > 0 ? argv[0] : "";
	char shown[256];
	int x, r;

	if (strcmp(verb, "show") != 0 && strcmp(verb, "revoke") != 0 &&
	    strcmp(verb, "unrevoke") != 0)
		return usage_err(c, "unknown verb '%s' (list, show, revoke or unrevoke)", verb);
	x = parse_args(c, argc - 1, argv + 1, verb[0] == 's' ? O_JSON :
	    verb[0] == 'r' ? O_REASON : 0, 1, 1, &a);
	if (x != 0)
		return x;
	/* a PostgreSQL store (URI, never shown with its password) is not a file */
	oc_store_url_redact(c->store_path, shown, sizeof(shown));
	if (!oc_store_url_is_pg(c->store_path) && access(c->store_path, F_OK) != 0) {
		fprintf(c->err, "opencesd: no CA store at %s\n", shown);
		return OC_ADMIN_EXIT_NOT_FOUND;
	}
	if ((r = oc_store_open(c->store_path, &s)) != OC_OK)
		return report(c, r, "open store", shown);
	x = cert_one(c, s, verb, &a);
	oc_store_close(s);
	return x;
}

/* `store check`: oc_store_check on the configured store (exit 0 when it passes). */
static int
cmd_store(struct ctx *c, int argc, char **argv)
{
	struct oc_store *s = NULL;
	char shown[256];
	int r;

	if (argc != 1 || strcmp(argv[0], "check") != 0)
		return usage_err(c, "unknown verb '%s' (check)", argc > 0 ? argv[0] : "");
	oc_store_url_redact(c->store_path, shown, sizeof(shown));
	if (!oc_store_url_is_pg(c->store_path) && access(c->store_path, F_OK) != 0) {
		fprintf(c->err, "opencesd: no CA store at %s\n", shown);
		return OC_ADMIN_EXIT_NOT_FOUND;
	}
	if ((r = oc_store_open(c->store_path, &s)) != OC_OK)
		return report(c, r, "open store", shown);
	r = oc_store_check(s);
	oc_store_close(s);
	if (r != OC_OK)
		return report(c, r, "store check", shown);
	fprintf(c->out, "store %s: ok\n", shown);
	return OC_ADMIN_EXIT_OK;
}

/* `directory status`: what the sync process recorded (directory.h, oc_dir_sync_status). */
static int
cmd_directory(struct ctx *c, int argc, char **argv)
{
	struct oc_dir_sync_status st;
	struct args a;
	const char *state;
	char t1[32], t2[32], t3[32];
	int x, r;

	if (argc < 1 || strcmp(argv[0], "status") != 0)
		return usage_err(c, "unknown verb '%s' (status)", argc > 0 ? argv[0] : "");
	if ((x = parse_args(c, argc - 1, argv + 1, O_JSON, 0, 0, &a)) != 0)
		return x;
	if ((r = oc_dir_open_ro(c->dir_path, &c->dir)) != OC_OK)
		return report(c, r, "open directory", c->dir_path);
	if ((r = oc_dir_sync_status(c->dir, &st)) != OC_OK)
		return report(c, r, "directory status", NULL);
	state = st.source == NULL ? "never" : st.last_error != NULL ?
	    (st.last_success ? "failing" : "never-synced") : "ok";
	if (c->json) {
		fputs("{\"state\":", c->out);
		oc_admin_json_str(c->out, state);
		fputs(",\"source\":", c->out);
		oc_admin_json_str(c->out, st.source ? st.source : "embedded");
		fputs(",\"last_attempt\":", c->out);
		oc_admin_json_time(c->out, st.last_attempt);
		fputs(",\"last_success\":", c->out);
		oc_admin_json_time(c->out, st.last_success);
		fputs(",\"last_change\":", c->out);
		oc_admin_json_time(c->out, st.last_change);
		fputs(",\"last_error\":", c->out);
		oc_admin_json_str(c->out, st.last_error);
		fprintf(c->out, ",\"failures\":%u,\"last_usn\":%lld,\"templates\":%zu,\"cas\":%zu}\n",
		    st.failures, (long long)st.last_usn, st.templates, st.cas);
	} else {
		oc_time_iso8601(st.last_attempt, t1, sizeof(t1));
		oc_time_iso8601(st.last_success, t2, sizeof(t2));
		oc_time_iso8601(st.last_change, t3, sizeof(t3));
		fprintf(c->out, "state:          %s\n", state);
		fprintf(c->out, "source:         %s\n", st.source ? st.source : "embedded");
		fprintf(c->out, "last attempt:   %s\n", st.last_attempt ? t1 : "-");
		fprintf(c->out, "last success:   %s\n", st.last_success ? t2 : "-");
		fprintf(c->out, "last change:    %s\n", st.last_change ? t3 : "-");
		fprintf(c->out, "failures:       %u\n", st.failures);
		fprintf(c->out, "last error:     %s\n", st.last_error ? st.last_error : "-");
		fprintf(c->out, "last usn:       %lld\n", (long long)st.last_usn);
		fprintf(c->out, "mirrored:       %zu templates, %zu CA entries\n", st.templates, st.cas);
	}
	x = st.last_error != NULL ? OC_ADMIN_EXIT_USAGE : OC_ADMIN_EXIT_OK;    /* failing: 1 */
	oc_dir_sync_status_clear(&st);
	return x;
}

int
oc_admin_run(const char *dir_path, const char *store_path, int argc, char **argv,
    FILE *out, FILE *err)
{
	struct ctx c;
	const char *obj = argc > 0 && argv[0] != NULL ? argv[0] : "";
	int x;

	memset(&c, 0, sizeof(c));
	c.dir_path = dir_path;
	c.store_path = store_path;
	c.out = out;
	c.err = err;
	if (strcmp(obj, "help") == 0 || strcmp(obj, "--help") == 0 || strcmp(obj, "-h") == 0) {
		oc_admin_usage(out);
		return OC_ADMIN_EXIT_OK;
	}
	if (dir_path == NULL || store_path == NULL)
		return usage_err(&c, "no directory given");
	if (strcmp(obj, "template") == 0)
		x = cmd_template(&c, argc - 1, argv + 1);
	else if (strcmp(obj, "account") == 0)
		x = cmd_account(&c, argc - 1, argv + 1);
	else if (strcmp(obj, "group") == 0)
		x = cmd_group(&c, argc - 1, argv + 1);
	else if (strcmp(obj, "grant") == 0 || strcmp(obj, "revoke") == 0)
		x = cmd_rights(&c, obj[0] == 'g', argc - 1, argv + 1);
	else if (strcmp(obj, "request") == 0 || strcmp(obj, "crl") == 0 ||
	    (strcmp(obj, "cert") == 0 && argc > 1 && strcmp(argv[1], "list") == 0))
		x = oc_admin_lifecycle(store_path, obj, argc - 1, argv + 1, out, err);
	else if (strcmp(obj, "cert") == 0)
		x = cmd_cert(&c, argc - 1, argv + 1);
	else if (strcmp(obj, "ca") == 0)
		x = oc_admin_ca(dir_path, argc - 1, argv + 1, out, err);
	else if (strcmp(obj, "directory") == 0)
		x = cmd_directory(&c, argc - 1, argv + 1);
	else if (strcmp(obj, "store") == 0)
		x = cmd_store(&c, argc - 1, argv + 1);
	else if (strcmp(obj, "ad") == 0)
		x = oc_admin_ad(dir_path, argc - 1, argv + 1, out, err);
	else
		x = usage_err(&c, "unknown object '%s'", obj);
	oc_dir_close(c.dir);
	fflush(out);
	return x;
}

int
oc_admin_main(const char *dir_path, const char *store_path, int argc, char **argv)
{
	return oc_admin_run(dir_path, store_path, argc, argv, stdout, stderr);
}
