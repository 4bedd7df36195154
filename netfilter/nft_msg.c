/* nft_msg.c - builds the nftables netlink messages of the backend (no
 * socket here: see nft.c for the transport). */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "fw.h"
#include "log.h"
#include "nft_msg.h"
#include "util.h"

/* nft's datatype numbers (src/datatype.h); a concatenation's type is the
 * member types shifted in 6 bits at a time, so `nft list` shows ours as
 * "ipv4_addr . inet_proto . inet_service". */
#define DT_IPADDR	7
#define DT_IP6ADDR	8
#define DT_INET_PROTO	12
#define DT_INET_SERVICE	13
#define DT_IFNAME	41
#define DT_BITS		6

/* From linux/netfilter/nf_conntrack_common.h, which clashes with
 * netinet/in.h. */
#define CT_STATUS_DST_NAT	(1u << 5)	/* IPS_DST_NAT */
#define CT_DIR_ORIGINAL		0		/* IP_CT_DIR_ORIGINAL */
#define NAT_RANGE_PROTO_SPECIFIED (1u << 1)	/* NF_NAT_RANGE_PROTO_SPECIFIED */

#define PAGE_SZ		(16 * 1024)	/* one batch buffer = 32 KiB: below malloc's mmap threshold, reused, not left in the heap's top */
#define PAGE_OVERRUN	(16 * 1024)	/* > the largest message (NFT_ELEMS_PER_MSG elements) */

enum set_data { DATA_NONE, DATA_ADDR_PORT, DATA_PORT };

#define SET_FIELDS_MAX	5

/* Each set: its name, its key's members in order, its data, whether the
 * nat rules look it up (so it lives in the nat table), whether its
 * elements time out with their lease, and whether each element counts
 * packets.  A counter is a per-CPU allocation of the kernel's for every
 * element added (the largest part of an add's kernel work, and memory
 * times the CPUs), so only the sets whose counters are read have one:
 * the forward sets (fw_ops.counters: the traffic of a mapping, for
 * listings and idle cleanup; hairpinned flows count there too) and the
 * pinhole sets
 * (GetPinholePackets).  The DNAT maps see the first packet of a flow
 * only, the SNAT map outbound flows, ext4 no mapping's; the DNAT maps
 * count when integrated (nft_set_counts()). */
static const struct {
	const char *name;
	uint8_t fields[SET_FIELDS_MAX];
	enum set_data data;
	bool nat, timeout, counter;
} set_desc[NFT_SET_ALL] = {
	[NFT_SET_DNAT4_RH] = { "dnat4_rh", { DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE, 0 },
			       DATA_ADDR_PORT, true, true, false },
	[NFT_SET_DNAT4] = { "dnat4", { DT_INET_PROTO, DT_INET_SERVICE, 0, 0 },
			    DATA_ADDR_PORT, true, true, false },
	[NFT_SET_FWD4_RH] = { "fwd4_rh", { DT_IPADDR, DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE },
			      DATA_NONE, false, false, true },
	[NFT_SET_FWD4] = { "fwd4", { DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE, 0 },
			   DATA_NONE, false, false, true },
	[NFT_SET_EXT4] = { "ext4", { DT_IPADDR, 0, 0, 0 }, DATA_NONE, true, false, false },
	/* ip saddr . oifname of a hairpinned flow: each served LAN's
	 * subnet (an interval) . its name (looked up in postrouting, so in
	 * the nat table) */
	[NFT_SET_LAN4] = { "lan4", { DT_IPADDR, DT_IFNAME, 0, 0 }, DATA_NONE, true, false, false },
	/* no timeout: one element serves every mapping of the internal side
	 * (the store re-points it), and outbound only */
	[NFT_SET_SNAT4] = { "snat4", { DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE, 0 },
			    DATA_PORT, true, false, false },
	/* A pinhole's element is the whole pinhole: it times out.
	 * [ip6 saddr .] [th sport .] ip6 daddr . meta l4proto . th dport:
	 * what it names of the remote side chooses the set */
	[NFT_SET_PIN6_RH] = { "pin6_rh", { DT_IP6ADDR, DT_INET_SERVICE, DT_IP6ADDR, DT_INET_PROTO,
					   DT_INET_SERVICE }, DATA_NONE, false, true, true },
	[NFT_SET_PIN6_RHOST] = { "pin6_rhost", { DT_IP6ADDR, DT_IP6ADDR, DT_INET_PROTO,
						 DT_INET_SERVICE }, DATA_NONE, false, true, true },
	[NFT_SET_PIN6_RPORT] = { "pin6_rport", { DT_INET_SERVICE, DT_IP6ADDR, DT_INET_PROTO,
						 DT_INET_SERVICE }, DATA_NONE, false, true, true },
	[NFT_SET_PIN6] = { "pin6", { DT_IP6ADDR, DT_INET_PROTO, DT_INET_SERVICE, 0 },
			   DATA_NONE, false, true, true },
};

static bool
set_is_map(enum nft_set_id id)
{
	return set_desc[id].data != DATA_NONE;
}

const char *
nft_family_name(uint16_t family)
{
	switch (family) {
	case NFPROTO_INET: return "inet";
	case NFPROTO_IPV4: return "ip";
	case NFPROTO_IPV6: return "ip6";
	default: return "?";
	}
}

static int
name_or(char *dst, const char *given, const char *dflt)
{
	return str_copy(dst, CFG_NAME_MAX, given[0] != '\0' ? given : dflt);
}

int
nft_layout_init(struct nft_layout *l, const struct config *cfg, bool timeouts)
{
	int i, rc = 0;

	memset(l, 0, sizeof(*l));
	if (cfg->ext_ifname[0] == '\0') {
		log_warnx("nftables: ext_ifname is not set");
		return -1;
	}
	if (str_copy(l->ext_ifname, sizeof(l->ext_ifname), cfg->ext_ifname) < 0)
		return -1;
	l->timeouts = timeouts;
	l->hairpin = cfg->hairpin;
	l->preserve = cfg->preserve_mapped_ports;
	l->own = !cfg->fw_integrate;
	if (l->own) {
		/* The config names only matter when integrating (conf.c sets
		 * fw_integrate when any is given). */
		l->filter_family = l->nat_family = NFPROTO_INET;
		rc |= str_copy(l->filter_table, CFG_NAME_MAX, "igdd");
		rc |= str_copy(l->nat_table, CFG_NAME_MAX, "igdd");
		rc |= str_copy(l->forward_chain, CFG_NAME_MAX, "forward");
		rc |= str_copy(l->nat_chain, CFG_NAME_MAX, "prerouting");
		rc |= str_copy(l->post_chain, CFG_NAME_MAX, "postrouting");
	} else {
		/* miniupnpd's defaults for whatever was left unset. */
		l->filter_family = l->nat_family =
			cfg->upnp_nftables_family_split ? NFPROTO_IPV4 : NFPROTO_INET;
		rc |= name_or(l->filter_table, cfg->upnp_table_name, "filter");
		rc |= name_or(l->nat_table, cfg->upnp_nat_table_name, "filter");
		rc |= name_or(l->forward_chain, cfg->upnp_forward_chain, "miniupnpd");
		rc |= name_or(l->nat_chain, cfg->upnp_nat_chain, "prerouting_miniupnpd");
		rc |= name_or(l->post_chain, cfg->upnp_nat_postrouting_chain,
			      "postrouting_miniupnpd");
	}
	for (i = 0; i < NFT_SET_ALL; i++)
		rc |= str_printf(l->set_name[i], CFG_NAME_MAX, "%s%s",
				 l->own ? "" : "igdd_", set_desc[i].name);
	l->v6 = !cfg->ipv6_disable;
	l->v6_block = l->v6 && l->own && cfg->ipv6_block_inbound;
	l->pin_family = l->filter_family == NFPROTO_IPV4 ? NFPROTO_IPV6 : l->filter_family;
	rc |= str_copy(l->ext_ifname6, sizeof(l->ext_ifname6),
		       cfg->ext_ifname6[0] != '\0' ? cfg->ext_ifname6 : cfg->ext_ifname);
	return rc < 0 ? -1 : 0;
}

