/* xmldata.c - look up an embedded XML file by name, expand it. */
#include <string.h>

#include "inflate.h"
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

char *
xml_file_text(const struct xml_file *f)
{
	return inflate_text_dup(f->data, f->gz, f->gz_len, f->len);
}
