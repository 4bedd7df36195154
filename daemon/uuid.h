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
/* The name-based UUID (version 5) of name in the namespace ns (a UUID's
 * text; name: at most 256 bytes), in lower case: 0, or -1. */
int uuid_derive(const char *ns, const char *name, char *buf, size_t size);
/* A random UUID (version 4), printed in lower case. */
void uuid_random_text(char out[37]);

#endif
