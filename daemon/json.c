/* json.c - the JSON writer and the strict pull reader (see json.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* ---- writer ---- */

static bool
reserve(struct json_out *o, size_t n)
{
	size_t cap;
	char *p;

	if (o->failed)
		return false;
	if (o->max != 0 && o->len + n > o->max) {
		o->failed = true;
		return false;
	}
	if (o->len + n + 1 <= o->cap)
		return true;
	cap = o->cap ? o->cap : 256;
	while (cap < o->len + n + 1)
		cap *= 2;
	if ((p = realloc(o->p, cap)) == NULL) {
		o->failed = true;
		return false;
	}
	o->p = p;
	o->cap = cap;
	return true;
}

void
json_raw(struct json_out *o, const char *s, size_t n)
{
	if (!reserve(o, n))
		return;
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
put(struct json_out *o, const char *s)
{
	json_raw(o, s, strlen(s));
}

/* Before a value: the comma between array elements (after a key, the key
 * already placed it). */
static void
before_value(struct json_out *o)
{
	uint32_t bit = o->depth > 0 && o->depth <= 32 ? 1u << (o->depth - 1) : 0;

	if (o->after_key) {
		o->after_key = false;
		return;
	}
	if (bit != 0 && (o->has_member & bit))
		put(o, ",");
	o->has_member |= bit;
}

static void
open_container(struct json_out *o, const char *c)
{
	before_value(o);
	put(o, c);
	if (o->depth >= JSON_MAX_DEPTH) {
		o->failed = true;
		return;
	}
	o->depth++;
	o->has_member &= ~(1u << (o->depth - 1));
}

static void
close_container(struct json_out *o, const char *c)
{
	if (o->depth == 0 || o->after_key) {
		o->failed = true;
		return;
	}
	o->depth--;
	put(o, c);
}

void json_obj_begin(struct json_out *o) { open_container(o, "{"); }
void json_obj_end(struct json_out *o) { close_container(o, "}"); }
void json_arr_begin(struct json_out *o) { open_container(o, "["); }
void json_arr_end(struct json_out *o) { close_container(o, "]"); }

/* The bytes from s that go out as they are: printable ASCII but '"' and
 * '\\', and valid UTF-8 sequences. */
static size_t
plain_run(const unsigned char *s, size_t n)
{
	size_t i = 0, len;

	while (i < n) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') {
			i++;
			continue;
		}
		if (s[i] < 0x80 || (len = utf8_seq_len(s + i, n - i)) == 0)
			break;
		i += len;
	}
	return i;
}

/* One byte that needs an escape (RFC 8259 7); not UTF-8: U+FFFD. */
static void
put_escape(struct json_out *o, unsigned char c)
{
	static const char shorts[] = "\"\"\\\\\bb\ff\nn\rr\tt";
	char esc[8];
	size_t k;

	for (k = 0; shorts[k] != '\0' && (unsigned char)shorts[k] != c; k += 2)
		;
	if (c != 0 && shorts[k] != '\0') {
		esc[0] = '\\';
		esc[1] = shorts[k + 1];
		json_raw(o, esc, 2);
	} else if (c < 0x20 || c == 0x7f) {
		(void)str_printf(esc, sizeof(esc), "\\u%04x", c);
		json_raw(o, esc, 6);
	} else {
		json_raw(o, "\\ufffd", 6);
	}
}

static void
put_string(struct json_out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run;

	json_raw(o, "\"", 1);
	while (i < n) {
		run = plain_run(p + i, n - i);
		json_raw(o, s + i, run);
		i += run;
		if (i < n)
			put_escape(o, p[i++]);
	}
	json_raw(o, "\"", 1);
}

void
json_key(struct json_out *o, const char *key)
{
	before_value(o);
	put_string(o, key, strlen(key));
	put(o, ":");
	o->after_key = true;
}

void
json_str_n(struct json_out *o, const char *s, size_t n)
{
	before_value(o);
	put_string(o, s, n);
}

void
json_str(struct json_out *o, const char *s)
{
	json_str_n(o, s, strlen(s));
}

static void
put_value(struct json_out *o, const char *text)
{
	before_value(o);
	put(o, text);
}

/* Decimal digits of v at the end of b[24]; returns where they start. */
static char *
digits(uint64_t v, char *b)
{
	char *p = b + 23;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return p;
}

void
json_u64(struct json_out *o, uint64_t v)
{
	char b[24];

	put_value(o, digits(v, b));
}

void
json_i64(struct json_out *o, int64_t v)
{
	char b[24], *p = digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, b);

	if (v < 0)
		*--p = '-';
	put_value(o, p);
}

void
json_bool(struct json_out *o, bool v)
{
	put_value(o, v ? "true" : "false");
}

void
json_null(struct json_out *o)
{
	put_value(o, "null");
}

void
json_kv_str(struct json_out *o, const char *key, const char *s)
{
	json_key(o, key);
	json_str(o, s);
}

