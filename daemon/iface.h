/* iface.h - LAN interfaces (listening_ip) and the external address. */
#ifndef IGDD_IFACE_H
#define IGDD_IFACE_H

#include <stdbool.h>
#include <netinet/in.h>

struct igdd_ctx;

/* Resolve listening_ip entries to interfaces and addresses, find the
 * external interface and address.  0 ok, -1 with a logged reason. */
int iface_init(struct igdd_ctx *ctx);
/* Watch rtnetlink for address and link changes of the external
 * interface; on a change, run the ctx ext hooks. */
int iface_watch_init(struct igdd_ctx *ctx);
/* Re-read the external address (ext_ip wins when configured).
 * Returns true when it changed. */
bool iface_refresh_ext(struct igdd_ctx *ctx);
/* Re-read the LAN interfaces' IPv6 addresses (the watcher does it on
 * every address change).  Returns true when any changed. */
bool iface_refresh_lan6(struct igdd_ctx *ctx);
void iface_shutdown(struct igdd_ctx *ctx);
/* Private, shared (100.64/10), reserved: an address that cannot be
 * reached from the Internet. */
bool iface_addr_is_private(struct in_addr a);

#endif
