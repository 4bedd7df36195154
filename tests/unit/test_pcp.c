/* test_pcp.c - PCP (RFC 6887) handler over the real store and the fake
 * firewall: header checks, every result code, MAP/PEER/ANNOUNCE, options. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "conf.h"
#include "fake_fw.h"
#include "fake_sync.h"
#include "pcp.h"
#include "pmp.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define C1 "192.168.1.10"
#define C2 "192.168.1.11"

static const uint8_t NONCE_A[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
static const uint8_t NONCE_B[12] = { 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 };

static struct fake_env *
env(void)
{
	return fake_env_pmp(7000);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Common header (§7.1). */
static size_t
hdr(uint8_t *b, uint8_t op, uint32_t lifetime, const char *client)
{
	struct in6_addr a = fake_addr(client);

	memset(b, 0, PCP_HDR_LEN);
	b[0] = 2;
	b[1] = op;
	put32(b + 4, lifetime);
	memcpy(b + 8, &a, 16);
	return PCP_HDR_LEN;
}

/* MAP request (§11.1) with no options. */
static size_t
map(uint8_t *b, const char *client, const uint8_t *nonce, uint8_t proto, uint16_t iport,
    uint16_t eport, uint32_t lifetime, const char *ext)
{
	size_t n = hdr(b, PCP_OP_MAP, lifetime, client);
	struct in6_addr x;

	memset(&x, 0, sizeof(x));
	if (ext != NULL)
		x = fake_addr(ext);
	memcpy(b + n, nonce, 12);
	b[n + 12] = proto;
	b[n + 13] = b[n + 14] = b[n + 15] = 0;
	put16(b + n + 16, iport);
	put16(b + n + 18, eport);
	memcpy(b + n + 20, &x, 16);
	return n + 36;
}

/* Append an option; returns the new length. */
static size_t
opt(uint8_t *b, size_t n, uint8_t code, const void *data, uint16_t len)
{
	size_t padded = ((size_t)len + 3) & ~(size_t)3;

	b[n] = code;
	b[n + 1] = 0;
	put16(b + n + 2, len);
	memset(b + n + 4, 0, padded);
	if (len > 0)
		memcpy(b + n + 4, data, len);
	return n + 4 + padded;
}

static size_t
filter(uint8_t *b, size_t n, uint8_t prefix, uint16_t rport, const char *peer)
{
	uint8_t d[20];
	struct in6_addr a = fake_addr(peer);

	d[0] = 0;
	d[1] = prefix;
	put16(d + 2, rport);
	memcpy(d + 4, &a, 16);
	return opt(b, n, PCP_OPT_FILTER, d, 20);
}

static int
ask(struct fake_env *e, const char *src, const uint8_t *req, size_t len, uint8_t *resp,
    size_t *rl)
{
	struct in6_addr from = fake_addr(src);

	return pmp_handle(&e->ctx, &from, req, len, resp, rl);
}

/* Ask and return the result code (-1 when there is no answer). */
static int
result(struct fake_env *e, const char *src, const uint8_t *req, size_t len, uint8_t *resp,
       size_t *rl)
{
	if (ask(e, src, req, len, resp, rl) != 1 || *rl < PCP_HDR_LEN)
		return -1;
	return resp[3];
}

TEST(pcp_drop_short_and_responses)
{
	struct fake_env *e = env();
	uint8_t req[64], resp[PMP_MAX_DATAGRAM];
	size_t rl = 5;

	req[0] = 2;
	CHECK_EQ(ask(e, C1, req, 1, resp, &rl), -1);
	CHECK_EQ(rl, 0);
	CHECK_EQ(counters_drops(&e->ctx.counters, CTR_PCP, CTR_DROP_MALFORMED), 1);
	/* R bit set: silently dropped (§8.3). */
	hdr(req, PCP_R_BIT | PCP_OP_MAP, 0, C1);
	CHECK_EQ(ask(e, C1, req, 24, resp, &rl), 0);
	CHECK_EQ(rl, 0);
	fake_env_free(e);
}

TEST(pcp_unsupp_version)
{
	struct fake_env *e = env();
	uint8_t req[60], resp[PMP_MAX_DATAGRAM];
	size_t rl;
	uint8_t v;

	for (v = 1; v != 0; v = v == 1 ? 3 : v == 3 ? 255 : 0) {
		map(req, C1, NONCE_A, IPPROTO_TCP, 80, 80, 600, NULL);
		req[0] = v;
		CHECK_EQ(result(e, C1, req, 60, resp, &rl), PCP_UNSUPP_VERSION);
		CHECK_EQ(rl, 24);
		CHECK_EQ(resp[0], 2);		/* the version we speak (§9) */
		CHECK_EQ(resp[1], PCP_R_BIT | PCP_OP_MAP);
		CHECK_EQ(get32(resp + 4), PCP_LONG_LIFETIME);
		CHECK(get32(resp + 8) >= 6 && get32(resp + 8) <= 8);
	}
	/* Even a 2-byte version-1 datagram gets the 24-byte answer. */
	req[0] = 1; req[1] = 0;
	CHECK_EQ(result(e, C1, req, 2, resp, &rl), PCP_UNSUPP_VERSION);
	CHECK_EQ(rl, 24);
	CHECK_EQ(store_count(e->s), 0);
	fake_env_free(e);
}

