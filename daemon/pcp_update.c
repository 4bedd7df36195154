/* pcp_update.c - RFC 6887 §14.2: when the external address changes, the
 * server tells each PCP client about its mappings with unsolicited MAP
 * responses sent to the address and port its requests came from, so the
 * client learns the new address without waiting for its next renewal.
 * The mappings themselves stay (same ports, same lifetimes): only the
 * address in front of them moved.  The rounds follow pmp.c's announcement
 * schedule (10 over about two minutes, with the PCP ANNOUNCE); each round
 * is cut into slices of PCP_UPDATE_BATCH mappings, one per loop iteration.
 *
 * The port a client used is not part of a mapping, so the last port seen
 * per client address and mapping nonce is remembered here (a small table,
 * least recently seen replaced): two PCP clients on one host each get
 * their own mappings' news.  A mapping whose client port is unknown
 * (restored from the lease file, or pushed out of the table) is told at
 * the PCP client port 5350, where clients listen for ANNOUNCE (§14.1.3).
 *
 * A mapping that a configuration change removes (a reload's permission
 * rules; a host no longer on a served LAN cannot be reached) is told the
 * same way, over IPv4, with
 * NOT_AUTHORIZED (§8.3), three times as §14.2 asks of an update (250 ms,
 * then 500 ms apart): the datagrams are made when the store removes it
 * and queued (PCP_NOTICE_MAX at most, the rest counted and logged), sent
 * PCP_UPDATE_BATCH a loop iteration. */
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "log.h"
#include "pcp.h"
#include "pcp_update.h"
#include "store.h"
#include "util.h"

struct client_port {
	struct in6_addr addr;
	uint8_t nonce[PCP_NONCE_LEN];
	uint16_t port;
	uint64_t seen;
};

struct notice {				/* a removal's NOT_AUTHORIZED, queued */
	uint64_t due;			/* its next sending (ms, monotonic) */
	struct in_addr dst;
	uint16_t port;
	uint8_t left;			/* sendings to come */
	uint8_t len;
	uint8_t buf[PCP_NOTICE_LEN];
};

struct pcp_update {
	struct igdd_ctx *ctx;
	struct loop_timer notice_timer;
	struct notice *notices;		/* n_notices of them, NULL when none */
	size_t n_notices, notices_lost;
	bool nomem_logged;
	struct loop_timer slice;	/* the rest of the round, next iteration */
	size_t next;			/* store position the round goes on from */
	size_t sent;			/* this round, so far */
	struct client_port ports[PCP_UPDATE_CLIENTS];
	unsigned n_ports;
	uint64_t clock;
	/* an index of ports (hash chains) and their order of use (most
	 * recent first): slot k + 1, 0 for none */
	uint16_t head[2 * PCP_UPDATE_CLIENTS], chain[PCP_UPDATE_CLIENTS];
	uint16_t newer[PCP_UPDATE_CLIENTS], older[PCP_UPDATE_CLIENTS];
	uint16_t newest, oldest;
	pcp_update_send_fn send;
};

static bool
same_client(const struct client_port *c, const struct in6_addr *client, const uint8_t *nonce)
{
	return addr_eq(&c->addr, client) && memcmp(c->nonce, nonce, PCP_NONCE_LEN) == 0;
}

static unsigned
client_hash(const struct in6_addr *client, const uint8_t *nonce)
{
	uint32_t h = fnv1a(fnv1a(FNV1A_INIT, client, sizeof(*client)), nonce, PCP_NONCE_LEN);

	return (h ^ h >> 16) % (2 * PCP_UPDATE_CLIENTS);
}

/* The slot of (client, nonce) + 1, 0 if none. */
static unsigned
client_find(const struct pcp_update *upd, const struct in6_addr *client, const uint8_t *nonce)
{
	unsigned k;

	for (k = upd->head[client_hash(client, nonce)]; k != 0; k = upd->chain[k - 1])
		if (same_client(&upd->ports[k - 1], client, nonce))
			return k;
	return 0;
}

/* Slot k + 1 out of its chain and out of the order of use. */
static void
client_unlink(struct pcp_update *upd, unsigned k)
{
	uint16_t *p = &upd->head[client_hash(&upd->ports[k - 1].addr, upd->ports[k - 1].nonce)];

	while (*p != k)
		p = &upd->chain[*p - 1];
	*p = upd->chain[k - 1];
	*(upd->newer[k - 1] != 0 ? &upd->older[upd->newer[k - 1] - 1] : &upd->newest) =
		upd->older[k - 1];
	*(upd->older[k - 1] != 0 ? &upd->newer[upd->older[k - 1] - 1] : &upd->oldest) =
		upd->newer[k - 1];
}

