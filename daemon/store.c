/* store.c - the table of port mappings and the one place where policy is
 * decided.
 *
 * Indexes, all maintained on every change:
 *   - an order-statistic AVL tree keyed (proto, eport, rhost): find, nth,
 *     range, free-port search (ostree.c);
 *   - a hash on (proto, iaddr, iport): store_find_internal();
 *   - a table of shared entries: each address used as an internal client
 *     or remote host is kept once (with its mapping count as internal
 *     client, for quotas), and so is each owner (address, nonce,
 *     protocol) with the list of mappings it holds (store_del_owner());
 *     mappings point at them;
 *   - a binary min-heap on lease expiry, driving one loop timer.
 * Every change goes to the backend first, then the indexes, then the
 * lease journal (lease.c), synced at once or, between store_hold() and
 * store_commit(), once for all the changes made meanwhile. */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "conf.h"
#include "ctx.h"
#include "fw.h"
#include "lease.h"
#include "log.h"
#include "neigh.h"
#include "ostree.h"
#include "pool.h"
#include "perm.h"
#include "portinuse.h"
#include "store.h"
#include "util.h"

/* 88 bytes (LP64), in the store's pool (pool.h): the links between
 * nodes (key tree, owner's list, internal-side hash, expiry heap) are
 * pool numbers of 4 bytes; the description apart (desc_store()).
 * heap_idx has 24 bits: fewer than 16.7 million mappings and pinholes
 * (max_mappings <= 1,000,000). */
struct st_node {
	struct mapping m;
	uint32_t id;			/* its pool number */
	struct ost_node tn;		/* key tree */
	uint32_t oprev, onext;		/* the owner's list */
	uint32_t fw_packets;		/* low 32 bits of the last counter seen */
	uint32_t heap_idx : 24;		/* position + 1 in the expiry heap; 0 = none */
	uint32_t idle_seen : 1;		/* fw_packets holds a counter from a pass */
	uint32_t pending : 1;		/* reserved, not yet committed (store_confirm()) */
	uint32_t fw_lost : 1;		/* pending: its elements could not be put back
					 * (install_or_drop()); refused at its confirm */
	uint32_t kseen : 3;		/* a reconcile saw its elements: KSEEN_* */
};

/* A shared entry: a host (an address used as internal client or remote
 * host; only key.addr is set, key.proto is ENT_HOST) or an owner.  Freed
 * with its last mapping.  44 bytes in the store's pool of entries (a PCP
 * mapping with a nonce of its own has one). */
#define ENT_HOST	((enum owner_proto)0xff)	/* no owner's protocol */
struct st_ent {
	struct mapping_owner key;	/* m.iaddr, m.rhost -> key.addr; m.owner -> key */
	uint32_t hnext;			/* the hash chain: pool number; 0 = end */
	uint32_t refs;			/* mappings pointing here */
	union {				/* one or the other */
		uint32_t icount;	/* host: mappings with it as internal client */
		uint32_t owned;		/* owner: its mappings (first node's number) */
	};
};

struct st_key {
	uint8_t proto;
	uint16_t eport;
	struct in6_addr rhost;
};

/* A batch (store_hold_batch()): each change is made in the indexes at
 * once and its kernel part queued; the journal record and the listeners
 * wait for the commit, which may also take the changes back. */
enum ch_kind { CH_ADD, CH_REFRESH, CH_DEL, CH_CONFIRM };	/* CONFIRM: store_confirm() */

struct st_change {
	struct st_node *n;
	struct mapping old;		/* CH_REFRESH: n->m before */
	const char *old_desc;		/* CH_REFRESH: old.desc, when it changed (held) */
	struct in6_addr by;		/* CH_DEL: who asked */
	uint8_t kind;			/* enum ch_kind */
	uint8_t ev;			/* enum store_event to tell */
	bool has_by, old_idle_seen, old_fw_lost;
	bool quiet;			/* a reservation's add or roll back: nobody is told */
	bool owner_moved;		/* CH_REFRESH: this change holds old.owner's reference */
};

struct st_batch {
	struct st_change *ch;
	size_t n, cap;
	struct store_stats stats;	/* as at store_hold_batch() */
	uint64_t renewed;		/* ... and store.renewed */
	bool on;
};

/* The kernel's elements reconciled with the store after a restore: a dump
 * read in slices of the event loop (each element found in place marks its
 * mapping, a stale one is removed at once), then the mappings not marked
 * added in transactions of STORE_SYNC_CHUNK, walking the store in key
 * order from a cursor (requests change the store meanwhile), then the
 * lease file rewritten. */
#define KSEEN_DNAT	0x01
#define KSEEN_FWD	0x02
#define KSEEN_SNAT	0x04	/* its internal side's SNAT element (port preservation) */
enum sync_phase { SYNC_OFF, SYNC_DUMP, SYNC_ADD, SYNC_INSTALL,
		  SYNC_PIPE };		/* fw_ops.pipe_*: installed beside the replay */
struct st_gone {			/* a lease the restore dropped (ended, refused) */
	struct in6_addr rhost, iaddr;
	uint16_t eport, iport;		/* eport: a pinhole's UniqueID */
	uint16_t rport;			/* a pinhole's remote port */
	uint8_t proto;
};
#define SYNC_READS 3
struct st_sync {
	struct loop_timer timer;
	enum sync_phase phase;
	struct st_key cursor;		/* SYNC_ADD: added up to here */
	bool walking;			/* cursor set */
	bool snat;			/* the SNAT elements are read too (KSEEN_SNAT) */
	size_t in_place, stale, added;
	size_t chunk;			/* SYNC_ADD: mappings per transaction */
	bool wait;			/* SYNC_PIPE: for its end (store_restore()) */
	uint64_t t0;
	struct st_gone *gone;		/* the restore's dropped leases */
	size_t n_gone, cap_gone;
	struct fw_elem *pend;		/* SYNC_DUMP: stale elements, removed at its end */
	size_t n_pend, cap_pend;
	bool again;			/* the dump may have missed elements: read again */
	unsigned reads;			/* dumps of this reconcile, SYNC_READS at most */
	size_t in_place1, stale1, added1;	/* the first read's counts */
};

struct store {
	struct igdd_ctx *ctx;
	const struct config *cfg;
	const struct fw_ops *ops;
	struct fw *fw;
	uint64_t seed;

	struct ost tree;
	struct ost ptree;		/* IPv6 pinholes, keyed by UniqueID */
	uint16_t next_uid;
	uint64_t renewed;		/* refreshes that changed nothing (store_fw_generation()) */
	/* the neighbour table (MAC of an address): mac= rules, secure mode's
	 * "own addresses" of a pinhole client; one lookup per address and
	 * request (mac_addr/mac_ok, reset at each decision) */
	store_mac_cb mac_cb;
	void *mac_arg;
	struct in6_addr mac_addr;
	uint8_t mac[6];
	bool mac_valid, mac_ok;
	uint64_t guard_read_ms;		/* store_pin_firewall()'s last look */
	bool guarded;

	struct pool nodes;		/* every st_node */
	uint32_t *ihash;		/* node numbers; 0 = free */
	size_t ihash_size, ihash_count;
	uint32_t *uport;		/* unrestricted TCP, UDP mappings by port (uport_slot()) */

	struct pool ents;		/* every st_ent */
	uint32_t *ehash;		/* chains of entries: pool numbers */
	size_t ehash_size, ehash_count;

	uint32_t *heap;			/* node numbers */
	size_t heap_n, heap_cap;
	struct loop_timer expiry_timer;
	struct loop_timer idle_timer;
	struct loop_timer lease_retry;	/* rewrite the lease file after a failed write */

	struct lease *lease;
	unsigned held;			/* store_hold() depth: lease syncs wait */
	bool replaying;			/* restore_leases(): records, not requests */
	bool piping;			/* and their changes to fw_ops.pipe_change */
	size_t replay_stale;		/* records the store does not hold as written */
	size_t replay_records;		/* the journal's records after the replay */
	int64_t replay_wall;		/* the clocks at the replay's start: one */
	uint64_t replay_mono;		/* reading for 100,000 records */
	bool journaled;			/* a change journaled while held */
	size_t n_pending;		/* linked reservations (store_confirm()) */
	char mark[FW_GEN_MAX];		/* the last "# gen" mark written ... */
	size_t mark_records;		/* ... as the journal's record number this */
	struct st_batch batch;		/* store_hold_batch() */
	struct st_sync sync;		/* store_restore_async() */
	struct {
		store_change_cb fn;
		void *arg;
		bool last;		/* store_add_listener_last() */
	} listeners[STORE_MAX_LISTENERS];
	unsigned n_listeners;
	store_port_in_use_cb inuse_cb;
	void *inuse_arg;
	store_local_addr_cb local_cb;
	void *local_arg;
	/* the gateway's IPv4 addresses for the default local_cb, read at
	 * most once per STORE_LOCAL_TTL_MS (getifaddrs costs ~25 us) */
	struct in_addr *local;
	size_t n_local;
	uint64_t local_read_ms;
	unsigned search_limit;

	/* Snapshot of the sockets for the default port-in-use check, taken
	 * at most once per request or per hold (a batch): TCP, UDP. */
	bool inuse_valid[2];
	uint8_t inuse_bits[2][PORTINUSE_BITMAP_BYTES];
	uint64_t inuse_ms[2];		/* when taken (inuse_expire()) */

	struct store_stats stats;
	/* mappings [0] and pinholes [1] by owner protocol and TCP/UDP/other */
	size_t n_src[2][OWNER_PCP + 1][3];
};

#define NODE(mp) container_of((mp), struct st_node, m)
#define TNODE(tp) container_of((tp), struct st_node, tn)
#define HOST(ap) container_of((ap), struct st_ent, key.addr)
#define OWNER(op) container_of((op), struct st_ent, key)

/* pinholes (the section at the end) */
static int pin_cmp(const struct ost_node *a, const struct ost_node *b);
static struct st_node *pin_node(const struct store *s, uint16_t uid);
static bool default_mac(void *arg, const struct in6_addr *a, uint8_t mac[6], unsigned *ifindex);
struct mapping;
static enum store_result prepare_pin(const struct mapping *req, unsigned flags,
				     struct mapping *cand, char *desc);
static enum store_result decide_pin(struct store *s, struct mapping *cand, unsigned flags,
				    struct st_node **ex);


/* --- small helpers --------------------------------------------------- */

static int
key_cmp(const struct st_key *k, const struct mapping *m)
{
	if (k->proto != m->proto)
		return k->proto < m->proto ? -1 : 1;
	if (k->eport != m->eport)
		return k->eport < m->eport ? -1 : 1;
	return memcmp(&k->rhost, m->rhost, sizeof(k->rhost));
}

static int
tree_cmp(const struct ost_node *a, const struct ost_node *b)
{
	const struct mapping *ma = &TNODE(a)->m;
	struct st_key k = { ma->proto, ma->eport, *ma->rhost };

	return key_cmp(&k, &TNODE(b)->m);
}

static int
tree_keycmp(const void *key, const struct ost_node *n)
{
	return key_cmp(key, &TNODE(n)->m);
}

static uint64_t
mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* Keyed with a random seed so that LAN clients cannot aim at one bucket. */
static uint64_t
hash_addr(uint64_t seed, const struct in6_addr *a, uint64_t extra)
{
	uint64_t w0, w1;

	memcpy(&w0, &a->s6_addr[0], 8);
	memcpy(&w1, &a->s6_addr[8], 8);
	return mix64(mix64(seed ^ w0) ^ w1 ^ (extra << 1));
}

static uint64_t
ihash_of(const struct store *s, uint8_t proto, const struct in6_addr *iaddr, uint16_t iport)
{
	return hash_addr(s->seed, iaddr, (uint64_t)proto << 16 | iport);
}

static struct st_node *
node_at(const struct store *s, uint32_t id)
{
	return id != 0 ? pool_at(&s->nodes, id) : NULL;
}

/* --- internal-side hash ---------------------------------------------- */
/* Open addressing with linear probing: the table holds node numbers
 * (0: free) in the low 24 bits of a slot, at most 13/16 full (100,000
 * mappings in 131,072 slots: 0.5 MiB), and a deletion shifts the rest of
 * its probe run back (no tombstones).  No chain link in every node.  The
 * high 8 bits: 3 more bits of the key's hash and the slot's distance from
 * its key's home slot (5 bits, 31 = that or more: read the node), so that
 * a probe reads only the nodes of its home and tag (a miss, as for every
 * new mapping, reads almost none) and a deletion's shift reads none. */
#define IH_ID_MASK	0xffffffu
#define IH_TAG(h)	((uint32_t)((h) >> 61) << 24)
#define IH_TAG_MASK	(7u << 24)
#define IH_DIST_SHIFT	27
#define IH_DIST_MAX	31u
/* Are count nodes too many for a table of size slots? */
#define IH_OVER(count, size)	((count) * 16 > (size) * 13)

/* The node in slot i, or NULL. */
static struct st_node *
ih_at(const struct store *s, size_t i)
{
	return node_at(s, s->ihash[i] & IH_ID_MASK);
}

static size_t ihash_home(const struct store *s, const struct st_node *n);

/* Slot j's value v with the distance of slot i from home (v moved to i). */
static uint32_t
ih_moved(uint32_t v, size_t i, size_t home, size_t mask)
{
	size_t d = (i - home) & mask;

	return (v & (IH_TAG_MASK | IH_ID_MASK)) |
	       (uint32_t)(d < IH_DIST_MAX ? d : IH_DIST_MAX) << IH_DIST_SHIFT;
}

/* The home slot of the node in slot j. */
static size_t
ih_home_at(const struct store *s, size_t j)
{
	uint32_t d = s->ihash[j] >> IH_DIST_SHIFT;

	return d < IH_DIST_MAX ? (j - d) & (s->ihash_size - 1) : ihash_home(s, ih_at(s, j));
}

/* A walk of the probe run of one key: ih_next() gives the nodes whose
 * home and tag are the key's (the key's own and a few collisions), then
 * NULL. */
struct ih_probe {
	size_t i, mask, home;
	uint32_t tag;
};

static void
ih_probe_start(const struct store *s, struct ih_probe *p, uint8_t proto,
	       const struct in6_addr *iaddr, uint16_t iport)
{
	uint64_t h = ihash_of(s, proto, iaddr, iport);

	p->mask = s->ihash_size - 1;
	p->i = p->home = h & p->mask;
	p->tag = IH_TAG(h);
}

static struct st_node *
ih_next(const struct store *s, struct ih_probe *p)
{
	uint32_t v;

	while ((v = s->ihash[p->i]) != 0) {
		size_t j = p->i, d = v >> IH_DIST_SHIFT;

		p->i = (j + 1) & p->mask;
		if ((v & IH_TAG_MASK) == p->tag &&
		    (d == IH_DIST_MAX || ((j - d) & p->mask) == p->home))
			return node_at(s, v & IH_ID_MASK);
	}
	return NULL;
}

static size_t
ihash_home(const struct store *s, const struct st_node *n)
{
	return ihash_of(s, n->m.proto, n->m.iaddr, n->m.iport) & (s->ihash_size - 1);
}

static void
ihash_put(struct store *s, struct st_node *n)
{
	uint64_t h = ihash_of(s, n->m.proto, n->m.iaddr, n->m.iport);
	size_t mask = s->ihash_size - 1, i = h & mask;

	while (s->ihash[i] != 0)
		i = (i + 1) & mask;
	s->ihash[i] = ih_moved(IH_TAG(h) | n->id, i, h & mask, mask);
}

/* The table at size nsize (a power of 2), every node put again.  0, or
 * -1 (no memory: the old table stays). */
static int
ihash_grow(struct store *s, size_t nsize)
{
	uint32_t *old = s->ihash, *t = calloc(nsize, sizeof(*t));
	size_t osize = s->ihash_size, i;

	if (t == NULL)
		return -1;
	s->ihash = t;
	s->ihash_size = nsize;
	for (i = 0; i < osize; i++)
		if (old[i] != 0)
			ihash_put(s, node_at(s, old[i] & IH_ID_MASK));
	free(old);
	return 0;
}

/* Room for one more node: 0, or -1 when the table is full and cannot
 * grow (one slot always stays free, so every probe run ends). */
static int
ihash_reserve(struct store *s)
{
	if (!IH_OVER(s->ihash_count + 1, s->ihash_size) ||
	    ihash_grow(s, s->ihash_size * 2) == 0)
		return 0;
	return s->ihash_count + 1 < s->ihash_size ? 0 : -1;	/* fuller, still correct */
}

/* Space was reserved with ihash_reserve() (or n was just taken out). */
static void
ihash_add(struct store *s, struct st_node *n)
{
	ihash_put(s, n);
	s->ihash_count++;
}

static void
ihash_del(struct store *s, struct st_node *n)
{
	size_t mask = s->ihash_size - 1, i = ihash_home(s, n), j, h;

	while ((s->ihash[i] & IH_ID_MASK) != n->id) {
		if (s->ihash[i] == 0)
			return;
		i = (i + 1) & mask;
	}
	/* Move back each later node of the run whose home is not in (i, j]:
	 * it would no longer be found past the hole at i. */
	for (j = (i + 1) & mask; s->ihash[j] != 0; j = (j + 1) & mask) {
		h = ih_home_at(s, j);
		if (((j - h) & mask) >= ((j - i) & mask)) {
			s->ihash[i] = ih_moved(s->ihash[j], i, h, mask);
			i = j;
		}
	}
	s->ihash[i] = 0;
	s->ihash_count--;
}

/* --- shared entries: hosts and owners ------------------------------- */

static uint64_t
ent_hash(const struct store *s, bool host, const struct mapping_owner *k)
{
	uint64_t n0, n1 = 0;

	memcpy(&n0, k->nonce, 8);
	memcpy(&n1, k->nonce + 8, 4);
	/* n1 mixed too: nonces that differ only in their last bytes must
	 * not share the low bits (one bucket for them all) */
	return mix64(mix64(hash_addr(s->seed, &k->addr, host ? 0x100 : (uint64_t)k->proto) ^ n0) ^ n1);
}

static bool
ent_match(const struct st_ent *e, bool host, const struct mapping_owner *k)
{
	return (e->key.proto == ENT_HOST) == host && addr_eq(&e->key.addr, &k->addr) &&
	       (host || (e->key.proto == k->proto &&
			 memcmp(e->key.nonce, k->nonce, sizeof(k->nonce)) == 0));
}

static struct st_ent *
ent_find(const struct store *s, bool host, const struct mapping_owner *k)
{
	uint32_t id = s->ehash[ent_hash(s, host, k) & (s->ehash_size - 1)];

	while (id != 0) {
		struct st_ent *e = pool_at(&s->ents, id);
		if (ent_match(e, host, k))
			return e;
		id = e->hnext;
	}
	return NULL;
}

