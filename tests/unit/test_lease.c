/* test_lease.c - the lease journal: format, replay, compaction, restore. */
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake_fw.h"
#include "fake_sync.h"
#include "lease.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

/* A record whose mapping points at its own fields (so it is filled in
 * place, never returned by value). */
static void
rec(struct lease_record *r, const char *desc)
{
	memset(r, 0, sizeof(*r));
	r->op = '+';
	r->m.proto = UDP;
	r->m.eport = 51413;
	addr_parse("203.0.113.9", &r->rhost);
	addr_parse("192.168.1.10", &r->iaddr);
	r->m.rhost = &r->rhost;
	r->m.iaddr = &r->iaddr;
	r->m.iport = 51414;
	r->m.enabled = true;
	r->m.created = 1700000000;
	r->owner.proto = OWNER_PCP;
	addr_parse("fd00::1", &r->owner.addr);
	memcpy(r->owner.nonce, "\x01\x23\x45\x67\x89\xab\xcd\xef\x00\xff\x10\x20", 12);
	r->m.owner = &r->owner;
	r->expiry_wall = 1800000000;
	r->m.desc = desc;
}

static bool
same_record(const struct lease_record *a, const struct lease_record *b)
{
	return a->op == b->op && a->m.proto == b->m.proto && a->m.eport == b->m.eport &&
	       addr_eq(a->m.rhost, b->m.rhost) &&
	       addr_eq(a->m.iaddr, b->m.iaddr) && a->m.iport == b->m.iport &&
	       a->m.enabled == b->m.enabled && a->m.created == b->m.created &&
	       memcmp(a->m.owner, b->m.owner, sizeof(*a->m.owner)) == 0 &&
	       a->expiry_wall == b->expiry_wall && strcmp(a->m.desc, b->m.desc) == 0;
}

TEST(lease_format_parse_round_trip)
{
	static const char *const descs[] = {
		"plain", "", " lead and trail ", "100% sure %41", "caf\xc3\xa9 \xff\xfe raw",
		"two  spaces", "#not a comment",
	};
	char line[LEASE_LINE_MAX], big[MAPPING_DESC_MAX];
	struct lease_record a, b;
	size_t i;
	int len;

	for (i = 0; i < ARRAY_SIZE(descs); i++) {
		rec(&a, descs[i]);
		len = lease_format(line, sizeof(line), &a);
		CHECK(len > 0 && line[len - 1] == '\n');
		CHECK(memchr(line, '\n', (size_t)len - 1) == NULL);
		CHECK_EQ(lease_parse(line, (size_t)len - 1, &b), 0);
		CHECK(same_record(&a, &b));
	}
	/* the whole description buffer of '%' (worst case: 3 bytes each) */
	memset(big, '%', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	a.m.desc = big;
	len = lease_format(line, sizeof(line), &a);
	CHECK(len > 0);
	CHECK_EQ(lease_parse(line, (size_t)len - 1, &b), 0);
	CHECK(same_record(&a, &b));
	/* delete records carry the key only */
	rec(&a, "x");
	a.op = '-';
	len = lease_format(line, sizeof(line), &a);
	CHECK(strcmp(line, "- UDP 51413 203.0.113.9\n") == 0);
	CHECK_EQ(lease_parse(line, (size_t)len - 1, &b), 0);
	CHECK_EQ(b.op, '-');
	CHECK_EQ(b.m.eport, 51413);
}

/* The exact bytes of each record kind (formatted without printf), and a
 * buffer one byte short refused whole. */
TEST(lease_format_exact_bytes)
{
	static const char add[] = "+ UDP 51413 203.0.113.9 192.168.1.10 51414 1800000000 "
				  "-5 PCP fd00::1 0123456789abcdef00ff1020 0 d%25\n";
	char line[LEASE_LINE_MAX];
	struct lease_record a;
	size_t n;

	rec(&a, "d%");
	a.m.created = -5;
	a.m.enabled = false;
	CHECK_EQ(lease_format(line, sizeof(line), &a), (int)strlen(add));
	CHECK(strcmp(line, add) == 0);
	for (n = 0; n <= strlen(add); n++)
		CHECK_EQ(lease_format(line, n, &a), -1);
	a.op = '-';
	a.m.proto = 200;
	CHECK_EQ(lease_format(line, sizeof(line), &a), 24);
	CHECK(strcmp(line, "- 200 51413 203.0.113.9\n") == 0);
	CHECK_EQ(lease_format(line, 24, &a), -1);
	a.m.rhost = NULL;		/* any remote host */
	CHECK_EQ(lease_format(line, sizeof(line), &a), 15);
	CHECK(strcmp(line, "- 200 51413 ::\n") == 0);
	a.m.rhost = &a.rhost;
	a.op = 'P';
	a.m.proto = UDP;
	a.m.uid = 7;
	a.m.rport = 65535;
	a.m.created = 0;
	CHECK(lease_format(line, sizeof(line), &a) > 0);
	CHECK(strncmp(line, "P 7 UDP 203.0.113.9 65535 192.168.1.10 51414 1800000000 0 PCP ", 62) == 0);
	a.op = 'p';
	CHECK_EQ(lease_format(line, sizeof(line), &a), 4);
	CHECK(strcmp(line, "p 7\n") == 0);
}

TEST(lease_control_characters_never_reach_the_file)
{
	char line[LEASE_LINE_MAX];
	struct lease_record a, b;
	int len;

	rec(&a, "");
	/* a description that bypassed the store's sanitizer */
	a.m.desc = "a\r\nb\tc\x7f" "d\x01";
	len = lease_format(line, sizeof(line), &a);
	CHECK(len > 0);
	CHECK(strstr(line, "a%0d%0ab%09c%7fd%01\n") != NULL);
	CHECK_EQ(lease_parse(line, (size_t)len - 1, &b), 0);
	CHECK_STR(b.m.desc, "a??b?c?d?");	/* read back printable */
	/* a raw control byte (never written so) marks a damaged record:
	 * "ab" as the description, then its plain 'b' overwritten */
	a.m.desc = "ab";
	len = lease_format(line, sizeof(line), &a);
	CHECK(len > 2 && line[len - 2] == 'b');
	CHECK_EQ(lease_parse(line, (size_t)len - 1, &b), 0);
	line[len - 2] = '\001';
	CHECK_EQ(lease_parse(line, (size_t)len - 1, &b), -1);
	line[len - 2] = '\0';
	CHECK_EQ(lease_parse(line, (size_t)len - 1, &b), -1);
}

TEST(lease_parse_rejects_malformed)
{
	static const char *const bad[] = {
		"",
		"+",
		"* TCP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1 x",
		"+ TCP 0 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1 x",
		"+ TCP 80 :: 192.168.1.10 65536 0 0 UPNP 192.168.1.10 000000000000000000000000 1 x",
		"+ XTP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1 x",
		"+ TCP 80 nohost 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1 x",
		"+ TCP 80 :: 192.168.1.10 80 -5 0 UPNP 192.168.1.10 000000000000000000000000 1 x",
		"+ TCP 80 :: 192.168.1.10 80 0 0 SOAP 192.168.1.10 000000000000000000000000 1 x",
		"+ TCP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 00000000000000000000000 1 x",
		"+ TCP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 00000000000000000000000g 1 x",
		"+ TCP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 2 x",
		"+ TCP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1",
		"+ TCP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1 bad%4",
		"+ TCP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1 bad%zz",
		"+ TCP  80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1 x",
		"- TCP 80",
		"- TCP 80 :: extra",
	};
	struct lease_record r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (lease_parse(bad[i], strlen(bad[i]), &r) != -1)
			printf("    accepted: %s\n", bad[i]);
		CHECK_EQ(lease_parse(bad[i], strlen(bad[i]), &r), -1);
	}
	/* the good version of the lines above */
	CHECK_EQ(lease_parse(bad[2] + 0, 0, &r), -1);
	{
		const char *ok = "+ TCP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1 x";
		CHECK_EQ(lease_parse(ok, strlen(ok), &r), 0);
		CHECK_STR(r.m.desc, "x");
	}
}

