/* One error list, written once: generates the enum and the strings. */
#ifndef OC_ERR_H
#define OC_ERR_H

#define OC_WUR __attribute__((warn_unused_result))

/* X(name, text) -- values are negative, 0 is OC_OK. */
#define OC_ERR_LIST(X)                                                  \
	X(OC_ERR_INTERNAL,        "internal error")                     \
	X(OC_ERR_NOMEM,           "out of memory")                      \
	X(OC_ERR_LIMIT,           "size limit exceeded")                \
	X(OC_ERR_INVALID,         "invalid argument")                   \
	X(OC_ERR_IO,              "input/output error")                 \
	X(OC_ERR_EOF,             "unexpected end of data")             \
	X(OC_ERR_PARSE,           "malformed input")                    \
	X(OC_ERR_XML,             "malformed XML")                      \
	X(OC_ERR_XML_DTD,         "DOCTYPE or entity not allowed")      \
	X(OC_ERR_SOAP_VERSION,    "not a SOAP 1.2 envelope")            \
	X(OC_ERR_SOAP_HEADER,     "bad SOAP header")                    \
	X(OC_ERR_SOAP_ACTION,     "unknown or missing action")          \
	X(OC_ERR_SOAP_BODY,       "unexpected SOAP body")               \
	X(OC_ERR_BASE64,          "bad base64")                         \
	X(OC_ERR_DER,             "bad DER")                            \
	X(OC_ERR_AUTH,            "authentication failed")              \
	X(OC_ERR_AUTH_MISSING,    "no credentials")                     \
	X(OC_ERR_DENIED,          "access denied")                      \
	X(OC_ERR_NOT_FOUND,       "not found")                          \
	X(OC_ERR_EXISTS,          "already exists")                     \
	X(OC_ERR_STORE,           "store error")                        \
	X(OC_ERR_CRYPTO,          "cryptographic error")                \
	X(OC_ERR_IPC,             "IPC error")                          \
	X(OC_ERR_UNAVAILABLE,     "service unavailable")                \
	X(OC_ERR_CONFIG,          "configuration error")                \
	X(OC_ERR_TIMEOUT,         "timed out")                          \
	X(OC_ERR_NOT_SUPPORTED,   "not supported")

enum oc_err {
	OC_OK = 0,
	OC_ERR__FIRST = -1000,
#define OC_ERR_ENUM(n, s) n,
	OC_ERR_LIST(OC_ERR_ENUM)
#undef OC_ERR_ENUM
	OC_ERR__LAST
};

/* Human text for an error code (never NULL). */
const char *oc_strerror(int err);

#endif