static struct st_ent *
host_find(const struct store *s, const struct in6_addr *a)
{
	struct mapping_owner k = { .addr = *a };

	return ent_find(s, true, &k);
}

static void
ehash_grow(struct store *s)
{
	size_t nsize = s->ehash_size * 2, i;
	uint32_t *nb = calloc(nsize, sizeof(*nb)), id, next;

	if (nb == NULL)
		return;
	for (i = 0; i < s->ehash_size; i++) {
		for (id = s->ehash[i]; id != 0; id = next) {
			struct st_ent *e = pool_at(&s->ents, id);
			size_t b = ent_hash(s, e->key.proto == ENT_HOST, &e->key) & (nsize - 1);
			next = e->hnext;
			e->hnext = nb[b];
			nb[b] = id;
		}
	}
	free(s->ehash);
	s->ehash = nb;
	s->ehash_size = nsize;
}

/* The entry for k, made if new, with one more reference; NULL on ENOMEM. */
static struct st_ent *
ent_get(struct store *s, bool host, const struct mapping_owner *k)
{
	struct st_ent *e = ent_find(s, host, k);
	uint32_t id;
	size_t b;

	if (e == NULL) {
		if ((id = pool_get(&s->ents)) == 0)
			return NULL;
		e = pool_at(&s->ents, id);
		if (host) {
			e->key.addr = k->addr;
			e->key.proto = ENT_HOST;
		} else
			e->key = *k;
		if (s->ehash_count >= 2 * s->ehash_size)	/* chains of 1-2 */
			ehash_grow(s);
		b = ent_hash(s, host, &e->key) & (s->ehash_size - 1);
		e->hnext = s->ehash[b];
		s->ehash[b] = id;
		s->ehash_count++;
	}
	e->refs++;
	return e;
}

static struct st_ent *
host_get(struct store *s, const struct in6_addr *a)
{
	struct mapping_owner k = { .addr = *a };

	return ent_get(s, true, &k);
}

/* One reference less; the entry goes with its last one. */
static void
ent_put(struct store *s, struct st_ent *e)
{
	uint32_t *pp;

	if (e == NULL || --e->refs > 0)
		return;
	pp = &s->ehash[ent_hash(s, e->key.proto == ENT_HOST, &e->key) & (s->ehash_size - 1)];
	for (; *pp != 0; pp = &((struct st_ent *)pool_at(&s->ents, *pp))->hnext) {
		if (pool_at(&s->ents, *pp) == e) {
			uint32_t id = *pp;
			*pp = e->hnext;
			s->ehash_count--;
			pool_put(&s->ents, id);
			return;
		}
	}
}

static void
owner_link(struct store *s, struct st_node *n)
{
	struct st_ent *o = OWNER(n->m.owner);

	n->oprev = 0;
	n->onext = o->owned;
	if (o->owned != 0)
		node_at(s, o->owned)->oprev = n->id;
	o->owned = n->id;
}

static void
owner_unlink(struct store *s, struct st_node *n)
{
	struct st_ent *o = OWNER(n->m.owner);

	if (n->oprev != 0)
		node_at(s, n->oprev)->onext = n->onext;
	else
		o->owned = n->onext;
	if (n->onext != 0)
		node_at(s, n->onext)->oprev = n->oprev;
	n->oprev = n->onext = 0;
}

/* --- expiry heap -----------------------------------------------------
 * A heap of its own beside loop.c's timer heap, on purpose: it orders the
 * nodes by the m.expires they already hold, with a 4-byte position in the
 * node, and drives one loop timer.  A loop_timer per mapping would cost
 * about 20 more bytes a node (the 10,000-mapping memory goal of bench/) for the
 * same O(log n). */

static struct st_node *
heap_at(const struct store *s, size_t i)
{
	return pool_at(&s->nodes, s->heap[i]);
}

static void
heap_place(struct store *s, struct st_node *n, size_t i)
{
	s->heap[i] = n->id;
	n->heap_idx = (uint32_t)(i + 1) & 0xffffff;
}

static void
heap_up(struct store *s, size_t i)
{
	struct st_node *n = heap_at(s, i);

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (heap_at(s, p)->m.expires <= n->m.expires)
			break;
		heap_place(s, heap_at(s, p), i);
		i = p;
	}
	heap_place(s, n, i);
}

static void
heap_down(struct store *s, size_t i)
{
	struct st_node *n = heap_at(s, i);

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->heap_n)
			break;
		if (c + 1 < s->heap_n && heap_at(s, c + 1)->m.expires < heap_at(s, c)->m.expires)
			c++;
		if (n->m.expires <= heap_at(s, c)->m.expires)
			break;
		heap_place(s, heap_at(s, c), i);
		i = c;
	}
	heap_place(s, n, i);
}

static int
heap_reserve(struct store *s)
{
	size_t cap;
	uint32_t *h;

	if (s->heap_n < s->heap_cap)
		return 0;
	cap = s->heap_cap >= 64 ? s->heap_cap + s->heap_cap / 2 : 64;	/* x1.5: less slack */
	h = realloc(s->heap, cap * sizeof(*h));
	if (h == NULL)
		return -1;
	s->heap = h;
	s->heap_cap = cap;
	return 0;
}

static void
heap_remove(struct store *s, struct st_node *n)
{
	size_t i;
	struct st_node *moved;

	if (n->heap_idx == 0)
		return;
	i = n->heap_idx - 1;
	n->heap_idx = 0;
	s->heap_n--;
	if (i == s->heap_n)
		return;
	moved = heap_at(s, s->heap_n);
	heap_place(s, moved, i);
	heap_down(s, i);
	heap_up(s, moved->heap_idx - 1);
}

/* Space was reserved with heap_reserve(). */
static void
heap_insert(struct store *s, struct st_node *n)
{
	if (n->m.expires == 0)
		return;
	heap_place(s, n, s->heap_n++);
	heap_up(s, s->heap_n - 1);
}

static void
arm_expiry(struct store *s)
{
	struct loop *l = &s->ctx->loop;

	if (s->heap_n == 0) {
		loop_timer_cancel(l, &s->expiry_timer);
		return;
	}
	if (!loop_timer_pending(&s->expiry_timer) ||
	    s->expiry_timer.deadline != heap_at(s, 0)->m.expires)
		loop_timer_set_at(l, &s->expiry_timer, heap_at(s, 0)->m.expires);
}

/* --- linking a node into every index --------------------------------- */

/* The count of n's kind, source and protocol (store_count_source()). */
static size_t *
src_count(struct store *s, const struct mapping *m)
{
	unsigned op = (unsigned)m->owner->proto <= OWNER_PCP ? (unsigned)m->owner->proto : 0;

	return &s->n_src[mapping_is_pinhole(m)][op]
			[m->proto == IPPROTO_TCP ? 0 : m->proto == IPPROTO_UDP ? 1 : 2];
}

static struct ost *
tree_of(struct store *s, const struct mapping *m)
{
	return mapping_is_pinhole(m) ? &s->ptree : &s->tree;
}

/* The unrestricted TCP and UDP mappings by external port: find_node()'s
 * usual case without a walk down the tree, whose cache misses were most
 * of a reconcile's own CPU at 100,000 mappings (a restore's and a dump's
 * lookup for each of them).  Node numbers, 0 for none, in 2 x 65,536
 * slots: 512 KiB of address space from the start, resident as ports are
 * used.  Without it (no memory at the start) the tree alone serves. */
#define UPORT_SLOTS (2u * 65536u)
static size_t
uport_slot(uint8_t proto, uint16_t eport)
{
	return proto == IPPROTO_TCP ? eport : proto == IPPROTO_UDP ? 65536u + eport : SIZE_MAX;
}

/* n's slot, if it has one (NULL: none). */
static uint32_t *
uport_of(struct store *s, const struct st_node *n)
{
	size_t i = uport_slot(n->m.proto, n->m.eport);

	if (s->uport == NULL || i == SIZE_MAX || mapping_is_pinhole(&n->m) ||
	    !IN6_IS_ADDR_UNSPECIFIED(n->m.rhost))
		return NULL;
	return &s->uport[i];
}

/* n in the tree (linked): its slot names it; out: no longer. */
static void
uport_set(struct store *s, const struct st_node *n, bool linked)
{
	uint32_t *u = uport_of(s, n);

	if (u != NULL && linked)
		*u = n->id;
	else if (u != NULL && *u == n->id)
		*u = 0;
}

/* A node from node_new(), with heap and hash space reserved. */
static void
link_node(struct store *s, struct st_node *n)
{
	(*src_count(s, &n->m))++;
	if (ost_insert(tree_of(s, &n->m), n->id) == 0)
		uport_set(s, n, true);
	ihash_add(s, n);
	HOST(n->m.iaddr)->icount++;
	owner_link(s, n);
	heap_insert(s, n);
	s->n_pending += n->pending;
}

static void
unlink_node(struct store *s, struct st_node *n)
{
	(*src_count(s, &n->m))--;
	ost_remove(tree_of(s, &n->m), n->id);
	uport_set(s, n, false);
	ihash_del(s, n);
	heap_remove(s, n);
	owner_unlink(s, n);
	HOST(n->m.iaddr)->icount--;
	s->n_pending -= n->pending;
}

/* --- lease journal --------------------------------------------------- */

struct collect {
	const struct mapping **ms;
	size_t n;
	bool enabled_only;
	bool committed_only;		/* the lease file: no pending reservation */
};

static void
collect_one(struct ost_node *tn, void *arg)
{
	struct collect *c = arg;
	struct st_node *n = TNODE(tn);

	if ((!c->enabled_only || n->m.enabled) && !(c->committed_only && n->pending))
		c->ms[c->n++] = &n->m;
}

/* Every mapping (or every enabled one) in key order into *out (NULL when
 * there are none), then every pinhole in UniqueID order.  0, or -1 on
 * ENOMEM. */
static int
collect_all(struct store *s, bool enabled_only, const struct mapping ***out, size_t *n)
{
	struct collect c = { NULL, 0, enabled_only, !enabled_only };
	size_t count = ost_count(&s->tree) + ost_count(&s->ptree);

	*out = NULL;
	*n = 0;
	if (count == 0)
		return 0;
	c.ms = malloc(count * sizeof(*c.ms));
	if (c.ms == NULL)
		return -1;
	ost_foreach(&s->tree, collect_one, &c);
	ost_foreach(&s->ptree, collect_one, &c);
	*out = c.ms;
	*n = c.n;
	return 0;
}

/* After a failed write the lease file is rewritten on the next change,
 * and also every STORE_LEASE_RETRY_MS, so that it catches up once the
 * disk has room again even if nothing changes meanwhile. */
#define STORE_LEASE_RETRY_MS 10000

static void
lease_retry_arm(struct store *s)
{
	if (!loop_timer_pending(&s->lease_retry))
		loop_timer_set(&s->ctx->loop, &s->lease_retry, STORE_LEASE_RETRY_MS);
}

static int
journal_compact(struct store *s)
{
	const struct mapping **ms;
	size_t n;
	int r = -1;

	if (collect_all(s, false, &ms, &n) == 0) {
		r = lease_compact(s->lease, ms, n, time_mono_ms(), time_wall());
		free(ms);
	}
	if (r < 0) {
		s->stats.lease_errors++;
		lease_retry_arm(s);
	} else {
		loop_timer_cancel(&s->ctx->loop, &s->lease_retry);
	}
	return r;
}

int
store_compact(struct store *s)
{
	return s->lease != NULL ? journal_compact(s) : 0;
}

void
store_stop_compact(struct store *s)
{
	if (s != NULL && s->lease != NULL && (lease_broken(s->lease) ||
	    lease_records(s->lease) > ost_count(&s->tree) + ost_count(&s->ptree)))
		journal_compact(s);
}

static void
lease_retry_fire(struct loop_timer *t)
{
	struct store *s = container_of(t, struct store, lease_retry);

	if (s->lease != NULL && (lease_broken(s->lease) || lease_failing(s->lease)))
		journal_compact(s);
}

static bool has_fw(const struct store *s);

/* The kernel's state token now, for a mark (lease_mark_gen()): 0, or -1
 * when no mark may be written.  Not while the restore's reconcile or
 * install runs: the kernel does not hold the journal's mappings yet
 * (stale elements waiting for the read's end, missing ones for the walk
 * or the install beside the replay, which the token would wait for), and
 * a start after a stop now must not trust it; sync_done() marks it.  Nor
 * after a failed repair or lost notifications not checked since
 * (ctx->fw_suspect, fw_unverified), nor while another process's
 * change of igdd's objects waits for the daemon's look (its notification
 * read first: ctx->fw_poll; the repair marks it).  Nor while a
 * reservation waits for its upstream answer (s->n_pending): its elements
 * are in the kernel, its record is not in the journal; its confirm or roll
 * back marks.  Nothing if the backend has none. */
static int
mark_token(struct store *s, char *tok, size_t size)
{
	if (s->lease == NULL || s->sync.phase != SYNC_OFF || s->n_pending > 0 || s->ctx->fw_suspect ||
	    s->ctx->fw_unverified || !has_fw(s) || s->ops->generation == NULL ||
	    s->ops->generation(s->fw, false, tok, size) < 0)
		return -1;
	/* another process's changes before that generation: their
	 * notifications wait to be read (the daemon looks at them soon) */
	if (s->ctx->fw_poll != NULL)
		s->ctx->fw_poll(s->ctx);
	return s->ctx->fw_dirty != 0 ? -1 : 0;
}

static void
mark_write(struct store *s, const char *tok)
{
	if (lease_mark_gen(s->lease, tok) == 0) {
		(void)str_copy(s->mark, sizeof(s->mark), tok);
		s->mark_records = lease_records(s->lease);
	}
}

/* The kernel's state after the changes journaled so far, marked. */
static void
journal_mark_gen(struct store *s)
{
	char tok[FW_GEN_MAX];

	if (mark_token(s, tok, sizeof(tok)) == 0)
		mark_write(s, tok);
}

void
store_mark_kernel(struct store *s)
{
	char tok[FW_GEN_MAX];

	if (s == NULL || mark_token(s, tok, sizeof(tok)) < 0 || lease_broken(s->lease))
		return;
	/* the journal ends with this mark already (addresses unchanged) */
	if (lease_records(s->lease) == s->mark_records && strcmp(tok, s->mark) == 0)
		return;
	mark_write(s, tok);
}

/* Make the records appended so far durable, then rewrite the file when
 * it is due (or broken: that repairs a journal whose last write or sync
 * failed, and makes the changes durable after all). */
static void
journal_sync(struct store *s)
{
	journal_mark_gen(s);
	if (lease_sync(s->lease) < 0)
		s->stats.lease_errors++;
	if (lease_should_compact(s->lease, ost_count(&s->tree) + ost_count(&s->ptree)))
		journal_compact(s);
}

static void
journal(struct store *s, char op, const struct mapping *m)
{
	struct lease_record r;

	if (s->lease == NULL || s->batch.on)	/* a batch journals at its commit */
		return;
	if (!lease_broken(s->lease)) {
		memset(&r, 0, sizeof(r));
		r.op = op;
		if (mapping_is_pinhole(m))
			r.op = op == '-' ? 'p' : 'P';
		if (op == '-') {
			r.m.uid = m->uid;
			r.m.proto = m->proto;
			r.m.eport = m->eport;
			r.m.rhost = m->rhost;
		} else {
			r.m = *m;
			r.expiry_wall = lease_wall_from_mono(m->expires, time_mono_ms(), time_wall());
		}
		if (lease_append(s->lease, &r) < 0)
			s->stats.lease_errors++;
	}
	if (s->held == 0)
		journal_sync(s);
	else
		s->journaled = true;
}

/* --- descriptions ----------------------------------------------------- */

void
store_sanitize_desc(char *dst, size_t size, const char *src, size_t srclen)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t i = 0, o = 0, len;

	if (size == 0)
		return;
	while (i < srclen && p[i] != '\0') {
		len = utf8_seq_len(p + i, srclen - i);
		if (len == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			if (o + 1 >= size)
				break;
			dst[o++] = '?';
			i++;
			continue;
		}
		if (o + len >= size)
			break;	/* never cut a character in half */
		memcpy(dst + o, p + i, len);
		o += len;
		i += len;
	}
	dst[o] = '\0';
}

/* --- policy ---------------------------------------------------------- */

static bool
is_static(const struct mapping *m)
{
	return m->owner->proto == OWNER_STATIC;
}

static bool
default_in_use(void *arg, uint8_t proto, uint16_t eport)
{
	struct store *s = arg;
	int i = proto == IPPROTO_TCP ? 0 : proto == IPPROTO_UDP ? 1 : -1;

	if (i < 0)
		return false;
	if (!s->inuse_valid[i]) {
		/* the WAN interface's own address: with a relay the reported
		 * one is the upstream's */
		struct in_addr a = s->ctx->wan_addr.s_addr ? s->ctx->wan_addr : s->ctx->ext_addr;
		if (portinuse_scan(proto, a, s->inuse_bits[i]) < 0)
			log_warn("cannot read /proc/net to check ports in use");
		s->inuse_valid[i] = true;
		s->inuse_ms[i] = time_mono_ms();
	}
	return portinuse_bit(s->inuse_bits[i], eport);
}

/* A new request or hold takes a new snapshot of the sockets unless the
 * last one is younger than STORE_INUSE_TTL_MS.  A dump walks the kernel's
 * whole socket hash tables (4 x 16,384 buckets here: a tenth of a busy
 * daemon's CPU when taken for every batch of 16 requests); a socket
 * opened in the last few ms is as unknown to the check as one opened
 * just after it, which no snapshot can see. */
#define STORE_INUSE_TTL_MS	20

static void
inuse_expire(struct store *s)
{
	uint64_t now = time_mono_ms();
	int i;

	for (i = 0; i < 2; i++)
		if (now - s->inuse_ms[i] >= STORE_INUSE_TTL_MS)
			s->inuse_valid[i] = false;
}

/* Every new mapping, a manual one too: a forward of a port the gateway
 * itself serves would take that service away. */
static bool
port_in_use(struct store *s, const struct mapping *m, uint16_t eport)
{
	return s->inuse_cb != NULL && s->inuse_cb(s->inuse_arg, m->proto, eport);
}

static const uint8_t *mac_of(struct store *s, const struct in6_addr *a);

static bool
permitted(struct store *s, const struct mapping *m, uint16_t eport)
{
	const uint8_t *mac = NULL;
	char d[MAPPING_DESC_GEN_MAX];

	if (is_static(m))
		return true;
	if (perm_uses_mac(s->cfg->perms, s->cfg->n_perms))
		mac = mac_of(s, m->iaddr);
	return perm_allowed_mac(s->cfg->perms, s->cfg->n_perms, eport, m->iaddr, m->iport,
				mapping_desc(m, d), mac);
}

