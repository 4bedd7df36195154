/* soap.c - SOAP control (UDA 1.1 3.2): a tolerant envelope parser over a
 * bounds-checked cursor, and the POST handler that calls igd.c. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctx.h"
#include "desc.h"
#include "http.h"
#include "igd.h"
#include "log.h"
#include "soap.h"
#include "util.h"

/* ------------------------------------------------------------ XML cursor */

struct cur {
	const char *p, *end;
};

static bool
cur_starts(const struct cur *c, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(c->end - c->p) >= n && memcmp(c->p, s, n) == 0;
}

/* Skip past the next occurrence of s; false if there is none. */
static bool
cur_skip_past(struct cur *c, const char *s)
{
	size_t n = strlen(s);
	const char *q;

	for (q = c->p; q + n <= c->end; q++)
		if (memcmp(q, s, n) == 0) {
			c->p = q + n;
			return true;
		}
	return false;
}

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static bool
is_name_char(char ch)
{
	return !is_space(ch) && ch != '>' && ch != '/' && ch != '=' && ch != '<' &&
	       ch != '"' && ch != '\'' && ch != '\0';
}

/* Output buffer for decoded text. */
struct out {
	char *p;
	size_t len, size;
	bool overflow;
};

/* Append; what does not fit is dropped and remembered (a long value is
 * kept cut, the caller decides whether a cut value is acceptable). */
