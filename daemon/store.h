/* store.h - the one table of port mappings shared by UPnP, NAT-PMP and PCP.
 *
 * The store is the only way to create, refresh, find, list or delete a
 * mapping, and the only place where policy is decided (permission rules,
 * secure mode, lifetime bounds, conflicts, port in use, quotas).  Every
 * change goes to the firewall backend first, then the lease file; a kernel
 * refusal leaves the store unchanged.  The lease file is synced before a
 * store call returns, or at store_commit() for the changes made since
 * store_hold() (group commit).
 *
 * Complexity: add/find/delete O(log n); nth entry O(log n); range queries
 * O((k + 1) log n) for k visited (each step re-searches by key, so the
 * callback may delete); free-port search O(k log n) in the ports tried,
 * k <= the search limit (denied port ranges are skipped in O(rules)).
 * Nothing on a request path scans all mappings.
 *
 * Kernel view: only enabled mappings are given to the backend.  A refresh
 * that keeps (iaddr, iport, enabled) does not call the backend; one that
 * changes them replaces the kernel element (del + add, the old one put
 * back if the add fails).  Mappings returned by the store are owned by
 * it: read them, never change them, and do not keep them across calls
 * that may delete. */
#ifndef IGDD_STORE_H
#define IGDD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mapping.h"

struct igdd_ctx;
struct store;
struct fw;
struct fw_ops;
struct config;
struct loop;

enum store_result {
	ST_OK = 0,
	ST_E_INVAL,		/* malformed request (port 0 where not allowed, ...) */
	ST_E_NOT_FOUND,		/* no such mapping */
	ST_E_CONFLICT,		/* key held by another client (UPnP 718) */
	ST_E_NONCE,		/* PCP: same mapping, other nonce (NOT_AUTHORIZED) */
	ST_E_PERMISSION,	/* permission rules deny (UPnP 606/718 per miniupnpd, NAT-PMP 2) */
	ST_E_SECURE,		/* secure mode: internal client != requester (606) */
	ST_E_PORT_IN_USE,	/* a socket on the gateway uses this external port */
	ST_E_QUOTA_CLIENT,	/* per-client mapping limit reached */
	ST_E_QUOTA_TOTAL,	/* total mapping limit reached */
	ST_E_NO_PORT,		/* free-port search found nothing allowed */
	ST_E_FIREWALL,		/* the kernel refused the change */
	ST_E_NOMEM,
	ST_E_NOT_OWNER,		/* delete/modify by someone who may not (secure mode,
				 * another NAT-PMP client or PCP nonce) */
	ST_E_NOT_LAN,		/* internal client is not a LAN host (perm_lan_host();
				 * UPnP 606/718 as permission rules, NAT-PMP 2, PCP
				 * NOT_AUTHORIZED) */
};
const char *store_strerror(enum store_result r);

/* Flags for store_add(). */
#define STORE_F_ANY_PORT	0x01	/* eport is a suggestion: pick a free allowed port near it */
#define STORE_F_CHECK_NONCE	0x02	/* PCP: refresh only with the same nonce */
#define STORE_F_NO_REFRESH	0x04	/* an existing mapping is a conflict even for its owner */
#define STORE_F_THIRD_PARTY	0x08	/* PCP THIRD_PARTY allowed (pcp_allow_thirdparty):
					 * no secure-mode check of iaddr against the requester */
#define STORE_F_RESERVE		0x10	/* a new mapping is made pending (store_confirm()) */

/* Free-port search: at most this many candidate ports are looked up
 * (ranges denied by permission rules are skipped without counting). */
#define STORE_SEARCH_LIMIT	4096

struct store_stats {
	size_t count;
	uint64_t added, deleted, expired, idle_removed, fw_errors;
	uint64_t refreshed, lease_errors;
	uint64_t policy_removed;	/* by store_recheck() */
};

/* Create the store.  fw may be NULL (unit tests of pure policy).  NULL
 * when memory is short or the configured lease file cannot be used
 * (lease_open(): the reason is logged). */
struct store *store_new(struct igdd_ctx *ctx, const struct fw_ops *ops, struct fw *fw);
void store_free(struct store *s);

