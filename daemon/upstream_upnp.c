/* upstream_upnp.c - the relay's UPnP IGD control point (upstream_upnp.h).
 *
 * Discovery: M-SEARCH for the IGD and for WANIPConnection from the WAN
 * address, out of ext_ifname (TTL 2, UDA 1.1), twice; the first answer
 * whose description has a WANIPConnection (or WANPPPConnection) service
 * wins.  Calls: one HTTP/1.1 exchange each (Connection: close), from the
 * WAN address, UPCP_MAX_ACTIVE at a time, each closed after
 * UPCP_TIMEOUT_MS; answers are read up to UPCP_RESPONSE_MAX bytes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "mapping.h"
#include "upstream_upnp.h"
#include "upstream_upnp_parse.h"
#include "util.h"

struct cp_txn {
	struct loop_fd lfd;
	struct loop_timer timer;
	struct upnp_cp *cp;
	struct cp_txn *next;		/* cp->txns: running first, then queued */
	void *tag;
	enum upcp_op op;
	struct upcp_url to;
	char *out, *in;
	size_t out_len, out_off, in_len;
	bool started, registered;
};

struct upnp_cp {
	struct igdd_ctx *ctx;
	upcp_cb cb;
	void *arg;
	/* discovery */
	struct loop_fd ssdp;
	bool ssdp_open, discovering, fetching;
	struct loop_timer disc_timer;
	unsigned disc_sends;
	uint64_t disc_deadline;
	/* the IGD */
	bool ready;
	struct upcp_desc desc;
	/* exchanges */
	struct cp_txn *txns;
	unsigned n_active, n_queued;
};

static void txn_start_next(struct upnp_cp *cp);

/* --- one HTTP exchange ---------------------------------------------------- */

static void
txn_unlink(struct upnp_cp *cp, struct cp_txn *t)
{
	struct cp_txn **pp;

	for (pp = &cp->txns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	if (t->started)
		cp->n_active--;
	else
		cp->n_queued--;
}

static void
txn_free(struct upnp_cp *cp, struct cp_txn *t)
{
	txn_unlink(cp, t);
	loop_timer_cancel(&cp->ctx->loop, &t->timer);
	if (t->registered)
		loop_fd_del(&cp->ctx->loop, &t->lfd);
	if (t->started && t->lfd.fd >= 0)
		close(t->lfd.fd);
	free(t->out);
	free(t->in);
	free(t);
}

static void on_description(struct upnp_cp *cp, const struct upcp_url *from, int status,
			   const char *body, size_t len);

/* The exchange is over: its answer (body NULL: none) to whom it is for. */
static void
txn_done(struct cp_txn *t, int http_status, const char *body, size_t len)
{
	struct upnp_cp *cp = t->cp;
	struct upcp_result r;
	struct upcp_url from = t->to;
	void *tag = t->tag;

	memset(&r, 0, sizeof(r));
	r.op = t->op;
	r.status = -1;
	if (body != NULL && t->op != UPCP_DISCOVER && upcp_parse_soap(body, len, &r.soap) == 0)
		r.status = http_status == 200 && r.soap.error == 0 ? 0 :
			   r.soap.error > 0 ? r.soap.error : -1;
	if (t->op == UPCP_DISCOVER) {
		on_description(cp, &from, body != NULL ? http_status : -1, body, len);
		txn_free(cp, t);
	} else {
		txn_free(cp, t);
		cp->cb(cp->arg, tag, &r);
	}
	txn_start_next(cp);
}

static void
txn_timeout(struct loop_timer *tm)
{
	struct cp_txn *t = container_of(tm, struct cp_txn, timer);

	txn_done(t, 0, NULL, 0);
}

/* Read what came; a whole answer (or the server's close) ends it. */
static void
txn_read(struct cp_txn *t)
{
	struct upcp_http h;
	ssize_t n;
	bool closed = false;
	int rc;

	for (;;) {
		if (t->in_len >= UPCP_RESPONSE_MAX) {
			closed = true;	/* as long as it may be: judge it now */
			break;
		}
		n = recv(t->lfd.fd, t->in + t->in_len, UPCP_RESPONSE_MAX - t->in_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			closed = true;
			break;
		}
		t->in_len += (size_t)n;
	}
	rc = upcp_parse_http(t->in, t->in_len, closed, &h);
	if (rc == UPCP_HTTP_MORE && !closed)
		return;
	if (rc != 0)
		txn_done(t, 0, NULL, 0);
	else
		txn_done(t, h.status, h.body, h.body_len);
}

static void
txn_event(struct loop_fd *lfd, uint32_t events)
{
	struct cp_txn *t = container_of(lfd, struct cp_txn, lfd);
	int err = 0;
	socklen_t el = sizeof(err);
	ssize_t n;

	if (t->out_off < t->out_len) {
		if (getsockopt(lfd->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0 ||
		    (events & EPOLLERR)) {
			txn_done(t, 0, NULL, 0);
			return;
		}
		n = send(lfd->fd, t->out + t->out_off, t->out_len - t->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			txn_done(t, 0, NULL, 0);
			return;
		}
		if (n > 0)
			t->out_off += (size_t)n;
		if (t->out_off == t->out_len)
			loop_fd_mod(&t->cp->ctx->loop, lfd, EPOLLIN);
		return;
	}
	txn_read(t);
}

/* Connect from the WAN address; the answer of a failure comes from the
 * timer, never from inside the call that asked. */
static void
txn_start(struct upnp_cp *cp, struct cp_txn *t)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(t->to.port),
				  .sin_addr = t->to.host };
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr = cp->ctx->wan_addr };
	int fd;

	t->started = true;
	cp->n_queued--;
	cp->n_active++;
	loop_timer_set(&cp->ctx->loop, &t->timer, UPCP_TIMEOUT_MS);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	t->lfd.fd = fd;
	if (fd < 0)
		goto fail;
	if ((me.sin_addr.s_addr != 0 && bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) ||
	    (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS))
		goto fail;
	t->lfd.cb = txn_event;
	if (loop_fd_add(&cp->ctx->loop, &t->lfd, EPOLLOUT) < 0)
		goto fail;
	t->registered = true;
	return;