TEST(lease_parse_long_description_is_cut)
{
	char *line = malloc(5000);
	struct lease_record r;
	size_t n;

	str_copy(line, 5000, "+ TCP 80 :: 192.168.1.10 80 0 0 UPNP 192.168.1.10 000000000000000000000000 1 ");
	n = strlen(line);
	memset(line + n, 'A', 4096);
	n += 4096;
	CHECK_EQ(lease_parse(line, n, &r), 0);
	CHECK_EQ(strlen(r.m.desc), MAPPING_DESC_MAX - 1);
	free(line);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(lease_store_round_trip_hostile_descriptions)
{
	static const char *const descs[] = {
		"CR\rLF\nend", "percent %25 %", "non-utf8 \xff\xfe\xc3", "", "tail space ",
	};
	struct fake_env *e = fake_env_new(true);
	struct mapping r, *m;
	char want[ARRAY_SIZE(descs)][MAPPING_DESC_MAX];
	uint32_t left;
	size_t i;

	fake_env_start(e);
	for (i = 0; i < ARRAY_SIZE(descs); i++) {
		r = fake_req(i % 2 ? UDP : TCP, (uint16_t)(1000 + i), "192.168.1.10",
			     (uint16_t)(2000 + i), descs[i], OWNER_UPNP);
		r.enabled = i != 3;
		CHECK_EQ(store_add(e->s, &r, i == 4 ? 0 : 3600, 0, &m), ST_OK);
		str_copy(want[i], sizeof(want[i]), m->desc);
	}
	/* a 4 KiB description cannot get in: the request holds 255 bytes */
	fake_env_restart(e);
	fake_fw_reset(&e->fw);
	CHECK_EQ(store_count(e->s), 0);
	CHECK_EQ(store_restore(e->s), (int)ARRAY_SIZE(descs));
	for (i = 0; i < ARRAY_SIZE(descs); i++) {
		m = store_find(e->s, i % 2 ? UDP : TCP, (uint16_t)(1000 + i), NULL);
		CHECK(m != NULL);
		if (m == NULL)
			continue;
		CHECK_STR(m->desc, want[i]);
		CHECK_EQ(m->iport, 2000 + i);
		CHECK_EQ(m->enabled, i != 3);
		CHECK_EQ(m->owner->proto, OWNER_UPNP);
		left = store_lease_left(e->s, m);
		if (i == 4)
			CHECK_EQ(left, 0);
		else
			CHECK(left > 3590 && left <= 3601);
	}
	CHECK_STR(want[0], "CR?LF?end");
	/* one install, with the enabled survivors only */
	CHECK_EQ(e->fw.n_install, 1);
	CHECK_EQ(e->fw.last_install_n, ARRAY_SIZE(descs) - 1);
	CHECK_EQ(e->fw.n_add, 0);
	fake_env_free(e);
}

/* A description is tagged exactly when it is the text made for that
 * mapping's internal port and protocol. */
TEST(mapping_desc_tag_only_the_text_made)
{
	static const char *const texts[] = {
		"NAT-PMP 80 tcp", "NAT-PMP 80 udp", "NAT-PMP 080 tcp", "NAT-PMP 8 tcp",
		"NAT-PMP 80 tcp ", "NAT-PMP 80 TCP", "PCP 80 TCP", "PCP 80 UDP", "PCP 80 tcp",
		"PCP 80 ?", "PCP 0 TCP", "PCP 00 TCP", "PCP 65535 UDP", "PCP 655350 UDP",
		"NAT-PMP 65535 udp", "NAT-PMP  80 tcp", "NAT-PMP", "PCP ", "", "web",
	};
	static const uint8_t protos[] = { TCP, UDP, 132 };
	static const uint16_t ports[] = { 80, 8, 0, 65535 };
	char made[2][MAPPING_DESC_GEN_MAX];
	struct mapping m = { 0 };
	size_t i, j, k;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		for (j = 0; j < ARRAY_SIZE(ports); j++) {
			m.proto = protos[i];
			m.iport = ports[j];
			CHECK_EQ(mapping_desc_make(made[0], MAPPING_DESC_NATPMP, m.proto, m.iport), 0);
			CHECK_EQ(mapping_desc_make(made[1], MAPPING_DESC_PCP, m.proto, m.iport), 0);
			for (k = 0; k < ARRAY_SIZE(texts); k++) {
				const char *tag = mapping_desc_tag(&m, texts[k]);
				bool is = strcmp(texts[k], made[0]) == 0 || strcmp(texts[k], made[1]) == 0;
				char d[MAPPING_DESC_GEN_MAX];

				CHECK_EQ(tag != NULL, is);
				m.desc = tag;
				if (tag != NULL)
					CHECK_STR(mapping_desc(&m, d), texts[k]);
			}
		}
	}
}

/* The descriptions NAT-PMP and PCP make are not stored but made again
 * when read: the lease line holds their text as before, and a lease read
 * back is stored the same way; the same text on another port is kept. */
TEST(lease_store_round_trip_made_descriptions)
{
	static const struct {
		uint8_t proto;
		uint16_t iport;
		const char *desc;
		int tag;	/* -1: a copy */
	} c[] = {
		{ TCP, 3000, "NAT-PMP 3000 tcp", MAPPING_DESC_NATPMP },
		{ UDP, 3001, "PCP 3001 UDP", MAPPING_DESC_PCP },
		{ TCP, 3002, "NAT-PMP 3001 tcp", -1 },	/* not its port */
		{ UDP, 3003, "PCP 3003 udp", -1 },	/* not PCP's case */
	};
	struct fake_env *e = fake_env_new(true);
	struct mapping r, *m;
	char d[MAPPING_DESC_GEN_MAX], line[512];
	struct lease_record lr = { .op = '+' };
	size_t i;
	int pass;

	fake_env_start(e);
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		r = fake_req(c[i].proto, c[i].iport, "192.168.1.10", c[i].iport, c[i].desc,
			     OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 3600, 0, &m), ST_OK);
	}
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < ARRAY_SIZE(c); i++) {
			m = store_find(e->s, c[i].proto, c[i].iport, NULL);
			CHECK(m != NULL);
			if (m == NULL)
				continue;
			CHECK_STR(mapping_desc(m, d), c[i].desc);
			if (c[i].tag >= 0)
				CHECK(m->desc == mapping_desc_tags[c[i].tag]);
			else
				CHECK_STR(m->desc, c[i].desc);
			lr.m = *m;
			CHECK(lease_format(line, sizeof(line), &lr) > 0);
			CHECK(strstr(line, c[i].desc) != NULL);	/* the line as before */
		}
		fake_env_restart(e);
		fake_fw_reset(&e->fw);
		CHECK_EQ(store_restore(e->s), (int)ARRAY_SIZE(c));
	}
	/* a refresh that moves the internal port keeps the text, not the tag */
	r = fake_req(TCP, 3000, "192.168.1.10", 3010, "NAT-PMP 3000 tcp", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 3600, 0, &m), ST_OK);
	CHECK_STR(mapping_desc(m, d), "NAT-PMP 3000 tcp");
	r.desc = "NAT-PMP 3010 tcp";
	CHECK_EQ(store_add(e->s, &r, 3600, 0, &m), ST_OK);
	CHECK(m->desc == mapping_desc_tags[MAPPING_DESC_NATPMP]);
	r.iport = 3000;
	CHECK_EQ(store_add(e->s, &r, 3600, 0, &m), ST_OK);
	CHECK_STR(mapping_desc(m, d), "NAT-PMP 3010 tcp");
	fake_env_free(e);
}

