/* probe.c - the traffic proof of the lab tests.
 *
 *   probe listen tcp|udp PORT TOKEN [SECONDS]   answer TOKEN to every TCP
 *        connection / UDP datagram on PORT, for at most SECONDS (default 60)
 *   probe connect [-s SRC] tcp|udp HOST PORT [MS]  connect (TCP) or send
 *        (UDP), from source address SRC if given, print what came back,
 *        exit 0 if anything did within MS (default 2000)
 *
 * Bounded in time on both sides, so a test can never hang on it. */
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
	fprintf(stderr, "usage: probe listen tcp|udp PORT TOKEN [SECONDS]\n"
			"       probe connect [-s SRC] tcp|udp HOST PORT [MS]\n");
	return 2;
}

static int
do_listen(int tcp, uint16_t port, const char *token, uint32_t seconds)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	uint64_t end = time_mono_ms() + (uint64_t)seconds * 1000;
	int one = 1, zero = 0, s;
	bool v6 = true;

	/* IPv6 and IPv4 on one dual-stack socket, IPv4 alone without IPv6 */
	s = socket(AF_INET6, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (s < 0 || setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) {
		if (s >= 0)
			close(s);
		v6 = false;
		s = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	}
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (v6 ? bind(s, (struct sockaddr *)&sin6, sizeof(sin6))
		: bind(s, (struct sockaddr *)&sin, sizeof(sin))) < 0 ||
	    (tcp && listen(s, 64) < 0)) {
		perror("probe listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (time_mono_ms() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		struct sockaddr_in6 from;
		socklen_t fl = sizeof(from);
		char buf[512];

		if (poll(&p, 1, 200) <= 0)
			continue;
		if (tcp) {
			int c = accept(s, (struct sockaddr *)&from, &fl);
			if (c < 0)
				continue;
			if (write(c, token, strlen(token)) < 0)
				perror("write");
			close(c);
		} else {
			ssize_t n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n >= 0)
				sendto(s, token, strlen(token), 0, (struct sockaddr *)&from, fl);
		}
	}
	close(s);
	return 0;
}

static int
do_connect(int tcp, const char *src, const char *host, uint16_t port, uint32_t ms)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in ssin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in6 ssin6 = { .sin6_family = AF_INET6 };
	bool v6 = strchr(host, ':') != NULL;	/* an IPv6 HOST (and SRC) */
	struct pollfd p;
	char buf[512];
	ssize_t n;
	int s;

	if ((v6 ? inet_pton(AF_INET6, host, &sin6.sin6_addr) : inet_pton(AF_INET, host, &sin.sin_addr)) != 1 ||
	    (src != NULL && (v6 ? inet_pton(AF_INET6, src, &ssin6.sin6_addr)
				: inet_pton(AF_INET, src, &ssin.sin_addr)) != 1))
		return usage();
	s = socket(v6 ? AF_INET6 : AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	if (s < 0)
		return 1;
	if (src != NULL && (v6 ? bind(s, (struct sockaddr *)&ssin6, sizeof(ssin6))
			       : bind(s, (struct sockaddr *)&ssin, sizeof(ssin))) < 0) {
		perror("probe bind");
		return 1;
	}
	if ((v6 ? connect(s, (struct sockaddr *)&sin6, sizeof(sin6))
		: connect(s, (struct sockaddr *)&sin, sizeof(sin))) < 0 && errno != EINPROGRESS)
		return 1;
	if (!tcp && send(s, "ping", 4, 0) < 0)
		return 1;
	p.fd = s;
	p.events = POLLIN;
	if (poll(&p, 1, (int)ms) <= 0)
		return 1;
	n = recv(s, buf, sizeof(buf) - 1, 0);
	close(s);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	printf("%s\n", buf);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *src = NULL;
	uint32_t num = 0;
	uint16_t port;
	int tcp;

	/* connect -s SRC ...: drop the option, keep the positions. */
	if (argc > 3 && strcmp(argv[1], "connect") == 0 && strcmp(argv[2], "-s") == 0) {
		src = argv[3];
		argv[3] = argv[1];
		argv += 2;
		argc -= 2;
	}
	if (argc < 5)
		return usage();
	if (strcmp(argv[2], "tcp") != 0 && strcmp(argv[2], "udp") != 0)
		return usage();
	tcp = strcmp(argv[2], "tcp") == 0;
	if (strcmp(argv[1], "listen") == 0) {
		if (parse_u16(argv[3], 1, 65535, &port) < 0 ||
		    (argc > 5 && parse_u32(argv[5], 1, 3600, &num) < 0))
			return usage();
		return do_listen(tcp, port, argv[4], argc > 5 ? num : 60);
	}
	if (strcmp(argv[1], "connect") == 0) {
		if (parse_u16(argv[4], 1, 65535, &port) < 0 ||
		    (argc > 5 && parse_u32(argv[5], 1, 60000, &num) < 0))
			return usage();
		return do_connect(tcp, src, argv[3], port, argc > 5 ? num : 2000);
	}
	return usage();
}
