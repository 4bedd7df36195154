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
#include "soap.h"
#include "store.h"
#include "util.h"

bool
igd_is_v2(const struct igd_call *call)
{
	return desc_igd_version(call->ctx) >= 2;
}


/* ------------------------------------------------------------ errors */

const char *
igd_error_desc(int code)
{
	switch (code) {
	case 401: return "Invalid Action";
	case 402: return "Invalid Args";
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
	unsigned ver = desc_service_version(call->ctx, call->svc);
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

	soap_write_fault(&b, code, igd_error_desc(code));
	if (b.failed)
		http_reply_error(c, 500, NULL);
	else
		http_reply(c, 500, "EXT:\r\n", "text/xml; charset=\"utf-8\"", b.p, b.len);
	desc_buf_free(&b);
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
	int r;

	if (!req->soapaction.present ||
	    soap_parse_action(req->soapaction.p, req->soapaction.len, &ah) < 0 ||
	    strcmp(ah.type, svc->type) != 0 || ah.version > desc_service_version(ctx, svc)) {
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
	http_conn_peer_addr(c, &call.requester);
	/* The arguments go straight into the envelope (answered in the
	 * namespace the client used: the version it asked for), so that a
	 * large answer is built once and handed over, never copied. */
	soap_write_response_head(&out, env.action, svc->type, ah.version);
	r = igd_dispatch(&call, env.action);
	if (r != 0) {
		log_debug("soap: %s.%s: error %d", svc->type, env.action, r);
		desc_buf_free(&out);
		reply_fault(c, r);
		return;
	}
	soap_write_response_tail(&out, env.action);
	if (out.failed) {
		desc_buf_free(&out);
		reply_fault(c, 501);
		return;
	}
	http_reply_take(c, 200, "EXT:\r\n", "text/xml; charset=\"utf-8\"", out.p, out.len);
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
	if ((unsigned)svc < SVC_COUNT && igd_services[svc]->evented != NULL)
		igd_services[svc]->evented(ctx, b);
}

/* The store changed: SystemUpdateID counts changes of the mapping set
 * (IGD:2 WANIPConnection 2.3.25), and subscribers hear about it. */
static void
store_changed(void *arg, const struct mapping *m, bool added)
{
	struct igdd_ctx *ctx = arg;

	(void)added;
	if (mapping_is_pinhole(m))
		return;		/* not a port mapping: WANIPv6FirewallControl's */
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
