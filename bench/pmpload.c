/* pmpload.c - NAT-PMP (RFC 6886) and PCP (RFC 6887) load, spoken directly.
 *
 *   pmpload [opts] GATEWAY ext                  external address requests
 *   pmpload [opts] GATEWAY map PORT             NAT-PMP TCP mappings of
 *        internal PORT, PORT+1, ... (-n of them), suggested external = internal
 *   pmpload [opts] GATEWAY unmap PORT           the same with lifetime 0
 *   pmpload [opts] GATEWAY pcpmap PORT CLIENT   PCP MAP, CLIENT = our own
 *        LAN address (the PCP client IP field, RFC 6887 8.1)
 *   pmpload [opts] GATEWAY pcpunmap PORT CLIENT
 *
 * Options: -i N requests in flight (one socket each, default 1), -n COUNT
 * (default 1000), -d SECONDS (stop starting requests after it, default 30),
 * -t MS per-request timeout (default 1000; a request without an answer is
 * counted as lost and the next one goes), -l LIFETIME (default 3600),
 * -b BURSTS of -m MS each with -g GAP_MS between them (default one burst,
 * as long as -d; the requests in flight are answered before a gap),
 * -2 GATEWAY2: with -b, BURSTS bursts at each gateway, taking turns
 * A B B A A B ... (two daemons measured in the same moments).
 * Prints one line: n secs stopped=done|budget|dead, then ok err lost
 * first_err rps med_us p99_us max_us; with -b also bursts, burst_rps (each
 * burst's rate, comma-separated) and burst_med_rps (their median, nearest
 * rank); rps is then ok over the bursts' time, gaps left out.  With -2 those
 * come twice, as a_NAME (GATEWAY) and b_NAME (GATEWAY2), followed by
 * pair_ratio_med, the median of A's k-th burst rate over B's k-th (the two
 * are neighbours in time).  Answers are matched to requests (internal port,
 * PCP nonce), so a late answer to a lost request is not miscounted. */
#include <arpa/inet.h>
#include <time.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

#define MAX_INFLIGHT 256

enum mode { M_EXT, M_MAP, M_UNMAP, M_PCPMAP, M_PCPUNMAP };

struct slot {
	int fd;
	int busy;
	uint64_t sent_us;
	uint16_t port;		/* internal port asked for */
	uint8_t nonce[12];
};

static uint32_t inflight = 1, count = 1000, duration_s = 30, timeout_ms = 1000;
static uint32_t lifetime = 3600, bursts = 1, burst_ms = 250, gap_ms = 100;

static int
usage(void)
{
	fprintf(stderr, "usage: pmpload [-i INFLIGHT] [-n COUNT] [-d SECONDS] [-t MS] [-l LIFETIME]\n"
		"               [-b BURSTS -m BURST_MS -g GAP_MS [-2 GATEWAY2]]\n"
		"               GATEWAY ext | map PORT | unmap PORT | pcpmap PORT CLIENT |\n"
		"               pcpunmap PORT CLIENT\n");
	return 2;
}

/* Build request for slot into buf; returns its length. */
static size_t
build(enum mode m, struct slot *s, const struct in_addr *client, uint8_t *buf)
{
	size_t i;

	switch (m) {
	case M_EXT:
		buf[0] = 0;	/* version 0, opcode 0 (RFC 6886 3.2) */
		buf[1] = 0;
		return 2;
	case M_MAP:
	case M_UNMAP:
		memset(buf, 0, 12);	/* RFC 6886 3.3 */
		buf[1] = 2;		/* TCP */
		bench_put16(buf + 4, s->port);
		bench_put16(buf + 6, m == M_MAP ? s->port : 0);
		bench_put32(buf + 8, m == M_MAP ? lifetime : 0);
		return 12;
	case M_PCPMAP:
	case M_PCPUNMAP:
		memset(buf, 0, 60);	/* RFC 6887 7.1 header + 11.1 MAP */
		buf[0] = 2;
		buf[1] = 1;		/* R=0, MAP */
		bench_put32(buf + 4, m == M_PCPMAP ? lifetime : 0);
		buf[18] = 0xff;		/* client IP as IPv4-mapped IPv6 */
		buf[19] = 0xff;
		memcpy(buf + 20, &client->s_addr, 4);
		/* the nonce names the mapping's owner (RFC 6887 11.1): derive
		 * it from the port so pcpunmap can delete what pcpmap made */
		for (i = 0; i < 10; i++)
			s->nonce[i] = (uint8_t)"igddbench!"[i];
		bench_put16(s->nonce + 10, s->port);
		memcpy(buf + 24, s->nonce, 12);
		buf[36] = 6;		/* TCP */
		bench_put16(buf + 40, s->port);
		bench_put16(buf + 42, m == M_PCPMAP ? s->port : 0);
		buf[52] = 0xff;		/* suggested external ::ffff:0.0.0.0 */
		buf[53] = 0xff;
		return 60;
	}
	return 0;
}

