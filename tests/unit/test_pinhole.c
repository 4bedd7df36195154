/* test_pinhole.c - IPv6 pinholes in the store (fake backend): keys,
 * policy (LAN prefixes, secure mode's own addresses by MAC, IPv6 and
 * mac= rules), ownership, leases and restart, expiry; the lease file's
 * pinhole records. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fake_fw.h"
#include "lease.h"
#include "perm.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP
#define H1 "2001:db8:1::10"
#define H2 "2001:db8:1::20"

static struct fake_env *
env6(bool secure, bool lease)
{
	struct fake_env *e = fake_env_new(lease);

	e->ctx.cfg.secure_mode = secure;
	fake_env_start(e);
	return e;
}

/* A pinhole request from addr for addr:port (owner = the client). */
static struct mapping
pin_req(uint8_t proto, const char *iaddr, uint16_t iport, enum owner_proto op)
{
	return fake_req(proto, 0, iaddr, iport, "pin", op);
}

TEST(pinhole_add_find_refresh_delete)
{
	struct fake_env *e = env6(true, false);
	struct mapping r = pin_req(TCP, "2001:db8:1::10", 22, OWNER_UPNP), *m, *m2;
	struct mapping u = pin_req(UDP, "2001:db8:1::10", 53, OWNER_UPNP);
	struct in6_addr rh = fake_addr("2001:db8:ffff::7");

	CHECK_EQ(store_pin_add(e->s, &r, 3600, 0, &m), ST_OK);
	CHECK(m != NULL && mapping_is_pinhole(m) && m->uid != 0 && m->iport == 22);
	CHECK(store_pin_find(e->s, m->uid) == m);
	CHECK_EQ(store_pin_count(e->s), 1);
	CHECK_EQ(store_count(e->s), 0);		/* not a port mapping */
	CHECK(store_nth(e->s, 0) == NULL);
	CHECK(fake_fw_has(&e->fw, TCP, m->uid, 22));
	/* the same pinhole again: refreshed, same UniqueID */
	CHECK_EQ(store_pin_add(e->s, &r, 7200, 0, &m2), ST_OK);
	CHECK(m2 == m);
	CHECK(store_lease_left(e->s, m) > 3600);
	CHECK_EQ(store_pin_count(e->s), 1);
	/* another remote host or protocol: another pinhole */
	u.rhost = &rh;
	u.rport = 5353;
	CHECK_EQ(store_pin_add(e->s, &u, 600, 0, &m2), ST_OK);
	CHECK(m2 != m && m2->uid != m->uid && m2->rport == 5353);
	CHECK(addr_eq(m2->rhost, &rh));
	CHECK(store_pin_nth(e->s, 0) == m && store_pin_nth(e->s, 1) == m2);
	/* update and delete by the host itself */
	CHECK_EQ(store_pin_update(e->s, m2, 60, r.owner), ST_OK);
	CHECK(store_lease_left(e->s, m2) <= 60);
	CHECK_EQ(store_pin_update(e->s, m2, 0, r.owner), ST_E_INVAL);
	CHECK_EQ(store_pin_del(e->s, m2, r.owner), ST_OK);
	CHECK_EQ(store_pin_count(e->s), 1);
	/* invalid: port 0, an IPv4 remote host, not a pinhole client */
	r.iport = 0;
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_E_INVAL);
	r.iport = 22;
	rh = fake_addr("198.51.100.1");
	r.rhost = &rh;
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_E_INVAL);
	r = pin_req(TCP, "192.168.1.10", 22, OWNER_UPNP);
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_E_INVAL);
	fake_env_free(e);
}

