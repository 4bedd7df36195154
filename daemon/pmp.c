/* pmp.c - the UDP 5351 server shared by NAT-PMP (RFC 6886) and PCP
 * (RFC 6887): one socket per LAN address, dispatch on the version byte,
 * unsolicited announcements to 224.0.0.1:5350.
 *
 * Nothing is answered to the WAN side: each socket is bound to one LAN
 * address, and a datagram is served only if it arrived on that LAN's
 * interface (IP_PKTINFO) from an address of that LAN.  PCP over IPv6: a
 * second socket per LAN interface, bound to [::]:5351 on that interface
 * (SO_BINDTODEVICE: the interface's addresses may come and go) or to
 * ipv6_listening_ip; a datagram is served when it arrived on that
 * interface (IPV6_PKTINFO) from one of its prefixes or link-local on it;
 * ANNOUNCE goes to [ff02::1]:5350 there too.  NAT-PMP is IPv4 only
 * (RFC 6886): version 0 over IPv6 is ignored.  The protocol
 * handlers are pure functions (natpmp.c, pcp.c); this file does the I/O.
 *
 * Group commit: the datagrams of one recvmmsg() are handled one after the
 * other, then the lease records of the mappings they changed are made
 * durable with one fdatasync() (store_commit()), then every answer goes
 * out (sendmmsg()).  No answer about a mapping leaves before its record
 * is on disk, and 16 requests in flight cost one sync instead of 16.  The
 * answers wait for the slowest of their batch: at most PMP_BATCH requests
 * and one sync. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "natpmp.h"
#include "pcp.h"
#include "pcp_update.h"
#include "pmp.h"
#include "store.h"
#include "upstream.h"
#include "util.h"

_Static_assert(PMP_MAX_DATAGRAM >= NATPMP_RESP_MAX && PMP_MAX_DATAGRAM >= PCP_MAX_LEN,
	       "an answer buffer holds the largest answer of either protocol");

#define PMP_READ_BUDGET		64	/* datagrams per wake-up per socket */

struct pmp_sock {
	struct loop_fd lfd;
	struct pmp *pmp;
	unsigned ifindex;
	struct in_addr addr;
	char name[IF_NAMESIZE];
	bool open;
	bool v6;			/* the PCP-over-IPv6 socket of the interface */
};

/* The buffers of one batch: datagrams, their control messages, and the
 * requests with their answers (shared by the sockets, one batch at a time). */
struct pmp_io {
	uint8_t bufs[PMP_BATCH][PMP_MAX_DATAGRAM + 4];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];	/* > in_pktinfo */
	} cbufs[PMP_BATCH];
	struct pmp_req reqs[PMP_BATCH];
};

/* An answer that waits for the relay's upstream: the request, kept. */
struct pmp_deferred {
	struct upstream_waiter w;
	struct pmp *pmp;
	struct pmp_deferred *prev, *next;
	unsigned slot;
	struct sockaddr_in peer;
	struct in6_addr from;
	size_t len;
	uint8_t req[PMP_MAX_DATAGRAM + 1];
};

struct pmp {
	struct igdd_ctx *ctx;
	struct pmp_deferred *deferred;	/* waiting answers */
	unsigned n_deferred;
	struct pmp_io io;
	struct pmp_sock socks[CFG_MAX_LISTEN];	/* by LAN slot (ctx->lan) */
	struct pmp_sock socks6[CFG_MAX_LISTEN];	/* PCP over IPv6, by LAN slot: one
						 * of the slots on an interface */
	struct loop_timer announce;
	unsigned announce_left;		/* steps still to send */
	unsigned announce_what;		/* enum pmp_announce_what */
};

/* Whose datagram: RFC 6887 §9, a server that speaks both protocols
 * answers version 0 as NAT-PMP and every other version as PCP
 * (UNSUPP_VERSION with version 2 for 1 and > 2), so NAT-PMP's own
 * "unsupported version" answer of RFC 6886 §3.5 is never needed on this
 * port.  An empty datagram is counted as NAT-PMP's. */
