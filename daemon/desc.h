/* desc.h - the UPnP descriptions: the service table and the embedded XML
 * documents with their run-time values filled in. */
#ifndef IGDD_DESC_H
#define IGDD_DESC_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>

struct igdd_ctx;

enum desc_svc {
	SVC_L3F = 0,		/* Layer3Forwarding:1 */
	SVC_WANCFG,		/* WANCommonInterfaceConfig:1 */
	SVC_WANIPC,		/* WANIPConnection:2 (1 with force_igd_desc_v1) */
	SVC_WANIP6FC,		/* WANIPv6FirewallControl:1, IGD:2 with IPv6 only */
	SVC_COUNT
};

struct desc_service {
	enum desc_svc id;
	const char *type;	/* "WANIPConnection" */
	unsigned ver_v2;	/* version served by an IGD:2 device */
	unsigned ver_v1;	/* version served with force_igd_desc_v1 (0: none) */
	unsigned device;	/* 0 root, 1 WANDevice, 2 WANConnectionDevice */
	const char *scpd;	/* "/WANIPCn.xml" */
	const char *control;	/* "/ctl/IPConn" */
	const char *event;	/* "/evt/IPConn" */
};

extern const struct desc_service desc_services[SVC_COUNT];

/* Version of the device tree we announce: 2, or 1 with force_igd_desc_v1. */
unsigned desc_igd_version(const struct igdd_ctx *ctx);
/* Is this User-Agent one of the control points that fail on an IGD:2
 * device (Windows' and the Xbox's UPnP stacks, as miniupnpd 2.2.3 and
 * OpenWrt's patch of it recognise them)?  ua[0..len), NULL = none. */
bool desc_ua_wants_igd1(const char *ua, size_t len);
/* The device version a control point with this User-Agent gets: 1 with
 * force_igd_desc_v1, or when igd_v1_by_user_agent is on and
 * desc_ua_wants_igd1(); else 2.  Its SSDP answers, descriptions and SOAP
 * control all use it, so that they agree. */
unsigned desc_igd_version_for(const struct igdd_ctx *ctx, const char *ua, size_t len);
/* The version of service s in a device tree of version igd_version. */
unsigned desc_service_version(const struct desc_service *s, unsigned igd_version);
/* Is service s in the tree of version igd_version we serve now?  Not
 * when its version there is 0, nor WANIPv6FirewallControl with
 * ipv6_disable or while no LAN interface has a global or ULA IPv6 prefix
 * (no pinhole could exist). */
bool desc_service_present(const struct igdd_ctx *ctx, const struct desc_service *s,
			  unsigned igd_version);
/* The service whose control / event URL path is this (NULL if none). */
const struct desc_service *desc_service_by_control(const char *path);
const struct desc_service *desc_service_by_event(const char *path);
const struct desc_service *desc_service_by_type(const char *type, size_t len);

/* Whom a document is rendered for: the LAN address the control point
 * reached us on (the default presentationURL is http://<lan>/, as
 * miniupnpd's) and the device version it gets (1 or 2). */
struct desc_view {
	struct in_addr lan;
	unsigned igd_version;
};
/* Render the document served at path ("/rootDesc.xml", "/WANIPCn.xml"...)
 * for view v, with run-time values filled in and XML-escaped, and without
 * the templates' comments.  Returns a malloc'd NUL-terminated buffer and
 * its length, or NULL when there is no such document (or on a template
 * error). */
char *desc_render(const struct igdd_ctx *ctx, const char *path, const struct desc_view *v,
		  size_t *len);

/* Serve the documents over HTTP: registers their routes (GET, HEAD) with
 * the server (after http_init()).  0 / -1. */
int desc_init(struct igdd_ctx *ctx);

/* Append s XML-escaped (& < > " ') to a growing buffer.  0 / -1. */
struct desc_buf {
	char *p;
	size_t len, cap;
	bool failed;
};
void desc_buf_put(struct desc_buf *b, const char *s, size_t n);
void desc_buf_puts(struct desc_buf *b, const char *s);
void desc_buf_put_u(struct desc_buf *b, unsigned v);
void desc_buf_printf(struct desc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void desc_buf_escape(struct desc_buf *b, const char *s, size_t n);
/* The same, escaped times times over in one pass (2: an XML document
 * carried in a string argument, as IGD:2 2.3.23 A_ARG_TYPE_PortListing). */
void desc_buf_escape_n(struct desc_buf *b, const char *s, size_t n, unsigned times);
/* The same for a configured name, but an entity reference in it (&amp;
 * &lt; &gt; &quot; &apos; &#N; &#xH;) is kept as written: OpenWrt's init
 * script XML-escapes names before igdd reads them, and they must be
 * served escaped once, never "&amp;amp;". */
void desc_buf_escape_text(struct desc_buf *b, const char *s, size_t n);
void desc_buf_free(struct desc_buf *b);

#endif