static struct st_node *
find_node(const struct store *s, uint8_t proto, uint16_t eport, const struct in6_addr *rhost)
{
	struct st_key k = { proto, eport, in6addr_any };
	struct ost_node *tn;
	size_t i;

	if (rhost != NULL && !addr_is_any(rhost))
		k.rhost = *rhost;
	else if (s->uport != NULL && (i = uport_slot(proto, eport)) != SIZE_MAX)
		return node_at(s, s->uport[i]);
	tn = ost_find(&s->tree, &k, tree_keycmp);
	return tn != NULL ? TNODE(tn) : NULL;
}

/* Any mapping at all on (proto, eport), whatever its remote host. */
static bool
port_taken(const struct store *s, uint8_t proto, uint16_t eport)
{
	struct st_key k = { proto, eport, in6addr_any };
	struct ost_node *tn = ost_bound(&s->tree, &k, tree_keycmp, false, NULL);

	return tn != NULL && TNODE(tn)->m.proto == proto && TNODE(tn)->m.eport == eport;
}

/* Secure mode: an external port (with its protocol) belongs to one
 * internal client at a time, whatever the remote host, so that no peer's
 * traffic is taken from one client to another by a remote-host-restricted
 * mapping (miniupnpd refuses any second mapping of a port).  Does another
 * client hold (proto, eport)?  Visits that port's mappings only. */
static bool
port_split(const struct store *s, uint8_t proto, uint16_t eport, const struct in6_addr *iaddr)
{
	struct st_key k = { proto, eport, in6addr_any };
	struct ost_node *tn = ost_bound(&s->tree, &k, tree_keycmp, false, NULL);

	while (tn != NULL) {
		const struct mapping *m = &TNODE(tn)->m;
		if (m->proto != proto || m->eport != eport)
			return false;
		if (!addr_eq(m->iaddr, iaddr))
			return true;
		k.rhost = *m->rhost;
		tn = ost_bound(&s->tree, &k, tree_keycmp, true, NULL);
	}
	return false;
}

/* The same protocol identity: only it refreshes (and, for NAT-PMP and
 * PCP, deletes) a mapping, so no protocol takes over another's.  UPnP:
 * any UPnP requester (secure mode and the internal-client check narrow
 * it); NAT-PMP: the client; PCP: the client and the nonce. */
static bool
same_identity(const struct mapping_owner *a, const struct mapping_owner *b)
{
	if (a->proto != b->proto)
		return false;
	switch (a->proto) {
	case OWNER_STATIC:
	case OWNER_UPNP:
		return true;
	case OWNER_NATPMP:
		return addr_eq(&a->addr, &b->addr);
	case OWNER_PCP:
		return addr_eq(&a->addr, &b->addr) &&
		       memcmp(a->nonce, b->nonce, sizeof(a->nonce)) == 0;
	}
	return false;
}

/* NAT-PMP and PCP never take a mapping over: another protocol's mapping
 * (or another NAT-PMP client's; with STORE_F_CHECK_NONCE another PCP
 * sender's) is a conflict like any taken port, so a suggestion moves on
 * to a free one.  A UPnP request may refresh any mapping to the same
 * internal client (a control point manages the mappings to itself; in
 * secure mode it is that client). */
static enum store_result
takeover_verdict(const struct mapping_owner *ex, const struct mapping_owner *cand, unsigned flags)
{
	if (cand->proto != OWNER_NATPMP && cand->proto != OWNER_PCP)
		return ST_OK;
	if (ex->proto != cand->proto)
		return ST_E_CONFLICT;
	if (cand->proto == OWNER_PCP && !(flags & STORE_F_CHECK_NONCE))
		return ST_OK;
	return same_identity(ex, cand) ? ST_OK : ST_E_NOT_OWNER;
}

/* May the requester refresh the existing mapping ex with cand? */
static enum store_result
refresh_verdict(const struct st_node *ex, const struct mapping *cand, unsigned flags)
{
	/* A manual forward is the administrator's: no protocol takes it
	 * over, and it takes over no protocol's mapping either. */
	if (is_static(&ex->m) != is_static(cand))
		return ST_E_CONFLICT;
	if (!addr_eq(ex->m.iaddr, cand->iaddr))
		return ST_E_CONFLICT;
	if (flags & STORE_F_NO_REFRESH)
		return ST_E_CONFLICT;
	/* A port suggestion must not take over another of the client's own
	 * mappings: only the same internal port counts as "this one". */
	if ((flags & STORE_F_ANY_PORT) && ex->m.iport != cand->iport)
		return ST_E_CONFLICT;
	if ((flags & STORE_F_CHECK_NONCE) && ex->m.owner->proto == OWNER_PCP &&
	    memcmp(ex->m.owner->nonce, cand->owner->nonce, sizeof(cand->owner->nonce)) != 0)
		return ST_E_NONCE;
	return takeover_verdict(ex->m.owner, cand->owner, flags);
}

#define STORE_LOCAL_TTL_MS	1000

/* Re-read the gateway's IPv4 addresses into s->local; on failure the
 * old list stays. */
static void
local_read(struct store *s)
{
	struct ifaddrs *ifs, *i;
	struct in_addr *list;
	size_t n = 0;

	if (getifaddrs(&ifs) < 0) {
		log_warn("getifaddrs: cannot list the gateway's own addresses");
		return;
	}
	for (i = ifs; i != NULL; i = i->ifa_next)
		n++;
	if ((list = calloc(n + 1, sizeof(*list))) != NULL) {
		n = 0;
		for (i = ifs; i != NULL; i = i->ifa_next) {
			const struct sockaddr_in *sin = (const void *)i->ifa_addr;
			if (sin != NULL && sin->sin_family == AF_INET)
				list[n++] = sin->sin_addr;
		}
		free(s->local);
		s->local = list;
		s->n_local = n;
		s->local_read_ms = time_mono_ms();
	}
	freeifaddrs(ifs);
}

static bool
default_is_local(void *arg, const struct in6_addr *a)
{
	struct store *s = arg;
	struct in_addr v4 = addr_to_v4(a);
	size_t k;

	if (!addr_is_v4(a))
		return ctx_lan_own_addr6(s->ctx, a);	/* perm_lan_host() too */
	if (s->local == NULL || time_mono_ms() - s->local_read_ms >= STORE_LOCAL_TTL_MS)
		local_read(s);
	for (k = 0; k < s->n_local; k++)
		if (s->local[k].s_addr == v4.s_addr)
			return true;
	return false;
}

/* Whatever secure_mode says, a mapping points at a host of a served LAN
 * (perm.h); fresh marks a new mapping, whose client is also looked up
 * among all the gateway's addresses (a refresh was checked when made). */
static enum store_result
client_verdict(struct store *s, const struct mapping *m, bool fresh)
{
	enum perm_host h = perm_lan_host(s->ctx, m->iaddr);
	char a[INET6_ADDRSTRLEN];

	if (h == PERM_HOST_OK && fresh && s->local_cb != NULL && s->local_cb(s->local_arg, m->iaddr))
		h = PERM_HOST_GATEWAY;
	if (h == PERM_HOST_OK)
		return ST_OK;
	log_debug("internal client %s refused: %s", addr_str(m->iaddr, a, sizeof(a)),
		  perm_host_str(h));
	return ST_E_NOT_LAN;
}

/* The served LAN of an address: an IPv4 one by its network, an IPv6 one
 * by the global or ULA prefix of a LAN interface; a link-local one (no
 * prefix says where it is) by the interface the neighbour table has it
 * on, or, with one LAN interface serving IPv6, that one (a link-local
 * requester is on a served link).  NULL: on no served LAN, or not known
 * where. */
static const struct lan_iface *
lan_of(struct store *s, const struct in6_addr *a)
{
	const struct lan_iface *only = NULL;
	uint8_t mac[6];
	unsigned ifindex, k;

	if (addr_is_v4(a))
		return ctx_lan_for_addr(s->ctx, addr_to_v4(a));
	if (!IN6_IS_ADDR_LINKLOCAL(a))
		return ctx_lan_for_addr6(s->ctx, a, 0);
	if (s->mac_cb != NULL && s->mac_cb(s->mac_arg, a, mac, &ifindex))
		return ctx_lan_by_ifindex(s->ctx, ifindex);
	for (k = 0; k < s->ctx->n_lan; k++) {
		if (s->ctx->lan[k].gone || s->ctx->lan[k].n_addr6 == 0)
			continue;
		if (only != NULL)
			return NULL;
		only = &s->ctx->lan[k];
	}
	return only;
}

/* Two LANs stay apart: a requester creates, refreshes or deletes a
 * mapping or pinhole only to an internal client on its own LAN interface,
 * unless a permission rule explicitly allows that client (the first rule
 * that matches is an allow: with no rules at all, the default "allow" is
 * not enough; port: the mapping's external port, a pinhole's port).  The
 * requester's LAN is that of its address, whatever the family (an IPv4
 * requester may open a pinhole to an IPv6 host of its LAN, an IPv6 one
 * map for an IPv4 host); a link-local requester's is where the neighbour
 * table has it, and one lan_of() cannot place is taken for another
 * LAN's.  The administrator's static mappings are exempt; so is a
 * requester on no served LAN (a lease record whose LAN went: its client
 * was checked by client_verdict()). */
static bool
lans_apart(struct store *s, const struct mapping *m, uint16_t port,
	   const struct in6_addr *requester)
{
	const struct lan_iface *li, *lr;
	const uint8_t *mac = NULL;
	char d[MAPPING_DESC_GEN_MAX];
	int k;

	if (is_static(m) || (li = lan_of(s, m->iaddr)) == NULL)
		return false;
	lr = lan_of(s, requester);
	if (lr == NULL && (s->replaying || addr_is_v4(requester) ||
			   !IN6_IS_ADDR_LINKLOCAL(requester)))
		return false;
	if (lr != NULL && li->ifindex == lr->ifindex)
		return false;
	if (perm_uses_mac(s->cfg->perms, s->cfg->n_perms))
		mac = mac_of(s, m->iaddr);
	k = perm_match_mac(s->cfg->perms, s->cfg->n_perms, port, m->iaddr, m->iport,
			   mapping_desc(m, d), mac);
	return k < 0 || !s->cfg->perms[k].allow;
}

static enum store_result
quota(const struct store *s, const struct mapping *cand)
{
	const struct config *cfg = s->cfg;
	struct st_ent *c;

	if (is_static(cand))
		return ST_OK;
	if (cfg->max_mappings != 0 &&
	    ost_count(&s->tree) + ost_count(&s->ptree) >= cfg->max_mappings)
		return ST_E_QUOTA_TOTAL;
	if (cfg->max_mappings_per_client != 0) {
		c = host_find(s, cand->iaddr);
		if (c != NULL && c->icount >= cfg->max_mappings_per_client)
			return ST_E_QUOTA_CLIENT;
	}
	return ST_OK;
}

/* Free-port search: wanted, wanted+1 .. 65535, then 1024 .. wanted-1.
 * Ranges denied by permission rules are jumped over; at most
 * search_limit candidates are looked up. */
static enum store_result
search_port(struct store *s, struct mapping *cand)
{
	const struct config *cfg = s->cfg;
	uint32_t start = cand->eport, p, end = 65535;
	unsigned tries = 0;
	bool wrapped = false, any_allowed = false;

	if (start == 0)
		start = cand->iport >= 1024 ? cand->iport : 1024;
	p = start;
	for (;;) {
		if (p > end) {
			if (wrapped || start <= 1024)
				break;
			wrapped = true;
			p = 1024;
			end = start - 1;
			continue;
		}
		if (!permitted(s, cand, (uint16_t)p)) {
			p = perm_next_boundary(cfg->perms, cfg->n_perms, (uint16_t)p);
			continue;
		}
		any_allowed = true;
		if (tries++ >= s->search_limit)
			break;
		if (!port_taken(s, cand->proto, (uint16_t)p) &&
		    !port_in_use(s, cand, (uint16_t)p)) {
			cand->eport = (uint16_t)p;
			return ST_OK;
		}
		p++;
	}
	return any_allowed ? ST_E_NO_PORT : ST_E_PERMISSION;
}

/* Validate and normalize a request into cand (its pointers stay the
 * request's; rhost points at :: for "any"); its description goes to
 * desc[MAPPING_DESC_MAX]. */
static enum store_result
prepare(const struct mapping *req, unsigned flags, struct mapping *cand, char *desc)
{
	if (req->proto == 0 || req->iport == 0 || req->iaddr == NULL || addr_is_any(req->iaddr) ||
	    (req->eport == 0 && !(flags & STORE_F_ANY_PORT)) ||
	    req->owner == NULL || (unsigned)req->owner->proto > OWNER_PCP)
		return ST_E_INVAL;
	memset(cand, 0, sizeof(*cand));
	cand->proto = req->proto;
	cand->eport = req->eport;
	cand->rhost = req->rhost != NULL && !addr_is_any(req->rhost) ? req->rhost : &in6addr_any;
	cand->iaddr = req->iaddr;
	cand->iport = req->iport;
	cand->enabled = req->enabled;
	store_sanitize_desc(desc, MAPPING_DESC_MAX, req->desc ? req->desc : "",
			    req->desc ? strlen(req->desc) : 0);
	cand->desc = desc;
	cand->owner = req->owner;
	return ST_OK;
}

/* Decide on a request; cand->eport may change (search).  *ex is the
 * mapping to refresh, or NULL for a new one. */
static enum store_result
decide(struct store *s, struct mapping *cand, unsigned flags, struct st_node **ex)
{
	enum store_result r;
	struct st_node *old;

	*ex = NULL;
	if (s->held == 0)
		inuse_expire(s);
	s->mac_valid = false;
	if (mapping_is_pinhole(cand))
		return ST_E_NOT_LAN;	/* no NAT66: IPv6 goes through store_pin_add() */
	old = cand->eport != 0 ? find_node(s, cand->proto, cand->eport, cand->rhost) : NULL;
	r = client_verdict(s, cand, old == NULL || !addr_eq(old->m.iaddr, cand->iaddr));
	if (r != ST_OK)
		return r;
	if (s->cfg->secure_mode && !is_static(cand) && !(flags & STORE_F_THIRD_PARTY) &&
	    !addr_eq(cand->iaddr, &cand->owner->addr))
		return ST_E_SECURE;
	if (lans_apart(s, cand, cand->eport, &cand->owner->addr)) {
		log_debug("internal client on another LAN than its requester, no rule allows it");
		return ST_E_PERMISSION;
	}
	if (old != NULL) {
		r = refresh_verdict(old, cand, flags);
		if (r == ST_OK && !permitted(s, cand, cand->eport))
			r = ST_E_PERMISSION;
		if (r == ST_OK) {
			*ex = old;
			return ST_OK;
		}
		if (!(flags & STORE_F_ANY_PORT))
			return r;
		if ((r = quota(s, cand)) != ST_OK)
			return r;
		return search_port(s, cand);
	}
	if ((r = quota(s, cand)) != ST_OK)
		return r;
	if (cand->eport != 0) {
		if (s->cfg->secure_mode && port_split(s, cand->proto, cand->eport, cand->iaddr))
			r = ST_E_CONFLICT;
		else if (!permitted(s, cand, cand->eport))
			r = ST_E_PERMISSION;
		else if (port_in_use(s, cand, cand->eport))
			r = ST_E_PORT_IN_USE;
		else
			return ST_OK;
		if (!(flags & STORE_F_ANY_PORT))
			return r;
	}
	return search_port(s, cand);
}

/* --- applying changes ------------------------------------------------ */

static void
notify(struct store *s, enum store_event ev, const struct mapping *m, const struct in6_addr *by,
       uint32_t lifetime, enum store_result why)
{
	struct store_change ch = { ev, m, by, lifetime, why };
	unsigned k;

	if (s->batch.on && STORE_EV_IS_CHANGE(ev))
		return;		/* told at the batch's commit, if it stays */
	for (k = 0; k < s->n_listeners; k++)
		s->listeners[k].fn(s->listeners[k].arg, &ch);
}


static bool
has_fw(const struct store *s)
{
	return s->fw != NULL && s->ops != NULL;
}

/* Room for one more change of the batch (none needed outside one): 0,
 * or -1 when memory is short. */
static int
batch_reserve(struct store *s)
{
	struct st_batch *b = &s->batch;
	struct st_change *ch;
	size_t cap;

	if (!b->on || b->n < b->cap)
		return 0;
	cap = b->cap ? b->cap * 2 : 32;
	if ((ch = realloc(b->ch, cap * sizeof(*ch))) == NULL)
		return -1;
	b->ch = ch;
	b->cap = cap;
	return 0;
}

/* Note a change made in the batch (room reserved); NULL outside one. */
static struct st_change *
batch_note(struct store *s, enum ch_kind kind, struct st_node *n, enum store_event ev)
{
	struct st_change *c;

	if (!s->batch.on)
		return NULL;
	c = &s->batch.ch[s->batch.n++];
	memset(c, 0, sizeof(*c));
	c->n = n;
	c->kind = (uint8_t)kind;
	c->ev = (uint8_t)ev;
	return c;
}

/* --- descriptions of stored mappings ----------------------------------
 * The text the daemon makes itself (NAT-PMP's and PCP's) is a tag
 * (mapping_desc_tag()): nothing stored; "" is desc_none; any other text
 * a copy of its own.  The lease file holds the text either way, and a
 * lease read back gets its tag again. */
static const char desc_none[1] = "";

static bool
desc_owned(const char *d)
{
	return d != desc_none && d != mapping_desc_tags[MAPPING_DESC_NATPMP] &&
	       d != mapping_desc_tags[MAPPING_DESC_PCP];
}

/* What m (its internal port and protocol final) keeps for text; NULL
 * when memory is short. */
static const char *
desc_store(const struct mapping *m, const char *text)
{
	const char *tag = text[0] != '\0' ? mapping_desc_tag(m, text) : desc_none;

	return tag != NULL ? tag : strdup(text);
}

static void
desc_drop(const char *d)
{
	if (desc_owned(d))
		free((char *)d);
}

/* A node for cand, its addresses and owner shared entries, its
 * description (desc_store()) and room in the expiry heap; NULL (holding
 * nothing) when memory is short. */
