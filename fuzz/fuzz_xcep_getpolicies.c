/*
 * GetPolicies end to end: SOAP parse, request parse, then the response for a
 * small fixed view must render and parse back as a SOAP 1.2 envelope whose
 * only body child is {xcep}GetPoliciesResponse.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "soap/soap.h"
#include "xcep/xcep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct oc_template tmpl[2];
static struct oc_xcep_entry entries[2];
static struct oc_ca_entry ca;
static struct oc_ces_uri uris[2];
static uint8_t cert[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
static struct oc_xcep_view view;

static void
init_view(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	tmpl[0].cn = "User";
	tmpl[0].display_name = "User";
	tmpl[0].oid = "1.3.6.1.4.1.311.21.8.1.2.3.1.1";
	tmpl[0].schema_version = 1;
	tmpl[0].revision = 3;
	tmpl[0].minor_revision = 1;
	tmpl[0].name_flags = 0xA6000000u;
	tmpl[0].min_key_size = 2048;
	tmpl[0].key_spec = 1;
	tmpl[0].key_usage = 0xa000;
	tmpl[0].has_key_usage = 1;
	tmpl[0].validity_seconds = 31536000;
	tmpl[0].renewal_seconds = 3628800;
	(void)oc_strlist_add(&tmpl[0].eku, "1.3.6.1.5.5.7.3.2");
	(void)oc_strlist_add(&tmpl[0].critical_exts, "2.5.29.15");
	tmpl[1].cn = "WebServerECDSA";
	tmpl[1].oid = "1.3.6.1.4.1.311.21.8.1.2.3.1.40";
	tmpl[1].schema_version = 4;
	tmpl[1].revision = 100;
	tmpl[1].private_key_flags = 0x06060000u;
	tmpl[1].key_algorithm = "ECDSA_P384";
	tmpl[1].hash_algorithm = "SHA384";
	tmpl[1].ra_signatures = 1;
	(void)oc_strlist_add(&tmpl[1].ra_app_policies,
	    "msPKI-RA-Application-Policies`PZPWSTR`1.3.6.1.4.1.311.20.2.1`");
	(void)oc_strlist_add(&tmpl[1].app_policies, "1.3.6.1.5.5.7.3.1");
	entries[0].t = &tmpl[0];
	entries[0].enroll = 1;
	entries[1].t = &tmpl[1];
	entries[1].autoenroll = 1;
	uris[0] = (struct oc_ces_uri){ 2, "https://ca/K/service.svc/CES", 1, 0 };
	uris[1] = (struct oc_ces_uri){ 4, "https://ca/U/service.svc/CES", 2, 1 };
	ca.name = "CA";
	ca.cert_der = cert;
	ca.cert_der_len = sizeof(cert);
	(void)oc_strlist_add(&ca.templates, "User");
	(void)oc_strlist_add(&ca.templates, "WebServerECDSA");
	ca.uris = uris;
	ca.nuris = 2;
	view.policy_id = "{00000000-0000-0000-0000-000000000000}";
	view.next_update_hours = 8;
	view.last_change = 1767225600;
	view.entries = entries;
	view.nentries = 2;
	view.cas = &ca;
	view.ncas = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oc_soap_msg msg, back;
	struct oc_xcep_request req;
	struct ocbuf b;

	init_view();
	if (oc_soap_parse(data, size, &msg) != OC_OK)
		return 0;
	if (oc_xcep_parse_request(&msg, &req) == OC_OK) {
		ocbuf_init(&b, 1 << 20);
		if (oc_xcep_render_response(&b, &view, &req, msg.message_id) != OC_OK)
			abort();
		if (oc_soap_parse(b.d, b.len, &back) != OC_OK ||
		    !oc_xml_is(back.payload, OC_NS_XCEP, "GetPoliciesResponse") ||
		    oc_xml_next_element(back.payload->next) != NULL)
			abort();
		oc_soap_msg_clear(&back);
		ocbuf_free(&b);
		oc_xcep_request_clear(&req);
	}
	oc_soap_msg_clear(&msg);
	return 0;
}
