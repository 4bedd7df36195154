/* probe.c - the traffic proof of the lab tests.
 *
 *   probe listen tcp|udp PORT TOKEN [SECONDS]   answer TOKEN to every TCP
 *        connection / UDP datagram on PORT, IPv4 and (where the host has
 *        it) IPv6, for at most SECONDS (default 60); a UDP answer leaves
 *        from the address the datagram was sent to.  TOKEN "@peer" answers
 *        the peer's "ADDRESS:PORT" ("[ADDRESS]:PORT" for IPv6) as this host
 *        sees it (what a NAT made of the source).
 *   probe connect [-s SRC[:PORT]] tcp|udp HOST PORT [MS]  connect (TCP) or
 *        send (UDP), from source address (and port) SRC if given, print what
 *        came back, exit 0 if anything did within MS (default 2000).  An
 *        IPv6 HOST takes an IPv6 SRC, "[ADDRESS]:PORT" with a port.
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
answer(const char *token, const struct sockaddr_storage *from, char *buf, size_t size)
{
	const struct sockaddr_in6 *f6 = (const void *)from;
	const struct sockaddr_in *f4 = (const void *)from;
	char a[INET6_ADDRSTRLEN];

	if (strcmp(token, "@peer") != 0)
		return token;
	if (from->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &f6->sin6_addr, a, sizeof(a));
		snprintf(buf, size, "[%s]:%u", a, ntohs(f6->sin6_port));
	} else {
		inet_ntop(AF_INET, &f4->sin_addr, a, sizeof(a));
		snprintf(buf, size, "%s:%u", a, ntohs(f4->sin_port));
	}
	return buf;
}

/* One datagram in, the answer out from the address it was sent to (a host
 * with several addresses would otherwise answer from its primary one). */
static void
udp_echo(int s, const char *token)
{
	char buf[512], ans[64], cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
	struct sockaddr_storage from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = { &from, sizeof(from), &iov, 1, cbuf, sizeof(cbuf), 0 };
	bool pktinfo = false;
	struct cmsghdr *c;
	const char *t;

	if (recvmsg(s, &mh, 0) < 0)
		return;
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo *pi = (struct in_pktinfo *)(void *)CMSG_DATA(c);

			pi->ipi_spec_dst = pi->ipi_addr;
			pi->ipi_ifindex = 0;
			pktinfo = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			pktinfo = true;		/* its address is the source to use */
		}
	}
	t = answer(token, &from, ans, sizeof(ans));
	iov.iov_base = (void *)(uintptr_t)t;
	iov.iov_len = strlen(t);
	if (!pktinfo) {
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	sendmsg(s, &mh, 0);
}

/* A listening (TCP) or bound (UDP) socket of one family on port; -1 when
 * the family is not there (no IPv6 in this namespace). */
static int
listen_socket(int family, int tcp, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	bool v6 = family == AF_INET6;
	int one = 1, s;

	s = socket(family, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);
	if (s < 0)
		return -1;
	if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (v6 && setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    (!tcp && (v6 ? setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one))
			 : setsockopt(s, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))) < 0) ||
	    (v6 ? bind(s, (struct sockaddr *)&sin6, sizeof(sin6))
		: bind(s, (struct sockaddr *)&sin, sizeof(sin))) < 0 ||
	    (tcp && listen(s, 64) < 0)) {
		close(s);
		return -1;
	}
	return s;
}

static int
do_listen(int tcp, uint16_t port, const char *token, uint32_t seconds)
{
	uint64_t end = time_mono_ms() + (uint64_t)seconds * 1000;
	struct pollfd p[2] = { { .fd = -1, .events = POLLIN }, { .fd = -1, .events = POLLIN } };
	int k;

	p[0].fd = listen_socket(AF_INET, tcp, port);
	p[1].fd = listen_socket(AF_INET6, tcp, port);
	if (p[0].fd < 0) {
		perror("probe listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	while (time_mono_ms() < end) {
		if (poll(p, 2, 200) <= 0)
			continue;
		for (k = 0; k < 2; k++) {
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			char ans[64];
			const char *t;
			int c;

			if (!(p[k].revents & POLLIN))
				continue;
			if (!tcp) {
				udp_echo(p[k].fd, token);
				continue;
			}
			if ((c = accept(p[k].fd, (struct sockaddr *)&from, &fl)) < 0)
				continue;
			t = answer(token, &from, ans, sizeof(ans));
			if (write(c, t, strlen(t)) < 0)
				perror("write");
			close(c);
		}
	}
	for (k = 0; k < 2; k++)
		if (p[k].fd >= 0)
			close(p[k].fd);
	return 0;
}

/* SRC as "A.B.C.D[:PORT]", or for IPv6 "ADDRESS" or "[ADDRESS]:PORT", into
 * a socket address of the family.  0 / -1. */
static int
parse_src(const char *src, bool v6, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (void *)ss;
	struct sockaddr_in *s4 = (void *)ss;
	char a[INET6_ADDRSTRLEN + 8], *colon = NULL;
	uint16_t port = 0;

	if (strlen(src) >= sizeof(a))
		return -1;
	memcpy(a, src, strlen(src) + 1);
	if (v6 && a[0] == '[') {
		if ((colon = strchr(a, ']')) == NULL || colon[1] != ':')
			return -1;
		*colon++ = '\0';
		memmove(a, a + 1, strlen(a + 1) + 1);
	} else if (!v6) {
		colon = strchr(a, ':');
	}
	if (colon != NULL) {
		*colon = '\0';
		if (parse_u16(colon + 1, 1, 65535, &port) < 0)
			return -1;
	}
	memset(ss, 0, sizeof(*ss));
	ss->ss_family = v6 ? AF_INET6 : AF_INET;
	if (v6) {
		s6->sin6_port = htons(port);
		return inet_pton(AF_INET6, a, &s6->sin6_addr) == 1 ? 0 : -1;
	}
	s4->sin_port = htons(port);
	return inet_pton(AF_INET, a, &s4->sin_addr) == 1 ? 0 : -1;
}

static int
do_connect(int tcp, const char *src, const char *host, uint16_t port, uint32_t ms)
{
	struct sockaddr_storage dst, ssrc;
	struct sockaddr_in6 *d6 = (void *)&dst;
	struct sockaddr_in *d4 = (void *)&dst;
	bool v6 = strchr(host, ':') != NULL;	/* an IPv6 HOST (and SRC) */
	socklen_t len = v6 ? sizeof(*d6) : sizeof(*d4);
	char buf[512];
	struct pollfd p;
	ssize_t n;
	int s, one = 1;

	memset(&dst, 0, sizeof(dst));
	dst.ss_family = v6 ? AF_INET6 : AF_INET;
	if ((v6 ? inet_pton(AF_INET6, host, &d6->sin6_addr)
		: inet_pton(AF_INET, host, &d4->sin_addr)) != 1 ||
	    (src != NULL && parse_src(src, v6, &ssrc) < 0))
		return usage();
	if (v6)
		d6->sin6_port = htons(port);
	else
		d4->sin_port = htons(port);
	s = socket(dst.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
	if (s < 0)
		return 1;
	/* a source port may be shared with a listener of the same host */
	if (src != NULL && (v6 ? ((struct sockaddr_in6 *)(void *)&ssrc)->sin6_port
			       : ((struct sockaddr_in *)(void *)&ssrc)->sin_port) != 0)
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (src != NULL && bind(s, (struct sockaddr *)&ssrc, len) < 0) {
		perror("probe bind");
		return 1;
	}
	if (connect(s, (struct sockaddr *)&dst, len) < 0 && errno != EINPROGRESS)
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
