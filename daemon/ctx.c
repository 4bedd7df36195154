/* ctx.c - what every module asks of the context: the LAN it serves, the
 * external-address hooks, the NAT-PMP/PCP epoch, the sockets that slots of
 * one interface share. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "loop.h"
#include "util.h"

void
ctx_add_ext_hook(struct igdd_ctx *ctx, ctx_hook fn)
{
	if (ctx->n_ext_hooks >= CTX_MAX_HOOKS)
		fatalx("too many external-address hooks");
	ctx->ext_hooks[ctx->n_ext_hooks++] = fn;
}

void
ctx_run_ext_hooks(struct igdd_ctx *ctx)
{
	unsigned k;

	for (k = 0; k < ctx->n_ext_hooks; k++)
		ctx->ext_hooks[k](ctx);
}

void
ctx_add_addr_hook(struct igdd_ctx *ctx, ctx_hook fn)
{
	if (ctx->n_addr_hooks >= CTX_MAX_HOOKS)
		fatalx("too many address hooks");
	ctx->addr_hooks[ctx->n_addr_hooks++] = fn;
}

int
ctx_lan_add(struct igdd_ctx *ctx, const struct lan_iface *lan)
{
	unsigned k;

	for (k = 0; k < ctx->n_lan && !ctx->lan[k].gone; k++)
		;
	if (k >= CFG_MAX_LISTEN)
		return -1;
	ctx->lan[k] = *lan;
	ctx->lan[k].gone = false;
	if (k == ctx->n_lan)
		ctx->n_lan++;
	return (int)k;
}

void
ctx_lan_remove(struct igdd_ctx *ctx, unsigned slot)
{
	if (slot < ctx->n_lan)
		ctx->lan[slot].gone = true;
}

/* The LAN whose subnet holds a (on that interface, or on any when
 * ifindex is 0): the longest prefix, as routing would choose, where two
 * subnets overlap (192.168.0.0/16 and 192.168.79.0/24 on one bridge). */
static const struct lan_iface *
lan_longest(const struct igdd_ctx *ctx, struct in_addr a, unsigned ifindex)
{
	const struct lan_iface *best = NULL;
	unsigned k;

	for (k = 0; k < ctx->n_lan; k++) {
		const struct lan_iface *l = &ctx->lan[k];

		if (l->gone || (ifindex != 0 && l->ifindex != ifindex) ||
		    (a.s_addr & l->mask.s_addr) != (l->addr.s_addr & l->mask.s_addr))
			continue;
		if (best == NULL || ntohl(l->mask.s_addr) > ntohl(best->mask.s_addr))
			best = l;
	}
	return best;
}

const struct lan_iface *
ctx_lan_for_addr(const struct igdd_ctx *ctx, struct in_addr a)
{
	return lan_longest(ctx, a, 0);
}

const struct lan_iface *
ctx_lan_by_ifindex(const struct igdd_ctx *ctx, unsigned ifindex)
{
	unsigned k;

	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && ctx->lan[k].ifindex == ifindex)
			return &ctx->lan[k];
	return NULL;
}

const struct lan_iface *
ctx_lan_for_addr_on(const struct igdd_ctx *ctx, struct in_addr a, unsigned ifindex)
{
	return ifindex != 0 ? lan_longest(ctx, a, ifindex) : NULL;
}

int
ctx_lan_sibling(const struct igdd_ctx *ctx, unsigned slot,
		bool (*has)(const void *arg, unsigned slot), const void *arg)
{
	unsigned k;

	if (slot >= ctx->n_lan)
		return -1;
	for (k = 0; k < ctx->n_lan; k++)
		if (k != slot && !ctx->lan[k].gone &&
		    ctx->lan[k].ifindex == ctx->lan[slot].ifindex && has(arg, k))
			return (int)k;
	return -1;
}

/* The open flag, or the loop handle, of slot's IPv4 or IPv6 socket. */
static bool *
sock_open(const struct ctx_lan_socks *s, unsigned slot, bool v6)
{
	return (bool *)((char *)(v6 ? s->v6 : s->v4) + slot * s->size + s->open_at);
}

static struct loop_fd *
sock_lfd(const struct ctx_lan_socks *s, unsigned slot, bool v6)
{
	return (struct loop_fd *)((char *)(v6 ? s->v6 : s->v4) + slot * s->size + s->lfd_at);
}

static bool
socks_open4(const void *s, unsigned slot)
{
	return *sock_open(s, slot, false);
}

static bool
socks_open6(const void *s, unsigned slot)
{
	return *sock_open(s, slot, true);
}

bool
ctx_lan_has6(const struct igdd_ctx *ctx, unsigned slot, const struct ctx_lan_socks *s)
{
	return socks_open6(s, slot) || ctx_lan_sibling(ctx, slot, socks_open6, s) >= 0;
}