/* Does this answer belong to the slot's request?  Sets *result. */
static int
match(enum mode m, const struct slot *s, const uint8_t *b, ssize_t n, int *result)
{
	switch (m) {
	case M_EXT:
		if (n < 4 || b[0] != 0 || b[1] != 128)
			return 0;
		*result = bench_get16(b + 2);
		return 1;
	case M_MAP:
	case M_UNMAP:
		if (n < 4 || b[0] != 0 || b[1] != 130)
			return 0;
		*result = bench_get16(b + 2);
		/* an error answer may be short; a full one names the port */
		return n < 16 || bench_get16(b + 8) == s->port;
	case M_PCPMAP:
	case M_PCPUNMAP:
		if (n < 4 || b[0] != 2 || b[1] != 0x81)
			return 0;
		*result = b[3];
		return n < 60 || memcmp(b + 24, s->nonce, 12) == 0;
	}
	return 0;
}

/* One gateway's sockets and results. */
struct target {
	struct sockaddr_in gw;
	struct slot slots[MAX_INFLIGHT];
	struct pollfd pfd[MAX_INFLIGHT];
	uint32_t ok, err, lost;
	int first_err;
	uint64_t busy_us;		/* time in its bursts */
	struct bench_samples lat;	/* answered requests, microseconds */
	struct bench_samples brps;	/* each burst's rate, requests/s */
};

static int
open_target(struct target *t)
{
	uint32_t o;

	for (o = 0; o < inflight; o++) {
		t->slots[o].fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (t->slots[o].fd < 0 ||
		    connect(t->slots[o].fd, (struct sockaddr *)&t->gw, sizeof(t->gw)) < 0) {
			perror("pmpload: socket");
			return -1;
		}
		t->slots[o].busy = 0;
		t->pfd[o].fd = t->slots[o].fd;
		t->pfd[o].events = POLLIN;
	}
	return 0;
}

/* Its summary fields, each name after prefix P ("" or "a_" / "b_"). */
static void
print_target(const char *p, const struct target *t, double on)
{
	size_t i;

	printf(" %sok=%u %serr=%u %slost=%u %sfirst_err=%d %srps=%.0f %smed_us=%u %sp99_us=%u "
	       "%smax_us=%u", p, t->ok, p, t->err, p, t->lost, p, t->first_err, p,
	       on > 0 ? t->ok / on : 0, p, bench_pct(&t->lat, 0, 50), p, bench_pct(&t->lat, 0, 99),
	       p, bench_pct(&t->lat, 0, 100));
	if (bursts < 2)
		return;
	printf(" %sbursts=%zu %sburst_rps=", p, t->brps.n, p);
	for (i = 0; i < t->brps.n; i++)
		printf("%s%u", i ? "," : "", t->brps.v[i]);
	printf(" %sburst_med_rps=%u", p, bench_pct(&t->brps, 0, 50));
}

