/* test_batch.c - batches (store_hold_batch()): every change of a batch
 * in one kernel transaction, the lease records and the listeners at the
 * commit, and a refused transaction taken back whole, so that the
 * requests made again one by one are answered truthfully. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "ctx.h"
#include "fake_fw.h"
#include "fake_sync.h"
#include "natpmp.h"
#include "pmp.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define TCP IPPROTO_TCP

/* What the listeners heard, in order: "A6001 C6001 R6001 D6002 " ... */
struct heard {
	char log[128];
};

static void
hear(void *arg, const struct store_change *ch)
{
	static const char code[] = { [STORE_EV_ADDED] = 'A', [STORE_EV_CHANGED] = 'C',
				     [STORE_EV_RENEWED] = 'R', [STORE_EV_DELETED] = 'D',
				     [STORE_EV_EXPIRED] = 'E', [STORE_EV_IDLE] = 'I' };
	struct heard *h = arg;

	if (STORE_EV_IS_CHANGE(ch->ev))
		str_appendf(h->log, sizeof(h->log), "%c%u ", code[ch->ev], ch->m->eport);
}

static struct fake_env *
env_lease(void)
{
	struct fake_env *e = fake_env_new(true);

	fake_env_start(e);
	return e;
}

/* A batch: one kernel transaction; the lease records and the listeners
 * wait for its commit, and then hear every change in order. */
TEST(batch_one_transaction_told_at_commit)
{
	struct fake_env *e = env_lease();
	struct mapping a = fake_req(TCP, 6001, "192.168.1.10", 6001, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 6002, "192.168.1.10", 6002, "b", OWNER_UPNP);
	struct mapping a2 = fake_req(TCP, 6001, "192.168.1.10", 6001, "a, renamed", OWNER_UPNP);
	struct heard h = { "" };
	unsigned syncs = fake_sync.calls;

	CHECK_EQ(store_add_listener(e->s, hear, &h), 0);
	store_hold_batch(e->s);
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &a2, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 6002, NULL, NULL), ST_OK);
	/* made in the store; nothing told, nothing journaled yet */
	CHECK_EQ(store_count(e->s), 1);
	CHECK_STR(store_find(e->s, TCP, 6001, NULL)->desc, "a, renamed");
	CHECK_STR(h.log, "");
	CHECK_EQ(fake_env_lease_records(e, '+'), 0);
	CHECK_EQ(store_commit(e->s), 0);
	CHECK_EQ(e->fw.n_flush, 1);
	CHECK_EQ(e->fw.n_flush_refused, 0);
	CHECK_STR(h.log, "A6001 A6002 C6001 D6002 ");
	CHECK_EQ(fake_env_lease_records(e, '+'), 3);
	CHECK_EQ(fake_env_lease_records(e, '-'), 1);
	CHECK_EQ(fake_sync.calls - syncs, 1);
	CHECK(fake_fw_has(&e->fw, TCP, 6001, 6001));
	CHECK(!fake_fw_has(&e->fw, TCP, 6002, 6002));
	fake_env_free(e);
}

/* The kernel refuses the transaction: the store as before the batch, in
 * every index (a refresh that moved the internal port, the owner and the
 * description; a delete; adds), nothing journaled, nobody told, the
 * statistics as before; STORE_REDO.  Made again one at a time, only the
 * refused change fails. */