bool
nft_set_used(const struct nft_layout *l, enum nft_set_id id)
{
	return id < NFT_SET_COUNT || (l->v6 && id < NFT_SET_ALL);
}

const char *
nft_set_table(const struct nft_layout *l, enum nft_set_id id, uint16_t *family)
{
	if (set_desc[id].nat) {
		*family = l->nat_family;
		return l->nat_table;
	}
	*family = id >= NFT_SET_COUNT ? l->pin_family : l->filter_family;
	return l->filter_table;
}

bool
nft_rule_on(const struct nft_layout *l, enum nft_rule_id id)
{
	switch (id) {
	case NFT_RULE_HAIR4:
	case NFT_RULE_HAIRLAN4:
	case NFT_RULE_MASQ4:
		return l->hairpin;
	case NFT_RULE_HAIRCTR4:		/* integrated, the DNAT element counts it */
		return l->hairpin && l->own;
	case NFT_RULE_SNAT4_TCP:
	case NFT_RULE_SNAT4_UDP:
		return l->preserve;
	case NFT_RULE_PIN6_RH:
	case NFT_RULE_PIN6_RHOST:
	case NFT_RULE_PIN6_RPORT:
	case NFT_RULE_PIN6:
		return l->v6;
	case NFT_RULE_V6_EST:
	case NFT_RULE_V6_ICMP:
	case NFT_RULE_V6_DROP:
		return l->v6_block;
	default:
		return id < NFT_RULE_ALL;
	}
}

enum nft_chain_id
nft_rule_chain(const struct nft_layout *l, enum nft_rule_id id)
{
	switch (id) {
	case NFT_RULE_DNAT4_RH:
	case NFT_RULE_DNAT4:
	case NFT_RULE_HAIR4:
		return NFT_CHAIN_NAT;
	case NFT_RULE_FWD4_RH:
	case NFT_RULE_FWD4:
		return NFT_CHAIN_FORWARD;
	case NFT_RULE_HAIRLAN4:
	case NFT_RULE_HAIRCTR4:
	case NFT_RULE_MASQ4:
	case NFT_RULE_SNAT4_TCP:
	case NFT_RULE_SNAT4_UDP:
		return NFT_CHAIN_POST;
	default:	/* the IPv6 rules */
		return l->pin_family == l->filter_family ? NFT_CHAIN_FORWARD : NFT_CHAIN_FORWARD6;
	}
}

const char *
nft_chain_name(const struct nft_layout *l, enum nft_chain_id c, const char **table,
	       uint16_t *family)
{
	if (c == NFT_CHAIN_FORWARD || c == NFT_CHAIN_FORWARD6) {
		*table = l->filter_table;
		*family = c == NFT_CHAIN_FORWARD ? l->filter_family : l->pin_family;
		return l->forward_chain;
	}
	*table = l->nat_table;
	*family = l->nat_family;
	return c == NFT_CHAIN_NAT ? l->nat_chain : l->post_chain;
}

bool
nft_chain_used(const struct nft_layout *l, enum nft_chain_id c)
{
	return c != NFT_CHAIN_FORWARD6 || (l->v6 && l->pin_family != l->filter_family);
}

unsigned
nft_chain_rules(const struct nft_layout *l, enum nft_chain_id c)
{
	unsigned n = 0;
	int i;

	for (i = 0; i < NFT_RULE_ALL; i++)
		if (nft_rule_on(l, (enum nft_rule_id)i) && nft_rule_chain(l, (enum nft_rule_id)i) == c)
			n++;
	return n;
}

bool
nft_mapping_rh(const struct mapping *m)
{
	return m->rhost != NULL && !addr_is_any(m->rhost);
}

/* A pinhole's set: by what it names of the remote side, host and port,
 * the host, the port, neither. */
static enum nft_set_id
pin_set(const struct mapping *m)
{
	bool host = nft_mapping_rh(m), port = m->rport != 0;

	return host ? (port ? NFT_SET_PIN6_RH : NFT_SET_PIN6_RHOST)
		    : (port ? NFT_SET_PIN6_RPORT : NFT_SET_PIN6);
}

void
nft_mapping_sets(const struct mapping *m, enum nft_set_id *dnat, enum nft_set_id *fwd)
{
	bool rh = nft_mapping_rh(m);

	if (mapping_is_pinhole(m)) {
		*dnat = *fwd = pin_set(m);
		return;
	}
	*dnat = rh ? NFT_SET_DNAT4_RH : NFT_SET_DNAT4;
	*fwd = rh ? NFT_SET_FWD4_RH : NFT_SET_FWD4;
}

/* Append a v4 address / protocol / port, each in its own 4-byte register. */
static size_t
put_addr(uint8_t *p, const struct in6_addr *a)
{
	struct in_addr v4 = addr_to_v4(a);

	memcpy(p, &v4.s_addr, 4);
	return 4;
}

static size_t
put_proto(uint8_t *p, uint8_t proto)
{
	memset(p, 0, 4);
	p[0] = proto;
	return 4;
}

static size_t
put_port(uint8_t *p, uint16_t port)
{
	uint16_t n = htons(port);

	memset(p, 0, 4);
	memcpy(p, &n, 2);
	return 4;
}

static size_t
put_ifname(uint8_t *p, const char *name)
{
	memset(p, 0, IFNAMSIZ);
	memcpy(p, name, strnlen(name, IFNAMSIZ - 1));
	return IFNAMSIZ;
}

/* A pinhole's key: [rhost .] [rport .] iaddr . proto . iport, in its set
 * (pin_set()). */
static size_t
pin_key(enum nft_set_id id, const struct mapping *m, uint8_t *key)
{
	size_t n = 0;

	if (!mapping_is_pinhole(m) || pin_set(m) != id)
		return 0;
	if (nft_mapping_rh(m)) {
		memcpy(key, m->rhost, 16);
		n = 16;
	}
	if (m->rport != 0)
		n += put_port(key + n, m->rport);
	memcpy(key + n, m->iaddr, 16);
	n += 16;
	n += put_proto(key + n, m->proto);
	n += put_port(key + n, m->iport);
	return n;
}

size_t
nft_elem_key(const struct nft_layout *l, enum nft_set_id id, const struct mapping *m,
	     uint8_t key[NFT_KEY_MAX])
{
	bool rh = nft_mapping_rh(m);
	size_t n = 0;

	if (id >= NFT_SET_COUNT)
		return nft_set_used(l, id) ? pin_key(id, m, key) : 0;
	if (!addr_is_v4(m->iaddr) || (rh && !addr_is_v4(m->rhost)))
		return 0;
	switch (id) {
	case NFT_SET_DNAT4_RH:
		if (!rh)
			return 0;
		n += put_addr(key + n, m->rhost);
		/* fall through */
	case NFT_SET_DNAT4:
		if (id == NFT_SET_DNAT4 && rh)
			return 0;
		n += put_proto(key + n, m->proto);
		n += put_port(key + n, m->eport);
		return n;
	case NFT_SET_FWD4_RH:
		if (!rh)
			return 0;
		n += put_addr(key + n, m->rhost);
		/* fall through */
	case NFT_SET_FWD4:
		if (id == NFT_SET_FWD4 && rh)
			return 0;
		/* fall through */
	case NFT_SET_SNAT4:
		if (id == NFT_SET_SNAT4 && !l->preserve)
			return 0;
		n += put_addr(key + n, m->iaddr);
		n += put_proto(key + n, m->proto);
		n += put_port(key + n, m->iport);	/* th dport after DNAT, th sport out */
		return n;
	default:	/* ext4, lan4: no mapping's */
		return 0;
	}
}

