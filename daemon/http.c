/* http.c - a small non-blocking HTTP/1.1 server on the event loop, bound to
 * the LAN addresses only.  It knows no protocol: modules register routes
 * (a path, the methods it takes, a handler), and the UPnP descriptions,
 * SOAP control and GENA are such modules.  Connections persist (HTTP/1.1
 * keep-alive, pipelined requests answered in order) unless the client says
 * "Connection: close" or speaks HTTP/1.0 without "Connection: keep-alive",
 * up to HTTP_MAX_REQUESTS each; every limit answers 4xx/5xx and closes.  A
 * body comes with a Content-Length or chunked, decoded in the input buffer
 * as it arrives. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "config.h"
#include "ctx.h"
#include "http.h"
#include "log.h"
#include "util.h"

/* ---------------------------------------------------------------- parser */

static bool
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* End of the line starting at p (position of '\n'), or NULL. */
static const char *
line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* End of the text of the line p..e (e: its '\n'): before a CR there. */
static const char *
line_text_end(const char *p, const char *e)
{
	return e > p && e[-1] == '\r' ? e - 1 : e;
}

static void
set_hdr(struct http_hdr *h, const char *v, size_t n)
{
	h->p = v;
	h->len = n;
	h->present = true;
}

static bool
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* The colon ending a field line's name (a token), or NULL. */
static const char *
field_colon(const char *p, const char *e)
{
	const char *colon = memchr(p, ':', (size_t)(e - p)), *n;

	if (colon == NULL || colon == p)
		return NULL;
	for (n = p; n < colon; n++)
		if (!is_tchar(*n))
			return NULL;	/* also refuses obsolete line folding */
	return colon;
}

/* The next element of the comma-separated list at *pp (RFC 9110 5.6.1),
 * its blanks trimmed: [*start, *stop); *pp moves past it.  false at the
 * end of the list. */
static bool
list_element(const char **pp, const char *end, const char **start, const char **stop)
{
	const char *p = *pp, *comma, *e;

	if (p >= end)
		return false;
	comma = memchr(p, ',', (size_t)(end - p));
	e = comma ? comma : end;
	while (p < e && (*p == ' ' || *p == '\t'))
		p++;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*start = p;
	*stop = e;
	*pp = comma ? comma + 1 : end;
	return true;
}

/* The Connection header's options (RFC 9110 7.6.1), case-insensitive;
 * every line counts.  Only "close" and "keep-alive" mean something to us. */
static void
connection_options(struct http_request *req, const char *v, size_t n)
{
	const char *p = v, *end = v + n, *o, *oe;

	while (list_element(&p, end, &o, &oe)) {
		if (mem_ieq(o, (size_t)(oe - o), "close"))
			req->conn_close = true;
		else if (mem_ieq(o, (size_t)(oe - o), "keep-alive"))
			req->conn_keep_alive = true;
	}
}

/* The admin page's headers: the first line of each counts (a browser
 * sends one).  true when name[0..nl) is one of them. */
static bool
first_hdr(struct http_request *req, const char *name, size_t nl, const char *v, size_t vl)
{
	static const struct {
		const char *name;
		size_t off;
	} hdrs[] = {
		{ "Cookie", offsetof(struct http_request, cookie) },
		{ "Origin", offsetof(struct http_request, origin) },
		{ "Referer", offsetof(struct http_request, referer) },
		{ "Authorization", offsetof(struct http_request, authorization) },
		{ "X-CSRF-Token", offsetof(struct http_request, csrf_token) },
		{ "If-None-Match", offsetof(struct http_request, if_none_match) },
		{ "Accept-Encoding", offsetof(struct http_request, accept_encoding) },
		{ "Sec-Fetch-Site", offsetof(struct http_request, sec_fetch_site) },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hdrs); i++) {
		struct http_hdr *h = (struct http_hdr *)(void *)((char *)req + hdrs[i].off);

		if (strlen(hdrs[i].name) == nl && mem_ieq(name, nl, hdrs[i].name)) {
			if (!h->present)
				set_hdr(h, v, vl);
			return true;
		}
	}
	return false;
}

static int
parse_header(struct http_request *req, const char *p, const char *e)
{
	const char *colon = field_colon(p, e), *v, *ve;
	size_t nl;

	if (colon == NULL)
		return 400;
	nl = (size_t)(colon - p);
	v = colon + 1;
	ve = e;
	while (v < ve && (*v == ' ' || *v == '\t'))
		v++;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	if (first_hdr(req, p, nl, v, (size_t)(ve - v)))
		return 0;
#define HDR(name) (nl == sizeof(name) - 1 && mem_ieq(p, nl, name))
	if (HDR("Host"))
		set_hdr(&req->host, v, (size_t)(ve - v));
	else if (HDR("SOAPAction"))
		set_hdr(&req->soapaction, v, (size_t)(ve - v));
	else if (HDR("Content-Type"))
		set_hdr(&req->content_type, v, (size_t)(ve - v));
	else if (HDR("NT"))
		set_hdr(&req->nt, v, (size_t)(ve - v));
	else if (HDR("Callback"))
		set_hdr(&req->callback, v, (size_t)(ve - v));
	else if (HDR("SID"))
		set_hdr(&req->sid, v, (size_t)(ve - v));
	else if (HDR("Timeout"))
		set_hdr(&req->timeout, v, (size_t)(ve - v));
	else if (HDR("Connection"))
		connection_options(req, v, (size_t)(ve - v));
	else if (HDR("User-Agent"))
		set_hdr(&req->user_agent, v, (size_t)(ve - v));
	else if (HDR("Transfer-Encoding")) {
		/* A second line would be joined to the first as one list;
		 * no client sends two, and a request smuggler does. */
		if (req->transfer_encoding.present)
			return 400;
		set_hdr(&req->transfer_encoding, v, (size_t)(ve - v));
	} else if (HDR("Content-Length")) {
		unsigned long long cl;

		if (parse_uint_n(v, (size_t)(ve - v), 0, (unsigned long long)SIZE_MAX / 2, &cl) < 0)
			return all_digits(v, (size_t)(ve - v)) ? 413 : 400;
		if (req->has_content_length && req->content_length != cl)
			return 400;	/* RFC 7230 3.3.2: differing values */
		req->has_content_length = true;
		req->content_length = (size_t)cl;
	}
#undef HDR
	return 0;
}

/* The Transfer-Encoding list (RFC 9112 6.1): sets *chunked when chunked is
 * the last coding; "identity" (RFC 2616) means none.  0 or a status: 400
 * when chunked is not last or comes twice (the length cannot be known,
 * RFC 9112 6.3), 501 for another coding before a final chunked. */
static int
transfer_codings(const char *v, size_t n, bool *chunked)
{
	const char *p = v, *end = v + n, *c, *e;
	bool other = false, any = false;

	*chunked = false;
	while (list_element(&p, end, &c, &e)) {
		if (e > c) {		/* empty list elements are ignored */
			if (*chunked)
				return 400;
			any = true;
			if (mem_ieq(c, (size_t)(e - c), "chunked"))
				*chunked = true;
			else if (!mem_ieq(c, (size_t)(e - c), "identity"))
				other = true;
		}
	}
	if (!any)
		return 400;
	if (other)
		return *chunked ? 501 : 400;
	return 0;
}

