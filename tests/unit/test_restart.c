/* test_restart.c - a restart with the kernel's state kept (a stop for
 * restart, a kill -9): the journal's last "# gen" line, the kernel found
 * unchanged (nothing read, nothing added again, only the elements of
 * leases that ended meanwhile removed), or changed (its elements read and
 * reconciled: those in place stay, stale ones go, missing ones come). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fake_fw.h"
#include "lease.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define TCP IPPROTO_TCP

static struct fake_env *
env_lease(void)
{
	struct fake_env *e = fake_env_new(true);

	fake_env_start(e);
	return e;
}

/* A lease record of TCP eport -> 192.168.1.10:eport ending `left` s from
 * now (negative: ended). */
static void
put_record(FILE *f, uint16_t eport, long left)
{
	long now = (long)time_wall();

	fprintf(f, "+ TCP %u :: 192.168.1.10 %u %ld %ld UPNP 192.168.1.10 "
		"000000000000000000000000 1 r%u\n", eport, eport, now + left, now - 10, eport);
}

/* The lease file of the tests below: 9001 and 9002 live, 9003 ended
 * during the "downtime", then the generation line. */
static void
write_leases(struct fake_env *e, const char *gen)
{
	FILE *f = fopen(e->ctx.cfg.lease_file, "w");

	if (f == NULL)
		return;
	put_record(f, 9001, 3600);
	put_record(f, 9002, 3600);
	put_record(f, 9003, -5);
	if (gen != NULL)
		fprintf(f, "# gen %s\n", gen);
	fclose(f);
}

/* The fake kernel as a killed igdd left it: 9001 and 9003, and 9004
 * which the journal never heard of. */
static void
kernel_left(struct fake_env *e)
{
	struct in6_addr c = fake_addr("192.168.1.10");
	uint16_t p[] = { 9001, 9003, 9004 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(p); i++)
		e->fw.kernel[i] = (struct fake_elem){ TCP, p[i], p[i], c, in6addr_any };
	e->fw.n_kernel = ARRAY_SIZE(p);
}

/* The generation matches: nothing is read or added again; the ended
 * lease's elements go. */
TEST(restart_trusts_an_unchanged_kernel)
{
	struct fake_env *e = fake_env_new(true);

	write_leases(e, "7 boot ns");
	kernel_left(e);
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "7 boot ns");
	str_copy(e->fw.gen, sizeof(e->fw.gen), "8 boot ns");
	e->fw.dump_on = true;
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK_EQ(e->fw.n_dumps, 0);
	CHECK_EQ(e->fw.n_install, 0);
	CHECK_EQ(e->fw.n_add, 0);
	CHECK(fake_fw_has(&e->fw, TCP, 9001, 9001));
	CHECK(!fake_fw_has(&e->fw, TCP, 9003, 9003));
	/* trusted: what the journal never heard of is not looked for */
	CHECK(fake_fw_has(&e->fw, TCP, 9004, 9004));
	fake_env_free(e);
}

/* The same, with two leases ended: a kernel without DESTROY refuses the
 * transaction of their deletes when one of the elements is missing
 * (ENOENT: someone else deleted it, or the same key twice); then each
 * goes alone, and the other one is still deleted. */
TEST(restart_trusted_deletes_alone_after_a_missing_element)
{
	struct fake_env *e = fake_env_new(true);
	struct in6_addr c = fake_addr("192.168.1.10");
	FILE *f;

	write_leases(e, NULL);
	f = fopen(e->ctx.cfg.lease_file, "a");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	put_record(f, 9005, -5);
	fprintf(f, "# gen 7 boot ns\n");
	fclose(f);
	kernel_left(e);
	e->fw.kernel[e->fw.n_kernel++] = (struct fake_elem){ TCP, 9005, 9005, c, in6addr_any };
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "7 boot ns");
	str_copy(e->fw.gen, sizeof(e->fw.gen), "8 boot ns");
	e->fw.dump_on = true;
	e->fw.fail_del = 1;
	e->fw.fail_errno = ENOENT;
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK_EQ(e->fw.n_dumps, 0);
	CHECK_EQ(e->fw.n_flush_refused, 1);
	CHECK(fake_fw_has(&e->fw, TCP, 9001, 9001));
	CHECK(!fake_fw_has(&e->fw, TCP, 9003, 9003) && !fake_fw_has(&e->fw, TCP, 9005, 9005));
	CHECK(!e->ctx.fw_suspect);
	fake_env_free(e);
}

/* Another generation (the ruleset changed since): the kernel's elements
 * are read; 9001 stays as it is, 9002 comes, 9003 and 9004 go. */
TEST(restart_reconciles_a_changed_kernel)
{
	struct fake_env *e = fake_env_new(true);

	write_leases(e, "7 boot ns");
	kernel_left(e);
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "9 boot ns");
	str_copy(e->fw.gen, sizeof(e->fw.gen), "10 boot ns");
	e->fw.dump_on = true;
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK_EQ(e->fw.n_dumps, 1);
	CHECK_EQ(e->fw.n_install, 0);
	CHECK_EQ(e->fw.n_add, 1);		/* 9002 only */
	CHECK(strstr(e->fw.log, "a TCP 9001") == NULL);
	CHECK(fake_fw_has(&e->fw, TCP, 9001, 9001) && fake_fw_has(&e->fw, TCP, 9002, 9002));
	CHECK(!fake_fw_has(&e->fw, TCP, 9003, 9003) && !fake_fw_has(&e->fw, TCP, 9004, 9004));
	CHECK_EQ(e->fw.n_kernel, 2);
	fake_env_free(e);
}

