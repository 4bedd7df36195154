/* igd.c - the actions of the IGD services.  Every argument is checked
 * (present, type, range) before use; policy is the store's; the store's
 * answers become UPnP errors through one table. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "desc.h"
#include "events.h"
#include "igd.h"
#include "log.h"
#include "soap.h"
#include "store.h"
#include "util.h"
#include "uuid.h"

#define IGD_MAX_LEASE	604800	/* IGD:2 WANIPConnection 2.3.18: max PortMappingLeaseDuration */

static bool
is_v2(const struct igd_call *call)
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

static void
out_arg(struct igd_call *call, const char *name, const char *value)
{
	desc_buf_printf(call->out, "<%s>", name);
	desc_buf_escape(call->out, value, strlen(value));
	desc_buf_printf(call->out, "</%s>", name);
}

static void
out_u64(struct igd_call *call, const char *name, uint64_t v)
{
	desc_buf_printf(call->out, "<%s>%" PRIu64 "</%s>", name, v, name);
}

static int
arg_u16(struct igd_call *call, const char *name, uint16_t min, uint16_t *out)
{
	const char *v = soap_arg(call->env, name);

	if (v == NULL || parse_u16(v, min, 65535, out) < 0)
		return 402;
	return 0;
}

static int
arg_proto(struct igd_call *call, uint8_t *proto)
{
	const char *v = soap_arg(call->env, "NewProtocol");

	return (v == NULL || proto_parse(v, proto) < 0) ? 402 : 0;
}

/* NewRemoteHost: absent, empty or "*" = any; else an IPv4 address. */
static int
arg_rhost(struct igd_call *call, struct in6_addr *rh)
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

static int
arg_bool(struct igd_call *call, const char *name, bool def, bool *out)
{
	const char *v = soap_arg(call->env, name);

	if (v == NULL || v[0] == '\0') {
		*out = def;
		return 0;
	}
	return parse_bool(v, out) < 0 ? 402 : 0;
}

static void
rhost_text(const struct in6_addr *rh, char *buf, size_t size)
{
	if (addr_is_any(rh))
		buf[0] = '\0';
	else
		addr_str(rh, buf, size);
}

/* ------------------------------------------------------------ WANIPConnection */

static int
a_get_external_ip(struct igd_call *call)
{
	char a[INET_ADDRSTRLEN] = "";

	if (call->ctx->ext_addr.s_addr != 0)
		inet_ntop(AF_INET, &call->ctx->ext_addr, a, sizeof(a));
	out_arg(call, "NewExternalIPAddress", a);
	return 0;
}

static bool
connected(const struct igdd_ctx *ctx)
{
	return ctx->ext_up && ctx->ext_addr.s_addr != 0;
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

static int
a_get_status_info(struct igd_call *call)
{
	out_arg(call, "NewConnectionStatus", connected(call->ctx) ? "Connected" : "Disconnected");
	out_arg(call, "NewLastConnectionError", "ERROR_NONE");
	out_u64(call, "NewUptime", uptime_s(call->ctx) & 0xffffffffu);
	return 0;
}

static int
a_get_connection_type_info(struct igd_call *call)
{
	out_arg(call, "NewConnectionType", "IP_Routed");
	out_arg(call, "NewPossibleConnectionTypes", "IP_Routed");
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
	return connected(call->ctx) ? 0 : 501;
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
	out_arg(call, "NewRSIPAvailable", "0");
	out_arg(call, "NewNATEnabled", "1");
	return 0;
}

/* Common part of AddPortMapping and AddAnyPortMapping. */
static int
add_mapping(struct igd_call *call, bool any)
{
	struct mapping req, *m = NULL;
	struct mapping_owner owner = { .addr = call->requester, .proto = OWNER_UPNP };
	struct in6_addr rhost, iaddr;
	const char *client, *desc, *lease_s;
	uint32_t lease = 0;
	struct in_addr ia;
	enum store_result r;
	bool enabled;
	int e;

	memset(&req, 0, sizeof(req));
	if ((e = arg_rhost(call, &rhost)) != 0 || (e = arg_proto(call, &req.proto)) != 0)
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
	}
	{
		const char *ip = soap_arg(call->env, "NewInternalPort");

		if (ip == NULL || parse_u16(ip, 0, 65535, &req.iport) < 0)
			return 402;
		if (req.iport == 0)
			return is_v2(call) ? 732 : 402;
	}
	client = soap_arg(call->env, "NewInternalClient");
	if (client == NULL || inet_pton(AF_INET, client, &ia) != 1 || ia.s_addr == 0)
		return 402;
	addr_from_v4(&iaddr, ia);
	req.iaddr = &iaddr;
	if ((e = arg_bool(call, "NewEnabled", true, &enabled)) != 0)
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
	if (is_v2(call) && (lease == 0 || lease > IGD_MAX_LEASE))
		lease = IGD_MAX_LEASE;
	req.owner = &owner;
	r = store_add(call->ctx->store, &req, lease, any ? STORE_F_ANY_PORT : 0, &m);
	if (r != ST_OK) {
		log_debug("upnp: %s %u: %s", proto_name(req.proto), req.eport, store_strerror(r));
		return igd_error_from_store(r, is_v2(call));
	}
	if (any)
		out_u64(call, "NewReservedPort", m != NULL ? m->eport : req.eport);
	return 0;
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

	if ((e = arg_rhost(call, &rh)) != 0 || (e = arg_proto(call, &proto)) != 0 ||
	    (e = arg_u16(call, "NewExternalPort", 1, &eport)) != 0)
		return e;
	r = store_del(call->ctx->store, proto, eport, &rh, &call->requester);
	return igd_error_from_store(r, is_v2(call));
}

