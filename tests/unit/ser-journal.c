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
	uint64_t	 seq;
	size_t		 len, i;

	cr_assert_eq(journal_snapshot_encode(&b, 41, "image!", 6), 0);
	cr_assert_eq(journal_snapshot_decode(b.data, b.len, &seq, &img, &len,
	    &why), 0);
	cr_assert_eq(seq, 41);
	cr_assert_eq(len, 6);
	cr_assert(memcmp(img, "image!", 6) == 0);
	for (i = 0; i < b.len; i++)
		cr_assert_eq(journal_snapshot_decode(b.data, i, &seq, &img,
		    &len, &why), -1, "truncated at %zu", i);
	b.data[b.len - 1] ^= 1;
	cr_assert_eq(journal_snapshot_decode(b.data, b.len, &seq, &img, &len,
	    &why), -1);
	cr_assert_str_eq(why, "snapshot checksum mismatch");
	b.data[0] = 'X';
	cr_assert_eq(journal_snapshot_decode(b.data, b.len, &seq, &img, &len,
	    &why), -1);
	cr_assert_str_eq(why, "bad magic");
	buf_free(&b);
}

Test(journal, records_and_torn_tails)
{
	struct buf	 f = { 0 }, j = { 0 };
	const uint8_t	*fr, *p;
	uint64_t	 seq;
	size_t		 flen, n, left, cut;
	int		 count;

	journal_log_header(&j);
	frame_put(&f, FRAME_S_INPUT, 7, "incr", 4);
	journal_record_add(&j, f.data, f.len);
	buf_reset(&f);
	frame_put(&f, FRAME_S_INPUT, 8, "count", 5);
	journal_record_add(&j, f.data, f.len);
	cr_assert_eq(journal_log_check_header(j.data, j.len, &(const char *){
	    NULL }), 0);

	p = j.data + JOURNAL_HDR_LEN;
	left = j.len - JOURNAL_HDR_LEN;
	n = journal_record_next(p, left, &seq, &fr, &flen);
	cr_assert_gt(n, 0);
	cr_assert_eq(seq, 7);
	cr_assert_eq(flen, FRAME_HDR_LEN + 4);
	n = journal_record_next(p + n, left - n, &seq, &fr, &flen);
	cr_assert_eq(seq, 8);
	cr_assert(memcmp(fr + FRAME_HDR_LEN, "count", 5) == 0);

	/* Every cut inside the second record leaves exactly the first. */
	for (cut = 1; cut < n; cut++) {
		const uint8_t	*q = p;
		size_t		 l = left - cut, m;

		count = 0;
		while ((m = journal_record_next(q, l, &seq, &fr, &flen)) > 0) {
			q += m;
			l -= m;
			count++;
		}
		cr_assert_eq(count, 1, "cut %zu", cut);
	}
	/* A flipped bit in a record ends the journal there. */
	j.data[j.len - 2] ^= 0x10;
	n = journal_record_next(p, left, &seq, &fr, &flen);
	cr_assert_eq(journal_record_next(p + n, left - n, &seq, &fr, &flen),
	    0);
	buf_free(&f);
	buf_free(&j);
}
