/* ctx.h - the one context struct passed to every module. */
#ifndef IGDD_CTX_H
#define IGDD_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "conf.h"
#include "counters.h"
#include "loop.h"

struct store;
struct fw;
struct fw_ops;
struct ssdp;
struct http;
struct events;
struct pmp;
struct pcp_update;
struct iface_watch;
struct upstream;
struct stun;
struct svc;
struct signals;
struct control;
struct maplog;
struct admin;

/* An IPv6 address of a LAN interface, with its prefix length. */
#define LAN_MAX_ADDR6	8
struct lan_addr6 {
	struct in6_addr addr;
	uint8_t plen;
};

/* A LAN interface we serve (resolved from listening_ip). */
struct lan_iface {
	char name[IF_NAMESIZE];
	unsigned ifindex;
	struct in_addr addr, mask;
	bool gone;		/* torn down: the slot is free (slots never move) */
	/* IPv6 (none with ipv6_disable): the interface's addresses, link-local
	 * included, re-read by iface.c when they change */
	struct lan_addr6 addr6[LAN_MAX_ADDR6];
	unsigned n_addr6;
};


#define CTX_MAX_HOOKS 8
struct igdd_ctx;
typedef void (*ctx_hook)(struct igdd_ctx *ctx);

struct igdd_ctx {
	struct config cfg;
	struct loop loop;

	struct lan_iface lan[CFG_MAX_LISTEN];
	unsigned n_lan;
	unsigned ext_ifindex;
	struct in_addr ext_addr;	/* what we report; 0 = unknown */
	bool ext_up;
	struct in_addr wan_addr;	/* ext_ifname's own address (the local DNAT's,
					 * and the internal address upstream) */
	struct in_addr learnt_addr;	/* from the upstream gateway or STUN; 0 = none */
	bool relay_active;		/* an upstream protocol was chosen (upstream.c):
					 * its address wins over STUN's */
	bool epoch_reset;		/* start a new epoch even at the same address */

	char uuid[37];			/* root device; embedded ones derive from it */
	uint32_t bootid;		/* BOOTID.UPNP.ORG, changes each start */
	uint32_t configid;
	uint32_t system_update_id;
	int64_t start_wall;		/* wall clock at start (BOOTID.UPNP.ORG) */
	uint64_t start_mono;		/* monotonic ms at start (uptime) */
	/* NAT-PMP/PCP epoch (pmp.c): when it began (monotonic ms) and the
	 * external address it counts for */
	uint64_t epoch_mono;
	struct in_addr epoch_addr;

	const struct fw_ops *fw_ops;
	struct fw *fw;
	struct store *store;
	struct loop_timer fw_check;	/* daemon.c: the firewall watchdog */
	struct loop_fd fw_events;	/* daemon.c: its change notifications */
	unsigned fw_dirty;		/* daemon.c: FW_EV_* seen since the last check */
	/* The kernel may not hold the store's mappings (no journal mark):
	 * a repair failed (store.c sets it, a successful store_reinstall()
	 * clears it), or notifications were lost and no contents check has
	 * agreed since (daemon.c; store_reinstall() clears it too). */
	bool fw_suspect, fw_unverified;
	void (*fw_poll)(struct igdd_ctx *ctx);	/* daemon.c: the notifications that
					 * wait, read into fw_dirty (NULL: none) */
	uint64_t fw_verified;		/* daemon.c: last contents check or repair
					 * (monotonic ms; paces repairs) */
	uint64_t fw_verify_due;		/* daemon.c: when the next check is due */
	unsigned fw_verify_stops;	/* daemon.c: checks stopped or interrupted since
					 * the last verdict */
	bool fw_verify_told;		/* daemon.c: a stop logged since */
	uint64_t fw_verify_gen;		/* daemon.c: store generation when it began */
	bool fw_verifying;		/* daemon.c: a contents check under way */
	bool stop_keeps_kernel;		/* signals.c: SIGQUIT, a stop for a restart */
	struct loop_timer ready_check;	/* daemon.c: ready once the restore is over */

	/* protocol modules' private state */
	struct ssdp *ssdp;
	struct http *http;
	struct events *events;
	struct pmp *pmp;
	struct pcp_update *pcp_update;
	struct iface_watch *iface_watch;	/* iface.c: rtnetlink */
	struct upstream *upstream;	/* upstream.c: the relay to a CGN */
	struct stun *stun;		/* stun.c */
	struct svc *svc;		/* svc.c: readiness, pid file, instance lock */
	struct signals *signals;	/* signals.c */
	struct maplog *maplog;		/* maplog.c: the log of mapping changes */

	struct counters counters;	/* counters.h: per protocol, in one place */

	/* the command line, for a reload (reload.c): main()'s, alive as
	 * long as the process */
	int argc;
	char **argv;
	/* reload the configuration (reload.c sets it; NULL: cannot); msg
	 * gets one line per change or the error.  0, or -1: refused. */
	int (*reload)(struct igdd_ctx *ctx, char *msg, size_t msgsize);
	struct control *control;	/* control.c: the control socket */
	struct admin *admin;		/* admin.c: the admin page */

	/* called after the external address or link state changed */
	ctx_hook ext_hooks[CTX_MAX_HOOKS];
	unsigned n_ext_hooks;
	/* called after any address or link change of any interface */
	ctx_hook addr_hooks[CTX_MAX_HOOKS];
	unsigned n_addr_hooks;
};

