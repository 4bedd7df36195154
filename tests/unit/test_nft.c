/* test_nft.c - the nftables backend's messages, built without a kernel and
 * parsed back with libnftnl: element keys and data (register padding,
 * network order), batch framing and sequence numbers, rules' tags. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "conf.h"
#include "mapping.h"
#include "nft_msg.h"
#include "unit.h"
#include "util.h"

/* Mappings point at their addresses, as the store's do: each distinct
 * one is kept once here. */
static const struct in6_addr *
intern(const char *s)
{
	static struct in6_addr known[16];
	static size_t n;
	struct in6_addr a;
	size_t i;

	if (addr_parse(s, &a) < 0)
		abort();
	for (i = 0; i < n; i++)
		if (addr_eq(&known[i], &a))
			return &known[i];
	if (n == ARRAY_SIZE(known))
		abort();
	known[n] = a;
	return &known[n++];
}

static void
mk_mapping(struct mapping *m, uint8_t proto, uint16_t eport, const char *iaddr,
	   uint16_t iport, const char *rhost)
{
	memset(m, 0, sizeof(*m));
	m->proto = proto;
	m->eport = eport;
	m->iport = iport;
	m->iaddr = intern(iaddr);
	m->rhost = intern(rhost != NULL ? rhost : "::");
}

static void
mk_layout(struct nft_layout *l, bool integrate, bool timeouts)
{
	struct config cfg;

	conf_defaults(&cfg);
	str_copy(cfg.ext_ifname, sizeof(cfg.ext_ifname), "wan0");
	cfg.fw_integrate = integrate;
	if (integrate)
		str_copy(cfg.upnp_table_name, sizeof(cfg.upnp_table_name), "fw4");
	CHECK_EQ(nft_layout_init(l, &cfg, timeouts), 0);
}

static void
mk_lan(struct nft_layout *l, const char *name, const char *addr, unsigned bits)
{
	struct fw_lan *lan = &l->lan[l->n_lan++];

	str_copy(lan->name, sizeof(lan->name), name);
	inet_pton(AF_INET, addr, &lan->addr);
	lan->mask.s_addr = htonl(~0u << (32 - bits));
}

/* A batch flattened into one buffer, for walking it. */
struct flat {
	uint8_t *buf;
	size_t len;
};

static void
flatten(struct nft_batch *bt, struct flat *f)
{
	struct iovec *iov;
	int i, n;

	f->len = 0;
	f->buf = NULL;
	if (nft_batch_iov(bt, &iov, &n) < 0)
		return;
	for (i = 0; i < n; i++)
		f->len += iov[i].iov_len;
	f->buf = malloc(f->len ? f->len : 1);
	f->len = 0;
	for (i = 0; i < n; i++) {
		memcpy(f->buf + f->len, iov[i].iov_base, iov[i].iov_len);
		f->len += iov[i].iov_len;
	}
	free(iov);
}

static const struct nlmsghdr *
nth_msg(const struct flat *f, int idx)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)f->buf;
	int left = (int)f->len;

	while (mnl_nlmsg_ok(nlh, left)) {
		if (idx-- == 0)
			return nlh;
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	return NULL;
}

static int
count_msgs(const struct flat *f)
{
	int n = 0;

	while (nth_msg(f, n) != NULL)
		n++;
	return n;
}

#define MSG(t) ((NFNL_SUBSYS_NFTABLES << 8) | (t))

/* Parse one element message back: set name, first element's key/data. */
struct parsed {
	char set[CFG_NAME_MAX];
	char table[CFG_NAME_MAX];
	int nelems;
	uint8_t key[NFT_KEY_MAX], data[NFT_KEY_MAX], end[NFT_KEY_MAX];
	uint32_t keylen, datalen, endlen;
	uint64_t timeout;
	bool has_data;
};

static int
parse_elems(const struct nlmsghdr *nlh, struct parsed *p)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;
	const void *v;
	uint32_t len;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (s == NULL || nftnl_set_elems_nlmsg_parse(nlh, s) < 0)
		goto out;
	str_copy(p->set, sizeof(p->set), nftnl_set_get_str(s, NFTNL_SET_NAME));
	str_copy(p->table, sizeof(p->table), nftnl_set_get_str(s, NFTNL_SET_TABLE));
	it = nftnl_set_elems_iter_create(s);
	for (e = nftnl_set_elems_iter_next(it); e != NULL; e = nftnl_set_elems_iter_next(it)) {
		if (p->nelems++ > 0)
			continue;
		v = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		if (v != NULL && len <= NFT_KEY_MAX) {
			memcpy(p->key, v, len);
			p->keylen = len;
		}
		v = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len);
		if (v != NULL && len <= NFT_KEY_MAX) {
			memcpy(p->end, v, len);
			p->endlen = len;
		}
		v = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);
		if (v != NULL && len <= NFT_KEY_MAX) {
			memcpy(p->data, v, len);
			p->datalen = len;
			p->has_data = true;
		}
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
			p->timeout = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	}
	nftnl_set_elems_iter_destroy(it);
	rc = 0;
out:
	if (s != NULL)
		nftnl_set_free(s);
	return rc;
}

