/* upstream.c - the relay to an upstream gateway (upstream.h): one state
 * machine per relayed mapping, the client sides of PCP and NAT-PMP over
 * one UDP socket, the UPnP IGD control point (upstream_upnp.c) behind the
 * same driver interface, and the upstream's health: its epoch (RFC 6887
 * §8.5, RFC 6886 §3.6), a periodic probe, its external address.
 *
 * An entry is keyed by the local mapping's (protocol, external port): that
 * port is the internal port upstream.  Its states:
 *   NEW    the local mapping is reserved (pending in the store); the first
 *          request is out; its LAN clients wait (at most UPSTREAM_WAIT_MS):
 *          success commits, a refusal or no answer rolls back;
 *   UP     made upstream; renewed at half the upstream's lifetime;
 *   RENEW  a request for a live local mapping is out (renewal, a mapping
 *          made without the relay or restored from the lease file, every
 *          mapping again after the upstream lost its state); a refusal
 *          removes the local mapping (its clients are told), no answer is
 *          retried for as long as the local mapping lives;
 *   DEL    the local mapping is gone: lifetime 0 with the same nonce, a few
 *          times, then the entry goes (off the key index: a new mapping of
 *          the same port is a new entry).
 * Sends go through a queue drained UP_PUMP_BURST at a time, so that a
 * re-request of every mapping never floods the upstream or the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "iface.h"
#include "log.h"
#include "pmp_proto.h"
#include "store.h"
#include "stun.h"
#include "upstream.h"
#include "upstream_natpmp.h"
#include "upstream_pcp.h"
#include "upstream_upnp.h"
#include "util.h"

#define UP_MAX_WAITERS		8	/* LAN requests waiting on one mapping */
#define UP_PROBE_MS		10000	/* the upstream's health: epoch, address */
#define UP_PROBE_MISSES		2	/* probes unanswered: the upstream is down */
#define UP_AUTO_STEP_MS		1500	/* auto: the wait for each protocol's answer */
#define UP_AUTO_RETRY_MS	30000	/* auto: nothing answered, try again */
#define UP_SUSPECT_MS		1500	/* probes this often after a request went unanswered */
#define UP_PUMP_BURST		64	/* requests sent per loop iteration */
#define UP_RENEW_MAX_RT_MS	30000	/* longest wait between two tries of a renewal */
#define UP_DEL_TRIES		3
#define UP_MAX_LIFETIME		7200	/* asked for a longer (or permanent) local lease */
#define UP_MIN_LIFETIME		120
#define UP_MIN_RENEW_MS		1000
#define UP_TELL_DELAY_MS	1000	/* re-requests settle before the clients hear */
#define UP_CLIENT_PORT		5350	/* RFC 6887 §14.1: where ANNOUNCEs come */
#define UP_SERVER_PORT		5351

enum up_state { UE_NEW, UE_UP, UE_RENEW, UE_DEL };

struct upstream;

struct up_entry {
	struct upstream *u;
	struct up_entry *knext, *xnext;		/* key and outside-port hash chains */
	struct up_entry *prev, *next;		/* u->live or u->dead */
	struct up_entry *due_next;		/* the send queue */
	struct up_entry *batch_next;		/* u->batch */
	struct mapping *m;			/* the local mapping; NULL once gone */
	struct upstream_waiter *waiters;
	unsigned n_waiters;
	struct loop_timer timer;
	uint64_t deadline;			/* the waiters are answered by then */
	uint64_t sent_ms, rt;			/* last send, retransmission interval */
	uint64_t renew_at;			/* UP: when to renew */
	unsigned tries;
	uint32_t lifetime;			/* asked upstream (0: delete) */
	struct in_addr ext;			/* the upstream's external address for it */
	struct in_addr filter;			/* remote host restriction, 0 = none */
	uint8_t nonce[12];
	uint8_t proto;
	uint16_t lport, xport, want;		/* local port; upstream's port; suggested */
	enum up_state state;
	bool exact, due, in_x;
	bool in_batch;				/* made during a store batch */
	char desc[64];
};

struct up_result {
	enum upstream_err err;
	int pcp_result;				/* -1: not PCP */
	uint16_t xport;
	struct in_addr ext;			/* 0: not told */
	uint32_t lifetime;
	bool transient;				/* worth trying again as it is */
};

struct up_driver {
	enum upstream_proto proto;
	uint64_t irt;				/* first retransmission interval, ms */
	void (*send)(struct upstream *u, struct up_entry *e);
	void (*probe)(struct upstream *u);
	void (*forget)(struct upstream *u, struct up_entry *e);
};

struct upstream {
	struct igdd_ctx *ctx;
	const struct up_driver *drv;		/* NULL: no upstream (yet) */
	enum upstream_proto want;
	struct in_addr server;			/* PCP / NAT-PMP server */
	struct loop_fd lfd;			/* UDP 5350: PCP and NAT-PMP */
	bool sock_open;
	struct up_entry **khash, **xhash;
	size_t hsize, n;
	struct up_entry *live, *dead;		/* entries; deletes in flight */
	struct up_entry *due_head, *due_tail;
	struct up_entry *batch;			/* made during the store's batch */
	struct loop_timer pump, probe, tell;
	unsigned auto_step;			/* 0: not probing; 1 PCP, 2 NAT-PMP, 3 UPnP */
	bool have_epoch;
	uint32_t epoch;
	uint64_t epoch_ms;
	struct in_addr ext;			/* the upstream's external address */
	bool down;				/* declared unreachable */
	bool suspect;				/* a request went unanswered: probe soon */
	bool answered;				/* since the last probe */
	unsigned missed;
	struct upstream_stats st;
	struct upnp_cp *cp;			/* UPnP IGD control point */
	bool upnp_permanent;			/* the IGD takes only permanent leases */
	char probe_tag, canary_tag;		/* the control point's tags for probes */
	uint8_t buf[PCP_MAX_LEN + 4];
};

static const struct up_driver drv_pcp, drv_natpmp, drv_upnp;

/* --- indexes ---------------------------------------------------------- */

static size_t
hslot(const struct upstream *u, uint8_t proto, uint16_t port)
{
	return ((size_t)port * 2654435761u ^ proto) & (u->hsize - 1);
}

/* The entry of (proto, port) by local port, or by the upstream's port
 * (outside). */
static struct up_entry *
hash_find(const struct upstream *u, uint8_t proto, uint16_t port, bool outside)
{
	struct up_entry *e = (outside ? u->xhash : u->khash)[hslot(u, proto, port)];

	while (e != NULL && (e->proto != proto || (outside ? e->xport : e->lport) != port))
		e = outside ? e->xnext : e->knext;
	return e;
}

static struct up_entry *
key_find(const struct upstream *u, uint8_t proto, uint16_t lport)
{
	return hash_find(u, proto, lport, false);
}

static void
chain_del(struct up_entry **slot, struct up_entry *e, bool outside)
{
	for (; *slot != NULL; slot = outside ? &(*slot)->xnext : &(*slot)->knext)
		if (*slot == e) {
			*slot = outside ? e->xnext : e->knext;
			return;
		}
}

static void
outside_set(struct upstream *u, struct up_entry *e, uint16_t xport)
{
	size_t i;

	if (e->in_x)
		chain_del(&u->xhash[hslot(u, e->proto, e->xport)], e, true);
	e->in_x = false;
	e->xport = xport;
	if (xport == 0)
		return;
	i = hslot(u, e->proto, xport);
	e->xnext = u->xhash[i];
	u->xhash[i] = e;
	e->in_x = true;
}

