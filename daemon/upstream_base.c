/* upstream_base.c - what the front ends get of upstream.h with or without
 * the relay (./configure --without-relay swaps upstream.c and its client
 * sides for upstream_off.c): the protocols' names and the plain answer of
 * a request that is not relayed. */
#include <string.h>

#include "ctx.h"
#include "store.h"
#include "upstream.h"

const char *
upstream_proto_name(enum upstream_proto p)
{
	switch (p) {
	case UPSTREAM_NONE: return "none";
	case UPSTREAM_AUTO: return "auto";
	case UPSTREAM_PCP: return "PCP";
	case UPSTREAM_NATPMP: return "NAT-PMP";
	case UPSTREAM_UPNP: return "UPnP IGD";
	}
	return "?";
}

int
upstream_add_plain(struct igdd_ctx *ctx, const struct mapping *req, uint32_t lifetime,
		   unsigned store_flags, struct upstream_answer *a, struct mapping **out)
{
	struct mapping *m = NULL;

	memset(a, 0, sizeof(*a));
	a->pcp_result = -1;
	if (out != NULL)
		*out = NULL;
	if (!upstream_reachable(ctx)) {
		a->err = UPE_NETWORK;
		return 0;
	}
	a->local = store_add(ctx->store, req, lifetime, store_flags, &m);
	if (out != NULL)
		*out = m;
	if (a->local == ST_OK) {
		a->ext = ctx->ext_addr;
		a->eport = m != NULL ? m->eport : 0;
		a->lifetime = m != NULL ? store_lease_left(ctx->store, m) : 0;
	}
	return 0;
}
