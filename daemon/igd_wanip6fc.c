/* igd_wanip6fc.c - WANIPv6FirewallControl:1 (IGD:2, WANConnectionDevice):
 * IPv6 pinholes through the store, with the kernel's per-pinhole counters.
 *
 * Errors as the service defines them: 402 bad arguments, 606 not the
 * client's own pinhole or address (secure mode; permission rules), 701
 * no room, 702 no IPv6 firewall to open, 703 inbound pinholes not allowed,
 * 704 no such UniqueID, 705 a protocol other than TCP/UDP, 706 internal
 * port 0, 707 protocol 65535 (any), 708 no internal client, 709 nothing
 * received through the pinhole yet (CheckPinholeWorking). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "desc.h"
#include "igd.h"
#include "soap.h"
#include "store.h"
#include "util.h"

#define LEASE_MAX	86400	/* A_ARG_TYPE_LeaseTime's range is 1..86400 */
#define PROTO_ANY	65535

/* FirewallEnabled: is inbound IPv6 filtered at all (else a pinhole opens
 * nothing)?  InboundPinholeAllowed: may control points open pinholes. */
static bool
fw_enabled(const struct igdd_ctx *ctx)
{
	return ctx->store != NULL && store_pin_firewall(ctx->store);
}

static bool
inbound_allowed(const struct igdd_ctx *ctx)
{
	return ctx->cfg.enable_upnp && !ctx->cfg.ipv6_disable;
}

/* 702 / 703 before any pinhole action, as the service asks. */
static int
check_status(struct igd_call *call)
{
	if (!fw_enabled(call->ctx))
		return 702;
	return inbound_allowed(call->ctx) ? 0 : 703;
}

/* An IPv6 address argument: absent, empty or "*" is the wildcard (any =
 * true), else IPv6 text (402 otherwise, an IPv4 address included). */
static int
arg_v6(struct igd_call *call, const char *name, struct in6_addr *a, bool *any)
{
	const char *v = soap_arg(call->env, name);

	memset(a, 0, sizeof(*a));
	*any = v == NULL || v[0] == '\0' || strcmp(v, "*") == 0;
	if (*any)
		return 0;
	if (inet_pton(AF_INET6, v, a) != 1 || addr_is_v4(a))
		return 402;
	return 0;
}

/* Protocol (ui2): 65535 = any (707), TCP and UDP served (705); the names
 * TCP and UDP are taken too (upnpc -G sends them). */
static int
arg_protocol(struct igd_call *call, uint8_t *proto)
{
	const char *v = soap_arg(call->env, "Protocol");
	uint16_t p;

	if (v != NULL && proto_parse(v, proto) == 0)
		return 0;
	if (igd_arg_u16(call, "Protocol", 0, &p) != 0)
		return 402;
	if (p == PROTO_ANY)
		return 707;
	if (p != IPPROTO_TCP && p != IPPROTO_UDP)
		return 705;
	*proto = (uint8_t)p;
	return 0;
}

/* The flow arguments of AddPinhole and GetOutboundPinholeTimeout. */
struct flow {
	struct in6_addr rh, ic;
	bool rh_any, ic_any;
	uint16_t rport, iport;
	uint8_t proto;
};

static int
arg_flow(struct igd_call *call, struct flow *f)
{
	if (arg_v6(call, "RemoteHost", &f->rh, &f->rh_any) != 0 ||
	    arg_v6(call, "InternalClient", &f->ic, &f->ic_any) != 0 ||
	    igd_arg_u16(call, "RemotePort", 0, &f->rport) != 0 ||
	    igd_arg_u16(call, "InternalPort", 0, &f->iport) != 0)
		return 402;
	return arg_protocol(call, &f->proto);
}

static int
arg_lease(struct igd_call *call, const char *name, uint32_t *lease)
{
	const char *v = soap_arg(call->env, name);

	return v == NULL || parse_u32(v, 1, LEASE_MAX, lease) < 0 ? 402 : 0;
}

