/*
 * Process layout of `opencesd serve`: a supervisor (no threads, no key, no
 * network input) forks the CA process, which alone opens the CA key and the
 * store; the auth process, which alone reads the keytab and the password
 * verifiers; and the front end (TLS, HTTP, SOAP, worker threads). They talk
 * over socketpairs with typed frames. The supervisor restarts all three when
 * one dies and forwards SIGTERM for a graceful stop. With [server] roles = ca
 * a CA link listener (src/calink) stands in for the front end and the auth
 * process; with roles = front a CA link connector stands in for the CA.
 */
#include "daemon/daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "auth/authsvc.h"
#include "ca/ca.h"
#include "calink/calink.h"
#include "common/limits.h"
#include "common/log.h"
#include "directory/directory.h"
#include "front/front.h"
#include "http/http.h"
#include "ldap/ldap_conn.h"
#include "ldap/ldap_mirror.h"
#include "metrics/metrics.h"
#include "model/hresult.h"
#include "publish/publish.h"

/*
 * The metrics registry (shared mapping): created by the supervisor before
 * it forks and never changed after, like the configuration; every child
 * counts into it (metrics/metrics.h). NULL = not created.
 */
static struct oc_metrics *serve_metrics;

static void
ca_config_from(const struct oc_config *cfg, struct oc_ca_config *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->dir_path = cfg->dir_path;
	cc->store_path = cfg->store_path;
	cc->key_file = cfg->ca_key;
	cc->cert_file = cfg->ca_cert;
	cc->key_type = cfg->ca_key_type;
	cc->ca_name = cfg->ca_name;
	cc->aia_url = cfg->aia_url;
	cc->cdp_url = cfg->cdp_url;
	cc->validity_days = 3650;
	cc->publish_dir = cfg->publish_dir;
	cc->sign_threads = cfg->sign_threads;
	cc->crl_period_hours = (int)cfg->crl_period_hours;
	cc->delta_crl_period_hours = cfg->delta_crl_period_hours ?
	    (int)cfg->delta_crl_period_hours : -1;
	cc->crl_overlap_hours = (int)cfg->crl_overlap_hours;
	cc->delta_cdp_url = cfg->delta_cdp_url;
	cc->idempotence_window_seconds = (int)cfg->idempotence_window;
	cc->refuse_request_names = cfg->refuse_request_names;
	cc->accounts_from_front = cfg->dir_source == OC_DIR_SOURCE_LDAP &&
	    !cfg->dir_accounts_embedded;
}

/* Run fn in a child process and wait for it (keeps key material out of this process). */
static int
in_child(int (*fn)(const struct oc_config *, void *), const struct oc_config *cfg, void *arg)
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) < 0)
		return OC_ERR_INTERNAL;
	if (pid == 0)
		_exit(fn(cfg, arg) == OC_OK ? 0 : 1);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return OC_ERR_INTERNAL;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? OC_OK : OC_ERR_INTERNAL;
}

static int
ca_init_child(const struct oc_config *cfg, void *arg)
{
	struct oc_ca_config cc;
	int r;

	(void)arg;
	ca_config_from(cfg, &cc);
	if ((r = oc_ca_init(&cc)) != OC_OK) {
		error_fr(r, "CA initialisation");
		return r;
	}
	if ((cfg->roles & OC_ROLE_FRONT) && cfg->tls_cert != NULL && cfg->tls_key != NULL &&
	    (access(cfg->tls_cert, F_OK) != 0 || access(cfg->tls_key, F_OK) != 0)) {
		static const char *const dns[] = { "localhost", NULL };
		static const char *const ips[] = { "127.0.0.1", "::1", NULL };
		if ((r = oc_ca_issue_tls_server_cert(&cc, dns, ips, cfg->tls_key,
		    cfg->tls_cert)) != OC_OK) {
			error_fr(r, "TLS server certificate");
			return r;
		}
	}
	return OC_OK;
}

static int
read_ca_cert_der(const char *path, uint8_t **der, size_t *len)
{
	FILE *fp;
	X509 *x = NULL;
	int n;

	*der = NULL;
	if ((fp = fopen(path, "r")) == NULL)
		return OC_ERR_IO;
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	if (x == NULL)
		return OC_ERR_CRYPTO;
	n = i2d_X509(x, der);
	X509_free(x);
	if (n <= 0)
		return OC_ERR_CRYPTO;
	*len = (size_t)n;
	return OC_OK;
}