fail:
	log_debug("upstream UPnP: cannot reach %s:%u: %s", ADDR4_STR(t->to.host), t->to.port,
		  strerror(errno));
	loop_timer_set(&cp->ctx->loop, &t->timer, 0);
}

static void
txn_start_next(struct upnp_cp *cp)
{
	struct cp_txn *t;

	for (t = cp->txns; t != NULL && cp->n_active < UPCP_MAX_ACTIVE; t = t->next)
		if (!t->started)
			txn_start(cp, t);
}

/* A new exchange of request req[0..len) with to, queued. */
static int
txn_new(struct upnp_cp *cp, enum upcp_op op, const struct upcp_url *to, const char *req,
	size_t len, void *tag)
{
	struct cp_txn *t, **pp;

	if (len == 0 || cp->n_queued >= UPCP_MAX_QUEUED || (t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->out = malloc(len);
	t->in = malloc(UPCP_RESPONSE_MAX);
	if (t->out == NULL || t->in == NULL) {
		free(t->out);
		free(t->in);
		free(t);
		return -1;
	}
	memcpy(t->out, req, len);
	t->out_len = len;
	t->cp = cp;
	t->op = op;
	t->to = *to;
	t->tag = tag;
	t->lfd.fd = -1;
	t->timer.cb = txn_timeout;
	for (pp = &cp->txns; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = t;
	cp->n_queued++;
	txn_start_next(cp);
	return 0;
}

/* --- discovery -------------------------------------------------------------- */

static void
ssdp_close(struct upnp_cp *cp)
{
	if (!cp->ssdp_open)
		return;
	loop_fd_del(&cp->ctx->loop, &cp->ssdp);
	close(cp->ssdp.fd);
	cp->ssdp_open = false;
}

static void
discovery_end(struct upnp_cp *cp, bool found)
{
	struct upcp_result r;

	ssdp_close(cp);
	loop_timer_cancel(&cp->ctx->loop, &cp->disc_timer);
	cp->discovering = cp->fetching = false;
	memset(&r, 0, sizeof(r));
	r.op = UPCP_DISCOVER;
	r.status = found ? 0 : -1;
	cp->cb(cp->arg, NULL, &r);
}

static void
on_description(struct upnp_cp *cp, const struct upcp_url *from, int status, const char *body,
	       size_t len)
{
	struct upcp_desc d;

	cp->fetching = false;
	if (status != 200 || body == NULL || upcp_parse_desc(body, len, from, &d) < 0) {
		log_debug("upstream UPnP: no usable IGD description at %s:%u%s",
			  ADDR4_STR(from->host), from->port, from->path);
		return;		/* another answer may come before the timer */
	}
	cp->desc = d;
	cp->ready = true;
	log_info("upstream UPnP: %s at http://%s:%u%s", d.service_type,
		 ADDR4_STR(d.control.host), d.control.port, d.control.path);
	discovery_end(cp, true);
}

static void
ssdp_send(struct upnp_cp *cp)
{
	static const char *const sts[] = {
		"urn:schemas-upnp-org:device:InternetGatewayDevice:1",
		"urn:schemas-upnp-org:service:WANIPConnection:1",
	};
	struct sockaddr_in grp = { .sin_family = AF_INET, .sin_port = htons(1900) };
	char buf[512];
	size_t i, n;

	inet_pton(AF_INET, "239.255.255.250", &grp.sin_addr);
	for (i = 0; i < ARRAY_SIZE(sts); i++) {
		n = upcp_write_msearch(buf, sizeof(buf), sts[i]);
		if (n > 0 && sendto(cp->ssdp.fd, buf, n, 0, (struct sockaddr *)&grp, sizeof(grp)) < 0)
			log_debug("upstream UPnP: M-SEARCH: %s", strerror(errno));
	}
	cp->disc_sends++;
}

static void
ssdp_readable(struct loop_fd *lfd, uint32_t events)
{
	struct upnp_cp *cp = container_of(lfd, struct upnp_cp, ssdp);
	struct in_addr want = cp->ctx->cfg.upstream_server;
	char buf[1500], req[512];
	struct sockaddr_in src;
	struct upcp_ssdp a;
	struct upcp_url u;
	socklen_t sl;
	ssize_t n;

	(void)events;
	for (;;) {
		sl = sizeof(src);
		n = recvfrom(lfd->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&src, &sl);
		if (n < 0)
			return;
		if (cp->fetching || (want.s_addr != 0 && src.sin_addr.s_addr != want.s_addr) ||
		    upcp_parse_ssdp(buf, (size_t)n, &a) < 0 ||
		    upcp_parse_url(a.location, strlen(a.location), &u) < 0)
			continue;
		/* the description is fetched from whoever answered, at the
		 * address it gave (a LOCATION elsewhere is not followed) */
		if (u.host.s_addr != src.sin_addr.s_addr)
			continue;
		if (txn_new(cp, UPCP_DISCOVER, &u, req, upcp_write_get(req, sizeof(req), &u), NULL) == 0)
			cp->fetching = true;
	}
}

/* M-SEARCH twice, UPCP_DISCOVER_MS / 2 apart; a description on its way
 * is waited for until the deadline (its exchange is bounded too). */
static void
disc_fire(struct loop_timer *t)
{
	struct upnp_cp *cp = container_of(t, struct upnp_cp, disc_timer);

	if (cp->disc_sends < 2 && !cp->fetching) {
		ssdp_send(cp);
		loop_timer_set(&cp->ctx->loop, &cp->disc_timer, UPCP_DISCOVER_MS / 2);
		return;
	}
	if (cp->fetching && time_mono_ms() < cp->disc_deadline) {
		loop_timer_set_at(&cp->ctx->loop, &cp->disc_timer, cp->disc_deadline);
		return;
	}
	discovery_end(cp, false);
}

static int
ssdp_open(struct upnp_cp *cp)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr = cp->ctx->wan_addr };
	struct ip_mreqn mreq;
	int fd, ttl = 2;

	memset(&mreq, 0, sizeof(mreq));
	mreq.imr_address = cp->ctx->wan_addr;
	mreq.imr_ifindex = (int)cp->ctx->ext_ifindex;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof(mreq)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0) {
		close(fd);
		return -1;
	}
	cp->ssdp.fd = fd;
	cp->ssdp.cb = ssdp_readable;
	if (loop_fd_add(&cp->ctx->loop, &cp->ssdp, EPOLLIN) < 0) {
		close(fd);
		return -1;
	}
	cp->ssdp_open = true;
	return 0;
}

