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

unsigned
desc_igd_version(const struct igdd_ctx *ctx)
{
	return ctx->cfg.force_igd_desc_v1 ? 1 : 2;
}

/* Does s[0..len) hold word (case-insensitively when icase)? */
static bool
mem_has(const char *s, size_t len, const char *word, bool icase)
{
	size_t n = strlen(word), i;

	for (i = 0; i + n <= len; i++)
		if (icase ? mem_ieq(s + i, n, word) : memcmp(s + i, word, n) == 0)
			return true;
	return false;
}

bool
desc_ua_wants_igd1(const char *ua, size_t len)
{
	if (ua == NULL)
		return false;
	/* miniupnpd 2.2.3: "Microsoft-Windows/10.0 UPnP/1.0" (any case)
	 * and Windows' "FDSSDP"; OpenWrt's patch adds the Xbox 360's
	 * "Xbox/2.0.17559.0 UPnP/1.0" and the "Mozilla/4.0 (compatible;
	 * UPnP/1.0; Windows ...)" of Windows XP/Vista and old Apple
	 * clients. */
	return mem_has(ua, len, "microsoft", true) || mem_has(ua, len, "FDSSDP", false) ||
	       (mem_has(ua, len, "Xbox/", false) && mem_has(ua, len, " UPnP/1.0", false)) ||
	       mem_has(ua, len, "Mozilla/4.0 (compatible; UPnP/1.0; Windows", false);
}

unsigned
desc_igd_version_for(const struct igdd_ctx *ctx, const char *ua, size_t len)
{
	if (ctx->cfg.igd_v1_by_user_agent && desc_ua_wants_igd1(ua, len))
		return 1;
	return desc_igd_version(ctx);
}

unsigned
desc_service_version(const struct desc_service *s, unsigned igd_version)
{
	return igd_version < 2 ? s->ver_v1 : s->ver_v2;
}

/* WANIPv6FirewallControl is offered: IPv6 on, a LAN prefix (IGD:1
 * trees never have it: its version there is 0). */
static bool
ip6fc_on(const struct igdd_ctx *ctx)
{
	return !ctx->cfg.ipv6_disable && ctx_lan_has_prefix6(ctx);
}

