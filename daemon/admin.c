/* admin.c - the admin page (see admin.h): its routes and answers, state
 * requests held until the store changes, failed logins' answers held for
 * the limiter's delay, and the host names of a DHCP leases file.
 *
 * Every answer carries the same security headers (a Content-Security-
 * Policy without inline script, no framing, no sniffing; no
 * Cross-Origin-Opener-Policy: browsers ignore it, with an error, on a
 * page that is not HTTPS); every answer
 * that shows mappings or takes a change is "no-store".  The page's files
 * are revalidated by their entity tag and sent gzip-compressed to the
 * browsers that take it (compressed at build time: no zlib). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin.h"
#include "admin_assets.h"
#include "admin_auth.h"
#include "admin_parse.h"
#include "conf.h"
#include "control.h"
#include "ctx.h"
#include "http.h"
#include "inflate.h"
#include "json.h"
#include "log.h"
#include "stats.h"
#include "store.h"
#include "util.h"

#define SECURITY_HEADERS							\
	"Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; " \
	"img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; " \
	"base-uri 'none'\r\n"							\
	"X-Frame-Options: DENY\r\n"						\
	"X-Content-Type-Options: nosniff\r\n"					\
	"Referrer-Policy: same-origin\r\n"					\
	"Cross-Origin-Resource-Policy: same-origin\r\n"
#define NO_STORE	"Cache-Control: no-store\r\n"
#define REVALIDATE	"Cache-Control: no-cache\r\n"
#define JSON_TYPE	"application/json"
#define HTML_TYPE	"text/html; charset=utf-8"
#define COOKIE_ATTRS	"; Path=/; HttpOnly; SameSite=Strict"
#define GET		HTTP_METHOD_BIT(HTTP_M_GET)
#define POST		HTTP_METHOD_BIT(HTTP_M_POST)

struct admin_host {
	struct in6_addr addr;
	char name[ADMIN_HOSTNAME_MAX];
};

/* An answer that comes later: a state request waiting for a change, or a
 * failed login's answer waiting out the delay. */
enum hold_kind { HOLD_POLL, HOLD_LOGIN };

struct admin_hold {
	struct admin_hold *prev, *next;
	struct admin *a;
	struct http_conn *c;
	struct loop_timer timer;
	enum hold_kind kind;
	char sid[ADMIN_ID_HEX + 1];	/* POLL: the session it was asked in */
	struct in6_addr peer;
};

struct admin {
	struct igdd_ctx *ctx;
	struct http *srv;		/* its own server, or the UPnP one */
	bool own;
	struct in_addr addr;		/* admin_listen's address; 0 = every LAN address */
	uint16_t port;
	struct admin_auth auth;
	struct admin_hold *holds;
	unsigned n_polls;
	struct loop_timer wake;		/* the store changed: answer the polls */
	struct admin_host *hosts;	/* from admin_dhcp_leases */
	size_t n_hosts;
	uint64_t hosts_checked;		/* monotonic ms */
	struct stat hosts_st;		/* the file as last read */
	uint64_t logins, failures;
};

/* One request's context, as every handler needs it. */
struct areq {
	struct admin *a;
	struct http_conn *c;
	const struct http_request *req;
	struct in6_addr peer;
	char who[INET6_ADDRSTRLEN];
	uint64_t now;
	struct admin_session *s;	/* NULL: not logged in */
};

/* ---------------------------------------------------------------- answers */

static void
answer_take(struct http_conn *c, int status, const char *extra, const char *type, char *body,
	    size_t len)
{
	char h[1280];

	if (str_printf(h, sizeof(h), SECURITY_HEADERS "%s", extra != NULL ? extra : NO_STORE) < 0) {
		free(body);
		http_reply_error(c, 500, NULL);
		return;
	}
	http_reply_take(c, status, h, type, body, len);
}

static void
answer(struct http_conn *c, int status, const char *extra, const char *type, const char *body,
       size_t len)
{
	char *copy = NULL;

	if (len > 0 && (copy = malloc(len)) == NULL) {
		http_reply_error(c, 500, NULL);
		return;
	}
	if (len > 0)
		memcpy(copy, body, len);
	answer_take(c, status, extra, type, copy, len);
}

static void
answer_json(struct http_conn *c, int status, const char *extra, struct json_out *o)
{
	if (o->failed) {
		json_out_free(o);
		answer(c, 500, NULL, NULL, NULL, 0);
		return;
	}
	answer_take(c, status, extra, JSON_TYPE, o->p, o->len);
	o->p = NULL;
}

/* {"ok":false,"error":msg} */
static void
answer_error(struct http_conn *c, int status, const char *extra, const char *msg)
{
	struct json_out o = { 0 };

	json_obj_begin(&o);
	json_kv_bool(&o, "ok", false);
	json_kv_str(&o, "error", msg);
	json_obj_end(&o);
	answer_json(c, status, extra, &o);
}

