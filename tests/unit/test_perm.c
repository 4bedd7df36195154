/* test_perm.c - permission rules, miniupnpd semantics. */
#include <arpa/inet.h>
#include <regex.h>
#include <stdlib.h>

#include "conf.h"
#include "perm.h"
#include "fake_fw.h"
#include "unit.h"
#include "util.h"

/* Build "allow|deny emin-emax addr/bits imin-imax [regex]" by hand, the
 * way conf.c will (regex compiled as miniupnpd does). */
static void
rule(struct perm_rule *r, bool allow, uint16_t emin, uint16_t emax, const char *addr,
     unsigned bits, uint16_t imin, uint16_t imax, const char *re)
{
	memset(r, 0, sizeof(*r));
	r->allow = allow;
	r->eport_min = emin;
	r->eport_max = emax;
	inet_pton(AF_INET, addr, &r->addr);
	r->mask.s_addr = htonl(bits ? 0xffffffffu << (32 - bits) : 0);
	r->iport_min = imin;
	r->iport_max = imax;
	if (re != NULL) {
		r->has_regex = true;
		if (regcomp(&r->regex, re, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0)
			abort();
	}
}

static void
free_rules(struct perm_rule *r, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		perm_rule_free(&r[i]);
}

TEST(perm_no_rules_allow)
{
	struct in6_addr a = fake_addr("192.168.1.10");

	CHECK(perm_allowed(NULL, 0, 80, &a, 80, "x"));
	CHECK_EQ(perm_match(NULL, 0, 80, &a, 80, "x"), -1);
}

TEST(perm_first_match_wins)
{
	struct perm_rule r[3];
	struct in6_addr a = fake_addr("192.168.1.10"), b = fake_addr("192.168.2.10");

	rule(&r[0], false, 22, 22, "0.0.0.0", 0, 0, 65535, NULL);
	rule(&r[1], true, 1024, 65535, "192.168.1.0", 24, 1024, 65535, NULL);
	rule(&r[2], true, 0, 65535, "0.0.0.0", 0, 0, 65535, NULL);
	/* deny 22 comes first, even though rule 2 would allow it */
	CHECK(!perm_allowed(r, 3, 22, &a, 2222, "ssh"));
	CHECK_EQ(perm_match(r, 3, 22, &a, 2222, "ssh"), 0);
	CHECK(perm_allowed(r, 3, 8080, &a, 8080, "web"));
	CHECK_EQ(perm_match(r, 3, 8080, &a, 8080, "web"), 1);
	CHECK_EQ(perm_match(r, 3, 8080, &b, 8080, "web"), 2);
	/* reversed: the allow-all shadows the deny */
	{
		struct perm_rule rr[2] = { r[2], r[0] };
		CHECK(perm_allowed(rr, 2, 22, &a, 22, "ssh"));
	}
	free_rules(r, 3);
}

/* miniupnpd's semantics (check_upnp_rule_against_permissions()): a
 * request that no rule matches is allowed; a final catch-all deny is
 * what refuses the rest. */
TEST(perm_no_match_allows_final_deny_refuses)
{
	struct perm_rule r[2];
	struct in6_addr a = fake_addr("192.168.1.10"), b = fake_addr("10.0.0.5");

	rule(&r[0], true, 1024, 65535, "192.168.1.0", 24, 1024, 65535, NULL);
	CHECK(perm_allowed(r, 1, 1024, &a, 1024, ""));
	CHECK_EQ(perm_match(r, 1, 1023, &a, 1024, ""), -1);	/* eport below */
	CHECK(perm_allowed(r, 1, 1023, &a, 1024, ""));
	CHECK_EQ(perm_match(r, 1, 2000, &a, 80, ""), -1);	/* iport below */
	CHECK(perm_allowed(r, 1, 2000, &a, 80, ""));
	CHECK_EQ(perm_match(r, 1, 2000, &b, 2000, ""), -1);	/* other network */
	CHECK(perm_allowed(r, 1, 2000, &b, 2000, ""));
	/* with "deny 0-65535 0.0.0.0/0 0-65535" last, the rest is denied */
	rule(&r[1], false, 0, 65535, "0.0.0.0", 0, 0, 65535, NULL);
	CHECK(perm_allowed(r, 2, 1024, &a, 1024, ""));
	CHECK(!perm_allowed(r, 2, 1023, &a, 1024, ""));
	CHECK(!perm_allowed(r, 2, 2000, &a, 80, ""));
	CHECK(!perm_allowed(r, 2, 2000, &b, 2000, ""));
	CHECK_EQ(perm_match(r, 2, 2000, &b, 2000, ""), 1);
	free_rules(r, 2);
}

TEST(perm_masks_and_single_hosts)
{
	struct perm_rule r[3];
	struct in6_addr h = fake_addr("192.168.1.77"), n = fake_addr("192.168.1.78"), w = fake_addr("172.16.9.1");

	rule(&r[0], true, 5000, 5000, "192.168.1.77", 32, 5000, 5000, NULL);
	rule(&r[1], true, 6000, 6999, "172.16.0.0", 12, 0, 65535, NULL);
	rule(&r[2], false, 0, 65535, "0.0.0.0", 0, 0, 65535, NULL);
	CHECK(perm_allowed(r, 3, 5000, &h, 5000, ""));
	CHECK(!perm_allowed(r, 3, 5000, &n, 5000, ""));
	CHECK(!perm_allowed(r, 3, 5001, &h, 5000, ""));
	CHECK(perm_allowed(r, 3, 6999, &w, 1, ""));
	CHECK(!perm_allowed(r, 3, 7000, &w, 1, ""));
	/* The mask applies to both sides: 192.168.1.77/24 covers the /24. */
	rule(&r[0], true, 5000, 5000, "192.168.1.77", 24, 5000, 5000, NULL);
	CHECK(perm_allowed(r, 3, 5000, &n, 5000, ""));
	free_rules(r, 3);
}

TEST(perm_regex_on_description)
{
	struct perm_rule r[2];
	struct in6_addr a = fake_addr("192.168.1.10");

	rule(&r[0], true, 0, 65535, "0.0.0.0", 0, 0, 65535, "^(Skype|BitTorrent)");
	rule(&r[1], false, 0, 65535, "0.0.0.0", 0, 0, 65535, NULL);
	CHECK(perm_allowed(r, 2, 4000, &a, 4000, "Skype call"));
	CHECK(perm_allowed(r, 2, 4000, &a, 4000, "bittorrent dht"));	/* REG_ICASE */
	CHECK(!perm_allowed(r, 2, 4000, &a, 4000, "my Skype"));	/* anchored by the regex */
	CHECK(!perm_allowed(r, 2, 4000, &a, 4000, ""));
	/* unanchored regexes search anywhere */
	free_rules(r, 1);
	rule(&r[0], false, 0, 65535, "0.0.0.0", 0, 0, 65535, "evil");
	r[1].allow = true;
	CHECK(!perm_allowed(r, 2, 4000, &a, 4000, "not so EVIL app"));
	CHECK(perm_allowed(r, 2, 4000, &a, 4000, "good app"));
	/* desc NULL skips the regex (miniupnpd) */
	CHECK(!perm_allowed(r, 2, 4000, &a, 4000, NULL));
	free_rules(r, 2);
}

TEST(perm_ipv6_clients)
{
	struct perm_rule r[3];
	struct in6_addr v6 = fake_addr("2001:db8::5");

	/* IPv4 rules, even /0, do not cover IPv6 clients (a pinhole): no
	 * rule matches and the request is allowed, as by miniupnpd, which
	 * checks no rules for IPv6; an IPv6 rule does cover it */
	rule(&r[0], true, 0, 65535, "192.168.0.0", 16, 0, 65535, NULL);
	rule(&r[1], true, 80, 80, "0.0.0.0", 0, 0, 65535, NULL);
	rule(&r[2], false, 0, 65535, "0.0.0.0", 0, 0, 65535, NULL);
	CHECK(perm_allowed(r, 3, 1000, &v6, 1000, ""));
	CHECK_EQ(perm_match(r, 3, 1000, &v6, 1000, ""), -1);
	CHECK_EQ(perm_match(r, 3, 80, &v6, 1000, ""), -1);
	free_rules(r, 3);
}

TEST(perm_next_boundary)
{
	struct perm_rule r[2];

	rule(&r[0], false, 1000, 1999, "0.0.0.0", 0, 0, 65535, NULL);
	rule(&r[1], true, 1500, 65535, "0.0.0.0", 0, 0, 65535, NULL);
	CHECK_EQ(perm_next_boundary(r, 2, 10), 1000);
	CHECK_EQ(perm_next_boundary(r, 2, 1000), 1500);
	CHECK_EQ(perm_next_boundary(r, 2, 1500), 2000);
	CHECK_EQ(perm_next_boundary(r, 2, 2000), 65536);
	CHECK_EQ(perm_next_boundary(NULL, 0, 5), 65536);
}

/* Rules built by the real parser, as the daemon builds them: the regex is
 * case-insensitive (miniupnpd compiles REG_EXTENDED|REG_ICASE) and not
 * anchored. */
TEST(perm_regex_from_parser_ignores_case)
{
	struct perm_rule r[2];
	struct in6_addr a = fake_addr("192.168.1.10");
	char msg[256];

	memset(r, 0, sizeof(r));
	CHECK_EQ(perm_parse(&r[0], "allow 1024-65535 192.168.1.0/24 1024-65535 \"^game\"",
				 msg, sizeof(msg)), 0);
	CHECK_EQ(perm_parse(&r[1], "deny 0-65535 0.0.0.0/0 0-65535", msg, sizeof(msg)), 0);
	CHECK(r[0].has_regex);
	CHECK(perm_allowed(r, 2, 4000, &a, 4000, "game server"));
	CHECK(perm_allowed(r, 2, 4000, &a, 4000, "GAME server"));
	CHECK(perm_allowed(r, 2, 4000, &a, 4000, "Game"));
	CHECK(!perm_allowed(r, 2, 4000, &a, 4000, "my game"));	/* anchored by ^ */
	free_rules(r, 2);
}

/* The same through a whole configuration line, the way igdd.conf is read. */
TEST(perm_regex_from_config_line_ignores_case)
{
	struct config cfg;
	struct in6_addr a = fake_addr("192.168.1.10");
	char msg[256];

	conf_defaults(&cfg);
	CHECK_EQ(conf_parse_line(&cfg, "allow 1024-65535 192.168.1.0/24 1024-65535 \"torrent\"",
				 msg, sizeof(msg)), 0);
	CHECK_EQ(conf_parse_line(&cfg, "deny 0-65535 0.0.0.0/0 0-65535", msg, sizeof(msg)), 0);
	CHECK_EQ(cfg.n_perms, 2);
	CHECK(perm_allowed(cfg.perms, cfg.n_perms, 6881, &a, 6881, "BitTorrent DHT"));
	CHECK(perm_allowed(cfg.perms, cfg.n_perms, 6881, &a, 6881, "qTORRENT"));
	CHECK(!perm_allowed(cfg.perms, cfg.n_perms, 6881, &a, 6881, "bit-t0rrent"));
	conf_free(&cfg);
}

/* Rules parsed from text, for the policy of a whole set. */
static unsigned
parse_rules(struct perm_rule *r, const char *const *text)
{
	char msg[256];
	unsigned n;

	for (n = 0; text[n] != NULL; n++)
		if (perm_parse(&r[n], text[n], msg, sizeof(msg)) < 0)
			abort();
	return n;
}

TEST(perm_policy_of_a_rule_set)
{
	static const char *const open_end[] = { "allow 1024-65535 192.168.1.0/24 1024-65535",
						"deny 0-1023 0.0.0.0/0 0-65535", NULL };
	static const char *const closed[] = { "allow 1024-65535 192.168.1.0/24 1024-65535",
					      "deny 0-65535 0.0.0.0/0 0-65535", NULL };
	static const char *const openwrt[] = { "deny 21 192.168.1.0/24 21",
					       "allow 1024-65535 192.168.1.0/24 1024-65535",
					       "deny 1-65535 0.0.0.0/0 1-65535", NULL };
	static const char *const deny_all[] = { "deny 22 0.0.0.0/0 0-65535",
						"deny 0-65535 0.0.0.0/0 0-65535",
						"allow 1024-65535 0.0.0.0/0 1024-65535", NULL };
	static const char *const not_catchall[] = { "deny 0-65535 0.0.0.0/0 0-65535 \"x\"",
						    "deny 0-65535 10.0.0.0/8 0-65535",
						    "deny 2-65535 0.0.0.0/0 0-65535", NULL };
	struct perm_rule r[4];
	unsigned n, k = 99;

	CHECK_EQ(perm_policy(NULL, 0, &k), PERM_POLICY_NONE);
	n = parse_rules(r, open_end);
	CHECK_EQ(perm_policy(r, n, &k), PERM_POLICY_OPEN_END);
	free_rules(r, n);
	n = parse_rules(r, closed);
	CHECK_EQ(perm_policy(r, n, &k), PERM_POLICY_CLOSED);
	CHECK_EQ(k, 1);
	free_rules(r, n);
	n = parse_rules(r, openwrt);
	CHECK_EQ(perm_policy(r, n, &k), PERM_POLICY_CLOSED);
	CHECK_EQ(k, 2);
	free_rules(r, n);
	n = parse_rules(r, deny_all);
	CHECK_EQ(perm_policy(r, n, &k), PERM_POLICY_DENY_ALL);
	CHECK_EQ(k, 1);
	free_rules(r, n);
	n = parse_rules(r, not_catchall);	/* a regex, a prefix, port 1 left out */
	CHECK_EQ(perm_policy(r, n, &k), PERM_POLICY_OPEN_END);
	free_rules(r, n);
}
