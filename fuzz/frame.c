/*
 * frame.c: libFuzzer harness for the frame codec: any bytes, parsed as a
 * stream of frames under the supervisor's limits, every payload read as
 * the typed messages a request carries.
 */
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frame_limits lim = { 1 << 16, 1 << 20 };
	struct frame		 f;
	struct msg_reader	 r;
	const uint8_t		*b;
	size_t			 n;
	char			 s[64];
	uint64_t		 u64;
	uint32_t		 u32;
	uint16_t		 u16;

	while (frame_parse(data, size, &lim, &f) == FRAME_OK) {
		(void)frame_type_name(f.type);
		msg_init(&r, f.payload, f.len);
		while (!r.err && r.off < r.len) {
			switch ((r.off + f.type) % 5) {
			case 0: msg_get_str(&r, s, sizeof s); break;
			case 1: msg_get_bytes(&r, &b, &n); break;
			case 2: msg_get_u64(&r, &u64); break;
			case 3: msg_get_u32(&r, &u32); break;
			default: msg_get_u16(&r, &u16); break;
			}
		}
		(void)msg_end(&r);
		data += FRAME_HDR_LEN + f.len;
		size -= FRAME_HDR_LEN + f.len;
	}
	return 0;
}
