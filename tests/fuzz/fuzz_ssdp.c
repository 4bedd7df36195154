/* fuzz_ssdp.c - libFuzzer harness for the SSDP datagram parser and the
 * search-target matcher (the answers are built but not sent), and the
 * IPv6 path: the source check and the LOCATION host chosen for a sender
 * whose address is the input's first 16 bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctx.h"
#include "desc.h"
#include "ssdp.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sink(const char *st, const char *usn, void *arg)
{
	size_t *n = arg;

	*n += strlen(st) + strlen(usn);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct igdd_ctx ctx;
	struct ssdp_request req;
	size_t n = 0;

	if (ctx.uuid[0] == '\0') {
		str_copy(ctx.uuid, sizeof(ctx.uuid), "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b");
		ctx.n_lan = 1;
		ctx.lan[0].ifindex = 2;
		addr_parse("2001:db8:1::1", &ctx.lan[0].addr6[0].addr);
		ctx.lan[0].addr6[0].plen = 64;
		addr_parse("fe80::1", &ctx.lan[0].addr6[1].addr);
		ctx.lan[0].addr6[1].plen = 64;
		ctx.lan[0].n_addr6 = 2;
	}
	if (size >= 16) {
		struct in6_addr from;
		char host[64];

		memcpy(&from, data, 16);
		if (ctx_lan_for_addr6(&ctx, &from, size & 3) != NULL)
			ssdp_location_host6(&ctx, &ctx.lan[0], &from, false, host, sizeof(host));
		ssdp_location_host6(&ctx, &ctx.lan[0], NULL, size & 1, host, sizeof(host));
	}
	if (ssdp_parse((const char *)data, size, &req) == 0) {
		ctx.cfg.force_igd_desc_v1 = size & 1;
		ssdp_match(&ctx, desc_igd_version_for(&ctx, req.user_agent, req.user_agent_len),
			   req.st, req.st_len, sink, &n);
	}
	return 0;
}
