/* perm.c - permission rule checks (miniupnpd semantics, see perm.h). */
#include <regex.h>

#include "conf.h"
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