TEST(batch_refused_taken_back_then_one_by_one)
{
	struct fake_env *e = env_lease();
	struct mapping x = fake_req(TCP, 7000, "192.168.1.10", 7000, "x", OWNER_UPNP);
	struct mapping z = fake_req(TCP, 7002, "192.168.1.10", 7002, "z", OWNER_UPNP);
	struct mapping x2 = fake_req(TCP, 7000, "192.168.1.10", 7100,
				     "x with a description longer than before", OWNER_UPNP);
	struct mapping y = fake_req(TCP, 7001, "192.168.1.11", 7001, "y", OWNER_UPNP);
	struct mapping w = fake_req(TCP, 7003, "192.168.1.11", 7003, "w", OWNER_UPNP);
	struct in6_addr c10 = fake_addr("192.168.1.10"), c12 = fake_addr("192.168.1.12");
	struct in6_addr c11 = fake_addr("192.168.1.11");
	struct heard h = { "" };
	const struct mapping *m;
	struct store_stats st;
	uint64_t exp;
	unsigned plus;
	int pass;

	fake_owner(&x2)->addr = c12;	/* another UPnP requester refreshes it */
	CHECK_EQ(store_add(e->s, &x, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &z, 600, 0, NULL), ST_OK);
	exp = store_find(e->s, TCP, 7000, NULL)->expires;
	st = *store_get_stats(e->s);
	plus = fake_env_lease_records(e, '+');
	CHECK_EQ(store_add_listener(e->s, hear, &h), 0);
	e->fw.refuse_eport = 7001;
	for (pass = 0; pass < 2; pass++) {
		enum store_result ry;

		if (pass == 0)
			store_hold_batch(e->s);
		else
			store_hold(e->s);
		CHECK_EQ(store_add(e->s, &x2, 7200, 0, NULL), ST_OK);
		ry = store_add(e->s, &y, 3600, 0, NULL);
		CHECK_EQ(ry, pass == 0 ? ST_OK : ST_E_FIREWALL);
		CHECK_EQ(store_del(e->s, TCP, 7002, NULL, NULL), ST_OK);
		CHECK_EQ(store_add(e->s, &w, 3600, 0, NULL), ST_OK);
		if (pass == 1) {
			CHECK_EQ(store_commit(e->s), 0);
			break;
		}
		CHECK_EQ(store_commit(e->s), STORE_REDO);
		/* all of it taken back */
		CHECK_EQ(e->fw.n_flush_refused, 1);
		CHECK_EQ(store_count(e->s), 2);
		m = store_find(e->s, TCP, 7000, NULL);
		CHECK(m != NULL && m->iport == 7000 && m->expires == exp);
		CHECK(m != NULL && strcmp(m->desc, "x") == 0 && addr_eq(&m->owner->addr, &c10));
		CHECK(store_find_internal(e->s, TCP, &c10, 7000) == m);
		CHECK(store_find_internal(e->s, TCP, &c10, 7100) == NULL);
		CHECK(store_find(e->s, TCP, 7001, NULL) == NULL);
		CHECK(store_find(e->s, TCP, 7003, NULL) == NULL);
		m = store_find(e->s, TCP, 7002, NULL);
		CHECK(m != NULL && store_find_internal(e->s, TCP, &c10, 7002) == m);
		CHECK_EQ(store_count_client(e->s, &c10), 2);
		CHECK_EQ(store_count_client(e->s, &c11), 0);
		CHECK_STR(h.log, "");
		CHECK_EQ(fake_env_lease_records(e, '+'), plus);
		CHECK_EQ(store_get_stats(e->s)->added, st.added);
		CHECK_EQ(store_get_stats(e->s)->refreshed, st.refreshed);
		CHECK_EQ(store_get_stats(e->s)->deleted, st.deleted);
		CHECK(fake_fw_has(&e->fw, TCP, 7000, 7000) && fake_fw_has(&e->fw, TCP, 7002, 7002));
		CHECK(!fake_fw_has(&e->fw, TCP, 7003, 7003));
	}
	/* one by one: all but the refused add, told and journaled */
	CHECK_STR(h.log, "C7000 D7002 A7003 ");
	CHECK_EQ(store_count(e->s), 2);
	m = store_find(e->s, TCP, 7000, NULL);
	CHECK(m != NULL && m->iport == 7100 && addr_eq(&m->owner->addr, &c12));
	CHECK(fake_fw_has(&e->fw, TCP, 7000, 7100) && fake_fw_has(&e->fw, TCP, 7003, 7003));
	CHECK(!fake_fw_has(&e->fw, TCP, 7001, 7001));
	CHECK_EQ(fake_env_lease_records(e, '+'), plus + 2);
	/* the owner's list was put back whole: its delete-all finds them */
	CHECK_EQ(store_del_owner(e->s, OWNER_UPNP, &c12, 0, NULL, NULL), 1);
	fake_env_free(e);
}

/* A made description (not stored: a tag) replaced twice in one refused
 * batch, the internal port moved with it: taken back, the mapping reads
 * its first text again (ASan: nothing leaks, nothing freed twice). */