/* Double the tables when they hold as many entries as slots. */
static void
hash_grow(struct upstream *u)
{
	size_t size = u->hsize * 2, i;
	struct up_entry **k = calloc(size, sizeof(*k)), **x = calloc(size, sizeof(*x)), *e;

	if (k == NULL || x == NULL) {
		free(k);
		free(x);
		return;		/* longer chains, still correct */
	}
	free(u->khash);
	free(u->xhash);
	u->khash = k;
	u->xhash = x;
	u->hsize = size;
	for (e = u->live; e != NULL; e = e->next) {
		i = hslot(u, e->proto, e->lport);
		e->knext = k[i];
		k[i] = e;
		if (e->in_x) {
			i = hslot(u, e->proto, e->xport);
			e->xnext = x[i];
			x[i] = e;
		}
	}
}

/* --- entries ---------------------------------------------------------- */

static void entry_fire(struct loop_timer *t);
static void queue_send(struct upstream *u, struct up_entry *e);

/* The nonce upstream: a PCP client's own (RFC 7648: responses are matched
 * by it), else one derived from what the lease file keeps of the mapping,
 * so that after a restart the same mapping asks with the same nonce and
 * the upstream refreshes it rather than refusing another nonce. */
static void
nonce_for(const struct upstream *u, const struct mapping *m, uint8_t *out)
{
	uint64_t h[2] = { 0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL };
	char key[160];
	size_t i, n;

	if (m->owner->proto == OWNER_PCP) {
		memcpy(out, m->owner->nonce, PCP_NONCE_LEN);
		return;
	}
	n = (size_t)snprintf(key, sizeof(key), "%s/%u/%u/%lld/%u", u->ctx->uuid, m->proto,
			     m->eport, (long long)m->created, m->iport);
	for (i = 0; i < n && i < sizeof(key); i++) {
		h[0] = (h[0] ^ (uint8_t)key[i]) * 0x100000001b3ULL;
		h[1] = (h[1] ^ (uint8_t)key[i]) * 0x100000001b3ULL + h[0];
	}
	memcpy(out, &h[0], 8);
	memcpy(out + 8, &h[1], 4);
}

/* The lifetime to ask upstream for m: what is left of its lease, at least
 * UP_MIN_LIFETIME (RFC 6887 §15's floor: the local end deletes it anyway),
 * a permanent or long one asked for in UP_MAX_LIFETIME pieces. */
static uint32_t
lifetime_for(const struct upstream *u, const struct mapping *m)
{
	uint32_t left = store_lease_left(u->ctx->store, m);

	if (left == 0 || left > UP_MAX_LIFETIME)
		return UP_MAX_LIFETIME;
	return left < UP_MIN_LIFETIME ? UP_MIN_LIFETIME : left;
}

static struct up_entry *
entry_new(struct upstream *u, struct mapping *m, enum up_state state, bool exact)
{
	struct up_entry *e = calloc(1, sizeof(*e));
	char d[MAPPING_DESC_GEN_MAX];
	size_t i;

	if (e == NULL)
		return NULL;
	if (u->n >= u->hsize)
		hash_grow(u);
	e->u = u;
	e->m = m;
	e->state = state;
	e->exact = exact;
	e->proto = m->proto;
	e->lport = e->want = m->eport;
	if (addr_is_v4(m->rhost) && !addr_is_any(m->rhost))
		e->filter = addr_to_v4(m->rhost);
	nonce_for(u, m, e->nonce);
	e->lifetime = lifetime_for(u, m);
	(void)str_copy(e->desc, sizeof(e->desc), mapping_desc(m, d));	/* cut: a hint */
	e->timer.cb = entry_fire;
	e->rt = u->drv->irt;
	i = hslot(u, e->proto, e->lport);
	e->knext = u->khash[i];
	u->khash[i] = e;
	e->next = u->live;
	if (u->live != NULL)
		u->live->prev = e;
	u->live = e;
	u->n++;
	u->st.requested++;
	queue_send(u, e);
	return e;
}

static void
list_unlink(struct up_entry **head, struct up_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		*head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	e->prev = e->next = NULL;
}

/* Out of the send queue (a linear walk: entries leave it within a loop
 * iteration or two, so it is short). */
static void
unqueue(struct upstream *u, struct up_entry *e)
{
	struct up_entry **pp, *prev = NULL;

	if (!e->due)
		return;
	for (pp = &u->due_head; *pp != NULL; prev = *pp, pp = &(*pp)->due_next)
		if (*pp == e) {
			*pp = e->due_next;
			if (u->due_tail == e)
				u->due_tail = prev;
			break;
		}
	e->due = false;
	e->due_next = NULL;
}

/* Off the key and outside-port indexes: the key is free for a new entry
 * (its upstream port stays known: a delete upstream names it). */
static void
entry_detach(struct upstream *u, struct up_entry *e)
{
	chain_del(&u->khash[hslot(u, e->proto, e->lport)], e, false);
	if (e->in_x)
		chain_del(&u->xhash[hslot(u, e->proto, e->xport)], e, true);
	e->in_x = false;
	list_unlink(&u->live, e);
	u->n--;
}

static void
entry_free(struct upstream *u, struct up_entry *e)
{
	struct up_entry **pp;

	for (pp = &u->batch; e->in_batch && *pp != NULL; pp = &(*pp)->batch_next)
		if (*pp == e) {
			*pp = e->batch_next;
			break;
		}
	if (u->drv != NULL && u->drv->forget != NULL)
		u->drv->forget(u, e);
	unqueue(u, e);
	loop_timer_cancel(&u->ctx->loop, &e->timer);
	free(e);
}

/* The world's view of e's mapping as a success answer. */
static void
view_answer(const struct upstream *u, const struct up_entry *e, struct upstream_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->pcp_result = -1;
	a->ext = e->ext.s_addr != 0 ? e->ext : u->ctx->ext_addr;
	a->eport = e->xport != 0 ? e->xport : e->lport;
	a->lifetime = e->m != NULL ? store_lease_left(u->ctx->store, e->m) : 0;
}

static void
answer_waiters(struct up_entry *e, const struct upstream_answer *a)
{
	struct upstream_waiter *w = e->waiters, *next;

	e->waiters = NULL;
	e->n_waiters = 0;
	for (; w != NULL; w = next) {
		next = w->next;
		w->entry = NULL;
		w->next = NULL;
		w->done(w, a);
	}
}

static void
refusal_answer(const struct up_entry *e, enum upstream_err err, int pcp_result,
	       struct upstream_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->err = err;
	a->pcp_result = pcp_result;
	a->eport = e->want;
}

/* The local mapping is gone (or never was): ask the upstream to delete
 * its mapping, a few times, with the same nonce. */
static void
entry_to_dead(struct upstream *u, struct up_entry *e)
{
	entry_detach(u, e);
	e->m = NULL;
	e->state = UE_DEL;
	e->lifetime = 0;
	e->tries = 0;
	e->rt = u->drv->irt;
	e->next = u->dead;
	if (u->dead != NULL)
		u->dead->prev = e;
	u->dead = e;
	u->st.deleted++;
	queue_send(u, e);
}

/* --- timers and the send queue ------------------------------------------ */

