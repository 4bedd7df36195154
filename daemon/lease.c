/* lease.c - the lease file.
 *
 * Format (version 1).  A text file of records, one per line, each line
 * ending with "\n".  Lines that are empty or start with '#' are comments.
 * Fields are separated by exactly one space:
 *
 *   + PROTO EPORT RHOST IADDR IPORT EXPIRY CREATED OWNER OWNERADDR NONCE ENABLED DESC
 *   - PROTO EPORT RHOST
 *
 *   P UID PROTO RHOST RPORT IADDR IPORT EXPIRY CREATED OWNER OWNERADDR NONCE ENABLED DESC
 *   p UID
 *
 *   +/-        add (or refresh) / delete the mapping with key (PROTO, EPORT, RHOST)
 *   P/p        add (or refresh) / delete the IPv6 pinhole with key UID (its
 *              UniqueID, 1-65535); RPORT its remote port (0 = any), IADDR
 *              an IPv6 address.  One journal holds both (lease_file6 is
 *              accepted and names no second file: igdd.conf.5)
 *   PROTO      TCP or UDP (another protocol as its decimal number)
 *   EPORT      external port, 1-65535
 *   RHOST      remote host, IPv4 dotted quad or IPv6; "::" = any
 *   IADDR      internal client address; IPORT its port, 1-65535
 *   EXPIRY     end of the lease, UNIX time in seconds; 0 = no expiry
 *   CREATED    creation time, UNIX time in seconds
 *   OWNER      STATIC, UPNP, NATPMP or PCP: the protocol that made it
 *   OWNERADDR  the address that asked for it
 *   NONCE      PCP mapping nonce, 24 hex digits (zeros otherwise)
 *   ENABLED    1 or 0
 *   DESC       the description, to the end of the line (it may contain
 *              spaces and may be empty); '%', bytes below 0x20 and 0x7f
 *              are written as %XX (two hex digits); other bytes as they
 *              are.  Decoded control characters are read back as '?';
 *              a raw one makes the record malformed.  A CR before the
 *              newline (a file edited with CRLF line ends) is ignored.
 *
 * The file is a journal: each change appends one record, written with a
 * single write() and made durable with fdatasync() before the change is
 * acknowledged.  Changes made together (a batch of NAT-PMP/PCP datagrams
 * read with one recvmmsg(), leases ending at once) share one fdatasync():
 * each record is written as it happens, lease_sync() makes them all
 * durable, and only then are the answers sent (group commit).  A crash
 * between the write and the sync may leave such a record in the file: its
 * change was never acknowledged, so bringing it back at the next start is
 * the same as a request that succeeded and whose answer was lost, which
 * clients retry.  When the file is read, the last record for a key wins;
 * leases that have expired are dropped; lines that do not parse are
 * skipped with a warning naming file:line; a last line without its
 * newline (a crash in the middle of a write) is ignored.
 * When the journal holds more than 2 x (live mappings) + 64 records it is
 * rewritten with only the live ones ("+" records): written to FILE.tmp,
 * fsync()ed, renamed over FILE, and the directory fsync()ed, so that a
 * crash at any moment leaves either the old or the new file.
 *
 * A write or sync that fails (disk full, read-only, I/O error) is logged
 * once; the records it concerns (a record cut short, or every record since
 * the last good sync) are truncated away.  The journal then misses those
 * changes, so no record is appended to it any more (it would not say the
 * truth): each later change (or group of changes), and the store's retry
 * timer, try to rewrite the whole file as above, and the first rewrite
 * that succeeds makes the file whole and current again.
 *
 * The file is trusted as much as the daemon's own memory, so only its
 * user may write it: its directory is opened once, at start, and checked
 * (owned by the user igdd runs as, not writable by group or others); the
 * file is opened in it with O_NOFOLLOW and checked the same way (and to
 * have no second hard link), FILE.tmp is created with O_EXCL|O_NOFOLLOW
 * (a stale or planted one is unlinked first: the name, never what it
 * points to), and renamed within that directory.  A symbolic link
 * planted at either name never makes igdd write through it.  Only after
 * a failed write is the path looked up again: a directory mounted anew
 * there (a disk checked and mounted again) is used once it passes the
 * same checks.
 *
 * miniupnpd's lease file (PROTO:EPORT:[RHOST:]IADDR:IPORT:TIMESTAMP:DESC,
 * lease_parse_miniupnpd()) is taken over: a file whose first record is
 * not one of igdd's is read as it is (its lines parsed as miniupnpd's),
 * nothing appended to it, and converted by the first rewrite, which keeps
 * the original as FILE.miniupnpd until the journal has replaced it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lease.h"
#include "log.h"
#include "util.h"

struct lease {
	char path[PATH_MAX];
	char name[NAME_MAX + 1];	/* the file's name in its directory */
	char tmp[NAME_MAX + 1];		/* name.tmp */
	int dirfd;			/* its directory, opened once */
	int fd;
	size_t records;
	size_t adds;		/* of them '+' and 'P' records (lease_open()) */
	off_t synced;		/* file size at the last good sync (or open, rewrite) */
	size_t pending;		/* records appended since then */
	bool broken;		/* a record is missing: only a compaction repairs it */
	bool failing;		/* the last write failed and was reported */
	bool dir_refused;	/* follow_dir() refused a new directory (logged) */
	bool foreign;		/* miniupnpd's file: the next rewrite converts it */
	char restored_gen[LEASE_GEN_MAX];	/* lease_restore(): a "# gen" that ended the file */
	bool restored_clean;	/* lease_restore(): no line but records and comments */
	char *group;		/* lease_group_begin(): records waiting for one write */
	size_t group_len, group_cap;
	unsigned group_n;
	bool grouping;
	char orig[NAME_MAX + 1];	/* name.miniupnpd: the original during that */
};

