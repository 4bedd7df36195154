/* events.c - GENA (UDA 1.1 4): SUBSCRIBE, renewal, UNSUBSCRIBE, and event
 * messages sent as non-blocking HTTP NOTIFY requests on the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "ctx.h"
#include "events.h"
#include "http.h"
#include "log.h"
#include "util.h"

#define NOTIFY_TIMEOUT_MS	5000
#define MODERATION_MS		200	/* coalesce bursts of changes */

struct sub {
	struct sub *next;
	char sid[48];			/* "uuid:..." */
	enum desc_svc svc;
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} cb;				/* the callback, of the subscriber's family */
	char cb_path[256];
	uint64_t expires;		/* monotonic ms */
	uint64_t since;			/* events.changes at its initial event */
	uint32_t seq;
};

struct notify {
	struct loop_fd lfd;
	struct loop_timer timer;
	struct events *ev;
	struct notify *prev, *next;
	char *out;
	size_t out_len, out_off;
	bool connected;
};

struct events {
	struct igdd_ctx *ctx;
	struct sub *subs;
	unsigned n_subs;
	struct notify *notifies;
	unsigned n_notifies;
	struct loop_timer expiry, flush;
	bool dirty[SVC_COUNT];
	uint64_t changes;		/* events_changed() calls so far */
	uint64_t last_change[SVC_COUNT];	/* changes at a service's latest */
	events_render_fn render;	/* the evented variables of a service */
	uint64_t (*clock)(const struct igdd_ctx *ctx);	/* NULL: time_mono_ms() */
};

/* The clock subscriptions expire by (monotonic ms). */
static uint64_t
ev_now(const struct events *ev)
{
	return ev->clock != NULL ? ev->clock(ev->ctx) : time_mono_ms();
}

static unsigned
subs_max(const struct igdd_ctx *ctx)
{
	return ctx->cfg.max_subscribers ? ctx->cfg.max_subscribers : EVENTS_MAX_SUBSCRIBERS;
}

/* One host may hold a quarter of the slots, and at least 4: a control
 * point needs one per service it watches, and a noisy or hostile host
 * cannot lock every other one out. */
static unsigned
subs_max_per_host(const struct igdd_ctx *ctx)
{
	unsigned q = subs_max(ctx) / 4;

	return q > 4 ? q : 4;
}

/* The callback's address, v4-mapped for IPv4. */
static void
cb_addr(const struct sub *s, struct in6_addr *a)
{
	if (s->cb.sa.sa_family == AF_INET6)
		*a = s->cb.in6.sin6_addr;
	else
		addr_from_v4(a, s->cb.in.sin_addr);
}

/* Subscriptions held by one host: a walk of at most subs_max() entries. */
static unsigned
subs_of(const struct events *ev, const struct in6_addr *a)
{
	const struct sub *s;
	struct in6_addr b;
	unsigned n = 0;

	for (s = ev->subs; s != NULL; s = s->next) {
		cb_addr(s, &b);
		n += addr_eq(&b, a);
	}
	return n;
}

/* ------------------------------------------------------------ pure helpers */

/* The first http:// URL of a CALLBACK: its host text (an IPv6 literal
 * without its brackets and zone), port and path.  0 / -1. */
