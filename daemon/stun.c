/* stun.c - STUN (RFC 8489) for the external address, RFC 5780's
 * filtering test, on the event loop (stun.h).
 *
 * A run: resolve ext_stun_host (an address as is; a name in a child
 * process, so that the loop never waits on DNS), then
 *   test I    a Binding request; its XOR-MAPPED-ADDRESS (else
 *             MAPPED-ADDRESS) is the external address;
 *   test II   with OTHER-ADDRESS known, the same with CHANGE-REQUEST (other
 *             address and port): an answer means endpoint-independent
 *             filtering;
 *   test III  else CHANGE-REQUEST (other port): an answer means
 *             address-dependent filtering, none address and port dependent.
 * Test I retransmits as RFC 8489 §6.2.1 says (RTO 500 ms doubling, 7
 * requests, 16 RTO after the last: 39.5 s); the filtering tests send
 * STUN_TEST_TRIES requests (an answer that does not come is their
 * verdict).  All from one socket bound to the WAN address (one mapping in
 * the NAT above).  A failed run is logged and tried again (30 s, doubling,
 * up to ext_stun_interval), never fatal. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "iface.h"
#include "log.h"
#include "stun.h"
#include "util.h"
#include "wire.h"

#define STUN_ATTR_MAPPED	0x0001
#define STUN_ATTR_CHANGE_REQ	0x0003
#define STUN_ATTR_CHANGED	0x0005	/* RFC 3489 */
#define STUN_ATTR_ERROR		0x0009
#define STUN_ATTR_XOR_MAPPED	0x0020
#define STUN_ATTR_OTHER		0x802C	/* RFC 5780 */
#define STUN_RETRY_MS		30000	/* after a failed run, doubling */
#define STUN_RESOLVE_MS		10000

enum stun_phase { SP_IDLE, SP_RESOLVE, SP_TEST1, SP_TEST2, SP_TEST3 };

struct stun {
	struct igdd_ctx *ctx;
	struct loop_fd lfd, rfd;	/* the run's socket; the resolver's pipe */
	bool sock_open, pipe_open;
	pid_t child;
	struct loop_timer timer;	/* retransmission, resolver bound, next run */
	enum stun_phase phase;
	struct sockaddr_in server;
	uint8_t txid[12];
	unsigned sent;
	uint64_t rto;
	/* the last run's findings */
	bool have_result;
	struct in_addr mapped, other, last_wan;
	uint16_t other_port;
	enum stun_filtering filtering;
	uint64_t retry_ms;
	unsigned failures;
	bool reachable;
	bool xor_mapped, rerun;
	struct in_addr told_by;		/* the server of the last result */
	uint64_t result_ms;
	uint64_t runs, failed_runs;
};

/* --- messages ------------------------------------------------------------- */

size_t
stun_write_request(uint8_t *buf, size_t size, const uint8_t *txid, uint8_t change)
{
	struct wr w;

	wr_init(&w, buf, size);
	wr_u16(&w, STUN_BINDING_REQUEST);
	wr_u16(&w, change != 0 ? 8 : 0);
	wr_u32(&w, STUN_MAGIC);
	wr_bytes(&w, txid, 12);
	if (change != 0) {
		wr_u16(&w, STUN_ATTR_CHANGE_REQ);
		wr_u16(&w, 4);
		wr_u32(&w, change);
	}
	return w.err ? 0 : wr_len(&w);
}

/* A (XOR-)MAPPED-ADDRESS-shaped value: reserved, family, port, address.
 * IPv4 only; 0, or -1 for another family or a wrong length. */
static int
read_address(const uint8_t *v, uint16_t len, bool xored, struct in_addr *a, uint16_t *port)
{
	struct rd r;
	uint32_t addr;

	if (len != 8)
		return -1;	/* IPv6 (20 bytes) or broken */
	rd_init(&r, v, len);
	rd_u8(&r);
	if (rd_u8(&r) != 0x01)
		return -1;
	*port = rd_u16(&r);
	addr = rd_u32(&r);
	if (xored) {
		*port ^= (uint16_t)(STUN_MAGIC >> 16);
		addr ^= STUN_MAGIC;
	}
	a->s_addr = htonl(addr);
	return r.err ? -1 : 0;
}

