/* maplog.h - the operator's log of port mappings: at the default verbosity
 * one line per mapping created, changed, deleted, expired (or removed as
 * idle) or refused, with the protocol, the external and internal
 * endpoints, the lease, who asked and the description; a renewal that
 * changes nothing is logged at -v.  The store's change listener feeds it,
 * and the front ends tell it the requests they refuse themselves, before
 * asking the store.  Rate-limited per requester (MAPLOG_BURST lines, then
 * MAPLOG_RATE a second), so that a flood cannot fill the log; the lines
 * left out are counted and said when that requester's next line goes. */
#ifndef IGDD_MAPLOG_H
#define IGDD_MAPLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct igdd_ctx;
struct mapping;

#define MAPLOG_BURST	20	/* lines per requester at once */
#define MAPLOG_RATE	1	/* then lines per requester per second */

/* Start after store_new(): registers the store listener.  0 / -1. */
int maplog_init(struct igdd_ctx *ctx);
void maplog_shutdown(struct igdd_ctx *ctx);

/* A request a front end refused itself, before the store saw it (the
 * store reports its own refusals).  m: what was asked, as far as it was
 * read (the protocol comes from m->owner; "?" for what is unknown); by:
 * the requester; lifetime: asked, s; deletion: a deletion was asked; why:
 * the reason as the operator reads it. */
void maplog_refused(struct igdd_ctx *ctx, const struct mapping *m, const struct in6_addr *by,
		    uint32_t lifetime, bool deletion, const char *why);

/* Lines written and left out (rate limit) so far. */
void maplog_totals(const struct igdd_ctx *ctx, uint64_t *lines, uint64_t *left_out);

/* One line, pure: "WHAT: PROTO TCP EXT:EPORT [from RHOST] -> IADDR:IPORT
 * [, LEASE] [, by ADDR], "DESC"[: WHY]".  ext: the external address (0 =
 * unknown: "*"); lifetime: shown when show_lifetime (0 = "permanent"); by
 * and why may be NULL.  The description is cut to 96 bytes, its '"' and
 * '\' escaped with '\', control bytes written \xNN.  Returns the length
 * (the line is cut to size). */
size_t maplog_format(char *buf, size_t size, const char *what, const struct mapping *m,
		     struct in_addr ext, bool show_lifetime, uint32_t lifetime,
		     const struct in6_addr *by, const char *why);

#endif