TEST(lease_journal_replay_with_deletes)
{
	struct fake_env *e = fake_env_new(true);
	struct mapping a = fake_req(TCP, 100, "192.168.1.10", 100, "a", OWNER_UPNP);
	struct mapping b = fake_req(TCP, 200, "192.168.1.10", 200, "b", OWNER_UPNP);
	struct mapping c = fake_req(UDP, 300, "192.168.1.11", 300, "c", OWNER_NATPMP);
	char buf[4096];

	fake_env_start(e);
	CHECK_EQ(store_add(e->s, &a, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &b, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &c, 600, 0, NULL), ST_OK);
	CHECK_EQ(store_del(e->s, TCP, 200, NULL, NULL), ST_OK);
	a.iport = 101;
	a.desc = "a2";
	CHECK_EQ(store_add(e->s, &a, 0, 0, NULL), ST_OK);
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) > 0);
	CHECK_EQ(count_lines(buf), 5);		/* 4 adds/refreshes + 1 delete */
	CHECK(strstr(buf, "- TCP 200 ::\n") != NULL);
	/* kill -9: the kernel still holds a stale element igdd forgot */
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK(store_find(e->s, TCP, 200, NULL) == NULL);
	CHECK_EQ(store_find(e->s, TCP, 100, NULL)->iport, 101);
	CHECK_STR(store_find(e->s, TCP, 100, NULL)->desc, "a2");
	CHECK(store_find(e->s, UDP, 300, NULL) != NULL);
	CHECK_EQ(e->fw.n_install, 1);
	CHECK_EQ(e->fw.n_kernel, 2);		/* exactly the survivors */
	CHECK(fake_fw_has(&e->fw, TCP, 100, 101));
	CHECK(fake_fw_has(&e->fw, UDP, 300, 300));
	/* compacted on restore: header + 2 */
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) > 0);
	CHECK_EQ(count_lines(buf), 3);
	CHECK(buf[0] == '#');
	fake_env_free(e);
}

TEST(lease_torn_and_bad_lines)
{
	struct fake_env *e = fake_env_new(true);
	char text[2048];
	int64_t now = time_wall();

	str_printf(text, sizeof(text),
		   "# comment\n"
		   "\n"
		   "+ TCP 100 :: 192.168.1.10 100 0 1 UPNP 192.168.1.10 000000000000000000000000 1 good one\n"
		   "this is not a record\n"
		   "+ TCP 101 :: 192.168.1.10 101 0 1 UPNP 192.168.1.10 000000000000000000000000 7 bad enabled\n"
		   "+ UDP 102 :: 192.168.1.10 102 %lld 1 NATPMP 192.168.1.10 000000000000000000000000 1 leased\n"
		   "+ UDP 103 :: 192.168.1.10 103 %lld 1 NATPMP 192.168.1.10 000000000000000000000000 1 expired\n"
		   "+ TCP 104 :: 192.168.1.10 104 0 1 UPNP 192.168.1.10 000000000000000000000000 1 torn",
		   (long long)(now + 500), (long long)(now - 10));
	write_file(e->ctx.cfg.lease_file, text);
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK(store_find(e->s, TCP, 100, NULL) != NULL);
	CHECK(store_find(e->s, TCP, 101, NULL) == NULL);
	CHECK(store_find(e->s, UDP, 102, NULL) != NULL);
	CHECK(store_find(e->s, UDP, 103, NULL) == NULL);	/* expired: dropped */
	CHECK(store_find(e->s, TCP, 104, NULL) == NULL);	/* torn: ignored */
	CHECK(store_lease_left(e->s, store_find(e->s, UDP, 102, NULL)) > 490);
	CHECK_EQ(e->fw.n_install, 1);
	CHECK_EQ(e->fw.last_install_n, 2);
	/* appending after a torn line starts on a line of its own */
	{
		struct mapping r = fake_req(TCP, 105, "192.168.1.10", 105, "after", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 3);
	fake_env_free(e);
}

TEST(lease_torn_tail_cut_on_open)
{
	struct fake_env *e = fake_env_new(true);
	char buf[1024];

	write_file(e->ctx.cfg.lease_file,
		   "+ TCP 100 :: 192.168.1.10 100 0 1 UPNP 192.168.1.10 000000000000000000000000 1 ok\n"
		   "+ TCP 104 :: 192.168.1.10 10");
	fake_env_start(e);	/* no restore: the journal is appended to as it is */
	{
		struct mapping r = fake_req(TCP, 105, "192.168.1.10", 105, "new", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) > 0);
	CHECK_EQ(count_lines(buf), 2);
	CHECK(strstr(buf, "TCP 104") == NULL);
	fake_env_free(e);
}

TEST(lease_compaction)
{
	struct fake_env *e = fake_env_new(true);
	struct mapping r;
	char *buf = malloc(65536), desc[32];
	unsigned i;

	fake_env_start(e);
	for (i = 0; i < 3; i++) {
		r = fake_req(TCP, (uint16_t)(100 + i), "192.168.1.10", 100, "c", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	/* 200 refreshes of one mapping: the journal may never exceed
	 * 2 x 3 + 64 records */
	for (i = 0; i < 200; i++) {
		r = fake_req(TCP, 100, "192.168.1.10", 100, "c", OWNER_UPNP);
		str_printf(desc, sizeof(desc), "refresh %u", i);
		r.desc = desc;
		CHECK_EQ(store_add(e->s, &r, 3600, 0, NULL), ST_OK);
		if (i % 50 == 0) {
			CHECK(fake_env_read_lease(e, buf, 65536) > 0);
			CHECK(count_lines(buf) <= 2 * 3 + 64 + 1);
		}
	}
	CHECK(fake_env_read_lease(e, buf, 65536) > 0);
	CHECK(count_lines(buf) <= 2 * 3 + 64 + 1);
	CHECK(buf[0] == '#' || count_lines(buf) > 3);
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 3);
	CHECK_STR(store_find(e->s, TCP, 100, NULL)->desc, "refresh 199");
	free(buf);
	fake_env_free(e);
}

TEST(lease_restore_install_failure)
{
	struct fake_env *e = fake_env_new(true);
	static const char rec[] =
		"+ TCP 100 :: 192.168.1.10 100 0 1 UPNP 192.168.1.10 000000000000000000000000 1 ok\n"
		"+ TCP 101 :: 192.168.1.10 101 0 1 UPNP 192.168.1.10 000000000000000000000000 1 ok\n";

	/* the kernel refuses the one transaction: one by one, all taken */
	write_file(e->ctx.cfg.lease_file, rec);
	fake_env_start(e);
	e->fw.fail_install = 1;
	CHECK_EQ(store_restore(e->s), 2);
	CHECK_EQ(e->fw.n_kernel, 2);

	/* ... and refuses one of them: that one is dropped, from the lease
	 * file too, so that store, file and kernel agree */
	fake_env_restart(e);
	e->fw.fail_install = 1;
	e->fw.fail_add = 1;
	CHECK_EQ(store_restore(e->s), 1);
	CHECK_EQ(e->fw.n_kernel, 1);
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 1);

	/* not even an empty install: nothing restored, the file keeps it */
	fake_env_restart(e);
	e->fw.fail_install = 2;
	CHECK_EQ(store_restore(e->s), -1);
	CHECK_EQ(store_count(e->s), 0);
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 1);
	/* the one transaction fails once: one by one then */
	fake_env_restart(e);
	e->fw.fail_install = 1;
	CHECK_EQ(store_restore(e->s), 1);
	CHECK(fake_fw_has(&e->fw, TCP, 101, 101));
	fake_env_free(e);
}

