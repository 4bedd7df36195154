/* perm.c - permission rules (miniupnpd semantics, see perm.h): their
 * parser, with a guard on the cost of their regexes, and their checks. */
#include <arpa/inet.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctx.h"
#include "perm.h"
#include "util.h"

/* ---- parsing ---- */

static int
perm_token(const char **p, char *buf, size_t size)
{
	const char *s = *p, *start;

	while (blank_char(*s))
		s++;
	start = s;
	while (*s != '\0' && !blank_char(*s))
		s++;
	*p = s;
	if (s == start) {
		(void)str_copy(buf, size, "(missing)");
		return -1;
	}
	return str_copy_n(buf, size, start, (size_t)(s - start));
}

/* "N" or "N-M", 0..65535, N <= M. */
static int
parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[16];
	char *dash;

	if (str_copy(buf, sizeof(buf), s) < 0)
		return -1;
	dash = strchr(buf, '-');
	if (dash != NULL)
		*dash++ = '\0';
	if (parse_u16(buf, 0, 65535, lo) < 0)
		return -1;
	if (dash == NULL) {
		*hi = *lo;
		return 0;
	}
	if (parse_u16(dash, 0, 65535, hi) < 0 || *hi < *lo)
		return -1;
	return 0;
}

/*
 * Permission-rule regexes are compiled by the C library, and glibc's regcomp
 * expands every repetition into copies of its operand: "a++++..." or
 * "((a+)+)+..." doubles the tree at each level, "(a{999}){999}" multiplies
 * it, so a short line can make start-up eat gigabytes (and stacked "?",
 * "*" make it take minutes).  Before regcomp, a
 * small recursive walk over the ERE estimates the size of the expanded tree
 * and refuses anything past RE_COST_MAX nodes (far beyond what a pattern on
 * a description needs).  Back-references are refused too: they are a glibc
 * extension in EREs and make matching a client's description exponential.
 */
#define RE_COST_MAX	4096
#define RE_DEPTH_MAX	32

struct re_scan {
	const char *p;
	const char *why;
};

static unsigned long
re_sat(unsigned long a)
{
	return a > RE_COST_MAX ? RE_COST_MAX + 1 : a;
}

static unsigned long re_alt(struct re_scan *s, int depth);

/* "[...]" with "]" allowed first and "[:class:]", "[=c=]", "[.c.]" inside. */
static int
re_bracket(struct re_scan *s)
{
	const char *p = s->p + 1;

	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p != '\0' && *p != ']'; p++) {
		if (*p == '[' && (p[1] == ':' || p[1] == '=' || p[1] == '.')) {
			char kind = p[1];

			for (p += 2; *p != '\0' && !(p[0] == kind && p[1] == ']'); p++)
				;
			if (*p == '\0')
				break;
			p++;
		}
	}
	if (*p != ']') {
		s->why = "unmatched [";
		return -1;
	}
	s->p = p + 1;
	return 0;
}

/* One atom and the repetitions that follow it. */
static unsigned long
re_piece(struct re_scan *s, int depth)
{
	unsigned long n = 1;
	int reps;

	if (*s->p == '(') {
		if (depth >= RE_DEPTH_MAX) {
			s->why = "groups nested too deeply";
			return RE_COST_MAX + 1;
		}
		s->p++;
		n = re_alt(s, depth + 1);
		if (s->why != NULL)
			return n;
		if (*s->p != ')') {
			s->why = "unmatched (";
			return RE_COST_MAX + 1;
		}
		s->p++;
	} else if (*s->p == '[') {
		if (re_bracket(s) < 0)
			return RE_COST_MAX + 1;
	} else if (*s->p == '\\') {
		if (s->p[1] >= '1' && s->p[1] <= '9') {
			s->why = "back-references are not supported";
			return RE_COST_MAX + 1;
		}
		s->p += s->p[1] != '\0' ? 2 : 1;
	} else {
		s->p++;
	}
	for (reps = 0;; reps++) {
		if (reps == 1 && (*s->p == '*' || *s->p == '?' || *s->p == '+' ||
				  (*s->p == '{' && s->p[1] >= '0' && s->p[1] <= '9'))) {
			/* POSIX leaves "a+*", "a??" undefined; glibc takes
			 * them, at a cost that grows steeply with each one. */
			s->why = "a repetition of a repetition (undefined in POSIX EREs)";
			return RE_COST_MAX + 1;
		}
		if (*s->p == '*' || *s->p == '?' || *s->p == '+') {
			/* counted as a copy each: the matcher's closures grow
			 * with every nested optional part */
			n = re_sat(2 * n + 1);
			s->p++;
		} else if (*s->p == '{') {
			unsigned long lo = 0, hi;
			const char *q = s->p + 1;

			while (*q >= '0' && *q <= '9')
				lo = re_sat(lo * 10 + (unsigned long)(*q++ - '0'));
			hi = lo;
			if (*q == ',') {
				q++;
				if (*q == '}') {
					hi = lo + 1;
				} else {
					for (hi = 0; *q >= '0' && *q <= '9'; q++)
						hi = re_sat(hi * 10 + (unsigned long)(*q - '0'));
				}
			}
			if (*q != '}')
				break;	/* not a bound: regcomp decides */
			n = re_sat(n * (hi > 0 ? hi : 1) + 1);
			s->p = q + 1;
		} else {
			break;
		}
	}
	return n;
}

