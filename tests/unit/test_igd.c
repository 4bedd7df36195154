/* test_igd.c - the action table against the SCPDs (both directions), the
 * store -> UPnP error table, actions that need no store, GENA helpers. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "desc.h"
#include "events.h"
#include "fake_fw.h"
#include "igd.h"
#include "soap.h"
#include "store.h"
#include "unit.h"

/* CHECK_EQ on a long expression, without quoting all of it. */
#define CHECK_RC(expr, want) do { long long rc_ = (long long)(expr); CHECK_EQ(rc_, want); } while (0)
#include "util.h"

static void
fake_ctx(struct igdd_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	str_copy(ctx->uuid, sizeof(ctx->uuid), "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b");
	/* an IPv6 LAN prefix: WANIPv6FirewallControl is in the IGD:2 tree */
	ctx->n_lan = 1;
	inet_pton(AF_INET6, "2001:db8:1::1", &ctx->lan[0].addr6[0].addr);
	ctx->lan[0].addr6[0].plen = 64;
	ctx->lan[0].n_addr6 = 1;
}

/* Is action name in the SCPD text? */
static bool
scpd_has(const char *scpd, const char *name)
{
	char pat[96];

	str_printf(pat, sizeof(pat), "<name>%s</name>", name);
	return strstr(scpd, pat) != NULL;
}

TEST(igd_scpd_and_dispatch_agree)
{
	struct igdd_ctx ctx;
	int v1;

	fake_ctx(&ctx);
	for (v1 = 0; v1 < 2; v1++) {
		size_t k;

		ctx.cfg.force_igd_desc_v1 = v1;
		for (k = 0; k < SVC_COUNT; k++) {
			const struct desc_service *s = &desc_services[k];
			struct desc_view view = { { 0 }, v1 ? 1 : 2 };
			unsigned ver = desc_service_version(s, view.igd_version);
			size_t len, i, n_scpd = 0, n_tab = 0;
			char *d = desc_render(&ctx, s->scpd, &view, &len);
			const char *p;

			CHECK(d != NULL);
			if (d == NULL)
				continue;
			if (ver == 0) {		/* not in this tree (WANIPv6FirewallControl) */
				free(d);
				continue;
			}
			/* every dispatched action (of this version) is in the SCPD */
			CHECK_EQ(igd_services[k]->svc, s->id);
			for (i = 0; i < igd_services[k]->n_actions; i++) {
				const struct igd_action *a = &igd_services[k]->actions[i];

				if (a->min_ver <= ver) {
					n_tab++;
					if (!scpd_has(d, a->name)) {
						printf("    %s missing from %s (v%u)\n", a->name, s->scpd, ver);
						CHECK(0);
					}
				} else {
					CHECK(!scpd_has(d, a->name));
				}
			}
			/* every SCPD action is dispatched: count <action> elements */
			for (p = d; (p = strstr(p, "<action>")) != NULL; p++) {
				const char *nm = strstr(p, "<name>"), *ne;
				char name[64];
				bool found = false;

				CHECK(nm != NULL);
				if (nm == NULL)
					break;
				nm += 6;
				ne = strstr(nm, "</name>");
				CHECK(ne != NULL);
				if (ne == NULL || str_copy_n(name, sizeof(name), nm, (size_t)(ne - nm)) < 0)
					break;
				n_scpd++;
				for (i = 0; i < igd_services[k]->n_actions; i++)
					if (igd_services[k]->actions[i].min_ver <= ver &&
					    strcmp(igd_services[k]->actions[i].name, name) == 0)
						found = true;
				if (!found)
					printf("    %s in %s is not dispatched\n", name, s->scpd);
				CHECK(found);
			}
			CHECK_EQ(n_scpd, n_tab);
			free(d);
		}
	}
}

