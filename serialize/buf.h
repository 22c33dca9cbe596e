/* buf.h: growable byte buffer shared by the codec, the worker library and the supervisor. */
#ifndef SMSUP_BUF_H
#define SMSUP_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;
	size_t   off;	/* first unconsumed byte */
	size_t   len;	/* end of valid bytes */
	size_t   cap;
};

#define BUF_HUGE_MIN	(4u << 20)	/* blocks this large get huge pages */

int	 buf_reserve(struct buf *, size_t);
void	 buf_hugepages(void *, size_t);
int	 buf_add(struct buf *, const void *, size_t);
void	*buf_extend(struct buf *, size_t);
void	 buf_consume(struct buf *, size_t);
void	 buf_compact(struct buf *);
void	 buf_reset(struct buf *);
void	 buf_free(struct buf *);

static inline size_t
buf_used(const struct buf *b)
{
	return b->len - b->off;
}

static inline uint8_t *
buf_head(const struct buf *b)
{
	return b->data + b->off;
}

/*
 * A position to come back to (buf_truncate), counted from the head: it
 * holds if the buffer compacts itself in between.
 */
static inline size_t
buf_mark(const struct buf *b)
{
	return b->len - b->off;
}

static inline void
buf_truncate(struct buf *b, size_t mark)
{
	b->len = b->off + mark;
}

#endif