TEST(nft_elem_keys_padding_and_order)
{
	struct nft_layout l;
	struct mapping m;
	uint8_t key[NFT_KEY_MAX], data[NFT_KEY_MAX];
	static const uint8_t dnat4[] = { 6, 0, 0, 0, 0x1f, 0x40, 0, 0 };
	static const uint8_t fwd4[] = { 192, 168, 77, 10, 6, 0, 0, 0, 0x23, 0x28, 0, 0 };
	static const uint8_t data4[] = { 192, 168, 77, 10, 0x23, 0x28, 0, 0 };
	static const uint8_t dnat4_rh[] = { 198, 51, 100, 3, 17, 0, 0, 0, 0x1f, 0x41, 0, 0 };
	static const uint8_t fwd4_rh[] = { 198, 51, 100, 3, 192, 168, 77, 11, 17, 0, 0, 0,
					   0x23, 0x29, 0, 0 };
	static const uint8_t snat_data[] = { 0x1f, 0x40 };
	enum nft_set_id d, f;

	mk_layout(&l, false, false);
	mk_lan(&l, "lan0", "192.168.77.1", 24);
	mk_mapping(&m, IPPROTO_TCP, 8000, "192.168.77.10", 9000, NULL);
	CHECK_EQ(nft_elem_key(&l, NFT_SET_DNAT4, &m, key), sizeof(dnat4));
	CHECK(memcmp(key, dnat4, sizeof(dnat4)) == 0);
	CHECK_EQ(nft_elem_key(&l, NFT_SET_FWD4, &m, key), sizeof(fwd4));
	CHECK(memcmp(key, fwd4, sizeof(fwd4)) == 0);
	CHECK_EQ(nft_elem_data(NFT_SET_DNAT4, &m, data), sizeof(data4));
	CHECK(memcmp(data, data4, sizeof(data4)) == 0);
	/* hairpin: no element of its own (dnat4 and lan4); snat: by the
	 * internal side, the data the external port alone */
	CHECK_EQ(nft_elem_key(&l, NFT_SET_LAN4, &m, key), 0);
	CHECK_EQ(nft_elem_key(&l, NFT_SET_EXT4, &m, key), 0);
	CHECK_EQ(nft_elem_key(&l, NFT_SET_SNAT4, &m, key), sizeof(fwd4));
	CHECK(memcmp(key, fwd4, sizeof(fwd4)) == 0);
	CHECK_EQ(nft_elem_data(NFT_SET_SNAT4, &m, data), sizeof(snat_data));
	CHECK(memcmp(data, snat_data, sizeof(snat_data)) == 0);
	/* An unrestricted mapping does not belong in the _rh sets. */
	CHECK_EQ(nft_elem_key(&l, NFT_SET_DNAT4_RH, &m, key), 0);
	CHECK_EQ(nft_elem_key(&l, NFT_SET_FWD4_RH, &m, key), 0);
	nft_mapping_sets(&m, &d, &f);
	CHECK_EQ(d, NFT_SET_DNAT4);
	CHECK_EQ(f, NFT_SET_FWD4);
	/* preservation off, no elements in its map */
	l.hairpin = l.preserve = false;
	mk_mapping(&m, IPPROTO_TCP, 8000, "192.168.77.10", 9000, NULL);
	CHECK_EQ(nft_elem_key(&l, NFT_SET_SNAT4, &m, key), 0);
	l.hairpin = l.preserve = true;

	mk_mapping(&m, IPPROTO_UDP, 8001, "192.168.77.11", 9001, "198.51.100.3");
	CHECK_EQ(nft_elem_key(&l, NFT_SET_DNAT4_RH, &m, key), sizeof(dnat4_rh));
	CHECK(memcmp(key, dnat4_rh, sizeof(dnat4_rh)) == 0);
	CHECK_EQ(nft_elem_key(&l, NFT_SET_FWD4_RH, &m, key), sizeof(fwd4_rh));
	CHECK(memcmp(key, fwd4_rh, sizeof(fwd4_rh)) == 0);
	CHECK_EQ(nft_elem_key(&l, NFT_SET_DNAT4, &m, key), 0);
	/* preserved (a restricted mapping is in dnat4_rh: no hairpin) */
	CHECK_EQ(nft_elem_key(&l, NFT_SET_SNAT4, &m, key), 12);
	nft_mapping_sets(&m, &d, &f);
	CHECK_EQ(d, NFT_SET_DNAT4_RH);
	CHECK_EQ(f, NFT_SET_FWD4_RH);

	/* IPv6 internal addresses have no v4 set (dnat6/fwd6 later). */
	mk_mapping(&m, IPPROTO_TCP, 8000, "2001:db8::1", 9000, NULL);
	CHECK_EQ(nft_elem_key(&l, NFT_SET_DNAT4, &m, key), 0);
	CHECK_EQ(nft_elem_data(NFT_SET_DNAT4, &m, data), 0);
}

