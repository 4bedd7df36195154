/* uuid.c - the device UUID.
 *
 * When the configuration has no uuid, igdd derives one deterministically
 * (a name-based SHA-1 UUID, RFC 4122 version 5) from /etc/machine-id and
 * the MAC address of the first LAN interface, so it stays the same across
 * restarts and reboots without any state file, and differs between
 * gateways.  Embedded devices get UUIDs derived from the root one.
 *
 * The few lines of RFC 4122 (SHA-1, parse, print) are here rather than
 * libuuid's: one library less mapped into the daemon (VmRSS,
 * bench/README.md). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ctx.h"
#include "log.h"
#include "util.h"
#include "uuid.h"

/* igdd's own namespace for version-5 UUIDs (a fixed random UUID). */
static const uint8_t igdd_ns[16] = {
	0x6b, 0x1f, 0x4c, 0x2e, 0x93, 0x0a, 0x4e, 0x57,
	0x8d, 0x41, 0x2f, 0xc6, 0x05, 0x7a, 0xb3, 0x19,
};

static uint32_t
rol32(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

/* One 64-byte block of SHA-1 (FIPS 180-4 6.1.2) into h. */
static void
sha1_block(uint32_t h[5], const uint8_t *p)
{
	static const uint32_t k[4] = { 0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6 };
	uint32_t w[80], v[5], f, t;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	memcpy(v, h, sizeof(v));
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (v[1] & v[2]) | (~v[1] & v[3]);
		else if (i >= 40 && i < 60)
			f = (v[1] & v[2]) | (v[1] & v[3]) | (v[2] & v[3]);
		else
			f = v[1] ^ v[2] ^ v[3];
		t = rol32(v[0], 5) + f + v[4] + k[i / 20] + w[i];
		v[4] = v[3];
		v[3] = v[2];
		v[2] = rol32(v[1], 30);
		v[1] = v[0];
		v[0] = t;
	}
	for (i = 0; i < 5; i++)
		h[i] += v[i];
}

/* A name-based UUID (RFC 4122 4.3, version 5: SHA-1) of ns and the first
 * len (at most 256) bytes of name. */
static void
uuid_v5(uint8_t out[16], const uint8_t ns[16], const void *name, size_t len)
{
	uint32_t h[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };
	uint8_t msg[16 + 256 + 72];
	size_t n, i;
	uint64_t bits;

	if (len > 256)
		len = 256;
	bits = (uint64_t)(16 + len) * 8;
	memcpy(msg, ns, 16);
	memcpy(msg + 16, name, len);
	n = 16 + len;
	msg[n++] = 0x80;
	while (n % 64 != 56)
		msg[n++] = 0;
	for (i = 0; i < 8; i++)
		msg[n++] = (uint8_t)(bits >> (56 - 8 * i));
	for (i = 0; i < n; i += 64)
		sha1_block(h, msg + i);
	for (i = 0; i < 16; i++)
		out[i] = (uint8_t)(h[i / 4] >> (24 - 8 * (i % 4)));
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x50);
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
}

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case) into u: 0, or -1. */
static int
uuid_from_text(const char *s, uint8_t u[16])
{
	unsigned i, j = 0;
	int d;

	if (strlen(s) != 36)
		return -1;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
			continue;
		}
		if ((d = hex_digit(s[i])) < 0)
			return -1;
		if (j % 2 == 0)
			u[j / 2] = (uint8_t)(d << 4);
		else
			u[j / 2] |= (uint8_t)d;
		j++;
	}
	return 0;
}

static void
uuid_to_text(const uint8_t u[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned i, n = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[n++] = '-';
		out[n++] = hex[u[i] >> 4];
		out[n++] = hex[u[i] & 15];
	}
	out[n] = '\0';
}

void
uuid_random_text(char out[37])
{
	uint8_t u[16];
	struct {
		struct timespec real, mono;
		const void *where;
	} seed;

	if (getrandom(u, sizeof(u), GRND_NONBLOCK) != (ssize_t)sizeof(u)) {
		/* no kernel randomness yet: unique, if guessable */
		memset(&seed, 0, sizeof(seed));
		clock_gettime(CLOCK_REALTIME, &seed.real);
		clock_gettime(CLOCK_MONOTONIC, &seed.mono);
		seed.where = &seed;
		uuid_v5(u, igdd_ns, &seed, sizeof(seed));
	}
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	uuid_to_text(u, out);
}

static void
read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f == NULL)
		return;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	fclose(f);
}

int
uuid_init(struct igdd_ctx *ctx)
{
	char name[256], machine[64], mac[64], path[128];
	uint8_t u[16];

	if (ctx->cfg.uuid[0] != '\0') {
		if (uuid_from_text(ctx->cfg.uuid, u) < 0) {
			log_warnx("uuid %s is not a UUID", ctx->cfg.uuid);
			return -1;
		}
	} else {
		read_line("/etc/machine-id", machine, sizeof(machine));
		mac[0] = '\0';
		if (ctx->n_lan > 0 &&
		    str_printf(path, sizeof(path), "/sys/class/net/%s/address", ctx->lan[0].name) == 0)
			read_line(path, mac, sizeof(mac));
		if (machine[0] == '\0' && mac[0] == '\0') {
			log_warnx("no machine-id and no LAN MAC: using a random UUID for this run");
			uuid_random_text(ctx->uuid);
			return 0;
		} else if (str_printf(name, sizeof(name), "igdd:%s:%s", machine, mac) < 0) {
			return -1;
		} else {
			uuid_v5(u, igdd_ns, name, strlen(name));
		}
	}
	uuid_to_text(u, ctx->uuid);
	return 0;
}

int
uuid_embedded(const struct igdd_ctx *ctx, unsigned n, char *buf, size_t size)
{
	char name[64];

	if (n == 0)
		return str_copy(buf, size, ctx->uuid);
	if (str_printf(name, sizeof(name), "embedded-device-%u", n) < 0)
		return -1;
	return uuid_derive(ctx->uuid, name, buf, size);
}

int
uuid_derive(const char *ns, const char *name, char *buf, size_t size)
{
	uint8_t root[16], u[16];

	if (uuid_from_text(ns, root) < 0 || size < 37)
		return -1;
	uuid_v5(u, root, name, strlen(name));
	uuid_to_text(u, buf);
	return 0;
}
