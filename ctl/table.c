/* table.c - igddctl list: the answer's mappings as a table a person
 * reads, columns as wide as their widest cell. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "igddctl.h"
#include "util.h"

enum col { C_SOURCE, C_PROTO, C_EPORT, C_INTERNAL, C_RHOST, C_LEASE, C_PACKETS, C_BYTES,
	   C_OWNER, C_DESC, C_COUNT };

static const char *const heads[C_COUNT] = {
	"SOURCE", "PROTO", "EXT", "INTERNAL", "REMOTE", "LEASE", "PACKETS", "BYTES", "OWNER",
	"DESCRIPTION",
};

/* Members of a mapping object and the column they go to (internal_port
 * is appended to internal_client). */
static const struct {
	const char *name;
	int col;
} fields[] = {
	{ "source", C_SOURCE }, { "protocol", C_PROTO }, { "external_port", C_EPORT },
	{ "internal_client", C_INTERNAL }, { "internal_port", -1 }, { "remote_host", C_RHOST },
	{ "lease_remaining", C_LEASE }, { "packets", C_PACKETS }, { "bytes", C_BYTES },
	{ "owner", C_OWNER }, { "description", C_DESC }, { "enabled", -2 },
};

struct row {
	char cell[C_COUNT][272];
};

/* The text of the value just read (a string's content, else its JSON). */
static void
cell_text(const struct json_rd *rd, enum json_tok t, char *out, size_t size)
{
	if (t == JSON_STRING)
		(void)str_copy(out, size, rd->str);
	else
		(void)str_copy_n(out, size, rd->tok, (size_t)(rd->p - rd->tok));
}

/* One mapping object (its '{' just read) into r.  0, or -1. */
static int
read_row(struct json_rd *rd, struct row *r)
{
	char port[16] = "", val[272];
	bool disabled = false;
	enum json_tok t;
	size_t k;

	memset(r, 0, sizeof(*r));
	while ((t = json_next(rd)) == JSON_KEY) {
		for (k = 0; k < ARRAY_SIZE(fields) && strcmp(rd->str, fields[k].name) != 0; k++)
			;
		t = json_next(rd);
		if (k == ARRAY_SIZE(fields)) {
			if (json_skip(rd, t) < 0)
				return -1;
			continue;
		}
		cell_text(rd, t, val, sizeof(val));
		if (fields[k].col >= 0)
			(void)str_copy(r->cell[fields[k].col], sizeof(r->cell[0]), val);
		else if (fields[k].col == -1)
			(void)str_copy(port, sizeof(port), val);
		else
			disabled = t == JSON_FALSE;
	}
	if (t != JSON_OBJECT_END)
		return -1;
	(void)str_appendf(r->cell[C_INTERNAL], sizeof(r->cell[0]), ":%s", port);
	if (r->cell[C_RHOST][0] == '\0')
		(void)str_copy(r->cell[C_RHOST], sizeof(r->cell[0]), "*");
	if (strcmp(r->cell[C_LEASE], "0") == 0)
		(void)str_copy(r->cell[C_LEASE], sizeof(r->cell[0]), "-");
	if (r->cell[C_OWNER][0] == '\0')
		(void)str_copy(r->cell[C_OWNER], sizeof(r->cell[0]), "-");
	if (disabled)
		(void)str_appendf(r->cell[C_DESC], sizeof(r->cell[0]), " (disabled)");
	return 0;
}

static void
print_row(const char cells[C_COUNT][272], const size_t *w)
{
	int k;

	for (k = 0; k < C_COUNT - 1; k++)
		printf("%-*s  ", (int)w[k], cells[k]);
	printf("%s\n", cells[C_COUNT - 1]);
}

int
print_table(const struct answer *an)
{
	struct json_rd rd;
	enum json_tok t;
	struct row *rows = NULL, *nr;
	size_t n = 0, cap = 0, w[C_COUNT], i, k;
	char head[C_COUNT][272];
	int rc = -1;

	if (find_member(an, &rd, "mappings", &t) < 0 || t != JSON_ARRAY)
		return -1;
	while ((t = json_next(&rd)) == JSON_OBJECT) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nr = realloc(rows, cap * sizeof(*rows))) == NULL)
				goto out;
			rows = nr;
		}
		if (read_row(&rd, &rows[n++]) < 0)
			goto out;
	}
	if (t != JSON_ARRAY_END)
		goto out;
	for (k = 0; k < C_COUNT; k++) {
		(void)str_copy(head[k], sizeof(head[k]), heads[k]);
		w[k] = strlen(heads[k]);
		for (i = 0; i < n; i++)
			if (strlen(rows[i].cell[k]) > w[k])
				w[k] = strlen(rows[i].cell[k]);
	}
	print_row(head, w);
	for (i = 0; i < n; i++)
		print_row(rows[i].cell, w);
	rc = 0;
out:
	free(rows);
	return rc;
}
