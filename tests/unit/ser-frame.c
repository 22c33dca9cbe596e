/* ser-frame.c: unit tests of the frame codec. */
#include <string.h>

#include <criterion/criterion.h>

#include "frame.h"
#include "msg.h"

static const struct frame_limits lim = { 1024, 1u << 20 };

Test(frame, round_trip)
{
	struct buf	 b = { 0 };
	struct frame	 f;

	cr_assert_eq(frame_put(&b, FRAME_S_INPUT, 42, "incr", 4), 0);
	cr_assert_eq(buf_used(&b), FRAME_HDR_LEN + 4);
	cr_assert_eq(frame_parse(buf_head(&b), buf_used(&b), &lim, &f),
	    FRAME_OK);
	cr_assert_eq(f.type, FRAME_S_INPUT);
	cr_assert_eq(f.id, 42);
	cr_assert_eq(f.len, 4);
	cr_assert_eq(f.version, SMSUP_PROTOCOL_VERSION);
	cr_assert(memcmp(f.payload, "incr", 4) == 0);
	buf_free(&b);
}

Test(frame, needs_more_at_every_short_length)
{
	struct buf	 b = { 0 };
	struct frame	 f;
	size_t		 i;

	frame_put(&b, FRAME_W_OUTPUT, 7, "hello", 5);
	for (i = 0; i < buf_used(&b); i++)
		cr_assert_eq(frame_parse(buf_head(&b), i, &lim, &f), FRAME_MORE,
		    "length %zu", i);
	cr_assert_eq(frame_parse(buf_head(&b), buf_used(&b), &lim, &f),
	    FRAME_OK);
	buf_free(&b);
}

Test(frame, wrong_version_is_refused)
{
	struct buf	 b = { 0 };
	struct frame	 f;

	frame_put(&b, FRAME_C_CALL, 1, "x", 1);
	b.data[4] = SMSUP_PROTOCOL_VERSION + 1;
	cr_assert_eq(frame_parse(buf_head(&b), buf_used(&b), &lim, &f),
	    FRAME_EVERSION);
	cr_assert_str_eq(frame_strerror(FRAME_EVERSION),
	    "protocol version mismatch");
	buf_free(&b);
}

Test(frame, oversized_is_refused_from_the_header_alone)
{
	uint8_t		 h[FRAME_HDR_LEN] = { 0 };
	struct frame	 f;

	msg_setle32(h, 1025);
	h[4] = SMSUP_PROTOCOL_VERSION;
	h[5] = FRAME_C_CALL;
	cr_assert_eq(frame_parse(h, sizeof h, &lim, &f), FRAME_ETOOBIG);
	/* Images have their own, larger cap. */
	h[5] = FRAME_W_IMAGE;
	cr_assert_eq(frame_parse(h, sizeof h, &lim, &f), FRAME_MORE);
	msg_setle32(h, (1u << 20) + 1);
	cr_assert_eq(frame_parse(h, sizeof h, &lim, &f), FRAME_ETOOBIG);
}

Test(frame, back_to_back_frames)
{
	struct buf	 b = { 0 };
	struct frame	 f;
	size_t		 at;
	int		 i;

	for (i = 0; i < 3; i++) {
		at = frame_begin(&b, FRAME_R_OUTPUT, 0, (uint64_t)i);
		msg_put_u32(&b, (uint32_t)i * 10);
		cr_assert_eq(frame_end(&b, at), 0);
	}
	for (i = 0; i < 3; i++) {
		cr_assert_eq(frame_parse(buf_head(&b), buf_used(&b), &lim, &f),
		    FRAME_OK);
		cr_assert_eq(f.id, (uint64_t)i);
		cr_assert_eq(msg_le32(f.payload), (uint32_t)i * 10);
		buf_consume(&b, FRAME_HDR_LEN + f.len);
	}
	cr_assert_eq(buf_used(&b), 0);
	buf_free(&b);
}

Test(frame, type_names)
{
	cr_assert_str_eq(frame_type_name(FRAME_W_HELLO), "HELLO");
	cr_assert_str_eq(frame_type_name(FRAME_S_SERIALIZE), "SERIALIZE");
	cr_assert_str_eq(frame_type_name(0xff), "unknown");
}

/*
 * A frame begun in a buffer with consumed space at its head survives the
 * buffer compacting itself while the payload is added (the supervisor's
 * write buffers are partly written out when new frames go in).
 */
Test(frame, survives_compaction_between_begin_and_end)
{
	static const struct frame_limits big = { 1u << 20, 1u << 20 };
	struct buf	 b = { 0 };
	struct frame	 f;
	uint8_t		 payload[3000];
	size_t		 at;

	memset(payload, 'p', sizeof payload);
	buf_reserve(&b, 4096);
	buf_extend(&b, 3000);
	buf_consume(&b, 2990);		/* 10 bytes left, at offset 2990 */
	at = frame_begin(&b, FRAME_S_INPUT, 0, 99);
	cr_assert_eq(buf_add(&b, payload, sizeof payload), 0);
	cr_assert_eq(frame_end(&b, at), 0);
	buf_consume(&b, 10);
	cr_assert_eq(frame_parse(buf_head(&b), buf_used(&b), &big, &f),
	    FRAME_OK);
	cr_assert_eq(f.id, 99);
	cr_assert_eq(f.len, sizeof payload);

	/* frame_put, the same way. */
	buf_reset(&b);
	buf_extend(&b, 4000);
	buf_consume(&b, 3990);
	cr_assert_eq(frame_put(&b, FRAME_S_INPUT, 7, payload, 3000), 0);
	buf_consume(&b, 10);
	cr_assert_eq(frame_parse(buf_head(&b), buf_used(&b), &big, &f),
	    FRAME_OK);
	cr_assert_eq(f.len, 3000);
	buf_free(&b);
}
