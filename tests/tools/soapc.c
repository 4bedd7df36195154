/* soapc.c - a raw UPnP control client for the lab tests, for the requests
 * upnpc cannot make (missing or malformed arguments, another host's
 * address, v2 actions, odd headers).
 *
 *   soapc URL SERVICE_URN ACTION [NAME=VALUE...]   POST a SOAP call
 *   soapc get URL                                  GET a document
 *   soapc raw HOST PORT                            send stdin as is; the
 *        answer's header lines are printed too, as "< Name: value"
 *   soapc flood HOST PORT N SECONDS                open N idle connections,
 *        hold them SECONDS, print how many were open at the end
 *   soapc catch PORT SECONDS                       accept one HTTP request
 *        (a GENA NOTIFY), print it, answer 200
 *   soapc slow HOST PORT MS                        like raw, one byte every
 *        MS milliseconds (a slow client)
 *   soapc burst HOST PORT N SECONDS                send stdin N times, one
 *        connection each, for at most SECONDS; print "sent N" and one
 *        "status S COUNT" line per answer status (000 = closed, no answer)
 *   soapc half HOST PORT                           like raw, then shut the
 *        sending side down (a half-close) before reading the answer
 *   soapc session HOST PORT FILE|+MS...            send each FILE on one
 *        connection after the answer to the one before has come (keep-alive;
 *        +MS: wait MS ms);
 *        print "answer K: HTTP S connection C" (C: the Connection header or
 *        -), the answer's body, and at the end "closed-by-server yes|no"
 *   soapc hold HOST PORT N SECONDS [SRC...]        send stdin on N
 *        connections (from the source addresses SRC in turn, if given) and
 *        never read the answers (a small receive buffer), hold them
 *        SECONDS; print "opened N closed-by-server M"
 *
 * An answer is taken once the server closes, or once the answers that came
 * are complete (Content-Length) and nothing more comes for 150 ms (burst:
 * at once): the server may keep the connection open.
 * Prints "HTTP <status>", then "UPnPError <code>" for a SOAP fault, then
 * the body.  Exit status 0 for HTTP 200, 1 otherwise, 2 on usage or
 * connection errors.  Every wait is bounded (5 s). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int
usage(void)
{
	fprintf(stderr, "usage: soapc URL SERVICE_URN ACTION [NAME=VALUE...]\n"
			"       soapc get URL\n"
			"       soapc raw HOST PORT <request\n"
			"       soapc slow HOST PORT MS <request\n"
			"       soapc burst HOST PORT N SECONDS <request\n"
			"       soapc half HOST PORT <request\n"
			"       soapc hold HOST PORT N SECONDS [SRC...] <request\n"
			"       soapc session HOST PORT FILE|+MS...\n"
			"       soapc flood HOST PORT N SECONDS\n"
			"       soapc catch PORT SECONDS\n");
	return 2;
}

/* http://a.b.c.d:port/path */
static int
parse_url(const char *url, struct sockaddr_in *sin, char *hostport, size_t hsize,
	  const char **path)
{
	const char *h, *slash, *colon;
	char host[64];
	uint16_t port = 80;

	if (strncmp(url, "http://", 7) != 0)
		return -1;
	h = url + 7;
	slash = strchr(h, '/');
	*path = slash ? slash : "/";
	if (str_copy_n(hostport, hsize, h, slash ? (size_t)(slash - h) : strlen(h)) < 0)
		return -1;
	colon = strchr(hostport, ':');
	if (colon != NULL && parse_u16(colon + 1, 1, 65535, &port) < 0)
		return -1;
	if (str_copy_n(host, sizeof(host), hostport,
		       colon ? (size_t)(colon - hostport) : strlen(hostport)) < 0)
		return -1;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

static int half_close;	/* half: shutdown(SHUT_WR) once the request is sent */
/* Once the answers that came are complete (Content-Length), wait this long
 * for more (or the close) before taking them: the server may keep the
 * connection open (keep-alive).  0: take them at once. */
static uint32_t linger_ms = 150;

/* Do buf[0..got) end with a complete answer, each framed by Content-Length? */
static bool
answers_complete(const char *buf, size_t got)
{
	size_t off = 0;

	while (off < got) {
		const char *h = buf + off, *e = memmem(h, got - off, "\r\n\r\n", 4), *cl;
		char head[8192];
		unsigned long n;

		if (e == NULL || (size_t)(e - h) >= sizeof(head))
			return false;
		memcpy(head, h, (size_t)(e - h));
		head[e - h] = '\0';
		cl = strcasestr(head, "\r\ncontent-length:");
		if (cl == NULL)
			return false;	/* framed by the close */
		n = strtoul(cl + 17, NULL, 10);
		off = (size_t)(e + 4 - buf) + n;
	}
	return off == got;
}

/* Send req (one byte every gap_ms if not 0), read the whole answer (the
 * server closes) into buf; the HTTP status, 0 if none came. */
static int
transact(const struct sockaddr_in *sin, const char *req, size_t len, uint32_t gap_ms,
	 char *buf, size_t size)
{
	size_t got = 0, off = 0;
	uint64_t end;
	int s = socket(AF_INET, SOCK_STREAM, 0), status = 0;

	if (s < 0)
		return -1;
	{
		struct timeval tv = { 5, 0 };

		setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(s, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		perror("soapc: connect");
		close(s);
		return -1;
	}
	while (off < len) {
		ssize_t n = send(s, req + off, gap_ms ? 1 : len - off, MSG_NOSIGNAL);

		if (n <= 0)
			break;
		off += (size_t)n;
		if (gap_ms && off < len) {
			struct pollfd p = { .fd = s, .events = POLLIN };

			/* an early answer (or close) ends the trickle */
			if (poll(&p, 1, (int)gap_ms) > 0)
				break;
		}
	}
	if (half_close)
		shutdown(s, SHUT_WR);
	end = time_mono_ms() + 5000;
	while (got < size - 1 && time_mono_ms() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		uint64_t until = end;
		ssize_t n;

		if (got > 0 && answers_complete(buf, got))
			until = time_mono_ms() + linger_ms < end ? time_mono_ms() + linger_ms : end;
		if (poll(&p, 1, (int)(until - time_mono_ms())) <= 0)
			break;
		n = recv(s, buf + got, size - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(s);
	buf[got] = '\0';
	if (got < 12 || strncmp(buf, "HTTP/1.", 7) != 0 || sscanf(buf + 9, "%3d", &status) != 1)
		return 0;
	return status;
}

static int show_headers;	/* raw: print "< header" lines */

static uint64_t
time_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* transact and print the answer: "HTTP <status>", ["< header"...,]
 * "UPnPError <code>", body. */
static int
exchange(const struct sockaddr_in *sin, const char *req, size_t len, uint32_t gap_ms)
{
	static char buf[4 << 20];
	const char *body, *ec;
	uint64_t t0 = time_mono_us();
	int status = transact(sin, req, len, gap_ms, buf, sizeof(buf));

	if (status < 0)
		return 2;
	if (status == 0) {
		printf("HTTP 000\n");
		return 1;
	}
	printf("HTTP %d\n", status);
	/* SOAPC_TIME=1: the exchange's own time, connect to answer (timings
	 * without the process start-up) */
	if (getenv("SOAPC_TIME") != NULL)
		printf("TIME_US %llu\n", (unsigned long long)(time_mono_us() - t0));
	if (show_headers) {
		const char *l = strstr(buf, "\r\n"), *hend = strstr(buf, "\r\n\r\n");

		while (l != NULL && hend != NULL && l < hend) {
			const char *n = strstr(l + 2, "\r\n");

			printf("< %.*s\n", (int)(n - l - 2), l + 2);
			l = n;
		}
	}
	ec = strstr(buf, "<errorCode>");
	if (ec != NULL) {
		int code = 0;

		if (sscanf(ec + 11, "%d", &code) == 1)
			printf("UPnPError %d\n", code);
	}
	body = strstr(buf, "\r\n\r\n");
	printf("%s\n", body ? body + 4 : "");
	return status == 200 ? 0 : 1;
}

/* Hold n connections open; count the ones the server did not close. */
static int
flood(const struct sockaddr_in *sin, uint32_t n, uint32_t secs)
{
	int *fds = calloc(n, sizeof(*fds));
	uint32_t i, opened = 0, alive = 0;

	if (fds == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] >= 0 && connect(fds[i], (const struct sockaddr *)sin, sizeof(*sin)) == 0)
			opened++;
	}
	sleep(secs);
	for (i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN };
		char c;

		if (fds[i] < 0)
			continue;
		if (poll(&p, 1, 0) == 0 || recv(fds[i], &c, 1, MSG_DONTWAIT) > 0)
			alive++;
		close(fds[i]);
	}
	free(fds);
	printf("opened %u still-open %u\n", opened, alive);
	return 0;
}

/* Send req on n connections and never read: the answers stay with the
 * server (a receive buffer of 4 KiB takes little of them).  Count the
 * connections the server closed (or reset) meanwhile. */
static int
hold(const struct sockaddr_in *sin, const char *req, size_t len, uint32_t n, uint32_t secs,
     char **src, int n_src)
{
	int *fds = calloc(n, sizeof(*fds)), rcvbuf = 4096;
	uint32_t i, opened = 0, closed = 0;

	if (fds == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		struct sockaddr_in me = { .sin_family = AF_INET };

		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0)
			continue;
		setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
		if (n_src > 0 && (inet_pton(AF_INET, src[i % (uint32_t)n_src], &me.sin_addr) != 1 ||
				  bind(fds[i], (struct sockaddr *)&me, sizeof(me)) < 0)) {
			perror("soapc: source address");
			continue;
		}
		if (connect(fds[i], (const struct sockaddr *)sin, sizeof(*sin)) == 0 &&
		    send(fds[i], req, len, MSG_NOSIGNAL) == (ssize_t)len)
			opened++;
	}
	sleep(secs);
	for (i = 0; i < n; i++) {
		struct pollfd p = { .fd = fds[i], .events = POLLIN | POLLRDHUP };

		if (fds[i] < 0)
			continue;
		if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			closed++;
		close(fds[i]);
	}
	free(fds);
	printf("opened %u closed-by-server %u\n", opened, closed);
	return 0;
}

