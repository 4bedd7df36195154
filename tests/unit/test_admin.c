/* test_admin.c - the admin page's parsers (forms, cookies, origins, entity
 * tags, codings, tokens, DHCP leases, the page's two forms) and its
 * authentication (password files, sessions and their timeouts, the login
 * limiter's growing delay and the checks' budget). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_assets.h"
#include "admin_auth.h"
#include "admin_parse.h"
#include "control.h"
#include "inflate.h"
#include "unit.h"
#include "util.h"

static int
form(const char *body, struct admin_form *f, char *buf, char *err)
{
	return admin_form_parse(body, strlen(body), buf, strlen(body) + 2, f, err, 128);
}

TEST(admin_form_parse)
{
	struct admin_form f;
	char buf[256], err[128];
	const struct admin_field *x;

	CHECK_EQ(form("a=1&b=x+y%20z&&c=&d", &f, buf, err), 0);
	CHECK_EQ(f.n, 4);
	CHECK_STR(admin_form_get(&f, "a")->value, "1");
	CHECK_STR(admin_form_get(&f, "b")->value, "x y z");
	CHECK_EQ(admin_form_get(&f, "c")->len, 0);
	CHECK_EQ(admin_form_get(&f, "d")->len, 0);
	CHECK(admin_form_get(&f, "e") == NULL);
	/* a NUL is kept in the value, with its length */
	CHECK_EQ(form("description=a%00b", &f, buf, err), 0);
	x = admin_form_get(&f, "description");
	CHECK_EQ(x->len, 3);
	CHECK(x->value[1] == '\0' && x->value[2] == 'b');
	CHECK_EQ(form("", &f, buf, err), 0);
	CHECK_EQ(f.n, 0);
	CHECK_EQ(form("a=%4", &f, buf, err), -1);
	CHECK(strstr(err, "%-escape") != NULL);
	CHECK_EQ(form("a=%zz", &f, buf, err), -1);
	CHECK_EQ(form("a=1&a=2", &f, buf, err), -1);
	CHECK(strstr(err, "twice") != NULL);
	CHECK_EQ(form("A=1", &f, buf, err), -1);
	CHECK_EQ(form("=1", &f, buf, err), -1);
	CHECK_EQ(form("a%3cb=1", &f, buf, err), -1);
	CHECK_EQ(form("a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1&l=1&m=1", &f, buf, err), -1);
	CHECK(strstr(err, "more than") != NULL);
	/* the buffer bound holds for pairs without '=' too */
	CHECK_EQ(form("a&b&c&d&e&f&g&h&i&j&k&l", &f, buf, err), 0);
	CHECK_EQ(f.n, 12);
}

TEST(admin_cookies)
{
	const char *h = "other=1; igdd_sid=abc ; x=\"q\";igdd_sid=\"def\";igdd_sidx=no; novalue";
	const char *v;
	size_t pos = 0, vl;

	CHECK(admin_cookie_next(h, strlen(h), &pos, "igdd_sid", &v, &vl));
	CHECK(vl == 3 && memcmp(v, "abc", 3) == 0);
	CHECK(admin_cookie_next(h, strlen(h), &pos, "igdd_sid", &v, &vl));
	CHECK(vl == 3 && memcmp(v, "def", 3) == 0);
	CHECK(!admin_cookie_next(h, strlen(h), &pos, "igdd_sid", &v, &vl));
	pos = 0;
	CHECK(!admin_cookie_next("", 0, &pos, "igdd_sid", &v, &vl));
}