static const char *const method_names[] = {
	[HTTP_M_GET] = "GET", [HTTP_M_HEAD] = "HEAD", [HTTP_M_POST] = "POST",
	[HTTP_M_SUBSCRIBE] = "SUBSCRIBE", [HTTP_M_UNSUBSCRIBE] = "UNSUBSCRIBE",
};

static enum http_method
method_of(const char *m, size_t n)
{
	size_t i;

	for (i = HTTP_M_OTHER + 1; i < ARRAY_SIZE(method_names); i++)
		if (strlen(method_names[i]) == n && memcmp(method_names[i], m, n) == 0)
			return (enum http_method)i;
	return HTTP_M_OTHER;
}

/* The request line p..le (without its line end): METHOD SP target SP
 * HTTP/1.x.  The target is origin-form ("/path") or absolute-form
 * ("http://authority/path"), which an origin server MUST accept (RFC 9112
 * 3.2.2); its authority then stands for the Host header.  0 or a status. */
static int
parse_request_line(const char *p, const char *le, struct http_request *req,
		   struct http_hdr *authority)
{
	const char *sp1, *sp2, *t, *q;

	sp1 = memchr(p, ' ', (size_t)(le - p));
	if (sp1 == NULL || sp1 == p)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1));
	if (sp2 == NULL || sp2 == sp1 + 1)
		return 400;	/* also HTTP/0.9 "GET /path" */
	req->method_str = p;
	req->method_len = (size_t)(sp1 - p);
	for (q = p; q < sp1; q++)
		if (!is_tchar(*q))
			return 400;
	req->method = method_of(req->method_str, req->method_len);
	t = sp1 + 1;
	for (q = t; q < sp2; q++)
		if ((unsigned char)*q <= ' ' || (unsigned char)*q >= 0x7f)
			return 400;
	if (sp2 - t >= 7 && mem_ieq(t, 7, "http://")) {
		const char *a = t + 7, *slash = memchr(a, '/', (size_t)(sp2 - a));
		const char *ae = slash ? slash : sp2;

		if (ae == a || memchr(a, '?', (size_t)(ae - a)) != NULL ||
		    memchr(a, '#', (size_t)(ae - a)) != NULL)
			return 400;
		set_hdr(authority, a, (size_t)(ae - a));
		req->path = slash ? slash : "/";	/* RFC 9112 3.2.4: empty path is "/" */
		req->path_len = slash ? (size_t)(sp2 - slash) : 1;
	} else if (*t == '/') {
		req->path = t;
		req->path_len = (size_t)(sp2 - t);
	} else {
		return 400;	/* authority-form, asterisk-form, other schemes */
	}
	if (le - (sp2 + 1) != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return memcmp(sp2 + 1, "HTTP/", (size_t)(le - sp2 - 1) < 5 ? (size_t)(le - sp2 - 1) : 5) == 0 ? 505 : 400;
	if (sp2[8] != '0' && sp2[8] != '1')
		return 505;
	req->minor = (unsigned)(sp2[8] - '0');
	return 0;
}

/* Find the empty line ending the head (CRLF CRLF, or bare LF LF) within
 * the first scan bytes; *first_end gets the end of the first line.  The
 * end of the head, or NULL. */
static const char *
head_end(const char *buf, size_t len, size_t scan, const char **first_end)
{
	const char *end = buf + len, *e;

	*first_end = NULL;
	for (e = buf; e < buf + scan; e++) {
		if (*e != '\n')
			continue;
		if (*first_end == NULL)
			*first_end = e;
		if (e + 1 < end && e[1] == '\n')
			return e + 2;
		if (e + 2 < end && e[1] == '\r' && e[2] == '\n')
			return e + 3;
	}
	return NULL;
}

/* The header lines after the request line (which ends at e), up to the
 * empty line before hdr_end.  0 or a status. */
static int
parse_headers(struct http_request *req, const char *e, const char *hdr_end)
{
	const char *p;
	int r;

	for (p = e + 1; p < hdr_end; p = e + 1) {
		const char *le;

		e = line_end(p, hdr_end);
		if (e == NULL)
			return 400;
		le = line_text_end(p, e);
		if (le == p)
			break;		/* the empty line */
		if (*p == ' ' || *p == '\t')
			return 400;	/* obsolete folding (RFC 7230 3.2.4) */
		r = parse_header(req, p, le);
		if (r != 0)
			return r;
	}
	return 0;
}

/* How the body is framed, once the head is parsed.  0 or a status. */
static int
check_framing(struct http_request *req, size_t body_max)
{
	int r;

	if (req->transfer_encoding.present) {
		r = transfer_codings(req->transfer_encoding.p, req->transfer_encoding.len,
				     &req->chunked);
		if (r != 0)
			return r;
	}
	/* Both framings at once is how requests are smuggled past a proxy
	 * that reads the other one: refused, as RFC 9112 6.3 allows, rather
	 * than letting Transfer-Encoding win.  HTTP/1.0 has no chunked
	 * (RFC 9112 6.1: faulty framing). */
	if (req->chunked && (req->has_content_length || req->minor == 0))
		return 400;
	if (req->method == HTTP_M_POST && !req->has_content_length && !req->chunked)
		return 411;
	if (req->has_content_length && req->content_length > body_max)
		return 413;
	return 0;
}

int
http_parse_request(const char *buf, size_t len, size_t header_max, size_t body_max,
		   struct http_request *req)
{
	const char *end = buf + len, *hdr_end, *first_end;
	struct http_hdr authority = { NULL, 0, false };
	int r;

	memset(req, 0, sizeof(*req));
	hdr_end = head_end(buf, len, len < header_max ? len : header_max, &first_end);
	/* The request line is judged as soon as it is complete: a bad one
	 * (HTTP/0.9 among them) is answered at once, not at the idle timeout. */
	if (first_end != NULL) {
		r = parse_request_line(buf, line_text_end(buf, first_end), req, &authority);
		if (r != 0)
			return r;
	}
	if (hdr_end == NULL)
		return len >= header_max ? 431 : HTTP_PARSE_MORE;
	if ((size_t)(hdr_end - buf) > header_max)
		return 431;
	r = parse_headers(req, first_end, hdr_end);
	if (r != 0)
		return r;
	if (req->minor >= 1 && !req->host.present)
		return 400;		/* RFC 9112 3.2 */
	if (authority.present)
		req->host = authority;	/* RFC 9112 3.2.2: the target's wins */
	r = check_framing(req, body_max);
	if (r != 0)
		return r;
	if (req->chunked) {
		req->body = hdr_end;
		req->total_len = (size_t)(hdr_end - buf);
		return HTTP_PARSE_CHUNKED;
	}
	if (req->has_content_length && req->content_length > (size_t)(end - hdr_end))
		return HTTP_PARSE_MORE;
	req->body = hdr_end;
	req->body_len = req->has_content_length ? req->content_length : 0;
	req->total_len = (size_t)(hdr_end - buf) + req->body_len;
	return HTTP_PARSE_DONE;
}

