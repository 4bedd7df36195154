/* test_natpmp.c - NAT-PMP (RFC 6886) handler over the real store and the
 * fake firewall: byte layouts, every opcode and result code, lengths. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "conf.h"
#include "fake_fw.h"
#include "natpmp.h"
#include "pmp.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define C1 "192.168.1.10"
#define C2 "192.168.1.11"

static struct fake_env *
env(void)
{
	return fake_env_pmp(5000);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A map request (§3.3): vers, op, reserved, iport, eport, lifetime. */
static size_t
map_req(uint8_t *b, uint8_t op, uint16_t iport, uint16_t eport, uint32_t lifetime)
{
	memset(b, 0, 12);
	b[1] = op;
	b[4] = (uint8_t)(iport >> 8); b[5] = (uint8_t)iport;
	b[6] = (uint8_t)(eport >> 8); b[7] = (uint8_t)eport;
	b[8] = (uint8_t)(lifetime >> 24); b[9] = (uint8_t)(lifetime >> 16);
	b[10] = (uint8_t)(lifetime >> 8); b[11] = (uint8_t)lifetime;
	return 12;
}

/* Send through the dispatcher; returns its code. */
static int
ask(struct fake_env *e, const char *src, const uint8_t *req, size_t len, uint8_t *resp,
    size_t *rl)
{
	struct in6_addr from = fake_addr(src);

	return pmp_handle(&e->ctx, &from, req, len, resp, rl);
}

TEST(natpmp_external_address_layout)
{
	struct fake_env *e = env();
	uint8_t req[2] = { 0, 0 }, resp[PMP_MAX_DATAGRAM];
	size_t rl;

	CHECK_EQ(ask(e, C1, req, 2, resp, &rl), 1);
	CHECK_EQ(rl, 12);
	CHECK_EQ(resp[0], 0);
	CHECK_EQ(resp[1], 128);
	CHECK_EQ(get16(resp + 2), NATPMP_SUCCESS);
	CHECK(get32(resp + 4) >= 4 && get32(resp + 4) <= 6);	/* seconds since start */
	CHECK_EQ(resp[8], 203); CHECK_EQ(resp[9], 0); CHECK_EQ(resp[10], 113); CHECK_EQ(resp[11], 5);
	/* Trailing bytes are tolerated. */
	{
		uint8_t big[8] = { 0 };
		CHECK_EQ(ask(e, C1, big, sizeof(big), resp, &rl), 1);
		CHECK_EQ(rl, 12);
	}
	/* No external address: result 3 (network failure). */
	e->ctx.ext_addr.s_addr = 0;
	CHECK_EQ(ask(e, C1, req, 2, resp, &rl), 1);
	CHECK_EQ(rl, 12);
	CHECK_EQ(get16(resp + 2), NATPMP_NETWORK_FAILURE);
	CHECK_EQ(get32(resp + 8), 0);
	fake_env_free(e);
}

TEST(natpmp_short_and_response_datagrams)
{
	struct fake_env *e = env();
	uint8_t req[16], resp[PMP_MAX_DATAGRAM];
	size_t rl = 99;

	req[0] = 0;
	CHECK_EQ(ask(e, C1, req, 1, resp, &rl), -1);
	CHECK_EQ(rl, 0);
	CHECK_EQ(ask(e, C1, req, 0, resp, &rl), -1);
	CHECK_EQ(e->ctx.stats.dropped_malformed, 2);
	/* A map request shorter than 12 bytes is dropped and counted. */
	map_req(req, NATPMP_OP_MAP_TCP, 80, 80, 3600);
	CHECK_EQ(ask(e, C1, req, 11, resp, &rl), -1);
	CHECK_EQ(ask(e, C1, req, 4, resp, &rl), -1);
	CHECK_EQ(e->ctx.stats.dropped_malformed, 4);
	CHECK_EQ(store_count(e->s), 0);
	/* §3.5: opcodes >= 128 are responses: ignored, not answered. */
	req[1] = 128;
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 0);
	CHECK_EQ(rl, 0);
	req[1] = 130;
	CHECK_EQ(ask(e, C1, req, 16, resp, &rl), 0);
	fake_env_free(e);
}

