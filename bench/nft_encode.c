/* nft_encode.c - the user CPU of encoding set-element messages, without a
 * kernel: N mappings (100,000) into the DNAT map and the forward set, as a
 * restart installs them (2N elements, with element timeouts, in one batch
 * of NFT_ELEMS_PER_MSG elements per message), ROUNDS times.  Prints the
 * best and the median round's user CPU (getrusage) and wall time.
 * Usage: nft_encode [N [ROUNDS]] */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/netfilter/nf_tables.h>

#include "bench.h"
#include "conf.h"
#include "mapping.h"
#include "nft_msg.h"
#include "util.h"

#define HOSTS 64
#define ROUNDS_MAX 50

static uint64_t
user_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_utime.tv_sec * 1000000u + (uint64_t)ru.ru_utime.tv_usec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One round: every mapping's DNAT and forward element into one batch.
 * Its total size into *bytes. */
static int
encode(const struct nft_layout *l, const struct mapping *const *ms, size_t n, uint64_t now,
       size_t *bytes)
{
	struct nft_batch bt;
	int rc;

	if (nft_batch_start(&bt, 1) < 0)
		return -1;
	rc = nft_msg_elems(&bt, l, NFT_SET_DNAT4, NFT_MSG_NEWSETELEM, ms, n, now);
	if (rc == 0)
		rc = nft_msg_elems(&bt, l, NFT_SET_FWD4, NFT_MSG_NEWSETELEM, ms, n, now);
	nft_batch_finish(&bt);
	*bytes = nft_batch_len(&bt);
	nft_batch_free(&bt);
	return rc;
}

int
main(int argc, char **argv)
{
	static struct in6_addr hosts[HOSTS];
	uint64_t cpu[ROUNDS_MAX], wall[ROUNDS_MAX], t0, c0, now = 1000000;
	unsigned long long n = 100000, rounds = 7, r, i;
	const struct mapping **ptrs;
	struct mapping *ms;
	struct nft_layout l;
	struct config cfg;
	size_t bytes = 0;

	if ((argc > 1 && parse_uint(argv[1], 1, 1000000, &n) < 0) ||
	    (argc > 2 && parse_uint(argv[2], 1, ROUNDS_MAX, &rounds) < 0)) {
		fprintf(stderr, "usage: nft_encode [N [ROUNDS]]\n");
		return 2;
	}
	conf_defaults(&cfg);
	str_copy(cfg.ext_ifname, sizeof(cfg.ext_ifname), "wan0");
	if (nft_layout_init(&l, &cfg, true) < 0)
		return 1;
	ms = calloc(n, sizeof(*ms));
	ptrs = calloc(n, sizeof(*ptrs));
	if (ms == NULL || ptrs == NULL)
		return 1;
	for (i = 0; i < HOSTS; i++) {
		char a[32];

		snprintf(a, sizeof(a), "::ffff:192.168.%llu.%llu", 1 + i / 200, 10 + i % 200);
		if (addr_parse(a, &hosts[i]) < 0)
			return 1;
	}
	for (i = 0; i < n; i++) {
		ms[i].proto = i % 2 ? IPPROTO_UDP : IPPROTO_TCP;
		ms[i].eport = (uint16_t)(1024 + i % 64000);
		ms[i].iport = (uint16_t)(1024 + i / 2 % 64000);
		ms[i].iaddr = &hosts[i % HOSTS];
		ms[i].rhost = &in6addr_any;
		ms[i].expires = now + 3600000 + i;
		ptrs[i] = &ms[i];
	}
	for (r = 0; r < rounds; r++) {
		t0 = bench_now_us();
		c0 = user_us();
		if (encode(&l, ptrs, n, now, &bytes) < 0) {
			fprintf(stderr, "nft_encode: encoding failed\n");
			return 1;
		}
		cpu[r] = user_us() - c0;
		wall[r] = bench_now_us() - t0;
	}
	qsort(cpu, rounds, sizeof(cpu[0]), cmp_u64);
	qsort(wall, rounds, sizeof(wall[0]), cmp_u64);
	printf("encode_elems=%llu\nencode_bytes=%zu\n", 2 * n, bytes);
	printf("encode_user_ms_best=%.1f\nencode_user_ms_median=%.1f\n", cpu[0] / 1000.0,
	       cpu[rounds / 2] / 1000.0);
	printf("encode_wall_ms_best=%.1f\nencode_wall_ms_median=%.1f\n", wall[0] / 1000.0,
	       wall[rounds / 2] / 1000.0);
	free(ms);
	free(ptrs);
	return 0;
}
