/* test_upstream.c - the relay's client sides: PCP and NAT-PMP requests
 * written and responses parsed, the epoch check, the default gateway. */
#include <arpa/inet.h>
#include <string.h>

#include "iface.h"
#include "pcp.h"
#include "natpmp.h"
#include "unit.h"
#include "upstream.h"
#include "upstream_natpmp.h"
#include "upstream_pcp.h"
#include "util.h"

static struct in_addr
v4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

/* A MAP request parses back, through the server's own handler's view. */
TEST(upstream_pcp_map_request)
{
	struct uppcp_map q;
	uint8_t buf[PCP_MAX_LEN];
	size_t n;

	memset(&q, 0, sizeof(q));
	memset(q.nonce, 7, sizeof(q.nonce));
	q.proto = IPPROTO_TCP;
	q.iport = 8000;
	q.eport = 8000;
	q.lifetime = 3600;
	q.client = v4("100.64.7.2");
	q.prefer_failure = true;
	q.filter = v4("5.6.7.2");
	q.desc = "game";
	n = uppcp_write_map(buf, sizeof(buf), &q);
	/* header 24 + MAP 36 + PREFER_FAILURE 4 + FILTER 24 + DESCRIPTION 8 */
	CHECK_EQ(n, 96);
	CHECK_EQ(buf[0], PCP_VERSION);
	CHECK_EQ(buf[1], PCP_OP_MAP);
	CHECK_EQ(buf[60], PCP_OPT_PREFER_FAILURE);
	CHECK_EQ(buf[64], PCP_OPT_FILTER);
	CHECK_EQ(buf[88], PCP_OPT_DESCRIPTION);
	CHECK(memcmp(buf + 92, "game", 4) == 0);
	/* A delete carries no option. */
	q.lifetime = 0;
	CHECK_EQ(uppcp_write_map(buf, sizeof(buf), &q), 60);
	CHECK_EQ(uppcp_write_map(buf, 40, &q), 0);
	CHECK_EQ(uppcp_write_announce(buf, sizeof(buf), q.client), 24);
}

/* A response as a server writes it: the fields come back; anything that
 * is not a whole PCP response is refused. */
TEST(upstream_pcp_parse)
{
	uint8_t b[64];
	struct uppcp_resp r;
	struct in6_addr ext;

	memset(b, 0, sizeof(b));
	b[0] = 2;
	b[1] = 0x81;
	b[3] = PCP_CANNOT_PROVIDE_EXTERNAL;
	b[7] = 30;			/* lifetime */
	b[11] = 9;			/* epoch */
	memset(b + 24, 5, 12);		/* nonce */
	b[36] = IPPROTO_UDP;
	b[40] = 0x1f; b[41] = 0x40;	/* iport 8000 */
	b[42] = 0x1f; b[43] = 0x41;	/* eport 8001 */
	addr_from_v4(&ext, v4("5.6.7.1"));
	memcpy(b + 44, &ext, 16);
	CHECK_EQ(uppcp_parse(b, 60, &r), 0);
	CHECK_EQ(r.opcode, PCP_OP_MAP);
	CHECK_EQ(r.result, PCP_CANNOT_PROVIDE_EXTERNAL);
	CHECK_EQ(r.lifetime, 30);
	CHECK_EQ(r.epoch, 9);
	CHECK(r.has_map && r.proto == IPPROTO_UDP && r.iport == 8000 && r.eport == 8001);
	CHECK(r.ext.s_addr == v4("5.6.7.1").s_addr);
	CHECK_EQ(uppcp_parse(b, 59, &r), -1);	/* not a multiple of 4 */
	CHECK_EQ(uppcp_parse(b, 20, &r), -1);	/* shorter than a header */
	b[60] = 128; b[63] = 9;			/* an option longer than what is left */
	CHECK_EQ(uppcp_parse(b, 64, &r), -1);
	b[1] = 0x01;				/* a request */
	CHECK_EQ(uppcp_parse(b, 60, &r), -1);
	b[1] = 0x81;
	b[0] = 1;
	CHECK_EQ(uppcp_parse(b, 60, &r), -1);
	b[0] = 2;
	b[3] = 0;				/* a success needs the whole MAP body */
	CHECK_EQ(uppcp_parse(b, 48, &r), -1);
}

