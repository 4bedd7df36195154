/* maplog.c - the operator's log of port mappings (see maplog.h). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ctx.h"
#include "log.h"
#include "maplog.h"
#include "ratelimit.h"
#include "store.h"
#include "util.h"

#define MAPLOG_DESC_MAX	96	/* bytes of a description in a line */

struct maplog {
	struct igdd_ctx *ctx;
	struct rl rl;
	uint64_t lines, left_out;
};

static const char *
owner_name(const struct mapping *m)
{
	if (m->owner == NULL)
		return "?";
	switch (m->owner->proto) {
	case OWNER_STATIC: return "static";
	case OWNER_UPNP: return "UPnP";
	case OWNER_NATPMP: return "NAT-PMP";
	case OWNER_PCP: return "PCP";
	}
	return "?";
}

/* d, cut to MAPLOG_DESC_MAX bytes (on a UTF-8 boundary), quoted for a
 * log line: '"' and '\' escaped, control bytes as \xNN. */
static void
append_desc(char *buf, size_t size, const char *d)
{
	size_t n = strlen(d), i;

	if (n > MAPLOG_DESC_MAX) {
		n = MAPLOG_DESC_MAX;
		while (n > 0 && ((unsigned char)d[n] & 0xc0) == 0x80)
			n--;
	}
	(void)str_appendf(buf, size, ", \"");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '"' || c == '\\')
			(void)str_appendf(buf, size, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			(void)str_appendf(buf, size, "\\x%02x", c);
		else
			(void)str_appendf(buf, size, "%c", c);
	}
	(void)str_appendf(buf, size, "%s\"", n < strlen(d) ? "..." : "");
}

/* A line's end: lifetime, requester, description, reason. */
static size_t
tail_format(char *buf, size_t size, bool show_lifetime, uint32_t lifetime,
	    const struct in6_addr *by, const char *desc, const char *why)
{
	char a[INET6_ADDRSTRLEN];

	if (show_lifetime && lifetime != 0)
		(void)str_appendf(buf, size, ", %u s", (unsigned)lifetime);
	else if (show_lifetime)
		(void)str_appendf(buf, size, ", permanent");
	if (by != NULL)
		(void)str_appendf(buf, size, ", by %s", addr_str(by, a, sizeof(a)));
	if (desc != NULL)
		append_desc(buf, size, desc);
	if (why != NULL)
		(void)str_appendf(buf, size, ": %s", why);
	return strlen(buf);
}

/* An IPv6 pinhole: "pinhole ..." for "mapping ...", its UniqueID (not an
 * external address and port: no NAT), the remote side, the client. */
static size_t
pinhole_format(char *buf, size_t size, const char *what, const struct mapping *m,
	       bool show_lifetime, uint32_t lifetime, const struct in6_addr *by, const char *why)
{
	bool rh = m->rhost != NULL && !addr_is_any(m->rhost);
	char a[INET6_ADDRSTRLEN], d[MAPPING_DESC_GEN_MAX];

	if (strncmp(what, "mapping", 7) == 0)
		(void)str_appendf(buf, size, "pinhole%s", what + 7);
	else
		(void)str_appendf(buf, size, "%s", what);
	(void)str_appendf(buf, size, ": %s %s pinhole %u", owner_name(m), proto_name(m->proto),
			  m->uid);
	if (rh)
		(void)str_appendf(buf, size, " from [%s]", addr_str(m->rhost, a, sizeof(a)));
	else if (m->rport != 0)
		(void)str_appendf(buf, size, " from *");
	if (m->rport != 0)
		(void)str_appendf(buf, size, ":%u", m->rport);
	else if (rh)
		(void)str_appendf(buf, size, ":*");
	(void)str_appendf(buf, size, " -> [%s]:%u", addr_str(m->iaddr, a, sizeof(a)), m->iport);
	return tail_format(buf, size, show_lifetime, lifetime, by, mapping_desc(m, d), why);
}

size_t
maplog_format(char *buf, size_t size, const char *what, const struct mapping *m,
	      struct in_addr ext, bool show_lifetime, uint32_t lifetime,
	      const struct in6_addr *by, const char *why)
{
	char a[INET6_ADDRSTRLEN], d[MAPPING_DESC_GEN_MAX];

	if (size == 0)
		return 0;
	buf[0] = '\0';
	if (m->iaddr != NULL && mapping_is_pinhole(m))
		return pinhole_format(buf, size, what, m, show_lifetime, lifetime, by, why);
	(void)str_appendf(buf, size, "%s: %s %s %s:%u", what, owner_name(m), proto_name(m->proto),
			  ext.s_addr != 0 ? addr4_str(ext, a, sizeof(a)) : "*", m->eport);
	if (m->rhost != NULL && !addr_is_any(m->rhost))
		(void)str_appendf(buf, size, " from %s", addr_str(m->rhost, a, sizeof(a)));
	(void)str_appendf(buf, size, " -> %s:%u",
			  m->iaddr != NULL ? addr_str(m->iaddr, a, sizeof(a)) : "?", m->iport);
	return tail_format(buf, size, show_lifetime, lifetime, by, mapping_desc(m, d), why);
}