/* ---------------------------------------------------------------- chunked */

enum { CH_SIZE = 0, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

/* The line break at p: its length (CRLF 2, bare LF 1 as in the head), 0
 * when it has not all arrived, -1 when p holds something else. */
static int
line_break(const char *p, const char *end)
{
	if (p == end)
		return 0;
	if (*p == '\n')
		return 1;
	if (*p != '\r')
		return -1;
	if (p + 1 == end)
		return 0;
	return p[1] == '\n' ? 2 : -1;
}

/* chunk-size [ chunk-ext ] (RFC 9112 7.1, 7.1.1) in p..le: hex digits,
 * any number of leading zeros then at most 16 more, then extensions, which
 * we ignore but check for control bytes (a bare CR among them).  Trailing
 * blanks are let pass. 0, or -1. */
static int
chunk_size(const char *p, const char *le, uint64_t *size)
{
	const char *start = p;
	uint64_t v = 0;
	unsigned nd = 0;
	int d;

	while (p < le && *p == '0')
		p++;
	for (; p < le && (d = hex_digit(*p)) >= 0; p++) {
		if (++nd > 16)
			return -1;	/* more than 64 bits */
		v = v << 4 | (uint64_t)d;
	}
	if (p == start)
		return -1;		/* also "-5", " 5"; "0x5" stops at x */
	while (p < le && (*p == ' ' || *p == '\t'))
		p++;
	if (p < le && *p != ';')
		return -1;
	for (; p < le; p++)
		if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
			return -1;
	*size = v;
	return 0;
}

/* Decode body[0..*len) from where st stands, moving chunk data down over
 * the framing, so that body[0..st->out) is the decoded body and the bytes
 * not yet decoded follow it.  field_room: bytes the trailer may take.
 * HTTP_PARSE_MORE, HTTP_PARSE_DONE or a status. */
static int
chunked_decode(struct http_chunked *st, char *body, size_t *len, size_t body_max,
	       size_t field_room)
{
	char *w = body + st->out;
	const char *p = w, *end = body + *len;
	int r = HTTP_PARSE_MORE;

	while (r == HTTP_PARSE_MORE && st->state != CH_DONE) {
		const char *e, *le;
		uint64_t size;
		int n;

		if (st->state == CH_DATA) {
			size_t k = st->left < (size_t)(end - p) ? st->left : (size_t)(end - p);

			memmove(w, p, k);
			w += k;
			p += k;
			st->left -= k;
			if (st->left > 0)
				break;
			st->state = CH_DATA_END;
		}
		if (st->state == CH_DATA_END) {
			n = line_break(p, end);
			if (n < 0)
				r = 400;	/* more data than the chunk-size said */
			if (n <= 0)
				break;
			p += n;
			st->state = CH_SIZE;
			continue;
		}
		e = line_end(p, end);
		if (e == NULL) {
			if (st->state == CH_SIZE && end - p > HTTP_CHUNK_LINE_MAX + 1)
				r = 400;	/* + 1: its CR may have come */
			else if (st->state == CH_TRAILER && (size_t)(end - p) > field_room - st->trailer)
				r = 431;
			break;
		}
		le = line_text_end(p, e);
		if (st->state == CH_SIZE) {
			if (le - p > HTTP_CHUNK_LINE_MAX || chunk_size(p, le, &size) < 0) {
				r = 400;
				break;
			}
			if (size > body_max - (size_t)(w - body)) {
				r = 413;	/* before its data comes */
				break;
			}
			st->left = (size_t)size;
			st->state = size > 0 ? CH_DATA : CH_TRAILER;
		} else if (le == p) {
			st->state = CH_DONE;	/* the empty line after the trailer */
		} else {
			/* Trailer fields are read past, never used: a Content-Length
			 * or Host here must not change the request (RFC 9112 7.1.2). */
			st->trailer += (size_t)(e + 1 - p);
			if (st->trailer > field_room)
				r = 431;
			else if (field_colon(p, le) == NULL)
				r = 400;
		}
		p = e + 1;
	}
	memmove(w, p, (size_t)(end - p));
	st->out = (size_t)(w - body);
	*len = st->out + (size_t)(end - p);
	return st->state == CH_DONE ? HTTP_PARSE_DONE : r;
}

int
http_feed_request(struct http_chunked *st, char *buf, size_t *len, size_t header_max,
		  size_t body_max, struct http_request *req)
{
	size_t head, blen;
	int r = http_parse_request(buf, *len, header_max, body_max, req);

	if (r != HTTP_PARSE_CHUNKED)
		return r;
	/* The head is parsed again on every call: it is a pure function of
	 * bytes the decoder never touches. */
	head = req->total_len;
	blen = *len - head;
	r = chunked_decode(st, buf + head, &blen, body_max, header_max - head);
	/* The framing taken out may not exceed what the buffer holds: tiny
	 * chunks with long extensions would otherwise stream without end. */
	st->framing += *len - (head + blen);
	if (r == HTTP_PARSE_MORE && st->framing > header_max + body_max)
		r = 413;
	*len = head + blen;
	if (r == HTTP_PARSE_DONE) {
		req->body_len = st->out;
		req->total_len = head + st->out;
	}
	return r;
}

/* Host "[v6%zone]:port": ours?  ipv6_listening_ip, or a LAN interface's
 * address. */
static bool
host6_ok(const struct igdd_ctx *ctx, const char *host, size_t len, uint16_t port)
{
	const char *close = memchr(host, ']', len), *pct;
	char a[INET6_ADDRSTRLEN];
	struct in6_addr in6;
	size_t alen, rest;

	if (close == NULL)
		return false;
	alen = (size_t)(close - host) - 1;
	rest = len - (size_t)(close - host) - 1;
	if ((pct = memchr(host + 1, '%', alen)) != NULL)
		alen = (size_t)(pct - host) - 1;	/* the zone says nothing here */
	if (rest > 0) {
		unsigned long long p;

		if (close[1] != ':' || parse_uint_n(close + 2, rest - 1, 1, 65535, &p) < 0 ||
		    p != port)
			return false;
	}
	if (str_copy_n(a, sizeof(a), host + 1, alen) < 0 || inet_pton(AF_INET6, a, &in6) != 1)
		return false;
	if (ctx->cfg.has_ipv6_listening_ip)
		return addr_eq(&in6, &ctx->cfg.ipv6_listening_ip);
	return ctx_lan_own_addr6(ctx, &in6);
}

bool
http_peer_ok(const struct igdd_ctx *ctx, const struct sockaddr *peer, unsigned ifindex)
{
	const struct lan_iface *lan = ctx_lan_by_ifindex(ctx, ifindex);
	const struct sockaddr_in6 *sin6 = (const void *)peer;
	const struct sockaddr_in *sin = (const void *)peer;

	if (peer->sa_family == AF_INET)
		return ctx_lan_for_addr(ctx, sin->sin_addr) != NULL;
	if (peer->sa_family != AF_INET6 || lan == NULL)
		return false;
	/* a v4-mapped peer cannot come through a V6ONLY listener */
	return ctx_lan_for_addr6(ctx, &sin6->sin6_addr, ifindex) == lan;
}

bool
http_wants_keep_alive(const struct http_request *req)
{
	if (req->conn_close)
		return false;
	return req->minor >= 1 || req->conn_keep_alive;
}

bool
http_host_ok(const struct igdd_ctx *ctx, const char *host, size_t len, uint16_t port)
{
	const char *colon = memchr(host, ':', len);
	size_t alen = colon ? (size_t)(colon - host) : len;
	char a[INET_ADDRSTRLEN];
	struct in_addr in;
	unsigned k;

	if (len > 0 && host[0] == '[')
		return host6_ok(ctx, host, len, port);
	if (colon != NULL) {
		unsigned long long p;

		if (parse_uint_n(colon + 1, len - alen - 1, 1, 65535, &p) < 0 || p != port)
			return false;
	}
	if (str_copy_n(a, sizeof(a), host, alen) < 0 || inet_pton(AF_INET, a, &in) != 1)
		return false;
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && ctx->lan[k].addr.s_addr == in.s_addr)
			return true;
	return false;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* ---------------------------------------------------------------- server */

/* A connection reads a request (C_READ), a handler has it (C_BUSY), its
 * answer waits for the peer to read (C_WRITE) or is all sent (C_SENT);
 * then it reads the next request (keep-alive), or closes, after the last
 * answer by reading what the peer still sends (C_LINGER). */
enum conn_state { C_READ, C_BUSY, C_WRITE, C_SENT, C_LINGER };

struct http_conn {
	struct loop_fd lfd;
	struct loop_timer timer;
	struct http *srv;
	/* least recently active first: a connection moves to the tail
	 * whenever it makes progress, so eviction takes the head's side */
	struct http_conn *prev, *next;
	enum conn_state state;
	char *in;
	size_t in_len;
	struct http_chunked chunked;	/* a chunked body is decoded as it comes */
	char *out_head, *out_body;	/* the answer: status line + headers, body */
	size_t head_len, body_len, out_off;	/* out_off runs over head, then body */
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} peer, local;
	struct in6_addr peer_addr;	/* the peer, v4-mapped for IPv4: its share */
	uint64_t deadline;		/* monotonic ms: the whole request */
	size_t req_len;			/* bytes of in[] the request being answered takes */
	unsigned requests;		/* requests read on this connection */
	bool eof;			/* the peer sends no more (it may still read) */
	bool keep;			/* another request may follow this answer */
	bool http10;			/* ... said with "Connection: keep-alive" */
	bool in_handler;		/* a handler runs: a close waits for its return */
	bool closing;			/* ... and is due then */
	http_abort_fn hold_fn;		/* http_hold(): the answer comes later */
	void *hold_arg;
};

