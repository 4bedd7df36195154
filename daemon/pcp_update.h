/* pcp_update.h - unsolicited PCP MAP responses when the external address
 * changes (RFC 6887 §14.2), and when the configuration removes a mapping
 * (NOT_AUTHORIZED, §8.3). */
#ifndef IGDD_PCP_UPDATE_H
#define IGDD_PCP_UPDATE_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct igdd_ctx;

/* How a datagram leaves: from port 5351 of the LAN socket that serves dst
 * (pmp_sendto()).  0, or -1. */
typedef int (*pcp_update_send_fn)(struct igdd_ctx *ctx, struct in_addr dst, uint16_t port,
				  const uint8_t *buf, size_t len);
/* Set up the client-port table; send is how the updates leave.  0 ok,
 * -1 (ENOMEM). */
int pcp_update_init(struct igdd_ctx *ctx, pcp_update_send_fn send);
void pcp_update_shutdown(struct igdd_ctx *ctx);
/* A PCP MAP request with this mapping nonce (PCP_NONCE_LEN bytes) came
 * from client:port (host order): unsolicited responses for the mappings
 * of that nonce go back there (§14.2). */
void pcp_update_note(struct igdd_ctx *ctx, const struct in6_addr *client, const uint8_t *nonce,
		     uint16_t port);
/* The port last noted for client and nonce, or 0. */
uint16_t pcp_update_port(const struct igdd_ctx *ctx, const struct in6_addr *client,
			 const uint8_t *nonce);
/* Start a round: an unsolicited MAP response for every PCP mapping, with
 * the current external address, PCP_UPDATE_BATCH mappings looked at per
 * loop iteration (a round over 10,000 mappings never holds up requests).
 * A round started while one runs begins again.  pmp.c calls it from the
 * announcement schedule when the external address moves. */
void pcp_update_round(struct igdd_ctx *ctx);
/* Mappings the running round has still to look at (0: no round). */
size_t pcp_update_pending(const struct igdd_ctx *ctx);
/* Removal notices (NOT_AUTHORIZED for a mapping the configuration
 * removed) with sendings to come. */
size_t pcp_update_notices(const struct igdd_ctx *ctx);

#define PCP_UPDATE_BATCH	256	/* mappings looked at per loop iteration */
#define PCP_UPDATE_CLIENTS	256	/* (client, nonce) ports remembered (least recent goes) */
#define PCP_NOTICE_MAX		4096	/* removal notices queued at once */
#define PCP_NOTICE_SENDS	3	/* each sent 3 times (§14.2) */
#define PCP_NOTICE_LEN		104	/* MAP response, THIRD_PARTY, FILTER */

#endif
