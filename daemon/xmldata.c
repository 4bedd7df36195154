/* xmldata.c - look up an embedded XML file by name. */
#include <string.h>

#include "xmldata.h"

const struct xml_file *
xml_file_find(const char *name)
{
	const struct xml_file *f;

	for (f = xml_files; f->name != NULL; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}