TEST(admin_origin)
{
	const char *host = "192.168.1.1:8080";

#define SO(u, h, url) admin_same_origin(u, strlen(u), h, strlen(h), url)
	CHECK(SO("http://192.168.1.1:8080", host, false));
	CHECK(SO("HTTP://192.168.1.1:8080", host, false));
	CHECK(!SO("http://192.168.1.1:8081", host, false));
	CHECK(!SO("http://192.168.1.2:8080", host, false));
	CHECK(!SO("https://192.168.1.1:8080", host, false));
	CHECK(!SO("null", host, false));
	CHECK(!SO("http://evil.example", host, false));
	CHECK(!SO("http://x@192.168.1.1:8080", host, false));
	CHECK(!SO("http://192.168.1.1:8080/path", host, false));
	CHECK(SO("http://192.168.1.1", "192.168.1.1", false));
	CHECK(SO("http://192.168.1.1:80", "192.168.1.1", false));
	CHECK(SO("http://192.168.1.1", "192.168.1.1:80", false));
	CHECK(SO("http://192.168.1.1:8080/a/b?c#d", host, true));
	CHECK(SO("http://192.168.1.1:8080", host, true));
	CHECK(!SO("http://192.168.1.1:8080.evil.example/", host, true));
	CHECK(!SO("http://", host, true));
	CHECK(SO("http://[fd00::1]:8080", "[FD00::1]:8080", false));
#undef SO
}

TEST(admin_header_helpers)
{
	const char *t;
	size_t tl;
	uint64_t v;

#define EM(l, e) admin_etag_match(l, strlen(l), e)
	CHECK(EM("\"1-2\"", "\"1-2\""));
	CHECK(EM("W/\"1-2\"", "\"1-2\""));
	CHECK(EM("\"x\", \"1-2\"", "\"1-2\""));
	CHECK(EM("*", "\"1-2\""));
	CHECK(!EM("\"1-2-gz\"", "\"1-2\""));
	CHECK(!EM("\"1-2", "\"1-2\""));
	CHECK(!EM("", "\"1-2\""));
#undef EM
#define GZ(l) admin_accepts_gzip(l, strlen(l))
	CHECK(GZ("gzip, deflate, br"));
	CHECK(GZ("br;q=1.0, gzip;q=0.8, *;q=0.1"));
	CHECK(!GZ("gzip;q=0"));
	CHECK(!GZ("gzip;q=0.000, *"));
	CHECK(GZ("*"));
	CHECK(!GZ("identity"));
	CHECK(GZ("x-gzip"));
	CHECK(!GZ(""));
#undef GZ
	CHECK(admin_bearer("Bearer abc.DEF-123_~+/=", 23, &t, &tl) && tl == 16);
	CHECK(admin_bearer("bearer   tok  ", 14, &t, &tl) && tl == 3 && memcmp(t, "tok", 3) == 0);
	CHECK(!admin_bearer("Basic abc", 9, &t, &tl));
	CHECK(!admin_bearer("Bearer a b", 10, &t, &tl));
	CHECK(!admin_bearer("Bearer ", 7, &t, &tl));
	CHECK(admin_query_u64("/api/state?since=42", 19, "since", &v) && v == 42);
	CHECK(admin_query_u64("/x?a=1&since=0&b", 16, "since", &v) && v == 0);
	CHECK(!admin_query_u64("/x?since=-1", 11, "since", &v));
	CHECK(!admin_query_u64("/x?since=", 9, "since", &v));
	CHECK(!admin_query_u64("/x?sincex=1", 11, "since", &v));
	CHECK(!admin_query_u64("/x", 2, "since", &v));
	CHECK(!admin_query_u64("/x?since=123456789012345678901", 30, "since", &v));
	CHECK(!admin_query_u64("/x?since=18446744073709551616", 29, "since", &v));
	CHECK(admin_query_u64("/x?since=18446744073709551615", 29, "since", &v) && v == UINT64_MAX);
}

struct names {
	char text[1024];
};

static void
collect(void *arg, const struct in6_addr *a, const char *name)
{
	struct names *n = arg;
	char s[INET6_ADDRSTRLEN];

	(void)str_appendf(n->text, sizeof(n->text), "%s=%s;", addr_str(a, s, sizeof(s)), name);
}