size_t
nft_elem_data(enum nft_set_id id, const struct mapping *m, uint8_t data[NFT_KEY_MAX])
{
	uint16_t eport = htons(m->eport);
	size_t n = 0;

	if (!addr_is_v4(m->iaddr))
		return 0;
	switch (set_desc[id].data) {
	case DATA_ADDR_PORT:
		n += put_addr(data + n, m->iaddr);
		n += put_port(data + n, m->iport);
		return n;
	case DATA_PORT:		/* exactly the inet_service's 2 bytes */
		memcpy(data, &eport, sizeof(eport));
		return sizeof(eport);
	default:
		return 0;
	}
}

static void
get_addr(const uint8_t *p, struct in6_addr *a)
{
	struct in_addr v4;

	memcpy(&v4.s_addr, p, 4);
	addr_from_v4(a, v4);
}

static uint16_t
get_port(const uint8_t *p)
{
	uint16_t n;

	memcpy(&n, p, 2);
	return ntohs(n);
}

int
nft_elem_decode(enum nft_set_id id, const uint8_t *key, size_t klen, const uint8_t *data,
		size_t dlen, struct fw_elem *e)
{
	static const size_t key_len[NFT_SET_COUNT] = {
		[NFT_SET_DNAT4_RH] = 12, [NFT_SET_DNAT4] = 8,
		[NFT_SET_FWD4_RH] = 16, [NFT_SET_FWD4] = 12, [NFT_SET_SNAT4] = 12,
	};
	bool rh = id == NFT_SET_DNAT4_RH || id == NFT_SET_FWD4_RH;
	size_t o = rh ? 4 : 0;

	if ((unsigned)id >= NFT_SET_COUNT || key == NULL || klen != key_len[id])
		return -1;
	memset(e, 0, sizeof(*e));
	if (rh)
		get_addr(key, &e->rhost);
	e->dnat = set_is_map(id) && id != NFT_SET_SNAT4;
	e->snat = id == NFT_SET_SNAT4;
	if (e->snat) {		/* iaddr . proto . iport : eport */
		if (data == NULL || dlen != 2)
			return -1;
		e->eport = get_port(data);
	}
	if (e->dnat) {
		if (data == NULL || dlen != 8)
			return -1;
		e->proto = key[o];
		e->eport = get_port(key + o + 4);
		get_addr(data, &e->iaddr);
		e->iport = get_port(data + 4);
	} else {
		get_addr(key + o, &e->iaddr);
		e->proto = key[o + 4];
		e->iport = get_port(key + o + 8);
	}
	return 0;
}

/* ---- batch ---- */

int
nft_batch_start_gen(struct nft_batch *bt, uint32_t seq, uint32_t genid)
{
	struct nlmsghdr *nlh;

	memset(bt, 0, sizeof(*bt));
	bt->b = nftnl_batch_alloc(PAGE_SZ, PAGE_OVERRUN);
	if (bt->b == NULL)
		return -1;
	bt->seq_begin = seq;
	nlh = nftnl_batch_begin(nftnl_batch_buffer(bt->b), bt->seq_begin);
	/* nfnetlink_rcv_skb_batch() reads it, in network order; libnftnl's
	 * begin has no room for it: appended before the page takes the
	 * message (nftnl_batch_update() reads its length). */
	if (genid != 0)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(genid));
	bt->seq_next = seq + 1;
	return nftnl_batch_update(bt->b);
}

int
nft_batch_start(struct nft_batch *bt, uint32_t seq)
{
	return nft_batch_start_gen(bt, seq, 0);
}

void
nft_batch_finish(struct nft_batch *bt)
{
	nftnl_batch_end(nftnl_batch_buffer(bt->b), bt->seq_next++);
	nftnl_batch_update(bt->b);
}

void
nft_batch_free(struct nft_batch *bt)
{
	if (bt->b != NULL)
		nftnl_batch_free(bt->b);
	bt->b = NULL;
}

int
nft_batch_iov(struct nft_batch *bt, struct iovec **iov, int *n)
{
	*n = nftnl_batch_iovec_len(bt->b);
	*iov = calloc((size_t)*n, sizeof(**iov));
	if (*iov == NULL)
		return -1;
	nftnl_batch_iovec(bt->b, *iov, (uint32_t)*n);
	return 0;
}

size_t
nft_batch_len(struct nft_batch *bt)
{
	struct iovec *iov;
	size_t len = 0;
	int i, n;

	if (nft_batch_iov(bt, &iov, &n) < 0)
		return 0;
	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	free(iov);
	return len;
}

int
nft_batch_append(struct nft_batch *bt, const struct nlmsghdr *nlh)
{
	struct nlmsghdr *dst = nftnl_batch_buffer(bt->b);

	/* (a page's overrun holds any one message) */
	memcpy(dst, nlh, nlh->nlmsg_len);
	if (bt->quiet)
		dst->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	else if (dst->nlmsg_flags & NLM_F_ACK)
		bt->n_ack++;
	bt->n_msg++;
	return nftnl_batch_update(bt->b);
}

/* Header of the next message; every message asks for an ack so that a
 * refusal is reported against its own sequence number (but in a quiet
 * batch, whose sender asks for one ack, of its last message: a refusal
 * is reported whatever the flags). */
static struct nlmsghdr *
msg_hdr(struct nft_batch *bt, uint16_t type, uint16_t family, uint16_t flags)
{
	if (!bt->quiet) {
		bt->n_ack++;
		flags |= NLM_F_ACK;
	}
	bt->n_msg++;
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(bt->b), type, family, flags,
				     bt->seq_next++);
}

static int
msg_done(struct nft_batch *bt)
{
	return nftnl_batch_update(bt->b);
}

/* ---- elements ---- */

static struct nftnl_set *
set_ref(const struct nft_layout *l, enum nft_set_id id, uint16_t *family)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s == NULL)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, nft_set_table(l, id, family));
	nftnl_set_set_str(s, NFTNL_SET_NAME, l->set_name[id]);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, *family);
	return s;
}

/* Element messages are written straight into the batch page with libmnl,
 * in the attribute order of libnftnl's nftnl_set_elems_nlmsg_build_payload
 * (tests/unit/test_nft_wire.c compares the bytes with it): the set's name and
 * table, then a nest of the elements, each a nest numbered from 1 with its
 * timeout, its key, its key's end and its data.  A libnftnl object per
 * element (allocated, filled, copied, freed) was most of a large install's
 * user CPU. */
#define ELEM_DATA_MAX	(MNL_ATTR_HDRLEN + MNL_ATTR_HDRLEN + MNL_ALIGN(NFT_KEY_MAX))
#define ELEM_MAX	(MNL_ATTR_HDRLEN + MNL_ALIGN(MNL_ATTR_HDRLEN + sizeof(uint64_t)) + \
			 3 * ELEM_DATA_MAX)	/* timeout, key, key end, data */
#define ELEMS_HDR_MAX	(MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) + \
			 2 * MNL_ALIGN(MNL_ATTR_HDRLEN + CFG_NAME_MAX) + MNL_ATTR_HDRLEN)
/* A message is written in place with no bound checked: it must fit the
 * page's overrun whatever its elements (set_put_keys: at most
 * FW_EXT_MAX or FW_LAN_MAX elements, in one message). */
_Static_assert(ELEMS_HDR_MAX + NFT_ELEMS_PER_MSG * ELEM_MAX <= PAGE_OVERRUN,
	       "an element message must fit a batch page's overrun");
_Static_assert(FW_EXT_MAX <= NFT_ELEMS_PER_MSG && FW_LAN_MAX <= NFT_ELEMS_PER_MSG,
	       "ext4 and lan4 are filled in one message");

/* An element message being written: its header, the nest of its elements
 * (opened with the first one) and how many it holds. */
struct elems_msg {
	struct nlmsghdr *nlh;
	struct nlattr *list;
	uint16_t n;
};

/* One element's attributes (NULL/0: absent). */
struct elem_attrs {
	const uint8_t *key, *end, *data;
	size_t klen, elen, dlen;
	uint64_t timeout_ms;		/* 0: none */
};

/* mnl_attr_put() with its padding zeroed (libmnl 1.0.4 leaves the
 * page's old bytes there): the same bytes on the wire for the same
 * elements. */
