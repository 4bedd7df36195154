/* upstream_upnp_parse.c - the UPnP control point's reading and writing
 * (upstream_upnp_parse.h).  Everything is bounded by the length it is
 * given; nothing here does I/O or keeps state. */
#include <arpa/inet.h>
#include <string.h>

#include "upstream_upnp_parse.h"
#include "util.h"

#define UPCP_AGENT	"Linux UPnP/1.1 igdd"

/* The first place of needle (NUL-terminated) in h[0..len), or NULL;
 * ASCII case folded when icase. */
static const char *
find(const char *h, size_t len, const char *needle, bool icase)
{
	size_t n = strlen(needle), i;

	if (n == 0 || n > len)
		return NULL;
	for (i = 0; i + n <= len; i++)
		if (icase ? mem_ieq(h + i, n, needle) : memcmp(h + i, needle, n) == 0)
			return h + i;
	return NULL;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim blanks off [*p, *p + *n). */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && is_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*p)[*n - 1]))
		(*n)--;
}

/* A decimal number in [p, p + n), whole, within max.  0 / -1. */
static int
number(const char *p, size_t n, unsigned long long max, unsigned long long *v)
{
	trim(&p, &n);
	return parse_uint_n(p, n, 0, max, v);
}

int
upcp_parse_url(const char *s, size_t len, struct upcp_url *u)
{
	const char *p, *end = s + len, *slash, *colon;
	char host[INET_ADDRSTRLEN];
	unsigned long long port = 80;

	memset(u, 0, sizeof(*u));
	trim(&s, &len);
	end = s + len;
	if (len < 8 || !mem_ieq(s, 7, "http://"))
		return -1;
	p = s + 7;
	slash = memchr(p, '/', (size_t)(end - p));
	if (slash == NULL)
		slash = end;
	colon = memchr(p, ':', (size_t)(slash - p));
	if (colon != NULL && parse_uint_n(colon + 1, (size_t)(slash - colon - 1), 1, 65535, &port) < 0)
		return -1;
	if (str_copy_n(host, sizeof(host), p, (size_t)((colon ? colon : slash) - p)) < 0 ||
	    inet_pton(AF_INET, host, &u->host) != 1 || u->host.s_addr == 0)
		return -1;
	u->port = (uint16_t)port;
	if (slash == end)
		return str_copy(u->path, sizeof(u->path), "/");
	for (p = slash; p < end; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return -1;
	return str_copy_n(u->path, sizeof(u->path), slash, (size_t)(end - slash));
}

/* The value of header name in the head [buf, buf + len): the lines after
 * the first.  true and [*v, *v + *n) trimmed, or false. */
static bool
header(const char *buf, size_t len, const char *name, const char **v, size_t *n)
{
	const char *p = memchr(buf, '\n', len), *end = buf + len;
	size_t nl = strlen(name);

	while (p != NULL && ++p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((e ? e : end) - p);

		if (ll > nl && p[nl] == ':' && mem_ieq(p, nl, name)) {
			*v = p + nl + 1;
			*n = ll - nl - 1;
			trim(v, n);
			return true;
		}
		p = e;
	}
	return false;
}

/* A header value copied as text: no control character in it. */
static int
copy_text(char *dst, size_t size, const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < ' ' || v[i] == 0x7f)
			return -1;
	return str_copy_n(dst, size, v, n);
}

int
upcp_parse_ssdp(const char *buf, size_t len, struct upcp_ssdp *r)
{
	const char *v;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (len < 15 || memcmp(buf, "HTTP/1.", 7) != 0 || memcmp(buf + 8, " 200", 4) != 0)
		return -1;
	if (!header(buf, len, "LOCATION", &v, &n) || n == 0 ||
	    copy_text(r->location, sizeof(r->location), v, n) < 0)
		return -1;
	if (header(buf, len, "ST", &v, &n) && copy_text(r->st, sizeof(r->st), v, n) < 0)
		return -1;
	return 0;
}

