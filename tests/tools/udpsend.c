/* udpsend.c - hostile UDP datagrams for the lab tests (t_hostile_udp).
 *
 *   udpsend [OPTS] DEST PORT PAYLOAD
 *        send PAYLOAD to DEST:PORT COUNT times, then wait WAIT_MS after the
 *        last one; print each answer ("answer from A:P LEN HEX..." with at
 *        most 64 bytes of hex) and a summary "sent N answers M send_ms T";
 *        exit 0 if any answer came, 2 if none, 1 on an error
 *   udpsend sweep [OPTS] DEST PORT MINLEN MAXLEN PREFIX zero|rand[:SEED]
 *        one datagram of each length MINLEN..MAXLEN: the bytes PREFIX (hex)
 *        then zeros or pseudo-random bytes, cut to the length; each from
 *        its own socket (64 in flight, 100 us apart; with -p PORT, socket i
 *        is bound to PORT + i so no port is reused), so every answer belongs to one
 *        length; print "LEN VER OP RLEN KEY" per length (VER, OP: the
 *        request's first two bytes in decimal, -1 when absent; KEY: the
 *        answer's first 4 bytes in hex; RLEN KEY "- -" when none came) and
 *        "sent N answers M"
 *   udpsend listen [OPTS] PORT WAIT_MS
 *        print every datagram arriving on PORT ("got from A:P LEN") for
 *        WAIT_MS; exit 0 if any came, 2 if none
 *
 *   PAYLOAD: hex:HEX | file:PATH | zero:LEN | rand:LEN[:SEED]
 *   OPTS: -s SRC      bind to this source address (add it to an interface
 *                     first; IP_FREEBIND is set, so it may be any address)
 *         -p SPORT    bind to this source port
 *         -i IFNAME   multicast leaves through this interface
 *         -n COUNT    copies to send (default 1)
 *         -g GAP_US   microseconds between copies (default 0)
 *         -w WAIT_MS  how long to wait for answers (default 1000; in sweep
 *                     mode, the idle time that ends a batch, default 200)
 *         -a N        stop waiting once N answers came
 *         -q          print no answers, only the summary
 *
 * Every wait is bounded, so a test can never hang on it. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define MAX_DGRAM	65507
#define SWEEP_BATCH	64

struct opts {
	const char *src, *ifname;
	uint16_t sport;
	uint32_t count, gap_us, wait_ms, enough;
	bool wait_set, quiet;
};

static int
usage(void)
{
	fprintf(stderr,
		"usage: udpsend [-s SRC] [-p SPORT] [-i IF] [-n COUNT] [-g GAP_US] [-w MS] [-q] "
		"DEST PORT hex:HEX|file:PATH|zero:LEN|rand:LEN[:SEED]\n"
		"       udpsend sweep [-s SRC] [-w IDLE_MS] DEST PORT MINLEN MAXLEN PREFIX "
		"zero|rand[:SEED]\n"
		"       udpsend listen [-s ADDR] PORT WAIT_MS\n");
	return 1;
}

static uint32_t
xorshift(uint32_t *st)
{
	uint32_t x = *st;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *st = x;
}

static void
fill_random(uint8_t *b, size_t n, uint32_t *st)
{
	size_t k;

	for (k = 0; k < n; k++)
		b[k] = (uint8_t)(xorshift(st) >> 11);
}

/* hex text -> bytes; returns the length or -1. */
static long
unhex(const char *hex, uint8_t *out, size_t size)
{
	size_t len = strlen(hex), k;

	if (len % 2 != 0 || len / 2 > size)
		return -1;
	for (k = 0; k < len / 2; k++) {
		unsigned v;

		if (sscanf(hex + 2 * k, "%2x", &v) != 1)
			return -1;
		out[k] = (uint8_t)v;
	}
	return (long)(len / 2);
}

static long
payload(const char *spec, uint8_t *out, size_t size)
{
	uint32_t len, seed = 1;
	char num[32];
	const char *c;

	if (strncmp(spec, "hex:", 4) == 0)
		return unhex(spec + 4, out, size);
	if (strncmp(spec, "file:", 5) == 0) {
		FILE *f = fopen(spec + 5, "rb");
		size_t n;

		if (f == NULL)
			return -1;
		n = fread(out, 1, size, f);
		fclose(f);
		return (long)n;
	}
	if (strncmp(spec, "zero:", 5) == 0 || strncmp(spec, "rand:", 5) == 0) {
		c = strchr(spec + 5, ':');
		if (str_copy_n(num, sizeof(num), spec + 5,
			       c ? (size_t)(c - spec - 5) : strlen(spec + 5)) < 0 ||
		    parse_u32(num, 0, (uint32_t)size, &len) < 0 ||
		    (c != NULL && parse_u32(c + 1, 1, UINT32_MAX, &seed) < 0))
			return -1;
		if (spec[0] == 'z')
			memset(out, 0, len);
		else
			fill_random(out, len, &seed);
		return (long)len;
	}
	return -1;
}

