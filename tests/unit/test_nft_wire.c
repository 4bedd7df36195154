/* test_nft_wire.c - the element messages nft_msg.c writes itself (libmnl,
 * straight into the batch page) are, byte for byte, those libnftnl's
 * set and element objects made (nftnl_set_elems_nlmsg_build_payload), the
 * encoding kept here as the reference: every set of every layout, with
 * and without element timeouts, add, delete and destroy, a flush, 1,
 * NFT_ELEMS_PER_MSG and NFT_ELEMS_PER_MSG + 1 elements, page splits, a
 * quiet batch, a mapping without an element in the middle of a message. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "conf.h"
#include "mapping.h"
#include "nft_msg.h"
#include "unit.h"
#include "util.h"

#define MANY	(NFT_ELEMS_PER_MSG + 1)
#define REF_BUF	(32 * 1024)	/* > any one element message */

/* ---- the reference: libnftnl objects, one per element ---- */

/* The sets whose elements carry the lease's timeout (nft_msg.h: the
 * DNAT maps and the pinhole sets; shared forward and SNAT elements and
 * ext4, lan4 never). */
static bool
ref_times_out(enum nft_set_id id)
{
	return id == NFT_SET_DNAT4_RH || id == NFT_SET_DNAT4 || id >= NFT_SET_COUNT;
}

static struct nftnl_set *
ref_set(const struct nft_layout *l, enum nft_set_id id, uint16_t *family)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s == NULL)
		abort();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, nft_set_table(l, id, family));
	nftnl_set_set_str(s, NFTNL_SET_NAME, l->set_name[id]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, *family);
	return s;
}

/* s's elements as one message appended to bt, with the header, sequence
 * number and flags nft_msg.c gives a message. */
static int
ref_msg(struct nft_batch *bt, struct nftnl_set *s, uint16_t type, uint16_t family)
{
	union { struct nlmsghdr h; uint8_t b[REF_BUF]; } buf;
	uint16_t flags = type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0;
	struct nlmsghdr *nlh;

	if (!bt->quiet)
		flags |= NLM_F_ACK;
	memset(buf.b, 0, sizeof(buf.b));	/* attributes' padding: zeros */
	nlh = nftnl_nlmsg_build_hdr((char *)buf.b, type, family, flags, bt->seq_next++);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	return nft_batch_append(bt, nlh);
}

static struct nftnl_set_elem *
ref_elem(const void *key, size_t klen, const void *end, size_t elen)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	if (e == NULL)
		abort();
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)klen);
	if (elen > 0)
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, end, (uint32_t)elen);
	return e;
}

/* m's element as nft_msg.c's libnftnl encoding made it; -1 when m has
 * none in set id. */
static int
ref_elem_add(struct nftnl_set *s, const struct nft_layout *l, enum nft_set_id id, uint16_t type,
	     const struct mapping *m, uint64_t now_ms)
{
	uint8_t key[NFT_KEY_MAX], data[NFT_KEY_MAX];
	struct nftnl_set_elem *e;
	size_t kl, dl;

	if ((kl = nft_elem_key(l, id, m, key)) == 0)
		return -1;
	e = ref_elem(key, kl, NULL, 0);
	if (type == NFT_MSG_NEWSETELEM) {
		if ((dl = nft_elem_data(id, m, data)) > 0)
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, (uint32_t)dl);
		if (l->timeouts && ref_times_out(id) && m->expires != 0) {
			uint64_t left = m->expires > now_ms ? m->expires - now_ms : 0;

			if (left > NFT_TIMEOUT_MAX_MS - NFT_GRACE_MS)
				left = NFT_TIMEOUT_MAX_MS - NFT_GRACE_MS;
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, left + NFT_GRACE_MS);
		}
	}
	nftnl_set_elem_add(s, e);
	return 0;
}

/* nft_msg_elems() as it was: a set object per message of at most
 * NFT_ELEMS_PER_MSG elements, an element object per mapping. */