TEST(lease_no_file_configured)
{
	struct fake_env *e = fake_env_new(false);

	fake_env_start(e);
	/* still reconciles the kernel: stale elements go */
	e->fw.n_kernel = 1;
	e->fw.kernel[0] = (struct fake_elem){ TCP, 9, 9, fake_addr("192.168.1.10"), { { { 0 } } } };
	CHECK_EQ(store_restore(e->s), 0);
	CHECK_EQ(e->fw.n_install, 1);
	CHECK_EQ(e->fw.n_kernel, 0);
	fake_env_free(e);
}

TEST(lease_wall_from_mono)
{
	CHECK_EQ(lease_wall_from_mono(0, 5000, 1000), 0);
	CHECK_EQ(lease_wall_from_mono(15000, 5000, 1000), 1010);
	CHECK_EQ(lease_wall_from_mono(15001, 5000, 1000), 1011);	/* rounds up */
	CHECK_EQ(lease_wall_from_mono(4000, 5000, 1000), 1001);	/* never in the past */
}

static void
count_cb(void *arg, const struct lease_record *r)
{
	(void)r;
	(*(int *)arg)++;
}

TEST(lease_replay_ignores_torn_last_line)
{
	char dir[] = "/tmp/igdd-unit-XXXXXX", path[64];
	int n = 0;

	CHECK(mkdtemp(dir) != NULL);
	str_printf(path, sizeof(path), "%s/l", dir);
	write_file(path,
		   "+ TCP 100 :: 192.168.1.10 100 0 1 UPNP 192.168.1.10 000000000000000000000000 1 ok\n"
		   "- TCP 100 ::\n"
		   "+ TCP 104 :: 192.168.1.10 104 0 1 UPNP 192.168.1.10 000000000000000000000000 1 tor");
	CHECK_EQ(lease_replay(path, count_cb, &n), 2);
	CHECK_EQ(n, 2);
	unlink(path);
	rmdir(dir);
	str_printf(path, sizeof(path), "%s/none", dir);
	CHECK_EQ(lease_replay(path, count_cb, &n), 0);	/* no file: nothing, no error */
}

struct block_sum {
	unsigned n;
	unsigned long ports;
	bool addr_ok;
};

static void
block_cb(void *arg, const struct lease_record *r)
{
	struct block_sum *b = arg;
	struct in6_addr want;
	char a[32];

	b->n++;
	b->ports += r->m.eport;
	str_printf(a, sizeof(a), "10.%u.%u.1", r->m.eport >> 8, r->m.eport & 255);
	addr_parse(a, &want);
	b->addr_ok = b->addr_ok && addr_eq(r->m.iaddr, &want) && addr_is_any(r->m.rhost);
}

/* The journal is read in blocks: records across their borders, a line
 * longer than a block (skipped as damaged), CRLF, the last line's gen. */
TEST(lease_replay_reads_across_blocks)
{
	char dir[] = "/tmp/igdd-unit-XXXXXX", path[64], line[256];
	struct block_sum b = { 0, 0, true };
	struct lease *l;
	FILE *f;
	unsigned i;

	CHECK(mkdtemp(dir) != NULL);
	str_printf(path, sizeof(path), "%s/l", dir);
	f = fopen(path, "w");
	CHECK(f != NULL);
	for (i = 1; i <= 6000; i++) {
		str_printf(line, sizeof(line), "+ TCP %u :: 10.%u.%u.1 %u 0 1 UPNP 10.%u.%u.1 "
			   "000000000000000000000000 1 record %u%s\n", i, i >> 8, i & 255, i,
			   i >> 8, i & 255, i, i % 7 == 0 ? "\r" : "");
		fputs(line, f);
		if (i == 3000)
			for (unsigned k = 0; k < 300000; k++)
				fputc(k + 1 == 300000 ? '\n' : 'x', f);
	}
	fputs("# gen tok-1\n", f);
	fclose(f);
	chmod(path, 0600);
	l = lease_open(path);
	CHECK(l != NULL);
	CHECK_EQ(lease_adds(l), 6000);
	CHECK_EQ(lease_restore(l, block_cb, &b), 6000);
	CHECK_EQ(b.n, 6000);
	CHECK_EQ(b.ports, 6000ul * 6001 / 2);
	CHECK(b.addr_ok);
	CHECK_STR(lease_restored_gen(l), "tok-1");
	CHECK_EQ(lease_replay(path, block_cb, &b), 6000);
	lease_close(l);
	unlink(path);
	rmdir(dir);
}

/* A journal that holds exactly what comes back is not written again at
 * start-up; one with a superseded record is. */
TEST(lease_restore_rewrites_only_when_needed)
{
	static const char clean[] =
		"+ TCP 100 :: 192.168.1.10 100 0 1 UPNP 192.168.1.10 000000000000000000000000 1 a\n"
		"+ TCP 101 :: 192.168.1.10 101 0 1 UPNP 192.168.1.10 000000000000000000000000 1 b\n";
	struct fake_env *e = fake_env_new(true);
	char text[4096];

	write_file(e->ctx.cfg.lease_file, clean);
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK(fake_env_read_lease(e, text, sizeof(text)) > 0);
	CHECK(strncmp(text, clean, sizeof(clean) - 1) == 0);	/* not rewritten */
	fake_env_free(e);

	/* nor one as igdd writes it: its header, and the "# gen" line that a
	 * stop for restart or a sync appends, are comments */
	e = fake_env_new(true);
	str_printf(text, sizeof(text), "# igdd lease journal v1 (see igdd.8)\n%s# gen tok-1\n", clean);
	write_file(e->ctx.cfg.lease_file, text);
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK(fake_env_read_lease(e, text, sizeof(text)) > 0);
	CHECK(strncmp(text, "# igdd lease journal v1 (see igdd.8)\n", 37) == 0);
	CHECK(strstr(text, "# gen tok-1\n") != NULL);	/* not rewritten */
	fake_env_free(e);

	e = fake_env_new(true);
	str_printf(text, sizeof(text), "%s%s", clean,
		   "+ TCP 101 :: 192.168.1.10 102 0 1 UPNP 192.168.1.10 000000000000000000000000 1 c\n");
	write_file(e->ctx.cfg.lease_file, text);
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK(fake_env_read_lease(e, text, sizeof(text)) > 0);
	CHECK(text[0] == '#');			/* rewritten: header + 2 */
	CHECK(strstr(text, " 101 :: 192.168.1.10 101 ") == NULL);
	fake_env_free(e);

	e = fake_env_new(true);				/* a damaged line goes too */
	str_printf(text, sizeof(text), "%s%s", clean, "+ TCP 70000 damaged\n");
	write_file(e->ctx.cfg.lease_file, text);
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 2);
	CHECK(fake_env_read_lease(e, text, sizeof(text)) > 0);
	CHECK(text[0] == '#' && strstr(text, "damaged") == NULL);
	fake_env_free(e);

	e = fake_env_new(true);		/* so does a line in miniupnpd's form */
	str_printf(text, sizeof(text), "%s%s", clean, "TCP:103:192.168.1.10:103:3600:mini\n");
	write_file(e->ctx.cfg.lease_file, text);
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 3);
	CHECK(fake_env_read_lease(e, text, sizeof(text)) > 0);
	CHECK(text[0] == '#' && strstr(text, "TCP:103:") == NULL);
	CHECK(strstr(text, " 103 :: 192.168.1.10 103 ") != NULL);
	fake_env_free(e);
}