TEST(natpmp_unsupported_opcode_and_version)
{
	struct fake_env *e = env();
	uint8_t req[12], resp[PMP_MAX_DATAGRAM];
	size_t rl;

	/* §3.5: the whole request back, opcode | 128, result 5. */
	map_req(req, 3, 1234, 5678, 99);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(rl, 12);
	CHECK_EQ(resp[0], 0);
	CHECK_EQ(resp[1], 131);
	CHECK_EQ(get16(resp + 2), NATPMP_UNSUPP_OPCODE);
	CHECK_EQ(get16(resp + 4), 1234);
	CHECK_EQ(get32(resp + 8), 99);
	/* A 2-byte request with an unknown opcode still gets the 8-byte error. */
	req[1] = 127;
	CHECK_EQ(ask(e, C1, req, 2, resp, &rl), 1);
	CHECK_EQ(rl, 8);
	CHECK_EQ(resp[1], 255);
	CHECK_EQ(get16(resp + 2), NATPMP_UNSUPP_OPCODE);
	CHECK(get32(resp + 4) >= 4);
	/* Version != 0 straight to the NAT-PMP handler: result 1 (§3.5). */
	{
		struct in6_addr from = fake_addr(C1);
		req[0] = 1; req[1] = 0;
		CHECK_EQ(natpmp_handle(&e->ctx, &from, req, 2, resp, &rl), 1);
		CHECK_EQ(rl, 8);
		CHECK_EQ(resp[0], 0);
		CHECK_EQ(resp[1], 128);
		CHECK_EQ(get16(resp + 2), NATPMP_UNSUPP_VERSION);
	}
	/* Through the dispatcher, version 1 is PCP's (RFC 6887 §9). */
	req[0] = 1; req[1] = 0;
	CHECK_EQ(ask(e, C1, req, 2, resp, &rl), 1);
	CHECK_EQ(rl, 24);
	CHECK_EQ(resp[0], 2);
	CHECK_EQ(resp[3], 1);	/* UNSUPP_VERSION */
	fake_env_free(e);
}

TEST(natpmp_map_tcp_layout_and_store)
{
	struct fake_env *e = env();
	uint8_t req[12], resp[PMP_MAX_DATAGRAM];
	size_t rl;
	struct in6_addr c1 = fake_addr(C1);
	struct mapping *m;

	map_req(req, NATPMP_OP_MAP_TCP, 8080, 18080, 3600);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(rl, 16);
	CHECK_EQ(resp[0], 0);
	CHECK_EQ(resp[1], 130);
	CHECK_EQ(get16(resp + 2), NATPMP_SUCCESS);
	CHECK(get32(resp + 4) >= 4);
	CHECK_EQ(get16(resp + 8), 8080);
	CHECK_EQ(get16(resp + 10), 18080);
	CHECK_EQ(get32(resp + 12), 3600);
	m = store_find(e->s, IPPROTO_TCP, 18080, NULL);
	CHECK(m != NULL);
	if (m != NULL) {
		CHECK(memcmp(m->iaddr, &c1, sizeof(c1)) == 0);
		CHECK(memcmp(&m->owner->addr, &c1, sizeof(c1)) == 0);
		CHECK_EQ(m->owner->proto, OWNER_NATPMP);
		CHECK_EQ(m->iport, 8080);
		CHECK_STR(m->desc, "NAT-PMP 8080 tcp");
	}
	CHECK(fake_fw_has(&e->fw, IPPROTO_TCP, 18080, 8080));
	fake_env_free(e);
}

TEST(natpmp_map_udp_port_zero_refresh_and_conflict)
{
	struct fake_env *e = env();
	uint8_t req[12], resp[PMP_MAX_DATAGRAM];
	size_t rl;
	uint16_t other;

	/* External port 0 = no preference: the internal port is tried. */
	map_req(req, NATPMP_OP_MAP_UDP, 5000, 0, 600);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(resp[1], 129);
	CHECK_EQ(get16(resp + 2), 0);
	CHECK_EQ(get16(resp + 10), 5000);
	CHECK(store_find(e->s, IPPROTO_UDP, 5000, NULL) != NULL);
	/* Same client, same internal port, other suggestion: the existing
	 * mapping, refreshed. */
	map_req(req, NATPMP_OP_MAP_UDP, 5000, 7000, 900);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 10), 5000);
	CHECK_EQ(get32(resp + 12), 900);
	CHECK_EQ(store_count(e->s), 1);
	/* Another client wanting 5000 gets another port. */
	map_req(req, NATPMP_OP_MAP_UDP, 5000, 5000, 600);
	CHECK_EQ(ask(e, C2, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), 0);
	other = get16(resp + 10);
	CHECK(other != 5000 && other != 0);
	CHECK_EQ(store_count(e->s), 2);
	/* The other protocol is a different key: TCP 5000 is free. */
	map_req(req, NATPMP_OP_MAP_TCP, 5000, 5000, 600);
	CHECK_EQ(ask(e, C2, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 10), 5000);
	fake_env_free(e);
}

TEST(natpmp_lifetime_clamped)
{
	struct fake_env *e = env();
	uint8_t req[12], resp[PMP_MAX_DATAGRAM];
	size_t rl;

	map_req(req, NATPMP_OP_MAP_TCP, 2000, 2000, 10);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get32(resp + 12), 120);
	map_req(req, NATPMP_OP_MAP_TCP, 2001, 2001, 1000000);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get32(resp + 12), 86400);
	fake_env_free(e);
}

