/*
 * journal.h: the files of the state directory (pure codec).
 *
 * A snapshot file holds one state image, the sequence number of the last
 * input applied to it, and its epoch (one more than the snapshot before):
 *
 *	"SMSUPSNP" | u16 format version (2) | u16 flags (0) | u64 seq
 *	| u64 epoch | u64 image length | u32 crc32c(image) | image
 *
 * A journal file holds the inputs accepted after the snapshot of its
 * epoch (base: that snapshot's seq; epoch 0 and base 0: no snapshot):
 *
 *	"SMSUPJNL" | u16 format version (2) | u16 flags (0) | u64 epoch
 *	| u64 base | u32 crc32c(the 28 bytes before) | records...
 *	record: u32 crc32c(frame) | frame
 *
 * A record's frame is an INPUT frame (its id is the input's seq) or a
 * STRIKE (id: the seq of an input recorded before that will never be
 * applied). A record that is cut short, whose CRC does not match, or
 * whose seq is 0 or past JOURNAL_SEQ_MAX ends the journal: everything
 * from it on is a torn or corrupt tail. (At ten million inputs a second,
 * a machine reaches JOURNAL_SEQ_MAX in 29,000 years: a seq past it was
 * forged or damaged, and would make the numbers wrap.)
 *
 * Version 1 files (no epochs, no strikes) are read as epoch 0.
 */
#ifndef SMSUP_JOURNAL_H
#define SMSUP_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JOURNAL_SNAP_MAGIC	"SMSUPSNP"
#define JOURNAL_LOG_MAGIC	"SMSUPJNL"
#define JOURNAL_VERSION		2
#define JOURNAL_HDR_LEN		12	/* magic + version + flags */
#define JOURNAL_SNAP_HDR_LEN	(JOURNAL_HDR_LEN + 28)
#define JOURNAL_LOG_HDR_LEN	(JOURNAL_HDR_LEN + 20)
#define JOURNAL_STRIKE		0x30	/* a record's frame type */
#define JOURNAL_SEQ_MAX		(UINT64_C(1) << 62)

struct journal_head {
	uint64_t	 epoch;
	uint64_t	 base;
	size_t		 len;		/* of the header: records follow */
};

int	journal_snapshot_header(struct buf *, uint64_t, uint64_t, uint64_t,
	    uint32_t);
int	journal_snapshot_encode(struct buf *, uint64_t, uint64_t,
	    const void *, size_t);
int	journal_snapshot_head(const uint8_t *, size_t, uint64_t, uint64_t *,
	    uint64_t *, uint64_t *, uint32_t *, size_t *, const char **);
int	journal_snapshot_decode(const uint8_t *, size_t, uint64_t *,
	    uint64_t *, const uint8_t **, size_t *, const char **);
int	journal_log_header(struct buf *, uint64_t, uint64_t);
int	journal_log_check_header(const uint8_t *, size_t,
	    struct journal_head *, const char **);
int	journal_record_add(struct buf *, const uint8_t *, size_t);
int	journal_strike_add(struct buf *, uint64_t);
size_t	journal_record_next(const uint8_t *, size_t, uint8_t *, uint64_t *,
	    const uint8_t **, size_t *);

#endif
