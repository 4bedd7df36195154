/* test_control.c - the control socket's requests: the strict parser and
 * the answers, over the real store on the fake backend. */
#include <arpa/inet.h>
#include <stdlib.h>

#include "control.h"
#include "fake_fw.h"
#include "json.h"
#include "store.h"
#include "unit.h"
#include "util.h"

static int
parse(const char *line, struct ctl_request *req, char *err)
{
	return control_parse(line, strlen(line), req, err, 256);
}

TEST(control_parse_good)
{
	struct ctl_request r;
	char err[256];

	CHECK_EQ(parse("{\"v\":1,\"cmd\":\"list\"}", &r, err), 0);
	CHECK_EQ(r.cmd, CTL_LIST);
	CHECK_EQ(parse(" { \"cmd\" : \"add\", \"v\": 1, \"protocol\":\"TCP\", \"external_port\":8080,"
		       "\"internal_client\":\"192.168.1.10\", \"internal_port\":80,"
		       "\"description\":\"web \\u00e9\", \"lease\":0, \"remote_host\":\"\"} ", &r, err), 0);
	CHECK_EQ(r.cmd, CTL_ADD);
	CHECK_EQ(r.proto, IPPROTO_TCP);
	CHECK_EQ(r.eport, 8080);
	CHECK_EQ(r.iport, 80);
	CHECK_STR(r.desc, "web \xc3\xa9");
	CHECK(addr_is_any(&r.rhost));
	CHECK_EQ(r.fields, CTL_F_PROTO | CTL_F_EPORT | CTL_F_IADDR | CTL_F_IPORT | CTL_F_DESC |
			   CTL_F_LEASE | CTL_F_RHOST);
	CHECK_EQ(parse("{\"v\":1,\"cmd\":\"del\",\"protocol\":\"udp\",\"external_port\":53,"
		       "\"remote_host\":\"198.51.100.7\"}", &r, err), 0);
	CHECK(!addr_is_any(&r.rhost));
	CHECK_EQ(parse("{\"v\":1,\"cmd\":\"flush\",\"source\":\"pcp\"}", &r, err), 0);
	CHECK_EQ(r.source, OWNER_PCP);
	CHECK_EQ(parse("{\"v\":1,\"cmd\":\"flush\",\"source\":\"manual\"}", &r, err), 0);
	CHECK_EQ(r.source, OWNER_STATIC);
	CHECK_EQ(parse("{\"v\":1,\"cmd\":\"del\",\"unique_id\":65535}", &r, err), 0);
	CHECK_EQ(r.uid, 65535);
	CHECK_EQ(r.fields, CTL_F_UID);
}

TEST(control_parse_bad)
{
	static const struct { const char *line, *why; } cases[] = {
		{ "", "not JSON" },
		{ "[]", "one JSON object" },
		{ "{\"cmd\":\"list\"}", "needs \"v\":1" },
		{ "{\"v\":2,\"cmd\":\"list\"}", "unsupported protocol version 2" },
		{ "{\"v\":\"1\",\"cmd\":\"list\"}", "v: must be an integer" },
		{ "{\"v\":1,\"cmd\":\"list\",\"v\":1}", "twice" },
		{ "{\"v\":1,\"cmd\":\"lst\"}", "unknown cmd 'lst'" },
		{ "{\"v\":1,\"cmd\":\"list\",\"extra\":1}", "unknown member 'extra'" },
		{ "{\"v\":1,\"cmd\":\"list\",\"lease\":1}", "'lease' does not apply to list" },
		{ "{\"v\":1,\"cmd\":\"del\",\"protocol\":\"tcp\"}", "del needs 'external_port'" },
		{ "{\"v\":1,\"cmd\":\"del\",\"protocol\":\"icmp\",\"external_port\":1}", "protocol:" },
		{ "{\"v\":1,\"cmd\":\"del\",\"protocol\":\"tcp\",\"external_port\":0}", "out of range" },
		{ "{\"v\":1,\"cmd\":\"del\",\"protocol\":\"tcp\",\"external_port\":65536}", "out of range" },
		{ "{\"v\":1,\"cmd\":\"del\",\"protocol\":\"tcp\",\"external_port\":1.0}", "an integer" },
		{ "{\"v\":1,\"cmd\":\"del\",\"protocol\":\"tcp\",\"external_port\":1,\"remote_host\":\"x\"}",
		  "remote_host:" },
		{ "{\"v\":1,\"cmd\":\"flush\",\"source\":\"all\"}", "source:" },
		{ "{\"v\":1,\"cmd\":\"del\"}", "del needs 'protocol'" },
		{ "{\"v\":1,\"cmd\":\"del\",\"unique_id\":0}", "unique_id: 0 is out of range" },
		{ "{\"v\":1,\"cmd\":\"del\",\"unique_id\":7,\"protocol\":\"tcp\"}",
		  "'protocol' does not apply to del" },
		{ "{\"v\":1,\"cmd\":\"list\",\"unique_id\":7}", "'unique_id' does not apply to list" },
		{ "{\"v\":1,\"cmd\":{}}", "not JSON: nested too deep" },
		{ "{\"v\":1,\"cmd\":\"list\"", "not JSON" },
		{ "{\"v\":1,\"cmd\":\"list\"}x", "not JSON: text after the value" },
	};
	struct ctl_request r;
	char err[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int rc = parse(cases[i].line, &r, err);

		if (rc != -1 || strstr(err, cases[i].why) == NULL)
			printf("    '%s': %d, '%s' (want '%s')\n", cases[i].line, rc, err, cases[i].why);
		CHECK(rc == -1 && strstr(err, cases[i].why) != NULL);
	}
}

