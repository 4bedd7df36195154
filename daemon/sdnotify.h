/* sdnotify.h - systemd's readiness protocol (sd_notify(3)) without
 * libsystemd: datagrams "READY=1", "STOPPING=1", "STATUS=..." sent to the
 * Unix socket named by $NOTIFY_SOCKET (a path, or "@name" for an
 * abstract one). */
#ifndef IGDD_SDNOTIFY_H
#define IGDD_SDNOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>
#include "util.h"

struct sdnotify {
	int fd;				/* -1: no supervisor listens */
	struct sockaddr_un sa;
	socklen_t len;
};

/* Parse addr (the value of $NOTIFY_SOCKET; NULL or "" = none) into the
 * socket address to send to.  Pure.  0, or -1 when addr is neither an
 * absolute path nor "@name", or does not fit. */
int sdnotify_addr(const char *addr, struct sockaddr_un *sa, socklen_t *len);
/* Open the socket for addr (see above); with no addr, n->fd stays -1 and
 * every send is a no-op.  0 / -1 (logged). */
int sdnotify_open(struct sdnotify *n, const char *addr);
/* Send one notification (lines "KEY=value" separated by '\n').  0, or -1
 * when a supervisor was named and the datagram could not be sent. */
int sdnotify_send(const struct sdnotify *n, const char *fmt, ...) ATTR_PRINTF(2, 3);
void sdnotify_close(struct sdnotify *n);

#endif
