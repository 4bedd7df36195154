/* upstream_off.c - the relay left out of the build (./configure
 * --without-relay, for a firmware image without it): upstream.c and its
 * PCP, NAT-PMP and UPnP client sides are not linked; every request gets
 * the store's plain answer (upstream_base.c), as with
 * upstream_protocol=none, and a configuration that asks for a relay is
 * refused at start-up.  STUN stays. */
#include <string.h>

#include "ctx.h"
#include "log.h"
#include "stun.h"
#include "upstream.h"
#include "util.h"

int
upstream_add(struct igdd_ctx *ctx, const struct mapping *req, uint32_t lifetime,
	     unsigned store_flags, unsigned flags, struct upstream_waiter *w,
	     struct upstream_answer *a, struct mapping **out)
{
	(void)flags;
	(void)w;
	return upstream_add_plain(ctx, req, lifetime, store_flags, a, out);
}

void
upstream_batch_end(struct igdd_ctx *ctx, bool undone)
{
	(void)ctx;
	(void)undone;
}

void
upstream_waiter_cancel(struct igdd_ctx *ctx, struct upstream_waiter *w)
{
	(void)ctx;
	(void)w;
}

bool
upstream_active(const struct igdd_ctx *ctx)
{
	(void)ctx;
	return false;
}

void
upstream_view(const struct igdd_ctx *ctx, const struct mapping *m, struct in_addr *ext,
	      uint16_t *eport)
{
	*ext = ctx->ext_addr;
	*eport = m->eport;
}

uint16_t
upstream_local_port(const struct igdd_ctx *ctx, uint8_t proto, uint16_t eport)
{
	(void)ctx;
	(void)proto;
	return eport;
}

bool
upstream_reachable(const struct igdd_ctx *ctx)
{
	return stun_reachable(ctx);
}

const char *
upstream_status(const struct igdd_ctx *ctx, char *buf, size_t size)
{
	(void)ctx;
	str_copy(buf, size, "upstream: none (built without the relay)");
	return buf;
}

void
upstream_log_status(const struct igdd_ctx *ctx)
{
	char buf[256];

	if (ctx->stun != NULL)
		log_info("%s", stun_status(ctx, buf, sizeof(buf)));
}

#define OFF_MSG "upstream_protocol=%s, but igdd was built without the relay " \
		"(./configure --without-relay)"

int
upstream_init(struct igdd_ctx *ctx)
{
	if (ctx->cfg.upstream_protocol == UPSTREAM_NONE)
		return 0;
	log_warnx(OFF_MSG, upstream_proto_name((enum upstream_proto)ctx->cfg.upstream_protocol));
	return -1;
}

int
upstream_check(const struct config *cfg, FILE *err)
{
	if (cfg->upstream_protocol == UPSTREAM_NONE)
		return 0;
	fprintf(err, OFF_MSG "\n", upstream_proto_name((enum upstream_proto)cfg->upstream_protocol));
	return -1;
}

void
upstream_recheck(struct igdd_ctx *ctx)
{
	(void)ctx;
}

void
upstream_shutdown(struct igdd_ctx *ctx)
{
	(void)ctx;
}

bool
upstream_get_info(const struct igdd_ctx *ctx, struct upstream_info *i)
{
	(void)ctx;
	memset(i, 0, sizeof(*i));
	return false;
}

const struct upstream_stats *
upstream_get_stats(const struct igdd_ctx *ctx)
{
	(void)ctx;
	return NULL;
}
