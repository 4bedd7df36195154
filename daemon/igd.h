/* igd.h - the IGD actions (WANIPConnection, WANCommonInterfaceConfig,
 * Layer3Forwarding): argument validation, store calls, UPnP errors. */
#ifndef IGDD_IGD_H
#define IGDD_IGD_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include "desc.h"
#include "store.h"

struct igdd_ctx;
struct soap_envelope;

struct igd_call {
	struct igdd_ctx *ctx;
	const struct desc_service *svc;
	const struct soap_envelope *env;
	struct in6_addr requester;	/* the TCP peer, v4-mapped */
	struct desc_buf *out;		/* response arguments are appended here */
	const struct igd_action *action;	/* set by igd_dispatch() */
};

typedef int (*igd_action_fn)(struct igd_call *call);
struct igd_action {
	enum desc_svc svc;
	const char *name;
	unsigned min_ver;		/* the service version that introduced it */
	igd_action_fn fn;
	bool needs_store;		/* answers 501 while there is no store */
	const char *arg;		/* a datum for a shared handler, or NULL */
};
extern const struct igd_action igd_actions[];
extern const size_t igd_n_actions;

/* Run action on call->svc.  Returns 0 (response arguments in call->out)
 * or a UPnP error code (401, 402, 501, 606, 7xx). */
int igd_dispatch(struct igd_call *call, const char *action);
const char *igd_error_desc(int code);
/* The one store_result -> UPnP error table. v2: the IGD:2 code. */
int igd_error_from_store(enum store_result r, bool v2);

/* Start/stop: hook the store's change callback (SystemUpdateID, events). */
void igd_init(struct igdd_ctx *ctx);
/* Append the <e:property> elements of every evented variable of svc. */
void igd_evented_vars(struct igdd_ctx *ctx, enum desc_svc svc, struct desc_buf *b);

#endif