TEST(pinhole_client_must_be_lan_host)
{
	struct fake_env *e = env6(false, false);
	static const struct { const char *a; enum store_result r; } cases[] = {
		{ "2001:db8:1::10", ST_OK },
		{ "2001:db8:2::99", ST_OK },		/* lan1's prefix */
		{ "2001:db8:3::10", ST_E_NOT_LAN },	/* no LAN's prefix */
		{ "fe80::10", ST_E_NOT_LAN },		/* link-local: not routable */
		{ "2001:db8:1::1", ST_E_NOT_LAN },	/* the gateway itself */
		{ "2001:db8:1::", ST_E_NOT_LAN },	/* Subnet-Router anycast */
		{ "ff02::1", ST_E_NOT_LAN },
		{ "::1", ST_E_NOT_LAN },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mapping r = pin_req(TCP, cases[i].a, 80, OWNER_UPNP);
		CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), cases[i].r);
	}
	fake_env_free(e);
}

/* Secure mode: a host opens pinholes to its own addresses only, and
 * manages those of any of its addresses: same address or same MAC. */
TEST(pinhole_secure_mode_same_device)
{
	struct fake_env *e = env6(true, false);
	struct mapping r = pin_req(TCP, "2001:db8:1::10", 8080, OWNER_UPNP), *m;
	struct mapping_owner tmp = { .proto = OWNER_UPNP }, other = { .proto = OWNER_UPNP };

	fake_env_neigh(e, "2001:db8:1::10", "02:00:00:00:00:0a");
	fake_env_neigh(e, "2001:db8:1::a:1234", "02:00:00:00:00:0a");	/* its temporary address */
	fake_env_neigh(e, "192.168.1.10", "02:00:00:00:00:0a");
	fake_env_neigh(e, "2001:db8:1::20", "02:00:00:00:00:14");		/* another host */
	tmp.addr = fake_addr("2001:db8:1::a:1234");
	other.addr = fake_addr("2001:db8:1::20");
	/* from the temporary address, for the stable one: the same device */
	*fake_owner(&r) = tmp;
	CHECK_EQ(store_pin_add(e->s, &r, 600, 0, &m), ST_OK);
	/* the host's IPv4 address is the same device too */
	fake_owner(&r)->addr = fake_addr("192.168.1.10");
	CHECK_EQ(store_pin_add(e->s, &r, 600, 0, NULL), ST_OK);
	/* another host may not open it, update it or delete it */
	*fake_owner(&r) = other;
	CHECK_EQ(store_pin_add(e->s, &r, 600, 0, NULL), ST_E_SECURE);
	CHECK_EQ(store_pin_update(e->s, m, 60, &other), ST_E_NOT_OWNER);
	CHECK_EQ(store_pin_del(e->s, m, &other), ST_E_NOT_OWNER);
	CHECK_EQ(store_del_as(e->s, m, &other), ST_E_NOT_OWNER);
	/* THIRD_PARTY (PCP, when allowed) skips the own-address check */
	CHECK_EQ(store_pin_add(e->s, &r, 600, STORE_F_THIRD_PARTY, NULL), ST_OK);
	/* an unknown MAC is not the same device */
	fake_owner(&r)->addr = fake_addr("2001:db8:1::30");
	CHECK_EQ(store_pin_add(e->s, &r, 600, 0, NULL), ST_E_SECURE);
	/* the temporary address manages it */
	CHECK_EQ(store_pin_update(e->s, m, 60, &tmp), ST_OK);
	CHECK_EQ(store_pin_del(e->s, m, &tmp), ST_OK);
	fake_env_free(e);
}

