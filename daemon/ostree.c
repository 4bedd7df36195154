/* ostree.c - order-statistic AVL tree (recursive insert/remove: the depth
 * is at most 1.44 log2(n), about 30 at a million nodes).  Links are pool
 * numbers: N() is the node of one, 0 none. */
#include <stdint.h>

#include "ostree.h"

static struct ost_node *
N(const struct ost *t, uint32_t id)
{
	return id != 0 ? (struct ost_node *)((char *)pool_at(t->pool, id) + t->off) : NULL;
}

#define SH(size, height)	((uint32_t)(size) << 6 | (uint32_t)(height))
#define SH_SIZE(sh)		((sh) >> 6)
#define SH_HEIGHT(sh)		((sh) & 63)

/* The walks keep a copy of the tree and its pool in locals:
 * the comparison callbacks cannot change them, and the compiler need not
 * load them again after each call. */
#define LOCAL_TREE(t, lt, lp)						\
	struct pool lp = *(t)->pool;					\
	struct ost lt = { .root = (t)->root, .pool = &lp, .off = (t)->off, .cmp = (t)->cmp }

static unsigned
height(const struct ost *t, uint32_t id)
{
	return id != 0 ? SH_HEIGHT(N(t, id)->sh) : 0;
}

static size_t
size(const struct ost *t, uint32_t id)
{
	return id != 0 ? SH_SIZE(N(t, id)->sh) : 0;
}

/* n's height and size from its children's; returns the balance
 * (left height - right height). */
static int
update(const struct ost *t, struct ost_node *n)
{
	uint32_t ls = n->left != 0 ? N(t, n->left)->sh : 0;
	uint32_t rs = n->right != 0 ? N(t, n->right)->sh : 0;
	unsigned hl = SH_HEIGHT(ls), hr = SH_HEIGHT(rs);

	n->sh = SH(SH_SIZE(ls) + SH_SIZE(rs) + 1, (hl > hr ? hl : hr) + 1);
	return (int)hl - (int)hr;
}

static uint32_t
rotate_right(const struct ost *t, uint32_t id)
{
	struct ost_node *n = N(t, id);
	uint32_t lid = n->left;
	struct ost_node *l = N(t, lid);

	n->left = l->right;
	l->right = id;
	update(t, n);
	update(t, l);
	return lid;
}

static uint32_t
rotate_left(const struct ost *t, uint32_t id)
{
	struct ost_node *n = N(t, id);
	uint32_t rid = n->right;
	struct ost_node *r = N(t, rid);

	n->right = r->left;
	r->left = id;
	update(t, n);
	update(t, r);
	return rid;
}

static uint32_t
rebalance(const struct ost *t, uint32_t id)
{
	struct ost_node *n = N(t, id);
	int bal = update(t, n);

	if (bal > 1) {
		struct ost_node *l = N(t, n->left);
		if (height(t, l->left) < height(t, l->right))
			n->left = rotate_left(t, n->left);
		return rotate_right(t, id);
	}
	if (bal < -1) {
		struct ost_node *r = N(t, n->right);
		if (height(t, r->right) < height(t, r->left))
			n->right = rotate_right(t, n->right);
		return rotate_left(t, id);
	}
	return id;
}

void
ost_init(struct ost *t, ost_cmp_fn cmp, const struct pool *pool, size_t off)
{
	t->root = 0;
	t->pool = pool;
	t->off = off;
	t->cmp = cmp;
}

size_t
ost_count(const struct ost *t)
{
	return size(t, t->root);
}

static uint32_t
insert(const struct ost *t, uint32_t cur, uint32_t id, const struct ost_node *n, int *dup)
{
	struct ost_node *c;
	int r;

	if (cur == 0)
		return id;
	c = N(t, cur);
	r = t->cmp(n, c);
	if (r == 0) {
		*dup = 1;
		return cur;
	}
	if (r < 0)
		c->left = insert(t, c->left, id, n, dup);
	else
		c->right = insert(t, c->right, id, n, dup);
	return *dup ? cur : rebalance(t, cur);
}

int
ost_insert(struct ost *t0, uint32_t id)
{
	LOCAL_TREE(t0, lt, lp);
	struct ost_node *n = N(&lt, id);
	int dup = 0;

	n->left = n->right = 0;
	n->sh = SH(1, 1);
	t0->root = insert(&lt, lt.root, id, n, &dup);
	return dup ? -1 : 0;
}

/* Detach the leftmost node of the subtree into *min. */
static uint32_t
remove_min(const struct ost *t, uint32_t cur, uint32_t *min)
{
	struct ost_node *c = N(t, cur);

	if (c->left == 0) {
		*min = cur;
		return c->right;
	}
	c->left = remove_min(t, c->left, min);
	return rebalance(t, cur);
}

