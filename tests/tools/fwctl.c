/* fwctl.c - drives the firewall backend (nft_ops) directly, for lab tests
 * that run before the protocols exist.
 *
 *   fwctl [CONF] [options] COMMAND ...
 *   options: --table T --nat-table T --forward-chain C --nat-chain C
 *            --postrouting-chain C --family-split --ext-if IF --lease S -v
 *            --ext-addr A (repeatable; default: the addresses of --ext-if)
 *            --lan NAME:A.B.C.D/N (repeatable: the LANs hairpin elements name)
 *            --no-hairpin --no-preserve
 *            --ipv6 (the pinhole sets and rules too; without it the IPv4
 *            layout only, as ipv6_disable=yes) --ipv6-block (and the
 *            ipv6_block_inbound rules)
 *   commands (init/add/install start with the backend's init, which is
 *   idempotent; the others attach to the existing state):
 *     init                                  init only
 *     add PROTO EPORT IADDR IPORT [RHOST [RPORT]]   add (or refresh) a mapping;
 *                                           an IPv6 IADDR makes a pinhole
 *                                           (EPORT its UniqueID, RPORT its
 *                                           remote port, 0 = any)
 *     del PROTO EPORT IADDR IPORT [RHOST]   delete it
 *     counters PROTO EPORT IADDR IPORT [RHOST]   print its packet count
 *     install                               install_all of the mappings
 *                                           on stdin, one per line as for add
 *     verify                                do the sets hold as many elements
 *                                           as the mappings on stdin make?
 *                                           print 1 (exit 0) or 0 (exit 1)
 *     check                                 print 1 (and exit 0) or 0 (exit 1)
 *     shutdown                              remove igdd's kernel state
 *
 * Options name the integration tables/chains as the config keys would
 * (upnp_table_name, ...); giving any turns integration on.  A CONF file is
 * read with conf_parse_file first, options apply on top. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "fw.h"
#include "iface.h"
#include "log.h"
#include "mapping.h"
#include "nft_msg.h"
#include "util.h"

static int
usage(void)
{
	fprintf(stderr,
		"usage: fwctl [CONF] [--table T] [--nat-table T] [--forward-chain C]\n"
		"             [--nat-chain C] [--postrouting-chain C] [--family-split]\n"
		"             [--ext-if IF] [--ext-addr A]... [--lan NAME:A.B.C.D/N]...\n"
		"             [--no-hairpin] [--no-preserve] [--lease SECONDS]\n"
		"             [--ipv6 | --ipv6-block] [-v] COMMAND ...\n"
		"commands: init | add|del|counters PROTO EPORT IADDR IPORT [RHOST [RPORT]] |\n"
		"          install|verify (mappings on stdin) | check | shutdown\n");
	return 2;
}

/* A mapping and the addresses it points at. */
struct fwctl_map {
	struct mapping m;
	struct in6_addr iaddr, rhost;
};

/* Point m at the addresses (again, once the entry stopped moving). */
static struct mapping *
fm_mapping(struct fwctl_map *fm)
{
	fm->m.iaddr = &fm->iaddr;
	fm->m.rhost = &fm->rhost;
	return &fm->m;
}

static int
parse_mapping(struct fwctl_map *fm, int argc, char **argv, uint32_t lease)
{
	struct mapping *m = &fm->m;

	memset(fm, 0, sizeof(*fm));
	if (argc < 4 || argc > 6)
		return -1;
	if (proto_parse(argv[0], &m->proto) < 0 ||
	    parse_u16(argv[1], 1, 65535, &m->eport) < 0 ||
	    addr_parse(argv[2], &fm->iaddr) < 0 ||
	    parse_u16(argv[3], 1, 65535, &m->iport) < 0 ||
	    (argc >= 5 && addr_parse(argv[4], &fm->rhost) < 0) ||
	    (argc == 6 && parse_u16(argv[5], 0, 65535, &m->rport) < 0))
		return -1;
	m->enabled = true;
	m->expires = lease != 0 ? time_mono_ms() + (uint64_t)lease * 1000 : 0;
	return 0;
}

static int
name_opt(char *dst, const char *v, struct config *cfg)
{
	cfg->fw_integrate = true;
	return str_copy(dst, CFG_NAME_MAX, v);
}

