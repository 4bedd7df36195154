/* http.h - a plain HTTP/1.1 server with a route table that other modules
 * (descriptions, SOAP control, GENA, ...) register into, and its request
 * parser (a pure function, unit-tested and fuzzed). */
#ifndef IGDD_HTTP_H
#define IGDD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct igdd_ctx;
struct http_conn;

/* Limits: defaults for the config keys http_header_max, http_body_max,
 * http_max_connections, http_idle_timeout (used when a key is 0). */
#define HTTP_HEADER_MAX		8192	/* request line + headers */
#define HTTP_BODY_MAX		16384
#define HTTP_MAX_CONNECTIONS	256	/* at once; the oldest idle one is evicted */
#define HTTP_IDLE_TIMEOUT_MS	10000	/* between two reads */
#define HTTP_REQUEST_DEADLINE_MS 30000	/* a whole request, from the connection or the
					   previous answer to its answer (slowloris) */
#define HTTP_MAX_REQUESTS	100	/* on one connection (keep-alive); the last closes it */
#define HTTP_LINGER_MS		2000	/* after the last answer, reading what the peer
					   still sends until it closes */
/* Answer bytes waiting for their readers (not yet taken by the kernel),
 * all connections together; beyond, the answer that has waited longest is
 * reset, so that clients that do not read cannot grow our memory. */
#define HTTP_HELD_MAX		(4u << 20)

enum http_method {
	HTTP_M_OTHER = 0, HTTP_M_GET, HTTP_M_HEAD, HTTP_M_POST,
	HTTP_M_SUBSCRIBE, HTTP_M_UNSUBSCRIBE,
};

/* A header value: a slice of the request buffer (not NUL-terminated). */
struct http_hdr {
	const char *p;
	size_t len;
	bool present;
};

struct http_request {
	enum http_method method;
	const char *method_str;
	size_t method_len;
	const char *path;		/* the target's path, starts with '/' */
	size_t path_len;
	unsigned minor;			/* HTTP/1.<minor> */
	/* host: the Host header, or the authority of an absolute-form target */
	struct http_hdr host, soapaction, content_type, nt, callback, sid, timeout;
	struct http_hdr user_agent;
	struct http_hdr transfer_encoding;
	/* the admin page's (admin.c): the first line of each */
	struct http_hdr cookie, origin, referer, authorization, csrf_token, if_none_match;
	struct http_hdr accept_encoding, sec_fetch_site;
	bool has_content_length;
	size_t content_length;
	bool chunked;			/* Transfer-Encoding: chunked */
	bool conn_close, conn_keep_alive;	/* Connection: close / keep-alive */
	const char *body;
	size_t body_len;
	size_t total_len;		/* bytes of buf this request used */
};

#define HTTP_PARSE_MORE	0	/* need more bytes */
#define HTTP_PARSE_DONE	1	/* *req is complete */
#define HTTP_PARSE_CHUNKED 2	/* the head is complete, the body chunked */
/* Parse one request from buf[0..len).  Returns HTTP_PARSE_MORE,
 * HTTP_PARSE_DONE, HTTP_PARSE_CHUNKED (req->body is where the chunked body
 * starts; http_feed_request() decodes it), or the HTTP status to answer
 * with before closing (400, 405, 411, 413, 431, 501, 505).  Never reads
 * past len. */
int http_parse_request(const char *buf, size_t len, size_t header_max, size_t body_max,
		       struct http_request *req);

/* Where a chunked body's decoding stands between two reads (RFC 9112 7.1).
 * All zero before the first byte of a request. */
struct http_chunked {
	size_t out;		/* decoded bytes, at the start of the body */
	size_t left;		/* data bytes still due in the current chunk */
	size_t trailer;		/* trailer field bytes so far */
	size_t framing;		/* bytes of framing taken out so far */
	int state;
};

/* A chunk-size line with its extensions may be this long. */
#define HTTP_CHUNK_LINE_MAX	1024

/* Parse the request received so far, buf[0..*len), as http_parse_request
 * does, and decode a chunked body in place: the decoded bytes follow the
 * head, *len shrinks by the framing taken out, and st keeps the state for
 * the next call, made with the same buffer grown by the bytes read since.
 * Returns HTTP_PARSE_MORE, HTTP_PARSE_DONE (req->body, body_len: the
 * decoded body) or a status, never HTTP_PARSE_CHUNKED.  The decoded body is
 * bounded by body_max (413), and so is the framing, by header_max +
 * body_max (413); the head and any trailer fields together by header_max
 * (431); bad framing is 400. */
int http_feed_request(struct http_chunked *st, char *buf, size_t *len, size_t header_max,
		      size_t body_max, struct http_request *req);

/* May the connection carry another request after this one's answer
 * (RFC 9112 9.3)?  HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with
 * "Connection: keep-alive". */
bool http_wants_keep_alive(const struct http_request *req);

/* Does a Host header name us: one of our LAN addresses, with our port (or
 * no port)?  A DNS-rebinding page names another host.  IPv6 in brackets,
 * a zone ("%25lan0" as RFC 6874 writes it, or a bare "%lan0") ignored. */
