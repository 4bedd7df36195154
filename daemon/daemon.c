/* daemon.c - configure, start, run and stop the daemon. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ctx.h"
#include "daemon.h"
#include "desc.h"
#include "events.h"
#include "fw.h"
#include "http.h"
#include "iface.h"
#include "igd.h"
#include "lease.h"
#include "log.h"
#include "maplog.h"
#include "pcp_update.h"
#include "pmp.h"
#include "priv.h"
#include "sandbox.h"
#include "ssdp.h"
#include "store.h"
#include "uuid.h"

/* The signal descriptor lives in the loop like any other. */
struct sigwatch {
	struct loop_fd lfd;
	struct igdd_ctx *ctx;
	int stop;
	int reload;
	int keep;		/* SIGQUIT: stop for a restart, the kernel state kept */
};
static struct sigwatch sigwatch = { .lfd = { .fd = -1 } };

/* Firewall watchdog: a reload of the firewall (nft flush ruleset, a table
 * deleted, a chain emptied) must not silently lose the mappings.  A check
 * of igdd's own objects costs a few small netlink queries, independent of
 * the number of mappings, so a short period is cheap. */
#define FW_CHECK_MS 2000

static void
fwwatch_fire(struct loop_timer *t)
{
	struct igdd_ctx *ctx = container_of(t, struct igdd_ctx, fw_check);
	int r = ctx->fw_ops->check(ctx->fw);

	if (r == 0) {
		log_warnx("nftables: igdd's objects vanished (firewall reload?): restoring %zu mappings",
			  store_count(ctx->store));
		if (ctx->fw_ops->restore(ctx->fw) < 0 || store_reinstall(ctx->store) < 0)
			log_warnx("nftables: restore failed; trying again in %d ms", FW_CHECK_MS);
		else
			log_info("nftables: restored");
	} else if (r < 0) {
		log_warn("nftables: checking igdd's objects");
	}
	loop_timer_set(&ctx->loop, t, FW_CHECK_MS);
}

/* --check: the user igdd would run as exists, and the lease file is one
 * that user may trust (lease_open()'s rules, looked at, not created). */
static int
check_run_user(const struct config *cfg, FILE *err)
{
	char why[PATH_MAX + 128];
	struct priv_user u;

	if (priv_user(cfg->user, &u, why, sizeof(why)) < 0) {
		fprintf(err, "user: %s\n", why);
		return -1;
	}
	if (cfg->lease_file[0] != '\0' && lease_check_path(cfg->lease_file, u.uid, why, sizeof(why)) < 0) {
		fprintf(err, "lease_file: %s\n", why);
		return -1;
	}
	return 0;
}

int
daemon_configure(struct igdd_ctx *ctx, int argc, char **argv, FILE *out, FILE *err)
{
	struct config *cfg = &ctx->cfg;
	enum cli_result r;
	struct stat st;

	memset(ctx, 0, sizeof(*ctx));
	conf_defaults(cfg);
	/* First pass: -f, --help, --version; the file; then the options on top. */
	r = conf_parse_args(cfg, argc, argv, false, out);
	if (r != CLI_OK)
		return r == CLI_EXIT_OK ? 0 : 1;
	if (cfg->config_file[0] == '\0' && stat(IGDD_DEFAULT_CONFIG, &st) == 0 &&
	    str_copy(cfg->config_file, sizeof(cfg->config_file), IGDD_DEFAULT_CONFIG) < 0)
		return 1;
	if (cfg->config_file[0] != '\0' && conf_parse_file(cfg, cfg->config_file, err) < 0)
		return 1;
	r = conf_parse_args(cfg, argc, argv, true, out);
	if (r != CLI_OK)
		return r == CLI_EXIT_OK ? 0 : 1;
	if (conf_validate(cfg, err) < 0)
		return 1;
	if (cfg->check_only) {
		if (check_run_user(cfg, err) < 0)
			return 1;
		fprintf(out, "%s: configuration OK\n",
			cfg->config_file[0] ? cfg->config_file : "(command line)");
		return 0;
	}
	return -1;
}

static void
sig_readable(struct loop_fd *lfd, uint32_t events)
{
	struct sigwatch *sw = container_of(lfd, struct sigwatch, lfd);
	struct signalfd_siginfo si;

	(void)events;
	while (read(lfd->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			sw->reload = 1;
			log_info("SIGHUP: reload is not supported yet; ignored");
		} else if (si.ssi_signo == SIGQUIT) {
			log_info("SIGQUIT: stopping for a restart, the mappings kept in the kernel");
			sw->keep = 1;
			sw->stop = 1;
		} else {
			log_info("signal %u: stopping", si.ssi_signo);
			sw->stop = 1;
		}
	}
}

