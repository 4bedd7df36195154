/* signals.c - what each signal means to igdd, as a table (igdd(8),
 * SIGNALS).  Every catchable signal either has a meaning or is logged
 * and ignored: none may leave igdd's nftables state in the kernel
 * without a daemon to manage it.  They are read from a signalfd in the
 * event loop, so an action runs between two requests, never inside one.
 *
 * The fault signals (SIGSEGV, SIGBUS, ...) are blocked too: one sent by
 * kill(2) arrives here and stops igdd cleanly, while a real fault is
 * delivered by the kernel whatever the mask, and crashes as it must. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "counters.h"
#include "ctx.h"
#include "iface.h"
#include "log.h"
#include "signals.h"
#include "store.h"
#include "stun.h"
#include "upstream.h"

struct signals {
	struct loop_fd lfd;
	struct igdd_ctx *ctx;
};

/* A table-driven switchboard; a signal not listed is SIGA_IGNORE. */
static const struct {
	int signo;
	const char *name;
	enum sig_action action;
} sig_table[] = {
	{ SIGHUP, "SIGHUP", SIGA_RELOAD },
	{ SIGINT, "SIGINT", SIGA_STOP },
	{ SIGQUIT, "SIGQUIT", SIGA_RESTART },
	{ SIGILL, "SIGILL", SIGA_STOP },
	{ SIGTRAP, "SIGTRAP", SIGA_STOP },
	{ SIGABRT, "SIGABRT", SIGA_STOP },
	{ SIGBUS, "SIGBUS", SIGA_STOP },
	{ SIGFPE, "SIGFPE", SIGA_STOP },
	{ SIGKILL, "SIGKILL", SIGA_KERNEL },
	{ SIGUSR1, "SIGUSR1", SIGA_EXT_ADDR },
	{ SIGSEGV, "SIGSEGV", SIGA_STOP },
	{ SIGUSR2, "SIGUSR2", SIGA_LEASES },
	{ SIGPIPE, "SIGPIPE", SIGA_QUIET },
	{ SIGALRM, "SIGALRM", SIGA_IGNORE },
	{ SIGTERM, "SIGTERM", SIGA_STOP },
	{ SIGCHLD, "SIGCHLD", SIGA_KERNEL },
	{ SIGCONT, "SIGCONT", SIGA_KERNEL },
	{ SIGSTOP, "SIGSTOP", SIGA_KERNEL },
	{ SIGTSTP, "SIGTSTP", SIGA_KERNEL },
	{ SIGTTIN, "SIGTTIN", SIGA_IGNORE },
	{ SIGTTOU, "SIGTTOU", SIGA_IGNORE },
	{ SIGURG, "SIGURG", SIGA_KERNEL },
	{ SIGXCPU, "SIGXCPU", SIGA_STOP },
	{ SIGXFSZ, "SIGXFSZ", SIGA_IGNORE },
	{ SIGVTALRM, "SIGVTALRM", SIGA_IGNORE },
	{ SIGPROF, "SIGPROF", SIGA_IGNORE },
	{ SIGWINCH, "SIGWINCH", SIGA_KERNEL },
	{ SIGIO, "SIGIO", SIGA_IGNORE },
	{ SIGPWR, "SIGPWR", SIGA_IGNORE },
	{ SIGSYS, "SIGSYS", SIGA_STOP },
};

enum sig_action
signals_action(int signo)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sig_table); i++)
		if (sig_table[i].signo == signo)
			return sig_table[i].action;
	return SIGA_IGNORE;
}

const char *
signals_name(int signo, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sig_table); i++)
		if (sig_table[i].signo == signo)
			return sig_table[i].name;
	if (signo >= SIGRTMIN && signo <= SIGRTMAX)
		str_printf(buf, size, "SIGRTMIN+%d", signo - SIGRTMIN);
	else
		str_printf(buf, size, "signal %d", signo);
	return buf;
}

/* SIGUSR2: the lease file rewritten now, and the counters (the store's,
 * and every protocol's, as at shutdown). */
