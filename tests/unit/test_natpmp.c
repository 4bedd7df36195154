/* test_natpmp.c - NAT-PMP (RFC 6886) handler over the real store and the
 * fake firewall: byte layouts, every opcode and result code, lengths, and
 * the group commit of a recvmmsg() batch (one lease sync per batch). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctx.h"
#include "conf.h"
#include "fake_fw.h"
#include "fake_sync.h"
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

/* Datagrams of UDP 5351 dropped as malformed, both protocols. */
static uint64_t
malformed(const struct fake_env *e)
{
	return counters_drops(&e->ctx.counters, CTR_NATPMP, CTR_DROP_MALFORMED) +
	       counters_drops(&e->ctx.counters, CTR_PCP, CTR_DROP_MALFORMED);
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
	CHECK_EQ(malformed(e), 2);
	/* A map request shorter than 12 bytes is dropped and counted. */
	map_req(req, NATPMP_OP_MAP_TCP, 80, 80, 3600);
	CHECK_EQ(ask(e, C1, req, 11, resp, &rl), -1);
	CHECK_EQ(ask(e, C1, req, 4, resp, &rl), -1);
	CHECK_EQ(malformed(e), 4);
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
		char d[MAPPING_DESC_GEN_MAX];

		CHECK_STR(mapping_desc(m, d), "NAT-PMP 8080 tcp");
		CHECK(m->desc == mapping_desc_tags[MAPPING_DESC_NATPMP]);	/* not stored */
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
	CHECK_EQ(perm_parse(&rules[0], "deny 0-65535 192.168.1.11/32 0-65535", msg, sizeof(msg)), 0);
	CHECK_EQ(perm_parse(&rules[1], "allow 0-65535 0.0.0.0/0 0-65535", msg, sizeof(msg)), 0);
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

/* --- group commit ------------------------------------------------------ */

/* Requests first..first+n-1 of a series as a batch: request k maps TCP
 * internal port 5000 + k of client 192.168.1.(20 + k), any external port. */
static void
map_batch(struct pmp_req *reqs, uint8_t (*bufs)[12], unsigned first, unsigned n,
	  uint32_t lifetime)
{
	char a[INET6_ADDRSTRLEN];
	unsigned i;

	for (i = 0; i < n; i++) {
		str_printf(a, sizeof(a), "192.168.1.%u", 20 + first + i);
		reqs[i].from = fake_addr(a);
		reqs[i].len = map_req(bufs[i], NATPMP_OP_MAP_TCP, (uint16_t)(5000 + first + i),
				      0, lifetime);
		reqs[i].req = bufs[i];
	}
}

/* The answer to a map request for iport: success for that internal port,
 * and the external port it names is mapped, in the store and the kernel,
 * to this requester. */
static void
check_map_answer(struct fake_env *e, const struct pmp_req *r, uint16_t iport)
{
	const struct mapping *m;

	CHECK_EQ(r->rc, 1);
	CHECK_EQ(r->resplen, 16);
	CHECK_EQ(r->resp[1], 128 + NATPMP_OP_MAP_TCP);
	CHECK_EQ(get16(r->resp + 2), NATPMP_SUCCESS);
	CHECK_EQ(get16(r->resp + 8), iport);
	m = store_find(e->s, IPPROTO_TCP, get16(r->resp + 10), NULL);
	CHECK(m != NULL && addr_eq(m->iaddr, &r->from) && m->iport == iport);
	CHECK(fake_fw_has(&e->fw, IPPROTO_TCP, get16(r->resp + 10), iport));
}

TEST(natpmp_batch_one_lease_sync)
{
	struct fake_env *e = fake_env_pmp_lease(5000, true);
	static struct pmp_req reqs[PMP_BATCH];
	static uint8_t bufs[PMP_BATCH][12];
	static char text[65536];
	unsigned before, k;

	/* Sixteen new mappings in one batch: one fdatasync(), and it was
	 * made once all sixteen records were in the file. */
	map_batch(reqs, bufs, 0, PMP_BATCH, 3600);
	before = fake_sync.calls;
	CHECK_EQ(pmp_handle_batch(&e->ctx, reqs, PMP_BATCH), 0);
	CHECK_EQ(fake_sync.calls - before, 1);
	CHECK_EQ(fake_sync.size, fake_env_read_lease(e, text, sizeof(text)));
	CHECK_EQ(fake_env_lease_records(e, '+'), PMP_BATCH);
	CHECK_EQ(store_count(e->s), PMP_BATCH);
	for (k = 0; k < PMP_BATCH; k++)
		check_map_answer(e, &reqs[k], (uint16_t)(5000 + k));
	/* One at a time (as UPnP goes): a sync per change. */
	before = fake_sync.calls;
	for (k = 0; k < PMP_BATCH; k++)
		CHECK_EQ(pmp_handle(&e->ctx, &reqs[k].from, reqs[k].req, reqs[k].len,
				    reqs[k].resp, &reqs[k].resplen), 1);
	CHECK_EQ(fake_sync.calls - before, PMP_BATCH);
	/* A batch that changes no mapping syncs nothing. */
	for (k = 0; k < PMP_BATCH; k++) {
		bufs[k][1] = NATPMP_OP_EXTERNAL;
		reqs[k].len = 2;
	}
	before = fake_sync.calls;
	CHECK_EQ(pmp_handle_batch(&e->ctx, reqs, PMP_BATCH), 0);
	CHECK_EQ(fake_sync.calls, before);
	for (k = 0; k < PMP_BATCH; k++)
		CHECK(reqs[k].rc == 1 && reqs[k].resplen == 12 && reqs[k].resp[1] == 128);
	/* Restarted, the store has what the answers said. */
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), PMP_BATCH);
	fake_env_free(e);
}