TEST(admin_leases)
{
	static const char dnsmasq[] =
		"1733450000 aa:bb:cc:dd:ee:ff 192.168.1.10 laptop 01:aa:bb:cc:dd:ee:ff\n"
		"1733450000 aa:bb:cc:dd:ee:01 192.168.1.11 * *\n"
		"1733450000 aa:bb:cc:dd:ee:02 192.168.1.12 <script> *\n"
		"duid 00:01:00:01:2c:aa:bb:cc:dd:ee:ff:00\n"
		"1733450000 12345 fd00::10 phone 00:01:00:01\n"
		"garbage\n\n";
	static const char odhcpd[] =
		"# br-lan 0004ea4d 8d0a5c1b tv 1733450000 2f4 128 fd00::2f4/128 fd00::3/128\n"
		"fd00::2f4\ttv.lan\ttv\n"
		"# br-lan 01aabbccddeeff ipv4 nas 1733450000 c0a8010a 32 192.168.1.20/32\n"
		"192.168.1.20\tnas.lan\tnas\n"
		"# br-lan 01aabbccddee01 ipv4 - 1733450000 c0a8010b 32 192.168.1.21/32\n";
	struct names n = { "" };

	CHECK_EQ(admin_leases_parse(dnsmasq, sizeof(dnsmasq) - 1, collect, &n), 2);
	CHECK(strcmp(n.text, "192.168.1.10=laptop;fd00::10=phone;") == 0);
	n.text[0] = '\0';
	CHECK_EQ(admin_leases_parse(odhcpd, sizeof(odhcpd) - 1, collect, &n), 5);
	CHECK(strcmp(n.text, "fd00::2f4=tv;fd00::3=tv;fd00::2f4=tv;192.168.1.20=nas;"
		     "192.168.1.20=nas;") == 0);
	n.text[0] = '\0';
	CHECK_EQ(admin_leases_parse("1 2 3", 5, collect, &n), 0);
}

/* A form body through both parsers. */
static int
fwd(const char *body, struct ctl_request *req, struct admin_errors *e)
{
	struct admin_form f;
	char buf[1024], err[128];

	if (admin_form_parse(body, strlen(body), buf, sizeof(buf), &f, err, sizeof(err)) < 0)
		return -2;
	return admin_forward_parse(&f, req, e);
}

TEST(admin_forward_form)
{
	struct ctl_request r;
	struct admin_errors e;
	char big[600];

	CHECK_EQ(fwd("protocol=udp&external_port=8080&internal_client=192.168.1.10&internal_port=80"
		     "&description=web+%C3%A9&lease=&csrf=x", &r, &e), 0);
	CHECK_EQ(r.cmd, CTL_ADD);
	CHECK_EQ(r.proto, IPPROTO_UDP);
	CHECK_EQ(r.eport, 8080);
	CHECK_EQ(r.iport, 80);
	CHECK_EQ(r.lease, 0);
	CHECK_STR(r.desc, "web \xc3\xa9");
	CHECK_EQ(fwd("protocol=TCP&external_port=1&internal_client=10.0.0.1&internal_port=65535"
		     "&lease=3600", &r, &e), 0);
	CHECK_EQ(r.lease, 3600);
	CHECK_EQ(fwd("protocol=icmp&external_port=0&internal_client=%3Cb%3Ex%3C%2Fb%3E"
		     "&internal_port=70000&description=a%00b&lease=-1", &r, &e), -1);
	CHECK_EQ(e.n, 6);
	CHECK_STR(e.field[AF_PROTOCOL], "choose TCP or UDP");
	CHECK(strstr(e.field[AF_EXTERNAL_PORT], "1 to 65535") != NULL);
	CHECK_STR(e.field[AF_INTERNAL_CLIENT], "'<b>x</b>' is not an IPv4 address such as 192.168.1.10");
	CHECK(strstr(e.field[AF_INTERNAL_PORT], "1 to 65535") != NULL);
	CHECK(strstr(e.field[AF_DESCRIPTION], "control characters") != NULL);
	CHECK(strstr(e.field[AF_LEASE], "permanent") != NULL);
	CHECK_EQ(fwd("external_port=80", &r, &e), -1);
	CHECK_STR(e.field[AF_PROTOCOL], "required");
	CHECK_STR(e.field[AF_INTERNAL_CLIENT], "required");
	CHECK_EQ(fwd("protocol=tcp&external_port=1&internal_client=1.2.3.4&internal_port=1&x=1", &r,
		     &e), -1);
	CHECK_STR(e.form, "unknown field 'x'");
	/* a NUL inside an address is no address; a quoted value is cut */
	CHECK_EQ(fwd("protocol=tcp&external_port=1&internal_client=1.2.3.4%00&internal_port=1", &r,
		     &e), -1);
	CHECK(strstr(e.field[AF_INTERNAL_CLIENT], "'1.2.3.4?'") != NULL);
	memset(big, 'a', sizeof(big));
	memcpy(big, "description=", 12);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(fwd(big, &r, &e), -1);
	CHECK(strstr(e.field[AF_DESCRIPTION], "at most 255 bytes (this one has 587)") != NULL);
	CHECK_EQ(fwd("protocol=tcp&external_port=1&internal_client=1.2.3.4&internal_port=1"
		     "&description=%FF", &r, &e), -1);
	CHECK_STR(e.field[AF_DESCRIPTION], "not valid UTF-8 text");
}

