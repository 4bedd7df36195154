/* test_events.c - GENA eventing (events.c) through its real doors:
 * SUBSCRIBE, renewal and UNSUBSCRIBE requests to the HTTP server on the
 * loopback address, a listener per control point standing in for its
 * callback URL, and NOTIFY messages read there.  The loop's descriptors
 * are served without its timers: those fire only when a test moves time
 * (advance()), which also moves the clock subscriptions expire by. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "ctx.h"
#include "desc.h"
#include "events.h"
#include "http.h"
#include "loop.h"
#include "unit.h"
#include "util.h"

#define GENA_WAIT_MS	20000	/* bound of a wait for an answer (ASan, a loaded machine) */
#define GENA_MODERATION_MS 200	/* events.c's window that coalesces changes */
#define GENA_MAX_DUE	64

/* A control point: the listener its callback URL names, its SID. */
struct cp {
	int lfd;
	uint16_t port;
	char sid[64];
};

/* The daemon as GENA sees it, what its evented variable says now, and
 * the control points. */
#define GENA_CPS	3
struct gena {
	struct igdd_ctx ctx;
	uint64_t skew;		/* the events clock: time_mono_ms() + skew */
	unsigned value;
	uint16_t port;		/* the HTTP server's */
	struct cp cp[GENA_CPS];
};

/* A NOTIFY as a control point received it. */
struct note {
	unsigned long long seq, value;
	char sid[64];
};

static uint64_t
gena_clock(const struct igdd_ctx *ctx)
{
	return time_mono_ms() + container_of(ctx, struct gena, ctx)->skew;
}

/* The evented variable: one property with the test's value. */
static void
gena_render(struct igdd_ctx *ctx, enum desc_svc svc, struct desc_buf *b)
{
	(void)svc;
	desc_buf_printf(b, "<e:property><Probe>%u</Probe></e:property>",
			container_of(ctx, struct gena, ctx)->value);
}

