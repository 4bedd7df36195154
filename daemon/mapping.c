/* mapping.c - protocol names, what a pinhole is. */
#include <netinet/in.h>
#include <strings.h>

#include "mapping.h"
#include "util.h"

bool
mapping_is_pinhole(const struct mapping *m)
{
	return m->iaddr != NULL && !addr_is_v4(m->iaddr);
}

const char *
proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return "TCP";
	case IPPROTO_UDP: return "UDP";
	default: return "?";
	}
}

int
proto_parse(const char *s, uint8_t *out)
{
	if (strcasecmp(s, "TCP") == 0)
		*out = IPPROTO_TCP;
	else if (strcasecmp(s, "UDP") == 0)
		*out = IPPROTO_UDP;
	else
		return -1;
	return 0;
}
