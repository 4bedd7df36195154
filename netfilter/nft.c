/* nft.c - the nftables backend: mappings are elements of a few maps and
 * sets looked up by four fixed rules (see nft_msg.h for the layout), so a
 * mapping costs O(1) in the kernel and here.  Each operation is one
 * netlink transaction on one socket kept for the daemon's life; every
 * message asks for an ack and every ack is read and matched to its
 * sequence number, so a refusal is reported and nothing changed.
 *
 * Kernel features used when present (decided once from uname, or from
 * IGDD_KERNEL_RELEASE when set: the tests run the older kernels' ways on
 * a new one, which has both):
 *  - 6.3+: DESTROYSETELEM/DESTROYSET/DESTROYTABLE, deletes that do not
 *    fail on a missing object (a mapping whose element already timed out
 *    is deleted without aborting the transaction).  Older kernels: DEL,
 *    and on ENOENT each element alone.
 *  - 6.12+: re-adding an existing element updates its timeout (and keeps
 *    its counter), which makes lease refresh one NEWSETELEM.  Only then do
 *    elements get a timeout (remaining lease + NFT_GRACE_MS); before, a
 *    refresh could not extend it and the mapping would die early. */
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/filter.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "conf.h"
#include "fw.h"
#include "log.h"
#include "nft_msg.h"
#include "util.h"

#define ACK_TIMEOUT_MS	5000
#define RCVBUF_BYTES	(4 * 1024 * 1024)	/* room for a big batch's acks */
#define RECV_BUF	(64 * 1024)
#define REQ_BUF		1024		/* one get request */
#define MAX_TAGGED	64
#define LAYOUT_VERSION	1u		/* 0: hair4 elements (before lan4) */

/* A contents check under way (fw_ops.verify_start/verify_step). */
struct nft_verify {
	struct mnl_socket *nl;
	size_t want[NFT_SET_ALL];	/* SIZE_MAX: not checked */
	size_t have;
	int set;			/* being dumped */
	uint32_t seq;
	bool agree;
};

/* Deferred changes (fw_ops.defer/flush): the messages of each change,
 * one after the other in one quiet batch (begun by the first change:
 * bt.b == NULL until then), built in place. */
struct fw_queue {
	struct nft_batch bt;
	unsigned n_changes;
	bool on, failed;	/* failed: a change could not be queued */
};

/* The generations of a set's first and last part in a reconcile's dump. */
struct gen_span {
	uint32_t from, to;
};

struct fw {
	struct mnl_socket *nl;
	struct mnl_socket *ev;	/* change notifications (NFNLGRP_NFTABLES), lazily */
	uint32_t portid;
	uint32_t seq;		/* transactions */
	uint32_t qseq;		/* gets and dumps, in their own range */
	int sndbuf;
	bool has_destroy;
	bool addrs_known;	/* addrs is what the kernel's ext4 holds */
	struct fw_addrs addrs;
	struct nft_verify verify;
	struct fw_queue q;
	char state_id[48];		/* boot and network namespace (fw_ops.generation) */
	uint32_t start_gen;		/* the generation before init (its transaction
					 * was taken at it: init_own(), init_integrate()),
					 * 0 if unknown or it lost elements */
	uint32_t commit_gen;		/* the generation our last transaction made (its
					 * NEWGEN echo), 0 if unknown: then a GETGEN */
	bool fresh;			/* this start made igdd's sets: they hold nothing */
	unsigned commits;		/* transactions the kernel took (and the pipe's) */
	uint32_t deaf_gen;		/* the generation as the listener went off ... */
	unsigned deaf_commits;		/* ... and commits then (events_deaf()) */
	/* A deferral's transaction, sent with the listener off: every
	 * generation after sync_gen is one of igdd's commits since
	 * sync_commits or one another process's that was heard (its NEWGEN
	 * notification; events_account()).  sync_gen 0: not known. */
	uint32_t sync_gen;
	unsigned sync_commits;
	unsigned heard;			/* others' NEWGENs heard after sync_gen */
	struct nft_heard hear;		/* others' transactions, as they are heard */
	uint32_t listen_gen;		/* NEWGENs up to it were queued before the
					 * listener went off (0: none to come) */
	unsigned drop_commits;		/* commits as it went off */
	uint32_t ev_gen_last;		/* the generation of the last NEWGEN read */
	unsigned ev_losses;		/* the listener's overflows (ENOBUFS) */
	struct nft_gen_ring others;	/* others' transactions heard whole that
					 * touched none of igdd's objects */
	unsigned ev_kinds;		/* FW_EV_* read or latched, not yet taken
					 * (nft_events_read()) */
	uint64_t unseen_logged;		/* when an unseen one was logged last */
	unsigned unseen;		/* ... and how many since, not logged */
	struct mnl_socket *dump;	/* a reconcile's dump (elems_start), its own socket */
	int dump_set;			/* the set being dumped */
	uint32_t dump_seq;
	uint32_t dump_base;		/* the generation as it started (0: unknown) */
	uint32_t dump_ref;		/* the last one known (the parts carry 16 bits) */
	uint32_t dump_gen, dump_last;	/* the generations of its first and last part */
	bool dump_first;		/* its first part is to come */
	bool dump_moved;		/* a set's parts carried two generations, and
					 * which came between is not known */
	unsigned dump_losses;		/* ev_losses as it started */
	unsigned dump_spans;		/* sets whose parts carried two generations */
	struct gen_span dump_span[NFT_SET_COUNT];
	struct fw_pipe *pipe;		/* a restore's install beside the replay (pipe_*) */
	struct nft_layout l;
	_Alignas(struct nlmsghdr) char rbuf[RECV_BUF];	/* replies: acks and dumps, one at a time */
};

/* ---- kernel features ---- */

static int
kernel_version(unsigned *major, unsigned *minor)
{
	unsigned long long v[2];
	struct utsname u;
	const char *p, *s;
	int i;

	p = getenv("IGDD_KERNEL_RELEASE");
	if (p == NULL || *p == '\0') {
		if (uname(&u) < 0)
			return -1;
		p = u.release;
	}
	for (i = 0; i < 2; i++) {
		s = p;
		while (*p >= '0' && *p <= '9')
			p++;
		if (parse_uint_n(s, (size_t)(p - s), 0, 1000, &v[i]) < 0)
			return -1;
		if (i == 0 && *p++ != '.')
			return -1;
	}
	*major = (unsigned)v[0];
	*minor = (unsigned)v[1];
	return 0;
}

static bool
kernel_at_least(unsigned maj, unsigned min)
{
	unsigned a, b;

	if (kernel_version(&a, &b) < 0)
		return false;
	return a > maj || (a == maj && b >= min);
}

/* ---- transport ---- */

static void pipe_quiesce(struct fw *fw);

static uint32_t
next_seq(struct fw *fw, unsigned n)
{
	uint32_t s = fw->qseq;

	fw->qseq += n;
	return s;
}

/* A batch in bt; gen != 0: the kernel takes it only at that ruleset
 * generation (ERESTART otherwise: init_own(), init_integrate()). */
static int
batch_start(struct fw *fw, struct nft_batch *bt, uint32_t gen)
{
	if (nft_batch_start_gen(bt, fw->seq, gen) < 0) {
		nft_batch_free(bt);	/* its buffer, when the begin did not fit */
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

static void
grow_sndbuf(struct fw *fw, size_t len)
{
	int want;

	if (len + 4096 <= (size_t)fw->sndbuf || len > (size_t)(1 << 30))
		return;
	want = (int)len + 4096;
	/* FORCE needs CAP_NET_ADMIN, which a process talking to nftables has. */
	if (setsockopt(mnl_socket_get_fd(fw->nl), SOL_SOCKET, SO_SNDBUFFORCE,
		       &want, sizeof(want)) < 0)
		setsockopt(mnl_socket_get_fd(fw->nl), SOL_SOCKET, SO_SNDBUF,
			   &want, sizeof(want));
	fw->sndbuf = want;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data);

/* One reply if one is queued (as mnl_socket_recvfrom(), without waiting):
 * -1 with EAGAIN if none. */
static ssize_t
recv_now(struct fw *fw, char *buf)
{
	struct sockaddr_nl addr;
	struct iovec iov = { buf, RECV_BUF };
	struct msghdr msg = { .msg_name = &addr, .msg_namelen = sizeof(addr), .msg_iov = &iov,
			      .msg_iovlen = 1 };
	ssize_t n = recvmsg(mnl_socket_get_fd(fw->nl), &msg, MSG_DONTWAIT);

	if (n < 0 && errno == EWOULDBLOCK)
		errno = EAGAIN;
	if (n >= 0 && (msg.msg_flags & MSG_TRUNC)) {
		errno = ENOSPC;
		return -1;
	}
	if (n >= 0 && msg.msg_namelen != sizeof(addr)) {
		errno = EINVAL;
		return -1;
	}
	return n;
}

/* Read the acks of the batch [seq_begin, seq_end): one per message that
 * asked for one (and the generation its commit made, when its begin asked
 * for an echo: nft_flush()).  Returns 0, or -1 with errno of the first
 * refusal. */
static int
read_acks(struct fw *fw, uint32_t seq_begin, uint32_t seq_end, unsigned expect,
	  uint32_t *bad_seq)
{
	char *buf = fw->rbuf;
	unsigned acks = 0;
	int err = 0;

	while (acks < expect) {
		struct pollfd p = { .fd = mnl_socket_get_fd(fw->nl), .events = POLLIN };
		struct nlmsghdr *nlh;
		ssize_t n;
		int left;

		/* The kernel handles the whole batch inside sendmsg(), so once
		 * a refusal is seen only what is already queued matters; and
		 * the replies are there already: read first, poll only when
		 * nothing is (a poll per reply otherwise: 3 a batch). */
		n = recv_now(fw, buf);
		if (n < 0 && errno == EAGAIN) {
			if (poll(&p, 1, err != 0 ? 0 : ACK_TIMEOUT_MS) > 0)
				continue;
			if (err == 0) {
				log_warnx("nftables: %u of %u acks missing", expect - acks, expect);
				err = ETIMEDOUT;
			}
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (err == 0)
				err = errno;	/* ENOBUFS: acks lost, outcome unknown */
			break;
		}
		left = (int)n;
		for (nlh = (struct nlmsghdr *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;

			if (!mnl_nlmsg_portid_ok(nlh, fw->portid) ||
			    nlh->nlmsg_seq < seq_begin || nlh->nlmsg_seq >= seq_end) {
				log_debug("nftables: stray message seq %u", nlh->nlmsg_seq);
				continue;
			}
			if (nlh->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN))
				gen_cb(nlh, &fw->commit_gen);
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			acks++;
			if (e->error != 0 && err == 0) {
				err = -e->error;
				if (bad_seq != NULL)
					*bad_seq = nlh->nlmsg_seq;
			}
		}
	}
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

/* The first message after the batch's begin asks for an echo: the kernel
 * then sends us the generation its commit makes (NEWGEN, with that
 * message's seq: the commit's notification takes the batch's first
 * message past the begin as its request), which nft_generation() uses
 * instead of asking; another process's transaction after ours then does
 * not pass for ours either.  It echoes that message's own change too: only
 * a small message (a change's, not a bulk install's 64 elements) asks. */
static void
echo_first(struct iovec *iov, size_t n)
{
	struct nlmsghdr *nlh;
	size_t i;
	int left, k = 0;

	for (i = 0; i < n; i++)
		for (nlh = iov[i].iov_base, left = (int)iov[i].iov_len; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left))
			if (k++ == 1) {
				if (nlh->nlmsg_type != NFNL_MSG_BATCH_END && nlh->nlmsg_len <= 1024)
					nlh->nlmsg_flags |= NLM_F_ECHO;
				return;
			}
}

/* Send iov[0..n) as one sendmsg (one transaction, however many pages)
 * and read the acks of the messages with seqs in [seq_begin, seq_end). */
static int
send_batch(struct fw *fw, struct iovec *iov, size_t n, uint32_t seq_begin, uint32_t seq_end,
	   unsigned n_ack)
{
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &snl, .msg_namelen = sizeof(snl) };
	struct iovec one;
	uint32_t bad = 0;
	size_t len = 0, i;
	char *flat = NULL;
	int rc, saved;

	pipe_quiesce(fw);
	for (i = 0; i < n; i++)
		len += iov[i].iov_len;
	grow_sndbuf(fw, len);
	fw->commit_gen = 0;
	echo_first(iov, n);
	/* sendmsg() takes at most IOV_MAX (1024) parts: a transaction of more
	 * pages (100,000 mappings with hairpin and port preservation, 17 MB)
	 * goes as one copy instead (EMSGSIZE otherwise). */
	if (n > 1024) {
		if ((flat = malloc(len)) == NULL)
			return -1;
		for (i = 0, len = 0; i < n; len += iov[i].iov_len, i++)
			memcpy(flat + len, iov[i].iov_base, iov[i].iov_len);
		one = (struct iovec){ flat, len };
		iov = &one;
		n = 1;
	}
	msg.msg_iov = iov;
	msg.msg_iovlen = n;
	rc = (int)sendmsg(mnl_socket_get_fd(fw->nl), &msg, 0);
	saved = errno;
	free(flat);
	if (rc < 0) {
		log_warn("nftables: sendmsg (%zu bytes)", len);
		errno = saved;
		return -1;
	}
	rc = read_acks(fw, seq_begin, seq_end, n_ack, &bad);
	saved = errno;
	if (rc == 0)
		fw->commits++;
	if (rc < 0)
		log_debug("nftables: transaction refused at seq %u (message %u): %s",
			  bad, bad - seq_begin, strerror(saved));
	errno = saved;
	return rc;
}

/* The deferral's batch, begun when the first change comes; NULL (and
 * the deferral failed) when it cannot be. */
static struct nft_batch *
queue_bt(struct fw *fw)
{
	struct fw_queue *q = &fw->q;

	if (q->bt.b == NULL && !q->failed) {
		if (batch_start(fw, &q->bt, 0) < 0)
			q->failed = true;
		q->bt.quiet = true;
	}
	return q->failed ? NULL : &q->bt;
}

/* Deferring: the messages of bt between its begin and end are copied to
 * the queue's batch, to be sent by nft_flush() (the changes of add and
 * del are built there in place: queue_change()). */
static int
queue_batch(struct fw *fw, const struct iovec *iov, int n)
{
	struct nft_batch *qb = queue_bt(fw);
	unsigned before;
	int i;

	if (qb == NULL) {
		errno = ENOMEM;
		return -1;
	}
	before = qb->n_msg;
	for (i = 0; i < n; i++) {
		const struct nlmsghdr *nlh = iov[i].iov_base;
		int left = (int)iov[i].iov_len;

		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN ||
			    nlh->nlmsg_type == NFNL_MSG_BATCH_END)
				continue;
			if (nft_batch_append(qb, nlh) < 0) {
				fw->q.failed = true;
				errno = ENOMEM;
				return -1;
			}
		}
	}
	qb->seq_next = fw->seq;		/* its messages took their seqs */
	if (qb->n_msg > before)
		fw->q.n_changes++;
	return 0;
}

