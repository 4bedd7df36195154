/* sandbox.c - the seccomp filter: an allow-list of system calls.
 *
 * Written directly as classic BPF (no libseccomp): the list is short,
 * the program is built once from the table below, and a library would
 * be one more dependency for firmware builds.  The program checks the
 * architecture first (a system call of another ABI, x32 on x86_64
 * included, kills), then compares the number against the table: a plain
 * entry allows the call, an entry with an argument check allows it only
 * when that argument passes.  Anything else kills the whole process
 * (SECCOMP_RET_KILL_PROCESS): a daemon that does what it never does is
 * not one to keep running; the kernel's audit log names the call.
 *
 * Only x86_64 and aarch64 have a list: on other architectures (32-bit
 * ARM and MIPS routers) the C library uses other calls (socketcall,
 * mmap2, _llseek, the time64 family) that this list was never tested
 * with, and a filter that kills igdd on its first unlisted call would do
 * more harm than a daemon already without root, capabilities beyond
 * CAP_NET_ADMIN or a way to regain them.  There the filter is skipped
 * with a warning (sandbox_install() says SANDBOX_NO_ARCH).
 *
 * The table is what the event loop does, by family, with room for what
 * comes next (a unix control socket, upstream UDP/TCP clients, reading
 * files for an admin page): sockets of any family, files opened and
 * written (the lease file, /etc/localtime; the admin page's password file
 * on reload and its DHCP leases file), memory without PROT_EXEC,
 * time, signals to itself only.  IPv6 (SSDP, HTTP and PCP sockets and
 * their group joins, GENA callbacks, the neighbour table for mac= rules
 * and conntrack for PCP PEER over netlink, the conntrack timeouts read
 * from /proc/sys) needs no call beyond these: the IPv6 lab tests run
 * with the filter on.  A new feature that needs a new call adds a line
 * here. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"
#include "util.h"

#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U	/* Linux 4.14 */
#endif

#if defined(__x86_64__) && !defined(__ILP32__)
#define SANDBOX_AUDIT_ARCH	AUDIT_ARCH_X86_64
#define SANDBOX_ARCH_NAME	"x86_64"
#define SANDBOX_X32_BIT		0x40000000U	/* __X32_SYSCALL_BIT: the x32 ABI */
#elif defined(__aarch64__) && defined(__AARCH64EL__)
#define SANDBOX_AUDIT_ARCH	AUDIT_ARCH_AARCH64
#define SANDBOX_ARCH_NAME	"aarch64"
#define SANDBOX_X32_BIT		0U		/* no second ABI on the same entry */
#endif

/* Where the low 32 bits of a 64-bit argument are (both lists are for
 * little-endian machines). */
#define SANDBOX_ARG_LOW		0u

/* The sanitizer runtimes need more: reports read /proc/self/maps and
 * start a symbolizer (its execve is still refused: the report comes out
 * unsymbolized), LeakSanitizer stops the process with ptrace from a
 * clone at exit.  Only the igdd-san test build has them. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZER 1
#endif
#endif

enum sb_check {
	SB_ANY,		/* any arguments */
	SB_ARG_EQ,	/* args[arg] == val (low 32 bits) */
	SB_ARG_CLEAR,	/* args[arg] & val == 0 */
	SB_ARG_SELF,	/* args[arg] == the process's own pid */
};

struct sb_rule {
	int nr;
	uint8_t check, arg;
	uint32_t val;
};

#define ALLOW(n)		{ __NR_##n, SB_ANY, 0, 0 }
#define ALLOW_EQ(n, a, v)	{ __NR_##n, SB_ARG_EQ, a, (uint32_t)(v) }
#define ALLOW_CLEAR(n, a, m)	{ __NR_##n, SB_ARG_CLEAR, a, (uint32_t)(m) }
#define ALLOW_SELF(n, a)	{ __NR_##n, SB_ARG_SELF, a, 0 }

