/* nft_msg.h - netlink messages of the nftables backend, built without a
 * kernel so that unit tests can build them and parse them back.
 *
 * Layout (own table, the default):
 *   table inet igdd
 *     map dnat4_rh  ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
 *     map dnat4     inet_proto . inet_service : ipv4_addr . inet_service
 *     set fwd4_rh   ipv4_addr . ipv4_addr . inet_proto . inet_service
 *     set fwd4      ipv4_addr . inet_proto . inet_service
 *     set ext4      ipv4_addr: the external addresses (below)
 *     set lan4      ipv4_addr . ifname (flags interval): each served LAN's
 *                   subnet . its name (hairpin, below)
 *     map snat4     ipv4_addr . inet_proto . inet_service : inet_service
 *     chain prerouting (nat, dstnat): two dnat lookups, restricted first,
 *         then the hairpin lookup (dnat4 again, from any other interface)
 *     chain forward (filter, policy accept): two set lookups, accept
 *     chain postrouting (nat, srcnat - 1, before a router's masquerade):
 *         the hairpin LAN check (drop), count and masquerade, then the
 *         SNAT lookups (tcp, udp)
 *     set pin6_rh   ipv6_addr . inet_service . ipv6_addr . inet_proto . inet_service
 *     set pin6_rhost ipv6_addr . ipv6_addr . inet_proto . inet_service
 *     set pin6_rport inet_service . ipv6_addr . inet_proto . inet_service
 *     set pin6      ipv6_addr . inet_proto . inet_service        (IPv6 pinholes)
 *                   a pinhole is in the one set of what it names: remote
 *                   host and port, the host only, the port only, neither
 *                   (exact keys: pinholes of one internal side that
 *                   overlap are distinct elements, which an interval
 *                   set's overlap check would refuse)
 *     chain forward also: four pinhole lookups, most specific first,
 *       accept; with
 *       ipv6_block_inbound, then established/related and ICMPv6 accepted
 *       and the rest from ext_ifname6 dropped
 * Integration: the same maps/sets (prefixed igdd_) in the configured
 * tables, the same rules in the configured chains, tagged comment "igdd";
 * with upnp_nftables_family_split the pinhole sets and rules go to the
 * ip6 table of the filter table's name (same forward chain name).
 * IPv6 needs no NAT: no hairpin or SNAT element for a pinhole (a LAN
 * host reaches another one's IPv6 address directly).
 *
 * Inbound DNAT applies to traffic that arrives on the external interface
 * addressed to one of the gateway's external addresses, the set ext4:
 * the reported address (ext_ip, which on a CGN test host is on no
 * interface) and every IPv4 address of the external interface.  Traffic
 * routed through the gateway to other hosts, or sent to its LAN address,
 * is never translated.  The rules never change; the daemon keeps ext4 in
 * step with the interface (fw_ops.set_addrs, one transaction per address
 * change).  `fib daddr . iif type local` would need no upkeep, but it
 * cannot name ext_ip, and the hairpin rules, which see packets arriving
 * on a LAN interface, need the same set of addresses anyway.
 *
 * Hairpin (hairpin=yes): a packet to an external address arriving on
 * another interface than the WAN is DNATed through dnat4 (the wildcard
 * mappings) as one from the WAN is.  Such a flow (not from the WAN,
 * DNATed, originally to an external address) to a mapping's internal
 * side is dropped in postrouting unless its client (the source address)
 * is of the served LAN it leaves into (ip saddr . oifname in lan4, a set
 * of the nat table: no host of another LAN, nor of an interface igdd
 * does not serve, reaches a mapping; not iifname, which in postrouting
 * did not name the LAN of a flow going back out the way it came, below;
 * integrated into a firewall, the postrouting jump the masquerade needs
 * is all it takes, whatever the firewall's forward chain accepts and
 * whichever the tables; with the forward sets in another table, every
 * hairpinned flow is held to its client's LAN, not only a mapping's);
 * its first packet is counted (the LAN-only use of a mapping, for idle
 * cleanup): in igdd's own table in the mapping's forward element in
 * postrouting, integrated by the lookup of its DNAT element (below); and
 * it is masqueraded so that the reply comes back through the gateway.  A
 * mapping has no hairpin element of its own (an older igdd's map hair4
 * goes at start).  Port preservation
 * (preserve_mapped_ports=yes): a new outbound flow from a mapping's
 * internal address and port leaves with the mapping's external port
 * (masquerade to that port: the address is the external interface's, as
 * the router's own masquerade would pick).  Both are elements added and
 * removed in the same transaction as the mapping's DNAT element (port
 * preservation; lan4 follows the LANs as ext4 follows the addresses).
 *
 * Shared elements.  The forward sets are keyed on what the forward hook
 * sees after DNAT: the internal address and port.  `ct original
 * proto-dst` (the external port) would make the key unique per mapping,
 * but nft 1.0.x cannot parse it back inside a concatenation, so a saved
 * `nft list ruleset` would no longer load.  So two mappings with the same
 * internal side (and remote host) share one forward element and its
 * counter, and the SNAT map, keyed on the internal side whatever the
 * remote host, holds one element for all of them.  The store says what is
 * shared (struct fw_share): a delete keeps a forward element another
 * mapping needs and re-points the SNAT element at a remaining mapping
 * (its heir); an add leaves an SNAT element another mapping holds alone.
 * What stays of the old gap: the counter of a shared forward element
 * counts the traffic of all its mappings (idle cleanup sees them as one).
 *
 * Counters.  Only the sets whose counters are read have per-element
 * counters (fw_ops.counters): the forward sets and the pinhole sets, and
 * integrated, the DNAT maps (a firewall may accept a mapping's flows
 * before its jump to igdd's forward chain, which then sees none of their
 * packets; their lookups see the first packet of each flow, from the WAN
 * or the LAN; a mapping's count adds them).  In the own table the DNAT
 * maps, snat4 and ext4 have none: each counter is a
 * per-CPU allocation of the kernel's per element added, about a quarter of
 * an add's kernel time.  A table of an older igdd, whose every set had
 * counters, does not match (EEXIST), nor does an older igdd_dnat4 or
 * igdd_dnat4_rh without one: the start replaces them and installs the
 * mappings again (init_own, init_integrate). */