static struct st_node *
node_new(struct store *s, const struct mapping *cand)
{
	uint32_t id = pool_get(&s->nodes);
	struct st_node *n = node_at(s, id);
	struct st_ent *ih, *rh = NULL, *ow;

	if (n == NULL)
		return NULL;
	if (id > IH_ID_MASK) {		/* the hash's and the heap's 24 bits */
		pool_put(&s->nodes, id);
		return NULL;
	}
	n->id = id;
	n->m = *cand;
	if ((n->m.desc = desc_store(cand, cand->desc)) == NULL) {
		pool_put(&s->nodes, id);
		return NULL;
	}
	ih = host_get(s, cand->iaddr);
	if (cand->rhost != &in6addr_any)
		rh = host_get(s, cand->rhost);
	ow = ent_get(s, false, cand->owner);
	if (ih == NULL || (cand->rhost != &in6addr_any && rh == NULL) || ow == NULL ||
	    heap_reserve(s) < 0 || ihash_reserve(s) < 0) {
		ent_put(s, ih);
		ent_put(s, rh);
		ent_put(s, ow);
		desc_drop(n->m.desc);
		pool_put(&s->nodes, id);
		return NULL;
	}
	n->m.iaddr = &ih->key.addr;
	n->m.rhost = rh != NULL ? &rh->key.addr : &in6addr_any;
	n->m.owner = &ow->key;
	return n;
}

/* Free a node (out of every index) and its references. */
static void
node_free(struct store *s, struct st_node *n)
{
	desc_drop(n->m.desc);
	ent_put(s, HOST(n->m.iaddr));
	if (n->m.rhost != &in6addr_any)
		ent_put(s, HOST(n->m.rhost));
	ent_put(s, OWNER(n->m.owner));
	pool_put(&s->nodes, n->id);
}

enum peer_kind { PEER_ANY, PEER_SAME_RHOST, PEER_BEFORE };

/* Another enabled mapping than n with m's internal side (protocol,
 * address, port): any one, one with m's remote host (and a pinhole's
 * remote port) too (it needs the same forward element; a pinhole's one
 * element), or one before n in key order.  Walks one probe
 * run of the internal-side index, which holds every mapping to that
 * internal address and port. */
static const struct st_node *
internal_peer(const struct store *s, const struct st_node *n, const struct mapping *m,
	      enum peer_kind k)
{
	struct ih_probe p;
	const struct st_node *o;

	/* Stored mappings share address entries: equal is the same pointer. */
	for (ih_probe_start(s, &p, m->proto, m->iaddr, m->iport); (o = ih_next(s, &p)) != NULL;) {
		/* (a reservation whose elements are lost holds none) */
		if (o == n || !o->m.enabled || o->fw_lost || o->m.proto != m->proto ||
		    o->m.iport != m->iport || o->m.iaddr != m->iaddr)
			continue;
		if ((k == PEER_SAME_RHOST && (o->m.rhost != m->rhost || o->m.rport != m->rport)) ||
		    (k == PEER_BEFORE && tree_cmp(&o->tn, &n->tn) > 0))
			continue;
		return o;
	}
	return NULL;
}

/* What n's mapping m (n's own, or what it becomes) shares with the other
 * mappings of its internal side: for an add, whether one of them holds
 * the SNAT element already (how: PEER_ANY, or PEER_BEFORE when they are
 * installed one by one in key order); for a delete, whether another needs
 * the forward element, and which one takes the SNAT element over. */
static struct fw_share
share_add(const struct store *s, const struct st_node *n, const struct mapping *m,
	  enum peer_kind how)
{
	struct fw_share sh = { .snat = internal_peer(s, n, m, how) != NULL };

	return sh;
}

static struct fw_share
share_del(const struct store *s, const struct st_node *n, const struct mapping *m)
{
	const struct st_node *heir = internal_peer(s, n, m, PEER_ANY);
	struct fw_share sh = {
		.forward = internal_peer(s, n, m, PEER_SAME_RHOST) != NULL,
		.snat_heir = heir != NULL ? &heir->m : NULL,
	};

	return sh;
}

static bool sync_snat_known(const struct store *s, const struct st_node *n,
			    const struct mapping *m);
static void sync_client_add(struct store *s, const struct st_node *n, const struct mapping *m,
			    bool shared);
static void sync_pend_drop(struct store *s, const struct mapping *m, bool snat);
static void sync_client_del(struct store *s, const struct mapping *m,
			    const struct mapping *heir);

static int
fw_add(struct store *s, const struct st_node *n, const struct mapping *m)
{
	struct fw_share sh = share_add(s, n, m, PEER_ANY);

	/* the reconcile's walk: a side whose SNAT element is not back yet */
	if (sh.snat && s->sync.phase == SYNC_ADD && s->sync.snat && !sync_snat_known(s, n, m))
		sh.snat = false;
	if (s->ops->add(s->fw, m, &sh) < 0)
		return -1;
	sync_client_add(s, n, m, sh.snat);
	return 0;
}

static int
fw_del(struct store *s, const struct st_node *n, const struct mapping *m)
{
	struct fw_share sh = share_del(s, n, m);

	if (s->ops->del(s->fw, m, &sh) < 0)
		return -1;
	sync_client_del(s, m, sh.snat_heir);
	return 0;
}

static void announce_added(struct store *s, struct st_node *n);

/* A new mapping, in the kernel and the indexes; with reserve it stays
 * pending (no journal record, no listener told) until store_confirm(). */
static enum store_result
insert_new(struct store *s, const struct mapping *cand, bool reserve, struct mapping **out)
{
	struct st_node *n = node_new(s, cand);
	struct st_change *c;

	if (n == NULL || batch_reserve(s) < 0) {
		if (n != NULL)
			node_free(s, n);
		return ST_E_NOMEM;
	}
	n->m.created = time_wall();
	if (has_fw(s) && n->m.enabled && fw_add(s, n, &n->m) < 0) {
		log_warn("firewall refused %s %u", proto_name(n->m.proto), n->m.eport);
		s->stats.fw_errors++;
		node_free(s, n);
		return ST_E_FIREWALL;
	}
	n->pending = reserve;
	link_node(s, n);
	if ((c = batch_note(s, CH_ADD, n, STORE_EV_ADDED)) != NULL)
		c->quiet = reserve;	/* told at store_confirm() */
	arm_expiry(s);
	if (out != NULL)
		*out = &n->m;
	if (!reserve)
		announce_added(s, n);
	return ST_OK;
}

/* A refresh's lease record, count and listeners; a reservation stays
 * one: store_confirm() tells the rest. */
static void
announce_refreshed(struct store *s, struct st_node *n, bool changed)
{
	if (n->pending)
		return;
	journal(s, '+', &n->m);
	s->stats.refreshed++;
	s->renewed += !changed;
	notify(s, changed ? STORE_EV_CHANGED : STORE_EV_RENEWED, &n->m, &n->m.owner->addr,
	       store_lease_left(s, &n->m), ST_OK);
}

/* Change the kernel from n's mapping to upd.  0, or -1 with the kernel as
 * before.  Every refresh goes to the backend: it renews the kernel
 * element's timeout. */
static int
fw_replace(struct store *s, const struct st_node *n, const struct mapping *upd)
{
	const struct mapping *old = &n->m;
	bool changed = old->iaddr != upd->iaddr || old->iport != upd->iport;

	if (!has_fw(s))
		return 0;
	if (old->enabled && upd->enabled && !changed)
		return fw_add(s, n, upd);
	if (old->enabled && fw_del(s, n, old) < 0)
		return -1;
	if (upd->enabled && fw_add(s, n, upd) < 0) {
		if (old->enabled && fw_add(s, n, old) < 0)
			log_warn("firewall: could not restore %s %u after a failed replace",
				 proto_name(old->proto), old->eport);
		return -1;
	}
	return 0;
}

static enum store_result
refresh(struct store *s, struct st_node *n, const struct mapping *cand, struct mapping **out)
{
	struct mapping upd = n->m;
	struct st_ent *ow = OWNER(n->m.owner);
	char dbuf[MAPPING_DESC_GEN_MAX];
	bool rehash = upd.iport != cand->iport;
	bool new_desc = strcmp(mapping_desc(&n->m, dbuf), cand->desc) != 0;
	bool changed = rehash || new_desc || upd.enabled != cand->enabled;
	/* a tag's text follows the internal port: stored again when it moves */
	bool keep_desc = new_desc || (rehash && !desc_owned(n->m.desc) && n->m.desc != desc_none);
	const char *long_desc = NULL;	/* what upd keeps for the new text */
	struct st_change *c;

	upd.iport = cand->iport;
	upd.enabled = cand->enabled;
	upd.expires = cand->expires;
	if (keep_desc && (long_desc = desc_store(&upd, cand->desc)) == NULL)
		return ST_E_NOMEM;
	/* The same owner entry, or a new reference (another protocol,
	 * address or nonce now holds the mapping). */
	if (!ent_match(ow, false, cand->owner) && (ow = ent_get(s, false, cand->owner)) == NULL) {
		desc_drop(long_desc);
		return ST_E_NOMEM;
	}
	upd.owner = &ow->key;
	changed |= upd.owner != n->m.owner;
	if ((n->heap_idx == 0 && upd.expires != 0 && heap_reserve(s) < 0) || batch_reserve(s) < 0) {
		if (upd.owner != n->m.owner)
			ent_put(s, ow);
		desc_drop(long_desc);
		return ST_E_NOMEM;
	}
	if (fw_replace(s, n, &upd) < 0) {
		log_warn("firewall refused to update %s %u", proto_name(upd.proto), upd.eport);
		s->stats.fw_errors++;
		if (upd.owner != n->m.owner)
			ent_put(s, ow);
		desc_drop(long_desc);
		return ST_E_FIREWALL;
	}
	if ((c = batch_note(s, CH_REFRESH, n, changed ? STORE_EV_CHANGED : STORE_EV_RENEWED)) != NULL) {
		c->old = n->m;
		c->old_desc = keep_desc ? n->m.desc : NULL;	/* held until the commit */
		c->old_idle_seen = n->idle_seen;
		c->old_fw_lost = n->fw_lost;
		c->owner_moved = upd.owner != n->m.owner;
		c->quiet = n->pending;	/* a reservation: confirm tells */
	}
	n->fw_lost = false;	/* its elements are in again (a reservation's) */
	if (keep_desc) {
		if (!s->batch.on)
			desc_drop(n->m.desc);
		upd.desc = long_desc;
	}
	if (rehash)
		ihash_del(s, n);
	if (upd.owner != n->m.owner) {
		struct st_ent *prev = OWNER(n->m.owner);
		(*src_count(s, &n->m))--;
		owner_unlink(s, n);
		n->m.owner = upd.owner;
		owner_link(s, n);
		(*src_count(s, &n->m))++;
		if (!s->batch.on)	/* else the change holds it until the commit */
			ent_put(s, prev);
	}
	heap_remove(s, n);
	n->m = upd;
	n->idle_seen = false;	/* in use again: a fresh idle interval */
	heap_insert(s, n);
	if (rehash)
		ihash_add(s, n);
	arm_expiry(s);
	if (out != NULL)
		*out = &n->m;
	announce_refreshed(s, n, changed);
	return ST_OK;
}

/* DEL_REFUSED: the kernel refused to install it (nothing of it is there);
 * DEL_RULES, DEL_NOT_LAN: a reload's policy no longer allows it;
 * DEL_ROLLBACK: a reservation that is not kept (store_rollback()). */
enum store_del_why { DEL_ASKED, DEL_EXPIRED, DEL_IDLE, DEL_REFUSED, DEL_RULES, DEL_NOT_LAN,
		     DEL_ROLLBACK };

/* Delete n; by: who asked (NULL: the daemon).  A pending reservation is
 * its reserver's: only store_rollback() removes it (nobody else was told
 * of it), every other delete finds nothing. */
static enum store_result
delete_node(struct store *s, struct st_node *n, enum store_del_why why,
	    const struct in6_addr *by)
{
	static const enum store_event ev[] = {
		[DEL_ASKED] = STORE_EV_DELETED, [DEL_EXPIRED] = STORE_EV_EXPIRED,
		[DEL_IDLE] = STORE_EV_IDLE, [DEL_REFUSED] = STORE_EV_DELETED,
		[DEL_RULES] = STORE_EV_POLICY, [DEL_NOT_LAN] = STORE_EV_POLICY,
		[DEL_ROLLBACK] = STORE_EV_DELETED,	/* never told (quiet) */
	};
	bool policy = why == DEL_RULES || why == DEL_NOT_LAN;
	struct st_change *c;

	if (n->pending != (why == DEL_ROLLBACK))
		return ST_E_NOT_FOUND;
	if (batch_reserve(s) < 0)
		return ST_E_NOMEM;
	if (has_fw(s) && n->m.enabled && why != DEL_REFUSED && fw_del(s, n, &n->m) < 0) {
		s->stats.fw_errors++;
		log_warn("firewall refused to delete %s %u", proto_name(n->m.proto), n->m.eport);
		/* A lease that is over goes anyway: the kernel most likely
		 * lost it already, and keeping it would retry forever.  Its
		 * elements may be left: no journal mark until a re-install
		 * (paced) flushes them (ctx->fw_suspect). */
		if (why == DEL_ASKED || policy)
			return ST_E_FIREWALL;
		if (!s->batch.on)	/* a batch's failure is undone whole */
			s->ctx->fw_suspect = true;
	}
	unlink_node(s, n);
	if (why != DEL_ROLLBACK)
		journal(s, '-', &n->m);
	arm_expiry(s);
	switch (why) {
	case DEL_ASKED: case DEL_REFUSED: s->stats.deleted++; break;
	case DEL_EXPIRED: s->stats.expired++; break;
	case DEL_IDLE: s->stats.idle_removed++; break;
	case DEL_RULES: case DEL_NOT_LAN: s->stats.policy_removed++; break;
	case DEL_ROLLBACK: break;
	}
	if (why != DEL_ROLLBACK)
		notify(s, ev[why], &n->m, by, 0, !policy ? ST_OK :
		       why == DEL_RULES ? ST_E_PERMISSION : ST_E_NOT_LAN);
	if ((c = batch_note(s, CH_DEL, n, ev[why])) != NULL) {
		c->quiet = why == DEL_ROLLBACK;	/* nobody was told of it */
		c->has_by = by != NULL;
		if (by != NULL)
			c->by = *by;
		return ST_OK;	/* the node is kept until the batch's commit */
	}
	node_free(s, n);
	return ST_OK;
}

/* --- batches ---------------------------------------------------------- */

/* Take back one change of a refused batch (the batch's later changes are
 * taken back already: the indexes are as right after this one). */
static void
batch_undo(struct store *s, struct st_change *c)
{
	struct st_node *n = c->n;
	const char *d = n->m.desc;
	const struct mapping_owner *o = n->m.owner;
	bool rehash = n->m.iport != c->old.iport;

	switch (c->kind) {
	case CH_ADD:
		unlink_node(s, n);
		node_free(s, n);
		return;
	case CH_DEL:
		link_node(s, n);	/* its room in the indexes is still there */
		return;
	case CH_CONFIRM:
		n->pending = true;
		s->n_pending++;
		return;
	}
	if (rehash)
		ihash_del(s, n);
	if (c->owner_moved) {
		(*src_count(s, &n->m))--;
		owner_unlink(s, n);
		ent_put(s, OWNER(o));
		o = c->old.owner;
		n->m.owner = o;
		owner_link(s, n);
		(*src_count(s, &n->m))++;
	}
	if (c->old_desc != NULL) {
		desc_drop(d);
		d = c->old_desc;
		c->old_desc = NULL;
	}
	heap_remove(s, n);
	n->m = c->old;
	n->m.desc = d;
	n->m.owner = o;
	n->idle_seen = c->old_idle_seen;
	n->fw_lost = c->old_fw_lost;
	n->kseen = 0;	/* a reconcile's walk adds it again: the marks were the change's */
	heap_insert(s, n);
	if (rehash)
		ihash_add(s, n);
}

/* The kernel took the batch: each change's lease record and listeners,
 * in order, then what the changes kept alive goes. */
static void
batch_tell(struct store *s)
{
	struct st_batch *b = &s->batch;
	size_t i;

	if (s->lease != NULL)
		lease_group_begin(s->lease);	/* the batch's records, one write */
	for (i = 0; i < b->n; i++) {
		struct st_change *c = &b->ch[i];
		const struct mapping *m = &c->n->m;

		if (c->quiet)
			continue;
		journal(s, c->kind == CH_DEL ? '-' : '+', m);
		if (c->kind == CH_DEL)
			notify(s, c->ev, m, c->has_by ? &c->by : NULL, 0, ST_OK);
		else
			notify(s, c->ev, m, &m->owner->addr, store_lease_left(s, m), ST_OK);
	}
	if (s->lease != NULL && lease_group_end(s->lease) < 0)
		s->stats.lease_errors++;
	for (i = 0; i < b->n; i++) {
		struct st_change *c = &b->ch[i];

		if (c->kind == CH_DEL)
			node_free(s, c->n);
		if (c->owner_moved)
			ent_put(s, OWNER(c->old.owner));
		desc_drop(c->old_desc);
	}
}

/* The end of a batch: its kernel changes in one transaction; if the
 * kernel refuses it, every change of the batch is taken back (last first)
 * and -1 returned. */
static int
batch_end(struct store *s)
{
	struct st_batch *b = &s->batch;
	size_t i;
	int r = 0;

	b->on = false;
	if (s->ops->flush(s->fw) < 0) {
		log_warnx("firewall refused a transaction of %zu changes: taken back, each "
			  "made again on its own", b->n);
		s->stats = b->stats;
		s->renewed = b->renewed;
		s->stats.fw_errors++;
		for (i = b->n; i-- > 0;)
			batch_undo(s, &b->ch[i]);
		arm_expiry(s);
		r = -1;
	} else {
		batch_tell(s);
	}
	/* what the backend read of other processes' changes with it (the
	 * socket no longer wakes the loop for that) */
	if (s->ctx->fw_poll != NULL)
		s->ctx->fw_poll(s->ctx);
	b->n = 0;
	if (b->cap > 1024) {	/* a mass change (expiry) keeps no big array */
		free(b->ch);
		b->ch = NULL;
		b->cap = 0;
	}
	return r;
}

static void
log_dropped(const struct mapping *m, const char *why, const char *what)
{
	char a[INET6_ADDRSTRLEN];

	log_info("lease %s %u -> %s:%u: %s, %s", proto_name(m->proto), m->eport,
		 addr_str(m->iaddr, a, sizeof(a)), m->iport, why, what);
}

/* Install every enabled mapping in one transaction.  When the kernel
 * refuses it (a full set, a kernel limit), install them one by one and
 * drop, logged, each one it refuses, so that the store, the lease file
 * and the kernel still hold the same mappings; a reservation is its
 * reserver's, not dropped: marked (fw_lost), it is refused at its
 * confirm, unless a later install puts it back.  One transaction per
 * mapping only on that path; an add whose answer never came (ETIMEDOUT,
 * ENOBUFS: the kernel may hold it) drops its mapping too, and sets the
 * doubt of a failed repair (ctx->fw_suspect): no journal mark, and the
 * paced re-install's flush removes what it may have left.  0, or -1 when
 * not even that could be done. */