TEST(nft_add_batch_framing_and_roundtrip)
{
	struct nft_layout l;
	struct nft_batch bt;
	struct mapping m;
	const struct mapping *one[1] = { &m };
	const struct nlmsghdr *nlh;
	struct parsed p;
	struct flat f;
	uint64_t now = 1000000;
	int i;

	mk_layout(&l, false, true);
	mk_mapping(&m, IPPROTO_TCP, 8000, "192.168.77.10", 9000, NULL);
	m.expires = now + 30000;
	CHECK_EQ(nft_batch_start(&bt, 100), 0);
	CHECK_EQ(nft_msg_elems(&bt, &l, NFT_SET_DNAT4, NFT_MSG_NEWSETELEM, one, 1, now), 0);
	CHECK_EQ(nft_msg_elems(&bt, &l, NFT_SET_FWD4, NFT_MSG_NEWSETELEM, one, 1, now), 0);
	nft_batch_finish(&bt);
	CHECK_EQ(bt.n_ack, 2);
	flatten(&bt, &f);
	CHECK_EQ(count_msgs(&f), 4);
	/* begin, two elements, end; sequence numbers increase by one */
	for (i = 0; i < 4; i++) {
		nlh = nth_msg(&f, i);
		CHECK(nlh != NULL);
		if (nlh == NULL)
			break;
		CHECK_EQ(nlh->nlmsg_seq, 100 + i);
		if (i == 1 || i == 2)
			CHECK((nlh->nlmsg_flags & (NLM_F_ACK | NLM_F_CREATE)) == (NLM_F_ACK | NLM_F_CREATE));
	}
	CHECK_EQ(nth_msg(&f, 0)->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	CHECK_EQ(nth_msg(&f, 3)->nlmsg_type, NFNL_MSG_BATCH_END);
	CHECK_EQ(nth_msg(&f, 1)->nlmsg_type, MSG(NFT_MSG_NEWSETELEM));
	CHECK_EQ(bt.seq_next, 104);

	CHECK_EQ(parse_elems(nth_msg(&f, 1), &p), 0);
	CHECK_STR(p.set, "dnat4");
	CHECK_STR(p.table, "igdd");
	CHECK_EQ(p.nelems, 1);
	CHECK_EQ(p.keylen, 8);
	CHECK_EQ(p.key[0], IPPROTO_TCP);
	CHECK_EQ(p.key[4], 8000 >> 8);
	CHECK_EQ(p.key[5], 8000 & 0xff);
	CHECK(p.has_data);
	CHECK_EQ(p.datalen, 8);
	CHECK_EQ(p.data[0], 192);
	CHECK_EQ(p.data[3], 10);
	CHECK_EQ(p.data[4], 9000 >> 8);
	CHECK_EQ(p.data[5], 9000 & 0xff);
	CHECK_EQ(p.timeout, 30000 + NFT_GRACE_MS);

	CHECK_EQ(parse_elems(nth_msg(&f, 2), &p), 0);
	CHECK_STR(p.set, "fwd4");
	CHECK_EQ(p.keylen, 12);
	CHECK(!p.has_data);
	CHECK_EQ(p.key[4], IPPROTO_TCP);
	CHECK_EQ(p.key[8], 9000 >> 8);
	free(f.buf);
	nft_batch_free(&bt);
}

/* The begin of a batch checked against a ruleset generation (init_own()):
 * nfnetlink's NFNL_BATCH_GENID, a u32 in network order after the nfgenmsg
 * (res_id: nf_tables, network order); the kernel takes the batch only at
 * that generation.  Generation 0: the begin as libnftnl writes it, no
 * attribute (every other transaction).  The messages after it keep their
 * framing and seqs. */
TEST(nft_batch_begin_carries_genid)
{
	static const uint32_t gens[] = { 0x81020304u, 0 };
	struct nft_layout l;
	struct nft_batch bt;
	size_t i;

	mk_layout(&l, false, true);
	for (i = 0; i < ARRAY_SIZE(gens); i++) {
		const struct nlmsghdr *nlh;
		const struct nfgenmsg *g;
		const struct nlattr *a;
		uint32_t got = 0;
		unsigned n_attr = 0;
		struct flat f;

		CHECK_EQ(nft_batch_start_gen(&bt, 40, gens[i]), 0);
		CHECK_EQ(nft_msg_table(&bt, &l, NFT_MSG_NEWTABLE), 0);
		nft_batch_finish(&bt);
		flatten(&bt, &f);
		CHECK_EQ(count_msgs(&f), 3);
		nlh = nth_msg(&f, 0);
		CHECK(nlh != NULL);
		if (nlh == NULL)
			break;
		CHECK_EQ(nlh->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
		CHECK_EQ(nlh->nlmsg_seq, 40);
		CHECK(nlh->nlmsg_flags & NLM_F_REQUEST);
		g = mnl_nlmsg_get_payload(nlh);
		CHECK_EQ(g->res_id, htons(NFNL_SUBSYS_NFTABLES));
		mnl_attr_for_each(a, nlh, sizeof(*g)) {
			n_attr++;
			CHECK_EQ(mnl_attr_get_type(a), NFNL_BATCH_GENID);
			CHECK_EQ(mnl_attr_validate(a, MNL_TYPE_U32), 0);
			got = ntohl(mnl_attr_get_u32(a));
		}
		CHECK_EQ(n_attr, gens[i] != 0 ? 1u : 0u);
		CHECK_EQ(got, gens[i]);
		CHECK_EQ(nlh->nlmsg_len, mnl_nlmsg_size(sizeof(*g)) + (gens[i] != 0 ? 8u : 0u));
		if (nth_msg(&f, 1) != NULL && nth_msg(&f, 2) != NULL) {
			CHECK_EQ(nth_msg(&f, 1)->nlmsg_type, MSG(NFT_MSG_NEWTABLE));
			CHECK_EQ(nth_msg(&f, 1)->nlmsg_seq, 41);
			CHECK_EQ(nth_msg(&f, 2)->nlmsg_type, NFNL_MSG_BATCH_END);
		}
		CHECK_EQ(bt.seq_next, 43);
		free(f.buf);
		nft_batch_free(&bt);
	}
}

/* The served LANs (lan4: subnet . name, an interval from the subnet's
 * first address to its last; none for a LAN without an IPv4 address;
 * none with hairpin off) and the SNAT element of a mapping: a 12-byte key and the
 * 2-byte external port, no timeout (the element serves every mapping of
 * the internal side). */
TEST(nft_hairpin_and_snat_elements)
{
	struct nft_layout l;
	struct nft_batch bt;
	struct mapping m;
	const struct mapping *one[1] = { &m };
	struct parsed p;
	struct flat f;
	uint64_t now = 1000000;

	mk_layout(&l, false, true);
	mk_lan(&l, "lan0", "192.168.77.1", 24);
	mk_lan(&l, "lan9", "0.0.0.0", 24);
	mk_mapping(&m, IPPROTO_UDP, 6000, "192.168.77.10", 5000, NULL);
	m.expires = now + 30000;
	CHECK_EQ(nft_batch_start(&bt, 1), 0);
	CHECK_EQ(nft_msg_lans(&bt, &l), 0);		/* flush, add */
	CHECK_EQ(nft_msg_elems(&bt, &l, NFT_SET_SNAT4, NFT_MSG_NEWSETELEM, one, 1, now), 0);
	l.hairpin = false;
	CHECK_EQ(nft_msg_lans(&bt, &l), 0);		/* flush only */
	nft_batch_finish(&bt);
	flatten(&bt, &f);
	CHECK_EQ(nth_msg(&f, 1)->nlmsg_type, MSG(NFT_MSG_DELSETELEM));
	CHECK_EQ(nth_msg(&f, 2)->nlmsg_type, MSG(NFT_MSG_NEWSETELEM));
	CHECK_EQ(parse_elems(nth_msg(&f, 2), &p), 0);
	CHECK_STR(p.set, "lan4");
	CHECK_EQ(p.nelems, 1);
	CHECK_EQ(p.keylen, 20);
	CHECK_EQ(p.endlen, 20);
	CHECK(memcmp(p.key, "\xc0\xa8\x4d\x00", 4) == 0);
	CHECK(memcmp(p.end, "\xc0\xa8\x4d\xff", 4) == 0);
	CHECK(memcmp(p.key + 4, "lan0", 5) == 0);
	CHECK(memcmp(p.end + 4, "lan0", 5) == 0);
	CHECK(!p.has_data);
	CHECK_EQ(p.timeout, 0);
	CHECK_EQ(nth_msg(&f, 4)->nlmsg_type, MSG(NFT_MSG_DELSETELEM));
	CHECK_EQ(nth_msg(&f, 5)->nlmsg_type, NFNL_MSG_BATCH_END);
	CHECK_EQ(parse_elems(nth_msg(&f, 3), &p), 0);
	CHECK_STR(p.set, "snat4");
	CHECK_EQ(p.keylen, 12);
	CHECK_EQ(p.key[3], 10);
	CHECK_EQ(p.key[8], 5000 >> 8);
	CHECK_EQ(p.datalen, 2);
	CHECK_EQ(p.data[0], 6000 >> 8);
	CHECK_EQ(p.data[1], 6000 & 0xff);
	CHECK_EQ(p.timeout, 0);
	free(f.buf);
	nft_batch_free(&bt);
}

/* Issue 14, finding 6: an element timeout the kernel would refuse
 * (2^64 ns or more: ERANGE for the whole transaction) is never sent. */
TEST(nft_element_timeout_is_bounded)
{
	struct nft_layout l;
	struct nft_batch bt;
	struct mapping m;
	const struct mapping *one[1] = { &m };
	struct parsed p;
	struct flat f;
	uint64_t now = 1000000;

	mk_layout(&l, false, true);
	mk_mapping(&m, IPPROTO_TCP, 8000, "192.168.77.10", 9000, NULL);
	m.expires = now + 600ull * 365 * 86400 * 1000;	/* 600 years */
	CHECK_EQ(nft_batch_start(&bt, 100), 0);
	CHECK_EQ(nft_msg_elems(&bt, &l, NFT_SET_DNAT4, NFT_MSG_NEWSETELEM, one, 1, now), 0);
	nft_batch_finish(&bt);
	flatten(&bt, &f);
	CHECK_EQ(parse_elems(nth_msg(&f, 1), &p), 0);
	CHECK_EQ(p.timeout, NFT_TIMEOUT_MAX_MS);
	CHECK(p.timeout < UINT64_MAX / 1000000);	/* the kernel's limit, in ms */
	free(f.buf);
	nft_batch_free(&bt);
}

TEST(nft_del_restricted_integrated)
{
	struct nft_layout l;
	struct nft_batch bt;
	struct mapping m;
	const struct mapping *one[1] = { &m };
	struct parsed p;
	struct flat f;

	mk_layout(&l, true, false);
	CHECK_STR(l.filter_table, "fw4");
	CHECK_STR(l.nat_table, "filter");	/* miniupnpd's default */
	CHECK_STR(l.forward_chain, "miniupnpd");
	CHECK_STR(l.set_name[NFT_SET_DNAT4_RH], "igdd_dnat4_rh");
	mk_mapping(&m, IPPROTO_UDP, 8001, "192.168.77.11", 9001, "198.51.100.3");
	m.expires = 5;	/* ignored: timeouts off and deletes carry none */
	CHECK_EQ(nft_batch_start(&bt, 7), 0);
	CHECK_EQ(nft_msg_elems(&bt, &l, NFT_SET_DNAT4_RH, NFT_MSG_DESTROYSETELEM_, one, 1, 0), 0);
	CHECK_EQ(nft_msg_elems(&bt, &l, NFT_SET_FWD4_RH, NFT_MSG_DESTROYSETELEM_, one, 1, 0), 0);
	nft_batch_finish(&bt);
	flatten(&bt, &f);
	CHECK_EQ(count_msgs(&f), 4);
	CHECK_EQ(nth_msg(&f, 1)->nlmsg_type, MSG(NFT_MSG_DESTROYSETELEM_));
	CHECK_EQ(parse_elems(nth_msg(&f, 1), &p), 0);
	CHECK_STR(p.set, "igdd_dnat4_rh");
	CHECK_STR(p.table, "filter");
	CHECK_EQ(p.keylen, 12);
	CHECK_EQ(p.key[0], 198);
	CHECK_EQ(p.key[3], 3);
	CHECK_EQ(p.key[4], IPPROTO_UDP);
	CHECK(!p.has_data);		/* a delete names the key only */
	CHECK_EQ(p.timeout, 0);
	CHECK_EQ(parse_elems(nth_msg(&f, 2), &p), 0);
	CHECK_STR(p.set, "igdd_fwd4_rh");
	CHECK_STR(p.table, "fw4");
	CHECK_EQ(p.keylen, 16);
	CHECK_EQ(p.key[4], 192);
	CHECK_EQ(p.key[7], 11);
	CHECK_EQ(p.key[12], 9001 >> 8);
	free(f.buf);
	nft_batch_free(&bt);
}

/* Elements in a set-element message, counted on the wire: libnftnl 1.2.4
 * numbers the nested elements 1, 2, 3... when building but accepts only
 * NFTA_LIST_ELEM when parsing (the kernel ignores the nest type), so its
 * parser cannot read back a message holding more than one element. */
static int
count_elems(const struct nlmsghdr *nlh)
{
	const struct nlattr *a, *e;
	int n = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_for_each_nested(e, a)
				n++;
	return n;
}

/* install_all of many mappings: a flush, then elements split over several
 * messages and pages, all in one begin/end pair. */
TEST(nft_install_many_one_transaction)
{
	enum { N = 3000 };
	struct nft_layout l;
	struct nft_batch bt;
	struct mapping *ms = calloc(N, sizeof(*ms));
	const struct mapping **ptrs = calloc(N, sizeof(*ptrs));
	const struct nlmsghdr *nlh;
	struct parsed p;
	struct flat f;
	int i, n, total = 0, begins = 0, ends = 0;
	uint32_t last_seq = 0;

	CHECK(ms != NULL && ptrs != NULL);
	if (ms == NULL || ptrs == NULL)
		return;
	mk_layout(&l, false, false);
	for (i = 0; i < N; i++) {
		mk_mapping(&ms[i], IPPROTO_TCP, (uint16_t)(10000 + i), "192.168.77.10",
			   (uint16_t)(10000 + i), NULL);
		ptrs[i] = &ms[i];
	}
	CHECK_EQ(nft_batch_start(&bt, 1), 0);
	CHECK_EQ(nft_msg_elems(&bt, &l, NFT_SET_DNAT4, NFT_MSG_DELSETELEM, NULL, 0, 0), 0);
	CHECK_EQ(nft_msg_elems(&bt, &l, NFT_SET_DNAT4, NFT_MSG_NEWSETELEM, ptrs, N, 0), 0);
	nft_batch_finish(&bt);
	flatten(&bt, &f);
	n = count_msgs(&f);
	CHECK_EQ(n, 2 + 1 + (N + NFT_ELEMS_PER_MSG - 1) / NFT_ELEMS_PER_MSG);
	CHECK(f.len > 64 * 1024);	/* more than one page */
	for (i = 0; i < n; i++) {
		nlh = nth_msg(&f, i);
		if (i > 0)
			CHECK_EQ(nlh->nlmsg_seq, last_seq + 1);
		last_seq = nlh->nlmsg_seq;
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN)
			begins++;
		else if (nlh->nlmsg_type == NFNL_MSG_BATCH_END)
			ends++;
		else if (nlh->nlmsg_type == MSG(NFT_MSG_NEWSETELEM))
			total += count_elems(nlh);
	}
	CHECK_EQ(begins, 1);
	CHECK_EQ(ends, 1);
	CHECK_EQ(total, N);
	/* The flush is an element message without elements. */
	nlh = nth_msg(&f, 1);
	CHECK_EQ(nlh->nlmsg_type, MSG(NFT_MSG_DELSETELEM));
	CHECK_EQ(parse_elems(nlh, &p), 0);
	CHECK_EQ(p.nelems, 0);
	free(f.buf);
	nft_batch_free(&bt);
	free(ptrs);
	free(ms);
}

struct rule_seen {
	int lookups, nats, immediates, cts, masqs;
	char set[CFG_NAME_MAX];		/* the last lookup's */
	char first_set[CFG_NAME_MAX];	/* the first lookup's */
};

static int
expr_cb(struct nftnl_expr *e, void *data)
{
	struct rule_seen *rs = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (strcmp(name, "lookup") == 0) {
		if (rs->lookups++ == 0)
			str_copy(rs->first_set, sizeof(rs->first_set),
				 nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
		str_copy(rs->set, sizeof(rs->set), nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
	} else if (strcmp(name, "nat") == 0) {
		rs->nats++;
	} else if (strcmp(name, "masq") == 0) {
		rs->masqs++;
	} else if (strcmp(name, "immediate") == 0) {
		rs->immediates++;
	} else if (strcmp(name, "ct") == 0) {
		rs->cts++;
	}
	return 0;
}

TEST(nft_rules_tagged_and_shaped)
{
	static const struct {
		const char *chain, *first_set, *last_set;
		int lookups, nats, masqs, accepts;
	} want[NFT_RULE_COUNT] = {
		[NFT_RULE_DNAT4_RH] = { "prerouting_miniupnpd", "igdd_ext4", "igdd_dnat4_rh", 2, 1, 0, 0 },
		[NFT_RULE_DNAT4] = { "prerouting_miniupnpd", "igdd_ext4", "igdd_dnat4", 2, 1, 0, 0 },
		[NFT_RULE_HAIR4] = { "prerouting_miniupnpd", "igdd_ext4", "igdd_dnat4", 2, 1, 0, 0 },
		[NFT_RULE_FWD4_RH] = { "miniupnpd", "igdd_fwd4_rh", "igdd_fwd4_rh", 1, 0, 0, 1 },
		[NFT_RULE_FWD4] = { "miniupnpd", "igdd_fwd4", "igdd_fwd4", 1, 0, 0, 1 },
		/* the LAN check in postrouting, in the nat table's lan4 (a drop
		 * verdict: an immediate; the forward set is in another table
		 * here: not looked up) and the count (off here, below) */
		[NFT_RULE_HAIRLAN4] = { "postrouting_miniupnpd", "igdd_ext4", "igdd_lan4", 2, 0, 0, 1 },
		[NFT_RULE_HAIRCTR4] = { "postrouting_miniupnpd", "igdd_ext4", "igdd_fwd4", 2, 0, 0, 0 },
		[NFT_RULE_MASQ4] = { "postrouting_miniupnpd", "igdd_ext4", "igdd_ext4", 1, 0, 1, 0 },
		[NFT_RULE_SNAT4_TCP] = { "postrouting_miniupnpd", "igdd_snat4", "igdd_snat4", 1, 0, 1, 0 },
		[NFT_RULE_SNAT4_UDP] = { "postrouting_miniupnpd", "igdd_snat4", "igdd_snat4", 1, 0, 1, 0 },
	};
	struct nft_layout l;
	struct nft_batch bt;
	struct flat f;
	uint64_t digest[NFT_RULE_COUNT], d = 1;
	int i, j;

	mk_layout(&l, true, false);
	CHECK_EQ(nft_batch_start(&bt, 1), 0);
	for (i = 0; i < NFT_RULE_COUNT; i++)
		CHECK_EQ(nft_msg_rule(&bt, &l, (enum nft_rule_id)i), 0);
	nft_batch_finish(&bt);
	flatten(&bt, &f);
	for (i = 0; i < NFT_RULE_COUNT; i++) {
		const struct nlmsghdr *nlh = nth_msg(&f, i + 1);
		struct nftnl_rule *r = nftnl_rule_alloc();
		struct rule_seen rs;
		const void *ud;
		uint32_t len = 0;

		memset(&rs, 0, sizeof(rs));
		CHECK(nlh != NULL && r != NULL);
		if (nlh == NULL || r == NULL)
			break;
		CHECK_EQ(nlh->nlmsg_type, MSG(NFT_MSG_NEWRULE));
		CHECK_EQ(nftnl_rule_nlmsg_parse(nlh, r), 0);
		ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
		/* the digest a start compares (rules_in_place()): the rule's,
		 * another rule's differs */
		CHECK(nft_udata_is_tagged(ud, len, &digest[i]));
		CHECK_EQ(nft_rule_digest(&l, (enum nft_rule_id)i, &d), 0);
		CHECK(d != 0 && d == digest[i]);
		for (j = 0; j < i; j++)
			CHECK(digest[j] != digest[i]);
		CHECK_STR(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), want[i].chain);
		nftnl_expr_foreach(r, expr_cb, &rs);
		/* nat rules: the destination is an external address first */
		CHECK_EQ(rs.lookups, want[i].lookups);
		CHECK_STR(rs.first_set, want[i].first_set);
		CHECK_STR(rs.set, want[i].last_set);
		CHECK_EQ(rs.nats, want[i].nats);
		CHECK_EQ(rs.masqs, want[i].masqs);
		CHECK_EQ(rs.immediates, want[i].accepts);
		nftnl_rule_free(r);
	}
	/* which rules a layout has, and where */
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_NAT), 3);
	/* the IPv4 forward rules, four pinhole lookups */
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_FORWARD), 6);
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_FORWARD6), 0);
	CHECK(!nft_chain_used(&l, NFT_CHAIN_FORWARD6));
	l.v6 = false;
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_FORWARD), 2);
	/* families split: the pinhole rules in the ip6 table's chain */
	l.v6 = true;
	l.pin_family = NFPROTO_IPV6;
	l.filter_family = NFPROTO_IPV4;
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_FORWARD), 2);
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_FORWARD6), 4);
	CHECK(nft_chain_used(&l, NFT_CHAIN_FORWARD6));
	/* the LAN check, the masquerade, the two SNAT rules */
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_POST), 4);
	CHECK(!nft_rule_on(&l, NFT_RULE_HAIRCTR4));
	/* one table: the DNAT element counts the hairpin there too */
	str_copy(l.filter_table, sizeof(l.filter_table), l.nat_table);
	l.nat_family = l.filter_family;
	CHECK(!nft_rule_on(&l, NFT_RULE_HAIRCTR4));
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_POST), 4);
	l.own = true;
	CHECK(nft_rule_on(&l, NFT_RULE_HAIRCTR4));
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_POST), 5);
	l.own = false;
	l.hairpin = false;
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_NAT), 2);
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_POST), 2);
	l.preserve = false;
	CHECK_EQ(nft_chain_rules(&l, NFT_CHAIN_POST), 0);
	/* Someone else's comment is not igdd's tag. */
	CHECK(!nft_udata_is_tagged("\x00\x05igdx", 7, NULL));
	CHECK(!nft_udata_is_tagged(NULL, 0, &d));
	CHECK_EQ(d, 0);
	/* a layout that changes a rule changes its digest */
	mk_layout(&l, true, false);
	CHECK_EQ(nft_rule_digest(&l, NFT_RULE_DNAT4, &d), 0);
	CHECK(d == digest[NFT_RULE_DNAT4]);
	str_copy(l.nat_table, sizeof(l.nat_table), "other");
	CHECK_EQ(nft_rule_digest(&l, NFT_RULE_DNAT4, &d), 0);
	CHECK(d != digest[NFT_RULE_DNAT4]);
	free(f.buf);
	nft_batch_free(&bt);
}

