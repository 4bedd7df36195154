/* test_ratelimit.c - the token bucket per source (SSDP answers, the
 * mapping log's lines). */
#include <arpa/inet.h>
#include <stdlib.h>

#include "ratelimit.h"
#include "unit.h"
#include "util.h"

/* rl_take() for an IPv4 source in network order. */
static unsigned
take(struct rl *rl, uint32_t v4, unsigned want, uint64_t now_ms)
{
	struct in6_addr a;
	struct in_addr in = { v4 };

	addr_from_v4(&a, in);
	return rl_take(rl, &a, want, now_ms, NULL);
}

/* The limiter counts answers: ssdp:all (10 answers) uses a whole budget of
 * 10, refills at rate per second, and sources do not share a bucket. */
TEST(rl_counts_tokens)
{
	struct rl *rl = calloc(1, sizeof(*rl));
	uint32_t a = htonl(0xc0a8010a), b = htonl(0xc0a8010b);

	if (rl == NULL)
		return;
	rl_init(rl, 10, 0);
	CHECK_EQ(take(rl, a, 10, 1000), 10);	/* a full bucket */
	CHECK_EQ(take(rl, a, 10, 1000), 0);	/* empty: nothing */
	CHECK_EQ(take(rl, a, 1, 1050), 0);	/* 0.5 answer refilled */
	CHECK_EQ(take(rl, a, 1, 1100), 1);	/* 1 after 100 ms */
	CHECK_EQ(take(rl, b, 10, 1100), 10);	/* b is not a's */
	CHECK_EQ(take(rl, a, 10, 1600), 5);	/* in part: 5 of 10 */
	CHECK_EQ(take(rl, a, 10, 99999), 10);	/* never more than rate */
	CHECK_EQ(take(rl, a, 1, 99999), 0);
	/* 200 ssdp:all searches in one second: at most 2 * rate answers. */
	{
		unsigned total = 0, i;

		for (i = 0; i < 200; i++)
			total += take(rl, b, 10, 200000 + i * 5);
		CHECK(total >= 10 && total <= 20);
	}
	/* rate 0 = no limit */
	rl_init(rl, 0, 0);
	CHECK_EQ(take(rl, a, 10, 0), 10);
	CHECK_EQ(take(rl, a, 10, 0), 10);
	free(rl);
}

/* More sources than entries: busy entries are never reset by newcomers
 * (no fresh budget by rotating addresses); idle ones are reused. */
TEST(rl_eviction)
{
	struct rl *rl = calloc(1, sizeof(*rl));
	unsigned i, got = 0;

	if (rl == NULL)
		return;
	rl_init(rl, 10, 0);
	for (i = 0; i < RL_SOURCES; i++)
		CHECK_EQ(take(rl, htonl(0x0a000000 + i), 10, 5000), 10);
	/* table full of empty buckets: a new source waits */
	CHECK_EQ(take(rl, htonl(0x0b000001), 1, 5000), 0);
	/* the first source is still known as empty, not reset */
	CHECK_EQ(take(rl, htonl(0x0a000000), 10, 5000), 0);
	/* rotating through 2x the table size in the same instant gets nothing */
	for (i = 0; i < 2 * RL_SOURCES; i++)
		got += take(rl, htonl(0x0c000000 + i), 10, 5000);
	CHECK_EQ(got, 0);
	/* a second later every bucket is full again: entries are reusable */
	CHECK_EQ(take(rl, htonl(0x0b000001), 10, 6000), 10);
	CHECK_EQ(take(rl, htonl(0x0b000001), 1, 6000), 0);
	/* an entry half refilled is still busy and keeps its count */
	CHECK_EQ(take(rl, htonl(0x0a000001), 10, 6000), 10);
	CHECK_EQ(take(rl, htonl(0x0a000001), 10, 6500), 5);
	free(rl);
}

/* A burst larger than the rate (the mapping log: 20 lines, then 1 a
 * second), and the count of what was refused since the last grant. */
TEST(rl_burst_and_denied)
{
	struct rl *rl = calloc(1, sizeof(*rl));
	struct in6_addr a;
	uint32_t denied = 99;
	unsigned i, got = 0;

	if (rl == NULL)
		return;
	addr_parse("192.168.1.10", &a);
	rl_init(rl, 1, 20);
	for (i = 0; i < 100; i++)
		got += rl_take(rl, &a, 1, 10000, NULL);
	CHECK_EQ(got, 20);				/* the burst */
	CHECK_EQ(rl_take(rl, &a, 1, 10500, &denied), 0);	/* half a token */
	CHECK_EQ(denied, 99);				/* untouched: nothing granted */
	CHECK_EQ(rl_take(rl, &a, 1, 11000, &denied), 1);	/* one a second */
	CHECK_EQ(denied, 81);				/* 80 + the one at 10500 */
	CHECK_EQ(rl_take(rl, &a, 1, 11000, &denied), 0);
	CHECK_EQ(rl_take(rl, &a, 1, 12000, &denied), 1);
	CHECK_EQ(denied, 1);
	/* refill caps at the burst, after burst / rate seconds */
	got = 0;
	for (i = 0; i < 100; i++)
		got += rl_take(rl, &a, 1, 999999, NULL);
	CHECK_EQ(got, 20);
	free(rl);
}