TEST(pcp_malformed_lengths)
{
	struct fake_env *e = env();
	uint8_t req[1200], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;

	memset(req, 0, sizeof(req));
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 80, 80, 600, NULL);
	/* not a multiple of 4 */
	CHECK_EQ(result(e, C1, req, n + 1, resp, &rl), PCP_MALFORMED_REQUEST);
	CHECK_EQ(rl, n);
	CHECK(memcmp(resp + 24, NONCE_A, 12) == 0);	/* request copied (§8.3) */
	CHECK_EQ(get32(resp + 4), PCP_LONG_LIFETIME);
	/* shorter than the header */
	CHECK_EQ(result(e, C1, req, 20, resp, &rl), PCP_MALFORMED_REQUEST);
	CHECK_EQ(rl, 24);
	CHECK_EQ(result(e, C1, req, 2, resp, &rl), PCP_MALFORMED_REQUEST);
	/* longer than 1100 */
	CHECK_EQ(result(e, C1, req, 1104, resp, &rl), PCP_MALFORMED_REQUEST);
	CHECK_EQ(rl, 1100);
	/* MAP with its opcode data cut short */
	CHECK_EQ(result(e, C1, req, 24 + 32, resp, &rl), PCP_MALFORMED_REQUEST);
	CHECK_EQ(rl, 56);
	CHECK_EQ(store_count(e->s), 0);
	fake_env_free(e);
}

TEST(pcp_address_mismatch_and_opcodes)
{
	struct fake_env *e = env();
	uint8_t req[128], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;

	n = map(req, C2, NONCE_A, IPPROTO_TCP, 80, 80, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_ADDRESS_MISMATCH);
	CHECK_EQ(get32(resp + 4), PCP_LONG_LIFETIME);
	CHECK_EQ(rl, n);
	/* an IPv6 client address on IPv4 transport is a mismatch too */
	n = map(req, "2001:db8::1", NONCE_A, IPPROTO_TCP, 80, 80, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_ADDRESS_MISMATCH);
	/* unknown opcode: UNSUPP_OPCODE, request body copied */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 80, 80, 600, NULL);
	req[1] = 5;
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_UNSUPP_OPCODE);
	CHECK_EQ(resp[1], PCP_R_BIT | 5);
	CHECK_EQ(rl, n);
	CHECK(memcmp(resp + 24, req + 24, n - 24) == 0);
	/* PEER with no internal port and no peer: MALFORMED_REQUEST, the
	 * request body copied (pcp_peer below has the rest) */
	n = hdr(req, PCP_OP_PEER, 600, C1);
	memset(req + n, 0, 56);
	memcpy(req + n, NONCE_A, 12);
	req[n + 12] = IPPROTO_TCP;
	n += 56;
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_REQUEST);
	CHECK_EQ(rl, n);
	CHECK_EQ(resp[1], PCP_R_BIT | PCP_OP_PEER);
	CHECK(memcmp(resp + 24, NONCE_A, 12) == 0);
	CHECK_EQ(store_count(e->s), 0);
	fake_env_free(e);
}

TEST(pcp_announce)
{
	struct fake_env *e = env();
	uint8_t req[64], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	static const uint8_t zero[12];

	n = hdr(req, PCP_OP_ANNOUNCE, 0, C1);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(rl, 24);
	CHECK_EQ(resp[0], 2);
	CHECK_EQ(resp[1], 0x80);
	CHECK_EQ(resp[2], 0);
	CHECK_EQ(get32(resp + 4), 0);
	CHECK(get32(resp + 8) >= 6 && get32(resp + 8) <= 8);
	CHECK(memcmp(resp + 12, zero, 12) == 0);
	/* an optional unknown option is ignored; a mandatory one is not */
	n = opt(req, 24, 200, "ab", 2);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	n = opt(req, 24, 99, NULL, 0);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_UNSUPP_OPTION);
	/* THIRD_PARTY is not valid for ANNOUNCE: MALFORMED_OPTION (§7.3) */
	{
		struct in6_addr a = fake_addr(C2);
		n = opt(req, 24, PCP_OPT_THIRD_PARTY, &a, 16);
		CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	}
	/* the unsolicited form */
	CHECK_EQ(pcp_announce(&e->ctx, resp, sizeof(resp)), 24);
	CHECK_EQ(resp[1], 0x80);
	CHECK_EQ(resp[3], 0);
	CHECK_EQ(pcp_announce(&e->ctx, resp, 10), 0);
	fake_env_free(e);
}

