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
