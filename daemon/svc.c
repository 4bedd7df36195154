/* svc.c - the daemon and what started it.
 *
 * Background start: the parent forks and waits on a pipe.  Until the
 * daemon is ready (sockets bound, nftables state installed, leases
 * restored, privileges dropped, pid file written), its warnings and
 * errors go down the pipe as well as to the log; "ready" is one NUL byte.
 * The parent copies what it read to stderr and exits 0 on "ready", or
 * with the daemon's status when the pipe closes without it.  A boot
 * script thus learns of a failed start, and a client started after it
 * finds the daemon answering.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "svc.h"

#define SVC_READY_TIMEOUT_MS	90000	/* systemd's default start timeout */

struct svc {
	struct igdd_ctx *ctx;
	int ready_fd;			/* the waiting parent's pipe, -1 */
	bool pid_written;
};

/* The pid file must go on every exit, fatal() after start-up included:
 * the exit handler finds it here (the only way to reach an atexit()
 * handler). */
static struct svc *svc_exiting;

static void
svc_atexit(void)
{
	struct svc *sv = svc_exiting;

	if (sv != NULL && sv->pid_written) {
		unlink(sv->ctx->cfg.pidfile);
		sv->pid_written = false;
	}
}

/* ---- background start ---- */

/* The parent: copy the daemon's messages to stderr until "ready" (exit
 * 0) or the end of the pipe (exit with the daemon's status, at least 1). */
static void __attribute__((noreturn))
svc_parent_wait(int fd, pid_t child)
{
	char buf[1024];
	uint64_t end = time_mono_ms() + SVC_READY_TIMEOUT_MS;
	int status;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		uint64_t now = time_mono_ms();
		ssize_t n;
		char *nul;

		if (now >= end || poll(&p, 1, (int)(end - now)) == 0) {
			fprintf(stderr, "igdd: not ready after %d s; stopping it (pid %ld)\n",
				SVC_READY_TIMEOUT_MS / 1000, (long)child);
			kill(child, SIGTERM);
			_exit(1);
		}
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		nul = memchr(buf, '\0', (size_t)n);
		fwrite(buf, 1, nul != NULL ? (size_t)(nul - buf) : (size_t)n, stderr);
		if (nul != NULL) {
			fflush(stderr);
			_exit(0);
		}
	}
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		_exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		fprintf(stderr, "igdd: the daemon was killed by signal %d before it was ready\n",
			WTERMSIG(status));
	else
		fprintf(stderr, "igdd: the daemon exited before it was ready\n");
	_exit(1);
}

/* Fork; the child becomes the daemon (new session, cwd /, stdio on
 * /dev/null, the pipe's write end for its messages until ready). */
static int
svc_detach(struct svc *sv)
{
	int p[2], null;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		log_warn("pipe");
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		log_warn("fork");
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		svc_parent_wait(p[0], pid);
	}
	close(p[0]);
	/* A parent gone meanwhile must not kill the daemon by SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	sv->ready_fd = p[1];
	log_set_echo_fd(p[1]);
	if (setsid() < 0 || chdir("/") < 0) {
		log_warn("setsid/chdir");
		return -1;
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    dup2(null, STDERR_FILENO) < 0) {
		log_warn("/dev/null");
		return -1;
	}
	if (null > STDERR_FILENO)
		close(null);
	return 0;
}

int
svc_init(struct igdd_ctx *ctx)
{
	struct svc *sv = calloc(1, sizeof(*sv));

	if (sv == NULL)
		return -1;
	sv->ctx = ctx;
	sv->ready_fd = -1;
	ctx->svc = sv;
	if (!ctx->cfg.foreground && svc_detach(sv) < 0)
		return -1;
	svc_exiting = sv;
	atexit(svc_atexit);
	return 0;
}

/* ---- pid file, readiness, stop ---- */

int
svc_prepare(struct igdd_ctx *ctx)
{
	const struct config *cfg = &ctx->cfg;
	char dir[sizeof(cfg->pidfile)];
	struct passwd *pw;

	if (cfg->pidfile[0] == '\0' || path_dir(dir, sizeof(dir), cfg->pidfile) < 0 ||
	    dir[0] == '\0' || mkdir(dir, 0755) < 0)
		return 0;	/* none, or it exists (or cannot be made: said at write) */
	if (cfg->user[0] != '\0' && (pw = getpwnam(cfg->user)) != NULL &&
	    chown(dir, pw->pw_uid, pw->pw_gid) < 0) {
		log_warn("pid file directory %s: chown to %s", dir, cfg->user);
		return -1;
	}
	return 0;
}

static int
pidfile_write(struct svc *sv)
{
	const struct config *cfg = &sv->ctx->cfg;
	char buf[32];
	int fd;

	if (cfg->pidfile[0] == '\0')
		return 0;
	fd = open(cfg->pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		log_warn("pid file %s%s%s", cfg->pidfile,
			 cfg->user[0] ? ": its directory must be writable by user " : "", cfg->user);
		return -1;
	}
	sv->pid_written = true;
	if (str_printf(buf, sizeof(buf), "%ld\n", (long)getpid()) < 0 ||
	    write(fd, buf, strlen(buf)) != (ssize_t)strlen(buf) || close(fd) < 0) {
		log_warn("pid file %s", cfg->pidfile);
		return -1;
	}
	return 0;
}

int
svc_ready(struct igdd_ctx *ctx)
{
	struct svc *sv = ctx->svc;

	if (pidfile_write(sv) < 0)
		return -1;
	if (sv->ready_fd >= 0) {
		/* The parent exits 0 on this byte. */
		if (write(sv->ready_fd, "", 1) != 1)
			log_warn("telling the parent that igdd is ready");
		close(sv->ready_fd);
		sv->ready_fd = -1;
	}
	log_set_echo_fd(-1);
	return 0;
}

void
svc_shutdown(struct igdd_ctx *ctx)
{
	struct svc *sv = ctx->svc;

	if (sv == NULL)
		return;
	svc_atexit();
	/* ready_fd, if still open (a failed start), stays open until exit:
	 * the reason for the failure is yet to be written to it. */
	svc_exiting = NULL;
	free(sv);
	ctx->svc = NULL;
}