TEST(admin_delete_form)
{
	struct admin_form f;
	struct ctl_request r;
	struct admin_errors e;
	char buf[256], err[128];
	const char *b = "protocol=tcp&external_port=8080&remote_host=";

	CHECK_EQ(admin_form_parse(b, strlen(b), buf, sizeof(buf), &f, err, sizeof(err)), 0);
	CHECK_EQ(admin_delete_parse(&f, &r, &e), 0);
	CHECK_EQ(r.cmd, CTL_DEL);
	CHECK(addr_is_any(&r.rhost));
	b = "protocol=tcp&external_port=8080&remote_host=198.51.100.7";
	CHECK_EQ(admin_form_parse(b, strlen(b), buf, sizeof(buf), &f, err, sizeof(err)), 0);
	CHECK_EQ(admin_delete_parse(&f, &r, &e), 0);
	CHECK(!addr_is_any(&r.rhost));
	CHECK(r.fields & CTL_F_RHOST);
	b = "protocol=tcp&external_port=8080&internal_port=1";
	CHECK_EQ(admin_form_parse(b, strlen(b), buf, sizeof(buf), &f, err, sizeof(err)), 0);
	CHECK_EQ(admin_delete_parse(&f, &r, &e), -1);
	/* a pinhole: by its UniqueID alone */
	b = "unique_id=4321&csrf=x";
	CHECK_EQ(admin_form_parse(b, strlen(b), buf, sizeof(buf), &f, err, sizeof(err)), 0);
	CHECK_EQ(admin_delete_parse(&f, &r, &e), 0);
	CHECK_EQ(r.uid, 4321);
	CHECK(r.fields & CTL_F_UID);
	b = "unique_id=0";
	CHECK_EQ(admin_form_parse(b, strlen(b), buf, sizeof(buf), &f, err, sizeof(err)), 0);
	CHECK_EQ(admin_delete_parse(&f, &r, &e), -1);
	CHECK(strstr(e.field[AF_UNIQUE_ID], "UniqueID") != NULL);
	b = "unique_id=1&protocol=tcp";
	CHECK_EQ(admin_form_parse(b, strlen(b), buf, sizeof(buf), &f, err, sizeof(err)), 0);
	CHECK_EQ(admin_delete_parse(&f, &r, &e), -1);
}

/* ---- authentication ---- */

