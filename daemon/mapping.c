/* mapping.c - protocol names, what a pinhole is, made descriptions. */
#include <netinet/in.h>
#include <string.h>
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

const char mapping_desc_tags[2][2] = { "N", "P" };

/* "<prefix><port> <suffix>" into buf, written by hand: a listing of
 * thousands of mappings makes one for each of them. */
static int
desc_write(char buf[MAPPING_DESC_GEN_MAX], const char *prefix, uint16_t port,
	   const char *suffix)
{
	char digits[5];
	size_t n = 0, lp = strlen(prefix), ls = strlen(suffix), i;

	do {
		digits[n++] = (char)('0' + port % 10);
		port /= 10;
	} while (port != 0);
	if (lp + n + 1 + ls + 1 > MAPPING_DESC_GEN_MAX)
		return -1;
	memcpy(buf, prefix, lp);
	for (i = 0; i < n; i++)
		buf[lp + i] = digits[n - 1 - i];
	buf[lp + n] = ' ';
	memcpy(buf + lp + n + 1, suffix, ls + 1);
	return 0;
}

int
mapping_desc_make(char buf[MAPPING_DESC_GEN_MAX], enum mapping_desc_kind k, uint8_t proto,
		  uint16_t iport)
{
	if (k == MAPPING_DESC_NATPMP)
		return desc_write(buf, "NAT-PMP ", iport, proto == IPPROTO_TCP ? "tcp" : "udp");
	return desc_write(buf, "PCP ", iport, proto_name(proto));
}

const char *
mapping_desc(const struct mapping *m, char buf[MAPPING_DESC_GEN_MAX])
{
	enum mapping_desc_kind k;

	if (m->desc == mapping_desc_tags[MAPPING_DESC_NATPMP])
		k = MAPPING_DESC_NATPMP;
	else if (m->desc == mapping_desc_tags[MAPPING_DESC_PCP])
		k = MAPPING_DESC_PCP;
	else
		return m->desc;
	if (mapping_desc_make(buf, k, m->proto, m->iport) < 0)
		buf[0] = '\0';
	return buf;
}

/* Does text read "<iport><suffix>" exactly (no leading zero)? */
static bool
port_then(const char *text, uint16_t iport, const char *suffix)
{
	unsigned v = 0;
	const char *p = text;

	if (p[0] == '0' && p[1] >= '0' && p[1] <= '9')
		return false;	/* a leading zero: not a text made */
	for (; *p >= '0' && *p <= '9' && p - text < 5; p++)
		v = v * 10 + (unsigned)(*p - '0');
	return p != text && v == iport && strcmp(p, suffix) == 0;
}

/* Read, not written: this runs on every add and refresh. */
const char *
mapping_desc_tag(const struct mapping *m, const char *desc)
{
	if (strncmp(desc, "NAT-PMP ", 8) == 0)
		return port_then(desc + 8, m->iport, m->proto == IPPROTO_TCP ? " tcp" : " udp")
			       ? mapping_desc_tags[MAPPING_DESC_NATPMP] : NULL;
	if (strncmp(desc, "PCP ", 4) == 0) {
		char suffix[8] = " ";

		(void)str_copy(suffix + 1, sizeof(suffix) - 1, proto_name(m->proto));
		return port_then(desc + 4, m->iport, suffix) ? mapping_desc_tags[MAPPING_DESC_PCP]
							       : NULL;
	}
	return NULL;
}