static uint32_t
remove_node(const struct ost *t, uint32_t cur, uint32_t id, const struct ost_node *n)
{
	struct ost_node *c;
	uint32_t min;

	if (cur == 0)
		return 0;	/* not in the tree: a caller bug, leave it be */
	c = N(t, cur);
	if (cur == id) {
		struct ost_node *m;
		if (c->left == 0)
			return c->right;
		if (c->right == 0)
			return c->left;
		c->right = remove_min(t, c->right, &min);
		m = N(t, min);
		m->left = c->left;
		m->right = c->right;
		return rebalance(t, min);
	}
	if (t->cmp(n, c) < 0)
		c->left = remove_node(t, c->left, id, n);
	else
		c->right = remove_node(t, c->right, id, n);
	return rebalance(t, cur);
}

void
ost_remove(struct ost *t0, uint32_t id)
{
	LOCAL_TREE(t0, lt, lp);
	struct ost_node *n = N(&lt, id);

	t0->root = remove_node(&lt, lt.root, id, n);
	n->left = n->right = 0;
}

struct ost_node *
ost_find(const struct ost *t0, const void *key, ost_keycmp_fn kc)
{
	LOCAL_TREE(t0, lt, lp);
	const struct ost *t = &lt;
	struct ost_node *cur = N(t, t->root);

	while (cur != NULL) {
		int c = kc(key, cur);
		if (c == 0)
			return cur;
		cur = N(t, c < 0 ? cur->left : cur->right);
	}
	return NULL;
}

struct ost_node *
ost_bound(const struct ost *t0, const void *key, ost_keycmp_fn kc, bool after,
	  size_t *rank)
{
	LOCAL_TREE(t0, lt, lp);
	const struct ost *t = &lt;
	struct ost_node *cur = N(t, t->root), *best = NULL;
	size_t before = 0, best_rank = ost_count(t);

	while (cur != NULL) {
		int c = kc(key, cur);
		if (c < 0 || (c == 0 && !after)) {
			best = cur;
			best_rank = before + size(t, cur->left);
			cur = N(t, cur->left);
		} else {
			before += size(t, cur->left) + 1;
			cur = N(t, cur->right);
		}
	}
	if (rank != NULL)
		*rank = best_rank;
	return best;
}

struct ost_node *
ost_nth(const struct ost *t0, size_t i)
{
	LOCAL_TREE(t0, lt, lp);
	const struct ost *t = &lt;
	struct ost_node *cur = N(t, t->root);

	while (cur != NULL) {
		size_t l = size(t, cur->left);
		if (i == l)
			return cur;
		if (i < l) {
			cur = N(t, cur->left);
		} else {
			i -= l + 1;
			cur = N(t, cur->right);
		}
	}
	return NULL;
}

static void
foreach(const struct ost *t, uint32_t id, ost_visit_fn fn, void *arg)
{
	struct ost_node *n;

	if (id == 0)
		return;
	n = N(t, id);
	foreach(t, n->left, fn, arg);
	fn(n, arg);
	foreach(t, n->right, fn, arg);
}

void
ost_foreach(const struct ost *t, ost_visit_fn fn, void *arg)
{
	foreach(t, t->root, fn, arg);
}

static void
clear(const struct ost *t, uint32_t id, ost_visit_fn fn, void *arg)
{
	struct ost_node *n;
	uint32_t l, r;

	if (id == 0)
		return;
	n = N(t, id);
	l = n->left;
	r = n->right;
	clear(t, l, fn, arg);
	clear(t, r, fn, arg);
	if (fn != NULL)
		fn(n, arg);
}

void
ost_clear(struct ost *t, ost_visit_fn fn, void *arg)
{
	uint32_t root = t->root;

	t->root = 0;
	clear(t, root, fn, arg);
}

static int
verify(const struct ost *t, uint32_t id, const struct ost_node *lo, const struct ost_node *hi)
{
	const struct ost_node *n;
	unsigned hl, hr;

	if (id == 0)
		return 0;
	n = N(t, id);
	if ((lo != NULL && t->cmp(lo, n) >= 0) || (hi != NULL && t->cmp(n, hi) >= 0))
		return -1;
	if (verify(t, n->left, lo, n) < 0 || verify(t, n->right, n, hi) < 0)
		return -1;
	hl = height(t, n->left);
	hr = height(t, n->right);
	if (SH_HEIGHT(n->sh) != (hl > hr ? hl : hr) + 1 || hl > hr + 1 || hr > hl + 1)
		return -1;
	if (SH_SIZE(n->sh) != size(t, n->left) + size(t, n->right) + 1)
		return -1;
	return 0;
}

int
ost_verify(const struct ost *t)
{
	return verify(t, t->root, NULL, NULL);
}
