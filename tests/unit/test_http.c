/* test_http.c - the HTTP request parser, the chunked body decoder and the
 * Host check. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "http.h"
#include "unit.h"

/* CHECK_EQ on a long expression, without quoting all of it. */
#define CHECK_RC(expr, want) do { long long rc_ = (long long)(expr); CHECK_EQ(rc_, want); } while (0)
#include "util.h"

static int
parse(const char *s, struct http_request *r)
{
	return http_parse_request(s, strlen(s), HTTP_HEADER_MAX, HTTP_BODY_MAX, r);
}

TEST(http_parse_get)
{
	struct http_request r;

	CHECK_RC(parse("GET /rootDesc.xml HTTP/1.1\r\nHost: 192.168.1.1:5000\r\n\r\n", &r),
		 HTTP_PARSE_DONE);
	CHECK_EQ(r.method, HTTP_M_GET);
	CHECK(r.path_len == 13 && memcmp(r.path, "/rootDesc.xml", 13) == 0);
	CHECK(r.host.present && r.host.len == 16);
	CHECK_EQ(r.minor, 1);
	/* bare LF, HTTP/1.0 without Host */
	CHECK_RC(parse("GET / HTTP/1.0\n\n", &r), HTTP_PARSE_DONE);
	CHECK_EQ(r.minor, 0);
	/* header names in any case, no space after the colon */
	CHECK_RC(parse("POST /ctl/IPConn HTTP/1.1\r\nhOsT:a\r\ncontent-length:4\r\n"
		       "soapaction:\"x#y\"\r\n\r\nbody", &r), HTTP_PARSE_DONE);
	CHECK(r.soapaction.present && r.soapaction.len == 5);
	CHECK_EQ(r.body_len, 4);
	CHECK(memcmp(r.body, "body", 4) == 0);
}

TEST(http_parse_incomplete)
{
	struct http_request r;

	CHECK_RC(parse("GET / HTTP/1.1\r\nHost: a\r\n", &r), HTTP_PARSE_MORE);
	CHECK_RC(parse("", &r), HTTP_PARSE_MORE);
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n12345", &r),
		 HTTP_PARSE_MORE);
}

