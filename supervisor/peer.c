/*
 * peer.c: the IPC layer. A peer is a non-blocking stream socket on the
 * default loop with a read and a write buffer: complete frames are handed to
 * the dispatch callback in order; EOF, an I/O error or a malformed frame
 * calls the lost callback once. Writes are queued; before the loop sleeps
 * (peer_flush_dirty, from the server's prepare watcher) every peer with
 * output is written once, so the answers of one batch leave in one write
 * without waiting for another turn of the loop; what the socket does not
 * take then waits for it to be writable.
 *
 * Workers' peers pass descriptors (peer_pass_fds): one sent with a frame
 * (peer_send_fd) rides on the frame's first byte (sendmsg, SCM_RIGHTS);
 * those received are queued in order and handed, one each, to the frames
 * of the types that carry one (frame_has_fd), closed after dispatch unless
 * the callback took it. The kernel never merges bytes after a descriptor
 * into a read that began before it, so a frame's descriptor is always in
 * the queue when the frame is parsed. Clients' peers read with read(2):
 * descriptors a client sends are discarded by the kernel; a client that
 * asks for one (a large state image, peer_give_fds) may be sent one.
 *
 * Clients' large frames (inputs past PEER_READ_MAX) are read into memory
 * from a budget shared by all clients: a client whose next frame does not
 * fit in what is left waits, unread, until another's is taken, so that a
 * thousand clients sending 16 MiB inputs hold PEER_BUDGET_MAX, not 16 GiB.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdpass.h"
#include "smsup.h"

#define PEER_READ_MIN	4096		/* an idle peer's read buffer */
#define PEER_READ_MAX	(256u << 10)	/* a busy one reads this much at once */
#define PEER_BUDGET_MAX	(64u << 20)	/* clients' large frames, in all */
#define PEER_FDS_MAX	FDPASS_MAX	/* descriptors queued each way */

struct peer_fd {
	uint64_t	 at;	/* offset in the output stream of its frame */
	int		 fd;
};

struct peer {
	LIST_ENTRY(peer)	 dirty_entry;
	int			 dirty;	/* in peer_dirty: output to write */
	int			 fd;
	ev_io			 rio;
	ev_io			 wio;
	struct buf		 in;
	struct buf		 out;
	struct frame_limits	 lim;
	peer_dispatch_cb	*dispatch;
	peer_lost_cb		*lost;
	void			*arg;
	int			 busy;	/* inside a callback */
	int			 dead;	/* lost: no more callbacks */
	int			 freed;	/* peer_free called while busy */
	int			 finishing; /* close once the output is out */
	peer_stop_cb		*stop;	/* EOF or bad frame: owner decides */
	int			 stopped; /* reads (and parses) no more */

	/* Backpressure: reading pauses while either holds. */
	int			 holds;	  /* the owner's (peer_hold) */
	size_t			 out_high; /* pause above this much output */
	int			 out_full;
	int			 malformed; /* lost to a bad frame */

	/* The read budget of clients (see above). */
	int			 budgeted;
	size_t			 big;	  /* bytes of it this peer holds */
	int			 waiting; /* for the budget */
	int			 deferred; /* the frame dispatched stays */
	LIST_ENTRY(peer)	 wait_entry;

	/* Descriptors (see above). */
	int			 pass_fds;	/* takes and gives */
	int			 give_fds;	/* may be given */
	int			 in_fds[PEER_FDS_MAX];	/* received, untaken */
	int			 nin_fds;
	struct peer_fd		 out_fds[PEER_FDS_MAX];	/* to send */
	int			 nout_fds;
	uint64_t		 out_done; /* bytes of output ever written */
	int			 fd_broken; /* too many came: lose the peer */
};

static LIST_HEAD(, peer) peer_dirty = LIST_HEAD_INITIALIZER(peer_dirty);
static LIST_HEAD(, peer) peer_waiting = LIST_HEAD_INITIALIZER(peer_waiting);
static size_t		 peer_budget_used;