static void
attr_put(struct nlmsghdr *nlh, uint16_t type, size_t len, const void *data)
{
	uint8_t *pad = (uint8_t *)mnl_nlmsg_get_payload_tail(nlh) + MNL_ATTR_HDRLEN + len;

	mnl_attr_put(nlh, type, len, data);
	memset(pad, 0, MNL_ALIGN(len) - len);
}

static void
elems_msg_start(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
		uint16_t type, struct elems_msg *em)
{
	uint16_t family;
	const char *table = nft_set_table(l, id, &family);

	em->nlh = msg_hdr(bt, type, family, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0);
	attr_put(em->nlh, NFTA_SET_ELEM_LIST_SET, strlen(l->set_name[id]) + 1, l->set_name[id]);
	attr_put(em->nlh, NFTA_SET_ELEM_LIST_TABLE, strlen(table) + 1, table);
	em->list = NULL;
	em->n = 0;
}

/* attr { NFTA_DATA_VALUE } */
static void
data_put(struct nlmsghdr *nlh, uint16_t attr, const uint8_t *v, size_t len)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, attr);

	attr_put(nlh, NFTA_DATA_VALUE, len, v);
	mnl_attr_nest_end(nlh, nest);
}

static void
elems_msg_put(struct elems_msg *em, const struct elem_attrs *a)
{
	struct nlattr *nest;

	if (em->list == NULL)
		em->list = mnl_attr_nest_start(em->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	nest = mnl_attr_nest_start(em->nlh, ++em->n);
	if (a->timeout_ms != 0)
		mnl_attr_put_u64(em->nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(a->timeout_ms));
	data_put(em->nlh, NFTA_SET_ELEM_KEY, a->key, a->klen);
	if (a->elen > 0)
		data_put(em->nlh, NFTA_SET_ELEM_KEY_END, a->end, a->elen);
	if (a->dlen > 0)
		data_put(em->nlh, NFTA_SET_ELEM_DATA, a->data, a->dlen);
	mnl_attr_nest_end(em->nlh, nest);
}

static int
elems_msg_end(struct nft_batch *bt, struct elems_msg *em)
{
	if (em->list != NULL)
		mnl_attr_nest_end(em->nlh, em->list);
	return msg_done(bt);
}

/* A message begun and not ended goes: the batch's length never took it
 * in (msg_done), its sequence number and ack are given back. */
static void
elems_msg_drop(struct nft_batch *bt, const struct elems_msg *em)
{
	if (em->nlh == NULL)
		return;
	bt->seq_next--;
	bt->n_msg--;
	if (em->nlh->nlmsg_flags & NLM_F_ACK)
		bt->n_ack--;
}

/* m's element of set id into *a (key and data in the buffers): -1
 * (EAFNOSUPPORT) when m has none there. */
static int
elem_of(const struct nft_layout *l, enum nft_set_id id, uint16_t type, const struct mapping *m,
	uint64_t now_ms, struct elem_attrs *a, uint8_t key[NFT_KEY_MAX], uint8_t data[NFT_KEY_MAX])
{
	memset(a, 0, sizeof(*a));
	a->klen = nft_elem_key(l, id, m, key);
	if (a->klen == 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	a->key = key;
	if (type != NFT_MSG_NEWSETELEM)
		return 0;
	a->data = data;
	if (set_is_map(id))
		a->dlen = nft_elem_data(id, m, data);
	/* Nothing outlives its lease by more than the grace, even when
	 * igdd is killed: the DNAT and hairpin elements are what let a flow
	 * in.  Forward and SNAT elements carry no timeout because several
	 * mappings may share one (same internal side); igdd removes them
	 * when the last user goes, and a start flushes them.  A pinhole's
	 * element is the whole pinhole. */
	if (l->timeouts && set_desc[id].timeout && m->expires != 0) {
		uint64_t left = m->expires > now_ms ? m->expires - now_ms : 0;

		if (left > NFT_TIMEOUT_MAX_MS - NFT_GRACE_MS)
			left = NFT_TIMEOUT_MAX_MS - NFT_GRACE_MS;
		a->timeout_ms = left + NFT_GRACE_MS;
	}
	return 0;
}

int
nft_msg_elems(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
	      uint16_t type, const struct mapping *const *ms, size_t n, uint64_t now_ms)
{
	uint8_t key[NFT_KEY_MAX], data[NFT_KEY_MAX];
	struct elems_msg em = { 0 };
	struct elem_attrs a;
	size_t i;

	if (n == 0) {		/* DELSETELEM without elements flushes the set */
		elems_msg_start(bt, l, id, type, &em);
		return elems_msg_end(bt, &em);
	}
	for (i = 0; i < n; i++) {
		/* a mapping without an element here: the messages before
		 * stay, this one goes */
		if (elem_of(l, id, type, ms[i], now_ms, &a, key, data) < 0) {
			elems_msg_drop(bt, &em);
			return -1;
		}
		if (em.nlh == NULL)
			elems_msg_start(bt, l, id, type, &em);
		elems_msg_put(&em, &a);
		if (em.n == NFT_ELEMS_PER_MSG || i + 1 == n) {
			if (elems_msg_end(bt, &em) < 0)
				return -1;
			em.nlh = NULL;
		}
	}
	return 0;
}

int
nft_msg_elem_key(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
		 uint16_t type, const uint8_t *key, size_t keylen)
{
	struct elem_attrs a = { .key = key, .klen = keylen };
	struct elems_msg em;

	if (keylen == 0 || keylen > NFT_KEY_MAX) {	/* (no set has such a key) */
		errno = EINVAL;
		return -1;
	}
	elems_msg_start(bt, l, id, type, &em);
	elems_msg_put(&em, &a);
	return elems_msg_end(bt, &em);
}

/* Set id emptied, then the n keys of klen bytes each at keys (and, for
 * an interval set, their ends at ends), in one message. */
static int
set_put_keys(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
	     const void *keys, const void *ends, size_t klen, size_t n)
{
	struct elem_attrs a = { .klen = klen, .elen = ends != NULL ? klen : 0 };
	struct elems_msg em;
	size_t i;

	if (nft_msg_elems(bt, l, id, NFT_MSG_DELSETELEM, NULL, 0, 0) < 0)
		return -1;
	if (n == 0)
		return 0;
	elems_msg_start(bt, l, id, NFT_MSG_NEWSETELEM, &em);
	for (i = 0; i < n; i++) {
		a.key = (const uint8_t *)keys + i * klen;
		if (ends != NULL)
			a.end = (const uint8_t *)ends + i * klen;
		elems_msg_put(&em, &a);
	}
	return elems_msg_end(bt, &em);
}

int
nft_msg_ext_addrs(struct nft_batch *bt, const struct nft_layout *l, const struct in_addr *a,
		  size_t n)
{
	return set_put_keys(bt, l, NFT_SET_EXT4, a, NULL, sizeof(*a), n);
}

int
nft_msg_lans(struct nft_batch *bt, const struct nft_layout *l)
{
	uint8_t keys[FW_LAN_MAX][4 + IFNAMSIZ], ends[FW_LAN_MAX][4 + IFNAMSIZ];
	struct in_addr lo, hi;
	size_t k, n = 0;

	/* the LAN's subnet, first to last address, . its name (a LAN
	 * without an IPv4 address has no hairpin client) */
	for (k = 0; l->hairpin && k < l->n_lan && k < FW_LAN_MAX; k++) {
		if (l->lan[k].addr.s_addr == 0)
			continue;
		lo.s_addr = l->lan[k].addr.s_addr & l->lan[k].mask.s_addr;
		hi.s_addr = l->lan[k].addr.s_addr | ~l->lan[k].mask.s_addr;
		memcpy(keys[n], &lo, 4);
		memcpy(ends[n], &hi, 4);
		put_ifname(keys[n] + 4, l->lan[k].name);
		put_ifname(ends[n] + 4, l->lan[k].name);
		n++;
	}
	return set_put_keys(bt, l, NFT_SET_LAN4, keys, ends, sizeof(keys[0]), n);
}

const char *
nft_old_hair4_name(const struct nft_layout *l)
{
	return l->own ? "hair4" : "igdd_hair4";
}

int
nft_msg_old_hair4(struct nft_batch *bt, const struct nft_layout *l, uint16_t type)
{
	struct nlmsghdr *nlh;
	struct nftnl_set *s;
	uint16_t family;

	if ((s = set_ref(l, NFT_SET_SNAT4, &family)) == NULL)	/* hair4's table: the nat table */
		return -1;
	nftnl_set_set_str(s, NFTNL_SET_NAME, nft_old_hair4_name(l));
	nlh = msg_hdr(bt, type, family, 0);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return msg_done(bt);
}

bool
nft_fwd_in_nat(const struct nft_layout *l)
{
	return l->nat_family == l->filter_family && strcmp(l->nat_table, l->filter_table) == 0;
}

bool
nft_set_counts(const struct nft_layout *l, enum nft_set_id id)
{
	/* Integrated, igdd's forward chain sees only what the firewall's
	 * lets through to it: one that accepts DNATed flows before its jump
	 * lets no packet of a mapping's flow reach a forward element; and
	 * with the forward sets in another table than the nat rules,
	 * postrouting cannot count a hairpinned flow there (hairctr).  So
	 * the DNAT maps, whose lookups see the first packet of every flow,
	 * from the WAN or (dnat4) through the hairpin, count too.  igdd's own
	 * table sees every packet in its own forward chain. */
	return set_desc[id].counter ||
	       (!l->own && (id == NFT_SET_DNAT4 || id == NFT_SET_DNAT4_RH));
}

/* ---- table, chains, sets ---- */

int
nft_msg_table(struct nft_batch *bt, const struct nft_layout *l, uint16_t type)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (t == NULL)
		return -1;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, l->filter_table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, l->filter_family);
	nlh = msg_hdr(bt, type, l->filter_family, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return msg_done(bt);
}

static int
chain_msg(struct nft_batch *bt, uint16_t family, const char *table, const char *name,
	  const char *type, uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (c == NULL)
		return -1;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, family);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nlh = msg_hdr(bt, NFT_MSG_NEWCHAIN, family, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return msg_done(bt);
}

/* Own layout only.  The postrouting chain (hairpin masquerade, port
 * preservation) runs just before srcnat (100), where a router's own
 * masquerade usually is: the first NAT chain that binds a flow wins. */
int
nft_msg_chains(struct nft_batch *bt, const struct nft_layout *l)
{
	if (chain_msg(bt, l->nat_family, l->nat_table, l->nat_chain, "nat",
		      NF_INET_PRE_ROUTING, -100) < 0 ||			/* dstnat */
	    chain_msg(bt, l->nat_family, l->nat_table, l->post_chain, "nat",
		      NF_INET_POST_ROUTING, 99) < 0)			/* srcnat - 1 */
		return -1;
	return chain_msg(bt, l->filter_family, l->filter_table, l->forward_chain, "filter",
			 NF_INET_FORWARD, 0);			/* filter */
}

/* Own layout: igdd owns these chains, so flushing them and re-adding the
 * rules in the same transaction is the idempotent init. */
int
nft_msg_flush_chains(struct nft_batch *bt, const struct nft_layout *l)
{
	const char *table, *chain;
	uint16_t family;
	int c;

	for (c = 0; c < NFT_CHAIN_COUNT; c++) {
		if (!nft_chain_used(l, (enum nft_chain_id)c))
			continue;
		chain = nft_chain_name(l, (enum nft_chain_id)c, &table, &family);
		if (nft_msg_rule_del(bt, family, table, chain, 0) < 0)
			return -1;
	}
	return 0;
}

int
nft_msg_rule_del(struct nft_batch *bt, uint16_t family, const char *table,
		 const char *chain, uint64_t handle)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (r == NULL)
		return -1;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
	if (handle != 0)	/* no handle: every rule of the chain (a flush) */
		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
	nlh = msg_hdr(bt, NFT_MSG_DELRULE, family, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return msg_done(bt);
}

int
nft_msg_set(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
	    uint16_t type)
{
	uint32_t keytype = 0, keylen = 0, flags = 0;
	struct nftnl_expr *ctr;
	struct nlmsghdr *nlh;
	struct nftnl_set *s;
	uint16_t family;
	unsigned i;

	s = set_ref(l, id, &family);
	if (s == NULL)
		return -1;
	if (type != NFT_MSG_NEWSET)
		goto build;
	for (i = 0; i < SET_FIELDS_MAX && set_desc[id].fields[i] != 0; i++) {
		uint8_t f = set_desc[id].fields[i];

		keytype = keytype << DT_BITS | f;
		/* each member padded to a register; a name, an IPv6 address
		 * are 16 bytes */
		keylen += f == DT_IFNAME ? IFNAMSIZ : f == DT_IP6ADDR ? 16 : 4;
	}
	/* No NFTA_SET_DESC concat field lengths for a hash set: only the
	 * interval concatenation (lan4) needs them, unpadded. */
	if (id == NFT_SET_LAN4) {	/* subnet . name */
		static const uint8_t field_len[] = { 4, IFNAMSIZ };

		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, field_len, sizeof(field_len));
		flags |= NFT_SET_INTERVAL | NFT_SET_CONCAT;
	}
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, keytype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, keylen);
	if (set_desc[id].data == DATA_ADDR_PORT) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, DT_IPADDR << DT_BITS | DT_INET_SERVICE);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 8);
	} else if (set_desc[id].data == DATA_PORT) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, DT_INET_SERVICE);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 2);
	}
	if (set_is_map(id))
		flags |= NFT_SET_MAP;
	if (l->timeouts && set_desc[id].timeout)
		flags |= NFT_SET_TIMEOUT;
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)id + 1);
	/* Per-element counters: the set's counter expression is cloned into
	 * every element the kernel creates (set_desc: only where read). */
	if (nft_set_counts(l, id)) {
		ctr = nftnl_expr_alloc("counter");
		if (ctr == NULL) {
			nftnl_set_free(s);
			return -1;
		}
		nftnl_set_add_expr(s, ctr);
	}