TEST(upstream_natpmp_parse)
{
	uint8_t b[16] = { 0, 130, 0, 0, 0, 0, 0, 5, 0x1f, 0x40, 0x1f, 0x41, 0, 0, 0x0e, 0x10 };
	uint8_t ext[12] = { 0, 128, 0, 0, 0, 0, 1, 0, 5, 6, 7, 1 };
	struct upnatpmp_resp r;

	CHECK_EQ(upnatpmp_parse(b, 16, &r), 0);
	CHECK(r.proto == IPPROTO_TCP && r.iport == 8000 && r.eport == 8001 && r.lifetime == 3600);
	CHECK_EQ(r.epoch, 5);
	CHECK_EQ(upnatpmp_parse(b, 15, &r), -1);	/* a success is whole */
	b[3] = NATPMP_NO_RESOURCES;
	CHECK_EQ(upnatpmp_parse(b, 8, &r), 0);		/* §3.5's short error */
	CHECK_EQ(r.result, NATPMP_NO_RESOURCES);
	CHECK_EQ(upnatpmp_parse(ext, 12, &r), 0);
	CHECK(r.op == 0 && r.ext.s_addr == v4("5.6.7.1").s_addr && r.epoch == 256);
	ext[1] = 2;					/* a request */
	CHECK_EQ(upnatpmp_parse(ext, 12, &r), -1);
	CHECK_EQ(upnatpmp_write_map(b, 16, IPPROTO_UDP, 9000, 9001, 0), 12);
	CHECK(b[1] == 1 && b[6] == 0 && b[7] == 0);	/* a delete suggests no port */
	CHECK_EQ(upnatpmp_write_external(b, 1), 0);
}

/* RFC 6887 §8.5: a server's epoch may not go back, nor run much slower
 * than our clock. */
TEST(upstream_epoch_check)
{
	uint64_t t = 1000000;

	CHECK(upstream_epoch_valid(100, t, 110, t + 10000));
	CHECK(upstream_epoch_valid(100, t, 99, t));		/* a second either way */
	CHECK(!upstream_epoch_valid(100, t, 3, t + 5000));	/* restarted */
	CHECK(!upstream_epoch_valid(100, t, 101, t + 60000));	/* 1 s in 60: lost */
	CHECK(!upstream_epoch_valid(100, t, 400, t + 10000));	/* ran ahead */
	CHECK(upstream_epoch_valid(0, t, 1000, t + 1000000));
}

TEST(upstream_default_gateway)
{
	static const char route[] =
		"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
		"lan0\t004DA8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
		"wan0\t00000000\t010740640\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
		"wan0\t00000000\t01074064\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
		"wan0\t00074064\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
	struct in_addr gw;

	CHECK_EQ(iface_parse_route(route, strlen(route), "wan0", &gw), 0);
	CHECK(gw.s_addr == v4("100.64.7.1").s_addr);	/* the 9-digit line is skipped */
	CHECK_EQ(iface_parse_route(route, strlen(route), "lan0", &gw), -1);
	CHECK_EQ(iface_parse_route(route, 10, "wan0", &gw), -1);
}

TEST(upstream_protocol_names)
{
	CHECK_STR(upstream_proto_name(UPSTREAM_PCP), "PCP");
	CHECK_STR(upstream_proto_name(UPSTREAM_UPNP), "UPnP IGD");
}

/* --- the UPnP control point's parsers ---------------------------------- */
#include "upstream_upnp_parse.h"

TEST(upstream_upnp_url)
{
	struct upcp_url u;
	const char *s = "http://100.64.7.1:2869/rootDesc.xml";

	CHECK_EQ(upcp_parse_url(s, strlen(s), &u), 0);
	CHECK(u.host.s_addr == v4("100.64.7.1").s_addr && u.port == 2869);
	CHECK_STR(u.path, "/rootDesc.xml");
	s = "http://10.0.0.1";
	CHECK_EQ(upcp_parse_url(s, strlen(s), &u), 0);
	CHECK(u.port == 80 && strcmp(u.path, "/") == 0);
	s = "http://router.lan:80/x";		/* no DNS */
	CHECK_EQ(upcp_parse_url(s, strlen(s), &u), -1);
	s = "http://10.0.0.1:0/";
	CHECK_EQ(upcp_parse_url(s, strlen(s), &u), -1);
	s = "http://10.0.0.1/a b";
	CHECK_EQ(upcp_parse_url(s, strlen(s), &u), -1);
	s = "https://10.0.0.1/";
	CHECK_EQ(upcp_parse_url(s, strlen(s), &u), -1);
}

