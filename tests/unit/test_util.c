/* test_util.c - number parsing limits, checked strings, addresses. */
#include <arpa/inet.h>
#include <errno.h>

#include "unit.h"
#include "util.h"

TEST(util_parse_uint_limits)
{
	unsigned long long v;
	uint16_t p;
	uint32_t u;

	CHECK(parse_uint("0", 0, 10, &v) == 0 && v == 0);
	CHECK(parse_uint("10", 0, 10, &v) == 0 && v == 10);
	CHECK(parse_uint("11", 0, 10, &v) < 0 && errno == ERANGE);
	CHECK(parse_uint("", 0, 10, &v) < 0 && errno == EINVAL);
	CHECK(parse_uint("-1", 0, 10, &v) < 0);
	CHECK(parse_uint("+1", 0, 10, &v) < 0);
	CHECK(parse_uint(" 1", 0, 10, &v) < 0);
	CHECK(parse_uint("1 ", 0, 10, &v) < 0);
	CHECK(parse_uint("0x10", 0, 100, &v) < 0);
	CHECK(parse_uint("abc", 0, 100, &v) < 0);
	CHECK(parse_uint("18446744073709551615", 0, ~0ULL, &v) == 0 && v == ~0ULL);
	CHECK(parse_uint("18446744073709551616", 0, ~0ULL, &v) < 0 && errno == ERANGE);
	CHECK(parse_uint("99999999999999999999999", 0, ~0ULL, &v) < 0);
	CHECK(parse_u16("65535", 0, 65535, &p) == 0 && p == 65535);
	CHECK(parse_u16("65536", 0, 65535, &p) < 0);
	CHECK(parse_u32("4294967295", 0, 4294967295u, &u) == 0 && u == 4294967295u);
	CHECK(parse_u32("4294967296", 0, 4294967295u, &u) < 0);
	CHECK(parse_uint_n("123abc", 3, 0, 1000, &v) == 0 && v == 123);
	CHECK(parse_uint(NULL, 0, 1, &v) < 0);
}

TEST(util_parse_bool)
{
	bool b;

	CHECK(parse_bool("yes", &b) == 0 && b);
	CHECK(parse_bool("NO", &b) == 0 && !b);
	CHECK(parse_bool("on", &b) == 0 && b);
	CHECK(parse_bool("0", &b) == 0 && !b);
	CHECK(parse_bool("maybe", &b) < 0);
	CHECK(parse_bool("", &b) < 0);
}

TEST(util_strings)
{
	char buf[8];

	CHECK(str_copy(buf, sizeof(buf), "1234567") == 0);
	CHECK_STR(buf, "1234567");
	CHECK(str_copy(buf, sizeof(buf), "12345678") < 0);
	CHECK_STR(buf, "1234567");
	CHECK(str_copy_n(buf, sizeof(buf), "abcdef", 3) == 0);
	CHECK_STR(buf, "abc");
	CHECK(str_printf(buf, sizeof(buf), "%d", 1234567) == 0);
	CHECK(str_printf(buf, sizeof(buf), "%d", 12345678) < 0);
	buf[0] = '\0';
	CHECK(str_appendf(buf, sizeof(buf), "abc") == 0);
	CHECK(str_appendf(buf, sizeof(buf), "defg") == 0);
	CHECK(str_appendf(buf, sizeof(buf), "h") < 0);
	CHECK(mem_ieq("SoapAction", 10, "SOAPACTION"));
	CHECK(!mem_ieq("SoapAction", 4, "SOAPACTION"));
	CHECK_EQ(hex_digit('0'), 0);
	CHECK_EQ(hex_digit('9'), 9);
	CHECK_EQ(hex_digit('a'), 10);
	CHECK_EQ(hex_digit('F'), 15);
	CHECK_EQ(hex_digit('g'), -1);
	CHECK_EQ(hex_digit('/'), -1);
	CHECK_EQ(hex_digit('\0'), -1);
}

TEST(util_addresses)
{
	struct in6_addr a;
	char buf[64];

	CHECK(addr_parse("192.168.1.2", &a) == 0);
	CHECK(addr_is_v4(&a));
	CHECK_STR(addr_str(&a, buf, sizeof(buf)), "192.168.1.2");
	CHECK(!addr_is_any(&a));
	CHECK(addr_parse("0.0.0.0", &a) == 0 && addr_is_any(&a));
	CHECK(addr_parse("2001:db8::1", &a) == 0 && !addr_is_v4(&a));
	CHECK_STR(addr_str(&a, buf, sizeof(buf)), "2001:db8::1");
	CHECK(addr_parse("300.1.1.1", &a) < 0);
	CHECK(addr_parse("", &a) < 0);
}

TEST(util_path_dir)
{
	char d[24];

	CHECK_EQ(path_dir(d, sizeof(d), "/run/igdd/igdd.pid"), 0);
	CHECK_STR(d, "/run/igdd");
	CHECK_EQ(path_dir(d, sizeof(d), "/igdd.pid"), 0);
	CHECK_STR(d, "/");
	CHECK_EQ(path_dir(d, sizeof(d), "igdd.pid"), 0);
	CHECK_STR(d, "");
	CHECK_EQ(path_dir(d, sizeof(d), "/a/very/long/path/to/a/file/x"), -1);
	CHECK_STR(d, "");
}

TEST(util_fnv1a)
{
	/* the published FNV-1a test vectors; a digest goes on in parts */
	CHECK_EQ(fnv1a(FNV1A_INIT, "", 0), 0x811c9dc5u);
	CHECK_EQ(fnv1a(FNV1A_INIT, "a", 1), 0xe40c292cu);
	CHECK_EQ(fnv1a(FNV1A_INIT, "foobar", 6), 0xbf9cf968u);
	CHECK_EQ(fnv1a(fnv1a(FNV1A_INIT, "foo", 3), "bar", 3), 0xbf9cf968u);
	CHECK(fnv1a64(FNV1A64_INIT, "", 0) == 0xcbf29ce484222325ull);
	CHECK(fnv1a64(FNV1A64_INIT, "a", 1) == 0xaf63dc4c8601ec8cull);
	CHECK(fnv1a64(FNV1A64_INIT, "foobar", 6) == 0x85944171f73967e8ull);
}