static int
open_socket(const struct opts *o, uint16_t sport)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(sport) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, big = 1 << 20;
	unsigned char ttl = 2;

	if (s < 0)
		return -1;
	(void)setsockopt(s, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	(void)setsockopt(s, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(s, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one)) < 0)
		goto fail;
	if (o->ifname != NULL) {
		struct ip_mreqn mr;

		memset(&mr, 0, sizeof(mr));
		mr.imr_ifindex = (int)if_nametoindex(o->ifname);
		if (mr.imr_ifindex == 0 ||
		    setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0)
			goto fail;
	}
	if (o->src != NULL && inet_pton(AF_INET, o->src, &sa.sin_addr) != 1) {
		errno = EINVAL;
		goto fail;
	}
	if ((o->src != NULL || sport != 0) && bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	return s;
fail:
	close(s);
	return -1;
}

static void
print_answer(const struct sockaddr_in *from, const uint8_t *b, size_t n)
{
	size_t k;

	printf("answer from %s:%u %zu ", inet_ntoa(from->sin_addr), ntohs(from->sin_port), n);
	for (k = 0; k < n && k < 64; k++)
		printf("%02x", b[k]);
	printf("\n");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->count = 1;
	o->wait_ms = 1000;
	optind = 1;
	while ((c = getopt(argc, argv, "+s:p:i:n:g:w:a:q")) != -1) {
		switch (c) {
		case 's': o->src = optarg; break;
		case 'i': o->ifname = optarg; break;
		case 'q': o->quiet = true; break;
		case 'p':
			if (parse_u16(optarg, 1, 65535, &o->sport) < 0)
				return -1;
			break;
		case 'a':
			if (parse_u32(optarg, 1, UINT32_MAX, &o->enough) < 0)
				return -1;
			break;
		case 'n':
			if (parse_u32(optarg, 1, 1000000, &o->count) < 0)
				return -1;
			break;
		case 'g':
			if (parse_u32(optarg, 0, 10000000, &o->gap_us) < 0)
				return -1;
			break;
		case 'w':
			if (parse_u32(optarg, 0, 60000, &o->wait_ms) < 0)
				return -1;
			o->wait_set = true;
			break;
		default:
			return -1;
		}
	}
	return optind;
}

static int
dest_addr(const char *host, const char *port, struct sockaddr_in *to)
{
	uint16_t p;

	memset(to, 0, sizeof(*to));
	to->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &to->sin_addr) != 1 || parse_u16(port, 1, 65535, &p) < 0)
		return -1;
	to->sin_port = htons(p);
	return 0;
}

/* The next datagram on s before the monotonic time end (ms): its length,
 * or -1 once end has passed.  Receive errors (an ICMP port unreachable
 * of an earlier send) are skipped. */
static ssize_t
recv_before(int s, uint64_t end, uint8_t *buf, size_t size, struct sockaddr_in *from)
{
	for (;;) {
		uint64_t now = time_mono_ms();
		struct pollfd p = { .fd = s, .events = POLLIN };
		socklen_t fl = sizeof(*from);
		ssize_t n;

		if (now >= end || poll(&p, 1, (int)(end - now)) <= 0)
			return -1;
		n = recvfrom(s, buf, size, 0, (struct sockaddr *)from, &fl);
		if (n >= 0)
			return n;
	}
}

