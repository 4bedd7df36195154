/* test_store.c - the mapping store on the fake backend. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_fw.h"
#include "ostree.h"
#include "pool.h"
#include "portinuse.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

static struct fake_env *
env(void)
{
	struct fake_env *e = fake_env_new(false);

	fake_env_start(e);
	return e;
}

TEST(store_add_find_conflict_refresh)
{
	struct fake_env *e = env();
	struct mapping r = fake_req(TCP, 8080, "192.168.1.10", 80, "web", OWNER_UPNP), *m;
	struct mapping other = fake_req(TCP, 8080, "192.168.1.11", 80, "web2", OWNER_UPNP);
	struct in6_addr any = fake_addr("0.0.0.0");

	CHECK_EQ(store_add(e->s, &r, 3600, 0, &m), ST_OK);
	CHECK(m != NULL && m->eport == 8080 && m->iport == 80);
	CHECK(store_find(e->s, TCP, 8080, NULL) == m);
	CHECK(store_find(e->s, TCP, 8080, &any) == m);	/* v4-mapped 0.0.0.0 is "any" */
	CHECK(store_find(e->s, UDP, 8080, NULL) == NULL);
	CHECK(fake_fw_has(&e->fw, TCP, 8080, 80));
	/* another client: conflict, nothing changes */
	CHECK_EQ(store_add(e->s, &other, 3600, 0, NULL), ST_E_CONFLICT);
	CHECK_EQ(store_check(e->s, &other, 0), ST_E_CONFLICT);
	CHECK(fake_fw_has(&e->fw, TCP, 8080, 80));
	/* same client: refresh in place; the backend is told, so that the
	 * kernel element's timeout follows the new lease */
	CHECK_EQ(e->fw.n_add, 1);
	r.desc = "web v2";
	CHECK_EQ(store_add(e->s, &r, 7200, 0, &m), ST_OK);
	CHECK_EQ(e->fw.n_add, 2);
	CHECK_EQ(e->fw.n_del, 0);
	CHECK_STR(m->desc, "web v2");
	CHECK(store_lease_left(e->s, m) > 3600);
	/* new iport: kernel element replaced (del + add) */
	r.iport = 81;
	CHECK_EQ(store_add(e->s, &r, 7200, 0, &m), ST_OK);
	CHECK_EQ(m->iport, 81);
	CHECK(fake_fw_has(&e->fw, TCP, 8080, 81));
	CHECK_EQ(e->fw.n_del, 1);
	CHECK(store_find_internal(e->s, TCP, r.iaddr, 81) == m);
	CHECK(store_find_internal(e->s, TCP, r.iaddr, 80) == NULL);
	/* NO_REFRESH: even the owner gets a conflict */
	CHECK_EQ(store_add(e->s, &r, 7200, STORE_F_NO_REFRESH, NULL), ST_E_CONFLICT);
	CHECK_EQ(store_count(e->s), 1);
	CHECK_EQ(store_get_stats(e->s)->refreshed, 2);
	/* invalid requests */
	r.iport = 0;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_INVAL);
	r.iport = 80;
	r.eport = 0;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_INVAL);
	fake_env_free(e);
}

/* Two mappings to the same internal side share one forward element: it
 * stays until the last of them goes. */
TEST(store_shared_forward_element)
{
	struct fake_env *e = env();
	struct mapping a = fake_req(TCP, 8080, "192.168.1.10", 80, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 8081, "192.168.1.10", 80, "b", OWNER_UPNP);
	struct mapping c = fake_req(TCP, 8082, "192.168.1.10", 80, "c", OWNER_UPNP);
	struct in6_addr rh = fake_addr("198.51.100.3");

	c.rhost = &rh;	/* a restricted one has its own element */
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &c, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 8082, c.rhost, NULL), ST_OK);
	CHECK(!e->fw.last_keep_forward);
	CHECK_EQ(store_del(e->s, TCP, 8080, NULL, NULL), ST_OK);
	CHECK(e->fw.last_keep_forward);
	CHECK_EQ(store_del(e->s, TCP, 8081, NULL, NULL), ST_OK);
	CHECK(!e->fw.last_keep_forward);
	/* a target change away from a shared internal side keeps it too */
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	b.iport = 81;
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	CHECK(e->fw.last_keep_forward);
	CHECK(fake_fw_has(&e->fw, TCP, 8081, 81));
	fake_env_free(e);
}

/* The SNAT element of an internal side (port preservation): the first
 * mapping holds it, the others leave it alone, and a delete hands it to a
 * remaining mapping of the side, whatever its remote host. */
TEST(store_shared_snat_element)
{
	struct fake_env *e = env();
	struct mapping a = fake_req(UDP, 6000, "192.168.1.10", 5000, "a", OWNER_UPNP);
	struct mapping b = fake_req(UDP, 6010, "192.168.1.10", 5000, "b", OWNER_UPNP);
	struct mapping c = fake_req(UDP, 6020, "192.168.1.11", 5000, "c", OWNER_UPNP);
	struct in6_addr rh = fake_addr("198.51.100.3");

	b.rhost = &rh;
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK(!e->fw.last_add_snat_shared);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	CHECK(e->fw.last_add_snat_shared);		/* a holds it */
	CHECK_EQ(store_add(e->s, &c, 3600, 0, NULL), ST_OK);
	CHECK(!e->fw.last_add_snat_shared);		/* another host */
	CHECK_EQ(store_add(e->s, &a, 7200, 0, NULL), ST_OK);	/* a refresh */
	CHECK(e->fw.last_add_snat_shared);		/* b exists: leave it be */
	CHECK_EQ(store_del(e->s, UDP, 6000, NULL, NULL), ST_OK);
	CHECK_EQ(e->fw.last_snat_heir, 6010);		/* b takes it over */
	CHECK(!e->fw.last_keep_forward);		/* b's forward element is its own */
	CHECK_EQ(store_del(e->s, UDP, 6010, &rh, NULL), ST_OK);
	CHECK_EQ(e->fw.last_snat_heir, 0);		/* the last one: removed */
	CHECK_EQ(store_del(e->s, UDP, 6020, NULL, NULL), ST_OK);
	CHECK_EQ(e->fw.last_snat_heir, 0);
	fake_env_free(e);
}

