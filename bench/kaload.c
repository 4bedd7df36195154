/* kaload.c - what HTTP keep-alive saves: GetExternalIPAddress on a fresh
 * connection (connect, request with "Connection: close", answer, close, as
 * upnpc sends it) against the second request on a kept-alive connection
 * (the first, untimed, opens it; the second is timed from its send to its
 * whole answer).  The two kinds alternate, so that both see the same noise.
 *
 *   kaload [-n PAIRS] [-t MS] [-p CPU[,CPU2]] CONTROL SERVICE
 *
 * CONTROL is the control URL (http://a.b.c.d:port/path), SERVICE the
 * WANIPConnection type.  Prints one line of key=value pairs: n (pairs),
 * fresh_med_us fresh_p90_us kept_med_us kept_p90_us, ratio (the median over
 * bursts of 20 pairs of kept median / fresh median: a burst slowed down by
 * the neighbours on a shared host counts once; "-" when nothing was kept),
 * ratio_bursts (the bursts' ratios), kept (second requests that went
 * on the same connection: a server that closes after every answer keeps
 * none), err, stopped=done|dead.  Every socket operation has a deadline
 * (-t, default 5000 ms); 20 failures in a row end the run.
 *
 * -p CPU: kaload runs on CPU only (the bench pins the daemon there too: a
 * request then costs what the client, the kernel and the daemon do, not
 * the wake-up of another, idle, CPU, which on a VM costs more than the
 * request itself).  -p CPU,CPU2: bursts of 20 pairs alternate between the
 * two; the fields above are CPU's bursts, and cross_fresh_med_us
 * cross_kept_med_us cross_ratio cross_ratio_bursts the same of CPU2's
 * (client and daemon on different CPUs). */
#include <arpa/inet.h>
#include <sched.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

struct target {
	struct sockaddr_in sin;
	char req_close[2048], req_keep[2048];
	size_t len_close, len_keep;
};

static int
usage(void)
{
	fprintf(stderr, "usage: kaload [-n PAIRS] [-t MS] [-p CPU[,CPU2]] CONTROL SERVICE\n");
	return 2;
}

/* The two requests (with and without "Connection: close") to url. */
static int
target_init(struct target *t, const char *url, const char *service)
{
	char host[64], hostport[80], body[768];
	const char *p, *slash, *colon;
	uint16_t port = 80;

	memset(t, 0, sizeof(*t));
	if (strncmp(url, "http://", 7) != 0)
		return -1;
	p = url + 7;
	slash = strchr(p, '/');
	if (slash == NULL || str_copy_n(hostport, sizeof(hostport), p, (size_t)(slash - p)) < 0)
		return -1;
	colon = strchr(hostport, ':');
	if ((colon != NULL && parse_u16(colon + 1, 1, 65535, &port) < 0) ||
	    str_copy_n(host, sizeof(host), hostport,
		       colon ? (size_t)(colon - hostport) : strlen(hostport)) < 0)
		return -1;
	t->sin.sin_family = AF_INET;
	t->sin.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &t->sin.sin_addr) != 1 ||
	    str_printf(body, sizeof(body),
		       "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
		       "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
		       "<u:GetExternalIPAddress xmlns:u=\"%s\"></u:GetExternalIPAddress></s:Body></s:Envelope>\r\n",
		       service) < 0)
		return -1;
	if (str_printf(t->req_close, sizeof(t->req_close),
		       "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml; charset=\"utf-8\"\r\n"
		       "SOAPAction: \"%s#GetExternalIPAddress\"\r\nContent-Length: %zu\r\n"
		       "Connection: close\r\n\r\n%s", slash, hostport, service, strlen(body), body) < 0 ||
	    str_printf(t->req_keep, sizeof(t->req_keep),
		       "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml; charset=\"utf-8\"\r\n"
		       "SOAPAction: \"%s#GetExternalIPAddress\"\r\nContent-Length: %zu\r\n\r\n%s",
		       slash, hostport, service, strlen(body), body) < 0)
		return -1;
	t->len_close = strlen(t->req_close);
	t->len_keep = strlen(t->req_keep);
	return 0;
}