/* Decode a chunked body in place: [b, b + *n) becomes the data. */
static int
dechunk(char *b, size_t *n, bool closed)
{
	char *r = b, *w = b, *end = b + *n;

	for (;;) {
		char *le = memchr(r, '\n', (size_t)(end - r)), *semi;
		unsigned long long size = 0;
		size_t digits;
		int d;

		if (le == NULL)
			return closed ? -1 : UPCP_HTTP_MORE;
		semi = memchr(r, ';', (size_t)(le - r));
		digits = (size_t)((semi ? semi : le) - r);
		while (digits > 0 && is_space(r[digits - 1]))
			digits--;
		if (digits == 0 || digits > 8)
			return -1;
		for (; digits > 0; digits--, r++) {
			if ((d = hex_digit(*r)) < 0)
				return -1;
			size = size << 4 | (unsigned)d;
		}
		r = le + 1;
		if (size == 0)
			break;
		if ((size_t)(end - r) < size + 1)
			return closed ? -1 : UPCP_HTTP_MORE;
		memmove(w, r, size);
		w += size;
		r += size;
		if (*r == '\r')
			r++;
		if (r >= end || *r != '\n')
			return r >= end && !closed ? UPCP_HTTP_MORE : -1;
		r++;
	}
	*n = (size_t)(w - b);
	return 0;
}

int
upcp_parse_http(char *buf, size_t len, bool closed, struct upcp_http *r)
{
	const char *he = find(buf, len, "\r\n\r\n", false), *v;
	unsigned long long status, cl;
	size_t head, n, body;
	int rc;

	memset(r, 0, sizeof(*r));
	if (he == NULL)
		return closed ? -1 : UPCP_HTTP_MORE;
	head = (size_t)(he - buf) + 4;
	if (head < 12 || memcmp(buf, "HTTP/1.", 7) != 0 ||
	    parse_uint_n(buf + 9, 3, 100, 599, &status) < 0)
		return -1;
	r->status = (int)status;
	body = len - head;
	if (header(buf, head, "Transfer-Encoding", &v, &n) && find(v, n, "chunked", true)) {
		rc = dechunk(buf + head, &body, closed);
		if (rc != 0)
			return rc;
	} else if (header(buf, head, "Content-Length", &v, &n)) {
		if (number(v, n, 1u << 30, &cl) < 0)
			return -1;
		if (cl > body)
			return closed ? -1 : UPCP_HTTP_MORE;
		body = (size_t)cl;
	} else if (!closed) {
		return UPCP_HTTP_MORE;	/* to the end of the connection */
	}
	r->body = buf + head;
	r->body_len = body;
	return 0;
}

/* The text of the first <tag>...</tag> in [p, p + len) (the tag may carry
 * attributes or a namespace prefix in the document: "tag" matches "<tag>"
 * and "<x:tag>").  true and [*v, *v + *n) trimmed, or false. */
static bool
element(const char *p, size_t len, const char *tag, const char **v, size_t *n)
{
	const char *end = p + len, *s = p;
	size_t tl = strlen(tag);

	while ((s = memchr(s, '<', (size_t)(end - s))) != NULL) {
		const char *name = ++s, *gt, *close;
		const char *colon = NULL, *q;

		for (q = name; q < end && *q != '>' && !is_space(*q) && *q != '/'; q++)
			if (*q == ':')
				colon = q;
		if (colon != NULL)
			name = colon + 1;
		if ((size_t)(q - name) != tl || memcmp(name, tag, tl) != 0)
			continue;
		if ((gt = memchr(q, '>', (size_t)(end - q))) == NULL)
			return false;
		/* The text runs to the next '<': the end tag. */
		close = memchr(gt + 1, '<', (size_t)(end - gt - 1));
		if (close == NULL || close + 1 >= end || close[1] != '/')
			return false;
		*v = gt + 1;
		*n = (size_t)(close - gt - 1);
		trim(v, n);
		return true;
	}
	return false;
}

