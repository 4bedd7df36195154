/* pool.c - fixed-size elements in slabs (pool.h). */
#include <stdlib.h>
#include <string.h>

#include "pool.h"

void
pool_init(struct pool *p, size_t size)
{
	memset(p, 0, sizeof(*p));
	p->size = (uint32_t)size;
}

void
pool_clear(struct pool *p)
{
	uint32_t i;

	for (i = 0; i < p->n_slab; i++)
		free(p->slab[i]);
	free(p->slab);
	pool_init(p, p->size);
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
		memcpy(&p->free, e, sizeof(p->free));
	} else {
		if (p->top == p->n_slab << POOL_SLAB_SHIFT && pool_grow(p) < 0)
			return 0;
		id = ++p->top;
		e = pool_at(p, id);
	}
	memset(e, 0, p->size);
	p->used++;
	return id;
}

void
pool_put(struct pool *p, uint32_t id)
{
	void *e = pool_at(p, id);

	memcpy(e, &p->free, sizeof(p->free));
	p->free = id;
	p->used--;
}
