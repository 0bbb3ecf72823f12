/*
 * The directory mirror: the enrollment policy of an LDAP directory (Active
 * Directory, Samba AD, or slapd with contrib/ldap/opences-adpki.schema)
 * copied into the embedded directory database, which the front end and the
 * CA keep reading (directory.h, oc_dir_mirror_replace). GetPolicies never
 * waits on LDAP, and an LDAP outage keeps the last good policy.
 *
 * What is read, under CN=Public Key Services,CN=Services,<configuration NC>
 * (templates.md 1, 3, 7, 8, 13):
 *   CN=Certificate Templates  pKICertificateTemplate: every attribute of
 *                             struct oc_template, nTSecurityDescriptor with
 *                             the SD_FLAGS control (OWNER|GROUP|DACL)
 *   CN=Enrollment Services    pKIEnrollmentService: cn, dNSHostName,
 *                             cACertificate (AD) or cACertificate;binary
 *                             (slapd), certificateTemplates,
 *                             msPKI-Enrollment-Servers
 *   CN=OID (subtree)          msPKI-Enterprise-Oid: OID, displayName, flags
 *
 * Change detection: a search for uSNChanged (AD, Samba), modifyTimestamp and
 * entryCSN (slapd) of those entries gives a stamp; an unchanged stamp after
 * a good sync reads nothing more. Otherwise everything is read and hashed;
 * the database is written (and the policy serial bumped) only when the hash
 * differs from the stored one.
 */
#ifndef OC_LDAP_MIRROR_H
#define OC_LDAP_MIRROR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "directory/directory.h"
#include "ldap/ldap_conn.h"

#define OC_LDAP_MIRROR_SOURCE "ldap"
#define OC_LDAP_MIRROR_ERR_MAX 256

/* SD_FLAGS control (templates.md 6.3): OWNER|GROUP|DACL, no SACL. */
#define OC_LDAP_SD_FLAGS_OID "1.2.840.113556.1.4.801"

/* One read of the directory (owns everything m points to). */
struct oc_ldap_snapshot {
	struct oc_dir_mirror m;
	char hash[65];              /* content digest, hex */
	char stamp[65];             /* change stamp digest, hex */
};
void oc_ldap_snapshot_clear(struct oc_ldap_snapshot *s);    /* NULL-safe */

/*
 * The change stamp of the policy objects (*usn: highest uSNChanged, 0 on
 * slapd). err (OC_LDAP_MIRROR_ERR_MAX bytes) gets a one-line reason on failure.
 */
int oc_ldap_mirror_stamp(struct oc_ldap *l, char stamp[65], int64_t *usn, char *err) OC_WUR;
/* Read and decode everything (stamp included). Templates that do not decode are left out (logged). */
int oc_ldap_mirror_read(struct oc_ldap *l, struct oc_ldap_snapshot *s, char *err) OC_WUR;

/*
 * One synchronisation into dir: connect, compare the stamp with the stored
 * one (force: read anyway), read, replace. Records the outcome in the sync
 * status (a failure leaves the mirror untouched). *changed: the policy changed.
 */
int oc_ldap_mirror_sync(const struct oc_ldap_config *cfg, struct oc_directory *dir, int force,
    int *changed, char *err) OC_WUR;

/*
 * The loop of the opencesd-dirsync process: a first forced sync, then one
 * every refresh_seconds, until *stop. Logs once per change of state (failing
 * with a new reason, recovered, policy changed), never every retry. Keeps
 * its connection between rounds (a new one after a failure); ignores SIGPIPE.
 */
int oc_ldap_mirror_run(const struct oc_ldap_config *cfg, const char *dir_path,
    unsigned refresh_seconds, volatile sig_atomic_t *stop) OC_WUR;

#endif
