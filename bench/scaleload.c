/* scaleload.c - the CGN-size load of `make bench-scale` (bench/scale.sh):
 * NAT-PMP (RFC 6886) and PCP (RFC 6887) from many LAN source addresses,
 * a no-op echo server that shows the sender's own ceiling, and the clocks
 * of a restart.
 *
 *   scaleload [opts] GATEWAY map|unmap|pcpmap|pcpunmap|ext SRC NSRC PORT0 COUNT
 *        COUNT requests; request k comes from source address
 *        SRC + (PORT0 + k) % NSRC
 *        (NSRC consecutive IPv4 addresses, one socket bound to each) and
 *        asks for internal port PORT0 + k, suggested external port the
 *        same (so that no free-port search runs); unmap/pcpunmap delete
 *        what map/pcpmap made (the PCP nonce is derived from the port).
 *   scaleload echo ADDR [PORT]
 *        a no-op NAT-PMP/PCP server: every request answered at once with
 *        success, nothing stored (until killed).
 *   scaleload stamp FILE CMD [ARGS...]
 *        write CLOCK_MONOTONIC (ns) to FILE, then exec CMD (same process):
 *        "exec" of the restart timings.
 *   scaleload waitup GATEWAY HTTP_PORT TIMEOUT_MS
 *        until both answer: a NAT-PMP external-address request every 2 ms
 *        and an HTTP GET of /rootDesc.xml every 5 ms; prints pmp_up_ns and
 *        http_up_ns (CLOCK_MONOTONIC, 0 = not within the timeout).
 *   scaleload outage HOST PORT MS
 *        for MS milliseconds, a new TCP connection to HOST:PORT every 5 ms
 *        (each a new flow, so each meets the DNAT map); prints ok, fail
 *        and max_gap_ms, the longest time without a connection that went
 *        through (the outage of a restart).
 *   scaleload nftcount [-w EXPECT -t TIMEOUT_MS] FAMILY TABLE SET...
 *        the elements of those sets (one netlink dump each, run in the
 *        gateway); with -w, until they add up to EXPECT: prints count,
 *        dumps, dump_ms (the last dump) and at_ns, when the transaction
 *        that made the count right was committed (0 = never; see
 *        cmd_nftcount()).
 *
 * Options of the load: -i N requests in flight (1..1024, default 16),
 * -t MS timeout per request (1000: then it counts as lost), -l LIFETIME
 * (3600), -d SECONDS budget (60), -u UDP mappings (default TCP), -p PORT
 * of the server (5351), -v a line "answer port=P result=R" per request
 * (result -1: lost) before the summary.  Prints one line: n ok err lost first_err secs
 * rps med_us p99_us max_us stopped=done|budget|dead.  The clock (CLOCK_MONOTONIC)
 * is the same in every network namespace of the host. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "bench.h"
#include "util.h"

#define MAX_INFLIGHT	1024
#define MAX_SRC		1024
#define MAX_COUNT	65536

enum mode { M_EXT, M_MAP, M_UNMAP, M_PCPMAP, M_PCPUNMAP };

static uint32_t inflight = 16, timeout_ms = 1000, lifetime = 3600, budget_s = 60;
static uint16_t server_port = 5351;
static int udp, verbose;

static int
usage(void)
{
	fprintf(stderr,
		"usage: scaleload [-i N] [-t MS] [-l LIFETIME] [-d SECONDS] [-u] [-p PORT]\n"
		"                 GATEWAY map|unmap|pcpmap|pcpunmap|ext SRC NSRC PORT0 COUNT\n"
		"       scaleload echo ADDR [PORT]\n"
		"       scaleload stamp FILE CMD [ARGS...]\n"
		"       scaleload waitup GATEWAY HTTP_PORT TIMEOUT_MS\n"
		"       scaleload outage HOST PORT MS\n"
		"       scaleload nftcount [-w EXPECT -t TIMEOUT_MS] FAMILY TABLE SET...\n");
	return 2;
}

/* ---- the load ---- */

struct load {
	enum mode m;
	struct sockaddr_in gw;
	struct in_addr src0;
	uint32_t nsrc, count;
	uint16_t port0;
	int fd[MAX_SRC];
	struct pollfd pfd[MAX_SRC];
	uint64_t *sent_us;		/* per request; 0 = not outstanding */
	uint32_t *fifo;			/* outstanding requests in send order */
	uint32_t head, tail;		/* fifo ring positions (mod MAX_COUNT) */
	uint32_t *ext_q[MAX_SRC];	/* ext: outstanding per socket, in order */
	uint32_t next, busy, ok, err, lost, lost_row;
	int first_err;
	struct bench_samples lat;
};

