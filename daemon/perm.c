/* perm.c - permission rule checks (miniupnpd semantics, see perm.h). */
#include <arpa/inet.h>
#include <regex.h>

#include "conf.h"
#include "ctx.h"
#include "perm.h"
#include "util.h"

static bool
rule_matches(const struct perm_rule *r, uint16_t eport, const struct in6_addr *iaddr,
	     uint16_t iport, const char *desc)
{
	struct in_addr a;

	if (eport < r->eport_min || eport > r->eport_max)
		return false;
	if (iport < r->iport_min || iport > r->iport_max)
		return false;
	if (addr_is_v4(iaddr)) {
		a = addr_to_v4(iaddr);
		if ((a.s_addr & r->mask.s_addr) != (r->addr.s_addr & r->mask.s_addr))
			return false;
	} else if (r->mask.s_addr != 0) {
		/* An IPv4 prefix says nothing about an IPv6 client; only
		 * 0.0.0.0/0 ("anyone") covers it. */
		return false;
	}
	/* miniupnpd compiles with REG_EXTENDED|REG_ICASE|REG_NOSUB and
	 * searches anywhere in the description (not anchored). */
	if (desc != NULL && r->has_regex && regexec(&r->regex, desc, 0, NULL, 0) != 0)
		return false;
	return true;
}

int
perm_match(const struct perm_rule *rules, unsigned n, uint16_t eport,
	   const struct in6_addr *iaddr, uint16_t iport, const char *desc)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (rule_matches(&rules[i], eport, iaddr, iport, desc))
			return (int)i;
	return -1;
}

bool
perm_allowed(const struct perm_rule *rules, unsigned n, uint16_t eport,
	     const struct in6_addr *iaddr, uint16_t iport, const char *desc)
{
	int i;

	if (n == 0)
		return true;
	i = perm_match(rules, n, eport, iaddr, iport, desc);
	return i >= 0 && rules[i].allow;
}

uint32_t
perm_next_boundary(const struct perm_rule *rules, unsigned n, uint16_t eport)
{
	uint32_t best = 65536, b;
	unsigned i;

	for (i = 0; i < n; i++) {
		b = rules[i].eport_min;
		if (b > eport && b < best)
			best = b;
		b = (uint32_t)rules[i].eport_max + 1;
		if (b > eport && b < best)
			best = b;
	}
	return best;
}

enum perm_host
perm_lan_host(const struct igdd_ctx *ctx, const struct in6_addr *a)
{
	const struct lan_iface *l;
	uint32_t h, host_mask;
	struct in_addr v4;
	unsigned k;

	if (!addr_is_v4(a))
		return PERM_HOST_SPECIAL;
	v4 = addr_to_v4(a);
	h = ntohl(v4.s_addr);
	/* 0/8 this network, 127/8 loopback, 224/4 multicast, 240/4 reserved
	 * and the limited broadcast (RFC 6890) */
	if ((h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 14)
		return PERM_HOST_SPECIAL;
	if ((l = ctx_lan_for_addr(ctx, v4)) == NULL)
		return PERM_HOST_OUTSIDE;
	/* /31 and /32 have no network or broadcast address (RFC 3021) */
	host_mask = ~ntohl(l->mask.s_addr);
	if (host_mask > 1 && ((h & host_mask) == 0 || (h & host_mask) == host_mask))
		return PERM_HOST_NET;
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && ctx->lan[k].addr.s_addr == v4.s_addr)
			return PERM_HOST_GATEWAY;
	if (ctx->ext_addr.s_addr == v4.s_addr)
		return PERM_HOST_GATEWAY;
	return PERM_HOST_OK;
}

const char *
perm_host_str(enum perm_host h)
{
	switch (h) {
	case PERM_HOST_OK: return "a LAN host";
	case PERM_HOST_SPECIAL: return "not a unicast IPv4 host address";
	case PERM_HOST_OUTSIDE: return "outside the served LANs";
	case PERM_HOST_NET: return "a LAN's network or broadcast address";
	case PERM_HOST_GATEWAY: return "the gateway itself";
	}
	return "?";
}
