/* passwd.c - "igddctl passwd [--sha512] [FILE]": the admin page's
 * password file (admin_password_file): a crypt(3) hash of a new password,
 * read twice without echo from a terminal, or as one line from standard
 * input when that is not one (scripts).  yescrypt where the C library has
 * it (libxcrypt), else SHA-512; written to FILE atomically (mode 0600, or
 * the old file's owner and mode, never writable by others), or to
 * standard output.  No daemon is asked: "igddctl reload" makes a running
 * igdd read the file. */
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "config.h"
#include "igddctl.h"
#include "util.h"

#define PW_MAX		1024	/* bytes; the daemon refuses longer ones */
#define PW_SHORT	8	/* shorter: a warning */
#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2

/* One line of fd into buf[size] without its line end: its length, or -1
 * (too long, a NUL, nothing). */
static long
read_pw_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	char ch;
	ssize_t r;

	while ((r = read(fd, &ch, 1)) == 1 && ch != '\n') {
		if (ch == '\0' || n + 1 >= size)
			return -1;
		buf[n++] = ch;
	}
	if (r < 0 || (r == 0 && n == 0))
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (long)n;
}

/* A line read from the terminal on fd with echo off, after prompt.  The
 * signals that would stop igddctl wait until the echo is back on. */
static long
read_tty(int fd, const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	sigset_t block, saved;
	long n;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGTSTP);
	sigaddset(&block, SIGHUP);
	if (tcgetattr(fd, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	sigprocmask(SIG_BLOCK, &block, &saved);
	fputs(prompt, stderr);
	fflush(stderr);
	n = tcsetattr(fd, TCSAFLUSH, &quiet) < 0 ? -1 : read_pw_line(fd, buf, size);
	tcsetattr(fd, TCSAFLUSH, &old);
	fputc('\n', stderr);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	return n;
}

/* The new password into pw[size].  0, or an exit status (said why). */
static int
get_password(char *pw, size_t size)
{
	char again[PW_MAX + 2];
	long n, m;

	if (!isatty(STDIN_FILENO)) {
		if ((n = read_pw_line(STDIN_FILENO, pw, size)) <= 0) {
			fprintf(stderr, "igddctl: passwd: standard input holds no password line "
				"(one line, at most %d bytes, no NUL)\n", PW_MAX);
			return EX_FAIL;
		}
		return EX_OK;
	}
	n = read_tty(STDIN_FILENO, "New password for the admin page: ", pw, size);
	m = n > 0 ? read_tty(STDIN_FILENO, "The same again: ", again, sizeof(again)) : -1;
	if (n <= 0 || m != n || strcmp(pw, again) != 0) {
		fprintf(stderr, "igddctl: passwd: %s\n",
			n <= 0 ? "no password given (at most 1024 bytes)" : "the two do not match");
		explicit_bzero(again, sizeof(again));
		return EX_FAIL;
	}
	explicit_bzero(again, sizeof(again));
	return EX_OK;
}

/* "$6$" and 16 characters of crypt's alphabet from the kernel's random
 * bytes: SHA-512 with the default 5000 rounds, as openssl passwd -6. */
static int
salt_sha512(char *out, size_t size)
{
	static const char abc[] =
		"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char r[16];
	size_t i;

	if (size < 21 || getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return -1;
	memcpy(out, "$6$", 3);
	for (i = 0; i < sizeof(r); i++)
		out[3 + i] = abc[r[i] & 63];
	out[19] = '$';
	out[20] = '\0';
	return 0;
}

#if IGDD_HAVE_CRYPT_GENSALT
/* yescrypt with the library's default cost. */
static int
salt_default(char *out, size_t size)
{
	return crypt_gensalt_rn("$y$", 0, NULL, 0, out, (int)size) != NULL ? 0 : -1;
}
#else
static int
salt_default(char *out, size_t size)
{
	return salt_sha512(out, size);
}
#endif

/* Write line to path: a temporary file beside it, synced, renamed over
 * it; the old file's owner and mode are kept (never writable by others),
 * else 0600.  0, or -1 (said why). */
static int
write_file(const char *path, const char *line)
{
	char tmp[4096];
	struct stat st;
	bool had = stat(path, &st) == 0;
	size_t len = strlen(line);
	int fd, e;

	if (str_printf(tmp, sizeof(tmp), "%s.XXXXXX", path) < 0) {
		errno = ENAMETOOLONG;
		goto say;
	}
	if ((fd = mkstemp(tmp)) < 0)
		goto say;
	if (fchmod(fd, had ? (st.st_mode & 0770) | 0600 : 0600) < 0 ||
	    (had && geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid) < 0) ||
	    write(fd, line, len) != (ssize_t)len || fsync(fd) < 0) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		goto say;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		goto say;
	}
	return 0;
say:
	fprintf(stderr, "igddctl: passwd: %s: %s\n", path, strerror(errno));
	return -1;
}

static int
usage_passwd(void)
{
	fprintf(stderr, "usage: igddctl passwd [--sha512] [FILE]\n"
		"  a password hash for admin_password_file: to FILE, or to standard output\n");
	return EX_USAGE;
}

int
passwd_main(int argc, char **argv)
{
	char pw[PW_MAX + 2], setting[CRYPT_GENSALT_OUTPUT_SIZE], line[CRYPT_OUTPUT_SIZE + 2];
	const char *file = NULL, *hash;
	struct crypt_data *cd;
	bool sha512 = false;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--sha512") == 0)
			sha512 = true;
		else if (argv[i][0] == '-' || file != NULL)
			return usage_passwd();
		else
			file = argv[i];
	}
	if ((rc = get_password(pw, sizeof(pw))) != EX_OK)
		return rc;
	if (strlen(pw) < PW_SHORT)
		fprintf(stderr, "igddctl: passwd: warning: a password under %d characters is "
			"easily guessed\n", PW_SHORT);
	cd = calloc(1, sizeof(*cd));
	if (cd == NULL ||
	    (sha512 ? salt_sha512(setting, sizeof(setting)) : salt_default(setting, sizeof(setting))) < 0 ||
	    (hash = crypt_r(pw, setting, cd)) == NULL || hash[0] != '$' ||
	    str_printf(line, sizeof(line), "%s\n", hash) < 0) {
		fprintf(stderr, "igddctl: passwd: crypt(3) failed\n");
		rc = EX_FAIL;
	} else if (file == NULL) {
		fputs(line, stdout);
	} else if (write_file(file, line) < 0) {
		rc = EX_FAIL;
	} else {
		fprintf(stderr, "igddctl: the password hash is in %s (igddctl reload, or SIGHUP, "
			"makes a running igdd read it)\n", file);
	}
	explicit_bzero(pw, sizeof(pw));
	if (cd != NULL) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
	return rc;
}
