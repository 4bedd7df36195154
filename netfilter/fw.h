/* fw.h - the firewall backend interface.  The daemon uses the nftables
 * backend (nft.c); unit tests may plug in a fake with the same ops. */
#ifndef IGDD_FW_H
#define IGDD_FW_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <net/if.h>
#include <netinet/in.h>
#include "mapping.h"
#include "ct.h"

struct config;
struct fw;

/* An element of igdd's sets as the kernel holds it (a reconcile's dump). */
struct fw_elem {
	struct in6_addr rhost, iaddr;	/* v4-mapped; rhost :: = any */
	uint16_t eport;			/* a DNAT or SNAT element's; 0 in a forward one */
	uint16_t iport;
	uint8_t proto;
	bool dnat;			/* a DNAT element, else a forward one */
	bool snat;			/* (not dnat) an SNAT element: port preservation */
};
typedef void (*fw_elem_cb)(void *arg, const struct fw_elem *e);

#define FW_GEN_MAX	96	/* fw_ops.generation's token, its NUL included */

#define FW_EXT_MAX	16	/* external addresses kept in the kernel */
#define FW_LAN_MAX	16	/* served LANs (CFG_MAX_LISTEN) */

struct fw_lan {
	char name[IF_NAMESIZE];
	struct in_addr addr, mask;
};

/* The gateway's addresses as the data plane needs them: the external
 * ones (inbound DNAT and hairpin match only traffic addressed to them)
 * and the served LANs (a hairpinned flow stays in its client's LAN). */
struct fw_addrs {
	struct in_addr ext[FW_EXT_MAX];
	size_t n_ext;
	struct fw_lan lan[FW_LAN_MAX];
	size_t n_lan;
};

/* What a mapping shares with others of the same internal side (protocol,
 * address, port), as the store knows it.  NULL: nothing. */
struct fw_share {
	bool forward;			/* del: another one (same remote host)
					 * needs the forward element */
	bool snat;			/* add: another one holds the SNAT element */
	const struct mapping *snat_heir;	/* del: re-point the SNAT element
						 * at this one (NULL: remove it) */
	bool snat_only;			/* del: the SNAT element alone (a stale one) */
	bool keep_snat;			/* del: not the SNAT element (a reconcile's
					 * stale DNAT or forward element: the SNAT
					 * map is read and reconciled itself) */
};

#define FW_EV_OBJECTS	0x01	/* a table, chain, rule or set of igdd's changed */
#define FW_EV_ELEMS	0x02	/* elements of igdd's sets changed */
#define FW_EV_LOST	0x04	/* notifications were lost (receive buffer full) */
#define FW_EV_UNSEEN	0x08	/* another process's transaction came while igdd's
				 * small change did not listen: whether it changed
				 * igdd's objects is not known (the regular contents
				 * check decides; no journal mark until then) */

/* A kernel element's counters. */
struct fw_counter {
	uint64_t packets, bytes;
};

