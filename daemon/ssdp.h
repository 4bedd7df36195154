/* ssdp.h - SSDP discovery (UDA 1.1 1): announcements and M-SEARCH answers
 * on every LAN interface, IPv4 239.255.255.250:1900 and IPv6 [ff02::c]
 * and [ff05::c]:1900 (UDA 1.1 Annex A). */
#ifndef IGDD_SSDP_H
#define IGDD_SSDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct igdd_ctx;

#define SSDP_PORT		1900
#define SSDP_GROUP		"239.255.255.250"
#define SSDP_GROUP6_LL		"ff02::c"	/* link-local scope */
#define SSDP_GROUP6_SL		"ff05::c"	/* site-local scope */
#define SSDP_DEFAULT_INTERVAL	900	/* s, when notify_interval is 0 */
#define SSDP_RATE_LIMIT		10	/* answers per source per second (conf.c default) */
#define SSDP_MAX_PENDING	256	/* delayed answers queued at once */
#define SSDP_MAX_TARGETS	11	/* 3 + 2 * 2 devices + 4 services */
#define SSDP_ST_MAX		256

struct ssdp_request {
	bool msearch;			/* "M-SEARCH * HTTP/1.1" */
	const char *st;			/* slice of the datagram */
	size_t st_len;
	bool has_st;
	int mx;				/* -1 = absent or not a number */
	bool man_ok;			/* MAN absent or "ssdp:discover" */
	const char *user_agent;		/* USER-AGENT (UDA 1.1 1.3.2), or NULL */
	size_t user_agent_len;
};

/* Parse a datagram.  Returns 0 for an M-SEARCH we should consider (ST
 * present, MAN acceptable), -1 for anything else.  Never reads past len. */
int ssdp_parse(const char *buf, size_t len, struct ssdp_request *req);

/* What we announce and answer for: NT and USN of each of the 3 + 2d + k
 * advertisements. */
struct ssdp_target {
	char nt[128];
	char usn[192];
};
/* Fill t[] (SSDP_MAX_TARGETS) for a device of version igd_version (1 or
 * 2); returns how many. */
size_t ssdp_targets(const struct igdd_ctx *ctx, unsigned igd_version, struct ssdp_target *t);
/* For a search target, call cb(st, usn) for each answer (UDA 1.1 1.3.2:
 * a search for an older version is answered, with the version asked).
 * Returns the number of answers. */
typedef void (*ssdp_answer_cb)(const char *st, const char *usn, void *arg);
size_t ssdp_match(const struct igdd_ctx *ctx, unsigned igd_version, const char *st,
		  size_t st_len, ssdp_answer_cb cb, void *arg);
/* Is a multicast search for st answered after a random delay below MX?
 * UDA 1.1 1.3.3 spreads the answers of the many devices a search may
 * reach; only ssdp:all and upnp:rootdevice reach every device.  A search
 * for the gateway's own device or service types, or its UUID, has one
 * device to answer it on a LAN (there is one gateway): it is answered at
 * once, as miniupnpd does, instead of after MX/2 on average. */
bool ssdp_spread(const char *st, size_t st_len);
/* CACHE-CONTROL max-age for an announcement interval. */
uint32_t ssdp_max_age(uint32_t interval);

/* IPv6: the host part of a LOCATION ("[addr]") for lan, towards `to`
 * (NULL: a NOTIFY to the group of scope `linklocal`).  UDA 1.1 Annex A:
 * link-local scope (a link-local sender, ff02::c) gets the interface's
 * link-local address, others a ULA or global one (on the sender's prefix
 * first); ipv6_listening_ip wins when set.  The link-local address carries
 * no zone: a zone names an interface of the host that uses it, and the
 * client knows its own from the answer it got (miniupnpc takes the
 * datagram's scope; the gateway's interface name would mislead it).
 * 0, or -1 when the interface has no such address. */
struct lan_iface;
int ssdp_location_host6(const struct igdd_ctx *ctx, const struct lan_iface *lan,
			const struct in6_addr *to, bool linklocal, char *buf, size_t size);

/* Open sockets and register them with the loop. 0 ok, -1 fatal. */
int ssdp_init(struct igdd_ctx *ctx);
/* Per LAN interface (slot in ctx->lan): the multicast group joined and a
 * sending socket on its address, or neither.  0 / -1. */
int ssdp_iface_setup(struct igdd_ctx *ctx, unsigned slot);
void ssdp_iface_teardown(struct igdd_ctx *ctx, unsigned slot);
/* Reload: notify_interval and ssdp_rate_limit from ctx->cfg; with
 * announce_now, ssdp:alive at once (a new CONFIGID.UPNP.ORG: the
 * description changed, UDA 1.1 1.2.2). */
void ssdp_reconfigure(struct igdd_ctx *ctx, bool announce_now);
/* ssdp:byebye for everything, close everything. */
void ssdp_shutdown(struct igdd_ctx *ctx);

#endif