TEST(store_remote_host_is_part_of_the_key)
{
	struct fake_env *e = env();
	struct mapping a = fake_req(TCP, 5000, "192.168.1.10", 5000, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 5000, "192.168.1.11", 5000, "b", OWNER_UPNP);
	struct in6_addr rh = fake_addr("203.0.113.7");

	b.rhost = &rh;
	CHECK_EQ(store_add(e->s, &a, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_count(e->s), 2);
	CHECK(store_find(e->s, TCP, 5000, &rh) != NULL);
	CHECK_STR(store_find(e->s, TCP, 5000, &rh)->desc, "b");
	CHECK_STR(store_find(e->s, TCP, 5000, NULL)->desc, "a");
	/* order: (proto, eport, rhost), :: first */
	CHECK_STR(store_nth(e->s, 0)->desc, "a");
	CHECK_STR(store_nth(e->s, 1)->desc, "b");
	CHECK_EQ(store_del(e->s, TCP, 5000, &rh, NULL), ST_OK);
	CHECK(store_find(e->s, TCP, 5000, NULL) != NULL);
	fake_env_free(e);
}

/* find by key takes an unrestricted TCP or UDP mapping from a table by
 * port, not the tree: after random adds (restricted or not, TCP or UDP,
 * refreshes to another target) and deletes, on the lowest and highest
 * ports, with a pinhole beside them (its UniqueID is no port), every key
 * is found as a model of them says, the changed one after each step and
 * all of them now and then and at the end. */
struct port_model {
	bool held[2][64][2];	/* [TCP, UDP][port index][unrestricted, restricted] */
	struct in6_addr rh, any4;
};

static uint16_t
model_port(int pi)
{
	return (uint16_t)(pi < 32 ? pi + 1 : 65535 - (63 - pi));	/* 1..32, 65504..65535 */
}

static int
model_agrees(struct store *s, const struct port_model *md, int k, int pi, int r)
{
	uint8_t proto = k ? UDP : TCP;
	uint16_t port = model_port(pi);
	struct mapping *m = store_find(s, proto, port, r ? &md->rh : NULL);

	if ((m != NULL) != md->held[k][pi][r])
		return 0;
	if (m != NULL && (m->eport != port || m->proto != proto || mapping_is_pinhole(m) ||
			  addr_is_any(m->rhost) == (r != 0)))
		return 0;
	/* v4-mapped 0.0.0.0 is the unrestricted key too */
	return r || store_find(s, proto, port, &md->any4) == m;
}

TEST(store_find_by_port_follows_every_change)
{
	struct fake_env *e = env();
	struct port_model md = { .rh = fake_addr("203.0.113.7"), .any4 = fake_addr("0.0.0.0") };
	struct mapping pr = fake_req(TCP, 0, "2001:db8:1::10", 22, "pin", OWNER_UPNP), *pm;
	uint32_t x = 12345;
	int i, pi, r, k, n = 0;

	CHECK_EQ(store_pin_add(e->s, &pr, 3600, 0, &pm), ST_OK);
	CHECK(pm != NULL && store_find(e->s, TCP, pm->uid, NULL) == NULL);
	for (i = 0; i < 4000; i++) {
		x = x * 1103515245u + 12345u;
		pi = (int)((x >> 8) % 64);
		k = (int)((x >> 16) & 1);
		r = (int)((x >> 17) & 1);
		if ((x >> 18) % 3 != 0) {
			struct mapping m = fake_req(k ? UDP : TCP, model_port(pi), "192.168.1.10",
						    (uint16_t)(1000 + (x >> 20) % 2), "m", OWNER_UPNP);

			if (r)
				m.rhost = &md.rh;
			CHECK_EQ(store_add(e->s, &m, 0, 0, NULL), ST_OK);
			md.held[k][pi][r] = true;
		} else {
			CHECK_EQ(store_del(e->s, k ? UDP : TCP, model_port(pi), r ? &md.rh : NULL, NULL),
				 md.held[k][pi][r] ? ST_OK : ST_E_NOT_FOUND);
			md.held[k][pi][r] = false;
		}
		CHECK(model_agrees(e->s, &md, k, pi, r));
		CHECK(model_agrees(e->s, &md, k, pi, !r));
		for (k = 0; k < 2 && (i % 97 == 0 || i == 3999); k++)
			for (pi = 0; pi < 64; pi++)
				for (r = 0; r < 2; r++)
					CHECK(model_agrees(e->s, &md, k, pi, r));
	}
	for (k = 0; k < 2; k++)
		for (pi = 0; pi < 64; pi++)
			n += md.held[k][pi][0] + md.held[k][pi][1];
	CHECK_EQ(store_count(e->s), (size_t)n);
	CHECK(store_pin_find(e->s, pm->uid) == pm);
	fake_env_free(e);
}

TEST(store_expiry_order)
{
	struct fake_env *e = env();
	static const uint32_t life[] = { 30, 10, 0, 20, 5 };
	uint64_t now = time_mono_ms();
	size_t i;

	for (i = 0; i < ARRAY_SIZE(life); i++) {
		struct mapping r = fake_req(UDP, (uint16_t)(4000 + i), "192.168.1.10",
					    (uint16_t)(4000 + i), "x", OWNER_NATPMP);
		CHECK_EQ(store_add(e->s, &r, life[i], 0, NULL), ST_OK);
	}
	store_expire_now(e->s, now + 6000);	/* 5 s lease gone */
	CHECK_EQ(store_count(e->s), 4);
	CHECK(store_find(e->s, UDP, 4004, NULL) == NULL);
	CHECK(!fake_fw_has(&e->fw, UDP, 4004, 4004));
	store_expire_now(e->s, now + 10500);	/* 10 s */
	CHECK(store_find(e->s, UDP, 4001, NULL) == NULL);
	CHECK(store_find(e->s, UDP, 4003, NULL) != NULL);
	store_expire_now(e->s, now + 25000);	/* 20 s */
	CHECK(store_find(e->s, UDP, 4003, NULL) == NULL);
	CHECK(store_find(e->s, UDP, 4000, NULL) != NULL);
	store_expire_now(e->s, now + 1000000);	/* all leases; the permanent one stays */
	CHECK_EQ(store_count(e->s), 1);
	CHECK(store_find(e->s, UDP, 4002, NULL) != NULL);
	CHECK_EQ(store_lease_left(e->s, store_find(e->s, UDP, 4002, NULL)), 0);
	CHECK_EQ(store_get_stats(e->s)->expired, 4);
	CHECK_EQ(e->fw.n_kernel, 1);
	fake_env_free(e);
}

TEST(store_expiry_refresh_moves_deadline)
{
	struct fake_env *e = env();
	struct mapping r = fake_req(TCP, 6000, "192.168.1.10", 6000, "x", OWNER_NATPMP);
	uint64_t now = time_mono_ms();

	CHECK_EQ(store_add(e->s, &r, 5, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &r, 100, 0, NULL), ST_OK);	/* refresh: longer */
	store_expire_now(e->s, now + 10000);
	CHECK_EQ(store_count(e->s), 1);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);	/* now permanent */
	store_expire_now(e->s, now + 1000000);
	CHECK_EQ(store_count(e->s), 1);
	fake_env_free(e);
}

/* Listeners: an addition or a refresh counts 1, a removal 100 (10),
 * a refusal nothing. */
static bool
change_added(const struct store_change *ch)
{
	return ch->ev == STORE_EV_ADDED || ch->ev == STORE_EV_CHANGED || ch->ev == STORE_EV_RENEWED;
}

static void
change_counter(void *arg, const struct store_change *ch)
{
	struct igdd_ctx *ctx = arg;

	if (STORE_EV_IS_CHANGE(ch->ev))
		ctx->system_update_id += change_added(ch) ? 1 : 100;
}

TEST(store_expiry_by_loop_timer)
{
	struct fake_env *e = env();
	struct mapping r = fake_req(TCP, 6001, "192.168.1.10", 6001, "x", OWNER_PCP);
	int i;

	CHECK_EQ(store_add_listener(e->s, change_counter, &e->ctx), 0);
	CHECK_EQ(store_add(e->s, &r, 1, 0, NULL), ST_OK);
	CHECK_EQ(e->ctx.system_update_id, 1);
	for (i = 0; i < 40 && store_count(e->s) > 0; i++)
		loop_once(&e->ctx.loop, 100);
	CHECK_EQ(store_count(e->s), 0);
	CHECK_EQ(e->ctx.system_update_id, 101);
	fake_env_free(e);
}

static void
change_count_u(void *arg, const struct store_change *ch)
{
	if (STORE_EV_IS_CHANGE(ch->ev))
		*(unsigned *)arg += change_added(ch) ? 1 : 10;
}

/* Every listener hears every change, and the list is bounded. */
TEST(store_listeners_all_called)
{
	struct fake_env *e = env();
	struct mapping r = fake_req(TCP, 6002, "192.168.1.10", 6002, "x", OWNER_PCP);
	unsigned a = 0, b = 0, k;

	CHECK_EQ(store_add_listener(e->s, change_count_u, &a), 0);
	CHECK_EQ(store_add_listener(e->s, change_count_u, &b), 0);
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 6002, NULL, NULL), ST_OK);
	CHECK_EQ(a, 11);
	CHECK_EQ(b, 11);
	for (k = 2; k < STORE_MAX_LISTENERS; k++)
		CHECK_EQ(store_add_listener(e->s, change_count_u, &b), 0);
	CHECK_EQ(store_add_listener(e->s, change_count_u, &b), -1);
	fake_env_free(e);
}