/* Restore unexpired leases from the lease file, each decided as a live
 * request of its owner under today's configuration (dropped and logged
 * if refused; lifetimes bounded as a request's), and make the kernel hold
 * them: what it holds already (a kill -9, a stop for restart) is
 * reconciled, not replaced: its elements are read (a dump), those in
 * place stay as they are (timeouts, counters), stale ones are removed,
 * missing ones added in transactions of 4096 mappings; a backend that
 * cannot dump gets everything in one transaction that replaces its
 * elements, or one by one (dropping what the kernel refuses) if it
 * refuses that.  The lease file is rewritten after.  Returns the number
 * restored, -1 on error (nothing restored; the file is kept as it is). */
int store_restore(struct store *s);
/* The same, the kernel's part run from the event loop in slices of a few
 * milliseconds, so that the daemon answers while it runs (a restart with
 * 100,000 leases); store_restoring() holds until it is over. */
int store_restore_async(struct store *s);
bool store_restoring(const struct store *s);

/* Group commit.  Between store_hold() and store_commit() every change is
 * made at once (kernel, store, lease record written) but the lease file
 * is not synced; store_commit() syncs all those records with one
 * fdatasync() and, when that or an earlier write failed, rewrites the file
 * as after any failed write.  An answer reporting such a change may leave
 * the daemon only after store_commit().  Holds nest; the last commit
 * syncs, if anything changed.  store_commit() returns 0 when the changes
 * are durable (or there is no lease file), -1 when persistence is
 * suspended: the changes stay made and served, as with a failed write
 * outside a hold (igdd.conf.5, LEASE FILE). */
void store_hold(struct store *s);
int store_commit(struct store *s);
/* A batch: store_hold(), and until the matching store_commit() the kernel
 * part of every change is queued too, to be sent there as one netlink
 * transaction before the lease records are written and synced; the
 * listeners are told then.  If the kernel refuses that transaction,
 * store_commit() takes every change of the batch back (the indexes as
 * before it, no lease record, no listener told; a refusal of a request
 * made meanwhile has been told already) and returns STORE_REDO: the
 * caller makes the same requests again under store_hold(), each change
 * then its own transaction, so that only what the kernel refuses fails
 * (and is answered so).  Only an outermost hold batches. */
#define STORE_REDO	(-2)
void store_hold_batch(struct store *s);
/* Is a batch open (changes wait for its commit, which may take them back)? */
bool store_batching(const struct store *s);
/* Rewrite the lease file now with exactly the live mappings (SIGUSR2;
 * otherwise the journal is compacted when it has grown).  0 (also with
 * no lease file), or -1: the old journal stays, a rewrite is retried. */
int store_compact(struct store *s);
/* A plain stop (the kernel forgets the mappings): the lease file
 * rewritten with the live mappings only when it holds more (superseded
 * or deleted records), so that the next start, which installs every
 * record's elements beside its replay, sends no element that a later
 * record takes back. */
void store_stop_compact(struct store *s);

/* Add or refresh.  req carries proto, eport (wanted), rhost, iaddr, iport,
 * desc, enabled, owner; lifetime is seconds (0 = permanent where the caller
 * allows it; the caller has applied its protocol's meaning of 0).  The store
 * clamps lifetimes to [min_lifetime, max_lifetime] only when clamp is set.
 * On success *out (if not NULL) points to the stored mapping. */
enum store_result store_add(struct store *s, const struct mapping *req,
			    uint32_t lifetime, unsigned flags,
			    struct mapping **out);
/* Reserve, then commit or roll back (the relay: a mapping is made locally
 * and held while an upstream gateway is asked).  store_add() with
 * STORE_F_RESERVE makes a new mapping as usual (policy, kernel element,
 * indexes: its key is taken) but pending: no lease record is written and
 * no listener is told.  A refresh of a pending mapping stays pending.
 * store_confirm() commits it (lease record, listeners, as a plain add)
 * if the policy in force still allows it (store_policy_verdict(): a
 * reload may have come while it waited, and store_recheck() leaves
 * reservations alone) and its elements are still in the kernel (a
 * re-install that had to drop mappings could not put them back: a
 * reservation is not dropped behind its reserver's back); if not, it is
 * refused as an add would be (STORE_EV_REFUSED with the reason,
 * ST_E_PERMISSION, ST_E_NOT_LAN or ST_E_FIREWALL, which it returns) and
 * rolled back.  Not inside a batch (store_hold_batch()) where it may
 * refuse: a batch the kernel refuses would take that roll back back and
 * leave a reservation its reserver was told is gone (the relay confirms
 * from its socket's callback, outside any batch).
 * store_rollback() removes it as if it had never been (kernel element
 * gone, nothing journaled, nobody told).  Until then it is its reserver's:
 * no delete, expiry or idle pass touches it (a lease ending meanwhile is
 * put off by STORE_PENDING_GRACE_MS), and lease-file rewrites leave it
 * out, so a crash forgets it. */
