/* fake_fw.c - see fake_fw.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fake_fw.h"
#include "util.h"

static struct fake_fw *
F(struct fw *fw)
{
	return (struct fake_fw *)(void *)fw;
}

struct fw *
fake_fw_handle(struct fake_fw *f)
{
	return (struct fw *)(void *)f;
}

void
fake_fw_reset(struct fake_fw *f)
{
	memset(f, 0, sizeof(*f));
}

static void
note(struct fake_fw *f, char op, const struct mapping *m)
{
	str_appendf(f->log, sizeof(f->log), "%c %s %u>%u;", op, proto_name(m->proto),
		    m->eport, m->iport);
}

static struct fake_elem
elem(const struct mapping *m)
{
	struct fake_elem e = { m->proto, m->eport, m->iport, *m->iaddr, *m->rhost };

	return e;
}

static int
find(const struct fake_fw *f, const struct mapping *m)
{
	size_t i;

	for (i = 0; i < f->n_kernel; i++)
		if (f->kernel[i].proto == m->proto && f->kernel[i].eport == m->eport &&
		    addr_eq(&f->kernel[i].rhost, m->rhost))
			return (int)i;
	return -1;
}

/* The SNAT element of m's internal side: its index, or -1. */
static int
snat_find(const struct fake_fw *f, const struct mapping *m)
{
	size_t i;

	for (i = 0; i < f->n_snat; i++)
		if (f->snat[i].proto == m->proto && f->snat[i].iport == m->iport &&
		    addr_eq(&f->snat[i].iaddr, m->iaddr))
			return (int)i;
	return -1;
}

/* m's side's SNAT element made, unless there is one. */
static void
snat_add(struct fake_fw *f, const struct mapping *m)
{
	if (f->dump_snat && addr_is_v4(m->iaddr) && snat_find(f, m) < 0 &&
	    f->n_snat < sizeof(f->snat) / sizeof(f->snat[0]))
		f->snat[f->n_snat++] = elem(m);
}

/* m's side's SNAT element removed, or re-pointed at the heir. */
static void
snat_del(struct fake_fw *f, const struct mapping *m, const struct mapping *heir)
{
	int i = snat_find(f, m);

	if (i < 0 && heir != NULL)	/* the kernel: DESTROY, then NEW for the heir */
		snat_add(f, heir);
	if (i < 0)
		return;
	if (heir != NULL)
		f->snat[i].eport = heir->eport;
	else
		f->snat[i] = f->snat[--f->n_snat];
}

static int
fake_add(struct fw *fw, const struct mapping *m, const struct fw_share *sh)
{
	struct fake_fw *f = F(fw);
	int i;

	f->n_add++;
	f->changes++;
	f->last_add_snat_shared = sh != NULL && sh->snat;
	note(f, 'a', m);
	if (f->fail_add > 0 || (f->refuse_eport != 0 && m->eport == f->refuse_eport)) {
		if (f->fail_add > 0)
			f->fail_add--;
		if (f->deferring) {	/* the transaction fails at the flush */
			f->batch_refused = true;
			return 0;
		}
		errno = f->refuse_eport == m->eport ? ERANGE : f->fail_errno ? f->fail_errno : EPERM;
		return -1;
	}
	if (sh != NULL && !sh->snat && snat_find(f, m) >= 0)	/* EEXIST: replaced */
		f->snat[snat_find(f, m)].eport = m->eport;
	else if (sh != NULL && !sh->snat)
		snat_add(f, m);
	i = find(f, m);
	if (i >= 0) {		/* a refresh, or a new target: nftables replaces */
		f->kernel[i] = elem(m);
		return 0;
	}
	if (f->n_kernel == FAKE_FW_MAX) {
		errno = ENOSPC;
		return -1;
	}
	f->kernel[f->n_kernel++] = elem(m);
	return 0;
}