static void
out_entry_tail(struct igd_call *call, const struct mapping *m)
{
	char a[INET6_ADDRSTRLEN];

	out_u64(call, "NewInternalPort", m->iport);
	out_arg(call, "NewInternalClient", addr_str(m->iaddr, a, sizeof(a)));
	out_arg(call, "NewEnabled", m->enabled ? "1" : "0");
	out_arg(call, "NewPortMappingDescription", m->desc);
	out_u64(call, "NewLeaseDuration", store_lease_left(call->ctx->store, m));
}

static int
a_get_generic_entry(struct igd_call *call)
{
	const char *v = soap_arg(call->env, "NewPortMappingIndex");
	char rh[INET6_ADDRSTRLEN];
	struct mapping *m;
	uint32_t idx;

	if (v == NULL || parse_u32(v, 0, UINT32_MAX, &idx) < 0)
		return 402;
	m = store_nth(call->ctx->store, idx);
	if (m == NULL)
		return 713;
	rhost_text(m->rhost, rh, sizeof(rh));
	out_arg(call, "NewRemoteHost", rh);
	out_u64(call, "NewExternalPort", m->eport);
	out_arg(call, "NewProtocol", proto_name(m->proto));
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

	if ((e = arg_rhost(call, &rh)) != 0 || (e = arg_proto(call, &proto)) != 0 ||
	    (e = arg_u16(call, "NewExternalPort", 1, &eport)) != 0)
		return e;
	m = store_find(call->ctx->store, proto, eport, &rh);
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
	size_t n, cap, limit;
};

static int
range_args(struct igd_call *call, struct range_q *q)
{
	int e;

	memset(q, 0, sizeof(*q));
	if ((e = arg_u16(call, "NewStartPort", 0, &q->lo)) != 0 ||
	    (e = arg_u16(call, "NewEndPort", 0, &q->hi)) != 0 ||
	    (e = arg_proto(call, &q->proto)) != 0)
		return e;
	if (soap_arg(call->env, "NewManage") == NULL)
		return 402;
	if ((e = arg_bool(call, "NewManage", false, &q->manage)) != 0)
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
	return (q->limit != 0 && q->n >= q->limit) ? 1 : 0;
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
			err = igd_error_from_store(r, is_v2(call));
	}
	free(keys);
	return deleted > 0 ? 0 : (err ? err : 730);
}

static int
a_get_list_of_port_mappings(struct igd_call *call)
{
	struct desc_buf list = { 0 };
	struct range_q q;
	uint16_t num = 0;
	size_t i;
	int e;

	if ((e = range_args(call, &q)) != 0)
		return e;
	{
		const char *v = soap_arg(call->env, "NewNumberOfPorts");

		if (v == NULL || parse_u16(v, 0, 65535, &num) < 0)
			return 402;
	}
	/* NewNumberOfPorts 0 = as many as there are (IGD:2 2.5.20). */
	q.limit = num;
	store_range(call->ctx->store, q.proto, q.lo, q.hi, range_visit, &q);
	if (q.n == 0) {
		free(q.found);
		return 730;
	}
	desc_buf_puts(&list, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<p:PortMappingList xmlns:p=\"urn:schemas-upnp-org:gw:WANIPConnection\" "
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
		"xsi:schemaLocation=\"urn:schemas-upnp-org:gw:WANIPConnection "
		"http://www.upnp.org/schemas/gw/WANIPConnection-v2.xsd\">");
	for (i = 0; i < q.n; i++) {
		const struct mapping *m = q.found[i];
		char rh[INET6_ADDRSTRLEN], ia[INET6_ADDRSTRLEN];

		rhost_text(m->rhost, rh, sizeof(rh));
		desc_buf_printf(&list, "<p:PortMappingEntry><p:NewRemoteHost>%s</p:NewRemoteHost>"
				"<p:NewExternalPort>%u</p:NewExternalPort>"
				"<p:NewProtocol>%s</p:NewProtocol>"
				"<p:NewInternalPort>%u</p:NewInternalPort>"
				"<p:NewInternalClient>%s</p:NewInternalClient>"
				"<p:NewEnabled>%d</p:NewEnabled><p:NewDescription>",
				rh, m->eport, proto_name(m->proto), m->iport,
				addr_str(m->iaddr, ia, sizeof(ia)), m->enabled ? 1 : 0);
		desc_buf_escape(&list, m->desc, strlen(m->desc));
		desc_buf_printf(&list, "</p:NewDescription><p:NewLeaseTime>%u</p:NewLeaseTime>"
				"</p:PortMappingEntry>",
				(unsigned)store_lease_left(call->ctx->store, m));
	}
	desc_buf_puts(&list, "</p:PortMappingList>");
	free(q.found);
	if (list.failed) {
		desc_buf_free(&list);
		return 501;
	}
	/* The list is an XML document carried in a string argument: escaped
	 * once more (IGD:2 2.3.23 A_ARG_TYPE_PortListing). */
	out_arg(call, "NewPortListing", list.p);
	desc_buf_free(&list);
	return 0;
}

