/* mapping.h - one port mapping, as every protocol and the backend see it. */
#ifndef IGDD_MAPPING_H
#define IGDD_MAPPING_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#define MAPPING_DESC_MAX 256	/* bytes, including the NUL */

enum owner_proto {
	OWNER_STATIC = 0,	/* admin / config */
	OWNER_UPNP = 1,
	OWNER_NATPMP = 2,
	OWNER_PCP = 3,
};

struct mapping_owner {
	struct in6_addr addr;	/* the address that asked (v4-mapped for IPv4) */
	uint8_t nonce[12];	/* PCP mapping nonce; zero otherwise */
	enum owner_proto proto;
};

/* Addresses are IPv6 or v4-mapped IPv6 so that IPv6 pinholes fit in the
 * same store.  They are pointers: a gateway holds many mappings of few
 * hosts, and the store keeps each address (and each owner) once, shared
 * by all its mappings (48 bytes less per mapping than inline copies).
 *
 * In a request: rhost NULL or :: = any remote host; iaddr and owner point
 * at the caller's values, which the store copies.  In a stored mapping
 * every pointer is set (rhost points at :: for "any") and stays valid as
 * long as the mapping does.
 *
 * desc: in a request, the caller's string (NULL = none; the store copies
 * it, sanitized, at most MAPPING_DESC_MAX - 1 bytes); in a stored mapping,
 * the store's copy or a tag (the text NAT-PMP or PCP makes, not stored),
 * valid as long as the mapping is: read it with mapping_desc().
 *
 * A pinhole is a mapping whose internal client is an IPv6 address (no
 * NAT66: mapping_is_pinhole()): it lets traffic from rhost:rport (:: and
 * 0 = any) to iaddr:iport through the IPv6 firewall.  It has no external
 * port of its own: the store keys it by its UniqueID (uid, in the place of
 * eport; UPnP WANIPv6FirewallControl's key, PCP keeps it internally) and
 * indexes it by internal endpoint.  rport is 0 in port mappings. */
struct mapping {
	const struct in6_addr *rhost;	/* remote host restriction */
	const struct in6_addr *iaddr;	/* internal client */
	const struct mapping_owner *owner;
	const char *desc;		/* printable */
	uint64_t expires;		/* monotonic ms; 0 = no expiry */
	int64_t created;		/* wall-clock seconds */
	union {
		uint16_t eport;		/* external port, host order */
		uint16_t uid;		/* pinhole: its UniqueID (1..65535) */
	};
	uint16_t iport;			/* internal port, host order */
	uint16_t rport;			/* pinhole: remote port, 0 = any */
	uint8_t proto;			/* IPPROTO_TCP, IPPROTO_UDP (room for others) */
	bool enabled;
};

/* Descriptions the daemon makes itself ("NAT-PMP <iport> tcp", "PCP
 * <iport> TCP": mapping_desc_make()) are not stored: a stored mapping's
 * desc then points at one of these tags, and the text is made again from
 * its internal port and protocol when read.  Read a stored mapping's
 * description only through mapping_desc(). */
enum mapping_desc_kind { MAPPING_DESC_NATPMP, MAPPING_DESC_PCP };
extern const char mapping_desc_tags[2][2];
#define MAPPING_DESC_GEN_MAX	24	/* a made description, with its NUL */
/* The description the daemon makes for a mapping of proto to iport. */
int mapping_desc_make(char buf[MAPPING_DESC_GEN_MAX], enum mapping_desc_kind k,
		      uint8_t proto, uint16_t iport);
/* m's description: m->desc, or the text of its tag written into buf. */
const char *mapping_desc(const struct mapping *m, char buf[MAPPING_DESC_GEN_MAX]);
/* The tag for desc when it is the text the daemon makes for m's internal
 * port and protocol; NULL otherwise. */
const char *mapping_desc_tag(const struct mapping *m, const char *desc);

/* Is m an IPv6 pinhole (its internal client not an IPv4 address)? */
bool mapping_is_pinhole(const struct mapping *m);

const char *proto_name(uint8_t proto);	/* "TCP", "UDP", or "?" */
/* Accepts TCP/UDP in any case; returns 0 and the IPPROTO number, -1 otherwise. */
int proto_parse(const char *s, uint8_t *out);

#endif
