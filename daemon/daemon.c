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

#include "admin.h"
#include "config.h"
#include "control.h"
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
#include "signals.h"
#include "ssdp.h"
#include "stun.h"
#include "store.h"
#include "svc.h"
#include "upstream.h"
#include "uuid.h"

/* Firewall watchdog: a reload of the firewall (nft flush ruleset, a table
 * deleted, a chain emptied) or a change to igdd's maps behind its back
 * (nft delete element, nft flush map) must not silently lose mappings.
 * Objects: a few small netlink queries every FW_CHECK_MS, independent of
 * the number of mappings.  Contents: a notification from another process
 * about igdd's elements gets every mapping re-installed (one transaction)
 * within FW_EVENT_MS; element counts per set are compared every
 * FW_VERIFY_MS, and at once when notifications were lost: a dump of each
 * set, O(n) in all, read in steps of about a millisecond (FW_STEP_MS
 * apart) so that requests are served meanwhile; one that the mappings'
 * changes meet stops (fw_verify_later()).  A re-install that
 * fails is tried again every FW_VERIFY_MS.  Until it succeeds, or after
 * lost notifications until a count agrees, no journal mark is written
 * (ctx->fw_suspect, fw_unverified). */
#define FW_CHECK_MS	2000
#define FW_VERIFY_MS	30000
#define FW_EVENT_MS	100
#define FW_STEP_MS	1

/* A contents check ends: what its dump left half-read goes with it. */
static void
fw_verify_end(struct igdd_ctx *ctx)
{
	if (ctx->fw_verifying)
		store_fw_verify_cancel(ctx->store);
	ctx->fw_verifying = false;
}

/* A contents check without a verdict: the mappings changed while it
 * read (stopped: its counts can say nothing; it stops at once, where it
 * used to read every set to its end, ~0.6 s of CPU at 100,000 mappings)
 * or a notification interrupted it.  The next is due 2, 4, 8 and 16 s
 * later, then every 30 s while that goes on: a verdict soon after the
 * changes pause, marks withheld until one agrees (fw_unverified) resume
 * then.  The first stop while marks wait is logged. */
static void
fw_verify_later(struct igdd_ctx *ctx, bool stopped)
{
	unsigned k = ctx->fw_verify_stops < 4 ? ctx->fw_verify_stops : 4;
	uint64_t wait = (uint64_t)FW_CHECK_MS << k;

	if (wait > FW_VERIFY_MS)
		wait = FW_VERIFY_MS;
	fw_verify_end(ctx);
	ctx->fw_verify_due = time_mono_ms() + wait;
	ctx->fw_verify_stops++;
	if (stopped && ctx->fw_unverified && !ctx->fw_verify_told) {
		ctx->fw_verify_told = true;
		log_info("nftables: the mappings changed while igdd checked its maps: the check "
			 "stopped, again in %llu s (then less often while they keep changing)",
			 (unsigned long long)(wait / 1000));
	} else {
		log_debug("nftables: igdd's check of its maps %s (%u times): again in %llu s",
			  stopped ? "met the mappings' changes" : "was interrupted",
			  ctx->fw_verify_stops, (unsigned long long)(wait / 1000));
	}
}

/* The delays start again: a verdict or a repair (the next regular check
 * in FW_VERIFY_MS; fw_verify_done()), lost notifications (a verdict is
 * wanted soon). */
static void
fw_verify_anew(struct igdd_ctx *ctx)
{
	ctx->fw_verify_stops = 0;
	ctx->fw_verify_told = false;
}

static void
fw_verify_done(struct igdd_ctx *ctx)
{
	fw_verify_end(ctx);
	fw_verify_anew(ctx);
	ctx->fw_verify_due = time_mono_ms() + FW_VERIFY_MS;
}

