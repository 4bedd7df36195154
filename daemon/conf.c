/* conf.c - igdd.conf (miniupnpd.conf syntax) and the command line into
 * the one typed struct config, through a sorted, declarative key table.
 *
 * The file is "key=value" lines, '#' comments, blank lines, and
 * "allow|deny eports addr[/mask] iports ["regex"]" permission rules, as
 * miniupnpd reads them (perm.c parses those); every miniupnpd key is accepted (keys for other
 * firewalls with a warning).  Every number goes through parse_u16/u32
 * with its range; every error is "file:line: message" and parsing goes on
 * so that one run reports all of a file's mistakes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "conf.h"
#include "iface.h"
#include "log.h"
#include "perm.h"
#include "util.h"

#define CONF_LINE_MAX	4096	/* longer lines are an error, not a split */
#define CONF_FILE_MAX	(1024 * 1024)	/* bytes: /dev/zero is not a configuration */
#define STRINGIFY_(x)	#x
#define STRINGIFY(x)	STRINGIFY_(x)
#define CONF_ERRORS_MAX	50	/* stop reporting after this many (binary file?) */

/* miniupnpd-nftables' own names, used for the ones a firmware that
 * integrates igdd (any upnp_*table/chain key given) leaves out. */
#define FW_DEFAULT_TABLE	"filter"
#define FW_DEFAULT_NAT_TABLE	"filter"
#define FW_DEFAULT_FORWARD	"miniupnpd"
#define FW_DEFAULT_PREROUTING	"prerouting_miniupnpd"
#define FW_DEFAULT_POSTROUTING	"postrouting_miniupnpd"

enum key_type {
	KEY_BOOL,
	KEY_U16,
	KEY_U32,
	KEY_STRING,
	KEY_IFNAME,
	KEY_CUSTOM,
	KEY_IGNORED,		/* pf/ipfw/iptables-only: accepted, warned, unused */
};

/* flags */
#define KF_FW		0x01	/* an nftables table/chain name: sets fw_integrate */
#define KF_NAME		0x02	/* nftables identifier syntax */
#define KF_UUID		0x04	/* 8-4-4-4-12 hex, or empty */
#define KF_URL		0x08	/* no blanks */
#define KF_ABSPATH	0x10	/* empty or an absolute path (we chdir("/")) */
#define KF_USER		0x20	/* a user name, or empty */
#define KF_RESTART	0x40	/* cannot change in a running daemon (conf_diff()) */
#define KF_TEXT		0x80	/* a custom key's field is a NUL-terminated string */

struct conf_key;
typedef int (*conf_custom_fn)(struct config *cfg, const struct conf_key *k,
			      const char *value, char *msg, size_t msgsize);

struct conf_key {
	const char *name;
	enum key_type type;
	size_t off;		/* offsetof(struct config, field) */
	size_t size;		/* sizeof the field (strings) */
	uint32_t min, max;	/* numbers */
	unsigned flags;
	conf_custom_fn custom;
};

static int set_ext_ip(struct config *, const struct conf_key *, const char *, char *, size_t);
static int set_listen(struct config *, const struct conf_key *, const char *, char *, size_t);
static int set_ipv6_listen(struct config *, const struct conf_key *, const char *, char *, size_t);
static int set_stun(struct config *, const struct conf_key *, const char *, char *, size_t);
static int set_presentation_url(struct config *, const struct conf_key *, const char *, char *,
				size_t);
static int set_upstream_proto(struct config *, const struct conf_key *, const char *, char *,
			      size_t);
static int set_upstream_server(struct config *, const struct conf_key *, const char *, char *,
			       size_t);
static int set_admin_listen(struct config *, const struct conf_key *, const char *, char *, size_t);

#define FIELD(f)	.off = offsetof(struct config, f), .size = sizeof(((struct config *)0)->f)
#define K_BOOL(n, f)	{ .name = n, .type = KEY_BOOL, FIELD(f) }
#define K_U16(n, f, lo, hi) { .name = n, .type = KEY_U16, FIELD(f), .min = lo, .max = hi }
#define K_U32(n, f, lo, hi) { .name = n, .type = KEY_U32, FIELD(f), .min = lo, .max = hi }
#define K_STR(n, f, fl)	{ .name = n, .type = KEY_STRING, FIELD(f), .flags = fl }
#define K_IFNAME(n, f)	{ .name = n, .type = KEY_IFNAME, FIELD(f) }
#define K_CUSTOM(n, f, fn, fl) { .name = n, .type = KEY_CUSTOM, FIELD(f), .custom = fn, .flags = fl }
#define K_IGNORED(n)	{ .name = n, .type = KEY_IGNORED }