/* Send a finished batch as one transaction and read every ack, or, while
 * changes are deferred, queue its messages.  Frees the batch. */
static int
commit(struct fw *fw, struct nft_batch *bt)
{
	struct iovec *iov;
	int n, rc;

	nft_batch_finish(bt);
	/* Deferring: the queue's batch must begin at or below this one's
	 * messages' seqs, or their acks would be taken for strays. */
	if (fw->q.on && queue_bt(fw) == NULL) {
		nft_batch_free(bt);
		errno = ENOMEM;
		return -1;
	}
	fw->seq = bt->seq_next;
	if (nft_batch_iov(bt, &iov, &n) < 0) {
		nft_batch_free(bt);
		errno = ENOMEM;
		return -1;
	}
	if (fw->q.on)
		rc = queue_batch(fw, iov, n);
	else
		rc = send_batch(fw, iov, (size_t)n, bt->seq_begin, bt->seq_next, bt->n_ack);
	free(iov);
	nft_batch_free(bt);
	return rc;
}

/* One request that is not part of a transaction (a get or a dump):
 * replies go to cb until the ack / NLMSG_DONE. */
static int
query(struct fw *fw, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char *buf = fw->rbuf;
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	pipe_quiesce(fw);
	if (mnl_socket_sendto(fw->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		struct pollfd p = { .fd = mnl_socket_get_fd(fw->nl), .events = POLLIN };

		if (poll(&p, 1, ACK_TIMEOUT_MS) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = mnl_socket_recvfrom(fw->nl, buf, RECV_BUF);
		if (n < 0)
			return -1;
		ret = mnl_cb_run(buf, (size_t)n, seq, fw->portid, cb, data);
		if (ret < 0) {
			if (errno == ESRCH)	/* stale reply of an older request */
				continue;
			return -1;
		}
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/* ---- gets ---- */

static int
get_chain(struct fw *fw, uint16_t family, const char *table, const char *chain)
{
	char buf[REQ_BUF];
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (c == NULL)
		return -1;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, family, NLM_F_ACK, next_seq(fw, 1));
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	return query(fw, nlh, NULL, NULL);
}

static int
get_table(struct fw *fw, uint16_t family, const char *table)
{
	char buf[REQ_BUF];
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (t == NULL)
		return -1;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, family, NLM_F_ACK, next_seq(fw, 1));
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	return query(fw, nlh, NULL, NULL);
}

/* A get of the set named name in set id's table (GETSET) or of its
 * elements (GETSETELEM) into buf[REQ_BUF]; NULL when memory is short. */
static struct nlmsghdr *
set_get_msg_named(struct fw *fw, enum nft_set_id id, const char *name, uint16_t type,
		  uint16_t flags, uint32_t seq, char *buf)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	uint16_t family;

	if (s == NULL)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, nft_set_table(&fw->l, id, &family));
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nlh = nftnl_nlmsg_build_hdr(buf, type, family, flags, seq);
	if (type == NFT_MSG_GETSETELEM)
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
	else
		nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return nlh;
}

/* The same for set id itself. */
static struct nlmsghdr *
set_get_msg(struct fw *fw, enum nft_set_id id, uint16_t type, uint16_t flags, uint32_t seq,
	    char *buf)
{
	return set_get_msg_named(fw, id, fw->l.set_name[id], type, flags, seq, buf);
}

/* Is an older igdd's hairpin map there (in the nat table, snat4's)? */
static bool
old_hair4_there(struct fw *fw)
{
	char buf[REQ_BUF];
	struct nlmsghdr *nlh = set_get_msg_named(fw, NFT_SET_SNAT4, nft_old_hair4_name(&fw->l),
						 NFT_MSG_GETSET, NLM_F_ACK, next_seq(fw, 1), buf);

	return nlh != NULL && query(fw, nlh, NULL, NULL) == 0;
}

static int
set_flags_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (s == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) == 0 && nftnl_set_is_set(s, NFTNL_SET_FLAGS))
		*(uint32_t *)data = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* Is pin6_rh an older igdd's (before pin6_rhost and pin6_rport): an
 * interval set of remote host and port ranges?  The start deletes it
 * alone (the journal puts its pinholes back) before today's NEWSET meets
 * it: a kernel that checks a NEWSET against the set there refuses it
 * (EEXIST: the start would make the whole table again, every mapping's
 * elements with it), one that does not would keep the interval set and
 * its ranges. */
static bool
old_pin6_rh_there(struct fw *fw)
{
	char buf[REQ_BUF];
	uint32_t flags = 0;
	struct nlmsghdr *nlh;

	if (!nft_set_used(&fw->l, NFT_SET_PIN6_RH))
		return false;
	nlh = set_get_msg(fw, NFT_SET_PIN6_RH, NFT_MSG_GETSET, NLM_F_ACK, next_seq(fw, 1), buf);
	return nlh != NULL && query(fw, nlh, set_flags_cb, &flags) == 0 &&
	       (flags & NFT_SET_INTERVAL) != 0;
}

static int
get_set(struct fw *fw, enum nft_set_id id)
{
	char buf[REQ_BUF];
	struct nlmsghdr *nlh = set_get_msg(fw, id, NFT_MSG_GETSET, NLM_F_ACK, next_seq(fw, 1), buf);

	return nlh != NULL ? query(fw, nlh, NULL, NULL) : -1;
}

struct tagged {
	uint64_t handle[MAX_TAGGED];
	uint64_t digest[MAX_TAGGED];	/* nft_rule_digest(), 0: none */
	unsigned n, all;		/* tagged, all rules of the chain */
	bool overflow;
};

static int
rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct tagged *t = data;
	struct nftnl_rule *r = nftnl_rule_alloc();
	const void *ud;
	uint32_t len = 0;

	if (r == NULL)
		return MNL_CB_ERROR;
	t->all++;		/* every rule, one libnftnl cannot parse too (not igdd's) */
	if (nftnl_rule_nlmsg_parse(nlh, r) == 0) {
		uint64_t digest;

		ud = nftnl_rule_is_set(r, NFTNL_RULE_USERDATA) ?
		     nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len) : NULL;
		if (nft_udata_is_tagged(ud, len, &digest)) {
			if (t->n < MAX_TAGGED) {
				t->digest[t->n] = digest;
				t->handle[t->n++] = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
			} else {
				t->overflow = true;
			}
		}
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* Handles of the rules tagged "igdd" in one chain (a dump of that chain
 * only: done at init, check and shutdown, never per mapping). */
static int
tagged_rules(struct fw *fw, uint16_t family, const char *table, const char *chain,
	     struct tagged *t)
{
	char buf[REQ_BUF];
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	memset(t, 0, sizeof(*t));
	if (r == NULL)
		return -1;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, family, NLM_F_DUMP, next_seq(fw, 1));
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	return query(fw, nlh, rule_cb, t);
}

struct elem_reply {
	bool found;
	uint8_t data[NFT_KEY_MAX];
	uint32_t datalen;
	struct fw_counter ctr;
};

/* Each element of a set-element message (a get's answer, a part of a
 * dump) to fn. */
static int
elems_foreach(const struct nlmsghdr *nlh, void (*fn)(struct nftnl_set_elem *e, void *arg),
	      void *arg)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elems_iter *it;
	struct nftnl_set_elem *e;

	if (s == NULL)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return MNL_CB_OK;
	}
	it = nftnl_set_elems_iter_create(s);
	for (e = it != NULL ? nftnl_set_elems_iter_next(it) : NULL; e != NULL;
	     e = nftnl_set_elems_iter_next(it))
		fn(e, arg);
	if (it != NULL)
		nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int
ctr_expr_cb(struct nftnl_expr *e, void *data)
{
	struct fw_counter *c = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (name != NULL && strcmp(name, "counter") == 0) {
		c->packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		c->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static void
elem_one(struct nftnl_set_elem *e, void *arg)
{
	struct elem_reply *er = arg;
	const void *d;
	uint32_t len;

	er->found = true;
	d = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len);
	if (d != NULL && len <= sizeof(er->data)) {
		memcpy(er->data, d, len);
		er->datalen = len;
	}
	nftnl_set_elem_expr_foreach(e, ctr_expr_cb, &er->ctr);
}

static int
elem_cb(const struct nlmsghdr *nlh, void *data)
{
	return elems_foreach(nlh, elem_one, data);
}

/* One element by key (GETSETELEM without the dump flag). */
static int
get_elem(struct fw *fw, enum nft_set_id id, const struct mapping *m, struct elem_reply *er)
{
	char buf[REQ_BUF];
	uint8_t key[NFT_KEY_MAX];
	struct nftnl_set_elem *e;
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint16_t family;
	size_t kl;
	int rc;

	memset(er, 0, sizeof(*er));
	kl = nft_elem_key(&fw->l, id, m, key);
	if (kl == 0) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	s = nftnl_set_alloc();
	e = nftnl_set_elem_alloc();
	if (s == NULL || e == NULL) {
		if (s != NULL)
			nftnl_set_free(s);
		if (e != NULL)
			nftnl_set_elem_free(e);
		errno = ENOMEM;
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, nft_set_table(&fw->l, id, &family));
	nftnl_set_set_str(s, NFTNL_SET_NAME, fw->l.set_name[id]);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)kl);
	nftnl_set_elem_add(s, e);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_ACK, next_seq(fw, 1));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	rc = query(fw, nlh, elem_cb, er);
	if (rc < 0 && errno == ENOENT) {
		er->found = false;
		return 0;
	}
	return rc;
}

/* ---- generation ---- */

static int
gen_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_GEN_ID && mnl_attr_get_payload_len(a) == 4)
			*(uint32_t *)data = ntohl(mnl_attr_get_u32(a));
	return MNL_CB_OK;
}

/* The ruleset generation (NFT_MSG_GETGEN): it moves with every committed
 * transaction of anyone in this network namespace.  0 on error. */
static uint32_t
gen_now(struct fw *fw)
{
	char buf[REQ_BUF];
	struct nlmsghdr *nlh;
	uint32_t gen = 0;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, next_seq(fw, 1));
	if (query(fw, nlh, gen_cb, &gen) < 0)
		return 0;
	return gen;
}

/* The boot and the network namespace, so that a generation of another
 * boot or namespace never matches: read once, before the sandbox. */
static void
state_id(struct fw *fw)
{
	char boot[64] = "";
	struct stat st;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	if (f != NULL) {
		if (fgets(boot, sizeof(boot), f) == NULL)
			boot[0] = '\0';
		fclose(f);
	}
	boot[strcspn(boot, "\n")] = '\0';
	if (boot[0] == '\0' || stat("/proc/self/ns/net", &st) < 0 ||
	    str_printf(fw->state_id, sizeof(fw->state_id), "%s %llu", boot,
		       (unsigned long long)st.st_ino) < 0)
		fw->state_id[0] = '\0';
}

/* What a mapping's elements depend on besides the mapping: port
 * preservation (and hairpin, and the layout's version: an older igdd's
 * hairpin elements named their client's LAN), and where the mappings'
 * sets are (each one's family, table and name: the sets of another table
 * may hold an even older run's elements), as a 32-bit FNV-1a digest.  A
 * start with another of these cannot take the kernel's elements as they
 * are.  The LANs are in lan4, no mapping's element. */
static uint32_t
layout_digest(const struct fw *fw)
{
	uint32_t h = FNV1A_INIT, flags = fw->l.hairpin | fw->l.preserve << 1 | LAYOUT_VERSION << 2;
	int id;

	h = fnv1a(h, &flags, sizeof(flags));
	for (id = 0; id < NFT_SET_ALL; id++) {
		uint16_t fam;
		const char *t;

		if (!nft_set_used(&fw->l, (enum nft_set_id)id))
			continue;
		t = nft_set_table(&fw->l, (enum nft_set_id)id, &fam);
		h = fnv1a(h, &fam, sizeof(fam));
		h = fnv1a(h, t, strlen(t) + 1);
		h = fnv1a(h, fw->l.set_name[id], strlen(fw->l.set_name[id]) + 1);
	}
	return h;
}

static int
gen_token(struct fw *fw, uint32_t gen, char *tok, size_t size)
{
	if (gen == 0 || fw->state_id[0] == '\0' ||
	    str_printf(tok, size, "%u %s %08x", gen, fw->state_id, layout_digest(fw)) < 0)
		return -1;
	return 0;
}

static int
nft_generation(struct fw *fw, bool at_start, char *tok, size_t size)
{
	if (!at_start)
		pipe_quiesce(fw);	/* commit_gen: the restore's last, when it ran */
	return gen_token(fw, at_start ? fw->start_gen : fw->commit_gen != 0 ? fw->commit_gen :
			 gen_now(fw), tok, size);
}

/* ---- init ---- */

