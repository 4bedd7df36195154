/* uuid.h - the device UUID. */
#ifndef IGDD_UUID_H
#define IGDD_UUID_H

#include <stddef.h>

struct igdd_ctx;

/* ctx->uuid from the config, or derived deterministically (see uuid.c). */
int uuid_init(struct igdd_ctx *ctx);
/* UUID of embedded device n (1 = WANDevice, 2 = WANConnectionDevice):
 * the root UUID with its last bytes varied, stable like the root one. */
int uuid_embedded(const struct igdd_ctx *ctx, unsigned n, char *buf, size_t size);

#endif
