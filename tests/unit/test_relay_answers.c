/* test_relay_answers.c - what each front end answers from the relay's
 * word (RFC 6970's table for UPnP, RFC 7648's pass-through for PCP, the
 * NAT-PMP results), and that without a relay upstream_add() is the
 * store's plain add. */
#include <arpa/inet.h>
#include <string.h>

#include "fake_fw.h"
#include "igd.h"
#include "natpmp.h"
#include "pcp.h"
#include "pmp.h"
#include "store.h"
#include "unit.h"
#include "upstream.h"
#include "util.h"

#define C1 "192.168.1.10"

static struct upstream_answer
answer(enum upstream_err err, int pcp_result)
{
	struct upstream_answer a;

	memset(&a, 0, sizeof(a));
	a.err = err;
	a.pcp_result = pcp_result;
	return a;
}

TEST(relay_upnp_errors_rfc6970)
{
	struct upstream_answer a = answer(UPE_PORT, 11);

	CHECK_EQ(igd_error_from_upstream(&a, false), 718);
	CHECK_EQ(igd_error_from_upstream(&a, true), 729);
	a = answer(UPE_AUTH, 2);
	CHECK_EQ(igd_error_from_upstream(&a, true), 606);
	a = answer(UPE_QUOTA, 10);
	CHECK_EQ(igd_error_from_upstream(&a, true), 728);
	CHECK_EQ(igd_error_from_upstream(&a, false), 501);
	a = answer(UPE_RESOURCES, 8);
	CHECK_EQ(igd_error_from_upstream(&a, true), 728);
	a = answer(UPE_NETWORK, -1);
	CHECK_EQ(igd_error_from_upstream(&a, true), 501);
	a = answer(UPE_OTHER, 3);
	CHECK_EQ(igd_error_from_upstream(&a, true), 501);
	a = answer(UPE_OK, -1);
	CHECK_EQ(igd_error_from_upstream(&a, true), 0);
	a.local = ST_E_CONFLICT;	/* the store's own refusal keeps its code */
	CHECK_EQ(igd_error_from_upstream(&a, true), 718);
}

/* A NAT-PMP map request answered from the relay: the granted port and
 * lifetime, or its result. */
TEST(relay_natpmp_answers)
{
	struct fake_env *e = fake_env_pmp(7000);
	uint8_t req[12] = { 0, 2, 0, 0, 0x23, 0x28, 0x1f, 0x40, 0, 0, 0x0e, 0x10 };
	uint8_t resp[PMP_MAX_DATAGRAM];
	struct in6_addr from = fake_addr(C1);
	struct upstream_answer a = answer(UPE_OK, -1);
	size_t rl;

	a.eport = 8123;
	a.lifetime = 600;
	CHECK_EQ(pmp_answer(&e->ctx, &from, req, sizeof(req), &a, resp, &rl), 1);
	CHECK(rl == 16 && resp[1] == 130 && resp[3] == 0);
	CHECK_EQ(resp[10] << 8 | resp[11], 8123);
	CHECK_EQ((resp[12] << 24 | resp[13] << 16 | resp[14] << 8 | resp[15]), 600);
	a = answer(UPE_AUTH, -1);
	CHECK_EQ(pmp_answer(&e->ctx, &from, req, sizeof(req), &a, resp, &rl), 1);
	CHECK_EQ(resp[3], NATPMP_REFUSED);
	a = answer(UPE_PORT, -1);
	pmp_answer(&e->ctx, &from, req, sizeof(req), &a, resp, &rl);
	CHECK_EQ(resp[3], NATPMP_NO_RESOURCES);
	a = answer(UPE_NETWORK, -1);
	pmp_answer(&e->ctx, &from, req, sizeof(req), &a, resp, &rl);
	CHECK_EQ(resp[3], NATPMP_NETWORK_FAILURE);
	fake_env_free(e);
}

/* A PCP MAP answered from the relay: the upstream's address and port, or
 * its own result code passed on (RFC 7648), the request's body echoed. */
