/* pool.c - fixed-size elements in slabs (pool.h). */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* Under AddressSanitizer an element is poisoned while it is not taken, as
 * freed memory would be: a use after pool_put() is reported. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(a, n)	ASAN_POISON_MEMORY_REGION((a), (n))
#define UNPOISON(a, n)	ASAN_UNPOISON_MEMORY_REGION((a), (n))
#else
#define POISON(a, n)	((void)(a), (void)(n))
#define UNPOISON(a, n)	((void)(a), (void)(n))
#endif

void
pool_init(struct pool *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	p->size = (uint32_t)size;
}

void
pool_clear(struct pool *p)
{
	uint32_t i, n = p->n_slab;

	for (i = 0; i < p->n_slab; i++) {
		UNPOISON(p->slab[i], (size_t)p->size * POOL_SLAB_N);
		free(p->slab[i]);
	}
	free(p->slab);
	pool_init(p, p->size);
#ifdef M_TRIM_THRESHOLD
	/* Slabs are below malloc's mmap threshold: freed in the middle of
	 * the heap, their pages stay resident until a trim (after a large
	 * pool only: a delete-all of 100,000 mappings, ~10 MiB) */
	if (n >= POOL_TRIM_SLABS)
		malloc_trim(0);
#endif
}

/* One more slab (its pages untouched until its elements are given). */
static int
pool_grow(struct pool *p)
{
	char *sl;

	if (p->n_slab >= (UINT32_MAX >> POOL_SLAB_SHIFT) - 1)
		return -1;
	if (p->n_slab == p->cap_slab) {
		uint32_t cap = p->cap_slab ? p->cap_slab * 2 : 16;
		char **t = realloc(p->slab, cap * sizeof(*t));
		if (t == NULL)
			return -1;
		p->slab = t;
		p->cap_slab = cap;
	}
	if ((sl = malloc((size_t)p->size * POOL_SLAB_N)) == NULL)
		return -1;
	POISON(sl, (size_t)p->size * POOL_SLAB_N);
	p->slab[p->n_slab++] = sl;
	return 0;
}

uint32_t
pool_get(struct pool *p)
{
	uint32_t id;
	void *e;

	if (p->free != 0) {
		id = p->free;
		e = pool_at(p, id);
		UNPOISON(e, p->size);
		memcpy(&p->free, e, sizeof(p->free));
	} else {
		if (p->top == p->n_slab << POOL_SLAB_SHIFT && pool_grow(p) < 0)
			return 0;
		id = ++p->top;
		e = pool_at(p, id);
		UNPOISON(e, p->size);
	}
	memset(e, 0, p->size);
	p->used++;
	return id;
}

void
pool_put(struct pool *p, uint32_t id)
{
	void *e = pool_at(p, id);

	if (--p->used == 0) {	/* the last one: every slab goes back */
		pool_clear(p);
		return;
	}
	memcpy(e, &p->free, sizeof(p->free));
	POISON(e, p->size);
	p->free = id;
}