static struct fw *
fw_open(void)
{
	/* rbuf (64 KiB, last) not zeroed: only what replies fill is touched */
	struct fw *fw = alloc_zero_head(sizeof(*fw), offsetof(struct fw, rbuf));
	int one = 1, rcv = RCVBUF_BYTES;
	socklen_t sl = sizeof(fw->sndbuf);

	if (fw == NULL)
		return NULL;
	fw->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (fw->nl == NULL || mnl_socket_bind(fw->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("nftables: netlink socket");
		if (fw->nl != NULL)
			mnl_socket_close(fw->nl);
		free(fw);
		return NULL;
	}
	fw->portid = mnl_socket_get_portid(fw->nl);
	fw->seq = (uint32_t)time(NULL);
	fw->qseq = fw->seq ^ 0x80000000u;
	/* Refusals of big element messages need not be echoed back whole. */
	setsockopt(mnl_socket_get_fd(fw->nl), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(mnl_socket_get_fd(fw->nl), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcv, sizeof(rcv)) < 0)
		setsockopt(mnl_socket_get_fd(fw->nl), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (getsockopt(mnl_socket_get_fd(fw->nl), SOL_SOCKET, SO_SNDBUF, &fw->sndbuf, &sl) < 0)
		fw->sndbuf = 0;
	return fw;
}

static void dump_close(struct fw *fw);
static void pipe_free(struct fw *fw);

static void
fw_close(struct fw *fw)
{
	pipe_free(fw);
	dump_close(fw);
	nft_batch_free(&fw->q.bt);
	if (fw->ev != NULL)
		mnl_socket_close(fw->ev);
	if (fw->verify.nl != NULL)
		mnl_socket_close(fw->verify.nl);
	mnl_socket_close(fw->nl);
	free(fw);
}

/* What an init's batch deletes before its sets and rules: nothing, igdd's
 * layout sets (init_integrate()'s second attempt: an older pin6_rh among
 * them, not hair4) or its whole table (init_own()'s: both).  A DELSET of
 * a set the batch deleted already would be refused (ENOENT) with the
 * whole batch. */
enum init_gone { GONE_NOTHING, GONE_SETS, GONE_TABLE };

static int
add_sets_and_rules(struct fw *fw, struct nft_batch *bt, bool rules, enum init_gone gone)
{
	uint16_t del = fw->has_destroy ? NFT_MSG_DESTROYSET_ : NFT_MSG_DELSET;
	int i;

	/* an older igdd's hairpin map (the rules that used it are gone);
	 * without DESTROYSET (kernels before 6.3) a DELSET if it is there */
	if (gone != GONE_TABLE && (fw->has_destroy || old_hair4_there(fw)) &&
	    nft_msg_old_hair4(bt, &fw->l, del) < 0)
		return -1;
	/* an older igdd's interval set of restricted pinholes (its rule is
	 * gone: the rules are not in place, so the chains were flushed) */
	if (gone == GONE_NOTHING && old_pin6_rh_there(fw)) {
		log_info("nftables: an older igdd's pinhole set %s (intervals) goes; its pinholes "
			 "are put back", fw->l.set_name[NFT_SET_PIN6_RH]);
		if (nft_msg_set(bt, &fw->l, NFT_SET_PIN6_RH, del) < 0)
			return -1;
	}

	for (i = 0; i < NFT_SET_ALL; i++)
		if (nft_set_used(&fw->l, (enum nft_set_id)i) &&
		    nft_msg_set(bt, &fw->l, (enum nft_set_id)i, NFT_MSG_NEWSET) < 0)
			return -1;
	for (i = 0; rules && i < NFT_RULE_ALL; i++)
		if (nft_rule_on(&fw->l, (enum nft_rule_id)i) &&
		    nft_msg_rule(bt, &fw->l, (enum nft_rule_id)i) < 0)
			return -1;
	return 0;
}

/* Own table: do igdd's chains hold exactly the rules this layout puts
 * there (each one's digest, in order, and no other rule)?  Then init_own()
 * leaves them: a rule that uses a map, added again, makes the kernel walk
 * every element of that map (nf_tables_bind_set()), ~30 ms of a start
 * with 100,000 mappings kept (SIGQUIT, kill -9). */
static bool
rules_in_place(struct fw *fw)
{
	const struct nft_layout *l = &fw->l;
	struct tagged t;
	int c, i;

	for (c = 0; c < NFT_CHAIN_COUNT; c++) {
		const char *table, *chain;
		uint16_t family;
		unsigned k = 0;

		if (!nft_chain_used(l, (enum nft_chain_id)c))
			continue;
		chain = nft_chain_name(l, (enum nft_chain_id)c, &table, &family);
		if (tagged_rules(fw, family, table, chain, &t) < 0 || t.overflow || t.all != t.n)
			return false;
		for (i = 0; i < NFT_RULE_ALL; i++) {
			uint64_t d;

			if (!nft_rule_on(l, (enum nft_rule_id)i) ||
			    nft_rule_chain(l, (enum nft_rule_id)i) != (enum nft_chain_id)c)
				continue;
			if (k >= t.n || nft_rule_digest(l, (enum nft_rule_id)i, &d) < 0 ||
			    d != t.digest[k++])
				return false;
		}
		if (k != t.n)
			return false;
	}
	return true;
}

/* Are igdd's sets still to be made (no table of its own, no DNAT map
 * integrated)?  Then they hold nothing: fw->fresh. */
static bool
sets_absent(struct fw *fw)
{
	return (fw->l.own ? get_table(fw, fw->l.filter_family, fw->l.filter_table)
			  : get_set(fw, NFT_SET_DNAT4)) < 0 && errno == ENOENT;
}

#define INIT_LOOKS	3	/* looks of one init_own()/init_integrate() (ERESTART: again) */

/* The init's batch carried *gen and the kernel refused it (ERESTART):
 * another program's transaction came after *gen, and what was read at
 * *gen (the sets' absence, the rules, their handles) may be gone.  The
 * caller reads it all again at the new generation, which *gen becomes (at
 * a start, fw->start_gen: the kernel no longer holds what a journal marked
 * with the old one says); after INIT_LOOKS looks, 0: the batch goes
 * unchecked (no generation to carry, none to trust).  Is there one? */
static bool
init_look_again(struct fw *fw, uint32_t *gen, int looks)
{
	*gen = looks <= INIT_LOOKS ? gen_now(fw) : 0;
	/* at start only (fresh: the sets this start made); from an unchecked
	 * read, not fresh: their elements are read, whatever came */
	if (gen == &fw->start_gen)
		fw->fresh = *gen != 0 && sets_absent(fw);
	return *gen != 0;
}

/* The layout did not match: the next attempt makes igdd's sets again,
 * empty.  At start, their elements are gone: no journal mark holds, there
 * is nothing to read (fresh). */
static void
init_recreated(struct fw *fw, const uint32_t *gen)
{
	if (gen == &fw->start_gen) {
		fw->start_gen = 0;
		fw->fresh = true;
	}
}

/* Own table: create what is missing, flush igdd's chains and put the
 * rules back (unless they are in place already), all in one transaction.
 * Sets keep their elements (the daemon reconciles them with install_all).
 * *gen: the generation the caller read before anything here (0: unknown);
 * each transaction but the layout mismatch's carries the current *gen, so
 * that the kernel takes it only if nothing changed since (the rules'
 * check and the caller's reads hold then; init_look_again() otherwise).
 * If an existing object does not match (an older igdd's layout), start
 * from a fresh table. */
static int
init_own(struct fw *fw, uint32_t *gen)
{
	struct nft_batch bt;
	int attempt = 0, looks = 1;
	bool keep = *gen != 0 && rules_in_place(fw);

	while (attempt < 2) {
		if (batch_start(fw, &bt, attempt == 0 ? *gen : 0) < 0)
			return -1;
		if (attempt == 1)
			keep = false;
		if ((attempt == 1 && nft_msg_table(&bt, &fw->l, fw->has_destroy ?
						   NFT_MSG_DESTROYTABLE_ : NFT_MSG_DELTABLE) < 0) ||
		    nft_msg_table(&bt, &fw->l, NFT_MSG_NEWTABLE) < 0 ||
		    nft_msg_chains(&bt, &fw->l) < 0 ||
		    (!keep && nft_msg_flush_chains(&bt, &fw->l) < 0) ||
		    add_sets_and_rules(fw, &bt, !keep, attempt == 1 ? GONE_TABLE : GONE_NOTHING) < 0) {
			nft_batch_free(&bt);
			errno = ENOMEM;
			return -1;
		}
		if (commit(fw, &bt) == 0)
			return 0;
		if (errno == ERESTART && attempt == 0 && *gen != 0) {
			keep = init_look_again(fw, gen, ++looks) && rules_in_place(fw);
			log_info("nftables: the ruleset changed while igdd's table was checked; %s",
				 *gen == 0 ? "putting its rules back" : keep ? "its rules are in place"
									     : "they are not in place");
			continue;
		}
		if (errno != EEXIST && errno != EBUSY && errno != EINVAL)
			break;
		log_warnx("nftables: table inet %s does not match igdd's layout (%s); recreating it",
			  fw->l.filter_table, strerror(errno));
		init_recreated(fw, gen);
		attempt++;
	}
	log_warn("nftables: cannot create table inet %s", fw->l.filter_table);
	return -1;
}

static int
del_tagged(struct fw *fw, struct nft_batch *bt, uint16_t family, const char *table,
	   const char *chain, unsigned *found)
{
	struct tagged t;
	unsigned i;

	if (tagged_rules(fw, family, table, chain, &t) < 0) {
		log_warn("nftables: listing chain %s %s %s", nft_family_name(family), table, chain);
		return -1;
	}
	if (t.overflow)
		log_warnx("nftables: more than %d igdd rules in %s; run init again", MAX_TAGGED,
			  chain);
	for (i = 0; i < t.n; i++)
		if (nft_msg_rule_del(bt, family, table, chain, t.handle[i]) < 0)
			return -1;
	if (found != NULL)
		*found = t.n;
	return 0;
}

static int
require_chain(struct fw *fw, uint16_t family, const char *table, const char *chain,
	      const char *key)
{
	if (get_table(fw, family, table) < 0) {
		log_warnx("nftables table %s %s not found (%s): create it or unset "
			  "upnp_table_name/upnp_nat_table_name", nft_family_name(family), table,
			  strerror(errno));
		return -1;
	}
	if (get_chain(fw, family, table, chain) < 0) {
		log_warnx("nftables chain %s %s %s not found (%s): create it or unset %s",
			  nft_family_name(family), table, chain, strerror(errno), key);
		return -1;
	}
	return 0;
}

/* Integration: the postrouting chain is needed for hairpin and port
 * preservation only; without it both are off (a warning, not a refusal:
 * inbound mappings still work).  Is it there? */
static bool
post_chain_found(struct fw *fw)
{
	struct nft_layout *l = &fw->l;

	if (get_chain(fw, l->nat_family, l->nat_table, l->post_chain) == 0)
		return true;
	if (l->hairpin || l->preserve)
		log_warnx("nftables chain %s %s %s not found (%s): hairpin and "
			  "preserve_mapped_ports are off; create it or set upnp_nat_postrouting_chain",
			  nft_family_name(l->nat_family), l->nat_table, l->post_chain, strerror(errno));
	l->hairpin = l->preserve = false;
	return false;
}

/* igdd's tagged rules in every chain of the layout (a crashed igdd's, or
 * a running one's at shutdown) to delete in bt. */
static int
del_tagged_all(struct fw *fw, struct nft_batch *bt, bool post)
{
	const char *table, *chain;
	uint16_t family;
	int c;

	for (c = 0; c < NFT_CHAIN_COUNT; c++) {
		if ((c == NFT_CHAIN_POST && !post) || !nft_chain_used(&fw->l, (enum nft_chain_id)c))
			continue;
		chain = nft_chain_name(&fw->l, (enum nft_chain_id)c, &table, &family);
		if (del_tagged(fw, bt, family, table, chain, NULL) < 0)
			return -1;
	}
	return 0;
}

/* Integration: the firewall's chains igdd's rules go to are there (a
 * refusal otherwise), the postrouting chain too when hairpin or port
 * preservation needs it (nft_attach() turned them off if it was missing
 * at start; gone since, a refusal); *post: igdd's rules go there. */
static int
integrate_chains(struct fw *fw, bool *post)
{
	const struct nft_layout *l = &fw->l;
	int c;

	for (c = 0; c < NFT_CHAIN_COUNT; c++) {
		const char *table, *chain;
		uint16_t family;

		if (c == NFT_CHAIN_POST || !nft_chain_used(l, (enum nft_chain_id)c))
			continue;
		chain = nft_chain_name(l, (enum nft_chain_id)c, &table, &family);
		if (require_chain(fw, family, table, chain, c == NFT_CHAIN_NAT ? "upnp_nat_chain"
									  : "upnp_forward_chain") < 0)
			return -1;
	}
	if (l->hairpin || l->preserve) {
		*post = true;
		return require_chain(fw, l->nat_family, l->nat_table, l->post_chain,
				     "upnp_nat_postrouting_chain");
	}
	*post = get_chain(fw, l->nat_family, l->nat_table, l->post_chain) == 0;
	return 0;
}

/* Integration: the firewall owns table and chains; igdd adds its sets and
 * its tagged rules, first removing tagged rules a crashed igdd left.
 * *gen: the generation the caller read before anything here (0:
 * unknown), as init_own()'s: the chains and the rules' handles are read
 * again at a new one (init_look_again()) when the kernel refuses it. */
static int
init_integrate(struct fw *fw, uint32_t *gen)
{
	const struct nft_layout *l = &fw->l;
	struct nft_batch bt;
	int attempt = 0, looks = 1, i;
	bool post;

	if (integrate_chains(fw, &post) < 0)
		return -1;
	while (attempt < 2) {
		if (batch_start(fw, &bt, attempt == 0 ? *gen : 0) < 0)
			return -1;
		if (del_tagged_all(fw, &bt, post) < 0) {
			nft_batch_free(&bt);
			return -1;
		}
		/* Second attempt: sets of an incompatible older layout go. */
		for (i = 0; attempt == 1 && i < NFT_SET_ALL; i++)
			if (nft_set_used(l, (enum nft_set_id)i) && get_set(fw, (enum nft_set_id)i) == 0 &&
			    nft_msg_set(&bt, l, (enum nft_set_id)i, NFT_MSG_DELSET) < 0)
				goto nomem;
		if (add_sets_and_rules(fw, &bt, true, attempt == 1 ? GONE_SETS : GONE_NOTHING) < 0)
			goto nomem;
		if (commit(fw, &bt) == 0)
			return 0;
		if (errno == ERESTART && attempt == 0 && *gen != 0) {
			bool checked = init_look_again(fw, gen, ++looks);

			log_info("nftables: the ruleset changed while igdd's rules were looked up; %s",
				 checked ? "again" : "again, unchecked");
			if (integrate_chains(fw, &post) < 0)
				return -1;
			continue;
		}
		if (errno != EEXIST && errno != EBUSY && errno != EINVAL)
			break;
		log_warnx("nftables: igdd's sets in %s do not match (%s); recreating them",
			  l->filter_table, strerror(errno));
		init_recreated(fw, gen);
		attempt++;
	}
	log_warn("nftables: cannot add igdd's sets and rules to %s %s", nft_family_name(l->filter_family),
		 l->filter_table);
	return -1;
nomem:
	nft_batch_free(&bt);
	errno = ENOMEM;
	return -1;
}

struct fw *
nft_attach(const struct config *cfg)
{
	struct fw *fw = fw_open();

	if (fw == NULL)
		return NULL;
	fw->has_destroy = kernel_at_least(6, 3);
	if (nft_layout_init(&fw->l, cfg, kernel_at_least(6, 12)) < 0) {
		fw_close(fw);
		return NULL;
	}
	/* a firewall without the postrouting chain: no hairpin, no preservation */
	if (!fw->l.own && (fw->l.hairpin || fw->l.preserve))
		post_chain_found(fw);
	return fw;
}

static int nft_events_fd(struct fw *fw);

static struct fw *
nft_init(const struct config *cfg)
{
	struct fw *fw = nft_attach(cfg);
	int rc;

	if (fw == NULL)
		return NULL;
	/* Another process's changes from here on are seen (the daemon reads
	 * them before a journal mark), those after the generation below too. */
	(void)nft_events_fd(fw);
	/* What the kernel held before this start touched it: a journal that
	 * ends with this generation describes its elements.  The init's first
	 * transaction carries it, so nothing came in between (or the init
	 * reads a new one: init_look_again()). */
	state_id(fw);
	fw->start_gen = gen_now(fw);
	fw->fresh = sets_absent(fw);
	rc = fw->l.own ? init_own(fw, &fw->start_gen) : init_integrate(fw, &fw->start_gen);
	if (rc < 0) {
		fw_close(fw);
		return NULL;
	}
	log_info("nftables: %s %s: chains %s, %s, %s; element timeouts %s; hairpin %s; "
		 "mapped ports preserved %s", fw->l.own ? "own table" : "integrated in",
		 fw->l.filter_table, fw->l.nat_chain, fw->l.forward_chain, fw->l.post_chain,
		 fw->l.timeouts ? "on" : "off", fw->l.hairpin ? "on" : "off",
		 fw->l.preserve ? "on" : "off");
	return fw;
}

/* ---- mappings ---- */

static int
check_mapping(const struct fw *fw, const struct mapping *m)
{
	uint8_t key[NFT_KEY_MAX];
	enum nft_set_id d, f;

	/* (a pinhole's key is 0 with IPv6 off) */
	nft_mapping_sets(m, &d, &f);
	if (nft_elem_key(&fw->l, d, m, key) == 0) {
		errno = EAFNOSUPPORT;	/* a v4 mapping to IPv6, or IPv6 off */
		return -1;
	}
	return 0;
}

static bool
in_set(const struct fw *fw, enum nft_set_id id, const struct mapping *m)
{
	uint8_t key[NFT_KEY_MAX];

	return nft_elem_key(&fw->l, id, m, key) > 0;
}

static uint16_t
del_type(const struct fw *fw)
{
	return fw->has_destroy ? NFT_MSG_DESTROYSETELEM_ : NFT_MSG_DELSETELEM;
}

/* One element message for one mapping, if it belongs in that set. */
static int
msg_one(struct fw *fw, struct nft_batch *bt, enum nft_set_id id, uint16_t type,
	const struct mapping *m, uint64_t now)
{
	const struct mapping *one[1] = { m };

	if (!in_set(fw, id, m))
		return 0;
	return nft_msg_elems(bt, &fw->l, id, type, one, 1, now);
}

/* A mapping's add: its DNAT and forward elements, and its SNAT
 * element unless another mapping of the internal side holds it.  A
 * pinhole's is its one element (dnat == fwd; no hairpin, no SNAT: not
 * in those sets). */
static int
add_msgs(struct fw *fw, struct nft_batch *bt, const struct mapping *m, const struct fw_share *sh,
	 uint64_t now)
{
	enum nft_set_id dnat, fwd;

	nft_mapping_sets(m, &dnat, &fwd);
	if ((dnat != fwd && msg_one(fw, bt, dnat, NFT_MSG_NEWSETELEM, m, now) < 0) ||
	    msg_one(fw, bt, fwd, NFT_MSG_NEWSETELEM, m, now) < 0)
		return -1;
	if (sh != NULL && sh->snat)
		return 0;
	return msg_one(fw, bt, NFT_SET_SNAT4, NFT_MSG_NEWSETELEM, m, now);
}

/* The sets of a mapping's delete: its DNAT element, its forward element
 * unless another mapping needs it, its SNAT element (unless kept; a stale
 * SNAT element alone).  A pinhole's one element is its forward element:
 * it stays while another pinhole of the same key needs it.  How many. */
static size_t
del_sets(const struct mapping *m, const struct fw_share *sh, enum nft_set_id ids[3])
{
	enum nft_set_id dnat, fwd;
	size_t n = 0;

	if (sh != NULL && sh->snat_only) {
		ids[n++] = NFT_SET_SNAT4;
		return n;
	}
	nft_mapping_sets(m, &dnat, &fwd);
	if (dnat != fwd)
		ids[n++] = dnat;
	if (!(sh != NULL && sh->forward))
		ids[n++] = fwd;
	if (!(sh != NULL && sh->keep_snat))
		ids[n++] = NFT_SET_SNAT4;
	return n;
}

/* The heir's SNAT element, after a delete (nothing without one). */
static int
heir_msg(struct fw *fw, struct nft_batch *bt, const struct fw_share *sh)
{
	if (sh == NULL || sh->snat_only || sh->snat_heir == NULL)
		return 0;
	return msg_one(fw, bt, NFT_SET_SNAT4, NFT_MSG_NEWSETELEM, sh->snat_heir, time_mono_ms());
}

/* A mapping's delete, with the delete message type; the SNAT element
 * re-pointed at the heir when there is one (delete and add in the same
 * transaction). */
static int
del_msgs(struct fw *fw, struct nft_batch *bt, uint16_t type, const struct mapping *m,
	 const struct fw_share *sh)
{
	enum nft_set_id ids[3];
	size_t n = del_sets(m, sh, ids), i;

	for (i = 0; i < n; i++)
		if (msg_one(fw, bt, ids[i], type, m, 0) < 0)
			return -1;
	return heir_msg(fw, bt, sh);
}

/* One element of a change: the set, and the mapping whose key it is. */
struct elem_ref {
	enum nft_set_id id;
	const struct mapping *m;
};

/* Does the kernel hold key's element in set id (*found), with the data
 * that data's mapping gives it (*same)?  0, or -1 (the lookup failed). */
static int
elem_holds(struct fw *fw, enum nft_set_id id, const struct mapping *key,
	   const struct mapping *data, struct elem_reply *er, bool *found, bool *same)
{
	uint8_t want[NFT_KEY_MAX];
	size_t wl;

	*found = *same = false;
	if (!in_set(fw, id, key))
		return 0;
	if (get_elem(fw, id, key, er) < 0)
		return -1;
	wl = nft_elem_data(id, data, want);
	*found = er->found;
	*same = er->found && er->datalen == wl && memcmp(er->data, want, wl) == 0;
	return 0;
}

/* An element of the mapping's keys exists with other data (the kernel
 * and the store went apart: an element left by a crash or by someone
 * else): the mapping's own elements replaced, the DNAT element of its
 * key (unless it is as the mapping wants: its counter stays) and its
 * internal side's SNAT element (unless the store says another mapping of
 * the side holds it), in one transaction with the add.  The stale DNAT
 * element's old target keeps its forward element (another mapping may
 * use it; the contents check removes a surplus) and its SNAT element but
 * when that one points at the mapping's port, the stale element's; with
 * no store to say what is shared (fwctl: sh NULL) both go.  Without
 * DESTROY (kernels before 6.3), where a missing element refuses the
 * transaction, only the elements a lookup found are deleted. */
static int
replace_mapping(struct fw *fw, const struct mapping *m, const struct fw_share *sh, uint64_t now)
{
	struct elem_reply er;
	struct mapping old = *m;
	struct in6_addr old_iaddr;
	struct nft_batch bt;
	struct elem_ref dels[4];
	enum nft_set_id dnat, fwd;
	size_t n = 0, i;
	bool found[4], dnat_found, same;
	int rc = 0;

	nft_mapping_sets(m, &dnat, &fwd);
	if (elem_holds(fw, dnat, m, m, &er, &dnat_found, &same) < 0)
		return -1;
	if (er.found && er.datalen == 8) {
		struct in_addr a;
		uint16_t p;

		memcpy(&a.s_addr, er.data, 4);
		memcpy(&p, er.data + 4, 2);
		addr_from_v4(&old_iaddr, a);
		old.iaddr = &old_iaddr;
		old.iport = ntohs(p);
	}
	if (!same) {
		found[n] = dnat_found;
		dels[n++] = (struct elem_ref){ dnat, m };
	}
	if (!(sh != NULL && sh->snat))
		dels[n++] = (struct elem_ref){ NFT_SET_SNAT4, m };
	if (old.iport != m->iport || !addr_eq(old.iaddr, m->iaddr)) {
		if (sh == NULL)
			dels[n++] = (struct elem_ref){ fwd, &old };
		dels[n++] = (struct elem_ref){ NFT_SET_SNAT4, &old };
	}
	for (i = !same; i < n; i++) {
		bool f, own;

		if (elem_holds(fw, dels[i].id, dels[i].m, m, &er, &f, &own) < 0)
			return -1;
		/* the old side's SNAT element: only the stale one's (m's port) */
		found[i] = dels[i].m == &old && dels[i].id == NFT_SET_SNAT4 && sh != NULL ? own : f;
	}
	if (batch_start(fw, &bt, 0) < 0)
		return -1;
	for (i = 0; i < n && rc == 0; i++)
		if (found[i])
			rc = msg_one(fw, &bt, dels[i].id, del_type(fw), dels[i].m, now);
	if (rc < 0 || add_msgs(fw, &bt, m, sh, now) < 0) {
		nft_batch_free(&bt);
		errno = ENOMEM;
		return -1;
	}
	return commit(fw, &bt);
}

/* Deferring: a mapping's add or delete messages go straight into the
 * queue's batch. */
static int
queue_change(struct fw *fw, const struct mapping *m, const struct fw_share *sh, bool add)
{
	struct nft_batch *qb = queue_bt(fw);
	unsigned before;

	if (qb == NULL) {
		errno = ENOMEM;
		return -1;
	}
	before = qb->n_msg;
	if ((add ? add_msgs(fw, qb, m, sh, time_mono_ms())
		 : del_msgs(fw, qb, del_type(fw), m, sh)) < 0) {
		fw->q.failed = true;	/* a part of it may be in the batch */
		errno = ENOMEM;
		return -1;
	}
	fw->seq = qb->seq_next;
	if (qb->n_msg > before)
		fw->q.n_changes++;
	return 0;
}

/* Add, or refresh (same target: the timeouts are renewed, the counters
 * kept).  One transaction: every element of the mapping. */
static int
nft_add(struct fw *fw, const struct mapping *m, const struct fw_share *sh)
{
	uint64_t now = time_mono_ms();
	struct nft_batch bt;
	char a[64];

	if (check_mapping(fw, m) < 0)
		return -1;
	if (fw->q.on)
		return queue_change(fw, m, sh, true);
	if (batch_start(fw, &bt, 0) < 0)
		return -1;
	if (add_msgs(fw, &bt, m, sh, now) < 0) {
		nft_batch_free(&bt);
		errno = ENOMEM;
		return -1;
	}
	/* a pinhole's element is a set's, not a map's: never other data */
	if (commit(fw, &bt) == 0 ||
	    (errno == EEXIST && !mapping_is_pinhole(m) && replace_mapping(fw, m, sh, now) == 0)) {
		if (log_debug_on())
			log_debug("nftables: add %s %u -> %s:%u", proto_name(m->proto), m->eport,
				  addr_str(m->iaddr, a, sizeof(a)), m->iport);
		return 0;
	}
	log_warn("nftables: add %s %u", proto_name(m->proto), m->eport);
	return -1;
}

/* Kernels without DESTROY, where one missing element refuses the whole
 * transaction: the delete's elements (the same ones as del_msgs(): a
 * stale SNAT element alone, a kept one not) looked up first, those found
 * deleted and the heir's SNAT element added, in one transaction: all or
 * nothing.  ENOENT still: an element gone between the lookup and the
 * commit (someone else's delete), or the SNAT map gone (a lookup there
 * reads as "not found", the heir's add is refused): looked up once more,
 * and the heir's element left out if the map is gone (the watchdog puts
 * it back); ENOENT again is not the delete's failure. */
static int
del_found(struct fw *fw, const struct mapping *m, const struct fw_share *sh)
{
	enum nft_set_id ids[3];
	size_t n = del_sets(m, sh, ids), i;
	int attempt, rc;

	for (attempt = 0; attempt < 2; attempt++) {
		struct elem_reply er;
		struct nft_batch bt;
		bool found[3], same;

		for (i = 0; i < n; i++)
			if (elem_holds(fw, ids[i], m, m, &er, &found[i], &same) < 0)
				return -1;
		if (batch_start(fw, &bt, 0) < 0)
			return -1;
		for (rc = 0, i = 0; i < n && rc == 0; i++)
			if (found[i])
				rc = msg_one(fw, &bt, ids[i], NFT_MSG_DELSETELEM, m, 0);
		if (rc < 0 || ((attempt == 0 || get_set(fw, NFT_SET_SNAT4) == 0) &&
				heir_msg(fw, &bt, sh) < 0)) {
			nft_batch_free(&bt);
			errno = ENOMEM;
			return -1;
		}
		if (bt.n_msg == 0) {
			nft_batch_free(&bt);
			return 0;
		}
		if ((rc = commit(fw, &bt)) == 0 || errno != ENOENT)
			return rc;
	}
	return 0;
}

/* Delete; an element already gone (timed out, flushed) is not an error. */
static int
nft_del(struct fw *fw, const struct mapping *m, const struct fw_share *sh)
{
	struct nft_batch bt;

	if (check_mapping(fw, m) < 0)
		return -1;
	if (fw->q.on)
		return queue_change(fw, m, sh, false);
	if (batch_start(fw, &bt, 0) < 0)
		return -1;
	if (del_msgs(fw, &bt, del_type(fw), m, sh) < 0) {
		nft_batch_free(&bt);
		errno = ENOMEM;
		return -1;
	}
	if (bt.n_msg == 0) {	/* a pinhole whose element another one needs */
		nft_batch_free(&bt);
		return 0;
	}
	if (commit(fw, &bt) == 0)
		return 0;
	/* Kernels without DESTROY: one of them may be missing. */
	if (!fw->has_destroy && errno == ENOENT && del_found(fw, m, sh) == 0)
		return 0;
	log_warn("nftables: delete %s %u", proto_name(m->proto), m->eport);
	return -1;
}

/* The mappings of ms[0..n) that belong in set id; with unique, only the
 * first of those sharing a key (the SNAT map: one element per internal
 * side, which a map cannot hold twice with different data), and none
 * whose skip[i] is set (NULL: none).  Written to
 * out (room for n) when not NULL.  How many; SIZE_MAX when out of memory.
 * The duplicates are found with an open-addressing table of 64-bit key
 * hashes. */
static size_t
select_set(const struct fw *fw, enum nft_set_id id, const struct mapping *const *ms, size_t n,
	   bool unique, const bool *skip, const struct mapping **out)
{
	uint8_t key[NFT_KEY_MAX];
	size_t cap = 16, i, j, count = 0, kl;
	uint64_t *tab = NULL, h;

	while (unique && cap < 2 * n)
		cap *= 2;
	if (unique && (tab = calloc(cap, sizeof(*tab))) == NULL)
		return SIZE_MAX;
	for (i = 0; i < n; i++) {
		if ((skip != NULL && skip[i]) || (kl = nft_elem_key(&fw->l, id, ms[i], key)) == 0)
			continue;
		if (unique) {
			h = fnv1a64(FNV1A64_INIT, key, kl) | 1;	/* 0 marks an empty slot */
			for (j = h & (cap - 1); tab[j] != 0 && tab[j] != h; j = (j + 1) & (cap - 1))
				;
			if (tab[j] != 0)
				continue;
			tab[j] = h;
		}
		if (out != NULL)
			out[count] = ms[i];
		count++;
	}
	free(tab);
	return count;
}

/* ext4 and lan4 flushed and filled with a's addresses and fw's LANs. */
static int
msg_addrs(struct nft_batch *bt, const struct fw *fw, const struct fw_addrs *a)
{
	return nft_msg_ext_addrs(bt, &fw->l, a->ext, a->n_ext) < 0 ? -1 : nft_msg_lans(bt, &fw->l);
}

/* The add messages of ms[0..n) into bt, a message per set and page
 * (after the set's flush when flush), the SNAT element of none whose
 * snat_shared[i] is set; sel: room for n. */
static int
sets_msgs(struct fw *fw, struct nft_batch *bt, const struct mapping *const *ms, size_t n,
	  bool flush, const bool *snat_shared, const struct mapping **sel, uint64_t now)
{
	size_t k_n;
	int k;

	for (k = 0; k < NFT_SET_ALL; k++) {
		if (k == NFT_SET_EXT4 || k == NFT_SET_LAN4 || !nft_set_used(&fw->l, (enum nft_set_id)k))
			continue;
		/* one element per key where mappings share one (SNAT; two
		 * pinholes of the same key, from UPnP and PCP) */
		k_n = select_set(fw, (enum nft_set_id)k, ms, n,
				 k == NFT_SET_SNAT4 || k >= NFT_SET_COUNT,
				 k == NFT_SET_SNAT4 ? snat_shared : NULL, sel);
		if (k_n == SIZE_MAX ||
		    (flush && nft_msg_elems(bt, &fw->l, (enum nft_set_id)k, NFT_MSG_DELSETELEM,
					    NULL, 0, 0) < 0) ||
		    (k_n > 0 && nft_msg_elems(bt, &fw->l, (enum nft_set_id)k, NFT_MSG_NEWSETELEM,
					      sel, k_n, now) < 0))
			return -1;
	}
	return 0;
}

/* Add every mapping (after flushing igdd's mapping sets when flush) in
 * one transaction however many messages and pages it takes; the SNAT
 * element of none whose snat_shared[i] is set (add_many).  A flush (a
 * re-install) puts the known external addresses and the LANs back too:
 * the contents check counts ext4 and lan4, and a re-install that left
 * them as another process made them would never repair them. */
static int
install(struct fw *fw, const struct mapping *const *ms, size_t n, bool flush,
	const bool *snat_shared)
{
	const struct mapping **sel = n > 0 ? calloc(n, sizeof(*sel)) : NULL;
	size_t i, total = 0;
	struct nft_batch bt;

	if (n > 0 && sel == NULL)
		return -1;
	if (batch_start(fw, &bt, 0) < 0) {
		free(sel);
		return -1;
	}
	if (flush && fw->addrs_known && msg_addrs(&bt, fw, &fw->addrs) < 0) {
		nft_batch_free(&bt);
		free(sel);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < n; i++)
		total += check_mapping(fw, ms[i]) == 0;
	if (sets_msgs(fw, &bt, ms, n, flush, snat_shared, sel, time_mono_ms()) < 0) {
		nft_batch_free(&bt);
		free(sel);
		errno = ENOMEM;
		return -1;
	}
	free(sel);
	if (total < n)
		log_warnx("nftables: %zu mappings not installed (IPv6 off, or an address "
			  "the layout does not take)", n - total);
	if (commit(fw, &bt) < 0) {
		log_warn("nftables: installing %zu mappings", total);
		return -1;
	}
	log_debug("nftables: installed %zu mappings", total);
	return 0;
}

static void events_drain(struct fw *fw, uint32_t upto, unsigned *later);

/* igdd's own notification listener (nft_events_fd()) off or on again:
 * while anyone listens, the kernel builds a notification for every
 * element a transaction changes, which made a transaction of 400,000
 * elements (100,000 mappings with hairpin and port preservation) take 15 s
 * instead of 2.  A bulk change of igdd's own does not need them. */
static void
events_listen(struct fw *fw, bool on)
{
	int grp = NFNLGRP_NFTABLES;

	if (fw->ev == NULL)
		return;
	/* A NEWGEN queued before it went off and read after it came on does
	 * not make the next transaction heard from its start
	 * (nft_heard_newgen()): those are before igdd's own commit meanwhile
	 * (its generation, known without a syscall: a clients' batch's), or
	 * read now. */
	if (!on) {
		fw->drop_commits = fw->commits;
	} else if (fw->commits != fw->drop_commits && fw->commit_gen != 0) {
		fw->listen_gen = fw->commit_gen;
	} else {
		events_drain(fw, 0, NULL);
		fw->listen_gen = 0;
	}
	if (mnl_socket_setsockopt(fw->ev, on ? NETLINK_ADD_MEMBERSHIP : NETLINK_DROP_MEMBERSHIP,
				  &grp, sizeof(grp)) < 0)
		log_warn("nftables: change notifications %s", on ? "on" : "off");
	nft_heard_reset(&fw->hear);	/* a transaction may have begun unheard */
}

/* Everything up to generation g is accounted for (0: not known). */
static void
events_sync(struct fw *fw, uint32_t g)
{
	fw->sync_gen = g;
	fw->sync_commits = fw->commits;
	fw->heard = 0;
}

#define UNSEEN_LOG_MS	30000	/* one line at most this often (events_account()) */

/* After a deferral's transaction, sent with the listener off (nft_flush():
 * two GETGENs a batch, as a bulk change has, would cost ~15% of a fill's
 * CPU): the generations since sync_gen must be igdd's own commits and the
 * others' that the listener heard, whose notifications are all queued
 * once igdd's own commit is answered; one more came while it did not
 * listen: FW_EV_UNSEEN (no journal mark until the regular contents check
 * agrees; a bulk change's loss, rarer, is checked at once).  The transaction's own
 * generation is its echo (commit_gen); without one the accounting starts
 * again at the next.  An own transaction that changed nothing moves no
 * generation and can hide one of another's (the next check sees it if it
 * came after). */
static void
events_account(struct fw *fw, int rc, int err)
{
	uint32_t g = fw->commit_gen;
	unsigned later = 0, own;

	if (fw->ev == NULL)
		return;
	if (rc < 0 && err != ETIMEDOUT && err != ENOBUFS) {
		events_drain(fw, 0, NULL);	/* refused: no generation moved */
		return;
	}
	events_drain(fw, g, &later);
	own = fw->commits - fw->sync_commits;
	if (fw->sync_gen != 0 && g != 0 && g - fw->sync_gen > own + fw->heard) {
		/* most likely of another table: left to the regular check
		 * (a neighbour that commits often would make every loss a
		 * dump of igdd's sets) */
		uint64_t now = time_mono_ms();

		if (fw->unseen_logged == 0 || now - fw->unseen_logged >= UNSEEN_LOG_MS) {
			log_info("nftables: another process's transaction came during igdd's own "
				 "change (generation %u to %u, %u of igdd's, %u heard; %u more "
				 "since the last such line): no lease-file mark until the next "
				 "check of its maps", fw->sync_gen, g, own, fw->heard, fw->unseen);
			fw->unseen_logged = now;
			fw->unseen = 0;
		} else {
			fw->unseen++;
			log_debug("nftables: another process's transaction came during igdd's own "
				  "change (generation %u to %u, %u of igdd's, %u heard)", fw->sync_gen,
				  g, own, fw->heard);
		}
		fw->ev_kinds |= FW_EV_UNSEEN;
	}
	events_sync(fw, g);
	fw->heard = later;
}

/* The listener off for a bulk change (an install, the restore's beside the
 * replay), and on again after it: another process's transaction meanwhile
 * sent igdd no notification, so the generation is read before and after,
 * and one that moved by more than igdd's own commits counts as lost
 * notifications (nft_events_read(): the contents are checked, no journal
 * mark until they agree).  A transaction of anyone else's counts, of
 * igdd's objects or not (the kernel does not say); an own one that changed
 * nothing (the kernel then keeps the generation) too.  Two GETGENs a bulk
 * change; the deferred changes' small batches (nft_flush(), microseconds
 * without the listener) do without. */
static void
events_deaf(struct fw *fw)
{
	if (fw->ev == NULL)
		return;
	fw->deaf_gen = gen_now(fw);	/* before: one in between counts */
	fw->deaf_commits = fw->commits;
	events_listen(fw, false);
}

static void
events_hear(struct fw *fw)
{
	uint32_t g;

	if (fw->ev == NULL)
		return;
	events_listen(fw, true);
	g = gen_now(fw);		/* after: one in between counts */
	if (fw->deaf_gen == 0 || g == 0 || g - fw->deaf_gen != fw->commits - fw->deaf_commits) {
		log_info("nftables: another process's transaction came during igdd's bulk "
			 "change (generation %u to %u, %u of igdd's): its maps are checked",
			 fw->deaf_gen, g, fw->commits - fw->deaf_commits);
		fw->ev_kinds |= FW_EV_LOST;
	}
	events_sync(fw, g);
}

/* A bulk install: without notifications when it is big. */
static int
install_bulk(struct fw *fw, const struct mapping *const *ms, size_t n, bool flush,
	     const bool *snat_shared)
{
	bool quiet = n >= 1024 || flush;	/* a flush: one per element it removes */
	int rc;

	pipe_quiesce(fw);	/* before the listener goes off */
	if (quiet)
		events_deaf(fw);
	rc = install(fw, ms, n, flush, snat_shared);
	if (quiet)
		events_hear(fw);
	return rc;
}

/* Flush igdd's mapping sets and add every mapping, in one transaction. */
static int
nft_install_all(struct fw *fw, const struct mapping *const *ms, size_t n)
{
	return install_bulk(fw, ms, n, true, NULL);
}

static int
nft_add_many(struct fw *fw, const struct mapping *const *ms, size_t n, const bool *snat_shared)
{
	return n == 0 ? 0 : install_bulk(fw, ms, n, false, snat_shared);
}

static void events_listen(struct fw *fw, bool on);

/* From now on add and del queue their messages (they answer 0 at once);
 * nft_flush() sends them all as one transaction. */
static void
nft_defer(struct fw *fw)
{
	nft_batch_free(&fw->q.bt);
	fw->q.on = true;
	fw->q.failed = false;
	fw->q.n_changes = 0;
}

/* Ask for an ack of the last message of the batch's pages (a quiet
 * batch's, before its end). */
static int
ack_last(struct nft_batch *bt)
{
	struct nlmsghdr *nlh, *last = NULL;
	struct iovec *iov;
	int n, i, left;

	if (nft_batch_iov(bt, &iov, &n) < 0)
		return -1;
	for (i = 0; i < n; i++)
		for (nlh = iov[i].iov_base, left = (int)iov[i].iov_len; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left))
			last = nlh;
	free(iov);
	if (last == NULL || last->nlmsg_type == NFNL_MSG_BATCH_BEGIN)
		return -1;
	last->nlmsg_flags |= NLM_F_ACK;
	return 0;
}

/* A quiet batch (its messages ask for no ack), its last message's ack
 * asked for (ack_last()), as one transaction.  Frees the batch. */
static int
commit_quiet(struct fw *fw, struct nft_batch *bt)
{
	struct iovec *iov;
	int rc = -1, n;

	nft_batch_finish(bt);
	fw->seq = bt->seq_next;
	if (nft_batch_iov(bt, &iov, &n) < 0) {
		errno = ENOMEM;
	} else {
		rc = send_batch(fw, iov, (size_t)n, bt->seq_begin, bt->seq_next, 1);
		free(iov);
	}
	nft_batch_free(bt);
	return rc;
}

/* The queued changes in one transaction.  0 when the kernel took them
 * all; -1 when it refused the transaction (nothing changed).  One ack, of
 * the last message: the kernel handles the whole batch within sendmsg()
 * and reports every refused message (and a failed commit, against the
 * batch end) with an error of its own, so that ack, alone, means all
 * went in. */
static int
nft_flush(struct fw *fw)
{
	struct fw_queue *q = &fw->q;
	int rc, saved;

	q->on = false;
	if (q->failed || (q->n_changes > 0 && ack_last(&q->bt) < 0)) {
		nft_batch_free(&q->bt);
		errno = ENOMEM;
		return -1;
	}
	if (q->n_changes == 0) {
		nft_batch_free(&q->bt);
		return 0;
	}
	/* a batch of igdd's own: no notification built for each element
	 * (events_listen()) */
	pipe_quiesce(fw);
	events_listen(fw, false);
	fw->commit_gen = 0;	/* (send_batch() sets it, if it gets that far) */
	rc = commit_quiet(fw, &q->bt);
	saved = errno;
	events_listen(fw, true);
	events_account(fw, rc, saved);
	if (rc < 0) {
		errno = saved;
		log_warn("nftables: a transaction of %u changes refused", q->n_changes);
	}
	q->n_changes = 0;
	return rc;
}

/* ---- a restore's install beside the replay ----
 * After a plain stop the sets are new and empty, and the restore's
 * elements can go in while the lease file is still being replayed: the
 * store hands each change of the replay (an add, or the delete of a
 * mapping that a later record superseded) to nft_pipe_change(), which
 * copies it; a thread of its own encodes and sends them in order, a few
 * thousand a transaction, on a netlink socket of its own.  The kernel's
 * part of 100,000 mappings (~0.3 s) then runs on another core beside the
 * replay (~0.2 s) instead of after it.  It is the only thread besides the
 * loop's, and lives only during the restore.  It shares nothing with the
 * loop but the queue below (under its mutex); it has its own copy of the
 * layout, and logs only what send_batch() logs of a refusal.  Every other
 * operation of this file waits for it to end first (pipe_quiesce()), so
 * that the kernel has the restore's transactions before any other of
 * igdd's. */

#define PIPE_CHUNK	4096	/* records per transaction */

#define PR_ADD		0x01
#define PR_FORWARD	0x02	/* del: another mapping needs the forward element */
#define PR_SNAT		0x04	/* add: another mapping holds the SNAT element */
#define PR_HEIR		0x08	/* del: the next record is the SNAT element's heir */

struct pipe_rec {
	struct in6_addr iaddr, rhost;
	uint64_t expires;
	uint16_t eport, iport, rport;
	uint8_t proto, flags;
};

struct pipe_chunk {
	struct pipe_chunk *next;
	size_t n;
	struct pipe_rec r[PIPE_CHUNK];
};

struct fw_pipe {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pipe_chunk *head, *tail;	/* handed to the thread, oldest first (mu) */
	bool ended;			/* no more will come (mu) */
	bool over;			/* the thread took the end: it is finishing (mu) */
	bool running;			/* the thread has started (mu) */
	struct pipe_chunk *fill;	/* the loop's, being filled */
	struct fw *w;			/* the thread's: its socket, the layout's copy */
	bool failed;			/* the thread's: a transaction refused */
	size_t sent;			/* the thread's: transactions committed */
	int err;			/* and why (errno) */
	bool joined;			/* the loop's: the thread is over */
	int result;			/* 0, or -1 (refused, or a change not taken) */
};

static struct mapping
pipe_mapping(const struct pipe_rec *r)
{
	return (struct mapping){ .rhost = &r->rhost, .iaddr = &r->iaddr, .expires = r->expires,
				 .eport = r->eport, .iport = r->iport, .rport = r->rport,
				 .proto = r->proto, .enabled = true };
}

/* One chunk, one transaction: each run of adds as install() sends them
 * (a message per set and page), each delete as nft_del() with its heir.
 * ms, ptrs, sel, snat: room for a chunk. */
static int
pipe_send(struct fw *w, const struct pipe_chunk *c, struct mapping *ms,
	  const struct mapping **ptrs, const struct mapping **sel, bool *snat)
{
	uint64_t now = time_mono_ms();
	struct nft_batch bt;
	size_t i, j;

	if (batch_start(w, &bt, 0) < 0)
		return -1;
	bt.quiet = true;	/* one ack, of the last message (commit_quiet()) */
	for (i = 0; i < c->n; i++)
		ms[i] = pipe_mapping(&c->r[i]);
	for (i = 0; i < c->n; i = j) {
		struct fw_share sh = { .forward = (c->r[i].flags & PR_FORWARD) != 0 };

		if (!(c->r[i].flags & PR_ADD)) {
			j = i + 1;
			if ((c->r[i].flags & PR_HEIR) && j < c->n)
				sh.snat_heir = &ms[j++];
			if (del_msgs(w, &bt, del_type(w), &ms[i], &sh) < 0)
				goto nomem;
			continue;
		}
		for (j = i; j < c->n && (c->r[j].flags & PR_ADD); j++) {
			ptrs[j - i] = &ms[j];
			snat[j - i] = (c->r[j].flags & PR_SNAT) != 0;
		}
		if (sets_msgs(w, &bt, ptrs, j - i, false, snat, sel, now) < 0)
			goto nomem;
	}
	if (bt.n_msg == 0) {
		nft_batch_free(&bt);
		return 0;
	}
	if (ack_last(&bt) < 0)
		goto nomem;
	return commit_quiet(w, &bt);
nomem:
	nft_batch_free(&bt);
	errno = ENOMEM;
	return -1;
}

/* The next chunk handed over, waiting for it; NULL once the end came. */
static struct pipe_chunk *
pipe_next(struct fw_pipe *p)
{
	struct pipe_chunk *c;

	pthread_mutex_lock(&p->mu);
	while (p->head == NULL && !p->ended)
		pthread_cond_wait(&p->cv, &p->mu);
	c = p->head;
	if (c != NULL && (p->head = c->next) == NULL)
		p->tail = NULL;
	p->over = c == NULL;
	pthread_mutex_unlock(&p->mu);
	return c;
}

/* The thread: every chunk in its own transaction, in order; after a
 * refusal the rest is only read (the store then installs everything). */
static void *
pipe_main(void *arg)
{
	struct fw_pipe *p = arg;
	struct mapping *ms = malloc(PIPE_CHUNK * sizeof(*ms));
	const struct mapping **ptrs = malloc(PIPE_CHUNK * sizeof(*ptrs));
	const struct mapping **sel = malloc(PIPE_CHUNK * sizeof(*sel));
	bool *snat = malloc(PIPE_CHUNK * sizeof(*snat));
	struct pipe_chunk *c;

	if (ms == NULL || ptrs == NULL || sel == NULL || snat == NULL) {
		p->failed = true;
		p->err = ENOMEM;
	}
	pthread_mutex_lock(&p->mu);
	p->running = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	while ((c = pipe_next(p)) != NULL) {
		if (!p->failed && pipe_send(p->w, c, ms, ptrs, sel, snat) < 0) {
			p->failed = true;
			p->err = errno;
		} else if (!p->failed) {
			p->sent++;
		}
		free(c);
	}
	free(ms);
	free(ptrs);
	free(sel);
	free(snat);
	return NULL;
}

/* Hand the chunk being filled to the thread (with end, the last). */
static void
pipe_hand(struct fw_pipe *p, bool end)
{
	pthread_mutex_lock(&p->mu);
	if (p->fill != NULL && p->fill->n > 0) {
		if (p->tail != NULL)
			p->tail->next = p->fill;
		else
			p->head = p->fill;
		p->tail = p->fill;
		p->fill = NULL;
	}
	p->ended |= end;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->fill != NULL && end) {	/* an empty one */
		free(p->fill);
		p->fill = NULL;
	}
}

