/* The lifecycle part of the admin CLI (admin_lifecycle.c), called from admin.c. */
#ifndef OC_DAEMON_ADMIN_INT_H
#define OC_DAEMON_ADMIN_INT_H

#include <stdio.h>
#include <time.h>

#include "store/store.h"

/*
 * `request list|show|approve|deny`, `cert list` (with filters) and
 * `crl status|publish` on the CA store; obj is "request", "cert" or "crl",
 * argv[0] the verb. Returns an OC_ADMIN_EXIT_* code.
 */
int oc_admin_lifecycle(const char *store_path, const char *obj, int argc, char **argv,
    FILE *out, FILE *err);
/* `ca list|show|add-template|remove-template` on the directory's CA entries. */
int oc_admin_ca(const char *dir_path, int argc, char **argv, FILE *out, FILE *err);
/*
 * `ad publish|show-sd` (admin_ad.c): publication into an Active Directory
 * forest with the [directory] ldap_* settings of the configuration.
 */
int oc_admin_ad(const char *dir_path, int argc, char **argv, FILE *out, FILE *err);
/* JSON output shared by the commands (admin_json.c): a string or null, a time or null, a certificate row. */
void oc_admin_json_str(FILE *f, const char *s);
void oc_admin_json_time(FILE *f, time_t t);
void oc_admin_cert_json(FILE *f, const struct oc_store_cert *s);
/* Who runs the command: the Unix user, and "(sudo: USER)" when $SUDO_USER is set. */
void oc_admin_actor(char *buf, size_t len);

#endif