TEST(batch_refused_made_descriptions_taken_back)
{
	struct fake_env *e = env_lease();
	struct mapping a = fake_req(TCP, 7400, "192.168.1.10", 7400, "NAT-PMP 7400 tcp",
				    OWNER_UPNP);
	struct mapping b = fake_req(TCP, 7400, "192.168.1.10", 7401, "a text of its own",
				    OWNER_UPNP);
	struct mapping c = fake_req(TCP, 7400, "192.168.1.10", 7402, "NAT-PMP 7402 tcp",
				    OWNER_UPNP);
	struct mapping y = fake_req(TCP, 7410, "192.168.1.11", 7410, "y", OWNER_UPNP);
	char d[MAPPING_DESC_GEN_MAX];
	const struct mapping *m;

	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	e->fw.refuse_eport = 7410;
	store_hold_batch(e->s);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &c, 3600, 0, NULL), ST_OK);
	m = store_find(e->s, TCP, 7400, NULL);
	CHECK(m != NULL && m->desc == mapping_desc_tags[MAPPING_DESC_NATPMP]);
	CHECK(m != NULL && strcmp(mapping_desc(m, d), "NAT-PMP 7402 tcp") == 0);
	CHECK_EQ(store_add(e->s, &y, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_commit(e->s), STORE_REDO);
	m = store_find(e->s, TCP, 7400, NULL);
	CHECK(m != NULL && m->iport == 7400 && m->desc == mapping_desc_tags[MAPPING_DESC_NATPMP]);
	CHECK(m != NULL && strcmp(mapping_desc(m, d), "NAT-PMP 7400 tcp") == 0);
	/* made again one by one, and kept */
	store_hold(e->s);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_commit(e->s), 0);
	m = store_find(e->s, TCP, 7400, NULL);
	CHECK(m != NULL && strcmp(mapping_desc(m, d), "a text of its own") == 0);
	fake_env_free(e);
}

/* A mapping added and deleted, and one deleted and added again, in one
 * refused batch: taken back last first, the key holds what it held. */
TEST(batch_refused_same_key_twice)
{
	struct fake_env *e = env_lease();
	struct mapping a = fake_req(TCP, 7500, "192.168.1.10", 7500, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 7501, "192.168.1.10", 7501, "b", OWNER_UPNP);
	struct mapping b2 = fake_req(TCP, 7501, "192.168.1.11", 7600, "b2", OWNER_UPNP);
	struct mapping r = fake_req(TCP, 7502, "192.168.1.10", 7502, "r", OWNER_UPNP);
	struct in6_addr c10 = fake_addr("192.168.1.10"), c11 = fake_addr("192.168.1.11");
	const struct mapping *m;

	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	e->fw.refuse_eport = 7502;
	store_hold_batch(e->s);
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 7500, NULL, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 7501, NULL, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b2, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_commit(e->s), STORE_REDO);
	CHECK_EQ(store_count(e->s), 1);
	CHECK(store_find(e->s, TCP, 7500, NULL) == NULL);
	m = store_find(e->s, TCP, 7501, NULL);
	CHECK(m != NULL && m->iport == 7501 && addr_eq(m->iaddr, &c10) && strcmp(m->desc, "b") == 0);
	CHECK_EQ(store_count_client(e->s, &c10), 1);
	CHECK_EQ(store_count_client(e->s, &c11), 0);
	fake_env_free(e);
}

/* Leases that end together leave the kernel in one transaction; a
 * refused one is done again one by one. */
TEST(batch_expiry_one_transaction)
{
	struct fake_env *e = env_lease();
	unsigned k;

	for (k = 0; k < 5; k++) {
		struct mapping r = fake_req(TCP, (uint16_t)(7700 + k), "192.168.1.10",
					    (uint16_t)(7700 + k), "e", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 1, 0, NULL), ST_OK);
	}
	e->fw.fail_del = 1;
	store_expire_now(e->s, time_mono_ms() + 5000);
	CHECK_EQ(store_count(e->s), 0);
	CHECK_EQ(e->fw.n_flush_refused, 1);	/* then one by one (a failed one goes anyway) */
	CHECK_EQ(e->fw.n_kernel, 0);
	CHECK_EQ(fake_env_lease_records(e, '-'), 5);
	fake_env_free(e);
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* NAT-PMP: one element of a batch refused by the kernel.  The batch's
 * transaction is refused, the requests are handled again one by one:
 * the refused one is answered with a failure, the others with success,
 * each counted once, and the store, the kernel and the lease file hold
 * exactly the successes. */