TEST(pcp_map_create_layout_refresh_delete)
{
	struct fake_env *e = env();
	uint8_t req[128], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	struct in6_addr ext = fake_addr("203.0.113.5"), c1 = fake_addr(C1);
	struct mapping *m;

	n = map(req, C1, NONCE_A, IPPROTO_TCP, 8000, 8000, 3600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(rl, 60);
	CHECK_EQ(resp[0], 2);
	CHECK_EQ(resp[1], 0x81);
	CHECK_EQ(get32(resp + 4), 3600);
	CHECK(memcmp(resp + 24, NONCE_A, 12) == 0);
	CHECK_EQ(resp[36], IPPROTO_TCP);
	CHECK_EQ(get16(resp + 40), 8000);
	CHECK_EQ(get16(resp + 42), 8000);
	CHECK(memcmp(resp + 44, &ext, 16) == 0);	/* v4-mapped external address */
	m = store_find(e->s, IPPROTO_TCP, 8000, NULL);
	CHECK(m != NULL);
	if (m != NULL) {
		CHECK_EQ(m->owner->proto, OWNER_PCP);
		CHECK(memcmp(m->owner->nonce, NONCE_A, 12) == 0);
		CHECK(memcmp(m->iaddr, &c1, 16) == 0);
		char d[MAPPING_DESC_GEN_MAX];

		CHECK_STR(mapping_desc(m, d), "PCP 8000 TCP");
		CHECK(m->desc == mapping_desc_tags[MAPPING_DESC_PCP]);	/* not stored */
	}
	CHECK(fake_fw_has(&e->fw, IPPROTO_TCP, 8000, 8000));
	/* refresh with the same nonce: same port, even if another is suggested */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 8000, 9000, 7200, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(get16(resp + 42), 8000);
	CHECK_EQ(get32(resp + 4), 7200);
	CHECK_EQ(store_count(e->s), 1);
	/* another nonce for the same mapping: NOT_AUTHORIZED, long lifetime */
	n = map(req, C1, NONCE_B, IPPROTO_TCP, 8000, 8000, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	CHECK_EQ(get32(resp + 4), PCP_LONG_LIFETIME);
	CHECK(memcmp(resp + 24, NONCE_B, 12) == 0);
	/* ... nor delete it */
	n = map(req, C1, NONCE_B, IPPROTO_TCP, 8000, 0, 0, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	CHECK(store_find(e->s, IPPROTO_TCP, 8000, NULL) != NULL);
	/* delete with the right nonce: SUCCESS, lifetime 0 */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 8000, 0, 0, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(get32(resp + 4), 0);
	CHECK_EQ(get16(resp + 42), 8000);
	CHECK(store_find(e->s, IPPROTO_TCP, 8000, NULL) == NULL);
	CHECK(!fake_fw_has(&e->fw, IPPROTO_TCP, 8000, 8000));
	/* deleting again is still SUCCESS */
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	fake_env_free(e);
}

TEST(pcp_map_delete_all_protocols)
{
	struct fake_env *e = env();
	uint8_t req[128], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;

	n = map(req, C1, NONCE_A, IPPROTO_TCP, 8100, 8100, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	n = map(req, C1, NONCE_A, IPPROTO_UDP, 8101, 8101, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	n = map(req, C1, NONCE_B, IPPROTO_UDP, 8102, 8102, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(store_count(e->s), 3);
	/* protocol 0, lifetime 0: everything of this client and nonce */
	n = map(req, C1, NONCE_A, 0, 0, 0, 0, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(store_count(e->s), 1);
	CHECK(store_find(e->s, IPPROTO_UDP, 8102, NULL) != NULL);
	fake_env_free(e);
}

TEST(pcp_map_protocol_port_network_errors)
{
	struct fake_env *e = env();
	uint8_t req[128], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;

	n = map(req, C1, NONCE_A, 0, 0, 0, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_UNSUPP_PROTOCOL);
	CHECK_EQ(get32(resp + 4), PCP_LONG_LIFETIME);
	n = map(req, C1, NONCE_A, 132, 80, 80, 600, NULL);	/* SCTP */
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_UNSUPP_PROTOCOL);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 0, 0, 600, NULL);	/* all ports */
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	e->ctx.ext_addr.s_addr = 0;
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 80, 80, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NETWORK_FAILURE);
	CHECK_EQ(get32(resp + 4), PCP_SHORT_LIFETIME);
	CHECK_EQ(rl, n);
	CHECK_EQ(store_count(e->s), 0);
	fake_env_free(e);
}

TEST(pcp_map_quota_resources_permission)
{
	struct fake_env *e = env();
	uint8_t req[128], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	struct perm_rule rules[2];
	char msg[128];

	e->ctx.cfg.max_mappings_per_client = 1;
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 8200, 8200, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 8201, 8201, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_USER_EX_QUOTA);
	CHECK_EQ(get32(resp + 4), PCP_SHORT_LIFETIME);
	e->ctx.cfg.max_mappings_per_client = 0;
	e->fw.fail_add = 1;
	n = map(req, C2, NONCE_A, IPPROTO_TCP, 8202, 8202, 600, NULL);
	CHECK_EQ(result(e, C2, req, n, resp, &rl), PCP_NO_RESOURCES);
	CHECK_EQ(get32(resp + 4), PCP_SHORT_LIFETIME);
	CHECK_EQ(perm_parse(&rules[0], "deny 0-65535 192.168.1.11/32 0-65535", msg, sizeof(msg)), 0);
	CHECK_EQ(perm_parse(&rules[1], "allow 0-65535 0.0.0.0/0 0-65535", msg, sizeof(msg)), 0);
	e->ctx.cfg.perms = rules;
	e->ctx.cfg.n_perms = 2;
	n = map(req, C2, NONCE_A, IPPROTO_TCP, 8203, 8203, 600, NULL);
	CHECK_EQ(result(e, C2, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	e->ctx.cfg.perms = NULL;
	e->ctx.cfg.n_perms = 0;
	fake_env_free(e);
}

TEST(pcp_prefer_failure_and_suggested_address)
{
	struct fake_env *e = env();
	uint8_t req[128], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	struct in6_addr ext = fake_addr("203.0.113.5");

	n = map(req, C1, NONCE_A, IPPROTO_UDP, 9000, 9000, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	/* C2 wants 9000 too, but only 9000: CANNOT_PROVIDE_EXTERNAL */
	n = map(req, C2, NONCE_B, IPPROTO_UDP, 9000, 9000, 600, NULL);
	n = opt(req, n, PCP_OPT_PREFER_FAILURE, NULL, 0);
	CHECK_EQ(result(e, C2, req, n, resp, &rl), PCP_CANNOT_PROVIDE_EXTERNAL);
	CHECK_EQ(get32(resp + 4), PCP_SHORT_LIFETIME);
	CHECK_EQ(store_count(e->s), 1);
	/* without PREFER_FAILURE: another port */
	n = map(req, C2, NONCE_B, IPPROTO_UDP, 9000, 9000, 600, NULL);
	CHECK_EQ(result(e, C2, req, n, resp, &rl), PCP_SUCCESS);
	CHECK(get16(resp + 42) != 9000 && get16(resp + 42) != 0);
	/* a free suggested port with PREFER_FAILURE: granted, option echoed */
	n = map(req, C2, NONCE_B, IPPROTO_UDP, 9100, 9100, 600, NULL);
	n = opt(req, n, PCP_OPT_PREFER_FAILURE, NULL, 0);
	CHECK_EQ(result(e, C2, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(get16(resp + 42), 9100);
	CHECK_EQ(rl, 64);
	CHECK_EQ(resp[60], PCP_OPT_PREFER_FAILURE);
	/* a suggested external address we do not have */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9200, 9200, 600, "198.18.0.1");
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK(memcmp(resp + 44, &ext, 16) == 0);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9201, 9201, 600, "198.18.0.1");
	n = opt(req, n, PCP_OPT_PREFER_FAILURE, NULL, 0);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_CANNOT_PROVIDE_EXTERNAL);
	/* ... and the one we have, with PREFER_FAILURE */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9202, 9202, 600, "203.0.113.5");
	n = opt(req, n, PCP_OPT_PREFER_FAILURE, NULL, 0);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	/* PREFER_FAILURE with data, or twice: MALFORMED_OPTION */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9203, 9203, 600, NULL);
	n = opt(req, n, PCP_OPT_PREFER_FAILURE, "abcd", 4);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9203, 9203, 600, NULL);
	n = opt(req, n, PCP_OPT_PREFER_FAILURE, NULL, 0);
	n = opt(req, n, PCP_OPT_PREFER_FAILURE, NULL, 0);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	CHECK_EQ(get32(resp + 4), PCP_LONG_LIFETIME);
	fake_env_free(e);
}

TEST(pcp_third_party)
{
	struct fake_env *e = env();
	uint8_t req[128], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	struct in6_addr c2 = fake_addr(C2), out = fake_addr("198.51.100.7"), v6 = fake_addr("2001:db8::5");
	struct mapping *m;

	/* refused by default */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9300, 9300, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &c2, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	CHECK_EQ(store_count(e->s), 0);
	/* allowed: the mapping is for C2, even in secure mode */
	e->ctx.cfg.pcp_allow_thirdparty = true;
	e->ctx.cfg.secure_mode = true;
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(rl, 60 + 20);
	CHECK_EQ(resp[60], PCP_OPT_THIRD_PARTY);
	m = store_find(e->s, IPPROTO_TCP, 9300, NULL);
	CHECK(m != NULL);
	if (m != NULL)
		CHECK(memcmp(m->iaddr, &c2, 16) == 0);
	/* not a LAN host, or an IPv6 one: NOT_AUTHORIZED */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9301, 9301, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &out, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9301, 9301, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &v6, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	/* wrong length, twice: MALFORMED_OPTION */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9301, 9301, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &c2, 12);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9301, 9301, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &c2, 16);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &c2, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	CHECK_EQ(store_count(e->s), 1);
	fake_env_free(e);
}

