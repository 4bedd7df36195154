/* fake_fw.h - a firewall backend for unit tests: keeps a "kernel" table,
 * records every call, and fails on demand. */
#ifndef IGDD_FAKE_FW_H
#define IGDD_FAKE_FW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fw.h"

#define FAKE_FW_MAX 2048	/* room for a test of more than one PCP update slice, and for listings past their caps */

/* A kernel element: values, not the store's pointers. */
struct fake_elem {
	uint8_t proto;
	uint16_t eport, iport;
	struct in6_addr iaddr, rhost;
};

struct fake_fw {
	struct fake_elem kernel[FAKE_FW_MAX];	/* what the kernel holds */
	size_t n_kernel;
	unsigned n_add, n_del, n_install, n_counters;
	unsigned fail_add, fail_del, fail_install;	/* fail the next N calls */
	int fail_errno;				/* their errno (0: EPERM) */
	uint16_t refuse_eport;			/* an element the kernel refuses (0: none):
						 * add fails, install_all of it fails whole */
	size_t last_install_n;
	bool last_keep_forward;			/* of the last del */
	uint16_t last_snat_heir;		/* of the last del: the heir's eport, 0 = none */
	bool last_add_snat_shared;		/* of the last add */
	char log[2048];				/* "a TCP 80>81;d ...;" */
	struct { uint8_t proto; uint16_t eport; uint64_t packets; } pk[64];
	size_t n_pk;
	/* Batches (defer/flush): changes apply at once to kernel[], which
	 * flush puts back as it was if any of them was refused (the
	 * kernel's transaction), and then fails. */
	bool deferring, batch_refused;
	struct fake_elem saved[FAKE_FW_MAX];
	size_t n_saved;
	unsigned n_flush, n_flush_refused;
	/* Generations and dumps (a restart's reconcile); off unless dump_on. */
	char gen[32], start_gen[32];		/* "" = unknown */
	bool dump_on;
	unsigned n_dumps, n_add_many;
	/* Port preservation's SNAT map, one element per internal side
	 * (proto, iaddr, iport : eport), when dump_snat: add makes it unless
	 * shared, del removes or re-points it, the dump reads it, add_many
	 * fails as the kernel does on a second one of a side with another
	 * port. */
	bool dump_snat;
	/* The install beside the replay (fw_ops.pipe_*), when pipe_on: each
	 * change applies at once as add or del would; pipe_fail (set, or set
	 * by a change the kernel would refuse: a second SNAT element of a
	 * side, the delete of a missing element): the end says it was
	 * refused. */
	bool pipe_on, pipe_fail;
	unsigned n_pipe;
	struct fake_elem snat[FAKE_FW_MAX];
	size_t n_snat;
	/* A dump in parts (dump_step > 0): the elements as they were at
	 * elems_start (the kernel's parts are made before they are read),
	 * dump_step of them a step (a SNAT element, or a mapping's DNAT
	 * and forward elements), each step 3 ms long, so that the store's
	 * dump slice reads one.  between (NULL: none) runs after each
	 * slice (a dump slice's flush while parts remain, an add_many): a
	 * client's change between two turns of the loop. */
	size_t dump_step;
	struct fake_elem d_snat[FAKE_FW_MAX], d_kernel[FAKE_FW_MAX];
	size_t d_n_snat, d_n_kernel, d_pos;
	bool d_parts;
	/* dump_walk: each part made when it is read, as the kernel makes
	 * them: the live elements from the start, the d_pos sent before
	 * skipped (a delete before that place makes it miss one); d_moved
	 * when a change came between two parts (elems_moved). */
	bool dump_walk, d_moved;
	unsigned changes, d_changes;
	void (*between)(struct fake_fw *f, void *arg);
	void *between_arg;
	unsigned n_between;
};

extern const struct fw_ops fake_fw_ops;
void fake_fw_reset(struct fake_fw *f);
struct fw *fake_fw_handle(struct fake_fw *f);
/* Does the kernel hold (proto, eport) -> iport? */
bool fake_fw_has(const struct fake_fw *f, uint8_t proto, uint16_t eport, uint16_t iport);
void fake_fw_set_packets(struct fake_fw *f, uint8_t proto, uint16_t eport, uint64_t packets);



/* A store on the fake backend, for the store and lease tests. */
#include "ctx.h"
struct store;

struct fake_env {
	struct igdd_ctx ctx;		/* cfg zeroed: tests set what they need */
	struct fake_fw fw;
	struct store *s;
	char dir[64];			/* temporary directory for the lease file */
	uint16_t inuse[16];		/* ports the fake "gateway" listens on */
	size_t n_inuse;
	struct { struct in6_addr a; uint8_t mac[6]; unsigned ifindex; } neigh[16];	/* fake neighbour table */
	size_t n_neigh;
};
/* The fake neighbour table: address -> MAC (on interface ifindex; 0 for
 * fake_env_neigh()). */
void fake_env_neigh(struct fake_env *e, const char *addr, const char *mac);
void fake_env_neigh_on(struct fake_env *e, const char *addr, const char *mac, unsigned ifindex);

/* with_lease: cfg.lease_file = <tmpdir>/leases.  Call fake_env_start()
 * after adjusting cfg. */
struct fake_env *fake_env_new(bool with_lease);
void fake_env_start(struct fake_env *e);
/* store_free() + store_new() on the same config and fake kernel (ctx.store
 * follows when it pointed at the store). */
void fake_env_restart(struct fake_env *e);
void fake_env_free(struct fake_env *e);
/* An IPv4 or IPv6 address in the store's form; aborts on a typo. */
struct in6_addr fake_addr(const char *s);
struct mapping fake_req(uint8_t proto, uint16_t eport, const char *iaddr, uint16_t iport,
			const char *desc, enum owner_proto op);
/* The owner of a request from fake_req(), to change it. */
struct mapping_owner *fake_owner(struct mapping *r);
/* lan0 also has 2001:db8:1::1/64 and fe80::1/64, lan1 2001:db8:2::1/64. */
/* A started store on a LAN 192.168.1.0/24 (lan0, ifindex 2), external
 * address 203.0.113.5, NAT-PMP/PCP on, lifetimes 120..86400, started
 * epoch_ms ago: the setting of the NAT-PMP and PCP handler tests. */
struct fake_env *fake_env_pmp(uint64_t epoch_ms);
/* The same, with a lease file when with_lease (as fake_env_new()). */
struct fake_env *fake_env_pmp_lease(uint64_t epoch_ms, bool with_lease);
/* Read the whole lease file into buf (NUL-terminated); length or -1. */
long fake_env_read_lease(const struct fake_env *e, char *buf, size_t size);
/* Lines of the lease file that are records of op ('+' or '-'). */
unsigned fake_env_lease_records(const struct fake_env *e, char op);
#endif