static void	peer_read_cb(struct ev_loop *, ev_io *, int);
static void	peer_update_reading(struct peer *);
static void	peer_write_cb(struct ev_loop *, ev_io *, int);
static void	peer_write(struct peer *);

struct peer *
peer_new(int fd, const struct frame_limits *lim, peer_dispatch_cb *dispatch,
    peer_lost_cb *lost, void *arg)
{
	struct peer	*p;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->fd = fd;
	p->lim = *lim;
	p->dispatch = dispatch;
	p->lost = lost;
	p->arg = arg;
	ev_io_init(&p->rio, peer_read_cb, fd, EV_READ);
	ev_io_init(&p->wio, peer_write_cb, fd, EV_WRITE);
	p->rio.data = p->wio.data = p;
	ev_io_start(EV_DEFAULT, &p->rio);
	return p;
}

/* Give back the budget p holds; the peers that wait for it read again. */
static void
peer_budget_release(struct peer *p)
{
	struct peer	*w;

	if (p->waiting) {
		LIST_REMOVE(p, wait_entry);
		p->waiting = 0;
	}
	if (p->big == 0)
		return;
	peer_budget_used -= p->big;
	p->big = 0;
	while ((w = LIST_FIRST(&peer_waiting)) != NULL) {
		LIST_REMOVE(w, wait_entry);
		w->waiting = 0;
		peer_update_reading(w);
	}
}

/*
 * Room for need bytes of p's frame: 0 if it has it (from the budget, for
 * a client), -1 if it must wait for it (reading paused).
 */
static int
peer_budget_take(struct peer *p, size_t need)
{
	size_t	 more;

	if (!p->budgeted || need <= PEER_READ_MAX || need <= p->big)
		return 0;
	more = need - p->big;
	if (peer_budget_used > 0 && peer_budget_used + more > PEER_BUDGET_MAX) {
		if (!p->waiting) {
			LIST_INSERT_HEAD(&peer_waiting, p, wait_entry);
			p->waiting = 1;
		}
		peer_update_reading(p);
		return -1;
	}
	peer_budget_used += more;
	p->big = need;
	return 0;
}

/*
 * From dispatch: the frame is not taken now; it stays at the head of the
 * read buffer and is dispatched again once the peer reads again (the
 * caller holds it: peer_hold).
 */
void
peer_defer(struct peer *p)
{
	p->deferred = 1;
}

/* Clients' large frames come out of the shared read budget. */
void
peer_set_budget(struct peer *p)
{
	p->budgeted = 1;
}

static void
peer_close(struct peer *p)
{
	peer_budget_release(p);
	if (p->dirty) {
		LIST_REMOVE(p, dirty_entry);
		p->dirty = 0;
	}
	ev_io_stop(EV_DEFAULT, &p->rio);
	ev_io_stop(EV_DEFAULT, &p->wio);
	if (p->fd != -1)
		close(p->fd);
	p->fd = -1;
	while (p->nin_fds > 0)
		close(p->in_fds[--p->nin_fds]);
	while (p->nout_fds > 0)
		close(p->out_fds[--p->nout_fds].fd);
}

static void
peer_destroy(struct peer *p)
{
	peer_close(p);
	buf_free(&p->in);
	buf_free(&p->out);
	free(p);
}

/* Free the peer; safe from inside its own callbacks. */
void
peer_free(struct peer *p)
{
	if (p == NULL)
		return;
	p->dead = 1;
	peer_close(p);
	if (p->busy)
		p->freed = 1;
	else
		peer_destroy(p);
}

static void
peer_lose(struct peer *p, const char *why)
{
	if (p->dead)
		return;
	p->dead = 1;
	peer_close(p);
	if (p->lost != NULL)
		p->lost(p, why, p->arg);
}

/* Whether frames may be read and dispatched now. */
static int
peer_reading(const struct peer *p)
{
	return !p->dead && !p->stopped && !p->finishing && p->holds == 0 &&
	    !p->out_full && !p->waiting;
}