/* Published URI of an endpoint: public_url + percent-encoded path. */
static int
endpoint_build(const struct oc_config *cfg, const struct oc_conf_endpoint *ce,
    struct oc_endpoint *ep)
{
	char *enc = NULL, buf[2048];
	int r;

	memset(ep, 0, sizeof(*ep));
	ep->service = (enum oc_service)ce->service;
	ep->auth = ce->auth;
	ep->renewal_only = ce->renewal_only;
	if ((r = oc_endpoint_path(ep->service, ce->auth, cfg->ca_name, &ep->path)) != OC_OK)
		return r;
	if ((r = oc_url_path_encode(ep->path, &enc)) != OC_OK)
		return r;
	/* keep '/' unencoded */
	for (char *p = enc, *q = enc; ; ) {
		if (p[0] == '%' && p[1] == '2' && p[2] == 'F') {
			*q++ = '/';
			p += 3;
		} else if ((*q++ = *p++) == '\0')
			break;
	}
	if (snprintf(buf, sizeof(buf), "%s%s", cfg->public_url, enc) >= (int)sizeof(buf)) {
		free(enc);
		return OC_ERR_LIMIT;
	}
	free(enc);
	return (ep->uri = strdup(buf)) ? OC_OK : OC_ERR_NOMEM;
}

static void
endpoints_free(struct oc_endpoint *eps, size_t n)
{
	for (size_t i = 0; eps && i < n; i++) {
		free(eps[i].path);
		free(eps[i].uri);
	}
	free(eps);
}

static int
endpoints_build(const struct oc_config *cfg, struct oc_endpoint **epsp)
{
	struct oc_endpoint *eps;
	int r;

	if ((eps = calloc(cfg->nendpoints ? cfg->nendpoints : 1, sizeof(*eps))) == NULL)
		return OC_ERR_NOMEM;
	for (size_t i = 0; i < cfg->nendpoints; i++)
		if ((r = endpoint_build(cfg, &cfg->endpoints[i], &eps[i])) != OC_OK) {
			endpoints_free(eps, cfg->nendpoints);
			return r;
		}
	*epsp = eps;
	return OC_OK;
}

