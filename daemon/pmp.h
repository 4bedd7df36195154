/* pmp.h - UDP 5351 server: NAT-PMP (RFC 6886) and PCP (RFC 6887). */
#ifndef IGDD_PMP_H
#define IGDD_PMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct igdd_ctx;

#define PMP_SERVER_PORT		5351
#define PMP_CLIENT_PORT		5350	/* announcements go to 224.0.0.1:5350 */
#define PMP_MAX_DATAGRAM	1100	/* RFC 6887 §7: the largest PCP message */

/* Start, with every LAN interface set up. 0 ok, -1 fatal. */
int pmp_init(struct igdd_ctx *ctx);
/* Per LAN interface (slot in ctx->lan): a socket on its address, port
 * 5351, or none.  Setting up a slot set up already is a no-op.  0 / -1. */
int pmp_iface_setup(struct igdd_ctx *ctx, unsigned slot);
void pmp_iface_teardown(struct igdd_ctx *ctx, unsigned slot);
/* Say goodbye where the protocol wants it, close everything. */
void pmp_shutdown(struct igdd_ctx *ctx);
/* The ext hook: the external address or link changed.  A new address
 * starts a new epoch (ctx_epoch_follow()) and a schedule that tells it
 * with NAT-PMP announcements, PCP ANNOUNCE and PCP MAP updates; the same
 * address back (a link flap) is announced by NAT-PMP (and whatever a
 * schedule still running tells); no address, nothing.  The restart
 * schedule of pmp_init() is the same code. */
void pmp_ext_addr_changed(struct igdd_ctx *ctx);
/* What each step of an announcement schedule tells. */
enum pmp_announce_what {
	PMP_ANN_NATPMP = 1,	/* the external address (RFC 6886 §3.2.1), while there is one */
	PMP_ANN_PCP = 2,	/* a PCP ANNOUNCE: the epoch started again (RFC 6887 §14.1) */
	PMP_ANN_PCP_MAP = 4,	/* a round of PCP MAP updates (RFC 6887 §14.2, pcp_update.c) */
};
/* Steps the running schedule has still to send (0: none); *what (if not
 * NULL) gets what they tell, enum pmp_announce_what bits. */
unsigned pmp_announce_left(const struct igdd_ctx *ctx, unsigned *what);
/* The wait before announcement k + 1 of a schedule, once announcement k
 * (0 = the first, sent at once) went out: 250 ms, then doubling. */
uint64_t pmp_announce_gap_ms(unsigned k);

/* Dispatch one datagram on its version byte: 0 NAT-PMP, anything else
 * PCP (which answers versions it does not speak with UNSUPP_VERSION).
 * Pure apart from the store calls; same return convention as
 * natpmp_handle(): 1 answer in resp (PMP_MAX_DATAGRAM bytes), 0 ignore,
 * -1 malformed.  Each datagram is counted here (ctx->counters: a request
 * of its protocol, then its answer's result code or the drop's cause). */
int pmp_handle(struct igdd_ctx *ctx, const struct in6_addr *from,
	       const uint8_t *req, size_t len, uint8_t *resp, size_t *resplen);

#define PMP_BATCH		16	/* datagrams per recvmmsg(), and per lease sync */

/* pmp_handle() that may defer an answer to the relay's upstream
 * (upstream.h): returns PMP_DEFERRED with w registered; pmp_answer()
 * then writes the answer to the same request bytes. */
#define PMP_DEFERRED		2
#define PMP_MAX_DEFERRED	256	/* answers waiting at once; more: network failure */
struct upstream_waiter;
struct upstream_answer;
int pmp_handle_w(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req,
		 size_t len, uint8_t *resp, size_t *resplen, struct upstream_waiter *w);
int pmp_answer(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req,
	       size_t len, const struct upstream_answer *a, uint8_t *resp, size_t *resplen);

/* One datagram of a batch and its answer. */
struct pmp_req {
	struct in6_addr from;		/* the requester, v4-mapped */
	const uint8_t *req;
	size_t len;
	struct upstream_waiter *w;	/* where a deferred answer goes, or NULL */
	int rc;				/* pmp_handle()'s return */
	size_t resplen;
	uint8_t resp[PMP_MAX_DATAGRAM];
};

/* Group commit: pmp_handle() every request of a batch (n <= PMP_BATCH)
 * under store_hold_batch(): the mapping changes they made go to the
 * kernel in one transaction and are made durable with one lease-file
 * sync (store_commit()).  If the kernel refuses the transaction, the
 * store takes it all back and the requests are handled again, each
 * change its own transaction (a refused one answered as a refusal).  The
 * answers may be sent only after it returns, and are what they would be
 * one at a time, a failed sync included.  Returns store_commit()'s
 * value. */
int pmp_handle_batch(struct igdd_ctx *ctx, struct pmp_req *reqs, size_t n);

/* Send one unsolicited datagram from port 5351 of the LAN socket that
 * serves dst (e.g. PCP's §14.2 MAP updates).  0, or -1 (no such LAN,
 * no socket, send error). */
int pmp_sendto(struct igdd_ctx *ctx, struct in_addr dst, uint16_t port, const uint8_t *buf,
	       size_t len);

#define PMP_ANNOUNCE_COUNT	10	/* RFC 6886 §3.2.1: 10 announcements */
#define PMP_ANNOUNCE_FIRST_MS	250	/* 250 ms apart, then doubling */

#endif