void
json_kv_u64(struct json_out *o, const char *key, uint64_t v)
{
	json_key(o, key);
	json_u64(o, v);
}

void
json_kv_bool(struct json_out *o, const char *key, bool v)
{
	json_key(o, key);
	json_bool(o, v);
}

void
json_out_free(struct json_out *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}

/* ---- reader ---- */

/* What may come next. */
enum {
	RS_VALUE,		/* a value (top level, after ':' or ',' in an array) */
	RS_VALUE_OR_CLOSE,	/* after '[': a value or ']' */
	RS_KEY,			/* after ',' in an object */
	RS_KEY_OR_CLOSE,	/* after '{' */
	RS_COLON,		/* after a key */
	RS_AFTER,		/* after a value: ',' or the container's close, or the end */
	RS_DONE,		/* the top value is complete */
	RS_FAILED,
};

void
json_rd_init(struct json_rd *rd, const char *buf, size_t len, unsigned max_depth,
	     char *strbuf, size_t strsize)
{
	memset(rd, 0, sizeof(*rd));
	rd->p = rd->start = buf;
	rd->end = buf + len;
	rd->max_depth = max_depth == 0 || max_depth > JSON_MAX_DEPTH ? JSON_MAX_DEPTH : max_depth;
	rd->str = strbuf;
	rd->str_size = strsize;
	rd->state = RS_VALUE;
}

static enum json_tok
fail(struct json_rd *rd, const char *why)
{
	if (rd->state != RS_FAILED) {
		rd->err = why;
		rd->err_off = (size_t)(rd->p - rd->start);
		rd->state = RS_FAILED;
	}
	return JSON_ERROR;
}

static void
skip_blanks(struct json_rd *rd)
{
	while (rd->p < rd->end &&
	       (*rd->p == ' ' || *rd->p == '\t' || *rd->p == '\n' || *rd->p == '\r'))
		rd->p++;
}

static int
hex4(const char *p, const char *end, uint32_t *out)
{
	uint32_t v = 0;
	int i, d;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = hex_digit(p[i])) < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*out = v;
	return 0;
}

static bool
str_put(struct json_rd *rd, const char *s, size_t n)
{
	if (rd->str_len + n >= rd->str_size)
		return false;
	memcpy(rd->str + rd->str_len, s, n);
	rd->str_len += n;
	return true;
}

/* A \u escape at rd->p (just past the 'u'), with its low surrogate if it
 * is a high one, appended as UTF-8.  NULL, or why not. */