TEST(igd_store_error_table)
{
	CHECK_EQ(igd_error_from_store(ST_OK, true), 0);
	CHECK_EQ(igd_error_from_store(ST_E_CONFLICT, true), 718);
	CHECK_EQ(igd_error_from_store(ST_E_SECURE, true), 606);
	CHECK_EQ(igd_error_from_store(ST_E_SECURE, false), 606);
	CHECK_EQ(igd_error_from_store(ST_E_PERMISSION, true), 606);
	CHECK_EQ(igd_error_from_store(ST_E_PERMISSION, false), 718);
	CHECK_EQ(igd_error_from_store(ST_E_NOT_FOUND, true), 714);
	CHECK_EQ(igd_error_from_store(ST_E_NO_PORT, true), 728);
	CHECK_EQ(igd_error_from_store(ST_E_FIREWALL, false), 501);
	CHECK_EQ(igd_error_from_store((enum store_result)999, true), 501);
	CHECK_STR(igd_error_desc(718), "ConflictInMappingEntry");
	CHECK_STR(igd_error_desc(402), "Invalid Args");
}

static int
call(struct igdd_ctx *ctx, enum desc_svc svc, const char *action, const char *body,
     struct desc_buf *out)
{
	static struct soap_envelope env;
	struct igd_call c;

	memset(out, 0, sizeof(*out));
	if (soap_parse_envelope(body, strlen(body), &env) != 0)
		return -1;
	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.svc = &desc_services[svc];
	c.env = &env;
	c.out = out;
	c.version = desc_igd_version(ctx);
	return igd_dispatch(&c, action);
}

TEST(igd_actions_without_store)
{
	struct igdd_ctx ctx;
	struct desc_buf out;

	fake_ctx(&ctx);
	inet_pton(AF_INET, "203.0.113.5", &ctx.ext_addr);
	ctx.ext_up = true;
	CHECK_RC(call(&ctx, SVC_WANIPC, "GetExternalIPAddress",
		      "<Envelope><Body><GetExternalIPAddress/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "<NewExternalIPAddress>203.0.113.5</NewExternalIPAddress>"));
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_WANIPC, "GetStatusInfo", "<Envelope><Body><GetStatusInfo/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "<NewConnectionStatus>Connected</NewConnectionStatus>"));
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_WANIPC, "NoSuchAction", "<Envelope><Body><NoSuchAction/></Body></Envelope>", &out), 401);
	CHECK_RC(call(&ctx, SVC_L3F, "GetExternalIPAddress",
		      "<Envelope><Body><GetExternalIPAddress/></Body></Envelope>", &out), 401);
	CHECK_RC(call(&ctx, SVC_WANIPC, "SetConnectionType",
		      "<Envelope><Body><SetConnectionType/></Body></Envelope>", &out), 402);
	CHECK_RC(call(&ctx, SVC_WANIPC, "SetConnectionType",
		      "<Envelope><Body><SetConnectionType><NewConnectionType>IP_Routed</NewConnectionType>"
		      "</SetConnectionType></Body></Envelope>", &out), 0);
	CHECK_RC(call(&ctx, SVC_WANIPC, "ForceTermination",
		      "<Envelope><Body><ForceTermination/></Body></Envelope>", &out), 606);
	CHECK_RC(call(&ctx, SVC_WANIPC, "RequestConnection",
		      "<Envelope><Body><RequestConnection/></Body></Envelope>", &out), 0);
	CHECK_RC(call(&ctx, SVC_WANIPC, "GetNATRSIPStatus",
		      "<Envelope><Body><GetNATRSIPStatus/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "<NewNATEnabled>1</NewNATEnabled>"));
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_WANIPC, "GetConnectionTypeInfo",
		      "<Envelope><Body><GetConnectionTypeInfo/></Body></Envelope>", &out), 0);
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_WANCFG, "GetCommonLinkProperties",
		      "<Envelope><Body><GetCommonLinkProperties/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "<NewPhysicalLinkStatus>Up</NewPhysicalLinkStatus>"));
	desc_buf_free(&out);
	str_copy(ctx.cfg.ext_ifname, sizeof(ctx.cfg.ext_ifname), "lo");
	CHECK_RC(call(&ctx, SVC_WANCFG, "GetTotalBytesSent",
		      "<Envelope><Body><GetTotalBytesSent/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "<NewTotalBytesSent>"));
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_WANCFG, "GetTotalBytesReceived",
		      "<Envelope><Body><GetTotalBytesReceived/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "<NewTotalBytesReceived>") && strstr(out.p, "</NewTotalBytesReceived>"));
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_WANCFG, "GetTotalPacketsSent",
		      "<Envelope><Body><GetTotalPacketsSent/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "<NewTotalPacketsSent>") && strstr(out.p, "</NewTotalPacketsSent>"));
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_WANCFG, "GetTotalPacketsReceived",
		      "<Envelope><Body><GetTotalPacketsReceived/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "<NewTotalPacketsReceived>") && strstr(out.p, "</NewTotalPacketsReceived>"));
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_WANCFG, "GetEnabledForInternet",
		      "<Envelope><Body><GetEnabledForInternet/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "<NewEnabledForInternet>1</NewEnabledForInternet>"));
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_L3F, "GetDefaultConnectionService",
		      "<Envelope><Body><GetDefaultConnectionService/></Body></Envelope>", &out), 0);
	CHECK(out.p && strstr(out.p, "WANConnectionDevice:2,urn:upnp-org:serviceId:WANIPConn1"));
	{
		char body[512];
		const char *s = out.p ? strstr(out.p, "uuid:") : NULL;
		const char *e = s ? strstr(s, "</") : NULL;

		CHECK(e != NULL);
		if (e != NULL) {
			str_printf(body, sizeof(body), "<Envelope><Body><SetDefaultConnectionService>"
				   "<NewDefaultConnectionService>%.*s</NewDefaultConnectionService>"
				   "</SetDefaultConnectionService></Body></Envelope>", (int)(e - s), s);
			desc_buf_free(&out);
			CHECK_RC(call(&ctx, SVC_L3F, "SetDefaultConnectionService", body, &out), 0);
		}
	}
	desc_buf_free(&out);
	CHECK_RC(call(&ctx, SVC_L3F, "SetDefaultConnectionService",
		      "<Envelope><Body><SetDefaultConnectionService><NewDefaultConnectionService>x"
		      "</NewDefaultConnectionService></SetDefaultConnectionService></Body></Envelope>", &out), 402);
	/* v2-only actions are 401 on an IGD:1 device */
	ctx.cfg.force_igd_desc_v1 = true;
	CHECK_RC(call(&ctx, SVC_WANIPC, "AddAnyPortMapping",
		      "<Envelope><Body><AddAnyPortMapping/></Body></Envelope>", &out), 401);
}

