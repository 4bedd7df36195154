/* xmldata.h - the XML files of xml/, embedded at build time. */
#ifndef IGDD_XMLDATA_H
#define IGDD_XMLDATA_H

#include <stddef.h>

struct xml_file {
	const char *name;		/* file name in xml/, e.g. "rootDesc.xml" */
	const char *data;		/* the text, NUL-terminated; or NULL: */
	const unsigned char *gz;	/* its gzip -9n form */
	size_t gz_len;
	size_t len;			/* the text's length */
};

/* Terminated by an entry with name NULL. */
extern const struct xml_file xml_files[];

const struct xml_file *xml_file_find(const char *name);

/* The text of f in a new NUL-terminated buffer of f->len bytes (free
 * it); NULL when out of memory. */
char *xml_file_text(const struct xml_file *f);

#endif