static int
install_or_drop(struct store *s)
{
	const struct mapping **ms;
	size_t n, i, dropped = 0, lost = 0;

	if (collect_all(s, true, &ms, &n) < 0)
		return -1;
	if (s->ops->install_all(s->fw, ms, n) == 0) {
		for (i = 0; i < n; i++)	/* every element is back */
			NODE((struct mapping *)(uintptr_t)ms[i])->fw_lost = false;
		free(ms);
		return 0;
	}
	s->stats.fw_errors++;
	log_warn("firewall refused %zu mappings in one transaction; installing them one by one", n);
	if (s->ops->install_all(s->fw, NULL, 0) < 0) {
		free(ms);
		return -1;
	}
	store_hold(s);
	for (i = 0; i < n; i++) {
		struct st_node *nd = NODE((struct mapping *)(uintptr_t)ms[i]);
		/* in key order: the SNAT element is the first installed one's */
		struct fw_share sh = share_add(s, nd, &nd->m, PEER_BEFORE);
		bool unknown;

		if (s->ops->add(s->fw, &nd->m, &sh) == 0) {
			nd->fw_lost = false;
			continue;
		}
		unknown = errno == ETIMEDOUT || errno == ENOBUFS;
		s->ctx->fw_suspect |= unknown;
		s->stats.fw_errors++;
		if (nd->pending) {	/* its reserver's */
			log_dropped(&nd->m, unknown ? "no answer from the kernel" :
				    "refused by the kernel", "refused when confirmed");
			nd->fw_lost = true;
			lost++;
			continue;
		}
		log_dropped(&nd->m, unknown ? "no answer from the kernel" : "refused by the kernel",
			    "dropped");
		delete_node(s, nd, DEL_REFUSED, NULL);
		dropped++;
	}
	store_commit(s);
	free(ms);
	if (lost == 0)
		log_warnx("firewall: %zu of %zu mappings installed, %zu dropped", n - dropped, n,
			  dropped);
	else
		log_warnx("firewall: %zu of %zu mappings installed, %zu dropped, %zu waiting for "
			  "the upstream to be refused", n - dropped - lost, n, dropped, lost);
	return 0;
}

/* --- public API ------------------------------------------------------ */

const char *
store_strerror(enum store_result r)
{
	switch (r) {
	case ST_OK: return "success";
	case ST_E_INVAL: return "invalid request";
	case ST_E_NOT_FOUND: return "no such mapping";
	case ST_E_CONFLICT: return "mapping held by another client";
	case ST_E_NONCE: return "mapping held with another nonce";
	case ST_E_PERMISSION: return "denied by permission rules";
	case ST_E_SECURE: return "secure mode: internal client is not the requester";
	case ST_E_PORT_IN_USE: return "external port in use on the gateway";
	case ST_E_QUOTA_CLIENT: return "too many mappings for this client";
	case ST_E_QUOTA_TOTAL: return "too many mappings";
	case ST_E_NO_PORT: return "no free external port";
	case ST_E_FIREWALL: return "firewall refused the change";
	case ST_E_NOMEM: return "out of memory";
	case ST_E_NOT_OWNER: return "not the owner of this mapping";
	case ST_E_NOT_LAN: return "internal client is not a host on a served LAN";
	}
	return "unknown error";
}

static void
expiry_fire(struct loop_timer *t)
{
	struct store *s = container_of(t, struct store, expiry_timer);

	store_expire_now(s, time_mono_ms());
}

static void
idle_fire(struct loop_timer *t)
{
	struct store *s = container_of(t, struct store, idle_timer);

	store_idle_pass(s);
	loop_timer_set(&s->ctx->loop, &s->idle_timer, (uint64_t)s->cfg->clean_ruleset_interval * 1000u);
}

struct store *
store_new(struct igdd_ctx *ctx, const struct fw_ops *ops, struct fw *fw)
{
	struct store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->ctx = ctx;
	s->cfg = &ctx->cfg;
	s->ops = ops;
	s->fw = fw;
	if (getrandom(&s->seed, sizeof(s->seed), GRND_NONBLOCK) != (ssize_t)sizeof(s->seed))
		s->seed = (uint64_t)time_mono_ms() ^ (uint64_t)(uintptr_t)s ^ (uint64_t)getpid();
	pool_init(&s->nodes, sizeof(struct st_node));
	pool_init(&s->ents, sizeof(struct st_ent));
	ost_init(&s->tree, tree_cmp, &s->nodes, offsetof(struct st_node, tn));
	ost_init(&s->ptree, pin_cmp, &s->nodes, offsetof(struct st_node, tn));
	s->mac_cb = default_mac;
	s->mac_arg = s;
	s->ihash_size = s->ehash_size = 64;
	s->ihash = calloc(s->ihash_size, sizeof(*s->ihash));
	s->ehash = calloc(s->ehash_size, sizeof(*s->ehash));
	s->uport = calloc(UPORT_SLOTS, sizeof(*s->uport));
	if (s->ihash == NULL || s->ehash == NULL) {
		store_free(s);
		return NULL;
	}
	s->expiry_timer.cb = expiry_fire;
	s->idle_timer.cb = idle_fire;
	s->lease_retry.cb = lease_retry_fire;
	s->inuse_cb = default_in_use;
	s->inuse_arg = s;
	s->local_cb = default_is_local;
	s->local_arg = s;
	s->search_limit = STORE_SEARCH_LIMIT;
	/* A lease file that cannot be used safely is fatal: igdd does not
	 * run without the persistence it was told to keep. */
	if (s->cfg->lease_file[0] != '\0' && (s->lease = lease_open(s->cfg->lease_file)) == NULL) {
		store_free(s);
		return NULL;
	}
	if (s->cfg->clean_ruleset_interval > 0)
		loop_timer_set(&ctx->loop, &s->idle_timer,
			       (uint64_t)s->cfg->clean_ruleset_interval * 1000u);
	return s;
}

static void
free_node(struct ost_node *tn, void *arg)
{
	uport_set(arg, TNODE(tn), false);
	node_free(arg, TNODE(tn));
}

/* Every node and so every shared entry (their last references). */
static void
drop_all(struct store *s)
{
	ost_clear(&s->tree, free_node, s);
	ost_clear(&s->ptree, free_node, s);
	if (s->ihash != NULL)
		memset(s->ihash, 0, s->ihash_size * sizeof(*s->ihash));
	s->ihash_count = 0;
	s->heap_n = 0;
	loop_timer_cancel(&s->ctx->loop, &s->expiry_timer);
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	loop_timer_cancel(&s->ctx->loop, &s->idle_timer);
	loop_timer_cancel(&s->ctx->loop, &s->lease_retry);
	loop_timer_cancel(&s->ctx->loop, &s->sync.timer);
	free(s->sync.gone);
	free(s->sync.pend);
	if (s->ehash != NULL)
		drop_all(s);
	loop_timer_cancel(&s->ctx->loop, &s->expiry_timer);
	lease_close(s->lease);
	free(s->ihash);
	free(s->uport);
	free(s->ehash);
	free(s->heap);
	pool_clear(&s->nodes);
	pool_clear(&s->ents);
	free(s->local);
	free(s->batch.ch);
	free(s);
}

/* The lifetime (s, 0 = none) a restored lease still has: what is left of
 * it, bounded as a live request of its protocol would be (no protocol
 * asks for more than 2^32 - 1 s; NAT-PMP and PCP by max_lifetime too,
 * and they have no permanent mappings).  Expired: -1. */
static int64_t
restore_lifetime(const struct store *s, const struct lease_record *r, int64_t now_wall)
{
	bool pmp = r->owner.proto == OWNER_NATPMP || r->owner.proto == OWNER_PCP;
	int64_t left;

	if (r->expiry_wall == 0 && !pmp)
		return 0;
	if (r->expiry_wall != 0 && r->expiry_wall <= now_wall)
		return -1;
	left = r->expiry_wall == 0 || r->expiry_wall - now_wall > (int64_t)UINT32_MAX ?
	       (int64_t)UINT32_MAX : r->expiry_wall - now_wall;
	if (pmp && s->cfg->max_lifetime != 0 && left > (int64_t)s->cfg->max_lifetime)
		left = s->cfg->max_lifetime;
	return left;
}

/* A change of the replay to the install beside it (piping: fw_ops.pipe_*):
 * n's add, or the delete of a mapping that a later record superseded,
 * with what it shares with the mappings replayed so far (all of them in
 * the install too: the same as a client's change then).  A change it
 * cannot take fails the install (the store installs everything after the
 * replay instead): nothing more is sent. */
static void
replay_pipe(struct store *s, const struct st_node *n, bool add)
{
	struct fw_share sh;

	if (!s->piping || !n->m.enabled)
		return;
	sh = add ? share_add(s, n, &n->m, PEER_ANY) : share_del(s, n, &n->m);
	if (s->ops->pipe_change(s->fw, &n->m, &sh, add) < 0)
		s->piping = false;
}

/* A lease record the restore dropped (its lease ended, or today's policy
 * refuses it): its elements may still be in the kernel. */
static void
restore_gone(struct store *s, const struct mapping *m)
{
	struct st_sync *y = &s->sync;
	struct st_gone *g;

	if (y->n_gone == y->cap_gone) {
		size_t cap = y->cap_gone ? y->cap_gone * 2 : 64;
		if ((g = realloc(y->gone, cap * sizeof(*g))) == NULL)
			return;	/* the element ends with its kernel timeout */
		y->gone = g;
		y->cap_gone = cap;
	}
	g = &y->gone[y->n_gone++];
	g->rhost = *m->rhost;
	g->iaddr = *m->iaddr;
	g->eport = m->eport;
	g->iport = m->iport;
	g->rport = m->rport;
	g->proto = m->proto;
}

/* Replay one journal record into the indexes (no backend, no journal):
 * the last record of a key replaces what came before, and a '+' record
 * is decided as a new live request of its owner would be today (LAN
 * host, secure mode, quotas, permission rules, ports in use, lifetime
 * bounds), so a lease file cannot bring back what igdd would refuse. */
static void
restore_record(void *arg, const struct lease_record *r)
{
	struct store *s = arg;
	bool pin = r->op == 'P' || r->op == 'p';
	struct st_node *old = pin ? pin_node(s, r->m.uid)
				  : find_node(s, r->m.proto, r->m.eport, r->m.rhost), *n, *ex;
	unsigned flags = 0;
	struct mapping cand;
	char desc[MAPPING_DESC_MAX];
	enum store_result res;
	int64_t life, now = s->replay_wall;

	if (old != NULL) {
		replay_pipe(s, old, false);
		unlink_node(s, old);
		node_free(s, old);
		s->replay_stale++;	/* superseded by this record */
	}
	s->mac_valid = false;
	if (r->op != '+' && r->op != 'P') {
		s->replay_stale++;
		return;
	}
	if ((life = restore_lifetime(s, r, now)) < 0) {
		s->replay_stale++;
		restore_gone(s, &r->m);
		return;
	}
	/* PCP THIRD_PARTY maps for another host where that is allowed. */
	if (r->owner.proto == OWNER_PCP && s->cfg->pcp_allow_thirdparty)
		flags |= STORE_F_THIRD_PARTY;
	res = pin ? prepare_pin(&r->m, flags, &cand, desc) : prepare(&r->m, flags, &cand, desc);
	if (res == ST_OK)
		res = pin ? decide_pin(s, &cand, flags, &ex) : decide(s, &cand, flags, &ex);
	if (res == ST_OK && pin && ex != NULL)
		res = ST_E_CONFLICT;	/* the same pinhole twice in the journal */
	if (res != ST_OK) {
		s->replay_stale++;
		log_dropped(&r->m, store_strerror(res), "dropped");
		restore_gone(s, &r->m);
		return;
	}
	/* held otherwise than written (lifetime bounded, description
	 * cleaned): the journal is rewritten at the restore's end */
	if (life != (r->expiry_wall != 0 ? r->expiry_wall - now : 0) || strcmp(desc, r->desc) != 0)
		s->replay_stale++;
	cand.created = r->m.created;
	cand.expires = life != 0 ? s->replay_mono + (uint64_t)life * 1000u : 0;
	if (pin)
		cand.uid = r->m.uid;	/* its UniqueID, not the one decide_pin() chose */
	n = node_new(s, &cand);
	if (n == NULL) {
		s->stats.lease_errors++;
		s->replay_stale++;
		return;
	}
	link_node(s, n);
	replay_pipe(s, n, true);
	if (pin && r->m.uid >= s->next_uid)
		s->next_uid = (uint16_t)(r->m.uid + 1);	/* new UniqueIDs after it */
}

/* Room in the internal-side hash and the expiry heap for n mappings, in
 * one go (a restore: no rehash after rehash as they come). */
static void
reserve_for(struct store *s, size_t n)
{
	while (IH_OVER(n + 1, s->ihash_size) && ihash_grow(s, s->ihash_size * 2) == 0)
		;
	if (n > s->heap_cap && n >= 64) {
		uint32_t *h = realloc(s->heap, n * sizeof(*h));
		if (h != NULL) {
			s->heap = h;
			s->heap_cap = n;
		}
	}
}

/* The internal-side hash at the size growth would have given it. */
static void
ihash_fit(struct store *s)
{
	size_t fit = s->ihash_size;

	while (fit > 64 && !IH_OVER(s->ihash_count + 1, fit / 2))
		fit /= 2;
	if (fit < s->ihash_size)
		ihash_grow(s, fit);
}

/* Replay the lease file into the store (no kernel).  Count, or -1. */
static int
restore_leases(struct store *s)
{
	int r;

	/* Room for every '+' record: no rehash of the table in the middle
	 * of the replay; a journal of many refreshes makes it too big, so
	 * it is fitted to what came back afterwards. */
	if (s->lease != NULL)
		reserve_for(s, lease_adds(s->lease));
	store_hold(s);		/* one socket snapshot for every record */
	s->replaying = true;
	s->replay_wall = time_wall();
	s->replay_mono = time_mono_ms();
	r = s->lease != NULL ? lease_restore(s->lease, restore_record, s) : 0;
	s->replaying = false;
	s->replay_records = s->lease != NULL ? lease_records(s->lease) : 0;
	ihash_fit(s);
	s->held--;		/* nothing journaled: no sync */
	return r;
}

/* The kernel as the store says, the old way: flush and add everything in
 * one transaction, or one by one dropping what the kernel refuses
 * (install_or_drop()).  0, or -1 (the store emptied). */
static int
restore_install(struct store *s)
{
	if (install_or_drop(s) < 0) {
		log_warn("firewall refused to install %zu restored mappings", ost_count(&s->tree));
		drop_all(s);
		return -1;
	}
	return 0;
}

/* The reconcile's state gone (its memory freed), SYNC_OFF. */
static void
sync_reset(struct store *s)
{
	free(s->sync.gone);
	free(s->sync.pend);
	memset(&s->sync, 0, sizeof(s->sync));
}

/* The reconcile's line: what the first read found, and what the reads
 * after it did when the sets changed while read. */
static void
sync_log(const struct store *s)
{
	const struct st_sync *y = &s->sync;
	bool again = y->reads > 1;
	char more[128] = "";

	if (again)
		(void)str_printf(more, sizeof(more), "; the sets changed while read, read %u times: "
				 "%zu more added, %zu more stale removed", y->reads,
				 y->added - y->added1, y->stale - y->stale1);
	log_info("kernel reconciled with %zu restored mappings in %llu ms: %zu in place, %zu "
		 "added, %zu stale elements removed%s", ost_count(&s->tree),
		 (unsigned long long)(time_mono_ms() - y->t0), again ? y->in_place1 : y->in_place,
		 again ? y->added1 : y->added, again ? y->stale1 : y->stale, more);
}

/* The reconcile is over (or never ran): the lease file rewritten with
 * what the store holds. */
static void
sync_done(struct store *s)
{
	if (s->sync.phase == SYNC_INSTALL)
		log_info("kernel reconciled with %zu restored mappings in %llu ms: every element "
			 "installed again", ost_count(&s->tree),
			 (unsigned long long)(time_mono_ms() - s->sync.t0));
	else if (s->sync.phase == SYNC_PIPE)
		log_info("kernel reconciled with %zu restored mappings in %llu ms: every element "
			 "installed beside the replay", ost_count(&s->tree),
			 (unsigned long long)(time_mono_ms() - s->sync.t0));
	else if (s->sync.phase != SYNC_OFF)
		sync_log(s);
	if (s->sync.again && s->sync.reads >= SYNC_READS)
		log_warnx("igdd's sets changed during each of %u reads of the reconcile: what the "
			  "last one missed stays until a change notification or the contents check",
			  s->sync.reads);
	s->sync.phase = SYNC_OFF;
	loop_timer_cancel(&s->ctx->loop, &s->sync.timer);
	sync_reset(s);
	/* Rewritten only when it holds more than the store (superseded,
	 * dropped or changed records, miniupnpd's format): a clean journal
	 * of 100,000 leases is not written again at every start. */
	if (s->lease != NULL) {
		if (s->replay_stale > 0 || lease_records(s->lease) != s->replay_records ||
		    !lease_restored_clean(s->lease) || lease_broken(s->lease) ||
		    lease_should_compact(s->lease, ost_count(&s->tree) + ost_count(&s->ptree)))
			journal_compact(s);
		s->replay_stale = 0;
		journal_mark_gen(s);
	}
}

/* During the reconcile: has its walk passed n (SYNC_ADD, at or before
 * the cursor)?  Then the kernel holds n's elements (the walk added what
 * was missing) and n's kseen is not read again. */
static bool
sync_passed(const struct store *s, const struct st_node *n)
{
	return s->sync.phase == SYNC_ADD && s->sync.walking &&
	       tree_keycmp(&s->sync.cursor, &n->tn) >= 0;
}

/* Does the kernel hold the SNAT element of m's internal side, as far as
 * the reconcile knows?  Yes when an enabled mapping of that side other
 * than n was passed by the walk, or is marked KSEEN_SNAT (the dump saw
 * the element, or an earlier mapping of the side added it in the walk,
 * or a client's add or delete made it). */
static bool
sync_snat_known(const struct store *s, const struct st_node *n, const struct mapping *m)
{
	struct ih_probe p;
	const struct st_node *o;

	for (ih_probe_start(s, &p, m->proto, m->iaddr, m->iport); (o = ih_next(s, &p)) != NULL;)
		if (o != n && o->m.enabled && o->m.proto == m->proto && o->m.iport == m->iport &&
		    o->m.iaddr == m->iaddr && ((o->kseen & KSEEN_SNAT) || sync_passed(s, o)))
			return true;
	return false;
}