static unsigned long
re_alt(struct re_scan *s, int depth)
{
	unsigned long n = 0;

	while (*s->p != '\0' && *s->p != ')' && s->why == NULL) {
		if (*s->p == '|') {
			s->p++;
			n = re_sat(n + 1);
			continue;
		}
		n = re_sat(n + re_piece(s, depth));
	}
	return n;
}

/* 0 if the ERE is small enough to compile, else -1 with a reason. */
static int
re_check(const char *re, const char **why)
{
	struct re_scan s = { re, NULL };
	unsigned long n = 0;

	while (s.why == NULL && *s.p != '\0') {
		n = re_sat(n + re_alt(&s, 0));
		if (*s.p == ')')
			s.p++;	/* a stray ")" is an ordinary character in an ERE */
	}
	if (s.why == NULL && n > RE_COST_MAX)
		s.why = "too complex (repetitions expand past 4096 nodes)";
	*why = s.why;
	return s.why == NULL ? 0 : -1;
}

#define PERM_REGEX_MAX	4096	/* bytes of a regex (a configuration line's length) */

/* A rule's client: an IPv4 address/mask (miniupnpd's), an IPv6 prefix
 * (v6, plen6 128 without /len) or mac=aa:bb:cc:dd:ee:ff (has_mac). */
static int
parse_client(struct perm_rule *r, const char *tok, int *prefix)
{
	char buf[INET6_ADDRSTRLEN + 5];
	char *slash;
	uint16_t len = 128;
	unsigned i;

	if (strncasecmp(tok, "mac=", 4) == 0) {
		r->has_mac = true;
		return mac_parse(tok + 4, r->mac);
	}
	if (strchr(tok, ':') == NULL)
		return addr4_parse_prefix(tok, &r->addr, prefix);
	if (str_copy(buf, sizeof(buf), tok) < 0)
		return -1;
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		if (parse_u16(slash, 0, 128, &len) < 0)
			return -1;
	}
	if (inet_pton(AF_INET6, buf, &r->addr6) != 1)
		return -1;
	r->v6 = true;
	r->plen6 = (uint8_t)len;
	for (i = len; i < 128; i++)	/* host bits off, as for IPv4 */
		r->addr6.s6_addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return 0;
}

/* allow|deny, the external ports, the client address/mask and the
 * internal ports; *p moves past them.  0 / -1 with a message. */