static uint64_t
jitter(uint64_t ms)
{
	uint16_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (uint16_t)time_mono_ms();
	return ms * (900 + r % 201) / 1000;	/* RFC 6887 §8.1.1: +-10 % */
}

static void
entry_arm(struct upstream *u, struct up_entry *e)
{
	uint64_t next = e->state == UE_UP ? e->renew_at : e->sent_ms + e->rt;

	if (e->waiters != NULL && e->deadline < next)
		next = e->deadline;
	if (!e->due)
		loop_timer_set_at(&u->ctx->loop, &e->timer, next);
}

static void
queue_send(struct upstream *u, struct up_entry *e)
{
	if (e->due)
		return;
	loop_timer_cancel(&u->ctx->loop, &e->timer);
	e->due = true;
	e->due_next = NULL;
	if (u->due_tail != NULL)
		u->due_tail->due_next = e;
	else
		u->due_head = e;
	u->due_tail = e;
	if (!loop_timer_pending(&u->pump))
		loop_timer_set(&u->ctx->loop, &u->pump, 0);
}

static void
pump_fire(struct loop_timer *t)
{
	struct upstream *u = container_of(t, struct upstream, pump);
	struct up_entry *e;
	unsigned k;

	for (k = 0; k < UP_PUMP_BURST && (e = u->due_head) != NULL; k++) {
		u->due_head = e->due_next;
		if (u->due_head == NULL)
			u->due_tail = NULL;
		e->due = false;
		e->due_next = NULL;
		e->sent_ms = time_mono_ms();
		u->drv->send(u, e);
		entry_arm(u, e);
	}
	if (u->due_head != NULL)
		loop_timer_set(&u->ctx->loop, &u->pump, 1);
}

/* Roll a NEW entry back: its waiters hear err, the upstream is asked to
 * drop whatever it may have made.  Not counted (entry_fail()). */
static void
entry_undo(struct upstream *u, struct up_entry *e, enum upstream_err err, int pcp_result,
	   bool upstream_may_hold, enum store_result local)
{
	struct upstream_answer a;
	struct mapping *m = e->m;

	refusal_answer(e, err, pcp_result, &a);
	a.local = local;		/* the store's refusal, answered as its own */
	log_debug("upstream: %s %u not made (%s, PCP result %d)", proto_name(e->proto), e->lport,
		  err == UPE_NETWORK ? "no answer" : "refused", pcp_result);
	e->m = NULL;
	if (m != NULL)
		store_rollback(u->ctx->store, m);
	/* The key is free before anyone hears: a client that asks again at
	 * once gets a new entry. */
	if (upstream_may_hold) {
		entry_to_dead(u, e);
		answer_waiters(e, &a);
	} else {
		entry_detach(u, e);
		answer_waiters(e, &a);
		entry_free(u, e);
	}
}

/* The upstream refused a NEW entry, or did not answer: rolled back. */
static void
entry_fail(struct upstream *u, struct up_entry *e, enum upstream_err err, int pcp_result,
	   bool upstream_may_hold)
{
	if (err == UPE_NETWORK)
		u->st.timed_out++;
	else
		u->st.refused++;
	entry_undo(u, e, err, pcp_result, upstream_may_hold, ST_OK);
}

/* Renew, or request again from the start, a live entry. */
static void
ask_again(struct upstream *u, struct up_entry *e)
{
	if (e->state == UE_UP)
		e->state = UE_RENEW;
	e->tries = 0;
	e->rt = u->drv->irt;
	if (e->m != NULL)
		e->lifetime = lifetime_for(u, e->m);
	queue_send(u, e);
}

static void upstream_suspect(struct upstream *u);

static void
entry_fire(struct loop_timer *t)
{
	struct up_entry *e = container_of(t, struct up_entry, timer);
	struct upstream *u = e->u;
	uint64_t now = time_mono_ms();
	struct upstream_answer a;

	if (e->waiters != NULL && now >= e->deadline) {
		if (e->state == UE_NEW) {
			entry_fail(u, e, UPE_NETWORK, -1, true);
			upstream_suspect(u);
			return;
		}
		refusal_answer(e, UPE_NETWORK, -1, &a);
		answer_waiters(e, &a);
	}
	if (e->state == UE_UP && now >= e->renew_at) {
		ask_again(u, e);
		return;
	}
	if (e->state != UE_UP && now >= e->sent_ms + e->rt) {
		if (e->state == UE_DEL && e->tries + 1 >= UP_DEL_TRIES) {
			list_unlink(&u->dead, e);
			entry_free(u, e);
			return;
		}
		e->tries++;
		e->rt = e->rt * 2 > UP_RENEW_MAX_RT_MS ? UP_RENEW_MAX_RT_MS : jitter(e->rt * 2);
		queue_send(u, e);
		return;
	}
	entry_arm(u, e);
}

/* --- results ------------------------------------------------------------- */

static void tell_clients_soon(struct upstream *u);

static void
set_upstream_ext(struct upstream *u, struct in_addr a)
{
	if (a.s_addr == 0 || a.s_addr == u->ext.s_addr)
		return;
	log_info("upstream %s: external address %s", upstream_proto_name(u->drv->proto),
		 ADDR4_STR(a));
	u->ext = a;
	iface_set_learnt(u->ctx, a, "the upstream gateway's");
}

static void
entry_up(struct upstream *u, struct up_entry *e, const struct up_result *r)
{
	uint64_t life = (uint64_t)(r->lifetime ? r->lifetime : e->lifetime) * 1000u;

	if (r->ext.s_addr != 0) {
		e->ext = r->ext;
		set_upstream_ext(u, r->ext);
	}
	if (e->xport != 0 && r->xport != e->xport) {
		log_info("upstream moved %s %u from external port %u to %u",
			 proto_name(e->proto), e->lport, e->xport, r->xport);
		tell_clients_soon(u);
	}
	outside_set(u, e, r->xport);
	e->state = UE_UP;
	e->tries = 0;
	e->renew_at = time_mono_ms() + (life / 2 > UP_MIN_RENEW_MS ? life / 2 : UP_MIN_RENEW_MS);
}

/* The upstream refused a live mapping (after its restart another CPE may
 * hold the port): it goes here too, and its clients are told. */
static void
entry_lost(struct upstream *u, struct up_entry *e, const struct up_result *r)
{
	struct mapping *m = e->m;
	struct upstream_answer a;

	log_warnx("upstream refuses %s %u now (%s %d): the mapping is removed",
		  proto_name(e->proto), e->lport, r->pcp_result >= 0 ? "PCP result" : "error",
		  r->pcp_result >= 0 ? r->pcp_result : (int)r->err);
	u->st.lost++;
	refusal_answer(e, r->err, r->pcp_result, &a);
	entry_detach(u, e);
	e->m = NULL;
	answer_waiters(e, &a);
	entry_free(u, e);
	if (m != NULL)
		store_del_mapping(u->ctx->store, m);
	tell_clients_soon(u);
}

