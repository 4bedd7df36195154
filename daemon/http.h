/* http.h - HTTP server for descriptions, SOAP control and GENA. */
#ifndef IGDD_HTTP_H
#define IGDD_HTTP_H

struct igdd_ctx;

/* Open sockets and register them with the loop. 0 ok, -1 fatal. */
int http_init(struct igdd_ctx *ctx);
/* Say goodbye where the protocol wants it, close everything. */
void http_shutdown(struct igdd_ctx *ctx);

#endif
