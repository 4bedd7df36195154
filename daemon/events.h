/* events.h - GENA eventing: subscriptions and NOTIFY. */
#ifndef IGDD_EVENTS_H
#define IGDD_EVENTS_H

struct igdd_ctx;

/* Open sockets and register them with the loop. 0 ok, -1 fatal. */
int events_init(struct igdd_ctx *ctx);
/* Say goodbye where the protocol wants it, close everything. */
void events_shutdown(struct igdd_ctx *ctx);

#endif