static struct in_addr
src_addr(const struct load *ld, uint32_t s)
{
	struct in_addr a = { htonl(ntohl(ld->src0.s_addr) + s) };

	return a;
}

/* Request k into buf; returns its length. */
static size_t
build(const struct load *ld, uint32_t k, uint8_t *buf)
{
	uint16_t port = (uint16_t)(ld->port0 + k);
	bool map = ld->m == M_MAP || ld->m == M_PCPMAP;
	struct in_addr me;

	switch (ld->m) {
	case M_EXT:
		buf[0] = 0;
		buf[1] = 0;
		return 2;
	case M_MAP:
	case M_UNMAP:
		memset(buf, 0, 12);		/* RFC 6886 3.3 */
		buf[1] = udp ? 1 : 2;
		bench_put16(buf + 4, port);
		bench_put16(buf + 6, map ? port : 0);
		bench_put32(buf + 8, map ? lifetime : 0);
		return 12;
	case M_PCPMAP:
	case M_PCPUNMAP:
		memset(buf, 0, 60);		/* RFC 6887 7.1 + 11.1 */
		buf[0] = 2;
		buf[1] = 1;
		bench_put32(buf + 4, map ? lifetime : 0);
		me = src_addr(ld, (ld->port0 + k) % ld->nsrc);
		buf[18] = buf[19] = 0xff;
		memcpy(buf + 20, &me.s_addr, 4);
		memcpy(buf + 24, "igddscal", 8);	/* nonce: "igddscal" + port */
		bench_put32(buf + 32, port);
		buf[36] = udp ? 17 : 6;
		bench_put16(buf + 40, port);
		bench_put16(buf + 42, map ? port : 0);
		buf[52] = buf[53] = 0xff;
		return 60;
	}
	return 0;
}

/* Which request does this answer on socket s answer?  -1: none. */
static int64_t
answer_of(const struct load *ld, uint32_t s, const uint8_t *b, ssize_t n, int *result)
{
	uint32_t k;

	switch (ld->m) {
	case M_EXT:
		if (n < 4 || b[0] != 0 || b[1] != 128)
			return -1;
		*result = bench_get16(b + 2);
		return 0;	/* the caller takes the socket's oldest */
	case M_MAP:
	case M_UNMAP:
		if (n < 16 || b[0] != 0 || (b[1] != 129 && b[1] != 130))
			return -1;
		*result = bench_get16(b + 2);
		k = (uint32_t)(bench_get16(b + 8) - ld->port0);
		break;
	case M_PCPMAP:
	case M_PCPUNMAP:
		if (n < 60 || b[0] != 2 || b[1] != 0x81 || memcmp(b + 24, "igddscal", 8) != 0)
			return -1;
		*result = b[3];
		k = bench_get32(b + 32) - ld->port0;
		break;
	default:
		return -1;
	}
	if (k >= ld->count || (ld->port0 + k) % ld->nsrc != s)
		return -1;
	return k;
}

static int
load_open(struct load *ld)
{
	uint32_t s;

	for (s = 0; s < ld->nsrc; s++) {
		struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr = src_addr(ld, s) };

		ld->fd[s] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (ld->fd[s] < 0 || bind(ld->fd[s], (struct sockaddr *)&me, sizeof(me)) < 0) {
			fprintf(stderr, "scaleload: bind %s: %s\n", inet_ntoa(me.sin_addr),
				strerror(errno));
			return -1;
		}
		ld->pfd[s].fd = ld->fd[s];
		ld->pfd[s].events = POLLIN;
		if (ld->m == M_EXT && (ld->ext_q[s] = calloc(MAX_INFLIGHT + 1, sizeof(uint32_t))) == NULL)
			return -1;
	}
	ld->sent_us = calloc(ld->count, sizeof(*ld->sent_us));
	ld->fifo = calloc(MAX_COUNT, sizeof(*ld->fifo));
	return ld->sent_us != NULL && ld->fifo != NULL ? 0 : -1;
}

