/* pmp.h - UDP 5351 server: NAT-PMP (RFC 6886) and PCP (RFC 6887). */
#ifndef IGDD_PMP_H
#define IGDD_PMP_H

struct igdd_ctx;

/* Open sockets and register them with the loop. 0 ok, -1 fatal. */
int pmp_init(struct igdd_ctx *ctx);
/* Say goodbye where the protocol wants it, close everything. */
void pmp_shutdown(struct igdd_ctx *ctx);

#endif
