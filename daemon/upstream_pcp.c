/* upstream_pcp.c - PCP requests the relay sends and the responses it
 * reads (RFC 6887; RFC 7220 DESCRIPTION).  The server is as untrusted as
 * a LAN client: every field goes through the bounded cursor. */
#include <string.h>

#include "pmp_proto.h"
#include "upstream_pcp.h"
#include "util.h"
#include "wire.h"

/* The common request header (§7.1): version, opcode, lifetime, client. */
static void
write_header(struct wr *w, uint8_t opcode, uint32_t lifetime, struct in_addr client)
{
	struct in6_addr a;

	addr_from_v4(&a, client);
	wr_u8(w, PCP_VERSION);
	wr_u8(w, opcode);
	wr_u16(w, 0);
	wr_u32(w, lifetime);
	wr_bytes(w, &a, 16);
}

size_t
uppcp_write_map(uint8_t *buf, size_t size, const struct uppcp_map *q)
{
	struct in6_addr ext, peer;
	struct wr w;
	size_t dlen;

	memset(&ext, 0, sizeof(ext));
	if (q->ext.s_addr != 0)
		addr_from_v4(&ext, q->ext);
	wr_init(&w, buf, size);
	write_header(&w, PCP_OP_MAP, q->lifetime, q->client);
	wr_bytes(&w, q->nonce, PCP_NONCE_LEN);
	wr_u8(&w, q->proto);
	wr_zero(&w, 3);
	wr_u16(&w, q->iport);
	wr_u16(&w, q->eport);
	wr_bytes(&w, &ext, 16);
	if (q->prefer_failure && q->lifetime != 0)
		pcp_wr_option(&w, PCP_OPT_PREFER_FAILURE, 0);
	if (q->filter.s_addr != 0 && q->lifetime != 0) {
		addr_from_v4(&peer, q->filter);
		pcp_wr_option(&w, PCP_OPT_FILTER, 20);
		wr_u8(&w, 0);
		wr_u8(&w, 128);		/* the one host */
		wr_u16(&w, 0);		/* any port */
		wr_bytes(&w, &peer, 16);
	}
	dlen = q->desc != NULL ? strlen(q->desc) : 0;
	if (dlen > 0 && q->lifetime != 0) {
		size_t padded = (dlen + 3) & ~(size_t)3;

		if (padded > 128)
			padded = dlen = 128;	/* a hint: keep datagrams small */
		/* Padded with blanks to a multiple of 4, its length says so:
		 * miniupnpd before 2.3.11 steps over an option by its length
		 * without the padding and refuses the rest (MALFORMED_OPTION). */
		pcp_wr_option(&w, PCP_OPT_DESCRIPTION, (uint16_t)padded);
		wr_bytes(&w, q->desc, dlen);
		wr_bytes(&w, "   ", padded - dlen);
	}
	return w.err ? 0 : wr_len(&w);
}

size_t
uppcp_write_announce(uint8_t *buf, size_t size, struct in_addr client)
{
	struct wr w;

	wr_init(&w, buf, size);
	write_header(&w, PCP_OP_ANNOUNCE, 0, client);
	return w.err ? 0 : wr_len(&w);
}

/* Options (§7.3): code, reserved, length, data padded to 4 bytes.  The
 * relay acts on none of a response's options; only their framing is
 * checked, so that a response is whole. */
static int
skip_options(struct rd *r)
{
	while (r->left > 0) {
		uint16_t olen;

		rd_u8(r);
		rd_u8(r);
		olen = rd_u16(r);
		if (rd_take(r, ((size_t)olen + 3) & ~(size_t)3) == NULL)
			return -1;
	}
	return 0;
}

int
uppcp_parse(const uint8_t *buf, size_t len, struct uppcp_resp *out)
{
	struct in6_addr ext;
	struct rd r;
	uint8_t op;

	memset(out, 0, sizeof(*out));
	if (len < PCP_HDR_LEN || len > PCP_MAX_LEN || len % 4 != 0)
		return -1;
	rd_init(&r, buf, len);
	if (rd_u8(&r) != PCP_VERSION)
		return -1;
	op = rd_u8(&r);
	if (!(op & PCP_R_BIT))
		return -1;		/* a request: not for a client */
	out->opcode = op & (uint8_t)~PCP_R_BIT;
	rd_u8(&r);
	out->result = rd_u8(&r);
	out->lifetime = rd_u32(&r);
	out->epoch = rd_u32(&r);
	rd_skip(&r, 12);
	if (out->opcode == PCP_OP_MAP && r.left >= PCP_MAP_LEN) {
		rd_bytes(&r, out->nonce, PCP_NONCE_LEN);
		out->proto = rd_u8(&r);
		rd_skip(&r, 3);
		out->iport = rd_u16(&r);
		out->eport = rd_u16(&r);
		rd_bytes(&r, &ext, 16);
		if (addr_is_v4(&ext))
			out->ext = addr_to_v4(&ext);
		out->has_map = true;
	} else if (out->opcode == PCP_OP_MAP) {
		/* An error may echo less (UNSUPP_VERSION); a success never. */
		return out->result == 0 ? -1 : 0;
	}
	if (r.err || skip_options(&r) < 0)
		return -1;
	return 0;
}
