/* conf.h - the one typed configuration struct, filled from a
 * miniupnpd.conf-compatible file and the command line. */
#ifndef IGDD_CONF_H
#define IGDD_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include "perm.h"

#define CFG_MAX_LISTEN	16
#define CFG_NAME_MAX	64	/* nftables table/chain names */
#define CFG_STR_MAX	256

/* upstream_protocol: who to relay the mappings to (upstream.h). */
enum upstream_proto {
	UPSTREAM_NONE = 0,
	UPSTREAM_AUTO,			/* PCP, then NAT-PMP, then UPnP IGD */
	UPSTREAM_PCP,
	UPSTREAM_NATPMP,
	UPSTREAM_UPNP,
};

struct cfg_listen {
	char ifname[IF_NAMESIZE];	/* given by name, or resolved from addr */
	struct in_addr addr;		/* 0 until resolved when given by name */
	uint8_t prefix;			/* 0..32; 0 = take it from the interface */
	bool by_name;
};

/* admin_listen: ADDR:PORT (addr 0 = every LAN address) or off (port 0).
 * No padding left to chance: conf_diff() compares the bytes. */
struct cfg_admin_listen {
	struct in_addr addr;
	uint16_t port;
	uint16_t zero;
};

/* ext_perform_stun: no, yes, allow-filtered. */
enum cfg_stun { CFG_STUN_NO = 0, CFG_STUN_YES, CFG_STUN_ALLOW_FILTERED };

struct config {
	/* network */
	char ext_ifname[IF_NAMESIZE];
	char ext_ifname6[IF_NAMESIZE];
	bool has_ext_ip;
	struct in_addr ext_ip;
	uint8_t ext_perform_stun;	/* enum cfg_stun */
	char ext_stun_host[CFG_STR_MAX];
	uint16_t ext_stun_port;
	uint32_t ext_stun_interval;	/* s between STUN runs, 0 = on changes only */
	uint8_t upstream_protocol;	/* enum upstream_proto */
	struct in_addr upstream_server;	/* 0 = default gateway / SSDP discovery */
	bool ext_allow_private_ipv4;
	struct cfg_listen listen[CFG_MAX_LISTEN];
	unsigned n_listen;
	uint16_t http_port;		/* 0 = pick one */
	uint16_t https_port;
	bool ipv6_disable;
	bool ipv6_block_inbound;	/* own table: drop unsolicited inbound IPv6 */
	bool has_ipv6_listening_ip;
	struct in6_addr ipv6_listening_ip;	/* HTTP and PCP over IPv6 bind here only */

	/* protocols */
	bool enable_upnp;
	bool enable_natpmp;		/* NAT-PMP and PCP (enable_natpmp / enable_pcp_pmp) */
	uint32_t min_lifetime, max_lifetime;	/* NAT-PMP/PCP lifetime bounds, s */
	bool pcp_allow_thirdparty;
	bool secure_mode;
	bool force_igd_desc_v1;
	bool igd_v1_by_user_agent;	/* IGD:1 to control points that fail on IGD:2 */
	uint32_t notify_interval;	/* s */
	bool system_uptime;
	uint32_t bitrate_up, bitrate_down;	/* bit/s */

	/* firewall */
	char upnp_table_name[CFG_NAME_MAX];
	char upnp_nat_table_name[CFG_NAME_MAX];
	char upnp_forward_chain[CFG_NAME_MAX];
	char upnp_nat_chain[CFG_NAME_MAX];
	char upnp_nat_postrouting_chain[CFG_NAME_MAX];
	bool upnp_nftables_family_split;
	bool fw_integrate;		/* any of the five names above was given */
	bool hairpin;			/* LAN hosts reach mappings at the external address */
	bool preserve_mapped_ports;	/* outbound from a mapped internal port keeps its eport */
	uint32_t clean_ruleset_threshold;
	uint32_t clean_ruleset_interval;	/* s, 0 = off */