struct http_listener {
	struct loop_fd lfd;
	struct http *srv;
	unsigned ifindex;		/* IPv6: the LAN interface it is bound to */
	bool open;
};

struct http_route {
	const char *path;
	size_t path_len;
	unsigned methods;		/* HTTP_METHOD_BIT()s */
	http_handler fn;
	const void *arg;
};

struct http {
	struct igdd_ctx *ctx;
	struct http_route routes[HTTP_MAX_ROUTES];
	unsigned n_routes;
	struct http_listener ls[CFG_MAX_LISTEN];	/* by LAN slot (ctx->lan) */
	struct http_listener ls6[CFG_MAX_LISTEN];	/* IPv6, by LAN slot: one of
							 * the slots on an interface */
	uint16_t port;
	size_t header_max, body_max, in_max;
	unsigned max_conns, share;	/* at once; of them, one client's share */
	uint64_t idle_ms;
	struct http_conn *head, *tail;
	unsigned n_conns;
	size_t held;			/* answer bytes the kernel has not taken */
	char server[128];		/* the SERVER header's value */
};

/* The SERVER header (UDA 1.1 1.1.2: "OS/version UPnP/1.1 product/version")
 * names the system igdd runs on, read at start, not the build machine. */
#define HTTP_SERVER_FALLBACK	"Linux/0 UPnP/1.1 igdd/" IGDD_VERSION

static void
server_string_init(char *buf, size_t size)
{
	struct utsname u;

	if (uname(&u) < 0 ||
	    str_printf(buf, size, "%s/%.*s UPnP/1.1 igdd/%s", u.sysname,
		       (int)strcspn(u.release, "-"), u.release, IGDD_VERSION) < 0)
		(void)str_copy(buf, size, HTTP_SERVER_FALLBACK);
}

const char *
http_server_string(const struct igdd_ctx *ctx)
{
	return ctx->http != NULL ? ctx->http->server : HTTP_SERVER_FALLBACK;
}

static void conn_close(struct http_conn *c);

static void
conn_arm(struct http_conn *c, uint64_t idle_ms)
{
	struct loop *l = &c->srv->ctx->loop;
	uint64_t t = time_mono_ms() + idle_ms;

	loop_timer_set_at(l, &c->timer, t < c->deadline ? t : c->deadline);
}

/* The holder of a deferred answer forgets c. */
static void
hold_end(struct http_conn *c)
{
	http_abort_fn fn = c->hold_fn;

	c->hold_fn = NULL;
	if (fn != NULL)
		fn(c->hold_arg);
}

static char *
buf_dup(const char *p, size_t n)
{
	char *d = malloc(n);

	if (d != NULL)
		memcpy(d, p, n);
	return d;
}

/* Bytes of the answer not yet taken by the kernel. */
static size_t
conn_out_left(const struct http_conn *c)
{
	return c->head_len + c->body_len - c->out_off;
}

static void
conn_close(struct http_conn *c)
{
	struct http *h = c->srv;

	if (c->in_handler) {
		c->closing = true;	/* the handler's request points into c->in */
		return;
	}
	if (c->state == C_WRITE)
		h->held -= conn_out_left(c);
	hold_end(c);
	loop_timer_cancel(&h->ctx->loop, &c->timer);
	loop_fd_del(&h->ctx->loop, &c->lfd);
	close(c->lfd.fd);
	DLIST_UNLINK(&h->head, &h->tail, c);
	h->n_conns--;
	free(c->in);
	free(c->out_head);
	free(c->out_body);
	free(c);
}

/* Close with a reset: what the kernel still holds of an unread answer is
 * dropped at once rather than kept for a peer that does not read. */
