/* fuzz_upnpcp.c - the relay's UPnP control point reads what an upstream
 * IGD sends (as untrusted as a LAN client): SSDP answers, HTTP responses
 * (chunked ones decoded in place), device descriptions, SOAP answers, the
 * URLs in them.  Input: one selector byte, then the bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "upstream_upnp_parse.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ssdp(char *d, size_t n)
{
	struct upcp_ssdp r;
	struct upcp_url u;

	if (upcp_parse_ssdp(d, n, &r) == 0) {
		if (strlen(r.location) >= sizeof(r.location) || r.location[0] == '\0')
			abort();
		if (upcp_parse_url(r.location, strlen(r.location), &u) == 0 && u.path[0] != '/')
			abort();
	}
}

static void
http(char *d, size_t n)
{
	struct upcp_http h;
	int rc = upcp_parse_http(d, n, (n & 1) != 0, &h);

	if (rc == 0 && (h.body < d || h.body + h.body_len > d + n || h.status < 100 || h.status > 599))
		abort();
}

static void
desc(char *d, size_t n)
{
	static const char loc[] = "http://100.64.7.1:2869/a/root.xml";
	struct upcp_url from;
	struct upcp_desc r;

	if (upcp_parse_url(loc, strlen(loc), &from) < 0)
		abort();
	if (upcp_parse_desc(d, n, &from, &r) == 0 &&
	    (r.version < 1 || r.version > 2 || r.control.path[0] != '/' || r.control.port == 0))
		abort();
}

static void
soap(char *d, size_t n)
{
	struct upcp_soap r;
	struct upcp_url ctl;
	const char *args[] = { "NewPortMappingDescription", NULL };
	char buf[4096], *text;

	if (upcp_parse_soap(d, n, &r) == 0 && r.error < 0)
		abort();
	/* whatever a description says comes back escaped in a request */
	if ((text = malloc(n + 1)) == NULL)
		return;
	memcpy(text, d, n);
	text[n] = '\0';
	args[1] = text;
	if (upcp_parse_url("http://1.2.3.4:5/c", 18, &ctl) == 0 &&
	    upcp_write_soap(buf, sizeof(buf), &ctl, "urn:x", "A", args, 1) > sizeof(buf))
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const parsers[])(char *, size_t) = { ssdp, http, desc, soap };
	char *copy;

	log_init("fuzz", true, -1);
	if (size < 1)
		return 0;
	/* an exact-size copy: a read past the end is ASan's to see */
	if ((copy = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(copy, data + 1, size - 1);
	parsers[data[0] % ARRAY_SIZE(parsers)](copy, size - 1);
	free(copy);
	return 0;
}
