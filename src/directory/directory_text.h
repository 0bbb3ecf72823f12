/*
 * The administrator's template file: one "key = value" attribute per line,
 * list attributes repeated, '#' starts a comment line. `opencesd template show`
 * prints this format and `template add` reads it back.
 *
 *   cn = MyWebServer                       (required, 1-64 characters)
 *   display_name = My Web Server
 *   oid = 1.3.6.1.4.1.311.21.8.x.y         (optional: generated under the forest base)
 *   schema_version = 2                     (1-4, default 1)
 *   revision = 100        minor_revision = 0
 *   general_flags / enrollment_flags / private_key_flags / name_flags =
 *                          decimal, AD-style negative decimal, or 0x hex
 *   min_key_size = 2048   key_spec = 1     ra_signatures = 0   max_issuing_depth = 0
 *   validity = 1y         renewal = 6w     (seconds, or a number with s/h/d/w/y; y = 365 d)
 *   key_usage = a000                       (pKIKeyUsage bytes in hex; omit for none)
 *   eku / app_policy / cert_policy / critical_ext / ra_policy = <OID>   (repeat)
 *   ra_app_policy = <OID or section 4.7 triplets>                        (repeat)
 *   supersedes = <template cn>                                          (repeat)
 *   csp = <priority>,<provider name>                                    (repeat)
 *   key_algorithm = RSA | ECDSA_P256 | ECDSA_P384 | ECDSA_P521
 *   hash_algorithm = SHA256
 *   security_descriptor = <base64 of a self-relative SD>
 */
#ifndef OC_DIRECTORY_TEXT_H
#define OC_DIRECTORY_TEXT_H

#include "common/limits.h"

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "model/template.h"


/*
 * Parse a template file into t (zeroed first; cleared on error). On a parse
 * error *errline (if not NULL) is the 1-based line at fault (0: whole file).
 */
int oc_dir_template_parse(const uint8_t *p, size_t len, struct oc_template *t,
    size_t *errline) OC_WUR;
/* Append t in the same format (round-trips through oc_dir_template_parse). */
int oc_dir_template_format(const struct oc_template *t, struct ocbuf *b) OC_WUR;
/* "1y", "6w", "3d", "5h" or plain seconds. buf >= 24 bytes. */
void oc_dir_period_format(int64_t seconds, char *buf, size_t len);

#endif