/* The hairpin's LAN check lives with the nat table (postrouting, lan4
 * there) whichever the filter table: with the forward sets in the nat
 * table it looks up fwd4 last (a mapping's internal side only). */
TEST(nft_hairpin_lan_check_in_nat_table)
{
	struct nft_layout l;
	struct nft_batch bt;
	struct nftnl_rule *r;
	struct rule_seen rs;
	struct flat f;
	uint16_t family;

	mk_layout(&l, true, false);
	CHECK(!nft_fwd_in_nat(&l));
	CHECK_STR(nft_set_table(&l, NFT_SET_LAN4, &family), l.nat_table);
	CHECK_EQ(nft_rule_chain(&l, NFT_RULE_HAIRLAN4), NFT_CHAIN_POST);
	CHECK(nft_rule_on(&l, NFT_RULE_HAIRLAN4));
	mk_layout(&l, false, false);
	CHECK(nft_fwd_in_nat(&l));
	CHECK_EQ(nft_batch_start(&bt, 1), 0);
	CHECK_EQ(nft_msg_rule(&bt, &l, NFT_RULE_HAIRLAN4), 0);
	nft_batch_finish(&bt);
	flatten(&bt, &f);
	memset(&rs, 0, sizeof(rs));
	r = nftnl_rule_alloc();
	CHECK(r != NULL && nth_msg(&f, 1) != NULL);
	if (r != NULL && nth_msg(&f, 1) != NULL) {
		CHECK_EQ(nftnl_rule_nlmsg_parse(nth_msg(&f, 1), r), 0);
		CHECK_STR(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), "postrouting");
		nftnl_expr_foreach(r, expr_cb, &rs);
		CHECK_EQ(rs.lookups, 3);
		CHECK_STR(rs.first_set, "ext4");
		CHECK_STR(rs.set, "fwd4");
		CHECK_EQ(rs.immediates, 1);
	}
	if (r != NULL)
		nftnl_rule_free(r);
	free(f.buf);
	nft_batch_free(&bt);
}

