/* pcpc.c - a small PCP client (RFC 6887) for the lab tests.
 *
 *   pcpc [-t MS] [-c CLIENT_ADDR] [-n NONCE_HEX24] [-V VERSION] SERVER map
 *        tcp|udp|NUM IPORT EPORT LIFETIME [options]
 *   pcpc [...] SERVER peer tcp|udp IPORT EPORT LIFETIME PEER_ADDR PEER_PORT [options]
 *   pcpc [...] SERVER announce [options]
 *   options: -x SUGGESTED_EXT_ADDR  --third-party ADDR  --prefer-failure
 *            --filter ADDR[/PREFIX][:PORT]  --desc TEXT  --opt CODE[:HEX]
 *   SERVER is an IPv4 or IPv6 address (fe80::1%IF for a link-local one);
 *   an IPv6 filter is written [ADDR][/PREFIX][:PORT].
 *
 * Sends one request to SERVER:5351 (retrying at 250/500/1000 ms within the
 * -t budget, default 2000 ms), prints the response as key=value lines and
 * exits 0 when a response came (whatever its result code), 1 on error,
 * 2 on timeout.  The client address field is the local address the kernel
 * uses towards SERVER unless -c gives one (to provoke ADDRESS_MISMATCH). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"
#include "wire.h"


static const char *const result_names[] = {
	"SUCCESS", "UNSUPP_VERSION", "NOT_AUTHORIZED", "MALFORMED_REQUEST",
	"UNSUPP_OPCODE", "UNSUPP_OPTION", "MALFORMED_OPTION", "NETWORK_FAILURE",
	"NO_RESOURCES", "UNSUPP_PROTOCOL", "USER_EX_QUOTA", "CANNOT_PROVIDE_EXTERNAL",
	"ADDRESS_MISMATCH", "EXCESSIVE_REMOTE_PEERS",
};

static int
usage(void)
{
	fprintf(stderr,
		"usage: pcpc [-t MS] [-c CLIENT] [-n NONCE_HEX24] [-V VERSION] SERVER\n"
		"            map PROTO IPORT EPORT LIFETIME [options]\n"
		"          | peer PROTO IPORT EPORT LIFETIME PEER_ADDR PEER_PORT [options]\n"
		"          | announce [options]\n"
		"options: -x EXT_ADDR  --third-party ADDR  --prefer-failure\n"
		"         --filter ADDR[/PREFIX][:PORT]  --desc TEXT  --opt CODE[:HEX]\n");
	return 1;
}

static int
hex_decode(const char *s, uint8_t *out, size_t max, size_t *n)
{
	size_t len = strlen(s), k;

	if (len % 2 != 0 || len / 2 > max)
		return -1;
	for (k = 0; k < len / 2; k++) {
		unsigned v;
		if (sscanf(s + 2 * k, "%2x", &v) != 1)
			return -1;
		out[k] = (uint8_t)v;
	}
	*n = len / 2;
	return 0;
}

static int
parse_proto(const char *s, uint8_t *out)
{
	uint16_t v;

	if (strcmp(s, "tcp") == 0 || strcmp(s, "TCP") == 0)
		*out = IPPROTO_TCP;
	else if (strcmp(s, "udp") == 0 || strcmp(s, "UDP") == 0)
		*out = IPPROTO_UDP;
	else if (parse_u16(s, 0, 255, &v) == 0)
		*out = (uint8_t)v;
	else
		return -1;
	return 0;
}

/* One option into w: code, reserved, length, data padded to 4. */
static void
put_option(struct wr *w, uint8_t code, const void *data, uint16_t len)
{
	wr_u8(w, code);
	wr_u8(w, 0);
	wr_u16(w, len);
	wr_bytes(w, data, len);
	wr_zero(w, ((size_t)len + 3) / 4 * 4 - len);
}

/* ADDR[/PREFIX][:PORT] (IPv4, so ':' is the port), or for IPv6
 * [ADDR][/PREFIX][:PORT]. */
static int
put_filter(struct wr *w, const char *spec)
{
	char buf[80], *slash, *colon, *close;
	struct in6_addr a;
	uint16_t prefix = 128, port = 0;
	uint8_t d[20];

	if (spec[0] == '[') {
		if (str_copy(buf, sizeof(buf), spec + 1) < 0 || (close = strchr(buf, ']')) == NULL)
			return -1;
		*close = '\0';
		if (addr_parse(buf, &a) < 0)
			return -1;
		/* the rest as for IPv4, with a placeholder address */
		if (str_printf(buf, sizeof(buf), "0.0.0.0%s", close + 1) < 0)
			return -1;
	} else if (str_copy(buf, sizeof(buf), spec) < 0) {
		return -1;
	}
	colon = strchr(buf, ':');
	if (colon != NULL) {
		*colon = '\0';
		if (parse_u16(colon + 1, 0, 65535, &port) < 0)
			return -1;
	}
	slash = strchr(buf, '/');
	if (slash != NULL) {
		*slash = '\0';
		if (parse_u16(slash + 1, 0, 255, &prefix) < 0)
			return -1;
	}
	if (spec[0] != '[' && addr_parse(buf, &a) < 0)
		return -1;
	d[0] = 0;
	d[1] = (uint8_t)prefix;
	d[2] = (uint8_t)(port >> 8);
	d[3] = (uint8_t)port;
	memcpy(d + 4, &a, 16);
	put_option(w, 3, d, 20);
	return 0;
}