/* Writes fail as on a full disk: RLIMIT_FSIZE 0 refuses to grow any
 * file (EFBIG), for root too; SIGXFSZ is ignored so the write returns. */
static void
disk_full(bool full, struct rlimit *saved)
{
	struct rlimit r;

	if (full) {
		signal(SIGXFSZ, SIG_IGN);
		getrlimit(RLIMIT_FSIZE, saved);
		r = *saved;
		r.rlim_cur = 0;
		setrlimit(RLIMIT_FSIZE, &r);
	} else {
		setrlimit(RLIMIT_FSIZE, saved);
		signal(SIGXFSZ, SIG_DFL);
	}
}

/* Count the log lines holding a string written to stderr meanwhile.  A
 * pipe, not a file: RLIMIT_FSIZE would stop a file from growing too. */
static int stderr_save = -1, stderr_pipe = -1;

static void
capture_stderr(void)
{
	int p[2];

	fflush(stderr);
	if (pipe2(p, O_NONBLOCK) < 0)
		return;
	stderr_save = dup(2);
	dup2(p[1], 2);
	close(p[1]);
	stderr_pipe = p[0];
}

static int
captured_count(const char *needle)
{
	static char text[65536];
	const char *at = text;
	ssize_t len;
	int n = 0;

	fflush(stderr);
	dup2(stderr_save, 2);
	close(stderr_save);
	len = read(stderr_pipe, text, sizeof(text) - 1);
	close(stderr_pipe);
	text[len > 0 ? len : 0] = '\0';
	fputs(text, stderr);
	while ((at = strstr(at, needle)) != NULL) {
		n++;
		at++;
	}
	return n;
}

static int
replay_count(const char *path)
{
	int n = 0;

	lease_replay(path, count_cb, &n);
	return n;
}

/* A journal of its own: dir is a mkdtemp() template, path[64] receives
 * dir/leases.  Aborts if it cannot be made. */
static struct lease *
temp_journal(char *dir, char *path)
{
	struct lease *l;

	if (mkdtemp(dir) == NULL || str_printf(path, 64, "%s/leases", dir) < 0 ||
	    (l = lease_open(path)) == NULL)
		abort();
	return l;
}

static void
temp_journal_done(struct lease *l, const char *dir, const char *path)
{
	lease_close(l);
	unlink(path);
	rmdir(dir);
}

/* The file at path into buf[size], NUL-terminated; its length. */
static size_t
read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t len = f != NULL ? fread(buf, 1, size - 1, f) : 0;

	if (f != NULL)
		fclose(f);
	buf[len] = '\0';
	return len;
}

TEST(lease_append_failure_keeps_file_whole)
{
	char dir[] = "/tmp/igdd-unit-XXXXXX", path[64], buf[4096];
	struct lease_record r;
	struct rlimit saved;
	struct lease *l = temp_journal(dir, path);
	const struct mapping *ms[1] = { &r.m };
	size_t len;

	rec(&r, "whole");
	CHECK_EQ(lease_append(l, &r), 0);
	CHECK(!lease_broken(l) && !lease_failing(l));
	disk_full(true, &saved);
	CHECK_EQ(lease_append(l, &r), -1);
	CHECK(lease_broken(l) && lease_failing(l));
	CHECK(lease_should_compact(l, 1000));
	CHECK_EQ(lease_compact(l, ms, 1, 0, 0), -1);
	CHECK(lease_broken(l));
	disk_full(false, &saved);
	/* nothing half-written: one whole record, and no temp file left */
	len = read_text(path, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 1);
	CHECK(len > 0 && buf[len - 1] == '\n');
	str_printf(buf, sizeof(buf), "%s.tmp", path);
	CHECK(access(buf, F_OK) < 0);
	/* room again: a compaction repairs it */
	CHECK_EQ(lease_compact(l, ms, 1, 0, 0), 0);
	CHECK(!lease_broken(l) && !lease_failing(l));
	CHECK_EQ(lease_append(l, &r), 0);
	CHECK_EQ(replay_count(path), 2);
	temp_journal_done(l, dir, path);
}

/* A group of records: one write at its end, all or none (a full disk
 * takes the whole group back). */
TEST(lease_group_one_write_all_or_none)
{
	char dir[] = "/tmp/igdd-unit-XXXXXX", path[64], buf[4096];
	struct lease_record r;
	struct rlimit saved;
	struct lease *l = temp_journal(dir, path);

	rec(&r, "grouped");
	lease_group_begin(l);
	CHECK_EQ(lease_append(l, &r), 0);
	CHECK_EQ(lease_append(l, &r), 0);
	CHECK_EQ(read_text(path, buf, sizeof(buf)), 0);	/* not yet */
	CHECK_EQ(lease_group_end(l), 0);
	read_text(path, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 2);
	CHECK_EQ(lease_records(l), 2);
	lease_group_begin(l);
	CHECK_EQ(lease_append(l, &r), 0);
	CHECK_EQ(lease_append(l, &r), 0);
	disk_full(true, &saved);
	CHECK_EQ(lease_group_end(l), -1);
	disk_full(false, &saved);
	CHECK(lease_broken(l));
	read_text(path, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 2);
	temp_journal_done(l, dir, path);
}