static int
count_expr_cb(struct nftnl_expr *e, void *data)
{
	(void)e;
	(*(int *)data)++;
	return 0;
}

/* The set's counter expressions as its NEWSET message carries them. */
static int
set_counters(const struct nft_layout *l, enum nft_set_id id)
{
	struct nft_batch bt;
	struct nftnl_set *s = nftnl_set_alloc();
	struct flat f = { NULL, 0 };
	int n = -1;

	if (s != NULL && nft_batch_start(&bt, 1) == 0) {
		if (nft_msg_set(&bt, l, id, NFT_MSG_NEWSET) == 0) {
			nft_batch_finish(&bt);
			flatten(&bt, &f);
			if (nth_msg(&f, 1) != NULL && nftnl_set_nlmsg_parse(nth_msg(&f, 1), s) == 0) {
				n = 0;
				nftnl_set_expr_foreach(s, count_expr_cb, &n);
			}
		}
		nft_batch_free(&bt);
	}
	free(f.buf);
	if (s != NULL)
		nftnl_set_free(s);
	return n;
}

/* Integrated, the DNAT maps count (the firewall may accept a mapping's
 * flows before igdd's forward chain, or the hairpin cannot count in the
 * forward sets), in one table or two, hairpin or not; igdd's own table
 * counts in its forward sets alone (a hairpinned flow's first packet in
 * postrouting: hairctr, only there). */