/* Request k is over: answered (result >= 0) or lost (-1). */
static void
load_done(struct load *ld, uint32_t k, int result, uint64_t now)
{
	if (verbose)
		printf("answer port=%u result=%d\n", ld->port0 + k, result);
	if (result < 0) {
		ld->lost++;
		ld->lost_row++;
	} else if (result == 0) {
		ld->ok++;
		ld->lost_row = 0;
		bench_add(&ld->lat, now - ld->sent_us[k]);
	} else {
		ld->err++;
		ld->lost_row = 0;
		if (ld->first_err == 0)
			ld->first_err = result;
	}
	ld->sent_us[k] = 0;
	ld->busy--;
}

static void
load_send(struct load *ld, uint64_t now)
{
	while (ld->busy < inflight && ld->next < ld->count) {
		uint32_t k = ld->next++, s = (ld->port0 + k) % ld->nsrc;
		uint8_t buf[64];
		size_t len = build(ld, k, buf);

		ld->sent_us[k] = now ? now : 1;
		ld->busy++;
		ld->fifo[ld->tail++ % MAX_COUNT] = k;
		if (ld->m == M_EXT) {
			uint32_t *q = ld->ext_q[s];
			q[1 + q[0]++] = k;
		}
		if (sendto(ld->fd[s], buf, len, 0, (struct sockaddr *)&ld->gw, sizeof(ld->gw)) < 0)
			load_done(ld, k, -1, now);
	}
}

static void
load_read(struct load *ld, uint32_t s, uint64_t now)
{
	uint8_t b[1100];
	ssize_t n;
	int result;

	while ((n = recv(ld->fd[s], b, sizeof(b), 0)) > 0) {
		int64_t k = answer_of(ld, s, b, n, &result);
		if (k >= 0 && ld->m == M_EXT) {
			uint32_t *q = ld->ext_q[s];
			if (q[0] == 0)
				continue;
			k = q[1];
			memmove(q + 1, q + 2, (q[0] - 1) * sizeof(*q));
			q[0]--;
		}
		if (k >= 0 && ld->sent_us[k] != 0)
			load_done(ld, (uint32_t)k, result, now);
	}
}

/* Requests past their timeout are lost (the oldest first). */
static void
load_expire(struct load *ld, uint64_t now)
{
	while (ld->head != ld->tail) {
		uint32_t k = ld->fifo[ld->head % MAX_COUNT];
		if (ld->sent_us[k] != 0) {
			if (now - ld->sent_us[k] < timeout_ms * 1000ull)
				return;
			if (ld->m == M_EXT) {
				uint32_t *q = ld->ext_q[(ld->port0 + k) % ld->nsrc];
				if (q[0] > 0) {
					memmove(q + 1, q + 2, (q[0] - 1) * sizeof(*q));
					q[0]--;
				}
			}
			load_done(ld, k, -1, now);
		}
		ld->head++;
	}
}

static int
cmd_load(struct load *ld)
{
	uint64_t start = bench_now_us(), stop_at = start + (uint64_t)budget_s * 1000000u;
	const char *stopped = "done";
	double secs;
	uint32_t s;

	if (load_open(ld) < 0)
		return 1;
	start = bench_now_us();
	for (;;) {
		uint64_t now = bench_now_us();
		int r;

		if (ld->lost_row >= 50) {
			stopped = "dead";
			ld->count = ld->next;	/* start no more */
		} else if (now >= stop_at && ld->next < ld->count) {
			stopped = "budget";
			ld->count = ld->next;
		}
		load_send(ld, now);
		if (ld->busy == 0)
			break;
		r = poll(ld->pfd, ld->nsrc, 5);
		if (r < 0 && errno != EINTR) {
			perror("scaleload: poll");
			return 1;
		}
		now = bench_now_us();
		for (s = 0; r > 0 && s < ld->nsrc; s++)
			if (ld->pfd[s].revents & (POLLIN | POLLERR))
				load_read(ld, s, now);
		load_expire(ld, now);
	}
	secs = (double)(bench_now_us() - start) / 1e6;
	printf("n=%u ok=%u err=%u lost=%u first_err=%d secs=%.3f rps=%.0f med_us=%u p99_us=%u "
	       "max_us=%u stopped=%s\n", ld->next, ld->ok, ld->err, ld->lost, ld->first_err, secs,
	       secs > 0 ? ld->ok / secs : 0, bench_pct(&ld->lat, 0, 50), bench_pct(&ld->lat, 0, 99),
	       bench_pct(&ld->lat, 0, 100), stopped);
	return 0;
}