/* The thread over: its result taken, its socket closed, change
 * notifications on again. */
static void
pipe_join(struct fw *fw)
{
	struct fw_pipe *p = fw->pipe;

	if (p->joined)
		return;
	pipe_hand(p, true);
	pthread_join(p->thread, NULL);
	p->joined = true;
	if (p->failed) {
		p->result = -1;
		log_warnx("nftables: the restore's install was refused: %s", strerror(p->err));
	}
	/* the generation its last commit made (0: not echoed), when it made one */
	if (p->sent > 0)
		fw->commit_gen = p->w->commit_gen;
	fw->commits += p->w->commits;
	fw_close(p->w);
	p->w = NULL;
	events_hear(fw);
}

static void
pipe_quiesce(struct fw *fw)
{
	if (fw->pipe != NULL)
		pipe_join(fw);
}

static void
pipe_free(struct fw *fw)
{
	struct fw_pipe *p = fw->pipe;

	if (p == NULL)
		return;
	pipe_join(fw);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
	fw->pipe = NULL;
}

/* Start the thread, when this start made the sets (they hold nothing).
 * 0, or -1: then the store reconciles as before. */
static int
nft_pipe_start(struct fw *fw)
{
	struct fw_pipe *p;

	if (!fw->fresh || fw->pipe != NULL || (p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	if ((p->w = fw_open()) == NULL) {
		free(p);
		return -1;
	}
	p->w->has_destroy = fw->has_destroy;
	p->w->l = fw->l;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->thread, NULL, pipe_main, p) != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		fw_close(p->w);
		free(p);
		return -1;
	}
	/* What a thread does as it starts (the C library's rseq and robust
	 * list registrations) is over before the system call filter comes
	 * (daemon.c), which would kill the process for it. */
	pthread_mutex_lock(&p->mu);
	while (!p->running)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	fw->fresh = false;	/* the store's elements go in through the thread */
	/* no notification built for each element: as a bulk install (before
	 * fw->pipe: its GETGEN would wait for the thread's end) */
	events_deaf(fw);
	fw->pipe = p;
	return 0;
}