TEST(upstream_upnp_ssdp_http)
{
	static const char ssdp[] = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\n"
		"location:  http://100.64.7.1:2869/rootDesc.xml \r\n"
		"ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n\r\n";
	char chunked[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
	char cl[] = "HTTP/1.0 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nabcdEXTRA";
	struct upcp_ssdp a;
	struct upcp_http h;

	CHECK_EQ(upcp_parse_ssdp(ssdp, strlen(ssdp), &a), 0);
	CHECK_STR(a.location, "http://100.64.7.1:2869/rootDesc.xml");
	CHECK_EQ(upcp_parse_ssdp("NOTIFY * HTTP/1.1\r\n\r\n", 21, &a), -1);
	CHECK_EQ(upcp_parse_http(chunked, strlen(chunked), false, &h), 0);
	CHECK(h.status == 200 && h.body_len == 11 && memcmp(h.body, "hello world", 11) == 0);
	CHECK_EQ(upcp_parse_http(cl, strlen(cl), false, &h), 0);
	CHECK(h.status == 500 && h.body_len == 4 && memcmp(h.body, "abcd", 4) == 0);
	CHECK_EQ(upcp_parse_http(cl, 50, false, &h), UPCP_HTTP_MORE);
	CHECK_EQ(upcp_parse_http(cl, 50, true, &h), -1);	/* cut short */
}

TEST(upstream_upnp_description)
{
	static const char xml[] =
		"<?xml version=\"1.0\"?><root><device><serviceList>"
		"<service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>"
		"<controlURL>/ppp</controlURL></service>"
		"<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
		"<controlURL>ctl/IPConn1</controlURL></service>"
		"<service><serviceType> urn:schemas-upnp-org:service:WANIPConnection:2 </serviceType>"
		"<controlURL>/ctl/IPConn</controlURL></service>"
		"<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:3</serviceType>"
		"<controlURL>/v3</controlURL></service>"
		"</serviceList></device></root>";
	struct upcp_url from;
	struct upcp_desc d;
	const char *loc = "http://100.64.7.1:2869/desc/root.xml";

	CHECK_EQ(upcp_parse_url(loc, strlen(loc), &from), 0);
	CHECK_EQ(upcp_parse_desc(xml, strlen(xml), &from, &d), 0);
	CHECK_EQ(d.version, 2);
	CHECK_STR(d.service_type, "urn:schemas-upnp-org:service:WANIPConnection:2");
	CHECK_STR(d.control.path, "/ctl/IPConn");
	CHECK(d.control.port == 2869);
	/* Without the v2 service, the v1 one, relative to the document. */
	CHECK_EQ(upcp_parse_desc(xml, (size_t)(strstr(xml, "<service><serviceType> ") - xml), &from, &d), 0);
	CHECK_STR(d.control.path, "/desc/ctl/IPConn1");
	CHECK_EQ(upcp_parse_desc("<root/>", 7, &from, &d), -1);
}

TEST(upstream_upnp_soap)
{
	static const char ok[] = "<s:Envelope><s:Body><u:GetExternalIPAddressResponse>"
		"<NewExternalIPAddress>5.6.7.1</NewExternalIPAddress></u:GetExternalIPAddressResponse>"
		"</s:Body></s:Envelope>";
	static const char any[] = "<s:Envelope><s:Body><u:AddAnyPortMappingResponse>"
		"<NewReservedPort>8123</NewReservedPort></u:AddAnyPortMappingResponse></s:Body></s:Envelope>";
	static const char fault[] = "<s:Envelope><s:Body><s:Fault><faultcode>s:Client</faultcode>"
		"<detail><UPnPError><errorCode> 718 </errorCode></UPnPError></detail></s:Fault>"
		"</s:Body></s:Envelope>";
	struct upcp_soap r;
	struct upcp_url ctl;
	const char *args[] = { "NewPortMappingDescription", "a<b&\"c\"" };
	char buf[4096];

	CHECK_EQ(upcp_parse_soap(ok, strlen(ok), &r), 0);
	CHECK(r.error == 0 && r.has_ext && r.ext.s_addr == v4("5.6.7.1").s_addr);
	CHECK_EQ(upcp_parse_soap(any, strlen(any), &r), 0);
	CHECK(r.has_port && r.port == 8123);
	CHECK_EQ(upcp_parse_soap(fault, strlen(fault), &r), 0);
	CHECK_EQ(r.error, 718);
	CHECK_EQ(upcp_parse_soap("<html/>", 7, &r), -1);
	CHECK_EQ(upcp_parse_url("http://1.2.3.4:5/c", 18, &ctl), 0);
	CHECK(upcp_write_soap(buf, sizeof(buf), &ctl, "urn:x:WANIPConnection:1", "AddPortMapping",
			      args, 1) > 0);
	CHECK(strstr(buf, "a&lt;b&amp;&quot;c&quot;") != NULL);
	CHECK(strstr(buf, "SOAPAction: \"urn:x:WANIPConnection:1#AddPortMapping\"") != NULL);
	CHECK_EQ(upcp_write_soap(buf, 100, &ctl, "urn:x", "A", args, 1), 0);
}

/* --- STUN ------------------------------------------------------------------- */
#include "stun.h"

/* RFC 5769 §2.2, "Sample IPv4 Response": XOR-MAPPED-ADDRESS 192.0.2.1:32853
 * among SOFTWARE, MESSAGE-INTEGRITY and FINGERPRINT. */
static const uint8_t rfc5769_v4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
	0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
	0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
	0x74, 0x6f, 0x72, 0x20,
	0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
	0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
	0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
	0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

TEST(stun_parse_rfc5769)
{
	struct stun_resp r;
	uint8_t b[sizeof(rfc5769_v4) + 12];

	CHECK_EQ(stun_parse_response(rfc5769_v4, sizeof(rfc5769_v4), rfc5769_v4 + 8, &r), 0);
	CHECK(r.success && r.has_mapped && r.xor_mapped && !r.has_other);
	CHECK(r.mapped.s_addr == v4("192.0.2.1").s_addr && r.mapped_port == 32853);
	/* another transaction, a cut message, a wrong length: not ours */
	memcpy(b, rfc5769_v4, sizeof(rfc5769_v4));
	b[8] ^= 1;
	CHECK_EQ(stun_parse_response(b, sizeof(rfc5769_v4), rfc5769_v4 + 8, &r), -1);
	CHECK_EQ(stun_parse_response(rfc5769_v4, sizeof(rfc5769_v4) - 4, rfc5769_v4 + 8, &r), -1);
	memcpy(b, rfc5769_v4, sizeof(rfc5769_v4));
	b[3] = 0x40;				/* says 64, has 60 */
	CHECK_EQ(stun_parse_response(b, sizeof(rfc5769_v4), rfc5769_v4 + 8, &r), -1);
	memcpy(b, rfc5769_v4, sizeof(rfc5769_v4));
	b[4] = 0;				/* RFC 3489 (no cookie) */
	CHECK_EQ(stun_parse_response(b, sizeof(rfc5769_v4), rfc5769_v4 + 8, &r), -1);
}

/* MAPPED-ADDRESS counts only without XOR-MAPPED-ADDRESS; OTHER-ADDRESS
 * is read; an error response carries its code. */
TEST(stun_parse_attributes)
{
	uint8_t id[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	uint8_t b[64] = { 0x01, 0x01, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42 };
	uint8_t e[32] = { 0x01, 0x11, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42 };
	struct stun_resp r;

	memcpy(b + 8, id, 12);
	/* MAPPED-ADDRESS 5.6.7.1:4000, OTHER-ADDRESS 5.6.7.3:3479 */
	memcpy(b + 20, (uint8_t[]){ 0x00, 0x01, 0x00, 0x08, 0, 1, 0x0f, 0xa0, 5, 6, 7, 1,
				    0x80, 0x2c, 0x00, 0x08, 0, 1, 0x0d, 0x97, 5, 6, 7, 3 }, 24);
	CHECK_EQ(stun_parse_response(b, 44, id, &r), 0);
	CHECK(r.has_mapped && !r.xor_mapped && r.mapped.s_addr == v4("5.6.7.1").s_addr &&
	      r.mapped_port == 4000);
	CHECK(r.has_other && r.other.s_addr == v4("5.6.7.3").s_addr && r.other_port == 3479);
	memcpy(e + 8, id, 12);
	memcpy(e + 20, (uint8_t[]){ 0x00, 0x09, 0x00, 0x04, 0, 0, 4, 20 }, 8);
	CHECK_EQ(stun_parse_response(e, 28, id, &r), 0);
	CHECK(!r.success && r.error == 420);
	b[3] = 0x0c;			/* a success with no address is no answer */
	memcpy(b + 20, (uint8_t[]){ 0x80, 0x2c, 0x00, 0x08, 0, 1, 0x0d, 0x97, 5, 6, 7, 3 }, 12);
	CHECK_EQ(stun_parse_response(b, 32, id, &r), -1);
}

TEST(stun_request)
{
	uint8_t id[12] = { 9 }, b[32];

	CHECK_EQ(stun_write_request(b, sizeof(b), id, 0), 20);
	CHECK(b[0] == 0 && b[1] == 1 && b[2] == 0 && b[3] == 0 && b[4] == 0x21 && b[8] == 9);
	CHECK_EQ(stun_write_request(b, sizeof(b), id, STUN_CHANGE_IP | STUN_CHANGE_PORT), 28);
	CHECK(b[3] == 8 && b[21] == 3 && b[27] == 6);
	CHECK_EQ(stun_write_request(b, 27, id, STUN_CHANGE_PORT), 0);
	CHECK_STR(stun_filtering_name(STUN_FILTER_ADDRESS_PORT), "address and port dependent filtering");
}
