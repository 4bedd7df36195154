/* test_conf.c - the configuration file, permission rules, the command
 * line and the whole-configuration checks. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "conf.h"
#include "unit.h"
#include "util.h"

/* Write text to a fresh file under /tmp; path gets its name. */
static int
write_temp(char *path, size_t size, const char *text)
{
	int fd;
	ssize_t n = (ssize_t)strlen(text);

	snprintf(path, size, "/tmp/igdd-test-conf-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (write(fd, text, (size_t)n) != n) {
		close(fd);
		unlink(path);
		return -1;
	}
	return close(fd);
}

/* Parse text as a file; *errs gets what was written to err (free it). */
static int
parse_text(struct config *cfg, const char *text, char *path, size_t pathsize, char **errs)
{
	size_t len = 0;
	FILE *err;
	int rc;

	*errs = NULL;
	if (write_temp(path, pathsize, text) < 0)
		return -2;
	err = open_memstream(errs, &len);
	if (err == NULL) {
		unlink(path);
		return -2;
	}
	rc = conf_parse_file(cfg, path, err);
	fclose(err);
	unlink(path);
	return rc;
}

static bool
contains(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

static const char cgn_conf[] =
	"ext_ifname=wan0\n"
	"ext_ip=1.2.3.4\n"
	"listening_ip=10.0.0.36/24\n"
	"port=0\n"
	"enable_natpmp=yes\n"
	"enable_upnp=yes\n"
	"bitrate_up=1000000\n"
	"bitrate_down=10000000\n"
	"secure_mode=no\n"
	"system_uptime=yes\n"
	"notify_interval=60\n"
	"clean_ruleset_interval=600\n"
	"uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b\n"
	"serial=12345678\n"
	"model_number=1\n"
	"allow 1024-65535 10.0.0.0/24 1024-65535\n"
	"allow 1024-65535 10.0.1.0/24 1024-65535\n"
	"deny 0-65535 0.0.0.0/0 0-65535\n";

TEST(conf_cgn_file_parses_and_validates)
{
	struct config cfg;
	char path[64], *errs;
	size_t len = 0;
	char *vbuf = NULL;
	FILE *verr;

	conf_defaults(&cfg);
	CHECK_EQ(parse_text(&cfg, cgn_conf, path, sizeof(path), &errs), 0);
	CHECK_STR(errs, "");
	free(errs);
	CHECK_STR(cfg.ext_ifname, "wan0");
	CHECK(cfg.has_ext_ip && cfg.ext_ip.s_addr == htonl(0x01020304));
	CHECK_EQ(cfg.n_listen, 1);
	CHECK(!cfg.listen[0].by_name);
	CHECK_EQ(cfg.listen[0].addr.s_addr, htonl(0x0a000024));
	CHECK_EQ(cfg.listen[0].prefix, 24);
	CHECK_EQ(cfg.http_port, 0);
	CHECK(cfg.enable_natpmp && cfg.enable_upnp && !cfg.secure_mode && cfg.system_uptime);
	CHECK_EQ(cfg.bitrate_up, 1000000);
	CHECK_EQ(cfg.bitrate_down, 10000000);
	CHECK_EQ(cfg.notify_interval, 60);
	CHECK_EQ(cfg.clean_ruleset_interval, 600);
	CHECK_STR(cfg.uuid, "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b");
	CHECK_STR(cfg.serial, "12345678");
	CHECK_STR(cfg.model_number, "1");
	CHECK_EQ(cfg.n_perms, 3);
	CHECK(cfg.n_perms == 3 && cfg.perms[0].allow && cfg.perms[1].allow && !cfg.perms[2].allow);
	CHECK(cfg.n_perms == 3 && cfg.perms[1].addr.s_addr == htonl(0x0a000100) &&
	      cfg.perms[1].mask.s_addr == htonl(0xffffff00));
	CHECK(cfg.n_perms == 3 && cfg.perms[2].mask.s_addr == 0 && cfg.perms[2].eport_max == 65535);
	CHECK(!cfg.fw_integrate);
	verr = open_memstream(&vbuf, &len);
	CHECK(verr != NULL);
	if (verr != NULL) {
		CHECK_EQ(conf_validate(&cfg, verr), 0);
		fclose(verr);
		CHECK_STR(vbuf, "");
		free(vbuf);
	}
	conf_free(&cfg);
	CHECK(cfg.perms == NULL && cfg.n_perms == 0);
}

/* Every key: a valid value that differs from the default changes the
 * configuration (ignored keys leave it alone); a bad value is refused
 * with a message naming the key. */
struct key_case {
	const char *key;
	const char *good;
	const char *bad;	/* NULL: a too-long value is the bad one */
	bool ignored;
};

static const struct key_case key_cases[] = {
	{ "admin_dhcp_leases", "/tmp/dhcp.leases", "dhcp.leases", false },
	{ "admin_listen", "192.168.1.1:8080", "192.168.1:8080", false },
	{ "admin_metrics_token_file", "/etc/igdd/metrics.token", "metrics.token", false },
	{ "admin_password_file", "/etc/igdd/admin.passwd", "admin.passwd", false },
	{ "admin_session_idle", "60", "0", false },
	{ "admin_session_max", "3600", "2592001", false },
	{ "anchor", "miniupnpd", NULL, true },
	{ "bitrate_down", "10000000", "ten", false },
	{ "bitrate_up", "4294967295", "4294967296", false },
	{ "clean_ruleset_interval", "600", "604801", false },
	{ "clean_ruleset_threshold", "10", "-1", false },
	{ "control_group", "igdd", "-wheel", false },
	{ "control_socket", "/run/igdd/other.sock", "run/igdd.sock", false },
	{ "enable_natpmp", "yes", "maybe", false },
	{ "enable_pcp_pmp", "yes", "2", false },
	{ "enable_upnp", "no", "nope", false },
	{ "ext_allow_private_ipv4", "yes", "y", false },
	{ "ext_ifname", "eth1", "eth/1", false },
	{ "ext_ifname6", "eth2", "0123456789abcdef", false },
	{ "ext_ip", "198.51.100.7", "198.51.100", false },
	{ "ext_perform_stun", "yes", "sure", false },
	{ "ext_stun_host", "stun.example.org", "stun example", false },
	{ "ext_stun_interval", "60", "604801", false },
	{ "ext_stun_port", "19302", "0", false },
	{ "external_script_path", "/usr/bin/x", NULL, true },
	{ "force_igd_desc_v1", "yes", "v1", false },
	{ "friendly_name", "My Router", NULL, false },
	{ "hairpin", "no", "both", false },
	{ "http_body_max", "65536", "1023", false },
	{ "http_header_max", "4096", "65537", false },
	{ "http_idle_timeout", "30", "0", false },
	{ "http_max_connections", "1024", "0", false },
	{ "http_port", "5000", "65536", false },
	{ "https_port", "5001", "http", false },
	{ "ipv6_disable", "yes", "ja", false },
	{ "ipv6_listening_ip", "fd00::1", "10.0.0.1", false },
	{ "lease_file", "/var/lib/igdd/leases", "leases", false },
	{ "lease_file6", "/var/lib/igdd/leases6", "leases6", false },
	{ "listening_ip", "br-lan", "10.0.0.1/33", false },
	{ "manufacturer_name", "ACME", NULL, false },
	{ "manufacturer_url", "http://acme.example/", "http://acme example/", false },
	{ "max_lifetime", "3600", "0", false },
	{ "max_mappings", "100", "1000001", false },
	{ "max_mappings_per_client", "10", "0", false },
	{ "max_subscribers", "8", "0", false },
	{ "min_lifetime", "300", "86401", false },
	{ "minissdpdsocket", "/var/run/minissdpd.sock", NULL, true },
	{ "model_description", "A router", NULL, false },
	{ "model_name", "R1", NULL, false },
	{ "model_number", "42", NULL, false },
	{ "model_url", "http://acme.example/r1", "a b", false },
	{ "notify_interval", "240", "abc", false },
	{ "packet_log", "yes", NULL, true },
	{ "pcp_allow_thirdparty", "yes", "perhaps", false },
	{ "port", "8080", "80000", false },
	{ "presentation_url", "http://192.168.0.1/", "http://x y/", false },
	{ "preserve_mapped_ports", "no", "udp", false },
	{ "queue", "q1", NULL, true },
	{ "quickrules", "no", NULL, true },
	{ "seccomp", "no", "maybe", false },
	{ "secure_mode", "no", "off-ish", false },
	{ "serial", "SN1", NULL, false },
	{ "ssdp_rate_limit", "0", "1000001", false },
	{ "system_uptime", "yes", "always", false },
	{ "tag", "t1", NULL, true },
	{ "upnp_forward_chain", "upnp_forward", "bad chain", false },
	{ "upnp_nat_chain", "upnp_prerouting", "1chain", false },
	{ "upnp_nat_postrouting_chain", "upnp_postrouting", "", false },
	{ "upnp_nat_table_name", "fw4", "fw4;", false },
	{ "upnp_nftables_family_split", "yes", "split", false },
	{ "upnp_table_name", "fw4", "fw 4", false },
	{ "upstream_protocol", "pcp", "stun", false },
	{ "upstream_server", "100.64.0.1", "100.64.0", false },
	{ "use_external_script", "yes", NULL, true },
	{ "user", "igdd", "-root", false },
	{ "uuid", "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b", "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07", false },
};

/* Fields only the command line sets, and the pointer to the rules,
 * do not count as "changed". */
static bool
config_equal(const struct config *a, const struct config *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

TEST(conf_every_key_good_and_bad)
{
	char longval[400], line[512], msg[256];
	struct config def, cfg;
	size_t i;

	memset(longval, 'x', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	conf_defaults(&def);
	for (i = 0; i < ARRAY_SIZE(key_cases); i++) {
		const struct key_case *c = &key_cases[i];
		int rc;

		conf_defaults(&cfg);
		snprintf(line, sizeof(line), "%s=%s", c->key, c->good);
		rc = conf_parse_line(&cfg, line, msg, sizeof(msg));
		if (rc != 0)
			printf("    %s: %s\n", line, msg);
		CHECK_EQ(rc, 0);
		if (c->ignored ? !config_equal(&cfg, &def) : config_equal(&cfg, &def)) {
			printf("    %s: %s\n", line, c->ignored ? "changed the configuration"
							    : "changed nothing");
			CHECK(!"key has the expected effect");
		}
		conf_free(&cfg);
		if (c->ignored)
			continue;
		conf_defaults(&cfg);
		snprintf(line, sizeof(line), "%s=%s", c->key, c->bad ? c->bad : longval);
		rc = conf_parse_line(&cfg, line, msg, sizeof(msg));
		if (rc == 0)
			printf("    %s: accepted\n", line);
		CHECK_EQ(rc, -1);
		if (strncmp(msg, c->key, strlen(c->key)) != 0 && !contains(msg, c->key)) {
			printf("    %s: message '%s' does not name the key\n", line, msg);
			CHECK(!"message names the key");
		}
		conf_free(&cfg);
	}
}

TEST(conf_key_effects)
{
	struct config cfg;
	char msg[256];

	conf_defaults(&cfg);
	CHECK_EQ(conf_parse_line(&cfg, "enable_pcp_pmp=yes", msg, sizeof(msg)), 0);
	CHECK(cfg.enable_natpmp);
	CHECK_EQ(conf_parse_line(&cfg, "port=1234", msg, sizeof(msg)), 0);
	CHECK_EQ(cfg.http_port, 1234);
	CHECK_EQ(conf_parse_line(&cfg, "http_port = 4321", msg, sizeof(msg)), 0);
	CHECK_EQ(cfg.http_port, 4321);
	CHECK_EQ(conf_parse_line(&cfg, "presentation_url=", msg, sizeof(msg)), 0);
	CHECK(cfg.has_presentation_url && cfg.presentation_url[0] == '\0');
	CHECK_EQ(conf_parse_line(&cfg, "ext_ip=", msg, sizeof(msg)), 0);
	CHECK(!cfg.has_ext_ip);
	CHECK_EQ(conf_parse_line(&cfg, "uuid=", msg, sizeof(msg)), 0);
	CHECK_STR(cfg.uuid, "");
	CHECK_EQ(conf_parse_line(&cfg, "friendly_name=Living room gateway #2", msg, sizeof(msg)), 0);
	CHECK_STR(cfg.friendly_name, "Living room gateway #2");
	CHECK_EQ(conf_parse_line(&cfg, "ext_ifname=", msg, sizeof(msg)), 0);
	CHECK_STR(cfg.ext_ifname, "");
	conf_free(&cfg);
}

TEST(conf_defaults_match_miniupnpd)
{
	struct config cfg;

	conf_defaults(&cfg);
	CHECK_EQ(cfg.notify_interval, 30);
	CHECK_EQ(cfg.min_lifetime, 120);
	CHECK_EQ(cfg.max_lifetime, 86400);
	CHECK_EQ(cfg.clean_ruleset_threshold, 20);
	CHECK_EQ(cfg.clean_ruleset_interval, 0);
	CHECK_EQ(cfg.http_port, 0);
	CHECK_EQ(cfg.ext_stun_port, 3478);
	CHECK(cfg.enable_upnp && !cfg.enable_natpmp && cfg.secure_mode);
	CHECK(!cfg.fw_integrate && cfg.upnp_table_name[0] == '\0');
	CHECK_EQ(cfg.max_mappings, 16384);
	CHECK_EQ(cfg.max_mappings_per_client, 256);
	CHECK_EQ(cfg.http_max_connections, 128);
	CHECK_STR(cfg.model_number, IGDD_VERSION);
	CHECK_STR(cfg.lease_file, "");
	CHECK_STR(cfg.user, "");
	CHECK_EQ(cfg.n_perms, 0);
}

TEST(conf_number_limits)
{
	static const struct { const char *line; int rc; uint32_t want; } cases[] = {
		{ "notify_interval=0", -1, 0 },
		{ "notify_interval=1", 0, 1 },
		{ "notify_interval=86400", 0, 86400 },
		{ "notify_interval=86401", -1, 0 },
		{ "notify_interval=-5", -1, 0 },
		{ "notify_interval=0x10", -1, 0 },
		{ "notify_interval=+5", -1, 0 },
		{ "notify_interval=5s", -1, 0 },
		{ "notify_interval=", -1, 0 },
		{ "notify_interval=99999999999999999999999", -1, 0 },
		{ "notify_interval =  45  ", 0, 45 },
	};
	struct config cfg;
	char msg[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		conf_defaults(&cfg);
		CHECK_EQ(conf_parse_line(&cfg, cases[i].line, msg, sizeof(msg)), cases[i].rc);
		if (cases[i].rc == 0)
			CHECK_EQ(cfg.notify_interval, cases[i].want);
		else
			CHECK(contains(msg, "is not a number in 1..86400"));
	}
	conf_defaults(&cfg);
	CHECK_EQ(conf_parse_line(&cfg, "http_port=65535", msg, sizeof(msg)), 0);
	CHECK_EQ(cfg.http_port, 65535);
	CHECK_EQ(conf_parse_line(&cfg, "http_port=65536", msg, sizeof(msg)), -1);
	CHECK_STR(msg, "http_port: '65536' is not a number in 0..65535");
	CHECK_EQ(cfg.http_port, 65535);
	CHECK_EQ(conf_parse_line(&cfg, "min_lifetime=0", msg, sizeof(msg)), -1);
	CHECK_EQ(conf_parse_line(&cfg, "ext_stun_port=65535", msg, sizeof(msg)), 0);
	CHECK_EQ(cfg.ext_stun_port, 65535);
}

TEST(conf_file_syntax)
{
	struct config cfg;
	char path[64], *errs;

	conf_defaults(&cfg);
	CHECK_EQ(parse_text(&cfg,
			    "# a comment\n"
			    "\n"
			    "   \t\n"
			    "  # indented comment\n"
			    "ext_ifname = eth0\r\n"
			    "\tnotify_interval\t=\t90\n"
			    "friendly_name=  spaced  name  \n"
			    "model_name=no newline at the end",
			    path, sizeof(path), &errs), 0);
	CHECK_STR(errs, "");
	free(errs);
	CHECK_STR(cfg.ext_ifname, "eth0");
	CHECK_EQ(cfg.notify_interval, 90);
	CHECK_STR(cfg.friendly_name, "spaced  name");
	CHECK_STR(cfg.model_name, "no newline at the end");
	conf_free(&cfg);
}

TEST(conf_file_errors_have_file_line)
{
	struct config cfg;
	char path[64], want[128], *errs;

	conf_defaults(&cfg);
	CHECK_EQ(parse_text(&cfg,
			    "ext_ifname=eth0\n"
			    "no_such_key=1\n"
			    "# fine\n"
			    "notify_interval=abc\n"
			    "just words\n"
			    "=value\n"
			    "allow 1024-65535 10.0.0.0/24\n"
			    "secure_mode=yes\n",
			    path, sizeof(path), &errs), -1);
	snprintf(want, sizeof(want), "%s:2: unknown key 'no_such_key'\n", path);
	CHECK(contains(errs, want));
	snprintf(want, sizeof(want), "%s:4: notify_interval: 'abc' is not a number in 1..86400\n",
		 path);
	CHECK(contains(errs, want));
	snprintf(want, sizeof(want), "%s:5: expected 'key=value'", path);
	CHECK(contains(errs, want));
	snprintf(want, sizeof(want), "%s:6: missing key", path);
	CHECK(contains(errs, want));
	snprintf(want, sizeof(want), "%s:7: permission rule: internal ports", path);
	CHECK(contains(errs, want));
	snprintf(want, sizeof(want), "%s:1:", path);
	CHECK(!contains(errs, want));
	snprintf(want, sizeof(want), "%s:8:", path);
	CHECK(!contains(errs, want));
	free(errs);
	/* Parsing went on after the errors. */
	CHECK_STR(cfg.ext_ifname, "eth0");
	conf_free(&cfg);

	conf_defaults(&cfg);
	CHECK_EQ(parse_text(&cfg, "notify_interval=abc\n", path, sizeof(path), &errs), -1);
	snprintf(want, sizeof(want), "%s:1: notify_interval: 'abc' is not a number in 1..86400\n",
		 path);
	CHECK_STR(errs, want);
	free(errs);
	conf_free(&cfg);
}

TEST(conf_file_missing_and_binary)
{
	struct config cfg;
	char path[64], *errs = NULL;
	size_t len = 0;
	FILE *err;

	conf_defaults(&cfg);
	err = open_memstream(&errs, &len);
	CHECK(err != NULL);
	if (err != NULL) {
		CHECK_EQ(conf_parse_file(&cfg, "/nonexistent/igdd.conf", err), -1);
		fclose(err);
		CHECK(contains(errs, "/nonexistent/igdd.conf: "));
		free(errs);
	}
	{
		static const char bin[] = "ext_ifname=eth0\nnotify\0_interval=5\n";
		int fd;

		snprintf(path, sizeof(path), "/tmp/igdd-test-conf-XXXXXX");
		fd = mkstemp(path);
		CHECK(fd >= 0);
		if (fd >= 0) {
			CHECK(write(fd, bin, sizeof(bin) - 1) == (ssize_t)sizeof(bin) - 1);
			close(fd);
			err = open_memstream(&errs, &len);
			CHECK_EQ(conf_parse_file(&cfg, path, err), -1);
			fclose(err);
			CHECK(contains(errs, ":2: NUL byte"));
			free(errs);
			unlink(path);
		}
	}
	conf_free(&cfg);
}

TEST(conf_other_firewall_keys_are_accepted)
{
	struct config cfg, def;
	char path[64], *errs;

	conf_defaults(&def);
	conf_defaults(&cfg);
	CHECK_EQ(parse_text(&cfg,
			    "packet_log=yes\n"
			    "anchor=miniupnpd\n"
			    "queue=q\n"
			    "tag=t\n"
			    "quickrules=no\n"
			    "minissdpdsocket=/var/run/minissdpd.sock\n"
			    "set_learn_dscp=\"Webex\" 1 2 3\n",
			    path, sizeof(path), &errs), 0);
	CHECK_STR(errs, "");
	free(errs);
	CHECK(config_equal(&cfg, &def));
	conf_free(&cfg);
}

TEST(conf_fw_integration_defaults)
{
	struct config cfg;
	char msg[256];

	conf_defaults(&cfg);
	CHECK_EQ(conf_parse_line(&cfg, "upnp_forward_chain=upnp_fwd", msg, sizeof(msg)), 0);
	CHECK(cfg.fw_integrate);
	CHECK_STR(cfg.upnp_forward_chain, "upnp_fwd");
	CHECK_STR(cfg.upnp_table_name, "filter");
	CHECK_STR(cfg.upnp_nat_table_name, "filter");
	CHECK_STR(cfg.upnp_nat_chain, "prerouting_miniupnpd");
	CHECK_STR(cfg.upnp_nat_postrouting_chain, "postrouting_miniupnpd");
	/* A later key still wins over the filled-in default. */
	CHECK_EQ(conf_parse_line(&cfg, "upnp_table_name=fw4", msg, sizeof(msg)), 0);
	CHECK_STR(cfg.upnp_table_name, "fw4");
	CHECK_STR(cfg.upnp_forward_chain, "upnp_fwd");

	conf_defaults(&cfg);
	CHECK_EQ(conf_parse_line(&cfg, "upnp_nftables_family_split=yes", msg, sizeof(msg)), 0);
	CHECK(!cfg.fw_integrate);
	CHECK_EQ(conf_parse_line(&cfg, "upnp_table_name=bad name", msg, sizeof(msg)), -1);
	CHECK(!cfg.fw_integrate);
}

TEST(conf_listening_ip_forms)
{
	struct config cfg;
	char msg[256];
	unsigned i;

	conf_defaults(&cfg);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=br-lan", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=192.168.1.1", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=192.168.2.1/24", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=192.168.3.1/255.255.254.0", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=br-lan", msg, sizeof(msg)), 0);	/* dup */
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=bridge0 em0 wlan0", msg, sizeof(msg)), 0);
	CHECK_EQ(cfg.n_listen, 7);
	CHECK(cfg.listen[0].by_name);
	CHECK_STR(cfg.listen[0].ifname, "br-lan");
	CHECK(!cfg.listen[1].by_name && cfg.listen[1].prefix == 0 &&
	      cfg.listen[1].addr.s_addr == htonl(0xc0a80101));
	CHECK_EQ(cfg.listen[2].prefix, 24);
	CHECK_EQ(cfg.listen[3].prefix, 23);
	CHECK_STR(cfg.listen[6].ifname, "wlan0");

	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=10.0.0.1/255.0.255.0", msg, sizeof(msg)), -1);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=10.0.0.1/0", msg, sizeof(msg)), -1);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=0.0.0.0", msg, sizeof(msg)), -1);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=224.0.0.1", msg, sizeof(msg)), -1);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=10.1", msg, sizeof(msg)), -1);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=192.168.0.1/24 88.22.44.13", msg, sizeof(msg)),
		 -1);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=", msg, sizeof(msg)), -1);
	CHECK_EQ(cfg.n_listen, 7);

	for (i = cfg.n_listen; i < CFG_MAX_LISTEN; i++) {
		char line[64];
		snprintf(line, sizeof(line), "listening_ip=lan%u", i);
		CHECK_EQ(conf_parse_line(&cfg, line, msg, sizeof(msg)), 0);
	}
	CHECK_EQ(cfg.n_listen, CFG_MAX_LISTEN);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=onemore", msg, sizeof(msg)), -1);
	CHECK(contains(msg, "too many"));
	CHECK_EQ(cfg.n_listen, CFG_MAX_LISTEN);
}

