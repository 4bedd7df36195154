/* upstream_natpmp.h - the NAT-PMP client side of the relay (RFC 6886):
 * requests written, responses parsed.  Pure functions over buffers. */
#ifndef IGDD_UPSTREAM_NATPMP_H
#define IGDD_UPSTREAM_NATPMP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* §3.2 external-address request (2 bytes); §3.3 map request (12 bytes;
 * lifetime 0 deletes, §3.4).  Their length, 0 if size is too small. */
size_t upnatpmp_write_external(uint8_t *buf, size_t size);
size_t upnatpmp_write_map(uint8_t *buf, size_t size, uint8_t proto, uint16_t iport,
			  uint16_t eport, uint32_t lifetime);

struct upnatpmp_resp {
	uint8_t op;			/* the request's opcode (0, 1 UDP, 2 TCP) */
	uint16_t result;		/* §3.5 */
	uint32_t epoch;
	struct in_addr ext;		/* op 0 */
	uint8_t proto;			/* op 1, 2: IPPROTO_UDP / IPPROTO_TCP */
	uint16_t iport, eport;
	uint32_t lifetime;
};

/* Parse one datagram from the server: 0 and *r for a NAT-PMP response
 * (version 0, opcode >= 128, the length its opcode has; an error answer
 * may be the 8-byte short form), -1 otherwise.  Never reads past len. */
int upnatpmp_parse(const uint8_t *buf, size_t len, struct upnatpmp_resp *r);

#endif
