/* store_scale.c - does the store stay O(log n)?  Times add, find, nth,
 * range and delete at 100, 1,000 and 10,000 existing mappings, with no
 * backend and no lease file (the store alone), the same for IPv6 pinholes
 * (add, find by UniqueID, delete at 100 to 10,000 pinholes), then the
 * cost of the journal (write + fdatasync per change) and of the /proc/net
 * port-in-use check.  Usage: store_scale [tmpdir]
 *
 * store_scale --nft EXT_IF [--plain]: the same with the real nftables
 * backend, each change one netlink transaction acknowledged by the kernel,
 * with hairpin and port preservation on (their elements go in the same
 * transaction), or off with --plain (run it as root in a scratch network
 * namespace: it creates table inet igdd).  Pinholes: one pin6 element
 * each, either way.
 *
 * store_scale --mem [N]: the memory of N mappings (100,000) as the CGN
 * scale benchmark makes them (half NAT-PMP "NAT-PMP <port> tcp", half PCP
 * with a nonce of its own, "PCP <port> UDP", from 64 addresses): bytes per
 * mapping of each kind by malloc's count and by VmRSS. */
#include <arpa/inet.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "fw.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define EXTRA 100	/* mappings added and deleted per round */
#define ROUNDS 30
#define LOOKUPS 200000

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t rng = 2463534242u;

static uint32_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static struct mapping
req(unsigned i, uint16_t eport)
{
	/* used before the next call; the store copies them */
	static char desc[32];
	static struct in6_addr iaddr;
	static struct mapping_owner owner;
	struct mapping m;
	struct in_addr a;

	memset(&m, 0, sizeof(m));
	m.proto = i % 2 ? IPPROTO_UDP : IPPROTO_TCP;
	m.eport = eport;
	a.s_addr = htonl(0x0a000000u | ((i % 250) + 1) << 8 | ((i / 250) % 250 + 1));
	addr_from_v4(&iaddr, a);
	m.iaddr = &iaddr;
	m.iport = (uint16_t)(1024 + i % 60000);
	m.enabled = true;
	str_printf(desc, sizeof(desc), "scale %u", i);
	m.desc = desc;
	owner.proto = OWNER_UPNP;
	owner.addr = iaddr;
	m.owner = &owner;
	return m;
}

static uint16_t
base_port(unsigned i)
{
	return (uint16_t)(1024 + i / 2);
}

static uint16_t
extra_port(unsigned j)
{
	return (uint16_t)(40000 + j / 2);
}

static int
count_cb(struct mapping *m, void *arg)
{
	(void)m;
	(*(size_t *)arg)++;
	return 0;
}

/* The backend under test: none, or nftables with --nft. */
static const struct fw_ops *ops;
static struct fw *fw;

/* A store on the backend under test: no port-in-use check, no look at
 * the machine's own addresses or neighbour table (the bench's clients
 * live on the LANs main() gives the context). */
static struct store *
new_store(struct igdd_ctx *ctx)
{
	struct store *s = store_new(ctx, ops, fw);

	if (s == NULL)
		exit(1);
	store_set_port_in_use_cb(s, NULL, NULL);
	store_set_local_addr_cb(s, NULL, NULL);
	store_set_mac_cb(s, NULL, NULL);
	return s;
}

/* Pinhole i: host 2001:db8:1::/64 + i, its port, opened by itself. */
static struct mapping
pin_req(unsigned i)
{
	static struct in6_addr iaddr;
	static struct mapping_owner owner;
	struct mapping m;

	memset(&m, 0, sizeof(m));
	memset(&iaddr, 0, sizeof(iaddr));
	iaddr.s6_addr[0] = 0x20;
	iaddr.s6_addr[1] = 0x01;
	iaddr.s6_addr[2] = 0x0d;
	iaddr.s6_addr[3] = 0xb8;
	iaddr.s6_addr[5] = 0x01;
	iaddr.s6_addr[13] = (uint8_t)((i + 16) >> 16);
	iaddr.s6_addr[14] = (uint8_t)((i + 16) >> 8);
	iaddr.s6_addr[15] = (uint8_t)(i + 16);
	m.proto = i % 2 ? IPPROTO_UDP : IPPROTO_TCP;
	m.iaddr = &iaddr;
	m.iport = (uint16_t)(1024 + i % 60000);
	m.enabled = true;
	m.desc = "pin";
	owner.proto = OWNER_UPNP;
	owner.addr = iaddr;
	m.owner = &owner;
	return m;
}

struct pin_result {
	double add, find, del;
};

/* n pinholes, then EXTRA more added and deleted ROUNDS times, and finds by
 * UniqueID. */