static struct pipe_rec *
pipe_slot(struct fw_pipe *p, const struct mapping *m, uint8_t flags)
{
	struct pipe_rec *r = &p->fill->r[p->fill->n++];

	*r = (struct pipe_rec){ .iaddr = *m->iaddr, .rhost = *m->rhost, .expires = m->expires,
				.eport = m->eport, .iport = m->iport, .rport = m->rport,
				.proto = m->proto, .flags = flags };
	return r;
}

/* A change of the replay, copied for the thread: m's add (sh: snat), or
 * its delete (sh: forward, snat_heir; the SNAT element's heir goes with
 * it in the same chunk).  0, or -1 (the pipeline is over or out of
 * memory: it fails, and the store installs everything). */
static int
nft_pipe_change(struct fw *fw, const struct mapping *m, const struct fw_share *sh, bool add)
{
	struct fw_pipe *p = fw->pipe;
	uint8_t flags = add ? PR_ADD | (sh->snat ? PR_SNAT : 0)
			    : (sh->forward ? PR_FORWARD : 0) | (sh->snat_heir ? PR_HEIR : 0);

	if (p == NULL || p->joined) {
		if (p != NULL)
			p->result = -1;
		return -1;
	}
	if (check_mapping(fw, m) < 0)
		return 0;	/* not in the layout (IPv6 off): as install() */
	if (p->fill != NULL && p->fill->n + 2 > PIPE_CHUNK)
		pipe_hand(p, false);
	if (p->fill == NULL) {
		if ((p->fill = malloc(sizeof(*p->fill))) == NULL) {
			p->result = -1;
			return -1;
		}
		p->fill->next = NULL;
		p->fill->n = 0;
	}
	pipe_slot(p, m, flags);
	if (!add && sh->snat_heir != NULL)
		pipe_slot(p, sh->snat_heir, 0);
	return 0;
}

