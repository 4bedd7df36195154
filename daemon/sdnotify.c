/* sdnotify.c - systemd's readiness protocol, written directly to
 * $NOTIFY_SOCKET (no libsystemd: a gateway's firmware has none). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

int
sdnotify_addr(const char *addr, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = addr != NULL ? strlen(addr) : 0;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	*len = 0;
	/* An abstract name is "@name" in the variable and NUL + name on the
	 * wire, its length counted exactly (no terminating NUL). */
	if (n < 2 || (addr[0] != '/' && addr[0] != '@') || n > sizeof(sa->sun_path) - 1)
		return -1;
	memcpy(sa->sun_path, addr, n);
	if (addr[0] == '@')
		sa->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (addr[0] == '/'));
	return 0;
}

int
sdnotify_open(struct sdnotify *n, const char *addr)
{
	n->fd = -1;
	if (addr == NULL || addr[0] == '\0')
		return 0;
	if (sdnotify_addr(addr, &n->sa, &n->len) < 0) {
		log_warnx("NOTIFY_SOCKET=%s: not an absolute path or @name; not notifying", addr);
		return -1;
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		log_warn("NOTIFY_SOCKET: socket");
		return -1;
	}
	return 0;
}

int
sdnotify_send(const struct sdnotify *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int r;

	if (n->fd < 0)
		return 0;
	va_start(ap, fmt);
	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= sizeof(msg))
		return -1;
	if (sendto(n->fd, msg, (size_t)r, MSG_NOSIGNAL, (const struct sockaddr *)&n->sa,
		   n->len) < 0) {
		log_warn("NOTIFY_SOCKET: sending %.*s", (int)strcspn(msg, "\n"), msg);
		return -1;
	}
	return 0;
}

void
sdnotify_close(struct sdnotify *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}