TEST(nft_dnat_maps_count_when_integrated)
{
	struct nft_layout l;

	mk_layout(&l, true, false);
	CHECK(l.hairpin && !nft_fwd_in_nat(&l));
	CHECK(nft_set_counts(&l, NFT_SET_DNAT4));
	CHECK_EQ(set_counters(&l, NFT_SET_DNAT4), 1);
	CHECK(nft_set_counts(&l, NFT_SET_DNAT4_RH));
	CHECK_EQ(set_counters(&l, NFT_SET_DNAT4_RH), 1);
	CHECK_EQ(set_counters(&l, NFT_SET_FWD4), 1);
	CHECK_EQ(set_counters(&l, NFT_SET_SNAT4), 0);
	CHECK_EQ(set_counters(&l, NFT_SET_EXT4), 0);
	l.hairpin = false;
	CHECK_EQ(set_counters(&l, NFT_SET_DNAT4), 1);
	/* one table, the firewall's (fw4's layout) */
	str_copy(l.nat_table, sizeof(l.nat_table), l.filter_table);
	l.hairpin = true;
	CHECK(nft_fwd_in_nat(&l));
	CHECK_EQ(set_counters(&l, NFT_SET_DNAT4), 1);
	CHECK_EQ(set_counters(&l, NFT_SET_DNAT4_RH), 1);
	mk_layout(&l, false, false);
	CHECK(l.hairpin && nft_fwd_in_nat(&l));
	CHECK(!nft_set_counts(&l, NFT_SET_DNAT4));
	CHECK_EQ(set_counters(&l, NFT_SET_DNAT4), 0);
	CHECK_EQ(set_counters(&l, NFT_SET_DNAT4_RH), 0);
	CHECK_EQ(set_counters(&l, NFT_SET_FWD4), 1);
	CHECK_EQ(set_counters(&l, NFT_SET_FWD4_RH), 1);
}

TEST(nft_layout_needs_ext_if)
{
	struct nft_layout l;
	struct config cfg;

	conf_defaults(&cfg);
	CHECK_EQ(nft_layout_init(&l, &cfg, false), -1);
	str_copy(cfg.ext_ifname, sizeof(cfg.ext_ifname), "wan0");
	cfg.fw_integrate = true;
	cfg.upnp_nftables_family_split = true;
	CHECK_EQ(nft_layout_init(&l, &cfg, false), 0);
	CHECK_EQ(l.filter_family, NFPROTO_IPV4);
	CHECK_STR(l.nat_chain, "prerouting_miniupnpd");
	CHECK(!l.own);
}

/* IPv6 pinholes: each in the one set of what it names of the remote side,
 * exact keys: pin6_rh rhost . rport . daddr . proto . dport, pin6_rhost
 * rhost . daddr . proto . dport, pin6_rport rport . daddr . proto . dport,
 * pin6 daddr . proto . dport.  Overlapping pinholes of one internal side
 * are distinct elements (an interval set refused one inside another). */
TEST(nft_pinhole_keys_and_sets)
{
	static const enum nft_set_id pins[] = { NFT_SET_PIN6_RH, NFT_SET_PIN6_RHOST,
						NFT_SET_PIN6_RPORT, NFT_SET_PIN6 };
	static const struct { const char *rhost; uint16_t rport; enum nft_set_id set; size_t len; }
	v[] = {
		{ NULL, 0, NFT_SET_PIN6, 24 },
		{ NULL, 4000, NFT_SET_PIN6_RPORT, 28 },
		{ "2001:db8:ff::1", 0, NFT_SET_PIN6_RHOST, 40 },
		{ "2001:db8:ff::1", 4000, NFT_SET_PIN6_RH, 44 },
		{ "::", 4000, NFT_SET_PIN6_RPORT, 28 },		/* :: is any host */
	};
	struct mapping m;
	uint8_t key[NFT_KEY_MAX];
	enum nft_set_id d, f;
	struct nft_layout l;
	struct nft_batch bt;
	struct flat fl;
	struct parsed p;
	struct nftnl_set *s;
	static const uint8_t daddr[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10 };
	static const uint8_t rhost[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, [15] = 1 };
	static const uint8_t tail[8] = { 6, 0, 0, 0, 0, 22, 0, 0 };
	static const uint8_t rport[4] = { 0x0f, 0xa0, 0, 0 };
	size_t i, k;

	mk_layout(&l, false, true);
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		size_t n = 0;

		mk_mapping(&m, IPPROTO_TCP, 7, "2001:db8:1::10", 22, v[i].rhost);
		m.rport = v[i].rport;
		m.expires = 1000 + 30000;
		CHECK(mapping_is_pinhole(&m));
		nft_mapping_sets(&m, &d, &f);
		CHECK(d == v[i].set && f == v[i].set);
		for (k = 0; k < ARRAY_SIZE(pins); k++)
			CHECK_EQ(nft_elem_key(&l, pins[k], &m, key), pins[k] == v[i].set ? v[i].len : 0);
		CHECK_EQ(nft_elem_key(&l, NFT_SET_FWD4, &m, key), 0);
		CHECK_EQ(nft_elem_key(&l, v[i].set, &m, key), v[i].len);
		if (v[i].set == NFT_SET_PIN6_RH || v[i].set == NFT_SET_PIN6_RHOST) {
			CHECK(memcmp(key, rhost, 16) == 0);
			n = 16;
		}
		if (v[i].rport != 0) {
			CHECK(memcmp(key + n, rport, 4) == 0);
			n += 4;
		}
		CHECK(memcmp(key + n, daddr, 16) == 0 && memcmp(key + n + 16, tail, 8) == 0);
	}

	/* messages: the element carries its timeout; the set is a hash set */
	CHECK(l.v6 && nft_set_used(&l, NFT_SET_PIN6) && !nft_rule_on(&l, NFT_RULE_V6_DROP));
	for (k = 0; k < ARRAY_SIZE(pins); k++)
		CHECK(nft_set_used(&l, pins[k]));
	mk_mapping(&m, IPPROTO_TCP, 7, "2001:db8:1::10", 22, "2001:db8:ff::1");
	m.rport = 4000;
	m.expires = 40000;
	CHECK_EQ(nft_batch_start(&bt, 1), 0);
	CHECK_EQ(nft_msg_elems(&bt, &l, NFT_SET_PIN6_RH, NFT_MSG_NEWSETELEM,
			       (const struct mapping *const[]){ &m }, 1, 10000), 0);
	CHECK_EQ(nft_msg_set(&bt, &l, NFT_SET_PIN6_RH, NFT_MSG_NEWSET), 0);
	CHECK_EQ(nft_msg_set(&bt, &l, NFT_SET_PIN6_RPORT, NFT_MSG_NEWSET), 0);
	nft_batch_finish(&bt);
	flatten(&bt, &fl);
	CHECK_EQ(parse_elems(nth_msg(&fl, 1), &p), 0);
	CHECK_STR(p.set, "pin6_rh");
	CHECK_EQ(p.keylen, 44);
	CHECK_EQ(p.timeout, 30000 + NFT_GRACE_MS);
	for (k = 2; k <= 3; k++) {
		s = nftnl_set_alloc();
		CHECK(s != NULL && nftnl_set_nlmsg_parse(nth_msg(&fl, k), s) == 0);
		if (s != NULL) {
			uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
			CHECK(!(flags & NFT_SET_INTERVAL));
			CHECK(flags & NFT_SET_TIMEOUT);
			CHECK_EQ(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), k == 2 ? 44 : 28);
			CHECK_STR(nftnl_set_get_str(s, NFTNL_SET_NAME), k == 2 ? "pin6_rh" : "pin6_rport");
			nftnl_set_free(s);
		}
	}
	free(fl.buf);
	nft_batch_free(&bt);
}

/* ipv6_block_inbound: three more rules in the own table; never when
 * integrating (the router's chain decides); none with ipv6_disable. */
