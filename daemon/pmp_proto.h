/* pmp_proto.h - NAT-PMP (RFC 6886) and PCP (RFC 6887) on the wire: the
 * numbers both sides use, the servers (natpmp.c, pcp.c) and the relay's
 * client sides (upstream_natpmp.c, upstream_pcp.c).  Definitions only. */
#ifndef IGDD_PMP_PROTO_H
#define IGDD_PMP_PROTO_H

#include "wire.h"

#define PCP_VERSION		2
#define PCP_HDR_LEN		24	/* §7.1, §7.2 */
#define PCP_MAP_LEN		36	/* §11.1 */
#define PCP_PEER_LEN		56	/* §12.1 */
#define PCP_MAX_LEN		1100	/* §7 */
#define PCP_NONCE_LEN		12
#define PCP_CLIENT_PORT		5350	/* §14.1: where unsolicited messages go */
#define PCP_R_BIT		0x80	/* response bit in the opcode byte */
#define PCP_LONG_LIFETIME	1800	/* §15: long-lifetime errors, 30 min */
#define PCP_SHORT_LIFETIME	30	/* §15: short-lifetime errors, 30 s */

enum pcp_opcode {
	PCP_OP_ANNOUNCE = 0,
	PCP_OP_MAP = 1,
	PCP_OP_PEER = 2,
};

/* §7.4 result codes. */
enum pcp_result {
	PCP_SUCCESS = 0,
	PCP_UNSUPP_VERSION = 1,
	PCP_NOT_AUTHORIZED = 2,
	PCP_MALFORMED_REQUEST = 3,
	PCP_UNSUPP_OPCODE = 4,
	PCP_UNSUPP_OPTION = 5,
	PCP_MALFORMED_OPTION = 6,
	PCP_NETWORK_FAILURE = 7,
	PCP_NO_RESOURCES = 8,
	PCP_UNSUPP_PROTOCOL = 9,
	PCP_USER_EX_QUOTA = 10,
	PCP_CANNOT_PROVIDE_EXTERNAL = 11,
	PCP_ADDRESS_MISMATCH = 12,
	PCP_EXCESSIVE_REMOTE_PEERS = 13,
};

/* §13 options, RFC 7220 DESCRIPTION.  Codes < 128 are mandatory to
 * process, >= 128 optional. */
enum pcp_option {
	PCP_OPT_THIRD_PARTY = 1,
	PCP_OPT_PREFER_FAILURE = 2,
	PCP_OPT_FILTER = 3,
	PCP_OPT_DESCRIPTION = 128,
};

/* RFC 6886 §3.5 result codes. */
#define NATPMP_RESP_MAX		1100	/* the answer buffer natpmp_handle() writes */

enum natpmp_result {
	NATPMP_SUCCESS = 0,
	NATPMP_UNSUPP_VERSION = 1,
	NATPMP_REFUSED = 2,		/* not authorized / refused */
	NATPMP_NETWORK_FAILURE = 3,	/* e.g. no external address */
	NATPMP_NO_RESOURCES = 4,
	NATPMP_UNSUPP_OPCODE = 5,
};

enum natpmp_opcode {
	NATPMP_OP_EXTERNAL = 0,
	NATPMP_OP_MAP_UDP = 1,
	NATPMP_OP_MAP_TCP = 2,
	NATPMP_OP_RESPONSE = 128,	/* added to the request opcode */
};

#define NATPMP_VERSION		0
#define NATPMP_EXT_RESP_LEN	12	/* §3.2 */
#define NATPMP_MAP_REQ_LEN	12	/* §3.3 */
#define NATPMP_MAP_RESP_LEN	16

/* A PCP option's header (§7.3): code, reserved, length of the data. */
static inline void
pcp_wr_option(struct wr *w, uint8_t code, uint16_t len)
{
	wr_u8(w, code);
	wr_u8(w, 0);
	wr_u16(w, len);
}

#endif
