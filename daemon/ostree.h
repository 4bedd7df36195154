/* ostree.h - an intrusive order-statistic AVL tree: insert, remove, find,
 * lower/upper bound, nth and rank, each O(log n).  Nodes are embedded in
 * elements of a pool (pool.h) at a fixed offset and link each other by
 * their elements' 32-bit numbers (container_of gives the element of a
 * node); keys must be unique. */
#ifndef IGDD_OSTREE_H
#define IGDD_OSTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pool.h"

struct ost_node {
	uint32_t left, right;	/* pool numbers; 0 = none */
	uint32_t sh;		/* size << 6 | height: nodes in this subtree (itself
				 * included), its height (one word: written at once) */
};

/* Order of two nodes: <0, 0, >0. */
typedef int (*ost_cmp_fn)(const struct ost_node *a, const struct ost_node *b);
/* Order of a search key against a node: <0 key before node, 0 equal, >0 after. */
typedef int (*ost_keycmp_fn)(const void *key, const struct ost_node *n);
typedef void (*ost_visit_fn)(struct ost_node *n, void *arg);

struct ost {
	uint32_t root;
	const struct pool *pool;	/* the elements */
	size_t off;			/* of the ost_node in an element */
	ost_cmp_fn cmp;
};

void ost_init(struct ost *t, ost_cmp_fn cmp, const struct pool *pool, size_t off);
size_t ost_count(const struct ost *t);
/* The element numbered id: 0, or -1 when a node with an equal key is
 * present (not inserted). */
int ost_insert(struct ost *t, uint32_t id);
/* It must be in the tree. */
void ost_remove(struct ost *t, uint32_t id);
struct ost_node *ost_find(const struct ost *t, const void *key, ost_keycmp_fn kc);
/* First node with key >= key (after = false) or > key (after = true);
 * NULL if none.  *rank (if not NULL) gets its index, or the count. */
struct ost_node *ost_bound(const struct ost *t, const void *key, ost_keycmp_fn kc,
			   bool after, size_t *rank);
/* The node at index i in key order (0-based); NULL past the end. */
struct ost_node *ost_nth(const struct ost *t, size_t i);
/* In-order walk; fn must not change the tree. */
void ost_foreach(const struct ost *t, ost_visit_fn fn, void *arg);
/* Post-order walk that may free each node; the tree is empty after. */
void ost_clear(struct ost *t, ost_visit_fn fn, void *arg);
/* Check the AVL, size and order invariants (tests).  0 ok, -1 broken. */
int ost_verify(const struct ost *t);

#endif
