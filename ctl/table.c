/* table.c - igddctl list: the answer's mappings as a table a person
 * reads, columns as wide as their widest cell.  An IPv6 pinhole shows
 * "pinhole:ID" as its external side (its UniqueID: igddctl del pinhole
 * ID), IPv6 addresses in brackets. */
#include <stdbool.h>
#include <stdint.h>
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

/* Members of a mapping object and the column they go to, or (negative)
 * what read_cells() keeps aside. */
enum { X_IPORT = -1, X_ENABLED = -2, X_PINHOLE = -3, X_UID = -4, X_RPORT = -5, X_COUNT = 5 };
static const struct {
	const char *name;
	int col;
} fields[] = {
	{ "source", C_SOURCE }, { "protocol", C_PROTO }, { "external_port", C_EPORT },
	{ "internal_client", C_INTERNAL }, { "internal_port", X_IPORT }, { "remote_host", C_RHOST },
	{ "lease_remaining", C_LEASE }, { "packets", C_PACKETS }, { "bytes", C_BYTES },
	{ "owner", C_OWNER }, { "description", C_DESC }, { "enabled", X_ENABLED },
	{ "pinhole", X_PINHOLE }, { "unique_id", X_UID }, { "remote_port", X_RPORT },
};

#define CELL_MAX 272

/* A row's cells, packed one after the other, each NUL-terminated. */
struct row {
	char *buf;
	uint16_t off[C_COUNT];
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

/* "[addr]" for an IPv6 address in cell c (the port follows it). */
static void
bracket(char *c)
{
	char a[CELL_MAX];

	if (strchr(c, ':') != NULL && str_copy(a, sizeof(a), c) == 0)
		(void)str_printf(c, CELL_MAX, "[%s]", a);
}

/* The external and remote sides of a pinhole: "pinhole:ID", the remote
 * host in brackets and its port ("*" = any). */
static void
pinhole_cells(char cell[C_COUNT][CELL_MAX], const char *uid, const char *rport)
{
	(void)str_printf(cell[C_EPORT], CELL_MAX, "pinhole:%s", uid);
	if (cell[C_RHOST][0] == '\0')
		(void)str_copy(cell[C_RHOST], CELL_MAX, "*");
	else
		bracket(cell[C_RHOST]);
	(void)str_appendf(cell[C_RHOST], CELL_MAX, ":%s", strcmp(rport, "0") == 0 ? "*" : rport);
}

/* One mapping object (its '{' just read) into cells.  0, or -1. */
static int
read_cells(struct json_rd *rd, char cell[C_COUNT][CELL_MAX])
{
	char x[X_COUNT + 1][16], val[CELL_MAX];
	bool disabled = false, pin = false;
	enum json_tok t;
	size_t k;

	memset(cell, 0, C_COUNT * CELL_MAX);
	memset(x, 0, sizeof(x));
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
			(void)str_copy(cell[fields[k].col], CELL_MAX, val);
		else if (fields[k].col == X_ENABLED)
			disabled = t == JSON_FALSE;
		else if (fields[k].col == X_PINHOLE)
			pin = t == JSON_TRUE;
		else
			(void)str_copy(x[-fields[k].col], sizeof(x[0]), val);
	}
	if (t != JSON_OBJECT_END)
		return -1;
	bracket(cell[C_INTERNAL]);
	(void)str_appendf(cell[C_INTERNAL], CELL_MAX, ":%s", x[-X_IPORT]);
	if (pin)
		pinhole_cells(cell, x[-X_UID], x[-X_RPORT]);
	else if (cell[C_RHOST][0] == '\0')
		(void)str_copy(cell[C_RHOST], CELL_MAX, "*");
	if (strcmp(cell[C_LEASE], "0") == 0)
		(void)str_copy(cell[C_LEASE], CELL_MAX, "-");
	if (cell[C_OWNER][0] == '\0')
		(void)str_copy(cell[C_OWNER], CELL_MAX, "-");
	if (disabled)
		(void)str_appendf(cell[C_DESC], CELL_MAX, " (disabled)");
	return 0;
}

/* Cells packed into r, the widths w grown to fit them.  0, or -1. */
static int
pack_row(char cell[C_COUNT][CELL_MAX], struct row *r, size_t *w)
{
	size_t len[C_COUNT], total = 0, k;

	for (k = 0; k < C_COUNT; k++) {
		len[k] = strlen(cell[k]);
		if (len[k] > w[k])
			w[k] = len[k];
		total += len[k] + 1;
	}
	if ((r->buf = malloc(total)) == NULL)
		return -1;
	for (total = 0, k = 0; k < C_COUNT; k++) {
		r->off[k] = (uint16_t)total;
		memcpy(r->buf + total, cell[k], len[k] + 1);
		total += len[k] + 1;
	}
	return 0;
}

static void
print_row(const struct row *r, const char *const *cells, const size_t *w)
{
	int k;

	for (k = 0; k < C_COUNT; k++) {
		const char *c = r != NULL ? r->buf + r->off[k] : cells[k];

		if (k < C_COUNT - 1)
			printf("%-*s  ", (int)w[k], c);
		else
			printf("%s\n", c);
	}
}

int
print_table(const struct answer *an)
{
	static char cell[C_COUNT][CELL_MAX];
	struct json_rd rd;
	enum json_tok t;
	struct row *rows = NULL, *nr;
	size_t n = 0, cap = 0, w[C_COUNT], i, k;
	int rc = -1;

	for (k = 0; k < C_COUNT; k++)
		w[k] = strlen(heads[k]);
	if (find_member(an, &rd, "mappings", &t) < 0 || t != JSON_ARRAY)
		return -1;
	while ((t = json_next(&rd)) == JSON_OBJECT) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((nr = realloc(rows, cap * sizeof(*rows))) == NULL)
				goto out;
			rows = nr;
		}
		if (read_cells(&rd, cell) < 0 || pack_row(cell, &rows[n], w) < 0)
			goto out;
		n++;
	}
	if (t != JSON_ARRAY_END)
		goto out;
	print_row(NULL, heads, w);
	for (i = 0; i < n; i++)
		print_row(&rows[i], NULL, w);
	rc = 0;
out:
	for (i = 0; i < n; i++)
		free(rows[i].buf);
	free(rows);
	return rc;
}
