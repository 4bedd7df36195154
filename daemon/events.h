/* events.h - GENA eventing (UDA 1.1 4): subscriptions and NOTIFY. */
#ifndef IGDD_EVENTS_H
#define IGDD_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "desc.h"

struct igdd_ctx;
struct http_conn;
struct http_request;

#define EVENTS_MAX_SUBSCRIBERS	64	/* beyond: 503 (config max_subscribers) */
#define EVENTS_TIMEOUT_MIN	1800	/* s; UDA 1.1 4.1.2 recommends >= 1800 */
#define EVENTS_TIMEOUT_MAX	86400
#define EVENTS_MAX_NOTIFY	256	/* NOTIFY connections in flight */

/* Open sockets and register them with the loop. 0 ok, -1 fatal. */
int events_init(struct igdd_ctx *ctx);
void events_shutdown(struct igdd_ctx *ctx);

/* SUBSCRIBE / UNSUBSCRIBE on an event URL. */
void events_handle(struct http_conn *c, const struct http_request *req,
		   const struct desc_service *svc);
/* An evented variable of svc changed: notify its subscribers (moderated). */
void events_changed(struct igdd_ctx *ctx, enum desc_svc svc);

/* Pure helpers, unit-tested: the first http:// URL of a CALLBACK header
 * ("<http://a.b.c.d:port/path>..."): address, port and path.  0 / -1
 * (also for a host that is not an IPv4 literal). */
int events_parse_callback(const char *v, size_t len, struct sockaddr_in *addr,
			  char *path, size_t path_size);
/* "Second-N" / "Second-infinite" -> seconds clamped to the bounds above;
 * absent or malformed -> EVENTS_TIMEOUT_MIN. */
uint32_t events_parse_timeout(const char *v, size_t len);
/* SEQ after seq: 4294967295 wraps to 1 (0 is only the initial event). */
uint32_t events_next_seq(uint32_t seq);

#endif
