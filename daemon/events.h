/* events.h - GENA eventing (UDA 1.1 4): subscriptions and NOTIFY. */
#ifndef IGDD_EVENTS_H
#define IGDD_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "desc.h"

struct igdd_ctx;

#define EVENTS_MAX_SUBSCRIBERS	64	/* beyond: 503 (config max_subscribers) */
#define EVENTS_TIMEOUT_MIN	1800	/* s; UDA 1.1 4.1.2 recommends >= 1800 */
#define EVENTS_TIMEOUT_MAX	86400
#define EVENTS_MAX_NOTIFY	256	/* NOTIFY connections in flight */

/* Start: register the event URLs' routes (SUBSCRIBE, UNSUBSCRIBE) with
 * the HTTP server (after http_init()).  0 ok, -1 fatal. */
int events_init(struct igdd_ctx *ctx);
void events_shutdown(struct igdd_ctx *ctx);

/* What a NOTIFY carries: fn appends the <e:property> elements of every
 * evented variable of svc (the service module registers it). */
struct desc_buf;
typedef void (*events_render_fn)(struct igdd_ctx *ctx, enum desc_svc svc, struct desc_buf *b);
void events_set_renderer(struct igdd_ctx *ctx, events_render_fn fn);
/* The clock subscriptions expire by (monotonic ms): time_mono_ms(), or
 * clock(ctx) once set (a test's, to let them lapse without waiting; the
 * loop's timers keep theirs). */
void events_set_clock(struct igdd_ctx *ctx, uint64_t (*clock)(const struct igdd_ctx *ctx));
/* An evented variable of svc changed: notify its subscribers (moderated). */
void events_changed(struct igdd_ctx *ctx, enum desc_svc svc);

/* Pure helpers, unit-tested: the first http:// URL of a CALLBACK header
 * ("<http://a.b.c.d:port/path>..."): address, port and path.  0 / -1
 * (also for a host that is not an IPv4 literal). */
int events_parse_callback(const char *v, size_t len, struct sockaddr_in *addr,
			  char *path, size_t path_size);
/* The same for an IPv6 literal in brackets ("<http://[x:x::x]:port/path>";
 * a zone in it is ignored: the subscriber's connection gives the scope). */
struct sockaddr_in6;
int events_parse_callback6(const char *v, size_t len, struct sockaddr_in6 *addr,
			   char *path, size_t path_size);
/* "Second-N" / "Second-infinite" -> seconds clamped to the bounds above;
 * absent or malformed -> EVENTS_TIMEOUT_MIN. */
uint32_t events_parse_timeout(const char *v, size_t len);
/* SEQ after seq: 4294967295 wraps to 1 (0 is only the initial event). */
uint32_t events_next_seq(uint32_t seq);

#endif
