/* ssdp.c - SSDP (UDA 1.1 1) on every LAN interface.
 *
 * One socket bound to *:1900 joins 239.255.255.250 on each LAN interface
 * (ip_mreqn with the ifindex) and receives M-SEARCH with IP_PKTINFO, so
 * that the arrival interface is known; answers leave from it with
 * IP_PKTINFO naming that interface and its address.  Announcements leave
 * from one socket per LAN interface with IP_MULTICAST_IF, TTL 2 (UDA 1.1
 * 1.1.2) and loopback off, so no route for the group is needed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctx.h"
#include "desc.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "ssdp.h"
#include "util.h"
#include "uuid.h"

/* ------------------------------------------------------------ parsing */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int
ssdp_parse(const char *buf, size_t len, struct ssdp_request *req)
{
	const char *p = buf, *end = buf + len, *nl, *le;
	bool first = true;

	memset(req, 0, sizeof(*req));
	req->mx = -1;
	req->man_ok = true;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		le = nl ? nl : end;		/* a missing final line ending is fine */
		if (le > p && le[-1] == '\r')
			le--;
		if (first) {
			if (le - p != 19 || memcmp(p, "M-SEARCH * HTTP/1.1", 19) != 0)
				return -1;
			req->msearch = true;
			first = false;
		} else if (le == p) {
			break;			/* the empty line */
		} else {
			const char *colon = memchr(p, ':', (size_t)(le - p)), *v, *ve;
			size_t nlen;

			if (colon != NULL) {
				nlen = (size_t)(colon - p);
				while (nlen > 0 && is_blank(p[nlen - 1]))
					nlen--;
				v = colon + 1;
				ve = le;
				while (v < ve && is_blank(*v))
					v++;
				while (ve > v && is_blank(ve[-1]))
					ve--;
				if (mem_ieq(p, nlen, "ST")) {
					req->st = v;
					req->st_len = (size_t)(ve - v);
					req->has_st = true;
				} else if (mem_ieq(p, nlen, "MX")) {
					unsigned long long mx;

					req->mx = parse_uint_n(v, (size_t)(ve - v), 0, 1000000, &mx) < 0
						? -1 : (int)mx;
				} else if (mem_ieq(p, nlen, "MAN")) {
					req->man_ok = mem_ieq(v, (size_t)(ve - v), "\"ssdp:discover\"") ||
						      mem_ieq(v, (size_t)(ve - v), "ssdp:discover");
				} else if (mem_ieq(p, nlen, "USER-AGENT")) {
					req->user_agent = v;
					req->user_agent_len = (size_t)(ve - v);
				}
			}
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (!req->msearch || !req->has_st || req->st_len == 0 || !req->man_ok)
		return -1;
	return 0;
}

/* ------------------------------------------------------------ targets */

static const char dev_prefix[] = "urn:schemas-upnp-org:device:";
static const char svc_prefix[] = "urn:schemas-upnp-org:service:";

size_t
ssdp_targets(const struct igdd_ctx *ctx, unsigned ver, struct ssdp_target *t)
{
	static const char *const devtypes[] = {
		"InternetGatewayDevice", "WANDevice", "WANConnectionDevice",
	};
	char uuids[3][40];
	size_t n = 0, d, k;

	for (d = 0; d < 3; d++)
		if (uuid_embedded(ctx, (unsigned)d, uuids[d], sizeof(uuids[d])) < 0)
			return 0;
	/* root: upnp:rootdevice, uuid, device type */
	str_copy(t[n].nt, sizeof(t[n].nt), "upnp:rootdevice");
	str_printf(t[n].usn, sizeof(t[n].usn), "uuid:%s::upnp:rootdevice", uuids[0]);
	n++;
	for (d = 0; d < 3; d++) {
		str_printf(t[n].nt, sizeof(t[n].nt), "uuid:%s", uuids[d]);
		str_printf(t[n].usn, sizeof(t[n].usn), "uuid:%s", uuids[d]);
		n++;
		str_printf(t[n].nt, sizeof(t[n].nt), "%s%s:%u", dev_prefix, devtypes[d], ver);
		str_printf(t[n].usn, sizeof(t[n].usn), "uuid:%s::%s", uuids[d], t[n].nt);
		n++;
	}
	for (k = 0; k < SVC_COUNT; k++) {
		const struct desc_service *s = &desc_services[k];

		if (!desc_service_present(ctx, s, ver))
			continue;	/* not in the tree now */
		str_printf(t[n].nt, sizeof(t[n].nt), "%s%s:%u", svc_prefix, s->type,
			   desc_service_version(s, ver));
		str_printf(t[n].usn, sizeof(t[n].usn), "uuid:%s::%s", uuids[s->device], t[n].nt);
		n++;
	}
	return n;
}

/* "urn:...:Type:N" -> length of "urn:...:Type:" and N; false if no version. */
static bool
split_version(const char *s, size_t len, size_t *plen, unsigned *ver)
{
	const char *c;
	unsigned long long v;

	for (c = s + len; c > s && c[-1] != ':'; c--)
		;
	if (c == s || parse_uint_n(c, len - (size_t)(c - s), 1, 1000, &v) < 0)
		return false;
	*plen = (size_t)(c - s);
	*ver = (unsigned)v;
	return true;
}

size_t
ssdp_match(const struct igdd_ctx *ctx, unsigned igd_version, const char *st, size_t st_len,
	   ssdp_answer_cb cb, void *arg)
{
	struct ssdp_target t[SSDP_MAX_TARGETS];
	size_t n = ssdp_targets(ctx, igd_version, t), i, answers = 0;
	char want[SSDP_ST_MAX], usn[SSDP_ST_MAX + 48];

	if (st_len == 0 || str_copy_n(want, sizeof(want), st, st_len) < 0 ||
	    strlen(want) != st_len)
		return 0;	/* too long or holding a NUL: matches nothing */
	if (strcmp(want, "ssdp:all") == 0) {
		for (i = 0; i < n; i++)
			cb(t[i].nt, t[i].usn, arg);
		return n;
	}
	for (i = 0; i < n; i++) {
		size_t pl_t, pl_w;
		unsigned vt, vw;

		if (strcmp(want, t[i].nt) == 0) {
			cb(t[i].nt, t[i].usn, arg);
			answers++;
		} else if (strncmp(want, "urn:", 4) == 0 &&
			   split_version(t[i].nt, strlen(t[i].nt), &pl_t, &vt) &&
			   split_version(want, st_len, &pl_w, &vw) && pl_t == pl_w &&
			   memcmp(want, t[i].nt, pl_t) == 0 && vw <= vt) {
			/* UDA 1.1 1.3.2: answer for the older version, naming it. */
			const char *sep = strstr(t[i].usn, "::");

			if (sep != NULL &&
			    str_printf(usn, sizeof(usn), "%.*s::%s", (int)(sep - t[i].usn), t[i].usn,
				       want) == 0) {
				cb(want, usn, arg);
				answers++;
			}
		}
	}
	return answers;
}

bool
ssdp_spread(const char *st, size_t st_len)
{
	return (st_len == 8 && memcmp(st, "ssdp:all", 8) == 0) ||
	       (st_len == 15 && memcmp(st, "upnp:rootdevice", 15) == 0);
}

uint32_t
ssdp_max_age(uint32_t interval)
{
	/* Announcements repeat every interval: two intervals (plus slack)
	 * survive one lost NOTIFY.  UDA 1.1 recommends >= 1800 to limit
	 * traffic, which the interval controls already; the floor of 120 s
	 * keeps a tiny interval from making control points forget us. */
	uint64_t a = (uint64_t)interval * 2 + 10;

	if (a < 120)
		a = 120;
	return a > 86400 ? 86400 : (uint32_t)a;
}

/* ------------------------------------------------------------ sockets */

/* A peer of either family. */
union ssdp_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct pending {
	uint64_t due;
	union ssdp_sa to;
	unsigned lan;			/* index in ctx->lan */
	unsigned max_answers;		/* what the limiter granted */
	unsigned igd_version;		/* what this control point gets (1 or 2) */
	char st[SSDP_ST_MAX];
};

struct ssdp {
	struct igdd_ctx *ctx;
	struct loop_fd rx;
	struct loop_fd rx6;		/* [::]:1900, the IPv6 groups joined per LAN */
	/* The groups are the interface's: of the slots on one interface
	 * (listening_ip on a secondary subnet too), one holds each. */
	bool on6[CFG_MAX_LISTEN];	/* the slot's IPv6 groups are joined */
	bool on4[CFG_MAX_LISTEN];	/* the slot's IPv4 group is joined */
	int tx[CFG_MAX_LISTEN];		/* per LAN address: NOTIFY from it */
	struct loop_timer notify_timer, answer_timer;
	uint32_t interval;
	unsigned n_pending;
	struct rl rl;
	uint32_t rand_state;
	/* the first n_pending in use; last: not zeroed (alloc_zero_head) */
	struct pending pending[SSDP_MAX_PENDING];
};

static bool
flag_set(const void *on, unsigned slot)
{
	return ((const bool *)on)[slot];
}

/* Are slot's interface's groups (on: on4 or on6) joined, by slot or by a
 * slot on the same interface? */
static bool
joined(const struct ssdp *s, unsigned slot, const bool *on)
{
	return on[slot] || ctx_lan_sibling(s->ctx, slot, flag_set, on) >= 0;
}

static uint32_t
ssdp_random(struct ssdp *s)
{
	/* xorshift32: spreading answers needs no cryptography */
	uint32_t x = s->rand_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return s->rand_state = x;
}

int
ssdp_location_host6(const struct igdd_ctx *ctx, const struct lan_iface *lan,
		    const struct in6_addr *to, bool linklocal, char *buf, size_t size)
{
	const struct in6_addr *best = NULL;
	char a[INET6_ADDRSTRLEN];
	unsigned i;

	if (ctx->cfg.has_ipv6_listening_ip) {
		best = &ctx->cfg.ipv6_listening_ip;
	} else {
		if (to != NULL)
			linklocal = IN6_IS_ADDR_LINKLOCAL(to);
		for (i = 0; i < lan->n_addr6; i++) {
			const struct lan_addr6 *la = &lan->addr6[i];

			if (IN6_IS_ADDR_LINKLOCAL(&la->addr) != linklocal)
				continue;
			if (best == NULL || (to != NULL && !linklocal &&
					     addr_prefix_eq(to, &la->addr, la->plen)))
				best = &la->addr;
		}
	}
	if (best == NULL || inet_ntop(AF_INET6, best, a, sizeof(a)) == NULL)
		return -1;
	return str_printf(buf, size, "[%s]", a);
}

/* LOCATION for lan; to (the searcher, or NULL for a NOTIFY) and v6 pick
 * the family, linklocal the scope of an IPv6 NOTIFY. */
static int
location(const struct igdd_ctx *ctx, const struct lan_iface *lan, const union ssdp_sa *to,
	 bool v6, bool linklocal, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN + 2];

	if (v6) {
		if (ssdp_location_host6(ctx, lan, to != NULL ? &to->in6.sin6_addr : NULL, linklocal,
					a, sizeof(a)) < 0)
			return -1;
	} else if (inet_ntop(AF_INET, &lan->addr, a, sizeof(a)) == NULL) {
		return -1;
	}
	return str_printf(buf, size, "http://%s:%u/rootDesc.xml", a, http_port(ctx));
}

