/* main.c - runs every registered unit test; "unit NAME..." runs some. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "unit.h"

static struct unit_test *tests;
int unit_failures;

void
unit_register(struct unit_test *t)
{
	struct unit_test **p = &tests;

	while (*p != NULL && strcmp((*p)->name, t->name) < 0)
		p = &(*p)->next;
	t->next = *p;
	*p = t;
}

void
unit_fail(const char *file, int line, const char *expr)
{
	printf("    %s:%d: CHECK(%s) failed\n", file, line, expr);
	unit_failures++;
}

static int
selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (strstr(name, argv[i]) != NULL)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	struct unit_test *t;
	int passed = 0, failed = 0;

	log_init("unit", true, getenv("UNIT_VERBOSE") ? 1 : 0);
	for (t = tests; t != NULL; t = t->next) {
		if (!selected(t->name, argc, argv))
			continue;
		unit_failures = 0;
		t->fn();
		if (unit_failures == 0) {
			printf("PASS unit/%s\n", t->name);
			passed++;
		} else {
			printf("FAIL unit/%s\n", t->name);
			failed++;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}