static enum ctr_proto
pmp_proto(const uint8_t *req, size_t len)
{
	return len > 0 && req[0] != NATPMP_VERSION ? CTR_PCP : CTR_NATPMP;
}

int
pmp_handle(struct igdd_ctx *ctx, const struct in6_addr *from,
	   const uint8_t *req, size_t len, uint8_t *resp, size_t *resplen)
{
	return pmp_handle_w(ctx, from, req, len, resp, resplen, NULL);
}

/* The answer's result code in the counters: NAT-PMP's 16 bits at offset
 * 2 (RFC 6886 §3.5), PCP's byte at offset 3 (RFC 6887 §7.2). */
static void
count_answer(struct igdd_ctx *ctx, enum ctr_proto p, int rc, const uint8_t *resp,
	     size_t resplen)
{
	if (rc < 0 || (rc == 1 && resplen < 4))
		counters_drop(&ctx->counters, p, CTR_DROP_MALFORMED);
	else if (rc == 0)
		counters_drop(&ctx->counters, p, CTR_DROP_IGNORED);
	else if (rc == 1)
		counters_answer(&ctx->counters, p,
				p == CTR_NATPMP ? (resp[2] << 8 | resp[3]) : resp[3]);
}

int
pmp_answer(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req, size_t len,
	   const struct upstream_answer *a, uint8_t *resp, size_t *resplen)
{
	enum ctr_proto p = pmp_proto(req, len);
	int rc = -1;

	*resplen = 0;
	if (len >= 1 && p == CTR_NATPMP)
		rc = natpmp_answer(ctx, from, req, len, a, resp, resplen);
	else if (len >= 1)
		rc = pcp_answer(ctx, from, req, len, a, resp, resplen);
	count_answer(ctx, p, rc, resp, *resplen);
	return rc;
}

int
pmp_handle_w(struct igdd_ctx *ctx, const struct in6_addr *from, const uint8_t *req, size_t len,
	     uint8_t *resp, size_t *resplen, struct upstream_waiter *w)
{
	enum ctr_proto p = pmp_proto(req, len);
	int rc = -1;

	*resplen = 0;
	counters_request(&ctx->counters, p);
	/* RFC 6887 §9: a server that speaks both protocols answers version
	 * 0 as NAT-PMP and every other version as PCP. */
	if (len >= 1 && p == CTR_NATPMP)
		rc = natpmp_handle_w(ctx, from, req, len, resp, resplen, w);
	else if (len >= 1)
		rc = pcp_handle_w(ctx, from, req, len, resp, resplen, w);
	count_answer(ctx, p, rc, resp, *resplen);	/* a deferred one: pmp_answer() */
	return rc;
}

int
pmp_handle_batch(struct igdd_ctx *ctx, struct pmp_req *reqs, size_t n)
{
	struct counters before;
	size_t i;
	int pass, rc = 0;

	if (n == 0)
		return 0;
	/* Pass 0: the batch's kernel changes in one transaction.  Pass 1,
	 * only if the kernel refused it (the store took everything back):
	 * the same requests again, each change its own transaction, so
	 * that only the refused ones fail, and are answered so.  The relay
	 * forgets what pass 0 asked of it (its reservations are gone): pass
	 * 1 asks again, each request waiting once. */
	before = ctx->counters;
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0) {
			store_hold_batch(ctx->store);
		} else {
			ctx->counters = before;		/* counted once */
			store_hold(ctx->store);
		}
		for (i = 0; i < n; i++)
			reqs[i].rc = pmp_handle_w(ctx, &reqs[i].from, reqs[i].req, reqs[i].len,
						  reqs[i].resp, &reqs[i].resplen, reqs[i].w);
		rc = store_commit(ctx->store);
		upstream_batch_end(ctx, rc == STORE_REDO);
		if (rc != STORE_REDO)
			break;
		for (i = 0; i < n; i++)
			if (reqs[i].w != NULL)
				upstream_waiter_cancel(ctx, reqs[i].w);
	}
	return rc;
}

