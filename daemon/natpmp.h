/* natpmp.h - NAT-PMP (RFC 6886) request handler: a pure function over
 * one datagram; daemon/pmp.c owns the sockets. */
#ifndef IGDD_NATPMP_H
#define IGDD_NATPMP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct igdd_ctx;

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

/* Handle one request from `from` (v4-mapped).  Returns 1 with the answer
 * in resp[0..*resplen) (resp holds PMP_MAX_DATAGRAM bytes),
 * 0 when the datagram is to be ignored silently (a response, RFC 6886 §3.5),
 * -1 when it is malformed and dropped (the caller counts it). */
int natpmp_handle(struct igdd_ctx *ctx, const struct in6_addr *from,
		  const uint8_t *req, size_t len, uint8_t *resp, size_t *resplen);

/* The external-address response (§3.2), also the unsolicited announcement
 * (§3.2.1).  Returns its length (12), 0 if size is too small. */
size_t natpmp_external_response(const struct igdd_ctx *ctx, uint8_t *buf, size_t size);

#endif