/* A control URL: absolute, or relative to base (its host and port; its
 * directory when the reference has no leading '/'). */
static int
resolve(const char *ref, size_t n, const struct upcp_url *base, struct upcp_url *out)
{
	char *slash;
	size_t dir;

	if (n >= 7 && mem_ieq(ref, 7, "http://"))
		return upcp_parse_url(ref, n, out);
	for (dir = 0; dir < n; dir++)
		if ((unsigned char)ref[dir] <= ' ' || (unsigned char)ref[dir] >= 0x7f)
			return -1;	/* it goes into a request line */
	*out = *base;
	if (n > 0 && ref[0] == '/')
		return str_copy_n(out->path, sizeof(out->path), ref, n);
	slash = strrchr(out->path, '/');
	if (slash == NULL)
		return -1;
	dir = (size_t)(slash - out->path) + 1;
	if (dir + n >= sizeof(out->path))
		return -1;
	memcpy(out->path + dir, ref, n);
	out->path[dir + n] = '\0';
	return 0;
}

static const char *const svc_prefix[] = {
	"urn:schemas-upnp-org:service:WANIPConnection:",
	"urn:schemas-upnp-org:service:WANPPPConnection:",
};

/* How good is this service type: 0 = not one; WANIPConnection before
 * WANPPPConnection, a higher version (up to 2) first. */
static unsigned
service_rank(const char *t, size_t n, unsigned *version)
{
	unsigned long long v;
	size_t i, pl;

	for (i = 0; i < 2; i++) {
		pl = strlen(svc_prefix[i]);
		if (n > pl && memcmp(t, svc_prefix[i], pl) == 0 &&
		    parse_uint_n(t + pl, n - pl, 1, 2, &v) == 0) {
			*version = (unsigned)v;
			return (2 - (unsigned)i) * 10 + (unsigned)v;
		}
	}
	return 0;
}

int
upcp_parse_desc(const char *xml, size_t len, const struct upcp_url *from, struct upcp_desc *d)
{
	const char *p = xml, *end = xml + len, *t, *c;
	struct upcp_url base = *from, ctl;
	char type[UPCP_TYPE_MAX];
	unsigned best = 0, rank, ver;
	size_t tn, cn;

	memset(d, 0, sizeof(*d));
	if (element(xml, len, "URLBase", &t, &tn) && tn > 0 && upcp_parse_url(t, tn, &base) < 0)
		base = *from;
	while ((p = find(p, (size_t)(end - p), "<service>", false)) != NULL) {
		const char *se = find(p, (size_t)(end - p), "</service>", false);

		if (se == NULL)
			break;
		/* a candidate is taken whole or not at all */
		if (element(p, (size_t)(se - p), "serviceType", &t, &tn) &&
		    (rank = service_rank(t, tn, &ver)) > best &&
		    element(p, (size_t)(se - p), "controlURL", &c, &cn) && cn > 0 &&
		    resolve(c, cn, &base, &ctl) == 0 &&
		    str_copy_n(type, sizeof(type), t, tn) == 0) {
			best = rank;
			d->version = ver;
			d->control = ctl;
			memcpy(d->service_type, type, sizeof(type));
		}
		p = se;
	}
	return best > 0 ? 0 : -1;
}

