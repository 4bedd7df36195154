/* http.c - HTTP server for descriptions, SOAP control and GENA.  (stub: not built yet) */
#include "ctx.h"
#include "http.h"

int
http_init(struct igdd_ctx *ctx)
{
	(void)ctx;
	return 0;
}

void
http_shutdown(struct igdd_ctx *ctx)
{
	(void)ctx;
}