/* The kernel holds m's side's SNAT element now (a client's change made
 * it): every mapping of the side the walk has not passed is marked, so
 * that it adds none of another port (EEXIST). */
static void
sync_mark_side(struct store *s, const struct mapping *m)
{
	struct ih_probe p;
	struct st_node *o;

	for (ih_probe_start(s, &p, m->proto, m->iaddr, m->iport); (o = ih_next(s, &p)) != NULL;)
		if (o->m.proto == m->proto && o->m.iport == m->iport && o->m.iaddr == m->iaddr &&
		    !sync_passed(s, o))
			o->kseen |= KSEEN_SNAT;
}

/* A client's add or refresh of n (as m) went to the kernel while the
 * reconcile runs: its DNAT and forward elements are in place, and its
 * side's SNAT element when it added it itself (not shared) or the
 * reconcile knows it is there.  Marked so that the walk neither adds
 * them again nor a second SNAT element of the side (EEXIST); a stale
 * element the dump reads later and removes takes its mark back
 * (sync_unmark). */
static void
sync_client_add(struct store *s, const struct st_node *n, const struct mapping *m, bool shared)
{
	struct st_node *w = (struct st_node *)(uintptr_t)n;

	if ((s->sync.phase != SYNC_DUMP && s->sync.phase != SYNC_ADD) || mapping_is_pinhole(m))
		return;
	sync_pend_drop(s, m, !shared);	/* the side's element written when !shared */
	if (s->sync.snat && !shared)
		sync_mark_side(s, m);
	if (sync_passed(s, n))
		return;
	w->kseen = KSEEN_DNAT | KSEEN_FWD;
	if (s->sync.snat && (!shared || sync_snat_known(s, n, m)))
		w->kseen |= KSEEN_SNAT;
}

/* A client's delete of m removed its elements (no stale one of theirs is
 * left to remove) and re-pointed its side's SNAT element at the heir (in
 * the kernel now, even where it was missing). */
static void
sync_client_del(struct store *s, const struct mapping *m, const struct mapping *heir)
{
	if (!mapping_is_pinhole(m))
		sync_pend_drop(s, m, true);
	if (heir != NULL && s->sync.snat && (s->sync.phase == SYNC_DUMP || s->sync.phase == SYNC_ADD))
		sync_mark_side(s, heir);
}

/* A stale element the dump read is removed by its key: what the kernel
 * holds there now may be a mapping's that a client made meanwhile (the
 * dump's part was read before the change).  Its mark goes, so that the
 * walk adds it again: the DNAT element of n (NULL: none), or the SNAT
 * element of e's side (every mapping of the side). */
static void
sync_unmark(struct store *s, struct st_node *n, const struct fw_elem *e)
{
	struct ih_probe p;
	struct st_node *o;

	if (n != NULL)
		n->kseen &= ~KSEEN_DNAT;
	if (!e->snat)
		return;
	for (ih_probe_start(s, &p, e->proto, &e->iaddr, e->iport); (o = ih_next(s, &p)) != NULL;)
		if (o->m.proto == e->proto && o->m.iport == e->iport && addr_eq(o->m.iaddr, &e->iaddr))
			o->kseen &= ~KSEEN_SNAT;
}

/* An SNAT element of the dump: in place when a mapping of its internal
 * side (any remote host) has its external port (every mapping of that
 * side marked: the element is theirs), else stale. */
static bool
sync_snat_seen(struct store *s, const struct fw_elem *e)
{
	struct ih_probe p;
	struct st_node *o;
	bool held = false;

	ih_probe_start(s, &p, e->proto, &e->iaddr, e->iport);
	while (!held && (o = ih_next(s, &p)) != NULL)
		held = o->m.enabled && o->m.proto == e->proto && o->m.iport == e->iport &&
		       o->m.eport == e->eport && addr_eq(o->m.iaddr, &e->iaddr);
	ih_probe_start(s, &p, e->proto, &e->iaddr, e->iport);
	while (held && (o = ih_next(s, &p)) != NULL)
		if (o->m.proto == e->proto && o->m.iport == e->iport && addr_eq(o->m.iaddr, &e->iaddr))
			o->kseen |= KSEEN_SNAT;
	return held;
}

/* A stale element of the dump removed: only this element (a DNAT
 * element's forward one may be another mapping's; a forward element has
 * no DNAT element), deferred by the caller. */
static void
sync_del_elem(struct store *s, const struct fw_elem *e)
{
	struct mapping m = { .rhost = &e->rhost, .iaddr = &e->iaddr, .eport = e->eport,
			     .iport = e->iport, .proto = e->proto };
	struct fw_share sh = { .forward = e->dnat, .snat_only = e->snat, .keep_snat = !e->snat };

	if (s->ops->del(s->fw, &m, &sh) < 0)
		s->stats.fw_errors++;
}

/* The stale elements the dump read, removed at its end: one removed
 * between two parts of a set's dump would make the kernel's walk, which
 * skips what it sent before, miss an element (a foreign one would stay).
 * -1 when there is no more room (SYNC_PEND_MAX). */
#define SYNC_PEND_MAX 16384	/* 640 KiB at most; a client's change scans them */
static int
sync_pend(struct store *s, const struct fw_elem *e)
{
	if (s->sync.n_pend == s->sync.cap_pend) {
		size_t cap = s->sync.cap_pend != 0 ? s->sync.cap_pend * 2 : 64;
		struct fw_elem *p;

		if (cap > SYNC_PEND_MAX || (p = realloc(s->sync.pend, cap * sizeof(*p))) == NULL)
			return -1;
		s->sync.pend = p;
		s->sync.cap_pend = cap;
	}
	s->sync.pend[s->sync.n_pend++] = *e;
	return 0;
}

/* A client's change of m went to the kernel during the read: the elements
 * it wrote or removed (m's DNAT and forward elements, and its side's SNAT
 * element when snat) are no longer the stale ones the read saw, and their
 * pending delete goes (it would remove the client's). */
static void
sync_pend_drop(struct store *s, const struct mapping *m, bool snat)
{
	size_t i = 0;

	while (i < s->sync.n_pend) {
		const struct fw_elem *e = &s->sync.pend[i];
		bool same = e->proto == m->proto &&
			(e->snat ? snat && e->iport == m->iport && addr_eq(&e->iaddr, m->iaddr) :
			 e->dnat ? e->eport == m->eport && addr_eq(&e->rhost, m->rhost) :
			 e->iport == m->iport && addr_eq(&e->iaddr, m->iaddr) &&
			 addr_eq(&e->rhost, m->rhost));

		if (same)
			s->sync.pend[i] = s->sync.pend[--s->sync.n_pend];
		else
			i++;
	}
}

/* The pending stale elements removed, in one transaction. */
static void
sync_pend_flush(struct store *s)
{
	size_t i;

	if (s->sync.n_pend == 0)
		return;
	s->ops->defer(s->fw);
	for (i = 0; i < s->sync.n_pend; i++)
		sync_del_elem(s, &s->sync.pend[i]);
	if (s->ops->flush(s->fw) < 0)
		s->stats.fw_errors++;
	s->sync.n_pend = 0;
}

/* An element of the kernel's dump: in place (its mapping marked), or
 * stale (removed: a mapping the store does not hold, or another target).
 * For a forward or SNAT element every mapping that shares it is marked. */
static void
sync_elem(void *arg, const struct fw_elem *e)
{
	struct store *s = arg;
	struct st_node *n = NULL;
	bool used = false;

	if (e->snat) {
		if (sync_snat_seen(s, e))
			return;
	} else if (e->dnat) {
		n = find_node(s, e->proto, e->eport, &e->rhost);
		if (n != NULL && n->m.enabled && n->m.iport == e->iport &&
		    addr_eq(n->m.iaddr, &e->iaddr)) {
			n->kseen |= KSEEN_DNAT;
			s->sync.in_place++;
			return;
		}
	} else {
		struct ih_probe p;
		struct st_node *o;

		for (ih_probe_start(s, &p, e->proto, &e->iaddr, e->iport); (o = ih_next(s, &p)) != NULL;) {
			if (o->m.enabled && o->m.proto == e->proto && o->m.iport == e->iport &&
			    addr_eq(o->m.iaddr, &e->iaddr) && addr_eq(o->m.rhost, &e->rhost)) {
				o->kseen |= KSEEN_FWD;
				used = true;
			}
		}
		if (used)
			return;
	}
	/* Stale: it goes at the dump's end; when there is no more room for
	 * it, now (with the slice's), and the sets are read again. */
	s->sync.stale++;
	if (sync_pend(s, e) < 0) {
		sync_del_elem(s, e);
		s->sync.again = true;
	}
	sync_unmark(s, n, e);
}

static size_t gone_elements_del(struct store *s);

/* The end of SYNC_ADD: every IPv6 pinhole added (or renewed) in one
 * transaction, then the dropped pinhole leases' elements deleted (the
 * restore's refusals: today's rules, quotas, an ended lease) in another.
 * The dump reads the IPv4 sets only; pinholes are few (one per IPv6
 * host's open port, not one per CGN subscriber's mapping) and an add of
 * an element in place only renews it.  0, or -1. */
static int
sync_add_pinholes(struct store *s)
{
	struct collect c = { NULL, 0, true, false };
	int r;

	if ((c.ms = malloc((ost_count(&s->ptree) + 1) * sizeof(*c.ms))) == NULL)
		return -1;
	ost_foreach(&s->ptree, collect_one, &c);
	if ((r = c.n > 0 ? s->ops->add_many(s->fw, c.ms, c.n, NULL) : 0) < 0)
		s->stats.fw_errors++;
	s->sync.added += c.n;
	free(c.ms);
	if (r < 0)
		return -1;
	s->sync.stale += gone_elements_del(s);
	return 0;
}

/* SYNC_ADD, nd added again: does another mapping hold its internal
 * side's SNAT element?  Yes when the dump saw it in place (KSEEN_SNAT),
 * or when a mapping of the side before nd in key order added it in this
 * reconcile (the holder install_all and install_or_drop choose too), or
 * a client's change made it (sync_snat_known()): a
 * second element of the side, with other data, would fail the
 * transaction.  When nd adds it, the side's mappings after nd are marked
 * (those whose own elements were seen then need nothing): one probe of
 * the side per SNAT element added. */
static bool
sync_snat_shared(struct store *s, const struct st_node *nd)
{
	struct ih_probe p;
	struct st_node *o;

	if (!s->sync.snat || (nd->kseen & KSEEN_SNAT) || sync_snat_known(s, nd, &nd->m))
		return s->sync.snat;
	for (ih_probe_start(s, &p, nd->m.proto, nd->m.iaddr, nd->m.iport); (o = ih_next(s, &p)) != NULL;)
		if (o->m.proto == nd->m.proto && o->m.iport == nd->m.iport &&
		    o->m.iaddr == nd->m.iaddr && tree_cmp(&o->tn, &nd->tn) > 0)
			o->kseen |= KSEEN_SNAT;
	return false;
}

/* SYNC_ADD: the next sync.chunk enabled mappings after the cursor whose
 * elements were not both seen, in one transaction.  The kernel takes
 * ~10 us a mapping (four elements, each with its counter), and the loop
 * serves nothing meanwhile: the chunk is sized from the last one's time
 * so that a transaction takes about STORE_SYNC_SLICE_MS (between
 * STORE_SYNC_MIN and STORE_SYNC_MAX mappings: 100,000 mappings are 7 to
 * 100 transactions).  1 while more is to come, 0 at the end, -1 on
 * error. */
#define STORE_SYNC_MIN 1024
#define STORE_SYNC_MAX 16384
#define STORE_SYNC_SLICE_MS 10
static int
sync_add_chunk(struct store *s)
{
	size_t want = s->sync.chunk ? s->sync.chunk : STORE_SYNC_MIN;
	const struct mapping **ms = malloc(want * sizeof(*ms));
	bool *shared = malloc(want * sizeof(*shared));
	struct ost_node *tn;
	size_t n = 0;
	uint64_t t;
	int r = 0;

	if (ms == NULL || shared == NULL) {
		free(ms);
		free(shared);
		return -1;
	}
	tn = s->sync.walking ? ost_bound(&s->tree, &s->sync.cursor, tree_keycmp, true, NULL)
			     : ost_nth(&s->tree, 0);
	for (; tn != NULL && n < want; tn = ost_bound(&s->tree, &s->sync.cursor,
								  tree_keycmp, true, NULL)) {
		struct st_node *nd = TNODE(tn);

		s->sync.cursor = (struct st_key){ nd->m.proto, nd->m.eport, *nd->m.rhost };
		s->sync.walking = true;
		if (nd->m.enabled && nd->kseen != (KSEEN_DNAT | KSEEN_FWD |
						   (s->sync.snat ? KSEEN_SNAT : 0))) {
			shared[n] = sync_snat_shared(s, nd);
			ms[n++] = &nd->m;
		}
		nd->kseen = 0;
	}
	t = time_mono_ms();
	if (n > 0 && (r = s->ops->add_many(s->fw, ms, n, shared)) < 0)
		s->stats.fw_errors++;
	t = time_mono_ms() - t;
	if (n == want)
		s->sync.chunk = t == 0 ? want * 2 : want * STORE_SYNC_SLICE_MS / t;
	s->sync.chunk = s->sync.chunk < STORE_SYNC_MIN ? STORE_SYNC_MIN :
			s->sync.chunk > STORE_SYNC_MAX ? STORE_SYNC_MAX : s->sync.chunk;
	s->sync.added += n;
	free(ms);
	free(shared);
	if (r < 0)
		return -1;
	if (tn == NULL && (ost_count(&s->ptree) > 0 || s->sync.n_gone > 0) && s->sync.reads <= 1)
		return sync_add_pinholes(s);	/* not read back: once is enough */
	return tn != NULL ? 1 : 0;
}

/* One slice of the reconcile, a few milliseconds long: the daemon serves
 * requests between slices.  1 while more is to come, 0 done, -1 error. */
static int
sync_slice(struct store *s)
{
	uint64_t end = time_mono_ms() + 2;
	int r = 1;

	if (s->sync.phase == SYNC_INSTALL)	/* no dump: everything in one go */
		return install_or_drop(s) < 0 ? -1 : 0;
	if (s->sync.phase == SYNC_PIPE)
		return s->ops->pipe_done(s->fw, s->sync.wait);
	if (s->sync.phase == SYNC_ADD)
		return sync_add_chunk(s);
	s->ops->defer(s->fw);		/* stale elements beyond SYNC_PEND_MAX */
	while (r == 1 && time_mono_ms() < end)
		r = s->ops->elems_step(s->fw, sync_elem, s);
	if (s->ops->flush(s->fw) < 0)
		s->stats.fw_errors++;
	if (r == 0) {
		if (s->ops->elems_moved != NULL && s->ops->elems_moved(s->fw))
			s->sync.again = true;
		sync_pend_flush(s);	/* before the adds: one may take a stale key */
		s->sync.phase = SYNC_ADD;
		return 1;
	}
	return r;
}

/* After SYNC_ADD: when the dump may have missed elements (a transaction
 * came between two parts of a set's dump: a client's change, another
 * process's of igdd's objects or unheard (fw_ops.elems_moved); or more
 * stale elements than SYNC_PEND_MAX), the sets are read again,
 * SYNC_READS times at most.  0 when a new dump started. */
static int
sync_again(struct store *s)
{
	int r;

	if (!s->sync.again || s->sync.reads >= SYNC_READS || (r = s->ops->elems_start(s->fw)) < 0)
		return -1;
	s->sync.snat = r > 0;	/* every mapping's kseen is 0 after the walk */
	if (s->sync.reads == 1) {
		s->sync.in_place1 = s->sync.in_place;
		s->sync.added1 = s->sync.added;
		s->sync.stale1 = s->sync.stale;
	}
	s->sync.again = false;
	s->sync.reads++;
	s->sync.phase = SYNC_DUMP;
	s->sync.walking = false;
	s->sync.in_place = 0;
	return 0;
}

static void
sync_fire(struct loop_timer *t)
{
	struct store *s = container_of(t, struct store, sync.timer);
	int r = sync_slice(s);

	if (r == 0 && s->sync.phase == SYNC_ADD && sync_again(s) == 0)
		r = 1;
	if (r == 1) {	/* the install beside: its end looked for every 2 ms */
		loop_timer_set(&s->ctx->loop, t, s->sync.phase == SYNC_PIPE ? 2 : 0);
		return;
	}
	if (r < 0) {
		if (s->sync.phase == SYNC_PIPE)
			s->sync.phase = SYNC_INSTALL;	/* for sync_done()'s line */
		log_warnx("kernel reconcile failed; installing every mapping at once");
		if (store_reinstall(s) < 0)
			log_warnx("the restored mappings are not in the kernel");
	}
	sync_done(s);
}

/* The reconcile's state from scratch, but for the dropped leases'
 * pinholes: the dump finds the other dropped leases' elements itself; it
 * reads the IPv4 sets only, so those go by name (sync_add_pinholes()). */
static void
sync_keep_gone_pinholes(struct store *s)
{
	struct st_gone *gone = s->sync.gone;
	size_t n = s->sync.n_gone, cap = s->sync.cap_gone, i, k = 0;

	s->sync.gone = NULL;
	sync_reset(s);
	for (i = 0; i < n; i++)
		if (!addr_is_v4(&gone[i].iaddr))
			gone[k++] = gone[i];
	if (k == 0) {
		free(gone);
		return;
	}
	if (k < cap) {		/* (100,000 ended IPv4 leases held for none) */
		struct st_gone *g = realloc(gone, k * sizeof(*gone));

		if (g != NULL)
			gone = g, cap = k;
	}
	s->sync.gone = gone;
	s->sync.n_gone = k;
	s->sync.cap_gone = cap;
}

/* Start the reconcile: 0, or -1 when the backend cannot (then nothing
 * started). */
static int
sync_start(struct store *s)
{
	int r;

	if (!has_fw(s) || s->ops->elems_start == NULL || s->ops->add_many == NULL ||
	    s->ops->defer == NULL || (r = s->ops->elems_start(s->fw)) < 0)
		return -1;
	sync_keep_gone_pinholes(s);
	s->sync.snat = r > 0;
	s->sync.timer.cb = sync_fire;
	s->sync.phase = SYNC_DUMP;
	s->sync.reads = 1;
	s->sync.t0 = time_mono_ms();
	return 0;
}

/* Does the kernel hold what the journal says?  Its last line names the
 * kernel's state after the last journaled change, and the kernel was in
 * that state when this process started (a kill -9, a stop for restart). */
static bool
restore_trusted(struct store *s)
{
	char tok[FW_GEN_MAX];

	return s->lease != NULL && has_fw(s) && s->ops->generation != NULL &&
	       lease_restored_gen(s->lease)[0] != '\0' &&
	       s->ops->generation(s->fw, true, tok, sizeof(tok)) == 0 &&
	       strcmp(tok, lease_restored_gen(s->lease)) == 0;
}