/* One line, unless its requester (or, for what the daemon did itself,
 * the internal client) is over its rate; what was left out is said
 * first. */
static void
emit(struct maplog *ml, const char *what, const struct mapping *m, bool show_lifetime,
     uint32_t lifetime, const struct in6_addr *by, const char *why)
{
	const struct in6_addr *key = by != NULL ? by : m->iaddr != NULL ? m->iaddr : &in6addr_any;
	uint32_t left_out = 0;
	char line[768], a[INET6_ADDRSTRLEN];

	if (rl_take(&ml->rl, key, 1, time_mono_ms(), &left_out) == 0) {
		ml->left_out++;
		return;
	}
	if (left_out > 0)
		log_info("mapping log: %u line(s) about %s left out (more than %d at once, then %d "
			 "a second)", (unsigned)left_out, addr_str(key, a, sizeof(a)), MAPLOG_BURST,
			 MAPLOG_RATE);
	maplog_format(line, sizeof(line), what, m, ml->ctx->ext_addr, show_lifetime, lifetime, by,
		      why);
	log_info("%s", line);
	ml->lines++;
}

static void
store_changed(void *arg, const struct store_change *ch)
{
	struct maplog *ml = arg;
	char line[768];

	switch (ch->ev) {
	case STORE_EV_ADDED:
		emit(ml, "mapping created", ch->m, true, ch->lifetime, ch->by, NULL);
		break;
	case STORE_EV_CHANGED:
		emit(ml, "mapping changed", ch->m, true, ch->lifetime, ch->by, NULL);
		break;
	case STORE_EV_RENEWED:
		/* The usual refresh: only at -v, and not rate-limited. */
		if (log_debug_on()) {
			maplog_format(line, sizeof(line), "mapping renewed", ch->m, ml->ctx->ext_addr,
				      true, ch->lifetime, ch->by, NULL);
			log_debug("%s", line);
		}
		break;
	case STORE_EV_DELETED:
		emit(ml, "mapping deleted", ch->m, false, 0, ch->by, NULL);
		break;
	case STORE_EV_EXPIRED:
		emit(ml, "mapping expired", ch->m, false, 0, NULL, NULL);
		break;
	case STORE_EV_IDLE:
		emit(ml, "mapping removed (idle)", ch->m, false, 0, NULL, NULL);
		break;
	case STORE_EV_POLICY:
		emit(ml, "mapping removed (reload)", ch->m, false, 0, NULL, store_strerror(ch->why));
		break;
	case STORE_EV_REFUSED:
		emit(ml, "mapping refused", ch->m, true, ch->lifetime, ch->by, store_strerror(ch->why));
		break;
	case STORE_EV_DEL_REFUSED:
		emit(ml, "mapping deletion refused", ch->m, false, 0, ch->by,
		     store_strerror(ch->why));
		break;
	}
}

void
maplog_refused(struct igdd_ctx *ctx, const struct mapping *m, const struct in6_addr *by,
	       uint32_t lifetime, bool deletion, const char *why)
{
	struct mapping clean = *m;
	char desc[MAPPING_DESC_MAX];

	if (ctx->maplog == NULL)
		return;
	/* A description as the client sent it: the store's cleaning first. */
	if (m->desc != NULL) {
		char d[MAPPING_DESC_GEN_MAX];
		const char *t = mapping_desc(m, d);

		store_sanitize_desc(desc, sizeof(desc), t, strlen(t));
		clean.desc = desc;
	}
	if (deletion)
		emit(ctx->maplog, "mapping deletion refused", &clean, false, 0, by, why);
	else
		emit(ctx->maplog, "mapping refused", &clean, true, lifetime, by, why);
}

void
maplog_totals(const struct igdd_ctx *ctx, uint64_t *lines, uint64_t *left_out)
{
	*lines = ctx->maplog != NULL ? ctx->maplog->lines : 0;
	*left_out = ctx->maplog != NULL ? ctx->maplog->left_out : 0;
}

int
maplog_init(struct igdd_ctx *ctx)
{
	struct maplog *ml = calloc(1, sizeof(*ml));

	if (ml == NULL)
		return -1;
	ml->ctx = ctx;
	rl_init(&ml->rl, MAPLOG_RATE, MAPLOG_BURST);
	if (ctx->store != NULL && store_add_listener(ctx->store, store_changed, ml) < 0) {
		free(ml);
		return -1;
	}
	ctx->maplog = ml;
	return 0;
}

void
maplog_shutdown(struct igdd_ctx *ctx)
{
	struct maplog *ml = ctx->maplog;

	if (ml == NULL)
		return;
	if (ml->left_out > 0)
		log_info("mapping log: %llu line(s) written, %llu left out by the rate limit",
			 (unsigned long long)ml->lines, (unsigned long long)ml->left_out);
	free(ml);
	ctx->maplog = NULL;
}