int
upcp_parse_soap(const char *body, size_t len, struct upcp_soap *r)
{
	unsigned long long v;
	char a[INET_ADDRSTRLEN];
	const char *t;
	size_t n;

	memset(r, 0, sizeof(*r));
	if (find(body, len, "Envelope", false) == NULL)
		return -1;
	if (find(body, len, "Fault>", false) != NULL) {
		if (!element(body, len, "errorCode", &t, &n) || number(t, n, 999, &v) < 0 || v == 0)
			return -1;
		r->error = (int)v;
		return 0;
	}
	if (element(body, len, "NewExternalIPAddress", &t, &n)) {
		r->has_ext = true;
		if (n > 0 && (str_copy_n(a, sizeof(a), t, n) < 0 || inet_pton(AF_INET, a, &r->ext) != 1))
			return -1;
	}
	if ((element(body, len, "NewReservedPort", &t, &n) ||
	     element(body, len, "NewInternalPort", &t, &n))) {
		if (number(t, n, 65535, &v) < 0)
			return -1;
		r->port = (uint16_t)v;
		r->has_port = true;
	}
	if (element(body, len, "NewInternalClient", &t, &n)) {
		if (str_copy_n(a, sizeof(a), t, n) < 0 || inet_pton(AF_INET, a, &r->client) != 1)
			return -1;
		r->has_client = true;
	}
	return 0;
}

/* Append s XML-escaped; -1 when it does not fit. */
static int
append_escaped(char *buf, size_t size, const char *s)
{
	for (; *s != '\0'; s++) {
		int rc;

		switch (*s) {
		case '&': rc = str_appendf(buf, size, "&amp;"); break;
		case '<': rc = str_appendf(buf, size, "&lt;"); break;
		case '>': rc = str_appendf(buf, size, "&gt;"); break;
		case '"': rc = str_appendf(buf, size, "&quot;"); break;
		case '\'': rc = str_appendf(buf, size, "&apos;"); break;
		default: rc = str_appendf(buf, size, "%c", *s); break;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

size_t
upcp_write_soap(char *buf, size_t size, const struct upcp_url *ctl, const char *service_type,
		const char *action, const char *const *args, size_t n_args)
{
	char body[2048], host[INET_ADDRSTRLEN];
	size_t i;

	if (str_printf(body, sizeof(body),
		       "<?xml version=\"1.0\"?>\r\n<s:Envelope "
		       "xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
		       "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
		       "<s:Body><u:%s xmlns:u=\"%s\">", action, service_type) < 0)
		return 0;
	for (i = 0; i + 1 < n_args * 2; i += 2)
		if (str_appendf(body, sizeof(body), "<%s>", args[i]) < 0 ||
		    append_escaped(body, sizeof(body), args[i + 1]) < 0 ||
		    str_appendf(body, sizeof(body), "</%s>", args[i]) < 0)
			return 0;
	if (str_appendf(body, sizeof(body), "</u:%s></s:Body></s:Envelope>\r\n", action) < 0 ||
	    inet_ntop(AF_INET, &ctl->host, host, sizeof(host)) == NULL ||
	    str_printf(buf, size,
		       "POST %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: " UPCP_AGENT "\r\n"
		       "Content-Type: text/xml; charset=\"utf-8\"\r\n"
		       "SOAPAction: \"%s#%s\"\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		       ctl->path, host, ctl->port, service_type, action, strlen(body), body) < 0)
		return 0;
	return strlen(buf);
}

size_t
upcp_write_msearch(char *buf, size_t size, const char *st)
{
	if (str_printf(buf, size,
		       "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
		       "MAN: \"ssdp:discover\"\r\nMX: 2\r\nST: %s\r\n"
		       "USER-AGENT: " UPCP_AGENT "\r\n\r\n", st) < 0)
		return 0;
	return strlen(buf);
}

size_t
upcp_write_get(char *buf, size_t size, const struct upcp_url *url)
{
	char host[INET_ADDRSTRLEN];

	if (inet_ntop(AF_INET, &url->host, host, sizeof(host)) == NULL ||
	    str_printf(buf, size, "GET %s HTTP/1.1\r\nHost: %s:%u\r\nUser-Agent: " UPCP_AGENT
		       "\r\nConnection: close\r\n\r\n", url->path, host, url->port) < 0)
		return 0;
	return strlen(buf);
}