/* The kernel makes each part of a dump when it is read, walking the set
 * from its start and skipping what it sent: an element removed between
 * two parts before the walk's place makes it miss one.  A kill -9 left
 * six foreign elements first, then 9001-9012 without 9005: the
 * reconcile removes the foreign ones at the dump's end, so the one read
 * sees everything: every foreign element goes, only 9005 is added.  A
 * client's change between two parts makes the sets read again. */
static void
walk_leases(struct fake_env *e)
{
	struct in6_addr c = fake_addr("192.168.1.10");
	FILE *f = fopen(e->ctx.cfg.lease_file, "w");
	uint16_t p;

	if (f == NULL)
		return;
	e->fw.n_kernel = 0;
	for (p = 9100; p < 9106; p++)
		e->fw.kernel[e->fw.n_kernel++] = (struct fake_elem){ TCP, p, p, c, in6addr_any };
	for (p = 9001; p <= 9012; p++) {
		put_record(f, p, 3600);
		if (p != 9005)
			e->fw.kernel[e->fw.n_kernel++] = (struct fake_elem){ TCP, p, p, c, in6addr_any };
	}
	fclose(f);
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "9 boot ns");
	str_copy(e->fw.gen, sizeof(e->fw.gen), "10 boot ns");
	e->fw.dump_on = e->fw.dump_walk = true;
	e->fw.dump_step = 1;
}

/* the kernel holds 9001-9012 and n_more others */
static void
walk_kernel_is_the_journal(struct fake_env *e, size_t n_more)
{
	uint16_t p;

	CHECK_EQ(e->fw.n_kernel, 12 + n_more);
	for (p = 9001; p <= 9012; p++)
		CHECK(fake_fw_has(&e->fw, TCP, p, p));
	for (p = 9100; p < 9106; p++)
		CHECK(!fake_fw_has(&e->fw, TCP, p, p));
}

static void race_add(struct fake_env *e, uint16_t eport, const char *iaddr, uint16_t iport);

static void
walk_client_adds(struct fake_fw *f, void *arg)
{
	if (f->n_between == 2)
		race_add(arg, 9200, "192.168.1.10", 9200);
}

TEST(restart_reconcile_dump_walk_misses_nothing)
{
	struct fake_env *e = fake_env_new(true);

	walk_leases(e);
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 12);
	walk_kernel_is_the_journal(e, 0);
	CHECK_EQ(e->fw.n_dumps, 1);
	CHECK_EQ(e->fw.n_install, 0);
	CHECK_EQ(e->fw.n_add, 1);		/* 9005 only */
	fake_env_free(e);

	e = fake_env_new(true);			/* a client's add between two parts */
	walk_leases(e);
	e->fw.between = walk_client_adds;
	fake_env_start(e);
	e->fw.between_arg = e;
	CHECK_EQ(store_restore(e->s), 13);
	CHECK(e->fw.n_between >= 2);
	CHECK_EQ(e->fw.n_dumps, 2);		/* read again */
	CHECK(fake_fw_has(&e->fw, TCP, 9200, 9200));
	walk_kernel_is_the_journal(e, 1);
	fake_env_free(e);
}

/* A client takes a key whose stale element the read saw (a foreign
 * element there, waiting for the read's end to go): the client's element
 * stays, its pending delete goes; no second read.  The client's change is
 * journaled without the kernel's generation (a start after a stop then
 * would trust a kernel that still holds the stale elements). */
static bool take_marked;

static void
take_9100_once(struct fake_fw *f, void *arg)
{
	struct fake_env *e = arg;
	char text[4096];
	long n;

	if (f->n_between != 1)
		return;
	race_add(e, 9100, "192.168.1.10", 7777);
	n = fake_env_read_lease(e, text, sizeof(text));
	take_marked = n <= 0 || strstr(text, "# gen ") != NULL;
}

TEST(restart_reconcile_client_takes_a_stale_key)
{
	struct fake_env *e = fake_env_new(true);
	struct in6_addr c = fake_addr("192.168.1.10");
	FILE *f = fopen(e->ctx.cfg.lease_file, "w");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	put_record(f, 9001, 3600);
	put_record(f, 9002, 3600);
	fclose(f);
	e->fw.kernel[0] = (struct fake_elem){ TCP, 9100, 9100, c, in6addr_any };
	e->fw.kernel[1] = (struct fake_elem){ TCP, 9001, 9001, c, in6addr_any };
	e->fw.kernel[2] = (struct fake_elem){ TCP, 9002, 9002, c, in6addr_any };
	e->fw.n_kernel = 3;
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "9 boot ns");
	str_copy(e->fw.gen, sizeof(e->fw.gen), "10 boot ns");
	e->fw.dump_on = true;
	e->fw.dump_step = 1;
	e->fw.between = take_9100_once;
	fake_env_start(e);
	e->fw.between_arg = e;
	CHECK_EQ(store_restore(e->s), 3);
	CHECK(e->fw.n_between >= 1);
	CHECK_EQ(e->fw.n_dumps, 1);
	CHECK(fake_fw_has(&e->fw, TCP, 9100, 7777));
	CHECK(fake_fw_has(&e->fw, TCP, 9001, 9001) && fake_fw_has(&e->fw, TCP, 9002, 9002));
	CHECK_EQ(e->fw.n_kernel, 3);
	CHECK(!take_marked);
	fake_env_free(e);
}

