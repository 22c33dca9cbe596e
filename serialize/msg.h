/*
 * msg.h: typed writers and bounds-checked readers for message payloads,
 * after OpenSMTPD's m_add_* / m_get_*. Integers are little-endian; a string
 * is a u32 length followed by its bytes (no terminator). A reader latches
 * its first error: after one failed get every later get fails too, and
 * msg_end insists that the whole payload was consumed.
 */
#ifndef SMSUP_MSG_H
#define SMSUP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct msg_reader {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	int		 err;
};

static inline uint32_t
msg_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
msg_le64(const uint8_t *p)
{
	return (uint64_t)msg_le32(p) | (uint64_t)msg_le32(p + 4) << 32;
}

static inline void
msg_setle32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = v >> 24;
}

static inline void
msg_setle64(uint8_t *p, uint64_t v)
{
	msg_setle32(p, (uint32_t)v);
	msg_setle32(p + 4, (uint32_t)(v >> 32));
}

int	msg_put_u16(struct buf *, uint16_t);
int	msg_put_u32(struct buf *, uint32_t);
int	msg_put_u64(struct buf *, uint64_t);
int	msg_put_str(struct buf *, const char *);
int	msg_put_bytes(struct buf *, const void *, size_t);

void	msg_init(struct msg_reader *, const void *, size_t);
int	msg_get_u16(struct msg_reader *, uint16_t *);
int	msg_get_u32(struct msg_reader *, uint32_t *);
int	msg_get_u64(struct msg_reader *, uint64_t *);
int	msg_get_bytes(struct msg_reader *, const uint8_t **, size_t *);
int	msg_get_str(struct msg_reader *, char *, size_t);
int	msg_get_raw(struct msg_reader *, const uint8_t **, size_t);
int	msg_end(struct msg_reader *);

#endif