/*
 * Watch the socket for reading iff the peer reads; frames already in the
 * buffer are dispatched on the next turn of the loop (never from here:
 * this is called from other peers' callbacks).
 */
static void
peer_update_reading(struct peer *p)
{
	if (p->dead)
		return;
	if (peer_reading(p)) {
		if (!ev_is_active(&p->rio)) {
			ev_io_start(EV_DEFAULT, &p->rio);
			if (buf_used(&p->in) > 0)
				ev_feed_event(EV_DEFAULT, &p->rio, EV_READ);
		}
	} else if (ev_is_active(&p->rio))
		ev_io_stop(EV_DEFAULT, &p->rio);
}

/*
 * The owner's backpressure: while any hold is on (+1 / -1), the peer reads
 * nothing, so whoever sends to it blocks.
 */
void
peer_hold(struct peer *p, int delta)
{
	p->holds += delta;
	peer_update_reading(p);
}

/* Read nothing while more than high bytes of output wait (0: no limit). */
void
peer_set_out_high(struct peer *p, size_t high)
{
	p->out_high = high;
}

/* Read and dispatch nothing more (what is queued is still written). */
void
peer_stop(struct peer *p)
{
	p->stopped = 1;
	ev_io_stop(EV_DEFAULT, &p->rio);
}

/*
 * Instead of losing the peer at EOF or on a malformed frame, stop reading
 * and call stop: the owner may still write, then calls peer_finish.
 */
void
peer_set_stop(struct peer *p, peer_stop_cb *stop)
{
	p->stop = stop;
}

/* Whether the peer was lost because it sent a frame that does not parse. */
int
peer_malformed(const struct peer *p)
{
	return p->malformed;
}

struct buf *
peer_wbuf(struct peer *p)
{
	return &p->out;
}

int
peer_fd(struct peer *p)
{
	return p->fd;
}

/* Have the write buffer written before the loop sleeps. */
void
peer_kick(struct peer *p)
{
	if (!p->dead && !p->dirty && buf_used(&p->out) > 0 &&
	    !ev_is_active(&p->wio)) {
		LIST_INSERT_HEAD(&peer_dirty, p, dirty_entry);
		p->dirty = 1;
	}
}

/*
 * Write every peer's queued output once; what is left waits for the
 * socket to be writable. Called before the loop sleeps.
 */
void
peer_flush_dirty(void)
{
	struct peer	*p;

	while ((p = LIST_FIRST(&peer_dirty)) != NULL) {
		LIST_REMOVE(p, dirty_entry);
		p->dirty = 0;
		peer_write(p);
	}
}

int
peer_send(struct peer *p, uint8_t type, uint64_t id, const void *data,
    size_t len)
{
	if (p->dead)
		return -1;
	if (frame_put(&p->out, type, id, data, len) == -1)
		return -1;
	peer_kick(p);
	return 0;
}

/* This peer sends and receives descriptors (a worker's). */
void
peer_pass_fds(struct peer *p)
{
	p->pass_fds = 1;
	p->give_fds = 1;
}

/* This peer may be sent descriptors (a client that asked); it sends none. */
void
peer_give_fds(struct peer *p)
{
	p->give_fds = 1;
}

int
peer_takes_fds(const struct peer *p)
{
	return p->give_fds;
}

/*
 * Queue a frame with a descriptor (a dup of fd goes; the caller keeps
 * fd). -1 if it cannot be queued.
 */
int
peer_send_fd(struct peer *p, uint8_t type, uint64_t id, const void *data,
    size_t len, int fd)
{
	uint64_t	 at = p->out_done + buf_used(&p->out);
	int		 d;

	if (p->dead || !p->give_fds || p->nout_fds == PEER_FDS_MAX)
		return -1;
	if ((d = fcntl(fd, F_DUPFD_CLOEXEC, 3)) == -1)
		return -1;
	if (frame_put(&p->out, type, id, data, len) == -1) {
		close(d);
		return -1;
	}
	p->out_fds[p->nout_fds].at = at;
	p->out_fds[p->nout_fds].fd = d;
	p->nout_fds++;
	peer_kick(p);
	return 0;
}