/* No generation line last (a record after it, or none at all): read. */
TEST(restart_without_generation_reads_the_kernel)
{
	struct fake_env *e = fake_env_new(true);
	FILE *f;

	write_leases(e, "7 boot ns");
	f = fopen(e->ctx.cfg.lease_file, "a");
	if (f != NULL) {
		put_record(f, 9005, 3600);	/* a change after the last mark */
		fclose(f);
	}
	kernel_left(e);
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "7 boot ns");
	e->fw.dump_on = true;
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 3);
	CHECK_EQ(e->fw.n_dumps, 1);
	CHECK_EQ(e->fw.n_kernel, 3);
	fake_env_free(e);
}

/* Every journaled change is followed by the kernel's generation, durable
 * with it; the file the restore rewrites ends with one too. */
TEST(restart_journal_marks_generations)
{
	struct fake_env *e = env_lease();
	struct mapping a = fake_req(TCP, 9100, "192.168.1.10", 9100, "a", OWNER_UPNP);
	static char buf[65536];
	long n;

	str_copy(e->fw.gen, sizeof(e->fw.gen), "41 boot ns");
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	n = fake_env_read_lease(e, buf, sizeof(buf));
	CHECK(n > 0 && strstr(buf, "\n# gen 41 boot ns\n") != NULL);
	CHECK(n > 0 && strcmp(buf + n - 17, "# gen 41 boot ns\n") == 0);
	fake_env_restart(e);
	str_copy(e->fw.gen, sizeof(e->fw.gen), "42 boot ns");
	CHECK_EQ(store_restore(e->s), 1);
	n = fake_env_read_lease(e, buf, sizeof(buf));
	CHECK(n > 0 && strcmp(buf + n - 17, "# gen 42 boot ns\n") == 0);
	fake_env_free(e);
}

/* IPv6 pinholes across a restart: the kernel's dump reads the IPv4 sets
 * only, so the reconcile adds every pinhole again at its end (an element
 * in place is only renewed); a trusted kernel keeps them untouched. */
TEST(restart_keeps_pinholes)
{
	struct fake_env *e = env_lease();
	struct mapping a = fake_req(TCP, 9100, "192.168.1.10", 9100, "a", OWNER_UPNP);
	struct mapping p = fake_req(TCP, 0, "2001:db8:1::10", 22, "pin", OWNER_UPNP), *pm;
	uint16_t uid;

	str_copy(e->fw.gen, sizeof(e->fw.gen), "41 boot ns");
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_pin_add(e->s, &p, 3600, 0, &pm), ST_OK);
	uid = pm->uid;
	CHECK(fake_fw_has(&e->fw, TCP, uid, 22));
	/* a plain stop emptied the kernel; the next start reads and adds */
	e->fw.n_kernel = 0;
	e->fw.dump_on = true;
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "50 boot ns");
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK_EQ(e->fw.n_dumps, 1);
	CHECK(fake_fw_has(&e->fw, TCP, 9100, 9100));
	CHECK(fake_fw_has(&e->fw, TCP, uid, 22));
	CHECK(store_pin_find(e->s, uid) != NULL);
	/* a kill -9 with the kernel unchanged: nothing read or added */
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), e->fw.gen);
	e->fw.n_add = e->fw.n_add_many = 0;
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK_EQ(e->fw.n_dumps, 1);
	CHECK_EQ(e->fw.n_add + e->fw.n_add_many, 0);
	CHECK(fake_fw_has(&e->fw, TCP, uid, 22));
	fake_env_free(e);
}

/* A fake kernel element of (proto, eport) gone, as behind igdd's back. */
static void
kernel_drop(struct fake_fw *f, uint16_t eport)
{
	size_t i;

	for (i = 0; i < f->n_kernel; i++)
		if (f->kernel[i].eport == eport)
			f->kernel[i--] = f->kernel[--f->n_kernel];
}

/* A kill -9 and a changed kernel, then the restart's reconcile. */
static void
restart_changed(struct fake_env *e)
{
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "50 boot ns");
	e->fw.n_install = 0;
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK_EQ(e->fw.n_install, 0);		/* no install of everything */
	CHECK(fake_fw_has(&e->fw, TCP, 5000, 7000) && fake_fw_has(&e->fw, TCP, 6000, 7000));
	CHECK_EQ(e->fw.n_snat, 1);
}

/* Port preservation: two mappings of one internal side share its one
 * SNAT element (the first one's external port).  A mapping the
 * reconcile adds again does not add a second one of that side (the
 * kernel would refuse the transaction, and the restart would fall back
 * to installing everything at once): not when the element is in place,
 * and only the first one's when both are added again. */
TEST(restart_reconcile_shares_the_snat_element)
{
	struct fake_env *e = env_lease();
	struct mapping a = fake_req(TCP, 5000, "192.168.1.10", 7000, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 6000, "192.168.1.10", 7000, "b", OWNER_UPNP);

	str_copy(e->fw.gen, sizeof(e->fw.gen), "41 boot ns");
	e->fw.dump_on = e->fw.dump_snat = true;
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	CHECK(e->fw.n_snat == 1 && e->fw.snat[0].eport == 5000);
	/* b's elements gone: a's SNAT element stays, b adds none */
	kernel_drop(&e->fw, 6000);
	restart_changed(e);
	CHECK_EQ(e->fw.snat[0].eport, 5000);
	/* a's gone, the element is b's port: in place, kept */
	kernel_drop(&e->fw, 5000);
	e->fw.snat[0].eport = 6000;
	restart_changed(e);
	CHECK_EQ(e->fw.snat[0].eport, 6000);
	/* everything gone: a's (the first in key order) only */
	e->fw.n_kernel = e->fw.n_snat = 0;
	restart_changed(e);
	CHECK_EQ(e->fw.snat[0].eport, 5000);
	/* a stale one (a port of neither): replaced by a's */
	e->fw.snat[0].eport = 5999;
	restart_changed(e);
	CHECK_EQ(e->fw.snat[0].eport, 5000);
	fake_env_free(e);
}