/* Sorted by strcmp() for bsearch(); test_conf.c looks every key up. */
static const struct conf_key conf_keys[] = {
	K_STR("admin_dhcp_leases", admin_dhcp_leases, KF_ABSPATH),
	K_CUSTOM("admin_listen", admin_listen, set_admin_listen, KF_RESTART),
	K_STR("admin_metrics_token_file", admin_metrics_token_file, KF_ABSPATH),
	K_STR("admin_password_file", admin_password_file, KF_ABSPATH),
	K_U32("admin_session_idle", admin_session_idle, 1, 86400),
	K_U32("admin_session_max", admin_session_max, 1, 2592000),
	K_IGNORED("anchor"),
	K_U32("bitrate_down", bitrate_down, 0, UINT32_MAX),
	K_U32("bitrate_up", bitrate_up, 0, UINT32_MAX),
	K_U32("clean_ruleset_interval", clean_ruleset_interval, 0, 604800),
	K_U32("clean_ruleset_threshold", clean_ruleset_threshold, 0, 1000000),
	K_STR("control_group", control_group, KF_USER | KF_RESTART),
	K_STR("control_socket", control_socket, KF_ABSPATH | KF_RESTART),
	{ .name = "enable_natpmp", .type = KEY_BOOL, FIELD(enable_natpmp), .flags = KF_RESTART },
	{ .name = "enable_pcp_pmp", .type = KEY_BOOL, FIELD(enable_natpmp), .flags = KF_RESTART },
	{ .name = "enable_upnp", .type = KEY_BOOL, FIELD(enable_upnp), .flags = KF_RESTART },
	K_BOOL("ext_allow_private_ipv4", ext_allow_private_ipv4),
	{ .name = "ext_ifname", .type = KEY_IFNAME, FIELD(ext_ifname), .flags = KF_RESTART },
	{ .name = "ext_ifname6", .type = KEY_IFNAME, FIELD(ext_ifname6), .flags = KF_RESTART },
	K_CUSTOM("ext_ip", ext_ip, set_ext_ip, 0),
	K_CUSTOM("ext_perform_stun", ext_perform_stun, set_stun, KF_RESTART),
	K_STR("ext_stun_host", ext_stun_host, KF_URL | KF_RESTART),
	K_U32("ext_stun_interval", ext_stun_interval, 0, 604800),
	K_U16("ext_stun_port", ext_stun_port, 1, 65535),
	K_IGNORED("external_script_path"),
	{ .name = "force_igd_desc_v1", .type = KEY_BOOL, FIELD(force_igd_desc_v1),
	  .flags = KF_RESTART },
	K_STR("friendly_name", friendly_name, 0),
	{ .name = "hairpin", .type = KEY_BOOL, FIELD(hairpin), .flags = KF_RESTART },
	{ .name = "http_body_max", .type = KEY_U32, FIELD(http_body_max), .min = 1024,
	  .max = 1048576, .flags = KF_RESTART },
	{ .name = "http_header_max", .type = KEY_U32, FIELD(http_header_max), .min = 1024,
	  .max = 65536, .flags = KF_RESTART },
	K_U32("http_idle_timeout", http_idle_timeout, 1, 3600),
	K_U32("http_max_connections", http_max_connections, 1, 65536),
	{ .name = "http_port", .type = KEY_U16, FIELD(http_port), .min = 0, .max = 65535,
	  .flags = KF_RESTART },
	{ .name = "https_port", .type = KEY_U16, FIELD(https_port), .min = 0, .max = 65535,
	  .flags = KF_RESTART },
	K_BOOL("igd_v1_by_user_agent", igd_v1_by_user_agent),
	{ .name = "ipv6_block_inbound", .type = KEY_BOOL, FIELD(ipv6_block_inbound),
	  .flags = KF_RESTART },
	{ .name = "ipv6_disable", .type = KEY_BOOL, FIELD(ipv6_disable), .flags = KF_RESTART },
	K_CUSTOM("ipv6_listening_ip", ipv6_listening_ip, set_ipv6_listen, KF_RESTART),
	K_STR("lease_file", lease_file, KF_ABSPATH | KF_RESTART),
	K_STR("lease_file6", lease_file6, KF_ABSPATH | KF_RESTART),
	K_CUSTOM("listening_ip", listen, set_listen, 0),
	K_STR("manufacturer_name", manufacturer_name, 0),
	K_STR("manufacturer_url", manufacturer_url, KF_URL),
	K_U32("max_lifetime", max_lifetime, 1, 31536000),
	K_U32("max_mappings", max_mappings, 1, 1000000),
	K_U32("max_mappings_per_client", max_mappings_per_client, 1, 1000000),
	K_U32("max_subscribers", max_subscribers, 1, 100000),
	K_U32("min_lifetime", min_lifetime, 1, 86400),
	K_IGNORED("minissdpdsocket"),
	K_STR("model_description", model_description, 0),
	K_STR("model_name", model_name, 0),
	K_STR("model_number", model_number, 0),
	K_STR("model_url", model_url, KF_URL),
	K_U32("notify_interval", notify_interval, 1, 86400),
	K_IGNORED("packet_log"),
	K_BOOL("pcp_allow_thirdparty", pcp_allow_thirdparty),
	{ .name = "port", .type = KEY_U16, FIELD(http_port), .min = 0, .max = 65535,
	  .flags = KF_RESTART },
	K_CUSTOM("presentation_url", presentation_url, set_presentation_url, KF_TEXT),
	{ .name = "preserve_mapped_ports", .type = KEY_BOOL, FIELD(preserve_mapped_ports),
	  .flags = KF_RESTART },
	K_IGNORED("queue"),
	K_IGNORED("quickrules"),
	{ .name = "seccomp", .type = KEY_BOOL, FIELD(seccomp), .flags = KF_RESTART },
	K_BOOL("secure_mode", secure_mode),
	K_STR("serial", serial, 0),
	K_U32("ssdp_rate_limit", ssdp_rate_limit, 0, 1000000),
	K_BOOL("system_uptime", system_uptime),
	K_IGNORED("tag"),
	K_STR("upnp_forward_chain", upnp_forward_chain, KF_FW | KF_NAME | KF_RESTART),
	K_STR("upnp_nat_chain", upnp_nat_chain, KF_FW | KF_NAME | KF_RESTART),
	K_STR("upnp_nat_postrouting_chain", upnp_nat_postrouting_chain, KF_FW | KF_NAME | KF_RESTART),
	K_STR("upnp_nat_table_name", upnp_nat_table_name, KF_FW | KF_NAME | KF_RESTART),
	{ .name = "upnp_nftables_family_split", .type = KEY_BOOL, FIELD(upnp_nftables_family_split),
	  .flags = KF_RESTART },
	K_STR("upnp_table_name", upnp_table_name, KF_FW | KF_NAME | KF_RESTART),
	K_CUSTOM("upstream_protocol", upstream_protocol, set_upstream_proto, KF_RESTART),
	K_CUSTOM("upstream_server", upstream_server, set_upstream_server, KF_RESTART),
	K_IGNORED("use_external_script"),
	K_STR("user", user, KF_USER | KF_RESTART),
	K_STR("uuid", uuid, KF_UUID | KF_RESTART),
};

static int
key_cmp(const void *name, const void *elem)
{
	return strcmp(name, ((const struct conf_key *)elem)->name);
}

static const struct conf_key *
key_find(const char *name)
{
	return bsearch(name, conf_keys, ARRAY_SIZE(conf_keys), sizeof(conf_keys[0]), key_cmp);
}