/* ---- the no-op server ---- */

/* A success answer to req (n bytes) into out; its length, 0 = none. */
static size_t
echo_answer(const uint8_t *req, size_t n, uint8_t *out)
{
	if (n >= 2 && req[0] == 0 && req[1] == 0) {
		memset(out, 0, 12);
		out[1] = 128;
		bench_put32(out + 4, 1);
		out[8] = 192, out[9] = 0, out[10] = 2, out[11] = 1;
		return 12;
	}
	if (n >= 12 && req[0] == 0 && (req[1] == 1 || req[1] == 2)) {
		memset(out, 0, 16);
		out[1] = (uint8_t)(128 + req[1]);
		bench_put32(out + 4, 1);
		memcpy(out + 8, req + 4, 2);
		memcpy(out + 10, bench_get16(req + 6) ? req + 6 : req + 4, 2);
		memcpy(out + 12, req + 8, 4);
		return 16;
	}
	if (n >= 60 && req[0] == 2 && (req[1] & 0x7f) == 1) {
		memcpy(out, req, 60);
		out[1] = 0x81;
		out[2] = out[3] = 0;
		bench_put32(out + 8, 1);
		memset(out + 12, 0, 12);
		return 60;
	}
	return 0;
}

static int
cmd_echo(const char *addr, uint16_t port)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_port = htons(port) };
	static uint8_t in[64][1100], out[64][64];
	static struct sockaddr_in from[64];
	struct mmsghdr mm[64], ans[64];
	struct iovec iov[64], oiov[64];
	int fd, i, n, k;

	if (inet_pton(AF_INET, addr, &me.sin_addr) != 1)
		return usage();
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("scaleload echo: bind");
		return 1;
	}
	for (;;) {
		memset(mm, 0, sizeof(mm));
		for (i = 0; i < 64; i++) {
			iov[i].iov_base = in[i];
			iov[i].iov_len = sizeof(in[i]);
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof(from[i]);
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(fd, mm, 64, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("scaleload echo: recvmmsg");
			return 1;
		}
		memset(ans, 0, sizeof(ans));
		for (i = 0, k = 0; i < n; i++) {
			size_t len = echo_answer(in[i], mm[i].msg_len, out[k]);
			if (len == 0)
				continue;
			oiov[k].iov_base = out[k];
			oiov[k].iov_len = len;
			ans[k].msg_hdr.msg_name = &from[i];
			ans[k].msg_hdr.msg_namelen = sizeof(from[i]);
			ans[k].msg_hdr.msg_iov = &oiov[k];
			ans[k].msg_hdr.msg_iovlen = 1;
			k++;
		}
		if (k > 0 && sendmmsg(fd, ans, (unsigned)k, 0) < 0)
			perror("scaleload echo: sendmmsg");
	}
}

