/* daemon.h - the daemon's life: configure, start the modules in order,
 * run the loop, stop them in reverse.  Kept out of main.c so tests and
 * tools can drive a whole daemon. */
#ifndef IGDD_DAEMON_H
#define IGDD_DAEMON_H

#include <stdio.h>

struct igdd_ctx;

/* Defaults, config file, command line, validation.  Returns -1 to go on,
 * or an exit status (0 for --help/--version/--check success, 1 on error). */
int daemon_configure(struct igdd_ctx *ctx, int argc, char **argv, FILE *out, FILE *err);
/* Logging, daemonizing, pidfile, signals, firewall, store, protocols. */
int daemon_start(struct igdd_ctx *ctx);
/* The loop, until SIGTERM/SIGINT. */
void daemon_run(struct igdd_ctx *ctx);
/* Everything in reverse; the kernel state is removed, the lease file kept. */
void daemon_stop(struct igdd_ctx *ctx);

#endif