/* Is the thread over?  1 not yet (with wait: waits), 0 every change went
 * in, -1 not (logged); then the pipeline is gone. */
static int
nft_pipe_done(struct fw *fw, bool wait)
{
	struct fw_pipe *p = fw->pipe;
	bool over;
	int rc;

	if (p == NULL)
		return -1;
	if (!p->joined) {
		pipe_hand(p, true);
		pthread_mutex_lock(&p->mu);
		over = p->over;
		pthread_mutex_unlock(&p->mu);
		if (!over && !wait)
			return 1;
	}
	pipe_join(fw);		/* its result is known once it is over */
	rc = p->result;
	pipe_free(fw);
	return rc;
}

/* ---- a reconcile's dump, in steps ---- */

static void
dump_close(struct fw *fw)
{
	if (fw->dump != NULL)
		mnl_socket_close(fw->dump);
	fw->dump = NULL;
}

/* Ask for the elements of set dump_set. */
static int
dump_ask(struct fw *fw)
{
	char buf[REQ_BUF];
	struct nlmsghdr *nlh;

	fw->dump_seq = next_seq(fw, 1);
	fw->dump_first = true;
	nlh = set_get_msg(fw, (enum nft_set_id)fw->dump_set, NFT_MSG_GETSETELEM, NLM_F_DUMP,
			  fw->dump_seq, buf);
	return nlh == NULL || mnl_socket_sendto(fw->dump, nlh, nlh->nlmsg_len) < 0 ? -1 : 0;
}

/* The DNAT maps and the forward sets are read, and with port preservation
 * the SNAT map (then 1).  Without DESTROY (kernels before 6.3) a stale
 * element's delete may fail the whole transaction; then the caller
 * installs everything instead.  Sets this start created (after a plain
 * stop) are known to be empty: nothing is read, whatever the layout. */
static int
nft_elems_start(struct fw *fw)
{
	pipe_quiesce(fw);
	dump_close(fw);
	fw->dump_moved = false;
	fw->dump_spans = 0;
	if (fw->fresh) {		/* sets this start made: nothing to read */
		fw->fresh = false;
		fw->dump_set = NFT_SET_COUNT;
		return 0;
	}
	if (!fw->has_destroy)
		return -1;
	fw->dump = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (fw->dump == NULL || mnl_socket_bind(fw->dump, 0, MNL_SOCKET_AUTOPID) < 0) {
		log_warn("nftables: netlink socket for a dump");
		dump_close(fw);
		return -1;
	}
	fw->dump_set = 0;
	fw->dump_losses = fw->ev_losses;
	fw->dump_base = fw->dump_ref = gen_now(fw);
	if (dump_ask(fw) < 0) {
		dump_close(fw);
		return -1;
	}
	return fw->l.preserve ? 1 : 0;
}

struct elem_walk {
	struct fw *fw;
	enum nft_set_id id;
	fw_elem_cb cb;
	void *arg;
	const void *key, *data;
	uint32_t klen, dlen;
};

/* NFTA_DATA_VALUE inside NFTA_SET_ELEM_KEY or _DATA. */
static int
elem_value(const struct nlattr *a, const void **v, uint32_t *len)
{
	const struct nlattr *in;

	mnl_attr_for_each_nested(in, a) {
		if (mnl_attr_get_type(in) == NFTA_DATA_VALUE) {
			*v = mnl_attr_get_payload(in);
			*len = mnl_attr_get_payload_len(in);
		}
	}
	return 0;
}

/* One NFTA_LIST_ELEM: its key and data, decoded, to the callback. */
static int
elem_attr_cb(const struct nlattr *a, void *data)
{
	struct elem_walk *w = data;
	const struct nlattr *in;
	struct fw_elem e;

	if (mnl_attr_get_type(a) != NFTA_LIST_ELEM)
		return MNL_CB_OK;
	w->key = w->data = NULL;
	w->klen = w->dlen = 0;
	mnl_attr_for_each_nested(in, a) {
		if (mnl_attr_get_type(in) == NFTA_SET_ELEM_KEY)
			elem_value(in, &w->key, &w->klen);
		else if (mnl_attr_get_type(in) == NFTA_SET_ELEM_DATA)
			elem_value(in, &w->data, &w->dlen);
	}
	if (nft_elem_decode(w->id, w->key, w->klen, w->data, w->dlen, &e) == 0)
		w->cb(w->arg, &e);
	return MNL_CB_OK;
}

