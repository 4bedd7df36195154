/* perm.c - permission rule checks (miniupnpd semantics, see perm.h). */
#include <arpa/inet.h>
#include <regex.h>
#include <string.h>

#include "conf.h"
#include "ctx.h"
#include "perm.h"
#include "util.h"

static bool
rule_matches(const struct perm_rule *r, uint16_t eport, const struct in6_addr *iaddr,
	     uint16_t iport, const char *desc, const uint8_t *mac)
{
	struct in_addr a;

	if (eport < r->eport_min || eport > r->eport_max)
		return false;
	if (iport < r->iport_min || iport > r->iport_max)
		return false;
	if (r->has_mac) {
		/* the device, whichever of its addresses (v4, any v6) asks */
		if (mac == NULL || memcmp(mac, r->mac, sizeof(r->mac)) != 0)
			return false;
	} else if (r->v6) {
		if (addr_is_v4(iaddr) || !addr_prefix_eq(iaddr, &r->addr6, r->plen6))
			return false;
	} else if (addr_is_v4(iaddr)) {
		a = addr_to_v4(iaddr);
		if ((a.s_addr & r->mask.s_addr) != (r->addr.s_addr & r->mask.s_addr))
			return false;
	} else {
		/* An IPv4 rule, even 0.0.0.0/0, says nothing about an IPv6
		 * client (see perm_allowed()). */
		return false;
	}
	/* miniupnpd compiles with REG_EXTENDED|REG_ICASE|REG_NOSUB and
	 * searches anywhere in the description (not anchored). */
	if (desc != NULL && r->has_regex && regexec(&r->regex, desc, 0, NULL, 0) != 0)
		return false;
	return true;
}

int
perm_match_mac(const struct perm_rule *rules, unsigned n, uint16_t eport,
	       const struct in6_addr *iaddr, uint16_t iport, const char *desc,
	       const uint8_t *mac)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (rule_matches(&rules[i], eport, iaddr, iport, desc, mac))
			return (int)i;
	return -1;
}

int
perm_match(const struct perm_rule *rules, unsigned n, uint16_t eport,
	   const struct in6_addr *iaddr, uint16_t iport, const char *desc)
{
	return perm_match_mac(rules, n, eport, iaddr, iport, desc, NULL);
}

bool
perm_uses_mac(const struct perm_rule *rules, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (rules[i].has_mac)
			return true;
	return false;
}

bool
perm_allowed_mac(const struct perm_rule *rules, unsigned n, uint16_t eport,
		 const struct in6_addr *iaddr, uint16_t iport, const char *desc,
		 const uint8_t *mac)
{
	bool v6 = !addr_is_v4(iaddr);
	unsigned k;
	int i;

	/* An IPv6 client (a pinhole) answers to the IPv6 and mac= rules
	 * only; with none of them it is allowed, as when there are no rules
	 * at all: a miniupnpd.conf's IPv4 rules (and its final "deny ...
	 * 0.0.0.0/0") never applied to IPv6, which miniupnpd checks
	 * against no rules. */
	for (k = 0; v6 && k < n && !rules[k].v6 && !rules[k].has_mac; k++)
		;
	if (n == 0 || (v6 && k == n))
		return true;
	i = perm_match_mac(rules, n, eport, iaddr, iport, desc, mac);
	return i >= 0 && rules[i].allow;
}

bool
perm_allowed(const struct perm_rule *rules, unsigned n, uint16_t eport,
	     const struct in6_addr *iaddr, uint16_t iport, const char *desc)
{
	return perm_allowed_mac(rules, n, eport, iaddr, iport, desc, NULL);
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

/* A pinhole's client: see perm.h. */
static enum perm_host
lan_host6(const struct igdd_ctx *ctx, const struct in6_addr *a)
{
	const struct lan_iface *l;
	unsigned i;

	if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_MULTICAST(a) ||
	    IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_V4COMPAT(a))
		return PERM_HOST_SPECIAL;
	if ((l = ctx_lan_for_addr6(ctx, a, 0)) == NULL)
		return PERM_HOST_OUTSIDE;
	if (ctx_lan_own_addr6(ctx, a))
		return PERM_HOST_GATEWAY;
	/* RFC 4291 2.6.1: the prefix with host bits zero is the routers'. */
	for (i = 0; i < l->n_addr6; i++) {
		struct in6_addr net = IN6ADDR_ANY_INIT;
		unsigned plen = l->addr6[i].plen;

		if (IN6_IS_ADDR_LINKLOCAL(&l->addr6[i].addr) || plen >= 127 ||
		    !addr_prefix_eq(a, &l->addr6[i].addr, plen))
			continue;
		memcpy(&net, a, plen / 8);
		if (plen % 8)
			net.s6_addr[plen / 8] = a->s6_addr[plen / 8] & (uint8_t)(0xff << (8 - plen % 8));
		if (memcmp(&net, a, sizeof(net)) == 0)
			return PERM_HOST_NET;
	}
	return PERM_HOST_OK;
}

enum perm_host
perm_lan_host(const struct igdd_ctx *ctx, const struct in6_addr *a)
{
	const struct lan_iface *l;
	uint32_t h, host_mask;
	struct in_addr v4;
	unsigned k;

	if (!addr_is_v4(a))
		return lan_host6(ctx, a);
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
	case PERM_HOST_SPECIAL: return "not a routable unicast host address";
	case PERM_HOST_OUTSIDE: return "outside the served LANs";
	case PERM_HOST_NET: return "a LAN's network or broadcast address";
	case PERM_HOST_GATEWAY: return "the gateway itself";
	}
	return "?";
}
