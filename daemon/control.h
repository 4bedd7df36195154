/* control.h - the control socket: a Unix stream socket (control_socket,
 * mode 0660, owner root, group control_group) in the event loop, for
 * igddctl, LuCI's rpcd and scripts.
 *
 * Protocol (igddctl(8) documents it): one JSON object per line each way.
 * A request {"v":1,"cmd":"list"} is answered {"ok":true,...} or
 * {"ok":false,"error":"..."}, in order, one line each.  A request longer
 * than CTL_LINE_MAX bytes is answered with an error and the connection
 * closed.  Peers are checked with SO_PEERCRED: root, or a member of
 * control_group.  Admin operations go through the store like the
 * protocols' (manual forwards are OWNER_STATIC), so UPnP, NAT-PMP and PCP
 * clients see them at once. */
#ifndef IGDD_CONTROL_H
#define IGDD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "mapping.h"
#include "store.h"

struct igdd_ctx;
struct json_out;

#define CTL_VERSION	1
#define CTL_LINE_MAX	8192		/* bytes of one request, its newline included */
#define CTL_MAX_CLIENTS	32		/* at once; beyond, the least recently active goes */
#define CTL_IDLE_MS	10000		/* no progress reading or writing: dropped */
#define CTL_OUT_BUDGET	(64u << 20)	/* answers waiting for all clients at once */
#define CTL_LINES_PER_TURN 4		/* requests of one client per loop turn */
#define CTL_LEASE_MAX	31536000	/* s, a manual forward's --lease */

enum ctl_cmd {
	CTL_LIST, CTL_ADD, CTL_DEL, CTL_FLUSH, CTL_STATS, CTL_METRICS, CTL_STATUS, CTL_RELOAD,
	CTL_CMD_COUNT
};

/* Members of a request (bits of ctl_request.fields). */
#define CTL_F_PROTO	0x01
#define CTL_F_EPORT	0x02
#define CTL_F_IADDR	0x04
#define CTL_F_IPORT	0x08
#define CTL_F_DESC	0x10
#define CTL_F_LEASE	0x20
#define CTL_F_RHOST	0x40
#define CTL_F_SOURCE	0x80
#define CTL_F_UID	0x100		/* a pinhole's UniqueID */

struct ctl_request {
	enum ctl_cmd cmd;
	unsigned fields;
	uint8_t proto;
	uint16_t eport, iport;
	uint16_t uid;			/* del: a pinhole's UniqueID */
	struct in6_addr iaddr, rhost;	/* rhost :: = any */
	uint32_t lease;			/* s, 0 = permanent */
	enum owner_proto source;
	char desc[MAPPING_DESC_MAX];
};

/* Parse one request line (without its newline): strict JSON, one flat
 * object, known members only, each checked.  0, or -1 with a message in
 * err.  A pure function of the bytes (fuzzed). */
int control_parse(const char *line, size_t len, struct ctl_request *req, char *err,
		  size_t errsize);
/* Answer one request line: the response object (no newline) into o. */
void control_handle(struct igdd_ctx *ctx, const char *line, size_t len, struct json_out *o);

/* The commands' work, for the admin page too (one serialiser, one way to
 * add and delete): */
/* Members "mappings" (an array, one object per mapping as "list" gives
 * it) and, when the kernel's counters could not be read,
 * "counters_error", into the open object o; o->failed when memory ran
 * out. */
void control_list(struct igdd_ctx *ctx, struct json_out *o);
/* The members of a "status" answer into the open object o. */
void control_status(struct igdd_ctx *ctx, struct json_out *o);
/* A manual forward (req as "add" has it): ST_OK and *out (may be NULL),
 * or the store's refusal with a sentence for a person in msg (which
 * mapping holds the port, ...).  by: who asked, for the log line. */
enum store_result control_forward_add(struct igdd_ctx *ctx, const struct ctl_request *req,
				      const char *by, struct mapping **out, char *msg,
				      size_t msgsize);
/* Delete the mapping of req's key (proto, eport, rhost) as the
 * administrator, whatever its source: ST_OK, or the reason in msg. */
enum store_result control_forward_del(struct igdd_ctx *ctx, const struct ctl_request *req,
				      const char *by, char *msg, size_t msgsize);

/* Open the socket (before privileges are dropped).  0, or -1 with the
 * reason logged: a live igdd holds the path, a file that is no socket is
 * in the way, the group does not exist.  control_socket empty: nothing. */
int control_init(struct igdd_ctx *ctx);
void control_shutdown(struct igdd_ctx *ctx);

#endif
