/* igd_wanipc.c - WANIPConnection:1/2: the port-mapping actions.  Every
 * argument is checked (present, type, range) before use; policy is the
 * store's; the store's answers become UPnP errors through igd.c's table. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "desc.h"
#include "igd.h"
#include "log.h"
#include "soap.h"
#include "store.h"
#include "upstream.h"
#include "util.h"

#define IGD_MAX_LEASE	604800	/* IGD:2 WANIPConnection 2.3.18: max PortMappingLeaseDuration */

static int
a_get_external_ip(struct igd_call *call)
{
	char a[INET_ADDRSTRLEN] = "";

	if (call->ctx->ext_addr.s_addr != 0)
		addr4_str(call->ctx->ext_addr, a, sizeof(a));
	igd_out_arg(call, "NewExternalIPAddress", a);
	return 0;
}

static uint64_t
uptime_s(const struct igdd_ctx *ctx)
{
	if (ctx->cfg.system_uptime) {
		FILE *f = fopen("/proc/uptime", "r");
		double up = 0;

		if (f != NULL) {
			if (fscanf(f, "%lf", &up) != 1)
				up = 0;
			fclose(f);
			if (up > 0)
				return (uint64_t)up;
		}
	}
	return (time_mono_ms() - ctx->start_mono) / 1000;
}

/* Connected, unless the link is down or, behind a NAT that no upstream
 * protocol controls, nothing mapped here can be reached from outside. */
static bool
wan_usable(const struct igdd_ctx *ctx)
{
	return igd_connected(ctx) && upstream_reachable(ctx);
}

static int
a_get_status_info(struct igd_call *call)
{
	bool ok = wan_usable(call->ctx);

	igd_out_arg(call, "NewConnectionStatus", ok ? "Connected" : "Disconnected");
	igd_out_arg(call, "NewLastConnectionError",
		    ok || !igd_connected(call->ctx) ? "ERROR_NONE" : "ERROR_IP_CONFIGURATION");
	igd_out_u64(call, "NewUptime", uptime_s(call->ctx) & 0xffffffffu);
	return 0;
}

static int
a_get_connection_type_info(struct igd_call *call)
{
	igd_out_arg(call, "NewConnectionType", "IP_Routed");
	igd_out_arg(call, "NewPossibleConnectionTypes", "IP_Routed");
	return 0;
}

static int
a_set_connection_type(struct igd_call *call)
{
	const char *v = soap_arg(call->env, "NewConnectionType");

	/* The gateway routes; IP_Routed is the only type it can be set to. */
	if (v == NULL || strcmp(v, "IP_Routed") != 0)
		return 402;
	return 0;
}

static int
a_request_connection(struct igd_call *call)
{
	/* The link is not ours to dial: succeed when it is up already. */
	return igd_connected(call->ctx) ? 0 : 501;
}

static int
a_force_termination(struct igd_call *call)
{
	(void)call;
	return 606;	/* a LAN client may not take the WAN link down */
}

static int
a_get_nat_rsip_status(struct igd_call *call)
{
	igd_out_arg(call, "NewRSIPAvailable", "0");
	igd_out_arg(call, "NewNATEnabled", "1");
	return 0;
}

/* What AddPortMapping / AddAnyPortMapping answer once the store, or the
 * relay's upstream, has decided (then or later: igd_defer_new()). */
static int
add_finish(struct igd_call *call, const struct upstream_answer *a)
{
	int e = igd_error_from_upstream(a, igd_is_v2(call));

	if (e != 0)
		return e;
	if (strcmp(call->action->name, "AddAnyPortMapping") == 0)
		igd_out_u64(call, "NewReservedPort", a->eport);
	return 0;
}

