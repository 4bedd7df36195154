/* test_inflate.c - the DEFLATE decoder: stored, fixed and dynamic blocks
 * (the embedded files are dynamic ones), and streams that must fail. */
#include <stdlib.h>
#include <string.h>

#include "inflate.h"
#include "unit.h"
#include "xmldata.h"

TEST(inflate_stored_and_fixed_blocks)
{
	/* a stored block "hello" (not last), then a fixed-code block (last)
	 * "abcabcabcabcabcabc-hello": literals and one back-reference */
	static const unsigned char s[] = { 0x00, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o' };
	static const unsigned char f[] = { 0x4b, 0x4c, 0x4a, 0x4e, 0x44, 0x45, 0xba, 0x19,
					   0xa9, 0x39, 0x39, 0xf9, 0x00 };
	unsigned char in[sizeof(s) + sizeof(f)], out[64];
	size_t got = 0, i;

	CHECK(inflate_raw(f, sizeof(f), out, sizeof(out), &got) == 0);
	CHECK_EQ(got, 24u);
	CHECK(memcmp(out, "abcabcabcabcabcabc-hello", 24) == 0);
	memcpy(in, s, sizeof(s));
	memcpy(in + sizeof(s), f, sizeof(f));
	CHECK(inflate_raw(in, sizeof(in), out, sizeof(out), &got) == 0);
	CHECK_EQ(got, 29u);
	CHECK(memcmp(out, "helloabcabcabcabcabcabc-hello", 29) == 0);
	/* every shorter input, and a smaller output, fail */
	for (i = 0; i < sizeof(f); i++)
		CHECK(inflate_raw(f, i, out, sizeof(out), &got) < 0);
	CHECK(inflate_raw(f, sizeof(f), out, 23, &got) < 0);
	/* the stored block's NLEN must be ~LEN; block type 3 is no type */
	memcpy(in, s, sizeof(s));
	in[3] = 0xfb;
	CHECK(inflate_raw(in, sizeof(in), out, sizeof(out), &got) < 0);
	in[0] = 0x07;
	CHECK(inflate_raw(in, sizeof(in), out, sizeof(out), &got) < 0);
}

TEST(inflate_back_reference_before_the_start_fails)
{
	/* fixed block: length code 257 (3 bytes), distance code 0 (1) with
	 * nothing written yet: 0b1 01 (last, fixed), 0000001 (257), 00000 */
	static const unsigned char bad[] = { 0x03, 0x02, 0x00 };
	unsigned char out[16];
	size_t got;

	CHECK(inflate_raw(bad, sizeof(bad), out, sizeof(out), &got) < 0);
}

/* Each embedded description expands to its length, with no
 * indentation and no line end but the last (test_admin.c checks the
 * page's files). */
TEST(inflate_embedded_descriptions)
{
	const struct xml_file *x;

	for (x = xml_files; x->name != NULL; x++) {
		char *t = xml_file_text(x);

		CHECK(t != NULL);
		if (t == NULL)
			continue;
		CHECK_EQ(strlen(t), x->len);
		CHECK(strncmp(t, "<?xml", 5) == 0);
		CHECK(strchr(t, '\n') == t + x->len - 1 && strchr(t, '\t') == NULL);
		free(t);
	}
}
