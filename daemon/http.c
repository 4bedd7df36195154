/* http.c - a small non-blocking HTTP/1.1 server on the event loop, bound to
 * the LAN addresses only.  It knows no protocol: modules register routes
 * (a path, the methods it takes, a handler), and the UPnP descriptions,
 * SOAP control and GENA are such modules.  One request per connection (Connection: close), as
 * miniupnpd does; every limit answers 4xx/5xx and closes.  A body comes
 * with a Content-Length or chunked, decoded in the input buffer as it
 * arrives. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
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
	const char *p = v, *end = v + n;
	bool other = false, any = false;

	*chunked = false;
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma ? comma : end;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > p) {		/* empty list elements are ignored */
			if (*chunked)
				return 400;
			any = true;
			if (mem_ieq(p, (size_t)(e - p), "chunked"))
				*chunked = true;
			else if (!mem_ieq(p, (size_t)(e - p), "identity"))
				other = true;
		}
		p = comma ? comma + 1 : end;
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
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

const char *
http_server_string(void)
{
	return IGDD_OS_NAME "/" IGDD_OS_VERSION " UPnP/1.1 igdd/" IGDD_VERSION;
}

/* ---------------------------------------------------------------- server */

enum conn_state { C_READ, C_BUSY, C_WRITE };

struct http_conn {
	struct loop_fd lfd;
	struct loop_timer timer;
	struct http *srv;
	struct http_conn *prev, *next;	/* accept order: the head is the oldest */
	enum conn_state state;
	char *in;
	size_t in_len;
	struct http_chunked chunked;	/* a chunked body is decoded as it comes */
	char *out;
	size_t out_len, out_off;
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} peer, local;
	uint64_t deadline;		/* monotonic ms: the whole request */
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
	struct http_listener ls6[CFG_MAX_LISTEN];	/* IPv6, by LAN slot */
	uint16_t port;
	size_t header_max, body_max, in_max;
	unsigned max_conns;
	uint64_t idle_ms;
	struct http_conn *head, *tail;
	unsigned n_conns;
	uint64_t evicted, timeouts, rejected;
};

static void conn_close(struct http_conn *c);

static void
conn_arm(struct http_conn *c, uint64_t idle_ms)
{
	struct loop *l = &c->srv->ctx->loop;
	uint64_t t = time_mono_ms() + idle_ms;

	loop_timer_set_at(l, &c->timer, t < c->deadline ? t : c->deadline);
}

static void
conn_close(struct http_conn *c)
{
	struct http *h = c->srv;

	loop_timer_cancel(&h->ctx->loop, &c->timer);
	loop_fd_del(&h->ctx->loop, &c->lfd);
	close(c->lfd.fd);
	DLIST_UNLINK(&h->head, &h->tail, c);
	h->n_conns--;
	free(c->in);
	free(c->out);
	free(c);
}

static void
conn_write(struct http_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->lfd.fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
			if (errno == EINTR)
				continue;
			return;		/* wait for EPOLLOUT */
		}
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)n;
	}
	shutdown(c->lfd.fd, SHUT_WR);
	conn_close(c);
}

