/* fuzz_control.c - libFuzzer harness for the control socket's requests:
 * each input line through control_handle() (the strict parser, then the
 * command over the real store on the unit tests' fake backend), and the
 * whole input through the JSON reader at its deepest nesting.
 *
 * Invariants: every answer is one JSON object, {"ok":...}, that the
 * reader reads to its end; the reader never reports an error offset past
 * the input.  The store persists across inputs (so del/flush/list see
 * earlier adds) and is recreated when it grows. */
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctx.h"
#include "fw.h"
#include "json.h"
#include "log.h"
#include "store.h"
#include "tests/unit/fake_fw.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fake_env *env;

/* The NAT-PMP tests' setting (a LAN 192.168.1.0/24, the fake backend, no
 * lease file), recreated when the store grows. */
static void
new_env(void)
{
	if (env != NULL)
		fake_env_free(env);
	env = fake_env_pmp(0);
	env->ctx.cfg.max_mappings = 128;
}

/* An answer is one object with "ok" first, readable to its end. */
static void
check_answer(const struct json_out *o)
{
	static char str[CTL_LINE_MAX * 2];
	struct json_rd rd;
	enum json_tok t;

	if (o->failed || o->p == NULL || strncmp(o->p, "{\"ok\":", 6) != 0)
		abort();
	json_rd_init(&rd, o->p, o->len, JSON_MAX_DEPTH, str, sizeof(str));
	while ((t = json_next(&rd)) != JSON_END)
		if (t == JSON_ERROR)
			abort();
}

static void
read_all(const uint8_t *data, size_t size)
{
	char str[256];
	struct json_rd rd;
	enum json_tok t;

	json_rd_init(&rd, (const char *)data, size, JSON_MAX_DEPTH, str, sizeof(str));
	while ((t = json_next(&rd)) != JSON_END && t != JSON_ERROR)
		if (rd.str_len >= sizeof(str))
			abort();
	if (t == JSON_ERROR && rd.err_off > size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_out o;
	size_t start = 0, i;

	log_init("fuzz", true, -1);
	if (env == NULL || store_count(env->s) > 100)
		new_env();
	read_all(data, size);
	for (i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		if (i - start <= CTL_LINE_MAX) {
			memset(&o, 0, sizeof(o));
			control_handle(&env->ctx, (const char *)data + start, i - start, &o);
			check_answer(&o);
			json_out_free(&o);
		}
		start = i + 1;
	}
	return 0;
}
