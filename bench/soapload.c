/* soapload.c - SOAP load for an IGD's WANIPConnection service, one request
 * per HTTP connection as real clients (upnpc, libminiupnpc users) send them.
 *
 *   soapload desc LOCATION
 *        fetch the root description, print "control=URL" and "service=TYPE"
 *        of WANIPConnection (:2 preferred, else :1)
 *   soapload [opts] CONTROL SERVICE add PORT COUNT
 *        AddPortMapping TCP PORT..PORT+COUNT-1 -> CLIENT:same port
 *   soapload [opts] CONTROL SERVICE del PORT COUNT
 *        DeletePortMapping TCP PORT+COUNT-1 down to PORT
 *   soapload [opts] CONTROL SERVICE getspec PORT REPEAT
 *   soapload [opts] CONTROL SERVICE getgen INDEX REPEAT
 *   soapload [opts] CONTROL SERVICE list     GetListOfPortMappings, pages of 1000
 *   soapload [opts] CONTROL SERVICE walk     GetGenericPortMappingEntry 0, 1, ...
 *   soapload [opts] CONTROL SERVICE list1 PORT REPEAT
 *        GetListOfPortMappings of TCP PORT..65535, one page (-P), REPEAT
 *        times: the timing of one page, entries= of the last answer
 *   soapload [opts] CONTROL SERVICE count
 *        QueryStateVariable PortMappingNumberOfEntries: prints count=N
 *   soapload [opts] CONTROL SERVICE rate RPS SECONDS PORT
 *        open-loop load: a new connection every 1/RPS s whether or not the
 *        earlier ones are answered (up to 512 open), cycling through
 *        AddPortMapping of PORT..PORT+99 (refreshes after the first round),
 *        GetSpecificPortMappingEntry, GetGenericPortMappingEntry 0 and
 *        GetExternalIPAddress; latency counts from the scheduled start, so
 *        a daemon that falls behind shows it (no coordinated omission).
 *        Adds "rate=" (requests started per second) to the summary.
 *
 * Options: -c CLIENT (internal client, default 192.168.77.10), -l LEASE (s,
 * default 3600), -b BUDGET (s: stop starting requests after it), -t MS
 * (per-request timeout, default 5000), -P N (GetListOfPortMappings page,
 * default 1000 as upnpc -L asks), -T N (tail: also summarise the last N
 * requests).  Prints one line of key=value pairs: n ok err first_err secs
 * med_us p99_us max_us tail_med_us tail_p99_us stopped=done|budget|dead
 * (list/walk: entries requests secs).  Every socket operation has a
 * deadline and 20 network failures in a row end the run, so a dead daemon
 * cannot hang it. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

#define RESP_MAX (32u << 20)

struct url {
	struct sockaddr_in sin;
	char hostport[64];
	char path[256];
};

static const char *client = "192.168.77.10";
static uint32_t lease = 3600;
static uint32_t timeout_ms = 5000;
static uint32_t budget_s;
static uint32_t tail_n;
static uint32_t page = 1000;

static int
usage(void)
{
	fprintf(stderr, "usage: soapload desc LOCATION\n"
		"       soapload [-c CLIENT] [-l LEASE] [-b BUDGET_S] [-t MS] [-T TAIL] [-P PAGE] CONTROL SERVICE\n"
		"                add PORT COUNT | del PORT COUNT | getspec PORT REPEAT |\n"
		"                getgen INDEX REPEAT | list | walk | rate RPS SECONDS PORT |\n"
		"                list1 PORT REPEAT | count\n");
	return 2;
}

static int
url_parse(const char *s, struct url *u)
{
	const char *p, *slash, *colon;
	char host[64];
	uint16_t port = 80;

	memset(u, 0, sizeof(*u));
	if (strncmp(s, "http://", 7) != 0)
		return -1;
	p = s + 7;
	slash = strchr(p, '/');
	if (slash == NULL)
		slash = p + strlen(p);
	if (str_copy_n(u->hostport, sizeof(u->hostport), p, (size_t)(slash - p)) < 0)
		return -1;
	colon = memchr(p, ':', (size_t)(slash - p));
	if (colon != NULL) {
		char ps[8];

		if (str_copy_n(ps, sizeof(ps), colon + 1, (size_t)(slash - colon - 1)) < 0 ||
		    parse_u16(ps, 1, 65535, &port) < 0)
			return -1;
	} else {
		colon = slash;
	}
	if (str_copy_n(host, sizeof(host), p, (size_t)(colon - p)) < 0)
		return -1;
	u->sin.sin_family = AF_INET;
	u->sin.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &u->sin.sin_addr) != 1)
		return -1;
	return str_copy(u->path, sizeof(u->path), *slash ? slash : "/");
}

struct resp {
	char *buf;
	size_t len, cap;
	int status;		/* HTTP status, -1 network failure/timeout */
	const char *body;
};

