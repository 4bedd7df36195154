/* main.c - start-up, the loop, shutdown.  Everything else is in libigdd. */
#include <malloc.h>
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

#ifdef M_TRIM_THRESHOLD
	/* Fixed (glibc raises both after the first large free, and then a
	 * freed table or buffer of up to 32 MiB stays resident in the heap,
	 * e.g. the restore's): a block of 128 KiB or more is a mapping of its
	 * own, given back when freed, and so is free memory at the heap's top
	 * beyond 128 KiB. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 128 * 1024);
#endif
#ifdef M_ARENA_MAX
	/* The restore's install thread (netfilter/nft.c) allocates from the
	 * one heap too: no arena of its own that would keep what it freed. */
	mallopt(M_ARENA_MAX, 1);
#endif
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