/* Send req on s and read one whole answer (Content-Length framing) before
 * deadline.  1: a 200 answer and the connection open; 0: a 200 answer and
 * the server closed (or said it would); -1: anything else. */
static int
exchange(int s, const char *req, size_t len, uint64_t deadline)
{
	char buf[8192];
	size_t got = 0, sent = 0;
	const char *hend = NULL, *cl;

	while (sent < len) {
		ssize_t n;

		if (bench_wait(s, POLLOUT, deadline) <= 0)
			return -1;
		n = send(s, req + sent, len - sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		sent += (size_t)n;
	}
	for (;;) {
		ssize_t n;

		if (got + 1 >= sizeof(buf) || bench_wait(s, POLLIN, deadline) <= 0)
			return -1;
		n = recv(s, buf + got, sizeof(buf) - 1 - got, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		if (hend == NULL && (hend = strstr(buf, "\r\n\r\n")) == NULL)
			continue;
		cl = strcasestr(buf, "\r\nContent-Length:");
		if (cl == NULL || cl > hend)
			return -1;
		if (got >= (size_t)(hend + 4 - buf) + strtoul(cl + 17, NULL, 10))
			break;
	}
	if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
		return -1;
	cl = strcasestr(buf, "\r\nConnection:");
	return cl != NULL && cl < hend && strncasecmp(cl + 13 + strspn(cl + 13, " "), "close", 5) == 0
		? 0 : 1;
}

static int
conn_open(const struct target *t)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (s < 0)
		return -1;
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(s, (const struct sockaddr *)&t->sin, sizeof(t->sin)) < 0 && errno != EINPROGRESS) {
		close(s);
		return -1;
	}
	return s;
}

/* One fresh request, timed from socket() to its whole answer; us or 0. */
static uint64_t
fresh(const struct target *t, uint32_t timeout_ms)
{
	uint64_t t0 = bench_now_us();
	int s = conn_open(t), r;

	if (s < 0)
		return 0;
	r = exchange(s, t->req_close, t->len_close, t0 + (uint64_t)timeout_ms * 1000);
	close(s);
	return r >= 0 ? bench_now_us() - t0 : 0;
}

/* A first request, untimed, then the second on the same connection, timed;
 * us, or 0 on failure; *kept: the second went on the same connection. */
static uint64_t
kept(const struct target *t, uint32_t timeout_ms, int *was_kept)
{
	uint64_t t0, dl = bench_now_us() + (uint64_t)timeout_ms * 1000;
	int s = conn_open(t), r;

	*was_kept = 0;
	if (s < 0)
		return 0;
	r = exchange(s, t->req_keep, t->len_keep, dl);
	if (r < 0) {
		close(s);
		return 0;
	}
	if (r == 0) {		/* no keep-alive: the second needs a new connection */
		close(s);
		t0 = bench_now_us();
		if ((s = conn_open(t)) < 0)
			return 0;
	} else {
		*was_kept = 1;
		t0 = bench_now_us();
	}
	r = exchange(s, t->req_keep, t->len_keep, t0 + (uint64_t)timeout_ms * 1000);
	close(s);
	return r >= 0 ? bench_now_us() - t0 : 0;
}

#define BURST 20	/* pairs per burst: the ratio is taken per burst */

/* Median ratio of the bursts' medians (kept / fresh) of samples kept in
 * burst order, their list into list[size]. */
static double
burst_ratio(const struct bench_samples *sf, const struct bench_samples *sk, char *list,
	    size_t size)
{
	struct bench_samples r = { 0 };
	size_t b, n = sf->n < sk->n ? sf->n : sk->n;
	double m;

	list[0] = '\0';
	for (b = 0; b + BURST <= n; b += BURST) {
		struct bench_samples f = { sf->v + b, BURST, BURST }, k = { sk->v + b, BURST, BURST };
		uint32_t rf = bench_pct(&f, 0, 50), rk = bench_pct(&k, 0, 50);

		if (rf == 0)
			continue;
		bench_add(&r, (uint64_t)rk * 1000 / rf);	/* per mille */
		str_appendf(list, size, "%s%.2f", list[0] ? "," : "", (double)rk / rf);
	}
	m = r.n > 0 ? bench_pct(&r, 0, 50) / 1000.0 : -1;
	free(r.v);
	return m;
}

