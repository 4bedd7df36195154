/* test_soap.c - SOAP envelope and SOAPACTION parsing. */
#include <string.h>

#include "soap.h"
#include "unit.h"
#include "util.h"

/* CHECK_EQ on a long expression, without quoting all of it. */
#define CHECK_RC(expr, want) do { long long rc_ = (long long)(expr); CHECK_EQ(rc_, want); } while (0)

/* As upnpc (miniupnpc 2.x) sends it. */
static const char upnpc_add[] =
	"<?xml version=\"1.0\"?>\r\n"
	"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	"s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
	"<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"
	"<NewRemoteHost></NewRemoteHost><NewExternalPort>8000</NewExternalPort>"
	"<NewProtocol>TCP</NewProtocol><NewInternalPort>9000</NewInternalPort>"
	"<NewInternalClient>192.168.77.10</NewInternalClient><NewEnabled>1</NewEnabled>"
	"<NewPortMappingDescription>libminiupnpc</NewPortMappingDescription>"
	"<NewLeaseDuration>0</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>\r\n";

static int
parse(const char *s, struct soap_envelope *e)
{
	return soap_parse_envelope(s, strlen(s), e);
}

TEST(soap_parse_upnpc_request)
{
	static struct soap_envelope e;

	CHECK_RC(parse(upnpc_add, &e), 0);
	CHECK_STR(e.action, "AddPortMapping");
	CHECK_STR(e.ns, "urn:schemas-upnp-org:service:WANIPConnection:2");
	CHECK_EQ(e.n_args, 8);
	CHECK_STR(soap_arg(&e, "NewRemoteHost"), "");
	CHECK_STR(soap_arg(&e, "NewExternalPort"), "8000");
	CHECK_STR(soap_arg(&e, "NewPortMappingDescription"), "libminiupnpc");
	CHECK(soap_arg(&e, "NewNothing") == NULL);
}

TEST(soap_parse_tolerant)
{
	static struct soap_envelope e;

	/* other prefixes, case, comments, whitespace, entities, CDATA, a Header */
	CHECK_RC(parse("<!-- hi --><SOAP-ENV:ENVELOPE xmlns:SOAP-ENV='x'>\n <SOAP-ENV:Header><a>1</a></SOAP-ENV:Header>"
		       "<SOAP-ENV:body>\n<m:GetSpecificPortMappingEntry xmlns:m=\"urn:x\">\n"
		       "  <NewDesc>a&lt;b&gt;&amp;&quot;&apos;&#65;&#x42;&#xe9;<![CDATA[<raw>&amp;]]><!--c-->z</NewDesc>\n"
		       "  <NewEmpty/>\n"
		       "</m:GetSpecificPortMappingEntry></SOAP-ENV:body></SOAP-ENV:ENVELOPE>", &e), 0);
	CHECK_STR(e.action, "GetSpecificPortMappingEntry");
	CHECK_STR(e.ns, "urn:x");
	CHECK_STR(soap_arg(&e, "NewDesc"), "a<b>&\"'AB\xc3\xa9<raw>&amp;z");
	CHECK_STR(soap_arg(&e, "NewEmpty"), "");
	/* no prefix at all */
	CHECK_RC(parse("<Envelope><Body><GetExternalIPAddress/></Body></Envelope>", &e), 0);
	CHECK_STR(e.action, "GetExternalIPAddress");
	CHECK_EQ(e.n_args, 0);
}