TEST(relay_pcp_answers)
{
	struct fake_env *e = fake_env_pmp(7000);
	uint8_t req[60], resp[PMP_MAX_DATAGRAM];
	struct in6_addr from = fake_addr(C1), ext;
	struct upstream_answer a = answer(UPE_OK, 0);
	size_t rl;

	memset(req, 0, sizeof(req));
	req[0] = 2;
	req[1] = PCP_OP_MAP;
	req[7] = 100;				/* lifetime 100 (clamped to 120) */
	memcpy(req + 8, &from, 16);
	memset(req + 24, 7, 12);		/* nonce */
	req[36] = IPPROTO_TCP;
	req[40] = 0x23; req[41] = 0x28;		/* iport 9000 */
	req[42] = 0x1f; req[43] = 0x40;		/* eport 8000 */
	a.eport = 8123;
	a.lifetime = 3600;
	inet_pton(AF_INET, "5.6.7.1", &a.ext);
	CHECK_EQ(pmp_answer(&e->ctx, &from, req, sizeof(req), &a, resp, &rl), 1);
	CHECK(rl == 60 && resp[1] == (PCP_R_BIT | PCP_OP_MAP) && resp[3] == PCP_SUCCESS);
	CHECK_EQ(resp[42] << 8 | resp[43], 8123);
	addr_from_v4(&ext, a.ext);
	CHECK(memcmp(resp + 44, &ext, 16) == 0);
	CHECK_EQ(resp[4] << 24 | resp[5] << 16 | resp[6] << 8 | resp[7], 120);
	a = answer(UPE_PORT, PCP_CANNOT_PROVIDE_EXTERNAL);
	pmp_answer(&e->ctx, &from, req, sizeof(req), &a, resp, &rl);
	CHECK_EQ(resp[3], PCP_CANNOT_PROVIDE_EXTERNAL);
	CHECK(memcmp(resp + 24, req + 24, 12) == 0);	/* the nonce comes back */
	a = answer(UPE_QUOTA, PCP_USER_EX_QUOTA);
	pmp_answer(&e->ctx, &from, req, sizeof(req), &a, resp, &rl);
	CHECK_EQ(resp[3], PCP_USER_EX_QUOTA);
	/* about the proxy's own exchange: only "network failure" */
	a = answer(UPE_OTHER, PCP_MALFORMED_OPTION);
	pmp_answer(&e->ctx, &from, req, sizeof(req), &a, resp, &rl);
	CHECK_EQ(resp[3], PCP_NETWORK_FAILURE);
	a = answer(UPE_PORT, -1);		/* from a NAT-PMP or UPnP upstream */
	pmp_answer(&e->ctx, &from, req, sizeof(req), &a, resp, &rl);
	CHECK_EQ(resp[3], PCP_NO_RESOURCES);
	fake_env_free(e);
}

/* No relay: the store's plain add, its mapping the answer's; nothing is
 * left pending. */
TEST(relay_none_is_a_plain_add)
{
	struct fake_env *e = fake_env_pmp(7000);
	struct mapping r = fake_req(IPPROTO_TCP, 8000, C1, 9000, "x", OWNER_UPNP);
	struct upstream_answer a;
	struct mapping *m = NULL;

	CHECK(!upstream_active(&e->ctx));
	CHECK(upstream_reachable(&e->ctx));
	CHECK_EQ(upstream_add(&e->ctx, &r, 600, 0, UPSTREAM_EXACT, NULL, &a, &m), 0);
	CHECK(a.local == ST_OK && a.err == UPE_OK && a.eport == 8000 && m != NULL);
	CHECK(!store_pending(m));
	CHECK_EQ(upstream_local_port(&e->ctx, IPPROTO_TCP, 8000), 8000);
	CHECK_EQ(upstream_add(&e->ctx, &r, 600, STORE_F_NO_REFRESH, 0, NULL, &a, NULL), 0);
	CHECK_EQ(a.local, ST_E_CONFLICT);
	fake_env_free(e);
}
