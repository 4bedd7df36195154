/* control.c - the control socket (see control.h): requests parsed by a
 * pure function, answered through the store; clients non-blocking in the
 * event loop, each with bounded input, its answer queued, and a deadline
 * for progress, so that a slow, silent or greedy client costs the daemon
 * nothing but its own connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "ctx.h"
#include "fw.h"
#include "json.h"
#include "log.h"
#include "stats.h"
#include "store.h"
#include "stun.h"
#include "upstream.h"
#include "util.h"

/* ------------------------------------------------------------ requests */

static const char *const cmd_names[CTL_CMD_COUNT] = {
	[CTL_LIST] = "list", [CTL_ADD] = "add", [CTL_DEL] = "del", [CTL_FLUSH] = "flush",
	[CTL_STATS] = "stats", [CTL_METRICS] = "metrics", [CTL_STATUS] = "status",
	[CTL_RELOAD] = "reload",
};

/* Members each command needs, and those it takes besides. */
static const struct {
	unsigned required, optional;
} cmd_fields[CTL_CMD_COUNT] = {
	[CTL_ADD] = { CTL_F_PROTO | CTL_F_EPORT | CTL_F_IADDR | CTL_F_IPORT,
		      CTL_F_DESC | CTL_F_LEASE | CTL_F_RHOST },
	/* a mapping's protocol and external port, or a pinhole's UniqueID
	 * (check_fields()) */
	[CTL_DEL] = { 0, CTL_F_PROTO | CTL_F_EPORT | CTL_F_RHOST | CTL_F_UID },
	[CTL_FLUSH] = { 0, CTL_F_SOURCE },
};

enum member_type { M_INT, M_STR };

static const struct {
	const char *name;
	unsigned bit;
	enum member_type type;
} members[] = {
	{ "protocol", CTL_F_PROTO, M_STR },
	{ "external_port", CTL_F_EPORT, M_INT },
	{ "internal_client", CTL_F_IADDR, M_STR },
	{ "internal_port", CTL_F_IPORT, M_INT },
	{ "description", CTL_F_DESC, M_STR },
	{ "lease", CTL_F_LEASE, M_INT },
	{ "remote_host", CTL_F_RHOST, M_STR },
	{ "source", CTL_F_SOURCE, M_STR },
	{ "unique_id", CTL_F_UID, M_INT },
};
/* "v" and "cmd" take the two bits above the members'. */
#define CTL_F_V		0x200
#define CTL_F_CMD	0x400

static int
ipv4_member(const char *s, bool empty_ok, struct in6_addr *out)
{
	struct in_addr a;

	memset(out, 0, sizeof(*out));
	if (empty_ok && s[0] == '\0')
		return 0;
	if (inet_pton(AF_INET, s, &a) != 1 || a.s_addr == 0)
		return -1;
	addr_from_v4(out, a);
	return 0;
}

/* One member's value (the reader just returned it) into req. */
static int
set_member(struct ctl_request *req, size_t k, const struct json_rd *rd, char *err, size_t errsize)
{
	const char *name = members[k].name, *s = rd->str;
	int64_t v = rd->num;

	switch (members[k].bit) {
	case CTL_F_PROTO:
		if (proto_parse(s, &req->proto) == 0)
			return 0;
		break;
	case CTL_F_EPORT:
	case CTL_F_IPORT:
	case CTL_F_UID:
		if (v >= 1 && v <= 65535) {
			*(members[k].bit == CTL_F_EPORT ? &req->eport :
			  members[k].bit == CTL_F_IPORT ? &req->iport : &req->uid) = (uint16_t)v;
			return 0;
		}
		break;
	case CTL_F_IADDR:
		if (ipv4_member(s, false, &req->iaddr) == 0)
			return 0;
		break;
	case CTL_F_RHOST:
		if (ipv4_member(s, true, &req->rhost) == 0)
			return 0;
		break;
	case CTL_F_DESC:
		if (str_copy(req->desc, sizeof(req->desc), s) == 0)
			return 0;
		str_printf(err, errsize, "description: longer than %d bytes", MAPPING_DESC_MAX - 1);
		return -1;
	case CTL_F_LEASE:
		if (v >= 0 && v <= CTL_LEASE_MAX) {
			req->lease = (uint32_t)v;
			return 0;
		}
		break;
	case CTL_F_SOURCE:
		if (stats_source_parse(s, &req->source) == 0)
			return 0;
		break;
	}
	if (members[k].type == M_STR)
		str_printf(err, errsize, "%s: '%.64s' is not valid here", name, s);
	else
		str_printf(err, errsize, "%s: %lld is out of range", name, (long long)v);
	return -1;
}

static int
set_head(struct ctl_request *req, bool is_v, const struct json_rd *rd, char *err, size_t errsize)
{
	size_t k;

	if (is_v) {
		if (rd->num == CTL_VERSION)
			return 0;
		str_printf(err, errsize, "unsupported protocol version %lld (this igdd speaks %d)",
			   (long long)rd->num, CTL_VERSION);
		return -1;
	}
	for (k = 0; k < CTL_CMD_COUNT; k++)
		if (strcmp(rd->str, cmd_names[k]) == 0) {
			req->cmd = (enum ctl_cmd)k;
			return 0;
		}
	str_printf(err, errsize, "unknown cmd '%.64s' (list, add, del, flush, stats, metrics, "
		   "status, reload)", rd->str);
	return -1;
}