/* The deletes of gone_elements_del(); how many, and *failed those the
 * backend refused. */
static size_t
gone_dels(struct store *s, size_t *failed)
{
	size_t i, n = 0;

	for (i = 0; i < s->sync.n_gone; i++) {
		struct st_gone *g = &s->sync.gone[i];
		struct mapping m = { .rhost = &g->rhost, .iaddr = &g->iaddr, .eport = g->eport,
				     .iport = g->iport, .rport = g->rport, .proto = g->proto };
		const struct st_node *o;
		struct ih_probe p;
		struct fw_share sh = { .forward = false };
		bool pin = mapping_is_pinhole(&m);

		if (!pin && find_node(s, g->proto, g->eport, &g->rhost) != NULL)
			continue;	/* the DNAT element is a live mapping's */
		/* what it shared with live mappings of its internal side: the
		 * forward element (same remote side), the SNAT element.  A
		 * pinhole has its one element by that key, not by its
		 * UniqueID (a client's new pinhole may have been given the
		 * dropped one's while the reconcile ran). */
		for (ih_probe_start(s, &p, g->proto, &g->iaddr, g->iport); (o = ih_next(s, &p)) != NULL;) {
			if (!o->m.enabled || o->fw_lost || o->m.proto != g->proto ||
			    o->m.iport != g->iport || !addr_eq(o->m.iaddr, &g->iaddr))
				continue;
			sh.forward |= addr_eq(o->m.rhost, &g->rhost) && o->m.rport == g->rport;
			if (sh.snat_heir == NULL && !pin)
				sh.snat_heir = &o->m;
		}
		if (pin && sh.forward)
			continue;	/* a live pinhole's element */
		if (s->ops->del(s->fw, &m, &sh) < 0)
			(*failed)++;
		n++;
	}
	return n;
}

/* The elements of the leases the restore dropped (sync.gone), in one
 * transaction: those of a key a live mapping has again stay, and what a
 * dropped one shared with live ones of its internal side.  A kernel
 * without DESTROY refuses the whole transaction for one element that is
 * missing (someone else deleted it; the same key dropped twice): then
 * each goes alone.  How many were deleted. */
static size_t
gone_elements_del(struct store *s)
{
	bool queued = s->ops->defer != NULL && s->ops->flush != NULL;
	size_t n, failed = 0;

	if (queued)
		s->ops->defer(s->fw);
	n = gone_dels(s, &failed);
	if (queued && s->ops->flush(s->fw) < 0) {
		failed = 1;
		if (errno == ENOENT) {
			failed = 0;
			n = gone_dels(s, &failed);
		}
	}
	if (failed > 0) {
		s->stats.fw_errors += failed;
		s->ctx->fw_suspect = true;	/* ended leases' elements may stay */
	}
	return n;
}

/* The restore; the kernel's part from the loop when async. */
static int
restore(struct store *s, bool async)
{
	/* sets this start made: their elements go in beside the replay */
	bool piped = has_fw(s) && s->lease != NULL && lease_adds(s->lease) > 0 &&
		     s->ops->pipe_start != NULL && s->ops->pipe_start(s->fw) == 0;
	int n;

	s->piping = piped;
	n = restore_leases(s);
	s->piping = false;
	if (n < 0 && piped)
		s->ops->pipe_done(s->fw, true);
	if (n < 0)
		return -1;
	arm_expiry(s);
	if (piped) {
		sync_reset(s);		/* nothing of the dropped leases in new sets */
		s->sync.timer.cb = sync_fire;
		s->sync.phase = SYNC_PIPE;
		s->sync.wait = !async;
		s->sync.t0 = s->replay_mono;
		sync_fire(&s->sync.timer);	/* hands the last chunk over at once */
	} else if (restore_trusted(s)) {
		/* the kernel holds the journal's mappings: only the dropped
		 * leases' elements go; nothing else is touched */
		s->sync.stale = gone_elements_del(s);
		log_info("kernel holds the restored mappings already (unchanged since the last "
			 "journaled change): %zu ended or refused leases' elements removed",
			 s->sync.stale);
		sync_done(s);
	} else if (sync_start(s) == 0) {
		/* 1 ms: the first turn of the loop serves what has come */
		loop_timer_set(&s->ctx->loop, &s->sync.timer, 1);
	} else if (async && has_fw(s) && s->ops->install_all != NULL) {
		/* the kernel's elements cannot be read back (hairpin, port
		 * preservation): one transaction replaces them, from the loop */
		sync_reset(s);		/* the install replaces those elements too */
		s->sync.timer.cb = sync_fire;
		s->sync.phase = SYNC_INSTALL;
		s->sync.t0 = time_mono_ms();
		loop_timer_set(&s->ctx->loop, &s->sync.timer, 1);
	} else {
		if (has_fw(s) && s->ops->install_all != NULL && restore_install(s) < 0)
			return -1;
		sync_done(s);
	}
	n = (int)(ost_count(&s->tree) + ost_count(&s->ptree));
	if (n > 0)
		log_info("restored %d mappings from %s", n, s->cfg->lease_file);
	if (ost_count(&s->ptree) > 0)
		log_info("(%zu of them IPv6 pinholes)", ost_count(&s->ptree));
	return n;
}

int
store_restore_async(struct store *s)
{
	return restore(s, true);
}

int
store_restore(struct store *s)
{
	int n = restore(s, false);

	while (n >= 0 && s->sync.phase != SYNC_OFF) {
		loop_timer_cancel(&s->ctx->loop, &s->sync.timer);
		sync_fire(&s->sync.timer);
	}
	return n < 0 ? -1 : (int)(ost_count(&s->tree) + ost_count(&s->ptree));
}

bool
store_restoring(const struct store *s)
{
	return s->sync.phase != SYNC_OFF;
}

void
store_hold(struct store *s)
{
	/* One snapshot of the gateway's sockets for all the requests of a
	 * hold (a batch of datagrams, a restore), not one per request: a
	 * dump walks the kernel's whole socket table. */
	if (s->held++ == 0)
		inuse_expire(s);
}

void
store_hold_batch(struct store *s)
{
	if (s->held == 0 && has_fw(s) && s->ops->defer != NULL && s->ops->flush != NULL) {
		s->batch.on = true;
		s->batch.n = 0;
		s->batch.stats = s->stats;
		s->batch.renewed = s->renewed;
		s->ops->defer(s->fw);
	}
	store_hold(s);
}

bool
store_batching(const struct store *s)
{
	return s->batch.on;
}

int
store_commit(struct store *s)
{
	if (s->held == 0)
		fatalx("store_commit() without store_hold()");
	if (s->held == 1 && s->batch.on && batch_end(s) < 0) {
		s->held = 0;
		return STORE_REDO;
	}
	if (--s->held > 0 || s->lease == NULL)
		return 0;
	/* A group that changed nothing (lookups, malformed datagrams) costs
	 * no sync, nor a rewrite of a failing file: the retry timer does that. */
	if (s->journaled) {
		s->journaled = false;
		journal_sync(s);
	}
	return lease_broken(s->lease) ? -1 : 0;
}

enum store_result
store_check(struct store *s, const struct mapping *req, unsigned flags)
{
	struct mapping cand;
	struct st_node *ex;
	char desc[MAPPING_DESC_MAX];
	enum store_result r = prepare(req, flags, &cand, desc);

	return r != ST_OK ? r : decide(s, &cand, flags, &ex);
}

/* store_add() and store_pin_add(): decide, then refresh or insert. */
static enum store_result
add_or_refresh(struct store *s, const struct mapping *req, uint32_t lifetime, unsigned flags,
	       struct mapping **out, bool pin)
{
	struct mapping cand;
	struct st_node *ex;
	char desc[MAPPING_DESC_MAX];
	enum store_result r = pin ? prepare_pin(req, flags, &cand, desc)
				  : prepare(req, flags, &cand, desc);
	bool prepared = r == ST_OK;

	if (prepared)
		r = pin ? decide_pin(s, &cand, flags, &ex) : decide(s, &cand, flags, &ex);
	if (r != ST_OK) {
		notify(s, STORE_EV_REFUSED, prepared ? &cand : req,
		       req->owner != NULL ? &req->owner->addr : NULL, lifetime, r);
		return r;
	}
	cand.expires = lifetime != 0 ? time_mono_ms() + (uint64_t)lifetime * 1000u : 0;
	if (ex != NULL) {
		if (pin)
			cand.uid = ex->m.uid;
		return refresh(s, ex, &cand, out);
	}
	return insert_new(s, &cand, (flags & STORE_F_RESERVE) != 0, out);
}

/* A new mapping's lease record, count and listeners (in a batch: its
 * commit's). */
static void
announce_added(struct store *s, struct st_node *n)
{
	journal(s, '+', &n->m);
	s->stats.added++;
	notify(s, STORE_EV_ADDED, &n->m, &n->m.owner->addr, store_lease_left(s, &n->m), ST_OK);
}

enum store_result
store_confirm(struct store *s, struct mapping *m)
{
	struct st_node *n = NODE(m);
	struct st_change *c;
	enum store_result r;

	if (!n->pending)
		return ST_OK;
	/* its elements lost meanwhile (install_or_drop()), or, as
	 * store_recheck() leaves reservations to this, a reload while it
	 * waited that denies it now */
	if ((r = n->fw_lost ? ST_E_FIREWALL : store_policy_verdict(s, m)) != ST_OK) {
		notify(s, STORE_EV_REFUSED, m, m->owner != NULL ? &m->owner->addr : NULL,
		       store_lease_left(s, m), r);
		store_rollback(s, m);
		return r;
	}
	n->pending = false;
	s->n_pending--;
	/* In a batch the commit tells, or its undo makes it pending again. */
	if (batch_reserve(s) == 0 && (c = batch_note(s, CH_CONFIRM, n, STORE_EV_ADDED)) != NULL)
		c->quiet = false;
	announce_added(s, n);
	return ST_OK;
}

bool
store_pending(const struct mapping *m)
{
	return NODE(m)->pending;
}

void
store_rollback(struct store *s, struct mapping *m)
{
	if (!NODE(m)->pending || delete_node(s, NODE(m), DEL_ROLLBACK, NULL) != ST_OK ||
	    s->lease == NULL)
		return;
	/* no record: the mark it withheld (mark_token()) follows now, or at
	 * the commit of the group it is in */
	if (s->held == 0)
		store_mark_kernel(s);
	else
		s->journaled = true;
}

enum store_result
store_add(struct store *s, const struct mapping *req, uint32_t lifetime, unsigned flags,
	  struct mapping **out)
{
	return add_or_refresh(s, req, lifetime, flags, out, false);
}

enum store_result
store_del(struct store *s, uint8_t proto, uint16_t eport, const struct in6_addr *rhost,
	  const struct in6_addr *requester)
{
	struct st_node *n = find_node(s, proto, eport, rhost);

	if (n == NULL)
		return ST_E_NOT_FOUND;
	if (requester != NULL &&
	    (is_static(&n->m) || (s->cfg->secure_mode && !addr_eq(requester, n->m.iaddr) &&
				   !addr_eq(requester, &n->m.owner->addr)) ||
	     lans_apart(s, &n->m, n->m.eport, requester))) {
		notify(s, STORE_EV_DEL_REFUSED, &n->m, requester, 0, ST_E_NOT_OWNER);
		return ST_E_NOT_OWNER;
	}
	return delete_node(s, n, DEL_ASKED, requester);
}

/* May who (NAT-PMP or PCP) delete m?  Only the identity that holds it. */
static enum store_result
delete_verdict(const struct mapping *m, const struct mapping_owner *who)
{
	if (is_static(m))
		return ST_E_NOT_OWNER;
	if (m->owner->proto == OWNER_PCP && who->proto == OWNER_PCP &&
	    addr_eq(&m->owner->addr, &who->addr) &&
	    memcmp(m->owner->nonce, who->nonce, sizeof(who->nonce)) != 0)
		return ST_E_NONCE;
	return same_identity(m->owner, who) ? ST_OK : ST_E_NOT_OWNER;
}

enum store_result
store_del_as(struct store *s, struct mapping *m, const struct mapping_owner *who)
{
	enum store_result r;

	if (who == NULL)
		return delete_node(s, NODE(m), DEL_ASKED, NULL);
	if (mapping_is_pinhole(m))
		return store_pin_del(s, m, who);
	if (who->proto != OWNER_NATPMP && who->proto != OWNER_PCP)
		return store_del(s, m->proto, m->eport, m->rhost, &who->addr);
	if ((r = delete_verdict(m, who)) != ST_OK) {
		notify(s, STORE_EV_DEL_REFUSED, m, &who->addr, 0, r);
		return r;
	}
	return delete_node(s, NODE(m), DEL_ASKED, &who->addr);
}

enum store_result
store_del_mapping(struct store *s, struct mapping *m)
{
	return delete_node(s, NODE(m), DEL_ASKED, NULL);
}

struct mapping *
store_find(struct store *s, uint8_t proto, uint16_t eport, const struct in6_addr *rhost)
{
	struct st_node *n = find_node(s, proto, eport, rhost);

	return n != NULL ? &n->m : NULL;
}

enum owner_match { OWNED_ANY, OWNED_BY, OWNED_BY_OTHER };

/* The first in key order of this internal side's mappings whose owner
 * matches (owner may be NULL with OWNED_ANY). */
static struct st_node *
find_internal(const struct store *s, uint8_t proto, const struct in6_addr *iaddr, uint16_t iport,
	      const struct mapping_owner *owner, enum owner_match how)
{
	struct ih_probe p;
	struct st_node *n, *best = NULL;

	/* The probe run holds this key's mappings (a few) plus collisions. */
	for (ih_probe_start(s, &p, proto, iaddr, iport); (n = ih_next(s, &p)) != NULL;) {
		if (n->m.proto != proto || n->m.iport != iport || !addr_eq(n->m.iaddr, iaddr))
			continue;
		if ((how == OWNED_BY && !same_identity(n->m.owner, owner)) ||
		    (how == OWNED_BY_OTHER && (n->m.owner->proto != owner->proto ||
					       same_identity(n->m.owner, owner))))
			continue;
		if (best == NULL || tree_cmp(&n->tn, &best->tn) < 0)
			best = n;
	}
	return best;
}

struct mapping *
store_find_internal(struct store *s, uint8_t proto, const struct in6_addr *iaddr, uint16_t iport)
{
	struct st_node *n = find_internal(s, proto, iaddr, iport, NULL, OWNED_ANY);

	return n != NULL ? &n->m : NULL;
}

struct mapping *
store_find_owned(struct store *s, uint8_t proto, const struct in6_addr *iaddr, uint16_t iport,
		 const struct mapping_owner *owner)
{
	struct st_node *n = find_internal(s, proto, iaddr, iport, owner, OWNED_BY);

	return n != NULL ? &n->m : NULL;
}

struct mapping *
store_find_internal_other(struct store *s, uint8_t proto, const struct in6_addr *iaddr,
			  uint16_t iport, const struct mapping_owner *owner)
{
	struct st_node *n = find_internal(s, proto, iaddr, iport, owner, OWNED_BY_OTHER);

	return n != NULL ? &n->m : NULL;
}

struct mapping *
store_nth(struct store *s, size_t n)
{
	struct ost_node *tn = ost_nth(&s->tree, n);

	return tn != NULL ? &TNODE(tn)->m : NULL;
}

size_t
store_count(const struct store *s)
{
	return ost_count(&s->tree);
}

size_t
store_count_client(struct store *s, const struct in6_addr *iaddr)
{
	struct st_ent *c = host_find(s, iaddr);

	return c != NULL ? c->icount : 0;
}

size_t
store_range(struct store *s, uint8_t proto, uint16_t lo, uint16_t hi, store_visit_cb cb,
	    void *arg)
{
	struct st_key k = { proto, lo, in6addr_any };
	struct ost_node *tn;
	size_t visited = 0;

	if (lo > hi)
		return 0;
	tn = ost_bound(&s->tree, &k, tree_keycmp, false, NULL);
	while (tn != NULL) {
		struct mapping *m = &TNODE(tn)->m;
		if (proto != 0 && m->proto != proto)
			break;
		if (m->eport < lo || m->eport > hi) {
			/* proto 0: hop to the next protocol's part of the range */
			if (proto != 0 || (m->eport > hi && m->proto == 255))
				break;
			k.proto = m->eport < lo ? m->proto : (uint8_t)(m->proto + 1);
			k.eport = lo;
			k.rhost = in6addr_any;
			tn = ost_bound(&s->tree, &k, tree_keycmp, false, NULL);
			continue;
		}
		k.proto = m->proto;
		k.eport = m->eport;
		k.rhost = *m->rhost;
		visited++;
		if (cb(m, arg) != 0)
			break;
		/* Search again from the key: cb may have deleted m. */
		tn = ost_bound(&s->tree, &k, tree_keycmp, true, NULL);
	}
	return visited;
}

size_t
store_del_owner(struct store *s, enum owner_proto op, const struct in6_addr *addr,
		uint8_t proto, const struct in6_addr *iaddr, const uint8_t *nonce)
{
	struct mapping_owner k = { .addr = *addr, .proto = op };
	struct st_ent *o;
	struct st_node *n, *next;
	size_t count = 0;

	if (nonce != NULL)
		memcpy(k.nonce, nonce, sizeof(k.nonce));
	if ((o = ent_find(s, false, &k)) == NULL)
		return 0;
	/* Keep the entry alive while walking: a reference more. */
	o->refs++;
	for (n = node_at(s, o->owned); n != NULL; n = next) {
		next = node_at(s, n->onext);
		if ((proto != 0 && n->m.proto != proto) ||
		    (iaddr != NULL && !addr_eq(n->m.iaddr, iaddr)))
			continue;
		if (delete_node(s, n, DEL_ASKED, addr) == ST_OK)
			count++;
	}
	ent_put(s, o);
	return count;
}

