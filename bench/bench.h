/* bench.h - what the load generators share: clocks, deadlines, statistics,
 * the "key=value" summary lines bench/run.sh reads.  Header-only, so each
 * bench/X.c stays one program. */
#ifndef IGDD_BENCH_H
#define IGDD_BENCH_H

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t
bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Milliseconds left until deadline (microseconds), never negative. */
static inline int
bench_left_ms(uint64_t deadline_us)
{
	uint64_t now = bench_now_us();

	if (now >= deadline_us)
		return 0;
	return (int)((deadline_us - now + 999) / 1000);
}

/* poll() one descriptor until deadline, through EINTR. 1 ready, 0 timeout, -1 error. */
static inline int
bench_wait(int fd, short events, uint64_t deadline_us)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, bench_left_ms(deadline_us));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		return r;
	}
}

/* Network byte order into and out of a datagram. */
static inline void
bench_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
bench_put32(uint8_t *p, uint32_t v)
{
	bench_put16(p, (uint16_t)(v >> 16));
	bench_put16(p + 2, (uint16_t)v);
}

static inline uint16_t
bench_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
bench_get32(const uint8_t *p)
{
	return (uint32_t)bench_get16(p) << 16 | bench_get16(p + 2);
}

struct bench_samples {
	uint32_t *v;		/* microseconds */
	size_t n, cap;
};

static inline void
bench_add(struct bench_samples *s, uint64_t us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint32_t *v = realloc(s->v, cap * sizeof(*v));

		if (v == NULL)
			return;		/* a lost sample, not a crash */
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static inline int
bench_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile q (0..100, nearest rank) of samples [from, n); the array
 * segment is sorted in a copy so the order of the samples is kept. */
static inline uint32_t
bench_pct(const struct bench_samples *s, size_t from, double q)
{
	size_t n = s->n > from ? s->n - from : 0, rank;
	uint32_t *c, r;

	if (n == 0)
		return 0;
	c = malloc(n * sizeof(*c));
	if (c == NULL)
		return 0;
	memcpy(c, s->v + from, n * sizeof(*c));
	qsort(c, n, sizeof(*c), bench_cmp_u32);
	rank = (size_t)(q / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	r = c[rank - 1];
	free(c);
	return r;
}

static inline double
bench_mean(const struct bench_samples *s, size_t from)
{
	double sum = 0;
	size_t i;

	if (s->n <= from)
		return 0;
	for (i = from; i < s->n; i++)
		sum += s->v[i];
	return sum / (double)(s->n - from);
}

#endif
