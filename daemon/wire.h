/* wire.h - bounds-checked cursors for reading and writing datagrams.
 *
 * A reader that runs out of data sets err and returns zeros from then on,
 * so a parser can read a whole structure and test err once.  A writer
 * that runs out of room sets err and writes nothing more.  Multi-byte
 * values are big-endian (network order) on the wire, host order here. */
#ifndef IGDD_WIRE_H
#define IGDD_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
	const uint8_t *p;
	size_t left;
	bool err;
};

struct wr {
	uint8_t *p;
	size_t left;
	bool err;
	uint8_t *start;		/* for wr_len() */
};

void rd_init(struct rd *r, const void *buf, size_t len);
uint8_t rd_u8(struct rd *r);
uint16_t rd_u16(struct rd *r);
uint32_t rd_u32(struct rd *r);
/* Copy n bytes into out (out may be NULL to skip them).  On a short read
 * out is zero-filled and err set. */
void rd_bytes(struct rd *r, void *out, size_t n);
/* A pointer to the next n bytes, consumed; NULL (and err) if fewer remain. */
const uint8_t *rd_take(struct rd *r, size_t n);
/* Skip n bytes. */
void rd_skip(struct rd *r, size_t n);

void wr_init(struct wr *w, void *buf, size_t size);
void wr_u8(struct wr *w, uint8_t v);
void wr_u16(struct wr *w, uint16_t v);
void wr_u32(struct wr *w, uint32_t v);
void wr_bytes(struct wr *w, const void *src, size_t n);
void wr_zero(struct wr *w, size_t n);
/* Bytes written so far. */
size_t wr_len(const struct wr *w);

#endif
