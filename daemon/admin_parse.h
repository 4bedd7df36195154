/* admin_parse.h - what the admin page reads from the network and from
 * other programs' files: form bodies, cookies, origins, entity tags,
 * content codings, bearer tokens, query numbers, DHCP lease files.  Pure
 * functions over a buffer (no allocation, no state): unit-tested and
 * fuzzed (tests/fuzz/fuzz_admin.c). */
#ifndef IGDD_ADMIN_PARSE_H
#define IGDD_ADMIN_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* ---- application/x-www-form-urlencoded ---- */

#define ADMIN_FORM_FIELDS	12	/* more is not a form of ours */
#define ADMIN_FORM_NAME_MAX	32	/* bytes of a field name */

struct admin_field {
	const char *name;		/* NUL-terminated, in the caller's buffer */
	const char *value;		/* decoded; NUL-terminated, but may hold NULs */
	size_t len;			/* of value */
};

struct admin_form {
	struct admin_field f[ADMIN_FORM_FIELDS];
	unsigned n;
};

/* Decode body[0..len) ("a=1&b=x%20y", '+' is a space) into buf (names
 * and values, each NUL-terminated; bufsize >= len + 2 is always enough)
 * and form.  Empty pairs ("&&") are skipped.  0, or -1 with a sentence in
 * err: a bad %-escape, a name too long or not [a-z0-9_-], a field given
 * twice, too many fields, buf too small. */
int admin_form_parse(const char *body, size_t len, char *buf, size_t bufsize,
		     struct admin_form *form, char *err, size_t errsize);
/* The field named name, or NULL. */
const struct admin_field *admin_form_get(const struct admin_form *form, const char *name);

/* ---- the forms of the page ---- */

/* The fields a person fills in, as the page's form and the JSON name them. */
enum admin_fld {
	AF_PROTOCOL, AF_EXTERNAL_PORT, AF_INTERNAL_CLIENT, AF_INTERNAL_PORT, AF_DESCRIPTION,
	AF_LEASE, AF_REMOTE_HOST, AF_UNIQUE_ID, AF_COUNT
};
#define ADMIN_ERR_MAX	200	/* bytes of one field's message */

/* What is wrong, field by field ("" = nothing), and with the form as a
 * whole (a field the form does not have). */
struct admin_errors {
	char field[AF_COUNT][ADMIN_ERR_MAX];
	char form[ADMIN_ERR_MAX];
	unsigned n;
};

/* "protocol", "external_port", ...: the field's name. */
const char *admin_fld_name(enum admin_fld k);
/* The add form (protocol, external_port, internal_client, internal_port,
 * description, lease: empty = permanent; and csrf, read elsewhere) into
 * req as the control socket's "add" has it.  0, or -1 with every
 * problem in e, each a sentence for a person (a value it quotes is cut
 * and its control characters shown as '?'). */
struct ctl_request;
int admin_forward_parse(const struct admin_form *form, struct ctl_request *req,
			struct admin_errors *e);
/* The Delete button's form, as "del" has it: a port mapping's protocol,
 * external_port and remote_host (empty = any), or a pinhole's unique_id
 * alone.  0 / -1 as above. */
int admin_delete_parse(const struct admin_form *form, struct ctl_request *req,
		       struct admin_errors *e);

/* ---- headers ---- */

/* The values of the cookie named name in a Cookie header (RFC 6265 5.4:
 * "a=1; b=2"), one per call: *pos starts at 0 and moves on.  true with
 * [*val, *val + *vlen) set (quotes taken off), false when there is no
 * more. */
bool admin_cookie_next(const char *hdr, size_t len, size_t *pos, const char *name,
		       const char **val, size_t *vlen);

/* Does a serialized origin ("http://host[:port]", RFC 6454 6.2), or the
 * scheme and authority of a URL (a Referer), name the host of the Host
 * header (host[:port])?  The default port 80 matches none given; a
 * scheme other than http, "null", userinfo or anything unparsable never
 * matches. */
bool admin_same_origin(const char *url, size_t len, const char *host, size_t hlen, bool is_url);

/* Does an If-None-Match list ("*", or entity tags, weak or strong: RFC
 * 9110 13.1.2 compares them weakly) match etag (with its quotes)? */
bool admin_etag_match(const char *inm, size_t len, const char *etag);

/* Does an Accept-Encoding list take gzip (gzip or x-gzip with q > 0, or
 * "*" with q > 0 when gzip is not named)? */
bool admin_accepts_gzip(const char *v, size_t len);

/* The token of an "Authorization: Bearer TOKEN" value (scheme in any
 * case, RFC 6750 2.1): true with [*tok, *tok + *tlen). */
bool admin_bearer(const char *v, size_t len, const char **tok, size_t *tlen);

/* The number of a query parameter ("/path?since=12&x=y"): true and *out
 * when name=DIGITS is there (at most 20 digits, no sign). */
bool admin_query_u64(const char *target, size_t len, const char *name, uint64_t *out);

/* ---- DHCP leases: host names of the LAN's addresses ---- */

#define ADMIN_HOSTNAME_MAX	64	/* bytes of a name kept, its NUL included */

/* One address and its host name (letters, digits, '-', '_', '.'; a name
 * with other bytes, "*", "-" or none is not reported). */
typedef void (*admin_lease_cb)(void *arg, const struct in6_addr *addr, const char *name);

/* Read a DHCP server's lease file, buf[0..len): dnsmasq's
 * ("EXPIRY MAC ADDR NAME CLIENTID", IPv6 ones "EXPIRY IAID ADDR NAME
 * DUID" after a "duid ..." line) and odhcpd's state file ("# IFACE DUID
 * IAID NAME EXPIRY ID LEN ADDR/LEN ..." and its "ADDR\tFQDN\tNAME" host
 * lines) are understood, line by line; other lines are skipped.  cb gets
 * each pair (addresses v4-mapped for IPv4).  Returns the pairs found. */
size_t admin_leases_parse(const char *buf, size_t len, admin_lease_cb cb, void *arg);

#endif
