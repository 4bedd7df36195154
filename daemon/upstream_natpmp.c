/* upstream_natpmp.c - NAT-PMP requests the relay sends and the responses
 * it reads (RFC 6886). */
#include <string.h>

#include "pmp_proto.h"
#include "upstream_natpmp.h"
#include "wire.h"

size_t
upnatpmp_write_external(uint8_t *buf, size_t size)
{
	struct wr w;

	wr_init(&w, buf, size);
	wr_u8(&w, NATPMP_VERSION);
	wr_u8(&w, NATPMP_OP_EXTERNAL);
	return w.err ? 0 : wr_len(&w);
}

size_t
upnatpmp_write_map(uint8_t *buf, size_t size, uint8_t proto, uint16_t iport, uint16_t eport,
		   uint32_t lifetime)
{
	struct wr w;

	wr_init(&w, buf, size);
	wr_u8(&w, NATPMP_VERSION);
	wr_u8(&w, proto == IPPROTO_TCP ? NATPMP_OP_MAP_TCP : NATPMP_OP_MAP_UDP);
	wr_u16(&w, 0);
	wr_u16(&w, iport);
	wr_u16(&w, lifetime != 0 ? eport : 0);
	wr_u32(&w, lifetime);
	return w.err ? 0 : wr_len(&w);
}

int
upnatpmp_parse(const uint8_t *buf, size_t len, struct upnatpmp_resp *out)
{
	struct rd r;
	uint8_t op;

	memset(out, 0, sizeof(*out));
	rd_init(&r, buf, len);
	if (rd_u8(&r) != NATPMP_VERSION)
		return -1;
	op = rd_u8(&r);
	out->result = rd_u16(&r);
	out->epoch = rd_u32(&r);
	if (r.err || op < NATPMP_OP_RESPONSE)
		return -1;
	out->op = (uint8_t)(op - NATPMP_OP_RESPONSE);
	switch (out->op) {
	case NATPMP_OP_EXTERNAL:
		rd_bytes(&r, &out->ext.s_addr, 4);
		break;
	case NATPMP_OP_MAP_UDP:
	case NATPMP_OP_MAP_TCP:
		out->proto = out->op == NATPMP_OP_MAP_TCP ? IPPROTO_TCP : IPPROTO_UDP;
		out->iport = rd_u16(&r);
		out->eport = rd_u16(&r);
		out->lifetime = rd_u32(&r);
		break;
	default:
		return out->result != 0 ? 0 : -1;	/* an error about some opcode */
	}
	/* §3.5: a server that refuses may answer only the first 8 bytes. */
	if (r.err && out->result == 0)
		return -1;
	if (out->result != 0) {
		out->ext.s_addr = 0;
		out->eport = 0;
		out->lifetime = 0;
	}
	return 0;
}