void
conf_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* miniupnpd's defaults where it has one. */
	cfg->ext_stun_port = 3478;
	cfg->ext_stun_interval = 600;
	cfg->enable_upnp = true;
	cfg->enable_natpmp = false;
	cfg->secure_mode = true;
	cfg->igd_v1_by_user_agent = true;	/* miniupnpd 2.2.3 does it always */
	cfg->min_lifetime = 120;	/* RFC 6887 15: at least 120 s */
	cfg->max_lifetime = 86400;	/* RFC 6887 15: 24 h suggested */
	cfg->notify_interval = 30;
	cfg->clean_ruleset_threshold = 20;
	cfg->clean_ruleset_interval = 0;
	/* igdd's own. */
	cfg->max_mappings = 16384;
	cfg->max_mappings_per_client = 256;
	cfg->http_max_connections = 128;
	cfg->http_header_max = 8192;
	cfg->http_body_max = 16384;
	cfg->http_idle_timeout = 10;
	cfg->max_subscribers = 64;
	cfg->hairpin = true;
	cfg->preserve_mapped_ports = true;
	cfg->ssdp_rate_limit = 10;
	cfg->seccomp = true;
	cfg->admin_session_idle = 900;		/* 15 minutes */
	cfg->admin_session_max = 43200;		/* 12 hours */
	(void)str_copy(cfg->control_socket, sizeof(cfg->control_socket),
		       IGDD_DEFAULT_CONTROL_SOCKET);
	/* The literals fit their fields; str_copy cannot fail here. */
	(void)str_copy(cfg->friendly_name, sizeof(cfg->friendly_name),
		       "igdd Internet Gateway Device");
	(void)str_copy(cfg->manufacturer_name, sizeof(cfg->manufacturer_name), "igdd");
	(void)str_copy(cfg->model_name, sizeof(cfg->model_name), "igdd");
	(void)str_copy(cfg->model_description, sizeof(cfg->model_description),
		       "igdd UPnP IGD, NAT-PMP and PCP gateway");
	(void)str_copy(cfg->model_number, sizeof(cfg->model_number), IGDD_VERSION);
	(void)str_copy(cfg->serial, sizeof(cfg->serial), "00000000");
}

/* ---- value syntax ---- */

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
valid_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!is_hex(s[i])) {
			return false;
		}
	}
	return true;
}

/* nftables names as nft(8) accepts them unquoted. */
static bool
valid_nft_name(const char *s)
{
	size_t i;

	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static bool
valid_user(const char *s)
{
	size_t i;

	if (s[0] == '-')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

static bool
valid_ifname(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= IF_NAMESIZE || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || blank_char(s[i]) || (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return true;
	return false;
}

static bool
has_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (blank_char(*s))
			return true;
	return false;
}

static int
set_string(struct config *cfg, const struct conf_key *k, const char *v, char *msg, size_t msgsize)
{
	char *dst = (char *)cfg + k->off;

	if (strlen(v) >= k->size) {
		str_printf(msg, msgsize, "%s: value is too long (%zu characters, at most %zu)",
			   k->name, strlen(v), k->size - 1);
		return -1;
	}
	if (has_control(v)) {
		str_printf(msg, msgsize, "%s: control characters are not allowed", k->name);
		return -1;
	}
	if ((k->flags & KF_UUID) && v[0] != '\0' && !valid_uuid(v)) {
		str_printf(msg, msgsize,
			   "%s: '%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, hex)",
			   k->name, v);
		return -1;
	}
	if ((k->flags & KF_NAME) && !valid_nft_name(v)) {
		str_printf(msg, msgsize,
			   "%s: '%s' is not an nftables name (a letter or '_', then letters, "
			   "digits, '_', '-', '.')", k->name, v);
		return -1;
	}
	if ((k->flags & KF_URL) && has_blank(v)) {
		str_printf(msg, msgsize, "%s: '%s' must not contain blanks", k->name, v);
		return -1;
	}
	if ((k->flags & KF_ABSPATH) && v[0] != '\0' && v[0] != '/') {
		str_printf(msg, msgsize, "%s: '%s' is not an absolute path", k->name, v);
		return -1;
	}
	if ((k->flags & KF_USER) && !valid_user(v)) {
		str_printf(msg, msgsize, "%s: '%s' is not a user or group name", k->name, v);
		return -1;
	}
	if (k->flags & KF_FW) {
		/* Integration with a firmware's firewall: the names it does not
		 * give are miniupnpd-nftables' ones, whatever the key order. */
		if (!cfg->fw_integrate) {
			static const struct { size_t off; const char *name; } fw_defaults[] = {
				{ offsetof(struct config, upnp_table_name), FW_DEFAULT_TABLE },
				{ offsetof(struct config, upnp_nat_table_name), FW_DEFAULT_NAT_TABLE },
				{ offsetof(struct config, upnp_forward_chain), FW_DEFAULT_FORWARD },
				{ offsetof(struct config, upnp_nat_chain), FW_DEFAULT_PREROUTING },
				{ offsetof(struct config, upnp_nat_postrouting_chain),
				  FW_DEFAULT_POSTROUTING },
			};
			size_t i;

			for (i = 0; i < ARRAY_SIZE(fw_defaults); i++) {
				char *name = (char *)cfg + fw_defaults[i].off;
				if (name[0] == '\0')
					(void)str_copy(name, CFG_NAME_MAX, fw_defaults[i].name);
			}
		}
		cfg->fw_integrate = true;
	}
	(void)str_copy(dst, k->size, v);
	return 0;
}

static int
set_presentation_url(struct config *cfg, const struct conf_key *k, const char *v, char *msg,
		     size_t msgsize)
{
	static const struct conf_key url = {
		.name = "presentation_url", .type = KEY_STRING, FIELD(presentation_url),
		.flags = KF_URL,
	};

	(void)k;
	if (set_string(cfg, &url, v, msg, msgsize) < 0)
		return -1;
	cfg->has_presentation_url = true;
	return 0;
}

/* yes, no, or allow-filtered (miniupnpd 2.3.4: use the STUN-learned
 * address even behind a filtering NAT, as OpenWrt's allow_cgnat_use
 * writes it). */
static int
set_stun(struct config *cfg, const struct conf_key *k, const char *v, char *msg, size_t msgsize)
{
	bool on;

	if (strcmp(v, "allow-filtered") == 0) {
		cfg->ext_perform_stun = CFG_STUN_ALLOW_FILTERED;
		return 0;
	}
	if (parse_bool(v, &on) < 0) {
		str_printf(msg, msgsize, "%s: '%s' is not yes, no or allow-filtered", k->name, v);
		return -1;
	}
	cfg->ext_perform_stun = on ? CFG_STUN_YES : CFG_STUN_NO;
	return 0;
}

static int
parse_ipv4(const char *s, struct in_addr *out)
{
	return inet_pton(AF_INET, s, out) == 1 ? 0 : -1;
}

/* A word of a fixed list into a one-byte field: its index. */
static int
set_word(struct config *cfg, const struct conf_key *k, const char *v, const char *const *words,
	 size_t n, const char *list, char *msg, size_t msgsize)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v, words[i]) == 0) {
			*((uint8_t *)cfg + k->off) = (uint8_t)i;
			return 0;
		}
	str_printf(msg, msgsize, "%s: '%s' is not one of %s", k->name, v, list);
	return -1;
}

