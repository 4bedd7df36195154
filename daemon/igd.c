/* igd.c - what the IGD services share: the control URL glue (a SOAP POST
 * becomes an action of the service's table and its answer), argument
 * helpers, the store_result -> UPnP error table, and eventing (evented
 * variables rendered for events.c, the store's changes counted).  The
 * actions live with their service (igd_wanipc.c, igd_wancfg.c,
 * igd_l3f.c, listed in igd_services.c); a new service is a new file
 * there and leaves this one alone. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "desc.h"
#include "events.h"
#include "http.h"
#include "igd.h"
#include "log.h"
#include "maplog.h"
#include "soap.h"
#include "store.h"
#include "upstream.h"
#include "util.h"

bool
igd_is_v2(const struct igd_call *call)
{
	return call->version >= 2;
}


/* ------------------------------------------------------------ errors */

const char *
igd_error_desc(int code)
{
	switch (code) {
	case 401: return "Invalid Action";
	case 402: return "Invalid Args";
	case 404: return "Invalid Var";
	case 501: return "Action Failed";
	case 606: return "Action not authorized";
	/* WANIPv6FirewallControl:1 (701-709, no clash with WANIPConnection) */
	case 701: return "PinholeSpaceExhausted";
	case 702: return "FirewallDisabled";
	case 703: return "InboundPinholeNotAllowed";
	case 704: return "NoSuchEntry";
	case 705: return "ProtocolNotSupported";
	case 706: return "InternalPortWildcardingNotAllowed";
	case 707: return "ProtocolWildcardingNotAllowed";
	case 708: return "WildCardNotPermittedInSrcIP";
	case 709: return "NoTrafficReceived";
	case 713: return "SpecifiedArrayIndexInvalid";
	case 714: return "NoSuchEntryInArray";
	case 715: return "WildCardNotPermittedInSrcIP";
	case 716: return "WildCardNotPermittedInExtPort";
	case 718: return "ConflictInMappingEntry";
	case 724: return "SamePortValuesRequired";
	case 725: return "OnlyPermanentLeasesSupported";
	case 726: return "RemoteHostOnlySupportsWildcard";
	case 727: return "ExternalPortOnlySupportsWildcard";
	case 728: return "NoPortMapsAvailable";
	case 729: return "ConflictWithOtherMechanisms";
	case 730: return "PortMappingNotFound";
	case 732: return "WildCardNotPermittedInIntPort";
	case 733: return "InconsistentParameters";
	default: return "Action Failed";
	}
}

/* The one table.  IGD:1 had no 606/729 for these cases; miniupnpd answers
 * 718 (permission rules) and 714 (delete by another client) there, and the
 * IGD:2 codes with IGD:2 (upnpsoap.c, AddPortMapping / DeletePortMapping). */
static const struct {
	enum store_result r;
	int v2, v1;
} store_errors[] = {
	{ ST_OK, 0, 0 },
	{ ST_E_INVAL, 402, 402 },
	{ ST_E_NOT_FOUND, 714, 714 },
	{ ST_E_CONFLICT, 718, 718 },
	{ ST_E_NONCE, 718, 718 },
	{ ST_E_PERMISSION, 606, 718 },
	{ ST_E_SECURE, 606, 606 },
	{ ST_E_PORT_IN_USE, 729, 718 },
	{ ST_E_QUOTA_CLIENT, 728, 501 },
	{ ST_E_QUOTA_TOTAL, 728, 501 },
	{ ST_E_NO_PORT, 728, 718 },
	{ ST_E_FIREWALL, 501, 501 },
	{ ST_E_NOMEM, 501, 501 },
	{ ST_E_NOT_OWNER, 606, 714 },
	{ ST_E_NOT_LAN, 606, 718 },	/* as a client the rules do not permit */
};

int
igd_error_from_store(enum store_result r, bool v2)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(store_errors); i++)
		if (store_errors[i].r == r)
			return v2 ? store_errors[i].v2 : store_errors[i].v1;
	return 501;
}


/* RFC 6970 (IGD-PCP interworking), the same for a NAT-PMP or UPnP
 * upstream: the port is taken upstream -> 718 (IGD:2: 729, "conflicts
 * with a mapping assigned by another mechanism"), not authorized -> 606,
 * quota or no resources -> 728 (IGD:1 has no such code: 501), anything
 * else -> 501. */