/* ---- restart clocks ---- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmd_stamp(const char *file, char **argv)
{
	char buf[32];
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || str_printf(buf, sizeof(buf), "%llu\n", (unsigned long long)now_ns()) < 0 ||
	    write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf) || close(fd) < 0) {
		perror("scaleload stamp");
		return 1;
	}
	execvp(argv[0], argv);
	perror("scaleload stamp: exec");
	return 127;
}

/* One HTTP try: connect, GET /rootDesc.xml, a 200 within 200 ms.  1 yes. */
static int
http_try(const struct sockaddr_in *sa)
{
	char req[128];
	uint64_t deadline = bench_now_us() + 200000;
	char buf[64];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), ok = 0;
	size_t got = 0;

	if (fd < 0)
		return 0;
	/* the Host header names the gateway (igdd refuses other names) */
	if (str_printf(req, sizeof(req), "GET /rootDesc.xml HTTP/1.1\r\nHost: %s:%u\r\n"
		       "Connection: close\r\n\r\n", inet_ntoa(sa->sin_addr), ntohs(sa->sin_port)) < 0) {
		close(fd);
		return 0;
	}
	if ((connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EINPROGRESS) &&
	    bench_wait(fd, POLLOUT, deadline) > 0 &&
	    send(fd, req, strlen(req), MSG_NOSIGNAL) == (ssize_t)strlen(req)) {
		while (got < 12 && bench_wait(fd, POLLIN, deadline) > 0) {
			ssize_t n = recv(fd, buf + got, sizeof(buf) - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		ok = got >= 12 && memcmp(buf, "HTTP/1.1 200", 12) == 0;
	}
	close(fd);
	return ok;
}

static int
cmd_waitup(const char *gw, uint16_t http_port, uint32_t tmo_ms)
{
	struct sockaddr_in pmp = { .sin_family = AF_INET, .sin_port = htons(5351) };
	struct sockaddr_in http = { .sin_family = AF_INET, .sin_port = htons(http_port) };
	uint64_t end = now_ns() + (uint64_t)tmo_ms * 1000000u, pmp_up = 0, http_up = 0;
	uint64_t next_http = 0;
	uint8_t req[2] = { 0, 0 }, b[64];
	int fd;

	if (inet_pton(AF_INET, gw, &pmp.sin_addr) != 1)
		return usage();
	http.sin_addr = pmp.sin_addr;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	while ((pmp_up == 0 || http_up == 0) && now_ns() < end) {
		struct timespec ts = { 0, 2000000 };
		ssize_t n;

		if (pmp_up == 0) {
			sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&pmp, sizeof(pmp));
			nanosleep(&ts, NULL);
			while ((n = recv(fd, b, sizeof(b), 0)) > 0 || (n < 0 && errno == ECONNREFUSED))
				if (n >= 4 && b[1] == 128 && pmp_up == 0)
					pmp_up = now_ns();
		} else {
			nanosleep(&ts, NULL);
		}
		if (http_up == 0 && now_ns() >= next_http) {
			next_http = now_ns() + 5000000;
			if (http_try(&http))
				http_up = now_ns();
		}
	}
	printf("pmp_up_ns=%llu http_up_ns=%llu\n", (unsigned long long)pmp_up,
	       (unsigned long long)http_up);
	return 0;
}

/* One connection within 50 ms: 1 when the handshake completed. */
static int
conn_try(const struct sockaddr_in *sa)
{
	struct linger lg = { 1, 0 };	/* closed with a reset: no TIME_WAIT */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), ok = 0, e = 0;
	socklen_t el = sizeof(e);

	if (fd < 0)
		return 0;
	if ((connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 || errno == EINPROGRESS) &&
	    bench_wait(fd, POLLOUT, bench_now_us() + 50000) > 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0)
		ok = 1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return ok;
}

static int
cmd_outage(const char *host, uint16_t port, uint32_t ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)ms * 1000000u, last = t0, gap = 0, t;
	uint32_t ok = 0, fail = 0;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return usage();
	while ((t = now_ns()) < end) {
		struct timespec ts = { 0, 5000000 };

		if (conn_try(&sa)) {
			ok++;
			t = now_ns();
			if (t - last > gap)
				gap = t - last;
			last = t;
		} else {
			fail++;
		}
		nanosleep(&ts, NULL);
	}
	if (now_ns() - last > gap)
		gap = now_ns() - last;
	printf("ok=%u fail=%u max_gap_ms=%.1f\n", ok, fail, (double)gap / 1e6);
	return 0;
}

/* ---- kernel element counts ---- */

static int
count_elem_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NFTA_LIST_ELEM)
		(*(uint64_t *)data)++;
	return MNL_CB_OK;
}

static int
count_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_parse_nested(a, count_elem_cb, data);
	return MNL_CB_OK;
}

/* Elements in one set: a GETSETELEM dump.  -1 on error. */
static int64_t
set_count(struct mnl_socket *nl, uint16_t family, const char *table, const char *set, char *buf,
	  size_t size)
{
	static uint32_t seq = 1;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	uint64_t n = 0;
	ssize_t got;
	int rc;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETSETELEM;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = (uint8_t)family;
	g->version = NFNETLINK_V0;
	g->res_id = 0;
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	while ((got = mnl_socket_recvfrom(nl, buf, size)) > 0) {
		rc = mnl_cb_run(buf, (size_t)got, seq, mnl_socket_get_portid(nl), count_msg_cb, &n);
		if (rc == MNL_CB_STOP)
			return (int64_t)n;
		if (rc < 0)
			return errno == ENOENT ? 0 : -1;
	}
	return -1;
}

/* The ruleset's generation (NFT_MSG_GETGEN): it moves with every
 * committed transaction.  0 on error. */