/* The pinhole named by UniqueID, which the requester may manage. */
static int
arg_pinhole(struct igd_call *call, struct mapping **m, struct mapping_owner *who)
{
	uint16_t uid;

	if (igd_arg_u16(call, "UniqueID", 0, &uid) != 0)
		return 402;
	if ((*m = store_pin_find(call->ctx->store, uid)) == NULL)
		return 704;
	memset(who, 0, sizeof(*who));
	who->addr = call->requester;
	who->proto = OWNER_UPNP;
	return store_pin_may(call->ctx->store, *m, who) == ST_OK ? 0 : 606;
}

/* The store's verdict as this service's error. */
static int
error_from_store(enum store_result r)
{
	switch (r) {
	case ST_OK:
		return 0;
	case ST_E_INVAL:
		return 402;
	case ST_E_NOT_FOUND:
		return 704;
	case ST_E_QUOTA_CLIENT:
	case ST_E_QUOTA_TOTAL:
	case ST_E_CONFLICT:
		return 701;
	case ST_E_PERMISSION:
	case ST_E_SECURE:
	case ST_E_NOT_OWNER:
	case ST_E_NOT_LAN:
	case ST_E_NONCE:
		return 606;
	default:
		return 501;
	}
}

static int
a_get_firewall_status(struct igd_call *call)
{
	igd_out_arg(call, "FirewallEnabled", fw_enabled(call->ctx) ? "1" : "0");
	igd_out_arg(call, "InboundPinholeAllowed", inbound_allowed(call->ctx) ? "1" : "0");
	return 0;
}

/* The kernel's idle timeout of an established outbound flow, in seconds:
 * how long the firewall keeps an outbound pinhole open after its last
 * packet (conntrack's per-netns sysctls). */
static int
ct_timeout(uint8_t proto, uint32_t *secs)
{
	const char *name = proto == IPPROTO_TCP ? "nf_conntrack_tcp_timeout_established"
						: "nf_conntrack_udp_timeout_stream";
	char path[96], line[32];
	FILE *f;
	int rc = -1;

	if (str_printf(path, sizeof(path), "/proc/sys/net/netfilter/%s", name) < 0 ||
	    (f = fopen(path, "re")) == NULL)
		return -1;
	if (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		rc = parse_u32(line, 0, UINT32_MAX, secs);
	}
	fclose(f);
	return rc;
}

static int
a_get_outbound_pinhole_timeout(struct igd_call *call)
{
	struct flow f;
	uint32_t secs;
	int r;

	if ((r = check_status(call)) != 0 || (r = arg_flow(call, &f)) != 0)
		return r;
	if (ct_timeout(f.proto, &secs) < 0)
		return 501;
	igd_out_u64(call, "OutboundPinholeTimeout", secs);
	return 0;
}

static int
a_add_pinhole(struct igd_call *call)
{
	struct mapping_owner owner = { .addr = call->requester, .proto = OWNER_UPNP };
	struct mapping req, *m = NULL;
	struct flow f;
	uint32_t lease;
	char desc[48];
	int r;

	if ((r = check_status(call)) != 0 || (r = arg_flow(call, &f)) != 0)
		return r;
	if (f.ic_any)
		return 708;
	if (f.iport == 0)
		return 706;
	if (arg_lease(call, "LeaseTime", &lease) != 0)
		return 402;
	/* IGD:2 recommends ports >= 1024 for unauthenticated control points
	 * (miniupnpd refuses the others: 606). */
	if (f.iport < 1024)
		return 606;
	memset(&req, 0, sizeof(req));
	req.proto = f.proto;
	req.iaddr = &f.ic;
	req.iport = f.iport;
	req.rhost = &f.rh;
	req.rport = f.rport;
	req.enabled = true;
	req.owner = &owner;
	if (str_printf(desc, sizeof(desc), "UPnP pinhole %u %s", (unsigned)f.iport,
		       proto_name(f.proto)) == 0)
		req.desc = desc;
	/* The same pinhole again extends it and keeps its UniqueID (the
	 * service's rule; the store's refresh). */
	r = error_from_store(store_pin_add(call->ctx->store, &req, lease, 0, &m));
	if (r != 0)
		return r;
	igd_out_u64(call, "UniqueID", m->uid);
	return 0;
}