static int
set_upstream_proto(struct config *cfg, const struct conf_key *k, const char *v, char *msg,
		   size_t msgsize)
{
	static const char *const words[] = {
		[UPSTREAM_NONE] = "none", [UPSTREAM_AUTO] = "auto", [UPSTREAM_PCP] = "pcp",
		[UPSTREAM_NATPMP] = "natpmp", [UPSTREAM_UPNP] = "upnp",
	};

	return set_word(cfg, k, v, words, ARRAY_SIZE(words), "none, auto, pcp, natpmp, upnp",
			msg, msgsize);
}

static int
set_upstream_server(struct config *cfg, const struct conf_key *k, const char *v, char *msg,
		    size_t msgsize)
{
	struct in_addr a = { 0 };

	if (v[0] != '\0' && (parse_ipv4(v, &a) < 0 || a.s_addr == 0)) {
		str_printf(msg, msgsize, "%s: '%s' is not an IPv4 address", k->name, v);
		return -1;
	}
	cfg->upstream_server = a;
	return 0;
}

static int
set_ext_ip(struct config *cfg, const struct conf_key *k, const char *v, char *msg, size_t msgsize)
{
	struct in_addr a;

	if (v[0] == '\0') {
		cfg->has_ext_ip = false;
		cfg->ext_ip.s_addr = 0;
		return 0;
	}
	if (parse_ipv4(v, &a) < 0) {
		str_printf(msg, msgsize, "%s: '%s' is not an IPv4 address", k->name, v);
		return -1;
	}
	cfg->has_ext_ip = true;
	cfg->ext_ip = a;
	return 0;
}

/* PORT or ADDR:PORT (ADDR an IPv4 address, 0.0.0.0 = every LAN address);
 * empty, "no" or "off": no admin page. */
static int
set_admin_listen(struct config *cfg, const struct conf_key *k, const char *v, char *msg,
		 size_t msgsize)
{
	const char *colon = strrchr(v, ':');
	char addr[INET_ADDRSTRLEN];
	struct in_addr a = { 0 };
	uint16_t port;
	bool on;

	memset(&cfg->admin_listen, 0, sizeof(cfg->admin_listen));
	if (v[0] == '\0' || (parse_bool(v, &on) == 0 && !on))
		return 0;
	if (colon != NULL &&
	    (str_copy_n(addr, sizeof(addr), v, (size_t)(colon - v)) < 0 || parse_ipv4(addr, &a) < 0 ||
	     a.s_addr == INADDR_BROADCAST || IN_MULTICAST(ntohl(a.s_addr)))) {
		str_printf(msg, msgsize, "%s: '%.*s' is not an IPv4 address of the gateway (or "
			   "0.0.0.0 for every LAN address)", k->name, (int)(colon - v), v);
		return -1;
	}
	if (parse_u16(colon != NULL ? colon + 1 : v, 1, 65535, &port) < 0) {
		str_printf(msg, msgsize, "%s: '%s' is not PORT or ADDR:PORT (port 1-65535)", k->name,
			   v);
		return -1;
	}
	cfg->admin_listen.addr = a;
	cfg->admin_listen.port = port;
	return 0;
}

static int
set_ipv6_listen(struct config *cfg, const struct conf_key *k, const char *v, char *msg,
		size_t msgsize)
{
	struct in6_addr a;

	if (v[0] == '\0') {
		cfg->has_ipv6_listening_ip = false;
		return 0;
	}
	if (inet_pton(AF_INET6, v, &a) != 1) {
		str_printf(msg, msgsize, "%s: '%s' is not an IPv6 address", k->name, v);
		return -1;
	}
	cfg->has_ipv6_listening_ip = true;
	cfg->ipv6_listening_ip = a;
	return 0;
}

static int
add_listen(struct config *cfg, const struct cfg_listen *l, char *msg, size_t msgsize)
{
	unsigned i;

	for (i = 0; i < cfg->n_listen; i++) {
		const struct cfg_listen *o = &cfg->listen[i];
		if (o->by_name == l->by_name &&
		    (l->by_name ? strcmp(o->ifname, l->ifname) == 0
				: o->addr.s_addr == l->addr.s_addr)) {
			log_warnx("listening_ip %s is listed twice; served once",
				  l->by_name ? l->ifname : ADDR4_STR(l->addr));
			return 0;	/* the same LAN twice: once is enough */
		}
	}
	if (cfg->n_listen >= CFG_MAX_LISTEN) {
		str_printf(msg, msgsize, "listening_ip: too many LAN interfaces (at most %d)",
			   CFG_MAX_LISTEN);
		return -1;
	}
	cfg->listen[cfg->n_listen++] = *l;
	return 0;
}

/* miniupnpd's forms: an address, address/prefix, address/netmask or an
 * interface name; then, for bridges, more interface names.  All or
 * nothing: a bad token adds none of the line's entries. */
static int
set_listen(struct config *cfg, const struct conf_key *k, const char *v, char *msg, size_t msgsize)
{
	struct cfg_listen found[CFG_MAX_LISTEN];
	unsigned n_found = 0, i, n_before = cfg->n_listen;
	char tok[64];
	const char *p = v;

	(void)k;
	for (;;) {
		struct cfg_listen *l = &found[n_found];
		const char *start;
		size_t n;

		while (blank_char(*p))
			p++;
		if (*p == '\0')
			break;
		if (n_found == CFG_MAX_LISTEN) {
			str_printf(msg, msgsize, "listening_ip: too many LAN interfaces (at most %d)",
				   CFG_MAX_LISTEN);
			return -1;
		}
		start = p;
		while (*p != '\0' && !blank_char(*p))
			p++;
		n = (size_t)(p - start);
		if (str_copy_n(tok, sizeof(tok), start, n) < 0) {
			str_printf(msg, msgsize, "listening_ip: '%.*s' is too long", (int)n, start);
			return -1;
		}
		memset(l, 0, sizeof(*l));
		if (tok[0] >= '0' && tok[0] <= '9') {
			int prefix;

			if (n_found > 0) {
				str_printf(msg, msgsize, "listening_ip: '%s': only interface names may "
					   "follow the first value", tok);
				return -1;
			}
			if (addr4_parse_prefix(tok, &l->addr, &prefix) < 0) {
				str_printf(msg, msgsize, "listening_ip: '%s' is not an address, "
					   "address/prefix or address/netmask", tok);
				return -1;
			}
			if (l->addr.s_addr == INADDR_ANY || l->addr.s_addr == INADDR_BROADCAST ||
			    IN_MULTICAST(ntohl(l->addr.s_addr))) {
				str_printf(msg, msgsize, "listening_ip: '%s' is not a unicast address",
					   tok);
				return -1;
			}
			if (prefix == 0) {
				str_printf(msg, msgsize, "listening_ip: '%s': a /0 LAN is not a LAN",
					   tok);
				return -1;
			}
			l->prefix = (uint8_t)(prefix < 0 ? 0 : prefix);
		} else {
			if (!valid_ifname(tok)) {
				str_printf(msg, msgsize,
					   "listening_ip: '%s' is not an interface name (1..%d characters)",
					   tok, IF_NAMESIZE - 1);
				return -1;
			}
			(void)str_copy(l->ifname, sizeof(l->ifname), tok);
			l->by_name = true;
		}
		n_found++;
	}
	if (n_found == 0) {
		str_printf(msg, msgsize, "listening_ip: empty value");
		return -1;
	}
	for (i = 0; i < n_found; i++) {
		if (add_listen(cfg, &found[i], msg, msgsize) < 0) {
			cfg->n_listen = n_before;
			return -1;
		}
	}
	return 0;
}