int
igd_error_from_upstream(const struct upstream_answer *a, bool v2)
{
	if (a->local != ST_OK)
		return igd_error_from_store(a->local, v2);
	switch (a->err) {
	case UPE_OK: return 0;
	case UPE_PORT: return v2 ? 729 : 718;
	case UPE_AUTH: return 606;
	case UPE_QUOTA:
	case UPE_RESOURCES: return v2 ? 728 : 501;
	case UPE_NETWORK:
	case UPE_OTHER: break;
	}
	return 501;
}

/* ------------------------------------------------------------ arguments */

void
igd_out_arg(struct igd_call *call, const char *name, const char *value)
{
	desc_buf_printf(call->out, "<%s>", name);
	desc_buf_escape(call->out, value, strlen(value));
	desc_buf_printf(call->out, "</%s>", name);
}

void
igd_out_u64(struct igd_call *call, const char *name, uint64_t v)
{
	desc_buf_printf(call->out, "<%s>%" PRIu64 "</%s>", name, v, name);
}

int
igd_arg_u16(struct igd_call *call, const char *name, uint16_t min, uint16_t *out)
{
	const char *v = soap_arg(call->env, name);

	if (v == NULL || parse_u16(v, min, 65535, out) < 0)
		return 402;
	return 0;
}

int
igd_arg_proto(struct igd_call *call, uint8_t *proto)
{
	const char *v = soap_arg(call->env, "NewProtocol");

	return (v == NULL || proto_parse(v, proto) < 0) ? 402 : 0;
}

/* NewRemoteHost: absent, empty or "*" = any; else an IPv4 address. */
int
igd_arg_rhost(struct igd_call *call, struct in6_addr *rh)
{
	const char *v = soap_arg(call->env, "NewRemoteHost");
	struct in_addr a;

	memset(rh, 0, sizeof(*rh));
	if (v == NULL || v[0] == '\0' || strcmp(v, "*") == 0)
		return 0;
	if (inet_pton(AF_INET, v, &a) != 1)
		return 402;
	if (a.s_addr != 0)
		addr_from_v4(rh, a);
	return 0;
}

int
igd_arg_bool(struct igd_call *call, const char *name, bool def, bool *out)
{
	const char *v = soap_arg(call->env, name);

	if (v == NULL || v[0] == '\0') {
		*out = def;
		return 0;
	}
	return parse_bool(v, out) < 0 ? 402 : 0;
}

void
igd_rhost_text(const struct in6_addr *rh, char *buf, size_t size)
{
	if (addr_is_any(rh))
		buf[0] = '\0';
	else
		addr_str(rh, buf, size);
}


bool
igd_connected(const struct igdd_ctx *ctx)
{
	return ctx->ext_up && ctx->ext_addr.s_addr != 0;
}

/* ------------------------------------------------------------ dispatch */

int
igd_dispatch(struct igd_call *call, const char *action)
{
	const struct igd_service *svc = igd_services[call->svc->id];
	unsigned ver = desc_service_version(call->svc, call->version);
	const struct igd_action *a = NULL;
	size_t i;

	for (i = 0; i < svc->n_actions && a == NULL; i++)
		if (strcmp(svc->actions[i].name, action) == 0)
			a = &svc->actions[i];
	if (a == NULL || a->min_ver > ver)
		return 401;	/* unknown, or not in the SCPD we serve */
	/* The parser cuts overlong values; only free text may be cut, a cut
	 * port, address or lease is no longer what the client sent. */
	for (i = 0; i < call->env->n_args; i++)
		if (call->env->args[i].truncated &&
		    strcmp(call->env->args[i].name, "NewPortMappingDescription") != 0)
			return 402;
	if (a->needs_store && call->ctx->store == NULL)
		return 501;
	call->action = a;
	return a->fn(call);
}

/* ------------------------------------------------------------ control URL */

static void
reply_fault(struct http_conn *c, int code)
{
	struct desc_buf b = { 0 };

	counters_answer(&http_conn_ctx(c)->counters, CTR_UPNP, code);
	soap_write_fault(&b, code, igd_error_desc(code));
	if (b.failed)
		http_reply_error(c, 500, NULL);
	else
		http_reply(c, 500, "EXT:\r\n", "text/xml; charset=\"utf-8\"", b.p, b.len);
	desc_buf_free(&b);
}