static int
elem_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elem_walk *w = data;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;

	/* Each part carries the ruleset's generation (its low 16 bits).  The
	 * kernel walks a set from its start again for each part, skipping
	 * what it sent before: a transaction between two parts (an element
	 * deleted or added before the walk's place, a resize) makes it miss
	 * or repeat elements. */
	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(*g)) {
		struct fw *fw = w->fw;
		uint32_t gen = nft_gen_from16(fw->dump_ref, ntohs(g->res_id));

		if (fw->dump_first)
			fw->dump_gen = gen;
		else if (gen != fw->dump_last && fw->dump_base == 0)
			fw->dump_moved = true;	/* which ones came: not known */
		fw->dump_last = fw->dump_ref = gen;
		fw->dump_first = false;
	}

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_parse_nested(a, elem_attr_cb, data);
	return MNL_CB_OK;
}

/* One read of the dump: what it holds goes to cb; the next set's dump is
 * asked for when one ends. */
static int
nft_elems_step(struct fw *fw, fw_elem_cb cb, void *arg)
{
	struct elem_walk w = { fw, (enum nft_set_id)fw->dump_set, cb, arg, NULL, NULL, 0, 0 };
	ssize_t n;
	int r;

	if (fw->dump == NULL)
		return fw->dump_set == NFT_SET_COUNT ? 0 : -1;
	n = mnl_socket_recvfrom(fw->dump, fw->rbuf, RECV_BUF);
	if (n < 0 && errno == EINTR)
		return 1;
	r = n < 0 ? MNL_CB_ERROR : mnl_cb_run(fw->rbuf, (size_t)n, fw->dump_seq,
					       mnl_socket_get_portid(fw->dump), elem_msg_cb, &w);
	if (r == MNL_CB_ERROR && errno == ENOENT)
		r = MNL_CB_STOP;	/* a set that is not there holds nothing */
	if (r == MNL_CB_ERROR) {
		log_warn("nftables: dumping %s", fw->l.set_name[fw->dump_set]);
		dump_close(fw);
		return -1;
	}
	if (r == MNL_CB_STOP) {
		if (!fw->dump_first && fw->dump_last != fw->dump_gen) {
			if (fw->dump_spans < ARRAY_SIZE(fw->dump_span))
				fw->dump_span[fw->dump_spans++] =
					(struct gen_span){ fw->dump_gen, fw->dump_last };
			else
				fw->dump_moved = true;
		}
		/* the DNAT maps, the forward sets, with preservation snat4 */
		if (++fw->dump_set == NFT_SET_EXT4 && fw->l.preserve)
			fw->dump_set = NFT_SET_SNAT4;
		if (fw->dump_set == NFT_SET_EXT4 || fw->dump_set > NFT_SET_SNAT4) {
			dump_close(fw);
			return 0;
		}
		if (dump_ask(fw) < 0) {
			dump_close(fw);
			return -1;
		}
	}
	return 1;
}

/* Is every generation that came during a set's dump another process's
 * clean one (nft_heard_newgen())?  -1: one is not heard yet. */
static int
spans_clean(struct fw *fw)
{
	unsigned i;
	int r = 1;

	for (i = 0; i < fw->dump_spans; i++) {
		const struct gen_span *sp = &fw->dump_span[i];

		if (nft_gen_ring_covers(&fw->others, sp->from, sp->to))
			continue;
		/* heard past it, or igdd's own commit in it: one was not clean */
		if ((int32_t)(sp->to - fw->ev_gen_last) <= 0 ||
		    (fw->commit_gen != 0 && nft_gen_in(fw->commit_gen, sp->from, sp->to)))
			return 0;
		r = -1;
	}
	return r;
}

#define SPAN_WAIT_MS	10	/* for the last part's NEWGEN (nft_elems_moved()) */

/* A set's dump may have missed elements when a transaction came between
 * two of its parts.  Those of other processes that the listener heard
 * whole and that touched none of igdd's objects (a ban list's daemon, a
 * firewall's dynamic sets, committing many times a second) did not
 * change its sets: only igdd's own, those of its objects, those it did
 * not hear, and any when notifications were lost count.  A part carries
 * the generation as soon as a commit starts, before its notifications
 * are sent: the last one's may come a little later. */
static bool
nft_elems_moved(struct fw *fw)
{
	uint64_t until = time_mono_ms() + SPAN_WAIT_MS;
	uint32_t others = 0, now;
	unsigned i;
	int r;

	if (fw->dump_moved)
		return true;
	if (fw->dump_spans == 0)
		return false;
	if (fw->ev == NULL)
		return true;
	/* the parts carry 16 bits: fewer generations than that since it began */
	now = gen_now(fw);
	if (fw->dump_base == 0 || now == 0 || now - fw->dump_base >= 0x10000)
		return true;
	for (;;) {
		struct pollfd p = { .fd = mnl_socket_get_fd(fw->ev), .events = POLLIN };

		events_drain(fw, 0, NULL);
		if (fw->ev_losses != fw->dump_losses)
			return true;
		if ((r = spans_clean(fw)) >= 0 || time_mono_ms() >= until)
			break;
		(void)poll(&p, 1, 1);
	}
	if (r <= 0)
		return true;
	for (i = 0; i < fw->dump_spans; i++)
		others += nft_gen_span_len(fw->dump_span[i].from, fw->dump_span[i].to);
	log_info("nftables: %u transactions of other processes came while igdd's sets were "
		 "read, none of its objects: no need to read them again", others);
	return false;
}

/* ---- counters ----
 * Packets and bytes of the mappings' forward elements: the forward chain
 * sees every packet of a flow that reaches igdd's rule (the nat chain only
 * the first).  In a firewall that accepts established flows before
 * jumping to igdd's chain, that is one packet per new flow: still a
 * growing count while the mapping is in use, which is what idle cleanup
 * needs.  The first packet of each hairpinned flow counts there too
 * (postrouting's hairctr rule): a mapping used only from the LAN is in use
 * too.  Integrated, where the firewall may accept a mapping's flows before
 * its jump (or, with the forward sets in another table than the nat
 * chains, there is no hairctr), the mapping's DNAT element counts the
 * first packet of each flow, from the WAN or through the hairpin, and
 * adds to it (nft_set_counts()).  A pinhole's counter is its one
 * element's.
 * Many mappings cost one dump per set: the mappings' keys go into a hash,
 * and each element of the dump is looked up in it; one mapping alone
 * (GetPinholePackets) costs a get per set it is in, not a dump. */

struct ctr_index {
	const struct mapping *const *ms;
	struct fw_counter *out;
	uint8_t (*keys)[NFT_KEY_MAX];	/* per mapping; len 0 = not in this set */
	uint8_t *klen;
	uint32_t *head, *next;		/* bucket / chain: index + 1, 0 = end */
	size_t mask;
};

static size_t
key_hash(const uint8_t *k, size_t len)
{
	uint64_t h = fnv1a64(FNV1A64_INIT, k, len);

	return (size_t)(h ^ h >> 29);
}

/* Index the mappings that have an element in set id; returns how many. */
static size_t
ctr_index_set(const struct fw *fw, struct ctr_index *x, size_t n, enum nft_set_id id)
{
	size_t i, b, count = 0;

	memset(x->head, 0, (x->mask + 1) * sizeof(*x->head));
	for (i = 0; i < n; i++) {
		x->klen[i] = (uint8_t)nft_elem_key(&fw->l, id, x->ms[i], x->keys[i]);
		if (x->klen[i] == 0)
			continue;
		b = key_hash(x->keys[i], x->klen[i]) & x->mask;
		x->next[i] = x->head[b];
		x->head[b] = (uint32_t)i + 1;
		count++;
	}
	return count;
}

/* One element of the dump: its counters to every mapping with its key. */
static void
ctr_elem(struct nftnl_set_elem *e, void *arg)
{
	struct ctr_index *x = arg;
	struct fw_counter c = { 0, 0 };
	const void *k;
	uint32_t len, j;

	k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	if (k == NULL || len == 0 || len > NFT_KEY_MAX)
		return;
	nftnl_set_elem_expr_foreach(e, ctr_expr_cb, &c);
	for (j = x->head[key_hash(k, len) & x->mask]; j != 0; j = x->next[j - 1])
		if (x->klen[j - 1] == len && memcmp(x->keys[j - 1], k, len) == 0) {
			x->out[j - 1].packets += c.packets;
			x->out[j - 1].bytes += c.bytes;
		}
}

static int
ctr_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	return elems_foreach(nlh, ctr_elem, data);
}

static int
dump_set_elems(struct fw *fw, enum nft_set_id id, struct ctr_index *x)
{
	char buf[REQ_BUF];
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;
	uint16_t family;

	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, nft_set_table(&fw->l, id, &family));
	nftnl_set_set_str(s, NFTNL_SET_NAME, fw->l.set_name[id]);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, next_seq(fw, 1));
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return query(fw, nlh, ctr_dump_cb, x);
}

/* The sets whose elements may count a mapping's traffic (those that do
 * in this layout: nft_set_counts()). */
static const enum nft_set_id ctr_sets[] = {
	NFT_SET_FWD4, NFT_SET_FWD4_RH, NFT_SET_PIN6, NFT_SET_PIN6_RH, NFT_SET_PIN6_RHOST,
	NFT_SET_PIN6_RPORT, NFT_SET_DNAT4, NFT_SET_DNAT4_RH,
};

static int
counters_one(struct fw *fw, const struct mapping *m, struct fw_counter *out)
{
	struct elem_reply er;
	size_t k;

	for (k = 0; k < ARRAY_SIZE(ctr_sets); k++) {
		if (!nft_set_counts(&fw->l, ctr_sets[k]) || !in_set(fw, ctr_sets[k], m))
			continue;
		if (get_elem(fw, ctr_sets[k], m, &er) < 0)
			return -1;
		out->packets += er.ctr.packets;
		out->bytes += er.ctr.bytes;
	}
	return 0;
}

static int
nft_counters(struct fw *fw, const struct mapping *const *ms, size_t n, struct fw_counter *out)
{
	struct ctr_index x = { .ms = ms, .out = out };
	size_t buckets = 16, k;
	int rc = 0;

	if (n == 0)
		return 0;
	memset(out, 0, n * sizeof(*out));
	if (n == 1)
		return counters_one(fw, ms[0], out);
	if (n > UINT32_MAX - 1) {
		errno = EOVERFLOW;
		return -1;
	}
	while (buckets < n)
		buckets *= 2;
	x.mask = buckets - 1;
	x.keys = malloc(n * sizeof(*x.keys));
	x.klen = malloc(n);
	x.next = malloc(n * sizeof(*x.next));
	x.head = malloc(buckets * sizeof(*x.head));
	if (x.keys == NULL || x.klen == NULL || x.next == NULL || x.head == NULL) {
		errno = ENOMEM;
		rc = -1;
	}
	for (k = 0; rc == 0 && k < ARRAY_SIZE(ctr_sets); k++)
		if (nft_set_counts(&fw->l, ctr_sets[k]) && ctr_index_set(fw, &x, n, ctr_sets[k]) > 0 &&
		    dump_set_elems(fw, ctr_sets[k], &x) < 0)
			rc = -1;
	free(x.keys);
	free(x.klen);
	free(x.next);
	free(x.head);
	return rc;
}

/* ---- contents: element counts ---- */

static int
count_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a, *e;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_for_each_nested(e, a)
				(*(size_t *)data)++;
	return MNL_CB_OK;
}

/* Ask for the next set's elements (a dump on the verification's own
 * socket: it must not meet a transaction's acks): 1 asked, 0 no set
 * left, -1 error. */
static int
verify_next(struct fw *fw)
{
	struct nft_verify *v = &fw->verify;
	char buf[REQ_BUF];
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint16_t family;

	while (++v->set < NFT_SET_ALL && v->want[v->set] == SIZE_MAX)
		;				/* not checked (ext4 unknown, a set not used) */
	if (v->set >= NFT_SET_ALL)
		return 0;
	if ((s = nftnl_set_alloc()) == NULL)
		return -1;
	v->have = 0;
	v->seq = next_seq(fw, 1);
	nftnl_set_set_str(s, NFTNL_SET_TABLE, nft_set_table(&fw->l, (enum nft_set_id)v->set, &family));
	nftnl_set_set_str(s, NFTNL_SET_NAME, fw->l.set_name[v->set]);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, family, NLM_F_DUMP, v->seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	return mnl_socket_sendto(v->nl, nlh, nlh->nlmsg_len) < 0 ? -1 : 1;
}

/* A dump left half-read (a check stopped or failed) keeps the kernel's
 * dump state and a buffer of it on the check's socket: closing the
 * socket is the one way to end it; the next check opens another. */
static void
nft_verify_cancel(struct fw *fw)
{
	struct nft_verify *v = &fw->verify;

	if (v->nl != NULL && v->set >= 0 && v->set < NFT_SET_ALL) {
		mnl_socket_close(v->nl);
		v->nl = NULL;
	}
	v->set = NFT_SET_ALL;
}

/* Expected element counts: every set's from the mappings ms[0..n) (every
 * enabled one), ext4's from the known external addresses; then the first
 * dump is asked for. */