/* Slot k + 1 (holding its client) into its chain, the most recent. */
static void
client_link(struct pcp_update *upd, unsigned k)
{
	uint16_t *h = &upd->head[client_hash(&upd->ports[k - 1].addr, upd->ports[k - 1].nonce)];

	upd->chain[k - 1] = *h;
	*h = (uint16_t)k;
	upd->newer[k - 1] = 0;
	upd->older[k - 1] = upd->newest;
	*(upd->newest != 0 ? &upd->newer[upd->newest - 1] : &upd->oldest) = (uint16_t)k;
	upd->newest = (uint16_t)k;
}

void
pcp_update_note(struct igdd_ctx *ctx, const struct in6_addr *client, const uint8_t *nonce,
		uint16_t port)
{
	struct pcp_update *upd = ctx->pcp_update;
	struct client_port *slot;
	unsigned k;

	if (upd == NULL || port == 0)
		return;
	k = client_find(upd, client, nonce);
	if (k == 0 && upd->n_ports < PCP_UPDATE_CLIENTS) {
		k = ++upd->n_ports;		/* a free slot, in no list yet */
	} else {
		if (k == 0)
			k = upd->oldest;	/* the least recently seen goes */
		client_unlink(upd, k);
	}
	slot = &upd->ports[k - 1];
	slot->addr = *client;
	memcpy(slot->nonce, nonce, PCP_NONCE_LEN);
	slot->port = port;
	slot->seen = ++upd->clock;
	client_link(upd, k);
}

uint16_t
pcp_update_port(const struct igdd_ctx *ctx, const struct in6_addr *client, const uint8_t *nonce)
{
	const struct pcp_update *upd = ctx->pcp_update;
	unsigned k;

	if (upd == NULL)
		return 0;
	k = client_find(upd, client, nonce);
	return k != 0 ? upd->ports[k - 1].port : 0;
}

/* The next PCP_UPDATE_BATCH mappings of the round: one unsolicited MAP
 * response each that is PCP's.  Positions are the store's order; a
 * mapping added or removed meanwhile may shift one in or out of this
 * round (a new mapping's own answer had the new address; the next round
 * catches the rest). */
static void
send_slice(struct pcp_update *u)
{
	struct igdd_ctx *ctx = u->ctx;
	uint8_t buf[PCP_MAX_LEN];
	size_t n, budget = PCP_UPDATE_BATCH;

	n = ctx->store != NULL && ctx->ext_addr.s_addr != 0 ? store_count(ctx->store) : 0;
	for (; u->next < n && budget > 0; u->next++, budget--) {
		const struct mapping *m = store_nth(ctx->store, u->next);
		uint16_t port;
		size_t len;

		if (m == NULL || m->owner->proto != OWNER_PCP || !addr_is_v4(&m->owner->addr))
			continue;
		len = pcp_map_update(ctx, m, buf, sizeof(buf));
		if (len == 0)
			continue;
		port = pcp_update_port(ctx, &m->owner->addr, m->owner->nonce);
		if (u->send(ctx, addr_to_v4(&m->owner->addr), port ? port : PCP_CLIENT_PORT,
			    buf, len) == 0)
			u->sent++;
	}
	if (u->next < n)	/* 1 ms: a later loop iteration, after the sockets */
		loop_timer_set(&ctx->loop, &u->slice, 1);
	else
		log_debug("PCP: %zu unsolicited MAP response(s) for the external address", u->sent);
}

static void
slice_timer(struct loop_timer *t)
{
	send_slice(container_of(t, struct pcp_update, slice));
}

void
pcp_update_round(struct igdd_ctx *ctx)
{
	struct pcp_update *upd = ctx->pcp_update;

	if (upd == NULL)
		return;
	loop_timer_cancel(&ctx->loop, &upd->slice);
	upd->next = 0;
	upd->sent = 0;
	send_slice(upd);
}

size_t
pcp_update_pending(const struct igdd_ctx *ctx)
{
	const struct pcp_update *upd = ctx->pcp_update;
	size_t n;

	if (upd == NULL || !loop_timer_pending(&upd->slice) || ctx->store == NULL)
		return 0;
	n = store_count(ctx->store);
	return n > upd->next ? n - upd->next : 0;
}

/* The queued notices due now, PCP_UPDATE_BATCH at most; the timer set
 * for the next due one. */
