/* conf.c - stub until the configuration parser lands. */
#include <string.h>
#include "conf.h"
#include "util.h"

void conf_defaults(struct config *cfg) { memset(cfg, 0, sizeof(*cfg)); cfg->enable_upnp = true; }
int conf_parse_file(struct config *cfg, const char *path, FILE *err) { (void)cfg; (void)path; (void)err; return 0; }
int conf_parse_line(struct config *cfg, const char *line, char *msg, size_t msgsize) { (void)cfg; (void)line; (void)msg; (void)msgsize; return 0; }
int conf_parse_perm(struct perm_rule *r, const char *text, char *msg, size_t msgsize) { (void)r; (void)text; (void)msg; (void)msgsize; return 0; }
enum cli_result conf_parse_args(struct config *cfg, int argc, char **argv, bool apply, FILE *out) { (void)cfg; (void)argc; (void)argv; (void)apply; (void)out; return CLI_OK; }
int conf_validate(const struct config *cfg, FILE *err) { (void)cfg; (void)err; return 0; }
void conf_free(struct config *cfg) { (void)cfg; }