static int
parse_callback_url(const char *v, size_t len, char *host, size_t host_size,
		   unsigned long long *port, char *path, size_t path_size)
{
	const char *lt = memchr(v, '<', len), *gt, *h, *he, *hend, *colon, *slash, *close;

	*port = 80;
	if (lt == NULL)
		return -1;
	gt = memchr(lt, '>', len - (size_t)(lt - v));
	if (gt == NULL)
		return -1;
	h = lt + 1;
	if (gt - h < 7 || memcmp(h, "http://", 7) != 0)
		return -1;
	h += 7;
	slash = memchr(h, '/', (size_t)(gt - h));
	he = slash ? slash : gt;
	hend = he;
	if (h < he && *h == '[') {	/* [IPv6%zone]:port */
		if ((close = memchr(h, ']', (size_t)(he - h))) == NULL)
			return -1;
		colon = close + 1 < he ? close + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return -1;
		h++;
		hend = memchr(h, '%', (size_t)(close - h));
		if (hend == NULL)
			hend = close;
	} else {
		colon = memchr(h, ':', (size_t)(he - h));
		if (colon != NULL)
			hend = colon;
	}
	if (colon != NULL && parse_uint_n(colon + 1, (size_t)(he - colon - 1), 1, 65535, port) < 0)
		return -1;
	if (str_copy_n(host, host_size, h, (size_t)(hend - h)) < 0)
		return -1;
	if (slash == NULL)
		return str_copy(path, path_size, "/");
	for (h = slash; h < gt; h++)
		if ((unsigned char)*h <= ' ' || (unsigned char)*h >= 0x7f)
			return -1;
	return str_copy_n(path, path_size, slash, (size_t)(gt - slash));
}

int
events_parse_callback(const char *v, size_t len, struct sockaddr_in *addr, char *path,
		      size_t path_size)
{
	unsigned long long port;
	char host[INET_ADDRSTRLEN];

	memset(addr, 0, sizeof(*addr));
	if (parse_callback_url(v, len, host, sizeof(host), &port, path, path_size) < 0)
		return -1;
	addr->sin_family = AF_INET;
	addr->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &addr->sin_addr) == 1 ? 0 : -1;
}

int
events_parse_callback6(const char *v, size_t len, struct sockaddr_in6 *addr, char *path,
		       size_t path_size)
{
	unsigned long long port;
	char host[INET6_ADDRSTRLEN];

	memset(addr, 0, sizeof(*addr));
	if (parse_callback_url(v, len, host, sizeof(host), &port, path, path_size) < 0)
		return -1;
	addr->sin6_family = AF_INET6;
	addr->sin6_port = htons((uint16_t)port);
	return inet_pton(AF_INET6, host, &addr->sin6_addr) == 1 ? 0 : -1;
}

uint32_t
events_parse_timeout(const char *v, size_t len)
{
	unsigned long long s;

	if (len < 7 || !mem_ieq(v, 7, "Second-"))
		return EVENTS_TIMEOUT_MIN;
	if (mem_ieq(v + 7, len - 7, "infinite"))
		return EVENTS_TIMEOUT_MAX;
	if (parse_uint_n(v + 7, len - 7, 0, UINT32_MAX, &s) < 0)
		return EVENTS_TIMEOUT_MIN;
	if (s < EVENTS_TIMEOUT_MIN)
		return EVENTS_TIMEOUT_MIN;
	return s > EVENTS_TIMEOUT_MAX ? EVENTS_TIMEOUT_MAX : (uint32_t)s;
}

uint32_t
events_next_seq(uint32_t seq)
{
	return seq == UINT32_MAX ? 1 : seq + 1;	/* UDA 1.1 4.3.2 */
}

/* ------------------------------------------------------------ NOTIFY */

static void
notify_free(struct notify *n)
{
	struct events *ev = n->ev;

	loop_timer_cancel(&ev->ctx->loop, &n->timer);
	loop_fd_del(&ev->ctx->loop, &n->lfd);
	close(n->lfd.fd);
	DLIST_UNLINK(&ev->notifies, NULL, n);
	ev->n_notifies--;
	free(n->out);
	free(n);
}