TEST(pinhole_pcp_nonce_owns)
{
	struct fake_env *e = env6(true, false);
	struct mapping r = pin_req(UDP, "2001:db8:1::10", 4500, OWNER_PCP), *m;
	struct mapping_owner o2;

	fake_owner(&r)->nonce[0] = 1;
	CHECK_EQ(store_pin_add(e->s, &r, 600, STORE_F_CHECK_NONCE, &m), ST_OK);
	o2 = *r.owner;
	o2.nonce[0] = 2;
	*fake_owner(&r) = o2;
	CHECK_EQ(store_pin_add(e->s, &r, 600, STORE_F_CHECK_NONCE, NULL), ST_E_NONCE);
	CHECK_EQ(store_pin_del(e->s, m, &o2), ST_E_NONCE);
	CHECK(store_find_owned(e->s, UDP, m->iaddr, 4500, &o2) == NULL);
	o2.nonce[0] = 1;
	CHECK(store_find_owned(e->s, UDP, m->iaddr, 4500, &o2) == m);
	/* UPnP may not take it over (a NAT-PMP-style identity mismatch) */
	CHECK_EQ(store_del_as(e->s, m, &o2), ST_OK);
	CHECK_EQ(store_pin_count(e->s), 0);
	fake_env_free(e);
}

static void
add_rule(struct config *cfg, const char *text)
{
	char msg[256];

	cfg->perms = realloc(cfg->perms, (cfg->n_perms + 1) * sizeof(*cfg->perms));
	if (cfg->perms == NULL || perm_parse(&cfg->perms[cfg->n_perms], text, msg, sizeof(msg)) < 0)
		abort();
	cfg->n_perms++;
}

TEST(pinhole_permission_rules_v6_and_mac)
{
	struct fake_env *e = fake_env_new(false);
	struct mapping a = pin_req(TCP, "2001:db8:1::10", 8000, OWNER_UPNP);
	struct mapping atmp = pin_req(TCP, "2001:db8:1::a:1234", 8000, OWNER_UPNP);
	struct mapping b = pin_req(TCP, "2001:db8:1::20", 8000, OWNER_UPNP);
	struct mapping c = pin_req(TCP, "2001:db8:2::30", 8000, OWNER_UPNP);
	struct mapping v4 = fake_req(TCP, 8000, "192.168.1.10", 8000, "v4", OWNER_UPNP);
	struct mapping v4b = fake_req(TCP, 8001, "192.168.1.20", 8001, "v4", OWNER_UPNP);

	add_rule(&e->ctx.cfg, "allow 1024-65535 mac=02:00:00:00:00:0A 1024-65535");
	add_rule(&e->ctx.cfg, "allow 1024-65535 2001:db8:2::/64 1024-65535");
	add_rule(&e->ctx.cfg, "deny 0-65535 ::/0 0-65535");
	add_rule(&e->ctx.cfg, "deny 0-65535 0.0.0.0/0 0-65535");
	fake_env_start(e);
	fake_env_neigh(e, "2001:db8:1::10", "02:00:00:00:00:0a");
	fake_env_neigh(e, "2001:db8:1::a:1234", "02:00:00:00:00:0a");
	fake_env_neigh(e, "192.168.1.10", "02:00:00:00:00:0a");
	fake_env_neigh(e, "2001:db8:1::20", "02:00:00:00:00:14");
	fake_env_neigh(e, "192.168.1.20", "02:00:00:00:00:14");
	/* one rule covers the device's v4 and all its v6 addresses */
	CHECK_EQ(store_pin_add(e->s, &a, 60, 0, NULL), ST_OK);
	CHECK_EQ(store_pin_add(e->s, &atmp, 60, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &v4, 60, 0, NULL), ST_OK);
	/* another device is denied, whatever its address */
	CHECK_EQ(store_pin_add(e->s, &b, 60, 0, NULL), ST_E_PERMISSION);
	CHECK_EQ(store_add(e->s, &v4b, 60, 0, NULL), ST_E_PERMISSION);
	/* an IPv6 prefix rule */
	CHECK_EQ(store_pin_add(e->s, &c, 60, 0, NULL), ST_OK);
	c.iport = 80;
	CHECK_EQ(store_pin_add(e->s, &c, 60, 0, NULL), ST_E_PERMISSION);	/* the port counts */
	/* the rules' own view */
	CHECK(perm_uses_mac(e->ctx.cfg.perms, e->ctx.cfg.n_perms));
	CHECK(!perm_allowed(e->ctx.cfg.perms, e->ctx.cfg.n_perms, 8000, a.iaddr, 8000, ""));
	store_free(e->s);
	e->s = NULL;
	conf_free(&e->ctx.cfg);
	fake_env_free(e);
}

