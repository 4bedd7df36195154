/* iface.c - LAN interfaces from listening_ip, and the external address. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctx.h"
#include "iface.h"
#include "log.h"
#include "util.h"

static struct in_addr
prefix_mask(unsigned prefix)
{
	struct in_addr m;

	m.s_addr = prefix == 0 ? 0 : htonl(~0u << (32 - prefix));
	return m;
}

/* Fill lan from the interface that matches l (by name or by address). */
static int
resolve_listen(const struct cfg_listen *l, struct ifaddrs *ifs, struct lan_iface *lan)
{
	struct ifaddrs *i;

	for (i = ifs; i != NULL; i = i->ifa_next) {
		struct sockaddr_in *sin = (struct sockaddr_in *)(void *)i->ifa_addr;
		struct sockaddr_in *msk = (struct sockaddr_in *)(void *)i->ifa_netmask;

		if (sin == NULL || sin->sin_family != AF_INET)
			continue;
		if (l->by_name ? strcmp(i->ifa_name, l->ifname) != 0
			       : sin->sin_addr.s_addr != l->addr.s_addr)
			continue;
		memset(lan, 0, sizeof(*lan));
		if (str_copy(lan->name, sizeof(lan->name), i->ifa_name) < 0)
			return -1;
		/* An address with a label ("ip addr add ... label lan0:1",
		 * ifupdown's "iface br0:1") is listed under the label: the
		 * LAN is the interface before the ':' (its IPv6 addresses,
		 * its sockets' device, the hairpin's interface name). */
		lan->name[strcspn(lan->name, ":")] = '\0';
		lan->ifindex = if_nametoindex(lan->name);
		lan->addr = sin->sin_addr;
		if (l->prefix != 0)
			lan->mask = prefix_mask(l->prefix);
		else if (msk != NULL)
			lan->mask = msk->sin_addr;
		else
			lan->mask = prefix_mask(24);
		return 0;
	}
	return -1;
}

/* Bits set in an IPv6 netmask. */
static uint8_t
mask6_len(const struct sockaddr_in6 *m)
{
	unsigned i, n = 0;

	for (i = 0; m != NULL && i < 16; i++)
		n += (unsigned)__builtin_popcount(m->sin6_addr.s6_addr[i]);
	return (uint8_t)n;
}

/* The IPv6 addresses of lan's interface from ifs (none with
 * ipv6_disable); tentative or not, the kernel lists what it has. */
static void
read_lan6(const struct config *cfg, struct ifaddrs *ifs, struct lan_iface *lan)
{
	struct ifaddrs *i;

	lan->n_addr6 = 0;
	if (cfg->ipv6_disable)
		return;
	for (i = ifs; i != NULL && lan->n_addr6 < LAN_MAX_ADDR6; i = i->ifa_next) {
		const struct sockaddr_in6 *sin6 = (const void *)i->ifa_addr;

		if (sin6 == NULL || sin6->sin6_family != AF_INET6 || strcmp(i->ifa_name, lan->name) != 0)
			continue;
		lan->addr6[lan->n_addr6].addr = sin6->sin6_addr;
		lan->addr6[lan->n_addr6].plen = mask6_len((const void *)i->ifa_netmask);
		lan->n_addr6++;
	}
}

bool
iface_refresh_lan6(struct igdd_ctx *ctx)
{
	struct lan_addr6 old[LAN_MAX_ADDR6];
	struct ifaddrs *ifs;
	bool changed = false;
	unsigned k, n;

	if (ctx->cfg.ipv6_disable || getifaddrs(&ifs) < 0)
		return false;
	for (k = 0; k < ctx->n_lan; k++) {
		struct lan_iface *lan = &ctx->lan[k];

		if (lan->gone)
			continue;
		n = lan->n_addr6;
		memcpy(old, lan->addr6, sizeof(old));
		read_lan6(&ctx->cfg, ifs, lan);
		if (n != lan->n_addr6 || memcmp(old, lan->addr6, n * sizeof(old[0])) != 0)
			changed = true;
	}
	freeifaddrs(ifs);
	return changed;
}

/* The text of listening_ip entry l, as given. */
static const char *
listen_str(const struct cfg_listen *l, char *buf, size_t size)
{
	return l->by_name ? l->ifname : addr4_str(l->addr, buf, size);
}

/* Is lan (just resolved from cfg->listen[k]) one of out[0..n) again: the
 * same address (an address is served once: its sockets are bound to it)?
 * Logged: it is served once, with the first entry's netmask. */
