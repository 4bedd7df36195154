/* test_lan.c - LAN interfaces coming and going in a running daemon:
 * daemon_lan_up/down set the front ends up and tear them down per slot,
 * with real sockets on the loopback address. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "daemon.h"
#include "http.h"
#include "pmp.h"
#include "unit.h"
#include "util.h"

static bool
tcp_connects(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Is 127.0.0.1:5351 taken (by pmp's socket)? */
static bool
pmp_port_taken(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(PMP_SERVER_PORT) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool taken;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	taken = fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 && errno == EADDRINUSE;
	if (fd >= 0)
		close(fd);
	return taken;
}

TEST(lan_up_down_per_slot)
{
	static struct igdd_ctx ctx;
	struct lan_iface lo;
	struct in_addr a;
	uint16_t port;
	int slot;

	memset(&ctx, 0, sizeof(ctx));
	conf_defaults(&ctx.cfg);
	ctx.cfg.enable_upnp = true;
	ctx.cfg.enable_natpmp = true;
	CHECK_EQ(loop_init(&ctx.loop), 0);
	/* started with no LAN: nothing listens yet; SSDP is not started
	 * (its setup is then a no-op) */
	CHECK_EQ(http_init(&ctx), 0);
	CHECK_EQ(pmp_init(&ctx), 0);
	memset(&lo, 0, sizeof(lo));
	str_copy(lo.name, sizeof(lo.name), "lo");
	lo.ifindex = 1;
	lo.addr.s_addr = htonl(INADDR_LOOPBACK);
	lo.mask.s_addr = htonl(0xff000000);

	slot = daemon_lan_up(&ctx, &lo);
	CHECK_EQ(slot, 0);
	port = http_port(&ctx);
	CHECK(port != 0);
	CHECK(tcp_connects(port));
	CHECK(pmp_port_taken());
	a.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(ctx_lan_for_addr(&ctx, a) == &ctx.lan[0]);

	daemon_lan_down(&ctx, 0);
	CHECK(!tcp_connects(port));
	CHECK(!pmp_port_taken());
	CHECK(ctx_lan_for_addr(&ctx, a) == NULL);
	CHECK(ctx_lan_by_ifindex(&ctx, 1) == NULL);

	/* back: the same slot, the same HTTP port (one LOCATION fits all) */
	CHECK_EQ(daemon_lan_up(&ctx, &lo), 0);
	CHECK_EQ(ctx.n_lan, 1);
	CHECK_EQ(http_port(&ctx), port);
	CHECK(tcp_connects(port));
	CHECK(pmp_port_taken());

	pmp_shutdown(&ctx);
	http_shutdown(&ctx);
	CHECK(!tcp_connects(port));
	loop_free(&ctx.loop);
	conf_free(&ctx.cfg);
}

static bool
any_slot(const void *arg, unsigned slot)
{
	(void)arg;
	(void)slot;
	return true;
}

static bool
is_slot2(const void *arg, unsigned slot)
{
	(void)arg;
	return slot == 2;
}

/* Two listening_ip on one interface (br-lan: 192.168.1.1/24 and
 * 192.168.2.1/24), one on another: the slots of an interface find each
 * other, a source finds the slot of its subnet on its interface. */
struct lan_def {
	const char *name, *addr;
	unsigned ifindex;
	uint32_t mask;
};

/* ctx's LANs, slot i from lans[i] */
static void
add_lans(struct igdd_ctx *ctx, const struct lan_def *lans, size_t n)
{
	struct lan_iface l;
	size_t i;

	memset(ctx, 0, sizeof(*ctx));
	for (i = 0; i < n; i++) {
		memset(&l, 0, sizeof(l));
		str_copy(l.name, sizeof(l.name), lans[i].name);
		l.ifindex = lans[i].ifindex;
		inet_pton(AF_INET, lans[i].addr, &l.addr);
		l.mask.s_addr = htonl(lans[i].mask);
		CHECK_EQ(ctx_lan_add(ctx, &l), (int)i);
	}
}

TEST(lan_siblings_on_one_interface)
{
	static struct igdd_ctx ctx;
	static const struct lan_def lans[] = {
		{ "br-lan", "192.168.1.1", 5, 0xffffff00 }, { "guest", "10.0.0.1", 6, 0xffffff00 },
		{ "br-lan", "192.168.2.1", 5, 0xffffff00 },
	};
	struct in_addr a;

	add_lans(&ctx, lans, ARRAY_SIZE(lans));
	CHECK_EQ(ctx_lan_sibling(&ctx, 0, any_slot, NULL), 2);
	CHECK_EQ(ctx_lan_sibling(&ctx, 2, any_slot, NULL), 0);
	CHECK_EQ(ctx_lan_sibling(&ctx, 1, any_slot, NULL), -1);
	CHECK_EQ(ctx_lan_sibling(&ctx, 2, is_slot2, NULL), -1);
	inet_pton(AF_INET, "192.168.2.77", &a);
	CHECK(ctx_lan_for_addr_on(&ctx, a, 5) == &ctx.lan[2]);
	CHECK(ctx_lan_for_addr_on(&ctx, a, 6) == NULL);
	inet_pton(AF_INET, "192.168.1.77", &a);
	CHECK(ctx_lan_for_addr_on(&ctx, a, 5) == &ctx.lan[0]);
	/* a slot torn down is no sibling */
	ctx_lan_remove(&ctx, 2);
	CHECK_EQ(ctx_lan_sibling(&ctx, 0, any_slot, NULL), -1);
	inet_pton(AF_INET, "192.168.2.77", &a);
	CHECK(ctx_lan_for_addr_on(&ctx, a, 5) == NULL);
}

