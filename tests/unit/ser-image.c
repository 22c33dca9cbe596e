/* ser-image.c: unit tests of the state image header codec. */
#include <string.h>

#include <criterion/criterion.h>

#include "image.h"
#include "msg.h"

/* A tiny real-looking tpl part (only its "tpl" prefix is checked here). */
static const uint8_t tpl[] = "tpl\x01\x02\x03";

static void
make(struct buf *b)
{
	cr_assert_eq(image_encode(b, "counter", "2", "S(ii)", tpl,
	    sizeof tpl - 1), 0);
}

Test(image, round_trip)
{
	struct buf	 b = { 0 };
	struct image	 img;

	make(&b);
	cr_assert_eq(image_decode(b.data, b.len, &img), IMAGE_OK);
	cr_assert_str_eq(img.name, "counter");
	cr_assert_str_eq(img.version, "2");
	cr_assert_str_eq(img.format, "S(ii)");
	cr_assert_eq(img.tpl_len, sizeof tpl - 1);
	cr_assert(memcmp(img.tpl, tpl, img.tpl_len) == 0);
	buf_free(&b);
}

Test(image, every_truncation_is_an_error)
{
	struct buf	 b = { 0 };
	struct image	 img;
	size_t		 i;
	int		 rc;

	make(&b);
	for (i = 0; i < b.len; i++) {
		rc = image_decode(b.data, i, &img);
		cr_assert(rc == IMAGE_ESHORT || rc == IMAGE_ETPL,
		    "length %zu gave %d", i, rc);
	}
	buf_free(&b);
}

Test(image, every_single_byte_corruption_is_handled)
{
	struct buf	 b = { 0 };
	struct image	 img;
	size_t		 i;
	int		 bit;

	make(&b);
	/* Flip each bit: decode must fail or give sane, terminated fields. */
	for (i = 0; i < b.len; i++)
		for (bit = 0; bit < 8; bit++) {
			b.data[i] ^= (uint8_t)(1 << bit);
			if (image_decode(b.data, b.len, &img) == IMAGE_OK) {
				cr_assert(image_name_valid(img.name));
				cr_assert(image_version_valid(img.version));
				cr_assert(image_format_valid(img.format));
				cr_assert(img.tpl + img.tpl_len ==
				    b.data + b.len);
			}
			b.data[i] ^= (uint8_t)(1 << bit);
		}
	buf_free(&b);
}

Test(image, errors)
{
	struct buf	 b = { 0 };
	struct image	 img;

	make(&b);
	b.data[0] = 'X';
	cr_assert_eq(image_decode(b.data, b.len, &img), IMAGE_EMAGIC);
	b.data[0] = 'S';
	b.data[8] = 2;
	cr_assert_eq(image_decode(b.data, b.len, &img), IMAGE_EVERSION);
	b.data[8] = 1;
	/* Trailing garbage after the tpl part. */
	buf_add(&b, "x", 1);
	cr_assert_eq(image_decode(b.data, b.len, &img), IMAGE_ETPL);
	buf_reset(&b);
	cr_assert_eq(image_encode(&b, "counter", "2", "S(ii)", "xyz", 3), 0);
	cr_assert_eq(image_decode(b.data, b.len, &img), IMAGE_ETPL,
	    "not tpl");
	cr_assert_str_eq(image_strerror(IMAGE_EMAGIC),
	    "not a state image (bad magic)");
	buf_free(&b);
}

Test(image, invalid_fields_are_refused_both_ways)
{
	struct buf	 b = { 0 };
	struct image	 img;

	cr_assert_eq(image_encode(&b, "bad name", "1", "i", tpl, 3), -1);
	cr_assert_eq(image_encode(&b, "ok", "1 2", "i", tpl, 3), -1);
	cr_assert_eq(image_encode(&b, "ok", "1", "S(i", tpl, 3), -1);
	cr_assert_eq(b.len, 0);
	/* Hand-made header with a name of "a/b". */
	buf_add(&b, IMAGE_MAGIC, IMAGE_MAGIC_LEN);
	msg_put_u16(&b, IMAGE_FORMAT_VERSION);
	msg_put_u16(&b, 0);
	msg_put_str(&b, "a/b");
	msg_put_str(&b, "1");
	msg_put_str(&b, "i");
	msg_put_u64(&b, 3);
	buf_add(&b, "tpl", 3);
	cr_assert_eq(image_decode(b.data, b.len, &img), IMAGE_EFIELD);
	buf_free(&b);
}

Test(image, validators)
{
	cr_assert(image_name_valid("counter"));
	cr_assert(image_name_valid("kv_2.x-y"));
	cr_assert(!image_name_valid(""));
	cr_assert(!image_name_valid("-x"));
	cr_assert(!image_name_valid(".hidden"));
	cr_assert(!image_name_valid("a/b"));
	/* 64 characters is the longest name, 65 too long. */
	cr_assert(image_name_valid(
	    "a123456789012345678901234567890123456789012345678901234567890123"));
	cr_assert(!image_name_valid(
	    "a1234567890123456789012345678901234567890123456789012345678901234"));
	cr_assert(image_version_valid("1.2.3-rc1"));
	cr_assert(!image_version_valid("1 2"));
	cr_assert(!image_version_valid("\"1\""));
	cr_assert(image_format_valid("A(S(ssu))"));
	cr_assert(image_format_valid("S(i$(c))"));
	cr_assert(!image_format_valid("S(i"));
	cr_assert(!image_format_valid("S(i))"));
	cr_assert(!image_format_valid("S(x)"));
}