enum store_result store_confirm(struct store *s, struct mapping *m);
void store_rollback(struct store *s, struct mapping *m);
bool store_pending(const struct mapping *m);
#define STORE_PENDING_GRACE_MS	5000

/* Would store_add() allow this request?  Same answers, no change. */
enum store_result store_check(struct store *s, const struct mapping *req, unsigned flags);
/* Manual forwards (igddctl add, the admin page) are OWNER_STATIC: not
 * subject to permission rules, secure mode or quotas (the administrator
 * decides), but to the LAN-host check, conflicts and the port-in-use
 * check like any mapping; no protocol refreshes, takes over or deletes
 * one, and one takes over no protocol's mapping (ST_E_CONFLICT). */

/* Delete the mapping with this key.  requester (may be NULL = admin) is
 * checked against the owner in secure mode. */
enum store_result store_del(struct store *s, uint8_t proto, uint16_t eport,
			    const struct in6_addr *rhost, const struct in6_addr *requester);
enum store_result store_del_mapping(struct store *s, struct mapping *m);

/* Find by key (proto, eport, rhost).  rhost NULL or :: = the wildcard one. */
struct mapping *store_find(struct store *s, uint8_t proto, uint16_t eport,
			   const struct in6_addr *rhost);
/* Find by internal side (proto, iaddr, iport).  Returns the first in key
 * order, whoever owns it. */
struct mapping *store_find_internal(struct store *s, uint8_t proto,
				    const struct in6_addr *iaddr, uint16_t iport);
/* The mapping of this internal side that this owner holds: the same
 * protocol identity (NAT-PMP: client address; PCP: address and nonce;
 * UPnP: any UPnP requester).  NAT-PMP and PCP identify their mappings
 * this way, never by the first of the internal port (that may be a UPnP
 * mapping of the same host).  First in key order if several. */
struct mapping *store_find_owned(struct store *s, uint8_t proto, const struct in6_addr *iaddr,
				 uint16_t iport, const struct mapping_owner *owner);
/* A mapping of this internal side held with the same owner protocol by
 * another identity (PCP: another nonce, RFC 6887 11.3); NULL if none. */
struct mapping *store_find_internal_other(struct store *s, uint8_t proto,
					  const struct in6_addr *iaddr, uint16_t iport,
					  const struct mapping_owner *owner);
/* Delete m on behalf of who (NULL = admin).  UPnP: store_del()'s rule.
 * NAT-PMP and PCP: only the identity that holds it (ST_E_NOT_OWNER, or
 * ST_E_NONCE for another PCP nonce); static mappings never. */
enum store_result store_del_as(struct store *s, struct mapping *m,
			       const struct mapping_owner *who);
/* nth mapping in the stable order (proto, eport, rhost); NULL past the end. */
struct mapping *store_nth(struct store *s, size_t n);
size_t store_count(const struct store *s);
size_t store_count_client(struct store *s, const struct in6_addr *iaddr);

/* Visit mappings with eport in [lo, hi] (proto 0 = any protocol) in key
 * order; stop when cb returns nonzero.  Returns the number visited. */
typedef int (*store_visit_cb)(struct mapping *m, void *arg);
size_t store_range(struct store *s, uint8_t proto, uint16_t lo, uint16_t hi,
		   store_visit_cb cb, void *arg);
/* Delete every mapping the owner (address, owner_proto, PCP nonce; NULL =
 * the all-zero nonce of NAT-PMP) holds, of this proto (0 = any) and, when
 * not NULL, to this internal address: NAT-PMP and PCP "delete all".
 * Walks the owner's own list, never the whole store.  Returns the count
 * deleted. */
