/* buf.c: growable byte buffer; every growth is checked, nothing here aborts. */
#include <sys/mman.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/*
 * Ask for transparent huge pages on the whole pages of a large block:
 * state images of hundreds of MiB are otherwise a page fault every 4 KiB
 * the first time they are written (costly, in a virtual machine most).
 */
void
buf_hugepages(void *p, size_t n)
{
	uintptr_t	 a = (uintptr_t)p, start, end;

	if (n < BUF_HUGE_MIN)
		return;
	start = (a + 4095) & ~(uintptr_t)4095;
	end = (a + n) & ~(uintptr_t)4095;
	if (end > start)
		(void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}

/* Make room for at least n more bytes after len; -1 with ENOMEM on failure. */
int
buf_reserve(struct buf *b, size_t n)
{
	size_t	 need, ncap;
	uint8_t	*p;

	if (b->off > 0 && b->off == b->len)
		b->off = b->len = 0;
	if (n > SIZE_MAX - b->len) {
		errno = ENOMEM;
		return -1;
	}
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	/* Reuse consumed space before growing. */
	if (b->off > 0 && need - b->off <= b->cap) {
		buf_compact(b);
		return 0;
	}
	/* A first allocation fits its need: most buffers stay small. */
	ncap = b->cap ? b->cap : need < 256 ? 256 : need;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2) {
			ncap = need;
			break;
		}
		ncap *= 2;
	}
	if ((p = realloc(b->data, ncap)) == NULL)
		return -1;
	buf_hugepages(p, ncap);
	b->data = p;
	b->cap = ncap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (buf_reserve(b, n) == -1)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

/* Append n uninitialised bytes and return a pointer to them. */
void *
buf_extend(struct buf *b, size_t n)
{
	void	*p;

	if (buf_reserve(b, n) == -1)
		return NULL;
	p = b->data + b->len;
	b->len += n;
	return p;
}

void
buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void
buf_compact(struct buf *b)
{
	if (b->off == 0)
		return;
	memmove(b->data, b->data + b->off, b->len - b->off);
	b->len -= b->off;
	b->off = 0;
}

void
buf_reset(struct buf *b)
{
	b->off = b->len = 0;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}
