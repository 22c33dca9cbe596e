/* ser-journal.c: unit tests of CRC-32C and the state directory's file codec. */
#include <string.h>

#include <criterion/criterion.h>

#include "crc32c.h"
#include "frame.h"
#include "journal.h"

Test(crc32c, known_values)
{
	uint8_t	 zeros[32] = { 0 }, ones[32];

	/* The check value of CRC-32C, and vectors of RFC 3720 B.4. */
	cr_assert_eq(crc32c(0, "123456789", 9), 0xe3069283u);
	cr_assert_eq(crc32c(0, zeros, 32), 0x8a9136aau);
	memset(ones, 0xff, sizeof ones);
	cr_assert_eq(crc32c(0, ones, 32), 0x62a8ab43u);
	/* Incremental equals whole. */
	cr_assert_eq(crc32c(crc32c(0, "12345", 5), "6789", 4), 0xe3069283u);
	cr_assert_eq(crc32c(0, "", 0), 0);
}

Test(journal, snapshot_round_trip_and_damage)
{
	struct buf	 b = { 0 };
	const uint8_t	*img;
	const char	*why;
	uint64_t	 seq, epoch;
	size_t		 len, i;

	cr_assert_eq(journal_snapshot_encode(&b, 41, 7, "image!", 6), 0);
	cr_assert_eq(journal_snapshot_decode(b.data, b.len, &seq, &epoch,
	    &img, &len, &why), 0);
	cr_assert_eq(seq, 41);
	cr_assert_eq(epoch, 7);
	cr_assert_eq(len, 6);
	cr_assert(memcmp(img, "image!", 6) == 0);
	for (i = 0; i < b.len; i++)
		cr_assert_eq(journal_snapshot_decode(b.data, i, &seq, &epoch,
		    &img, &len, &why), -1, "truncated at %zu", i);
	cr_assert_eq(journal_snapshot_decode(b.data, 0, &seq, &epoch, &img,
	    &len, &why), -1);
	cr_assert_str_eq(why, "empty file");
	b.data[b.len - 1] ^= 1;
	cr_assert_eq(journal_snapshot_decode(b.data, b.len, &seq, &epoch,
	    &img, &len, &why), -1);
	cr_assert_str_eq(why, "snapshot checksum mismatch");
	b.data[0] = 'X';
	cr_assert_eq(journal_snapshot_decode(b.data, b.len, &seq, &epoch,
	    &img, &len, &why), -1);
	cr_assert_str_eq(why, "bad magic");
	buf_free(&b);
}

/* Files of format version 1 (before epochs) are still read, as epoch 0. */
Test(journal, version_1_files)
{
	static const uint8_t snap[] = {
		'S', 'M', 'S', 'U', 'P', 'S', 'N', 'P', 1, 0, 0, 0,
		9, 0, 0, 0, 0, 0, 0, 0,		/* seq 9 */
		2, 0, 0, 0, 0, 0, 0, 0,		/* length 2 */
		0, 0, 0, 0, 'h', 'i'		/* crc, set below */
	};
	static const uint8_t log[] = {
		'S', 'M', 'S', 'U', 'P', 'J', 'N', 'L', 1, 0, 0, 0
	};
	uint8_t			 s[sizeof snap];
	struct journal_head	 h;
	const uint8_t		*img;
	const char		*why;
	uint64_t		 seq, epoch;
	size_t			 len;
	uint32_t		 crc = crc32c(0, "hi", 2);

	memcpy(s, snap, sizeof s);
	memcpy(s + 28, &crc, 4);
	cr_assert_eq(journal_snapshot_decode(s, sizeof s, &seq, &epoch, &img,
	    &len, &why), 0, "%s", why);
	cr_assert_eq(seq, 9);
	cr_assert_eq(epoch, 0);
	cr_assert_eq(len, 2);
	cr_assert_eq(journal_log_check_header(log, sizeof log, &h, &why), 0);
	cr_assert_eq(h.epoch, 0);
	cr_assert_eq(h.len, JOURNAL_HDR_LEN);
}

