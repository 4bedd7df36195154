/* perm.h - permission rules ("allow|deny eport ip/mask iport [regex]"),
 * checked the way miniupnpd checks them (upnppermissions.c): rules are
 * tried in file order and the first one whose external port range,
 * internal address/mask, internal port range and (if present) regex on
 * the description all match decides. */
#ifndef IGDD_PERM_H
#define IGDD_PERM_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

struct perm_rule;

/* Index of the first matching rule, or -1 when none matches.  IPv4 rules
 * match an IPv6 internal address only when their mask is /0.  desc NULL
 * skips regexes (as miniupnpd does). */
int perm_match(const struct perm_rule *rules, unsigned n, uint16_t eport,
	       const struct in6_addr *iaddr, uint16_t iport, const char *desc);

/* The verdict.  No rules: allow.  Rules but none matching: deny (igdd's
 * policy; miniupnpd accepts by default, and its sample configuration
 * ends with "deny 0-65535 0.0.0.0/0 0-65535" to get the same effect). */
bool perm_allowed(const struct perm_rule *rules, unsigned n, uint16_t eport,
		  const struct in6_addr *iaddr, uint16_t iport, const char *desc);

/* The smallest external port > eport at which some rule's port range
 * starts or ends, i.e. the verdict is the same for every port in
 * [eport, result - 1] for a fixed client; 65536 if none.  Lets a
 * free-port search jump over denied ranges in O(rules). */
uint32_t perm_next_boundary(const struct perm_rule *rules, unsigned n, uint16_t eport);

#endif
