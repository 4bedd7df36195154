/* fuzz_admin.c - libFuzzer harness for the admin page's parsers: the
 * input's first byte picks what the rest is (a form body through both of
 * the page's forms, a Cookie header, an Origin or Referer, an
 * If-None-Match, an Accept-Encoding, an Authorization, a request target
 * with a query, a DHCP leases file); the rest goes through, in a heap
 * buffer of exactly its size (ASan sees a read past it).
 *
 * Invariants: a parsed form's strings lie in the caller's buffer and a
 * value's length is what it holds; a cookie value, a token lie inside the
 * header; every message is NUL-terminated within its field. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admin_parse.h"
#include "control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const char *p, size_t n, const char *buf, size_t len)
{
	if (n > 0 && (p < buf || p + n > buf + len))
		__builtin_trap();
}

static void
forms(const char *in, size_t len)
{
	struct admin_form f;
	struct ctl_request req;
	struct admin_errors e;
	char err[128], *buf = malloc(len + 2);
	unsigned k;

	if (buf == NULL)
		return;
	if (admin_form_parse(in, len, buf, len + 2, &f, err, sizeof(err)) == 0) {
		for (k = 0; k < f.n; k++) {
			inside(f.f[k].name, strlen(f.f[k].name) + 1, buf, len + 2);
			if (f.f[k].len > 0)
				inside(f.f[k].value, f.f[k].len + 1, buf, len + 2);
		}
		(void)admin_forward_parse(&f, &req, &e);
		for (k = 0; k < AF_COUNT; k++)
			if (memchr(e.field[k], '\0', sizeof(e.field[k])) == NULL)
				__builtin_trap();
		if (memchr(req.desc, '\0', sizeof(req.desc)) == NULL)
			__builtin_trap();
		(void)admin_delete_parse(&f, &req, &e);
	} else if (memchr(err, '\0', sizeof(err)) == NULL) {
		__builtin_trap();
	}
	free(buf);
}

static void
name_seen(void *arg, const struct in6_addr *a, const char *name)
{
	(void)a;
	*(size_t *)arg += strlen(name) < ADMIN_HOSTNAME_MAX ? 1 : (__builtin_trap(), 0);
}

static void
headers(uint8_t sel, const char *in, size_t len)
{
	const char *v;
	size_t pos = 0, vl, n = 0;
	uint64_t q;

	switch (sel % 8) {
	case 1:
		while (admin_cookie_next(in, len, &pos, "igdd_sid", &v, &vl) && n++ < 1000)
			inside(v, vl, in, len);
		break;
	case 2:
		(void)admin_same_origin(in, len, "192.168.1.1:8080", 16, sel & 8);
		(void)admin_same_origin("http://192.168.1.1:8080", 23, in, len, false);
		break;
	case 3:
		(void)admin_etag_match(in, len, "\"12345-678\"");
		break;
	case 4:
		(void)admin_accepts_gzip(in, len);
		break;
	case 5:
		if (admin_bearer(in, len, &v, &vl))
			inside(v, vl, in, len);
		break;
	case 6:
		(void)admin_query_u64(in, len, "since", &q);
		break;
	case 7:
		(void)admin_leases_parse(in, len, name_seen, &n);
		break;
	default:
		forms(in, len);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in;

	if (size == 0)
		return 0;
	in = malloc(size - 1 > 0 ? size - 1 : 1);
	if (in == NULL)
		return 0;
	memcpy(in, data + 1, size - 1);
	headers(data[0], in, size - 1);
	free(in);
	return 0;
}