static int
fake_del(struct fw *fw, const struct mapping *m, const struct fw_share *sh)
{
	struct fake_fw *f = F(fw);
	int i;

	f->n_del++;
	f->changes++;
	f->last_keep_forward = sh != NULL && sh->forward;
	f->last_snat_heir = sh != NULL && sh->snat_heir != NULL ? sh->snat_heir->eport : 0;
	note(f, 'd', m);
	if (f->fail_del > 0) {
		f->fail_del--;
		if (f->deferring) {
			f->batch_refused = true;
			return 0;
		}
		errno = EPERM;
		return -1;
	}
	if (sh != NULL && sh->snat_only) {
		snat_del(f, m, NULL);
		return 0;
	}
	if (sh != NULL && !sh->keep_snat)
		snat_del(f, m, sh->snat_heir);
	i = find(f, m);
	if (i < 0)
		return 0;	/* DESTROYSETELEM: a missing element is no error */
	f->kernel[i] = f->kernel[--f->n_kernel];
	return 0;
}

static int
fake_install_all(struct fw *fw, const struct mapping *const *ms, size_t n)
{
	struct fake_fw *f = F(fw);
	size_t i;

	f->n_install++;
	str_appendf(f->log, sizeof(f->log), "i %zu;", n);
	if (f->fail_install > 0) {
		f->fail_install--;
		errno = EPERM;
		return -1;
	}
	if (n > FAKE_FW_MAX) {
		errno = ENOSPC;
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (f->refuse_eport != 0 && ms[i]->eport == f->refuse_eport) {
			errno = ERANGE;	/* the kernel aborts the whole transaction */
			return -1;
		}
	}
	for (i = 0; i < n; i++)
		f->kernel[i] = elem(ms[i]);
	f->n_kernel = n;
	f->last_install_n = n;
	return 0;
}

static int
fake_counters(struct fw *fw, const struct mapping *const *ms, size_t n, struct fw_counter *out)
{
	struct fake_fw *f = F(fw);
	size_t i, k;

	f->n_counters++;
	for (k = 0; k < n; k++) {
		out[k].packets = out[k].bytes = 0;
		for (i = 0; i < f->n_pk; i++)
			if (f->pk[i].proto == ms[k]->proto && f->pk[i].eport == ms[k]->eport) {
				out[k].packets = f->pk[i].packets;
				out[k].bytes = f->pk[i].packets * 100;
			}
	}
	return 0;
}

void
fake_fw_set_packets(struct fake_fw *f, uint8_t proto, uint16_t eport, uint64_t packets)
{
	size_t i;

	for (i = 0; i < f->n_pk; i++) {
		if (f->pk[i].proto == proto && f->pk[i].eport == eport) {
			f->pk[i].packets = packets;
			return;
		}
	}
	if (f->n_pk < ARRAY_SIZE(f->pk)) {
		f->pk[f->n_pk].proto = proto;
		f->pk[f->n_pk].eport = eport;
		f->pk[f->n_pk].packets = packets;
		f->n_pk++;
	}
}

bool
fake_fw_has(const struct fake_fw *f, uint8_t proto, uint16_t eport, uint16_t iport)
{
	size_t i;

	for (i = 0; i < f->n_kernel; i++)
		if (f->kernel[i].proto == proto && f->kernel[i].eport == eport)
			return f->kernel[i].iport == iport;
	return false;
}

/* conntrack as the kernel would answer a new flow: IPv4 translated to
 * nat_addr and the suggested port (or the internal one), IPv6 not. */
static int
fake_peer(struct fw *fw, struct ct_peer *p)
{
	(void)fw;
	if (addr_is_v4(&p->iaddr)) {
		addr_from_v4(&p->ext, p->nat_addr);
		p->eport = p->want_eport != 0 ? p->want_eport : p->iport;
	} else {
		p->ext = p->iaddr;
		p->eport = p->iport;
	}
	p->created = true;
	return 0;
}

static void
fake_defer(struct fw *fw)
{
	struct fake_fw *f = F(fw);

	f->deferring = true;
	f->batch_refused = false;
	memcpy(f->saved, f->kernel, f->n_kernel * sizeof(f->kernel[0]));
	f->n_saved = f->n_kernel;
	str_appendf(f->log, sizeof(f->log), "[");
}