/* Two LANs stay apart for pinholes as for mappings: the requester's LAN
 * (its IPv4 network, its IPv6 prefix, the interface the neighbour table
 * has a link-local one on) must be the client's, or a rule must allow the
 * client explicitly.  lan0 is 2001:db8:1::/64 (ifindex 2), lan1
 * 2001:db8:2::/64 (ifindex 3). */
TEST(pinhole_lans_apart)
{
	struct fake_env *e = fake_env_new(false);
	struct mapping r = pin_req(TCP, H1, 8000, OWNER_UPNP), *m;
	struct mapping_owner *o = fake_owner(&r);

	fake_env_start(e);
	fake_env_neigh_on(e, "fe80::99", "02:00:00:00:00:99", 2);
	fake_env_neigh_on(e, "fe80::98", "02:00:00:00:00:98", 3);
	/* the same LAN: another host's IPv6 or IPv4 address, a link-local
	 * one the neighbour table has on lan0 */
	o->addr = fake_addr(H2);
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, &m), ST_OK);
	o->addr = fake_addr("192.168.1.20");
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_OK);
	o->addr = fake_addr("fe80::99");
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_OK);
	/* another LAN, by its prefix, its IPv4 network or the neighbour
	 * table; a link-local requester the table does not know */
	r.iport = 8001;
	o->addr = fake_addr("2001:db8:2::30");
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_E_PERMISSION);
	o->addr = fake_addr("192.168.2.30");
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_E_PERMISSION);
	o->addr = fake_addr("fe80::98");
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_E_PERMISSION);
	o->addr = fake_addr("fe80::97");
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_E_PERMISSION);
	/* ... unless one LAN alone serves IPv6: a link-local requester is on it */
	e->ctx.lan[1].n_addr6 = 0;
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_OK);
	CHECK_EQ(store_pin_del(e->s, store_pin_nth(e->s, 1), NULL), ST_OK);
	e->ctx.lan[1].n_addr6 = 1;
	/* nor may lan1 update or delete lan0's pinhole */
	o->addr = fake_addr("2001:db8:2::30");
	CHECK_EQ(store_pin_update(e->s, m, 600, o), ST_E_NOT_OWNER);
	CHECK_EQ(store_pin_del(e->s, m, o), ST_E_NOT_OWNER);
	CHECK(store_pin_find(e->s, m->uid) == m);
	/* unless a rule allows the client explicitly */
	add_rule(&e->ctx.cfg, "allow 1024-65535 2001:db8:1::/64 1024-65535");
	CHECK_EQ(store_pin_add(e->s, &r, 60, 0, NULL), ST_OK);
	CHECK_EQ(store_pin_del(e->s, m, o), ST_OK);
	/* the administrator is exempt */
	CHECK_EQ(store_pin_count(e->s), 1);
	CHECK_EQ(store_pin_del(e->s, store_pin_nth(e->s, 0), NULL), ST_OK);
	store_free(e->s);
	e->s = NULL;
	conf_free(&e->ctx.cfg);
	fake_env_free(e);
}

/* A reload's policy re-check covers pinholes: their port and, for mac=
 * rules, the host's MAC as the neighbour table has it now. */
