/* admin_auth.h - who may use the admin page: the password (one crypt(3)
 * hash, SHA-512 "$6$" or yescrypt "$y$", read from admin_password_file at
 * start and on reload, never from the request path), sessions (a random
 * 128-bit id in a cookie, a CSRF token each, an idle and an absolute
 * timeout, bound to the address that logged in), the bearer token of
 * /metrics, and the login limiter: a source that fails waits longer after
 * each failure (its answer is held meanwhile, its other attempts refused
 * unchecked), and all sources together get a small budget of password
 * checks per second (a yescrypt check costs the loop ~16 ms).
 *
 * Every function takes the time (monotonic ms) so that tests can drive
 * the clock; comparisons of secrets take the same time whatever matches. */
#ifndef IGDD_ADMIN_AUTH_H
#define IGDD_ADMIN_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "ratelimit.h"

#define ADMIN_SESSIONS		16	/* at once; a new login ends the least recently used */
#define ADMIN_ID_BYTES		16	/* 128 random bits: session ids, CSRF tokens */
#define ADMIN_ID_HEX		(2 * ADMIN_ID_BYTES)
#define ADMIN_HASH_MAX		512	/* bytes of a hash line */
#define ADMIN_PASSWORD_MAX	1024	/* bytes of a password tried */
#define ADMIN_TOKEN_MIN		16	/* a bearer token this short is refused */
#define ADMIN_TOKEN_MAX		256
#define ADMIN_LOGIN_SOURCES	64	/* sources whose failures are remembered */
#define ADMIN_LOGIN_FREE	2	/* failures in a row answered without delay */
#define ADMIN_LOGIN_DELAY_MS	1000	/* the first delay; doubled after each failure */
#define ADMIN_LOGIN_DELAY_MAX_MS 30000
#define ADMIN_LOGIN_FORGET_MS	(15 * 60 * 1000)	/* failures forgotten after this */
#define ADMIN_CHECKS_PER_S	4	/* password checks, all sources together */
#define ADMIN_CHECKS_BURST	8

struct admin_session {
	bool used;
	char id[ADMIN_ID_HEX + 1];	/* the cookie's value */
	char csrf[ADMIN_ID_HEX + 1];	/* the token every change carries */
	struct in6_addr peer;		/* the address that logged in */
	uint64_t created_ms, last_ms;	/* monotonic */
};

struct admin_login_src {
	bool used;
	struct in6_addr addr;
	uint32_t fails;			/* failed attempts in a row */
	uint32_t refused;		/* attempts refused while it waited, not yet logged */
	uint64_t next_ms;		/* no password of it is checked before */
	uint64_t last_ms;		/* its last failure */
};

struct admin_auth {
	char hash[ADMIN_HASH_MAX];	/* "" = nobody logs in */
	char token[ADMIN_TOKEN_MAX];	/* "" = no bearer token for /metrics */
	uint64_t idle_ms, max_ms;	/* session timeouts */
	struct admin_session s[ADMIN_SESSIONS];
	struct admin_login_src src[ADMIN_LOGIN_SOURCES];
	struct rl checks;		/* the password checks' budget (one bucket) */
};

void admin_auth_init(struct admin_auth *a, uint64_t idle_ms, uint64_t max_ms);

/* Read a password file: one crypt(3) hash line, "$6$..." or "$y$..."
 * (what igddctl passwd and openssl passwd -6 write), into hash[size].  A
 * file anyone may write is refused; one anyone may read is accepted with
 * *world_readable set.  0, or -1 with the reason in err (never the
 * file's content). */
int admin_auth_read_hash(const char *path, char *hash, size_t size, bool *world_readable,
			 char *err, size_t errsize);
/* Read a bearer token file: one line of at least ADMIN_TOKEN_MIN
 * characters of [A-Za-z0-9-._~+/=].  0, or -1 with err. */
int admin_auth_read_token(const char *path, char *tok, size_t size, char *err, size_t errsize);

/* Does pw[0..len) match the hash?  (crypt(3): milliseconds; callers pass
 * admin_login_gate() first.)  A password with a NUL or over
 * ADMIN_PASSWORD_MAX bytes never matches. */
bool admin_auth_password_ok(const struct admin_auth *a, const char *pw, size_t len);
/* The bearer token, compared in constant time; false without a token. */
bool admin_auth_token_ok(const struct admin_auth *a, const char *tok, size_t len);

/* Equal buffers, in a time that depends on the lengths only. */
bool admin_ct_eq(const char *x, size_t xl, const char *y, size_t yl);

/* ---- sessions ---- */

/* A new session for peer (the least recently used one ends when all are
 * taken).  NULL when no random bytes could be had. */
struct admin_session *admin_session_new(struct admin_auth *a, const struct in6_addr *peer,
					uint64_t now);
/* The live session whose id is id[0..len) for this peer, or NULL; an
 * expired one (idle or absolute timeout) ends here.  touch: the request
 * is the person's (not the page's background updates): the idle timeout
 * starts again. */
struct admin_session *admin_session_find(struct admin_auth *a, const char *id, size_t len,
					 const struct in6_addr *peer, uint64_t now, bool touch);
void admin_session_end(struct admin_session *s);
/* Every session ends (the password changed). */
void admin_sessions_clear(struct admin_auth *a);
/* Live sessions. */
unsigned admin_sessions_count(const struct admin_auth *a, uint64_t now);

/* ---- the login limiter ---- */

enum admin_gate {
	ADMIN_GATE_CHECK,	/* check the password now */
	ADMIN_GATE_WAIT,	/* this source waits (*wait_ms): refused unchecked */
	ADMIN_GATE_BUSY,	/* the checks' budget is spent: try again in a second */
};
/* May src's login attempt be checked at now?  ADMIN_GATE_CHECK takes one
 * check from the budget. */
enum admin_gate admin_login_gate(struct admin_auth *a, const struct in6_addr *src, uint64_t now,
				 uint64_t *wait_ms);
/* The attempt failed: how long its answer is held (ms; also the time
 * before the source's next attempt is checked).  *fails: the failures in
 * a row, *refused: attempts refused while waiting since the last call. */
uint64_t admin_login_failed(struct admin_auth *a, const struct in6_addr *src, uint64_t now,
			    uint32_t *fails, uint32_t *refused);
/* The attempt succeeded: the source's failures are forgotten. */
void admin_login_succeeded(struct admin_auth *a, const struct in6_addr *src);

#endif