TEST(lease_full_disk_store_logs_once_and_recovers)
{
	struct fake_env *e = fake_env_new(true);
	struct mapping r;
	struct rlimit saved;
	char *buf = malloc(65536);
	unsigned i;
	int warnings;

	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 0);
	for (i = 0; i < 3; i++) {
		r = fake_req(TCP, (uint16_t)(100 + i), "192.168.1.10", 100 + i, "before", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	capture_stderr();
	disk_full(true, &saved);
	/* the disk is full: mappings are still made and removed... */
	for (i = 0; i < 20; i++) {
		r = fake_req(TCP, (uint16_t)(200 + i), "192.168.1.10", 200 + i, "during", OWNER_UPNP);
		CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	}
	CHECK_EQ(store_del(e->s, TCP, 100, NULL, NULL), ST_OK);
	disk_full(false, &saved);
	warnings = captured_count("lease file");
	/* ...and the trouble is logged once, not once per change */
	CHECK_EQ(warnings, 1);
	CHECK(store_get_stats(e->s)->lease_errors >= 21);
	/* the file still holds the 3 mappings of before, whole */
	CHECK(fake_env_read_lease(e, buf, 65536) > 0);
	CHECK(strstr(buf, "during") == NULL);
	/* room again: the next change rewrites the whole file */
	r = fake_req(TCP, 300, "192.168.1.10", 300, "after", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	CHECK_EQ(store_count(e->s), 23);
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 23);
	CHECK(store_find(e->s, TCP, 100, NULL) == NULL);
	CHECK(store_find(e->s, TCP, 219, NULL) != NULL);
	CHECK(store_find(e->s, TCP, 300, NULL) != NULL);
	free(buf);
	fake_env_free(e);
}

/* Appends are written at once and synced together by lease_sync(); a
 * failed sync takes back every record since the last good one. */
TEST(lease_sync_covers_the_records_since_the_last)
{
	char dir[] = "/tmp/igdd-unit-XXXXXX", path[64], buf[4096];
	struct lease_record r;
	const struct mapping *ms[1] = { &r.m };
	struct lease *l = temp_journal(dir, path);
	unsigned before, i;
	size_t len;

	rec(&r, "group");
	before = fake_sync.calls;
	CHECK_EQ(lease_sync(l), 0);		/* nothing to sync: no call */
	for (i = 0; i < 3; i++)
		CHECK_EQ(lease_append(l, &r), 0);
	CHECK_EQ(fake_sync.calls, before);	/* written, not synced */
	CHECK_EQ(replay_count(path), 3);
	CHECK_EQ(lease_sync(l), 0);
	CHECK_EQ(fake_sync.calls - before, 1);
	CHECK_EQ(lease_sync(l), 0);
	CHECK_EQ(fake_sync.calls - before, 1);
	/* two more, and their sync fails: they are cut off, the three stay */
	CHECK_EQ(lease_append(l, &r), 0);
	CHECK_EQ(lease_append(l, &r), 0);
	fake_sync.fail = 1;
	CHECK_EQ(lease_sync(l), -1);
	CHECK_EQ(fake_sync.calls - before, 2);
	CHECK(lease_broken(l) && lease_failing(l));
	CHECK_EQ(lease_records(l), 3);
	len = read_text(path, buf, sizeof(buf));
	CHECK_EQ(count_lines(buf), 3);
	CHECK_EQ(fake_sync.size, (long long)len + 2 * (long long)(len / 3));
	/* a rewrite repairs it, and appends go on from there */
	CHECK_EQ(lease_compact(l, ms, 1, 0, 0), 0);
	CHECK(!lease_broken(l) && !lease_failing(l));
	CHECK_EQ(lease_append(l, &r), 0);
	CHECK_EQ(lease_sync(l), 0);
	CHECK_EQ(replay_count(path), 2);
	temp_journal_done(l, dir, path);
}

/* Leases that end together are synced together. */
TEST(lease_expiries_share_one_sync)
{
	struct fake_env *e = fake_env_new(true);
	struct mapping r;
	unsigned before, i;

	fake_env_start(e);
	for (i = 0; i < 5; i++) {
		r = fake_req(UDP, (uint16_t)(600 + i), "192.168.1.10", 600 + i, "x", OWNER_NATPMP);
		CHECK_EQ(store_add(e->s, &r, 60, 0, NULL), ST_OK);
	}
	before = fake_sync.calls;
	store_expire_now(e->s, time_mono_ms() + 61000);
	CHECK_EQ(store_count(e->s), 0);
	CHECK_EQ(fake_sync.calls - before, 1);
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 0);
	fake_env_free(e);
}

/* --- the file opened safely (issue 14, finding 5) --------------------- */

/* A victim file outside the lease directory, with known contents. */
static void
victim(const char *path)
{
	write_file(path, "victim: must stay as it is\n");
}

static bool
victim_intact(const char *path)
{
	char buf[256];

	read_text(path, buf, sizeof(buf));
	return strcmp(buf, "victim: must stay as it is\n") == 0;
}

TEST(lease_open_refuses_a_symlink_and_leaves_its_target)
{
	char dir[] = "/tmp/igdd-unit-XXXXXX", path[64], target[64], why[256];

	CHECK(mkdtemp(dir) != NULL);
	str_printf(path, sizeof(path), "%s/leases", dir);
	str_printf(target, sizeof(target), "%s.victim", dir);
	victim(target);
	CHECK_EQ(symlink(target, path), 0);
	CHECK(lease_open(path) == NULL);
	CHECK(victim_intact(target));
	CHECK_EQ(lease_check_path(path, geteuid(), why, sizeof(why)), -1);
	CHECK(strstr(why, "symbolic link") != NULL);
	/* a dangling one is not followed to create its target either */
	unlink(target);
	CHECK(lease_open(path) == NULL);
	CHECK(access(target, F_OK) < 0);
	unlink(path);
	rmdir(dir);
}

TEST(lease_compaction_never_writes_through_a_planted_temporary)
{
	char dir[] = "/tmp/igdd-unit-XXXXXX", path[64], tmp[80], target[64];
	struct lease_record r;
	const struct mapping *ms[1] = { &r.m };
	struct lease *l = temp_journal(dir, path);
	struct stat st;

	str_printf(tmp, sizeof(tmp), "%s.tmp", path);
	str_printf(target, sizeof(target), "%s.victim", dir);
	victim(target);
	CHECK_EQ(symlink(target, tmp), 0);
	rec(&r, "compacted");
	CHECK_EQ(lease_compact(l, ms, 1, 0, 0), 0);
	CHECK(victim_intact(target));
	/* the journal is a regular file of its own, mode 0600 */
	CHECK_EQ(lstat(path, &st), 0);
	CHECK(S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600);
	CHECK_EQ(replay_count(path), 1);
	CHECK(access(tmp, F_OK) < 0);
	/* a directory planted there makes the rewrite fail, nothing else */
	CHECK_EQ(mkdir(tmp, 0700), 0);
	CHECK_EQ(lease_compact(l, ms, 1, 0, 0), -1);
	CHECK_EQ(replay_count(path), 1);
	rmdir(tmp);
	unlink(target);
	temp_journal_done(l, dir, path);
}

TEST(lease_open_creates_0600_whatever_the_umask)
{
	char dir[] = "/tmp/igdd-unit-XXXXXX", path[64];
	struct lease *l;
	struct stat st;
	mode_t old = umask(0);

	CHECK(mkdtemp(dir) != NULL);
	str_printf(path, sizeof(path), "%s/leases", dir);
	l = lease_open(path);
	umask(old);
	CHECK(l != NULL);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 07777, 0600);
	temp_journal_done(l, dir, path);
}

/* open and --check agree: refused for this reason */
static void
refused_for(const char *path, const char *reason)
{
	char why[256] = "";

	CHECK(lease_open(path) == NULL);
	CHECK_EQ(lease_check_path(path, geteuid(), why, sizeof(why)), -1);
	if (strstr(why, reason) == NULL) {
		fprintf(stderr, "    why: %s (expected: %s)\n", why, reason);
		CHECK(strstr(why, reason) != NULL);
	}
}

