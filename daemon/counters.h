/* counters.h - the daemon's counters, in one place (ctx->counters): per
 * protocol, the requests, the answers by result code and the drops by
 * cause.  The front ends count; counters_log() writes them to the log (at
 * shutdown, and on demand); a reader (the control socket, later) uses
 * counters_get() and the name and code functions, never the layout.
 * Counting is a few increments: cheap on every path. */
#ifndef IGDD_COUNTERS_H
#define IGDD_COUNTERS_H

#include <stdint.h>

struct igdd_ctx;

enum ctr_proto {
	CTR_UPNP,	/* SOAP control requests */
	CTR_NATPMP,	/* UDP 5351, version 0 (and empty datagrams) */
	CTR_PCP,	/* UDP 5351, any other version */
	CTR_SSDP,	/* M-SEARCH */
	CTR_HTTP,	/* HTTP requests (descriptions, control, events) */
	CTR_PROTO_COUNT
};

enum ctr_drop {
	CTR_DROP_WAN,		/* not from a served LAN, or not on its interface */
	CTR_DROP_MALFORMED,	/* not parsed well enough to be served */
	CTR_DROP_RATELIMIT,	/* over a per-source limit, or a queue full */
	CTR_DROP_IGNORED,	/* not a request (a response, our own message) */
	CTR_DROP_OVERLOAD,	/* a server limit: connections rejected or evicted */
	CTR_DROP_TIMEOUT,	/* a connection idle or slow past its limit */
	CTR_DROP_COUNT
};

/* Answers by result code: slot k of a protocol holds the answers with the
 * code counters_code(p, k); the last slot "any other code". */
#define CTR_CODES	22

struct ctr_stats {
	uint64_t requests;		/* received, the dropped ones included */
	uint64_t answers[CTR_CODES];
	uint64_t drops[CTR_DROP_COUNT];
};

struct counters {
	struct ctr_stats p[CTR_PROTO_COUNT];
};

/* Counting. */
void counters_request(struct counters *c, enum ctr_proto p);
/* code: the protocol's result (0 = success for UPnP, NAT-PMP, PCP; the
 * HTTP status for HTTP; for SSDP 0 = answered in full, 1 = in part). */
void counters_answer(struct counters *c, enum ctr_proto p, int code);
void counters_drop(struct counters *c, enum ctr_proto p, enum ctr_drop why);

/* Reading. */
const struct counters *counters_get(const struct igdd_ctx *ctx);
const char *counters_proto_name(enum ctr_proto p);	/* "UPnP", "NAT-PMP", ... */
const char *counters_drop_name(enum ctr_drop d);	/* "not from a LAN", ... */
/* The result code counted in slot k of p; -1 for the "other codes" slot
 * and for slots the protocol does not use. */
int counters_code(enum ctr_proto p, unsigned k);
uint64_t counters_answers(const struct counters *c, enum ctr_proto p, int code);
uint64_t counters_drops(const struct counters *c, enum ctr_proto p, enum ctr_drop d);
/* One line per protocol that saw anything: requests, answers by code,
 * drops by cause. */
void counters_log(const struct igdd_ctx *ctx);

#endif
