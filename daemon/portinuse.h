/* portinuse.h - which external ports does the gateway itself use?
 * Like miniupnpd's port_in_use() (portinuse.c), read from /proc/net: a
 * TCP socket listening, or a UDP socket bound and unconnected, on the
 * wildcard address or on the external address.  A mapping on such a port
 * would hide the gateway's own service from the outside. */
#ifndef IGDD_PORTINUSE_H
#define IGDD_PORTINUSE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#define PORTINUSE_BITMAP_BYTES (65536 / 8)

/* Parse one line of /proc/net/{tcp,udp}{,6} (v6 for the *6 files).
 * Returns the local port of a socket that occupies it for the outside
 * (listening TCP / unconnected UDP on the wildcard address or ext), or
 * -1 (header, other state, other address, malformed).  Pure. */
int portinuse_parse_line(const char *line, bool v6, uint8_t proto, struct in_addr ext);

/* Set the bit of every such port for proto in bits[PORTINUSE_BITMAP_BYTES]
 * (cleared first).  0, or -1 when /proc/net could not be read. */
int portinuse_scan(uint8_t proto, struct in_addr ext, uint8_t *bits);

static inline bool
portinuse_bit(const uint8_t *bits, uint16_t port)
{
	return (bits[port >> 3] >> (port & 7)) & 1;
}

#endif