/* A client's change between two slices of the store's reconcile. */
static void
fake_between(struct fake_fw *f)
{
	void (*cb)(struct fake_fw *, void *) = f->between;

	if (cb == NULL)
		return;
	f->between = NULL;	/* not again from inside */
	f->n_between++;
	cb(f, f->between_arg);
	f->between = cb;
}

static int
fake_flush(struct fw *fw)
{
	struct fake_fw *f = F(fw);

	f->deferring = false;
	f->n_flush++;
	if (!f->batch_refused) {
		str_appendf(f->log, sizeof(f->log), "]");
		if (f->d_parts)		/* a dump slice's end, parts to come */
			fake_between(f);
		return 0;
	}
	f->n_flush_refused++;
	memcpy(f->kernel, f->saved, f->n_saved * sizeof(f->kernel[0]));
	f->n_kernel = f->n_saved;
	str_appendf(f->log, sizeof(f->log), "]!");
	errno = f->fail_errno ? f->fail_errno : ERANGE;
	return -1;
}

static int
fake_generation(struct fw *fw, bool at_start, char *tok, size_t size)
{
	struct fake_fw *f = F(fw);
	const char *g = at_start ? f->start_gen : f->gen;

	return g[0] != '\0' ? str_copy(tok, size, g) : -1;
}

static int
fake_elems_start(struct fw *fw)
{
	struct fake_fw *f = F(fw);

	if (!f->dump_on)
		return -1;
	f->n_dumps++;
	f->d_changes = f->changes;
	f->d_moved = false;
	f->d_pos = 0;
	if (f->dump_step > 0) {
		memcpy(f->d_snat, f->snat, f->n_snat * sizeof(f->snat[0]));
		memcpy(f->d_kernel, f->kernel, f->n_kernel * sizeof(f->kernel[0]));
		f->d_n_snat = f->n_snat;
		f->d_n_kernel = f->n_kernel;
		f->d_pos = 0;
		f->d_parts = true;
	}
	return f->dump_snat ? 1 : 0;
}

/* One element of the dump: a SNAT element, or a mapping's DNAT and
 * forward elements. */
static void
dump_one(const struct fake_elem *x, bool snat, fw_elem_cb cb, void *arg)
{
	struct fw_elem e = { x->rhost, x->iaddr, x->eport, x->iport, x->proto, !snat, snat };

	if (snat) {
		e.rhost = in6addr_any;
		cb(arg, &e);
		return;
	}
	if (!addr_is_v4(&x->iaddr))
		return;		/* the IPv4 sets only, as nftables' dump */
	cb(arg, &e);
	e.dnat = false;
	e.eport = 0;
	cb(arg, &e);
}

/* dump_walk: the next dump_step elements as the kernel walks them now. */
static int
fake_elems_walk(struct fake_fw *f, fw_elem_cb cb, void *arg)
{
	struct fake_elem part[8];
	bool snat[8];
	size_t k, pos;

	if (f->changes != f->d_changes)
		f->d_moved = true;	/* the part's generation differs */
	for (k = 0; k < f->dump_step && k < 8; k++) {
		pos = f->d_pos + k;
		if (pos >= f->n_snat + f->n_kernel)
			break;
		snat[k] = pos < f->n_snat;
		part[k] = snat[k] ? f->snat[pos] : f->kernel[pos - f->n_snat];
	}
	f->d_pos += k;
	f->d_parts = k > 0;
	for (pos = 0; pos < k; pos++)
		dump_one(&part[pos], snat[pos], cb, arg);
	usleep(3000);
	return f->d_parts ? 1 : 0;
}