/* One member: its name was just read.  The bit it set, or 0 on error. */
static unsigned
parse_member(struct json_rd *rd, struct ctl_request *req, char *err, size_t errsize)
{
	char name[32];
	bool head_v = strcmp(rd->str, "v") == 0, head_cmd = strcmp(rd->str, "cmd") == 0;
	enum member_type type = head_v ? M_INT : M_STR;
	size_t k = ARRAY_SIZE(members);
	enum json_tok t;

	(void)str_copy(name, sizeof(name), rd->str);
	if (!head_v && !head_cmd) {
		for (k = 0; k < ARRAY_SIZE(members) && strcmp(name, members[k].name) != 0; k++)
			;
		if (k == ARRAY_SIZE(members)) {
			str_printf(err, errsize, "unknown member '%.32s'", rd->str);
			return 0;
		}
		type = members[k].type;
	}
	t = json_next(rd);
	if (t == JSON_ERROR)
		return 0;
	if (type == M_INT ? t != JSON_NUMBER || !rd->num_is_int : t != JSON_STRING) {
		str_printf(err, errsize, "%s: must be %s", name,
			   type == M_INT ? "an integer" : "a string");
		return 0;
	}
	if (head_v || head_cmd)
		return set_head(req, head_v, rd, err, errsize) == 0 ? (head_v ? CTL_F_V : CTL_F_CMD)
								      : 0;
	return set_member(req, k, rd, err, errsize) == 0 ? members[k].bit : 0;
}

/* The members fit the command: what it needs is there, nothing else. */
static int
check_fields(const struct ctl_request *req, unsigned seen, char *err, size_t errsize)
{
	unsigned need = cmd_fields[req->cmd].required, ok = need | cmd_fields[req->cmd].optional;
	size_t k;

	if (req->cmd == CTL_DEL) {
		/* a pinhole by its UniqueID alone, or a mapping by its key */
		if (seen & CTL_F_UID)
			ok = CTL_F_UID;
		else
			need = CTL_F_PROTO | CTL_F_EPORT;
	}

	for (k = 0; k < ARRAY_SIZE(members); k++) {
		if ((need & members[k].bit) && !(seen & members[k].bit)) {
			str_printf(err, errsize, "%s needs '%s'", cmd_names[req->cmd], members[k].name);
			return -1;
		}
		if ((seen & members[k].bit) && !(ok & members[k].bit)) {
			str_printf(err, errsize, "'%s' does not apply to %s", members[k].name,
				   cmd_names[req->cmd]);
			return -1;
		}
	}
	return 0;
}

int
control_parse(const char *line, size_t len, struct ctl_request *req, char *err, size_t errsize)
{
	char str[CTL_LINE_MAX];
	struct json_rd rd;
	enum json_tok t;
	unsigned seen = 0, bit;

	memset(req, 0, sizeof(*req));
	err[0] = '\0';
	json_rd_init(&rd, line, len, 1, str, sizeof(str));
	if ((t = json_next(&rd)) != JSON_OBJECT) {
		if (t != JSON_ERROR)
			str_printf(err, errsize, "a request is one JSON object");
		goto bad;
	}
	while ((t = json_next(&rd)) == JSON_KEY) {
		bit = parse_member(&rd, req, err, errsize);
		if (bit == 0)
			goto bad;
		if (seen & bit) {
			str_printf(err, errsize, "a member is given twice");
			goto bad;
		}
		seen |= bit;
	}
	if (t != JSON_OBJECT_END || json_next(&rd) != JSON_END)
		goto bad;
	if (!(seen & CTL_F_V) || !(seen & CTL_F_CMD)) {
		str_printf(err, errsize, "a request needs \"v\":%d and \"cmd\"", CTL_VERSION);
		return -1;
	}
	req->fields = seen & ~(CTL_F_V | CTL_F_CMD);
	return check_fields(req, req->fields, err, errsize);
bad:
	if (err[0] == '\0')
		str_printf(err, errsize, "not JSON: %s at byte %zu", rd.err ? rd.err : "?",
			   rd.err_off);
	return -1;
}

/* ------------------------------------------------------------ answers */

static void
answer_error(struct json_out *o, const char *msg)
{
	json_obj_begin(o);
	json_kv_bool(o, "ok", false);
	json_kv_str(o, "error", msg);
	json_obj_end(o);
}

static void
answer_ok(struct json_out *o)
{
	json_obj_begin(o);
	json_kv_bool(o, "ok", true);
}