static int
a_update_pinhole(struct igd_call *call)
{
	struct mapping_owner who;
	struct mapping *m;
	uint32_t lease;
	int r;

	if ((r = check_status(call)) != 0 || (r = arg_pinhole(call, &m, &who)) != 0)
		return r;
	if (arg_lease(call, "NewLeaseTime", &lease) != 0)
		return 402;
	return error_from_store(store_pin_update(call->ctx->store, m, lease, &who));
}

static int
a_delete_pinhole(struct igd_call *call)
{
	struct mapping_owner who;
	struct mapping *m;
	int r;

	if ((r = check_status(call)) != 0 || (r = arg_pinhole(call, &m, &who)) != 0)
		return r;
	return error_from_store(store_pin_del(call->ctx->store, m, &who));
}

/* GetPinholePackets and CheckPinholeWorking: the kernel element's counter
 * (packets let in through the pinhole). */
static int
pinhole_packets(struct igd_call *call, uint64_t *packets)
{
	struct mapping_owner who;
	struct mapping *m;
	int r;

	if ((r = check_status(call)) != 0 || (r = arg_pinhole(call, &m, &who)) != 0)
		return r;
	return store_pin_packets(call->ctx->store, m, packets) < 0 ? 501 : 0;
}

static int
a_get_pinhole_packets(struct igd_call *call)
{
	uint64_t packets;
	int r = pinhole_packets(call, &packets);

	if (r != 0)
		return r;
	igd_out_u64(call, "PinholePackets", packets > UINT32_MAX ? UINT32_MAX : packets);	/* ui4 */
	return 0;
}

static int
a_check_pinhole_working(struct igd_call *call)
{
	uint64_t packets;
	int r = pinhole_packets(call, &packets);

	if (r != 0)
		return r;
	if (packets == 0)
		return 709;
	igd_out_arg(call, "IsWorking", "1");
	return 0;
}

/* FirewallEnabled and InboundPinholeAllowed: evented, and what
 * QueryStateVariable reads. */
static int
var_fw_enabled(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_copy(buf, size, fw_enabled(ctx) ? "1" : "0");
}

static int
var_inbound_allowed(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_copy(buf, size, inbound_allowed(ctx) ? "1" : "0");
}

static const struct igd_var ip6fc_vars[] = {
	{ "FirewallEnabled", 1, true, var_fw_enabled, NULL },
	{ "InboundPinholeAllowed", 1, true, var_inbound_allowed, NULL },
};

static const struct igd_action ip6fc_actions[] = {
	{ "GetFirewallStatus", 1, a_get_firewall_status, false, NULL },
	{ "GetOutboundPinholeTimeout", 1, a_get_outbound_pinhole_timeout, false, NULL },
	{ "AddPinhole", 1, a_add_pinhole, true, NULL },
	{ "UpdatePinhole", 1, a_update_pinhole, true, NULL },
	{ "DeletePinhole", 1, a_delete_pinhole, true, NULL },
	{ "GetPinholePackets", 1, a_get_pinhole_packets, true, NULL },
	{ "CheckPinholeWorking", 1, a_check_pinhole_working, true, NULL },
};

const struct igd_service igd_svc_wanip6fc = {
	SVC_WANIP6FC, ip6fc_actions, ARRAY_SIZE(ip6fc_actions), ip6fc_vars, ARRAY_SIZE(ip6fc_vars),
};
