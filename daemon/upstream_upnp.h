/* upstream_upnp.h - the relay's UPnP IGD control point: discovers the IGD
 * on the WAN side (SSDP M-SEARCH on ext_ifname, its description), then
 * calls its WANIPConnection (GetExternalIPAddress, AddPortMapping,
 * AddAnyPortMapping, DeletePortMapping, GetSpecificPortMappingEntry), all
 * non-blocking on the event loop, a few HTTP exchanges at a time, each
 * bounded in time and size.  What the IGD sends is read by the pure
 * parsers of upstream_upnp_parse.c. */
#ifndef IGDD_UPSTREAM_UPNP_H
#define IGDD_UPSTREAM_UPNP_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include "upstream_upnp_parse.h"

struct igdd_ctx;
struct upnp_cp;

enum upcp_op {
	UPCP_DISCOVER,		/* a description was found (status 0) or not (-1) */
	UPCP_GET_EXT,
	UPCP_ADD,
	UPCP_ADD_ANY,		/* IGD:2 only */
	UPCP_DELETE,
	UPCP_GET_ENTRY,
};

struct upcp_call {
	enum upcp_op op;
	uint8_t proto;
	uint16_t eport, iport;
	struct in_addr client;		/* NewInternalClient */
	uint32_t lease;			/* NewLeaseDuration, 0 = permanent */
	const char *desc;
};

struct upcp_result {
	enum upcp_op op;
	int status;			/* 0 success, > 0 the UPnP error, -1 no answer */
	struct upcp_soap soap;		/* the answer's arguments */
};

/* Answers come back through cb with the tag given (NULL for discovery),
 * never from inside the call that asked. */
typedef void (*upcp_cb)(void *arg, void *tag, const struct upcp_result *r);

#define UPCP_TIMEOUT_MS		3000	/* one exchange, connect to answer */
#define UPCP_DISCOVER_MS	2500	/* SSDP answers and the description */
#define UPCP_MAX_ACTIVE		4	/* exchanges at once; the others queue */
#define UPCP_MAX_QUEUED		1024
#define UPCP_RESPONSE_MAX	65536	/* bytes of an answer */

struct upnp_cp *upnp_cp_new(struct igdd_ctx *ctx, upcp_cb cb, void *arg);
void upnp_cp_free(struct upnp_cp *cp);
/* Look for the IGD (again); only upstream_server answers when it is set. */
void upnp_cp_discover(struct upnp_cp *cp);
bool upnp_cp_ready(const struct upnp_cp *cp);
/* The IGD's WANIPConnection version (1 or 2) and host, once ready. */
unsigned upnp_cp_version(const struct upnp_cp *cp);
struct in_addr upnp_cp_host(const struct upnp_cp *cp);
/* Queue a call; 0, or -1 (not ready, queue full, no memory). */
int upnp_cp_call(struct upnp_cp *cp, const struct upcp_call *c, void *tag);
/* Forget every call of tag: its answer will not come. */
void upnp_cp_cancel(struct upnp_cp *cp, void *tag);

#endif
