/* events.c - GENA eventing: subscriptions and NOTIFY.  (stub: not built yet) */
#include "ctx.h"
#include "events.h"

int
events_init(struct igdd_ctx *ctx)
{
	(void)ctx;
	return 0;
}

void
events_shutdown(struct igdd_ctx *ctx)
{
	(void)ctx;
}
