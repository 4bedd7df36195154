/* soap.c - SOAP control (UDA 1.1 3.2): a tolerant envelope parser over a
 * bounds-checked cursor, and the writer of responses and faults. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "desc.h"
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

static void
skip_space(struct cur *c)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
}

/* One attribute of an open tag at c->p: name = "value" | 'value'.  Notes
 * the namespace of t's prefix: xmlns="..." for no prefix, xmlns:p="..."
 * for prefix p.  0 / -1. */
static int
read_attr(struct cur *c, struct tag *t)
{
	const char *an = c->p, *av;
	size_t anl;
	char q;

	while (c->p < c->end && is_name_char(*c->p))
		c->p++;
	anl = (size_t)(c->p - an);
	if (anl == 0)
		return -1;
	skip_space(c);
	if (c->p >= c->end || *c->p != '=')
		return -1;
	c->p++;
	skip_space(c);
	if (c->p >= c->end || (*c->p != '"' && *c->p != '\''))
		return -1;
	q = *c->p++;
	av = c->p;
	while (c->p < c->end && *c->p != q && *c->p != '<')
		c->p++;
	if (c->p >= c->end || *c->p != q)
		return -1;
	if ((t->prefix == NULL && anl == 5 && memcmp(an, "xmlns", 5) == 0) ||
	    (t->prefix != NULL && anl == 6 + t->prefix_len && memcmp(an, "xmlns:", 6) == 0 &&
	     memcmp(an + 6, t->prefix, t->prefix_len) == 0)) {
		t->ns = av;
		t->ns_len = (size_t)(c->p - av);
	}
	c->p++;
	return 0;
}

/* The element name at c->p, with its prefix split off.  0 / -1. */
static int
read_name(struct cur *c, struct tag *t)
{
	const char *n = c->p, *colon;

	while (c->p < c->end && is_name_char(*c->p))
		c->p++;
	if (c->p == n)
		return -1;
	t->name = t->qname = n;
	t->name_len = t->qname_len = (size_t)(c->p - n);
	colon = memchr(n, ':', t->name_len);
	if (colon != NULL) {
		t->prefix = n;
		t->prefix_len = (size_t)(colon - n);
		t->name = colon + 1;
		t->name_len = (size_t)(c->p - colon - 1);
		if (t->name_len == 0)
			return -1;
	}
	return 0;
}

