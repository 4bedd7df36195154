/* test_restart.c - a restart with the kernel's state kept (a stop for
 * restart, a kill -9): the journal's last "# gen" line, the kernel found
 * unchanged (nothing read, nothing added again, only the elements of
 * leases that ended meanwhile removed), or changed (its elements read and
 * reconciled: those in place stay, stale ones go, missing ones come). */
#include <arpa/inet.h>
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