static bool
lan_repeated(const struct config *cfg, unsigned k, const struct lan_iface *lan,
	     const struct lan_iface *out, unsigned n)
{
	char a[INET_ADDRSTRLEN];
	unsigned i;

	for (i = 0; i < n && out[i].addr.s_addr != lan->addr.s_addr; i++)
		;
	if (i == n)
		return false;
	log_warnx("listening_ip %s: %s (%s) is listed already; served once, as %s/%d",
		  listen_str(&cfg->listen[k], a, sizeof(a)), lan->name, ADDR4_STR(lan->addr),
		  ADDR4_STR(out[i].addr), __builtin_popcount(out[i].mask.s_addr));
	return true;
}

int
iface_resolve(const struct config *cfg, struct lan_iface *out, char *msg, size_t msgsize)
{
	struct ifaddrs *ifs;
	unsigned k, n = 0;

	if (getifaddrs(&ifs) < 0) {
		str_printf(msg, msgsize, "getifaddrs: %s", strerror(errno));
		return -1;
	}
	for (k = 0; k < cfg->n_listen; k++) {
		const struct cfg_listen *l = &cfg->listen[k];
		char a[INET_ADDRSTRLEN];

		if (resolve_listen(l, ifs, &out[n]) < 0) {
			str_printf(msg, msgsize, "listening_ip %s: no such interface or address",
				   listen_str(l, a, sizeof(a)));
			freeifaddrs(ifs);
			return -1;
		}
		if (lan_repeated(cfg, k, &out[n], out, n))
			continue;
		if (strcmp(out[n].name, cfg->ext_ifname) == 0)
			log_warnx("listening_ip %s is the external interface", out[n].name);
		read_lan6(cfg, ifs, &out[n]);
		n++;
	}
	freeifaddrs(ifs);
	return (int)n;
}

int
iface_init(struct igdd_ctx *ctx)
{
	char msg[128];
	int n = iface_resolve(&ctx->cfg, ctx->lan, msg, sizeof(msg));

	if (n < 0) {
		log_warnx("%s", msg);
		return -1;
	}
	ctx->n_lan = (unsigned)n;
	if (ctx->cfg.ext_ifname[0] != '\0') {
		ctx->ext_ifindex = if_nametoindex(ctx->cfg.ext_ifname);
		if (ctx->ext_ifindex == 0)
			log_warnx("ext_ifname %s does not exist (yet)", ctx->cfg.ext_ifname);
	}
	iface_refresh_ext(ctx);
	return 0;
}

bool
iface_refresh_ext(struct igdd_ctx *ctx)
{
	struct in_addr old = ctx->ext_addr, found = { 0 };
	bool old_up = ctx->ext_up, exists = false, up = false, listed = false;
	struct ifaddrs *ifs, *i;

	if (getifaddrs(&ifs) == 0) {
		listed = true;
		for (i = ifs; i != NULL; i = i->ifa_next) {
			struct sockaddr_in *sin = (struct sockaddr_in *)(void *)i->ifa_addr;
			if (ctx->cfg.ext_ifname[0] == '\0' ||
			    strcmp(i->ifa_name, ctx->cfg.ext_ifname) != 0)
				continue;
			exists = true;
			/* up and with carrier: a pulled cable leaves IFF_UP set */
			if ((i->ifa_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING))
				up = true;
			if (sin != NULL && sin->sin_family == AF_INET && found.s_addr == 0)
				found = sin->sin_addr;
		}
		freeifaddrs(ifs);
	}
	ctx->wan_addr = found;
	if (ctx->learnt_addr.s_addr != 0 && !ctx->cfg.has_ext_ip && found.s_addr != 0)
		found = ctx->learnt_addr;	/* the upstream's or STUN's word */
	if (ctx->cfg.has_ext_ip) {
		/* The reported address is fixed, but a link that is down
		 * carries nothing: the address is not usable meanwhile.  An
		 * interface we cannot see (not created yet, or not listed)
		 * does not veto ext_ip. */
		ctx->ext_up = !listed || !exists || up;
		found = ctx->ext_up ? ctx->cfg.ext_ip : (struct in_addr){ 0 };
	} else {
		/* No usable external address while the link is down: NAT-PMP
		 * answers network failure (RFC 6886 3.5), PCP NETWORK_FAILURE
		 * (RFC 6887 7.4), UPnP reports Disconnected. */
		ctx->ext_up = up;
		if (!up)
			found.s_addr = 0;
	}
	if (found.s_addr != 0 && iface_addr_is_private(found) && !ctx->cfg.ext_allow_private_ipv4 &&
	    found.s_addr != old.s_addr)
		log_warnx("external address %s is private or reserved; reporting it anyway "
			  "(set ext_allow_private_ipv4=yes to silence this)", ADDR4_STR(found));
	ctx->ext_addr = found;
	return old.s_addr != found.s_addr || old_up != ctx->ext_up;
}

