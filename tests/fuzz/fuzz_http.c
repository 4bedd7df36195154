/* fuzz_http.c - libFuzzer harness for the HTTP request parser, the chunked
 * body decoder, the Host check (IPv4 and IPv6 forms, zones), the peer
 * check (an IPv6 peer taken from the input's first 16 bytes) and the GENA
 * header helpers it feeds. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "events.h"
#include "http.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a connection receives it: in two reads, the first of split
 * bytes, each into a heap buffer of just the bytes held (so ASan sees a
 * read past them), a chunked body decoded in place.  *bufp: the buffer,
 * for the caller to free. */
static int
feed(const uint8_t *data, size_t size, size_t split, size_t header_max, size_t body_max,
     struct http_request *req, char **bufp)
{
	struct http_chunked st = { 0 };
	size_t len = split;
	char *buf = malloc(split > 0 ? split : 1), *nb;
	int r;

	*bufp = buf;
	if (buf == NULL)
		return -1;
	memcpy(buf, data, split);
	r = http_feed_request(&st, buf, &len, header_max, body_max, req);
	if (r == HTTP_PARSE_MORE && split < size) {
		nb = realloc(buf, len + size - split);
		if (nb == NULL)
			return -1;
		*bufp = buf = nb;
		memcpy(buf + len, data + split, size - split);
		len += size - split;
		r = http_feed_request(&st, buf, &len, header_max, body_max, req);
	}
	if (r == HTTP_PARSE_DONE &&
	    (req->body_len > body_max ||
	     (req->body_len > 0 && (req->body < buf || req->body + req->body_len > buf + len))))
		__builtin_trap();	/* the body must lie inside the buffer, within the limit */
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct igdd_ctx ctx;
	struct http_request req;
	struct sockaddr_in a;
	char path[256], *buf;
	int r;

	ctx.n_lan = 1;
	ctx.lan[0].ifindex = 2;
	ctx.lan[0].addr.s_addr = htonl(0xc0a84d01);
	ctx.lan[0].mask.s_addr = htonl(0xffffff00);
	ctx.lan[0].n_addr6 = 2;
	ctx.lan[0].addr6[0].addr.s6_addr[0] = 0x20;	/* 2001:db8:1::1/64 */
	ctx.lan[0].addr6[0].addr.s6_addr[1] = 0x01;
	ctx.lan[0].addr6[0].addr.s6_addr[2] = 0x0d;
	ctx.lan[0].addr6[0].addr.s6_addr[3] = 0xb8;
	ctx.lan[0].addr6[0].addr.s6_addr[5] = 0x01;
	ctx.lan[0].addr6[0].addr.s6_addr[15] = 0x01;
	ctx.lan[0].addr6[0].plen = 64;
	ctx.lan[0].addr6[1].addr.s6_addr[0] = 0xfe;	/* fe80::1/64 */
	ctx.lan[0].addr6[1].addr.s6_addr[1] = 0x80;
	ctx.lan[0].addr6[1].addr.s6_addr[15] = 0x01;
	ctx.lan[0].addr6[1].plen = 64;
	if (size >= 17) {
		struct sockaddr_in6 p6 = { .sin6_family = AF_INET6 };

		memcpy(&p6.sin6_addr, data, 16);
		(void)http_peer_ok(&ctx, (struct sockaddr *)&p6, data[16] & 3);
	}
	/* small limits too, so that the limit paths are reached; the split
	 * point comes from the last byte */
	(void)feed(data, size, size > 0 ? (size_t)data[size - 1] * size / 255 : 0, 256, 512, &req, &buf);
	free(buf);
	r = feed(data, size, size, HTTP_HEADER_MAX, HTTP_BODY_MAX, &req, &buf);
	if (r != HTTP_PARSE_DONE)
		goto out;
	if (req.host.present)
		http_host_ok(&ctx, req.host.p, req.host.len, 5000);
	if (req.callback.present)
		events_parse_callback(req.callback.p, req.callback.len, &a, path, sizeof(path));
	if (req.timeout.present)
		events_parse_timeout(req.timeout.p, req.timeout.len);
out:
	free(buf);
	return 0;
}
