/* admin_parse.c - the admin page's parsers of untrusted input (see
 * admin_parse.h): every one a pure function that reads only inside the
 * buffer it is given. */
#include <arpa/inet.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admin_parse.h"
#include "control.h"
#include "mapping.h"
#include "store.h"
#include "util.h"

/* ---------------------------------------------------------------- forms */

/* %-decode src[0..n) ('+' is a space) into dst[0..room): the decoded
 * length, or -1 for a bad escape or no room (a NUL is added after). */
static long
form_decode(const char *src, size_t n, char *dst, size_t room)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++) {
		char ch = src[i];

		if (ch == '%') {
			int hi, lo;

			hi = i + 1 < n ? hex_digit(src[i + 1]) : -1;
			lo = i + 2 < n ? hex_digit(src[i + 2]) : -1;
			if (hi < 0 || lo < 0)
				return -1;
			ch = (char)(hi << 4 | lo);
			i += 2;
		} else if (ch == '+') {
			ch = ' ';
		}
		if (w + 1 >= room)
			return -1;
		dst[w++] = ch;
	}
	if (w >= room)
		return -1;
	dst[w] = '\0';
	return (long)w;
}

static bool
field_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= ADMIN_FORM_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* One "name=value" pair p..pe into form (buf at *w).  0, or -1 with err. */
static int
form_pair(const char *p, const char *pe, char *buf, size_t bufsize, size_t *w,
	  struct admin_form *form, char *err, size_t errsize)
{
	const char *eq = memchr(p, '=', (size_t)(pe - p));
	const char *ne = eq != NULL ? eq : pe;
	struct admin_field *f = &form->f[form->n];
	long nl, vl = 0;
	unsigned k;

	nl = form_decode(p, (size_t)(ne - p), buf + *w, bufsize - *w);
	if (nl < 0 || !field_name_ok(buf + *w, (size_t)nl)) {
		str_printf(err, errsize, nl < 0 ? "malformed form data (a bad %%-escape)"
						: "malformed form data (a field name)");
		return -1;
	}
	f->name = buf + *w;
	*w += (size_t)nl + 1;
	f->value = "";
	if (eq != NULL) {
		vl = form_decode(eq + 1, (size_t)(pe - eq - 1), buf + *w, bufsize - *w);
		if (vl < 0) {
			str_printf(err, errsize, "%s: malformed value (a bad %%-escape)", f->name);
			return -1;
		}
		f->value = buf + *w;
		*w += (size_t)vl + 1;
	}
	f->len = (size_t)vl;
	for (k = 0; k < form->n; k++)
		if (strcmp(form->f[k].name, f->name) == 0) {
			str_printf(err, errsize, "%s: given twice", f->name);
			return -1;
		}
	form->n++;
	return 0;
}

int
admin_form_parse(const char *body, size_t len, char *buf, size_t bufsize,
		 struct admin_form *form, char *err, size_t errsize)
{
	const char *p = body, *end = body + len;
	size_t w = 0;

	memset(form, 0, sizeof(*form));
	err[0] = '\0';
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp != NULL ? amp : end;

		if (pe > p) {
			if (form->n == ADMIN_FORM_FIELDS) {
				str_printf(err, errsize, "malformed form data (more than %d fields)",
					   ADMIN_FORM_FIELDS);
				return -1;
			}
			if (form_pair(p, pe, buf, bufsize, &w, form, err, errsize) < 0)
				return -1;
		}
		p = amp != NULL ? amp + 1 : end;
	}
	return 0;
}

const struct admin_field *
admin_form_get(const struct admin_form *form, const char *name)
{
	unsigned k;

	for (k = 0; k < form->n; k++)
		if (strcmp(form->f[k].name, name) == 0)
			return &form->f[k];
	return NULL;
}

/* ---------------------------------------------------------------- the page's forms */

static const char *const fld_names[AF_COUNT] = {
	[AF_PROTOCOL] = "protocol", [AF_EXTERNAL_PORT] = "external_port",
	[AF_INTERNAL_CLIENT] = "internal_client", [AF_INTERNAL_PORT] = "internal_port",
	[AF_DESCRIPTION] = "description", [AF_LEASE] = "lease", [AF_REMOTE_HOST] = "remote_host",
	[AF_UNIQUE_ID] = "unique_id",
};