/* Common part of AddPortMapping and AddAnyPortMapping. */
static int
add_mapping(struct igd_call *call, bool any)
{
	struct mapping req;
	struct upstream_waiter *w;
	struct upstream_answer a;
	struct mapping_owner owner = { .addr = call->requester, .proto = OWNER_UPNP };
	struct in6_addr rhost, iaddr;
	const char *client, *desc, *lease_s;
	uint32_t lease = 0;
	struct in_addr ia;
	bool enabled;
	int e;

	memset(&req, 0, sizeof(req));
	if ((e = igd_arg_rhost(call, &rhost)) != 0 || (e = igd_arg_proto(call, &req.proto)) != 0)
		return e;
	req.rhost = &rhost;
	{
		const char *ep = soap_arg(call->env, "NewExternalPort");

		if (ep == NULL)
			return 402;
		/* "*" is the wildcard spelled out: 716 as for 0 (miniupnpd) */
		if (strcmp(ep, "*") == 0)
			req.eport = 0;
		else if (parse_u16(ep, 0, 65535, &req.eport) < 0)
			return 402;
		if (req.eport == 0 && !any)
			return 716;
		/* A relayed mapping is known by the upstream's port: its
		 * refresh is of ours. */
		if (req.eport != 0)
			req.eport = upstream_local_port(call->ctx, req.proto, req.eport);
	}
	{
		const char *ip = soap_arg(call->env, "NewInternalPort");

		if (ip == NULL || parse_u16(ip, 0, 65535, &req.iport) < 0)
			return 402;
		if (req.iport == 0)
			return igd_is_v2(call) ? 732 : 402;
	}
	client = soap_arg(call->env, "NewInternalClient");
	if (client == NULL || inet_pton(AF_INET, client, &ia) != 1 || ia.s_addr == 0)
		return 402;
	addr_from_v4(&iaddr, ia);
	req.iaddr = &iaddr;
	if ((e = igd_arg_bool(call, "NewEnabled", true, &enabled)) != 0)
		return e;
	req.enabled = enabled;
	desc = soap_arg(call->env, "NewPortMappingDescription");
	/* Free text: a long one is cut (at a character boundary, by the
	 * store), not refused. */
	req.desc = desc;
	lease_s = soap_arg(call->env, "NewLeaseDuration");
	if (lease_s != NULL && lease_s[0] != '\0' && parse_u32(lease_s, 0, UINT32_MAX, &lease) < 0)
		return 402;
	/* IGD:2 2.3.18: 0 means the maximum (604800), and larger values are
	 * clamped to it; IGD:1: 0 is a permanent mapping. */
	if (igd_is_v2(call) && (lease == 0 || lease > IGD_MAX_LEASE))
		lease = IGD_MAX_LEASE;
	req.owner = &owner;
	/* With a relay the upstream is asked for the same port: exactly it
	 * for AddPortMapping (RFC 6970: PCP PREFER_FAILURE). */
	w = igd_defer_new(call, add_finish);
	if (upstream_add(call->ctx, &req, lease, any ? STORE_F_ANY_PORT : 0,
			 any ? 0 : UPSTREAM_EXACT, w, &a, NULL) == 1)
		return igd_defer_start(call, w);
	igd_defer_free(w);
	if (a.local != ST_OK)
		log_debug("upnp: %s %u: %s", proto_name(req.proto), req.eport,
			  store_strerror(a.local));
	return add_finish(call, &a);
}

static int
a_add_port_mapping(struct igd_call *call)
{
	return add_mapping(call, false);
}

static int
a_add_any_port_mapping(struct igd_call *call)
{
	return add_mapping(call, true);
}

static int
a_delete_port_mapping(struct igd_call *call)
{
	struct in6_addr rh;
	enum store_result r;
	uint16_t eport;
	uint8_t proto;
	int e;

	if ((e = igd_arg_rhost(call, &rh)) != 0 || (e = igd_arg_proto(call, &proto)) != 0 ||
	    (e = igd_arg_u16(call, "NewExternalPort", 1, &eport)) != 0)
		return e;
	eport = upstream_local_port(call->ctx, proto, eport);	/* the world's port -> ours */
	r = store_del(call->ctx->store, proto, eport, &rh, &call->requester);
	return igd_error_from_store(r, igd_is_v2(call));
}

static void
out_entry_tail(struct igd_call *call, const struct mapping *m)
{
	char a[INET6_ADDRSTRLEN], d[MAPPING_DESC_GEN_MAX];

	igd_out_u64(call, "NewInternalPort", m->iport);
	igd_out_arg(call, "NewInternalClient", addr_str(m->iaddr, a, sizeof(a)));
	igd_out_arg(call, "NewEnabled", m->enabled ? "1" : "0");
	igd_out_arg(call, "NewPortMappingDescription", mapping_desc(m, d));
	igd_out_u64(call, "NewLeaseDuration", store_lease_left(call->ctx->store, m));
}