/* Read one whole answer from s into buf (NUL-terminated); its length, or 0
 * when the connection closed or 5 s passed first. */
static size_t
read_answer(int s, char *buf, size_t size)
{
	uint64_t end = time_mono_ms() + 5000;
	size_t got = 0;

	while (got < size - 1 && time_mono_ms() < end) {
		struct pollfd p = { .fd = s, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, (int)(end - time_mono_ms())) <= 0)
			break;
		n = recv(s, buf + got, size - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (answers_complete(buf, got))
			return got;
	}
	return 0;
}

/* soapc session: each file's request after the answer to the previous. */
static int
session(const struct sockaddr_in *sin, char **files, int n_files)
{
	static char req[1 << 20], buf[4 << 20];
	int s = socket(AF_INET, SOCK_STREAM, 0), i;
	struct pollfd p;

	if (s < 0 || connect(s, (const struct sockaddr *)sin, sizeof(*sin)) < 0) {
		perror("soapc: connect");
		return 2;
	}
	for (i = 0; i < n_files; i++) {
		FILE *f;
		size_t len;
		const char *c, *body;
		int status = 0;
		uint32_t ms;

		if (files[i][0] == '+' && parse_u32(files[i] + 1, 0, 60000, &ms) == 0) {
			poll(NULL, 0, (int)ms);
			continue;
		}
		f = fopen(files[i], "rb");
		len = f ? fread(req, 1, sizeof(req), f) : 0;
		if (f != NULL)
			fclose(f);
		if (len == 0 || send(s, req, len, MSG_NOSIGNAL) != (ssize_t)len ||
		    read_answer(s, buf, sizeof(buf)) == 0) {
			printf("answer %d: none\n", i + 1);
			break;
		}
		sscanf(buf + 9, "%3d", &status);
		c = strcasestr(buf, "\r\nConnection: ");
		body = strstr(buf, "\r\n\r\n");
		printf("answer %d: HTTP %d connection %.*s\n%s\n", i + 1, status,
		       c ? (int)strcspn(c + 14, "\r") : 1, c ? c + 14 : "-", body ? body + 4 : "");
	}
	p.fd = s;
	p.events = POLLIN | POLLRDHUP;
	printf("closed-by-server %s\n", poll(&p, 1, 150) > 0 ? "yes" : "no");
	close(s);
	return 0;
}

