/*
 * An authenticated caller, as the front end hands it to the CA and as the
 * directory describes it. Directory attributes (upn, mail, dns_name, dn, sid)
 * are the ones subject/SAN building uses (msPKI-Certificate-Name-Flag).
 */
#ifndef OC_MODEL_IDENTITY_H
#define OC_MODEL_IDENTITY_H

#include <stdint.h>

#include "common/util.h"

/* clientAuthentication values of MS-XCEP, also our endpoint auth types */
enum oc_auth_type {
	OC_AUTH_ANONYMOUS = 1,
	OC_AUTH_KERBEROS = 2,
	OC_AUTH_PASSWORD = 4,
	OC_AUTH_CERTIFICATE = 8,
};

enum oc_account_kind {
	OC_ACCOUNT_USER = 0,
	OC_ACCOUNT_COMPUTER = 1,
};

struct oc_identity {
	char *name;                 /* canonical account name (sAMAccountName-like) */
	enum oc_account_kind kind;
	enum oc_auth_type auth_type;
	char *upn;                  /* userPrincipalName, may be NULL */
	char *mail;                 /* may be NULL */
	char *dns_name;             /* dNSHostName, may be NULL */
	char *dn;                   /* distinguished name, may be NULL */
	char *sid;                  /* "S-1-5-21-..." may be NULL */
	struct oc_strlist groups;   /* group names (embedded) or SIDs (AD) */
};

void oc_identity_clear(struct oc_identity *id);
void oc_identity_free(struct oc_identity *id);     /* NULL-safe; frees id */
int oc_identity_copy(struct oc_identity *dst, const struct oc_identity *src) OC_WUR;

const char *oc_auth_type_name(enum oc_auth_type t); /* "Kerberos", "UsernamePassword", ... */

#endif