size_t store_del_owner(struct store *s, enum owner_proto op, const struct in6_addr *addr,
		       uint8_t proto, const struct in6_addr *iaddr, const uint8_t *nonce);

/* Seconds of lease left (0 = permanent). */
uint32_t store_lease_left(const struct store *s, const struct mapping *m);

/* Permission check alone (miniupnpd semantics, first match wins). */
bool store_permitted(const struct store *s, uint16_t eport, const struct in6_addr *iaddr,
		     uint16_t iport, const char *desc);

/* Re-install everything the store holds (firewall reload).  0 / -1.
 * The journal's mark then names the kernel's generation after it, unless
 * an add of the one-by-one fallback went unanswered: 0, ctx->fw_suspect
 * left set (the next paced re-install settles it). */
int store_reinstall(struct store *s);
/* igdd changed the kernel beside the mappings (its external addresses, a
 * repair): the kernel holds the journal's mappings at the generation its
 * change made, which the journal's mark names now (written, not synced:
 * a mark is of this boot only), so that a restart after a kill -9 or
 * SIGQUIT adopts them instead of reading them all.  Nothing while a
 * reconcile runs, after a failed repair, or while another process's
 * change of igdd's objects waits for the daemon's look. */
void store_mark_kernel(struct store *s);
/* Does the kernel hold as many elements as the store's mappings make
 * (fw_ops.verify_start/verify_step)?  start: 2 under way (or 1: no
 * backend to ask), -1 error; then each step reads a little of the answer:
 * 2 under way, 1 agree, 0 differ, -1 error.  O(n) in all, in steps of
 * about a millisecond: for a periodic check, never on a request.  The
 * answer counts only if store_fw_generation() did not move meanwhile.
 * cancel ends one that stops before its answer (what it left half-read
 * goes). */
int store_fw_verify_start(struct store *s);
int store_fw_verify_step(struct store *s);
void store_fw_verify_cancel(struct store *s);
/* Moves on every add, refresh and delete. */
uint64_t store_generation(const struct store *s);
/* Moves on every change that may change the kernel's sets' element
 * counts or their layout: not on a renewal that changed nothing (its
 * elements stay, their timeouts renewed in place). */
uint64_t store_fw_generation(const struct store *s);

/* Change listeners: every one is called, in the order added (those added
 * with store_add_listener_last() after the others), for every
 * change of a mapping and every request the store refused (GENA and
 * SystemUpdateID, the mapping log, later the control socket's watchers,
 * the admin page, the relay, PCP's removal notices).  0, or -1 when
 * STORE_MAX_LISTENERS are
 * registered already.  Lease replay at start tells nobody. */
#define STORE_MAX_LISTENERS	8
enum store_event {
	STORE_EV_ADDED,		/* a new mapping */
	STORE_EV_CHANGED,	/* refreshed with a change: internal port, enabled,
				 * description or owner */
	STORE_EV_RENEWED,	/* refreshed: only its lease renewed */
	STORE_EV_DELETED,	/* deleted on request */
	STORE_EV_EXPIRED,	/* its lease ended */
	STORE_EV_IDLE,		/* removed by the idle cleanup */
	STORE_EV_POLICY,	/* removed by store_recheck(): why (ST_E_PERMISSION,
				 * ST_E_NOT_LAN) */
	/* refusals (nothing changed; the events above are the changes) */
	STORE_EV_REFUSED,	/* an add or refresh the store refused: why */
	STORE_EV_DEL_REFUSED,	/* a deletion the store refused: why */
};
#define STORE_EV_IS_CHANGE(ev)	((ev) < STORE_EV_REFUSED)
struct store_change {
	enum store_event ev;
	/* The mapping; for REFUSED, the request as the store read it (an
	 * add) or the mapping a delete was refused on. */
	const struct mapping *m;
	const struct in6_addr *by;	/* who asked; NULL: the daemon (expiry, idle, admin) */
	uint32_t lifetime;		/* ADDED, CHANGED, RENEWED: granted; REFUSED: asked
					 * (s, 0 = permanent) */
	enum store_result why;		/* REFUSED, POLICY */
};
typedef void (*store_change_cb)(void *arg, const struct store_change *ch);
int store_add_listener(struct store *s, store_change_cb cb, void *arg);
/* The same, called after every listener added with store_add_listener(),
 * whenever added: the relay's, which forgets the upstream's view of a
 * removed mapping that the others may still ask for (upstream_view():
 * PCP's removal notice names the upstream's address and port). */
