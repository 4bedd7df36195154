/* admin_off.c - the admin page left out of the build (./configure
 * --without-admin, for a firmware image without it): admin.c,
 * admin_auth.c, admin_parse.c and the page's files are not linked, these
 * hooks stand in for them, and a configuration that turns the page on is
 * refused, at start-up as by igdd --check. */
#include "admin.h"
#include "conf.h"
#include "ctx.h"
#include "log.h"

#define OFF_MSG "admin_listen is set, but igdd was built without the admin page " \
		"(./configure --without-admin)"

int
admin_init(struct igdd_ctx *ctx)
{
	if (ctx->cfg.admin_listen.port == 0)
		return 0;
	log_warnx(OFF_MSG);
	return -1;
}

int
admin_start(struct igdd_ctx *ctx)
{
	(void)ctx;
	return 0;
}

int
admin_iface_setup(struct igdd_ctx *ctx, unsigned slot)
{
	(void)ctx;
	(void)slot;
	return 0;
}

void
admin_iface_teardown(struct igdd_ctx *ctx, unsigned slot)
{
	(void)ctx;
	(void)slot;
}

void
admin_reconfigure(struct igdd_ctx *ctx, char *msg, size_t msgsize)
{
	(void)ctx;
	if (msgsize > 0)
		msg[0] = '\0';
}

void
admin_shutdown(struct igdd_ctx *ctx)
{
	(void)ctx;
}

int
admin_check(const struct config *cfg, FILE *err)
{
	if (cfg->admin_listen.port == 0)
		return 0;
	fprintf(err, "%s\n", OFF_MSG);
	return -1;
}