static uint32_t
gen_id(struct mnl_socket *nl, char *buf, size_t size)
{
	static _Thread_local uint32_t seq = 1 << 30;	/* nftcount's two threads */
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;
	uint32_t gen = 0;
	ssize_t got;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETGEN;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return 0;
	while ((got = mnl_socket_recvfrom(nl, buf, size)) > 0) {
		struct nlmsghdr *h;
		int left = (int)got;

		for (h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left)) {
			struct nlattr *a;

			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR)
				return gen;
			mnl_attr_for_each(a, h, sizeof(struct nfgenmsg))
				if (mnl_attr_get_type(a) == NFTA_GEN_ID)
					gen = ntohl(mnl_attr_get_u32(a));
		}
	}
	return gen;
}

static int64_t
sets_count(struct mnl_socket *nl, uint16_t family, char **names, int n, char *buf, size_t size)
{
	int64_t total = 0, c;
	int i;

	for (i = 1; i < n; i++) {
		if ((c = set_count(nl, family, names[0], names[i], buf, size)) < 0)
			return -1;
		total += c;
	}
	return total;
}

/* The generation's watcher for nftcount -w: a thread of its own reads
 * the generation every millisecond, also while the main thread's dump
 * runs (a GETGEN needs no lock the dump holds), and notes when it last
 * moved.  Read from the dump's side, this was wrong by up to two dumps'
 * length when a commit came during one: its move was seen only after. */
struct gen_watch {
	pthread_mutex_t mu;
	uint32_t gen;		/* the last generation read */
	uint64_t changed;	/* when it was first read (ns) */
	bool stop;
};

static void *
gen_watch_run(void *arg)
{
	static char buf[8192];
	struct gen_watch *w = arg;
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);

	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("scaleload nftcount: netlink");
		exit(1);
	}
	for (;;) {
		struct timespec ts = { 0, 1000000 };
		uint32_t g = gen_id(nl, buf, sizeof(buf));
		bool stop;

		pthread_mutex_lock(&w->mu);
		if (g != 0 && g != w->gen) {
			w->gen = g;
			w->changed = now_ns();
		}
		stop = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
		nanosleep(&ts, NULL);
	}
	mnl_socket_close(nl);
	return NULL;
}

/* With -w: the sets are dumped (O(n)) once the generation has not moved
 * for 100 ms (the watcher's clock); the count is right when such a dump
 * says EXPECT and the generation did not move during it (GETGEN before
 * and after, on the dump's socket): at_ns is then when the generation
 * last moved, to within a millisecond, not when the slow dump ended. */