static void
read_attr(uint16_t type, const uint8_t *v, uint16_t len, struct stun_resp *r)
{
	switch (type) {
	case STUN_ATTR_XOR_MAPPED:
		if (read_address(v, len, true, &r->mapped, &r->mapped_port) == 0)
			r->has_mapped = r->xor_mapped = true;
		break;
	case STUN_ATTR_MAPPED:
		/* XOR-MAPPED-ADDRESS is preferred (RFC 8489 §14.1): NATs
		 * that rewrite addresses in payloads do not reach it. */
		if (!r->xor_mapped &&
		    read_address(v, len, false, &r->mapped, &r->mapped_port) == 0)
			r->has_mapped = true;
		break;
	case STUN_ATTR_OTHER:
	case STUN_ATTR_CHANGED:
		if (read_address(v, len, false, &r->other, &r->other_port) == 0)
			r->has_other = true;
		break;
	case STUN_ATTR_ERROR:
		if (len >= 4)
			r->error = (v[2] & 0x7) * 100 + (v[3] % 100);
		break;
	default:
		break;	/* a response's unknown attributes are a client's to skip */
	}
}

int
stun_parse_response(const uint8_t *buf, size_t len, const uint8_t *txid, struct stun_resp *out)
{
	uint8_t id[12];
	uint16_t type, mlen;
	struct rd r;

	memset(out, 0, sizeof(*out));
	rd_init(&r, buf, len);
	type = rd_u16(&r);
	mlen = rd_u16(&r);
	if (rd_u32(&r) != STUN_MAGIC)
		return -1;
	rd_bytes(&r, id, sizeof(id));
	if (r.err || (type != STUN_BINDING_SUCCESS && type != STUN_BINDING_ERROR) ||
	    mlen % 4 != 0 || (size_t)mlen != r.left || memcmp(id, txid, sizeof(id)) != 0)
		return -1;
	out->success = type == STUN_BINDING_SUCCESS;
	while (r.left > 0) {
		uint16_t at = rd_u16(&r), al = rd_u16(&r);
		const uint8_t *v = rd_take(&r, ((size_t)al + 3) & ~(size_t)3);

		if (v == NULL)
			return -1;
		read_attr(at, v, al, out);
	}
	if (out->success && !out->has_mapped)
		return -1;
	return 0;
}

const char *
stun_filtering_name(enum stun_filtering f)
{
	switch (f) {
	case STUN_FILTER_UNKNOWN: return "unknown (the server cannot tell)";
	case STUN_FILTER_NONE: return "no NAT";
	case STUN_FILTER_INDEPENDENT: return "endpoint-independent filtering";
	case STUN_FILTER_ADDRESS: return "address-dependent filtering";
	case STUN_FILTER_ADDRESS_PORT: return "address and port dependent filtering";
	}
	return "?";
}

/* --- a run ------------------------------------------------------------------ */

static void run_start(struct stun *s);

static void
sock_close(struct stun *s)
{
	if (s->sock_open) {
		loop_fd_del(&s->ctx->loop, &s->lfd);
		close(s->lfd.fd);
		s->sock_open = false;
	}
}

static void
resolver_close(struct stun *s)
{
	if (s->pipe_open) {
		loop_fd_del(&s->ctx->loop, &s->rfd);
		close(s->rfd.fd);
		s->pipe_open = false;
	}
	if (s->child > 0) {
		kill(s->child, SIGKILL);
		waitpid(s->child, NULL, 0);
		s->child = 0;
	}
}

static uint64_t
next_run_ms(const struct stun *s)
{
	return (uint64_t)s->ctx->cfg.ext_stun_interval * 1000u;
}