build:
	nlh = msg_hdr(bt, type, family, type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return msg_done(bt);
}

/* ---- rules ---- */

static int
add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e == NULL)
		return -1;
	nftnl_rule_add_expr(r, e);
	return 0;
}

static int
e_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	}
	return add_expr(r, e);
}

static int
e_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return add_expr(r, e);
}

static int
e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	}
	return add_expr(r, e);
}

/* iifname / oifname (meta key) "<name>", equal or not: compare the whole
 * IFNAMSIZ buffer for an exact match. */
static int
e_ifname(struct nftnl_rule *r, uint32_t key, uint32_t op, const char *ifname)
{
	char name[IFNAMSIZ];

	memset(name, 0, sizeof(name));
	str_copy(name, sizeof(name), ifname);
	if (e_meta(r, key, NFT_REG_1) < 0)
		return -1;
	return e_cmp(r, op, name, sizeof(name));
}

static int
e_nfproto(struct nftnl_rule *r, uint8_t v)
{
	if (e_meta(r, NFT_META_NFPROTO, NFT_REG_1) < 0)
		return -1;
	return e_cmp(r, NFT_CMP_EQ, &v, sizeof(v));
}

static int
e_l4proto(struct nftnl_rule *r, uint8_t proto)
{
	if (e_meta(r, NFT_META_L4PROTO, NFT_REG_1) < 0)
		return -1;
	return e_cmp(r, NFT_CMP_EQ, &proto, sizeof(proto));
}

/* ct KEY & mask != 0 */
static int
e_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t mask)
{
	uint32_t zero = 0;
	struct nftnl_expr *e;

	e = nftnl_expr_alloc("ct");
	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	if (add_expr(r, e) < 0)
		return -1;
	e = nftnl_expr_alloc("bitwise");
	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	}
	if (add_expr(r, e) < 0)
		return -1;
	return e_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

