/* ostree.c - order-statistic AVL tree (recursive insert/remove: the depth
 * is at most 1.44 log2(n), about 30 at a million nodes). */
#include <stdint.h>

#include "ostree.h"

static int
height(const struct ost_node *n)
{
	return n != NULL ? n->height : 0;
}

static size_t
size(const struct ost_node *n)
{
	return n != NULL ? n->size : 0;
}

static void
update(struct ost_node *n)
{
	int hl = height(n->left), hr = height(n->right);

	n->height = (hl > hr ? hl : hr) + 1;
	n->size = size(n->left) + size(n->right) + 1;
}

static struct ost_node *
rotate_right(struct ost_node *n)
{
	struct ost_node *l = n->left;

	n->left = l->right;
	l->right = n;
	update(n);
	update(l);
	return l;
}

static struct ost_node *
rotate_left(struct ost_node *n)
{
	struct ost_node *r = n->right;

	n->right = r->left;
	r->left = n;
	update(n);
	update(r);
	return r;
}

static struct ost_node *
rebalance(struct ost_node *n)
{
	int bal;

	update(n);
	bal = height(n->left) - height(n->right);
	if (bal > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (bal < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

void
ost_init(struct ost *t, ost_cmp_fn cmp)
{
	t->root = NULL;
	t->cmp = cmp;
}

size_t
ost_count(const struct ost *t)
{
	return size(t->root);
}

static struct ost_node *
insert(struct ost *t, struct ost_node *cur, struct ost_node *n, int *dup)
{
	int c;

	if (cur == NULL)
		return n;
	c = t->cmp(n, cur);
	if (c == 0) {
		*dup = 1;
		return cur;
	}
	if (c < 0)
		cur->left = insert(t, cur->left, n, dup);
	else
		cur->right = insert(t, cur->right, n, dup);
	return *dup ? cur : rebalance(cur);
}

int
ost_insert(struct ost *t, struct ost_node *n)
{
	int dup = 0;

	n->left = n->right = NULL;
	n->size = 1;
	n->height = 1;
	t->root = insert(t, t->root, n, &dup);
	return dup ? -1 : 0;
}

/* Detach the leftmost node of the subtree into *min. */
static struct ost_node *
remove_min(struct ost_node *cur, struct ost_node **min)
{
	if (cur->left == NULL) {
		*min = cur;
		return cur->right;
	}
	cur->left = remove_min(cur->left, min);
	return rebalance(cur);
}

static struct ost_node *
remove_node(struct ost *t, struct ost_node *cur, struct ost_node *n)
{
	struct ost_node *min;
	int c;

	if (cur == NULL)
		return NULL;	/* not in the tree: a caller bug, leave it be */
	if (cur == n) {
		if (n->left == NULL)
			return n->right;
		if (n->right == NULL)
			return n->left;
		n->right = remove_min(n->right, &min);
		min->left = n->left;
		min->right = n->right;
		return rebalance(min);
	}
	c = t->cmp(n, cur);
	if (c < 0)
		cur->left = remove_node(t, cur->left, n);
	else
		cur->right = remove_node(t, cur->right, n);
	return rebalance(cur);
}

void
ost_remove(struct ost *t, struct ost_node *n)
{
	t->root = remove_node(t, t->root, n);
	n->left = n->right = NULL;
}

struct ost_node *
ost_find(const struct ost *t, const void *key, ost_keycmp_fn kc)
{
	struct ost_node *cur = t->root;

	while (cur != NULL) {
		int c = kc(key, cur);
		if (c == 0)
			return cur;
		cur = c < 0 ? cur->left : cur->right;
	}
	return NULL;
}

struct ost_node *
ost_bound(const struct ost *t, const void *key, ost_keycmp_fn kc, bool after,
	  size_t *rank)
{
	struct ost_node *cur = t->root, *best = NULL;
	size_t before = 0, best_rank = ost_count(t);

	while (cur != NULL) {
		int c = kc(key, cur);
		if (c < 0 || (c == 0 && !after)) {
			best = cur;
			best_rank = before + size(cur->left);
			cur = cur->left;
		} else {
			before += size(cur->left) + 1;
			cur = cur->right;
		}
	}
	if (rank != NULL)
		*rank = best_rank;
	return best;
}

struct ost_node *
ost_nth(const struct ost *t, size_t i)
{
	struct ost_node *cur = t->root;

	while (cur != NULL) {
		size_t l = size(cur->left);
		if (i == l)
			return cur;
		if (i < l) {
			cur = cur->left;
		} else {
			i -= l + 1;
			cur = cur->right;
		}
	}
	return NULL;
}

static void
foreach(struct ost_node *n, ost_visit_fn fn, void *arg)
{
	if (n == NULL)
		return;
	foreach(n->left, fn, arg);
	fn(n, arg);
	foreach(n->right, fn, arg);
}

void
ost_foreach(const struct ost *t, ost_visit_fn fn, void *arg)
{
	foreach(t->root, fn, arg);
}

static void
clear(struct ost_node *n, ost_visit_fn fn, void *arg)
{
	struct ost_node *l, *r;

	if (n == NULL)
		return;
	l = n->left;
	r = n->right;
	clear(l, fn, arg);
	clear(r, fn, arg);
	if (fn != NULL)
		fn(n, arg);
}

void
ost_clear(struct ost *t, ost_visit_fn fn, void *arg)
{
	struct ost_node *root = t->root;

	t->root = NULL;
	clear(root, fn, arg);
}

static int
verify(const struct ost *t, const struct ost_node *n, const struct ost_node *lo,
       const struct ost_node *hi)
{
	int hl, hr;

	if (n == NULL)
		return 0;
	if ((lo != NULL && t->cmp(lo, n) >= 0) || (hi != NULL && t->cmp(n, hi) >= 0))
		return -1;
	if (verify(t, n->left, lo, n) < 0 || verify(t, n->right, n, hi) < 0)
		return -1;
	hl = height(n->left);
	hr = height(n->right);
	if (n->height != (hl > hr ? hl : hr) + 1 || hl - hr > 1 || hr - hl > 1)
		return -1;
	if (n->size != size(n->left) + size(n->right) + 1)
		return -1;
	return 0;
}

int
ost_verify(const struct ost *t)
{
	return verify(t, t->root, NULL, NULL);
}
