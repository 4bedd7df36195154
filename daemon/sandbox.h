/* sandbox.h - a seccomp filter on the running daemon: once start-up is
 * over, only the system calls of its allow-list (sandbox.c) are allowed;
 * any other kills the process (SIGSYS). */
#ifndef IGDD_SANDBOX_H
#define IGDD_SANDBOX_H

enum sandbox_result {
	SANDBOX_ON = 0,		/* installed */
	SANDBOX_FAILED = -1,	/* could not be installed (errno set): fatal */
	SANDBOX_NO_ARCH = 1,	/* no allow-list for this architecture: not installed */
};

/* Install the filter on the calling process (single-threaded; needs
 * no_new_privs or CAP_SYS_ADMIN).  It cannot be removed. */
enum sandbox_result sandbox_install(void);

/* The architecture the allow-list is written for ("x86_64", "aarch64"),
 * or NULL when there is none. */
const char *sandbox_arch(void);

#endif