TEST(lease_open_refuses_what_others_can_write)
{
	char dir[] = "/tmp/igdd-unit-XXXXXX", path[64], link2[80], why[256];

	CHECK(mkdtemp(dir) != NULL);
	str_printf(path, sizeof(path), "%s/leases", dir);
	CHECK_EQ(lease_check_path(path, geteuid(), why, sizeof(why)), 0);	/* none yet: fine */
	/* a world-writable directory (even sticky, as /tmp) */
	CHECK_EQ(chmod(dir, 01777), 0);
	refused_for(path, "writable by its group or others");
	CHECK(access(path, F_OK) < 0);		/* and nothing was created */
	CHECK_EQ(chmod(dir, 0770), 0);
	refused_for(path, "writable by its group or others");
	CHECK_EQ(chmod(dir, 0700), 0);
	/* a group- or world-writable file */
	write_file(path, "");
	CHECK_EQ(chmod(path, 0620), 0);
	refused_for(path, "writable by its group or others");
	CHECK_EQ(chmod(path, 0602), 0);
	refused_for(path, "writable by its group or others");
	CHECK_EQ(chmod(path, 0600), 0);
	/* a second name for the same file */
	str_printf(link2, sizeof(link2), "%s/other", dir);
	CHECK_EQ(link(path, link2), 0);
	refused_for(path, "hard links");
	unlink(link2);
	/* not a regular file */
	unlink(path);
	CHECK_EQ(mkfifo(path, 0600), 0);
	refused_for(path, "not a regular file");
	unlink(path);
	/* no such directory */
	str_printf(link2, sizeof(link2), "%s/none/leases", dir);
	refused_for(link2, "No such file");
	/* someone else's file or directory (needs root to make one) */
	if (geteuid() == 0) {
		write_file(path, "");
		CHECK_EQ(chown(path, 65534, 65534), 0);
		refused_for(path, "owned by uid 65534");
		CHECK_EQ(chown(dir, 65534, 65534), 0);
		CHECK_EQ(lease_check_path(path, 65534, why, sizeof(why)), 0);
		unlink(path);
		refused_for(path, "owned by uid 65534");
		CHECK_EQ(lease_check_path(path, 65534, why, sizeof(why)), 0);
		/* root's directory is not one a daemon user can write to */
		CHECK_EQ(chown(dir, 0, 0), 0);
		CHECK_EQ(lease_check_path(path, 65534, why, sizeof(why)), -1);
	}
	rmdir(dir);
}

/* Issue 14, finding 6: one record the kernel refuses (today: a timeout
 * too far ahead made it refuse the whole restore transaction) costs that
 * record only, logged; the good ones are restored and installed. */
TEST(lease_restore_drops_only_what_the_kernel_refuses)
{
	struct fake_env *e = fake_env_new(true);
	char buf[4096];

	write_file(e->ctx.cfg.lease_file,
		   "+ TCP 100 :: 192.168.1.10 100 0 1 UPNP 192.168.1.10 000000000000000000000000 1 a\n"
		   "+ TCP 101 :: 192.168.1.10 101 0 1 UPNP 192.168.1.10 000000000000000000000000 1 bad\n"
		   "+ UDP 102 :: 192.168.1.11 102 0 1 UPNP 192.168.1.11 000000000000000000000000 1 c\n");
	fake_env_start(e);
	e->fw.refuse_eport = 101;
	capture_stderr();
	CHECK_EQ(store_restore(e->s), 2);
	CHECK_EQ(captured_count("lease TCP 101 -> 192.168.1.10:101: refused by the kernel, dropped"), 1);
	CHECK(store_find(e->s, TCP, 101, NULL) == NULL);
	CHECK(fake_fw_has(&e->fw, TCP, 100, 100));
	CHECK(fake_fw_has(&e->fw, UDP, 102, 102));
	CHECK_EQ(e->fw.n_kernel, 2);
	/* the file says what is served */
	CHECK(fake_env_read_lease(e, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, " 101 ") == NULL);
	fake_env_free(e);
}

/* Issue 14, finding 6: a lease ~600 years ahead is what is left of it
 * bounded as a live request: 2^32 - 1 s at most for UPnP, max_lifetime
 * for NAT-PMP and PCP (which have no permanent mappings either). */
TEST(lease_restore_bounds_lifetimes)
{
	struct fake_env *e = fake_env_new(true);
	char text[2048];
	int64_t far = time_wall() + 600ll * 365 * 86400;

	str_printf(text, sizeof(text),
		   "+ TCP 100 :: 192.168.1.10 100 %lld 1 UPNP 192.168.1.10 000000000000000000000000 1 far\n"
		   "+ UDP 101 :: 192.168.1.10 101 %lld 1 NATPMP 192.168.1.10 000000000000000000000000 1 far\n"
		   "+ UDP 102 :: 192.168.1.10 102 0 1 NATPMP 192.168.1.10 000000000000000000000000 1 forever\n"
		   "+ TCP 103 :: 192.168.1.10 103 0 1 UPNP 192.168.1.10 000000000000000000000000 1 forever\n",
		   (long long)far, (long long)far);
	write_file(e->ctx.cfg.lease_file, text);
	e->ctx.cfg.max_lifetime = 86400;
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 4);
	CHECK(store_lease_left(e->s, store_find(e->s, TCP, 100, NULL)) >= UINT32_MAX - 5);
	CHECK(store_lease_left(e->s, store_find(e->s, UDP, 101, NULL)) <= 86400);
	CHECK(store_lease_left(e->s, store_find(e->s, UDP, 102, NULL)) <= 86400);
	CHECK(store_lease_left(e->s, store_find(e->s, UDP, 102, NULL)) > 86000);
	CHECK_EQ(store_lease_left(e->s, store_find(e->s, TCP, 103, NULL)), 0);
	/* and the rewritten file says so */
	CHECK(fake_env_read_lease(e, text, sizeof(text)) > 0);
	CHECK(strstr(text, "NATPMP") != NULL && strstr(text, " 0 ") != NULL);
	fake_env_free(e);
}

/* --- miniupnpd's lease file (issue 15: migrate without losing a mapping) */

TEST(lease_parse_miniupnpd_both_forms)
{
	struct lease_record r;
	const int64_t now = 1800000000;
	char a[INET6_ADDRSTRLEN];

#define MP(s) lease_parse_miniupnpd(s, strlen(s), now, &r)
	/* the classic form, as upnpc's mapping leaves it */
	CHECK_EQ(MP("TCP:8000:192.168.1.10:9000:1800003600:libminiupnpc"), 0);
	CHECK_EQ(r.op, '+');
	CHECK_EQ(r.m.proto, IPPROTO_TCP);
	CHECK_EQ(r.m.eport, 8000);
	CHECK_STR(addr_str(r.m.iaddr, a, sizeof(a)), "192.168.1.10");
	CHECK_EQ(r.m.iport, 9000);
	CHECK(addr_is_any(r.m.rhost));
	CHECK_EQ(r.expiry_wall, 1800003600);
	CHECK_STR(r.m.desc, "libminiupnpc");
	CHECK_EQ(r.owner.proto, OWNER_UPNP);
	CHECK(addr_eq(&r.owner.addr, r.m.iaddr));
	CHECK(r.m.enabled);
	/* the form with the remote host */
	CHECK_EQ(MP("udp:8001:203.0.113.9:192.168.1.11:9001:0:game: with colons "), 0);
	CHECK_EQ(r.m.proto, IPPROTO_UDP);
	CHECK_STR(addr_str(r.m.rhost, a, sizeof(a)), "203.0.113.9");
	CHECK_STR(addr_str(r.m.iaddr, a, sizeof(a)), "192.168.1.11");
	CHECK_EQ(r.m.iport, 9001);
	CHECK_EQ(r.expiry_wall, 0);		/* permanent */
	CHECK_STR(r.m.desc, "game: with colons");	/* trimmed, as miniupnpd reads it */
	/* ... with no remote host, empty or '*' */
	CHECK_EQ(MP("TCP:8002::192.168.1.12:9002:1800000100:x"), 0);
	CHECK(addr_is_any(r.m.rhost));
	CHECK_EQ(r.m.iport, 9002);
	CHECK_EQ(MP("TCP:8002:*:192.168.1.12:9002:1800000100:x"), 0);
	CHECK(addr_is_any(r.m.rhost));
	/* seconds left (LEASEFILE_USE_REMAINING_TIME) */
	CHECK_EQ(MP("TCP:8003:192.168.1.10:9003:600:left"), 0);
	CHECK_EQ(r.expiry_wall, now + 600);
	/* miniupnpd's NAT-PMP mappings stay NAT-PMP ones; an empty description */
	CHECK_EQ(MP("UDP:8004:192.168.1.10:8004:1800000600:NAT-PMP 8004 udp"), 0);
	CHECK_EQ(r.owner.proto, OWNER_NATPMP);
	CHECK_EQ(MP("UDP:8005:192.168.1.10:8005:0:"), 0);
	CHECK_STR(r.m.desc, "");
	/* raw control bytes of old versions become '?' */
	CHECK_EQ(MP("UDP:8006:192.168.1.10:8006:0:a\tb\x01" "c"), 0);
	CHECK_STR(r.m.desc, "a?b?c");	/* a TAB too, as the store would */
#undef MP
}