static void
notify_event(struct loop_fd *lfd, uint32_t events)
{
	struct notify *n = container_of(lfd, struct notify, lfd);

	if (!n->connected) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(lfd->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
			notify_free(n);
			return;
		}
		n->connected = true;
	}
	if (n->out_off < n->out_len && (events & EPOLLOUT)) {
		ssize_t w = send(lfd->fd, n->out + n->out_off, n->out_len - n->out_off, MSG_NOSIGNAL);

		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			notify_free(n);
			return;
		}
		if (w > 0)
			n->out_off += (size_t)w;
		if (n->out_off == n->out_len)
			loop_fd_mod(&n->ev->ctx->loop, lfd, EPOLLIN | EPOLLRDHUP);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
		/* The status line is all we would read; any answer ends it. */
		char buf[512];

		if (recv(lfd->fd, buf, sizeof(buf), 0) >= 0 || errno != EAGAIN)
			notify_free(n);
	}
}

static void
notify_timeout(struct loop_timer *t)
{
	notify_free(container_of(t, struct notify, timer));
}

static void
send_event(struct events *ev, struct sub *s)
{
	struct desc_buf body = { 0 }, msg = { 0 };
	bool v6 = s->cb.sa.sa_family == AF_INET6;
	char host[INET6_ADDRSTRLEN];
	struct notify *n;
	int fd;

	if (ev->n_notifies >= EVENTS_MAX_NOTIFY)
		return;
	desc_buf_puts(&body, "<?xml version=\"1.0\"?>\r\n"
		      "<e:propertyset xmlns:e=\"urn:schemas-upnp-org:event-1-0\">");
	if (ev->render != NULL)
		ev->render(ev->ctx, s->svc, &body);
	desc_buf_puts(&body, "</e:propertyset>\r\n");
	if (inet_ntop(s->cb.sa.sa_family, v6 ? (const void *)&s->cb.in6.sin6_addr
					      : (const void *)&s->cb.in.sin_addr, host, sizeof(host)) == NULL)
		host[0] = '\0';
	desc_buf_printf(&msg, "NOTIFY %s HTTP/1.1\r\nHOST: %s%s%s:%u\r\n"
			"CONTENT-TYPE: text/xml; charset=\"utf-8\"\r\n"
			"NT: upnp:event\r\nNTS: upnp:propchange\r\nSID: %s\r\nSEQ: %u\r\n"
			"CONTENT-LENGTH: %zu\r\nCONNECTION: close\r\n\r\n",
			s->cb_path, v6 ? "[" : "", host, v6 ? "]" : "",
			ntohs(s->cb.in.sin_port), s->sid, (unsigned)s->seq, body.len);
	if (body.p != NULL)
		desc_buf_put(&msg, body.p, body.len);
	desc_buf_free(&body);
	s->seq = events_next_seq(s->seq);
	if (msg.failed || (n = calloc(1, sizeof(*n))) == NULL) {
		desc_buf_free(&msg);
		return;
	}
	fd = socket(s->cb.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, &s->cb.sa, v6 ? sizeof(s->cb.in6) : sizeof(s->cb.in)) < 0 &&
		       errno != EINPROGRESS)) {
		if (fd >= 0)
			close(fd);
		free(n);
		desc_buf_free(&msg);
		return;
	}
	n->lfd.fd = fd;
	n->lfd.cb = notify_event;
	n->ev = ev;
	n->out = msg.p;
	n->out_len = msg.len;
	n->timer.cb = notify_timeout;
	if (loop_fd_add(&ev->ctx->loop, &n->lfd, EPOLLOUT) < 0) {
		close(fd);
		free(n->out);
		free(n);
		return;
	}
	DLIST_PUSH_HEAD(&ev->notifies, NULL, n);
	ev->n_notifies++;
	loop_timer_set(&ev->ctx->loop, &n->timer, NOTIFY_TIMEOUT_MS);
}

/* ------------------------------------------------------------ subscriptions */

static void
sub_remove(struct events *ev, struct sub *s)
{
	struct sub **pp;

	for (pp = &ev->subs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			ev->n_subs--;
			free(s);
			return;
		}
}

static struct sub *
sub_find(struct events *ev, enum desc_svc svc, const char *sid, size_t len)
{
	struct sub *s;

	for (s = ev->subs; s != NULL; s = s->next)
		if (s->svc == svc && strlen(s->sid) == len && memcmp(s->sid, sid, len) == 0)
			return s;
	return NULL;
}

