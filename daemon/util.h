/* util.h - small helpers shared by every module: checked numbers and strings. */
#ifndef IGDD_UTIL_H
#define IGDD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <netinet/in.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Doubly-linked lists of structs with prev/next members (the _AT forms
 * name the members): the list is the pointer to its first element
 * (first) and, when last is not NULL, the pointer to its last one.
 * Unlink n, or link n at the head or the tail, keeping both right. */
#define DLIST_UNLINK_AT(first, last, n, prev, next) do {		\
	__typeof__(n) *last_ = (last);					\
	if ((n)->prev)							\
		(n)->prev->next = (n)->next;				\
	else								\
		*(first) = (n)->next;					\
	if ((n)->next)							\
		(n)->next->prev = (n)->prev;				\
	else if (last_ != NULL)						\
		*last_ = (n)->prev;					\
	(n)->prev = (n)->next = NULL;					\
} while (0)
#define DLIST_PUSH_HEAD_AT(first, last, n, prev, next) do {		\
	__typeof__(n) *last_ = (last);					\
	(n)->prev = NULL;						\
	(n)->next = *(first);						\
	if (*(first))							\
		(*(first))->prev = (n);					\
	else if (last_ != NULL)						\
		*last_ = (n);						\
	*(first) = (n);							\
} while (0)
#define DLIST_PUSH_TAIL(first, last, n) do {				\
	(n)->next = NULL;						\
	(n)->prev = *(last);						\
	if (*(last))							\
		(*(last))->next = (n);					\
	else								\
		*(first) = (n);						\
	*(last) = (n);							\
} while (0)
#define DLIST_UNLINK(first, last, n)	DLIST_UNLINK_AT(first, last, n, prev, next)
#define DLIST_PUSH_HEAD(first, last, n)	DLIST_PUSH_HEAD_AT(first, last, n, prev, next)
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#define ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define UNUSED __attribute__((unused))

/* Parse a whole string as an unsigned decimal number in [min, max].
 * Leading/trailing blanks, signs, hex and empty strings are rejected.
 * Returns 0 and sets *out, or -1 (errno EINVAL or ERANGE). */
int parse_uint(const char *s, unsigned long long min, unsigned long long max,
	       unsigned long long *out);
/* Same, straight into the common widths. */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int parse_u16(const char *s, uint16_t min, uint16_t max, uint16_t *out);
/* Same for a buffer that is not NUL-terminated (network input). */
int parse_uint_n(const char *s, size_t len, unsigned long long min,
		 unsigned long long max, unsigned long long *out);

/* "yes"/"no" (also on/off, true/false, 1/0, any case). 0 ok, -1 error. */
int parse_bool(const char *s, bool *out);

/* A blank: space, tab, CR, LF, VT, FF. */
bool blank_char(char c);

/* Copy src into dst[size]; returns 0, or -1 when it did not fit
 * (dst is then truncated but NUL-terminated). */
int str_copy(char *dst, size_t size, const char *src);
/* Copy at most n bytes of src (not necessarily NUL-terminated). */
int str_copy_n(char *dst, size_t size, const char *src, size_t n);
/* snprintf that treats truncation or an encoding error as failure (-1). */
int str_printf(char *dst, size_t size, const char *fmt, ...) ATTR_PRINTF(3, 4);
/* Append to a NUL-terminated buffer; -1 on truncation. */
int str_appendf(char *dst, size_t size, const char *fmt, ...) ATTR_PRINTF(3, 4);

/* The directory part of path into dir[size]: "/a/b" -> "/a", "/b" -> "/",
 * "b" -> "" (none).  0, or -1 when it did not fit (dir is then ""). */
int path_dir(char *dir, size_t size, const char *path);

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), 0 if invalid or cut by left. */
size_t utf8_seq_len(const unsigned char *p, size_t left);
/* Case-insensitive compare of a counted buffer with a NUL-terminated word. */
bool mem_ieq(const char *s, size_t len, const char *word);
/* The value of a hex digit (either case), or -1. */
int hex_digit(char c);

/* 32- and 64-bit FNV-1a of n bytes at p, going on from h (FNV1A_INIT,
 * FNV1A64_INIT to start). */
#define FNV1A_INIT 2166136261u
#define FNV1A64_INIT 14695981039346656037ull
uint32_t fnv1a(uint32_t h, const void *p, size_t n);
uint64_t fnv1a64(uint64_t h, const void *p, size_t n);

/* IPv4 helpers on the v4-mapped IPv6 form the store uses everywhere. */
void addr_from_v4(struct in6_addr *out, struct in_addr v4);
bool addr_is_v4(const struct in6_addr *a);
struct in_addr addr_to_v4(const struct in6_addr *a);
bool addr_eq(const struct in6_addr *a, const struct in6_addr *b);
bool addr_is_any(const struct in6_addr *a);
/* Text form: dotted quad for v4-mapped, RFC 5952 otherwise. */
const char *addr_str(const struct in6_addr *a, char *buf, size_t size);
/* The same for an IPv4 address; ADDR4_STR(a) with a buffer of its own per
 * use (a compound literal, alive to the end of the enclosing block), for
 * log lines. */
const char *addr4_str(struct in_addr a, char *buf, size_t size);
#define ADDR4_STR(a)	addr4_str((a), (char[INET_ADDRSTRLEN]){ 0 }, INET_ADDRSTRLEN)
/* Do a and b share their first plen (0..128) bits? */
bool addr_prefix_eq(const struct in6_addr *a, const struct in6_addr *b, unsigned plen);
/* A MAC address as aa:bb:cc:dd:ee:ff (18 bytes with the NUL); parse 0 / -1. */
const char *mac_str(const uint8_t mac[6], char *buf, size_t size);
int mac_parse(const char *s, uint8_t mac[6]);
/* "a.b.c.d", "a.b.c.d/len" or "a.b.c.d/m.m.m.m" (a contiguous mask):
 * *prefix is the length, or -1 when no mask was given.  0 / -1. */
int addr4_parse_prefix(const char *s, struct in_addr *addr, int *prefix);
/* The netmask of a prefix length (0..32). */
struct in_addr addr4_mask(int prefix);
/* Parse dotted quad or IPv6 text into the v4-mapped/IPv6 form. 0 / -1. */
int addr_parse(const char *s, struct in6_addr *out);

/* calloc(1, size) for a struct whose bytes from head on are a buffer that is
 * written before it is read: only the first head bytes are zeroed, so the
 * buffer's pages are touched (and counted in VmRSS) as it is used, not all
 * at once here (calloc clears a block carved from memory the heap already
 * holds). */
void *alloc_zero_head(size_t size, size_t head);

/* Monotonic milliseconds, and wall-clock seconds. */
uint64_t time_mono_ms(void);
int64_t time_wall(void);

struct msghdr;
/* The interface a received datagram came in on (IP_PKTINFO / IPV6_PKTINFO,
 * 0 if the message carries neither), and, if multicast is not NULL,
 * whether it was sent to a multicast group. */
unsigned msg_pktinfo(const struct msghdr *msg, bool *multicast);

#endif