static const char *const owner_names[] = {
	[OWNER_STATIC] = "STATIC",
	[OWNER_UPNP] = "UPNP",
	[OWNER_NATPMP] = "NATPMP",
	[OWNER_PCP] = "PCP",
};

/* A write failed.  A full or read-only disk fails every write until it is
 * fixed, so the first failure is logged (with the reason) and the ones
 * after it only at debug level, until a rewrite of the whole file
 * succeeds (an append alone does not end it: after a failed rewrite the
 * file still waits for one). */
static void
report_failure(struct lease *l, const char *what)
{
	int e = errno;

	if (!l->failing)
		log_warn("lease file %s: %s (mappings are still served; the file is "
			 "rewritten once it can be written again)", l->path, what);
	else
		log_debug("lease file %s: %s: %s", l->path, what, strerror(e));
	l->failing = true;
	errno = e;
}

static void
report_success(struct lease *l)
{
	if (l->failing)
		log_info("lease file %s: written again, persistence resumed", l->path);
	l->failing = false;
	l->dir_refused = false;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Count the records and cut off a torn tail. */
static int
scan_journal(struct lease *l)
{
	char buf[65536];
	off_t off = 0, last_nl = 0;
	ssize_t r;

	for (;;) {
		r = pread(l->fd, buf, sizeof(buf), off);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		if (off == 0)
			l->adds += buf[0] == '+' || buf[0] == 'P';
		for (const char *p = buf, *end = buf + r;
		     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++) {
			l->records++;
			last_nl = off + (p - buf) + 1;
			/* a record that may add a mapping starts the next line
			 * (one split between two reads is not counted: only
			 * a hint for the tables' size) */
			l->adds += p + 1 < end && (p[1] == '+' || p[1] == 'P');
		}
		off += r;
	}
	if (last_nl != off) {
		log_warnx("%s: torn last record (%lld bytes) cut off", l->path,
			  (long long)(off - last_nl));
		if (ftruncate(l->fd, last_nl) < 0)
			return -1;
	}
	return 0;
}

/* An igdd record ("+ ", "- ", a pinhole's "P " or "p "), not a line of
 * miniupnpd's file. */
static bool
lease_line_is_igdd(const char *line, size_t len)
{
	return len >= 2 && (line[0] == '+' || line[0] == '-' || line[0] == 'P' || line[0] == 'p') &&
	       line[1] == ' ';
}

/* Is the file miniupnpd's (its first record not one of igdd's)?  Then it
 * is read as it is (nothing cut off) and converted by the first rewrite,
 * nothing appended before.  Otherwise a FILE.miniupnpd is what a crash
 * left of a conversion whose journal was synced: it goes. */
static int
detect_foreign(struct lease *l)
{
	char buf[4096];
	ssize_t n = pread(l->fd, buf, sizeof(buf), 0);
	size_t i = 0, end;

	if (n < 0)
		return -1;
	while (i < (size_t)n) {
		const char *nl = memchr(buf + i, '\n', (size_t)n - i);
		end = nl != NULL ? (size_t)(nl - buf) : (size_t)n;
		if (end > i && buf[i] != '#' && buf[i] != '\r') {
			l->foreign = !lease_line_is_igdd(buf + i, end - i);
			break;
		}
		i = end + 1;
	}
	if (l->foreign) {
		l->broken = true;
		log_info("lease file %s: miniupnpd's format; it is converted to igdd's journal "
			 "once read (the original kept as %s until then)", l->path, l->orig);
	} else if (unlinkat(l->dirfd, l->orig, 0) == 0) {
		log_info("lease file %s: %s left by a finished conversion removed", l->path, l->orig);
	}
	return 0;
}

/* --- opening it safely ---------------------------------------------- */

/* path -> its directory (dir[size]) and its name (name[NAME_MAX + 1]). */
static int
split_path(const char *path, char *dir, size_t size, char *name)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;

	if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
	    str_copy(name, NAME_MAX + 1, base) < 0)
		return -1;
	if (slash == NULL)
		return str_copy(dir, size, ".");
	if (slash == path)
		return str_copy(dir, size, "/");
	return str_copy_n(dir, size, path, (size_t)(slash - path));
}

/* May a daemon running as owner trust this directory (dir) or lease file
 * in it?  Anyone else who can write there could plant a link that makes
 * igdd write elsewhere, or rewrite the records.  0, or -1 with the reason
 * in why[size]. */
static int
check_owner(const struct stat *st, bool dir, const char *what, uid_t owner,
	    char *why, size_t size)
{
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		str_printf(why, size, "%s: not a %s", what, dir ? "directory" : "regular file");
	else if (st->st_uid != owner)	/* a directory too: igdd writes there */
		str_printf(why, size, "%s: owned by uid %u, not by uid %u that igdd runs as",
			   what, (unsigned)st->st_uid, (unsigned)owner);
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		str_printf(why, size, "%s: writable by its group or others (mode %04o)", what,
			   (unsigned)(st->st_mode & 07777));
	else if (!dir && st->st_nlink != 1)
		str_printf(why, size, "%s: has %lu hard links", what, (unsigned long)st->st_nlink);
	else
		return 0;
	return -1;
}

/* Open path's directory (following symbolic links: what counts is the
 * directory reached): *dirfd, its stat in *st and the file's name in
 * name[NAME_MAX + 1].  0, or -1 with the reason in why[size]. */
static int
open_dir_raw(const char *path, int *dirfd, struct stat *st, char *name, char *why, size_t size)
{
	char dir[PATH_MAX];

	*dirfd = -1;
	if (split_path(path, dir, sizeof(dir), name) < 0) {
		str_printf(why, size, "%s: not a file name", path);
		return -1;
	}
	*dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd >= 0 && fstat(*dirfd, st) == 0)
		return 0;
	str_printf(why, size, "directory %s: %s", dir, strerror(errno));
	if (*dirfd >= 0)
		close(*dirfd);
	*dirfd = -1;
	return -1;
}