static int
a_get_generic_entry(struct igd_call *call)
{
	const char *v = soap_arg(call->env, "NewPortMappingIndex");
	char rh[INET6_ADDRSTRLEN];
	struct mapping *m;
	struct in_addr ext;
	uint16_t eport;
	uint32_t idx;

	if (v == NULL || parse_u32(v, 0, UINT32_MAX, &idx) < 0)
		return 402;
	m = store_nth(call->ctx->store, idx);
	if (m == NULL)
		return 713;
	upstream_view(call->ctx, m, &ext, &eport);	/* the port the world sees */
	igd_rhost_text(m->rhost, rh, sizeof(rh));
	igd_out_arg(call, "NewRemoteHost", rh);
	igd_out_u64(call, "NewExternalPort", eport);
	igd_out_arg(call, "NewProtocol", proto_name(m->proto));
	out_entry_tail(call, m);
	return 0;
}

static int
a_get_specific_entry(struct igd_call *call)
{
	struct in6_addr rh;
	struct mapping *m;
	uint16_t eport;
	uint8_t proto;
	int e;

	if ((e = igd_arg_rhost(call, &rh)) != 0 || (e = igd_arg_proto(call, &proto)) != 0 ||
	    (e = igd_arg_u16(call, "NewExternalPort", 1, &eport)) != 0)
		return e;
	m = store_find(call->ctx->store, proto, upstream_local_port(call->ctx, proto, eport), &rh);
	if (m == NULL)
		return 714;
	out_entry_tail(call, m);
	return 0;
}

/* Range arguments of DeletePortMappingRange / GetListOfPortMappings. */
struct range_q {
	uint16_t lo, hi;
	uint8_t proto;
	bool manage;
	struct in6_addr requester;
	struct mapping **found;
	size_t n, cap;
};

static int
range_args(struct igd_call *call, struct range_q *q)
{
	int e;

	memset(q, 0, sizeof(*q));
	if ((e = igd_arg_u16(call, "NewStartPort", 0, &q->lo)) != 0 ||
	    (e = igd_arg_u16(call, "NewEndPort", 0, &q->hi)) != 0 ||
	    (e = igd_arg_proto(call, &q->proto)) != 0)
		return e;
	if (soap_arg(call->env, "NewManage") == NULL)
		return 402;
	if ((e = igd_arg_bool(call, "NewManage", false, &q->manage)) != 0)
		return e;
	if (q->lo > q->hi)
		return 733;
	q->requester = call->requester;
	return 0;
}

/* Collect the mappings the caller may see: all with Manage, else its own
 * (IGD:2 2.5.15/2.5.20: InternalClient = the control point). */
static int
range_visit(struct mapping *m, void *arg)
{
	struct range_q *q = arg;

	if (!q->manage && !addr_eq(m->iaddr, &q->requester))
		return 0;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct mapping **f = realloc(q->found, cap * sizeof(*f));

		if (f == NULL)
			return 1;
		q->found = f;
		q->cap = cap;
	}
	q->found[q->n++] = m;
	return 0;
}

static int
a_delete_port_mapping_range(struct igd_call *call)
{
	struct { uint8_t proto; uint16_t eport; struct in6_addr rhost; } *keys;
	struct range_q q;
	size_t i, deleted = 0;
	int e, err = 0;

	if ((e = range_args(call, &q)) != 0)
		return e;
	store_range(call->ctx->store, q.proto, q.lo, q.hi, range_visit, &q);
	if (q.n == 0) {
		free(q.found);
		return 730;
	}
	/* Keys first: a deletion may move or free what the pointers name. */
	keys = calloc(q.n, sizeof(*keys));
	if (keys == NULL) {
		free(q.found);
		return 501;
	}
	for (i = 0; i < q.n; i++) {
		keys[i].proto = q.found[i]->proto;
		keys[i].eport = q.found[i]->eport;
		keys[i].rhost = *q.found[i]->rhost;
	}
	free(q.found);
	for (i = 0; i < q.n; i++) {
		enum store_result r = store_del(call->ctx->store, keys[i].proto, keys[i].eport,
						&keys[i].rhost, &call->requester);
		if (r == ST_OK)
			deleted++;
		else if (err == 0)
			err = igd_error_from_store(r, igd_is_v2(call));
	}
	free(keys);
	return deleted > 0 ? 0 : (err ? err : 730);
}

