/* `opences retrieve`: the certificate of a pending request, by RequestID (retrieve.c). */
#ifndef OC_CLIENT_RETRIEVE_H
#define OC_CLIENT_RETRIEVE_H

#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/* argv[1] is "retrieve". Returns a CLIENT_EXIT_* status. */
int client_retrieve_main(int argc, char **argv);
/*
 * The QueryTokenStatus envelope (wstep.md 9.2, with a UsernameToken when
 * user != NULL) for request_id, addressed to `to`.
 */
int client_wstep_build_query(struct ocbuf *out, const char *to, const char *message_id,
    const char *user, const char *password, unsigned long request_id, long now) OC_WUR;

#endif