TEST(conf_perm_rule_syntax)
{
	struct perm_rule r;
	char msg[256];

	CHECK_EQ(perm_parse(&r, "allow 1024-65535 192.168.0.0/24 1024-65535", msg,
				 sizeof(msg)), 0);
	CHECK(r.allow && r.eport_min == 1024 && r.eport_max == 65535);
	CHECK(r.iport_min == 1024 && r.iport_max == 65535);
	CHECK(r.addr.s_addr == htonl(0xc0a80000) && r.mask.s_addr == htonl(0xffffff00));
	CHECK(!r.has_regex);

	/* single address = /32; single ports */
	CHECK_EQ(perm_parse(&r, "deny 22 192.168.7.113 54321", msg, sizeof(msg)), 0);
	CHECK(!r.allow && r.eport_min == 22 && r.eport_max == 22);
	CHECK(r.iport_min == 54321 && r.iport_max == 54321);
	CHECK(r.addr.s_addr == htonl(0xc0a80771) && r.mask.s_addr == 0xffffffffu);

	/* dotted netmask; host bits are dropped */
	CHECK_EQ(perm_parse(&r, "allow 0-65535 10.1.2.3/255.255.0.0 0-65535", msg,
				 sizeof(msg)), 0);
	CHECK(r.addr.s_addr == htonl(0x0a010000) && r.mask.s_addr == htonl(0xffff0000));
	CHECK_EQ(perm_parse(&r, "deny 0-65535 0.0.0.0/0 0-65535", msg, sizeof(msg)), 0);
	CHECK_EQ(r.mask.s_addr, 0);

	/* regex on the description */
	CHECK_EQ(perm_parse(&r, "deny 1024-65535 192.168.1.0/24 1024-65535 "
				 "\"My evil app ver [[:digit:]]*\"  ", msg, sizeof(msg)), 0);
	CHECK(r.has_regex);
	if (r.has_regex) {
		CHECK_EQ(regexec(&r.regex, "My evil app ver 2", 0, NULL, 0), 0);
		CHECK(regexec(&r.regex, "My good app", 0, NULL, 0) != 0);
		perm_rule_free(&r);
	}
	CHECK_EQ(perm_parse(&r, "allow 1 1.2.3.4 1 \"a b (c|d)+\"", msg, sizeof(msg)), 0);
	if (r.has_regex) {
		CHECK_EQ(regexec(&r.regex, "xa b cdc", 0, NULL, 0), 0);
		perm_rule_free(&r);
	}

	/* small repetitions, brackets with "]" first and classes, a stray ")" */
	static const char *const fine[] = {
		"allow 1 1.2.3.4 1 \"^(torrent|skype).*$\"",
		"allow 1 1.2.3.4 1 \"[]a]+x{2,5}[[:alpha:]]{1,20}\"",
		"allow 1 1.2.3.4 1 \"a)b\"",
		"allow 1 1.2.3.4 1 \"(a+)+b*c?\"",
	};
	for (size_t j = 0; j < ARRAY_SIZE(fine); j++) {
		CHECK_EQ(perm_parse(&r, fine[j], msg, sizeof(msg)), 0);
		perm_rule_free(&r);
	}

	/* bad ones */
	static const char *const bad[] = {
		"",
		"permit 1 1.2.3.4 1",
		"allowed 1 1.2.3.4 1",
		"allow",
		"allow 1",
		"allow 1 1.2.3.4",
		"allow 65536 1.2.3.4 1",
		"allow 10-5 1.2.3.4 1",
		"allow 1- 1.2.3.4 1",
		"allow -1 1.2.3.4 1",
		"allow a-b 1.2.3.4 1",
		"allow 1 1.2.3.4 1-70000",
		"allow 1 1.2.3.4/33 1",
		"allow 1 1.2.3.4/ 1",
		"allow 1 1.2.3 1",
		"allow 1 1.2.3.4/255.0.255.0 1",
		"allow 1 host.example 1",
		"allow 1 1.2.3.4 1 regex-without-quotes",
		"allow 1 1.2.3.4 1 \"unterminated",
		"allow 1 1.2.3.4 1 \"\"",
		"allow 1 1.2.3.4 1 \"a((\"",
		"allow 1 1.2.3.4 1 \"x\" trailing",
		/* regexes that would make glibc's regcomp expand without bound */
		"allow 1 1.2.3.4 1 \"v++++++++++++++++++++++++++++++++++++++++\"",
		"allow 1 1.2.3.4 1 \"((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+\"",
		"allow 1 1.2.3.4 1 \"(a{999}){999}\"",
		"allow 1 1.2.3.4 1 \"(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))\"",
		"allow 1 1.2.3.4 1 \"(a)\\1\"",
		"allow 1 1.2.3.4 1 \"[abc\"",
		/* stacked repetitions: undefined in POSIX, slow in glibc
		 * (fuzz_conf: 40 s of regcomp for this one) */
		"allow 1 1.2.3.4 1 \"My 2e4-+++*+++???????++++?????\xb3???;???????]*\"",
		"allow 1 1.2.3.4 1 \"a+*\"",
		"allow 1 1.2.3.4 1 \".*?\"",
		"allow 1 1.2.3.4 1 \"a{2}{3}\"",
		"allow 1 1.2.3.4 1 \"((((((((((((a?)?)?)?)?)?)?)?)?)?)?)?)\"",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		int rc = perm_parse(&r, bad[i], msg, sizeof(msg));
		if (rc != -1)
			printf("    accepted: %s\n", bad[i]);
		CHECK_EQ(rc, -1);
		CHECK(msg[0] != '\0');
		CHECK(!r.has_regex);
	}
}