/* Register fn to run when the external address or link changes. */
void ctx_add_ext_hook(struct igdd_ctx *ctx, ctx_hook fn);
/* Run them all, in the order registered. */
void ctx_run_ext_hooks(struct igdd_ctx *ctx);
/* Register fn to run after any interface address or link change (the
 * rtnetlink watcher's debounced batches), whether or not the reported
 * external address moved: the firewall's set of external addresses
 * follows the WAN interface's secondary addresses too. */
void ctx_add_addr_hook(struct igdd_ctx *ctx, ctx_hook fn);

/* LAN interfaces come and go in slots of ctx->lan that never move (the
 * front ends keep their per-interface state by slot): add takes a free
 * slot (a gone one, or the next), remove marks it gone.  The front ends'
 * setup/teardown are the daemon's (daemon_lan_up/down).  Slot, or -1. */
int ctx_lan_add(struct igdd_ctx *ctx, const struct lan_iface *lan);
void ctx_lan_remove(struct igdd_ctx *ctx, unsigned slot);

/* Is this source address on one of our LAN networks?  (Nothing is ever
 * answered to the WAN side.)  Returns the matching interface or NULL. */
const struct lan_iface *ctx_lan_for_addr(const struct igdd_ctx *ctx, struct in_addr a);
const struct lan_iface *ctx_lan_by_ifindex(const struct igdd_ctx *ctx, unsigned ifindex);
/* The slot on interface ifindex whose subnet holds a (an interface may
 * carry several listening_ip: a secondary subnet), or NULL. */
const struct lan_iface *ctx_lan_for_addr_on(const struct igdd_ctx *ctx, struct in_addr a,
					    unsigned ifindex);
/* Slots that serve one interface share its per-interface parts (the
 * multicast groups, the IPv6 sockets): one of them holds each, and hands
 * it over on teardown.  The first slot other than slot, in use, on slot's
 * interface, for which has(arg, it) is true; -1 when none. */
int ctx_lan_sibling(const struct igdd_ctx *ctx, unsigned slot,
		    bool (*has)(const void *arg, unsigned slot), const void *arg);
/* A front end's sockets on the LAN slots (http.c's listeners, pmp.c's
 * sockets): one IPv4 socket per slot, one IPv6 socket per interface, held
 * by one of its slots.  CTX_LAN_SOCKS(a4, a6, type) describes them: two
 * arrays of type by slot (IPv4, IPv6), each element with a struct loop_fd
 * lfd and a bool open (the macro checks those types). */
struct ctx_lan_socks {
	void *v4, *v6;
	size_t size, lfd_at, open_at;
};
#define CTX_LAN_SOCKS(a4, a6, type) ((struct ctx_lan_socks){				\
	.v4 = 1 ? (a4) : (type *)NULL, .v6 = 1 ? (a6) : (type *)NULL, .size = sizeof(type),	\
	.lfd_at = offsetof(type, lfd) + 0 * sizeof(&((type *)NULL)->lfd == (struct loop_fd *)NULL), \
	.open_at = offsetof(type, open) + 0 * sizeof(&((type *)NULL)->open == (bool *)NULL) })
/* Has slot's interface its IPv6 socket open (slot's own or a sibling's)?
 * Then slot opens none. */
bool ctx_lan_has6(const struct igdd_ctx *ctx, unsigned slot, const struct ctx_lan_socks *s);
/* slot is torn down: its open sockets leave the loop and close, but its
 * IPv6 one, which goes on, as it is, for a slot on the same interface
 * that stays (its IPv4 socket open), when there is one and the loop takes
 * it back. */
void ctx_lan_socks_close(struct igdd_ctx *ctx, unsigned slot, const struct ctx_lan_socks *s);
/* IPv6: is a on a LAN?  On a LAN interface's (non-link-local) prefix, or
 * link-local with the scope (ifindex) of a LAN interface.  ifindex 0: the
 * scope is unknown, a link-local address is on no LAN.  The interface or
 * NULL. */
const struct lan_iface *ctx_lan_for_addr6(const struct igdd_ctx *ctx, const struct in6_addr *a,
					  unsigned ifindex);
/* Has any LAN interface a global or ULA IPv6 address (a prefix pinholes
 * can be made in)? */
bool ctx_lan_has_prefix6(const struct igdd_ctx *ctx);
/* The IPv4 address of the LAN interface that has IPv6 address a (0.0.0.0
 * if none). */
struct in_addr ctx_lan_v4_of_addr6(const struct igdd_ctx *ctx, const struct in6_addr *a);
/* One of the LAN interfaces' own IPv6 addresses? */
bool ctx_lan_own_addr6(const struct igdd_ctx *ctx, const struct in6_addr *a);

/* Seconds since the start of the epoch (RFC 6886 §3.6, RFC 6887 §8.5),
 * on the monotonic clock: since igdd started (pmp_init()) or since the
 * external address last moved to a new one. */
uint32_t ctx_epoch(const struct igdd_ctx *ctx);
/* Follow ctx->ext_addr: a usable address other than the one the epoch
 * counts for starts a new epoch at 0 (RFC 6887 §8.5: the epoch MUST be
 * reset when the external address changes).  No address, or the same one
 * back, keeps the epoch, unless ctx->epoch_reset asks for a new one (the
 * relay's upstream lost its mappings: RFC 7648).  Returns true when it
 * started a new one. */
bool ctx_epoch_follow(struct igdd_ctx *ctx);

#endif
