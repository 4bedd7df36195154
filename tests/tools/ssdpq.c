/* ssdpq.c - SSDP from a lab namespace.
 *
 *   ssdpq search ST [MX] [DEST] [WAIT_MS]  send an M-SEARCH (to DEST, default
 *        239.255.255.250, port 1900) and print every answer with the time
 *        it took ("--- answer from A:P after N ms"); exit 0 if any came
 *   ssdpq raw DEST [WAIT_MS]               send stdin as one datagram to
 *        DEST:1900 and print answers the same way
 *   ssdpq listen SECONDS                   join 239.255.255.250:1900 and
 *        print every NOTIFY ("--- notify from A:P"), for SECONDS
 *
 * Bounded in time, so a test can never hang on it. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static int
usage(void)
{
	fprintf(stderr, "usage: ssdpq search ST [MX] [DEST] [WAIT_MS]\n"
			"       ssdpq raw DEST [WAIT_MS] <datagram\n"
			"       ssdpq listen SECONDS\n");
	return 2;
}

static int
receive(int s, uint64_t start, uint32_t wait_ms, const char *what)
{
	int got = 0;

	for (;;) {
		uint64_t now = time_mono_ms();
		struct pollfd p = { .fd = s, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		char buf[4096];
		ssize_t n;

		if (now >= start + wait_ms)
			break;
		if (poll(&p, 1, (int)(start + wait_ms - now)) <= 0)
			continue;
		n = recvfrom(s, buf, sizeof(buf) - 1, 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		buf[n] = '\0';
		if (strcmp(what, "notify") == 0 && strncmp(buf, "NOTIFY", 6) != 0)
			continue;
		printf("--- %s from %s:%u after %llu ms\n%s", what, inet_ntoa(from.sin_addr),
		       ntohs(from.sin_port), (unsigned long long)(time_mono_ms() - start), buf);
		fflush(stdout);
		got++;
	}
	return got;
}

static int
send_and_wait(const char *msg, size_t len, const char *dest, uint32_t wait_ms)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(1900) };
	unsigned char ttl = 2;
	uint64_t start;
	int s;

	if (inet_pton(AF_INET, dest, &to.sin_addr) != 1)
		return usage();
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0) {
		perror("socket");
		return 1;
	}
	start = time_mono_ms();
	if (sendto(s, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("sendto");
		return 1;
	}
	return receive(s, start, wait_ms, "answer") > 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	uint32_t wait_ms = 3000, secs;

	if (argc >= 3 && strcmp(argv[1], "search") == 0) {
		const char *mx = argc > 3 ? argv[3] : "2";
		const char *dest = argc > 4 ? argv[4] : "239.255.255.250";
		char msg[2048];

		if (argc > 5 && parse_u32(argv[5], 1, 60000, &wait_ms) < 0)
			return usage();
		if (str_printf(msg, sizeof(msg),
			       "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
			       "ST: %s\r\nMAN: \"ssdp:discover\"\r\nMX: %s\r\n\r\n", argv[2], mx) < 0)
			return usage();
		return send_and_wait(msg, strlen(msg), dest, wait_ms);
	}
	if (argc >= 3 && strcmp(argv[1], "raw") == 0) {
		static char msg[65536];
		size_t n = fread(msg, 1, sizeof(msg), stdin);

		if (argc > 3 && parse_u32(argv[3], 1, 60000, &wait_ms) < 0)
			return usage();
		return send_and_wait(msg, n, argv[2], wait_ms);
	}
	if (argc == 3 && strcmp(argv[1], "listen") == 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(1900) };
		struct ip_mreqn mr = { .imr_ifindex = 0 };
		int one = 1, s;

		if (parse_u32(argv[2], 1, 600, &secs) < 0)
			return usage();
		mr.imr_multiaddr.s_addr = inet_addr("239.255.255.250");
		s = socket(AF_INET, SOCK_DGRAM, 0);
		if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		    bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
		    setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
			perror("ssdpq listen");
			return 1;
		}
		printf("listening\n");
		fflush(stdout);
		return receive(s, time_mono_ms(), secs * 1000, "notify") > 0 ? 0 : 1;
	}
	return usage();
}
