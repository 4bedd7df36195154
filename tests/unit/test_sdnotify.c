/* test_sdnotify.c - systemd's notification protocol without libsystemd:
 * $NOTIFY_SOCKET as a path and as an abstract name, the datagrams that
 * arrive there, and the values refused. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"
#include "unit.h"

/* A receiving socket bound at addr ("/path" or "@name"); -1 on error. */
static int
receiver(const char *addr)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0 || sdnotify_addr(addr, &sa, &len) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void
roundtrip(const char *addr)
{
	struct sdnotify n;
	char buf[256];
	ssize_t r;
	int fd = receiver(addr);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(sdnotify_open(&n, addr), 0);
	CHECK_EQ(sdnotify_send(&n, "READY=1\nSTATUS=serving %u LAN interface(s)", 2u), 0);
	r = recv(fd, buf, sizeof(buf) - 1, 0);
	CHECK(r > 0);
	buf[r > 0 ? r : 0] = '\0';
	CHECK_STR(buf, "READY=1\nSTATUS=serving 2 LAN interface(s)");
	CHECK_EQ(sdnotify_send(&n, "STOPPING=1"), 0);
	r = recv(fd, buf, sizeof(buf) - 1, 0);
	buf[r > 0 ? r : 0] = '\0';
	CHECK_STR(buf, "STOPPING=1");
	sdnotify_close(&n);
	close(fd);
}

TEST(sdnotify_path_socket)
{
	char dir[] = "/tmp/igdd-sdnotify.XXXXXX", path[64];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/notify", dir);
	roundtrip(path);
	unlink(path);
	rmdir(dir);
}

TEST(sdnotify_abstract_socket)
{
	char name[64];

	snprintf(name, sizeof(name), "@igdd-unit-notify-%ld", (long)getpid());
	roundtrip(name);
}

TEST(sdnotify_addresses)
{
	struct sockaddr_un sa;
	socklen_t len;
	struct sdnotify n;
	char big[200];

	/* abstract: a leading NUL, the length counts the name exactly */
	CHECK_EQ(sdnotify_addr("@x/y", &sa, &len), 0);
	CHECK_EQ(sa.sun_path[0], 0);
	CHECK(memcmp(sa.sun_path + 1, "x/y", 3) == 0);
	CHECK_EQ(len, offsetof(struct sockaddr_un, sun_path) + 4);
	CHECK_EQ(sdnotify_addr("/run/systemd/notify", &sa, &len), 0);
	CHECK_STR(sa.sun_path, "/run/systemd/notify");
	CHECK_EQ(sdnotify_addr("relative/path", &sa, &len), -1);
	CHECK_EQ(sdnotify_addr("@", &sa, &len), -1);
	CHECK_EQ(sdnotify_addr("", &sa, &len), -1);
	CHECK_EQ(sdnotify_addr(NULL, &sa, &len), -1);
	CHECK_EQ(sdnotify_addr("vsock:2:1234", &sa, &len), -1);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(sdnotify_addr(big, &sa, &len), -1);
	/* no supervisor: sends are no-ops */
	CHECK_EQ(sdnotify_open(&n, NULL), 0);
	CHECK_EQ(n.fd, -1);
	CHECK_EQ(sdnotify_send(&n, "READY=1"), 0);
	sdnotify_close(&n);
}