int store_add_listener_last(struct store *s, store_change_cb cb, void *arg);

const struct store_stats *store_get_stats(const struct store *s);

/* Every mapping in key order, then every pinhole in UniqueID order: *out
 * (malloc'd, NULL when there are none; the caller frees it) holds n
 * pointers, valid until the next change.  0, or -1 (ENOMEM). */
int store_list(struct store *s, const struct mapping ***out, size_t *n);
/* The kernel counters of ms[0..n) (from store_list()) into out[0..n):
 * one dump of the backend whatever n; zeros for a disabled mapping and
 * without a backend.  0 / -1. */
struct fw_counter;
int store_counters(struct store *s, const struct mapping *const *ms, size_t n,
		   struct fw_counter *out);
/* Mappings held by owner protocol op (OWNER_STATIC = manual) of this
 * protocol (IPPROTO_TCP, IPPROTO_UDP; 0 = any).  O(1). */
size_t store_count_source(const struct store *s, enum owner_proto op, uint8_t proto);
/* The same for the IPv6 pinholes. */
size_t store_pin_count_source(const struct store *s, enum owner_proto op, uint8_t proto);
/* The policy changed (reload: permission rules, served LANs): every
 * mapping or pinhole (its port and, for mac= rules, its host's MAC as the
 * neighbour table has it now) the rules or the LAN-host check no longer
 * allow is removed from
 * the kernel and the store, each logged with the reason; the listeners
 * hear of each (GENA).  Manual forwards answer to the LAN-host check
 * only.  Returns the number removed. */
size_t store_recheck(struct store *s);
/* Does the policy in force still allow m (its internal client on a
 * served LAN, the permission rules)?  ST_OK, ST_E_NOT_LAN or
 * ST_E_PERMISSION: what store_recheck() asks of each mapping, and
 * store_confirm() of a reservation. */
enum store_result store_policy_verdict(struct store *s, const struct mapping *m);
/* The configuration changed (reload): timers follow it
 * (clean_ruleset_interval). */
void store_reconfigure(struct store *s);

/* NAT-PMP/PCP: bound a requested lifetime (seconds) by min_lifetime and
 * max_lifetime (0 = no bound).  UPnP does not use it. */
uint32_t store_clamp_lifetime(const struct store *s, uint32_t lifetime);

/* Remove every mapping whose lease ended at or before now_ms (monotonic
 * ms) and re-arm the timer.  The store's timer calls it; tests call it
 * with a time of their choosing. */
void store_expire_now(struct store *s, uint64_t now_ms);

/* Is this external port used by a socket of the gateway itself?  The
 * default takes a snapshot of the gateway's sockets (portinuse.c) at most
 * once per request, or once per store_hold() for all the requests in it;
 * cb NULL turns the check off (unit tests install a fake). */
typedef bool (*store_port_in_use_cb)(void *arg, uint8_t proto, uint16_t eport);
void store_set_port_in_use_cb(struct store *s, store_port_in_use_cb cb, void *arg);

/* Is this address one of the gateway's own (any interface)?  Checked
 * for a new mapping's internal client, on top of perm_lan_host(); the
 * default keeps the getifaddrs() list for at most a second; cb NULL turns
 * it off (unit tests). */
typedef bool (*store_local_addr_cb)(void *arg, const struct in6_addr *a);
void store_set_local_addr_cb(struct store *s, store_local_addr_cb cb, void *arg);

/* The MAC address (device) of an address, from the neighbour table
 * (neigh.c by default; unit tests install a fake), and the interface the
 * entry is on.  true and mac, *ifindex set, or false when unknown. */
typedef bool (*store_mac_cb)(void *arg, const struct in6_addr *a, uint8_t mac[6],
			     unsigned *ifindex);
void store_set_mac_cb(struct store *s, store_mac_cb cb, void *arg);