static int
parse_options(struct wr *w, int argc, char **argv, int i, struct in6_addr *ext)
{
	for (; i < argc; i++) {
		const char *o = argv[i];
		struct in6_addr a;

		if (strcmp(o, "--prefer-failure") == 0) {
			put_option(w, 2, NULL, 0);
			continue;
		}
		if (i + 1 >= argc)
			return -1;
		if (strcmp(o, "-x") == 0) {
			if (ext == NULL || addr_parse(argv[++i], ext) < 0)
				return -1;
		} else if (strcmp(o, "--third-party") == 0) {
			if (addr_parse(argv[++i], &a) < 0)
				return -1;
			put_option(w, 1, &a, 16);
		} else if (strcmp(o, "--filter") == 0) {
			if (put_filter(w, argv[++i]) < 0)
				return -1;
		} else if (strcmp(o, "--desc") == 0) {
			const char *d = argv[++i];
			size_t n = strlen(d);
			if (n > 1016)
				return -1;
			put_option(w, 128, d, (uint16_t)n);
		} else if (strcmp(o, "--opt") == 0) {
			char buf[600], *colon;
			uint8_t data[256];
			size_t n = 0;
			uint16_t code;

			if (str_copy(buf, sizeof(buf), argv[++i]) < 0)
				return -1;
			colon = strchr(buf, ':');
			if (colon != NULL) {
				*colon = '\0';
				if (hex_decode(colon + 1, data, sizeof(data), &n) < 0)
					return -1;
			}
			if (parse_u16(buf, 0, 255, &code) < 0)
				return -1;
			put_option(w, (uint8_t)code, data, (uint16_t)n);
		} else {
			return -1;
		}
	}
	return 0;
}

static void
print_addr(const char *key, const uint8_t *p)
{
	struct in6_addr a;
	char buf[INET6_ADDRSTRLEN];

	memcpy(&a, p, 16);
	printf("%s=%s\n", key, addr_str(&a, buf, sizeof(buf)));
}

static void
print_response(const uint8_t *b, size_t n)
{
	struct rd r;
	uint8_t version, op, res;
	uint8_t nonce[12], addr16[16];
	size_t k;

	rd_init(&r, b, n);
	version = rd_u8(&r);
	op = rd_u8(&r);
	rd_u8(&r);
	res = rd_u8(&r);
	printf("length=%zu\nversion=%u\nopcode=%u\nresponse=%u\n", n, version, op & 0x7f, op >> 7);
	printf("result=%u\nresult_name=%s\n", res,
	       res < ARRAY_SIZE(result_names) ? result_names[res] : "?");
	printf("lifetime=%u\n", rd_u32(&r));
	printf("epoch=%u\n", rd_u32(&r));
	rd_skip(&r, 12);
	if (r.err)
		return;
	if ((op & 0x7f) == 1 || (op & 0x7f) == 2) {
		rd_bytes(&r, nonce, 12);
		if (r.err)
			return;
		printf("nonce=");
		for (k = 0; k < 12; k++)
			printf("%02x", nonce[k]);
		printf("\nprotocol=%u\n", rd_u8(&r));
		rd_skip(&r, 3);
		printf("internal_port=%u\n", rd_u16(&r));
		printf("external_port=%u\n", rd_u16(&r));
		rd_bytes(&r, addr16, 16);
		print_addr("external_ip", addr16);
		if ((op & 0x7f) == 2) {
			printf("peer_port=%u\n", rd_u16(&r));
			rd_skip(&r, 2);
			rd_bytes(&r, addr16, 16);
			print_addr("peer_ip", addr16);
		}
	}
	while (!r.err && r.left >= 4) {
		uint8_t code = rd_u8(&r);
		uint16_t len;

		rd_u8(&r);
		len = rd_u16(&r);
		printf("option=%u length=%u\n", code, len);
		rd_skip(&r, ((size_t)len + 3) / 4 * 4);
	}
}

