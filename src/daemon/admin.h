/*
 * The administrator's command line: `opencesd --dir DIR <object> <verb> ...`.
 * Templates, accounts, groups and grants live in the directory (dir_path);
 * requests and certificates are listed from the CA store (store_path).
 */
#ifndef OC_DAEMON_ADMIN_H
#define OC_DAEMON_ADMIN_H

#include <stdio.h>

/* Exit codes */
#define OC_ADMIN_EXIT_OK        0
#define OC_ADMIN_EXIT_USAGE     1   /* usage error, invalid input or any other failure */
#define OC_ADMIN_EXIT_NOT_FOUND 2   /* the named object (or database) does not exist */

/* argv[0] is the object word ("template", "account", ...). Prints to stdout / stderr. */
int oc_admin_main(const char *dir_path, const char *store_path, int argc, char **argv);
/* The same, printing tables / JSON to out and messages to err. */
int oc_admin_run(const char *dir_path, const char *store_path, int argc, char **argv,
    FILE *out, FILE *err);
void oc_admin_usage(FILE *f);

#endif