static int
do_send(const struct opts *o, int argc, char **argv)
{
	static uint8_t buf[MAX_DGRAM], ans[MAX_DGRAM];
	struct sockaddr_in to, from;
	uint64_t t0, sent_ms, end;
	ssize_t n;
	unsigned answers = 0;
	uint32_t i;
	long len;
	int s;

	if (argc != 3 || dest_addr(argv[0], argv[1], &to) < 0)
		return usage();
	len = payload(argv[2], buf, sizeof(buf));
	if (len < 0)
		return usage();
	s = open_socket(o, o->sport);
	if (s < 0) {
		perror("udpsend: socket");
		return 1;
	}
	t0 = time_mono_ms();
	for (i = 0; i < o->count; i++) {
		if (sendto(s, buf, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			perror("udpsend: sendto");
			close(s);
			return 1;
		}
		if (o->gap_us > 0 && i + 1 < o->count)
			usleep(o->gap_us);
	}
	sent_ms = time_mono_ms() - t0;
	end = time_mono_ms() + o->wait_ms;
	while ((n = recv_before(s, end, ans, sizeof(ans), &from)) >= 0) {
		answers++;
		if (!o->quiet)
			print_answer(&from, ans, (size_t)n);
		if (o->enough != 0 && answers >= o->enough)
			break;
	}
	printf("sent %u answers %u send_ms %llu\n", o->count, answers,
	       (unsigned long long)sent_ms);
	close(s);
	return answers > 0 ? 0 : 2;
}

static int
do_sweep(const struct opts *o, int argc, char **argv)
{
	static uint8_t buf[MAX_DGRAM], ans[MAX_DGRAM];
	uint8_t prefix[256];
	struct sockaddr_in to;
	uint32_t minlen, maxlen, seed = 1, len;
	uint32_t idle = o->wait_set ? o->wait_ms : 200;
	unsigned sent = 0, answers = 0;
	bool rnd;
	long plen;

	if (argc != 6 || dest_addr(argv[0], argv[1], &to) < 0 ||
	    parse_u32(argv[2], 0, MAX_DGRAM, &minlen) < 0 ||
	    parse_u32(argv[3], minlen, MAX_DGRAM, &maxlen) < 0 ||
	    (o->sport != 0 && (uint64_t)o->sport + (maxlen - minlen) > 65535))
		return usage();
	plen = unhex(argv[4], prefix, sizeof(prefix));
	if (plen < 0)
		return usage();
	rnd = strncmp(argv[5], "rand", 4) == 0;
	if (rnd && argv[5][4] == ':' && parse_u32(argv[5] + 5, 1, UINT32_MAX, &seed) < 0)
		return usage();
	if (!rnd && strcmp(argv[5], "zero") != 0)
		return usage();
	for (len = minlen; len <= maxlen;) {
		int socks[SWEEP_BATCH];
		uint32_t lens[SWEEP_BATCH], rlen[SWEEP_BATCH];
		int ver[SWEEP_BATCH], op[SWEEP_BATCH];
		char key[SWEEP_BATCH][9];
		unsigned k, nb = 0, got = 0;
		uint64_t last;

		for (; nb < SWEEP_BATCH && len <= maxlen; nb++, len++) {
			if (rnd)
				fill_random(buf, len, &seed);
			else
				memset(buf, 0, len);
			memcpy(buf, prefix, (size_t)plen < len ? (size_t)plen : len);
			socks[nb] = open_socket(o, o->sport ? (uint16_t)(o->sport + sent) : 0);
			lens[nb] = len;
			ver[nb] = len > 0 ? buf[0] : -1;
			op[nb] = len > 1 ? buf[1] : -1;
			rlen[nb] = UINT32_MAX;
			if (socks[nb] < 0 ||
			    sendto(socks[nb], buf, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
				perror("udpsend sweep");
				return 1;
			}
			sent++;
			usleep(100);	/* the server's socket buffer is not ours to fill */
		}
		/* Collect until every socket answered or nothing came for idle ms. */
		last = time_mono_ms();
		while (got < nb) {
			struct pollfd p[SWEEP_BATCH];
			uint64_t now = time_mono_ms();
			int r;

			if (now >= last + idle)
				break;
			for (k = 0; k < nb; k++) {
				p[k].fd = rlen[k] == UINT32_MAX ? socks[k] : -1;
				p[k].events = POLLIN;
				p[k].revents = 0;
			}
			r = poll(p, nb, (int)(last + idle - now));
			if (r <= 0)
				continue;
			for (k = 0; k < nb; k++) {
				ssize_t n;

				if (!(p[k].revents & (POLLIN | POLLERR)))
					continue;
				n = recv(socks[k], ans, sizeof(ans), MSG_DONTWAIT);
				if (n < 0)
					continue;
				rlen[k] = (uint32_t)n;
				(void)str_printf(key[k], sizeof(key[k]), "%02x%02x%02x%02x",
						 n > 0 ? ans[0] : 0, n > 1 ? ans[1] : 0,
						 n > 2 ? ans[2] : 0, n > 3 ? ans[3] : 0);
				got++;
				last = time_mono_ms();
			}
		}
		for (k = 0; k < nb; k++) {
			printf("%u %d %d ", lens[k], ver[k], op[k]);
			if (rlen[k] == UINT32_MAX)
				printf("- -\n");
			else
				printf("%u %s\n", rlen[k], key[k]);
			close(socks[k]);
		}
		answers += got;
	}
	printf("sent %u answers %u\n", sent, answers);
	return 0;
}

static int
do_listen(const struct opts *o, int argc, char **argv)
{
	static uint8_t buf[MAX_DGRAM];
	struct sockaddr_in from;
	uint16_t port;
	uint32_t wait_ms;
	unsigned got = 0;
	uint64_t end;
	ssize_t n;
	int s;

	if (argc != 2 || parse_u16(argv[0], 1, 65535, &port) < 0 ||
	    parse_u32(argv[1], 0, 600000, &wait_ms) < 0)
		return usage();
	s = open_socket(o, port);
	if (s < 0) {
		perror("udpsend listen");
		return 1;
	}
	end = time_mono_ms() + wait_ms;
	while ((n = recv_before(s, end, buf, sizeof(buf), &from)) >= 0) {
		printf("got from %s:%u %zd\n", inet_ntoa(from.sin_addr), ntohs(from.sin_port), n);
		fflush(stdout);
		got++;
	}
	close(s);
	return got > 0 ? 0 : 2;
}

int
main(int argc, char **argv)
{
	struct opts o;
	const char *mode = "send";
	int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && (strcmp(argv[1], "sweep") == 0 || strcmp(argv[1], "listen") == 0)) {
		mode = argv[1];
		argc--;
		argv++;
	}
	i = parse_opts(argc, argv, &o);
	if (i < 0)
		return usage();
	if (strcmp(mode, "sweep") == 0)
		return do_sweep(&o, argc - i, argv + i);
	if (strcmp(mode, "listen") == 0)
		return do_listen(&o, argc - i, argv + i);
	return do_send(&o, argc - i, argv + i);
}
