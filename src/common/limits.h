/* Every limit of the project, in one place. */
#ifndef OC_LIMITS_H
#define OC_LIMITS_H

/* HTTP front end */
#define OC_HTTP_MAX_HEADERS_SIZE   (72 * 1024)   /* >= 64 KiB Negotiate tokens */
#define OC_HTTP_MAX_BODY_SIZE      (256 * 1024)
#define OC_HTTP_MAX_CONNECTIONS    1024
#define OC_HTTP_TIMEOUT_SECONDS    30
#define OC_HTTP_WORKERS_DEFAULT    4
#define OC_HTTP_QUEUE_MAX          64            /* queued requests beyond busy workers -> 503 */
#define OC_HTTP_RETRY_AFTER_SECONDS 2

/* XML / SOAP */
#define OC_XML_MAX_DEPTH           32
#define OC_XML_MAX_NODES           4096
#define OC_SOAP_MAX_ID             256           /* MessageID, RelatesTo */
#define OC_SOAP_MAX_URI            2048          /* wsa:Action, wsa:To */
#define OC_USERNAME_MAX            256
#define OC_PASSWORD_MAX            256

/* Requests and certificates */
#define OC_REQUEST_DER_MAX         (64 * 1024)
#define OC_CERT_DER_MAX            (32 * 1024)
#define OC_CMC_DER_MAX             (64 * 1024)
#define OC_TEMPLATE_NAME_MAX       256
#define OC_OID_MAX                 128
#define OC_SUBJECT_MAX             1024
#define OC_SAN_MAX_ENTRIES         32
#define OC_NAME_MAX                256           /* account, group, CA names */
#define OC_GROUPS_MAX              256
#define OC_DISPOSITION_MAX         512
#define OC_RSA_MAX_BITS            16384

/* IPC frames */
#define OC_IPC_FRAME_MAX           (256 * 1024)

/* Authentication cache */
#define OC_AUTH_CACHE_ENTRIES      1024
#define OC_AUTH_CACHE_TTL_SECONDS  300

/* Directory / policy */
#define OC_TEMPLATES_MAX           512
#define OC_LIST_MAX                64            /* EKUs, CSPs, URIs ... per object */

/* Client */
#define OC_CLIENT_RESPONSE_MAX     (2 * 1024 * 1024)
#define OC_CLIENT_TIMEOUT_DEFAULT  30
#define OC_CLIENT_CONNECT_TIMEOUT_DEFAULT 5

#endif
