/* priv.h - least privilege: after start-up igdd keeps only the
 * capabilities it needs, under an unprivileged user when one is set. */
#ifndef IGDD_PRIV_H
#define IGDD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* With user= empty, igdd started as root runs as this user when it
 * exists (make install creates it: a system account, no login shell). */
#define PRIV_DEFAULT_USER	"igdd"

/* The user igdd runs as once started. */
struct priv_user {
	char name[64];
	uid_t uid;
	gid_t gid;
	bool change;		/* switch to it (else stay the user igdd started as) */
	bool no_default;	/* user= empty, started as root, and no
				 * PRIV_DEFAULT_USER: staying uid 0 */
};

/* Which user is that, for user= (NULL or "": PRIV_DEFAULT_USER when
 * started as root and it exists, else stay).  0, or -1 with the reason
 * in why[size] (no such user). */
int priv_user(const char *user, struct priv_user *u, char *why, size_t size);

/* Drop to u keeping CAP_NET_ADMIN (nftables) and, when keep_bind,
 * CAP_NET_BIND_SERVICE.  writable_dir, when not NULL, must stay writable
 * afterwards (the lease file's directory).  Any failure is fatal: the
 * caller exits. */
int priv_drop(const struct priv_user *u, bool keep_bind, const char *writable_dir);

#endif