TEST(pinhole_recheck_after_new_rules)
{
	struct fake_env *e = fake_env_new(false);
	struct mapping a = pin_req(TCP, H1, 8000, OWNER_UPNP);
	struct mapping b = pin_req(TCP, H2, 8000, OWNER_PCP);
	struct mapping c = pin_req(UDP, "2001:db8:2::30", 9000, OWNER_UPNP);
	struct mapping v4 = fake_req(TCP, 8000, "192.168.1.10", 8000, "v4", OWNER_UPNP);

	fake_env_start(e);
	fake_env_neigh(e, H1, "02:00:00:00:00:0a");
	fake_env_neigh(e, "192.168.1.10", "02:00:00:00:00:0a");
	fake_env_neigh(e, H2, "02:00:00:00:00:14");
	CHECK_EQ(store_pin_add(e->s, &a, 600, 0, NULL), ST_OK);
	CHECK_EQ(store_pin_add(e->s, &b, 600, 0, NULL), ST_OK);
	CHECK_EQ(store_pin_add(e->s, &c, 600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &v4, 600, 0, NULL), ST_OK);
	CHECK_EQ(store_recheck(e->s), 0);		/* no rules: all stay */
	/* the device of H1 (its IPv4 mapping too), and port 9000 of lan1's
	 * prefix, are no longer allowed; H2 is */
	add_rule(&e->ctx.cfg, "deny 0-65535 mac=02:00:00:00:00:0a 0-65535");
	add_rule(&e->ctx.cfg, "deny 9000 2001:db8:2::/64 9000");
	add_rule(&e->ctx.cfg, "allow 0-65535 ::/0 0-65535");
	CHECK_EQ(store_recheck(e->s), 3);
	CHECK_EQ(store_pin_count(e->s), 1);
	CHECK(addr_eq(store_pin_nth(e->s, 0)->iaddr, b.iaddr));
	CHECK_EQ(store_count(e->s), 0);
	CHECK_EQ(store_get_stats(e->s)->policy_removed, 3);
	store_free(e->s);
	e->s = NULL;
	conf_free(&e->ctx.cfg);
	fake_env_free(e);
}

TEST(pinhole_lease_restart_and_expiry)
{
	struct fake_env *e = env6(true, true);
	struct mapping r = pin_req(TCP, "2001:db8:1::10", 22, OWNER_UPNP), *m;
	struct mapping u = pin_req(UDP, "2001:db8:1::10", 5000, OWNER_PCP);
	struct mapping v4 = fake_req(TCP, 8000, "192.168.1.10", 8000, "v4", OWNER_UPNP);
	struct in6_addr rh = fake_addr("2001:db8:ffff::1");
	uint16_t uid_r, uid_u;
	char buf[4096];

	u.rhost = &rh;
	u.rport = 4000;
	CHECK_EQ(store_pin_add(e->s, &r, 3600, 0, &m), ST_OK);
	uid_r = m->uid;
	CHECK_EQ(store_pin_add(e->s, &u, 5, 0, &m), ST_OK);
	uid_u = m->uid;
	CHECK_EQ(store_add(e->s, &v4, 3600, 0, NULL), ST_OK);
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\nP ") != NULL);
	/* restart: both pinholes back with their UniqueIDs, in the kernel */
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 3);
	CHECK_EQ(store_pin_count(e->s), 2);
	CHECK_EQ(store_count(e->s), 1);
	m = store_pin_find(e->s, uid_u);
	CHECK(m != NULL && m->rport == 4000 && addr_eq(m->rhost, &rh) && m->proto == UDP);
	CHECK(store_pin_find(e->s, uid_r) != NULL);
	CHECK(fake_fw_has(&e->fw, TCP, uid_r, 22));
	/* a new pinhole takes a new UniqueID */
	r.iport = 23;
	CHECK_EQ(store_pin_add(e->s, &r, 3600, 0, &m), ST_OK);
	CHECK(m->uid != uid_r && m->uid != uid_u);
	/* expiry removes the short one, from the kernel too */
	store_expire_now(e->s, time_mono_ms() + 10000);
	CHECK(store_pin_find(e->s, uid_u) == NULL);
	CHECK_EQ(store_pin_count(e->s), 2);
	/* a deletion is journaled: gone after a restart */
	CHECK_EQ(store_pin_del(e->s, store_pin_find(e->s, uid_r), NULL), ST_OK);
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK(store_pin_find(e->s, uid_r) == NULL);
	fake_env_free(e);
}