TEST(conf_perm_lines_in_order)
{
	struct config cfg;
	char msg[256];

	conf_defaults(&cfg);
	CHECK_EQ(conf_parse_line(&cfg, "  allow 1024-65535 10.0.0.0/8 1024-65535 \"^game\"", msg,
				 sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "deny 0-65535 0.0.0.0/0 0-65535", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "deny 0-65535 0.0.0.0/0", msg, sizeof(msg)), -1);
	CHECK_EQ(cfg.n_perms, 2);
	CHECK(cfg.n_perms == 2 && cfg.perms[0].allow && cfg.perms[0].has_regex);
	CHECK(cfg.n_perms == 2 && !cfg.perms[1].allow && !cfg.perms[1].has_regex);
	conf_free(&cfg);
	CHECK_EQ(cfg.n_perms, 0);
}

/* Both passes as daemon_configure runs them. */
static enum cli_result
run_args(struct config *cfg, const char *file_text, int argc, char **argv, char **out_text)
{
	char path[64], *errs = NULL;
	size_t len = 0;
	enum cli_result r;
	FILE *out;

	*out_text = NULL;
	out = open_memstream(out_text, &len);
	if (out == NULL)
		return CLI_ERROR;
	r = conf_parse_args(cfg, argc, argv, false, out);
	if (r == CLI_OK && file_text != NULL) {
		if (parse_text(cfg, file_text, path, sizeof(path), &errs) != 0)
			r = CLI_ERROR;
		free(errs);
	}
	if (r == CLI_OK)
		r = conf_parse_args(cfg, argc, argv, true, out);
	fclose(out);
	return r;
}

