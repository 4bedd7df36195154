/* signals.h - what each signal means to igdd (igdd(8), SIGNALS), read
 * from a signalfd in the event loop. */
#ifndef IGDD_SIGNALS_H
#define IGDD_SIGNALS_H

#include <stddef.h>

struct igdd_ctx;

enum sig_action {
	SIGA_IGNORE,	/* logged and ignored (the default for a signal not listed) */
	SIGA_STOP,	/* stop cleanly: the kernel state removed, status 0 */
	SIGA_RESTART,	/* SIGQUIT: stop for a restart, the kernel state kept */
	SIGA_RELOAD,	/* SIGHUP */
	SIGA_EXT_ADDR,	/* SIGUSR1: the external address may have changed */
	SIGA_LEASES,	/* SIGUSR2: rewrite the lease file, log the counters */
	SIGA_QUIET,	/* ignored without a log line (SIGPIPE) */
	SIGA_KERNEL,	/* the kernel's own action: job control, harmless ones,
			 * and the two that cannot be caught */
};

/* The action for a signal number (1..SIGRTMAX); pure. */
enum sig_action signals_action(int signo);
/* "SIGTERM", "SIGRTMIN+3", "signal 77" into buf. */
const char *signals_name(int signo, char *buf, size_t size);

/* Block the signals igdd handles, read them from a signalfd in the loop;
 * ignore SIGPIPE.  0 / -1. */
int signals_init(struct igdd_ctx *ctx);
void signals_shutdown(struct igdd_ctx *ctx);

#endif