TEST(pinhole_lease_records_round_trip)
{
	struct lease_record r, back;
	struct mapping_owner o = { .proto = OWNER_PCP };
	struct in6_addr ia = fake_addr("2001:db8:1::10"), rh = fake_addr("2001:db8:9::1");
	char line[LEASE_LINE_MAX];
	int len;

	memset(&r, 0, sizeof(r));
	o.addr = ia;
	o.nonce[11] = 0xab;
	r.op = 'P';
	r.m.uid = 42;
	r.m.proto = UDP;
	r.m.rhost = &rh;
	r.m.rport = 1234;
	r.m.iaddr = &ia;
	r.m.iport = 53;
	r.m.owner = &o;
	r.m.desc = "dns 100%";
	r.m.enabled = true;
	r.expiry_wall = 2000000000;
	len = lease_format(line, sizeof(line), &r);
	CHECK(len > 0);
	CHECK(strncmp(line, "P 42 UDP 2001:db8:9::1 1234 2001:db8:1::10 53 2000000000 ", 56) == 0);
	CHECK_EQ(lease_parse(line, (size_t)len - 1, &back), 0);
	CHECK_EQ(back.op, 'P');
	CHECK_EQ(back.m.uid, 42);
	CHECK_EQ(back.m.rport, 1234);
	CHECK_EQ(back.m.iport, 53);
	CHECK(addr_eq(back.m.iaddr, &ia) && addr_eq(back.m.rhost, &rh));
	CHECK_EQ(back.owner.nonce[11], 0xab);
	CHECK_STR(back.m.desc, "dns 100%");
	r.op = 'p';
	len = lease_format(line, sizeof(line), &r);
	CHECK(strcmp(line, "p 42\n") == 0);
	CHECK_EQ(lease_parse(line, (size_t)len - 1, &back), 0);
	CHECK_EQ(back.op, 'p');
	CHECK_EQ(back.m.uid, 42);
	/* malformed: uid 0, an IPv4 client in a P record, IPv6 in a + record */
	CHECK_EQ(lease_parse("p 0", 3, &back), -1);
	{
		static const char *const bad[] = {
			"P 1 TCP :: 0 192.168.1.10 22 0 0 UPNP 192.168.1.10 "
			"000000000000000000000000 1 x",
			"+ TCP 22 :: 2001:db8::1 22 0 0 UPNP 2001:db8::1 "
			"000000000000000000000000 1 x",
		};
		static const char good[] = "P 1 TCP :: 0 2001:db8::1 22 0 0 UPNP 2001:db8::1 "
					   "000000000000000000000000 1 x";
		size_t i;

		for (i = 0; i < ARRAY_SIZE(bad); i++)
			CHECK_EQ(lease_parse(bad[i], strlen(bad[i]), &back), -1);
		CHECK_EQ(lease_parse(good, strlen(good), &back), 0);
	}
}

