/* fake_sync.c - see fake_sync.h.  The unit binary defines fdatasync()
 * itself, so the library linked into it (lease.c) calls this one instead
 * of libc's; a real sync follows unless a failure was asked for. */
#include <errno.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fake_sync.h"

struct fake_sync fake_sync;

int
fdatasync(int fd)
{
	struct stat st;

	fake_sync.calls++;
	fake_sync.size = fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
	if (fake_sync.fail > 0) {
		fake_sync.fail--;
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}
