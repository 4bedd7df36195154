/* test_json.c - the JSON writer and the strict reader. */
#include <stdlib.h>

#include "json.h"
#include "unit.h"
#include "util.h"

/* Tokens of text as letters: { } [ ] k(ey) s(tring) n(umber) t f z(null),
 * E on error (then stop), . at the end. */
static void
tokens(const char *text, unsigned depth, char *out, size_t size)
{
	char str[64];
	struct json_rd rd;
	enum json_tok t;
	size_t n = 0;

	json_rd_init(&rd, text, strlen(text), depth, str, sizeof(str));
	do {
		t = json_next(&rd);
		out[n++] = "E.{}[]ksntfz"[t + 1];
	} while (t != JSON_END && t != JSON_ERROR && n + 1 < size);
	out[n] = '\0';
}

TEST(json_reader_grammar)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "{}", "{}." },
		{ " { \"a\" : 1 , \"b\":[true,false,null,\"x\"] } \n", "{kn" "k[tfzs]}." },
		{ "[]", "[]." },
		{ "\"top\"", "s." },
		{ "-0", "n." },
		{ "1.5e-3", "n." },
		{ "", "E" },
		{ "{", "{E" },
		{ "{\"a\"}", "{kE" },
		{ "{\"a\":}", "{kE" },
		{ "{\"a\":1,}", "{knE" },
		{ "[1,]", "[nE" },
		{ "[1 2]", "[nE" },
		{ "{} x", "{}E" },
		{ "01", "E" },
		{ "1.", "E" },
		{ "-", "E" },
		{ "tru", "E" },
		{ "{1:2}", "{E" },
		{ "[\"\\x\"]", "[E" },
		{ "[\"a\nb\"]", "[E" },
		{ "[\"\\ud800\"]", "[E" },
		{ "[\"\\udc00\"]", "[E" },
		{ "[\"\\u0000\"]", "[E" },
		{ "[\"\xc0\xaf\"]", "[E" },		/* overlong '/' */
		{ "[\"\xed\xa0\x80\"]", "[E" },		/* UTF-8 surrogate */
		{ "[[[[1]]]]", "[[[[n]]]]." },
		{ "[[[[[1]]]]]", "[[[[E" },		/* deeper than 4 */
		{ "{\"a\":1}{}", "{kn}E" },
	};
	char got[64];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		tokens(cases[i].in, 4, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			printf("    %zu: '%s': got %s, want %s\n", i, cases[i].in, got, cases[i].want);
		CHECK_STR(got, cases[i].want);
	}
}

TEST(json_reader_values)
{
	const char *text = "[\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\", -9223372036854775808, "
			   "9223372036854775808, 12, 1e3, \"toolongforthebuffer\"]";
	char str[16];
	struct json_rd rd;

	json_rd_init(&rd, text, strlen(text), 2, str, sizeof(str));
	CHECK_EQ(json_next(&rd), JSON_ARRAY);
	CHECK_EQ(json_next(&rd), JSON_STRING);
	CHECK_STR(rd.str, "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
	CHECK_EQ(rd.str_len, 15);
	CHECK_EQ(json_next(&rd), JSON_NUMBER);
	CHECK(rd.num_is_int && rd.num == INT64_MIN);
	CHECK_EQ(json_next(&rd), JSON_NUMBER);
	CHECK(!rd.num_is_int);			/* past INT64_MAX */
	CHECK_EQ(json_next(&rd), JSON_NUMBER);
	CHECK(rd.num_is_int && rd.num == 12);
	CHECK_EQ(json_next(&rd), JSON_NUMBER);
	CHECK(!rd.num_is_int);			/* an exponent */
	CHECK_EQ(json_next(&rd), JSON_ERROR);	/* 19 bytes into 16 */
	CHECK_STR(rd.err, "string too long");
	CHECK_EQ(json_next(&rd), JSON_ERROR);	/* and stays so */
}

TEST(json_skip_nested)
{
	const char *text = "{\"a\":{\"b\":[1,{\"c\":[]}]},\"d\":2}";
	char str[16];
	struct json_rd rd;
	enum json_tok t;

	json_rd_init(&rd, text, strlen(text), 8, str, sizeof(str));
	CHECK_EQ(json_next(&rd), JSON_OBJECT);
	CHECK_EQ(json_next(&rd), JSON_KEY);
	t = json_next(&rd);
	CHECK_EQ(t, JSON_OBJECT);
	CHECK_EQ(json_skip(&rd, t), 0);
	CHECK_EQ(json_next(&rd), JSON_KEY);
	CHECK_STR(rd.str, "d");
	CHECK_EQ(json_next(&rd), JSON_NUMBER);
	CHECK_EQ(json_next(&rd), JSON_OBJECT_END);
	CHECK_EQ(json_next(&rd), JSON_END);
}

TEST(json_writer)
{
	struct json_out o = { 0 };
	char str[64];
	struct json_rd rd;
	enum json_tok t;

	json_obj_begin(&o);
	json_kv_str(&o, "s", "q\"b\\n\n\x01\xff\xc3\xa9");
	json_kv_u64(&o, "u", 18446744073709551615ULL);
	json_key(&o, "i");
	json_i64(&o, -5);
	json_kv_bool(&o, "b", false);
	json_key(&o, "a");
	json_arr_begin(&o);
	json_null(&o);
	json_arr_begin(&o);
	json_arr_end(&o);
	json_obj_begin(&o);
	json_obj_end(&o);
	json_arr_end(&o);
	json_obj_end(&o);
	CHECK(!o.failed);
	CHECK_STR(o.p, "{\"s\":\"q\\\"b\\\\n\\n\\u0001\\ufffd\xc3\xa9\",\"u\":18446744073709551615,"
		       "\"i\":-5,\"b\":false,\"a\":[null,[],{}]}");
	/* what it writes, the reader reads */
	json_rd_init(&rd, o.p, o.len, 4, str, sizeof(str));
	while ((t = json_next(&rd)) != JSON_END && t != JSON_ERROR)
		;
	CHECK_EQ(t, JSON_END);
	json_out_free(&o);
	/* a bound: past it, failed */
	o.max = 8;
	json_str(&o, "longer than eight");
	CHECK(o.failed);
	json_out_free(&o);
	/* unbalanced */
	json_obj_end(&o);
	CHECK(o.failed);
	json_out_free(&o);
}