static int
ref_elems(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id, uint16_t type,
	  const struct mapping *const *ms, size_t n, uint64_t now_ms)
{
	struct nftnl_set *s = NULL;
	size_t i, in_msg = 0;
	uint16_t family;
	int rc = 0;

	if (n == 0) {
		s = ref_set(l, id, &family);
		rc = ref_msg(bt, s, type, family);
		nftnl_set_free(s);
		return rc;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (s == NULL)
			s = ref_set(l, id, &family);
		rc = ref_elem_add(s, l, id, type, ms[i], now_ms);
		if (rc == 0 && (++in_msg == NFT_ELEMS_PER_MSG || i + 1 == n)) {
			rc = ref_msg(bt, s, type, family);
			nftnl_set_free(s);
			s = NULL;
			in_msg = 0;
		}
	}
	if (s != NULL)
		nftnl_set_free(s);
	return rc;
}

/* A flush of set id and n keys (and ends) of klen bytes in one message. */
static int
ref_put_keys(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
	     const uint8_t *keys, const uint8_t *ends, size_t klen, size_t n)
{
	struct nftnl_set *s;
	uint16_t family;
	size_t i;
	int rc;

	if (ref_elems(bt, l, id, NFT_MSG_DELSETELEM, NULL, 0, 0) < 0)
		return -1;
	if (n == 0)
		return 0;
	s = ref_set(l, id, &family);
	for (i = 0; i < n; i++)
		nftnl_set_elem_add(s, ref_elem(keys + i * klen, klen,
					       ends != NULL ? ends + i * klen : NULL,
					       ends != NULL ? klen : 0));
	rc = ref_msg(bt, s, NFT_MSG_NEWSETELEM, family);
	nftnl_set_free(s);
	return rc;
}

/* nft_msg_elem_key() as it was: one element, its key alone. */
static int
ref_elem_key(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
	     uint16_t type, const uint8_t *key, size_t klen)
{
	struct nftnl_set *s;
	uint16_t family;
	int rc;

	s = ref_set(l, id, &family);
	nftnl_set_elem_add(s, ref_elem(key, klen, NULL, 0));
	rc = ref_msg(bt, s, type, family);
	nftnl_set_free(s);
	return rc;
}

/* ---- comparing ---- */

/* Do the two batches hold the same pages, byte for byte, and the same
 * counts?  A failure says what (label) and where. */
static bool
same_batch(struct nft_batch *got, struct nft_batch *want, const char *label)
{
	struct iovec *gi = NULL, *wi = NULL;
	int gn = 0, wn = 0, i;
	bool same;
	char m[256];

	same = nft_batch_iov(got, &gi, &gn) == 0 && nft_batch_iov(want, &wi, &wn) == 0 &&
	       gn == wn && got->seq_next == want->seq_next && got->n_msg == want->n_msg &&
	       got->n_ack == want->n_ack;
	for (i = 0; same && i < gn; i++)
		same = gi[i].iov_len == wi[i].iov_len &&
		       memcmp(gi[i].iov_base, wi[i].iov_base, gi[i].iov_len) == 0;
	if (!same) {
		snprintf(m, sizeof(m), "%s: batches differ (pages %d/%d, page %d, msgs %u/%u)",
			 label, gn, wn, i - 1, got->n_msg, want->n_msg);
		unit_fail(__FILE__, __LINE__, m);
	}
	free(gi);
	free(wi);
	return same;
}

/* Messages in the batch's pages. */
static unsigned
batch_msgs(struct nft_batch *bt)
{
	struct iovec *iov;
	unsigned n = 0;
	int i, k;

	if (nft_batch_iov(bt, &iov, &k) < 0)
		return 0;
	for (i = 0; i < k; i++) {
		const struct nlmsghdr *nlh = iov[i].iov_base;
		int left = (int)iov[i].iov_len;

		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
			n++;
	}
	free(iov);
	return n;
}

/* ---- the cases ---- */

struct addrs {
	struct in6_addr any, v4[3], rh4[2], v6[3], rh6[2];
};

