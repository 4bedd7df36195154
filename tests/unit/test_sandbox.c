/* test_sandbox.c - the seccomp filter: what the loop does goes on, a
 * system call off the list kills the process with SIGSYS (issue 14,
 * finding 12).  Each case runs in a child that installs the filter. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sandbox.h"
#include "unit.h"

enum probe { P_ALLOWED, P_EXECVE, P_MMAP_EXEC, P_TIOCSTI, P_PTRACE };

/* In the child: what the filtered daemon may do, then the probe. */
static void
child(enum probe p)
{
	char *const argv[] = { "true", NULL };
	struct timespec ts;
	int s, one = 1;
	void *m;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || sandbox_install() != SANDBOX_ON)
		_exit(90);
	/* the loop's kind of work */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		_exit(91);
	close(s);
	m = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(92);
	munmap(m, 65536);
	switch (p) {
	case P_ALLOWED:
		_exit(7);
	case P_EXECVE:
		execve("/bin/true", argv, NULL);
		_exit(93);
	case P_MMAP_EXEC:
		mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		_exit(94);
	case P_TIOCSTI:
		ioctl(0, TIOCSTI, "x");
		_exit(95);
	case P_PTRACE:
		syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
		_exit(96);
	}
	_exit(97);
}

/* Run probe p in a child; its wait status. */
static int
run(enum probe p)
{
	int status = -1;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child(p);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static bool
killed_by_sigsys(int status)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS;
}

TEST(sandbox_kills_what_is_not_on_the_list)
{
	int st;

	if (sandbox_arch() == NULL) {
		printf("SKIP unit/sandbox_kills_what_is_not_on_the_list: no list for this architecture\n");
		return;
	}
	st = run(P_ALLOWED);
	CHECK(st != -1 && WIFEXITED(st));
	CHECK_EQ(WEXITSTATUS(st), 7);		/* the loop's calls go on */
	CHECK(killed_by_sigsys(run(P_EXECVE)));
	CHECK(killed_by_sigsys(run(P_MMAP_EXEC)));	/* memory is never executable */
	CHECK(killed_by_sigsys(run(P_TIOCSTI)));	/* no input pushed into a terminal */
#if !defined(__SANITIZE_ADDRESS__)
	CHECK(killed_by_sigsys(run(P_PTRACE)));	/* (LeakSanitizer needs it in igdd-san) */
#endif
}