#ifndef IGDD_NFT_MSG_H
#define IGDD_NFT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <sys/uio.h>

#include "conf.h"
#include "mapping.h"
#include "fw.h"

struct nftnl_batch;

/* Message types the 6.1 uapi headers lack (kernel 6.3+: delete without
 * ENOENT when the object is missing). */
#define NFT_MSG_DESTROYTABLE_	26
#define NFT_MSG_DESTROYRULE_	28
#define NFT_MSG_DESTROYSET_	29
#define NFT_MSG_DESTROYSETELEM_	30

#define NFT_TAG		"igdd"		/* rule comment marking igdd's rules */
/* The userdata TLV type of a rule's digest: far above nft's own types
 * (comment 0, ebtables policy 1), which nft and libnftnl skip when unknown */
#define NFT_UDATA_DIGEST 0xd1
#define NFT_GRACE_MS	60000		/* element timeout beyond the lease */
/* The longest element timeout given: the longest lease a protocol can ask
 * (2^32 - 1 s, ~136 years).  The kernel refuses a timeout of 2^64 ns
 * (~584 years) or more with ERANGE, and with it the whole transaction. */
#define NFT_TIMEOUT_MAX_MS	((uint64_t)UINT32_MAX * 1000u)
#define NFT_KEY_MAX	48		/* 12 registers: pin6_rh's key is 44 bytes */
#define NFT_ELEMS_PER_MSG 64		/* keeps each message far below 64 KiB */

enum nft_set_id {
	NFT_SET_DNAT4_RH,
	NFT_SET_DNAT4,
	NFT_SET_FWD4_RH,
	NFT_SET_FWD4,
	NFT_SET_EXT4,			/* the external addresses, no mapping's */
	NFT_SET_LAN4,			/* hairpin: the served LANs, no mapping's */
	NFT_SET_SNAT4,			/* port preservation: internal side -> eport */
	NFT_SET_COUNT,			/* the IPv4 sets */
	NFT_SET_PIN6_RH = NFT_SET_COUNT,	/* IPv6 pinholes (layout v6): remote */
	NFT_SET_PIN6_RHOST,		/* host and port, host, port, */
	NFT_SET_PIN6_RPORT,
	NFT_SET_PIN6,			/* neither */
	NFT_SET_ALL,
};