/* AddPortMapping through the real store on the fake backend, from c. */
static int
call_from(struct igdd_ctx *ctx, const char *from, const char *action, const char *args,
	  struct desc_buf *out)
{
	static struct soap_envelope env;
	static char body[4096];
	struct igd_call c;
	struct in_addr a;

	memset(out, 0, sizeof(*out));
	if (str_printf(body, sizeof(body), "<Envelope><Body><%s>%s</%s></Body></Envelope>",
		       action, args, action) < 0 ||
	    soap_parse_envelope(body, strlen(body), &env) != 0)
		return -1;
	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.svc = &desc_services[SVC_WANIPC];
	c.env = &env;
	c.out = out;
	c.version = desc_igd_version(ctx);
	inet_pton(AF_INET, from, &a);
	addr_from_v4(&c.requester, a);
	return igd_dispatch(&c, action);
}

#define ADD_ARGS(eport, proto, desc) \
	"<NewRemoteHost></NewRemoteHost><NewExternalPort>" eport "</NewExternalPort>" \
	"<NewProtocol>" proto "</NewProtocol><NewInternalPort>9000</NewInternalPort>" \
	"<NewInternalClient>192.168.1.10</NewInternalClient><NewEnabled>1</NewEnabled>" \
	"<NewPortMappingDescription>" desc "</NewPortMappingDescription><NewLeaseDuration>60</NewLeaseDuration>"

/* Hostile values: a long description is cut at a character boundary and
 * stored; any other cut value is refused; "*" as NewExternalPort is the
 * wildcard (716); a numeric character reference is its digit. */
