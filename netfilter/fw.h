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
