/* igd.h - the IGD actions (WANIPConnection, WANCommonInterfaceConfig,
 * Layer3Forwarding): argument validation, store calls, UPnP errors. */
#ifndef IGDD_IGD_H
#define IGDD_IGD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "desc.h"
#include "store.h"

struct igdd_ctx;
struct soap_envelope;
struct http_conn;
struct upstream_waiter;
struct upstream_answer;

struct igd_call {
	struct igdd_ctx *ctx;
	const struct desc_service *svc;
	const struct soap_envelope *env;
	struct in6_addr requester;	/* the TCP peer, v4-mapped */
	struct desc_buf *out;		/* response arguments are appended here */
	unsigned version;		/* the device version this control point gets:
					 * its actions, errors, lease rules */
	const struct igd_action *action;	/* set by igd_dispatch() */
	struct http_conn *conn;		/* where the answer goes (NULL: a test) */
	unsigned svc_version;		/* the service version the client used (the
					 * answer's namespace) */
};

typedef int (*igd_action_fn)(struct igd_call *call);
struct igd_action {
	const char *name;
	unsigned min_ver;		/* the service version that introduced it */
	igd_action_fn fn;
	bool needs_store;		/* answers 501 while there is no store */
	const char *arg;		/* a datum for a shared handler, or NULL */
};

/* A state variable with a value of its own: evented (GENA) or not, and
 * queryable (QueryStateVariable, UDA 1.0 3.3, as miniupnpd answers it).
 * get writes its value for a device of version ver (-1: none now); a
 * variable whose value never changes has get NULL and that value. */
struct igd_var {
	const char *name;
	unsigned min_ver;		/* the service version that introduced it */
	bool evented;
	int (*get)(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size);
	const char *value;		/* when get is NULL */
};
/* Its value into buf[size].  0 / -1 (none). */
int igd_var_value(const struct igdd_ctx *ctx, const struct igd_var *v, unsigned ver, char *buf,
		  size_t size);

/* A service: its actions, and its state variables, in the order their
 * events list them. */
struct igd_service {
	enum desc_svc svc;
	const struct igd_action *actions;
	size_t n_actions;
	const struct igd_var *vars;
	size_t n_vars;
};
extern const struct igd_service igd_svc_l3f, igd_svc_wancfg, igd_svc_wanipc, igd_svc_wanip6fc;
/* By desc_svc (igd_services.c). */
extern const struct igd_service *const igd_services[SVC_COUNT];

/* An action that waits for the relay's upstream (upstream.h): it gets a
 * waiter from igd_defer_new() (NULL when there is no relay or no
 * connection to hold), passes it to upstream_add() and, when that defers,
 * returns igd_defer_start(): the connection is held and, once the relay
 * tells, finish(call, answer) writes the arguments (0) or says the error,
 * as the action would have.  finish sees a call without its envelope.
 * A waiter not deferred is given back with igd_defer_free(). */
#define IGD_DEFERRED	(-2)
typedef int (*igd_finish_fn)(struct igd_call *call, const struct upstream_answer *a);
struct upstream_waiter *igd_defer_new(struct igd_call *call, igd_finish_fn finish);
int igd_defer_start(struct igd_call *call, struct upstream_waiter *w);
void igd_defer_free(struct upstream_waiter *w);
/* The relay's answer as a UPnP error (0: success): RFC 6970's table. */
int igd_error_from_upstream(const struct upstream_answer *a, bool v2);

/* Run action on call->svc.  Returns 0 (response arguments in call->out)
 * or a UPnP error code (401, 402, 501, 606, 7xx), or IGD_DEFERRED. */
int igd_dispatch(struct igd_call *call, const char *action);
const char *igd_error_desc(int code);
/* The one store_result -> UPnP error table. v2: the IGD:2 code. */
int igd_error_from_store(enum store_result r, bool v2);

/* Register the control URLs' routes with the HTTP server, the evented
 * variables' renderer with events.c, and the store and external-address
 * listeners.  After http_init() and events_init().  0 / -1. */
int igd_init(struct igdd_ctx *ctx);
/* Append the <e:property> elements of every evented variable of svc. */
void igd_evented_vars(struct igdd_ctx *ctx, enum desc_svc svc, struct desc_buf *b);
/* The variable name of svc in a device of version igd_version (NULL:
 * none, or not in the SCPD served to it). */
const struct igd_var *igd_var_find(enum desc_svc svc, unsigned igd_version, const char *name);

/* For the service files: the device version (IGD:2?), the WAN state,
 * output arguments (XML-escaped) and evented properties, and the checked
 * readers of input arguments (0 or 402). */
bool igd_is_v2(const struct igd_call *call);
bool igd_connected(const struct igdd_ctx *ctx);
void igd_out_arg(struct igd_call *call, const char *name, const char *value);
void igd_out_u64(struct igd_call *call, const char *name, uint64_t v);
void igd_prop(struct desc_buf *b, const char *name, const char *value);
int igd_arg_u16(struct igd_call *call, const char *name, uint16_t min, uint16_t *out);
int igd_arg_proto(struct igd_call *call, uint8_t *proto);
/* NewRemoteHost: absent, empty or "*" = any; else an IPv4 address. */
int igd_arg_rhost(struct igd_call *call, struct in6_addr *rh);
int igd_arg_bool(struct igd_call *call, const char *name, bool def, bool *out);
/* A remote host as UPnP writes it: "" for any. */
void igd_rhost_text(const struct in6_addr *rh, char *buf, size_t size);

#endif
