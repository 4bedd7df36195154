/* mapping.c - protocol names. */
#include <netinet/in.h>
#include <strings.h>

#include "mapping.h"

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
