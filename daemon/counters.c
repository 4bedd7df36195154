/* counters.c - per-protocol counters in one place (see counters.h). */
#include <stdbool.h>
#include <string.h>

#include "counters.h"
#include "ctx.h"
#include "log.h"
#include "util.h"

#define OTHER	(CTR_CODES - 1)

/* The codes of each protocol, by slot (the rest: "other"). */
static const int16_t codes[CTR_PROTO_COUNT][CTR_CODES - 1] = {
	[CTR_UPNP] = { 0, 401, 402, 404, 501, 606, 713, 714, 715, 716, 718, 724, 725, 726, 727,
		       728, 729, 730, 732, 733, -1 },
	[CTR_NATPMP] = { 0, 1, 2, 3, 4, 5, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
			 -1, -1 },
	[CTR_PCP] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, -1, -1, -1, -1, -1, -1, -1 },
	[CTR_SSDP] = { 0, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
		       -1, -1 },
	[CTR_HTTP] = { 200, 400, 401, 403, 404, 405, 408, 411, 412, 413, 415, 431, 500, 501, 503,
		       505, -1, -1, -1, -1, -1 },
};

static unsigned
slot_of(enum ctr_proto p, int code)
{
	unsigned k;

	/* NAT-PMP and PCP codes are their slots. */
	if ((p == CTR_NATPMP && code >= 0 && code <= 5) || (p == CTR_PCP && code >= 0 && code <= 13))
		return (unsigned)code;
	for (k = 0; k < OTHER && codes[p][k] >= 0; k++)
		if (codes[p][k] == code)
			return k;
	return OTHER;
}

void
counters_request(struct counters *c, enum ctr_proto p)
{
	c->p[p].requests++;
}

void
counters_answer(struct counters *c, enum ctr_proto p, int code)
{
	c->p[p].answers[slot_of(p, code)]++;
}

void
counters_drop(struct counters *c, enum ctr_proto p, enum ctr_drop why)
{
	c->p[p].drops[why]++;
}

const struct counters *
counters_get(const struct igdd_ctx *ctx)
{
	return &ctx->counters;
}

const char *
counters_proto_name(enum ctr_proto p)
{
	static const char *const names[CTR_PROTO_COUNT] = {
		[CTR_UPNP] = "UPnP", [CTR_NATPMP] = "NAT-PMP", [CTR_PCP] = "PCP",
		[CTR_SSDP] = "SSDP", [CTR_HTTP] = "HTTP",
	};

	return (unsigned)p < CTR_PROTO_COUNT ? names[p] : "?";
}

const char *
counters_drop_name(enum ctr_drop d)
{
	static const char *const names[CTR_DROP_COUNT] = {
		[CTR_DROP_WAN] = "not from a LAN", [CTR_DROP_MALFORMED] = "malformed",
		[CTR_DROP_RATELIMIT] = "over a rate limit", [CTR_DROP_IGNORED] = "ignored",
		[CTR_DROP_OVERLOAD] = "over a server limit", [CTR_DROP_TIMEOUT] = "timed out",
	};

	return (unsigned)d < CTR_DROP_COUNT ? names[d] : "?";
}

int
counters_code(enum ctr_proto p, unsigned k)
{
	if ((unsigned)p >= CTR_PROTO_COUNT || k >= OTHER)
		return -1;
	return codes[p][k];
}

uint64_t
counters_answers(const struct counters *c, enum ctr_proto p, int code)
{
	return c->p[p].answers[slot_of(p, code)];
}

uint64_t
counters_drops(const struct counters *c, enum ctr_proto p, enum ctr_drop d)
{
	return c->p[p].drops[d];
}

/* "answers: 3 x 0, 1 x 606; drops: 2 malformed" into buf. */
static void
describe(const struct ctr_stats *s, enum ctr_proto p, char *buf, size_t size)
{
	const char *sep = "";
	unsigned k;

	buf[0] = '\0';
	(void)str_appendf(buf, size, "answers:");
	for (k = 0; k < CTR_CODES; k++) {
		if (s->answers[k] == 0)
			continue;
		if (k == OTHER)
			(void)str_appendf(buf, size, "%s %llu other", sep,
					  (unsigned long long)s->answers[k]);
		else
			(void)str_appendf(buf, size, "%s %llu x %d", sep,
					  (unsigned long long)s->answers[k], counters_code(p, k));
		sep = ",";
	}
	if (*sep == '\0')
		(void)str_appendf(buf, size, " none");
	(void)str_appendf(buf, size, "; drops:");
	sep = "";
	for (k = 0; k < CTR_DROP_COUNT; k++) {
		if (s->drops[k] == 0)
			continue;
		(void)str_appendf(buf, size, "%s %llu %s", sep, (unsigned long long)s->drops[k],
				  counters_drop_name((enum ctr_drop)k));
		sep = ",";
	}
	if (*sep == '\0')
		(void)str_appendf(buf, size, " none");
}

static bool
any_drop(const struct ctr_stats *s)
{
	unsigned k;

	for (k = 0; k < CTR_DROP_COUNT; k++)
		if (s->drops[k] != 0)
			return true;
	return false;
}

void
counters_log(const struct igdd_ctx *ctx)
{
	const struct counters *c = counters_get(ctx);
	char buf[768];
	unsigned p;

	for (p = 0; p < CTR_PROTO_COUNT; p++) {
		const struct ctr_stats *s = &c->p[p];

		if (s->requests == 0 && !any_drop(s))
			continue;
		describe(s, (enum ctr_proto)p, buf, sizeof(buf));
		log_info("counters: %s: %llu request(s); %s", counters_proto_name((enum ctr_proto)p),
			 (unsigned long long)s->requests, buf);
	}
}