int
main(int argc, char **argv)
{
	static struct target tg[2];
	struct target *t;
	struct in_addr client = { 0 };
	uint32_t next = 0, busy = 0, lost_row = 0, ntg = 1, k = 0, burst_ok0 = 0, i;
	uint16_t port0 = 0;
	int o;
	uint64_t start, stop_at, burst_t0, burst_end;
	const char *stopped = "done", *second = NULL;
	enum mode m;

	while ((o = getopt(argc, argv, "i:n:d:t:l:b:m:g:2:")) != -1) {
		uint32_t *dst = o == 'i' ? &inflight : o == 'n' ? &count : o == 'd' ? &duration_s :
			o == 't' ? &timeout_ms : o == 'l' ? &lifetime : o == 'b' ? &bursts :
			o == 'm' ? &burst_ms : o == 'g' ? &gap_ms : NULL;

		if (o == '2') {
			second = optarg;
			continue;
		}
		if (dst == NULL || parse_u32(optarg, o == 'l' || o == 'g' ? 0 : 1,
					     o == 'i' ? MAX_INFLIGHT : o == 'b' ? 1000 : 100000000, dst) < 0)
			return usage();
	}
	argc -= optind;
	argv += optind;
	for (i = 0; i < 2; i++) {
		tg[i].gw.sin_family = AF_INET;
		tg[i].gw.sin_port = htons(5351);
	}
	if (argc < 2 || inet_pton(AF_INET, argv[0], &tg[0].gw.sin_addr) != 1)
		return usage();
	if (second != NULL) {
		if (inet_pton(AF_INET, second, &tg[1].gw.sin_addr) != 1 || bursts < 2)
			return usage();
		ntg = 2;
	}
	if (strcmp(argv[1], "ext") == 0 && argc == 2)
		m = M_EXT;
	else if (strcmp(argv[1], "map") == 0 && argc == 3)
		m = M_MAP;
	else if (strcmp(argv[1], "unmap") == 0 && argc == 3)
		m = M_UNMAP;
	else if (strcmp(argv[1], "pcpmap") == 0 && argc == 4)
		m = M_PCPMAP;
	else if (strcmp(argv[1], "pcpunmap") == 0 && argc == 4)
		m = M_PCPUNMAP;
	else
		return usage();
	if (argc >= 3 && parse_u16(argv[2], 1, 65535, &port0) < 0)
		return usage();
	if (argc == 4 && inet_pton(AF_INET, argv[3], &client) != 1)
		return usage();
	if (m != M_EXT && (uint32_t)port0 + count > 65536)
		return usage();
	for (i = 0; i < ntg; i++)
		if (open_target(&tg[i]) < 0)
			return 1;
	t = &tg[0];
	start = bench_now_us();
	stop_at = start + (uint64_t)duration_s * 1000000u;
	burst_t0 = start;
	burst_end = bursts > 1 ? start + burst_ms * 1000ull : stop_at;
	for (;;) {
		uint64_t now = bench_now_us(), wake = now + 1000000;
		int r;

		/* fill idle slots while there is work and time */
		for (o = 0; o < (int)inflight; o++) {
			struct slot *s = &t->slots[o];
			uint8_t buf[64];
			size_t len;

			if (s->busy)
				continue;
			if (next >= count)
				break;
			if (now >= stop_at) {
				stopped = "budget";
				break;
			}
			if (lost_row >= 20) {
				stopped = "dead";
				break;
			}
			if (now >= burst_end)
				break;	/* this burst is over; the next after a gap */
			s->port = (uint16_t)(port0 + (m == M_EXT ? 0 : next));
			len = build(m, s, &client, buf);
			next++;
			s->sent_us = bench_now_us();
			if (send(s->fd, buf, len, 0) < 0) {
				/* ICMP unreachable from an earlier send: nobody listens */
				t->lost++;
				lost_row++;
				continue;
			}
			s->busy = 1;
			busy++;
		}
		if (busy == 0) {
			/* all answered (or lost): the burst ends here */
			t->busy_us += now - burst_t0;
			if (bursts > 1)
				bench_add(&t->brps, now > burst_t0 ?
					  (uint64_t)((t->ok - burst_ok0) * 1e6 / (double)(now - burst_t0)) : 0);
			k++;
			if (k >= bursts * ntg || next >= count || lost_row >= 20 || now >= stop_at) {
				if (k < bursts * ntg && next < count && lost_row < 20)
					stopped = "budget";
				break;
			}
			if (gap_ms > 0) {
				struct timespec ts = { gap_ms / 1000, (long)(gap_ms % 1000) * 1000000L };

				nanosleep(&ts, NULL);
			}
			/* two gateways take turns A B B A A B ..., so a drift
			 * of the machine's speed falls on both alike */
			t = &tg[ntg == 2 ? (k + 1) / 2 % 2 : 0];
			burst_t0 = bench_now_us();
			burst_end = burst_t0 + burst_ms * 1000ull;
			burst_ok0 = t->ok;
			continue;
		}
		for (o = 0; o < (int)inflight; o++)
			if (t->slots[o].busy && t->slots[o].sent_us + timeout_ms * 1000ull < wake)
				wake = t->slots[o].sent_us + timeout_ms * 1000ull;
		r = poll(t->pfd, inflight, bench_left_ms(wake));
		if (r < 0 && errno != EINTR) {
			perror("pmpload: poll");
			return 1;
		}
		now = bench_now_us();
		for (o = 0; o < (int)inflight; o++) {
			struct slot *s = &t->slots[o];

			if (r > 0 && (t->pfd[o].revents & (POLLIN | POLLERR))) {
				uint8_t b[1100];
				ssize_t n = recv(s->fd, b, sizeof(b), 0);
				int result;

				if (n > 0 && s->busy && match(m, s, b, n, &result)) {
					s->busy = 0;
					busy--;
					lost_row = 0;
					if (result == 0) {
						t->ok++;
						bench_add(&t->lat, now - s->sent_us);
					} else {
						t->err++;
						if (t->first_err == 0)
							t->first_err = result;
					}
					continue;
				}
			}
			if (s->busy && now - s->sent_us >= timeout_ms * 1000ull) {
				s->busy = 0;
				busy--;
				t->lost++;
				lost_row++;
			}
		}
	}
	{
		double secs = (double)(bench_now_us() - start) / 1e6;

		printf("n=%u secs=%.3f stopped=%s", next, secs, stopped);
		if (ntg == 1) {
			print_target("", &tg[0], bursts == 1 ? secs : (double)tg[0].busy_us / 1e6);
		} else {
			struct bench_samples ratio = { 0 };

			for (i = 0; i < 2; i++)
				print_target(i ? "b_" : "a_", &tg[i], (double)tg[i].busy_us / 1e6);
			/* the i-th bursts of A and B are neighbours in time */
			for (i = 0; i < tg[0].brps.n && i < tg[1].brps.n; i++)
				if (tg[1].brps.v[i] > 0)
					bench_add(&ratio, (uint64_t)(1000.0 * tg[0].brps.v[i] /
								     tg[1].brps.v[i]));
			printf(" pair_ratio_med=%.3f", bench_pct(&ratio, 0, 50) / 1000.0);
		}
		printf("\n");
	}
	return 0;
}
