/* Namespace-aware element helpers over a parsed libxml2 tree. */
#include "soap/soap.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>

int
oc_xml_is(xmlNodePtr n, const char *ns, const char *name)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE || n->name == NULL)
		return 0;
	if (strcmp((const char *)n->name, name) != 0)
		return 0;
	if (ns == NULL)
		return n->ns == NULL || n->ns->href == NULL;
	return n->ns != NULL && n->ns->href != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0;
}

xmlNodePtr
oc_xml_next_element(xmlNodePtr n)
{
	for (; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

xmlNodePtr
oc_xml_child(xmlNodePtr parent, const char *ns, const char *name)
{
	xmlNodePtr c;

	if (parent == NULL)
		return NULL;
	for (c = oc_xml_next_element(parent->children); c != NULL;
	    c = oc_xml_next_element(c->next))
		if (oc_xml_is(c, ns, name))
			return c;
	return NULL;
}

static int
xml_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
oc_xml_is_nil(xmlNodePtr n)
{
	xmlChar *v = NULL;
	const char *s, *e;
	int nil = 0;

	if (n == NULL || n->type != XML_ELEMENT_NODE)
		return 0;
	if ((v = xmlGetNsProp(n, (const xmlChar *)"nil", (const xmlChar *)OC_NS_XSI)) == NULL)
		return 0;
	s = (const char *)v;
	while (xml_space((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && xml_space((unsigned char)e[-1]))
		e--;
	if (((size_t)(e - s) == 4 && memcmp(s, "true", 4) == 0) ||
	    ((size_t)(e - s) == 1 && *s == '1'))
		nil = 1;
	xmlFree(v);
	return nil;
}

char *
oc_xml_text(xmlNodePtr n)
{
	xmlChar *c = NULL;
	const char *s, *e;
	char *out = NULL;

	if (n == NULL)
		return NULL;
	if ((c = xmlNodeGetContent(n)) == NULL)
		return strdup("");
	s = (const char *)c;
	while (xml_space((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && xml_space((unsigned char)e[-1]))
		e--;
	out = strndup(s, (size_t)(e - s));
	xmlFree(c);
	return out;
}