/* ------------------------------------------------------------ WANCommonInterfaceConfig */

/* /sys/class/net/<ext>/statistics/<name>, mod 2^32 (ui4 counters wrap,
 * WANCommonInterfaceConfig 2.2.9). */
static uint32_t
ext_stat(const struct igdd_ctx *ctx, const char *name)
{
	char path[128], line[32];
	unsigned long long v = 0;
	FILE *f;

	if (str_printf(path, sizeof(path), "/sys/class/net/%s/statistics/%s",
		       ctx->cfg.ext_ifname, name) < 0 || (f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (parse_uint(line, 0, UINT64_MAX, &v) < 0)
			v = 0;
	}
	fclose(f);
	return (uint32_t)(v & 0xffffffffu);
}

static int
a_get_common_link_properties(struct igd_call *call)
{
	const struct igdd_ctx *ctx = call->ctx;

	out_arg(call, "NewWANAccessType", "Ethernet");
	out_u64(call, "NewLayer1UpstreamMaxBitRate", ctx->cfg.bitrate_up);
	out_u64(call, "NewLayer1DownstreamMaxBitRate", ctx->cfg.bitrate_down);
	out_arg(call, "NewPhysicalLinkStatus", ctx->ext_up ? "Up" : "Down");
	return 0;
}

/* GetTotalBytesSent and its three siblings: the output argument is "New"
 * plus the action name without "Get"; the table names the interface
 * counter (/sys/class/net/<ext_ifname>/statistics/<arg>). */
static int
a_total_counter(struct igd_call *call)
{
	char name[64];

	if (str_printf(name, sizeof(name), "New%s", call->action->name + strlen("Get")) < 0)
		return 501;
	out_u64(call, name, ext_stat(call->ctx, call->action->arg));
	return 0;
}

static int
a_get_enabled_for_internet(struct igd_call *call)
{
	out_arg(call, "NewEnabledForInternet", connected(call->ctx) ? "1" : "0");
	return 0;
}

/* ------------------------------------------------------------ Layer3Forwarding */

static int
default_service(const struct igdd_ctx *ctx, char *buf, size_t size)
{
	char u[40];

	if (uuid_embedded(ctx, 2, u, sizeof(u)) < 0)
		return -1;
	return str_printf(buf, size, "uuid:%s:WANConnectionDevice:%u,urn:upnp-org:serviceId:WANIPConn1",
			  u, desc_igd_version(ctx));
}

static int
a_get_default_connection_service(struct igd_call *call)
{
	char s[160];

	if (default_service(call->ctx, s, sizeof(s)) < 0)
		return 501;
	out_arg(call, "NewDefaultConnectionService", s);
	return 0;
}

static int
a_set_default_connection_service(struct igd_call *call)
{
	const char *v = soap_arg(call->env, "NewDefaultConnectionService");
	char u[40];

	/* There is one connection service; naming it is the only valid choice. */
	if (v == NULL || uuid_embedded(call->ctx, 2, u, sizeof(u)) < 0)
		return 402;
	if (strstr(v, u) == NULL || strstr(v, "urn:upnp-org:serviceId:WANIPConn1") == NULL)
		return 402;
	return 0;
}

/* ------------------------------------------------------------ dispatch */

const struct igd_action igd_actions[] = {
	{ SVC_WANIPC, "GetExternalIPAddress", 1, a_get_external_ip, false, NULL },
	{ SVC_WANIPC, "GetStatusInfo", 1, a_get_status_info, false, NULL },
	{ SVC_WANIPC, "GetConnectionTypeInfo", 1, a_get_connection_type_info, false, NULL },
	{ SVC_WANIPC, "SetConnectionType", 1, a_set_connection_type, false, NULL },
	{ SVC_WANIPC, "RequestConnection", 1, a_request_connection, false, NULL },
	{ SVC_WANIPC, "ForceTermination", 1, a_force_termination, false, NULL },
	{ SVC_WANIPC, "GetNATRSIPStatus", 1, a_get_nat_rsip_status, false, NULL },
	{ SVC_WANIPC, "AddPortMapping", 1, a_add_port_mapping, true, NULL },
	{ SVC_WANIPC, "DeletePortMapping", 1, a_delete_port_mapping, true, NULL },
	{ SVC_WANIPC, "GetGenericPortMappingEntry", 1, a_get_generic_entry, true, NULL },
	{ SVC_WANIPC, "GetSpecificPortMappingEntry", 1, a_get_specific_entry, true, NULL },
	{ SVC_WANIPC, "AddAnyPortMapping", 2, a_add_any_port_mapping, true, NULL },
	{ SVC_WANIPC, "DeletePortMappingRange", 2, a_delete_port_mapping_range, true, NULL },
	{ SVC_WANIPC, "GetListOfPortMappings", 2, a_get_list_of_port_mappings, true, NULL },
	{ SVC_WANCFG, "GetCommonLinkProperties", 1, a_get_common_link_properties, false, NULL },
	{ SVC_WANCFG, "GetTotalBytesSent", 1, a_total_counter, false, "tx_bytes" },
	{ SVC_WANCFG, "GetTotalBytesReceived", 1, a_total_counter, false, "rx_bytes" },
	{ SVC_WANCFG, "GetTotalPacketsSent", 1, a_total_counter, false, "tx_packets" },
	{ SVC_WANCFG, "GetTotalPacketsReceived", 1, a_total_counter, false, "rx_packets" },
	{ SVC_WANCFG, "GetEnabledForInternet", 1, a_get_enabled_for_internet, false, NULL },
	{ SVC_L3F, "GetDefaultConnectionService", 1, a_get_default_connection_service, false, NULL },
	{ SVC_L3F, "SetDefaultConnectionService", 1, a_set_default_connection_service, false, NULL },
};
const size_t igd_n_actions = ARRAY_SIZE(igd_actions);

int
igd_dispatch(struct igd_call *call, const char *action)
{
	unsigned ver = desc_service_version(call->ctx, call->svc);
	const struct igd_action *a = NULL;
	size_t i;

	for (i = 0; i < igd_n_actions && a == NULL; i++)
		if (igd_actions[i].svc == call->svc->id && strcmp(igd_actions[i].name, action) == 0)
			a = &igd_actions[i];
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

/* ------------------------------------------------------------ eventing */

static void
prop(struct desc_buf *b, const char *name, const char *value)
{
	desc_buf_printf(b, "<e:property><%s>", name);
	desc_buf_escape(b, value, strlen(value));
	desc_buf_printf(b, "</%s></e:property>", name);
}

void
igd_evented_vars(struct igdd_ctx *ctx, enum desc_svc svc, struct desc_buf *b)
{
	char s[160];

	switch (svc) {
	case SVC_WANIPC:
		prop(b, "PossibleConnectionTypes", "IP_Routed");
		prop(b, "ConnectionStatus", connected(ctx) ? "Connected" : "Disconnected");
		s[0] = '\0';
		if (ctx->ext_addr.s_addr != 0)
			inet_ntop(AF_INET, &ctx->ext_addr, s, sizeof(s));
		prop(b, "ExternalIPAddress", s);
		str_printf(s, sizeof(s), "%zu", ctx->store ? store_count(ctx->store) : (size_t)0);
		prop(b, "PortMappingNumberOfEntries", s);
		if (desc_igd_version(ctx) >= 2) {
			str_printf(s, sizeof(s), "%u", (unsigned)ctx->system_update_id);
			prop(b, "SystemUpdateID", s);
		}
		break;
	case SVC_WANCFG:
		prop(b, "PhysicalLinkStatus", ctx->ext_up ? "Up" : "Down");
		prop(b, "EnabledForInternet", connected(ctx) ? "1" : "0");
		break;
	case SVC_L3F:
		if (default_service(ctx, s, sizeof(s)) == 0)
			prop(b, "DefaultConnectionService", s);
		break;
	default:
		break;
	}
}

/* The store changed: SystemUpdateID counts changes of the mapping set
 * (IGD:2 WANIPConnection 2.3.25), and subscribers hear about it. */
static void
store_changed(struct igdd_ctx *ctx, const struct mapping *m, bool added)
{
	(void)m;
	(void)added;
	ctx->system_update_id++;
	events_changed(ctx, SVC_WANIPC);
}

void
igd_init(struct igdd_ctx *ctx)
{
	if (ctx->store != NULL)
		store_set_change_cb(ctx->store, store_changed);
}