static void
conn_abort(struct http_conn *c)
{
	struct linger lg = { 1, 0 };

	setsockopt(c->lfd.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	conn_close(c);
}

/* Close; an unread answer with a reset. */
static void
conn_drop(struct http_conn *c)
{
	if (c->state == C_WRITE)
		conn_abort(c);
	else
		conn_close(c);
}

/* c made progress: it moves to the tail, the side eviction takes last. */
static void
conn_touch(struct http_conn *c)
{
	struct http *h = c->srv;

	if (h->tail == c)
		return;
	DLIST_UNLINK(&h->head, &h->tail, c);
	DLIST_PUSH_TAIL(&h->head, &h->tail, c);
}

/* The connection to give up for a new one (of peer only, when not NULL):
 * first the one whose answer has waited longest unread (or that is
 * closing), then the one idle the longest; never one whose request a
 * handler holds.  NULL when there is none. */
static struct http_conn *
conn_victim(const struct http *h, const struct in6_addr *peer)
{
	struct http_conn *c, *idle = NULL;

	for (c = h->head; c != NULL; c = c->next) {
		if (peer != NULL && !addr_eq(&c->peer_addr, peer))
			continue;
		if (c->state == C_WRITE || c->state == C_LINGER)
			return c;
		if (c->state == C_READ && idle == NULL)
			idle = c;
	}
	return idle;
}

enum { W_WAIT, W_SENT, W_GONE };

/* Send what the kernel takes.  W_WAIT while the answer waits for the peer
 * to read (EPOLLOUT), W_SENT once it is all sent (C_SENT), W_GONE when the
 * connection failed and was closed. */
static int
conn_write(struct http_conn *c)
{
	while (conn_out_left(c) > 0) {
		struct iovec iov[2];
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 1 };
		ssize_t n;

		if (c->out_off < c->head_len) {
			iov[0].iov_base = c->out_head + c->out_off;
			iov[0].iov_len = c->head_len - c->out_off;
			iov[1].iov_base = c->out_body;
			iov[1].iov_len = c->body_len;
			msg.msg_iovlen = c->body_len > 0 ? 2 : 1;
		} else {
			iov[0].iov_base = c->out_body + (c->out_off - c->head_len);
			iov[0].iov_len = conn_out_left(c);
		}
		n = sendmsg(c->lfd.fd, &msg, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return W_WAIT;
		if (n <= 0) {
			conn_close(c);
			return W_GONE;
		}
		c->out_off += (size_t)n;
		c->srv->held -= (size_t)n;
		conn_touch(c);
		conn_arm(c, c->srv->idle_ms);
	}
	c->state = C_SENT;
	return W_SENT;
}

/* Answers waiting for their readers may hold HTTP_HELD_MAX bytes all
 * together; beyond, the one that has waited longest is reset (never
 * keep, the one just queued). */
static void
held_trim(struct http *h, const struct http_conn *keep)
{
	while (h->held > HTTP_HELD_MAX) {
		struct http_conn *c;

		for (c = h->head; c != NULL; c = c->next)
			if (c->state == C_WRITE && c != keep)
				break;
		if (c == NULL)
			return;
		counters_drop(&h->ctx->counters, CTR_HTTP, CTR_DROP_OVERLOAD);
		conn_abort(c);
	}
}

/* Queue the answer: head (the status line and headers) and body, both
 * malloc'd (or NULL) and ours from now on; send what the kernel takes. */
static void
conn_answer(struct http_conn *c, char *head, size_t head_len, char *body, size_t body_len)
{
	struct http *h = c->srv;

	c->out_head = head;
	c->head_len = head_len;
	c->out_body = body;
	c->body_len = body_len;
	c->out_off = 0;
	c->state = C_WRITE;
	h->held += head_len + body_len;
	loop_fd_mod(&h->ctx->loop, &c->lfd, EPOLLOUT);
	conn_arm(c, h->idle_ms);
	switch (conn_write(c)) {
	case W_WAIT:
		held_trim(h, c);
		break;
	case W_SENT:
		/* Outside a handler (a deferred answer) the caller is not
		 * ours: the next request is taken from the loop, at once. */
		if (!c->in_handler)
			loop_timer_set(&h->ctx->loop, &c->timer, 0);
		break;
	}
}

/* The status line and headers of an answer, malloc'd; NULL on failure.
 * connection: the Connection header line, or ""; server: the Server
 * header's value. */
static char *
reply_head(int status, const char *extra_headers, const char *content_type, size_t body_len,
	   const char *connection, const char *server, size_t *len)
{
	char head[2048];	/* the admin page's security headers take room */

	if (str_printf(head, sizeof(head),
		       "HTTP/1.1 %d %s\r\n"
		       "%s%s%s"
		       "Content-Length: %zu\r\n"
		       "%s"
		       "Server: %s\r\n"
		       "%s\r\n",
		       status, http_reason(status),
		       content_type ? "Content-Type: " : "", content_type ? content_type : "",
		       content_type ? "\r\n" : "",
		       body_len, connection, server,
		       extra_headers ? extra_headers : "") < 0)
		return NULL;
	*len = strlen(head);
	return buf_dup(head, *len);
}

void
http_reply_take(struct http_conn *c, int status, const char *extra_headers,
		const char *content_type, char *body, size_t body_len)
{
	const char *connection = !c->keep ? "Connection: close\r\n"
				 : c->http10 ? "Connection: keep-alive\r\n" : "";
	char *head;
	size_t hl;

	if (c->state == C_WRITE || c->state == C_SENT) {
		free(body);
		return;		/* answered already */
	}
	c->hold_fn = NULL;	/* a held answer came */
	counters_answer(&c->srv->ctx->counters, CTR_HTTP, status);
	head = reply_head(status, extra_headers, content_type, body_len, connection,
			  c->srv->server, &hl);
	if (head == NULL) {
		free(body);
		conn_close(c);
		return;
	}
	conn_answer(c, head, hl, body, body_len);
}

void
http_reply(struct http_conn *c, int status, const char *extra_headers,
	   const char *content_type, const char *body, size_t body_len)
{
	char *copy = NULL;

	if (c->state == C_WRITE || c->state == C_SENT)
		return;		/* answered already */
	if (body_len > 0 && (copy = buf_dup(body, body_len)) == NULL) {
		conn_close(c);
		return;
	}
	http_reply_take(c, status, extra_headers, content_type, copy, body_len);
}

void
http_hold(struct http_conn *c, uint64_t ms, http_abort_fn on_abort, void *arg)
{
	uint64_t t = time_mono_ms() + ms;

	c->hold_fn = on_abort;
	c->hold_arg = arg;
	loop_timer_set_at(&c->srv->ctx->loop, &c->timer, t < c->deadline ? t : c->deadline);
}

void
http_reply_error(struct http_conn *c, int status, const char *extra_headers)
{
	http_reply(c, status, extra_headers, NULL, NULL, 0);
}

const struct sockaddr_in *
http_conn_peer(const struct http_conn *c)
{
	return &c->peer.in;
}

const struct sockaddr_in *
http_conn_local(const struct http_conn *c)
{
	return &c->local.in;
}

/* The address of a socket address of either family, v4-mapped for IPv4. */
static void
sa_addr(const void *sa, struct in6_addr *out)
{
	const struct sockaddr_in6 *sin6 = sa;
	const struct sockaddr_in *sin = sa;

	if (sin6->sin6_family == AF_INET6)
		*out = sin6->sin6_addr;
	else
		addr_from_v4(out, sin->sin_addr);
}

void
http_conn_peer_addr(const struct http_conn *c, struct in6_addr *out)
{
	sa_addr(&c->peer, out);
}

unsigned
http_conn_peer_scope(const struct http_conn *c)
{
	return c->peer.in6.sin6_family == AF_INET6 ? c->peer.in6.sin6_scope_id : 0;
}

int
http_conn_local_addr(const struct http_conn *c, struct in6_addr *out)
{
	if (c->local.in6.sin6_family != AF_INET6 && c->local.in.sin_family != AF_INET)
		return -1;
	sa_addr(&c->local, out);
	return 0;
}

int
http_conn_local_host(const struct http_conn *c, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (c->local.in6.sin6_family == AF_INET6)
		return inet_ntop(AF_INET6, &c->local.in6.sin6_addr, a, sizeof(a)) == NULL ? -1
		       : str_printf(buf, size, "[%s]", a);
	return inet_ntop(AF_INET, &c->local.in.sin_addr, a, sizeof(a)) == NULL ? -1
	       : str_printf(buf, size, "%s", a);
}

struct igdd_ctx *
http_conn_ctx(const struct http_conn *c)
{
	return c->srv->ctx;
}

struct http *
http_conn_server(const struct http_conn *c)
{
	return c->srv;
}

uint16_t
http_port(const struct igdd_ctx *ctx)
{
	return ctx->http ? ctx->http->port : 0;
}

uint16_t
http_server_port(const struct http *h)
{
	return h->port;
}

int
http_route_add(struct igdd_ctx *ctx, const char *path, unsigned methods, http_handler fn,
	       const void *arg)
{
	return http_server_route_add(ctx->http, path, methods, fn, arg);
}

int
http_server_route_add(struct http *h, const char *path, unsigned methods, http_handler fn,
		      const void *arg)
{
	struct http_route *r;

	if (h == NULL || h->n_routes >= HTTP_MAX_ROUTES || path[0] != '/' || methods == 0)
		return -1;
	r = &h->routes[h->n_routes++];
	r->path = path;
	r->path_len = strlen(path);
	r->methods = methods;
	r->fn = fn;
	r->arg = arg;
	return 0;
}

static const struct http_route *
route_find(const struct http *h, const struct http_request *req)
{
	const char *q = memchr(req->path, '?', req->path_len);
	size_t n = q != NULL ? (size_t)(q - req->path) : req->path_len;
	unsigned i;

	for (i = 0; i < h->n_routes; i++)
		if (h->routes[i].path_len == n && memcmp(h->routes[i].path, req->path, n) == 0)
			return &h->routes[i];
	return NULL;
}

/* 405 with the methods the path takes (in enum order: GET, HEAD, POST,
 * SUBSCRIBE, UNSUBSCRIBE). */
static void
reply_not_allowed(struct http_conn *c, unsigned methods)
{
	char allow[96];
	size_t i, n = 0;

	n += (size_t)snprintf(allow, sizeof(allow), "Allow:");
	for (i = HTTP_M_OTHER + 1; i < ARRAY_SIZE(method_names); i++)
		if (methods & HTTP_METHOD_BIT(i))
			n += (size_t)snprintf(allow + n, sizeof(allow) - n, "%s %s",
					      n > strlen("Allow:") ? "," : "", method_names[i]);
	snprintf(allow + n, sizeof(allow) - n, "\r\n");
	http_reply_error(c, 405, allow);
}

/* Route a complete request. */
static void
dispatch(struct http_conn *c, const struct http_request *req)
{
	struct igdd_ctx *ctx = c->srv->ctx;
	const struct http_route *r;

	counters_request(&ctx->counters, CTR_HTTP);
	if (req->host.present && !http_host_ok(ctx, req->host.p, req->host.len, c->srv->port)) {
		log_debug("http: Host header names another host: refused (DNS rebinding)");
		http_reply_error(c, 400, NULL);
		return;
	}
	r = route_find(c->srv, req);
	if (r == NULL)
		http_reply_error(c, 404, NULL);
	else if (!(r->methods & HTTP_METHOD_BIT(req->method)))
		reply_not_allowed(c, r->methods);
	else
		r->fn(c, req, r->arg);
}

static void
conn_free_answer(struct http_conn *c)
{
	free(c->out_head);
	free(c->out_body);
	c->out_head = c->out_body = NULL;
	c->head_len = c->body_len = c->out_off = 0;
}

/* Close after the last answer (RFC 9112 9.6): our sending side first,
 * then what the peer still sends (requests it pipelined past the last
 * answer) is read and dropped until it closes too, for HTTP_LINGER_MS at
 * most: closed with unread input, the kernel would reset the connection
 * and the peer could lose the answer it has yet to read. */
static void
conn_linger(struct http_conn *c)
{
	struct http *h = c->srv;

	shutdown(c->lfd.fd, SHUT_WR);
	if (c->eof) {
		conn_close(c);
		return;
	}
	conn_free_answer(c);
	c->state = C_LINGER;
	loop_fd_mod(&h->ctx->loop, &c->lfd, EPOLLIN | EPOLLRDHUP);
	loop_timer_set(&h->ctx->loop, &c->timer,
		       h->idle_ms < HTTP_LINGER_MS ? h->idle_ms : HTTP_LINGER_MS);
}

/* C_LINGER: drop what comes; close at the peer's end of the stream. */
static void
conn_drain(struct http_conn *c)
{
	for (;;) {
		ssize_t n = recv(c->lfd.fd, c->in, c->srv->in_max, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
	}
}

/* The answer is all sent: close, or make ready for the next request
 * (keep-alive).  true when the connection stays. */
static bool
conn_next(struct http_conn *c)
{
	struct http *h = c->srv;

	if (!c->keep) {
		conn_linger(c);
		return false;
	}
	conn_free_answer(c);
	/* What follows the request (a pipelined one) moves to the front. */
	memmove(c->in, c->in + c->req_len, c->in_len - c->req_len);
	c->in_len -= c->req_len;
	c->req_len = 0;
	memset(&c->chunked, 0, sizeof(c->chunked));
	c->state = C_READ;
	c->deadline = time_mono_ms() + HTTP_REQUEST_DEADLINE_MS;
	loop_fd_mod(&h->ctx->loop, &c->lfd, EPOLLIN | EPOLLRDHUP);
	conn_arm(c, h->idle_ms);
	return true;
}

/* Parse the request in c->in and hand it over: true when its answer
 * was all sent at once (the next request may be waiting in c->in). */
static bool
conn_request(struct http_conn *c)
{
	struct http *h = c->srv;
	struct http_request req;
	int r = http_feed_request(&c->chunked, c->in, &c->in_len, h->header_max, h->body_max, &req);

	/* Head and decoded body fit by construction; only a chunked body
	 * at its limits, with its framing still to come, can fill the buffer. */
	if (r == HTTP_PARSE_MORE && c->in_len >= h->in_max)
		r = 413;
	if (r == HTTP_PARSE_MORE) {
		if (c->eof)
			conn_close(c);	/* the stream ended before a whole request */
		else
			conn_arm(c, h->idle_ms);
		return false;
	}
	c->state = C_BUSY;
	c->requests++;
	/* After a malformed request where the next one starts is unknown. */
	c->keep = r == HTTP_PARSE_DONE && http_wants_keep_alive(&req) &&
		  c->requests < HTTP_MAX_REQUESTS;
	c->http10 = req.minor == 0;
	c->req_len = r == HTTP_PARSE_DONE ? req.total_len : 0;
	/* Stop reading; the answer path takes over (now or later). */
	loop_fd_mod(&h->ctx->loop, &c->lfd, 0);
	conn_arm(c, HTTP_REQUEST_DEADLINE_MS);
	c->in_handler = true;
	if (r != HTTP_PARSE_DONE) {
		counters_request(&h->ctx->counters, CTR_HTTP);
		counters_drop(&h->ctx->counters, CTR_HTTP, CTR_DROP_MALFORMED);
		if (r == 405)
			reply_not_allowed(c, ~0u);
		else
			http_reply_error(c, r, NULL);
	} else {
		dispatch(c, &req);
	}
	c->in_handler = false;
	if (c->closing) {
		conn_close(c);
		return false;
	}
	return c->state == C_SENT;
}

/* Answer the requests in c->in, one after the other, as long as each
 * answer leaves at once (pipelining); then wait for bytes or the peer. */
static void
conn_serve(struct http_conn *c)
{
	while (conn_request(c) && conn_next(c))
		;
}

static void
conn_readable(struct http_conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->in_len >= c->srv->in_max)
			break;
		n = recv(c->lfd.fd, c->in + c->in_len, c->srv->in_max - c->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			conn_close(c);
			return;
		}
		if (n == 0) {
			/* The peer's end of the stream, perhaps a half-close
			 * right after its request: what came is parsed first. */
			c->eof = true;
			break;
		}
		c->in_len += (size_t)n;
		conn_touch(c);
	}
	conn_serve(c);
}

