/* svc.h - the daemon and what started it: a background start whose
 * parent waits for "ready" or the error, the pid file, one instance per
 * firewall table and lease file, systemd's notifications. */
#ifndef IGDD_SVC_H
#define IGDD_SVC_H

#include <stdbool.h>
#include <sys/types.h>

struct igdd_ctx;

/* Before anything else: read $NOTIFY_SOCKET and, without -d, go to the
 * background.  The parent does not return: it waits until the daemon
 * says it is ready (exit 0) or fails (its warnings and errors copied to
 * stderr, exit non-zero).  Returns 0 in the daemon, -1 on error. */
int svc_init(struct igdd_ctx *ctx);
/* Refuse to run beside another igdd on the same nftables table(s) in
 * this network namespace (call before touching the kernel), or on the
 * same lease file (call as the user igdd runs as, before the lease file
 * is opened): 0, or -1 with the reason logged.  The locks go with the
 * process. */
int svc_lock_table(struct igdd_ctx *ctx);
int svc_lock_lease(struct igdd_ctx *ctx);
/* While still root: create the pid file's directory if it is missing,
 * owned by uid/gid (the user igdd is about to become; -1: no change), so
 * that the daemon can write and remove the pid file afterwards.  0 / -1
 * (logged). */
int svc_prepare(struct igdd_ctx *ctx, uid_t uid, gid_t gid);
/* Everything is up: write the pid file, tell the waiting parent and
 * systemd (READY=1).  0, or -1 (logged) when the pid file cannot be
 * written: start-up failed. */
int svc_ready(struct igdd_ctx *ctx);
/* Stopping: STOPPING=1 to systemd. */
void svc_stopping(struct igdd_ctx *ctx);
/* Last: remove the pid file, release the locks. */
void svc_shutdown(struct igdd_ctx *ctx);

#endif