	/* leases and limits */
	char lease_file[CFG_STR_MAX];
	uint32_t max_mappings;		/* total */
	uint32_t max_mappings_per_client;
	char lease_file6[CFG_STR_MAX];	/* accepted: pinholes share lease_file's journal */
	uint32_t http_max_connections;	/* open HTTP connections; the idlest go first */
	uint32_t http_header_max;	/* bytes of request line + headers */
	uint32_t http_body_max;		/* bytes of a SOAP body */
	uint32_t http_idle_timeout;	/* s without progress before a close */
	uint32_t max_subscribers;	/* GENA subscriptions, all services */
	uint32_t ssdp_rate_limit;	/* M-SEARCH answers per source per s, 0 = no limit */
	char user[CFG_NAME_MAX];	/* drop to this user after start-up; "" = "igdd"
					 * if that user exists (priv.h) */
	bool seccomp;			/* the system call filter (sandbox.c) */
	char control_socket[CFG_STR_MAX];	/* the control socket's path; "" = none */
	char control_group[CFG_NAME_MAX];	/* may use it besides root; "" = root only */

	/* the admin page (admin.c) */
	struct cfg_admin_listen admin_listen;	/* port 0: no page */
	char admin_password_file[CFG_STR_MAX];	/* one crypt(3) hash line */
	char admin_metrics_token_file[CFG_STR_MAX];	/* bearer token for /metrics; "" = none */
	char admin_dhcp_leases[CFG_STR_MAX];	/* dnsmasq/odhcpd leases: host names */
	uint32_t admin_session_idle;	/* s without a request from the person */
	uint32_t admin_session_max;	/* s after the login, whatever happens */

	/* device description */
	char friendly_name[CFG_STR_MAX];
	char manufacturer_name[CFG_STR_MAX];
	char manufacturer_url[CFG_STR_MAX];
	char model_name[CFG_STR_MAX];
	char model_description[CFG_STR_MAX];
	char model_url[CFG_STR_MAX];
	char model_number[CFG_STR_MAX];
	char serial[CFG_STR_MAX];
	char presentation_url[CFG_STR_MAX];
	bool has_presentation_url;	/* given (even empty = no presentationURL) */
	char uuid[37];			/* empty = generate (see uuid.c) */

	/* permission rules, in file order */
	struct perm_rule *perms;
	unsigned n_perms;

	/* command line only */
	char config_file[CFG_STR_MAX];
	char pidfile[CFG_STR_MAX];
	bool foreground;		/* -d */
	bool log_syslog;		/* --syslog: syslog even with -d */
	int verbosity;			/* -v count */
	bool check_only;		/* -n / --check */
};

/* Set every field to its default. */
void conf_defaults(struct config *cfg);
/* Parse a file into cfg (on top of what is there).  On error, writes
 * "file:line: message" to err and returns -1. Warnings go to the log. */
int conf_parse_file(struct config *cfg, const char *path, FILE *err);
/* Parse one "key=value" / "allow ..." line; for tests and -A.
 * Returns 0, or -1 with a message (no file:line prefix) in msg. */
int conf_parse_line(struct config *cfg, const char *line, char *msg, size_t msgsize);
/* Command line (miniupnpd-compatible options).  Two passes: the caller
 * first finds -f, parses the file, then applies the options on top. */
enum cli_result { CLI_OK, CLI_EXIT_OK, CLI_ERROR };
enum cli_result conf_parse_args(struct config *cfg, int argc, char **argv, bool apply, FILE *out);
/* Checks that need the whole config (ranges between keys, required keys). */
int conf_validate(const struct config *cfg, FILE *err);
void conf_free(struct config *cfg);

/* Reload: which keys differ between two parsed configurations, and can
 * each change in a running daemon?  Live: names, intervals, limits,
 * lifetimes, rules.  Restart: the interfaces and ports that cannot be
 * re-bound live, the firewall's table and chain names, the lease file,
 * the user, the UUID.  An alias (port / http_port) is reported once; the
 * permission rules as the pseudo-key "allow/deny". */
struct conf_change {
	const char *key;
	bool restart;
};
/* Fills out[0..max) in key-table order; returns how many keys differ
 * (may be more than max). */
size_t conf_diff(const struct config *old, const struct config *new, struct conf_change *out,
		 size_t max);
/* Give key (a name conf_diff() reported, not "allow/deny") in cfg the
 * value it has in from, with the fields that go with it (listening_ip:
 * the count; ext_ip: whether one is set; a firewall name: whether igdd
 * integrates).  0, or -1 for an unknown key. */
int conf_keep(struct config *cfg, const struct config *from, const char *key);

#endif