/* rtnetlink watcher: any link or IPv4 address message starts a short
 * debounce timer (a change usually comes as several messages), after
 * which the external address is re-read and the hooks run if it moved. */
struct iface_watch {
	struct mnl_socket *nl;
	struct loop_fd lfd;
	struct loop_timer debounce;
	struct igdd_ctx *ctx;
};

#define IFACE_DEBOUNCE_MS 200

void
iface_ext_check(struct igdd_ctx *ctx, bool always)
{
	bool had6 = ctx_lan_has_prefix6(ctx);
	unsigned k;
	bool changed;

	if (ctx->cfg.ext_ifname[0] != '\0')
		ctx->ext_ifindex = if_nametoindex(ctx->cfg.ext_ifname);
	if (iface_refresh_lan6(ctx) && had6 != ctx_lan_has_prefix6(ctx)) {
		/* WANIPv6FirewallControl comes or goes: a new description */
		ctx->configid++;
		log_info("LAN IPv6 prefix %s: IPv6 pinholes %s", had6 ? "gone" : "up",
			 had6 ? "no longer offered" : "offered");
	}
	changed = iface_refresh_ext(ctx);
	for (k = 0; k < ctx->n_addr_hooks; k++)
		ctx->addr_hooks[k](ctx);
	if (!changed && !always)
		return;
	log_info("external interface %s: %s, address %s%s", ctx->cfg.ext_ifname,
		 ctx->ext_up ? "up" : "down",
		 ctx->ext_addr.s_addr ? ADDR4_STR(ctx->ext_addr) : "none",
		 changed ? "" : " (unchanged; announced again)");
	ctx_run_ext_hooks(ctx);
}

void
iface_set_learnt(struct igdd_ctx *ctx, struct in_addr a, const char *who)
{
	unsigned k;

	if (a.s_addr == ctx->learnt_addr.s_addr)
		return;
	ctx->learnt_addr = a;
	if (!iface_refresh_ext(ctx))
		return;
	for (k = 0; k < ctx->n_addr_hooks; k++)
		ctx->addr_hooks[k](ctx);	/* the reported address is an external one too */
	log_info("external address %s (%s)",
		 ctx->ext_addr.s_addr ? ADDR4_STR(ctx->ext_addr) : "none",
		 a.s_addr != 0 ? who : "the interface's own");
	ctx_run_ext_hooks(ctx);
}

static void
watch_fire(struct loop_timer *t)
{
	iface_ext_check(container_of(t, struct iface_watch, debounce)->ctx, false);
}

static void
watch_readable(struct loop_fd *lfd, uint32_t events)
{
	struct iface_watch *w = container_of(lfd, struct iface_watch, lfd);
	char buf[8192];
	ssize_t n;
	bool seen = false;

	(void)events;
	while ((n = mnl_socket_recvfrom(w->nl, buf, sizeof(buf))) > 0)
		seen = true;
	if (seen && !loop_timer_pending(&w->debounce))
		loop_timer_set(&w->ctx->loop, &w->debounce, IFACE_DEBOUNCE_MS);
}

int
iface_watch_init(struct igdd_ctx *ctx)
{
	struct iface_watch *watch = calloc(1, sizeof(*watch));

	if (watch == NULL)
		return -1;
	/* Followed with ext_ip too: the address is fixed, the link is not. */
	watch->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (watch->nl == NULL ||
	    mnl_socket_bind(watch->nl, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
			    MNL_SOCKET_AUTOPID) < 0) {
		log_warn("rtnetlink");
		if (watch->nl != NULL)
			mnl_socket_close(watch->nl);
		free(watch);
		return -1;
	}
	watch->ctx = ctx;
	watch->lfd.fd = mnl_socket_get_fd(watch->nl);
	watch->lfd.cb = watch_readable;
	watch->debounce.cb = watch_fire;
	if (loop_fd_add(&ctx->loop, &watch->lfd, EPOLLIN) < 0) {
		mnl_socket_close(watch->nl);
		free(watch);
		return -1;
	}
	ctx->iface_watch = watch;
	return 0;
}