/* The text of a peer's address, for log lines. */
static const char *
sa_str(const union ssdp_sa *sa, char *buf, size_t size)
{
	const void *a = sa->sa.sa_family == AF_INET6 ? (const void *)&sa->in6.sin6_addr
						     : (const void *)&sa->in.sin_addr;

	if (inet_ntop(sa->sa.sa_family, a, buf, (socklen_t)size) == NULL)
		return "?";
	return buf;
}

struct answer_ctx {
	struct ssdp *s;
	const struct lan_iface *lan;
	const union ssdp_sa *to;
	unsigned left;			/* answers the limiter still allows */
};

/* Send msg to `to` out of lan's interface (IP_PKTINFO / IPV6_PKTINFO on
 * the receiving socket, so the answer comes from port 1900). */
static int
send_on(struct ssdp *s, const struct lan_iface *lan, const union ssdp_sa *to, const char *msg)
{
	bool v6 = to->sa.sa_family == AF_INET6;
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cm;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *c;

	memset(&cm, 0, sizeof(cm));
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)msg;
	iov.iov_len = strlen(msg);
	mh.msg_name = (void *)(uintptr_t)to;
	mh.msg_namelen = v6 ? sizeof(to->in6) : sizeof(to->in);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	c = (struct cmsghdr *)(void *)cm.buf;
	if (v6) {
		struct in6_pktinfo *pi6 = (struct in6_pktinfo *)(void *)CMSG_DATA(c);

		mh.msg_controllen = CMSG_SPACE(sizeof(*pi6));
		c->cmsg_level = IPPROTO_IPV6;
		c->cmsg_type = IPV6_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(*pi6));
		pi6->ipi6_ifindex = lan->ifindex;	/* the kernel picks the source */
	} else {
		struct in_pktinfo *pi = (struct in_pktinfo *)(void *)CMSG_DATA(c);

		mh.msg_controllen = CMSG_SPACE(sizeof(*pi));
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(*pi));
		pi->ipi_ifindex = (int)lan->ifindex;
		pi->ipi_spec_dst = lan->addr;
	}
	return sendmsg(v6 ? s->rx6.fd : s->rx.fd, &mh, MSG_DONTWAIT) < 0 ? -1 : 0;
}

