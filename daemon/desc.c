/* desc.c - the service table and description rendering.
 *
 * The XML files of xml/ are templates: @NAME@ is replaced by a run-time
 * value (XML-escaped), and <!--IF:COND--> ... <!--END:COND--> sections are
 * kept only when COND holds.  The templates stay well-formed XML as they
 * are, so xmllint checks them in the source tree as well as served. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctx.h"
#include "desc.h"
#include "http.h"
#include "util.h"
#include "uuid.h"
#include "xmldata.h"

const struct desc_service desc_services[SVC_COUNT] = {
	{ SVC_L3F, "Layer3Forwarding", 1, 1, 0, "/L3F.xml", "/ctl/L3F", "/evt/L3F" },
	{ SVC_WANCFG, "WANCommonInterfaceConfig", 1, 1, 1, "/WANCfg.xml", "/ctl/CmnIfCfg",
	  "/evt/CmnIfCfg" },
	{ SVC_WANIPC, "WANIPConnection", 2, 1, 2, "/WANIPCn.xml", "/ctl/IPConn", "/evt/IPConn" },
	/* miniupnpd's paths: clients hard-code them */
	{ SVC_WANIP6FC, "WANIPv6FirewallControl", 1, 0, 2, "/WANIP6FC.xml", "/ctl/IP6FCtl",
	  "/evt/IP6FCtl" },
};

/* Is WANIPv6FirewallControl in the tree: IGD:2, IPv6 on, a LAN prefix? */
static bool
ip6fc_on(const struct igdd_ctx *ctx)
{
	return !ctx->cfg.force_igd_desc_v1 && !ctx->cfg.ipv6_disable && ctx_lan_has_prefix6(ctx);
}

unsigned
desc_igd_version(const struct igdd_ctx *ctx)
{
	return ctx->cfg.force_igd_desc_v1 ? 1 : 2;
}

unsigned
desc_service_version(const struct igdd_ctx *ctx, const struct desc_service *s)
{
	if (s->id == SVC_WANIP6FC && !ip6fc_on(ctx))
		return 0;
	return ctx->cfg.force_igd_desc_v1 ? s->ver_v1 : s->ver_v2;
}

const struct desc_service *
desc_service_by_control(const char *path)
{
	size_t i;

	for (i = 0; i < SVC_COUNT; i++)
		if (strcmp(desc_services[i].control, path) == 0)
			return &desc_services[i];
	return NULL;
}

const struct desc_service *
desc_service_by_event(const char *path)
{
	size_t i;

	for (i = 0; i < SVC_COUNT; i++)
		if (strcmp(desc_services[i].event, path) == 0)
			return &desc_services[i];
	return NULL;
}

const struct desc_service *
desc_service_by_type(const char *type, size_t len)
{
	size_t i;

	for (i = 0; i < SVC_COUNT; i++)
		if (strlen(desc_services[i].type) == len &&
		    memcmp(desc_services[i].type, type, len) == 0)
			return &desc_services[i];
	return NULL;
}

/* --- growing buffer --- */

void
desc_buf_put(struct desc_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
desc_buf_puts(struct desc_buf *b, const char *s)
{
	desc_buf_put(b, s, strlen(s));
}

void
desc_buf_printf(struct desc_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		b->failed = true;
		return;
	}
	desc_buf_put(b, tmp, (size_t)n);
}

void
desc_buf_escape(struct desc_buf *b, const char *s, size_t n)
{
	desc_buf_escape_n(b, s, n, 1);
}

void
desc_buf_escape_n(struct desc_buf *b, const char *s, size_t n, unsigned times)
{
	size_t i, start = 0;
	unsigned k;

	for (i = 0; i < n; i++) {
		const char *rep;

		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default: continue;
		}
		desc_buf_put(b, s + start, i - start);
		/* escaped again, "&lt;" is "&amp;lt;": one "amp;" per level */
		desc_buf_put(b, "&", 1);
		for (k = 1; k < times; k++)
			desc_buf_put(b, "amp;", 4);
		desc_buf_puts(b, rep + 1);
		start = i + 1;
	}
	desc_buf_put(b, s + start, n - start);
}