TEST(pcp_filter)
{
	struct fake_env *e = env();
	uint8_t req[160], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	struct in6_addr peer = fake_addr("198.51.100.3");
	struct mapping *m;

	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9400, 9400, 600, NULL);
	n = filter(req, n, 128, 0, "198.51.100.3");
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(rl, 60 + 24);
	CHECK_EQ(resp[60], PCP_OPT_FILTER);
	m = store_find(e->s, IPPROTO_TCP, 9400, &peer);
	CHECK(m != NULL);
	if (m != NULL)
		CHECK(memcmp(m->rhost, &peer, 16) == 0);
	CHECK(store_find(e->s, IPPROTO_TCP, 9400, NULL) == NULL);
	/* /0 = no filter */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9401, 9401, 600, NULL);
	n = filter(req, n, 0, 0, "::");
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK(store_find(e->s, IPPROTO_TCP, 9401, NULL) != NULL);
	/* prefixes we cannot express, and a remote port: UNSUPP_OPTION */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9402, 9402, 600, NULL);
	n = filter(req, n, 120, 0, "198.51.100.0");
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_UNSUPP_OPTION);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9402, 9402, 600, NULL);
	n = filter(req, n, 128, 443, "198.51.100.3");
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_UNSUPP_OPTION);
	/* invalid prefix lengths, family mismatch, wrong length */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9402, 9402, 600, NULL);
	n = filter(req, n, 129, 0, "198.51.100.3");
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9402, 9402, 600, NULL);
	n = filter(req, n, 64, 0, "198.51.100.3");
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9402, 9402, 600, NULL);
	n = filter(req, n, 128, 0, "2001:db8::1");
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9402, 9402, 600, NULL);
	n = opt(req, n, PCP_OPT_FILTER, "0123456789abcdef", 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	/* two filters: one remote peer per mapping here */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9402, 9402, 600, NULL);
	n = filter(req, n, 128, 0, "198.51.100.3");
	n = filter(req, n, 128, 0, "198.51.100.4");
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_EXCESSIVE_REMOTE_PEERS);
	CHECK_EQ(get32(resp + 4), PCP_LONG_LIFETIME);
	CHECK(store_find(e->s, IPPROTO_TCP, 9402, NULL) == NULL);
	fake_env_free(e);
}

