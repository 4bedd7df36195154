/* xmldata.h - the XML files of xml/, embedded at build time. */
#ifndef IGDD_XMLDATA_H
#define IGDD_XMLDATA_H

#include <stddef.h>

struct xml_file {
	const char *name;	/* file name in xml/, e.g. "rootDesc.xml" */
	const char *data;	/* NUL-terminated */
	size_t len;
};

/* Terminated by an entry with name NULL. */
extern const struct xml_file xml_files[];

const struct xml_file *xml_file_find(const char *name);

#endif
