/* inflate.c - a small DEFLATE decoder (RFC 1951), canonical Huffman codes
 * decoded bit by bit: a few hundred bytes of code for the ~50 KB of
 * descriptions and admin page files it lets the binary store compressed.
 * Speed does not matter (a description is expanded per fetch, a file of
 * the page only for a client without gzip). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inflate.h"

#define MAXBITS 15
#define NLIT 288
#define NDIST 30

struct bits {
	const unsigned char *p, *end;
	uint32_t buf;		/* bits not used yet, the next one lowest */
	unsigned cnt;
	bool err;		/* read past the end */
};

struct huff {
	uint16_t count[MAXBITS + 1];	/* codes of each length */
	uint16_t sym[NLIT];		/* symbols by code */
};

struct out {
	unsigned char *p;
	size_t len, cap;
};

static unsigned
getbits(struct bits *s, unsigned n)
{
	unsigned v;

	while (s->cnt < n) {
		if (s->p == s->end) {
			s->err = true;
			return 0;
		}
		s->buf |= (uint32_t)*s->p++ << s->cnt;
		s->cnt += 8;
	}
	v = s->buf & ((1u << n) - 1);
	s->buf = n < 32 ? s->buf >> n : 0;
	s->cnt -= n;
	return v;
}

/* The canonical code of the lengths len[0..n); -1 if over-subscribed
 * (an incomplete code is allowed: RFC 1951 has one-code distance trees). */
static int
build(struct huff *h, const unsigned char *len, unsigned n)
{
	uint16_t offs[MAXBITS + 2];
	unsigned i;
	int left = 1;

	memset(h->count, 0, sizeof(h->count));
	for (i = 0; i < n; i++)
		h->count[len[i]]++;
	for (i = 1; i <= MAXBITS; i++) {
		left = left * 2 - h->count[i];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (i = 1; i <= MAXBITS; i++)
		offs[i + 1] = (uint16_t)(offs[i] + h->count[i]);
	for (i = 0; i < n; i++)
		if (len[i] != 0)
			h->sym[offs[len[i]]++] = (uint16_t)i;
	return 0;
}

/* The next symbol of code h, -1 for a bit string that is no code. */
static int
decode(struct bits *s, const struct huff *h)
{
	int code = 0, first = 0, index = 0;
	unsigned l;

	for (l = 1; l <= MAXBITS; l++) {
		int count = h->count[l];

		code |= (int)getbits(s, 1);
		if (s->err)
			return -1;
		if (code - first < count)
			return h->sym[index + code - first];
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return -1;
}

/* Base and extra bits of the lengths 257..285 and the distances 0..29. */
static const uint16_t len_base[29] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27,
				       31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227,
				       258 };
static const uint8_t len_extra[29] = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
				       2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0 };
static const uint16_t dist_base[NDIST] = { 1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97,
					   129, 193, 257, 385, 513, 769, 1025, 1537, 2049,
					   3073, 4097, 6145, 8193, 12289, 16385, 24577 };
static const uint8_t dist_extra[NDIST] = { 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
					   6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13 };

/* The literals and copies of one compressed block, up to its end code. */
static int
codes(struct bits *s, struct out *o, const struct huff *lit, const struct huff *dist)
{
	for (;;) {
		int sym = decode(s, lit);
		size_t n, d;

		if (sym < 0)
			return -1;
		if (sym < 256) {
			if (o->len == o->cap)
				return -1;
			o->p[o->len++] = (unsigned char)sym;
			continue;
		}
		if (sym == 256)
			return 0;
		sym -= 257;
		if (sym >= 29)
			return -1;
		n = len_base[sym] + getbits(s, len_extra[sym]);
		sym = decode(s, dist);
		if (sym < 0 || sym >= NDIST)
			return -1;
		d = dist_base[sym] + getbits(s, dist_extra[sym]);
		if (s->err || d > o->len || n > o->cap - o->len)
			return -1;
		for (; n > 0; n--, o->len++)
			o->p[o->len] = o->p[o->len - d];
	}
}

static int
fixed(struct bits *s, struct out *o)
{
	unsigned char len[NLIT];
	struct huff lit, dist;

	memset(len, 8, 144);
	memset(len + 144, 9, 112);
	memset(len + 256, 7, 24);
	memset(len + 280, 8, 8);
	build(&lit, len, NLIT);
	memset(len, 5, NDIST);
	build(&dist, len, NDIST);
	return codes(s, o, &lit, &dist);
}