/* A whole response envelope in out: handed to the server (never copied),
 * or 501 when building it failed. */
static void
reply_envelope(struct http_conn *c, struct desc_buf *out)
{
	if (out->failed) {
		desc_buf_free(out);
		reply_fault(c, 501);
		return;
	}
	counters_answer(&http_conn_ctx(c)->counters, CTR_UPNP, 0);
	http_reply_take(c, 200, "EXT:\r\n", "text/xml; charset=\"utf-8\"", out->p, out->len);
}

/* An error of a mapping action that the store did not report itself (an
 * argument the action refused, say): one line in the mapping log, with
 * what the arguments say.  Nothing to delete is no refusal. */
static void
log_refusal(const struct igd_call *call, const char *action, int code)
{
	static const char *const actions[] = { "AddPortMapping", "AddAnyPortMapping",
					       "DeletePortMapping", "DeletePortMappingRange" };
	const struct soap_envelope *env = call->env;
	struct mapping_owner me = { .addr = call->requester, .proto = OWNER_UPNP };
	struct mapping m = { .owner = &me, .desc = soap_arg(env, "NewPortMappingDescription") };
	const char *v;
	struct in6_addr ia;
	uint32_t lease = 0;
	char why[96];
	size_t k;

	for (k = 0; k < ARRAY_SIZE(actions) && strcmp(action, actions[k]) != 0; k++)
		;
	if (k == ARRAY_SIZE(actions) || code == 714 || code == 730)
		return;
	if ((v = soap_arg(env, "NewProtocol")) == NULL || proto_parse(v, &m.proto) < 0)
		m.proto = 0;
	if ((v = soap_arg(env, "NewExternalPort")) == NULL || parse_u16(v, 0, 65535, &m.eport) < 0)
		m.eport = 0;
	if ((v = soap_arg(env, "NewInternalPort")) == NULL || parse_u16(v, 0, 65535, &m.iport) < 0)
		m.iport = 0;
	if ((v = soap_arg(env, "NewInternalClient")) != NULL && addr_parse(v, &ia) == 0)
		m.iaddr = &ia;
	if ((v = soap_arg(env, "NewLeaseDuration")) != NULL && parse_u32(v, 0, UINT32_MAX, &lease) < 0)
		lease = 0;
	str_printf(why, sizeof(why), "%s: UPnP error %d %s", action, code, igd_error_desc(code));
	maplog_refused(call->ctx, &m, &call->requester, lease, k >= 2, why);
}

/* QueryStateVariable (UDA 1.0 3.3; deprecated by UDA 1.1 but still sent,
 * Windows XP asks for ConnectionStatus): the value of one variable of this
 * service, as the SCPD served to this control point has it; a variable
 * with no value of its own (or none) is 404 Invalid Var, as miniupnpd. */
static void
query_variable(struct http_conn *c, const struct http_request *req,
	       const struct desc_service *svc, unsigned version, const char *action)
{
	struct igdd_ctx *ctx = http_conn_ctx(c);
	struct soap_envelope env;
	const struct igd_var *v;
	struct desc_buf out = { 0 };
	char value[256];

	if (strcmp(action, "QueryStateVariable") != 0 ||
	    soap_parse_envelope(req->body, req->body_len, &env) != 0 ||
	    strcmp(env.action, "QueryStateVariable") != 0) {
		reply_fault(c, 401);
		return;
	}
	if (soap_arg(&env, "varName") == NULL) {
		reply_fault(c, 402);
		return;
	}
	v = igd_var_find(svc->id, version, soap_arg(&env, "varName"));
	if (v == NULL || igd_var_value(ctx, v, version, value, sizeof(value)) < 0) {
		log_debug("upnp: QueryStateVariable %s of %s: no such variable",
			  soap_arg(&env, "varName"), svc->type);
		reply_fault(c, 404);
		return;
	}
	soap_write_response_head_ns(&out, "QueryStateVariable", SOAP_CONTROL_NS);
	desc_buf_puts(&out, "<return>");
	desc_buf_escape(&out, value, strlen(value));
	desc_buf_puts(&out, "</return>");
	soap_write_response_tail(&out, "QueryStateVariable");
	reply_envelope(c, &out);
}

/* ------------------------------------------------------------ deferred */

