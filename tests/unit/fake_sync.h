/* fake_sync.h - fdatasync() for the unit tests: counts the calls, notes
 * the size of the file each one made durable, and fails on demand. */
#ifndef IGDD_FAKE_SYNC_H
#define IGDD_FAKE_SYNC_H

struct fake_sync {
	unsigned calls;		/* fdatasync() calls so far */
	unsigned fail;		/* fail the next N calls (EIO), syncing nothing */
	long long size;		/* size of the file at the last call */
};
extern struct fake_sync fake_sync;

#endif