/* --lan NAME:A.B.C.D/N */
static int
parse_lan(const char *v, struct fw_lan *lan)
{
	const char *colon = strchr(v, ':'), *slash;
	char a[INET_ADDRSTRLEN];
	uint32_t bits;

	memset(lan, 0, sizeof(*lan));
	if (colon == NULL || (size_t)(colon - v) >= sizeof(lan->name) ||
	    (slash = strchr(colon, '/')) == NULL || (size_t)(slash - colon - 1) >= sizeof(a))
		return -1;
	memcpy(lan->name, v, (size_t)(colon - v));
	memcpy(a, colon + 1, (size_t)(slash - colon - 1));
	a[slash - colon - 1] = '\0';
	if (inet_pton(AF_INET, a, &lan->addr) != 1 || parse_u32(slash + 1, 1, 32, &bits) < 0)
		return -1;
	lan->mask.s_addr = htonl(~0u << (32 - bits));
	return 0;
}

/* install or verify: mappings from stdin, one per line, as add's arguments. */
static int
do_install(const struct fw_ops *ops, struct fw *fw, uint32_t lease, bool verify)
{
	struct fwctl_map *ms = NULL;
	const struct mapping **ptrs = NULL;
	size_t n = 0, cap = 0, i;
	char line[512];
	int rc;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *argv[6], *save = NULL, *tok;
		int argc = 0;

		for (tok = strtok_r(line, " \t\r\n", &save); tok != NULL && argc < 6;
		     tok = strtok_r(NULL, " \t\r\n", &save))
			argv[argc++] = tok;
		if (argc == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			ms = realloc(ms, cap * sizeof(*ms));
			if (ms == NULL)
				return 1;
		}
		if (parse_mapping(&ms[n], argc, argv, lease) < 0) {
			fprintf(stderr, "fwctl: bad mapping line %zu\n", n + 1);
			free(ms);
			return 2;
		}
		n++;
	}
	ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	if (ptrs == NULL)
		return 1;
	for (i = 0; i < n; i++)
		ptrs[i] = fm_mapping(&ms[i]);
	if (verify) {
		rc = ops->verify_start(fw, ptrs, n);
		while (rc == 0 && (rc = ops->verify_step(fw)) == 2)
			rc = 0;
		printf("%d\n", rc);
	} else {
		rc = ops->install_all(fw, ptrs, n);
		if (rc < 0)
			fprintf(stderr, "fwctl: install_all: %s\n", strerror(errno));
	}
	free(ptrs);
	free(ms);
	return verify ? rc != 1 : rc < 0;
}

/* What the options set. */
struct fwctl_opts {
	struct config cfg;
	struct fw_addrs addrs;
	uint32_t lease;
	int verbose;
};

/* A value option; 0, or -1 for usage(). */
static int
value_opt(struct fwctl_opts *op, const char *o, const char *v)
{
	struct config *cfg = &op->cfg;
	struct in6_addr a6;

	if (strcmp(o, "--table") == 0)
		return name_opt(cfg->upnp_table_name, v, cfg);
	if (strcmp(o, "--nat-table") == 0)
		return name_opt(cfg->upnp_nat_table_name, v, cfg);
	if (strcmp(o, "--forward-chain") == 0)
		return name_opt(cfg->upnp_forward_chain, v, cfg);
	if (strcmp(o, "--nat-chain") == 0)
		return name_opt(cfg->upnp_nat_chain, v, cfg);
	if (strcmp(o, "--postrouting-chain") == 0)
		return name_opt(cfg->upnp_nat_postrouting_chain, v, cfg);
	if (strcmp(o, "--ext-if") == 0)
		return str_copy(cfg->ext_ifname, sizeof(cfg->ext_ifname), v);
	if (strcmp(o, "--ext-addr") == 0 && op->addrs.n_ext < FW_EXT_MAX &&
	    addr_parse(v, &a6) == 0 && addr_is_v4(&a6)) {
		op->addrs.ext[op->addrs.n_ext++] = addr_to_v4(&a6);
		return 0;
	}
	if (strcmp(o, "--lan") == 0 && op->addrs.n_lan < FW_LAN_MAX)
		return parse_lan(v, &op->addrs.lan[op->addrs.n_lan++]);
	if (strcmp(o, "--lease") == 0)
		return parse_u32(v, 0, 1u << 30, &op->lease);
	return -1;
}

/* [CONF] and the options; the index of the command, or -1 for usage(),
 * -2 for a bad CONF. */