/* The run failed (no answer, no address, an error response). */
static void
run_failed(struct stun *s, const char *why)
{
	uint64_t cap = next_run_ms(s) ? next_run_ms(s) : 600000;

	sock_close(s);
	resolver_close(s);
	s->phase = SP_IDLE;
	s->failed_runs++;
	if (s->rerun) {
		s->rerun = false;
		loop_timer_set(&s->ctx->loop, &s->timer, 0);
		return;
	}
	if (s->failures++ == 0)
		log_warnx("STUN: %s (%s:%u); trying again, the external address stays as it is",
			  why, s->ctx->cfg.ext_stun_host, s->ctx->cfg.ext_stun_port);
	else
		log_debug("STUN: %s (failure %u)", why, s->failures);
	s->retry_ms = s->retry_ms ? s->retry_ms * 2 : STUN_RETRY_MS;
	if (s->retry_ms > cap)
		s->retry_ms = cap;
	loop_timer_set(&s->ctx->loop, &s->timer, s->retry_ms);
}

static bool
verdict_reachable(const struct stun *s)
{
	if (iface_addr_is_private(s->mapped) && s->filtering != STUN_FILTER_NONE)
		return false;	/* behind a NAT whose outside is not public: a CGN */
	if (s->ctx->cfg.ext_perform_stun == CFG_STUN_YES &&
	    (s->filtering == STUN_FILTER_ADDRESS || s->filtering == STUN_FILTER_ADDRESS_PORT))
		return false;	/* miniupnpd's yes: no port forwarding behind it */
	return true;
}

/* The run is over: the address is what igdd reports (unless a relay's
 * upstream tells it), and the verdict is said plainly. */
static void
run_done(struct stun *s)
{
	bool was = s->reachable, had = s->have_result;

	sock_close(s);
	s->phase = SP_IDLE;
	s->failures = 0;
	s->retry_ms = 0;
	s->have_result = true;
	s->runs++;
	s->result_ms = time_mono_ms();
	s->told_by = s->server.sin_addr;
	s->reachable = verdict_reachable(s);
	log_info("STUN: %s above the external address %s", stun_filtering_name(s->filtering),
		 ADDR4_STR(s->mapped));
	if (!s->reachable && (was || !had) && s->ctx->relay_active)
		log_info("STUN: %s above: mappings are reachable only through the upstream "
			 "gateway's (upstream_protocol); without it they could not be",
			 iface_addr_is_private(s->mapped) ? "a NAT with a private or shared address"
							  : "a filtering NAT");
	else if (!s->reachable && (was || !had))
		log_warnx("STUN: mappings cannot be reached from outside (%s): UPnP says "
			  "Disconnected, NAT-PMP and PCP refuse mappings%s",
			  iface_addr_is_private(s->mapped) ? "the NAT above has a private or shared "
							     "address: a carrier-grade NAT"
							   : "the NAT above filters",
			  iface_addr_is_private(s->mapped) ? "; upstream_protocol can relay them" :
			  "; ext_perform_stun=allow-filtered maps anyway");
	else if (iface_addr_is_private(s->mapped))
		log_warnx("STUN: the external address %s is not public", ADDR4_STR(s->mapped));
	loop_timer_cancel(&s->ctx->loop, &s->timer);	/* test I's retransmission */
	if (s->rerun)
		loop_timer_set(&s->ctx->loop, &s->timer, 0);
	else if (next_run_ms(s) > 0)
		loop_timer_set(&s->ctx->loop, &s->timer, next_run_ms(s));
	s->rerun = false;
	if (had && was != s->reachable)
		ctx_run_ext_hooks(s->ctx);	/* ConnectionStatus is evented */
}

