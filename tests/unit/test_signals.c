/* test_signals.c - the signal table: every catchable signal has an
 * action (igdd(8) SIGNALS), the documented ones theirs. */
#include <signal.h>

#include "signals.h"
#include "unit.h"

TEST(signals_documented_actions)
{
	static const int stop[] = { SIGTERM, SIGINT, SIGXCPU, SIGSEGV, SIGBUS,
				    SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS };
	static const int ignore[] = { SIGALRM, SIGVTALRM, SIGPROF, SIGXFSZ, SIGIO, SIGPWR,
				      SIGTTIN, SIGTTOU };
	static const int kernel[] = { SIGKILL, SIGSTOP, SIGTSTP, SIGCONT, SIGCHLD, SIGWINCH,
				      SIGURG };
	size_t i;

	for (i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
		CHECK_EQ(signals_action(stop[i]), SIGA_STOP);
	for (i = 0; i < sizeof(ignore) / sizeof(ignore[0]); i++)
		CHECK_EQ(signals_action(ignore[i]), SIGA_IGNORE);
	for (i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++)
		CHECK_EQ(signals_action(kernel[i]), SIGA_KERNEL);
	CHECK_EQ(signals_action(SIGQUIT), SIGA_RESTART);
	CHECK_EQ(signals_action(SIGHUP), SIGA_RELOAD);
	CHECK_EQ(signals_action(SIGUSR1), SIGA_EXT_ADDR);
	CHECK_EQ(signals_action(SIGUSR2), SIGA_LEASES);
	CHECK_EQ(signals_action(SIGPIPE), SIGA_QUIET);
	CHECK_EQ(signals_action(SIGRTMIN), SIGA_IGNORE);
	CHECK_EQ(signals_action(SIGRTMAX), SIGA_IGNORE);
}

TEST(signals_names)
{
	char buf[32];

	CHECK_STR(signals_name(SIGTERM, buf, sizeof(buf)), "SIGTERM");
	CHECK_STR(signals_name(SIGUSR2, buf, sizeof(buf)), "SIGUSR2");
	CHECK_STR(signals_name(SIGRTMIN + 3, buf, sizeof(buf)), "SIGRTMIN+3");
	CHECK_STR(signals_name(200, buf, sizeof(buf)), "signal 200");
}