static void
send_answer(const char *st, const char *usn, void *arg)
{
	struct answer_ctx *ac = arg;
	struct igdd_ctx *ctx = ac->s->ctx;
	char loc[128], msg[1024], date[64], a[INET6_ADDRSTRLEN];
	time_t now = time(NULL);
	struct tm tm;

	if (ac->left == 0)
		return;
	ac->left--;
	if (gmtime_r(&now, &tm) == NULL || strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		date[0] = '\0';
	if (location(ctx, ac->lan, ac->to, ac->to->sa.sa_family == AF_INET6, false, loc,
		     sizeof(loc)) < 0 ||
	    str_printf(msg, sizeof(msg),
		       "HTTP/1.1 200 OK\r\n"
		       "CACHE-CONTROL: max-age=%u\r\n"
		       "DATE: %s\r\n"
		       "EXT:\r\n"
		       "LOCATION: %s\r\n"
		       "SERVER: %s\r\n"
		       "ST: %s\r\n"
		       "USN: %s\r\n"
		       "BOOTID.UPNP.ORG: %u\r\n"
		       "CONFIGID.UPNP.ORG: %u\r\n"
		       "\r\n",
		       ssdp_max_age(ac->s->interval), date, loc, http_server_string(ctx), st, usn,
		       (unsigned)ctx->bootid, (unsigned)ctx->configid) < 0)
		return;
	if (send_on(ac->s, ac->lan, ac->to, msg) < 0)
		log_trace("ssdp: answer to %s: %s", sa_str(ac->to, a, sizeof(a)), strerror(errno));
}

static void
answer_now(struct ssdp *s, const struct pending *p)
{
	struct answer_ctx ac = { s, &s->ctx->lan[p->lan], &p->to, p->max_answers };

	if (p->to.sa.sa_family == AF_INET6 ? !joined(s, p->lan, s->on6)
					    : s->tx[p->lan] < 0)
		return;		/* the interface was torn down meanwhile */
	ssdp_match(s->ctx, p->igd_version, p->st, strlen(p->st), send_answer, &ac);
}

static void
arm_answers(struct ssdp *s)
{
	uint64_t min = UINT64_MAX;
	unsigned i;

	for (i = 0; i < s->n_pending; i++)
		if (s->pending[i].due < min)
			min = s->pending[i].due;
	if (s->n_pending > 0)
		loop_timer_set_at(&s->ctx->loop, &s->answer_timer, min);
	else
		loop_timer_cancel(&s->ctx->loop, &s->answer_timer);
}

static void
answer_timer(struct loop_timer *t)
{
	struct ssdp *s = container_of(t, struct ssdp, answer_timer);
	uint64_t now = time_mono_ms();
	unsigned i = 0;

	while (i < s->n_pending) {
		if (s->pending[i].due <= now) {
			struct pending p = s->pending[i];

			s->pending[i] = s->pending[--s->n_pending];
			answer_now(s, &p);
		} else {
			i++;
		}
	}
	arm_answers(s);
}


static void
count_answer(const char *st, const char *usn, void *arg)
{
	(void)st;
	(void)usn;
	(void)arg;
}

/* Is from a source of this LAN, on its interface?  IPv6: the interface's
 * prefix, or link-local on it.  IPv4: the slot of the interface whose
 * subnet holds it (its address is the LOCATION), else the interface's
 * first when it is on another served subnet. */
static const struct lan_iface *
source_lan(const struct igdd_ctx *ctx, const union ssdp_sa *from, unsigned ifindex)
{
	const struct lan_iface *lan = ctx_lan_by_ifindex(ctx, ifindex), *own;

	if (lan == NULL)
		return NULL;
	if (from->sa.sa_family == AF_INET6)
		return ctx_lan_for_addr6(ctx, &from->in6.sin6_addr, ifindex) == lan ? lan : NULL;
	if ((own = ctx_lan_for_addr_on(ctx, from->in.sin_addr, ifindex)) != NULL)
		return own;
	return ctx_lan_for_addr(ctx, from->in.sin_addr) != NULL ? lan : NULL;
}

/* The sender's address, IPv4 as v4-mapped IPv6. */
static struct in6_addr
sa_in6(const union ssdp_sa *from)
{
	struct in6_addr a;

	if (from->sa.sa_family == AF_INET6)
		return from->in6.sin6_addr;
	addr_from_v4(&a, from->in.sin_addr);
	return a;
}

/* When a multicast ssdp:all or upnp:rootdevice is answered: a random
 * time in [0, MX] s, MX clamped to 1..5 (UDA 1.1 1.3.3); an absent, zero
 * or garbage MX counts as 1 rather than being dropped, as lenient clients
 * expect an answer. */
static uint64_t
answer_due(struct ssdp *s, int mx)
{
	mx = mx < 1 ? 1 : (mx > 5 ? 5 : mx);
	return time_mono_ms() + ssdp_random(s) % ((uint32_t)mx * 1000 + 1);
}

static void
handle_datagram(struct ssdp *s, const char *buf, size_t len, const union ssdp_sa *from,
		unsigned ifindex, bool multicast)
{
	struct igdd_ctx *ctx = s->ctx;
	const struct lan_iface *lan = source_lan(ctx, from, ifindex);
	bool v6 = from->sa.sa_family == AF_INET6;
	char a[INET6_ADDRSTRLEN];
	struct ssdp_request req;
	struct in6_addr src;
	struct pending p;
	size_t want;

	sa_str(from, a, sizeof(a));
	if (lan == NULL) {
		counters_request(&ctx->counters, CTR_SSDP);
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_WAN);	/* never answer the WAN side */
		log_trace("ssdp: dropped a datagram from %s%s%s:%u: not from a LAN", v6 ? "[" : "",
			  a, v6 ? "]" : "", ntohs(from->in.sin_port));
		return;
	}
	if (len >= 6 && memcmp(buf, "NOTIFY", 6) == 0)
		return;		/* others' NOTIFYs are normal, and not requests */
	counters_request(&ctx->counters, CTR_SSDP);
	if (ssdp_parse(buf, len, &req) < 0) {
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_MALFORMED);
		log_trace("ssdp: dropped a malformed datagram of %zu bytes from %s",
			  len, a);
		return;
	}
	if (req.st_len >= SSDP_ST_MAX) {
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_MALFORMED);
		log_trace("ssdp: dropped an M-SEARCH from %s: ST of %zu bytes", a,
			  req.st_len);
		return;
	}
	memset(&p, 0, sizeof(p));
	p.to = *from;
	p.lan = (unsigned)(lan - ctx->lan);
	if (str_copy_n(p.st, sizeof(p.st), req.st, req.st_len) < 0)
		return;
	/* The device it gets, as the description it will fetch says. */
	p.igd_version = desc_igd_version_for(ctx, req.user_agent, req.user_agent_len);
	want = ssdp_match(ctx, p.igd_version, p.st, req.st_len, count_answer, NULL);
	if (want == 0)
		return;			/* not a search for us */
	if (multicast && s->n_pending >= SSDP_MAX_PENDING) {
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_RATELIMIT);
		log_trace("ssdp: dropped an M-SEARCH from %s: %d answers already queued",
			  a, SSDP_MAX_PENDING);
		return;
	}
	/* The limit counts answers, not requests: ssdp:all costs 10.  Taken
	 * only for a search that will be answered. */
	src = sa_in6(from);
	p.max_answers = rl_take(&s->rl, &src, (unsigned)want, time_mono_ms(), NULL);
	if (p.max_answers == 0) {
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_RATELIMIT);
		log_trace("ssdp: dropped an M-SEARCH from %s: over ssdp_rate_limit", a);
		return;
	}
	/* answered in full (0) or, cut by the limiter, in part (1) */
	counters_answer(&ctx->counters, CTR_SSDP, p.max_answers < want ? 1 : 0);
	if (!multicast || !ssdp_spread(p.st, req.st_len)) {
		/* UDA 1.1 1.3.2: a unicast M-SEARCH is answered at once; so is
		 * a multicast one that only the gateway can answer (see
		 * ssdp_spread()): control points wait for the first answer. */
		answer_now(s, &p);
		return;
	}
	p.due = answer_due(s, req.mx);
	s->pending[s->n_pending++] = p;
	arm_answers(s);
}