/* The same, checked for a daemon running as owner. */
static int
open_dir(const char *path, uid_t owner, int *dirfd, char *name, char *why, size_t size)
{
	char dir[PATH_MAX];
	struct stat st;

	if (open_dir_raw(path, dirfd, &st, name, why, size) < 0)
		return -1;
	if (split_path(path, dir, sizeof(dir), name) == 0 &&
	    check_owner(&st, true, dir, owner, why, size) == 0)
		return 0;
	close(*dirfd);
	*dirfd = -1;
	return -1;
}

/* After a failed write the directory may have come back as another file
 * system mounted at the same path (a disk checked and mounted again):
 * follow it, checked as at start, so that persistence resumes without a
 * restart.  Otherwise the directory opened at start is the one used. */
static void
follow_dir(struct lease *l)
{
	char why[PATH_MAX + 128], name[NAME_MAX + 1];
	struct stat now, held;
	int fd;

	if (open_dir_raw(l->path, &fd, &now, name, why, sizeof(why)) < 0)
		return;
	if (fstat(l->dirfd, &held) < 0 || (now.st_dev == held.st_dev && now.st_ino == held.st_ino)) {
		close(fd);
		return;
	}
	close(fd);
	if (open_dir(l->path, geteuid(), &fd, name, why, sizeof(why)) < 0) {
		if (!l->dir_refused)
			log_warnx("lease file %s: its directory was mounted again, refused: %s",
				  l->path, why);
		l->dir_refused = true;
		return;
	}
	log_info("lease file %s: its directory was mounted again: writing there", l->path);
	close(l->dirfd);
	l->dirfd = fd;
}

int
lease_check_path(const char *path, uid_t owner, char *why, size_t size)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int dirfd, r = -1;

	if (open_dir(path, owner, &dirfd, name, why, size) < 0)
		return -1;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			r = 0;		/* created at start */
		else
			str_printf(why, size, "%s: %s", path, strerror(errno));
	} else if (S_ISLNK(st.st_mode)) {
		str_printf(why, size, "%s: a symbolic link", path);
	} else {
		r = check_owner(&st, false, path, owner, why, size);
	}
	close(dirfd);
	return r;
}

struct lease *
lease_open(const char *path)
{
	char why[PATH_MAX + 128];
	struct stat st;
	struct lease *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->fd = l->dirfd = -1;
	if (str_copy(l->path, sizeof(l->path), path) < 0) {
		str_copy(why, sizeof(why), "lease file name too long");
		goto refused;
	}
	if (open_dir(path, geteuid(), &l->dirfd, l->name, why, sizeof(why)) < 0 ||
	    str_printf(l->tmp, sizeof(l->tmp), "%s.tmp", l->name) < 0)
		goto refused;
	/* Never through a symbolic link, nor into a FIFO or device that
	 * someone put there. */
	l->fd = openat(l->dirfd, l->name,
		       O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC,
		       0600);
	if (l->fd < 0) {
		int e = errno;
		/* Not ours to open: say whose it is rather than EACCES. */
		if (fstatat(l->dirfd, l->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISLNK(st.st_mode) ||
		    check_owner(&st, false, path, geteuid(), why, sizeof(why)) == 0)
			str_printf(why, sizeof(why), "%s: %s", path,
				   e == ELOOP ? "a symbolic link" : strerror(e));
		goto refused;
	}
	if (fstat(l->fd, &st) < 0) {
		str_printf(why, sizeof(why), "%s: %s", path, strerror(errno));
		goto refused;
	}
	if (check_owner(&st, false, path, geteuid(), why, sizeof(why)) < 0)
		goto refused;
	if (str_printf(l->orig, sizeof(l->orig), "%s.miniupnpd", l->name) < 0) {
		str_printf(why, sizeof(why), "%s: name too long", path);
		goto refused;
	}
	/* A FILE.tmp left by a crash in a rewrite, or planted: the name
	 * goes (never what it points to), whether or not this start
	 * rewrites the file. */
	if (unlinkat(l->dirfd, l->tmp, 0) < 0 && errno != ENOENT)
		log_warn("lease file %s: removing %s", path, l->tmp);
	if (detect_foreign(l) < 0 || (!l->foreign && scan_journal(l) < 0) ||
	    (l->synced = lseek(l->fd, 0, SEEK_END)) < 0) {
		str_printf(why, sizeof(why), "%s: %s", path, strerror(errno));
		goto refused;
	}
	return l;
refused:
	log_warnx("lease file refused: %s", why);
	lease_close(l);
	return NULL;
}

void
lease_close(struct lease *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l->group);
	free(l);
}

bool
lease_broken(const struct lease *l)
{
	return l->broken;
}

bool
lease_failing(const struct lease *l)
{
	return l->failing;
}

size_t
lease_records(const struct lease *l)
{
	return l->records;
}

size_t
lease_adds(const struct lease *l)
{
	return l->adds;
}

bool
lease_should_compact(const struct lease *l, size_t live)
{
	/* After a failed write every change tries a rewrite (a full disk
	 * fails it fast, at the first block): once there is room again, the
	 * file catches up at once.  The retry timer covers quiet times. */
	return l->broken || l->failing || l->records > 2 * live + 64;
}

/* A write or sync failed: cut the file back to size (-1: leave it), to
 * the whole records whose fate is known, and mark the journal broken. */
static int
append_failed(struct lease *l, off_t size)
{
	int e = errno;
	struct stat now;

	if (size >= 0 && fstat(l->fd, &now) == 0 && now.st_size != size &&
	    ftruncate(l->fd, size) < 0)
		log_debug("lease file %s: truncate after failed write: %s", l->path,
			  strerror(errno));
	errno = e;
	report_failure(l, "cannot append");
	l->broken = true;
	return -1;
}