static void
mapping_json(struct json_out *o, struct igdd_ctx *ctx, const struct mapping *m,
	     const struct fw_counter *c)
{
	char a[INET6_ADDRSTRLEN], p[8], d[MAPPING_DESC_GEN_MAX];
	bool pin = mapping_is_pinhole(m);
	size_t i;

	(void)str_copy(p, sizeof(p), proto_name(m->proto));
	for (i = 0; p[i] != '\0'; i++)
		p[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
	json_obj_begin(o);
	json_kv_str(o, "protocol", p);
	/* a pinhole (IPv6, no NAT): the port open from outside is the
	 * internal one; its key is its UniqueID */
	json_kv_u64(o, "external_port", pin ? m->iport : m->eport);
	json_kv_bool(o, "pinhole", pin);
	if (pin)
		json_kv_u64(o, "unique_id", m->uid);
	json_kv_str(o, "internal_client", addr_str(m->iaddr, a, sizeof(a)));
	json_kv_u64(o, "internal_port", m->iport);
	json_kv_str(o, "remote_host", addr_is_any(m->rhost) ? "" : addr_str(m->rhost, a, sizeof(a)));
	json_kv_u64(o, "remote_port", m->rport);
	json_kv_str(o, "description", mapping_desc(m, d));
	json_kv_bool(o, "enabled", m->enabled);
	json_kv_u64(o, "lease_remaining", store_lease_left(ctx->store, m));
	json_kv_str(o, "source", stats_source_name(m->owner->proto));
	json_kv_str(o, "owner", addr_is_any(&m->owner->addr) ? "" :
		    addr_str(&m->owner->addr, a, sizeof(a)));
	json_kv_u64(o, "packets", c != NULL ? c->packets : 0);
	json_kv_u64(o, "bytes", c != NULL ? c->bytes : 0);
	json_key(o, "created");
	json_i64(o, m->created);
	json_obj_end(o);
}

void
control_list(struct igdd_ctx *ctx, struct json_out *o)
{
	const struct mapping **ms;
	struct fw_counter *c = NULL;
	uint64_t t0, t1;
	size_t n, i;
	bool counted;

	if (store_list(ctx->store, &ms, &n) < 0 || (n > 0 && (c = calloc(n, sizeof(*c))) == NULL)) {
		free(ms);
		o->failed = true;	/* the caller answers that memory ran out */
		return;
	}
	t0 = time_mono_ms();
	counted = store_counters(ctx->store, ms, n, c) == 0;
	t1 = time_mono_ms();
	if (!counted)
		json_kv_str(o, "counters_error", "the kernel's counters could not be read");
	json_key(o, "mappings");
	json_arr_begin(o);
	for (i = 0; i < n && !o->failed; i++)
		mapping_json(o, ctx, ms[i], c != NULL ? &c[i] : NULL);
	json_arr_end(o);
	log_debug("control: list of %zu mappings: counters %llu ms, answer %llu ms (%zu bytes)", n,
		  (unsigned long long)(t1 - t0), (unsigned long long)(time_mono_ms() - t1), o->len);
	free(c);
	free(ms);
}

static void
cmd_list(struct igdd_ctx *ctx, const struct ctl_request *req, struct json_out *o)
{
	(void)req;
	answer_ok(o);
	control_list(ctx, o);
	json_obj_end(o);
}

struct holder {
	const struct mapping *m;
};

static int
first_holder(struct mapping *m, void *arg)
{
	((struct holder *)arg)->m = m;
	return 1;
}

/* Why an add was refused, saying which mapping holds the port and how
 * to remove it (igddctl's command; cli false: the admin page's button). */
static void
add_refused(struct igdd_ctx *ctx, const struct ctl_request *req, enum store_result r, bool cli,
	    char *msg, size_t msgsize)
{
	char a[INET6_ADDRSTRLEN], how[64], d[MAPPING_DESC_GEN_MAX];
	struct holder h = { store_find(ctx->store, req->proto, req->eport, &req->rhost) };

	if (h.m == NULL)
		store_range(ctx->store, req->proto, req->eport, req->eport, first_holder, &h);
	if (cli)
		(void)str_printf(how, sizeof(how), "igddctl del %s %u",
				 req->proto == IPPROTO_TCP ? "tcp" : "udp", req->eport);
	else
		(void)str_copy(how, sizeof(how), "the Delete button of its row");
	if ((r == ST_E_CONFLICT || r == ST_E_NOT_OWNER) && h.m != NULL)
		str_printf(msg, msgsize, "%s %u is already mapped (source %s) to %s:%u "
			   "(\"%.64s\"); %s removes it", proto_name(req->proto),
			   req->eport, stats_source_name(h.m->owner->proto),
			   addr_str(h.m->iaddr, a, sizeof(a)), h.m->iport, mapping_desc(h.m, d), how);
	else if (r == ST_E_PORT_IN_USE)
		str_printf(msg, msgsize, "%s %u is in use by a socket on the gateway itself",
			   proto_name(req->proto), req->eport);
	else if (r == ST_E_NOT_LAN)
		str_printf(msg, msgsize, "%s is not a host on a LAN igdd serves",
			   addr_str(&req->iaddr, a, sizeof(a)));
	else
		str_printf(msg, msgsize, "%s", store_strerror(r));
}

enum store_result
control_forward_add(struct igdd_ctx *ctx, const struct ctl_request *req, const char *by,
		    struct mapping **out, char *msg, size_t msgsize)
{
	struct mapping_owner admin = { .proto = OWNER_STATIC };
	struct mapping q, *m = NULL;
	enum store_result r;
	char a[INET6_ADDRSTRLEN];

	memset(&q, 0, sizeof(q));
	q.proto = req->proto;
	q.eport = req->eport;
	q.rhost = &req->rhost;
	q.iaddr = &req->iaddr;
	q.iport = req->iport;
	q.desc = req->desc;
	q.enabled = true;
	q.owner = &admin;
	r = store_add(ctx->store, &q, req->lease, 0, &m);
	if (r != ST_OK) {
		add_refused(ctx, req, r, strcmp(by, "control") == 0, msg, msgsize);
		return r;
	}
	log_info("%s: manual forward %s %u -> %s:%u (%s)", by, proto_name(m->proto), m->eport,
		 addr_str(m->iaddr, a, sizeof(a)), m->iport,
		 req->lease ? "leased" : "permanent");
	if (out != NULL)
		*out = m;
	return ST_OK;
}

static void
cmd_add(struct igdd_ctx *ctx, const struct ctl_request *req, struct json_out *o)
{
	struct mapping *m;
	char msg[512];

	if (control_forward_add(ctx, req, "control", &m, msg, sizeof(msg)) != ST_OK) {
		answer_error(o, msg);
		return;
	}
	answer_ok(o);
	json_key(o, "mapping");
	mapping_json(o, ctx, m, NULL);
	json_obj_end(o);
}

/* A mapping by its key, or a pinhole by its UniqueID; the administrator
 * deletes any one, a manual forward too. */
enum store_result
control_forward_del(struct igdd_ctx *ctx, const struct ctl_request *req, const char *by,
		    char *msg, size_t msgsize)
{
	struct mapping *pin = NULL;
	bool uid = (req->fields & CTL_F_UID) != 0;
	enum store_result r;

	if (uid)
		r = (pin = store_pin_find(ctx->store, req->uid)) == NULL
			    ? ST_E_NOT_FOUND : store_pin_del(ctx->store, pin, NULL);
	else
		r = store_del(ctx->store, req->proto, req->eport, &req->rhost, NULL);
	if (r == ST_E_NOT_FOUND && uid)
		str_printf(msg, msgsize, "no pinhole %u", req->uid);
	else if (r == ST_E_NOT_FOUND)
		str_printf(msg, msgsize, "no mapping %s %u%s", proto_name(req->proto), req->eport,
			   addr_is_any(&req->rhost) ? "" : " for that remote host");
	else if (r != ST_OK)
		str_printf(msg, msgsize, "%s", store_strerror(r));
	else if (uid)
		log_info("%s: deleted pinhole %u", by, req->uid);
	else
		log_info("%s: deleted %s %u", by, proto_name(req->proto), req->eport);
	return r;
}

static void
cmd_del(struct igdd_ctx *ctx, const struct ctl_request *req, struct json_out *o)
{
	char msg[128];

	if (control_forward_del(ctx, req, "control", msg, sizeof(msg)) != ST_OK) {
		answer_error(o, msg);
		return;
	}
	answer_ok(o);
	json_obj_end(o);
}

static void
cmd_flush(struct igdd_ctx *ctx, const struct ctl_request *req, struct json_out *o)
{
	const struct mapping **ms;
	size_t n, i, removed = 0, pins = 0, failed = 0;

	if (store_list(ctx->store, &ms, &n) < 0) {
		answer_error(o, "out of memory");
		return;
	}
	store_hold(ctx->store);
	for (i = 0; i < n; i++) {
		bool pin = mapping_is_pinhole(ms[i]);

		if ((req->fields & CTL_F_SOURCE) && ms[i]->owner->proto != req->source)
			continue;
		if (store_del_mapping(ctx->store, (struct mapping *)(uintptr_t)ms[i]) != ST_OK)
			failed++;
		else if (pin)
			pins++;
		else
			removed++;
	}
	store_commit(ctx->store);
	free(ms);
	log_info("control: flushed %zu mappings and %zu pinholes%s%s", removed, pins,
		 (req->fields & CTL_F_SOURCE) ? " of source " : "",
		 (req->fields & CTL_F_SOURCE) ? stats_source_name(req->source) : "");
	if (failed > 0) {
		answer_error(o, "the firewall refused to delete some mappings");
		return;
	}
	answer_ok(o);
	json_kv_u64(o, "removed", removed + pins);
	json_kv_u64(o, "pinholes_removed", pins);
	json_obj_end(o);
}

static void
cmd_stats(struct igdd_ctx *ctx, const struct ctl_request *req, struct json_out *o)
{
	struct stats_snapshot st;
	struct json_out text = { 0 };

	stats_gather(ctx, &st);
	answer_ok(o);
	if (req->cmd == CTL_METRICS) {
		stats_prometheus(&st, &text);
		json_kv_str(o, "text", text.failed || text.p == NULL ? "" : text.p);
		o->failed |= text.failed;
		json_out_free(&text);
	} else {
		stats_json(&st, o);
	}
	json_obj_end(o);
}

static void
firewall_json(const struct config *cfg, struct json_out *o)
{
	const char *family = cfg->upnp_nftables_family_split ? "ip" : "inet";
	char t[CFG_NAME_MAX + 8];

	json_key(o, "firewall");
	json_obj_begin(o);
	if (!cfg->fw_integrate) {
		json_kv_str(o, "table", "inet igdd");
		json_kv_str(o, "nat_table", "inet igdd");
	} else {
		(void)str_printf(t, sizeof(t), "%s %s", family, cfg->upnp_table_name);
		json_kv_str(o, "table", t);
		(void)str_printf(t, sizeof(t), "%s %s", family, cfg->upnp_nat_table_name);
		json_kv_str(o, "nat_table", t);
	}
	json_kv_bool(o, "integrated", cfg->fw_integrate);
	json_obj_end(o);
}

/* Where the reported external address comes from. */
static const char *
external_source(const struct igdd_ctx *ctx, const struct upstream_info *ui,
		const struct stun_info *si)
{
	if (ctx->cfg.has_ext_ip)
		return "ext_ip";
	if (ctx->ext_addr.s_addr != 0 && ctx->ext_addr.s_addr != ctx->wan_addr.s_addr) {
		if (ui->ext.s_addr == ctx->ext_addr.s_addr)
			return "upstream";
		if (si->address.s_addr == ctx->ext_addr.s_addr)
			return "stun";
	}
	return "interface";
}

/* "upstream" and "stun": what the relay and STUN know (absent when off). */
static void
relay_json(const struct upstream_info *ui, bool have_ui, const struct stun_info *si,
	   bool have_si, struct json_out *o)
{
	char a[INET_ADDRSTRLEN];

	if (have_ui) {
		json_key(o, "upstream");
		json_obj_begin(o);
		json_kv_str(o, "protocol", upstream_proto_name(ui->want));
		json_kv_str(o, "using", ui->using != UPSTREAM_NONE ? upstream_proto_name(ui->using)
								   : "");
		json_kv_str(o, "server", ui->server.s_addr ? addr4_str(ui->server, a, sizeof(a)) : "");
		json_kv_str(o, "state", ui->state);
		json_kv_str(o, "external_address", ui->ext.s_addr ? addr4_str(ui->ext, a, sizeof(a))
								   : "");
		json_kv_u64(o, "mappings", ui->mappings);
		json_kv_u64(o, "deleting", ui->deleting);
		json_obj_end(o);
	}
	if (have_si) {
		json_key(o, "stun");
		json_obj_begin(o);
		json_kv_str(o, "state", si->state);
		json_kv_str(o, "external_address",
			    si->address.s_addr ? addr4_str(si->address, a, sizeof(a)) : "");
		json_kv_str(o, "server", si->server.s_addr ? addr4_str(si->server, a, sizeof(a)) : "");
		json_kv_u64(o, "port", si->port);
		json_kv_str(o, "learnt_from", si->address.s_addr == 0 ? ""
					      : si->xor_mapped ? "XOR-MAPPED-ADDRESS" : "MAPPED-ADDRESS");
		json_kv_u64(o, "age", si->age_s);
		json_kv_str(o, "filtering", stun_filtering_name(si->filtering));
		json_kv_bool(o, "reachable", si->reachable);
		json_obj_end(o);
	}
}

/* A LAN interface: its IPv4 address and prefix, its IPv6 addresses
 * ("ADDRESS/PREFIX", link-local included). */
static void
lan_json(const struct lan_iface *l, struct json_out *o)
{
	char a[INET6_ADDRSTRLEN], t[INET6_ADDRSTRLEN + 8];
	unsigned i;

	json_obj_begin(o);
	json_kv_str(o, "name", l->name);
	json_kv_str(o, "address", addr4_str(l->addr, a, sizeof(a)));
	json_kv_u64(o, "prefix", (uint64_t)__builtin_popcount(l->mask.s_addr));
	json_key(o, "addresses6");
	json_arr_begin(o);
	for (i = 0; i < l->n_addr6; i++)
		if (inet_ntop(AF_INET6, &l->addr6[i].addr, a, sizeof(a)) != NULL &&
		    str_printf(t, sizeof(t), "%s/%u", a, l->addr6[i].plen) == 0)
			json_str(o, t);
	json_arr_end(o);
	json_obj_end(o);
}

void
control_status(struct igdd_ctx *ctx, struct json_out *o)
{
	char a[INET_ADDRSTRLEN];
	struct upstream_info ui;
	struct stun_info si;
	bool have_ui = upstream_get_info(ctx, &ui), have_si = stun_get_info(ctx, &si);
	unsigned k;

	json_kv_str(o, "version", IGDD_VERSION);
	json_kv_u64(o, "pid", (uint64_t)getpid());
	json_kv_u64(o, "uptime", (time_mono_ms() - ctx->start_mono) / 1000);
	json_kv_str(o, "config_file", ctx->cfg.config_file);
	json_key(o, "external");
	json_obj_begin(o);
	json_kv_str(o, "interface", ctx->cfg.ext_ifname);
	json_kv_str(o, "address", ctx->ext_addr.s_addr ? addr4_str(ctx->ext_addr, a, sizeof(a)) : "");
	json_kv_str(o, "source", external_source(ctx, &ui, &si));
	json_kv_str(o, "link", ctx->ext_up ? "up" : "down");
	/* false: behind a NAT that no upstream protocol controls */
	json_kv_bool(o, "reachable", upstream_reachable(ctx));
	json_obj_end(o);
	relay_json(&ui, have_ui, &si, have_si, o);
	json_key(o, "interfaces");
	json_arr_begin(o);
	for (k = 0; k < ctx->n_lan; k++)
		if (!ctx->lan[k].gone)
			lan_json(&ctx->lan[k], o);
	json_arr_end(o);
	json_kv_bool(o, "upnp", ctx->cfg.enable_upnp);
	json_kv_bool(o, "natpmp", ctx->cfg.enable_natpmp);
	json_kv_bool(o, "secure_mode", ctx->cfg.secure_mode);
	json_kv_u64(o, "mappings", store_count(ctx->store));
	json_kv_u64(o, "pinholes", store_pin_count(ctx->store));
	firewall_json(&ctx->cfg, o);
}

static void
cmd_status(struct igdd_ctx *ctx, const struct ctl_request *req, struct json_out *o)
{
	(void)req;
	answer_ok(o);
	control_status(ctx, o);
	json_obj_end(o);
}

/* One line per entry of a reload report. */
static void
report_json(struct json_out *o, const char *msg)
{
	const char *p = msg, *nl;

	json_key(o, "report");
	json_arr_begin(o);
	while (*p != '\0') {
		nl = strchr(p, '\n');
		json_str_n(o, p, nl != NULL ? (size_t)(nl - p) : strlen(p));
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	json_arr_end(o);
}

static void
cmd_reload(struct igdd_ctx *ctx, const struct ctl_request *req, struct json_out *o)
{
	char msg[4096];
	int rc;

	(void)req;
	if (ctx->reload == NULL) {
		answer_error(o, "this igdd cannot reload");
		return;
	}
	msg[0] = '\0';
	rc = ctx->reload(ctx, msg, sizeof(msg));
	json_obj_begin(o);
	json_kv_bool(o, "ok", rc == 0);
	if (rc != 0)
		json_kv_str(o, "error", msg);
	report_json(o, msg);
	json_obj_end(o);
}

static void (*const cmd_fn[CTL_CMD_COUNT])(struct igdd_ctx *, const struct ctl_request *,
					   struct json_out *) = {
	[CTL_LIST] = cmd_list, [CTL_ADD] = cmd_add, [CTL_DEL] = cmd_del, [CTL_FLUSH] = cmd_flush,
	[CTL_STATS] = cmd_stats, [CTL_METRICS] = cmd_stats, [CTL_STATUS] = cmd_status,
	[CTL_RELOAD] = cmd_reload,
};

void
control_handle(struct igdd_ctx *ctx, const char *line, size_t len, struct json_out *o)
{
	struct ctl_request *req = calloc(1, sizeof(*req));
	char err[256];

	if (req == NULL) {
		answer_error(o, "out of memory");
		return;
	}
	if (control_parse(line, len, req, err, sizeof(err)) < 0)
		answer_error(o, err);
	else if (ctx->store == NULL)
		answer_error(o, "the mapping store is not running");
	else
		cmd_fn[req->cmd](ctx, req, o);
	free(req);
}

/* ------------------------------------------------------------ the socket */

struct ctl_client {
	struct loop_fd lfd;
	struct loop_timer idle;
	struct control *ctl;
	struct ctl_client *prev, *next;	/* least recently active first */
	char in[CTL_LINE_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool closing;			/* close once the answer is out */
	bool eof;			/* the peer sent everything it will */
};

struct control {
	struct igdd_ctx *ctx;
	struct loop_fd lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	gid_t gid;
	bool has_gid;
	struct ctl_client *first, *last;
	unsigned n_clients;
	size_t out_total;		/* bytes of answers queued */
	uint64_t accepted, refused, dropped;
};

static void
client_free(struct ctl_client *c)
{
	struct control *ctl = c->ctl;

	loop_fd_del(&ctl->ctx->loop, &c->lfd);
	loop_timer_cancel(&ctl->ctx->loop, &c->idle);
	close(c->lfd.fd);
	DLIST_UNLINK(&ctl->first, &ctl->last, c);
	ctl->n_clients--;
	ctl->out_total -= c->out_len - c->out_off;
	free(c->out);
	free(c);
}

/* Progress: the client moves to the end of the eviction order and gets a
 * new deadline. */
static void
client_touch(struct ctl_client *c)
{
	struct control *ctl = c->ctl;

	loop_timer_set(&ctl->ctx->loop, &c->idle, CTL_IDLE_MS);
	if (ctl->last == c)
		return;
	DLIST_UNLINK(&ctl->first, &ctl->last, c);
	c->prev = ctl->last;
	c->next = NULL;
	ctl->last->next = c;
	ctl->last = c;
}

static void
client_idle(struct loop_timer *t)
{
	struct ctl_client *c = container_of(t, struct ctl_client, idle);

	log_debug("control: a client made no progress for %d ms: dropped", CTL_IDLE_MS);
	c->ctl->dropped++;
	client_free(c);
}

/* Queue an answer (one line).  false when it cannot be queued. */
static bool
client_queue(struct ctl_client *c, struct json_out *o)
{
	json_raw(o, "\n", 1);
	if (o->failed) {
		json_out_free(o);
		return false;
	}
	c->out = o->p;
	c->out_len = o->len;
	c->out_off = 0;
	c->ctl->out_total += o->len;
	o->p = NULL;
	return true;
}

/* Answer the first complete line of c->in; false when there is none. */
static bool
client_answer_line(struct ctl_client *c)
{
	struct control *ctl = c->ctl;
	char *nl = memchr(c->in, '\n', c->in_len);
	struct json_out o = { 0 };
	size_t len;

	if (nl == NULL)
		return false;
	len = (size_t)(nl - c->in);
	if (len > 0 && c->in[len - 1] == '\r')
		len--;
	o.max = CTL_OUT_BUDGET;
	if (ctl->out_total >= CTL_OUT_BUDGET)
		answer_error(&o, "busy: too many answers waiting; try again");
	else
		control_handle(ctl->ctx, c->in, len, &o);
	if (o.failed) {
		json_out_free(&o);
		o.max = 0;
		answer_error(&o, "the answer is too large or memory ran out");
	}
	len = (size_t)(nl - c->in) + 1;
	memmove(c->in, c->in + len, c->in_len - len);
	c->in_len -= len;
	if (!client_queue(c, &o))
		c->closing = true;
	return true;
}

/* Write what the client can take; 0, or -1 when it is gone. */
static int
client_flush(struct ctl_client *c)
{
	while (c->out != NULL && c->out_off < c->out_len) {
		ssize_t w = send(c->lfd.fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		c->out_off += (size_t)w;
		c->ctl->out_total -= (size_t)w;
		client_touch(c);
	}
	if (c->out != NULL) {
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
	}
	return 0;
}

/* Answer lines while no answer waits; then wait for what is needed next.
 * false when the client is gone. */
static bool
client_step(struct ctl_client *c)
{
	struct control *ctl = c->ctl;
	unsigned turn = 0;
	bool more = false;

	for (;;) {
		if (client_flush(c) < 0)
			return false;
		if (c->out != NULL)
			break;		/* the peer reads slowly: wait for EPOLLOUT */
		if (c->closing || (c->eof && memchr(c->in, '\n', c->in_len) == NULL))
			return false;
		/* A pipelining client waits for its turn like everyone else:
		 * a writable socket brings it back after the others. */
		if (turn++ == CTL_LINES_PER_TURN && memchr(c->in, '\n', c->in_len) != NULL) {
			more = true;
			break;
		}
		if (!client_answer_line(c)) {
			if (c->in_len == sizeof(c->in)) {
				struct json_out o = { 0 };
				char msg[96];

				str_printf(msg, sizeof(msg), "request longer than %d bytes", CTL_LINE_MAX);
				answer_error(&o, msg);
				(void)client_queue(c, &o);
				c->closing = true;
				continue;
			}
			break;
		}
	}
	if (loop_fd_mod(&ctl->ctx->loop, &c->lfd,
			c->out != NULL || more ? EPOLLOUT : (c->closing || c->eof) ? 0 : EPOLLIN) < 0)
		return false;
	return true;
}

static void
client_event(struct loop_fd *lfd, uint32_t events)
{
	struct ctl_client *c = container_of(lfd, struct ctl_client, lfd);
	ssize_t n;

	if ((events & EPOLLIN) && c->out == NULL && !c->closing) {
		while (c->in_len < sizeof(c->in)) {
			n = recv(lfd->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);
			if (n > 0) {
				c->in_len += (size_t)n;
				client_touch(c);
				continue;
			}
			if (n == 0)
				c->eof = true;
			else if (errno != EAGAIN && errno != EINTR)
				c->eof = c->closing = true;
			break;
		}
	}
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
		c->closing = true;
	if (!client_step(c))
		client_free(c);
}

/* Root, or a member of control_group (primary or supplementary). */
static bool
peer_allowed(const struct control *ctl, int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);
	gid_t groups[256];
	socklen_t glen = sizeof(groups);
	size_t k;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return false;
	if (cred->uid == 0)
		return true;
	if (!ctl->has_gid)
		return false;
	if (cred->gid == ctl->gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) < 0)
		return false;
	for (k = 0; k < glen / sizeof(groups[0]); k++)
		if (groups[k] == ctl->gid)
			return true;
	return false;
}

static void
refuse(struct control *ctl, int fd, const struct ucred *cred)
{
	static const char msg[] = "{\"ok\":false,\"error\":\"permission denied: only root and "
				  "members of control_group may use this socket\"}\n";

	ctl->refused++;
	log_info("control: refused a client (uid %u, pid %d): not root nor in control_group",
		 (unsigned)cred->uid, (int)cred->pid);
	(void)send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

static void
control_accept(struct loop_fd *lfd, uint32_t events)
{
	struct control *ctl = container_of(lfd, struct control, lfd);
	struct ctl_client *c;
	struct ucred cred;
	int fd;

	(void)events;
	while ((fd = accept4(lfd->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		if (!peer_allowed(ctl, fd, &cred)) {
			refuse(ctl, fd, &cred);
			continue;
		}
		if (ctl->n_clients >= CTL_MAX_CLIENTS) {
			ctl->dropped++;
			client_free(ctl->first);	/* the least recently active */
		}
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		c->ctl = ctl;
		c->lfd.fd = fd;
		c->lfd.cb = client_event;
		c->idle.cb = client_idle;
		if (loop_fd_add(&ctl->ctx->loop, &c->lfd, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		c->prev = ctl->last;
		if (ctl->last != NULL)
			ctl->last->next = c;
		else
			ctl->first = c;
		ctl->last = c;
		ctl->n_clients++;
		ctl->accepted++;
		client_touch(c);
	}
}

/* A socket file at the path: a live igdd's (an error), or a stale one
 * (removed).  0, or -1 logged. */
static int
clear_path(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : (log_warn("control socket %s", path), -1);
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control socket %s: the path exists and is not a socket", path);
		return -1;
	}
	(void)str_copy(sun.sun_path, sizeof(sun.sun_path), path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		log_warnx("control socket %s is in use by a running igdd (each igdd on a machine "
			  "needs its own control_socket)", path);
		return -1;
	}
	if (errno != ECONNREFUSED) {
		log_warn("control socket %s", path);
		return -1;
	}
	log_info("control socket %s: replacing a stale socket", path);
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* The socket's directory (one level: /run/igdd) when it is missing. */
static int
make_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	if (str_copy(dir, sizeof(dir), path) < 0 || (slash = strrchr(dir, '/')) == NULL)
		return -1;
	if (slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_warn("control socket directory %s", dir);
		return -1;
	}
	return 0;
}

static int
open_socket(struct control *ctl)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int fd, rc;

	(void)str_copy(sun.sun_path, sizeof(sun.sun_path), ctl->path);
	if (make_dir(ctl->path) < 0 || clear_path(ctl->path) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	old = umask(0117);	/* born 0660: no moment where others may connect */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	/* Owned by the user igdd starts as (root; igdd under the systemd
	 * unit); a group change needs no privilege for a group igdd is in. */
	if (rc < 0 || (ctl->has_gid && chown(ctl->path, (uid_t)-1, ctl->gid) < 0) ||
	    chmod(ctl->path, 0660) < 0 || listen(fd, 16) < 0 || stat(ctl->path, &st) < 0) {
		log_warn("control socket %s", ctl->path);
		close(fd);
		return -1;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	return fd;
}

int
control_init(struct igdd_ctx *ctx)
{
	const struct config *cfg = &ctx->cfg;
	struct control *ctl;
	struct group *g;

	if (cfg->control_socket[0] == '\0')
		return 0;
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL)
		return -1;
	ctl->ctx = ctx;
	ctl->lfd.fd = -1;
	if (str_copy(ctl->path, sizeof(ctl->path), cfg->control_socket) < 0) {
		log_warnx("control_socket %s: longer than a socket path may be (%zu bytes)",
			  cfg->control_socket, sizeof(ctl->path) - 1);
		free(ctl);
		return -1;
	}
	if (cfg->control_group[0] != '\0') {
		if ((g = getgrnam(cfg->control_group)) == NULL) {
			log_warnx("control_group %s does not exist", cfg->control_group);
			free(ctl);
			return -1;
		}
		ctl->gid = g->gr_gid;
		ctl->has_gid = true;
	}
	ctl->lfd.fd = open_socket(ctl);
	ctl->lfd.cb = control_accept;
	if (ctl->lfd.fd < 0 || loop_fd_add(&ctx->loop, &ctl->lfd, EPOLLIN) < 0) {
		if (ctl->lfd.fd >= 0)
			close(ctl->lfd.fd);
		free(ctl);
		return -1;
	}
	ctx->control = ctl;
	log_info("control socket %s (root%s%s)", ctl->path, ctl->has_gid ? " and group " : "",
		 cfg->control_group);
	return 0;
}

void
control_shutdown(struct igdd_ctx *ctx)
{
	struct control *ctl = ctx->control;
	struct stat st;

	if (ctl == NULL)
		return;
	while (ctl->first != NULL)
		client_free(ctl->first);
	loop_fd_del(&ctx->loop, &ctl->lfd);
	close(ctl->lfd.fd);
	/* Only our own socket: a newer igdd may have replaced it.  Without
	 * root the directory may not let us; the next start replaces it. */
	if (lstat(ctl->path, &st) == 0 && st.st_dev == ctl->dev && st.st_ino == ctl->ino &&
	    unlink(ctl->path) < 0)
		log_debug("control socket %s left behind: %s", ctl->path, strerror(errno));
	log_info("control: %llu client(s) served, %llu refused, %llu dropped",
		 (unsigned long long)ctl->accepted, (unsigned long long)ctl->refused,
		 (unsigned long long)ctl->dropped);
	free(ctl);
	ctx->control = NULL;
}