TEST(nft_layout_ipv6_rules)
{
	struct nft_layout l;
	struct config cfg;

	conf_defaults(&cfg);
	str_copy(cfg.ext_ifname, sizeof(cfg.ext_ifname), "wan0");
	str_copy(cfg.ext_ifname6, sizeof(cfg.ext_ifname6), "wan6");
	cfg.ipv6_block_inbound = true;
	CHECK_EQ(nft_layout_init(&l, &cfg, true), 0);
	CHECK_STR(l.ext_ifname6, "wan6");
	CHECK(nft_rule_on(&l, NFT_RULE_PIN6) && nft_rule_on(&l, NFT_RULE_V6_DROP));
	CHECK_EQ(l.pin_family, NFPROTO_INET);
	cfg.fw_integrate = true;
	cfg.upnp_nftables_family_split = true;
	CHECK_EQ(nft_layout_init(&l, &cfg, true), 0);
	CHECK(!nft_rule_on(&l, NFT_RULE_V6_DROP) && nft_rule_on(&l, NFT_RULE_PIN6_RH) &&
	      nft_rule_on(&l, NFT_RULE_PIN6_RHOST) && nft_rule_on(&l, NFT_RULE_PIN6_RPORT));
	CHECK_EQ(l.pin_family, NFPROTO_IPV6);
	cfg.ipv6_disable = true;
	CHECK_EQ(nft_layout_init(&l, &cfg, true), 0);
	CHECK(!nft_rule_on(&l, NFT_RULE_PIN6) && !nft_set_used(&l, NFT_SET_PIN6));
}

/* PCP PEER's conntrack messages: a create carries both tuples, the
 * timeout and (IPv4) the source NAT; the reply tuple's destination is
 * read back as the flow's external side. */
#include <linux/netfilter/nfnetlink_conntrack.h>
#include "ct.h"

static int
ct_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(attr) <= CTA_MAX)
		tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

TEST(ct_peer_messages)
{
	char buf[1024];
	const struct nlattr *tb[CTA_MAX + 1] = { NULL };
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct nlattr *nest, *ip, *pr;
	struct ct_peer p;
	struct in6_addr ext, want;
	uint16_t eport;
	struct in_addr a;
	size_t len;

	memset(&p, 0, sizeof(p));
	p.proto = IPPROTO_UDP;
	addr_parse("192.168.77.10", &p.iaddr);
	addr_parse("198.51.100.2", &p.peer);
	p.iport = 9700;
	p.pport = 80;
	p.lifetime = 600;
	inet_pton(AF_INET, "198.51.100.1", &p.nat_addr);
	len = ct_msg(buf, sizeof(buf), IPCTNL_MSG_CT_NEW, 7, &p, true, 8700, 8700);
	CHECK(len > 0);
	CHECK_EQ(nlh->nlmsg_type, (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW);
	CHECK(nlh->nlmsg_flags & NLM_F_CREATE);
	CHECK_EQ(mnl_attr_parse(nlh, sizeof(struct nfgenmsg), ct_attr_cb, tb), MNL_CB_OK);
	CHECK(tb[CTA_TUPLE_ORIG] != NULL && tb[CTA_TUPLE_REPLY] != NULL &&
	      tb[CTA_TIMEOUT] != NULL && tb[CTA_NAT_SRC] != NULL);
	if (tb[CTA_TIMEOUT] != NULL)
		CHECK_EQ(ntohl(mnl_attr_get_u32(tb[CTA_TIMEOUT])), 600);
	/* a get has the original tuple only */
	memset(tb, 0, sizeof(tb));
	len = ct_msg(buf, sizeof(buf), IPCTNL_MSG_CT_GET, 8, &p, false, 0, 0);
	CHECK_EQ(mnl_attr_parse(nlh, sizeof(struct nfgenmsg), ct_attr_cb, tb), MNL_CB_OK);
	CHECK(tb[CTA_TUPLE_ORIG] != NULL && tb[CTA_TUPLE_REPLY] == NULL && tb[CTA_NAT_SRC] == NULL);
	/* the kernel's answer: reply tuple peer -> 198.51.100.1:8700 */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	nest = mnl_attr_nest_start(nlh, CTA_TUPLE_REPLY);
	ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);
	mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, &p.peer.s6_addr[12]);
	mnl_attr_put(nlh, CTA_IP_V4_DST, 4, &p.nat_addr.s_addr);
	mnl_attr_nest_end(nlh, ip);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(80));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(8700));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, nest);
	CHECK_EQ(ct_parse_reply(nlh, &ext, &eport), 0);
	a = p.nat_addr;
	addr_from_v4(&want, a);
	CHECK(addr_eq(&ext, &want));
	CHECK_EQ(eport, 8700);
	/* not a conntrack message */
	nlh->nlmsg_type = NLMSG_ERROR;
	CHECK_EQ(ct_parse_reply(nlh, &ext, &eport), -1);
}

/* The generations of other processes' transactions that a reconcile's
 * dump may let pass: every one between two parts, or it reads again. */
TEST(nft_gen_ring_covers_only_every_generation)
{
	static struct nft_gen_ring r;
	uint32_t g, first, last;
	int i;

	nft_gen_ring_reset(&r);
	CHECK(nft_gen_ring_covers(&r, 7, 7));		/* no move */
	CHECK(!nft_gen_ring_covers(&r, 7, 8));
	nft_gen_ring_add(&r, 8);
	nft_gen_ring_add(&r, 9);
	nft_gen_ring_add(&r, 11);			/* 10: igdd's own, or unheard */
	CHECK(nft_gen_ring_covers(&r, 7, 9));
	CHECK(nft_gen_ring_covers(&r, 8, 9));
	CHECK(!nft_gen_ring_covers(&r, 7, 11));
	CHECK(!nft_gen_ring_covers(&r, 9, 11));
	CHECK(nft_gen_ring_covers(&r, 10, 11));
	CHECK(!nft_gen_ring_covers(&r, 11, 12));
	CHECK(!nft_gen_ring_covers(&r, 9, 7));		/* backwards */
	/* one not after the last (a listener started again): only it is left */
	nft_gen_ring_add(&r, 9);
	CHECK(!nft_gen_ring_covers(&r, 7, 8));
	CHECK(nft_gen_ring_covers(&r, 8, 9));
	/* across the wrap of 32 bits (the kernel skips 0); the oldest go
	 * when it is full */
	nft_gen_ring_reset(&r);
	first = 0u - NFT_GEN_RING / 2;
	for (g = first; r.n < NFT_GEN_RING; g++)
		if (g != 0)
			nft_gen_ring_add(&r, g);
	last = g - 1;
	CHECK_EQ(last, NFT_GEN_RING / 2);
	CHECK(nft_gen_ring_covers(&r, 0xfffffff0u, 0x10u));
	CHECK(nft_gen_ring_covers(&r, 0xfffffffeu, 1));
	CHECK(nft_gen_ring_covers(&r, first - 1, last));
	nft_gen_ring_add(&r, last + 1);
	CHECK(!nft_gen_ring_covers(&r, first - 1, last));	/* the first gone */
	CHECK(nft_gen_ring_covers(&r, first, last + 1));
	CHECK(!nft_gen_ring_covers(&r, first - 1, last + 1));	/* more than it holds */
	/* jumps that go round the 32-bit circle: never a generation twice */
	nft_gen_ring_reset(&r);
	for (g = 5, i = 0; i < 5; g += 0x40000000u, i++)	/* 5 ... 5 again */
		nft_gen_ring_add(&r, g);
	CHECK(r.n <= 2);
	CHECK(nft_gen_ring_covers(&r, 4, 5));
	/* one missing just after the wrap */
	nft_gen_ring_reset(&r);
	nft_gen_ring_add(&r, 0xffffffffu);
	nft_gen_ring_add(&r, 2);
	CHECK(!nft_gen_ring_covers(&r, 0xfffffffeu, 2));
}

