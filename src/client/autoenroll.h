/*
 * `opences autoenroll`: keep a valid certificate for every autoenrollment
 * template of the policy in a local store directory.
 *
 *   DIR/<template>.key         the private key (PEM PKCS#8, mode 0600)
 *   DIR/<template>.pem         the certificate (PEM)
 *   DIR/state.json             per template: files, serial, validity, last
 *                              attempt and result, failures, next attempt
 *                              (written atomically after every change)
 *   DIR/.lock                  flock: one autoenroll per store at a time
 *
 * <template> is the commonName with every byte outside [A-Za-z0-9_.-] (and a
 * leading '.') written %XX.
 *
 * The decision of a pass is pure (client_ae_decide, client_ae_plan over a
 * given clock); autoenroll.c runs it with the enroll and renew flows of
 * enroll.c and renew.c; autoenroll_state.c reads and writes state.json.
 */
#ifndef OC_CLIENT_AUTOENROLL_H
#define OC_CLIENT_AUTOENROLL_H

#include <stddef.h>
#include <stdint.h>

#include "client/client.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/limits.h"
#include "common/util.h"

#define CLIENT_AE_INTERVAL_DEFAULT  28800        /* 8 h, as Windows autoenrollment */
#define CLIENT_AE_INTERVAL_MAX      604800       /* a week */
#define CLIENT_AE_BACKOFF_BASE      30           /* seconds after the first failure */
#define CLIENT_AE_BACKOFF_MAX       28800        /* doubling stops here */
#define CLIENT_AE_RENEW_TRIES       3            /* failed renewals before a new enrollment */
#define CLIENT_AE_RENEW_PERCENT     80           /* renewal point without a usable period */
#define CLIENT_AE_STATE_MAX         (256 * 1024) /* bytes of state.json */
#define CLIENT_AE_ENTRIES_MAX       OC_TEMPLATES_MAX
#define CLIENT_AE_FILE_MAX          255          /* a file name in the store */
#define CLIENT_AE_STATE_FILE        "state.json"
#define CLIENT_AE_SUPERSEDED_SUFFIX ".superseded"

/* What the store knows of one template (all strings malloc'd, may be NULL). */
struct client_ae_entry {
	char *template_name;         /* the policy's commonName */
	char *key_file;              /* names inside the store directory */
	char *cert_file;
	char *serial;                /* hex, as OpenSSL prints it */
	int64_t not_before;          /* 0: no certificate */
	int64_t not_after;
	int64_t last_attempt;        /* 0: never */
	char *last_result;           /* client_ae_result_name() */
	uint32_t failures;           /* consecutive failed attempts */
	int64_t next_attempt;        /* back-off: nothing before this time (0: none) */
	char *request_id;            /* the last RequestID (pending: the one to wait for) */
};

struct client_ae_state {
	struct client_ae_entry *v;
	size_t n;
};

void client_ae_entry_clear(struct client_ae_entry *e);
void client_ae_state_clear(struct client_ae_state *st);
/* The entry of template cn (case-insensitive), NULL if none. */
struct client_ae_entry *client_ae_state_find(const struct client_ae_state *st, const char *cn);
/* Find or add (empty) the entry of cn. OC_ERR_LIMIT beyond CLIENT_AE_ENTRIES_MAX. */
int client_ae_state_get(struct client_ae_state *st, const char *cn,
    struct client_ae_entry **e) OC_WUR;
/* Remove entry i (order of the others kept). */
void client_ae_state_remove(struct client_ae_state *st, size_t i);
/*
 * Parse state.json. Unknown keys are skipped; bad JSON, a file name that is
 * not a plain name of the store, a duplicate template or values out of range
 * are OC_ERR_PARSE; OC_ERR_LIMIT beyond the limits above.
 */
int client_ae_state_parse(const uint8_t *p, size_t len, struct client_ae_state *st) OC_WUR;
int client_ae_state_format(const struct client_ae_state *st, struct ocbuf *out) OC_WUR;
/* 1 if name may be used as a file of the store (no '/', no leading '.', bounded). */
int client_ae_file_name_ok(const char *name);
/* "<escaped cn><suffix>" (malloc'd). */
int client_ae_file_name(const char *cn, const char *suffix, char **out) OC_WUR;

