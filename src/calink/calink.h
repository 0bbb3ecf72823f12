/*
 * The CA link: front ends reach CA nodes over mutual TLS, carrying the
 * tagged frames of src/ipc (u32 type | u32 tag | u32 len | payload) that
 * the front and the CA process already speak over their socketpair. Neither
 * of those processes changes: two new processes do the network part.
 *
 * Listener (CA host, listen.c): accepts front ends (TLS 1.2+, client
 * certificate required, verified against client_ca, then matched against
 * the allow list: a subject CN, or "sha256:<hex>" of the certificate DER),
 * checks every frame (a type the CA knows, length <= OC_IPC_FRAME_MAX) and
 * multiplexes them onto the one CA socketpair with fresh tags; answers go
 * back to the connection and tag they came from. A front that goes away
 * loses only its own answers.
 *
 * Connector (front host, connect.c): bridges the front's CA socketpair to
 * one CA node at a time, in order of preference; when a node is unreachable
 * or its connection breaks it moves to the next one and re-sends the frames
 * that were unanswered; only when every node failed does it answer them
 * itself with an error result (OC_DISP_ERROR). It goes back to a preferred
 * node every OC_CALINK_RETRY_SECONDS.
 *
 * Both are single-threaded poll loops; neither holds the CA key.
 */
#ifndef OC_CALINK_H
#define OC_CALINK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct oc_calink_listen_config {
	const char *const *listen;   /* "host:port" ("127.0.0.1:9443", "[::1]:9443"); port 0: any */
	size_t nlisten;
	const char *cert_file;       /* the link's server certificate (PEM, chain allowed) */
	const char *key_file;
	const char *client_ca_file;  /* trust anchors for front end certificates */
	const char *const *allow;    /* "CN" or "sha256:<hex of the certificate DER>" */
	size_t nallow;               /* 0: every front end is refused */
	size_t max_conns;            /* 0: OC_CALINK_CONNS_MAX */
	size_t inflight_max;         /* 0: OC_CALINK_INFLIGHT_MAX */
	int stop_fd;                 /* readable: run returns (a pipe or signalfd); -1: none */
};

struct oc_calink_listener;

/* Load the TLS material and bind every address (nothing is accepted yet). */
int oc_calink_listener_new(const struct oc_calink_listen_config *cfg,
    struct oc_calink_listener **lp) OC_WUR;
/* The port address i is bound to (useful with port 0), or -1. */
int oc_calink_listener_port(const struct oc_calink_listener *l, size_t i);
/*
 * Serve until stop_fd is readable or the CA closes ca_fd (OC_OK), or a
 * failure of ca_fd itself (OC_ERR_IPC). ca_fd stays the caller's.
 */
int oc_calink_listener_run(struct oc_calink_listener *l, int ca_fd) OC_WUR;
/* NULL-safe; closes the listening sockets and every connection. */
void oc_calink_listener_free(struct oc_calink_listener *l);

struct oc_calink_connect_config {
	const char *const *nodes;    /* "host:port" of the CA nodes, in order of preference */
	size_t nnodes;
	const char *cert_file;       /* this front end's client certificate */
	const char *key_file;
	const char *server_ca_file;  /* trust anchors for the CA nodes' link certificates */
	int connect_timeout;         /* seconds to the end of the handshake; 0: default */
	int retry_seconds;           /* back to a preferred node after; 0: OC_CALINK_RETRY_SECONDS */
	int stop_fd;                 /* readable: run returns; -1: none */
	int answer_seconds;          /* a node that keeps a frame unanswered this long is
	                                left (the frame goes to the next); 0: OC_CALINK_ANSWER_SECONDS */
};

struct oc_calink_connector;

/* Load the TLS material and check the node addresses (no connection yet). */
int oc_calink_connector_new(const struct oc_calink_connect_config *cfg,
    struct oc_calink_connector **cp) OC_WUR;
/*
 * Bridge front_fd (the front's CA socketpair) to the CA nodes until the
 * front closes it or stop_fd is readable (OC_OK). front_fd stays the caller's.
 */
int oc_calink_connector_run(struct oc_calink_connector *c, int front_fd) OC_WUR;
/* NULL-safe. */
void oc_calink_connector_free(struct oc_calink_connector *c);

/*
 * Is frame type t one a front end may send to the CA (ISSUE, QUERY, PING,
 * CERT_STATUS)? The listener drops a connection that sends anything else.
 */
int oc_calink_type_known(uint32_t t);

#endif
