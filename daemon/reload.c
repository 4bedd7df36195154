/* reload.c - the configuration re-read in a running daemon: the new file
 * is parsed and validated beside the running configuration, conf_diff()
 * says what changed, the keys that need a restart keep their running
 * values, and the rest is applied through the modules' reconfigure hooks,
 * the per-interface setup/teardown (daemon_lan_up/down) and the store's
 * policy re-check.  Above daemon.c in the ladder: it uses the
 * per-interface switchboard. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "conf.h"
#include "ctx.h"
#include "daemon.h"
#include "http.h"
#include "iface.h"
#include "log.h"
#include "reload.h"
#include "ssdp.h"
#include "store.h"
#include "stun.h"
#include "util.h"

#define RELOAD_MAX_CHANGES 96

/* Keys whose value is in the device description (CONFIGID changes). */
static bool
is_description_key(const char *key)
{
	static const char *const keys[] = {
		"friendly_name", "manufacturer_name", "manufacturer_url", "model_name",
		"model_description", "model_url", "model_number", "serial", "presentation_url",
	};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(keys); k++)
		if (strcmp(key, keys[k]) == 0)
			return true;
	return false;
}

/* A line of the report: into msg and the log. */
static void ATTR_PRINTF(3, 4)
note(char *msg, size_t msgsize, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_info("reload: %s", line);
	if (str_appendf(msg, msgsize, "%s%s", msg[0] != '\0' ? "\n" : "", line) < 0 &&
	    msgsize > 4)
		(void)str_copy(msg + msgsize - 4, 4, "...");
}

/* A refusal: each line of msg logged, then what it means. */
static void
log_lines(const char *msg)
{
	const char *p = msg, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		log_warnx("reload refused: %.*s", (int)(nl != NULL ? nl - p : (long)strlen(p)), p);
		p = nl != NULL ? nl + 1 : p + strlen(p);
	}
	log_warnx("reload refused: the running configuration is kept");
}

/* The new configuration, read as at start: defaults, the file, the
 * command line on top, validation.  0, or -1 with the messages in msg. */
static int
read_config(struct igdd_ctx *ctx, struct config *cfg, char *msg, size_t msgsize)
{
	char *text = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len), *out = fopen("/dev/null", "w");
	int rc = 0;

	conf_defaults(cfg);
	(void)str_copy(cfg->config_file, sizeof(cfg->config_file), ctx->cfg.config_file);
	if (err == NULL || out == NULL)
		rc = -1;
	else if ((cfg->config_file[0] != '\0' && conf_parse_file(cfg, cfg->config_file, err) < 0) ||
		 conf_parse_args(cfg, ctx->argc, ctx->argv, true, out) != CLI_OK ||
		 conf_validate(cfg, err) < 0)
		rc = -1;
	if (err != NULL)
		fclose(err);
	if (out != NULL)
		fclose(out);
	if (rc < 0) {
		/* the file:line messages as they are, one per line */
		(void)str_copy(msg, msgsize, text != NULL && text[0] != '\0' ? text
								 : "cannot read the configuration");
		len = strlen(msg);
		while (len > 0 && msg[len - 1] == '\n')
			msg[--len] = '\0';
		log_lines(msg);
		conf_free(cfg);
	}
	free(text);
	return rc;
}

static bool
lan_same(const struct lan_iface *a, const struct lan_iface *b)
{
	return strcmp(a->name, b->name) == 0 && a->addr.s_addr == b->addr.s_addr &&
	       a->mask.s_addr == b->mask.s_addr;
}

/* Serve exactly the LANs of want[0..n): the ones that went are torn
 * down, the new ones set up in every front end.  The count of changes. */
static unsigned
apply_lans(struct igdd_ctx *ctx, const struct lan_iface *want, unsigned n, char *msg,
	   size_t msgsize)
{
	unsigned k, i, changes = 0;
	bool kept[CFG_MAX_LISTEN] = { false };

	for (k = 0; k < ctx->n_lan; k++) {
		if (ctx->lan[k].gone)
			continue;
		for (i = 0; i < n && !lan_same(&ctx->lan[k], &want[i]); i++)
			;
		if (i < n) {
			kept[i] = true;
			continue;
		}
		note(msg, msgsize, "listening_ip: %s (%s) is no longer served", ctx->lan[k].name,
		     ADDR4_STR(ctx->lan[k].addr));
		daemon_lan_down(ctx, k);
		changes++;
	}
	for (i = 0; i < n; i++) {
		if (kept[i])
			continue;
		if (daemon_lan_up(ctx, &want[i]) < 0)
			note(msg, msgsize, "listening_ip: %s (%s) could not be set up",
			     want[i].name, ADDR4_STR(want[i].addr));
		else
			note(msg, msgsize, "listening_ip: now serving %s (%s)", want[i].name,
			     ADDR4_STR(want[i].addr));
		changes++;
	}
	return changes;
}