static void
expire(struct loop_timer *t)
{
	struct events *ev = container_of(t, struct events, expiry);
	uint64_t now = ev_now(ev);
	struct sub *s, *next;

	for (s = ev->subs; s != NULL; s = next) {
		next = s->next;
		if (s->expires <= now)
			sub_remove(ev, s);
	}
	loop_timer_set(&ev->ctx->loop, &ev->expiry, 30000);
}

static void
flush(struct loop_timer *t)
{
	struct events *ev = container_of(t, struct events, flush);
	uint64_t now = ev_now(ev);
	struct sub *s;
	int k;

	for (k = 0; k < SVC_COUNT; k++) {
		if (!ev->dirty[k])
			continue;
		ev->dirty[k] = false;
		/* Not to one that subscribed after the change: its
		 * initial event already carried the values. */
		for (s = ev->subs; s != NULL; s = s->next)
			if (s->svc == (enum desc_svc)k && s->expires > now &&
			    s->since < ev->last_change[k])
				send_event(ev, s);
	}
}

void
events_changed(struct igdd_ctx *ctx, enum desc_svc svc)
{
	struct events *ev = ctx->events;

	if (ev == NULL || (unsigned)svc >= SVC_COUNT)
		return;
	ev->dirty[svc] = true;
	ev->last_change[svc] = ++ev->changes;
	if (!loop_timer_pending(&ev->flush))
		loop_timer_set(&ctx->loop, &ev->flush, MODERATION_MS);
}

static void
reply_sub(struct http_conn *c, const struct sub *s, uint32_t timeout)
{
	char hdrs[160];

	if (str_printf(hdrs, sizeof(hdrs), "SID: %s\r\nTIMEOUT: Second-%u\r\n", s->sid,
		       (unsigned)timeout) < 0)
		http_reply_error(c, 500, NULL);
	else
		http_reply(c, 200, hdrs, NULL, NULL, 0);
}

/* A new subscription: NT upnp:event and a CALLBACK to the subscriber
 * itself, else 412; no room, 503. */
static void
subscribe(struct http_conn *c, const struct http_request *req, const struct desc_service *svc,
	  uint32_t timeout)
{
	struct igdd_ctx *ctx = http_conn_ctx(c);
	struct events *ev = ctx->events;
	struct in6_addr pa, cba;
	struct sub *s;
	uuid_t u;
	char us[37];
	int r;

	http_conn_peer_addr(c, &pa);
	if (!req->nt.present || !mem_ieq(req->nt.p, req->nt.len, "upnp:event") ||
	    !req->callback.present) {
		http_reply_error(c, 412, NULL);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		http_reply_error(c, 500, NULL);
		return;
	}
	/* the callback of the subscriber's family (a link-local one takes
	 * the scope of its connection) */
	if (addr_is_v4(&pa)) {
		r = events_parse_callback(req->callback.p, req->callback.len, &s->cb.in,
					  s->cb_path, sizeof(s->cb_path));
	} else {
		r = events_parse_callback6(req->callback.p, req->callback.len, &s->cb.in6,
					   s->cb_path, sizeof(s->cb_path));
		if (IN6_IS_ADDR_LINKLOCAL(&s->cb.in6.sin6_addr))
			s->cb.in6.sin6_scope_id = http_conn_peer_scope(c);
	}
	cb_addr(s, &cba);
	if (r < 0 || !addr_eq(&cba, &pa)) {
		/* Events go back to the subscriber only: a callback naming
		 * another host is CallStranger (CVE-2020-12695). */
		log_debug("gena: callback refused (not the subscriber's own address)");
		free(s);
		http_reply_error(c, 412, NULL);
		return;
	}
	expire(&ev->expiry);	/* lapsed subscriptions hold no slot (a short walk) */
	if (ev->n_subs >= subs_max(ctx) ||
	    subs_of(ev, &pa) >= subs_max_per_host(ctx)) {
		free(s);
		http_reply_error(c, 503, NULL);
		return;
	}
	uuid_generate_random(u);
	uuid_unparse_lower(u, us);
	str_printf(s->sid, sizeof(s->sid), "uuid:%s", us);
	s->svc = svc->id;
	s->expires = ev_now(ev) + (uint64_t)timeout * 1000;
	s->seq = 0;
	s->since = ev->changes;
	s->next = ev->subs;
	ev->subs = s;
	ev->n_subs++;
	reply_sub(c, s, timeout);
	/* The initial event (SEQ 0) with every evented variable (UDA 1.1 4.2). */
	send_event(ev, s);
}

