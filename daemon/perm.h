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
 * match IPv4 addresses only, IPv6 rules (a prefix) IPv6 addresses only;
 * a mac= rule matches whatever
 * address has that MAC in the neighbour table (mac: the internal
 * client's, NULL = unknown: no mac= rule matches).  desc NULL skips
 * regexes (as miniupnpd does).  A pinhole is checked with its port as
 * both eport and iport. */
int perm_match(const struct perm_rule *rules, unsigned n, uint16_t eport,
	       const struct in6_addr *iaddr, uint16_t iport, const char *desc);
int perm_match_mac(const struct perm_rule *rules, unsigned n, uint16_t eport,
		   const struct in6_addr *iaddr, uint16_t iport, const char *desc,
		   const uint8_t *mac);
/* Does any rule name a MAC address (then the store looks one up)? */
bool perm_uses_mac(const struct perm_rule *rules, unsigned n);

/* The verdict.  No rules: allow.  Rules but none matching: deny (igdd's
 * policy; miniupnpd accepts by default, and its sample configuration
 * ends with "deny 0-65535 0.0.0.0/0 0-65535" to get the same effect).
 * An IPv6 client with no IPv6 or mac= rule at all: allow (miniupnpd
 * applies no rules to IPv6; IPv4 rules do not cover it). */
bool perm_allowed(const struct perm_rule *rules, unsigned n, uint16_t eport,
		  const struct in6_addr *iaddr, uint16_t iport, const char *desc);
bool perm_allowed_mac(const struct perm_rule *rules, unsigned n, uint16_t eport,
		      const struct in6_addr *iaddr, uint16_t iport, const char *desc,
		      const uint8_t *mac);

/* The smallest external port > eport at which some rule's port range
 * starts or ends, i.e. the verdict is the same for every port in
 * [eport, result - 1] for a fixed client; 65536 if none.  Lets a
 * free-port search jump over denied ranges in O(rules). */
uint32_t perm_next_boundary(const struct perm_rule *rules, unsigned n, uint16_t eport);

/* May a mapping point at this internal client?  Whatever secure_mode
 * says, only a host address inside a LAN prefix igdd serves: not the
 * gateway's own LAN or external address, not the LAN's network or
 * broadcast address, not unspecified, loopback, multicast or reserved,
 * not a WAN or other outside host (an open proxy: UPnProxy).  IPv6 (a
 * pinhole's client): a global or ULA address on a LAN interface's prefix,
 * not link-local, not the gateway's own, not the prefix's Subnet-Router
 * anycast address (host bits zero).  The store asks it for every
 * protocol and for lease replay; other addresses of the gateway itself
 * are the store's extra check (store_set_local_addr_cb). */
enum perm_host {
	PERM_HOST_OK = 0,
	PERM_HOST_SPECIAL,	/* unspecified, loopback, multicast, reserved, link-local */
	PERM_HOST_OUTSIDE,	/* in no served LAN prefix */
	PERM_HOST_NET,		/* a LAN's network or broadcast address */
	PERM_HOST_GATEWAY,	/* the gateway's own address */
};
struct igdd_ctx;
enum perm_host perm_lan_host(const struct igdd_ctx *ctx, const struct in6_addr *a);
const char *perm_host_str(enum perm_host h);

#endif