/* One placement's samples: the pairs run with kaload on one CPU. */
struct slot {
	struct bench_samples f, k;
};

/* -p "A" or "A,B": the CPUs into cpu[], their count, or -1. */
static int
parse_cpus(const char *arg, uint32_t cpu[2])
{
	const char *comma = strchr(arg, ',');
	char a[16];

	if (comma == NULL)
		return parse_u32(arg, 0, CPU_SETSIZE - 1, &cpu[0]) == 0 ? 1 : -1;
	if (str_copy_n(a, sizeof(a), arg, (size_t)(comma - arg)) < 0 ||
	    parse_u32(a, 0, CPU_SETSIZE - 1, &cpu[0]) < 0 ||
	    parse_u32(comma + 1, 0, CPU_SETSIZE - 1, &cpu[1]) < 0)
		return -1;
	return 2;
}

static int
pin(uint32_t cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* The summary fields of one slot, each name after prefix. */
static void
print_slot(const char *prefix, struct slot *s, uint32_t n_kept)
{
	char bursts[1024];
	double ratio = burst_ratio(&s->f, &s->k, bursts, sizeof(bursts));

	printf("%sfresh_med_us=%u %sfresh_p90_us=%u %skept_med_us=%u %skept_p90_us=%u ",
	       prefix, bench_pct(&s->f, 0, 50), prefix, bench_pct(&s->f, 0, 90),
	       prefix, bench_pct(&s->k, 0, 50), prefix, bench_pct(&s->k, 0, 90));
	if (n_kept > 0 && ratio >= 0)
		printf("%sratio=%.3f %sratio_bursts=%s ", prefix, ratio, prefix, bursts);
	else
		printf("%sratio=- %sratio_bursts=- ", prefix, prefix);
}

int
main(int argc, char **argv)
{
	struct slot slot[2] = { 0 };
	struct target t;
	uint32_t pairs = 200, timeout_ms = 5000, i, n_kept = 0, err = 0, row = 0, cpu[2];
	const char *stopped = "done";
	int o, ncpu = 0, cur = -1;

	while ((o = getopt(argc, argv, "n:t:p:")) != -1) {
		if (o == 'n' && parse_u32(optarg, 1, 1000000, &pairs) == 0)
			continue;
		if (o == 't' && parse_u32(optarg, 1, 600000, &timeout_ms) == 0)
			continue;
		if (o == 'p' && (ncpu = parse_cpus(optarg, cpu)) > 0)
			continue;
		return usage();
	}
	if (argc - optind != 2 || target_init(&t, argv[optind], argv[optind + 1]) < 0)
		return usage();
	for (i = 0; i < pairs; i++) {
		int k, w = ncpu == 2 ? (int)((slot[0].f.n + slot[1].f.n) / BURST % 2) : 0;
		uint64_t a, b;

		/* between bursts, untimed: to the CPU of the next burst */
		if (ncpu > 0 && w != cur && pin(cpu[w]) < 0) {
			fprintf(stderr, "kaload: cpu %u: %s\n", cpu[w], strerror(errno));
			return 1;
		}
		cur = w;
		a = fresh(&t, timeout_ms);
		b = kept(&t, timeout_ms, &k);
		/* a pair counts whole or not at all: the bursts stay aligned */
		if (a > 0 && b > 0) {
			bench_add(&slot[w].f, a);
			bench_add(&slot[w].k, b);
		}
		n_kept += (unsigned)k;
		err += (a == 0) + (b == 0);
		row = (a == 0 || b == 0) ? row + 1 : 0;
		if (row >= 20) {
			stopped = "dead";
			break;
		}
	}
	printf("n=%u ", i);
	print_slot("", &slot[0], n_kept);
	if (ncpu == 2)
		print_slot("cross_", &slot[1], n_kept);
	printf("kept=%u err=%u stopped=%s\n", n_kept, err, stopped);
	return 0;
}