static void
mk_addrs(struct addrs *a)
{
	static const char *const v4[] = { "::ffff:192.168.77.10", "::ffff:192.168.77.200",
					  "::ffff:10.0.0.1" };
	static const char *const rh4[] = { "::ffff:203.0.113.9", "::ffff:198.51.100.250" };
	static const char *const v6[] = { "2001:db8:1::10", "2001:db8:1::ffff", "fd00::1" };
	static const char *const rh6[] = { "2001:db8:ff::1", "2a00:1450::200e" };
	size_t i;
	int rc = addr_parse("::", &a->any);

	for (i = 0; i < 3; i++)
		rc |= addr_parse(v4[i], &a->v4[i]) | addr_parse(v6[i], &a->v6[i]);
	for (i = 0; i < 2; i++)
		rc |= addr_parse(rh4[i], &a->rh4[i]) | addr_parse(rh6[i], &a->rh6[i]);
	if (rc != 0)
		abort();
}

/* Mapping i of set id: of that set, its fields varied (protocol, ports,
 * addresses, a pinhole's remote host and port), its expiry: none, ahead,
 * past, beyond the largest timeout. */
static void
mk_elem_mapping(struct mapping *m, const struct addrs *a, enum nft_set_id id, size_t i,
		uint64_t now)
{
	static const uint64_t ahead[4] = { 0, 30000, 0, UINT64_MAX / 2 };
	bool rh = id == NFT_SET_DNAT4_RH || id == NFT_SET_FWD4_RH;
	bool pin = id >= NFT_SET_COUNT;

	memset(m, 0, sizeof(*m));
	m->proto = i % 2 ? IPPROTO_UDP : IPPROTO_TCP;
	m->eport = (uint16_t)(1 + i * 997);
	m->iport = (uint16_t)(65535 - i * 13);
	m->iaddr = pin ? &a->v6[i % 3] : &a->v4[i % 3];
	m->rhost = rh ? &a->rh4[i % 2] : &a->any;
	if (id == NFT_SET_PIN6_RH || id == NFT_SET_PIN6_RHOST)	/* a remote host */
		m->rhost = &a->rh6[i % 2];
	if (id == NFT_SET_PIN6_RH || id == NFT_SET_PIN6_RPORT)	/* a remote port */
		m->rport = (uint16_t)(1000 + i);
	m->expires = i % 4 == 0 ? 0 : i % 4 == 2 ? now - 5 - i : now + ahead[i % 4] + i;
}

static const enum nft_set_id elem_sets[] = {
	NFT_SET_DNAT4_RH, NFT_SET_DNAT4, NFT_SET_FWD4_RH, NFT_SET_FWD4, NFT_SET_SNAT4,
	NFT_SET_PIN6_RH, NFT_SET_PIN6_RHOST, NFT_SET_PIN6_RPORT, NFT_SET_PIN6,
};
static const uint16_t elem_types[] = {
	NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM, NFT_MSG_DESTROYSETELEM_,
};
static const size_t elem_counts[] = { 0, 1, NFT_ELEMS_PER_MSG, MANY };

/* Every set, type and count of layout l, each alone and all of them in
 * one long batch (many pages), in both encodings. */
static void
check_layout(const struct nft_layout *l, const char *name)
{
	struct mapping ms[MANY];
	const struct mapping *ptrs[MANY];
	struct nft_batch all_got, all_want, got, want;
	uint64_t now = 5000000;
	struct addrs a;
	size_t s, t, c, i;
	char label[160];

	mk_addrs(&a);
	CHECK_EQ(nft_batch_start(&all_got, 7), 0);
	CHECK_EQ(nft_batch_start(&all_want, 7), 0);
	for (s = 0; s < ARRAY_SIZE(elem_sets); s++) {
		for (i = 0; i < MANY; i++) {
			mk_elem_mapping(&ms[i], &a, elem_sets[s], i, now);
			ptrs[i] = &ms[i];
		}
		for (t = 0; t < ARRAY_SIZE(elem_types); t++) {
			for (c = 0; c < ARRAY_SIZE(elem_counts); c++) {
				size_t n = elem_counts[c];

				snprintf(label, sizeof(label), "%s set %s type %u n %zu", name,
					 l->set_name[elem_sets[s]], elem_types[t], n);
				CHECK_EQ(nft_batch_start(&got, 100), 0);
				CHECK_EQ(nft_batch_start(&want, 100), 0);
				CHECK_EQ(nft_msg_elems(&got, l, elem_sets[s], elem_types[t], ptrs,
						       n, now), 0);
				CHECK_EQ(ref_elems(&want, l, elem_sets[s], elem_types[t], ptrs,
						   n, now), 0);
				nft_batch_finish(&got);
				nft_batch_finish(&want);
				CHECK_EQ(batch_msgs(&got),
					 2 + (n == 0 ? 1 : (n + NFT_ELEMS_PER_MSG - 1) /
						  NFT_ELEMS_PER_MSG));
				same_batch(&got, &want, label);
				nft_batch_free(&got);
				nft_batch_free(&want);
				CHECK_EQ(nft_msg_elems(&all_got, l, elem_sets[s], elem_types[t],
						       ptrs, n, now), 0);
				CHECK_EQ(ref_elems(&all_want, l, elem_sets[s], elem_types[t],
						   ptrs, n, now), 0);
			}
		}
	}
	nft_batch_finish(&all_got);
	nft_batch_finish(&all_want);
	CHECK(nft_batch_len(&all_got) > 3 * 16 * 1024);	/* several pages */
	snprintf(label, sizeof(label), "%s: all in one batch", name);
	same_batch(&all_got, &all_want, label);
	nft_batch_free(&all_got);
	nft_batch_free(&all_want);
}