/* Read what the socket holds (64 datagrams at most per wake-up). */
static void
rx_drain(struct ssdp *s, struct loop_fd *lfd)
{
	int budget = 64;

	while (budget-- > 0) {
		char buf[2048], a[INET6_ADDRSTRLEN];
		union {
			char b[CMSG_SPACE(sizeof(struct in6_pktinfo))];
			struct cmsghdr align;
		} cm;
		union ssdp_sa from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { 0 };
		unsigned ifindex;
		bool multicast;
		ssize_t n;

		memset(&from, 0, sizeof(from));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.b;
		mh.msg_controllen = sizeof(cm.b);
		/* MSG_TRUNC: n is the datagram's real length, for the log. */
		n = recvmsg(lfd->fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0)
			break;
		ifindex = msg_pktinfo(&mh, &multicast);
		if ((from.sa.sa_family != AF_INET && from.sa.sa_family != AF_INET6) ||
		    (mh.msg_flags & MSG_TRUNC) || (size_t)n > sizeof(buf)) {
			counters_request(&s->ctx->counters, CTR_SSDP);
			counters_drop(&s->ctx->counters, CTR_SSDP, CTR_DROP_MALFORMED);
			log_trace("ssdp: dropped a datagram of %zd bytes (over %zu) from %s", n,
				  sizeof(buf), sa_str(&from, a, sizeof(a)));
			continue;
		}
		handle_datagram(s, buf, (size_t)n, &from, ifindex, multicast);
	}
}

