/* test_ssdp.c - M-SEARCH parsing, search-target matching, max-age. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "desc.h"
#include "ssdp.h"
#include "unit.h"

/* CHECK_EQ on a long expression, without quoting all of it. */
#define CHECK_RC(expr, want) do { long long rc_ = (long long)(expr); CHECK_EQ(rc_, want); } while (0)
#include "util.h"

static int
parse(const char *s, struct ssdp_request *r)
{
	return ssdp_parse(s, strlen(s), r);
}

TEST(ssdp_parse_msearch)
{
	struct ssdp_request r;

	/* as upnpc sends it */
	CHECK_RC(parse("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
		       "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
		       "MAN: \"ssdp:discover\"\r\nMX: 2\r\n\r\n", &r), 0);
	CHECK(r.st_len == 51 && memcmp(r.st, "urn:schemas-upnp-org:device:InternetGatewayDevice:1", 51) == 0);
	CHECK_EQ(r.mx, 2);
	/* any case, no space, missing final empty line, extra headers */
	CHECK_RC(parse("M-SEARCH * HTTP/1.1\nst:ssdp:all\nmx:abc\nUSER-AGENT: x\nman:ssdp:discover", &r), 0);
	CHECK_EQ(r.mx, -1);
	CHECK(r.st_len == 8 && memcmp(r.st, "ssdp:all", 8) == 0);
	CHECK_RC(parse("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\nMX: 0\r\n\r\n", &r), 0);
	CHECK_EQ(r.mx, 0);
	/* not ours */
	CHECK_RC(parse("NOTIFY * HTTP/1.1\r\nNT: x\r\n\r\n", &r), -1);
	CHECK_RC(parse("M-SEARCH * HTTP/1.1\r\nMX: 1\r\n\r\n", &r), -1);
	CHECK_RC(parse("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\nMAN: \"ssdp:other\"\r\n\r\n", &r), -1);
	CHECK_RC(parse("", &r), -1);
	CHECK_RC(ssdp_parse("M-SEARCH * HTTP/1.1\r\nST: a\0b\r\n", 26, &r), 0);
}

TEST(ssdp_parse_hostile)
{
	struct ssdp_request r;
	char *b = malloc(65536);
	size_t n;

	if (b == NULL)
		return;
	/* ST of 1,400 ':' */
	n = (size_t)snprintf(b, 65536, "M-SEARCH * HTTP/1.1\r\nST: ");
	memset(b + n, ':', 1400);
	memcpy(b + n + 1400, "\r\nMX: 1\r\n\r\n", 11);
	CHECK_RC(ssdp_parse(b, n + 1411, &r), 0);
	CHECK_EQ(r.st_len, 1400);
	/* 64 KiB of junk and NULs */
	memset(b, 0, 65536);
	CHECK_RC(ssdp_parse(b, 65536, &r), -1);
	memcpy(b, "M-SEARCH * HTTP/1.1\r\n", 21);
	memset(b + 21, '\n', 65536 - 21);
	CHECK_RC(ssdp_parse(b, 65536, &r), -1);
	free(b);
}

struct collect {
	int n;
	char st[12][256];
	char usn[12][256];
};

static void
collect(const char *st, const char *usn, void *arg)
{
	struct collect *c = arg;

	if (c->n < 12) {
		str_copy(c->st[c->n], sizeof(c->st[0]), st);
		str_copy(c->usn[c->n], sizeof(c->usn[0]), usn);
	}
	c->n++;
}

static size_t
match(struct igdd_ctx *ctx, const char *st, struct collect *c)
{
	memset(c, 0, sizeof(*c));
	return ssdp_match(ctx, desc_igd_version(ctx), st, strlen(st), collect, c);
}

