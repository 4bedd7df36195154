/* fuzz_upstream.c - the relay's client-side parsers of what an upstream
 * gateway sends (it is as untrusted as a LAN client): PCP and NAT-PMP
 * responses, STUN responses, and the default-gateway reader of
 * /proc/net/route.
 *
 * Input: one selector byte (modulo the parsers), then the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iface.h"
#include "log.h"
#include "pmp_proto.h"
#include "stun.h"
#include "upstream_natpmp.h"
#include "upstream_pcp.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
pcp(const uint8_t *d, size_t n)
{
	struct uppcp_resp r;

	if (uppcp_parse(d, n, &r) == 0 &&
	    (n < PCP_HDR_LEN || n > PCP_MAX_LEN || n % 4 != 0 || r.opcode > 127))
		abort();
}

static void
natpmp(const uint8_t *d, size_t n)
{
	struct upnatpmp_resp r;

	if (upnatpmp_parse(d, n, &r) == 0 && (n < 8 || (r.result == 0 && r.op > 2)))
		abort();
}

static void
route(const uint8_t *d, size_t n)
{
	struct in_addr gw;

	/* a bounded copy: the parser is given a length, never a NUL */
	char *text = malloc(n ? n : 1);

	if (text == NULL)
		return;
	memcpy(text, d, n);
	if (iface_parse_route(text, n, "wan0", &gw) == 0 && gw.s_addr == 0)
		abort();
	free(text);
}

/* STUN: the transaction id is the input's own (bytes 8..19), so that
 * the attributes are reached. */
static void
stun(const uint8_t *d, size_t n)
{
	static const uint8_t zero[12];
	struct stun_resp r;

	if (stun_parse_response(d, n, n >= 20 ? d + 8 : zero, &r) == 0 &&
	    (n < STUN_HDR_LEN || (n - STUN_HDR_LEN) % 4 != 0 || (r.success && !r.has_mapped)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const parsers[])(const uint8_t *, size_t) = { pcp, natpmp, route, stun };

	log_init("fuzz", true, -1);
	if (size < 1)
		return 0;
	parsers[data[0] % ARRAY_SIZE(parsers)](data + 1, size - 1);
	return 0;
}
