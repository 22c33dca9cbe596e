/*
 * chan.c: the worker's end of its channel to the supervisor, with the
 * descriptors that ride on it (smsup-protocol(7)). A frame queued with a
 * descriptor (chan_put_fd) is written by a sendmsg(2) carrying it
 * (SCM_RIGHTS) on the frame's first byte; descriptors received are queued
 * in order and taken by the frames of the types that carry one. Blocking,
 * like the rest of the worker's loop.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "frame.h"
#include "worker-int.h"

void
chan_init(struct chan *c, int fd)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
}

/* read(2) that queues the descriptors that came; -1 if too many did. */
ssize_t
chan_recv(struct chan *c, void *data, size_t len)
{
	ssize_t	 n;
	int	 broken = 0;

	n = fdpass_recv(c->fd, data, len, c->in, &c->nin, CHAN_FDS_MAX,
	    &broken);
	if (n != -1 && broken) {
		errno = EPROTO;
		return -1;
	}
	return n;
}

/* The oldest descriptor received and not yet taken (owned by the caller). */
int
chan_take(struct chan *c)
{
	int	 fd, i;

	if (c->nin == 0)
		return -1;
	fd = c->in[0];
	for (i = 1; i < c->nin; i++)
		c->in[i - 1] = c->in[i];
	c->nin--;
	return fd;
}

/*
 * Queue a frame carrying fd (the channel owns fd from then on, and closes
 * it once sent). -1 if it cannot be queued (fd is closed).
 */
int
chan_put_fd(struct chan *c, struct buf *out, uint8_t type, uint64_t id,
    const void *data, size_t len, int fd)
{
	if (c->nout == CHAN_FDS_MAX) {
		close(fd);
		return -1;
	}
	c->out[c->nout].at = c->done + buf_used(out);
	if (frame_put(out, type, id, data, len) == -1) {
		close(fd);
		return -1;
	}
	c->out[c->nout].fd = fd;
	c->nout++;
	return 0;
}

/* Bytes of out that can go without a descriptor (for the crash path). */
size_t
chan_plain(const struct chan *c, const struct buf *out)
{
	if (c->nout == 0)
		return buf_used(out);
	return (size_t)(c->out[0].at - c->done);
}

/* Write all of out, descriptors with their frames. */
int
chan_flush(struct chan *c, struct buf *out)
{
	ssize_t	 n;
	size_t	 len;
	int	 fd, i;

	while (buf_used(out) > 0) {
		len = buf_used(out);
		fd = -1;
		if (c->nout > 0 && c->out[0].at <= c->done) {
			fd = c->out[0].fd;
			if (c->nout > 1 && c->out[1].at - c->done < len)
				len = (size_t)(c->out[1].at - c->done);
		} else if (c->nout > 0 && c->out[0].at - c->done < len)
			len = (size_t)(c->out[0].at - c->done);
		n = fdpass_send(c->fd, buf_head(out), len, fd);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		if (fd != -1) {
			close(fd);
			for (i = 1; i < c->nout; i++)
				c->out[i - 1] = c->out[i];
			c->nout--;
		}
		c->done += (uint64_t)n;
		buf_consume(out, (size_t)n);
	}
	return 0;
}

void
chan_close(struct chan *c)
{
	while (c->nin > 0)
		close(c->in[--c->nin]);
	while (c->nout > 0)
		close(c->out[--c->nout].fd);
}
