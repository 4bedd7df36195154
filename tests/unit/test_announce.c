/* test_announce.c - what NAT-PMP and PCP tell clients when the external
 * address changes: a new epoch (RFC 6886 §3.6, RFC 6887 §8.5) that a
 * client's own check takes for a reset, the announcement schedule shared
 * with the restart (RFC 6886 §3.2.1, RFC 6887 §14.1) and the PCP MAP
 * update rounds cut into bounded slices (RFC 6887 §14.2).  The datagrams
 * on the wire are the lab's business (t_faults.sh). */
#include <arpa/inet.h>
#include <string.h>

#include "ctx.h"
#include "fake_fw.h"
#include "natpmp.h"
#include "pcp.h"
#include "pcp_update.h"
#include "pmp.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define OLD_EXT "203.0.113.5"	/* fake_env_pmp()'s */
#define NEW_EXT "198.51.100.7"

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
set_ext(struct igdd_ctx *ctx, const char *a)
{
	if (inet_pton(AF_INET, a, &ctx->ext_addr) != 1)
		ctx->ext_addr.s_addr = 0;
}

/* Time passes for the epoch: its start moves back by ms. */
static void
age_epoch(struct igdd_ctx *ctx, uint64_t ms)
{
	ctx->epoch_mono -= ms;
}

/* A PCP client's test of a new Epoch Time (RFC 6887 §8.5), integer
 * arithmetic, with client_delta seconds passed on its clock since it saw
 * prev: true when it concludes that the server lost state. */
static bool
pcp_client_sees_reset(uint32_t prev, uint32_t cur, uint32_t client_delta)
{
	uint32_t server_delta = cur - prev;

	if (cur + 1 < prev)
		return true;
	return client_delta + 2 < server_delta - server_delta / 16 ||
	       server_delta + 2 < client_delta - client_delta / 16;
}

/* A NAT-PMP client's test (RFC 6886 §3.6): the new value is below its
 * conservative estimate (prev + 7/8 of the time passed) by more than 2 s. */
static bool
natpmp_client_sees_reset(uint32_t prev, uint32_t cur, uint32_t client_delta)
{
	return (uint64_t)cur + 2 < (uint64_t)prev + client_delta * 7 / 8;
}

TEST(epoch_new_address_starts_a_new_epoch)
{
	struct fake_env *e = fake_env_pmp(600000);	/* up 10 minutes */
	struct igdd_ctx *ctx = &e->ctx;
	uint32_t before = ctx_epoch(ctx), after;

	CHECK(before >= 599 && before <= 601);
	/* no address (link down): the epoch goes on */
	set_ext(ctx, "");
	pmp_ext_addr_changed(ctx);
	CHECK(ctx_epoch(ctx) >= before);
	/* the same address back (a link flap): the mappings did not move */
	set_ext(ctx, OLD_EXT);
	CHECK(!ctx_epoch_follow(ctx));
	CHECK(ctx_epoch(ctx) >= before);
	/* a new address: counting starts again at 0 */
	set_ext(ctx, NEW_EXT);
	pmp_ext_addr_changed(ctx);
	after = ctx_epoch(ctx);
	CHECK(after <= 1);
	CHECK(ctx->epoch_addr.s_addr == ctx->ext_addr.s_addr);
	/* ... which both kinds of client take for a reset, at once or after
	 * a while without news */
	CHECK(pcp_client_sees_reset(before, after, 0));
	CHECK(pcp_client_sees_reset(before, after + 30, 30));
	CHECK(natpmp_client_sees_reset(before, after, 0));
	CHECK(natpmp_client_sees_reset(before, after + 30, 30));
	/* between resets the epoch keeps time: no false alarm */
	age_epoch(ctx, 42000);
	CHECK(!pcp_client_sees_reset(after, ctx_epoch(ctx), 42));
	CHECK(!natpmp_client_sees_reset(after, ctx_epoch(ctx), 42));
	CHECK(!ctx_epoch_follow(ctx));		/* told once, not again */
	CHECK(ctx_epoch(ctx) >= 42);
	/* the old address again is a move too */
	set_ext(ctx, OLD_EXT);
	CHECK(ctx_epoch_follow(ctx));
	CHECK(ctx_epoch(ctx) <= 1);
	/* started without an address: the first one starts a new epoch */
	age_epoch(ctx, 5000);
	ctx->ext_addr.s_addr = 0;
	ctx->epoch_addr.s_addr = 0;
	CHECK(!ctx_epoch_follow(ctx));
	CHECK(ctx_epoch(ctx) >= 4);
	set_ext(ctx, NEW_EXT);
	CHECK(ctx_epoch_follow(ctx));
	CHECK(ctx_epoch(ctx) <= 1);
	fake_env_free(e);
}