const char *
admin_fld_name(enum admin_fld k)
{
	return (unsigned)k < AF_COUNT ? fld_names[k] : "?";
}

static void ATTR_PRINTF(3, 4)
fld_error(struct admin_errors *e, enum admin_fld k, const char *fmt, ...)
{
	va_list ap;

	if (e->field[k][0] != '\0')
		return;		/* the first problem of a field is enough */
	va_start(ap, fmt);
	(void)vsnprintf(e->field[k], sizeof(e->field[k]), fmt, ap);
	va_end(ap);
	e->n++;
}

/* A value quoted in a message: its first 40 bytes, printable (a NUL, a
 * control character or a cut character shown as '?'). */
static const char *
quote(const struct admin_field *f, char *buf, size_t size)
{
	char tmp[41];
	size_t n = f->len < sizeof(tmp) - 1 ? f->len : sizeof(tmp) - 1, i;

	for (i = 0; i < n; i++)
		tmp[i] = f->value[i] == '\0' ? '?' : f->value[i];
	store_sanitize_desc(buf, size, tmp, n);
	return buf;
}

/* Only these fields (and csrf) may come. */
static void
check_known(const struct admin_form *form, unsigned allowed, struct admin_errors *e)
{
	unsigned i, k;

	for (i = 0; i < form->n; i++) {
		if (strcmp(form->f[i].name, "csrf") == 0)
			continue;
		for (k = 0; k < AF_COUNT; k++)
			if ((allowed & 1u << k) && strcmp(form->f[i].name, fld_names[k]) == 0)
				break;
		if (k == AF_COUNT && e->form[0] == '\0') {
			str_printf(e->form, sizeof(e->form), "unknown field '%s'", form->f[i].name);
			e->n++;
		}
	}
}

/* The field's value, or NULL with "required" when it is missing or
 * empty and required. */
static const struct admin_field *
need(const struct admin_form *form, enum admin_fld k, bool required, struct admin_errors *e)
{
	const struct admin_field *f = admin_form_get(form, fld_names[k]);

	if ((f == NULL || f->len == 0) && required)
		fld_error(e, k, "required");
	return f;
}

static void
parse_proto(const struct admin_form *form, struct ctl_request *req, struct admin_errors *e)
{
	const struct admin_field *f = need(form, AF_PROTOCOL, true, e);

	if (f != NULL && f->len > 0 && (strlen(f->value) != f->len || proto_parse(f->value, &req->proto) < 0))
		fld_error(e, AF_PROTOCOL, "choose TCP or UDP");
}

static void
parse_port(const struct admin_form *form, enum admin_fld k, uint16_t *out, struct admin_errors *e)
{
	const struct admin_field *f = need(form, k, true, e);
	unsigned long long v;

	if (f == NULL || f->len == 0)
		return;
	if (f->len > 5 || parse_uint_n(f->value, f->len, 1, 65535, &v) < 0)
		fld_error(e, k, "%s is a number from 1 to 65535",
			  k == AF_UNIQUE_ID ? "a UniqueID" : "a port");
	else
		*out = (uint16_t)v;
}

/* An IPv4 address (or nothing, when empty_ok). */
static void
parse_ipv4(const struct admin_form *form, enum admin_fld k, bool empty_ok, struct in6_addr *out,
	   struct admin_errors *e)
{
	const struct admin_field *f = need(form, k, !empty_ok, e);
	char q[48];
	struct in_addr a;

	memset(out, 0, sizeof(*out));
	if (f == NULL || f->len == 0)
		return;
	if (f->len >= INET_ADDRSTRLEN || strlen(f->value) != f->len ||
	    inet_pton(AF_INET, f->value, &a) != 1 || a.s_addr == 0)
		fld_error(e, k, "'%s' is not an IPv4 address such as 192.168.1.10",
			  quote(f, q, sizeof(q)));
	else
		addr_from_v4(out, a);
}