TEST(store_nth_stable_order_after_deletes)
{
	struct fake_env *e = env();
	unsigned i, ports[] = { 9000, 22, 65535, 1024, 443, 8080, 3000, 1 };
	struct mapping *m;

	for (i = 0; i < ARRAY_SIZE(ports); i++) {
		struct mapping r = fake_req(i % 2 ? UDP : TCP, (uint16_t)ports[i], "192.168.1.10",
					    (uint16_t)ports[i], "n", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	/* TCP (6) before UDP (17), each by port */
	{
		static const unsigned want[] = { 443, 3000, 9000, 65535, 1, 22, 1024, 8080 };
		for (i = 0; i < ARRAY_SIZE(want); i++) {
			m = store_nth(e->s, i);
			CHECK(m != NULL && m->eport == want[i]);
			CHECK_EQ(m->proto, i < 4 ? TCP : UDP);
		}
	}
	CHECK(store_nth(e->s, 8) == NULL);
	CHECK_EQ(store_del(e->s, TCP, 3000, NULL, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, UDP, 1, NULL, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, UDP, 1, NULL, NULL), ST_E_NOT_FOUND);
	{
		static const unsigned want[] = { 443, 9000, 65535, 22, 1024, 8080 };
		for (i = 0; i < ARRAY_SIZE(want); i++)
			CHECK(store_nth(e->s, i) != NULL && store_nth(e->s, i)->eport == want[i]);
	}
	CHECK(store_nth(e->s, 6) == NULL);
	CHECK_EQ(store_count(e->s), 6);
	fake_env_free(e);
}

struct rangelog {
	char buf[256];
	struct store *s;
	int stop_after;
	bool del;
};

static int
range_cb(struct mapping *m, void *arg)
{
	struct rangelog *l = arg;

	str_appendf(l->buf, sizeof(l->buf), "%s%u ", m->proto == TCP ? "t" : "u", m->eport);
	if (l->del)
		store_del_mapping(l->s, m);
	return --l->stop_after == 0;
}

TEST(store_range_queries)
{
	struct fake_env *e = env();
	struct rangelog l;
	unsigned p;

	for (p = 100; p <= 110; p++) {
		struct mapping r = fake_req(TCP, (uint16_t)p, "192.168.1.10", (uint16_t)p, "r",
					    OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
		if (p % 5 == 0) {
			r.proto = UDP;
			CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
		}
	}
	memset(&l, 0, sizeof(l));
	l.stop_after = -1;
	CHECK_EQ(store_range(e->s, TCP, 103, 106, range_cb, &l), 4);
	CHECK_STR(l.buf, "t103 t104 t105 t106 ");
	memset(&l, 0, sizeof(l));
	l.stop_after = -1;
	/* proto 0: both protocols, key order */
	CHECK_EQ(store_range(e->s, 0, 104, 106, range_cb, &l), 4);
	CHECK_STR(l.buf, "t104 t105 t106 u105 ");
	memset(&l, 0, sizeof(l));
	l.stop_after = -1;
	CHECK_EQ(store_range(e->s, 0, 0, 65535, range_cb, &l), 14);
	memset(&l, 0, sizeof(l));
	l.stop_after = 2;	/* callback stops early */
	CHECK_EQ(store_range(e->s, UDP, 0, 65535, range_cb, &l), 2);
	CHECK_STR(l.buf, "u100 u105 ");
	memset(&l, 0, sizeof(l));
	l.stop_after = -1;
	CHECK_EQ(store_range(e->s, TCP, 200, 300, range_cb, &l), 0);
	CHECK_EQ(store_range(e->s, TCP, 106, 105, range_cb, &l), 0);
	/* DeletePortMappingRange: deleting from the callback is safe */
	memset(&l, 0, sizeof(l));
	l.stop_after = -1;
	l.del = true;
	l.s = e->s;
	CHECK_EQ(store_range(e->s, TCP, 101, 109, range_cb, &l), 9);
	CHECK_EQ(store_count(e->s), 5);
	CHECK(store_find(e->s, TCP, 100, NULL) != NULL);
	CHECK(store_find(e->s, TCP, 110, NULL) != NULL);
	CHECK(store_find(e->s, TCP, 105, NULL) == NULL);
	fake_env_free(e);
}

static struct perm_rule *
rules_new(unsigned n)
{
	struct perm_rule *r = calloc(n, sizeof(*r));

	if (r == NULL)
		abort();
	return r;
}

static void
rule_set(struct perm_rule *r, bool allow, uint16_t emin, uint16_t emax, const char *net,
	 unsigned bits)
{
	memset(r, 0, sizeof(*r));
	r->allow = allow;
	r->eport_min = emin;
	r->eport_max = emax;
	inet_pton(AF_INET, net, &r->addr);
	r->mask.s_addr = htonl(bits ? 0xffffffffu << (32 - bits) : 0);
	r->iport_min = 0;
	r->iport_max = 65535;
}

TEST(store_free_port_search)
{
	struct fake_env *e = fake_env_new(false);
	struct mapping r, *m;
	unsigned p;

	/* deny 5005-5009, allow the rest */
	e->ctx.cfg.perms = rules_new(2);
	e->ctx.cfg.n_perms = 2;
	rule_set(&e->ctx.cfg.perms[0], false, 5005, 5009, "0.0.0.0", 0);
	rule_set(&e->ctx.cfg.perms[1], true, 1024, 65535, "0.0.0.0", 0);
	fake_env_start(e);
	for (p = 5000; p < 5003; p++) {
		r = fake_req(TCP, (uint16_t)p, "192.168.1.20", (uint16_t)p, "taken", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	e->inuse[e->n_inuse++] = 5003;	/* the gateway listens there */
	r = fake_req(TCP, 5003, "192.168.1.10", 80, "want", OWNER_NATPMP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_PORT_IN_USE);
	r.eport = 5000;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_CONFLICT);
	/* search: 5000-5002 taken, 5003 in use, 5004 free */
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK_EQ(m->eport, 5004);
	/* next: 5005-5009 denied by the rules, 5010 */
	CHECK_EQ(store_check(e->s, &r, STORE_F_ANY_PORT), ST_OK);
	r.iport = 81;
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK_EQ(m->eport, 5010);
	/* a denied wanted port is a permission error without ANY_PORT */
	r.eport = 5006;
	r.iport = 82;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_PERMISSION);
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK_EQ(m->eport, 5011);
	/* wraps from 65535 to 1024 */
	r = fake_req(TCP, 65535, "192.168.1.30", 9, "top", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	r.iport = 10;
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK_EQ(m->eport, 1024);
	/* the same client asking again for its own mapping: refreshed */
	r.iport = 9;
	r.eport = 65535;
	CHECK_EQ(store_add(e->s, &r, 60, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK_EQ(m->eport, 65535);
	/* bounded effort */
	store_set_search_limit(e->s, 2);
	r = fake_req(TCP, 5000, "192.168.1.40", 1, "bounded", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, NULL), ST_E_NO_PORT);
	store_set_search_limit(e->s, STORE_SEARCH_LIMIT);
	/* eport 0 = "anything": starts from the internal port */
	r.eport = 0;
	r.iport = 7000;
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK_EQ(m->eport, 7000);
	free(e->ctx.cfg.perms);
	fake_env_free(e);
}

TEST(store_free_port_search_permission_only)
{
	struct fake_env *e = fake_env_new(false);
	struct perm_rule *rules = rules_new(2);
	struct mapping r, *m;

	/* only 40000-40001 allowed for this client */
	e->ctx.cfg.perms = rules;
	e->ctx.cfg.n_perms = 2;
	rule_set(&rules[0], true, 40000, 40001, "192.168.1.0", 24);
	rule_set(&rules[1], false, 0, 65535, "0.0.0.0", 0);
	fake_env_start(e);
	store_set_search_limit(e->s, 4);	/* denied ranges do not count */
	r = fake_req(UDP, 1500, "192.168.1.10", 1500, "p", OWNER_NATPMP);
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK_EQ(m->eport, 40000);
	r.iport = 1501;
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK_EQ(m->eport, 40001);
	r.iport = 1502;
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, NULL), ST_E_NO_PORT);
	/* another network: nothing allowed at all */
	r = fake_req(UDP, 1500, "10.1.1.1", 1500, "p", OWNER_NATPMP);
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, NULL), ST_E_PERMISSION);
	fake_env_free(e);
	free(rules);
}

TEST(store_quotas)
{
	struct fake_env *e = fake_env_new(false);
	struct mapping r;
	struct in6_addr a = fake_addr("192.168.1.10");
	unsigned i;

	e->ctx.cfg.max_mappings_per_client = 3;
	e->ctx.cfg.max_mappings = 5;
	fake_env_start(e);
	for (i = 0; i < 3; i++) {
		r = fake_req(TCP, (uint16_t)(2000 + i), "192.168.1.10", 80, "q", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	CHECK_EQ(store_count_client(e->s, &a), 3);
	r = fake_req(TCP, 2003, "192.168.1.10", 80, "q", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_QUOTA_CLIENT);
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, NULL), ST_E_QUOTA_CLIENT);
	/* a refresh is not a new mapping */
	r.eport = 2000;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	for (i = 0; i < 2; i++) {
		r = fake_req(TCP, (uint16_t)(3000 + i), "192.168.1.11", 80, "q", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	r = fake_req(TCP, 3002, "192.168.1.12", 80, "q", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_QUOTA_TOTAL);
	/* static (admin) mappings are not limited */
	fake_owner(&r)->proto = OWNER_STATIC;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 2001, NULL, NULL), ST_OK);
	CHECK_EQ(store_count_client(e->s, &a), 2);
	r = fake_req(TCP, 2003, "192.168.1.10", 80, "q", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_QUOTA_TOTAL);	/* 6 > 5 */
	CHECK_EQ(store_del(e->s, TCP, 3002, NULL, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	fake_env_free(e);
}

TEST(store_secure_mode)
{
	struct fake_env *e = fake_env_new(false);
	struct mapping r = fake_req(TCP, 4444, "192.168.1.10", 4444, "s", OWNER_UPNP);
	struct in6_addr me = fake_addr("192.168.1.10"), other = fake_addr("192.168.1.99");

	e->ctx.cfg.secure_mode = true;
	fake_env_start(e);
	fake_owner(&r)->addr = other;	/* .99 asks for a mapping to .10 */
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_SECURE);
	CHECK_EQ(store_check(e->s, &r, 0), ST_E_SECURE);
	CHECK_EQ(store_add(e->s, &r, 0, STORE_F_THIRD_PARTY, NULL), ST_OK);	/* PCP third party */
	CHECK_EQ(store_del(e->s, TCP, 4444, NULL, NULL), ST_OK);
	fake_owner(&r)->addr = me;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 4444, NULL, &other), ST_E_NOT_OWNER);
	CHECK(store_find(e->s, TCP, 4444, NULL) != NULL);
	CHECK_EQ(store_del(e->s, TCP, 4444, NULL, &me), ST_OK);
	/* not secure: anyone may delete (but never a static mapping) */
	e->ctx.cfg.secure_mode = false;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 4444, NULL, &other), ST_OK);
	fake_owner(&r)->proto = OWNER_STATIC;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 4444, NULL, &me), ST_E_NOT_OWNER);
	/* nor take it over */
	fake_owner(&r)->proto = OWNER_UPNP;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_CONFLICT);
	CHECK_EQ(store_del(e->s, TCP, 4444, NULL, NULL), ST_OK);	/* admin */
	fake_env_free(e);
}

/* Issue 14, two LANs: a requester maps to, refreshes and deletes for
 * clients of its own LAN interface only, unless a permission rule
 * explicitly allows the client (lan0 192.168.1.0/24, lan1 192.168.2.0/24). */
