/* connload.c - new-connection time through a mapped port.
 *
 *   connload [-n COUNT] [-t MS] [-d SECONDS] HOST PORT
 *
 * COUNT sequential TCP connections to HOST:PORT (the gateway's external
 * address from the outside host); each is timed from connect() to the
 * handshake's end, then to the first byte of the LAN listener's answer
 * (tests/tools/probe listen), and closed with a reset so no TIME_WAIT piles
 * up.  Prints one line: n ok fail conn_med_us conn_p99_us conn_mean_us
 * first_byte_med_us.  Bounded by -t per connection and -d in total. */
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
	fprintf(stderr, "usage: connload [-n COUNT] [-t MS] [-d SECONDS] HOST PORT\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct bench_samples conn = { 0 }, byte = { 0 };
	uint32_t count = 500, timeout_ms = 2000, duration_s = 60, i, fail = 0;
	uint16_t port;
	uint64_t stop_at;
	int o;

	while ((o = getopt(argc, argv, "n:t:d:")) != -1) {
		uint32_t *dst = o == 'n' ? &count : o == 't' ? &timeout_ms : o == 'd' ? &duration_s : NULL;

		if (dst == NULL || parse_u32(optarg, 1, 1000000, dst) < 0)
			return usage();
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || inet_pton(AF_INET, argv[0], &sin.sin_addr) != 1 ||
	    parse_u16(argv[1], 1, 65535, &port) < 0)
		return usage();
	sin.sin_port = htons(port);
	stop_at = bench_now_us() + (uint64_t)duration_s * 1000000u;
	for (i = 0; i < count && bench_now_us() < stop_at && fail < 20 + i / 10; i++) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), e = 0;
		socklen_t el = sizeof(e);
		uint64_t t0, deadline, t1;
		char b[64];

		if (s < 0) {
			perror("connload: socket");
			return 1;
		}
		t0 = bench_now_us();
		deadline = t0 + timeout_ms * 1000ull;
		if ((connect(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS) ||
		    bench_wait(s, POLLOUT, deadline) <= 0 ||
		    getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e != 0) {
			fail++;
			close(s);
			continue;
		}
		t1 = bench_now_us();
		bench_add(&conn, t1 - t0);
		if (bench_wait(s, POLLIN, deadline) > 0 && recv(s, b, sizeof(b), 0) > 0)
			bench_add(&byte, bench_now_us() - t0);
		else
			fail++;
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(s);
	}
	printf("n=%u ok=%zu fail=%u conn_med_us=%u conn_p99_us=%u conn_mean_us=%.0f "
	       "first_byte_med_us=%u\n", i, conn.n, fail, bench_pct(&conn, 0, 50),
	       bench_pct(&conn, 0, 99), bench_mean(&conn, 0), bench_pct(&byte, 0, 50));
	return 0;
}