TEST(natpmp_delete_one_and_all)
{
	struct fake_env *e = env();
	uint8_t req[12], resp[PMP_MAX_DATAGRAM];
	size_t rl;

	map_req(req, NATPMP_OP_MAP_TCP, 3000, 3000, 600);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	map_req(req, NATPMP_OP_MAP_TCP, 3001, 3001, 600);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	map_req(req, NATPMP_OP_MAP_UDP, 3000, 3000, 600);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(store_count(e->s), 3);
	/* §3.4: lifetime 0 deletes; the answer has external port 0 and
	 * lifetime 0. */
	map_req(req, NATPMP_OP_MAP_TCP, 3000, 3000, 0);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(rl, 16);
	CHECK_EQ(get16(resp + 2), 0);
	CHECK_EQ(get16(resp + 8), 3000);
	CHECK_EQ(get16(resp + 10), 0);
	CHECK_EQ(get32(resp + 12), 0);
	CHECK(store_find(e->s, IPPROTO_TCP, 3000, NULL) == NULL);
	CHECK(!fake_fw_has(&e->fw, IPPROTO_TCP, 3000, 3000));
	/* Deleting what does not exist is success. */
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), 0);
	/* Another client cannot delete C1's mapping: it has none of its own. */
	map_req(req, NATPMP_OP_MAP_TCP, 3001, 0, 0);
	CHECK_EQ(ask(e, C2, req, 12, resp, &rl), 1);
	CHECK(store_find(e->s, IPPROTO_TCP, 3001, NULL) != NULL);
	/* Internal port 0, lifetime 0: all of this client's TCP mappings. */
	map_req(req, NATPMP_OP_MAP_TCP, 0, 0, 0);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), 0);
	CHECK(store_find(e->s, IPPROTO_TCP, 3001, NULL) == NULL);
	CHECK(store_find(e->s, IPPROTO_UDP, 3000, NULL) != NULL);
	fake_env_free(e);
}

TEST(natpmp_result_codes_refused_network_resources)
{
	struct fake_env *e = env();
	uint8_t req[12], resp[PMP_MAX_DATAGRAM];
	size_t rl;
	struct mapping up = fake_req(IPPROTO_TCP, 4000, C1, 4000, "upnp", OWNER_UPNP);
	struct perm_rule rules[2];
	char msg[128];

	/* A UPnP mapping of the same client is not NAT-PMP's to delete. */
	CHECK_EQ(store_add(e->s, &up, 0, 0, NULL), ST_OK);
	map_req(req, NATPMP_OP_MAP_TCP, 4000, 0, 0);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_REFUSED);
	CHECK(store_find(e->s, IPPROTO_TCP, 4000, NULL) != NULL);
	/* Internal port 0 with a lifetime: refused. */
	map_req(req, NATPMP_OP_MAP_TCP, 0, 0, 60);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_REFUSED);
	CHECK_EQ(get32(resp + 12), 0);
	/* Permission rules deny every port to C2: result 2. */
	CHECK_EQ(conf_parse_perm(&rules[0], "deny 0-65535 192.168.1.11/32 0-65535", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_perm(&rules[1], "allow 0-65535 0.0.0.0/0 0-65535", msg, sizeof(msg)), 0);
	e->ctx.cfg.perms = rules;
	e->ctx.cfg.n_perms = 2;
	map_req(req, NATPMP_OP_MAP_TCP, 2222, 2222, 60);
	CHECK_EQ(ask(e, C2, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_REFUSED);
	CHECK(store_find(e->s, IPPROTO_TCP, 2222, NULL) == NULL);
	e->ctx.cfg.perms = NULL;
	e->ctx.cfg.n_perms = 0;
	/* No external address: result 3, nothing stored. */
	e->ctx.ext_addr.s_addr = 0;
	map_req(req, NATPMP_OP_MAP_UDP, 4001, 4001, 60);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_NETWORK_FAILURE);
	CHECK(store_find(e->s, IPPROTO_UDP, 4001, NULL) == NULL);
	inet_pton(AF_INET, "203.0.113.5", &e->ctx.ext_addr);
	/* Per-client quota: result 4 (out of resources). */
	e->ctx.cfg.max_mappings_per_client = 2;
	map_req(req, NATPMP_OP_MAP_UDP, 4002, 4002, 60);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_SUCCESS);
	map_req(req, NATPMP_OP_MAP_UDP, 4003, 4003, 60);
	CHECK_EQ(ask(e, C1, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_NO_RESOURCES);
	e->ctx.cfg.max_mappings_per_client = 0;
	/* The kernel refuses: result 4. */
	e->fw.fail_add = 1;
	map_req(req, NATPMP_OP_MAP_UDP, 4004, 4004, 60);
	CHECK_EQ(ask(e, C2, req, 12, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_NO_RESOURCES);
	fake_env_free(e);
}