void
desc_buf_free(struct desc_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* --- rendering --- */

static const char *
or_default(const char *v, const char *def)
{
	return v[0] != '\0' ? v : def;
}

/* Value of placeholder name[0..n); NULL if unknown.  buf holds computed ones. */
static const char *
placeholder(const struct igdd_ctx *ctx, const char *name, size_t n, const char *base_url,
	    char *buf, size_t size)
{
	const struct config *c = &ctx->cfg;

#define IS(w) (n == sizeof(w) - 1 && memcmp(name, w, n) == 0)
	if (IS("VER"))
		return str_printf(buf, size, "%u", desc_igd_version(ctx)) == 0 ? buf : NULL;
	if (IS("CONFIGID"))
		return str_printf(buf, size, "%u", (unsigned)ctx->configid) == 0 ? buf : NULL;
	if (IS("UUID"))
		return ctx->uuid;
	if (IS("UUID_WAN"))
		return uuid_embedded(ctx, 1, buf, size) == 0 ? buf : NULL;
	if (IS("UUID_WANCONN"))
		return uuid_embedded(ctx, 2, buf, size) == 0 ? buf : NULL;
	if (IS("FRIENDLY_NAME"))
		return or_default(c->friendly_name, "igdd router");
	if (IS("MANUFACTURER"))
		return or_default(c->manufacturer_name, "igdd");
	if (IS("MANUFACTURER_URL"))
		return or_default(c->manufacturer_url, base_url);
	if (IS("MODEL_DESCRIPTION"))
		return or_default(c->model_description, "igdd UPnP IGD, NAT-PMP and PCP daemon");
	if (IS("MODEL_NAME"))
		return or_default(c->model_name, "igdd");
	if (IS("MODEL_NUMBER"))
		return or_default(c->model_number, IGDD_VERSION);
	if (IS("MODEL_URL"))
		return or_default(c->model_url, base_url);
	if (IS("SERIAL"))
		return or_default(c->serial, "00000000");
	if (IS("PRESENTATION_URL"))
		return c->presentation_url;
#undef IS
	return NULL;
}

static int
condition(const struct igdd_ctx *ctx, const char *name, size_t n)
{
	if (n == 2 && memcmp(name, "V2", 2) == 0)
		return desc_igd_version(ctx) >= 2;
	if (n == 12 && memcmp(name, "PRESENTATION", 12) == 0)
		return ctx->cfg.presentation_url[0] != '\0';
	if (n == 5 && memcmp(name, "IP6FC", 5) == 0)
		return ip6fc_on(ctx);
	return -1;
}

static const char *
find(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; p + n <= end; p++)
		if (memcmp(p, needle, n) == 0)
			return p;
	return NULL;
}

static const struct xml_file *
file_for_path(const char *path)
{
	if (path[0] != '/' || strchr(path + 1, '/') != NULL)
		return NULL;
	return xml_file_find(path + 1);
}

/* Copy [p, end) into b, filling placeholders and conditional sections. */
static int
render_span(const struct igdd_ctx *ctx, struct desc_buf *b, const char *p, const char *end,
	    const char *base_url, unsigned depth)
{
	char tmp[64], endmark[40];

	if (depth > 4)
		return -1;
	while (p < end) {
		const char *at = memchr(p, '@', (size_t)(end - p));
		const char *cond = find(p, end, "<!--IF:");
		const char *close, *v;

		if (cond != NULL && (at == NULL || cond < at)) {
			const char *nm = cond + 7, *ne = find(nm, end, "-->"), *endtag;
			int keep;

			if (ne == NULL || ne - nm > 20)
				return -1;
			keep = condition(ctx, nm, (size_t)(ne - nm));
			if (keep < 0 ||
			    str_printf(endmark, sizeof(endmark), "<!--END:%.*s-->", (int)(ne - nm), nm) < 0)
				return -1;
			endtag = find(ne, end, endmark);
			if (endtag == NULL)
				return -1;
			desc_buf_put(b, p, (size_t)(cond - p));
			if (keep && render_span(ctx, b, ne + 3, endtag, base_url, depth + 1) < 0)
				return -1;
			p = endtag + strlen(endmark);
			continue;
		}
		if (at == NULL) {
			desc_buf_put(b, p, (size_t)(end - p));
			break;
		}
		desc_buf_put(b, p, (size_t)(at - p));
		close = memchr(at + 1, '@', (size_t)(end - at - 1));
		if (close == NULL)
			return -1;
		v = placeholder(ctx, at + 1, (size_t)(close - at - 1), base_url, tmp, sizeof(tmp));
		if (v == NULL)
			return -1;
		desc_buf_escape(b, v, strlen(v));
		p = close + 1;
	}
	return 0;
}

char *
desc_render(const struct igdd_ctx *ctx, const char *path, const char *base_url, size_t *len)
{
	const struct xml_file *f = file_for_path(path);
	struct desc_buf b = { 0 };

	if (f == NULL)
		return NULL;
	if (render_span(ctx, &b, f->data, f->data + f->len, base_url, 0) < 0 ||
	    b.failed || b.p == NULL) {
		desc_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* --- serving --- */

/* GET/HEAD on a document path: rendered for the address the client
 * reached us on. */
static void
serve_description(struct http_conn *c, const struct http_request *req, const void *arg)
{
	struct igdd_ctx *ctx = http_conn_ctx(c);
	const char *path = arg;
	char base[96], a[INET6_ADDRSTRLEN + 2];
	size_t len;
	char *doc;

	if (http_conn_local_host(c, a, sizeof(a)) < 0 ||
	    str_printf(base, sizeof(base), "http://%s:%u/", a, http_port(ctx)) < 0 ||
	    (doc = desc_render(ctx, path, base, &len)) == NULL) {
		http_reply_error(c, 404, NULL);
		return;
	}
	http_reply(c, 200, NULL, "text/xml; charset=\"utf-8\"",
		   req->method == HTTP_M_HEAD ? NULL : doc, req->method == HTTP_M_HEAD ? 0 : len);
	free(doc);
}

int
desc_init(struct igdd_ctx *ctx)
{
	const unsigned m = HTTP_METHOD_BIT(HTTP_M_GET) | HTTP_METHOD_BIT(HTTP_M_HEAD);
	size_t i;

	if (http_route_add(ctx, "/rootDesc.xml", m, serve_description, "/rootDesc.xml") < 0)
		return -1;
	for (i = 0; i < SVC_COUNT; i++)
		if (http_route_add(ctx, desc_services[i].scpd, m, serve_description,
				   desc_services[i].scpd) < 0)
			return -1;
	return 0;
}
