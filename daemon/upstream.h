/* upstream.h - the relay: behind a carrier-grade NAT (or the ISP's own
 * router), every mapping the LAN makes here is also requested from the
 * upstream gateway, for this gateway's WAN address and the mapping's
 * local external port, through that gateway's PCP, NAT-PMP or UPnP IGD
 * (upstream_protocol).  One state machine per mapping, three client
 * sides.  A new mapping is reserved in the store (STORE_F_RESERVE) and
 * its LAN client is answered when the upstream has answered, within
 * UPSTREAM_WAIT_MS: committed on success, rolled back on a refusal or
 * no answer.  The relay then keeps the upstream mapping alive for as long
 * as the local one lives (renewals, re-requests after an upstream restart
 * or after a restart here), deletes it upstream when the local one goes,
 * and reports the upstream's external address and ports.  With
 * upstream_protocol=none (the default) every call here is the store's
 * plain answer. */
#ifndef IGDD_UPSTREAM_H
#define IGDD_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include "conf.h"
#include "store.h"

struct igdd_ctx;

/* upstream_protocol (enum upstream_proto, conf.h) as the key writes it. */
const char *upstream_proto_name(enum upstream_proto p);

/* A LAN request waits at most this long for the upstream's answer. */
#define UPSTREAM_WAIT_MS	4000

/* Why the upstream did not make a mapping: what each front end turns into
 * its own error (igd.c, natpmp.c, pcp.c). */
enum upstream_err {
	UPE_OK = 0,
	UPE_PORT,		/* that external port is not available upstream */
	UPE_AUTH,		/* not authorized */
	UPE_QUOTA,		/* the upstream's per-user quota */
	UPE_RESOURCES,		/* no resources (ports, mappings) upstream */
	UPE_NETWORK,		/* no answer in time, or no upstream */
	UPE_OTHER,		/* any other refusal */
};

/* What a request came to. */
struct upstream_answer {
	enum store_result local;	/* the store's refusal: before any upstream, or
					 * at its answer (store_confirm()) */
	enum upstream_err err;		/* UPE_OK: made (local == ST_OK) */
	int pcp_result;			/* the upstream's PCP result code, -1 if not PCP */
	struct in_addr ext;		/* the external address the world sees */
	uint16_t eport;			/* the external port the world sees */
	uint32_t lifetime;		/* seconds of lease left, 0 = permanent */
};

/* A deferred answer: the front end embeds one, and done() is called once,
 * later (never from inside upstream_add()), unless cancelled first. */
struct upstream_waiter {
	void (*done)(struct upstream_waiter *w, const struct upstream_answer *a);
	struct upstream_waiter *next;	/* the relay's */
	void *entry;			/* the relay's, while waiting */
};

#define UPSTREAM_EXACT	0x01	/* this external port or nothing (UPnP
				 * AddPortMapping, PCP PREFER_FAILURE) */

/* Add or refresh as store_add() does, then relay.  Returns 0 with the
 * answer in *a (the store refused, the mapping is already up upstream, or
 * there is no relay), or 1 when w is registered and will be told.  Without
 * a waiter (w NULL) a request that must wait is answered UPE_NETWORK now
 * (the upstream is still asked).  *out, when not NULL and the store made
 * or found the mapping, points at it (valid until the next store call). */
int upstream_add(struct igdd_ctx *ctx, const struct mapping *req, uint32_t lifetime,
		 unsigned store_flags, unsigned flags, struct upstream_waiter *w,
		 struct upstream_answer *a, struct mapping **out);
/* upstream_add() without a relay (upstream_base.c): the store's answer,
 * or UPE_NETWORK when mappings cannot be reached from outside. */
int upstream_add_plain(struct igdd_ctx *ctx, const struct mapping *req, uint32_t lifetime,
		       unsigned store_flags, struct upstream_answer *a, struct mapping **out);