/* The same across the reconcile's transactions: the side's first mapping
 * adds its SNAT element in the first chunk, its second one, more than a
 * chunk later in key order, adds none. */
TEST(restart_reconcile_shares_the_snat_element_across_chunks)
{
	struct fake_env *e = env_lease();
	struct mapping a = fake_req(TCP, 5000, "192.168.1.10", 7000, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 6100, "192.168.1.10", 7000, "b", OWNER_UPNP);
	uint16_t p;

	str_copy(e->fw.gen, sizeof(e->fw.gen), "41 boot ns");
	e->fw.dump_on = e->fw.dump_snat = true;
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	for (p = 5001; p <= 6040; p++) {	/* between them: more than a chunk */
		struct mapping f = fake_req(TCP, p, "192.168.1.11", p, "f", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &f, 3600, 0, NULL), ST_OK);
	}
	e->fw.n_kernel = e->fw.n_snat = 0;
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "50 boot ns");
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 1042);
	CHECK_EQ(e->fw.n_install, 0);
	CHECK(e->fw.n_add_many >= 2);		/* more than one transaction */
	CHECK_EQ(e->fw.n_kernel, 1042);
	CHECK_EQ(e->fw.n_snat, 1041);
	CHECK(fake_fw_has(&e->fw, TCP, 6100, 7000));
	for (p = 0; p < e->fw.n_snat; p++)
		if (e->fw.snat[p].iport == 7000)
			CHECK_EQ(e->fw.snat[p].eport, 5000);
	fake_env_free(e);
}

/* --- clients' changes while the reconcile runs ---------------------- */

/* The kernel's elements are exactly the store's: a DNAT and forward
 * element of each (proto, eport -> iaddr:iport), and one SNAT element of
 * each internal side, with one of its mappings' ports. */
struct want_map {
	uint16_t eport;
	const char *iaddr;
	uint16_t iport;
};

static void
check_kernel_is(struct fake_env *e, const struct want_map *w, size_t n)
{
	size_t i, j, sides = 0;

	CHECK_EQ(e->fw.n_kernel, n);
	for (i = 0; i < n; i++) {
		struct in6_addr a = fake_addr(w[i].iaddr);
		bool ok = false, first = true;

		for (j = 0; j < e->fw.n_kernel; j++)
			if (e->fw.kernel[j].eport == w[i].eport)
				ok = e->fw.kernel[j].iport == w[i].iport &&
				     addr_eq(&e->fw.kernel[j].iaddr, &a);
		CHECK(ok);
		for (j = 0; j < i; j++)
			if (w[j].iport == w[i].iport && strcmp(w[j].iaddr, w[i].iaddr) == 0)
				first = false;
		if (!first || !e->fw.dump_snat)
			continue;
		sides++;
		ok = false;
		for (j = 0; j < e->fw.n_snat; j++) {
			size_t k;

			if (e->fw.snat[j].iport != w[i].iport || !addr_eq(&e->fw.snat[j].iaddr, &a))
				continue;
			for (k = 0; k < n; k++)	/* one of the side's ports */
				ok |= w[k].iport == w[i].iport && strcmp(w[k].iaddr, w[i].iaddr) == 0 &&
				      w[k].eport == e->fw.snat[j].eport;
		}
		CHECK(ok);
	}
	if (e->fw.dump_snat)
		CHECK_EQ(e->fw.n_snat, sides);
}

static struct fake_env *
race_env(void)
{
	struct fake_env *e = env_lease();

	str_copy(e->fw.gen, sizeof(e->fw.gen), "41 boot ns");
	e->fw.dump_on = e->fw.dump_snat = true;
	return e;
}

static void
race_add(struct fake_env *e, uint16_t eport, const char *iaddr, uint16_t iport)
{
	struct mapping m = fake_req(TCP, eport, iaddr, iport, "r", OWNER_UPNP);

	CHECK_EQ(store_add(e->s, &m, 3600, 0, NULL), ST_OK);
}

/* A kill -9 and a foreign change of the ruleset: the restart reconciles,
 * its dump in parts of one element; between runs between its slices.
 * n: the mappings after it.  Never the fallback to one install of
 * everything. */
static void
race_restart(struct fake_env *e, size_t n, void (*between)(struct fake_fw *, void *))
{
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "50 boot ns");
	e->fw.n_install = e->fw.n_between = 0;
	e->fw.dump_step = 1;
	e->fw.between = between;
	e->fw.between_arg = e;
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), (int)n);
	CHECK(e->fw.n_between > 0);
	CHECK_EQ(e->fw.n_install, 0);		/* no fallback */
	e->fw.between = NULL;
	e->fw.dump_step = 0;
}

static void
add_b_once(struct fake_fw *f, void *arg)
{
	if (f->n_between == 1)
		race_add(arg, 6100, "192.168.1.10", 7000);
}

/* A client adds a mapping on an internal side whose SNAT element the
 * dump has read already: the mapping shares it (no element of its own),
 * and the walk must not add one of its port (the kernel refuses a
 * second element of the side: EEXIST, and the restart fell back to one
 * install of everything). */