void
upnp_cp_discover(struct upnp_cp *cp)
{
	if (cp->discovering)
		return;
	cp->ready = false;
	cp->discovering = true;
	cp->fetching = false;
	cp->disc_sends = 0;
	cp->disc_deadline = time_mono_ms() + UPCP_DISCOVER_MS + UPCP_TIMEOUT_MS;
	if (cp->ctx->wan_addr.s_addr == 0 || ssdp_open(cp) < 0) {
		log_debug("upstream UPnP: cannot search on %s", cp->ctx->cfg.ext_ifname);
		loop_timer_set(&cp->ctx->loop, &cp->disc_timer, 0);
		cp->disc_sends = 2;
		return;
	}
	ssdp_send(cp);
	loop_timer_set(&cp->ctx->loop, &cp->disc_timer, UPCP_DISCOVER_MS / 2);
}

/* --- calls ------------------------------------------------------------------ */

int
upnp_cp_call(struct upnp_cp *cp, const struct upcp_call *c, void *tag)
{
	static const char *const actions[] = {
		[UPCP_GET_EXT] = "GetExternalIPAddress", [UPCP_ADD] = "AddPortMapping",
		[UPCP_ADD_ANY] = "AddAnyPortMapping", [UPCP_DELETE] = "DeletePortMapping",
		[UPCP_GET_ENTRY] = "GetSpecificPortMappingEntry",
	};
	char ep[8], ip[8], lease[12], client[INET_ADDRSTRLEN], req[4096];
	const char *args[] = {
		"NewRemoteHost", "", "NewExternalPort", ep, "NewProtocol", proto_name(c->proto),
		"NewInternalPort", ip, "NewInternalClient", client, "NewEnabled", "1",
		"NewPortMappingDescription", c->desc != NULL ? c->desc : "",
		"NewLeaseDuration", lease,
	};
	size_t n_args = c->op == UPCP_ADD || c->op == UPCP_ADD_ANY ? 8 :
			c->op == UPCP_GET_EXT ? 0 : 3;

	if (!cp->ready || c->op == UPCP_DISCOVER || (c->op == UPCP_ADD_ANY && cp->desc.version < 2))
		return -1;
	snprintf(ep, sizeof(ep), "%u", c->eport);
	snprintf(ip, sizeof(ip), "%u", c->iport);
	snprintf(lease, sizeof(lease), "%u", (unsigned)c->lease);
	inet_ntop(AF_INET, &c->client, client, sizeof(client));
	return txn_new(cp, c->op, &cp->desc.control, req,
		       upcp_write_soap(req, sizeof(req), &cp->desc.control, cp->desc.service_type,
				       actions[c->op], args, n_args), tag);
}