TEST(batch_natpmp_refused_element_answered_truthfully)
{
	struct fake_env *e = fake_env_pmp_lease(5000, true);
	static struct pmp_req reqs[4];
	static uint8_t bufs[4][12];
	uint64_t before;
	unsigned k;

	for (k = 0; k < 4; k++) {
		char a[32];
		uint16_t p = (uint16_t)(8000 + k);

		str_printf(a, sizeof(a), "192.168.1.%u", 30 + k);
		reqs[k].from = fake_addr(a);
		memset(bufs[k], 0, 12);
		bufs[k][1] = NATPMP_OP_MAP_TCP;
		bufs[k][4] = bufs[k][6] = (uint8_t)(p >> 8);
		bufs[k][5] = bufs[k][7] = (uint8_t)p;
		bufs[k][10] = 0x0e, bufs[k][11] = 0x10;		/* 3600 s */
		reqs[k].req = bufs[k];
		reqs[k].len = 12;
	}
	e->fw.refuse_eport = 8002;
	before = counters_get(&e->ctx)->p[CTR_NATPMP].requests;
	CHECK_EQ(pmp_handle_batch(&e->ctx, reqs, 4), 0);
	CHECK_EQ(e->fw.n_flush_refused, 1);
	for (k = 0; k < 4; k++) {
		CHECK_EQ(reqs[k].rc, 1);
		CHECK_EQ(get16(reqs[k].resp + 2), k == 2 ? NATPMP_NO_RESOURCES : NATPMP_SUCCESS);
		CHECK_EQ(store_find(e->s, TCP, (uint16_t)(8000 + k), NULL) != NULL, k != 2);
		CHECK_EQ(fake_fw_has(&e->fw, TCP, (uint16_t)(8000 + k), (uint16_t)(8000 + k)), k != 2);
	}
	CHECK_EQ(counters_get(&e->ctx)->p[CTR_NATPMP].requests - before, 4);
	CHECK_EQ(counters_answers(counters_get(&e->ctx), CTR_NATPMP, NATPMP_SUCCESS), 3);
	CHECK_EQ(fake_env_lease_records(e, '+'), 3);
	/* restarted, the store holds what the answers said */
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 3);
	fake_env_free(e);
}

/* The relay's reservations in a batch the kernel refuses: taken back with
 * it, nobody told, nothing journaled; made again one by one they stay
 * pending (told and journaled once, at store_confirm()); a roll back in a
 * batch and a confirm taken back with its batch tell nobody either. */
TEST(batch_refused_reservations_told_once)
{
	struct fake_env *e = env_lease();
	struct mapping r = fake_req(TCP, 7400, "192.168.1.10", 7400, "r", OWNER_PCP);
	struct mapping q = fake_req(TCP, 7401, "192.168.1.10", 7401, "q", OWNER_PCP);
	struct heard h = { "" };
	struct mapping *m = NULL, *mq = NULL;
	unsigned plus = fake_env_lease_records(e, '+');
	int pass;

	CHECK_EQ(store_add_listener(e->s, hear, &h), 0);
	e->fw.refuse_eport = 7401;
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			store_hold_batch(e->s);
		else
			store_hold(e->s);
		CHECK(store_batching(e->s) == (pass == 0));
		CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
		CHECK_EQ(store_add(e->s, &q, 3600, STORE_F_RESERVE, NULL),
			 pass == 0 ? ST_OK : ST_E_FIREWALL);
		CHECK(m != NULL && store_pending(m));
		if (store_commit(e->s) != STORE_REDO)
			break;
		CHECK_EQ(pass, 0);
		CHECK(store_find(e->s, TCP, 7400, NULL) == NULL);
		CHECK(!fake_fw_has(&e->fw, TCP, 7400, 7400));
	}
	CHECK_STR(h.log, "");
	CHECK_EQ(fake_env_lease_records(e, '+'), plus);
	CHECK(store_find(e->s, TCP, 7400, NULL) == m && store_pending(m));
	CHECK(store_find(e->s, TCP, 7401, NULL) == NULL);
	/* confirmed in a batch that is refused: pending again, untold */
	e->fw.refuse_eport = 7402;
	store_hold_batch(e->s);
	store_confirm(e->s, m);
	q.eport = 7402;
	CHECK_EQ(store_add(e->s, &q, 3600, STORE_F_RESERVE, &mq), ST_OK);
	store_rollback(e->s, mq);
	CHECK_EQ(store_commit(e->s), STORE_REDO);
	CHECK(store_pending(m));
	CHECK_STR(h.log, "");
	CHECK_EQ(fake_env_lease_records(e, '+'), plus);
	/* confirmed for good: told and journaled once */
	store_confirm(e->s, m);
	CHECK(!store_pending(m));
	CHECK_STR(h.log, "A7400 ");
	CHECK_EQ(fake_env_lease_records(e, '+'), plus + 1);
	store_confirm(e->s, m);
	CHECK_STR(h.log, "A7400 ");
	fake_env_free(e);
}