TEST(natpmp_batch_answers_match_requests)
{
	struct fake_env *e = fake_env_pmp_lease(5000, true);
	static struct pmp_req reqs[7];
	static uint8_t bufs[7][12];
	const char *from[7] = { C1, C1, C2, C2, C2, C1, C1 };
	struct in6_addr c2 = fake_addr(C2);
	const struct mapping *m;
	unsigned before, k;

	bufs[0][0] = bufs[0][1] = 0;				/* external address */
	reqs[0].len = 2;
	reqs[1].len = map_req(bufs[1], NATPMP_OP_MAP_TCP, 6000, 6000, 3600);
	reqs[2].len = 1;					/* malformed */
	reqs[3].len = map_req(bufs[3], 128 + NATPMP_OP_MAP_TCP, 1, 1, 1);	/* a response */
	reqs[4].len = map_req(bufs[4], NATPMP_OP_MAP_UDP, 6001, 7000, 600);
	reqs[5].len = map_req(bufs[5], NATPMP_OP_MAP_TCP, 6000, 0, 0);	/* delete [1] */
	reqs[6].len = map_req(bufs[6], NATPMP_OP_MAP_TCP, 0, 0, 60);	/* refused */
	for (k = 0; k < 7; k++) {
		reqs[k].from = fake_addr(from[k]);
		reqs[k].req = bufs[k];
	}
	before = fake_sync.calls;
	CHECK_EQ(pmp_handle_batch(&e->ctx, reqs, 7), 0);
	CHECK_EQ(fake_sync.calls - before, 1);	/* three records, one sync */
	CHECK(reqs[0].rc == 1 && reqs[0].resplen == 12 && reqs[0].resp[1] == 128);
	CHECK(reqs[1].rc == 1 && get16(reqs[1].resp + 2) == NATPMP_SUCCESS);
	CHECK(get16(reqs[1].resp + 8) == 6000 && get16(reqs[1].resp + 10) == 6000);
	CHECK_EQ(reqs[2].rc, -1);
	CHECK_EQ(reqs[3].rc, 0);
	CHECK(reqs[4].rc == 1 && reqs[4].resp[1] == 128 + NATPMP_OP_MAP_UDP);
	CHECK(get16(reqs[4].resp + 8) == 6001 && get16(reqs[4].resp + 10) == 7000);
	CHECK_EQ(get32(reqs[4].resp + 12), 600);
	CHECK(reqs[5].rc == 1 && get16(reqs[5].resp + 2) == NATPMP_SUCCESS);
	CHECK(get16(reqs[5].resp + 10) == 0 && get32(reqs[5].resp + 12) == 0);
	CHECK(reqs[6].rc == 1 && get16(reqs[6].resp + 2) == NATPMP_REFUSED);
	/* The store is what the answers say, in their order. */
	CHECK(store_find(e->s, IPPROTO_TCP, 6000, NULL) == NULL);
	m = store_find(e->s, IPPROTO_UDP, 7000, NULL);
	CHECK(m != NULL && addr_eq(m->iaddr, &c2) && m->iport == 6001);
	CHECK_EQ(fake_env_lease_records(e, '+'), 2);
	CHECK_EQ(fake_env_lease_records(e, '-'), 1);
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 1);
	fake_env_free(e);
}

/* A lease write that fails does not fail the change (igdd.conf.5, LEASE
 * FILE): the mapping is made and answered, and the whole file is rewritten
 * at once, which makes it durable after all; while rewrites fail too,
 * persistence is suspended.  A failed batch sync is each change of the
 * batch failing that way: the same answers, store, kernel and file as one
 * request alone under the same failure, and the rewrite is done before
 * any answer goes. */