/* Overlapping subnets on one bridge (192.168.0.0/16, and 192.168.79.0/24
 * listed after it): an address of the /24 is the /24's, whatever the
 * order, as routing would have it; the rest of the /16 is the /16's. */
TEST(lan_overlap_longest_prefix)
{
	static struct igdd_ctx ctx;
	static const struct lan_def lans[] = {
		{ "br-lan", "192.168.77.1", 5, 0xffff0000 }, { "br-lan", "192.168.79.1", 5, 0xffffff00 },
	};
	struct in_addr a;

	add_lans(&ctx, lans, ARRAY_SIZE(lans));
	inet_pton(AF_INET, "192.168.79.20", &a);
	CHECK(ctx_lan_for_addr_on(&ctx, a, 5) == &ctx.lan[1]);
	CHECK(ctx_lan_for_addr(&ctx, a) == &ctx.lan[1]);
	inet_pton(AF_INET, "192.168.3.20", &a);
	CHECK(ctx_lan_for_addr_on(&ctx, a, 5) == &ctx.lan[0]);
	CHECK(ctx_lan_for_addr(&ctx, a) == &ctx.lan[0]);
	CHECK(ctx_lan_for_addr_on(&ctx, a, 0) == NULL);
}

/* A front end's socket as ctx_lan_socks sees it (an id to follow it). */
struct lan_test_sock {
	struct loop_fd lfd;
	int id;
	bool open;
};

static void
lan_test_readable(struct loop_fd *lfd, uint32_t events)
{
	(void)events;
	container_of(lfd, struct lan_test_sock, lfd)->id += 100;
}

static bool
fd_valid(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Slots 0 and 2 on one interface, 1 on another: slot 0 holds the
 * interface's IPv6 socket.  Slot 2 makes none (its interface has one);
 * slot 0 torn down hands it, as it is and back in the loop, to slot 2;
 * slot 2 torn down closes it (no sibling left); slot 1's stays. */
TEST(lan_v6_socket_handed_over)
{
	static struct igdd_ctx ctx;
	static struct lan_test_sock s4[CFG_MAX_LISTEN], s6[CFG_MAX_LISTEN];
	struct ctx_lan_socks socks = CTX_LAN_SOCKS(s4, s6, struct lan_test_sock);
	struct lan_iface l;
	int p[2], fd4;
	unsigned k;

	memset(&ctx, 0, sizeof(ctx));
	memset(s4, 0, sizeof(s4));
	memset(s6, 0, sizeof(s6));
	CHECK_EQ(loop_init(&ctx.loop), 0);
	for (k = 0; k < 3; k++) {
		memset(&l, 0, sizeof(l));
		l.ifindex = k == 1 ? 6 : 5;
		CHECK_EQ(ctx_lan_add(&ctx, &l), (int)k);
		s4[k].lfd.fd = fd4 = open("/dev/null", O_RDONLY | O_CLOEXEC);
		s4[k].open = fd4 >= 0;
	}
	CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
	s6[0] = (struct lan_test_sock){ .lfd = { .fd = p[0], .cb = lan_test_readable }, .id = 7 };
	CHECK_EQ(loop_fd_add(&ctx.loop, &s6[0].lfd, EPOLLIN), 0);
	s6[0].open = true;
	CHECK(ctx_lan_has6(&ctx, 0, &socks));
	CHECK(ctx_lan_has6(&ctx, 2, &socks));
	CHECK(!ctx_lan_has6(&ctx, 1, &socks));

	fd4 = s4[0].lfd.fd;
	ctx_lan_socks_close(&ctx, 0, &socks);
	ctx_lan_remove(&ctx, 0);
	CHECK(!s4[0].open && !fd_valid(fd4));
	CHECK(!s6[0].open && !s6[0].lfd.registered);
	CHECK(s6[2].open && s6[2].lfd.registered && s6[2].id == 7 && s6[2].lfd.fd == p[0]);
	CHECK(fd_valid(p[0]));
	/* the loop calls slot 2's handle now */
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(loop_once(&ctx.loop, 1000), 1);
	CHECK_EQ(s6[2].id, 107);
	CHECK_EQ(s6[0].id, 7);

	ctx_lan_socks_close(&ctx, 2, &socks);
	ctx_lan_remove(&ctx, 2);
	CHECK(!s6[2].open && !fd_valid(p[0]));
	CHECK(s4[1].open && fd_valid(s4[1].lfd.fd));
	ctx_lan_socks_close(&ctx, 1, &socks);
	CHECK(!s4[1].open);
	close(p[1]);
	loop_free(&ctx.loop);
}
