/* test_maplog.c - the operator's log of mappings (line format, the store
 * events that feed it) and the counters per protocol. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "fake_fw.h"
#include "maplog.h"
#include "store.h"
#include "unit.h"
#include "util.h"

#define TCP IPPROTO_TCP
#define UDP IPPROTO_UDP

TEST(maplog_format_line)
{
	struct mapping r = fake_req(TCP, 8000, "192.168.1.10", 9000, "web", OWNER_UPNP);
	struct in6_addr by = fake_addr("192.168.1.10"), rh = fake_addr("203.0.113.9");
	struct in_addr ext = { htonl(0xc6336401) }, none = { 0 };
	char line[256], big[400];

	maplog_format(line, sizeof(line), "mapping created", &r, ext, true, 600, &by, NULL);
	CHECK(strcmp(line, "mapping created: UPnP TCP 198.51.100.1:8000 -> 192.168.1.10:9000, "
			   "600 s, by 192.168.1.10, \"web\"") == 0);
	r.rhost = &rh;
	r.desc = "a \"b\" \\ c\x01";
	maplog_format(line, sizeof(line), "mapping refused", &r, none, true, 0, &by, "why");
	CHECK(strcmp(line, "mapping refused: UPnP TCP *:8000 from 203.0.113.9 -> 192.168.1.10:9000, "
			   "permanent, by 192.168.1.10, \"a \\\"b\\\" \\\\ c\\x01\": why") == 0);
	r = fake_req(UDP, 5000, "192.168.1.10", 5001, NULL, OWNER_PCP);
	r.desc = NULL;
	r.iaddr = NULL;
	maplog_format(line, sizeof(line), "mapping expired", &r, ext, false, 0, NULL, NULL);
	CHECK_STR(line, "mapping expired: PCP UDP 198.51.100.1:5000 -> ?:5001");
	/* a long description is cut on a character boundary, and says so */
	memset(big, 'x', sizeof(big));
	memcpy(big + 94, "\xc3\xa9", 2);	/* a 2-byte character at 94..95 */
	big[sizeof(big) - 1] = '\0';
	r.desc = big;
	maplog_format(line, sizeof(line), "m", &r, ext, false, 0, NULL, NULL);
	CHECK(strstr(line, "\xc3\xa9...\"") != NULL);
	memset(big, 'x', sizeof(big) - 1);
	memcpy(big + 95, "\xc3\xa9", 2);	/* cut inside it: left out */
	maplog_format(line, sizeof(line), "m", &r, ext, false, 0, NULL, NULL);
	CHECK(strstr(line, "xx...\"") != NULL);
	/* an IPv6 pinhole: its UniqueID, no external address, the remote side */
	r = fake_req(TCP, 0, "2001:db8:1::10", 9200, "pin", OWNER_UPNP);
	r.uid = 7;
	maplog_format(line, sizeof(line), "mapping created", &r, ext, true, 600, &by, NULL);
	CHECK_STR(line, "pinhole created: UPnP TCP pinhole 7 -> [2001:db8:1::10]:9200, 600 s, "
			"by 192.168.1.10, \"pin\"");
	rh = fake_addr("2001:db8:ff::9");
	r.rhost = &rh;
	maplog_format(line, sizeof(line), "mapping removed (reload)", &r, ext, false, 0, NULL, "x");
	CHECK_STR(line, "pinhole removed (reload): UPnP TCP pinhole 7 from [2001:db8:ff::9]:* -> "
			"[2001:db8:1::10]:9200, \"pin\": x");
	r.rhost = NULL;
	r.rport = 4000;
	maplog_format(line, sizeof(line), "mapping expired", &r, ext, false, 0, NULL, NULL);
	CHECK_STR(line, "pinhole expired: UPnP TCP pinhole 7 from *:4000 -> [2001:db8:1::10]:9200, "
			"\"pin\"");
	/* the line is cut to the buffer, never overrun */
	CHECK_EQ(maplog_format(line, 20, "mapping created", &r, ext, true, 1, &by, NULL), 19);
}

static struct {
	enum store_event ev[16];
	enum store_result why[16];
	uint32_t lifetime[16];
	bool by[16];
	unsigned n;
} seen;

static void
record(void *arg, const struct store_change *ch)
{
	(void)arg;
	if (seen.n < 16) {
		seen.ev[seen.n] = ch->ev;
		seen.why[seen.n] = ch->why;
		seen.lifetime[seen.n] = ch->lifetime;
		seen.by[seen.n] = ch->by != NULL;
		seen.n++;
	}
}

/* What the mapping log hears: created, changed or only renewed, deleted
 * (by whom), expired, and the store's refusals with their reason. */
