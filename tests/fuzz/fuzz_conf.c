/* fuzz_conf.c - the configuration parser, one line at a time as the file
 * parser feeds it: no crash, no leak, whatever the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static FILE *devnull;
	char line[1024], msg[256];
	size_t start = 0, i;

	log_init("fuzz", true, -1);
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	conf_defaults(&cfg);
	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		if (i - start < sizeof(line)) {
			memcpy(line, data + start, i - start);
			line[i - start] = '\0';
			conf_parse_line(&cfg, line, msg, sizeof(msg));
		}
		start = i + 1;
	}
	conf_validate(&cfg, devnull);
	conf_free(&cfg);
	return 0;
}
