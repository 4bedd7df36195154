/* test_pcp_update.c - unsolicited PCP MAP responses (RFC 6887 §14.2) and
 * the client-port table they are sent to; the external address from the
 * interface (link down = no usable address). */
#include <arpa/inet.h>
#include <string.h>

#include "fake_fw.h"
#include "iface.h"
#include "pcp.h"
#include "pcp_update.h"
#include "pmp.h"
#include "store.h"
#include "unit.h"
#include "util.h"

TEST(pcp_map_update_response)
{
	struct fake_env *e = fake_env_pmp(7000);
	struct mapping r = fake_req(IPPROTO_UDP, 9203, "192.168.1.10", 9300, "p", OWNER_PCP);
	struct mapping *m = NULL;
	uint8_t buf[PCP_MAX_LEN];
	struct mapping_owner ow = *r.owner;
	struct in6_addr ext;
	size_t n;

	memcpy(ow.nonce, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12);
	r.owner = &ow;
	CHECK_EQ(store_add(e->s, &r, 600, 0, &m), ST_OK);
	CHECK(m != NULL);
	inet_pton(AF_INET, "198.51.100.7", &e->ctx.ext_addr);
	n = pcp_map_update(&e->ctx, m, buf, sizeof(buf));
	CHECK_EQ(n, 60);
	CHECK(buf[0] == 2 && buf[1] == 0x81 && buf[3] == 0);	/* MAP response, SUCCESS */
	CHECK(((uint32_t)buf[4] << 24 | buf[5] << 16 | buf[6] << 8 | buf[7]) > 590);
	CHECK(memcmp(buf + 24, ow.nonce, 12) == 0);
	CHECK(buf[36] == IPPROTO_UDP);
	CHECK(buf[40] == (9300 >> 8) && buf[41] == (9300 & 255));
	CHECK(buf[42] == (9203 >> 8) && buf[43] == (9203 & 255));
	addr_from_v4(&ext, e->ctx.ext_addr);
	CHECK(memcmp(buf + 44, &ext, 16) == 0);
	/* a mapping made for another host and restricted to one peer
	 * carries THIRD_PARTY and FILTER, as its responses did */
	{
		struct mapping t = fake_req(IPPROTO_TCP, 9204, "192.168.1.11", 9301, "t", OWNER_PCP), *tm;
		struct mapping_owner tow = *t.owner;
		struct in6_addr peer;

		addr_parse("192.168.1.10", &tow.addr);
		t.owner = &tow;
		addr_parse("203.0.113.5", &peer);
		t.rhost = &peer;
		CHECK_EQ(store_add(e->s, &t, 600, STORE_F_THIRD_PARTY, &tm), ST_OK);
		n = pcp_map_update(&e->ctx, tm, buf, sizeof(buf));
		CHECK_EQ(n, 60 + 20 + 24);
		CHECK(buf[60] == 1 && buf[62] == 0 && buf[63] == 16);	/* THIRD_PARTY */
		CHECK(memcmp(buf + 64, tm->iaddr, 16) == 0);
		CHECK(buf[80] == 3 && buf[82] == 0 && buf[83] == 20);	/* FILTER */
		CHECK(buf[85] == 128 && buf[86] == 0 && buf[87] == 0);
		CHECK(memcmp(buf + 88, &peer, 16) == 0);
	}
	/* no address, not PCP's, no room: nothing */
	e->ctx.ext_addr.s_addr = 0;
	CHECK_EQ(pcp_map_update(&e->ctx, m, buf, sizeof(buf)), 0);
	inet_pton(AF_INET, "198.51.100.7", &e->ctx.ext_addr);
	CHECK_EQ(pcp_map_update(&e->ctx, m, buf, 59), 0);
	{
		struct mapping cp = *m;
		struct mapping_owner o = *m->owner;

		o.proto = OWNER_NATPMP;
		cp.owner = &o;
		CHECK_EQ(pcp_map_update(&e->ctx, &cp, buf, sizeof(buf)), 0);
	}
	fake_env_free(e);
}