/* Make the directory's CA entry match the configuration (certificate, CES URIs). */
static int
publish_ca(const struct oc_config *cfg, struct oc_directory *dir)
{
	struct oc_ca_entry *cas = NULL, entry;
	struct oc_template **tv = NULL;
	struct oc_endpoint *eps = NULL;
	size_t ncas = 0, nt = 0, nuris = 0;
	int r, found = -1;

	memset(&entry, 0, sizeof(entry));
	if ((r = oc_dir_ca_list(dir, &cas, &ncas)) != OC_OK)
		goto out;
	for (size_t i = 0; i < ncas; i++)
		if (strcmp(cas[i].name, cfg->ca_name) == 0)
			found = (int)i;
	if ((entry.name = strdup(cfg->ca_name)) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	if ((r = read_ca_cert_der(cfg->ca_cert, &entry.cert_der, &entry.cert_der_len)) != OC_OK)
		goto out;
	if (found >= 0) {
		if ((r = oc_strlist_copy(&entry.templates, &cas[found].templates)) != OC_OK)
			goto out;
		entry.dns_host_name = oc_strdup(cas[found].dns_host_name);
	} else {
		/* A new CA publishes every template of the directory. */
		if ((r = oc_dir_template_list(dir, &tv, &nt)) != OC_OK)
			goto out;
		for (size_t i = 0; i < nt; i++)
			if ((r = oc_strlist_add(&entry.templates, tv[i]->cn)) != OC_OK)
				goto out;
	}
	if ((r = endpoints_build(cfg, &eps)) != OC_OK)
		goto out;
	if ((entry.uris = calloc(cfg->nendpoints + cfg->npublished, sizeof(*entry.uris))) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < cfg->nendpoints; i++) {
		if (eps[i].service != OC_SERVICE_CES)
			continue;
		entry.uris[nuris].auth = (uint32_t)eps[i].auth;
		entry.uris[nuris].priority = cfg->endpoints[i].priority;
		entry.uris[nuris].renewal_only = eps[i].renewal_only;
		entry.uris[nuris].uri = eps[i].uri;
		eps[i].uri = NULL;
		entry.nuris = ++nuris;
	}
	for (size_t i = 0; i < cfg->npublished; i++) {
		entry.uris[nuris].auth = (uint32_t)cfg->published[i].auth;
		entry.uris[nuris].priority = cfg->published[i].priority;
		entry.uris[nuris].renewal_only = cfg->published[i].renewal_only;
		if ((entry.uris[nuris].uri = strdup(cfg->published[i].uri)) == NULL) {
			r = OC_ERR_NOMEM;
			goto out;
		}
		entry.nuris = ++nuris;
	}
	r = oc_dir_ca_put(dir, &entry);
out:
	endpoints_free(eps, cfg->nendpoints);
	oc_dir_template_list_free(tv, nt);
	oc_dir_ca_list_free(cas, ncas);
	oc_ca_entry_clear(&entry);
	return r;
}

int
oc_daemon_init(const struct oc_config *cfg)
{
	struct oc_directory *dir = NULL;
	int r;

	/* a front end alone has no CA key: the CA certificate comes from the CA host */
	if (!(cfg->roles & OC_ROLE_CA)) {
		if (access(cfg->ca_cert, R_OK) != 0) {
			log_error("roles = front: the CA certificate %s (a copy from the CA host) "
			    "is missing", cfg->ca_cert);
			return OC_ERR_CONFIG;
		}
	} else if ((r = in_child(ca_init_child, cfg, NULL)) != OC_OK) {
		log_error("CA initialisation failed");
		return r;
	}
	if ((r = oc_dir_open(cfg->dir_path, 1, &dir)) != OC_OK) {
		error_fr(r, "directory %s", cfg->dir_path);
		return r;
	}
	if ((r = oc_dir_seed_defaults(dir)) != OC_OK)
		error_fr(r, "default templates");
	else if ((r = publish_ca(cfg, dir)) != OC_OK)
		error_fr(r, "CA entry");
	oc_dir_close(dir);
	return r;
}

/* What the CA reports, into the registry (arg). */
static void
hook_order(void *arg, uint32_t disposition)
{
	oc_metrics_ca_order(arg, disposition == OC_DISP_ISSUED ? OC_METRICS_CA_ISSUED :
	    disposition == OC_DISP_UNDER_SUBMISSION ? OC_METRICS_CA_PENDING :
	    disposition == OC_DISP_DENIED ? OC_METRICS_CA_DENIED : OC_METRICS_CA_ERROR);
}

static void
hook_replay(void *arg)
{
	oc_metrics_ca_replay(arg);
}

static void
hook_signature(void *arg)
{
	oc_metrics_ca_signature(arg);
}

static void
hook_batch(void *arg, size_t frames, uint64_t commit_us, int committed)
{
	oc_metrics_ca_batch(arg, frames, commit_us, committed);
}

static void
hook_ready(void *arg)
{
	oc_metrics_process(arg, OC_METRICS_PROC_CA, 1, time(NULL));
}

static void
hook_heartbeat(void *arg)
{
	oc_metrics_ca_heartbeat(arg, time(NULL));
}

static int
ca_process(const struct oc_config *cfg, int fd)
{
	struct oc_ca_hooks hooks = { serve_metrics, hook_order, hook_replay, hook_signature,
	    hook_batch, hook_ready, hook_heartbeat };
	struct oc_ca_config cc;

	/* The CA ends when the front end closes its socket, not on signals. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	prctl(PR_SET_NAME, "opencesd-ca", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	oc_log_init("opencesd-ca", OC_LOG_INFO);
	ca_config_from(cfg, &cc);
	if (serve_metrics != NULL)
		cc.hooks = &hooks;
	return oc_ca_serve(&cc, fd);
}

/*
 * The auth process: the only reader of the keytab and of the password
 * verifiers. Answers the front end's typed frames until it closes the socket.
 */
static int
auth_process(const struct oc_config *cfg, int fd)
{
	struct oc_authsvc_config ac;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	prctl(PR_SET_NAME, "opencesd-auth", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	oc_log_init("opencesd-auth", OC_LOG_INFO);
	oc_metrics_process(serve_metrics, OC_METRICS_PROC_AUTH, 1, time(NULL));
	memset(&ac, 0, sizeof(ac));
	ac.dir_path = cfg->dir_path;
	ac.keytab = cfg->keytab;
	ac.spn = cfg->spn;
	ac.channel_binding = cfg->channel_binding;
	if (cfg->dir_source == OC_DIR_SOURCE_LDAP && !cfg->dir_accounts_embedded) {
		struct oc_ldap_config lc;

		/* callers are the directory's accounts: the auth process asks it */
		oc_config_ldap(cfg, &lc);
		return oc_authsvc_serve_ldap(&ac, &lc, fd);
	}
	return oc_authsvc_serve(&ac, fd);
}

/*
 * The front end: TLS, HTTP, SOAP; talks to the CA on ca_fd and to the auth
 * process on auth_fd. Runs until SIGTERM.
 */
static int
front_process(const struct oc_config *cfg, int ca_fd, int auth_fd)
{
	struct oc_http_listener *ls = NULL;
	struct oc_http_config hc;
	struct oc_http_server *srv = NULL;
	struct oc_front_config fc;
	struct oc_front *front = NULL;
	struct oc_endpoint *eps = NULL;
	struct oc_publish *pub = NULL;
	int r;

	prctl(PR_SET_NAME, "opencesd-front", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	if ((r = endpoints_build(cfg, &eps)) != OC_OK)
		goto out;
	memset(&fc, 0, sizeof(fc));
	fc.dir_path = cfg->dir_path;
	fc.ca_name = cfg->ca_name;
	fc.policy_id = cfg->policy_id;
	fc.policy_friendly_name = cfg->friendly_name;
	fc.next_update_hours = cfg->next_update_hours;
	fc.endpoints = eps;
	fc.nendpoints = cfg->nendpoints;
	fc.ca_fd = ca_fd;
	fc.use_auth_process = 1;
	fc.auth_fd = auth_fd;
	fc.keytab = cfg->keytab;
	fc.spn = cfg->spn;
	fc.kerberos_realm = cfg->kerberos_realm;
	fc.channel_binding = cfg->channel_binding;
	fc.client_ca_file = cfg->client_ca;
	fc.ca_cert_file = cfg->ca_cert;
	fc.metrics = serve_metrics;
	if ((r = oc_front_new(&fc, &front)) != OC_OK)
		goto out;
	if ((ls = calloc(cfg->listen.n, sizeof(*ls))) == NULL) {
		r = OC_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < cfg->listen.n; i++) {
		ls[i].address = cfg->listen.v[i];
		ls[i].cert_file = cfg->tls_cert;
		ls[i].key_file = cfg->tls_key;
		ls[i].client_ca_file = cfg->client_ca;   /* optional client certificate */
	}
	memset(&hc, 0, sizeof(hc));
	hc.listeners = ls;
	hc.nlisteners = cfg->listen.n;
	hc.workers = cfg->workers;
	hc.queue_max = cfg->queue;
	hc.handler = oc_front_handle;
	hc.thread_init = oc_front_thread_init;
	hc.thread_fini = oc_front_thread_fini;
	hc.ctx = front;
	hc.queue_hook = oc_front_queue_hook;
	hc.busy_hook = oc_front_busy_hook;
	if ((r = oc_http_server_new(&hc, &srv)) != OC_OK) {
		error_fr(r, "HTTPS server");
		goto out;
	}
	/* CRLs and the CA certificate over plain HTTP (CDP and AIA URIs) */
	if (cfg->publish_listen != NULL &&
	    (r = oc_publish_start(cfg->publish_listen, cfg->publish_dir, &pub)) != OC_OK)
		error_fr(r, "publication listener not started; enrollment goes on");
	for (size_t i = 0; i < cfg->nendpoints; i++)
		log_info("serving %s", eps[i].uri);
	oc_metrics_process(serve_metrics, OC_METRICS_PROC_FRONT, 1, time(NULL));
	r = oc_http_server_run(srv);
	oc_metrics_process(serve_metrics, OC_METRICS_PROC_FRONT, 0, 0);
	log_info("front end stopped");
out:
	oc_publish_stop(pub);
	oc_http_server_free(srv);
	oc_front_free(front);
	endpoints_free(eps, cfg->nendpoints);
	free(ls);
	close(ca_fd);
	close(auth_fd);
	return r;
}

/*
 * /health with [directory] source = ldap: the mirror's state, for operators
 * (an LDAP outage keeps the last policy served, so it does not make the host
 * unhealthy): the JSON object's closing brace gets a "directory" member.
 */
static int
health_directory(const struct oc_config *cfg, struct ocbuf *b)
{
	struct oc_directory *dir = NULL;
	struct oc_dir_sync_status st;
	int r;

	memset(&st, 0, sizeof(st));
	if (cfg->dir_source != OC_DIR_SOURCE_LDAP)
		return OC_OK;
	/* drop the "}\n" that closes the object */
	if (b->len < 2 || b->d[b->len - 2] != '}' || b->d[b->len - 1] != '\n')
		return OC_ERR_INTERNAL;
	b->len -= 2;
	if ((r = oc_dir_open_ro(cfg->dir_path, &dir)) == OC_OK)
		r = oc_dir_sync_status(dir, &st);
	if (r == OC_OK && st.source == NULL)
		r = ocbuf_puts(b, ",\"directory\":{\"source\":\"ldap\",\"state\":\"not synced yet\"}}\n");
	else if (r == OC_OK)
		r = ocbuf_printf(b, ",\"directory\":{\"source\":\"ldap\",\"state\":\"%s\","
		    "\"failures\":%u,\"last_success\":%lld,\"templates\":%zu}}\n",
		    st.failures == 0 ? "ok" : "failing", st.failures, (long long)st.last_success,
		    st.templates);
	else
		r = ocbuf_puts(b, ",\"directory\":{\"source\":\"ldap\",\"state\":\"unknown\"}}\n");
	oc_dir_sync_status_clear(&st);
	oc_dir_close(dir);
	return r;
}

/* The metrics listener's answers: /metrics and /health from the registry. */
static void
metrics_answer(void *arg, const char *path, struct oc_publish_reply *rep)
{
	const struct oc_config *cfg = arg;
	struct ocbuf b;
	int healthy = 0, r;

	ocbuf_init(&b, OC_METRICS_TEXT_MAX);
	if (strcmp(path, "/metrics") == 0) {
		r = oc_metrics_render(serve_metrics, &b);
		rep->status = 200;
		rep->content_type = OC_METRICS_CONTENT_TYPE;
	} else if (strcmp(path, "/health") == 0) {
		r = oc_metrics_health(serve_metrics, time(NULL), (int)cfg->health_max_age, &b,
		    &healthy);
		if (r == OC_OK)
			r = health_directory(cfg, &b);
		rep->status = healthy ? 200 : 503;
		rep->content_type = "application/json";
	} else {
		r = ocbuf_puts(&b, "not found\n");
		rep->status = 404;
	}
	if (r != OC_OK) {
		error_fr(r, "rendering %s", path);
		ocbuf_free(&b);
		rep->status = 500;
		return;
	}
	rep->body = ocbuf_take(&b, &rep->len);
}

/*
 * The metrics process: no key, no store, no socket to the other children;
 * it reads the shared registry and answers plain HTTP GETs on
 * [server] metrics_listen until SIGTERM.
 */
static int
metrics_process(const struct oc_config *cfg)
{
	struct oc_publish *pub = NULL;
	sigset_t set;
	int sig, r;

	prctl(PR_SET_NAME, "opencesd-metrics", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	oc_log_init("opencesd-metrics", OC_LOG_INFO);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);   /* the listener thread inherits it */
	if ((r = oc_publish_start_handler(cfg->metrics_listen, metrics_answer, (void *)cfg,
	    &pub)) != OC_OK) {
		error_fr(r, "metrics listener on %s", cfg->metrics_listen);
		return r;
	}
	oc_metrics_process(serve_metrics, OC_METRICS_PROC_METRICS, 1, time(NULL));
	while (sigwait(&set, &sig) != 0)
		;
	oc_publish_stop(pub);
	oc_metrics_process(serve_metrics, OC_METRICS_PROC_METRICS, 0, 0);
	return OC_OK;
}

/* -1 without metrics_listen. The child keeps the supervisor's signal mask (it sigwaits). */
static pid_t
spawn_metrics(const struct oc_config *cfg, const sigset_t *oldmask)
{
	pid_t pid;

	(void)oldmask;
	if (cfg->metrics_listen == NULL || serve_metrics == NULL)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == 0)
		_exit(metrics_process(cfg) == OC_OK ? 0 : 1);
	if (pid < 0)
		log_error("metrics process not started");
	return pid;
}

/*
 * The directory sync process ([directory] source = ldap): mirrors the LDAP
 * policy into the directory database (ldap/ldap_mirror.h). No CA key, no
 * socket to the others; the supervisor restarts it alone when it dies.
 */
static volatile sig_atomic_t dirsync_stop;

static void
dirsync_term(int sig)
{
	(void)sig;
	dirsync_stop = 1;
}

static int
dirsync_process(const struct oc_config *cfg)
{
	struct oc_ldap_config lc;
	struct sigaction sa;

	prctl(PR_SET_NAME, "opencesd-dirsync", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
	oc_log_init("opencesd-dirsync", OC_LOG_INFO);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dirsync_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	oc_config_ldap(cfg, &lc);
	return oc_ldap_mirror_run(&lc, cfg->dir_path, cfg->refresh_seconds, &dirsync_stop);
}

/* -1 when the source is not LDAP (nothing to run). */
static pid_t
spawn_dirsync(const struct oc_config *cfg, const sigset_t *oldmask)
{
	pid_t pid;

	if (cfg->dir_source != OC_DIR_SOURCE_LDAP)
		return -1;
	fflush(NULL);
	if ((pid = fork()) != 0) {
		if (pid < 0)
			log_error("directory sync process not started");
		return pid;
	}
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	_exit(dirsync_process(cfg) == OC_OK ? 0 : 1);
}

/*
 * roles = ca: the link listener in place of the front end, on the front's
 * end of the CA socketpair. It runs until SIGTERM (or the CA's end closes).
 */
static int
calink_listener_process(const struct oc_config *cfg, int ca_fd)
{
	struct oc_calink_listen_config lc;
	struct oc_calink_listener *l = NULL;
	sigset_t set;
	int sfd, r;

	prctl(PR_SET_NAME, "opencesd-calink", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	oc_log_init("opencesd-calink", OC_LOG_INFO);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		close(ca_fd);
		return OC_ERR_IO;
	}
	memset(&lc, 0, sizeof(lc));
	lc.listen = (const char *const *)cfg->link_listen.v;
	lc.nlisten = cfg->link_listen.n;
	lc.cert_file = cfg->link_cert;
	lc.key_file = cfg->link_key;
	lc.client_ca_file = cfg->link_client_ca;
	lc.allow = (const char *const *)cfg->link_allow.v;
	lc.nallow = cfg->link_allow.n;
	lc.stop_fd = sfd;
	if ((r = oc_calink_listener_new(&lc, &l)) != OC_OK)
		error_fr(r, "CA link listener");
	else {
		oc_metrics_process(serve_metrics, OC_METRICS_PROC_CALINK, 1, time(NULL));
		r = oc_calink_listener_run(l, ca_fd);
		oc_metrics_process(serve_metrics, OC_METRICS_PROC_CALINK, 0, 0);
	}
	oc_calink_listener_free(l);
	close(sfd);
	close(ca_fd);
	return r;
}

/*
 * roles = front: the link connector in place of the CA process, on the CA's
 * end of the front's socketpair. Like the CA, it ends when the front end
 * closes its socket, not on signals.
 */
static int
calink_connector_process(const struct oc_config *cfg, int fd)
{
	struct oc_calink_connect_config cc;
	struct oc_calink_connector *c = NULL;
	int r;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	prctl(PR_SET_NAME, "opencesd-calink", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	oc_log_init("opencesd-calink", OC_LOG_INFO);
	memset(&cc, 0, sizeof(cc));
	cc.nodes = (const char *const *)cfg->ca_nodes.v;
	cc.nnodes = cfg->ca_nodes.n;
	cc.cert_file = cfg->link_client_cert;
	cc.key_file = cfg->link_client_key;
	cc.server_ca_file = cfg->link_server_ca;
	cc.connect_timeout = (int)cfg->link_connect_timeout;
	cc.retry_seconds = (int)cfg->link_retry_seconds;
	cc.stop_fd = -1;
	if ((r = oc_calink_connector_new(&cc, &c)) != OC_OK)
		error_fr(r, "CA link connector");
	else {
		oc_metrics_process(serve_metrics, OC_METRICS_PROC_CALINK, 1, time(NULL));
		r = oc_calink_connector_run(c, fd);
		oc_metrics_process(serve_metrics, OC_METRICS_PROC_CALINK, 0, 0);
	}
	oc_calink_connector_free(c);
	close(fd);
	return r;
}

/* The four socket ends of one generation of children: CA and auth pairs. */
enum { CA_FRONT, CA_CHILD, AUTH_FRONT, AUTH_CHILD, NFDS };

/* Fork a child that keeps only the socket ends listed in keep (-1 ends the list). */
static pid_t
spawn(const int fds[NFDS], const int keep[2], const sigset_t *oldmask, int (*body)(
    const struct oc_config *, const int[NFDS]), const struct oc_config *cfg)
{
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) != 0)
		return pid;
	for (int i = 0; i < NFDS; i++)
		if (i != keep[0] && i != keep[1])
			close(fds[i]);
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	_exit(body(cfg, fds) == OC_OK ? 0 : 1);
}

static int
ca_body(const struct oc_config *cfg, const int fds[NFDS])
{
	return ca_process(cfg, fds[CA_CHILD]);
}

static int
auth_body(const struct oc_config *cfg, const int fds[NFDS])
{
	return auth_process(cfg, fds[AUTH_CHILD]);
}

static int
front_body(const struct oc_config *cfg, const int fds[NFDS])
{
	return front_process(cfg, fds[CA_FRONT], fds[AUTH_FRONT]);
}

static int
listener_body(const struct oc_config *cfg, const int fds[NFDS])
{
	close(fds[AUTH_FRONT]);
	return calink_listener_process(cfg, fds[CA_FRONT]);
}

static int
connector_body(const struct oc_config *cfg, const int fds[NFDS])
{
	return calink_connector_process(cfg, fds[CA_CHILD]);
}

static void
reap(pid_t pid, const char *what)
{
	int st;

	if (pid <= 0)
		return;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return;
	if (WIFSIGNALED(st))
		log_warn("%s process ended by signal %d", what, WTERMSIG(st));
}

/*
 * A side process (metrics, directory sync): started once, restarted alone
 * when it dies, unless it died within min_age seconds of its start (it cannot
 * even start: a bad address, a bad configuration).
 */
struct side_proc {
	const char *what;
	pid_t (*spawn)(const struct oc_config *cfg, const sigset_t *oldmask);
	int min_age;
	int metrics_proc;           /* enum oc_metrics_process marked down, or -1 */
	pid_t pid;
	time_t start;
};

static void
side_start(struct side_proc *p, const struct oc_config *cfg, const sigset_t *oldmask)
{
	p->start = time(NULL);
	p->pid = p->spawn(cfg, oldmask);
}

/* 1 when dead was p's process (handled here), else 0. */
static int
side_reaped(struct side_proc *p, pid_t dead, const struct oc_config *cfg,
    const sigset_t *oldmask)
{
	if (p->pid <= 0 || dead != p->pid)
		return 0;
	p->pid = -1;
	if (p->metrics_proc >= 0)
		oc_metrics_process(serve_metrics, p->metrics_proc, 0, 0);
	if (time(NULL) - p->start < p->min_age) {
		log_error("the %s process ended within %d s; not restarted", p->what, p->min_age);
		return 1;
	}
	log_error("the %s process ended unexpectedly; restarting it", p->what);
	side_start(p, cfg, oldmask);
	return 1;
}

static void
side_stop(struct side_proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		reap(p->pid, p->what);
	}
}

/*
 * The supervisor: no threads, no key, no network input. It starts the CA,
 * the auth process and the front end with fresh socketpairs, forwards
 * SIGTERM/SIGINT to the front end (which drains, then closes its sockets; the
 * CA and the auth process exit on EOF), and restarts all three when one dies
 * unexpectedly (at most OC_RESTARTS_MAX times within OC_RESTART_WINDOW seconds).
 */
#define OC_RESTARTS_MAX 5
#define OC_RESTART_WINDOW 60

int
oc_daemon_serve(const struct oc_config *cfg)
{
	static const int keep_ca[2] = { CA_CHILD, -1 }, keep_auth[2] = { AUTH_CHILD, -1 },
	    keep_front[2] = { CA_FRONT, AUTH_FRONT };
	sigset_t mask, oldmask;
	struct side_proc side[] = {
		{ "metrics", spawn_metrics, OC_METRICS_RESTART_MIN_SECONDS,
		  OC_METRICS_PROC_METRICS, -1, 0 },
		/* the mirror stays as it is while the sync process is down */
		{ "directory sync", spawn_dirsync, OC_RESTART_WINDOW / 6, -1, -1, 0 },
	};
	const size_t nside = sizeof(side) / sizeof(side[0]);
	time_t starts[OC_RESTARTS_MAX];
	size_t nstarts = 0;
	int r = OC_OK;

	if (cfg->audit_log && oc_audit_open(cfg->audit_log) != OC_OK)
		log_warn("cannot open audit log %s", cfg->audit_log);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	if (oc_metrics_new(&serve_metrics) != OC_OK)
		log_warn("no metrics registry");
	oc_metrics_set_ca_name(serve_metrics, cfg->ca_name);
	oc_metrics_set_role(serve_metrics, OC_METRICS_ROLE_FRONT, (cfg->roles & OC_ROLE_FRONT) != 0);
	oc_metrics_set_role(serve_metrics, OC_METRICS_ROLE_CA, (cfg->roles & OC_ROLE_CA) != 0);
	oc_metrics_process(serve_metrics, OC_METRICS_PROC_SUPERVISOR, 1, time(NULL));
	for (size_t i = 0; i < nside; i++)
		side_start(&side[i], cfg, &oldmask);
	for (;;) {
		pid_t ca_pid = -1, auth_pid = -1, front_pid = -1, dead;
		int fds[NFDS], sig, st, stop = 0, handled;
		time_t now = time(NULL);

		/* bounded restarts */
		if (nstarts == OC_RESTARTS_MAX) {
			if (now - starts[0] < OC_RESTART_WINDOW) {
				log_error("%d restarts within %d s: giving up", OC_RESTARTS_MAX,
				    OC_RESTART_WINDOW);
				r = OC_ERR_INTERNAL;
				break;
			}
			memmove(starts, starts + 1, sizeof(starts[0]) * (OC_RESTARTS_MAX - 1));
			nstarts--;
		}
		starts[nstarts++] = now;
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, &fds[CA_FRONT]) < 0) {
			r = OC_ERR_IO;
			break;
		}
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, &fds[AUTH_FRONT]) < 0) {
			close(fds[CA_FRONT]);
			close(fds[CA_CHILD]);
			r = OC_ERR_IO;
			break;
		}
		/* roles: a link connector stands for a remote CA, a link listener for remote fronts */
		ca_pid = spawn(fds, keep_ca, &oldmask, (cfg->roles & OC_ROLE_CA) ? ca_body :
		    connector_body, cfg);
		if (ca_pid > 0 && (cfg->roles & OC_ROLE_FRONT))
			auth_pid = spawn(fds, keep_auth, &oldmask, auth_body, cfg);
		if (auth_pid > 0 || (ca_pid > 0 && !(cfg->roles & OC_ROLE_FRONT)))
			front_pid = spawn(fds, keep_front, &oldmask, (cfg->roles & OC_ROLE_FRONT) ?
			    front_body : listener_body, cfg);
		for (int i = 0; i < NFDS; i++)
			close(fds[i]);
		if (ca_pid < 0 || ((cfg->roles & OC_ROLE_FRONT) && auth_pid < 0) || front_pid < 0) {
			reap(ca_pid, "CA");
			reap(auth_pid, "auth");
			r = OC_ERR_INTERNAL;
			break;
		}
		for (;;) {
			if ((sig = sigwaitinfo(&mask, NULL)) < 0) {
				if (errno == EINTR)
					continue;
				sig = SIGTERM;
			}
			if (sig == SIGTERM || sig == SIGINT) {
				stop = 1;
				kill(front_pid, SIGTERM);
				reap(front_pid, "front end");
				reap(ca_pid, "CA");
				reap(auth_pid, "auth");
				break;
			}
			/* SIGCHLD: who ended? The others end when the front end closes its sockets. */
			if ((dead = waitpid(-1, &st, WNOHANG)) <= 0)
				continue;
			handled = 0;
			for (size_t i = 0; i < nside && !handled; i++)
				handled = side_reaped(&side[i], dead, cfg, &oldmask);
			if (handled)
				continue;
			/* health: the role is down from now until its process is back */
			if (dead == ca_pid)
				oc_metrics_process(serve_metrics, OC_METRICS_PROC_CA, 0, 0);
			else if (dead == front_pid)
				oc_metrics_process(serve_metrics, OC_METRICS_PROC_FRONT, 0, 0);
			if (dead == ca_pid || dead == auth_pid) {
				log_error("the %s process ended unexpectedly; restarting",
				    dead == ca_pid ? "CA" : "auth");
				kill(front_pid, SIGTERM);
				reap(front_pid, "front end");
				reap(dead == ca_pid ? auth_pid : ca_pid, "child");
			} else if (dead == front_pid) {
				log_error("the front end ended unexpectedly; restarting");
				reap(ca_pid, "CA");
				reap(auth_pid, "auth");
			} else
				continue;
			break;
		}
		oc_metrics_process(serve_metrics, OC_METRICS_PROC_CA, 0, 0);
		oc_metrics_process(serve_metrics, OC_METRICS_PROC_AUTH, 0, 0);
		oc_metrics_process(serve_metrics, OC_METRICS_PROC_FRONT, 0, 0);
		if (stop)
			break;
		sleep(1);
	}
	for (size_t i = 0; i < nside; i++)
		side_stop(&side[i]);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	oc_metrics_free(serve_metrics);
	serve_metrics = NULL;
	return r;
}
