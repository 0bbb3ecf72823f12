/*
 * The CA key in a PKCS#11 token (libp11), when [ca] key is an RFC 7512 URI:
 *   pkcs11:token=<label>;object=<label>[;id=%01][;type=private]
 *     ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/opences/pin
 * (pin-value=<pin> is accepted too; pin-source is preferred; the PIN is never logged).
 * Only the CA process (and the init child) loads the module. The EVP_PKEY returned keeps
 * the module loaded until it is freed; one token key per process at a time.
 * Threads: libp11 >= 0.4.11 takes a session from its per-slot pool under a lock for each
 * operation and initialises the module with CKF_OS_LOCKING_OK, so the signing pool may
 * sign with the one EVP_PKEY concurrently (no extra mutex).
 */
#ifndef OC_CA_PKCS11_H
#define OC_CA_PKCS11_H

#include <openssl/evp.h>

#include "common/err.h"

/* 1 when s is a PKCS#11 URI ("pkcs11:" prefix), else 0. */
int ca_pkcs11_is_uri(const char *s);

/*
 * Find the private key the URI names and return an EVP_PKEY that signs in the token.
 * With create set and no such key, generate it in the token first (key_type "RSA2048"
 * or NULL; sensitive, not extractable) and set *created. Errors: OC_ERR_CONFIG (bad
 * URI, module, token, PIN), OC_ERR_NOT_FOUND (no key, create unset),
 * OC_ERR_NOT_SUPPORTED (key type libp11 cannot generate), OC_ERR_CRYPTO.
 */
int ca_pkcs11_load_key(const char *uri, int create, const char *key_type, EVP_PKEY **key,
    int *created) OC_WUR;

#endif