/* Generations: a span's length (no 0 across the wrap), the 32-bit one of
 * a message's low 16 bits. */
TEST(nft_gen_span_and_low_bits)
{
	CHECK_EQ(nft_gen_span_len(7, 7), 0);
	CHECK_EQ(nft_gen_span_len(7, 10), 3);
	CHECK_EQ(nft_gen_span_len(0xfffffffeu, 2), 3);	/* ffffffff, 1, 2 */
	CHECK(nft_gen_in(8, 7, 10) && nft_gen_in(10, 7, 10));
	CHECK(!nft_gen_in(7, 7, 10) && !nft_gen_in(11, 7, 10));
	CHECK(nft_gen_in(1, 0xfffffff0u, 5));
	CHECK_EQ(nft_gen_from16(0x1fff0u, 0xfff0), 0x1fff0u);
	CHECK_EQ(nft_gen_from16(0x1fff0u, 0xfff5), 0x1fff5u);
	CHECK_EQ(nft_gen_from16(0x1fff0u, 0x0005), 0x20005u);	/* 16-bit rollover */
	CHECK_EQ(nft_gen_from16(0xfffffff0u, 0x0002), 2);	/* 32-bit: 0 skipped */
	CHECK_EQ(nft_gen_from16(0xffffffffu, 0x0001), 1);
}

/* The listener's view of other processes' transactions: a NEWGEN counts
 * (heard) after its sender's notifications, as clean only when igdd
 * listened since the NEWGEN before it and none named igdd's objects. */
TEST(nft_heard_whole_and_clean)
{
	struct nft_heard h;

	nft_heard_reset(&h);
	/* the listener just came on: the first transaction may have begun
	 * unheard, so heard but not clean */
	nft_heard_note(&h, 100, false);
	CHECK_EQ(nft_heard_newgen(&h, 100, true), NFT_HEARD_SOME);
	/* the next one: clean */
	nft_heard_note(&h, 100, false);
	nft_heard_note(&h, 100, false);
	CHECK_EQ(nft_heard_newgen(&h, 100, true), NFT_HEARD_SOME | NFT_HEARD_CLEAN);
	/* one naming igdd's objects: heard, not clean */
	nft_heard_note(&h, 200, false);
	nft_heard_note(&h, 200, true);
	CHECK_EQ(nft_heard_newgen(&h, 200, true), NFT_HEARD_SOME);
	/* the next is clean again (the mark is the transaction's) */
	nft_heard_note(&h, 200, false);
	CHECK_EQ(nft_heard_newgen(&h, 200, true), NFT_HEARD_SOME | NFT_HEARD_CLEAN);
	/* a NEWGEN alone (its notifications built while nobody listened) */
	CHECK_EQ(nft_heard_newgen(&h, 300, true), 0);
	/* another sender's NEWGEN after one's notifications (a NEWGEN lost) */
	nft_heard_note(&h, 100, false);
	CHECK_EQ(nft_heard_newgen(&h, 300, true), 0);
	/* two senders' notifications before one NEWGEN: not clean */
	nft_heard_note(&h, 100, false);
	nft_heard_note(&h, 300, false);
	CHECK_EQ(nft_heard_newgen(&h, 300, true), NFT_HEARD_SOME);
	/* the listener off and on again (igdd's own commit): the first after
	 * it is heard from where igdd joined, not clean */
	nft_heard_note(&h, 100, false);
	nft_heard_reset(&h);
	nft_heard_note(&h, 100, false);
	CHECK_EQ(nft_heard_newgen(&h, 100, true), NFT_HEARD_SOME);
	nft_heard_note(&h, 100, false);
	CHECK_EQ(nft_heard_newgen(&h, 100, true), NFT_HEARD_SOME | NFT_HEARD_CLEAN);
	/* on again, and a transaction queued before it went off read now:
	 * it does not make the next one heard from its start */
	nft_heard_reset(&h);
	nft_heard_note(&h, 100, false);
	CHECK_EQ(nft_heard_newgen(&h, 100, false), NFT_HEARD_SOME);
	nft_heard_note(&h, 100, false);
	CHECK_EQ(nft_heard_newgen(&h, 100, true), NFT_HEARD_SOME);
	nft_heard_note(&h, 100, false);
	CHECK_EQ(nft_heard_newgen(&h, 100, true), NFT_HEARD_SOME | NFT_HEARD_CLEAN);
}

/* A notification in a buffer: type, family, attributes 1..3 (NULL: none). */
static const struct nlmsghdr *
ev_msg(char *buf, uint16_t type, uint8_t family, const char *a1, const char *a2, const char *a3)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | type);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	if (a1 != NULL)
		mnl_attr_put_strz(nlh, 1, a1);
	if (a2 != NULL)
		mnl_attr_put_strz(nlh, 2, a2);
	if (a3 != NULL)
		mnl_attr_put_strz(nlh, 3, a3);
	return nlh;
}

/* What another process's notification says of igdd's objects, in a
 * firewall's table igdd shares (fw4): its sets' elements and its chains'
 * rules are igdd's; the firewall's own sets, rules and objects are not; a
 * type not known here in that table may be. */
TEST(nft_event_kind_in_a_shared_table)
{
	static char buf[1024];
	struct nft_layout l;
	const char *dnat, *t;
	uint8_t fam;
	bool ours;

	mk_layout(&l, true, true);
	t = l.filter_table;
	fam = (uint8_t)l.filter_family;
	dnat = l.set_name[NFT_SET_DNAT4];
	CHECK_STR(t, "fw4");
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_NEWSETELEM, fam, t, dnat, NULL), &ours),
		 FW_EV_ELEMS);
	CHECK(ours);
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_DELSETELEM, fam, t, "banip4", NULL), &ours), 0);
	CHECK(!ours);
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_NEWSETELEM, fam, "banip", dnat, NULL), &ours),
		 0);
	CHECK(!ours);
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_NEWSETELEM, fam, t, NULL, NULL), &ours), 0);
	CHECK(ours);				/* which set: not said */
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_NEWRULE, fam, t, "forward_wan", NULL), &ours),
		 0);
	CHECK(!ours);
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_DELRULE, fam, t, l.forward_chain, NULL), &ours),
		 FW_EV_OBJECTS);
	CHECK(ours);
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_NEWCHAIN, fam, t, NULL, l.nat_chain), &ours),
		 FW_EV_OBJECTS);
	CHECK(ours);
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_NEWOBJ, fam, t, "quota1", NULL), &ours), 0);
	CHECK(!ours);
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_NEWTABLE, fam, t, NULL, NULL), &ours),
		 FW_EV_OBJECTS);
	CHECK(ours);
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, 0x3e, fam, t, "x", NULL), &ours), 0);
	CHECK(ours);				/* a type not known here */
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, 0x3e, fam, "other", "x", NULL), &ours), 0);
	CHECK(!ours);
	/* the same names in another family's table: not igdd's */
	CHECK_EQ(nft_event_kind(&l, ev_msg(buf, NFT_MSG_NEWSETELEM, NFPROTO_BRIDGE, t, dnat, NULL),
				&ours), 0);
	CHECK(!ours);
}
