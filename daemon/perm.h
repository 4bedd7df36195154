/* perm.h - permission rules ("allow|deny eport ip/mask iport [regex]"),
 * checked the way miniupnpd checks them (upnppermissions.c): rules are
 * tried in file order and the first one whose external port range,
 * internal address/mask, internal port range and (if present) regex on
 * the description all match decides. */
#ifndef IGDD_PERM_H
#define IGDD_PERM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <regex.h>

struct perm_rule {
	bool allow;
	uint16_t eport_min, eport_max;
	struct in_addr addr, mask;
	uint16_t iport_min, iport_max;
	bool v6;			/* addr6/plen6: an IPv6 prefix instead */
	struct in6_addr addr6;
	uint8_t plen6;
	bool has_mac;			/* mac=: a device, whatever its address */
	uint8_t mac[6];
	bool has_regex;
	regex_t regex;			/* POSIX extended, matched against the description */
	char *regex_text;		/* as written (malloc'd): what conf_diff() compares */
};

/* Parse one rule: "allow|deny EPORTS ADDR[/MASK] IPORTS ["REGEX"]", ports
 * N or N-M.  A regex is refused when it could blow up regcomp (see
 * perm.c).  0, or -1 with a message (no file:line prefix) in msg. */
int perm_parse(struct perm_rule *r, const char *text, char *msg, size_t msgsize);
/* Free what perm_parse() allocated (the compiled regex). */
void perm_rule_free(struct perm_rule *r);
/* The same rule, as written? */
bool perm_rule_eq(const struct perm_rule *a, const struct perm_rule *b);

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

/* The verdict, as miniupnpd's: the first matching rule decides, and a
 * request that no rule matches (no rules at all included) is allowed.
 * A rule set that means "deny the rest" ends with a catch-all deny
 * ("deny 0-65535 0.0.0.0/0 0-65535", as miniupnpd's sample does).
 * An IPv6 client is covered by IPv6 and mac= rules only: a
 * miniupnpd.conf's IPv4 rules (its final "deny ... 0.0.0.0/0" included)
 * never applied to IPv6 in miniupnpd, which checks pinholes against no
 * rules. */
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

/* Does the rule match every request: any client address (/0), every
 * port (0 or 1 to 65535, both sides), no regex? */
bool perm_is_catchall(const struct perm_rule *r);
/* What a rule set means as a whole, for the log at start.  *catchall gets
 * the index of the first catch-all rule (CLOSED, DENY_ALL). */
enum perm_policy {
	PERM_POLICY_NONE,	/* no rules: every mapping allowed */
	PERM_POLICY_OPEN_END,	/* rules, no catch-all: what none matches is allowed */
	PERM_POLICY_CLOSED,	/* a catch-all decides what the rules before it leave */
	PERM_POLICY_DENY_ALL,	/* a catch-all deny with no allow rule before it */
};
enum perm_policy perm_policy(const struct perm_rule *rules, unsigned n, unsigned *catchall);

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
