/* JSON output shared by the admin CLI's commands. */
#include "daemon/admin_int.h"

#include "common/util.h"

void
oc_admin_json_str(FILE *f, const char *s)
{
	if (s == NULL) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void
oc_admin_json_time(FILE *f, time_t t)
{
	char buf[32];

	if (t == 0) {
		fputs("null", f);
		return;
	}
	oc_time_iso8601(t, buf, sizeof(buf));
	oc_admin_json_str(f, buf);
}

void
oc_admin_cert_json(FILE *f, const struct oc_store_cert *s)
{
	fputs("{\"serial\":", f);
	oc_admin_json_str(f, s->serial_hex);
	fprintf(f, ",\"request_id\":%u,\"subject\":", s->request_id);
	oc_admin_json_str(f, s->subject);
	fputs(",\"requester\":", f);
	oc_admin_json_str(f, s->requester);
	fputs(",\"template\":", f);
	oc_admin_json_str(f, s->template_name);
	fputs(",\"not_before\":", f);
	oc_admin_json_time(f, s->not_before);
	fputs(",\"not_after\":", f);
	oc_admin_json_time(f, s->not_after);
	fprintf(f, ",\"revoked\":%s", s->revoked ? "true" : "false");
	if (s->revoked) {
		fprintf(f, ",\"revocation_reason\":%d,\"revocation_reason_name\":\"%s\","
		    "\"revoked_at\":", s->revocation_reason,
		    oc_crl_reason_name(s->revocation_reason));
		oc_admin_json_time(f, s->revoked_at);
	}
	fputc('}', f);
}
