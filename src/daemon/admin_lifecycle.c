/*
 * The lifecycle commands of the admin CLI: pending requests (list, show,
 * approve, deny), certificate listings with filters, and CRL status and
 * on-demand publication. The CLI has no CA key: approval marks the request
 * in the store (the CA issues it when the requester retrieves it), and
 * `crl publish` raises a flag that the CA process acts on within a second.
 * Every decision is recorded with the administrator's name in the store's
 * audit table and in the audit log.
 */
#include "daemon/admin_int.h"

#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/limits.h"
#include "common/log.h"
#include "common/util.h"
#include "daemon/admin.h"
#include "model/hresult.h"
#include "store/store.h"

#define REASON_MAX 256

struct lc {
	const char *store_path;
	FILE *out, *err;
	int json;
	size_t rows;
	/* options */
	const char *pos[2];
	int npos;
	const char *status, *requester, *template_name, *expires_before, *limit, *reason;
	int delta;
};

static int lc_usage(struct lc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
lc_usage(struct lc *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "opencesd: ");
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fprintf(c->err, "\n(see opencesd --dir DIR help)\n");
	return OC_ADMIN_EXIT_USAGE;
}

static int
lc_report(struct lc *c, int r, const char *what)
{
	if (r == OC_OK)
		return OC_ADMIN_EXIT_OK;
	fprintf(c->err, "opencesd: %s: %s\n", what, oc_strerror(r));
	return r == OC_ERR_NOT_FOUND ? OC_ADMIN_EXIT_NOT_FOUND : OC_ADMIN_EXIT_USAGE;
}

/* options: a list of the allowed ones ("--json", "--status", ...) */
static int
lc_args(struct lc *c, int argc, char **argv, const char *allowed, int npos)
{
	static const struct { const char *name; size_t off; } valued[] = {
		{ "--status", offsetof(struct lc, status) },
		{ "--requester", offsetof(struct lc, requester) },
		{ "--template", offsetof(struct lc, template_name) },
		{ "--expires-before", offsetof(struct lc, expires_before) },
		{ "--limit", offsetof(struct lc, limit) },
		{ "--reason", offsetof(struct lc, reason) },
	};

	for (int i = 0; i < argc; i++) {
		const char *s = argv[i];
		size_t k, n = sizeof(valued) / sizeof(valued[0]);

		if (strncmp(s, "--", 2) != 0) {
			if (c->npos >= npos)
				return lc_usage(c, "unexpected argument %s", s);
			c->pos[c->npos++] = s;
			continue;
		}
		if (strstr(allowed, s) == NULL || strlen(s) < 3)
			return lc_usage(c, "unknown option %s", s);
		if (strcmp(s, "--json") == 0) {
			c->json = 1;
			continue;
		}
		if (strcmp(s, "--delta") == 0) {
			c->delta = 1;
			continue;
		}
		for (k = 0; k < n; k++)
			if (strcmp(s, valued[k].name) == 0)
				break;
		if (k == n)
			return lc_usage(c, "unknown option %s", s);
		if (i + 1 >= argc)
			return lc_usage(c, "%s needs a value", s);
		*(const char **)((char *)c + valued[k].off) = argv[++i];
	}
	if (c->npos < npos)
		return lc_usage(c, "missing argument");
	return OC_ADMIN_EXIT_OK;
}

void
oc_admin_actor(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");
	char uid[24];

	snprintf(uid, sizeof(uid), "uid %u", (unsigned)getuid());
	if (sudo != NULL && sudo[0] != '\0' && strlen(sudo) <= 64 &&
	    strcspn(sudo, "\n\r\"\\") == strlen(sudo))
		snprintf(buf, len, "%s (sudo: %s)", pw && pw->pw_name ? pw->pw_name : uid, sudo);
	else
		snprintf(buf, len, "%s", pw && pw->pw_name ? pw->pw_name : uid);
}

/* JSON */

static const char *
status_name(int s, int approved)
{
	switch (s) {
	case OC_REQ_STATUS_PENDING: return approved ? "approved" : "pending";
	case OC_REQ_STATUS_ISSUED: return "issued";
	case OC_REQ_STATUS_DENIED: return "denied";
	case OC_REQ_STATUS_FAILED: return "failed";
	}
	return "unknown";
}