static void
rx_event(struct loop_fd *lfd, uint32_t events)
{
	(void)events;
	rx_drain(container_of(lfd, struct ssdp, rx), lfd);
}

static void
rx6_event(struct loop_fd *lfd, uint32_t events)
{
	(void)events;
	rx_drain(container_of(lfd, struct ssdp, rx6), lfd);
}

/* One NOTIFY: alive with its LOCATION, or byebye; HOST names the group. */
static int
notify_msg(const struct ssdp *s, bool alive, const char *host, const char *loc,
	   const struct ssdp_target *t, char *msg, size_t size)
{
	const struct igdd_ctx *ctx = s->ctx;

	if (alive)
		return str_printf(msg, size,
				  "NOTIFY * HTTP/1.1\r\n"
				  "HOST: %s:1900\r\n"
				  "CACHE-CONTROL: max-age=%u\r\n"
				  "LOCATION: %s\r\n"
				  "SERVER: %s\r\n"
				  "NT: %s\r\n"
				  "NTS: ssdp:alive\r\n"
				  "USN: %s\r\n"
				  "BOOTID.UPNP.ORG: %u\r\n"
				  "CONFIGID.UPNP.ORG: %u\r\n"
				  "\r\n",
				  host, ssdp_max_age(s->interval), loc, http_server_string(ctx),
				  t->nt, t->usn, (unsigned)ctx->bootid, (unsigned)ctx->configid);
	return str_printf(msg, size,
			  "NOTIFY * HTTP/1.1\r\n"
			  "HOST: %s:1900\r\n"
			  "NT: %s\r\n"
			  "NTS: ssdp:byebye\r\n"
			  "USN: %s\r\n"
			  "BOOTID.UPNP.ORG: %u\r\n"
			  "CONFIGID.UPNP.ORG: %u\r\n"
			  "\r\n",
			  host, t->nt, t->usn, (unsigned)ctx->bootid, (unsigned)ctx->configid);
}