/* What changed, key by key: the restart ones keep their running value
 * (in cfg, the new configuration).  Sets *desc when the description
 * changed, *policy when the rules did, *ext for the external address. */
static size_t
sort_changes(struct igdd_ctx *ctx, struct config *cfg, bool *desc, bool *policy, bool *ext,
	     char *msg, size_t msgsize)
{
	struct conf_change ch[RELOAD_MAX_CHANGES];
	size_t n = conf_diff(&ctx->cfg, cfg, ch, ARRAY_SIZE(ch)), i;

	if (n > ARRAY_SIZE(ch))
		n = ARRAY_SIZE(ch);
	for (i = 0; i < n; i++) {
		if (ch[i].restart) {
			(void)conf_keep(cfg, &ctx->cfg, ch[i].key);
			note(msg, msgsize, "%s: changed, needs a restart: the running value is kept",
			     ch[i].key);
			continue;
		}
		if (strcmp(ch[i].key, "listening_ip") == 0)
			continue;	/* apply_lans() says what it did */
		note(msg, msgsize, "%s: applied", ch[i].key);
		*desc |= is_description_key(ch[i].key);
		*policy |= strcmp(ch[i].key, "allow/deny") == 0;
		*ext |= strcmp(ch[i].key, "ext_ip") == 0 ||
			strcmp(ch[i].key, "ext_allow_private_ipv4") == 0;
	}
	return n;
}

/* The new configuration is ctx->cfg now: tell the modules. */
static void
apply(struct igdd_ctx *ctx, bool desc, bool policy, bool ext, const struct lan_iface *lans,
      unsigned n_lans, char *msg, size_t msgsize)
{
	size_t removed;
	char line[512];

	if (desc)
		ctx->configid++;
	ssdp_reconfigure(ctx, desc);
	http_reconfigure(ctx);
	/* its files are read again whether or not their names changed */
	admin_reconfigure(ctx, line, sizeof(line));
	if (line[0] != '\0')
		note(msg, msgsize, "%s", line);
	if (ctx->store != NULL)
		store_reconfigure(ctx->store);
	if (ext)
		iface_ext_check(ctx, false);
	if (apply_lans(ctx, lans, n_lans, msg, msgsize) > 0)
		policy = true;
	if (policy && ctx->store != NULL) {
		removed = store_recheck(ctx->store);
		note(msg, msgsize, "%zu mapping(s) and pinhole(s) the new rules do not allow removed", removed);
	}
}

int
reload_run(struct igdd_ctx *ctx, char *msg, size_t msgsize)
{
	struct config *cfg = calloc(1, sizeof(*cfg)), old;
	struct lan_iface lans[CFG_MAX_LISTEN];
	bool desc = false, policy = false, ext = false;
	size_t n;
	int n_lans;

	msg[0] = '\0';
	if (cfg == NULL) {
		(void)str_copy(msg, msgsize, "out of memory");
		return -1;
	}
	if (read_config(ctx, cfg, msg, msgsize) < 0) {
		free(cfg);
		return -1;
	}
	n_lans = iface_resolve(cfg, lans, msg, msgsize);
	if (n_lans < 0) {
		log_lines(msg);
		conf_free(cfg);
		free(cfg);
		return -1;
	}
	n = sort_changes(ctx, cfg, &desc, &policy, &ext, msg, msgsize);
	/* The swap: the rules' compiled regexes move with their config;
	 * the old ones are freed with the old one, after the modules let
	 * go of it. */
	old = ctx->cfg;
	ctx->cfg = *cfg;
	free(cfg);
	apply(ctx, desc, policy, ext, lans, (unsigned)n_lans, msg, msgsize);
	if (old.ext_stun_port != ctx->cfg.ext_stun_port ||
	    old.ext_stun_interval != ctx->cfg.ext_stun_interval)
		stun_reconfigure(ctx);	/* STUN runs again with them now */
	conf_free(&old);
	if (n == 0)
		note(msg, msgsize, "%s: no change", ctx->cfg.config_file);
	/* The end of the reload's lines: what a supervisor or a test waits for. */
	log_info("reload: done");
	return 0;
}

void
reload_init(struct igdd_ctx *ctx)
{
	ctx->reload = reload_run;
}