static void
wire_layout(struct nft_layout *l, bool integrate, bool split, bool timeouts)
{
	struct config cfg;

	conf_defaults(&cfg);
	str_copy(cfg.ext_ifname, sizeof(cfg.ext_ifname), "wan0");
	cfg.fw_integrate = integrate;
	cfg.upnp_nftables_family_split = split;
	if (integrate)
		str_copy(cfg.upnp_nat_table_name, sizeof(cfg.upnp_nat_table_name), "nat_fw4");
	CHECK_EQ(nft_layout_init(l, &cfg, timeouts), 0);
	l->hairpin = l->preserve = true;
}

TEST(nft_wire_elems_as_libnftnl)
{
	static const struct { bool integrate, split, timeouts; const char *name; } v[] = {
		{ false, false, true, "own, timeouts" },
		{ false, false, false, "own, no timeouts" },
		{ true, false, true, "integrated, timeouts" },
		{ true, false, false, "integrated, no timeouts" },
		{ true, true, true, "integrated, families split" },
	};
	struct nft_layout l;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		wire_layout(&l, v[i].integrate, v[i].split, v[i].timeouts);
		CHECK(nft_set_used(&l, NFT_SET_PIN6_RH));
		check_layout(&l, v[i].name);
	}
}

/* ext4 and lan4 (a flush and one message), a raw key, a quiet batch. */
TEST(nft_wire_addrs_lans_key_quiet)
{
	struct in_addr ext[FW_EXT_MAX];
	uint8_t keys[FW_LAN_MAX][4 + IFNAMSIZ], ends[FW_LAN_MAX][4 + IFNAMSIZ];
	struct nft_batch got, want;
	struct nft_layout l;
	size_t i, n_lan = 0;
	char name[IFNAMSIZ];

	wire_layout(&l, false, false, true);
	for (i = 0; i < FW_EXT_MAX; i++)
		ext[i].s_addr = htonl(0xc6336400u + (uint32_t)i);
	for (i = 0; i < FW_LAN_MAX; i++) {
		struct fw_lan *lan = &l.lan[l.n_lan++];
		uint32_t net = 0x0a000000u | (uint32_t)i << 16, mask = ~0u << (8 + i % 9), lo, hi;

		if (i == 3)	/* the longest name */
			str_copy(name, sizeof(name), "eth-lan-15chars");
		else
			snprintf(name, sizeof(name), "br-lan%zu", i);
		str_copy(lan->name, sizeof(lan->name), name);
		lan->addr.s_addr = i == 5 ? 0 : htonl(net | 1);
		lan->mask.s_addr = htonl(mask);
		if (i == 5)	/* no IPv4 address: no element */
			continue;
		memset(keys[n_lan], 0, sizeof(keys[n_lan]));
		memset(ends[n_lan], 0, sizeof(ends[n_lan]));
		lo = htonl(net & mask);
		hi = htonl((net & mask) | ~mask);
		memcpy(keys[n_lan], &lo, 4);
		memcpy(ends[n_lan], &hi, 4);
		memcpy(keys[n_lan] + 4, lan->name, strnlen(lan->name, IFNAMSIZ - 1));
		memcpy(ends[n_lan] + 4, lan->name, strnlen(lan->name, IFNAMSIZ - 1));
		n_lan++;
	}
	CHECK_EQ(nft_batch_start(&got, 1), 0);
	CHECK_EQ(nft_batch_start(&want, 1), 0);
	got.quiet = want.quiet = true;
	CHECK_EQ(nft_msg_ext_addrs(&got, &l, ext, FW_EXT_MAX), 0);
	CHECK_EQ(ref_put_keys(&want, &l, NFT_SET_EXT4, (const uint8_t *)ext, NULL, 4, FW_EXT_MAX), 0);
	CHECK_EQ(nft_msg_ext_addrs(&got, &l, ext, 0), 0);
	CHECK_EQ(ref_put_keys(&want, &l, NFT_SET_EXT4, NULL, NULL, 4, 0), 0);
	got.quiet = want.quiet = false;
	CHECK_EQ(nft_msg_lans(&got, &l), 0);
	CHECK_EQ(ref_put_keys(&want, &l, NFT_SET_LAN4, keys[0], ends[0], sizeof(keys[0]), n_lan), 0);
	CHECK_EQ(nft_msg_elem_key(&got, &l, NFT_SET_FWD4, NFT_MSG_DESTROYSETELEM_, keys[0], 12), 0);
	CHECK_EQ(ref_elem_key(&want, &l, NFT_SET_FWD4, NFT_MSG_DESTROYSETELEM_, keys[0], 12), 0);
	nft_batch_finish(&got);
	nft_batch_finish(&want);
	CHECK_EQ(got.n_ack, 3);
	CHECK_EQ(batch_msgs(&got), 2 + 6);
	same_batch(&got, &want, "ext4, lan4, a raw key");
	nft_batch_free(&got);
	nft_batch_free(&want);
}