static void
fw_reinstall(struct igdd_ctx *ctx, const char *why)
{
	log_warnx("nftables: %s: re-installing %zu mappings", why, store_count(ctx->store));
	ctx->fw_verified = time_mono_ms();
	fw_verify_done(ctx);
	if (store_reinstall(ctx->store) < 0)	/* ctx->fw_suspect set */
		log_warnx("nftables: re-installing failed; trying again in %d s", FW_VERIFY_MS / 1000);
	else if (ctx->fw_suspect)		/* an add with no answer */
		log_warnx("nftables: mappings re-installed, the kernel's answer to some missing; "
			  "again in %d s", FW_VERIFY_MS / 1000);
	else
		log_info("nftables: mappings re-installed");
}

/* A step of the contents check; the next timer in ms. */
static uint64_t
fw_verify_step(struct igdd_ctx *ctx)
{
	int v;

	if (store_fw_generation(ctx->store) != ctx->fw_verify_gen) {
		fw_verify_later(ctx, true);
		return FW_CHECK_MS;
	}
	if ((v = store_fw_verify_step(ctx->store)) == 2)
		return FW_STEP_MS;
	fw_verify_done(ctx);
	if (v == 0) {
		fw_reinstall(ctx, "igdd's maps do not hold its mappings");
	} else if (v < 0) {
		log_warn("nftables: checking igdd's maps");
	} else if (ctx->fw_unverified) {	/* the counts agree: the doubt goes */
		ctx->fw_unverified = false;
		store_mark_kernel(ctx->store);
	}
	return FW_CHECK_MS;
}

/* Contents, when due: start the check of the element counts. */
static uint64_t
fw_verify(struct igdd_ctx *ctx, unsigned dirty)
{
	uint64_t now = time_mono_ms();

	if (!(dirty & FW_EV_LOST) && now < ctx->fw_verify_due)
		return FW_CHECK_MS;
	if (dirty & FW_EV_LOST)
		fw_verify_anew(ctx);
	ctx->fw_verified = now;
	ctx->fw_verify_due = now + FW_VERIFY_MS;
	ctx->fw_verify_gen = store_fw_generation(ctx->store);
	switch (store_fw_verify_start(ctx->store)) {
	case 2:
		ctx->fw_verifying = true;
		return FW_STEP_MS;
	case -1:
		log_warn("nftables: checking igdd's maps");
		break;
	}
	return FW_CHECK_MS;
}

static void
fwwatch_fire(struct loop_timer *t)
{
	struct igdd_ctx *ctx = container_of(t, struct igdd_ctx, fw_check);
	unsigned dirty;
	uint64_t next = FW_CHECK_MS;
	int r;

	if (ctx->fw_poll != NULL)	/* a report the socket does not wake for */
		ctx->fw_poll(ctx);	/* (a change unseen while it was off) */
	dirty = ctx->fw_dirty;

	if (ctx->fw_verifying && dirty == 0) {
		next = fw_verify_step(ctx);
		/* a notification read meanwhile (a journal mark's look) */
		loop_timer_set(&ctx->loop, t, ctx->fw_dirty != 0 && next > FW_EVENT_MS ?
			       FW_EVENT_MS : next);
		return;
	}
	if (ctx->fw_verifying)		/* a notification interrupts it */
		fw_verify_later(ctx, false);
	ctx->fw_dirty = 0;
	/* until a contents check agrees: at once after lost notifications,
	 * the regular one after an unseen transaction */
	if (dirty & (FW_EV_LOST | FW_EV_UNSEEN))
		ctx->fw_unverified = true;
	r = ctx->fw_ops->check(ctx->fw);
	if (r == 0) {
		log_warnx("nftables: igdd's objects vanished (firewall reload?): restoring %zu mappings",
			  store_count(ctx->store));
		ctx->fw_verified = time_mono_ms();
		fw_verify_done(ctx);
		if (ctx->fw_ops->restore(ctx->fw) < 0) {
			ctx->fw_suspect = true;
			log_warnx("nftables: restore failed; trying again in %d ms", FW_CHECK_MS);
		} else if (store_reinstall(ctx->store) < 0 || ctx->fw_suspect) {
			log_warnx("nftables: restored, but re-installing failed (or went unanswered); "
				  "trying again in %d s", FW_VERIFY_MS / 1000);
		} else {
			log_info("nftables: restored");
		}
	} else if (r < 0) {
		/* looked at again next time, the contents checked then */
		ctx->fw_dirty |= dirty | FW_EV_LOST;
		log_warn("nftables: checking igdd's objects");
		loop_timer_set(&ctx->loop, t, next);
		return;
	} else if (dirty & FW_EV_ELEMS) {
		fw_reinstall(ctx, "igdd's maps were changed by another process");
	} else if (store_restoring(ctx->store)) {
		;	/* a restore reconciles them itself */
	} else if (ctx->fw_suspect) {	/* a count would differ: the re-install, paced */
		if (time_mono_ms() - ctx->fw_verified >= FW_VERIFY_MS)
			fw_reinstall(ctx, "the last repair failed");
	} else {
		next = fw_verify(ctx, dirty);
	}
	/* a notification read meanwhile (a journal mark's look) */
	if (ctx->fw_dirty != 0 && next > FW_EVENT_MS)
		next = FW_EVENT_MS;
	loop_timer_set(&ctx->loop, t, next);
}