static int
signals_init(struct igdd_ctx *ctx)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	/* A shell starts background jobs with SIGQUIT ignored: an ignored
	 * signal never reaches the signalfd. */
	signal(SIGQUIT, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	sigwatch.lfd.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sigwatch.lfd.fd < 0)
		return -1;
	sigwatch.lfd.cb = sig_readable;
	sigwatch.ctx = ctx;
	return loop_fd_add(&ctx->loop, &sigwatch.lfd, EPOLLIN);
}

static int
write_pidfile(const char *path)
{
	char buf[32];
	int fd;

	if (path[0] == '\0')
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (str_printf(buf, sizeof(buf), "%ld\n", (long)getpid()) < 0 ||
	    write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

static uint32_t
random_u32(void)
{
	uint32_t v = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
			v = 0;
		close(fd);
	}
	return v != 0 ? v : (uint32_t)time_wall() ^ (uint32_t)getpid();
}

/* The firewall is set up: keep CAP_NET_ADMIN (and the right to bind a
 * low HTTP port), lose the rest, before the lease file and the sockets
 * that read requests are opened.  Not being able to is fatal. */
static void
drop_privileges(struct igdd_ctx *ctx)
{
	const struct config *cfg = &ctx->cfg;
	char dir[sizeof(cfg->lease_file)], why[128];
	struct priv_user u;
	char *slash;

	dir[0] = '\0';
	if (cfg->lease_file[0] != '\0' && str_copy(dir, sizeof(dir), cfg->lease_file) == 0 &&
	    (slash = strrchr(dir, '/')) != NULL)
		*(slash == dir ? slash + 1 : slash) = '\0';
	if (priv_user(cfg->user, &u, why, sizeof(why)) < 0)
		fatalx("%s", why);
	if (u.no_default)
		log_warnx("no user %s: igdd stays uid 0 (with CAP_NET_ADMIN alone); create that "
			  "system user (make install does) or set user= to run unprivileged",
			  PRIV_DEFAULT_USER);
	if (priv_drop(&u, cfg->http_port != 0 && cfg->http_port < 1024, dir) < 0)
		fatalx("cannot drop privileges");
}


/* Start-up is over: from here on only the system calls of the loop
 * (sandbox.c).  Not being able to is fatal; an architecture without a
 * list runs without, with a warning. */
static void
start_sandbox(const struct config *cfg)
{
	if (!cfg->seccomp) {
		log_warnx("seccomp=no: running without the system call filter");
		return;
	}
	switch (sandbox_install()) {
	case SANDBOX_ON:
		log_info("seccomp: system call filter on (%s)", sandbox_arch());
		break;
	case SANDBOX_NO_ARCH:
		log_warnx("seccomp: no system call list for this architecture; running without "
			  "the filter");
		break;
	case SANDBOX_FAILED:
		fatal("seccomp: cannot install the system call filter");
	}
}

/* The front ends' per-interface parts, in the order they are set up. */
static const struct {
	int (*setup)(struct igdd_ctx *ctx, unsigned slot);
	void (*teardown)(struct igdd_ctx *ctx, unsigned slot);
	bool upnp;			/* else NAT-PMP/PCP */
} frontends[] = {
	{ http_iface_setup, http_iface_teardown, true },
	{ ssdp_iface_setup, ssdp_iface_teardown, true },
	{ pmp_iface_setup, pmp_iface_teardown, false },
};

static bool
frontend_on(const struct igdd_ctx *ctx, size_t i)
{
	return frontends[i].upnp ? ctx->cfg.enable_upnp : ctx->cfg.enable_natpmp;
}

int
daemon_lan_up(struct igdd_ctx *ctx, const struct lan_iface *lan)
{
	int slot = ctx_lan_add(ctx, lan);
	size_t i;

	if (slot < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(frontends); i++)
		if (frontend_on(ctx, i) && frontends[i].setup(ctx, (unsigned)slot) < 0) {
			daemon_lan_down(ctx, (unsigned)slot);
			return -1;
		}
	return slot;
}

void
daemon_lan_down(struct igdd_ctx *ctx, unsigned slot)
{
	size_t i;

	for (i = ARRAY_SIZE(frontends); i-- > 0;)
		if (frontend_on(ctx, i))
			frontends[i].teardown(ctx, slot);
	ctx_lan_remove(ctx, slot);
}

int
daemon_start(struct igdd_ctx *ctx)
{
	struct config *cfg = &ctx->cfg;

	log_init("igdd", cfg->foreground, cfg->verbosity);
	if (!cfg->foreground && daemon(0, 0) < 0)
		fatal("daemon");
	if (write_pidfile(cfg->pidfile) < 0)
		fatal("pidfile %s", cfg->pidfile);
	if (loop_init(&ctx->loop) < 0)
		fatal("epoll");
	if (signals_init(ctx) < 0)
		fatal("signals");
	ctx->start_wall = time_wall();
	ctx->start_mono = time_mono_ms();
	/* BOOTID.UPNP.ORG must change on every start (UDA 1.1 1.2.2); the
	 * wall clock in seconds does, and stays within 2^31. */
	ctx->bootid = (uint32_t)(ctx->start_wall & 0x7fffffff);
	ctx->configid = 1;
	ctx->system_update_id = random_u32() & 0xffff;
	if (iface_init(ctx) < 0)
		fatalx("cannot resolve the interfaces of the configuration");
	if (iface_watch_init(ctx) < 0)
		log_warnx("external address changes will not be followed");
	if (uuid_init(ctx) < 0)
		fatalx("cannot set up the device UUID");

	ctx->fw_ops = &nft_ops;
	ctx->fw = ctx->fw_ops->init(cfg);
	if (ctx->fw == NULL)
		fatalx("cannot set up the nftables state");
	/* The lease file is opened and written only as the user igdd runs
	 * as from now on (lease_open() checks that it owns it). */
	drop_privileges(ctx);
	ctx->store = store_new(ctx, ctx->fw_ops, ctx->fw);
	if (ctx->store == NULL)
		fatalx("cannot create the mapping store");
	if (maplog_init(ctx) < 0)
		fatalx("cannot start the mapping log");
	/* The kernel's part of the restore runs from the loop: the front
	 * ends answer meanwhile (store_restore_async()). */
	if (store_restore_async(ctx->store) < 0)
		log_warnx("lease file %s could not be restored", cfg->lease_file);
	ctx->fw_check.cb = fwwatch_fire;
	loop_timer_set(&ctx->loop, &ctx->fw_check, FW_CHECK_MS);

	if (cfg->enable_upnp) {
		if (http_init(ctx) < 0 || desc_init(ctx) < 0 || events_init(ctx) < 0 ||
		    igd_init(ctx) < 0 || ssdp_init(ctx) < 0)
			fatalx("cannot start UPnP");
	}
	if (cfg->enable_natpmp && (pmp_init(ctx) < 0 || pcp_update_init(ctx, pmp_sendto) < 0))
		fatalx("cannot start NAT-PMP/PCP");
	start_sandbox(cfg);
	log_info("igdd %s started: uuid %s, %u LAN interface(s), external %s%s",
		 IGDD_VERSION, ctx->uuid, ctx->n_lan,
		 cfg->ext_ifname[0] ? cfg->ext_ifname : "(none)",
		 ctx->ext_addr.s_addr ? "" : " (no address yet)");
	return 0;
}

void
daemon_run(struct igdd_ctx *ctx)
{
	loop_run(&ctx->loop, &sigwatch.stop);
}

void
daemon_stop(struct igdd_ctx *ctx)
{
	struct config *cfg = &ctx->cfg;

	counters_log(ctx);
	if (cfg->enable_natpmp) {
		pcp_update_shutdown(ctx);
		pmp_shutdown(ctx);
	}
	if (cfg->enable_upnp) {
		ssdp_shutdown(ctx);
		events_shutdown(ctx);
		http_shutdown(ctx);
	}
	loop_timer_cancel(&ctx->loop, &ctx->fw_check);
	/* The lease file keeps the mappings; the kernel forgets them, so no
	 * port stays open without a daemon managing it, unless this is a stop
	 * for a restart (SIGQUIT): then the table stays, its elements ending
	 * with their leases (element timeouts), and the next start adopts
	 * them without an outage. */
	store_free(ctx->store);
	ctx->store = NULL;
	maplog_shutdown(ctx);
	if (ctx->fw != NULL)
		ctx->fw_ops->shutdown(ctx->fw, !sigwatch.keep);
	ctx->fw = NULL;
	iface_shutdown(ctx);
	loop_fd_del(&ctx->loop, &sigwatch.lfd);
	close(sigwatch.lfd.fd);
	loop_free(&ctx->loop);
	if (cfg->pidfile[0] != '\0')
		unlink(cfg->pidfile);
	conf_free(cfg);
	log_info("stopped");
}