static void
request_json(FILE *f, const struct oc_store_request *q)
{
	fprintf(f, "{\"request_id\":%u,\"status\":\"%s\",\"approved\":%s,\"hresult\":\"0x%08x\","
	    "\"hresult_decimal\":%d,\"requester\":", q->request_id,
	    status_name(q->status, q->approved), q->approved ? "true" : "false", q->hresult,
	    (int32_t)q->hresult);
	oc_admin_json_str(f, q->requester);
	fputs(",\"template\":", f);
	oc_admin_json_str(f, q->template_name);
	fputs(",\"submitted\":", f);
	oc_admin_json_time(f, q->submitted);
	fputs(",\"resolved\":", f);
	oc_admin_json_time(f, q->resolved);
	fputs(",\"serial\":", f);
	oc_admin_json_str(f, q->serial_hex);
	fputs(",\"disposition\":", f);
	oc_admin_json_str(f, q->disposition);
	fputs(",\"actor\":", f);
	oc_admin_json_str(f, q->actor);
	fprintf(f, ",\"request_size\":%zu}", q->request_der_len);
}

static void
request_row(const struct oc_store_request *q, void *arg)
{
	struct lc *c = arg;
	char when[32];

	if (c->json) {
		if (c->rows)
			fputc(',', c->out);
		request_json(c->out, q);
	} else {
		oc_time_iso8601(q->submitted, when, sizeof(when));
		fprintf(c->out, "%-10u %-8s %-20s %-20s %-20s %-24s %s\n", q->request_id,
		    status_name(q->status, q->approved), when, q->requester ? q->requester : "-",
		    q->template_name ? q->template_name : "-", q->serial_hex ? q->serial_hex : "-",
		    q->disposition ? q->disposition : "");
	}
	c->rows++;
}

static void
cert_row(const struct oc_store_cert *s, void *arg)
{
	struct lc *c = arg;
	char until[32];

	if (c->json) {
		if (c->rows)
			fputc(',', c->out);
		oc_admin_cert_json(c->out, s);
	} else {
		oc_time_iso8601(s->not_after, until, sizeof(until));
		fprintf(c->out, "%-34s %-10u %-20s %-8s %-20s %-20s %s\n",
		    s->serial_hex ? s->serial_hex : "-", s->request_id, until,
		    s->revoked ? "revoked" : "valid", s->template_name ? s->template_name : "-",
		    s->requester ? s->requester : "-", s->subject ? s->subject : "");
	}
	c->rows++;
}

/* Open the store once the command line is known good. */
static int
lc_open(struct lc *c, struct oc_store **s)
{
	char shown[256];
	int r;

	/* a PostgreSQL store (URI, never shown with its password) is not a file */
	if (!oc_store_url_is_pg(c->store_path) && access(c->store_path, F_OK) != 0) {
		oc_store_url_redact(c->store_path, shown, sizeof(shown));
		fprintf(c->err, "opencesd: no CA store at %s\n", shown);
		return OC_ADMIN_EXIT_NOT_FOUND;
	}
	if ((r = oc_store_open(c->store_path, s)) != OC_OK)
		return lc_report(c, r, "open store");
	return OC_ADMIN_EXIT_OK;
}

static int
parse_limit(struct lc *c, size_t *limit)
{
	unsigned long long v;
	char *end = NULL;

	*limit = 0;
	if (c->limit == NULL)
		return OC_ADMIN_EXIT_OK;
	v = strtoull(c->limit, &end, 10);
	if (c->limit[0] < '0' || c->limit[0] > '9' || *end != '\0' || v > 1000000)
		return lc_usage(c, "--limit wants a number up to 1000000, not %s", c->limit);
	*limit = (size_t)v;
	return OC_ADMIN_EXIT_OK;
}

static int
parse_request_id(struct lc *c, const char *s, uint32_t *id)
{
	unsigned long long v;
	char *end = NULL;

	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || v == 0 || v > 2147483647ULL)
		return lc_usage(c, "a RequestID is a number from 1 to 2147483647, not %s", s);
	*id = (uint32_t)v;
	return OC_ADMIN_EXIT_OK;
}