#ifdef SANDBOX_AUDIT_ARCH
/* The busiest first: the filter runs on every call, in this order. */
static const struct sb_rule sandbox_rules[] = {
	/* the loop and its sockets (any family: inet, inet6, netlink, unix) */
	ALLOW(epoll_pwait),
#ifdef __NR_epoll_wait
	ALLOW(epoll_wait),
#endif
	ALLOW(recvmsg), ALLOW(recvmmsg), ALLOW(sendmsg), ALLOW(sendmmsg),
	ALLOW(sendto), ALLOW(recvfrom), ALLOW(read), ALLOW(write), ALLOW(readv),
	ALLOW(writev), ALLOW(ppoll),
#ifdef __NR_poll
	ALLOW(poll),
#endif
	ALLOW(close), ALLOW(epoll_ctl), ALLOW(epoll_create1), ALLOW(accept4),
#ifdef __NR_accept
	ALLOW(accept),
#endif
	ALLOW(socket), ALLOW(socketpair), ALLOW(bind), ALLOW(connect), ALLOW(listen),
	ALLOW(shutdown), ALLOW(getsockname), ALLOW(getpeername), ALLOW(setsockopt),
	ALLOW(getsockopt), ALLOW(fcntl),
	/* time */
	ALLOW(clock_gettime), ALLOW(clock_getres), ALLOW(gettimeofday),
	ALLOW(nanosleep), ALLOW(clock_nanosleep),
#ifdef __NR_time
	ALLOW(time),
#endif
	/* files: the lease file (openat in its directory, rename, sync),
	 * /etc/localtime, the admin page's password and DHCP leases files */
	ALLOW(openat), ALLOW(lseek), ALLOW(pread64), ALLOW(pwrite64), ALLOW(fstat),
	ALLOW(newfstatat), ALLOW(statx), ALLOW(ftruncate), ALLOW(fsync), ALLOW(fdatasync),
	ALLOW(renameat2), ALLOW(unlinkat), ALLOW(dup), ALLOW(dup3), ALLOW(getdents64),
	ALLOW(faccessat),
#ifdef __NR_faccessat2
	ALLOW(faccessat2),
#endif
#ifdef __NR_open
	ALLOW(open), ALLOW(stat), ALLOW(lstat), ALLOW(access), ALLOW(unlink),
	ALLOW(rename), ALLOW(dup2),
#endif
#ifdef __NR_renameat
	ALLOW(renameat),
#endif
	/* memory, never executable */
	ALLOW(brk), ALLOW(munmap), ALLOW(mremap), ALLOW(madvise),
	ALLOW_CLEAR(mmap, 2, PROT_EXEC), ALLOW_CLEAR(mprotect, 2, PROT_EXEC),
	/* the process itself */
	ALLOW(exit_group), ALLOW(exit), ALLOW(rt_sigreturn), ALLOW(rt_sigprocmask),
	ALLOW(restart_syscall), ALLOW(getpid), ALLOW(getppid), ALLOW(gettid), ALLOW(getuid),
	ALLOW(geteuid), ALLOW(getgid), ALLOW(getegid), ALLOW(getrandom), ALLOW(uname),
	ALLOW(sched_yield), ALLOW(futex),	/* libuuid (GENA SIDs): getrandom, getppid */
	ALLOW_SELF(tgkill, 0),		/* abort() */
	/* STUN's resolver: a child process (fork, never a thread), its pipe,
	 * and its end (stun.c) */
	ALLOW_CLEAR(clone, 0, CLONE_VM | CLONE_THREAD), ALLOW(pipe2), ALLOW(wait4),
	ALLOW_EQ(kill, 1, SIGKILL),
	ALLOW(set_robust_list),		/* the C library's fork(), in the child */
	/* interface lookups (if_nametoindex and friends); isatty() */
	ALLOW_EQ(ioctl, 1, SIOCGIFINDEX), ALLOW_EQ(ioctl, 1, SIOCGIFNAME),
	ALLOW_EQ(ioctl, 1, SIOCGIFADDR), ALLOW_EQ(ioctl, 1, SIOCGIFFLAGS),
	ALLOW_EQ(ioctl, 1, SIOCGIFNETMASK), ALLOW_EQ(ioctl, 1, SIOCGIFHWADDR),
	ALLOW_EQ(ioctl, 1, SIOCGIFMTU), ALLOW_EQ(ioctl, 1, FIONREAD),
	ALLOW_EQ(ioctl, 1, FIONBIO), ALLOW_EQ(ioctl, 1, TCGETS),
#ifdef SANDBOX_SANITIZER
	ALLOW(rt_sigaction), ALLOW(sigaltstack), ALLOW(prctl), ALLOW(clone), ALLOW(wait4),
	ALLOW(ptrace), ALLOW(readlinkat), ALLOW(pipe2), ALLOW(kill),
	ALLOW(tgkill), ALLOW(sched_getaffinity), ALLOW(setrlimit), ALLOW(prlimit64),
	ALLOW(process_vm_readv),
#ifdef __NR_readlink
	ALLOW(readlink), ALLOW(pipe), ALLOW(getdents), ALLOW(fork), ALLOW(vfork),
#endif
#endif
};
#endif

