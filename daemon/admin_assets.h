/* admin_assets.h - the admin page's files (daemon/admin/), embedded at
 * build time by daemon/admin/embed.sh. */
#ifndef IGDD_ADMIN_ASSETS_H
#define IGDD_ADMIN_ASSETS_H

#include <stddef.h>

struct admin_asset {
	const char *name;	/* file name in daemon/admin/, e.g. "admin.js" */
	const char *type;	/* Content-Type */
	const char *etag;	/* "CKSUM-SIZE" of the file (the gzip form adds -gz) */
	const char *data;	/* NUL-terminated; NULL when only gz is stored */
	size_t len;		/* the file's length */
	const unsigned char *gz; /* gzip -9n of it, or NULL when that saves little */
	size_t gz_len;
};

/* Terminated by an entry with name NULL. */
extern const struct admin_asset admin_assets[];

#endif