/* "secret" with SHA-512 (openssl passwd -6 -salt saltsaltsaltsalt secret). */
#define HASH_SECRET "$6$saltsaltsaltsalt$ph0yGsyjzqdeFaon7.gJZo8eAG5/rj9/JdzOu1Rl7dKzBYg3x" \
		    "gvl7T2VQ2Rt81bc5AXkdA54r0p8QvC1omD6R1"

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

TEST(admin_password_files)
{
	char dir[] = "/tmp/igdd-unit-admin.XXXXXX", path[64], hash[ADMIN_HASH_MAX], err[256];
	struct admin_auth a;
	bool world;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/pw", dir);
	write_file(path, HASH_SECRET "\n\n", 0600);
	CHECK_EQ(admin_auth_read_hash(path, hash, sizeof(hash), &world, err, sizeof(err)), 0);
	CHECK(!world);
	CHECK(strcmp(hash, HASH_SECRET) == 0);
	admin_auth_init(&a, 1000, 5000);
	memcpy(a.hash, hash, sizeof(hash));
	CHECK(admin_auth_password_ok(&a, "secret", 6));
	CHECK(!admin_auth_password_ok(&a, "secreT", 6));
	CHECK(!admin_auth_password_ok(&a, "secret\0x", 8));
	CHECK(!admin_auth_password_ok(&a, "", 0));
	chmod(path, 0644);
	CHECK_EQ(admin_auth_read_hash(path, hash, sizeof(hash), &world, err, sizeof(err)), 0);
	CHECK(world);
	chmod(path, 0602);
	CHECK_EQ(admin_auth_read_hash(path, hash, sizeof(hash), &world, err, sizeof(err)), -1);
	CHECK(strstr(err, "anyone may write") != NULL);
	write_file(path, "$1$abc$defdefdef\n", 0600);
	CHECK_EQ(admin_auth_read_hash(path, hash, sizeof(hash), &world, err, sizeof(err)), -1);
	CHECK(strstr(err, "SHA-512") != NULL && strstr(err, "abc") == NULL);
	write_file(path, HASH_SECRET "\nsecond line\n", 0600);
	CHECK_EQ(admin_auth_read_hash(path, hash, sizeof(hash), &world, err, sizeof(err)), -1);
	CHECK(strstr(err, "one line") != NULL);
	write_file(path, "", 0600);
	CHECK_EQ(admin_auth_read_hash(path, hash, sizeof(hash), &world, err, sizeof(err)), -1);
	write_file(path, "0123456789abcdef-token\n", 0600);
	CHECK_EQ(admin_auth_read_token(path, a.token, sizeof(a.token), err, sizeof(err)), 0);
	CHECK(admin_auth_token_ok(&a, "0123456789abcdef-token", 22));
	CHECK(!admin_auth_token_ok(&a, "0123456789abcdef-tokeN", 22));
	write_file(path, "short\n", 0600);
	CHECK_EQ(admin_auth_read_token(path, a.token, sizeof(a.token), err, sizeof(err)), -1);
	write_file(path, "0123456789abcdef token\n", 0600);
	CHECK_EQ(admin_auth_read_token(path, a.token, sizeof(a.token), err, sizeof(err)), -1);
	snprintf(path, sizeof(path), "%s/none", dir);
	CHECK_EQ(admin_auth_read_hash(path, hash, sizeof(hash), &world, err, sizeof(err)), -1);
	CHECK(strstr(err, "No such file") != NULL);
	snprintf(path, sizeof(path), "%s/pw", dir);
	unlink(path);
	rmdir(dir);
	CHECK(admin_ct_eq("abc", 3, "abc", 3));
	CHECK(!admin_ct_eq("abc", 3, "abd", 3));
	CHECK(!admin_ct_eq("abc", 3, "ab", 2));
}

