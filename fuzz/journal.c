/*
 * journal.c: libFuzzer harness for the state directory's file codec: a
 * journal's header and records, and a snapshot file, from any bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "frame.h"
#include "journal.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_head	 h;
	const uint8_t		*fr, *img;
	const char		*why;
	uint64_t		 seq, epoch;
	size_t			 off, n, flen, imglen;
	uint8_t			 type;

	if (journal_log_check_header(data, size, &h, &why) == 0) {
		if (h.len > size)
			__builtin_trap();
		for (off = h.len; (n = journal_record_next(data + off,
		    size - off, &type, &seq, &fr, &flen)) > 0; off += n) {
			/* What it promises: a whole record inside the input. */
			if (n != 4 + flen || off + n > size || fr != data + off +
			    4 || seq == 0 || (type != FRAME_S_INPUT &&
			    type != JOURNAL_STRIKE))
				__builtin_trap();
		}
	}
	if (journal_snapshot_decode(data, size, &seq, &epoch, &img, &imglen,
	    &why) == 0 && (img < data || img + imglen != data + size))
		__builtin_trap();
	return 0;
}