TEST(store_lans_apart)
{
	struct fake_env *e = fake_env_new(true);
	struct mapping r = fake_req(TCP, 4444, "192.168.2.20", 4444, "x", OWNER_UPNP);
	struct mapping own = fake_req(TCP, 4445, "192.168.1.20", 4445, "y", OWNER_UPNP);
	struct in6_addr lan0 = fake_addr("192.168.1.10"), lan1 = fake_addr("192.168.2.30");
	struct perm_rule *rules = rules_new(2);

	e->ctx.cfg.secure_mode = false;
	fake_env_start(e);
	fake_owner(&r)->addr = lan0;
	fake_owner(&own)->addr = lan0;
	/* no rules at all: the default allow is not an explicit one */
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_E_PERMISSION);
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_THIRD_PARTY, NULL), ST_E_PERMISSION);
	CHECK_EQ(store_add(e->s, &own, 3600, 0, NULL), ST_OK);	/* its own LAN */
	/* a host of lan1 maps for lan1; lan0 may neither delete nor refresh it */
	fake_owner(&r)->addr = lan1;
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 4444, NULL, &lan0), ST_E_NOT_OWNER);
	fake_owner(&r)->addr = lan0;
	CHECK_EQ(store_add(e->s, &r, 7200, 0, NULL), ST_E_PERMISSION);
	CHECK(store_find(e->s, TCP, 4444, NULL) != NULL);
	/* an explicit allow rule for the client lets lan0 do both */
	rule_set(&rules[0], true, 1024, 65535, "192.168.2.0", 24);
	rule_set(&rules[1], true, 1024, 65535, "192.168.1.0", 24);
	e->ctx.cfg.perms = rules;
	e->ctx.cfg.n_perms = 2;
	CHECK_EQ(store_add(e->s, &r, 7200, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 4444, NULL, &lan0), ST_OK);
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	/* a restart whose rules no longer allow it drops the lease */
	e->ctx.cfg.n_perms = 0;
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 1);
	CHECK(store_find(e->s, TCP, 4444, NULL) == NULL);
	/* the administrator's static mappings are exempt */
	fake_owner(&r)->proto = OWNER_STATIC;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	e->ctx.cfg.perms = NULL;
	free(rules);
	fake_env_free(e);
}

TEST(store_pcp_nonce)
{
	struct fake_env *e = env();
	struct mapping r = fake_req(UDP, 7777, "192.168.1.10", 7777, "pcp", OWNER_PCP);

	memset(fake_owner(&r)->nonce, 0xaa, sizeof(fake_owner(&r)->nonce));
	CHECK_EQ(store_add(e->s, &r, 60, STORE_F_CHECK_NONCE, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &r, 120, STORE_F_CHECK_NONCE, NULL), ST_OK);
	fake_owner(&r)->nonce[0] = 0xbb;
	CHECK_EQ(store_add(e->s, &r, 120, STORE_F_CHECK_NONCE, NULL), ST_E_NONCE);
	CHECK_EQ(store_check(e->s, &r, STORE_F_CHECK_NONCE), ST_E_NONCE);
	CHECK_EQ(store_add(e->s, &r, 120, 0, NULL), ST_OK);	/* without the flag: refresh */
	CHECK_EQ(store_find(e->s, UDP, 7777, NULL)->owner->nonce[0], 0xbb);
	fake_env_free(e);
}

TEST(store_permission_rules_apply)
{
	struct fake_env *e = fake_env_new(false);
	struct perm_rule *rules = rules_new(3);
	struct mapping r = fake_req(TCP, 80, "192.168.1.10", 80, "web", OWNER_UPNP);

	e->ctx.cfg.perms = rules;
	e->ctx.cfg.n_perms = 3;
	rule_set(&rules[0], true, 1024, 65535, "192.168.1.0", 24);
	rules[0].iport_min = 1024;
	rule_set(&rules[1], true, 0, 65535, "192.168.1.0", 24);
	rules[1].has_regex = true;
	regcomp(&rules[1].regex, "^admin", REG_EXTENDED | REG_ICASE | REG_NOSUB);
	rule_set(&rules[2], false, 0, 65535, "0.0.0.0", 0);	/* deny the rest */
	fake_env_start(e);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_PERMISSION);	/* iport < 1024 */
	CHECK(!store_permitted(e->s, 80, r.iaddr, 80, "web"));
	r.desc = "ADMIN web";
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);		/* regex rule */
	/* a refresh with a description the rules refuse is refused */
	r.desc = "web";
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_PERMISSION);
	CHECK_STR(store_find(e->s, TCP, 80, NULL)->desc, "ADMIN web");
	r = fake_req(TCP, 2000, "192.168.1.10", 2000, "x", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	r = fake_req(TCP, 2001, "192.168.2.10", 2000, "x", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_PERMISSION);	/* the final deny */
	/* without it, what no rule matches is allowed (miniupnpd) */
	e->ctx.cfg.n_perms = 2;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	e->ctx.cfg.n_perms = 3;
	fake_env_free(e);
	regfree(&rules[1].regex);
	free(rules);
}

TEST(store_backend_refusal_changes_nothing)
{
	struct fake_env *e = fake_env_new(true);
	struct mapping r = fake_req(TCP, 8000, "192.168.1.10", 8000, "fw", OWNER_UPNP), *m;
	char before[4096], after[4096];

	fake_env_start(e);
	CHECK_EQ(store_add(e->s, &r, 100, 0, NULL), ST_OK);
	CHECK(fake_env_read_lease(e, before, sizeof(before)) > 0);
	/* a new mapping the kernel refuses */
	e->fw.fail_add = 1;
	r.eport = 8001;
	CHECK_EQ(store_add(e->s, &r, 100, 0, NULL), ST_E_FIREWALL);
	CHECK(store_find(e->s, TCP, 8001, NULL) == NULL);
	CHECK_EQ(store_count(e->s), 1);
	/* a refresh that changes the internal port: del ok, add refused,
	 * the old element is put back */
	r.eport = 8000;
	r.iport = 9000;
	e->fw.fail_add = 1;
	CHECK_EQ(store_add(e->s, &r, 100, 0, NULL), ST_E_FIREWALL);
	m = store_find(e->s, TCP, 8000, NULL);
	CHECK(m != NULL && m->iport == 8000);
	CHECK(fake_fw_has(&e->fw, TCP, 8000, 8000));
	CHECK(store_find_internal(e->s, TCP, r.iaddr, 8000) == m);
	/* a delete the kernel refuses */
	e->fw.fail_del = 1;
	CHECK_EQ(store_del(e->s, TCP, 8000, NULL, NULL), ST_E_FIREWALL);
	CHECK(store_find(e->s, TCP, 8000, NULL) != NULL);
	CHECK(fake_env_read_lease(e, after, sizeof(after)) > 0);
	CHECK(strcmp(after, before) == 0);
	CHECK_EQ(store_get_stats(e->s)->fw_errors, 3);
	fake_env_free(e);
}

TEST(store_disabled_mappings_stay_out_of_the_kernel)
{
	struct fake_env *e = env();
	struct mapping r = fake_req(TCP, 8100, "192.168.1.10", 8100, "d", OWNER_UPNP);

	r.enabled = false;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	CHECK_EQ(e->fw.n_kernel, 0);
	r.enabled = true;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	CHECK(fake_fw_has(&e->fw, TCP, 8100, 8100));
	r.enabled = false;
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	CHECK_EQ(e->fw.n_kernel, 0);
	CHECK_EQ(store_count(e->s), 1);
	CHECK_EQ(store_reinstall(e->s), 0);
	CHECK_EQ(e->fw.last_install_n, 0);
	fake_env_free(e);
}