static void
out_put(struct out *o, const char *s, size_t n)
{
	if (o == NULL || o->overflow)
		return;
	if (o->len + n + 1 > o->size) {
		o->overflow = true;
		n = o->size - 1 - o->len;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
out_utf8(struct out *o, unsigned long cp)
{
	char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	out_put(o, b, n);
}

/* Decode one entity at c->p ('&').  0 / -1. */
static int
decode_entity(struct cur *c, struct out *o)
{
	static const struct { const char *name; char ch; } ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	const char *semi;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ents); i++)
		if (cur_starts(c, ents[i].name)) {
			out_put(o, &ents[i].ch, 1);
			c->p += strlen(ents[i].name);
			return 0;
		}
	if (cur_starts(c, "&#")) {
		unsigned long cp = 0;
		const char *q = c->p + 2;
		bool hex = false;
		size_t digits = 0;

		if (q < c->end && (*q == 'x' || *q == 'X')) {
			hex = true;
			q++;
		}
		semi = q;
		while (semi < c->end && *semi != ';' && digits < 8) {
			char ch = *semi;
			unsigned d;

			if (ch >= '0' && ch <= '9')
				d = (unsigned)(ch - '0');
			else if (hex && ch >= 'a' && ch <= 'f')
				d = (unsigned)(ch - 'a' + 10);
			else if (hex && ch >= 'A' && ch <= 'F')
				d = (unsigned)(ch - 'A' + 10);
			else
				return -1;
			cp = cp * (hex ? 16 : 10) + d;
			semi++;
			digits++;
		}
		if (semi >= c->end || *semi != ';' || digits == 0 || cp == 0 || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return -1;
		out_utf8(o, cp);
		c->p = semi + 1;
		return 0;
	}
	return -1;	/* unknown entity: there is no DTD to define one */
}

/* Character data up to the next tag; decoded into o (may be NULL). */
static int
read_text(struct cur *c, struct out *o)
{
	while (c->p < c->end) {
		if (cur_starts(c, "<![CDATA[")) {
			const char *start = c->p + 9;

			c->p = start;
			if (!cur_skip_past(c, "]]>"))
				return -1;
			out_put(o, start, (size_t)(c->p - 3 - start));
			continue;
		}
		if (cur_starts(c, "<!--")) {
			if (!cur_skip_past(c, "-->"))
				return -1;
			continue;
		}
		if (*c->p == '<')
			return 0;
		if (*c->p == '&') {
			if (decode_entity(c, o) < 0)
				return -1;
			continue;
		}
		out_put(o, c->p, 1);
		c->p++;
	}
	return 0;
}

struct tag {
	const char *qname;	/* the name as written, prefix included */
	size_t qname_len;
	const char *name;	/* local name (after any prefix) */
	size_t name_len;
	const char *prefix;
	size_t prefix_len;
	bool closing, empty;
	const char *ns;		/* xmlns[:prefix] value matching the prefix */
	size_t ns_len;
};

/* Parse a tag at c->p ('<'), not a comment/CDATA/PI.  0 / -1. */
static int
read_tag(struct cur *c, struct tag *t)
{
	const char *n;

	memset(t, 0, sizeof(*t));
	c->p++;
	if (c->p < c->end && *c->p == '/') {
		t->closing = true;
		c->p++;
	}
	n = c->p;
	while (c->p < c->end && is_name_char(*c->p))
		c->p++;
	if (c->p == n)
		return -1;
	t->name = n;
	t->name_len = (size_t)(c->p - n);
	t->qname = n;
	t->qname_len = t->name_len;
	{
		const char *colon = memchr(n, ':', t->name_len);

		if (colon != NULL) {
			t->prefix = n;
			t->prefix_len = (size_t)(colon - n);
			t->name = colon + 1;
			t->name_len = (size_t)(c->p - colon - 1);
			if (t->name_len == 0)
				return -1;
		}
	}
	/* Attributes: name = "value" | 'value'. */
	for (;;) {
		const char *an, *av;
		size_t anl;
		char q;

		while (c->p < c->end && is_space(*c->p))
			c->p++;
		if (c->p >= c->end)
			return -1;
		if (*c->p == '>') {
			c->p++;
			return 0;
		}
		if (*c->p == '/' && c->p + 1 < c->end && c->p[1] == '>') {
			if (t->closing)
				return -1;
			t->empty = true;
			c->p += 2;
			return 0;
		}
		if (t->closing)
			return -1;
		an = c->p;
		while (c->p < c->end && is_name_char(*c->p))
			c->p++;
		anl = (size_t)(c->p - an);
		if (anl == 0)
			return -1;
		while (c->p < c->end && is_space(*c->p))
			c->p++;
		if (c->p >= c->end || *c->p != '=')
			return -1;
		c->p++;
		while (c->p < c->end && is_space(*c->p))
			c->p++;
		if (c->p >= c->end || (*c->p != '"' && *c->p != '\''))
			return -1;
		q = *c->p++;
		av = c->p;
		while (c->p < c->end && *c->p != q && *c->p != '<')
			c->p++;
		if (c->p >= c->end || *c->p != q)
			return -1;
		/* xmlns="..." for no prefix, xmlns:p="..." for prefix p */
		if ((t->prefix == NULL && anl == 5 && memcmp(an, "xmlns", 5) == 0) ||
		    (t->prefix != NULL && anl == 6 + t->prefix_len && memcmp(an, "xmlns:", 6) == 0 &&
		     memcmp(an + 6, t->prefix, t->prefix_len) == 0)) {
			t->ns = av;
			t->ns_len = (size_t)(c->p - av);
		}
		c->p++;
	}
}

/* Skip whatever is not an element: text, comments, PIs.  Refuses a DTD
 * (no entity expansion attacks).  0 at a tag or the end, -1 on error. */
static int
skip_misc(struct cur *c, struct out *text)
{
	for (;;) {
		if (read_text(c, text) < 0)
			return -1;
		if (c->p >= c->end)
			return 0;
		if (cur_starts(c, "<?")) {
			if (!cur_skip_past(c, "?>"))
				return -1;
			continue;
		}
		if (cur_starts(c, "<!"))
			return -1;	/* DOCTYPE or junk */
		return 0;
	}
}

/* Drop an incomplete UTF-8 sequence at the end of a cut value. */
static void
trim_partial_utf8(char *v, size_t *len)
{
	size_t i = *len, back = 0, need;
	unsigned char lead;

	while (i > 0 && back < 3 && ((unsigned char)v[i - 1] & 0xc0) == 0x80) {
		i--;
		back++;
	}
	if (i == 0)
		return;
	lead = (unsigned char)v[i - 1];
	if (lead < 0xc0)
		return;		/* ASCII (or stray continuation bytes): leave */
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	if (back + 1 < need) {
		*len = i - 1;
		v[*len] = '\0';
	}
}

static bool
name_ieq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && strncasecmp(a, b, al) == 0;
}