TEST(admin_sessions)
{
	static struct admin_auth a;
	struct in6_addr p1, p2;
	struct admin_session *s, *t;
	char id[ADMIN_ID_HEX + 1];
	unsigned k;

	addr_parse("192.168.1.10", &p1);
	addr_parse("192.168.1.11", &p2);
	admin_auth_init(&a, 1000, 5000);
	s = admin_session_new(&a, &p1, 100);
	CHECK(s != NULL);
	CHECK_EQ(strlen(s->id), ADMIN_ID_HEX);
	CHECK(strcmp(s->id, s->csrf) != 0);
	memcpy(id, s->id, sizeof(id));
	CHECK(admin_session_find(&a, id, ADMIN_ID_HEX, &p1, 500, true) == s);
	/* another host with the id: nothing */
	CHECK(admin_session_find(&a, id, ADMIN_ID_HEX, &p2, 600, true) == NULL);
	CHECK(admin_session_find(&a, id, ADMIN_ID_HEX - 1, &p1, 600, true) == NULL);
	/* idle: 1 s after the last touch; background requests do not touch */
	CHECK(admin_session_find(&a, id, ADMIN_ID_HEX, &p1, 1400, false) == s);
	CHECK(admin_session_find(&a, id, ADMIN_ID_HEX, &p1, 1499, true) == s);
	CHECK(admin_session_find(&a, id, ADMIN_ID_HEX, &p1, 2498, true) == s);
	CHECK(admin_session_find(&a, id, ADMIN_ID_HEX, &p1, 3500, true) == NULL);
	CHECK(admin_session_find(&a, id, ADMIN_ID_HEX, &p1, 3000, true) == NULL);	/* ended */
	/* absolute: 5 s after the login however busy */
	s = admin_session_new(&a, &p1, 10000);
	memcpy(id, s->id, sizeof(id));
	for (k = 10500; k < 15000; k += 500)
		CHECK(admin_session_find(&a, id, ADMIN_ID_HEX, &p1, k, true) == s);
	CHECK(admin_session_find(&a, id, ADMIN_ID_HEX, &p1, 15000, true) == NULL);
	/* full: the least recently used one goes */
	admin_sessions_clear(&a);
	for (k = 0; k < ADMIN_SESSIONS; k++)
		CHECK(admin_session_new(&a, &p1, 20000 + k) != NULL);
	CHECK_EQ(admin_sessions_count(&a, 20100), ADMIN_SESSIONS);
	t = &a.s[0];
	memcpy(id, t->id, sizeof(id));
	s = admin_session_new(&a, &p2, 20200);
	CHECK(s == t);
	CHECK(strcmp(s->id, id) != 0);
	admin_session_end(s);
	CHECK_EQ(admin_sessions_count(&a, 20300), ADMIN_SESSIONS - 1);
}