/* After the change every answer carries the new epoch, and what is
 * announced carries the new address. */
TEST(announcements_after_a_change_carry_new_address_and_epoch)
{
	struct fake_env *e = fake_env_pmp(3600000);
	struct igdd_ctx *ctx = &e->ctx;
	uint8_t buf[PMP_MAX_DATAGRAM], req[12] = { 0, 1, 0, 0, 0x23, 0x28, 0x23, 0x28, 0, 0, 0x0e, 0x10 };
	struct in6_addr c1 = fake_addr("192.168.1.10"), ext6;
	struct in_addr ext;
	size_t n, k;

	set_ext(ctx, NEW_EXT);
	pmp_ext_addr_changed(ctx);
	ext = ctx->ext_addr;
	/* NAT-PMP announcement = external-address response (§3.2, §3.2.1) */
	n = natpmp_external_response(ctx, buf, sizeof(buf));
	CHECK_EQ(n, NATPMP_EXT_RESP_LEN);
	CHECK(buf[0] == 0 && buf[1] == 128 && buf[2] == 0 && buf[3] == 0);
	CHECK(get32(buf + 4) <= 1);
	CHECK(memcmp(buf + 8, &ext, 4) == 0);
	/* a NAT-PMP map answer: the same new epoch */
	CHECK_EQ(pmp_handle(ctx, &c1, req, sizeof(req), buf, &n), 1);
	CHECK(n == NATPMP_MAP_RESP_LEN && buf[1] == 129 && buf[3] == 0);
	CHECK(get32(buf + 4) <= 1);
	/* PCP ANNOUNCE (§14.1): version 2, R + opcode 0, SUCCESS, lifetime
	 * 0, the new epoch, reserved zero */
	n = pcp_announce(ctx, buf, sizeof(buf));
	CHECK_EQ(n, PCP_HDR_LEN);
	CHECK(buf[0] == PCP_VERSION && buf[1] == (PCP_R_BIT | PCP_OP_ANNOUNCE));
	CHECK(buf[2] == 0 && buf[3] == PCP_SUCCESS);
	CHECK_EQ(get32(buf + 4), 0);
	CHECK(get32(buf + 8) <= 1);
	for (k = 12; k < PCP_HDR_LEN; k++)
		CHECK_EQ(buf[k], 0);
	/* a PCP MAP update (§14.2): the new address and epoch */
	{
		struct mapping r = fake_req(IPPROTO_UDP, 9203, "192.168.1.10", 9203, "p", OWNER_PCP);
		struct mapping *m = NULL;

		CHECK_EQ(store_add(e->s, &r, 600, 0, &m), ST_OK);
		n = pcp_map_update(ctx, m, buf, sizeof(buf));
		CHECK_EQ(n, PCP_HDR_LEN + PCP_MAP_LEN);
		CHECK(get32(buf + 8) <= 1);
		addr_from_v4(&ext6, ext);
		CHECK(memcmp(buf + 44, &ext6, 16) == 0);
	}
	fake_env_free(e);
}

/* pmp_init() with no LAN (no socket) runs the schedule all the same. */
static struct fake_env *
env_with_pmp(void)
{
	struct fake_env *e = fake_env_pmp(600000);
	unsigned n_lan = e->ctx.n_lan;

	e->ctx.n_lan = 0;
	if (pmp_init(&e->ctx) < 0 || pcp_update_init(&e->ctx, pmp_sendto) < 0)
		CHECK(!"pmp_init");
	e->ctx.n_lan = n_lan;
	return e;
}

static void
env_with_pmp_free(struct fake_env *e)
{
	pcp_update_shutdown(&e->ctx);
	pmp_shutdown(&e->ctx);
	fake_env_free(e);
}

/* One step of the schedule: wait for the announcement timer. */
static unsigned
step(struct fake_env *e, unsigned left)
{
	uint64_t end = time_mono_ms() + 3000;

	while (pmp_announce_left(&e->ctx, NULL) == left && time_mono_ms() < end)
		loop_once(&e->ctx.loop, 100);
	return pmp_announce_left(&e->ctx, NULL);
}

