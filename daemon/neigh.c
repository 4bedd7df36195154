/* neigh.c - MAC address of a LAN host from the kernel's neighbour table
 * (an RTM_GETNEIGH dump of one family through libmnl: the kernel answers
 * a single-address get only with the device given, and a LAN may have
 * several). */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "neigh.h"
#include "util.h"

#define NEIGH_USABLE	(NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT)

struct neigh_find {
	const struct in6_addr *a;
	uint8_t *mac;
	unsigned *ifindex;
	int found;
};

static int
attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, NDA_MAX) > 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

int
neigh_parse(const struct nlmsghdr *nlh, const struct in6_addr *a, uint8_t mac[6],
	    unsigned *ifindex)
{
	const struct nlattr *tb[NDA_MAX + 1] = { NULL };
	const struct ndmsg *nd;
	struct in6_addr dst;
	struct in_addr v4;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*nd)))
		return 0;
	nd = mnl_nlmsg_get_payload(nlh);
	if (!(nd->ndm_state & NEIGH_USABLE) ||
	    mnl_attr_parse(nlh, sizeof(*nd), attr_cb, tb) < 0 ||
	    tb[NDA_DST] == NULL || tb[NDA_LLADDR] == NULL ||
	    mnl_attr_get_payload_len(tb[NDA_LLADDR]) != 6)
		return 0;
	if (nd->ndm_family == AF_INET && mnl_attr_get_payload_len(tb[NDA_DST]) == 4) {
		memcpy(&v4, mnl_attr_get_payload(tb[NDA_DST]), 4);
		addr_from_v4(&dst, v4);
	} else if (nd->ndm_family == AF_INET6 && mnl_attr_get_payload_len(tb[NDA_DST]) == 16) {
		memcpy(&dst, mnl_attr_get_payload(tb[NDA_DST]), 16);
	} else {
		return 0;
	}
	if (!addr_eq(&dst, a))
		return 0;
	memcpy(mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
	*ifindex = (unsigned)nd->ndm_ifindex;
	return 1;
}

static int
data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct neigh_find *f = data;

	if (!f->found)
		f->found = neigh_parse(nlh, f->a, f->mac, f->ifindex);
	return MNL_CB_OK;
}

int
neigh_lookup(const struct in6_addr *a, uint8_t mac[6], unsigned *ifindex)
{
	char buf[8192];
	struct neigh_find f = { a, mac, ifindex, 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct ndmsg *nd;
	unsigned portid;
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t n;
	int rc = -1;

	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETNEIGH;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nd = mnl_nlmsg_put_extra_header(nlh, sizeof(*nd));
	nd->ndm_family = addr_is_v4(a) ? AF_INET : AF_INET6;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		rc = mnl_cb_run(buf, (size_t)n, seq, portid, data_cb, &f);
		if (rc <= MNL_CB_STOP)
			break;
	}
	rc = rc < 0 || !f.found ? -1 : 0;
out:
	mnl_socket_close(nl);
	return rc;
}