/* One request through control_handle(); the answer in *out (freed by
 * the next call). */
static const char *
ask(struct fake_env *e, const char *line, struct json_out *o)
{
	json_out_free(o);
	control_handle(&e->ctx, line, strlen(line), o);
	return o->p != NULL ? o->p : "";
}

TEST(control_handle_commands)
{
	struct fake_env *e = fake_env_new(false);
	struct json_out o = { 0 };
	struct mapping up = fake_req(IPPROTO_TCP, 8000, "192.168.1.10", 9000, "upnp one", OWNER_UPNP);
	const char *a;

	fake_env_start(e);
	e->ctx.store = e->s;
	e->ctx.start_mono = time_mono_ms();
	CHECK_EQ(store_add(e->s, &up, 3600, 0, NULL), ST_OK);
	fake_fw_set_packets(&e->fw, IPPROTO_TCP, 8000, 3);
	a = ask(e, "{\"v\":1,\"cmd\":\"add\",\"protocol\":\"tcp\",\"external_port\":8500,"
		   "\"internal_client\":\"192.168.1.20\",\"internal_port\":9500,\"description\":\"man\"}", &o);
	CHECK(strstr(a, "\"ok\":true") != NULL && strstr(a, "\"source\":\"manual\"") != NULL);
	a = ask(e, "{\"v\":1,\"cmd\":\"add\",\"protocol\":\"tcp\",\"external_port\":8000,"
		   "\"internal_client\":\"192.168.1.20\",\"internal_port\":9500}", &o);
	CHECK(strstr(a, "TCP 8000 is already mapped (source upnp) to 192.168.1.10:9000") != NULL);
	a = ask(e, "{\"v\":1,\"cmd\":\"list\"}", &o);
	CHECK(strstr(a, "{\"protocol\":\"tcp\",\"external_port\":8000,\"pinhole\":false,"
			"\"internal_client\":\"192.168.1.10\",\"internal_port\":9000,\"remote_host\":\"\","
			"\"remote_port\":0,\"description\":\"upnp one\",\"enabled\":true,\"lease_remaining\":3600,\"source\":\"upnp\","
			"\"owner\":\"192.168.1.10\",\"packets\":3,\"bytes\":300,") != NULL);
	CHECK(strstr(a, "\"external_port\":8500,") != NULL && strstr(a, "\"lease_remaining\":0,") != NULL);
	a = ask(e, "{\"v\":1,\"cmd\":\"stats\"}", &o);
	CHECK(strstr(a, "\"manual\":{\"tcp\":1,\"udp\":0}") != NULL);
	CHECK(strstr(a, "\"total\":2") != NULL);
	a = ask(e, "{\"v\":1,\"cmd\":\"metrics\"}", &o);
	CHECK(strstr(a, "igdd_mappings{source=\\\"upnp\\\",protocol=\\\"tcp\\\"} 1\\n") != NULL);
	a = ask(e, "{\"v\":1,\"cmd\":\"status\"}", &o);
	CHECK(strstr(a, "\"mappings\":2") != NULL);
	/* no relay, no STUN: reachable, and neither member */
	CHECK(strstr(a, "\"reachable\":true") != NULL && strstr(a, "\"source\":\"interface\"") != NULL);
	CHECK(strstr(a, "\"upstream\"") == NULL && strstr(a, "\"stun\"") == NULL);
	a = ask(e, "{\"v\":1,\"cmd\":\"reload\"}", &o);
	CHECK(strstr(a, "\"ok\":false") != NULL);		/* no reload hook here */
	a = ask(e, "{\"v\":1,\"cmd\":\"del\",\"protocol\":\"tcp\",\"external_port\":8500}", &o);
	CHECK_STR(a, "{\"ok\":true}");
	a = ask(e, "{\"v\":1,\"cmd\":\"del\",\"protocol\":\"tcp\",\"external_port\":8500}", &o);
	CHECK_STR(a, "{\"ok\":false,\"error\":\"no mapping TCP 8500\"}");
	a = ask(e, "{\"v\":1,\"cmd\":\"flush\",\"source\":\"natpmp\"}", &o);
	CHECK_STR(a, "{\"ok\":true,\"removed\":0,\"pinholes_removed\":0}");
	a = ask(e, "{\"v\":1,\"cmd\":\"flush\"}", &o);
	CHECK_STR(a, "{\"ok\":true,\"removed\":1,\"pinholes_removed\":0}");
	CHECK_EQ(store_count(e->s), 0);
	a = ask(e, "nonsense", &o);
	CHECK(strncmp(a, "{\"ok\":false,\"error\":\"not JSON", 29) == 0);
	json_out_free(&o);
	fake_env_free(e);
}

