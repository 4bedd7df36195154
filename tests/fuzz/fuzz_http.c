/* fuzz_http.c - libFuzzer harness for the HTTP request parser, the Host
 * check and the GENA header helpers it feeds. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ctx.h"
#include "events.h"
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct igdd_ctx ctx;
	struct http_request req;
	struct sockaddr_in a;
	char path[256];
	int r;

	ctx.n_lan = 1;
	ctx.lan[0].addr.s_addr = htonl(0xc0a84d01);
	/* small limits too, so that the limit paths are reached */
	r = http_parse_request((const char *)data, size, 256, 512, &req);
	(void)r;
	r = http_parse_request((const char *)data, size, HTTP_HEADER_MAX, HTTP_BODY_MAX, &req);
	if (r != HTTP_PARSE_DONE)
		return 0;
	if (req.body_len > 0 && req.body + req.body_len > (const char *)data + size)
		__builtin_trap();	/* the body must lie inside the input */
	if (req.host.present)
		http_host_ok(&ctx, req.host.p, req.host.len, 5000);
	if (req.callback.present)
		events_parse_callback(req.callback.p, req.callback.len, &a, path, sizeof(path));
	if (req.timeout.present)
		events_parse_timeout(req.timeout.p, req.timeout.len);
	return 0;
}