/* After a store batch (store_hold_batch()) the front end made requests
 * in: undone (the kernel refused it, the store took it back), the entries
 * made for its reservations are dropped, never asked upstream; the caller
 * cancels its waiters and makes the requests again. */
void upstream_batch_end(struct igdd_ctx *ctx, bool undone);
/* The front end no longer waits (its client left): w is never called. */
void upstream_waiter_cancel(struct igdd_ctx *ctx, struct upstream_waiter *w);

/* Is a relay in use (an upstream protocol chosen)? */
bool upstream_active(const struct igdd_ctx *ctx);
/* The world's view of a local mapping: its external address and port
 * (the upstream's when relayed, else ours). */
void upstream_view(const struct igdd_ctx *ctx, const struct mapping *m, struct in_addr *ext,
		   uint16_t *eport);
/* The local external port of the mapping the world knows as (proto,
 * eport): the relay's when the upstream gave another port, else eport. */
uint16_t upstream_local_port(const struct igdd_ctx *ctx, uint8_t proto, uint16_t eport);

/* Can mappings be reached from outside at all?  False when no upstream
 * protocol answers and STUN saw a private or shared external address (or
 * a filtering NAT, unless ext_perform_stun=allow-filtered): requests for
 * mappings are then refused (UPnP 501, NAT-PMP 3, PCP NETWORK_FAILURE),
 * UPnP reports Disconnected. */
bool upstream_reachable(const struct igdd_ctx *ctx);

/* One line for logs and status: protocol, server, state, counts. */
const char *upstream_status(const struct igdd_ctx *ctx, char *buf, size_t size);
/* What the relay and STUN know, in the log (SIGUSR1, and at stop). */
void upstream_log_status(const struct igdd_ctx *ctx);

/* Start the relay (after store_restore(): the restored mappings are
 * requested again upstream); 0, or -1 when the configuration asks for a
 * relay that cannot start.  With upstream_protocol=none nothing starts. */
int upstream_init(struct igdd_ctx *ctx);
/* igdd --check: 0, or -1 with the reason on err (a relay asked of a
 * binary built without it). */
int upstream_check(const struct config *cfg, FILE *err);
/* SIGUSR1: the external address may have changed; probe the upstream
 * now. */
void upstream_recheck(struct igdd_ctx *ctx);
/* Stop: nothing is deleted upstream (the lease file keeps the mappings,
 * the next start asks for them again with the same nonces). */
void upstream_shutdown(struct igdd_ctx *ctx);

/* What the relay knows, for status (igddctl status). */
struct upstream_info {
	enum upstream_proto want;	/* upstream_protocol */
	enum upstream_proto using;	/* in use; UPSTREAM_NONE: none found (yet) */
	struct in_addr server;		/* 0: not known */
	const char *state;		/* "answering", "not answering", "searching" */
	struct in_addr ext;		/* the upstream's external address, 0 = unknown */
	size_t mappings;		/* relayed (live) */
	size_t deleting;		/* deletes upstream in flight */
};
/* False when there is no relay (upstream_protocol=none). */
bool upstream_get_info(const struct igdd_ctx *ctx, struct upstream_info *i);

/* Counters for status and shutdown. */
struct upstream_stats {
	/* refused: by the upstream; denied: by the store when the upstream's
	 * answer came (store_confirm(): the rules then, elements lost) */
	uint64_t requested, made, refused, denied, timed_out, renewed, lost, deleted;
	uint64_t rerequested, epoch_resets, dropped;
};
const struct upstream_stats *upstream_get_stats(const struct igdd_ctx *ctx);

/* RFC 6887 §8.5 / RFC 6886 §3.6: is a server's epoch (seconds) at now_ms
 * consistent with the previous one (prev at prev_ms)?  False when it went
 * back or moved slower than the client's clock allows: the server lost
 * its state. */
bool upstream_epoch_valid(uint32_t prev, uint64_t prev_ms, uint32_t epoch, uint64_t now_ms);

#endif