/* The source of a datagram, v4-mapped for IPv4, and its port; -1 when
 * it is not of the socket's family. */
static int
pmp_source(const struct pmp_sock *ps, const struct msghdr *msg, struct in6_addr *from,
	   uint16_t *port)
{
	const struct sockaddr_in *sin = msg->msg_name;
	const struct sockaddr_in6 *sin6 = msg->msg_name;

	if (ps->v6) {
		if (msg->msg_namelen < sizeof(*sin6) || sin6->sin6_family != AF_INET6)
			return -1;
		*from = sin6->sin6_addr;
		*port = ntohs(sin6->sin6_port);
		return 0;
	}
	if (msg->msg_namelen < sizeof(*sin) || sin->sin_family != AF_INET)
		return -1;
	addr_from_v4(from, sin->sin_addr);
	*port = ntohs(sin->sin_port);
	return 0;
}

/* One datagram of n bytes in buf, as recvmmsg() left it in msg: is it
 * from this LAN, on its interface?  Then it becomes *r, to be answered. */
static bool
pmp_accept(struct pmp_sock *ps, const struct msghdr *msg, size_t n, const uint8_t *buf,
	   struct pmp_req *r)
{
	struct igdd_ctx *ctx = ps->pmp->ctx;
	unsigned ifindex = msg_pktinfo(msg, NULL);
	const struct lan_iface *lan;
	uint16_t port;
	char a[INET6_ADDRSTRLEN];

	if (pmp_source(ps, msg, &r->from, &port) < 0)
		return false;
	lan = ps->v6 ? ctx_lan_for_addr6(ctx, &r->from, ifindex)
		     : ctx_lan_for_addr(ctx, addr_to_v4(&r->from));
	if (lan == NULL || ifindex != ps->ifindex || lan->ifindex != ps->ifindex || port == 0) {
		counters_request(&ctx->counters, pmp_proto(buf, n));
		counters_drop(&ctx->counters, pmp_proto(buf, n), CTR_DROP_WAN);
		log_trace("NAT-PMP/PCP: dropped a datagram from %s%s%s:%u on %s: not from this LAN",
			  ps->v6 ? "[" : "", addr_str(&r->from, a, sizeof(a)), ps->v6 ? "]" : "",
			  port, ps->name);
		return false;
	}
	if (ps->v6 && n > 0 && buf[0] == NATPMP_VERSION) {
		/* NAT-PMP has no IPv6 (RFC 6886) */
		counters_request(&ctx->counters, CTR_NATPMP);
		counters_drop(&ctx->counters, CTR_NATPMP, CTR_DROP_IGNORED);
		return false;
	}
	/* A datagram longer than PCP's maximum: PCP answers
	 * MALFORMED_REQUEST on the first 1100 bytes (RFC 6887 §8.3);
	 * pass 1101 so the length check sees it. */
	r->len = n;
	if (r->len > PMP_MAX_DATAGRAM + 1 || (msg->msg_flags & MSG_TRUNC))
		r->len = PMP_MAX_DATAGRAM + 1;
	r->req = buf;
	return true;
}

/* The outcome of one handled request (pmp_handle() counted it): true when
 * its answer is to be sent. */
static bool
pmp_outcome(struct pmp_sock *ps, const struct pmp_req *r, const struct sockaddr_in *src)
{
	const uint8_t *nonce;
	char a[INET6_ADDRSTRLEN];

	if (r->rc == PMP_DEFERRED)
		return false;	/* pmp_deferred_done() answers */
	if (r->rc < 0 || (r->rc == 1 && r->resplen == 0)) {
		log_trace("NAT-PMP/PCP: dropped a malformed datagram of %zu bytes from %s",
			  r->len, addr_str(&r->from, a, sizeof(a)));
		return false;
	}
	if (r->rc == 0) {
		log_trace("NAT-PMP/PCP: ignored a response datagram from %s",
			  addr_str(&r->from, a, sizeof(a)));
		return false;
	}
	/* RFC 6887 §14.2: unsolicited responses about the mappings of this
	 * MAP request's nonce go to this port (sin_port and sin6_port are
	 * at the same place). */
	if ((nonce = pcp_map_nonce(r->req, r->len)) != NULL)
		pcp_update_note(ps->pmp->ctx, &r->from, nonce, ntohs(src->sin_port));
	return true;
}