static void
parse_desc(const struct admin_form *form, struct ctl_request *req, struct admin_errors *e)
{
	const struct admin_field *f = need(form, AF_DESCRIPTION, false, e);
	size_t i, n;

	if (f == NULL)
		return;
	if (f->len >= MAPPING_DESC_MAX) {
		fld_error(e, AF_DESCRIPTION, "at most %d bytes (this one has %zu)",
			  MAPPING_DESC_MAX - 1, f->len);
		return;
	}
	for (i = 0; i < f->len; i += n) {
		unsigned char c = (unsigned char)f->value[i];

		if (c < 0x20 || c == 0x7f) {
			fld_error(e, AF_DESCRIPTION, "control characters (such as NUL or a line "
				  "break) are not allowed");
			return;
		}
		if ((n = utf8_seq_len((const unsigned char *)f->value + i, f->len - i)) == 0) {
			fld_error(e, AF_DESCRIPTION, "not valid UTF-8 text");
			return;
		}
	}
	memcpy(req->desc, f->value, f->len);
	req->desc[f->len] = '\0';
	req->fields |= CTL_F_DESC;
}

static void
parse_lease(const struct admin_form *form, struct ctl_request *req, struct admin_errors *e)
{
	const struct admin_field *f = need(form, AF_LEASE, false, e);
	unsigned long long v;

	if (f == NULL || f->len == 0)
		return;		/* permanent */
	if (f->len > 10 || parse_uint_n(f->value, f->len, 0, CTL_LEASE_MAX, &v) < 0)
		fld_error(e, AF_LEASE, "seconds from 1 to %d, or empty for a permanent forward",
			  CTL_LEASE_MAX);
	else {
		req->lease = (uint32_t)v;
		req->fields |= CTL_F_LEASE;
	}
}

int
admin_forward_parse(const struct admin_form *form, struct ctl_request *req,
		    struct admin_errors *e)
{
	memset(req, 0, sizeof(*req));
	memset(e, 0, sizeof(*e));
	req->cmd = CTL_ADD;
	check_known(form, 1u << AF_PROTOCOL | 1u << AF_EXTERNAL_PORT | 1u << AF_INTERNAL_CLIENT |
			  1u << AF_INTERNAL_PORT | 1u << AF_DESCRIPTION | 1u << AF_LEASE, e);
	parse_proto(form, req, e);
	parse_port(form, AF_EXTERNAL_PORT, &req->eport, e);
	parse_ipv4(form, AF_INTERNAL_CLIENT, false, &req->iaddr, e);
	parse_port(form, AF_INTERNAL_PORT, &req->iport, e);
	parse_desc(form, req, e);
	parse_lease(form, req, e);
	req->fields |= CTL_F_PROTO | CTL_F_EPORT | CTL_F_IADDR | CTL_F_IPORT;
	return e->n == 0 ? 0 : -1;
}

int
admin_delete_parse(const struct admin_form *form, struct ctl_request *req, struct admin_errors *e)
{
	memset(req, 0, sizeof(*req));
	memset(e, 0, sizeof(*e));
	req->cmd = CTL_DEL;
	if (admin_form_get(form, fld_names[AF_UNIQUE_ID]) != NULL) {
		/* a pinhole: its UniqueID is its key (1..65535, as a port) */
		check_known(form, 1u << AF_UNIQUE_ID, e);
		parse_port(form, AF_UNIQUE_ID, &req->uid, e);
		req->fields |= CTL_F_UID;
		return e->n == 0 ? 0 : -1;
	}
	check_known(form, 1u << AF_PROTOCOL | 1u << AF_EXTERNAL_PORT | 1u << AF_REMOTE_HOST, e);
	parse_proto(form, req, e);
	parse_port(form, AF_EXTERNAL_PORT, &req->eport, e);
	parse_ipv4(form, AF_REMOTE_HOST, true, &req->rhost, e);
	req->fields |= CTL_F_PROTO | CTL_F_EPORT |
		       (addr_is_any(&req->rhost) ? 0 : CTL_F_RHOST);
	return e->n == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- headers */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* [*s, *e) without blanks around. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
}

bool
admin_cookie_next(const char *hdr, size_t len, size_t *pos, const char *name, const char **val,
		  size_t *vlen)
{
	size_t nl = strlen(name);

	while (*pos < len) {
		const char *p = hdr + *pos, *end = hdr + len;
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *e = semi != NULL ? semi : end, *eq, *ne, *v;

		*pos = semi != NULL ? (size_t)(semi - hdr) + 1 : len;
		trim(&p, &e);
		eq = memchr(p, '=', (size_t)(e - p));
		if (eq == NULL)
			continue;
		ne = eq;
		trim(&p, &ne);
		if ((size_t)(ne - p) != nl || memcmp(p, name, nl) != 0)
			continue;
		v = eq + 1;
		trim(&v, &e);
		if (e - v >= 2 && *v == '"' && e[-1] == '"') {
			v++;
			e--;
		}
		*val = v;
		*vlen = (size_t)(e - v);
		return true;
	}
	return false;
}