Test(journal, header_epoch_and_damage)
{
	struct buf		 j = { 0 };
	struct journal_head	 h;
	const char		*why;
	size_t			 i;

	journal_log_header(&j, 5, 1234);
	cr_assert_eq(j.len, JOURNAL_LOG_HDR_LEN);
	cr_assert_eq(journal_log_check_header(j.data, j.len, &h, &why), 0);
	cr_assert_eq(h.epoch, 5);
	cr_assert_eq(h.base, 1234);
	cr_assert_eq(h.len, JOURNAL_LOG_HDR_LEN);
	for (i = 0; i < j.len; i++)
		cr_assert_eq(journal_log_check_header(j.data, i, &h, &why), -1,
		    "cut at %zu", i);
	j.data[14] ^= 1;
	cr_assert_eq(journal_log_check_header(j.data, j.len, &h, &why), -1);
	cr_assert_str_eq(why, "header checksum mismatch");
	buf_free(&j);
}

Test(journal, records_strikes_and_torn_tails)
{
	struct buf		 f = { 0 }, j = { 0 };
	struct journal_head	 h;
	const uint8_t		*fr, *p;
	uint64_t		 seq;
	uint8_t			 type;
	size_t			 flen, n, n2, left, cut;
	int			 count;

	journal_log_header(&j, 1, 6);
	frame_put(&f, FRAME_S_INPUT, 7, "incr", 4);
	journal_record_add(&j, f.data, f.len);
	buf_reset(&f);
	frame_put(&f, FRAME_S_INPUT, 8, "count", 5);
	journal_record_add(&j, f.data, f.len);
	journal_strike_add(&j, 7);
	cr_assert_eq(journal_log_check_header(j.data, j.len, &h,
	    &(const char *){ NULL }), 0);

	p = j.data + h.len;
	left = j.len - h.len;
	n = journal_record_next(p, left, &type, &seq, &fr, &flen);
	cr_assert_gt(n, 0);
	cr_assert_eq(type, FRAME_S_INPUT);
	cr_assert_eq(seq, 7);
	cr_assert_eq(flen, FRAME_HDR_LEN + 4);
	n2 = journal_record_next(p + n, left - n, &type, &seq, &fr, &flen);
	cr_assert_eq(seq, 8);
	cr_assert(memcmp(fr + FRAME_HDR_LEN, "count", 5) == 0);
	cr_assert_gt(journal_record_next(p + n + n2, left - n - n2, &type,
	    &seq, &fr, &flen), 0);
	cr_assert_eq(type, JOURNAL_STRIKE);
	cr_assert_eq(seq, 7);

	/* Every cut inside the last record leaves exactly the others. */
	for (cut = 1; cut < 4 + FRAME_HDR_LEN; cut++) {
		const uint8_t	*q = p;
		size_t		 l = left - cut, m;

		count = 0;
		while ((m = journal_record_next(q, l, &type, &seq, &fr,
		    &flen)) > 0) {
			q += m;
			l -= m;
			count++;
		}
		cr_assert_eq(count, 2, "cut %zu", cut);
	}
	/* A seq no machine can reach (forged, damaged) ends it too. */
	{
		struct buf	 g = { 0 }, x = { 0 };

		frame_put(&x, FRAME_S_INPUT, JOURNAL_SEQ_MAX + 1, "x", 1);
		journal_record_add(&g, x.data, x.len);
		cr_assert_eq(journal_record_next(g.data, g.len, &type, &seq,
		    &fr, &flen), 0);
		buf_reset(&g);
		buf_reset(&x);
		frame_put(&x, FRAME_S_INPUT, 0, "x", 1);
		journal_record_add(&g, x.data, x.len);
		cr_assert_eq(journal_record_next(g.data, g.len, &type, &seq,
		    &fr, &flen), 0);
		buf_free(&g);
		buf_free(&x);
	}
	/* A flipped bit in a record ends the journal there. */
	j.data[h.len + n + 6] ^= 0x10;
	cr_assert_eq(journal_record_next(p + n, left - n, &type, &seq, &fr,
	    &flen), 0);
	buf_free(&f);
	buf_free(&j);
}
