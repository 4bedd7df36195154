/* pcp_update.h - unsolicited PCP MAP responses when the external address
 * changes (RFC 6887 §14.2). */
#ifndef IGDD_PCP_UPDATE_H
#define IGDD_PCP_UPDATE_H

#include <stdint.h>
#include <netinet/in.h>

struct igdd_ctx;

/* Register the external-address hook.  0 ok, -1 (ENOMEM). */
int pcp_update_init(struct igdd_ctx *ctx);
void pcp_update_shutdown(struct igdd_ctx *ctx);
/* A PCP MAP request with this mapping nonce (PCP_NONCE_LEN bytes) came
 * from client:port (host order): unsolicited responses for the mappings
 * of that nonce go back there (§14.2). */
void pcp_update_note(struct igdd_ctx *ctx, const struct in6_addr *client, const uint8_t *nonce,
		     uint16_t port);
/* The port last noted for client and nonce, or 0. */
uint16_t pcp_update_port(const struct igdd_ctx *ctx, const struct in6_addr *client,
			 const uint8_t *nonce);
/* The hook: the external address changed; when there is a new one, send
 * an unsolicited MAP response for every PCP mapping now and then 250 ms,
 * 500 ms, ... later, PCP_UPDATE_COUNT times in all. */
void pcp_update_ext_changed(struct igdd_ctx *ctx);

#define PCP_UPDATE_COUNT	10	/* the ANNOUNCE schedule of §14.1.3 */
#define PCP_UPDATE_FIRST_MS	250
#define PCP_UPDATE_CLIENTS	256	/* (client, nonce) ports remembered (least recent goes) */

#endif
