/*
 * journal.h: the files of the state directory (pure codec).
 *
 * A snapshot file holds one state image and the sequence number of the
 * last input applied to it:
 *
 *	"SMSUPSNP" | u16 format version | u16 flags (0) | u64 seq
 *	| u64 image length | u32 crc32c(image) | image
 *
 * A journal file holds the inputs accepted after some snapshot:
 *
 *	"SMSUPJNL" | u16 format version | u16 flags (0) | records...
 *	record: u32 crc32c(frame) | frame (an INPUT frame: its id is the seq)
 *
 * A record that is cut short or whose CRC does not match ends the journal:
 * everything from it on is a torn or corrupt tail.
 */
#ifndef SMSUP_JOURNAL_H
#define SMSUP_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JOURNAL_SNAP_MAGIC	"SMSUPSNP"
#define JOURNAL_LOG_MAGIC	"SMSUPJNL"
#define JOURNAL_VERSION		1
#define JOURNAL_HDR_LEN		12	/* magic + version + flags */
#define JOURNAL_SNAP_HDR_LEN	(JOURNAL_HDR_LEN + 20)

int	journal_snapshot_encode(struct buf *, uint64_t, const void *, size_t);
int	journal_snapshot_decode(const uint8_t *, size_t, uint64_t *,
	    const uint8_t **, size_t *, const char **);
void	journal_log_header(struct buf *);
int	journal_log_check_header(const uint8_t *, size_t, const char **);
int	journal_record_add(struct buf *, const uint8_t *, size_t);
size_t	journal_record_next(const uint8_t *, size_t, uint64_t *,
	    const uint8_t **, size_t *);

#endif