void
upnp_cp_cancel(struct upnp_cp *cp, void *tag)
{
	struct cp_txn *t = cp->txns, *next;

	for (; t != NULL; t = next) {
		next = t->next;
		if (t->tag == tag && tag != NULL)
			txn_free(cp, t);
	}
	txn_start_next(cp);
}

bool
upnp_cp_ready(const struct upnp_cp *cp)
{
	return cp->ready;
}

unsigned
upnp_cp_version(const struct upnp_cp *cp)
{
	return cp->ready ? cp->desc.version : 0;
}

struct in_addr
upnp_cp_host(const struct upnp_cp *cp)
{
	return cp->desc.control.host;
}

struct upnp_cp *
upnp_cp_new(struct igdd_ctx *ctx, upcp_cb cb, void *arg)
{
	struct upnp_cp *cp = calloc(1, sizeof(*cp));

	if (cp == NULL)
		return NULL;
	cp->ctx = ctx;
	cp->cb = cb;
	cp->arg = arg;
	cp->disc_timer.cb = disc_fire;
	return cp;
}

void
upnp_cp_free(struct upnp_cp *cp)
{
	if (cp == NULL)
		return;
	while (cp->txns != NULL)
		txn_free(cp, cp->txns);
	ssdp_close(cp);
	loop_timer_cancel(&cp->ctx->loop, &cp->disc_timer);
	free(cp);
}