void
iface_shutdown(struct igdd_ctx *ctx)
{
	struct iface_watch *watch = ctx->iface_watch;

	if (watch != NULL) {
		loop_fd_del(&ctx->loop, &watch->lfd);
		loop_timer_cancel(&ctx->loop, &watch->debounce);
		mnl_socket_close(watch->nl);
		free(watch);
		ctx->iface_watch = NULL;
	}
	ctx->n_lan = 0;
}

size_t
iface_v4_addrs(const char *ifname, struct in_addr *out, size_t max)
{
	struct ifaddrs *ifs, *i;
	size_t n = 0;

	if (ifname[0] == '\0' || getifaddrs(&ifs) < 0)
		return 0;
	for (i = ifs; i != NULL && n < max; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const void *)i->ifa_addr;
		if (sin != NULL && sin->sin_family == AF_INET && strcmp(i->ifa_name, ifname) == 0)
			out[n++] = sin->sin_addr;
	}
	freeifaddrs(ifs);
	return n;
}

size_t
iface_ext_addrs(const struct igdd_ctx *ctx, struct in_addr *out, size_t max)
{
	size_t n = 0;

	if (max > 0 && ctx->cfg.has_ext_ip)
		out[n++] = ctx->cfg.ext_ip;
	if (n < max && ctx->ext_addr.s_addr != 0)
		out[n++] = ctx->ext_addr;
	return n + iface_v4_addrs(ctx->cfg.ext_ifname, out + n, max - n);
}

bool
iface_addr_is_private(struct in_addr a)
{
	static const struct { const char *net; unsigned prefix; } reserved[] = {
		{ "0.0.0.0", 8 }, { "10.0.0.0", 8 }, { "100.64.0.0", 10 },
		{ "127.0.0.0", 8 }, { "169.254.0.0", 16 }, { "172.16.0.0", 12 },
		{ "192.0.0.0", 24 }, { "192.0.2.0", 24 }, { "192.168.0.0", 16 },
		{ "198.18.0.0", 15 }, { "198.51.100.0", 24 }, { "203.0.113.0", 24 },
		{ "224.0.0.0", 3 },
	};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(reserved); k++) {
		struct in_addr net, mask = prefix_mask(reserved[k].prefix);
		inet_pton(AF_INET, reserved[k].net, &net);
		if ((a.s_addr & mask.s_addr) == net.s_addr)
			return true;
	}
	return false;
}

/* n hex digits (at most 16) into *v: 0 / -1. */
static int
hex_n(const char *p, size_t n, unsigned long long *v)
{
	size_t i;
	int d;

	*v = 0;
	if (n == 0 || n > 16)
		return -1;
	for (i = 0; i < n; i++) {
		if ((d = hex_digit(p[i])) < 0)
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

/* One field of a /proc/net/route line: [p, end) up to a tab or the end. */
static const char *
route_field(const char *p, const char *end, const char **fe)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*fe = p;
	while (*fe < end && **fe != '\t' && **fe != ' ')
		(*fe)++;
	return p;
}

int
iface_parse_route(const char *text, size_t len, const char *ifname, struct in_addr *gw)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *f[4], *fe[4];
		unsigned long long v[3];
		unsigned i;

		for (i = 0, f[0] = p; i < 4; i++)
			f[i] = route_field(i ? fe[i - 1] : p, le, &fe[i]);
		p = nl ? nl + 1 : end;
		/* Iface, Destination 0, Gateway, Flags: RTF_UP|RTF_GATEWAY */
		if ((size_t)(fe[0] - f[0]) != strlen(ifname) || memcmp(f[0], ifname, strlen(ifname)) != 0)
			continue;
		for (i = 1; i < 4; i++)
			if (fe[i] - f[i] < 1 || fe[i] - f[i] > 8 ||
			    hex_n(f[i], (size_t)(fe[i] - f[i]), &v[i - 1]) < 0)
				break;
		if (i < 4 || v[0] != 0 || (v[2] & 0x3) != 0x3 || v[1] == 0)
			continue;
		gw->s_addr = (uint32_t)v[1];	/* the kernel prints the raw network-order word */
		return 0;
	}
	return -1;
}

int
iface_default_gateway(const struct igdd_ctx *ctx, struct in_addr *gw)
{
	char buf[16384];
	ssize_t n;
	size_t len = 0;
	int fd = open("/proc/net/route", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (len < sizeof(buf) && (n = read(fd, buf + len, sizeof(buf) - len)) > 0)
		len += (size_t)n;
	close(fd);
	return iface_parse_route(buf, len, ctx->cfg.ext_ifname, gw);
}
