/* ratelimit.h - a token bucket per source address: SSDP answers
 * (ssdp_rate_limit) and the mapping log's lines per requester.
 *
 * Each source has a bucket of `burst` tokens refilling at `rate` tokens
 * per second, so it gets at most burst + rate * seconds, however it asks.
 * The table is fully associative: a source keeps its entry until its
 * bucket is full again; while all RL_SOURCES entries are busy a new source
 * gets nothing, so rotating source addresses cannot reset anyone's count
 * and all sources together get at most RL_SOURCES * rate per second. */
#ifndef IGDD_RATELIMIT_H
#define IGDD_RATELIMIT_H

#include <stdint.h>
#include <netinet/in.h>

#define RL_SOURCES	256	/* sources tracked at once */

struct rl_entry {
	struct in6_addr addr;		/* v4-mapped for IPv4 */
	uint64_t last_ms;		/* monotonic time of the last refill */
	uint64_t millitokens;		/* 1000 per token */
	uint32_t denied;		/* tokens refused since the last grant */
};

struct rl {
	uint32_t rate;			/* tokens per source per second, 0 = no limit */
	uint32_t burst;			/* bucket size */
	unsigned n;
	struct rl_entry e[RL_SOURCES];
};

/* rate per second, burst at once (0: the same as rate). */
void rl_init(struct rl *rl, uint32_t rate, uint32_t burst);
/* How many of `want` tokens the source may have at now_ms; they are taken
 * from its bucket (0 = none now).  When some are granted and denied is not
 * NULL, *denied gets how many that source was refused since its previous
 * grant (what a log says it left out). */
unsigned rl_take(struct rl *rl, const struct in6_addr *src, unsigned want, uint64_t now_ms,
		 uint32_t *denied);

#endif
