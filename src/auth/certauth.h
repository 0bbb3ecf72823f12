/*
 * Client-certificate authentication: a TLS client certificate (and the chain
 * the client sent) becomes an identity of the embedded directory.
 *
 * Steps, each a distinct refusal reason (enum oc_certauth_reason):
 *  1. chain verified against the configured trust anchors (X509_STORE,
 *     X509_V_FLAG_X509_STRICT, purpose SSL client), every certificate within
 *     its validity period;
 *  2. the leaf must carry an extendedKeyUsage with clientAuth
 *     (1.3.6.1.5.5.7.3.2): a certificate without the extension is refused;
 *  3. every certificate of the verified chain issued by our own CA is looked
 *     up through the revocation callback (fail closed: a callback error
 *     refuses);
 *  4. mapping to one account, in this order, first match wins:
 *     the SID security extension 1.3.6.1.4.1.311.25.2 (or the SAN URL
 *     "tag:microsoft.com,2022-09-14:sid:<SID>") against the account's sid;
 *     the SAN otherName UPN 1.3.6.1.4.1.311.20.2.3 against the account's upn;
 *     a SAN dNSName against a computer account's dns_name (case-insensitive).
 *     A certificate that names a SID maps by that SID or not at all
 *     (KB5014754 strong mapping).
 *     Explicit mappings (altSecurityIdentities-like table in the directory)
 *     are not implemented yet.
 *
 * Every refusal is logged at info level and returned as OC_ERR_AUTH
 * (OC_ERR_AUTH_MISSING when there is no certificate); internal failures
 * (memory, directory) keep their own code. The reason is available through
 * oc_certauth_verify_reason() for tests and audit.
 *
 * Thread safety: one struct oc_certauth may be shared by all workers (it is
 * read-only after oc_certauth_new); the directory handle is the caller's
 * (one per thread, see directory.h); the callback must be thread-safe.
 */
#ifndef OC_AUTH_CERTAUTH_H
#define OC_AUTH_CERTAUTH_H

#include "common/limits.h"
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common/err.h"
#include "directory/directory.h"
#include "model/identity.h"


struct oc_certauth_config {
	const char *trust_anchors_file;     /* PEM bundle: the CAs whose certificates authenticate */
	/*
	 * Our CA's records, asked for every certificate of a verified chain that
	 * our_ca_cert_file issued. serial_hex: lowercase hex, two digits per byte
	 * of the serial's magnitude (the store's form). Return OC_OK and set
	 * *is_revoked (0/1) or a negative error (the certificate is then refused).
	 * Unknown serials should count as revoked: our CA issued the certificate,
	 * so it must be in its records.
	 */
	int (*revoked)(void *arg, const char *serial_hex, int *is_revoked);
	void *revoked_arg;
	/* PEM, may be NULL (no revocation checks); when set, revoked is required */
	const char *our_ca_cert_file;
};

/*
 * Optional, right after oc_certauth_new: step 4 done by a directory elsewhere
 * (Active Directory over LDAP, asked through the auth process) instead of
 * dir, which may then be NULL. map gets the verified leaf's SID (NULL when
 * none), SAN UPNs and DNS names and maps them in the order above. OC_OK: id
 * filled; OC_ERR_NOT_FOUND: no account (refused as SID mismatch or
 * unmapped); anything else: an internal failure. Must be thread-safe.
 */
typedef int (*oc_certauth_map_fn)(void *arg, const char *sid, const struct oc_strlist *upn,
    const struct oc_strlist *dns, struct oc_identity *id);
struct oc_certauth;
void oc_certauth_set_map(struct oc_certauth *c, oc_certauth_map_fn map, void *arg);

enum oc_certauth_reason {
	OC_CERTAUTH_OK = 0,
	OC_CERTAUTH_NO_CERT,                /* no client certificate */
	OC_CERTAUTH_UNTRUSTED,              /* no chain to a trust anchor, bad signature, ... */
	OC_CERTAUTH_EXPIRED,                /* a certificate of the chain has expired */
	OC_CERTAUTH_NOT_YET_VALID,          /* a certificate of the chain is not valid yet */
	OC_CERTAUTH_WRONG_PURPOSE,          /* no clientAuth EKU (or a CA's EKU forbids it) */
	OC_CERTAUTH_REVOKED,                /* our CA's records say revoked */
	OC_CERTAUTH_REVOCATION_UNKNOWN,     /* the revocation callback failed */
	OC_CERTAUTH_BAD_NAMES,              /* malformed SID extension or SAN, conflicting SIDs */
	OC_CERTAUTH_SID_MISMATCH,           /* carries a SID no account has (no weaker fallback) */
	OC_CERTAUTH_UNMAPPED,               /* no account for its UPN or DNS names */
	OC_CERTAUTH_ERROR,                  /* internal error (memory, directory, OpenSSL) */
};

struct oc_certauth;

/* Load the trust anchors (at least one) and our CA certificate. OC_ERR_CONFIG on bad files. */
int oc_certauth_new(const struct oc_certauth_config *cfg, struct oc_certauth **cp) OC_WUR;
void oc_certauth_free(struct oc_certauth *c);          /* NULL-safe */

/*
 * Verify leaf (with the untrusted intermediates in chain, may be NULL; both
 * borrowed) and map it to an account of dir. On success fills id (attributes
 * and groups, auth_type OC_AUTH_CERTIFICATE); on failure id is left zeroed.
 */
int oc_certauth_verify(struct oc_certauth *c, X509 *leaf, STACK_OF(X509) *chain,
    struct oc_directory *dir, struct oc_identity *id) OC_WUR;
/* The same, also telling why (reason may be NULL). */
int oc_certauth_verify_reason(struct oc_certauth *c, X509 *leaf, STACK_OF(X509) *chain,
    struct oc_directory *dir, struct oc_identity *id, enum oc_certauth_reason *reason) OC_WUR;

/* "untrusted", "expired", ... (never NULL). */
const char *oc_certauth_reason_name(enum oc_certauth_reason r);

/*
 * The SID security extension's value (templates.md 10.4): GeneralNames with
 * one otherName 1.3.6.1.4.1.311.25.2.1 whose [0] value is an OCTET STRING
 * "S-1-...". *sid is malloc'd. OC_ERR_DER / OC_ERR_PARSE on anything else
 * (several SIDs, no SID, a SID that is not "S-1-" digits and dashes).
 */
int oc_certauth_sid_ext_decode(const uint8_t *p, size_t len, char **sid) OC_WUR;

#endif
