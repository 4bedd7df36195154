/* neigh.h - the neighbour table: which MAC address (device) an IPv4 or
 * IPv6 address of a LAN host belongs to.  Read at request time through
 * rtnetlink (libmnl), never cached: a permission rule that names a MAC,
 * and secure mode's "the host's own addresses", follow the table as it
 * is when the request comes. */
#ifndef IGDD_NEIGH_H
#define IGDD_NEIGH_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* The MAC of a (v4-mapped for IPv4) from a usable neighbour entry
 * (reachable, stale, delay, probe or permanent), and the interface the
 * entry is on (what places a link-local address).  0, or -1 when there is
 * none (never seen, failed, not Ethernet) or the table cannot be read. */
int neigh_lookup(const struct in6_addr *a, uint8_t mac[6], unsigned *ifindex);

/* Pure part, for tests and the fuzzer: one RTM_NEWNEIGH message of a
 * dump; 1 when it is a usable entry for a (its MAC in mac, its interface
 * in *ifindex), 0 when not. */
struct nlmsghdr;
int neigh_parse(const struct nlmsghdr *nlh, const struct in6_addr *a, uint8_t mac[6],
		unsigned *ifindex);

#endif