TEST(store_del_owner_and_find_internal)
{
	struct fake_env *e = env();
	struct in6_addr a = fake_addr("192.168.1.10"), b = fake_addr("192.168.1.11");
	struct mapping r;
	unsigned i;

	for (i = 0; i < 4; i++) {
		r = fake_req(i % 2 ? UDP : TCP, (uint16_t)(6000 + i), "192.168.1.10", 500,
			     "pmp", OWNER_NATPMP);
		CHECK_EQ(store_add(e->s, &r, 60, 0, NULL), ST_OK);
	}
	r = fake_req(TCP, 6100, "192.168.1.10", 501, "upnp", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	r = fake_req(TCP, 6200, "192.168.1.11", 500, "other", OWNER_NATPMP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	/* first in key order among the internal matches */
	CHECK(store_find_internal(e->s, TCP, &a, 500) != NULL);
	CHECK_EQ(store_find_internal(e->s, TCP, &a, 500)->eport, 6000);
	CHECK_EQ(store_find_internal(e->s, UDP, &a, 500)->eport, 6001);
	CHECK_EQ(store_find_internal(e->s, TCP, &b, 500)->eport, 6200);
	CHECK(store_find_internal(e->s, TCP, &a, 502) == NULL);
	/* NAT-PMP "delete all UDP" then "all" */
	CHECK_EQ(store_del_owner(e->s, OWNER_NATPMP, &a, UDP, NULL, NULL), 2);
	CHECK(store_find_internal(e->s, UDP, &a, 500) == NULL);
	CHECK_EQ(store_del_owner(e->s, OWNER_NATPMP, &a, 0, NULL, NULL), 2);
	CHECK_EQ(store_count(e->s), 2);		/* the UPnP one and .11's stay */
	CHECK(store_find(e->s, TCP, 6100, NULL) != NULL);
	CHECK_EQ(store_count_client(e->s, &a), 1);
	CHECK_EQ(store_del_owner(e->s, OWNER_NATPMP, &a, 0, NULL, NULL), 0);
	CHECK_EQ(store_del_owner(e->s, OWNER_UPNP, &a, 0, NULL, NULL), 1);
	CHECK_EQ(store_count_client(e->s, &a), 0);
	fake_env_free(e);
}

/* Addresses and owners are kept once and shared by their mappings; an
 * owner change on refresh moves the mapping to the new owner's list; a
 * PCP "delete all" takes only its own nonce's mappings.  (Entries are
 * freed with their last mapping: the ASan build's leak check.) */
TEST(store_shares_addresses_and_owners)
{
	struct fake_env *e = env();
	struct in6_addr c1 = fake_addr("192.168.1.10"), peer = fake_addr("198.51.100.9");
	struct mapping a = fake_req(TCP, 7000, "192.168.1.10", 70, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 7001, "192.168.1.10", 71, "b", OWNER_UPNP);
	struct mapping c = fake_req(UDP, 7002, "192.168.1.10", 72, "c", OWNER_NATPMP);
	struct mapping d = fake_req(TCP, 7003, "192.168.1.11", 73, "d", OWNER_UPNP);
	struct mapping p1 = fake_req(UDP, 7100, "192.168.1.10", 80, "p1", OWNER_PCP);
	struct mapping p2 = fake_req(UDP, 7101, "192.168.1.10", 81, "p2", OWNER_PCP);
	struct mapping *ma, *mb, *mc, *md;

	b.rhost = &peer;
	d.rhost = &peer;
	CHECK_EQ(store_add(e->s, &a, 0, 0, &ma), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 0, 0, &mb), ST_OK);
	CHECK_EQ(store_add(e->s, &c, 0, 0, &mc), ST_OK);
	CHECK_EQ(store_add(e->s, &d, 0, 0, &md), ST_OK);
	CHECK(ma->iaddr == mb->iaddr && mb->iaddr == mc->iaddr && ma->iaddr != md->iaddr);
	CHECK(ma->iaddr != a.iaddr && addr_eq(ma->iaddr, &c1));	/* a copy, not the caller's */
	CHECK(ma->owner == mb->owner && ma->owner != mc->owner);
	CHECK(mb->rhost == md->rhost && ma->rhost != mb->rhost && addr_is_any(ma->rhost));
	/* the NAT-PMP mapping refreshed through UPnP: UPnP's now */
	fake_owner(&c)->proto = OWNER_UPNP;
	CHECK_EQ(store_add(e->s, &c, 0, 0, &mc), ST_OK);
	CHECK(mc->owner == ma->owner);
	CHECK_EQ(store_del_owner(e->s, OWNER_NATPMP, &c1, 0, NULL, NULL), 0);
	CHECK_EQ(store_del_owner(e->s, OWNER_UPNP, &c1, 0, NULL, NULL), 3);
	CHECK_EQ(store_count(e->s), 1);
	/* PCP: two nonces of one host */
	memset(fake_owner(&p1)->nonce, 1, sizeof(p1.owner->nonce));
	memset(fake_owner(&p2)->nonce, 2, sizeof(p2.owner->nonce));
	CHECK_EQ(store_add(e->s, &p1, 60, STORE_F_CHECK_NONCE, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &p2, 60, STORE_F_CHECK_NONCE, NULL), ST_OK);
	CHECK_EQ(store_del_owner(e->s, OWNER_PCP, &c1, 0, NULL, p2.owner->nonce), 1);
	CHECK(store_find(e->s, UDP, 7100, NULL) != NULL);
	CHECK(store_find(e->s, UDP, 7101, NULL) == NULL);
	CHECK_EQ(store_count_client(e->s, &c1), 1);
	/* a host and an owner of the same address and a zero nonce (an
	 * administrator's, protocol 0) are two entries */
	a = fake_req(TCP, 7200, "192.168.1.10", 90, "s", OWNER_STATIC);
	*fake_owner(&a) = (struct mapping_owner){ .addr = c1, .proto = OWNER_STATIC };
	CHECK_EQ(store_add(e->s, &a, 0, 0, &ma), ST_OK);
	CHECK((const void *)ma->owner != (const void *)ma->iaddr);
	CHECK(ma->owner->proto == OWNER_STATIC && addr_eq(&ma->owner->addr, ma->iaddr));
	CHECK_EQ(store_count_client(e->s, &c1), 2);
	CHECK_EQ(store_del_owner(e->s, OWNER_STATIC, &c1, 0, NULL, NULL), 1);
	CHECK_EQ(store_count_client(e->s, &c1), 1);
	fake_env_free(e);
}

/* The internal-side index (open addressing) against a model: many
 * mappings per internal key, so probe runs are long; deletions in a
 * scrambled order shift them back; re-adds and internal-port changes
 * (a rehash) follow.  store_find_internal() must name the first mapping
 * of its key in tree order, or NULL. */
#define CHURN_N 1000
static const char *const churn_host[4] = {
	"192.168.1.10", "192.168.1.11", "192.168.1.12", "192.168.1.13" };

static uint16_t
churn_iport(unsigned i, const uint16_t *moved)
{
	return (uint16_t)(100 + i % 10 + moved[i]);
}

static void
churn_check(struct fake_env *e, const bool *live, const uint16_t *moved)
{
	unsigned h, p, ip, i;

	for (h = 0; h < 4; h++) {
		struct in6_addr a = fake_addr(churn_host[h]);

		for (p = 0; p < 2; p++)
			for (ip = 100; ip < 160; ip++) {
				const struct mapping *m = store_find_internal(e->s, p ? UDP : TCP, &a,
									      (uint16_t)ip);
				unsigned want = CHURN_N;

				/* eport 10000 + i: the first live one is the lowest i */
				for (i = 0; i < CHURN_N && want == CHURN_N; i++)
					if (live[i] && i / 10 % 4 == h && i % 2 == p &&
					    churn_iport(i, moved) == ip)
						want = i;
				if (want == CHURN_N)
					CHECK(m == NULL);
				else
					CHECK(m != NULL && m->eport == 10000 + want);
			}
	}
}

static void
churn_add(struct fake_env *e, unsigned i, const uint16_t *moved)
{
	struct mapping r = fake_req(i % 2 ? UDP : TCP, (uint16_t)(10000 + i),
				    churn_host[i / 10 % 4], churn_iport(i, moved), "c", OWNER_UPNP);

	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
}

TEST(store_internal_index_churn)
{
	struct fake_env *e = env();
	static bool live[CHURN_N];
	static uint16_t moved[CHURN_N];
	unsigned i, k, x = 1;

	memset(moved, 0, sizeof(moved));
	for (i = 0; i < CHURN_N; i++) {
		churn_add(e, i, moved);
		live[i] = true;
	}
	churn_check(e, live, moved);
	for (k = 0; k < 600; k++) {	/* scrambled deletions */
		do
			x = (x * 1103515245u + 12345u) & 0x7fffffff;
		while (!live[x % CHURN_N]);
		i = x % CHURN_N;
		CHECK_EQ(store_del(e->s, i % 2 ? UDP : TCP, (uint16_t)(10000 + i), NULL, NULL), ST_OK);
		live[i] = false;
		if (k % 100 == 99)
			churn_check(e, live, moved);
	}
	for (i = 0; i < CHURN_N; i += 3) {	/* some come back */
		if (!live[i]) {
			churn_add(e, i, moved);
			live[i] = true;
		}
	}
	churn_check(e, live, moved);
	for (i = 0; i < CHURN_N; i += 7) {	/* a new internal port: rehashed */
		if (live[i]) {
			moved[i] = 50;
			churn_add(e, i, moved);
		}
	}
	churn_check(e, live, moved);
	for (i = 0; i < CHURN_N; i++)
		if (live[i])
			CHECK_EQ(store_del(e->s, i % 2 ? UDP : TCP, (uint16_t)(10000 + i), NULL, NULL),
				 ST_OK);
	CHECK_EQ(store_count(e->s), 0);
	memset(live, 0, sizeof(live));
	churn_check(e, live, moved);
	fake_env_free(e);
}

TEST(store_idle_cleanup)
{
	struct fake_env *e = fake_env_new(false);
	struct mapping r;
	unsigned i;

	e->ctx.cfg.clean_ruleset_threshold = 2;
	e->ctx.cfg.clean_ruleset_interval = 600;
	fake_env_start(e);
	for (i = 0; i < 4; i++) {
		r = fake_req(TCP, (uint16_t)(7000 + i), "192.168.1.10", (uint16_t)(7000 + i), "i",
			     i == 3 ? OWNER_STATIC : OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	CHECK_EQ(store_idle_pass(e->s), 0);		/* first pass records */
	fake_fw_set_packets(&e->fw, TCP, 7000, 10);	/* 7000 saw traffic */
	CHECK_EQ(store_idle_pass(e->s), 2);		/* 7001, 7002 idle; static stays */
	CHECK(store_find(e->s, TCP, 7000, NULL) != NULL);
	CHECK(store_find(e->s, TCP, 7003, NULL) != NULL);
	CHECK_EQ(store_get_stats(e->s)->idle_removed, 2);
	/* two left: not above the threshold, nothing done */
	CHECK_EQ(store_idle_pass(e->s), 0);
	CHECK_EQ(store_count(e->s), 2);
	fake_env_free(e);
}

TEST(store_sanitize_descriptions)
{
	char out[16];
	struct fake_env *e = env();
	struct mapping r = fake_req(TCP, 1234, "192.168.1.10", 1234, "", OWNER_UPNP), *m;

	store_sanitize_desc(out, sizeof(out), "a\r\nb\x7f", 6);
	CHECK_STR(out, "a??b?");
	store_sanitize_desc(out, sizeof(out), "caf\xc3\xa9 \xff\xc3", 9);
	CHECK_STR(out, "caf\xc3\xa9 ??");
	store_sanitize_desc(out, sizeof(out), "\xed\xa0\x80", 3);	/* surrogate */
	CHECK_STR(out, "???");
	store_sanitize_desc(out, 6, "abcd\xc3\xa9", 6);	/* no half characters */
	CHECK_STR(out, "abcd");
	r.desc = "x\ny%z\t";
	CHECK_EQ(store_add(e->s, &r, 0, 0, &m), ST_OK);
	CHECK_STR(m->desc, "x?y%z?");
	fake_env_free(e);
}

/* The store keeps each description at its own length: refreshes with a
 * longer, a shorter and no description, a 4 KiB one cut to 255 bytes,
 * and the requester's buffer reused at once (run under ASan too). */
TEST(store_description_storage)
{
	char buf[4096];
	struct fake_env *e = env();
	struct mapping r = fake_req(TCP, 1234, "192.168.1.10", 1234, "ab", OWNER_UPNP), *m;

	CHECK_EQ(store_add(e->s, &r, 0, 0, &m), ST_OK);
	CHECK_STR(m->desc, "ab");
	str_copy(buf, sizeof(buf), "a description longer than the first one");
	r.desc = buf;
	CHECK_EQ(store_add(e->s, &r, 0, 0, &m), ST_OK);
	memset(buf, 'z', 8);			/* the store made its own copy */
	CHECK_STR(m->desc, "a description longer than the first one");
	r.desc = "c";
	CHECK_EQ(store_add(e->s, &r, 0, 0, &m), ST_OK);
	CHECK_STR(m->desc, "c");
	r.desc = NULL;
	CHECK_EQ(store_add(e->s, &r, 0, 0, &m), ST_OK);
	CHECK_STR(m->desc, "");
	memset(buf, 'd', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	r.desc = buf;
	CHECK_EQ(store_add(e->s, &r, 0, 0, &m), ST_OK);
	CHECK_EQ(strlen(m->desc), MAPPING_DESC_MAX - 1);
	CHECK_EQ(store_del(e->s, TCP, 1234, NULL, NULL), ST_OK);
	CHECK_EQ(store_count(e->s), 0);
	fake_env_free(e);
}

TEST(store_clamp_lifetime)
{
	struct fake_env *e = fake_env_new(false);

	e->ctx.cfg.min_lifetime = 120;
	e->ctx.cfg.max_lifetime = 86400;
	fake_env_start(e);
	CHECK_EQ(store_clamp_lifetime(e->s, 10), 120);
	CHECK_EQ(store_clamp_lifetime(e->s, 3600), 3600);
	CHECK_EQ(store_clamp_lifetime(e->s, 1000000), 86400);
	e->ctx.cfg.min_lifetime = e->ctx.cfg.max_lifetime = 0;
	CHECK_EQ(store_clamp_lifetime(e->s, 7), 7);
	CHECK(strcmp(store_strerror(ST_E_QUOTA_CLIENT), "unknown error") != 0);
	fake_env_free(e);
}

TEST(store_port_in_use_proc_lines)
{
	struct in_addr ext;

	inet_pton(AF_INET, "203.0.113.1", &ext);
	CHECK_EQ(portinuse_parse_line("  sl  local_address rem_address   st tx_queue", false, TCP, ext), -1);
	CHECK_EQ(portinuse_parse_line("   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 636 1", false, TCP, ext), 22);
	/* 127.0.0.1 listener: not reachable from outside */
	CHECK_EQ(portinuse_parse_line("   1: 0100007F:0035 00000000:0000 0A 00000000:00000000", false, TCP, ext), -1);
	/* established connection: not a listener */
	CHECK_EQ(portinuse_parse_line("   2: 00000000:1F90 0A000001:D431 01 00000000:00000000", false, TCP, ext), -1);
	/* bound on the external address 203.0.113.1 (kernel prints 017100CB on little endian) */
	{
		char line[128];
		str_printf(line, sizeof(line), "   3: %08X:0050 00000000:0000 0A 0", ext.s_addr);
		CHECK_EQ(portinuse_parse_line(line, false, TCP, ext), 80);
	}
	/* UDP: unconnected sockets only */
	CHECK_EQ(portinuse_parse_line("   4: 00000000:14E9 00000000:0000 07 0", false, UDP, ext), 5353);
	CHECK_EQ(portinuse_parse_line("   4: 00000000:14E9 00000000:0000 0A 0", false, UDP, ext), -1);
	/* tcp6 wildcard */
	CHECK_EQ(portinuse_parse_line("   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 0", true, TCP, ext), 22);
	CHECK_EQ(portinuse_parse_line("   0: 0000000000000000000000000000000:0016", true, TCP, ext), -1);
	CHECK_EQ(portinuse_parse_line("garbage", false, TCP, ext), -1);
	CHECK_EQ(portinuse_parse_line("", false, TCP, ext), -1);
}

/* --- the order-statistic tree against a reference --------------------- */

struct onode {
	struct ost_node tn;
	unsigned key;
};

static int
ocmp(const struct ost_node *a, const struct ost_node *b)
{
	unsigned x = container_of(a, struct onode, tn)->key, y = container_of(b, struct onode, tn)->key;

	return x < y ? -1 : x > y;
}

static int
okeycmp(const void *k, const struct ost_node *b)
{
	unsigned x = *(const unsigned *)k, y = container_of(b, struct onode, tn)->key;

	return x < y ? -1 : x > y;
}

TEST(ostree_random_against_reference)
{
	enum { N = 2000 };
	static uint32_t id[N + 1];
	static bool in[N];
	struct pool p;
	struct ost t;
	unsigned i, step, seed = 12345;
	bool ok = true;

	pool_init(&p, sizeof(struct onode));
	ost_init(&t, ocmp, &p, offsetof(struct onode, tn));
	memset(in, 0, sizeof(in));
	for (i = 0; i <= N; i++) {
		id[i] = pool_get(&p);
		CHECK(id[i] != 0);
		if (id[i] == 0)
			return;
		((struct onode *)pool_at(&p, id[i]))->key = i < N ? i * 2 : 0;
	}
#define ONODE(i) (&((struct onode *)pool_at(&p, id[i]))->tn)
	for (step = 0; step < 20000 && ok; step++) {
		seed = seed * 1103515245u + 12345u;
		i = (seed >> 8) % N;
		if (in[i]) {
			ost_remove(&t, id[i]);
			in[i] = false;
		} else {
			CHECK_EQ(ost_insert(&t, id[i]), 0);
			in[i] = true;
		}
		if (step % 997 == 0) {
			size_t rank = 0, j, cnt = 0;
			ok = ost_verify(&t) == 0;
			CHECK(ok);
			for (j = 0; j < N; j++) {
				if (!in[j])
					continue;
				if (ost_nth(&t, cnt) != ONODE(j))
					ok = false;
				cnt++;
			}
			CHECK(ok);
			CHECK_EQ(ost_count(&t), cnt);
			/* bound: odd keys fall between nodes */
			{
				unsigned k = 2 * (N / 2) + 1;
				struct ost_node *b = ost_bound(&t, &k, okeycmp, false, &rank);
				for (j = N / 2 + 1; j < N && !in[j]; j++)
					;
				CHECK(b == (j < N ? ONODE(j) : NULL));
			}
		}
	}
	/* duplicates are refused (element N has key 0, as element 0) */
	if (!in[0]) {
		ost_insert(&t, id[0]);
		in[0] = true;
	}
	CHECK_EQ(ost_insert(&t, id[N]), -1);
	CHECK(ost_find(&t, &((struct onode *)pool_at(&p, id[N]))->key, okeycmp) == ONODE(0));
	CHECK_EQ(ost_verify(&t), 0);
#undef ONODE
	for (i = 0; i <= N; i++)
		pool_put(&p, id[i]);
	CHECK_EQ(p.used, 0);
	pool_clear(&p);
}

static int
bound_socket(int type, bool listening, bool v6, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = v6 ? AF_INET6 : AF_INET;	/* wildcard address, port 0 */
	len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (listening && listen(fd, 1) < 0) || getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

TEST(store_port_in_use_live_sockets)
{
	static uint8_t bits[PORTINUSE_BITMAP_BYTES];
	struct in_addr none = { 0 };
	uint16_t tp = 0, up = 0, t6 = 0, cp = 0;
	int lt = bound_socket(SOCK_STREAM, true, false, &tp);
	int lu = bound_socket(SOCK_DGRAM, false, false, &up);
	int l6 = bound_socket(SOCK_STREAM, true, true, &t6);
	int bt = bound_socket(SOCK_STREAM, false, false, &cp);	/* bound, not listening */

	CHECK(lt >= 0 && lu >= 0 && bt >= 0);
	CHECK_EQ(portinuse_scan(IPPROTO_TCP, none, bits), 0);
	CHECK(portinuse_bit(bits, tp));
	CHECK(!portinuse_bit(bits, up) || up == tp);
	CHECK(!portinuse_bit(bits, cp));
	if (l6 >= 0)
		CHECK(portinuse_bit(bits, t6));
	CHECK_EQ(portinuse_scan(IPPROTO_UDP, none, bits), 0);
	CHECK(portinuse_bit(bits, up));
	/* and through the store's default check */
	{
		struct fake_env *e = env();
		struct mapping r = fake_req(TCP, tp, "192.168.1.10", 80, "x", OWNER_UPNP), *m;
		store_set_port_in_use_cb(e->s, NULL, NULL);
		CHECK_EQ(store_check(e->s, &r, 0), ST_OK);	/* check off */
		fake_env_restart(e);
		store_free(e->s);
		e->s = store_new(&e->ctx, &fake_fw_ops, fake_fw_handle(&e->fw));	/* default check */
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_E_PORT_IN_USE);
		CHECK_EQ(store_add(e->s, &r, 0, STORE_F_ANY_PORT, &m), ST_OK);
		CHECK(m != NULL && m->eport != tp);
		fake_env_free(e);
	}
	close(lt);
	close(lu);
	close(bt);
	if (l6 >= 0)
		close(l6);
}

/* Issue 14, finding 2: whatever secure_mode says, the internal client is a
 * host of a served LAN, for every owner and for lease replay. */
TEST(store_internal_client_is_a_lan_host)
{
	struct fake_env *e = env();
	static const char *const bad[] = {
		"192.168.1.1",		/* the gateway's LAN address */
		"192.168.1.0", "192.168.1.255",	/* network, broadcast */
		"127.0.0.1", "0.0.0.1", "224.0.0.1", "255.255.255.255", "240.0.0.1",
		"198.51.100.7",		/* a WAN host: no open proxy */
		"203.0.113.5",		/* the external address */
		"2001:db8::5",		/* IPv6: no pinholes yet */
	};
	size_t k;

	inet_pton(AF_INET, "203.0.113.5", &e->ctx.ext_addr);
	for (k = 0; k < ARRAY_SIZE(bad); k++) {
		struct mapping r = fake_req(TCP, 8000, bad[k], 80, "x", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 60, 0, NULL), ST_E_NOT_LAN);
		CHECK_EQ(store_check(e->s, &r, STORE_F_ANY_PORT), ST_E_NOT_LAN);
		fake_owner(&r)->proto = OWNER_STATIC;	/* nor the administrator */
		CHECK_EQ(store_add(e->s, &r, 60, 0, NULL), ST_E_NOT_LAN);
	}
	CHECK_EQ(store_count(e->s), 0);
	CHECK_EQ(e->fw.n_add, 0);
	{
		struct mapping r = fake_req(TCP, 8000, "192.168.1.10", 80, "x", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 60, 0, NULL), ST_OK);
	}
	fake_env_free(e);
}

static bool
local_is_77(void *arg, const struct in6_addr *a)
{
	struct in6_addr x = fake_addr("192.168.1.77");

	(void)arg;
	return addr_eq(a, &x);
}

/* Another address of the gateway (a second address on the LAN interface)
 * is refused too; the default check reads the interfaces. */
TEST(store_internal_client_not_a_gateway_address)
{
	struct fake_env *e = env();
	struct mapping r = fake_req(TCP, 8000, "192.168.1.77", 80, "x", OWNER_UPNP);

	store_set_local_addr_cb(e->s, local_is_77, NULL);
	CHECK_EQ(store_add(e->s, &r, 60, 0, NULL), ST_E_NOT_LAN);
	r = fake_req(TCP, 8000, "192.168.1.78", 80, "x", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 60, 0, NULL), ST_OK);
	fake_env_free(e);
}

/* Lease replay drops records whose client is not a LAN host. */
TEST(store_restore_drops_non_lan_clients)
{
	struct fake_env *e = fake_env_new(true);
	struct mapping a = fake_req(TCP, 8000, "192.168.1.10", 80, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 8001, "192.168.1.11", 81, "b", OWNER_UPNP);

	fake_env_start(e);
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	/* the LAN shrinks to 192.168.1.8/30 behind igdd's back: b is outside */
	inet_pton(AF_INET, "192.168.1.9", &e->ctx.lan[0].addr);
	inet_pton(AF_INET, "255.255.255.252", &e->ctx.lan[0].mask);
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 1);
	CHECK(store_find(e->s, TCP, 8000, NULL) != NULL);
	CHECK(store_find(e->s, TCP, 8001, NULL) == NULL);
	fake_env_free(e);
}

