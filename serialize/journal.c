/* journal.c: encode and decode snapshot and journal files (pure functions). */
#include <string.h>

#include "crc32c.h"
#include "frame.h"
#include "journal.h"
#include "msg.h"

static void
journal_header(struct buf *b, const char *magic)
{
	buf_add(b, magic, 8);
	msg_put_u16(b, JOURNAL_VERSION);
	msg_put_u16(b, 0);
}

/*
 * The format version if p starts with a header of this magic (1 or 2);
 * else -1 with why.
 */
static int
journal_check(const uint8_t *p, size_t len, const char *magic,
    const char **why)
{
	if (len == 0) {
		*why = "empty file";
		return -1;
	}
	if (len < JOURNAL_HDR_LEN) {
		*why = "file too short";
		return -1;
	}
	if (memcmp(p, magic, 8) != 0) {
		*why = "bad magic";
		return -1;
	}
	if ((p[8] != 1 && p[8] != 2) || p[9] != 0 || p[10] != 0 ||
	    p[11] != 0) {
		*why = "unknown format version";
		return -1;
	}
	return p[8];
}

int
journal_snapshot_encode(struct buf *b, uint64_t seq, uint64_t epoch,
    const void *img, size_t len)
{
	size_t	 start = buf_mark(b);

	if (journal_snapshot_header(b, seq, epoch, len, crc32c(0, img,
	    len)) == -1 || buf_add(b, img, len) == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

/*
 * The header alone (JOURNAL_SNAP_HDR_LEN bytes), for a file whose image
 * of len bytes, with that CRC-32C, is written after it from elsewhere.
 */
int
journal_snapshot_header(struct buf *b, uint64_t seq, uint64_t epoch,
    uint64_t len, uint32_t crc)
{
	size_t	 start = buf_mark(b);

	journal_header(b, JOURNAL_SNAP_MAGIC);
	msg_put_u64(b, seq);
	msg_put_u64(b, epoch);
	msg_put_u64(b, len);
	msg_put_u32(b, crc);
	if (buf_mark(b) != start + JOURNAL_SNAP_HDR_LEN) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

/*
 * The header of a snapshot file of flen bytes, from its first len bytes
 * (at least JOURNAL_SNAP_HDR_LEN, or all of a smaller file): its seq,
 * epoch, the length and CRC-32C of its image, which starts at *off.
 * -1 with why.
 */
int
journal_snapshot_head(const uint8_t *p, size_t len, uint64_t flen,
    uint64_t *seq, uint64_t *epoch, uint64_t *imglen, uint32_t *crc,
    size_t *off, const char **why)
{
	struct msg_reader	 r;
	const uint8_t		*hdr;
	int			 v;

	if ((v = journal_check(p, len, JOURNAL_SNAP_MAGIC, why)) == -1)
		return -1;
	msg_init(&r, p, len);
	msg_get_raw(&r, &hdr, JOURNAL_HDR_LEN);
	msg_get_u64(&r, seq);
	*epoch = 0;
	if (v == 2)
		msg_get_u64(&r, epoch);
	msg_get_u64(&r, imglen);
	msg_get_u32(&r, crc);
	if (r.err || *imglen != flen - r.off) {
		*why = "snapshot truncated or with trailing bytes";
		return -1;
	}
	if (*seq > JOURNAL_SEQ_MAX) {
		*why = "snapshot of an impossible input number";
		return -1;
	}
	*off = r.off;
	return 0;
}

/* A whole snapshot file: its seq, epoch and image, or -1 with why. */
int
journal_snapshot_decode(const uint8_t *p, size_t len, uint64_t *seq,
    uint64_t *epoch, const uint8_t **img, size_t *imglen, const char **why)
{
	uint64_t	 n;
	uint32_t	 crc;
	size_t		 off;

	if (journal_snapshot_head(p, len, len, seq, epoch, &n, &crc, &off,
	    why) == -1)
		return -1;
	*img = p + off;
	*imglen = (size_t)n;
	if (crc32c(0, *img, *imglen) != crc) {
		*why = "snapshot checksum mismatch";
		return -1;
	}
	return 0;
}

int
journal_log_header(struct buf *b, uint64_t epoch, uint64_t base)
{
	size_t	 start = buf_mark(b);

	journal_header(b, JOURNAL_LOG_MAGIC);
	msg_put_u64(b, epoch);
	msg_put_u64(b, base);
	return msg_put_u32(b, crc32c(0, buf_head(b) + start,
	    JOURNAL_LOG_HDR_LEN - 4));
}

/* The header at p: its epoch, base and length, or -1 with why. */
int
journal_log_check_header(const uint8_t *p, size_t len,
    struct journal_head *h, const char **why)
{
	int	 v;

	if ((v = journal_check(p, len, JOURNAL_LOG_MAGIC, why)) == -1)
		return -1;
	if (v == 1) {
		h->epoch = h->base = 0;
		h->len = JOURNAL_HDR_LEN;
		return 0;
	}
	if (len < JOURNAL_LOG_HDR_LEN) {
		*why = "header cut short";
		return -1;
	}
	if (crc32c(0, p, JOURNAL_LOG_HDR_LEN - 4) !=
	    msg_le32(p + JOURNAL_LOG_HDR_LEN - 4)) {
		*why = "header checksum mismatch";
		return -1;
	}
	h->epoch = msg_le64(p + JOURNAL_HDR_LEN);
	h->base = msg_le64(p + JOURNAL_HDR_LEN + 8);
	h->len = JOURNAL_LOG_HDR_LEN;
	return 0;
}

/* Append the record of one INPUT frame (header and payload). */
int
journal_record_add(struct buf *b, const uint8_t *frame, size_t len)
{
	size_t	 start = buf_mark(b);

	if (msg_put_u32(b, crc32c(0, frame, len)) == -1 ||
	    buf_add(b, frame, len) == -1) {
		buf_truncate(b, start);
		return -1;
	}
	return 0;
}

/* Append the record that strikes input seq off. */
int
journal_strike_add(struct buf *b, uint64_t seq)
{
	struct buf	 f = { 0 };
	int		 rc;

	if (frame_put(&f, JOURNAL_STRIKE, seq, NULL, 0) == -1)
		return -1;
	rc = journal_record_add(b, buf_head(&f), buf_used(&f));
	buf_free(&f);
	return rc;
}

/*
 * The record at the start of p: its length (CRC included), its type
 * (FRAME_S_INPUT or JOURNAL_STRIKE), seq and frame. 0 if there is none:
 * the end, or a torn or corrupt record.
 */
size_t
journal_record_next(const uint8_t *p, size_t len, uint8_t *type,
    uint64_t *seq, const uint8_t **frame, size_t *framelen)
{
	static const struct frame_limits lim = { FRAME_MAX_DEFAULT,
	    FRAME_MAX_DEFAULT };
	struct frame	 f;

	if (len < 4 || frame_parse(p + 4, len - 4, &lim, &f) != FRAME_OK ||
	    (f.type != FRAME_S_INPUT && (f.type != JOURNAL_STRIKE ||
	    f.len != 0)) || f.id == 0 || f.id > JOURNAL_SEQ_MAX)
		return 0;
	if (crc32c(0, p + 4, FRAME_HDR_LEN + f.len) != msg_le32(p))
		return 0;
	*type = f.type;
	*seq = f.id;
	*frame = p + 4;
	*framelen = FRAME_HDR_LEN + f.len;
	return 4 + *framelen;
}
