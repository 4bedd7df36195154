/* pmpq.c - raw NAT-PMP/PCP datagrams and announcements, for the lab tests.
 *
 *   pmpq send SERVER HEX [MS]   send the bytes HEX to SERVER:5351, print the
 *        answer as hex; exit 0 if one came within MS (default 1500), 2 if not
 *   pmpq listen IFADDR SECONDS  join 224.0.0.1 on the interface holding
 *        IFADDR, print every datagram arriving on port 5350 as
 *        "SRC HEX" until SECONDS have passed; exit 0 if any came, 2 if not */
#include <arpa/inet.h>
#include <errno.h>
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
	fprintf(stderr, "usage: pmpq send SERVER HEX [MS]\n"
			"       pmpq listen IFADDR SECONDS\n");
	return 1;
}

static void
print_hex(const uint8_t *b, size_t n)
{
	size_t k;

	for (k = 0; k < n; k++)
		printf("%02x", b[k]);
	printf("\n");
	fflush(stdout);
}

static int
do_send(const char *server, const char *hex, uint32_t ms)
{
	struct sockaddr_in srv = { .sin_family = AF_INET, .sin_port = htons(5351) };
	uint8_t req[1200], resp[1200];
	size_t len = strlen(hex), k;
	uint64_t end;
	int s;

	if (len % 2 != 0 || len / 2 > sizeof(req) || inet_pton(AF_INET, server, &srv.sin_addr) != 1)
		return usage();
	for (k = 0; k < len / 2; k++) {
		unsigned v;
		if (sscanf(hex + 2 * k, "%2x", &v) != 1)
			return usage();
		req[k] = (uint8_t)v;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&srv, sizeof(srv)) < 0 ||
	    send(s, req, len / 2, 0) < 0) {
		perror("pmpq send");
		return 1;
	}
	end = time_mono_ms() + ms;
	while (time_mono_ms() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)(end - time_mono_ms())) <= 0)
			continue;
		n = recv(s, resp, sizeof(resp), 0);
		if (n < 0)
			continue;
		print_hex(resp, (size_t)n);
		return 0;
	}
	printf("timeout\n");
	return 2;
}

static int
do_listen(const char *ifaddr, uint32_t seconds)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(5350) };
	struct ip_mreq mreq;
	uint64_t end = time_mono_ms() + (uint64_t)seconds * 1000;
	int s, one = 1, got = 0;

	memset(&mreq, 0, sizeof(mreq));
	mreq.imr_multiaddr.s_addr = htonl(INADDR_ALLHOSTS_GROUP);
	if (inet_pton(AF_INET, ifaddr, &mreq.imr_interface) != 1)
		return usage();
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) < 0) {
		perror("pmpq listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (time_mono_ms() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		uint8_t buf[1200];
		ssize_t n;

		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		if (n < 0)
			continue;
		printf("%s ", inet_ntoa(from.sin_addr));
		print_hex(buf, (size_t)n);
		got = 1;
	}
	return got ? 0 : 2;
}

int
main(int argc, char **argv)
{
	uint32_t v = 1500;

	if (argc >= 4 && strcmp(argv[1], "send") == 0) {
		if (argc >= 5 && parse_u32(argv[4], 1, 60000, &v) < 0)
			return usage();
		return do_send(argv[2], argv[3], v);
	}
	if (argc == 4 && strcmp(argv[1], "listen") == 0) {
		if (parse_u32(argv[3], 1, 3600, &v) < 0)
			return usage();
		return do_listen(argv[2], v);
	}
	return usage();
}
