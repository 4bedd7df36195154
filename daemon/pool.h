/* pool.h - elements of one size in slabs, each known by a 32-bit number
 * (1, 2, ...; 0 = none): no malloc header or rounding per element, and
 * links between elements of 4 bytes instead of 8.  An element never moves
 * while it is taken; a freed one is the next one given (its slab's memory
 * is reused; every slab is freed when the last element is). */
#ifndef IGDD_POOL_H
#define IGDD_POOL_H

#include <stddef.h>
#include <stdint.h>

#define POOL_SLAB_SHIFT	10		/* 1024 elements a slab */
#define POOL_SLAB_N	(1u << POOL_SLAB_SHIFT)
#define POOL_TRIM_SLABS	16		/* a pool of this many slabs or more emptied: malloc_trim() */

struct pool {
	char **slab;
	uint32_t n_slab, cap_slab;
	uint32_t size;			/* bytes an element */
	uint32_t free;			/* first freed element; 0 = none */
	uint32_t top;			/* elements ever given (the rest untouched) */
	size_t used;			/* elements taken */
};

/* size: the element's sizeof (its alignment at most a pointer's). */
void pool_init(struct pool *p, size_t size);
/* Every slab freed (the elements' own references are the caller's). */
void pool_clear(struct pool *p);
/* A zeroed element's number; 0 when memory is short. */
uint32_t pool_get(struct pool *p);
void pool_put(struct pool *p, uint32_t id);

static inline void *
pool_at(const struct pool *p, uint32_t id)
{
	id--;
	return p->slab[id >> POOL_SLAB_SHIFT] + (size_t)(id & (POOL_SLAB_N - 1)) * p->size;
}

#endif
