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
 *
 * One instance: two daemons on one nftables table would delete each
 * other's rules and elements, two on one lease file each other's
 * records.  The table lock is a listening abstract Unix socket named
 * after the table: abstract names belong to the network namespace, so
 * daemons in different namespaces (or on different tables) never clash,
 * and the kernel frees the name when the holder dies (no stale lock).  A
 * second daemon connects to learn the holder's pid (SO_PEERCRED).  The
 * lease file lock is flock() on FILE.lock beside it (the journal itself
 * is replaced by rename when compacted), holding the holder's pid, taken
 * as the user igdd runs as: the directory is that user's. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctx.h"
#include "log.h"
#include "nft_msg.h"
#include "sdnotify.h"
#include "svc.h"

#define SVC_READY_TIMEOUT_MS	90000	/* systemd's default start timeout */
#define SVC_MAX_LOCKS		2	/* filter and nat table */

struct svc_lock {
	struct loop_fd lfd;		/* listening; accept and close */
	char name[CFG_NAME_MAX + 32];
};

struct svc {
	struct igdd_ctx *ctx;
	struct sdnotify notify;
	int ready_fd;			/* the waiting parent's pipe, -1 */
	bool pid_written;
	struct svc_lock locks[SVC_MAX_LOCKS];
	unsigned n_locks;
	int lease_lock_fd;
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
	const char *ns = getenv("NOTIFY_SOCKET");

	if (sv == NULL)
		return -1;
	sv->ctx = ctx;
	sv->ready_fd = -1;
	sv->lease_lock_fd = -1;
	ctx->svc = sv;
	/* Read once; nothing igdd might run should inherit it. */
	if (sdnotify_open(&sv->notify, ns) < 0)
		return -1;
	unsetenv("NOTIFY_SOCKET");
	if (!ctx->cfg.foreground && svc_detach(sv) < 0)
		return -1;
	svc_exiting = sv;
	atexit(svc_atexit);
	return 0;
}

/* ---- one instance ---- */