static void
cp_open(struct cp *cp)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sin);

	memset(cp, 0, sizeof(*cp));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cp->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	CHECK(cp->lfd >= 0);
	CHECK_EQ(bind(cp->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	CHECK_EQ(listen(cp->lfd, 8), 0);
	CHECK_EQ(getsockname(cp->lfd, (struct sockaddr *)&sin, &sl), 0);
	cp->port = ntohs(sin.sin_port);
}

static void
gena_start(struct gena *g)
{
	struct lan_iface lo;
	unsigned k;

	memset(g, 0, sizeof(*g));
	conf_defaults(&g->ctx.cfg);
	g->ctx.cfg.enable_upnp = true;
	g->ctx.cfg.http_port = 0;
	g->ctx.cfg.ipv6_disable = true;
	CHECK_EQ(loop_init(&g->ctx.loop), 0);
	memset(&lo, 0, sizeof(lo));
	str_copy(lo.name, sizeof(lo.name), "lo");
	lo.ifindex = 1;
	lo.addr.s_addr = htonl(INADDR_LOOPBACK);
	lo.mask.s_addr = htonl(0xff000000);
	CHECK_EQ(ctx_lan_add(&g->ctx, &lo), 0);
	CHECK_EQ(http_init(&g->ctx), 0);
	CHECK_EQ(events_init(&g->ctx), 0);
	events_set_renderer(&g->ctx, gena_render);
	events_set_clock(&g->ctx, gena_clock);
	g->port = http_port(&g->ctx);
	CHECK(g->port != 0);
	for (k = 0; k < GENA_CPS; k++)
		cp_open(&g->cp[k]);
}

static void
gena_stop(struct gena *g)
{
	unsigned k;

	for (k = 0; k < GENA_CPS; k++)
		if (g->cp[k].lfd >= 0)
			close(g->cp[k].lfd);
	events_shutdown(&g->ctx);
	http_shutdown(&g->ctx);
	loop_free(&g->ctx.loop);
	conf_free(&g->ctx.cfg);
}

/* One round of the loop's descriptors (as loop_once() serves them), no
 * timer: waits at most wait_ms. */
static void
pump(struct gena *g, int wait_ms)
{
	struct loop *l = &g->ctx.loop;
	struct epoll_event evs[LOOP_MAX_READY];
	int n = epoll_wait(l->epfd, evs, LOOP_MAX_READY, wait_ms), i;

	for (i = 0; i < n; i++)
		l->ready[i] = evs[i].data.ptr;
	l->n_ready = n > 0 ? n : 0;
	for (i = 0; i < n; i++)
		if (l->ready[i] != NULL && l->ready[i]->registered)
			l->ready[i]->cb(l->ready[i], evs[i].events);
	l->n_ready = 0;
}

/* Time passes by ms: the events clock moves, and every loop timer due
 * within ms of now fires, earliest first, once (one that re-arms itself
 * waits for the next advance). */
static void
advance(struct gena *g, uint64_t ms)
{
	struct loop *l = &g->ctx.loop;
	const struct loop_timer *fired[GENA_MAX_DUE];
	uint64_t until = time_mono_ms() + ms;
	size_t n = 0, i, k;

	g->skew += ms;
	for (;;) {
		struct loop_timer *t = NULL;

		for (i = 0; i < l->n_timers; i++) {
			for (k = 0; k < n && fired[k] != l->heap[i]; k++)
				;
			if (k == n && l->heap[i]->deadline <= until &&
			    (t == NULL || l->heap[i]->deadline < t->deadline))
				t = l->heap[i];
		}
		if (t == NULL || n == GENA_MAX_DUE)
			break;
		fired[n++] = t;
		loop_timer_cancel(l, t);
		t->cb(t);
	}
	CHECK(n < GENA_MAX_DUE);
}

/* A header's value in a message (NUL-terminated) as a number, or -1. */
static long long
header_num(const char *msg, const char *name)
{
	char key[32];
	const char *p;
	unsigned long long v;

	if (str_printf(key, sizeof(key), "\r\n%s: ", name) < 0 || (p = strstr(msg, key)) == NULL)
		return -1;
	p += strlen(key);
	return parse_uint_n(p, strcspn(p, "\r"), 0, UINT32_MAX, &v) == 0 ? (long long)v : -1;
}

static void
header_str(const char *msg, const char *name, char *out, size_t size)
{
	char key[32];
	const char *p;

	out[0] = '\0';
	if (str_printf(key, sizeof(key), "\r\n%s: ", name) < 0 || (p = strstr(msg, key)) == NULL)
		return;
	p += strlen(key);
	(void)str_copy_n(out, size, p, strcspn(p, "\r"));
}

/* Read one HTTP message from fd (non-blocking) into buf, serving the loop
 * meanwhile: its head, and the body its Content-Length announces.  Its
 * length, or -1 (closed early, or nothing within GENA_WAIT_MS). */
static ssize_t
read_message(struct gena *g, int fd, char *buf, size_t size)
{
	uint64_t end = time_mono_ms() + GENA_WAIT_MS;
	size_t len = 0;
	const char *head;
	long long body;

	buf[0] = '\0';
	while (time_mono_ms() < end) {
		ssize_t r = recv(fd, buf + len, size - 1 - len, 0);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (r > 0) {
			len += (size_t)r;
			buf[len] = '\0';
		}
		head = strstr(buf, "\r\n\r\n");
		body = header_num(buf, "Content-Length");
		if (body < 0)
			body = header_num(buf, "CONTENT-LENGTH");
		if (head != NULL && (size_t)(head + 4 - buf) + (size_t)(body < 0 ? 0 : body) <= len)
			return (ssize_t)len;
		if (len + 1 == size)
			return -1;
		pump(g, 5);
	}
	return -1;
}

/* Send a request to the HTTP server and read its answer: the status (or
 * -1); a SID header into sid when there is one. */
static int
request(struct gena *g, const char *text, char *sid, size_t sid_size)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(g->port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char buf[2048];
	unsigned long long status = 0;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    send(fd, text, strlen(text), MSG_NOSIGNAL) != (ssize_t)strlen(text) ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || read_message(g, fd, buf, sizeof(buf)) < 0 ||
	    strncmp(buf, "HTTP/1.1 ", 9) != 0 || parse_uint_n(buf + 9, 3, 100, 599, &status) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	if (sid != NULL)
		header_str(buf, "SID", sid, sid_size);
	return (int)status;
}

/* SUBSCRIBE cp to svc's events for timeout s: the status; cp->sid. */
static int
subscribe(struct gena *g, struct cp *cp, enum desc_svc svc, unsigned timeout)
{
	char req[512];

	if (str_printf(req, sizeof(req),
		       "SUBSCRIBE %s HTTP/1.1\r\nHOST: 127.0.0.1:%u\r\n"
		       "CALLBACK: <http://127.0.0.1:%u/cp>\r\nNT: upnp:event\r\n"
		       "TIMEOUT: Second-%u\r\nConnection: close\r\n\r\n",
		       desc_services[svc].event, g->port, cp->port, timeout) < 0)
		return -1;
	return request(g, req, cp->sid, sizeof(cp->sid));
}

/* A renewal (method "SUBSCRIBE", timeout s) or UNSUBSCRIBE of cp's SID. */
static int
by_sid(struct gena *g, const struct cp *cp, enum desc_svc svc, const char *method,
       unsigned timeout)
{
	char req[512];

	if (str_printf(req, sizeof(req),
		       "%s %s HTTP/1.1\r\nHOST: 127.0.0.1:%u\r\nSID: %s\r\n"
		       "TIMEOUT: Second-%u\r\nConnection: close\r\n\r\n",
		       method, desc_services[svc].event, g->port, cp->sid, timeout) < 0)
		return -1;
	return request(g, req, NULL, 0);
}

/* The next NOTIFY to cp, answered 200 as a control point does.  0, or -1
 * (none within GENA_WAIT_MS, or not a NOTIFY). */
static int
recv_notify(struct gena *g, struct cp *cp, struct note *n)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	uint64_t end = time_mono_ms() + GENA_WAIT_MS;
	char buf[4096];
	const char *v;
	int fd = -1;

	memset(n, 0, sizeof(*n));
	while (fd < 0 && time_mono_ms() < end) {
		fd = accept4(cp->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			pump(g, 5);
	}
	if (fd < 0 || read_message(g, fd, buf, sizeof(buf)) < 0 ||
	    strncmp(buf, "NOTIFY /cp HTTP/1.1\r\n", strlen("NOTIFY /cp HTTP/1.1\r\n")) != 0 ||
	    (v = strstr(buf, "<Probe>")) == NULL ||
	    parse_uint_n(v + 7, strcspn(v + 7, "<"), 0, UINT32_MAX, &n->value) < 0 ||
	    header_num(buf, "SEQ") < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	n->seq = (unsigned long long)header_num(buf, "SEQ");
	header_str(buf, "SID", n->sid, sizeof(n->sid));
	(void)send(fd, ok, sizeof(ok) - 1, MSG_NOSIGNAL);
	close(fd);
	pump(g, 0);
	return 0;
}

/* cp has no NOTIFY waiting (checked after another control point's
 * NOTIFY of the same round came in: its connection was made as early). */
static bool
no_notify(const struct cp *cp)
{
	int fd = accept4(cp->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd < 0 && errno == EAGAIN;
}

/* The evented variable of svc becomes value; its moderation window ends. */
static void
change(struct gena *g, enum desc_svc svc, unsigned value, bool window_ends)
{
	g->value = value;
	events_changed(&g->ctx, svc);
	if (window_ends)
		advance(g, GENA_MODERATION_MS);
}

#define CHECK_NOTE(g, cp, seq_, value_) do {					\
	struct note n_;								\
	CHECK_EQ(recv_notify(g, cp, &n_), 0);					\
	CHECK_EQ(n_.seq, seq_);							\
	CHECK_EQ(n_.value, value_);						\
	CHECK_STR(n_.sid, (cp)->sid);						\
} while (0)
/* cp subscribes to WANIPConnection's events (1800 s); its initial event
 * (SEQ 0) says value. */
#define CHECK_JOINS(g, cp, value_) do {						\
	CHECK_EQ(subscribe(g, cp, SVC_WANIPC, 1800), 200);			\
	CHECK_NOTE(g, cp, 0, value_);						\
} while (0)

/* A control point that subscribes in the moderation window of a change
 * gets the new value in its initial event (SEQ 0), and no SEQ 1 with the
 * same values when the window ends; the next change is its SEQ 1. */
TEST(gena_subscribed_after_change_gets_seq0_only)
{
	static struct gena g;
	struct cp *a = &g.cp[0], *b = &g.cp[1];

	gena_start(&g);
	CHECK_JOINS(&g, a, 0);
	change(&g, SVC_WANIPC, 1, false);
	CHECK_JOINS(&g, b, 1);
	advance(&g, GENA_MODERATION_MS);
	CHECK_NOTE(&g, a, 1, 1);
	CHECK(no_notify(b));
	change(&g, SVC_WANIPC, 2, true);
	CHECK_NOTE(&g, a, 2, 2);
	CHECK_NOTE(&g, b, 1, 2);
	gena_stop(&g);
}

/* A control point from before a change: SEQ 0 with the old value, then
 * one SEQ 1 with the new one for a burst of changes in one window; SEQ
 * counts up by one per event, per subscription; another service's change
 * is not its event. */
TEST(gena_subscriber_gets_changes_in_seq_order)
{
	static struct gena g;
	struct cp *a = &g.cp[0], *b = &g.cp[1];
	unsigned k;

	gena_start(&g);
	g.value = 5;
	CHECK_JOINS(&g, a, 5);
	change(&g, SVC_WANIPC, 6, false);
	change(&g, SVC_WANIPC, 7, false);
	change(&g, SVC_WANIPC, 8, true);
	CHECK_NOTE(&g, a, 1, 8);
	CHECK(no_notify(a));
	CHECK_JOINS(&g, b, 8);
	for (k = 2; k < 6; k++) {
		change(&g, SVC_WANIPC, 10 + k, true);
		CHECK_NOTE(&g, a, k, 10 + k);
		CHECK_NOTE(&g, b, k - 1, 10 + k);
	}
	/* SEQ after 4294967295 is 1 (UDA 1.1 4.3.2: 0 is the initial event's) */
	CHECK_EQ(events_next_seq(4294967295u), 1);
	change(&g, SVC_WANCFG, 99, true);
	change(&g, SVC_WANIPC, 20, true);
	CHECK_NOTE(&g, a, 6, 20);
	CHECK_NOTE(&g, b, 5, 20);
	gena_stop(&g);
}

/* UNSUBSCRIBE ends a subscription: no more events, its SID is unknown
 * (412) to a renewal and to a second UNSUBSCRIBE; the other goes on. */
TEST(gena_unsubscribe_stops_events)
{
	static struct gena g;
	struct cp *a = &g.cp[0], *b = &g.cp[1];

	gena_start(&g);
	CHECK_JOINS(&g, a, 0);
	CHECK_JOINS(&g, b, 0);
	CHECK_EQ(by_sid(&g, a, SVC_WANIPC, "UNSUBSCRIBE", 0), 200);
	change(&g, SVC_WANIPC, 1, true);
	CHECK_NOTE(&g, b, 1, 1);
	CHECK(no_notify(a));
	CHECK_EQ(by_sid(&g, a, SVC_WANIPC, "UNSUBSCRIBE", 0), 412);
	CHECK_EQ(by_sid(&g, a, SVC_WANIPC, "SUBSCRIBE", 1800), 412);
	change(&g, SVC_WANIPC, 2, true);
	CHECK_NOTE(&g, b, 2, 2);
	CHECK(no_notify(a));
	gena_stop(&g);
}

/* A subscription not renewed lapses at its TIMEOUT: no more events, 412
 * to a late renewal, and its slot is free; a renewed one goes on. */
TEST(gena_expiry_stops_events)
{
	static struct gena g;
	struct cp *a = &g.cp[0], *b = &g.cp[1], *c = &g.cp[2];

	gena_start(&g);
	g.ctx.cfg.max_subscribers = 2;
	CHECK_JOINS(&g, a, 0);
	CHECK_JOINS(&g, b, 0);
	CHECK_EQ(subscribe(&g, c, SVC_WANIPC, 1800), 503);	/* no slot */
	advance(&g, 1000 * 1000);
	CHECK_EQ(by_sid(&g, b, SVC_WANIPC, "SUBSCRIBE", 1800), 200);
	advance(&g, 801 * 1000);	/* a's 1800 s are over, b's renewal runs */
	change(&g, SVC_WANIPC, 1, true);
	CHECK_NOTE(&g, b, 1, 1);
	CHECK(no_notify(a));
	CHECK_EQ(by_sid(&g, a, SVC_WANIPC, "SUBSCRIBE", 1800), 412);
	CHECK_JOINS(&g, c, 1);	/* in a's slot */
	gena_stop(&g);
}
