/* ratelimit.c - a token bucket per source address (see ratelimit.h). */
#include <string.h>

#include "ratelimit.h"
#include "util.h"

void
rl_init(struct rl *rl, uint32_t rate, uint32_t burst)
{
	memset(rl, 0, sizeof(*rl));
	rl->rate = rate;
	rl->burst = burst != 0 ? burst : rate;
}

/* Refill e's bucket up to now; returns its tokens (milli). */
static uint64_t
rl_refill(const struct rl *rl, struct rl_entry *e, uint64_t now_ms)
{
	uint64_t cap = (uint64_t)rl->burst * 1000, dt;
	/* the time a full refill takes: no overflow beyond it */
	uint64_t full_ms = ((uint64_t)rl->burst * 1000 + rl->rate - 1) / rl->rate;

	if (now_ms > e->last_ms) {
		dt = now_ms - e->last_ms;
		if (dt > full_ms)
			dt = full_ms;
		e->millitokens += dt * rl->rate;
		if (e->millitokens > cap)
			e->millitokens = cap;
		e->last_ms = now_ms;
	}
	return e->millitokens;
}

/* The entry of src, a reused idle one, a new one, or NULL (all busy). */
static struct rl_entry *
rl_entry(struct rl *rl, const struct in6_addr *src, uint64_t now_ms)
{
	struct rl_entry *e = NULL, *idle = NULL;
	uint64_t cap = (uint64_t)rl->burst * 1000;
	unsigned i;

	for (i = 0; i < rl->n; i++) {
		if (addr_eq(&rl->e[i].addr, src))
			return &rl->e[i];
		/* A full bucket is the same as no entry: reusable. */
		if (idle == NULL && rl_refill(rl, &rl->e[i], now_ms) >= cap)
			idle = &rl->e[i];
	}
	if (rl->n < RL_SOURCES)
		e = &rl->e[rl->n++];
	else if (idle != NULL)
		e = idle;
	else
		return NULL;	/* every entry busy: fail closed */
	e->addr = *src;
	e->last_ms = now_ms;
	e->millitokens = cap;
	e->denied = 0;
	return e;
}

unsigned
rl_take(struct rl *rl, const struct in6_addr *src, unsigned want, uint64_t now_ms,
	uint32_t *denied)
{
	struct rl_entry *e;
	uint64_t have;
	unsigned got;

	if (rl->rate == 0)
		return want;
	if ((e = rl_entry(rl, src, now_ms)) == NULL)
		return 0;
	have = rl_refill(rl, e, now_ms) / 1000;
	got = have < want ? (unsigned)have : want;
	e->millitokens -= (uint64_t)got * 1000;
	if (got < want)
		e->denied += want - got;
	if (got > 0 && denied != NULL) {
		*denied = e->denied - (want - got);
		e->denied = want - got;
	}
	return got;
}