TEST(restart_reconcile_client_adds_to_a_seen_snat_side)
{
	struct fake_env *e = race_env();
	const struct want_map w[] = { { 5000, "192.168.1.10", 7000 }, { 5500, "192.168.1.11", 5500 },
				      { 6100, "192.168.1.10", 7000 } };

	race_add(e, 5000, "192.168.1.10", 7000);
	race_add(e, 5500, "192.168.1.11", 5500);
	race_restart(e, 3, add_b_once);
	check_kernel_is(e, w, 3);
	CHECK(store_find(e->s, TCP, 6100, NULL) != NULL);
	fake_env_free(e);
}

static void
move_a_once(struct fake_fw *f, void *arg)
{
	if (f->n_between == 1)	/* the same client: a new internal port */
		race_add(arg, 5000, "192.168.1.10", 7100);
}

/* A client moves a mapping to another internal port (a refresh) while
 * the dump runs: its new side's SNAT element was read (another
 * mapping's), its old DNAT element is read afterwards, stale, and
 * removed by its key, which removes the new one; the walk adds it again,
 * sharing the side's SNAT element. */
TEST(restart_reconcile_client_moves_a_mapping)
{
	struct fake_env *e = race_env();
	const struct want_map w[] = { { 5000, "192.168.1.10", 7100 }, { 6000, "192.168.1.10", 7100 } };
	size_t i;

	race_add(e, 5000, "192.168.1.10", 7000);
	race_add(e, 6000, "192.168.1.10", 7100);
	for (i = 0; i < e->fw.n_snat; i++)	/* 7000's SNAT element lost */
		if (e->fw.snat[i].iport == 7000)
			e->fw.snat[i--] = e->fw.snat[--e->fw.n_snat];
	CHECK_EQ(e->fw.n_snat, 1);
	race_restart(e, 2, move_a_once);
	check_kernel_is(e, w, 2);
	fake_env_free(e);
}

static void
del_b_once(struct fake_fw *f, void *arg)
{
	struct fake_env *e = arg;

	if (f->n_between == 1) {
		CHECK_EQ(store_del(e->s, TCP, 6100, NULL, NULL), ST_OK);
		CHECK_EQ(f->last_snat_heir, 6300);	/* the first of the side in the index */
	}
}

/* A client deletes a mapping whose side's SNAT element was lost: the
 * delete re-points it at an heir (so the kernel holds it again, with the
 * heir's port); the walk must not add one of another mapping's port. */
TEST(restart_reconcile_client_delete_repoints_snat)
{
	struct fake_env *e = race_env();
	const struct want_map w[] = { { 6200, "192.168.1.10", 7000 }, { 6300, "192.168.1.10", 7000 } };

	race_add(e, 6300, "192.168.1.10", 7000);
	race_add(e, 6100, "192.168.1.10", 7000);
	race_add(e, 6200, "192.168.1.10", 7000);
	e->fw.n_snat = 0;			/* lost */
	race_restart(e, 2, del_b_once);
	check_kernel_is(e, w, 2);
	fake_env_free(e);
}

static void
take_9003_once(struct fake_fw *f, void *arg)
{
	struct fake_env *e = arg;

	if (f->n_between == 1)
		race_add(e, 9003, "192.168.1.20", 9033);
}

/* A lease ended while igdd was down (its elements still in the kernel)
 * and a client takes its external port for another host while the dump
 * runs: the dump's part, made before, shows the old element, stale, and
 * its removal by key removes the client's; the walk adds it again. */
TEST(restart_reconcile_stale_part_removes_a_new_element)
{
	struct fake_env *e = fake_env_new(true);
	const struct want_map w[] = { { 9001, "192.168.1.10", 9001 }, { 9002, "192.168.1.10", 9002 },
				      { 9003, "192.168.1.20", 9033 } };

	write_leases(e, "7 boot ns");
	kernel_left(e);
	str_copy(e->fw.gen, sizeof(e->fw.gen), "8 boot ns");
	e->fw.dump_on = true;
	fake_env_start(e);
	race_restart(e, 3, take_9003_once);
	check_kernel_is(e, w, 3);
	fake_env_free(e);
}

static void
add_after_chunk(struct fake_fw *f, void *arg)
{
	if (f->n_between == 1)	/* after the first transaction of the walk */
		race_add(arg, 6100, "192.168.1.10", 7000);
}

/* The same between two transactions of the walk (more than a chunk of
 * mappings to add): the new mapping, past the walk's cursor, shares the
 * SNAT element the dump saw. */
TEST(restart_reconcile_client_adds_during_the_walk)
{
	struct fake_env *e = race_env();
	uint16_t p;
	size_t i;

	race_add(e, 5000, "192.168.1.10", 7000);
	for (p = 5001; p <= 6040; p++)
		race_add(e, p, "192.168.1.11", p);
	for (p = 5001; p <= 6040; p++)		/* the fillers' elements lost */
		kernel_drop(&e->fw, p);
	for (i = 0; i < e->fw.n_snat; i++)
		if (e->fw.snat[i].iport != 7000)
			e->fw.snat[i--] = e->fw.snat[--e->fw.n_snat];
	CHECK(e->fw.n_kernel == 1 && e->fw.n_snat == 1);
	e->fw.n_add_many = 0;
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "50 boot ns");
	e->fw.n_install = e->fw.n_between = 0;
	e->fw.between = add_after_chunk;
	e->fw.between_arg = e;
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 1042);
	e->fw.between = NULL;
	CHECK(e->fw.n_add_many >= 2);
	CHECK_EQ(e->fw.n_install, 0);		/* no fallback */
	CHECK_EQ(e->fw.n_kernel, 1042);
	CHECK(fake_fw_has(&e->fw, TCP, 6100, 7000));
	CHECK_EQ(e->fw.n_snat, 1041);
	for (i = 0; i < e->fw.n_snat; i++)
		if (e->fw.snat[i].iport == 7000)
			CHECK_EQ(e->fw.snat[i].eport, 5000);
	fake_env_free(e);
}