TEST(lease_parse_miniupnpd_rejects_hostile_lines)
{
	static const char *const bad[] = {
		"", ":", "TCP", "TCP:8000", "TCP:8000:192.168.1.10", "TCP:8000:192.168.1.10:9000",
		"TCP:8000:192.168.1.10:9000:0",		/* no ':' before DESC */
		"ICMP:8000:192.168.1.10:9000:0:x", "TCP:0:192.168.1.10:9000:0:x",
		"TCP:65536:192.168.1.10:9000:0:x", "TCP:-1:192.168.1.10:9000:0:x",
		"TCP:8000:192.168.1.10:0:0:x", "TCP:8000:192.168.1.10:70000:0:x",
		"TCP:8000:192.168.1.10:9000:4294967296:x", "TCP:8000:192.168.1.10:9000:-5:x",
		"TCP:8000:192.168.1.10:9000:12abc:x", "TCP:8000:999.1.1.1:9000:0:x",
		"TCP:8000:host.example:9000:0:x", "TCP:8000::9000:0:x",
		"TCP:8000:1.2.3:192.168.1.10:9000:0:x",	/* bad remote host */
		"TCP:8000:203.0.113.9:192.168.1.10:0:0:x", "TCP:8000:203.0.113.9:192.168.1.10:9000:x:x",
		"TCP: 8000:192.168.1.10:9000:0:x", "+ TCP:8000:192.168.1.10:9000:0:x",
	};
	struct lease_record r;
	size_t i;
	/* a NUL in the description is damage */
	static const char nul[] = "TCP:8000:192.168.1.10:9000:0:a\0b";

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		if (lease_parse_miniupnpd(bad[i], strlen(bad[i]), 1800000000, &r) == 0) {
			printf("    accepted: %s\n", bad[i]);
			CHECK(!"a hostile miniupnpd line is refused");
		}
	}
	CHECK_EQ(lease_parse_miniupnpd(nul, sizeof(nul) - 1, 1800000000, &r), -1);
}

/* A miniupnpd file at lease_file: its unexpired mappings are restored
 * through the same policy as any replay, and the file becomes igdd's
 * journal, the original kept as FILE.miniupnpd only until then. */
TEST(lease_migrates_from_miniupnpd)
{
	struct fake_env *e = fake_env_new(true);
	char text[2048], orig[128];
	int64_t now = time_wall();

	str_printf(text, sizeof(text),
		   "TCP:8000:192.168.1.10:9000:%lld:libminiupnpc\n"
		   "UDP:8001:203.0.113.9:192.168.1.11:9001:0:with remote host\n"
		   "UDP:8002:192.168.1.10:8002:%lld:NAT-PMP 8002 udp\n"
		   "TCP:8003:192.168.1.10:9003:%lld:expired\n"
		   "TCP:8004:198.51.100.99:9004:0:not a LAN host\n"
		   "garbage line\n"
		   "TCP:8005:192.168.1.10:9005:600:remaining time\n"
		   "TCP:8006:192.168.1.10:9006:0:torn",
		   (long long)(now + 3600), (long long)(now + 60), (long long)(now - 10));
	write_file(e->ctx.cfg.lease_file, text);
	str_printf(orig, sizeof(orig), "%s.miniupnpd", e->ctx.cfg.lease_file);
	fake_env_start(e);
	CHECK_EQ(store_restore(e->s), 4);
	CHECK(store_find(e->s, TCP, 8000, NULL) != NULL);
	{
		struct in6_addr rh = fake_addr("203.0.113.9");
		CHECK(store_find(e->s, UDP, 8001, &rh) != NULL);
	}
	CHECK_EQ(store_find(e->s, UDP, 8002, NULL)->owner->proto, OWNER_NATPMP);
	CHECK(store_find(e->s, TCP, 8003, NULL) == NULL);	/* expired */
	CHECK(store_find(e->s, TCP, 8004, NULL) == NULL);	/* policy */
	CHECK(store_lease_left(e->s, store_find(e->s, TCP, 8005, NULL)) <= 600);
	CHECK(store_find(e->s, TCP, 8006, NULL) == NULL);	/* torn */
	CHECK_EQ(e->fw.n_kernel, 4);
	/* converted: igdd's journal, the original gone */
	CHECK(fake_env_read_lease(e, text, sizeof(text)) > 0);
	CHECK(text[0] == '#');
	CHECK(strstr(text, "\n+ TCP 8000 :: 192.168.1.10 9000 ") != NULL);
	CHECK(strstr(text, "TCP:") == NULL);
	CHECK(access(orig, F_OK) < 0);
	/* and read back as such */
	fake_env_restart(e);
	CHECK_EQ(store_restore(e->s), 4);
	fake_env_free(e);
}

/* The conversion cannot be written (a full disk): the original stays as
 * it was, nothing is appended to it, and the mappings are served; the
 * next rewrite that succeeds converts it. */
TEST(lease_migration_waits_for_a_good_write)
{
	struct fake_env *e = fake_env_new(true);
	char text[2048];
	struct rlimit saved;
	struct mapping r;

	str_printf(text, sizeof(text), "TCP:8000:192.168.1.10:9000:0:kept\n");
	write_file(e->ctx.cfg.lease_file, text);
	fake_env_start(e);
	disk_full(true, &saved);
	CHECK_EQ(store_restore(e->s), 1);
	r = fake_req(TCP, 8100, "192.168.1.10", 8100, "new", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	disk_full(false, &saved);
	CHECK(fake_env_read_lease(e, text, sizeof(text)) > 0);
	CHECK(strcmp(text, "TCP:8000:192.168.1.10:9000:0:kept\n") == 0);
	r = fake_req(TCP, 8101, "192.168.1.10", 8101, "newer", OWNER_UPNP);
	CHECK_EQ(store_add(e->s, &r, 0, 0, NULL), ST_OK);
	CHECK(fake_env_read_lease(e, text, sizeof(text)) > 0);
	CHECK(strstr(text, "+ TCP 8000 ") != NULL && strstr(text, "+ TCP 8100 ") != NULL &&
	      strstr(text, "+ TCP 8101 ") != NULL);
	fake_env_free(e);
}

/* A crash after the journal replaced the original but before the copy
 * was removed: the copy goes at the next start. */
TEST(lease_migration_leftover_copy_removed)
{
	struct fake_env *e = fake_env_new(true);
	char orig[128];

	write_file(e->ctx.cfg.lease_file,
		   "+ TCP 100 :: 192.168.1.10 100 0 1 UPNP 192.168.1.10 000000000000000000000000 1 ok\n");
	str_printf(orig, sizeof(orig), "%s.miniupnpd", e->ctx.cfg.lease_file);
	write_file(orig, "TCP:100:192.168.1.10:100:0:old\n");
	fake_env_start(e);
	CHECK(access(orig, F_OK) < 0);
	CHECK_EQ(store_restore(e->s), 1);
	fake_env_free(e);
}