/* Issue 14, finding 6: a lease replayed at start is decided as a live
 * request of today's configuration; what today's policy refuses is
 * dropped (and logged), never installed.  The mappings are made under a
 * lax configuration, which then gets stricter across a restart. */
TEST(store_restore_obeys_todays_policy)
{
	struct fake_env *e = fake_env_new(true);
	struct perm_rule *rules = rules_new(2);
	struct mapping r;
	struct in6_addr peer = fake_addr("198.51.100.7");
	unsigned i;

	e->ctx.cfg.max_lifetime = 0;
	fake_env_start(e);
	/* made with secure_mode=no: .11 maps a port to .10 */
	r = fake_req(TCP, 5000, "192.168.1.10", 5000, "for another", OWNER_UPNP);
	fake_owner(&r)->addr = fake_addr("192.168.1.11");
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	/* 5001 for a chosen peer to .10, 5001 for everyone else to .12 */
	r = fake_req(TCP, 5001, "192.168.1.10", 5001, "split a", OWNER_UPNP);
	r.rhost = &peer;
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	r = fake_req(TCP, 5001, "192.168.1.12", 5001, "split b", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	/* four for .13, a port the rules will deny, one that will be in use */
	for (i = 0; i < 4; i++) {
		r = fake_req(UDP, (uint16_t)(6000 + i), "192.168.1.13", 6000, "quota", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	}
	r = fake_req(TCP, 7000, "192.168.1.14", 7000, "denied later", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	r = fake_req(TCP, 7001, "192.168.1.14", 7001, "in use later", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	/* a long NAT-PMP lease */
	r = fake_req(UDP, 7002, "192.168.1.14", 7002, "long", OWNER_NATPMP);
	CHECK_EQ(store_add(e->s, &r, 86400, 0, NULL), ST_OK);
	/* a PCP THIRD_PARTY mapping: .15 for .16 */
	r = fake_req(UDP, 7003, "192.168.1.16", 7003, "third party", OWNER_PCP);
	fake_owner(&r)->addr = fake_addr("192.168.1.15");
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_THIRD_PARTY, NULL), ST_OK);
	CHECK_EQ(store_count(e->s), 11);

	/* today's configuration */
	e->ctx.cfg.secure_mode = true;
	e->ctx.cfg.pcp_allow_thirdparty = true;
	e->ctx.cfg.max_mappings_per_client = 3;
	e->ctx.cfg.max_lifetime = 600;
	e->ctx.cfg.perms = rules;
	e->ctx.cfg.n_perms = 2;
	rule_set(&rules[0], false, 7000, 7000, "0.0.0.0", 0);
	rule_set(&rules[1], true, 1024, 65535, "0.0.0.0", 0);
	e->inuse[e->n_inuse++] = 7001;
	fake_env_restart(e);
	fake_fw_reset(&e->fw);
	CHECK_EQ(store_restore(e->s), 1 + 3 + 1 + 1);
	CHECK(store_find(e->s, TCP, 5000, NULL) == NULL);	/* secure mode */
	CHECK(store_find(e->s, TCP, 5001, &peer) != NULL);	/* first in the file */
	CHECK(store_find(e->s, TCP, 5001, NULL) == NULL);	/* would split the port */
	CHECK(store_find(e->s, UDP, 6003, NULL) == NULL);	/* quota: 3 of 4 */
	CHECK(store_find(e->s, UDP, 6002, NULL) != NULL);
	CHECK(store_find(e->s, TCP, 7000, NULL) == NULL);	/* permission rules */
	CHECK(store_find(e->s, TCP, 7001, NULL) == NULL);	/* port in use */
	CHECK(store_lease_left(e->s, store_find(e->s, UDP, 7002, NULL)) <= 600);
	CHECK(store_find(e->s, UDP, 7003, NULL) != NULL);	/* THIRD_PARTY allowed */
	CHECK_EQ(e->fw.n_kernel, 6);				/* installed: those only */
	CHECK(!fake_fw_has(&e->fw, TCP, 5000, 5000));
	/* THIRD_PARTY no longer allowed: that one goes too */
	e->ctx.cfg.pcp_allow_thirdparty = false;
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 5);
	CHECK(store_find(e->s, UDP, 7003, NULL) == NULL);
	e->ctx.cfg.perms = NULL;
	e->ctx.cfg.n_perms = 0;
	free(rules);
	fake_env_free(e);
}

/* Issue 14, finding 1: in secure mode an external port belongs to one
 * internal client whatever the remote host; a search moves on. */
TEST(store_secure_mode_port_one_client)
{
	struct fake_env *e = fake_env_new(false);
	struct mapping a = fake_req(TCP, 5000, "192.168.1.10", 5000, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 5000, "192.168.1.11", 5000, "b", OWNER_UPNP);
	struct mapping a2 = fake_req(TCP, 5000, "192.168.1.10", 5000, "a2", OWNER_UPNP);
	struct in6_addr rh = fake_addr("203.0.113.7"), rh2 = fake_addr("203.0.113.8");
	struct mapping *m;

	e->ctx.cfg.secure_mode = true;
	fake_env_start(e);
	b.rhost = &rh;
	a2.rhost = &rh2;
	CHECK_EQ(store_add(e->s, &a, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 0, 0, NULL), ST_E_CONFLICT);	/* restricted over wildcard */
	CHECK_EQ(store_check(e->s, &b, 0), ST_E_CONFLICT);
	CHECK_EQ(store_add(e->s, &a2, 0, 0, NULL), ST_OK);		/* the same client may */
	CHECK_EQ(store_add(e->s, &b, 0, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK(m != NULL && m->eport != 5000);
	/* the reverse: a wildcard over another client's restricted mapping */
	CHECK_EQ(store_del(e->s, TCP, 5000, NULL, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 5000, &rh2, NULL), ST_OK);
	b.eport = 5000;
	CHECK_EQ(store_add(e->s, &b, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &a, 0, 0, NULL), ST_E_CONFLICT);
	CHECK_EQ(store_add(e->s, &a, 0, STORE_F_ANY_PORT, &m), ST_OK);
	CHECK(m != NULL && m->eport != 5000);
	fake_env_free(e);
}

/* Issue 14, findings 3 and 9: NAT-PMP and PCP take over no other
 * identity's mapping; find_owned and del_as see only their own. */
TEST(store_protocol_identity)
{
	struct fake_env *e = env();
	struct mapping u = fake_req(TCP, 6000, "192.168.1.11", 60, "u", OWNER_UPNP);
	struct mapping p = fake_req(TCP, 6000, "192.168.1.11", 60, "p", OWNER_PCP);
	struct mapping n = fake_req(TCP, 6000, "192.168.1.11", 60, "n", OWNER_NATPMP);
	struct mapping_owner *po = fake_owner(&p);
	struct in6_addr c1 = fake_addr("192.168.1.10");
	struct mapping *m, *mp;

	po->addr = c1;		/* THIRD_PARTY: c1 asks for c2 */
	memset(po->nonce, 0xaa, sizeof(po->nonce));
	CHECK_EQ(store_add(e->s, &u, 0, 0, &m), ST_OK);
	CHECK_EQ(store_add(e->s, &p, 60, STORE_F_CHECK_NONCE | STORE_F_THIRD_PARTY, NULL),
		 ST_E_CONFLICT);
	CHECK_EQ(store_add(e->s, &n, 60, 0, NULL), ST_E_CONFLICT);
	CHECK_EQ(store_find(e->s, TCP, 6000, NULL)->owner->proto, OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &p, 60, STORE_F_CHECK_NONCE | STORE_F_THIRD_PARTY |
			   STORE_F_ANY_PORT, &mp), ST_OK);
	CHECK(mp != NULL && mp->eport != 6000);
	CHECK(store_find_owned(e->s, TCP, p.iaddr, 60, po) == mp);
	CHECK(store_find_owned(e->s, TCP, p.iaddr, 60, fake_owner(&n)) == NULL);
	CHECK(store_find_owned(e->s, TCP, p.iaddr, 60, fake_owner(&u)) == m);
	CHECK(store_find_internal(e->s, TCP, p.iaddr, 60) == m);	/* first in key order */
	/* another nonce of the same sender */
	po->nonce[0] = 0xbb;
	CHECK(store_find_owned(e->s, TCP, p.iaddr, 60, po) == NULL);
	CHECK(store_find_internal_other(e->s, TCP, p.iaddr, 60, po) == mp);
	CHECK_EQ(store_del_as(e->s, mp, po), ST_E_NONCE);
	CHECK_EQ(store_del_as(e->s, m, po), ST_E_NOT_OWNER);
	CHECK_EQ(store_del_as(e->s, m, fake_owner(&n)), ST_E_NOT_OWNER);
	po->nonce[0] = 0xaa;
	CHECK(store_find_internal_other(e->s, TCP, p.iaddr, 60, po) == NULL);
	CHECK_EQ(store_del_as(e->s, mp, po), ST_OK);
	CHECK_EQ(store_count(e->s), 1);
	fake_env_free(e);
}

/* Manual forwards (OWNER_STATIC, igddctl add): no permission rules, but
 * the LAN-host and port-in-use checks; no protocol refreshes, takes or
 * deletes one, and one takes no protocol's mapping. */
TEST(store_manual_forwards)
{
	struct fake_env *e = env();
	struct mapping man = fake_req(TCP, 8500, "192.168.1.20", 9500, "manual", OWNER_STATIC);
	struct mapping up = fake_req(TCP, 8500, "192.168.1.20", 9500, "upnp", OWNER_UPNP);
	struct mapping pmp = fake_req(TCP, 8500, "192.168.1.20", 9500, "pmp", OWNER_NATPMP);
	struct mapping up2 = fake_req(TCP, 8600, "192.168.1.21", 9600, "upnp", OWNER_UPNP);
	struct mapping man2 = fake_req(TCP, 8600, "192.168.1.21", 9600, "manual", OWNER_STATIC);
	struct mapping gwaddr = fake_req(TCP, 8700, "192.168.1.1", 22, "gw", OWNER_STATIC);
	struct mapping inuse = fake_req(TCP, 5003, "192.168.1.20", 9500, "x", OWNER_STATIC);
	struct mapping *m;

	memset(&fake_owner(&man)->addr, 0, sizeof(struct in6_addr));
	e->ctx.cfg.perms = rules_new(1);
	e->ctx.cfg.n_perms = 1;
	rule_set(&e->ctx.cfg.perms[0], false, 0, 65535, "0.0.0.0", 0);	/* deny all */
	CHECK_EQ(store_add(e->s, &up, 0, 0, NULL), ST_E_PERMISSION);
	CHECK_EQ(store_add(e->s, &man, 0, 0, &m), ST_OK);		/* rules are not for it */
	CHECK_EQ(m->expires, 0);
	CHECK_EQ(store_count_source(e->s, OWNER_STATIC, TCP), 1);
	free(e->ctx.cfg.perms);
	e->ctx.cfg.perms = NULL;
	e->ctx.cfg.n_perms = 0;
	CHECK_EQ(store_add(e->s, &up, 3600, 0, NULL), ST_E_CONFLICT);	/* no refresh, no take-over */
	CHECK_EQ(store_add(e->s, &pmp, 3600, 0, NULL), ST_E_CONFLICT);
	CHECK_EQ(store_del(e->s, TCP, 8500, NULL, up.iaddr), ST_E_NOT_OWNER);	/* UPnP: 606 */
	CHECK_EQ(store_del_as(e->s, m, pmp.owner), ST_E_NOT_OWNER);
	CHECK_EQ(store_add(e->s, &man, 600, 0, &m), ST_OK);		/* the admin updates it */
	CHECK(m->expires != 0);
	CHECK_EQ(store_add(e->s, &up2, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &man2, 0, 0, NULL), ST_E_CONFLICT);	/* nor takes UPnP's */
	CHECK_STR(store_find(e->s, TCP, 8600, NULL)->desc, "upnp");
	CHECK_EQ(store_add(e->s, &gwaddr, 0, 0, NULL), ST_E_NOT_LAN);	/* the LAN-host check */
	e->inuse[e->n_inuse++] = 5003;
	CHECK_EQ(store_add(e->s, &inuse, 0, 0, NULL), ST_E_PORT_IN_USE);
	CHECK_EQ(store_count_source(e->s, OWNER_STATIC, 0), 1);
	CHECK_EQ(store_count_source(e->s, OWNER_UPNP, TCP), 1);
	CHECK_EQ(store_count_source(e->s, OWNER_UPNP, UDP), 0);
	CHECK_EQ(store_del(e->s, TCP, 8500, NULL, NULL), ST_OK);	/* the admin deletes */
	CHECK_EQ(store_count_source(e->s, OWNER_STATIC, 0), 0);
	fake_env_free(e);
}

/* Reload: the rules tighten, the mappings they deny go (manual ones stay),
 * each told to the listeners. */
static void
count_removed(void *arg, const struct store_change *ch)
{
	if (ch->ev == STORE_EV_POLICY && (ch->why == ST_E_PERMISSION || ch->why == ST_E_NOT_LAN))
		(*(unsigned *)arg)++;
}

TEST(store_recheck_after_new_rules)
{
	struct fake_env *e = env();
	struct mapping a = fake_req(TCP, 8100, "192.168.1.10", 9100, "keep", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 8200, "192.168.1.11", 9200, "deny", OWNER_UPNP);
	struct mapping c = fake_req(UDP, 8201, "192.168.1.11", 9201, "deny", OWNER_NATPMP);
	struct mapping d = fake_req(TCP, 8400, "192.168.1.11", 9400, "manual", OWNER_STATIC);
	const struct mapping **ms;
	struct fw_counter ctr[4];
	unsigned removed = 0;
	size_t n;

	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &c, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &d, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_add_listener(e->s, count_removed, &removed), 0);
	CHECK_EQ(store_recheck(e->s), 0);			/* no rules: all allowed */
	e->ctx.cfg.perms = rules_new(2);
	e->ctx.cfg.n_perms = 2;
	rule_set(&e->ctx.cfg.perms[0], false, 0, 65535, "192.168.1.11", 32);
	rule_set(&e->ctx.cfg.perms[1], true, 1024, 65535, "0.0.0.0", 0);
	CHECK_EQ(store_recheck(e->s), 2);
	CHECK_EQ(removed, 2);
	CHECK(store_find(e->s, TCP, 8100, NULL) != NULL);
	CHECK(store_find(e->s, TCP, 8200, NULL) == NULL);
	CHECK(store_find(e->s, UDP, 8201, NULL) == NULL);
	CHECK(store_find(e->s, TCP, 8400, NULL) != NULL);
	CHECK(!fake_fw_has(&e->fw, TCP, 8200, 9200));
	CHECK_EQ(store_get_stats(e->s)->policy_removed, 2);
	/* a LAN no longer served: its hosts' mappings go, manual ones too */
	e->ctx.lan[0].gone = true;
	CHECK_EQ(store_recheck(e->s), 2);
	CHECK_EQ(removed, 4);
	CHECK_EQ(store_count(e->s), 0);
	free(e->ctx.cfg.perms);
	e->ctx.cfg.perms = NULL;
	e->ctx.cfg.n_perms = 0;
	e->ctx.lan[0].gone = false;
	/* the list and its counters: one backend call for all */
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	fake_fw_set_packets(&e->fw, TCP, 8200, 7);
	CHECK_EQ(store_list(e->s, &ms, &n), 0);
	CHECK_EQ(n, 2);
	e->fw.n_counters = 0;
	CHECK_EQ(store_counters(e->s, ms, n, ctr), 0);
	CHECK_EQ(e->fw.n_counters, 1);
	CHECK_EQ(ms[0]->eport, 8100);
	CHECK_EQ(ctr[0].packets, 0);
	CHECK_EQ(ctr[1].packets, 7);
	CHECK_EQ(ctr[1].bytes, 700);
	free(ms);
	fake_env_free(e);
}