const char *
sandbox_arch(void)
{
#ifdef SANDBOX_AUDIT_ARCH
	return SANDBOX_ARCH_NAME;
#else
	return NULL;
#endif
}

#ifdef SANDBOX_AUDIT_ARCH
/* Offset of the low 32 bits of argument i in struct seccomp_data. */
static uint32_t
arg_low(unsigned i)
{
	return (uint32_t)(offsetof(struct seccomp_data, args) + 8u * i + SANDBOX_ARG_LOW);
}

/* One rule as BPF at prog[*n]: the accumulator holds the call's number
 * before and after. */
static void
emit_rule(struct sock_filter *prog, size_t *n, const struct sb_rule *r, uint32_t self)
{
	size_t i = *n;
	uint32_t val = r->check == SB_ARG_SELF ? self : r->val;

	if (r->check == SB_ANY) {
		prog[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, 1);
		prog[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
		*n = i;
		return;
	}
	/* not this call: over the four that follow */
	prog[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, 4);
	prog[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arg_low(r->arg));
	if (r->check == SB_ARG_CLEAR)	/* any of the bits set: not allowed */
		prog[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, val, 1, 0);
	else
		prog[i++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, val, 0, 1);
	prog[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	prog[i++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, nr));
	*n = i;
}

/* The process's threads (/proc/self/task), or 2 when unknown. */
static unsigned
threads_alive(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	if (d == NULL)
		return 2;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

enum sandbox_result
sandbox_install(void)
{
	/* 6 to check the architecture and load the number, at most 5 per
	 * rule, 1 to kill */
	struct sock_filter prog[6 + 5 * ARRAY_SIZE(sandbox_rules) + 1];
	struct sock_fprog fprog;
	size_t n = 0, i;
	uint32_t self = (uint32_t)getpid();

	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, arch));
	prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SANDBOX_AUDIT_ARCH, 1, 0);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
						 offsetof(struct seccomp_data, nr));
	if (SANDBOX_X32_BIT != 0) {
		prog[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, SANDBOX_X32_BIT, 0, 1);
		prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	}
	for (i = 0; i < ARRAY_SIZE(sandbox_rules); i++)
		emit_rule(prog, &n, &sandbox_rules[i], self);
	prog[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	/* prctl() filters the calling thread only: while another runs (the
	 * restore's install thread, netfilter/nft.c), seccomp(2) puts the
	 * filter on every thread (TSYNC). */
	if (threads_alive() > 1) {
#if defined(SYS_seccomp) && defined(SECCOMP_FILTER_FLAG_TSYNC)
		long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC,
				 &fprog);

		return r == 0 ? SANDBOX_ON : SANDBOX_FAILED;	/* > 0: a thread that could not */
#else
		return SANDBOX_FAILED;
#endif
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) < 0)
		return SANDBOX_FAILED;
	return SANDBOX_ON;
}
#else
enum sandbox_result
sandbox_install(void)
{
	return SANDBOX_NO_ARCH;
}
#endif