/* Notifications: look soon, once a burst (a flush is one notification
 * per element) has arrived, without postponing a check already due.
 * Also read before a journal mark (ctx->fw_poll): the kernel queues a
 * transaction's notifications before it answers the next one's sender,
 * so after igdd's own change every earlier one of another process's is
 * there to read. */
static void
fw_events_take(struct igdd_ctx *ctx)
{
	int k = ctx->fw_ops->events_read(ctx->fw);

	if (k <= 0)
		return;
	log_debug("nftables: another process %s igdd's %s",
		  k & (FW_EV_OBJECTS | FW_EV_ELEMS) ? "changed" : "may have changed",
		  k & FW_EV_OBJECTS ? "objects" : "elements");
	ctx->fw_dirty |= (unsigned)k;
	if (!loop_timer_pending(&ctx->fw_check) ||
	    ctx->fw_check.deadline > time_mono_ms() + FW_EVENT_MS)
		loop_timer_set(&ctx->loop, &ctx->fw_check, FW_EVENT_MS);
}

static void
fwevents_readable(struct loop_fd *lfd, uint32_t events)
{
	(void)events;
	fw_events_take(container_of(lfd, struct igdd_ctx, fw_events));
}

static void
fwwatch_init(struct igdd_ctx *ctx)
{
	ctx->fw_check.cb = fwwatch_fire;
	ctx->fw_verified = time_mono_ms();
	ctx->fw_verify_due = ctx->fw_verified + FW_VERIFY_MS;
	loop_timer_set(&ctx->loop, &ctx->fw_check, FW_CHECK_MS);
	ctx->fw_events.fd = ctx->fw_ops->events_fd != NULL ? ctx->fw_ops->events_fd(ctx->fw) : -1;
	ctx->fw_events.cb = fwevents_readable;
	if (ctx->fw_events.fd < 0 || loop_fd_add(&ctx->loop, &ctx->fw_events, EPOLLIN) < 0)
		log_warnx("nftables: changes to igdd's maps by other processes are seen only "
			  "by the check every %d s", FW_VERIFY_MS / 1000);
	else
		ctx->fw_poll = fw_events_take;
}

/* The firewall's set of external addresses follows the interfaces (an
 * address hook: every address or link change, not only the reported
 * address's). */
