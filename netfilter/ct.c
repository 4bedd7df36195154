/* ct.c - PCP PEER's outbound mappings as conntrack entries (ctnetlink
 * through libmnl, a socket per request: PEER is rare next to MAP).
 *
 * A flow (proto, internal endpoint -> peer) is looked up (IPCTNL_MSG_CT_GET
 * on the original tuple); when it exists its timeout becomes the lifetime
 * (a CT_NEW without NLM_F_CREATE changes it) and its reply tuple names the
 * external side.  When it does not, it is created: original tuple, the
 * reply tuple before NAT, the timeout, and for IPv4 a source NAT to the
 * external address and the suggested port (or the internal one), any port
 * from 1024 when that one is taken.  IPv6 is not translated: the external
 * side is the internal endpoint, and the entry lets the peer's answers in
 * as the reply direction of a known flow. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>

#include "ct.h"
#include "util.h"

#define CT_BUF	1024

static void
put_addrs(struct nlmsghdr *nlh, bool v4, const struct in6_addr *src, const struct in6_addr *dst)
{
	struct nlattr *ip = mnl_attr_nest_start(nlh, CTA_TUPLE_IP);

	if (v4) {
		mnl_attr_put(nlh, CTA_IP_V4_SRC, 4, &src->s6_addr[12]);
		mnl_attr_put(nlh, CTA_IP_V4_DST, 4, &dst->s6_addr[12]);
	} else {
		mnl_attr_put(nlh, CTA_IP_V6_SRC, 16, src);
		mnl_attr_put(nlh, CTA_IP_V6_DST, 16, dst);
	}
	mnl_attr_nest_end(nlh, ip);
}

static void
put_tuple(struct nlmsghdr *nlh, uint16_t type, bool v4, uint8_t proto,
	  const struct in6_addr *src, uint16_t sport, const struct in6_addr *dst, uint16_t dport)
{
	struct nlattr *t = mnl_attr_nest_start(nlh, type), *pr;

	put_addrs(nlh, v4, src, dst);
	pr = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
	mnl_attr_put_u8(nlh, CTA_PROTO_NUM, proto);
	mnl_attr_put_u16(nlh, CTA_PROTO_SRC_PORT, htons(sport));
	mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, htons(dport));
	mnl_attr_nest_end(nlh, pr);
	mnl_attr_nest_end(nlh, t);
}

/* IPv4 source NAT to nat_addr, ports lo..hi. */
static void
put_snat(struct nlmsghdr *nlh, struct in_addr a, uint16_t lo, uint16_t hi)
{
	struct nlattr *nat = mnl_attr_nest_start(nlh, CTA_NAT_SRC), *pn;

	mnl_attr_put(nlh, CTA_NAT_V4_MINIP, 4, &a.s_addr);
	mnl_attr_put(nlh, CTA_NAT_V4_MAXIP, 4, &a.s_addr);
	pn = mnl_attr_nest_start(nlh, CTA_NAT_PROTO);
	mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MIN, htons(lo));
	mnl_attr_put_u16(nlh, CTA_PROTONAT_PORT_MAX, htons(hi));
	mnl_attr_nest_end(nlh, pn);
	mnl_attr_nest_end(nlh, nat);
}

size_t
ct_msg(char *buf, size_t size, uint16_t type, uint32_t seq, const struct ct_peer *p,
       bool create, uint16_t lo, uint16_t hi)
{
	bool v4 = addr_is_v4(&p->iaddr);
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (size < CT_BUF)
		return 0;
	memset(buf, 0, CT_BUF);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (create)
		nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_EXCL;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = v4 ? AF_INET : AF_INET6;
	nfg->version = NFNETLINK_V0;
	put_tuple(nlh, CTA_TUPLE_ORIG, v4, p->proto, &p->iaddr, p->iport, &p->peer, p->pport);
	if (type == IPCTNL_MSG_CT_NEW) {
		if (create)
			put_tuple(nlh, CTA_TUPLE_REPLY, v4, p->proto, &p->peer, p->pport,
				  &p->iaddr, p->iport);
		mnl_attr_put_u32(nlh, CTA_TIMEOUT, htonl(p->lifetime != 0 ? p->lifetime : 1));
		if (create && v4)
			put_snat(nlh, p->nat_addr, lo, hi);
	}
	return nlh->nlmsg_len;
}

/* Attribute tables of one nesting level. */
static int
attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type <= CTA_MAX)
		tb[type] = attr;
	return MNL_CB_OK;
}

