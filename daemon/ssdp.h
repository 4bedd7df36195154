/* ssdp.h - SSDP responder and notifier (UDA 1.1/2.0). */
#ifndef IGDD_SSDP_H
#define IGDD_SSDP_H

struct igdd_ctx;

/* Open sockets and register them with the loop. 0 ok, -1 fatal. */
int ssdp_init(struct igdd_ctx *ctx);
/* Say goodbye where the protocol wants it, close everything. */
void ssdp_shutdown(struct igdd_ctx *ctx);

#endif
