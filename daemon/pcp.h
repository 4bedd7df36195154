/* pcp.h - PCP (RFC 6887) request handler: a pure function over one
 * datagram; daemon/pmp.c owns the sockets. */
#ifndef IGDD_PCP_H
#define IGDD_PCP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "pmp_proto.h"

struct igdd_ctx;

/* Handle one request from `from` (v4-mapped for IPv4 transport).  Same
 * convention as natpmp_handle(): 1 = answer in resp[0..*resplen) (resp
 * holds PCP_MAX_LEN bytes), 0 = ignore silently, -1 = malformed, dropped. */
int pcp_handle(struct igdd_ctx *ctx, const struct in6_addr *from,
	       const uint8_t *req, size_t len, uint8_t *resp, size_t *resplen);

/* pcp_handle() that may defer: a MAP that waits for the relay's upstream
 * registers w (upstream.h) and returns PCP_DEFERRED; once w is told,
 * pcp_answer() writes the answer to the same request bytes from the
 * relay's answer.  w NULL: never deferred. */
#define PCP_DEFERRED		2
struct upstream_waiter;
struct upstream_answer;
int pcp_handle_w(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req,
		 size_t len, uint8_t *resp, size_t *resplen, struct upstream_waiter *w);
int pcp_answer(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req,
	       size_t len, const struct upstream_answer *a, uint8_t *resp, size_t *resplen);

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
/* The same with result r: NOT_AUTHORIZED for a mapping a configuration
 * change removed (§8.3: "a PCP server might send a SUCCESS response and,
 * after a configuration change on the PCP server, later send a
 * NOT_AUTHORIZED response"), with r's error lifetime. */
size_t pcp_map_unsolicited(const struct igdd_ctx *ctx, const struct mapping *m,
			   enum pcp_result r, uint8_t *buf, size_t size);

/* The mapping nonce of a PCP MAP request (or NULL when req is not one,
 * long enough to hold it): pmp.c notes the port it came from. */
const uint8_t *pcp_map_nonce(const uint8_t *req, size_t len);

#endif