static void
test_send(struct stun *s)
{
	uint8_t buf[32];
	uint8_t change = s->phase == SP_TEST2 ? STUN_CHANGE_IP | STUN_CHANGE_PORT :
			 s->phase == SP_TEST3 ? STUN_CHANGE_PORT : 0;
	size_t n = stun_write_request(buf, sizeof(buf), s->txid, change);

	if (sendto(s->lfd.fd, buf, n, 0, (struct sockaddr *)&s->server, sizeof(s->server)) < 0)
		log_debug("STUN: sendto %s: %s", ADDR4_STR(s->server.sin_addr), strerror(errno));
	s->sent++;
	/* RFC 8489 §6.2.1: after the last request, Rm RTOs */
	loop_timer_set(&s->ctx->loop, &s->timer,
		       s->phase == SP_TEST1 && s->sent == STUN_RC ? STUN_RM * STUN_RTO_MS : s->rto);
	s->rto *= 2;
}

static void
test_begin(struct stun *s, enum stun_phase phase)
{
	s->phase = phase;
	s->sent = 0;
	s->rto = STUN_RTO_MS;
	if (getrandom(s->txid, sizeof(s->txid), GRND_NONBLOCK) != (ssize_t)sizeof(s->txid)) {
		uint64_t t = time_mono_ms() ^ (uint64_t)(uintptr_t)s;
		memcpy(s->txid, &t, sizeof(t));
	}
	test_send(s);
}

static void
test_answer(struct stun *s, const struct stun_resp *r)
{
	switch (s->phase) {
	case SP_TEST1:
		if (!r->success) {
			run_failed(s, "the server answered with an error");
			return;
		}
		/* The address is known now; the filtering tests take
		 * seconds more. */
		s->mapped = r->mapped;
		s->xor_mapped = r->xor_mapped;
		log_info("STUN: external address %s (server %s)", ADDR4_STR(r->mapped),
			 ADDR4_STR(s->server.sin_addr));
		if (!s->ctx->relay_active)
			iface_set_learnt(s->ctx, s->mapped, "seen by STUN");
		s->filtering = STUN_FILTER_UNKNOWN;
		if (r->mapped.s_addr == s->ctx->wan_addr.s_addr)
			s->filtering = STUN_FILTER_NONE;
		if (r->has_other && s->filtering == STUN_FILTER_UNKNOWN) {
			s->other = r->other;
			s->other_port = r->other_port;
			test_begin(s, SP_TEST2);
			return;
		}
		break;
	case SP_TEST2:
		s->filtering = STUN_FILTER_INDEPENDENT;
		break;
	case SP_TEST3:
		s->filtering = STUN_FILTER_ADDRESS;
		break;
	default:
		return;
	}
	run_done(s);
}

static void
timer_fire(struct loop_timer *t)
{
	struct stun *s = container_of(t, struct stun, timer);

	switch (s->phase) {
	case SP_IDLE:
		run_start(s);
		return;
	case SP_RESOLVE:
		run_failed(s, "cannot resolve ext_stun_host in time");
		return;
	case SP_TEST1:
		if (s->sent < STUN_RC)
			test_send(s);
		else
			run_failed(s, "no answer from the server");
		return;
	case SP_TEST2:
	case SP_TEST3:
		if (s->sent < STUN_TEST_TRIES) {
			test_send(s);
		} else if (s->phase == SP_TEST2) {
			test_begin(s, SP_TEST3);
		} else {
			s->filtering = STUN_FILTER_ADDRESS_PORT;
			run_done(s);
		}
		return;
	}
}

/* Answers come from the server, or in the filtering tests from its other
 * address or port; only a response to the transaction of the moment
 * counts. */
static void
sock_readable(struct loop_fd *lfd, uint32_t events)
{
	struct stun *s = container_of(lfd, struct stun, lfd);
	uint8_t buf[1500];
	struct sockaddr_in src;
	struct stun_resp r;
	socklen_t sl;
	ssize_t n;

	(void)events;
	while (s->sock_open) {
		sl = sizeof(src);
		n = recvfrom(lfd->fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&src, &sl);
		if (n < 0)
			return;
		if (src.sin_addr.s_addr != s->server.sin_addr.s_addr &&
		    src.sin_addr.s_addr != s->other.s_addr)
			continue;
		if (stun_parse_response(buf, (size_t)n, s->txid, &r) == 0)
			test_answer(s, &r);
	}
}