TEST(conf_cli_overrides_file)
{
	char *argv[] = { "igdd", "-f", "/etc/igdd/igdd.conf", "-t", "30", "-i", "wan1",
			 "-a", "lan0", "-p", "5555", NULL };
	struct config cfg;
	char *out;

	conf_defaults(&cfg);
	/* Pass 1 only takes -f. */
	CHECK_EQ(conf_parse_args(&cfg, 11, argv, false, stdout), CLI_OK);
	CHECK_STR(cfg.config_file, "/etc/igdd/igdd.conf");
	CHECK_EQ(cfg.notify_interval, 30);	/* default, untouched */
	CHECK_STR(cfg.ext_ifname, "");
	conf_free(&cfg);

	conf_defaults(&cfg);
	CHECK_EQ(run_args(&cfg, "notify_interval=60\next_ifname=wan0\nlistening_ip=lan9\n"
			  "http_port=80\n", 11, argv, &out), CLI_OK);
	CHECK_EQ(cfg.notify_interval, 30);
	CHECK_STR(cfg.ext_ifname, "wan1");
	CHECK_EQ(cfg.http_port, 5555);
	CHECK_EQ(cfg.n_listen, 2);	/* -a adds to the file's */
	CHECK_STR(out, "");
	free(out);
	conf_free(&cfg);

	/* and the file value stays when the option is absent */
	{
		char *argv2[] = { "igdd", "-d", NULL };
		conf_defaults(&cfg);
		CHECK_EQ(run_args(&cfg, "notify_interval=60\n", 2, argv2, &out), CLI_OK);
		CHECK_EQ(cfg.notify_interval, 60);
		CHECK(cfg.foreground);
		CHECK_STR(cfg.pidfile, "");	/* no pid file in the foreground */
		free(out);
		conf_free(&cfg);
	}
}