int
main(int argc, char **argv)
{
	uint32_t timeout = 2000, version = 2, lifetime = 0;
	uint8_t nonce[12], req[1100], resp[1200], proto = 0;
	uint16_t iport = 0, eport = 0, pport = 0;
	struct in6_addr client, ext, peer;
	struct sockaddr_storage srv, local;
	socklen_t ll = sizeof(local), sl;
	struct addrinfo hints, *ai;
	const char *client_s = NULL, *nonce_s = NULL;
	struct wr w;
	uint64_t deadline, next;
	unsigned wait_ms = 250;
	int i = 1, s, op, fd;

	memset(&ext, 0, sizeof(ext));
	memset(&peer, 0, sizeof(peer));
	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (i + 1 >= argc)
			return usage();
		if (strcmp(argv[i], "-t") == 0) {
			if (parse_u32(argv[i + 1], 1, 60000, &timeout) < 0)
				return usage();
		} else if (strcmp(argv[i], "-c") == 0) {
			client_s = argv[i + 1];
		} else if (strcmp(argv[i], "-n") == 0) {
			nonce_s = argv[i + 1];
		} else if (strcmp(argv[i], "-V") == 0) {
			if (parse_u32(argv[i + 1], 0, 255, &version) < 0)
				return usage();
		} else {
			return usage();
		}
	}
	if (argc - i < 2)
		return usage();
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	if (getaddrinfo(argv[i], "5351", &hints, &ai) != 0)
		return usage();
	memcpy(&srv, ai->ai_addr, ai->ai_addrlen);
	sl = ai->ai_addrlen;
	freeaddrinfo(ai);
	i++;
	if (i >= argc)
		return usage();
	if (strcmp(argv[i], "announce") == 0) {
		op = 0;
		i++;
	} else if (strcmp(argv[i], "map") == 0 || strcmp(argv[i], "peer") == 0) {
		op = strcmp(argv[i], "map") == 0 ? 1 : 2;
		if (argc - i < 5 || parse_proto(argv[i + 1], &proto) < 0 ||
		    parse_u16(argv[i + 2], 0, 65535, &iport) < 0 ||
		    parse_u16(argv[i + 3], 0, 65535, &eport) < 0 ||
		    parse_u32(argv[i + 4], 0, UINT32_MAX, &lifetime) < 0)
			return usage();
		i += 5;
		if (op == 2) {
			if (argc - i < 2 || addr_parse(argv[i], &peer) < 0 ||
			    parse_u16(argv[i + 1], 0, 65535, &pport) < 0)
				return usage();
			i += 2;
		}
	} else {
		return usage();
	}

	s = socket(srv.ss_family, SOCK_DGRAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&srv, sl) < 0 ||
	    getsockname(s, (struct sockaddr *)&local, &ll) < 0) {
		perror("pcpc socket");
		return 1;
	}
	if (client_s != NULL) {
		if (addr_parse(client_s, &client) < 0)
			return usage();
	} else if (local.ss_family == AF_INET6) {
		client = ((struct sockaddr_in6 *)&local)->sin6_addr;
	} else {
		addr_from_v4(&client, ((struct sockaddr_in *)&local)->sin_addr);
	}
	if (nonce_s != NULL) {
		size_t n;
		if (hex_decode(nonce_s, nonce, sizeof(nonce), &n) < 0 || n != 12)
			return usage();
	} else {
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, nonce, sizeof(nonce)) != (ssize_t)sizeof(nonce))
			return 1;
		close(fd);
	}

	/* Header (§7.1), then the opcode's data, then options. */
	wr_init(&w, req, sizeof(req));
	wr_u8(&w, (uint8_t)version);
	wr_u8(&w, (uint8_t)op);
	wr_u16(&w, 0);
	wr_u32(&w, lifetime);
	wr_bytes(&w, &client, 16);
	{
		/* The opcode data goes in after the options are known only
		 * for -x; parse options into a side buffer first. */
		uint8_t obuf[1100];
		struct wr ow;

		wr_init(&ow, obuf, sizeof(obuf));
		if (parse_options(&ow, argc, argv, i, op != 0 ? &ext : NULL) < 0 || ow.err)
			return usage();
		if (op != 0) {
			wr_bytes(&w, nonce, 12);
			wr_u8(&w, proto);
			wr_zero(&w, 3);
			wr_u16(&w, iport);
			wr_u16(&w, eport);
			wr_bytes(&w, &ext, 16);
			if (op == 2) {
				wr_u16(&w, pport);
				wr_u16(&w, 0);
				wr_bytes(&w, &peer, 16);
			}
		}
		wr_bytes(&w, obuf, wr_len(&ow));
	}
	if (w.err) {
		fprintf(stderr, "pcpc: request too long\n");
		return 1;
	}

	deadline = time_mono_ms() + timeout;
	next = 0;
	for (;;) {
		uint64_t now = time_mono_ms();
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t n;
		int t;

		if (now >= deadline)
			break;
		if (now >= next) {
			/* §8.1.1 retransmission, shortened for tests. */
			if (send(s, req, wr_len(&w), 0) < 0 && errno != ECONNREFUSED) {
				perror("pcpc send");
				return 1;
			}
			next = now + wait_ms;
			wait_ms *= 2;
		}
		t = (int)((next < deadline ? next : deadline) - now);
		if (poll(&p, 1, t) <= 0)
			continue;
		n = recv(s, resp, sizeof(resp), 0);
		if (n < 0)
			continue;	/* ICMP unreachable: keep trying until the deadline */
		print_response(resp, (size_t)n);
		return 0;
	}
	printf("timeout\n");
	return 2;
}
