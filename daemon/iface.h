/* iface.h - LAN interfaces (listening_ip) and the external address. */
#ifndef IGDD_IFACE_H
#define IGDD_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

struct igdd_ctx;

/* Resolve listening_ip entries to interfaces and addresses, find the
 * external interface and address.  0 ok, -1 with a logged reason. */
int iface_init(struct igdd_ctx *ctx);
/* The LAN interfaces cfg's listening_ip names, resolved now into
 * out[0..cfg->n_listen), with their IPv6 addresses.  The count, or -1 with the reason in msg. */
struct config;
struct lan_iface;
int iface_resolve(const struct config *cfg, struct lan_iface *out, char *msg, size_t msgsize);
/* Watch rtnetlink for address and link changes of the external
 * interface; on a change, run the ctx ext hooks. */
int iface_watch_init(struct igdd_ctx *ctx);
/* Re-read the external address (ext_ip wins when configured).
 * Returns true when it changed. */
bool iface_refresh_ext(struct igdd_ctx *ctx);
/* Re-read the LAN interfaces' IPv6 addresses (the watcher does it on
 * every address change).  Returns true when any changed. */
bool iface_refresh_lan6(struct igdd_ctx *ctx);
/* Re-read the LAN interfaces' IPv6 addresses (a prefix that comes or
 * goes changes CONFIGID) and the external address and, when the latter
 * changed (or always), log it and run the ext hooks: what clients are
 * told of a change (GENA, NAT-PMP/PCP announcements and epoch, PCP MAP
 * updates).  The rtnetlink watcher calls it after a change, and reload;
 * SIGUSR1 with always set. */
void iface_ext_check(struct igdd_ctx *ctx, bool always);
void iface_shutdown(struct igdd_ctx *ctx);
/* The IPv4 addresses of one interface, at most max: how many. */
size_t iface_v4_addrs(const char *ifname, struct in_addr *out, size_t max);
/* The gateway's external addresses: ext_ip when configured, the reported
 * address, and every IPv4 address of ext_ifname (duplicates possible). */
size_t iface_ext_addrs(const struct igdd_ctx *ctx, struct in_addr *out, size_t max);
/* The IPv4 default gateway through ifname in the text of /proc/net/route
 * (len bytes): 0 and *gw, or -1 when there is none.  Pure. */
int iface_parse_route(const char *text, size_t len, const char *ifname, struct in_addr *gw);
/* The default gateway on ext_ifname, from /proc/net/route: 0 / -1. */
int iface_default_gateway(const struct igdd_ctx *ctx, struct in_addr *gw);
/* The external address learnt from an upstream gateway or STUN (0 =
 * none: the interface's own again).  It is what igdd reports unless
 * ext_ip is set; when that changes the ext hooks run. */
void iface_set_learnt(struct igdd_ctx *ctx, struct in_addr a, const char *who);
/* Private, shared (100.64/10), reserved: an address that cannot be
 * reached from the Internet. */
bool iface_addr_is_private(struct in_addr a);

#endif
