/* fw.h - the firewall backend interface.  The daemon uses the nftables
 * backend (nft.c); unit tests may plug in a fake with the same ops. */
#ifndef IGDD_FW_H
#define IGDD_FW_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include "mapping.h"

struct config;
struct fw;

/* An element of igdd's sets as the kernel holds it (a reconcile's dump). */
struct fw_elem {
	struct in6_addr rhost, iaddr;	/* v4-mapped; rhost :: = any */
	uint16_t eport;			/* a DNAT element's; 0 in a forward one */
	uint16_t iport;
	uint8_t proto;
	bool dnat;			/* a DNAT element, else a forward one */
};
typedef void (*fw_elem_cb)(void *arg, const struct fw_elem *e);

#define FW_GEN_MAX	96	/* fw_ops.generation's token, its NUL included */

struct fw_ops {
	/* Create or attach to the configured table/chains/maps (idempotent). */
	struct fw *(*init)(const struct config *cfg);
	/* Each call is one netlink transaction, acknowledged by the kernel.
	 * 0 on success, -1 when the kernel refused (errno set; nothing changed). */
	int (*add)(struct fw *fw, const struct mapping *m);
	/* keep_forward: another mapping with the same internal side (and
	 * remote host) still needs the forward element, delete only the
	 * DNAT element. */
	int (*del)(struct fw *fw, const struct mapping *m, bool keep_forward);
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
	 * none, install_all serves).  elems_start begins it (0 / -1); each
	 * elems_step reads a part of it and calls cb for each element read:
	 * 1 while more is to come, 0 once it is over, -1 on error (over
	 * too).  The dump may miss or repeat elements changed while it
	 * runs; deletes of missing elements must not fail (DESTROY). */
	int (*elems_start)(struct fw *fw);
	int (*elems_step)(struct fw *fw, fw_elem_cb cb, void *arg);
	/* Add (or renew) the elements of these mappings in one transaction,
	 * removing nothing.  0 / -1 (nothing changed). */
	int (*add_many)(struct fw *fw, const struct mapping *const *ms, size_t n);
	/* A token naming the kernel's state (the ruleset generation, which
	 * moves with every transaction of anyone, the boot, the network
	 * namespace) into tok[size]: now, or at_start: before this process's
	 * init touched the kernel (-1 if that init lost elements).  Two equal
	 * tokens: nothing changed the ruleset in between.  0 / -1 (NULL:
	 * unknown). */
	int (*generation)(struct fw *fw, bool at_start, char *tok, size_t size);
	/* Packets counted for a mapping (0 if unknown).  -1 on error. */
	int (*counters)(struct fw *fw, const struct mapping *m, uint64_t *packets);
	/* Are igdd's kernel objects still there?  1 yes, 0 gone, -1 error. */
	int (*check)(struct fw *fw);
	/* Re-create igdd's table/chains/sets/rules after they vanished (a
	 * firewall reload), idempotently; the caller then re-installs the
	 * mappings with install_all.  0 / -1. */
	int (*restore)(struct fw *fw);
	/* Remove igdd's kernel state (clean stop) and free fw. */
	void (*shutdown)(struct fw *fw, int remove_state);
};

extern const struct fw_ops nft_ops;

#endif