/* IPv6 NOTIFYs of one slot: to [ff02::c] with the link-local LOCATION, to
 * [ff05::c] with a ULA/global one (UDA 1.1 Annex A), when it has one. */
static void
announce6(struct ssdp *s, unsigned k, bool alive, const struct ssdp_target *t, size_t n)
{
	static const struct { const char *group, *host; bool ll; } scopes[] = {
		{ SSDP_GROUP6_LL, "[FF02::C]", true },
		{ SSDP_GROUP6_SL, "[FF05::C]", false },
	};
	const struct lan_iface *lan = &s->ctx->lan[k];
	union ssdp_sa grp;
	char loc[128], msg[1024];
	size_t i, g;

	for (g = 0; g < ARRAY_SIZE(scopes); g++) {
		memset(&grp, 0, sizeof(grp));
		grp.in6.sin6_family = AF_INET6;
		grp.in6.sin6_port = htons(SSDP_PORT);
		grp.in6.sin6_scope_id = lan->ifindex;
		inet_pton(AF_INET6, scopes[g].group, &grp.in6.sin6_addr);
		if (location(s->ctx, lan, NULL, true, scopes[g].ll, loc, sizeof(loc)) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (notify_msg(s, alive, scopes[g].host, loc, &t[i], msg, sizeof(msg)) == 0 &&
			    send_on(s, lan, &grp, msg) < 0)
				log_debug("ssdp: NOTIFY to %s on %s: %s", scopes[g].group, lan->name,
					  strerror(errno));
	}
}

/* Send alive (or byebye) for every target on every LAN interface. */
static void
announce(struct ssdp *s, bool alive)
{
	struct igdd_ctx *ctx = s->ctx;
	struct ssdp_target t[SSDP_MAX_TARGETS];
	struct sockaddr_in grp = { .sin_family = AF_INET, .sin_port = htons(SSDP_PORT) };
	size_t n = ssdp_targets(ctx, desc_igd_version(ctx), t), i;
	unsigned k;

	grp.sin_addr.s_addr = inet_addr(SSDP_GROUP);
	for (k = 0; k < CFG_MAX_LISTEN; k++) {
		char loc[96], msg[1024];

		if (s->on6[k])
			announce6(s, k, alive, t, n);
		if (s->tx[k] < 0 || location(ctx, &ctx->lan[k], NULL, false, false, loc, sizeof(loc)) < 0)
			continue;
		for (i = 0; i < n; i++)
			if (notify_msg(s, alive, SSDP_GROUP, loc, &t[i], msg, sizeof(msg)) == 0 &&
			    sendto(s->tx[k], msg, strlen(msg), MSG_DONTWAIT,
				   (struct sockaddr *)&grp, sizeof(grp)) < 0)
				log_debug("ssdp: NOTIFY on %s: %s", ctx->lan[k].name, strerror(errno));
	}
}

static void
notify_timer(struct loop_timer *t)
{
	struct ssdp *s = container_of(t, struct ssdp, notify_timer);

	announce(s, true);
	loop_timer_set(&s->ctx->loop, &s->notify_timer, (uint64_t)s->interval * 1000);
}

static int
open_tx(const struct lan_iface *lan)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = lan->addr };
	struct ip_mreqn mr = { .imr_address = lan->addr, .imr_ifindex = (int)lan->ifindex };
	unsigned char ttl = 2, loop = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The group on this slot's interface, joined or left. */
