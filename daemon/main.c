/* main.c - start-up, the loop, shutdown.  Everything else is in libigdd. */
#include <stdio.h>

#include "config.h"
#include "ctx.h"
#include "daemon.h"
#include "log.h"
#include "reload.h"

int
main(int argc, char **argv)
{
	static struct igdd_ctx ctx;
	int rc;

	rc = daemon_configure(&ctx, argc, argv, stdout, stderr);
	if (rc >= 0)
		return rc;
	reload_init(&ctx);
	if (daemon_start(&ctx) < 0)
		return 1;
	daemon_run(&ctx);
	daemon_stop(&ctx);
	return 0;
}
