/* pcp.h - PCP (RFC 6887) request handler: a pure function over one
 * datagram; daemon/pmp.c owns the sockets. */
#ifndef IGDD_PCP_H
#define IGDD_PCP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct igdd_ctx;

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

/* Handle one request from `from` (v4-mapped for IPv4 transport).  Same
 * convention as natpmp_handle(): 1 = answer in resp[0..*resplen) (resp
 * holds PCP_MAX_LEN bytes), 0 = ignore silently, -1 = malformed, dropped. */
int pcp_handle(struct igdd_ctx *ctx, const struct in6_addr *from,
	       const uint8_t *req, size_t len, uint8_t *resp, size_t *resplen);

/* The lifetime an error response carries (§15): long or short. */
uint32_t pcp_error_lifetime(enum pcp_result r);

/* The unsolicited ANNOUNCE response (§14.1.1).  Returns its length (24),
 * 0 if size is too small. */
size_t pcp_announce(const struct igdd_ctx *ctx, uint8_t *buf, size_t size);

/* An unsolicited MAP response for a PCP mapping whose external address
 * changed (§14.2): SUCCESS, the lease left, its nonce, protocol, ports
 * and the current external address.  Returns its length (60), 0 if m is
 * not a PCP mapping, there is no external address, or size is too small. */
struct mapping;
size_t pcp_map_update(const struct igdd_ctx *ctx, const struct mapping *m,
		      uint8_t *buf, size_t size);

/* The mapping nonce of a PCP MAP request (or NULL when req is not one,
 * long enough to hold it): pmp.c notes the port it came from. */
const uint8_t *pcp_map_nonce(const uint8_t *req, size_t len);

#endif