TEST(conf_cli_permission_rules_appended)
{
	char *argv[] = { "igdd", "-A", "deny 0-65535 0.0.0.0/0 0-65535", "-A",
			 "allow 22 10.0.0.5 22 \"^ssh\"", NULL };
	char *bad[] = { "igdd", "-A", "allow 1 1.2.3.4", NULL };
	struct config cfg;
	char *out;

	conf_defaults(&cfg);
	CHECK_EQ(run_args(&cfg, "allow 1024-65535 10.0.0.0/24 1024-65535\n", 5, argv, &out), CLI_OK);
	free(out);
	CHECK_EQ(cfg.n_perms, 3);
	if (cfg.n_perms == 3) {
		CHECK(cfg.perms[0].allow && cfg.perms[0].eport_min == 1024);
		CHECK(!cfg.perms[1].allow && cfg.perms[1].mask.s_addr == 0);
		CHECK(cfg.perms[2].allow && cfg.perms[2].has_regex && cfg.perms[2].eport_min == 22);
	}
	conf_free(&cfg);

	conf_defaults(&cfg);
	CHECK_EQ(run_args(&cfg, NULL, 3, bad, &out), CLI_ERROR);
	free(out);
	CHECK_EQ(cfg.n_perms, 0);
	conf_free(&cfg);
}