static int
sock_open(struct stun *s)
{
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr = s->ctx->wan_addr };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		close(fd);
		return -1;
	}
	s->lfd.fd = fd;
	s->lfd.cb = sock_readable;
	if (loop_fd_add(&s->ctx->loop, &s->lfd, EPOLLIN) < 0) {
		close(fd);
		return -1;
	}
	s->sock_open = true;
	return 0;
}

/* The server's address is known: the tests begin. */
static void
server_known(struct stun *s, struct in_addr a)
{
	s->server.sin_family = AF_INET;
	s->server.sin_addr = a;
	s->server.sin_port = htons(s->ctx->cfg.ext_stun_port);
	s->other.s_addr = 0;
	if (sock_open(s) < 0) {
		run_failed(s, "cannot open a socket on the WAN address");
		return;
	}
	test_begin(s, SP_TEST1);
}

static void
resolver_readable(struct loop_fd *lfd, uint32_t events)
{
	struct stun *s = container_of(lfd, struct stun, rfd);
	struct in_addr a = { 0 };
	ssize_t n = read(lfd->fd, &a, sizeof(a));

	(void)events;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	resolver_close(s);
	if (n != (ssize_t)sizeof(a) || a.s_addr == 0)
		run_failed(s, "cannot resolve ext_stun_host");
	else
		server_known(s, a);
}

/* A host name is resolved by a child process: getaddrinfo() may wait
 * for seconds, the loop may not.  The child writes the address (or
 * nothing) into a pipe and exits. */
static void
resolve(struct stun *s)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		run_failed(s, "cannot resolve ext_stun_host (pipe)");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res;
		struct in_addr a = { 0 };

		close(fds[0]);
		if (getaddrinfo(s->ctx->cfg.ext_stun_host, NULL, &hints, &res) == 0) {
			a = ((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr;
			freeaddrinfo(res);
		}
		if (write(fds[1], &a, sizeof(a)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		run_failed(s, "cannot resolve ext_stun_host (fork)");
		return;
	}
	s->child = pid;
	s->rfd.fd = fds[0];
	s->rfd.cb = resolver_readable;
	if (loop_fd_add(&s->ctx->loop, &s->rfd, EPOLLIN) < 0) {
		close(fds[0]);
		run_failed(s, "cannot resolve ext_stun_host");
		return;
	}
	s->pipe_open = true;
	s->phase = SP_RESOLVE;
	loop_timer_set(&s->ctx->loop, &s->timer, STUN_RESOLVE_MS);
}

static void
run_start(struct stun *s)
{
	struct in_addr a;

	if (s->phase != SP_IDLE)
		return;		/* one run at a time */
	s->last_wan = s->ctx->wan_addr;
	if (s->ctx->wan_addr.s_addr == 0) {
		run_failed(s, "ext_ifname has no address yet");
		return;
	}
	if (inet_pton(AF_INET, s->ctx->cfg.ext_stun_host, &a) == 1)
		server_known(s, a);
	else
		resolve(s);
}

/* The external address or link changed: a new WAN address is a reason
 * to ask again (what STUN itself learnt is not). */
static void
ext_changed(struct igdd_ctx *ctx)
{
	struct stun *s = ctx->stun;

	if (s != NULL && ctx->wan_addr.s_addr != 0 &&
	    ctx->wan_addr.s_addr != s->last_wan.s_addr && s->phase == SP_IDLE) {
		loop_timer_cancel(&ctx->loop, &s->timer);
		run_start(s);
	}
}

/* --- life ------------------------------------------------------------------- */

/* A host name is looked up once now, at start-up, before the system
 * call filter: that loads the C library's resolver modules (executable
 * mappings the filter refuses later) into the process, so that the child
 * processes of later lookups inherit them.  Blocking, once. */
static void
resolver_preload(const char *host)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_DGRAM }, *res;
	struct in_addr a;

	if (inet_pton(AF_INET, host, &a) == 1)
		return;
	if (getaddrinfo(host, NULL, &hints, &res) == 0)
		freeaddrinfo(res);
	else
		log_warnx("STUN: cannot resolve %s now; trying again when STUN runs", host);
}