TEST(igd_add_hostile_values)
{
	struct fake_env *e = fake_env_pmp(0);
	struct desc_buf out;
	struct mapping *m;
	static char args[2048];
	char longd[700];
	size_t i;

	for (i = 0; i + 2 < sizeof(longd); i += 2) {
		longd[i] = (char)0xc3;
		longd[i + 1] = (char)0xa9;
	}
	longd[i] = '\0';
	str_printf(args, sizeof(args), ADD_ARGS("8000", "TCP", "%s"), longd);
	CHECK_RC(call_from(&e->ctx, "192.168.1.10", "AddPortMapping", args, &out), 0);
	desc_buf_free(&out);
	m = store_find(e->s, IPPROTO_TCP, 8000, &(struct in6_addr){ 0 });
	CHECK(m != NULL);
	if (m != NULL) {
		CHECK_EQ(strlen(m->desc), MAPPING_DESC_MAX - 1 - (MAPPING_DESC_MAX - 1) % 2);
		CHECK_EQ((unsigned char)m->desc[strlen(m->desc) - 1], 0xa9);
	}
	/* a port padded with zeros past the value limit: cut, it would read
	 * as 0 (716); it is refused as a whole (402) */
	memset(longd, '0', 600);
	longd[600] = '\0';
	str_printf(args, sizeof(args), ADD_ARGS("%s8001", "TCP", "x"), longd);
	CHECK_RC(call_from(&e->ctx, "192.168.1.10", "AddPortMapping", args, &out), 402);
	CHECK(store_find(e->s, IPPROTO_TCP, 8000, &(struct in6_addr){ 0 }) != NULL);
	CHECK_RC(call_from(&e->ctx, "192.168.1.10", "AddPortMapping", ADD_ARGS("*", "TCP", "x"), &out), 716);
	CHECK_RC(call_from(&e->ctx, "192.168.1.10", "AddPortMapping", ADD_ARGS("800&#51;", "UDP", "&lt;b&gt;"), &out), 0);
	m = store_find(e->s, IPPROTO_UDP, 8003, &(struct in6_addr){ 0 });
	CHECK(m != NULL && strcmp(m->desc, "<b>") == 0);
	CHECK_EQ(store_count(e->s), 2);
	fake_env_free(e);
}

/* Count the escaped entries of a listing. */
static size_t
count_str(const char *s, const char *w)
{
	size_t n = 0;

	while ((s = strstr(s, w)) != NULL) {
		n++;
		s += strlen(w);
	}
	return n;
}

#define LIST_ARGS(start, proto, num) \
	"<NewStartPort>" start "</NewStartPort><NewEndPort>65535</NewEndPort>" \
	"<NewProtocol>" proto "</NewProtocol><NewManage>1</NewManage>" \
	"<NewNumberOfPorts>" num "</NewNumberOfPorts>"

/* GetListOfPortMappings answers at most 1,000 entries and stops past
 * 1 MiB of listing; the listing is the XML document escaped once, each
 * value escaped twice, in the answer's own buffer. */