/* ------------------------------------------------------------------ */
/* Decisions (pure) */

enum client_ae_action {
	CLIENT_AE_NOTHING = 0,       /* valid, before its renewal point */
	CLIENT_AE_ENROLL,            /* missing or expired (or renewals keep failing) */
	CLIENT_AE_RENEW,             /* in the renewal window: signed renewal */
	CLIENT_AE_WAIT,              /* back-off after failures, or pending */
	CLIENT_AE_RETIRE,            /* superseded by a template now held: set aside */
	CLIENT_AE_SKIP,              /* superseded by a managed template: left to lapse */
};
const char *client_ae_action_name(enum client_ae_action a);

enum client_ae_result {
	CLIENT_AE_R_NONE = 0, CLIENT_AE_R_ENROLLED, CLIENT_AE_R_RENEWED, CLIENT_AE_R_PENDING,
	CLIENT_AE_R_DENIED, CLIENT_AE_R_NOT_OFFERED, CLIENT_AE_R_UNREACHABLE, CLIENT_AE_R_ERROR,
};
const char *client_ae_result_name(enum client_ae_result r);

/*
 * Why a policy template is not autoenrolled (NULL: it is): it needs the
 * autoEnroll and enroll permissions and enrollmentFlags AUTO_ENROLLMENT
 * (xcep.md 7), and a subject the CA builds (no ENROLLEE_SUPPLIES_SUBJECT).
 */
const char *client_ae_ineligible(const struct client_template *t);

/*
 * When a certificate enters its renewal window: notAfter minus the template's
 * renewalPeriodSeconds, or, when that period is 0 or not shorter than the
 * certificate's lifetime, CLIENT_AE_RENEW_PERCENT of the lifetime.
 */
int64_t client_ae_renew_at(int64_t not_before, int64_t not_after, uint64_t renewal_seconds);
/* Delay after `failures` consecutive failures: BASE * 2^(failures-1), capped at MAX. */
int64_t client_ae_backoff(uint32_t failures);

/*
 * What to do now for a template the policy marks for autoenrollment, given its
 * store entry (NULL: none). *next: when this template next needs a pass
 * (INT64_MAX: not before something changes).
 */
enum client_ae_action client_ae_decide(const struct client_ae_entry *e,
    uint64_t renewal_seconds, int64_t now, int64_t *next);

/* A managed template as the planner sees it (borrowed from the policy). */
struct client_ae_tpl {
	const char *cn;
	uint64_t renewal_seconds;
	const struct oc_strlist *superseded;   /* may be NULL */
};

#define CLIENT_AE_NONE ((size_t)-1)

struct client_ae_step {
	enum client_ae_action action;
	size_t tpl;                  /* index into tpls, or CLIENT_AE_NONE */
	size_t entry;                /* index into the state, or CLIENT_AE_NONE */
	size_t by;                   /* RETIRE/SKIP: the superseding tpl */
};

/*
 * The plan of one pass, one step per managed template (tpls, in order) then
 * one RETIRE per other store entry to set aside:
 *  - a template superseded by another managed template (its supersededPolicies
 *    names it, case-insensitive) is not enrolled or renewed (SKIP) and its
 *    entry is RETIREd once the superseding template's entry holds a valid
 *    certificate; a store entry of a template no longer managed is RETIREd on
 *    the same condition, else left alone;
 *  - the others are client_ae_decide's.
 * *steps malloc'd (NULL when none); *next the earliest time a template needs a
 * pass (INT64_MAX when none).
 */
int client_ae_plan(const struct client_ae_tpl *tpls, size_t ntpls,
    const struct client_ae_state *st, int64_t now, struct client_ae_step **steps,
    size_t *nsteps, int64_t *next) OC_WUR;

/* `opences autoenroll`: returns CLIENT_EXIT_* (see the usage for --once). */
int client_run_autoenroll(const struct client_opts *o);

#endif
