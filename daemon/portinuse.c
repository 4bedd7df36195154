/* portinuse.c - local sockets on external ports, from /proc/net.
 * Cost: one read of two small files per request that needs it, bounded by
 * the sockets of the gateway, never by the number of mappings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portinuse.h"

#define TCP_LISTEN	0x0a	/* include/net/tcp_states.h */
#define UDP_UNCONN	0x07	/* TCP_CLOSE: bound, not connected */

struct cur {
	const char *p;
};

static void
skip_spaces(struct cur *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static int
hexdig(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Exactly n hex digits into *out (n <= 8). */
static int
hex_n(struct cur *c, unsigned n, uint32_t *out)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		int d = hexdig(c->p[i]);
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	c->p += n;
	*out = v;
	return 0;
}

int
portinuse_parse_line(const char *line, bool v6, uint8_t proto, struct in_addr ext)
{
	struct cur c = { line };
	uint32_t w[4] = { 0, 0, 0, 0 }, port, st, tmp;
	unsigned i, nw = v6 ? 4 : 1;
	bool any = true, is_ext;

	skip_spaces(&c);
	if (*c.p < '0' || *c.p > '9')
		return -1;	/* the header line */
	while (*c.p >= '0' && *c.p <= '9')
		c.p++;
	if (*c.p++ != ':')
		return -1;
	skip_spaces(&c);
	/* The kernel prints each 32-bit word of the address as a native
	 * integer, so the parsed value has the in-memory layout already. */
	for (i = 0; i < nw; i++) {
		if (hex_n(&c, 8, &w[i]) < 0)
			return -1;
		if (w[i] != 0)
			any = false;
	}
	if (*c.p++ != ':' || hex_n(&c, 4, &port) < 0 || *c.p++ != ' ')
		return -1;
	for (i = 0; i < nw; i++)		/* remote address */
		if (hex_n(&c, 8, &tmp) < 0)
			return -1;
	if (*c.p++ != ':' || hex_n(&c, 4, &tmp) < 0 || *c.p++ != ' ')
		return -1;
	if (hex_n(&c, 2, &st) < 0)
		return -1;
	if (st != (proto == IPPROTO_TCP ? TCP_LISTEN : UDP_UNCONN))
		return -1;
	if (v6) {
		/* ::ffff:a.b.c.d is the external address seen by a dual-stack socket */
		is_ext = ext.s_addr != 0 && w[0] == 0 && w[1] == 0 &&
			 memcmp(&w[2], "\0\0\xff\xff", 4) == 0 && w[3] == ext.s_addr;
	} else {
		is_ext = ext.s_addr != 0 && w[0] == ext.s_addr;
	}
	return any || is_ext ? (int)port : -1;
}

static int
scan_file(const char *path, bool v6, uint8_t proto, struct in_addr ext, uint8_t *bits)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int port;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		port = portinuse_parse_line(line, v6, proto, ext);
		if (port > 0)
			bits[port >> 3] |= (uint8_t)(1u << (port & 7));
	}
	fclose(f);
	return 0;
}

int
portinuse_scan(uint8_t proto, struct in_addr ext, uint8_t *bits)
{
	int r4, r6;

	memset(bits, 0, PORTINUSE_BITMAP_BYTES);
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	r4 = scan_file(proto == IPPROTO_TCP ? "/proc/net/tcp" : "/proc/net/udp",
		       false, proto, ext, bits);
	/* tcp6/udp6 are absent when IPv6 is disabled: not an error. */
	r6 = scan_file(proto == IPPROTO_TCP ? "/proc/net/tcp6" : "/proc/net/udp6",
		       true, proto, ext, bits);
	return r4 < 0 && r6 < 0 ? -1 : 0;
}