TEST(pcp_update_client_ports)
{
	static const uint8_t n1[PCP_NONCE_LEN] = { 1 }, n2[PCP_NONCE_LEN] = { 2 };
	struct igdd_ctx ctx;
	struct in6_addr a, b;
	unsigned k;

	memset(&ctx, 0, sizeof(ctx));
	CHECK_EQ(pcp_update_init(&ctx, pmp_sendto), 0);
	addr_parse("192.168.1.10", &a);
	addr_parse("192.168.1.11", &b);
	CHECK_EQ(pcp_update_port(&ctx, &a, n1), 0);
	pcp_update_note(&ctx, &a, n1, 40999);
	pcp_update_note(&ctx, &b, n1, 5350);
	pcp_update_note(&ctx, &a, n1, 41000);	/* the latest port wins */
	pcp_update_note(&ctx, &a, n2, 42000);	/* a second client on host a */
	CHECK_EQ(pcp_update_port(&ctx, &a, n1), 41000);
	CHECK_EQ(pcp_update_port(&ctx, &a, n2), 42000);
	CHECK_EQ(pcp_update_port(&ctx, &b, n1), 5350);
	CHECK_EQ(pcp_update_port(&ctx, &b, n2), 0);
	/* a full table drops the least recently seen client (b), not a */
	for (k = 0; k < PCP_UPDATE_CLIENTS - 2; k++) {
		struct in6_addr c;
		char s[32];
		str_printf(s, sizeof(s), "10.0.%u.%u", k / 256, k % 256);
		addr_parse(s, &c);
		pcp_update_note(&ctx, &c, n1, 1000);
		if (k == 10) {
			pcp_update_note(&ctx, &a, n1, 41000);
			pcp_update_note(&ctx, &a, n2, 42000);
		}
	}
	CHECK_EQ(pcp_update_port(&ctx, &a, n1), 41000);
	CHECK_EQ(pcp_update_port(&ctx, &a, n2), 42000);
	CHECK_EQ(pcp_update_port(&ctx, &b, n1), 0);
	pcp_update_shutdown(&ctx);
}

TEST(iface_link_state_decides_the_external_address)
{
	struct igdd_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	/* lo exists and is up in any namespace */
	str_copy(ctx.cfg.ext_ifname, sizeof(ctx.cfg.ext_ifname), "lo");
	ctx.cfg.ext_allow_private_ipv4 = true;
	CHECK(iface_refresh_ext(&ctx));
	CHECK(ctx.ext_up);
	CHECK_EQ(ntohl(ctx.ext_addr.s_addr), 0x7f000001u);
	CHECK(!iface_refresh_ext(&ctx));		/* nothing changed */
	/* ext_ip is reported while the interface is up or unknown */
	ctx.cfg.has_ext_ip = true;
	inet_pton(AF_INET, "1.2.3.4", &ctx.cfg.ext_ip);
	CHECK(iface_refresh_ext(&ctx));
	CHECK(ctx.ext_up && ctx.ext_addr.s_addr == ctx.cfg.ext_ip.s_addr);
	str_copy(ctx.cfg.ext_ifname, sizeof(ctx.cfg.ext_ifname), "igdd-no-such0");
	CHECK(!iface_refresh_ext(&ctx));
	CHECK(ctx.ext_up && ctx.ext_addr.s_addr == ctx.cfg.ext_ip.s_addr);
	/* without ext_ip, a missing interface has no usable address */
	ctx.cfg.has_ext_ip = false;
	CHECK(iface_refresh_ext(&ctx));
	CHECK(!ctx.ext_up && ctx.ext_addr.s_addr == 0);
}

static struct {
	struct in_addr dst;
	uint16_t port;
	uint8_t buf[PCP_NOTICE_LEN];
	size_t len;
	uint64_t at;
} sent[8];
static unsigned n_sent;