/* Apply one key=value through the table.  where: "file:line" for warnings. */
static int
conf_set(struct config *cfg, const char *key, const char *v, const char *where, char *msg,
	 size_t msgsize)
{
	const struct conf_key *k = key_find(key);
	void *field;

	if (k == NULL) {
		str_printf(msg, msgsize, "unknown key '%s'", key);
		return -1;
	}
	field = (char *)cfg + k->off;
	switch (k->type) {
	case KEY_BOOL:
		if (parse_bool(v, field) < 0) {
			str_printf(msg, msgsize, "%s: '%s' is not yes or no", k->name, v);
			return -1;
		}
		return 0;
	case KEY_U16:
		if (parse_u16(v, (uint16_t)k->min, (uint16_t)k->max, field) < 0)
			goto bad_number;
		return 0;
	case KEY_U32:
		if (parse_u32(v, k->min, k->max, field) < 0)
			goto bad_number;
		return 0;
	case KEY_STRING:
		return set_string(cfg, k, v, msg, msgsize);
	case KEY_IFNAME:
		if (v[0] != '\0' && !valid_ifname(v)) {
			str_printf(msg, msgsize, "%s: '%s' is not an interface name (1..%d characters)",
				   k->name, v, IF_NAMESIZE - 1);
			return -1;
		}
		(void)str_copy(field, k->size, v);
		return 0;
	case KEY_CUSTOM:
		return k->custom(cfg, k, v, msg, msgsize);
	case KEY_IGNORED:
		log_warnx("%s: key '%s' has no effect on Linux/nftables; ignored", where, k->name);
		return 0;
	}
	str_printf(msg, msgsize, "%s: internal error", k->name);
	return -1;
bad_number:
	str_printf(msg, msgsize, "%s: '%s' is not a number in %u..%u", k->name, v,
		   (unsigned)k->min, (unsigned)k->max);
	return -1;
}

static int
add_perm(struct config *cfg, const char *text, char *msg, size_t msgsize)
{
	struct perm_rule r, *n;

	if (perm_parse(&r, text, msg, msgsize) < 0)
		return -1;
	n = realloc(cfg->perms, sizeof(*n) * (cfg->n_perms + 1));
	if (n == NULL) {
		perm_rule_free(&r);
		str_printf(msg, msgsize, "out of memory");
		return -1;
	}
	cfg->perms = n;
	cfg->perms[cfg->n_perms++] = r;
	return 0;
}

/* True when s starts with word followed by a blank (or its end). */
static bool
starts_with_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	return strncmp(s, word, n) == 0 && (s[n] == '\0' || blank_char(s[n]));
}

static int
parse_line(struct config *cfg, const char *line, const char *where, char *msg, size_t msgsize)
{
	char key[64], value[CONF_LINE_MAX];
	const char *p = line, *eq, *end, *kend;

	msg[0] = '\0';
	while (blank_char(*p))
		p++;
	end = p + strlen(p);
	while (end > p && blank_char(end[-1]))
		end--;
	if (p == end || *p == '#')
		return 0;
	if (starts_with_word(p, "allow") || starts_with_word(p, "deny")) {
		if (str_copy_n(value, sizeof(value), p, (size_t)(end - p)) < 0) {
			str_printf(msg, msgsize, "line too long");
			return -1;
		}
		return add_perm(cfg, value, msg, msgsize);
	}
	if (starts_with_word(p, "set_learn_dscp") || strncmp(p, "set_learn_dscp=", 15) == 0) {
		/* miniupnpd's PCP_SADSCP extension: no DSCP learning here. */
		log_warnx("%s: key 'set_learn_dscp' has no effect in igdd; ignored", where);
		return 0;
	}
	eq = memchr(p, '=', (size_t)(end - p));
	if (eq == NULL) {
		str_printf(msg, msgsize, "expected 'key=value' or an allow/deny rule");
		return -1;
	}
	kend = eq;
	while (kend > p && blank_char(kend[-1]))
		kend--;
	if (kend == p) {
		str_printf(msg, msgsize, "missing key before '='");
		return -1;
	}
	if (str_copy_n(key, sizeof(key), p, (size_t)(kend - p)) < 0) {
		str_printf(msg, msgsize, "unknown key '%.*s'", (int)(kend - p), p);
		return -1;
	}
	eq++;
	while (eq < end && blank_char(*eq))
		eq++;
	if (str_copy_n(value, sizeof(value), eq, (size_t)(end - eq)) < 0) {
		str_printf(msg, msgsize, "line too long");
		return -1;
	}
	return conf_set(cfg, key, value, where, msg, msgsize);
}

int
conf_parse_line(struct config *cfg, const char *line, char *msg, size_t msgsize)
{
	return parse_line(cfg, line, "configuration", msg, msgsize);
}

/* One line of f into buf[CONF_LINE_MAX + 1] without its newline; *len is
 * its length.  Memory stays bounded whatever the file holds: the rest of a
 * line that is too long is read and dropped.  Returns 1 for a line (with
 * *bad set to a reason when it is unusable), 0 at the end, -1 when the
 * file is over CONF_FILE_MAX bytes. */
static int
read_line(FILE *f, char *buf, size_t *len, const char **bad, size_t *total)
{
	int c;

	*len = 0;
	*bad = NULL;
	while ((c = getc(f)) != EOF) {
		if (++*total > CONF_FILE_MAX)
			return -1;
		if (c == '\n')
			break;
		if (c == '\0')
			*bad = "NUL byte in line";
		if (*len < CONF_LINE_MAX)
			buf[(*len)++] = (char)c;
		else if (*bad == NULL)
			*bad = "line too long (more than " STRINGIFY(CONF_LINE_MAX) " bytes)";
	}
	buf[*len] = '\0';
	return c == EOF && *len == 0 && *bad == NULL ? 0 : 1;
}