TEST(http_parse_limits_and_errors)
{
	struct http_request r;
	static char big[HTTP_HEADER_MAX + 64];

	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\n\r\n", &r), 411);
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", &r), 400);
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", &r), 400);
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 16385\r\n\r\n", &r), 413);
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", &r), 413);
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", &r), 400);
	CHECK_RC(parse("GET / HTTP/1.1\r\n\r\n", &r), 400);	/* 1.1 without Host */
	CHECK_RC(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &r), 505);
	CHECK_RC(parse("GET /\r\n\r\n", &r), 400);
	CHECK_RC(parse("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", &r), 400);
	CHECK_RC(parse("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", &r), 400);	/* no authority */
	CHECK_RC(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", &r), 400);
	CHECK_RC(parse("CONNECT a:80 HTTP/1.1\r\nHost: a\r\n\r\n", &r), 400);
	CHECK_RC(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", &r), 400);
	CHECK_RC(parse("GET / HTTP/1.1\r\nNoColon\r\n\r\n", &r), 400);
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	CHECK_RC(parse(big, &r), 431);
	/* NUL bytes are not a crash */
	CHECK_RC(http_parse_request("GET /\0 HTTP/1.1\r\n\r\n", 20, HTTP_HEADER_MAX, HTTP_BODY_MAX, &r), 400);
}

/* RFC 9112 3.2.2: an origin server MUST accept the absolute-form, and its
 * authority replaces the Host header (so the DNS-rebinding check sees it). */
TEST(http_parse_absolute_form)
{
	struct http_request r;

	CHECK_RC(parse("GET http://192.168.1.1:5000/rootDesc.xml HTTP/1.1\r\nHost: other\r\n\r\n", &r),
		 HTTP_PARSE_DONE);
	CHECK(r.path_len == 13 && memcmp(r.path, "/rootDesc.xml", 13) == 0);
	CHECK(r.host.present && r.host.len == 16 && memcmp(r.host.p, "192.168.1.1:5000", 16) == 0);
	CHECK_RC(parse("GET HTTP://evil HTTP/1.1\r\nHost: a\r\n\r\n", &r), HTTP_PARSE_DONE);
	CHECK(r.path_len == 1 && r.path[0] == '/');
	CHECK(r.host.len == 4 && memcmp(r.host.p, "evil", 4) == 0);
	/* Host is still required with HTTP/1.1 (RFC 9112 3.2) */
	CHECK_RC(parse("GET http://a/ HTTP/1.1\r\n\r\n", &r), 400);
	CHECK_RC(parse("GET http://a?b/ HTTP/1.1\r\nHost: a\r\n\r\n", &r), 400);
}

/* A bad request line is answered as soon as it is complete, before the
 * headers end: HTTP/0.9 clients send one line and wait. */
TEST(http_parse_request_line_early)
{
	struct http_request r;

	CHECK_RC(parse("GET /rootDesc.xml\r\n", &r), 400);
	CHECK_RC(parse("GET /rootDesc.xml\n", &r), 400);
	CHECK_RC(parse("GET /x HTTP/3.0\r\n", &r), 505);
	CHECK_RC(parse("\r\n", &r), 400);
	CHECK_RC(parse("GET /rootDesc.xml HTTP/1.1\r\n", &r), HTTP_PARSE_MORE);
	CHECK_RC(parse("GET /rootDesc.xml HTT", &r), HTTP_PARSE_MORE);
}

/* Transfer-Encoding decides the framing (RFC 9112 6.1, 6.3). */
TEST(http_parse_transfer_encoding)
{
	struct http_request r;
	static const struct { const char *te; long long want; } tab[] = {
		{ "chunked", HTTP_PARSE_CHUNKED },
		{ "Chunked", HTTP_PARSE_CHUNKED },
		{ " chunked\t", HTTP_PARSE_CHUNKED },
		{ ", chunked,", HTTP_PARSE_CHUNKED },	/* empty list elements */
		{ "identity, chunked", HTTP_PARSE_CHUNKED },
		{ "identity", 411 },			/* no coding: length required */
		{ "", 400 },
		{ ",", 400 },
		{ "gzip", 400 },			/* chunked not last */
		{ "chunked, gzip", 400 },
		{ "chunked, chunked", 400 },		/* chunked twice */
		{ "chunked, identity", 400 },
		{ "chunked;x=1", 400 },			/* no parameters on chunked */
		{ "xchunked", 400 },
		{ "gzip, chunked", 501 },		/* a coding we do not do */
		{ "deflate,chunked", 501 },
	};
	char req[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tab); i++) {
		CHECK(str_printf(req, sizeof(req), "POST /c HTTP/1.1\r\nHost: a\r\n"
				 "Transfer-Encoding: %s\r\n\r\n", tab[i].te) == 0);
		if (parse(req, &r) != tab[i].want)
			printf("    Transfer-Encoding '%s'\n", tab[i].te);
		CHECK_RC(parse(req, &r), tab[i].want);
	}
	CHECK_RC(parse("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n", &r),
		 HTTP_PARSE_CHUNKED);
	CHECK(r.chunked && !r.has_content_length);
	CHECK(r.body != NULL && memcmp(r.body, "5\r\n", 3) == 0);
	CHECK_RC(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", &r),
		 HTTP_PARSE_DONE);
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n"
		       "Content-Length: 2\r\n\r\nab", &r), HTTP_PARSE_DONE);
	CHECK_EQ(r.body_len, 2);
	/* both framings (request smuggling): refused, in either order */
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		       "Content-Length: 4\r\n\r\n", &r), 400);
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
		       "Transfer-Encoding: chunked\r\n\r\n", &r), 400);
	/* a second Transfer-Encoding line, HTTP/1.0 with chunked */
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		       "Transfer-Encoding: chunked\r\n\r\n", &r), 400);
	CHECK_RC(parse("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", &r), 400);
}

#define CHUNKED_HEAD "POST /ctl/IPConn HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

/* Feed s[0..n) to http_feed_request as a connection would: a first read of
 * `first` bytes, then reads of `step`, each time from a heap buffer of just
 * the bytes held, so that ASan sees a read past them.  The decoded body is
 * copied to body (NUL-terminated).  The last result. */