struct fw_ops {
	/* Create or attach to the configured table/chains/maps (idempotent). */
	struct fw *(*init)(const struct config *cfg);
	/* Each call is one netlink transaction, acknowledged by the kernel:
	 * the mapping's DNAT, forward, hairpin and SNAT elements together.
	 * 0 on success, -1 when the kernel refused (errno set; nothing changed).
	 * sh (may be NULL) says what other mappings share; NULL (no store:
	 * fwctl) also lets an add that meets a stale element of its key
	 * remove that element's old target's elements. */
	int (*add)(struct fw *fw, const struct mapping *m, const struct fw_share *sh);
	int (*del)(struct fw *fw, const struct mapping *m, const struct fw_share *sh);
	/* Replace every element igdd owns in the kernel with exactly these
	 * mappings, atomically (start-up reconcile, firewall reload). */
	int (*install_all)(struct fw *fw, const struct mapping *const *ms, size_t n);
	/* Batching (NULL: none).  After defer, add and del only queue their
	 * change and return 0 (or -1 if it cannot even be queued); flush
	 * sends every change queued since as one transaction and ends the
	 * deferral: 0 when the kernel took them all, -1 when it refused the
	 * transaction (errno set; nothing of it changed). */
	void (*defer)(struct fw *fw);
	int (*flush)(struct fw *fw);
	/* A dump of every element of igdd's sets, read in steps so that the
	 * daemon keeps answering meanwhile (a restart's reconcile; NULL:
	 * none, install_all serves).  elems_start begins it (0; 1 when the
	 * SNAT elements are read too: a mapping then needs its own seen; -1);
	 * each
	 * elems_step reads a part of it and calls cb for each element read:
	 * 1 while more is to come, 0 once it is over, -1 on error (over
	 * too).  The dump may miss or repeat elements changed while it
	 * runs; deletes of missing elements must not fail (DESTROY). */
	int (*elems_start)(struct fw *fw);
	int (*elems_step)(struct fw *fw, fw_elem_cb cb, void *arg);
	/* After the dump: did a transaction that may have changed the set
	 * come between two parts of one set's dump (then it may have missed
	 * elements)?  Another process's that the change listener heard, of
	 * none of igdd's objects, does not count.  NULL: unknown. */
	bool (*elems_moved)(struct fw *fw);
	/* Add (or renew) the elements of these mappings in one transaction,
	 * removing nothing.  snat_shared (NULL: none) [i]: another mapping
	 * holds ms[i]'s internal side's SNAT element (in the kernel, or
	 * added before): none for ms[i] (else the first of a side in ms
	 * adds it).  0 / -1 (nothing changed). */
	int (*add_many)(struct fw *fw, const struct mapping *const *ms, size_t n,
			const bool *snat_shared);
	/* A restore into sets this start made (they hold nothing): pipe_start
	 * begins installing, beside the caller (a thread), the changes that
	 * pipe_change then copies, in order: a mapping's add (sh->snat) or
	 * delete (sh->forward, sh->snat_heir).  pipe_start: 0, or -1 (the
	 * sets were there before, or it cannot: nothing began); pipe_change:
	 * 0, or -1 (it cannot take it: the install fails).  pipe_done, after
	 * the last change: 1 while the install runs (with wait: waits), 0 when
	 * the kernel took every change, -1 when not (the caller installs
	 * everything).  Any other operation waits for the install to end
	 * first.  NULL: none. */
	int (*pipe_start)(struct fw *fw);
	int (*pipe_change)(struct fw *fw, const struct mapping *m, const struct fw_share *sh,
			   bool add);
	int (*pipe_done)(struct fw *fw, bool wait);
	/* A token naming the kernel's state (the ruleset generation, which
	 * moves with every transaction of anyone, the boot, the network
	 * namespace) into tok[size]: now, or at_start: before this process's
	 * init touched the kernel (-1 if that init lost elements).  Two equal
	 * tokens: nothing changed the ruleset in between.  0 / -1 (NULL:
	 * unknown). */
	int (*generation)(struct fw *fw, bool at_start, char *tok, size_t size);
	/* The counters of ms[0..n) into out[0..n): their forward elements'
	 * (mappings to the same internal side and remote host share one; a
	 * pinhole's is its one element), zeros for a mapping without one.
	 * One dump of each of igdd's sets that count (the forward and pinhole
	 * sets; integrated, the DNAT maps too: their counts add) whatever n,
	 * never a query per mapping (n == 1 may ask for that one element).
	 * 0 / -1. */
	int (*counters)(struct fw *fw, const struct mapping *const *ms, size_t n,
			struct fw_counter *out);
	/* Are igdd's kernel objects still there?  1 yes, 0 gone, -1 error. */
	int (*check)(struct fw *fw);
	/* Re-create igdd's table/chains/sets/rules after they vanished (a
	 * firewall reload), idempotently; the caller then re-installs the
	 * mappings with install_all.  0 / -1. */
	int (*restore)(struct fw *fw);
	/* Keep the kernel's set of external addresses equal to a->ext (one
	 * transaction when it changed; restore puts it back) and the LANs
	 * (nftables: lan4, the hairpin's LAN check).  0; 1 when the mappings
	 * must be installed again (a backend whose elements name a LAN: none
	 * now); -1 error. */
	int (*set_addrs)(struct fw *fw, const struct fw_addrs *a);
	/* Do the kernel's sets hold as many elements as these mappings (every
	 * enabled one) and the external addresses make?  start computes the
	 * counts and asks for the first set's elements; each step reads a
	 * little of the answer (a dump per set: O(n) in all, a periodic check
	 * in steps of about a millisecond, never per request) and returns 2
	 * while under way, then 1 (agree) or 0 (differ, logged); -1 error.
	 * cancel ends a check that stops without a verdict: a dump left
	 * half-read holds the kernel's dump state and a buffer until then. */
	int (*verify_start)(struct fw *fw, const struct mapping *const *ms, size_t n);
	int (*verify_step)(struct fw *fw);
	void (*verify_cancel)(struct fw *fw);
	/* Notifications of changes that other processes make to igdd's
	 * objects: a non-blocking descriptor to wait on (-1: none), and
	 * reading what arrived: FW_EV_* bits (0: nothing of igdd's), with
	 * what igdd's own changes found meanwhile (FW_EV_LOST, FW_EV_UNSEEN)
	 * or read off the descriptor (after a batch: the store asks then). */
	int (*events_fd)(struct fw *fw);
	int (*events_read)(struct fw *fw);
	/* Does the kernel drop unsolicited inbound IPv6, so that a pinhole
	 * means something?  1: igdd's own drop (ipv6_block_inbound), the
	 * router's chain igdd is integrated in, or a forward base chain of
	 * an ip6/inet table with policy drop; 0: none seen; -1: error.
	 * NULL in a backend that cannot tell (then: yes). */
	int (*v6_guarded)(struct fw *fw);
	/* PCP PEER: look up or create the outbound flow (ct.h).  0 / -1
	 * with errno.  NULL: not supported. */
	int (*peer)(struct fw *fw, struct ct_peer *p);
	/* Remove igdd's kernel state (clean stop) and free fw. */
	void (*shutdown)(struct fw *fw, int remove_state);
};

extern const struct fw_ops nft_ops;

#endif