/* host[:port] or [v6][:port]: the host part and the port (80 when none).
 * 0, or -1. */
static int
split_authority(const char *s, size_t n, const char **h, size_t *hl, unsigned long long *port)
{
	const char *colon = NULL;

	if (n == 0 || memchr(s, '@', n) != NULL)
		return -1;
	if (s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (rb == NULL)
			return -1;
		if (rb + 1 < s + n) {
			if (rb[1] != ':')
				return -1;
			colon = rb + 1;
		}
	} else {
		colon = memchr(s, ':', n);
	}
	*h = s;
	*hl = colon != NULL ? (size_t)(colon - s) : n;
	*port = 80;
	if (*hl == 0)
		return -1;
	if (colon != NULL &&
	    parse_uint_n(colon + 1, n - *hl - 1, 1, 65535, port) < 0)
		return -1;
	return 0;
}

bool
admin_same_origin(const char *url, size_t len, const char *host, size_t hlen, bool is_url)
{
	const char *a = url + 7, *ae = url + len, *h1, *h2;
	size_t l1, l2, i;
	unsigned long long p1, p2;

	if (len < 7 || !mem_ieq(url, 7, "http://"))
		return false;
	if (is_url) {
		for (i = 0; a + i < ae; i++)
			if (a[i] == '/' || a[i] == '?' || a[i] == '#')
				break;
		ae = a + i;
	}
	if (split_authority(a, (size_t)(ae - a), &h1, &l1, &p1) < 0 ||
	    split_authority(host, hlen, &h2, &l2, &p2) < 0)
		return false;
	if (l1 != l2 || p1 != p2)
		return false;
	for (i = 0; i < l1; i++) {
		char x = h1[i], y = h2[i];

		x = (char)(x >= 'A' && x <= 'Z' ? x - 'A' + 'a' : x);
		y = (char)(y >= 'A' && y <= 'Z' ? y - 'A' + 'a' : y);
		if (x != y)
			return false;
	}
	return true;
}

bool
admin_etag_match(const char *inm, size_t len, const char *etag)
{
	const char *p = inm, *end = inm + len;
	size_t el = strlen(etag);

	trim(&p, &end);
	if (end - p == 1 && *p == '*')
		return true;
	while (p < end) {
		const char *q;

		while (p < end && (is_blank(*p) || *p == ','))
			p++;
		if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
			p += 2;
		if (p >= end || *p != '"')
			return false;
		q = memchr(p + 1, '"', (size_t)(end - p - 1));
		if (q == NULL)
			return false;
		if ((size_t)(q + 1 - p) == el && memcmp(p, etag, el) == 0)
			return true;
		p = q + 1;
	}
	return false;
}

/* Is the q parameter among params [p, e) zero?  ("q=0", "q=0.000") */
static bool
q_is_zero(const char *p, const char *e)
{
	while (p < e) {
		const char *semi = memchr(p, ';', (size_t)(e - p)), *pe = semi ? semi : e, *v;

		trim(&p, &pe);
		if (pe - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			for (v = p + 2; v < pe && (*v == '0' || *v == '.'); v++)
				;
			return v == pe;
		}
		p = semi != NULL ? semi + 1 : e;
	}
	return false;
}

bool
admin_accepts_gzip(const char *v, size_t len)
{
	const char *p = v, *end = v + len;
	int gzip = -1, star = -1;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *e = comma != NULL ? comma : end;
		const char *semi = memchr(p, ';', (size_t)(e - p)), *ce = semi != NULL ? semi : e;
		const char *c = p;

		trim(&c, &ce);
		if (mem_ieq(c, (size_t)(ce - c), "gzip") || mem_ieq(c, (size_t)(ce - c), "x-gzip"))
			gzip = !(semi != NULL && q_is_zero(semi + 1, e));
		else if (ce - c == 1 && *c == '*')
			star = !(semi != NULL && q_is_zero(semi + 1, e));
		p = comma != NULL ? comma + 1 : end;
	}
	return gzip >= 0 ? gzip == 1 : star == 1;
}

