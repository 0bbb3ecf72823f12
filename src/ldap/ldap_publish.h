/*
 * `opencesd ad publish` (issue 4): our templates, their OIDs and our CA into
 * CN=Public Key Services,CN=Services,<configuration NC> of an Active
 * Directory (or Samba AD) forest, following templates.md 1, 7, 8, 12.
 *
 * Three steps, each testable alone:
 *   plan   what the forest should hold (oc_ldap_pub_plan_build), pure;
 *   diff   one planned entry against what the directory holds
 *          (oc_ldap_pub_diff), pure, rendered as LDIF (oc_ldap_pub_ldif);
 *   run    read, diff, print and (unless a dry run) apply every entry
 *          through an I/O interface: LDAP (oc_ldap_pub_io_ldap) or anything
 *          else holding entries.
 *
 * Entries are never deleted. A template, an OID object or a container that
 * exists is left alone (administrators edit templates); the CA's
 * pKIEnrollmentService gets exactly the attributes we own replaced;
 * NTAuthCertificates and the Certification Authorities (a root) or AIA (a
 * subordinate CA) entry get our CA certificate added as a value if missing.
 */
#ifndef OC_LDAP_PUBLISH_H
#define OC_LDAP_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "directory/ad_sd.h"
#include "directory/directory.h"
#include "ldap/ldap_conn.h"
#include "ldap/ldap_encode.h"
#include "ldap/ldap_sd_build.h"
#include "model/policy.h"
#include "model/template.h"

enum oc_ldap_pub_mode {
	OC_LDAP_PUB_IF_MISSING = 1, /* create when absent; an existing entry is never touched */
	OC_LDAP_PUB_FILL = 2,       /* create; else add attributes it lacks, and the
	                               values of merge_attr it lacks */
	OC_LDAP_PUB_OWN = 3,        /* create; else replace the owned attributes that
	                               differ, delete the owned ones we have no value for */
};

struct oc_ldap_pub_target {
	int mode;                   /* enum oc_ldap_pub_mode */
	const char *what;           /* "template", "oid", "container", "enrollment-service",
	                               "certification-authority", "ntauth" */
	struct oc_ldap_entry e;     /* the entry as created */
	const char *merge_attr;     /* FILL: multi-valued attribute merged value by value */
	const char *const *owned;   /* OWN: NULL-terminated attribute names */
	/*
	 * Create only if the entry guard_dn is absent (it is planned before
	 * this one) or holds guard_value in guard_attr: a template's OID object
	 * is created only for a template with our OID.
	 */
	char *guard_dn;
	const char *guard_attr;
	char *guard_value;
};

struct oc_ldap_pub_plan {
	struct oc_ldap_pub_target *v;
	size_t n;
};

struct oc_ldap_pub_template {
	const struct oc_template *t;
	const struct oc_ldap_sd_grant *grants;  /* Enroll/AutoEnroll beyond the admins' */
	size_t ngrants;
};

struct oc_ldap_pub_input {
	const char *config_nc;      /* "CN=Configuration,DC=corp,DC=example,DC=test" */
	const struct oc_ad_sid *domain_sid;
	const struct oc_ldap_pub_template *templates;
	size_t ntemplates;
	const struct oc_ca_entry *ca;   /* name, dns_host_name, cert_der, templates
	                                   (certificateTemplates), uris (CES) */
	const char *forest_oid;     /* CN=OID's msPKI-Cert-Template-OID when it has none */
};

/* CA flags (templates.md 5.5): SUPPORTS_NT_AUTHENTICATION | CA_SERVERTYPE_ADVANCED */
#define OC_LDAP_PUB_CA_FLAGS 0xAu

int oc_ldap_pub_plan_build(const struct oc_ldap_pub_input *in,
    struct oc_ldap_pub_plan *plan) OC_WUR;
void oc_ldap_pub_plan_clear(struct oc_ldap_pub_plan *plan);     /* NULL-safe */

enum oc_ldap_mod_op { OC_LDAP_MOD_ADD = 1, OC_LDAP_MOD_REPLACE = 2, OC_LDAP_MOD_DELETE = 3 };

