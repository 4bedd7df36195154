/* admin_auth.c - the admin page's password, sessions and login limiter
 * (see admin_auth.h). */
#include <crypt.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_auth.h"
#include "admin_parse.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define ADMIN_FILE_MAX	4096	/* a password or token file is one short line */

void
admin_auth_init(struct admin_auth *a, uint64_t idle_ms, uint64_t max_ms)
{
	memset(a, 0, sizeof(*a));
	a->idle_ms = idle_ms;
	a->max_ms = max_ms;
	rl_init(&a->checks, ADMIN_CHECKS_PER_S, ADMIN_CHECKS_BURST);
}

bool
admin_ct_eq(const char *x, size_t xl, const char *y, size_t yl)
{
	unsigned char d = 0;
	size_t i;

	if (xl != yl)
		return false;
	for (i = 0; i < xl; i++)
		d |= (unsigned char)(x[i] ^ y[i]);
	return d == 0;
}

/* Is data[0..n) one line of text: no NUL, nothing but blanks after its
 * end?  Its length without the line end and trailing blanks. */
static long
one_line(const char *data, size_t n)
{
	const char *nl = memchr(data, '\n', n);
	size_t len = nl != NULL ? (size_t)(nl - data) : n, i;

	if (memchr(data, '\0', n) != NULL)
		return -1;
	for (i = len; i < n; i++)
		if (!blank_char(data[i]))
			return -1;
	while (len > 0 && blank_char(data[len - 1]))
		len--;
	return (long)len;
}

/* The one line of a small regular file into buf[size].  *mode: the
 * file's.  0, or -1 with err (never the file's content). */