int
conf_parse_file(struct config *cfg, const char *path, FILE *err)
{
	char msg[512], where[CFG_STR_MAX + 16], line[CONF_LINE_MAX + 1];
	const char *bad;
	size_t len, total = 0;
	unsigned lineno = 0, errors = 0;
	int more;
	FILE *f;

	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((more = read_line(f, line, &len, &bad, &total)) > 0) {
		int rc = -1;

		lineno++;
		if (str_printf(where, sizeof(where), "%s:%u", path, lineno) < 0)
			(void)str_printf(where, sizeof(where), "line %u", lineno);
		if (bad != NULL)
			(void)str_copy(msg, sizeof(msg), bad);
		else
			rc = parse_line(cfg, line, where, msg, sizeof(msg));
		if (rc < 0) {
			if (++errors <= CONF_ERRORS_MAX)
				fprintf(err, "%s: %s\n", where, msg);
			else if (errors == CONF_ERRORS_MAX + 1)
				fprintf(err, "%s: too many errors, not reporting more\n", path);
		}
	}
	if (more < 0) {
		fprintf(err, "%s:%u: file larger than %d bytes; not a configuration file?\n",
			path, lineno + 1, CONF_FILE_MAX);
		errors++;
	} else if (ferror(f)) {
		fprintf(err, "%s: %s\n", path, strerror(errno));
		errors++;
	}
	fclose(f);
	return errors == 0 ? 0 : -1;
}


/* ---- command line ---- */

enum cli_kind {
	CLI_KEY,	/* sets a configuration key from its argument */
	CLI_FLAG,	/* no argument */
	CLI_SPECIAL,	/* an argument handled by name */
};

struct cli_opt {
	char opt;
	enum cli_kind kind;
	unsigned nargs;
	const char *key;	/* CLI_KEY */
};

static const struct cli_opt cli_opts[] = {
	{ '1', CLI_FLAG, 0, NULL },		/* force_igd_desc_v1 */
	{ '4', CLI_FLAG, 0, NULL },		/* ipv6_disable */
	{ 'A', CLI_SPECIAL, 1, NULL },		/* permission rule */
	{ 'B', CLI_SPECIAL, 2, NULL },		/* bitrates down up */
	{ 'H', CLI_KEY, 1, "https_port" },
	{ 'I', CLI_KEY, 1, "ext_ifname6" },
	{ 'N', CLI_FLAG, 0, NULL },		/* enable_natpmp */
	{ 'P', CLI_SPECIAL, 1, NULL },		/* pid file */
	{ 'S', CLI_FLAG, 0, NULL },		/* secure mode; -S0 off */
	{ 'U', CLI_FLAG, 0, NULL },		/* system_uptime */
	{ 'a', CLI_KEY, 1, "listening_ip" },
	{ 'b', CLI_SPECIAL, 1, NULL },		/* BOOTID: ignored */
	{ 'd', CLI_FLAG, 0, NULL },		/* foreground, log to stderr */
	{ 'f', CLI_SPECIAL, 1, NULL },		/* config file */
	{ 'h', CLI_FLAG, 0, NULL },
	{ 'i', CLI_KEY, 1, "ext_ifname" },
	{ 'm', CLI_KEY, 1, "model_number" },
	{ 'n', CLI_FLAG, 0, NULL },		/* check only */
	{ 'o', CLI_SPECIAL, 1, NULL },		/* ext_ip or STUN:host[:port] */
	{ 'p', CLI_KEY, 1, "http_port" },
	{ 'r', CLI_KEY, 1, "clean_ruleset_interval" },
	{ 's', CLI_KEY, 1, "serial" },
	{ 't', CLI_KEY, 1, "notify_interval" },
	{ 'u', CLI_KEY, 1, "uuid" },
	{ 'v', CLI_FLAG, 0, NULL },
	{ 'w', CLI_KEY, 1, "presentation_url" },
	{ 'z', CLI_KEY, 1, "friendly_name" },
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: igdd [-dnv] [-f config_file] [-P pid_file] [-i ext_ifname] [-I ext_ifname6]\n"
		"            [-o ext_ip | -o STUN:host[:port]] [-a listening_ip]... [-p port]\n"
		"            [-H https_port] [-N] [-U] [-S | -S0] [-4] [-1] [-u uuid] [-s serial]\n"
		"            [-m model_number] [-z friendly_name] [-t notify_interval]\n"
		"            [-B down up] [-w url] [-r clean_ruleset_interval] [-A \"rule\"]...\n"
		"       igdd -d --syslog ...              (foreground, logging to syslog)\n"
		"       igdd --check [-f config_file]     (also -n)\n"
		"       igdd --version | --help\n"
		"Command-line options override the configuration file (default %s).\n"
		"See igdd(8) and igdd.conf(5).\n", IGDD_DEFAULT_CONFIG);
}

static const struct cli_opt *
cli_find(char c)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cli_opts); i++)
		if (cli_opts[i].opt == c)
			return &cli_opts[i];
	return NULL;
}

/* -o STUN:host[:port] as miniupnpd, or an address. */
static int
cli_ext_ip(struct config *cfg, const char *arg, char *msg, size_t msgsize)
{
	char host[CFG_STR_MAX];
	const char *colon;

	if (strncasecmp(arg, "STUN:", 5) != 0)
		return conf_set(cfg, "ext_ip", arg, "-o", msg, msgsize);
	arg += 5;
	colon = strchr(arg, ':');
	if (str_copy_n(host, sizeof(host), arg, colon ? (size_t)(colon - arg) : strlen(arg)) < 0 ||
	    host[0] == '\0') {
		str_printf(msg, msgsize, "STUN:host[:port] needs a host");
		return -1;
	}
	if (conf_set(cfg, "ext_stun_host", host, "-o", msg, msgsize) < 0)
		return -1;
	if (colon != NULL && conf_set(cfg, "ext_stun_port", colon + 1, "-o", msg, msgsize) < 0)
		return -1;
	cfg->ext_perform_stun = CFG_STUN_YES;
	return 0;
}