TEST(announce_schedule_restart_and_address_change_share_it)
{
	struct fake_env *e = env_with_pmp();
	struct igdd_ctx *ctx = &e->ctx;
	unsigned what = 0, k;
	uint64_t t0, total = 0;

	/* restart: the epoch starts with the daemon; NAT-PMP + PCP ANNOUNCE */
	CHECK_EQ(ctx->epoch_mono, ctx->start_mono);
	CHECK_EQ(pmp_announce_left(ctx, &what), PMP_ANNOUNCE_COUNT);
	CHECK_EQ(what, PMP_ANN_NATPMP | PMP_ANN_PCP);
	CHECK_EQ(step(e, PMP_ANNOUNCE_COUNT), PMP_ANNOUNCE_COUNT - 1);	/* the first at once */
	/* a link flap (the same address back): announced again from the top,
	 * no new epoch, no MAP updates (nothing moved) */
	age_epoch(ctx, 10000);
	pmp_ext_addr_changed(ctx);
	CHECK(ctx_epoch(ctx) >= 610);
	CHECK_EQ(pmp_announce_left(ctx, &what), PMP_ANNOUNCE_COUNT);
	CHECK_EQ(what, PMP_ANN_NATPMP | PMP_ANN_PCP);
	/* the address moves: the same schedule from the top, now with MAP
	 * updates; the restart's ANNOUNCE is kept */
	set_ext(ctx, NEW_EXT);
	pmp_ext_addr_changed(ctx);
	CHECK(ctx_epoch(ctx) <= 1);
	CHECK_EQ(pmp_announce_left(ctx, &what), PMP_ANNOUNCE_COUNT);
	CHECK_EQ(what, PMP_ANN_NATPMP | PMP_ANN_PCP | PMP_ANN_PCP_MAP);
	t0 = time_mono_ms();
	CHECK_EQ(step(e, PMP_ANNOUNCE_COUNT), PMP_ANNOUNCE_COUNT - 1);
	CHECK_EQ(step(e, PMP_ANNOUNCE_COUNT - 1), PMP_ANNOUNCE_COUNT - 2);
	CHECK(time_mono_ms() - t0 >= PMP_ANNOUNCE_FIRST_MS);		/* 250 ms apart */
	/* RFC 6886 §3.2.1: 10 in all, 250 ms between the first two, the gap
	 * doubling: the last goes out 127.75 s after the first */
	for (k = 0; k + 1 < PMP_ANNOUNCE_COUNT; k++) {
		CHECK_EQ(pmp_announce_gap_ms(k), (uint64_t)250 << k);
		total += pmp_announce_gap_ms(k);
	}
	CHECK_EQ(total, 127750);
	/* losing the address tells nothing and leaves the schedule as it is */
	set_ext(ctx, "");
	pmp_ext_addr_changed(ctx);
	CHECK_EQ(pmp_announce_left(ctx, NULL), PMP_ANNOUNCE_COUNT - 2);
	/* the same address back: announced again (an acquisition), same epoch */
	age_epoch(ctx, 10000);
	set_ext(ctx, NEW_EXT);
	pmp_ext_addr_changed(ctx);
	CHECK(ctx_epoch(ctx) >= 10);
	CHECK_EQ(pmp_announce_left(ctx, &what), PMP_ANNOUNCE_COUNT);
	CHECK(what & PMP_ANN_NATPMP);
	env_with_pmp_free(e);
}

TEST(pcp_update_round_is_sliced)
{
	struct fake_env *e = fake_env_pmp(5000);
	struct igdd_ctx *ctx = &e->ctx;
	size_t k, total;

	CHECK_EQ(pcp_update_init(ctx, pmp_sendto), 0);
	for (k = 0; k < 600; k++) {
		char a[32];
		struct mapping r, *m = NULL;

		str_printf(a, sizeof(a), "192.168.1.%u", (unsigned)(10 + k % 200));
		r = fake_req(k % 3 ? IPPROTO_UDP : IPPROTO_TCP, (uint16_t)(20000 + k), a,
			     (uint16_t)(20000 + k), "p", k % 5 ? OWNER_PCP : OWNER_NATPMP);
		CHECK_EQ(store_add(e->s, &r, 600, 0, &m), ST_OK);
	}
	total = store_count(e->s);
	CHECK_EQ(total, 600);
	CHECK_EQ(pcp_update_pending(ctx), 0);
	set_ext(ctx, NEW_EXT);
	pcp_update_round(ctx);
	CHECK_EQ(pcp_update_pending(ctx), total - PCP_UPDATE_BATCH);
	/* a round started again begins from the top */
	pcp_update_round(ctx);
	CHECK_EQ(pcp_update_pending(ctx), total - PCP_UPDATE_BATCH);
	loop_once(&ctx->loop, 50);
	CHECK_EQ(pcp_update_pending(ctx), total - 2 * PCP_UPDATE_BATCH);
	loop_once(&ctx->loop, 50);
	CHECK_EQ(pcp_update_pending(ctx), 0);
	/* no address: a round has nothing to tell */
	set_ext(ctx, "");
	pcp_update_round(ctx);
	CHECK_EQ(pcp_update_pending(ctx), 0);
	pcp_update_shutdown(ctx);
	fake_env_free(e);
}