TEST(conf_cli_flags_and_values)
{
	char *argv[] = { "igdd", "-vvv", "-v", "-N", "-U", "-S0", "-4", "-1", "-n",
			 "-u", "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b", "-s", "SER", "-m", "7",
			 "-z", "Gateway", "-B", "2000", "1000", "-w", "http://10.0.0.1/",
			 "-r", "600", "-P", "/tmp/igdd-test.pid", "-o", "203.0.113.9",
			 "-I", "wan6", "-H", "5443", "-b", "12", NULL };
	struct config cfg;
	char *out;

	conf_defaults(&cfg);
	CHECK_EQ(run_args(&cfg, NULL, (int)ARRAY_SIZE(argv) - 1, argv, &out), CLI_OK);
	free(out);
	CHECK_EQ(cfg.verbosity, 4);
	CHECK(cfg.enable_natpmp && cfg.system_uptime && !cfg.secure_mode);
	CHECK(cfg.ipv6_disable && cfg.force_igd_desc_v1 && cfg.check_only);
	CHECK_STR(cfg.uuid, "3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b");
	CHECK_STR(cfg.serial, "SER");
	CHECK_STR(cfg.model_number, "7");
	CHECK_STR(cfg.friendly_name, "Gateway");
	CHECK_EQ(cfg.bitrate_down, 2000);
	CHECK_EQ(cfg.bitrate_up, 1000);
	CHECK_STR(cfg.presentation_url, "http://10.0.0.1/");
	CHECK(cfg.has_presentation_url);
	CHECK_EQ(cfg.clean_ruleset_interval, 600);
	CHECK_STR(cfg.pidfile, "/tmp/igdd-test.pid");
	CHECK(cfg.has_ext_ip && cfg.ext_ip.s_addr == htonl(0xcb007109));
	CHECK_STR(cfg.ext_ifname6, "wan6");
	CHECK_EQ(cfg.https_port, 5443);
	conf_free(&cfg);

	{
		char *a2[] = { "igdd", "--check", "-S0", "-S", "-o", "STUN:stun.example.org:19302",
			       NULL };
		conf_defaults(&cfg);
		CHECK_EQ(run_args(&cfg, "secure_mode=no\n", 6, a2, &out), CLI_OK);
		free(out);
		CHECK(cfg.check_only && cfg.secure_mode);
		CHECK(cfg.ext_perform_stun);
		CHECK_STR(cfg.ext_stun_host, "stun.example.org");
		CHECK_EQ(cfg.ext_stun_port, 19302);
		CHECK_STR(cfg.pidfile, IGDD_DEFAULT_PIDFILE);	/* daemon default */
		CHECK(!cfg.log_syslog);
		conf_free(&cfg);
	}
	{
		/* in the foreground under procd: syslog, and no pid file */
		char *a3[] = { "igdd", "-d", "--syslog", NULL };
		conf_defaults(&cfg);
		CHECK_EQ(run_args(&cfg, "", 3, a3, &out), CLI_OK);
		free(out);
		CHECK(cfg.foreground && cfg.log_syslog);
		CHECK_STR(cfg.pidfile, "");
		conf_free(&cfg);
	}
}

TEST(conf_cli_errors)
{
	static const struct { int argc; char *argv[5]; } bad[] = {
		{ 2, { "igdd", "-x" } },
		{ 2, { "igdd", "--nope" } },
		{ 2, { "igdd", "stray" } },
		{ 2, { "igdd", "-t" } },		/* missing argument */
		{ 3, { "igdd", "-B", "1" } },		/* needs two */
		{ 2, { "igdd", "-S1" } },
		{ 2, { "igdd", "-vx" } },
		{ 2, { "igdd", "-" } },
	};
	static const struct { int argc; char *argv[5]; } bad_values[] = {
		{ 3, { "igdd", "-t", "abc" } },
		{ 3, { "igdd", "-t", "0" } },
		{ 3, { "igdd", "-p", "65536" } },
		{ 3, { "igdd", "-u", "not-a-uuid" } },
		{ 3, { "igdd", "-o", "1.2.3" } },
		{ 3, { "igdd", "-o", "STUN:" } },
		{ 3, { "igdd", "-a", "10.0.0.1/40" } },
		{ 4, { "igdd", "-B", "1", "x" } },
		{ 3, { "igdd", "-i", "a/b" } },
	};
	struct config cfg;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		conf_defaults(&cfg);
		CHECK_EQ(conf_parse_args(&cfg, bad[i].argc, (char **)bad[i].argv, false, stdout),
			 CLI_ERROR);
	}
	for (i = 0; i < ARRAY_SIZE(bad_values); i++) {
		conf_defaults(&cfg);
		/* Values are checked when applied, after the file. */
		CHECK_EQ(conf_parse_args(&cfg, bad_values[i].argc, (char **)bad_values[i].argv,
					 false, stdout), CLI_OK);
		CHECK_EQ(conf_parse_args(&cfg, bad_values[i].argc, (char **)bad_values[i].argv,
					 true, stdout), CLI_ERROR);
		conf_free(&cfg);
	}
}

TEST(conf_cli_help_and_version)
{
	char *v[] = { "igdd", "--version", NULL };
	char *h[] = { "igdd", "-h", NULL };
	char *hh[] = { "igdd", "-t", "30", "--help", NULL };
	struct config cfg;
	char *out;

	conf_defaults(&cfg);
	CHECK_EQ(run_args(&cfg, NULL, 2, v, &out), CLI_EXIT_OK);
	CHECK_STR(out, "igdd " IGDD_VERSION "\n");
	free(out);
	CHECK_EQ(run_args(&cfg, NULL, 2, h, &out), CLI_EXIT_OK);
	CHECK(contains(out, "usage: igdd"));
	free(out);
	CHECK_EQ(run_args(&cfg, NULL, 4, hh, &out), CLI_EXIT_OK);
	CHECK(contains(out, "usage: igdd"));
	CHECK(contains(out, "--check"));
	free(out);
}

static int
validate_text(const struct config *cfg, char **errs)
{
	size_t len = 0;
	FILE *err = open_memstream(errs, &len);
	int rc;

	if (err == NULL)
		return -2;
	rc = conf_validate(cfg, err);
	fclose(err);
	return rc;
}

static void
minimal(struct config *cfg)
{
	char msg[256];

	conf_defaults(cfg);
	conf_parse_line(cfg, "ext_ifname=wan0", msg, sizeof(msg));
	conf_parse_line(cfg, "listening_ip=lan0", msg, sizeof(msg));
}

TEST(conf_validate_cross_checks)
{
	struct config cfg;
	char msg[256], *errs;

	minimal(&cfg);
	CHECK_EQ(validate_text(&cfg, &errs), 0);
	CHECK_STR(errs, "");
	free(errs);

	conf_defaults(&cfg);
	CHECK_EQ(validate_text(&cfg, &errs), -1);
	CHECK(contains(errs, "ext_ifname is not set"));
	CHECK(contains(errs, "listening_ip is not set"));
	free(errs);

	minimal(&cfg);
	conf_parse_line(&cfg, "min_lifetime=7200", msg, sizeof(msg));
	conf_parse_line(&cfg, "max_lifetime=3600", msg, sizeof(msg));
	CHECK_EQ(validate_text(&cfg, &errs), -1);
	CHECK(contains(errs, "min_lifetime (7200) is greater than max_lifetime (3600)"));
	free(errs);

	minimal(&cfg);
	conf_parse_line(&cfg, "min_lifetime=3600", msg, sizeof(msg));
	conf_parse_line(&cfg, "max_lifetime=3600", msg, sizeof(msg));
	CHECK_EQ(validate_text(&cfg, &errs), 0);
	free(errs);

	minimal(&cfg);
	conf_parse_line(&cfg, "ext_perform_stun=yes", msg, sizeof(msg));
	CHECK_EQ(validate_text(&cfg, &errs), -1);
	CHECK(contains(errs, "ext_stun_host"));
	free(errs);
	conf_parse_line(&cfg, "ext_stun_host=stun.example.org", msg, sizeof(msg));
	CHECK_EQ(validate_text(&cfg, &errs), 0);
	free(errs);
	conf_parse_line(&cfg, "ext_ip=203.0.113.1", msg, sizeof(msg));
	CHECK_EQ(validate_text(&cfg, &errs), -1);
	CHECK(contains(errs, "cannot be used together"));
	free(errs);

	static const char *const bad_ext[] = { "0.0.0.0", "255.255.255.255", "224.0.0.1",
					       "127.0.0.1" };
	size_t i;
	for (i = 0; i < ARRAY_SIZE(bad_ext); i++) {
		char line[64];
		minimal(&cfg);
		snprintf(line, sizeof(line), "ext_ip=%s", bad_ext[i]);
		CHECK_EQ(conf_parse_line(&cfg, line, msg, sizeof(msg)), 0);
		CHECK_EQ(validate_text(&cfg, &errs), -1);
		CHECK(contains(errs, "cannot be an external address"));
		free(errs);
	}
	/* A private external address is a warning (CGN test hosts), not an error. */
	minimal(&cfg);
	conf_parse_line(&cfg, "ext_ip=100.64.1.1", msg, sizeof(msg));
	CHECK_EQ(validate_text(&cfg, &errs), 0);
	free(errs);

	minimal(&cfg);
	conf_parse_line(&cfg, "enable_upnp=no", msg, sizeof(msg));
	CHECK_EQ(validate_text(&cfg, &errs), -1);
	CHECK(contains(errs, "nothing to serve"));
	free(errs);

	minimal(&cfg);
	conf_parse_line(&cfg, "listening_ip=wan0", msg, sizeof(msg));
	CHECK_EQ(validate_text(&cfg, &errs), -1);
	CHECK(contains(errs, "is the external interface"));
	free(errs);

	minimal(&cfg);
	conf_parse_line(&cfg, "max_mappings=10", msg, sizeof(msg));
	CHECK_EQ(validate_text(&cfg, &errs), -1);
	CHECK(contains(errs, "max_mappings_per_client (256) is greater than max_mappings (10)"));
	free(errs);
}