/* One request on a fresh connection: connect, send, read until the peer
 * closes or Content-Length is in.  Everything before deadline. */
static int
http_do(const struct url *u, const char *req, size_t reqlen, struct resp *r)
{
	uint64_t deadline = bench_now_us() + (uint64_t)timeout_ms * 1000;
	size_t sent = 0, clen = 0;
	int s, one = 1, have_clen = 0;
	const char *hend = NULL;

	r->len = 0;
	r->status = -1;
	r->body = NULL;
	if (r->buf == NULL) {
		r->cap = 16384;
		if ((r->buf = malloc(r->cap)) == NULL)
			return -1;
	}
	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, (const struct sockaddr *)&u->sin, sizeof(u->sin)) < 0 &&
	    errno != EINPROGRESS)
		goto out;
	while (sent < reqlen) {
		ssize_t n;

		if (bench_wait(s, POLLOUT, deadline) <= 0)
			goto out;
		n = send(s, req + sent, reqlen - sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			goto out;
		sent += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		if (r->len + 1 >= r->cap) {
			size_t hoff = hend != NULL ? (size_t)(hend - r->buf) : 0;
			char *nb;

			if (r->cap >= RESP_MAX)
				goto out;
			nb = realloc(r->buf, r->cap * 2);
			if (nb == NULL)
				goto out;
			r->buf = nb;
			/* hend pointed into the old buffer */
			if (hend != NULL)
				hend = nb + hoff;
			r->cap *= 2;
		}
		if (bench_wait(s, POLLIN, deadline) <= 0)
			goto out;
		n = recv(s, r->buf + r->len, r->cap - r->len - 1, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			goto out;
		r->buf[r->len + (size_t)n] = '\0';
		r->len += (size_t)n;
		if (hend == NULL && (hend = strstr(r->buf, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(r->buf, "\r\nContent-Length:");

			if (cl != NULL && cl < hend) {
				unsigned long long v;
				const char *e, *b = cl + 17;

				while (*b == ' ' || *b == '\t')
					b++;
				for (e = b; *e >= '0' && *e <= '9'; e++)
					;
				if (parse_uint_n(b, (size_t)(e - b), 0, RESP_MAX, &v) == 0) {
					clen = (size_t)v;
					have_clen = 1;
				}
			}
		}
		if (n == 0 || (hend != NULL && have_clen &&
			       r->len >= (size_t)(hend + 4 - r->buf) + clen))
			break;
	}
	if (hend == NULL || strncmp(r->buf, "HTTP/1.", 7) != 0 || r->len < 12)
		goto out;
	{
		uint16_t st;
		char code[4] = { r->buf[9], r->buf[10], r->buf[11], 0 };

		if (parse_u16(code, 100, 599, &st) < 0)
			goto out;
		r->status = st;
	}
	r->body = hend + 4;
out:
	close(s);
	return r->status < 0 ? -1 : 0;
}

/* The UPnP error code of a SOAP fault (UDA 3.2.2), or the HTTP status. */
static int
soap_error(const struct resp *r)
{
	const char *e;
	unsigned long long v;
	size_t n = 0;

	if (r->status < 0)
		return -1;
	if (r->status == 200)
		return 0;
	e = r->body ? strstr(r->body, "<errorCode>") : NULL;
	if (e == NULL)
		return r->status;
	e += 11;
	while (e[n] >= '0' && e[n] <= '9')
		n++;
	if (parse_uint_n(e, n, 0, 99999, &v) < 0)
		return r->status;
	return (int)v;
}

static char reqbuf[4096];

/* Build the POST of ACTION with ARGS (already XML) into reqbuf. */
static size_t
soap_build(const struct url *u, const char *service, const char *action, const char *args)
{
	char body[2048];
	size_t bl;

	if (str_printf(body, sizeof(body),
		       "<?xml version=\"1.0\"?>\r\n"
		       "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
		       "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\">"
		       "<s:Body><u:%s xmlns:u=\"%s\">%s</u:%s></s:Body></s:Envelope>\r\n",
		       action, service, args, action) < 0)
		return 0;
	bl = strlen(body);
	if (str_printf(reqbuf, sizeof(reqbuf),
		       "POST %s HTTP/1.1\r\nHost: %s\r\n"
		       "Content-Type: text/xml; charset=\"utf-8\"\r\n"
		       "SOAPAction: \"%s#%s\"\r\nContent-Length: %zu\r\n"
		       "Connection: close\r\n\r\n%s",
		       u->path, u->hostport, service, action, bl, body) < 0)
		return 0;
	return strlen(reqbuf);
}

static struct resp resp;
static struct bench_samples samples;
static unsigned n_ok, n_err, n_fail_row;
static int first_err;
static const char *stopped = "done";

/* One timed action; returns its error (0 ok, -1 network). */
static int
timed(const struct url *u, const char *service, const char *action, const char *args)
{
	size_t len = soap_build(u, service, action, args);
	uint64_t t0 = bench_now_us();
	int e;

	if (len == 0) {
		fprintf(stderr, "soapload: request too long\n");
		exit(1);
	}
	http_do(u, reqbuf, len, &resp);
	e = soap_error(&resp);
	if (e == 0) {
		bench_add(&samples, bench_now_us() - t0);
		n_ok++;
	} else {
		n_err++;
		if (first_err == 0)
			first_err = e;
	}
	n_fail_row = e < 0 ? n_fail_row + 1 : 0;
	return e;
}

/* Whether to start another request. */
static int
go_on(uint64_t start)
{
	if (n_fail_row >= 20) {
		stopped = "dead";
		return 0;
	}
	if (budget_s && bench_now_us() - start >= (uint64_t)budget_s * 1000000u) {
		stopped = "budget";
		return 0;
	}
	return 1;
}

static void
summary(uint64_t start)
{
	size_t tail = tail_n && samples.n > tail_n ? samples.n - tail_n : 0;

	printf("n=%u ok=%u err=%u first_err=%d secs=%.6f med_us=%u p99_us=%u max_us=%u "
	       "mean_us=%.0f tail_med_us=%u tail_p99_us=%u stopped=%s\n",
	       n_ok + n_err, n_ok, n_err, first_err,
	       (double)(bench_now_us() - start) / 1e6, bench_pct(&samples, 0, 50),
	       bench_pct(&samples, 0, 99), bench_pct(&samples, 0, 100),
	       bench_mean(&samples, 0), bench_pct(&samples, tail, 50),
	       bench_pct(&samples, tail, 99), stopped);
}

/* Count entries in a GetListOfPortMappings answer and find the highest
 * external port: the listing is XML escaped or in CDATA, so look for the
 * element name and the digits after the next '>' (or "&gt;"). */
static unsigned
list_scan(const char *body, unsigned *maxport)
{
	const char *p = body;
	unsigned n = 0;

	*maxport = 0;
	while ((p = strstr(p, "NewExternalPort")) != NULL) {
		const char *v = p + 15;
		unsigned long long port;
		size_t d = 0;

		p = v;
		if (*v == '>')
			v++;
		else if (strncmp(v, "&gt;", 4) == 0)
			v += 4;
		else
			continue;
		while (v[d] >= '0' && v[d] <= '9')
			d++;
		if (d == 0 || parse_uint_n(v, d, 0, 65535, &port) < 0)
			continue;
		n++;
		if (port > *maxport)
			*maxport = (unsigned)port;
	}
	return n;
}

static int
cmd_list(const struct url *u, const char *service)
{
	uint64_t start = bench_now_us();
	unsigned entries = 0, requests = 0, from = 0;

	while (go_on(start) && from <= 65535) {
		char args[512];
		unsigned maxport, got;

		str_printf(args, sizeof(args),
			   "<NewStartPort>%u</NewStartPort><NewEndPort>65535</NewEndPort>"
			   "<NewProtocol>TCP</NewProtocol><NewManage>1</NewManage>"
			   "<NewNumberOfPorts>%u</NewNumberOfPorts>", from, page);
		requests++;
		if (timed(u, service, "GetListOfPortMappings", args) != 0)
			break;	/* 730 PortMappingNotFound: nothing at or above from */
		got = list_scan(resp.body, &maxport);
		entries += got;
		if (got == 0)
			break;
		from = maxport + 1;
	}
	printf("entries=%u requests=%u secs=%.6f first_err=%d stopped=%s\n", entries, requests,
	       (double)(bench_now_us() - start) / 1e6, first_err, stopped);
	return 0;
}

/* QueryStateVariable (UDA 1.0) of the mapping count. */
static int
cmd_count(const struct url *u)
{
	const char *v;
	unsigned long long n;
	size_t d = 0;

	if (timed(u, "urn:schemas-upnp-org:control-1-0", "QueryStateVariable",
		  "<u:varName>PortMappingNumberOfEntries</u:varName>") != 0 ||
	    (v = strstr(resp.body, "<return>")) == NULL) {
		printf("count=-1 first_err=%d\n", first_err);
		return 1;
	}
	v += 8;
	while (v[d] >= '0' && v[d] <= '9')
		d++;
	if (parse_uint_n(v, d, 0, UINT32_MAX, &n) < 0)
		return 1;
	printf("count=%llu\n", n);
	return 0;
}

static int
cmd_walk(const struct url *u, const char *service)
{
	uint64_t start = bench_now_us();
	unsigned i;

	for (i = 0; go_on(start); i++) {
		char args[128];

		str_printf(args, sizeof(args), "<NewPortMappingIndex>%u</NewPortMappingIndex>", i);
		if (timed(u, service, "GetGenericPortMappingEntry", args) != 0)
			break;	/* 713 SpecifiedArrayIndexInvalid: past the end */
	}
	printf("entries=%u requests=%u secs=%.6f first_err=%d med_us=%u p99_us=%u stopped=%s\n",
	       n_ok, n_ok + n_err, (double)(bench_now_us() - start) / 1e6, first_err,
	       bench_pct(&samples, 0, 50), bench_pct(&samples, 0, 99), stopped);
	return 0;
}

static int
cmd_desc(const char *location)
{
	struct url u;
	char req[512], base[128];
	const char *b, *st, *cu, *ce, *ub;
	int v;

	if (url_parse(location, &u) < 0)
		return usage();
	str_printf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
		   u.path, u.hostport);
	if (http_do(&u, req, strlen(req), &resp) < 0 || resp.status != 200) {
		fprintf(stderr, "soapload: GET %s failed (%d)\n", location, resp.status);
		return 1;
	}
	b = resp.body;
	for (v = 2; v >= 1; v--) {
		char type[80];

		str_printf(type, sizeof(type), "urn:schemas-upnp-org:service:WANIPConnection:%d", v);
		st = strstr(b, type);
		if (st == NULL)
			continue;
		cu = strstr(st, "<controlURL>");
		if (cu == NULL)
			break;
		cu += 12;
		ce = strstr(cu, "</controlURL>");
		if (ce == NULL)
			break;
		if (strncmp(cu, "http://", 7) == 0) {
			printf("control=%.*s\n", (int)(ce - cu), cu);
		} else {
			/* relative to URLBase if given, else to the description's host */
			ub = strstr(b, "<URLBase>");
			if (ub != NULL && strncmp(ub + 9, "http://", 7) == 0) {
				const char *ue = strchr(ub + 16, '/');
				const char *ut = strstr(ub, "</URLBase>");

				if (ue == NULL || (ut != NULL && ut < ue))
					ue = ut;
				if (ue == NULL ||
				    str_copy_n(base, sizeof(base), ub + 9, (size_t)(ue - ub - 9)) < 0)
					break;
			} else {
				str_printf(base, sizeof(base), "http://%s", u.hostport);
			}
			printf("control=%s%s%.*s\n", base, *cu == '/' ? "" : "/", (int)(ce - cu), cu);
		}
		printf("service=%s\n", type);
		return 0;
	}
	fprintf(stderr, "soapload: no WANIPConnection in %s\n", location);
	return 1;
}

/* ---- open-loop rate mode ---- */

#define RATE_OPEN_MAX 512

struct rconn {
	int fd;
	uint64_t sched_us;		/* when it was meant to start */
	size_t sent, reqlen, got;
	char req[2048];
	char in[8192];
};

/* The i-th request of the mix into c->req. */
static int
rate_request(struct rconn *c, const struct url *u, const char *service, uint32_t i,
	     uint32_t port)
{
	char args[768];
	const char *action;
	size_t len;

	switch (i % 4) {
	case 0:
		action = "AddPortMapping";
		str_printf(args, sizeof(args),
			   "<NewRemoteHost></NewRemoteHost><NewExternalPort>%u</NewExternalPort>"
			   "<NewProtocol>TCP</NewProtocol><NewInternalPort>%u</NewInternalPort>"
			   "<NewInternalClient>%s</NewInternalClient><NewEnabled>1</NewEnabled>"
			   "<NewPortMappingDescription>load</NewPortMappingDescription>"
			   "<NewLeaseDuration>%u</NewLeaseDuration>",
			   port + (i / 4) % 100, port + (i / 4) % 100, client, lease);
		break;
	case 1:
		action = "GetSpecificPortMappingEntry";
		str_printf(args, sizeof(args),
			   "<NewRemoteHost></NewRemoteHost><NewExternalPort>%u</NewExternalPort>"
			   "<NewProtocol>TCP</NewProtocol>", port);
		break;
	case 2:
		action = "GetGenericPortMappingEntry";
		str_printf(args, sizeof(args), "<NewPortMappingIndex>0</NewPortMappingIndex>");
		break;
	default:
		action = "GetExternalIPAddress";
		args[0] = '\0';
		break;
	}
	len = soap_build(u, service, action, args);
	if (len == 0 || len >= sizeof(c->req))
		return -1;
	memcpy(c->req, reqbuf, len);
	c->reqlen = len;
	return 0;
}

static void
rate_done(struct rconn *c, int ok)
{
	if (ok) {
		bench_add(&samples, bench_now_us() - c->sched_us);
		n_ok++;
	} else {
		n_err++;
		if (first_err == 0)
			first_err = -1;
	}
	close(c->fd);
	c->fd = -1;
}

/* A whole answer in c->in: headers and Content-Length bytes of body, or
 * the peer closed after the headers.  1 done, 0 not yet. */
static int
rate_complete(const struct rconn *c, int closed)
{
	const char *hend = memmem(c->in, c->got, "\r\n\r\n", 4), *cl;
	unsigned long long v;
	size_t d = 0;

	if (hend == NULL)
		return 0;
	if (closed)
		return 1;
	cl = memmem(c->in, (size_t)(hend - c->in), "Content-Length:", 15);
	if (cl == NULL)
		return 0;
	cl += 15;
	while (*cl == ' ')
		cl++;
	while (cl[d] >= '0' && cl[d] <= '9')
		d++;
	if (parse_uint_n(cl, d, 0, sizeof(c->in), &v) < 0)
		return 0;
	return c->got >= (size_t)(hend + 4 - c->in) + v;
}

static int
cmd_rate(const struct url *u, const char *service, uint32_t rps, uint32_t secs, uint32_t port)
{
	static struct rconn conns[RATE_OPEN_MAX];
	struct pollfd pfd[RATE_OPEN_MAX];
	uint64_t start = bench_now_us(), interval = 1000000u / rps;
	uint32_t total = rps * secs, started = 0, i;
	unsigned open_n = 0, skipped = 0;

	for (i = 0; i < RATE_OPEN_MAX; i++)
		conns[i].fd = -1;
	while (started < total || open_n > 0) {
		uint64_t now = bench_now_us(), next = start + (uint64_t)started * interval;
		int timeout = started < total ? (next > now ? (int)((next - now) / 1000) : 0) : 50;
		nfds_t np = 0;
		unsigned idx[RATE_OPEN_MAX];

		/* start what is due */
		while (started < total && start + (uint64_t)started * interval <= now) {
			struct rconn *c = NULL;
			int one = 1;

			for (i = 0; i < RATE_OPEN_MAX && c == NULL; i++)
				if (conns[i].fd < 0)
					c = &conns[i];
			if (c == NULL || rate_request(c, u, service, started, port) < 0) {
				skipped++;	/* generator limit: counted as errors */
				n_err++;
				started++;
				continue;
			}
			c->sched_us = start + (uint64_t)started * interval;
			c->sent = c->got = 0;
			c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			started++;
			if (c->fd < 0) {
				n_err++;
				continue;
			}
			setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (connect(c->fd, (const struct sockaddr *)&u->sin, sizeof(u->sin)) < 0 &&
			    errno != EINPROGRESS) {
				rate_done(c, 0);
				continue;
			}
			open_n++;
		}
		for (i = 0; i < RATE_OPEN_MAX; i++) {
			struct rconn *c = &conns[i];

			if (c->fd < 0)
				continue;
			if (now > c->sched_us + (uint64_t)timeout_ms * 1000) {
				rate_done(c, 0);	/* past its deadline */
				open_n--;
				continue;
			}
			pfd[np].fd = c->fd;
			pfd[np].events = c->sent < c->reqlen ? POLLOUT : POLLIN;
			idx[np++] = i;
		}
		if (poll(pfd, np, timeout) < 0 && errno != EINTR)
			return 1;
		for (i = 0; i < np; i++) {
			struct rconn *c = &conns[idx[i]];
			ssize_t n;

			if (pfd[i].revents == 0)
				continue;
			if (c->sent < c->reqlen) {
				n = send(c->fd, c->req + c->sent, c->reqlen - c->sent, MSG_NOSIGNAL);
				if (n > 0)
					c->sent += (size_t)n;
				else if (n < 0 && errno != EAGAIN && errno != EINTR) {
					rate_done(c, 0);
					open_n--;
				}
				continue;
			}
			n = recv(c->fd, c->in + c->got, sizeof(c->in) - 1 - c->got, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n > 0)
				c->got += (size_t)n;
			if (n <= 0 || rate_complete(c, 0) || c->got >= sizeof(c->in) - 1) {
				int ok = rate_complete(c, n == 0) && strncmp(c->in, "HTTP/1.1 200", 12) == 0;

				if (!ok && first_err <= 0 && c->got >= 12) {
					char code[4] = { c->in[9], c->in[10], c->in[11], 0 };
					uint16_t st;

					if (parse_u16(code, 100, 599, &st) == 0)
						first_err = st;
				}
				rate_done(c, ok);
				open_n--;
			}
		}
	}
	summary(start);
	printf("rate=%.1f skipped=%u\n", (double)started * 1e6 / (double)(bench_now_us() - start),
	       skipped);
	return 0;
}

int
main(int argc, char **argv)
{
	struct url u;
	const char *service, *cmd;
	uint32_t a = 0, b = 0;
	uint64_t start;
	int o;

	while ((o = getopt(argc, argv, "c:l:b:t:T:P:")) != -1) {
		switch (o) {
		case 'c': client = optarg; break;
		case 'l': if (parse_u32(optarg, 0, UINT32_MAX, &lease) < 0) return usage(); break;
		case 'b': if (parse_u32(optarg, 0, 86400, &budget_s) < 0) return usage(); break;
		case 't': if (parse_u32(optarg, 1, 600000, &timeout_ms) < 0) return usage(); break;
		case 'P': if (parse_u32(optarg, 1, 65535, &page) < 0) return usage(); break;
		case 'T': if (parse_u32(optarg, 0, 1000000, &tail_n) < 0) return usage(); break;
		default: return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 2 && strcmp(argv[0], "desc") == 0)
		return cmd_desc(argv[1]);
	if (argc < 3 || url_parse(argv[0], &u) < 0)
		return usage();
	service = argv[1];
	cmd = argv[2];
	/* a: a port, or an index of GetGenericPortMappingEntry */
	if (argc == 5 && (parse_u32(argv[3], 0, strcmp(cmd, "getgen") == 0 ? 1000000 : 65535, &a) < 0 ||
			  parse_u32(argv[4], 0, 1000000, &b) < 0))
		return usage();
	start = bench_now_us();
	if (strcmp(cmd, "list") == 0 && argc == 3)
		return cmd_list(&u, service);
	if (strcmp(cmd, "walk") == 0 && argc == 3)
		return cmd_walk(&u, service);
	if (strcmp(cmd, "count") == 0 && argc == 3)
		return cmd_count(&u);
	if (strcmp(cmd, "rate") == 0 && argc == 6) {
		uint32_t rps, secs, port;

		if (parse_u32(argv[3], 1, 100000, &rps) < 0 || parse_u32(argv[4], 1, 600, &secs) < 0 ||
		    parse_u32(argv[5], 1, 65436, &port) < 0)
			return usage();
		return cmd_rate(&u, service, rps, secs, port);
	}
	if (argc != 5)
		return usage();
	if (strcmp(cmd, "add") == 0 || strcmp(cmd, "del") == 0) {
		int add = cmd[0] == 'a';
		uint32_t i;

		if (a < 1 || a + b > 65536)
			return usage();
		for (i = 0; i < b && go_on(start); i++) {
			char args[768];
			uint32_t port = add ? a + i : a + b - 1 - i;

			if (add)
				str_printf(args, sizeof(args),
					   "<NewRemoteHost></NewRemoteHost>"
					   "<NewExternalPort>%u</NewExternalPort>"
					   "<NewProtocol>TCP</NewProtocol>"
					   "<NewInternalPort>%u</NewInternalPort>"
					   "<NewInternalClient>%s</NewInternalClient>"
					   "<NewEnabled>1</NewEnabled>"
					   "<NewPortMappingDescription>bench %u</NewPortMappingDescription>"
					   "<NewLeaseDuration>%u</NewLeaseDuration>",
					   port, port, client, port, lease);
			else
				str_printf(args, sizeof(args),
					   "<NewRemoteHost></NewRemoteHost>"
					   "<NewExternalPort>%u</NewExternalPort>"
					   "<NewProtocol>TCP</NewProtocol>", port);
			timed(&u, service, add ? "AddPortMapping" : "DeletePortMapping", args);
		}
	} else if (strcmp(cmd, "list1") == 0) {
		unsigned got = 0, maxport;
		uint32_t i;

		for (i = 0; i < b && go_on(start); i++) {
			char args[512];

			str_printf(args, sizeof(args),
				   "<NewStartPort>%u</NewStartPort><NewEndPort>65535</NewEndPort>"
				   "<NewProtocol>TCP</NewProtocol><NewManage>1</NewManage>"
				   "<NewNumberOfPorts>%u</NewNumberOfPorts>", a, page);
			if (timed(&u, service, "GetListOfPortMappings", args) == 0)
				got = list_scan(resp.body, &maxport);
		}
		printf("entries=%u ", got);
	} else if (strcmp(cmd, "getspec") == 0 || strcmp(cmd, "getgen") == 0) {
		int spec = cmd[3] == 's';
		uint32_t i;

		for (i = 0; i < b && go_on(start); i++) {
			char args[256];

			if (spec)
				str_printf(args, sizeof(args),
					   "<NewRemoteHost></NewRemoteHost>"
					   "<NewExternalPort>%u</NewExternalPort>"
					   "<NewProtocol>TCP</NewProtocol>", a);
			else
				str_printf(args, sizeof(args),
					   "<NewPortMappingIndex>%u</NewPortMappingIndex>", a);
			timed(&u, service, spec ? "GetSpecificPortMappingEntry" :
			      "GetGenericPortMappingEntry", args);
		}
	} else {
		return usage();
	}
	summary(start);
	return 0;
}