int
ct_parse_reply(const struct nlmsghdr *nlh, struct in6_addr *ext, uint16_t *eport)
{
	const struct nlattr *tb[CTA_MAX + 1] = { NULL }, *tt[CTA_MAX + 1] = { NULL };
	const struct nlattr *ti[CTA_MAX + 1] = { NULL }, *tp[CTA_MAX + 1] = { NULL };
	struct in_addr v4;

	if ((nlh->nlmsg_type & 0xff) != IPCTNL_MSG_CT_NEW ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)) ||
	    mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0 ||
	    tb[CTA_TUPLE_REPLY] == NULL ||
	    mnl_attr_parse_nested(tb[CTA_TUPLE_REPLY], attr_cb, tt) < 0 ||
	    tt[CTA_TUPLE_IP] == NULL || tt[CTA_TUPLE_PROTO] == NULL ||
	    mnl_attr_parse_nested(tt[CTA_TUPLE_IP], attr_cb, ti) < 0 ||
	    mnl_attr_parse_nested(tt[CTA_TUPLE_PROTO], attr_cb, tp) < 0 ||
	    tp[CTA_PROTO_DST_PORT] == NULL ||
	    mnl_attr_get_payload_len(tp[CTA_PROTO_DST_PORT]) != 2)
		return -1;
	if (ti[CTA_IP_V4_DST] != NULL && mnl_attr_get_payload_len(ti[CTA_IP_V4_DST]) == 4) {
		memcpy(&v4, mnl_attr_get_payload(ti[CTA_IP_V4_DST]), 4);
		addr_from_v4(ext, v4);
	} else if (ti[CTA_IP_V6_DST] != NULL && mnl_attr_get_payload_len(ti[CTA_IP_V6_DST]) == 16) {
		memcpy(ext, mnl_attr_get_payload(ti[CTA_IP_V6_DST]), 16);
	} else {
		return -1;
	}
	*eport = ntohs(mnl_attr_get_u16(tp[CTA_PROTO_DST_PORT]));
	return 0;
}

struct ct_found {
	struct in6_addr ext;
	uint16_t eport;
	bool found;
};

static int
data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ct_found *f = data;

	if (!f->found && ct_parse_reply(nlh, &f->ext, &f->eport) == 0)
		f->found = true;
	return MNL_CB_OK;
}

/* One request, its answer into f (may be NULL); 0 or -1 with errno. */
static int
ct_query(struct mnl_socket *nl, char *buf, size_t len, struct ct_found *f)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	char rbuf[8192];
	ssize_t n;
	int rc;

	if (mnl_socket_sendto(nl, buf, len) < 0)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
		if (n < 0)
			return -1;
		rc = mnl_cb_run(rbuf, (size_t)n, seq, portid, f != NULL ? data_cb : NULL, f);
		if (rc <= MNL_CB_STOP)
			return rc < 0 ? -1 : 0;
	}
}

/* Create the flow: NAT from the suggested port, else any from 1024. */
static int
ct_create(struct mnl_socket *nl, char *buf, struct ct_peer *p, uint32_t seq)
{
	uint16_t want = p->want_eport != 0 ? p->want_eport : p->iport;
	size_t len = ct_msg(buf, CT_BUF, IPCTNL_MSG_CT_NEW, seq, p, true, want, want);

	if (len == 0)
		return -1;
	if (ct_query(nl, buf, len, NULL) == 0)
		return 0;
	if (!addr_is_v4(&p->iaddr) || (errno != EEXIST && errno != EBUSY))
		return -1;
	len = ct_msg(buf, CT_BUF, IPCTNL_MSG_CT_NEW, seq + 1, p, true, 1024, 65535);
	return len == 0 ? -1 : ct_query(nl, buf, len, NULL);
}

int
ct_peer(struct ct_peer *p)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	uint32_t seq = (uint32_t)time(NULL);
	struct ct_found f = { .found = false };
	char buf[CT_BUF];
	size_t len;
	int rc = -1, e;

	p->created = false;
	if (nl == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	len = ct_msg(buf, sizeof(buf), IPCTNL_MSG_CT_GET, seq++, p, false, 0, 0);
	if (len == 0 || (ct_query(nl, buf, len, &f) < 0 && errno != ENOENT))
		goto out;
	if (f.found) {
		/* an existing flow: its lifetime from now (lifetime 0: ends soon) */
		len = ct_msg(buf, sizeof(buf), IPCTNL_MSG_CT_NEW, seq++, p, false, 0, 0);
		if (len == 0 || ct_query(nl, buf, len, NULL) < 0)
			goto out;
	} else if (p->lifetime == 0) {
		/* nothing to end */
		f.ext = p->iaddr;
		f.eport = p->iport;
		f.found = true;
	} else {
		if (ct_create(nl, buf, p, seq) < 0)
			goto out;
		seq += 2;
		p->created = true;
		len = ct_msg(buf, sizeof(buf), IPCTNL_MSG_CT_GET, seq++, p, false, 0, 0);
		if (len == 0 || ct_query(nl, buf, len, &f) < 0 || !f.found)
			goto out;
	}
	p->ext = f.ext;
	p->eport = f.eport;
	rc = 0;
out:
	e = errno;
	mnl_socket_close(nl);
	errno = e;
	return rc;
}
