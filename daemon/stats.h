/* stats.h - the daemon's counters gathered in one place (one function, so
 * that the counters' home can move without touching the writers) and
 * written as JSON members (igddctl stats) or in the Prometheus text
 * exposition format, version 0.0.4 (igddctl metrics; the admin page's
 * /metrics serves the same text). */
#ifndef IGDD_STATS_H
#define IGDD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "ctx.h"
#include "mapping.h"
#include "store.h"
#include "upstream.h"

struct json_out;

struct stats_snapshot {
	uint64_t uptime;				/* s */
	struct counters counters;			/* counters.h: read through its API */
	size_t mappings[OWNER_PCP + 1][2];		/* by source, TCP / UDP */
	size_t total;					/* every mapping */
	size_t pinholes[OWNER_PCP + 1][2];		/* IPv6 pinholes, the same */
	size_t pinholes_total;
	struct store_stats store;
	bool relay;					/* upstream_protocol set */
	struct upstream_stats upstream;
	bool stun;					/* ext_perform_stun on */
	uint64_t stun_runs, stun_failures;
};

void stats_gather(struct igdd_ctx *ctx, struct stats_snapshot *st);
/* "manual", "upnp", "natpmp", "pcp" (igddctl list's source). */
const char *stats_source_name(enum owner_proto op);
/* The inverse; 0, or -1 for another word. */
int stats_source_parse(const char *name, enum owner_proto *op);
/* "upnp", "natpmp", "pcp", "ssdp", "http": label values. */
const char *stats_proto_name(enum ctr_proto p);
/* Members "uptime", "requests", "results", "dropped", "mappings",
 * "pinholes", "changes" (and "upstream", "stun" when on) of an open JSON object. */
void stats_json(const struct stats_snapshot *st, struct json_out *o);
/* The exposition text appended to o (used as a plain buffer). */
void stats_prometheus(const struct stats_snapshot *st, struct json_out *o);

#endif
