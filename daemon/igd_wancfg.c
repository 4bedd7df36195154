/* igd_wancfg.c - WANCommonInterfaceConfig:1: link properties and the
 * external interface's counters. */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "desc.h"
#include "igd.h"
#include "soap.h"
#include "store.h"
#include "util.h"

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

	igd_out_arg(call, "NewWANAccessType", "Ethernet");
	igd_out_u64(call, "NewLayer1UpstreamMaxBitRate", ctx->cfg.bitrate_up);
	igd_out_u64(call, "NewLayer1DownstreamMaxBitRate", ctx->cfg.bitrate_down);
	igd_out_arg(call, "NewPhysicalLinkStatus", ctx->ext_up ? "Up" : "Down");
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
	igd_out_u64(call, name, ext_stat(call->ctx, call->action->arg));
	return 0;
}

static int
a_get_enabled_for_internet(struct igd_call *call)
{
	igd_out_arg(call, "NewEnabledForInternet", igd_connected(call->ctx) ? "1" : "0");
	return 0;
}

/* --- state variables (WANCommonInterfaceConfig 2.2) --- */

static int
v_link_status(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_copy(buf, size, ctx->ext_up ? "Up" : "Down");
}

static int
v_enabled(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_copy(buf, size, igd_connected(ctx) ? "1" : "0");
}

static int
v_up(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_printf(buf, size, "%u", (unsigned)ctx->cfg.bitrate_up);
}

static int
v_down(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)
{
	(void)ver;
	return str_printf(buf, size, "%u", (unsigned)ctx->cfg.bitrate_down);
}

/* The interface counters, by the name of their /sys statistics file. */
#define V_STAT(fn, stat)						\
static int								\
fn(const struct igdd_ctx *ctx, unsigned ver, char *buf, size_t size)	\
{									\
	(void)ver;							\
	return str_printf(buf, size, "%u", (unsigned)ext_stat(ctx, stat)); \
}
V_STAT(v_tx_bytes, "tx_bytes")
V_STAT(v_rx_bytes, "rx_bytes")
V_STAT(v_tx_packets, "tx_packets")
V_STAT(v_rx_packets, "rx_packets")

static const struct igd_var wancfg_vars[] = {
	{ "PhysicalLinkStatus", 1, true, v_link_status, NULL },
	{ "EnabledForInternet", 1, true, v_enabled, NULL },
	{ "WANAccessType", 1, false, NULL, "Ethernet" },
	{ "Layer1UpstreamMaxBitRate", 1, false, v_up, NULL },
	{ "Layer1DownstreamMaxBitRate", 1, false, v_down, NULL },
	{ "TotalBytesSent", 1, false, v_tx_bytes, NULL },
	{ "TotalBytesReceived", 1, false, v_rx_bytes, NULL },
	{ "TotalPacketsSent", 1, false, v_tx_packets, NULL },
	{ "TotalPacketsReceived", 1, false, v_rx_packets, NULL },
};

static const struct igd_action wancfg_actions[] = {
	{ "GetCommonLinkProperties", 1, a_get_common_link_properties, false, NULL },
	{ "GetTotalBytesSent", 1, a_total_counter, false, "tx_bytes" },
	{ "GetTotalBytesReceived", 1, a_total_counter, false, "rx_bytes" },
	{ "GetTotalPacketsSent", 1, a_total_counter, false, "tx_packets" },
	{ "GetTotalPacketsReceived", 1, a_total_counter, false, "rx_packets" },
	{ "GetEnabledForInternet", 1, a_get_enabled_for_internet, false, NULL },
};

const struct igd_service igd_svc_wancfg = {
	SVC_WANCFG, wancfg_actions, ARRAY_SIZE(wancfg_actions),
	wancfg_vars, ARRAY_SIZE(wancfg_vars),
};