static enum cli_result
cli_apply(struct config *cfg, const struct cli_opt *o, const char *arg, char **args,
	  bool *pidfile_given, FILE *out, char *msg, size_t msgsize)
{
	char where[4] = { '-', o->opt, '\0', '\0' };

	switch (o->opt) {
	case '1': cfg->force_igd_desc_v1 = true; return CLI_OK;
	case '4': cfg->ipv6_disable = true; return CLI_OK;
	case 'N': cfg->enable_natpmp = true; return CLI_OK;
	case 'U': cfg->system_uptime = true; return CLI_OK;
	case 'd': cfg->foreground = true; return CLI_OK;
	case 'n': cfg->check_only = true; return CLI_OK;
	case 'h': usage(out); return CLI_EXIT_OK;
	case 'S':
		/* -S0 (miniupnpd) turns secure mode off, -S on. */
		cfg->secure_mode = arg == NULL;
		return CLI_OK;
	case 'v':
		cfg->verbosity += (int)strlen(arg);
		return CLI_OK;
	case 'A':
		return add_perm(cfg, args[0], msg, msgsize) < 0 ? CLI_ERROR : CLI_OK;
	case 'B':
		if (conf_set(cfg, "bitrate_down", args[0], where, msg, msgsize) < 0 ||
		    conf_set(cfg, "bitrate_up", args[1], where, msg, msgsize) < 0)
			return CLI_ERROR;
		return CLI_OK;
	case 'P':
		if (args[0][0] == '\0' || str_copy(cfg->pidfile, sizeof(cfg->pidfile), args[0]) < 0) {
			str_printf(msg, msgsize, "pid file name empty or too long");
			return CLI_ERROR;
		}
		*pidfile_given = true;
		return CLI_OK;
	case 'b':
		log_warnx("-b: igdd chooses BOOTID.UPNP.ORG itself; ignored");
		return CLI_OK;
	case 'f':
		if (args[0][0] == '\0' ||
		    str_copy(cfg->config_file, sizeof(cfg->config_file), args[0]) < 0) {
			str_printf(msg, msgsize, "config file name empty or too long");
			return CLI_ERROR;
		}
		return CLI_OK;
	case 'o':
		return cli_ext_ip(cfg, args[0], msg, msgsize) < 0 ? CLI_ERROR : CLI_OK;
	default:
		break;
	}
	if (o->kind == CLI_KEY)
		return conf_set(cfg, o->key, args[0], where, msg, msgsize) < 0 ? CLI_ERROR : CLI_OK;
	str_printf(msg, msgsize, "internal error");
	return CLI_ERROR;
}

enum cli_result
conf_parse_args(struct config *cfg, int argc, char **argv, bool apply, FILE *out)
{
	bool pidfile_given = false;
	char msg[512];
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct cli_opt *o;
		const char *suffix = NULL;	/* -S0, -vvv */
		enum cli_result r;

		if (strcmp(a, "--version") == 0) {
			if (!apply)
				fprintf(out, "igdd %s\n", IGDD_VERSION);
			return CLI_EXIT_OK;
		}
		if (strcmp(a, "--help") == 0) {
			if (!apply)
				usage(out);
			return CLI_EXIT_OK;
		}
		if (strcmp(a, "--check") == 0)
			a = "-n";
		if (strcmp(a, "--syslog") == 0) {
			cfg->log_syslog = true;
			continue;
		}
		if (a[0] != '-' || a[1] == '\0' || a[1] == '-' || (o = cli_find(a[1])) == NULL)
			goto unknown;
		if (a[2] != '\0') {
			if (o->opt == 'S' && strcmp(a + 2, "0") == 0)
				suffix = a + 2;
			else if (o->opt == 'v' && strspn(a + 2, "v") == strlen(a + 2))
				suffix = a + 1;
			else
				goto unknown;
		} else if (o->opt == 'v') {
			suffix = "v";
		}
		if (argc - 1 - i < (int)o->nargs) {
			fprintf(stderr, "igdd: option -%c needs %u argument%s\n", o->opt, o->nargs,
				o->nargs > 1 ? "s" : "");
			return CLI_ERROR;
		}
		/* Pass 1: only the file, help and version; pass 2: everything. */
		if (apply || o->opt == 'f' || o->opt == 'h') {
			r = cli_apply(cfg, o, suffix, argv + i + 1, &pidfile_given, out, msg,
				      sizeof(msg));
			if (r == CLI_ERROR) {
				fprintf(stderr, "igdd: -%c: %s\n", o->opt, msg);
				return CLI_ERROR;
			}
			if (r == CLI_EXIT_OK)
				return r;
		}
		i += (int)o->nargs;
		continue;
unknown:
		fprintf(stderr, "igdd: unknown option '%s' (igdd --help lists them)\n", argv[i]);
		return CLI_ERROR;
	}
	/* A daemon writes a pid file unless told where (-P) or in the
	 * foreground, where a supervisor already knows the pid. */
	if (apply && !pidfile_given && !cfg->foreground && cfg->pidfile[0] == '\0')
		(void)str_copy(cfg->pidfile, sizeof(cfg->pidfile), IGDD_DEFAULT_PIDFILE);
	return CLI_OK;
}

/* ---- whole-configuration checks ---- */

/* What the permission rules mean as a whole, logged once at start (and
 * by --check): miniupnpd's semantics allow what no rule matches, which a
 * file written for "deny by default" may not expect. */
static void
conf_log_perm_policy(const struct config *cfg, const char *src)
{
	unsigned k = 0;

	switch (perm_policy(cfg->perms, cfg->n_perms, &k)) {
	case PERM_POLICY_NONE:
		break;
	case PERM_POLICY_OPEN_END:
		log_warnx("%s: no permission rule is a final catch-all: a mapping that no rule "
			  "matches is allowed (as in miniupnpd); end the rules with "
			  "\"deny 0-65535 0.0.0.0/0 0-65535\" to refuse it", src);
		break;
	case PERM_POLICY_DENY_ALL:
		log_warnx("%s: the permission rules deny every mapping: rule %u of %u is a "
			  "catch-all deny and no allow rule comes before it", src, k + 1,
			  cfg->n_perms);
		break;
	case PERM_POLICY_CLOSED:
		if (k + 1 < cfg->n_perms)
			log_warnx("%s: permission rule %u of %u is a catch-all: the %u rule(s) "
				  "after it are never reached", src, k + 1, cfg->n_perms,
				  cfg->n_perms - k - 1);
		break;
	}
}