/* The same request n times, one connection each, within secs; count the
 * answers by status. */
static int
burst(const struct sockaddr_in *sin, const char *req, size_t len, uint32_t n, uint32_t secs)
{
	static char buf[65536];
	static uint32_t count[1000];
	uint64_t end = time_mono_ms() + (uint64_t)secs * 1000;
	uint32_t i, sent = 0;

	for (i = 0; i < n && time_mono_ms() < end; i++) {
		int st = transact(sin, req, len, 0, buf, sizeof(buf));

		if (st < 0)
			st = 0;
		count[st < 1000 ? st : 0]++;
		sent++;
	}
	printf("sent %u\n", sent);
	for (i = 0; i < 1000; i++)
		if (count[i] > 0)
			printf("status %03u %u\n", i, count[i]);
	return 0;
}

static int
catch_one(uint16_t port, uint32_t secs)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct pollfd p;
	static char buf[65536];
	int one = 1, s, c;
	size_t got = 0;
	uint64_t end = time_mono_ms() + (uint64_t)secs * 1000;

	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(s, 8) < 0)
		return 2;
	printf("listening\n");
	fflush(stdout);
	p.fd = s;
	p.events = POLLIN;
	if (poll(&p, 1, (int)secs * 1000) <= 0)
		return 1;
	c = accept(s, NULL, NULL);
	if (c < 0)
		return 1;
	while (got < sizeof(buf) - 1 && time_mono_ms() < end) {
		const char *hdr_end, *cl;
		ssize_t n;

		p.fd = c;
		if (poll(&p, 1, 200) <= 0)
			continue;
		n = recv(c, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		cl = strcasestr(buf, "content-length:");
		if (hdr_end != NULL && cl != NULL) {
			unsigned long want = strtoul(cl + 15, NULL, 10);

			if (got >= (size_t)(hdr_end + 4 - buf) + want)
				break;
		}
	}
	buf[got] = '\0';
	printf("%s\n", buf);
	send(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38, MSG_NOSIGNAL);
	close(c);
	close(s);
	return got > 0 ? 0 : 1;
}