int
soap_parse_envelope(const char *buf, size_t len, struct soap_envelope *env)
{
	struct { const char *p; size_t len; } open[SOAP_MAX_DEPTH];
	struct cur c = { buf, buf + len };
	int depth = 0, action_depth = -1, arg_depth = -1;
	struct out val = { 0 };
	bool in_body = false, done = false;
	struct tag t;
	unsigned i;

	memset(env, 0, sizeof(*env));
	while (!done) {
		struct out *text = (arg_depth >= 0 && depth == arg_depth + 1) ? &val : NULL;

		if (skip_misc(&c, text) < 0)
			return env->action[0] ? SOAP_E_ARGS : SOAP_E_ACTION;
		if (c.p >= c.end)
			break;
		if (read_tag(&c, &t) < 0)
			return env->action[0] ? SOAP_E_ARGS : SOAP_E_ACTION;
		if (t.closing) {
			/* Well-formedness: the end tag names the open element
			 * (XML 1.0 3, WFC Element Type Match); case aside, as
			 * Envelope and Body are matched. */
			if (depth == 0 || !name_ieq(open[depth - 1].p, open[depth - 1].len,
						    t.qname, t.qname_len))
				return env->action[0] ? SOAP_E_ARGS : SOAP_E_ACTION;
			depth--;
			if (arg_depth >= 0 && depth == arg_depth) {
				/* end of one argument; a cut value is marked */
				if (val.overflow) {
					trim_partial_utf8(val.p, &val.len);
					env->args[env->n_args - 1].truncated = true;
				}
				arg_depth = -1;
			} else if (depth == action_depth) {
				done = true;	/* the action element is complete */
			}
			continue;
		}
		if (depth >= SOAP_MAX_DEPTH)
			return env->action[0] ? SOAP_E_ARGS : SOAP_E_ACTION;
		if (depth == 0 && !mem_ieq(t.name, t.name_len, "Envelope"))
			return SOAP_E_ACTION;
		if (depth == 1 && !in_body) {
			/* Header elements are skipped; the Body holds the call. */
			if (mem_ieq(t.name, t.name_len, "Body"))
				in_body = true;
		} else if (depth == 2 && in_body && action_depth < 0) {
			if (str_copy_n(env->action, sizeof(env->action), t.name, t.name_len) < 0)
				return SOAP_E_ACTION;
			if (t.ns != NULL && str_copy_n(env->ns, sizeof(env->ns), t.ns, t.ns_len) < 0)
				return SOAP_E_ACTION;
			action_depth = depth;
			if (t.empty)
				done = true;
		} else if (action_depth >= 0 && depth == action_depth + 1) {
			struct soap_arg *a;

			if (env->n_args >= SOAP_MAX_ARGS)
				return SOAP_E_ARGS;
			a = &env->args[env->n_args];
			if (str_copy_n(a->name, sizeof(a->name), t.name, t.name_len) < 0)
				return SOAP_E_ARGS;
			for (i = 0; i < env->n_args; i++)
				if (strcmp(env->args[i].name, a->name) == 0)
					return SOAP_E_ARGS;	/* the same argument twice */
			env->n_args++;
			if (!t.empty) {
				val.p = a->value;
				val.size = sizeof(a->value);
				val.len = 0;
				val.overflow = false;
				arg_depth = depth;
			}
		} else if (depth == 1 && in_body) {
			/* a second Body-level sibling after the Body: ignore */
		}
		if (!t.empty) {
			open[depth].p = t.qname;
			open[depth].len = t.qname_len;
			depth++;
		}
	}
	if (env->action[0] == '\0')
		return SOAP_E_ACTION;
	return done ? 0 : SOAP_E_ARGS;
}

const char *
soap_arg(const struct soap_envelope *env, const char *name)
{
	unsigned i;

	for (i = 0; i < env->n_args; i++)
		if (strcmp(env->args[i].name, name) == 0)
			return env->args[i].value;
	return NULL;
}

