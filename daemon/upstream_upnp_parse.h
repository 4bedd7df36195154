/* upstream_upnp_parse.h - what the relay's UPnP control point reads from
 * an upstream IGD (SSDP answers, HTTP responses, the device description,
 * SOAP answers) and the requests it writes.  Pure, bounded functions: the
 * upstream is as untrusted as a LAN client (fuzz_upnpcp). */
#ifndef IGDD_UPSTREAM_UPNP_PARSE_H
#define IGDD_UPSTREAM_UPNP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define UPCP_URL_MAX	256
#define UPCP_TYPE_MAX	96

/* http://a.b.c.d[:port][/path]: an IPv4 literal host only (a gateway's
 * LAN side names itself so; no DNS from the event loop).  0 / -1. */
struct upcp_url {
	struct in_addr host;
	uint16_t port;
	char path[UPCP_URL_MAX];	/* starts with '/' */
};
int upcp_parse_url(const char *s, size_t len, struct upcp_url *u);

/* An SSDP answer to an M-SEARCH (HTTP/1.1 200 OK, LOCATION, ST).  0 / -1. */
struct upcp_ssdp {
	char location[UPCP_URL_MAX];
	char st[UPCP_TYPE_MAX];
};
int upcp_parse_ssdp(const char *buf, size_t len, struct upcp_ssdp *r);

/* An HTTP/1.x response received whole (the server closed, or sent
 * Content-Length bytes): status and body, a chunked body decoded into
 * body[] (bounded by the buffer).  UPCP_HTTP_MORE when more may come,
 * -1 when malformed, else 0 with *r set; body points into buf (or is
 * decoded in place: buf is modified). */
#define UPCP_HTTP_MORE	1
struct upcp_http {
	int status;
	const char *body;
	size_t body_len;
};
int upcp_parse_http(char *buf, size_t len, bool closed, struct upcp_http *r);

/* The device description: the WANIPConnection (else WANPPPConnection)
 * service of the highest version up to 2, its control URL made absolute
 * against URLBase or the description's own URL.  0 / -1. */
struct upcp_desc {
	char service_type[UPCP_TYPE_MAX];	/* urn:schemas-upnp-org:service:WANIPConnection:2 */
	unsigned version;
	struct upcp_url control;
};
int upcp_parse_desc(const char *xml, size_t len, const struct upcp_url *from,
		    struct upcp_desc *d);

/* A SOAP answer: a fault's UPnP errorCode (error > 0), or the values of
 * the output arguments the relay reads.  0 / -1 (not SOAP). */
struct upcp_soap {
	int error;			/* 0: success */
	bool has_ext, has_port, has_client;
	struct in_addr ext;		/* NewExternalIPAddress */
	uint16_t port;			/* NewReservedPort, or NewInternalPort */
	struct in_addr client;		/* NewInternalClient */
};
int upcp_parse_soap(const char *body, size_t len, struct upcp_soap *r);

/* The SOAP request of action with its arguments (pairs of name, value;
 * values XML-escaped here), as a whole HTTP POST to ctl.  Its length, or
 * 0 when it does not fit. */
size_t upcp_write_soap(char *buf, size_t size, const struct upcp_url *ctl,
		       const char *service_type, const char *action,
		       const char *const *args, size_t n_args);
/* An M-SEARCH for st; a GET of url.  Their length, 0 if they do not fit. */
size_t upcp_write_msearch(char *buf, size_t size, const char *st);
size_t upcp_write_get(char *buf, size_t size, const struct upcp_url *url);

#endif
