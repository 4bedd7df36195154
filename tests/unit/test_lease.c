/* test_lease.c - the lease journal: format, replay, compaction, restore. */
#include <netinet/in.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
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

TEST(lease_wall_mono_conversions)
{
	CHECK_EQ(lease_wall_from_mono(0, 5000, 1000), 0);
	CHECK_EQ(lease_wall_from_mono(15000, 5000, 1000), 1010);
	CHECK_EQ(lease_wall_from_mono(15001, 5000, 1000), 1011);	/* rounds up */
	CHECK_EQ(lease_wall_from_mono(4000, 5000, 1000), 1001);	/* never in the past */
	CHECK_EQ(lease_mono_from_wall(0, 5000, 1000), 0);
	CHECK_EQ(lease_mono_from_wall(1010, 5000, 1000), 15000);
	CHECK(lease_mono_from_wall(900, 5000, 1000) <= 5000);
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