bool http_host_ok(const struct igdd_ctx *ctx, const char *host, size_t len, uint16_t port);
/* May this peer talk to us: a host of the LAN of the interface (ifindex)
 * the connection came in on?  IPv4: on a LAN network; IPv6: on the
 * interface's prefix, or link-local on it.  Pure (the listener knows the
 * interface). */
struct sockaddr;
bool http_peer_ok(const struct igdd_ctx *ctx, const struct sockaddr *peer, unsigned ifindex);

const char *http_reason(int status);
/* "Linux/<ver> UPnP/1.1 igdd/<ver>" (UDA 1.1 SERVER / USER-AGENT), the
 * kernel igdd runs on (uname at http_init()). */
const char *http_server_string(const struct igdd_ctx *ctx);

/* Start the server and set up every LAN interface. 0 ok, -1 fatal. */
int http_init(struct igdd_ctx *ctx);
/* Per LAN interface (slot in ctx->lan): listen on its address, or stop.
 * Setting up a slot that is set up already is a no-op.  0 / -1. */
int http_iface_setup(struct igdd_ctx *ctx, unsigned slot);
void http_iface_teardown(struct igdd_ctx *ctx, unsigned slot);

/* Routes: a request whose path (without its "?query") is exactly path
 * goes to fn(c, req, arg)
 * when its method is one of methods (HTTP_METHOD_BIT()s), else 405 with an
 * Allow header listing them; a path no route has is 404.  path must
 * outlive the server.  Registered after http_init(); 0, or -1 when the
 * table is full or there is no server. */
#define HTTP_MAX_ROUTES		32
#define HTTP_METHOD_BIT(m)	(1u << (m))
typedef void (*http_handler)(struct http_conn *c, const struct http_request *req,
			     const void *arg);
int http_route_add(struct igdd_ctx *ctx, const char *path, unsigned methods, http_handler fn,
		   const void *arg);
/* Close everything. */
void http_shutdown(struct igdd_ctx *ctx);

/* A second server on the same code (the admin page on its own port,
 * admin.c): the UPnP server is ctx->http, made by http_init(); another
 * one is made here, set up on the LAN slots its owner chooses, and has
 * routes of its own.  The functions above that take ctx are these on
 * ctx->http.  NULL / -1 on failure. */
struct http *http_server_new(struct igdd_ctx *ctx, uint16_t port);
int http_server_iface_setup(struct http *h, unsigned slot);
void http_server_iface_teardown(struct http *h, unsigned slot);
int http_server_route_add(struct http *h, const char *path, unsigned methods, http_handler fn,
			  const void *arg);
uint16_t http_server_port(const struct http *h);
void http_server_reconfigure(struct http *h);
void http_server_free(struct http *h);
/* The server a connection came to. */
struct http *http_conn_server(const struct http_conn *c);
/* Reload: http_max_connections and http_idle_timeout from ctx->cfg (for
 * the connections to come; those over a lower limit go as usual, the
 * idlest first, when the next one arrives). */
void http_reconfigure(struct igdd_ctx *ctx);
/* The TCP port we listen on (same on every LAN address); 0 before init. */
uint16_t http_port(const struct igdd_ctx *ctx);

/* The answer path.  A handler gets a connection whose request is parsed and
 * answers now or later with http_reply(); until then the connection is
 * held (deferred answers, e.g. waiting for an upstream gateway), bounded by
 * the request deadline.  extra_headers are complete "Name: value\r\n" lines
 * (may be NULL). */
void http_reply(struct http_conn *c, int status, const char *extra_headers,
		const char *content_type, const char *body, size_t body_len);
/* The same with a malloc'd body that the server takes over (and frees):
 * a large answer is not copied. */
void http_reply_take(struct http_conn *c, int status, const char *extra_headers,
		     const char *content_type, char *body, size_t body_len);
/* A handler that answers later holds the connection: on_abort(arg) is
 * called once if the connection goes before http_reply() (the client
 * left, the server shuts down) or when ms pass without an answer; after a
 * timeout the server answers 503 itself.  The holder must forget c in
 * on_abort.  http_reply() ends the hold. */
typedef void (*http_abort_fn)(void *arg);
void http_hold(struct http_conn *c, uint64_t ms, http_abort_fn on_abort, void *arg);
/* A short error answer (empty body), then close. */
void http_reply_error(struct http_conn *c, int status, const char *extra_headers);
/* The peer and our end of an IPv4 connection (IPv6: use the two below). */
const struct sockaddr_in *http_conn_peer(const struct http_conn *c);
const struct sockaddr_in *http_conn_local(const struct http_conn *c);
/* The peer's address, v4-mapped for IPv4; its IPv6 scope (0 for IPv4). */
void http_conn_peer_addr(const struct http_conn *c, struct in6_addr *out);
unsigned http_conn_peer_scope(const struct http_conn *c);
/* Our end's address, v4-mapped for IPv4.  0 / -1. */
int http_conn_local_addr(const struct http_conn *c, struct in6_addr *out);
/* Our end as a URL host: "a.b.c.d" or "[x:x::x]".  0 / -1. */
int http_conn_local_host(const struct http_conn *c, char *buf, size_t size);
struct igdd_ctx *http_conn_ctx(const struct http_conn *c);

#endif