TEST(igd_list_bounded)
{
	struct fake_env *e = fake_env_pmp(0);
	struct desc_buf out;
	struct mapping r = { 0 };
	struct mapping_owner ow = { .proto = OWNER_UPNP };
	struct in6_addr ia;
	char amp[250];
	unsigned p;

	addr_parse("192.168.1.10", &ia);
	ow.addr = ia;
	r.iaddr = &ia;
	r.owner = &ow;
	r.enabled = true;
	r.desc = "a<b>&\"c'";
	for (p = 10000; p < 11200; p++) {
		r.proto = IPPROTO_TCP;
		r.eport = r.iport = (uint16_t)p;
		CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	}
	memset(amp, '&', sizeof(amp) - 1);
	amp[sizeof(amp) - 1] = '\0';
	r.desc = amp;
	for (p = 20000; p < 20600; p++) {
		r.proto = IPPROTO_UDP;
		r.eport = r.iport = (uint16_t)p;
		CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	}
	CHECK_RC(call_from(&e->ctx, "192.168.1.10", "GetListOfPortMappings",
			   LIST_ARGS("1", "TCP", "0"), &out), 0);
	CHECK_EQ(count_str(out.p, "&lt;p:PortMappingEntry&gt;"), 1000);
	CHECK(strstr(out.p, "&lt;p:NewExternalPort&gt;10999&lt;") != NULL);
	CHECK(strstr(out.p, "&lt;p:NewExternalPort&gt;11000&lt;") == NULL);
	CHECK(strstr(out.p, "<NewPortListing>&lt;?xml version=&quot;1.0&quot;") == out.p);
	CHECK(strstr(out.p, "&lt;p:NewDescription&gt;a&amp;lt;b&amp;gt;&amp;amp;&amp;quot;c&amp;apos;"
			    "&lt;/p:NewDescription&gt;") != NULL);
	CHECK(strstr(out.p, "&lt;/p:PortMappingList&gt;</NewPortListing>") != NULL);
	CHECK(strchr(out.p + strlen("<NewPortListing>"), '<') ==
	      out.p + out.len - strlen("</NewPortListing>"));
	desc_buf_free(&out);
	CHECK_RC(call_from(&e->ctx, "192.168.1.10", "GetListOfPortMappings",
			   LIST_ARGS("11000", "TCP", "65535"), &out), 0);
	CHECK_EQ(count_str(out.p, "&lt;p:PortMappingEntry&gt;"), 200);
	desc_buf_free(&out);
	CHECK_RC(call_from(&e->ctx, "192.168.1.10", "GetListOfPortMappings",
			   LIST_ARGS("1", "TCP", "3"), &out), 0);
	CHECK_EQ(count_str(out.p, "&lt;p:PortMappingEntry&gt;"), 3);
	desc_buf_free(&out);
	/* 600 entries of ~2.8 KB: the byte cap ends the listing first */
	CHECK_RC(call_from(&e->ctx, "192.168.1.10", "GetListOfPortMappings",
			   LIST_ARGS("1", "UDP", "0"), &out), 0);
	p = (unsigned)count_str(out.p, "&lt;p:PortMappingEntry&gt;");
	CHECK(p > 300 && p < 600);
	CHECK(out.len > (1u << 20) && out.len < (1u << 20) + 8192);
	CHECK_EQ(count_str(out.p, "&lt;/p:PortMappingEntry&gt;"), p);
	desc_buf_free(&out);
	/* another client, without Manage, sees none of them */
	CHECK_RC(call_from(&e->ctx, "192.168.1.11", "GetListOfPortMappings",
			   "<NewStartPort>1</NewStartPort><NewEndPort>65535</NewEndPort>"
			   "<NewProtocol>TCP</NewProtocol><NewManage>0</NewManage>"
			   "<NewNumberOfPorts>0</NewNumberOfPorts>", &out), 730);
	desc_buf_free(&out);
	fake_env_free(e);
}

TEST(events_helpers)
{
	struct sockaddr_in a;
	char path[256];

#define CB(s) events_parse_callback(s, strlen(s), &a, path, sizeof(path))
	CHECK_EQ(CB("<http://192.168.77.10:5000/notify>"), 0);
	CHECK_EQ(ntohs(a.sin_port), 5000);
	CHECK_STR(path, "/notify");
	CHECK_EQ(CB("<http://192.168.77.10>"), 0);
	CHECK_EQ(ntohs(a.sin_port), 80);
	CHECK_STR(path, "/");
	CHECK_EQ(CB("<http://192.168.77.10:1/a><http://1.2.3.4/b>"), 0);
	CHECK_EQ(CB("<http://evil.example/x>"), -1);
	CHECK_EQ(CB("<https://192.168.77.10/x>"), -1);
	CHECK_EQ(CB("http://192.168.77.10/x"), -1);
	CHECK_EQ(CB("<http://192.168.77.10:99999/x>"), -1);
	CHECK_EQ(CB("<"), -1);
#undef CB
	CHECK_EQ(events_parse_timeout("Second-3600", 11), 3600);
	CHECK_EQ(events_parse_timeout("second-10", 9), EVENTS_TIMEOUT_MIN);
	CHECK_EQ(events_parse_timeout("Second-infinite", 15), EVENTS_TIMEOUT_MAX);
	CHECK_EQ(events_parse_timeout("Second-99999999", 15), EVENTS_TIMEOUT_MAX);
	CHECK_EQ(events_parse_timeout("junk", 4), EVENTS_TIMEOUT_MIN);
	CHECK_EQ(events_parse_timeout(NULL, 0), EVENTS_TIMEOUT_MIN);
	CHECK_EQ(events_next_seq(0), 1);
	CHECK_EQ(events_next_seq(41), 42);
	CHECK_EQ(events_next_seq(4294967295u), 1);
}