static int
parse_opts(struct fwctl_opts *op, int argc, char **argv)
{
	int i = 1;

	memset(op, 0, sizeof(*op));
	conf_defaults(&op->cfg);
	op->cfg.ipv6_disable = true;	/* the IPv4 layout unless --ipv6 */
	if (i < argc && argv[i][0] != '-' && strchr(argv[i], '/') != NULL) {
		if (conf_parse_file(&op->cfg, argv[i], stderr) < 0)
			return -2;
		i++;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *o = argv[i];

		if (strcmp(o, "-v") == 0)
			op->verbose = 1;
		else if (strcmp(o, "--family-split") == 0)
			op->cfg.upnp_nftables_family_split = true;
		else if (strcmp(o, "--no-hairpin") == 0)
			op->cfg.hairpin = false;
		else if (strcmp(o, "--no-preserve") == 0)
			op->cfg.preserve_mapped_ports = false;
		else if (strcmp(o, "--ipv6") == 0 || strcmp(o, "--ipv6-block") == 0) {
			op->cfg.ipv6_disable = false;
			op->cfg.ipv6_block_inbound = strcmp(o, "--ipv6-block") == 0;
		}
		else if (i + 1 >= argc || value_opt(op, o, argv[++i]) < 0)
			return -1;
	}
	return i < argc ? i : -1;
}

int
main(int argc, char **argv)
{
	const struct fw_ops *ops = &nft_ops;
	struct fwctl_opts op;
	struct config *cfgp = &op.cfg;
	struct fwctl_map fm;
	struct mapping *m = fm_mapping(&fm);
	struct fw *fw;
	uint32_t lease;
	const char *cmd;
	int i, rc = 0;

	i = parse_opts(&op, argc, argv);
	if (i < 0)
		return i == -2 ? 2 : usage();
	lease = op.lease;
	cmd = argv[i++];
	log_init("fwctl", true, op.verbose);

	if ((strcmp(cmd, "add") == 0 || strcmp(cmd, "del") == 0 ||
	     strcmp(cmd, "counters") == 0) &&
	    parse_mapping(&fm, argc - i, argv + i, lease) < 0)
		return usage();
	fm_mapping(&fm);

	/* init/add/install go through init (idempotent, as the daemon starts);
	 * the others attach to what is there, so check can see it gone. */
	if (strcmp(cmd, "init") == 0 || strcmp(cmd, "add") == 0 || strcmp(cmd, "install") == 0)
		fw = ops->init(cfgp);
	else
		fw = nft_attach(cfgp);
	if (fw == NULL) {
		fprintf(stderr, "fwctl: init failed\n");
		return 1;
	}
	/* The external addresses, as the daemon keeps them (not for check
	 * and shutdown, which look at what is there). */
	if (op.addrs.n_ext == 0)
		op.addrs.n_ext = iface_v4_addrs(cfgp->ext_ifname, op.addrs.ext, FW_EXT_MAX);
	if (strcmp(cmd, "check") != 0 && strcmp(cmd, "shutdown") != 0 &&
	    strcmp(cmd, "verify") != 0 && ops->set_addrs(fw, &op.addrs) < 0)
		fprintf(stderr, "fwctl: cannot set the external addresses\n");
	if (strcmp(cmd, "init") == 0) {
		rc = 0;
	} else if (strcmp(cmd, "add") == 0) {
		rc = ops->add(fw, m, NULL) < 0;
	} else if (strcmp(cmd, "del") == 0) {
		rc = ops->del(fw, m, NULL) < 0;
	} else if (strcmp(cmd, "counters") == 0) {
		const struct mapping *one[1] = { m };
		struct fw_counter c;

		rc = ops->counters(fw, one, 1, &c) < 0;
		if (rc == 0)
			printf("%llu\n", (unsigned long long)c.packets);
	} else if (strcmp(cmd, "install") == 0) {
		rc = do_install(ops, fw, lease, false);
	} else if (strcmp(cmd, "verify") == 0) {
		rc = do_install(ops, fw, lease, true);
	} else if (strcmp(cmd, "check") == 0) {
		int c = ops->check(fw);

		printf("%d\n", c);
		rc = c == 1 ? 0 : 1;
	} else if (strcmp(cmd, "shutdown") == 0) {
		ops->shutdown(fw, 1);
		return 0;
	} else {
		ops->shutdown(fw, 0);
		return usage();
	}
	if (rc != 0 && strcmp(cmd, "check") != 0 && strcmp(cmd, "verify") != 0)
		fprintf(stderr, "fwctl: %s failed: %s\n", cmd, strerror(errno));
	ops->shutdown(fw, 0);
	return rc;
}
