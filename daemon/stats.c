/* stats.c - gathering and writing the daemon's counters (see stats.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "stats.h"
#include "stun.h"
#include "util.h"

static const char *const source_names[] = {
	[OWNER_STATIC] = "manual",
	[OWNER_UPNP] = "upnp",
	[OWNER_NATPMP] = "natpmp",
	[OWNER_PCP] = "pcp",
};

static const char *const proto_names[CTR_PROTO_COUNT] = {
	[CTR_UPNP] = "upnp",
	[CTR_NATPMP] = "natpmp",
	[CTR_PCP] = "pcp",
	[CTR_SSDP] = "ssdp",
	[CTR_HTTP] = "http",
};

/* Label values of the drop causes (counters_drop_name() is for people). */
static const char *const drop_names[CTR_DROP_COUNT] = {
	[CTR_DROP_WAN] = "wan",
	[CTR_DROP_MALFORMED] = "malformed",
	[CTR_DROP_RATELIMIT] = "ratelimit",
	[CTR_DROP_IGNORED] = "ignored",
	[CTR_DROP_OVERLOAD] = "overload",
	[CTR_DROP_TIMEOUT] = "timeout",
};

static const struct {
	const char *name;
	uint8_t proto;
} l4[2] = { { "tcp", IPPROTO_TCP }, { "udp", IPPROTO_UDP } };

const char *
stats_source_name(enum owner_proto op)
{
	return (unsigned)op < ARRAY_SIZE(source_names) ? source_names[op] : "?";
}

int
stats_source_parse(const char *name, enum owner_proto *op)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(source_names); k++)
		if (strcmp(name, source_names[k]) == 0) {
			*op = (enum owner_proto)k;
			return 0;
		}
	return -1;
}

const char *
stats_proto_name(enum ctr_proto p)
{
	return (unsigned)p < ARRAY_SIZE(proto_names) ? proto_names[p] : "?";
}

/* The label of result slot k of p ("0", "718", "other"), or NULL when the
 * protocol does not use that slot. */
static const char *
code_label(enum ctr_proto p, unsigned k, char *buf, size_t size)
{
	int code = counters_code(p, k);

	if (code >= 0)
		return str_printf(buf, size, "%d", code) == 0 ? buf : NULL;
	return k == CTR_CODES - 1 ? "other" : NULL;
}

/* The relay's and STUN's counters. */
static void
relay_gather(const struct igdd_ctx *ctx, struct stats_snapshot *st)
{
	const struct upstream_stats *us = upstream_get_stats(ctx);
	struct stun_info si;

	st->relay = us != NULL;
	if (us != NULL)
		st->upstream = *us;
	st->stun = stun_get_info(ctx, &si);
	st->stun_runs = si.runs;
	st->stun_failures = si.failures;
}

/* The relay's counters by name: JSON members and Prometheus labels. */
#define UPSTREAM_COUNTERS(X) \
	X(requested) X(made) X(refused) X(denied) X(timed_out) X(renewed) X(lost) X(deleted) \
	X(rerequested) X(epoch_resets) X(dropped)

/* The one place that knows where each counter lives. */
void
stats_gather(struct igdd_ctx *ctx, struct stats_snapshot *st)
{
	unsigned op, k;

	memset(st, 0, sizeof(*st));
	st->uptime = (time_mono_ms() - ctx->start_mono) / 1000;
	st->counters = *counters_get(ctx);
	if (ctx->store == NULL)
		return;
	for (op = 0; op <= OWNER_PCP; op++)
		for (k = 0; k < 2; k++) {
			st->mappings[op][k] = store_count_source(ctx->store, (enum owner_proto)op,
								 l4[k].proto);
			st->pinholes[op][k] = store_pin_count_source(ctx->store,
								     (enum owner_proto)op, l4[k].proto);
		}
	st->total = store_count(ctx->store);
	st->pinholes_total = store_pin_count(ctx->store);
	st->store = *store_get_stats(ctx->store);
	relay_gather(ctx, st);
}