/* --- IPv6 pinholes (mapping_is_pinhole(): no NAT, an IPv6 client) -----
 * Held beside the port mappings under the same policy: the client must
 * be a host on a LAN's IPv6 prefix (perm_lan_host()), the permission
 * rules apply with the pinhole's port as both external and internal port
 * (IPv6 prefixes and mac= rules match IPv6 clients), quotas count both,
 * leases, expiry, idle cleanup, restart and firewall reload cover both.
 * Secure mode: a client opens pinholes only to its own addresses (the
 * same address, or an address with the same MAC in the neighbour table),
 * unless STORE_F_THIRD_PARTY. */

/* Open or refresh.  req: proto, iaddr (IPv6), iport (not 0), rhost (NULL
 * or :: = any remote host), rport (0 = any), desc, enabled, owner; eport
 * is ignored.  A pinhole with the same (proto, rhost, rport, iaddr, iport)
 * held by the same protocol identity (store_find_owned()'s) is refreshed
 * instead (its UniqueID kept); with STORE_F_CHECK_NONCE one held by
 * another PCP nonce is ST_E_NONCE.  *out (if not NULL) is the pinhole. */
enum store_result store_pin_add(struct store *s, const struct mapping *req,
				uint32_t lifetime, unsigned flags, struct mapping **out);
/* The pinhole with this UniqueID, or NULL. */
struct mapping *store_pin_find(struct store *s, uint16_t uid);
/* May who manage (update, delete, read counters of) pinhole m?  NAT-PMP/
 * PCP: the identity that holds it (ST_E_NONCE for another PCP nonce).
 * UPnP: in secure mode the address that made it or the pinhole's client
 * host (same address or same MAC), otherwise any UPnP requester; static
 * pinholes never.  ST_OK or ST_E_NOT_OWNER. */
enum store_result store_pin_may(struct store *s, const struct mapping *m,
				const struct mapping_owner *who);
/* New lease for m (seconds from now, not 0), on behalf of who (checked as
 * store_pin_may()); the kernel element's timeout follows. */
enum store_result store_pin_update(struct store *s, struct mapping *m, uint32_t lifetime,
				   const struct mapping_owner *who);
/* Delete m on behalf of who (NULL = admin; checked as store_pin_may()). */
enum store_result store_pin_del(struct store *s, struct mapping *m,
				const struct mapping_owner *who);
/* Packets that went through m (the kernel element's counter).  0 / -1
 * (no backend, or the kernel cannot say). */
int store_pin_packets(struct store *s, const struct mapping *m, uint64_t *packets);
/* PCP PEER (RFC 6887 12): the outbound flow of p (the backend's peer op,
 * ct.h) for who, under the policy of a new mapping: the internal address
 * is a LAN host, in secure mode one of who's own (STORE_F_THIRD_PARTY
 * lifts that).  IPv4 flows are translated to the external address.
 * ST_OK with p's external side set; ST_E_NO_PORT when no port is free;
 * ST_E_FIREWALL when the kernel refuses (or cannot: no backend). */
struct ct_peer;
enum store_result store_peer(struct store *s, struct ct_peer *p,
			     const struct mapping_owner *who, unsigned flags);
/* Is inbound IPv6 filtered, so that a pinhole means something (the
 * backend's v6_guarded; no backend: yes)?  Read at most once a second. */
bool store_pin_firewall(struct store *s);
size_t store_pin_count(const struct store *s);
/* nth pinhole in UniqueID order; NULL past the end. */
struct mapping *store_pin_nth(struct store *s, size_t n);

/* Candidate ports a free-port search may look up (default STORE_SEARCH_LIMIT). */
void store_set_search_limit(struct store *s, unsigned limit);

/* One idle-cleanup pass now (clean_ruleset_threshold semantics): when more
 * than the threshold exist, remove non-static mappings whose backend packet
 * counter did not change since the previous pass.  Returns the number
 * removed.  The store runs it every clean_ruleset_interval seconds. */
size_t store_idle_pass(struct store *s);

/* Copy a description into dst[size]: control characters and bytes that
 * are not valid UTF-8 become '?', and it is cut (on a character boundary)
 * to fit.  store_add() applies it to every description. */
void store_sanitize_desc(char *dst, size_t size, const char *src, size_t srclen);

#endif
