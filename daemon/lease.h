/* lease.h - the lease file: an append-only journal of mapping records,
 * made durable before a change is acknowledged (one sync may cover a
 * batch of changes) and compacted now and then (format in lease.c). */
#ifndef IGDD_LEASE_H
#define IGDD_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "mapping.h"

#define LEASE_LINE_MAX 2048	/* a formatted record always fits */

struct lease;

struct lease_record {
	char op;			/* '+' add/refresh, '-' delete; pinholes 'P', 'p' */
	struct mapping m;		/* '-' fills only proto, eport, rhost; 'p' uid */
	int64_t expiry_wall;		/* UNIX seconds, 0 = none */
	/* lease_parse() decodes into these, m's pointers point here (a
	 * record built to be written may point anywhere). */
	struct in6_addr rhost, iaddr;
	struct mapping_owner owner;
	char desc[MAPPING_DESC_MAX];
};

/* Open (creating it, mode 0600) the journal for appending.  A torn last
 * record (no newline: crash mid-write) is cut off.  The file is opened
 * and replaced only inside its directory, opened once; never through a
 * symbolic link.  The directory and the file must be owned by the
 * effective uid, the file have no other hard link, neither be writable
 * by group or others.  NULL (the reason logged) on error. */
struct lease *lease_open(const char *path);
/* Would lease_open() accept path for a daemon running as owner?  Looks,
 * never creates (a missing file is fine).  0, or -1 with the reason in
 * why[size]. */
int lease_check_path(const char *path, uid_t owner, char *why, size_t size);
void lease_close(struct lease *l);

/* Append one record with one write(), not yet synced.  0, or -1: the
 * record is not in the file (a partial write is truncated away) and
 * lease_broken() holds until the next successful lease_compact(). */
int lease_append(struct lease *l, const struct lease_record *r);
/* A group: the records appended between lease_group_begin() and
 * lease_group_end() go to the file with one write() at the end (a batch's
 * records); a failed write takes them all back, as a failed append does.
 * lease_group_end() returns 0 or -1. */
void lease_group_begin(struct lease *l);
int lease_group_end(struct lease *l);
/* Make every record appended since the last sync durable with one
 * fdatasync() (none: 0 at once).  0, or -1: those records are cut off
 * the file again (their fate on disk is unknown) and lease_broken()
 * holds as above.  A change may be acknowledged only after this. */
int lease_sync(struct lease *l);
bool lease_broken(const struct lease *l);
/* The last write (append or compaction) failed; it was logged once, and
 * nothing more is logged until a write succeeds again. */
bool lease_failing(const struct lease *l);
/* Records in the journal (live or superseded). */
size_t lease_records(const struct lease *l);
/* How many of the records lease_open() found were '+' or 'P' ones (an
 * upper bound of the mappings a restore brings back, near enough). */
size_t lease_adds(const struct lease *l);
/* More than 2 x live + 64 records, or the last write failed: time to
 * compact. */
bool lease_should_compact(const struct lease *l, size_t live);
/* Replace the file with exactly these mappings: temp file, fsync, rename,
 * fsync of the directory.  Expiries are converted with now_mono/now_wall.
 * 0 / -1 (the old journal then stays in place). */
int lease_compact(struct lease *l, const struct mapping *const *ms, size_t n,
		  uint64_t now_mono, int64_t now_wall);

/* The kernel's state after the changes of the records written so far,
 * as the backend names it (fw_ops.generation: the ruleset generation, the
 * boot and the network namespace): a comment line "# gen TOKEN", made
 * durable with them by the next lease_sync().  A start that finds it as
 * the file's last line and the kernel still in that state knows that the
 * kernel holds what the journal says (after a kill -9, a stop for
 * restart) and need not read the kernel's elements.  0, or -1 (not
 * written; the journal stays whole). */
#define LEASE_GEN_MAX	96
int lease_mark_gen(struct lease *l, const char *gen);
/* The "# gen" token that was the last line of the file lease_restore()
 * read; "" when the last line was not one. */
const char *lease_restored_gen(const struct lease *l);
/* Every line lease_restore() read was a good record or a comment (none
 * skipped as malformed). */
bool lease_restored_clean(const struct lease *l);

/* Replay a journal: cb is called for every good record in file order;
 * bad lines are skipped with a "file:line" warning each, a torn last line
 * is ignored.  Returns the number of good records, 0 when the file does
 * not exist, -1 when it cannot be read. */
typedef void (*lease_replay_cb)(void *arg, const struct lease_record *r);
int lease_replay(const char *path, lease_replay_cb cb, void *arg);
/* The same for the open journal (what lease_open() checked). */
int lease_restore(struct lease *l, lease_replay_cb cb, void *arg);

/* One record as a line with its newline.  Returns the length, -1 if it
 * did not fit. */
int lease_format(char *buf, size_t size, const struct lease_record *r);
/* Parse one line (without its newline).  Pure; 0 ok, -1 malformed. */
int lease_parse(const char *line, size_t len, struct lease_record *r);
/* Parse one line of miniupnpd's lease file (without its newline), in
 * either form: PROTO:EPORT:IADDR:IPORT:TIMESTAMP:DESC, or with the
 * remote host, PROTO:EPORT:RHOST:IADDR:IPORT:TIMESTAMP:DESC (RHOST empty
 * or '*' for any).  TIMESTAMP is the lease's end in UNIX time (0: none)
 * or, below 1000000000, the seconds left (LEASEFILE_USE_REMAINING_TIME).
 * The record is a '+' of a UPnP mapping (NAT-PMP for miniupnpd's
 * "NAT-PMP ..." descriptions) owned by the internal client, created
 * now_wall.  Pure; 0 ok, -1 malformed. */
int lease_parse_miniupnpd(const char *line, size_t len, int64_t now_wall,
			  struct lease_record *r);

/* Monotonic ms -> wall-clock seconds for expiries (0 stays 0; a lease
 * converts to at least 1 s in the future so it is never lost early).
 * The way back is the store's: a restored lease is what is left of it,
 * bounded as a live request (store_restore()). */
int64_t lease_wall_from_mono(uint64_t expires, uint64_t now_mono, int64_t now_wall);

#endif