/* soapc URL SERVICE_URN ACTION [NAME=VALUE...]: the call in req[size]. */
static int
soap_call(int argc, char **argv, char *req, size_t size)
{
	static char body[32768];
	char hostport[80];
	struct sockaddr_in sin;
	const char *path;
	int i;

	if (argc < 4 || parse_url(argv[1], &sin, hostport, sizeof(hostport), &path) < 0)
		return usage();
	if (str_printf(body, sizeof(body),
		       "<?xml version=\"1.0\"?>\r\n<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
		       "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
		       "<u:%s xmlns:u=\"%s\">", argv[3], argv[2]) < 0)
		return usage();
	for (i = 4; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');

		if (eq == NULL)
			return usage();
		/* values are sent as given: a test may want markup in them */
		if (str_appendf(body, sizeof(body), "<%.*s>%s</%.*s>", (int)(eq - argv[i]), argv[i],
				eq + 1, (int)(eq - argv[i]), argv[i]) < 0)
			return usage();
	}
	if (str_appendf(body, sizeof(body), "</u:%s></s:Body></s:Envelope>\r\n", argv[3]) < 0 ||
	    str_printf(req, size,
		       "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: text/xml; charset=\"utf-8\"\r\n"
		       "SOAPAction: \"%s#%s\"\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		       path, hostport, argv[2], argv[3], strlen(body), body) < 0)
		return usage();
	return exchange(&sin, req, strlen(req), 0);
}

int
main(int argc, char **argv)
{
	static char req[2 << 20];
	char hostport[80];
	struct sockaddr_in sin;
	const char *path;

	if (argc == 3 && strcmp(argv[1], "get") == 0) {
		if (parse_url(argv[2], &sin, hostport, sizeof(hostport), &path) < 0 ||
		    str_printf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
			       path, hostport) < 0)
			return usage();
		return exchange(&sin, req, strlen(req), 0);
	}
	if (argc == 4 && (strcmp(argv[1], "raw") == 0 || strcmp(argv[1], "half") == 0)) {
		uint16_t port;
		size_t n;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1 || parse_u16(argv[3], 1, 65535, &port) < 0)
			return usage();
		sin.sin_port = htons(port);
		n = fread(req, 1, sizeof(req), stdin);
		show_headers = 1;
		half_close = argv[1][0] == 'h';
		return exchange(&sin, req, n, 0);
	}
	if ((argc == 5 && strcmp(argv[1], "slow") == 0) ||
	    (argc == 6 && strcmp(argv[1], "burst") == 0) || (argc >= 6 && strcmp(argv[1], "hold") == 0)) {
		uint32_t a, b = 0;
		uint16_t port;
		size_t n;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1 || parse_u16(argv[3], 1, 65535, &port) < 0 ||
		    parse_u32(argv[4], 1, 100000, &a) < 0 || (argc >= 6 && parse_u32(argv[5], 1, 600, &b) < 0))
			return usage();
		sin.sin_port = htons(port);
		n = fread(req, 1, sizeof(req), stdin);
		if (argc == 5)
			return exchange(&sin, req, n, a);
		if (argv[1][1] == 'u') {
			linger_ms = 0;
			return burst(&sin, req, n, a, b);
		}
		return hold(&sin, req, n, a, b, argv + 6, argc - 6);
	}
	if (argc >= 5 && strcmp(argv[1], "session") == 0) {
		uint16_t port;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1 || parse_u16(argv[3], 1, 65535, &port) < 0)
			return usage();
		sin.sin_port = htons(port);
		return session(&sin, argv + 4, argc - 4);
	}
	if (argc == 6 && strcmp(argv[1], "flood") == 0) {
		uint32_t n, secs;
		uint16_t port;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1 || parse_u16(argv[3], 1, 65535, &port) < 0 ||
		    parse_u32(argv[4], 1, 100000, &n) < 0 || parse_u32(argv[5], 0, 600, &secs) < 0)
			return usage();
		sin.sin_port = htons(port);
		return flood(&sin, n, secs);
	}
	if (argc == 4 && strcmp(argv[1], "catch") == 0) {
		uint16_t port;
		uint32_t secs;

		if (parse_u16(argv[2], 1, 65535, &port) < 0 || parse_u32(argv[3], 1, 600, &secs) < 0)
			return usage();
		return catch_one(port, secs);
	}
	return soap_call(argc, argv, req, sizeof(req));
}