static struct pin_result
pin_measure(struct igdd_ctx *ctx, unsigned n)
{
	struct pin_result res;
	uint16_t uids[EXTRA];
	struct mapping *m;
	uint64_t t, t_add = 0, t_del = 0;
	struct store *s;
	size_t hits = 0;
	unsigned i, r;

	if (ops != NULL && ops->install_all(fw, NULL, 0) < 0)
		exit(1);
	s = new_store(ctx);
	for (i = 0; i < n; i++) {
		struct mapping q = pin_req(i);
		if (store_pin_add(s, &q, 3600, 0, NULL) != ST_OK) {
			fprintf(stderr, "pinhole fill: add %u failed\n", i);
			exit(1);
		}
	}
	for (r = 0; r < ROUNDS; r++) {
		t = now_ns();
		for (i = 0; i < EXTRA; i++) {
			struct mapping q = pin_req(n + i);
			if (store_pin_add(s, &q, 3600, 0, &m) != ST_OK) {
				fprintf(stderr, "pinhole add failed\n");
				exit(1);
			}
			uids[i] = m->uid;
		}
		t_add += now_ns() - t;
		t = now_ns();
		for (i = 0; i < EXTRA; i++)
			if (store_pin_del(s, store_pin_find(s, uids[i]), NULL) != ST_OK) {
				fprintf(stderr, "pinhole del failed\n");
				exit(1);
			}
		t_del += now_ns() - t;
	}
	res.add = (double)t_add / 1000.0 / (ROUNDS * EXTRA);
	res.del = (double)t_del / 1000.0 / (ROUNDS * EXTRA);
	t = now_ns();
	for (i = 0; i < LOOKUPS; i++)
		hits += store_pin_find(s, (uint16_t)(xorshift() % n + 1)) != NULL;
	res.find = (double)(now_ns() - t) / 1000.0 / LOOKUPS;
	if (hits != LOOKUPS || store_pin_count(s) != n) {
		fprintf(stderr, "pinhole lookups missed (%zu/%d)\n", hits, LOOKUPS);
		exit(1);
	}
	store_free(s);
	return res;
}

struct result {
	double add, find, nth, range, del, list;
};

static void
fill(struct store *s, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct mapping m = req(i, base_port(i));
		if (store_add(s, &m, 3600, 0, NULL) != ST_OK) {
			fprintf(stderr, "fill: add %u failed\n", i);
			exit(1);
		}
	}
}

/* add EXTRA then delete them, ROUNDS times: the size stays n..n+EXTRA */
static void
add_del(struct store *s, unsigned rounds, double *add_us, double *del_us)
{
	uint64_t t_add = 0, t_del = 0, t;
	unsigned r, j;

	for (r = 0; r < rounds; r++) {
		t = now_ns();
		for (j = 0; j < EXTRA; j++) {
			struct mapping m = req(j, extra_port(j));
			if (store_add(s, &m, 3600, 0, NULL) != ST_OK) {
				fprintf(stderr, "add failed\n");
				exit(1);
			}
		}
		t_add += now_ns() - t;
		t = now_ns();
		for (j = 0; j < EXTRA; j++)
			if (store_del(s, j % 2 ? IPPROTO_UDP : IPPROTO_TCP, extra_port(j), NULL,
				      NULL) != ST_OK) {
				fprintf(stderr, "del failed\n");
				exit(1);
			}
		t_del += now_ns() - t;
	}
	*add_us = (double)t_add / 1000.0 / (rounds * EXTRA);
	*del_us = (double)t_del / 1000.0 / (rounds * EXTRA);
}

static struct result
measure(struct igdd_ctx *ctx, unsigned n)
{
	struct result res;
	struct store *s;
	uint64_t t;
	unsigned i;
	size_t hits = 0, seen = 0;

	if (ops != NULL && ops->install_all(fw, NULL, 0) < 0)	/* start empty */
		exit(1);
	s = new_store(ctx);
	fill(s, n);
	add_del(s, ROUNDS, &res.add, &res.del);

	t = now_ns();
	for (i = 0; i < LOOKUPS; i++) {
		unsigned k = xorshift() % n;
		hits += store_find(s, k % 2 ? IPPROTO_UDP : IPPROTO_TCP, base_port(k), NULL) != NULL;
	}
	res.find = (double)(now_ns() - t) / 1000.0 / LOOKUPS;

	t = now_ns();
	for (i = 0; i < LOOKUPS; i++)
		hits += store_nth(s, xorshift() % n) != NULL;
	res.nth = (double)(now_ns() - t) / 1000.0 / LOOKUPS;

	/* GetListOfPortMappings-like: 100 ports of one protocol */
	t = now_ns();
	for (i = 0; i < LOOKUPS / 100; i++) {
		uint16_t lo = base_port(xorshift() % n);
		store_range(s, IPPROTO_TCP, lo, (uint16_t)(lo + 99), count_cb, &seen);
	}
	res.range = (double)(now_ns() - t) / 1000.0 / (LOOKUPS / 100);

	/* a whole GetGenericPortMappingEntry walk, per entry */
	t = now_ns();
	for (i = 0; store_nth(s, i) != NULL; i++)
		;
	res.list = (double)(now_ns() - t) / 1000.0 / (i ? i : 1);

	if (hits != 2 * LOOKUPS || i != n) {
		fprintf(stderr, "lookups missed (%zu/%d, listed %u of %u)\n", hits, 2 * LOOKUPS, i, n);
		exit(1);
	}
	store_free(s);
	return res;
}