struct igd_deferred {
	struct upstream_waiter w;
	struct igdd_ctx *ctx;
	struct http_conn *conn;		/* NULL once the client left */
	const struct desc_service *svc;
	const struct igd_action *action;
	struct in6_addr requester;
	unsigned version, svc_version;
	igd_finish_fn finish;
};

/* The relay told: the action's answer, built as control_post() builds
 * one, goes to the client if it still waits. */
static void
deferred_done(struct upstream_waiter *w, const struct upstream_answer *a)
{
	struct igd_deferred *d = container_of(w, struct igd_deferred, w);
	struct desc_buf out = { 0 };
	struct igd_call call;
	int r;

	if (d->conn != NULL) {
		memset(&call, 0, sizeof(call));
		call.ctx = d->ctx;
		call.svc = d->svc;
		call.requester = d->requester;
		call.out = &out;
		call.action = d->action;
		call.conn = d->conn;
		call.version = d->version;
		call.svc_version = d->svc_version;
		soap_write_response_head(&out, d->action->name, d->svc->type, d->svc_version);
		r = d->finish(&call, a);
		if (r != 0) {
			desc_buf_free(&out);
			reply_fault(d->conn, r);
		} else {
			soap_write_response_tail(&out, d->action->name);
			reply_envelope(d->conn, &out);
		}
	}
	free(d);
}

/* The client left (or the hold timed out): the relay goes on, unheard. */
static void
deferred_abort(void *arg)
{
	struct igd_deferred *d = arg;

	upstream_waiter_cancel(d->ctx, &d->w);
	free(d);
}