/* In a group: the record formatted at the end of the group's buffer. */
static int
group_add(struct lease *l, const struct lease_record *r)
{
	int len;

	if (l->group_cap - l->group_len < LEASE_LINE_MAX) {
		size_t cap = l->group_cap ? l->group_cap * 2 : 16384;
		char *b = realloc(l->group, cap);

		if (b == NULL)
			return append_failed(l, -1);
		l->group = b;
		l->group_cap = cap;
	}
	len = lease_format(l->group + l->group_len, l->group_cap - l->group_len, r);
	if (len < 0) {
		errno = EINVAL;
		return append_failed(l, -1);
	}
	l->group_len += (size_t)len;
	l->group_n++;
	return 0;
}

void
lease_group_begin(struct lease *l)
{
	l->grouping = true;
	l->group_len = 0;
	l->group_n = 0;
}

int
lease_group_end(struct lease *l)
{
	struct stat st;
	int r = 0;

	l->grouping = false;
	if (l->group_n > 0 && !l->broken) {
		if (fstat(l->fd, &st) < 0)
			r = append_failed(l, -1);
		else if (write_all(l->fd, l->group, l->group_len) < 0)
			r = append_failed(l, st.st_size);	/* the whole group taken back */
		else {
			l->records += l->group_n;
			l->pending += l->group_n;
		}
	}
	if (l->group_cap > 65536) {	/* a mass change keeps no big buffer */
		free(l->group);
		l->group = NULL;
		l->group_cap = 0;
	}
	l->group_len = 0;
	l->group_n = 0;
	return r;
}

int
lease_append(struct lease *l, const struct lease_record *r)
{
	char line[LEASE_LINE_MAX];
	struct stat st;
	int len;

	if (l->grouping)
		return group_add(l, r);
	len = lease_format(line, sizeof(line), r);
	if (len < 0) {
		errno = EINVAL;
		return append_failed(l, -1);
	}
	if (fstat(l->fd, &st) < 0)
		return append_failed(l, -1);
	/* One write() per record: a crash leaves at most one torn line.  A
	 * write cut short by a full disk is taken back, so the file never
	 * holds half a record (on a read-only disk nothing was written). */
	if (write_all(l->fd, line, (size_t)len) < 0)
		return append_failed(l, st.st_size);
	l->records++;
	l->pending++;
	return 0;
}

int
lease_sync(struct lease *l)
{
	off_t size;

	if (l->pending == 0)
		return 0;
	if ((size = lseek(l->fd, 0, SEEK_END)) < 0 || fdatasync(l->fd) < 0) {
		/* Not one of these records is known to be on disk: take
		 * them all back. */
		l->records -= l->pending;
		l->pending = 0;
		return append_failed(l, l->synced);
	}
	l->synced = size;
	l->pending = 0;
	return 0;
}

/* A new FILE.tmp in the directory: never through a link planted under
 * that name (O_EXCL with O_NOFOLLOW); one left by a crash, or planted,
 * is removed first (the name, never what it points to). */