bool
desc_service_present(const struct igdd_ctx *ctx, const struct desc_service *s,
		     unsigned igd_version)
{
	return desc_service_version(s, igd_version) != 0 &&
	       (s->id != SVC_WANIP6FC || ip6fc_on(ctx));
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

/* An unsigned number in decimal (what "%u" writes, without printf's cost
 * on the listings' per-entry path). */
void
desc_buf_put_u(struct desc_buf *b, unsigned v)
{
	char s[16], *p = s + sizeof(s);

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	desc_buf_put(b, p, (size_t)(s + sizeof(s) - p));
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

/* The length of the entity reference at s[0] == '&' (0: none). */
static size_t
entity_len(const char *s, size_t n)
{
	static const char *const named[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&apos;" };
	size_t i = 2, digits = 0;
	bool hex;

	for (i = 0; i < ARRAY_SIZE(named); i++)
		if (n >= strlen(named[i]) && memcmp(s, named[i], strlen(named[i])) == 0)
			return strlen(named[i]);
	if (n < 4 || s[1] != '#')
		return 0;
	hex = s[2] == 'x' || s[2] == 'X';
	for (i = hex ? 3 : 2; i < n && digits < 7; i++, digits++)
		if (!(hex ? hex_digit(s[i]) >= 0 : (s[i] >= '0' && s[i] <= '9')))
			break;
	return digits > 0 && i < n && s[i] == ';' ? i + 1 : 0;
}

void
desc_buf_escape_text(struct desc_buf *b, const char *s, size_t n)
{
	size_t i = 0, start = 0, e;

	while (i < n) {
		if (s[i] == '&' && (e = entity_len(s + i, n - i)) > 0) {
			desc_buf_escape(b, s + start, i - start);
			desc_buf_put(b, s + i, e);
			i += e;
			start = i;
		} else {
			i++;
		}
	}
	desc_buf_escape(b, s + start, n - start);
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

/* The presentationURL: the configured one, or the admin page when it is
 * on (admin_listen: its address, else this LAN's; its port), else
 * http://<lan>/ (miniupnpd's default) when the key is not set; "" (no
 * element) when set empty. */
static const char *
presentation_url(const struct igdd_ctx *ctx, const struct desc_view *v, char *buf,
		 size_t size)
{
	const struct cfg_admin_listen *al = &ctx->cfg.admin_listen;
	char a[INET_ADDRSTRLEN], port[8] = "";

	if (ctx->cfg.has_presentation_url)
		return ctx->cfg.presentation_url;
	if (al->port != 0 && al->port != 80)
		(void)str_printf(port, sizeof(port), ":%u", al->port);
	return str_printf(buf, size, "http://%s%s/",
			  addr4_str(al->port != 0 && al->addr.s_addr != 0 ? al->addr : v->lan, a,
				    sizeof(a)), port) == 0 ? buf : "";
}

/* Value of placeholder name[0..n); NULL if unknown.  buf holds computed ones. */
static const char *
placeholder(const struct igdd_ctx *ctx, const struct desc_view *v, const char *name, size_t n,
	    char *buf, size_t size)
{
	const struct config *c = &ctx->cfg;

#define IS(w) (n == sizeof(w) - 1 && memcmp(name, w, n) == 0)
	if (IS("VER"))
		return str_printf(buf, size, "%u", v->igd_version) == 0 ? buf : NULL;
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
		return c->manufacturer_url;
	if (IS("MODEL_DESCRIPTION"))
		return or_default(c->model_description, "igdd UPnP IGD, NAT-PMP and PCP daemon");
	if (IS("MODEL_NAME"))
		return or_default(c->model_name, "igdd");
	if (IS("MODEL_NUMBER"))
		return or_default(c->model_number, IGDD_VERSION);
	if (IS("MODEL_URL"))
		return c->model_url;
	if (IS("SERIAL"))
		return or_default(c->serial, "00000000");
	if (IS("PRESENTATION_URL"))
		return presentation_url(ctx, v, buf, size);
#undef IS
	return NULL;
}

/* Is section COND kept?  1 / 0, -1 for an unknown condition.  Optional
 * elements (UDA 1.1 2.3) are left out rather than filled with a URL that
 * serves nothing. */
static int
condition(const struct igdd_ctx *ctx, const struct desc_view *v, const char *name, size_t n)
{
	char buf[64];

	if (n == 2 && memcmp(name, "V2", 2) == 0)
		return v->igd_version >= 2;
	if (n == 12 && memcmp(name, "PRESENTATION", 12) == 0)
		return presentation_url(ctx, v, buf, sizeof(buf))[0] != '\0';
	if (n == 16 && memcmp(name, "MANUFACTURER_URL", 16) == 0)
		return ctx->cfg.manufacturer_url[0] != '\0';
	if (n == 9 && memcmp(name, "MODEL_URL", 9) == 0)
		return ctx->cfg.model_url[0] != '\0';
	if (n == 5 && memcmp(name, "IP6FC", 5) == 0)
		return v->igd_version >= 2 && ip6fc_on(ctx);
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

struct render {
	const struct igdd_ctx *ctx;
	const struct desc_view *v;
	struct desc_buf *b;
};

static int render_span(const struct render *r, const char *p, const char *end, unsigned depth);

/* A comment at p: a conditional section <!--IF:COND--> ... <!--END:COND-->
 * (kept or dropped), or a note for the template's readers, dropped with
 * the line end after it.  Returns where the text goes on, NULL on a
 * template error. */
static const char *
render_comment(const struct render *r, const char *p, const char *end, unsigned depth)
{
	const char *nm, *ne, *endtag;
	char endmark[40];
	int keep;

	if (find(p, p + 7 <= end ? p + 7 : end, "<!--IF:") != p) {
		ne = find(p, end, "-->");
		if (ne == NULL)
			return NULL;
		ne += 3;
		return ne < end && *ne == '\n' ? ne + 1 : ne;
	}
	nm = p + 7;
	ne = find(nm, end, "-->");
	if (ne == NULL || ne - nm > 20)
		return NULL;
	keep = condition(r->ctx, r->v, nm, (size_t)(ne - nm));
	if (keep < 0 ||
	    str_printf(endmark, sizeof(endmark), "<!--END:%.*s-->", (int)(ne - nm), nm) < 0)
		return NULL;
	endtag = find(ne, end, endmark);
	if (endtag == NULL)
		return NULL;
	if (keep && render_span(r, ne + 3, endtag, depth + 1) < 0)
		return NULL;
	return endtag + strlen(endmark);
}

/* Copy [p, end) into the buffer, filling placeholders and conditional
 * sections and dropping comments. */
static int
render_span(const struct render *r, const char *p, const char *end, unsigned depth)
{
	char tmp[64];

	if (depth > 4)
		return -1;
	while (p < end) {
		const char *at = memchr(p, '@', (size_t)(end - p));
		const char *cmt = find(p, end, "<!--");
		const char *close, *v;

		if (cmt != NULL && (at == NULL || cmt < at)) {
			desc_buf_put(r->b, p, (size_t)(cmt - p));
			if ((p = render_comment(r, cmt, end, depth)) == NULL)
				return -1;
			continue;
		}
		if (at == NULL) {
			desc_buf_put(r->b, p, (size_t)(end - p));
			break;
		}
		desc_buf_put(r->b, p, (size_t)(at - p));
		close = memchr(at + 1, '@', (size_t)(end - at - 1));
		if (close == NULL)
			return -1;
		v = placeholder(r->ctx, r->v, at + 1, (size_t)(close - at - 1), tmp, sizeof(tmp));
		if (v == NULL)
			return -1;
		desc_buf_escape_text(r->b, v, strlen(v));
		p = close + 1;
	}
	return 0;
}

char *
desc_render(const struct igdd_ctx *ctx, const char *path, const struct desc_view *v,
	    size_t *len)
{
	const struct xml_file *f = file_for_path(path);
	struct desc_buf b = { 0 };
	struct render r = { ctx, v, &b };
	char *text;
	int rc;

	if (f == NULL || (text = xml_file_text(f)) == NULL)
		return NULL;
	rc = render_span(&r, text, text + f->len, 0);
	free(text);
	if (rc < 0 || b.failed || b.p == NULL) {
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
	struct desc_view v = {
		http_conn_local(c)->sin_addr,
		desc_igd_version_for(ctx, req->user_agent.p, req->user_agent.len),
	};
	const char *path = arg;
	struct in6_addr local;
	size_t len;
	char *doc;

	/* Over IPv6 the view's LAN is the interface's (its IPv4 address
	 * names the default presentationURL). */
	if (http_conn_local_addr(c, &local) == 0 && !addr_is_v4(&local))
		v.lan = ctx_lan_v4_of_addr6(ctx, &local);

	if ((doc = desc_render(ctx, path, &v, &len)) == NULL) {
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