static int
membership(struct ssdp *s, unsigned slot, int op)
{
	const struct lan_iface *lan = &s->ctx->lan[slot];
	struct ip_mreqn mr = { .imr_address = lan->addr, .imr_ifindex = (int)lan->ifindex };

	mr.imr_multiaddr.s_addr = inet_addr(SSDP_GROUP);
	return setsockopt(s->rx.fd, IPPROTO_IP, op, &mr, sizeof(mr));
}

/* The IPv6 groups (ff02::c, ff05::c) on this slot's interface, joined or
 * left; 0, or -1 when one could not be joined. */
static int
membership6(struct ssdp *s, unsigned slot, int op)
{
	struct ipv6_mreq mr = { .ipv6mr_interface = s->ctx->lan[slot].ifindex };
	int rc = 0;

	inet_pton(AF_INET6, SSDP_GROUP6_LL, &mr.ipv6mr_multiaddr);
	rc |= setsockopt(s->rx6.fd, IPPROTO_IPV6, op, &mr, sizeof(mr));
	inet_pton(AF_INET6, SSDP_GROUP6_SL, &mr.ipv6mr_multiaddr);
	rc |= setsockopt(s->rx6.fd, IPPROTO_IPV6, op, &mr, sizeof(mr));
	return rc < 0 ? -1 : 0;
}

/* IPv6 on this slot: a failure is logged, IPv4 goes on. */
static void
setup6(struct ssdp *s, unsigned slot)
{
	if (s->rx6.fd < 0 || joined(s, slot, s->on6))
		return;
	if (membership6(s, slot, IPV6_JOIN_GROUP) < 0) {
		log_warn("ssdp: cannot join [%s] and [%s] on %s", SSDP_GROUP6_LL, SSDP_GROUP6_SL,
			 s->ctx->lan[slot].name);
		(void)membership6(s, slot, IPV6_LEAVE_GROUP);
		return;
	}
	s->on6[slot] = true;
}

int
ssdp_iface_setup(struct igdd_ctx *ctx, unsigned slot)
{
	struct ssdp *s = ctx->ssdp;
	const struct lan_iface *lan = &ctx->lan[slot];

	if (s == NULL)
		return 0;	/* not started: nothing to set up */
	if (slot >= CFG_MAX_LISTEN || lan->gone)
		return -1;
	setup6(s, slot);
	if (s->tx[slot] >= 0)
		return 0;
	if (!joined(s, slot, s->on4)) {
		if (membership(s, slot, IP_ADD_MEMBERSHIP) < 0) {
			log_warn("ssdp: cannot join %s on %s", SSDP_GROUP, lan->name);
			return -1;
		}
		s->on4[slot] = true;
	}
	s->tx[slot] = open_tx(lan);
	if (s->tx[slot] < 0) {
		log_warn("ssdp: cannot open the sending socket of %s (%s)", lan->name,
			 ADDR4_STR(lan->addr));
		if (s->on4[slot])
			(void)membership(s, slot, IP_DROP_MEMBERSHIP);
		s->on4[slot] = false;
		return -1;
	}
	return 0;
}

static bool
tx_open(const void *s, unsigned slot)
{
	return ((const struct ssdp *)s)->tx[slot] >= 0;
}

/* slot lets go of its interface's groups (on: on4 or on6): to a sibling
 * that is set up when there is one (the membership is the interface's,
 * it stays), else left (leave: membership or membership6). */
static void
release_groups(struct ssdp *s, unsigned slot, bool *on, int (*leave)(struct ssdp *, unsigned, int),
	       int op)
{
	int k;

	if (!on[slot])
		return;
	on[slot] = false;
	k = ctx_lan_sibling(s->ctx, slot, tx_open, s);
	if (k >= 0)
		on[k] = true;
	else
		(void)leave(s, slot, op);
}

/* The answers still due to searchers of slot: dropped (a reload may give
 * the slot to another LAN before they are due; the searcher asks again). */
static void
drop_pending(struct ssdp *s, unsigned slot)
{
	unsigned i = 0;

	while (i < s->n_pending) {
		if (s->pending[i].lan == slot)
			s->pending[i] = s->pending[--s->n_pending];
		else
			i++;
	}
	arm_answers(s);
}