static int
capture(struct igdd_ctx *ctx, struct in_addr dst, uint16_t port, const uint8_t *buf, size_t len)
{
	(void)ctx;
	if (n_sent < 8 && len <= PCP_NOTICE_LEN) {
		sent[n_sent].dst = dst;
		sent[n_sent].port = port;
		memcpy(sent[n_sent].buf, buf, len);
		sent[n_sent].len = len;
		sent[n_sent].at = time_mono_ms();
	}
	n_sent++;
	return 0;
}

/* A PCP client's mapping that the configuration removes (a permission
 * rule of a reload) gets NOT_AUTHORIZED three times at the port its
 * request came from (§8.3, §14.2: 250 ms, then 500 ms apart); a NAT-PMP
 * mapping removed with it gets nothing (RFC 6886 has no such message); a
 * client whose LAN is no longer served cannot be told (no socket). */
TEST(pcp_update_removal_notices)
{
	struct fake_env *e = fake_env_pmp(7000);
	struct mapping r = fake_req(IPPROTO_UDP, 9203, "192.168.1.10", 9300, "p", OWNER_PCP);
	struct mapping n = fake_req(IPPROTO_UDP, 9204, "192.168.1.10", 9301, "n", OWNER_NATPMP);
	struct mapping_owner ow = *r.owner;
	struct perm_rule deny;
	uint64_t end;

	memcpy(ow.nonce, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12);
	r.owner = &ow;
	n_sent = 0;
	CHECK_EQ(pcp_update_init(&e->ctx, capture), 0);
	pcp_update_note(&e->ctx, &ow.addr, ow.nonce, 41000);
	CHECK_EQ(store_add(e->s, &r, 600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &n, 600, 0, NULL), ST_OK);
	memset(&deny, 0, sizeof(deny));		/* deny 0-65535 0.0.0.0/0 0-65535 */
	deny.eport_max = deny.iport_max = 65535;
	e->ctx.cfg.perms = &deny;
	e->ctx.cfg.n_perms = 1;
	CHECK_EQ(store_recheck(e->s), 2);
	CHECK_EQ(pcp_update_notices(&e->ctx), 1);
	CHECK_EQ(n_sent, 0);			/* from the loop, not the reload */
	for (end = time_mono_ms() + 3000; pcp_update_notices(&e->ctx) > 0 && time_mono_ms() < end;)
		loop_once(&e->ctx.loop, 100);
	CHECK_EQ(pcp_update_notices(&e->ctx), 0);
	CHECK_EQ(n_sent, 3);
	CHECK_EQ(sent[0].port, 41000);
	CHECK_EQ(ntohl(sent[0].dst.s_addr), 0xc0a8010au);
	CHECK_EQ(sent[0].len, 60);
	CHECK(sent[0].buf[0] == 2 && sent[0].buf[1] == 0x81 && sent[0].buf[3] == PCP_NOT_AUTHORIZED);
	CHECK_EQ((uint32_t)sent[0].buf[4] << 24 | sent[0].buf[5] << 16 | sent[0].buf[6] << 8 |
		 sent[0].buf[7], pcp_error_lifetime(PCP_NOT_AUTHORIZED));
	CHECK(memcmp(sent[0].buf + 24, ow.nonce, 12) == 0);
	CHECK(sent[0].buf[36] == IPPROTO_UDP);
	CHECK(sent[0].buf[40] == (9300 >> 8) && sent[0].buf[41] == (9300 & 255));
	CHECK(memcmp(sent[1].buf, sent[0].buf, 60) == 0 && memcmp(sent[2].buf, sent[0].buf, 60) == 0);
	CHECK(sent[1].at - sent[0].at >= 250);
	CHECK(sent[2].at - sent[1].at >= 500);
	/* its LAN no longer served: nothing queued */
	e->ctx.cfg.perms = NULL;
	e->ctx.cfg.n_perms = 0;
	CHECK_EQ(store_add(e->s, &r, 600, 0, NULL), ST_OK);
	e->ctx.lan[0].gone = true;
	CHECK_EQ(store_recheck(e->s), 1);
	CHECK_EQ(pcp_update_notices(&e->ctx), 0);
	pcp_update_shutdown(&e->ctx);
	e->ctx.lan[0].gone = false;
	fake_env_free(e);
}
