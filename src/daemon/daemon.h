/* opencesd roles and set-up steps. */
#ifndef OC_DAEMON_H
#define OC_DAEMON_H

#include "common/err.h"
#include "daemon/config.h"

/* Create what is missing: CA key and certificate (in a short-lived child
 * process, so this process never holds the CA key), directory schema and
 * default templates, and the CA entry with the configured CES URIs. */
int oc_daemon_init(const struct oc_config *cfg) OC_WUR;
/* Run the CA process and the front end until SIGTERM. */
int oc_daemon_serve(const struct oc_config *cfg) OC_WUR;
/* `opencesd demo --dir DIR --listen ADDR` */
int oc_daemon_demo(int argc, char **argv);

#endif