static void
entry_result(struct upstream *u, struct up_entry *e, const struct up_result *res)
{
	struct upstream_answer a;
	struct up_result r = *res;

	if (e->state == UE_DEL) {
		list_unlink(&u->dead, e);
		entry_free(u, e);
		return;
	}
	if (r.err == UPE_OK && e->exact && r.xport != e->want) {
		/* NAT-PMP cannot say "this port or nothing": another port is
		 * a refusal, and what it made is deleted. */
		if (e->state == UE_NEW) {
			entry_fail(u, e, UPE_PORT, -1, true);
			return;
		}
		r.err = UPE_PORT;
		r.transient = false;
	}
	if (r.err != UPE_OK) {
		if (e->state == UE_NEW)
			entry_fail(u, e, r.err, r.pcp_result, false);
		else if (!r.transient)
			entry_lost(u, e, &r);
		return;	/* a transient failure of a renewal: tried again */
	}
	if (e->state == UE_NEW) {
		enum store_result sr;

		store_hold(u->ctx->store);
		sr = store_confirm(u->ctx->store, e->m);
		if (sr != ST_OK)
			e->m = NULL;	/* rolled back: gone */
		store_commit(u->ctx->store);
		if (sr != ST_OK) {
			/* the store refused it (and rolled it back): a reload
			 * while it waited denies it now, or its elements were
			 * lost meanwhile; the client hears the store's refusal,
			 * what the upstream made is undone */
			log_info("upstream: %s %u refused at the upstream's answer: %s",
				 proto_name(e->proto), e->lport, store_strerror(sr));
			u->st.denied++;
			outside_set(u, e, r.xport);	/* what the upstream's delete names */
			if (r.ext.s_addr != 0)
				e->ext = r.ext;
			entry_undo(u, e, UPE_OTHER, -1, true, sr);
			return;
		}
		u->st.made++;
	} else {
		u->st.renewed++;
	}
	entry_up(u, e, &r);
	view_answer(u, e, &a);
	answer_waiters(e, &a);
	entry_arm(u, e);
}

/* --- the upstream's health ------------------------------------------------ */

bool
upstream_epoch_valid(uint32_t prev, uint64_t prev_ms, uint32_t epoch, uint64_t now_ms)
{
	uint64_t client, server;

	if ((uint64_t)epoch + 1 < prev)
		return false;
	client = now_ms > prev_ms ? (now_ms - prev_ms) / 1000 : 0;
	server = epoch > prev ? epoch - prev : 0;
	/* RFC 6887 §8.5: either clock may run 1/16 fast, +-1 s each. */
	return !(client + 2 < server - server / 16 || server + 2 < client - client / 16);
}

static void
rerequest_all(struct upstream *u, const char *why)
{
	struct up_entry *e;
	unsigned n = 0;

	for (e = u->live; e != NULL; e = e->next) {
		ask_again(u, e);
		n++;
	}
	u->st.rerequested += n;
	if (n > 0)
		log_info("upstream %s: %s: requesting all %u mapping(s) again",
			 upstream_proto_name(u->drv->proto), why, n);
}

static void
tell_fire(struct loop_timer *t)
{
	struct upstream *u = container_of(t, struct upstream, tell);

	/* RFC 7648: the proxy's own epoch starts again, so that its clients
	 * (told by ANNOUNCE, NAT-PMP announcements, PCP MAP updates) ask
	 * again and learn what changed; UPnP clients hear of removed mappings
	 * through GENA already (the store's listeners). */
	log_info("upstream lost or moved mappings: a new epoch for the LAN's clients");
	u->st.epoch_resets++;
	u->ctx->epoch_reset = true;
	ctx_run_ext_hooks(u->ctx);
}

static void
tell_clients_soon(struct upstream *u)
{
	if (!loop_timer_pending(&u->tell))
		loop_timer_set(&u->ctx->loop, &u->tell, UP_TELL_DELAY_MS);
}

/* The upstream is declared down or back.  Behind a NAT whose outside STUN
 * found private, no upstream means that mappings cannot be reached from
 * outside: said plainly, and the UPnP ConnectionStatus evented. */
static void
set_down(struct upstream *u, bool down)
{
	bool was = upstream_reachable(u->ctx);

	u->down = down;
	if (was == upstream_reachable(u->ctx))
		return;
	if (!was)
		log_info("upstream answers again: mappings can be reached from outside");
	else
		log_warnx("upstream does not answer and STUN saw %s above: mappings cannot be "
			  "reached from outside (UPnP says Disconnected, NAT-PMP and PCP refuse "
			  "mappings until it answers)", ADDR4_STR(stun_address(u->ctx)));
	ctx_run_ext_hooks(u->ctx);
}

/* A mapping request went unanswered: probe now, and then every
 * UP_SUSPECT_MS until the upstream answers or is declared down (auto
 * then looks for another protocol at once). */
static void
upstream_suspect(struct upstream *u)
{
	if (u->suspect || u->down || u->auto_step != 0 || u->drv == NULL)
		return;
	u->suspect = true;
	loop_timer_set(&u->ctx->loop, &u->probe, 0);
}

/* Any answer from the upstream: it is there. */
static void
upstream_heard(struct upstream *u)
{
	u->answered = true;
	u->missed = 0;
	u->suspect = false;
	if (u->down) {
		set_down(u, false);
		log_info("upstream %s answers again", upstream_proto_name(u->drv->proto));
		rerequest_all(u, "it was unreachable");
	}
}

static void
epoch_seen(struct upstream *u, uint32_t epoch)
{
	uint64_t now = time_mono_ms();

	if (u->have_epoch && !upstream_epoch_valid(u->epoch, u->epoch_ms, epoch, now)) {
		log_warnx("upstream epoch went from %u to %u: it lost its mappings",
			  (unsigned)u->epoch, (unsigned)epoch);
		u->have_epoch = true;
		u->epoch = epoch;
		u->epoch_ms = now;
		rerequest_all(u, "its epoch went back");
		tell_clients_soon(u);
		return;
	}
	u->have_epoch = true;
	u->epoch = epoch;
	u->epoch_ms = now;
}

/* --- PCP and NAT-PMP over UDP ------------------------------------------- */

