/* natpmp.h - NAT-PMP (RFC 6886) request handler: a pure function over
 * one datagram; daemon/pmp.c owns the sockets. */
#ifndef IGDD_NATPMP_H
#define IGDD_NATPMP_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "pmp_proto.h"

struct igdd_ctx;

/* Handle one request from `from` (v4-mapped).  Returns 1 with the answer
 * in resp[0..*resplen) (resp holds PMP_MAX_DATAGRAM bytes),
 * 0 when the datagram is to be ignored silently (a response, RFC 6886 §3.5),
 * -1 when it is malformed and dropped (the caller counts it). */
int natpmp_handle(struct igdd_ctx *ctx, const struct in6_addr *from,
		  const uint8_t *req, size_t len, uint8_t *resp, size_t *resplen);

/* natpmp_handle() that may defer: a map request that waits for the
 * relay's upstream registers w (upstream.h) and returns NATPMP_DEFERRED;
 * once w is told, natpmp_answer() writes the answer to the same request
 * bytes from the relay's answer.  w NULL: never deferred. */
#define NATPMP_DEFERRED		2
struct upstream_waiter;
struct upstream_answer;
int natpmp_handle_w(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req,
		    size_t len, uint8_t *resp, size_t *resplen, struct upstream_waiter *w);
int natpmp_answer(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req,
		  size_t len, const struct upstream_answer *a, uint8_t *resp, size_t *resplen);

/* The external-address response (§3.2), also the unsolicited announcement
 * (§3.2.1).  Returns its length (12), 0 if size is too small. */
size_t natpmp_external_response(const struct igdd_ctx *ctx, uint8_t *buf, size_t size);

#endif
