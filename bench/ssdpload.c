/* ssdpload.c - SSDP M-SEARCH timing (UDA 1.1 section 1.3.2).
 *
 *   ssdpload [-m MX] [-r REPEAT] [-w MS] IFADDR ST
 *
 * Sends REPEAT multicast M-SEARCHes for ST out of the interface holding
 * IFADDR (IP_MULTICAST_IF: no multicast route needed), one at a time, and
 * collects unicast answers for MX seconds plus MS (default 500) after each.
 * Prints one line: searches answered first_med_ms first_max_ms
 * answers_min answers_med answers_max, and location=URL of the first answer.
 * Bounded: REPEAT * (MX + MS) at most. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

static int
usage(void)
{
	fprintf(stderr, "usage: ssdpload [-m MX] [-r REPEAT] [-w MS] IFADDR ST\n");
	return 2;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in grp = { .sin_family = AF_INET, .sin_port = htons(1900) };
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct bench_samples first = { 0 }, answers = { 0 };
	uint32_t mx = 1, repeat = 5, extra_ms = 500, i, answered = 0;
	char location[256] = "";
	int o;

	while ((o = getopt(argc, argv, "m:r:w:")) != -1) {
		uint32_t *dst = o == 'm' ? &mx : o == 'r' ? &repeat : o == 'w' ? &extra_ms : NULL;

		if (dst == NULL || parse_u32(optarg, o == 'w' ? 0 : 1, o == 'm' ? 5 : 1000, dst) < 0)
			return usage();
	}
	argc -= optind;
	argv += optind;
	if (argc != 2 || inet_pton(AF_INET, argv[0], &me.sin_addr) != 1)
		return usage();
	inet_pton(AF_INET, "239.255.255.250", &grp.sin_addr);
	for (i = 0; i < repeat; i++) {
		char req[512];
		unsigned char ttl = 2;
		uint64_t t0, end;
		uint32_t got = 0;
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof(me)) < 0 ||
		    setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &me.sin_addr, sizeof(me.sin_addr)) < 0 ||
		    setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0) {
			perror("ssdpload: socket");
			return 1;
		}
		str_printf(req, sizeof(req),
			   "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
			   "MAN: \"ssdp:discover\"\r\nMX: %u\r\nST: %s\r\n"
			   "USER-AGENT: Linux/1 UPnP/1.1 ssdpload/1\r\n\r\n", mx, argv[1]);
		t0 = bench_now_us();
		end = t0 + (uint64_t)mx * 1000000u + (uint64_t)extra_ms * 1000u;
		if (sendto(s, req, strlen(req), 0, (struct sockaddr *)&grp, sizeof(grp)) < 0) {
			perror("ssdpload: sendto");
			close(s);
			continue;
		}
		while (bench_wait(s, POLLIN, end) > 0) {
			char b[2048];
			ssize_t n = recv(s, b, sizeof(b) - 1, 0);
			const char *l;

			if (n <= 0)
				continue;
			b[n] = '\0';
			if (strncmp(b, "HTTP/1.1 200", 12) != 0)
				continue;
			if (got++ == 0) {
				bench_add(&first, bench_now_us() - t0);
				answered++;
			}
			l = strcasestr(b, "\r\nLOCATION:");
			if (location[0] == '\0' && l != NULL) {
				const char *e;

				l += 11;
				while (*l == ' ')
					l++;
				e = strstr(l, "\r\n");
				if (e != NULL)
					str_copy_n(location, sizeof(location), l, (size_t)(e - l));
			}
		}
		bench_add(&answers, got);
		close(s);
	}
	printf("searches=%u answered=%u first_med_ms=%.1f first_max_ms=%.1f answers_min=%u "
	       "answers_med=%u answers_max=%u location=%s\n", repeat, answered,
	       bench_pct(&first, 0, 50) / 1000.0, bench_pct(&first, 0, 100) / 1000.0,
	       bench_pct(&answers, 0, 0), bench_pct(&answers, 0, 50),
	       bench_pct(&answers, 0, 100), location[0] ? location : "-");
	return 0;
}