/* The clients live on one LAN, 10.0.0.0/8 (mappings) and 2001:db8:1::/64
 * (pinholes): the store refuses a client outside the served LANs. */
static void
scale_lan(struct igdd_ctx *ctx)
{
	struct lan_iface *l = &ctx->lan[0];

	memset(l, 0, sizeof(*l));
	str_copy(l->name, sizeof(l->name), "lan0");
	l->ifindex = 2;
	l->addr.s_addr = htonl(0x0afffffeu);	/* 10.255.255.254 */
	l->mask.s_addr = htonl(0xff000000u);
	inet_pton(AF_INET6, "2001:db8:1::1", &l->addr6[0].addr);
	l->addr6[0].plen = 64;
	l->n_addr6 = 1;
	ctx->n_lan = 1;
}

/* The backend learns the LAN (hairpin elements name it) and an external
 * address. */
static int
scale_fw_addrs(struct igdd_ctx *ctx)
{
	struct fw_addrs a;

	memset(&a, 0, sizeof(a));
	a.ext[a.n_ext++].s_addr = htonl(0xc6336401u);	/* 198.51.100.1 */
	str_copy(a.lan[0].name, sizeof(a.lan[0].name), ctx->lan[0].name);
	a.lan[0].addr = ctx->lan[0].addr;
	a.lan[0].mask = ctx->lan[0].mask;
	a.n_lan = 1;
	return ops->set_addrs(fw, &a) < 0 ? -1 : 0;
}

/* The nftables backend on ext_if, hairpin and port preservation on (the
 * defaults) unless plain. */
static int
scale_nft(struct igdd_ctx *ctx, const char *ext_if, bool plain)
{
	conf_defaults(&ctx->cfg);
	if (plain)
		ctx->cfg.hairpin = ctx->cfg.preserve_mapped_ports = false;
	if (str_copy(ctx->cfg.ext_ifname, sizeof(ctx->cfg.ext_ifname), ext_if) < 0)
		return -1;
	ops = &nft_ops;
	fw = ops->init(&ctx->cfg);
	if (fw == NULL || scale_fw_addrs(ctx) < 0)
		return -1;
	printf("store + nftables backend (one acknowledged transaction per change: DNAT, "
	       "forward%s elements; no lease file, port-in-use check off)\n",
	       plain ? " (hairpin and SNAT off)" : ", hairpin and SNAT");
	return 0;
}

/* VmRSS of this process, bytes. */
static size_t
vm_rss(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	size_t kb = 0;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtoul(line + 6, NULL, 10);
	if (f != NULL)
		fclose(f);
	return kb * 1024;
}