static void
notice_fire(struct loop_timer *t)
{
	struct pcp_update *u = container_of(t, struct pcp_update, notice_timer);
	uint64_t now = time_mono_ms(), next = UINT64_MAX;
	size_t i = 0, budget = PCP_UPDATE_BATCH;

	while (i < u->n_notices) {
		struct notice *nt = &u->notices[i];

		if (nt->due <= now && budget > 0) {
			budget--;
			(void)u->send(u->ctx, nt->dst, nt->port, nt->buf, nt->len);
			nt->due = now + (nt->left == PCP_NOTICE_SENDS ? 250 : 500);
			if (--nt->left == 0) {
				*nt = u->notices[--u->n_notices];
				continue;
			}
		}
		if (nt->due < next)
			next = nt->due;
		i++;
	}
	if (u->n_notices == 0) {
		free(u->notices);
		u->notices = NULL;
		if (u->notices_lost > 0)
			log_warnx("PCP: %zu clients not told of mappings removed by the "
				  "configuration (more than %d at once)", u->notices_lost,
				  PCP_NOTICE_MAX);
		u->notices_lost = 0;
		return;
	}
	loop_timer_set(&u->ctx->loop, t, next <= now ? 1 : next - now);
}

/* A store change: a PCP client's mapping that the configuration removed
 * gets its NOT_AUTHORIZED queued (the mapping is valid only now). */
static void
notice_changed(void *arg, const struct store_change *ch)
{
	struct igdd_ctx *ctx = arg;
	struct pcp_update *u = ctx->pcp_update;
	const struct mapping *m = ch->m;
	struct notice *nt;
	uint16_t port;

	/* a client on a LAN no longer served has no socket to be told from */
	if (u == NULL || ch->ev != STORE_EV_POLICY || m->owner->proto != OWNER_PCP ||
	    !addr_is_v4(&m->owner->addr) || ctx_lan_for_addr(ctx, addr_to_v4(&m->owner->addr)) == NULL)
		return;
	if (u->notices == NULL && (u->notices = malloc(PCP_NOTICE_MAX * sizeof(*nt))) == NULL) {
		if (!u->nomem_logged)
			log_warnx("PCP: no memory for the notices of removed mappings");
		u->nomem_logged = true;
		return;
	}
	if (u->n_notices == PCP_NOTICE_MAX) {
		u->notices_lost++;
		return;
	}
	u->nomem_logged = false;
	nt = &u->notices[u->n_notices];
	nt->len = (uint8_t)pcp_map_unsolicited(ctx, m, PCP_NOT_AUTHORIZED, nt->buf, sizeof(nt->buf));
	if (nt->len == 0)
		return;
	port = pcp_update_port(ctx, &m->owner->addr, m->owner->nonce);
	nt->dst = addr_to_v4(&m->owner->addr);
	nt->port = port != 0 ? port : PCP_CLIENT_PORT;
	nt->left = PCP_NOTICE_SENDS;
	nt->due = 0;
	u->n_notices++;
	if (!loop_timer_pending(&u->notice_timer) || u->notice_timer.deadline > time_mono_ms())
		loop_timer_set(&ctx->loop, &u->notice_timer, 0);
}

size_t
pcp_update_notices(const struct igdd_ctx *ctx)
{
	return ctx->pcp_update != NULL ? ctx->pcp_update->n_notices : 0;
}

int
pcp_update_init(struct igdd_ctx *ctx, pcp_update_send_fn send)
{
	struct pcp_update *upd;

	if (ctx->pcp_update != NULL)
		return 0;
	upd = calloc(1, sizeof(*upd));
	if (upd == NULL)
		return -1;
	upd->ctx = ctx;
	upd->send = send;
	upd->slice.cb = slice_timer;
	upd->notice_timer.cb = notice_fire;
	/* told of removals through ctx (its pcp_update NULL after shutdown) */
	if (ctx->store != NULL && store_add_listener(ctx->store, notice_changed, ctx) < 0) {
		free(upd);
		return -1;
	}
	ctx->pcp_update = upd;
	return 0;
}

void
pcp_update_shutdown(struct igdd_ctx *ctx)
{
	struct pcp_update *upd = ctx->pcp_update;

	if (upd == NULL)
		return;
	loop_timer_cancel(&ctx->loop, &upd->slice);
	loop_timer_cancel(&ctx->loop, &upd->notice_timer);
	free(upd->notices);
	free(upd);
	ctx->pcp_update = NULL;
}