enum nft_rule_id {
	NFT_RULE_DNAT4_RH,		/* nat chain, restricted map first */
	NFT_RULE_DNAT4,
	NFT_RULE_HAIR4,			/* nat chain, hairpin */
	NFT_RULE_FWD4_RH,		/* filter chain */
	NFT_RULE_FWD4,
	NFT_RULE_HAIRLAN4,		/* postrouting chain: hairpin to another LAN dropped */
	NFT_RULE_HAIRCTR4,		/* postrouting chain: hairpin counted (forward set) */
	NFT_RULE_MASQ4,			/* postrouting chain: hairpin masquerade */
	NFT_RULE_SNAT4_TCP,		/* postrouting chain: port preservation */
	NFT_RULE_SNAT4_UDP,
	NFT_RULE_COUNT,			/* the IPv4 rules */
	NFT_RULE_PIN6_RH = NFT_RULE_COUNT,	/* filter chain, layout v6 */
	NFT_RULE_PIN6_RHOST,
	NFT_RULE_PIN6_RPORT,
	NFT_RULE_PIN6,
	NFT_RULE_V6_EST,		/* own table with v6_block only */
	NFT_RULE_V6_ICMP,
	NFT_RULE_V6_DROP,
	NFT_RULE_ALL,
};

/* The chain a rule belongs in.  FORWARD6: the ip6 forward chain of the
 * pinhole rules when the families are split (else they are in FORWARD). */
enum nft_chain_id {
	NFT_CHAIN_NAT, NFT_CHAIN_FORWARD, NFT_CHAIN_POST, NFT_CHAIN_FORWARD6, NFT_CHAIN_COUNT
};

/* Where igdd's objects live: one struct, filled from the config. */
struct nft_layout {
	bool own;			/* igdd creates and owns its table */
	bool timeouts;			/* kernel element timeouts (see nft.c) */
	bool hairpin;			/* hairpin=yes (and a postrouting chain) */
	bool preserve;			/* preserve_mapped_ports=yes (the same) */
	uint16_t filter_family, nat_family;	/* NFPROTO_INET or NFPROTO_IPV4 */
	char filter_table[CFG_NAME_MAX], nat_table[CFG_NAME_MAX];
	char forward_chain[CFG_NAME_MAX], nat_chain[CFG_NAME_MAX];
	char post_chain[CFG_NAME_MAX];	/* nat postrouting */
	char set_name[NFT_SET_ALL][CFG_NAME_MAX];
	char ext_ifname[IF_NAMESIZE];
	/* the served LANs, for lan4 (fw_ops.set_addrs) */
	struct fw_lan lan[FW_LAN_MAX];
	size_t n_lan;
	/* IPv6 pinholes: off with ipv6_disable; their family (inet, or ip6
	 * when the families are split), the interface (ext_ifname6), and
	 * whether igdd drops what no pinhole lets in (own table only) */
	bool v6, v6_block;
	uint16_t pin_family;
	char ext_ifname6[IF_NAMESIZE];
};

/* A transaction being built: BATCH_BEGIN, messages, BATCH_END. */
struct nft_batch {
	struct nftnl_batch *b;
	uint32_t seq_begin;		/* seq of BATCH_BEGIN */
	uint32_t seq_next;		/* next seq to use */
	unsigned n_ack;			/* messages that asked for an ack */
	unsigned n_msg;
	bool quiet;			/* messages ask for no ack (a deferral's) */
};

/* Fill l from cfg; -1 with a log line when something is missing. */
int nft_layout_init(struct nft_layout *l, const struct config *cfg, bool timeouts);
/* "inet", "ip", ... for log lines. */
const char *nft_family_name(uint16_t family);
/* Does the layout have this set (the pinhole sets: IPv6 on)? */
bool nft_set_used(const struct nft_layout *l, enum nft_set_id id);
/* The table (and its family) set id lives in. */
const char *nft_set_table(const struct nft_layout *l, enum nft_set_id id, uint16_t *family);

/* Element encoding: concatenations are padded to 4-byte registers, port
 * and address in network order, protocol one byte, an interface name its
 * 16 bytes.  Returns the length, 0 if the mapping does not belong in that
 * set (wrong family/rhost; ext4, lan4: no mapping's;
 * snat4: off; the pin6 sets: not a pinhole, or not of that set). */
size_t nft_elem_key(const struct nft_layout *l, enum nft_set_id id, const struct mapping *m,
		    uint8_t key[NFT_KEY_MAX]);
/* A map element's data: internal address . port (dnat, hair), external
 * port (snat). */