/* IPv6 pinholes in the answers: listed with their UniqueID, counters,
 * source and remote side; counted in stats, metrics and status; deleted
 * by UniqueID; flushed. */
TEST(control_handle_pinholes)
{
	struct fake_env *e = fake_env_new(false);
	struct json_out o = { 0 };
	struct mapping up = fake_req(IPPROTO_TCP, 0, "2001:db8:1::10", 9200, "pin", OWNER_UPNP);
	struct mapping pc = fake_req(IPPROTO_UDP, 0, "2001:db8:1::10", 9201, "pcp", OWNER_PCP);
	struct mapping v4 = fake_req(IPPROTO_TCP, 8000, "192.168.1.10", 9000, "v4", OWNER_UPNP);
	struct in6_addr rh = fake_addr("2001:db8:ff::7");
	struct mapping *m;
	char want[256];
	const char *a;
	uint16_t uid;

	fake_env_start(e);
	e->ctx.store = e->s;
	e->ctx.start_mono = time_mono_ms();
	pc.rhost = &rh;
	pc.rport = 4000;
	CHECK_EQ(store_pin_add(e->s, &up, 600, 0, &m), ST_OK);
	CHECK_EQ(store_pin_add(e->s, &pc, 600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &v4, 600, 0, NULL), ST_OK);
	fake_fw_set_packets(&e->fw, IPPROTO_TCP, m->uid, 5);
	a = ask(e, "{\"v\":1,\"cmd\":\"list\"}", &o);
	str_printf(want, sizeof(want), "{\"protocol\":\"tcp\",\"external_port\":9200,\"pinhole\":true,"
		   "\"unique_id\":%u,\"internal_client\":\"2001:db8:1::10\",\"internal_port\":"
		   "9200,\"remote_host\":\"\",\"remote_port\":0,", m->uid);
	CHECK(strstr(a, want) != NULL);
	CHECK(strstr(a, "\"source\":\"upnp\",\"owner\":\"2001:db8:1::10\",\"packets\":5,") != NULL);
	CHECK(strstr(a, "\"remote_host\":\"2001:db8:ff::7\",\"remote_port\":4000,") != NULL);
	CHECK(strstr(a, "\"description\":\"pcp\",\"enabled\":true,\"lease_remaining\":600,"
			"\"source\":\"pcp\"") != NULL);
	a = ask(e, "{\"v\":1,\"cmd\":\"stats\"}", &o);
	CHECK(strstr(a, "\"pinholes\":{\"total\":2,\"manual\":{\"tcp\":0,\"udp\":0},\"upnp\":"
			"{\"tcp\":1,\"udp\":0},\"natpmp\":{\"tcp\":0,\"udp\":0},\"pcp\":{\"tcp\":0,"
			"\"udp\":1}}") != NULL);
	CHECK(strstr(a, "\"mappings\":{\"total\":1,") != NULL);
	a = ask(e, "{\"v\":1,\"cmd\":\"metrics\"}", &o);
	CHECK(strstr(a, "igdd_pinholes{source=\\\"pcp\\\",protocol=\\\"udp\\\"} 1\\n") != NULL);
	CHECK(strstr(a, "igdd_mappings{source=\\\"upnp\\\",protocol=\\\"tcp\\\"} 1\\n") != NULL);
	a = ask(e, "{\"v\":1,\"cmd\":\"status\"}", &o);
	CHECK(strstr(a, "\"mappings\":1,\"pinholes\":2") != NULL);
	CHECK(strstr(a, "\"addresses6\":[\"2001:db8:1::1/64\",\"fe80::1/64\"]") != NULL);
	uid = m->uid;
	str_printf(want, sizeof(want), "{\"v\":1,\"cmd\":\"del\",\"unique_id\":%u}", uid);
	a = ask(e, want, &o);
	CHECK_STR(a, "{\"ok\":true}");
	CHECK_EQ(store_pin_count(e->s), 1);
	a = ask(e, want, &o);
	str_printf(want, sizeof(want), "{\"ok\":false,\"error\":\"no pinhole %u\"}", uid);
	CHECK_STR(a, want);
	a = ask(e, "{\"v\":1,\"cmd\":\"flush\",\"source\":\"pcp\"}", &o);
	CHECK_STR(a, "{\"ok\":true,\"removed\":1,\"pinholes_removed\":1}");
	CHECK_EQ(store_pin_count(e->s), 0);
	CHECK_EQ(store_count(e->s), 1);
	json_out_free(&o);
	fake_env_free(e);
}
