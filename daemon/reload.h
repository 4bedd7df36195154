/* reload.h - re-reading the configuration in a running daemon (SIGHUP,
 * igddctl reload). */
#ifndef IGDD_RELOAD_H
#define IGDD_RELOAD_H

#include <stddef.h>

struct igdd_ctx;

/* Make ctx->reload reload_run (after daemon_configure()). */
void reload_init(struct igdd_ctx *ctx);

/* Read and check the file (and the command line on top) as at start.  A
 * bad file is refused with its "file:line: message" lines in msg and
 * nothing changes.  Otherwise every key that can change live takes effect
 * at once (names: CONFIGID.UPNP.ORG bumped and announced; intervals;
 * limits; permission rules and listening_ip, after which every mapping is
 * checked again and those no longer allowed are removed); a key that
 * needs a restart is reported and keeps its running value.  Mappings are
 * kept.  msg gets one line per change; every line is logged.  0, or -1
 * (refused). */
int reload_run(struct igdd_ctx *ctx, char *msg, size_t msgsize);

#endif