/* Send n answers with as few sendmmsg() calls as they allow: one that
 * fails is reported and skipped, the rest still go. */
static void
pmp_send(struct pmp_sock *ps, struct mmsghdr *out, unsigned n)
{
	unsigned i = 0;
	int sent;

	while (i < n) {
		sent = sendmmsg(ps->lfd.fd, out + i, n - i, 0);
		if (sent <= 0) {
			log_warn("NAT-PMP/PCP sendto on %s", ps->name);
			i++;
			continue;
		}
		i += (unsigned)sent;
	}
}

/* --- answers that wait for the relay's upstream ----------------------- */

static void
deferred_unlink(struct pmp *p, struct pmp_deferred *d)
{
	DLIST_UNLINK(&p->deferred, (struct pmp_deferred **)NULL, d);
	d->prev = d->next = NULL;
	p->n_deferred--;
}

/* The relay answered: the answer to the kept request goes out now (its
 * mapping change is on disk: the relay commits before it tells). */
static void
deferred_done(struct upstream_waiter *w, const struct upstream_answer *a)
{
	struct pmp_deferred *d = container_of(w, struct pmp_deferred, w);
	struct pmp *p = d->pmp;
	struct pmp_req r;

	deferred_unlink(p, d);
	memset(&r, 0, sizeof(r));
	r.from = d->from;
	r.req = d->req;
	r.len = d->len;
	r.rc = pmp_answer(p->ctx, &d->from, d->req, d->len, a, r.resp, &r.resplen);
	if (d->slot < CFG_MAX_LISTEN && p->socks[d->slot].open &&
	    pmp_outcome(&p->socks[d->slot], &r, &d->peer)) {
		if (sendto(p->socks[d->slot].lfd.fd, r.resp, r.resplen, 0,
			   (struct sockaddr *)&d->peer, sizeof(d->peer)) < 0)
			log_warn("NAT-PMP/PCP sendto %s", ADDR4_STR(d->peer.sin_addr));
	}
	free(d);
}