static const char *
read_uescape(struct json_rd *rd)
{
	uint32_t cp, lo;
	char u[4];
	size_t n;

	if (hex4(rd->p, rd->end, &cp) < 0)
		return "bad \\u escape";
	rd->p += 4;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return "lone low surrogate";
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (rd->end - rd->p < 6 || rd->p[0] != '\\' || rd->p[1] != 'u' ||
		    hex4(rd->p + 2, rd->end, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
			return "lone high surrogate";
		rd->p += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (cp == 0)
		return "\\u0000 is not allowed";
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return str_put(rd, u, n) ? NULL : "string too long";
}

/* The string at rd->p (at its opening quote), decoded into rd->str. */
static enum json_tok
read_string(struct json_rd *rd, enum json_tok tok)
{
	static const char simple[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	const char *why;
	size_t len, k;

	rd->p++;
	rd->str_len = 0;
	if (rd->str_size == 0)
		return fail(rd, "string too long");
	for (;;) {
		unsigned char c;

		if (rd->p >= rd->end)
			return fail(rd, "unterminated string");
		c = (unsigned char)*rd->p;
		if (c == '"')
			break;
		if (c < 0x20)
			return fail(rd, "control character in a string");
		if (c != '\\') {
			/* a run of plain ASCII at once, else one UTF-8 sequence */
			const char *q = rd->p;

			while (q < rd->end && (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x80 &&
			       *q != '"' && *q != '\\')
				q++;
			len = (size_t)(q - rd->p);
			if (len == 0 && (len = utf8_seq_len((const unsigned char *)rd->p,
							    (size_t)(rd->end - rd->p))) == 0)
				return fail(rd, "invalid UTF-8");
			if (!str_put(rd, rd->p, len))
				return fail(rd, "string too long");
			rd->p += len;
			continue;
		}
		if (++rd->p >= rd->end)
			return fail(rd, "unterminated string");
		if (*rd->p == 'u') {
			rd->p++;
			if ((why = read_uescape(rd)) != NULL)
				return fail(rd, why);
			continue;
		}
		for (k = 0; simple[k] != '\0' && simple[k] != *rd->p; k += 2)
			;
		if (simple[k] == '\0')
			return fail(rd, "bad escape");
		if (!str_put(rd, &simple[k + 1], 1))
			return fail(rd, "string too long");
		rd->p++;
	}
	rd->p++;
	rd->str[rd->str_len] = '\0';
	return tok;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A number (RFC 8259 6): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static enum json_tok
read_number(struct json_rd *rd)
{
	const char *p = rd->p, *end = rd->end;
	bool neg = false, frac = false;
	uint64_t mag = 0;
	bool big = false;

	if (p < end && *p == '-') {
		neg = true;
		p++;
	}
	if (p >= end || !is_digit(*p))
		return fail(rd, "bad number");
	if (*p == '0') {
		p++;
		if (p < end && is_digit(*p))
			return fail(rd, "leading zero");
	} else {
		for (; p < end && is_digit(*p); p++) {
			unsigned d = (unsigned)(*p - '0');
			if (mag > (UINT64_MAX - d) / 10)
				big = true;
			else
				mag = mag * 10 + d;
		}
	}
	if (p < end && *p == '.') {
		frac = true;
		if (++p >= end || !is_digit(*p))
			return fail(rd, "bad number");
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		frac = true;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || !is_digit(*p))
			return fail(rd, "bad number");
		while (p < end && is_digit(*p))
			p++;
	}
	rd->p = p;
	rd->num_is_int = !frac && !big && mag <= (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX);
	rd->num = !rd->num_is_int ? 0 : neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return JSON_NUMBER;
}

static enum json_tok
read_word(struct json_rd *rd, const char *w, enum json_tok tok)
{
	size_t n = strlen(w);

	if ((size_t)(rd->end - rd->p) < n || memcmp(rd->p, w, n) != 0)
		return fail(rd, "unexpected character");
	rd->p += n;
	return tok;
}

static enum json_tok
open_rd(struct json_rd *rd, char c)
{
	if (rd->depth >= rd->max_depth)
		return fail(rd, "nested too deep");
	rd->stack[rd->depth++] = c;
	rd->p++;
	rd->state = c == '{' ? RS_KEY_OR_CLOSE : RS_VALUE_OR_CLOSE;
	return c == '{' ? JSON_OBJECT : JSON_ARRAY;
}

static enum json_tok
close_rd(struct json_rd *rd)
{
	char c = rd->stack[--rd->depth];

	rd->p++;
	rd->state = rd->depth == 0 ? RS_DONE : RS_AFTER;
	return c == '{' ? JSON_OBJECT_END : JSON_ARRAY_END;
}

static enum json_tok
read_value(struct json_rd *rd)
{
	enum json_tok t;

	if (rd->p >= rd->end)
		return fail(rd, "value expected");
	switch (*rd->p) {
	case '{':
	case '[':
		return open_rd(rd, *rd->p);
	case '"':
		t = read_string(rd, JSON_STRING);
		break;
	case 't':
		t = read_word(rd, "true", JSON_TRUE);
		break;
	case 'f':
		t = read_word(rd, "false", JSON_FALSE);
		break;
	case 'n':
		t = read_word(rd, "null", JSON_NULL);
		break;
	default:
		t = read_number(rd);
		break;
	}
	if (t != JSON_ERROR)
		rd->state = rd->depth == 0 ? RS_DONE : RS_AFTER;
	return t;
}

/* One step of the grammar; a table-driven switch over the states. */
enum json_tok
json_next(struct json_rd *rd)
{
	char c;

	skip_blanks(rd);
	rd->tok = rd->p;
	c = rd->p < rd->end ? *rd->p : '\0';
	switch (rd->state) {
	case RS_FAILED:
		return JSON_ERROR;
	case RS_DONE:
		return rd->p == rd->end ? JSON_END : fail(rd, "text after the value");
	case RS_VALUE_OR_CLOSE:
		if (c == ']')
			return close_rd(rd);
		/* fall through */
	case RS_VALUE:
		return read_value(rd);
	case RS_KEY_OR_CLOSE:
		if (c == '}')
			return close_rd(rd);
		/* fall through */
	case RS_KEY:
		if (c != '"')
			return fail(rd, "member name expected");
		rd->state = RS_COLON;
		return read_string(rd, JSON_KEY);
	case RS_COLON:
		if (c != ':')
			return fail(rd, "':' expected");
		rd->p++;
		rd->state = RS_VALUE;
		return json_next(rd);
	case RS_AFTER:
		if (c == ',') {
			rd->p++;
			rd->state = rd->stack[rd->depth - 1] == '{' ? RS_KEY : RS_VALUE;
			return json_next(rd);
		}
		if (c == (rd->stack[rd->depth - 1] == '{' ? '}' : ']'))
			return close_rd(rd);
		return fail(rd, "',' or the end of the container expected");
	}
	return fail(rd, "internal error");
}

int
json_skip(struct json_rd *rd, enum json_tok tok)
{
	unsigned depth;

	if (tok == JSON_ERROR)
		return -1;
	if (tok != JSON_OBJECT && tok != JSON_ARRAY)
		return 0;
	depth = rd->depth - 1;
	while (rd->depth > depth) {
		if (json_next(rd) == JSON_ERROR)
			return -1;
	}
	return 0;
}