/* A dynamic block: the code lengths' code, the two codes, the data. */
static int
dynamic(struct bits *s, struct out *o)
{
	static const uint8_t order[19] = { 16, 17, 18, 0, 8, 7, 9, 6, 10, 5,
					   11, 4, 12, 3, 13, 2, 14, 1, 15 };
	unsigned char len[NLIT + NDIST];
	unsigned nlit, ndist, ncode, i;
	struct huff lit, dist;

	nlit = getbits(s, 5) + 257;
	ndist = getbits(s, 5) + 1;
	ncode = getbits(s, 4) + 4;
	if (s->err || nlit > NLIT - 2 || ndist > NDIST)
		return -1;
	memset(len, 0, 19);
	for (i = 0; i < ncode; i++)
		len[order[i]] = (unsigned char)getbits(s, 3);
	if (s->err || build(&lit, len, 19) < 0)
		return -1;
	for (i = 0; i < nlit + ndist;) {
		int sym = decode(s, &lit);
		unsigned rep, val = 0;

		if (sym < 0)
			return -1;
		if (sym < 16) {
			len[i++] = (unsigned char)sym;
			continue;
		}
		if (sym == 16) {
			if (i == 0)
				return -1;
			val = len[i - 1];
			rep = 3 + getbits(s, 2);
		} else
			rep = sym == 17 ? 3 + getbits(s, 3) : 11 + getbits(s, 7);
		if (s->err || i + rep > nlit + ndist)
			return -1;
		while (rep-- > 0)
			len[i++] = (unsigned char)val;
	}
	if (len[256] == 0 || build(&lit, len, nlit) < 0 || build(&dist, len + nlit, ndist) < 0)
		return -1;
	return codes(s, o, &lit, &dist);
}

/* A stored block: from the next byte boundary, LEN, ~LEN and the bytes. */
static int
stored(struct bits *s, struct out *o)
{
	unsigned n, nn;

	getbits(s, s->cnt % 8);
	n = getbits(s, 16);
	nn = getbits(s, 16);
	if (s->err || n != (~nn & 0xffff))
		return -1;
	/* the bytes still in buf (none: cnt is 0 after two whole 16-bit reads
	 * from a byte boundary) come first, then the input's */
	if ((size_t)(s->end - s->p) < n || o->cap - o->len < n)
		return -1;
	memcpy(o->p + o->len, s->p, n);
	s->p += n;
	o->len += n;
	return 0;
}

int
inflate_raw(const unsigned char *in, size_t inlen, unsigned char *out, size_t outlen,
	    size_t *got)
{
	struct bits s = { in, in + inlen, 0, 0, false };
	struct out o = { out, 0, outlen };
	unsigned last;

	do {
		unsigned type;
		int r;

		last = getbits(&s, 1);
		type = getbits(&s, 2);
		if (s.err)
			return -1;
		r = type == 0 ? stored(&s, &o) : type == 1 ? fixed(&s, &o) :
		    type == 2 ? dynamic(&s, &o) : -1;
		if (r < 0 || s.err)
			return -1;
	} while (!last);
	*got = o.len;
	return 0;
}

char *
inflate_gzip_dup(const unsigned char *gz, size_t gzlen, size_t len)
{
	size_t at = 10, got;
	char *p;

	/* ID1 ID2 CM=8 FLG MTIME(4) XFL OS; gzip -n writes no optional
	 * field, so any flag (FEXTRA, FNAME, ...) is refused */
	if (gzlen < 18 || gz[0] != 0x1f || gz[1] != 0x8b || gz[2] != 8 || gz[3] != 0)
		return NULL;
	if ((gz[gzlen - 4] | gz[gzlen - 3] << 8 | gz[gzlen - 2] << 16 |
	     (size_t)gz[gzlen - 1] << 24) != (len & 0xffffffffu))
		return NULL;
	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	if (inflate_raw(gz + at, gzlen - at - 8, (unsigned char *)p, len, &got) < 0 ||
	    got != len) {
		free(p);
		return NULL;
	}
	p[len] = '\0';
	return p;
}

char *
inflate_text_dup(const char *plain, const unsigned char *gz, size_t gzlen, size_t len)
{
	char *p;

	if (plain == NULL)
		return inflate_gzip_dup(gz, gzlen, len);
	if ((p = malloc(len + 1)) != NULL)
		memcpy(p, plain, len + 1);
	return p;
}