static int
open_tmp(struct lease *l)
{
	int fd, tries;

	for (tries = 0; tries < 2; tries++) {
		fd = openat(l->dirfd, l->tmp,
			    O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
		if (unlinkat(l->dirfd, l->tmp, 0) < 0)
			return -1;
	}
	return -1;
}

/* While miniupnpd's file is converted, keep it as FILE.miniupnpd:
 * written whole and synced before the journal replaces it. */
static int
keep_original(struct lease *l, char *buf, size_t size)
{
	off_t off = 0;
	ssize_t n;
	int fd, e;

	if (unlinkat(l->dirfd, l->orig, 0) < 0 && errno != ENOENT)
		return -1;
	fd = openat(l->dirfd, l->orig, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return -1;
	while ((n = pread(l->fd, buf, size, off)) > 0) {
		if (write_all(fd, buf, (size_t)n) < 0)
			break;
		off += n;
	}
	if (n == 0 && fsync(fd) == 0)
		return close(fd);
	e = errno;
	close(fd);
	unlinkat(l->dirfd, l->orig, 0);
	errno = e;
	return -1;
}

/* The conversion is durable: the original goes. */
static void
conversion_done(struct lease *l, size_t n)
{
	if (!l->foreign)
		return;
	l->foreign = false;
	if (unlinkat(l->dirfd, l->orig, 0) < 0 || fsync(l->dirfd) < 0)
		log_warn("lease file %s: removing %s", l->path, l->orig);
	log_info("lease file %s: converted from miniupnpd's format, %zu mappings", l->path, n);
}

int
lease_compact(struct lease *l, const struct mapping *const *ms, size_t n,
	      uint64_t now_mono, int64_t now_wall)
{
	static const char header[] = "# igdd lease journal v1 (see igdd.8)\n";
	char *buf;
	size_t used = 0, cap = 65536, i;
	off_t size = 0;
	int e, fd;

	if (l->failing)
		follow_dir(l);
	buf = malloc(cap);
	if (buf == NULL)
		return -1;
	if (l->foreign && keep_original(l, buf, cap) < 0)
		goto fail_free;
	fd = open_tmp(l);
	if (fd < 0)
		goto fail_free;
	memcpy(buf, header, sizeof(header) - 1);
	used = sizeof(header) - 1;
	for (i = 0; i < n; i++) {
		struct lease_record r = { .op = mapping_is_pinhole(ms[i]) ? 'P' : '+', .m = *ms[i] };
		int len;

		if (cap - used < LEASE_LINE_MAX) {
			if (write_all(fd, buf, used) < 0)
				goto fail_close;
			size += (off_t)used;
			used = 0;
		}
		r.expiry_wall = lease_wall_from_mono(ms[i]->expires, now_mono, now_wall);
		len = lease_format(buf + used, cap - used, &r);
		if (len < 0)
			goto fail_close;
		used += (size_t)len;
	}
	if (write_all(fd, buf, used) < 0 || fsync(fd) < 0)
		goto fail_close;
	if (renameat(l->dirfd, l->tmp, l->dirfd, l->name) < 0)
		goto fail_close;
	if (fsync(l->dirfd) < 0)
		log_warn("lease file %s: fsync of its directory", l->path);
	conversion_done(l, n);
	free(buf);
	close(l->fd);
	l->fd = fd;
	l->records = n + 1;	/* the header line counts: keeps the arithmetic simple */
	l->synced = size + (off_t)used;
	l->pending = 0;		/* the new file holds them, synced */
	l->broken = false;
	report_success(l);
	return 0;
fail_close:
	e = errno;
	close(fd);
	unlinkat(l->dirfd, l->tmp, 0);
	errno = e;
fail_free:
	report_failure(l, "cannot rewrite");
	free(buf);
	return -1;
}

int
lease_mark_gen(struct lease *l, const char *gen)
{
	char line[LEASE_GEN_MAX + 8];
	struct stat st;

	if (l->broken || gen[0] == '\0' || strchr(gen, '\n') != NULL ||
	    str_printf(line, sizeof(line), "# gen %s\n", gen) < 0)
		return -1;
	if (fstat(l->fd, &st) < 0)
		return -1;
	if (write_all(l->fd, line, strlen(line)) < 0) {
		/* not a record: taken back, the journal stays whole */
		if (ftruncate(l->fd, st.st_size) < 0)
			return append_failed(l, -1);
		return -1;
	}
	l->records++;
	return 0;
}

const char *
lease_restored_gen(const struct lease *l)
{
	return l->restored_gen;
}

bool
lease_restored_clean(const struct lease *l)
{
	return l->restored_clean;
}

int64_t
lease_wall_from_mono(uint64_t expires, uint64_t now_mono, int64_t now_wall)
{
	uint64_t left;

	if (expires == 0)
		return 0;
	left = expires > now_mono ? (expires - now_mono + 999) / 1000 : 0;
	return now_wall + (int64_t)(left > 0 ? left : 1);
}

/* --- formatting ------------------------------------------------------ */

static const char hexdigits[] = "0123456789abcdef";

static const char *
proto_text(uint8_t proto, char *buf, size_t size)
{
	const char *n = proto_name(proto);

	if (n[0] != '?')
		return n;
	if (str_printf(buf, size, "%u", proto) < 0)
		return "?";
	return buf;
}

/* A record built in place (no printf: a batch writes one per change). */
struct ob {
	char *p;
	size_t size, len;
	bool over;
};

static void
ob_mem(struct ob *b, const char *s, size_t n)
{
	if (b->over || n >= b->size - b->len) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
ob_str(struct ob *b, const char *s)
{
	ob_mem(b, s, strlen(s));
}

/* A number and the separator after it ('\0': none). */
static void
ob_num(struct ob *b, long long v, char sep)
{
	char d[24];
	size_t i = sizeof(d);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	if (sep != '\0')
		d[--i] = sep;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		d[--i] = '-';
	ob_mem(b, d + i, sizeof(d) - i);
}

static void
ob_addr(struct ob *b, const struct in6_addr *a, char sep)
{
	char t[INET6_ADDRSTRLEN];

	if (IN6_IS_ADDR_UNSPECIFIED(a))	/* any remote host: most records */
		ob_mem(b, "::", 2);
	else
		ob_str(b, addr_str(a, t, sizeof(t)));
	ob_mem(b, &sep, 1);
}

/* The record's key: (PROTO, EPORT, RHOST), or a pinhole's (UID) with its
 * PROTO, RHOST and RPORT; each field followed by a space. */
static void
ob_key(struct ob *b, const struct lease_record *r, const struct in6_addr *rhost)
{
	const struct mapping *m = &r->m;
	char pbuf[8];

	ob_mem(b, r->op == 'P' ? "P " : r->op == '-' ? "- " : "+ ", 2);
	if (r->op == 'P')
		ob_num(b, m->uid, ' ');
	ob_str(b, proto_text(m->proto, pbuf, sizeof(pbuf)));
	ob_mem(b, " ", 1);
	if (r->op == 'P') {
		ob_addr(b, rhost, ' ');
		ob_num(b, m->rport, ' ');
	} else {
		ob_num(b, m->eport, ' ');
		ob_addr(b, rhost, ' ');
	}
}

static int
ob_end(struct ob *b)
{
	if (b->over || b->len >= b->size)
		return -1;
	b->p[b->len] = '\0';
	return (int)b->len;
}

int
lease_format(char *buf, size_t size, const struct lease_record *r)
{
	const struct mapping *m = &r->m;
	const struct mapping_owner *o = m->owner;
	const struct in6_addr *rhost = m->rhost != NULL ? m->rhost : &in6addr_any;
	struct ob b = { buf, size, 0, size == 0 };
	char nonce[2 * sizeof(o->nonce) + 1], dbuf[MAPPING_DESC_GEN_MAX];
	const char *d;
	size_t i;

	if (r->op == 'p') {
		ob_mem(&b, "p ", 2);
		ob_num(&b, m->uid, '\n');
		return ob_end(&b);
	}
	if (r->op == '-') {
		ob_key(&b, r, rhost);
		if (!b.over)
			b.p[b.len - 1] = '\n';	/* the key's last space */
		return ob_end(&b);
	}
	if (o == NULL || m->iaddr == NULL || (unsigned)o->proto >= ARRAY_SIZE(owner_names) ||
	    (r->op != '+' && r->op != 'P'))
		return -1;
	for (i = 0; i < sizeof(o->nonce); i++) {
		nonce[2 * i] = hexdigits[o->nonce[i] >> 4];
		nonce[2 * i + 1] = hexdigits[o->nonce[i] & 15];
	}
	nonce[2 * i] = '\0';
	ob_key(&b, r, rhost);
	ob_addr(&b, m->iaddr, ' ');
	ob_num(&b, m->iport, ' ');
	ob_num(&b, (long long)r->expiry_wall, ' ');
	ob_num(&b, (long long)m->created, ' ');
	ob_str(&b, owner_names[o->proto]);
	ob_mem(&b, " ", 1);
	ob_addr(&b, &o->addr, ' ');
	ob_str(&b, nonce);
	ob_mem(&b, m->enabled ? " 1 " : " 0 ", 3);
	d = m->desc != NULL ? mapping_desc(m, dbuf) : NULL;
	for (i = 0; d != NULL && d[i] != '\0' && !b.over; i++) {
		unsigned char c = (unsigned char)d[i];

		if (b.len + 4 >= size)
			return -1;
		if (c < 0x20 || c == 0x7f || c == '%') {
			buf[b.len++] = '%';
			buf[b.len++] = hexdigits[c >> 4];
			buf[b.len++] = hexdigits[c & 15];
		} else {
			buf[b.len++] = (char)c;
		}
	}
	ob_mem(&b, "\n", 1);
	return ob_end(&b);
}

/* --- parsing: a cursor over the line, one space between fields -------- */

struct cur {
	const char *p;
	size_t left;
};

/* Next space-terminated field (not the last one). */
static int
field(struct cur *c, const char **f, size_t *flen)
{
	size_t i;

	for (i = 0; i < c->left && c->p[i] != ' '; i++)
		;
	if (i == 0 || i == c->left)
		return -1;	/* empty field, or no separator after it */
	*f = c->p;
	*flen = i;
	c->p += i + 1;
	c->left -= i + 1;
	return 0;
}

/* The last field: the rest of the line, must be a single token. */
static int
last_field(struct cur *c, const char **f, size_t *flen)
{
	if (c->left == 0 || memchr(c->p, ' ', c->left) != NULL)
		return -1;
	*f = c->p;
	*flen = c->left;
	c->left = 0;
	return 0;
}

static int
parse_num(const char *f, size_t len, unsigned long long min, unsigned long long max,
	  unsigned long long *out)
{
	return parse_uint_n(f, len, min, max, out);
}

static int
parse_proto(const char *f, size_t len, uint8_t *out)
{
	unsigned long long v;

	if (mem_ieq(f, len, "TCP")) {
		*out = IPPROTO_TCP;
		return 0;
	}
	if (mem_ieq(f, len, "UDP")) {
		*out = IPPROTO_UDP;
		return 0;
	}
	if (parse_num(f, len, 1, 255, &v) < 0)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

/* A dotted quad as the journal writes it (no leading zeros), without
 * inet_pton()'s copy and second try: the restore reads three addresses
 * per record.  0, or -1 (not in that form: addr_parse() decides). */
static int
parse_quad(const char *f, size_t len, struct in6_addr *out)
{
	unsigned char q[4];
	size_t i = 0;
	int k;

	for (k = 0; k < 4; k++) {
		unsigned v = 0, nd = 0;

		while (i < len && f[i] >= '0' && f[i] <= '9' && nd < 3) {
			v = v * 10 + (unsigned)(f[i++] - '0');
			nd++;
		}
		if (nd == 0 || v > 255 || (nd > 1 && f[i - nd] == '0') ||
		    (k < 3 ? i >= len || f[i++] != '.' : i != len))
			return -1;
		q[k] = (unsigned char)v;
	}
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], q, 4);
	return 0;
}

static int
parse_addr(const char *f, size_t len, struct in6_addr *out)
{
	char tmp[INET6_ADDRSTRLEN];

	if (len == 2 && f[0] == ':' && f[1] == ':') {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (parse_quad(f, len, out) == 0)
		return 0;
	if (len >= sizeof(tmp))
		return -1;
	memcpy(tmp, f, len);
	tmp[len] = '\0';
	return addr_parse(tmp, out);
}

/* Decode %XX; control characters written as %XX come back as '?', raw
 * ones make the record malformed; too long is cut. */
static int
decode_desc(const char *f, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)f[i];
		if (c == '%') {
			int hi, lo;
			if (i + 2 >= len)
				return -1;
			hi = hex_digit(f[i + 1]);
			lo = hex_digit(f[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c < 0x20 || c == 0x7f) {
			return -1;	/* never written raw: the line is damaged */
		}
		if (c < 0x20 || c == 0x7f)
			c = '?';
		if (o + 1 < size)
			out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

int
lease_parse(const char *line, size_t len, struct lease_record *r)
{
	struct cur c = { line, len };
	const char *f;
	size_t fl, i;
	unsigned long long v;

	memset(r, 0, sizeof(*r));
	r->m.desc = r->desc;
	r->m.rhost = &r->rhost;
	r->m.iaddr = &r->iaddr;
	r->m.owner = &r->owner;
	if (len < 2 || strchr("+-Pp", line[0]) == NULL || line[0] == '\0' || line[1] != ' ')
		return -1;
	r->op = line[0];
	c.p += 2;
	c.left -= 2;
	if (r->op == 'P' || r->op == 'p') {
		/* a pinhole, keyed by its UID */
		if ((r->op == 'p' ? last_field(&c, &f, &fl) : field(&c, &f, &fl)) < 0 ||
		    parse_num(f, fl, 1, 65535, &v) < 0)
			return -1;
		r->m.uid = (uint16_t)v;
		if (r->op == 'p')
			return 0;
	}
	if (field(&c, &f, &fl) < 0 || parse_proto(f, fl, &r->m.proto) < 0)
		return -1;
	if (r->op != 'P') {
		if (field(&c, &f, &fl) < 0 || parse_num(f, fl, 1, 65535, &v) < 0)
			return -1;
		r->m.eport = (uint16_t)v;
	}
	if (r->op == '-')
		return last_field(&c, &f, &fl) < 0 || parse_addr(f, fl, &r->rhost) < 0 ? -1 : 0;
	if (field(&c, &f, &fl) < 0 || parse_addr(f, fl, &r->rhost) < 0)
		return -1;
	if (r->op == 'P') {
		if (field(&c, &f, &fl) < 0 || parse_num(f, fl, 0, 65535, &v) < 0)
			return -1;
		r->m.rport = (uint16_t)v;
	}
	if (field(&c, &f, &fl) < 0 || parse_addr(f, fl, &r->iaddr) < 0)
		return -1;
	/* a pinhole's client is IPv6, a port mapping's IPv4 */
	if (addr_is_v4(&r->iaddr) != (r->op == '+'))
		return -1;
	if (field(&c, &f, &fl) < 0 || parse_num(f, fl, 1, 65535, &v) < 0)
		return -1;
	r->m.iport = (uint16_t)v;
	if (field(&c, &f, &fl) < 0 || parse_num(f, fl, 0, INT64_MAX, &v) < 0)
		return -1;
	r->expiry_wall = (int64_t)v;
	if (field(&c, &f, &fl) < 0 || parse_num(f, fl, 0, INT64_MAX, &v) < 0)
		return -1;
	r->m.created = (int64_t)v;
	if (field(&c, &f, &fl) < 0)
		return -1;
	for (i = 0; i < ARRAY_SIZE(owner_names); i++)
		if (strlen(owner_names[i]) == fl && memcmp(owner_names[i], f, fl) == 0)
			break;
	if (i == ARRAY_SIZE(owner_names))
		return -1;
	r->owner.proto = (enum owner_proto)i;
	if (field(&c, &f, &fl) < 0 || parse_addr(f, fl, &r->owner.addr) < 0)
		return -1;
	if (field(&c, &f, &fl) < 0 || fl != 2 * sizeof(r->owner.nonce))
		return -1;
	for (i = 0; i < sizeof(r->owner.nonce); i++) {
		int hi = hex_digit(f[2 * i]), lo = hex_digit(f[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		r->owner.nonce[i] = (uint8_t)(hi << 4 | lo);
	}
	/* ENABLED is followed by a space even when DESC is empty. */
	if (field(&c, &f, &fl) < 0 || fl != 1 || (f[0] != '0' && f[0] != '1'))
		return -1;
	r->m.enabled = f[0] == '1';
	return decode_desc(c.p, c.left, r->desc, sizeof(r->desc));
}

/* --- miniupnpd's lease file ------------------------------------------ */

/* The next ':'-terminated field of c (not the last one). */
static int
colon_field(struct cur *c, const char **f, size_t *flen)
{
	const char *colon = memchr(c->p, ':', c->left);

	if (colon == NULL)
		return -1;
	*f = c->p;
	*flen = (size_t)(colon - c->p);
	c->left -= *flen + 1;
	c->p = colon + 1;
	return 0;
}

static int
parse_v4(const char *f, size_t len, struct in6_addr *out)
{
	return len > 0 && parse_addr(f, len, out) == 0 && addr_is_v4(out) ? 0 : -1;
}

/* The description: surrounding blanks trimmed (as miniupnpd reads it),
 * control characters (old versions wrote them raw) as '?', a NUL makes
 * the line damaged, too long is cut. */
static int
miniupnpd_desc(const char *f, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	while (len > 0 && (f[0] == ' ' || f[0] == '\t'))
		f++, len--;
	while (len > 0 && (f[len - 1] == ' ' || f[len - 1] == '\t'))
		len--;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)f[i];
		if (c == '\0')
			return -1;
		if (o + 1 < size)
			out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* miniupnpd's TIMESTAMP: UNIX time of the lease's end, 0 = none, or,
 * built with LEASEFILE_USE_REMAINING_TIME, the seconds left.  No lease
 * of this century ends before 2001, so a smaller value is the latter. */
#define MINIUPNPD_REMAINING_BELOW 1000000000

int
lease_parse_miniupnpd(const char *line, size_t len, int64_t now_wall, struct lease_record *r)
{
	struct cur c = { line, len };
	const char *f[4];
	size_t fl[4], i;
	unsigned long long eport, iport, ts;
	bool with_rhost;

	memset(r, 0, sizeof(*r));
	r->m.desc = r->desc;
	r->m.rhost = &r->rhost;
	r->m.iaddr = &r->iaddr;
	r->m.owner = &r->owner;
	r->op = '+';
	/* PROTO:EPORT:A:B: then A B = IADDR IPORT (the classic form) or
	 * RHOST IADDR (the form with the remote host, RHOST empty or '*'
	 * for any) */
	for (i = 0; i < 4; i++)
		if (colon_field(&c, &f[i], &fl[i]) < 0)
			return -1;
	if (mem_ieq(f[0], fl[0], "TCP"))
		r->m.proto = IPPROTO_TCP;
	else if (mem_ieq(f[0], fl[0], "UDP"))
		r->m.proto = IPPROTO_UDP;
	else
		return -1;
	if (parse_num(f[1], fl[1], 1, 65535, &eport) < 0)
		return -1;
	with_rhost = parse_v4(f[3], fl[3], &r->iaddr) == 0;
	if (with_rhost) {
		if (!(fl[2] == 0 || (fl[2] == 1 && f[2][0] == '*')) &&
		    parse_v4(f[2], fl[2], &r->rhost) < 0)
			return -1;
		if (colon_field(&c, &f[3], &fl[3]) < 0)	/* IPORT */
			return -1;
	} else if (parse_v4(f[2], fl[2], &r->iaddr) < 0) {
		return -1;
	}
	if (parse_num(f[3], fl[3], 1, 65535, &iport) < 0 ||
	    colon_field(&c, &f[0], &fl[0]) < 0 || parse_num(f[0], fl[0], 0, UINT32_MAX, &ts) < 0)
		return -1;
	r->m.eport = (uint16_t)eport;
	r->m.iport = (uint16_t)iport;
	r->m.enabled = true;
	r->m.created = now_wall;
	r->expiry_wall = ts == 0 ? 0 : ts < MINIUPNPD_REMAINING_BELOW ? now_wall + (int64_t)ts :
			 (int64_t)ts;
	if (miniupnpd_desc(c.p, c.left, r->desc, sizeof(r->desc)) < 0)
		return -1;
	/* miniupnpd names its NAT-PMP mappings "NAT-PMP <port> <proto>"; the
	 * client that asked is the internal client (it maps only to itself) */
	r->owner.proto = strncmp(r->desc, "NAT-PMP ", 8) == 0 ? OWNER_NATPMP : OWNER_UPNP;
	r->owner.addr = r->iaddr;
	return 0;
}

/* "# gen TOKEN": the kernel generation line (lease_mark_gen()): TOKEN
 * into gen[LEASE_GEN_MAX], "" if the line is not one. */
static void
gen_line(const char *line, size_t len, char *gen)
{
	if (len <= 6 || memcmp(line, "# gen ", 6) != 0 ||
	    str_copy_n(gen, LEASE_GEN_MAX, line + 6, len - 6) < 0)
		gen[0] = '\0';
}

/* One line of the file (without its newline): 1 when it was a good
 * record (given to cb), 2 a good record in miniupnpd's form (given to
 * cb; the file wants rewriting), 0 a comment or an empty line, -1 a
 * malformed record (skipped). */
static int
replay_line(const char *line, size_t len, const char *name, unsigned lineno,
	    lease_replay_cb cb, void *arg, char *gen, int64_t now_wall)
{
	struct lease_record r;
	bool igdd;

	if (len > 0 && line[len - 1] == '\r')
		len--;		/* edited with CRLF line ends */
	if (gen != NULL)
		gen_line(line, len, gen);
	if (len == 0 || line[0] == '#')
		return 0;
	/* igdd's records start with "+ " or "- "; anything else may be a
	 * line of miniupnpd's file being taken over */
	igdd = lease_line_is_igdd(line, len);
	if ((igdd ? lease_parse(line, len, &r) :
	     lease_parse_miniupnpd(line, len, now_wall, &r)) < 0) {
		log_warnx("%s:%u: malformed lease record skipped", name, lineno);
		return -1;
	}
	cb(arg, &r);
	return igdd ? 1 : 2;	/* 2: to be written again in igdd's form */
}

/* Replay the records of the file at fd from its start (pread(): its
 * offset stays), named name in warnings, in blocks of REPLAY_BLOCK
 * bytes; gen (if not NULL) gets the "# gen" token of the file's last
 * line, "" if that is not one.  A line longer than a block is no record
 * (LEASE_LINE_MAX): skipped as malformed. */
#define REPLAY_BLOCK (256 * 1024)
static int
replay_fd(int fd, const char *name, lease_replay_cb cb, void *arg, char *gen, bool *clean)
{
	char *buf = malloc(REPLAY_BLOCK), *nl;
	size_t have = 0, start;
	off_t off = 0;
	ssize_t n;
	unsigned lineno = 0;
	int good = 0, k;
	bool skipping = false;		/* in a line longer than a block */
	int64_t now_wall = time_wall();

	if (buf == NULL)
		return -1;
	for (;;) {
		n = pread(fd, buf + have, REPLAY_BLOCK - have, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				log_warn("%s: read", name);
				*clean = false;		/* not all of it: never trusted */
				if (gen != NULL)
					gen[0] = '\0';
			}
			break;
		}
		off += n;
		have += (size_t)n;
		for (start = 0; (nl = memchr(buf + start, '\n', have - start)) != NULL;
		     start = (size_t)(nl - buf) + 1) {
			lineno++;
			if (skipping) {
				log_warnx("%s:%u: malformed lease record skipped", name, lineno);
				if (gen != NULL)
					gen[0] = '\0';
				skipping = false;
				*clean = false;
				continue;
			}
			k = replay_line(buf + start, (size_t)(nl - buf) - start, name, lineno, cb, arg,
					gen, now_wall);
			good += k > 0;
			*clean = *clean && (k == 0 || k == 1);	/* records, comments */
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		if (have == REPLAY_BLOCK) {
			skipping = true;
			have = 0;
		}
	}
	if (have > 0 || skipping) {
		log_warnx("%s:%u: torn last record ignored", name, lineno + 1);
		*clean = false;
	}
	free(buf);
	return good;
}

int
lease_replay(const char *path, lease_replay_cb cb, void *arg)
{
	int good, fd = open(path, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	bool clean = true;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_warn("lease file %s", path);
		return -1;
	}
	good = replay_fd(fd, path, cb, arg, NULL, &clean);
	close(fd);
	return good;
}

int
lease_restore(struct lease *l, lease_replay_cb cb, void *arg)
{
	/* pread(): the descriptor's offset is not touched (appends go to
	 * the end anyway, O_APPEND) */
	int good;

	l->restored_clean = true;
	good = replay_fd(l->fd, l->path, cb, arg, l->restored_gen, &l->restored_clean);

	if (good < 0)
		log_warn("lease file %s", l->path);
	return good;
}