static void
dgram_send(struct upstream *u, const uint8_t *buf, size_t len)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(UP_SERVER_PORT) };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} cb;
	struct iovec iov = { (void *)(uintptr_t)buf, len };
	struct msghdr msg = { .msg_name = &dst, .msg_namelen = sizeof(dst), .msg_iov = &iov,
			      .msg_iovlen = 1 };
	struct in_pktinfo pi = { 0 };
	struct cmsghdr *c;

	if (!u->sock_open || len == 0 || u->server.s_addr == 0)
		return;
	dst.sin_addr = u->server;
	/* From the WAN address: it is the client address inside the request. */
	if (u->ctx->wan_addr.s_addr != 0) {
		memset(&cb, 0, sizeof(cb));
		msg.msg_control = cb.buf;
		msg.msg_controllen = sizeof(cb.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		pi.ipi_spec_dst = u->ctx->wan_addr;
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	if (sendmsg(u->lfd.fd, &msg, 0) < 0)
		log_debug("upstream: sendto %s: %s", ADDR4_STR(u->server), strerror(errno));
}

static void
pcp_send(struct upstream *u, struct up_entry *e)
{
	struct uppcp_map q;

	memset(&q, 0, sizeof(q));
	memcpy(q.nonce, e->nonce, sizeof(q.nonce));
	q.proto = e->proto;
	q.iport = e->lport;
	q.eport = e->xport != 0 ? e->xport : e->want;
	q.lifetime = e->lifetime;
	q.client = u->ctx->wan_addr;
	/* §11.2: a re-request names what it had; "this port or nothing" names
	 * no address, which the server could refuse on its own. */
	if (!e->exact)
		q.ext = e->ext;
	q.prefer_failure = e->exact;
	q.filter = e->filter;
	q.desc = e->desc;
	dgram_send(u, u->buf, uppcp_write_map(u->buf, sizeof(u->buf), &q));
}

static void
natpmp_send(struct upstream *u, struct up_entry *e)
{
	size_t n = upnatpmp_write_map(u->buf, sizeof(u->buf), e->proto, e->lport,
				      e->xport != 0 ? e->xport : e->want, e->lifetime);

	dgram_send(u, u->buf, n);
}

static void
natpmp_probe(struct upstream *u)
{
	dgram_send(u, u->buf, upnatpmp_write_external(u->buf, sizeof(u->buf)));
}

/* PCP has no "external address" request: a NAT-PMP one asks for it too
 * (RFC 6887 §9: a server of both answers both); MAP answers tell it
 * anyway. */
static void
pcp_probe(struct upstream *u)
{
	dgram_send(u, u->buf, uppcp_write_announce(u->buf, sizeof(u->buf), u->ctx->wan_addr));
	natpmp_probe(u);
}

static enum upstream_err
err_from_pcp(uint8_t result, bool *transient)
{
	*transient = false;
	switch (result) {
	case PCP_SUCCESS: return UPE_OK;
	case PCP_NOT_AUTHORIZED: return UPE_AUTH;
	case PCP_NO_RESOURCES: *transient = true; return UPE_RESOURCES;
	case PCP_USER_EX_QUOTA: *transient = true; return UPE_QUOTA;
	case PCP_CANNOT_PROVIDE_EXTERNAL: return UPE_PORT;
	case PCP_NETWORK_FAILURE: *transient = true; return UPE_NETWORK;
	default: return UPE_OTHER;
	}
}

static enum upstream_err
err_from_natpmp(uint16_t result, bool *transient)
{
	*transient = result == NATPMP_NETWORK_FAILURE || result == NATPMP_NO_RESOURCES;
	switch (result) {
	case NATPMP_SUCCESS: return UPE_OK;
	case NATPMP_REFUSED: return UPE_AUTH;
	case NATPMP_NETWORK_FAILURE: return UPE_NETWORK;
	case NATPMP_NO_RESOURCES: return UPE_RESOURCES;
	default: return UPE_OTHER;
	}
}

static struct up_entry *
dead_find(const struct upstream *u, uint8_t proto, uint16_t lport, const uint8_t *nonce)
{
	struct up_entry *e;

	for (e = u->dead; e != NULL; e = e->next)
		if (e->proto == proto && e->lport == lport &&
		    (nonce == NULL || memcmp(e->nonce, nonce, PCP_NONCE_LEN) == 0))
			return e;
	return NULL;
}

static void auto_choose(struct upstream *u, const struct up_driver *d);

static void
on_pcp(struct upstream *u, const struct uppcp_resp *r)
{
	struct up_result res;
	struct up_entry *e;

	if (u->auto_step != 0 && r->result != PCP_UNSUPP_VERSION)
		auto_choose(u, &drv_pcp);
	if (u->drv != &drv_pcp)
		return;
	upstream_heard(u);
	epoch_seen(u, r->epoch);
	if (r->opcode != PCP_OP_MAP || !r->has_map)
		return;
	e = key_find(u, r->proto, r->iport);
	if (e == NULL || memcmp(e->nonce, r->nonce, PCP_NONCE_LEN) != 0)
		e = dead_find(u, r->proto, r->iport, r->nonce);
	if (e == NULL)
		return;
	memset(&res, 0, sizeof(res));
	res.err = err_from_pcp(r->result, &res.transient);
	res.pcp_result = r->result;
	res.xport = r->eport;
	res.ext = r->ext;
	res.lifetime = r->lifetime;
	entry_result(u, e, &res);
}

static void
on_natpmp(struct upstream *u, const struct upnatpmp_resp *r)
{
	struct up_result res;
	struct up_entry *e;

	/* A NAT-PMP server answers a PCP request "unsupported version". */
	if (u->auto_step != 0 && (r->op != NATPMP_OP_EXTERNAL || r->result == 0 ||
				  r->result == NATPMP_UNSUPP_VERSION))
		auto_choose(u, &drv_natpmp);
	if (u->drv != &drv_natpmp && !(u->drv == &drv_pcp && r->op == NATPMP_OP_EXTERNAL))
		return;
	if (u->drv == &drv_natpmp) {
		upstream_heard(u);
		epoch_seen(u, r->epoch);
	}
	if (r->op == NATPMP_OP_EXTERNAL) {
		if (r->result == NATPMP_SUCCESS)
			set_upstream_ext(u, r->ext);
		return;
	}
	if (u->drv != &drv_natpmp)
		return;
	/* No nonce: a successful delete (lifetime 0) answers a dead entry,
	 * anything else the live one first. */
	e = r->result == 0 && r->lifetime == 0 ? NULL : key_find(u, r->proto, r->iport);
	if (e == NULL)
		e = dead_find(u, r->proto, r->iport, NULL);
	if (e == NULL)
		return;
	memset(&res, 0, sizeof(res));
	res.err = err_from_natpmp(r->result, &res.transient);
	res.pcp_result = -1;
	res.xport = r->eport;
	res.lifetime = r->lifetime;
	entry_result(u, e, &res);
}

/* A datagram on the client socket: only from the server, port 5351, on
 * the WAN interface (a unicast answer or an announcement to 224.0.0.1). */
static void
sock_readable(struct loop_fd *lfd, uint32_t events)
{
	struct upstream *u = container_of(lfd, struct upstream, lfd);
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} cb;
	struct sockaddr_in src;
	struct iovec iov = { u->buf, sizeof(u->buf) };
	struct msghdr msg;
	struct uppcp_resp pr;
	struct upnatpmp_resp nr;
	unsigned k;

	(void)events;
	for (k = 0; k < 64; k++) {
		unsigned ifindex;
		ssize_t n;

		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &src;
		msg.msg_namelen = sizeof(src);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = cb.buf;
		msg.msg_controllen = sizeof(cb.buf);
		n = recvmsg(lfd->fd, &msg, MSG_DONTWAIT);
		if (n < 0)
			return;
		ifindex = msg_pktinfo(&msg, NULL);
		if (src.sin_addr.s_addr != u->server.s_addr ||
		    src.sin_port != htons(UP_SERVER_PORT) ||
		    (u->ctx->ext_ifindex != 0 && ifindex != u->ctx->ext_ifindex) ||
		    (msg.msg_flags & MSG_TRUNC)) {
			u->st.dropped++;
			continue;
		}
		if (uppcp_parse(u->buf, (size_t)n, &pr) == 0)
			on_pcp(u, &pr);
		else if (upnatpmp_parse(u->buf, (size_t)n, &nr) == 0)
			on_natpmp(u, &nr);
		else
			u->st.dropped++;
	}
}

static int
sock_open(struct upstream *u)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(UP_CLIENT_PORT) };
	struct ip_mreqn mreq;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&mreq, 0, sizeof(mreq));
	mreq.imr_multiaddr.s_addr = htonl(INADDR_ALLHOSTS_GROUP);
	mreq.imr_ifindex = (int)u->ctx->ext_ifindex;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	/* 224.0.0.1 is every host's already; joined to be sure on ext_ifname. */
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0)
		log_debug("upstream: joining 224.0.0.1 on %s: %s", u->ctx->cfg.ext_ifname,
			  strerror(errno));
	u->lfd.fd = fd;
	u->lfd.cb = sock_readable;
	if (loop_fd_add(&u->ctx->loop, &u->lfd, EPOLLIN) < 0) {
		close(fd);
		return -1;
	}
	u->sock_open = true;
	return 0;
}