/* ct status dnat: only flows our (or any) DNAT rewrote. */
static int
e_ct_dnat(struct nftnl_rule *r)
{
	return e_ct_bits(r, NFT_CT_STATUS, CT_STATUS_DST_NAT);
}

/* ct original ip daddr -> reg 1 */
static int
e_ct_orig_daddr(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DST_IP);
		nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, CT_DIR_ORIGINAL);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	return add_expr(r, e);
}

static int
e_lookup_flags(struct nftnl_rule *r, const struct nft_layout *l, enum nft_set_id id, bool map,
	       uint32_t flags)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, l->set_name[id]);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, (uint32_t)id + 1);
		if (map)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG32_00);
		if (flags != 0)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, flags);
	}
	return add_expr(r, e);
}

static int
e_lookup(struct nftnl_rule *r, const struct nft_layout *l, enum nft_set_id id, bool map)
{
	return e_lookup_flags(r, l, id, map, 0);
}

static int
e_dnat4(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("nat");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG32_00);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	}
	return add_expr(r, e);
}

/* masquerade, to the port in reg 1 when port_reg */
static int
e_masq(struct nftnl_rule *r, bool port_reg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("masq");

	if (e != NULL && port_reg) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_FLAGS, NAT_RANGE_PROTO_SPECIFIED);
		nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MIN, NFT_REG32_00);
		nftnl_expr_set_u32(e, NFTNL_EXPR_MASQ_REG_PROTO_MAX, NFT_REG32_00);
	}
	return add_expr(r, e);
}

static int
e_verdict(struct nftnl_rule *r, uint32_t verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	}
	return add_expr(r, e);
}

static int
e_accept(struct nftnl_rule *r)
{
	return e_verdict(r, NF_ACCEPT);
}

#define IPV4_SADDR_OFF	12
#define IPV4_DADDR_OFF	16
#define TH_SPORT_OFF	0
#define TH_DPORT_OFF	2
#define IPV6_SADDR_OFF	8
#define IPV6_DADDR_OFF	24
#define CT_STATE_EST_REL	0x6	/* NF_CT_STATE_BIT(IP_CT_ESTABLISHED | IP_CT_RELATED) */

static int
e_ip(struct nftnl_rule *r, uint32_t off, uint32_t reg)
{
	return e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, 4, reg);
}

/* ... l4proto . th port (at reg, reg + 1) -> lookup map id -> */
static int
e_proto_port_lookup(struct nftnl_rule *r, const struct nft_layout *l, uint32_t reg,
		    uint32_t port_off, enum nft_set_id id)
{
	if (e_meta(r, NFT_META_L4PROTO, reg) < 0 ||
	    e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, port_off, 2, reg + 1) < 0)
		return -1;
	return e_lookup(r, l, id, set_is_map(id));
}

/* The expressions of each rule, as `nft --debug=netlink` prints them, so
 * that a saved `nft list ruleset` loads again:
 *  dnat:    iifname ext . nfproto ipv4 . ip daddr -> lookup ext4 .
 *           [ip saddr .] l4proto . th dport -> lookup map
 *           -> dnat ip addr reg 1 proto reg 9
 *  hair:    iifname != ext . nfproto ipv4 . ip daddr -> lookup ext4 .
 *           l4proto . th dport -> lookup dnat4 -> dnat
 *  forward: iifname ext . ct status dnat . nfproto ipv4 . [ip saddr .]
 *           ip daddr . l4proto . th dport -> lookup set -> accept
 *  hairlan: iifname != ext . ct status dnat . ct original ip daddr
 *           -> lookup ext4 . nfproto ipv4 . ip saddr . oifname
 *           -> not in lan4 [. ip daddr . l4proto . th dport -> lookup
 *           fwd4] -> drop  (fwd4 only when it is in the nat table)
 *  hairctr: the same up to ext4 . nfproto ipv4 . ip daddr . l4proto .
 *           th dport -> lookup fwd4 (its counter; no verdict)
 *  masq:    iifname != ext . ct status dnat . ct original ip daddr
 *           -> lookup ext4 -> masquerade
 *  snat:    oifname ext . nfproto ipv4 . l4proto tcp|udp . ip saddr .
 *           l4proto . th sport -> lookup snat4 -> masquerade to :reg 1 */
static int
r_dnat(struct nftnl_rule *r, const struct nft_layout *l, enum nft_rule_id id)
{
	bool rh = id == NFT_RULE_DNAT4_RH;
	uint32_t reg = NFT_REG32_00;

	/* hairpin: from anywhere but the WAN (the LAN check is hairlan's) */
	if (e_ifname(r, NFT_META_IIFNAME, id == NFT_RULE_HAIR4 ? NFT_CMP_NEQ : NFT_CMP_EQ,
		     l->ext_ifname) < 0)
		return -1;
	/* to one of the gateway's external addresses (issue 14, finding 8) */
	if (e_nfproto(r, NFPROTO_IPV4) < 0 || e_ip(r, IPV4_DADDR_OFF, reg) < 0 ||
	    e_lookup(r, l, NFT_SET_EXT4, false) < 0)
		return -1;
	if (rh && e_ip(r, IPV4_SADDR_OFF, reg++) < 0)
		return -1;
	if (e_proto_port_lookup(r, l, reg, TH_DPORT_OFF,
				rh ? NFT_SET_DNAT4_RH : NFT_SET_DNAT4) < 0)
		return -1;
	return e_dnat4(r);
}

static int
r_forward(struct nftnl_rule *r, const struct nft_layout *l, enum nft_rule_id id)
{
	bool rh = id == NFT_RULE_FWD4_RH;
	uint32_t reg = NFT_REG32_00;

	if (e_ifname(r, NFT_META_IIFNAME, NFT_CMP_EQ, l->ext_ifname) < 0 || e_ct_dnat(r) < 0 ||
	    e_nfproto(r, NFPROTO_IPV4) < 0)
		return -1;
	if (rh && e_ip(r, IPV4_SADDR_OFF, reg++) < 0)
		return -1;
	if (e_ip(r, IPV4_DADDR_OFF, reg++) < 0 ||
	    e_proto_port_lookup(r, l, reg, TH_DPORT_OFF, rh ? NFT_SET_FWD4_RH : NFT_SET_FWD4) < 0)
		return -1;
	return e_accept(r);
}

/* Hairpinned flows: not from the WAN, DNATed, originally addressed to an
 * external address. */
static int
e_hairpinned(struct nftnl_rule *r, const struct nft_layout *l)
{
	if (e_ifname(r, NFT_META_IIFNAME, NFT_CMP_NEQ, l->ext_ifname) < 0 || e_ct_dnat(r) < 0 ||
	    e_ct_orig_daddr(r) < 0)
		return -1;
	return e_lookup(r, l, NFT_SET_EXT4, false);
}

/* ip daddr . l4proto . th dport -> lookup fwd4: the internal side of a
 * mapping (after the DNAT); its element's counter counts the packet. */
static int
e_fwd4(struct nftnl_rule *r, const struct nft_layout *l)
{
	if (e_nfproto(r, NFPROTO_IPV4) < 0 || e_ip(r, IPV4_DADDR_OFF, NFT_REG32_00) < 0)
		return -1;
	return e_proto_port_lookup(r, l, NFT_REG32_01, TH_DPORT_OFF, NFT_SET_FWD4);
}

/* A hairpinned flow that does not go back out into the served LAN its
 * client is in is dropped: a mapping's client reaches it only from its
 * own LAN (as the route to the internal host says).  The client is the
 * source address (postrouting's SNAT comes after), its LAN the subnet of
 * a served LAN: ip saddr . oifname in lan4.  Not iifname: measured on
 * Linux 6.18, in postrouting iifname named the WAN for a flow from
 * outside but did not match lan0 for a hairpinned flow from lan0 back
 * into lan0.  In postrouting, the nat table's chain that every
 * layout (and every integration, for the masquerade) has, before the
 * count and the masquerade: whichever the tables, and a firewall's
 * forward chain that accepts DNATed flows before igdd's cannot let one
 * past.  The nat chain sees a flow's first packet only: dropped, the
 * flow is never set up.  When the forward sets are in the nat table,
 * only flows to a mapping's internal side (fwd4, after the LANs so that
 * only a dropped packet counts there); else every flow DNATed from an
 * external address is held to its client's LAN. */