/* Parse a tag at c->p ('<'), not a comment/CDATA/PI.  0 / -1. */
static int
read_tag(struct cur *c, struct tag *t)
{
	memset(t, 0, sizeof(*t));
	c->p++;
	if (c->p < c->end && *c->p == '/') {
		t->closing = true;
		c->p++;
	}
	if (read_name(c, t) < 0)
		return -1;
	for (;;) {
		skip_space(c);
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
		if (t->closing || read_attr(c, t) < 0)
			return -1;
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

/* Where a parse stands: the open elements, and the depths of the action
 * element and of the argument whose value is being read (-1: none). */
struct env_parse {
	struct { const char *p; size_t len; } open[SOAP_MAX_DEPTH];
	int depth, action_depth, arg_depth;
	struct out val;
	bool in_body, done;
};

/* An end tag: it must name the open element (XML 1.0 3, WFC Element Type
 * Match; case aside, as Envelope and Body are matched).  0 / -1. */
static int
end_tag(struct env_parse *st, struct soap_envelope *env, const struct tag *t)
{
	if (st->depth == 0 || !name_ieq(st->open[st->depth - 1].p, st->open[st->depth - 1].len,
					t->qname, t->qname_len))
		return -1;
	st->depth--;
	if (st->arg_depth >= 0 && st->depth == st->arg_depth) {
		/* end of one argument; a cut value is marked */
		if (st->val.overflow) {
			trim_partial_utf8(st->val.p, &st->val.len);
			env->args[env->n_args - 1].truncated = true;
		}
		st->arg_depth = -1;
	} else if (st->depth == st->action_depth) {
		st->done = true;	/* the action element is complete */
	}
	return 0;
}

/* A child of the action element: one more argument.  0 / SOAP_E_ARGS. */
static int
start_arg(struct env_parse *st, struct soap_envelope *env, const struct tag *t)
{
	struct soap_arg *a;
	unsigned i;

	if (env->n_args >= SOAP_MAX_ARGS)
		return SOAP_E_ARGS;
	a = &env->args[env->n_args];
	if (str_copy_n(a->name, sizeof(a->name), t->name, t->name_len) < 0)
		return SOAP_E_ARGS;
	for (i = 0; i < env->n_args; i++)
		if (strcmp(env->args[i].name, a->name) == 0)
			return SOAP_E_ARGS;	/* the same argument twice */
	env->n_args++;
	if (!t->empty) {
		st->val.p = a->value;
		st->val.size = sizeof(a->value);
		st->val.len = 0;
		st->val.overflow = false;
		st->arg_depth = st->depth;
	}
	return 0;
}

/* A start tag at st->depth.  0, -1 (malformed here), or a SOAP_E_ code. */
static int
start_tag(struct env_parse *st, struct soap_envelope *env, const struct tag *t)
{
	int r = 0;

	if (st->depth >= SOAP_MAX_DEPTH)
		return -1;
	if (st->depth == 0 && !mem_ieq(t->name, t->name_len, "Envelope"))
		return SOAP_E_ACTION;
	if (st->depth == 1 && !st->in_body) {
		/* Header elements are skipped; the Body holds the call. */
		st->in_body = mem_ieq(t->name, t->name_len, "Body");
	} else if (st->depth == 2 && st->in_body && st->action_depth < 0) {
		if (str_copy_n(env->action, sizeof(env->action), t->name, t->name_len) < 0 ||
		    (t->ns != NULL && str_copy_n(env->ns, sizeof(env->ns), t->ns, t->ns_len) < 0))
			return SOAP_E_ACTION;
		st->action_depth = st->depth;
		st->done = t->empty;
	} else if (st->action_depth >= 0 && st->depth == st->action_depth + 1) {
		r = start_arg(st, env, t);
	}
	/* (a Body-level sibling after the Body, or deeper content: ignored) */
	if (r == 0 && !t->empty) {
		st->open[st->depth].p = t->qname;
		st->open[st->depth].len = t->qname_len;
		st->depth++;
	}
	return r;
}

int
soap_parse_envelope(const char *buf, size_t len, struct soap_envelope *env)
{
	struct env_parse st = { .action_depth = -1, .arg_depth = -1 };
	struct cur c = { buf, buf + len };
	struct tag t;
	int r = 0;

	memset(env, 0, sizeof(*env));
	while (!st.done && r == 0) {
		bool in_arg = st.arg_depth >= 0 && st.depth == st.arg_depth + 1;

		if (skip_misc(&c, in_arg ? &st.val : NULL) < 0)
			r = -1;
		else if (c.p >= c.end)
			break;
		else if (read_tag(&c, &t) < 0)
			r = -1;
		else
			r = t.closing ? end_tag(&st, env, &t) : start_tag(&st, env, &t);
	}
	/* Malformed: the arguments are, once the action is known. */
	if (r == -1)
		r = env->action[0] ? SOAP_E_ARGS : SOAP_E_ACTION;
	if (r != 0)
		return r;
	if (env->action[0] == '\0')
		return SOAP_E_ACTION;
	return st.done ? 0 : SOAP_E_ARGS;
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

/* The action after '#': a name, no prefix.  0 / -1. */
static int
action_name(const char *a, size_t an, struct soap_action_hdr *out)
{
	size_t k;

	if (an == 0 || str_copy_n(out->action, sizeof(out->action), a, an) < 0)
		return -1;
	for (k = 0; k < an; k++)
		if (!is_name_char(out->action[k]) || out->action[k] == ':')
			return -1;
	return 0;
}

int
soap_parse_action(const char *v, size_t len, struct soap_action_hdr *out)
{
	static const char pfx[] = "urn:schemas-upnp-org:service:";
	static const char ctl[] = SOAP_CONTROL_NS "#";
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
	if (len >= sizeof(ctl) - 1 && memcmp(v, ctl, sizeof(ctl) - 1) == 0) {
		out->control = true;
		hash = v + sizeof(ctl) - 2;
		return action_name(hash + 1, len - (size_t)(hash + 1 - v), out);
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
	if (hash != NULL)
		return action_name(hash + 1, len - (size_t)(hash + 1 - v), out);
	return 0;
}

/* ------------------------------------------------------------- writer */

static const char envelope_head[] =
	"<?xml version=\"1.0\"?>\r\n"
	"<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
	"s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
	"<s:Body>";
static const char envelope_tail[] = "</s:Body></s:Envelope>\r\n";

void
soap_write_fault(struct desc_buf *b, int code, const char *desc)
{
	desc_buf_puts(b, envelope_head);
	desc_buf_printf(b,
		"<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring>"
		"<detail><UPnPError xmlns=\"urn:schemas-upnp-org:control-1-0\">"
		"<errorCode>%d</errorCode><errorDescription>%s</errorDescription>"
		"</UPnPError></detail></s:Fault>", code, desc);
	desc_buf_puts(b, envelope_tail);
}

void
soap_write_response_head_ns(struct desc_buf *b, const char *action, const char *ns)
{
	desc_buf_puts(b, envelope_head);
	desc_buf_printf(b, "<u:%sResponse xmlns:u=\"%s\">", action, ns);
}

void
soap_write_response_head(struct desc_buf *b, const char *action, const char *type, unsigned ver)
{
	desc_buf_puts(b, envelope_head);
	desc_buf_printf(b, "<u:%sResponse xmlns:u=\"urn:schemas-upnp-org:service:%s:%u\">",
			action, type, ver);
}

void
soap_write_response_tail(struct desc_buf *b, const char *action)
{
	desc_buf_printf(b, "</u:%sResponse>", action);
	desc_buf_puts(b, envelope_tail);
}