static void
add_b_alone_once(struct fake_fw *f, void *arg)
{
	if (f->n_between == 1)	/* the side's one mapping: its own element */
		race_add(arg, 6100, "192.168.1.10", 7000);
}

/* A client adds the one mapping of a side whose old SNAT element (of a
 * lease that ended meanwhile) is still in the kernel: its add replaces
 * it.  The dump's part, made before, shows the old one, stale: removed
 * by its key, which removes the client's; the walk adds it again. */
TEST(restart_reconcile_stale_part_removes_a_new_snat_element)
{
	struct fake_env *e = race_env();
	const struct want_map w[] = { { 5500, "192.168.1.11", 5500 }, { 6100, "192.168.1.10", 7000 } };

	race_add(e, 5500, "192.168.1.11", 5500);
	e->fw.snat[e->fw.n_snat++] = (struct fake_elem){ TCP, 5999, 7000, fake_addr("192.168.1.10"),
							  in6addr_any };
	race_restart(e, 2, add_b_alone_once);
	check_kernel_is(e, w, 2);
	fake_env_free(e);
}

static void
add_before_cursor(struct fake_fw *f, void *arg)
{
	if (f->n_between == 1)	/* a key the walk has passed */
		race_add(arg, 4000, "192.168.1.10", 7000);
}

/* During the walk a client adds, at a key the walk has passed, a mapping
 * of a side whose SNAT element was lost and whose other mapping comes
 * later: the client's add makes the element itself (the walk counts the
 * side's passed mappings as holding it). */
TEST(restart_reconcile_client_adds_behind_the_walk)
{
	struct fake_env *e = race_env();
	uint16_t p;
	size_t i;

	race_add(e, 6200, "192.168.1.10", 7000);
	for (p = 4001; p <= 5040; p++)
		race_add(e, p, "192.168.1.11", p);
	for (p = 4001; p <= 5040; p++)		/* the fillers' elements lost */
		kernel_drop(&e->fw, p);
	e->fw.n_snat = 0;			/* and every SNAT element */
	e->fw.n_add_many = 0;
	str_copy(e->fw.start_gen, sizeof(e->fw.start_gen), "50 boot ns");
	e->fw.n_install = e->fw.n_between = 0;
	e->fw.between = add_before_cursor;
	e->fw.between_arg = e;
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 1042);
	e->fw.between = NULL;
	CHECK(e->fw.n_add_many >= 2);
	CHECK_EQ(e->fw.n_install, 0);
	CHECK_EQ(e->fw.n_kernel, 1042);
	CHECK(fake_fw_has(&e->fw, TCP, 4000, 7000) && fake_fw_has(&e->fw, TCP, 6200, 7000));
	CHECK_EQ(e->fw.n_snat, 1041);
	for (i = 0, p = 0; i < e->fw.n_snat; i++)
		if (e->fw.snat[i].iport == 7000)
			p = e->fw.snat[i].eport;
	CHECK(p == 4000 || p == 6200);
	fake_env_free(e);
}

/* --- after a plain stop: installed beside the replay ---------------- */

/* A journal with what a live gateway leaves: refreshes, a delete of the
 * internal side's first mapping (its SNAT element goes to the heir), a
 * mapping moved to another internal port.  Sets
 * this start made (the table was removed): every change of the replay
 * goes to the install beside it, which then holds exactly the store's
 * mappings, one SNAT element per side; nothing is installed after. */
static struct fake_env *
pipe_env(void)
{
	struct fake_env *e = fake_env_new(true);
	const struct { uint16_t eport, iport; const char *iaddr; } m[] = {
		{ 5000, 7000, "192.168.1.10" }, { 6000, 7000, "192.168.1.10" },
		{ 6001, 7001, "192.168.1.10" }, { 6002, 7002, "192.168.1.11" },
		{ 5000, 7000, "192.168.1.10" }, { 6002, 7003, "192.168.1.11" },
	};
	size_t i;

	fake_env_start(e);
	e->fw.dump_snat = true;
	for (i = 0; i < ARRAY_SIZE(m); i++) {
		struct mapping r = fake_req(TCP, m[i].eport, m[i].iaddr, m[i].iport, "p",
					    OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
	}
	CHECK_EQ(store_del(e->s, TCP, 5000, NULL, NULL), ST_OK);
	e->fw.n_kernel = e->fw.n_snat = 0;	/* the plain stop */
	e->fw.pipe_on = true;
	e->fw.n_install = e->fw.n_add = e->fw.n_del = 0;
	return e;
}

TEST(restart_fresh_sets_installed_beside_the_replay)
{
	struct fake_env *e = pipe_env();
	const struct want_map w[] = {
		{ 6000, "192.168.1.10", 7000 }, { 6001, "192.168.1.10", 7001 },
		{ 6002, "192.168.1.11", 7003 },
	};

	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 3);
	CHECK(e->fw.n_pipe >= 3 + 3);	/* the adds, and what superseded ones */
	CHECK(e->fw.n_del >= 2);	/* 5000 (twice added), 6002's first target */
	CHECK_EQ(e->fw.n_install, 0);
	CHECK_EQ(e->fw.n_add_many, 0);
	check_kernel_is(e, w, ARRAY_SIZE(w));
	fake_env_free(e);
}

