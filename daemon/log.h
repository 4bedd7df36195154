/* log.h - one small logging module (syslog, or stderr in foreground). */
#ifndef IGDD_LOG_H
#define IGDD_LOG_H

#include <stdbool.h>
#include "util.h"

/* to_stderr: log to stderr instead of syslog. verbosity: -1 = errors
 * only (fuzzers), 0 = info and up (the operator's log: start, stop,
 * warnings, one line per mapping change or refusal), 1 = debug (-v: what
 * each request decided), 2 = trace (-vv: per-packet detail, every drop). */
void log_init(const char *ident, bool to_stderr, int verbosity);
int log_verbosity(void);
/* Also write warnings and errors to fd (-1: stop): what a start that
 * fails before the daemon is ready shows on the caller's stderr. */
void log_set_echo_fd(int fd);

void log_warn(const char *fmt, ...) ATTR_PRINTF(1, 2);   /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) ATTR_PRINTF(1, 2);
void log_info(const char *fmt, ...) ATTR_PRINTF(1, 2);
void log_debug(const char *fmt, ...) ATTR_PRINTF(1, 2);  /* only at -v */
void log_trace(const char *fmt, ...) ATTR_PRINTF(1, 2);  /* only at -vv */
__attribute__((noreturn)) void fatal(const char *fmt, ...) ATTR_PRINTF(1, 2);
__attribute__((noreturn)) void fatalx(const char *fmt, ...) ATTR_PRINTF(1, 2);

/* Cheap test to skip building debug-only strings. */
#define log_debug_on() (log_verbosity() > 0)
#define log_trace_on() (log_verbosity() > 1)

#endif