TEST(pcp_description_and_option_errors)
{
	struct fake_env *e = env();
	uint8_t req[400], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	struct mapping *m;

	n = map(req, C1, NONCE_A, IPPROTO_UDP, 9500, 9500, 600, NULL);
	n = opt(req, n, PCP_OPT_DESCRIPTION, "my game\x01", 8);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(rl, 60 + 12);
	CHECK_EQ(resp[60], PCP_OPT_DESCRIPTION);
	m = store_find(e->s, IPPROTO_UDP, 9500, NULL);
	CHECK(m != NULL);
	if (m != NULL)
		CHECK_STR(m->desc, "my game?");
	/* unknown mandatory option: UNSUPP_OPTION; unknown optional: ignored */
	n = map(req, C1, NONCE_A, IPPROTO_UDP, 9501, 9501, 600, NULL);
	n = opt(req, n, 50, "xyz", 3);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_UNSUPP_OPTION);
	n = map(req, C1, NONCE_A, IPPROTO_UDP, 9501, 9501, 600, NULL);
	n = opt(req, n, 250, "xyz", 3);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(rl, 60);	/* not echoed: not processed */
	/* an option whose length runs past the end: MALFORMED_OPTION */
	n = map(req, C1, NONCE_A, IPPROTO_UDP, 9502, 9502, 600, NULL);
	n = opt(req, n, PCP_OPT_DESCRIPTION, "abcd", 4);
	put16(req + n - 6, 200);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	CHECK_EQ(rl, n);
	/* padding counts: length 5 needs 8 bytes of data */
	n = map(req, C1, NONCE_A, IPPROTO_UDP, 9502, 9502, 600, NULL);
	n = opt(req, n, PCP_OPT_DESCRIPTION, "abcd", 4);
	put16(req + n - 6, 5);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	CHECK(store_find(e->s, IPPROTO_UDP, 9502, NULL) == NULL);
	fake_env_free(e);
}

/* A recvmmsg() batch of PCP and NAT-PMP requests from two clients: one
 * lease sync for all their changes, and each answer is its own request's,
 * in order. */