TEST(store_change_events)
{
	struct fake_env *e = fake_env_new(false);
	struct mapping r = fake_req(TCP, 8000, "192.168.1.10", 9000, "a", OWNER_UPNP);
	struct mapping other = fake_req(TCP, 8000, "192.168.1.11", 9000, "b", OWNER_UPNP);
	struct in6_addr c2 = fake_addr("192.168.1.11");

	e->ctx.cfg.secure_mode = true;
	fake_env_start(e);
	memset(&seen, 0, sizeof(seen));
	CHECK_EQ(store_add_listener(e->s, record, NULL), 0);
	CHECK_EQ(store_add(e->s, &r, 600, 0, NULL), ST_OK);
	CHECK_EQ(store_add(e->s, &r, 900, 0, NULL), ST_OK);	/* the same: renewed */
	r.desc = "new";
	CHECK_EQ(store_add(e->s, &r, 900, 0, NULL), ST_OK);	/* changed */
	CHECK_EQ(store_add(e->s, &other, 60, 0, NULL), ST_E_CONFLICT);
	CHECK_EQ(store_del(e->s, TCP, 8000, NULL, &c2), ST_E_NOT_OWNER);
	CHECK_EQ(store_del(e->s, TCP, 8000, NULL, r.iaddr), ST_OK);
	CHECK_EQ(store_add(e->s, &r, 1, 0, NULL), ST_OK);
	store_expire_now(e->s, time_mono_ms() + 5000);
	CHECK_EQ(seen.n, 8);
	CHECK_EQ(seen.ev[0], STORE_EV_ADDED);
	CHECK_EQ(seen.lifetime[0], 600);
	CHECK(seen.by[0]);
	CHECK_EQ(seen.ev[1], STORE_EV_RENEWED);
	CHECK_EQ(seen.ev[2], STORE_EV_CHANGED);
	CHECK_EQ(seen.ev[3], STORE_EV_REFUSED);
	CHECK_EQ(seen.why[3], ST_E_CONFLICT);
	CHECK_EQ(seen.lifetime[3], 60);
	CHECK_EQ(seen.ev[4], STORE_EV_DEL_REFUSED);
	CHECK_EQ(seen.why[4], ST_E_NOT_OWNER);
	CHECK_EQ(seen.ev[5], STORE_EV_DELETED);
	CHECK(seen.by[5]);
	CHECK_EQ(seen.ev[6], STORE_EV_ADDED);
	CHECK_EQ(seen.ev[7], STORE_EV_EXPIRED);
	CHECK(!seen.by[7]);
	CHECK(STORE_EV_IS_CHANGE(STORE_EV_EXPIRED) && !STORE_EV_IS_CHANGE(STORE_EV_DEL_REFUSED));
	fake_env_free(e);
}

TEST(counters_slots_and_names)
{
	struct counters c;
	unsigned k;
	int seen_606 = 0;

	memset(&c, 0, sizeof(c));
	counters_request(&c, CTR_UPNP);
	counters_answer(&c, CTR_UPNP, 606);
	counters_answer(&c, CTR_UPNP, 606);
	counters_answer(&c, CTR_UPNP, 999);	/* not a known code: "other" */
	counters_answer(&c, CTR_PCP, 13);
	counters_answer(&c, CTR_NATPMP, 2);
	counters_answer(&c, CTR_HTTP, 413);
	counters_drop(&c, CTR_SSDP, CTR_DROP_RATELIMIT);
	CHECK_EQ(c.p[CTR_UPNP].requests, 1);
	CHECK_EQ(counters_answers(&c, CTR_UPNP, 606), 2);
	CHECK_EQ(counters_answers(&c, CTR_UPNP, 999), 1);
	CHECK_EQ(counters_answers(&c, CTR_UPNP, 12345), 1);	/* the same slot */
	CHECK_EQ(counters_answers(&c, CTR_PCP, 13), 1);
	CHECK_EQ(counters_answers(&c, CTR_NATPMP, 2), 1);
	CHECK_EQ(counters_answers(&c, CTR_HTTP, 413), 1);
	CHECK_EQ(counters_drops(&c, CTR_SSDP, CTR_DROP_RATELIMIT), 1);
	/* a reader walks the slots by code */
	for (k = 0; k < CTR_CODES; k++)
		if (counters_code(CTR_UPNP, k) == 606)
			seen_606 = (int)c.p[CTR_UPNP].answers[k];
	CHECK_EQ(seen_606, 2);
	CHECK_EQ(counters_code(CTR_UPNP, CTR_CODES - 1), -1);
	CHECK_EQ(counters_code(CTR_NATPMP, 6), -1);
	CHECK_STR(counters_proto_name(CTR_NATPMP), "NAT-PMP");
	CHECK_STR(counters_drop_name(CTR_DROP_WAN), "not from a LAN");
}
