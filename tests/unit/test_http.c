/* test_http.c - the HTTP request parser and the Host check. */
#include <arpa/inet.h>
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
	CHECK_RC(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r), 411);
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