int
soap_parse_action(const char *v, size_t len, struct soap_action_hdr *out)
{
	static const char pfx[] = "urn:schemas-upnp-org:service:";
	const char *hash, *colon, *end;
	unsigned long long ver;

	memset(out, 0, sizeof(*out));
	while (len > 0 && is_space(*v)) {
		v++;
		len--;
	}
	while (len > 0 && is_space(v[len - 1]))
		len--;
	if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
		v++;
		len -= 2;
	}
	if (len < sizeof(pfx) - 1 || memcmp(v, pfx, sizeof(pfx) - 1) != 0)
		return -1;
	v += sizeof(pfx) - 1;
	len -= sizeof(pfx) - 1;
	hash = memchr(v, '#', len);
	end = hash ? hash : v + len;
	colon = memchr(v, ':', (size_t)(end - v));
	if (colon == NULL || colon == v)
		return -1;
	if (str_copy_n(out->type, sizeof(out->type), v, (size_t)(colon - v)) < 0 ||
	    parse_uint_n(colon + 1, (size_t)(end - colon - 1), 1, 99, &ver) < 0)
		return -1;
	out->version = (unsigned)ver;
	if (hash != NULL) {
		size_t an = len - (size_t)(hash + 1 - v);
		size_t k;

		if (an == 0 || str_copy_n(out->action, sizeof(out->action), hash + 1, an) < 0)
			return -1;
		for (k = 0; k < an; k++)
			if (!is_name_char(out->action[k]) || out->action[k] == ':')
				return -1;
	}
	return 0;
}

/* ------------------------------------------------------------- handler */

static const char envelope_head[] =
	"<?xml version=\"1.0\"?>\r\n"
	"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	"s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
	"<s:Body>";
static const char envelope_tail[] = "</s:Body></s:Envelope>\r\n";

static void
reply_fault(struct http_conn *c, int code)
{
	struct desc_buf b = { 0 };

	desc_buf_puts(&b, envelope_head);
	desc_buf_printf(&b,
		"<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
		"<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">"
		"<errorCode>%d</errorCode><errorDescription>%s</errorDescription>"
		"</UPnPError></detail></s:Fault>", code, igd_error_desc(code));
	desc_buf_puts(&b, envelope_tail);
	if (b.failed)
		http_reply_error(c, 500, NULL);
	else
		http_reply(c, 500, "EXT:\r\n", "text/xml; charset=\"utf-8\"", b.p, b.len);
	desc_buf_free(&b);
}

void
soap_handle(struct http_conn *c, const struct http_request *req, const struct desc_service *svc)
{
	struct igdd_ctx *ctx = http_conn_ctx(c);
	struct soap_action_hdr ah;
	struct soap_envelope env;
	struct desc_buf out = { 0 }, b = { 0 };
	struct igd_call call;
	unsigned served = desc_service_version(ctx, svc);
	int r;

	if (!req->soapaction.present ||
	    soap_parse_action(req->soapaction.p, req->soapaction.len, &ah) < 0 ||
	    strcmp(ah.type, svc->type) != 0 || ah.version > served) {
		reply_fault(c, 401);
		return;
	}
	r = soap_parse_envelope(req->body, req->body_len, &env);
	if (r == SOAP_E_ACTION || (r == 0 && ah.action[0] != '\0' && strcmp(ah.action, env.action) != 0)) {
		reply_fault(c, 401);
		return;
	}
	if (r != 0) {
		reply_fault(c, 402);
		return;
	}
	memset(&call, 0, sizeof(call));
	call.ctx = ctx;
	call.svc = svc;
	call.env = &env;
	call.out = &out;
	addr_from_v4(&call.requester, http_conn_peer(c)->sin_addr);
	r = igd_dispatch(&call, env.action);
	if (r != 0) {
		log_debug("soap: %s.%s: error %d", svc->type, env.action, r);
		desc_buf_free(&out);
		reply_fault(c, r);
		return;
	}
	/* Answer in the namespace the client used (the version it asked for). */
	desc_buf_puts(&b, envelope_head);
	desc_buf_printf(&b, "<u:%sResponse xmlns:u=\"urn:schemas-upnp-org:service:%s:%u\">",
			env.action, svc->type, ah.version);
	if (out.p != NULL)
		desc_buf_put(&b, out.p, out.len);
	desc_buf_printf(&b, "</u:%sResponse>", env.action);
	desc_buf_puts(&b, envelope_tail);
	if (b.failed || out.failed)
		reply_fault(c, 501);
	else
		http_reply(c, 200, "EXT:\r\n", "text/xml; charset=\"utf-8\"", b.p, b.len);
	desc_buf_free(&out);
	desc_buf_free(&b);
}
