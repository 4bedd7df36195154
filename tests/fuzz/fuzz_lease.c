/* fuzz_lease.c - the lease file line parsers (igdd's journal and
 * miniupnpd's file being taken over): no crash, and every line either
 * accepts formats as an igdd record that parses back to the same one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"
#include "log.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lease_record r, back;
	char line[LEASE_LINE_MAX];
	int n;

	log_init("fuzz", true, -1);
	if (lease_parse((const char *)data, size, &r) < 0 &&
	    lease_parse_miniupnpd((const char *)data, size, 1800000000, &r) < 0)
		return 0;
	n = lease_format(line, sizeof(line), &r);
	if (n <= 0)
		abort();	/* a parsed record must always format */
	if (lease_parse(line, (size_t)n - 1, &back) < 0)
		abort();
	if (back.op != r.op || back.m.proto != r.m.proto || back.m.eport != r.m.eport ||
	    !addr_eq(back.m.rhost, r.m.rhost))
		abort();
	if ((r.op == '+' || r.op == 'P') &&
	    (back.m.iport != r.m.iport || back.expiry_wall != r.expiry_wall ||
	     strcmp(back.m.desc, r.m.desc) != 0))
		abort();
	if ((r.op == 'P' || r.op == 'p') && (back.m.uid != r.m.uid || back.m.rport != r.m.rport))
		abort();	/* a pinhole's key and remote port */
	return 0;
}
