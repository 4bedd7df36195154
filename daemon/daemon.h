/* daemon.h - the daemon's life: configure, start the modules in order,
 * run the loop, stop them in reverse.  Kept out of main.c so tests and
 * tools can drive a whole daemon. */
#ifndef IGDD_DAEMON_H
#define IGDD_DAEMON_H

#include <stdio.h>

struct igdd_ctx;
struct lan_iface;

/* Defaults, config file, command line, validation.  Returns -1 to go on,
 * or an exit status (0 for --help/--version/--check success, 1 on error). */
int daemon_configure(struct igdd_ctx *ctx, int argc, char **argv, FILE *out, FILE *err);
/* Logging, daemonizing, pidfile, signals, firewall, store, protocols. */
int daemon_start(struct igdd_ctx *ctx);
/* The loop, until SIGTERM/SIGINT. */
void daemon_run(struct igdd_ctx *ctx);
/* Everything in reverse; the kernel state is removed, the lease file kept. */
void daemon_stop(struct igdd_ctx *ctx);

/* A LAN interface comes (a free slot of ctx->lan, every enabled front end
 * set up on it: HTTP, SSDP, NAT-PMP/PCP) or goes (torn down in reverse,
 * the slot freed), in a running daemon: what reload and a LAN address
 * change use.  up returns the slot, or -1 with nothing left half-made. */
int daemon_lan_up(struct igdd_ctx *ctx, const struct lan_iface *lan);
void daemon_lan_down(struct igdd_ctx *ctx, unsigned slot);

#endif