/* Every variable igd.c can report is a state variable of the SCPD served
 * (in the version that has it), evented there exactly when it is evented
 * here; per-entry variables are not reported; and the events list the
 * evented ones. */
TEST(igd_variables_and_scpd_agree)
{
	struct igdd_ctx ctx;
	unsigned v;
	size_t k, i;

	fake_ctx(&ctx);
	for (v = 1; v <= 2; v++) {
		for (k = 0; k < SVC_COUNT; k++) {
			const struct desc_service *s = &desc_services[k];
			const struct igd_service *is = igd_services[k];
			struct desc_view view = { { 0 }, v };
			size_t len;
			char *d = desc_render(&ctx, s->scpd, &view, &len);

			CHECK(d != NULL);
			if (d == NULL)
				continue;
			if (desc_service_version(s, v) == 0) {	/* not in this tree */
				free(d);
				continue;
			}
			for (i = 0; i < is->n_vars; i++) {
				const struct igd_var *var = &is->vars[i];
				char pat[128];
				const char *at;

				str_printf(pat, sizeof(pat), "<name>%s</name>", var->name);
				/* in the state table: an argument may bear the
				 * variable's name (WANIPv6FirewallControl's do) */
				at = strstr(d, "<serviceStateTable>");
				at = strstr(at != NULL ? at : d, pat);
				if (var->min_ver > desc_service_version(s, v)) {
					CHECK(at == NULL);
					CHECK(igd_var_find(s->id, v, var->name) == NULL);
					continue;
				}
				CHECK(igd_var_find(s->id, v, var->name) == var);
				CHECK(at != NULL);
				if (at == NULL)
					continue;
				/* <stateVariable sendEvents="yes">\n\t\t\t<name> */
				while (at > d && strncmp(at, "<stateVariable", 14) != 0)
					at--;
				CHECK(strncmp(at, var->evented ? "<stateVariable sendEvents=\"yes\">"
							       : "<stateVariable sendEvents=\"no\">",
					      var->evented ? 32 : 31) == 0);
			}
			free(d);
		}
	}
	CHECK(igd_var_find(SVC_WANIPC, 2, "PortMappingDescription") == NULL);
	CHECK(igd_var_find(SVC_WANIPC, 1, "SystemUpdateID") == NULL);
	CHECK(igd_var_find(SVC_WANIPC, 2, "SystemUpdateID") != NULL);
	CHECK(igd_var_find(SVC_WANCFG, 2, "ConnectionStatus") == NULL);
	{
		struct desc_buf b = { 0 };

		ctx.ext_up = true;
		inet_pton(AF_INET, "203.0.113.5", &ctx.ext_addr);
		igd_evented_vars(&ctx, SVC_WANIPC, &b);
		CHECK(b.p != NULL && strstr(b.p, "<e:property><PossibleConnectionTypes>IP_Routed"
					      "</PossibleConnectionTypes></e:property><e:property>"
					      "<ConnectionStatus>Connected</ConnectionStatus>") != NULL);
		CHECK(b.p != NULL && strstr(b.p, "<ExternalIPAddress>203.0.113.5<") != NULL);
		CHECK(b.p != NULL && strstr(b.p, "<SystemUpdateID>") != NULL);
		CHECK(b.p != NULL && strstr(b.p, "Uptime") == NULL);	/* not evented */
		desc_buf_free(&b);
	}
}