/* A listing answers at most this many entries, as miniupnpd does
 * (upnpsoap.c), and stops at the first entry past IGD_LIST_MAX_BYTES of
 * escaped text: the device may return fewer than asked (IGD:2 2.5.20), a
 * control point pages on from the last port + 1. */
#define IGD_LIST_MAX_ENTRIES	1000
#define IGD_LIST_MAX_BYTES	(1u << 20)

struct list_q {
	struct range_q q;
	struct desc_buf *out;
	const struct store *store;
	const struct igdd_ctx *ctx;	/* the relay's view of the ports */
	size_t start, limit;	/* out's length before the first entry */
};

/* One element of an entry, as the string argument carries it: the markup
 * escaped once, the value twice (IGD:2 2.3.23 A_ARG_TYPE_PortListing). */
static void
list_open(struct desc_buf *b, const char *name)
{
	desc_buf_puts(b, "&lt;p:");
	desc_buf_puts(b, name);
	desc_buf_puts(b, "&gt;");
}

static void
list_close(struct desc_buf *b, const char *name)
{
	desc_buf_puts(b, "&lt;/p:");
	desc_buf_puts(b, name);
	desc_buf_puts(b, "&gt;");
}

/* No printf here: a page of 1,000 entries has 8,000 elements. */
static void
list_elem(struct desc_buf *b, const char *name, const char *value)
{
	list_open(b, name);
	desc_buf_escape_n(b, value, strlen(value), 2);
	list_close(b, name);
}

static void
list_elem_u(struct desc_buf *b, const char *name, unsigned v)
{
	list_open(b, name);
	desc_buf_put_u(b, v);	/* digits need no escaping */
	list_close(b, name);
}

/* Append the entries the caller may see (as range_visit), up to the caps. */
static int
list_visit(struct mapping *m, void *arg)
{
	struct list_q *l = arg;
	char rh[INET6_ADDRSTRLEN], ia[INET6_ADDRSTRLEN], d[MAPPING_DESC_GEN_MAX];
	struct in_addr ext;
	uint16_t eport;

	if (l->q.n >= l->limit || l->out->len - l->start >= IGD_LIST_MAX_BYTES)
		return 1;
	if (!l->q.manage && !addr_eq(m->iaddr, &l->q.requester))
		return 0;
	upstream_view(l->ctx, m, &ext, &eport);	/* the port the world sees */
	igd_rhost_text(m->rhost, rh, sizeof(rh));
	desc_buf_puts(l->out, "&lt;p:PortMappingEntry&gt;");
	list_elem(l->out, "NewRemoteHost", rh);
	list_elem_u(l->out, "NewExternalPort", eport);
	list_elem(l->out, "NewProtocol", proto_name(m->proto));
	list_elem_u(l->out, "NewInternalPort", m->iport);
	list_elem(l->out, "NewInternalClient", addr_str(m->iaddr, ia, sizeof(ia)));
	list_elem_u(l->out, "NewEnabled", m->enabled ? 1 : 0);
	list_elem(l->out, "NewDescription", mapping_desc(m, d));
	list_elem_u(l->out, "NewLeaseTime", (unsigned)store_lease_left(l->store, m));
	desc_buf_puts(l->out, "&lt;/p:PortMappingEntry&gt;");
	l->q.n++;
	return 0;
}