static int
read_line_file(const char *path, char *buf, size_t size, mode_t *mode, char *err, size_t errsize)
{
	char data[ADMIN_FILE_MAX + 1];
	struct stat st;
	ssize_t n = -1;
	long len;
	/* non-blocking: a FIFO there must not stop the daemon */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

	if (fd < 0 || fstat(fd, &st) < 0) {
		str_printf(err, errsize, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (S_ISREG(st.st_mode))
		n = read(fd, data, sizeof(data));
	close(fd);
	*mode = st.st_mode;
	len = n >= 0 && n <= ADMIN_FILE_MAX ? one_line(data, (size_t)n) : -1;
	if (len <= 0 || str_copy_n(buf, size, data, (size_t)len) < 0) {
		str_printf(err, errsize, "%s: %s", path, n < 0 ? "not a regular file" :
			   len == 0 ? "empty" : len < 0 ? "not one line of text" : "the line is too long");
		len = -1;
	}
	explicit_bzero(data, sizeof(data));
	if (len < 0)
		explicit_bzero(buf, size);
	return len < 0 ? -1 : 0;
}

/* crypt_r() of the C library or of libcrypt.  libcrypt (CRYPT_SONAME,
 * found by configure) is loaded here, the first time, instead of at exec:
 * a daemon without the admin page maps none of it (about 80 KiB of VmRSS,
 * bench/README.md).  The first call is admin_init()'s, before the system
 * call filter, which forbids mapping code; it keeps its reference, and
 * later calls take one only while they use it (RTLD_NOLOAD finds the
 * loaded library by its soname, with no system call). */
static char *
auth_crypt(const char *phrase, const char *setting, struct crypt_data *cd)
{
#ifdef CRYPT_SONAME
	char *(*fn)(const char *, const char *, struct crypt_data *);
	void *h = dlopen(CRYPT_SONAME, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
	bool again = h != NULL;
	char *r;

	if (!again)
		h = dlopen(CRYPT_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL || (*(void **)&fn = dlsym(h, "crypt_r")) == NULL) {
		log_warnx("%s: %s", CRYPT_SONAME, dlerror());
		return NULL;
	}
	r = fn(phrase, setting, cd);
	if (again)
		dlclose(h);
	return r;
#else
	return crypt_r(phrase, setting, cd);
#endif
}

int
admin_auth_read_hash(const char *path, char *hash, size_t size, bool *world_readable, char *err,
		     size_t errsize)
{
	struct crypt_data *cd;
	const char *r;
	mode_t mode;
	bool ok;

	*world_readable = false;
	if (read_line_file(path, hash, size, &mode, err, errsize) < 0)
		return -1;
	if (mode & S_IWOTH) {
		str_printf(err, errsize, "%s: anyone may write it: refused (chmod o-w)", path);
		goto bad;
	}
	if (strncmp(hash, "$6$", 3) != 0 && strncmp(hash, "$y$", 3) != 0) {
		str_printf(err, errsize, "%s: not a SHA-512 ($6$) or yescrypt ($y$) crypt(3) hash "
			   "(igddctl passwd writes one)", path);
		goto bad;
	}
	/* A hash crypt() cannot use would lock everyone out: say so now. */
	if ((cd = calloc(1, sizeof(*cd))) == NULL) {
		str_printf(err, errsize, "out of memory");
		goto bad;
	}
	r = auth_crypt("", hash, cd);
	ok = r != NULL && r[0] == '$' && strncmp(r, hash, 3) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	if (!ok) {
		str_printf(err, errsize, "%s: this system's crypt(3) cannot use that hash", path);
		goto bad;
	}
	*world_readable = (mode & S_IROTH) != 0;
	return 0;
bad:
	explicit_bzero(hash, size);
	return -1;
}

int
admin_auth_read_token(const char *path, char *tok, size_t size, char *err, size_t errsize)
{
	const char *t;
	size_t tl;
	mode_t mode;
	char line[ADMIN_TOKEN_MAX + 16];
	int rc = -1;

	if (read_line_file(path, tok, size, &mode, err, errsize) < 0)
		return -1;
	/* The same syntax as the header's (admin_parse.c). */
	if (str_printf(line, sizeof(line), "Bearer %s", tok) < 0 || strlen(tok) < ADMIN_TOKEN_MIN ||
	    !admin_bearer(line, strlen(line), &t, &tl))
		str_printf(err, errsize, "%s: a token is one line of at least %d characters of "
			   "A-Z a-z 0-9 - . _ ~ + / =", path, ADMIN_TOKEN_MIN);
	else if (mode & S_IWOTH)
		str_printf(err, errsize, "%s: anyone may write it: refused (chmod o-w)", path);
	else
		rc = 0;
	explicit_bzero(line, sizeof(line));
	if (rc < 0)
		explicit_bzero(tok, size);
	return rc;
}

bool
admin_auth_password_ok(const struct admin_auth *a, const char *pw, size_t len)
{
	char copy[ADMIN_PASSWORD_MAX + 1];
	struct crypt_data *cd;
	const char *r;
	bool ok = false;

	if (a->hash[0] == '\0' || len > ADMIN_PASSWORD_MAX || memchr(pw, '\0', len) != NULL ||
	    (cd = calloc(1, sizeof(*cd))) == NULL)
		return false;
	memcpy(copy, pw, len);
	copy[len] = '\0';
	r = auth_crypt(copy, a->hash, cd);
	if (r != NULL && r[0] == '$')
		ok = admin_ct_eq(r, strlen(r), a->hash, strlen(a->hash));
	explicit_bzero(copy, sizeof(copy));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

bool
admin_auth_token_ok(const struct admin_auth *a, const char *tok, size_t len)
{
	return a->token[0] != '\0' && admin_ct_eq(tok, len, a->token, strlen(a->token));
}

/* ---------------------------------------------------------------- sessions */

/* ADMIN_ID_BYTES random bytes as hex into out[ADMIN_ID_HEX + 1].  0 / -1. */
static int
random_hex(char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[ADMIN_ID_BYTES];
	size_t i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	for (i = 0; i < sizeof(b); i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[ADMIN_ID_HEX] = '\0';
	explicit_bzero(b, sizeof(b));
	return 0;
}

struct admin_session *
admin_session_new(struct admin_auth *a, const struct in6_addr *peer, uint64_t now)
{
	struct admin_session *s = NULL;
	size_t k;

	for (k = 0; k < ADMIN_SESSIONS; k++) {
		if (!a->s[k].used) {
			s = &a->s[k];
			break;
		}
		if (s == NULL || a->s[k].last_ms < s->last_ms)
			s = &a->s[k];
	}
	admin_session_end(s);
	if (random_hex(s->id) < 0 || random_hex(s->csrf) < 0) {
		admin_session_end(s);
		return NULL;
	}
	s->used = true;
	s->peer = *peer;
	s->created_ms = s->last_ms = now;
	return s;
}

static bool
session_expired(const struct admin_auth *a, const struct admin_session *s, uint64_t now)
{
	return now - s->last_ms >= a->idle_ms || now - s->created_ms >= a->max_ms;
}

struct admin_session *
admin_session_find(struct admin_auth *a, const char *id, size_t len, const struct in6_addr *peer,
		   uint64_t now, bool touch)
{
	struct admin_session *hit = NULL;
	size_t k;

	/* every live id is compared, in constant time each */
	for (k = 0; k < ADMIN_SESSIONS; k++)
		if (a->s[k].used && admin_ct_eq(id, len, a->s[k].id, ADMIN_ID_HEX))
			hit = &a->s[k];
	if (hit == NULL)
		return NULL;
	if (session_expired(a, hit, now)) {
		admin_session_end(hit);
		return NULL;
	}
	if (!addr_eq(&hit->peer, peer))
		return NULL;	/* an id taken elsewhere: not for this host */
	if (touch)
		hit->last_ms = now;
	return hit;
}

void
admin_session_end(struct admin_session *s)
{
	explicit_bzero(s, sizeof(*s));
}

void
admin_sessions_clear(struct admin_auth *a)
{
	size_t k;

	for (k = 0; k < ADMIN_SESSIONS; k++)
		admin_session_end(&a->s[k]);
}

unsigned
admin_sessions_count(const struct admin_auth *a, uint64_t now)
{
	unsigned n = 0;
	size_t k;

	for (k = 0; k < ADMIN_SESSIONS; k++)
		n += a->s[k].used && !session_expired(a, &a->s[k], now);
	return n;
}

/* ---------------------------------------------------------------- logins */

/* src's entry: its own, a free one, or the one whose last failure is the
 * oldest (its state is lost; the checks' budget still holds).  Failures
 * older than ADMIN_LOGIN_FORGET_MS are forgotten. */
static struct admin_login_src *
login_src(struct admin_auth *a, const struct in6_addr *src, uint64_t now)
{
	struct admin_login_src *e = NULL, *victim = NULL;
	size_t k;

	for (k = 0; k < ADMIN_LOGIN_SOURCES && e == NULL; k++) {
		struct admin_login_src *x = &a->src[k];

		if (x->used && addr_eq(&x->addr, src))
			e = x;
		else if (victim == NULL || !x->used || (victim->used && x->last_ms < victim->last_ms))
			victim = x;
	}
	if (e == NULL) {
		e = victim;
		memset(e, 0, sizeof(*e));
		e->used = true;
		e->addr = *src;
		e->last_ms = now;
	}
	if (now - e->last_ms >= ADMIN_LOGIN_FORGET_MS && now >= e->next_ms) {
		e->fails = 0;
		e->refused = 0;
	}
	return e;
}

enum admin_gate
admin_login_gate(struct admin_auth *a, const struct in6_addr *src, uint64_t now,
		 uint64_t *wait_ms)
{
	struct admin_login_src *e = login_src(a, src, now);
	static const struct in6_addr all = IN6ADDR_ANY_INIT;

	*wait_ms = 0;
	if (now < e->next_ms) {
		*wait_ms = e->next_ms - now;
		e->refused++;
		return ADMIN_GATE_WAIT;
	}
	if (rl_take(&a->checks, &all, 1, now, NULL) == 0) {
		*wait_ms = 1000;
		return ADMIN_GATE_BUSY;
	}
	return ADMIN_GATE_CHECK;
}

uint64_t
admin_login_failed(struct admin_auth *a, const struct in6_addr *src, uint64_t now,
		   uint32_t *fails, uint32_t *refused)
{
	struct admin_login_src *e = login_src(a, src, now);
	uint64_t delay = 0;

	if (e->fails < UINT32_MAX)
		e->fails++;
	if (e->fails > ADMIN_LOGIN_FREE) {
		unsigned shift = e->fails - ADMIN_LOGIN_FREE - 1;

		delay = shift >= 16 ? ADMIN_LOGIN_DELAY_MAX_MS
				    : (uint64_t)ADMIN_LOGIN_DELAY_MS << shift;
		if (delay > ADMIN_LOGIN_DELAY_MAX_MS)
			delay = ADMIN_LOGIN_DELAY_MAX_MS;
	}
	e->last_ms = now;
	e->next_ms = now + delay;
	*fails = e->fails;
	*refused = e->refused;
	e->refused = 0;
	return delay;
}

void
admin_login_succeeded(struct admin_auth *a, const struct in6_addr *src)
{
	size_t k;

	for (k = 0; k < ADMIN_LOGIN_SOURCES; k++)
		if (a->src[k].used && addr_eq(&a->src[k].addr, src))
			memset(&a->src[k], 0, sizeof(a->src[k]));
}