/* dump_step elements of the parts made at elems_start, in 3 ms. */
static int
fake_elems_part(struct fake_fw *f, fw_elem_cb cb, void *arg)
{
	size_t k;

	if (f->dump_walk)
		return fake_elems_walk(f, cb, arg);
	for (k = 0; k < f->dump_step && f->d_pos < f->d_n_snat + f->d_n_kernel; k++, f->d_pos++) {
		if (f->d_pos < f->d_n_snat)
			dump_one(&f->d_snat[f->d_pos], true, cb, arg);
		else
			dump_one(&f->d_kernel[f->d_pos - f->d_n_snat], false, cb, arg);
	}
	usleep(3000);
	f->d_parts = f->d_pos < f->d_n_snat + f->d_n_kernel;
	return f->d_parts ? 1 : 0;
}

static bool
fake_elems_moved(struct fw *fw)
{
	return F(fw)->d_moved;
}

/* The whole "kernel" in one step: a DNAT and a forward element each. */
static int
fake_elems_step(struct fw *fw, fw_elem_cb cb, void *arg)
{
	struct fake_fw *f = F(fw);
	struct fake_elem copy[FAKE_FW_MAX];
	size_t i, n = f->n_kernel;

	if (f->dump_step > 0)
		return fake_elems_part(f, cb, arg);
	memcpy(copy, f->snat, f->n_snat * sizeof(copy[0]));	/* cb may delete */
	for (i = f->n_snat; i-- > 0;) {
		struct fw_elem e = { in6addr_any, copy[i].iaddr, copy[i].eport, copy[i].iport,
				     copy[i].proto, false, true };

		cb(arg, &e);
	}
	memcpy(copy, f->kernel, n * sizeof(copy[0]));	/* cb may delete */
	for (i = 0; i < n; i++) {
		struct fw_elem e = { copy[i].rhost, copy[i].iaddr, copy[i].eport, copy[i].iport,
				     copy[i].proto, true, false };

		if (!addr_is_v4(&copy[i].iaddr))
			continue;	/* the IPv4 sets only, as nftables' dump */
		cb(arg, &e);
		e.dnat = false;
		e.eport = 0;
		cb(arg, &e);
	}
	return 0;
}

static int
fake_add_many(struct fw *fw, const struct mapping *const *ms, size_t n, const bool *snat_shared)
{
	struct fake_fw *f = F(fw);
	size_t i;

	int j;

	f->n_add_many++;
	for (i = 0; f->dump_snat && i < n; i++) {	/* the kernel: EEXIST, nothing done */
		if ((snat_shared == NULL || !snat_shared[i]) && (j = snat_find(f, ms[i])) >= 0 &&
		    f->snat[j].eport != ms[i]->eport) {
			errno = EEXIST;
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (fake_add(fw, ms[i], NULL) < 0)
			return -1;
		if (snat_shared == NULL || !snat_shared[i])
			snat_add(f, ms[i]);
	}
	fake_between(f);
	return 0;
}

static int
fake_pipe_start(struct fw *fw)
{
	return F(fw)->pipe_on ? 0 : -1;
}

/* As the kernel takes the thread's transactions: a second SNAT element
 * of a side (another port) or the delete of a missing element fails it
 * (and so the install). */
static int
fake_pipe_change(struct fw *fw, const struct mapping *m, const struct fw_share *sh, bool add)
{
	struct fake_fw *f = F(fw);
	int k = snat_find(f, m);

	f->n_pipe++;
	if ((add && !sh->snat && k >= 0 && f->snat[k].eport != m->eport) ||
	    (!add && find(f, m) < 0) ||
	    (add ? fake_add(fw, m, sh) : fake_del(fw, m, sh)) < 0)
		f->pipe_fail = true;
	return 0;
}

static int
fake_pipe_done(struct fw *fw, bool wait)
{
	(void)wait;
	return F(fw)->pipe_fail ? -1 : 0;
}

static int
fake_check(struct fw *fw)
{
	(void)fw;
	return 1;
}

const struct fw_ops fake_fw_ops = {
	.add = fake_add,
	.del = fake_del,
	.install_all = fake_install_all,
	.defer = fake_defer,
	.flush = fake_flush,
	.elems_start = fake_elems_start,
	.elems_step = fake_elems_step,
	.elems_moved = fake_elems_moved,
	.add_many = fake_add_many,
	.pipe_start = fake_pipe_start,
	.pipe_change = fake_pipe_change,
	.pipe_done = fake_pipe_done,
	.generation = fake_generation,
	.counters = fake_counters,
	.check = fake_check,
	.peer = fake_peer,
};

/* --- the store fixture ------------------------------------------------ */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "store.h"

static bool
fake_in_use(void *arg, uint8_t proto, uint16_t eport)
{
	struct fake_env *e = arg;
	size_t i;

	(void)proto;
	for (i = 0; i < e->n_inuse; i++)
		if (e->inuse[i] == eport)
			return true;
	return false;
}

/* The LANs the store tests' clients live on: the store refuses internal
 * clients outside the served LANs (perm_lan_host()). */
static void
fake_env_lans(struct igdd_ctx *ctx)
{
	static const char *const lans[][3] = {
		{ "lan0", "192.168.1.1", "255.255.255.0" },
		{ "lan1", "192.168.2.1", "255.255.255.0" },
		{ "lan2", "192.168.77.1", "255.255.255.0" },
		{ "lan3", "10.0.0.254", "255.0.0.0" },
		{ "lan4", "172.16.0.254", "255.240.0.0" },
	};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(lans) && k < CFG_MAX_LISTEN; k++) {
		struct lan_iface *l = &ctx->lan[k];
		str_copy(l->name, sizeof(l->name), lans[k][0]);
		l->ifindex = (unsigned)k + 2;
		inet_pton(AF_INET, lans[k][1], &l->addr);
		inet_pton(AF_INET, lans[k][2], &l->mask);
	}
	ctx->n_lan = (unsigned)k;
	inet_pton(AF_INET6, "2001:db8:1::1", &ctx->lan[0].addr6[0].addr);
	ctx->lan[0].addr6[0].plen = 64;
	inet_pton(AF_INET6, "fe80::1", &ctx->lan[0].addr6[1].addr);
	ctx->lan[0].addr6[1].plen = 64;
	ctx->lan[0].n_addr6 = 2;
	inet_pton(AF_INET6, "2001:db8:2::1", &ctx->lan[1].addr6[0].addr);
	ctx->lan[1].addr6[0].plen = 64;
	ctx->lan[1].n_addr6 = 1;
}