static void
conn_event(struct loop_fd *lfd, uint32_t events)
{
	struct http_conn *c = container_of(lfd, struct http_conn, lfd);

	if (c->state == C_READ && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		conn_readable(c);
	} else if (c->state == C_WRITE && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))) {
		if (conn_write(c) == W_SENT && conn_next(c))
			conn_serve(c);
	} else if (c->state == C_LINGER) {
		conn_drain(c);
	} else if (c->state == C_SENT) {
		/* a deferred answer went out; its timer would say the same */
		if (conn_next(c))
			conn_serve(c);
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		conn_close(c);
	}
}

static void
conn_timeout(struct loop_timer *t)
{
	struct http_conn *c = container_of(t, struct http_conn, timer);

	if (c->state == C_SENT) {
		/* a deferred answer went out (conn_answer): go on */
		if (conn_next(c))
			conn_serve(c);
		return;
	}
	if (c->state == C_LINGER) {
		conn_close(c);
		return;
	}
	counters_drop(&c->srv->ctx->counters, CTR_HTTP, CTR_DROP_TIMEOUT);
	if (c->hold_fn != NULL) {
		/* the holder did not answer in time: it forgets c, the
		 * client hears so */
		hold_end(c);
		c->keep = false;
		http_reply_error(c, 503, NULL);
		return;
	}
	if (c->state == C_READ && c->in_len > 0) {
		/* A slow or stalled client: say so once, without waiting; the
		 * deadline is past, so the timer closes it on the next round
		 * if the answer does not leave at once. */
		c->keep = false;
		http_reply_error(c, 408, NULL);
		return;
	}
	conn_drop(c);
}