struct oc_ldap_mod {
	int op;                     /* enum oc_ldap_mod_op */
	struct oc_ldap_attr a;      /* DELETE: no values (the whole attribute) */
};

struct oc_ldap_change {
	int add;                    /* 1: add target->e; 0: modify with mods */
	const struct oc_ldap_pub_target *target;    /* borrowed */
	struct oc_ldap_mod *mods;
	size_t nmods;
};

/*
 * What t needs against cur (NULL: no such entry). *changed = 0 and c empty
 * when nothing; else c describes the add or the modify.
 */
int oc_ldap_pub_diff(const struct oc_ldap_pub_target *t, const struct oc_ldap_entry *cur,
    struct oc_ldap_change *c, int *changed) OC_WUR;
void oc_ldap_change_clear(struct oc_ldap_change *c);            /* NULL-safe */

/* The LDIF change record (RFC 2849; base64 for values that are not SAFE-STRINGs). */
int oc_ldap_pub_ldif(const struct oc_ldap_change *c, struct ocbuf *b) OC_WUR;

struct oc_ldap_pub_io {
	/* The entry at t->e.dn with the attributes t needs; *found = 0 when absent. */
	int (*read)(void *ctx, const struct oc_ldap_pub_target *t, struct oc_ldap_entry *cur,
	    int *found);
	/* Apply one change; NULL for a dry run. */
	int (*apply)(void *ctx, const struct oc_ldap_change *c);
	void *ctx;
};

struct oc_ldap_pub_result {
	size_t added, modified, unchanged;
	size_t skipped;             /* guarded entries left out (a warning each) */
};

/*
 * For every planned entry: read, diff, append the LDIF of the change to ldif
 * (may be NULL) and apply it (io->apply non-NULL; each applied change is
 * audited as "ad-publish" with its DN). Stops at the first failure.
 */
int oc_ldap_pub_run(const struct oc_ldap_pub_plan *plan, const struct oc_ldap_pub_io *io,
    struct ocbuf *ldif, struct oc_ldap_pub_result *res) OC_WUR;

/* The I/O of oc_ldap_pub_run over a connection (dry_run: apply = NULL). */
void oc_ldap_pub_io_ldap(struct oc_ldap *l, int dry_run, struct oc_ldap_pub_io *io);

/* objectSid of the domain NC head (oc_ldap_default_nc). */
int oc_ldap_pub_domain_sid(struct oc_ldap *l, struct oc_ad_sid *sid) OC_WUR;

/* nTSecurityDescriptor of dn (owner, group, DACL: SD_FLAGS 7). *sd malloc'd. */
int oc_ldap_pub_read_sd(struct oc_ldap *l, const char *dn, uint8_t **sd, size_t *len) OC_WUR;

/*
 * The SID a grant principal of the embedded directory stands for in the
 * domain: a group with a SID (oc_dir_group_add_sid), a SID itself, or a
 * well-known group name (Domain Users -513, Domain Computers -515, Domain
 * Admins -512, Domain Controllers -516, Enterprise Admins -519,
 * Authenticated Users S-1-5-11, Everyone S-1-1-0). OC_ERR_NOT_FOUND when the
 * principal has no SID (a local account): it cannot be published.
 */
int oc_ldap_pub_principal_sid(struct oc_directory *dir, const struct oc_ad_sid *domain,
    const char *principal, struct oc_ad_sid *sid) OC_WUR;

/*
 * The templates to publish from the embedded directory, with their grants as
 * SIDs: every template (all != 0) or those in ca->templates. Principals
 * without a SID are left out with a warning. Free with oc_ldap_pub_templates_free.
 */
int oc_ldap_pub_templates_from_dir(struct oc_directory *dir, const struct oc_ad_sid *domain,
    const struct oc_ca_entry *ca, int all, struct oc_ldap_pub_template **tv,
    size_t *n) OC_WUR;
void oc_ldap_pub_templates_free(struct oc_ldap_pub_template *tv, size_t n);

/* "CN=Public Key Services,CN=Services,<config_nc>" into *out (malloc'd). */
int oc_ldap_pub_pks_dn(const char *config_nc, char **out) OC_WUR;

#endif