size_t nft_elem_data(enum nft_set_id id, const struct mapping *m, uint8_t data[NFT_KEY_MAX]);
/* Is this rule part of the layout (hairpin, preservation, IPv6, the
 * IPv6 drop)?  Its chain. */
bool nft_rule_on(const struct nft_layout *l, enum nft_rule_id id);
enum nft_chain_id nft_rule_chain(const struct nft_layout *l, enum nft_rule_id id);
/* The chain's name, table and family. */
const char *nft_chain_name(const struct nft_layout *l, enum nft_chain_id c, const char **table,
			   uint16_t *family);
/* Is the chain a chain of its own in this layout (FORWARD6: the pinhole
 * rules with the families split)? */
bool nft_chain_used(const struct nft_layout *l, enum nft_chain_id c);
/* Rules of igdd's in that chain. */
unsigned nft_chain_rules(const struct nft_layout *l, enum nft_chain_id c);
/* The inverse, for a dump: the element of set id (a DNAT map, a forward
 * set or the SNAT map) with this key (and, in a map, data) into *e.  0, or -1 when the
 * set is not one of those or the lengths do not fit it. */
struct fw_elem;
int nft_elem_decode(enum nft_set_id id, const uint8_t *key, size_t klen, const uint8_t *data,
		    size_t dlen, struct fw_elem *e);
/* Has the mapping a remote-host restriction (rhost set, not ::)? */
bool nft_mapping_rh(const struct mapping *m);
/* The two sets a mapping belongs in: its dnat map and its forward set.
 * A pinhole has one: *dnat = *fwd = its pinhole set. */
void nft_mapping_sets(const struct mapping *m, enum nft_set_id *dnat, enum nft_set_id *fwd);

int nft_batch_start(struct nft_batch *bt, uint32_t seq);
/* A batch whose begin carries the ruleset generation genid (0: none):
 * the kernel refuses all of it with ERESTART, under the lock its commit
 * takes, unless the ruleset is still at that generation. */
int nft_batch_start_gen(struct nft_batch *bt, uint32_t seq, uint32_t genid);
void nft_batch_finish(struct nft_batch *bt);	/* appends BATCH_END */
void nft_batch_free(struct nft_batch *bt);
/* A copy of a message of another batch (its seq kept; a quiet batch
 * takes away its ack flag). */
struct nlmsghdr;
int nft_batch_append(struct nft_batch *bt, const struct nlmsghdr *nlh);
/* Messages' total size and a contiguous copy for tests. */
size_t nft_batch_len(struct nft_batch *bt);
int nft_batch_iov(struct nft_batch *bt, struct iovec **iov, int *n);

/* Element messages: type NFT_MSG_NEWSETELEM / DELSETELEM / DESTROYSETELEM_
 * for ms[0..n) in set id (split into several messages as needed); now_ms
 * and the layout decide the element timeout. n == 0 with DELSETELEM
 * flushes the set. */
int nft_msg_elems(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
		  uint16_t type, const struct mapping *const *ms, size_t n, uint64_t now_ms);
/* The same for one raw key (used to remove a stale element). */
int nft_msg_elem_key(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
		     uint16_t type, const uint8_t *key, size_t keylen);
/* The set of external addresses: a flush and these n addresses. */
int nft_msg_ext_addrs(struct nft_batch *bt, const struct nft_layout *l,
		      const struct in_addr *a, size_t n);
/* lan4: a flush and, with hairpin on, l's LANs (subnet . name; a LAN
 * without an IPv4 address has none). */
int nft_msg_lans(struct nft_batch *bt, const struct nft_layout *l);
/* An older igdd's hairpin map (hair4) deleted (type DESTROYSET: whether
 * it is there or not). */
int nft_msg_old_hair4(struct nft_batch *bt, const struct nft_layout *l, uint16_t type);
/* Its name (in the nat table). */
const char *nft_old_hair4_name(const struct nft_layout *l);
/* Can the nat chains look up the forward sets (the same table)? */
bool nft_fwd_in_nat(const struct nft_layout *l);
/* Do the set's elements count packets (a counter each)? */
bool nft_set_counts(const struct nft_layout *l, enum nft_set_id id);

/* Init objects. */
int nft_msg_table(struct nft_batch *bt, const struct nft_layout *l, uint16_t type);
int nft_msg_chains(struct nft_batch *bt, const struct nft_layout *l);
int nft_msg_flush_chains(struct nft_batch *bt, const struct nft_layout *l);
int nft_msg_set(struct nft_batch *bt, const struct nft_layout *l, enum nft_set_id id,
		uint16_t type);