TEST(admin_login_limiter)
{
	static struct admin_auth a;
	struct in6_addr p1, p2;
	uint64_t wait, now = 1000000, d;
	uint32_t fails, refused;
	unsigned k, checked = 0;

	addr_parse("192.168.1.10", &p1);
	addr_parse("192.168.1.11", &p2);
	admin_auth_init(&a, 1000, 5000);
	/* the first failures cost nothing, then 1 s, 2 s, 4 s ... 30 s */
	CHECK_EQ(admin_login_gate(&a, &p1, now, &wait), ADMIN_GATE_CHECK);
	CHECK_EQ(admin_login_failed(&a, &p1, now, &fails, &refused), 0);
	CHECK_EQ(admin_login_gate(&a, &p1, now, &wait), ADMIN_GATE_CHECK);
	CHECK_EQ(admin_login_failed(&a, &p1, now, &fails, &refused), 0);
	CHECK_EQ(fails, 2);
	for (k = 0, d = 1000; k < 8; k++, d = d * 2 > 30000 ? 30000 : d * 2) {
		now += 10000;	/* past the budget's refill */
		CHECK_EQ(admin_login_gate(&a, &p1, now, &wait), ADMIN_GATE_CHECK);
		CHECK_EQ(admin_login_failed(&a, &p1, now, &fails, &refused), d);
		/* meanwhile: refused unchecked, counted */
		CHECK_EQ(admin_login_gate(&a, &p1, now + d - 1, &wait), ADMIN_GATE_WAIT);
		CHECK_EQ(wait, 1);
		now += d;
	}
	CHECK_EQ(fails, 10);
	now += 40000;
	CHECK_EQ(admin_login_gate(&a, &p1, now, &wait), ADMIN_GATE_CHECK);
	CHECK_EQ(admin_login_failed(&a, &p1, now, &fails, &refused), 30000);
	CHECK_EQ(refused, 1);	/* the last one of the loop */
	CHECK_EQ(admin_login_gate(&a, &p1, now + 1, &wait), ADMIN_GATE_WAIT);
	CHECK_EQ(admin_login_gate(&a, &p1, now + 2, &wait), ADMIN_GATE_WAIT);
	/* another source is not slowed by it */
	CHECK_EQ(admin_login_gate(&a, &p2, now + 3, &wait), ADMIN_GATE_CHECK);
	now += 30000;
	CHECK_EQ(admin_login_gate(&a, &p1, now, &wait), ADMIN_GATE_CHECK);
	CHECK_EQ(admin_login_failed(&a, &p1, now, &fails, &refused), 30000);
	CHECK_EQ(refused, 2);
	/* a success forgets; so does a quarter of an hour */
	admin_login_succeeded(&a, &p1);
	now += 30000;
	CHECK_EQ(admin_login_gate(&a, &p1, now, &wait), ADMIN_GATE_CHECK);
	CHECK_EQ(admin_login_failed(&a, &p1, now, &fails, &refused), 0);
	CHECK_EQ(fails, 1);
	now += ADMIN_LOGIN_FORGET_MS;
	CHECK_EQ(admin_login_failed(&a, &p1, now, &fails, &refused), 0);
	CHECK_EQ(fails, 1);
	/* the budget: a burst, then ADMIN_CHECKS_PER_S a second, all together */
	admin_auth_init(&a, 1000, 5000);
	for (k = 0; k < 100; k++) {
		struct in6_addr p;
		char s[32];

		snprintf(s, sizeof(s), "10.0.%u.%u", k / 200, k % 200 + 1);
		addr_parse(s, &p);
		checked += admin_login_gate(&a, &p, now, &wait) == ADMIN_GATE_CHECK;
	}
	CHECK_EQ(checked, ADMIN_CHECKS_BURST);
	CHECK_EQ(admin_login_gate(&a, &p1, now + 1000, &wait), ADMIN_GATE_CHECK);
}

/* The page's files stored compressed expand to the source files (read
 * from daemon/admin/ when the tests run in the tree); a wrong length or
 * a cut stream is refused. */
TEST(admin_assets_expand)
{
	const struct admin_asset *a;
	char path[128];

	for (a = admin_assets; a->name != NULL; a++) {
		char *t = inflate_text_dup(a->data, a->gz, a->gz_len, a->len), *src;
		FILE *f;

		CHECK(t != NULL);
		if (t == NULL)
			continue;
		CHECK(str_printf(path, sizeof(path), "daemon/admin/%s", a->name) == 0);
		if ((f = fopen(path, "r")) != NULL && (src = calloc(1, a->len + 2)) != NULL) {
			CHECK_EQ(fread(src, 1, a->len + 1, f), a->len);
			CHECK(memcmp(src, t, a->len) == 0);
			free(src);
		}
		if (f != NULL)
			fclose(f);
		if (a->data == NULL) {
			CHECK(inflate_gzip_dup(a->gz, a->gz_len, a->len - 1) == NULL);
			CHECK(inflate_gzip_dup(a->gz, a->gz_len - 9, a->len) == NULL);
		}
		free(t);
	}
}
