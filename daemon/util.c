/* util.c - checked numbers, strings, addresses and clocks. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "util.h"

int
parse_uint_n(const char *s, size_t len, unsigned long long min,
	     unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > 20) {
		errno = len == 0 ? EINVAL : ERANGE;
		return -1;
	}
	for (i = 0; i < len; i++) {
		unsigned d;
		if (s[i] < '0' || s[i] > '9') {
			errno = EINVAL;
			return -1;
		}
		d = (unsigned)(s[i] - '0');
		if (v > (~0ULL - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		v = v * 10 + d;
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
parse_uint(const char *s, unsigned long long min, unsigned long long max,
	   unsigned long long *out)
{
	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	return parse_uint_n(s, strlen(s), min, max, out);
}

int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;

	if (parse_uint(s, min, max, &v) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int
parse_u16(const char *s, uint16_t min, uint16_t max, uint16_t *out)
{
	unsigned long long v;

	if (parse_uint(s, min, max, &v) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

bool
blank_char(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int
str_copy(char *dst, size_t size, const char *src)
{
	return str_copy_n(dst, size, src, strlen(src));
}

int
str_copy_n(char *dst, size_t size, const char *src, size_t n)
{
	const char *nul;

	if (size == 0)
		return -1;
	nul = memchr(src, '\0', n);
	if (nul != NULL)
		n = (size_t)(nul - src);
	if (n >= size) {
		memcpy(dst, src, size - 1);
		dst[size - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

uint32_t
fnv1a(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 16777619u;
	return h;
}

uint64_t
fnv1a64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		h = (h ^ *b++) * 1099511628211ull;
	return h;
}

int
str_printf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int
str_appendf(char *dst, size_t size, const char *fmt, ...)
{
	size_t used = strnlen(dst, size);
	va_list ap;
	int n;

	if (used >= size)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(dst + used, size - used, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= size - used) ? -1 : 0;
}

int
path_dir(char *dir, size_t size, const char *path)
{
	char *slash;

	if (str_copy(dir, size, path) < 0) {
		dir[0] = '\0';
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL)
		dir[0] = '\0';
	else
		*(slash == dir ? slash + 1 : slash) = '\0';
	return 0;
}

bool
mem_ieq(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && strncasecmp(s, word, len) == 0;
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
addr_from_v4(struct in6_addr *out, struct in_addr v4)
{
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = 0xff;
	out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &v4.s_addr, 4);
}

bool
addr_is_v4(const struct in6_addr *a)
{
	return IN6_IS_ADDR_V4MAPPED(a);
}

struct in_addr
addr_to_v4(const struct in6_addr *a)
{
	struct in_addr v4;

	memcpy(&v4.s_addr, &a->s6_addr[12], 4);
	return v4;
}

bool
addr_eq(const struct in6_addr *a, const struct in6_addr *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

bool
addr_is_any(const struct in6_addr *a)
{
	struct in_addr v4;

	if (addr_eq(a, &in6addr_any))
		return true;
	if (!addr_is_v4(a))
		return false;
	v4 = addr_to_v4(a);
	return v4.s_addr == 0;
}

const char *
addr4_str(struct in_addr a, char *buf, size_t size)
{
	/* inet_ntop() as glibc writes it, without its sprintf(): a lease
	 * record has three addresses, and the journal one per change */
	const uint8_t *b = (const uint8_t *)&a.s_addr;
	char tmp[INET_ADDRSTRLEN], *p = tmp;
	int i;

	for (i = 0; i < 4; i++) {
		if (b[i] >= 100)
			*p++ = (char)('0' + b[i] / 100);
		if (b[i] >= 10)
			*p++ = (char)('0' + b[i] / 10 % 10);
		*p++ = (char)('0' + b[i] % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	if ((size_t)(p - tmp) > size)
		return "?";
	memcpy(buf, tmp, (size_t)(p - tmp));
	return buf;
}

const char *
addr_str(const struct in6_addr *a, char *buf, size_t size)
{
	if (addr_is_v4(a))
		return addr4_str(addr_to_v4(a), buf, size);
	return inet_ntop(AF_INET6, a, buf, (socklen_t)size) ? buf : "?";
}

bool
addr_prefix_eq(const struct in6_addr *a, const struct in6_addr *b, unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;

	if (plen > 128 || memcmp(a->s6_addr, b->s6_addr, full) != 0)
		return false;
	return rest == 0 ||
	       ((a->s6_addr[full] ^ b->s6_addr[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

const char *
mac_str(const uint8_t mac[6], char *buf, size_t size)
{
	if (str_printf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		       mac[3], mac[4], mac[5]) < 0)
		return "?";
	return buf;
}

int
mac_parse(const char *s, uint8_t mac[6])
{
	int i, hi, lo;

	for (i = 0; i < 6; i++, s += 3) {
		hi = hex_digit(s[0]);
		lo = hi < 0 ? -1 : hex_digit(s[1]);
		if (lo < 0 || s[2] != (i == 5 ? '\0' : ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
addr_parse(const char *s, struct in6_addr *out)
{
	struct in_addr v4;

	if (inet_pton(AF_INET, s, &v4) == 1) {
		addr_from_v4(out, v4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	return -1;
}

int
addr4_parse_prefix(const char *s, struct in_addr *addr, int *prefix)
{
	char buf[INET_ADDRSTRLEN * 2 + 2];
	char *slash;
	uint16_t len;

	if (str_copy(buf, sizeof(buf), s) < 0)
		return -1;
	*prefix = -1;
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, addr) != 1)
		return -1;
	if (slash == NULL)
		return 0;
	if (strchr(slash, '.') != NULL) {
		struct in_addr m;
		uint32_t inv;

		if (inet_pton(AF_INET, slash, &m) != 1)
			return -1;
		inv = ~ntohl(m.s_addr);
		if ((inv & (inv + 1)) != 0)	/* not 1...10...0 */
			return -1;
		*prefix = 32 - __builtin_popcount(inv);
		return 0;
	}
	if (parse_u16(slash, 0, 32, &len) < 0)
		return -1;
	*prefix = len;
	return 0;
}

struct in_addr
addr4_mask(int prefix)
{
	struct in_addr m;

	m.s_addr = prefix <= 0 ? 0 : htonl(~0u << (32 - (prefix > 32 ? 32 : prefix)));
	return m;
}

/* The monotonic clock starts near 0 at boot; a fixed day is added so
 * that "now minus an age" never wraps on a gateway (or a test machine)
 * that booted minutes ago.  Only differences of these values mean
 * anything, and every process adds the same day. */
#define TIME_MONO_BASE_MS	86400000u

void *
alloc_zero_head(size_t size, size_t head)
{
	void *p = malloc(size);

	if (p != NULL)
		memset(p, 0, head < size ? head : size);
	return p;
}

uint64_t
time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return TIME_MONO_BASE_MS + (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t
time_wall(void)
{
	return (int64_t)time(NULL);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), 0 if invalid. */
size_t
utf8_seq_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (left < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

unsigned
msg_pktinfo(const struct msghdr *msg, bool *multicast)
{
	struct cmsghdr *c;
	unsigned ifindex = 0;
	bool mc = false;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR((struct msghdr *)msg, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			ifindex = (unsigned)pi.ipi_ifindex;
			mc = IN_MULTICAST(ntohl(pi.ipi_addr.s_addr));
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi6;

			memcpy(&pi6, CMSG_DATA(c), sizeof(pi6));
			ifindex = pi6.ipi6_ifindex;
			mc = IN6_IS_ADDR_MULTICAST(&pi6.ipi6_addr);
		}
	}
	if (multicast != NULL)
		*multicast = mc;
	return ifindex;
}