static int
r_hairlan(struct nftnl_rule *r, const struct nft_layout *l)
{
	if (e_hairpinned(r, l) < 0 || e_nfproto(r, NFPROTO_IPV4) < 0 ||
	    e_ip(r, IPV4_SADDR_OFF, NFT_REG32_00) < 0 ||
	    e_meta(r, NFT_META_OIFNAME, NFT_REG32_01) < 0 ||
	    e_lookup_flags(r, l, NFT_SET_LAN4, false, NFT_LOOKUP_F_INV) < 0 ||
	    (nft_fwd_in_nat(l) && e_fwd4(r, l) < 0))
		return -1;
	return e_verdict(r, NF_DROP);
}

/* The hairpinned flow's first packet counted in its mapping's forward
 * element (the forward rules see only what comes from the WAN): igdd's
 * own table only, where the DNAT maps have no counters. */
static int
r_hairctr(struct nftnl_rule *r, const struct nft_layout *l)
{
	return e_hairpinned(r, l) < 0 ? -1 : e_fwd4(r, l);
}

/* The reply of a hairpinned flow must come back through the gateway. */
static int
r_masq(struct nftnl_rule *r, const struct nft_layout *l)
{
	return e_hairpinned(r, l) < 0 ? -1 : e_masq(r, false);
}

/* nft wants the protocol named before a port it translates to: one rule
 * per protocol. */
static int
r_snat(struct nftnl_rule *r, const struct nft_layout *l, uint8_t proto)
{
	if (e_ifname(r, NFT_META_OIFNAME, NFT_CMP_EQ, l->ext_ifname) < 0 ||
	    e_nfproto(r, NFPROTO_IPV4) < 0 || e_l4proto(r, proto) < 0 ||
	    e_ip(r, IPV4_SADDR_OFF, NFT_REG32_00) < 0 ||
	    e_proto_port_lookup(r, l, NFT_REG32_01, TH_SPORT_OFF, NFT_SET_SNAT4) < 0)
		return -1;
	return e_masq(r, true);
}

/* The IPv6 rules of the forward chain, all from ext_ifname6:
 *  pin6:    [ip6 saddr .] [th sport .] ip6 daddr . l4proto . th dport
 *           -> lookup set -> accept (pin6_rh, pin6_rhost, pin6_rport, pin6)
 *  v6_est:  ct state established,related accept
 *  v6_icmp: meta l4proto ipv6-icmp accept (errors, echo: RFC 4890)
 *  v6_drop: drop */
static int
r_v6(struct nftnl_rule *r, const struct nft_layout *l, enum nft_rule_id id)
{
	static const enum nft_set_id pin_sets[] = { NFT_SET_PIN6_RH, NFT_SET_PIN6_RHOST,
						    NFT_SET_PIN6_RPORT, NFT_SET_PIN6 };
	bool host = id == NFT_RULE_PIN6_RH || id == NFT_RULE_PIN6_RHOST;
	bool port = id == NFT_RULE_PIN6_RH || id == NFT_RULE_PIN6_RPORT;
	uint32_t reg = NFT_REG32_00;

	if (e_ifname(r, NFT_META_IIFNAME, NFT_CMP_EQ, l->ext_ifname6) < 0 ||
	    e_nfproto(r, NFPROTO_IPV6) < 0)
		return -1;
	switch (id) {
	case NFT_RULE_V6_EST:
		return e_ct_bits(r, NFT_CT_STATE, CT_STATE_EST_REL) < 0 ? -1 : e_accept(r);
	case NFT_RULE_V6_ICMP:
		return e_l4proto(r, IPPROTO_ICMPV6) < 0 ? -1 : e_accept(r);
	case NFT_RULE_V6_DROP:
		return e_verdict(r, NF_DROP);
	default:
		break;
	}
	/* registers: [saddr: 4,] [sport: 1,] daddr: 4, l4proto, dport */
	if (host && e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, IPV6_SADDR_OFF, 16, reg) < 0)
		return -1;
	reg += host ? 4 : 0;
	if (port && e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, TH_SPORT_OFF, 2, reg) < 0)
		return -1;
	reg += port ? 1 : 0;
	if (e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, IPV6_DADDR_OFF, 16, reg) < 0 ||
	    e_proto_port_lookup(r, l, reg + 4, TH_DPORT_OFF,
				pin_sets[id - NFT_RULE_PIN6_RH]) < 0)
		return -1;
	return e_accept(r);
}

static int
rule_exprs(struct nftnl_rule *r, const struct nft_layout *l, enum nft_rule_id id)
{
	switch (id) {
	case NFT_RULE_DNAT4_RH:
	case NFT_RULE_DNAT4:
	case NFT_RULE_HAIR4:
		return r_dnat(r, l, id);
	case NFT_RULE_FWD4_RH:
	case NFT_RULE_FWD4:
		return r_forward(r, l, id);
	case NFT_RULE_HAIRLAN4:
		return r_hairlan(r, l);
	case NFT_RULE_HAIRCTR4:
		return r_hairctr(r, l);
	case NFT_RULE_MASQ4:
		return r_masq(r, l);
	case NFT_RULE_SNAT4_TCP:
		return r_snat(r, l, IPPROTO_TCP);
	case NFT_RULE_SNAT4_UDP:
		return r_snat(r, l, IPPROTO_UDP);
	case NFT_RULE_PIN6_RH:
	case NFT_RULE_PIN6_RHOST:
	case NFT_RULE_PIN6_RPORT:
	case NFT_RULE_PIN6:
	case NFT_RULE_V6_EST:
	case NFT_RULE_V6_ICMP:
	case NFT_RULE_V6_DROP:
		return r_v6(r, l, id);
	default:
		return -1;
	}
}

/* The rule's table, chain and expressions as igdd encodes them, hashed
 * (64-bit FNV-1a over the message built in a zeroed buffer): a rule in
 * the kernel whose userdata carries this digest is this rule. */
static int
rule_digest(struct nftnl_rule *r, uint16_t family, uint64_t *digest)
{
	/* A netlink message's most: libnftnl writes without bounds (a rule
	 * of igdd's is about a kilobyte).  Mapped for the call, zeroed by the
	 * kernel: only the pages written become resident, and they go back
	 * at once (freed heap memory would stay: the trim threshold is 128
	 * KiB). */
	const size_t size = 65536;
	uint8_t *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct nlmsghdr *nlh;

	if (buf == MAP_FAILED)
		return -1;
	nlh = nftnl_nlmsg_build_hdr((char *)buf, NFT_MSG_NEWRULE, family, 0, 0);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	*digest = fnv1a64(FNV1A64_INIT, mnl_nlmsg_get_payload(nlh), mnl_nlmsg_get_payload_len(nlh));
	munmap(buf, size);
	return 0;
}

/* The rule for id, without its userdata; NULL on failure. */
static struct nftnl_rule *
rule_build(const struct nft_layout *l, enum nft_rule_id id, uint16_t *family)
{
	const char *table, *chain;
	struct nftnl_rule *r;

	chain = nft_chain_name(l, nft_rule_chain(l, id), &table, family);
	if ((r = nftnl_rule_alloc()) == NULL)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, *family);
	if (rule_exprs(r, l, id) < 0) {
		nftnl_rule_free(r);
		return NULL;
	}
	return r;
}

int
nft_rule_digest(const struct nft_layout *l, enum nft_rule_id id, uint64_t *digest)
{
	uint16_t family;
	struct nftnl_rule *r = rule_build(l, id, &family);
	int rc;

	if (r == NULL)
		return -1;
	rc = rule_digest(r, family, digest);
	nftnl_rule_free(r);
	return rc;
}

