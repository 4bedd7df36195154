/* priv.h - least privilege: after start-up igdd keeps only the
 * capabilities it needs, under an unprivileged user when one is set. */
#ifndef IGDD_PRIV_H
#define IGDD_PRIV_H

#include <stdbool.h>

/* Drop to user (NULL or "" = stay uid 0 but with no other power) keeping
 * CAP_NET_ADMIN (nftables) and, when keep_bind, CAP_NET_BIND_SERVICE.
 * writable_dir, when not NULL, must stay writable afterwards (the lease
 * file's directory).  Any failure is fatal: the caller exits. */
int priv_drop(const char *user, bool keep_bind, const char *writable_dir);

#endif
