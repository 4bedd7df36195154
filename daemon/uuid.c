/* uuid.c - the device UUID.
 *
 * When the configuration has no uuid, igdd derives one deterministically
 * (a name-based SHA-1 UUID, RFC 4122 version 5) from /etc/machine-id and
 * the MAC address of the first LAN interface, so it stays the same across
 * restarts and reboots without any state file, and differs between
 * gateways.  Embedded devices get UUIDs derived from the root one. */
#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

#include "ctx.h"
#include "log.h"
#include "util.h"
#include "uuid.h"

/* igdd's own namespace for version-5 UUIDs (a fixed random UUID). */
static const uuid_t igdd_ns = {
	0x6b, 0x1f, 0x4c, 0x2e, 0x93, 0x0a, 0x4e, 0x57,
	0x8d, 0x41, 0x2f, 0xc6, 0x05, 0x7a, 0xb3, 0x19,
};

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
	uuid_t u;

	if (ctx->cfg.uuid[0] != '\0') {
		if (uuid_parse(ctx->cfg.uuid, u) < 0) {
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
			uuid_generate_random(u);
		} else if (str_printf(name, sizeof(name), "igdd:%s:%s", machine, mac) < 0) {
			return -1;
		} else {
			uuid_generate_sha1(u, igdd_ns, name, strlen(name));
		}
	}
	uuid_unparse_lower(u, ctx->uuid);
	return 0;
}

int
uuid_embedded(const struct igdd_ctx *ctx, unsigned n, char *buf, size_t size)
{
	char name[64];
	uuid_t root, u;

	if (n == 0)
		return str_copy(buf, size, ctx->uuid);
	if (uuid_parse(ctx->uuid, root) < 0 ||
	    str_printf(name, sizeof(name), "embedded-device-%u", n) < 0 || size < 37)
		return -1;
	uuid_generate_sha1(u, root, name, strlen(name));
	uuid_unparse_lower(u, buf);
	return 0;
}