TEST(conf_sample_file_is_valid)
{
	struct config cfg;
	char *errs = NULL;
	size_t len = 0;
	FILE *err;

	/* Run from the source tree (make unit; ./build/unit). */
	if (access("conf/igdd.conf", R_OK) != 0) {
		printf("    skipped: conf/igdd.conf not found from %s\n", "the current directory");
		return;
	}
	conf_defaults(&cfg);
	err = open_memstream(&errs, &len);
	CHECK(err != NULL);
	if (err == NULL)
		return;
	CHECK_EQ(conf_parse_file(&cfg, "conf/igdd.conf", err), 0);
	CHECK_EQ(conf_validate(&cfg, err), 0);
	fclose(err);
	CHECK_STR(errs, "");
	free(errs);
	conf_free(&cfg);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The sample and the manual document every key the parser knows. */
TEST(conf_every_key_documented)
{
	char *sample = slurp("conf/igdd.conf"), *man = slurp("man/igdd.conf.5");
	char want[128];
	size_t i;

	if (sample == NULL || man == NULL) {
		printf("    skipped: run from the source tree (conf/igdd.conf, man/igdd.conf.5)\n");
		free(sample);
		free(man);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(key_cases); i++) {
		const char *k = key_cases[i].key;
		char b[80], br[80], bi[80];

		if (!key_cases[i].ignored) {
			snprintf(want, sizeof(want), "\n#%s=", k);
			snprintf(b, sizeof(b), "\n%s=", k);
			if (!contains(sample, want) && !contains(sample, b)) {
				printf("    sample lacks %s=\n", k);
				CHECK(!"sample documents the key");
			}
		} else {
			CHECK(contains(sample, k));
		}
		snprintf(b, sizeof(b), "\n.B %s\n", k);
		snprintf(br, sizeof(br), "\n.BR %s ", k);
		snprintf(bi, sizeof(bi), "\n.BI %s= ", k);
		snprintf(want, sizeof(want), "\n.BR %s= ", k);
		if (!contains(man, b) && !contains(man, br) && !contains(man, bi) &&
		    !contains(man, want)) {
			printf("    man page lacks %s\n", k);
			CHECK(!"man page documents the key");
		}
	}
	free(sample);
	free(man);
}

static size_t
diff_of(const char *const *a, const char *const *b, struct conf_change *out, size_t max)
{
	struct config ca, cb;
	char msg[256];
	size_t n;

	conf_defaults(&ca);
	conf_defaults(&cb);
	for (; *a != NULL; a++)
		CHECK_EQ(conf_parse_line(&ca, *a, msg, sizeof(msg)), 0);
	for (; *b != NULL; b++)
		CHECK_EQ(conf_parse_line(&cb, *b, msg, sizeof(msg)), 0);
	n = conf_diff(&ca, &cb, out, max);
	conf_free(&ca);
	conf_free(&cb);
	return n;
}

/* Reload: what changed, and whether it needs a restart. */
TEST(conf_diff_live_and_restart)
{
	static const char *const same_a[] = { "friendly_name=a long name first", "friendly_name=x",
					      "allow 1024-65535 192.168.1.0/24 1024-65535 \"^x\"", NULL };
	static const char *const same_b[] = { "friendly_name=x",
					      "allow 1024-65535 192.168.1.0/24 1024-65535 \"^x\"", NULL };
	static const char *const a[] = { "notify_interval=30", "upnp_table_name=t1", "port=5000",
					 "allow 1024-65535 192.168.1.0/24 1024-65535 \"^x\"", NULL };
	static const char *const b[] = { "notify_interval=60", "upnp_table_name=t2", "http_port=5001",
					 "allow 1024-65535 192.168.1.0/24 1024-65535 \"^y\"", NULL };
	struct conf_change ch[8];
	size_t n, i;
	bool saw_notify = false, saw_table = false, saw_port = false, saw_rules = false;

	/* same values: nothing, even when a string was longer before */
	CHECK_EQ(diff_of(same_a, same_b, ch, 8), 0);
	n = diff_of(a, b, ch, 8);
	CHECK_EQ(n, 4);
	for (i = 0; i < n && i < 8; i++) {
		if (strcmp(ch[i].key, "notify_interval") == 0)
			saw_notify = !ch[i].restart;
		else if (strcmp(ch[i].key, "upnp_table_name") == 0)
			saw_table = ch[i].restart;
		else if (strcmp(ch[i].key, "http_port") == 0)	/* the alias "port" once */
			saw_port = ch[i].restart;
		else if (strcmp(ch[i].key, "allow/deny") == 0)
			saw_rules = !ch[i].restart;
	}
	CHECK(saw_notify);
	CHECK(saw_table);
	CHECK(saw_port);
	CHECK(saw_rules);
	CHECK_EQ(diff_of(a, b, ch, 1), 4);	/* the count, past max */
}

/* Reload keeps a key that needs a restart at its old value, with what
 * goes with it. */
TEST(conf_keep_restores_key_and_companions)
{
	static const char *const a[] = { "listening_ip=lan0", "ext_ip=198.51.100.7", "port=5000",
					  "upnp_table_name=fw4", NULL };
	static const char *const b[] = { "listening_ip=lan0 lan1", "http_port=5001",
					  "notify_interval=60", NULL };
	struct config ca, cb;
	char msg[256];
	size_t i;

	conf_defaults(&ca);
	conf_defaults(&cb);
	for (i = 0; a[i] != NULL; i++)
		CHECK_EQ(conf_parse_line(&ca, a[i], msg, sizeof(msg)), 0);
	for (i = 0; b[i] != NULL; i++)
		CHECK_EQ(conf_parse_line(&cb, b[i], msg, sizeof(msg)), 0);
	CHECK_EQ(conf_keep(&cb, &ca, "listening_ip"), 0);
	CHECK_EQ(cb.n_listen, 1);
	CHECK_STR(cb.listen[0].ifname, "lan0");
	CHECK_EQ(conf_keep(&cb, &ca, "ext_ip"), 0);
	CHECK(cb.has_ext_ip);
	CHECK_EQ(conf_keep(&cb, &ca, "http_port"), 0);
	CHECK_EQ(cb.http_port, 5000);
	CHECK(!cb.fw_integrate);
	CHECK_EQ(conf_keep(&cb, &ca, "upnp_table_name"), 0);
	CHECK(cb.fw_integrate);
	CHECK_STR(cb.upnp_table_name, "fw4");
	CHECK_EQ(cb.notify_interval, 60);	/* untouched */
	CHECK_EQ(conf_keep(&cb, &ca, "no_such_key"), -1);
	CHECK_EQ(conf_keep(&cb, &ca, "allow/deny"), -1);
	conf_free(&ca);
	conf_free(&cb);
}

/* What OpenWrt's miniupnpd.init writes: rules ending with "# comment"
 * (a regex before it may hold '#' and '"'), ext_perform_stun=allow-filtered,
 * empty model_number= and serial=. */
TEST(conf_openwrt_lines)
{
	struct config cfg;
	struct perm_rule r;
	char msg[256];

	CHECK_EQ(perm_parse(&r, "allow 1024-65535 192.168.1.0/24 1024-65535 # Accept port "
			    "1024-65535 on lan", msg, sizeof(msg)), 0);
	CHECK(r.allow && r.eport_min == 1024 && !r.has_regex);
	CHECK_EQ(perm_parse(&r, "deny 21 192.168.1.0/24 21 #Reject port 21", msg, sizeof(msg)), 0);
	CHECK(!r.allow && r.iport_max == 21 && !r.has_regex);
	CHECK_EQ(perm_parse(&r, "allow 1 1.2.3.4 1 # \"not a regex\"", msg, sizeof(msg)), 0);
	CHECK(!r.has_regex);
	CHECK_EQ(perm_parse(&r, "allow 1-65535 0.0.0.0/0 1-65535 \"^(game|voip)\" # Games",
			    msg, sizeof(msg)), 0);
	CHECK(r.has_regex && strcmp(r.regex_text, "^(game|voip)") == 0);
	perm_rule_free(&r);
	CHECK_EQ(perm_parse(&r, "allow 1 1.2.3.4 1 \"a#b\"c\"# say \"hi\"", msg, sizeof(msg)), 0);
	CHECK(r.has_regex && strcmp(r.regex_text, "a#b\"c") == 0);
	perm_rule_free(&r);
	CHECK_EQ(perm_parse(&r, "allow 1 1.2.3.4 1 \"x\" trailing # c", msg, sizeof(msg)), -1);
	CHECK(!r.has_regex);
	CHECK_EQ(perm_parse(&r, "allow 1 1.2.3.4 1 \"# only\" x", msg, sizeof(msg)), -1);

	conf_defaults(&cfg);
	CHECK_EQ(conf_parse_line(&cfg, "deny 1-65535 0.0.0.0/0 1-65535 # Reject ACL by default",
				 msg, sizeof(msg)), 0);
	CHECK_EQ(cfg.n_perms, 1);
	CHECK_EQ(conf_parse_line(&cfg, "ext_perform_stun=allow-filtered", msg, sizeof(msg)), 0);
	CHECK_EQ(cfg.ext_perform_stun, CFG_STUN_ALLOW_FILTERED);
	CHECK_EQ(conf_parse_line(&cfg, "ext_perform_stun=no", msg, sizeof(msg)), 0);
	CHECK_EQ(cfg.ext_perform_stun, CFG_STUN_NO);
	CHECK_EQ(conf_parse_line(&cfg, "ext_perform_stun=filtered", msg, sizeof(msg)), -1);
	CHECK(contains(msg, "yes, no or allow-filtered"));
	CHECK_EQ(conf_parse_line(&cfg, "model_number=", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "serial=", msg, sizeof(msg)), 0);
	conf_free(&cfg);
}

/* admin_listen: PORT, ADDR:PORT, 0.0.0.0:PORT, or off; the page needs a
 * password file and sessions whose idle timeout fits the absolute one. */
TEST(conf_admin_listen)
{
	static const struct { const char *v; int rc; const char *addr; unsigned port; } cases[] = {
		{ "192.168.1.1:8080", 0, "192.168.1.1", 8080 },
		{ "8080", 0, "0.0.0.0", 8080 },
		{ "0.0.0.0:80", 0, "0.0.0.0", 80 },
		{ "no", 0, "0.0.0.0", 0 },
		{ "", 0, "0.0.0.0", 0 },
		{ "192.168.1.1:0", -1, NULL, 0 },
		{ "192.168.1.1:65536", -1, NULL, 0 },
		{ "192.168.1.1", -1, NULL, 0 },
		{ "router.lan:8080", -1, NULL, 0 },
		{ "224.0.0.1:8080", -1, NULL, 0 },
		{ "255.255.255.255:8080", -1, NULL, 0 },
		{ ":8080", -1, NULL, 0 },
		{ "192.168.1.1:8080x", -1, NULL, 0 },
	};
	struct config cfg;
	char line[128], msg[256], a[INET_ADDRSTRLEN];
	FILE *err = fopen("/dev/null", "w");
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		conf_defaults(&cfg);
		(void)conf_parse_line(&cfg, "admin_listen=10.0.0.1:1", msg, sizeof(msg));
		snprintf(line, sizeof(line), "admin_listen=%s", cases[i].v);
		CHECK_EQ(conf_parse_line(&cfg, line, msg, sizeof(msg)), cases[i].rc);
		if (cases[i].rc == 0) {
			CHECK_STR(inet_ntop(AF_INET, &cfg.admin_listen.addr, a, sizeof(a)), cases[i].addr);
			CHECK_EQ(cfg.admin_listen.port, cases[i].port);
		} else {
			CHECK(contains(msg, "admin_listen"));
		}
		conf_free(&cfg);
	}
	conf_defaults(&cfg);
	CHECK_EQ(conf_parse_line(&cfg, "ext_ifname=eth0", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "listening_ip=br0", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_validate(&cfg, err), 0);
	CHECK_EQ(conf_parse_line(&cfg, "admin_listen=8080", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_validate(&cfg, err), -1);	/* no password file */
	CHECK_EQ(conf_parse_line(&cfg, "admin_password_file=/etc/igdd/admin.passwd", msg,
				 sizeof(msg)), 0);
	CHECK_EQ(conf_validate(&cfg, err), 0);
	CHECK_EQ(conf_parse_line(&cfg, "admin_session_idle=7200", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "admin_session_max=3600", msg, sizeof(msg)), 0);
	CHECK_EQ(conf_validate(&cfg, err), -1);	/* idle longer than the whole */
	conf_free(&cfg);
	if (err != NULL)
		fclose(err);
}
