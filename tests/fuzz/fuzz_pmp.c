/* fuzz_pmp.c - libFuzzer harness for the 5351 datagram handler
 * (pmp_handle -> natpmp_handle / pcp_handle) over the real store with the
 * unit tests' fake backend (tests/unit/fake_fw.c).
 *
 * Input: one selector byte, then the datagram.  Selector bits: 0 source
 * C1/C2, 1 a source that mismatches typical client fields, 2 allow
 * THIRD_PARTY, 3 no external address, 4 an IPv6 source (PCP over IPv6:
 * pinholes; bits 0-1 then pick a LAN host, another one, a link-local one
 * or an outsider).  The store persists across inputs
 * (so refresh/delete/nonce paths see earlier mappings) and is recreated
 * when it grows. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "fw.h"
#include "tests/unit/fake_fw.h"
#include "pmp.h"
#include "store.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct igdd_ctx *ctx;
static struct fake_fw fw;
static struct in_addr ext;

static void
setup(void)
{
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL || loop_init(&ctx->loop) < 0)
		abort();
	conf_defaults(&ctx->cfg);
	ctx->cfg.lease_file[0] = '\0';
	ctx->cfg.enable_natpmp = true;
	ctx->cfg.min_lifetime = 120;
	ctx->cfg.max_lifetime = 86400;
	ctx->cfg.max_mappings = 128;
	ctx->cfg.max_mappings_per_client = 64;
	ctx->n_lan = 1;
	str_copy(ctx->lan[0].name, sizeof(ctx->lan[0].name), "lan0");
	ctx->lan[0].ifindex = 2;
	inet_pton(AF_INET, "192.168.1.1", &ctx->lan[0].addr);
	inet_pton(AF_INET, "255.255.255.0", &ctx->lan[0].mask);
	inet_pton(AF_INET6, "2001:db8:1::1", &ctx->lan[0].addr6[0].addr);
	ctx->lan[0].addr6[0].plen = 64;
	inet_pton(AF_INET6, "fe80::1", &ctx->lan[0].addr6[1].addr);
	ctx->lan[0].addr6[1].plen = 64;
	ctx->lan[0].n_addr6 = 2;
	inet_pton(AF_INET, "203.0.113.5", &ext);
	ctx->start_mono = time_mono_ms();
	ctx->epoch_mono = ctx->start_mono;
	ctx->fw_ops = &fake_fw_ops;
	ctx->fw = fake_fw_handle(&fw);
}

static void
new_store(void)
{
	if (ctx->store != NULL)
		store_free(ctx->store);
	fake_fw_reset(&fw);
	ctx->store = store_new(ctx, ctx->fw_ops, ctx->fw);
	if (ctx->store == NULL)
		abort();
	/* No /proc/net scans per input. */
	store_set_port_in_use_cb(ctx->store, NULL, NULL);
	/* nor neighbour-table dumps (secure mode's same-device check) */
	store_set_mac_cb(ctx->store, NULL, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const sources[] = { "192.168.1.10", "192.168.1.11",
					       "192.168.1.77", "10.9.9.9",
					       "2001:db8:1::10", "2001:db8:1::11",
					       "fe80::10", "2001:db8:9::9" };
	uint8_t resp[PMP_MAX_DATAGRAM];
	struct in6_addr from;
	size_t resplen = 12345;
	uint8_t sel;
	int rc;

	if (ctx == NULL)
		setup();
	if (ctx->store == NULL || store_count(ctx->store) + store_pin_count(ctx->store) > 100)
		new_store();
	if (size < 1)
		return 0;
	sel = data[0];
	if (addr_parse(sources[(sel & 3) | (sel & 0x10 ? 4 : 0)], &from) < 0)
		abort();
	ctx->cfg.pcp_allow_thirdparty = (sel & 4) != 0;
	ctx->ext_addr.s_addr = (sel & 8) ? 0 : ext.s_addr;
	rc = pmp_handle(ctx, &from, data + 1, size - 1, resp, &resplen);
	if (rc == 1 && (resplen == 0 || resplen > PMP_MAX_DATAGRAM))
		abort();
	if (rc != 1 && resplen != 0)
		abort();
	return 0;
}
