/* stun.h - the external address seen by a STUN server (RFC 8489 Binding),
 * and how the NAT above filters (RFC 5780), as miniupnpd's
 * ext_perform_stun=yes|no|allow-filtered.  Runs on the event loop: never
 * blocks it (a host name is resolved by a short-lived child process),
 * retransmits per RFC 8489 §6.2.1, is retried after a failure, never
 * fatal.  The message writer and parser are pure (fuzz_upstream). */
#ifndef IGDD_STUN_H
#define IGDD_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

struct igdd_ctx;

#define STUN_HDR_LEN		20
#define STUN_MAGIC		0x2112A442u
#define STUN_BINDING_REQUEST	0x0001
#define STUN_BINDING_SUCCESS	0x0101
#define STUN_BINDING_ERROR	0x0111
#define STUN_CHANGE_IP		0x04	/* RFC 5780 CHANGE-REQUEST flags */
#define STUN_CHANGE_PORT	0x02
#define STUN_RTO_MS		500	/* RFC 8489 §6.2.1 */
#define STUN_RC			7	/* requests sent at most */
#define STUN_RM			16	/* the last wait, in RTOs */
#define STUN_TEST_TRIES		3	/* a filtering test's requests (0, 500, 1500 ms) */

/* A Binding request with this transaction id (12 bytes) and, when
 * change is not 0, a CHANGE-REQUEST (RFC 5780 §7.2).  Its length (20 or
 * 28), 0 if size is too small. */
size_t stun_write_request(uint8_t *buf, size_t size, const uint8_t *txid, uint8_t change);

/* What a Binding response says. */
struct stun_resp {
	bool success;			/* a success response (else an error one) */
	int error;			/* ERROR-CODE class * 100 + number, or 0 */
	bool has_mapped, has_other;
	struct in_addr mapped;		/* XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS */
	uint16_t mapped_port;
	bool xor_mapped;		/* it came from XOR-MAPPED-ADDRESS */
	struct in_addr other;		/* OTHER-ADDRESS (RFC 5780), or RFC 3489's
					 * CHANGED-ADDRESS */
	uint16_t other_port;
};

/* Parse one datagram: 0 and *r when it is a Binding response to txid
 * (magic cookie, length, attribute framing checked; IPv6 addresses and
 * unknown attributes skipped), -1 otherwise.  Never reads past len. */
int stun_parse_response(const uint8_t *buf, size_t len, const uint8_t *txid,
			struct stun_resp *r);

/* How the NAT above filters (RFC 5780 §4.4). */
enum stun_filtering {
	STUN_FILTER_UNKNOWN = 0,	/* not tested (no OTHER-ADDRESS) */
	STUN_FILTER_NONE,		/* no NAT: the server saw our own address */
	STUN_FILTER_INDEPENDENT,	/* endpoint-independent: mappings work */
	STUN_FILTER_ADDRESS,		/* address-dependent */
	STUN_FILTER_ADDRESS_PORT,	/* address and port dependent */
};
const char *stun_filtering_name(enum stun_filtering f);

/* Start (ext_perform_stun on): a first run at once, then every
 * ext_stun_interval s, on SIGUSR1 (stun_recheck) and when the address of
 * ext_ifname changes.  0 / -1. */
int stun_init(struct igdd_ctx *ctx);
void stun_recheck(struct igdd_ctx *ctx);
void stun_shutdown(struct igdd_ctx *ctx);

/* Can mappings be reached from outside, as far as STUN can tell?  False
 * only after a run that saw a private or shared address, or (with
 * ext_perform_stun=yes, not allow-filtered) a filtering NAT. */
bool stun_reachable(const struct igdd_ctx *ctx);
/* The last run's findings: the address seen (0 = none yet) and the
 * filtering; a line for logs and status. */
struct in_addr stun_address(const struct igdd_ctx *ctx);
enum stun_filtering stun_filtering(const struct igdd_ctx *ctx);
const char *stun_status(const struct igdd_ctx *ctx, char *buf, size_t size);

/* The same for status and stats (igddctl): how the address was learnt. */
struct stun_info {
	const char *state;		/* "resolving", "testing", "done", "failing",
					 * "no answer yet" */
	struct in_addr address;		/* the last run's; 0 = none */
	struct in_addr server;		/* the server that told it */
	uint16_t port;
	bool xor_mapped;		/* from XOR-MAPPED-ADDRESS (else MAPPED-ADDRESS) */
	enum stun_filtering filtering;
	bool reachable;
	uint64_t age_s;			/* since the last result */
	uint64_t runs, failures;	/* runs done and failed, since the start */
};
/* False when STUN is off. */
bool stun_get_info(const struct igdd_ctx *ctx, struct stun_info *i);
/* The configuration changed (reload): ext_stun_port or ext_stun_interval;
 * a run now, with the new values (the one under way ends first). */
void stun_reconfigure(struct igdd_ctx *ctx);

#endif