static int
feed(const char *s, size_t n, size_t first, size_t step, size_t header_max, size_t body_max,
     char *body, size_t body_size)
{
	struct http_chunked st = { 0 };
	struct http_request r;
	char *buf = NULL;
	size_t len = 0, off = 0;
	int rc = HTTP_PARSE_MORE;

	body[0] = '\0';
	while (rc == HTTP_PARSE_MORE && off < n) {
		size_t k = off == 0 ? first : step;
		char *nb;

		if (k > n - off)
			k = n - off;
		nb = malloc(len + k);
		if (nb == NULL)
			break;
		if (len > 0)
			memcpy(nb, buf, len);
		memcpy(nb + len, s + off, k);
		free(buf);
		buf = nb;
		len += k;
		off += k;
		rc = http_feed_request(&st, buf, &len, header_max, body_max, &r);
	}
	if (rc == HTTP_PARSE_DONE) {
		CHECK(r.body >= buf && r.body + r.body_len <= buf + len);
		CHECK(r.total_len == (size_t)(r.body - buf) + r.body_len);
		if (str_copy_n(body, body_size, r.body, r.body_len) < 0)
			rc = -1;
	}
	free(buf);
	return rc;
}

struct chunk_case {
	const char *name, *in;		/* in: the body after CHUNKED_HEAD */
	int want;
	const char *body;		/* decoded, for HTTP_PARSE_DONE */
	size_t body_max, header_max;	/* 0: the defaults */
};

/* One case read at once, in two reads split at every byte, and one byte
 * per read: the same answer and the same body every time. */
static void
check_chunk_case(const struct chunk_case *c)
{
	static char s[4096];
	char body[2048];
	size_t n, i, hmax = c->header_max ? c->header_max : HTTP_HEADER_MAX;
	size_t bmax = c->body_max ? c->body_max : HTTP_BODY_MAX;
	unsigned bad = 0;

	if (str_printf(s, sizeof(s), "%s%s", CHUNKED_HEAD, c->in) < 0) {
		CHECK(!"case fits");
		return;
	}
	n = strlen(s);
	for (i = 1; i <= n + 1; i++) {
		/* i <= n: split at i; i == n + 1: one byte per read */
		int rc = i <= n ? feed(s, n, i, n, hmax, bmax, body, sizeof(body))
				: feed(s, n, 1, 1, hmax, bmax, body, sizeof(body));

		if (rc != c->want || (rc == HTTP_PARSE_DONE && strcmp(body, c->body) != 0)) {
			if (bad++ == 0)
				printf("    %s: read %s %zu: got %d '%s', want %d '%s'\n", c->name,
				       i <= n ? "split at" : "bytewise", i, rc, body, c->want,
				       c->body ? c->body : "");
		}
	}
	CHECK_EQ(bad, 0);
}