/* A mapping without an element in the set, in the middle of the second
 * message: -1, the first message stays, nothing of the second (its
 * sequence number and ack are the next message's). */
TEST(nft_wire_elem_missing_mid_message)
{
	struct mapping ms[MANY + 10];
	const struct mapping *ptrs[MANY + 10];
	struct nft_batch got, want;
	struct nft_layout l;
	uint64_t now = 5000000;
	struct addrs a;
	size_t i;

	mk_addrs(&a);
	wire_layout(&l, false, false, true);
	for (i = 0; i < ARRAY_SIZE(ms); i++) {
		mk_elem_mapping(&ms[i], &a, NFT_SET_DNAT4, i, now);
		ptrs[i] = &ms[i];
	}
	ms[NFT_ELEMS_PER_MSG + 5].iaddr = &a.v6[0];	/* a pinhole: not of dnat4 */
	CHECK_EQ(nft_batch_start(&got, 1), 0);
	CHECK_EQ(nft_batch_start(&want, 1), 0);
	CHECK_EQ(nft_msg_elems(&got, &l, NFT_SET_DNAT4, NFT_MSG_NEWSETELEM, ptrs, ARRAY_SIZE(ms),
			       now), -1);
	CHECK_EQ(ref_elems(&want, &l, NFT_SET_DNAT4, NFT_MSG_NEWSETELEM, ptrs, ARRAY_SIZE(ms),
			   now), -1);
	CHECK_EQ(got.n_msg, 1);
	CHECK_EQ(nft_msg_elems(&got, &l, NFT_SET_DNAT4, NFT_MSG_DELSETELEM, ptrs, 3, now), 0);
	CHECK_EQ(ref_elems(&want, &l, NFT_SET_DNAT4, NFT_MSG_DELSETELEM, ptrs, 3, now), 0);
	nft_batch_finish(&got);
	nft_batch_finish(&want);
	CHECK_EQ(got.n_ack, 2);
	same_batch(&got, &want, "an element missing");
	nft_batch_free(&got);
	nft_batch_free(&want);
}