/* Close a connection to make room: an unread answer is reset. */
static void
evict(struct http *h, struct http_conn *c)
{
	counters_drop(&h->ctx->counters, CTR_HTTP, CTR_DROP_OVERLOAD);
	conn_drop(c);
}

/* Room for a new connection from peer: one client may hold h->share
 * connections (those waiting for it to read an answer count), all of
 * them h->max_conns; at either limit the victim goes (conn_victim), so
 * neither an idle flood nor unread answers can lock a client out.
 * false when every candidate is busy with a handler. */
static bool
make_room(struct http *h, const struct in6_addr *peer)
{
	struct http_conn *c, *v;

	if (h->n_conns >= h->share) {
		unsigned mine = 0;

		for (c = h->head; c != NULL; c = c->next)
			mine += addr_eq(&c->peer_addr, peer);
		if (mine >= h->share) {
			if ((v = conn_victim(h, peer)) == NULL)
				return false;
			evict(h, v);
		}
	}
	if (h->n_conns >= h->max_conns) {
		if ((v = conn_victim(h, NULL)) == NULL)
			return false;
		evict(h, v);
	}
	return true;
}

/* A new connection on fd from peer (pl bytes, either family): set up and
 * registered, or closed. */
static void
conn_new(struct http *h, int fd, const void *peer, socklen_t pl)
{
	struct igdd_ctx *ctx = h->ctx;
	struct http_conn *c = calloc(1, sizeof(*c));

	if (c == NULL || (c->in = malloc(h->in_max)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	c->lfd.fd = fd;
	c->lfd.cb = conn_event;
	c->srv = h;
	memcpy(&c->peer, peer, pl < sizeof(c->peer) ? pl : sizeof(c->peer));
	http_conn_peer_addr(c, &c->peer_addr);
	pl = sizeof(c->local);
	getsockname(fd, (struct sockaddr *)&c->local, &pl);
	c->state = C_READ;
	c->deadline = time_mono_ms() + HTTP_REQUEST_DEADLINE_MS;
	c->timer.cb = conn_timeout;
	if (loop_fd_add(&ctx->loop, &c->lfd, EPOLLIN | EPOLLRDHUP) < 0) {
		free(c->in);
		free(c);
		close(fd);
		return;
	}
	DLIST_PUSH_TAIL(&h->head, &h->tail, c);
	h->n_conns++;
	conn_arm(c, c->srv->idle_ms);
}

static void
listener_event(struct loop_fd *lfd, uint32_t events)
{
	struct http_listener *ls = container_of(lfd, struct http_listener, lfd);
	struct http *h = ls->srv;
	struct igdd_ctx *ctx = h->ctx;

	(void)events;
	for (;;) {
		struct sockaddr_in6 peer;	/* room for either family */
		socklen_t pl = sizeof(peer);
		struct in6_addr pa;
		int fd = accept4(lfd->fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct http_conn *v;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && (v = conn_victim(h, NULL)) != NULL) {
				evict(h, v);
				continue;
			}
			break;
		}
		if (!http_peer_ok(ctx, (struct sockaddr *)&peer, ls->ifindex)) {
			counters_drop(&ctx->counters, CTR_HTTP, CTR_DROP_WAN);
			close(fd);
			continue;
		}
		sa_addr(&peer, &pa);
		if (!make_room(h, &pa)) {
			counters_drop(&ctx->counters, CTR_HTTP, CTR_DROP_OVERLOAD);
			close(fd);
			continue;
		}
		conn_new(h, fd, &peer, pl);
	}
}

static int
open_listener(struct in_addr addr, uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr = addr };
	socklen_t sl = sizeof(sin);
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 128) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sin.sin_port);
	return fd;
}