TEST(pcp_batch_one_lease_sync_answers_in_order)
{
	struct fake_env *e = fake_env_pmp_lease(7000, true);
	static struct pmp_req reqs[6];
	static uint8_t bufs[6][128];
	/* NAT-PMP: map UDP internal 7100, suggested external 7100, 600 s */
	static const uint8_t pmp_map[12] = { 0, 1, 0, 0, 0x1b, 0xbc, 0x1b, 0xbc, 0, 0, 2, 0x58 };
	const char *from[6] = { C1, C2, C2, C1, C1, C2 };
	struct in6_addr c2 = fake_addr(C2);
	const struct mapping *m;
	unsigned before, k;

	reqs[0].len = map(bufs[0], C1, NONCE_A, IPPROTO_TCP, 8000, 8000, 3600, NULL);
	reqs[1].len = map(bufs[1], C2, NONCE_B, IPPROTO_UDP, 8001, 9001, 600, NULL);
	memcpy(bufs[2], pmp_map, sizeof(pmp_map));
	reqs[2].len = sizeof(pmp_map);
	reqs[3].len = hdr(bufs[3], PCP_OP_ANNOUNCE, 0, C1);
	reqs[4].len = map(bufs[4], C1, NONCE_A, IPPROTO_TCP, 8000, 0, 0, NULL);	/* delete [0] */
	reqs[5].len = map(bufs[5], C2, NONCE_A, IPPROTO_UDP, 8001, 9001, 600, NULL);
	for (k = 0; k < 6; k++) {
		reqs[k].from = fake_addr(from[k]);
		reqs[k].req = bufs[k];
	}
	before = fake_sync.calls;
	CHECK_EQ(pmp_handle_batch(&e->ctx, reqs, 6), 0);
	CHECK_EQ(fake_sync.calls - before, 1);
	for (k = 0; k < 6; k++)
		CHECK_EQ(reqs[k].rc, 1);
	/* [0] MAP TCP 8000 for C1 with nonce A */
	CHECK(reqs[0].resplen == 60 && reqs[0].resp[1] == 0x81 && reqs[0].resp[3] == PCP_SUCCESS);
	CHECK(memcmp(reqs[0].resp + 24, NONCE_A, 12) == 0 && get16(reqs[0].resp + 42) == 8000);
	/* [1] MAP UDP 8001 -> 9001 for C2 with nonce B */
	CHECK(reqs[1].resp[3] == PCP_SUCCESS && memcmp(reqs[1].resp + 24, NONCE_B, 12) == 0);
	CHECK(reqs[1].resp[36] == IPPROTO_UDP && get16(reqs[1].resp + 40) == 8001);
	CHECK_EQ(get16(reqs[1].resp + 42), 9001);
	/* [2] NAT-PMP: version 0, UDP 7100 for C2 */
	CHECK(reqs[2].resplen == 16 && reqs[2].resp[0] == 0 && reqs[2].resp[1] == 129);
	CHECK(get16(reqs[2].resp + 2) == 0 && get16(reqs[2].resp + 10) == 7100);
	/* [3] ANNOUNCE */
	CHECK(reqs[3].resplen == 24 && reqs[3].resp[1] == 0x80 && reqs[3].resp[3] == PCP_SUCCESS);
	/* [4] the delete of [0]: lifetime 0 */
	CHECK(reqs[4].resp[3] == PCP_SUCCESS && get32(reqs[4].resp + 4) == 0);
	/* [5] C2's mapping of [1] with another nonce: NOT_AUTHORIZED */
	CHECK(reqs[5].resp[3] == PCP_NOT_AUTHORIZED && memcmp(reqs[5].resp + 24, NONCE_A, 12) == 0);
	CHECK(store_find(e->s, IPPROTO_TCP, 8000, NULL) == NULL);
	m = store_find(e->s, IPPROTO_UDP, 9001, NULL);
	CHECK(m != NULL && addr_eq(m->iaddr, &c2) && memcmp(m->owner->nonce, NONCE_B, 12) == 0);
	m = store_find(e->s, IPPROTO_UDP, 7100, NULL);
	CHECK(m != NULL && addr_eq(m->iaddr, &c2) && m->owner->proto == OWNER_NATPMP);
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 2);
	fake_env_free(e);
}

/* Issue 14: THIRD_PARTY naming the sender is MALFORMED_REQUEST (§13.1);
 * THIRD_PARTY takes over no UPnP or NAT-PMP mapping, deletes only its own;
 * it may not name the gateway or a LAN's network/broadcast address. */
TEST(pcp_third_party_policy)
{
	struct fake_env *e = env();
	uint8_t req[128], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	struct in6_addr c1 = fake_addr(C1), c2 = fake_addr(C2), gw = fake_addr("192.168.1.1");
	struct in6_addr bc = fake_addr("192.168.1.255"), net = fake_addr("192.168.1.0");
	struct mapping u = fake_req(IPPROTO_TCP, 9400, C2, 9400, "c2 upnp", OWNER_UPNP), *m;

	e->ctx.cfg.pcp_allow_thirdparty = true;
	e->ctx.cfg.secure_mode = true;
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9300, 9300, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &c1, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_REQUEST);
	CHECK_EQ(store_count(e->s), 0);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9300, 9300, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &gw, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9300, 9300, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &bc, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9300, 9300, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &net, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	CHECK_EQ(store_count(e->s), 0);
	/* C2's UPnP mapping of 9400 is not handed over to C1's nonce */
	CHECK_EQ(store_add(e->s, &u, 3600, 0, NULL), ST_OK);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9400, 9400, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &c2, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK(get16(resp + 42) != 9400);
	m = store_find(e->s, IPPROTO_TCP, 9400, NULL);
	CHECK(m != NULL && m->owner->proto == OWNER_UPNP);
	/* its delete removes its own mapping only */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9400, 9400, 0, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &c2, 16);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(store_count(e->s), 1);
	CHECK(store_find(e->s, IPPROTO_TCP, 9400, NULL) != NULL);
	/* with PREFER_FAILURE on the UPnP mapping's port: CANNOT_PROVIDE_EXTERNAL */
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9400, 9400, 600, NULL);
	n = opt(req, n, PCP_OPT_THIRD_PARTY, &c2, 16);
	n = opt(req, n, PCP_OPT_PREFER_FAILURE, NULL, 0);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_CANNOT_PROVIDE_EXTERNAL);
	CHECK_EQ(store_find(e->s, IPPROTO_TCP, 9400, NULL)->owner->proto, OWNER_UPNP);
	fake_env_free(e);
}