static const struct up_driver drv_pcp = {
	UPSTREAM_PCP, 3000, pcp_send, pcp_probe, NULL,
};
static const struct up_driver drv_natpmp = {
	UPSTREAM_NATPMP, 250, natpmp_send, natpmp_probe, NULL,
};

/* --- UPnP IGD through the control point ------------------------------------ */

static void
upnp_send(struct upstream *u, struct up_entry *e)
{
	struct upcp_call c;

	if (!upnp_cp_ready(u->cp))
		return;		/* discovery runs: tried again after it */
	upnp_cp_cancel(u->cp, e);
	memset(&c, 0, sizeof(c));
	c.proto = e->proto;
	c.iport = e->lport;
	c.client = u->ctx->wan_addr;
	c.desc = e->desc;
	c.eport = e->xport != 0 ? e->xport : e->want;
	if (e->state == UE_DEL) {
		c.op = UPCP_DELETE;
	} else {
		/* AddPortMapping refreshes a mapping of ours, and is the only
		 * add of IGD:1; AddAnyPortMapping takes the port it gives. */
		c.op = e->exact || e->xport != 0 || upnp_cp_version(u->cp) < 2 ? UPCP_ADD
										 : UPCP_ADD_ANY;
		c.lease = u->upnp_permanent ? 0 : e->lifetime;
	}
	if (upnp_cp_call(u->cp, &c, e) < 0)
		log_debug("upstream UPnP: %s %u not sent (queue full)", proto_name(e->proto), e->lport);
}

/* The IGD's address and whether it still holds one of our mappings (it
 * has no epoch: a missing one means it lost them all, as a restart). */