/* [::]:port on lan's interface (SO_BINDTODEVICE: its addresses come and
 * go), or ipv6_listening_ip when it is one of lan's.  fd or -1. */
static int
open_listener6(const struct igdd_ctx *ctx, const struct lan_iface *lan, uint16_t port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int one = 1, fd;
	unsigned i;

	if (ctx->cfg.has_ipv6_listening_ip) {
		for (i = 0; i < lan->n_addr6; i++)
			if (addr_eq(&lan->addr6[i].addr, &ctx->cfg.ipv6_listening_ip))
				break;
		if (i == lan->n_addr6) {
			errno = EADDRNOTAVAIL;
			return -1;
		}
		sin6.sin6_addr = ctx->cfg.ipv6_listening_ip;
		if (IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr))
			sin6.sin6_scope_id = lan->ifindex;
	}
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    (!ctx->cfg.has_ipv6_listening_ip &&
	     setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, lan->name, (socklen_t)strlen(lan->name)) < 0) ||
	    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0 || listen(fd, 128) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The IPv6 listener of a slot's interface (one for the slots on it), on
 * the port IPv4 uses; a failure is logged, IPv4 goes on. */
static void
setup6(struct http *h, unsigned slot)
{
	struct igdd_ctx *ctx = h->ctx;
	const struct lan_iface *lan = &ctx->lan[slot];
	struct http_listener *ls = &h->ls6[slot];
	struct ctx_lan_socks socks = CTX_LAN_SOCKS(h->ls, h->ls6, struct http_listener);
	int fd;

	if (ctx->cfg.ipv6_disable || ctx_lan_has6(ctx, slot, &socks))
		return;
	if (ctx->cfg.has_ipv6_listening_ip && lan->n_addr6 == 0)
		return;
	fd = open_listener6(ctx, lan, h->port);
	if (fd < 0) {
		if (!ctx->cfg.has_ipv6_listening_ip || errno != EADDRNOTAVAIL)
			log_warn("http: cannot listen on IPv6 port %u (%s)", h->port, lan->name);
		return;
	}
	ls->lfd.fd = fd;
	ls->lfd.cb = listener_event;
	ls->srv = h;
	ls->ifindex = lan->ifindex;
	if (loop_fd_add(&ctx->loop, &ls->lfd, EPOLLIN) < 0) {
		close(fd);
		return;
	}
	ls->open = true;
	log_info("http: listening on IPv6 port %u (%s)", h->port, lan->name);
}

int
http_iface_setup(struct igdd_ctx *ctx, unsigned slot)
{
	return http_server_iface_setup(ctx->http, slot);
}

int
http_server_iface_setup(struct http *h, unsigned slot)
{
	struct igdd_ctx *ctx = h != NULL ? h->ctx : NULL;
	const struct lan_iface *lan = ctx != NULL && slot < CFG_MAX_LISTEN ? &ctx->lan[slot] : NULL;
	struct http_listener *ls;
	uint16_t bound;
	int fd;

	if (h == NULL)
		return 0;	/* not started: nothing to set up */
	if (slot >= CFG_MAX_LISTEN || lan->gone)
		return -1;
	ls = &h->ls[slot];
	if (ls->open) {
		setup6(h, slot);
		return 0;
	}
	fd = open_listener(lan->addr, h->port, &bound);
	if (fd < 0) {
		log_warn("http: cannot listen on %s port %u", lan->name, h->port);
		return -1;
	}
	ls->lfd.fd = fd;
	ls->lfd.cb = listener_event;
	ls->srv = h;
	if (loop_fd_add(&ctx->loop, &ls->lfd, EPOLLIN) < 0) {
		close(fd);
		return -1;
	}
	ls->open = true;
	/* port 0: the kernel picks one for the first address, the others
	 * reuse it so that one LOCATION port fits all. */
	h->port = bound;
	ls->ifindex = lan->ifindex;
	log_info("http: listening on %s:%u (%s)", ADDR4_STR(lan->addr), h->port, lan->name);
	setup6(h, slot);
	return 0;
}

void
http_iface_teardown(struct igdd_ctx *ctx, unsigned slot)
{
	http_server_iface_teardown(ctx->http, slot);
}

void
http_server_iface_teardown(struct http *h, unsigned slot)
{
	struct ctx_lan_socks socks;

	if (h == NULL || slot >= CFG_MAX_LISTEN)
		return;
	/* its IPv6 listener goes on for a slot on the same interface that
	 * stays (reload) */
	socks = CTX_LAN_SOCKS(h->ls, h->ls6, struct http_listener);
	ctx_lan_socks_close(h->ctx, slot, &socks);
	/* Requests under way on that address finish (or time out) on
	 * their own connections. */
}

struct http *
http_server_new(struct igdd_ctx *ctx, uint16_t port)
{
	struct http *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->ctx = ctx;
	server_string_init(h->server, sizeof(h->server));
	h->port = port;
	h->header_max = ctx->cfg.http_header_max ? ctx->cfg.http_header_max : HTTP_HEADER_MAX;
	h->body_max = ctx->cfg.http_body_max ? ctx->cfg.http_body_max : HTTP_BODY_MAX;
	h->in_max = h->header_max + h->body_max;
	http_server_reconfigure(h);
	return h;
}

int
http_init(struct igdd_ctx *ctx)
{
	struct http *h = http_server_new(ctx, ctx->cfg.http_port);
	unsigned k;

	if (h == NULL)
		return -1;
	ctx->http = h;
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && http_iface_setup(ctx, k) < 0) {
			http_shutdown(ctx);
			return -1;
		}
	return 0;
}

void
http_reconfigure(struct igdd_ctx *ctx)
{
	http_server_reconfigure(ctx->http);
}

void
http_server_reconfigure(struct http *h)
{
	struct igdd_ctx *ctx = h != NULL ? h->ctx : NULL;

	if (h == NULL)
		return;
	/* Buffer sizes (header_max, body_max) stay: connections hold
	 * buffers of the old size; they need a restart. */
	h->max_conns = ctx->cfg.http_max_connections ? ctx->cfg.http_max_connections
						     : HTTP_MAX_CONNECTIONS;
	/* a quarter each (at least 4), as GENA shares max_subscribers */
	h->share = h->max_conns / 4 > 4 ? h->max_conns / 4 : 4;
	h->idle_ms = ctx->cfg.http_idle_timeout ? (uint64_t)ctx->cfg.http_idle_timeout * 1000
						: HTTP_IDLE_TIMEOUT_MS;
}

void
http_shutdown(struct igdd_ctx *ctx)
{
	http_server_free(ctx->http);
	ctx->http = NULL;
}

void
http_server_free(struct http *h)
{
	unsigned k;

	if (h == NULL)
		return;
	while (h->head != NULL)
		conn_close(h->head);
	for (k = 0; k < CFG_MAX_LISTEN; k++)
		http_server_iface_teardown(h, k);
	free(h);
}