uint32_t
store_lease_left(const struct store *s, const struct mapping *m)
{
	uint64_t now = time_mono_ms(), left;

	(void)s;
	if (m->expires == 0)
		return 0;
	left = m->expires > now ? (m->expires - now + 999) / 1000 : 0;
	/* 0 would read as "permanent": an expired lease not yet reaped has 1 s. */
	if (left == 0)
		return 1;
	return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

bool
store_permitted(const struct store *s, uint16_t eport, const struct in6_addr *iaddr,
		uint16_t iport, const char *desc)
{
	return perm_allowed(s->cfg->perms, s->cfg->n_perms, eport, iaddr, iport, desc);
}

int
store_reinstall(struct store *s)
{
	if (!has_fw(s) || s->ops->install_all == NULL)
		return 0;
	s->ctx->fw_suspect = false;	/* install_or_drop() may set it again */
	if (install_or_drop(s) < 0) {
		s->ctx->fw_suspect = true;	/* no mark until a repair succeeds */
		return -1;
	}
	if (s->ctx->fw_suspect)		/* an add of unknown outcome: the next */
		return 0;		/* re-install settles it */
	/* the kernel holds what the store does */
	s->ctx->fw_unverified = false;
	store_mark_kernel(s);
	return 0;
}

int
store_fw_verify_start(struct store *s)
{
	const struct mapping **ms;
	size_t n;
	int r;

	if (!has_fw(s) || s->ops->verify_start == NULL)
		return 1;
	if (collect_all(s, true, &ms, &n) < 0)
		return -1;
	r = s->ops->verify_start(s->fw, ms, n);
	free(ms);
	return r < 0 ? -1 : 2;
}

int
store_fw_verify_step(struct store *s)
{
	if (!has_fw(s) || s->ops->verify_step == NULL)
		return 1;
	return s->ops->verify_step(s->fw);
}

void
store_fw_verify_cancel(struct store *s)
{
	if (has_fw(s) && s->ops->verify_cancel != NULL)
		s->ops->verify_cancel(s->fw);
}

uint64_t
store_generation(const struct store *s)
{
	const struct store_stats *st = &s->stats;

	return st->added + st->deleted + st->expired + st->idle_removed + st->refreshed;
}

uint64_t
store_fw_generation(const struct store *s)
{
	return store_generation(s) - s->renewed;
}

static int
listener_put(struct store *s, store_change_cb cb, void *arg, bool last)
{
	unsigned k = s->n_listeners;

	if (k >= STORE_MAX_LISTENERS)
		return -1;
	/* before the ones that asked to come last */
	for (; !last && k > 0 && s->listeners[k - 1].last; k--)
		s->listeners[k] = s->listeners[k - 1];
	s->listeners[k].fn = cb;
	s->listeners[k].arg = arg;
	s->listeners[k].last = last;
	s->n_listeners++;
	return 0;
}

int
store_add_listener(struct store *s, store_change_cb cb, void *arg)
{
	return listener_put(s, cb, arg, false);
}

int
store_add_listener_last(struct store *s, store_change_cb cb, void *arg)
{
	return listener_put(s, cb, arg, true);
}

const struct store_stats *
store_get_stats(const struct store *s)
{
	((struct store *)s)->stats.count = ost_count(&s->tree);
	return &s->stats;
}

uint32_t
store_clamp_lifetime(const struct store *s, uint32_t lifetime)
{
	if (s->cfg->min_lifetime != 0 && lifetime < s->cfg->min_lifetime)
		return s->cfg->min_lifetime;
	if (s->cfg->max_lifetime != 0 && lifetime > s->cfg->max_lifetime)
		return s->cfg->max_lifetime;
	return lifetime;
}

void
store_expire_now(struct store *s, uint64_t now_ms)
{
	int pass;

	/* Leases that end together leave the kernel in one transaction and
	 * are synced together: nobody waits for an answer about them.  If
	 * the kernel refuses the transaction, one by one.  A pending
	 * reservation's lease ends when its reserver settled it (within
	 * seconds), not while the upstream is asked. */
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			store_hold_batch(s);
		else
			store_hold(s);
		while (s->heap_n > 0 && heap_at(s, 0)->m.expires <= now_ms) {
			struct st_node *n = heap_at(s, 0);

			if (n->pending) {
				n->m.expires = now_ms + STORE_PENDING_GRACE_MS;
				heap_down(s, 0);
				continue;
			}
			if (delete_node(s, n, DEL_EXPIRED, NULL) != ST_OK)
				break;	/* no memory: the timer comes back */
		}
		if (store_commit(s) != STORE_REDO)
			break;
	}
	arm_expiry(s);
}

void
store_set_port_in_use_cb(struct store *s, store_port_in_use_cb cb, void *arg)
{
	s->inuse_cb = cb;
	s->inuse_arg = arg;
}

void
store_set_local_addr_cb(struct store *s, store_local_addr_cb cb, void *arg)
{
	s->local_cb = cb;
	s->local_arg = arg;
}

void
store_set_search_limit(struct store *s, unsigned limit)
{
	s->search_limit = limit;
}

size_t
store_idle_pass(struct store *s)
{
	const struct mapping **ms;
	struct fw_counter *c;
	size_t n, i, removed = 0;

	if (!has_fw(s) || s->ops->counters == NULL)
		return 0;
	if (ost_count(&s->tree) + ost_count(&s->ptree) <= s->cfg->clean_ruleset_threshold)
		return 0;
	/* A snapshot: deleting while walking the tree is not safe.  Once
	 * per interval, never per request; one counters dump for all. */
	if (collect_all(s, true, &ms, &n) < 0)
		return 0;
	c = calloc(n, sizeof(*c));
	if (c == NULL || s->ops->counters(s->fw, ms, n, c) < 0) {
		free(c);
		free(ms);
		return 0;
	}
	store_hold(s);		/* one lease sync for the pass */
	for (i = 0; i < n; i++) {
		struct st_node *nd = NODE((struct mapping *)(uintptr_t)ms[i]);
		if (is_static(&nd->m) || nd->pending)
			continue;
		/* Low 32 bits: equal after exactly k * 2^32 packets is a
		 * chance not worth 4 more bytes in every mapping. */
		if (nd->idle_seen && (uint32_t)c[i].packets == nd->fw_packets) {
			if (delete_node(s, nd, DEL_IDLE, NULL) == ST_OK)
				removed++;
			continue;
		}
		nd->fw_packets = (uint32_t)c[i].packets;
		nd->idle_seen = true;
	}
	store_commit(s);
	free(c);
	free(ms);
	if (removed > 0)
		log_info("idle cleanup: %zu unused mappings removed", removed);
	return removed;
}

int
store_list(struct store *s, const struct mapping ***out, size_t *n)
{
	return collect_all(s, false, out, n);
}

int
store_counters(struct store *s, const struct mapping *const *ms, size_t n,
	       struct fw_counter *out)
{
	size_t i;

	if (n == 0)
		return 0;
	memset(out, 0, n * sizeof(*out));
	if (!has_fw(s) || s->ops->counters == NULL)
		return 0;
	if (s->ops->counters(s->fw, ms, n, out) < 0)
		return -1;
	/* A disabled mapping has no element: what its key matched is
	 * another mapping's. */
	for (i = 0; i < n; i++)
		if (!ms[i]->enabled)
			out[i].packets = out[i].bytes = 0;
	return 0;
}

static size_t
count_source(const struct store *s, bool pin, enum owner_proto op, uint8_t proto)
{
	unsigned k = proto == IPPROTO_TCP ? 0 : proto == IPPROTO_UDP ? 1 : 2;
	const size_t *c;

	if ((unsigned)op > OWNER_PCP)
		return 0;
	c = s->n_src[pin][op];
	return proto == 0 ? c[0] + c[1] + c[2] : c[k];
}

size_t
store_count_source(const struct store *s, enum owner_proto op, uint8_t proto)
{
	return count_source(s, false, op, proto);
}

size_t
store_pin_count_source(const struct store *s, enum owner_proto op, uint8_t proto)
{
	return count_source(s, true, op, proto);
}

enum store_result
store_policy_verdict(struct store *s, const struct mapping *m)
{
	s->mac_valid = false;		/* mac= rules: the table as it is now */
	if (client_verdict(s, m, false) != ST_OK)
		return ST_E_NOT_LAN;
	if (!permitted(s, m, mapping_is_pinhole(m) ? m->iport : m->eport))
		return ST_E_PERMISSION;
	return ST_OK;
}

size_t
store_recheck(struct store *s)
{
	const struct mapping **ms;
	size_t n, i, removed = 0;

	if (collect_all(s, false, &ms, &n) < 0) {
		log_warnx("reload: out of memory: mappings not checked against the new rules");
		return 0;
	}
	store_hold(s);
	for (i = 0; i < n; i++) {
		struct st_node *nd = NODE((struct mapping *)(uintptr_t)ms[i]);
		enum store_result r = store_policy_verdict(s, &nd->m);

		if (r == ST_OK)
			continue;
		/* the mapping log (a listener) says which and why; a pending
		 * reservation is its reserver's, which asks at its confirm */
		if (delete_node(s, nd, r == ST_E_NOT_LAN ? DEL_NOT_LAN : DEL_RULES, NULL) == ST_OK)
			removed++;
	}
	store_commit(s);
	free(ms);
	return removed;
}

void
store_reconfigure(struct store *s)
{
	loop_timer_cancel(&s->ctx->loop, &s->idle_timer);
	if (s->cfg->clean_ruleset_interval > 0)
		loop_timer_set(&s->ctx->loop, &s->idle_timer,
			       (uint64_t)s->cfg->clean_ruleset_interval * 1000u);
}

/* --- IPv6 pinholes ----------------------------------------------------
 * Nodes like the mappings' (same indexes, heap, owners, journal, change
 * listeners), in a tree of their own keyed by UniqueID. */

static int
pin_cmp(const struct ost_node *a, const struct ost_node *b)
{
	uint16_t x = TNODE(a)->m.uid, y = TNODE(b)->m.uid;

	return x < y ? -1 : x > y;
}

static int
pin_keycmp(const void *key, const struct ost_node *n)
{
	uint16_t k = *(const uint16_t *)key, u = TNODE(n)->m.uid;

	return k < u ? -1 : k > u;
}

static struct st_node *
pin_node(const struct store *s, uint16_t uid)
{
	struct ost_node *tn = ost_find(&s->ptree, &uid, pin_keycmp);

	return tn != NULL ? TNODE(tn) : NULL;
}

static bool
default_mac(void *arg, const struct in6_addr *a, uint8_t mac[6], unsigned *ifindex)
{
	(void)arg;
	return neigh_lookup(a, mac, ifindex) == 0;
}

/* The MAC of a, looked up at most once per decision. */
static const uint8_t *
mac_of(struct store *s, const struct in6_addr *a)
{
	unsigned ifindex;

	if (s->mac_cb == NULL)
		return NULL;
	if (!s->mac_valid || !addr_eq(&s->mac_addr, a)) {
		s->mac_addr = *a;
		s->mac_ok = s->mac_cb(s->mac_arg, a, s->mac, &ifindex);
		s->mac_valid = true;
	}
	return s->mac_ok ? s->mac : NULL;
}

/* Is who the host of address a: the same address, or one with the same
 * MAC (a host's IPv4, link-local, global and temporary addresses)? */
static bool
same_device(struct store *s, const struct in6_addr *who, const struct in6_addr *a)
{
	uint8_t mw[6];
	const uint8_t *ma;
	unsigned ifindex;

	if (addr_eq(who, a))
		return true;
	if (s->mac_cb == NULL || !s->mac_cb(s->mac_arg, who, mw, &ifindex))
		return false;
	ma = mac_of(s, a);
	return ma != NULL && memcmp(ma, mw, sizeof(mw)) == 0;
}

/* prepare() for a pinhole: an IPv6 client, an IPv6 remote host (or any). */
static enum store_result
prepare_pin(const struct mapping *req, unsigned flags, struct mapping *cand, char *desc)
{
	enum store_result r;

	if (req->iaddr == NULL || !mapping_is_pinhole(req) ||
	    (req->rhost != NULL && !addr_is_any(req->rhost) && addr_is_v4(req->rhost)))
		return ST_E_INVAL;
	/* no external port to check: the "any port" form of prepare() */
	r = prepare(req, flags | STORE_F_ANY_PORT, cand, desc);
	cand->uid = 0;
	cand->rport = req->rport;
	return r;
}

/* The pinhole (proto, rhost, rport, iaddr, iport) of cand held as how
 * says by owner: the probe run of the internal-side index. */
static struct st_node *
pin_same(const struct store *s, const struct mapping *cand, enum owner_match how)
{
	struct ih_probe p;
	const struct mapping_owner *owner = cand->owner;
	struct st_node *n;

	for (ih_probe_start(s, &p, cand->proto, cand->iaddr, cand->iport); (n = ih_next(s, &p)) != NULL;) {
		const struct mapping *m = &n->m;

		if (!mapping_is_pinhole(m) || m->proto != cand->proto || m->iport != cand->iport ||
		    m->rport != cand->rport || !addr_eq(m->iaddr, cand->iaddr) ||
		    !addr_eq(m->rhost, cand->rhost))
			continue;
		if (how == OWNED_BY ? same_identity(m->owner, owner)
				    : m->owner->proto == owner->proto && !same_identity(m->owner, owner))
			return n;
	}
	return NULL;
}

/* The next free UniqueID into cand->uid. */
static enum store_result
pin_uid(struct store *s, struct mapping *cand)
{
	unsigned tries;

	for (tries = 0; tries <= 65535; tries++) {
		uint16_t u = s->next_uid++;

		if (u != 0 && pin_node(s, u) == NULL) {
			cand->uid = u;
			return ST_OK;
		}
	}
	return ST_E_QUOTA_TOTAL;
}

static enum store_result
decide_pin(struct store *s, struct mapping *cand, unsigned flags, struct st_node **ex)
{
	struct st_node *old;
	enum store_result r;

	*ex = NULL;
	s->mac_valid = false;
	old = pin_same(s, cand, OWNED_BY);
	if ((r = client_verdict(s, cand, old == NULL)) != ST_OK)
		return r;
	if (s->cfg->secure_mode && !is_static(cand) && !(flags & STORE_F_THIRD_PARTY) &&
	    !same_device(s, &cand->owner->addr, cand->iaddr))
		return ST_E_SECURE;
	if (old == NULL && (flags & STORE_F_CHECK_NONCE) && pin_same(s, cand, OWNED_BY_OTHER) != NULL)
		return ST_E_NONCE;
	if (lans_apart(s, cand, cand->iport, &cand->owner->addr)) {
		log_debug("pinhole client on another LAN than its requester, no rule allows it");
		return ST_E_PERMISSION;
	}
	if (!permitted(s, cand, cand->iport))
		return ST_E_PERMISSION;
	if (old != NULL) {
		if (flags & STORE_F_NO_REFRESH)
			return ST_E_CONFLICT;
		*ex = old;
		return ST_OK;
	}
	if ((r = quota(s, cand)) != ST_OK)
		return r;
	return pin_uid(s, cand);
}

enum store_result
store_pin_add(struct store *s, const struct mapping *req, uint32_t lifetime, unsigned flags,
	      struct mapping **out)
{
	return add_or_refresh(s, req, lifetime, flags, out, true);
}

struct mapping *
store_pin_find(struct store *s, uint16_t uid)
{
	struct st_node *n = pin_node(s, uid);

	return n != NULL ? &n->m : NULL;
}

enum store_result
store_pin_may(struct store *s, const struct mapping *m, const struct mapping_owner *who)
{
	if (who == NULL)
		return ST_OK;
	if (is_static(m))
		return ST_E_NOT_OWNER;
	if (who->proto == OWNER_NATPMP || who->proto == OWNER_PCP)
		return delete_verdict(m, who);
	s->mac_valid = false;
	if (lans_apart(s, m, m->iport, &who->addr))
		return ST_E_NOT_OWNER;
	if (!s->cfg->secure_mode)
		return ST_OK;
	if (addr_eq(&who->addr, &m->owner->addr) || same_device(s, &who->addr, m->iaddr))
		return ST_OK;
	return ST_E_NOT_OWNER;
}

enum store_result
store_pin_update(struct store *s, struct mapping *m, uint32_t lifetime,
		 const struct mapping_owner *who)
{
	struct mapping cand = *m;
	enum store_result r = store_pin_may(s, m, who);

	if (r != ST_OK)
		return r;
	if (lifetime == 0)
		return ST_E_INVAL;
	cand.expires = time_mono_ms() + (uint64_t)lifetime * 1000u;
	return refresh(s, NODE(m), &cand, NULL);
}

enum store_result
store_pin_del(struct store *s, struct mapping *m, const struct mapping_owner *who)
{
	enum store_result r = store_pin_may(s, m, who);

	if (r != ST_OK) {
		notify(s, STORE_EV_DEL_REFUSED, m, &who->addr, 0, r);
		return r;
	}
	return delete_node(s, NODE(m), DEL_ASKED, who != NULL ? &who->addr : NULL);
}

int
store_pin_packets(struct store *s, const struct mapping *m, uint64_t *packets)
{
	struct fw_counter c = { 0, 0 };

	*packets = 0;
	if (!has_fw(s) || s->ops->counters == NULL)
		return -1;
	/* one mapping: the backend asks for its one element, no dump */
	if (s->ops->counters(s->fw, &m, 1, &c) < 0)
		return -1;
	*packets = c.packets;
	return 0;
}

enum store_result
store_peer(struct store *s, struct ct_peer *p, const struct mapping_owner *who, unsigned flags)
{
	struct mapping cand = { .iaddr = &p->iaddr, .owner = who, .proto = p->proto,
				.iport = p->iport };
	enum store_result r;

	s->mac_valid = false;
	if ((r = client_verdict(s, &cand, true)) != ST_OK)
		return r;
	if (s->cfg->secure_mode && !(flags & STORE_F_THIRD_PARTY) &&
	    !same_device(s, &who->addr, &p->iaddr))
		return ST_E_SECURE;
	if (addr_is_v4(&p->iaddr))
		p->nat_addr = s->ctx->ext_addr;
	if (!has_fw(s) || s->ops->peer == NULL)
		return ST_E_FIREWALL;
	if (s->ops->peer(s->fw, p) < 0) {
		if (errno == EEXIST || errno == EBUSY)
			return ST_E_NO_PORT;
		log_warn("conntrack refused the PEER flow of port %u", p->iport);
		s->stats.fw_errors++;
		return ST_E_FIREWALL;
	}
	return ST_OK;
}

bool
store_pin_firewall(struct store *s)
{
	uint64_t now = time_mono_ms();

	if (!has_fw(s) || s->ops->v6_guarded == NULL)
		return true;
	if (s->guard_read_ms == 0 || now - s->guard_read_ms >= 1000) {
		int r = s->ops->v6_guarded(s->fw);

		if (r >= 0)
			s->guarded = r == 1;
		s->guard_read_ms = now;
	}
	return s->guarded;
}

size_t
store_pin_count(const struct store *s)
{
	return ost_count(&s->ptree);
}

struct mapping *
store_pin_nth(struct store *s, size_t n)
{
	struct ost_node *tn = ost_nth(&s->ptree, n);

	return tn != NULL ? &TNODE(tn)->m : NULL;
}

void
store_set_mac_cb(struct store *s, store_mac_cb cb, void *arg)
{
	s->mac_cb = cb;
	s->mac_arg = arg;
}