/* Issue 14, finding 9: a refresh and a delete find the nonce's own mapping
 * even when a UPnP mapping of the same internal port comes first. */
TEST(pcp_finds_its_own_mapping)
{
	struct fake_env *e = env();
	uint8_t req[128], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	struct mapping u = fake_req(IPPROTO_TCP, 8800, C1, 9800, "upnp", OWNER_UPNP);

	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9800, 8801, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(get16(resp + 42), 8801);
	CHECK_EQ(store_add(e->s, &u, 3600, 0, NULL), ST_OK);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9800, 0, 600, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(get16(resp + 42), 8801);
	CHECK_EQ(store_count(e->s), 2);
	n = map(req, C1, NONCE_A, IPPROTO_TCP, 9800, 8801, 0, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK(store_find(e->s, IPPROTO_TCP, 8801, NULL) == NULL);
	CHECK(store_find(e->s, IPPROTO_TCP, 8800, NULL) != NULL);
	/* another nonce still may not delete the UPnP one */
	n = map(req, C1, NONCE_B, IPPROTO_TCP, 9800, 8800, 0, NULL);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	fake_env_free(e);
}

/* PCP over IPv6: a MAP of an IPv6 internal address is a pinhole whose
 * assigned external address and port are the internal ones (§11.3). */
#define H6 "2001:db8:1::10"
TEST(pcp_map_ipv6_pinhole)
{
	struct fake_env *e = env();
	uint8_t req[256], resp[PMP_MAX_DATAGRAM];
	struct in6_addr h6 = fake_addr(H6), ext;
	struct mapping *m;
	uint16_t uid;
	size_t n, rl;

	n = map(req, H6, NONCE_A, IPPROTO_TCP, 8080, 9999, 600, NULL);
	CHECK_EQ(result(e, H6, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(get32(resp + 4), 600);
	CHECK_EQ(get16(resp + PCP_HDR_LEN + 18), 8080);	/* external port = internal */
	memcpy(&ext, resp + PCP_HDR_LEN + 20, 16);
	CHECK(addr_eq(&ext, &h6));
	CHECK_EQ(store_pin_count(e->s), 1);
	m = store_pin_nth(e->s, 0);
	CHECK(m != NULL && m->iport == 8080 && fake_fw_has(&e->fw, IPPROTO_TCP, m->uid, 8080));
	uid = m != NULL ? m->uid : 0;
	CHECK_EQ(store_count(e->s), 0);
	/* same nonce: refreshed; another nonce: NOT_AUTHORIZED */
	CHECK_EQ(result(e, H6, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(store_pin_count(e->s), 1);
	n = map(req, H6, NONCE_B, IPPROTO_TCP, 8080, 0, 600, NULL);
	CHECK_EQ(result(e, H6, req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	CHECK_EQ(result(e, H6, req, map(req, H6, NONCE_B, IPPROTO_TCP, 8080, 0, 0, NULL), resp, &rl),
		 PCP_NOT_AUTHORIZED);
	/* PREFER_FAILURE with another external port: no translation here */
	n = map(req, H6, NONCE_A, IPPROTO_UDP, 5000, 5001, 600, NULL);
	n = opt(req, n, PCP_OPT_PREFER_FAILURE, NULL, 0);
	CHECK_EQ(result(e, H6, req, n, resp, &rl), PCP_CANNOT_PROVIDE_EXTERNAL);
	/* lifetime 0 deletes it */
	n = map(req, H6, NONCE_A, IPPROTO_TCP, 8080, 0, 0, NULL);
	CHECK_EQ(result(e, H6, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(store_pin_count(e->s), 0);
	CHECK(!fake_fw_has(&e->fw, IPPROTO_TCP, uid, 8080));
	/* not on a LAN prefix */
	n = map(req, "2001:db8:9::1", NONCE_A, IPPROTO_TCP, 8080, 0, 600, NULL);
	CHECK_EQ(result(e, "2001:db8:9::1", req, n, resp, &rl), PCP_NOT_AUTHORIZED);
	fake_env_free(e);
}

TEST(pcp_map_ipv6_filter)
{
	struct fake_env *e = env();
	uint8_t req[256], resp[PMP_MAX_DATAGRAM];
	struct in6_addr peer = fake_addr("2001:db8:ff::7");
	struct mapping *m;
	size_t n, rl;

	n = map(req, H6, NONCE_A, IPPROTO_UDP, 4500, 0, 600, NULL);
	n = filter(req, n, 128, 4000, "2001:db8:ff::7");
	CHECK_EQ(result(e, H6, req, n, resp, &rl), PCP_SUCCESS);
	m = store_pin_nth(e->s, 0);
	CHECK(m != NULL && addr_eq(m->rhost, &peer) && m->rport == 4000);
	/* a new FILTER replaces the old one: still one pinhole */
	n = map(req, H6, NONCE_A, IPPROTO_UDP, 4500, 0, 600, NULL);
	n = filter(req, n, 0, 4001, "::");
	CHECK_EQ(result(e, H6, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(store_pin_count(e->s), 1);
	m = store_pin_nth(e->s, 0);
	CHECK(m != NULL && addr_is_any(m->rhost) && m->rport == 4001);
	/* a prefix the back end cannot express; the wrong family */
	n = filter(req, map(req, H6, NONCE_A, IPPROTO_UDP, 4501, 0, 600, NULL), 64, 0,
		   "2001:db8:ff::");
	CHECK_EQ(result(e, H6, req, n, resp, &rl), PCP_UNSUPP_OPTION);
	n = filter(req, map(req, H6, NONCE_A, IPPROTO_UDP, 4501, 0, 600, NULL), 128, 0,
		   "198.51.100.1");
	CHECK_EQ(result(e, H6, req, n, resp, &rl), PCP_MALFORMED_OPTION);
	fake_env_free(e);
}

/* PEER (§12) over the fake backend's conntrack: the flow's external side
 * comes back; policy as for a new mapping. */
static size_t
peer(uint8_t *b, const char *client, uint8_t proto, uint16_t iport, uint16_t eport,
     uint32_t lifetime, const char *peer_addr, uint16_t pport)
{
	size_t n = map(b, client, NONCE_A, proto, iport, eport, lifetime, NULL);
	struct in6_addr p = fake_addr(peer_addr);

	b[1] = PCP_OP_PEER;
	put16(b + n, pport);
	b[n + 2] = b[n + 3] = 0;
	memcpy(b + n + 4, &p, 16);
	return n + 20;
}

TEST(pcp_peer)
{
	struct fake_env *e = env();
	uint8_t req[256], resp[PMP_MAX_DATAGRAM];
	struct in6_addr ext, want;
	size_t n, rl;

	n = peer(req, C1, IPPROTO_UDP, 9700, 8700, 600, "198.51.100.2", 80);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_SUCCESS);
	CHECK_EQ(rl, 80);
	CHECK_EQ(resp[1], PCP_R_BIT | PCP_OP_PEER);
	CHECK_EQ(get32(resp + 4), 600);
	CHECK_EQ(get16(resp + 24 + 16), 9700);		/* internal port */
	CHECK_EQ(get16(resp + 24 + 18), 8700);		/* the suggestion, granted */
	memcpy(&ext, resp + 24 + 20, 16);
	want = fake_addr("203.0.113.5");
	CHECK(addr_eq(&ext, &want));
	CHECK_EQ(get16(resp + 24 + 36), 80);		/* the peer echoed */
	CHECK_EQ(store_count(e->s), 0);			/* conntrack's, not the store's */
	/* over IPv6 the external side is the internal one */
	n = peer(req, "2001:db8:1::10", IPPROTO_UDP, 9701, 0, 600, "2001:db8:ff::2", 81);
	CHECK_EQ(result(e, "2001:db8:1::10", req, n, resp, &rl), PCP_SUCCESS);
	memcpy(&ext, resp + 24 + 20, 16);
	want = fake_addr("2001:db8:1::10");
	CHECK(addr_eq(&ext, &want) && get16(resp + 24 + 18) == 9701);
	/* malformed: no peer port, a peer of the other family */
	n = peer(req, C1, IPPROTO_UDP, 9700, 0, 600, "198.51.100.2", 0);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_REQUEST);
	n = peer(req, C1, IPPROTO_UDP, 9700, 0, 600, "2001:db8:ff::2", 80);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_MALFORMED_REQUEST);
	n = peer(req, C1, 1, 9700, 0, 600, "198.51.100.2", 80);
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_UNSUPP_PROTOCOL);
	/* THIRD_PARTY for another host: refused by default; FILTER is MAP's */
	n = peer(req, C1, IPPROTO_UDP, 9700, 0, 600, "198.51.100.2", 80);
	{
		struct in6_addr c2 = fake_addr(C2);
		size_t m = opt(req, n, PCP_OPT_THIRD_PARTY, &c2, 16);

		CHECK_EQ(result(e, C1, req, m, resp, &rl), PCP_NOT_AUTHORIZED);
		m = filter(req, n, 128, 0, "198.51.100.2");
		CHECK_EQ(result(e, C1, req, m, resp, &rl), PCP_MALFORMED_OPTION);
	}
	/* no external address: NETWORK_FAILURE */
	e->ctx.ext_addr.s_addr = 0;
	CHECK_EQ(result(e, C1, req, n, resp, &rl), PCP_NETWORK_FAILURE);
	fake_env_free(e);
}