static void
upnp_probe(struct upstream *u)
{
	struct upcp_call c;
	struct up_entry *e;

	if (!upnp_cp_ready(u->cp) || u->down) {
		upnp_cp_discover(u->cp);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.op = UPCP_GET_EXT;
	upnp_cp_call(u->cp, &c, &u->probe_tag);
	for (e = u->live; e != NULL && e->state != UE_UP; e = e->next)
		;
	if (e == NULL)
		return;
	c.op = UPCP_GET_ENTRY;
	c.proto = e->proto;
	c.eport = e->xport;
	upnp_cp_call(u->cp, &c, &u->canary_tag);
}

static void
upnp_forget(struct upstream *u, struct up_entry *e)
{
	upnp_cp_cancel(u->cp, e);
}

static enum upstream_err
err_from_upnp(int status)
{
	switch (status) {
	case 0: return UPE_OK;
	case -1: return UPE_NETWORK;
	case 718:
	case 729: return UPE_PORT;
	case 606: return UPE_AUTH;
	case 728: return UPE_RESOURCES;
	default: return UPE_OTHER;
	}
}

/* The IGD was found: everything waiting is sent now. */
static void
upnp_found(struct upstream *u)
{
	struct up_entry *e;

	u->server = upnp_cp_host(u->cp);
	upstream_heard(u);
	for (e = u->live; e != NULL; e = e->next)
		if (e->state != UE_UP)
			queue_send(u, e);
	for (e = u->dead; e != NULL; e = e->next)
		queue_send(u, e);
	upnp_probe(u);
}

static void
upnp_answer(void *arg, void *tag, const struct upcp_result *r)
{
	struct upstream *u = arg;
	struct up_entry *e = tag;
	struct up_result res;

	if (r->op == UPCP_DISCOVER) {
		if (r->status == 0 && u->auto_step != 0) {
			u->server = upnp_cp_host(u->cp);
			auto_choose(u, &drv_upnp);
		}
		else if (r->status == 0 && u->drv == &drv_upnp)
			upnp_found(u);
		return;
	}
	if (u->drv != &drv_upnp)
		return;
	if (r->status >= 0)
		upstream_heard(u);
	if (tag == &u->probe_tag) {
		if (r->status == 0 && r->soap.has_ext)
			set_upstream_ext(u, r->soap.ext);
		return;
	}
	if (tag == &u->canary_tag) {
		if (r->status == 714) {
			log_warnx("upstream UPnP IGD no longer holds our mappings (a restart?)");
			rerequest_all(u, "it lost a mapping");
			tell_clients_soon(u);
		}
		return;
	}
	if (r->status == 725 && !u->upnp_permanent) {
		u->upnp_permanent = true;	/* OnlyPermanentLeasesSupported (IGD:1) */
		queue_send(u, e);
		return;
	}
	memset(&res, 0, sizeof(res));
	res.err = err_from_upnp(r->status);
	res.transient = r->status < 0;
	res.pcp_result = -1;
	res.xport = r->op == UPCP_ADD_ANY && r->soap.has_port ? r->soap.port
							      : (e->xport != 0 ? e->xport : e->want);
	res.lifetime = u->upnp_permanent ? 0 : e->lifetime;
	entry_result(u, e, &res);
}

static const struct up_driver drv_upnp = {
	UPSTREAM_UPNP, 5000, upnp_send, upnp_probe, upnp_forget,
};

/* --- choosing the upstream, probing it ------------------------------------ */

static void
find_server(struct upstream *u)
{
	struct in_addr gw;

	if (u->ctx->cfg.upstream_server.s_addr != 0)
		u->server = u->ctx->cfg.upstream_server;
	else if (iface_default_gateway(u->ctx, &gw) == 0)
		u->server = gw;
}

/* Every mapping the store holds gets an entry (a driver was chosen, or a
 * restart): the upstream is asked for them all. */
static void
adopt_store(struct upstream *u)
{
	size_t i, n = store_count(u->ctx->store);
	struct mapping *m;

	for (i = 0; i < n; i++) {
		m = store_nth(u->ctx->store, i);
		/* A UPnP mapping was most likely made with AddPortMapping:
		 * its port or nothing. */
		if (m != NULL && !store_pending(m) && key_find(u, m->proto, m->eport) == NULL &&
		    entry_new(u, m, UE_RENEW, m->owner->proto == OWNER_UPNP) == NULL)
			log_warnx("upstream: out of memory for %s %u", proto_name(m->proto), m->eport);
	}
	if (n > 0)
		log_info("upstream %s: asking for the %zu mapping(s) held here",
			 upstream_proto_name(u->drv->proto), n);
}

static void
auto_choose(struct upstream *u, const struct up_driver *d)
{
	struct up_entry *e;

	u->auto_step = 0;
	if (u->drv == d) {
		upstream_heard(u);	/* the same one again: back if it was down */
		return;
	}
	log_info("upstream: %s answers at %s: relaying mappings to it",
		 upstream_proto_name(d->proto), ADDR4_STR(u->server));
	if (u->drv != NULL)
		for (e = u->live; e != NULL; e = e->next)
			if (u->drv->forget != NULL)
				u->drv->forget(u, e);
	u->drv = d;
	u->ctx->relay_active = true;
	u->have_epoch = false;
	u->answered = true;
	u->missed = 0;
	u->suspect = false;
	if (u->down)
		set_down(u, false);
	if (u->live != NULL)
		rerequest_all(u, "a new upstream protocol");
	adopt_store(u);
	loop_timer_set(&u->ctx->loop, &u->probe, 0);
}

static void
auto_step(struct upstream *u)
{
	find_server(u);
	switch (u->auto_step) {
	case 1:
		dgram_send(u, u->buf, uppcp_write_announce(u->buf, sizeof(u->buf),
							   u->ctx->wan_addr));
		break;
	case 2:
		natpmp_probe(u);
		break;
	case 3:
		upnp_cp_discover(u->cp);
		u->auto_step++;
		loop_timer_set(&u->ctx->loop, &u->probe, UPCP_DISCOVER_MS + UPCP_TIMEOUT_MS + 500);
		return;
	default:
		log_info("upstream: no PCP, NAT-PMP or UPnP IGD answers; %s (trying again in %d s)",
			 u->drv == NULL ? "mappings stay local" : "mappings made now fail",
			 UP_AUTO_RETRY_MS / 1000);
		u->auto_step = 0;
		loop_timer_set(&u->ctx->loop, &u->probe, UP_AUTO_RETRY_MS);
		return;
	}
	u->auto_step++;
	loop_timer_set(&u->ctx->loop, &u->probe, UP_AUTO_STEP_MS);
}

static void
probe_fire(struct loop_timer *t)
{
	struct upstream *u = container_of(t, struct upstream, probe);

	if (u->auto_step != 0 || (u->drv == NULL && u->want == UPSTREAM_AUTO)) {
		if (u->auto_step == 0)
			u->auto_step = 1;
		auto_step(u);
		return;
	}
	if (!u->answered && ++u->missed >= UP_PROBE_MISSES && !u->down) {
		u->suspect = false;
		log_warnx("upstream %s at %s does not answer: mappings made now fail, "
			  "the others are asked for again when it is back%s",
			  upstream_proto_name(u->drv->proto), ADDR4_STR(u->server),
			  u->want == UPSTREAM_AUTO ? "; looking for PCP, NAT-PMP or UPnP again" : "");
		set_down(u, true);
	}
	if (u->down && u->want == UPSTREAM_AUTO && u->missed >= UP_PROBE_MISSES) {
		u->auto_step = 1;	/* maybe another protocol now */
		auto_step(u);
		return;
	}
	u->answered = false;
	if (u->server.s_addr == 0 || u->down)
		find_server(u);
	u->drv->probe(u);
	loop_timer_set(&u->ctx->loop, &u->probe, u->suspect ? UP_SUSPECT_MS : UP_PROBE_MS);
}

/* --- the store's changes ---------------------------------------------------- */

/* Another local mapping of the same (protocol, port), other remote host. */
static int
first_of_port(struct mapping *m, void *arg)
{
	*(struct mapping **)arg = m;
	return 1;
}

static void
store_changed(void *arg, const struct store_change *ch)
{
	struct upstream *u = arg;
	const struct mapping *m = ch->m;
	bool added = ch->ev == STORE_EV_ADDED || ch->ev == STORE_EV_CHANGED ||
		     ch->ev == STORE_EV_RENEWED;
	struct up_entry *e;
	struct mapping *other = NULL;

	if (u->drv == NULL || !STORE_EV_IS_CHANGE(ch->ev))
		return;	/* refusals: nothing was made or removed */
	if (mapping_is_pinhole(m))
		return;	/* IPv6 pinholes are never relayed */
	e = key_find(u, m->proto, m->eport);
	if (added) {
		if (e == NULL)	/* made without the relay (admin, static) */
			entry_new(u, (struct mapping *)(uintptr_t)m, UE_RENEW, false);
		else if (e->m != m && e->filter.s_addr != 0) {
			e->filter.s_addr = 0;	/* two remote hosts share the port */
			if (e->state == UE_UP) {
				e->renew_at = 0;
				entry_arm(u, e);
			}
		}
		return;
	}
	if (e == NULL || e->m != m)
		return;
	store_range(u->ctx->store, m->proto, m->eport, m->eport, first_of_port, &other);
	if (other != NULL && other != m) {
		e->m = other;
		return;
	}
	entry_to_dead(u, e);
}

/* --- the front ends' calls ---------------------------------------------- */

int
upstream_add(struct igdd_ctx *ctx, const struct mapping *req, uint32_t lifetime,
	     unsigned store_flags, unsigned flags, struct upstream_waiter *w,
	     struct upstream_answer *a, struct mapping **out)
{
	struct upstream *u = ctx->upstream;
	struct mapping *m = NULL;
	struct up_entry *e;

	/* IPv6 pinholes are this gateway's alone: never relayed */
	if (u == NULL || u->drv == NULL || !addr_is_v4(req->iaddr) || !upstream_reachable(ctx))
		return upstream_add_plain(ctx, req, lifetime, store_flags, a, out);
	memset(a, 0, sizeof(*a));
	a->pcp_result = -1;
	if (out != NULL)
		*out = NULL;
	a->local = store_add(ctx->store, req, lifetime, store_flags | STORE_F_RESERVE, &m);
	if (a->local != ST_OK)
		return 0;
	if (out != NULL)
		*out = m;
	e = key_find(u, m->proto, m->eport);
	if (e != NULL && e->m != m && store_pending(m)) {
		/* one upstream mapping per local port: another local mapping of
		 * this port (another remote host) holds it, and this one would
		 * stay a reservation no answer confirms */
		store_rollback(ctx->store, m);
		if (out != NULL)
			*out = NULL;
		a->local = ST_E_CONFLICT;
		return 0;
	}
	if (e == NULL) {
		e = entry_new(u, m, store_pending(m) ? UE_NEW : UE_RENEW,
			      (flags & UPSTREAM_EXACT) != 0);
		if (e == NULL) {
			store_rollback(ctx->store, m);
			a->local = ST_E_NOMEM;
			return 0;
		}
		e->deadline = time_mono_ms() + UPSTREAM_WAIT_MS;
		if (store_batching(ctx->store)) {
			e->in_batch = true;
			e->batch_next = u->batch;
			u->batch = e;
		}
	}
	if (e->state == UE_UP || (e->state == UE_RENEW && e->xport != 0)) {
		view_answer(u, e, a);
		return 0;
	}
	if (w == NULL || e->n_waiters >= UP_MAX_WAITERS) {
		a->err = UPE_NETWORK;
		return 0;
	}
	if (e->waiters == NULL)
		e->deadline = time_mono_ms() + UPSTREAM_WAIT_MS;
	w->entry = e;
	w->next = e->waiters;
	e->waiters = w;
	e->n_waiters++;
	entry_arm(u, e);
	return 1;
}

void
upstream_batch_end(struct igdd_ctx *ctx, bool undone)
{
	struct upstream *u = ctx->upstream;
	struct up_entry *e, *next;

	if (u == NULL)
		return;
	e = u->batch;
	u->batch = NULL;
	for (; e != NULL; e = next) {
		next = e->batch_next;
		e->batch_next = NULL;
		e->in_batch = false;
		if (!undone || e->m == NULL || key_find(u, e->proto, e->lport) != e)
			continue;
		/* Its reservation went with the batch: it was never asked
		 * (the send waits for the pump), its waiters ask again. */
		while (e->waiters != NULL)
			upstream_waiter_cancel(ctx, e->waiters);
		entry_detach(u, e);
		u->st.requested--;
		entry_free(u, e);
	}
}

void
upstream_waiter_cancel(struct igdd_ctx *ctx, struct upstream_waiter *w)
{
	struct up_entry *e = w->entry;
	struct upstream_waiter **pp;

	(void)ctx;
	if (e == NULL)
		return;
	for (pp = &e->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			e->n_waiters--;
			break;
		}
	w->entry = NULL;
	w->next = NULL;
}

bool
upstream_active(const struct igdd_ctx *ctx)
{
	return ctx->upstream != NULL && ctx->upstream->drv != NULL;
}

void
upstream_view(const struct igdd_ctx *ctx, const struct mapping *m, struct in_addr *ext,
	      uint16_t *eport)
{
	const struct upstream *u = ctx->upstream;
	const struct up_entry *e = u != NULL && u->drv != NULL ? key_find(u, m->proto, m->eport)
							       : NULL;

	*ext = e != NULL && e->ext.s_addr != 0 ? e->ext : ctx->ext_addr;
	*eport = e != NULL && e->xport != 0 ? e->xport : m->eport;
}

uint16_t
upstream_local_port(const struct igdd_ctx *ctx, uint8_t proto, uint16_t eport)
{
	const struct upstream *u = ctx->upstream;
	const struct up_entry *e;

	if (u == NULL || u->drv == NULL)
		return eport;
	e = hash_find(u, proto, eport, true);
	return e != NULL ? e->lport : eport;
}

bool
upstream_reachable(const struct igdd_ctx *ctx)
{
	return (upstream_active(ctx) && !ctx->upstream->down) || stun_reachable(ctx);
}

const char *
upstream_status(const struct igdd_ctx *ctx, char *buf, size_t size)
{
	const struct upstream *u = ctx->upstream;

	if (u == NULL) {
		str_copy(buf, size, "upstream: none");
		return buf;
	}
	if (str_printf(buf, size, "upstream: %s at %s, %s, %zu mapping(s) relayed, external %s",
		       u->drv != NULL ? upstream_proto_name(u->drv->proto) : "none found",
		       ADDR4_STR(u->server), u->down ? "not answering" : "answering", u->n,
		       u->ext.s_addr != 0 ? ADDR4_STR(u->ext) : "unknown") < 0)
		buf[0] = '\0';
	return buf;
}

void
upstream_log_status(const struct igdd_ctx *ctx)
{
	char buf[256];

	if (ctx->upstream != NULL)
		log_info("%s", upstream_status(ctx, buf, sizeof(buf)));
	if (ctx->stun != NULL)
		log_info("%s", stun_status(ctx, buf, sizeof(buf)));
}

bool
upstream_get_info(const struct igdd_ctx *ctx, struct upstream_info *i)
{
	const struct upstream *u = ctx->upstream;
	const struct up_entry *e;

	memset(i, 0, sizeof(*i));
	if (u == NULL)
		return false;
	i->want = u->want;
	i->using = u->drv != NULL ? u->drv->proto : UPSTREAM_NONE;
	i->server = u->server;
	i->state = u->auto_step != 0 || u->drv == NULL ? "searching"
		   : u->down ? "not answering" : "answering";
	i->ext = u->ext;
	i->mappings = u->n;
	for (e = u->dead; e != NULL; e = e->next)
		i->deleting++;
	return true;
}

const struct upstream_stats *
upstream_get_stats(const struct igdd_ctx *ctx)
{
	return ctx->upstream != NULL ? &ctx->upstream->st : NULL;
}

/* --- life ----------------------------------------------------------------- */

int
upstream_init(struct igdd_ctx *ctx)
{
	struct upstream *u;

	if (ctx->cfg.upstream_protocol == UPSTREAM_NONE)
		return 0;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return -1;
	u->ctx = ctx;
	u->want = (enum upstream_proto)ctx->cfg.upstream_protocol;
	u->hsize = 64;
	u->khash = calloc(u->hsize, sizeof(*u->khash));
	u->xhash = calloc(u->hsize, sizeof(*u->xhash));
	u->pump.cb = pump_fire;
	u->probe.cb = probe_fire;
	u->tell.cb = tell_fire;
	ctx->upstream = u;
	if (u->khash == NULL || u->xhash == NULL ||
	    (u->want != UPSTREAM_UPNP && sock_open(u) < 0) ||
	    store_add_listener_last(ctx->store, store_changed, u) < 0) {
		log_warn("upstream: cannot start the relay");
		upstream_shutdown(ctx);
		return -1;
	}
	if (u->want == UPSTREAM_UPNP || u->want == UPSTREAM_AUTO) {
		u->cp = upnp_cp_new(ctx, upnp_answer, u);
		if (u->cp == NULL) {
			upstream_shutdown(ctx);
			return -1;
		}
	}
	find_server(u);
	if (u->want == UPSTREAM_PCP)
		u->drv = &drv_pcp;
	else if (u->want == UPSTREAM_NATPMP)
		u->drv = &drv_natpmp;
	else if (u->want == UPSTREAM_UPNP)
		u->drv = &drv_upnp;
	ctx->relay_active = u->drv != NULL;
	if (u->drv != NULL) {
		log_info("upstream: relaying mappings to %s at %s", upstream_proto_name(u->want),
			 u->server.s_addr ? ADDR4_STR(u->server) : "(no default gateway yet)");
		adopt_store(u);
	}
	loop_timer_set(&ctx->loop, &u->probe, 0);
	return 0;
}

int
upstream_check(const struct config *cfg, FILE *err)
{
	(void)cfg;
	(void)err;
	return 0;
}

void
upstream_recheck(struct igdd_ctx *ctx)
{
	struct upstream *u = ctx->upstream;

	if (u != NULL && u->auto_step == 0)
		loop_timer_set(&ctx->loop, &u->probe, 0);
}

static void
drop_list(struct upstream *u, struct up_entry *head)
{
	struct up_entry *e, *next;
	struct upstream_answer a;

	for (e = head; e != NULL; e = next) {
		next = e->next;
		if (e->state == UE_NEW && e->m != NULL)
			store_rollback(u->ctx->store, e->m);
		refusal_answer(e, UPE_NETWORK, -1, &a);
		answer_waiters(e, &a);
		entry_free(u, e);
	}
}

void
upstream_shutdown(struct igdd_ctx *ctx)
{
	struct upstream *u = ctx->upstream;

	if (u == NULL)
		return;
	log_info("upstream: %llu requested, %llu made, %llu refused, %llu denied here, "
		 "%llu without answer, %llu renewed, %llu lost, %llu deleted, %llu asked again",
		 (unsigned long long)u->st.requested, (unsigned long long)u->st.made,
		 (unsigned long long)u->st.refused, (unsigned long long)u->st.denied,
		 (unsigned long long)u->st.timed_out,
		 (unsigned long long)u->st.renewed, (unsigned long long)u->st.lost,
		 (unsigned long long)u->st.deleted, (unsigned long long)u->st.rerequested);
	drop_list(u, u->live);
	drop_list(u, u->dead);
	upnp_cp_free(u->cp);
	loop_timer_cancel(&ctx->loop, &u->pump);
	loop_timer_cancel(&ctx->loop, &u->probe);
	loop_timer_cancel(&ctx->loop, &u->tell);
	if (u->sock_open) {
		loop_fd_del(&ctx->loop, &u->lfd);
		close(u->lfd.fd);
	}
	free(u->khash);
	free(u->xhash);
	free(u);
	ctx->upstream = NULL;
	ctx->relay_active = false;
}
