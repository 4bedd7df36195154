/* connload.c - new-connection time through a mapped port.
 *
 *   connload [-n COUNT] [-w WARMUP] [-b BURSTS] [-g GAP_MS] [-t MS] [-d SECONDS]
 *            HOST PORT
 *
 * WARMUP connections first (default 0), not counted anywhere, then COUNT
 * sequential TCP connections to HOST:PORT (the gateway's external
 * address from the outside host); each is timed from connect() to the
 * handshake's end, then to the first byte of the LAN listener's answer
 * (tests/tools/probe listen), and closed with a reset so no TIME_WAIT piles
 * up.  With -b, the COUNT connections are made in BURSTS bursts with GAP_MS
 * (default 150) of sleep between them, so that they sample more than one
 * moment of a shared machine (on a 2-core VM a burst's median is ~75 or
 * ~110 us depending on the moment, at the same table size).
 * Prints one line: warmup n ok fail conn_med_us conn_p99_us conn_mean_us
 * first_byte_med_us, the median over all the bursts' connections, and with
 * -b also burst_meds (each burst's median, comma-separated).  Bounded by
 * -t per connection and -d in total. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

static int
usage(void)
{
	fprintf(stderr, "usage: connload [-n COUNT] [-w WARMUP] [-b BURSTS] [-g GAP_MS] [-t MS] "
		"[-d SECONDS] HOST PORT\n");
	return 2;
}

/* One connection: 0 when the handshake completed (its time in *conn_us)
 * and the listener's first byte came (its time from the start in
 * *byte_us, else 0), -1 when the connection failed. */
static int
conn_once(const struct sockaddr_in *sin, uint32_t timeout_ms, uint64_t *conn_us, uint64_t *byte_us)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0, rc = -1;
	socklen_t el = sizeof(e);
	uint64_t t0, deadline;
	char b[64];

	if (s < 0) {
		perror("connload: socket");
		exit(1);
	}
	*byte_us = 0;
	t0 = bench_now_us();
	deadline = t0 + timeout_ms * 1000ull;
	if ((connect(s, (const struct sockaddr *)sin, sizeof(*sin)) == 0 || errno == EINPROGRESS) &&
	    bench_wait(s, POLLOUT, deadline) > 0 &&
	    getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) == 0 && e == 0) {
		*conn_us = bench_now_us() - t0;
		rc = 0;
		if (bench_wait(s, POLLIN, deadline) > 0 && recv(s, b, sizeof(b), 0) > 0)
			*byte_us = bench_now_us() - t0;
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(s);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct bench_samples conn = { 0 }, byte = { 0 };
	uint32_t count = 500, warmup = 0, bursts = 1, gap_ms = 150, timeout_ms = 2000, duration_s = 60;
	uint32_t i = 0, k, fail = 0;
	size_t from[65];
	uint64_t stop_at, c_us, b_us;
	uint16_t port;
	int o;

	while ((o = getopt(argc, argv, "n:w:b:g:t:d:")) != -1) {
		uint32_t *dst = o == 'n' ? &count : o == 'w' ? &warmup : o == 'b' ? &bursts :
				o == 'g' ? &gap_ms : o == 't' ? &timeout_ms : o == 'd' ? &duration_s : NULL;

		if (dst == NULL ||
		    parse_u32(optarg, o == 'w' || o == 'g' ? 0 : 1, o == 'b' ? 64 : 1000000, dst) < 0)
			return usage();
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || inet_pton(AF_INET, argv[0], &sin.sin_addr) != 1 ||
	    parse_u16(argv[1], 1, 65535, &port) < 0 || bursts > count)
		return usage();
	sin.sin_port = htons(port);
	stop_at = bench_now_us() + (uint64_t)duration_s * 1000000u;
	/* The warm-up: same path, nothing recorded (the first connections may
	 * pay for neighbour resolution, cold caches, a scheduler wake-up);
	 * 3 failures end it, the counted loop then tells what is wrong. */
	for (k = 0; k < warmup && fail < 3 && bench_now_us() < stop_at; k++)
		if (conn_once(&sin, timeout_ms, &c_us, &b_us) < 0 || b_us == 0)
			fail++;
	fail = 0;
	for (k = 0; k < bursts;) {
		uint32_t end = (uint32_t)((uint64_t)count * (k + 1) / bursts);

		if (k > 0 && gap_ms > 0)
			usleep(gap_ms * 1000u);
		from[k] = conn.n;
		for (; i < end && bench_now_us() < stop_at && fail < 20 + i / 10; i++) {
			if (conn_once(&sin, timeout_ms, &c_us, &b_us) < 0) {
				fail++;
				continue;
			}
			bench_add(&conn, c_us);
			if (b_us > 0)
				bench_add(&byte, b_us);
			else
				fail++;
		}
		k++;
		if (i < end)
			break;		/* out of time, or failing: no more bursts */
	}
	bursts = k;
	from[bursts] = conn.n;
	printf("warmup=%u n=%u ok=%zu fail=%u conn_med_us=%u conn_p99_us=%u conn_mean_us=%.0f "
	       "first_byte_med_us=%u", warmup, i, conn.n, fail, bench_pct(&conn, 0, 50),
	       bench_pct(&conn, 0, 99), bench_mean(&conn, 0), bench_pct(&byte, 0, 50));
	if (bursts > 1) {
		printf(" bursts=%u burst_meds=", bursts);
		for (k = 0; k < bursts; k++) {
			struct bench_samples seg = { .v = conn.v + from[k], .n = from[k + 1] - from[k] };

			printf("%s%u", k > 0 ? "," : "", bench_pct(&seg, 0, 50));
		}
	}
	printf("\n");
	return 0;
}