static void
lock_accept(struct loop_fd *lfd, uint32_t events)
{
	int fd;

	(void)events;
	while ((fd = accept4(lfd->fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
		close(fd);
}

/* The pid behind a held abstract name, or 0 when it cannot be told. */
static long
lock_holder(const struct sockaddr_un *sa, socklen_t len)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	long pid = 0;

	if (fd < 0)
		return 0;
	if (connect(fd, (const struct sockaddr *)sa, len) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
		pid = (long)cred.pid;
	close(fd);
	return pid;
}

static int
lock_table(struct svc *sv, uint16_t family, const char *table)
{
	struct svc_lock *lk = &sv->locks[sv->n_locks];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len;
	unsigned k;
	long pid;
	char who[32];

	if (str_printf(lk->name, sizeof(lk->name), "igdd/nft/%s/%s", nft_family_name(family),
		       table) < 0 || strlen(lk->name) + 1 > sizeof(sa.sun_path))
		return -1;
	for (k = 0; k < sv->n_locks; k++)
		if (strcmp(sv->locks[k].name, lk->name) == 0)
			return 0;	/* nat and filter in one table */
	memcpy(sa.sun_path + 1, lk->name, strlen(lk->name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(lk->name));
	lk->lfd.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lk->lfd.fd < 0) {
		log_warn("instance lock: socket");
		return -1;
	}
	if (bind(lk->lfd.fd, (struct sockaddr *)&sa, len) == 0 && listen(lk->lfd.fd, 4) == 0) {
		lk->lfd.cb = lock_accept;
		sv->n_locks++;
		return loop_fd_add(&sv->ctx->loop, &lk->lfd, EPOLLIN);
	}
	close(lk->lfd.fd);
	if (errno != EADDRINUSE) {
		log_warn("instance lock @%s", lk->name);
		return -1;
	}
	pid = lock_holder(&sa, len);
	if (pid <= 0 || str_printf(who, sizeof(who), " (pid %ld)", pid) < 0)
		who[0] = '\0';
	log_warnx("another igdd%s runs on nftables table %s %s in this network namespace; "
		  "not starting (its mappings are left alone)", who, nft_family_name(family), table);
	return -1;
}

static int
lock_lease_file(struct svc *sv, const char *lease_file)
{
	char path[CFG_STR_MAX + 8], buf[32];
	ssize_t n;
	int fd;

	if (lease_file[0] == '\0')
		return 0;
	if (str_printf(path, sizeof(path), "%s.lock", lease_file) < 0) {
		log_warnx("lease file name %s too long for its lock file", lease_file);
		return -1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		log_warn("lock file %s", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		n = e == EWOULDBLOCK ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		close(fd);
		if (e != EWOULDBLOCK) {
			errno = e;
			log_warn("lock file %s", path);
		} else {
			char who[48];
			if (buf[0] == '\0' || str_printf(who, sizeof(who), " (pid %s)", buf) < 0)
				who[0] = '\0';
			log_warnx("another igdd%s uses the lease file %s; not starting "
				  "(its mappings are left alone)", who, lease_file);
		}
		return -1;
	}
	if (str_printf(buf, sizeof(buf), "%ld\n", (long)getpid()) < 0 || ftruncate(fd, 0) < 0 ||
	    pwrite(fd, buf, strlen(buf), 0) != (ssize_t)strlen(buf))
		log_warn("lock file %s: writing the pid", path);
	sv->lease_lock_fd = fd;
	return 0;
}

int
svc_lock_table(struct igdd_ctx *ctx)
{
	struct svc *sv = ctx->svc;
	struct nft_layout l;

	if (nft_layout_init(&l, &ctx->cfg, false) < 0)
		return -1;
	if (lock_table(sv, l.filter_family, l.filter_table) < 0 ||
	    lock_table(sv, l.nat_family, l.nat_table) < 0)
		return -1;
	return 0;
}

int
svc_lock_lease(struct igdd_ctx *ctx)
{
	return lock_lease_file(ctx->svc, ctx->cfg.lease_file);
}

/* ---- pid file, readiness, stop ---- */

int
svc_prepare(struct igdd_ctx *ctx, uid_t uid, gid_t gid)
{
	const struct config *cfg = &ctx->cfg;
	char dir[sizeof(cfg->pidfile)];

	if (cfg->pidfile[0] == '\0' || path_dir(dir, sizeof(dir), cfg->pidfile) < 0 ||
	    dir[0] == '\0' || mkdir(dir, 0755) < 0)
		return 0;	/* none, or it exists (or cannot be made: said at write) */
	if (uid != (uid_t)-1 && chown(dir, uid, gid) < 0) {
		log_warn("pid file directory %s: chown", dir);
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
		log_warn("pid file %s (its directory must be writable by the user igdd runs as)",
			 cfg->pidfile);
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
	sdnotify_send(&sv->notify, "READY=1\nSTATUS=serving %u LAN interface(s)\nMAINPID=%ld",
		      ctx->n_lan, (long)getpid());
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
svc_stopping(struct igdd_ctx *ctx)
{
	if (ctx->svc != NULL)
		sdnotify_send(&ctx->svc->notify, "STOPPING=1\nSTATUS=stopping");
}

void
svc_shutdown(struct igdd_ctx *ctx)
{
	struct svc *sv = ctx->svc;
	unsigned k;

	if (sv == NULL)
		return;
	svc_atexit();
	for (k = 0; k < sv->n_locks; k++) {
		loop_fd_del(&ctx->loop, &sv->locks[k].lfd);
		close(sv->locks[k].lfd.fd);
	}
	if (sv->lease_lock_fd >= 0)
		close(sv->lease_lock_fd);
	sdnotify_close(&sv->notify);
	/* ready_fd, if still open (a failed start), stays open until exit:
	 * the reason for the failure is yet to be written to it. */
	svc_exiting = NULL;
	free(sv);
	ctx->svc = NULL;
}
