/* ser-msg.c: unit tests of the message writers and readers. */
#include <string.h>

#include <criterion/criterion.h>

#include "msg.h"

Test(msg, round_trip)
{
	struct buf		 b = { 0 };
	struct msg_reader	 r;
	uint16_t		 v16;
	uint32_t		 v32;
	uint64_t		 v64;
	const uint8_t		*p;
	size_t			 n;
	char			 s[16];

	msg_put_u16(&b, 0xbeef);
	msg_put_u32(&b, 0xdeadbeef);
	msg_put_u64(&b, 0x0123456789abcdefull);
	msg_put_str(&b, "counter");
	msg_put_bytes(&b, "a\0b", 3);
	msg_init(&r, b.data, b.len);
	cr_assert_eq(msg_get_u16(&r, &v16), 0);
	cr_assert_eq(v16, 0xbeef);
	cr_assert_eq(msg_get_u32(&r, &v32), 0);
	cr_assert_eq(v32, 0xdeadbeef);
	cr_assert_eq(msg_get_u64(&r, &v64), 0);
	cr_assert_eq(v64, 0x0123456789abcdefull);
	cr_assert_eq(msg_get_str(&r, s, sizeof s), 0);
	cr_assert_str_eq(s, "counter");
	cr_assert_eq(msg_get_bytes(&r, &p, &n), 0);
	cr_assert_eq(n, 3);
	cr_assert(memcmp(p, "a\0b", 3) == 0);
	cr_assert_eq(msg_end(&r), 0);
	buf_free(&b);
}

Test(msg, truncation_latches)
{
	struct buf		 b = { 0 };
	struct msg_reader	 r;
	uint32_t		 v;
	uint16_t		 w;

	msg_put_u16(&b, 1);
	msg_init(&r, b.data, b.len);
	cr_assert_eq(msg_get_u32(&r, &v), -1);
	/* The first failure sticks, even for a get that would fit. */
	cr_assert_eq(msg_get_u16(&r, &w), -1);
	cr_assert_eq(msg_end(&r), -1);
	buf_free(&b);
}

Test(msg, end_insists_on_everything_consumed)
{
	struct buf		 b = { 0 };
	struct msg_reader	 r;
	uint16_t		 w;

	msg_put_u16(&b, 1);
	msg_put_u16(&b, 2);
	msg_init(&r, b.data, b.len);
	msg_get_u16(&r, &w);
	cr_assert_eq(msg_end(&r), -1);
	buf_free(&b);
}

Test(msg, string_checks)
{
	struct buf		 b = { 0 };
	struct msg_reader	 r;
	char			 s[4];

	msg_put_str(&b, "toolong");
	msg_init(&r, b.data, b.len);
	cr_assert_eq(msg_get_str(&r, s, sizeof s), -1, "too long");

	buf_reset(&b);
	msg_put_bytes(&b, "a\0b", 3);
	msg_init(&r, b.data, b.len);
	cr_assert_eq(msg_get_str(&r, s, sizeof s), -1, "embedded NUL");

	/* A length running past the end. */
	buf_reset(&b);
	msg_put_u32(&b, 1000);
	msg_init(&r, b.data, b.len);
	cr_assert_eq(msg_get_str(&r, s, sizeof s), -1, "past the end");
	buf_free(&b);
}

Test(msg, buffer_reuses_consumed_space)
{
	struct buf	 b = { 0 };
	size_t		 cap;
	int		 i;

	buf_reserve(&b, 100);
	cap = b.cap;
	for (i = 0; i < 10000; i++) {
		buf_add(&b, "0123456789", 10);
		buf_consume(&b, 10);
	}
	cr_assert_eq(b.cap, cap);
	buf_free(&b);
}
