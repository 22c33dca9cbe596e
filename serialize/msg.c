/* msg.c: message payload writers and bounds-checked readers. */
#include <string.h>

#include "msg.h"

int
msg_put_u16(struct buf *b, uint16_t v)
{
	uint8_t	 p[2] = { v & 0xff, v >> 8 };

	return buf_add(b, p, sizeof p);
}

int
msg_put_u32(struct buf *b, uint32_t v)
{
	uint8_t	 p[4];

	msg_setle32(p, v);
	return buf_add(b, p, sizeof p);
}

int
msg_put_u64(struct buf *b, uint64_t v)
{
	uint8_t	 p[8];

	msg_setle64(p, v);
	return buf_add(b, p, sizeof p);
}

int
msg_put_bytes(struct buf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX)
		return -1;
	if (msg_put_u32(b, (uint32_t)n) == -1)
		return -1;
	return buf_add(b, p, n);
}

int
msg_put_str(struct buf *b, const char *s)
{
	return msg_put_bytes(b, s, strlen(s));
}

void
msg_init(struct msg_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->err = 0;
}

/* Take n raw bytes; fails (and latches) if fewer remain. */
int
msg_get_raw(struct msg_reader *r, const uint8_t **p, size_t n)
{
	if (r->err || r->len - r->off < n) {
		r->err = 1;
		return -1;
	}
	*p = r->p + r->off;
	r->off += n;
	return 0;
}

int
msg_get_u16(struct msg_reader *r, uint16_t *v)
{
	const uint8_t	*p;

	if (msg_get_raw(r, &p, 2) == -1)
		return -1;
	*v = (uint16_t)(p[0] | p[1] << 8);
	return 0;
}

int
msg_get_u32(struct msg_reader *r, uint32_t *v)
{
	const uint8_t	*p;

	if (msg_get_raw(r, &p, 4) == -1)
		return -1;
	*v = msg_le32(p);
	return 0;
}

int
msg_get_u64(struct msg_reader *r, uint64_t *v)
{
	const uint8_t	*p;

	if (msg_get_raw(r, &p, 8) == -1)
		return -1;
	*v = msg_le64(p);
	return 0;
}

/* A length-prefixed byte string, returned in place. */
int
msg_get_bytes(struct msg_reader *r, const uint8_t **p, size_t *n)
{
	uint32_t	 len;

	if (msg_get_u32(r, &len) == -1)
		return -1;
	if (msg_get_raw(r, p, len) == -1)
		return -1;
	*n = len;
	return 0;
}

/*
 * A length-prefixed string copied into dst with a terminator. Fails on a
 * string that does not fit or that holds a NUL byte.
 */
int
msg_get_str(struct msg_reader *r, char *dst, size_t dstsz)
{
	const uint8_t	*p;
	size_t		 n;

	if (msg_get_bytes(r, &p, &n) == -1)
		return -1;
	if (n >= dstsz || memchr(p, '\0', n) != NULL) {
		r->err = 1;
		return -1;
	}
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* 0 if every get succeeded and the payload was consumed exactly. */
int
msg_end(struct msg_reader *r)
{
	if (r->err || r->off != r->len) {
		r->err = 1;
		return -1;
	}
	return 0;
}