TEST(ssdp_match_targets)
{
	struct igdd_ctx ctx;
	struct ssdp_target t[SSDP_MAX_TARGETS];
	struct collect c;
	char colons[1401];

	memset(&ctx, 0, sizeof(ctx));
	str_copy(ctx.uuid, sizeof(ctx.uuid), "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b");
	/* 3 + 2d + k = 3 + 4 + 3 */
	CHECK_EQ(ssdp_targets(&ctx, 2, t), 10);
	CHECK_EQ(match(&ctx, "ssdp:all", &c), 10);
	CHECK_EQ(match(&ctx, "upnp:rootdevice", &c), 1);
	CHECK_STR(c.usn[0], "uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b::upnp:rootdevice");
	CHECK_EQ(match(&ctx, "uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b", &c), 1);
	CHECK_STR(c.usn[0], "uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b");
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:device:InternetGatewayDevice:2", &c), 1);
	/* older version: answered, naming the version asked (UDA 1.1 1.3.2) */
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:device:InternetGatewayDevice:1", &c), 1);
	CHECK_STR(c.st[0], "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	CHECK_STR(c.usn[0], "uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b::"
		  "urn:schemas-upnp-org:device:InternetGatewayDevice:1");
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:service:WANIPConnection:1", &c), 1);
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:service:WANIPConnection:2", &c), 1);
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:service:WANIPConnection:3", &c), 0);
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1", &c), 1);
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:service:Layer3Forwarding:1", &c), 1);
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:device:WANDevice:1", &c), 1);
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:device:MediaServer:1", &c), 0);
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:service:WANIPConnection:", &c), 0);
	CHECK_EQ(match(&ctx, ":", &c), 0);
	memset(colons, ':', 1400);
	colons[1400] = '\0';
	CHECK_EQ(match(&ctx, colons, &c), 0);
	CHECK_EQ(ssdp_match(&ctx, 2, "ssdp:all\0x", 10, collect, &c), 0);
	ctx.cfg.force_igd_desc_v1 = true;
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:device:InternetGatewayDevice:2", &c), 0);
	CHECK_EQ(match(&ctx, "urn:schemas-upnp-org:device:InternetGatewayDevice:1", &c), 1);
}

/* A control point that fails on IGD:2 (by its USER-AGENT) is answered as
 * an IGD:1 device, as its descriptions will say; others get IGD:2. */
TEST(ssdp_igd1_by_user_agent)
{
	static const char msearch[] =
		"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
		"MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n"
		"USER-AGENT: Microsoft-Windows/10.0 UPnP/1.0\r\n\r\n";
	struct igdd_ctx ctx;
	struct ssdp_request r;
	struct collect c;
	unsigned ver;
	int i;

	memset(&ctx, 0, sizeof(ctx));
	str_copy(ctx.uuid, sizeof(ctx.uuid), "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b");
	ctx.cfg.igd_v1_by_user_agent = true;
	CHECK_EQ(ssdp_parse(msearch, sizeof(msearch) - 1, &r), 0);
	CHECK(r.user_agent != NULL && r.user_agent_len == 31);
	ver = desc_igd_version_for(&ctx, r.user_agent, r.user_agent_len);
	CHECK_EQ(ver, 1);
	memset(&c, 0, sizeof(c));
	CHECK_EQ(ssdp_match(&ctx, ver, "ssdp:all", 8, collect, &c), 10);
	for (i = 0; i < 10; i++)
		CHECK(strstr(c.st[i], ":2") == NULL);
	memset(&c, 0, sizeof(c));
	CHECK_EQ(ssdp_match(&ctx, ver, "urn:schemas-upnp-org:device:InternetGatewayDevice:2", 51,
			    collect, &c), 0);
	/* the key off: IGD:2 for everyone */
	ctx.cfg.igd_v1_by_user_agent = false;
	CHECK_EQ(desc_igd_version_for(&ctx, r.user_agent, r.user_agent_len), 2);
	/* no USER-AGENT: IGD:2 */
	ctx.cfg.igd_v1_by_user_agent = true;
	CHECK_EQ(ssdp_parse("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n", 38, &r), 0);
	CHECK(r.user_agent == NULL);
	CHECK_EQ(desc_igd_version_for(&ctx, r.user_agent, r.user_agent_len), 2);
}

TEST(ssdp_max_age_bounds)
{
	CHECK_EQ(ssdp_max_age(900), 1810);
	CHECK_EQ(ssdp_max_age(30), 120);
	CHECK_EQ(ssdp_max_age(0), 120);
	CHECK_EQ(ssdp_max_age(4000000000u), 86400);
}


/* Which multicast searches are answered after a random delay: only those
 * every device answers (ssdp:all, upnp:rootdevice); the gateway's own
 * types and UUID are answered at once. */
TEST(ssdp_spread_only_for_searches_every_device_answers)
{
	CHECK(ssdp_spread("ssdp:all", 8));
	CHECK(ssdp_spread("upnp:rootdevice", 15));
	CHECK(!ssdp_spread("urn:schemas-upnp-org:device:InternetGatewayDevice:1", 51));
	CHECK(!ssdp_spread("urn:schemas-upnp-org:service:WANIPConnection:2", 46));
	CHECK(!ssdp_spread("uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b", 41));
	CHECK(!ssdp_spread("ssdp:allx", 9));
	CHECK(!ssdp_spread("ssdp:al", 7));
}
