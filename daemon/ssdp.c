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

struct pending {
	uint64_t due;
	struct sockaddr_in to;
	unsigned lan;			/* index in ctx->lan */
	unsigned max_answers;		/* what the limiter granted */
	unsigned igd_version;		/* what this control point gets (1 or 2) */
	char st[SSDP_ST_MAX];
};

struct ssdp {
	struct igdd_ctx *ctx;
	struct loop_fd rx;
	int tx[CFG_MAX_LISTEN];		/* per LAN interface */
	struct loop_timer notify_timer, answer_timer;
	uint32_t interval;
	struct pending pending[SSDP_MAX_PENDING];
	unsigned n_pending;
	struct rl rl;
	uint32_t rand_state;
};

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

static int
location(const struct igdd_ctx *ctx, const struct lan_iface *lan, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];

	return str_printf(buf, size, "http://%s:%u/rootDesc.xml",
			  addr4_str(lan->addr, a, sizeof(a)), http_port(ctx));
}

struct answer_ctx {
	struct ssdp *s;
	const struct lan_iface *lan;
	const struct sockaddr_in *to;
	unsigned left;			/* answers the limiter still allows */
};

static void
send_answer(const char *st, const char *usn, void *arg)
{
	struct answer_ctx *ac = arg;
	struct igdd_ctx *ctx = ac->s->ctx;
	char loc[96], msg[1024], date[64];
	struct in_pktinfo *pi;
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cm;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *c;
	time_t now = time(NULL);
	struct tm tm;

	if (ac->left == 0)
		return;
	ac->left--;
	if (gmtime_r(&now, &tm) == NULL || strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		date[0] = '\0';
	if (location(ctx, ac->lan, loc, sizeof(loc)) < 0 ||
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
	memset(&cm, 0, sizeof(cm));
	memset(&mh, 0, sizeof(mh));
	iov.iov_base = msg;
	iov.iov_len = strlen(msg);
	mh.msg_name = (void *)ac->to;
	mh.msg_namelen = sizeof(*ac->to);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	pi = (struct in_pktinfo *)(void *)CMSG_DATA(c);
	pi->ipi_ifindex = (int)ac->lan->ifindex;
	pi->ipi_spec_dst = ac->lan->addr;
	if (sendmsg(ac->s->rx.fd, &mh, MSG_DONTWAIT) < 0)
		log_trace("ssdp: answer to %s: %s", ADDR4_STR(ac->to->sin_addr), strerror(errno));
}

static void
answer_now(struct ssdp *s, const struct pending *p)
{
	struct answer_ctx ac = { s, &s->ctx->lan[p->lan], &p->to, p->max_answers };

	if (s->tx[p->lan] < 0)
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

static void
handle_datagram(struct ssdp *s, const char *buf, size_t len, const struct sockaddr_in *from,
		unsigned ifindex, struct in_addr dst)
{
	struct igdd_ctx *ctx = s->ctx;
	const struct lan_iface *lan = ctx_lan_by_ifindex(ctx, ifindex);
	struct ssdp_request req;
	struct in6_addr src;
	struct pending p;
	size_t want;
	bool multicast;

	if (lan == NULL || ctx_lan_for_addr(ctx, from->sin_addr) == NULL) {
		counters_request(&ctx->counters, CTR_SSDP);
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_WAN);	/* never answer the WAN side */
		log_trace("ssdp: dropped a datagram from %s:%u: not from a LAN",
			  ADDR4_STR(from->sin_addr), ntohs(from->sin_port));
		return;
	}
	if (len >= 6 && memcmp(buf, "NOTIFY", 6) == 0)
		return;		/* others' NOTIFYs are normal, and not requests */
	counters_request(&ctx->counters, CTR_SSDP);
	if (ssdp_parse(buf, len, &req) < 0) {
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_MALFORMED);
		log_trace("ssdp: dropped a malformed datagram of %zu bytes from %s",
			  len, ADDR4_STR(from->sin_addr));
		return;
	}
	if (req.st_len >= SSDP_ST_MAX) {
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_MALFORMED);
		log_trace("ssdp: dropped an M-SEARCH from %s: ST of %zu bytes",
			  ADDR4_STR(from->sin_addr), req.st_len);
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
	multicast = dst.s_addr == inet_addr(SSDP_GROUP);
	if (multicast && s->n_pending >= SSDP_MAX_PENDING) {
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_RATELIMIT);
		log_trace("ssdp: dropped an M-SEARCH from %s: %d answers already queued",
			  ADDR4_STR(from->sin_addr), SSDP_MAX_PENDING);
		return;
	}
	/* The limit counts answers, not requests: ssdp:all costs 10.  Taken
	 * only for a search that will be answered. */
	addr_from_v4(&src, from->sin_addr);
	p.max_answers = rl_take(&s->rl, &src, (unsigned)want, time_mono_ms(), NULL);
	if (p.max_answers == 0) {
		counters_drop(&ctx->counters, CTR_SSDP, CTR_DROP_RATELIMIT);
		log_trace("ssdp: dropped an M-SEARCH from %s: over ssdp_rate_limit",
			  ADDR4_STR(from->sin_addr));
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
	/* Multicast ssdp:all or upnp:rootdevice: wait a random time in
	 * [0, MX] s, MX clamped to 1..5 (UDA 1.1 1.3.3); an absent, zero or
	 * garbage MX counts as 1 rather than being dropped, as lenient
	 * clients expect an answer. */
	{
		int mx = req.mx < 1 ? 1 : (req.mx > 5 ? 5 : req.mx);

		p.due = time_mono_ms() + ssdp_random(s) % ((uint32_t)mx * 1000 + 1);
	}
	s->pending[s->n_pending++] = p;
	arm_answers(s);
}

static void
rx_event(struct loop_fd *lfd, uint32_t events)
{
	struct ssdp *s = container_of(lfd, struct ssdp, rx);
	int budget = 64;

	(void)events;
	while (budget-- > 0) {
		char buf[2048];
		union {
			char b[CMSG_SPACE(sizeof(struct in_pktinfo))];
			struct cmsghdr align;
		} cm;
		struct sockaddr_in from;
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr mh = { 0 };
		struct cmsghdr *c;
		unsigned ifindex = 0;
		struct in_addr dst = { 0 };
		ssize_t n;

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
		for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;

				memcpy(&pi, CMSG_DATA(c), sizeof(pi));
				ifindex = (unsigned)pi.ipi_ifindex;
				dst = pi.ipi_addr;
			}
		if (from.sin_family != AF_INET || (mh.msg_flags & MSG_TRUNC) ||
		    (size_t)n > sizeof(buf)) {
			counters_request(&s->ctx->counters, CTR_SSDP);
			counters_drop(&s->ctx->counters, CTR_SSDP, CTR_DROP_MALFORMED);
			log_trace("ssdp: dropped a datagram of %zd bytes (over %zu) from %s", n,
				  sizeof(buf), ADDR4_STR(from.sin_addr));
			continue;
		}
		handle_datagram(s, buf, (size_t)n, &from, ifindex, dst);
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

		if (s->tx[k] < 0 || location(ctx, &ctx->lan[k], loc, sizeof(loc)) < 0)
			continue;
		for (i = 0; i < n; i++) {
			int r;

			if (alive)
				r = str_printf(msg, sizeof(msg),
					       "NOTIFY * HTTP/1.1\r\n"
					       "HOST: " SSDP_GROUP ":1900\r\n"
					       "CACHE-CONTROL: max-age=%u\r\n"
					       "LOCATION: %s\r\n"
					       "SERVER: %s\r\n"
					       "NT: %s\r\n"
					       "NTS: ssdp:alive\r\n"
					       "USN: %s\r\n"
					       "BOOTID.UPNP.ORG: %u\r\n"
					       "CONFIGID.UPNP.ORG: %u\r\n"
					       "\r\n",
					       ssdp_max_age(s->interval), loc, http_server_string(ctx),
					       t[i].nt, t[i].usn, (unsigned)ctx->bootid,
					       (unsigned)ctx->configid);
			else
				r = str_printf(msg, sizeof(msg),
					       "NOTIFY * HTTP/1.1\r\n"
					       "HOST: " SSDP_GROUP ":1900\r\n"
					       "NT: %s\r\n"
					       "NTS: ssdp:byebye\r\n"
					       "USN: %s\r\n"
					       "BOOTID.UPNP.ORG: %u\r\n"
					       "CONFIGID.UPNP.ORG: %u\r\n"
					       "\r\n",
					       t[i].nt, t[i].usn, (unsigned)ctx->bootid,
					       (unsigned)ctx->configid);
			if (r == 0 && sendto(s->tx[k], msg, strlen(msg), MSG_DONTWAIT,
					     (struct sockaddr *)&grp, sizeof(grp)) < 0)
				log_debug("ssdp: NOTIFY on %s: %s", ctx->lan[k].name, strerror(errno));
		}
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

int
ssdp_iface_setup(struct igdd_ctx *ctx, unsigned slot)
{
	struct ssdp *s = ctx->ssdp;
	const struct lan_iface *lan = &ctx->lan[slot];

	if (s == NULL)
		return 0;	/* not started: nothing to set up */
	if (slot >= CFG_MAX_LISTEN || lan->gone)
		return -1;
	if (s->tx[slot] >= 0)
		return 0;
	if (membership(s, slot, IP_ADD_MEMBERSHIP) < 0) {
		log_warn("ssdp: cannot join %s on %s", SSDP_GROUP, lan->name);
		return -1;
	}
	s->tx[slot] = open_tx(lan);
	if (s->tx[slot] < 0) {
		log_warn("ssdp: cannot open the sending socket of %s", lan->name);
		(void)membership(s, slot, IP_DROP_MEMBERSHIP);
		return -1;
	}
	return 0;
}

void
ssdp_iface_teardown(struct igdd_ctx *ctx, unsigned slot)
{
	struct ssdp *s = ctx->ssdp;

	if (s == NULL || slot >= CFG_MAX_LISTEN || s->tx[slot] < 0)
		return;
	(void)membership(s, slot, IP_DROP_MEMBERSHIP);
	close(s->tx[slot]);
	s->tx[slot] = -1;
}

int
ssdp_init(struct igdd_ctx *ctx)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(SSDP_PORT) };
	struct ssdp *s = calloc(1, sizeof(*s));
	int one = 1, fd;
	unsigned char loop = 0;
	unsigned k;

	if (s == NULL)
		return -1;
	s->ctx = ctx;
	ctx->ssdp = s;
	s->rx.fd = -1;
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
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && ssdp_iface_setup(ctx, k) < 0) {
			ssdp_shutdown(ctx);
			return -1;
		}
	if (loop_fd_add(&ctx->loop, &s->rx, EPOLLIN) < 0) {
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
	loop_timer_cancel(&ctx->loop, &s->answer_timer);
	if (s->rx.fd >= 0) {
		loop_fd_del(&ctx->loop, &s->rx);
		close(s->rx.fd);
	}
	for (k = 0; k < CFG_MAX_LISTEN; k++)
		if (s->tx[k] >= 0)
			close(s->tx[k]);
	free(s);
	ctx->ssdp = NULL;
}