static int
parse_head(struct perm_rule *r, const char **p, char *msg, size_t msgsize)
{
	char tok[64];
	int prefix;

	if (perm_token(p, tok, sizeof(tok)) < 0 ||
	    (strcmp(tok, "allow") != 0 && strcmp(tok, "deny") != 0)) {
		str_printf(msg, msgsize, "permission rule must start with 'allow' or 'deny'");
		return -1;
	}
	r->allow = strcmp(tok, "allow") == 0;
	if (perm_token(p, tok, sizeof(tok)) < 0 ||
	    parse_port_range(tok, &r->eport_min, &r->eport_max) < 0) {
		str_printf(msg, msgsize, "permission rule: external ports '%s' are not N or N-M "
			   "(0..65535, N <= M)", tok);
		return -1;
	}
	if (perm_token(p, tok, sizeof(tok)) < 0 || parse_client(r, tok, &prefix) < 0) {
		str_printf(msg, msgsize, "permission rule: '%s' is not a.b.c.d, a.b.c.d/len, "
			   "a.b.c.d/m.m.m.m, an IPv6 address[/len] or mac=aa:bb:cc:dd:ee:ff", tok);
		return -1;
	}
	if (!r->v6 && !r->has_mac) {
		r->mask = addr4_mask(prefix < 0 ? 32 : prefix);
		r->addr.s_addr &= r->mask.s_addr;
	}
	if (perm_token(p, tok, sizeof(tok)) < 0 ||
	    parse_port_range(tok, &r->iport_min, &r->iport_max) < 0) {
		str_printf(msg, msgsize, "permission rule: internal ports '%s' are not N or N-M "
			   "(0..65535, N <= M)", tok);
		return -1;
	}
	return 0;
}

/* The regex between the double quotes of [q1, q2], compiled into r with
 * miniupnpd's semantics (upnppermissions.c): extended, case-insensitive,
 * searched anywhere in the description.  0 / -1 with a message. */
static int
compile_regex(struct perm_rule *r, const char *q1, const char *q2, char *msg, size_t msgsize)
{
	char re[PERM_REGEX_MAX], why[128];
	const char *bad;
	int rc;

	if (str_copy_n(re, sizeof(re), q1 + 1, (size_t)(q2 - q1 - 1)) < 0) {
		str_printf(msg, msgsize, "permission rule: regex too long");
		return -1;
	}
	if (re_check(re, &bad) < 0) {
		str_printf(msg, msgsize, "permission rule: regex \"%s\": %s", re, bad);
		return -1;
	}
	rc = regcomp(&r->regex, re, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &r->regex, why, sizeof(why));
		regfree(&r->regex);
		str_printf(msg, msgsize, "permission rule: bad regex \"%s\": %s", re, why);
		return -1;
	}
	if ((r->regex_text = strdup(re)) == NULL) {
		regfree(&r->regex);
		str_printf(msg, msgsize, "permission rule: out of memory");
		return -1;
	}
	r->has_regex = true;
	return 0;
}

/* Only blanks, or blanks and a "# comment", from p to the end? */
static bool
rest_is_comment(const char *p)
{
	while (blank_char(*p))
		p++;
	return *p == '\0' || *p == '#';
}

/* What may follow the ports: nothing, a regex in double quotes, and then
 * a "# comment" (OpenWrt's init script ends every rule with one).  The
 * regex ends at the first double quote that only blanks or a comment
 * follow, so it may hold a '"' or a '#' itself. */
static int
parse_tail(struct perm_rule *r, const char *p, char *msg, size_t msgsize)
{
	const char *close;

	while (blank_char(*p))
		p++;
	if (rest_is_comment(p))
		return 0;
	for (close = *p == '"' ? strchr(p + 1, '"') : NULL; close != NULL;
	     close = strchr(close + 1, '"'))
		if (rest_is_comment(close + 1))
			break;
	if (close == NULL) {
		str_printf(msg, msgsize, "permission rule: the description regex must be in "
			   "double quotes (and only a # comment may follow it)");
		return -1;
	}
	if (close == p + 1) {
		str_printf(msg, msgsize, "permission rule: empty regex");
		return -1;
	}
	return compile_regex(r, p, close, msg, msgsize);
}

int
perm_parse(struct perm_rule *r, const char *text, char *msg, size_t msgsize)
{
	const char *p = text;

	memset(r, 0, sizeof(*r));
	msg[0] = '\0';
	if (parse_head(r, &p, msg, msgsize) < 0)
		return -1;
	return parse_tail(r, p, msg, msgsize);
}

void
perm_rule_free(struct perm_rule *r)
{
	if (r->has_regex) {
		regfree(&r->regex);
		free(r->regex_text);
	}
	r->has_regex = false;
	r->regex_text = NULL;
}

