/* fuzz_http.c - libFuzzer harness for the HTTP request parser, the chunked
 * body decoder, the Host check (IPv4 and IPv6 forms, zones), the peer
 * check (an IPv6 peer taken from the input's first 16 bytes), the GENA
 * header helpers and the admin page's request helpers it feeds (cookie,
 * origin, entity tag, coding, bearer token, query, form body); the input
 * is read as pipelined requests on a kept-alive connection. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin_parse.h"
#include "ctx.h"
#include "events.h"
#include "http.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a connection receives it: in two reads, the first of split
 * bytes, each into a heap buffer of just the bytes held (so ASan sees a
 * read past them), a chunked body decoded in place.  *bufp: the buffer,
 * for the caller to free; *lenp: the bytes it holds then. */
static int
feed(const uint8_t *data, size_t size, size_t split, size_t header_max, size_t body_max,
     struct http_request *req, char **bufp, size_t *lenp)
{
	struct http_chunked st = { 0 };
	size_t len = split;
	char *buf = malloc(split > 0 ? split : 1), *nb;
	int r;

	*bufp = buf;
	*lenp = 0;
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
	if (r == HTTP_PARSE_DONE && req->total_len > len)
		__builtin_trap();	/* the request lies inside the buffer */
	*lenp = len;
	return r;
}

/* What the admin page reads of a request (admin.c's handlers). */
static void
use_admin(const struct http_request *req)
{
	struct admin_form form;
	const char *v;
	size_t pos = 0, vl, n = 0;
	uint64_t since;
	char err[128], *buf;

	(void)admin_query_u64(req->path, req->path_len, "since", &since);
	while (req->cookie.present && n++ < 64 &&
	       admin_cookie_next(req->cookie.p, req->cookie.len, &pos, "igdd_sid", &v, &vl))
		if (v < req->cookie.p || v + vl > req->cookie.p + req->cookie.len)
			__builtin_trap();
	if (req->origin.present && req->host.present)
		(void)admin_same_origin(req->origin.p, req->origin.len, req->host.p, req->host.len,
					false);
	if (req->referer.present && req->host.present)
		(void)admin_same_origin(req->referer.p, req->referer.len, req->host.p, req->host.len,
					true);
	if (req->if_none_match.present)
		(void)admin_etag_match(req->if_none_match.p, req->if_none_match.len, "\"1-2\"");
	if (req->accept_encoding.present)
		(void)admin_accepts_gzip(req->accept_encoding.p, req->accept_encoding.len);
	if (req->authorization.present)
		(void)admin_bearer(req->authorization.p, req->authorization.len, &v, &vl);
	if (req->body_len > 0 && (buf = malloc(req->body_len + 2)) != NULL) {
		(void)admin_form_parse(req->body, req->body_len, buf, req->body_len + 2, &form, err,
				       sizeof(err));
		free(buf);
	}
}

/* A LAN 192.168.77.1/24, 2001:db8:1::1/64 and fe80::1/64, ifindex 2. */
static struct igdd_ctx *
fuzz_ctx(void)
{
	static struct igdd_ctx ctx;

	if (ctx.n_lan == 0) {
		ctx.n_lan = 1;
		ctx.lan[0].ifindex = 2;
		ctx.lan[0].addr.s_addr = htonl(0xc0a84d01);
		ctx.lan[0].mask.s_addr = htonl(0xffffff00);
		addr_parse("2001:db8:1::1", &ctx.lan[0].addr6[0].addr);
		ctx.lan[0].addr6[0].plen = 64;
		addr_parse("fe80::1", &ctx.lan[0].addr6[1].addr);
		ctx.lan[0].addr6[1].plen = 64;
		ctx.lan[0].n_addr6 = 2;
	}
	return &ctx;
}

/* One request parsed whole: the helpers that take its headers. */
static void
use_request(const struct http_request *req)
{
	struct sockaddr_in a;
	char path[256];

	(void)http_wants_keep_alive(req);
	if (req->host.present)
		http_host_ok(fuzz_ctx(), req->host.p, req->host.len, 5000);
	if (req->callback.present)
		events_parse_callback(req->callback.p, req->callback.len, &a, path, sizeof(path));
	if (req->timeout.present)
		events_parse_timeout(req->timeout.p, req->timeout.len);
	use_admin(req);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	char *buf, *rest = NULL;
	size_t len;
	unsigned n;
	int r;

	if (size >= 17) {
		struct sockaddr_in6 p6 = { .sin6_family = AF_INET6 };

		memcpy(&p6.sin6_addr, data, 16);
		(void)http_peer_ok(fuzz_ctx(), (struct sockaddr *)&p6, data[16] & 3);
	}
	/* small limits too, so that the limit paths are reached; the split
	 * point comes from the last byte */
	(void)feed(data, size, size > 0 ? (size_t)data[size - 1] * size / 255 : 0, 256, 512, &req, &buf,
		   &len);
	free(buf);
	/* Then as a kept-alive connection does: after each whole request,
	 * what follows it in the buffer (a chunked body decoded in place
	 * before it) is the next request, parsed afresh. */
	for (n = 0; n < 64; n++) {
		size_t left;

		r = feed(data, size, size, HTTP_HEADER_MAX, HTTP_BODY_MAX, &req, &buf, &len);
		if (r != HTTP_PARSE_DONE) {
			free(buf);
			break;
		}
		use_request(&req);
		free(rest);
		rest = NULL;
		/* the rest of the input as the server keeps it: from total_len */
		left = len - req.total_len;
		if (left == 0 || req.total_len == 0 || (rest = malloc(left)) == NULL) {
			free(buf);
			break;
		}
		memcpy(rest, buf + req.total_len, left);
		free(buf);
		data = (const uint8_t *)rest;
		size = left;
	}
	free(rest);
	return 0;
}