void
ssdp_iface_teardown(struct igdd_ctx *ctx, unsigned slot)
{
	struct ssdp *s = ctx->ssdp;

	if (s == NULL || slot >= CFG_MAX_LISTEN)
		return;
	drop_pending(s, slot);
	if (s->tx[slot] < 0) {
		release_groups(s, slot, s->on6, membership6, IPV6_LEAVE_GROUP);
		return;
	}
	close(s->tx[slot]);
	s->tx[slot] = -1;
	release_groups(s, slot, s->on6, membership6, IPV6_LEAVE_GROUP);
	release_groups(s, slot, s->on4, membership, IP_DROP_MEMBERSHIP);
}

/* [::]:1900 for the IPv6 groups; without it (no IPv6 in the kernel, say)
 * SSDP goes on over IPv4 with a warning. */
static void
open_rx6(struct ssdp *s)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(SSDP_PORT) };
	int one = 1, zero = 0, hops = 2, fd;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) {
		log_warn("ssdp: cannot open IPv6 UDP port %d; SSDP over IPv4 only", SSDP_PORT);
		if (fd >= 0)
			close(fd);
		return;
	}
	s->rx6.fd = fd;
	s->rx6.cb = rx6_event;
}

int
ssdp_init(struct igdd_ctx *ctx)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(SSDP_PORT) };
	struct ssdp *s = alloc_zero_head(sizeof(*s), offsetof(struct ssdp, pending));
	int one = 1, fd;
	unsigned char loop = 0;
	unsigned k;

	if (s == NULL)
		return -1;
	s->ctx = ctx;
	ctx->ssdp = s;
	s->rx.fd = -1;
	s->rx6.fd = -1;
	for (k = 0; k < CFG_MAX_LISTEN; k++)
		s->tx[k] = -1;
	s->interval = ctx->cfg.notify_interval ? ctx->cfg.notify_interval : SSDP_DEFAULT_INTERVAL;
	rl_init(&s->rl, ctx->cfg.ssdp_rate_limit, 0);
	s->rand_state = (uint32_t)time_mono_ms() ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9u;
	if (s->rand_state == 0)
		s->rand_state = 1;
	s->notify_timer.cb = notify_timer;
	s->answer_timer.cb = answer_timer;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		log_warn("ssdp: cannot open UDP port %d", SSDP_PORT);
		if (fd >= 0)
			close(fd);
		ssdp_shutdown(ctx);
		return -1;
	}
	s->rx.fd = fd;
	s->rx.cb = rx_event;
	if (!ctx->cfg.ipv6_disable)
		open_rx6(s);
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && ssdp_iface_setup(ctx, k) < 0) {
			ssdp_shutdown(ctx);
			return -1;
		}
	if (loop_fd_add(&ctx->loop, &s->rx, EPOLLIN) < 0 ||
	    (s->rx6.fd >= 0 && loop_fd_add(&ctx->loop, &s->rx6, EPOLLIN) < 0)) {
		ssdp_shutdown(ctx);
		return -1;
	}
	announce(s, true);
	loop_timer_set(&ctx->loop, &s->notify_timer, (uint64_t)s->interval * 1000);
	return 0;
}

void
ssdp_reconfigure(struct igdd_ctx *ctx, bool announce_now)
{
	struct ssdp *s = ctx->ssdp;
	uint32_t interval;

	if (s == NULL)
		return;
	interval = ctx->cfg.notify_interval ? ctx->cfg.notify_interval : SSDP_DEFAULT_INTERVAL;
	if (interval != s->interval) {
		s->interval = interval;
		loop_timer_set(&ctx->loop, &s->notify_timer, (uint64_t)s->interval * 1000);
	}
	if (s->rl.rate != ctx->cfg.ssdp_rate_limit)
		rl_init(&s->rl, ctx->cfg.ssdp_rate_limit, 0);
	if (announce_now)
		announce(s, true);
}

void
ssdp_shutdown(struct igdd_ctx *ctx)
{
	struct ssdp *s = ctx->ssdp;
	unsigned k;

	if (s == NULL)
		return;
	if (s->rx.registered)
		announce(s, false);
	loop_timer_cancel(&ctx->loop, &s->notify_timer);
	s->n_pending = 0;	/* no answer is armed again by the teardowns */
	loop_timer_cancel(&ctx->loop, &s->answer_timer);
	for (k = 0; k < CFG_MAX_LISTEN; k++)
		ssdp_iface_teardown(ctx, k);
	if (s->rx.fd >= 0) {
		loop_fd_del(&ctx->loop, &s->rx);
		close(s->rx.fd);
	}
	if (s->rx6.fd >= 0) {
		if (s->rx6.registered)
			loop_fd_del(&ctx->loop, &s->rx6);
		close(s->rx6.fd);
	}
	free(s);
	ctx->ssdp = NULL;
}