static bool
fake_mac(void *arg, const struct in6_addr *a, uint8_t mac[6], unsigned *ifindex)
{
	struct fake_env *e = arg;
	size_t i;

	for (i = 0; i < e->n_neigh; i++)
		if (addr_eq(&e->neigh[i].a, a)) {
			memcpy(mac, e->neigh[i].mac, 6);
			*ifindex = e->neigh[i].ifindex;
			return true;
		}
	return false;
}

void
fake_env_neigh_on(struct fake_env *e, const char *addr, const char *mac, unsigned ifindex)
{
	if (e->n_neigh >= ARRAY_SIZE(e->neigh) || mac_parse(mac, e->neigh[e->n_neigh].mac) < 0)
		abort();
	e->neigh[e->n_neigh].ifindex = ifindex;
	e->neigh[e->n_neigh++].a = fake_addr(addr);
}

void
fake_env_neigh(struct fake_env *e, const char *addr, const char *mac)
{
	fake_env_neigh_on(e, addr, mac, 0);
}

struct fake_env *
fake_env_new(bool with_lease)
{
	struct fake_env *e = calloc(1, sizeof(*e));

	if (e == NULL || loop_init(&e->ctx.loop) < 0)
		abort();
	if (with_lease) {
		str_copy(e->dir, sizeof(e->dir), "/tmp/igdd-unit-XXXXXX");
		if (mkdtemp(e->dir) == NULL)
			abort();
		str_printf(e->ctx.cfg.lease_file, sizeof(e->ctx.cfg.lease_file), "%s/leases", e->dir);
	}
	fake_env_lans(&e->ctx);
	return e;
}