/* SIGHUP: reload (reload.c logs the outcome, line by line). */
static void
signals_reload(struct igdd_ctx *ctx)
{
	char msg[4096];

	if (ctx->reload == NULL) {
		log_info("SIGHUP: this igdd cannot reload; ignored");
		return;
	}
	log_info("SIGHUP: reloading the configuration");
	msg[0] = '\0';
	(void)ctx->reload(ctx, msg, sizeof(msg));
}

static void
signals_leases(struct igdd_ctx *ctx)
{
	const struct store_stats *st = store_get_stats(ctx->store);

	if (ctx->cfg.lease_file[0] == '\0')
		log_info("SIGUSR2: no lease file to rewrite");
	else if (store_compact(ctx->store) == 0)
		log_info("SIGUSR2: lease file %s rewritten with %zu mappings", ctx->cfg.lease_file,
			 store_count(ctx->store));
	else
		log_warnx("SIGUSR2: lease file %s could not be rewritten; retrying later",
			  ctx->cfg.lease_file);
	log_info("store: %zu mappings; %llu added, %llu refreshed, %llu deleted, %llu expired, "
		 "%llu idle removed; %llu firewall errors, %llu lease file errors", st->count,
		 (unsigned long long)st->added, (unsigned long long)st->refreshed,
		 (unsigned long long)st->deleted, (unsigned long long)st->expired,
		 (unsigned long long)st->idle_removed, (unsigned long long)st->fw_errors,
		 (unsigned long long)st->lease_errors);
	counters_log(ctx);
}

static void
signals_dispatch(struct igdd_ctx *ctx, const struct signalfd_siginfo *si)
{
	char buf[32];
	const char *name = signals_name((int)si->ssi_signo, buf, sizeof(buf));

	switch (signals_action((int)si->ssi_signo)) {
	case SIGA_STOP:
		log_info("%s (from pid %u): stopping", name, si->ssi_pid);
		ctx->loop.stop = 1;
		break;
	case SIGA_RESTART:
		log_info("%s (from pid %u): stopping for a restart, the mappings kept in the "
			 "kernel", name, si->ssi_pid);
		ctx->stop_keeps_kernel = true;
		ctx->loop.stop = 1;
		break;
	case SIGA_RELOAD:
		signals_reload(ctx);
		break;
	case SIGA_EXT_ADDR:
		log_info("SIGUSR1: re-reading the external address");
		iface_ext_check(ctx, true);
		upstream_recheck(ctx);	/* the relay's upstream, STUN: asked again */
		stun_recheck(ctx);
		upstream_log_status(ctx);
		break;
	case SIGA_LEASES:
		signals_leases(ctx);
		break;
	default:
		log_info("%s (from pid %u): ignored", name, si->ssi_pid);
		break;
	}
}

static void
signals_readable(struct loop_fd *lfd, uint32_t events)
{
	struct signals *sg = container_of(lfd, struct signals, lfd);
	struct signalfd_siginfo si;

	(void)events;
	while (read(lfd->fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		signals_dispatch(sg->ctx, &si);
}

int
signals_init(struct igdd_ctx *ctx)
{
	struct signals *sg;
	sigset_t set;
	int s;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	for (s = 1; s <= SIGRTMAX; s++) {
		enum sig_action a = signals_action(s);
		/* libc's own real-time signals refuse to be added: skip them */
		if (a != SIGA_KERNEL && a != SIGA_QUIET) {
			(void)sigaddset(&set, s);
			/* a shell starts background jobs with SIGINT and SIGQUIT
			 * ignored: an ignored signal never reaches the signalfd */
			if (s == SIGINT || s == SIGQUIT)
				signal(s, SIG_DFL);
		}
	}
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	sg = calloc(1, sizeof(*sg));
	if (sg == NULL)
		return -1;
	sg->ctx = ctx;
	sg->lfd.cb = signals_readable;
	sg->lfd.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ctx->signals = sg;
	if (sg->lfd.fd < 0)
		return -1;
	return loop_fd_add(&ctx->loop, &sg->lfd, EPOLLIN);
}

void
signals_shutdown(struct igdd_ctx *ctx)
{
	struct signals *sg = ctx->signals;

	if (sg == NULL)
		return;
	loop_fd_del(&ctx->loop, &sg->lfd);
	if (sg->lfd.fd >= 0)
		close(sg->lfd.fd);
	free(sg);
	ctx->signals = NULL;
}
