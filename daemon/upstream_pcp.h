/* upstream_pcp.h - the PCP client side of the relay (RFC 6887, as a PCP
 * proxy of RFC 7648 speaks to its server): requests written, responses
 * parsed.  Pure functions over buffers; upstream.c does the I/O. */
#ifndef IGDD_UPSTREAM_PCP_H
#define IGDD_UPSTREAM_PCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* A MAP request (RFC 6887 §11.1) for the CPE's own address. */
struct uppcp_map {
	uint8_t nonce[12];
	uint8_t proto;
	uint16_t iport;			/* the CPE's external port */
	uint16_t eport;			/* suggested external port (0 = none) */
	uint32_t lifetime;		/* 0 = delete */
	struct in_addr client;		/* the CPE's WAN address (client field, internal address) */
	struct in_addr ext;		/* suggested external address, 0 = none */
	bool prefer_failure;		/* §13.2 */
	struct in_addr filter;		/* §13.3 remote peer, 0 = none */
	const char *desc;		/* RFC 7220 DESCRIPTION, NULL or "" = none */
};

/* Write the request into buf; its length (a multiple of 4), 0 if it
 * does not fit. */
size_t uppcp_write_map(uint8_t *buf, size_t size, const struct uppcp_map *q);
/* An ANNOUNCE request (§14.1): the server answers with its epoch. */
size_t uppcp_write_announce(uint8_t *buf, size_t size, struct in_addr client);

/* A response, once checked. */
struct uppcp_resp {
	uint8_t opcode;			/* without the R bit */
	uint8_t result;			/* §7.4 */
	uint32_t lifetime;
	uint32_t epoch;
	/* MAP (also the body copied into an error response) */
	bool has_map;
	uint8_t nonce[12];
	uint8_t proto;
	uint16_t iport, eport;
	struct in_addr ext;		/* 0 unless an IPv4(-mapped) address */
};

/* Parse one datagram from the server: 0 and *r for a PCP response
 * (version 2, R bit set, 24..1100 bytes, a multiple of 4; a MAP body
 * when the opcode is MAP and it is long enough; options are skipped but
 * their framing must hold), -1 for anything else.  Never reads past len. */
int uppcp_parse(const uint8_t *buf, size_t len, struct uppcp_resp *r);

#endif
