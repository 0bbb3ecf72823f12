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
#define OC_SERIAL_HEX_MAX          64            /* hex digits of a certificate serial */

/* IPC frames */
#define OC_IPC_FRAME_MAX           (256 * 1024)

/* Authentication cache */
#define OC_AUTH_CACHE_ENTRIES      1024
#define OC_AUTH_CACHE_TTL_SECONDS  300

/* Authentication service (src/auth/authsvc*.c) */
#define OC_AUTHSVC_CTX_MAX         1024          /* unfinished SPNEGO exchanges */
#define OC_AUTHSVC_CTX_TTL_SECONDS 60            /* idle time before one is dropped */
#define OC_AUTHSVC_WORKERS         4             /* auth process threads (yescrypt ~80 ms) */
#define OC_AUTHSVC_QUEUE_MAX       256           /* requests read ahead of the workers */

/* Rendered GetPolicies responses, per policy snapshot (src/front/policy_resp.c) */
#define OC_POLICY_CACHE_ENTRIES    256
#define OC_POLICY_CACHE_BYTES      (16 * 1024 * 1024)  /* keys + payloads */
#define OC_POLICY_CACHE_KEY_MAX    (16 * 1024)         /* larger keys are not cached */

/* Directory / policy */
#define OC_TEMPLATES_MAX           512
#define OC_LIST_MAX                64            /* EKUs, CSPs, URIs ... per object */

/* Client */
#define OC_CLIENT_RESPONSE_MAX     (2 * 1024 * 1024)
#define OC_CLIENT_TIMEOUT_DEFAULT  30
#define OC_CLIENT_CONNECT_TIMEOUT_DEFAULT 5

/* HTTP responses */
/* Extra response headers a handler may add. */
#define OC_HTTP_RESP_HEADERS_MAX   32
/* Largest response body a handler may produce (what our client accepts). */
#define OC_HTTP_RESP_BODY_MAX      OC_CLIENT_RESPONSE_MAX
/* "[" ipv6 "]:" port */
#define OC_HTTP_PEER_MAX           64
/* WS-Trust request context */
/* Bounds of the untrusted AdditionalContext. */
#define OC_WSTEP_CONTEXT_MAX       4096          /* bytes of "name:value\n" lines */
#define OC_WSTEP_CONTEXT_ITEMS_MAX 32
#define OC_WSTEP_VALUE_TYPE_MAX    512           /* BST ValueType attribute */
/* Directory */
/* How deep nested groups are followed (groups of groups of ...). */
#define OC_DIR_GROUP_DEPTH_MAX 8
/* Longest line / list item we store in a newline-joined text column. */
#define OC_DIR_ITEM_MAX        2048
/* Directory template files */
#define OC_DIR_TEXT_MAX (64 * 1024)   /* largest template file */

/* Kerberos (SPNEGO) */
/* Largest token accepted (a 72 KiB Negotiate header decodes to ~54 KiB). */
#define OC_GSS_TOKEN_MAX     (64 * 1024)
/* Largest channel-binding application data ("tls-server-end-point:" + hash). */
#define OC_GSS_CB_MAX        256
/* Largest principal name kept as identity. */
#define OC_GSS_PRINCIPAL_MAX 512
/* MS-PAC */
/* Largest PAC accepted (it travels inside a token of at most 64 KiB). */
#define OC_PAC_MAX          (64 * 1024)
/* Most PAC_INFO_BUFFERs in a PACTYPE (real PACs have 5 to 10). */
#define OC_PAC_BUFFERS_MAX  64
/* Client certificates */
/* Most certificates a client may send with its leaf, and the deepest chain verified. */
#define OC_CERTAUTH_CHAIN_MAX 8
/* AD security descriptors */
#define OC_AD_SD_MAX          (64 * 1024) /* largest SD accepted (ACL sizes are 16-bit) */
#define OC_AD_TOKEN_SIDS_MAX  4096        /* caller SIDs an access check accepts */
/* AD attributes */
#define OC_AD_ATTR_VALUE_MAX 65536   /* msPKI-Enrollment-Servers rangeUpper; longest value read */
/* AD publication (opencesd ad publish): values of one attribute read or written
   (NTAuthCertificates may list many CAs), attributes of one entry */
#define OC_LDAP_PUB_VALUES_MAX 1024
#define OC_LDAP_PUB_ATTRS_MAX  128
/* Directory certificate mappings */
#define OC_DIR_CERTMAPS_MAX    64       /* mappings per account */
/* Publication listener */
#define OC_PUBLISH_FILE_MAX (16u * 1024 * 1024)
#define OC_PUBLISH_NAME_MAX 200
/* Metrics listener: the rendered /metrics and /health documents */
#define OC_METRICS_TEXT_MAX (1024u * 1024)
#define OC_METRICS_RESTART_MIN_SECONDS 5   /* a listener dying sooner is not restarted */
/* Client files */
#define CLIENT_PEM_FILE_MAX  (4 * OC_CERT_DER_MAX)   /* --cert / --key files */

/* CA link over mutual TLS (src/calink) */
#define OC_CALINK_CONNS_MAX        64      /* front ends connected to one CA node */
#define OC_CALINK_INFLIGHT_MAX     64      /* unanswered frames per front end connection */
#define OC_CALINK_HANDSHAKE_SECONDS 10     /* TCP accept/connect to the end of the TLS handshake */
#define OC_CALINK_CONNECT_TIMEOUT_DEFAULT 3
#define OC_CALINK_RETRY_SECONDS    30      /* a front end retries its preferred CA node */
#define OC_CALINK_QUEUE_BYTES      (4 * 1024 * 1024)  /* bytes buffered toward one peer */
#define OC_CALINK_ALLOW_MAX        64      /* [ca_link] allow entries */
#define OC_CALINK_NODES_MAX        16      /* [ca_node] addresses */
#define OC_CALINK_PENDING_MAX      1024    /* frames a connector holds for re-sending */
#define OC_CALINK_ANSWER_SECONDS   60      /* a node silent this long on a frame is given up */

/* Identities from the directory over LDAP (src/ldap/ldap_identity.c) */
#define OC_LDAP_IDENT_CACHE_ENTRIES 512    /* accounts remembered (by SID, login, UPN, DNS name) */
#define OC_LDAP_IDENT_TTL_SECONDS  60      /* how long a found account (and its groups) is reused */

#endif
