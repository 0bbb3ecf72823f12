/*
 * {xcep}GetPolicies (xcep.md 2): lenient about what real clients send
 * (nil forms, year-0001 or unparsable lastUpdate, any prefixes, trailing
 * extension elements), strict only where the spec demands a fault: not
 * GetPolicies, or client absent / nil / empty.
 */
#include "xcep/xcep.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/limits.h"
#include "common/log.h"
#include "xcep/xcep_int.h"

/* xs:int text -> value; -1 when nil, absent, unparsable or negative. */
static int
xcep_version(xmlNodePtr n, int *v)
{
	char *s = NULL, *end = NULL;
	long l;

	*v = -1;
	if (n == NULL || oc_xml_is_nil(n))
		return OC_OK;
	if ((s = oc_xml_text(n)) == NULL)
		return OC_ERR_NOMEM;
	errno = 0;
	l = strtol(s, &end, 10);
	if (s[0] != '\0' && *end == '\0' && errno == 0 && l >= 0 && l <= INT_MAX)
		*v = (int)l;
	else
		log_debug("ignoring unparsable version filter value");
	free(s);
	return OC_OK;
}

static int
xcep_parse_client(xmlNodePtr client, struct oc_xcep_request *req)
{
	xmlNodePtr n;
	char *s = NULL;
	int r = OC_OK;

	if ((n = oc_xml_child(client, OC_NS_XCEP, "lastUpdate")) != NULL && !oc_xml_is_nil(n)) {
		if ((s = oc_xml_text(n)) == NULL)
			return OC_ERR_NOMEM;
		/* unparsable (spec example "20090-03-15-T09:38:46") => as nil */
		if (s[0] != '\0' && oc_time_parse_iso8601(s, &req->last_update) == OC_OK)
			req->has_last_update = 1;
		else
			req->last_update = 0;
		free(s);
		s = NULL;
	}
	if ((n = oc_xml_child(client, OC_NS_XCEP, "preferredLanguage")) != NULL &&
	    !oc_xml_is_nil(n)) {
		if ((s = oc_xml_text(n)) == NULL)
			return OC_ERR_NOMEM;
		if (s[0] != '\0' && strlen(s) <= OC_NAME_MAX) {
			req->preferred_language = s;
			s = NULL;
		}
		free(s);
	}
	return r;
}

static int
xcep_parse_filter(xmlNodePtr f, struct oc_xcep_request *req)
{
	xmlNodePtr n, o;
	char *s = NULL;
	int r;

	req->has_filter = 1;
	if ((n = oc_xml_child(f, OC_NS_XCEP, "policyOIDs")) != NULL && !oc_xml_is_nil(n)) {
		for (o = oc_xml_next_element(n->children); o != NULL;
		    o = oc_xml_next_element(o->next)) {
			if (!oc_xml_is(o, OC_NS_XCEP, "oid") || oc_xml_is_nil(o))
				continue;
			if ((s = oc_xml_text(o)) == NULL)
				return OC_ERR_NOMEM;
			if (s[0] == '\0' || strlen(s) > OC_OID_MAX) {
				free(s);
				continue;
			}
			if (req->policy_oids.n >= OC_TEMPLATES_MAX) {
				free(s);
				return OC_ERR_LIMIT;
			}
			r = oc_strlist_add(&req->policy_oids, s);
			free(s);
			if (r != OC_OK)
				return r;
		}
	}
	if ((r = xcep_version(oc_xml_child(f, OC_NS_XCEP, "clientVersion"),
	    &req->client_version)) != OC_OK ||
	    (r = xcep_version(oc_xml_child(f, OC_NS_XCEP, "serverVersion"),
	    &req->server_version)) != OC_OK)
		return r;
	return OC_OK;
}

int
oc_xcep_parse_request(const struct oc_soap_msg *msg, struct oc_xcep_request *req)
{
	xmlNodePtr gp, client, filter;
	int r;

	if (req == NULL)
		return OC_ERR_INVALID;
	memset(req, 0, sizeof(*req));
	req->client_version = -1;
	req->server_version = -1;
	if (msg == NULL)
		return OC_ERR_INVALID;
	gp = msg->payload;
	if (!oc_xml_is(gp, OC_NS_XCEP, "GetPolicies")) {
		r = OC_ERR_SOAP_BODY;
		goto out;
	}
	/* client: absent, nil or without any value => fault (spec 3.1.4.1.2.1) */
	client = oc_xml_child(gp, OC_NS_XCEP, "client");
	if (client == NULL || oc_xml_is_nil(client) ||
	    oc_xml_next_element(client->children) == NULL) {
		r = OC_ERR_SOAP_BODY;
		goto out;
	}
	if ((r = xcep_parse_client(client, req)) != OC_OK)
		goto out;
	filter = oc_xml_child(gp, OC_NS_XCEP, "requestFilter");
	/* "empty or specified as nil": no filter at all */
	if (filter != NULL && !oc_xml_is_nil(filter) &&
	    oc_xml_next_element(filter->children) != NULL &&
	    (r = xcep_parse_filter(filter, req)) != OC_OK)
		goto out;
	r = OC_OK;
out:
	if (r != OC_OK)
		oc_xcep_request_clear(req);
	return r;
}

void
oc_xcep_request_clear(struct oc_xcep_request *req)
{
	if (req == NULL)
		return;
	free(req->preferred_language);
	oc_strlist_free(&req->policy_oids);
	memset(req, 0, sizeof(*req));
	req->client_version = -1;
	req->server_version = -1;
}