static size_t
heap_used(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* n mappings of one kind (pcp: own nonces, UDP; else NAT-PMP TCP), ports
 * from port0, as bench/scaleload asks them. */
static void
mem_fill(struct store *s, unsigned n, uint16_t port0, bool pcp)
{
	struct mapping m;
	struct mapping_owner o;
	struct in6_addr a;
	char desc[MAPPING_DESC_GEN_MAX];
	unsigned i;

	for (i = 0; i < n; i++) {
		uint16_t port = (uint16_t)(port0 + i);
		memset(&m, 0, sizeof(m));
		memset(&o, 0, sizeof(o));
		addr_from_v4(&a, (struct in_addr){ htonl(0x0a000064u + port % 64) });
		o.addr = a;
		o.proto = pcp ? OWNER_PCP : OWNER_NATPMP;
		if (pcp) {
			memcpy(o.nonce, &i, sizeof(i));
			o.nonce[11] = 1;
		}
		m.proto = pcp ? IPPROTO_UDP : IPPROTO_TCP;
		m.eport = m.iport = port;
		m.iaddr = &a;
		m.owner = &o;
		m.enabled = true;
		mapping_desc_make(desc, pcp ? MAPPING_DESC_PCP : MAPPING_DESC_NATPMP, m.proto, port);
		m.desc = desc;
		if (store_add(s, &m, 3600, pcp ? STORE_F_CHECK_NONCE : 0, NULL) != ST_OK) {
			fprintf(stderr, "store_add %u refused\n", port);
			exit(1);
		}
	}
}

static int
scale_mem(struct igdd_ctx *ctx, unsigned n)
{
	struct store *s;
	size_t h0, h1, h2, r0, r1, r2;

	ctx->cfg.max_mappings = 1000000;
	ctx->cfg.max_mappings_per_client = 1000000;
	s = new_store(ctx);
	h0 = heap_used();
	r0 = vm_rss();
	mem_fill(s, n / 2, 10000, false);
	h1 = heap_used();
	r1 = vm_rss();
	mem_fill(s, n - n / 2, 10000, true);
	h2 = heap_used();
	r2 = vm_rss();
	printf("%u mappings: malloc'd %.1f bytes a mapping (NAT-PMP %.1f, PCP %.1f); "
	       "VmRSS %.1f (%.1f, %.1f)\n", n, (double)(h2 - h0) / n,
	       (double)(h1 - h0) / (n / 2), (double)(h2 - h1) / (n - n / 2),
	       (double)(r2 - r0) / n, (double)(r1 - r0) / (n / 2), (double)(r2 - r1) / (n - n / 2));
	malloc_stats();
	store_free(s);
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned sizes[] = { 100, 1000, 10000 };
	struct igdd_ctx *ctx = calloc(1, sizeof(*ctx));
	struct result r[ARRAY_SIZE(sizes)];
	const char *tmpbase = argc > 1 ? argv[1] : "/tmp";
	char dir[256];
	struct pin_result p[ARRAY_SIZE(sizes)];
	struct store *s;
	double add_us, del_us;
	size_t i;

	log_init("store_scale", true, 0);
	if (ctx == NULL || loop_init(&ctx->loop) < 0)
		return 1;
	scale_lan(ctx);
	if (argc > 1 && strcmp(argv[1], "--mem") == 0)
		return scale_mem(ctx, argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 100000);
	if (argc > 2 && strcmp(argv[1], "--nft") == 0) {
		if (scale_nft(ctx, argv[2], argc > 3 && strcmp(argv[3], "--plain") == 0) < 0)
			return 1;
	} else {
		printf("store alone (no backend, no lease file, port-in-use check off)\n");
	}
	printf("%7s %10s %10s %10s %12s %10s %14s\n", "n", "add us/op", "find us/op",
	       "nth us/op", "range100 us", "del us/op", "list us/entry");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		r[i] = measure(ctx, sizes[i]);
		printf("%7u %10.3f %10.3f %10.3f %12.3f %10.3f %14.3f\n", sizes[i], r[i].add,
		       r[i].find, r[i].nth, r[i].range, r[i].del, r[i].list);
	}
	printf("add ratio 10000/100 = %.2f\n", r[2].add / r[0].add);
	printf("del ratio 10000/100 = %.2f\n", r[2].del / r[0].del);
	printf("%7s %10s %14s %10s   (IPv6 pinholes)\n", "n", "add us/op", "find uid us/op",
	       "del us/op");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		p[i] = pin_measure(ctx, sizes[i]);
		printf("%7u %10.3f %14.3f %10.3f\n", sizes[i], p[i].add, p[i].find, p[i].del);
	}
	printf("pinhole add ratio 10000/100 = %.2f\n", p[2].add / p[0].add);
	printf("pinhole del ratio 10000/100 = %.2f\n", p[2].del / p[0].del);
	if (ops != NULL) {
		ops->shutdown(fw, 1);
		loop_free(&ctx->loop);
		free(ctx);
		return 0;
	}

	/* the journal: one write() + fdatasync() per change */
	if (str_printf(dir, sizeof(dir), "%s/store_scale-XXXXXX", tmpbase) < 0 ||
	    mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	str_printf(ctx->cfg.lease_file, sizeof(ctx->cfg.lease_file), "%s/leases", dir);
	s = new_store(ctx);
	fill(s, 1000);
	add_del(s, 3, &add_us, &del_us);
	printf("with lease file %s, n = 1000: add %.1f us/op, del %.1f us/op "
	       "(write + fdatasync each; compaction amortized)\n",
	       ctx->cfg.lease_file, add_us, del_us);
	store_free(s);
	unlink(ctx->cfg.lease_file);
	rmdir(dir);
	ctx->cfg.lease_file[0] = '\0';

	/* the default port-in-use check: /proc/net/{tcp,tcp6} or udp per request */
	s = store_new(ctx, NULL, NULL);
	if (s == NULL)
		return 1;
	store_set_local_addr_cb(s, NULL, NULL);
	fill(s, 1000);
	add_del(s, 3, &add_us, &del_us);
	printf("with the default port-in-use check (sock_diag, /proc/net fallback), n = 1000: add %.1f us/op\n", add_us);
	store_free(s);
	loop_free(&ctx->loop);
	free(ctx);
	return 0;
}