void
http_reply(struct http_conn *c, int status, const char *extra_headers,
	   const char *content_type, const char *body, size_t body_len)
{
	char head[1024];
	size_t hl;

	if (c->state == C_WRITE)
		return;		/* answered already */
	if (str_printf(head, sizeof(head),
		       "HTTP/1.1 %d %s\r\n"
		       "%s%s%s"
		       "Content-Length: %zu\r\n"
		       "Connection: close\r\n"
		       "Server: %s\r\n"
		       "%s\r\n",
		       status, http_reason(status),
		       content_type ? "Content-Type: " : "", content_type ? content_type : "",
		       content_type ? "\r\n" : "",
		       body_len, http_server_string(), extra_headers ? extra_headers : "") < 0) {
		conn_close(c);
		return;
	}
	hl = strlen(head);
	free(c->out);
	c->out = malloc(hl + body_len);
	if (c->out == NULL) {
		conn_close(c);
		return;
	}
	memcpy(c->out, head, hl);
	if (body_len > 0)
		memcpy(c->out + hl, body, body_len);
	c->out_len = hl + body_len;
	c->out_off = 0;
	c->state = C_WRITE;
	loop_fd_mod(&c->srv->ctx->loop, &c->lfd, EPOLLOUT);
	conn_arm(c, c->srv->idle_ms);
	conn_write(c);
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

void
http_conn_peer_addr(const struct http_conn *c, struct in6_addr *out)
{
	if (c->peer.in6.sin6_family == AF_INET6)
		*out = c->peer.in6.sin6_addr;
	else
		addr_from_v4(out, c->peer.in.sin_addr);
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

uint16_t
http_port(const struct igdd_ctx *ctx)
{
	return ctx->http ? ctx->http->port : 0;
}

int
http_route_add(struct igdd_ctx *ctx, const char *path, unsigned methods, http_handler fn,
	       const void *arg)
{
	struct http *h = ctx->http;
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
	unsigned i;

	for (i = 0; i < h->n_routes; i++)
		if (h->routes[i].path_len == req->path_len &&
		    memcmp(h->routes[i].path, req->path, req->path_len) == 0)
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
conn_readable(struct http_conn *c)
{
	struct http_request req;
	int r;

	for (;;) {
		ssize_t n;

		if (c->in_len >= c->srv->in_max)
			break;
		n = recv(c->lfd.fd, c->in + c->in_len, c->srv->in_max - c->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(c);	/* peer closed before a whole request */
			return;
		}
		c->in_len += (size_t)n;
	}
	r = http_feed_request(&c->chunked, c->in, &c->in_len, c->srv->header_max, c->srv->body_max,
			      &req);
	/* Head and decoded body fit by construction; only a chunked body
	 * at its limits, with its framing still to come, can fill the buffer. */
	if (r == HTTP_PARSE_MORE && c->in_len >= c->srv->in_max)
		r = 413;
	if (r == HTTP_PARSE_MORE) {
		conn_arm(c, c->srv->idle_ms);
		return;
	}
	c->state = C_BUSY;
	/* Stop reading; the answer path takes over (now or later). */
	loop_fd_mod(&c->srv->ctx->loop, &c->lfd, 0);
	conn_arm(c, HTTP_REQUEST_DEADLINE_MS);
	if (r != HTTP_PARSE_DONE) {
		c->srv->ctx->stats.dropped_malformed++;
		if (r == 405)
			reply_not_allowed(c, ~0u);
		else
			http_reply_error(c, r, NULL);
		return;
	}
	dispatch(c, &req);
}

static void
conn_event(struct loop_fd *lfd, uint32_t events)
{
	struct http_conn *c = container_of(lfd, struct http_conn, lfd);

	if (c->state == C_READ && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_readable(c);
	else if (c->state == C_WRITE && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)))
		conn_write(c);
	else if (events & (EPOLLHUP | EPOLLERR))
		conn_close(c);
}

static void
conn_timeout(struct loop_timer *t)
{
	struct http_conn *c = container_of(t, struct http_conn, timer);

	c->srv->timeouts++;
	if (c->state == C_READ && c->in_len > 0) {
		/* A slow or stalled client: say so once, without waiting; the
		 * deadline is past, so the timer closes it on the next round
		 * if the answer does not leave at once. */
		http_reply_error(c, 408, NULL);
		return;
	}
	conn_close(c);
}

/* At the cap, make room by closing the oldest connection still reading a
 * request: an idle flood can never lock a real client out. */
static bool
evict_one(struct http *h)
{
	struct http_conn *c;

	for (c = h->head; c != NULL; c = c->next)
		if (c->state == C_READ) {
			h->evicted++;
			conn_close(c);
			return true;
		}
	return false;
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
		struct http_conn *c;
		int fd = accept4(lfd->fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) && evict_one(h))
				continue;
			break;
		}
		if (!http_peer_ok(ctx, (struct sockaddr *)&peer, ls->ifindex)) {
			ctx->stats.dropped_wan++;
			close(fd);
			continue;
		}
		if (h->n_conns >= h->max_conns && !evict_one(h)) {
			h->rejected++;
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL || (c->in = malloc(h->in_max)) == NULL) {
			free(c);
			close(fd);
			continue;
		}
		c->lfd.fd = fd;
		c->lfd.cb = conn_event;
		c->srv = h;
		memcpy(&c->peer, &peer, sizeof(c->peer));
		pl = sizeof(c->local);
		getsockname(fd, (struct sockaddr *)&c->local, &pl);
		c->state = C_READ;
		c->deadline = time_mono_ms() + HTTP_REQUEST_DEADLINE_MS;
		c->timer.cb = conn_timeout;
		if (loop_fd_add(&ctx->loop, &c->lfd, EPOLLIN | EPOLLRDHUP) < 0) {
			free(c->in);
			free(c);
			close(fd);
			continue;
		}
		c->prev = h->tail;
		if (h->tail)
			h->tail->next = c;
		else
			h->head = c;
		h->tail = c;
		h->n_conns++;
		conn_arm(c, c->srv->idle_ms);
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

/* The IPv6 listener of a slot, on the port IPv4 uses; a failure is
 * logged, IPv4 goes on. */
static void
setup6(struct http *h, unsigned slot)
{
	struct igdd_ctx *ctx = h->ctx;
	const struct lan_iface *lan = &ctx->lan[slot];
	struct http_listener *ls = &h->ls6[slot];
	int fd;

	if (ctx->cfg.ipv6_disable || ls->open)
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
	struct http *h = ctx->http;
	const struct lan_iface *lan = &ctx->lan[slot];
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
	struct http *h = ctx->http;
	struct http_listener *ls[2];
	unsigned k;

	if (h == NULL || slot >= CFG_MAX_LISTEN)
		return;
	ls[0] = &h->ls[slot];
	ls[1] = &h->ls6[slot];
	for (k = 0; k < 2; k++) {
		if (!ls[k]->open)
			continue;
		loop_fd_del(&ctx->loop, &ls[k]->lfd);
		close(ls[k]->lfd.fd);
		ls[k]->open = false;
	}
	/* Requests under way on that address finish (or time out) on
	 * their own connections. */
}

int
http_init(struct igdd_ctx *ctx)
{
	struct http *h = calloc(1, sizeof(*h));
	unsigned k;

	if (h == NULL)
		return -1;
	h->ctx = ctx;
	h->port = ctx->cfg.http_port;
	h->header_max = ctx->cfg.http_header_max ? ctx->cfg.http_header_max : HTTP_HEADER_MAX;
	h->body_max = ctx->cfg.http_body_max ? ctx->cfg.http_body_max : HTTP_BODY_MAX;
	h->in_max = h->header_max + h->body_max;
	h->max_conns = ctx->cfg.http_max_connections ? ctx->cfg.http_max_connections
						     : HTTP_MAX_CONNECTIONS;
	h->idle_ms = ctx->cfg.http_idle_timeout ? (uint64_t)ctx->cfg.http_idle_timeout * 1000
						: HTTP_IDLE_TIMEOUT_MS;
	ctx->http = h;
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && http_iface_setup(ctx, k) < 0) {
			http_shutdown(ctx);
			return -1;
		}
	return 0;
}

void
http_shutdown(struct igdd_ctx *ctx)
{
	struct http *h = ctx->http;
	unsigned k;

	if (h == NULL)
		return;
	while (h->head != NULL)
		conn_close(h->head);
	for (k = 0; k < CFG_MAX_LISTEN; k++)
		http_iface_teardown(ctx, k);
	free(h);
	ctx->http = NULL;
}