int
conf_validate(const struct config *cfg, FILE *err)
{
	const char *src = cfg->config_file[0] ? cfg->config_file : "igdd";
	unsigned errors = 0, i;
	char a[INET_ADDRSTRLEN];

#define CONF_ERR(...) do { fprintf(err, "%s: ", src); fprintf(err, __VA_ARGS__); \
			   fputc('\n', err); errors++; } while (0)

	if (cfg->ext_ifname[0] == '\0')
		CONF_ERR("ext_ifname is not set (ext_ifname= in the file or -i)");
	if ((cfg->enable_upnp || cfg->enable_natpmp) && cfg->n_listen == 0)
		CONF_ERR("listening_ip is not set (listening_ip= in the file or -a)");
	if (!cfg->enable_upnp && !cfg->enable_natpmp)
		CONF_ERR("enable_upnp=no and enable_natpmp=no: nothing to serve");
	if (cfg->min_lifetime > cfg->max_lifetime)
		CONF_ERR("min_lifetime (%u) is greater than max_lifetime (%u)",
			 (unsigned)cfg->min_lifetime, (unsigned)cfg->max_lifetime);
	if (cfg->max_mappings_per_client > cfg->max_mappings)
		CONF_ERR("max_mappings_per_client (%u) is greater than max_mappings (%u)",
			 (unsigned)cfg->max_mappings_per_client, (unsigned)cfg->max_mappings);
	if (cfg->ext_perform_stun != CFG_STUN_NO && cfg->has_ext_ip)
		CONF_ERR("ext_ip and ext_perform_stun cannot be used together");
	if (cfg->ext_perform_stun != CFG_STUN_NO && cfg->ext_stun_host[0] == '\0')
		CONF_ERR("ext_perform_stun needs ext_stun_host");
	if (cfg->upstream_protocol != UPSTREAM_NONE && cfg->has_ext_ip)
		CONF_ERR("ext_ip and upstream_protocol cannot be used together: the upstream "
			 "gateway tells the external address");
	if (cfg->http_port != 0 && cfg->http_port == cfg->https_port)
		CONF_ERR("http_port and https_port are both %u", cfg->http_port);
	if (cfg->admin_listen.port != 0 && cfg->admin_password_file[0] == '\0')
		CONF_ERR("admin_listen needs admin_password_file (igddctl passwd FILE writes one)");
	if (cfg->admin_session_idle > cfg->admin_session_max)
		CONF_ERR("admin_session_idle (%u) is greater than admin_session_max (%u)",
			 (unsigned)cfg->admin_session_idle, (unsigned)cfg->admin_session_max);
	for (i = 0; i < cfg->n_listen; i++)
		if (cfg->listen[i].by_name && strcmp(cfg->listen[i].ifname, cfg->ext_ifname) == 0)
			CONF_ERR("listening_ip %s is the external interface (ext_ifname)",
				 cfg->ext_ifname);
	if (cfg->has_ext_ip) {
		uint32_t h = ntohl(cfg->ext_ip.s_addr);

		addr4_str(cfg->ext_ip, a, sizeof(a));
		if (h == 0 || h == 0xffffffffu || IN_MULTICAST(h) || (h >> 24) == 127)
			CONF_ERR("ext_ip %s cannot be an external address", a);
		else if (iface_addr_is_private(cfg->ext_ip) && !cfg->ext_allow_private_ipv4)
			log_warnx("%s: ext_ip %s is private or reserved; reporting it anyway "
				  "(ext_allow_private_ipv4=yes silences this)", src, a);
	}
	conf_log_perm_policy(cfg, src);
	if (cfg->https_port != 0)
		log_warnx("%s: igdd has no HTTPS; https_port=%u is ignored", src, cfg->https_port);
	if (cfg->min_lifetime < 120)
		log_warnx("%s: min_lifetime %u is below the 120 s RFC 6887 recommends",
			  src, (unsigned)cfg->min_lifetime);
#undef CONF_ERR
	return errors == 0 ? 0 : -1;
}

void
conf_free(struct config *cfg)
{
	unsigned i;

	for (i = 0; i < cfg->n_perms; i++)
		perm_rule_free(&cfg->perms[i]);
	free(cfg->perms);
	cfg->perms = NULL;
	cfg->n_perms = 0;
}

/* ---- reload ---- */

static bool

perms_same(const struct config *a, const struct config *b)
{
	unsigned i;

	if (a->n_perms != b->n_perms)
		return false;
	for (i = 0; i < a->n_perms; i++)
		if (!perm_rule_eq(&a->perms[i], &b->perms[i]))
			return false;
	return true;
}

/* A key whose field an earlier key of the table names too (an alias). */
static bool
is_alias(size_t k)
{
	size_t j;

	for (j = 0; j < k; j++)
		if (conf_keys[j].size != 0 && conf_keys[j].off == conf_keys[k].off)
			return true;
	return false;
}

size_t
conf_diff(const struct config *old, const struct config *new, struct conf_change *out,
	  size_t max)
{
	size_t k, n = 0;

	for (k = 0; k < ARRAY_SIZE(conf_keys); k++) {
		const struct conf_key *key = &conf_keys[k];
		const char *a = (const char *)old + key->off, *b = (const char *)new + key->off;
		bool text = key->type == KEY_STRING || key->type == KEY_IFNAME ||
			    (key->flags & KF_TEXT);

		if (key->size == 0 || is_alias(k) ||
		    (text ? strncmp(a, b, key->size) : memcmp(a, b, key->size)) == 0)
			continue;
		if (n < max) {
			out[n].key = key->name;
			out[n].restart = (key->flags & KF_RESTART) != 0;
		}
		n++;
	}
	if (!perms_same(old, new)) {
		if (n < max) {
			out[n].key = "allow/deny";
			out[n].restart = false;
		}
		n++;
	}
	return n;
}

/* Fields that go with a key's own (not in the key table). */
static void
keep_companions(struct config *cfg, const struct config *from, const struct conf_key *k)
{
	if (k->off == offsetof(struct config, listen))
		cfg->n_listen = from->n_listen;
	else if (k->off == offsetof(struct config, ext_ip))
		cfg->has_ext_ip = from->has_ext_ip;
	else if (k->off == offsetof(struct config, ipv6_listening_ip))
		cfg->has_ipv6_listening_ip = from->has_ipv6_listening_ip;
	else if (k->off == offsetof(struct config, presentation_url))
		cfg->has_presentation_url = from->has_presentation_url;
	if (k->flags & KF_FW)
		cfg->fw_integrate = from->fw_integrate;
}

int
conf_keep(struct config *cfg, const struct config *from, const char *key)
{
	const struct conf_key *k = key_find(key);

	if (k == NULL || k->size == 0)
		return -1;
	memcpy((char *)cfg + k->off, (const char *)from + k->off, k->size);
	keep_companions(cfg, from, k);
	return 0;
}
