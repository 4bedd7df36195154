/* ct.h - outbound mappings in the kernel's connection tracking (PCP PEER,
 * RFC 6887 section 12), through ctnetlink (libmnl): look up the flow of
 * an internal endpoint to a remote peer, or create it (IPv4: with its
 * source NAT to the external address), and set its lifetime. */
#ifndef IGDD_CT_H
#define IGDD_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* One PEER request and its answer.  Addresses are v4-mapped for IPv4;
 * iaddr and peer are of one family. */
struct ct_peer {
	uint8_t proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	struct in6_addr iaddr, peer;
	uint16_t iport, pport;
	uint32_t lifetime;		/* s: the flow's timeout; 0: end it soon */
	struct in_addr nat_addr;	/* IPv4: the address to translate to */
	uint16_t want_eport;		/* IPv4: the suggested external port, 0 none */
	/* out */
	struct in6_addr ext;		/* the flow's external address and port */
	uint16_t eport;
	bool created;			/* no such flow before: made now */
};

/* Look the flow up; set its timeout when it exists, else create it (not
 * with lifetime 0: then *p reports the internal endpoint).  0, or -1 with
 * errno (EEXIST: the suggested port is taken and no other would do). */
int ct_peer(struct ct_peer *p);

/* Message building and parsing (pure, for tests): a ctnetlink request of
 * type (IPCTNL_MSG_CT_GET / IPCTNL_MSG_CT_NEW) for p into buf[size]; NEW
 * with create asks for a new flow (NAT for IPv4 from port lo..hi).
 * Returns the length, 0 if it did not fit. */
size_t ct_msg(char *buf, size_t size, uint16_t type, uint32_t seq, const struct ct_peer *p,
	      bool create, uint16_t lo, uint16_t hi);
/* The reply tuple's destination of a CT_NEW/GET answer: the external side
 * of the flow.  0, or -1 when nlh holds no conntrack. */
struct nlmsghdr;
int ct_parse_reply(const struct nlmsghdr *nlh, struct in6_addr *ext, uint16_t *eport);

#endif
