/* desc.h - the UPnP descriptions: the service table and the embedded XML
 * documents with their run-time values filled in. */
#ifndef IGDD_DESC_H
#define IGDD_DESC_H

#include <stdbool.h>
#include <stddef.h>

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

/* Version of the device tree we serve: 2, or 1 with force_igd_desc_v1. */
unsigned desc_igd_version(const struct igdd_ctx *ctx);
/* 0: the service is not in the tree we serve now (WANIPv6FirewallControl
 * with IGD:1, with ipv6_disable, or while no LAN interface has a global
 * or ULA IPv6 prefix: no pinhole could exist). */
unsigned desc_service_version(const struct igdd_ctx *ctx, const struct desc_service *s);
/* The service whose control / event URL path is this (NULL if none). */
const struct desc_service *desc_service_by_control(const char *path);
const struct desc_service *desc_service_by_event(const char *path);
const struct desc_service *desc_service_by_type(const char *type, size_t len);

/* Render the document served at path ("/rootDesc.xml", "/WANIPCn.xml"...)
 * with run-time values filled in and XML-escaped.  base_url
 * ("http://192.168.1.1:5000") stands in for empty URLs in the config.
 * Returns a malloc'd NUL-terminated buffer and its length, or NULL when
 * there is no such document (or on a template error). */
char *desc_render(const struct igdd_ctx *ctx, const char *path, const char *base_url,
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
void desc_buf_printf(struct desc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void desc_buf_escape(struct desc_buf *b, const char *s, size_t n);
/* The same, escaped times times over in one pass (2: an XML document
 * carried in a string argument, as IGD:2 2.3.23 A_ARG_TYPE_PortListing). */
void desc_buf_escape_n(struct desc_buf *b, const char *s, size_t n, unsigned times);
void desc_buf_free(struct desc_buf *b);

#endif