TEST(soap_parse_rejects)
{
	static struct soap_envelope e;
	char deep[2048];
	int i;

	CHECK_RC(parse("", &e), SOAP_E_ACTION);
	CHECK_RC(parse("<x/>", &e), SOAP_E_ACTION);
	CHECK_RC(parse("<s:Envelope><s:Body></s:Body></s:Envelope>", &e), SOAP_E_ACTION);
	CHECK_RC(parse("<!DOCTYPE x [<!ENTITY a \"b\">]><Envelope><Body><A/></Body></Envelope>", &e),
		 SOAP_E_ACTION);
	CHECK_RC(parse("<Envelope><Body><A><B>&unknown;</B></A></Body></Envelope>", &e), SOAP_E_ARGS);
	CHECK_RC(parse("<Envelope><Body><A><B>&#0;</B></A></Body></Envelope>", &e), SOAP_E_ARGS);
	CHECK_RC(parse("<Envelope><Body><A><B>&#x110000;</B></A></Body></Envelope>", &e), SOAP_E_ARGS);
	CHECK_RC(parse("<Envelope><Body><A><B>1</B><B>2</B></A></Body></Envelope>", &e), SOAP_E_ARGS);
	CHECK_RC(parse("<Envelope><Body><A><B>1</B>", &e), SOAP_E_ARGS);	/* truncated */
	/* bounded nesting */
	str_copy(deep, sizeof(deep), "<Envelope><Body><A><B>");
	for (i = 0; i < 40; i++)
		CHECK(str_appendf(deep, sizeof(deep), "<x>") == 0);
	CHECK(parse(deep, &e) < 0);
	/* a value longer than the limit */
	{
		static char longv[SOAP_VALUE_MAX + 200];

		size_t at;

		str_copy(longv, sizeof(longv), "<Envelope><Body><A><B>");
		at = strlen(longv);
		memset(longv + at, 'v', SOAP_VALUE_MAX + 10);
		longv[at + SOAP_VALUE_MAX + 10] = '\0';
		CHECK(str_appendf(longv, sizeof(longv), "</B></A></Body></Envelope>") == 0);
		/* cut and marked: igd.c decides (a description may be cut) */
		CHECK_RC(parse(longv, &e), 0);
		CHECK_EQ(strlen(soap_arg(&e, "B")), SOAP_VALUE_MAX - 1);
		CHECK(e.args[0].truncated);
	}
	/* end tags must match their start tags (XML 1.0 WFC Element Type
	 * Match): a stray element inside a value is not silently dropped */
	CHECK_RC(parse("<Envelope><Body><A><B><x></B></A></Body></Envelope>", &e), SOAP_E_ARGS);
	CHECK_RC(parse("<Envelope><Body><A><B>1</C></A></Body></Envelope>", &e), SOAP_E_ARGS);
	CHECK_RC(parse("<Envelope><Body><A></Body></A></Envelope>", &e), SOAP_E_ARGS);
	CHECK_RC(parse("<s:Envelope><s:Header></s:Head><s:Body><A/></s:Body></s:Envelope>", &e), SOAP_E_ACTION);
	/* ... in any case, as Envelope and Body are matched */
	CHECK_RC(parse("<s:Envelope><s:Body><A><B>1</b></A></s:BODY></s:envelope>", &e), 0);
	CHECK_RC(parse("<Envelope><Body><A><B>1</B></A></Body></Envelope>", &e), 0);
	CHECK(!e.args[0].truncated);
}

/* A value cut in the middle of a UTF-8 character loses the partial one. */
TEST(soap_parse_cut_utf8)
{
	static struct soap_envelope e;
	static char v[SOAP_VALUE_MAX + 200];
	size_t at;
	int i;

	str_copy(v, sizeof(v), "<Envelope><Body><A><B>");
	at = strlen(v);
	/* 'a' then 2-byte characters: byte SOAP_VALUE_MAX - 1 starts one */
	v[at++] = 'a';
	v[at++] = 'a';
	for (i = 0; i < SOAP_VALUE_MAX / 2 + 10; i++) {
		v[at++] = (char)0xc3;
		v[at++] = (char)0xa9;
	}
	v[at] = '\0';
	CHECK(str_appendf(v, sizeof(v), "</B></A></Body></Envelope>") == 0);
	CHECK_RC(parse(v, &e), 0);
	CHECK(e.args[0].truncated);
	CHECK_EQ(strlen(soap_arg(&e, "B")), SOAP_VALUE_MAX - 2);
	CHECK_EQ((unsigned char)soap_arg(&e, "B")[SOAP_VALUE_MAX - 3], 0xa9);
}

TEST(soap_parse_action_header)
{
	struct soap_action_hdr h;

#define PA(s) soap_parse_action(s, strlen(s), &h)
	CHECK_RC(PA("\"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\""), 0);
	CHECK_STR(h.type, "WANIPConnection");
	CHECK_EQ(h.version, 1);
	CHECK_STR(h.action, "AddPortMapping");
	CHECK_RC(PA("urn:schemas-upnp-org:service:WANIPConnection:2#GetStatusInfo"), 0);
	CHECK_EQ(h.version, 2);
	CHECK_RC(PA("'urn:schemas-upnp-org:service:Layer3Forwarding:1#GetDefaultConnectionService'"), 0);
	CHECK_STR(h.type, "Layer3Forwarding");
	CHECK_RC(PA("\"urn:schemas-upnp-org:service:WANIPConnection:1\""), 0);
	CHECK_STR(h.action, "");
	CHECK_RC(PA(""), -1);
	CHECK_RC(PA("\""), -1);
	CHECK_RC(PA("\"\""), -1);
	CHECK_RC(PA("#"), -1);
	CHECK_RC(PA("urn:schemas-upnp-org:service:"), -1);
	CHECK_RC(PA("urn:schemas-upnp-org:service:X:1#"), -1);
	CHECK_RC(PA("urn:schemas-upnp-org:service:X:abc#A"), -1);
	CHECK_RC(PA("urn:other:service:X:1#A"), -1);
	CHECK(!h.control);
	/* UDA 1.0's control namespace: QueryStateVariable */
	CHECK_RC(PA("\"urn:schemas-upnp-org:control-1-0#QueryStateVariable\""), 0);
	CHECK(h.control);
	CHECK_STR(h.action, "QueryStateVariable");
	CHECK_STR(h.type, "");
	CHECK_RC(PA("urn:schemas-upnp-org:control-1-0#"), -1);
	CHECK_RC(PA("urn:schemas-upnp-org:control-1-0"), -1);
	CHECK_RC(PA("urn:schemas-upnp-org:control-1-0#a:b"), -1);
#undef PA
}
