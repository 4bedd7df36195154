/* wire.c - bounds-checked datagram cursors (see wire.h). */
#include <string.h>

#include "wire.h"

void
rd_init(struct rd *r, const void *buf, size_t len)
{
	r->p = buf;
	r->left = buf != NULL ? len : 0;
	r->err = false;
}

const uint8_t *
rd_take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->err || r->left < n) {
		r->err = true;
		r->left = 0;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint8_t
rd_u8(struct rd *r)
{
	const uint8_t *p = rd_take(r, 1);

	return p != NULL ? p[0] : 0;
}

uint16_t
rd_u16(struct rd *r)
{
	const uint8_t *p = rd_take(r, 2);

	return p != NULL ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t
rd_u32(struct rd *r)
{
	const uint8_t *p = rd_take(r, 4);

	return p != NULL ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			   (uint32_t)p[2] << 8 | p[3] : 0;
}

void
rd_bytes(struct rd *r, void *out, size_t n)
{
	const uint8_t *p = rd_take(r, n);

	if (out == NULL)
		return;
	if (p != NULL)
		memcpy(out, p, n);
	else
		memset(out, 0, n);
}

void
rd_skip(struct rd *r, size_t n)
{
	(void)rd_take(r, n);
}

void
wr_init(struct wr *w, void *buf, size_t size)
{
	w->p = buf;
	w->start = buf;
	w->left = buf != NULL ? size : 0;
	w->err = false;
}

static uint8_t *
wr_room(struct wr *w, size_t n)
{
	uint8_t *p;

	if (w->err || w->left < n) {
		w->err = true;
		return NULL;
	}
	p = w->p;
	w->p += n;
	w->left -= n;
	return p;
}

void
wr_u8(struct wr *w, uint8_t v)
{
	uint8_t *p = wr_room(w, 1);

	if (p != NULL)
		p[0] = v;
}

void
wr_u16(struct wr *w, uint16_t v)
{
	uint8_t *p = wr_room(w, 2);

	if (p != NULL) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

void
wr_u32(struct wr *w, uint32_t v)
{
	uint8_t *p = wr_room(w, 4);

	if (p != NULL) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

void
wr_bytes(struct wr *w, const void *src, size_t n)
{
	uint8_t *p = wr_room(w, n);

	if (p != NULL && n > 0)
		memmove(p, src, n);
}

void
wr_zero(struct wr *w, size_t n)
{
	uint8_t *p = wr_room(w, n);

	if (p != NULL)
		memset(p, 0, n);
}

size_t
wr_len(const struct wr *w)
{
	return (size_t)(w->p - w->start);
}