/*
 * Take the descriptor that came with the frame being dispatched: the
 * caller owns it from then on. -1 if it had none.
 */
int
peer_take_fd(struct peer *p, struct frame *f)
{
	int	 fd = f->fd;

	(void)p;
	f->fd = -1;
	return fd;
}

/* Hand every complete frame in the read buffer to dispatch. */
static void
peer_parse(struct peer *p)
{
	struct frame	 f;
	int		 rc = FRAME_MORE, i;

	f.len = 0;
	while (peer_reading(p) && (rc = frame_parse(buf_head(&p->in),
	    buf_used(&p->in), &p->lim, &f)) == FRAME_OK) {
		if (p->pass_fds && frame_has_fd(f.type)) {
			if (p->nin_fds == 0) {
				p->malformed = 1;
				peer_lose(p, "a frame that carries a "
				    "descriptor came without one");
				return;
			}
			f.fd = p->in_fds[0];
			for (i = 1; i < p->nin_fds; i++)
				p->in_fds[i - 1] = p->in_fds[i];
			p->nin_fds--;
		}
		p->dispatch(p, &f, p->arg);
		if (f.fd != -1)
			close(f.fd);
		/* Not taken now: it is dispatched again once reading resumes. */
		if (p->deferred) {
			p->deferred = 0;
			return;
		}
		if (!p->freed)
			buf_consume(&p->in, FRAME_HDR_LEN + f.len);
		f.len = 0;
		/* A peer that does not read its answers sends no more. */
		if (p->out_high > 0 && !p->out_full &&
		    buf_used(&p->out) > p->out_high) {
			p->out_full = 1;
			peer_update_reading(p);
		}
	}
	if (!peer_reading(p))
		return;
	if (rc < 0) {
		if (p->stop != NULL) {
			peer_stop(p);
			p->stop(p, frame_strerror(rc), 1, p->arg);
		} else {
			p->malformed = 1;
			peer_lose(p, frame_strerror(rc));
		}
		return;
	}
	/* Make room for the whole of a large frame at once. */
	if (f.len > 0 && peer_budget_take(p, FRAME_HDR_LEN + f.len) == 0 &&
	    buf_reserve(&p->in, FRAME_HDR_LEN + f.len) == -1)
		peer_lose(p, "out of memory");
}

/*
 * read(2), or with descriptors recvmsg(2), queueing those that came. More
 * than the queue holds (or than a read can carry) breaks the peer.
 */
static ssize_t
peer_recv(struct peer *p, void *data, size_t len)
{
	if (!p->pass_fds)
		return read(p->fd, data, len);
	return fdpass_recv(p->fd, data, len, p->in_fds, &p->nin_fds,
	    PEER_FDS_MAX, &p->fd_broken);
}

/*
 * Write once, up to the next frame with a descriptor, or that frame with
 * its descriptor; consumes what went. As write(2).
 */
static ssize_t
peer_send_some(struct peer *p)
{
	size_t		 len = buf_used(&p->out);
	ssize_t		 n;
	int		 fd = -1, i;

	if (p->nout_fds > 0) {
		if (p->out_fds[0].at <= p->out_done) {
			fd = p->out_fds[0].fd;
			if (p->nout_fds > 1 &&
			    p->out_fds[1].at - p->out_done < len)
				len = p->out_fds[1].at - p->out_done;
		} else if (p->out_fds[0].at - p->out_done < len)
			len = p->out_fds[0].at - p->out_done;
	}
	if ((n = fdpass_send(p->fd, buf_head(&p->out), len, fd)) <= 0)
		return n;
	if (fd != -1) {
		close(fd);
		for (i = 1; i < p->nout_fds; i++)
			p->out_fds[i - 1] = p->out_fds[i];
		p->nout_fds--;
	}
	p->out_done += (uint64_t)n;
	buf_consume(&p->out, (size_t)n);
	return n;
}