TEST(natpmp_batch_failed_sync_like_one_failed_write)
{
	static struct pmp_req reqs[4];
	static uint8_t bufs[4][12];
	char tmp[160];
	unsigned blocked, n, k;

	for (blocked = 0; blocked < 2; blocked++) {
		for (n = 1; n <= 4; n += 3) {
			struct fake_env *e = fake_env_pmp_lease(5000, true);
			unsigned before;
			int rc;

			/* two mappings made durable first */
			map_batch(reqs, bufs, 0, 2, 3600);
			CHECK_EQ(pmp_handle_batch(&e->ctx, reqs, 2), 0);
			/* a directory in the way of the rewrite's temp file */
			str_printf(tmp, sizeof(tmp), "%s.tmp", e->ctx.cfg.lease_file);
			if (blocked)
				CHECK_EQ(mkdir(tmp, 0700), 0);
			fake_sync.fail = 1;
			before = fake_sync.calls;
			map_batch(reqs, bufs, 2, n, 3600);
			if (n == 1) {	/* alone, synced at once */
				CHECK_EQ(pmp_handle(&e->ctx, &reqs[0].from, reqs[0].req, reqs[0].len,
						    reqs[0].resp, &reqs[0].resplen), 1);
				reqs[0].rc = 1;
				rc = fake_env_lease_records(e, '+') == 3 ? 0 : -1;
			} else {
				rc = pmp_handle_batch(&e->ctx, reqs, n);
			}
			CHECK_EQ(fake_sync.calls - before, 1);	/* the one that failed */
			CHECK_EQ(fake_sync.fail, 0);
			CHECK_EQ(rc, blocked ? -1 : 0);
			CHECK_EQ(store_get_stats(e->s)->lease_errors, blocked ? 2 : 1);
			for (k = 0; k < n; k++)
				check_map_answer(e, &reqs[k], (uint16_t)(5002 + k));
			CHECK_EQ(store_count(e->s), 2 + n);
			CHECK_EQ(e->fw.n_kernel, 2 + n);
			/* rewritten with all of them, or whole as before */
			CHECK_EQ(fake_env_lease_records(e, '+'), blocked ? 2 : 2 + n);
			if (blocked) {
				/* Batches that change nothing (lookups, only WAN
				 * datagrams) do not retry the rewrite: the retry
				 * timer does that, at its own pace. */
				for (k = 0; k < n; k++) {
					bufs[k][1] = NATPMP_OP_EXTERNAL;
					reqs[k].len = 2;
				}
				before = fake_sync.calls;
				CHECK_EQ(pmp_handle_batch(&e->ctx, reqs, n), -1);
				CHECK_EQ(pmp_handle_batch(&e->ctx, reqs, 0), 0);
				CHECK_EQ(fake_sync.calls, before);
				CHECK_EQ(store_get_stats(e->s)->lease_errors, 2);
				CHECK(reqs[0].rc == 1 && reqs[0].resplen == 12);
				/* room again: the next change repairs the file */
				CHECK_EQ(rmdir(tmp), 0);
				map_batch(reqs, bufs, 6, 1, 3600);
				CHECK_EQ(pmp_handle_batch(&e->ctx, reqs, 1), 0);
				CHECK_EQ(fake_env_lease_records(e, '+'), 3 + n);
			}
			fake_env_restart(e);
			CHECK_EQ(store_restore(e->s), (int)(2 + n + blocked));
			fake_env_free(e);
		}
	}
}

/* Issue 14, finding 9: NAT-PMP refreshes and deletes the client's own
 * mapping, not the first of the internal port (a UPnP one, here). */
TEST(natpmp_finds_its_own_mapping)
{
	struct fake_env *e = env();
	uint8_t req[12], resp[PMP_MAX_DATAGRAM];
	size_t rl, n;
	struct mapping u = fake_req(IPPROTO_TCP, 8600, C1, 9600, "upnp", OWNER_UPNP);

	n = map_req(req, NATPMP_OP_MAP_TCP, 9600, 8601, 3600);
	CHECK_EQ(ask(e, C1, req, n, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_SUCCESS);
	CHECK_EQ(get16(resp + 10), 8601);
	CHECK_EQ(store_add(e->s, &u, 3600, 0, NULL), ST_OK);
	/* refresh: its own 8601, the UPnP 8600 stays UPnP's */
	CHECK_EQ(ask(e, C1, req, n, resp, &rl), 1);
	CHECK_EQ(get16(resp + 10), 8601);
	CHECK_EQ(store_find(e->s, IPPROTO_TCP, 8600, NULL)->owner->proto, OWNER_UPNP);
	/* a new request suggesting the UPnP port gets another one */
	CHECK_EQ(store_del(e->s, IPPROTO_TCP, 8601, NULL, NULL), ST_OK);
	n = map_req(req, NATPMP_OP_MAP_TCP, 9600, 8600, 3600);
	CHECK_EQ(ask(e, C1, req, n, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_SUCCESS);
	CHECK(get16(resp + 10) != 8600);
	CHECK_EQ(store_find(e->s, IPPROTO_TCP, 8600, NULL)->owner->proto, OWNER_UPNP);
	/* delete: its own one goes, the UPnP one stays */
	n = map_req(req, NATPMP_OP_MAP_TCP, 9600, 0, 0);
	CHECK_EQ(ask(e, C1, req, n, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_SUCCESS);
	CHECK_EQ(store_count(e->s), 1);
	CHECK(store_find(e->s, IPPROTO_TCP, 8600, NULL) != NULL);
	/* with only the UPnP one left, a delete is refused */
	CHECK_EQ(ask(e, C1, req, n, resp, &rl), 1);
	CHECK_EQ(get16(resp + 2), NATPMP_REFUSED);
	CHECK_EQ(store_count(e->s), 1);
	fake_env_free(e);
}