/* With a relay, each request may have to wait: a copy of it, ready. */
static struct upstream_waiter *
deferred_new(struct pmp_sock *ps, const struct pmp_req *r, const struct sockaddr_in *peer)
{
	struct pmp *p = ps->pmp;
	struct pmp_deferred *d;

	if (!upstream_active(p->ctx) || p->n_deferred >= PMP_MAX_DEFERRED ||
	    (d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	d->w.done = deferred_done;
	d->pmp = p;
	d->slot = (unsigned)(ps - p->socks);
	d->peer = *peer;
	d->from = r->from;
	d->len = r->len < sizeof(d->req) ? r->len : sizeof(d->req);
	memcpy(d->req, r->req, d->len);
	return &d->w;
}

/* After the batch: a deferred answer's copy is kept until the relay
 * tells, the others are dropped. */
static void
deferred_keep(struct pmp *p, struct upstream_waiter *w, bool keep)
{
	struct pmp_deferred *d;

	if (w == NULL)
		return;
	d = container_of(w, struct pmp_deferred, w);
	if (!keep) {
		free(d);
		return;
	}
	d->next = p->deferred;
	if (p->deferred != NULL)
		p->deferred->prev = d;
	p->deferred = d;
	p->n_deferred++;
}

/* Datagrams are read PMP_BATCH at a time with recvmmsg(): a burst costs
 * one call per batch, and a batch that comes back short means the socket
 * is empty, so a lone request costs no extra call that only says EAGAIN
 * (epoll, level-triggered, reports anything that arrives later).  Each
 * batch is answered as a group (pmp_handle_batch()): its mapping changes
 * share one lease-file sync, and the answers go out after it. */
static void
pmp_readable(struct loop_fd *lfd, uint32_t events)
{
	struct pmp_sock *ps = container_of(lfd, struct pmp_sock, lfd);
	struct pmp_io *io = &ps->pmp->io;
	uint8_t (*bufs)[PMP_MAX_DATAGRAM + 4] = io->bufs;
	struct pmp_req *reqs = io->reqs;
	struct sockaddr_in6 srcs[PMP_BATCH];	/* room for either family */
	struct sockaddr_in *peer[PMP_BATCH];
	struct iovec iovs[PMP_BATCH];
	struct mmsghdr mm[PMP_BATCH];
	unsigned n, k;
	int round, got, i;

	(void)events;
	for (round = 0; round < PMP_READ_BUDGET / PMP_BATCH; round++) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < PMP_BATCH; i++) {
			iovs[i].iov_base = bufs[i];
			iovs[i].iov_len = sizeof(bufs[i]);
			mm[i].msg_hdr.msg_name = &srcs[i];
			mm[i].msg_hdr.msg_namelen = sizeof(srcs[i]);
			mm[i].msg_hdr.msg_iov = &iovs[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			mm[i].msg_hdr.msg_control = io->cbufs[i].buf;
			mm[i].msg_hdr.msg_controllen = sizeof(io->cbufs[i].buf);
		}
		got = recvmmsg(lfd->fd, mm, PMP_BATCH, MSG_DONTWAIT, NULL);
		if (got < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("NAT-PMP/PCP recvmmsg on %s", ps->name);
			return;
		}
		for (i = 0, n = 0; i < got; i++)
			if (pmp_accept(ps, &mm[i].msg_hdr, mm[i].msg_len, bufs[i], &reqs[n])) {
				peer[n] = (struct sockaddr_in *)&srcs[i];
				/* PCP over IPv6 is never relayed: no waiter */
				reqs[n].w = ps->v6 ? NULL : deferred_new(ps, &reqs[n], peer[n]);
				n++;
			}
		pmp_handle_batch(ps->pmp->ctx, reqs, n);
		for (k = 0; k < n; k++)
			deferred_keep(ps->pmp, reqs[k].w, reqs[k].rc == PMP_DEFERRED);
		/* The answers, in the order of their requests, reuse mm[]:
		 * the requests are done with. */
		memset(mm, 0, sizeof(mm));
		for (k = 0, i = 0; k < n; k++) {
			if (!pmp_outcome(ps, &reqs[k], peer[k]))
				continue;
			iovs[i].iov_base = reqs[k].resp;
			iovs[i].iov_len = reqs[k].resplen;
			mm[i].msg_hdr.msg_name = peer[k];
			mm[i].msg_hdr.msg_namelen = ps->v6 ? sizeof(struct sockaddr_in6)
							   : sizeof(struct sockaddr_in);
			mm[i].msg_hdr.msg_iov = &iovs[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			i++;
		}
		pmp_send(ps, mm, (unsigned)i);
		if (got < PMP_BATCH)
			return;
	}
}

/* One datagram to 224.0.0.1:5350 through each LAN socket, and with v6
 * (PCP) to [ff02::1]:5350 through each IPv6 one (RFC 6887 §14.1.1). */
static void
announce_to_lans(struct pmp *p, const uint8_t *buf, size_t n, const char *what, bool v6)
{
	struct sockaddr_in dst;
	struct sockaddr_in6 dst6;
	unsigned k;

	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons(PMP_CLIENT_PORT);
	dst.sin_addr.s_addr = htonl(INADDR_ALLHOSTS_GROUP);	/* 224.0.0.1 */
	memset(&dst6, 0, sizeof(dst6));
	dst6.sin6_family = AF_INET6;
	dst6.sin6_port = htons(PMP_CLIENT_PORT);
	inet_pton(AF_INET6, "ff02::1", &dst6.sin6_addr);
	for (k = 0; n > 0 && k < CFG_MAX_LISTEN; k++) {
		if (p->socks[k].open &&
		    sendto(p->socks[k].lfd.fd, buf, n, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0)
			log_debug("%s announce on %s: %s", what, p->socks[k].name, strerror(errno));
		dst6.sin6_scope_id = p->socks6[k].ifindex;
		if (v6 && p->socks6[k].open &&
		    sendto(p->socks6[k].lfd.fd, buf, n, 0, (struct sockaddr *)&dst6, sizeof(dst6)) < 0)
			log_debug("%s announce over IPv6 on %s: %s", what, p->socks6[k].name,
				  strerror(errno));
	}
}

/* One step of the schedule; each datagram is built at send time, so the
 * epoch in it has moved on with the time (RFC 6886 §3.2.1). */
static void
announce_send(struct pmp *p)
{
	struct igdd_ctx *ctx = p->ctx;
	uint8_t buf[PCP_HDR_LEN];

	if ((p->announce_what & PMP_ANN_NATPMP) && ctx->ext_addr.s_addr != 0)
		announce_to_lans(p, buf, natpmp_external_response(ctx, buf, sizeof(buf)), "NAT-PMP",
				 false);
	if (p->announce_what & PMP_ANN_PCP)
		announce_to_lans(p, buf, pcp_announce(ctx, buf, sizeof(buf)), "PCP", true);
	if (p->announce_what & PMP_ANN_PCP_MAP)
		pcp_update_round(ctx);
}

uint64_t
pmp_announce_gap_ms(unsigned k)
{
	return (uint64_t)PMP_ANNOUNCE_FIRST_MS << (k < 16 ? k : 16);
}

static void
announce_timer(struct loop_timer *t)
{
	struct pmp *p = container_of(t, struct pmp, announce);

	if (p->announce_left == 0)
		return;
	announce_send(p);
	p->announce_left--;
	if (p->announce_left > 0)
		loop_timer_set(&p->ctx->loop, &p->announce,
			       pmp_announce_gap_ms(PMP_ANNOUNCE_COUNT - 1 - p->announce_left));
}

/* PMP_ANNOUNCE_COUNT steps telling `what`: now, then 250 ms later, the
 * gap doubling (RFC 6886 §3.2.1).  A restart and an address change both
 * come here; a schedule started over a running one keeps what that one
 * told (a restart's ANNOUNCE must not be cut short by a link flap). */
static void
announce_start(struct pmp *p, unsigned what)
{
	if (p->announce_left > 0)
		what |= p->announce_what;
	p->announce_left = PMP_ANNOUNCE_COUNT;
	p->announce_what = what;
	p->announce.cb = announce_timer;
	loop_timer_set(&p->ctx->loop, &p->announce, 0);
}

unsigned
pmp_announce_left(const struct igdd_ctx *ctx, unsigned *what)
{
	const struct pmp *p = ctx->pmp;
	unsigned left = p != NULL ? p->announce_left : 0;

	if (what != NULL)
		*what = left > 0 ? p->announce_what : 0;
	return left;
}

void
pmp_ext_addr_changed(struct igdd_ctx *ctx)
{
	struct pmp *p = ctx->pmp;
	bool moved = ctx_epoch_follow(ctx);

	/* No address: nothing to tell (requests get a network failure). */
	if (p == NULL || ctx->ext_addr.s_addr == 0)
		return;
	if (moved) {
		log_info("NAT-PMP/PCP: external address %s, a new epoch: announcing it",
			 ADDR4_STR(ctx->ext_addr));
		/* RFC 6887 §8.5 reset, told by ANNOUNCE (§14.1) and to each
		 * PCP mapping's client by a MAP update (§14.2). */
		announce_start(p, PMP_ANN_NATPMP | PMP_ANN_PCP | PMP_ANN_PCP_MAP);
	} else {
		/* The same address back (link flap): the mappings did not
		 * move, but RFC 6886 §3.2.1 announces any acquisition. */
		announce_start(p, PMP_ANN_NATPMP);
	}
}

int
pmp_sendto(struct igdd_ctx *ctx, struct in_addr dst, uint16_t port, const uint8_t *buf,
	   size_t len)
{
	const struct lan_iface *lan = ctx_lan_for_addr(ctx, dst);
	struct pmp *p = ctx->pmp;
	const struct pmp_sock *ps;
	struct sockaddr_in sin;

	if (p == NULL || lan == NULL || !p->socks[lan - ctx->lan].open)
		return -1;
	ps = &p->socks[lan - ctx->lan];
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr = dst;
	if (sendto(ps->lfd.fd, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		log_debug("NAT-PMP/PCP sendto %s: %s", ADDR4_STR(dst),
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* Close fd after a failed set-up step: -1, errno kept. */
static int
close_fail(int fd)
{
	int e = errno;

	close(fd);
	errno = e;
	return -1;
}

static int
sock_open(struct pmp_sock *ps)
{
	struct sockaddr_in sa;
	struct ip_mreqn mreq;
	int fd, one = 1, zero = 0, ttl = 1;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(PMP_SERVER_PORT);
	sa.sin_addr = ps->addr;
	memset(&mreq, 0, sizeof(mreq));
	mreq.imr_address = ps->addr;
	mreq.imr_ifindex = (int)ps->ifindex;
	/* Announcements leave through this LAN interface without needing a
	 * multicast route (DESIGN.md lab notes). */
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return close_fail(fd);
	return fd;
}

/* The IPv6 socket of a LAN interface: [::]:5351 bound to the device, or
 * ipv6_listening_ip.  fd, or -1 with errno. */
static int
sock_open6(const struct igdd_ctx *ctx, const struct pmp_sock *ps)
{
	struct sockaddr_in6 sa;
	int fd, one = 1, zero = 0, hops = 1, ifi = (int)ps->ifindex;

	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_port = htons(PMP_SERVER_PORT);
	if (ctx->cfg.has_ipv6_listening_ip) {
		sa.sin6_addr = ctx->cfg.ipv6_listening_ip;
		if (IN6_IS_ADDR_LINKLOCAL(&sa.sin6_addr))
			sa.sin6_scope_id = ps->ifindex;
	}
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifi, sizeof(ifi)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof(zero)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    (!ctx->cfg.has_ipv6_listening_ip &&
	     setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ps->name, (socklen_t)strlen(ps->name)) < 0) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return close_fail(fd);
	return fd;
}

/* Does the interface serve IPv6 here: IPv6 on, and with
 * ipv6_listening_ip, the address is the interface's? */
static bool
serves_v6(const struct igdd_ctx *ctx, const struct lan_iface *lan)
{
	unsigned i;

	if (ctx->cfg.ipv6_disable)
		return false;
	if (!ctx->cfg.has_ipv6_listening_ip)
		return true;
	for (i = 0; i < lan->n_addr6; i++)
		if (addr_eq(&lan->addr6[i].addr, &ctx->cfg.ipv6_listening_ip))
			return true;
	return false;
}

/* The PCP-over-IPv6 socket of a slot's interface (one for the slots on
 * it); a failure is logged, not fatal: IPv4 goes on. */
static void
setup6(struct igdd_ctx *ctx, struct pmp *p, unsigned slot)
{
	const struct lan_iface *lan = &ctx->lan[slot];
	struct pmp_sock *ps = &p->socks6[slot];
	struct ctx_lan_socks socks = CTX_LAN_SOCKS(p->socks, p->socks6, struct pmp_sock);

	if (ctx_lan_has6(ctx, slot, &socks) || !serves_v6(ctx, lan))
		return;
	ps->pmp = p;
	ps->v6 = true;
	ps->ifindex = lan->ifindex;
	str_copy(ps->name, sizeof(ps->name), lan->name);
	ps->lfd.fd = sock_open6(ctx, ps);
	if (ps->lfd.fd < 0) {
		log_warn("PCP: cannot listen on IPv6 port %d (%s)", PMP_SERVER_PORT, ps->name);
		return;
	}
	ps->lfd.cb = pmp_readable;
	if (loop_fd_add(&ctx->loop, &ps->lfd, EPOLLIN) < 0) {
		close(ps->lfd.fd);
		return;
	}
	ps->open = true;
	log_info("PCP listening on IPv6 port %d (%s)", PMP_SERVER_PORT, ps->name);
}

int
pmp_iface_setup(struct igdd_ctx *ctx, unsigned slot)
{
	struct pmp *p = ctx->pmp;
	const struct lan_iface *lan = &ctx->lan[slot];
	struct pmp_sock *ps;

	if (p == NULL)
		return 0;	/* not started: nothing to set up */
	if (slot >= CFG_MAX_LISTEN || lan->gone)
		return -1;
	setup6(ctx, p, slot);
	ps = &p->socks[slot];
	if (ps->open)
		return 0;
	ps->pmp = p;
	ps->ifindex = lan->ifindex;
	ps->addr = lan->addr;
	str_copy(ps->name, sizeof(ps->name), lan->name);
	ps->lfd.fd = sock_open(ps);
	if (ps->lfd.fd < 0) {
		log_warn("NAT-PMP/PCP: cannot listen on %s:%d (%s)",
			 ADDR4_STR(ps->addr), PMP_SERVER_PORT, ps->name);
		return -1;
	}
	ps->lfd.cb = pmp_readable;
	if (loop_fd_add(&ctx->loop, &ps->lfd, EPOLLIN) < 0) {
		close(ps->lfd.fd);
		return -1;
	}
	ps->open = true;
	log_info("NAT-PMP/PCP listening on %s:%d (%s)", ADDR4_STR(ps->addr),
		 PMP_SERVER_PORT, ps->name);
	return 0;
}

void
pmp_iface_teardown(struct igdd_ctx *ctx, unsigned slot)
{
	struct pmp *p = ctx->pmp;
	struct ctx_lan_socks socks;

	if (p == NULL || slot >= CFG_MAX_LISTEN)
		return;
	/* its IPv6 socket goes on for a slot on the same interface that
	 * stays (reload) */
	socks = CTX_LAN_SOCKS(p->socks, p->socks6, struct pmp_sock);
	ctx_lan_socks_close(ctx, slot, &socks);
}

int
pmp_init(struct igdd_ctx *ctx)
{
	struct pmp *p;
	unsigned k;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return -1;
	p->ctx = ctx;
	ctx->pmp = p;
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && pmp_iface_setup(ctx, k) < 0) {
			pmp_shutdown(ctx);
			return -1;
		}
	/* The epoch starts with the daemon: its mapping table is new, or
	 * restored from the lease file, which clients cannot tell apart
	 * (RFC 6886 §3.7); tell them with a PCP ANNOUNCE too (RFC 6887 §14.1). */
	ctx->epoch_mono = ctx->start_mono;
	ctx->epoch_addr = ctx->ext_addr;
	announce_start(p, PMP_ANN_NATPMP | PMP_ANN_PCP);
	ctx_add_ext_hook(ctx, pmp_ext_addr_changed);
	return 0;
}

void
pmp_shutdown(struct igdd_ctx *ctx)
{
	struct pmp *p = ctx->pmp;
	unsigned k;

	if (p == NULL)
		return;
	loop_timer_cancel(&ctx->loop, &p->announce);
	while (p->deferred != NULL) {
		struct pmp_deferred *d = p->deferred;
		upstream_waiter_cancel(ctx, &d->w);
		deferred_unlink(p, d);
		free(d);
	}
	for (k = 0; k < CFG_MAX_LISTEN; k++)
		pmp_iface_teardown(ctx, k);
	free(p);
	ctx->pmp = NULL;
}