/* slot's IPv6 socket (taken out of the loop) goes on, as it is, for a
 * slot on the same interface that stays: true, or false (none). */
static bool
pass6(struct igdd_ctx *ctx, unsigned slot, const struct ctx_lan_socks *s)
{
	int k = ctx_lan_sibling(ctx, slot, socks_open4, s);

	if (k < 0)
		return false;
	memcpy((char *)s->v6 + (unsigned)k * s->size, (char *)s->v6 + slot * s->size, s->size);
	*sock_open(s, (unsigned)k, true) =
		loop_fd_add(&ctx->loop, sock_lfd(s, (unsigned)k, true), EPOLLIN) == 0;
	return *sock_open(s, (unsigned)k, true);
}

void
ctx_lan_socks_close(struct igdd_ctx *ctx, unsigned slot, const struct ctx_lan_socks *s)
{
	unsigned v6;

	for (v6 = 0; v6 < 2; v6++) {
		if (!*sock_open(s, slot, v6 == 1))
			continue;
		loop_fd_del(&ctx->loop, sock_lfd(s, slot, v6 == 1));
		*sock_open(s, slot, v6 == 1) = false;
		if (v6 == 1 && pass6(ctx, slot, s))
			continue;
		close(sock_lfd(s, slot, v6 == 1)->fd);
	}
}

const struct lan_iface *
ctx_lan_for_addr6(const struct igdd_ctx *ctx, const struct in6_addr *a, unsigned ifindex)
{
	unsigned k, i;

	for (k = 0; k < ctx->n_lan; k++) {
		const struct lan_iface *l = &ctx->lan[k];

		if (l->gone || l->n_addr6 == 0)
			continue;
		if (IN6_IS_ADDR_LINKLOCAL(a)) {
			if (ifindex != 0 && l->ifindex == ifindex)
				return l;
			continue;
		}
		for (i = 0; i < l->n_addr6; i++)
			if (!IN6_IS_ADDR_LINKLOCAL(&l->addr6[i].addr) &&
			    addr_prefix_eq(a, &l->addr6[i].addr, l->addr6[i].plen))
				return l;
	}
	return NULL;
}

bool
ctx_lan_has_prefix6(const struct igdd_ctx *ctx)
{
	unsigned k, i;

	for (k = 0; k < ctx->n_lan; k++)
		for (i = 0; !ctx->lan[k].gone && i < ctx->lan[k].n_addr6; i++)
			if (!IN6_IS_ADDR_LINKLOCAL(&ctx->lan[k].addr6[i].addr))
				return true;
	return false;
}

struct in_addr
ctx_lan_v4_of_addr6(const struct igdd_ctx *ctx, const struct in6_addr *a)
{
	struct in_addr none = { 0 };
	unsigned k, i;

	for (k = 0; k < ctx->n_lan; k++)
		for (i = 0; !ctx->lan[k].gone && i < ctx->lan[k].n_addr6; i++)
			if (memcmp(&ctx->lan[k].addr6[i].addr, a, sizeof(*a)) == 0)
				return ctx->lan[k].addr;
	return none;
}

bool
ctx_lan_own_addr6(const struct igdd_ctx *ctx, const struct in6_addr *a)
{
	unsigned k, i;

	for (k = 0; k < ctx->n_lan; k++)
		for (i = 0; !ctx->lan[k].gone && i < ctx->lan[k].n_addr6; i++)
			if (memcmp(&ctx->lan[k].addr6[i].addr, a, sizeof(*a)) == 0)
				return true;
	return false;
}

uint32_t
ctx_epoch(const struct igdd_ctx *ctx)
{
	uint64_t now = time_mono_ms();

	return now > ctx->epoch_mono ? (uint32_t)((now - ctx->epoch_mono) / 1000) : 0;
}

/* One epoch for both protocols.  NAT-PMP asks for a reset only when the
 * mapping table is lost (RFC 6886 §3.6), but each mapping's external
 * address + port is what its client published, and that is gone too when
 * the address moves; the reset makes a client that missed the
 * announcements renew (and relearn the address) at its next answer from
 * us, as RFC 6886 §3.2.1 groups an address change with loss of mapping
 * state.  Counting restarts at 0 on the monotonic clock: a client sees the
 * value fall behind its estimate (RFC 6886 §3.6, RFC 6887 §8.5) whenever
 * the old epoch was a few seconds old or more. */
bool
ctx_epoch_follow(struct igdd_ctx *ctx)
{
	if (ctx->ext_addr.s_addr == 0 ||
	    (ctx->ext_addr.s_addr == ctx->epoch_addr.s_addr && !ctx->epoch_reset))
		return false;
	ctx->epoch_reset = false;
	ctx->epoch_addr = ctx->ext_addr;
	ctx->epoch_mono = time_mono_ms();
	return true;
}