TEST(http_chunked_decode)
{
	static char longext[HTTP_CHUNK_LINE_MAX + 16], longtrailer[200];
	static char maxext[HTTP_CHUNK_LINE_MAX + 32];
	const struct chunk_case tab[] = {
		{ "one chunk", "5\r\nhello\r\n0\r\n\r\n", HTTP_PARSE_DONE, "hello", 0, 0 },
		{ "many chunks", "3\r\nhel\r\n2\r\nlo\r\n1\r\n,\r\n6\r\n world\r\n0\r\n\r\n",
		  HTTP_PARSE_DONE, "hello, world", 0, 0 },
		{ "hex in both cases, leading zeros", "a\r\n0123456789\r\nB\r\nabcdefghijk\r\n"
		  "0000000000000001\r\nZ\r\n0\r\n\r\n", HTTP_PARSE_DONE,
		  "0123456789abcdefghijkZ", 0, 0 },
		{ "extensions", "5;name=val;x\r\nhello\r\n1 ; a = \"b;c\"\r\n!\r\n0;last\r\n\r\n",
		  HTTP_PARSE_DONE, "hello!", 0, 0 },
		{ "blanks after the size", "5 \t\r\nhello\r\n0\r\n\r\n", HTTP_PARSE_DONE, "hello", 0, 0 },
		{ "trailers, not used", "5\r\nhello\r\n0\r\nX-Sum: 1\r\nContent-Length: 99\r\n"
		  "Host: evil\r\n\r\n", HTTP_PARSE_DONE, "hello", 0, 0 },
		{ "bare LF", "5\nhello\n0\nX: y\n\n", HTTP_PARSE_DONE, "hello", 0, 0 },
		{ "CRLF in the data", "4\r\n\r\n\r\n\r\n0\r\n\r\n", HTTP_PARSE_DONE, "\r\n\r\n", 0, 0 },
		{ "zero-length body", "0\r\n\r\n", HTTP_PARSE_DONE, "", 0, 0 },
		{ "bytes after the request are left", "1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		  HTTP_PARSE_DONE, "a", 0, 0 },
		{ "exactly body_max", "10\r\n0123456789abcdef\r\n0\r\n\r\n", HTTP_PARSE_DONE,
		  "0123456789abcdef", 16, 0 },
		{ "no last chunk yet", "5\r\nhello\r\n", HTTP_PARSE_MORE, NULL, 0, 0 },
		{ "no final line yet", "5\r\nhello\r\n0\r\nX: y\r\n", HTTP_PARSE_MORE, NULL, 0, 0 },
		{ "one over body_max", "10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n\r\n", 413, NULL, 16, 0 },
		{ "a chunk over body_max, before its data", "11\r\n", 413, NULL, 16, 0 },
		{ "8 GiB chunk", "200000000\r\n", 413, NULL, 0, 0 },
		{ "16 hex digits", "ffffffffffffffff\r\n", 413, NULL, 0, 0 },
		{ "any number of leading zeros", "00000000000000000000000000000005\r\nhello\r\n"
		  "00000000000000000000\r\n\r\n", HTTP_PARSE_DONE, "hello", 0, 0 },
		{ "17 hex digits", "10000000000000000\r\nx\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "a size over 64 bits", "ffffffffffffffffff\r\nab\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "a non-hex size", "zz\r\nab\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "a negative size", "-5\r\nab\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "0x", "0x5\r\nhello\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "a blank before the size", " 5\r\nhello\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "an empty size line", "\r\nhello\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "garbage after the size", "5x\r\nhello\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "a bare CR in an extension", "5;a\rb\r\nhello\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "a NUL in an extension", "5;a\001\r\nhello\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "data longer than its size", "5\r\nhelloX\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "data shorter than its size", "5\r\nhel\r\n0\r\n\r\n", 400, NULL, 0, 0 },
		{ "CR without LF after data", "5\r\nhello\rX0\r\n\r\n", 400, NULL, 0, 0 },
		{ "no line break after data", "5\r\nhello0\r\n\r\n", 400, NULL, 0, 0 },
		{ "a trailer line without a colon", "0\r\nNoColon\r\n\r\n", 400, NULL, 0, 0 },
		{ "a folded trailer line", "0\r\nX: a\r\n b\r\n\r\n", 400, NULL, 0, 0 },
		{ "a chunk line at the limit", maxext, HTTP_PARSE_DONE, "a", 0, 0 },
		{ "a chunk line over the limit", longext, 400, NULL, 0, 0 },
		{ "trailers over header_max", longtrailer, 431, NULL, 0, 128 },
	};
	size_t i;

	memset(longext, 'x', sizeof(longext) - 1);
	memcpy(longext, "1;", 2);
	memset(maxext, 'x', HTTP_CHUNK_LINE_MAX);
	memcpy(maxext, "1;", 2);
	memcpy(maxext + HTTP_CHUNK_LINE_MAX, "\r\na\r\n0\r\n\r\n", 11);
	memset(longtrailer, 'a', sizeof(longtrailer) - 1);
	memcpy(longtrailer, "0\r\nX: ", 6);
	for (i = 0; i < ARRAY_SIZE(tab); i++)
		check_chunk_case(&tab[i]);
}

/* The decoding is done in place: the buffer ends up as the head and the
 * decoded body, and a connection's buffer is freed of the framing as the
 * chunks come, so the limit is on the decoded body. */
TEST(http_chunked_in_place)
{
	static char buf[HTTP_HEADER_MAX + HTTP_BODY_MAX];
	struct http_chunked st = { 0 };
	struct http_request r;
	size_t len, head = strlen(CHUNKED_HEAD), total = 0;
	unsigned k;

	memcpy(buf, CHUNKED_HEAD "3;ext\r\nabc\r\n", head + 12);
	len = head + 12;
	CHECK_RC(http_feed_request(&st, buf, &len, HTTP_HEADER_MAX, HTTP_BODY_MAX, &r), HTTP_PARSE_MORE);
	CHECK_EQ(len, head + 3);
	CHECK(memcmp(buf + head, "abc", 3) == 0);
	/* 4,000 chunks of 4 bytes: 36,000 bytes on the wire, 16,000 decoded,
	 * never more than head + body_max in the buffer */
	for (k = 0; k < 3999; k++) {
		memcpy(buf + len, "4\r\nwxyz\r\n", 9);
		len += 9;
		CHECK_RC(http_feed_request(&st, buf, &len, HTTP_HEADER_MAX, HTTP_BODY_MAX, &r),
			 HTTP_PARSE_MORE);
		total = len;
	}
	CHECK_EQ(total, head + 3 + 3999 * 4);
	memcpy(buf + len, "0\r\n\r\n", 5);
	len += 5;
	CHECK_RC(http_feed_request(&st, buf, &len, HTTP_HEADER_MAX, HTTP_BODY_MAX, &r), HTTP_PARSE_DONE);
	CHECK_EQ(r.body_len, 3 + 3999 * 4);
	CHECK(r.body == buf + head && memcmp(r.body + r.body_len - 4, "wxyz", 4) == 0);
	CHECK_EQ(r.total_len, head + r.body_len);
	/* done is done: another call gives the same request */
	CHECK_RC(http_feed_request(&st, buf, &len, HTTP_HEADER_MAX, HTTP_BODY_MAX, &r), HTTP_PARSE_DONE);
	CHECK_EQ(r.body_len, 3 + 3999 * 4);
	/* One-byte chunks with long extensions: the framing stops at
	 * header_max + body_max, with the decoded body far below its limit. */
	memset(&st, 0, sizeof(st));
	memcpy(buf, CHUNKED_HEAD, head);
	len = head;
	for (k = 0; k < 1000; k++) {
		memcpy(buf + len, "1;", 2);
		memset(buf + len + 2, 'e', 200);
		memcpy(buf + len + 202, "\r\nz\r\n", 5);
		len += 207;
		if (http_feed_request(&st, buf, &len, HTTP_HEADER_MAX, HTTP_BODY_MAX, &r) != HTTP_PARSE_MORE)
			break;
	}
	CHECK_EQ(k, (HTTP_HEADER_MAX + HTTP_BODY_MAX) / 206);
	CHECK_RC(http_feed_request(&st, buf, &len, HTTP_HEADER_MAX, HTTP_BODY_MAX, &r), 413);
	/* a Content-Length request passes through as it is */
	memset(&st, 0, sizeof(st));
	memcpy(buf, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nab", 49);
	len = 49;
	CHECK_RC(http_feed_request(&st, buf, &len, HTTP_HEADER_MAX, HTTP_BODY_MAX, &r), HTTP_PARSE_DONE);
	CHECK(len == 49 && r.body_len == 2 && memcmp(r.body, "ab", 2) == 0);
}

/* ---- keep-alive: requests one after the other on one connection ---- */

struct seen {
	char path[16], body[16];
	bool keep;
};

/* Feed the stream s[0..n) as a persistent connection would: reads of step
 * bytes into one buffer; after each whole request its bytes leave the
 * front of the buffer and the chunked state starts afresh.  The requests
 * parsed, or minus the status of the first bad one. */
static int
feed_stream(const char *s, size_t n, size_t step, struct seen *out, int max)
{
	struct http_chunked st = { 0 };
	static char buf[4096];
	size_t len = 0, off = 0;
	int k = 0;

	while (k < max) {
		struct http_request r;
		int rc = http_feed_request(&st, buf, &len, HTTP_HEADER_MAX, HTTP_BODY_MAX, &r);

		if (rc == HTTP_PARSE_DONE) {
			if (str_copy_n(out[k].path, sizeof(out[k].path), r.path, r.path_len) < 0 ||
			    str_copy_n(out[k].body, sizeof(out[k].body), r.body, r.body_len) < 0)
				return -1;
			out[k++].keep = http_wants_keep_alive(&r);
			memmove(buf, buf + r.total_len, len - r.total_len);
			len -= r.total_len;
			memset(&st, 0, sizeof(st));
			continue;
		}
		if (rc != HTTP_PARSE_MORE)
			return -rc;
		if (off == n)
			break;
		if (step > n - off)
			step = n - off;
		memcpy(buf + len, s + off, step);
		len += step;
		off += step;
	}
	return k;
}

/* Pipelined requests of every framing, read at once, one byte at a time
 * and in every read size: each request is found whole, in order, with its
 * body and whether the connection may carry another (RFC 9112 9.3). */
TEST(http_parse_pipelined)
{
	static const char stream[] =
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
		"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody"
		"POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3;x=1\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n"
		"GET /d HTTP/1.0\r\n\r\n"
		"GET /e HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
		"SUBSCRIBE /f HTTP/1.1\r\nHost: h\r\nConnection: TE, close\r\n\r\n"
		"GET /g HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: CLOSE\r\n\r\n"
		"GET /h HTTP/1.1\nHost: h\nConnection: keep-alive, Upgrade\n\n"
		"POST /i HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
		"GET /j HTTP/1.1\r\nHo";		/* not all here yet */
	static const struct seen want[] = {
		{ "/a", "", true }, { "/b", "body", true }, { "/c", "abcde", true },
		{ "/d", "", false }, { "/e", "", true }, { "/f", "", false },
		{ "/g", "", false }, { "/h", "", true }, { "/i", "", true },
	};
	struct seen got[16];
	size_t step, bad = 0;

	for (step = 1; step <= sizeof(stream); step++) {
		int n = feed_stream(stream, sizeof(stream) - 1, step, got, 16), i;

		if (n != (int)ARRAY_SIZE(want)) {
			if (bad++ == 0)
				printf("    step %zu: %d requests\n", step, n);
			continue;
		}
		for (i = 0; i < n; i++)
			if (strcmp(got[i].path, want[i].path) != 0 ||
			    strcmp(got[i].body, want[i].body) != 0 || got[i].keep != want[i].keep) {
				if (bad++ == 0)
					printf("    step %zu, request %d: %s '%s' %d\n", step, i,
					       got[i].path, got[i].body, got[i].keep);
			}
	}
	CHECK_EQ(bad, 0);
}

/* A bad request after good ones: the good ones are parsed, the bad one is
 * refused, whatever follows it is never read as a request. */
TEST(http_parse_pipelined_bad)
{
	static const char *const streams[] = {
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\nNoColon\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
	};
	static const int want[] = { -400, -411, -400 };
	struct seen got[4];
	size_t i, step;

	for (i = 0; i < ARRAY_SIZE(streams); i++)
		for (step = 1; step <= strlen(streams[i]); step++) {
			int n = feed_stream(streams[i], strlen(streams[i]), step, got, 4);

			if (n != want[i])
				printf("    stream %zu, step %zu: %d\n", i, step, n);
			CHECK_EQ(n, want[i]);
			CHECK_STR(got[0].path, "/a");
			if (n != want[i])
				break;
		}
}

TEST(http_host_check)
{
	struct igdd_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.n_lan = 1;
	inet_pton(AF_INET, "192.168.1.1", &ctx.lan[0].addr);
	CHECK(http_host_ok(&ctx, "192.168.1.1:5000", 16, 5000));
	CHECK(http_host_ok(&ctx, "192.168.1.1", 11, 5000));
	CHECK(!http_host_ok(&ctx, "192.168.1.1:5001", 16, 5000));
	CHECK(!http_host_ok(&ctx, "evil.example:5000", 17, 5000));
	CHECK(!http_host_ok(&ctx, "192.168.1.2:5000", 16, 5000));
	CHECK(!http_host_ok(&ctx, "", 0, 5000));
}