static void
answer_ok(struct http_conn *c)
{
	static const char ok[] = "{\"ok\":true}";

	answer(c, 200, NULL, JSON_TYPE, ok, sizeof(ok) - 1);
}

static void
redirect(struct http_conn *c, const char *to, const char *cookie)
{
	char extra[256];

	/* cookie: the session's id, or "" to end it */
	if (str_printf(extra, sizeof(extra), NO_STORE "Location: %s\r\n%s%s%s%s", to,
		       cookie != NULL ? "Set-Cookie: " ADMIN_COOKIE "=" : "",
		       cookie != NULL ? cookie : "", cookie != NULL ? COOKIE_ATTRS : "",
		       cookie == NULL ? "" : cookie[0] != '\0' ? "\r\n" : "; Max-Age=0\r\n") < 0) {
		http_reply_error(c, 500, NULL);
		return;
	}
	answer(c, 303, extra, NULL, NULL, 0);
}

static const struct admin_asset *
asset_find(const char *name)
{
	const struct admin_asset *f;

	for (f = admin_assets; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

/* A file of the page: its gzip form to a browser that takes it, 304 when
 * the browser's copy is the same. */
static void
serve_asset(const struct areq *r, const char *name, const char *cache)
{
	const struct admin_asset *f = asset_find(name);
	const struct http_request *req = r->req;
	bool gz;
	char etag[64], extra[512], *text;

	if (f == NULL) {
		http_reply_error(r->c, 404, NULL);
		return;
	}
	gz = f->gz != NULL && req->accept_encoding.present &&
	     admin_accepts_gzip(req->accept_encoding.p, req->accept_encoding.len);
	if (str_printf(etag, sizeof(etag), "\"%s%s\"", f->etag, gz ? "-gz" : "") < 0 ||
	    str_printf(extra, sizeof(extra), "%sETag: %s\r\n%s%s", cache, etag,
		       f->gz != NULL ? "Vary: Accept-Encoding\r\n" : "",
		       gz ? "Content-Encoding: gzip\r\n" : "") < 0) {
		http_reply_error(r->c, 500, NULL);
		return;
	}
	if (req->if_none_match.present &&
	    admin_etag_match(req->if_none_match.p, req->if_none_match.len, etag))
		answer(r->c, 304, extra, NULL, NULL, 0);
	else if (gz)
		answer(r->c, 200, extra, f->type, (const char *)f->gz, f->gz_len);
	else if ((text = inflate_text_dup(f->data, f->gz, f->gz_len, f->len)) != NULL)
		answer_take(r->c, 200, extra, f->type, text, f->len);
	else
		http_reply_error(r->c, 500, NULL);
}

/* text HTML-escaped onto o (a plain buffer). */
static void
html_escape(struct json_out *o, const char *text)
{
	const char *p;

	for (p = text; *p != '\0'; p++) {
		const char *rep = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;" :
				  *p == '"' ? "&quot;" : *p == '\'' ? "&#39;" : NULL;

		json_raw(o, rep != NULL ? rep : p, rep != NULL ? strlen(rep) : 1);
	}
}

/* The login page with msg (escaped) where it says @MESSAGE@. */
static void
login_page(struct http_conn *c, int status, const char *extra, const char *msg)
{
	static const char mark[] = "@MESSAGE@";
	const struct admin_asset *f = asset_find("login.html");
	char *text = f != NULL ? inflate_text_dup(f->data, f->gz, f->gz_len, f->len) : NULL;
	const char *at = text != NULL ? strstr(text, mark) : NULL;
	struct json_out o = { 0 };

	if (at == NULL) {
		free(text);
		http_reply_error(c, 500, NULL);
		return;
	}
	json_raw(&o, text, (size_t)(at - text));
	html_escape(&o, msg);
	json_raw(&o, at + sizeof(mark) - 1, f->len - (size_t)(at - text) - (sizeof(mark) - 1));
	free(text);
	if (o.failed) {
		json_out_free(&o);
		http_reply_error(c, 500, NULL);
		return;
	}
	answer_take(c, status, extra, HTML_TYPE, o.p, o.len);
}

/* ---------------------------------------------------------------- requests */

/* Is it a form post ("application/x-www-form-urlencoded[; ...]")? */
static bool
is_form(const struct http_request *req)
{
	static const char type[] = "application/x-www-form-urlencoded";
	const struct http_hdr *h = &req->content_type;
	size_t n = sizeof(type) - 1;

	return h->present && h->len >= n && mem_ieq(h->p, n, type) &&
	       (h->len == n || h->p[n] == ';' || h->p[n] == ' ' || h->p[n] == '\t');
}

/* A change from a browser must come from this page: Sec-Fetch-Site,
 * else Origin, else Referer, when the browser sends them (a script
 * without them still needs the CSRF token). */
static bool
same_origin(const struct http_request *req)
{
	const struct http_hdr *f = &req->sec_fetch_site;

	if (f->present && !mem_ieq(f->p, f->len, "same-origin") && !mem_ieq(f->p, f->len, "none"))
		return false;
	if (req->origin.present)
		return admin_same_origin(req->origin.p, req->origin.len, req->host.p, req->host.len,
					 false);
	if (req->referer.present)
		return admin_same_origin(req->referer.p, req->referer.len, req->host.p,
					 req->host.len, true);
	return true;
}

/* The session of the request's cookie (any of its igdd_sid values). */
static struct admin_session *
find_session(struct admin *a, const struct http_request *req, const struct in6_addr *peer,
	     uint64_t now, bool touch)
{
	struct admin_session *s;
	const char *v;
	size_t pos = 0, vl;

	if (!req->cookie.present)
		return NULL;
	while (admin_cookie_next(req->cookie.p, req->cookie.len, &pos, ADMIN_COOKIE, &v, &vl))
		if ((s = admin_session_find(&a->auth, v, vl, peer, now, touch)) != NULL)
			return s;
	return NULL;
}

/* What every handler does first: the page is served at this address, the
 * request names its host and, for a change, comes from this page; the
 * session of its cookie.  touch: the person's own request (not the page's
 * background updates).  false when answered already. */
static bool
begin(struct http_conn *c, const struct http_request *req, struct areq *r, bool touch)
{
	struct admin *a = http_conn_ctx(c)->admin;
	struct in6_addr local, want;

	memset(r, 0, sizeof(*r));
	addr_from_v4(&want, a != NULL ? a->addr : (struct in_addr){ 0 });
	if (a == NULL || (a->addr.s_addr != 0 && (http_conn_local_addr(c, &local) < 0 ||
						  !addr_eq(&local, &want)))) {
		http_reply_error(c, 404, NULL);
		return false;
	}
	r->a = a;
	r->c = c;
	r->req = req;
	r->now = time_mono_ms();
	http_conn_peer_addr(c, &r->peer);
	addr_str(&r->peer, r->who, sizeof(r->who));
	/* http.c refused a Host that names another host (DNS rebinding);
	 * none at all is refused here */
	if (!req->host.present) {
		answer_error(c, 400, NULL, "a Host header is needed");
		return false;
	}
	if (req->method == HTTP_M_POST && !same_origin(req)) {
		log_debug("admin: a POST from another site refused (%s)", r->who);
		answer_error(c, 403, NULL, "refused: the request comes from another site");
		return false;
	}
	r->s = find_session(a, req, &r->peer, r->now, touch);
	return true;
}

/* The form of a POST into form (its strings in *buf, to free).  0, or -1
 * when answered (415, 400). */
static int
read_form(const struct areq *r, struct admin_form *form, char **buf, size_t *bufsize)
{
	char err[128];

	*buf = NULL;
	if (!is_form(r->req)) {
		answer_error(r->c, 415, NULL, "a form (application/x-www-form-urlencoded) is expected");
		return -1;
	}
	*bufsize = r->req->body_len + 2;
	if ((*buf = malloc(*bufsize)) == NULL) {
		answer_error(r->c, 500, NULL, "out of memory");
		return -1;
	}
	if (admin_form_parse(r->req->body, r->req->body_len, *buf, *bufsize, form, err,
			     sizeof(err)) < 0) {
		free(*buf);
		*buf = NULL;
		answer_error(r->c, 400, NULL, err);
		return -1;
	}
	return 0;
}

static void
form_free(char *buf, size_t size)
{
	if (buf != NULL)
		explicit_bzero(buf, size);
	free(buf);
}

/* The change carries the session's CSRF token: the header X-CSRF-Token,
 * or else the form field csrf. */
static bool
csrf_ok(const struct areq *r, const struct admin_form *form)
{
	const struct http_hdr *h = &r->req->csrf_token;
	const struct admin_field *f;

	if (h->present)
		return admin_ct_eq(h->p, h->len, r->s->csrf, ADMIN_ID_HEX);
	f = form != NULL ? admin_form_get(form, "csrf") : NULL;
	return f != NULL && admin_ct_eq(f->value, f->len, r->s->csrf, ADMIN_ID_HEX);
}

static void
refuse_csrf(const struct areq *r)
{
	log_debug("admin: a change without the page's token refused (%s)", r->who);
	answer_error(r->c, 403, NULL, "refused: the page's token (csrf) is missing or wrong; "
		     "reload the page");
}

/* ---------------------------------------------------------------- held answers */

static void hold_fire(struct loop_timer *t);

static void
hold_free(struct admin_hold *h)
{
	struct admin *a = h->a;

	loop_timer_cancel(&a->ctx->loop, &h->timer);
	DLIST_UNLINK(&a->holds, (struct admin_hold **)NULL, h);
	if (h->kind == HOLD_POLL)
		a->n_polls--;
	free(h);
}

/* The connection went (the client left, the server stops). */
static void
hold_abort(void *arg)
{
	hold_free(arg);
}

/* Hold c's answer for ms; NULL (answer now) when memory is short. */
static struct admin_hold *
hold_new(struct admin *a, struct http_conn *c, enum hold_kind kind, uint64_t ms)
{
	struct admin_hold *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->a = a;
	h->c = c;
	h->kind = kind;
	h->timer.cb = hold_fire;
	DLIST_PUSH_HEAD(&a->holds, (struct admin_hold **)NULL, h);
	if (kind == HOLD_POLL)
		a->n_polls++;
	/* the server's own limit comes later than ours */
	http_hold(c, ms + 5000, hold_abort, h);
	loop_timer_set(&a->ctx->loop, &h->timer, ms);
	return h;
}

/* ---------------------------------------------------------------- host names */

static void
host_add(void *arg, const struct in6_addr *addr, const char *name)
{
	struct admin *a = arg;

	if (a->n_hosts < ADMIN_HOSTS_MAX) {
		a->hosts[a->n_hosts].addr = *addr;
		(void)str_copy(a->hosts[a->n_hosts].name, ADMIN_HOSTNAME_MAX, name);
		a->n_hosts++;
	}
}

/* The file's content, malloc'd, NUL-terminated; NULL when it cannot be
 * read (or is larger than ADMIN_LEASES_FILE_MAX). */
static char *
read_small_file(const char *path, size_t *len)
{
	char *buf = malloc(ADMIN_LEASES_FILE_MAX + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	ssize_t n = 0;

	*len = 0;
	if (buf == NULL || fd < 0) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	while (*len < ADMIN_LEASES_FILE_MAX &&
	       (n = read(fd, buf + *len, ADMIN_LEASES_FILE_MAX - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[*len] = '\0';
	return buf;
}

/* Read admin_dhcp_leases again if it changed (looked at every
 * ADMIN_HOSTS_CHECK_MS at most). */
static void
hosts_refresh(struct admin *a, uint64_t now)
{
	const char *path = a->ctx->cfg.admin_dhcp_leases;
	struct stat st;
	char *buf;
	size_t len;

	if (path[0] == '\0' || (a->hosts_checked != 0 && now - a->hosts_checked < ADMIN_HOSTS_CHECK_MS))
		return;
	a->hosts_checked = now;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		a->n_hosts = 0;
		memset(&a->hosts_st, 0, sizeof(a->hosts_st));
		return;
	}
	if (st.st_ino == a->hosts_st.st_ino && st.st_size == a->hosts_st.st_size &&
	    st.st_mtim.tv_sec == a->hosts_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == a->hosts_st.st_mtim.tv_nsec)
		return;
	a->hosts_st = st;
	a->n_hosts = 0;
	if (a->hosts == NULL && (a->hosts = calloc(ADMIN_HOSTS_MAX, sizeof(*a->hosts))) == NULL)
		return;
	if ((buf = read_small_file(path, &len)) == NULL) {
		log_debug("admin: %s: %s", path, strerror(errno));
		return;
	}
	admin_leases_parse(buf, len, host_add, a);
	free(buf);
}

/* Member "hosts": {"address": "name", ...} */
static void
hosts_json(struct admin *a, struct json_out *o, uint64_t now)
{
	char s[INET6_ADDRSTRLEN];
	size_t k;

	hosts_refresh(a, now);
	json_key(o, "hosts");
	json_obj_begin(o);
	for (k = 0; k < a->n_hosts; k++) {
		json_key(o, addr_str(&a->hosts[k].addr, s, sizeof(s)));
		json_str(o, a->hosts[k].name);
	}
	json_obj_end(o);
}

/* ---------------------------------------------------------------- state */

/* Everything the page shows: the mappings (the control socket's "list"),
 * the host names, the status and the counters, and the session's token. */
static void
answer_state(struct admin *a, struct http_conn *c, const struct admin_session *s, uint64_t now)
{
	struct igdd_ctx *ctx = a->ctx;
	struct stats_snapshot st;
	struct json_out o = { .max = 64u << 20 };

	json_obj_begin(&o);
	json_kv_bool(&o, "ok", true);
	json_kv_u64(&o, "generation", store_generation(ctx->store));
	json_kv_str(&o, "csrf", s->csrf);
	control_list(ctx, &o);
	hosts_json(a, &o, now);
	json_key(&o, "status");
	json_obj_begin(&o);
	control_status(ctx, &o);
	json_obj_end(&o);
	stats_gather(ctx, &st);
	json_key(&o, "stats");
	json_obj_begin(&o);
	stats_json(&st, &o);
	json_obj_end(&o);
	json_obj_end(&o);
	answer_json(c, 200, NULL, &o);
}

/* A held state request: answered with what is now, if its session lives. */
static void
poll_answer(struct admin_hold *h)
{
	struct admin *a = h->a;
	uint64_t now = time_mono_ms();
	struct admin_session *s = admin_session_find(&a->auth, h->sid, strlen(h->sid), &h->peer,
						     now, false);

	if (s == NULL)
		answer_error(h->c, 401, NULL, "login required");
	else
		answer_state(a, h->c, s, now);
}

static void
hold_fire(struct loop_timer *t)
{
	struct admin_hold *h = container_of(t, struct admin_hold, timer);

	if (h->kind == HOLD_POLL)
		poll_answer(h);
	else
		login_page(h->c, 401, NO_STORE, "Wrong password.");
	hold_free(h);
}

/* The store changed (ADMIN_WAKE_MS ago): every held state request gets
 * its answer. */
static void
wake_fire(struct loop_timer *t)
{
	struct admin *a = container_of(t, struct admin, wake);
	struct admin_hold *h, *next;

	for (h = a->holds; h != NULL; h = next) {
		next = h->next;
		if (h->kind == HOLD_POLL) {
			poll_answer(h);
			hold_free(h);
		}
	}
}

static void
store_changed(void *arg, const struct store_change *ch)
{
	struct admin *a = ((struct igdd_ctx *)arg)->admin;

	if (a != NULL && STORE_EV_IS_CHANGE(ch->ev) && a->n_polls > 0 &&
	    !loop_timer_pending(&a->wake))
		loop_timer_set(&a->ctx->loop, &a->wake, ADMIN_WAKE_MS);
}

/* GET /api/state[?since=GEN]: at once, or when the mappings' generation
 * moves past GEN (ADMIN_POLL_MS at most). */
static void
route_state(struct http_conn *c, const struct http_request *req, const void *arg)
{
	struct admin_hold *h;
	struct areq r;
	uint64_t since;
	bool wait = admin_query_u64(req->path, req->path_len, "since", &since);

	(void)arg;
	if (!begin(c, req, &r, !wait))
		return;
	if (r.s == NULL) {
		answer_error(c, 401, NULL, "login required");
		return;
	}
	if (wait && since == store_generation(r.a->ctx->store) && r.a->n_polls < ADMIN_POLLS_MAX &&
	    (h = hold_new(r.a, c, HOLD_POLL, ADMIN_POLL_MS)) != NULL) {
		memcpy(h->sid, r.s->id, sizeof(h->sid));
		h->peer = r.peer;
		return;
	}
	answer_state(r.a, c, r.s, r.now);
}

/* ---------------------------------------------------------------- pages */

/* GET /: the page, or the way to the login. */
static void
route_root(struct http_conn *c, const struct http_request *req, const void *arg)
{
	struct areq r;

	(void)arg;
	if (!begin(c, req, &r, true))
		return;
	if (r.s == NULL)
		redirect(c, "/login", NULL);
	else
		serve_asset(&r, "index.html", NO_STORE);
}

/* GET /admin.css, /admin.js: no secret in them, no session needed. */
static void
route_asset(struct http_conn *c, const struct http_request *req, const void *arg)
{
	struct areq r;

	if (begin(c, req, &r, false))
		serve_asset(&r, arg, REVALIDATE);
}

static void
login_ok(struct areq *r)
{
	struct admin_session *s = admin_session_new(&r->a->auth, &r->peer, r->now);

	if (s == NULL) {
		login_page(r->c, 500, NULL, "The gateway has no random numbers for a session.");
		return;
	}
	admin_login_succeeded(&r->a->auth, &r->peer);
	r->a->logins++;
	log_info("admin: %s logged in", r->who);
	redirect(r->c, "/", s->id);
}

static void
login_failed(struct areq *r)
{
	uint32_t fails, refused;
	uint64_t delay = admin_login_failed(&r->a->auth, &r->peer, r->now, &fails, &refused);
	char more[96] = "", next[64] = "";

	r->a->failures++;
	if (refused > 0)
		(void)str_printf(more, sizeof(more), "; %u attempt(s) refused unchecked meanwhile",
				 refused);
	if (delay > 0)
		(void)str_printf(next, sizeof(next), "; its next attempt is checked in %llu s",
				 (unsigned long long)((delay + 999) / 1000));
	log_info("admin: wrong password from %s (%u in a row%s)%s", r->who, fails, more, next);
	if (delay == 0 || hold_new(r->a, r->c, HOLD_LOGIN,
				   delay < ADMIN_HOLD_MAX_MS ? delay : ADMIN_HOLD_MAX_MS) == NULL)
		login_page(r->c, 401, NULL, "Wrong password.");
}

static void
login_post(struct areq *r)
{
	struct admin_form form;
	const struct admin_field *pw;
	char *buf, msg[128], extra[64];
	size_t size;
	uint64_t wait;

	if (read_form(r, &form, &buf, &size) < 0)
		return;
	pw = admin_form_get(&form, "password");
	switch (admin_login_gate(&r->a->auth, &r->peer, r->now, &wait)) {
	case ADMIN_GATE_WAIT:
		(void)str_printf(msg, sizeof(msg), "Too many wrong passwords from this address: "
				 "try again in %llu s.", (unsigned long long)((wait + 999) / 1000));
		(void)str_printf(extra, sizeof(extra), NO_STORE "Retry-After: %llu\r\n",
				 (unsigned long long)((wait + 999) / 1000));
		login_page(r->c, 429, extra, msg);
		break;
	case ADMIN_GATE_BUSY:
		login_page(r->c, 503, NO_STORE "Retry-After: 1\r\n",
			   "The gateway is busy checking passwords: try again in a moment.");
		break;
	case ADMIN_GATE_CHECK:
		if (pw != NULL && admin_auth_password_ok(&r->a->auth, pw->value, pw->len))
			login_ok(r);
		else
			login_failed(r);
		break;
	}
	form_free(buf, size);
}

/* GET /login: the form (or the page, when logged in); POST: the login. */
static void
route_login(struct http_conn *c, const struct http_request *req, const void *arg)
{
	struct areq r;

	(void)arg;
	if (!begin(c, req, &r, false))
		return;
	if (req->method == HTTP_M_POST)
		login_post(&r);
	else if (r.s != NULL)
		redirect(c, "/", NULL);
	else
		login_page(c, 200, NULL, "");
}

/* POST /logout (with the CSRF token): the session ends, the cookie goes. */
static void
route_logout(struct http_conn *c, const struct http_request *req, const void *arg)
{
	struct admin_form form;
	struct areq r;
	char *buf = NULL;
	size_t size = 0;

	(void)arg;
	if (!begin(c, req, &r, false))
		return;
	if (r.s != NULL) {
		if (is_form(req) && read_form(&r, &form, &buf, &size) < 0)
			return;
		if (!csrf_ok(&r, buf != NULL ? &form : NULL)) {
			form_free(buf, size);
			refuse_csrf(&r);
			return;
		}
		form_free(buf, size);
		admin_session_end(r.s);
		log_info("admin: %s logged out", r.who);
	}
	redirect(c, "/login", "");
}

/* ---------------------------------------------------------------- changes */

/* {"ok":false,"error":...,"errors":{"field":"message",...}} */
static void
answer_form_errors(struct http_conn *c, int status, const struct admin_errors *e)
{
	struct json_out o = { 0 };
	unsigned k;

	json_obj_begin(&o);
	json_kv_bool(&o, "ok", false);
	json_kv_str(&o, "error", e->form[0] != '\0' ? e->form : "Some fields need a fix.");
	json_key(&o, "errors");
	json_obj_begin(&o);
	for (k = 0; k < AF_COUNT; k++)
		if (e->field[k][0] != '\0')
			json_kv_str(&o, admin_fld_name((enum admin_fld)k), e->field[k]);
	json_obj_end(&o);
	json_obj_end(&o);
	answer_json(c, status, NULL, &o);
}

/* The field a refusal of the store is about. */
static enum admin_fld
refusal_field(enum store_result r)
{
	switch (r) {
	case ST_E_CONFLICT:
	case ST_E_PORT_IN_USE:
	case ST_E_NOT_OWNER:
	case ST_E_PERMISSION:
		return AF_EXTERNAL_PORT;
	case ST_E_NOT_LAN:
	case ST_E_SECURE:
		return AF_INTERNAL_CLIENT;
	default:
		return AF_COUNT;
	}
}

/* A session, a form, its token: the start of every change.  0, or -1
 * when answered. */
static int
change_begin(struct areq *r, struct admin_form *form, char **buf, size_t *size)
{
	if (r->s == NULL) {
		answer_error(r->c, 401, NULL, "login required");
		return -1;
	}
	if (read_form(r, form, buf, size) < 0)
		return -1;
	if (!csrf_ok(r, form)) {
		form_free(*buf, *size);
		refuse_csrf(r);
		return -1;
	}
	return 0;
}

/* POST /api/forward: a manual forward, as igddctl add makes it. */
static void
route_forward(struct http_conn *c, const struct http_request *req, const void *arg)
{
	struct ctl_request creq;
	struct admin_errors e;
	struct admin_form form;
	struct areq r;
	enum store_result res;
	char *buf, by[INET6_ADDRSTRLEN + 16];
	size_t size;

	(void)arg;
	if (!begin(c, req, &r, true) || change_begin(&r, &form, &buf, &size) < 0)
		return;
	if (admin_forward_parse(&form, &creq, &e) < 0) {
		answer_form_errors(c, 400, &e);
	} else {
		(void)str_printf(by, sizeof(by), "admin (%s)", r.who);
		res = control_forward_add(r.a->ctx, &creq, by, NULL, e.form, sizeof(e.form));
		if (res == ST_OK) {
			answer_ok(c);
		} else {
			enum admin_fld k = refusal_field(res);

			if (k != AF_COUNT) {
				(void)str_copy(e.field[k], sizeof(e.field[k]), e.form);
				e.form[0] = '\0';
			}
			answer_form_errors(c, 409, &e);
		}
	}
	form_free(buf, size);
}

/* POST /api/delete: any mapping, as the administrator. */
static void
route_delete(struct http_conn *c, const struct http_request *req, const void *arg)
{
	struct ctl_request creq;
	struct admin_errors e;
	struct admin_form form;
	struct areq r;
	enum store_result res;
	char *buf, by[INET6_ADDRSTRLEN + 16], msg[160];
	size_t size;

	(void)arg;
	if (!begin(c, req, &r, true) || change_begin(&r, &form, &buf, &size) < 0)
		return;
	if (admin_delete_parse(&form, &creq, &e) < 0) {
		answer_form_errors(c, 400, &e);
	} else {
		(void)str_printf(by, sizeof(by), "admin (%s)", r.who);
		res = control_forward_del(r.a->ctx, &creq, by, msg, sizeof(msg));
		if (res == ST_OK)
			answer_ok(c);
		else
			answer_error(c, res == ST_E_NOT_FOUND ? 404 : 409, NULL, msg);
	}
	form_free(buf, size);
}

/* GET /metrics: igddctl metrics' text, for a session or the bearer token. */
static void
route_metrics(struct http_conn *c, const struct http_request *req, const void *arg)
{
	struct stats_snapshot st;
	struct json_out o = { 0 };
	struct areq r;
	const char *tok;
	size_t tl;
	bool ok;

	(void)arg;
	if (!begin(c, req, &r, false))
		return;
	ok = r.s != NULL ||
	     (req->authorization.present &&
	      admin_bearer(req->authorization.p, req->authorization.len, &tok, &tl) &&
	      admin_auth_token_ok(&r.a->auth, tok, tl));
	if (!ok) {
		answer_error(c, 401, NO_STORE "WWW-Authenticate: Bearer realm=\"igdd\"\r\n",
			     "log in, or send the token of admin_metrics_token_file");
		return;
	}
	stats_gather(r.a->ctx, &st);
	stats_prometheus(&st, &o);
	if (o.failed) {
		json_out_free(&o);
		http_reply_error(c, 500, NULL);
		return;
	}
	answer_take(c, 200, NULL, "text/plain; version=0.0.4; charset=utf-8", o.p, o.len);
}

/* ---------------------------------------------------------------- life */

static const struct {
	const char *path;
	unsigned methods;
	http_handler fn;
	const char *arg;
} routes[] = {
	{ "/", GET, route_root, NULL },
	{ "/login", GET | POST, route_login, NULL },
	{ "/logout", POST, route_logout, NULL },
	{ "/admin.css", GET, route_asset, "admin.css" },
	{ "/admin.js", GET, route_asset, "admin.js" },
	{ "/api/state", GET, route_state, NULL },
	{ "/api/forward", POST, route_forward, NULL },
	{ "/api/delete", POST, route_delete, NULL },
	{ "/metrics", GET, route_metrics, NULL },
};

/* The password and token files into auth.  0, or -1 with err. */
static int
read_secrets(const struct config *cfg, struct admin_auth *auth, char *err, size_t errsize)
{
	bool world;

	if (admin_auth_read_hash(cfg->admin_password_file, auth->hash, sizeof(auth->hash), &world,
				 err, errsize) < 0)
		return -1;
	if (world)
		log_warnx("admin_password_file %s: anyone may read it (chmod o-r)",
			  cfg->admin_password_file);
	auth->token[0] = '\0';
	if (cfg->admin_metrics_token_file[0] != '\0' &&
	    admin_auth_read_token(cfg->admin_metrics_token_file, auth->token, sizeof(auth->token),
				  err, errsize) < 0)
		return -1;
	return 0;
}

int
admin_init(struct igdd_ctx *ctx)
{
	const struct config *cfg = &ctx->cfg;
	struct admin *a;
	char err[CFG_STR_MAX + 128];

	if (cfg->admin_listen.port == 0)
		return 0;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	a->ctx = ctx;
	a->addr = cfg->admin_listen.addr;
	a->port = cfg->admin_listen.port;
	a->wake.cb = wake_fire;
	admin_auth_init(&a->auth, (uint64_t)cfg->admin_session_idle * 1000,
			(uint64_t)cfg->admin_session_max * 1000);
	if (read_secrets(cfg, &a->auth, err, sizeof(err)) < 0) {
		log_warnx("admin page: %s", err);
		explicit_bzero(a, sizeof(*a));
		free(a);
		return -1;
	}
	ctx->admin = a;
	return 0;
}

/* Does a LAN interface have admin_listen's address?  (Or none is named.) */
static bool
addr_served(const struct igdd_ctx *ctx, struct in_addr addr)
{
	unsigned k;

	if (addr.s_addr == 0)
		return true;
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && ctx->lan[k].addr.s_addr == addr.s_addr)
			return true;
	return false;
}

int
admin_start(struct igdd_ctx *ctx)
{
	struct admin *a = ctx->admin;
	size_t i;
	unsigned k;

	if (a == NULL)
		return 0;
	if (!addr_served(ctx, a->addr)) {
		log_warnx("admin_listen %s: not an address of a LAN interface (listening_ip)",
			  ADDR4_STR(a->addr));
		return -1;
	}
	if (ctx->http != NULL && ctx->cfg.http_port == a->port) {
		a->srv = ctx->http;	/* beside the UPnP descriptions */
	} else {
		if ((a->srv = http_server_new(ctx, a->port)) == NULL)
			return -1;
		a->own = true;
	}
	for (i = 0; i < ARRAY_SIZE(routes); i++)
		if (http_server_route_add(a->srv, routes[i].path, routes[i].methods, routes[i].fn,
					  routes[i].arg) < 0) {
			log_warnx("admin page: no room for its routes in the HTTP server");
			return -1;
		}
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone && admin_iface_setup(ctx, k) < 0)
			return -1;
	if (store_add_listener(ctx->store, store_changed, ctx) < 0)
		return -1;
	log_info("admin page on %s:%u%s", a->addr.s_addr ? ADDR4_STR(a->addr) : "every LAN address",
		 a->port, a->own ? "" : " (beside the UPnP descriptions)");
	return 0;
}

int
admin_iface_setup(struct igdd_ctx *ctx, unsigned slot)
{
	struct admin *a = ctx->admin;

	if (a == NULL || !a->own || slot >= CFG_MAX_LISTEN ||
	    (a->addr.s_addr != 0 && ctx->lan[slot].addr.s_addr != a->addr.s_addr))
		return 0;
	return http_server_iface_setup(a->srv, slot);
}

void
admin_iface_teardown(struct igdd_ctx *ctx, unsigned slot)
{
	struct admin *a = ctx->admin;

	if (a != NULL && a->own)
		http_server_iface_teardown(a->srv, slot);
}

void
admin_reconfigure(struct igdd_ctx *ctx, char *msg, size_t msgsize)
{
	struct admin *a = ctx->admin;
	struct admin_auth *fresh;
	char err[CFG_STR_MAX + 128];

	msg[0] = '\0';
	if (a == NULL)
		return;
	if (a->own)
		http_server_reconfigure(a->srv);
	a->auth.idle_ms = (uint64_t)ctx->cfg.admin_session_idle * 1000;
	a->auth.max_ms = (uint64_t)ctx->cfg.admin_session_max * 1000;
	a->hosts_checked = 0;
	memset(&a->hosts_st, 0, sizeof(a->hosts_st));
	if ((fresh = calloc(1, sizeof(*fresh))) == NULL)
		return;
	if (read_secrets(&ctx->cfg, fresh, err, sizeof(err)) < 0) {
		log_warnx("admin page: %s", err);
		(void)str_printf(msg, msgsize, "admin page: %s: the running password and token "
				 "are kept", err);
	} else {
		if (strcmp(fresh->hash, a->auth.hash) != 0) {
			admin_sessions_clear(&a->auth);
			(void)str_printf(msg, msgsize, "admin_password_file: a new password: every "
					 "session of the admin page ended");
		}
		memcpy(a->auth.hash, fresh->hash, sizeof(a->auth.hash));
		memcpy(a->auth.token, fresh->token, sizeof(a->auth.token));
	}
	explicit_bzero(fresh, sizeof(*fresh));
	free(fresh);
}

void
admin_shutdown(struct igdd_ctx *ctx)
{
	struct admin *a = ctx->admin;

	if (a == NULL)
		return;
	loop_timer_cancel(&ctx->loop, &a->wake);
	while (a->holds != NULL) {
		struct admin_hold *h = a->holds;

		http_reply_error(h->c, 503, NULL);	/* ends the server's hold */
		hold_free(h);
	}
	if (a->own)
		http_server_free(a->srv);
	log_info("admin page: %llu login(s), %llu wrong password(s)",
		 (unsigned long long)a->logins, (unsigned long long)a->failures);
	free(a->hosts);
	explicit_bzero(a, sizeof(*a));
	free(a);
	ctx->admin = NULL;
}

int
admin_check(const struct config *cfg, FILE *err)
{
	struct admin_auth *auth;
	char msg[CFG_STR_MAX + 128];
	int rc = 0;

	if (cfg->admin_listen.port == 0)
		return 0;
	if ((auth = calloc(1, sizeof(*auth))) == NULL)
		return -1;
	if (read_secrets(cfg, auth, msg, sizeof(msg)) < 0) {
		fprintf(err, "admin page: %s\n", msg);
		rc = -1;
	}
	explicit_bzero(auth, sizeof(*auth));
	free(auth);
	return rc;
}
