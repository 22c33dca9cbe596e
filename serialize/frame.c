/* frame.c: encode and parse frames (pure functions over byte buffers). */
#include <string.h>

#include "frame.h"
#include "msg.h"

/*
 * Parse the frame at the start of p[0..avail). Returns FRAME_MORE when the
 * frame is incomplete, FRAME_OK with f filled in (f->payload points into p),
 * or a negative FRAME_E* error. A header is judged as soon as it is complete,
 * so an oversized frame is refused before its payload is read.
 */
int
frame_parse(const uint8_t *p, size_t avail, const struct frame_limits *lim,
    struct frame *f)
{
	size_t	 max;

	if (avail < FRAME_HDR_LEN)
		return FRAME_MORE;
	f->len = msg_le32(p);
	f->version = p[4];
	f->type = p[5];
	f->flags = (uint16_t)(p[6] | p[7] << 8);
	f->id = msg_le64(p + 8);
	f->payload = p + FRAME_HDR_LEN;
	f->fd = -1;
	if (f->version != SMSUP_PROTOCOL_VERSION)
		return FRAME_EVERSION;
	if (f->type == FRAME_W_IMAGE || f->type == FRAME_S_LOAD ||
	    f->type == FRAME_W_SNAPSHOT || f->type == FRAME_W_STATE ||
	    f->type == FRAME_R_STATE || f->type == FRAME_R_TRACE)
		max = lim->image_max;
	else
		max = lim->max;
	if (f->len > max)
		return FRAME_ETOOBIG;
	if (avail - FRAME_HDR_LEN < f->len)
		return FRAME_MORE;
	return FRAME_OK;
}

/*
 * Start a frame in b: write its header with a zero length and return its
 * offset for frame_end, which fills in the length once the payload is
 * appended (or frame_abort, which takes the frame back). The offset is
 * from the buffer's head, so it holds if the buffer compacts itself
 * meanwhile. Returns (size_t)-1 on allocation failure.
 */
size_t
frame_begin(struct buf *b, uint8_t type, uint16_t flags, uint64_t id)
{
	uint8_t	*h;
	size_t	 at;

	if ((h = buf_extend(b, FRAME_HDR_LEN)) == NULL)
		return (size_t)-1;
	at = (size_t)(h - buf_head(b));
	msg_setle32(h, 0);
	h[4] = SMSUP_PROTOCOL_VERSION;
	h[5] = type;
	h[6] = flags & 0xff;
	h[7] = flags >> 8;
	msg_setle64(h + 8, id);
	return at;
}

int
frame_end(struct buf *b, size_t at)
{
	size_t	 n;

	if (at == (size_t)-1)
		return -1;
	n = buf_used(b) - at - FRAME_HDR_LEN;
	if (n > UINT32_MAX)
		return -1;
	msg_setle32(buf_head(b) + at, (uint32_t)n);
	return 0;
}

/* Take back a frame begun at at, and all that was added after it. */
void
frame_abort(struct buf *b, size_t at)
{
	if (at != (size_t)-1)
		buf_truncate(b, at);
}

/* Append a whole frame with a raw payload. */
int
frame_put(struct buf *b, uint8_t type, uint64_t id, const void *p, size_t n)
{
	size_t	 at;

	if ((at = frame_begin(b, type, 0, id)) == (size_t)-1)
		return -1;
	if (buf_add(b, p, n) == -1) {
		frame_abort(b, at);
		return -1;
	}
	return frame_end(b, at);
}

const char *
frame_strerror(int e)
{
	switch (e) {
	case FRAME_EVERSION:
		return "protocol version mismatch";
	case FRAME_ETOOBIG:
		return "frame larger than the size cap";
	default:
		return "malformed frame";
	}
}

const char *
frame_type_name(uint8_t t)
{
	static const struct {
		uint8_t		 type;
		const char	*name;
	} names[] = {
		{ FRAME_W_HELLO, "HELLO" }, { FRAME_W_READY, "READY" },
		{ FRAME_W_FAIL, "FAIL" }, { FRAME_W_OUTPUT, "OUTPUT" },
		{ FRAME_W_ERROR, "ERROR" }, { FRAME_W_IMAGE, "IMAGE" },
		{ FRAME_W_CRASH, "CRASH" }, { FRAME_W_SNAPSHOT, "SNAPSHOT" },
		{ FRAME_W_STATE, "STATE" }, { FRAME_W_IMAGE_FD, "IMAGE_FD" },
		{ FRAME_S_LOAD_FD, "LOAD_FD" },
		{ FRAME_W_SNAPSHOT_FILE, "SNAPSHOT_FILE" },
		{ FRAME_W_SNAPSHOT_FAIL, "SNAPSHOT_FAIL" },
		{ FRAME_S_SNAPFILE, "SNAPFILE" },
		{ FRAME_S_ARG, "ARG" },
		{ FRAME_S_CONFIG, "CONFIG" },
		{ FRAME_S_INIT, "INIT" }, { FRAME_S_LOAD, "LOAD" },
		{ FRAME_S_INPUT, "INPUT" }, { FRAME_S_SERIALIZE, "SERIALIZE" },
		{ FRAME_S_STOP, "STOP" }, { FRAME_C_CALL, "CALL" },
		{ FRAME_C_SEND, "SEND" }, { FRAME_C_STATUS, "STATUS" },
		{ FRAME_C_RUN, "RUN" }, { FRAME_C_UPGRADE, "UPGRADE" },
		{ FRAME_C_STOP, "STOP" }, { FRAME_C_SHUTDOWN, "SHUTDOWN" },
		{ FRAME_C_HISTORY, "HISTORY" }, { FRAME_C_RESTART, "RESTART" },
		{ FRAME_C_STATE, "STATE" }, { FRAME_C_TRACE, "TRACE" },
		{ FRAME_C_CLUSTER, "CLUSTER" }, { FRAME_R_CLUSTER, "CLUSTER" },
		{ FRAME_R_HISTORY, "HISTORY" }, { FRAME_R_STATE, "STATE" },
		{ FRAME_R_TRACE, "TRACE" }, { FRAME_R_STATE_FD, "STATE_FD" },
		{ FRAME_R_DRYRUN, "DRYRUN" }, { FRAME_R_DRYRUN_FD, "DRYRUN_FD" },
		{ FRAME_R_OK, "OK" }, { FRAME_R_OUTPUT, "OUTPUT" },
		{ FRAME_R_ERROR, "ERROR" }, { FRAME_R_ACCEPTED, "ACCEPTED" },
		{ FRAME_R_STATUS, "STATUS" },
	};
	size_t	 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].type == t)
			return names[i].name;
	return "unknown";
}

/* Whether frames of this type carry a descriptor (SCM_RIGHTS). */
int
frame_has_fd(uint8_t t)
{
	return t == FRAME_W_IMAGE_FD || t == FRAME_S_LOAD_FD ||
	    t == FRAME_S_SNAPFILE || t == FRAME_R_STATE_FD ||
	    t == FRAME_R_DRYRUN_FD;
}