static void
fw_addrs_sync(struct igdd_ctx *ctx)
{
	struct fw_addrs a;
	unsigned k;
	int r;

	if (ctx->fw == NULL || ctx->fw_ops->set_addrs == NULL)
		return;
	memset(&a, 0, sizeof(a));
	a.n_ext = iface_ext_addrs(ctx, a.ext, FW_EXT_MAX);
	for (k = 0; k < ctx->n_lan && a.n_lan < FW_LAN_MAX; k++) {
		const struct lan_iface *l = &ctx->lan[k];
		if (l->gone || str_copy(a.lan[a.n_lan].name, IF_NAMESIZE, l->name) < 0)
			continue;
		a.lan[a.n_lan].addr = l->addr;
		a.lan[a.n_lan++].mask = l->mask;
	}
	r = ctx->fw_ops->set_addrs(ctx->fw, &a);
	if (r < 0)
		log_warnx("nftables: inbound mappings may not match the external address");
	/* a backend whose elements name the LANs asks for a re-install */
	if (r > 0 && ctx->store != NULL && store_reinstall(ctx->store) < 0)
		log_warnx("nftables: the mappings could not follow the LAN interfaces");
	if (r == 0)
		store_mark_kernel(ctx->store);	/* the journal's mark follows */
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

/* --check: the LANs listening_ip gives here and now, one line each (a
 * repeated one was logged, served once); an interface not there yet is
 * not an error of the file. */
static void
check_lans(const struct config *cfg, FILE *out)
{
	struct lan_iface lan[CFG_MAX_LISTEN];
	char msg[128];
	int n = iface_resolve(cfg, lan, msg, sizeof(msg)), k, i;

	if (n < 0 && cfg->n_listen > 0)
		fprintf(out, "%s (not here now: start-up fails unless it is there)\n", msg);
	for (k = 0; k < n; k++) {
		for (i = 0; i < k && lan[i].ifindex != lan[k].ifindex; i++)
			;
		fprintf(out, "listening_ip: %s %s/%d%s\n", lan[k].name, ADDR4_STR(lan[k].addr),
			__builtin_popcount(lan[k].mask.s_addr),
			i < k ? " (the interface of a LAN above: its multicast groups and "
				"IPv6 sockets are shared)" : "");
	}
}

int
daemon_configure(struct igdd_ctx *ctx, int argc, char **argv, FILE *out, FILE *err)
{
	struct config *cfg = &ctx->cfg;
	enum cli_result r;
	struct stat st;

	memset(ctx, 0, sizeof(*ctx));
	ctx->argc = argc;
	ctx->argv = argv;
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
		if (check_run_user(cfg, err) < 0 || admin_check(cfg, err) < 0 ||
		    upstream_check(cfg, err) < 0)
			return 1;
		check_lans(cfg, out);
		fprintf(out, "%s: configuration OK\n",
			cfg->config_file[0] ? cfg->config_file : "(command line)");
		return 0;
	}
	return -1;
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
 * that read requests are opened.  Not being able to is fatal: -1, logged.
 * The pid file's directory is made for that user first (svc.c). */
static int
drop_privileges(struct igdd_ctx *ctx)
{
	const struct config *cfg = &ctx->cfg;
	char dir[sizeof(cfg->lease_file)], why[128];
	struct priv_user u;

	(void)path_dir(dir, sizeof(dir), cfg->lease_file);
	if (priv_user(cfg->user, &u, why, sizeof(why)) < 0) {
		log_warnx("%s", why);
		return -1;
	}
	if (u.no_default)
		log_warnx("no user %s: igdd stays uid 0 (with CAP_NET_ADMIN alone); create that "
			  "system user (make install does) or set user= to run unprivileged",
			  PRIV_DEFAULT_USER);
	if (svc_prepare(ctx, u.change ? u.uid : (uid_t)-1, u.change ? u.gid : (gid_t)-1) < 0)
		return -1;
	return priv_drop(&u, (cfg->http_port != 0 && cfg->http_port < 1024) ||
			     (cfg->admin_listen.port != 0 && cfg->admin_listen.port < 1024), dir);
}


/* Start-up is over: from here on only the system calls of the loop
 * (sandbox.c).  Not being able to is fatal (-1, logged); an architecture
 * without a list runs without, with a warning. */
static int
start_sandbox(const struct config *cfg)
{
	if (!cfg->seccomp) {
		log_warnx("seccomp=no: running without the system call filter");
		return 0;
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
		log_warn("seccomp: cannot install the system call filter");
		return -1;
	}
	return 0;
}

/* The front ends' per-interface parts, in the order they are set up. */
static const struct {
	int (*setup)(struct igdd_ctx *ctx, unsigned slot);
	void (*teardown)(struct igdd_ctx *ctx, unsigned slot);
	bool upnp;			/* else NAT-PMP/PCP */
	bool self;			/* on or off by itself (a no-op when off) */
} frontends[] = {
	{ http_iface_setup, http_iface_teardown, true, false },
	{ ssdp_iface_setup, ssdp_iface_teardown, true, false },
	{ pmp_iface_setup, pmp_iface_teardown, false, false },
	{ admin_iface_setup, admin_iface_teardown, false, true },
};

static bool
frontend_on(const struct igdd_ctx *ctx, size_t i)
{
	if (frontends[i].self)
		return true;
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
	fw_addrs_sync(ctx);
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
	fw_addrs_sync(ctx);
}

/* Everything in reverse, whatever was made: the protocols, the store
 * and igdd's nftables state, the interfaces, the pid file and locks. */
static void
daemon_teardown(struct igdd_ctx *ctx)
{
	admin_shutdown(ctx);
	control_shutdown(ctx);
	if (ctx->cfg.enable_natpmp) {
		pcp_update_shutdown(ctx);
		pmp_shutdown(ctx);
	}
	if (ctx->cfg.enable_upnp) {
		ssdp_shutdown(ctx);
		events_shutdown(ctx);
		http_shutdown(ctx);
	}
	upstream_log_status(ctx);
	stun_shutdown(ctx);
	upstream_shutdown(ctx);
	loop_timer_cancel(&ctx->loop, &ctx->fw_check);
	loop_timer_cancel(&ctx->loop, &ctx->ready_check);
	if (ctx->fw_events.registered)
		loop_fd_del(&ctx->loop, &ctx->fw_events);
	ctx->fw_poll = NULL;
	/* The lease file keeps the mappings; the kernel forgets them, so no
	 * port stays open without a daemon managing it, unless this is a stop
	 * for a restart (SIGQUIT): then the table stays, its elements ending
	 * with their leases (element timeouts), and the next start adopts
	 * them without an outage. */
	if (!ctx->stop_keeps_kernel)
		store_stop_compact(ctx->store);
	store_free(ctx->store);
	ctx->store = NULL;
	maplog_shutdown(ctx);
	if (ctx->fw != NULL)
		ctx->fw_ops->shutdown(ctx->fw, !ctx->stop_keeps_kernel);
	ctx->fw = NULL;
	iface_shutdown(ctx);
	signals_shutdown(ctx);
	svc_shutdown(ctx);
	loop_free(&ctx->loop);
}

/* A start-up step failed: undo what was made (the kernel state above
 * all), then say why and exit 1.  What was logged as a warning or error
 * so far also went to stderr (a background start's parent copies it). */
static void __attribute__((noreturn))
start_failed(struct igdd_ctx *ctx, const char *why)
{
	daemon_teardown(ctx);
	fatalx("%s: start-up failed", why);
}

/* Started: ready once the restore's kernel part is over (every 5 ms
 * until then). */
#define READY_CHECK_MS	5

static void
ready_fire(struct loop_timer *t)
{
	struct igdd_ctx *ctx = container_of(t, struct igdd_ctx, ready_check);
	const struct config *cfg = &ctx->cfg;

	if (store_restoring(ctx->store)) {
		loop_timer_set(&ctx->loop, t, READY_CHECK_MS);
		return;
	}
	if (svc_ready(ctx) < 0)
		start_failed(ctx, "cannot write the pid file");
	log_info("igdd %s started: uuid %s, %u LAN interface(s), external %s%s",
		 IGDD_VERSION, ctx->uuid, ctx->n_lan,
		 cfg->ext_ifname[0] ? cfg->ext_ifname : "(none)",
		 ctx->ext_addr.s_addr ? "" : " (no address yet)");
}

/* The firewall, then (as the user igdd runs as) the lease file's lock,
 * the store and the lease file. */
static void
start_store(struct igdd_ctx *ctx)
{
	struct config *cfg = &ctx->cfg;

	ctx->fw_ops = &nft_ops;
	ctx->fw = ctx->fw_ops->init(cfg);
	if (ctx->fw == NULL)
		start_failed(ctx, "cannot set up the nftables state");
	/* the watchdog and its notifications before the restore's marks */
	fwwatch_init(ctx);
	fw_addrs_sync(ctx);
	ctx_add_addr_hook(ctx, fw_addrs_sync);
	/* The lease file is opened and written only as the user igdd runs
	 * as from now on (lease_open() checks that it owns it). */
	if (drop_privileges(ctx) < 0)
		start_failed(ctx, "cannot drop privileges");
	if (svc_lock_lease(ctx) < 0)
		start_failed(ctx, "one igdd per lease file");
	ctx->store = store_new(ctx, ctx->fw_ops, ctx->fw);
	if (ctx->store == NULL)
		start_failed(ctx, "cannot create the mapping store");
	if (maplog_init(ctx) < 0)
		start_failed(ctx, "cannot start the mapping log");
	/* The kernel's part of the restore runs from the loop: the front
	 * ends answer meanwhile (store_restore_async()). */
	if (store_restore_async(ctx->store) < 0)
		log_warnx("lease file %s could not be restored", cfg->lease_file);
}

int
daemon_start(struct igdd_ctx *ctx)
{
	struct config *cfg = &ctx->cfg;
	bool to_stderr = cfg->foreground && !cfg->log_syslog;

	log_init("igdd", to_stderr, cfg->verbosity);
	if (!to_stderr)
		log_set_echo_fd(STDERR_FILENO);		/* until ready */
	if (svc_init(ctx) < 0)
		fatalx("cannot start");
	if (loop_init(&ctx->loop) < 0)
		fatal("epoll");
	if (signals_init(ctx) < 0)
		fatal("signals");
	/* First the locks: a live igdd on the same table or control socket
	 * stops this one before it touches anything of the other's
	 * (nftables, the lease file). */
	if (svc_lock_table(ctx) < 0)
		start_failed(ctx, "one igdd per nftables table");
	if (control_init(ctx) < 0)
		start_failed(ctx, "cannot open the control socket");
	ctx->start_wall = time_wall();
	ctx->start_mono = time_mono_ms();
	/* BOOTID.UPNP.ORG must change on every start (UDA 1.1 1.2.2); the
	 * wall clock in seconds does, and stays within 2^31. */
	ctx->bootid = (uint32_t)(ctx->start_wall & 0x7fffffff);
	ctx->configid = 1;
	ctx->system_update_id = random_u32() & 0xffff;
	if (iface_init(ctx) < 0)
		start_failed(ctx, "cannot resolve the interfaces of the configuration");
	if (iface_watch_init(ctx) < 0)
		log_warnx("external address changes will not be followed");
	if (uuid_init(ctx) < 0)
		start_failed(ctx, "cannot set up the device UUID");
	/* its password file is read before privileges are dropped */
	if (admin_init(ctx) < 0)
		start_failed(ctx, "cannot start the admin page");
	start_store(ctx);
	if (upstream_init(ctx) < 0)
		start_failed(ctx, "cannot start the relay to the upstream gateway");
	if (stun_init(ctx) < 0)
		start_failed(ctx, "cannot start STUN");
	if (cfg->enable_upnp) {
		if (http_init(ctx) < 0 || desc_init(ctx) < 0 || events_init(ctx) < 0 ||
		    igd_init(ctx) < 0 || ssdp_init(ctx) < 0)
			start_failed(ctx, "cannot start UPnP");
	}
	if (cfg->enable_natpmp && (pmp_init(ctx) < 0 || pcp_update_init(ctx, pmp_sendto) < 0))
		start_failed(ctx, "cannot start NAT-PMP/PCP");
	if (admin_start(ctx) < 0)
		start_failed(ctx, "cannot start the admin page");
	if (start_sandbox(cfg) < 0)
		start_failed(ctx, "no system call filter");
	/* Ready (the parent, systemd, the pid file) once the kernel holds
	 * the restored mappings too; the front ends answer meanwhile. */
	ctx->ready_check.cb = ready_fire;
	ready_fire(&ctx->ready_check);
	return 0;
}

void
daemon_run(struct igdd_ctx *ctx)
{
	loop_run(&ctx->loop, &ctx->loop.stop);
}

void
daemon_stop(struct igdd_ctx *ctx)
{
	svc_stopping(ctx);
	counters_log(ctx);
	daemon_teardown(ctx);
	conf_free(&ctx->cfg);
	log_info("stopped");
}
