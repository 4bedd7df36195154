/* probe.c - the traffic proof of the lab tests.
 *
 *   probe listen tcp|udp PORT TOKEN [SECONDS]   answer TOKEN to every TCP
 *        connection / UDP datagram on PORT, for at most SECONDS (default 60);
 *        a UDP answer leaves from the address the datagram was sent to.
 *        TOKEN "@peer" answers the peer's "ADDRESS:PORT" as this host sees
 *        it (what a NAT made of the source).
 *   probe connect [-s SRC[:PORT]] tcp|udp HOST PORT [MS]  connect (TCP) or
 *        send (UDP), from source address (and port) SRC if given, print what
 *        came back, exit 0 if anything did within MS (default 2000)
 *
 * Bounded in time on both sides, so a test can never hang on it. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
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
			"       probe connect [-s SRC[:PORT]] tcp|udp HOST PORT [MS]\n");
	return 2;
}

/* The answer to a peer: the token, or the peer's address:port for "@peer". */
static const char *
answer(const char *token, const struct sockaddr_in *from, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];

	if (strcmp(token, "@peer") != 0)
		return token;
	inet_ntop(AF_INET, &from->sin_addr, a, sizeof(a));
	snprintf(buf, size, "%s:%u", a, ntohs(from->sin_port));
	return buf;
}

/* One datagram in, the answer out from the address it was sent to (a host
 * with several addresses would otherwise answer from its primary one). */
static void
udp_echo(int s, const char *token)
{
	char buf[512], ans[64], cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	struct sockaddr_in from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { &from, sizeof(from), &iov, 1, cbuf, sizeof(cbuf), 0 };
	struct in_pktinfo *pi = NULL;
	struct cmsghdr *c;
	const char *t;

	if (recvmsg(s, &mh, 0) < 0)
		return;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
			pi = (struct in_pktinfo *)(void *)CMSG_DATA(c);
	if (pi != NULL) {
		pi->ipi_spec_dst = pi->ipi_addr;
		pi->ipi_ifindex = 0;
	}
	t = answer(token, &from, ans, sizeof(ans));
	iov.iov_base = (void *)(uintptr_t)t;
	iov.iov_len = strlen(t);
	mh.msg_namelen = sizeof(from);
	if (pi == NULL) {
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	sendmsg(s, &mh, 0);
}

static int
do_listen(int tcp, uint16_t port, const char *token, uint32_t seconds)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	uint64_t end = time_mono_ms() + (uint64_t)seconds * 1000;
	int one = 1, s;

	s = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (!tcp && setsockopt(s, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0) ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 || (tcp && listen(s, 64) < 0)) {
		perror("probe listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (time_mono_ms() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		char ans[64];
		const char *t;

		if (poll(&p, 1, 200) <= 0)
			continue;
		if (tcp) {
			int c = accept(s, (struct sockaddr *)&from, &fl);
			if (c < 0)
				continue;
			t = answer(token, &from, ans, sizeof(ans));
			if (write(c, t, strlen(t)) < 0)
				perror("write");
			close(c);
		} else {
			udp_echo(s, token);
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
	char buf[512], saddr[INET_ADDRSTRLEN + 8], *colon;
	struct pollfd p;
	uint16_t sport = 0;
	ssize_t n;
	int s, one = 1;

	if (src != NULL) {
		if (strlen(src) >= sizeof(saddr))
			return usage();
		memcpy(saddr, src, strlen(src) + 1);
		if ((colon = strchr(saddr, ':')) != NULL) {
			*colon = '\0';
			if (parse_u16(colon + 1, 1, 65535, &sport) < 0)
				return usage();
			ssin.sin_port = htons(sport);
		}
	}
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    (src != NULL && inet_pton(AF_INET, saddr, &ssin.sin_addr) != 1))
		return usage();
	s = socket(AF_INET, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	if (s < 0)
		return 1;
	/* a source port may be shared with a listener of the same host */
	if (sport != 0)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (src != NULL && bind(s, (struct sockaddr *)&ssin, sizeof(ssin)) < 0) {
		perror("probe bind");
		return 1;
	}
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno != EINPROGRESS)
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
