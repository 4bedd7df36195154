/* igddctl.h - what igddctl's files share: the daemon's answer and the
 * table of mappings. */
#ifndef IGDDCTL_H
#define IGDDCTL_H

#include <stddef.h>

#include "json.h"

#define STR_MAX		65536	/* longest string of an answer */

struct answer {
	const char *text;	/* the answer line, no newline */
	size_t len;
	char *str;		/* the reader's string buffer, STR_MAX bytes */
};

/* Find member `name` of the answer's top object; the reader is left
 * right after its value's first token (*tok).  0, or -1. */
int find_member(const struct answer *an, struct json_rd *rd, const char *name,
		enum json_tok *tok);
/* list: the mappings as an aligned table.  0, or -1 (not understood). */
int print_table(const struct answer *an);
/* igddctl passwd (argv[0] is "passwd"): the exit status. */
int passwd_main(int argc, char **argv);

#endif