int
nft_msg_rule(struct nft_batch *bt, const struct nft_layout *l, enum nft_rule_id id)
{
	uint16_t family;
	struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(64);
	struct nftnl_rule *r = rule_build(l, id, &family);
	struct nlmsghdr *nlh;
	uint64_t digest;
	int rc = -1;

	if (r == NULL || ud == NULL || rule_digest(r, family, &digest) < 0)
		goto out;
	/* nft's comment TLV, so `nft list` shows comment "igdd" and igdd can
	 * find its own rules in a shared chain; the digest, so that a start
	 * can tell its own table's rules are in place (nft shows it not) */
	if (!nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, NFT_TAG) ||
	    !nftnl_udata_put(ud, NFT_UDATA_DIGEST, sizeof(digest), &digest))
		goto out;
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
			    nftnl_udata_buf_len(ud));
	nlh = msg_hdr(bt, NFT_MSG_NEWRULE, family, NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	rc = msg_done(bt);
out:
	if (ud != NULL)
		nftnl_udata_buf_free(ud);
	if (r != NULL)
		nftnl_rule_free(r);
	return rc;
}

struct udata_seen {
	bool tagged;
	uint64_t digest;
};

static int
udata_cb(const struct nftnl_udata *attr, void *data)
{
	struct udata_seen *u = data;
	const char *v = nftnl_udata_get(attr);
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT &&
	    len == sizeof(NFT_TAG) && memcmp(v, NFT_TAG, sizeof(NFT_TAG)) == 0)
		u->tagged = true;
	else if (nftnl_udata_type(attr) == NFT_UDATA_DIGEST && len == sizeof(u->digest))
		memcpy(&u->digest, v, sizeof(u->digest));
	return 0;
}

bool
nft_udata_is_tagged(const void *data, uint32_t len, uint64_t *digest)
{
	struct udata_seen u = { false, 0 };

	if (data != NULL && len > 0)
		nftnl_udata_parse(data, len, udata_cb, &u);
	if (digest != NULL)
		*digest = u.tagged ? u.digest : 0;
	return u.tagged;
}

/* ---- other processes' transactions, as the change listener hears them ---- */

static bool
is_chain(const struct nft_layout *l, const char *name)
{
	return strcmp(name, l->nat_chain) == 0 || strcmp(name, l->forward_chain) == 0 ||
	       strcmp(name, l->post_chain) == 0;
}

static bool
is_set(const struct nft_layout *l, const char *name)
{
	int k;

	for (k = 0; k < NFT_SET_ALL; k++)
		if (nft_set_used(l, (enum nft_set_id)k) && strcmp(name, l->set_name[k]) == 0)
			return true;
	return false;
}

unsigned
nft_event_kind(const struct nft_layout *l, const struct nlmsghdr *nlh, bool *ours)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const char *attr[4] = { NULL, NULL, NULL, NULL };
	const struct nlattr *a;
	unsigned kind = 0;
	uint16_t t;

	*ours = false;
	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)) ||
	    (nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*g)) {
		t = mnl_attr_get_type(a);
		if (t < 4 && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			attr[t] = mnl_attr_get_str(a);
	}
	/* attribute 1 is the table's name in every message of these types */
	if (attr[1] == NULL ||
	    !((g->nfgen_family == l->nat_family && strcmp(attr[1], l->nat_table) == 0) ||
	      (g->nfgen_family == l->filter_family && strcmp(attr[1], l->filter_table) == 0) ||
	      (l->v6 && g->nfgen_family == l->pin_family && strcmp(attr[1], l->filter_table) == 0)))
		return 0;
	switch (nlh->nlmsg_type & 0xff) {
	case NFT_MSG_NEWSETELEM: case NFT_MSG_DELSETELEM:	/* NFTA_SET_ELEM_LIST_SET */
		kind = attr[2] != NULL && is_set(l, attr[2]) ? FW_EV_ELEMS : 0;
		*ours = attr[2] == NULL;
		break;
	case NFT_MSG_NEWSET: case NFT_MSG_DELSET:		/* NFTA_SET_NAME */
		kind = attr[2] != NULL && is_set(l, attr[2]) ? FW_EV_OBJECTS : 0;
		*ours = attr[2] == NULL;
		break;
	case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE:		/* NFTA_RULE_CHAIN */
		kind = attr[2] != NULL && is_chain(l, attr[2]) ? FW_EV_OBJECTS : 0;
		break;
	case NFT_MSG_NEWCHAIN: case NFT_MSG_DELCHAIN:		/* NFTA_CHAIN_NAME */
		kind = attr[3] != NULL && is_chain(l, attr[3]) ? FW_EV_OBJECTS : 0;
		break;
	case NFT_MSG_NEWTABLE: case NFT_MSG_DELTABLE:
		kind = FW_EV_OBJECTS;
		break;
	case NFT_MSG_NEWOBJ: case NFT_MSG_DELOBJ:
	case NFT_MSG_NEWFLOWTABLE: case NFT_MSG_DELFLOWTABLE:
		return 0;				/* another object's */
	default:
		*ours = true;				/* not known: may be */
		return 0;
	}
	*ours |= kind != 0;
	return kind;
}


void
nft_heard_reset(struct nft_heard *h)
{
	h->obj = h->touch = h->whole = false;
}

void
nft_heard_note(struct nft_heard *h, uint32_t pid, bool igdds)
{
	if (h->obj && h->pid != pid)
		h->touch = true;	/* two senders: not one transaction's */
	h->pid = pid;
	h->obj = true;
	h->touch |= igdds;
}

unsigned
nft_heard_newgen(struct nft_heard *h, uint32_t pid, bool fresh)
{
	unsigned r = 0;

	/* a NEWGEN alone: igdd joined again in the middle of that commit
	 * (its notifications were built while nobody listened) */
	if (h->obj && h->pid == pid)
		r = NFT_HEARD_SOME | (h->whole && !h->touch ? NFT_HEARD_CLEAN : 0);
	h->obj = h->touch = false;
	h->whole |= fresh;
	return r;
}

void
nft_gen_ring_reset(struct nft_gen_ring *r)
{
	r->n = r->next = 0;
}

void
nft_gen_ring_add(struct nft_gen_ring *r, uint32_t g)
{
	/* not after the last, or not within half the 32-bit circle of the
	 * oldest (then the comparisons would no longer order them): start
	 * again */
	if (r->n > 0 && ((int32_t)(g - r->gen[(r->next + NFT_GEN_RING - 1) % NFT_GEN_RING]) <= 0 ||
			 (int32_t)(g - r->gen[(r->next + NFT_GEN_RING - r->n) % NFT_GEN_RING]) <= 0))
		nft_gen_ring_reset(r);
	r->gen[r->next] = g;
	r->next = (r->next + 1) % NFT_GEN_RING;
	if (r->n < NFT_GEN_RING)
		r->n++;
}

uint32_t
nft_gen_span_len(uint32_t from, uint32_t to)
{
	return to - from - (from > to);
}

bool
nft_gen_in(uint32_t g, uint32_t from, uint32_t to)
{
	return (int32_t)(g - from) > 0 && (int32_t)(to - g) >= 0;
}

uint32_t
nft_gen_from16(uint32_t ref, uint16_t low)
{
	return ref + (uint16_t)(low - (uint16_t)ref);
}

bool
nft_gen_ring_covers(const struct nft_gen_ring *r, uint32_t from, uint32_t to)
{
	uint32_t want, have = 0;
	unsigned i;

	if (from == to)
		return true;
	if ((int32_t)(to - from) < 0 || (want = nft_gen_span_len(from, to)) > r->n)
		return false;
	/* the entries rise and are distinct: those in (from, to] are all of
	 * it when there are as many as generations there */
	for (i = 0; i < r->n; i++)
		have += nft_gen_in(r->gen[i], from, to);
	return have == want;
}