/* The kernel refused a part of it: everything is installed after the
 * replay instead, in one transaction. */
TEST(restart_fresh_sets_install_refused_installs_all)
{
	struct fake_env *e = pipe_env();
	const struct want_map w[] = {
		{ 6000, "192.168.1.10", 7000 }, { 6001, "192.168.1.10", 7001 },
		{ 6002, "192.168.1.11", 7003 },
	};

	e->fw.pipe_fail = true;
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 3);
	CHECK_EQ(e->fw.n_install, 1);
	CHECK_EQ(e->fw.n_kernel, 3);
	e->fw.dump_snat = false;	/* install_all makes no SNAT elements here */
	check_kernel_is(e, w, ARRAY_SIZE(w));
	fake_env_free(e);
}

static int poll_calls;

static void
poll_finds_a_change(struct igdd_ctx *ctx)
{
	poll_calls++;
	ctx->fw_dirty |= FW_EV_ELEMS;
}

/* The lease file's last line, into line[size]. */
static void
last_line(struct fake_env *e, char *line, size_t size)
{
	static char buf[65536];
	long n = fake_env_read_lease(e, buf, sizeof(buf));
	char *p;

	CHECK(n >= 0);
	if (n < 0)
		buf[0] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	p = strrchr(buf, '\n');
	str_copy(line, size, p != NULL ? p + 1 : buf);
}

/* A mark says the kernel holds the journal's mappings: none after a
 * failed repair, after lost notifications no check has agreed with since,
 * or when a notification of another process's change waits (read before
 * the mark); igdd's own change beside the mappings marks, once, and a
 * successful re-install marks and clears the doubt. */
TEST(restart_marks_only_a_kernel_that_holds_the_journal)
{
	struct fake_env *e = env_lease();
	struct mapping a = fake_req(TCP, 9100, "192.168.1.10", 9100, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 9101, "192.168.1.10", 9101, "b", OWNER_UPNP);
	static char buf[65536];
	char line[256];

	str_copy(e->fw.gen, sizeof(e->fw.gen), "41 boot ns");
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	last_line(e, line, sizeof(line));
	CHECK_STR(line, "# gen 41 boot ns");
	/* after a failed repair: the record, no mark */
	e->ctx.fw_suspect = true;
	str_copy(e->fw.gen, sizeof(e->fw.gen), "42 boot ns");
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	last_line(e, line, sizeof(line));
	CHECK(strncmp(line, "# gen", 5) != 0);
	store_mark_kernel(e->s);
	last_line(e, line, sizeof(line));
	CHECK(strncmp(line, "# gen", 5) != 0);
	/* lost notifications, not checked since */
	e->ctx.fw_suspect = false;
	e->ctx.fw_unverified = true;
	store_mark_kernel(e->s);
	last_line(e, line, sizeof(line));
	CHECK(strncmp(line, "# gen", 5) != 0);
	/* a notification waits: read first, then no mark */
	e->ctx.fw_unverified = false;
	e->ctx.fw_poll = poll_finds_a_change;
	poll_calls = 0;
	store_mark_kernel(e->s);
	CHECK_EQ(poll_calls, 1);
	last_line(e, line, sizeof(line));
	CHECK(strncmp(line, "# gen", 5) != 0);
	/* nothing waits: the mark, once */
	e->ctx.fw_poll = NULL;
	e->ctx.fw_dirty = 0;
	store_mark_kernel(e->s);
	last_line(e, line, sizeof(line));
	CHECK_STR(line, "# gen 42 boot ns");
	store_mark_kernel(e->s);
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "# gen 42 boot ns\n# gen 42") == NULL);
	/* a re-install clears the doubt and marks */
	e->ctx.fw_suspect = e->ctx.fw_unverified = true;
	str_copy(e->fw.gen, sizeof(e->fw.gen), "43 boot ns");
	CHECK_EQ(store_reinstall(e->s), 0);
	CHECK(!e->ctx.fw_suspect && !e->ctx.fw_unverified);
	last_line(e, line, sizeof(line));
	CHECK_STR(line, "# gen 43 boot ns");
	fake_env_free(e);
}

/* A reservation waiting for its upstream answer has its elements in the
 * kernel and no record in the journal: no mark names that kernel until
 * its confirm or roll back, which mark it. */