/* Read once: 2 if bytes came, 1 if none were there, 0 at EOF, -1 on error. */
static int
peer_read(struct peer *p)
{
	ssize_t	 n;

	/* Frames left by a pause first. */
	if (buf_used(&p->in) > 0) {
		peer_parse(p);
		if (!peer_reading(p))
			return 1;
	}
	/*
	 * Start small (most peers are idle) and grow while reads fill the
	 * buffer, so a busy peer reads large batches.
	 */
	if (p->in.cap - p->in.len < PEER_READ_MIN && buf_reserve(&p->in,
	    p->in.cap < PEER_READ_MAX ? (p->in.cap ? p->in.cap : PEER_READ_MIN) :
	    PEER_READ_MAX) == -1) {
		peer_lose(p, "out of memory");
		return -1;
	}
	n = peer_recv(p, p->in.data + p->in.len, p->in.cap - p->in.len);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 1;
		peer_lose(p, strerror(errno));
		return -1;
	}
	if (p->fd_broken) {
		p->malformed = 1;
		peer_lose(p, "sent more descriptors than frames to carry them");
		return -1;
	}
	if (n == 0) {
		if (p->stop != NULL && buf_used(&p->in) == 0) {
			peer_stop(p);
			p->stop(p, "end of input", 0, p->arg);
		} else
			peer_lose(p, buf_used(&p->in) > 0 ?
			    "closed inside a frame" : "closed");
		return 0;
	}
	p->in.len += (size_t)n;
	peer_parse(p);
	/* A large buffer left empty (say, after a state image) goes back. */
	if (!p->freed && buf_used(&p->in) == 0 && p->in.cap > PEER_READ_MAX) {
		buf_free(&p->in);
		peer_budget_release(p);
	}
	return 2;
}

static void
peer_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct peer	*p = w->data;

	(void)loop;
	(void)revents;
	p->busy = 1;
	peer_read(p);
	p->busy = 0;
	if (p->freed)
		peer_destroy(p);
}

/* Read and dispatch everything already sent (the other side has exited). */
void
peer_drain(struct peer *p)
{
	p->busy = 1;
	while (!p->dead && peer_read(p) == 2)
		;
	p->busy = 0;
	if (p->freed)
		peer_destroy(p);
}

/*
 * Write what the socket takes. The watcher runs while output is left; a
 * finishing peer is closed once it is all out.
 */
static void
peer_write(struct peer *p)
{
	ssize_t	 n;

	while (buf_used(&p->out) > 0) {
		n = peer_send_some(p);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!ev_is_active(&p->wio))
				ev_io_start(EV_DEFAULT, &p->wio);
			return;
		}
		if (n == -1) {
			p->busy = 1;
			peer_lose(p, strerror(errno));
			p->busy = 0;
			if (p->freed)
				peer_destroy(p);
			return;
		}
		if (p->out_full && buf_used(&p->out) <= p->out_high / 2) {
			p->out_full = 0;
			peer_update_reading(p);
		}
	}
	if (ev_is_active(&p->wio))
		ev_io_stop(EV_DEFAULT, &p->wio);
	if (p->out.cap > PEER_READ_MAX)
		buf_free(&p->out);
	if (p->finishing) {
		p->busy = 1;
		peer_lose(p, "finished");
		p->busy = 0;
		if (p->freed)
			peer_destroy(p);
	}
}

static void
peer_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	peer_write(w->data);
}

/* Write what can be written now, without waiting (on exit). */
void
peer_flush_now(struct peer *p)
{
	ssize_t	 n;

	while (!p->dead && buf_used(&p->out) > 0) {
		n = peer_send_some(p);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
	}
}

/* Read no more; close (and call lost) once the queued output is written. */
void
peer_finish(struct peer *p)
{
	if (p->dead || p->finishing)
		return;
	p->finishing = 1;
	peer_stop(p);
	if (buf_used(&p->out) == 0)
		peer_lose(p, "finished");
	else
		peer_kick(p);
}
