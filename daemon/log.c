/* log.c - logging to syslog, or to stderr in the foreground. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static bool log_stderr = true;
static int log_level;
/* Until the daemon is ready, warnings and errors are also written here:
 * the pipe to the parent that waits for a background start, or stderr
 * when logging to syslog in the foreground.  -1 = nowhere. */
static int log_echo_fd = -1;

static const char *const log_names[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void
log_init(const char *ident, bool to_stderr, int verbosity)
{
	log_stderr = to_stderr;
	log_level = verbosity;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_echo_fd(int fd)
{
	log_echo_fd = fd;
}

int
log_verbosity(void)
{
	return log_level;
}

static void ATTR_PRINTF(2, 0)
log_vwrite(int pri, const char *fmt, va_list ap, int err)
{
	char msg[1024];

	if (log_level < 0 && pri != LOG_ERR)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);	/* truncation is fine for a log line */
	if (err != 0) {
		size_t n = strlen(msg);
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
	}
	if (log_stderr)
		fprintf(stderr, "igdd: %s: %s\n", log_names[pri] ? log_names[pri] : "log", msg);
	else
		syslog(pri, "%s", msg);
	if (log_echo_fd >= 0 && pri <= LOG_WARNING)
		dprintf(log_echo_fd, "igdd: %s: %s\n", log_names[pri], msg);
}

#define LOG_BODY(pri, err) do {			\
	va_list ap;				\
	va_start(ap, fmt);			\
	log_vwrite(pri, fmt, ap, err);		\
	va_end(ap);				\
} while (0)

void log_warn(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_WARNING, e); errno = e; }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_WARNING, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_INFO, 0); }

void
log_debug(const char *fmt, ...)
{
	if (log_level > 0)
		LOG_BODY(LOG_DEBUG, 0);
}

void
log_trace(const char *fmt, ...)
{
	if (log_level > 1)
		LOG_BODY(LOG_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	int e = errno;

	LOG_BODY(LOG_ERR, e);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, 0);
	exit(1);
}