/* Members "requests", "results", "dropped": per protocol. */
static void
counters_json(const struct counters *c, struct json_out *o)
{
	const char *label;
	char code[16];
	unsigned p, k;

	json_key(o, "requests");
	json_obj_begin(o);
	for (p = 0; p < CTR_PROTO_COUNT; p++)
		json_kv_u64(o, proto_names[p], c->p[p].requests);
	json_obj_end(o);
	json_key(o, "results");
	json_obj_begin(o);
	for (p = 0; p < CTR_PROTO_COUNT; p++) {
		json_key(o, proto_names[p]);
		json_obj_begin(o);
		for (k = 0; k < CTR_CODES; k++)
			if (c->p[p].answers[k] != 0 &&
			    (label = code_label((enum ctr_proto)p, k, code, sizeof(code))) != NULL)
				json_kv_u64(o, label, c->p[p].answers[k]);
		json_obj_end(o);
	}
	json_obj_end(o);
	json_key(o, "dropped");
	json_obj_begin(o);
	for (p = 0; p < CTR_PROTO_COUNT; p++) {
		json_key(o, proto_names[p]);
		json_obj_begin(o);
		for (k = 0; k < CTR_DROP_COUNT; k++)
			json_kv_u64(o, drop_names[k], c->p[p].drops[k]);
		json_obj_end(o);
	}
	json_obj_end(o);
}

/* Member name: {"total": N, SOURCE: {"tcp": N, "udp": N}, ...}. */
static void
by_source_json(struct json_out *o, const char *name, size_t total,
	       const size_t (*n)[2])
{
	unsigned k, op;

	json_key(o, name);
	json_obj_begin(o);
	json_kv_u64(o, "total", total);
	for (op = 0; op <= OWNER_PCP; op++) {
		json_key(o, source_names[op]);
		json_obj_begin(o);
		for (k = 0; k < 2; k++)
			json_kv_u64(o, l4[k].name, n[op][k]);
		json_obj_end(o);
	}
	json_obj_end(o);
}

void
stats_json(const struct stats_snapshot *st, struct json_out *o)
{
	json_kv_u64(o, "uptime", st->uptime);
	counters_json(&st->counters, o);
	by_source_json(o, "mappings", st->total, st->mappings);
	by_source_json(o, "pinholes", st->pinholes_total, st->pinholes);
	json_key(o, "changes");
	json_obj_begin(o);
	json_kv_u64(o, "added", st->store.added);
	json_kv_u64(o, "refreshed", st->store.refreshed);
	json_kv_u64(o, "deleted", st->store.deleted);
	json_kv_u64(o, "expired", st->store.expired);
	json_kv_u64(o, "idle_removed", st->store.idle_removed);
	json_kv_u64(o, "policy_removed", st->store.policy_removed);
	json_kv_u64(o, "firewall_errors", st->store.fw_errors);
	json_kv_u64(o, "lease_errors", st->store.lease_errors);
	json_obj_end(o);
	if (st->relay) {
		json_key(o, "upstream");
		json_obj_begin(o);
#define UP_JSON(f) json_kv_u64(o, #f, st->upstream.f);
		UPSTREAM_COUNTERS(UP_JSON)
#undef UP_JSON
		json_obj_end(o);
	}
	if (st->stun) {
		json_key(o, "stun");
		json_obj_begin(o);
		json_kv_u64(o, "runs", st->stun_runs);
		json_kv_u64(o, "failures", st->stun_failures);
		json_obj_end(o);
	}
}

static void ATTR_PRINTF(2, 3)
say(struct json_out *o, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		o->failed = true;
		return;
	}
	json_raw(o, line, (size_t)n);
}

