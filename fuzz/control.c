/*
 * control.c: libFuzzer harness for the control protocol's messages: a
 * stream of frames whose payloads go through the decoders of the requests
 * and answers that carry structure: RUN settings (opts_decode), UPGRADE
 * specs, STATUS names, and TRACE events (inspect_line).
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"
#include "smsup.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct frame_limits lim = { 1 << 16, 1 << 20 };
	struct machine_opts	 o;
	struct msg_reader	 r;
	struct frame		 f;
	struct buf		 line = { 0 };
	char			 name[SMSUP_NAME_MAX + 1], path[PATH_MAX];
	uint32_t		 n, i, u;

	while (frame_parse(data, size, &lim, &f) == FRAME_OK) {
		msg_init(&r, f.payload, f.len);
		switch (f.type) {
		case FRAME_C_RUN:
			msg_get_str(&r, name, sizeof name);
			msg_get_str(&r, path, sizeof path);
			if (opts_decode(&r, &o) == 0 && msg_end(&r) == 0 &&
			    (o.durability > 2 || o.restart > 2))
				__builtin_trap();
			break;
		case FRAME_C_UPGRADE:
			msg_get_u32(&r, &u);
			msg_get_u32(&r, &u);
			msg_get_u32(&r, &u);
			if (msg_get_u32(&r, &n) == 0 && n <= SMSUP_UPGRADE_MAX)
				for (i = 0; i < n; i++) {
					msg_get_str(&r, name, sizeof name);
					msg_get_str(&r, path, sizeof path);
				}
			(void)msg_end(&r);
			break;
		case FRAME_C_STATUS:
			if (msg_get_u32(&r, &n) == 0 && n <= 4096)
				for (i = 0; i < n; i++)
					msg_get_str(&r, name, sizeof name);
			(void)msg_end(&r);
			break;
		case FRAME_R_TRACE:
		default:
			buf_reset(&line);
			(void)inspect_line(f.payload, f.len, &line);
			break;
		}
		data += FRAME_HDR_LEN + f.len;
		size -= FRAME_HDR_LEN + f.len;
	}
	buf_free(&line);
	return 0;
}