int nft_msg_rule(struct nft_batch *bt, const struct nft_layout *l, enum nft_rule_id id);
/* Delete the rule with this handle; handle 0 = every rule of the chain. */
int nft_msg_rule_del(struct nft_batch *bt, uint16_t family, const char *table,
		     const char *chain, uint64_t handle);

/* What a notification (from another process: nft.c's filter drops
 * igdd's own) says about igdd's objects: FW_EV_* bits.  *ours: it may
 * concern the elements of igdd's sets (one of igdd's objects, or a message
 * of a type not known here in one of igdd's tables: a reconcile does not
 * let its transaction pass, nft_elems_moved()). */
struct nlmsghdr;
unsigned nft_event_kind(const struct nft_layout *l, const struct nlmsghdr *nlh, bool *ours);

/* What igdd's change listener (nft.c) makes of other processes'
 * notifications: kept here, apart from the socket, to be tested alone.
 * A transaction's notifications come together and then its NEWGEN (the
 * commit mutex), each built only while someone listens: the listener goes
 * off for igdd's own bulk changes and its clients' batches. */
struct nft_heard {
	uint32_t pid;		/* whose notification came last since the last NEWGEN */
	bool obj;		/* one came */
	bool touch;		/* one of them named igdd's objects */
	bool whole;		/* listening since before the last NEWGEN read: the
				 * next transaction is heard from its start */
};
#define NFT_HEARD_SOME	1u	/* its notifications came before its NEWGEN (from
				 * where igdd joined again, if it did meanwhile) */
#define NFT_HEARD_CLEAN	2u	/* ... all of them, and none named igdd's objects */

/* The listener went off or came on (after what it held was read). */
void nft_heard_reset(struct nft_heard *h);
/* A notification from pid; igdds: it names igdd's objects. */
void nft_heard_note(struct nft_heard *h, uint32_t pid, bool igdds);
/* A NEWGEN from pid: NFT_HEARD_* bits of its transaction.  fresh: its
 * transaction came after the listener came on (not one queued before it
 * went off, read only now): the next one is heard from its start. */
unsigned nft_heard_newgen(struct nft_heard *h, uint32_t pid, bool fresh);

/* The generations of the last NFT_GEN_RING transactions of other
 * processes heard NFT_HEARD_CLEAN, in the order heard (rising: the kernel
 * sends them in commit order).  A reconcile's dump asks whether every
 * generation between two of its parts is one of them: then its sets did
 * not change meanwhile. */
#define NFT_GEN_RING 4096	/* 16 KiB: a neighbour at ~1,000 a second, a 1 s read */
struct nft_gen_ring {
	uint32_t gen[NFT_GEN_RING];
	unsigned n, next;	/* how many held (NFT_GEN_RING at most), where the next goes */
};

void nft_gen_ring_reset(struct nft_gen_ring *r);
/* g after the last one added and within 2^31 of the oldest (else the
 * ring starts again with g). */
void nft_gen_ring_add(struct nft_gen_ring *r, uint32_t g);
/* Is every generation after from, up to and with to, in the ring? */
bool nft_gen_ring_covers(const struct nft_gen_ring *r, uint32_t from, uint32_t to);
/* How many generations are after from, up to and with to (the kernel
 * skips 0 when its counter wraps)? */
uint32_t nft_gen_span_len(uint32_t from, uint32_t to);
/* Is g after from, up to and with to? */
bool nft_gen_in(uint32_t g, uint32_t from, uint32_t to);
/* The generation whose low 16 bits a message carries (nfgenmsg.res_id,
 * host order), the first from ref on. */
uint32_t nft_gen_from16(uint32_t ref, uint16_t low);

/* The backend's handle without touching the kernel: for tools (fwctl
 * check/del/shutdown of what an earlier process set up).  nft_ops.init
 * is the daemon's constructor. */
struct fw;
struct fw *nft_attach(const struct config *cfg);

/* Is a rule's userdata igdd's tag?  digest (if not NULL): the rule's
 * digest from it (nft_rule_digest()), 0 if none. */
bool nft_udata_is_tagged(const void *data, uint32_t len, uint64_t *digest);
/* The digest igdd's rule id carries in its userdata (nft_msg_rule()). */
int nft_rule_digest(const struct nft_layout *l, enum nft_rule_id id, uint64_t *digest);

#endif