bool
admin_bearer(const char *v, size_t len, const char **tok, size_t *tlen)
{
	const char *p = v + 6, *e = v + len;
	size_t i;

	if (len < 7 || !mem_ieq(v, 6, "Bearer") || !is_blank(v[6]))
		return false;
	trim(&p, &e);
	if (p == e)
		return false;
	for (i = 0; p + i < e; i++) {
		char c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr("-._~+/=", c) != NULL)))
			return false;
	}
	*tok = p;
	*tlen = (size_t)(e - p);
	return true;
}

bool
admin_query_u64(const char *target, size_t len, const char *name, uint64_t *out)
{
	const char *q = memchr(target, '?', len), *end = target + len;
	size_t nl = strlen(name);

	if (q == NULL)
		return false;
	for (q++; q < end;) {
		const char *amp = memchr(q, '&', (size_t)(end - q)), *pe = amp ? amp : end;
		unsigned long long v;

		if ((size_t)(pe - q) > nl && memcmp(q, name, nl) == 0 && q[nl] == '=' &&
		    pe - (q + nl + 1) <= 20 &&
		    parse_uint_n(q + nl + 1, (size_t)(pe - q - nl - 1), 0, ULLONG_MAX, &v) == 0) {
			*out = v;
			return true;
		}
		q = amp != NULL ? amp + 1 : end;
	}
	return false;
}

/* ---------------------------------------------------------------- leases */

#define LEASE_TOKENS	12

/* The blank-separated words of line [p, e): at most LEASE_TOKENS. */
static unsigned
split_words(const char *p, const char *e, const char **w, size_t *wl)
{
	unsigned n = 0;

	while (p < e && n < LEASE_TOKENS) {
		const char *s;

		while (p < e && (is_blank(*p) || *p == '\r'))
			p++;
		s = p;
		while (p < e && !is_blank(*p) && *p != '\r')
			p++;
		if (p > s) {
			w[n] = s;
			wl[n++] = (size_t)(p - s);
		}
	}
	return n;
}

/* An address word (a "/len" after it is dropped): 0, or -1. */
static int
word_addr(const char *s, size_t n, struct in6_addr *out)
{
	const char *slash = memchr(s, '/', n);
	char a[INET6_ADDRSTRLEN];

	if (str_copy_n(a, sizeof(a), s, slash != NULL ? (size_t)(slash - s) : n) < 0)
		return -1;
	return addr_parse(a, out);
}

static bool
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= ADMIN_HOSTNAME_MAX || (n == 1 && (*s == '*' || *s == '-')))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

static size_t
report(admin_lease_cb cb, void *arg, const char *a, size_t al, const char *name, size_t nl)
{
	char n[ADMIN_HOSTNAME_MAX];
	struct in6_addr addr;

	if (!name_ok(name, nl) || word_addr(a, al, &addr) < 0 || str_copy_n(n, sizeof(n), name, nl) < 0)
		return 0;
	cb(arg, &addr, n);
	return 1;
}

/* One line's pairs. */
static size_t
lease_line(const char *p, const char *e, admin_lease_cb cb, void *arg)
{
	const char *w[LEASE_TOKENS];
	size_t wl[LEASE_TOKENS], found = 0;
	unsigned n = split_words(p, e, w, wl), k;
	unsigned long long num;
	struct in6_addr a;

	if (n >= 9 && wl[0] == 1 && w[0][0] == '#') {
		/* odhcpd: # IFACE DUID IAID NAME EXPIRY ID LEN ADDR/LEN... */
		for (k = 8; k < n; k++)
			found += report(cb, arg, w[k], wl[k], w[4], wl[4]);
		return found;
	}
	if (n >= 4 && parse_uint_n(w[0], wl[0], 0, ULLONG_MAX, &num) == 0)
		return report(cb, arg, w[2], wl[2], w[3], wl[3]);	/* dnsmasq */
	if (n >= 2 && word_addr(w[0], wl[0], &a) == 0)
		return report(cb, arg, w[0], wl[0], w[n - 1], wl[n - 1]);	/* hosts line */
	return 0;
}

size_t
admin_leases_parse(const char *buf, size_t len, admin_lease_cb cb, void *arg)
{
	const char *p = buf, *end = buf + len;
	size_t found = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end;

		found += lease_line(p, e, cb, arg);
		p = nl != NULL ? nl + 1 : end;
	}
	return found;
}