TEST(restart_marks_no_kernel_with_a_pending_reservation)
{
	struct fake_env *e = env_lease();
	struct mapping r = fake_req(TCP, 9200, "192.168.1.10", 9200, "r", OWNER_UPNP);
	struct mapping a = fake_req(TCP, 9201, "192.168.1.10", 9201, "a", OWNER_UPNP);
	struct mapping *m = NULL;
	char line[256];

	str_copy(e->fw.gen, sizeof(e->fw.gen), "50 boot ns");
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	CHECK(m != NULL && store_pending(m));
	/* another client's add while it waits: its record, no mark */
	str_copy(e->fw.gen, sizeof(e->fw.gen), "51 boot ns");
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	last_line(e, line, sizeof(line));
	CHECK(strncmp(line, "+", 1) == 0 && strstr(line, "9201") != NULL);
	store_mark_kernel(e->s);
	last_line(e, line, sizeof(line));
	CHECK(strncmp(line, "# gen", 5) != 0);
	/* the confirm: its record, then the mark */
	store_confirm(e->s, m);
	last_line(e, line, sizeof(line));
	CHECK_STR(line, "# gen 51 boot ns");
	/* a second reservation rolled back: no record, the mark follows */
	r.eport = r.iport = 9202;
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	str_copy(e->fw.gen, sizeof(e->fw.gen), "52 boot ns");
	store_mark_kernel(e->s);
	last_line(e, line, sizeof(line));
	CHECK_STR(line, "# gen 51 boot ns");
	store_rollback(e->s, m);
	last_line(e, line, sizeof(line));
	CHECK_STR(line, "# gen 52 boot ns");
	/* a roll back whose delete the kernel refused: its elements may
	 * stay, the doubt of a failed repair, no mark */
	r.eport = r.iport = 9203;
	CHECK_EQ(store_add(e->s, &r, 3600, STORE_F_RESERVE, &m), ST_OK);
	str_copy(e->fw.gen, sizeof(e->fw.gen), "53 boot ns");
	e->fw.fail_del = 1;
	store_rollback(e->s, m);
	CHECK(store_find(e->s, TCP, 9203, NULL) == NULL);
	CHECK(e->ctx.fw_suspect);
	last_line(e, line, sizeof(line));
	CHECK_STR(line, "# gen 52 boot ns");
	fake_env_free(e);
}

static unsigned polls;

/* The backend read, with the batch's transaction, that another process's
 * transaction came unseen (nft.c's events_account()). */
static void
poll_unseen(struct igdd_ctx *ctx)
{
	polls++;
	ctx->fw_dirty |= FW_EV_UNSEEN;
}

/* After a batch's transaction the store asks what the backend read of
 * other processes' changes (the listener's socket no longer wakes the
 * loop for it): an unseen transaction withholds the mark. */
TEST(restart_batch_polls_and_unseen_withholds_the_mark)
{
	struct fake_env *e = fake_env_new(true);
	struct mapping a = fake_req(IPPROTO_TCP, 6101, "192.168.1.10", 6101, "a", OWNER_NATPMP);
	struct mapping b = fake_req(IPPROTO_TCP, 6102, "192.168.1.10", 6102, "b", OWNER_NATPMP);
	char line[256];

	fake_env_start(e);
	str_copy(e->fw.gen, sizeof(e->fw.gen), "70 boot ns");
	e->ctx.fw_poll = poll_unseen;
	polls = 0;
	store_hold_batch(e->s);
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_commit(e->s), 0);
	CHECK(polls >= 1);
	last_line(e, line, sizeof(line));
	CHECK(strncmp(line, "+ TCP 6101 ", 11) == 0);
	/* nothing reported: the batch's record is marked */
	e->ctx.fw_poll = NULL;
	e->ctx.fw_dirty = 0;
	str_copy(e->fw.gen, sizeof(e->fw.gen), "71 boot ns");
	store_hold_batch(e->s);
	CHECK_EQ(store_add(e->s, &b, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_commit(e->s), 0);
	last_line(e, line, sizeof(line));
	CHECK_STR(line, "# gen 71 boot ns");
	fake_env_free(e);
	/* without a lease file (no mark to write) the batch polls too */
	e = fake_env_new(false);
	fake_env_start(e);
	e->ctx.fw_poll = poll_unseen;
	polls = 0;
	store_hold_batch(e->s);
	CHECK_EQ(store_add(e->s, &a, 3600, 0, NULL), ST_OK);
	CHECK_EQ(store_commit(e->s), 0);
	CHECK_EQ(polls, 1);
	fake_env_free(e);
}

/* The one-by-one install after a refused transaction: an add whose answer
 * never came (the kernel may hold it) drops its mapping as a refused one
 * does, and leaves the doubt of a failed repair: no mark until the next
 * re-install, whose flush settles the kernel and clears it. */
TEST(restart_add_of_unknown_outcome_is_doubted)
{
	struct fake_env *e = fake_env_new(true);
	static const char rec[] =
		"+ TCP 100 :: 192.168.1.10 100 0 1 UPNP 192.168.1.10 000000000000000000000000 1 ok\n"
		"+ TCP 101 :: 192.168.1.10 101 0 1 UPNP 192.168.1.10 000000000000000000000000 1 ok\n";
	char line[256];
	FILE *f = fopen(e->ctx.cfg.lease_file, "w");

	CHECK(f != NULL && fputs(rec, f) >= 0 && fclose(f) == 0);
	fake_env_start(e);
	str_copy(e->fw.gen, sizeof(e->fw.gen), "60 boot ns");
	e->fw.fail_install = 1;
	e->fw.fail_add = 1;
	e->fw.fail_errno = ETIMEDOUT;
	CHECK_EQ(store_restore(e->s), 1);
	CHECK(e->ctx.fw_suspect);
	last_line(e, line, sizeof(line));
	CHECK(strncmp(line, "# gen", 5) != 0);
	/* a refusal (EPERM) is known: no doubt */
	e->ctx.fw_suspect = false;
	e->fw.fail_errno = 0;
	fake_env_restart(e);
	e->fw.fail_install = 1;
	e->fw.fail_add = 1;
	CHECK_EQ(store_restore(e->s), 0);
	CHECK(!e->ctx.fw_suspect);
	/* the re-install clears the doubt and marks */
	e->ctx.fw_suspect = true;
	str_copy(e->fw.gen, sizeof(e->fw.gen), "61 boot ns");
	CHECK_EQ(store_reinstall(e->s), 0);
	CHECK(!e->ctx.fw_suspect);
	last_line(e, line, sizeof(line));
	CHECK_STR(line, "# gen 61 boot ns");
	fake_env_free(e);
}