TEST(pinhole_rule_syntax)
{
	static const char *const bad[] = {
		"allow 1024-65535 mac=02:00:00:00:00 1024-65535",
		"allow 1024-65535 mac=02:00:00:00:00:0g 1024-65535",
		"allow 1024-65535 2001:db8::/129 1024-65535",
		"allow 1024-65535 2001:db8::zz/64 1024-65535",
	};
	struct perm_rule r;
	char msg[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_EQ(perm_parse(&r, bad[i], msg, sizeof(msg)), -1);
	CHECK_EQ(perm_parse(&r, "deny 0-65535 2001:db8:1:2:3::/48 22", msg, sizeof(msg)), 0);
	CHECK(r.v6 && r.plen6 == 48 && !r.allow);
	CHECK(addr_eq(&r.addr6, (struct in6_addr[]){ fake_addr("2001:db8:1::") }));
	CHECK_EQ(perm_parse(&r, "allow 1-2 MAC=AA:bb:cc:dd:ee:ff 3", msg, sizeof(msg)), 0);
	CHECK(r.has_mac && r.mac[0] == 0xaa && r.mac[5] == 0xff);
}

/* --- WANIPv6FirewallControl:1 over the fake store --------------------- */

#include "desc.h"
#include "igd.h"
#include "soap.h"

/* One action from requester; its status, output in out. */
static int
fc_call(struct fake_env *e, const char *requester, const char *action, const char *args,
	struct desc_buf *out)
{
	static struct soap_envelope env;
	static char body[1024];
	struct igd_call c;

	memset(out, 0, sizeof(*out));
	if (str_printf(body, sizeof(body), "<Envelope><Body><%s>%s</%s></Body></Envelope>",
		       action, args, action) < 0 ||
	    soap_parse_envelope(body, strlen(body), &env) != 0)
		return -1;
	memset(&c, 0, sizeof(c));
	c.ctx = &e->ctx;
	c.svc = &desc_services[SVC_WANIP6FC];
	c.env = &env;
	c.out = out;
	c.requester = fake_addr(requester);
	c.version = 2;
	return igd_dispatch(&c, action);
}

/* The UniqueID in an AddPinhole answer. */
static unsigned
fc_uid(const struct desc_buf *out)
{
	const char *p = out->p != NULL ? strstr(out->p, "<UniqueID>") : NULL;

	return p != NULL ? (unsigned)strtoul(p + 10, NULL, 10) : 0;
}

#define ADD(ic, port, proto, lease) \
	"<RemoteHost></RemoteHost><RemotePort>0</RemotePort><InternalClient>" ic \
	"</InternalClient><InternalPort>" port "</InternalPort><Protocol>" proto \
	"</Protocol><LeaseTime>" lease "</LeaseTime>"

TEST(wanip6fc_actions)
{
	struct fake_env *e = env6(true, false);
	struct desc_buf out;
	char args[128];
	unsigned uid;

	e->ctx.cfg.enable_upnp = true;
	e->ctx.store = e->s;
	CHECK_EQ(fc_call(e, H1, "GetFirewallStatus", "", &out), 0);
	CHECK(out.p && strstr(out.p, "<FirewallEnabled>1</FirewallEnabled>") &&
	      strstr(out.p, "<InboundPinholeAllowed>1</InboundPinholeAllowed>"));
	desc_buf_free(&out);
	/* argument errors as the service numbers them */
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD("", "8080", "6", "60"), &out), 708);
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD(H1, "0", "6", "60"), &out), 706);
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD(H1, "8080", "65535", "60"), &out), 707);
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD(H1, "8080", "1", "60"), &out), 705);
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD(H1, "8080", "6", "0"), &out), 402);
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD(H1, "8080", "6", "86401"), &out), 402);
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD("192.168.1.10", "8080", "6", "60"), &out), 402);
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD(H1, "80", "6", "60"), &out), 606);
	/* another host's address: 606 (secure mode) */
	CHECK_EQ(fc_call(e, H2, "AddPinhole", ADD(H1, "8080", "6", "60"), &out), 606);
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD(H1, "8080", "6", "60"), &out), 0);
	uid = fc_uid(&out);
	desc_buf_free(&out);
	CHECK(uid != 0 && store_pin_find(e->s, (uint16_t)uid) != NULL);
	/* the same pinhole: the same UniqueID */
	CHECK_EQ(fc_call(e, H1, "AddPinhole", ADD(H1, "8080", "6", "120"), &out), 0);
	CHECK_EQ(fc_uid(&out), uid);
	desc_buf_free(&out);
	str_printf(args, sizeof(args), "<UniqueID>%u</UniqueID>", uid);
	/* nothing passed yet: 709; then the counter moves */
	CHECK_EQ(fc_call(e, H1, "CheckPinholeWorking", args, &out), 709);
	CHECK_EQ(fc_call(e, H1, "GetPinholePackets", args, &out), 0);
	CHECK(out.p && strstr(out.p, "<PinholePackets>0</PinholePackets>"));
	desc_buf_free(&out);
	fake_fw_set_packets(&e->fw, IPPROTO_TCP, (uint16_t)uid, 7);
	CHECK_EQ(fc_call(e, H1, "GetPinholePackets", args, &out), 0);
	CHECK(out.p && strstr(out.p, "<PinholePackets>7</PinholePackets>"));
	desc_buf_free(&out);
	CHECK_EQ(fc_call(e, H1, "CheckPinholeWorking", args, &out), 0);
	CHECK(out.p && strstr(out.p, "<IsWorking>1</IsWorking>"));
	desc_buf_free(&out);
	/* another host: 606 for everything; an unknown UniqueID: 704 */
	str_printf(args, sizeof(args), "<UniqueID>%u</UniqueID><NewLeaseTime>300</NewLeaseTime>", uid);
	CHECK_EQ(fc_call(e, H2, "UpdatePinhole", args, &out), 606);
	CHECK_EQ(fc_call(e, H1, "UpdatePinhole", args, &out), 0);
	CHECK_EQ(fc_call(e, H1, "UpdatePinhole",
			 "<UniqueID>999</UniqueID><NewLeaseTime>300</NewLeaseTime>", &out), 704);
	str_printf(args, sizeof(args), "<UniqueID>%u</UniqueID>", uid);
	CHECK_EQ(fc_call(e, H2, "DeletePinhole", args, &out), 606);
	CHECK_EQ(fc_call(e, H2, "GetPinholePackets", args, &out), 606);
	CHECK_EQ(fc_call(e, H1, "DeletePinhole", args, &out), 0);
	CHECK_EQ(fc_call(e, H1, "DeletePinhole", args, &out), 704);
	CHECK_EQ(store_pin_count(e->s), 0);
	fake_env_free(e);
}