static int
cmd_nftcount(int argc, char **argv)
{
	static char buf[1 << 20];
	struct gen_watch w = { .mu = PTHREAD_MUTEX_INITIALIZER };
	uint64_t expect = 0, at = 0, dumps = 0, end, t0 = 0, t1 = 0, next_dump = 0;
	uint32_t tmo = 0;
	uint16_t family;
	int64_t total = 0;
	struct mnl_socket *nl;
	pthread_t th;
	int o;

	optind = 1;
	while ((o = getopt(argc, argv, "w:t:")) != -1) {
		uint32_t v;
		if ((o != 'w' && o != 't') || parse_u32(optarg, 0, 100000000, &v) < 0)
			return usage();
		if (o == 'w')
			expect = v;
		else
			tmo = v;
	}
	argc -= optind;
	argv += optind;
	if (argc < 3)
		return usage();
	family = strcmp(argv[0], "inet") == 0 ? NFPROTO_INET : strcmp(argv[0], "ip") == 0 ?
		 NFPROTO_IPV4 : NFPROTO_UNSPEC;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("scaleload nftcount: netlink");
		return 1;
	}
	if (expect == 0) {
		total = sets_count(nl, family, argv + 1, argc - 1, buf, sizeof(buf));
		printf("count=%lld dumps=1\n", (long long)total);
		mnl_socket_close(nl);
		return 0;
	}
	end = now_ns() + (uint64_t)tmo * 1000000u;
	w.gen = gen_id(nl, buf, sizeof(buf));
	w.changed = now_ns();
	if (pthread_create(&th, NULL, gen_watch_run, &w) != 0) {
		perror("scaleload nftcount: thread");
		return 1;
	}
	for (;;) {
		struct timespec ts = { 0, 1000000 };
		uint64_t changed;
		uint32_t g1, g2;

		pthread_mutex_lock(&w.mu);
		changed = w.changed;
		pthread_mutex_unlock(&w.mu);
		if (now_ns() - changed >= 100000000u && now_ns() >= next_dump) {
			g1 = gen_id(nl, buf, sizeof(buf));
			t0 = now_ns();
			total = sets_count(nl, family, argv + 1, argc - 1, buf, sizeof(buf));
			t1 = now_ns();
			dumps++;
			g2 = gen_id(nl, buf, sizeof(buf));
			next_dump = now_ns() + 50000000u;
			if (g1 != 0 && g1 == g2 && total == (int64_t)expect) {
				/* g1 not yet seen by the watcher: it came within
				 * its last millisecond before the dump */
				pthread_mutex_lock(&w.mu);
				at = w.gen == g1 ? w.changed : t0;
				pthread_mutex_unlock(&w.mu);
				break;
			}
		}
		if (now_ns() >= end)
			break;
		nanosleep(&ts, NULL);
	}
	pthread_mutex_lock(&w.mu);
	w.stop = true;
	pthread_mutex_unlock(&w.mu);
	pthread_join(th, NULL);
	printf("count=%lld dumps=%llu dump_ms=%.1f at_ns=%llu\n", (long long)total,
	       (unsigned long long)dumps, (double)(t1 - t0) / 1e6, (unsigned long long)at);
	mnl_socket_close(nl);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct load ld;
	uint32_t v;
	int o;

	if (argc >= 2 && strcmp(argv[1], "nftcount") == 0)
		return cmd_nftcount(argc - 1, argv + 1);
	if (argc >= 4 && strcmp(argv[1], "stamp") == 0)
		return cmd_stamp(argv[2], argv + 3);
	while ((o = getopt(argc, argv, "+i:t:l:d:up:v")) != -1) {
		if (o == 'u' || o == 'v') {
			*(o == 'u' ? &udp : &verbose) = 1;
			continue;
		}
		if (o == 'p') {
			if (parse_u16(optarg, 1, 65535, &server_port) < 0)
				return usage();
			continue;
		}
		if (parse_u32(optarg, o == 'l' ? 0 : 1, o == 'i' ? MAX_INFLIGHT : 100000000, &v) < 0)
			return usage();
		switch (o) {
		case 'i': inflight = v; break;
		case 't': timeout_ms = v; break;
		case 'l': lifetime = v; break;
		case 'd': budget_s = v; break;
		default: return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc >= 2 && argc <= 3 && strcmp(argv[0], "echo") == 0) {
		uint16_t p = 5351;
		if (argc == 3 && parse_u16(argv[2], 1, 65535, &p) < 0)
			return usage();
		return cmd_echo(argv[1], p);
	}
	if (argc == 4 && strcmp(argv[0], "outage") == 0) {
		uint16_t op;
		if (parse_u16(argv[2], 1, 65535, &op) < 0 || parse_u32(argv[3], 1, 600000, &v) < 0)
			return usage();
		return cmd_outage(argv[1], op, v);
	}
	if (argc == 4 && strcmp(argv[0], "waitup") == 0) {
		uint16_t hp;
		if (parse_u16(argv[2], 1, 65535, &hp) < 0 || parse_u32(argv[3], 1, 600000, &v) < 0)
			return usage();
		return cmd_waitup(argv[1], hp, v);
	}
	if (argc != 6)
		return usage();
	ld.gw.sin_family = AF_INET;
	ld.gw.sin_port = htons(server_port);
	if (inet_pton(AF_INET, argv[0], &ld.gw.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[2], &ld.src0) != 1 ||
	    parse_u32(argv[3], 1, MAX_SRC, &ld.nsrc) < 0 ||
	    parse_u16(argv[4], 1, 65535, &ld.port0) < 0 ||
	    parse_u32(argv[5], 1, MAX_COUNT, &ld.count) < 0 ||
	    ld.port0 + ld.count > 65536)
		return usage();
	if (strcmp(argv[1], "ext") == 0)
		ld.m = M_EXT;
	else if (strcmp(argv[1], "map") == 0)
		ld.m = M_MAP;
	else if (strcmp(argv[1], "unmap") == 0)
		ld.m = M_UNMAP;
	else if (strcmp(argv[1], "pcpmap") == 0)
		ld.m = M_PCPMAP;
	else if (strcmp(argv[1], "pcpunmap") == 0)
		ld.m = M_PCPUNMAP;
	else
		return usage();
	if (ld.m == M_EXT && inflight > ld.nsrc * MAX_INFLIGHT)
		return usage();
	return cmd_load(&ld);
}