struct upstream_waiter *
igd_defer_new(struct igd_call *call, igd_finish_fn finish)
{
	struct igd_deferred *d;

	if (call->conn == NULL || !upstream_active(call->ctx) ||
	    (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->w.done = deferred_done;
	d->ctx = call->ctx;
	d->svc = call->svc;
	d->action = call->action;
	d->requester = call->requester;
	d->version = call->version;
	d->svc_version = call->svc_version;
	d->finish = finish;
	return &d->w;
}

int
igd_defer_start(struct igd_call *call, struct upstream_waiter *w)
{
	struct igd_deferred *d = container_of(w, struct igd_deferred, w);

	d->conn = call->conn;
	http_hold(call->conn, UPSTREAM_WAIT_MS + 1000, deferred_abort, d);
	return IGD_DEFERRED;
}

void
igd_defer_free(struct upstream_waiter *w)
{
	if (w != NULL)
		free(container_of(w, struct igd_deferred, w));
}

/* POST on a control URL: the SOAPACTION header and the envelope must name
 * the same action of this service, in a version we serve. */
static void
control_post(struct http_conn *c, const struct http_request *req, const void *arg)
{
	const struct desc_service *svc = arg;
	struct igdd_ctx *ctx = http_conn_ctx(c);
	struct soap_action_hdr ah;
	struct soap_envelope env;
	struct desc_buf out = { 0 };
	struct igd_call call;
	uint64_t before[2], after[2];
	unsigned version = desc_igd_version_for(ctx, req->user_agent.p, req->user_agent.len);
	int r;

	counters_request(&ctx->counters, CTR_UPNP);
	if (!req->soapaction.present ||
	    soap_parse_action(req->soapaction.p, req->soapaction.len, &ah) < 0) {
		reply_fault(c, 401);
		return;
	}
	if (ah.control) {
		query_variable(c, req, svc, version, ah.action);
		return;
	}
	if (strcmp(ah.type, svc->type) != 0 || ah.version > desc_service_version(svc, version) ||
	    !desc_service_present(ctx, svc, version)) {
		reply_fault(c, 401);
		return;
	}
	r = soap_parse_envelope(req->body, req->body_len, &env);
	if (r == 0 && ah.action[0] != '\0' && strcmp(ah.action, env.action) != 0)
		r = SOAP_E_ACTION;
	if (r != 0) {
		reply_fault(c, r == SOAP_E_ACTION ? 401 : 402);
		return;
	}
	memset(&call, 0, sizeof(call));
	call.ctx = ctx;
	call.svc = svc;
	call.env = &env;
	call.out = &out;
	call.version = version;
	call.conn = c;
	call.svc_version = ah.version;
	http_conn_peer_addr(c, &call.requester);
	/* The arguments go straight into the envelope (answered in the
	 * namespace the client used: the version it asked for), so that a
	 * large answer is built once and handed over, never copied. */
	soap_write_response_head(&out, env.action, svc->type, ah.version);
	maplog_totals(ctx, &before[0], &before[1]);
	r = igd_dispatch(&call, env.action);
	maplog_totals(ctx, &after[0], &after[1]);
	if (r == IGD_DEFERRED) {
		desc_buf_free(&out);
		return;		/* the relay's answer comes later (igd_defer_start()) */
	}
	if (r != 0 && before[0] + before[1] == after[0] + after[1])
		log_refusal(&call, env.action, r);
	if (r != 0) {
		log_debug("upnp: %s.%s from %s: error %d %s", svc->type, env.action,
			  ADDR4_STR(http_conn_peer(c)->sin_addr), r, igd_error_desc(r));
		desc_buf_free(&out);
		reply_fault(c, r);
		return;
	}
	soap_write_response_tail(&out, env.action);
	reply_envelope(c, &out);
}

/* ------------------------------------------------------------ eventing */

void
igd_prop(struct desc_buf *b, const char *name, const char *value)
{
	desc_buf_printf(b, "<e:property><%s>", name);
	desc_buf_escape(b, value, strlen(value));
	desc_buf_printf(b, "</%s></e:property>", name);
}

void
igd_evented_vars(struct igdd_ctx *ctx, enum desc_svc svc, struct desc_buf *b)
{
	unsigned ver = desc_igd_version(ctx), sver;
	const struct igd_service *s;
	char v[256];
	size_t i;

	if ((unsigned)svc >= SVC_COUNT)
		return;
	s = igd_services[svc];
	sver = desc_service_version(&desc_services[svc], ver);
	for (i = 0; i < s->n_vars; i++)
		if (s->vars[i].evented && s->vars[i].min_ver <= sver &&
		    igd_var_value(ctx, &s->vars[i], ver, v, sizeof(v)) == 0)
			igd_prop(b, s->vars[i].name, v);
}

int
igd_var_value(const struct igdd_ctx *ctx, const struct igd_var *v, unsigned ver, char *buf,
	      size_t size)
{
	return v->get != NULL ? v->get(ctx, ver, buf, size) : str_copy(buf, size, v->value);
}

const struct igd_var *
igd_var_find(enum desc_svc svc, unsigned igd_version, const char *name)
{
	const struct igd_service *s;
	size_t i;

	if ((unsigned)svc >= SVC_COUNT || name == NULL)
		return NULL;
	s = igd_services[svc];
	for (i = 0; i < s->n_vars; i++)
		if (strcmp(s->vars[i].name, name) == 0 &&
		    s->vars[i].min_ver <= desc_service_version(&desc_services[svc], igd_version))
			return &s->vars[i];
	return NULL;
}

/* The store changed: SystemUpdateID counts changes of the mapping set
 * (IGD:2 WANIPConnection 2.3.25; a renewal counts too), and subscribers
 * hear about it.  A refused request changed nothing. */
static void
store_changed(void *arg, const struct store_change *ch)
{
	struct igdd_ctx *ctx = arg;

	if (!STORE_EV_IS_CHANGE(ch->ev) || mapping_is_pinhole(ch->m))
		return;		/* a pinhole is WANIPv6FirewallControl's, not a port mapping */
	ctx->system_update_id++;
	events_changed(ctx, SVC_WANIPC);
}

/* The external address or link changed: ExternalIPAddress and
 * ConnectionStatus (WANIPConnection), PhysicalLinkStatus and
 * EnabledForInternet (WANCommonInterfaceConfig) are evented. */
static void
ext_changed(struct igdd_ctx *ctx)
{
	events_changed(ctx, SVC_WANIPC);
	events_changed(ctx, SVC_WANCFG);
}

int
igd_init(struct igdd_ctx *ctx)
{
	size_t i;

	for (i = 0; i < SVC_COUNT; i++)
		if (http_route_add(ctx, desc_services[i].control, HTTP_METHOD_BIT(HTTP_M_POST),
				   control_post, &desc_services[i]) < 0)
			return -1;
	events_set_renderer(ctx, igd_evented_vars);
	if (ctx->store != NULL && store_add_listener(ctx->store, store_changed, ctx) < 0)
		return -1;
	ctx_add_ext_hook(ctx, ext_changed);
	return 0;
}