static const char list_head[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	"<p:PortMappingList xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\" "
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
	"xsi:schemaLocation=\"urn:schemas-upnp-org:gw:WANIPConnection "
	"http://www.upnp.org/schemas/gw/WANIPConnection-v2.xsd\">";
static const char list_tail[] = "</p:PortMappingList>";

/* The listing is written escaped straight into the answer, in one pass:
 * no copy of it is built, and none escaped again. */
static int
a_get_list_of_port_mappings(struct igd_call *call)
{
	struct list_q l = { .out = call->out, .store = call->ctx->store, .ctx = call->ctx };
	uint16_t num = 0;
	int e;

	if ((e = range_args(call, &l.q)) != 0)
		return e;
	{
		const char *v = soap_arg(call->env, "NewNumberOfPorts");

		if (v == NULL || parse_u16(v, 0, 65535, &num) < 0)
			return 402;
	}
	/* NewNumberOfPorts 0 = as many as there are (IGD:2 2.5.20). */
	l.limit = num != 0 && num < IGD_LIST_MAX_ENTRIES ? num : IGD_LIST_MAX_ENTRIES;
	desc_buf_puts(call->out, "<NewPortListing>");
	desc_buf_escape(call->out, list_head, strlen(list_head));
	l.start = call->out->len;
	store_range(call->ctx->store, l.q.proto, l.q.lo, l.q.hi, list_visit, &l);
	if (l.q.n == 0)
		return 730;
	desc_buf_escape(call->out, list_tail, strlen(list_tail));
	desc_buf_puts(call->out, "</NewPortListing>");
	return call->out->failed ? 501 : 0;
}

/* --- state variables (WANIPConnection 2.2) --- */

static int
v_connection_status(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_copy(buf, size, wan_usable(ctx) ? "Connected" : "Disconnected");
}

static int
v_external_ip(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	buf[0] = '\0';
	if (ctx->ext_addr.s_addr != 0)
		addr4_str(ctx->ext_addr, buf, size);
	return 0;
}

static int
v_entries(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_printf(buf, size, "%zu", ctx->store ? store_count(ctx->store) : (size_t)0);
}

static int
v_system_update_id(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_printf(buf, size, "%u", (unsigned)ctx->system_update_id);
}

static int
v_uptime(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_printf(buf, size, "%llu", (unsigned long long)(uptime_s(ctx) & 0xffffffffu));
}

/* The evented ones first, in the order of their events; the per-entry
 * variables (PortMapping*, InternalClient, ...) have no value of their
 * own: a query for them is 404 Invalid Var, as in miniupnpd. */
static const struct igd_var wanipc_vars[] = {
	{ "PossibleConnectionTypes", 1, true, NULL, "IP_Routed" },
	{ "ConnectionStatus", 1, true, v_connection_status, NULL },
	{ "ExternalIPAddress", 1, true, v_external_ip, NULL },
	{ "PortMappingNumberOfEntries", 1, true, v_entries, NULL },
	{ "SystemUpdateID", 2, true, v_system_update_id, NULL },
	{ "ConnectionType", 1, false, NULL, "IP_Routed" },
	{ "Uptime", 1, false, v_uptime, NULL },
	{ "LastConnectionError", 1, false, NULL, "ERROR_NONE" },
	{ "RSIPAvailable", 1, false, NULL, "0" },
	{ "NATEnabled", 1, false, NULL, "1" },
};

static const struct igd_action wanipc_actions[] = {
	{ "GetExternalIPAddress", 1, a_get_external_ip, false, NULL },
	{ "GetStatusInfo", 1, a_get_status_info, false, NULL },
	{ "GetConnectionTypeInfo", 1, a_get_connection_type_info, false, NULL },
	{ "SetConnectionType", 1, a_set_connection_type, false, NULL },
	{ "RequestConnection", 1, a_request_connection, false, NULL },
	{ "ForceTermination", 1, a_force_termination, false, NULL },
	{ "GetNATRSIPStatus", 1, a_get_nat_rsip_status, false, NULL },
	{ "AddPortMapping", 1, a_add_port_mapping, true, NULL },
	{ "DeletePortMapping", 1, a_delete_port_mapping, true, NULL },
	{ "GetGenericPortMappingEntry", 1, a_get_generic_entry, true, NULL },
	{ "GetSpecificPortMappingEntry", 1, a_get_specific_entry, true, NULL },
	{ "AddAnyPortMapping", 2, a_add_any_port_mapping, true, NULL },
	{ "DeletePortMappingRange", 2, a_delete_port_mapping_range, true, NULL },
	{ "GetListOfPortMappings", 2, a_get_list_of_port_mappings, true, NULL },
};

const struct igd_service igd_svc_wanipc = {
	SVC_WANIPC, wanipc_actions, ARRAY_SIZE(wanipc_actions),
	wanipc_vars, ARRAY_SIZE(wanipc_vars),
};