static void
family(struct json_out *o, const char *name, const char *type, const char *help)
{
	say(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Requests, answers by result and drops by cause, per protocol. */
static void
prom_counters(const struct counters *c, struct json_out *o)
{
	const char *label;
	char code[16];
	unsigned p, k;

	family(o, "igdd_requests_total", "counter", "Requests received, by protocol.");
	for (p = 0; p < CTR_PROTO_COUNT; p++)
		say(o, "igdd_requests_total{protocol=\"%s\"} %" PRIu64 "\n", proto_names[p],
		    c->p[p].requests);
	family(o, "igdd_responses_total", "counter",
	       "Requests answered, by protocol and result code (0 = success for UPnP, NAT-PMP "
	       "and PCP; their error and result codes; the HTTP status; SSDP 1 = in part).");
	for (p = 0; p < CTR_PROTO_COUNT; p++)
		for (k = 0; k < CTR_CODES; k++)
			if (c->p[p].answers[k] != 0 &&
			    (label = code_label((enum ctr_proto)p, k, code, sizeof(code))) != NULL)
				say(o, "igdd_responses_total{protocol=\"%s\",result=\"%s\"} %" PRIu64
				    "\n", proto_names[p], label, c->p[p].answers[k]);
	family(o, "igdd_dropped_total", "counter",
	       "Requests and datagrams dropped unanswered, by protocol and cause.");
	for (p = 0; p < CTR_PROTO_COUNT; p++)
		for (k = 0; k < CTR_DROP_COUNT; k++)
			say(o, "igdd_dropped_total{protocol=\"%s\",cause=\"%s\"} %" PRIu64 "\n",
			    proto_names[p], drop_names[k], c->p[p].drops[k]);
}

void
stats_prometheus(const struct stats_snapshot *st, struct json_out *o)
{
	unsigned k, op;

	family(o, "igdd_uptime_seconds", "gauge", "Seconds since igdd started.");
	say(o, "igdd_uptime_seconds %" PRIu64 "\n", st->uptime);
	family(o, "igdd_mappings", "gauge", "Port mappings held, by source and protocol.");
	for (op = 0; op <= OWNER_PCP; op++)
		for (k = 0; k < 2; k++)
			say(o, "igdd_mappings{source=\"%s\",protocol=\"%s\"} %zu\n", source_names[op],
			    l4[k].name, st->mappings[op][k]);
	family(o, "igdd_pinholes", "gauge", "IPv6 pinholes held, by source and protocol.");
	for (op = 0; op <= OWNER_PCP; op++)
		for (k = 0; k < 2; k++)
			say(o, "igdd_pinholes{source=\"%s\",protocol=\"%s\"} %zu\n", source_names[op],
			    l4[k].name, st->pinholes[op][k]);
	prom_counters(&st->counters, o);
	family(o, "igdd_mappings_added_total", "counter", "Mappings and pinholes created.");
	say(o, "igdd_mappings_added_total %" PRIu64 "\n", st->store.added);
	family(o, "igdd_mappings_removed_total", "counter",
	       "Mappings and pinholes removed, by reason.");
	say(o, "igdd_mappings_removed_total{reason=\"deleted\"} %" PRIu64 "\n", st->store.deleted);
	say(o, "igdd_mappings_removed_total{reason=\"expired\"} %" PRIu64 "\n", st->store.expired);
	say(o, "igdd_mappings_removed_total{reason=\"idle\"} %" PRIu64 "\n", st->store.idle_removed);
	say(o, "igdd_mappings_removed_total{reason=\"policy\"} %" PRIu64 "\n",
	    st->store.policy_removed);
	family(o, "igdd_firewall_errors_total", "counter", "Changes the kernel refused.");
	say(o, "igdd_firewall_errors_total %" PRIu64 "\n", st->store.fw_errors);
	family(o, "igdd_lease_file_errors_total", "counter", "Failed writes of the lease file.");
	say(o, "igdd_lease_file_errors_total %" PRIu64 "\n", st->store.lease_errors);
	if (st->relay) {
		family(o, "igdd_upstream_total", "counter",
		       "The relay to the upstream gateway: requests, answers and events.");
#define UP_PROM(f) say(o, "igdd_upstream_total{event=\"" #f "\"} %" PRIu64 "\n", \
		       st->upstream.f);
		UPSTREAM_COUNTERS(UP_PROM)
#undef UP_PROM
	}
	if (st->stun) {
		family(o, "igdd_stun_runs_total", "counter", "STUN runs, by outcome.");
		say(o, "igdd_stun_runs_total{result=\"done\"} %" PRIu64 "\n", st->stun_runs);
		say(o, "igdd_stun_runs_total{result=\"failed\"} %" PRIu64 "\n", st->stun_failures);
	}
}