static int
request_cmd(struct lc *c, struct oc_store **sp, const char *verb, int argc, char **argv)
{
	struct oc_store *s;
	struct oc_store_request_filter f;
	struct oc_store_request q;
	char actor[160], id_text[16];
	uint32_t id = 0;
	size_t limit = 0;
	int x, r;

	memset(&q, 0, sizeof(q));
	if (strcmp(verb, "list") == 0) {
		if ((x = lc_args(c, argc, argv, "--json --status --requester --template --limit",
		    0)) != 0 || (x = parse_limit(c, &limit)) != 0)
			return x;
		memset(&f, 0, sizeof(f));
		f.requester = c->requester;
		f.template_name = c->template_name;
		if (c->status != NULL) {
			static const char *const names[] = { "", "pending", "issued", "denied",
			    "failed" };
			for (int i = 1; i <= OC_REQ_STATUS_FAILED; i++)
				if (strcasecmp(c->status, names[i]) == 0)
					f.status = i;
			if (f.status == 0)
				return lc_usage(c, "--status wants pending, issued, denied or failed, "
				    "not %s", c->status);
		}
		if ((x = lc_open(c, sp)) != 0)
			return x;
		s = *sp;
		if (c->json)
			fputc('[', c->out);
		else
			fprintf(c->out, "%-10s %-8s %-20s %-20s %-20s %-24s %s\n", "REQUEST",
			    "STATUS", "SUBMITTED", "REQUESTER", "TEMPLATE", "SERIAL", "DISPOSITION");
		r = oc_store_request_find(s, &f, limit, request_row, c);
		if (c->json)
			fputs("]\n", c->out);
		return lc_report(c, r, "request list");
	}
	if (strcmp(verb, "show") != 0 && strcmp(verb, "approve") != 0 && strcmp(verb, "deny") != 0)
		return lc_usage(c, "unknown verb '%s' (list, show, approve or deny)", verb);
	if ((x = lc_args(c, argc, argv, verb[0] == 's' ? "--json" : verb[0] == 'd' ?
	    "--reason" : "", 1)) != 0 || (x = parse_request_id(c, c->pos[0], &id)) != 0)
		return x;
	if (c->reason != NULL && (strlen(c->reason) > REASON_MAX ||
	    strcspn(c->reason, "\n\r") != strlen(c->reason)))
		return lc_usage(c, "--reason: one line of at most %d bytes", REASON_MAX);
	if ((x = lc_open(c, sp)) != 0)
		return x;
	s = *sp;
	snprintf(id_text, sizeof(id_text), "%u", id);
	if (verb[0] == 's') {
		if ((r = oc_store_request_get(s, id, &q)) != OC_OK)
			return lc_report(c, r, "request show");
		if (c->json) {
			request_json(c->out, &q);
			fputc('\n', c->out);
		} else {
			char sub[32], res[32];
			oc_time_iso8601(q.submitted, sub, sizeof(sub));
			oc_time_iso8601(q.resolved, res, sizeof(res));
			fprintf(c->out, "request:     %u\nstatus:      %s\nrequester:   %s\n"
			    "template:    %s\nsubmitted:   %s\nresolved:    %s\nhresult:     0x%08x\n"
			    "disposition: %s\nserial:      %s\nadmin:       %s\nrequest:     %zu bytes\n",
			    q.request_id, status_name(q.status, q.approved),
			    q.requester ? q.requester : "-", q.template_name ? q.template_name : "-",
			    sub, q.resolved ? res : "-", q.hresult, q.disposition ? q.disposition : "-",
			    q.serial_hex ? q.serial_hex : "-", q.actor ? q.actor : "-",
			    q.request_der_len);
		}
		oc_store_request_clear(&q);
		return OC_ADMIN_EXIT_OK;
	}
	oc_admin_actor(actor, sizeof(actor));
	r = verb[0] == 'a' ? oc_store_request_approve(s, id, actor) :
	    oc_store_request_deny(s, id, actor, c->reason);
	if (r == OC_ERR_EXISTS) {
		if (oc_store_request_get(s, id, &q) == OC_OK)
			fprintf(c->err, "opencesd: request %u is %s, not pending\n", id,
			    status_name(q.status, q.approved));
		oc_store_request_clear(&q);
		return OC_ADMIN_EXIT_USAGE;
	}
	if (r != OC_OK)
		return lc_report(c, r, verb[0] == 'a' ? "request approve" : "request deny");
	oc_audit(verb[0] == 'a' ? "approve" : "admin_deny", "request_id", id_text, "actor", actor,
	    "reason", c->reason ? c->reason : "", (char *)NULL);
	fprintf(c->out, verb[0] == 'a' ? "approved request %u (issued when its requester "
	    "retrieves it)\n" : "denied request %u\n", id);
	return OC_ADMIN_EXIT_OK;
}

static int
cert_list(struct lc *c, struct oc_store **sp, int argc, char **argv)
{
	struct oc_store_cert_filter f;
	size_t limit = 0;
	int x, r;

	if ((x = lc_args(c, argc, argv, "--json --requester --template --expires-before --limit",
	    0)) != 0 || (x = parse_limit(c, &limit)) != 0)
		return x;
	memset(&f, 0, sizeof(f));
	f.requester = c->requester;
	f.template_name = c->template_name;
	if (c->expires_before != NULL) {
		char buf[40];
		/* a date alone means its midnight UTC */
		if (strlen(c->expires_before) == 10) {
			snprintf(buf, sizeof(buf), "%sT00:00:00Z", c->expires_before);
			r = oc_time_parse_iso8601(buf, &f.expires_before);
		} else
			r = oc_time_parse_iso8601(c->expires_before, &f.expires_before);
		if (r != OC_OK || f.expires_before <= 0)
			return lc_usage(c, "--expires-before wants YYYY-MM-DD or "
			    "YYYY-MM-DDTHH:MM:SSZ, not %s", c->expires_before);
	}
	if ((x = lc_open(c, sp)) != 0)
		return x;
	if (c->json)
		fputc('[', c->out);
	else
		fprintf(c->out, "%-34s %-10s %-20s %-8s %-20s %-20s %s\n", "SERIAL", "REQUEST",
		    "NOT AFTER", "STATE", "TEMPLATE", "REQUESTER", "SUBJECT");
	r = oc_store_cert_find(*sp, &f, limit, cert_row, c);
	if (c->json)
		fputs("]\n", c->out);
	return lc_report(c, r, "cert list");
}