bool
perm_rule_eq(const struct perm_rule *a, const struct perm_rule *b)
{
	return a->allow == b->allow && a->eport_min == b->eport_min &&
	       a->eport_max == b->eport_max && a->addr.s_addr == b->addr.s_addr &&
	       a->mask.s_addr == b->mask.s_addr && a->iport_min == b->iport_min &&
	       a->iport_max == b->iport_max && a->has_regex == b->has_regex &&
	       a->v6 == b->v6 && a->plen6 == b->plen6 &&
	       memcmp(&a->addr6, &b->addr6, sizeof(a->addr6)) == 0 &&
	       a->has_mac == b->has_mac && memcmp(a->mac, b->mac, sizeof(a->mac)) == 0 &&
	       (!a->has_regex || strcmp(a->regex_text, b->regex_text) == 0);
}

/* ---- checks ---- */

static bool
rule_matches(const struct perm_rule *r, uint16_t eport, const struct in6_addr *iaddr,
	     uint16_t iport, const char *desc, const uint8_t *mac)
{
	struct in_addr a;

	if (eport < r->eport_min || eport > r->eport_max)
		return false;
	if (iport < r->iport_min || iport > r->iport_max)
		return false;
	if (r->has_mac) {
		/* the device, whichever of its addresses (v4, any v6) asks */
		if (mac == NULL || memcmp(mac, r->mac, sizeof(r->mac)) != 0)
			return false;
	} else if (r->v6) {
		if (addr_is_v4(iaddr) || !addr_prefix_eq(iaddr, &r->addr6, r->plen6))
			return false;
	} else if (addr_is_v4(iaddr)) {
		a = addr_to_v4(iaddr);
		if ((a.s_addr & r->mask.s_addr) != (r->addr.s_addr & r->mask.s_addr))
			return false;
	} else {
		/* An IPv4 rule, even 0.0.0.0/0, says nothing about an IPv6
		 * client (see perm_allowed()). */
		return false;
	}
	/* miniupnpd compiles with REG_EXTENDED|REG_ICASE|REG_NOSUB and
	 * searches anywhere in the description (not anchored). */
	if (desc != NULL && r->has_regex && regexec(&r->regex, desc, 0, NULL, 0) != 0)
		return false;
	return true;
}

int
perm_match_mac(const struct perm_rule *rules, unsigned n, uint16_t eport,
	       const struct in6_addr *iaddr, uint16_t iport, const char *desc,
	       const uint8_t *mac)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (rule_matches(&rules[i], eport, iaddr, iport, desc, mac))
			return (int)i;
	return -1;
}

int
perm_match(const struct perm_rule *rules, unsigned n, uint16_t eport,
	   const struct in6_addr *iaddr, uint16_t iport, const char *desc)
{
	return perm_match_mac(rules, n, eport, iaddr, iport, desc, NULL);
}

bool
perm_uses_mac(const struct perm_rule *rules, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (rules[i].has_mac)
			return true;
	return false;
}

bool
perm_allowed_mac(const struct perm_rule *rules, unsigned n, uint16_t eport,
		 const struct in6_addr *iaddr, uint16_t iport, const char *desc,
		 const uint8_t *mac)
{
	int i = perm_match_mac(rules, n, eport, iaddr, iport, desc, mac);

	/* miniupnpd's check_upnp_rule_against_permissions(): no rule
	 * matching is an accept (an IPv6 client, which IPv4 rules never
	 * match, included). */
	return i < 0 || rules[i].allow;
}

bool
perm_allowed(const struct perm_rule *rules, unsigned n, uint16_t eport,
	     const struct in6_addr *iaddr, uint16_t iport, const char *desc)
{
	return perm_allowed_mac(rules, n, eport, iaddr, iport, desc, NULL);
}

uint32_t
perm_next_boundary(const struct perm_rule *rules, unsigned n, uint16_t eport)
{
	uint32_t best = 65536, b;
	unsigned i;

	for (i = 0; i < n; i++) {
		b = rules[i].eport_min;
		if (b > eport && b < best)
			best = b;
		b = (uint32_t)rules[i].eport_max + 1;
		if (b > eport && b < best)
			best = b;
	}
	return best;
}

