/* admin.h - the admin page: every mapping in a browser, live; manual
 * forwards added and any mapping deleted; the status and /metrics.
 *
 * On when admin_listen is set: its own HTTP server on that port (the same
 * server code as UPnP's, a second instance), or routes beside the UPnP
 * descriptions when the port is http_port.  LAN sources only, like every
 * listener of igdd; a login with the password of admin_password_file, a
 * session cookie, a CSRF token on every change, the Origin checked (see
 * admin_auth.h for the sessions and the login limiter).  The page is built
 * into the binary (daemon/admin/: HTML, one style sheet, one script).
 *
 * Routes: GET / (the page; the login page without a session), GET and
 * POST /login, POST /logout, GET /admin.css and /admin.js, GET /api/state
 * (the mappings, the status and the counters as JSON; "?since=GEN" is
 * held until the mappings change or ADMIN_POLL_MS pass), POST
 * /api/forward, POST /api/delete, GET /metrics (Prometheus text: a
 * session or the bearer token of admin_metrics_token_file). */
#ifndef IGDD_ADMIN_H
#define IGDD_ADMIN_H

#include <stddef.h>
#include <stdio.h>

struct igdd_ctx;
struct config;

#define ADMIN_POLL_MS		5000	/* a state request waits for a change this long */
#define ADMIN_WAKE_MS		50	/* a burst of changes is one answer */
#define ADMIN_POLLS_MAX		32	/* state requests waiting at once */
#define ADMIN_HOLD_MAX_MS	15000	/* a failed login's answer waits at most this (the
					   server's request deadline is 30 s) */
#define ADMIN_HOSTS_MAX		1024	/* host names kept from the DHCP leases */
#define ADMIN_LEASES_FILE_MAX	(1024 * 1024)
#define ADMIN_HOSTS_CHECK_MS	2000	/* the leases file is looked at no more often */
#define ADMIN_COOKIE		"igdd_sid"

/* Start-up, before privileges are dropped: read the password file (and
 * the token file).  Nothing when admin_listen is off.  0, or -1 logged. */
int admin_init(struct igdd_ctx *ctx);
/* After the store and the UPnP server: the routes, the listeners (its own
 * server unless it shares UPnP's port), the store listener.  0 / -1. */
int admin_start(struct igdd_ctx *ctx);
/* Per LAN interface (daemon_lan_up/down): its own server listens on the
 * slot when admin_listen names its address or none.  0 / -1. */
int admin_iface_setup(struct igdd_ctx *ctx, unsigned slot);
void admin_iface_teardown(struct igdd_ctx *ctx, unsigned slot);
/* Reload: the password and token files read again (a new password ends
 * every session), the session timeouts, the leases file.  A line for the
 * report in msg ("" when nothing is worth saying). */
void admin_reconfigure(struct igdd_ctx *ctx, char *msg, size_t msgsize);
void admin_shutdown(struct igdd_ctx *ctx);
/* igdd --check: the files are readable and hold what they should.  0, or
 * -1 with the reasons on err. */
int admin_check(const struct config *cfg, FILE *err);

#endif
