/* pmp.c - UDP 5351 server: NAT-PMP (RFC 6886) and PCP (RFC 6887).  (stub: not built yet) */
#include "ctx.h"
#include "pmp.h"

int
pmp_init(struct igdd_ctx *ctx)
{
	(void)ctx;
	return 0;
}

void
pmp_shutdown(struct igdd_ctx *ctx)
{
	(void)ctx;
}