/* SUBSCRIBE (new or renewal) / UNSUBSCRIBE on an event URL. */
static void
events_handle(struct http_conn *c, const struct http_request *req, const void *arg)
{
	const struct desc_service *svc = arg;
	struct events *ev = http_conn_ctx(c)->events;
	struct sub *s = NULL;
	uint32_t timeout;

	if (ev == NULL) {
		http_reply_error(c, 503, NULL);
		return;
	}
	/* UDA 1.1 4.1.2 / 4.1.4: SID together with NT or CALLBACK is 400
	 * "incompatible header fields"; an unknown SID is 412. */
	if (req->sid.present && (req->nt.present || req->callback.present)) {
		http_reply_error(c, 400, NULL);
		return;
	}
	if (req->sid.present)
		s = sub_find(ev, svc->id, req->sid.p, req->sid.len);
	timeout = events_parse_timeout(req->timeout.p, req->timeout.present ? req->timeout.len : 0);
	if (req->method == HTTP_M_UNSUBSCRIBE) {
		if (s == NULL) {
			http_reply_error(c, 412, NULL);
			return;
		}
		sub_remove(ev, s);
		http_reply(c, 200, NULL, NULL, NULL, 0);
	} else if (req->sid.present) {
		/* Renewal. */
		if (s == NULL || s->expires <= ev_now(ev)) {
			http_reply_error(c, 412, NULL);
			return;
		}
		s->expires = ev_now(ev) + (uint64_t)timeout * 1000;
		reply_sub(c, s, timeout);
	} else {
		subscribe(c, req, svc, timeout);
	}
}

int
events_init(struct igdd_ctx *ctx)
{
	struct events *ev = calloc(1, sizeof(*ev));
	size_t i;

	if (ev == NULL)
		return -1;
	ev->ctx = ctx;
	ev->expiry.cb = expire;
	ev->flush.cb = flush;
	ctx->events = ev;
	loop_timer_set(&ctx->loop, &ev->expiry, 30000);
	for (i = 0; i < SVC_COUNT; i++)
		if (http_route_add(ctx, desc_services[i].event,
				   HTTP_METHOD_BIT(HTTP_M_SUBSCRIBE) | HTTP_METHOD_BIT(HTTP_M_UNSUBSCRIBE),
				   events_handle, &desc_services[i]) < 0)
			return -1;
	return 0;
}

void
events_set_renderer(struct igdd_ctx *ctx, events_render_fn fn)
{
	if (ctx->events != NULL)
		ctx->events->render = fn;
}

void
events_set_clock(struct igdd_ctx *ctx, uint64_t (*clock)(const struct igdd_ctx *ctx))
{
	if (ctx->events != NULL)
		ctx->events->clock = clock;
}

void
events_shutdown(struct igdd_ctx *ctx)
{
	struct events *ev = ctx->events;

	if (ev == NULL)
		return;
	while (ev->notifies != NULL)
		notify_free(ev->notifies);
	while (ev->subs != NULL)
		sub_remove(ev, ev->subs);
	loop_timer_cancel(&ctx->loop, &ev->expiry);
	loop_timer_cancel(&ctx->loop, &ev->flush);
	free(ev);
	ctx->events = NULL;
}
