/* fuzz_nftev.c - libFuzzer harness for what igdd's nftables change
 * listener makes of the notifications it reads (netfilter/nft_msg.c:
 * nft_event_kind, the nft_heard_* accounting, the generation ring), for
 * an own table and for a firewall's shared one (fw4).
 *
 * Input: one selector byte (bit 0: the shared table's layout; bit 1: the
 * listener goes off and on again before the messages), then a stream of
 * netlink messages as one recv() would return them.  A message of type
 * NFT_MSG_NEWGEN takes its generation from the first four bytes of its
 * payload after the nfgenmsg. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>

#include "conf.h"
#include "nft_msg.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct nft_layout layouts[2];
static struct nft_gen_ring ring;
static bool ready;

static void
setup(void)
{
	struct config cfg;
	int i;

	for (i = 0; i < 2; i++) {
		conf_defaults(&cfg);
		str_copy(cfg.ext_ifname, sizeof(cfg.ext_ifname), "wan0");
		cfg.fw_integrate = i == 1;
		if (i == 1)
			str_copy(cfg.upnp_table_name, sizeof(cfg.upnp_table_name), "fw4");
		if (nft_layout_init(&layouts[i], &cfg, true) < 0)
			abort();
	}
	ready = true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(struct nlmsghdr) uint8_t buf[65536];
	const uint16_t newgen = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN;
	const struct nft_layout *l;
	const struct nlmsghdr *nlh;
	struct nft_heard h;
	uint32_t last = 0;
	int left;

	if (!ready)
		setup();
	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	l = &layouts[data[0] & 1];
	memcpy(buf, data + 1, size - 1);	/* aligned, as recv() fills it */
	memset(&h, 0, sizeof(h));
	if (data[0] & 2)
		nft_heard_reset(&h);
	left = (int)(size - 1);
	for (nlh = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
	     nlh = mnl_nlmsg_next(nlh, &left)) {
		bool ours;
		uint32_t g = 0;
		unsigned r;

		/* the framing is the kernel's: mnl_nlmsg_ok() takes a length
		 * of 2^31 or more for a negative one (a fault in libmnl's walk,
		 * not in what igdd makes of a message) */
		if (nlh->nlmsg_len > (uint32_t)left)
			break;
		if (nlh->nlmsg_type != newgen) {
			unsigned kind = nft_event_kind(l, nlh, &ours);

			if (kind != 0 && !ours)
				abort();	/* igdd's object, yet not "ours" */
			nft_heard_note(&h, nlh->nlmsg_pid, ours);
			continue;
		}
		if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(struct nfgenmsg) + 4)
			memcpy(&g, (const uint8_t *)mnl_nlmsg_get_payload(nlh) +
				   sizeof(struct nfgenmsg), 4);
		r = nft_heard_newgen(&h, nlh->nlmsg_pid, g != 0);
		if ((r & NFT_HEARD_CLEAN) && !(r & NFT_HEARD_SOME))
			abort();
		if (g != 0 && (r & NFT_HEARD_CLEAN)) {
			nft_gen_ring_add(&ring, g);
			if (!nft_gen_ring_covers(&ring, g - 1, g) || ring.n > NFT_GEN_RING)
				abort();	/* the one just added */
		}
		(void)nft_gen_ring_covers(&ring, last, nft_gen_from16(last, (uint16_t)g));
		last = g;
	}
	return 0;
}