/* A pinhole's client: see perm.h. */
static enum perm_host
lan_host6(const struct igdd_ctx *ctx, const struct in6_addr *a)
{
	const struct lan_iface *l;
	unsigned i;

	if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_MULTICAST(a) ||
	    IN6_IS_ADDR_LINKLOCAL(a) || IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_V4COMPAT(a))
		return PERM_HOST_SPECIAL;
	if ((l = ctx_lan_for_addr6(ctx, a, 0)) == NULL)
		return PERM_HOST_OUTSIDE;
	if (ctx_lan_own_addr6(ctx, a))
		return PERM_HOST_GATEWAY;
	/* RFC 4291 2.6.1: the prefix with host bits zero is the routers'. */
	for (i = 0; i < l->n_addr6; i++) {
		struct in6_addr net = IN6ADDR_ANY_INIT;
		unsigned plen = l->addr6[i].plen;

		if (IN6_IS_ADDR_LINKLOCAL(&l->addr6[i].addr) || plen >= 127 ||
		    !addr_prefix_eq(a, &l->addr6[i].addr, plen))
			continue;
		memcpy(&net, a, plen / 8);
		if (plen % 8)
			net.s6_addr[plen / 8] = a->s6_addr[plen / 8] & (uint8_t)(0xff << (8 - plen % 8));
		if (memcmp(&net, a, sizeof(net)) == 0)
			return PERM_HOST_NET;
	}
	return PERM_HOST_OK;
}

bool
perm_is_catchall(const struct perm_rule *r)
{
	/* Port 0 is never mapped: 1-65535 covers every request too (as
	 * OpenWrt's "deny 1-65535 0.0.0.0/0 1-65535"). */
	return r->mask.s_addr == 0 && !r->v6 && !r->has_mac && !r->has_regex && r->eport_min <= 1 &&
	       r->eport_max == 65535 && r->iport_min <= 1 && r->iport_max == 65535;
}

enum perm_policy
perm_policy(const struct perm_rule *rules, unsigned n, unsigned *catchall)
{
	bool allow_before = false;
	unsigned i;

	if (n == 0)
		return PERM_POLICY_NONE;
	for (i = 0; i < n; i++) {
		if (perm_is_catchall(&rules[i])) {
			*catchall = i;
			return !rules[i].allow && !allow_before ? PERM_POLICY_DENY_ALL
							       : PERM_POLICY_CLOSED;
		}
		allow_before |= rules[i].allow;
	}
	return PERM_POLICY_OPEN_END;
}

enum perm_host
perm_lan_host(const struct igdd_ctx *ctx, const struct in6_addr *a)
{
	const struct lan_iface *l;
	uint32_t h, host_mask;
	struct in_addr v4;
	unsigned k;

	if (!addr_is_v4(a))
		return lan_host6(ctx, a);
	v4 = addr_to_v4(a);
	h = ntohl(v4.s_addr);
	/* 0/8 this network, 127/8 loopback, 224/4 multicast, 240/4 reserved
	 * and the limited broadcast (RFC 6890) */
	if ((h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 14)
		return PERM_HOST_SPECIAL;
	if ((l = ctx_lan_for_addr(ctx, v4)) == NULL)
		return PERM_HOST_OUTSIDE;
	/* /31 and /32 have no network or broadcast address (RFC 3021) */
	host_mask = ~ntohl(l->mask.s_addr);
	if (host_mask > 1 && ((h & host_mask) == 0 || (h & host_mask) == host_mask))
		return PERM_HOST_NET;
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && ctx->lan[k].addr.s_addr == v4.s_addr)
			return PERM_HOST_GATEWAY;
	if (ctx->ext_addr.s_addr == v4.s_addr)
		return PERM_HOST_GATEWAY;
	return PERM_HOST_OK;
}

const char *
perm_host_str(enum perm_host h)
{
	switch (h) {
	case PERM_HOST_OK: return "a LAN host";
	case PERM_HOST_SPECIAL: return "not a routable unicast host address";
	case PERM_HOST_OUTSIDE: return "outside the served LANs";
	case PERM_HOST_NET: return "a LAN's network or broadcast address";
	case PERM_HOST_GATEWAY: return "the gateway itself";
	}
	return "?";
}