void
fake_env_start(struct fake_env *e)
{
	e->s = store_new(&e->ctx, &fake_fw_ops, fake_fw_handle(&e->fw));
	if (e->s == NULL)
		abort();
	store_set_port_in_use_cb(e->s, fake_in_use, e);
	store_set_mac_cb(e->s, fake_mac, e);
	/* the machine running the tests is not the gateway of these LANs */
	store_set_local_addr_cb(e->s, NULL, NULL);
}

void
fake_env_restart(struct fake_env *e)
{
	bool in_ctx = e->ctx.store == e->s;

	store_free(e->s);
	fake_env_start(e);
	if (in_ctx)
		e->ctx.store = e->s;
}

void
fake_env_free(struct fake_env *e)
{
	char p[160];

	store_free(e->s);
	loop_free(&e->ctx.loop);
	if (e->dir[0] != '\0') {
		unlink(e->ctx.cfg.lease_file);
		str_printf(p, sizeof(p), "%s.tmp", e->ctx.cfg.lease_file);
		unlink(p);
		rmdir(e->dir);
	}
	free(e);
}

struct in6_addr
fake_addr(const char *s)
{
	struct in6_addr a;

	if (addr_parse(s, &a) < 0)
		abort();
	return a;
}

/* A request's addresses and owner live in a ring of slots: a test holds a
 * few requests at a time, never 64. */
static struct fake_req_slot {
	struct in6_addr iaddr;
	struct mapping_owner owner;
} req_slots[64];
static unsigned req_next;

struct mapping
fake_req(uint8_t proto, uint16_t eport, const char *iaddr, uint16_t iport, const char *desc,
	 enum owner_proto op)
{
	struct fake_req_slot *sl = &req_slots[req_next++ % ARRAY_SIZE(req_slots)];
	struct mapping m;

	memset(&m, 0, sizeof(m));
	memset(sl, 0, sizeof(*sl));
	sl->iaddr = fake_addr(iaddr);
	sl->owner.proto = op;
	sl->owner.addr = sl->iaddr;
	m.proto = proto;
	m.eport = eport;
	m.iaddr = &sl->iaddr;
	m.iport = iport;
	m.enabled = true;
	m.desc = desc;	/* the store copies it */
	m.owner = &sl->owner;
	return m;
}

struct mapping_owner *
fake_owner(struct mapping *r)
{
	return (struct mapping_owner *)(uintptr_t)r->owner;	/* a slot: writable */
}

long
fake_env_read_lease(const struct fake_env *e, char *buf, size_t size)
{
	FILE *f = fopen(e->ctx.cfg.lease_file, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

unsigned
fake_env_lease_records(const struct fake_env *e, char op)
{
	static char buf[65536];
	const char *p = buf;
	unsigned n = 0;

	if (fake_env_read_lease(e, buf, sizeof(buf)) < 0)
		return 0;
	for (; *p != '\0'; p++)
		if ((p == buf || p[-1] == '\n') && p[0] == op && p[1] == ' ')
			n++;
	return n;
}

struct fake_env *
fake_env_pmp(uint64_t epoch_ms)
{
	return fake_env_pmp_lease(epoch_ms, false);
}

struct fake_env *
fake_env_pmp_lease(uint64_t epoch_ms, bool with_lease)
{
	struct fake_env *e = fake_env_new(with_lease);
	struct igdd_ctx *ctx = &e->ctx;

	ctx->cfg.enable_natpmp = true;
	ctx->cfg.min_lifetime = 120;
	ctx->cfg.max_lifetime = 86400;
	ctx->n_lan = 1;
	str_copy(ctx->lan[0].name, sizeof(ctx->lan[0].name), "lan0");
	ctx->lan[0].ifindex = 2;
	inet_pton(AF_INET, "192.168.1.1", &ctx->lan[0].addr);
	inet_pton(AF_INET, "255.255.255.0", &ctx->lan[0].mask);
	inet_pton(AF_INET, "203.0.113.5", &ctx->ext_addr);
	ctx->start_mono = time_mono_ms() - epoch_ms;
	ctx->epoch_mono = ctx->start_mono;
	ctx->epoch_addr = ctx->ext_addr;
	fake_env_start(e);
	ctx->store = e->s;
	return e;
}