int
stun_init(struct igdd_ctx *ctx)
{
	struct stun *s;

	if (ctx->cfg.ext_perform_stun == CFG_STUN_NO)
		return 0;
	resolver_preload(ctx->cfg.ext_stun_host);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	s->ctx = ctx;
	s->reachable = true;
	s->timer.cb = timer_fire;
	ctx->stun = s;
	ctx_add_ext_hook(ctx, ext_changed);
	loop_timer_set(&ctx->loop, &s->timer, 0);
	return 0;
}

void
stun_recheck(struct igdd_ctx *ctx)
{
	struct stun *s = ctx->stun;

	if (s != NULL && s->phase == SP_IDLE) {
		loop_timer_cancel(&ctx->loop, &s->timer);
		run_start(s);
	}
}

void
stun_shutdown(struct igdd_ctx *ctx)
{
	struct stun *s = ctx->stun;

	if (s == NULL)
		return;
	sock_close(s);
	resolver_close(s);
	loop_timer_cancel(&ctx->loop, &s->timer);
	free(s);
	ctx->stun = NULL;
}

bool
stun_reachable(const struct igdd_ctx *ctx)
{
	return ctx->stun == NULL || !ctx->stun->have_result || ctx->stun->reachable;
}

struct in_addr
stun_address(const struct igdd_ctx *ctx)
{
	struct in_addr none = { 0 };

	return ctx->stun != NULL && ctx->stun->have_result ? ctx->stun->mapped : none;
}

enum stun_filtering
stun_filtering(const struct igdd_ctx *ctx)
{
	return ctx->stun != NULL ? ctx->stun->filtering : STUN_FILTER_UNKNOWN;
}

const char *
stun_status(const struct igdd_ctx *ctx, char *buf, size_t size)
{
	const struct stun *s = ctx->stun;

	if (s == NULL)
		(void)str_copy(buf, size, "STUN: off");
	else if (!s->have_result)
		(void)str_copy(buf, size, "STUN: no answer yet");
	else if (str_printf(buf, size, "STUN: %s, %s%s", ADDR4_STR(s->mapped),
			    stun_filtering_name(s->filtering),
			    s->reachable ? "" : ", mappings cannot be reached from outside") < 0)
		buf[0] = '\0';
	return buf;
}

bool
stun_get_info(const struct igdd_ctx *ctx, struct stun_info *i)
{
	const struct stun *s = ctx->stun;

	memset(i, 0, sizeof(*i));
	if (s == NULL)
		return false;
	i->state = s->phase == SP_RESOLVE ? "resolving"
		   : s->phase != SP_IDLE ? "testing"
		   : s->failures > 0 ? "failing"
		   : s->have_result ? "done" : "no answer yet";
	if (s->have_result) {
		i->address = s->mapped;
		i->server = s->told_by;
		i->xor_mapped = s->xor_mapped;
		i->age_s = (time_mono_ms() - s->result_ms) / 1000;
	}
	i->port = ctx->cfg.ext_stun_port;
	i->filtering = s->filtering;
	i->reachable = stun_reachable(ctx);
	i->runs = s->runs;
	i->failures = s->failed_runs;
	return true;
}

void
stun_reconfigure(struct igdd_ctx *ctx)
{
	struct stun *s = ctx->stun;

	if (s == NULL)
		return;
	if (s->phase != SP_IDLE) {
		s->rerun = true;	/* after the run under way */
		return;
	}
	s->retry_ms = 0;
	loop_timer_cancel(&ctx->loop, &s->timer);
	run_start(s);
}
