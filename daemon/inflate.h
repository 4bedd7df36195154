/* inflate.h - a small DEFLATE decoder (RFC 1951) for the files embedded
 * gzip-compressed at build time (xml/, daemon/admin/): they are stored
 * once, compressed, and expanded only for a client that does not take
 * gzip or for a template that is filled in. */
#ifndef IGDD_INFLATE_H
#define IGDD_INFLATE_H

#include <stddef.h>

/* Decode the raw DEFLATE stream in[0..inlen) into out[0..outlen); its
 * decoded length in *got.  0 when the stream's last block ended within
 * both buffers, -1 on a bad stream, a stream that reads past in's end or
 * writes past out's. */
int inflate_raw(const unsigned char *in, size_t inlen, unsigned char *out, size_t outlen,
		size_t *got);

/* The gzip member gz[0..gzlen) (RFC 1952) expanded into a new
 * NUL-terminated buffer (free it), which must be exactly len bytes long
 * (its trailer's ISIZE says so too); NULL on any error. */
char *inflate_gzip_dup(const unsigned char *gz, size_t gzlen, size_t len);

/* An embedded file's text (len bytes) in a new NUL-terminated buffer:
 * plain copied, or, when plain is NULL, gz expanded; NULL on error. */
char *inflate_text_dup(const char *plain, const unsigned char *gz, size_t gzlen, size_t len);

#endif