static int
nft_verify_start(struct fw *fw, const struct mapping *const *ms, size_t n)
{
	struct nft_verify *v = &fw->verify;
	int k;

	pipe_quiesce(fw);
	nft_verify_cancel(fw);
	if (v->nl == NULL) {
		v->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
		if (v->nl == NULL || mnl_socket_bind(v->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
			if (v->nl != NULL)
				mnl_socket_close(v->nl);
			v->nl = NULL;
			return -1;
		}
	}
	for (k = 0; k < NFT_SET_ALL; k++) {
		if (!nft_set_used(&fw->l, (enum nft_set_id)k))
			v->want[k] = SIZE_MAX;		/* the pinhole sets, IPv6 off */
		else if (k == NFT_SET_EXT4)
			v->want[k] = fw->addrs_known ? fw->addrs.n_ext : SIZE_MAX;
		else if (k == NFT_SET_LAN4)
			v->want[k] = !fw->addrs_known ? SIZE_MAX : fw->l.hairpin ? fw->l.n_lan : 0;
		else if ((v->want[k] = select_set(fw, (enum nft_set_id)k, ms, n, true, NULL, NULL)) ==
			 SIZE_MAX)
			return -1;
	}
	v->set = -1;
	v->agree = true;
	return verify_next(fw) < 0 ? -1 : 0;
}

/* One buffer of the dump under way, counted on the wire.  The kernel walks
 * a set from its start for every buffer it fills (about 300 elements), so
 * a whole dump is quadratic: about 0.2 s at 100,000 elements, which in one
 * go would stall the daemon; a step is one buffer, about a millisecond. */
static int
nft_verify_step(struct fw *fw)
{
	struct nft_verify *v = &fw->verify;
	struct pollfd p = { .fd = -1, .events = POLLIN };
	ssize_t n;
	int r;

	if (v->set < 0 || v->set >= NFT_SET_ALL || v->nl == NULL)
		return v->agree ? 1 : 0;
	p.fd = mnl_socket_get_fd(v->nl);
	if (poll(&p, 1, ACK_TIMEOUT_MS) <= 0 ||
	    (n = mnl_socket_recvfrom(v->nl, fw->rbuf, RECV_BUF)) < 0)
		return -1;
	r = mnl_cb_run(fw->rbuf, (size_t)n, v->seq, mnl_socket_get_portid(v->nl), count_cb, &v->have);
	if (r < 0)
		return -1;
	if (r != MNL_CB_STOP)
		return 2;
	if (v->have != v->want[v->set]) {
		log_warnx("nftables: %s holds %zu elements, igdd expects %zu",
			  fw->l.set_name[v->set], v->have, v->want[v->set]);
		v->agree = false;
	}
	r = verify_next(fw);
	if (r < 0)
		return -1;
	return r > 0 ? 2 : v->agree ? 1 : 0;
}

/* ---- change notifications ---- */

/* Drop, in the kernel, the notifications of igdd's own transactions (the
 * sender's port id is the nlmsghdr's), so that a big install_all does not
 * flood the socket.  A classic BPF load is big-endian: compare with the
 * port id in network order. */
static int
events_filter(int fd, uint32_t portid)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_pid)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(portid), 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
	};
	struct sock_fprog prog = { ARRAY_SIZE(code), code };

	return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static int
nft_events_fd(struct fw *fw)
{
	int grp = NFNLGRP_NFTABLES, rcv = RCVBUF_BYTES, fd;

	if (fw->ev != NULL)
		return mnl_socket_get_fd(fw->ev);
	fw->ev = mnl_socket_open2(NETLINK_NETFILTER, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fw->ev == NULL || mnl_socket_bind(fw->ev, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	fd = mnl_socket_get_fd(fw->ev);
	/* not while the restore's thread installs (pipe_join() adds it) */
	if (events_filter(fd, fw->portid) < 0 ||
	    ((fw->pipe == NULL || fw->pipe->joined) &&
	     mnl_socket_setsockopt(fw->ev, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0))
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	/* listening: from here on every generation is accounted for (while
	 * the restore's thread runs, from its end: pipe_join()) */
	if (fw->pipe == NULL || fw->pipe->joined)
		events_sync(fw, gen_now(fw));
	return fd;
fail:
	log_warn("nftables: change notifications");
	if (fw->ev != NULL)
		mnl_socket_close(fw->ev);
	fw->ev = NULL;
	return -1;
}

/* Read what the listener holds: what it says of igdd's objects into
 * ev_kinds, and each other transaction heard whole (its notifications,
 * then its NEWGEN) after sync_gen counted: in heard, or, when upto is not
 * 0, those after upto in *later (events_account()); the clean ones'
 * generations into the ring (others). */
static void
events_drain(struct fw *fw, uint32_t upto, unsigned *later)
{
	const uint16_t newgen = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWGEN;

	for (;;) {
		struct nlmsghdr *nlh;
		unsigned heard;
		bool fresh;
		uint32_t g;
		ssize_t n;
		int left;

		n = mnl_socket_recvfrom(fw->ev, fw->rbuf, RECV_BUF);
		if (n < 0) {
			if (errno == ENOBUFS) {		/* some were lost: look */
				fw->ev_kinds |= FW_EV_LOST;
				fw->ev_losses++;
				nft_heard_reset(&fw->hear);
				continue;
			}
			if (errno == EINTR)
				continue;
			break;				/* EAGAIN: all read */
		}
		left = (int)n;
		for (nlh = (struct nlmsghdr *)fw->rbuf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_pid == fw->portid)
				continue;
			if (nlh->nlmsg_type != newgen) {
				bool ours;

				fw->ev_kinds |= nft_event_kind(&fw->l, nlh, &ours);
				nft_heard_note(&fw->hear, nlh->nlmsg_pid, ours);
				continue;
			}
			/* A NEWGEN alone does not count (igdd joined again in
			 * the middle of that commit).  (One of a big transaction
			 * whose first notifications were built before igdd
			 * joined again and its last after counts: the kernel
			 * does not say how many there were; not as clean.) */
			g = 0;
			gen_cb(nlh, &g);
			fresh = g != 0 && (fw->listen_gen == 0 || (int32_t)(g - fw->listen_gen) > 0);
			if (fresh)
				fw->listen_gen = 0;	/* the rest are too */
			heard = nft_heard_newgen(&fw->hear, nlh->nlmsg_pid, fresh);
			if (g == 0)
				continue;
			fw->ev_gen_last = g;
			if (heard & NFT_HEARD_CLEAN)
				nft_gen_ring_add(&fw->others, g);
			if (!(heard & NFT_HEARD_SOME))
				continue;
			if (upto != 0 && (int32_t)(g - upto) > 0)
				(*later)++;
			else if (fw->sync_gen != 0 && (int32_t)(g - fw->sync_gen) > 0)
				fw->heard++;	/* (else accounted for already) */
		}
	}
}

static int
nft_events_read(struct fw *fw)
{
	unsigned kinds;

	if (fw->ev == NULL)
		return 0;
	events_drain(fw, 0, NULL);
	kinds = fw->ev_kinds;
	fw->ev_kinds = 0;
	return (int)kinds;
}

static int
nft_check(struct fw *fw)
{
	const char *table, *chain;
	struct tagged t;
	uint16_t family;
	int i;

	for (i = 0; i < NFT_SET_ALL; i++)
		if (nft_set_used(&fw->l, (enum nft_set_id)i) && get_set(fw, (enum nft_set_id)i) < 0)
			return errno == ENOENT ? 0 : -1;
	for (i = 0; i < NFT_CHAIN_COUNT; i++) {
		unsigned want = nft_chain_rules(&fw->l, (enum nft_chain_id)i);

		if (want == 0)
			continue;
		chain = nft_chain_name(&fw->l, (enum nft_chain_id)i, &table, &family);
		if (tagged_rules(fw, family, table, chain, &t) < 0)
			return errno == ENOENT ? 0 : -1;
		if (t.n != want)
			return 0;
	}
	return 1;
}

static int
remove_state(struct fw *fw)
{
	const struct nft_layout *l = &fw->l;
	struct nft_batch bt;
	int i;

	if (batch_start(fw, &bt, 0) < 0)
		return -1;
	if (l->own) {
		if (nft_msg_table(&bt, l, fw->has_destroy ? NFT_MSG_DESTROYTABLE_ : NFT_MSG_DELTABLE) < 0)
			goto nomem;
		return commit(fw, &bt);
	}
	if (del_tagged_all(fw, &bt, l->hairpin || l->preserve) < 0) {
		nft_batch_free(&bt);
		return -1;
	}
	for (i = 0; i < NFT_SET_ALL; i++)
		if (nft_set_used(l, (enum nft_set_id)i) &&
		    (fw->has_destroy || get_set(fw, (enum nft_set_id)i) == 0) &&
		    nft_msg_set(&bt, l, (enum nft_set_id)i,
				fw->has_destroy ? NFT_MSG_DESTROYSET_ : NFT_MSG_DELSET) < 0)
			goto nomem;
	return commit(fw, &bt);
nomem:
	nft_batch_free(&bt);
	errno = ENOMEM;
	return -1;
}

/* Put the known external addresses into ext4 and the LANs into lan4
 * (flush and add). */
static int
put_ext_addrs(struct fw *fw, const struct fw_addrs *a)
{
	struct nft_batch bt;

	if (batch_start(fw, &bt, 0) < 0)
		return -1;
	if (msg_addrs(&bt, fw, a) < 0) {
		nft_batch_free(&bt);
		errno = ENOMEM;
		return -1;
	}
	return commit(fw, &bt);
}

static int
addr_cmp(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct in_addr *)a)->s_addr);
	uint32_t y = ntohl(((const struct in_addr *)b)->s_addr);

	return x < y ? -1 : x > y;
}

/* The LANs of a into want as lan4 holds them, each once: the subnet
 * (the address masked) and the name; two listening addresses of one
 * subnet on one interface are one element; a LAN without an IPv4
 * address none (nft_msg_lans()). */
static void
lan_subnets(struct fw_addrs *want, const struct fw_addrs *a)
{
	struct fw_lan n;
	size_t i, k;

	for (i = 0; i < a->n_lan && i < FW_LAN_MAX; i++) {
		if (a->lan[i].addr.s_addr == 0)
			continue;
		memset(&n, 0, sizeof(n));
		memcpy(n.name, a->lan[i].name, strnlen(a->lan[i].name, IF_NAMESIZE - 1));
		n.mask = a->lan[i].mask;
		n.addr.s_addr = a->lan[i].addr.s_addr & n.mask.s_addr;
		for (k = 0; k < want->n_lan; k++)
			if (memcmp(&want->lan[k], &n, sizeof(n)) == 0)
				break;
		if (k == want->n_lan)
			want->lan[want->n_lan++] = n;
	}
}

static int
nft_set_addrs(struct fw *fw, const struct fw_addrs *a)
{
	struct fw_addrs want;
	struct fw_lan old[FW_LAN_MAX];
	size_t i, n = 0, n_old;
	bool lans;

	/* sorted and without duplicates or 0.0.0.0, so equal lists compare equal */
	memset(&want, 0, sizeof(want));
	for (i = 0; i < a->n_ext && i < FW_EXT_MAX; i++)
		if (a->ext[i].s_addr != 0)
			want.ext[n++] = a->ext[i];
	qsort(want.ext, n, sizeof(want.ext[0]), addr_cmp);
	for (i = 0; i < n; i++)
		if (want.n_ext == 0 || want.ext[want.n_ext - 1].s_addr != want.ext[i].s_addr)
			want.ext[want.n_ext++] = want.ext[i];
	lan_subnets(&want, a);
	lans = fw->l.n_lan != want.n_lan ||
	       memcmp(fw->l.lan, want.lan, want.n_lan * sizeof(want.lan[0])) != 0;
	if (!lans && fw->addrs_known && fw->addrs.n_ext == want.n_ext &&
	    memcmp(fw->addrs.ext, want.ext, want.n_ext * sizeof(want.ext[0])) == 0)
		return 0;
	/* lan4 is built from fw->l: the new LANs go there for the put, the
	 * old ones come back if it fails (the next call puts them again) */
	memcpy(old, fw->l.lan, sizeof(old));
	n_old = fw->l.n_lan;
	memcpy(fw->l.lan, want.lan, sizeof(fw->l.lan));
	fw->l.n_lan = want.n_lan;
	if (put_ext_addrs(fw, &want) < 0) {
		memcpy(fw->l.lan, old, sizeof(fw->l.lan));
		fw->l.n_lan = n_old;
		log_warn("nftables: setting the external addresses");
		return -1;
	}
	for (i = 0; i < want.n_ext; i++)
		log_debug("nftables: external address %s", ADDR4_STR(want.ext[i]));
	fw->addrs = want;
	fw->addrs_known = true;
	return 0;	/* no mapping's element names a LAN */
}

/* The objects come back empty: the external addresses are put back with
 * them (the mappings come with install_all). */
static int
chain_drop_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	bool *found = data;
	uint32_t family;

	if (c == NULL)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 && nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM) &&
	    nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
	    nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == NF_INET_FORWARD &&
	    nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP) {
		family = nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY);
		if (family == NFPROTO_INET || family == NFPROTO_IPV6)
			*found = true;
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int
nft_v6_guarded(struct fw *fw)
{
	char buf[REQ_BUF];
	struct nlmsghdr *nlh;
	bool found = false;

	if (!fw->l.v6)
		return 0;
	if (fw->l.v6_block || !fw->l.own)
		return 1;
	/* One dump of the chains (a handful), at the rate of UPnP requests. */
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_UNSPEC, NLM_F_DUMP,
				    next_seq(fw, 1));
	if (query(fw, nlh, chain_drop_cb, &found) < 0)
		return -1;
	return found ? 1 : 0;
}

static int
nft_peer(struct fw *fw, struct ct_peer *p)
{
	(void)fw;
	return ct_peer(p);
}

static int
nft_restore(struct fw *fw)
{
	uint32_t gen = gen_now(fw);

	if ((fw->l.own ? init_own(fw, &gen) : init_integrate(fw, &gen)) < 0)
		return -1;
	if (fw->addrs_known && put_ext_addrs(fw, &fw->addrs) < 0) {
		log_warn("nftables: restoring the external addresses");
		return -1;
	}
	return 0;
}

static void
nft_shutdown(struct fw *fw, int remove)
{
	if (fw == NULL)
		return;
	if (remove && remove_state(fw) < 0)
		log_warn("nftables: removing igdd's objects from %s", fw->l.filter_table);
	fw_close(fw);
}

const struct fw_ops nft_ops = {
	.init = nft_init,
	.add = nft_add,
	.del = nft_del,
	.install_all = nft_install_all,
	.defer = nft_defer,
	.flush = nft_flush,
	.elems_start = nft_elems_start,
	.elems_step = nft_elems_step,
	.elems_moved = nft_elems_moved,
	.add_many = nft_add_many,
	.pipe_start = nft_pipe_start,
	.pipe_change = nft_pipe_change,
	.pipe_done = nft_pipe_done,
	.generation = nft_generation,
	.counters = nft_counters,
	.check = nft_check,
	.restore = nft_restore,
	.set_addrs = nft_set_addrs,
	.verify_start = nft_verify_start,
	.verify_step = nft_verify_step,
	.verify_cancel = nft_verify_cancel,
	.events_fd = nft_events_fd,
	.events_read = nft_events_read,
	.v6_guarded = nft_v6_guarded,
	.peer = nft_peer,
	.shutdown = nft_shutdown,
};
