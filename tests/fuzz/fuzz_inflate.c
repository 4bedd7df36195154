/* fuzz_inflate.c - the DEFLATE decoder (daemon/inflate.c).  Its inputs are
 * the binary's own build-time files, but a decoder must never read or
 * write out of bounds on any stream: raw streams into a small and a large
 * buffer, and the same bytes as a gzip member of a claimed length.
 * Input: two bytes of output size, then the stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap, got = 0;
	unsigned char *out;
	char *p;

	if (size < 2)
		return 0;
	cap = (size_t)data[0] | (size_t)(data[1] & 0x7f) << 8;
	data += 2;
	size -= 2;
	if ((out = malloc(cap + 1)) == NULL)
		return 0;
	if (inflate_raw(data, size, out, cap, &got) == 0 && got > cap)
		abort();
	free(out);
	p = inflate_gzip_dup(data, size, cap);
	if (p != NULL && (p[cap] != '\0'))
		abort();
	free(p);
	return 0;
}
