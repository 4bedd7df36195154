/* json.h - a small JSON writer and a strict, bounded JSON reader: the
 * control socket's protocol (one object per line) and igddctl.
 *
 * The writer appends to a growing buffer with an optional size bound; a
 * failure (memory, bound) sticks and is checked once at the end.  Strings
 * are escaped as RFC 8259 requires; bytes that are not valid UTF-8 become
 * U+FFFD, so the output is always valid JSON.
 *
 * The reader is a pull tokenizer over a buffer: json_next() returns one
 * token at a time and checks the grammar as it goes (RFC 8259, strictly:
 * no comments, no trailing commas, no leading zeros, no raw control
 * characters, valid UTF-8, no lone surrogates, nothing after the value).
 * Nesting is bounded by max_depth (at most JSON_MAX_DEPTH); strings are
 * decoded into the caller's buffer and one that does not fit is an error;
 * "\u0000" is refused (strings are C strings here).  It keeps no state
 * beyond its struct and allocates nothing: a pure function of the bytes,
 * fuzzed (tests/fuzz/fuzz_control.c). */
#ifndef IGDD_JSON_H
#define IGDD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- writer ---- */

#define JSON_MAX_DEPTH	16

struct json_out {
	char *p;
	size_t len, cap;
	size_t max;		/* bytes; 0 = no bound */
	bool failed;		/* out of memory or over max: the text is unusable */
	unsigned depth;
	uint32_t has_member;	/* bit d: the container at depth d has a member */
	bool after_key;		/* the next value completes a member */
};

void json_obj_begin(struct json_out *o);
void json_obj_end(struct json_out *o);
void json_arr_begin(struct json_out *o);
void json_arr_end(struct json_out *o);
void json_key(struct json_out *o, const char *key);
void json_str(struct json_out *o, const char *s);
void json_str_n(struct json_out *o, const char *s, size_t n);
void json_u64(struct json_out *o, uint64_t v);
void json_i64(struct json_out *o, int64_t v);
void json_bool(struct json_out *o, bool v);
void json_null(struct json_out *o);
/* A member in one call. */
void json_kv_str(struct json_out *o, const char *key, const char *s);
void json_kv_u64(struct json_out *o, const char *key, uint64_t v);
void json_kv_bool(struct json_out *o, const char *key, bool v);
/* Raw bytes, no separator logic (a newline after the top value). */
void json_raw(struct json_out *o, const char *s, size_t n);
void json_out_free(struct json_out *o);

/* ---- reader ---- */

enum json_tok {
	JSON_ERROR = -1,	/* rd->err says why; every later call says the same */
	JSON_END = 0,		/* the value is complete and only blanks follow */
	JSON_OBJECT,
	JSON_OBJECT_END,
	JSON_ARRAY,
	JSON_ARRAY_END,
	JSON_KEY,		/* a member name: rd->str */
	JSON_STRING,		/* rd->str, rd->str_len (NUL-terminated) */
	JSON_NUMBER,		/* rd->num_*: integer value when num_is_int */
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

struct json_rd {
	const char *p, *end;
	unsigned max_depth, depth;
	char stack[JSON_MAX_DEPTH];	/* '{' or '[' per open container */
	uint8_t state;
	const char *err;
	size_t err_off;			/* byte offset of the error */
	const char *start;
	/* the last token */
	const char *tok;		/* where it starts in the buffer */
	char *str;			/* caller's buffer */
	size_t str_size, str_len;
	bool num_is_int;		/* no fraction or exponent, fits in int64 */
	int64_t num;
};

/* Read buf[0..len) with strings decoded into strbuf[strsize] (so at most
 * strsize - 1 bytes each) and containers nested at most max_depth deep
 * (1..JSON_MAX_DEPTH). */
void json_rd_init(struct json_rd *rd, const char *buf, size_t len, unsigned max_depth,
		  char *strbuf, size_t strsize);
enum json_tok json_next(struct json_rd *rd);
/* Skip the value whose first token was tok (an object or array to its
 * end); 0, or -1 on a reader error. */
int json_skip(struct json_rd *rd, enum json_tok tok);

#endif