/* A port mapping to an IPv6 client does not exist (no NAT66): only
 * store_pin_add() makes IPv6 state. */
TEST(pinhole_no_nat66_mapping)
{
	struct fake_env *e = env6(false, false);
	struct mapping r = fake_req(TCP, 8080, H1, 8080, "v6", OWNER_NATPMP);

	CHECK_EQ(store_add(e->s, &r, 60, 0, NULL), ST_E_NOT_LAN);
	CHECK_EQ(store_check(e->s, &r, 0), ST_E_NOT_LAN);
	CHECK_EQ(store_count(e->s) + store_pin_count(e->s), 0);
	fake_env_free(e);
}

/* GENA over IPv6: the callback URL's IPv6 literal (a zone ignored). */
#include <sys/socket.h>
#include "events.h"

TEST(events_callback6)
{
	struct sockaddr_in6 a;
	struct sockaddr_in a4;
	struct in6_addr want = fake_addr("2001:db8:1::10");
	char path[64];

#define CB6(s) events_parse_callback6(s, strlen(s), &a, path, sizeof(path))
	CHECK_EQ(CB6("<http://[2001:db8:1::10]:9900/ev>"), 0);
	CHECK(addr_eq(&a.sin6_addr, &want) && ntohs(a.sin6_port) == 9900);
	CHECK_STR(path, "/ev");
	CHECK_EQ(CB6("<http://[fe80::1%25eth0]/>"), 0);
	CHECK_EQ(ntohs(a.sin6_port), 80);
	CHECK_EQ(CB6("<http://[2001:db8::1]x:80/>"), -1);
	CHECK_EQ(CB6("<http://[2001:db8::1/>"), -1);
	CHECK_EQ(CB6("<http://192.168.1.10:80/>"), -1);
	CHECK_EQ(events_parse_callback("<http://[2001:db8::1]:80/>", 26, &a4, path, sizeof(path)), -1);
#undef CB6
}
