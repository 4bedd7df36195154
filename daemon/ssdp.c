/* ssdp.c - SSDP responder and notifier (UDA 1.1/2.0).  (stub: not built yet) */
#include "ctx.h"
#include "ssdp.h"

int
ssdp_init(struct igdd_ctx *ctx)
{
	(void)ctx;
	return 0;
}

void
ssdp_shutdown(struct igdd_ctx *ctx)
{
	(void)ctx;
}