static void
crl_json(FILE *f, const char *key, int r, const struct oc_store_crl_info *i)
{
	fprintf(f, "\"%s\":", key);
	if (r != OC_OK) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"number\":%llu,", (unsigned long long)i->number);
	if (i->delta)
		fprintf(f, "\"base\":%llu,", (unsigned long long)i->base);
	fputs("\"this_update\":", f);
	oc_admin_json_time(f, i->this_update);
	fputs(",\"next_update\":", f);
	oc_admin_json_time(f, i->next_update);
	fprintf(f, ",\"entries\":%zu}", i->entries);
}

static void
crl_text(FILE *f, const char *what, int r, const struct oc_store_crl_info *i)
{
	char tu[32], nu[32];

	if (r != OC_OK) {
		fprintf(f, "%-9s none published\n", what);
		return;
	}
	oc_time_iso8601(i->this_update, tu, sizeof(tu));
	oc_time_iso8601(i->next_update, nu, sizeof(nu));
	fprintf(f, "%-9s number %llu%s%.0llu, this update %s, next update %s, %zu entries\n", what,
	    (unsigned long long)i->number, i->delta ? ", base " : "",
	    i->delta ? (unsigned long long)i->base : 0ULL, tu, nu, i->entries);
}

static int
crl_cmd(struct lc *c, struct oc_store **sp, const char *verb, int argc, char **argv)
{
	struct oc_store *s;
	struct oc_store_crl_info full, delta;
	char actor[160];
	int x, rf, rd, r;

	if (strcmp(verb, "status") == 0) {
		if ((x = lc_args(c, argc, argv, "--json", 0)) != 0 || (x = lc_open(c, sp)) != 0)
			return x;
		s = *sp;
		rf = oc_store_crl_last(s, 0, &full);
		rd = oc_store_crl_last(s, 1, &delta);
		if ((rf != OC_OK && rf != OC_ERR_NOT_FOUND) || (rd != OC_OK && rd != OC_ERR_NOT_FOUND))
			return lc_report(c, rf != OC_OK && rf != OC_ERR_NOT_FOUND ? rf : rd,
			    "crl status");
		if (c->json) {
			fputc('{', c->out);
			crl_json(c->out, "complete", rf, &full);
			fputc(',', c->out);
			crl_json(c->out, "delta", rd, &delta);
			fputs("}\n", c->out);
		} else {
			crl_text(c->out, "complete:", rf, &full);
			crl_text(c->out, "delta:", rd, &delta);
		}
		return OC_ADMIN_EXIT_OK;
	}
	if (strcmp(verb, "publish") != 0)
		return lc_usage(c, "unknown verb '%s' (status or publish)", verb);
	if ((x = lc_args(c, argc, argv, "--delta", 0)) != 0 || (x = lc_open(c, sp)) != 0)
		return x;
	s = *sp;
	oc_admin_actor(actor, sizeof(actor));
	if ((r = oc_store_crl_request(s, actor, c->delta ? OC_STORE_CRL_ASK_DELTA :
	    OC_STORE_CRL_ASK_FULL | OC_STORE_CRL_ASK_DELTA)) != OC_OK)
		return lc_report(c, r, "crl publish");
	oc_audit("crl_publish_request", "actor", actor, "what", c->delta ? "delta" : "complete",
	    (char *)NULL);
	fprintf(c->out, "asked the CA for a %s CRL (published within a second while the "
	    "server runs)\n", c->delta ? "delta" : "complete and a delta");
	return OC_ADMIN_EXIT_OK;
}

int
oc_admin_lifecycle(const char *store_path, const char *obj, int argc, char **argv,
    FILE *out, FILE *err)
{
	struct oc_store *s = NULL;
	struct lc c;
	const char *verb = argc > 0 && argv[0] != NULL ? argv[0] : "";
	int x;

	memset(&c, 0, sizeof(c));
	c.store_path = store_path;
	c.out = out;
	c.err = err;
	if (strcmp(obj, "request") == 0)
		x = request_cmd(&c, &s, verb, argc - 1, argv + 1);
	else if (strcmp(obj, "cert") == 0)
		x = cert_list(&c, &s, argc - 1, argv + 1);
	else
		x = crl_cmd(&c, &s, verb, argc - 1, argv + 1);
	oc_store_close(s);
	return x;
}
